"""computation_failures experiments (Vialatte & Leduc-Primeau, COGNITIVE 2017).

Section V.A "Effect of some hyperparameters on robustness" (notebook
``hyperparameters``): Figure 1 (CF-F1, MLP–L–N, L = 1..5) and Figure 2 (CF-F2,
CNN–L–C–P–F–pool, L = 1..3): error rate against the deviation probability p
under conditionally-uniform deviations, for the ``top_k`` best models per L of a
grid search ranked by deviation-free *validation* error; and the three
hyperparameter claims (CF-H): clipped ReLU ≈ tanh, no pooling slightly more
robust than max pooling, deviations before the activation less harmful than
after.

Section V.B "Fault tolerance" (notebook ``fault_tolerance``): Figures 3–6
(CF-F3..F6): for every p and error target, the smallest model (parameter
count) of the searched family whose mean error under deviations meets the
target (:func:`smallest_meeting`), and the headline parameter overheads
(:func:`overhead`).

The grid search (:func:`search`): every (L, N) of ``mlp_depths`` × ``mlp_widths``
and every (L, F) of ``cnn_depths`` × ``cnn_filters`` (kernel ``cnn_kernel``,
2×2 max pooling), each trained once with the paper's recipe (Adadelta,
batch 128, dropout, Glorot, clipped ReLU). Both notebooks use the same grid,
so V.B reuses V.A's trained models and sweeps from the cache.

Deviations (:mod:`ftlib.faults`): transient, independent per scalar, on the
outputs of every Linear/Conv2d (pre-activations, pooling after), including
the output layer's logits — only the softmax is reliable (Section IV).
Conditionally-uniform draws use the fixed-point range ``value_range``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from .. import faults
from ..data import load
from ..params import Param, Settings
from ..sections import Section
from ..store import Store
from ..training import TRAINING_CODE, TrainConfig, Trained, accuracy
from ..models.computation_failures import n_params
from ..distributed import train_many
from .common import cached_sweeps, plot_bands, summarize_by

DATASET = "mnist"
OPTIMIZER = "adadelta"


# ----------------------------------------------------------------------------- configurations and data

def mlp_config(s: Settings, layers: int, neurons: int, activation: str = "crelu") -> TrainConfig:
    """The training configuration of MLP–``layers``–``neurons``."""
    return TrainConfig(arch="cf_mlp", dataset=DATASET, epochs=s.epochs, batch_size=s.batch_size, lr=s.lr,
                       n_train=s.n_train, seed=s.seed, optimizer=OPTIMIZER,
                       arch_kwargs={"layers": int(layers), "neurons": int(neurons), "activation": activation})


def cnn_config(s: Settings, layers: int, filters: int, pooling: str = "max", activation: str = "crelu") -> TrainConfig:
    """The training configuration of CNN–``layers``–C–2–``filters``–``pooling`` (C = ``s.cnn_kernel``)."""
    return TrainConfig(arch="cf_cnn", dataset=DATASET, epochs=s.epochs, batch_size=s.batch_size, lr=s.lr,
                       n_train=s.n_train, seed=s.seed, optimizer=OPTIMIZER,
                       arch_kwargs={"layers": int(layers), "kernel": int(s.cnn_kernel), "pool": 2,
                                    "filters": int(filters), "pooling": pooling, "activation": activation})


def model_name(cfg: TrainConfig) -> str:
    """The paper's naming: MLP–L–N or CNN–L–C–P–F–pool (plus the activation when it is not the clipped ReLU)."""
    a = cfg.arch_kwargs
    if cfg.arch == "cf_mlp":
        name = f"MLP-{a['layers']}-{a['neurons']}"
    else:
        name = f"CNN-{a['layers']}-{a['kernel']}-{a['pool']}-{a['filters']}-{a['pooling']}"
    return name + ("" if a.get("activation", "crelu") == "crelu" else f"-{a['activation']}")


def validation_set(s: Settings):
    """Validation images: training-split items *not* used for training (``n_val`` of them), and their identity.

    With ``n_train = 0`` (all 60,000 used for training) there is no held-out
    part and the validation set falls back to the test subset (said in the identity).
    """
    full = load(DATASET, "train")
    if s.n_train:
        used = full.subset(s.n_train, seed=s.seed).indices
        mask = torch.ones(len(full), dtype=torch.bool)
        mask[used] = False
        rest = mask.nonzero().flatten()
        pick = torch.from_numpy(np.sort(np.random.default_rng(s.seed).permutation(len(rest))[: s.n_val]))
        idx = rest[pick]
        return full.x[idx], full.y[idx], {"dataset": DATASET, "split": "train-heldout", "n_train": s.n_train,
                                           "n": s.n_val, "seed": s.seed}
    x, y, ident = test_set(s)
    return x, y, {**ident, "note": "test used as validation"}


def test_set(s: Settings):
    """The MNIST test images and labels of this run, and their cache identity."""
    ds = load(DATASET, "test").subset(s.n_test or None, seed=s.seed)
    return ds.x, ds.y, {"dataset": DATASET, "split": "test", "n": s.n_test, "seed": s.seed}


def uniform(s: Settings, value_range=None, layers=None) -> faults.ConditionallyUniform:
    """Conditionally-uniform deviations on ``value_range`` (default ``s.value_range``) before the activations."""
    return faults.ConditionallyUniform(layers=layers, value_range=tuple(value_range or s.value_range))


def erasure(layers=None) -> faults.Erasure:
    """Erasure deviations (output replaced by 0) before the activations."""
    return faults.Erasure(layers=layers)


# ----------------------------------------------------------------------------- model-size search

def search(s: Settings, kind: str, store: Store | None = None) -> tuple[pd.DataFrame, dict[str, Trained]]:
    """Train (or load) every model of the grid of ``kind`` (``"mlp"`` or ``"cnn"``).

    Returns a table (``model``, ``kind``, ``L``, ``width``, ``params``,
    ``val_error``, ``test_error``, ``train_seconds``, ``cached``) sorted by
    parameter count, and the trained models by name.
    """
    store = store or Store()
    xv, yv, vid = validation_set(s)
    xt, yt, tid = test_set(s)
    grid = ([mlp_config(s, L, n) for L in s.mlp_depths for n in s.mlp_widths] if kind == "mlp"
            else [cnn_config(s, L, f) for L in s.cnn_depths for f in s.cnn_filters])
    rows, models = [], {}
    # the family's trainings are independent: on the workers of ftlib.distributed when a cluster is configured
    for cfg, t in zip(grid, train_many(grid, store, desc=f"train {kind} family")):
        name = model_name(cfg)
        models[name] = t
        errs = {}
        for tag, (x, y, ident) in {"val": (xv, yv, vid), "test": (xt, yt, tid)}.items():
            errs[tag] = 1 - store.cached_result("eval", {"train": cfg.__dict__, "data": ident},
                                                lambda x=x, y=y: accuracy(t.model, x, y), code=TRAINING_CODE)
        a = cfg.arch_kwargs
        rows.append({"model": name, "kind": kind, "L": a["layers"],
                     "width": a.get("neurons", a.get("filters")), "params": n_params(t.model),
                     "val_error": errs["val"], "test_error": errs["test"], "train_seconds": t.wall_time_s,
                     "cached": t.from_cache})
    return pd.DataFrame(rows).sort_values("params", ignore_index=True), models


def best_per_depth(table: pd.DataFrame, k: int) -> pd.DataFrame:
    """The ``k`` models per depth L with the lowest deviation-free validation error (Figures 1–2's selection)."""
    return (table.sort_values(["L", "val_error", "params"]).groupby("L", sort=True).head(k)
            .reset_index(drop=True))


# ----------------------------------------------------------------------------- deviation sweeps

def deviation_sweeps(s: Settings, models: dict[str, Trained], names, fault: faults.FaultModel,
                     store: Store | None = None, rates=None) -> pd.DataFrame:
    """Error rate of each named model under ``fault`` for every p of ``rates`` (default ``s.rates``) × ``s.draws``.

    Tidy table: ``model``, ``rate``, ``draw``, ``error`` (fraction of the test
    set misclassified), ``accuracy``; cached per model.
    """
    store = store or Store()
    x, y, ident = test_set(s)
    names = list(names)
    sweeps = cached_sweeps(store, [(models[name], fault, rates or s.rates) for name in names], x, y, s.draws,
                           s.seed, ident)
    frames = [df.assign(model=name, error=1 - df["accuracy"]) for name, df in zip(names, sweeps)]
    return pd.concat(frames, ignore_index=True)


def error_summary(sweeps: pd.DataFrame, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per (model, p): mean error and its 95 % interval over draws (columns ``mean``, ``ci_low``, ``ci_high``, ...),
    joined with the model's ``L`` and ``params`` when ``table`` (from :func:`search`) is given."""
    out = summarize_by(sweeps, "model", metric="error")
    if table is not None:
        out = out.merge(table[["model", "L", "params"]], on="model", how="left")
    return out


# ----------------------------------------------------------------------------- the rule of Figures 3-6

def smallest_meeting(summary: pd.DataFrame, targets, value: str = "mean") -> pd.DataFrame:
    """For every p (``rate``) and error target, the smallest model whose error meets the target.

    ``summary`` has one row per (``model``, ``rate``) with ``params`` and the
    error in column ``value`` (the mean over draws by default). A model meets
    a target if its error is ≤ the target ("achieve or outperform"). Ties in
    parameter count go to the lower error. Returns one row per (``target``,
    ``rate``): ``params`` (NaN when no model of the family meets it),
    ``model`` (missing then) and that model's ``error``.
    """
    rows = []
    for target in targets:
        for rate, g in summary.groupby("rate", sort=True):
            ok = g[g[value] <= float(target) + 1e-12].sort_values(["params", value])
            if len(ok):
                best = ok.iloc[0]
                rows.append({"target": float(target), "rate": float(rate), "params": float(best["params"]),
                             "model": best["model"], "error": float(best[value])})
            else:
                rows.append({"target": float(target), "rate": float(rate), "params": float("nan"),
                             "model": None, "error": float("nan")})
    return pd.DataFrame(rows)


def overhead(needed: pd.DataFrame, target: float, rate: float) -> float:
    """Parameter increase (%) needed to meet ``target`` at ``rate`` relative to p = 0, from :func:`smallest_meeting`.

    NaN when the target is not met at p = 0 or at ``rate`` (no model of the family suffices).
    """
    g = needed[np.isclose(needed["target"], target)]
    base = g[np.isclose(g["rate"], 0.0)]["params"]
    at = g[np.isclose(g["rate"], rate)]["params"]
    if base.empty or at.empty or not np.isfinite(base.iloc[0]) or not np.isfinite(at.iloc[0]):
        return float("nan")
    return 100.0 * (at.iloc[0] / base.iloc[0] - 1.0)


def shifted_targets(paper_targets, paper_best: float, our_best: float) -> list[float]:
    """The paper's error targets moved by (our best deviation-free error − the paper's lowest target), rounded to 1e-4.

    Used when our (shorter) training cannot reach the paper's absolute targets:
    the targets keep the paper's margins above the best achievable error.
    """
    return [round(float(t) - paper_best + our_best, 4) for t in paper_targets]


def reachability(needed: pd.DataFrame) -> pd.DataFrame:
    """Per target: met at p = 0? and the fraction of the p > 0 grid where it is still met."""
    rows = []
    for target, g in needed.groupby("target", sort=True):
        clean = g[np.isclose(g["rate"], 0.0)]["params"].notna().any()
        faulty = g[~np.isclose(g["rate"], 0.0)]
        rows.append({"target": target, "met_at_p0": bool(clean),
                     "met_fraction_p>0": float(faulty["params"].notna().mean()) if len(faulty) else float("nan")})
    return pd.DataFrame(rows)


def p_unreachable(summary: pd.DataFrame, target: float, rate_min: float) -> tuple[float, float]:
    """CF-F3's test: the intersection-union p-value that *every* model's mean error at every p ≥ ``rate_min``
    exceeds ``target`` (the largest one-sided t p-value over (model, p), fault draws; ``summary`` from
    :func:`error_summary`, columns mean/std/n), and the lowest mean error there. NaN without such rows."""
    from ..claims import p_mean_above

    at = summary[summary["rate"] >= rate_min - 1e-12]
    if not len(at):
        return float("nan"), float("nan")
    p = p_mean_above(at["mean"], at["std"].fillna(0.0), at["n"], target, "greater")
    return float(np.max(p)), float(at["mean"].min())


def p_reachable(summary: pd.DataFrame, targets) -> tuple[float, str]:
    """CF-F4/F6's test: for each target and p > 0, the smallest over models of the one-sided t p-value that the
    model's mean error is below the target (some model meets it); the intersection-union p-value is the largest
    over (target, p). Returns it (NaN without targets) and the weakest pair in words."""
    from ..claims import p_mean_above

    worst, what = float("nan"), ""
    for target in targets:
        for rate, g in summary[summary["rate"] > 0].groupby("rate", sort=True):
            p = float(np.min(p_mean_above(g["mean"], g["std"].fillna(0.0), g["n"], float(target), "less")))
            if not (p <= worst):
                worst, what = p, f"target {float(target):g} at p = {float(rate):g} (p = {p:.2g})"
    return worst, what


def bootstrap_overheads(summary: pd.DataFrame, target: float, rate: float, resamples: int, rng) -> np.ndarray:
    """Parameter increase (%) at (``target``, ``rate``) relative to p = 0 under a parametric bootstrap of the
    fault draws: each model's mean error at p = 0 and at ``rate`` redrawn as mean + se·t(n − 1), the smallest
    model meeting the target picked again. ``(resamples,)``; +∞ when none meets it at ``rate``, NaN when none
    meets it at p = 0."""
    out = []
    for r in (0.0, rate):
        g = summary[np.isclose(summary["rate"], r)].sort_values("model")
        if not len(g):  # the rate is not on the grid: no overhead to compare
            return np.full(resamples, np.nan)
        n = g["n"].to_numpy(float)
        se = g["std"].fillna(0.0).to_numpy(float) / np.sqrt(np.maximum(n, 1))
        e = g["mean"].to_numpy(float) + se * rng.standard_t(np.maximum(n - 1, 1), (resamples, len(g)))
        out.append(np.where(e <= target + 1e-12, g["params"].to_numpy(float), np.inf).min(1))
    base, at = out
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(base), 100.0 * (at / base - 1.0), np.nan)


def p_smaller_overhead(cnn: pd.DataFrame, t_cnn: float, mlp: pd.DataFrame, t_mlp: float, rate: float,
                       resamples: int = 2000, seed: int = 0) -> float:
    """CF-F5's test: the share of bootstrap resamples (:func:`bootstrap_overheads`, shared seed) in which the
    CNN's parameter increase is not below the MLP's (either one missing its target at p = 0, or the CNN at
    ``rate``, counts against the claim)."""
    rng = np.random.default_rng(seed)
    c = bootstrap_overheads(cnn, t_cnn, rate, resamples, rng)
    m = bootstrap_overheads(mlp, t_mlp, rate, resamples, rng)
    with np.errstate(invalid="ignore"):
        holds = np.isfinite(c) & (c < m)  # NaN (an MLP that misses its target at p = 0) counts against
    return float((1 + np.sum(~holds)) / (1 + resamples))


# ----------------------------------------------------------------------------- hyperparameter claims (CF-H)

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
        summ = faults.summarize(sw[["rate", "draw", "error"]], "error").set_index("rate")
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


# ----------------------------------------------------------------------------- Figures 1-2 claims

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


# ----------------------------------------------------------------------------- figures

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


def plot_params_needed(panels: dict[str, pd.DataFrame]):
    """Figures 3–6 layout: parameters needed vs p, one line per error target (coloured by the target, with a
    colour bar), one panel per (network, deviation), panels stacked. A panel titled "Fig <n>: ..." also marks the paper's values
    that :mod:`ftlib.reference` holds for CF-F<n>: the end of its p axis (dotted) and its headline point (the
    p of its "+x % parameters" claim, dashed, labelled)."""
    import re

    import matplotlib.pyplot as plt

    from .. import reference

    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    fig, axes = plt.subplots(len(panels), 1, figsize=(7.0, 3.4 * len(panels)), squeeze=False)
    for ax, (title, needed) in zip(axes[:, 0], panels.items()):
        targets = sorted(needed["target"].dropna().unique())
        norm = Normalize(min(targets, default=0.0), max(targets, default=1.0) + 1e-12)
        for target, g in needed.groupby("target", sort=True):  # one line per target, coloured by it
            g = g.sort_values("rate")
            if g["params"].notna().any():
                ax.plot(g["rate"], g["params"], marker="o", ms=3, lw=1, color=plt.cm.viridis(norm(target)))
        fig.colorbar(ScalarMappable(norm=norm, cmap="viridis"), ax=ax, label="error-rate target", pad=0.02)
        m = re.match(r"Fig\.? ?(\d+)", title)
        ref = reference.REFERENCES.get(f"CF-F{m.group(1)}") if m else None
        if ref is not None:
            vals = ref.values
            if vals.get("p_axis_max"):
                ax.axvline(vals["p_axis_max"], color="grey", ls=":", lw=1, label="paper: end of its p axis")
            pct = next((v for k, v in vals.items() if k.startswith("extra_params_pct")), None)
            if pct is not None and vals.get("p"):
                ax.axvline(vals["p"], color="black", ls="--", lw=1,
                           label=f"paper: +{pct:g} % params for error {vals['target']:g} at p = {vals['p']:g}")
        ax.set_title(title)
        ax.set_xlabel("deviation probability p")
        ax.set_ylabel("nb of params")
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, -3))
        if ax.get_legend_handles_labels()[1]:  # the paper's marks only: the targets have the colour bar
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False, ncol=1)
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


# ----------------------------------------------------------------------------- the two sections' pipelines

def depth_study(s: Settings, kind: str, store: Store | None = None, value_range=None, top_k: int | None = None):
    """Figures 1–2: the grid search of ``kind``, its ``top_k`` (default ``s.top_k``) best per L, and their
    uniform-deviation error summary."""
    store = store or Store()
    table, models = search(s, kind, store)
    chosen = best_per_depth(table, top_k or s.top_k)
    sw = deviation_sweeps(s, models, chosen["model"], uniform(s, value_range), store)
    return table, models, chosen, error_summary(sw, table)


FIGURES = {"CF-F3": ("mlp", "uniform"), "CF-F4": ("mlp", "erasure"), "CF-F5": ("cnn", "uniform"),
           "CF-F6": ("cnn", "erasure")}
"""Figures 3–6: checklist id → (network, deviation model)."""


def size_study(s: Settings, store: Store | None = None):
    """Figures 3–6: every model of the grids under both deviation models, and the smallest-model rule.

    Returns ``(tables, summaries, needed)``: the search table per network, the
    error summary per id, and :func:`smallest_meeting` per ``"<id>:<mode>"``
    for ``mode`` in (paper, shifted) targets.
    """
    store = store or Store()
    tables, models = {}, {}
    for net in ("mlp", "cnn"):
        tables[net], m = search(s, net, store)
        models.update(m)
    summaries, needed = {}, {}
    for id_, (net, dev) in FIGURES.items():
        fault = uniform(s) if dev == "uniform" else erasure()
        sw = deviation_sweeps(s, models, tables[net]["model"], fault, store)
        summaries[id_] = error_summary(sw, tables[net])
        t = paper_targets(id_)
        needed[id_ + ":paper"] = smallest_meeting(summaries[id_], t)
        needed[id_ + ":shifted"] = smallest_meeting(
            summaries[id_], shifted_targets(t, t[0], float(tables[net]["test_error"].min())))
    return tables, summaries, needed


# ----------------------------------------------------------------------------- comparisons with the paper

def paper_targets(id_: str) -> list[float]:
    """The error targets of a Figure 3–6 legend (from :mod:`ftlib.reference`)."""
    from ..reference import get

    first, last, step = get(id_).values["targets"]
    return [round(float(t), 4) for t in np.arange(first, last + step / 2, step)]


def figure_targets(s: Settings, id_: str, table: pd.DataFrame) -> list[float]:
    """The targets of one figure: the paper's, or (``target_mode="shifted"``) shifted to our best clean test error."""
    t = paper_targets(id_)
    if s.target_mode == "paper":
        return t
    return shifted_targets(t, t[0], float(table["test_error"].min()))


def compare_depth(report, id_: str, summary: pd.DataFrame, kind: str) -> dict:
    """CF-F1 (``kind="mlp"``) or CF-F2 (``"cnn"``): the effect of L on the error at the largest p, decided by
    the declared claims ``CF-F1:no_depth_effect`` (TOST on Fisher's z) and ``CF-F2:deeper_more_robust``."""
    from scipy import stats

    from ..reference import get

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


def headline(needed: pd.DataFrame, target: float, rate: float) -> dict:
    """The parameter overhead (%) at (``target``, ``rate``) and the models behind it."""
    g = needed[np.isclose(needed["target"], target)]
    pick = lambda r: g[np.isclose(g["rate"], r)].iloc[0] if len(g[np.isclose(g["rate"], r)]) else None  # noqa: E731
    a, b = pick(0.0), pick(rate)
    return {"target": target, "p": rate, "overhead_pct": overhead(needed, target, rate),
            "model_p0": None if a is None else a["model"], "model_p": None if b is None else b["model"]}


def compare_fault_tolerance(report, s: Settings, needed: dict[str, pd.DataFrame], tables: dict[str, pd.DataFrame],
                            summaries: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """CF-F3..F6 verdicts by the declared claims ``CF-F3:unreachable``, ``CF-F4/F6:reachable`` and
    ``CF-F5:cnn_smaller_overhead`` (they need the fault-draw ``summaries`` of :func:`size_study`); returns the
    headline table (paper's absolute and shifted targets)."""
    from ..reference import get

    rows = []
    for id_, net in (("CF-F3", "mlp"), ("CF-F5", "cnn")):
        ref = get(id_).values
        key = [k for k in ref if k.startswith("extra_params_pct")][0]
        best = float(tables[net]["test_error"].min())
        first = paper_targets(id_)[0]
        for mode, target in (("paper", ref["target"]), ("shifted", round(ref["target"] - first + best, 4))):
            h = headline(needed[id_ + ":" + mode], target, ref["p"])
            rows.append({"id": id_, "target_mode": mode, **h, "paper_overhead_pct": ref[key]})
            if mode == s.target_mode:
                report.numeric(id_, f"parameter increase (%) for error target {target:g} at p = {ref['p']:g} "
                               f"({mode} target)", ref[key], h["overhead_pct"],
                               tolerance=max(25.0, 0.25 * ref[key]), headline=False,
                               note="NaN: no model of our family meets the target at p = 0 or at p" if
                               not np.isfinite(h["overhead_pct"]) else f"{h['model_p0']} → {h['model_p']}")
    mode = s.target_mode
    hl = pd.DataFrame(rows)
    if summaries is None:  # the headline table only (no verdicts without the fault-draw summaries)
        return hl
    from .. import claims

    # CF-F3: the lowest target met at p = 0 is met by no model at any p ≥ 1e-3
    r3 = reachability(needed["CF-F3:" + mode])
    lowest = r3[r3["met_at_p0"]]
    if len(lowest):
        t0 = float(lowest["target"].min())
        p, worst = p_unreachable(summaries["CF-F3"], t0, 1e-3)
        report.check("CF-F3:unreachable", "no parameter increase compensates",
                     f"target {t0:g}: lowest mean error at p ≥ 1e-3 {worst:.4f}", p_value=p,
                     summary=f"every model's error at p ≥ 1e-3 above the target {t0:g} (lowest mean {worst:.4f})")
    for id_ in ("CF-F4", "CF-F6"):
        r = reachability(needed[id_ + ":" + mode])
        met0 = r[r["met_at_p0"]]
        frac = float(met0["met_fraction_p>0"].mean()) if len(met0) else float("nan")
        p, pair = p_reachable(summaries[id_], met0["target"].tolist())
        report.check(f"{id_}:reachable", "all targets reachable", f"{frac:.0%} of (target, p > 0) pairs met by a "
                     f"mean ({len(met0)} targets met at p = 0)", p_value=p,
                     summary=f"weakest (target, p): {pair}" if pair else "no target met at p = 0")
    # CF-F5: the CNN's parameter increase below the MLP's, with the fault-draw noise
    t_mlp, t_cnn = (float(hl[(hl.id == i) & (hl.target_mode == mode)]["target"].iloc[0]) for i in ("CF-F3", "CF-F5"))
    mlp = hl[(hl.id == "CF-F3") & (hl.target_mode == mode)]["overhead_pct"].iloc[0]
    cnn = hl[(hl.id == "CF-F5") & (hl.target_mode == mode)]["overhead_pct"].iloc[0]
    ref = get("CF-F5").values
    p = p_smaller_overhead(summaries["CF-F5"], t_cnn, summaries["CF-F3"], t_mlp, ref["p"], seed=s.seed)
    report.check("CF-F5:cnn_smaller_overhead",
                 f"+{ref['extra_params_pct_target_0.023_p_1e-3']:g}% (CNN) vs "
                 f"+{get('CF-F3').values['extra_params_pct_target_0.024_p_1e-3']:g}% (MLP)",
                 f"{cnn:+.1f}% (CNN) vs {mlp:+.1f}% (MLP)", p_value=p,
                 summary=f"increase {cnn:+.1f} % (CNN) vs {mlp:+.1f} % (MLP), bootstrap over the fault draws")
    return hl


# ----------------------------------------------------------------------------- sections

_COMMON = (
    Param("epochs", int, "training epochs per model", low=1, high=10_000),
    Param("batch_size", int, "mini-batch size", low=1, high=60_000),
    Param("lr", float, "Adadelta step multiplier (Keras: 1.0)", low=1e-4, high=10.0),
    Param("n_train", int, "training images used (0 = all 60,000; else the rest of the split is for validation)",
          low=0, high=60_000),
    Param("n_val", int, "held-out training images used to rank models by deviation-free error", low=1, high=60_000),
    Param("n_test", int, "test images of the deviation sweeps (0 = all 10,000)", low=0, high=10_000),
    Param("mlp_depths", list, "MLP depths L of the grid search", item=int, low=1, high=10),
    Param("mlp_widths", list, "MLP widths N of the grid search", item=int, low=1, high=8192),
    Param("cnn_depths", list, "CNN depths L of the grid search", item=int, low=1, high=3),
    Param("cnn_filters", list, "CNN feature maps F of the grid search", item=int, low=1, high=512),
    Param("cnn_kernel", int, "CNN kernel size C (pooling 2x2 max)", low=2, high=7),
    Param("rates", list, "deviation probabilities p", item=float, low=0.0, high=1.0),
    Param("draws", int, "independent deviation draws per p (each over the whole test set)", low=2, high=10_000),
    Param("value_range", list, "fixed-point range (low, high) of conditionally-uniform draws", item=float,
          low=-1e3, high=1e3),
)

_GRID = {
    "smoke": dict(epochs=1, batch_size=128, lr=1.0, n_train=1000, n_val=300, n_test=300,
                  mlp_depths=[1, 2], mlp_widths=[16], cnn_depths=[1, 2], cnn_filters=[2], cnn_kernel=5,
                  rates=[0.0, 5e-3], draws=2, value_range=[-1.0, 1.0]),
    "quick": dict(epochs=4, batch_size=128, lr=1.0, n_train=20_000, n_val=5_000, n_test=5_000,
                  mlp_depths=[1, 2, 3, 4, 5], mlp_widths=[128, 256], cnn_depths=[1, 2, 3], cnn_filters=[8, 16],
                  cnn_kernel=3, rates=[0.0, 1e-3, 2e-3, 5e-3], draws=3, value_range=[-1.0, 1.0]),
    "paper": dict(epochs=15, batch_size=128, lr=1.0, n_train=50_000, n_val=10_000, n_test=0,
                  mlp_depths=[1, 2, 3, 4, 5], mlp_widths=[64, 128, 256, 512, 1024], cnn_depths=[1, 2, 3],
                  cnn_filters=[8, 16, 32, 64], cnn_kernel=3,
                  rates=[0.0, 5e-4, 1e-3, 1.5e-3, 2e-3, 3e-3, 4e-3, 5e-3], draws=20, value_range=[-1.0, 1.0]),
}


def _with(profile: str, **extra) -> dict:
    return {**_GRID[profile], **extra}


def check_range(s: Settings, name: str = "value_range") -> tuple[float, float]:
    """``s.<name>`` as a valid (low, high) pair, or a ParameterError."""
    from ..errors import ParameterError

    v = getattr(s, name)
    if len(v) != 2 or not v[0] < v[1]:
        raise ParameterError(f"{name}: expected [low, high] with low < high, got {v!r}")
    return float(v[0]), float(v[1])


SECTIONS = [
    Section(
        key="computation_failures/hyperparameters",
        title="computation_failures, Section V.A: effect of some hyperparameters on robustness",
        ids=("CF-F1", "CF-F2", "CF-H"),
        params=_COMMON + (
            Param("top_k", int, "best models per depth L shown (the paper: 5)", low=1, high=100),
            Param("alt_range", list, "a second fixed-point range, to show the dependence on it", item=float,
                  low=-1e3, high=1e3),
            Param("ref_mlp", list, "(L, N) of the MLP of the CF-H comparisons", item=int, low=1, high=8192),
            Param("ref_cnn", list, "(L, F) of the CNN of the CF-H comparisons", item=int, low=1, high=512),
        ),
        profiles={
            "smoke": _with("smoke", top_k=1, alt_range=[-8.0, 8.0], ref_mlp=[2, 16], ref_cnn=[1, 2]),
            "quick": _with("quick", top_k=2, alt_range=[-8.0, 8.0], ref_mlp=[2, 256], ref_cnn=[2, 8]),
            "paper": _with("paper", top_k=5, alt_range=[-8.0, 8.0], ref_mlp=[2, 256], ref_cnn=[2, 32]),
        },
    ),
    Section(
        key="computation_failures/fault_tolerance",
        title="computation_failures, Section V.B: fault tolerance and the parameter price of robustness",
        ids=("CF-F3", "CF-F4", "CF-F5", "CF-F6"),
        params=_COMMON + (
            Param("target_mode", str, "error targets: the paper's ('paper') or shifted to our best error ('shifted')",
                  choices=("paper", "shifted")),
        ),
        profiles={
            "smoke": _with("smoke", target_mode="shifted"),
            "quick": _with("quick", target_mode="shifted"),
            "paper": _with("paper", target_mode="paper"),
        },
    ),
]
