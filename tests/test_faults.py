"""ftlib.faults: fault-model semantics, reversibility, permanence, determinism, validation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ftlib.errors import FtlibError, ParameterError
from ftlib.faults import (
    NASF,
    BernoulliCrash,
    BitFlip,
    ConditionallyUniform,
    Erasure,
    FaultSession,
    SpikeFault,
    StuckAtZero,
    force_spikes,
    inject,
    spike_fault_mask,
)
from ftlib.faults._random import bernoulli_positions, derive_seed, exact_count


def mlp(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 17), nn.ReLU(), nn.Linear(17, 5))


def cnn(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 6, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 10, 3), nn.ReLU(), nn.Flatten(), nn.Linear(10 * 3 * 3, 4),
    )


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_clean(model: nn.Module, snap: dict[str, torch.Tensor]) -> None:
    for k, v in model.state_dict().items():
        assert torch.equal(v, snap[k]), f"{k} not restored"
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks, f"hook left on {m}"


# ----------------------------------------------------------------------------- stuck-at-0
@pytest.mark.parametrize("frac", [0.0, 0.3, 0.5, 1.0])
def test_stuck_weights_exact_fraction_per_layer(frac):
    model = cnn()
    snap = snapshot(model)
    with inject(model, StuckAtZero("weights"), frac, seed=1) as inj:
        for name, m in model.named_modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                w = m.weight
                zeros = int((w == 0).sum())
                assert zeros == exact_count(frac, w.numel()) == inj.counts[f"{name}.weight"]
                assert torch.equal(w == 0, inj.masks[f"{name}.weight"])
                keep = w != 0
                assert torch.equal(w[keep], snap[f"{name}.weight"][keep])  # the rest untouched
                assert torch.equal(m.bias, snap[f"{name}.bias"])  # weights only by default
    assert_clean(model, snap)


def test_exact_count_is_round_half_up():
    assert [exact_count(0.3, 600), exact_count(0.3, 54), exact_count(0.25, 10), exact_count(0.25, 6)] == [180, 16, 3, 2]
    assert exact_count(0.5, 5) == 3 and exact_count(0.1, 4) == 0 and exact_count(1.0, 7) == 7
    model = cnn()  # literal counts: conv 6x1x3x3, conv 10x6x3x3, linear 4x90
    with inject(model, StuckAtZero("weights"), 0.25, seed=0) as inj:
        assert inj.counts == {"0.weight": 14, "3.weight": 135, "6.weight": 90}  # 13.5 -> 14
        assert int((model[0].weight == 0).sum()) == 14


def test_stuck_weights_selected_layers_only_and_bias_option():
    model = mlp()
    snap = snapshot(model)
    with inject(model, StuckAtZero("weights", layers=["3"], include_bias=True), 0.3, seed=0):
        assert int((model[3].weight == 0).sum()) == exact_count(0.3, 30 * 17)
        assert int((model[3].bias == 0).sum()) == exact_count(0.3, 17)
        assert torch.equal(model[1].weight, snap["1.weight"])
        assert torch.equal(model[5].weight, snap["5.weight"])
    assert_clean(model, snap)


def test_stuck_filters_zero_whole_filters():
    model = cnn()
    snap = snapshot(model)
    with inject(model, StuckAtZero("filters"), 0.5, seed=3) as inj:
        for name in ("0", "3"):
            w = model.get_submodule(name).weight
            dead = (w == 0).flatten(1).all(1)
            assert int(dead.sum()) == exact_count(0.5, w.shape[0])
            assert torch.equal(w[~dead], snap[f"{name}.weight"][~dead])
            assert torch.equal(inj.masks[f"{name}.weight"], dead[:, None, None, None].expand_as(w))
        assert torch.equal(model[6].weight, snap["6.weight"])  # Linear not a filter layer by default
        # with the bias kept, a dead filter's feature map is its constant bias
        x = torch.randn(2, 1, 12, 12)
        fmap = model[0](x)
        dead0 = (model[0].weight == 0).flatten(1).all(1)
        assert torch.allclose(fmap[:, dead0], model[0].bias[dead0][None, :, None, None].expand_as(fmap[:, dead0]))
    assert_clean(model, snap)


def test_stuck_filters_with_bias_give_zero_feature_maps():
    model = cnn()
    with inject(model, StuckAtZero("filters", layers=[nn.Conv2d], include_bias=True), 0.5, seed=3):
        x = torch.randn(2, 1, 12, 12)
        fmap = model[0](x)
        dead = (model[0].weight == 0).flatten(1).all(1)
        assert dead.sum() == 3 and torch.equal(fmap[:, dead], torch.zeros_like(fmap[:, dead]))


def sig_model() -> nn.Sequential:
    """Linear → Sigmoid → Linear: the activations are never 0 on their own."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 40), nn.Sigmoid(), nn.Linear(40, 3))


def test_stuck_nodes_permanent_same_units_for_all_inputs_and_batches():
    model = sig_model()
    seen = []
    with inject(model, StuckAtZero("nodes"), 0.25, seed=0) as inj:
        h = model[2].register_forward_pre_hook(lambda m, a: seen.append(a[0]))  # the faulty activations
        model(torch.randn(5, 8))
        model(torch.randn(7, 8))
        h.remove()
        mask = inj.masks["1"]
    assert mask.shape == (40,) and int(mask.sum()) == exact_count(0.25, 40) == 10
    for out in seen:
        zero = out == 0
        assert torch.equal(zero, mask.expand_as(zero))  # same units for every sample and batch


@pytest.mark.parametrize("fault", [StuckAtZero("nodes"), BernoulliCrash(), Erasure(layers=[nn.Sigmoid])])
def test_inject_never_modifies_the_hooked_output_in_place(fault):
    model = sig_model()
    held = []
    model[1].register_forward_hook(lambda m, a, o: held.append((o, o.clone())))  # runs before the fault hook
    with inject(model, fault, 0.5, seed=0), torch.no_grad():
        model(torch.randn(6, 8))
    out, copy = held[-1]
    assert torch.equal(out, copy)


def test_stuck_nodes_transient_exact_per_input_and_varying():
    model = sig_model()
    seen = []
    with inject(model, StuckAtZero("nodes", permanent=False), 0.25, seed=0):
        h = model[2].register_forward_pre_hook(lambda m, a: seen.append(a[0]))
        model(torch.randn(64, 8))
        model(torch.randn(64, 8))
        h.remove()
    zero = torch.cat(seen) == 0
    assert torch.equal(zero.sum(1), torch.full((128,), 10))  # exact fraction per input
    assert len({tuple(r.nonzero().flatten().tolist()) for r in zero}) > 100  # differs across inputs


def test_stuck_nodes_conv_element_vs_channel():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Sigmoid())
    x = torch.randn(3, 1, 6, 6)
    with inject(model, StuckAtZero("nodes"), 0.25, seed=0):
        out = model(x)
    assert torch.equal((out == 0).sum((1, 2, 3)), torch.full((3,), exact_count(0.25, 4 * 4 * 4)))
    with inject(model, StuckAtZero("nodes", unit="channel"), 0.5, seed=0) as inj:
        out = model(x)
    dead = (out == 0).all(3).all(2)  # (B, C) whole feature maps
    assert inj.masks["1"].shape == (4, 1, 1)
    assert torch.equal(dead, inj.masks["1"].flatten().expand(3, 4)) and int(dead[0].sum()) == 2


def test_transient_vs_permanent_weights():
    model = mlp()
    x = torch.randn(4, 20)
    with inject(model, StuckAtZero("weights"), 0.3, seed=0):
        a, b = model(x), model(x)
    assert torch.equal(a, b)
    with inject(model, StuckAtZero("weights", permanent=False), 0.3, seed=0):
        a, b = model(x), model(x)
        assert int((model[1].weight == 0).sum()) == exact_count(0.3, 600)
    assert not torch.equal(a, b)


def test_transient_vs_permanent_activation_faults():
    model = sig_model()
    x = torch.randn(1, 8).expand(50, 8)  # the same input 50 times
    with inject(model, BernoulliCrash(permanent=True), 0.3, seed=0):
        out = model(x)
    assert torch.allclose(out, out[:1].expand_as(out))  # one crash set for all inputs
    with inject(model, BernoulliCrash(), 0.3, seed=0):
        out = model(x)
    assert not torch.allclose(out, out[:1].expand_as(out))  # per-input crashes


# ----------------------------------------------------------------------------- reversibility
@pytest.mark.parametrize("fault", [
    StuckAtZero("weights"), StuckAtZero("weights", permanent=False), StuckAtZero("filters"),
    StuckAtZero("nodes"), BernoulliCrash(), Erasure(), ConditionallyUniform(), BitFlip(), BitFlip(format="int8"),
])
def test_reversible_after_exception(fault):
    model = cnn()
    snap = snapshot(model)
    with pytest.raises(RuntimeError, match="boom"):
        with inject(model, fault, 0.5, seed=0):
            model(torch.randn(2, 1, 12, 12))
            raise RuntimeError("boom")
    assert_clean(model, snap)
    out_after = model(torch.ones(1, 1, 12, 12))
    with torch.no_grad():
        ref = cnn()(torch.ones(1, 1, 12, 12))
    assert torch.equal(out_after, ref)


def test_reversible_when_hook_fails_inside():
    class TupleOut(nn.Module):
        def forward(self, x):
            return x, x

    model = nn.Sequential(nn.Linear(3, 3), TupleOut())
    snap = snapshot(model)
    with pytest.raises(FtlibError, match="output_index"):
        with inject(model, BernoulliCrash(layers=["1"]), 0.5, seed=0):
            model(torch.randn(2, 3))
    assert_clean(model, snap)
    with inject(model, BernoulliCrash(layers=["1"], output_index=0), 1.0, seed=0):
        a, b = model(torch.randn(2, 3))
    assert torch.equal(a, torch.zeros_like(a)) and not torch.equal(b, torch.zeros_like(b))


def test_session_reuse_and_double_apply():
    model = mlp()
    snap = snapshot(model)
    with FaultSession(model, StuckAtZero("weights")) as s:
        s.apply(0.5, torch.Generator().manual_seed(0))
        with pytest.raises(FtlibError, match="already applied"):
            s.apply(0.5)
        s.reset()
        assert_clean(model, snap)
        s.apply(0.1, torch.Generator().manual_seed(1))
    assert_clean(model, snap)


# ----------------------------------------------------------------------------- determinism
def test_same_seed_same_draw_different_seed_different_draw():
    model = mlp()
    masks = []
    for seed in (5, 5, 6):
        with inject(model, StuckAtZero("weights"), 0.3, seed=seed) as inj:
            masks.append(inj.masks["1.weight"])
    assert torch.equal(masks[0], masks[1])
    assert not torch.equal(masks[0], masks[2])
    g1, g2 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    x = torch.randn(16, 20)
    with inject(model, ConditionallyUniform(), 0.2, g1):
        a = model(x)
    with inject(model, ConditionallyUniform(), 0.2, g2):
        b = model(x)
    assert torch.equal(a, b)
    with pytest.raises(ParameterError, match="either"):
        with inject(model, Erasure(), 0.1, g1, seed=1):
            pass


def test_derived_seeds_are_stable_and_distinct():
    assert derive_seed(0, "0x1.0p-1", 3) == derive_seed(0, "0x1.0p-1", 3)
    seeds = {derive_seed(s, r, d) for s in range(3) for r in ("a", "b") for d in range(50)}
    assert len(seeds) == 300


def test_bernoulli_positions_sparse_and_dense_are_exact_and_sorted():
    g = torch.Generator().manual_seed(0)
    for p, n in ((1e-4, 200_000), (0.01, 200_000), (0.04, 1_000_000), (0.3, 200_000)):
        pos = bernoulli_positions(n, p, g)
        assert torch.all(pos[1:] > pos[:-1]) and pos.min() >= 0 and pos.max() < n
        sd = (n * p * (1 - p)) ** 0.5
        assert abs(pos.numel() - n * p) < 5 * sd + 1
        # positions uniform over the range: their mean is n/2 within 5 standard errors
        if pos.numel() > 10:
            assert abs(pos.double().mean() - n / 2) < 5 * n / (12 * pos.numel()) ** 0.5
        if p >= 0.01:  # gaps are geometric: P(next position is adjacent) = p
            adjacent = (pos[1:] - pos[:-1] == 1).double().mean().item()
            assert abs(adjacent - p) < 5 * (p * (1 - p) / (pos.numel() - 1)) ** 0.5 + 1e-9
    assert bernoulli_positions(10, 0.0, g).numel() == 0
    assert torch.equal(bernoulli_positions(10, 1.0, g), torch.arange(10))


# ----------------------------------------------------------------------------- spiking
class ToySpiking(nn.Module):
    """A stateless spiking layer: spikes = (W x > 0); returns (spikes, membrane)."""

    def __init__(self, n_in: int, n: int):
        super().__init__()
        self.fc = nn.Linear(n_in, n)

    def forward(self, x):
        mem = self.fc(x)
        return (mem > 0).float(), mem


def test_force_spikes_shapes_and_values():
    g = torch.Generator().manual_seed(0)
    mask = spike_fault_mask(10, 0.3, g)
    assert mask.shape == (10,) and int(mask.sum()) == 3
    spikes = (torch.rand(5, 4, 10) > 0.5).float()  # (T, B, N)
    hsf, nasf = force_spikes(spikes, mask, "HSF"), force_spikes(spikes, mask, "NASF")
    assert torch.all(hsf[..., mask] == 0) and torch.all(nasf[..., mask] == 1)
    assert torch.equal(hsf[..., ~mask], spikes[..., ~mask]) and torch.equal(nasf[..., ~mask], spikes[..., ~mask])
    step = force_spikes(spikes[0], mask, "NASF")  # (B, N) per time step
    assert torch.equal(step, nasf[0])
    with pytest.raises(ParameterError):
        force_spikes(spikes, torch.ones(7, dtype=torch.bool), "HSF")
    with pytest.raises(ParameterError):
        force_spikes(spikes, mask, "XSF")


def test_spike_fault_hook_per_step_loop_uses_one_fault_set():
    torch.manual_seed(0)
    net = nn.ModuleDict({"lif": ToySpiking(6, 20)})
    outs = []
    with inject(net, NASF(["lif"], output_index=0), 0.25, seed=0) as inj:
        for _ in range(4):  # T time steps, (B, N) each
            spk, _mem = net["lif"](torch.randn(3, 6))
            outs.append(spk)
    mask = inj.masks["lif"]
    assert int(mask.sum()) == 5
    spikes = torch.stack(outs)
    assert torch.all(spikes[..., mask] == 1)
    with inject(net, SpikeFault("HSF", [ToySpiking], output_index=0), 1.0, seed=0):
        spk, mem = net["lif"](torch.randn(3, 6))
    assert torch.all(spk == 0) and not torch.all(mem == 0)


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("rate", [-0.1, 1.5, float("nan"), "0.1", True, None])
def test_bad_rates_rejected(rate):
    with pytest.raises(ParameterError, match="rate"):
        with inject(mlp(), StuckAtZero("weights"), rate):
            pass


def test_bad_arguments_rejected():
    with pytest.raises(ParameterError, match="target"):
        StuckAtZero("neurons")
    with pytest.raises(ParameterError, match="no module named"):
        with inject(mlp(), StuckAtZero("weights", layers=["9"]), 0.1):
            pass
    with pytest.raises(ParameterError, match="no layer to fault"):
        with inject(mlp(), StuckAtZero("filters"), 0.1):
            pass
    with pytest.raises(ParameterError, match="layers"):
        StuckAtZero("weights", layers=[3])
    with pytest.raises(ParameterError, match="layers="):
        SpikeFault("HSF", None)
    with pytest.raises(ParameterError, match="permanent"):
        StuckAtZero("weights", permanent="yes")
    with pytest.raises(ParameterError, match="format"):
        BitFlip(format="float8")
    with pytest.raises(ParameterError, match="bits"):
        BitFlip(format="int8", bits=[8])
    with pytest.raises(ParameterError, match="value_range"):
        ConditionallyUniform(value_range=(1.0, 1.0))
    with pytest.raises(ParameterError, match="unit"):
        BernoulliCrash(unit="map")
    with pytest.raises(ParameterError, match="include_bias"):
        StuckAtZero("nodes", include_bias=True)
    with pytest.raises(ParameterError, match="model"):
        with inject("not a model", Erasure(), 0.1):
            pass
    with pytest.raises(ParameterError, match="fault"):
        with inject(mlp(), "erasure", 0.1):
            pass
    assert repr(StuckAtZero("filters", include_bias=True)) == (
        "StuckAtZero(target='filters', layers=None, permanent=True, include_bias=True)")
    assert StuckAtZero("nodes") == StuckAtZero("nodes") and StuckAtZero("nodes") != StuckAtZero("weights")
