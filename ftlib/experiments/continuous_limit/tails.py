"""continuous_limit, Propositions 3 and 5 and the median trick (notebook ``continuous_limit/tails``).

CL-P3: Proposition 3's KL (Chernoff) tail bound on the crashed fraction of a
layer's incoming weight mass, on the first layer of the widest MNIST network of
Figure 2. CL-P5: Proposition 5's Chebyshev (ε, δ) guarantee with Theorem 1's
moments against the empirical tail of Δ of a Boston network. CL-MT: the failure
probability of the median of R copies against the binomial bound and against
the mean of R copies. These are bounds that hold for any network: their rows
check the code (the ids read "implemented", :mod:`ftlib.claims`).

The notebook calls :func:`kl_table`, :func:`tail_samples`, :func:`chebyshev_table`,
:func:`median_table`, :func:`plot_tails` and :func:`compare`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ... import theory
from ...params import Param, Section, Settings
from ...store import Store
from ...training import train
from ._config import BOSTON_PARAMS, COMMON_PARAMS, MNIST_PARAMS, boston_inputs, boston_networks, mnist_config


def kl_table(s: Settings, store: Store | None = None) -> pd.DataFrame:
    """Proposition 3 on the first layer of the widest MNIST network: bound vs frequency of ‖U‖₁ ≥ α‖W‖₁."""
    n = max(s.widths)
    net = train(mnist_config(s, n), store).model
    w = theory.incoming_weight_mass(net.fc1.weight)
    q = theory.balance(w)
    frac = theory.crash_probability_draws(w, s.p, draws=s.draws * 10, seed=s.seed)
    rows = []
    for mult in (1.5, 2.0, 3.0, 4.0):
        alpha = mult * s.p
        rows.append({"alpha": alpha, "n": n, "q": q, "empirical": float((frac >= alpha).double().mean()),
                     "bound": theory.kl_tail_bound(n, q, alpha, s.p),
                     "bound_q1": theory.kl_tail_bound(n, 1.0, alpha, s.p)})
    return pd.DataFrame(rows)


def tail_samples(s: Settings, store: Store | None = None):
    """Δ samples of the first Boston network at one test input (crashes at the input and hidden layers)."""
    net = boston_networks(s, store)[0].model
    x = boston_inputs(1, s.seed + 3)
    layers = ["input", *[f"act{i + 1}" for i in range(len(s.boston_hidden))]]
    mc = theory.monte_carlo(net, x, s.p_tail, layers=layers, draws=s.draws * 10, seed=s.seed + 5, keep_samples=True)
    b3 = theory.first_order(net, x, s.p_tail, layers=layers)
    return mc, b3


def chebyshev_table(mc, b3) -> pd.DataFrame:
    """Proposition 5 at thresholds ε = E Δ + t·std Δ: the empirical P{Δ ≥ ε} of :func:`tail_samples`' Monte
    Carlo samples (``mc.samples``, shape ``(draws, 1, 1)``) and Chebyshev's bound with b3's and with Monte
    Carlo's moments."""
    d = mc.samples[:, 0, 0].double()
    sd = math.sqrt(mc.var.item())
    rows = []
    for k in (1.0, 1.5, 2.0, 3.0, 4.0, 6.0):
        eps = mc.mean.item() + k * sd
        rows.append({"eps": eps, "t_in_sd": k, "empirical": float((d >= eps).double().mean()),
                     "chebyshev_b3": theory.chebyshev_delta(eps, b3.mean.item(), b3.var.item()),
                     "chebyshev_mc": theory.chebyshev_delta(eps, mc.mean.item(), mc.var.item())})
    return pd.DataFrame(rows)


def median_table(mc, s: Settings) -> pd.DataFrame:
    """Median vs mean of R copies: failure = |Δ| ≥ ε, ε chosen so that one copy fails w.p. ≈ 0.2 (< 1/3)."""
    d = mc.samples[:, 0, 0].double()
    eps = float(d.abs().quantile(0.8))
    delta1 = float((d.abs() >= eps).double().mean())
    rows = []
    for R in (1, 3, 5, 7, 9, 15, 21):
        med = theory.median_of(d, R, trials=s.draws * 4, seed=s.seed)
        mean = theory.median_of(d, R, trials=s.draws * 4, seed=s.seed, aggregate="mean")
        b = theory.median_bound(delta1, R)
        rows.append({"R": R, "eps": eps, "delta1": delta1, "median_fail": float((med.abs() >= eps).double().mean()),
                     "mean_fail": float((mean.abs() >= eps).double().mean()), "binomial_bound": b["exact"],
                     "chernoff_bound": b["chernoff"]})
    return pd.DataFrame(rows)


def plot_tails(cheb: pd.DataFrame, med: pd.DataFrame):
    """Left: :func:`chebyshev_table`'s bounds against the empirical tail; right: :func:`median_table`'s
    failure probabilities of the median and of the mean of R copies with the binomial and Chernoff bounds
    (values below 1e-6 drawn at 1e-6)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    ax = axes[0]
    ax.semilogy(cheb.t_in_sd, cheb.chebyshev_b3, "o-", label="Chebyshev, b3 moments")
    ax.semilogy(cheb.t_in_sd, cheb.chebyshev_mc, "x--", label="Chebyshev, MC moments")
    ax.semilogy(cheb.t_in_sd, cheb.empirical.clip(lower=1e-6), "s", label="empirical P{Δ ≥ ε}")
    ax.set_xlabel("(ε − E Δ) / std Δ")
    ax.set_ylabel("probability")
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.semilogy(med.R, med.median_fail.clip(lower=1e-6), "o-", label="median of R copies")
    ax.semilogy(med.R, med.mean_fail.clip(lower=1e-6), "s-", label="mean of R copies")
    ax.semilogy(med.R, med.binomial_bound, "k--", label="binomial bound")
    ax.semilogy(med.R, med.chernoff_bound, "k:", label="(4δ(1−δ))^{R/2}")
    ax.set_xlabel("copies R")
    ax.set_ylabel("P{|aggregate Δ| ≥ ε}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def median_decay(med: pd.DataFrame) -> float:
    """The fitted log-rate (per copy) of the median's failure probability over the R of :func:`median_table`
    where it is positive: slope of ln(median_fail) on R (NaN with fewer than two such R)."""
    ok = med[med.median_fail > 0]
    return float(np.polyfit(ok.R, np.log(ok.median_fail), 1)[0]) if len(ok) >= 2 else float("nan")


def compare(report, s: Settings, kl: pd.DataFrame, cheb: pd.DataFrame, med: pd.DataFrame) -> None:
    """CL-P3, CL-P5 and CL-MT: "computed" rows (the ids read implemented, :mod:`ftlib.claims`) and detail rows
    that check the code: the KL bound above the empirical frequency for every α, Chebyshev with b3's moments
    above the empirical tail, the median's failure probability decaying (:func:`median_decay` < 0) within the
    binomial bound (with a slack of 3/√(4 · draws), for the ``4 · draws`` resampled trials), and the median
    no worse than the mean at the largest R (point estimate)."""
    report.check("CL-P3:kl", "computed", f"{len(kl)} values of α")
    report.qualitative("CL-P3", "the KL bound is above the empirical frequency for every α",
                       "bound ≥ empirical", "; ".join(f"α={r.alpha:g}: {r.bound:.3g} ≥ {r.empirical:.3g}"
                                                      for r in kl.itertuples()),
                       bool((kl.bound >= kl.empirical).all()), headline=False,
                       rule="detail: a Chernoff bound holds for any weights (checks the code)",
                       note=f"q = {kl.q.iloc[0]:.3f}, n = {kl.n.iloc[0]}")
    report.check("CL-P5:chebyshev", "computed", f"{len(cheb)} thresholds")
    report.qualitative("CL-P5", "Chebyshev with Theorem 1's moments is above the empirical tail",
                       "bound ≥ empirical", "; ".join(f"{r.t_in_sd:g} sd: {r.chebyshev_b3:.3g} ≥ {r.empirical:.3g}"
                                                      for r in cheb.itertuples()),
                       bool((cheb.chebyshev_b3 >= cheb.empirical).all()), headline=False,
                       rule="detail: true of any network (Chebyshev's inequality), shown, not counted")
    decay = median_decay(med)
    report.check("CL-MT:median", "computed", f"R up to {med.R.iloc[-1]}")
    report.qualitative("CL-MT", "the median of R copies fails with exponentially decaying probability, within the "
                       "binomial bound", "δ·exp(−R)-style decay",
                       f"δ₁ = {med.delta1.iloc[0]:.2f}; R = {med.R.iloc[-1]}: {med.median_fail.iloc[-1]:.2g} "
                       f"(bound {med.binomial_bound.iloc[-1]:.2g}); fitted log-rate {decay:.2f} per copy",
                       bool(decay < 0 and (med.median_fail <= med.binomial_bound + 3 / np.sqrt(4 * s.draws)).all()),
                       headline=False, rule="detail: order statistics of resamples (true of any network)")
    report.qualitative("CL-MT", "median aggregation needs no more copies than mean aggregation",
                       "median better than mean", f"at R = {med.R.iloc[-1]}: median {med.median_fail.iloc[-1]:.2g}, "
                       f"mean {med.mean_fail.iloc[-1]:.2g}",
                       bool(med.median_fail.iloc[-1] <= med.mean_fail.iloc[-1]), headline=False,
                       rule="detail: point estimate at the largest R")


SECTION = Section(
    key="continuous_limit/tails",
    title="continuous_limit, Propositions 3 and 5 and the median trick against empirical frequencies",
    ids=("CL-P3", "CL-P5", "CL-MT"),
    params=COMMON_PARAMS + BOSTON_PARAMS + MNIST_PARAMS + (
        Param("p_tail", float, "crash probability for the Chebyshev and median experiments", low=1e-6, high=0.5),
    ),
    profiles={
        "smoke": dict(p=0.01, p_tail=0.05, draws=200, n_inputs=3, n_networks=2, boston_hidden=[25, 25],
                      boston_epochs=2, lr=1e-2, widths=[20, 40], mnist_epochs=1, n_train=500, n_test=50),
        "quick": dict(p=0.01, p_tail=0.05, draws=5000, n_inputs=10, n_networks=8, boston_hidden=[25, 25],
                      boston_epochs=100, lr=1e-2, widths=[25, 50, 100, 200, 400, 800], mnist_epochs=3,
                      n_train=20_000, n_test=1000),
        "paper": dict(p=0.01, p_tail=0.05, draws=50_000, n_inputs=100, n_networks=30, boston_hidden=[25, 25],
                      boston_epochs=500, lr=1e-2, widths=[25, 50, 100, 200, 400, 800, 1600], mnist_epochs=20,
                      n_train=0, n_test=10_000),
    },
)
