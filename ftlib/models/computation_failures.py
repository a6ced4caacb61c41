"""computation_failures (Vialatte & Leduc-Primeau, COGNITIVE 2017), Section III: MLP–L–N and CNN–L–C–P–F–pool.

- ``cf_mlp``: MLP–L–N, ``layers`` dense layers of ``neurons`` units, then the
  dense softmax layer of 10 (the softmax itself is in the loss).
- ``cf_cnn``: CNN–L–C–P–F–pool, ``layers`` convolutions ``kernel``×``kernel``
  with ``filters`` feature maps (valid padding, stride 1), each followed by
  ``pool``×``pool`` max pooling when ``pooling="max"`` (none when
  ``"none"``), then a dense layer of ``dense`` (200) units, then the softmax
  layer of 10.

Section III: clipped ReLU saturating at 1 (``nn.Hardtanh(0, 1)``) everywhere,
or ``tanh`` (the compared alternative); Glorot (uniform, Keras' default)
initialisation with zero biases; dropout 25 % after convolutional layers and
50 % after dense layers "except on the first layer" (we read: no dropout after
the first hidden layer). Every Linear/Conv2d output is a pre-activation: the
fault engine's deviation hooks sit there (Section IV: before the activation,
pooling after). Inputs (B, 1, 28, 28) in [0, 1]; outputs logits (B, 10).

Where the paper is silent: padding (valid, Keras' default), where pooling sits
(after every conv layer), and whether dropout follows the last hidden layer
(yes).
"""

from __future__ import annotations

import torch.nn as nn

from ..errors import ParameterError

ACTIVATIONS = ("crelu", "tanh")


def _activation(name: str) -> nn.Module:
    if name == "crelu":
        return nn.Hardtanh(0.0, 1.0)  # clipped ReLU, saturation 1
    if name == "tanh":
        return nn.Tanh()
    raise ParameterError(f"activation must be one of {ACTIVATIONS}, got {name!r}")


def glorot_(model: nn.Module) -> nn.Module:
    """Glorot-uniform weights and zero biases on every Linear/Conv2d (Keras' defaults, the paper's [15])."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def mlp(layers: int = 2, neurons: int = 256, activation: str = "crelu", dropout: float = 0.5,
        n_in: int = 784, n_out: int = 10) -> nn.Sequential:
    """MLP–L–N: Flatten, then ``layers`` × (Linear, activation[, Dropout]), then Linear(N, ``n_out``)."""
    if layers < 1 or neurons < 1:
        raise ParameterError(f"MLP needs layers >= 1 and neurons >= 1, got {layers}, {neurons}")
    mods: list[nn.Module] = [nn.Flatten()]
    width = n_in
    for i in range(layers):
        mods += [nn.Linear(width, neurons), _activation(activation)]
        if i > 0 and dropout > 0:
            mods.append(nn.Dropout(dropout))
        width = neurons
    mods.append(nn.Linear(width, n_out))
    return glorot_(nn.Sequential(*mods))


def cnn(layers: int = 2, kernel: int = 5, pool: int = 2, filters: int = 16, pooling: str = "max",
        dense: int = 200, activation: str = "crelu", conv_dropout: float = 0.25, dense_dropout: float = 0.5,
        size: int = 28, channels: int = 1, n_out: int = 10) -> nn.Sequential:
    """CNN–L–C–P–F–pool: ``layers`` × (Conv C×C, activation[, MaxPool P][, Dropout]), dense ``dense``, Linear → ``n_out``."""
    if pooling not in ("max", "none"):
        raise ParameterError(f"pooling must be 'max' or 'none', got {pooling!r}")
    mods: list[nn.Module] = []
    ch, side = channels, size
    for i in range(layers):
        mods += [nn.Conv2d(ch, filters, kernel), _activation(activation)]
        side -= kernel - 1
        if pooling == "max":
            mods.append(nn.MaxPool2d(pool))
            side //= pool
        if side < 1:
            raise ParameterError(f"CNN-{layers}-{kernel}-{pool}-{filters}-{pooling}: the feature maps vanish")
        if i > 0 and conv_dropout > 0:
            mods.append(nn.Dropout(conv_dropout))
        ch = filters
    mods += [nn.Flatten(), nn.Linear(ch * side * side, dense), _activation(activation)]
    if dense_dropout > 0:
        mods.append(nn.Dropout(dense_dropout))
    mods.append(nn.Linear(dense, n_out))
    return glorot_(nn.Sequential(*mods))


def n_params(model: nn.Module) -> int:
    """Number of trainable parameters (weights and biases), the size measure of Figures 3–6."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


ARCHITECTURES = {"cf_mlp": mlp, "cf_cnn": cnn}
