"""adversarial_ft experiments (Duddu, Rao, Balas).

Section 4 "Experiment setup", Table 1 (AFT-T1): Architecture 1 trained on
FashionMNIST with Tikhonov (L2) or Lasso (L1) penalties of increasing λ; the
generalization error is G = R_train − R_test (accuracies in %).

Choices where the paper is silent (one place, shown in the book):
softmax cross-entropy loss, Adam (lr from the profile), batch size from the
profile, penalty on weights but not biases, inputs scaled to [0, 1], no
augmentation, training accuracy measured in eval mode after the last epoch.
"""

from __future__ import annotations

import pandas as pd

from ..data import load
from ..params import Param, Settings
from ..sections import Section
from ..store import Store
from ..training import TRAINING_CODE, TrainConfig, accuracy, train

DATASET = "fashion_mnist"
LOSS = "ce"


def regularized_config(s: Settings, regularizer: str, lam: float, arch: str = "aft_arch1") -> TrainConfig:
    """The training configuration of one Table 1 cell (``regularizer`` is ``"tikhonov"`` or ``"lasso"``)."""
    return TrainConfig(
        arch=arch, dataset=DATASET, epochs=s.epochs, batch_size=s.batch_size, lr=s.lr, n_train=s.n_train,
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
    for regularizer, lambdas in (("tikhonov", s.tikhonov_lambdas), ("lasso", s.lasso_lambdas)):
        for lam in lambdas:
            trained = train(regularized_config(s, regularizer, lam), store)
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
        report.qualitative(
            "AFT-T1", f"{reg}: larger λ lowers the generalization error",
            "yes", f"G {lo.gen_error:.2f} → {hi.gen_error:.2f} pp (λ {lo['lambda']:g} → {hi['lambda']:g})",
            h["gen_error_falls"])
        report.qualitative(
            "AFT-T1", f"{reg}: the largest λ costs test accuracy",
            "yes", f"best {g.test_acc.max():.2f} % → {hi.test_acc:.2f} % at λ {hi['lambda']:g}",
            h["accuracy_falls"])
    paper = get("AFT-T1").values
    for r in df.itertuples():
        p = paper.get(f"{r.regularizer} {r._2:g}")
        if p is None:
            continue
        report.numeric("AFT-T1", f"{r.regularizer} λ={r._2:g}: test accuracy (%)", p["test"], r.test_acc, TOLERANCE_PP)
        report.numeric("AFT-T1", f"{r.regularizer} λ={r._2:g}: generalization error (pp)", p["gen_error"],
                       r.gen_error, TOLERANCE_PP)


SECTIONS = [Section(
    key="adversarial_ft/experiment_setup",
    title="adversarial_ft, Section 4: the accuracy-generalization trade-off of L1/L2",
    ids=("AFT-T1",),
    params=(
        Param("epochs", int, "training epochs per model", low=1, high=10_000),
        Param("batch_size", int, "mini-batch size", low=1, high=60_000),
        Param("lr", float, "Adam learning rate", low=1e-7, high=1.0),
        Param("n_train", int, "training images used (0 = all 60,000)", low=0, high=60_000),
        Param("n_test", int, "test images used (0 = all 10,000)", low=0, high=10_000),
        Param("tikhonov_lambdas", list, "Tikhonov (L2) strengths", item=float, low=0.0, high=10.0),
        Param("lasso_lambdas", list, "Lasso (L1) strengths", item=float, low=0.0, high=10.0),
    ),
    profiles={
        "smoke": dict(epochs=1, batch_size=256, lr=1e-3, n_train=2000, n_test=500,
                      tikhonov_lambdas=[0.0, 1e-3], lasso_lambdas=[0.0, 1e-3]),
        "quick": dict(epochs=6, batch_size=128, lr=1e-3, n_train=0, n_test=0,
                      tikhonov_lambdas=[0.0, 1e-4, 1e-3, 0.1], lasso_lambdas=[0.0, 1e-4, 1e-3, 1e-2]),
        "paper": dict(epochs=50, batch_size=128, lr=1e-3, n_train=0, n_test=0,
                      tikhonov_lambdas=[0.0, 1e-4, 1e-3, 0.1], lasso_lambdas=[0.0, 1e-4, 1e-3, 1e-2]),
    },
)]
