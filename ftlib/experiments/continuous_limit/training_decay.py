"""continuous_limit, Additional Proposition 9 and supplement Fig 12 (notebook ``continuous_limit/training_decay``).

CL-AP9: along one Boston training run, the mean loss change under crashes
E_x E_ξ Δ_{L+1} — Monte Carlo against b3, b4 and AP9's −p⟨∇_W L, W⟩
(:func:`ftlib.theory.loss_gradient_mean`) — and its decay with the loss gradient.

The notebook calls :func:`training_decay`, :func:`plot_decay` and :func:`compare`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ... import theory
from ...data import load
from ...params import Param, Section, Settings
from ...store import Store
from ...training import train
from ._config import BOSTON_PARAMS, COMMON_PARAMS, boston_config


def training_decay(s: Settings, store: Store | None = None) -> pd.DataFrame:
    """Supplement Fig 12: along one Boston training run, the loss, ‖∇_W L‖, and the mean loss change
    E_x E_ξ Δ_{L+1} under crashes: Monte Carlo, b3, b4 and AP9's −p⟨∇_W L, W⟩."""
    x_all = load("boston", "train").subset(s.n_inputs, seed=s.seed)
    x, y = x_all.x, x_all.y
    layers = ["input", *[f"act{i + 1}" for i in range(len(s.boston_hidden))]]
    B = x.shape[0]

    def loss_rows(out):  # rows in draw-major order (k·B, 1)
        return (out.reshape(-1) - y.repeat(out.shape[0] // B)).pow(2).unsqueeze(1)

    rows = []
    for e in s.ap9_epochs:
        net = train(boston_config(s, s.seed, epochs=e), store).model
        with torch.no_grad():
            loss = float((net(x).reshape(-1) - y).pow(2).mean())
        params = [m.weight for m in net.modules() if isinstance(m, torch.nn.Linear)]
        g = torch.autograd.grad((net(x).reshape(-1) - y).pow(2).mean(), params)
        gnorm = float(torch.sqrt(sum(gi.pow(2).sum() for gi in g)))
        mc = theory.monte_carlo(net, x, s.p, layers=layers, draws=s.draws, seed=s.seed + e, output=loss_rows)
        b3 = theory.first_order(net, x, s.p, layers=layers, output=loss_rows)
        b4 = theory.single_crash(net, x, s.p, layers=layers, output=loss_rows)
        ap9 = theory.loss_gradient_mean(net, x, y, s.p, lambda o, t: (o.reshape(-1) - t).pow(2), layers=layers)
        rows.append({"epoch": e, "loss": loss, "grad_norm": gnorm, "mc": float(mc.mean.mean()),
                     "mc_ci": float(mc.mean_ci.pow(2).sum().sqrt() / B), "b3": float(b3.mean.mean()),
                     "b4": float(b4.mean.mean()), "ap9": float(ap9.mean())})
    return pd.DataFrame(rows)


def plot_decay(df: pd.DataFrame):
    """The training loss (left axis) and the mean loss change under crashes of :func:`training_decay`
    (right axis): experiment with its 95 % half-width, b3, b4 and AP9, against the epoch (log scale)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.semilogx(df.epoch, df.loss, color="C0", label="loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (MSE)", color="C0")
    ax2 = ax.twinx()
    ax2.errorbar(df.epoch, df.mc, yerr=df.mc_ci, fmt="o", color="C3", label="experiment")
    ax2.plot(df.epoch, df.b3, "-", color="C1", label="b3")
    ax2.plot(df.epoch, df.b4, "--", color="C5", label="b4")
    ax2.plot(df.epoch, df.ap9, ":", color="k", label="AP9")
    ax2.set_ylabel("E Δ of the loss")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


def compare(report, dec: pd.DataFrame) -> None:
    """CL-AP9 by its declared claims (:mod:`ftlib.claims`): b4 and b3 match the experiment at every epoch
    (``CL-AP9:b4_matches``, ``CL-AP9:b3_matches``: TOST on b / MC with the Monte Carlo relative standard
    error), and the experiment's |E Δ| at the last epoch is below the first one's (``CL-AP9:decays``: a
    one-sided z test with the Monte Carlo noise of both epochs)."""
    from scipy import stats

    rel_se = (dec.mc_ci / 1.96 / dec.mc.abs()).to_numpy()
    for b in ("b4", "b3"):
        ratio = (dec[b] / dec.mc).to_numpy()
        report.check(f"CL-AP9:{b}_matches", 1.0, f"max |{b} − MC| / |MC| = {float(np.abs(ratio - 1).max()):.2f}",
                     estimate=ratio, se=rel_se, summary=f"{b} / MC per epoch")
    d = float(abs(dec.mc.iloc[0]) - abs(dec.mc.iloc[-1]))
    se = float(np.hypot(dec.mc_ci.iloc[0], dec.mc_ci.iloc[-1]) / 1.96)
    report.check("CL-AP9:decays", "decays",
                 f"{dec.mc.iloc[0]:.3g} (epoch {dec.epoch.iloc[0]}) → {dec.mc.iloc[-1]:.3g} (epoch {dec.epoch.iloc[-1]}); "
                 f"gradient norm {dec.grad_norm.iloc[0]:.3g} → {dec.grad_norm.iloc[-1]:.3g}",
                 p_value=float(stats.norm.sf(d / se)) if se > 0 else float(d <= 0),
                 summary=f"|E Δ| fell by {d:.3g} ± {se:.2g} (Monte Carlo s.e.)")


SECTION = Section(
    key="continuous_limit/training_decay",
    title="continuous_limit, Additional Proposition 9: the mean error decays with the loss gradient",
    ids=("CL-AP9",),
    params=COMMON_PARAMS + BOSTON_PARAMS + (
        Param("ap9_epochs", list, "epochs at which the training run is examined", item=int, low=1, high=100_000),
    ),
    profiles={
        "smoke": dict(p=0.01, draws=100, n_inputs=20, n_networks=2, boston_hidden=[25, 25], boston_epochs=2,
                      lr=1e-2, ap9_epochs=[1, 2]),
        "quick": dict(p=0.01, draws=4000, n_inputs=405, n_networks=2, boston_hidden=[25, 25], boston_epochs=100,
                      lr=1e-2, ap9_epochs=[1, 3, 10, 30, 100]),
        "paper": dict(p=0.01, draws=40_000, n_inputs=405, n_networks=2, boston_hidden=[25, 25],
                      boston_epochs=500, lr=1e-2, ap9_epochs=[1, 3, 10, 30, 100, 300, 1000]),
    },
)
