"""continuous_limit's regularizers (ftlib.regularizers) and their wiring into ftlib.training."""

from __future__ import annotations

import math

import pytest
import torch

from ftlib import regularizers as R
from ftlib import theory
from ftlib.models import build
from ftlib.training import TrainConfig, cache_key, regularization


def _net(widths=(6, 8, 5, 3), seed=0):
    torch.manual_seed(seed)
    return build("cl_mlp", widths=list(widths)).double()


def test_variance_penalty_equals_b3():
    net = _net()
    x = torch.randn(7, 6, dtype=torch.float64)
    p = 0.03
    b3 = theory.first_order(net, x, p, var_factor="p")
    pen = R.variance_penalty(net, x)
    assert pen.item() == pytest.approx(float(b3.var.sum(1).mean()) / p, rel=1e-9)
    one = R.variance_penalty(net, x, layers=["act1"])
    b3_1 = theory.first_order(net, x, p, layers=["act1"], var_factor="p")
    assert one.item() == pytest.approx(float(b3_1.var.sum(1).mean()) / p, rel=1e-9)


def test_variance_penalty_gradient_matches_finite_differences():
    net = _net()
    x = torch.randn(5, 6, dtype=torch.float64)
    w = net.fc2.weight
    g = torch.autograd.grad(R.variance_penalty(net, x), w)[0]
    h = 1e-6
    for (i, j) in [(0, 0), (2, 5), (4, 7)]:
        with torch.no_grad():
            w[i, j] += h
            up = float(R.variance_penalty(net, x, create_graph=False))
            w[i, j] -= 2 * h
            down = float(R.variance_penalty(net, x, create_graph=False))
            w[i, j] += h
        assert float(g[i, j]) == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8)


def test_continuity_zero_for_constant_neighbours_and_positive_otherwise():
    w = torch.ones(20, 1) * torch.randn(1, 9)  # every neuron (row) has the same incoming weights
    t = R.continuity_terms(w)
    assert float(t["C1"]) == 0.0
    # C3 pads with zeros (the original's TensorFlow "SAME"): a constant profile leaves only the border
    # residual; n_out = 20 → kernels of 20 // 20 = 1 tap (counts 0) and 20 // 10 = 2 taps ([½, ½], one zero
    # after the last neuron) → ½ · Σ_j (½ |w_j| / 20)
    assert float(t["C3"]) == pytest.approx(0.5 * float(w[0].abs().sum()) * 0.5 / 20, rel=1e-5)
    w2 = torch.randn(20, 1) * torch.ones(1, 9)  # every neuron uses all its inputs alike
    assert float(R.continuity_terms(w2)["C2"]) == 0.0
    rough = torch.randn(20, 9)
    t = R.continuity_terms(rough)
    assert all(float(v) > 0 for v in t.values())
    # a smooth profile over neurons has a much smaller C1 than a rough one of the same size
    smooth = torch.sin(torch.linspace(0, 3, 20)).unsqueeze(1) * torch.ones(1, 9)
    assert float(R.continuity_terms(smooth)["C1"]) < 0.2 * float(R.continuity_terms(rough)["C1"])


def _c3_reference(w, divisors=(20, 10)):
    """C3 written out from the original's definition (continuity.py): gkern(size) = diff of the normal CDF on
    linspace(-3, 3, size + 1), normalized; TensorFlow 'SAME' zero padding ((k-1)//2 before); |conv - W|
    averaged over the neurons, summed over the inputs; averaged over the sizes n_out//20 and n_out//10."""
    n, m = w.shape
    terms = []
    for d in divisors:
        k = n // d
        if k <= 1 or k > n:
            terms.append(0.0)
            continue
        x = [-3 + 6 * t / k for t in range(k + 1)]
        cdf = [0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x]
        ker = [cdf[t + 1] - cdf[t] for t in range(k)]
        ker = [v / sum(ker) for v in ker]
        left = (k - 1) // 2
        tot = 0.0
        for j in range(m):
            for i in range(n):
                conv = sum(ker[t] * float(w[i - left + t, j]) for t in range(k) if 0 <= i - left + t < n)
                tot += abs(conv - float(w[i, j])) / n
        terms.append(tot)
    return sum(terms) / len(terms)


@pytest.mark.parametrize("n_out", [20, 45, 60, 101, 130])
def test_c3_matches_the_original_definition(n_out):
    torch.manual_seed(n_out)
    w = torch.randn(n_out, 3, dtype=torch.float64)
    assert float(R.gaussian_residual(w)) == pytest.approx(_c3_reference(w), rel=1e-9)
    k = R.gaussian_kernel(6, torch.float64)  # 6 taps over ±3σ: σ = 1 tap, symmetric, normalized
    assert float(k.sum()) == pytest.approx(1.0) and torch.allclose(k, k.flip(0))
    assert R.gaussian_residual(torch.randn(19, 4)).item() == 0.0  # both kernels ≤ 1 tap


def test_c3_is_a_mean_over_neurons_not_a_sum():
    """White noise of the same per-entry size: C3 stays O(1) as n_out grows 8× (the wider kernels remove a
    little more of the noise, but each neuron's residual is < its |W|); a sum over neurons would grow 8×,
    i.e. make ψ_S n_out times stronger than the original's."""
    torch.manual_seed(3)
    small, big = (float(R.gaussian_residual(torch.randn(n, 50, dtype=torch.float64) / 50)) for n in (100, 800))
    assert small < big < 1.5 * small
    assert big < 50 * math.sqrt(2 / math.pi) / 50  # < Σ_j E|W_ij| = 50 · E|N(0,1)| / 50


def test_continuity_is_invariant_under_grid_refinement():
    # W_ij = w(t_i, s_j) / n_in: C1, C2 approximate integrals independent of the grid
    def grid(n_out, n_in):
        t = torch.linspace(0, 1, n_out).unsqueeze(1)
        s = torch.linspace(0, 1, n_in).unsqueeze(0)
        return torch.sin(3 * t + 2 * s) / n_in

    a, b = R.continuity_terms(grid(50, 40)), R.continuity_terms(grid(200, 160))
    for k in ("C1", "C2"):
        assert float(a[k]) == pytest.approx(float(b[k]), rel=0.05)
    # C3's kernels scale with n_out (σ = n_out/120, n_out/60) and it averages over neurons: also invariant
    # (converging as the integer tap counts n_out//20, n_out//10 approach n_out/20, n_out/10)
    c, d = R.continuity_terms(grid(800, 40)), R.continuity_terms(grid(1600, 160))
    assert float(c["C3"]) == pytest.approx(float(d["C3"]), rel=0.1)


def test_continuity_gradient_matches_autograd_finite_differences():
    torch.manual_seed(1)
    w = torch.randn(12, 5, dtype=torch.float64, requires_grad=True)
    f = lambda m: sum(R.continuity_terms(m).values())  # noqa: E731
    g = torch.autograd.grad(f(w), w)[0]
    h = 1e-7
    for (i, j) in [(0, 0), (5, 3), (11, 4)]:
        e = torch.zeros_like(w)
        e[i, j] = h
        num = (float(f(w.detach() + e)) - float(f(w.detach() - e))) / (2 * h)
        assert float(g[i, j]) == pytest.approx(num, rel=1e-4, abs=1e-6)


def test_balance_penalty():
    net = _net()
    with torch.no_grad():
        net.fc1.weight.fill_(0.5)
        net.fc2.weight.fill_(-0.2)
    assert R.balance_penalty(net).item() == pytest.approx(2.0)  # two hidden layers, each perfectly balanced
    with torch.no_grad():
        net.fc1.weight[0].mul_(4)
    assert R.balance_penalty(net).item() == pytest.approx(5.0)
    q = theory.balance(theory.incoming_weight_mass(net.fc1.weight))
    assert q == pytest.approx(0.25)


def test_regularization_sums_the_terms():
    net = _net()
    x = torch.randn(4, 6, dtype=torch.float64)
    cfg = TrainConfig(arch="cl_mlp", dataset="mnist", epochs=1, var_reg=0.1, balance=0.01, continuity=[1e-3, 1e-2])
    assert cfg.continuity == (1e-3, 1e-2)
    want = 0.1 * R.variance_penalty(net, x) + 0.01 * R.balance_penalty(net) + R.smoothness(net, (1e-3, 1e-2))
    assert regularization(net, x, cfg).item() == pytest.approx(want.item(), rel=1e-9)
    assert regularization(net, x, TrainConfig(arch="cl_mlp", dataset="mnist", epochs=1)) is None


def test_cache_key_unchanged_for_default_fields():
    cfg = TrainConfig(arch="cl_mlp", dataset="mnist", epochs=3, loss="mse", output="linear",
                      arch_kwargs={"widths": [784, 10, 10]})
    key = cache_key(cfg)
    old = {"arch": "cl_mlp", "dataset": "mnist", "epochs": 3, "batch_size": 128, "lr": 1e-3, "n_train": 0,
           "l1": 0.0, "l2": 0.0, "loss": "mse", "seed": 0, "arch_kwargs": {"widths": [784, 10, 10]},
           "output": "linear"}
    assert key == old  # the key of a default-field config is exactly the pre-regularizer key
    k2 = cache_key(TrainConfig(arch="cl_mlp", dataset="mnist", epochs=3, loss="mse", output="linear",
                               arch_kwargs={"widths": [784, 10, 10]}, dropout=0.02))
    assert k2["dropout"] == 0.02 and "dropout_layer" not in k2  # at its default "act1"
    k3 = cache_key(TrainConfig(arch="cl_mlp", dataset="mnist", epochs=3, continuity=(1e-4, 1e-2)))
    assert k3["continuity"] == (1e-4, 1e-2) and "var_reg" not in k3


def test_bad_regularizer_settings_rejected():
    from ftlib.errors import ParameterError

    with pytest.raises(ParameterError, match="dropout"):
        TrainConfig(arch="cl_mlp", dataset="mnist", epochs=1, dropout=1.0)
    with pytest.raises(ParameterError, match="continuity"):
        TrainConfig(arch="cl_mlp", dataset="mnist", epochs=1, continuity=(1.0,))


def test_dropout_at_train_is_unscaled_and_only_on_the_named_layer():
    from ftlib.training import _dropout_session

    torch.manual_seed(0)
    net = build("cl_mlp", widths=[5, 400, 7, 2])
    cfg = TrainConfig(arch="cl_mlp", dataset="mnist", epochs=1, dropout=0.3, dropout_layer="act1")
    sess = _dropout_session(net, cfg)
    x = torch.randn(64, 5)
    seen = {}
    with torch.no_grad():
        clean1 = net.act1(net.fc1(x))
    sess.apply(0.3, torch.Generator().manual_seed(1))
    hooks = [getattr(net, n).register_forward_hook(lambda m, a, o, n=n: seen.__setitem__(n, o.detach().clone()))
             for n in ("act1", "act2")]  # registered after the fault's hook: they see the faulty outputs
    try:
        net(x)
    finally:
        sess.reset()
    for h in hooks:
        h.remove()
    dropped = seen["act1"]
    zero = dropped == 0
    assert abs(float(zero.double().mean()) - 0.3) < 0.02  # fraction crashed ≈ p
    # survivors keep their exact value: no 1/(1 − p) rescaling
    assert torch.equal(dropped[~zero], clean1[~zero])
    # act2 is never zeroed by the fault (sigmoid outputs are > 0)
    assert bool((seen["act2"] > 0).all())
    sess.close()


def test_train_with_dropout_and_regularizers_runs_and_caches(tmp_path, monkeypatch):
    from ftlib.store import Store
    from ftlib.training import train

    monkeypatch.setenv("FTLIB_QUIET", "1")
    store = Store(tmp_path)
    cfg = TrainConfig(arch="cl_mlp", dataset="mnist", epochs=1, batch_size=100, n_train=300, loss="mse",
                      output="linear", dropout=0.05, var_reg=1e-3, continuity=(1e-4, 1e-2), balance=1e-6,
                      arch_kwargs={"widths": [784, 20, 10, 10], "flatten": True})
    t = train(cfg, store)
    assert not t.from_cache and math.isfinite(t.history[0]["regularizer"])
    t2 = train(cfg, store)
    assert t2.from_cache
    for a, b in zip(t.model.parameters(), t2.model.parameters()):
        assert torch.equal(a, b)


def test_variance_term_on_the_original_scale():
    """The original's term (first-order Var Δ averaged over the batch and the output units) is ours · p / n_L,
    so one penalty weight is λ_original = λ_ours · n_L / p (issue 17: ×1000 for 10 outputs at p = 0.01)."""
    net = _net()
    x = torch.randn(7, 6, dtype=torch.float64)
    p = 0.01
    b3 = theory.first_order(net, x, p, var_factor="p")
    orig = R.variance_penalty_original(net, x, p)
    assert orig.item() == pytest.approx(float(b3.var.mean()), rel=1e-9)
    ours = R.variance_penalty(net, x).item()
    assert ours / orig.item() == pytest.approx(3 / p, rel=1e-9)  # n_L = 3 outputs
    assert R.lambda_on_original_scale(1e-9, 10, 0.01) == pytest.approx(1e-6)


def test_balance_penalty_squared_is_the_originals():
    net = _net()
    with torch.no_grad():
        net.fc1.weight.fill_(0.5)
        net.fc2.weight.fill_(-0.2)
        net.fc1.weight[0].mul_(4)
    assert R.balance_penalty(net, squared=True).item() == pytest.approx(16.0 + 1.0)
