"""continuous_limit, Table 2 and supplement Fig 9 (notebook ``continuous_limit/dropout_ranking``).

CL-T2: networks 784-100-50-10 trained with unscaled dropout p_train on the first
hidden layer (:func:`~ftlib.experiments.continuous_limit._config.t2_config`),
and how well each metric — the crashing and correct networks' MAE and accuracy,
Theorem 1's E Δ and Var Δ (b3), Proposition 2's (b1) — orders them by p_train:
the rank loss of Table 2 (:func:`ftlib.theory.rank_loss`).

The notebook calls :func:`dropout_ranking`, :func:`plot_dropout`, :func:`table2` and :func:`compare`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import theory
from ...params import Section, Settings
from ...store import Store
from ...training import train
from ._config import T2_PARAMS, T2_PROFILES, eval_data, evaluate_network, single_thread, t2_config


T2_QUANTITIES = {  # name → (column, True if larger means "more robust")
    "Crashing, MAE": ("crash_mae", False), "Crashing, Accuracy": ("crash_acc", True),
    "Correct, MAE": ("correct_mae", False), "Correct, Accuracy": ("correct_acc", True),
    "T1 Var Δ": ("t1_var", False), "P2 E Δ": ("p2_mean", False), "P2 Var Δ": ("p2_var", False),
    "T1 E Δ": ("t1_mean", False),
}
"""Table 2's quantities: name → (column of :func:`dropout_ranking`, True if larger means "more robust")."""
PAPER_KEYS = {"Crashing, MAE": "crashing_mae", "Crashing, Accuracy": "crashing_acc", "Correct, MAE": "correct_mae",
              "Correct, Accuracy": "correct_acc", "T1 Var Δ": "t1_var", "P2 E Δ": "p2_mean", "P2 Var Δ": "p2_var",
              "T1 E Δ": "t1_mean"}
"""Each quantity of :data:`T2_QUANTITIES` → its entry in the paper's numbers (:mod:`ftlib.reference`, ``CL-T2``:
a (train, test) pair or the test value alone)."""
P_MAX = 0.03
"""Table 2 ranks the networks with p_train ≤ this."""
TOLERANCE = 15.0
"""Tolerance (rank-loss points) of the detail rows comparing our rank losses with the paper's."""
CLOSE = 10.0
"""Points within which T1 Var Δ orders "almost as well" as the crashing experiment (a detail row)."""


def p_train_grid(s: Settings) -> list[float]:
    """The training dropout values linspace(0, ``p_train_max``, ``n_p_train``), rounded to 6 decimals."""
    return [round(float(v), 6) for v in np.linspace(0.0, s.p_train_max, s.n_p_train)]


def dropout_ranking(s: Settings, store: Store | None = None) -> pd.DataFrame:
    """One row per (p_train, repetition): the trained network's metrics (see :func:`ftlib.experiments.continuous_limit._config.evaluate_network`)."""
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


def table2(df: pd.DataFrame, p_max: float = P_MAX) -> pd.DataFrame:
    """:func:`rank_table` with the paper's rank losses beside ours (``paper train``, ``paper test``; NaN where
    the paper gives the test value only)."""
    from ...reference import get

    table = rank_table(df, p_max)
    ref = get("CL-T2").values
    for q, k in PAPER_KEYS.items():
        v = ref[k]
        table.loc[q, "paper train"] = v[0] if isinstance(v, tuple) else float("nan")
        table.loc[q, "paper test"] = v[1] if isinstance(v, tuple) else v
    return table


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


def compare(report, table: pd.DataFrame, runs: pd.DataFrame) -> None:
    """CL-T2 by its declared claims (:mod:`ftlib.claims`): T1 Var Δ (``CL-T2:t1_var``) and the crashing
    experiment's MAE (``CL-T2:crashing_mae``) order the networks by p_train better than chance (a
    permutation test of the mean rank loss, :func:`rank_groups`); detail rows: every rank loss of
    :func:`table2` against the paper's within :data:`TOLERANCE` points, T1 Var Δ within :data:`CLOSE` points
    of the crashing experiment and below the weight-norm style quantities (point estimates)."""
    from ...reference import get

    ref = get("CL-T2").values
    for q, k in PAPER_KEYS.items():
        v = ref[k]
        if isinstance(v, tuple):
            report.numeric("CL-T2", f"rank loss, {q}, train (%)", v[0], table.loc[q, "train_rank_loss"], TOLERANCE,
                           headline=False)
            report.numeric("CL-T2", f"rank loss, {q}, test (%)", v[1], table.loc[q, "test_rank_loss"], TOLERANCE,
                           headline=False)
        else:
            report.numeric("CL-T2", f"rank loss, {q} (%)", v, table.loc[q, "test_rank_loss"], TOLERANCE, headline=False)
    for key, q in (("CL-T2:t1_var", "T1 Var Δ"), ("CL-T2:crashing_mae", "Crashing, MAE")):
        v = ref[PAPER_KEYS[q]]
        report.check(key, v[1] if isinstance(v, tuple) else v, float(table.loc[q, "test_rank_loss"]),
                     groups=rank_groups(runs, q, "test", P_MAX))
    t1v = table.loc["T1 Var Δ", "test_rank_loss"]
    weak = ("P2 E Δ", "P2 Var Δ", "T1 E Δ")
    others = {q: table.loc[q, "test_rank_loss"] for q in weak}
    crash = table.loc["Crashing, MAE", "test_rank_loss"]
    paper_t1v, paper_crash = ref["t1_var"], ref["crashing_mae"][1]
    report.qualitative("CL-T2", "T1 Var Δ orders the networks almost as well as the crashing experiment",
                       f"{paper_t1v:g} % vs {paper_crash:g} %", f"{t1v:.1f} % vs {crash:.1f} %",
                       bool(t1v <= crash + CLOSE), headline=False, rule="detail: point estimates within 10 points")
    report.qualitative("CL-T2", "T1 Var Δ orders better than the weight-norm style quantities (P2 E Δ, P2 Var Δ, T1 E Δ)",
                       f"{paper_t1v:g} % < " + ", ".join(f"{ref[PAPER_KEYS[q]]:g} %" for q in weak),
                       f"{t1v:.1f} % vs " + ", ".join(f"{v:.1f} %" for v in others.values()),
                       bool(all(t1v < v for v in others.values())), headline=False, rule="detail: point estimates")


SECTION = Section(
    key="continuous_limit/dropout_ranking",
    title="continuous_limit, Table 2: which metric orders networks trained with more dropout",
    ids=("CL-T2",),
    params=T2_PARAMS,
    profiles=T2_PROFILES,
)
