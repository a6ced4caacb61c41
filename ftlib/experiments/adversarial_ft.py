"""adversarial_ft experiments (Duddu, Rao, Balas).

Section 4 "Experiment setup":

- Table 1 (AFT-T1): Architecture 1 trained on FashionMNIST with Tikhonov (L2)
  or Lasso (L1) penalties of increasing λ; the generalization error is
  G = R_train − R_test (accuracies in %).
- Figure 1 (AFT-F1): the distribution of the weights of a regularized and an
  unregularized model (their standard deviations).
- Figure 2 (AFT-F2a/b/c): accuracy of the same two models under stuck-at-0
  faults: (a) weights of the MLP, (b) filters of a CNN (Architecture 2),
  (c) nodes (hidden units) of the MLP. The paper does not say which λ its
  "regularized" models used; we take Tikhonov with ``fig_lambda`` (a Table 1
  model, so no extra training for the MLP).

Choices where the paper is silent (one place, shown in the book):
softmax cross-entropy loss, Adam (lr from the profile), batch size from the
profile, penalty on weights but not biases, inputs scaled to [0, 1], no
augmentation, training accuracy measured in eval mode after the last epoch.
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from ..data import load
from ..params import Param, Settings
from ..sections import Section
from ..store import Store
from .. import faults
from ..training import TRAINING_CODE, TrainConfig, Trained, accuracy, penalized_weights, train
from ..distributed import train_many
from .common import cached_sweep, plot_bands, summarize_by

DATASET = "fashion_mnist"
LOSS = "ce"


def regularized_config(s: Settings, regularizer: str, lam: float, arch: str = "aft_arch1",
                       epochs: int | None = None) -> TrainConfig:
    """The training configuration of one Table 1 cell (``regularizer`` is ``"tikhonov"`` or ``"lasso"``)."""
    return TrainConfig(
        arch=arch, dataset=DATASET, epochs=epochs or s.epochs, batch_size=s.batch_size, lr=s.lr, n_train=s.n_train,
        l1=lam if regularizer == "lasso" else 0.0, l2=lam if regularizer == "tikhonov" else 0.0,
        loss=LOSS, seed=s.seed,
    )


def table1(s: Settings, store: Store | None = None) -> pd.DataFrame:
    """Table 1: one row per (regularizer, λ) with train / test accuracy and generalization error in %.

    λ = 0 is the same configuration for both regularizers, so it is trained
    once and shown in both blocks (the paper trained it twice: 98.60 and 96.77 %
    training accuracy, an indication of its run-to-run spread).
    """
    store = store or Store()
    test = load(DATASET, "test").subset(s.n_test or None, seed=s.seed)
    rows = []
    grid = [(regularizer, lam) for regularizer, lambdas in (("tikhonov", s.tikhonov_lambdas),
                                                           ("lasso", s.lasso_lambdas)) for lam in lambdas]
    # the λ grid is independent: on a Dask cluster (ftlib.distributed) each model trains on a worker
    models = train_many([regularized_config(s, r, lam) for r, lam in grid], store, desc="Table 1 models")
    for (regularizer, lam), trained in zip(grid, models):
        train_acc = 100 * trained.train_acc
        test_acc = 100 * store.cached_result(
            "eval", {"train": trained.config.__dict__, "test_n": s.n_test, "seed": s.seed},
            lambda: accuracy(trained.model, test.x, test.y), code=TRAINING_CODE)
        rows.append({"regularizer": regularizer, "lambda": lam, "train_acc": train_acc,
                     "test_acc": test_acc, "gen_error": train_acc - test_acc,
                     "train_seconds": trained.wall_time_s, "cached": trained.from_cache})
    return pd.DataFrame(rows)


def tradeoff_holds(df: pd.DataFrame) -> dict[str, dict[str, bool]]:
    """Table 1's claims per regularizer, tested on our numbers.

    ``gen_error_falls``: the generalization error at the largest λ is below the
    one at λ = 0. ``accuracy_falls``: the test accuracy at the largest λ is
    below the best test accuracy over all λ (the trade-off's cost).
    """
    out = {}
    for reg, g in df.groupby("regularizer", sort=False):
        g = g.sort_values("lambda")
        out[reg] = {
            "gen_error_falls": bool(g["gen_error"].iloc[-1] < g["gen_error"].iloc[0]),
            "accuracy_falls": bool(g["test_acc"].iloc[-1] < g["test_acc"].max()),
        }
    return out


def table1_side_by_side(df: pd.DataFrame) -> pd.DataFrame:
    """Our Table 1 beside the paper's: columns (paper | ours | gap) × (train, test, G), rows (regularizer, λ)."""
    from ..reference import get

    paper = get("AFT-T1").values
    rows = []
    for r in df.itertuples():
        p = paper.get(f"{r.regularizer} {r._2:g}")
        row = {("", "regularizer"): r.regularizer, ("", "λ"): f"{r._2:g}"}
        for col, name in (("train_acc", "train"), ("test_acc", "test"), ("gen_error", "gen_error")):
            ours = getattr(r, col)
            row[(name, "paper")] = p[name] if p else float("nan")
            row[(name, "ours")] = ours
            row[(name, "gap")] = ours - p[name] if p else float("nan")
        rows.append(row)
    out = pd.DataFrame(rows)
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    return out.set_index([("", "regularizer"), ("", "λ")]).rename_axis(["regularizer", "λ"])


def plot_table1(df: pd.DataFrame):
    """Figure: test accuracy and generalization error vs λ, ours (solid) and the paper's (dashed), per regularizer."""
    import matplotlib.pyplot as plt

    from ..reference import get

    paper = get("AFT-T1").values
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.0), sharex=False)
    for reg, g in df.groupby("regularizer", sort=False):
        g = g.sort_values("lambda")
        xs = range(len(g))
        labels = [f"{v:g}" for v in g["lambda"]]
        p = [paper.get(f"{reg} {v:g}") for v in g["lambda"]]
        for ax, col, key in ((axes[0], "test_acc", "test"), (axes[1], "gen_error", "gen_error")):
            (line,) = ax.plot(xs, g[col], marker="o", label=f"{reg} (ours)")
            if all(p):
                ax.plot(xs, [q[key] for q in p], ls="--", marker="x", color=line.get_color(), label=f"{reg} (paper)")
            ax.set_xticks(list(xs), labels)
            ax.set_xlabel("λ (index of the grid)")
    axes[0].set_ylabel("test accuracy (%)")
    axes[1].set_ylabel("generalization error (pp)")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return fig


TOLERANCE_PP = 2.0
"""Tolerance of a numeric Table 1 comparison, in percentage points."""


def compare_table1(report, df: pd.DataFrame) -> None:
    """Add Table 1's claims and numbers to ``report`` (an :class:`ftlib.report.Report`)."""
    from ..reference import get

    holds = tradeoff_holds(df)
    for reg, h in holds.items():
        g = df[df.regularizer == reg].sort_values("lambda")
        lo, hi = g.iloc[0], g.iloc[-1]
        opts = report.settings.as_dict()
        n_tr, n_te = opts.get("n_train") or 60_000, opts.get("n_test") or 10_000
        se_g = lambda r: math.hypot(_binomial_se(r.train_acc, n_tr), _binomial_se(r.test_acc, n_te))  # noqa: E731
        d, se = lo.gen_error - hi.gen_error, math.hypot(se_g(lo), se_g(hi))
        report.check("AFT-T1:gen_error_falls", "yes",
                     f"G {lo.gen_error:.2f} → {hi.gen_error:.2f} pp (λ {lo['lambda']:g} → {hi['lambda']:g})",
                     claim=f"{reg}: larger λ lowers the generalization error", p_value=_p_positive(d, se),
                     summary=f"G(λ = 0) − G(largest λ) = {d:+.2f} ± {se:.2f} pp (binomial s.e.)")
        d, se = lo.test_acc - hi.test_acc, math.hypot(_binomial_se(lo.test_acc, n_te), _binomial_se(hi.test_acc, n_te))
        report.check("AFT-T1:accuracy_falls", "yes",
                     f"{lo.test_acc:.2f} % at λ {lo['lambda']:g} → {hi.test_acc:.2f} % at λ {hi['lambda']:g} "
                     f"(best {g.test_acc.max():.2f} %)", claim=f"{reg}: the largest λ costs test accuracy",
                     p_value=_p_positive(d, se), summary=f"test accuracy (λ = 0) − (largest λ) = {d:+.2f} ± {se:.2f} pp")
    paper = get("AFT-T1").values
    for r in df.itertuples():
        p = paper.get(f"{r.regularizer} {r._2:g}")
        if p is None:
            continue
        report.numeric("AFT-T1", f"{r.regularizer} λ={r._2:g}: test accuracy (%)", p["test"], r.test_acc, TOLERANCE_PP,
                       headline=False)
        report.numeric("AFT-T1", f"{r.regularizer} λ={r._2:g}: generalization error (pp)", p["gen_error"],
                       r.gen_error, TOLERANCE_PP, headline=False)


def _binomial_se(acc_pct: float, n: int) -> float:
    """Standard error (percentage points) of an accuracy ``acc_pct`` (%) measured on ``n`` images."""
    a = min(max(float(acc_pct) / 100, 0.0), 1.0)
    return 100 * math.sqrt(max(a * (1 - a), 1e-12) / max(int(n), 1))


def std_log_gap(std_a: float, n_a: int, std_b: float, n_b: int) -> tuple[float, float]:
    """ln std_a − ln std_b and its standard error √(1/(2(n_a − 1)) + 1/(2(n_b − 1))) (the large-sample error of
    ln s for ``n`` draws; NaN when a std is not positive)."""
    if not (std_a > 0 and std_b > 0):
        return float("nan"), float("nan")
    return float(math.log(std_a) - math.log(std_b)), math.sqrt(0.5 / max(n_a - 1, 1) + 0.5 / max(n_b - 1, 1))


def _p_positive(d: float, se: float) -> float:
    """One-sided normal p-value of "the true difference is > 0" for an observed ``d`` with standard error ``se``."""
    from scipy import stats

    if not se > 0:
        return 0.0 if d > 0 else 1.0
    return float(stats.norm.sf(d / se))


def test_set(s: Settings):
    """The Fashion-MNIST test images (N, 1, 28, 28) and labels (N,) of this run, and their cache identity."""
    ds = load(DATASET, "test").subset(s.n_test or None, seed=s.seed)
    return ds.x, ds.y, {"dataset": DATASET, "split": "test", "n": s.n_test, "seed": s.seed}


def figure_models(s: Settings, store: Store | None = None) -> dict[tuple[str, str], Trained]:
    """The four models of Figures 1-2: (``"mlp"|"cnn"``, ``"unregularized"|"regularized"``) → trained model.

    The MLP ones are Table 1 models (λ = 0 and Tikhonov ``fig_lambda``); the CNN
    (Architecture 2) ones are trained for ``cnn_epochs`` with the same settings.
    """
    store = store or Store()
    out = {}
    for arch, name, epochs in (("aft_arch1", "mlp", s.epochs), ("aft_arch2", "cnn", s.cnn_epochs)):
        for kind, lam in (("unregularized", 0.0), ("regularized", s.fig_lambda)):
            out[(name, kind)] = train(regularized_config(s, "tikhonov", lam, arch, epochs), store)
    return out


def weight_spread(models: dict[tuple[str, str], Trained]) -> pd.DataFrame:
    """Figure 1's statistic: mean and standard deviation of all penalized weights of each model."""
    rows = []
    for (net, kind), t in models.items():
        w = torch.cat([p.detach().flatten() for p in penalized_weights(t.model)])
        rows.append({"network": net, "model": kind, "n_weights": w.numel(), "mean": w.mean().item(),
                     "std": w.std().item()})
    return pd.DataFrame(rows)


def plot_weight_histograms(models: dict[tuple[str, str], Trained], net: str = "mlp"):
    """Figure 1: histograms of the weights of the unregularized and regularized ``net``."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for kind in ("unregularized", "regularized"):
        w = torch.cat([p.detach().flatten() for p in penalized_weights(models[(net, kind)].model)])
        ax.hist(w.numpy(), bins=200, histtype="step", density=True, label=f"{kind} (std {w.std().item():.4f})")
    ax.set_yscale("log")
    ax.set_xlabel("weight value")
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    return fig


FIGURE2_PANELS = {
    "AFT-F2a": ("mlp", "stuck-at-0 weights", lambda: faults.StuckAtZero("weights")),
    "AFT-F2b": ("cnn", "stuck-at-0 filters", lambda: faults.StuckAtZero("filters")),
    "AFT-F2c": ("mlp", "stuck-at-0 nodes", lambda: faults.StuckAtZero("nodes")),
}
"""Figure 2's panels: checklist id → (network, fault label, fault model factory)."""

FIGURE2_QUOTED = {"AFT-F2a": 0.5, "AFT-F2b": 0.5, "AFT-F2c": 0.6}
"""The fault fraction at which the paper's text quotes Figure 2's accuracies."""


def figure2_sweeps(s: Settings, store: Store | None = None) -> pd.DataFrame:
    """Figure 2: accuracy under stuck-at-0 faults for each panel and model.

    Tidy table: ``id``, ``fault``, ``model``, ``rate``, ``draw``, ``accuracy``
    (``fault_draws`` faulty instances per rate, exact fractions per layer).
    """
    store = store or Store()
    models = figure_models(s, store)
    x, y, data_id = test_set(s)
    rates = sorted(set(s.fault_rates) | set(FIGURE2_QUOTED.values()))
    frames = []
    for id_, (net, label, make) in FIGURE2_PANELS.items():
        for kind in ("unregularized", "regularized"):
            df = cached_sweep(store, models[(net, kind)], make(), rates, x, y, s.fault_draws, s.seed, data_id)
            frames.append(df.assign(id=id_, fault=label, model=kind))
    return pd.concat(frames, ignore_index=True)


def plot_figure2(df: pd.DataFrame):
    """Figure 2: three panels of accuracy vs fault fraction with 95 % bands; the paper's quoted
    points as crosses."""
    import matplotlib.pyplot as plt

    from ..reference import get

    fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.0), sharey=True)
    summary = summarize_by(df, ["id", "model"])
    for ax, (id_, (net, label, _)) in zip(axes, FIGURE2_PANELS.items()):
        for kind in ("unregularized", "regularized"):
            line = plot_bands(ax, summary[(summary.id == id_) & (summary.model == kind)], f"{kind} (ours)")
            _paper_point(ax, FIGURE2_QUOTED[id_], get(id_).values[kind], line, kind)
        ax.set_title(f"{id_}: {label} ({net.upper()})", fontsize=8)
    return _finish_fault_panels(fig, axes)


def _paper_point(ax, x: float, y: float, line, label: str) -> None:
    """The paper's quoted value as a cross in the colour of our band ``line``."""
    ax.plot([x], [y], marker="x", ms=8, ls="none", color=line.get_color(), label=f"{label} (paper)")


def _finish_fault_panels(fig, axes):
    """Axes of the accuracy-vs-fault-fraction panels of Figures 2 and 7: labels, 0-100 %, one legend."""
    for ax in axes:
        ax.set_xlabel("fraction of faults")
        ax.set_ylim(0, 100)
    axes[0].set_ylabel("test accuracy (%)")
    axes[-1].legend(fontsize=6)
    fig.tight_layout()
    return fig


CLAIM_ALPHA = 0.05
"""A "model A keeps more accuracy than model B under the faults" claim of Figures 2 and 7 is reproduced when
the paired difference over the shared fault draws is positive with one-sided p below this level (a point
estimate inside the draw-to-draw noise is not evidence either way)."""


def _claim_note(mean: float, p: float) -> str:
    if p < CLAIM_ALPHA:
        return ""
    return "the difference is within the fault-draw noise" if mean > 0 else "the difference has the other sign"


def compare_figures(report, spread: pd.DataFrame, sweeps: pd.DataFrame, tolerance_pp: float = 5.0) -> None:
    """Add Figure 1's and Figure 2's claims and quoted numbers to ``report``. Figure 2's claims need a paired
    difference over the shared fault draws at one-sided p < :data:`CLAIM_ALPHA`."""
    from ..reference import get

    mlp = spread[spread.network == "mlp"].set_index("model")
    paper = get("AFT-F1").values
    sd, nw = mlp["std"], mlp["n_weights"]
    d, se = std_log_gap(sd["unregularized"], nw["unregularized"], sd["regularized"], nw["regularized"])
    report.check("AFT-F1:smaller_std", f"{paper['std_regularized']:g} vs {paper['std_unregularized']:g}",
                 f"{sd['regularized']:.4f} vs {sd['unregularized']:.4f}", p_value=_p_positive(d, se),
                 summary=f"ln std(unregularized) − ln std(regularized) = {d:+.3f} ± {se:.2g} (N = "
                 f"{int(nw['regularized'])} and {int(nw['unregularized'])} weights)")
    for kind in ("regularized", "unregularized"):
        report.check(f"AFT-F1:std_{kind}", paper[f"std_{kind}"], float(sd[kind]),
                     estimate=float(sd[kind]), se=float(sd[kind]) / math.sqrt(2 * max(int(nw[kind]) - 1, 1)))
    summary = summarize_by(sweeps, ["id", "model"])
    for id_, (net, label, _) in FIGURE2_PANELS.items():
        rate = FIGURE2_QUOTED[id_]
        at = summary[(summary.id == id_) & (summary.rate == rate)].set_index("model")
        reg, unreg = 100 * at.loc["regularized", "mean"], 100 * at.loc["unregularized", "mean"]
        panel = sweeps[sweeps.id == id_]
        d = faults.paired_draws(panel[panel.model == "regularized"], panel[panel.model == "unregularized"], rate)
        p = faults.one_sided(d, "greater")
        paper = get(id_).values
        report.check(f"{id_}:regularized_beats", f"{paper['regularized']:.2f} vs {paper['unregularized']:.2f} %",
                     f"{reg:.2f} vs {unreg:.2f} %, paired difference {100 * d['mean']:+.2f} pp "
                     f"(±{100 * d['ci_halfwidth']:.2f}, one-sided p = {p:.2g})", note=_claim_note(d["mean"], p),
                     claim=f"at {rate:.0%} {label}, the regularized {net.upper()} keeps more accuracy",
                     p_value=p, summary=f"paired difference {100 * d['mean']:+.2f} pp over {d['n']} shared draws")
        for kind, ours in (("regularized", reg), ("unregularized", unreg)):
            report.numeric(id_, f"{kind} accuracy at {rate:.0%} {label} (%)", paper[kind], ours, tolerance_pp,
                           headline=False)


SECTIONS = [Section(
    key="adversarial_ft/experiment_setup",
    title="adversarial_ft, Section 4: regularization, generalization and stuck-at-0 faults",
    ids=("AFT-T1", "AFT-F1", "AFT-F2a", "AFT-F2b", "AFT-F2c"),
    params=(
        Param("epochs", int, "training epochs per model", low=1, high=10_000),
        Param("batch_size", int, "mini-batch size", low=1, high=60_000),
        Param("lr", float, "Adam learning rate", low=1e-7, high=1.0),
        Param("n_train", int, "training images used (0 = all 60,000)", low=0, high=60_000),
        Param("n_test", int, "test images used (0 = all 10,000)", low=0, high=10_000),
        Param("tikhonov_lambdas", list, "Tikhonov (L2) strengths", item=float, low=0.0, high=10.0),
        Param("lasso_lambdas", list, "Lasso (L1) strengths", item=float, low=0.0, high=10.0),
        Param("fig_lambda", float, "Tikhonov λ of the 'regularized' models of Figures 1-2", low=0.0, high=10.0),
        Param("cnn_epochs", int, "training epochs of the Architecture 2 CNNs of Figure 2b", low=1, high=10_000),
        Param("fault_rates", list, "fault fractions of Figure 2", item=float, low=0.0, high=1.0),
        Param("fault_draws", int, "faulty instances per fault fraction", low=2, high=10_000),
    ),
    profiles={
        "smoke": dict(epochs=1, batch_size=256, lr=1e-3, n_train=2000, n_test=500,
                      tikhonov_lambdas=[0.0, 1e-3], lasso_lambdas=[0.0, 1e-3],
                      fig_lambda=1e-3, cnn_epochs=1, fault_rates=[0.0, 0.3], fault_draws=2),
        # quick: half the training set and half the test set (the whole book must build in 30 minutes on
        # 2 cores; the models of this chapter were 13 of them with all 60,000 / 10,000 images)
        "quick": dict(epochs=6, batch_size=128, lr=1e-3, n_train=30_000, n_test=5000,
                      tikhonov_lambdas=[0.0, 1e-4, 1e-3, 0.1], lasso_lambdas=[0.0, 1e-4, 1e-3, 1e-2],
                      fig_lambda=1e-3, cnn_epochs=3, fault_rates=[0.0, 0.2, 0.4, 0.6, 0.8, 0.9], fault_draws=5),
        "paper": dict(epochs=50, batch_size=128, lr=1e-3, n_train=0, n_test=0,
                      tikhonov_lambdas=[0.0, 1e-4, 1e-3, 0.1], lasso_lambdas=[0.0, 1e-4, 1e-3, 1e-2],
                      fig_lambda=1e-3, cnn_epochs=50, fault_rates=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
                      fault_draws=20),
    },
)]


# ---------------------------------------------------------------------------
# Section 6.3 "Adversarial framework": Table 2 (AFT-T2) and Figure 5 (AFT-F5)
# Section 6.4 "Performance in the presence of faults": Figure 7 (AFT-F7a/b/c)
# ---------------------------------------------------------------------------
#
# Choices where the paper is silent (one place, shown in the book):
# - Baselines (none / Lasso / Tikhonov) are trained exactly like Table 1's models
#   (cross-entropy, Adam); for Architecture 1 they *are* Table 1's models (cached).
#   The proposed model's Phase II uses the paper's ‖softmax(f(x)) − onehot(y)‖².
# - "λ from a grid search": per architecture and regularizer we train every
#   nonzero λ of the grid and keep the one with the best test accuracy (the
#   paper reports "the best model performance" after a grid search and names
#   no validation set). Selecting on the test set flatters the baselines.
# - Phase I: prior N(0, I), k = disc_steps discriminator steps, see ftlib.adversarial.

from .. import adversarial as adv  # noqa: E402
from ..data import locate  # noqa: E402

ARCH_DATA = {"aft_arch1": "fashion_mnist", "aft_arch2": "fashion_mnist", "aft_arch3": "cifar10",
             "aft_arch4": "cifar10"}
"""The dataset of each architecture (Section 6.2)."""

METHODS = ("none", "lasso", "tikhonov", "proposed")


def _arch_settings(s: Settings, arch: str) -> dict:
    """Epochs, data sizes, λ grids and Phase-I length of ``arch`` under settings ``s``."""
    if arch == "aft_arch1":
        return dict(epochs=s.epochs, n_train=s.n_train, n_test=s.n_test, tikhonov=s.tikhonov_lambdas,
                    lasso=s.lasso_lambdas, phase1_epochs=s.phase1_epochs, phase1_iters=s.phase1_iters,
                    phase1_n_train=s.phase1_n_train, arch_kwargs={})
    if arch == "aft_arch2":
        return dict(epochs=s.cnn_epochs, n_train=s.n_train, n_test=s.n_test, tikhonov=s.cnn_tikhonov_lambdas,
                    lasso=s.cnn_lasso_lambdas, phase1_epochs=s.cnn_phase1_epochs, phase1_iters=s.phase1_iters,
                    phase1_n_train=s.phase1_n_train, arch_kwargs={})
    kw = {"width": s.cifar_width} if arch == "aft_arch3" and s.cifar_width != 1.0 else {}
    return dict(epochs=s.cifar_epochs, n_train=s.cifar_n_train, n_test=s.cifar_n_test, tikhonov=s.cnn_tikhonov_lambdas,
                lasso=s.cnn_lasso_lambdas, phase1_epochs=s.cifar_phase1_epochs, phase1_iters=s.cifar_phase1_iters,
                phase1_n_train=s.cifar_n_train, arch_kwargs=kw)


def table2_archs(s: Settings) -> tuple[str, ...]:
    """The architectures this run trains (Architectures 3-4 only when ``s.cifar``)."""
    return ("aft_arch1", "aft_arch2") + (("aft_arch3", "aft_arch4") if s.cifar else ())


def baseline_config(s: Settings, arch: str, regularizer: str, lam: float) -> TrainConfig:
    """A baseline of Table 2 (``regularizer`` ``"lasso"``/``"tikhonov"``, λ = 0 is "none"); for Architectures 1-2
    this is exactly :func:`regularized_config` (Table 1's / Figure 2's models)."""
    a = _arch_settings(s, arch)
    return TrainConfig(arch=arch, dataset=ARCH_DATA[arch], epochs=a["epochs"], batch_size=s.batch_size, lr=s.lr,
                       n_train=a["n_train"], l1=lam if regularizer == "lasso" else 0.0,
                       l2=lam if regularizer == "tikhonov" else 0.0, loss=LOSS, seed=s.seed,
                       arch_kwargs=a["arch_kwargs"])


def phase1_config(s: Settings, arch: str) -> adv.AdversarialConfig:
    """Phase I of the proposed model of ``arch``."""
    a = _arch_settings(s, arch)
    return adv.AdversarialConfig(arch=arch, dataset=ARCH_DATA[arch], epochs=a["phase1_epochs"],
                                 batch_size=s.batch_size, lr=s.phase1_lr, disc_lr=s.disc_lr, disc_steps=s.disc_steps,
                                 n_train=a["phase1_n_train"], max_iters=a["phase1_iters"], seed=s.seed,
                                 arch_kwargs=a["arch_kwargs"])


def eval_set(s: Settings, arch: str):
    """The test set of ``arch`` for this run (tensors) and its size setting."""
    n_test = _arch_settings(s, arch)["n_test"]
    ds = load(ARCH_DATA[arch], "test").subset(n_test or None, seed=s.seed)
    return ds.x, ds.y, n_test


def test_accuracy(s: Settings, trained: Trained, arch: str, store: Store, test=None) -> float:
    """Test accuracy (%) of ``trained``, cached under the same key as Table 1's evaluations."""
    x, y, n_test = test if test is not None else eval_set(s, arch)
    key = {"train": trained.config.__dict__, "test_n": n_test, "seed": s.seed}
    if ARCH_DATA[arch] != DATASET:
        key["dataset"] = ARCH_DATA[arch]
    return 100 * store.cached_result("eval", key, lambda: accuracy(trained.model, x, y), code=TRAINING_CODE)


def plan(s: Settings) -> list[dict]:
    """The training plan of Table 2 without training anything (the ``paper`` profile's dry run).

    Builds every model and Phase-I network once (checks that the architectures
    and their FE/decoder/discriminator fit together) and checks that each
    dataset has a place to be loaded from; returns one row per training run.
    """
    rows = []
    for arch in table2_archs(s):
        a = _arch_settings(s, arch)
        shape = (1, 28, 28) if ARCH_DATA[arch] == DATASET else (3, 32, 32)
        p1 = phase1_config(s, arch)
        _, extractor, decoder, disc = adv.networks(p1, shape)
        with torch.no_grad():
            z = extractor(torch.zeros(2, *shape))
            assert decoder(z).shape == (2, *shape) and disc(z.flatten(1)).shape == (2, 1)
        if not locate(ARCH_DATA[arch]):
            raise FileNotFoundError(f"no data location for {ARCH_DATA[arch]}")
        rows.append({"arch": arch, "run": "baseline none", "config": baseline_config(s, arch, "tikhonov", 0.0)})
        for reg in ("lasso", "tikhonov"):
            for lam in a[reg]:
                if lam > 0:
                    rows.append({"arch": arch, "run": f"baseline {reg} {lam:g}",
                                 "config": baseline_config(s, arch, reg, lam)})
        rows.append({"arch": arch, "run": "proposed Phase I", "config": p1})
        rows.append({"arch": arch, "run": "proposed Phase II",
                     "config": adv.phase2_config(adv.reference_of(p1), arch, ARCH_DATA[arch], a["epochs"],
                                                 s.batch_size, s.lr, a["n_train"], s.seed, a["arch_kwargs"])})
    return rows


def table2_models(s: Settings, store: Store | None = None) -> tuple[pd.DataFrame, dict, dict]:
    """Train (or load) every model of Table 2.

    Returns (``grid``: one row per trained model — arch, method, λ, train/test
    accuracy, generalization error, seconds, cached; ``models``: (arch, method,
    λ) → Trained; ``phase1``: arch → :class:`ftlib.adversarial.Pretrained`).
    """
    store = store or Store()
    rows, trained_models, phase1 = [], {}, {}
    for arch in table2_archs(s):
        a = _arch_settings(s, arch)
        test = eval_set(s, arch)
        runs = [("none", 0.0)] + [(reg, lam) for reg in ("lasso", "tikhonov") for lam in a[reg] if lam > 0]
        for method, lam in runs:
            t = train(baseline_config(s, arch, "tikhonov" if method == "none" else method, lam), store)
            trained_models[(arch, method, lam)] = t
            rows.append((arch, method, lam, t, t.wall_time_s))
        pre = adv.pretrain(phase1_config(s, arch), store)
        phase1[arch] = pre
        t = adv.finetune(pre, a["epochs"], s.batch_size, s.lr, a["n_train"], s.seed, store)
        trained_models[(arch, "proposed", 0.0)] = t
        rows.append((arch, "proposed", 0.0, t, t.wall_time_s + pre.wall_time_s))
    out = []
    for arch, method, lam, t, secs in rows:
        test_acc = test_accuracy(s, t, arch, store)
        out.append({"arch": arch, "method": method, "lambda": lam, "train_acc": 100 * t.train_acc,
                    "test_acc": test_acc, "gen_error": 100 * t.train_acc - test_acc, "train_seconds": secs,
                    "cached": t.from_cache})
    return pd.DataFrame(out), trained_models, phase1


def select(grid: pd.DataFrame) -> pd.DataFrame:
    """Table 2: per architecture, none, the best-test-accuracy λ of Lasso and of Tikhonov, and proposed."""
    rows = []
    for arch, g in grid.groupby("arch", sort=False):
        for method in METHODS:
            m = g[g.method == method]
            if len(m):
                rows.append(m.loc[m.test_acc.idxmax()])
    return pd.DataFrame(rows).reset_index(drop=True)


def table2_side_by_side(table: pd.DataFrame) -> pd.DataFrame:
    """Our Table 2 beside the paper's: (arch, method, chosen λ) × (train, test, G) × (paper, ours, gap)."""
    from ..reference import get

    paper = get("AFT-T2").values
    rows = []
    for r in table.itertuples():
        p = paper[r.arch.replace("aft_", "")][r.method]
        row = {"arch": r.arch.replace("aft_", ""), "method": r.method,
               "λ": f"{r._3:g}" if r.method in ("lasso", "tikhonov") else "—"}
        for (name, col), pv in zip((("train", "train_acc"), ("test", "test_acc"), ("G", "gen_error")), p):
            ours = getattr(r, col)
            row[f"{name} paper"], row[f"{name} ours"], row[f"{name} gap"] = pv, ours, ours - pv
        rows.append(row)
    return pd.DataFrame(rows).set_index(["arch", "method", "λ"])


NONINFERIORITY_PP = 1.0
"""Table 2's "keeps the test accuracy": the proposed model's accuracy is not more than this many points below
any baseline's (the margin of the former point rule, tolerance_pp / 2, declared before this change)."""


def compare_table2(report, table: pd.DataFrame, s: Settings, tolerance_pp: float = 2.0) -> None:
    """Table 2's claims on our numbers, per architecture: the proposed model has the lowest generalization
    error, and no lower test accuracy than the best baseline (within ``tolerance_pp``); plus every number."""
    from ..reference import get

    paper = get("AFT-T2").values
    for arch, g in table.groupby("arch", sort=False):
        g = g.set_index("method")
        prop, base = g.loc["proposed"], g.drop(index="proposed")
        name = arch.replace("aft_", "")
        pg = paper[name]
        n_tr, n_te = s.n_train or 60_000, s.n_test or 10_000
        se_g = lambda r: math.hypot(_binomial_se(r.train_acc, n_tr), _binomial_se(r.test_acc, n_te))  # noqa: E731
        se_a = lambda r: _binomial_se(r.test_acc, n_te)  # noqa: E731
        # intersection-union over the baselines: the proposed model must beat every one of them
        p_g = max(_p_positive(b.gen_error - prop.gen_error, math.hypot(se_g(b), se_g(prop))) for _, b in base.iterrows())
        report.check("AFT-T2:lowest_gen_error",
                     f"{pg['proposed'][2]:.2f} vs best baseline {min(v[2] for k, v in pg.items() if k != 'proposed'):.2f}",
                     f"{prop.gen_error:.2f} vs best baseline {base.gen_error.min():.2f} ({base.gen_error.idxmin()})",
                     claim=f"{name}: proposed has the lowest generalization error", p_value=p_g,
                     summary=f"G(each baseline) − G(proposed), the smallest {(base.gen_error - prop.gen_error).min():+.2f} pp")
        margin = NONINFERIORITY_PP
        p_a = max(_p_positive(prop.test_acc - b.test_acc + margin, math.hypot(se_a(b), se_a(prop)))
                  for _, b in base.iterrows())
        report.check("AFT-T2:keeps_accuracy",
                     f"{pg['proposed'][1]:.2f} vs {max(v[1] for k, v in pg.items() if k != 'proposed'):.2f}",
                     f"{prop.test_acc:.2f} vs {base.test_acc.max():.2f} ({base.test_acc.idxmax()})",
                     claim=f"{name}: proposed keeps the test accuracy of the best baseline", p_value=p_a,
                     summary=f"test accuracy(proposed) − best baseline = {prop.test_acc - base.test_acc.max():+.2f} pp, "
                             f"margin {margin:g} pp")
        for method, r in g.iterrows():
            report.numeric("AFT-T2", f"{name} {method}: test accuracy (%)", pg[method][1], r.test_acc, tolerance_pp,
                           headline=False)
            report.numeric("AFT-T2", f"{name} {method}: generalization error (pp)", pg[method][2], r.gen_error,
                           tolerance_pp, headline=False)
    if not s.cifar:
        for name in ("arch3", "arch4"):
            report.not_runnable("AFT-T2", f"{name} (CIFAR-10): Table 2 rows", "8 numbers", headline=True, reason=
                                "CIFAR-10 Phase I (10k iterations) and full-width Architecture 3 (≈ 8-10 min per "
                                "epoch here) do not fit the quick profile's 5 minutes on 2 CPU cores; run with "
                                "-p profile paper (or -p cifar True) on a GPU")


def plot_phase1(phase1: dict) -> "object":
    """Figure 5: Phase-I loss curves per architecture: (a) reconstruction, (b) FE (generator) loss,
    (c) discriminator loss (its "gain" is the negative), against the iteration."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(9.0, 2.8))
    for arch, pre in phase1.items():
        h = pd.DataFrame(pre.history)
        if h.empty:
            continue
        for ax, col in zip(axes, ("reconstruction", "generator", "discriminator")):
            ax.plot(h["iteration"], h[col], marker=".", ms=3, label=arch.replace("aft_", ""))
    for ax, title, ylabel in zip(axes, ("(a) reconstruction", "(b) feature extractor (generator)",
                                        "(c) discriminator"),
                                 ("‖x − x′‖² per pixel", "−log D(z)", "−log D(z′) − log(1 − D(z))")):
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("Phase-I iteration")
        ax.set_ylabel(ylabel, fontsize=7)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def compare_phase1(report, phase1: dict) -> None:
    """Figure 5's shapes: reconstruction falls; the discriminator's loss and the FE's loss move towards the
    equilibrium value log 4 ≈ 1.386 / log 2 ≈ 0.693 (D = 1/2) — we check the reconstruction trend and report
    the last values."""
    for arch, pre in phase1.items():
        h = pd.DataFrame(pre.history)
        name = arch.replace("aft_", "")
        report.check("AFT-F5:curves", "Fig. 5", f"{len(h)} logged blocks", claim=f"{name}: Phase I loss curves")
        if len(h) < 2:
            continue
        first, last = h.iloc[0], h.iloc[-1]
        # detail rows: training minimises the reconstruction loss, so its fall is near-certain (issue 17)
        report.qualitative("AFT-F5", f"{name}: reconstruction loss falls during Phase I", "falls (Fig. 5a)",
                           f"{first.reconstruction:.4f} → {last.reconstruction:.4f}",
                           bool(last.reconstruction < first.reconstruction), headline=False,
                           rule="detail: last logged value below the first (near-certain: training minimises it)")
        report.qualitative("AFT-F5", f"{name}: the discriminator does not win outright (D(z′) − D(z) < 0.9 at the end)",
                           "min-max game (Fig. 5b, c)",
                           f"D(prior) {last.d_real:.2f}, D(features) {last.d_fake:.2f}, L_D {last.discriminator:.3f}",
                           bool(last.d_real - last.d_fake < 0.9), headline=False,
                           rule="detail: D(z′) − D(z) < 0.9 at the last logged block (point estimate)")


# Figure 7 ---------------------------------------------------------------------

FIGURE7_PANELS = {
    "AFT-F7a": ("aft_arch1", "stuck-at-0 weights", lambda: faults.StuckAtZero("weights"), 0.6, "accuracy"),
    "AFT-F7b": ("aft_arch2", "stuck-at-0 filters", lambda: faults.StuckAtZero("filters"), 0.4, "drop"),
    "AFT-F7c": ("aft_arch1", "stuck-at-0 nodes", lambda: faults.StuckAtZero("nodes"), 0.68, "accuracy"),
}
"""Figure 7's panels: id → (architecture, label, fault factory, quoted fraction, quoted quantity)."""

FIGURE7_METHODS = ("proposed", "tikhonov", "lasso")


def figure7_sweeps(s: Settings, table: pd.DataFrame, models: dict, store: Store | None = None) -> pd.DataFrame:
    """Figure 7: accuracy under stuck-at-0 faults of Table 2's proposed / Tikhonov / Lasso models
    (tidy: id, fault, method, rate, draw, accuracy)."""
    store = store or Store()
    frames = []
    for id_, (arch, label, make, quoted, _) in FIGURE7_PANELS.items():
        x, y, n_test = eval_set(s, arch)
        rates = sorted(set(s.fault_rates) | {0.0, quoted})
        data_id = {"dataset": ARCH_DATA[arch], "split": "test", "n": n_test, "seed": s.seed}
        chosen = table[table.arch == arch].set_index("method")
        for method in FIGURE7_METHODS:
            t = models[(arch, method, float(chosen.loc[method, "lambda"]))]
            df = cached_sweep(store, t, make(), rates, x, y, s.fault_draws, s.seed, data_id)
            frames.append(df.assign(id=id_, fault=label, method=method))
    return pd.concat(frames, ignore_index=True)


def figure7_quoted(sweeps: pd.DataFrame) -> pd.DataFrame:
    """Our numbers at the paper's quoted fractions (accuracy, or the drop from 0 faults for F7b), in %, and
    ``p_proposed_better``: the one-sided p-value of "proposed is better than this method" from the paired
    difference over the shared fault draws (:func:`ftlib.faults.paired_draws`)."""
    from ..reference import get

    summary = summarize_by(sweeps, ["id", "method"])
    rows = []
    for id_, (arch, label, _, quoted, kind) in FIGURE7_PANELS.items():
        panel = sweeps[sweeps.id == id_]
        prop = panel[panel.method == "proposed"]
        for method in FIGURE7_METHODS:
            g = summary[(summary.id == id_) & (summary.method == method)].set_index("rate")
            at, clean = 100 * g.loc[quoted, "mean"], 100 * g.loc[0.0, "mean"]
            ours = clean - at if kind == "drop" else at
            p = float("nan")
            if method != "proposed":  # proposed better: more accuracy, or a smaller drop
                d = faults.paired_draws(prop, panel[panel.method == method], quoted,
                                        baseline_rate=0.0 if kind == "drop" else None)
                p = faults.one_sided(d, "less" if kind == "drop" else "greater")
            rows.append({"id": id_, "fault": f"{quoted:.0%} {label}", "quantity": kind, "method": method,
                         "paper": get(id_).values[method], "ours": ours,
                         "ci_halfwidth": 100 * g.loc[quoted, "ci_halfwidth"], "p_proposed_better": p})
    return pd.DataFrame(rows)


def plot_figure7(sweeps: pd.DataFrame):
    """Figure 7: accuracy vs fault fraction, proposed vs Tikhonov vs Lasso, 95 % bands; the paper's quoted
    points as crosses (for F7b the paper quotes a drop, drawn as clean accuracy minus the drop)."""
    import matplotlib.pyplot as plt

    from ..reference import get

    fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.0), sharey=True)
    summary = summarize_by(sweeps, ["id", "method"])
    for ax, (id_, (arch, label, _, quoted, kind)) in zip(axes, FIGURE7_PANELS.items()):
        for method in FIGURE7_METHODS:
            g = summary[(summary.id == id_) & (summary.method == method)]
            line = plot_bands(ax, g, f"{method} (ours)")
            p = get(id_).values[method]
            if kind == "drop":
                p = 100 * g.set_index("rate").loc[0.0, "mean"] - p
            _paper_point(ax, quoted, p, line, method)
        ax.set_title(f"{id_}: {label} ({arch.replace('aft_', '')})", fontsize=8)
    return _finish_fault_panels(fig, axes)


def compare_figure7(report, quoted: pd.DataFrame, tolerance_pp: float = 5.0) -> None:
    """Figure 7's claim per panel (proposed keeps more accuracy than Tikhonov and Lasso at the quoted fraction,
    each by a paired difference over the shared fault draws at one-sided p < :data:`CLAIM_ALPHA`) and the
    quoted numbers."""
    for id_, g in quoted.groupby("id", sort=False):
        g = g.set_index("method")
        kind = g["quantity"].iloc[0]
        better = (lambda a, b: a < b) if kind == "drop" else (lambda a, b: a > b)
        prop = g.loc["proposed", "ours"]
        # intersection-union test: better than both, each one-sided at CLAIM_ALPHA (no correction needed)
        p = max(g.loc[m, "p_proposed_better"] for m in ("tikhonov", "lasso"))
        point = all(better(prop, g.loc[m, "ours"]) for m in ("tikhonov", "lasso"))
        what = "smallest accuracy drop" if kind == "drop" else "highest accuracy"
        report.check(f"{id_}:proposed_beats", " / ".join(f"{g.loc[m, 'paper']:.2f}" for m in FIGURE7_METHODS),
                     " / ".join(f"{g.loc[m, 'ours']:.2f}" for m in FIGURE7_METHODS) +
                     f" (±{g['ci_halfwidth'].max():.2f}; paired, the larger one-sided p = {p:.2g})",
                     claim=f"proposed has the {what} at {g['fault'].iloc[0]}", p_value=p,
                     summary="proposed vs Tikhonov and vs Lasso over the shared draws (intersection-union)",
                     note="" if p < CLAIM_ALPHA else ("the order holds but within the fault-draw noise"
                                                      if point else "the order does not hold"))
        for m in FIGURE7_METHODS:
            report.numeric(id_, f"{m}: {kind} at {g['fault'].iloc[0]} (%)", g.loc[m, "paper"], g.loc[m, "ours"],
                           tolerance_pp, headline=False)


# The hypothesis: generalization error predicts fault tolerance ----------------

def hypothesis_points(s: Settings, grid: pd.DataFrame, models: dict, store: Store | None = None) -> pd.DataFrame:
    """One row per (model trained in the chapter, Figure 7 panel): its generalization error and its accuracy
    under the panel's faults at the quoted fraction (for F7b: the drop), from cached sweeps."""
    store = store or Store()
    rows = []
    for id_, (arch, label, make, quoted, kind) in FIGURE7_PANELS.items():
        x, y, n_test = eval_set(s, arch)
        rates = sorted(set(s.fault_rates) | {0.0, quoted})
        data_id = {"dataset": ARCH_DATA[arch], "split": "test", "n": n_test, "seed": s.seed}
        for r in grid[grid.arch == arch].itertuples():
            t = models[(arch, r.method, float(r._3))]
            df = cached_sweep(store, t, make(), rates, x, y, s.fault_draws, s.seed, data_id)
            m = df.groupby("rate")["accuracy"].mean()
            value = 100 * (m.loc[0.0] - m.loc[quoted]) if kind == "drop" else 100 * m.loc[quoted]
            rows.append({"id": id_, "fault": f"{quoted:.0%} {label}", "quantity": kind, "arch": arch,
                         "method": r.method, "lambda": r._3, "gen_error": r.gen_error, "test_acc": r.test_acc,
                         "value": value})
    return pd.DataFrame(rows)


LEARNED_MIN_ACC = 20.0
"""Test accuracy (%) below which a model counts as collapsed (2 × the 10 % of chance on 10 classes)."""


def hypothesis_test(points: pd.DataFrame, min_test_acc: float = 0.0) -> pd.DataFrame:
    """Spearman correlation of the generalization error with the faulty accuracy (or drop) per panel.
    The paper's hypothesis predicts ρ < 0 for accuracy (lower G, more accuracy under faults) and ρ > 0 for drop.

    ``min_test_acc`` (%) keeps only models at least that accurate without faults. With
    :data:`LEARNED_MIN_ACC` it drops the collapsed models of the strongest penalties, which predict one
    class: their G is ≈ 0 *and* their faulty accuracy ≈ chance, so they pull ρ towards the wrong sign for a
    reason the hypothesis is not about (a fixed rule stated before looking, not tuned per panel)."""
    from scipy.stats import spearmanr

    rows = []
    kept = points[points["test_acc"] >= min_test_acc]
    for id_, g in kept.groupby("id", sort=False):
        rho, p = spearmanr(g["gen_error"], g["value"]) if len(g) > 2 else (float("nan"), float("nan"))
        kind = g["quantity"].iloc[0]
        rows.append({"id": id_, "fault": g["fault"].iloc[0], "quantity": kind,
                     "models": "all" if min_test_acc <= 0 else f"test acc ≥ {min_test_acc:g} %",
                     "n_models": len(g), "spearman_rho": rho, "p_value": p,
                     "predicted_sign": "+" if kind == "drop" else "−"})
    return pd.DataFrame(rows)


def hypothesis_tests(points: pd.DataFrame) -> pd.DataFrame:
    """:func:`hypothesis_test` on all models, then on the models that learned (:data:`LEARNED_MIN_ACC`)."""
    return pd.concat([hypothesis_test(points), hypothesis_test(points, LEARNED_MIN_ACC)], ignore_index=True)


def plot_hypothesis(points: pd.DataFrame):
    """Scatter: generalization error vs accuracy under faults (drop for filters), one panel per fault type."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.0))
    for ax, (id_, g) in zip(axes, points.groupby("id", sort=False)):
        for method, m in g.groupby("method", sort=False):
            ax.scatter(m["gen_error"], m["value"], label=method, s=18)
        ax.set_title(f"{id_}: {g['fault'].iloc[0]}", fontsize=8)
        ax.set_xlabel("generalization error (pp)")
        ax.set_ylabel("accuracy drop (pp)" if g["quantity"].iloc[0] == "drop" else "accuracy under faults (%)")
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    return fig


def compare_hypothesis(report, test: pd.DataFrame) -> None:
    """The hypothesis per panel, as a qualitative row of that panel's id: the correlation has the predicted
    sign and p < 0.05."""
    for r in test.itertuples():
        sign_ok = (r.spearman_rho > 0) if r.quantity == "drop" else (r.spearman_rho < 0)
        report.qualitative(r.id, f"hypothesis: generalization error predicts {r.quantity} under faults "
                                 f"({r.n_models} models, {r.models})", f"ρ {r.predicted_sign} (lower G, more tolerance)",
                           f"Spearman ρ = {r.spearman_rho:+.2f}, p = {r.p_value:.3f}",
                           bool(sign_ok and r.p_value < 0.05))


PHASE1_PARAMS = (
    Param("phase1_epochs", int, "Phase-I epochs of Architecture 1", low=1, high=100_000),
    Param("cnn_phase1_epochs", int, "Phase-I epochs of Architecture 2", low=1, high=100_000),
    Param("phase1_n_train", int, "FashionMNIST images of Phase I (0 = all)", low=0, high=60_000),
    Param("phase1_iters", int, "cap on FashionMNIST Phase-I iterations (0 = none)", low=0, high=10**8),
    Param("phase1_lr", float, "Adam learning rate of the reconstruction game", low=1e-7, high=1.0),
    Param("disc_lr", float, "learning rate of the discriminator and of the FE's adversarial step", low=1e-7, high=1.0),
    Param("disc_steps", int, "discriminator steps k per Phase-I iteration", low=1, high=100),
)
"""Phase I (the adversarial pre-training) settings of Architectures 1 and 2, shared by every section that
trains the two-phase method on FashionMNIST."""

T2_PARAMS = (
    Param("epochs", int, "supervised epochs of the Architecture 1 models (baselines and Phase II)", low=1, high=10_000),
    Param("cnn_epochs", int, "supervised epochs of the Architecture 2 models", low=1, high=10_000),
    Param("batch_size", int, "mini-batch size", low=1, high=60_000),
    Param("lr", float, "Adam learning rate of the supervised training", low=1e-7, high=1.0),
    Param("n_train", int, "FashionMNIST training images (0 = all 60,000)", low=0, high=60_000),
    Param("n_test", int, "FashionMNIST test images (0 = all 10,000)", low=0, high=10_000),
    Param("tikhonov_lambdas", list, "Tikhonov grid of Architecture 1", item=float, low=0.0, high=10.0),
    Param("lasso_lambdas", list, "Lasso grid of Architecture 1", item=float, low=0.0, high=10.0),
    Param("cnn_tikhonov_lambdas", list, "Tikhonov grid of the CNNs", item=float, low=0.0, high=10.0),
    Param("cnn_lasso_lambdas", list, "Lasso grid of the CNNs", item=float, low=0.0, high=10.0),
    *PHASE1_PARAMS,
    Param("cifar", bool, "also train Architectures 3 and 4 on CIFAR-10"),
    Param("cifar_width", float, "width multiplier of Architecture 3", low=0.01, high=4.0),
    Param("cifar_n_train", int, "CIFAR-10 training images (0 = all 50,000)", low=0, high=50_000),
    Param("cifar_n_test", int, "CIFAR-10 test images (0 = all 10,000)", low=0, high=10_000),
    Param("cifar_epochs", int, "supervised epochs of Architectures 3-4", low=1, high=10_000),
    Param("cifar_phase1_epochs", int, "Phase-I epochs of Architectures 3-4", low=1, high=100_000),
    Param("cifar_phase1_iters", int, "cap on CIFAR-10 Phase-I iterations (0 = none)", low=0, high=10**8),
)

_T2_COMMON = dict(phase1_lr=1e-3, disc_lr=5e-5, disc_steps=1, cifar_width=1.0)
T2_PROFILES = {
    # smoke and quick reuse the Architecture 1 models of Table 1 and the CNNs of Figure 2 (same settings)
    "smoke": dict(_T2_COMMON, epochs=1, cnn_epochs=1, batch_size=256, lr=1e-3, n_train=2000, n_test=500,
                  tikhonov_lambdas=[0.0, 1e-3], lasso_lambdas=[0.0, 1e-3], cnn_tikhonov_lambdas=[1e-3],
                  cnn_lasso_lambdas=[1e-3], phase1_epochs=1, cnn_phase1_epochs=1, phase1_n_train=2000,
                  phase1_iters=3, cifar=False, cifar_n_train=1000, cifar_n_test=500, cifar_epochs=1,
                  cifar_phase1_epochs=1, cifar_phase1_iters=3),
    "quick": dict(_T2_COMMON, epochs=6, cnn_epochs=3, batch_size=128, lr=1e-3, n_train=30_000, n_test=5000,
                  tikhonov_lambdas=[0.0, 1e-4, 1e-3, 0.1], lasso_lambdas=[0.0, 1e-4, 1e-3, 1e-2],
                  cnn_tikhonov_lambdas=[1e-4, 1e-3], cnn_lasso_lambdas=[1e-4, 1e-3], phase1_epochs=2,
                  cnn_phase1_epochs=1, phase1_n_train=30_000, phase1_iters=0, cifar=False, cifar_width=0.25,
                  cifar_n_train=10_000, cifar_n_test=2000, cifar_epochs=5, cifar_phase1_epochs=2,
                  cifar_phase1_iters=0),
    "paper": dict(_T2_COMMON, epochs=50, cnn_epochs=50, batch_size=128, lr=1e-3, n_train=0, n_test=0,
                  tikhonov_lambdas=[0.0, 1e-4, 1e-3, 0.1], lasso_lambdas=[0.0, 1e-4, 1e-3, 1e-2],
                  cnn_tikhonov_lambdas=[1e-4, 1e-3, 0.1], cnn_lasso_lambdas=[1e-4, 1e-3, 1e-2],
                  phase1_epochs=2000, cnn_phase1_epochs=2000, phase1_n_train=0, phase1_iters=0, cifar=True,
                  cifar_n_train=0, cifar_n_test=0, cifar_epochs=50, cifar_phase1_epochs=26,
                  cifar_phase1_iters=10_000),
}

FAULT_PARAMS = (
    Param("fault_rates", list, "fault fractions of Figure 7", item=float, low=0.0, high=1.0),
    Param("fault_draws", int, "faulty instances per fault fraction", low=2, high=10_000),
)
FAULT_PROFILES = {"smoke": dict(fault_rates=[0.0, 0.4], fault_draws=2),
                  "quick": dict(fault_rates=[0.0, 0.2, 0.4, 0.6, 0.8, 0.9], fault_draws=5),
                  "paper": dict(fault_rates=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], fault_draws=20)}

SECTIONS += [
    Section(
        key="adversarial_ft/adversarial_framework",
        title="adversarial_ft, Section 6.3: the adversarial framework against Lasso and Tikhonov",
        ids=("AFT-T2", "AFT-F5", "AFT-A1", "AFT-F3/F4/F6"),
        params=T2_PARAMS,
        profiles=T2_PROFILES,
    ),
    Section(
        key="adversarial_ft/faults",
        title="adversarial_ft, Section 6.4: performance in the presence of faults",
        ids=("AFT-F7a", "AFT-F7b", "AFT-F7c"),
        params=T2_PARAMS + FAULT_PARAMS,
        profiles={k: {**T2_PROFILES[k], **FAULT_PROFILES[k]} for k in T2_PROFILES},
    ),
]
