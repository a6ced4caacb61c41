"""adversarial_ft (Duddu, Rao, Balas), Section 6.2: Architectures 1-4 and the Phase-I networks.

Architecture 1: feature extractor MLP 784 → 512 → 1024 → 512 (ReLU), classifier FC 512 → 10.
Architecture 2: feature extractor conv 5×5 ×20 → max-pool 2 → conv 5×5 ×50 → max-pool 2
(ReLU after each conv), classifier FC 800 → 512 → 10.

Inputs: images (B, 1, 28, 28) in [0, 1]; outputs: logits (B, 10).
The paper gives neither initialisation nor biases; we use PyTorch's defaults.

Architecture 3 (CIFAR-10): seven 3×3 conv layers [64, 128, 256, 512, 256, 128,
128], LeakyReLU(0.1); the paper gives no strides, we use stride 2 in layers 2, 4
and 6 (32 → 4 pixels); ``width`` scales every layer (the quick profile's 1/4
width). Architecture 4: three 3×3 conv layers [64, 128, 128] with stride 2 (the
paper's), ReLU. Both: classifier FC 2048 → 1024 → 10.

Algorithm 1 splits each network into a feature extractor (FE) and a
classifier (FCC). :func:`split` says where: the FE is ``model[:k]``
and its output ``z`` is the *pre-activation* of the FE's last layer (so the
Gaussian prior of Game 2 can be matched; a ReLU output cannot be Gaussian);
the FCC ``model[k:]`` starts with that layer's activation and contains the
paper's hidden FC layer (512, or 1024 for CIFAR-10) and the output layer.
Because both parts are slices of the same ``nn.Sequential``, the trained
"proposed" model is exactly the baseline architecture (same fault sites).
"""

from __future__ import annotations

import torch
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


def _scaled(widths, width: float) -> list[int]:
    return [max(1, int(round(w * width))) for w in widths]


def arch3_cnn(width: float = 1.0, fc: int = 1024, n_out: int = 10) -> nn.Sequential:
    """Architecture 3: seven 3×3 conv + LeakyReLU(0.1) layers (stride 2 in layers 2, 4, 6), FC ``fc`` → ``n_out``."""
    widths = _scaled((64, 128, 256, 512, 256, 128, 128), width)
    layers: list[nn.Module] = []
    c = 3
    for i, w in enumerate(widths):
        layers += [nn.Conv2d(c, w, 3, stride=2 if i in (1, 3, 5) else 1, padding=1), nn.LeakyReLU(0.1)]
        c = w
    layers += [nn.Flatten(), nn.Linear(c * 4 * 4, fc), nn.LeakyReLU(0.1), nn.Linear(fc, n_out)]
    return nn.Sequential(*layers)


def arch4_cnn(width: float = 1.0, fc: int = 1024, n_out: int = 10) -> nn.Sequential:
    """Architecture 4: three 3×3 conv layers with stride 2 + ReLU, FC ``fc`` → ``n_out``."""
    widths = _scaled((64, 128, 128), width)
    layers: list[nn.Module] = []
    c = 3
    for w in widths:
        layers += [nn.Conv2d(c, w, 3, stride=2, padding=1), nn.ReLU()]
        c = w
    layers += [nn.Flatten(), nn.Linear(c * 4 * 4, fc), nn.ReLU(), nn.Linear(fc, n_out)]
    return nn.Sequential(*layers)


ARCHITECTURES = {"aft_arch1": arch1_mlp, "aft_arch2": arch2_cnn, "aft_arch3": arch3_cnn, "aft_arch4": arch4_cnn}


def feature_split(model: nn.Sequential) -> int:
    """Index ``k`` of the FE/FCC split: ``model[:k]`` is the FE, ending at the pre-activation of the layer
    that feeds the classifier's hidden FC layer (see the module docstring)."""
    linear = [i for i, m in enumerate(model) if isinstance(m, nn.Linear)]
    hidden_fc = linear[-2]  # the FCC's hidden layer
    # the last Linear/Conv layer before the FCC's hidden layer
    return max(i for i, m in enumerate(model[:hidden_fc]) if isinstance(m, (nn.Linear, nn.Conv2d))) + 1


def split(model: nn.Sequential) -> tuple[nn.Sequential, nn.Sequential]:
    """(feature extractor, classifier) as slices of ``model`` sharing its modules and parameter names."""
    k = feature_split(model)
    return model[:k], model[k:]


def fc_decoder(n_features: int, hidden: tuple[int, ...] = (512, 512), out_shape=(1, 28, 28)) -> nn.Sequential:
    """The Generative Network of Architectures 1-2: FC [512, 512, 784] (ReLU, sigmoid output) to an image."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = n_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    n_out = 1
    for d in out_shape:
        n_out *= d
    layers += [nn.Linear(width, n_out), nn.Sigmoid(), nn.Unflatten(1, tuple(out_shape))]
    return nn.Sequential(*layers)


def conv_decoder(in_channels: int, widths: tuple[int, ...] = (128, 64, 32), out_channels: int = 3) -> nn.Sequential:
    """The Generative Network of Architectures 3-4: four 3×3 conv layers; the first three are each followed by
    ×2 bilinear upsampling (4 → 8 → 16 → 32 pixels), the fourth maps to the image with a sigmoid.

    The paper has an upsampling after each of the four convolutions, which from our 4×4 feature map would
    overshoot 32×32; the last one is dropped (our choice)."""
    layers: list[nn.Module] = []
    c = in_channels
    for w in widths:
        layers += [nn.Conv2d(c, w, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2, mode="bilinear",
                                                                         align_corners=False)]
        c = w
    layers += [nn.Conv2d(c, out_channels, 3, padding=1), nn.Sigmoid()]
    return nn.Sequential(*layers)


def discriminator(n_features: int, hidden: int = 512, dropout: float = 0.2) -> nn.Sequential:
    """The Discriminator: MLP n_features → 512 → 512 → 1 (LeakyReLU 0.2, dropout ``dropout``), a logit."""
    return nn.Sequential(nn.Flatten(), nn.Linear(n_features, hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout),
                         nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout), nn.Linear(hidden, 1))


def phase1_networks(model: nn.Sequential, input_shape: tuple[int, ...]) -> tuple[nn.Sequential, nn.Module, nn.Module]:
    """(feature extractor, decoder, discriminator) for ``model`` taking images of ``input_shape`` (C, H, W):
    the FC decoder for 1-channel (FashionMNIST) inputs, the convolutional one for CIFAR-10."""
    extractor, _ = split(model)
    with torch.no_grad():
        z = extractor(torch.zeros(1, *input_shape))
    n_features = z[0].numel()
    if input_shape[0] == 3:  # CIFAR-10 (Architectures 3-4): convolutional decoder
        decoder = conv_decoder(z.shape[1], out_channels=3)
    else:  # FashionMNIST (Architectures 1-2): FC [512, 512, 784] on the flattened features
        decoder = fc_decoder(n_features, out_shape=input_shape)
    return extractor, decoder, discriminator(n_features)
