"""continuous_limit experiments, part 2: training for fault tolerance (Table 2, supplement Figs 2-4, 7-10).

* CL-T2 :func:`dropout_ranking` — networks trained with unscaled dropout p_train on the first hidden layer,
  ranked by every metric against p_train (rank loss).
* CL-REG :func:`variance_regularizer` — Eq. 1's Var Δ term (b3) as a regularizer against dropout.
* CL-CONT :func:`continuity_sweep` — the continuity regularizer smooth(W): weights, ‖W‖∞ products and the
  decay of derivatives and Hessian entries with the width.
* CL-ALG :func:`algorithm1` — Algorithm 1 (:func:`ftlib.theory.certify`) and the empirical check of its certificate.

Networks are :mod:`ftlib.models.continuous_limit`'s (sigmoid(4x), the original init, MSE on the linear
output, Adam). Crashes and train-time dropout are the fault engine's Bernoulli crashes (no rescaling).
These networks are tiny: their training runs single-threaded (:func:`single_thread`), which on 2 shared
cores is many times faster than letting OpenMP split 100×784 products over contended threads.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pandas as pd
import torch

from .. import regularizers, theory
from ..data import load
from ..faults import BernoulliCrash, FaultSession
from ..params import Param, Settings
from ..params import Section
from ..store import Store
from ..training import TrainConfig, train
from .continuous_limit import boston_standardization


@contextlib.contextmanager
def single_thread():
    """Run torch on one thread inside the block (restores the previous setting)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def mlp_config(dataset: str, widths, s: Settings, seed: int, batch_size: int, **kw) -> TrainConfig:
    return TrainConfig(arch="cl_mlp", dataset=dataset, epochs=s.epochs, batch_size=batch_size, lr=s.lr,
                       n_train=s.n_train, loss="mse", output="linear", seed=seed,
                       arch_kwargs={"widths": [int(w) for w in widths], "activation": "sigmoid", "flatten": True}, **kw)


def _onehot(y, k=10):
    return torch.nn.functional.one_hot(y, k).float()


@torch.no_grad()
def correct_metrics(net, x, y) -> tuple[float, float]:
    """(MAE against the one-hot target, accuracy in %) of the crash-free network."""
    out = net(x)
    return float((out - _onehot(y)).abs().mean()), 100.0 * float((out.argmax(1) == y).double().mean())


@torch.no_grad()
def crashing_metrics(net, x, y, p: float, layer: str, reps: int, seed: int) -> tuple[float, float]:
    """(MAE, accuracy %) of the network with transient crashes at ``layer`` (probability p), over ``reps``
    repetitions of the data set (a fresh crash set per input and repetition)."""
    mae, acc = 0.0, 0.0
    with FaultSession(net, BernoulliCrash(layers=[layer], permanent=False)) as sess:
        for r in range(reps):
            sess.apply(p, torch.Generator().manual_seed(seed * 1000 + r))
            try:
                out = net(x)
            finally:
                sess.reset()
            mae += float((out - _onehot(y)).abs().mean())
            acc += 100.0 * float((out.argmax(1) == y).double().mean())
    return mae / reps, acc / reps


# ----------------------------------------------------------------------------- CL-T2


T2_QUANTITIES = {  # name → (column, True if larger means "more robust")
    "Crashing, MAE": ("crash_mae", False), "Crashing, Accuracy": ("crash_acc", True),
    "Correct, MAE": ("correct_mae", False), "Correct, Accuracy": ("correct_acc", True),
    "T1 Var Δ": ("t1_var", False), "P2 E Δ": ("p2_mean", False), "P2 Var Δ": ("p2_var", False),
    "T1 E Δ": ("t1_mean", False),
}
def p_train_grid(s: Settings) -> list[float]:
    return [round(float(v), 6) for v in np.linspace(0.0, s.p_train_max, s.n_p_train)]


def t2_config(s: Settings, p_train: float, rep: int) -> TrainConfig:
    return mlp_config("mnist", [784, *s.hidden, 10], s, s.seed + rep, 100, dropout=p_train, dropout_layer="act1")


def evaluate_network(net, s: Settings, data: dict, seed: int, b4: bool = False) -> dict:
    """Every CL-T2 metric of one network: correct/crashing MAE and accuracy on the train/test evaluation
    subsets, and the bounds (T1 = b3, P2 = b1; optionally b4) averaged over ``n_bound`` test inputs."""
    row = {}
    for split in ("train", "test"):
        x, y = data[split]
        row[f"correct_mae_{split}"], row[f"correct_acc_{split}"] = correct_metrics(net, x, y)
        row[f"crash_mae_{split}"], row[f"crash_acc_{split}"] = crashing_metrics(net, x, y, s.p, "act1",
                                                                                 s.crash_reps, seed)
    xb = data["bound"]
    b3 = theory.first_order(net, xb, s.p, layers=["act1"])
    b1 = theory.spectral(net, xb, s.p, layers=["act1"])
    row.update(t1_mean=float(b3.mean.abs().mean()), t1_var=float(b3.var.mean()),
               p2_mean=float(b1.mean[:, 0].mean()), p2_var=float(b1.var[:, 0].mean()))
    if b4:
        row["b4_var"] = float(theory.single_crash(net, xb, s.p, layers=["act1"]).var.mean())
    row["weight_l2"] = float(sum(m.weight.detach().pow(2).sum() for m in regularizers.linear_layers(net)).sqrt())
    return row


def eval_data(s: Settings) -> dict:
    tr = load("mnist", "train").subset(s.n_eval, seed=s.seed + 1)
    te = load("mnist", "test").subset(s.n_eval, seed=s.seed + 2)
    return {"train": (tr.x, tr.y), "test": (te.x, te.y), "bound": te.x[:s.n_bound]}


def dropout_ranking(s: Settings, store: Store | None = None) -> pd.DataFrame:
    """One row per (p_train, repetition): the trained network's metrics (see :func:`evaluate_network`)."""
    data = eval_data(s)
    rows = []
    with single_thread():
        for rep in range(s.reps):
            for pt in p_train_grid(s):
                t = train(t2_config(s, pt, rep), store)
                rows.append({"p_train": pt, "rep": rep, "train_seconds": t.wall_time_s,
                             **evaluate_network(t.model, s, data, seed=s.seed + 17 * rep, b4=True)})
    return pd.DataFrame(rows)


def rank_table(df: pd.DataFrame, p_max: float = 0.03) -> pd.DataFrame:
    """Table 2: rank loss (%) between p_train and each quantity, over the networks with p_train ≤ ``p_max``:
    per repetition over the p_train values, then averaged over repetitions. Oriented so that 0 % means
    "larger p_train ↔ the quantity says more robust" (lower MAE / Var Δ / bound, higher accuracy)."""
    d = df[df.p_train <= p_max + 1e-12]
    rows = []
    for name, (col, larger_better) in T2_QUANTITIES.items():
        splits = ("train", "test") if not name.startswith(("T1", "P2")) else ("",)
        row = {"quantity": name}
        for split in splits:
            c = f"{col}_{split}" if split else col
            losses = []
            for _, g in d.groupby("rep"):
                g = g.sort_values("p_train")
                v = g[c].to_numpy() if larger_better else -g[c].to_numpy()
                losses.append(theory.rank_loss(g.p_train.to_numpy(), v))
            row[f"{split or 'test'}_rank_loss"] = 100.0 * float(np.mean(losses))
            row[f"{split or 'test'}_sd"] = 100.0 * float(np.std(losses))
        rows.append(row)
    return pd.DataFrame(rows).set_index("quantity")


def rank_groups(df: pd.DataFrame, name: str, split: str = "test", p_max: float = 0.03) -> list[tuple]:
    """For :func:`ftlib.claims.p_rank`: per repetition, ``(p_train, oriented quantity)`` of the networks with
    p_train ≤ ``p_max`` (oriented as in :func:`rank_table`: a rank loss of 0 means "larger p_train ↔ more
    robust"); ``split`` is ``train`` or ``test`` (ignored for the T1/P2 bounds)."""
    col, larger_better = T2_QUANTITIES[name]
    c = col if name.startswith(("T1", "P2")) else f"{col}_{split}"
    d = df[df.p_train <= p_max + 1e-12]
    out = []
    for _, g in d.groupby("rep"):
        g = g.sort_values("p_train")
        v = g[c].to_numpy() if larger_better else -g[c].to_numpy()
        out.append((g.p_train.to_numpy(), v))
    return out


def plot_dropout(df: pd.DataFrame):
    """Supplement Fig 9: accuracy (correct/crashing, train/test) and Var Δ (b3, b4) against p_train."""
    import matplotlib.pyplot as plt

    g = df.groupby("p_train")
    m, sd = g.mean(numeric_only=True), g.std(numeric_only=True).fillna(0)
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for col, color, label in (("correct_acc", "C2", "correct"), ("crash_acc", "C3", "crashing")):
        for split, ls in (("test", "-"), ("train", "--")):
            ax.errorbar(m.index, m[f"{col}_{split}"], yerr=sd[f"{col}_{split}"], color=color, ls=ls,
                        label=f"{label}, {split}", capsize=2)
    ax.set_xlabel("training dropout p_train")
    ax.set_ylabel("accuracy (%)")
    ax2 = ax.twinx()
    ax2.errorbar(m.index, m.t1_var, yerr=sd.t1_var, color="C0", label="Var Δ, b3", capsize=2)
    ax2.errorbar(m.index, m.b4_var, yerr=sd.b4_var, color="C1", ls=":", label="Var Δ, b4", capsize=2)
    ax2.set_ylabel("Var Δ")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=6, loc="lower left")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- CL-REG


def variance_regularizer(s: Settings, store: Store | None = None) -> pd.DataFrame:
    """Supplement Fig 10: networks of CL-T2's architecture trained with λ·Var Δ/p (b3, crash layer act1)
    for every λ in ``s.lambdas`` and, for comparison, with unscaled dropout for every p in ``s.dropouts``
    (the same cached networks as CL-T2 where the settings agree). One row per network."""
    data = eval_data(s)
    rows = []
    with single_thread():
        for rep in range(s.reps):
            for lam in s.lambdas:
                kw = {"var_reg": float(lam), "var_layers": ("act1",)} if lam else {}  # λ = 0: Table 2's p_train = 0 net
                cfg = mlp_config("mnist", [784, *s.hidden, 10], s, s.seed + rep, 100, **kw)
                t = train(cfg, store)
                rows.append({"method": "Var Δ regularizer", "strength": float(lam), "rep": rep,
                             **evaluate_network(t.model, s, data, seed=s.seed + 31 * rep)})
            for pt in s.dropouts:
                t = train(t2_config(s, round(float(pt), 6), rep), store)
                rows.append({"method": "dropout", "strength": float(pt), "rep": rep,
                             **evaluate_network(t.model, s, data, seed=s.seed + 31 * rep)})
    return pd.DataFrame(rows)


def resilience_difference(df: pd.DataFrame) -> tuple[np.ndarray, str]:
    """CL-REG's "similar resilience": per repetition (same seed), the crashing test accuracy (%) of the Var Δ
    regularizer's best setting minus that of dropout's best setting, each setting chosen by its mean over the
    repetitions (best of each family, so the choice favours neither); shape ``(reps,)``, and a description."""
    m = df.groupby(["method", "strength"])["crash_acc_test"].mean()
    lam, pt = m.loc["Var Δ regularizer"].idxmax(), m.loc["dropout"].idxmax()
    a = df[(df.method == "Var Δ regularizer") & (df.strength == lam)].set_index("rep")["crash_acc_test"]
    b = df[(df.method == "dropout") & (df.strength == pt)].set_index("rep")["crash_acc_test"]
    return (a - b.loc[a.index]).to_numpy(), f"Var Δ regularizer λ = {lam:g} vs dropout p = {pt:g}"


def plot_regularizer(df: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.3), sharey=True)
    for ax, method in zip(axes, ("Var Δ regularizer", "dropout")):
        d = df[df.method == method].groupby("strength")
        m, sd = d.mean(numeric_only=True), d.std(numeric_only=True).fillna(0)
        x = np.arange(len(m))
        ax.errorbar(x, m.correct_acc_test, yerr=sd.correct_acc_test, color="C2", label="correct", capsize=2)
        ax.errorbar(x, m.crash_acc_test, yerr=sd.crash_acc_test, color="C3", label="crashing", capsize=2)
        ax.set_xticks(x, [f"{v:g}" for v in m.index], fontsize=7)
        ax.set_xlabel("λ" if method != "dropout" else "p_train")
        ax.set_title(method, fontsize=9)
        ax2 = ax.twinx()
        ax2.errorbar(x, m.t1_var, yerr=sd.t1_var, color="C0", label="Var Δ (b3)", capsize=2)
        ax2.set_yscale("log")
        if method == "dropout":
            ax2.set_ylabel("Var Δ (b3)")
    axes[0].set_ylabel("test accuracy (%)")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- CL-CONT


def cont_config(s: Settings, dataset: str, n: int, regularized: bool) -> TrainConfig:
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


def compare_continuity(report, s: Settings, cont: pd.DataFrame) -> None:
    """CL-CONT by its declared claims (:mod:`ftlib.claims`): per image data set, with the regularizer, the
    slopes of avg |D_i| and avg |H_ij| against N match −1 and −2 (TOST with the fit's standard error), the
    ‖W‖∞ product is flat in N (TOST on its log-log slope) and, for MNIST, the accuracies (detail rows); for
    Boston the plain network's slope of avg |D_i|."""
    from ..reference import get

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


def p_certificate(check: dict, delta: float, single_delta: float) -> tuple[float, float, float]:
    """CL-ALG's certificate test: exact one-sided binomial p-values (:func:`scipy.stats.binom`, H0: the failure
    probability is ≥ the target) of the median-of-R check (``failures`` of ``n`` against ``delta``) and of the
    single copies (``single_failures`` of ``single_n`` against Chebyshev's ``single_delta``); returns
    (intersection-union p = the larger, p median, p single)."""
    from scipy import stats

    pm = float(stats.binom.cdf(check["failures"], check["n"], delta))
    ps = float(stats.binom.cdf(check["single_failures"], check["single_n"], single_delta))
    return max(pm, ps), pm, ps


def compare_certificate(report, s: Settings, cert, check: dict | None, cert_row: dict, trace: pd.DataFrame) -> None:
    """CL-ALG by its declared claim ``CL-ALG:certificate`` (a certificate is returned, and its failure
    frequencies are below δ by an exact binomial test) and detail rows: n₁, λ on the original's scale, μ, ψ."""
    from ..reference import get
    from ..regularizers import lambda_on_original_scale

    ref = get("CL-ALG").values
    if not cert.feasible:
        last = trace.iloc[-1]
        steps = s.epochs * math.ceil((s.n_train or 60_000) / s.batch_size)
        continuity = trace.stage.eq("continuity").all()
        why = (f"no certificate after {cert.iterations} iterations: {last.decision}; "
               f"R3 went {trace.R3.iloc[0]:.4g} → {trace.R3.min():.4g} (C = {s.max_changes:g}) with "
               f"{steps} Adam steps per network (the paper: 1,800)") if continuity else \
            f"no certificate after {cert.iterations} iterations: {last.decision}"
        report.check("CL-ALG:certificate", "R = 20, n₁ = 500", why, p_value=float("nan"), summary=why,
                     note="the continuity criterion was never met within the iteration limit" if continuity else "")
        return
    report.numeric("CL-ALG", "n₁", ref["n1"], cert.n1, 200.0, headline=False)
    lam_orig = lambda_on_original_scale(cert.lam, 10, s.p)
    ok = lam_orig > 0 and abs(math.log10(lam_orig) - math.log10(ref["lambda"])) <= 1.0
    report.qualitative("CL-ALG", "λ on the original's scale (within a factor 10)", f"{ref['lambda']:g}",
                       f"{lam_orig:g} (ours {cert.lam:g} × n_L/p = × {10 / s.p:g})", ok, headline=False,
                       rule="detail: |log10 λ_original − log10 λ_paper| ≤ 1 (one raise)")
    report.qualitative("CL-ALG", "μ (shown; our balance term is not the original's squared one)", f"{ref['mu']:g}",
                       f"{cert.mu:g}", False, headline=False, rule="detail: not comparable (different term)")
    ok = all(o > 0 and abs(math.log10(o) - math.log10(r)) <= 1.0 for o, r in zip(cert.psi, ref["psi"]))
    report.qualitative("CL-ALG", "ψ (each within a factor 10)", str(ref["psi"]), str(tuple(f"{v:g}" for v in cert.psi)),
                       ok, headline=False, rule="detail: each |log10 ψ − log10 ψ_paper| ≤ 1")
    p, pm, ps = p_certificate(check, s.delta, cert.delta)
    reach = math.log(1 / report_alpha()) / s.delta
    report.check("CL-ALG:certificate", f"≤ {s.delta:g}",
                 f"{check['failures']} of {check['n']} = {check['frequency']:.3g} (95 % upper bound "
                 f"{check['upper95']:.2g}); one copy: {check['single_frequency']:.3g} vs Chebyshev δ = {cert.delta:.3g}",
                 p_value=p, summary=f"median of R copies: {check['failures']} failures in {check['n']} checks "
                 f"(binomial p = {pm:.2g}); single copies: {check['single_failures']} in {check['single_n']} "
                 f"(p = {ps:.2g})",
                 note=("" if check["n"] >= reach else f"{check['n']} checks cannot show a probability below δ = "
                       f"{s.delta:g} (that needs ≥ {reach:.2g} checks without a failure); ") +
                 f"the certified network's accuracy on the certificate images: {cert_row['test_accuracy_%']:.1f} %")


def report_alpha() -> float:
    """The α of ``CL-ALG:certificate``."""
    from ..claims import get

    return get("CL-ALG:certificate").alpha


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


def plot_decay(df: pd.DataFrame):
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


# ----------------------------------------------------------------------------- CL-ALG


def algorithm1(s: Settings, store: Store | None = None):
    """Algorithm 1 on MNIST (784-n₁-100-10, crashes p at act1) from ``s``'s starting point, with the
    certificate computed on ``s.n_cert`` test images. Returns (Certified, test inputs, labels)."""
    test = load("mnist", "test").subset(s.n_cert, seed=s.seed + 5)

    def train_network(n1, lam, mu, psi):
        cfg = mlp_config("mnist", [784, n1, 100, 10], s, s.seed, s.batch_size, var_reg=float(lam),
                         var_layers=("act1",), balance=float(mu), continuity=tuple(float(v) for v in psi))
        with single_thread():
            return train(cfg, store).model

    with single_thread():
        out = theory.certify(train_network, test.x, test.y, p=s.p, eps=s.eps, delta=s.delta, layer="act1",
                             n1=s.n1, n_step=s.n_step, lam=s.lam, mu=s.mu, psi=tuple(s.psi), q_min=1e-2,
                             delta0_max=1 / 6, max_changes=s.max_changes, max_iter=s.max_iter, mc_draws=s.mc_draws,
                             seed=s.seed)
    return out, test.x, test.y


def error_samples(net, x, y, s: Settings) -> torch.Tensor:
    """Samples of the per-input loss change Δ (one copy) for Fig 7: ``(draws, B)``."""
    from ..theory.certify import squared_error_rows

    with single_thread():
        mc = theory.monte_carlo(net, x, s.p, layers=["act1"], draws=s.mc_draws, seed=s.seed + 99,
                                output=squared_error_rows(y), keep_samples=True)
    return mc.samples[..., 0]


def plot_trace(trace: pd.DataFrame):
    """Supplement Fig 8: empirical failure probability (one copy) and theoretical vs experimental Var Δ."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    colors = {s: f"C{i}" for i, s in enumerate(dict.fromkeys(trace.stage))}
    ax.scatter(trace.iteration, trace.mc_fail, c=[colors[s] for s in trace.stage], zorder=3)
    for s_, c in colors.items():
        ax.scatter([], [], c=c, label=s_)
    ax.set_xlabel("iteration (colour: stage that decided)")
    ax.set_ylabel("P{Δ ≥ ε}, experiment (one copy)")
    ax2 = ax.twinx()
    ax2.plot(trace.iteration, trace.mc_var, "k-", label="Var Δ experiment")
    ax2.plot(trace.iteration, trace.theory_var, "k--", label="Var Δ theory (b3)")
    ax2.set_ylabel("Var Δ")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=6)
    fig.tight_layout()
    return fig


def plot_errors(samples: torch.Tensor, eps: float):
    """Supplement Fig 7: histogram of the loss change Δ for the final network, with ε."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    d = samples.flatten().numpy()
    ax.hist(d, bins=100, color="C0")
    ax.axvline(eps, color="C3", ls="--", label=f"target ε = {eps:g}")
    ax.set_yscale("log")
    ax.set_xlabel("Δ (loss change under crashes, one copy)")
    ax.set_ylabel("frequency")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- sections

_TRAIN = (Param("epochs", int, "training epochs", low=1, high=1000),
          Param("n_train", int, "MNIST training images (0 = all 60,000)", low=0, high=60_000),
          Param("lr", float, "Adam learning rate", low=1e-6, high=1.0))
_T2 = _TRAIN + (
    Param("p", float, "crash probability at inference (first hidden layer)", low=1e-6, high=0.5),
    Param("hidden", list, "hidden widths", item=int, low=1, high=100_000),
    Param("p_train_max", float, "largest training dropout (grid linspace(0, p_train_max, n_p_train))", low=0.0,
          high=0.9),
    Param("n_p_train", int, "number of training dropout values", low=2, high=100),
    Param("reps", int, "repetitions (seeds) per setting", low=1, high=100),
    Param("crash_reps", int, "crash repetitions of the evaluation data for the experimental error", low=1, high=1000),
    Param("n_eval", int, "train and test images for MAE / accuracy", low=10, high=60_000),
    Param("n_bound", int, "test images for the bounds", low=2, high=10_000),
)
_T2_PROFILES = {
    "smoke": dict(epochs=1, n_train=500, lr=1e-3, p=0.05, hidden=[100, 50], p_train_max=0.06, n_p_train=4, reps=2,
                  crash_reps=2, n_eval=200, n_bound=20),
    "quick": dict(epochs=10, n_train=10_000, lr=1e-3, p=0.05, hidden=[100, 50], p_train_max=0.06, n_p_train=10,
                  reps=2, crash_reps=6, n_eval=10_000, n_bound=200),
    "paper": dict(epochs=10, n_train=0, lr=1e-3, p=0.05, hidden=[100, 50], p_train_max=0.06, n_p_train=10, reps=10,
                  crash_reps=6, n_eval=60_000, n_bound=1000),
}


def _with(profiles: dict, **extra) -> dict:
    return {k: {**v, **extra.get(k, {})} for k, v in profiles.items()}


SECTIONS = [
    Section(
        key="continuous_limit/dropout_ranking",
        title="continuous_limit, Table 2: which metric orders networks trained with more dropout",
        ids=("CL-T2",),
        params=_T2,
        profiles=_T2_PROFILES,
    ),
    Section(
        key="continuous_limit/regularizers",
        title="continuous_limit, supplement Fig 10: the Var Δ bound as a regularizer, against dropout",
        ids=("CL-REG",),
        params=_T2 + (
            Param("lambdas", list, "regularization strengths λ of the Var Δ term", item=float, low=0.0, high=1e6),
            Param("dropouts", list, "training dropout values compared", item=float, low=0.0, high=0.9),
        ),
        profiles=_with(_T2_PROFILES,
                       smoke=dict(lambdas=[0.0, 0.1], dropouts=[0.02], reps=1),
                       quick=dict(lambdas=[0.0, 0.01, 0.1, 1.0], dropouts=[0.02, 0.04, 0.06], reps=2),
                       paper=dict(lambdas=[0.0, 0.001, 0.01, 0.1, 1.0], dropouts=[0.02, 0.04, 0.06], reps=5)),
    ),
    Section(
        key="continuous_limit/continuity",
        title="continuous_limit, supplement Figs 2-4: the continuity regularizer and the decay of derivatives",
        ids=("CL-CONT",),
        params=_TRAIN + (
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
    ),
    Section(
        key="continuous_limit/certification",
        title="continuous_limit, Algorithm 1: certifying (ε, δ)-fault tolerance with median copies",
        ids=("CL-ALG",),
        params=_TRAIN + (
            Param("p", float, "crash probability of the first hidden layer", low=1e-6, high=0.5),
            Param("eps", float, "target ε on the loss increase", low=1e-9, high=1e3),
            Param("delta", float, "target failure probability δ", low=1e-12, high=0.5),
            Param("batch_size", int, "batch size", low=1, high=60_000),
            Param("n1", int, "starting width n1", low=2, high=100_000),
            Param("n_step", int, "width increment", low=1, high=100_000),
            Param("lam", float, "starting λ (Var Δ term)", low=0.0, high=1e6),
            Param("mu", float, "starting μ (balance term)", low=0.0, high=1e6),
            Param("psi", list, "starting ψ = (psi_D, psi_S)", item=float, low=0.0, high=1e6),
            Param("max_changes", float, "continuity criterion C: largest allowed number of changes R3", low=0.0,
                  high=1e9),
            Param("max_iter", int, "iteration limit", low=1, high=1000),
            Param("n_cert", int, "test images the certificate is about", low=2, high=10_000),
            Param("mc_draws", int, "Monte Carlo crash sets per image per iteration (Fig 8)", low=2, high=1_000_000),
            Param("trials", int, "sets of R median copies per image for the certificate check", low=1,
                  high=10_000_000),
        ),
        profiles={
            "smoke": dict(epochs=1, n_train=500, lr=1e-3, p=1e-2, eps=9e-3, delta=1e-5, batch_size=250, n1=50,
                          n_step=50, lam=1e-9, mu=1e-10, psi=[1e-8, 1e-6], max_changes=100.0, max_iter=3, n_cert=20,
                          mc_draws=50, trials=20),
            "quick": dict(epochs=4, n_train=30_000, lr=1e-3, p=1e-2, eps=9e-3, delta=1e-5, batch_size=1000, n1=200,
                          n_step=100, lam=1e-9, mu=1e-10, psi=[1e-8, 1e-6], max_changes=100.0, max_iter=10,
                          n_cert=100, mc_draws=500, trials=1000),
            "paper": dict(epochs=30, n_train=0, lr=1e-3, p=1e-2, eps=9e-3, delta=1e-5, batch_size=1000, n1=200,
                          n_step=100, lam=1e-9, mu=1e-10, psi=[1e-8, 1e-6], max_changes=100.0, max_iter=20,
                          n_cert=1000, mc_draws=10_000, trials=3000),
        },
    ),
]
