"""The fault models of the engine by short name: one canonical configuration each.

Used where a fault model must be named in a configuration (a cache key, a
notebook parameter), e.g. fault-aware training (``TrainConfig.fault_train``)
and the cross-paper study of the "Beyond the papers" chapter. Every name maps
to the engine's default configuration of that model, except bit flips, which
are taken in int8 storage (symmetric per-tensor quantisation: bounded values,
the setting of a quantised accelerator's weight memory; float32 exponent flips
make a single weight ``inf`` and say little about training methods).
"""

from __future__ import annotations

from ..errors import ParameterError
from .bitflip import BitFlip
from .models import BernoulliCrash, ConditionallyUniform, Erasure, FaultModel, StuckAtZero

CATALOG = {
    "stuck_weights": ("stuck-at-0 weights", lambda: StuckAtZero("weights")),
    "stuck_filters": ("stuck-at-0 filters", lambda: StuckAtZero("filters")),
    "stuck_nodes": ("stuck-at-0 nodes", lambda: StuckAtZero("nodes")),
    "crash": ("Bernoulli crashes", lambda: BernoulliCrash()),
    "uniform": ("conditionally-uniform deviations", lambda: ConditionallyUniform()),
    "erasure": ("erasure deviations", lambda: Erasure()),
    "bitflip": ("int8 bit flips", lambda: BitFlip(format="int8")),
}
"""name → (label, factory of the fault model)."""

FAULT_NAMES = tuple(CATALOG)


def by_name(name: str) -> FaultModel:
    """A fresh fault model for ``name`` (one of ``FAULT_NAMES``)."""
    try:
        return CATALOG[name][1]()
    except KeyError:
        raise ParameterError(f"unknown fault model {name!r}; known: {', '.join(FAULT_NAMES)}") from None


def label(name: str) -> str:
    """The readable label of fault model ``name``."""
    by_name(name)
    return CATALOG[name][0]
