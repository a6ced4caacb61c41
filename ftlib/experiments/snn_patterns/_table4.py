"""snn_patterns, Table 4 and Fig. 3: the analyses of the faulty-accuracy table that the sections ``accuracy``
(our trained models) and ``authors_models`` (the authors' checkpoints) share.

Every function reads the tidy table of a ``faulty_table`` (columns ``fault``, ``ratio``, ``model``,
``instance``, ``accuracy``; one row per model, fault ratio and fault instance, the instances shared by every
model) or of a ``decomposition`` (plus ``population``): Table 4's means with their 95 % intervals over the
fault instances (:func:`table4`, :func:`table4_side_by_side`), Fig. 3 (:func:`plot_fig3`), the data and the
verdict rows of the declared claims of Table 4 / Fig. 3 (:func:`claim_data`, :func:`compare_claims`), and the
input/hidden decomposition (:func:`decomposition_table`, :func:`proposed_vs_previous`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import faults
from ...reference import get
from ...training_snn import POPULATIONS
from ._config import FIRS, MODEL_LABELS, _paper_row, sign_test_p


def table4(df: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy per (fault, ratio) × model, with the 95 % half-width over instances."""
    rows = []
    for (kind, r, label), g in df.groupby(["fault", "ratio", "model"], sort=False):
        ci = faults.mean_ci(g["accuracy"].to_numpy())
        rows.append({"fault": kind, "ratio": r, "model": label, "mean": ci["mean"], "ci95": ci["ci_halfwidth"]})
    out = pd.DataFrame(rows)
    return out


def table4_side_by_side(df: pd.DataFrame) -> pd.DataFrame:
    """Our Table 4 (mean ± half-width) beside the paper's, one row per (fault, ratio)."""
    t = table4(df)
    ref = get("SNN-T4").values
    rows = []
    for (kind, r), g in t.groupby(["fault", "ratio"], sort=False):
        row = {"fault": kind, "ratio": r}
        paper = _paper_row(ref, kind, r)
        for i, label in enumerate(MODEL_LABELS):
            q = g[g.model == label].iloc[0]
            row[(label, "paper")] = paper[i] if paper else float("nan")
            row[(label, "ours")] = f"{q['mean']:.3f} ± {q['ci95']:.3f}"
        rows.append(row)
    out = pd.DataFrame(rows).set_index(["fault", "ratio"])
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    return out


def plot_fig3(df: pd.DataFrame):
    """Fig. 3: accuracy per fault instance, one panel per (fault, ratio), one line per model."""
    import matplotlib.pyplot as plt

    keys = list(df.groupby(["fault", "ratio"], sort=False).groups)
    cols = 4
    rows_ = (len(keys) + cols - 1) // cols
    fig, axes = plt.subplots(rows_, cols, figsize=(10.0, 2.4 * rows_), squeeze=False, sharey="row")
    for ax, (kind, r) in zip(axes.flat, keys):
        g = df[(df.fault == kind) & (df.ratio == r)]
        for label in MODEL_LABELS:
            q = g[g.model == label]
            ax.plot(q["instance"] + 1, q["accuracy"], marker="o", ms=3, label=label)
        ax.set_title(f"{kind}, fault ratio {r:g}", fontsize=8)
        ax.set_xlabel("fault instance")
        ax.set_ylabel("accuracy")
    for ax in axes.flat[len(keys):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    fig.tight_layout()
    return fig


def claim_data(df: pd.DataFrame, kind: str) -> dict:
    """The data of the declared Table 4 / Fig. 3 claims for fault model ``kind`` from the tidy table ``df``
    (:func:`ftlib.experiments.snn_patterns.accuracy.faulty_table`): per fault instance (rows
    ``(instances,)``), at the largest ratio, ``proposed_beats`` and ``fault_aware_beats``
    ``(2, instances)`` (one row per FIR), ``gap_grows`` ``(instances,)``, and the sign counts
    ``wins``/``losses`` of the best proposed vs the best previous model (best FIR by mean)."""
    g = df[df.fault == kind]
    ratios = sorted(g.ratio.unique())

    def wide(r):
        return g[g.ratio == r].pivot(index="instance", columns="model", values="accuracy")

    top, low = wide(ratios[-1]), wide(ratios[0])
    prop = np.stack([top[f"proposed FIR {f:g}"] - top[f"previous FIR {f:g}"] for f in FIRS])
    fat = np.stack([top[f"previous FIR {f:g}"] - top["baseline"] for f in FIRS])
    gap_low = np.stack([low[f"proposed FIR {f:g}"] - low[f"previous FIR {f:g}"] for f in FIRS])
    best_prop = max((f"proposed FIR {f:g}" for f in FIRS), key=lambda m: top[m].mean())
    best_prev = max((f"previous FIR {f:g}" for f in FIRS), key=lambda m: top[m].mean())
    d = (top[best_prop] - top[best_prev]).to_numpy()
    return {"top": ratios[-1], "low": ratios[0], "proposed_beats": prop, "fault_aware_beats": fat,
            "gap_grows": (prop - gap_low).mean(0), "wins": int((d > 0).sum()), "losses": int((d < 0).sum()),
            "best": (best_prop, best_prev)}


def compare_claims(report, df: pd.DataFrame, where: str = "") -> dict:
    """The declared claims of Table 4 and Fig. 3 (:mod:`ftlib.claims`: ``SNN-T4:proposed_beats``,
    ``SNN-T4:fault_aware_beats`` paired over the fault instances at the largest ratio, both FIRs;
    ``SNN-F3:gap_grows``; ``SNN-F3:most_instances``, a sign test) on the tidy table ``df`` of
    :func:`~ftlib.experiments.snn_patterns.accuracy.faulty_table` (data: :func:`claim_data`); ``where`` is
    appended to each claim. Returns the headline facts."""
    t = table4(df)
    facts = {}
    for kind in ("HSF", "NASF"):
        g = t[t.fault == kind]
        top = g.ratio.max()
        at = g[g.ratio == top].set_index("model")["mean"]
        prev = max(("previous FIR 0.03", "previous FIR 0.05"), key=lambda m: at[m])
        prop = max(("proposed FIR 0.03", "proposed FIR 0.05"), key=lambda m: at[m])
        best_prev, best_prop = at[prev], at[prop]
        facts[kind] = (top, best_prev, best_prop, at["baseline"])
        c = claim_data(df, kind)
        for key, text in (("proposed_beats", "proposed beats previous (same FIR)"),
                          ("fault_aware_beats", "fault-aware training (previous) beats the baseline")):
            report.check(f"SNN-T4:{key}", "yes (Table 4)", " / ".join(f"{m:+.4f}" for m in c[key].mean(1)) +
                         " (FIR 0.03 / 0.05)", claim=f"{kind} {top:g}: {text}{where}", diff=c[key])
        if c["low"] != c["top"]:  # growth needs two ratios (the smoke profile of authors_models has one)
            report.check("SNN-F3:gap_grows", "yes (Fig. 3)",
                         f"{c['gap_grows'].mean():+.4f} (ratio {c['low']:g} → {c['top']:g})",
                         claim=f"{kind}: proposed − previous gap grows with the fault ratio{where}", diff=c["gap_grows"])
        p = sign_test_p(c["wins"], c["losses"])
        report.check("SNN-F3:most_instances", "yes (Fig. 3)", f"{c['wins']} wins, {c['losses']} losses of "
                     f"{len(c['gap_grows'])} instances", claim=f"{kind} {top:g}: proposed ≥ previous on most fault "
                     f"instances{where}", p_value=p, summary=f"{c['best'][0]} vs {c['best'][1]}: {c['wins']} wins, "
                     f"{c['losses']} losses (sign test)")
    return facts


def decomposition_table(dec: pd.DataFrame) -> pd.DataFrame:
    """Per fault model and model: mean accuracy ± 95 % half-width with faults on the inputs only, the hidden
    neurons only, and both."""
    rows = []
    for (kind, r, label), g in dec.groupby(["fault", "ratio", "model"], sort=False):
        row = {"fault": kind, "ratio": r, "model": label}
        for pop in POPULATIONS:
            ci = faults.mean_ci(g[g.population == pop]["accuracy"].to_numpy())
            row[pop] = f"{ci['mean']:.3f} ± {ci['ci_halfwidth']:.3f}"
        rows.append(row)
    return pd.DataFrame(rows).set_index(["fault", "ratio", "model"])


def proposed_vs_previous(dec: pd.DataFrame) -> pd.DataFrame:
    """Proposed − previous (same FIR), paired over the fault sets, per fault model, FIR and population:
    mean difference, 95 % interval, two-sided p (paired t)."""
    rows = []
    for (kind, r), g in dec.groupby(["fault", "ratio"], sort=False):
        for fir in FIRS:
            for pop in POPULATIONS:
                q = g[g.population == pop].pivot(index="instance", columns="model", values="accuracy")
                pt = faults.paired_t(q[f"proposed FIR {fir:g}"], q[f"previous FIR {fir:g}"])
                rows.append({"fault": kind, "ratio": r, "FIR": fir, "population": pop, "difference": pt["mean"],
                             "ci_low": pt["ci_low"], "ci_high": pt["ci_high"], "p": pt["p_value"], "n": pt["n"]})
    return pd.DataFrame(rows)
