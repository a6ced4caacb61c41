"""The generic pipeline of the "beyond the papers" study: a population of models, every one under every
fault model, retained accuracy, rankings and paired tests.

One pipeline, two configurations (:class:`Study`): the non-spiking study of
``beyond/methods_faults`` and ``beyond/theory`` (:data:`ftlib.experiments.beyond._config.ANN`)
and the spiking one of ``beyond/spiking`` (:data:`ftlib.experiments.beyond.spiking.SNN`).
A configuration says which units (architecture, method, training seed) to train
and how, which fault models to sweep and at what severity, and on which images.

Statistics (fixed before the first run): the unit is a trained model. A model's
*retained accuracy* is its accuracy under the fault (mean over draws) divided by
its own fault-free accuracy, at the fault model's stated severity. Rankings use
Friedman's test; pairwise differences Wilcoxon's signed-rank test (Holm-corrected,
:func:`ftlib.stats.holm`) or a paired t-test over seeds (:func:`ftlib.stats.paired_t`).
Every model meets the same fault draws (the sweep seed is the run's ``seed``):
differences between methods are paired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from ...params import Settings
from ...stats import holm, mean_ci, paired_t
from ...store import Store


def rate_grid(sev: float, band_factors, bands: bool) -> list[float]:
    """The rates of one sweep: 0, the severity ``sev``, and for ``bands`` ``sev`` times each of
    ``band_factors`` (capped at 1), sorted and without duplicates."""
    out = {0.0, float(sev)}
    if bands:
        out |= {min(1.0, sev * f) for f in band_factors}
    return sorted(out)


def seeds(s: Settings) -> list[int]:
    """The training seeds of this run: ``seed, seed + 1, …`` (``n_seeds`` of them)."""
    return [s.seed + i for i in range(s.n_seeds)]


@dataclass(frozen=True)
class Study:
    """One configuration of the pipeline.

    - ``archs``, ``methods``, ``faults``: what is compared (``faults`` in the order of the settings list
      named ``severities``, which gives each fault model's heat-map severity);
    - ``units(s)``: the (arch, method, seed) triples to train, in order;
    - ``train(s, arch, method, seed, store, evaluation)`` → (trained model, its row of the population table
      without arch / method / seed), ``evaluation`` being ``eval_set(s)``;
    - ``sweep(store, trained, fault, rates, x, y, draws, seed, data_id)`` → tidy (rate, draw, accuracy);
    - ``eval_set(s)`` → (x, y, data_id): the images every model is evaluated on and their cache identity;
    - ``applies(arch, fault)``: whether the fault model has sites in the architecture.
    """

    archs: tuple[str, ...]
    methods: tuple[str, ...]
    faults: tuple[str, ...]
    severities: str
    units: Callable[[Settings], list[tuple[str, str, int]]]
    train: Callable[..., tuple[Any, dict]]
    sweep: Callable[..., pd.DataFrame]
    eval_set: Callable[[Settings], tuple]
    applies: Callable[[str, str], bool] = lambda arch, fault: True

    def severity(self, s: Settings, fault: str) -> float:
        """The heat map's severity of ``fault`` (settings list ``severities``, in the order of ``faults``)."""
        return float(getattr(s, self.severities)[self.faults.index(fault)])

    def rates(self, s: Settings, fault: str, bands: bool) -> list[float]:
        """:func:`rate_grid` of ``fault``'s severity with ``s.band_factors``."""
        return rate_grid(self.severity(s, fault), s.band_factors, bands)

    def population(self, s: Settings, store: Store | None = None) -> tuple[pd.DataFrame, dict]:
        """Every model of the study: a table (arch, method, seed and the configuration's columns, e.g. test
        accuracy in %) and a dict (arch, method, seed) → trained model."""
        store = store or Store()
        evaluation = self.eval_set(s)
        rows, models = [], {}
        for arch, method, seed in self.units(s):
            t, row = self.train(s, arch, method, seed, store, evaluation)
            models[(arch, method, seed)] = t
            rows.append({"arch": arch, "method": method, "seed": seed, **row})
        return pd.DataFrame(rows), models

    def sweeps(self, s: Settings, models: dict, store: Store | None = None) -> pd.DataFrame:
        """Every model under every applicable fault model (tidy: arch, method, seed, fault, rate, draw,
        accuracy). The first training seed's models get the band rates, the others only 0 and the severity;
        every sweep uses the run's ``seed`` for its fault draws (the same faults for every model)."""
        store = store or Store()
        x, y, data_id = self.eval_set(s)
        frames = []
        for (arch, method, seed), t in models.items():
            for fault in self.faults:
                if not self.applies(arch, fault):
                    continue
                r = self.rates(s, fault, bands=seed == s.seed)
                df = self.sweep(store, t, fault, r, x, y, s.draws, s.seed, data_id)
                frames.append(df.assign(arch=arch, method=method, seed=seed, fault=fault))
        return pd.concat(frames, ignore_index=True)

    def retained(self, sw: pd.DataFrame, s: Settings) -> pd.DataFrame:
        """Per model and fault at its severity: clean and faulty accuracy (%, mean over draws), the accuracy
        drop (pp) and the retained fraction (faulty / clean)."""
        m = sw.groupby(["arch", "method", "seed", "fault", "rate"], sort=False)["accuracy"].mean().reset_index()
        rows = []
        for (arch, method, seed, fault), g in m.groupby(["arch", "method", "seed", "fault"], sort=False):
            g = g.set_index("rate")["accuracy"]
            clean, at = g.loc[0.0], g.loc[self.severity(s, fault)]
            rows.append({"arch": arch, "method": method, "seed": seed, "fault": fault, "clean": 100 * clean,
                         "faulty": 100 * at, "drop": 100 * (clean - at),
                         "retained": at / clean if clean > 0 else 0.0})
        return pd.DataFrame(rows)


def heatmap_table(ret: pd.DataFrame) -> pd.DataFrame:
    """Mean retained accuracy (%) per (arch, method, fault) over seeds, with the 95 % t half-width."""
    rows = []
    for (arch, method, fault), g in ret.groupby(["arch", "method", "fault"], sort=False):
        ci = mean_ci(100 * g["retained"].to_numpy())
        rows.append({"arch": arch, "method": method, "fault": fault, "retained": ci["mean"],
                     "ci_halfwidth": ci["ci_halfwidth"], "n_seeds": ci["n"]})
    return pd.DataFrame(rows)


def heatmap_panel(ax, table: pd.DataFrame, methods, method_labels: dict, faults_, fault_labels: list[str],
                  title: str):
    """One panel of a heat map: ``methods`` (rows) × ``faults_`` (columns) → mean retained accuracy (%) of
    ``table`` (:func:`heatmap_table` rows of one architecture), each cell "mean ± 95 % half-width over seeds".
    Returns the image (for a colour bar)."""
    mean = table.pivot(index="method", columns="fault", values="retained").reindex(index=list(methods),
                                                                                columns=list(faults_))
    half = table.pivot(index="method", columns="fault", values="ci_halfwidth").reindex(index=list(methods),
                                                                                     columns=list(faults_))
    im = ax.imshow(mean.to_numpy(), vmin=0, vmax=100, cmap="viridis", aspect="auto")
    for i in range(mean.shape[0]):
        for j in range(mean.shape[1]):
            v, h = mean.iat[i, j], half.iat[i, j]
            ax.text(j, i, f"{v:.0f}\n±{h:.0f}" if np.isfinite(h) else f"{v:.0f}", ha="center", va="center",
                    fontsize=6, color="white" if v < 60 else "black")
    ax.set_xticks(range(len(fault_labels)), fault_labels, rotation=60, ha="right", fontsize=6)
    ax.set_yticks(range(len(methods)), [method_labels[m] for m in methods], fontsize=7)
    ax.set_title(title, fontsize=8)
    ax.minorticks_off()
    return im




def ranking(ret: pd.DataFrame, methods) -> tuple[pd.DataFrame, dict]:
    """Methods ranked by their retained accuracy within each block (arch × fault × seed; rank 1 = best).

    ``methods``: the methods compared (one of them ``"none"``). Returns (table: method, mean rank, mean
    retained %, wins, and the Wilcoxon signed-rank p-value of the
    paired difference to the top method and to ``none`` over the blocks, Holm-corrected; test: the Friedman
    statistic and p-value of "all methods are equally robust")."""
    from scipy.stats import friedmanchisquare, wilcoxon

    wide = ret.pivot_table(index=["arch", "fault", "seed"], columns="method", values="retained")[list(methods)]
    ranks = wide.rank(axis=1, ascending=False)
    stat, p = friedmanchisquare(*[wide[m].to_numpy() for m in methods])
    order = ranks.mean().sort_values().index.tolist()
    top = order[0]

    def wil(a, b):
        d = wide[a] - wide[b]
        return 1.0 if (d == 0).all() else float(wilcoxon(wide[a], wide[b]).pvalue)

    raw_top = {m: wil(top, m) for m in methods if m != top}
    raw_none = {m: wil(m, "none") for m in methods if m != "none"}
    holm_top, holm_none = holm(raw_top), holm(raw_none)
    rows = []
    for m in order:
        rows.append({"method": m, "mean_rank": ranks[m].mean(), "retained_pct": 100 * wide[m].mean(),
                     "wins": int((ranks[m] == 1).sum()), "diff_to_none_pp": 100 * (wide[m] - wide["none"]).mean(),
                     "p_vs_top": holm_top.get(m, float("nan")), "p_vs_none": holm_none.get(m, float("nan"))})
    return pd.DataFrame(rows), {"friedman": float(stat), "p": float(p), "blocks": len(wide), "top": top}




def per_fault_best(ret: pd.DataFrame) -> pd.DataFrame:
    """Per fault model (pooled over architectures): the method with the highest mean retained accuracy, its
    paired difference to ``none`` over (arch, seed) with a 95 % t-interval and p-value."""
    rows = []
    for fault, g in ret.groupby("fault", sort=False):
        wide = g.pivot_table(index=["arch", "seed"], columns="method", values="retained")
        best = wide.mean().idxmax()
        second = wide.mean().drop(best).idxmax()
        d = paired_t(100 * wide[best], 100 * wide["none"])
        d2 = paired_t(100 * wide[best], 100 * wide[second])
        rows.append({"fault": fault, "best": best, "best_retained_pct": 100 * wide[best].mean(),
                     "none_retained_pct": 100 * wide["none"].mean(), "diff_pp": d["mean"],
                     "diff_ci_halfwidth": d["ci_halfwidth"], "p_vs_none": d["p_value"], "runner_up": second,
                     "p_vs_runner_up": d2["p_value"]})
    return pd.DataFrame(rows)




def fmt_ci(d: dict, unit: str = "pp") -> str:
    """A paired difference ``d`` (``diff_pp``, ``ci_halfwidth``) as "+1.4 pp (95 % CI ±1.6)"."""
    half = d.get("ci_halfwidth", float("nan"))
    return f"{d['diff_pp']:+.1f} {unit} (95 % CI ±{half:.1f})" if half == half else f"{d['diff_pp']:+.1f} {unit}"


def fmt_p(p: float) -> str:
    """A p-value as "p = 0.031" (two significant digits)."""
    return f"p = {p:.2g}"


def fmt_test(d: dict) -> str:
    """A paired difference with its test: "+1.4 pp (95 % CI ±1.6) (p = 0.07, no evidence)"."""
    from ...report import evidence_verdict

    return f"{fmt_ci(d)} ({fmt_p(d['p_value'])}, {evidence_verdict(d['p_value'])})"
