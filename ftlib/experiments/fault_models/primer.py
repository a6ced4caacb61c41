"""The "Fault models" primer (notebook ``fault_models/primer``): every fault model of the engine on one small
trained network.

The network is a reduced adversarial_ft Architecture 2 (conv 5×5 ×8 → pool →
conv 5×5 ×16 → pool → FC 64 → 10) trained on Fashion-MNIST with
:func:`ftlib.training.train`, so the primer shares the cache and the training
loop of the book. Everything the primer shows comes from here:

- :func:`primer_model`: the trained network (cached);
- :func:`catalogue`: the fault models compared, with their paper and permanence;
- :func:`fault_sweeps`: accuracy vs rate with 95 % confidence intervals for every model (cached);
- :func:`permanence_sweeps`: the same fault drawn once per instance vs per input;
- :func:`margin_sweeps`, :func:`plot_margins`, :func:`bit_sample_sizes`: statistical fault
  injection, draws added per rate until a margin is met (cached);
- :func:`weight_pictures`, :func:`activation_pictures`: what a fault does to weights / activations;
- :func:`describe`, :func:`sweep_table`, :func:`permanence_table`, :func:`margin_table`: the tables the
  notebook shows.

The section reproduces no checklist id (it has no ``compare``): it shows what
the fault models do, with their statistics, before the chapters use them.
"""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from ... import faults
from ...data import load
from ...params import Param, Section, Settings
from ...stats import sample_size, summarize
from ...store import Store
from ...training import TrainConfig, accuracy, train
from ..common import SWEEP_CODE, cached_sweep, plot_bands

DATASET = "fashion_mnist"
ARCH_KWARGS = {"filters": [8, 16], "fc": 64}
RATES = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 0.5, 0.7, 0.9)
"""The rates of the accuracy-vs-rate figure (log-spaced, then linear up to 0.9)."""


def train_config(s: Settings) -> TrainConfig:
    """The primer network's training configuration (Adam 1e-3, batch 128, cross-entropy)."""
    return TrainConfig(arch="aft_arch2", dataset=DATASET, epochs=s.epochs, batch_size=128, lr=1e-3,
                       n_train=s.n_train, seed=s.seed, arch_kwargs=ARCH_KWARGS)


def primer_model(s: Settings, store: Store | None = None):
    """The trained primer network (:class:`ftlib.training.Trained`)."""
    return train(train_config(s), store)


def data_id(s: Settings) -> dict:
    """What identifies the evaluation set of :func:`test_set` (part of sweep cache keys)."""
    return {"dataset": DATASET, "split": "test", "n": s.n_test, "seed": s.seed}


def test_set(s: Settings):
    """The evaluation images (N, 1, 28, 28) and labels (N,)."""
    ds = load(DATASET, "test").subset(s.n_test or None, seed=s.seed)
    return ds.x, ds.y


@torch.inference_mode()
def fixed_point_range(model: nn.Sequential, x: torch.Tensor) -> float:
    """R such that every clean pre-activation (Linear/Conv output) on ``x`` lies in [−R, R]:
    the largest |value| rounded up to a power of two, as a fixed-point format would be sized."""
    biggest = 0.0
    h = x
    for layer in model:
        h = layer(h)
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            biggest = max(biggest, h.abs().max().item())
    return float(2 ** math.ceil(math.log2(max(biggest, 1e-6))))


def catalogue(value_range: float) -> dict[str, tuple[faults.FaultModel, str]]:
    """The fault models of the primer: label → (fault model, the paper it comes from)."""
    return {
        "stuck-at-0 weights": (faults.StuckAtZero("weights"), "adversarial_ft"),
        "stuck-at-0 filters": (faults.StuckAtZero("filters"), "adversarial_ft"),
        "stuck-at-0 nodes": (faults.StuckAtZero("nodes"), "adversarial_ft"),
        "Bernoulli crash": (faults.BernoulliCrash(), "continuous_limit"),
        "erasure": (faults.Erasure(), "computation_failures"),
        f"cond. uniform [−{value_range:g}, {value_range:g}]":
            (faults.ConditionallyUniform(value_range=(-value_range, value_range)), "computation_failures"),
        "bit flip float32": (faults.BitFlip(format="float32"), "memory soft errors"),
        "bit flip int8": (faults.BitFlip(format="int8"), "memory soft errors"),
    }


def fault_sweeps(s: Settings, store: Store | None = None) -> pd.DataFrame:
    """Accuracy of the primer network under every fault model of :func:`catalogue`.

    Returns a tidy table: ``fault``, ``paper``, ``permanent``, ``rate``, ``draw``, ``accuracy``.
    """
    store = store or Store()
    trained = primer_model(s, store)
    x, y = test_set(s)
    r = fixed_point_range(trained.model, x)
    frames = []
    for label, (fault, paper) in catalogue(r).items():
        df = cached_sweep(store, trained, fault, RATES, x, y, s.draws, s.seed, data_id(s))
        frames.append(df.assign(fault=label, paper=paper, permanent=fault.permanent))
    return pd.concat(frames, ignore_index=True)


def permanence_sweeps(s: Settings, store: Store | None = None, rates=(0.05, 0.1, 0.2, 0.3)) -> pd.DataFrame:
    """Bernoulli crashes drawn once per faulty instance (permanent) vs per input (transient).

    Returns ``mode``, ``rate``, ``draw``, ``accuracy``: the mean accuracy is the same,
    but permanent instances spread much more around it (each instance is one chip).
    """
    store = store or Store()
    trained = primer_model(s, store)
    x, y = test_set(s)
    frames = []
    for mode, permanent in (("permanent", True), ("transient", False)):
        fault = faults.BernoulliCrash(permanent=permanent)
        frames.append(cached_sweep(store, trained, fault, rates, x, y, s.draws, s.seed, data_id(s)).assign(mode=mode))
    return pd.concat(frames, ignore_index=True)


MARGIN = 0.01
"""Target half-width of the 95 % interval of every point of :func:`margin_sweeps` (1 point of accuracy)."""
MARGIN_RATES = (0.05, 0.2, 0.4, 0.6)
"""The rates of the statistical-fault-injection figure."""


def margin_catalogue() -> dict[str, faults.FaultModel]:
    """The fault models of :func:`margin_sweeps`: permanent faults whose instances differ (chips)."""
    return {"stuck-at-0 weights": faults.StuckAtZero("weights"),
            "Bernoulli crash (permanent)": faults.BernoulliCrash(permanent=True)}


def margin_sweeps(s: Settings, store: Store | None = None, margin: float = MARGIN,
                  confidence: float = 0.95) -> pd.DataFrame:
    """Adaptive sweeps (``sweep(..., margin=margin)``): ``s.draws`` pilot draws per rate, then one
    more at a time until the half-width of the ``confidence`` t interval of the mean accuracy is at
    most ``margin``, capped at ``4 * s.draws``. Cached by the full configuration.

    Returns the per-rate summary of every fault model: ``fault``, ``rate``, ``n`` (draws used),
    ``mean``, ``std``, ``ci_low``, ``ci_high``, ``ci_halfwidth`` (the achieved margin),
    ``target_margin``, ``margin_met``.
    """
    store = store or Store()
    trained = primer_model(s, store)
    x, y = test_set(s)
    max_draws = 4 * s.draws
    frames = []
    for label, fault in margin_catalogue().items():
        config = {"train": asdict(trained.config), "fault": repr(fault), "rates": [float(r) for r in MARGIN_RATES],
                  "draws": int(s.draws), "max_draws": max_draws, "margin": float(margin),
                  "confidence": float(confidence), "seed": int(s.seed), "data": data_id(s)}

        def compute(fault=fault):
            res = faults.sweep(trained.model, fault, MARGIN_RATES, (x, y), draws=s.draws, seed=s.seed,
                               margin=margin, confidence=confidence, max_draws=max_draws)
            return res.summary.to_dict("list")

        summary = pd.DataFrame(store.cached_result("adaptive_sweep", config, compute, code=SWEEP_CODE))
        frames.append(summary.assign(fault=label))
    out = pd.concat(frames, ignore_index=True)
    out["margin_met"] = out["margin_met"].astype(bool)
    return out[["fault", "rate", "n", "mean", "std", "ci_low", "ci_high", "ci_halfwidth", "target_margin",
                "margin_met"]]


def plot_margins(summary: pd.DataFrame):
    """Two panels: mean accuracy with its interval per rate (filled marker: margin met; hollow: the
    cap was reached first), and the number of draws each point needed."""
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(8.0, 3.4))
    for label, g in summary.groupby("fault", sort=False):
        line = plot_bands(ax, g, label)
        ax.errorbar(g["rate"], 100 * g["mean"], yerr=100 * g["ci_halfwidth"], fmt="none", ecolor=line.get_color(),
                    capsize=3)
        miss = g[~g["margin_met"]]
        ax.plot(miss["rate"], 100 * miss["mean"], linestyle="none", marker="o", ms=7, markerfacecolor="white",
                markeredgecolor=line.get_color())
        bx.plot(g["rate"], g["n"], marker="o", color=line.get_color(), label=label)
    ax.set_xlabel("fault rate")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=7)
    bx.set_xlabel("fault rate")
    bx.set_ylabel("draws used")
    bx.set_ylim(bottom=0)
    fig.tight_layout()
    return fig


def margin_table(summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`margin_sweeps`' summary for reading: accuracy, interval and margins in points (%), draws used."""
    cols = ["mean", "ci_low", "ci_high", "ci_halfwidth", "target_margin"]
    out = summary.assign(**{c: 100 * summary[c] for c in cols})
    return out[["fault", "rate", "n", *cols, "margin_met"]].rename(
        columns={"n": "draws", "ci_halfwidth": "achieved margin", "target_margin": "target margin"}).round(2)


def bit_sample_sizes(s: Settings, store: Store | None = None, margins=(0.05, 0.01, 0.001),
                     confidence: float = 0.95) -> pd.DataFrame:
    """How many single bit flips to inject to estimate the fraction of harmful ones within each margin
    (Leveugle et al., DATE 2009), out of the population of every bit of the primer network's weights
    (float32 and int8), and the share of that population it is."""
    trained = primer_model(s, store)
    n_weights = sum(m.weight.numel() for m in trained.model.modules() if isinstance(m, (nn.Linear, nn.Conv2d)))
    rows = []
    for fmt, width in (("float32", 32), ("int8", 8)):
        population = n_weights * width
        for e in margins:
            n = sample_size(e, confidence, population)
            rows.append({"format": fmt, "population (bits)": population, "margin": e, "faults to inject": n,
                         "share of population": n / population})
    return pd.DataFrame(rows)


def describe(s: Settings, store: Store | None = None) -> str:
    """The primer network (its modules) and its clean test accuracy (%) on :func:`test_set`, as text."""
    trained = primer_model(s, store)
    x, y = test_set(s)
    return f"{trained.model}\nclean test accuracy: {100 * accuracy(trained.model, x, y):.2f} %"


def sweep_table(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`fault_sweeps`' mean accuracy (%) per rate (rows) and fault model (columns), rounded to 0.1."""
    summary = summarize(df, "accuracy", groups="fault")
    return summary.pivot(index="rate", columns="fault", values="mean").mul(100).round(1)


def permanence_table(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`permanence_sweeps`' mean and standard deviation (%) of the accuracy over the faulty instances
    per rate and mode (permanent / transient), rounded to 0.01."""
    summary = summarize(df, "accuracy", groups="mode")
    return summary.pivot(index="rate", columns="mode", values=["mean", "std"]).mul(100).round(2)


def plot_sweeps(df: pd.DataFrame):
    """All fault models on one plot: mean accuracy vs rate (symlog x) with 95 % CI bands."""
    import matplotlib.pyplot as plt

    s = summarize(df, "accuracy", groups="fault")
    fig, ax = plt.subplots(figsize=(7.0, 4.0))
    for label, g in s.groupby("fault", sort=False):
        plot_bands(ax, g, label)
    ax.set_ylim(0, 100)
    ax.set_xscale("symlog", linthresh=1e-4)
    ax.set_xlim(-2e-5, 1.0)  # rates are non-negative: hide the symlog axis' negative side
    ax.set_xlabel("fault rate (fraction of weights / units / scalars, or bit-error rate)")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=7, ncol=2)
    return fig


def plot_permanence(df: pd.DataFrame):
    """Per-instance accuracies of permanent vs transient Bernoulli crashes (strip plot). The strip's
    horizontal jitter is seeded (seaborn draws it from NumPy's global generator, whose state this function
    restores), so the same numbers give the same figure, byte for byte."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(6.0, 3.2))
    d = df.assign(accuracy=100 * df["accuracy"])
    state = np.random.get_state()
    np.random.seed(0)
    try:
        sns.stripplot(data=d, x="rate", y="accuracy", hue="mode", dodge=True, size=3, ax=ax)
    finally:
        np.random.set_state(state)
    ax.set_xlabel("crash probability p")
    ax.set_ylabel("accuracy of one faulty instance (%)")
    return fig


@torch.inference_mode()
def weight_pictures(s: Settings, store: Store | None = None, rate: float = 0.3):
    """Figure: the 8 first-layer 5×5 filters, clean and under each parameter fault at ``rate``
    (bit flips at a bit-error rate of 1e-2 so that a few flips are visible)."""
    import matplotlib.pyplot as plt

    trained = primer_model(s, store)
    model = trained.model
    conv = model[0]
    rows = [("clean", None, 0.0), ("stuck-at-0 weights", faults.StuckAtZero("weights"), rate),
            ("stuck-at-0 filters", faults.StuckAtZero("filters"), rate),
            ("bit flip int8", faults.BitFlip(format="int8"), 1e-2)]
    clean = conv.weight.detach().clone()
    vmax = clean.abs().max().item()
    fig, axes = plt.subplots(len(rows), clean.shape[0], figsize=(7.0, 3.8))
    for r, (label, fault, p) in enumerate(rows):
        if fault is None:
            w = clean
        else:
            with faults.inject(model, fault, p, seed=s.seed):
                w = conv.weight.detach().clone()
        for c in range(clean.shape[0]):
            ax = axes[r, c]
            ax.imshow(w[c, 0].clamp(-vmax, vmax), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
    fig.subplots_adjust(wspace=0.05, hspace=0.05)
    return fig


@torch.inference_mode()
def activation_pictures(s: Settings, store: Store | None = None, rate: float = 0.3):
    """Figure: the 64 hidden units (after ReLU) of the FC layer for one test image, clean and
    under each activation fault at ``rate``. Node faults and crashes hit the ReLU's output
    (module ``"8"``); erasure and conditionally-uniform deviations hit the pre-activation
    (module ``"7"``, the Linear layer), before the ReLU, as computation_failures prescribes."""
    import matplotlib.pyplot as plt

    trained = primer_model(s, store)
    model = trained.model
    x, _ = test_set(s)
    r = fixed_point_range(model, x)
    rows = [("clean", None), ("stuck-at-0 nodes", faults.StuckAtZero("nodes", layers="8")),
            ("Bernoulli crash", faults.BernoulliCrash(layers="8")), ("erasure", faults.Erasure(layers="7")),
            (f"cond. uniform ±{r:g}", faults.ConditionallyUniform(layers="7", value_range=(-r, r)))]
    fig, axes = plt.subplots(len(rows), 1, figsize=(7.0, 4.4), sharex=True, sharey=True)
    for ax, (label, fault) in zip(axes, rows):
        if fault is None:
            h = hidden_units(model, x[:1])
        else:
            with faults.inject(model, fault, rate, seed=s.seed):
                h = hidden_units(model, x[:1])
        ax.bar(range(h.shape[1]), h[0].numpy(), width=0.8)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
    axes[-1].set_xlabel("hidden unit of the FC 64 layer (after ReLU)")
    return fig


def hidden_units(model: nn.Sequential, x: torch.Tensor, index: int = 8) -> torch.Tensor:
    """The output of ``model[index]`` for input ``x``, captured by a forward hook registered
    last (after any fault hooks), so it shows what the next layer receives."""
    seen = {}
    hook = model[index].register_forward_hook(lambda m, i, o: seen.__setitem__("h", o.detach().clone()))
    try:
        model(x)
    finally:
        hook.remove()
    return seen["h"]


SECTION = Section(
    key="fault_models/primer",
    title="Fault models: a primer",
    ids=(),
    params=(
        Param("epochs", int, "training epochs of the primer network", low=1, high=1000),
        Param("n_train", int, "training images used (0 = all 60,000)", low=0, high=60_000),
        Param("n_test", int, "test images used in the sweeps (0 = all 10,000)", low=0, high=10_000),
        Param("draws", int, "independent faulty instances per rate", low=2, high=10_000),
    ),
    profiles={
        "smoke": dict(epochs=1, n_train=1000, n_test=300, draws=2),
        "quick": dict(epochs=3, n_train=0, n_test=2000, draws=8),
        "paper": dict(epochs=10, n_train=0, n_test=0, draws=50),
    },
)
