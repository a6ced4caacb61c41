"""The architectures of the four papers, by name.

Every model is a :class:`torch.nn.Sequential` (so the fault engine can reuse
the fault-free prefix of a network) built by :func:`build` from a name and
keyword arguments, which together are part of a training configuration.
Each paper's module (``ftlib.models.<paper>``) declares its architectures in
a dict ``ARCHITECTURES`` (name → factory); names are prefixed by the paper
(``aft_``, ``cf_``, ``cl_``, ``snn_``).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Callable

import torch.nn as nn

from ..errors import ParameterError


def _discover() -> dict[str, Callable[..., nn.Module]]:
    found: dict[str, Callable[..., nn.Module]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, factory in getattr(module, "ARCHITECTURES", {}).items():
            if name in found:
                raise RuntimeError(f"architecture {name} defined twice")
            found[name] = factory
    return found


REGISTRY: dict[str, Callable[..., nn.Module]] = _discover()


def build(name: str, **kwargs) -> nn.Module:
    """Build the architecture registered as ``name`` (fresh, randomly initialised)."""
    try:
        factory = REGISTRY[name]
    except KeyError:
        raise ParameterError(f"unknown architecture '{name}'; known: {', '.join(sorted(REGISTRY))}") from None
    return factory(**kwargs)
