"""MobileNet v1 (Howard et al. 2017) in torch, loadable from Keras' ImageNet weights.

The continuous_limit paper (supplement Table 2) compares "standard pre-trained
networks from Keras" (``keras.applications.MobileNet``). This module rebuilds
that network layer for layer so that Keras' weights give Keras' numbers:

- the width multiplier ``alpha`` scales every channel count (``int(c * alpha)``);
- "same" padding as TensorFlow computes it: the total padding
  ``max((ceil(n/s) − 1)·s + k − n, 0)`` is split with the smaller half on the
  top/left, so a 3×3 stride-2 convolution of an even-sized input pads **one
  row at the bottom and one column on the right only** (torch's symmetric
  ``padding=1`` would shift every stride-2 feature map by one pixel);
  :class:`TFSamePad2d` does this for any input size;
- BatchNorm with ``eps = 1e-3`` (Keras' value, not torch's 1e-5), ReLU6;
- the classifier as in Keras: global average pool, (dropout 1e-3, an identity
  at inference), a 1×1 convolution ``conv_preds`` with bias, softmax.

The result is a flat :class:`torch.nn.Sequential` whose module names are the
Keras layer names (``conv1``, ``conv1_bn``, ``conv1_relu``, ``conv_dw_1``, …,
``conv_preds``, ``act_softmax``), preceded by an ``nn.Identity`` named
``input`` that marks the input neurons y_0 for the fault engine. The ReLU6
modules are the crash points of :class:`ftlib.faults.BernoulliCrash` (its
default selection finds them: ``nn.ReLU6`` is an ``nn.Hardtanh``).

Weights: :func:`load_keras_mobilenet_v1` reads the shared data folder's
``mobilenet_v1_0.75_224_imagenet/`` (a lossless npz of Keras'
``MobileNet(alpha=0.75, weights='imagenet')``, Keras HWIO layout; see its
PROVENANCE.md), verifies its sha256 with :mod:`ftlib.data`'s checksum
machinery and converts the layouts. Only α = 0.75 is available here; the
paper most likely used α = 1.0.

Preprocessing (:func:`preprocess_keras`): resize to 224×224, then
``x / 127.5 − 1`` (Keras' ``mobilenet.preprocess_input``, mode "tf").
"""

from __future__ import annotations

import io
import json
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import config
from ..errors import DatasetCorruptError, DatasetNotFoundError, ParameterError

#: Keras' block list: (pointwise output channels at α = 1, depthwise stride).
BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
)

#: Folder (inside the data directory) and files of each available set of Keras weights, with their sha256
#: (from the folder's PROVENANCE.md).
WEIGHTS: dict[float, dict[str, str]] = {
    0.75: {
        "folder": "mobilenet_v1_0.75_224_imagenet",
        "weights": "mobilenet_v1_0.75_224_imagenet_keras.npz",
        "weights_sha256": "bb8ee093809f09a3032550319a58b0cff503860ab0c5348238a4d111b4b45fc4",
        "labels": "imagenet_labels_keras1000.json",
        "labels_sha256": "6eea3bd5d3e9cd441c03dc58d94fcb626ab71927becf2658d9c2e5fb6b70f85b",
    },
}

BN_EPS = 1e-3  # Keras BatchNormalization default, used by keras.applications.MobileNet


def tf_same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same" padding of one spatial dimension: ``(before, after)``, the extra pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class TFSamePad2d(nn.Module):
    """Zero padding that makes a following ``padding=0`` convolution equal TensorFlow's ``padding='same'``."""

    def __init__(self, kernel_size: int, stride: int):
        super().__init__()
        self.kernel_size = int(kernel_size)
        self.stride = int(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = tf_same_padding(x.shape[-2], self.kernel_size, self.stride)
        left, right = tf_same_padding(x.shape[-1], self.kernel_size, self.stride)
        if top == bottom == left == right == 0:
            return x
        return F.pad(x, (left, right, top, bottom))

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


def _channels(c: int, alpha: float) -> int:
    return int(c * alpha)


def mobilenet_v1(alpha: float = 1.0, num_classes: int = 1000, softmax: bool = True) -> nn.Sequential:
    """MobileNet v1 with width multiplier ``alpha``, Keras' layer names and TF "same" padding (randomly
    initialised; see :func:`load_keras_mobilenet_v1` for the pretrained weights)."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha <= 4:
        raise ParameterError(f"alpha: expected a width multiplier in (0, 4], got {alpha!r}")
    layers: list[tuple[str, nn.Module]] = [("input", nn.Identity())]
    c = _channels(32, alpha)
    layers += [("conv1_pad", TFSamePad2d(3, 2)), ("conv1", nn.Conv2d(3, c, 3, stride=2, bias=False)),
               ("conv1_bn", nn.BatchNorm2d(c, eps=BN_EPS)), ("conv1_relu", nn.ReLU6())]
    for i, (cout, stride) in enumerate(BLOCKS, start=1):
        cout = _channels(cout, alpha)
        layers += [(f"conv_pad_{i}", TFSamePad2d(3, stride)),
                   (f"conv_dw_{i}", nn.Conv2d(c, c, 3, stride=stride, groups=c, bias=False)),
                   (f"conv_dw_{i}_bn", nn.BatchNorm2d(c, eps=BN_EPS)), (f"conv_dw_{i}_relu", nn.ReLU6()),
                   (f"conv_pw_{i}", nn.Conv2d(c, cout, 1, bias=False)),
                   (f"conv_pw_{i}_bn", nn.BatchNorm2d(cout, eps=BN_EPS)), (f"conv_pw_{i}_relu", nn.ReLU6())]
        c = cout
    layers += [("global_pool", nn.AdaptiveAvgPool2d(1)), ("dropout", nn.Dropout(1e-3)),
               ("conv_preds", nn.Conv2d(c, num_classes, 1, bias=True)), ("flatten", nn.Flatten())]
    if softmax:
        layers.append(("act_softmax", nn.Softmax(dim=1)))
    return nn.Sequential(OrderedDict(layers))


def keras_param_count(model: nn.Module) -> int:
    """The parameter count Keras' ``count_params()`` reports: trainable parameters plus BatchNorm's moving
    mean and variance (Keras counts them as non-trainable weights; torch keeps them as buffers)."""
    n = sum(p.numel() for p in model.parameters())
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
            n += m.running_mean.numel() + m.running_var.numel()
    return n


def weights_folder(alpha: float = 0.75) -> Path:
    """Where the Keras weights of MobileNet v1 with width ``alpha`` are looked for (in the data directory)."""
    if alpha not in WEIGHTS:
        raise DatasetNotFoundError(
            f"No pretrained MobileNet v1 with alpha={alpha} is known to ftlib (known: "
            f"{', '.join(str(a) for a in WEIGHTS)}). Add its files and checksums to "
            "ftlib.models.mobilenet_v1.WEIGHTS, or use alpha=0.75.")
    return config.data_dir() / WEIGHTS[alpha]["folder"]


def _read_verified(path: Path, sha256: str) -> bytes:
    from .. import data

    if not path.is_file():
        raise DatasetNotFoundError(
            f"MobileNet v1 weights file {path} is missing. Put the folder '{path.parent.name}' (the shared data "
            f"folder's copy, see its PROVENANCE.md) into the data directory {config.data_dir()} or point "
            "FTLIB_DATA_DIR at a directory that holds it (CI uses ../shared/data).")
    return data._verified_bytes(path, "sha256:" + sha256, thorough=False)


def imagenet_labels(alpha: float = 0.75) -> list[str]:
    """The 1000 ImageNet class names in Keras' index order (checksum verified)."""
    spec = WEIGHTS.get(alpha) or {}
    folder = weights_folder(alpha)
    raw = _read_verified(folder / spec["labels"], spec["labels_sha256"])
    labels = json.loads(raw.decode("utf-8"))
    if not isinstance(labels, list) or len(labels) != 1000:
        raise DatasetCorruptError(f"{folder / spec['labels']}: expected a JSON list of 1000 class names")
    return labels


def keras_state_dict(arrays: dict[str, np.ndarray], model: nn.Sequential) -> dict[str, torch.Tensor]:
    """Convert Keras weight arrays (HWIO layout, keyed ``layer/weight``) into ``model``'s state dict.

    Conv kernels (kh, kw, in, out) → (out, in, kh, kw); depthwise kernels (kh, kw, C, 1) → (C, 1, kh, kw);
    BatchNorm gamma/beta/moving_mean/moving_variance → weight/bias/running_mean/running_var.
    Every array must be used exactly once and every tensor of ``model`` filled.
    """
    out: dict[str, torch.Tensor] = {}
    used: set[str] = set()

    def take(key: str) -> np.ndarray:
        if key not in arrays:
            raise DatasetCorruptError(f"Keras weights: array '{key}' is missing")
        used.add(key)
        return np.asarray(arrays[key], dtype=np.float32)

    for name, m in model.named_children():
        if isinstance(m, nn.Conv2d):
            if m.groups > 1:
                w = take(f"{name}/depthwise_kernel").transpose(2, 3, 0, 1)
            else:
                w = take(f"{name}/kernel").transpose(3, 2, 0, 1)
            out[f"{name}.weight"] = torch.from_numpy(np.ascontiguousarray(w))
            if m.bias is not None:
                out[f"{name}.bias"] = torch.from_numpy(take(f"{name}/bias").copy())
        elif isinstance(m, nn.BatchNorm2d):
            out[f"{name}.weight"] = torch.from_numpy(take(f"{name}/gamma").copy())
            out[f"{name}.bias"] = torch.from_numpy(take(f"{name}/beta").copy())
            out[f"{name}.running_mean"] = torch.from_numpy(take(f"{name}/moving_mean").copy())
            out[f"{name}.running_var"] = torch.from_numpy(take(f"{name}/moving_variance").copy())
            out[f"{name}.num_batches_tracked"] = torch.tensor(0)
    unused = sorted(set(arrays) - used)
    if unused:
        raise DatasetCorruptError(f"Keras weights: arrays not used by the model (wrong alpha?): {unused[:5]}")
    expected = model.state_dict()
    for key, t in out.items():
        if t.shape != expected[key].shape:
            raise DatasetCorruptError(f"Keras weights: '{key}' has shape {tuple(t.shape)}, the model expects "
                                      f"{tuple(expected[key].shape)} (wrong alpha?)")
    return out


def load_keras_mobilenet_v1(alpha: float = 0.75) -> nn.Sequential:
    """MobileNet v1 (width ``alpha``) with Keras' ImageNet weights from the data directory, in eval mode.

    Raises :class:`ftlib.errors.DatasetNotFoundError` when the files are not there and
    :class:`ftlib.errors.DatasetCorruptError` when their sha256 differs from the known value.
    """
    spec = WEIGHTS.get(alpha) or {}
    folder = weights_folder(alpha)
    raw = _read_verified(folder / spec["weights"], spec["weights_sha256"])
    with np.load(io.BytesIO(raw)) as z:
        arrays = {k: z[k] for k in z.files}
    model = mobilenet_v1(alpha)
    model.load_state_dict(keras_state_dict(arrays, model), strict=True)
    return model.eval()


def preprocess_keras(image: np.ndarray, size: int = 224, resize: str = "bilinear") -> torch.Tensor:
    """An RGB uint8 image (H, W, 3) → a float tensor (1, 3, size, size) as Keras feeds MobileNet.

    The image is resized to ``size × size`` (aspect ratio not kept, as ``keras.preprocessing.image.load_img(
    target_size=...)`` does) with PIL's ``resize`` filter ``resize`` ("nearest" is load_img's default,
    "bilinear" the usual choice), then scaled to [−1, 1] by ``x / 127.5 − 1``.
    """
    from PIL import Image

    filters = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
               "bicubic": Image.Resampling.BICUBIC}
    if resize not in filters:
        raise ParameterError(f"resize: expected one of {sorted(filters)}, got {resize!r}")
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ParameterError(f"image: expected an RGB uint8 array (H, W, 3), got {arr.dtype} {arr.shape}")
    img = Image.fromarray(arr).resize((size, size), filters[resize])
    x = torch.from_numpy(np.asarray(img, dtype=np.float32).copy()).permute(2, 0, 1).unsqueeze(0)
    return x / 127.5 - 1.0


def channels_last(model: nn.Module, x: torch.Tensor | None = None):
    """``model`` (and ``x``) in the channels_last memory format, the fast layout for CPU convolutions."""
    model = model.to(memory_format=torch.channels_last)
    if x is None:
        return model
    return model, x.contiguous(memory_format=torch.channels_last)


ARCHITECTURES = {"cl_mobilenet_v1": mobilenet_v1}

__all__ = ["mobilenet_v1", "load_keras_mobilenet_v1", "keras_state_dict", "keras_param_count", "imagenet_labels",
           "preprocess_keras", "TFSamePad2d", "tf_same_padding", "channels_last", "weights_folder", "WEIGHTS"]

