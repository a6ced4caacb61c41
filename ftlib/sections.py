"""The book's notebooks ("sections"): parameters, profile settings, checklist ids.

One entry per notebook in ``notebooks/<paper>/<name>.py``; the key is
``"<paper>/<name>"``. Each entry declares every parameter the notebook accepts
(:class:`ftlib.params.Param`) and the value each profile gives to the
parameters left at ``None``. Profiles are defined here once, for all notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .errors import ParameterError
from .params import PROFILES, Param, Settings, notebook_parameters, validate


@dataclass(frozen=True)
class Section:
    """A notebook of the book: title, checklist ids, parameters, profile values."""

    key: str
    title: str
    ids: tuple[str, ...]
    params: tuple[Param, ...]
    profiles: Mapping[str, Mapping[str, Any]]

    @property
    def paper(self) -> str:
        return self.key.split("/", 1)[0]

    @property
    def spec(self) -> dict[str, Param]:
        common = {
            "profile": Param("profile", str, "which settings to use", choices=PROFILES, profile_default=False),
            "seed": Param("seed", int, "random seed of data order, initialisation and faults", low=0, high=2**31 - 1,
                          profile_default=False),
        }
        return {**common, **{p.name: p for p in self.params}}


_AFT_SETUP = Section(
    key="adversarial_ft/experiment_setup",
    title="adversarial_ft, Section 4: the accuracy-generalization trade-off of L1/L2",
    ids=("AFT-T1",),
    params=(
        Param("epochs", int, "training epochs per model", low=1, high=10_000),
        Param("batch_size", int, "mini-batch size", low=1, high=60_000),
        Param("lr", float, "Adam learning rate", low=1e-7, high=1.0),
        Param("n_train", int, "training images used (0 = all 60,000)", low=0, high=60_000),
        Param("n_test", int, "test images used (0 = all 10,000)", low=0, high=10_000),
        Param("tikhonov_lambdas", list, "Tikhonov (L2) strengths", item=float, low=0.0, high=10.0),
        Param("lasso_lambdas", list, "Lasso (L1) strengths", item=float, low=0.0, high=10.0),
    ),
    profiles={
        "smoke": dict(epochs=1, batch_size=256, lr=1e-3, n_train=2000, n_test=500,
                      tikhonov_lambdas=[0.0, 1e-3], lasso_lambdas=[0.0, 1e-3]),
        "quick": dict(epochs=6, batch_size=128, lr=1e-3, n_train=0, n_test=0,
                      tikhonov_lambdas=[0.0, 1e-4, 1e-3, 0.1], lasso_lambdas=[0.0, 1e-4, 1e-3, 1e-2]),
        "paper": dict(epochs=50, batch_size=128, lr=1e-3, n_train=0, n_test=0,
                      tikhonov_lambdas=[0.0, 1e-4, 1e-3, 0.1], lasso_lambdas=[0.0, 1e-4, 1e-3, 1e-2]),
    },
)

_FAULT_PRIMER = Section(
    key="fault_models/primer",
    title="Fault models: a primer",
    ids=(),
    params=(
        Param("epochs", int, "training epochs of the primer network", low=1, high=1000),
        Param("n_train", int, "training images used (0 = all 60,000)", low=0, high=60_000),
        Param("n_test", int, "test images used in the sweeps (0 = all 10,000)", low=0, high=10_000),
        Param("draws", int, "independent faulty instances per rate", low=2, high=10_000),
    ),
    profiles={
        "smoke": dict(epochs=1, n_train=1000, n_test=300, draws=2),
        "quick": dict(epochs=3, n_train=0, n_test=0, draws=10),
        "paper": dict(epochs=10, n_train=0, n_test=0, draws=50),
    },
)

SECTIONS: dict[str, Section] = {s.key: s for s in (_AFT_SETUP, _FAULT_PRIMER)}


def get(key: str) -> Section:
    """The section registered under ``key`` (``"<paper>/<notebook name>"``)."""
    try:
        return SECTIONS[key]
    except KeyError:
        raise ParameterError(f"unknown section '{key}'; known: {', '.join(sorted(SECTIONS))}") from None


def resolve(key: str, given: Mapping[str, Any]) -> Settings:
    """Validate ``given`` parameters of section ``key`` and fill ``None`` from the profile."""
    section = get(key)
    checked = validate(section.spec, given)
    profile = checked["profile"] or "quick"
    defaults = section.profiles[profile]
    values, from_profile = {}, []
    for name, value in checked.items():
        if value is None and name in defaults:
            value = defaults[name]
            from_profile.append(name)
        values[name] = value
    return Settings(values, tuple(from_profile))


def validate_notebook(key: str, namespace: Mapping[str, Any]) -> Settings:
    """The notebook contract's validation cell: ``cfg = validate_notebook(KEY, globals())``.

    Raises :class:`ftlib.errors.ParameterError` before any work is done; in a
    notebook, ftlib's errors are shown as one message (:mod:`ftlib.notebook`).
    """
    from .notebook import install_error_handler

    install_error_handler()
    return resolve(key, notebook_parameters(namespace))
