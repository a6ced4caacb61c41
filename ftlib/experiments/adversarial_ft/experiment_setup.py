"""adversarial_ft, Section 4 "Experiment setup" (notebook ``adversarial_ft/experiment_setup``).

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

The notebook calls :func:`table1`, :func:`figure_models`, :func:`weight_spread`,
:func:`figure2_sweeps`, their ``plot_*`` functions and :func:`compare`.
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from ... import faults
from ...data import load
from ...distributed import train_many
from ...params import Param, Section, Settings
from ...stats import binomial_se, one_sided, p_positive, paired_draws, std_log_gap, summarize
from ...store import Store
from ...training import TRAINING_CODE, Trained, accuracy, penalized_weights, train
from ..common import cached_sweep, plot_bands
from ._config import DATASET, claim_note, finish_fault_panels, paper_point, regularized_config, test_set

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
    from ...reference import get

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

    from ...reference import get

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
    from ...reference import get

    holds = tradeoff_holds(df)
    for reg, h in holds.items():
        g = df[df.regularizer == reg].sort_values("lambda")
        lo, hi = g.iloc[0], g.iloc[-1]
        opts = report.settings.as_dict()
        n_tr, n_te = opts.get("n_train") or 60_000, opts.get("n_test") or 10_000
        se_g = lambda r: math.hypot(binomial_se(r.train_acc, n_tr), binomial_se(r.test_acc, n_te))  # noqa: E731
        d, se = lo.gen_error - hi.gen_error, math.hypot(se_g(lo), se_g(hi))
        report.check("AFT-T1:gen_error_falls", "yes",
                     f"G {lo.gen_error:.2f} → {hi.gen_error:.2f} pp (λ {lo['lambda']:g} → {hi['lambda']:g})",
                     claim=f"{reg}: larger λ lowers the generalization error", p_value=p_positive(d, se),
                     summary=f"G(λ = 0) − G(largest λ) = {d:+.2f} ± {se:.2f} pp (binomial s.e.)")
        d, se = lo.test_acc - hi.test_acc, math.hypot(binomial_se(lo.test_acc, n_te), binomial_se(hi.test_acc, n_te))
        report.check("AFT-T1:accuracy_falls", "yes",
                     f"{lo.test_acc:.2f} % at λ {lo['lambda']:g} → {hi.test_acc:.2f} % at λ {hi['lambda']:g} "
                     f"(best {g.test_acc.max():.2f} %)", claim=f"{reg}: the largest λ costs test accuracy",
                     p_value=p_positive(d, se), summary=f"test accuracy (λ = 0) − (largest λ) = {d:+.2f} ± {se:.2f} pp")
    paper = get("AFT-T1").values
    for r in df.itertuples():
        p = paper.get(f"{r.regularizer} {r._2:g}")
        if p is None:
            continue
        report.numeric("AFT-T1", f"{r.regularizer} λ={r._2:g}: test accuracy (%)", p["test"], r.test_acc, TOLERANCE_PP,
                       headline=False)
        report.numeric("AFT-T1", f"{r.regularizer} λ={r._2:g}: generalization error (pp)", p["gen_error"],
                       r.gen_error, TOLERANCE_PP, headline=False)



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

    from ...reference import get

    fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.0), sharey=True)
    summary = summarize(df, "accuracy", groups=["id", "model"])
    for ax, (id_, (net, label, _)) in zip(axes, FIGURE2_PANELS.items()):
        for kind in ("unregularized", "regularized"):
            line = plot_bands(ax, summary[(summary.id == id_) & (summary.model == kind)], f"{kind} (ours)")
            paper_point(ax, FIGURE2_QUOTED[id_], get(id_).values[kind], line, kind)
        ax.set_title(f"{id_}: {label} ({net.upper()})", fontsize=8)
    return finish_fault_panels(fig, axes)



def compare_figures(report, spread: pd.DataFrame, sweeps: pd.DataFrame, tolerance_pp: float = 5.0) -> None:
    """Add Figure 1's and Figure 2's claims and quoted numbers to ``report``. Figure 2's claims need a paired
    difference over the shared fault draws at one-sided p <
    :data:`~ftlib.experiments.adversarial_ft._config.CLAIM_ALPHA`."""
    from ...reference import get

    mlp = spread[spread.network == "mlp"].set_index("model")
    paper = get("AFT-F1").values
    sd, nw = mlp["std"], mlp["n_weights"]
    d, se = std_log_gap(sd["unregularized"], nw["unregularized"], sd["regularized"], nw["regularized"])
    report.check("AFT-F1:smaller_std", f"{paper['std_regularized']:g} vs {paper['std_unregularized']:g}",
                 f"{sd['regularized']:.4f} vs {sd['unregularized']:.4f}", p_value=p_positive(d, se),
                 summary=f"ln std(unregularized) − ln std(regularized) = {d:+.3f} ± {se:.2g} (N = "
                 f"{int(nw['regularized'])} and {int(nw['unregularized'])} weights)")
    for kind in ("regularized", "unregularized"):
        report.check(f"AFT-F1:std_{kind}", paper[f"std_{kind}"], float(sd[kind]),
                     estimate=float(sd[kind]), se=float(sd[kind]) / math.sqrt(2 * max(int(nw[kind]) - 1, 1)))
    summary = summarize(sweeps, "accuracy", groups=["id", "model"])
    for id_, (net, label, _) in FIGURE2_PANELS.items():
        rate = FIGURE2_QUOTED[id_]
        at = summary[(summary.id == id_) & (summary.rate == rate)].set_index("model")
        reg, unreg = 100 * at.loc["regularized", "mean"], 100 * at.loc["unregularized", "mean"]
        panel = sweeps[sweeps.id == id_]
        d = paired_draws(panel[panel.model == "regularized"], panel[panel.model == "unregularized"], rate)
        p = one_sided(d, "greater")
        paper = get(id_).values
        report.check(f"{id_}:regularized_beats", f"{paper['regularized']:.2f} vs {paper['unregularized']:.2f} %",
                     f"{reg:.2f} vs {unreg:.2f} %, paired difference {100 * d['mean']:+.2f} pp "
                     f"(±{100 * d['ci_halfwidth']:.2f}, one-sided p = {p:.2g})", note=claim_note(d["mean"], p),
                     claim=f"at {rate:.0%} {label}, the regularized {net.upper()} keeps more accuracy",
                     p_value=p, summary=f"paired difference {100 * d['mean']:+.2f} pp over {d['n']} shared draws")
        for kind, ours in (("regularized", reg), ("unregularized", unreg)):
            report.numeric(id_, f"{kind} accuracy at {rate:.0%} {label} (%)", paper[kind], ours, tolerance_pp,
                           headline=False)



def compare(report, table: pd.DataFrame, spread: pd.DataFrame, sweeps: pd.DataFrame) -> None:
    """Every verdict of the section on ``report`` (an :class:`ftlib.report.Report`): Table 1's claims and
    numbers (:func:`compare_table1`), then Figure 1's and Figure 2's (:func:`compare_figures`)."""
    compare_table1(report, table)
    compare_figures(report, spread, sweeps)


SECTION = Section(
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
        # quick: a third of the training set and half the test set (the whole book must build in 30 minutes
        # on 2 cores: 30,000 images made the quick book 36 minutes in session 4's cold build)
        "quick": dict(epochs=6, batch_size=128, lr=1e-3, n_train=20_000, n_test=5000,
                      tikhonov_lambdas=[0.0, 1e-4, 1e-3, 0.1], lasso_lambdas=[0.0, 1e-4, 1e-3, 1e-2],
                      fig_lambda=1e-3, cnn_epochs=2, fault_rates=[0.0, 0.2, 0.4, 0.6, 0.8, 0.9], fault_draws=5),
        "paper": dict(epochs=50, batch_size=128, lr=1e-3, n_train=0, n_test=0,
                      tikhonov_lambdas=[0.0, 1e-4, 1e-3, 0.1], lasso_lambdas=[0.0, 1e-4, 1e-3, 1e-2],
                      fig_lambda=1e-3, cnn_epochs=50, fault_rates=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
                      fault_draws=20),
    },
)
