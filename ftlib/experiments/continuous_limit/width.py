"""continuous_limit, Figure 2 (notebook ``continuous_limit/width``).

CL-F2: Var Δ of the output under crashes of the hidden layer (probability p)
against the hidden width n of MNIST-trained 784-n-10 sigmoid networks; the
paper's Figure 2 shows Var Δ ∝ 1/n (log-log slope −1), the continuous limit.

The notebook calls :func:`width_sweep`, :func:`plot_width` and :func:`compare`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ... import theory
from ...data import load
from ...params import Section, Settings
from ...store import Store
from ...training import train
from ._config import COMMON_PARAMS, MNIST_PARAMS, mnist_config


DIGITS = 5
"""Decimals shown in the notebook's table (its variances and derivatives are small numbers)."""


def width_sweep(s: Settings, store: Store | None = None) -> pd.DataFrame:
    """Var Δ (crashes in the hidden layer, probability p) against the hidden width n of MNIST-trained
    784-n-10 sigmoid networks: b3 averaged over test inputs and output units, and Monte Carlo on a few inputs."""
    test = load("mnist", "test").subset(s.n_test, seed=s.seed)
    x = test.x
    rows = []
    for n in s.widths:
        t = train(mnist_config(s, n), store)
        net = t.model
        b3 = theory.first_order(net, x, s.p, layers=["act1"])
        mc = theory.monte_carlo(net, x[:s.n_inputs], s.p, layers=["act1"], draws=s.draws, seed=s.seed + n)
        with torch.no_grad():
            acc = float((net(x).argmax(1) == test.y).double().mean())
        rows.append({"width": n, "var_b3": float(b3.var.mean()), "var_b3_same_inputs": float(b3.var[:s.n_inputs].mean()),
                     "var_mc": float(mc.var.mean()), "var_mc_ci": float(mc.var_ci.mean()),
                     "mean_b3": float(b3.mean.mean()), "test_acc": acc,
                     "out_weight_l1": float(net.fc2.weight.detach().abs().sum(0).mean())})
    return pd.DataFrame(rows)


def plot_width(df: pd.DataFrame):
    """Var Δ (b3, and Monte Carlo with its 95 % half-width) against the width n of :func:`width_sweep`,
    log-log, with the paper's slope −1 for reference."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    ax.loglog(df.width, df.var_b3, "o-", label=f"b3 (slope {theory.loglog_slope(df.width, df.var_b3):.2f})")
    ax.errorbar(df.width, df.var_mc, yerr=df.var_mc_ci, fmt="s", label=f"Monte Carlo (slope "
                f"{theory.loglog_slope(df.width, df.var_mc):.2f})")
    ref = df.var_b3.iloc[0] * df.width.iloc[0] / df.width
    ax.loglog(df.width, ref, "--", color="grey", label="slope −1 (paper)")
    ax.set_xlabel("hidden width n")
    ax.set_ylabel("Var Δ")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def compare(report, w: pd.DataFrame) -> None:
    """CL-F2 by its declared claim ``CL-F2:slope``: an equivalence test (TOST) of the fitted log-log slope
    of b3's Var Δ against n with the paper's −1 (:mod:`ftlib.reference`), with the fit's standard error
    (t with n − 2 degrees of freedom over the widths); the Monte Carlo and outgoing-weight slopes in the note.
    Detail row (point estimates): Var Δ at the widest network is at most half its value at the narrowest."""
    from scipy import stats

    from ... import reference

    slope_b3 = theory.loglog_slope(w.width, w.var_b3)
    slope_mc = theory.loglog_slope(w.width, w.var_mc)
    slope_w = theory.loglog_slope(w.width, w.out_weight_l1)
    paper_slope = reference.get("CL-F2").values["loglog_slope"]
    fit = stats.linregress(np.log(w.width.to_numpy(float)), np.log(w.var_b3.to_numpy(float)))
    report.check("CL-F2:slope", paper_slope, slope_b3, claim="log-log slope of Var Δ (b3) against n",
                 note=f"Monte Carlo slope {slope_mc:.2f}; outgoing-weight slope {slope_w:.2f}; no continuity "
                      "or variance regularizer (the paper's Fig 2 uses both)",
                 estimate=slope_b3, se=float(fit.stderr) if len(w) > 2 else float("nan"), df=max(len(w) - 2, 1))
    report.qualitative("CL-F2", "Var Δ at the widest network is at most half its value at the narrowest",
                       "yes (as 1/n)",
                       f"{w.var_b3.iloc[0]:.3g} at n={w.width.iloc[0]} → {w.var_b3.iloc[-1]:.3g} at n={w.width.iloc[-1]}",
                       bool(w.var_b3.iloc[-1] <= 0.5 * w.var_b3.iloc[0]), headline=False, rule="detail: point estimates")


SECTION = Section(
    key="continuous_limit/width",
    title="continuous_limit, Fig 2: the variance of the error against the layer width",
    ids=("CL-F2",),
    params=COMMON_PARAMS + MNIST_PARAMS,
    profiles={
        "smoke": dict(p=0.01, draws=100, n_inputs=3, widths=[20, 40], mnist_epochs=1, n_train=500, n_test=50),
        "quick": dict(p=0.01, draws=5000, n_inputs=10, widths=[25, 50, 100, 200, 400, 800], mnist_epochs=3,
                      n_train=20_000, n_test=1000),
        "paper": dict(p=0.01, draws=50_000, n_inputs=100, widths=[25, 50, 100, 200, 400, 800, 1600],
                      mnist_epochs=20, n_train=0, n_test=10_000),
    },
)
