"""Agreement of ftlib.faults with an independent implementation, PyTorchFI 0.6.

The faults ftlib draws (read back from the Injection) are re-injected with
PyTorchFI; the faulty outputs must be identical. Skipped only when PyTorchFI
is not installed (``pip install "pytorchfi>=0.6,<0.7" --no-deps``).
"""

from __future__ import annotations

import logging
import struct

import numpy as np
import pytest
import torch
from torch import nn

from ftlib.faults import BitFlip, StuckAtZero, inject

pfi_core = pytest.importorskip("pytorchfi.core")

LAYER_TYPES = [nn.Conv2d, nn.Linear]


def cnn() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 6, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 10, 3), nn.ReLU(), nn.Flatten(), nn.Linear(90, 16), nn.ReLU(), nn.Linear(16, 4),
    ).eval()


def weight_layers(model):
    return [(n, m) for n, m in model.named_modules() if isinstance(m, tuple(LAYER_TYPES))]


def pfi_locations(model, inj):
    """PyTorchFI's (layer_num, k, dim1, dim2, dim3) lists for the weights ftlib hit."""
    cols = {"layer_num": [], "k": [], "dim1": [], "dim2": [], "dim3": []}
    for num, (name, m) in enumerate(weight_layers(model)):
        hit = inj.hits.get(name, {}).get("weight")
        if hit is None:
            continue
        for flat in hit.index.tolist():
            idx = np.unravel_index(flat, tuple(m.weight.shape))
            cols["layer_num"].append(num)
            cols["k"].append(int(idx[0]))
            cols["dim1"].append(int(idx[1]))
            cols["dim2"].append(int(idx[2]) if len(idx) > 2 else None)
            cols["dim3"].append(int(idx[3]) if len(idx) > 3 else None)
    return cols


def make_pfi(model, batch):
    logging.getLogger().setLevel(logging.WARNING)
    return pfi_core.fault_injection(model, batch, input_shape=[1, 12, 12], layer_types=LAYER_TYPES)


@pytest.mark.parametrize("layer", ["0", "3", "6", "8"])
def test_single_weight_stuck_at_zero_matches_pytorchfi(layer):
    model = cnn()
    x = torch.randn(8, 1, 12, 12)
    numel = model.get_submodule(layer).weight.numel()
    with inject(model, StuckAtZero("weights", layers=[layer]), 1.0 / numel, seed=7) as inj, torch.no_grad():
        ours = model(x)
    assert sum(inj.counts.values()) == 1
    loc = pfi_locations(model, inj)
    corrupted = make_pfi(model, 8).declare_weight_fi(value=[0.0], **loc)
    with torch.no_grad():
        theirs = corrupted(x)
    assert torch.equal(ours, theirs)
    # both hit the same single weight, which was not 0 before
    differs = model.get_submodule(layer).weight != corrupted.get_submodule(layer).weight
    assert int(differs.sum()) == 1 and torch.equal(differs, inj.masks[f"{layer}.weight"])


def test_many_weights_in_all_layers_match_pytorchfi():
    model = cnn()
    x = torch.randn(8, 1, 12, 12)
    with inject(model, StuckAtZero("weights"), 0.05, seed=3) as inj, torch.no_grad():
        ours = model(x)
    loc = pfi_locations(model, inj)
    assert len(loc["k"]) > 50
    corrupted = make_pfi(model, 8).declare_weight_fi(value=[0.0] * len(loc["k"]), **loc)
    with torch.no_grad():
        assert torch.equal(ours, corrupted(x))


def _flip_python(value: float, bit: int) -> float:
    """Flip one bit of a float32 with the struct module (independent of ftlib's integer views)."""
    (as_int,) = struct.unpack("<I", struct.pack("<f", value))
    (flipped,) = struct.unpack("<f", struct.pack("<I", as_int ^ (1 << bit)))
    return flipped


def test_single_bit_flip_matches_pytorchfi_custom_function():
    model = cnn()
    x = torch.randn(8, 1, 12, 12)
    numel = model[6].weight.numel() * 32
    for seed in range(100):  # the first seed that flips exactly one bit (expected count 1)
        with inject(model, BitFlip(layers=["6"], bits=range(0, 31)), 1.0 / numel, seed=seed) as inj, torch.no_grad():
            ours = model(x)
        hit = inj.hits["6"]["weight"]
        if hit.count == 1:
            break
    assert hit.count == 1
    bit = int(hit.bits[0])

    def flip(data, location):
        return _flip_python(float(data[location]), bit)

    loc = pfi_locations(model, inj)
    corrupted = make_pfi(model, 8).declare_weight_fi(function=flip, **loc)
    with torch.no_grad():
        assert torch.equal(ours, corrupted(x))


def test_single_neuron_stuck_at_zero_matches_pytorchfi():
    model = cnn()
    x = torch.randn(1, 1, 12, 12)
    with inject(model, StuckAtZero("nodes", layers=["3"]), 1.0 / (10 * 4 * 4), seed=2) as inj, torch.no_grad():
        ours = model(x)
    mask = inj.masks["3"]
    assert int(mask.sum()) == 1
    c, h, w = (int(i) for i in mask.nonzero()[0])
    pfi = pfi_core.fault_injection(model, 1, input_shape=[1, 12, 12], layer_types=[nn.Conv2d])
    corrupted = pfi.declare_neuron_fi(batch=[0], layer_num=[1], dim1=[c], dim2=[h], dim3=[w], value=[0.0])
    with torch.no_grad():
        assert torch.equal(ours, corrupted(x))
