"""snn_patterns with the authors' own trained models: their checkpoints, our evaluation engine (notebook
``snn_patterns/authors_models``).

Section ``snn_patterns/authors_models``: the 21 checkpoints the authors published
(:mod:`ftlib.models.snn_authors`) are loaded into ``snn_mlp(variant="authors")`` (their neuron) and
re-evaluated by :mod:`ftlib.faults` and :mod:`ftlib.training_snn`'s accuracy loop:

- Table 3 (fault-free accuracy), Table 4 (mean over fault sets) and Fig. 3 (per fault set) of the ten
  models of the paper (baseline, previous and proposed at FIR 0.03 / 0.05, for HSF and NASF), each under
  two fault models: **the authors'** (784 input pixels + 128 hidden neurons, ``int(912 · ratio)``, HSF ×
  0.1, NASF always on; :class:`~ftlib.faults.PopulationSpikeFault`) and **the paper-text reading**
  (hidden spikes forced to 0 / 1; :class:`~ftlib.faults.SpikeFault`);
- the decomposition of the authors' fault model (the same fault sets restricted to the input pixels or
  to the hidden neurons), paired over fault sets.

Evaluation protocol (the authors'): ``fault_sets`` fault sets × ``n_test`` test images × one stochastic
pass each; fault set ``i`` has the same positions for every model and population
(:func:`ftlib.training_snn.fault_instance_seed`). Intervals: two-sided 95 % Student t over fault sets.
"""

from __future__ import annotations


import pandas as pd

from ... import claims, data, faults
from ... import _data_checksums as sums
from ...models import snn_authors
from ...params import Param, Section
from ...reference import get
from ...store import Store
from ...training_snn import POPULATIONS, SNN_CODE, accuracy, faulty_accuracies
from ._config import MODEL_LABELS, _paper_row, binomial_se
from ._table4 import (compare_claims, decomposition_table, plot_fig3, proposed_vs_previous,  # noqa: F401
                      table4_side_by_side)

FAULT_MODELS = ("authors", "paper-text")
"""The two readings of HSF / NASF (see :func:`ftlib.training_snn.spike_fault`)."""
FAULT_MODEL_SOURCES = {
    "authors": "the authors' script fault_tolerant.py (commit 191a87b): 784 input pixels + 128 hidden neurons, "
               "int(912·ratio) of them, HSF = probability / input current × 0.1, NASF = always spikes",
    "paper-text": "our reading of the paper's Section 4 text: hidden neurons only, round(128·ratio) of them, "
                  "HSF = never spikes, NASF = spikes every step",
}

# The interval rule is declared in ftlib.claims (beside the other declarations; numbers unchanged).
PRINTED_PRECISION = claims.SNN_PRINTED_PRECISION
interval_tolerance = claims.snn_interval_tolerance
covers = claims.snn_covers


def _file_sha(name: str) -> str:
    return sums.SNN_AUTHORS_SHA256[name]


def test_set(s):
    """The MNIST test images of this run (``n_test``; 0 = all 10,000, the authors')."""
    ds = data.load("mnist", "test").subset(s.n_test or None, seed=s.seed)
    return ds.x, ds.y


def _data_id(s) -> dict:
    return {"n_test": s.n_test, "seed": s.seed, "fault_sets": s.fault_sets}


def evaluate(s, name: str, kind: str, ratio: float, fault_model: str = "authors", population: str = "both",
             store: Store | None = None) -> list[float]:
    """Accuracy of the authors' checkpoint ``name`` under ``s.fault_sets`` fault sets (one stochastic pass
    of the test set each; cached by the file's sha256 and everything else that determines it)."""
    store = store or Store()
    x, y = test_set(s)
    key = {"file": _file_sha(name), "fault": kind, "ratio": float(ratio), "fault_model": fault_model,
           "population": population, "data": _data_id(s)}
    return store.cached_result("eval_snn_authors", key, lambda: faulty_accuracies(
        snn_authors.load(name), kind, ratio, x, y, s.fault_sets, 1, s.seed, fault_model, population),
        code=SNN_CODE)


def clean_accuracies(s, name: str, store: Store | None = None) -> list[float]:
    """Fault-free accuracy of checkpoint ``name``: ``s.fault_sets`` stochastic passes of the test set."""
    store = store or Store()
    x, y = test_set(s)
    model = None

    def compute():
        nonlocal model
        model = snn_authors.load(name)
        return [accuracy(model, x, y, 1, s.seed + i) for i in range(s.fault_sets)]

    return store.cached_result("eval_snn_authors_clean", {"file": _file_sha(name), "data": _data_id(s)}, compute,
                               code=SNN_CODE)


def fault_free_table(s, store: Store | None = None) -> pd.DataFrame:
    """Table 3 from the authors' checkpoints: mean ± 95 % half-width over stochastic passes, paper beside
    (both baseline files, HSF and NASF, against the paper's one baseline)."""
    ref = get("SNN-T3").values
    rows = []
    for (kind, label), name in snn_authors.TABLE_MODELS.items():
        ci = faults.mean_ci(clean_accuracies(s, name, store))
        if label == "baseline":
            paper = ref["baseline"]
        else:
            method, _, fir = label.split()
            paper = ref[f"fir{fir}"][f"{method} {kind}"]
        rows.append({"fault": kind, "model": label, "file": name,
                     "paper": paper, "ours": ci["mean"], "ci95": ci["ci_halfwidth"]})
    out = pd.DataFrame(rows)
    out.attrs["n_test"] = s.n_test or 10_000  # the binomial standard error of SNN-T3:clean_matches
    return out


def faulty_table(s, fault_model: str = "authors", store: Store | None = None) -> pd.DataFrame:
    """Table 4 / Fig. 3 raw data from the authors' checkpoints under ``fault_model``: ``fault``, ``ratio``,
    ``model``, ``instance``, ``accuracy`` (the shape of
    :func:`ftlib.experiments.snn_patterns.accuracy.faulty_table`)."""
    frames = []
    for kind, ratios in (("HSF", s.hsf_ratios), ("NASF", s.nasf_ratios)):
        for label in MODEL_LABELS:
            name = snn_authors.TABLE_MODELS[(kind, label)]
            for r in ratios:
                accs = evaluate(s, name, kind, r, fault_model, "both", store)
                frames.append(pd.DataFrame({"fault": kind, "ratio": float(r), "model": label,
                                            "instance": range(len(accs)), "accuracy": accs}))
    return pd.concat(frames, ignore_index=True)


def table4_cells(df: pd.DataFrame) -> pd.DataFrame:
    """Every Table 4 cell: ours (mean, 95 % interval over fault sets), the paper's, and whether the interval
    rule (``covers``) holds."""
    ref = get("SNN-T4").values
    rows = []
    for (kind, r, label), g in df.groupby(["fault", "ratio", "model"], sort=False):
        paper = _paper_row(ref, kind, r)
        if paper is None:
            continue
        ci = faults.mean_ci(g["accuracy"].to_numpy())
        p = paper[MODEL_LABELS.index(label)]
        rows.append({"fault": kind, "ratio": r, "model": label, "paper": p, "ours": ci["mean"],
                     "ci_low": ci["ci_low"], "ci_high": ci["ci_high"], "ci95": ci["ci_halfwidth"],
                     "inside": covers("SNN-T4", p, ci["mean"], ci["ci_halfwidth"])})
    return pd.DataFrame(rows)


def decomposition(s, store: Store | None = None) -> pd.DataFrame:
    """The authors' fault sets at the largest ratio of each fault model, applied to the input pixels only,
    the hidden neurons only, and both: ``fault``, ``ratio``, ``model``, ``population``, ``instance``,
    ``accuracy`` (the same fault sets in every population and model: paired)."""
    frames = []
    for kind, ratios in (("HSF", s.hsf_ratios), ("NASF", s.nasf_ratios)):
        r = max(ratios)
        for label in MODEL_LABELS:
            name = snn_authors.TABLE_MODELS[(kind, label)]
            for pop in POPULATIONS:
                accs = evaluate(s, name, kind, r, "authors", pop, store)
                frames.append(pd.DataFrame({"fault": kind, "ratio": float(r), "model": label, "population": pop,
                                            "instance": range(len(accs)), "accuracy": accs}))
    return pd.concat(frames, ignore_index=True)


def compare(report, clean: pd.DataFrame, df_authors: pd.DataFrame, df_text: pd.DataFrame) -> dict:
    """Table 3 and Table 4 rows under the interval rule (``interval_tolerance``) for the authors' fault
    model, Table 4 under the paper-text one, and the Table 4 / Fig. 3 claims under both. Returns the
    closing note's counts."""
    for r in clean.itertuples():
        report.qualitative("SNN-T3", f"authors' checkpoint {r.file}: fault-free accuracy", f"{r.paper:.3f}",
                           f"{r.ours:.4f} ± {r.ci95:.4f}", covers("SNN-T3", r.paper, r.ours, r.ci95),
                           note="± 95 % over stochastic passes", headline=False, rule=claims.SNN_INTERVAL_RULE)
    n_test = int(clean.attrs.get("n_test", 0)) or None
    report.check("SNN-T3:clean_matches", " / ".join(f"{p:.3f}" for p in clean.paper),
                 " / ".join(f"{a:.4f}" for a in clean.ours), estimate=list(clean.ours), reference=list(clean.paper),
                 se=[binomial_se(a, n_test) for a in clean.ours], summary=f"{len(clean)} checkpoints",
                 claim="the authors' checkpoints' fault-free accuracies match Table 3")
    counts = {}
    for fm, df in (("authors", df_authors), ("paper-text", df_text)):
        cells = table4_cells(df)
        for c in cells.itertuples():
            report.qualitative("SNN-T4", f"authors' checkpoints, {fm} faults, {c.fault} {c.ratio:g}: {c.model}",
                               f"{c.paper:.4f}", f"{c.ours:.4f}", bool(c.inside),
                               note=f"95 % [{c.ci_low:.4f}, {c.ci_high:.4f}] over fault sets", headline=False,
                               rule=claims.SNN_INTERVAL_RULE)
        counts[fm] = (int(cells.inside.sum()), len(cells))
        compare_claims(report, df, where=f" (authors' checkpoints, {fm} faults)")
    return counts


# --- section ----------------------------------------------------------------------------------------------

_PARAMS = (
    Param("n_test", int, "MNIST test images per pass (0 = all 10,000, the authors')", low=0, high=10_000),
    Param("fault_sets", int, "fault sets per fault ratio, one stochastic pass each (the authors: 10)", low=2,
          high=1000),
    Param("hsf_ratios", list, "HSF fault ratios of Table 4", low=0.0, high=1.0, item=float),
    Param("nasf_ratios", list, "NASF fault ratios of Table 4", low=0.0, high=1.0, item=float),
)
_P = {
    "smoke": dict(n_test=200, fault_sets=3, hsf_ratios=[0.5], nasf_ratios=[0.15]),
    "quick": dict(n_test=600, fault_sets=10, hsf_ratios=[0.2, 0.3, 0.4, 0.5], nasf_ratios=[0.03, 0.05, 0.10, 0.15]),
    "paper": dict(n_test=0, fault_sets=10, hsf_ratios=[0.2, 0.3, 0.4, 0.5], nasf_ratios=[0.03, 0.05, 0.10, 0.15]),
}

SECTION = Section(key="snn_patterns/authors_models",
                  title="The authors' own models under our engine (Tables 3-4, Fig. 3)",
                  ids=("SNN-T3", "SNN-T4", "SNN-F3"), params=_PARAMS, profiles=_P)


def closing_note(cells: pd.DataFrame, counts: dict, pvp: pd.DataFrame):
    """The closing note (Markdown): the Table 4 cells under the authors' fault model with their intervals,
    how many contain the paper's value, and what the decomposition says."""
    from IPython.display import Markdown

    lines = [f"**Table 4 from the authors' checkpoints.** Under the authors' fault model "
             f"{counts['authors'][0]} of {counts['authors'][1]} cells contain the paper's value in our 95 % "
             f"interval over fault sets (± its printed precision); under the paper-text fault model "
             f"{counts['paper-text'][0]} of {counts['paper-text'][1]}.", "",
             "| fault | ratio | model | paper | ours | 95 % interval | inside |", "|---|---|---|---|---|---|---|"]
    for c in cells.itertuples():
        lines.append(f"| {c.fault} | {c.ratio:g} | {c.model} | {c.paper:.4f} | {c.ours:.4f} | "
                     f"[{c.ci_low:.4f}, {c.ci_high:.4f}] | {'yes' if c.inside else 'no'} |")
    lines += ["", "**Proposed − previous, by fault population** (paired over fault sets):", ""]
    for r in pvp.itertuples():
        lines.append(f"- {r.fault} {r.ratio:g}, FIR {r.FIR:g}, {r.population}: {r.difference:+.4f} "
                     f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}], p = {r.p:.2g}")
    return Markdown("\n".join(lines))
