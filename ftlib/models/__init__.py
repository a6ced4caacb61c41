"""The architectures of the four papers, by name.

Every model is a :class:`torch.nn.Sequential` (so the fault engine can reuse
the fault-free prefix of a network) and is built by :func:`build` from a name
and keyword arguments, which together form part of a training configuration.
"""

from __future__ import annotations

from typing import Callable

import torch.nn as nn

from ..errors import ParameterError
from . import adversarial_ft

REGISTRY: dict[str, Callable[..., nn.Sequential]] = {
    "aft_arch1": adversarial_ft.arch1_mlp,
    "aft_arch2": adversarial_ft.arch2_cnn,
}


def build(name: str, **kwargs) -> nn.Sequential:
    """Build the architecture registered as ``name`` (fresh, randomly initialised)."""
    try:
        factory = REGISTRY[name]
    except KeyError:
        raise ParameterError(f"unknown architecture '{name}'; known: {', '.join(sorted(REGISTRY))}") from None
    return factory(**kwargs)
