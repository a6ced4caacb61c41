"""The training methods of the book by short name: the twin of :mod:`ftlib.faults.catalog`.

A method is what it sets on a plain :class:`~ftlib.training.TrainConfig`: L1 (Lasso) and L2 (Tikhonov)
penalties (adversarial_ft Section 4), unscaled dropout (continuous_limit's training-time crashes),
fault-aware training (snn_patterns' "previous work" [5], on any network), continuous_limit's Var Δ and
continuity regularizers (Eq. 1) — or, for adversarial_ft's two-phase method, the trainer it needs
(:func:`ftlib.adversarial.pretrain` then :func:`ftlib.adversarial.finetune`). The chapters and the
"Beyond the papers" study configure their models through :func:`configure`, so one name means one
configuration everywhere (and one cache entry for one model).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .errors import ParameterError
from .training import TrainConfig


@dataclass(frozen=True)
class Method:
    """One training method: its readable label, the paper that proposes or compares it, and the
    :class:`~ftlib.training.TrainConfig` fields it sets (none for the plain and the two-phase method)."""

    label: str
    paper: str
    fields: tuple[str, ...] = ()
    two_phase: bool = False


CATALOG: dict[str, Method] = {
    "none": Method("none", "all"),
    "l1": Method("L1 (Lasso)", "adversarial_ft", ("l1",)),
    "l2": Method("L2 (Tikhonov)", "adversarial_ft", ("l2",)),
    "dropout": Method("dropout", "continuous_limit", ("dropout", "dropout_layer")),
    "adversarial": Method("adversarial two-phase", "adversarial_ft", two_phase=True),
    "fault_aware": Method("fault-aware training", "snn_patterns [5]", ("fault_train", "fault_train_rate")),
    "var_reg": Method("Var Δ regularizer", "continuous_limit", ("var_reg", "var_layers")),
    "continuity": Method("continuity regularizer", "continuous_limit", ("continuity",)),
}
"""name → :class:`Method`."""

METHOD_NAMES = tuple(CATALOG)
"""The short names of the catalogue's methods, in its order."""


def get(name: str) -> Method:
    """The method ``name`` (one of :data:`METHOD_NAMES`), or a ParameterError listing them."""
    try:
        return CATALOG[name]
    except KeyError:
        raise ParameterError(f"unknown training method {name!r}; known: {', '.join(METHOD_NAMES)}") from None


def configure(name: str, base: TrainConfig, **values) -> TrainConfig:
    """``base`` (plain training) with method ``name``'s fields set to ``values`` — exactly those fields,
    each given (``configure("l1", base, l1=1e-4)``). The two-phase method is not a configuration of the
    supervised loop: a ParameterError says which trainer it needs."""
    method = get(name)
    if method.two_phase:
        raise ParameterError(f"{name!r} trains in two phases: use ftlib.adversarial.pretrain, then finetune")
    if set(values) != set(method.fields):
        raise ParameterError(f"method {name!r} sets {', '.join(method.fields) or 'nothing'}; got "
                             f"{', '.join(sorted(values)) or 'nothing'}")
    return replace(base, **values)
