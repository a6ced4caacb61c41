"""continuous_limit, supplement Fig 10 (notebook ``continuous_limit/regularizers``).

CL-REG: Table 2's architecture trained with Eq. 1's Var Δ term (b3, crashes at
``act1``) as a regularizer, λ·Var Δ/p (:mod:`ftlib.regularizers`), against
unscaled dropout: the paper finds "similar resilience".

The notebook calls :func:`variance_regularizer`, :func:`summary_table`, :func:`plot_regularizer`
and :func:`compare`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...params import Param, Section, Settings
from ...store import Store
from ...training import train
from ._config import T2_PARAMS, T2_PROFILES, eval_data, evaluate_network, mlp_config, single_thread, t2_config, \
    with_profiles


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


def summary_table(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over the repetitions of the correct and crashing test accuracy (%) and of
    Var Δ (b3) per (method, strength) of :func:`variance_regularizer`."""
    return df.groupby(["method", "strength"])[["correct_acc_test", "crash_acc_test", "t1_var"]].agg(["mean", "std"])


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
    """Correct and crashing test accuracy and Var Δ (b3, right axis) against the strength of the Var Δ
    regularizer λ (left panel) and of dropout (right panel), mean ± standard deviation over repetitions."""
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


def compare(report, s: Settings, reg: pd.DataFrame) -> None:
    """CL-REG by its declared claim ``CL-REG:similar``: an equivalence test (TOST) of the per-repetition
    difference in crashing test accuracy between the best Var Δ setting and the best dropout setting
    (:func:`resilience_difference`); detail row: Var Δ falls from the smallest to the largest λ (near-certain,
    training minimises it)."""
    m = reg.groupby(["method", "strength"]).mean(numeric_only=True)
    best_var = float(m.loc["Var Δ regularizer"].crash_acc_test.max())
    best_drop = float(m.loc["dropout"].crash_acc_test.max())
    base = float(m.loc[("Var Δ regularizer", min(s.lambdas))].crash_acc_test)
    v = m.loc["Var Δ regularizer"].t1_var
    diff, which = resilience_difference(reg)
    report.check("CL-REG:similar", "similar resilience", f"best {best_var:.2f} % (Var Δ reg.) vs {best_drop:.2f} % "
                 f"(dropout); unregularized {base:.2f} %", note=which, diff=diff)
    report.qualitative("CL-REG", "the regularizer lowers Var Δ", "Var Δ decreases with λ",
                       f"{v.iloc[0]:.3g} (λ = {v.index[0]:g}) → {v.iloc[-1]:.3g} (λ = {v.index[-1]:g})",
                       bool(v.iloc[-1] < v.iloc[0]), headline=False,
                       rule="detail: near-certain (training minimises the quantity measured)")


SECTION = Section(
    key="continuous_limit/regularizers",
    title="continuous_limit, supplement Fig 10: the Var Δ bound as a regularizer, against dropout",
    ids=("CL-REG",),
    params=T2_PARAMS + (
        Param("lambdas", list, "regularization strengths λ of the Var Δ term", item=float, low=0.0, high=1e6),
        Param("dropouts", list, "training dropout values compared", item=float, low=0.0, high=0.9),
    ),
    profiles=with_profiles(T2_PROFILES,
                            smoke=dict(lambdas=[0.0, 0.1], dropouts=[0.02], reps=1),
                            quick=dict(lambdas=[0.0, 0.01, 0.1, 1.0], dropouts=[0.02, 0.04, 0.06], reps=2),
                            paper=dict(lambdas=[0.0, 0.001, 0.01, 0.1, 1.0], dropouts=[0.02, 0.04, 0.06], reps=5)),
)
