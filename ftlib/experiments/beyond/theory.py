"""Beyond the papers: can the damage be predicted without simulating it? (notebook ``beyond/theory``).

On every model of the study of ``beyond/methods_faults`` (the same
:data:`~ftlib.experiments.beyond._config.ANN` configuration and cache entries):
continuous_limit's first-order Var Δ (b3, Theorem 1) as a predictor of the
accuracy drop under Bernoulli crashes (BEY-B3) and under the other fault models
(BEY-B3X), and adversarial_ft's hypothesis that the generalization error predicts
fault tolerance (BEY-GEN). Correlations are Spearman's ρ averaged over fault
models with a permutation test (:func:`ftlib.stats.spearman_permutation`).
The notebook calls ``population``, ``sweeps``, ``retained``, :func:`theory_table`,
:func:`plot_theory`, :func:`findings`, :func:`conclusions` and :func:`compare`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ... import codemap, theory
from ...params import Section, Settings
from ...report import evidence_verdict
from ...stats import spearman_permutation
from ...store import Store
from ...training import cache_key
from ._config import (ANN, ARCH_LABELS, ARCHS, FAULTS, METHOD_LABELS, METHODS, PROFILES, SECTION_PARAMS, eval_set,
                      fault_label)
from ._pipeline import fmt_p

THEORY_CODE = codemap.salt_parts("training", "theory")
"""The salt of a cached bound of a trained model: the training's source and the whole of :mod:`ftlib.theory`."""

population, sweeps, retained = ANN.population, ANN.sweeps, ANN.retained


def theory_means(th: pd.DataFrame) -> pd.DataFrame:
    """Mean b3, logit margin and √b3 / margin per (arch, method) over the seeds of :func:`theory_table`."""
    return th.groupby(["arch", "method"], sort=False)[["b3_var", "margin", "b3_rel"]].mean()


def theory_table(s: Settings, models: dict, store: Store | None = None) -> pd.DataFrame:
    """Per model: continuous_limit's first-order Var Δ (b3, Theorem 1) of the logits under Bernoulli crashes of
    every hidden activation at the crash severity, summed over the 10 outputs and averaged over the first
    ``n_theory`` evaluation images; and the mean logit margin (top-1 − top-2) on the same images, so that
    ``sqrt(b3) / margin`` is a scale-free version of the prediction. Cached per model."""
    store = store or Store()
    x, _, data_id = eval_set(s)
    x = x[:s.n_theory]
    p = ANN.severity(s, "crash")
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
                     **store.cached_result("theory", key, compute, code=THEORY_CODE)})
    return pd.DataFrame(rows)



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
        ax.set_ylabel(f"accuracy drop (pp) at {ANN.severity(s, fault):g}")
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



def findings(pop: pd.DataFrame, ret: pd.DataFrame, th: pd.DataFrame, s: Settings) -> dict:
    """Every test of the section, as numbers (see :func:`compare`)."""
    out = {"quality": prediction_quality(th, ret, "b3_var"), "quality_rel": prediction_quality(th, ret, "b3_rel")}
    out["b3_crash"] = predictor_test(th, ret, "b3_var", ["crash"], "greater", s.n_perm, s.seed)
    others = [f for f in FAULTS if f != "crash"]
    out["b3_other"] = predictor_test(th, ret, "b3_var", others, "greater", s.n_perm, s.seed)
    out["rel_crash"] = predictor_test(th, ret, "b3_rel", ["crash"], "greater", s.n_perm, s.seed)
    out["rel_other"] = predictor_test(th, ret, "b3_rel", others, "greater", s.n_perm, s.seed)
    out["gen_table"], out["gen"] = generalization_test(pop, ret, s.n_perm, s.seed)
    return out


def compare(report, f: dict) -> None:
    """The findings of :func:`findings` as scoreboard rows on ``report`` (verdict = confidence of the test,
    :func:`ftlib.report.evidence_verdict`)."""
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



def conclusions(f: dict, s: Settings) -> str:
    """The theory conclusions as Markdown, with this run's numbers and their confidence."""
    lines = []
    if s.profile == "smoke":
        lines.append("**Smoke profile: the numbers below mean nothing; the sentences are generated from them.**\n")
    q = f["quality"]
    bc, rc = f["b3_crash"], f["rel_crash"]
    crash_rl = q[q.fault == "crash"]
    lines.append(
        f"1. **b3 under its own fault model.** Across the models of one architecture, b3 (Var Δ of the logits) "
        f"and the accuracy drop under Bernoulli crashes have mean Spearman ρ = {bc['rho']:+.2f} "
        f"({fmt_p(bc['p_value'])}, {evidence_verdict(bc['p_value'])}); rank loss over models "
        + ", ".join(f"{ARCH_LABELS[r.arch]} {r.rank_loss_models:.2f}" for r in crash_rl.itertuples())
        + ", over the 8 methods "
        + ", ".join(f"{ARCH_LABELS[r.arch]} {r.rank_loss_methods:.2f}" for r in crash_rl.itertuples())
        + f" (0 = perfect, 0.5 = no information). The scale-free √b3 / margin: ρ = {rc['rho']:+.2f} "
        f"({fmt_p(rc['p_value'])}, {evidence_verdict(rc['p_value'])}).")
    bo, ro = f["b3_other"], f["rel_other"]
    lines.append(
        f"2. **b3 beyond Bernoulli crashes.** Averaged over the other fault models, ρ = {bo['rho']:+.2f} "
        f"({fmt_p(bo['p_value'])}, {evidence_verdict(bo['p_value'])}) for b3 and {ro['rho']:+.2f} ({fmt_p(ro['p_value'])}, "
        f"{evidence_verdict(ro['p_value'])}) for √b3 / margin. Per fault model: "
        + "; ".join(f"{r.arch.replace('aft_', '')} {fault_label(r.fault)} ρ = {r.spearman_rho:+.2f}"
                    for r in q[q.fault != "crash"].itertuples()) + ".")
    g = f["gen"]
    lines.append(
        f"3. **Generalization error as a predictor** (adversarial_ft's hypothesis) over all models and fault "
        f"models: mean ρ(G, retained) = {g['rho']:+.2f} (MLP {g['per_arch']['aft_arch1']['rho']:+.2f}, CNN "
        f"{g['per_arch']['aft_arch2']['rho']:+.2f}; the hypothesis predicts ρ < 0; {fmt_p(g['p_value'])}, "
        f"{evidence_verdict(g['p_value'])}). "
        + ("Over this population the hypothesis holds." if g["p_value"] < 0.05 else
           "Over this population the hypothesis is not supported: the generalization error of a model says "
           "little about its fault tolerance once the training method varies."))
    lines.append(f"\n*Scope*: b3 is Theorem 1's *first-order* (small p) term, and its ranking of the models does "
                 f"not depend on p; the damage is measured at the heat map's crash probability "
                 f"{ANN.severity(s, 'crash'):g}, where higher-order terms (several crashes interacting) can dominate. "
                 f"A failure here says the cheap prediction does not rank models at a practically damaging rate; "
                 f"at p ≈ 0.01 (continuous_limit's regime) the accuracy drops are too small to resolve with "
                 f"{s.draws} draws on {s.n_test or 10_000} images.")
    lines.append("\n*Uncertainty*: ρ is averaged over fault models (and architectures); its p-value is a "
                 "permutation test that shuffles the predictor across the models of one architecture (jointly "
                 "for all fault models) and takes the larger p of the two architectures, so a finding must hold "
                 "in both.")
    return "\n".join(lines)


SECTION = Section(key="beyond/theory",
                  title="Beyond the papers: can the damage be predicted without simulating it?",
                  ids=("BEY-B3", "BEY-B3X", "BEY-GEN"),
                  params=SECTION_PARAMS, profiles=PROFILES)
