"""Which layers a fault model hits: by module type and/or by module name.

A *layer spec* is ``None`` (the fault model's default), a module type, a
module name as printed by ``model.named_modules()`` (``"0"``, ``"features.3"``),
or a list/tuple mixing both. The result keeps the order of
``model.named_modules()``, so random draws consume the generator in a fixed
order (the draws are reproducible).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from torch import nn

from ..errors import ParameterError

#: Modules that hold weights in the sense of the papers (dense and convolution).
WEIGHT_LAYERS: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
#: Modules whose weights are convolution filters.
CONV_LAYERS: tuple[type[nn.Module], ...] = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
#: Element-wise activation modules: their outputs are the "hidden activations"
#: (nodes, neurons) of stuck-at-0 node faults and Bernoulli crashes.
#: (``nn.ReLU6`` and the clipped ReLU ``nn.Hardtanh(0, 1)`` are Hardtanh.)
ACTIVATION_LAYERS: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU,
    nn.SiLU, nn.Mish, nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardsigmoid, nn.Hardswish,
    nn.Softplus, nn.Softsign, nn.LogSigmoid, nn.Tanhshrink, nn.Threshold,
)

LayerSpec = None | type | str | Sequence["type | str"]


def normalize_spec(layers: object) -> tuple[tuple[type, ...], tuple[str, ...]] | None:
    """Validate a layer spec; return ``(types, names)`` or ``None`` for the default."""
    if layers is None:
        return None
    items: Iterable[object]
    if isinstance(layers, (str, type)):
        items = (layers,)
    elif isinstance(layers, (list, tuple, set, frozenset)):
        items = tuple(layers)
        if not items:
            raise ParameterError("layers: an empty list selects nothing; pass None for the default layers")
    else:
        raise ParameterError(
            f"layers: expected None, a module type, a module name or a list of them, got {type(layers).__name__}"
        )
    types: list[type] = []
    names: list[str] = []
    for item in items:
        if isinstance(item, type) and issubclass(item, nn.Module):
            types.append(item)
        elif isinstance(item, str):
            names.append(item)
        else:
            raise ParameterError(f"layers: {item!r} is neither an nn.Module subclass nor a module name")
    return tuple(types), tuple(names)


def select_layers(model: nn.Module, layers: object, default: tuple[type, ...], what: str) -> list[tuple[str, nn.Module]]:
    """The ``(name, module)`` pairs of ``model`` selected by ``layers``.

    ``default`` is the tuple of module types used when ``layers`` is None;
    ``what`` names the fault target in error messages. Raises
    :class:`~ftlib.errors.ParameterError` on unknown names or an empty selection.
    """
    spec = normalize_spec(layers)
    named = list(model.named_modules())
    if spec is None:
        types, names = default, ()
    else:
        types, names = spec
    by_name = dict(named)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        valid = [n for n, _ in named if n]
        shown = ", ".join(repr(n) for n in valid[:30]) + (" ..." if len(valid) > 30 else "")
        raise ParameterError(f"layers: no module named {unknown[0]!r} in the model; valid names: {shown}")
    wanted = set(names)
    chosen = [
        (n, m) for n, m in named
        if n in wanted or (types and isinstance(m, types))
    ]
    if not chosen:
        tnames = ", ".join(t.__name__ for t in types) or "(none)"
        raise ParameterError(
            f"{what}: the model has no layer to fault (looked for types {tnames}"
            f"{' and names ' + ', '.join(names) if names else ''}); pass layers=[...] with module names or types"
        )
    return chosen


# --------------------------------------------------------------------------- staging
def _plain_sequential(m: nn.Module) -> bool:
    return isinstance(m, nn.Sequential) and type(m).forward is nn.Sequential.forward


def _has_hooks(m: nn.Module) -> bool:
    return bool(m._forward_hooks or m._forward_pre_hooks)


def sequential_stages(model: nn.Module, atomic: Sequence[nn.Module] = ()) -> list[nn.Module] | None:
    """The flat list of stages of a (nested) plain ``nn.Sequential``, or None.

    Nested plain Sequentials are expanded unless they carry hooks or are in
    ``atomic`` (e.g. hooked by a fault). Calling the stages in order is the
    same computation as ``model(x)``.
    """
    if not _plain_sequential(model) or _has_hooks(model):
        return None
    keep = {id(m) for m in atomic}
    stages: list[nn.Module] = []

    def walk(seq: nn.Sequential) -> None:
        for m in seq:
            if _plain_sequential(m) and id(m) not in keep and not _has_hooks(m):
                walk(m)
            else:
                stages.append(m)

    walk(model)
    return stages
