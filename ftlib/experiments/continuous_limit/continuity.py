"""continuous_limit, supplement Figs 2-4 (notebook ``continuous_limit/continuity``).

CL-CONT: the continuity regularizer smooth(W) (:func:`ftlib.regularizers.continuity_terms`,
C1-C3 of the first layer) on networks 784-N-100-10 (13-N-100-1 for Boston) of
growing width N: the first-layer weights, the product of the ‖W_l‖∞ and the decay
with N of the derivatives D_i = ∂y_L/∂y_1^i (slope −1) and of the Hessian entries
H_ij (slope −2) that the continuous limit predicts.

The notebook calls :func:`continuity_sweep`, :func:`weight_figure`, :func:`plot_decay`,
:func:`slopes` and :func:`compare`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from ... import regularizers, theory
from ...data import load
from ...params import Param, Section, Settings
from ...store import Store
from ...training import TrainConfig, train
from ._config import TRAIN_PARAMS, boston_standardization, mlp_config, single_thread


DIGITS = 5
"""Decimals shown in the notebook's table (its variances and derivatives are small numbers)."""


def cont_config(s: Settings, dataset: str, n: int, regularized: bool) -> TrainConfig:
    """The network 784-``n``-``second_hidden``-10 (13-``n``-``second_hidden``-1 for Boston) of ``dataset``,
    with the continuity regularizer ψ = ``s.psi`` when ``regularized``."""
    kw = {"continuity": tuple(float(v) for v in s.psi)} if regularized else {}
    if dataset == "boston":
        shift, scale = boston_standardization()
        return TrainConfig(arch="cl_mlp", dataset="boston", epochs=s.boston_epochs, batch_size=64, lr=1e-2,
                           loss="mse", output="linear", seed=s.seed,
                           arch_kwargs={"widths": [13, n, s.second_hidden, 1], "activation": "sigmoid",
                                        "shift": shift, "scale": scale}, **kw)
    return mlp_config(dataset, [784, n, s.second_hidden, 10], s, s.seed, s.batch_size, **kw)


def _phi_derivatives(act, z):
    """φ'(z), φ''(z) of the model's sigmoid(4Kz)."""
    a = 4.0 * act.K
    sg = torch.sigmoid(a * z)
    return a * sg * (1 - sg), a * a * sg * (1 - sg) * (1 - 2 * sg)


@torch.no_grad()
def derivative_stats(net, x) -> dict:
    """For y_L as a function of the first hidden layer's outputs y_1 (network input → fc1 → act1 → fc2 → act2
    → fc3): avg |D_i| = |∂y_L/∂y_1^i|, avg |H_ii| and avg_{i≠j} |H_ij| of ∂²y_L/∂y_1^i∂y_1^j, averaged over
    inputs ``x`` and output units; and the product over layers of ‖W_l‖∞ = max_i Σ_j |W_l^{ij}|."""
    lins = regularizers.linear_layers(net)
    if len(lins) != 3:
        raise ValueError("derivative_stats expects two hidden layers")
    acts = [m for m in net.modules() if hasattr(m, "lipschitz")]
    W2, W3 = lins[1].weight.double(), lins[2].weight.double()
    y1 = None
    h = x
    for name, m in net.named_children():
        h = m(h)
        if name == "act1":
            y1 = h
            break
    z2 = y1.double() @ W2.t() + lins[1].bias.double()
    d1, d2 = _phi_derivatives(acts[1], z2)  # (B, n2)
    D = torch.einsum("ok,bk,ki->boi", W3, d1, W2)  # (B, nL, n1)
    A = torch.einsum("ok,bk->bok", W3, d2)  # (B, nL, n2)
    hii = torch.einsum("bok,ki->boi", A, W2 * W2)
    n1 = W2.shape[1]
    off_sum = 0.0
    for b in range(A.shape[0]):
        for o in range(A.shape[1]):
            H = (W2.t() * A[b, o]) @ W2
            off_sum += float(H.abs().sum() - H.diagonal().abs().sum())
    off = off_sum / (A.shape[0] * A.shape[1] * n1 * (n1 - 1))
    winf = math.prod(float(m.weight.detach().abs().sum(1).max()) for m in lins)
    return {"avg_D": float(D.abs().mean()), "avg_Hii": float(hii.abs().mean()), "avg_Hij": off,
            "winf_product": winf}


def continuity_sweep(s: Settings, store: Store | None = None) -> tuple[pd.DataFrame, dict]:
    """Supplement Figs 2-4: for every data set and width N, a network 784-N-100-10 (13-N-100-1 for Boston)
    without and with the continuity regularizer; one row per network with test accuracy, smooth(W) terms and
    :func:`derivative_stats`. Also returns the first-layer weights of the widest MNIST/FashionMNIST networks."""
    rows, weights = [], {}
    with single_thread():
        for dataset in s.datasets:
            widths = s.boston_widths if dataset == "boston" else s.widths
            regs = (False,) if dataset == "boston" else (False, True)
            test = load(dataset, "test")
            test = test if dataset == "boston" else test.subset(s.n_test, seed=s.seed)
            for reg in regs:
                for n in widths:
                    t = train(cont_config(s, dataset, n, reg), store)
                    net = t.model
                    with torch.no_grad():
                        out = net(test.x)
                    if dataset == "boston":
                        acc = float("nan")
                        err = float((out.reshape(-1) - test.y).pow(2).mean())
                        # learned: explains at least half of the test variance (a network whose second-layer
                        # sigmoids saturated outputs a constant, MSE = Var y, and all its derivatives vanish)
                        learned = err <= 0.5 * float(test.y.double().var())
                    else:
                        acc, err = 100.0 * float((out.argmax(1) == test.y).double().mean()), float("nan")
                        learned = acc >= 50.0
                    c = {k: float(v) for k, v in regularizers.continuity_terms(net.fc1.weight.detach()).items()}
                    rows.append({"dataset": dataset, "regularized": reg, "N": n, "test_acc": acc, "test_mse": err,
                                 "learned": learned,
                                 "changes": theory.number_of_changes(net.fc1.weight), **c,
                                 **derivative_stats(net, test.x[:s.n_inputs]), "train_seconds": t.wall_time_s})
                    if dataset != "boston" and n == max(widths):
                        weights[(dataset, reg)] = net.fc1.weight.detach().clone()
    return pd.DataFrame(rows), weights


def slopes(df: pd.DataFrame) -> pd.DataFrame:
    """Fitted log-log slopes against N of avg|D|, avg|H_ii|, avg|H_ij| and the ‖W‖∞ product, per data set and
    regularization, over the networks that learned (``learned``: ≥ 50 % test accuracy, or for Boston a test
    MSE ≤ half the variance of the targets; a collapsed network with saturated sigmoids has derivatives
    ~10⁻²⁰ and would dominate the fit). ``n_fit`` of ``n_widths`` networks enter the fit (NaN slopes when
    fewer than 2)."""
    rows = []
    for (ds, reg), g_all in df.groupby(["dataset", "regularized"]):
        g = g_all[g_all.learned] if "learned" in g_all else g_all
        if len(g) < 2:
            g = g.iloc[:0]
        rows.append({"dataset": ds, "regularized": reg, "n_fit": len(g), "n_widths": len(g_all),
                     **{f"slope_{k}": theory.loglog_slope(g.N, g[k]) if len(g) >= 2 else math.nan for k in ("avg_D", "avg_Hii", "avg_Hij",
                                                                                "winf_product")},
                     "winf_ratio": float(g.winf_product.max() / g.winf_product.min()) if len(g) else math.nan,
                     "test_acc_mean": float(g_all.test_acc.mean())})
    return pd.DataFrame(rows)


def slope_fit(n, v) -> tuple[float, float, int]:
    """Least-squares slope of log v against log n (as :func:`ftlib.theory.loglog_slope`), its standard error
    from the fit and the degrees of freedom (:func:`scipy.stats.linregress`; NaN s.e. with two points)."""
    from scipy import stats

    x, y = np.log(np.asarray(n, dtype=float)), np.log(np.asarray(v, dtype=float))
    if len(x) < 2:
        return math.nan, math.nan, 0
    if len(x) == 2:
        return float((y[1] - y[0]) / (x[1] - x[0])), math.nan, 0
    fit = stats.linregress(x, y)
    return float(fit.slope), float(fit.stderr), len(x) - 2


def compare(report, s: Settings, cont: pd.DataFrame) -> None:
    """CL-CONT by its declared claims (:mod:`ftlib.claims`): per image data set, with the regularizer, the
    slopes of avg |D_i| and avg |H_ij| against N match −1 and −2 (TOST with the fit's standard error), the
    ‖W‖∞ product is flat in N (TOST on its log-log slope) and, for MNIST, the accuracies (detail rows); for
    Boston the plain network's slope of avg |D_i|."""
    from ...reference import get

    ref = get("CL-CONT").values
    for ds in [d for d in s.datasets if d != "boston"]:
        name = "MNIST" if ds == "mnist" else "FashionMNIST"
        r = cont[(cont.dataset == ds) & cont.regularized & cont.learned]
        pl = cont[(cont.dataset == ds) & ~cont.regularized]
        for key, col, paper in (("slope_D", "avg_D", ref["slope_D"]), ("slope_H", "avg_Hij", ref["slope_H"])):
            b, se, dof = slope_fit(r.N, r[col])
            plain = slope_fit(pl[pl.learned].N, pl[pl.learned][col])[0]
            report.check(f"CL-CONT:{key}", paper, b, claim=f"{name}: slope of {dict(avg_D='avg |D_i|', avg_Hij='avg |H_ij|')[col]} vs N, "
                         "regularized", estimate=b, se=se, df=dof or np.inf, note=f"plain: {plain:.2f}")
        b, se, dof = slope_fit(r.N, r.winf_product)
        ratio = float(r.winf_product.max() / r.winf_product.min()) if len(r) else math.nan
        report.check("CL-CONT:winf_flat", "stable", f"slope {b:+.3f} ± {se:.2g}; max/min over N {ratio:.2f}",
                     claim=f"{name}: the ‖W‖∞ product stabilizes with the regularizer", estimate=b, se=se,
                     df=dof or np.inf,
                     summary=f"log-log slope of the ‖W‖∞ product over {len(r)} widths")
        if ds == "mnist":
            for key, reg, paper in (("accuracy_plain", False, ref["accuracy_before"]),
                                    ("accuracy_regularized", True, ref["accuracy_after"])):
                acc = cont[(cont.dataset == ds) & (cont.regularized == reg)].test_acc
                report.check(f"CL-CONT:{key}", paper, float(acc.mean()), values=acc.to_numpy(float),
                             note="mean over widths")
    if "boston" in s.datasets:
        bd = cont[cont.dataset == "boston"]
        plain = bd[~bd.regularized & bd.learned] if "regularized" in bd else bd[bd.learned]
        collapsed = ", ".join(str(int(n)) for n in bd[~bd.learned].N.unique())
        note = (f"fit over the {len(plain)} widths that learned"
                + (f"; N = {collapsed} collapsed (constant output, test MSE = Var y), left out" if collapsed else ""))
        b, se, dof = slope_fit(plain.N, plain.avg_D)
        report.check("CL-CONT:boston_slope_D", ref["slope_D"], b, estimate=b, se=se, df=dof or np.inf, note=note,
                     claim="Boston: plain networks already show the derivative decay (slope of avg |D_i|)")


def plot_weights(weights: dict, neurons: int = 8):
    """First-layer weight images of ``neurons`` neighbouring neurons (non-regularized vs regularized rows)."""
    import matplotlib.pyplot as plt

    keys = sorted(weights, key=lambda k: (k[0], k[1]))
    fig, axes = plt.subplots(len(keys), neurons, figsize=(neurons * 0.9, len(keys) * 1.0))
    axes = np.atleast_2d(axes)
    for r, key in enumerate(keys):
        w = weights[key]
        start = w.shape[0] // 2
        for c in range(neurons):
            ax = axes[r, c]
            ax.imshow(w[start + c].reshape(28, 28).numpy(), cmap="coolwarm")
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(f"{key[0]}\n{'reg.' if key[1] else 'plain'}", fontsize=6)
    fig.tight_layout()
    return fig


def weight_figure(report, weights: dict) -> None:
    """Supplement Figs 2-3 on ``report`` (:func:`plot_weights`) when :func:`continuity_sweep` kept first-layer
    weights (an image data set was trained; Boston alone keeps none)."""
    if weights:
        report.figure(plot_weights(weights), "weights", "First-layer weights of eight neighbouring neurons of the "
                      "widest network, as 28×28 images: without (plain) and with (reg.) the continuity regularizer "
                      "(cf. supplement Figs 2-3).")


def plot_decay(df: pd.DataFrame):
    """avg |D_i|, avg |H_ii|, avg |H_ij| and the ‖W‖∞ product of :func:`continuity_sweep` against N, log-log,
    one line per data set and regularization."""
    import matplotlib.pyplot as plt

    qs = ("avg_D", "avg_Hii", "avg_Hij", "winf_product")
    fig, axes = plt.subplots(1, 4, figsize=(10, 2.8))
    for ax, q in zip(axes, qs):
        for (ds, reg), g in df.groupby(["dataset", "regularized"]):
            ax.loglog(g.N, g[q], "o-" if reg else "s--", label=f"{ds}{' reg.' if reg else ''}", ms=3)
        ax.set_title(q, fontsize=8)
        ax.set_xlabel("N")
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    return fig


SECTION = Section(
    key="continuous_limit/continuity",
    title="continuous_limit, supplement Figs 2-4: the continuity regularizer and the decay of derivatives",
    ids=("CL-CONT",),
    params=TRAIN_PARAMS + (
        Param("widths", list, "first hidden layer widths N", item=int, low=2, high=100_000),
        Param("boston_widths", list, "first hidden layer widths N for Boston", item=int, low=2, high=100_000),
        Param("second_hidden", int, "second hidden layer width", low=1, high=100_000),
        Param("batch_size", int, "batch size", low=1, high=60_000),
        Param("psi", list, "continuity weights (psi_D for C1 + C2, psi_S for C3)", item=float, low=0.0, high=1e3),
        Param("datasets", list, "data sets (mnist, fashion_mnist, boston)", item=str,
              choices=("mnist", "fashion_mnist", "boston")),
        Param("boston_epochs", int, "Boston training epochs", low=1, high=100_000),
        Param("n_test", int, "test images for the accuracy", low=10, high=10_000),
        Param("n_inputs", int, "test inputs for the derivative statistics", low=1, high=1000),
    ),
    profiles={
        "smoke": dict(epochs=1, n_train=500, lr=1e-3, widths=[20, 40], boston_widths=[20, 40], second_hidden=20,
                      batch_size=100, psi=[1e-4, 1e-2], datasets=["mnist", "boston"], boston_epochs=2,
                      n_test=100, n_inputs=2),
        "quick": dict(epochs=10, n_train=10_000, lr=1e-3, widths=[50, 100, 200, 400],
                      boston_widths=[50, 100, 200, 400], second_hidden=100, batch_size=1000,
                      psi=[1e-4, 1e-2], datasets=["mnist", "fashion_mnist", "boston"], boston_epochs=100,
                      n_test=5000, n_inputs=10),
        "paper": dict(epochs=30, n_train=0, lr=1e-3, widths=[50, 100, 200, 400, 800, 1600, 3200],
                      boston_widths=[50, 100, 200, 400, 800, 1600, 3200], second_hidden=100, batch_size=1000,
                      psi=[1e-4, 1e-2], datasets=["mnist", "fashion_mnist", "boston"], boston_epochs=500,
                      n_test=10_000, n_inputs=20),
    },
)
