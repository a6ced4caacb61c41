"""continuous_limit: fully-connected networks in the paper's form (Definition 1).

``y_0 = x``, ``y_l = φ(W_l y_{l-1} + b_l)`` for hidden layers, and a linear last
layer ``y_L = W_L y_{L-1} + b_L``. As in the paper's original code
(LPD-EPFL/nn-fault-tolerance, Keras): the activation is ``sigmoid(4·K·x)`` or
``relu(K·x)`` with Lipschitz constant ``K`` (1 by default, so φ is 1-Lipschitz as
Definition 1 requires), weights are initialised ``N(0, 1)·sqrt(2 / n_prev) / K``
and biases ``N(0, 1)``.

Layout of the ``nn.Sequential`` (module names in brackets)::

    [Standardize]?  Identity ("input")  Linear  Act  Linear  Act ... Linear

The ``nn.Identity`` marks the input neurons y_0, so that input crashes can be
selected by name (the fault engine hooks module outputs). The activation
modules subclass ``nn.Sigmoid`` / ``nn.ReLU``, so the fault engine's default
activation selection (``BernoulliCrash()``) finds the hidden neurons. Each
activation carries a ``lipschitz`` attribute used by the spectral bounds of
:mod:`ftlib.theory`.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
import torch.nn as nn

from ..errors import ParameterError


class Sigmoid4(nn.Sigmoid):
    """``sigmoid(4·K·x)``: Lipschitz constant ``K`` (the paper's sigmoid)."""

    def __init__(self, K: float = 1.0):
        super().__init__()
        self.K = float(K)
        self.lipschitz = float(K)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(4.0 * self.K * x)

    def extra_repr(self) -> str:
        return f"K={self.K:g}"


class ReLUK(nn.ReLU):
    """``relu(K·x)``: Lipschitz constant ``K``."""

    def __init__(self, K: float = 1.0):
        super().__init__()
        self.K = float(K)
        self.lipschitz = float(K)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.K * x) if self.K != 1.0 else torch.relu(x)

    def extra_repr(self) -> str:
        return f"K={self.K:g}"


class Standardize(nn.Module):
    """Fixed (non-trainable) input standardisation ``(x − shift) / scale`` (buffers, saved with the model)."""

    def __init__(self, shift, scale):
        super().__init__()
        self.register_buffer("shift", torch.as_tensor(shift, dtype=torch.float32).clone())
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.shift) / self.scale


ACTIVATIONS = {"sigmoid": Sigmoid4, "relu": ReLUK}


def paper_init_(model: nn.Module, K: float = 1.0) -> nn.Module:
    """The original code's initialisation: W ~ N(0,1)·sqrt(2/n_prev)/K, b ~ N(0,1) (uses torch's global RNG)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.normal_(0.0, 1.0).mul_(math.sqrt(2.0 / m.in_features) / K)
                if m.bias is not None:
                    m.bias.normal_(0.0, 1.0)
    return model


def mlp(widths: tuple[int, ...] | list[int] = (13, 50, 1), activation: str = "sigmoid", K: float = 1.0,
        init: str = "paper", shift: list[float] | None = None, scale: list[float] | None = None,
        flatten: bool = False) -> nn.Sequential:
    """A network of Definition 1 with layer widths ``widths = (n_0, n_1, ..., n_L)``.

    ``activation``: ``"sigmoid"`` (sigmoid(4Kx)) or ``"relu"`` (relu(Kx)).
    ``init``: ``"paper"`` (the original code's) or ``"torch"`` (PyTorch's default).
    ``shift``/``scale``: optional fixed input standardisation (e.g. Boston's
    training-split means and standard deviations). ``flatten``: start with
    ``nn.Flatten`` (image inputs).
    """
    widths = [int(w) for w in widths]
    if len(widths) < 2 or any(w < 1 for w in widths):
        raise ParameterError(f"widths: need at least (n_0, n_L), all >= 1; got {widths}")
    if activation not in ACTIVATIONS:
        raise ParameterError(f"activation: expected one of {', '.join(ACTIVATIONS)}; got {activation!r}")
    if not K > 0:
        raise ParameterError(f"K: expected a positive Lipschitz constant; got {K!r}")
    if init not in ("paper", "torch"):
        raise ParameterError(f"init: expected 'paper' or 'torch'; got {init!r}")
    layers: "OrderedDict[str, nn.Module]" = OrderedDict()
    if flatten:
        layers["flatten"] = nn.Flatten()
    if shift is not None or scale is not None:
        if shift is None or scale is None or len(shift) != widths[0] or len(scale) != widths[0]:
            raise ParameterError(f"shift/scale: give both, each of length n_0 = {widths[0]}")
        layers["standardize"] = Standardize(shift, scale)
    layers["input"] = nn.Identity()
    for i in range(1, len(widths)):
        layers[f"fc{i}"] = nn.Linear(widths[i - 1], widths[i])
        if i < len(widths) - 1:
            layers[f"act{i}"] = ACTIVATIONS[activation](K)
    model = nn.Sequential(layers)
    if init == "paper":
        paper_init_(model, K)
    return model


ARCHITECTURES = {"cl_mlp": mlp}
