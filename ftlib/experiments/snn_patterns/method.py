"""snn_patterns, Section 3 "the method" (notebook ``snn_patterns/method``).

Tables 1-2 (SNN-T1/T2: the paper's hyperparameters beside this run's, :func:`hyperparameters`), the LIF
network with HSF / NASF faults on one trained model (:func:`plot_lif_demo`: membrane and spikes of one hidden
neuron, hidden rasters ``(T, 128)`` fault-free and faulty) and Algorithm 1 (SNN-A1, ``gen_pattern``) on a
few training images (:func:`gen_demo`, :func:`plot_patterns`). The model is the previous method's [5] at NASF,
FIR 0.05 (:data:`DEMO_FAULT`), shared with the accuracy section through the cache.

The notebook calls :func:`hyperparameters`, :func:`gen_demo`, :func:`plot_lif_demo`, :func:`pattern_summary`,
:func:`plot_patterns` and :func:`compare`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from ... import data, faults
from ...params import Section
from ...reference import get
from ...store import Store
from ...training_snn import gen_pattern, gen_pattern_authors, spike_fault, train_snn
from ._config import _ACC, _COMMON, _P, test_set, train_config

DEMO_FAULT = ("NASF", 0.05)
"""The fault model and fault injection ratio of the demonstration model (the previous method's) and of
Algorithm 1's faulty instance."""
LIF_RATIOS = (0.3, 0.15)
"""The fault ratios of the hidden rasters of :func:`plot_lif_demo`: HSF, NASF."""


# --- Tables 1-2 -------------------------------------------------------------------------------------------

def hyperparameters(s) -> pd.DataFrame:
    """Tables 1-2: the paper's hyperparameters beside this run's."""
    p = get("SNN-T1/T2").values
    g = train_config(s, "proposed").gen
    rows = [
        ("topology", p["arch"], "784x128x10"), ("learning rate", p["lr"], 1e-3), ("epochs", p["epochs"], s.epochs),
        ("batch size", p["batch"], 64), ("test repetitions", p["test_reps"], s.test_reps),
        ("training images", 48000, s.n_train),
        ("time window N (perturbation steps)", p["time_window"], g.n_steps),
        ("inference time (check_time)", p["inference_time"], g.check_time),
        ("different time K", p["different_time"], g.k_diff), ("patterns per epoch M", p["pattern_number"], g.m_patterns),
        ("batches scanned per generation (0 = all)", "all", g.max_batches),
        ("configuration", "authors' script (commit 191a87b)", s.variant),
        ("neuron", "authors: decay 0.2, threshold 0.5, reset to 0, no bias",
         "authors' neuron" if s.variant == "authors" else "snntorch Leaky β 0.95, threshold 1"),
        ("simulation time steps", 10, s.num_steps),
        ("repetitions per pattern check", p["test_reps"], g.reps),
        ("perturbation step ε", "authors: 0.1 · sign(gradient)", g.eps),
    ]
    return pd.DataFrame(rows, columns=["setting", "paper", "ours"]).set_index("setting")


# --- the LIF network and Algorithm 1 ------------------------------------------------------------------

@torch.inference_mode()
def lif_traces(model, x: torch.Tensor, kind: str | None = None, ratio: float = 0.0, seed: int = 0):
    """Hidden-layer spikes (T, N) and membrane (T, N) of ``model`` for one image, optionally under a fault."""
    lif = model[2]
    lif.record = True
    model[0].generator = torch.Generator().manual_seed(seed)
    try:
        if kind is None:
            spk = _hidden_spikes(model, x[:1], seed)
        else:
            with faults.inject(model, spike_fault(kind, _variant(model)), ratio, seed=seed) as inj:
                spk = _hidden_spikes(model, x[:1], seed)
                mask = inj.activation_masks.get("2")
            return spk[:, 0], lif.last_membrane[:, 0], mask
        return spk[:, 0], lif.last_membrane[:, 0], None
    finally:
        lif.record = False
        model[0].generator = None


def _variant(model) -> str:
    """The configuration a spiking network was built with (from its hidden neuron type)."""
    from ...models.snn_patterns import AuthorsLIF

    return "authors" if isinstance(model[2], AuthorsLIF) else "paper-text"


def _hidden_spikes(model, x, seed):
    seen = {}
    h = model[2].register_forward_hook(lambda m, i, o: seen.__setitem__("s", o.detach().clone()))
    try:
        model[0].generator = torch.Generator().manual_seed(seed)
        model(x)
    finally:
        h.remove()
    return seen["s"]


def plot_lif(model, x, ratio_hsf: float, ratio_nasf: float, seed: int):
    """Figure: one hidden neuron's membrane and spikes, then the hidden raster clean / HSF / NASF."""
    import matplotlib.pyplot as plt

    spk, mem, _ = lif_traces(model, x, seed=seed)
    neuron = int(spk.sum(0).argmax())
    fig, axes = plt.subplots(1, 4, figsize=(10.0, 2.8))
    ax = axes[0]
    ax.plot(mem[:, neuron].numpy(), label="membrane")
    ax.axhline(getattr(model[2], "threshold", 1.0), ls="--", color="grey", lw=0.8, label="threshold")
    t = spk[:, neuron].nonzero().flatten().numpy()
    ax.plot(t, np.full(len(t), 1.2), "|", ms=10, color="k", label="spikes")
    ax.set_xlabel("time step")
    ax.set_ylabel("membrane potential")
    ax.set_title(f"hidden neuron {neuron}")
    ax.legend(fontsize=6)
    for ax, (label, kind, r) in zip(axes[1:], (("fault-free", None, 0.0), (f"HSF {ratio_hsf:g}", "HSF", ratio_hsf),
                                                (f"NASF {ratio_nasf:g}", "NASF", ratio_nasf))):
        s_, _, _ = lif_traces(model, x, kind, r, seed)
        ax.imshow(s_.T.numpy(), aspect="auto", cmap="Greys", interpolation="nearest")
        ax.set_title(label)
        ax.set_xlabel("time step")
        ax.set_ylabel("hidden neuron")
    fig.tight_layout()
    return fig


def gen_demo(s, kind: str = DEMO_FAULT[0], fir: float = DEMO_FAULT[1], n_images: int = 64,
             store: Store | None = None) -> dict:
    """Algorithm 1 on ``n_images`` training images with the previous-method model (FIR ``fir``).

    Returns the model, the source images, the generated patterns and how often
    (out of check_time) the faulty and fault-free predictions differ on the
    source images and on the generated patterns (fresh inferences)."""
    store = store or Store()
    trained = train_snn(train_config(s, "previous", kind, fir), store)
    model = trained.model
    ds = data.load("mnist", "train").subset(s.n_train, seed=s.seed)
    x, y = ds.x[:n_images], ds.y[:n_images]
    g = replace(train_config(s, "proposed", kind, fir).gen, m_patterns=n_images, max_batches=1, batch_size=n_images)
    torch.manual_seed(s.seed)
    gen = gen_pattern_authors if s.variant == "authors" else gen_pattern
    px, py, stats = gen(model, x, y, spike_fault(kind, s.variant), fir, g, torch.Generator().manual_seed(s.seed))
    # the sources of the kept patterns: gen_pattern scans a random order; recover by nearest source
    src = torch.cdist(px.flatten(1), x.flatten(1)).argmin(1) if len(px) else torch.zeros(0, dtype=torch.long)
    fault_seed = 12345
    return {"model": model, "x": x, "y": y, "patterns": px, "labels": py, "sources": src, "stats": stats,
            "diff_source": _difference_rate(model, x, kind, fir, g.check_time, fault_seed, s.variant),
            "diff_patterns": (_difference_rate(model, px, kind, fir, g.check_time, fault_seed, s.variant)
                              if len(px) else float("nan")),
            "check_time": g.check_time, "k_diff": g.k_diff}


@torch.inference_mode()
def _difference_rate(model, x, kind, fir, check_time, fault_seed, variant="paper-text") -> float:
    """Mean fraction of ``check_time`` inferences in which faulty and fault-free predictions differ."""
    rep = x.repeat(check_time, *([1] * (x.dim() - 1)))
    torch.manual_seed(fault_seed)
    ff = model(rep).argmax(1)
    with faults.inject(model, spike_fault(kind, variant), fir, seed=fault_seed):
        ft = model(rep).argmax(1)
    return float((ff != ft).float().mean())


def plot_patterns(demo: dict, n: int = 6):
    """Figure: source images (top) and the generated patterns (bottom)."""
    import matplotlib.pyplot as plt

    k = min(n, len(demo["patterns"]))
    fig, axes = plt.subplots(2, max(k, 1), figsize=(1.4 * max(k, 1) + 0.5, 3.0), squeeze=False)
    for j in range(k):
        axes[0, j].imshow(demo["x"][demo["sources"][j], 0].numpy(), cmap="gray", vmin=0, vmax=1)
        axes[1, j].imshow(demo["patterns"][j, 0].numpy(), cmap="gray", vmin=0, vmax=1)
        axes[0, j].set_title(f"label {int(demo['labels'][j])}, {demo['stats']['steps_needed'][j]} steps", fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].set_ylabel("source", fontsize=8)
    axes[1, 0].set_ylabel("generated", fontsize=8)
    return fig


def plot_lif_demo(s, demo: dict):
    """:func:`plot_lif` of the demonstration model (:func:`gen_demo`) on the first test image of this run, HSF and
    NASF at :data:`LIF_RATIOS`."""
    x_test, _ = test_set(s)
    return plot_lif(demo["model"], x_test, *LIF_RATIOS, s.seed)


def pattern_summary(demo: dict) -> str:
    """One sentence: how many patterns Algorithm 1 kept of the demonstration's images, and the perturbation
    steps each needed."""
    stats = demo["stats"]
    return (f"{stats['patterns']} patterns kept from {len(demo['x'])} images; "
            f"perturbation steps needed: {sorted(stats['steps_needed'])}")


# --- verdicts ---------------------------------------------------------------------------------------------

def compare(report, s, demo: dict) -> None:
    """SNN-T1/T2 (whether this run used the paper's settings, a detail row; the settings table implemented) and
    SNN-A1 (the generated patterns of :func:`gen_demo` separate the faulty from the fault-free model more
    often than their sources, a detail row; Algorithm 1 implemented)."""
    _compare_settings(report, s)
    _compare_algorithm(report, demo)


def _compare_settings(report, s) -> None:
    """SNN-T1/T2: one row saying whether this run used the paper's settings."""
    p = get("SNN-T1/T2").values
    g = train_config(s, "proposed").gen
    same = (s.epochs == p["epochs"] and g.reps == p["test_reps"] and s.n_train == 48000 and s.variant == "authors"
            and g.m_patterns == p["pattern_number"] and g.max_batches == 0 and s.num_steps == 10)
    report.check("SNN-T1/T2:settings", "Tables 1-2", f"{s.variant}, {s.epochs} epochs", claim="the settings table")
    report.qualitative("SNN-T1/T2", "the run uses the paper's Tables 1-2 settings",
                       "784x128x10, lr 1e-3, 20 epochs, batch 64, 20 reps; N 20, check 5, K 4, M 100",
                       f"784x128x10 ({s.variant}), lr 1e-3, {s.epochs} epochs, batch 64, {g.reps} reps, {s.n_train} images; "
                       f"N {g.n_steps}, check {g.check_time}, K {g.k_diff}, M {g.m_patterns}", same,
                       note="" if same else "reduced by the profile (see the table above)", headline=False,
                       rule="detail: every setting equals Tables 1-2")


def _compare_algorithm(report, demo: dict) -> None:
    """SNN-A1: the generated patterns separate the faulty from the fault-free model more often than their sources."""
    holds = len(demo["patterns"]) > 0 and demo["diff_patterns"] > demo["diff_source"]
    report.qualitative("SNN-A1", "gen_pattern yields patterns on which faulty and fault-free outputs differ",
                       "patterns kept when faulty and fault-free predictions differ in K = 4 of 5 checks",
                       f"{len(demo['patterns'])} of {len(demo['x'])} images kept; predictions differ in "
                       f"{100 * demo['diff_source']:.1f} % of inferences on the sources, "
                       f"{100 * demo['diff_patterns']:.1f} % on the patterns (fresh inferences)", holds,
                       headline=False, rule="detail: predictions differ more often on the patterns than on their "
                       "sources (point estimates)")
    report.check("SNN-A1:algorithm", "Algorithm 1", f"{len(demo['patterns'])} patterns kept")


SECTION = Section(key="snn_patterns/method", title="Spiking networks, HSF/NASF faults and Algorithm 1",
                  ids=("SNN-T1/T2", "SNN-A1"), params=_COMMON + _ACC, profiles=_P)
