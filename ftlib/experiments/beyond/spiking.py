"""Beyond the papers, spiking part: snn_patterns' training methods under every fault model (notebook
``beyond/spiking``).

snn_patterns tests fault-aware training (its "previous work" [5]) and its own
pattern generation (Algorithm 1) against the fault each model was trained
with, HSF ("hard to spike") or NASF ("neuron always spikes"). This part of the
study asks whether that protection carries over to the *other* hardware
faults of the shared engine, and whether a model trained against one spiking
fault is protected against the other.

- **networks and data**: snn_patterns' 784-128-10 LIF network on MNIST, built
  by *its* configuration function (:func:`ftlib.experiments.snn_patterns._config.train_config`)
  from this section's settings, so the seed-0 models are the models of
  snn_patterns' Table 4 at the same profile (the same cache entries; see
  :func:`shares_snn_patterns`);
- **methods** (:data:`SNN_METHODS`): none (the paper's baseline), fault-aware
  training with HSF or NASF at the fault injection ratio ``fir``, and the
  proposed pattern generation with HSF or NASF at the same ratio;
- **fault models** (:data:`SNN_FAULTS`, :func:`snn_fault`): HSF and NASF on the
  hidden LIF layer (the paper's); spike drops (the engine's Bernoulli crash,
  transient, on every hidden spike of every time step); stuck-at-0 weights
  and int8 bit flips (both weight matrices); erasure and conditionally-uniform
  deviations of the synaptic currents (the outputs of both Linear layers, at
  every time step). A stuck-at-0 hidden *node* of a spiking network is an HSF
  neuron, so it is not repeated;
- **seeds**: ``n_seeds`` training seeds per method; every model meets the same
  fault draws *and the same input spike trains* (the rate encoder is seeded by
  the run's ``seed`` for every sweep), so differences between methods are paired.

One configuration (:data:`SNN`) of the generic pipeline of
:mod:`ftlib.experiments.beyond._pipeline`, the same as the non-spiking study's.

Statistics (fixed before the first run): retained accuracy as in the pipeline
(faulty / own fault-free accuracy at one severity per fault model); Friedman's test over the training seeds;
the directional claims use a one-sided paired t-test over the training seeds (one difference per seed)
(:func:`directional_t`): with 3 seeds Wilcoxon's signed-rank test cannot reach
p < 0.05 on the 3-6 blocks of a single fault.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch

from ... import codemap, faults
from ...faults.catalog import by_name
from ...models.snn_patterns import HIDDEN_LAYER
from ...params import Param, Section, Settings
from ...report import evidence_verdict
from ...stats import one_sided, paired_t, summarize
from ...store import Store
from ...training_snn import SNNTrained, spike_fault, train_snn
from ..snn_patterns import _config as snn
from ..common import images, plot_bands as bands
from ._pipeline import Study, fmt_ci, fmt_p, fmt_test, heatmap_panel, heatmap_table, per_fault_best, ranking, seeds

SNN_SWEEP_CODE = codemap.salt_parts("training_snn", "faults")
"""The salt of a cached sweep of a spiking model: the spiking training's source and the whole fault engine."""

ARCH = "snn"
"""The ``arch`` column of this part's tables (one architecture: the 784-128-10 LIF network)."""

SNN_METHODS = ("none", "fault_aware_hsf", "fault_aware_nasf", "patterns_hsf", "patterns_nasf")
"""The spiking training methods: none, fault-aware training [5] and pattern generation, each with HSF or NASF."""
SNN_METHOD_LABELS = {"none": "none (baseline)", "fault_aware_hsf": "fault-aware, HSF",
                     "fault_aware_nasf": "fault-aware, NASF", "patterns_hsf": "pattern generation, HSF",
                     "patterns_nasf": "pattern generation, NASF"}
_METHOD_RUN = {"none": ("baseline", "NASF"), "fault_aware_hsf": ("previous", "HSF"),
               "fault_aware_nasf": ("previous", "NASF"), "patterns_hsf": ("proposed", "HSF"),
               "patterns_nasf": ("proposed", "NASF")}
OWN_FAULT = {"fault_aware_hsf": "hsf", "fault_aware_nasf": "nasf", "patterns_hsf": "hsf", "patterns_nasf": "nasf"}
"""The fault each fault-aware method was trained with."""

SNN_FAULTS = ("hsf", "nasf", "spike_drop", "stuck_weights", "uniform", "erasure", "bitflip")
"""The fault models of the spiking part, in the order of the ``snn_severities`` parameter."""
SNN_FAULT_LABELS = {"hsf": "HSF (dead neurons)", "nasf": "NASF (saturated neurons)",
                    "spike_drop": "spike drops", "stuck_weights": "stuck-at-0 weights",
                    "uniform": "conditionally-uniform deviations", "erasure": "erasure deviations",
                    "bitflip": "int8 bit flips"}


def snn_fault(name: str, variant: str = "paper-text") -> faults.FaultModel:
    """The fault model ``name`` (one of :data:`SNN_FAULTS`) placed on the spiking network.

    HSF / NASF and spike drops act on the hidden LIF layer's spikes ``(T, B, 128)``: HSF / NASF on an exact
    fraction of the neurons for every input and time step (snn_patterns), spike drops on each spike
    independently (a transient :class:`~ftlib.faults.BernoulliCrash`). The others are the catalog's
    (:mod:`ftlib.faults.catalog`) on their default sites: the two Linear layers' weights, or their outputs
    (the synaptic currents, ``(T, B, n_out)``, deviated independently at every time step). ``variant``
    ``"authors"`` (the configuration snn_patterns adopts) puts HSF / NASF on the authors' population instead
    (784 input pixels + 128 hidden neurons, HSF × 0.1: :func:`ftlib.training_snn.spike_fault`)."""
    if name in ("hsf", "nasf"):
        return spike_fault(name.upper(), variant)
    if name == "spike_drop":
        return faults.BernoulliCrash(layers=HIDDEN_LAYER)
    if name in SNN_FAULTS:
        return by_name(name)
    raise ValueError(f"unknown spiking fault model {name!r}; known: {', '.join(SNN_FAULTS)}")


# ----------------------------------------------------------------------------- settings and models

def snn_settings(s: Settings, seed: int) -> SimpleNamespace:
    """The section's settings in the shape snn_patterns' :func:`~ftlib.experiments.snn_patterns._config.train_config`
    reads, for one training seed."""
    return SimpleNamespace(variant=s.variant, gen_reps=s.gen_reps, epochs=s.epochs, n_train=s.n_train, seed=seed,
                           num_steps=s.num_steps,
                           gen_steps=s.gen_steps, m_patterns=s.m_patterns, gen_eps=s.gen_eps,
                           gen_max_batches=s.gen_max_batches)


def train_config(s: Settings, method: str, seed: int):
    """The :class:`~ftlib.training_snn.SNNTrainConfig` of ``method`` for training seed ``seed``."""
    try:
        run, kind = _METHOD_RUN[method]
    except KeyError:
        raise ValueError(f"unknown spiking method {method!r}; methods: {', '.join(SNN_METHODS)}") from None
    return snn.train_config(snn_settings(s, seed), run, kind, 0.0 if run == "baseline" else s.fir)


def shares_snn_patterns(s: Settings, snn_profile: str) -> bool:
    """True when every seed-``s.seed`` model of this section is a model of snn_patterns' Table 4 in
    ``snn_profile`` (the same configuration, hence the same cache entry)."""
    from .. import get

    t4 = Settings({**get("snn_patterns/accuracy").profiles[snn_profile], "seed": s.seed})
    theirs = [snn.train_config(t4, "baseline")] + [snn.train_config(t4, m, kind, f) for kind in ("HSF", "NASF")
                                                   for m in ("previous", "proposed") for f in snn.FIRS]
    return all(train_config(s, m, s.seed) in theirs for m in SNN_METHODS)


def eval_set(s: Settings):
    """The MNIST test images every spiking model is evaluated on (snn_patterns' test subset of this run)."""
    x, y = snn.test_set(s)
    return x, y, {"dataset": "mnist", "split": "test", "n": s.n_test, "seed": s.seed}


def _train_row(s: Settings, arch: str, method: str, seed: int, store: Store, evaluation) -> tuple[SNNTrained, dict]:
    """One spiking model and its row: clean test accuracy (%) averaged over ``test_reps`` encodings, generated
    patterns, training CPU seconds, cached."""
    t = train_snn(train_config(s, method, seed), store)
    return t, {"test_acc": 100 * snn.clean_accuracy(s, t, store),
               "patterns": sum(h["new_patterns"] for h in t.history),
               "train_seconds": t.train_seconds + t.gen_seconds, "cached": t.from_cache}


def snn_sweep(store: Store, t: SNNTrained, fault: str, rates_: list[float], x: torch.Tensor, y: torch.Tensor,
              draws: int, seed: int, data_id: dict) -> pd.DataFrame:
    """:func:`ftlib.faults.sweep` of a spiking model under fault model ``fault``, cached by everything that
    determines it. The rate encoder draws the input spike trains from a generator seeded with ``seed``, and
    the sweep's fault-free prefix reuse encodes each test image once: every draw, rate, fault model and
    model sees the same spike trains. Returns the tidy table (``rate``, ``draw``, ``accuracy``)."""
    fm = snn_fault(fault, t.config.variant)
    key = {"train": t.config.key(), "fault": repr(fm), "rates": [float(r) for r in rates_], "draws": int(draws),
           "seed": int(seed), "data": data_id}

    def compute():
        enc = t.model[0]
        enc.generator = torch.Generator().manual_seed(seed)
        try:
            res = faults.sweep(t.model, fm, rates_, (x, y), draws=draws, seed=seed)
        finally:
            enc.generator = None
        return res.table.to_dict("list")

    table = store.cached_result("sweep_snn", key, compute, code=SNN_SWEEP_CODE)
    return pd.DataFrame(table)[["rate", "draw", "accuracy"]]


SNN = Study(archs=(ARCH,), methods=SNN_METHODS, faults=SNN_FAULTS, severities="snn_severities",
            units=lambda s: [(ARCH, m, seed) for seed in seeds(s) for m in SNN_METHODS],
            train=_train_row, sweep=snn_sweep, eval_set=eval_set)
"""The spiking study: every (method, training seed) of this section, every spiking fault model."""

population, sweeps, retained = SNN.population, SNN.sweeps, SNN.retained


def population_table(pop: pd.DataFrame) -> pd.DataFrame:
    """Mean clean test accuracy (%), generated patterns and training seconds per method over the training
    seeds of ``population``, rounded to 0.01."""
    return pop.groupby("method", sort=False)[["test_acc", "patterns", "train_seconds"]].mean().round(2)


def plot_heatmap(ret: pd.DataFrame, s: Settings):
    """Spiking methods × fault models → retained accuracy (%) of ``ret`` (``retained``) at the stated
    severities (mean ± 95 % over seeds, :func:`~ftlib.experiments.beyond._pipeline.heatmap_table`)."""
    import matplotlib.pyplot as plt

    table = heatmap_table(ret)
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    im = heatmap_panel(ax, table, SNN_METHODS, SNN_METHOD_LABELS, SNN_FAULTS,
                       [f"{SNN_FAULT_LABELS[f]}\n@{SNN.severity(s, f):g}" for f in SNN_FAULTS],
                       "784-128-10 LIF network (MNIST)")
    fig.colorbar(im, ax=ax, label="accuracy retained (%)", shrink=0.8)
    fig.tight_layout()
    return fig


def plot_bands(sw: pd.DataFrame, s: Settings):
    """Accuracy vs rate with 95 % bands over draws (first seed's models), one panel per fault model."""
    import matplotlib.pyplot as plt

    first = sw[sw.seed == s.seed]
    summary = summarize(first, "accuracy", groups=["fault", "method"])
    ncol = 4
    fig, axes = plt.subplots(math.ceil(len(SNN_FAULTS) / ncol), ncol, figsize=(11.0, 5.0), sharey=True)
    axes = np.atleast_1d(axes).ravel()
    for ax, fault in zip(axes, SNN_FAULTS):
        for method in SNN_METHODS:
            bands(ax, summary[(summary.fault == fault) & (summary.method == method)], SNN_METHOD_LABELS[method])
        ax.axvline(SNN.severity(s, fault), color="grey", lw=0.6, ls=":")
        ax.set_title(SNN_FAULT_LABELS[fault], fontsize=8)
        ax.set_xlabel("rate", fontsize=7)
        ax.tick_params(labelsize=6)
    for ax in axes[len(SNN_FAULTS):]:
        ax.axis("off")
    axes[0].set_ylabel("test accuracy (%)")
    axes[0].set_ylim(0, 100)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower right", fontsize=7)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- findings

def directional_t(ret: pd.DataFrame, pairs: list[tuple[str, str, str]]) -> dict:
    """One-sided paired t-test of "method a retains more than method b" over blocks.

    ``pairs``: ``(a, b, fault)`` triples; each contributes one block per training seed, the difference of
    the two models' retained accuracy (pp) under ``fault`` at its severity. Returns the mean difference with
    its two-sided 95 % t half-width, the fraction of blocks ``a`` wins, the number of blocks and the
    one-sided p-value (:func:`ftlib.faults.one_sided`)."""
    wide = ret.pivot_table(index=["fault", "seed"], columns="method", values="retained")
    # one difference per training seed, averaged over the pairs: the pairs of one seed share its models
    # (e.g. one 'none' model), so they are not independent replicates (issue 17)
    per_seed = sum(100 * (wide.loc[fault][a] - wide.loc[fault][b]) for a, b, fault in pairs) / len(pairs)
    a_vals, b_vals = list(per_seed.to_numpy()), [0.0] * len(per_seed)
    t = paired_t(a_vals, b_vals)
    p = one_sided(t, "greater")
    d = np.asarray(a_vals) - np.asarray(b_vals)
    return {"diff_pp": t["mean"], "ci_halfwidth": t["ci_halfwidth"], "wins": float((d > 0).mean()),
            "blocks": int(len(d)), "p_value": float(p)}


def friedman_seeds(ret: pd.DataFrame, methods=SNN_METHODS) -> dict:
    """Friedman test of "the methods differ" with one block per training seed (each method's retained
    accuracy averaged over the fault models; :func:`scipy.stats.friedmanchisquare`). NaN p with < 2 seeds."""
    from scipy.stats import friedmanchisquare

    wide = ret.pivot_table(index="seed", columns="method", values="retained")[list(methods)]
    if len(wide) < 2:
        return {"friedman": float("nan"), "p": float("nan"), "blocks": int(len(wide))}
    stat, p = friedmanchisquare(*[wide[m].to_numpy() for m in methods])
    return {"friedman": float(stat), "p": float(p), "blocks": int(len(wide))}


def findings(ret: pd.DataFrame) -> dict:
    """Every test of the spiking part, as numbers (see :func:`compare`)."""
    rank, fried = ranking(ret, SNN_METHODS)
    fat = [m for m in SNN_METHODS if m.startswith("fault_aware")]
    pat = [m for m in SNN_METHODS if m.startswith("patterns")]
    out = {"ranking": rank, "friedman": {**fried, **friedman_seeds(ret)}, "per_fault": per_fault_best(ret)}
    out["fat_own"] = directional_t(ret, [(m, "none", OWN_FAULT[m]) for m in fat])
    out["fat_other"] = directional_t(ret, [(m, "none", f) for m in fat for f in SNN_FAULTS if f != OWN_FAULT[m]])
    out["fat_cross"] = directional_t(ret, [(m, "none", f) for m in fat for f in ("hsf", "nasf")
                                           if f != OWN_FAULT[m]])
    prev = {m: m.replace("patterns", "fault_aware") for m in pat}
    out["pat_own"] = directional_t(ret, [(m, prev[m], OWN_FAULT[m]) for m in pat])
    out["pat_other"] = directional_t(ret, [(m, prev[m], f) for m in pat for f in SNN_FAULTS if f != OWN_FAULT[m]])
    return out


def compare(report, f: dict, s: Settings) -> None:
    """The findings of :func:`findings` as scoreboard rows on ``report`` (verdict = confidence of the test,
    :func:`ftlib.report.evidence_verdict`)."""
    fr, rank = f["friedman"], f["ranking"]
    order = " > ".join(SNN_METHOD_LABELS[m] for m in rank.method)
    report.finding("BEY-SNN-RANK:differ", "spiking training methods differ in the accuracy they retain (Friedman test "
                   "over the training seeds)", f"mean ranks: {order}; χ² = {fr['friedman']:.1f} over "
                   f"{fr['blocks']} seeds", fr["p"])
    for key, what in (("fat_own", "the spiking fault it was trained with (snn_patterns' setting)"),
                      ("fat_cross", "the other spiking fault (HSF-trained under NASF and vice versa)"),
                      ("fat_other", "every fault model but its own")):
        d = f[key]
        report.finding(f"BEY-SNN-FAT:{key.split('_')[1]}", f"fault-aware training (FIR {s.fir:g}) retains more than none under {what}",
                       fmt_ci(d) + f", wins {d['wins']:.0%} of {d['blocks']} seeds", d["p_value"])
    for key, what in (("pat_own", "the spiking fault it was trained with"),
                      ("pat_other", "every fault model but its own")):
        d = f[key]
        report.finding(f"BEY-SNN-PAT:{key.split('_')[1]}", f"pattern generation retains more than fault-aware training alone under "
                       f"{what}", fmt_ci(d) + f", wins {d['wins']:.0%} of {d['blocks']} seeds",
                       d["p_value"])


def conclusions(f: dict, s: Settings) -> str:
    """The spiking part's conclusions as Markdown, with this run's numbers and their confidence."""
    ev, p_ = evidence_verdict, fmt_p
    lines = []
    if s.profile == "smoke":
        lines.append("**Smoke profile: the numbers below mean nothing; the sentences are generated from them.**\n")
    fr, rank = f["friedman"], f["ranking"].set_index("method")
    top = fr["top"]
    lines.append(
        f"1. **Do the spiking methods differ?** Over {fr['blocks']} training seeds (each method's retained accuracy averaged over the fault models) Friedman's test "
        f"gives {p_(fr['p'])} ({ev(fr['p'])}). {SNN_METHOD_LABELS[top]} ranks first (mean rank "
        f"{rank.loc[top, 'mean_rank']:.2f} of {len(SNN_METHODS)}), {SNN_METHOD_LABELS[rank.index[-1]]} last.")
    fo, fc, fx = f["fat_own"], f["fat_cross"], f["fat_other"]
    lines.append(
        f"2. **Fault-aware training** (FIR {s.fir:g}) against none: under its own spiking fault "
        f"{fmt_test(fo)}; under the other spiking fault "
        f"{fmt_test(fc)}; under every fault model but its own "
        f"{fmt_test(fx)}. "
        + ("Its protection transfers beyond the fault it was trained with."
           if fx["p_value"] < 0.05 and fx["diff_pp"] > 0 else
           "Its protection does not demonstrably transfer beyond the fault it was trained with."))
    po, px = f["pat_own"], f["pat_other"]
    lines.append(
        f"3. **Pattern generation** (snn_patterns' Algorithm 1) against fault-aware training alone, same fault "
        f"and ratio: under its own fault {fmt_test(po)}; "
        f"under the other fault models {fmt_test(px)}.")
    pf = f["per_fault"]
    lines.append("4. **Per fault model** (paired t over seeds): "
                 + "; ".join(f"{SNN_FAULT_LABELS[r.fault]}: {SNN_METHOD_LABELS[r.best]} "
                             f"({r.best_retained_pct:.0f} % vs {r.none_retained_pct:.0f} % for none, "
                             f"{p_(r.p_vs_none)})" for r in pf.itertuples()) + ".")
    lines.append(f"\n*Uncertainty*: {s.n_seeds} training seeds per method; intervals are 95 % Student-t over the "
                 "seeds, one difference per seed (averaged over the pairs and fault models of the claim: the fault "
                 "models of one model are not independent replicates).")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the section
SECTION_PARAMS = (
    Param("n_seeds", int, "training seeds per spiking method (seed, seed+1, ...)", low=1, high=100),
    Param("fir", float, "fault injection ratio of fault-aware training and pattern generation", low=1e-6,
          high=1.0),
    *snn._COMMON,
    Param("snn_severities", list, "heat-map severity of each spiking fault model, in the order hsf nasf "
          "spike_drop stuck_weights uniform erasure bitflip", item=float, low=0.0, high=1.0),
    Param("band_factors", list, "rates of the bands as multiples of each severity", item=float, low=0.0,
          high=100.0),
    Param("draws", int, "fault draws per rate and model", low=2, high=10_000),
)

_SEVERITIES = [0.7, 0.2, 0.8, 0.5, 0.4, 0.6, 0.05]
"""hsf nasf spike_drop stuck_weights uniform erasure bitflip: for each fault model the smallest rate of a fixed
grid at which the quick profile's seed-0 baseline keeps at most 80 % of its clean accuracy (calibrated once, on
that one model, before any method was compared; the grid and the baseline's retained fractions are in
``book/beyond.md``)."""
_SNN_KEYS = ("variant", "epochs", "n_train", "n_test", "num_steps", "test_reps", "m_patterns", "gen_max_batches",
             "gen_steps", "gen_eps", "gen_reps")


def _from_snn(profile: str) -> dict:
    """snn_patterns' settings of ``profile`` (so its Table 4 models are this section's seed-0 models)."""
    return {k: snn._P[profile][k] for k in _SNN_KEYS}


PROFILES = {
    "smoke": dict(_from_snn("smoke"), n_seeds=2, fir=0.05, snn_severities=_SEVERITIES, band_factors=[1.0],
                  draws=2),
    "quick": dict(_from_snn("quick"), n_seeds=3, fir=0.05, snn_severities=_SEVERITIES, band_factors=[0.5, 1.5],
                  draws=3),
    "paper": dict(_from_snn("paper"), n_seeds=5, fir=0.05, snn_severities=_SEVERITIES,
                  band_factors=[0.25, 0.5, 1.5, 2.0], draws=10),
}

def _batches(n: int) -> str:
    """Algorithm 1's scan limit in words (0 = every batch, the paper's outer loop)."""
    return "every batch" if n == 0 else f"≤ {n} batch" + ("es" if n > 1 else "")


def profile_note(s: Settings) -> str:
    """The run's settings in words (Markdown), generated from ``s``; says whether the seed-``s.seed`` models
    are snn_patterns' Table 4 models of the same profile (:func:`shares_snn_patterns`)."""
    shared = (f", of which the {len(SNN_METHODS)} of seed {s.seed} are snn_patterns' Table 4 models (the same "
              f"cache entries)" if shares_snn_patterns(s, s.profile) else "")
    return (f"**Profile {s.profile}**: snn_patterns' settings ({images(s.n_train, 60_000)} of MNIST, "
            f"{s.num_steps} time steps, {s.epochs} epochs, Algorithm 1 scanning {_batches(s.gen_max_batches)} per "
            f"epoch), FIR {s.fir:g}, {s.n_seeds} training seeds × {len(SNN_METHODS)} methods = "
            f"{s.n_seeds * len(SNN_METHODS)} models{shared}, {images(s.n_test, 10_000)} for testing, "
            f"{s.draws} fault draws per rate.")


SECTION = Section(key="beyond/spiking", title="Beyond the papers: spiking networks under every fault model",
                  ids=("BEY-SNN-RANK", "BEY-SNN-FAT", "BEY-SNN-PAT"), params=SECTION_PARAMS, profiles=PROFILES)
