"""Beyond the papers: every training method under every fault model (notebook ``beyond/methods_faults``).

The study of :mod:`ftlib.experiments.beyond._config` (its :data:`~ftlib.experiments.beyond._config.ANN`
configuration of the generic pipeline, :mod:`ftlib.experiments.beyond._pipeline`): which training method
retains the most accuracy under which fault model (BEY-RANK, BEY-BEST), whether adversarial_ft's two-phase
method, fault-aware training and the Var Δ regularizer help beyond their own fault (BEY-AFT, BEY-FAT,
BEY-REG), and whether robustness costs clean accuracy (BEY-TRADE).

Statistics: rankings use Friedman's test over the models (arch × seed blocks); pairwise claims a one-sided
paired t-test over the models (:func:`versus`, declared as ``BEY-*`` claims in :mod:`ftlib.claims`);
correlations across models Spearman's ρ. The notebook calls ``population``, ``sweeps``, ``retained`` (the
pipeline's), :func:`plot_bands`, :func:`plot_heatmap`, :func:`findings`, :func:`plot_tradeoff`,
:func:`conclusions` and :func:`compare`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...params import Section, Settings
from ...report import evidence_verdict
from ...stats import mean_ci, summarize
from ..common import images, plot_bands as bands
from ._config import (ANN, ARCH_LABELS, ARCHS, FAULTS, METHOD_LABELS, METHODS, PROFILES, SECTION_PARAMS, applies,
                      fault_label)
from ._pipeline import fmt_ci, fmt_p, fmt_test, heatmap_panel, heatmap_table, per_fault_best, ranking

population, sweeps, retained = ANN.population, ANN.sweeps, ANN.retained

OTHER_THAN_STUCK = ("crash", "uniform", "erasure", "bitflip")


def population_table(pop: pd.DataFrame) -> pd.DataFrame:
    """Mean train / test accuracy (%), generalization error (pp) and training seconds per (arch, method) over
    the training seeds of ``population``, rounded to 0.01."""
    cols = ["train_acc", "test_acc", "gen_error", "train_seconds"]
    return pop.groupby(["arch", "method"], sort=False)[cols].mean().round(2)


def plot_heatmap(ret: pd.DataFrame, s: Settings):
    """The summary heat map of ``ret`` (``retained``): method × fault model → retained accuracy (%) at the
    stated severity, one panel per architecture, each cell "mean ± 95 % half-width over seeds"
    (:func:`~ftlib.experiments.beyond._pipeline.heatmap_table`)."""
    import matplotlib.pyplot as plt

    table = heatmap_table(ret)
    fig, axes = plt.subplots(1, len(ARCHS), figsize=(11.0, 4.2), sharey=True)
    for ax, arch in zip(axes, ARCHS):
        cols = [f for f in FAULTS if applies(arch, f)]
        im = heatmap_panel(ax, table[table.arch == arch], METHODS, METHOD_LABELS, cols,
                           [f"{fault_label(f)}\n@{ANN.severity(s, f):g}" for f in cols], ARCH_LABELS[arch])
    fig.colorbar(im, ax=list(axes), label="accuracy retained (%)", shrink=0.8)
    return fig


def plot_bands(sw: pd.DataFrame, s: Settings):
    """Accuracy vs rate with 95 % bands (over draws) for the first seed's models: one panel per (arch, fault)."""
    import matplotlib.pyplot as plt

    
    first = sw[sw.seed == s.seed]
    panels = [(a, f) for a in ARCHS for f in FAULTS if applies(a, f)]
    ncol = 4  # readable at the book's figure width (fonts ≥ 9 pt on screen, ftlib.report.MIN_FONT_PX)
    nrow = math.ceil(len(panels) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(10.0, 2.6 * nrow), sharey=True)
    axes = np.atleast_1d(axes).ravel()
    summary = summarize(first, "accuracy", groups=["arch", "fault", "method"])
    for ax, (arch, fault) in zip(axes, panels):
        for method in METHODS:
            g = summary[(summary.arch == arch) & (summary.fault == fault) & (summary.method == method)]
            bands(ax, g, METHOD_LABELS[method])
        ax.axvline(ANN.severity(s, fault), color="grey", lw=0.6, ls=":")
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



def versus(ret: pd.DataFrame, a: str, b, faults_: list[str] | None = None) -> dict:
    """Paired comparison of method ``a`` with method(s) ``b`` (a list: the best of them per block) over the
    *models* (arch × seed: the blocks of one model share its training, so they are not independent replicates):
    each model's retained accuracy averaged over ``faults_`` (all when None) and rates, the mean difference
    (pp) with its 95 % interval, the fraction of models ``a`` wins, and the one-sided paired t p-value for ``a``
    better (:func:`ftlib.claims.p_beats`; declared as ``BEY-*`` claims in :mod:`ftlib.claims`)."""
    from ...claims import p_beats

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



def findings(ret: pd.DataFrame, pop: pd.DataFrame, s: Settings) -> dict:
    """Every test of the section, as numbers (see :func:`compare`): the ranking and Friedman's test, the best
    method per fault, the directional comparisons and the trade-off correlations (``tradeoff`` also holds
    the per-model table of :func:`tradeoff`, as ``tradeoff_models``)."""
    from scipy.stats import spearmanr

    trade = tradeoff(pop, ret)
    rank, fried = ranking(ret, METHODS)
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
    out["tradeoff_models"] = trade
    return out


def friedman_line(f: dict) -> str:
    """Friedman's statistic in one line: "Friedman χ² = 12.3 over 6 blocks, p = 0.09"."""
    fr = f["friedman"]
    return f"Friedman χ² = {fr['friedman']:.1f} over {fr['blocks']} blocks, p = {fr['p']:.2g}"


def compare(report, f: dict, s: Settings) -> None:
    """The findings of :func:`findings` as scoreboard rows on ``report`` (verdict = confidence of the test,
    :func:`ftlib.report.evidence_verdict`)."""
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



def conclusions(f: dict, s: Settings) -> str:
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
        f"models), the methods differ ({fmt_p(fr['p'])}, {evidence_verdict(fr['p'])}). {METHOD_LABELS[top]} ranks first (mean "
        f"rank {rank.loc[top, 'mean_rank']:.2f} of {len(METHODS)}, best in {rank.loc[top, 'wins']} blocks of "
        f"architecture × fault model × seed); against no regularization it retains {fmt_ci(b)} more accuracy "
        f"({fmt_p(b['p_value'])}, Bonferroni × {len(METHODS) - 1} for picking the top method; {evidence_verdict(b['p_value'])}). "
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



def profile_note(s: Settings) -> str:
    """The run's settings in words (Markdown), generated from ``s`` and the ``paper`` profile."""
    paper = SECTION.profiles["paper"]
    n = s.n_seeds * len(METHODS) * len(ARCHS)
    return (f"**Profile {s.profile}**: {s.n_seeds} seeds × {len(METHODS)} methods × {len(ARCHS)} architectures "
            f"= {n} models trained on {images(s.n_train, 60_000)} for {s.epochs} epochs (MLP; {s.cnn_epochs} for "
            f"the CNN), {images(s.n_test, 10_000)} for testing, {s.draws} fault draws per rate. The `paper` "
            f"profile trains on {images(paper['n_train'], 60_000)} for {paper['epochs']} epochs with "
            f"{paper['n_seeds']} seeds.")


SECTION = Section(key="beyond/methods_faults",
                  title="Beyond the papers: every training method under every fault model",
                  ids=("BEY-RANK", "BEY-BEST", "BEY-AFT", "BEY-FAT", "BEY-REG", "BEY-TRADE"),
                  params=SECTION_PARAMS, profiles=PROFILES)
