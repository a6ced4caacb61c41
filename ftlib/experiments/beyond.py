"""Beyond the papers: which training method for which hardware fault, and can the damage be predicted?

The four papers each test their own method against their own fault model. This
study puts every method on one common ground and evaluates every model under
every fault model of the shared engine:

- **data and networks**: FashionMNIST, adversarial_ft's Architecture 1 (MLP
  784-512-1024-512-10) and Architecture 2 (CNN); training settings (epochs,
  subset, batch, Adam lr, Phase I) named like adversarial_ft's Table 2 settings
  and passed to *its* configuration functions
  (:func:`ftlib.experiments.adversarial_ft.baseline_config`,
  :func:`~ftlib.experiments.adversarial_ft.phase1_config`), so a profile with
  adversarial_ft's settings trains exactly its models (the same cache entries;
  the ``smoke`` and ``paper`` profiles do, see :func:`shares_adversarial_ft`);
- **methods** (:data:`METHODS`): none, L1 (Lasso), L2 (Tikhonov), dropout
  (unscaled, on the last hidden layer, continuous_limit's Table 2 setting),
  adversarial_ft's two-phase method, fault-aware training (snn_patterns'
  "previous work" [5] for non-spiking nets: clean loss + loss under a fresh
  faulty instance per batch), continuous_limit's Var Δ regularizer (b3 of the
  last hidden layer) and its continuity regularizer;
- **fault models** (:data:`FAULTS`, ``ftlib.faults.catalog``): stuck-at-0
  weights / filters (CNN only) / nodes, Bernoulli crashes, conditionally-uniform
  and erasure deviations, int8 bit flips; each at one stated severity (the heat
  map) and over a short range of rates around it (the bands);
- **seeds**: ``n_seeds`` training seeds per (architecture, method); all models
  meet the *same* fault draws (common random numbers: the sweep seed is the
  run's ``seed``), so differences between methods are paired.

Statistics: the unit is a trained model. A model's *retained accuracy* is its
accuracy under the fault (mean over draws) divided by its own fault-free
accuracy. Uncertainty over training seeds is a Student-t 95 % interval;
rankings use Friedman's test over blocks (architecture × fault × seed);
pairwise claims use Wilcoxon's signed-rank test over the same blocks, or a
paired t-test over seeds (:func:`ftlib.faults.paired_t`); correlations
across models use Spearman's ρ with a permutation test.
"""

from __future__ import annotations

import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch

from .. import adversarial as adv
from .. import faults, theory
from ..data import load
from ..faults.catalog import CATALOG, FAULT_NAMES, by_name
from ..stats import mean_ci, paired_t
from ..params import Param, Settings
from ..sections import Section
from ..store import Store
from ..training import TRAINING_CODE, TrainConfig, Trained, cache_key, train
from . import adversarial_ft as aft
from .common import cached_sweep

ARCHS = ("aft_arch1", "aft_arch2")
ARCH_LABELS = {"aft_arch1": "MLP (Arch. 1)", "aft_arch2": "CNN (Arch. 2)"}
DATASET = "fashion_mnist"

METHODS = ("none", "l1", "l2", "dropout", "adversarial", "fault_aware", "var_reg", "continuity")
"""The training methods of the study (see the module docstring)."""
METHOD_LABELS = {"none": "none", "l1": "L1 (Lasso)", "l2": "L2 (Tikhonov)", "dropout": "dropout",
                 "adversarial": "adversarial two-phase", "fault_aware": "fault-aware training",
                 "var_reg": "Var Δ regularizer", "continuity": "continuity regularizer"}
METHOD_PAPER = {"none": "all", "l1": "adversarial_ft", "l2": "adversarial_ft", "dropout": "continuous_limit",
                "adversarial": "adversarial_ft", "fault_aware": "snn_patterns [5]", "var_reg": "continuous_limit",
                "continuity": "continuous_limit"}
"""Which paper proposes or compares each method."""

FAULTS = FAULT_NAMES
"""Every fault model of the shared engine (stuck-at-0 weights, filters, nodes, Bernoulli crashes,
conditionally-uniform, erasure, int8 bit flips)."""

LAST_HIDDEN = {"aft_arch1": "6", "aft_arch2": "8"}
"""The module name of the last hidden activation (the input of the output layer) of each architecture:
where dropout acts and where the Var Δ regularizer measures (the FC layer of both)."""


def applies(arch: str, fault: str) -> bool:
    """Whether ``fault`` has sites in ``arch`` (filters exist only in the CNN)."""
    return not (fault == "stuck_filters" and arch == "aft_arch1")


def fault_label(fault: str) -> str:
    return CATALOG[fault][0]


# ----------------------------------------------------------------------------- settings

def seeds(s: Settings) -> list[int]:
    """The training seeds of this run: ``seed, seed + 1, …`` (``n_seeds`` of them)."""
    return [s.seed + i for i in range(s.n_seeds)]


def aft_settings(s: Settings, seed: int) -> SimpleNamespace:
    """The study's settings in the shape adversarial_ft's configuration functions read, for one seed."""
    return SimpleNamespace(
        epochs=s.epochs, cnn_epochs=s.cnn_epochs, batch_size=s.batch_size, lr=s.lr, n_train=s.n_train,
        n_test=s.n_test, tikhonov_lambdas=[s.l2], lasso_lambdas=[s.l1], cnn_tikhonov_lambdas=[s.l2],
        cnn_lasso_lambdas=[s.l1], phase1_epochs=s.phase1_epochs, cnn_phase1_epochs=s.cnn_phase1_epochs,
        phase1_n_train=s.phase1_n_train, phase1_iters=s.phase1_iters, phase1_lr=s.phase1_lr,
        disc_lr=s.disc_lr, disc_steps=s.disc_steps, seed=seed, cifar=False)


def shares_adversarial_ft(s: Settings, aft_profile: str) -> bool:
    """True when the study's none / L1 / L2 / adversarial models of ``s.seed`` are exactly the models of
    adversarial_ft's Table 2 in ``aft_profile`` (same TrainConfigs, hence the same cache entries)."""
    from ..sections import get

    t2 = Settings({**get("adversarial_ft/adversarial_framework").profiles[aft_profile], "seed": s.seed})
    ours = aft_settings(s, s.seed)
    for arch in ARCHS:
        if aft.phase1_config(t2, arch) != aft.phase1_config(ours, arch):
            return False
        a = aft._arch_settings(t2, arch)
        if aft.baseline_config(t2, arch, "tikhonov", 0.0) != aft.baseline_config(ours, arch, "tikhonov", 0.0):
            return False
        if s.l1 not in a["lasso"] or s.l2 not in a["tikhonov"]:
            return False
    return True


def train_config(s: Settings, arch: str, method: str, seed: int) -> TrainConfig:
    """The TrainConfig of ``method`` on ``arch`` (every method but ``adversarial``, which is two-phase)."""
    a = aft_settings(s, seed)
    base = aft.baseline_config(a, arch, "tikhonov", 0.0)
    if method == "none":
        return base
    if method == "l1":
        return aft.baseline_config(a, arch, "lasso", s.l1)
    if method == "l2":
        return aft.baseline_config(a, arch, "tikhonov", s.l2)
    if method == "dropout":
        return replace(base, dropout=s.dropout, dropout_layer=LAST_HIDDEN[arch])
    if method == "fault_aware":
        return replace(base, fault_train=s.fault_train, fault_train_rate=s.fault_train_rate)
    if method == "var_reg":
        return replace(base, var_reg=s.var_reg, var_layers=(LAST_HIDDEN[arch],))
    if method == "continuity":
        return replace(base, continuity=tuple(s.continuity))
    raise ValueError(f"unknown method {method!r}; methods: {', '.join(METHODS)}")


def train_method(s: Settings, arch: str, method: str, seed: int, store: Store) -> tuple[Trained, float]:
    """Train (or load) one model; returns it and its total training seconds (Phase I included)."""
    if method == "adversarial":
        a = aft_settings(s, seed)
        pre = adv.pretrain(aft.phase1_config(a, arch), store)
        aa = aft._arch_settings(a, arch)
        t = adv.finetune(pre, aa["epochs"], s.batch_size, s.lr, aa["n_train"], seed, store)
        return t, t.wall_time_s + pre.wall_time_s
    t = train(train_config(s, arch, method, seed), store)
    return t, t.wall_time_s


def eval_set(s: Settings):
    """The evaluation images (the first ``n_test`` of a seeded FashionMNIST test subset), shared by every model."""
    ds = load(DATASET, "test").subset(s.n_test or None, seed=s.seed)
    return ds.x, ds.y, {"dataset": DATASET, "split": "test", "n": s.n_test, "seed": s.seed}


def population(s: Settings, store: Store | None = None) -> tuple[pd.DataFrame, dict]:
    """Every model of the study: a table (arch, method, seed, train/test accuracy in %, generalization error,
    seconds, cached) and a dict (arch, method, seed) → Trained."""
    store = store or Store()
    x, y, _ = eval_set(s)
    rows, models = [], {}
    for arch in ARCHS:
        for method in METHODS:
            for seed in seeds(s):
                t, secs = train_method(s, arch, method, seed, store)
                models[(arch, method, seed)] = t
                test_acc = aft.test_accuracy(aft_settings(s, s.seed), t, arch, store, test=(x, y, s.n_test))
                rows.append({"arch": arch, "method": method, "seed": seed, "train_acc": 100 * t.train_acc,
                             "test_acc": test_acc, "gen_error": 100 * t.train_acc - test_acc,
                             "train_seconds": secs, "cached": t.from_cache})
    return pd.DataFrame(rows), models


# ----------------------------------------------------------------------------- fault sweeps

def severity(s: Settings, fault: str) -> float:
    """The heat map's severity of ``fault`` (from ``s.severities``, in the order of :data:`FAULTS`)."""
    return float(s.severities[FAULTS.index(fault)])


def rate_grid(sev: float, band_factors, bands: bool) -> list[float]:
    """The rates of one sweep: 0, the severity ``sev``, and for ``bands`` ``sev`` times each of
    ``band_factors`` (capped at 1), sorted and without duplicates."""
    out = {0.0, float(sev)}
    if bands:
        out |= {min(1.0, sev * f) for f in band_factors}
    return sorted(out)


def rates(s: Settings, fault: str, bands: bool) -> list[float]:
    """:func:`rate_grid` of ``fault``'s severity with ``s.band_factors``."""
    return rate_grid(severity(s, fault), s.band_factors, bands)


def sweeps(s: Settings, models: dict, store: Store | None = None) -> pd.DataFrame:
    """Every model under every applicable fault model (tidy: arch, method, seed, fault, rate, draw, accuracy).

    The first training seed's models get the band rates, the others only 0 and the severity; every sweep uses
    the run's ``seed`` for its fault draws (the same faults for every model: paired comparisons)."""
    store = store or Store()
    x, y, data_id = eval_set(s)
    frames = []
    for (arch, method, seed), t in models.items():
        for fault in FAULTS:
            if not applies(arch, fault):
                continue
            r = rates(s, fault, bands=seed == s.seed)
            df = cached_sweep(store, t, by_name(fault), r, x, y, s.draws, s.seed, data_id)
            frames.append(df.assign(arch=arch, method=method, seed=seed, fault=fault))
    return pd.concat(frames, ignore_index=True)


def retained(sw: pd.DataFrame, s: Settings, severity_of=None) -> pd.DataFrame:
    """Per model and fault at the heat map's severity: clean and faulty accuracy (%, mean over draws), the
    accuracy drop (pp) and the retained fraction (faulty / clean).

    ``severity_of(fault) -> rate``: where the heat map reads each fault model (default :func:`severity`)."""
    severity_of = severity_of or (lambda fault: severity(s, fault))
    m = sw.groupby(["arch", "method", "seed", "fault", "rate"], sort=False)["accuracy"].mean().reset_index()
    rows = []
    for (arch, method, seed, fault), g in m.groupby(["arch", "method", "seed", "fault"], sort=False):
        g = g.set_index("rate")["accuracy"]
        clean, at = g.loc[0.0], g.loc[severity_of(fault)]
        rows.append({"arch": arch, "method": method, "seed": seed, "fault": fault, "clean": 100 * clean,
                     "faulty": 100 * at, "drop": 100 * (clean - at), "retained": at / clean if clean > 0 else 0.0})
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


def plot_heatmap(table: pd.DataFrame, s: Settings):
    """The summary heat map: method × fault model → retained accuracy (%) at the stated severity, one panel
    per architecture, each cell "mean ± 95 % half-width over seeds"."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(ARCHS), figsize=(11.0, 4.2), sharey=True)
    for ax, arch in zip(axes, ARCHS):
        cols = [f for f in FAULTS if applies(arch, f)]
        im = heatmap_panel(ax, table[table.arch == arch], METHODS, METHOD_LABELS, cols,
                           [f"{fault_label(f)}\n@{severity(s, f):g}" for f in cols], ARCH_LABELS[arch])
    fig.colorbar(im, ax=list(axes), label="accuracy retained (%)", shrink=0.8)
    return fig


def plot_bands(sw: pd.DataFrame, s: Settings):
    """Accuracy vs rate with 95 % bands (over draws) for the first seed's models: one panel per (arch, fault)."""
    import matplotlib.pyplot as plt

    from .common import plot_bands as bands, summarize_by

    first = sw[sw.seed == s.seed]
    panels = [(a, f) for a in ARCHS for f in FAULTS if applies(a, f)]
    ncol = 4  # readable at the book's figure width (fonts ≥ 9 pt on screen, ftlib.report.MIN_FONT_PX)
    nrow = math.ceil(len(panels) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(10.0, 2.6 * nrow), sharey=True)
    axes = np.atleast_1d(axes).ravel()
    summary = summarize_by(first, ["arch", "fault", "method"])
    for ax, (arch, fault) in zip(axes, panels):
        for method in METHODS:
            g = summary[(summary.arch == arch) & (summary.fault == fault) & (summary.method == method)]
            bands(ax, g, METHOD_LABELS[method])
        ax.axvline(severity(s, fault), color="grey", lw=0.6, ls=":")
        ax.set_title(f"{arch.replace('aft_', '')}: {fault_label(fault)}")
        ax.set_xlabel("rate")
    for ax in axes[len(panels):]:
        ax.axis("off")
    axes[0].set_ylabel("test accuracy (%)")
    axes[0].set_ylim(0, 100)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.tight_layout()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(labels), 4),
               frameon=False)  # one shared legend below the panels, over no data
    return fig


# ----------------------------------------------------------------------------- ranking and significance

def ranking(ret: pd.DataFrame, methods=METHODS) -> tuple[pd.DataFrame, dict]:
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


def holm(pvalues: dict) -> dict:
    """Holm's step-down correction of a dict of p-values (same keys)."""
    items = sorted(pvalues.items(), key=lambda kv: kv[1])
    n, out, running = len(items), {}, 0.0
    for i, (k, p) in enumerate(items):
        running = max(running, min(1.0, (n - i) * p))
        out[k] = running
    return out


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


def versus(ret: pd.DataFrame, a: str, b, faults_: list[str] | None = None) -> dict:
    """Paired comparison of method ``a`` with method(s) ``b`` (a list: the best of them per block) over the
    *models* (arch × seed: the blocks of one model share its training, so they are not independent replicates):
    each model's retained accuracy averaged over ``faults_`` (all when None) and rates, the mean difference
    (pp) with its 95 % interval, the fraction of models ``a`` wins, and the one-sided paired t p-value for ``a``
    better (:func:`ftlib.claims.p_beats`; declared as ``BEY-*`` claims in :mod:`ftlib.claims`)."""
    from ..claims import p_beats

    r = ret if faults_ is None else ret[ret.fault.isin(faults_)]
    wide = r.pivot_table(index=["arch", "fault", "seed"], columns="method", values="retained")
    other = wide[b] if isinstance(b, str) else wide[list(b)].max(axis=1)
    d = (100 * (wide[a] - other)).groupby(level=["arch", "seed"]).mean()
    p = 1.0 if (d == 0).all() or len(d) < 2 else float(p_beats(d.to_numpy()))
    ci = mean_ci(d.to_numpy())
    return {"diff_pp": ci["mean"], "ci_halfwidth": ci["ci_halfwidth"], "wins": float((d > 0).mean()),
            "blocks": int(len(d)), "p_value": p}


def friedman_models(ret: pd.DataFrame, methods=METHODS) -> dict:
    """Friedman's test of "all methods are equally robust" over the models (arch × seed blocks, each method's
    retained accuracy averaged over the fault models): statistic, p-value, number of blocks."""
    from scipy.stats import friedmanchisquare

    wide = ret.pivot_table(index=["arch", "seed"], columns="method", values="retained")[list(methods)]
    stat, p = friedmanchisquare(*[wide[m].to_numpy() for m in methods])
    return {"friedman": float(stat), "p": float(p), "blocks": int(len(wide))}


def best_vs_none(ret: pd.DataFrame, top: str, methods=METHODS) -> dict:
    """BEY-BEST: :func:`versus` of the top-ranked method against ``none``, its p-value Bonferroni-corrected
    for the ``len(methods) − 1`` candidates (the top one is picked from the same data)."""
    if top == "none":
        return {"diff_pp": 0.0, "ci_halfwidth": 0.0, "wins": 0.0, "blocks": 0, "p_value": 1.0}
    d = versus(ret, top, "none")
    return {**d, "p_value": min(1.0, d["p_value"] * (len(methods) - 1))}


def tradeoff(pop: pd.DataFrame, ret: pd.DataFrame) -> pd.DataFrame:
    """Per model: clean test accuracy and mean retained accuracy over the fault models (the trade-off plot)."""
    mean_ret = ret.groupby(["arch", "method", "seed"], sort=False)["retained"].mean().rename("mean_retained")
    out = pop.set_index(["arch", "method", "seed"]).join(mean_ret).reset_index()
    out["mean_retained"] *= 100
    return out


def plot_tradeoff(t: pd.DataFrame):
    """Clean accuracy against robustness (mean retained accuracy over the fault models), one point per model,
    one panel per architecture; the method means with their 95 % seed intervals as error bars."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(ARCHS), figsize=(9.5, 3.6))
    for ax, arch in zip(axes, ARCHS):
        g = t[t.arch == arch]
        for method in METHODS:
            m = g[g.method == method]
            (pts,) = ax.plot(m.test_acc, m.mean_retained, "o", ms=3, alpha=0.5)
            cx, cy = mean_ci(m.test_acc.to_numpy()), mean_ci(m.mean_retained.to_numpy())
            ax.errorbar([cx["mean"]], [cy["mean"]], xerr=[[np.nan_to_num(cx["ci_halfwidth"])]],
                        yerr=[[np.nan_to_num(cy["ci_halfwidth"])]], fmt="s", ms=6, color=pts.get_color(),
                        label=METHOD_LABELS[method], capsize=2)
        ax.set_title(ARCH_LABELS[arch], fontsize=8)
        ax.set_xlabel("clean test accuracy (%)")
        ax.set_ylabel("accuracy retained, mean over faults (%)")
    axes[-1].legend(fontsize=6, loc="best")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- theory on every model

def theory_table(s: Settings, models: dict, store: Store | None = None) -> pd.DataFrame:
    """Per model: continuous_limit's first-order Var Δ (b3, Theorem 1) of the logits under Bernoulli crashes of
    every hidden activation at the crash severity, summed over the 10 outputs and averaged over the first
    ``n_theory`` evaluation images; and the mean logit margin (top-1 − top-2) on the same images, so that
    ``sqrt(b3) / margin`` is a scale-free version of the prediction. Cached per model."""
    store = store or Store()
    x, _, data_id = eval_set(s)
    x = x[:s.n_theory]
    p = severity(s, "crash")
    rows = []
    for (arch, method, seed), t in models.items():
        key = {"train": cache_key(t.config), "n": s.n_theory, "data": data_id, "p": p, "what": "b3_var_margin"}

        def compute(t=t):
            model = t.model.eval()
            var = theory.first_order(model, x, p).var.sum(1)
            with torch.no_grad():
                top2 = model(x).topk(2, dim=1).values
            margin = (top2[:, 0] - top2[:, 1]).double()
            return {"b3_var": float(var.mean()), "margin": float(margin.mean()),
                    "b3_rel": float((var.sqrt() / margin.clamp_min(1e-12)).median())}

        rows.append({"arch": arch, "method": method, "seed": seed,
                     **store.cached_result("theory", key, compute, code=TRAINING_CODE)})
    return pd.DataFrame(rows)


def spearman_permutation(x_by_group: dict, y_by_group: dict, n_perm: int = 2000, seed: int = 0,
                         alternative: str = "greater") -> dict:
    """Mean Spearman ρ over groups (e.g. fault models) between a per-model predictor ``x`` and per-model
    outcomes ``y`` (each a dict group → array over the *same* models), with a permutation p-value: the
    models' predictor values are permuted once per round, jointly for every group."""
    from scipy.stats import rankdata

    groups = list(x_by_group)
    rx = {g: rankdata(x_by_group[g]) for g in groups}
    ry = {g: rankdata(y_by_group[g]) for g in groups}

    def rho(perm=None):
        vals = []
        for g in groups:
            a = rx[g] if perm is None else rx[g][perm]
            vals.append(np.corrcoef(a, ry[g])[0, 1])
        return float(np.mean(vals))

    obs = rho()
    rng = np.random.default_rng(seed)
    n = len(next(iter(rx.values())))
    null = np.array([rho(rng.permutation(n)) for _ in range(n_perm)])
    if alternative == "greater":
        p = (1 + np.sum(null >= obs)) / (n_perm + 1)
    else:
        p = (1 + np.sum(null <= obs)) / (n_perm + 1)
    return {"rho": obs, "p_value": float(p), "n_models": n, "groups": len(groups)}


def prediction_quality(th: pd.DataFrame, ret: pd.DataFrame, predictor: str = "b3_var") -> pd.DataFrame:
    """Per (arch, fault): how well ``predictor`` (larger = more damage predicted) ranks the models by their
    measured accuracy drop at the severity: Spearman ρ (with its p-value), rank loss over the models, and rank
    loss over the method means (the practitioner's question: which method is more robust?)."""
    from scipy.stats import spearmanr

    df = ret.merge(th, on=["arch", "method", "seed"])
    rows = []
    for (arch, fault), g in df.groupby(["arch", "fault"], sort=False):
        rho, p = spearmanr(g[predictor], g["drop"])
        means = g.groupby("method")[[predictor, "drop"]].mean()
        rows.append({"arch": arch, "fault": fault, "n_models": len(g), "spearman_rho": float(rho),
                     "p_value": float(p), "rank_loss_models": theory.rank_loss(g[predictor], g["drop"]),
                     "rank_loss_methods": theory.rank_loss(means[predictor], means["drop"])})
    return pd.DataFrame(rows)


def predictor_test(th: pd.DataFrame, ret: pd.DataFrame, predictor: str, faults_: list[str],
                   sign: str = "greater", n_perm: int = 2000, seed: int = 0) -> dict:
    """Mean Spearman ρ of ``predictor`` with the accuracy drop over ``faults_`` and both architectures
    (ρ averaged over (arch, fault) groups, permutations within each architecture), permutation p-value."""
    df = ret.merge(th, on=["arch", "method", "seed"])
    out = []
    for arch in ARCHS:
        g = df[(df.arch == arch) & df.fault.isin(faults_)]
        if g.empty:
            continue
        wide_y = g.pivot_table(index=["method", "seed"], columns="fault", values="drop")
        xs = g.drop_duplicates(["method", "seed"]).set_index(["method", "seed"])[predictor].reindex(wide_y.index)
        out.append(spearman_permutation({f: xs.to_numpy() for f in wide_y.columns},
                                        {f: wide_y[f].to_numpy() for f in wide_y.columns}, n_perm, seed, sign))
    rho = float(np.mean([o["rho"] for o in out]))
    # combine the per-architecture permutation p-values conservatively (Bonferroni on the smaller one would
    # be optimistic; the larger one × 1 is a valid test of "it works in both architectures")
    p = float(max(o["p_value"] for o in out))
    return {"rho": rho, "p_value": p, "per_arch": {a: o for a, o in zip(ARCHS, out)}}


def plot_theory(th: pd.DataFrame, ret: pd.DataFrame, s: Settings):
    """b3's predicted Var Δ against the measured accuracy drop under Bernoulli crashes (left pair) and under
    stuck-at-0 nodes (right pair), one point per model, per architecture (log x)."""
    import matplotlib.pyplot as plt

    df = ret.merge(th, on=["arch", "method", "seed"])
    show = [("crash", a) for a in ARCHS] + [("stuck_weights", a) for a in ARCHS]
    fig, axes = plt.subplots(1, len(show), figsize=(12.0, 3.2))
    for ax, (fault, arch) in zip(axes, show):
        g = df[(df.arch == arch) & (df.fault == fault)]
        for method in METHODS:
            m = g[g.method == method]
            ax.scatter(m.b3_var, m["drop"], s=14, label=METHOD_LABELS[method])
        ax.set_xscale("log")
        ax.set_xlabel("b3: predicted Var Δ (logits)")
        ax.set_ylabel(f"accuracy drop (pp) at {severity(s, fault):g}")
        ax.set_title(f"{ARCH_LABELS[arch]}: {fault_label(fault)}", fontsize=8)
    axes[-1].legend(fontsize=5)
    fig.tight_layout()
    return fig


def generalization_test(pop: pd.DataFrame, ret: pd.DataFrame, n_perm: int = 2000, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """adversarial_ft's hypothesis over the whole population: a lower generalization error goes with more
    accuracy retained. Per (arch, fault) Spearman ρ(G, retained) and a pooled permutation test (predicted
    ρ < 0)."""
    from scipy.stats import spearmanr

    df = ret.merge(pop[["arch", "method", "seed", "gen_error", "test_acc"]], on=["arch", "method", "seed"])
    rows = []
    for (arch, fault), g in df.groupby(["arch", "fault"], sort=False):
        rho, p = spearmanr(g["gen_error"], g["retained"])
        rows.append({"arch": arch, "fault": fault, "n_models": len(g), "spearman_rho": float(rho),
                     "p_value": float(p)})
    th = pop[["arch", "method", "seed", "gen_error"]]
    r2 = ret.assign(drop=-ret["retained"])  # predictor_test correlates with "drop": use −retained
    pooled = predictor_test(th, r2, "gen_error", list(FAULTS), "less", n_perm, seed)
    return pd.DataFrame(rows), pooled


# ----------------------------------------------------------------------------- findings

def evidence(p: float, holds: bool = True) -> str:
    """The confidence of a directional finding from its p-value (see :func:`ftlib.report.evidence_verdict`)."""
    from ..report import evidence_verdict

    return evidence_verdict(p if holds else 1.0)


SECTION_PARAMS = (
    Param("n_seeds", int, "training seeds per architecture and method (seed, seed+1, ...)", low=1, high=100),
    Param("epochs", int, "training epochs of the MLP (Architecture 1) models, Phase II included", low=1,
          high=10_000),
    Param("cnn_epochs", int, "training epochs of the CNN (Architecture 2) models", low=1, high=10_000),
    Param("batch_size", int, "mini-batch size", low=1, high=60_000),
    Param("lr", float, "Adam learning rate", low=1e-7, high=1.0),
    Param("n_train", int, "FashionMNIST training images (0 = all 60,000)", low=0, high=60_000),
    Param("n_test", int, "FashionMNIST test images every model is evaluated on (0 = all 10,000)", low=0,
          high=10_000),
    Param("l1", float, "Lasso strength λ₁ of the L1 method", low=0.0, high=10.0),
    Param("l2", float, "Tikhonov strength λ₂ of the L2 method", low=0.0, high=10.0),
    Param("dropout", float, "unscaled dropout probability on the last hidden layer", low=0.0, high=0.99),
    Param("fault_train", str, "fault model injected by fault-aware training", choices=FAULT_NAMES),
    Param("fault_train_rate", float, "its rate during training", low=1e-6, high=1.0),
    Param("var_reg", float, "λ of the Var Δ (b3) regularizer on the last hidden layer", low=0.0, high=1e6),
    Param("continuity", list, "continuity regularizer ψ as [psi_D, psi_S]", item=float, low=0.0, high=10.0),
    *aft.PHASE1_PARAMS,
    Param("severities", list, "heat-map severity of each fault model, in the order stuck_weights stuck_filters "
          "stuck_nodes crash uniform erasure bitflip", item=float, low=0.0, high=1.0),
    Param("band_factors", list, "rates of the bands as multiples of each severity", item=float, low=0.0, high=100.0),
    Param("draws", int, "fault draws per rate and model", low=2, high=10_000),
    Param("n_theory", int, "evaluation images on which b3 is computed per model", low=1, high=10_000),
    Param("n_perm", int, "permutations of the correlation tests", low=99, high=1_000_000),
)

_SEVERITIES = [0.5, 0.4, 0.6, 0.6, 0.1, 0.3, 0.1]
_METHOD_SETTINGS = dict(dropout=0.3, fault_train="stuck_nodes", fault_train_rate=0.3, var_reg=0.2,
                        continuity=[1e-6, 1e-5], phase1_lr=1e-3, disc_lr=5e-5, disc_steps=1)
PROFILES = {
    # smoke: adversarial_ft's smoke settings (the same none / L1 / L2 / adversarial models of seed 0)
    "smoke": dict(_METHOD_SETTINGS, n_seeds=2, epochs=1, cnn_epochs=1, batch_size=256, lr=1e-3, n_train=2000,
                  n_test=200, l1=1e-3, l2=1e-3, phase1_epochs=1, cnn_phase1_epochs=1, phase1_n_train=2000,
                  phase1_iters=3, severities=_SEVERITIES, band_factors=[1.0], draws=2, n_theory=20, n_perm=99),
    "quick": dict(_METHOD_SETTINGS, n_seeds=3, epochs=2, cnn_epochs=2, batch_size=128, lr=1e-3, n_train=2000,
                  n_test=1000, l1=1e-4, l2=1e-3, phase1_epochs=1, cnn_phase1_epochs=1, phase1_n_train=2000,
                  phase1_iters=0, severities=_SEVERITIES, band_factors=[0.5, 1.5], draws=3, n_theory=200,
                  n_perm=2000),
    # paper: adversarial_ft's paper settings (its Table 2 models are the none / L1 / L2 / adversarial models of seed 0)
    "paper": dict(_METHOD_SETTINGS, n_seeds=5, epochs=50, cnn_epochs=50, batch_size=128, lr=1e-3, n_train=0,
                  n_test=0, l1=1e-4, l2=1e-3, phase1_epochs=2000, cnn_phase1_epochs=2000, phase1_n_train=0,
                  phase1_iters=0, severities=_SEVERITIES, band_factors=[0.25, 0.5, 1.5, 2.0], draws=20,
                  n_theory=1000, n_perm=10_000),
}

SECTIONS = [
    Section(key="beyond/methods_faults",
            title="Beyond the papers: every training method under every fault model",
            ids=("BEY-RANK", "BEY-BEST", "BEY-AFT", "BEY-FAT", "BEY-REG", "BEY-TRADE"),
            params=SECTION_PARAMS, profiles=PROFILES),
    Section(key="beyond/theory",
            title="Beyond the papers: can the damage be predicted without simulating it?",
            ids=("BEY-B3", "BEY-B3X", "BEY-GEN"),
            params=SECTION_PARAMS, profiles=PROFILES),
]


# ----------------------------------------------------------------------------- the findings, as report rows

OTHER_THAN_STUCK = ("crash", "uniform", "erasure", "bitflip")


def fmt_ci(d: dict, unit: str = "pp") -> str:
    """A paired difference ``d`` (``diff_pp``, ``ci_halfwidth``) as "+1.4 pp (95 % CI ±1.6)"."""
    half = d.get("ci_halfwidth", float("nan"))
    return f"{d['diff_pp']:+.1f} {unit} (95 % CI ±{half:.1f})" if half == half else f"{d['diff_pp']:+.1f} {unit}"


def method_findings(ret: pd.DataFrame, trade: pd.DataFrame, s: Settings) -> dict:
    """Every test of the methods-×-faults notebook, as numbers (see :func:`report_methods`)."""
    from scipy.stats import spearmanr

    rank, fried = ranking(ret)
    top = fried["top"]
    fried = {**fried, **friedman_models(ret)}  # the test over models (blocks of one model are not independent)
    out = {"ranking": rank, "friedman": fried, "per_fault": per_fault_best(ret)}
    out["best_vs_none"] = best_vs_none(ret, top)
    out["aft_other"] = versus(ret, "adversarial", ["l1", "l2"], list(OTHER_THAN_STUCK))
    out["aft_stuck"] = versus(ret, "adversarial", ["l1", "l2"], ["stuck_weights", "stuck_filters", "stuck_nodes"])
    others = [f for f in FAULTS if f != s.fault_train]
    out["fat_own"] = versus(ret, "fault_aware", "none", [s.fault_train])
    out["fat_other"] = versus(ret, "fault_aware", "none", others)
    out["reg_crash"] = versus(ret, "var_reg", "none", ["crash"])
    out["reg_other"] = versus(ret, "var_reg", "none", [f for f in FAULTS if f != "crash"])
    rows = []
    for arch in ARCHS:
        g = trade[trade.arch == arch]
        rho, p = spearmanr(g.test_acc, g.mean_retained)
        rows.append({"arch": arch, "rho": float(rho), "p_two_sided": float(p), "n_models": len(g)})
    out["tradeoff"] = pd.DataFrame(rows)
    return out


def report_methods(report, f: dict, s: Settings) -> None:
    """The findings of the methods-×-faults notebook as scoreboard rows (verdict = confidence)."""
    fr, rank = f["friedman"], f["ranking"]
    order = " > ".join(METHOD_LABELS[m] for m in rank.method)
    report.finding("BEY-RANK:differ", "methods differ in the accuracy they retain (Friedman test over the models, arch × seed)",
                   f"mean ranks: {order}; χ² = {fr['friedman']:.1f} over {fr['blocks']} models (arch × seed)", fr["p"])
    b = f["best_vs_none"]
    report.finding("BEY-BEST:top_beats_none", f"the top-ranked method ({METHOD_LABELS[fr['top']]}) retains more than none",
                   f"{fmt_ci(b)}, wins {b['wins']:.0%} of {b['blocks']} models", b["p_value"])
    for key, what in (("aft_stuck", "stuck-at-0 faults (the paper's setting)"),
                      ("aft_other", "crashes, deviations and bit flips (beyond it)")):
        d = f[key]
        report.finding("BEY-AFT:beats_l1_l2", f"adversarial two-phase retains more than the better of L1 / L2 under {what}",
                       f"{fmt_ci(d)}, wins {d['wins']:.0%} of {d['blocks']} models", d["p_value"])
    for key, what in (("fat_own", f"its own training fault ({fault_label(s.fault_train)})"),
                      ("fat_other", "the other fault models")):
        d = f[key]
        report.finding("BEY-FAT:beats_none", f"fault-aware training retains more than none under {what}",
                       f"{fmt_ci(d)}, wins {d['wins']:.0%} of {d['blocks']} models", d["p_value"])
    for key, what in (("reg_crash", "Bernoulli crashes (its target)"), ("reg_other", "the other fault models")):
        d = f[key]
        report.finding("BEY-REG:beats_none", f"the Var Δ regularizer retains more than none under {what}",
                       f"{fmt_ci(d)}, wins {d['wins']:.0%} of {d['blocks']} models", d["p_value"])
    for r in f["tradeoff"].itertuples():
        # one-sided test of a *negative* correlation (more clean accuracy, less robustness)
        p = r.p_two_sided / 2 if r.rho < 0 else 1 - r.p_two_sided / 2
        report.finding("BEY-TRADE:negative", f"{ARCH_LABELS[r.arch]}: models with higher clean accuracy retain less "
                       f"(Spearman over {r.n_models} models)", f"ρ = {r.rho:+.2f}", p)


def theory_findings(pop: pd.DataFrame, ret: pd.DataFrame, th: pd.DataFrame, s: Settings) -> dict:
    """Every test of the theory notebook, as numbers (see :func:`report_theory`)."""
    out = {"quality": prediction_quality(th, ret, "b3_var"), "quality_rel": prediction_quality(th, ret, "b3_rel")}
    out["b3_crash"] = predictor_test(th, ret, "b3_var", ["crash"], "greater", s.n_perm, s.seed)
    others = [f for f in FAULTS if f != "crash"]
    out["b3_other"] = predictor_test(th, ret, "b3_var", others, "greater", s.n_perm, s.seed)
    out["rel_crash"] = predictor_test(th, ret, "b3_rel", ["crash"], "greater", s.n_perm, s.seed)
    out["rel_other"] = predictor_test(th, ret, "b3_rel", others, "greater", s.n_perm, s.seed)
    out["gen_table"], out["gen"] = generalization_test(pop, ret, s.n_perm, s.seed)
    return out


def report_theory(report, f: dict) -> None:
    """The findings of the theory notebook as scoreboard rows (verdict = confidence)."""
    q = f["quality"]
    for key, pred, what in (("b3_crash", "b3 (Var Δ of the logits)", "Bernoulli crashes"),
                            ("rel_crash", "√b3 / logit margin", "Bernoulli crashes")):
        d = f[key]
        rl = q[q.fault == "crash"]["rank_loss_models"].mean()
        report.finding("BEY-B3:ranks", f"{pred} ranks the models by their accuracy drop under {what}",
                       f"mean Spearman ρ = {d['rho']:+.2f} (MLP {d['per_arch']['aft_arch1']['rho']:+.2f}, CNN "
                       f"{d['per_arch']['aft_arch2']['rho']:+.2f})" + (f"; rank loss {rl:.2f}" if key == "b3_crash"
                                                                       else ""), d["p_value"])
    for key, pred in (("b3_other", "b3 (Var Δ of the logits)"), ("rel_other", "√b3 / logit margin")):
        d = f[key]
        report.finding("BEY-B3X:ranks", f"{pred} ranks the models by their drop under the other fault models",
                       f"mean Spearman ρ = {d['rho']:+.2f} (MLP {d['per_arch']['aft_arch1']['rho']:+.2f}, CNN "
                       f"{d['per_arch']['aft_arch2']['rho']:+.2f})", d["p_value"])
    d = f["gen"]
    report.finding("BEY-GEN:ranks", "over all models and fault models, a lower generalization error goes with more "
                   "retained accuracy", f"mean Spearman ρ(G, retained) = {d['rho']:+.2f} (MLP "
                   f"{d['per_arch']['aft_arch1']['rho']:+.2f}, CNN {d['per_arch']['aft_arch2']['rho']:+.2f})",
                   d["p_value"])


# ----------------------------------------------------------------------------- conclusions in words

def _conf(p: float, holds: bool = True) -> str:
    return evidence(p, holds)


def fmt_test(d: dict) -> str:
    """A paired difference with its test: "+1.4 pp (95 % CI ±1.6) (p = 0.07, no evidence)"."""
    return f"{fmt_ci(d)} ({fmt_p(d['p_value'])}, {evidence(d['p_value'])})"


def fmt_p(p: float) -> str:
    """A p-value as "p = 0.031" (two significant digits)."""
    return f"p = {p:.2g}"


def methods_conclusions(f: dict, s: Settings) -> str:
    """The methods-×-faults conclusions as Markdown, with this run's numbers and their confidence."""
    smoke = s.profile == "smoke"
    fr, rank = f["friedman"], f["ranking"].set_index("method")
    top = fr["top"]
    lines = []
    if smoke:
        lines.append("**Smoke profile: the numbers below come from one-epoch models on tiny subsets and mean "
                     "nothing; the sentences are generated from them.**\n")
    b = f["best_vs_none"]
    lines.append(
        f"1. **Which method?** Over {fr['blocks']} models (architecture × seed, each averaged over the fault "
        f"models), the methods differ ({fmt_p(fr['p'])}, {_conf(fr['p'])}). {METHOD_LABELS[top]} ranks first (mean "
        f"rank {rank.loc[top, 'mean_rank']:.2f} of {len(METHODS)}, best in {rank.loc[top, 'wins']} blocks of "
        f"architecture × fault model × seed); against no regularization it retains {fmt_ci(b)} more accuracy "
        f"({fmt_p(b['p_value'])}, Bonferroni × {len(METHODS) - 1} for picking the top method; {_conf(b['p_value'])}). "
        f"The last is {METHOD_LABELS[rank.index[-1]]} (mean rank {rank['mean_rank'].iloc[-1]:.2f}).")
    pf = f["per_fault"]
    per = "; ".join(f"{fault_label(r.fault)}: {METHOD_LABELS[r.best]} ({r.best_retained_pct:.0f} % vs "
                    f"{r.none_retained_pct:.0f} % for none, {fmt_p(r.p_vs_none)}; runner-up "
                    f"{METHOD_LABELS[r.runner_up]}, {fmt_p(r.p_vs_runner_up)})" for r in pf.itertuples())
    n_best = pf["best"].nunique()
    lines.append(f"2. **For which fault?** The best method per fault model: {per}. "
                 + (f"{n_best} different methods win across the {len(pf)} fault models: the answer depends on "
                    "the fault. " if n_best > 1 else "One method wins under every fault model. ")
                 + "With 3 seeds × 2 architectures per fault, a per-fault difference needs to be large to be "
                   "significant; read the per-fault winners with their p-values.")
    st, ot = f["aft_stuck"], f["aft_other"]
    lines.append(
        f"3. **adversarial_ft beyond its setting.** The two-phase method against the better of L1 / L2 (per "
        f"block): under stuck-at-0 faults {fmt_test(st)}; under "
        f"crashes, deviations and bit flips {fmt_test(ot)}. "
        + ("The paper's claim generalises beyond stuck-at-0 faults here."
           if ot["p_value"] < 0.05 and ot["diff_pp"] > 0 else
           "We find no support for the claim beyond the paper's own fault model (with our short Phase I)."))
    fo, fx = f["fat_own"], f["fat_other"]
    lines.append(
        f"4. **Fault-aware training** ({fault_label(s.fault_train)} at {s.fault_train_rate:g}, snn_patterns' "
        f"previous work [5] on non-spiking nets) against none: under its own fault {fmt_test(fo)}; under the "
        f"other fault models {fmt_test(fx)}. "
        + ("It transfers to faults it was not trained with." if fx["p_value"] < 0.05 and fx["diff_pp"] > 0 else
           "Its protection does not demonstrably transfer to other fault models."))
    rc, ro = f["reg_crash"], f["reg_other"]
    lines.append(
        f"5. **continuous_limit's Var Δ regularizer** (λ = {s.var_reg:g}) against none: under Bernoulli crashes "
        f"{fmt_test(rc)}; under the other fault models "
        f"{fmt_test(ro)}.")
    tr = f["tradeoff"]
    lines.append("6. **Trade-off.** Spearman ρ between clean accuracy and mean retained accuracy over the models: "
                 + "; ".join(f"{ARCH_LABELS[r.arch]} ρ = {r.rho:+.2f} (two-sided {fmt_p(r.p_two_sided)})"
                             for r in tr.itertuples())
                 + ". A negative ρ means robustness is bought with clean accuracy; a positive one that the "
                   "better-trained models are also the more robust (the two are then not in conflict).")
    lines.append("\n*Uncertainty*: intervals are 95 % Student-t over training seeds (heat map) or over blocks "
                 "(paired differences); the blocks of one model under several fault models are not independent, "
                 "so the block-level p-values are somewhat optimistic — the per-seed intervals of the heat map are "
                 "the conservative reading.")
    return "\n".join(lines)


def theory_conclusions(f: dict, s: Settings) -> str:
    """The theory conclusions as Markdown, with this run's numbers and their confidence."""
    lines = []
    if s.profile == "smoke":
        lines.append("**Smoke profile: the numbers below mean nothing; the sentences are generated from them.**\n")
    q, qr = f["quality"], f["quality_rel"]
    bc, rc = f["b3_crash"], f["rel_crash"]
    crash_rl = q[q.fault == "crash"]
    lines.append(
        f"1. **b3 under its own fault model.** Across the models of one architecture, b3 (Var Δ of the logits) "
        f"and the accuracy drop under Bernoulli crashes have mean Spearman ρ = {bc['rho']:+.2f} "
        f"({fmt_p(bc['p_value'])}, {_conf(bc['p_value'])}); rank loss over models "
        + ", ".join(f"{ARCH_LABELS[r.arch]} {r.rank_loss_models:.2f}" for r in crash_rl.itertuples())
        + ", over the 8 methods "
        + ", ".join(f"{ARCH_LABELS[r.arch]} {r.rank_loss_methods:.2f}" for r in crash_rl.itertuples())
        + f" (0 = perfect, 0.5 = no information). The scale-free √b3 / margin: ρ = {rc['rho']:+.2f} "
        f"({fmt_p(rc['p_value'])}, {_conf(rc['p_value'])}).")
    bo, ro = f["b3_other"], f["rel_other"]
    lines.append(
        f"2. **b3 beyond Bernoulli crashes.** Averaged over the other fault models, ρ = {bo['rho']:+.2f} "
        f"({fmt_p(bo['p_value'])}, {_conf(bo['p_value'])}) for b3 and {ro['rho']:+.2f} ({fmt_p(ro['p_value'])}, "
        f"{_conf(ro['p_value'])}) for √b3 / margin. Per fault model: "
        + "; ".join(f"{r.arch.replace('aft_', '')} {fault_label(r.fault)} ρ = {r.spearman_rho:+.2f}"
                    for r in q[q.fault != "crash"].itertuples()) + ".")
    g = f["gen"]
    lines.append(
        f"3. **Generalization error as a predictor** (adversarial_ft's hypothesis) over all models and fault "
        f"models: mean ρ(G, retained) = {g['rho']:+.2f} (MLP {g['per_arch']['aft_arch1']['rho']:+.2f}, CNN "
        f"{g['per_arch']['aft_arch2']['rho']:+.2f}; the hypothesis predicts ρ < 0; {fmt_p(g['p_value'])}, "
        f"{_conf(g['p_value'])}). "
        + ("Over this population the hypothesis holds." if g["p_value"] < 0.05 else
           "Over this population the hypothesis is not supported: the generalization error of a model says "
           "little about its fault tolerance once the training method varies."))
    lines.append(f"\n*Scope*: b3 is Theorem 1's *first-order* (small p) term, and its ranking of the models does "
                 f"not depend on p; the damage is measured at the heat map's crash probability "
                 f"{severity(s, 'crash'):g}, where higher-order terms (several crashes interacting) can dominate. "
                 f"A failure here says the cheap prediction does not rank models at a practically damaging rate; "
                 f"at p ≈ 0.01 (continuous_limit's regime) the accuracy drops are too small to resolve with "
                 f"{s.draws} draws on {s.n_test or 10_000} images.")
    lines.append("\n*Uncertainty*: ρ is averaged over fault models (and architectures); its p-value is a "
                 "permutation test that shuffles the predictor across the models of one architecture (jointly "
                 "for all fault models) and takes the larger p of the two architectures, so a finding must hold "
                 "in both.")
    return "\n".join(lines)
