"""computation_failures, Section V.A "Effect of some hyperparameters on robustness" (notebook
``computation_failures/hyperparameters``).

Figure 1 (CF-F1, MLP–L–N, L = 1..5) and Figure 2 (CF-F2, CNN–L–C–P–F–pool,
L = 1..3): error rate against the deviation probability p under
conditionally-uniform deviations, for the ``top_k`` best models per L of the
grid search (:func:`~ftlib.experiments.computation_failures._config.search`)
ranked by deviation-free *validation* error; and the three hyperparameter
claims (CF-H): clipped ReLU ≈ tanh, no pooling slightly more robust than max
pooling, deviations before the activation less harmful than after. The
dependence on the fixed-point range of the uniform draw is shown with a second
range, ``alt_range``.

The notebook calls :func:`depth_study`, :func:`plot_error_vs_p`, :func:`depth_effect`,
:func:`alt_range_summary`, :func:`plot_ranges`, :func:`comparison_models`,
:func:`hyperparameter_comparisons` and :func:`compare`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch.nn as nn

from ...distributed import train_many
from ...params import Param, Section, Settings
from ...stats import summarize
from ...store import Store
from ...training import Trained
from ..common import plot_bands
from ._config import (COMMON_PARAMS, best_per_depth, check_range, cnn_config, deviation_sweeps, error_summary,
                      mlp_config, model_name, search, uniform, with_grid)

def depth_study(s: Settings, kind: str, store: Store | None = None, value_range=None, top_k: int | None = None):
    """Figures 1–2: the grid search of ``kind``, its ``top_k`` (default ``s.top_k``) best per L, and their
    uniform-deviation error summary."""
    store = store or Store()
    table, models = search(s, kind, store)
    chosen = best_per_depth(table, top_k or s.top_k)
    sw = deviation_sweeps(s, models, chosen["model"], uniform(s, value_range), store)
    return table, models, chosen, error_summary(sw, table)



def alt_range_summary(s: Settings, kind: str) -> pd.DataFrame:
    """The error summary of the best ``kind`` model per L (``top_k`` = 1) under uniform deviations on the second
    fixed-point range ``s.alt_range`` (:func:`depth_study`)."""
    return depth_study(s, kind, value_range=s.alt_range, top_k=1)[3]


def output_layer_name(model: nn.Sequential) -> str:
    """The module name of the last Linear (the softmax layer's pre-activations)."""
    return [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]


def after_activation_layers(model: nn.Sequential) -> list:
    """Fault sites for "deviations after the activation": every activation module's output, plus the output logits."""
    acts = [n for n, m in model.named_modules() if isinstance(m, (nn.Hardtanh, nn.Tanh))]
    return acts + [output_layer_name(model)]


def hyperparameter_models(s: Settings, store: Store | None = None) -> dict[str, Trained]:
    """The extra models of the CF-H comparisons: the reference MLP and CNN with tanh, and the CNN without pooling."""
    store = store or Store()
    L, n = s.ref_mlp
    Lc, f = s.ref_cnn
    cfgs = [mlp_config(s, L, n), mlp_config(s, L, n, "tanh"), cnn_config(s, Lc, f), cnn_config(s, Lc, f, "max", "tanh"),
            cnn_config(s, Lc, f, "none")]
    return {model_name(c): t for c, t in zip(cfgs, train_many(cfgs, store, desc="train CF-H models"))}


def hyperparameter_comparisons(s: Settings, models: dict[str, Trained], store: Store | None = None) -> pd.DataFrame:
    """Mean error (95 % CI) at p = 0 and at the largest p for each CF-H comparison.

    Rows: ``comparison``, ``variant``, ``model``, ``err_p0``, ``err_p``,
    ``ci_halfwidth``, ``increase`` (err_p − err_p0). Comparisons: activation
    (clipped ReLU vs tanh, MLP and CNN), pooling (max vs none, CNN), placement
    (before vs after the activation, MLP and CNN; "after" hits the activation
    outputs and the logits).
    """
    store = store or Store()
    L, n = s.ref_mlp
    Lc, f = s.ref_cnn
    mlp, mlp_t = f"MLP-{L}-{n}", f"MLP-{L}-{n}-tanh"
    k = s.cnn_kernel
    cnn, cnn_t, cnn_np = (f"CNN-{Lc}-{k}-2-{f}-max", f"CNN-{Lc}-{k}-2-{f}-max-tanh", f"CNN-{Lc}-{k}-2-{f}-none")
    rates = [0.0, max(s.rates)]
    plan = [("activation (MLP)", "clipped ReLU", mlp, None), ("activation (MLP)", "tanh", mlp_t, None),
            ("activation (CNN)", "clipped ReLU", cnn, None), ("activation (CNN)", "tanh", cnn_t, None),
            ("pooling (CNN)", "max", cnn, None), ("pooling (CNN)", "none", cnn_np, None),
            ("placement (MLP)", "before activation", mlp, None), ("placement (MLP)", "after activation", mlp, "after"),
            ("placement (CNN)", "before activation", cnn, None), ("placement (CNN)", "after activation", cnn, "after")]
    rows = []
    for comp, variant, name, where in plan:
        layers = after_activation_layers(models[name].model) if where == "after" else None
        sw = deviation_sweeps(s, models, [name], uniform(s, layers=layers), store, rates=rates)
        summ = summarize(sw[["rate", "draw", "error"]], "error").set_index("rate")
        rows.append({"comparison": comp, "variant": variant, "model": name, "err_p0": summ.loc[0.0, "mean"],
                     "err_p": summ.loc[rates[1], "mean"], "ci_halfwidth": summ.loc[rates[1], "ci_halfwidth"],
                     "increase": summ.loc[rates[1], "mean"] - summ.loc[0.0, "mean"]})
    return pd.DataFrame(rows)


def hyperparameter_verdicts(comp: pd.DataFrame) -> list[dict]:
    """The CF-H claims tested on :func:`hyperparameter_comparisons`.

    - activation: robustness "similar": the error increases at the largest p
      differ by at most a factor 2 (or by less than the two CI half-widths).
    - pooling: no pooling "slightly" more robust: its increase is smaller.
    - placement: deviations before the activation are less harmful: smaller increase.
    """
    out = []

    def get(c, v):
        return comp[(comp.comparison == c) & (comp.variant == v)].iloc[0]

    for net in ("MLP", "CNN"):
        a, b = get(f"activation ({net})", "clipped ReLU"), get(f"activation ({net})", "tanh")
        est, se = log_ratio(b, a)
        out.append({"claim": f"{net}: clipped ReLU and tanh are similarly robust", "paper": "similar",
                    "ours": f"increase {a.increase:.4f} (clipped ReLU) vs {b.increase:.4f} (tanh)",
                    "key": f"CF-H:activation_{net}", "estimate": est, "se": se,
                    "summary": "ln(increase tanh / increase clipped ReLU)"})
    a, b = get("pooling (CNN)", "max"), get("pooling (CNN)", "none")
    out.append({"claim": "CNN: no pooling slightly more robust than max pooling", "paper": "slight improvement",
                "ours": f"increase {b.increase:.4f} (none) vs {a.increase:.4f} (max)", "holds": bool(b.increase < a.increase),
                "key": "CF-H:pooling", "p_value": _p_smaller(b, a)})
    for net in ("MLP", "CNN"):
        a, b = get(f"placement ({net})", "before activation"), get(f"placement ({net})", "after activation")
        out.append({"claim": f"{net}: deviations before the activation are less harmful than after",
                    "paper": "more robust before",
                    "ours": f"increase {a.increase:.4f} (before) vs {b.increase:.4f} (after)",
                    "holds": bool(a.increase < b.increase), "key": f"CF-H:placement_{net}", "p_value": _p_smaller(a, b)})
    return out


def log_ratio(a, b) -> tuple[float, float]:
    """ln(``a``.increase / ``b``.increase) and its delta-method standard error from the two 95 % half-widths
    (se of each increase = half-width / 1.96, as in ``_p_smaller``); NaN when an increase is not positive."""
    if not (a.increase > 0 and b.increase > 0):
        return float("nan"), float("nan")
    se = float(np.hypot(a.ci_halfwidth / a.increase, b.ci_halfwidth / b.increase)) / 1.96
    return float(np.log(a.increase / b.increase)), se


def _p_smaller(a, b) -> float:
    """One-sided p-value of "``a``'s error increase is smaller than ``b``'s" from the two means and their 95 %
    interval half-widths (independent fault draws, normal approximation: se = half-width / 1.96)."""
    from scipy import stats

    se = float(np.hypot(a.ci_halfwidth, b.ci_halfwidth)) / 1.96
    if not se > 0:
        return 0.0 if a.increase < b.increase else 1.0
    return float(stats.norm.cdf((a.increase - b.increase) / se))



def spearman(a, b) -> float:
    """Spearman rank correlation of two sequences (NaN when either is constant)."""
    ra, rb = pd.Series(list(a)).rank(), pd.Series(list(b)).rank()
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def _fisher_z(rho: float, n: int) -> tuple[float, float]:
    """Fisher's z = atanh(ρ) of a Spearman correlation over ``n`` pairs and its standard error √(1.06/(n − 3))
    (Fieller, Hartley & Pearson 1957; NaN when n ≤ 3 or ρ is NaN; ρ = ±1 is clipped to ±0.9999)."""
    if n <= 3 or rho != rho:
        return float("nan"), float("nan")
    return float(np.arctanh(np.clip(rho, -0.9999, 0.9999))), float(np.sqrt(1.06 / (n - 3)))


def depth_effect(summary: pd.DataFrame) -> dict:
    """At the largest p: per-L mean error of the selected models, and ρ = Spearman(L, error) over the models."""
    pmax = summary["rate"].max()
    at = summary[np.isclose(summary["rate"], pmax)]
    per_l = at.groupby("L")["mean"].mean()
    return {"p": float(pmax), "rho": spearman(at["L"], at["mean"]), "n": int(len(at)), "per_L": per_l.to_dict(),
            "best_L_p0": int(summary[np.isclose(summary["rate"], 0)].sort_values("mean").iloc[0]["L"]),
            "best_L_p": int(at.sort_values("mean").iloc[0]["L"])}


NO_CLEAR_EFFECT = 0.7  # the former rule (|ρ| < 0.7, passed by noise); now ftlib.claims "CF-F1:no_depth_effect"
"""|ρ| below this counts as "no clear effect of L" (CF-F1); ρ < 0 with the deepest L best on average is "more layers more robust" (CF-F2)."""



def plot_error_vs_p(summary: pd.DataFrame, title: str, ax=None):
    """Figures 1–2 layout: error rate vs p, one line (95 % band) per model, colour by L."""
    import matplotlib.pyplot as plt

    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5.5, 3.4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    seen = set()
    for name, g in summary.groupby("model", sort=False):
        L = int(g["L"].iloc[0])
        plot_bands(ax, g.sort_values("rate"), label=None, scale=1.0, color=colors[(L - 1) % len(colors)])
        if L not in seen:
            ax.plot([], [], color=colors[(L - 1) % len(colors)], label=f"{L}-layer")
            seen.add(L)
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: labels[i])
    ax.legend([handles[i] for i in order], [labels[i] for i in order])
    ax.set_xlabel("deviation probability p")
    ax.set_ylabel("error rate")
    ax.set_title(title, fontsize=9)
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, -3))
    fig.tight_layout()
    return fig



def plot_range_dependence(summaries: dict[str, pd.DataFrame], title: str):
    """Mean error vs p of the models present in every summary (e.g. the best per L) for each fixed-point range."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    shown = set.intersection(*(set(v["model"]) for v in summaries.values()))
    for style, (label, summ) in zip(("-", "--", ":"), summaries.items()):
        for best in sorted(shown):
            h = summ[summ["model"] == best].sort_values("rate")
            L = h["L"].iloc[0]
            ax.plot(h["rate"], h["mean"], ls=style, marker="o", ms=2.5, color=colors[(int(L) - 1) % len(colors)],
                    label=f"{best}, range {label}")
    ax.set_xlabel("deviation probability p")
    ax.set_ylabel("error rate")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, -3))
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False)
    fig.tight_layout()
    return fig



RANGE_TITLES = {"mlp": "MLP: two fixed-point ranges", "cnn": "CNN: two fixed-point ranges"}


def plot_ranges(s: Settings, kind: str, summary: pd.DataFrame, alt: pd.DataFrame):
    """:func:`plot_range_dependence` of ``kind``'s summary on ``s.value_range`` and on ``s.alt_range``
    (:func:`alt_range_summary`), each labelled by its range "[low, high]"."""
    def rng(r):
        return f"[{r[0]:g}, {r[1]:g}]"

    return plot_range_dependence({rng(s.value_range): summary, rng(s.alt_range): alt}, RANGE_TITLES[kind])


def comparison_models(s: Settings, *families: dict[str, Trained], store: Store | None = None) -> dict[str, Trained]:
    """The models of the CF-H comparisons by name: those of ``families`` (e.g. the two grid searches of
    :func:`depth_study`) and the extra ones of :func:`hyperparameter_models`."""
    out: dict[str, Trained] = {}
    for family in families:
        out.update(family)
    out.update(hyperparameter_models(s, store))
    return out


def compare_depth(report, id_: str, summary: pd.DataFrame, kind: str) -> dict:
    """CF-F1 (``kind="mlp"``) or CF-F2 (``"cnn"``): the effect of L on the error at the largest p, decided by
    the declared claims ``CF-F1:no_depth_effect`` (TOST on Fisher's z) and ``CF-F2:deeper_more_robust``."""
    from scipy import stats

    from ...reference import get

    eff = depth_effect(summary)
    per_l = ", ".join(f"L={L}: {v:.4f}" for L, v in sorted(eff["per_L"].items()))
    ours = f"ρ(L, error at p={eff['p']:g}) = {eff['rho']:+.2f}; mean error {per_l}"
    if kind == "mlp":
        z, se = _fisher_z(eff["rho"], eff["n"])
        report.check("CF-F1:no_depth_effect", get(id_).values["claim"], ours, estimate=z, se=se,
                     summary=f"Fisher z of ρ over {eff['n']} models")
        report.qualitative(id_, "MLP: 2-layer models minimize the deviation-free error",
                           f"best L at p=0: {get(id_).values['best_L_p0']}",
                           f"best L at p=0: {eff['best_L_p0']}, at p={eff['p']:g}: {eff['best_L_p']}",
                           eff["best_L_p0"] == get(id_).values["best_L_p0"], headline=False,
                           rule="detail: the best model's L (point estimate)")
    else:
        per = eff["per_L"]
        z, se = _fisher_z(eff["rho"], eff["n"])
        report.check("CF-F2:deeper_more_robust", get(id_).values["claim"], ours, claim="CNN: more layers usually more robust",
                     p_value=float(stats.norm.cdf(z / se)) if se > 0 and np.isfinite(z) else float("nan"),
                     summary=f"ρ = {eff['rho']:+.2f} over {eff['n']} models (Fisher z)")
        report.qualitative(id_, "CNN: the deepest L beats the shallowest on average", "yes", ours,
                           bool(per[max(per)] < per[min(per)]), headline=False, rule="detail: point estimates")
    return eff


def compare_hyperparameters(report, comp: pd.DataFrame) -> None:
    """CF-H: one qualitative row per claim of :func:`hyperparameter_verdicts`."""
    for v in hyperparameter_verdicts(comp):
        if "p_value" in v:
            report.check(v["key"], v["paper"], v["ours"], claim=v["claim"], p_value=v["p_value"],
                         summary="error increase at the largest p, the two fault-draw intervals")
        else:
            report.check(v["key"], v["paper"], v["ours"], claim=v["claim"], estimate=v["estimate"], se=v["se"],
                         summary=v["summary"])



def compare(report, mlp_summary: pd.DataFrame, cnn_summary: pd.DataFrame, comparisons: pd.DataFrame) -> None:
    """Every verdict of the section on ``report``: CF-F1 and CF-F2 (:func:`compare_depth` of the two depth
    studies' summaries), then CF-H (:func:`compare_hyperparameters`)."""
    compare_depth(report, "CF-F1", mlp_summary, "mlp")
    compare_depth(report, "CF-F2", cnn_summary, "cnn")
    compare_hyperparameters(report, comparisons)


SECTION = Section(
    key="computation_failures/hyperparameters",
    title="computation_failures, Section V.A: effect of some hyperparameters on robustness",
    ids=("CF-F1", "CF-F2", "CF-H"),
    params=COMMON_PARAMS + (
        Param("top_k", int, "best models per depth L shown (the paper: 5)", low=1, high=100),
        Param("alt_range", list, "a second fixed-point range, to show the dependence on it", item=float,
              low=-1e3, high=1e3),
        Param("ref_mlp", list, "(L, N) of the MLP of the CF-H comparisons", item=int, low=1, high=8192),
        Param("ref_cnn", list, "(L, F) of the CNN of the CF-H comparisons", item=int, low=1, high=512),
    ),
    profiles={
        "smoke": with_grid("smoke", top_k=1, alt_range=[-8.0, 8.0], ref_mlp=[2, 16], ref_cnn=[1, 2]),
        "quick": with_grid("quick", top_k=2, alt_range=[-8.0, 8.0], ref_mlp=[2, 256], ref_cnn=[2, 8]),
        "paper": with_grid("paper", top_k=5, alt_range=[-8.0, 8.0], ref_mlp=[2, 256], ref_cnn=[2, 32]),
    },
)
