"""snn_patterns, Section 4.B "accuracy" (notebook ``snn_patterns/accuracy``).

Fault-free accuracy (Table 3, SNN-T3: :func:`fault_free_table`), mean accuracy over fault instances (Table 4,
SNN-T4) and per instance (Fig. 3, SNN-F3) (:func:`faulty_table`) of baseline / previous (FIR 0.03, 0.05) /
proposed (FIR 0.03, 0.05) for HSF and NASF, on our trained models
(:func:`~ftlib.experiments.snn_patterns._config.trained_models`); in the authors' configuration also the
input/hidden decomposition of their fault model (:func:`decomposition_study`). The Table 4 analyses are
shared with ``authors_models`` (:mod:`ftlib.experiments.snn_patterns._table4`).

The notebook calls :func:`fault_free_table`, :func:`faulty_table`,
:func:`~ftlib.experiments.snn_patterns._table4.table4_side_by_side`,
:func:`~ftlib.experiments.snn_patterns._table4.plot_fig3`, :func:`decomposition_study` and :func:`compare`.
"""

from __future__ import annotations

import pandas as pd

from ...params import Section
from ...reference import get
from ...store import Store
from ...training_snn import POPULATIONS, SNN_CODE, faulty_accuracies
from ._config import (_ACC, _COMMON, _P, MODEL_LABELS, _data_id, _paper_row, binomial_se, clean_accuracy, test_set,
                      trained_models)
from ._table4 import (claim_data, compare_claims, decomposition_table, plot_fig3, proposed_vs_previous,  # noqa: F401
                      table4, table4_side_by_side)


# --- Tables 3 and 4 ---------------------------------------------------------------------------------------

def fault_free_table(s, store: Store | None = None) -> pd.DataFrame:
    """Table 3: fault-free accuracy (mean over ``test_reps`` encodings) of every model, and how many
    patterns Algorithm 1 added to its training set (0 except for the proposed models)."""
    store = store or Store()
    rows = []
    for kind in ("HSF", "NASF"):
        for label, t in trained_models(s, kind, store).items():
            if label == "baseline" and kind == "NASF":
                continue
            acc = clean_accuracy(s, t, store)
            rows.append({"fault": "—" if label == "baseline" else kind, "model": label, "accuracy": acc,
                         "generated patterns": sum(h["new_patterns"] for h in t.history)})
    out = pd.DataFrame(rows)
    out.attrs["n_test"] = s.n_test or 10_000  # the binomial standard error of SNN-T3:clean_matches
    return out


def faulty_table(s, store: Store | None = None) -> pd.DataFrame:
    """Table 4 / Fig. 3 raw data: ``fault``, ``ratio``, ``model``, ``instance``, ``accuracy``."""
    store = store or Store()
    x, y = test_set(s)
    frames = []
    for kind, ratios in (("HSF", s.hsf_ratios), ("NASF", s.nasf_ratios)):
        for label, t in trained_models(s, kind, store).items():
            for r in ratios:
                key = {"train": t.config.key(), "fault": kind, "ratio": float(r), "instances": s.fault_instances,
                       "data": _data_id(s)}
                accs = store.cached_result("eval_snn_faulty", key, lambda: faulty_accuracies(
                    t.model, kind, r, x, y, s.fault_instances, s.test_reps, s.seed, s.variant), code=SNN_CODE)
                frames.append(pd.DataFrame({"fault": kind, "ratio": float(r), "model": label,
                                            "instance": range(len(accs)), "accuracy": accs}))
    return pd.concat(frames, ignore_index=True)


def decomposition(s, store: Store | None = None) -> pd.DataFrame:
    """Our trained models of Table 4 under the authors' fault sets at the largest ratio of each fault model,
    applied to the input pixels only, the hidden neurons only, and both (the same fault sets: paired).
    Columns ``fault``, ``ratio``, ``model``, ``population``, ``instance``, ``accuracy``. Needs
    ``variant="authors"`` (the paper-text fault model has no input faults)."""
    if s.variant != "authors":
        raise ValueError("decomposition: the input/hidden split needs variant='authors'")
    store = store or Store()
    x, y = test_set(s)
    frames = []
    for kind, ratios in (("HSF", s.hsf_ratios), ("NASF", s.nasf_ratios)):
        r = max(ratios)
        for label, t in trained_models(s, kind, store).items():
            for pop in POPULATIONS:
                key = {"train": t.config.key(), "fault": kind, "ratio": float(r), "instances": s.fault_instances,
                       "data": _data_id(s)}
                if pop != "both":
                    key["population"] = pop
                accs = store.cached_result("eval_snn_faulty", key, lambda: faulty_accuracies(
                    t.model, kind, r, x, y, s.fault_instances, s.test_reps, s.seed, s.variant, pop), code=SNN_CODE)
                frames.append(pd.DataFrame({"fault": kind, "ratio": float(r), "model": label, "population": pop,
                                            "instance": range(len(accs)), "accuracy": accs}))
    return pd.concat(frames, ignore_index=True)


def decomposition_study(s, store: Store | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """In the authors' configuration, :func:`~ftlib.experiments.snn_patterns._table4.decomposition_table` and
    :func:`~ftlib.experiments.snn_patterns._table4.proposed_vs_previous` of :func:`decomposition`; with
    ``variant="paper-text"`` (no input faults to split off) two empty tables."""
    if s.variant != "authors":
        return pd.DataFrame(), pd.DataFrame()
    dec = decomposition(s, store)
    return decomposition_table(dec), proposed_vs_previous(dec)


# --- verdicts ---------------------------------------------------------------------------------------------

TOL_CLEAN = 0.01
"""Tolerance of a Table 3 comparison (fraction): the paper's five models span 0.964-0.975."""
TOL_FAULTY = 0.03
"""Tolerance of a Table 4 comparison (fraction)."""


def compare(report, clean: pd.DataFrame, df: pd.DataFrame) -> dict:
    """Table 3 (detail rows within :data:`TOL_CLEAN` of the paper's; the declared claim
    ``SNN-T3:clean_matches``, a TOST with the binomial test-set error
    :func:`~ftlib.experiments.snn_patterns._config.binomial_se`), Table 4 (detail rows within
    :data:`TOL_FAULTY`) and the declared claims of Table 4 / Fig. 3
    (:func:`~ftlib.experiments.snn_patterns._table4.compare_claims`) on the tables of :func:`fault_free_table`
    and :func:`faulty_table`; returns the headline facts."""
    ref3 = get("SNN-T3").values
    papers, ours, ses, names = [], [], [], []
    n_test = int(clean.attrs.get("n_test", 0)) or None
    for r in clean.itertuples():
        if r.model == "baseline":
            p = ref3["baseline"]
        else:
            method, _, fir = r.model.split()
            p = ref3[f"fir{fir}"][f"{method} {r.fault}"]
        name = f"{r.model}" + ("" if r.fault == "—" else f" ({r.fault})")
        report.numeric("SNN-T3", f"fault-free accuracy, {name}", p, r.accuracy, TOL_CLEAN, headline=False)
        papers.append(p), ours.append(r.accuracy), names.append(name)
        ses.append(binomial_se(r.accuracy, n_test))
    report.check("SNN-T3:clean_matches", " / ".join(f"{p:.3f}" for p in papers),
                 " / ".join(f"{a:.3f}" for a in ours), estimate=ours, se=ses, reference=papers,
                 summary=f"{len(ours)} models")
    t = table4(df)
    ref4 = get("SNN-T4").values
    for (kind, ratio), g in t.groupby(["fault", "ratio"], sort=False):
        paper = _paper_row(ref4, kind, ratio)
        if paper is None:
            continue
        for i, label in enumerate(MODEL_LABELS):
            q = g[g.model == label].iloc[0]
            report.numeric("SNN-T4", f"{kind} {ratio:g}: {label}", paper[i], q["mean"], TOL_FAULTY,
                           note=f"± {q['ci95']:.3f} (95 %, instances)", headline=False)
    return compare_claims(report, df)


SECTION = Section(key="snn_patterns/accuracy", title="Accuracy under HSF and NASF faults (Tables 3-4, Fig. 3)",
                  ids=("SNN-T3", "SNN-T4", "SNN-F3"), params=_COMMON + _ACC, profiles=_P)
