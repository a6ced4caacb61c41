"""MobileNet v1 from Keras weights, TF "same" padding, Var Δ with crashes at every layer, VGG without weights."""

from __future__ import annotations

import itertools
import math
import os
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from ftlib import sections, theory  # sections first: it discovers the experiment modules
from ftlib.errors import DatasetCorruptError, DatasetNotFoundError
from ftlib.experiments.continuous_limit import architectures as arch
from ftlib.models import mobilenet_v1 as mbv1

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _data_dir() -> Path | None:
    for d in (os.environ.get("FTLIB_DATA_DIR"), SHARED):
        if d and (Path(d) / mbv1.WEIGHTS[0.75]["folder"] / mbv1.WEIGHTS[0.75]["weights"]).is_file():
            return Path(d)
    return None


needs_weights = pytest.mark.skipif(_data_dir() is None, reason="MobileNet v1 0.75 weights not in the data directory")


@pytest.fixture
def data_dir(monkeypatch, tmp_path):
    d = _data_dir()
    monkeypatch.setenv("FTLIB_DATA_DIR", str(d))
    monkeypatch.setenv("FTLIB_CACHE_DIR", str(tmp_path / "cache"))
    return d


# ----------------------------------------------------------------------------- TF "same" padding


def test_tf_same_padding_values():
    assert mbv1.tf_same_padding(224, 3, 2) == (0, 1)  # even input, stride 2: one extra row at the bottom only
    assert mbv1.tf_same_padding(225, 3, 2) == (1, 1)
    assert mbv1.tf_same_padding(112, 3, 1) == (1, 1)
    assert mbv1.tf_same_padding(7, 1, 1) == (0, 0)


def test_stride2_conv_pads_bottom_right_like_tensorflow():
    """A 3×3 stride-2 convolution of a 4×4 input: TF 'same' sees rows/cols 0..2 for output (0, 0) and rows/cols
    2..3 (+ one zero) for output (1, 1); torch's symmetric padding=1 would see rows/cols 0..1 and 1..3."""
    x = torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4)
    conv = nn.Conv2d(1, 1, 3, stride=2, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    y = conv(mbv1.TFSamePad2d(3, 2)(x))[0, 0]
    xs = x[0, 0]
    expected = torch.tensor([[xs[0:3, 0:3].sum(), xs[0:3, 2:4].sum()], [xs[2:4, 0:3].sum(), xs[2:4, 2:4].sum()]])
    assert torch.equal(y, expected)
    symmetric = nn.functional.conv2d(x, conv.weight, stride=2, padding=1)[0, 0]
    assert not torch.equal(symmetric, expected)


def test_architecture_shapes_and_crash_points():
    m = mbv1.mobilenet_v1(0.75).eval()
    assert mbv1.keras_param_count(m) == 2_601_976
    with torch.no_grad():
        out = m(torch.zeros(1, 3, 224, 224))
    assert out.shape == (1, 1000)
    names = theory.crash_layers(m, include_input=True)
    assert names[0] == "input" and len(names) == 28 and names[-1] == "conv_pw_13_relu"


# ----------------------------------------------------------------------------- the converted Keras network


@needs_weights
def test_converted_network_sees_a_cat(data_dir):
    model = mbv1.load_keras_mobilenet_v1(0.75)
    labels = mbv1.imagenet_labels(0.75)
    assert mbv1.keras_param_count(model) == 2_601_976
    cats = {"tabby, tabby cat", "tiger cat", "Egyptian cat"}
    assert cats <= set(labels)
    for resize in ("nearest", "bilinear"):
        top = arch.top_classes(model, arch.keras_input(resize), labels)
        assert top["class"].iloc[0] in cats, (resize, top)
        assert cats <= set(top["class"]), (resize, top)
    # bilinear resize: the probabilities of the data folder's PROVENANCE.md (a plain-numpy Keras forward pass)
    top = arch.top_classes(model, arch.keras_input("bilinear"), labels).set_index("class").probability
    assert abs(top["Egyptian cat"] - 0.54) < 0.01 and abs(top["tiger cat"] - 0.26) < 0.01


@needs_weights
def test_channels_last_gives_the_same_output(data_dir):
    model = mbv1.load_keras_mobilenet_v1(0.75)
    x = arch.keras_input()
    with torch.no_grad():
        a = model(x)
        m2, x2 = mbv1.channels_last(model, x)
        b = m2(x2)
    assert torch.allclose(a, b, atol=1e-5)


def test_missing_and_corrupt_weights_raise_actionable_errors(monkeypatch, tmp_path):
    monkeypatch.setenv("FTLIB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FTLIB_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(DatasetNotFoundError, match="FTLIB_DATA_DIR"):
        mbv1.load_keras_mobilenet_v1(0.75)
    folder = tmp_path / "data" / mbv1.WEIGHTS[0.75]["folder"]
    folder.mkdir(parents=True)
    np.savez(folder / mbv1.WEIGHTS[0.75]["weights"], x=np.zeros(3, np.float32))
    with pytest.raises(DatasetCorruptError, match="sha256"):
        mbv1.load_keras_mobilenet_v1(0.75)
    with pytest.raises(DatasetNotFoundError, match="alpha"):
        mbv1.load_keras_mobilenet_v1(1.0)


# ----------------------------------------------------------------------------- Var Δ with crashes at every layer


def _tiny_net() -> nn.Sequential:
    """4 input pixels → 2×2 conv (2 channels, 1×1 output) → ReLU6 → linear 2 → 3 → softmax: 6 crashable neurons."""
    torch.manual_seed(0)
    net = nn.Sequential(OrderedDict([("input", nn.Identity()), ("conv", nn.Conv2d(1, 2, 2)), ("relu", nn.ReLU6()),
                                     ("flatten", nn.Flatten()), ("fc", nn.Linear(2, 3)), ("softmax", nn.Softmax(1))]))
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([[[[0.8, -0.3], [0.5, 0.9]]], [[[-0.4, 0.7], [0.6, 0.2]]]]))
        net[1].bias.copy_(torch.tensor([0.2, 0.1]))
        # small output weights: single crashes move the logits by < 0.2, the regime where first order holds
        net[4].weight.copy_(0.05 * torch.tensor([[1.5, -0.5], [-1.0, 2.0], [0.3, 0.4]]))
    return net.eval()


def _exact_variance(net: nn.Sequential, x: torch.Tensor, p: float) -> torch.Tensor:
    """Var Δ per output, exactly, by enumerating all 2^6 crash configurations of the input and hidden neurons."""
    outs, probs = [], []
    with torch.no_grad():
        for bits in itertools.product((0, 1), repeat=6):
            keep_in = torch.tensor(bits[:4], dtype=torch.float32).reshape(1, 1, 2, 2)
            keep_h = torch.tensor(bits[4:], dtype=torch.float32).reshape(1, 2, 1, 1)
            h = net[2](net[1](x * (1 - keep_in))) * (1 - keep_h)  # bit 1 = crashed
            outs.append(net[5](net[4](net[3](h)))[0].double())
            probs.append(p ** sum(bits) * (1 - p) ** (6 - sum(bits)))
    o, w = torch.stack(outs), torch.tensor(probs, dtype=torch.float64)
    mean = (w[:, None] * o).sum(0)
    return (w[:, None] * (o - mean) ** 2).sum(0)


@pytest.mark.parametrize("p", [0.01, 0.1])
def test_crash_variance_matches_exact_enumeration(p):
    net = _tiny_net()
    x = torch.tensor([[[[1.0, 2.0], [0.5, 1.5]]]])
    exact = _exact_variance(net, x, p)
    res = arch.crash_variance(net, x, p, draws=40_000, seed=3, max_rows=8192)
    assert res.classes == [0, 1, 2] and res.neurons == 6
    # Monte Carlo: the exact mean-over-classes variance lies in (or very near) its 95 % interval
    width = res.mc_high - res.mc_low
    assert res.mc_low - 0.25 * width <= float(exact.mean()) <= res.mc_high + 0.25 * width
    assert abs(res.mc / float(exact.mean()) - 1) < 0.1
    # b3 is first order in p: close to exact at p = 0.01 (relative O(p) remainder), further off at p = 0.1
    rel = abs(res.b3 / float(exact.mean()) - 1)
    assert rel < (0.05 if p == 0.01 else 0.5)
    # the per-layer shares add up to the total (Additional Proposition 7)
    assert math.isclose(sum(res.b3_per_layer.values()), res.b3, rel_tol=1e-9)


def test_mean_variance_ci_is_the_mean_of_per_class_sample_variances():
    g = torch.Generator().manual_seed(0)
    samples = torch.randn(500, 7, generator=g) * torch.arange(1, 8)
    est, lo, hi = arch.mean_variance_ci(samples)
    assert math.isclose(est, float(samples.double().var(0).mean()), rel_tol=1e-9)
    assert lo < float((torch.arange(1, 8.0) ** 2).mean()) < hi


# ----------------------------------------------------------------------------- VGG without weights


def test_vgg_without_weights_is_not_runnable(monkeypatch, tmp_path):
    """No weights, no downloads: VGG is reported not runnable, and no VGG (random or not) is ever built."""
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("FTLIB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FTLIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FTLIB_ALLOW_DOWNLOAD", raising=False)
    built = []
    for name in ("vgg16", "vgg19"):
        monkeypatch.setattr(torchvision.models, name, lambda *a, **k: built.append((a, k)))
    avail = arch.availability(["vgg16", "vgg19"])
    assert all(reason and "random weights are never used" in reason for reason in avail.values())
    with pytest.raises(DatasetNotFoundError, match="FTLIB_ALLOW_DOWNLOAD"):
        arch.load_vgg("vgg16")
    cfg = sections.resolve("continuous_limit/architectures", {"profile": "smoke", "seed": 0,
                                                                  "models": ["vgg16", "vgg19"]})
    results = arch.run(cfg)
    assert set(results) == {"vgg16", "vgg19"} and all(set(r) == {"reason"} for r in results.values())
    assert built == []


def test_vgg_chain_is_a_theory_layout():
    """The chain around torchvision's VGG (structure only, no weights needed) exposes input + 15 ReLUs."""
    import torchvision

    chain = arch.as_chain(torchvision.models.vgg16(weights=None))
    names = theory.crash_layers(chain, include_input=True)
    assert names[0] == "input" and len(names) == 16
    assert not any(m.inplace for m in chain.modules() if isinstance(m, nn.ReLU))
