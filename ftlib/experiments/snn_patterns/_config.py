"""snn_patterns (fault-tolerant spiking networks with adversarial pattern generation): the configuration its
sections share.

Configurations (parameter ``variant``): ``"authors"`` (every profile's
default) is what the authors' public script did and what produced the
paper's tables: their neuron (decay 0.2, reset to zero, threshold 0.5,
rectangular surrogate, no biases, 10 steps), their fault population (784
input pixels + 128 hidden neurons, HSF × 0.1, NASF always on), the previous
method's loss on the faulty pass only, and their pattern keep rule
(:func:`ftlib.training_snn.gen_pattern_authors`). ``"paper-text"`` is our
earlier reading of the paper's text: snntorch LIF β = 0.95, threshold 1,
fast-sigmoid surrogate (slope 25), faults on the hidden spikes only,
CE(clean) + CE(faulty), ε = 0.05 max pixel change per perturbation step.
Common to both: cross-entropy on the output spike counts, one fresh faulty
instance per training batch, patterns generated after every epoch but the last.

This module holds the training configuration of every model (:func:`train_config`), the five models of
Table 4 (:func:`trained_models`), the test set and its fault-free accuracy (:func:`clean_accuracy`, shared
with the "Beyond the papers" spiking study), the two small tests every section's rules use
(:func:`sign_test_p`, :func:`binomial_se`), and the parameters and profiles of the sections ``method``,
``accuracy`` and ``convergence`` (``_COMMON``, ``_ACC``, ``_P``).
"""

from __future__ import annotations

import math

from ... import data
from ...params import Param
from ...store import Store
from ...training_snn import SNN_CODE, GenConfig, SNNTrainConfig, SNNTrained, accuracy, train_snn

FIRS = (0.03, 0.05)
"""The fault injection ratios of the paper's fault-aware models."""

MODEL_LABELS = ("baseline", "previous FIR 0.03", "previous FIR 0.05", "proposed FIR 0.03", "proposed FIR 0.05")
"""Table 4's columns, in the paper's order."""


# --- configurations -----------------------------------------------------------------------------------

def train_config(s, method: str, fault: str = "NASF", fir: float = 0.0) -> SNNTrainConfig:
    """The training configuration of one model of the paper under settings ``s``."""
    return SNNTrainConfig(
        method=method, epochs=s.epochs, fault=fault, fir=fir, batch_size=64, lr=1e-3, n_train=s.n_train,
        seed=s.seed, arch_kwargs={"num_steps": s.num_steps},
        gen=GenConfig(n_steps=s.gen_steps, check_time=5, k_diff=4, m_patterns=s.m_patterns, eps=s.gen_eps,
                      max_batches=s.gen_max_batches, reps=s.gen_reps if s.variant == "authors" else 1),
        variant=s.variant,
    )


def trained_models(s, kind: str, store: Store | None = None) -> dict[str, SNNTrained]:
    """The five models of Table 4 for fault model ``kind`` (label → trained model)."""
    store = store or Store()
    out = {"baseline": train_snn(train_config(s, "baseline"), store)}
    for method in ("previous", "proposed"):
        for fir in FIRS:
            out[f"{method} FIR {fir:g}"] = train_snn(train_config(s, method, kind, fir), store)
    return out


def test_set(s):
    """The MNIST test images ``(n_test, 1, 28, 28)`` and labels ``(n_test,)`` of this run."""
    ds = data.load("mnist", "test").subset(s.n_test or None, seed=s.seed)
    return ds.x, ds.y


def _data_id(s) -> dict:
    return {"n_test": s.n_test, "seed": s.seed, "reps": s.test_reps}


def clean_accuracy(s, t: SNNTrained, store: Store | None = None) -> float:
    """Fault-free accuracy of a trained model on this run's test set, the mean over ``test_reps`` encodings
    (cached; shared by Table 3 and the "Beyond the papers" spiking study)."""
    store = store or Store()
    x, y = test_set(s)
    return store.cached_result("eval_snn_clean", {"train": t.config.key(), "data": _data_id(s)},
                               lambda: accuracy(t.model, x, y, s.test_reps, s.seed), code=SNN_CODE)


def _paper_row(ref, kind, r):
    """The paper's row of fault model ``kind`` at fault ratio ``r`` in the reference values ``ref`` (None when
    the paper has no such ratio)."""
    for k, v in ref[kind].items():
        if abs(k - r) < 1e-9:
            return v
    return None


# --- the tests the sections' rules share -----------------------------------------------------------------

def binomial_se(accuracy: float, n: int | None) -> float:
    """Binomial standard error √(a(1 − a)/n) of an accuracy ``a`` on ``n`` test images (NaN when ``n`` is
    unknown: an unknown noise is never an exact quantity)."""
    return math.sqrt(max(accuracy * (1 - accuracy), 0.0) / n) if n else math.nan


def sign_test_p(wins: int, losses: int) -> float:
    """One-sided exact sign test of P(win) > ½ (ties dropped; :func:`scipy.stats.binomtest`); 1 without
    untied instances."""
    from scipy.stats import binomtest

    n = wins + losses
    return float(binomtest(wins, n, 0.5, alternative="greater").pvalue) if n else 1.0


# --- parameters and profiles of method, accuracy and convergence ------------------------------------------

_COMMON = (
    Param("variant", str, "configuration: 'authors' (their script: neuron, fault population, loss, keep rule; "
          "what produced the tables) or 'paper-text' (our reading of the paper's text)",
          choices=("authors", "paper-text")),
    Param("epochs", int, "training epochs of every model (paper: 20)", low=2, high=1000),
    Param("n_train", int, "MNIST training images (paper: 48,000, 80 % of 60,000)", low=100, high=60_000),
    Param("n_test", int, "MNIST test images (0 = all 10,000)", low=0, high=10_000),
    Param("num_steps", int, "simulation time steps of the LIF network", low=1, high=1000),
    Param("test_reps", int, "stochastic encodings averaged per accuracy (paper: 20)", low=1, high=1000),
    Param("m_patterns", int, "Algorithm 1: new patterns per epoch M (paper: 100)", low=1, high=100_000),
    Param("gen_max_batches", int, "Algorithm 1: batches scanned per epoch (0 = all, the paper)", low=0, high=100_000),
    Param("gen_steps", int, "Algorithm 1: perturbation steps per batch N, the time window (paper: 20)", low=1, high=1000),
    Param("gen_eps", float, "Algorithm 1: perturbation step (authors: 0.1 · sign of the gradient; paper-text: "
          "the largest pixel change per step)", low=1e-6, high=1.0),
    Param("gen_reps", int, "Algorithm 1 (authors): stochastic repetitions averaged per check (authors: 20)",
          low=1, high=1000),
)
"""The training and pattern-generation parameters (shared with the "Beyond the papers" spiking study)."""
_ACC = (
    Param("fault_instances", int, "fault instances (locations) per fault ratio (paper: 10)", low=1, high=1000),
    Param("hsf_ratios", list, "HSF fault ratios of Table 4", low=0.0, high=1.0, item=float),
    Param("nasf_ratios", list, "NASF fault ratios of Table 4", low=0.0, high=1.0, item=float),
)
"""The evaluation parameters: fault instances and the fault ratios of Table 4."""
_P = {
    "smoke": dict(variant="authors", epochs=2, n_train=200, gen_steps=3, n_test=200, num_steps=5, test_reps=1,
                  m_patterns=10, gen_max_batches=1, gen_eps=0.1, gen_reps=2, fault_instances=2, hsf_ratios=[0.2, 0.5],
                  nasf_ratios=[0.03, 0.15]),
    "quick": dict(variant="authors", epochs=3, gen_steps=20, n_train=8000, n_test=600, num_steps=10, test_reps=1,
                  m_patterns=100, gen_max_batches=1, gen_eps=0.1, gen_reps=4, fault_instances=10,
                  hsf_ratios=[0.2, 0.3, 0.4, 0.5], nasf_ratios=[0.03, 0.05, 0.10, 0.15]),
    "paper": dict(variant="authors", epochs=20, gen_steps=20, n_train=48_000, n_test=0, num_steps=10, test_reps=1,
                  m_patterns=100, gen_max_batches=0, gen_eps=0.1, gen_reps=20, fault_instances=10,
                  hsf_ratios=[0.2, 0.3, 0.4, 0.5], nasf_ratios=[0.03, 0.05, 0.10, 0.15]),
}
"""The profiles of the sections ``method``, ``accuracy`` and ``convergence`` (one set of models for all three,
shared through the cache)."""
