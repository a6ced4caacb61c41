"""A network seen as the paper sees it: a chain of stages with crashable layers y_l.

Crash *points* are modules of an ``nn.Sequential`` whose outputs are the
neurons y_l that may crash (Definition 3: a crashed neuron outputs 0, no
rescaling). They are chosen exactly as the fault engine chooses them
(:class:`ftlib.faults.BernoulliCrash` ``layers=``): by default every
element-wise activation module; the input neurons y_0 by the name of an
``nn.Identity`` placed before the first layer (``"input"`` in
:mod:`ftlib.models.continuous_limit`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import ParameterError
from ..faults.models import BernoulliCrash
from ..faults.selection import sequential_stages


@dataclass
class Layout:
    """The flat stages of a Sequential and, in order, its crash points ``(name, stage index)``."""

    model: nn.Module
    stages: list[nn.Module]
    points: list[tuple[str, int]]

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.points]

    def index(self, name: str) -> int:
        for n, i in self.points:
            if n == name:
                return i
        raise ParameterError(f"layer {name!r} is not a crash point; crash points: {self.names}")

    def run(self, x: torch.Tensor, start: int = 0, stop: int | None = None) -> torch.Tensor:
        """Run stages ``start .. stop-1`` (all remaining ones by default) on ``x``."""
        for st in self.stages[start:stop]:
            x = st(x)
        return x

    def activations(self, x: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Fault-free ``{name: y_l}`` at every crash point and the output y_L."""
        want = {i: n for n, i in self.points}
        acts = {}
        h = x
        for i, st in enumerate(self.stages):
            h = st(h)
            if i in want:
                acts[want[i]] = h
        return acts, h


def crash_layers(model: nn.Module, include_input: bool = False) -> list[str]:
    """Names of the default crash points: every activation module, plus ``"input"`` if asked and present."""
    names = [n for n, _ in BernoulliCrash().select(model)]
    if include_input:
        if "input" not in dict(model.named_modules()):
            raise ParameterError("include_input: the model has no module named 'input' (an nn.Identity before layer 1)")
        names = ["input"] + names
    return names


def layout(model: nn.Module, layers: object = None) -> Layout:
    """The :class:`Layout` of ``model`` (a plain, possibly nested ``nn.Sequential``) for crash points ``layers``.

    ``layers`` is a fault-engine layer spec (None = every activation module).
    """
    if not isinstance(model, nn.Module):
        raise ParameterError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    chosen = BernoulliCrash(layers=layers).select(model)
    mods = [m for _, m in chosen]
    stages = sequential_stages(model, atomic=mods)
    if stages is None:
        raise ParameterError("model: ftlib.theory needs a plain nn.Sequential without hooks (Definition 1's chain)")
    pos = {id(m): i for i, m in enumerate(stages)}
    points = []
    for name, m in chosen:
        if id(m) not in pos:
            raise ParameterError(f"layer {name!r} is inside a stage that is not flattened; crash points must be stages")
        points.append((name, pos[id(m)]))
    points.sort(key=lambda t: t[1])
    if len({i for _, i in points}) != len(points):
        raise ParameterError("layers: one module is used at two places of the chain; use one module per layer")
    return Layout(model, stages, points)


def as_rates(p: float | dict, names: list[str]) -> dict[str, float]:
    """Per-layer crash probabilities: one float for all layers, or a dict name → p (missing names: 0)."""
    if isinstance(p, dict):
        unknown = set(p) - set(names)
        if unknown:
            raise ParameterError(f"p: unknown layers {sorted(unknown)}; crash points: {names}")
        out = {n: float(p.get(n, 0.0)) for n in names}
    else:
        out = {n: float(p) for n in names}
    for n, v in out.items():
        if not 0.0 <= v <= 1.0:
            raise ParameterError(f"p[{n!r}]: a probability in [0, 1] is needed, got {v}")
    return out


def following_linears(lay: Layout, name: str) -> list[tuple[nn.Linear | None, float]]:
    """The chain after crash point ``name``: ``(Linear, 1.0)`` for each Linear and ``(None, K)`` for each
    activation with Lipschitz constant K. Raises for any other stage (the spectral bounds need Definition 1)."""
    from ..faults.selection import ACTIVATION_LAYERS

    out: list[tuple[nn.Linear | None, float]] = []
    for st in lay.stages[lay.index(name) + 1:]:
        if isinstance(st, nn.Linear):
            out.append((st, 1.0))
        elif isinstance(st, (nn.Identity, nn.Dropout)):
            continue
        elif isinstance(st, ACTIVATION_LAYERS):
            k = getattr(st, "lipschitz", None)
            if k is None:
                k = {nn.Sigmoid: 0.25}.get(type(st), 1.0)
            out.append((None, float(k)))
        else:
            raise ParameterError(f"the spectral bounds b1/b2 need a chain of Linear and activation layers; "
                                 f"found {type(st).__name__} after {name!r}")
    return out
