"""continuous_limit, supplement Sec. 7.1-7.2 and Proposition 2 (notebook ``continuous_limit/bounds``).

CL-B (supplement Figs 5 and 6): the four predictions of the crash error —
b1, the spectral bound of Proposition 2 (:func:`ftlib.theory.spectral`); b2, the
absolute-value bound of Additional Proposition 2 (:func:`ftlib.theory.absolute`);
b3, Theorem 1's first order; b4, the exact single crashes — against Monte Carlo,
by rank loss and median relative error of |E Δ| and std Δ, on Boston-trained
sigmoid networks and random ReLU networks. CL-P2: b1's looseness against depth.

The notebook calls :func:`bounds_comparison`, :func:`bounds_table`, :func:`plot_bounds`,
:func:`spectral_vs_depth` and :func:`compare`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from ... import theory
from ...params import Param, Section, Settings
from ...store import Store
from ._config import BOSTON_PARAMS, COMMON_PARAMS, boston_inputs, boston_networks, random_network


BOUNDS = {"b1": theory.spectral, "b2": theory.absolute, "b3": theory.first_order, "b4": theory.single_crash}


def _panel(pred: dict, truth: theory.MonteCarlo, draws: int | None = None) -> list[dict]:
    """Rank loss and median relative error of |E Δ| and std Δ, per bound (scalar-output networks), and
    ``mc_rel_se``: the Monte Carlo relative standard error of the truth over ``draws`` crash sets (median over
    the cases; |E Δ|: std/(√draws·|E Δ|), std Δ: 1/√(2(draws − 1)), the normal approximation)."""
    rows = []
    t_mean, t_std = truth.mean.abs().flatten().numpy(), truth.std.flatten().numpy()
    if draws:
        with np.errstate(divide="ignore", invalid="ignore"):
            se_mean = float(np.median(t_std / math.sqrt(draws) / t_mean))
        se_std = 1.0 / math.sqrt(2 * max(draws - 1, 1))
    else:
        se_mean = se_std = float("nan")
    for name, m in pred.items():
        p_mean, p_std = m.mean.abs().flatten().numpy(), m.std.flatten().numpy()
        rows.append({"bound": name, "quantity": "mean", "rank_loss": theory.rank_loss(p_mean, t_mean),
                     "rel_error": float(np.median(theory.relative_error(p_mean, t_mean))), "mc_rel_se": se_mean})
        rows.append({"bound": name, "quantity": "std", "rank_loss": theory.rank_loss(p_std, t_std),
                     "rel_error": float(np.median(theory.relative_error(p_std, t_std))), "mc_rel_se": se_std})
    return rows


def _bounds(net, x, p, layers):
    return {name: fn(net, x, p, layers=layers) for name, fn in BOUNDS.items()}


def _stack(ms: list) -> theory.Moments:
    return theory.Moments(torch.cat([m.mean for m in ms]), torch.cat([m.var for m in ms]))


def bounds_comparison(s: Settings, store: Store | None = None) -> pd.DataFrame:
    """Supplement Figs 5 and 6: b1–b4 against Monte Carlo, on Boston-trained sigmoid networks and on random
    ReLU networks; 'inputs' = many inputs on one network, 'networks' = one input on many networks."""
    rows = []
    layers_b = ["input", *[f"act{i + 1}" for i in range(len(s.boston_hidden))]]
    nets = [t.model for t in boston_networks(s, store)]
    x = boston_inputs(s.n_inputs, s.seed)
    setups = [("Boston sigmoid", "inputs", [nets[0]], x, layers_b),
              ("Boston sigmoid", "networks", nets, x[:1], layers_b)]
    rw = [10, *s.random_hidden, 1]
    layers_r = ["input", *[f"act{i + 1}" for i in range(len(s.random_hidden))]]
    rnets = [random_network(rw, "relu", s.seed + 200 + k) for k in range(s.n_networks)]
    xr = torch.randn(s.n_inputs, 10, generator=torch.Generator().manual_seed(s.seed + 7))
    setups += [("random ReLU", "inputs", rnets[:1], xr, layers_r), ("random ReLU", "networks", rnets, xr[:1], layers_r)]
    for family, vary, ns, xs, layers in setups:
        preds = {name: [] for name in BOUNDS}
        truths = []
        for k, net in enumerate(ns):
            for name, m in _bounds(net, xs, s.p, layers).items():
                preds[name].append(m)
            truths.append(theory.monte_carlo(net, xs, s.p, layers=layers, draws=s.draws, seed=s.seed + 300 + k))
        truth = theory.MonteCarlo(torch.cat([t.mean for t in truths]), torch.cat([t.var for t in truths]))
        for r in _panel({n: _stack(v) for n, v in preds.items()}, truth, s.draws):
            rows.append({"networks": family, "varying": vary, **r})
    return pd.DataFrame(rows)


def bounds_table(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`bounds_comparison` as one row per panel (networks, varying, quantity) and one column per
    (metric, bound)."""
    return df.pivot_table(index=["networks", "varying", "quantity"], columns="bound", values=["rank_loss", "rel_error"])


def spectral_vs_depth(s: Settings) -> pd.DataFrame:
    """Proposition 2's looseness: b1's bound on E‖Δ‖₂² over Monte Carlo's, random ReLU nets of growing depth
    (input crashes only)."""
    rows = []
    x = torch.randn(s.n_inputs, 10, generator=torch.Generator().manual_seed(s.seed + 9))
    for depth in range(1, 6):
        ratios = []
        for k in range(3):
            net = random_network([10] + [20] * depth + [1], "relu", s.seed + 400 + 10 * depth + k)
            b1 = theory.spectral(net, x, s.p, layers=["input"])
            mc = theory.monte_carlo(net, x, s.p, layers=["input"], draws=s.draws // 2, seed=s.seed + 500 + depth)
            ratios.append(float((b1.var[:, 0] / (mc.var + mc.mean ** 2).sum(1)).median()))
        rows.append({"hidden_layers": depth, "b1_over_experiment": float(np.median(ratios))})
    return pd.DataFrame(rows)


def p_relative_error(df: pd.DataFrame, below: bool) -> float:
    """CL-B's "meaningful" tests: the intersection-union p-value that every panel's median relative error in
    ``df`` is below 1 (``below``; above 1 otherwise), one-sided z tests with the Monte Carlo standard error of
    the relative error, (1 + rel_error)·``mc_rel_se`` (the truth's relative error carried into the ratio)."""
    from scipy import stats

    rel, se = df["rel_error"].to_numpy(float), (1 + df["rel_error"].to_numpy(float)) * df["mc_rel_se"].to_numpy(float)
    if not len(rel) or np.isnan(se).any():
        return float("nan")
    g = (1 - rel) if below else (rel - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(se > 0, stats.norm.sf(g / np.where(se > 0, se, 1)), np.where(g > 0, 0.0, 1.0))
    return float(p.max())


def rank_loss_gaps(df: pd.DataFrame) -> np.ndarray:
    """CL-B's ordering claim: rank loss (b1 or b2) − rank loss (b3 or b4) per panel, for the four pairs
    ``(4, panels)`` (the panels are the replicates of the paired test)."""
    rk = df.pivot_table(index=["networks", "varying", "quantity"], columns="bound", values="rank_loss")
    return np.stack([rk[lo] - rk[hi] for hi in ("b3", "b4") for lo in ("b1", "b2")]).astype(float)


def b4_b3_se(rel3, rel4, mc_rel_se):
    """Monte Carlo standard error of rel_error(b3) − rel_error(b4): both are measured against the same Monte
    Carlo truth, so its relative error ε moves them together and their difference by at most
    (rel3 + rel4)·ε."""
    return (np.asarray(rel3, dtype=float) + np.asarray(rel4, dtype=float)) * np.asarray(mc_rel_se, dtype=float)


def spectral_slope(depth: pd.DataFrame) -> tuple[float, float, int]:
    """CL-P2: least-squares slope of log10(b1 / experiment) on the number of hidden layers, its standard error
    and the degrees of freedom (:func:`scipy.stats.linregress`)."""
    from scipy import stats

    fit = stats.linregress(depth["hidden_layers"].to_numpy(float), np.log10(depth["b1_over_experiment"].to_numpy(float)))
    return float(fit.slope), float(fit.stderr), len(depth) - 2


def compare(report, df: pd.DataFrame, depth: pd.DataFrame) -> None:
    """CL-B and CL-P2 by their declared claims (:mod:`ftlib.claims`): b3/b4 below and b1/b2 above 100 %
    relative error in every panel with the Monte Carlo noise, b3/b4 ordering better than b1/b2 (paired over the
    panels), b4 at least as accurate as b3 (detail), and Proposition 2's looseness growing with depth."""
    from scipy import stats

    from ... import claims

    useful, useless = df[df.bound.isin(["b3", "b4"])], df[df.bound.isin(["b1", "b2"])]
    report.check("CL-B:b3_b4_meaningful", "only b3, b4 meaningful",
                 f"b3/b4 worst median relative error {100 * useful.rel_error.max():.0f} %",
                 p_value=p_relative_error(useful, True), summary=f"worst of {len(useful)} panel errors "
                 f"{100 * useful.rel_error.max():.0f} % < 100 % (Monte Carlo noise)")
    report.check("CL-B:b1_b2_not", "b1, b2 not meaningful",
                 f"b1/b2 best median relative error {100 * useless.rel_error.min():.0f} %",
                 p_value=p_relative_error(useless, False), summary=f"best of {len(useless)} panel errors "
                 f"{100 * useless.rel_error.min():.0f} % > 100 %")
    gaps = rank_loss_gaps(df)
    rk = df.groupby("bound")["rank_loss"].mean()
    report.check("CL-B:b3_b4_order_better", "yes", ", ".join(f"rank loss {b} {rk[b]:.2f}" for b in BOUNDS),
                 diff=gaps)
    piv = df.pivot_table(index=["networks", "varying", "quantity"], columns="bound", values=["rel_error", "mc_rel_se"])
    margin = claims.get("CL-B:b4_not_worse").tolerance
    d = piv["rel_error"]["b3"] - piv["rel_error"]["b4"] + margin
    se = b4_b3_se(piv["rel_error"]["b3"], piv["rel_error"]["b4"], piv["mc_rel_se"]["b3"])
    p = float(np.max(stats.norm.sf(d / se))) if len(d) and (se > 0).all() else float("nan")
    wins = int((piv["rel_error"]["b4"] <= piv["rel_error"]["b3"]).sum())
    report.check("CL-B:b4_not_worse", "b4 ≥ b3 always", f"b4 ≤ b3 in {wins} of {len(piv)} panels", p_value=p,
                 summary=f"b4's relative error within {margin:g} of b3's or better in every panel")
    slope, se_s, dof = spectral_slope(depth)
    p = float(stats.t.sf(slope / se_s, dof)) if se_s > 0 else (0.0 if slope > 0 else 1.0)
    report.check("CL-P2:grows_with_depth", "loose, exponential in depth",
                 f"b1 / experiment from {depth.b1_over_experiment.iloc[0]:.3g} (1 hidden layer) to "
                 f"{depth.b1_over_experiment.iloc[-1]:.3g} ({int(depth.hidden_layers.iloc[-1])}); ×{10 ** slope:.1f} per layer",
                 p_value=p, summary=f"slope of log10(b1 / experiment) {slope:+.3f} ± {se_s:.2g} per layer ({dof} d.o.f.)")
    report.check("CL-P2:loose", "loose", f"smallest b1 / experiment {depth.b1_over_experiment.min():.3g}")


def plot_bounds(df: pd.DataFrame):
    """Rank loss (left) and median relative error (right, log scale) of b1-b4 for |E Δ| (top) and std Δ
    (bottom), one bar group per panel of :func:`bounds_comparison`."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(8, 5.2))
    for col, metric in enumerate(("rank_loss", "rel_error")):
        for row, q in enumerate(("mean", "std")):
            ax = axes[row, col]
            d = df[df.quantity == q]
            labels = [f"{f.split()[0]}\n{v}" for f, v in d[["networks", "varying"]].drop_duplicates().values]
            for j, b in enumerate(BOUNDS):
                vals = d[d.bound == b][metric].to_numpy()
                ax.bar(np.arange(len(vals)) + 0.2 * (j - 1.5), vals, width=0.2, label=b)
            ax.set_xticks(range(len(labels)), labels, fontsize=7)
            if metric == "rel_error":
                ax.set_yscale("log")
                ax.axhline(1.0, color="grey", lw=0.7, ls="--")
            else:
                ax.axhline(0.5, color="grey", lw=0.7, ls="--")
            ax.set_title(f"{'rank loss' if metric == 'rank_loss' else 'median relative error'}: "
                         f"{'|E Δ|' if q == 'mean' else 'std Δ'}", fontsize=8)
    axes[0, 0].legend(fontsize=7, ncol=4)
    fig.tight_layout()
    return fig


SECTION = Section(
    key="continuous_limit/bounds",
    title="continuous_limit, supplement Sec. 7.1-7.2: the bounds b1-b4 on Boston-trained and random networks",
    ids=("CL-B", "CL-P2"),
    params=COMMON_PARAMS + BOSTON_PARAMS + (
        Param("random_hidden", list, "hidden widths of the random ReLU networks", item=int, low=1, high=10_000),
    ),
    profiles={
        "smoke": dict(p=0.01, draws=200, n_inputs=5, n_networks=3, boston_hidden=[25, 25], boston_epochs=2,
                      lr=1e-2, random_hidden=[10, 10]),
        "quick": dict(p=0.01, draws=20_000, n_inputs=30, n_networks=8, boston_hidden=[25, 25],
                      boston_epochs=100, lr=1e-2, random_hidden=[10, 10]),
        "paper": dict(p=0.01, draws=200_000, n_inputs=101, n_networks=30, boston_hidden=[25, 25],
                      boston_epochs=500, lr=1e-2, random_hidden=[10, 10]),
    },
)
