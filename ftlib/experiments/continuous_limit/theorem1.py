"""continuous_limit, Theorem 1 and supplement Fig 11 (notebook ``continuous_limit/theorem1``).

CL-T1: Theorem 1's first-order mean and variance of the crash error Δ (b3,
:func:`ftlib.theory.first_order`) and the exact single-crash estimate b4
(:func:`ftlib.theory.single_crash`) against Monte Carlo on random sigmoid
networks of growing width. CL-SUP: the error superposition of Additional
Proposition 7, Δ_{a∪b} ≈ Δ_a + Δ_b for disjoint sets of crashing layers.

The notebook calls :func:`theorem1_table`, :func:`plot_relative_error`,
:func:`superposition`, :func:`plot_superposition` and :func:`compare`.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import torch

from ... import theory
from ...params import Param, Section, Settings
from ._config import COMMON_PARAMS, random_network


def theorem1_table(s: Settings) -> pd.DataFrame:
    """b3 and b4 against Monte Carlo on random sigmoid networks of growing width.

    Per network: the median over inputs and output units of the relative error of
    E Δ and Var Δ, and of Monte Carlo's own 95 % half-width (its noise level).
    """
    rows = []
    gen = torch.Generator().manual_seed(s.seed)
    for k, widths in enumerate(s.t1_widths):
        widths = list(widths)
        net = random_network(widths, "sigmoid", s.seed + k)
        x = torch.randn(s.n_inputs, widths[0], generator=gen)
        import time

        t0 = time.perf_counter()
        b3 = theory.first_order(net, x, s.p)
        t_b3 = time.perf_counter() - t0
        t0 = time.perf_counter()
        b4 = theory.single_crash(net, x, s.p)
        t_b4 = time.perf_counter() - t0
        mc = theory.monte_carlo(net, x, s.p, draws=s.draws, seed=s.seed + 100 + k)
        row = {"widths": "-".join(map(str, widths)), "hidden_neurons": sum(widths[1:-1])}
        for name, m in (("b3", b3), ("b4", b4)):
            row[f"{name}_mean_relerr"] = float(np.median(theory.relative_error(m.mean, mc.mean)))
            row[f"{name}_var_relerr"] = float(np.median(theory.relative_error(m.var, mc.var)))
        row["mc_mean_ci_rel"] = float(torch.median(mc.mean_ci / mc.mean.abs()))
        row["mc_var_ci_rel"] = float(torch.median(mc.var_ci / mc.var))
        row.update(b3_seconds=t_b3, b4_seconds=t_b4, mc_seconds=mc.seconds, draws=s.draws)
        rows.append(row)
    return pd.DataFrame(rows)


def superposition(s: Settings) -> pd.DataFrame:
    """Supplement Fig 11: relative error ‖Δ_{a∪b} − Δ_a − Δ_b‖ / ‖Δ_{a∪b}‖ of the Monte Carlo mean and variance
    for ``s.sup_pairs`` random pairs of disjoint non-empty subsets of the crashing layers of a random network
    with L = 4 layers (crash points: the input and the three hidden layers). One input, ``5 · s.draws`` draws
    per subset (the relative error of a sum is noisier than its parts)."""
    widths = list(s.sup_widths)
    net = random_network(widths, "sigmoid", s.seed + 50)
    x = torch.randn(1, widths[0], generator=torch.Generator().manual_seed(s.seed + 51))
    points = theory.crash_layers(net, include_input=True)
    pairs = []
    for a_size in range(1, len(points)):
        for a in itertools.combinations(points, a_size):
            rest = [q for q in points if q not in a]
            for b_size in range(1, len(rest) + 1):
                for b in itertools.combinations(rest, b_size):
                    if a < b:
                        pairs.append((a, b))
    rng = np.random.default_rng(s.seed)
    chosen = [pairs[i] for i in rng.choice(len(pairs), size=min(s.sup_pairs, len(pairs)), replace=False)]
    cache: dict[tuple, theory.MonteCarlo] = {}

    def mc(subset):
        key = tuple(sorted(subset, key=points.index))
        if key not in cache:
            cache[key] = theory.monte_carlo(net, x, s.p, layers=list(key), draws=5 * s.draws,
                                            seed=s.seed + 1000 + len(cache))
        return cache[key]

    rows = []
    for a, b in chosen:
        ab, ma, mb = mc(a + b), mc(a), mc(b)
        rows.append({"a": "+".join(a), "b": "+".join(b),
                     "mean_relerr": float((ab.mean - ma.mean - mb.mean).norm() / ab.mean.norm()),
                     "var_relerr": float((ab.var - ma.var - mb.var).norm() / ab.var.norm()),
                     "mc_mean_noise": float((ab.mean_ci ** 2 + ma.mean_ci ** 2 + mb.mean_ci ** 2).sqrt().norm()
                                            / 1.96 / ab.mean.norm()),
                     "mc_var_noise": float((ab.var_ci ** 2 + ma.var_ci ** 2 + mb.var_ci ** 2).sqrt().norm()
                                           / 1.96 / ab.var.norm())})
    return pd.DataFrame(rows)


def plot_relative_error(t1: pd.DataFrame):
    """Median relative error of b3 and b4 (E Δ and Var Δ) per network of :func:`theorem1_table`, log scale,
    with Monte Carlo's own 95 % half-width for Var Δ (its noise floor)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    xs = np.arange(len(t1))
    for j, (col, label) in enumerate([("b3_var_relerr", "b3 Var"), ("b4_var_relerr", "b4 Var"),
                                      ("b3_mean_relerr", "b3 mean"), ("b4_mean_relerr", "b4 mean")]):
        ax.bar(xs + 0.2 * (j - 1.5), t1[col], width=0.2, label=label)
    ax.plot(xs, t1.mc_var_ci_rel, "k_", ms=18, label="MC noise (Var)")
    ax.set_xticks(xs, t1.widths, fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("median relative error")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def plot_superposition(sup: pd.DataFrame):
    """Histogram (%) of the superposition errors of the mean and of the variance over the layer pairs of
    :func:`superposition`."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.hist([100 * sup.mean_relerr, 100 * sup.var_relerr], bins=12, label=["mean", "variance"])
    ax.set_xlabel("relative error of superposition (%)")
    ax.set_ylabel("subset pairs")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def compare(report, t1: pd.DataFrame, sup: pd.DataFrame) -> None:
    """CL-T1 and CL-SUP by their declared claims (:mod:`ftlib.claims`): on the widest network, b3's median
    relative error of Var Δ within 10 % (TOST, the Monte Carlo noise as its standard error,
    ``CL-T1:b3_var``); the median superposition error of the mean and of the variance within 5 % (the median
    Monte Carlo noise, ``CL-SUP:mean``, ``CL-SUP:variance``). Detail rows (point estimates): b3's error
    shrinks with the width, b4 is at least as accurate as b3 for E Δ."""
    widest = t1.iloc[-1]
    report.check("CL-T1:b3_var", 0.0, float(widest.b3_var_relerr),
                 note=f"{widest.widths}; MC noise (95 % half-width) {100 * widest.mc_var_ci_rel:.1f} %",
                 estimate=float(widest.b3_var_relerr), se=float(widest.mc_var_ci_rel) / 1.96)
    report.qualitative("CL-T1", "b3's Var Δ error shrinks from the smallest to the widest network",
                       "T1 remainder O(r³), r = p + 1/n", f"{100 * t1.b3_var_relerr.iloc[0]:.1f} % → "
                       f"{100 * widest.b3_var_relerr:.1f} %", bool(widest.b3_var_relerr < t1.b3_var_relerr.iloc[0]),
                       headline=False, rule="detail: point estimates")
    report.qualitative("CL-T1", "b4 (exact single crashes) is at least as accurate as b3 for E Δ",
                       "b4 ≥ b3", "; ".join(f"{r.widths}: {100 * r.b4_mean_relerr:.1f} vs {100 * r.b3_mean_relerr:.1f} %"
                                            for r in t1.itertuples()),
                       bool((t1.b4_mean_relerr <= t1.b3_mean_relerr * 1.05).all()), headline=False,
                       rule="detail: point estimates without the Monte Carlo noise")
    for q, col, noise in (("mean", "mean_relerr", "mc_mean_noise"), ("variance", "var_relerr", "mc_var_noise")):
        report.check(f"CL-SUP:{q}", 0.0, float(sup[col].median()),
                     note=f"median over {len(sup)} layer pairs; MC noise (s.e.) {100 * sup[noise].median():.1f} %",
                     estimate=float(sup[col].median()), se=float(sup[noise].median()))


SECTION = Section(
    key="continuous_limit/theorem1",
    title="continuous_limit, Theorem 1: first-order mean and variance vs Monte Carlo, and superposition",
    ids=("CL-T1", "CL-SUP"),
    params=COMMON_PARAMS + (
        Param("t1_widths", list, "layer widths of each random network", item=list, inner=int, low=1,
              high=100_000),
        Param("sup_widths", list, "layer widths of the superposition network (4 layers)", item=int, low=1,
              high=100_000),
        Param("sup_pairs", int, "pairs of disjoint layer subsets", low=1, high=1000),
    ),
    profiles={
        "smoke": dict(p=0.01, draws=200, n_inputs=4, t1_widths=[[10, 10, 10, 1], [20, 50, 50, 1]],
                      sup_widths=[10, 10, 10, 10, 1], sup_pairs=5),
        "quick": dict(p=0.01, draws=20_000, n_inputs=20,
                      t1_widths=[[10, 10, 10, 1], [20, 50, 50, 1], [100, 200, 200, 3], [784, 2000, 100, 10]],
                      sup_widths=[20, 30, 30, 30, 1], sup_pairs=25),
        "paper": dict(p=0.01, draws=200_000, n_inputs=100,
                      t1_widths=[[10, 10, 10, 1], [20, 50, 50, 1], [100, 200, 200, 3], [784, 2000, 100, 10]],
                      sup_widths=[20, 30, 30, 30, 1], sup_pairs=25),
    },
)
