"""Algorithm 1 (ftlib.theory.certify) and the empirical check of its certificate."""

from __future__ import annotations

import math

import pytest
import torch

from ftlib import theory
from ftlib.models import build
from ftlib.theory.certify import chebyshev_mean, loss_moments, number_of_changes


def _random_net(widths, seed):
    torch.manual_seed(seed)
    return build("cl_mlp", widths=list(widths)).eval()


def test_repetitions_and_resolution():
    assert theory.repetitions(1e-5) == 21  # 2 ln(1e5) / ln 3 = 20.96 (the paper reports R = 20)
    assert (1 / 3) ** (theory.repetitions(1e-5) / 2) <= 1e-5
    assert theory.clopper_pearson_upper(0, 30_000) == pytest.approx(1e-4, rel=0.01)  # the "rule of three"
    assert theory.clopper_pearson_upper(5, 100) > 0.05


def test_number_of_changes():
    w = torch.linspace(0, 1, 50).unsqueeze(1) * torch.randn(1, 7)  # monotone profile per input: one change
    assert number_of_changes(w) == pytest.approx(1.0)
    zigzag = torch.tensor([0.0, 1.0] * 10).unsqueeze(1).repeat(1, 3)
    assert number_of_changes(zigzag) == pytest.approx(19.0)


def test_certificate_holds_empirically_on_a_small_network():
    """The certificate's promise, measured: with R median copies, the frequency of a loss increase ≥ ε is
    ≤ δ_target. Resolution: n = inputs × trials = 8000 sets of R copies, so a true failure probability above
    3/n = 3.75e-4 would show up with 95 % probability; δ_target = 1e-3 is above that. Can fail (the
    first-order moments are an approximation)."""
    net = _random_net([10, 400, 3], seed=3)
    x = torch.randn(20, 10, generator=torch.Generator().manual_seed(4))
    y = torch.randint(0, 3, (20,), generator=torch.Generator().manual_seed(5))
    p, delta_target = 0.01, 1e-3
    mean, var = loss_moments(net, x, y, p, "act1")
    eps = float((mean + (var / 0.25).sqrt()).max())  # every input's Chebyshev bound ≤ 0.25 < 1/3
    delta = chebyshev_mean(eps, mean, var)
    assert delta <= 0.25 + 1e-9
    R = theory.repetitions(delta_target)
    res = theory.check_certificate(net, x, y, p, eps, R, layer="act1", trials=400, seed=1)
    assert res["n"] == 8000 and res["upper95"] < 4e-4
    assert res["single_frequency"] <= delta  # Proposition 5 for one copy
    assert res["frequency"] <= delta_target  # the median of R copies


def test_median_beats_one_copy():
    net = _random_net([10, 200, 3], seed=6)
    x = torch.randn(10, 10, generator=torch.Generator().manual_seed(7))
    y = torch.randint(0, 3, (10,), generator=torch.Generator().manual_seed(8))
    mean, var = loss_moments(net, x, y, 0.05, "act1")
    eps = float(mean.mean() + var.sqrt().mean())
    res = theory.check_certificate(net, x, y, 0.05, eps, 9, trials=200, seed=2)
    assert res["frequency"] < res["single_frequency"]


def test_certify_loop_trace_and_decisions():
    """A fake trainer: random networks whose first layer becomes smooth (every neuron gets the first
    neuron's incoming weights: no change along the neurons, q = 1) once ψ is large enough. The loop must raise ψ, then stop with a certificate."""
    calls = []

    def train_network(n1, lam, mu, psi):
        calls.append((n1, lam, mu, psi))
        net = _random_net([10, n1, 3], seed=n1)
        if psi[0] >= 1e-6:
            with torch.no_grad():
                net.fc1.weight.copy_(net.fc1.weight[:1].expand_as(net.fc1.weight))
        return net

    x = torch.randn(8, 10, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 3, (8,), generator=torch.Generator().manual_seed(2))
    out = theory.certify(train_network, x, y, p=0.01, eps=5.0, delta=1e-5, n1=200, n_step=100, psi=(1e-8, 1e-6),
                         max_changes=10.0, mc_draws=50)
    tr = out.trace
    assert list(tr.stage) == ["continuity", "continuity", "Chebyshev (Prop. 5)"]
    assert tr.decision.iloc[0].endswith("raise ψ") and "done" in tr.decision.iloc[-1]
    c = out.certificate
    assert c.feasible and c.R == 21 and c.n1 == 200 and c.psi == pytest.approx((1e-6, 1e-4))
    assert c.psi == (1e-6, 1e-4)  # exactly: every raise is rounded to 12 significant digits (no 9.999e-07)
    assert c.delta <= 1 / 3 and math.isfinite(c.var)
    for col in ("q", "delta0", "mean", "var", "delta", "decision", "mc_fail", "mc_var", "theory_var"):
        assert col in tr.columns


def test_certify_raises_width_when_chebyshev_fails():
    def train_network(n1, lam, mu, psi):
        net = _random_net([10, n1, 3], seed=0)
        with torch.no_grad():
            net.fc1.weight.copy_(net.fc1.weight[:1].expand_as(net.fc1.weight))
        return net

    x = torch.randn(8, 10, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 3, (8,), generator=torch.Generator().manual_seed(2))
    out = theory.certify(train_network, x, y, p=0.01, eps=1e-9, delta=1e-3, n1=100, n_step=50, lam=1e-8, max_iter=3)
    tr = out.trace
    assert len(tr) in (1, 3)
    if len(tr) == 3:  # δ > 1/3 at a tiny ε: n₁ and λ grow each time
        assert list(tr.n1) == [100, 150, 200] and tr["lambda"].iloc[2] == pytest.approx(1e-6)
    assert not out.certificate.feasible
