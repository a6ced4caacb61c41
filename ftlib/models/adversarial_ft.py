"""adversarial_ft (Duddu, Rao, Balas), Section 6.1: Architectures 1 and 2 (FashionMNIST).

Architecture 1: feature extractor MLP 784 → 512 → 1024 → 512 (ReLU), classifier FC 512 → 10.
Architecture 2: feature extractor conv 5×5 ×20 → max-pool 2 → conv 5×5 ×50 → max-pool 2
(ReLU after each conv), classifier FC 800 → 512 → 10.

Inputs: images (B, 1, 28, 28) in [0, 1]; outputs: logits (B, 10).
The paper gives neither initialisation nor biases; we use PyTorch's defaults.
"""

from __future__ import annotations

import torch.nn as nn


def arch1_mlp(hidden: tuple[int, ...] = (512, 1024, 512), n_in: int = 784, n_out: int = 10) -> nn.Sequential:
    """Architecture 1: Flatten, then Linear+ReLU per hidden width, then the FC classifier to ``n_out``."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = n_in
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def arch2_cnn(filters: tuple[int, int] = (20, 50), fc: int = 512, n_out: int = 10) -> nn.Sequential:
    """Architecture 2: two conv 5×5 + ReLU + max-pool 2×2/2 blocks, then FC ``fc`` → ``n_out``."""
    c1, c2 = filters
    return nn.Sequential(
        nn.Conv2d(1, c1, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(c1, c2, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(c2 * 4 * 4, fc), nn.ReLU(),
        nn.Linear(fc, n_out),
    )


ARCHITECTURES = {"aft_arch1": arch1_mlp, "aft_arch2": arch2_cnn}
