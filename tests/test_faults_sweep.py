"""ftlib.faults.sweep: tables, intervals, seeding, adaptive mode, the fast paths' equivalence."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
from torch import nn

from ftlib.errors import ParameterError
from ftlib.faults import (
    BernoulliCrash,
    BitFlip,
    ConditionallyUniform,
    Erasure,
    StuckAtZero,
    auto_batch_draws,
    mean_ci,
    sequential_stages,
    sweep,
    t_quantile,
)


def data(n: int = 300, shape=(1, 12, 12), seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn((n,) + shape, generator=g), torch.randint(0, 4, (n,), generator=g)


def cnn(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 6, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Sequential(nn.Conv2d(6, 10, 3), nn.ReLU(inplace=True)),  # nested, in-place
        nn.Flatten(), nn.Linear(10 * 3 * 3, 16), nn.ReLU(), nn.Linear(16, 4),
    )


def mlp(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(144, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 4))


class Residual(nn.Module):
    """Not a Sequential: the sweep must fall back to the plain forward."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.a = nn.Linear(144, 144)
        self.act = nn.ReLU()
        self.out = nn.Linear(144, 4)

    def forward(self, x):
        x = x.flatten(1)
        return self.out(self.act(self.a(x)) + x)


def test_t_quantile_matches_tables():
    for df, t in [(1, 12.706204736), (2, 4.302652730), (9, 2.262157163), (29, 2.045229642), (1000, 1.962339)]:
        assert t_quantile(0.975, df) == pytest.approx(t, rel=1e-6)
    assert t_quantile(0.025, 9) == pytest.approx(-2.262157163, rel=1e-6)
    s = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert s["mean"] == 2.5 and s["ci_halfwidth"] == pytest.approx(3.182446305 * math.sqrt(5 / 3) / 2, rel=1e-6)
    assert mean_ci([0.5] * 5)["ci_halfwidth"] == 0.0
    assert math.isnan(mean_ci([0.5])["ci_low"])


def test_sweep_table_summary_and_ci_contains_mean():
    x, y = data()
    res = sweep(cnn(), StuckAtZero("weights"), [0.0, 0.2, 0.6], (x, y), draws=6, seed=0)
    t = res.table
    assert list(t.columns) == ["rate", "draw", "accuracy"] and len(t) == 18
    assert sorted(t["draw"].unique()) == list(range(6))
    s = res.summary
    assert list(s["rate"]) == [0.0, 0.2, 0.6] and list(s["n"]) == [6, 6, 6]
    assert (s["ci_low"] <= s["mean"]).all() and (s["mean"] <= s["ci_high"]).all()
    manual = t[t.rate == 0.6]["accuracy"]
    assert s.loc[2, "mean"] == pytest.approx(manual.mean())
    half = t_quantile(0.975, 5) * manual.std(ddof=1) / math.sqrt(6)
    assert s.loc[2, "ci_halfwidth"] == pytest.approx(half)
    assert s.loc[0, "std"] == 0.0  # rate 0 is deterministic
    model = cnn()
    with torch.no_grad():
        clean_acc = (model(x).argmax(1) == y).double().mean().item()
    assert t[t.rate == 0.0]["accuracy"].iloc[0] == pytest.approx(clean_acc)


def test_sweep_restores_model_state():
    x, y = data()
    model = cnn()
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    w = model[0].weight
    sweep(model, StuckAtZero("filters"), [0.5], (x, y), draws=2, seed=0)
    assert model.training and all(m.training for m in model.modules())
    assert model[0].weight is w and w.is_contiguous()  # memory format restored
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks


def _outsum(out, y):
    return float(out.double().sum())


def test_sweep_seeding_same_seed_same_table_different_draws_and_rates():
    x, y = data(100)
    fault = StuckAtZero("weights")
    a = sweep(mlp(), fault, [0.5, 0.5000001], (x, y), draws=5, seed=3, metric=_outsum)
    b = sweep(mlp(), fault, [0.5, 0.5000001], (x, y), draws=5, seed=3, metric=_outsum)
    c = sweep(mlp(), fault, [0.5, 0.5000001], (x, y), draws=5, seed=4, metric=_outsum)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.metric == "_outsum"
    v = a.table.pivot(index="draw", columns="rate", values="_outsum")
    assert v.iloc[:, 0].nunique() == 5  # different draws within a rate
    assert (v.iloc[:, 0] != v.iloc[:, 1]).all()  # same draw index, (almost) same rate: other faults
    assert (a.table["_outsum"] != c.table["_outsum"]).all()
    # adding a rate or draws does not change the existing draws
    d = sweep(mlp(), fault, [0.1, 0.5], (x, y), draws=7, seed=3, metric=_outsum)
    assert d.table[(d.table.rate == 0.5) & (d.table.draw < 5)]["_outsum"].tolist() == v.iloc[:, 0].tolist()


@pytest.mark.parametrize("fault", [
    StuckAtZero("nodes"), StuckAtZero("nodes", permanent=False, unit="channel"), BernoulliCrash(),
    Erasure(), ConditionallyUniform(permanent=True), StuckAtZero("weights", layers=["5"]),
])
def test_prefix_reuse_and_channels_last_give_identical_numbers(fault):
    x, y = data(120)
    kw = dict(draws=2, seed=1, batch_size=50, metric=_outsum)
    fast = sweep(cnn(), fault, [0.3], (x, y), **kw)
    slow = sweep(cnn(), fault, [0.3], (x, y), prefix_reuse=False, channels_last=False, **kw)
    assert fast.info["channels_last"] and not slow.info["channels_last"]
    hits_first_conv = isinstance(fault, Erasure)  # Erasure/ConditionallyUniform hook the first Conv2d
    assert (fast.info["prefix_stages"] == 0) == hits_first_conv
    assert slow.info["prefix_stages"] == 0
    assert fast.table["_outsum"].to_numpy() == pytest.approx(slow.table["_outsum"].to_numpy(), rel=1e-5)


def test_prefix_cache_is_not_corrupted_by_inplace_stage():
    # the first faulty stage is an in-place, non-idempotent ELU applied to the cached prefix output
    model = nn.Sequential(nn.Linear(144, 20), nn.ELU(inplace=True), nn.Linear(20, 4))
    x, y = data(60)
    x = x.flatten(1)
    fault = StuckAtZero("nodes")
    a = sweep(model, fault, [0.0, 0.4], (x, y), draws=3, seed=0, metric=_outsum, batch_size=25)
    b = sweep(model, fault, [0.0, 0.4], (x, y), draws=3, seed=0, metric=_outsum, batch_size=25, prefix_reuse=False)
    assert a.info["prefix_stages"] == 1
    assert a.table["_outsum"].to_numpy() == pytest.approx(b.table["_outsum"].to_numpy(), rel=1e-6)


def test_non_sequential_model_and_loader_input():
    x, y = data(80)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16)
    res = sweep(Residual(), BernoulliCrash(), [0.0, 0.5], loader, draws=3, seed=0, batch_size=40)
    ref = sweep(Residual(), BernoulliCrash(), [0.0, 0.5], (x, y), draws=3, seed=0, batch_size=40)
    assert res.info["prefix_stages"] == 0
    pd.testing.assert_frame_equal(res.table, ref.table)


def test_sequential_stages_flattening():
    model = cnn()
    stages = sequential_stages(model)
    assert len(stages) == 9 and stages[3] is model[3][0]
    x = torch.randn(2, 1, 12, 12)
    out = x
    for s in stages:
        out = s(out)
    assert torch.equal(out, model(x))
    assert sequential_stages(Residual()) is None


@pytest.mark.parametrize("fault", [StuckAtZero("weights"), StuckAtZero("filters"), BitFlip(format="int8")])
def test_batched_draws_equal_default_path(fault):
    x, y = data(100)
    kw = dict(draws=5, seed=2, channels_last=False)
    a = sweep(cnn(), fault, [0.1, 0.4], (x, y), **kw)
    b = sweep(cnn(), fault, [0.1, 0.4], (x, y), batch_draws=3, **kw)
    pd.testing.assert_frame_equal(a.table, b.table)
    c = sweep(cnn(), fault, [0.4], (x, y), metric=_outsum, **kw)
    d = sweep(cnn(), fault, [0.4], (x, y), metric=_outsum, batch_draws=5, **kw)
    assert c.table["_outsum"].to_numpy() == pytest.approx(d.table["_outsum"].to_numpy(), rel=1e-5)


def test_adaptive_stops_early_on_easy_case_and_caps_hard_case():
    x, y = data(200)
    model = mlp()
    easy = sweep(model, StuckAtZero("weights", layers=["5"]), [0.0, 0.01], (x, y), draws=3, seed=0,
                 ci_width=0.05, max_draws=40)
    assert easy.summary["n"].tolist() == [3, 3]  # one weight of 64 at most: tiny spread
    hard = sweep(model, StuckAtZero("weights"), [0.5], (x, y), draws=3, seed=0, ci_width=1e-6, max_draws=7)
    assert hard.summary["n"].tolist() == [7]
    # calibrated case: the spread of 30 fixed draws says ~15 draws reach the requested width
    fault = BernoulliCrash(permanent=True)
    fixed = sweep(model, fault, [0.3], (x, y), draws=30, seed=0, metric=_outsum)
    width = 2 * 2.1 * fixed.summary["std"].iloc[0] / math.sqrt(15)
    mid = sweep(model, fault, [0.3], (x, y), draws=3, seed=0, metric=_outsum, ci_width=width, max_draws=200)
    s = mid.summary.iloc[0]
    assert 3 < s["n"] < 60 and 2 * s["ci_halfwidth"] < width
    assert mid.table["_outsum"].tolist() == fixed.table["_outsum"].tolist()[: int(s["n"])]


def test_other_metrics():
    x, y = data(90)
    model = mlp()
    res = {m: sweep(model, Erasure(), [0.0], (x, y), draws=1, seed=0, metric=m).table.iloc[0, 2]
           for m in ("accuracy", "error", "cross_entropy")}
    with torch.no_grad():
        out = model(x)
    assert res["accuracy"] == pytest.approx((out.argmax(1) == y).double().mean().item())
    assert res["error"] == pytest.approx(1 - res["accuracy"])
    assert res["cross_entropy"] == pytest.approx(nn.functional.cross_entropy(out, y).item(), rel=1e-5)
    target = torch.zeros(90, 4)
    mse = sweep(model, Erasure(), [0.0], (x, target), draws=1, seed=0, metric="mse").table.iloc[0, 2]
    assert mse == pytest.approx((out ** 2).mean().item(), rel=1e-5)


def test_sweep_validation():
    x, y = data(20)
    m = mlp()
    f = StuckAtZero("weights")
    with pytest.raises(ParameterError, match="duplicates"):
        sweep(m, f, [0.1, 0.1], (x, y))
    with pytest.raises(ParameterError, match="rate"):
        sweep(m, f, [0.1, 2.0], (x, y))
    with pytest.raises(ParameterError, match="draws"):
        sweep(m, f, [0.1], (x, y), draws=0)
    with pytest.raises(ParameterError, match="draws"):
        sweep(m, f, [0.1], (x, y), draws=1, ci_width=0.1)
    with pytest.raises(ParameterError, match="max_draws"):
        sweep(m, f, [0.1], (x, y), max_draws=5)
    with pytest.raises(ParameterError, match="batch_draws"):
        sweep(m, BernoulliCrash(), [0.1], (x, y), batch_draws=2)
    with pytest.raises(ParameterError, match="metric"):
        sweep(m, f, [0.1], (x, y), metric="f1")
    with pytest.raises(ParameterError, match="data"):
        sweep(m, f, [0.1], (x, y[:5]))
    with pytest.raises(ParameterError, match="data"):
        sweep(m, f, [0.1], 42)


@pytest.mark.parametrize("fault", [StuckAtZero("nodes"), Erasure(), BernoulliCrash(permanent=True, unit="channel"),
                                   ConditionallyUniform(), StuckAtZero("filters")])
def test_sweep_equals_manual_inject_loop_with_documented_generators(fault):
    """The sweep's fast paths (prefix cache, channels_last, in-place hooks) give the
    numbers of a plain loop of inject() calls with generator derive_generator(seed, rate, draw)."""
    from ftlib.faults import inject
    from ftlib.faults._random import derive_generator, rate_key

    x, y = data(90)
    model = cnn()
    res = sweep(model, fault, [0.2, 0.5], (x, y), draws=2, seed=11, batch_size=40, metric=_outsum)
    manual = []
    for rate in (0.2, 0.5):
        for d in range(2):
            with inject(model, fault, rate, derive_generator(11, rate_key(rate), d)), torch.no_grad():
                manual.append(float(torch.cat([model(x[s:s + 40]) for s in range(0, 90, 40)]).double().sum()))
    assert res.table["_outsum"].to_numpy() == pytest.approx(manual, rel=1e-5)


def test_inplace_hook_never_touches_the_prefix_cache_through_an_identity():
    """An Identity after the cached prefix returns the cached tensor itself: the
    in-place fast path must notice the shared storage and copy instead."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(144, 30), nn.Identity(), nn.ReLU(), nn.Linear(30, 4))
    x, y = data(60)
    fault = StuckAtZero("nodes", layers=["2"])
    a = sweep(model, fault, [0.3, 0.6], (x, y), draws=3, seed=0, metric=_outsum, batch_size=25)
    b = sweep(model, fault, [0.3, 0.6], (x, y), draws=3, seed=0, metric=_outsum, batch_size=25, prefix_reuse=False)
    assert a.info["prefix_stages"] == 2
    assert a.table["_outsum"].to_numpy() == pytest.approx(b.table["_outsum"].to_numpy(), rel=1e-6)


def test_channels_last_reaches_a_one_input_channel_conv():
    """With C_in = 1, .contiguous(channels_last) is a no-op; the sweep must still run the
    first convolution (and what follows) in NHWC, as model.to(memory_format=...) does."""
    model = cnn()
    formats = []
    model[0].register_forward_hook(lambda m, a, o: formats.append(o.is_contiguous(memory_format=torch.channels_last)
                                                                  and not o.is_contiguous()))
    x, y = data(64)
    sweep(model, StuckAtZero("weights"), [0.3], (x, y), draws=1, seed=0)
    assert formats and all(formats)
    formats.clear()
    sweep(model, StuckAtZero("weights"), [0.3], (x, y), draws=1, seed=0, channels_last=False)
    assert formats and not any(formats)


def test_auto_batch_draws_batches_on_an_accelerator_only(monkeypatch):
    """batch_draws=None: the per-draw path on the CPU (measured faster there), batched draws on a CUDA/MPS
    model for permanent parameter faults, never in adaptive, recording or replay mode; capped by memory."""
    import sys

    sweep_module = sys.modules["ftlib.faults.sweep"]  # the module (the package's name ``sweep`` is the function)

    model = cnn()
    weights, crash = StuckAtZero("weights"), BernoulliCrash()
    assert auto_batch_draws(model, weights, 20) == 1  # CPU model
    monkeypatch.setattr(sweep_module, "_model_device", lambda m: torch.device("cuda", 0))
    assert auto_batch_draws(model, weights, 20) == sweep_module.AUTO_BATCH_DRAWS
    assert auto_batch_draws(model, weights, 5) == 5
    assert auto_batch_draws(model, crash, 20) == 1, "activation faults are drawn per forward"
    assert auto_batch_draws(model, weights, 20, adaptive=True) == 1
    assert auto_batch_draws(model, weights, 20, record=True) == 1
    assert auto_batch_draws(model, weights, 20, replay=True) == 1
    per_draw = sum(p.numel() * p.element_size() for p in model.parameters())
    monkeypatch.setattr(sweep_module, "AUTO_BATCH_BYTES", 3 * per_draw)
    assert auto_batch_draws(model, weights, 20) == 3


def test_auto_batch_draws_keeps_the_cpu_path():
    x, y = data(100)
    res = sweep(cnn(), StuckAtZero("weights"), [0.2], (x, y), draws=3, seed=1)
    assert res.info["batch_draws"] == 1 and res.info["channels_last"]
