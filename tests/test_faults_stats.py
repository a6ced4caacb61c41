"""ftlib.faults: statistical checks with fixed seeds and stated tolerances.

Tolerances are in standard errors (5 SE unless said otherwise: a correct
implementation fails with probability < 1e-6 per check, and the seeds are fixed
so the outcome is deterministic anyway); a wrong formula (e.g. 1/(1-p)
rescaling, wrong BER, wrong range) is off by many SE.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from ftlib.faults import (
    BernoulliCrash,
    BitFlip,
    ConditionallyUniform,
    Erasure,
    dequantize_int8,
    flip_bits,
    inject,
    quantize_int8,
)


def ks_uniform(values: np.ndarray, lo: float, hi: float) -> float:
    """Kolmogorov–Smirnov statistic D of ``values`` against Uniform[lo, hi)."""
    u = np.sort((values - lo) / (hi - lo))
    n = u.size
    cdf = np.clip(u, 0.0, 1.0)
    return float(max((np.arange(1, n + 1) / n - cdf).max(), (cdf - np.arange(n) / n).max()))


@pytest.mark.parametrize("permanent", [False, True])
def test_bernoulli_crash_linear_error_mean_and_variance(permanent):
    """y = W x with inputs crashed (continuous_limit Def. 3): E Δ = -p W x,
    Var Δ_j = p (1-p) Σ_i W_ji² x_i² (no rescaling of the survivors)."""
    torch.manual_seed(0)
    n_in, n_out, p = 40, 6, 0.2
    lin = nn.Linear(n_in, n_out, bias=False).double()
    model = nn.Sequential(nn.Identity(), lin)  # crash the outputs of the Identity = the inputs of W
    x = torch.randn(n_in, dtype=torch.float64)
    clean = lin(x)
    w = lin.weight.detach()
    exp_mean = -p * (w @ x)
    exp_var = p * (1 - p) * (w ** 2 @ x ** 2)
    fault = BernoulliCrash(layers=["0"], permanent=permanent)
    if permanent:  # one crash set per instance: many instances, one input each
        deltas = []
        for k in range(4000):
            with inject(model, fault, p, seed=k):
                deltas.append(model(x[None])[0] - clean)
        delta = torch.stack(deltas)
    else:  # transient: every row of the batch gets its own crashes
        with inject(model, fault, p, seed=0):
            delta = model(x.expand(40_000, n_in)) - clean
    b = delta.shape[0]
    se_mean = (exp_var / b).sqrt()
    assert torch.all((delta.mean(0) - exp_mean).abs() < 5 * se_mean), (delta.mean(0), exp_mean)
    # variance: relative SE ≈ sqrt((kurtosis - 1) / b); 12 % is > 5 SE here for b ≥ 4000
    rel = (delta.var(0) - exp_var).abs() / exp_var
    assert torch.all(rel < 0.12), rel
    # an inverted-dropout implementation (survivors × 1/(1-p)) has E Δ = 0: far outside here
    assert torch.all(exp_mean.abs() > 10 * se_mean)


def test_bernoulli_crash_fraction_of_crashed_neurons():
    model = nn.Sequential(nn.Linear(5, 200), nn.Sigmoid())
    with inject(model, BernoulliCrash(), 0.1, seed=0):
        out = model(torch.randn(500, 5))
    frac = (out == 0).double().mean().item()
    n = out.numel()
    assert abs(frac - 0.1) < 5 * math.sqrt(0.1 * 0.9 / n)


def test_erasure_p1_gives_all_zero_preactivation():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 4))
    seen = []
    model[1].register_forward_pre_hook(lambda m, a: seen.append(a[0]))  # the (deviated) pre-activation
    x = torch.randn(16, 10)
    with inject(model, Erasure(), 1.0, seed=0):
        out = model(x)
    assert torch.equal(seen[-1], torch.zeros(16, 8)) and torch.equal(out, torch.zeros(16, 4))
    with inject(model, Erasure(layers=["0"]), 1.0, seed=0):
        out = model(x)
    assert torch.equal(out, model[2].bias.detach().expand(16, 4))  # ReLU(0) = 0, then only the bias
    with inject(model, Erasure(), 0.0, seed=0):
        assert torch.equal(model(x), nn.Sequential(*model)(x))


def test_erasure_before_activation_and_pooling_on_conv():
    """computation_failures: deviations hit the conv outputs, pooling comes after."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.Hardtanh(0, 1), nn.MaxPool2d(2))
    seen = []
    model[1].register_forward_pre_hook(lambda m, a: seen.append(a[0]))
    x = torch.randn(200, 1, 8, 8)
    with inject(model, Erasure(), 0.3, seed=1):
        model(x)
    with torch.no_grad():
        clean = model[0](x)
    changed = (seen[-1] != clean)
    erased = seen[-1][changed]
    assert torch.all(erased == 0)
    n = clean.numel()
    assert abs(changed.double().mean().item() - 0.3) < 5 * math.sqrt(0.3 * 0.7 / n)


@pytest.mark.parametrize("value_range,permanent", [((-1.0, 1.0), False), ((0.0, 0.5), False), ((0.0, 0.5), True)])
def test_conditionally_uniform_values_are_uniform_over_range(value_range, permanent):
    lo, hi = value_range
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5000 if permanent else 1000))
    x = torch.randn(1 if permanent else 20, 4)  # permanent: one stuck value per unit, the same for all inputs
    with inject(model, ConditionallyUniform(value_range=value_range, permanent=permanent), 1.0, seed=0):
        vals = model(x).detach().double().flatten().numpy()
    n = vals.size
    assert vals.min() >= lo and vals.max() < hi
    d = ks_uniform(vals, lo, hi)
    assert d < 1.95 / math.sqrt(n), d  # KS critical value at alpha = 0.001
    assert abs(vals.mean() - (lo + hi) / 2) < 5 * (hi - lo) / math.sqrt(12 * n)
    assert abs(vals.var() - (hi - lo) ** 2 / 12) < 0.05 * (hi - lo) ** 2 / 12
    try:  # the same test through SciPy when it is installed
        from scipy import stats
    except ImportError:
        return
    assert stats.kstest(vals, stats.uniform(loc=lo, scale=hi - lo).cdf).pvalue > 1e-3


def test_conditionally_uniform_partial_rate_and_permanent_values():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 500))
    x = torch.randn(100, 4)
    with torch.no_grad():
        clean = model(x)
    with inject(model, ConditionallyUniform(), 0.1, seed=2):
        out = model(x)
    changed = out != clean
    n = out.numel()
    assert abs(changed.double().mean().item() - 0.1) < 5 * math.sqrt(0.09 / n)
    assert out[changed].abs().max() <= 1.0
    with inject(model, ConditionallyUniform(permanent=True), 0.1, seed=2) as inj:
        out = model(x)
    mask = inj.masks["0"]
    assert torch.equal(out != clean, mask.expand_as(out))
    assert torch.equal(out[:, mask], out[:1, mask].expand(100, -1))  # same stuck value for every input


def _popcount32(x: torch.Tensor) -> torch.Tensor:
    return sum(((x >> b) & 1) for b in range(32))


@pytest.mark.parametrize("ber", [1e-3, 0.2])
def test_bitflip_float32_rate_matches_ber(ber):
    g = torch.Generator().manual_seed(0)
    w = torch.randn(50_000)
    out = flip_bits(w, ber, g)
    diff = (w.view(torch.int32) ^ out.view(torch.int32)).long() & 0xFFFFFFFF
    flips = int(_popcount32(diff).sum())
    n = w.numel() * 32
    assert abs(flips - n * ber) < 5 * math.sqrt(n * ber * (1 - ber))
    per_bit = torch.stack([((diff >> b) & 1).sum() for b in range(32)]).double()
    expected = w.numel() * ber  # every bit position flips at the same rate
    assert torch.all((per_bit - expected).abs() < 5 * math.sqrt(expected * (1 - ber)) + 1)


def test_bitflip_restricted_bits_and_sign_flip():
    g = torch.Generator().manual_seed(1)
    w = torch.randn(10_000)
    out = flip_bits(w, 1.0, g, bits=[31])  # every sign bit
    assert torch.equal(out, -w)
    out = flip_bits(w, 0.01, g, bits=range(23, 31))  # exponent only
    diff = (w.view(torch.int32) ^ out.view(torch.int32)).long() & 0xFFFFFFFF
    assert int((diff & 0x807FFFFF).sum()) == 0 and int(diff.ne(0).sum()) > 0


def test_bitflip_int8_quantize_flip_dequantize():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(100, 200))
    w = model[0].weight.detach().clone()
    q, scale = quantize_int8(w)
    assert scale == pytest.approx(w.abs().max().item() / 127)
    with inject(model, BitFlip(format="int8"), 0.0, seed=0):
        assert torch.equal(model[0].weight, dequantize_int8(q, scale))  # rate 0: the quantised model
    ber = 0.01
    with inject(model, BitFlip(format="int8"), ber, seed=0) as inj:
        qf = torch.round(model[0].weight / scale).to(torch.int8)
        hit = inj.hits["0"]["weight"]
        assert torch.equal(model[0].weight, dequantize_int8(qf, scale))
    diff = (q ^ qf).to(torch.int64) & 0xFF
    flips = int(sum(((diff >> b) & 1) for b in range(8)).sum())
    n = w.numel() * 8
    assert flips == hit.count
    assert abs(flips - n * ber) < 5 * math.sqrt(n * ber * (1 - ber))
    assert torch.equal(model[0].weight, w)  # restored


def test_bitflip_float32_in_model_matches_hits():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(30, 20), nn.ReLU(), nn.Linear(20, 5))
    clean = {k: v.clone() for k, v in model.state_dict().items()}
    with inject(model, BitFlip(), 2e-3, seed=4) as inj:
        for name in ("0", "2"):
            hit = inj.hits[name]["weight"]
            diff = (clean[f"{name}.weight"].view(torch.int32) ^ model.get_submodule(name).weight.view(torch.int32))
            flat = diff.flatten().long() & 0xFFFFFFFF
            expect = torch.zeros_like(flat)
            expect.index_put_((hit.index,), torch.ones_like(hit.bits) << hit.bits, accumulate=True)
            assert torch.equal(flat, expect)


def test_paired_draws_pairs_by_draw_and_one_sided_follows_the_sign():
    import pandas as pd

    """Two models under the same draws: a constant per-draw gap is found exactly, whatever the draw noise;
    the drop version compares value(0) − value(rate); one-sided p halves the two-sided one in the
    observed direction."""
    from ftlib.faults import one_sided, paired_draws

    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.1, 8)
    a = pd.DataFrame({"rate": [0.0] * 8 + [0.5] * 8, "draw": list(range(8)) * 2,
                      "accuracy": [0.9] * 8 + list(0.6 + noise)})
    b = a.assign(accuracy=[0.8] * 8 + list(0.55 + noise))
    d = paired_draws(a, b, 0.5)
    assert d["mean"] == pytest.approx(0.05) and d["std"] == pytest.approx(0, abs=1e-12)
    drop = paired_draws(a, b, 0.5, baseline_rate=0.0)  # a drops 0.30, b drops 0.25
    assert drop["mean"] == pytest.approx(0.05)
    t = {"mean": 0.3, "p_value": 0.04}
    assert one_sided(t, "greater") == pytest.approx(0.02) and one_sided(t, "less") == pytest.approx(0.98)
    assert one_sided({"mean": 0.1, "p_value": float("nan")}) != one_sided({"mean": 0.1, "p_value": float("nan")})
    with pytest.raises(ValueError, match="same draws"):
        paired_draws(a, b[b.draw < 4], 0.5)
