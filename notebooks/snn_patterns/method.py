# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Spiking networks, HSF/NASF faults and pattern generation (snn_patterns, Section 3)
#
# The paper trains a spiking neural network (SNN) of leaky integrate-and-fire
# (LIF) neurons, 784 × 128 × 10, on rate-encoded MNIST, and makes it tolerant
# to two **neuron faults**: **HSF** ("hard to spike") and **NASF** ("neuron
# always spikes", it fires at every time step). Its baseline is the
# fault-aware training of its reference [5]: for every batch a faulty
# inference with a fresh fault set, and its cross-entropy.
#
# Configuration (`variant`, see the chapter page): by default the **authors'**,
# from their public script — neuron decay 0.2 with reset to zero, threshold
# 0.5, no biases, 10 time steps; faults on the 784 input pixels *and* the 128
# hidden neurons (`int(912 · ratio)` of them), HSF multiplying a pixel's spike
# probability or a hidden neuron's input current by 0.1. `paper-text` is our
# earlier reading of the text (hidden neurons only, HSF silent, snntorch
# `Leaky` neurons β = 0.95, threshold 1). The proposed method adds **adversarial pattern generation**
# (Algorithm 1): after each epoch, training images are perturbed until the
# faulty and the fault-free network disagree on them consistently, and up to
# M = 100 such patterns join the training set.
#
# This notebook shows the pieces on a trained network: the LIF dynamics, what
# HSF and NASF do to the hidden spikes, and Algorithm 1 on a few images.

# %% tags=["parameters"]
profile: str = "quick"  # smoke | quick | paper: which settings to use for every parameter left at None
seed: int = 0  # random seed of initialisation, data order, encodings and fault locations
variant: "Optional[str]" = None  # 'authors' (their script, every profile) or 'paper-text' (our reading of the text)
epochs: "Optional[int]" = None  # training epochs of every model (quick: 3, paper: 20)
n_train: "Optional[int]" = None  # MNIST training images (quick: 8000, paper: 48000)
n_test: "Optional[int]" = None  # MNIST test images, 0 means all 10000 (quick: 600)
num_steps: "Optional[int]" = None  # LIF simulation time steps (10 in every profile but smoke: the authors' window)
test_reps: "Optional[int]" = None  # stochastic encodings averaged per accuracy (quick: 1, paper: 1, the authors' one pass)
m_patterns: "Optional[int]" = None  # Algorithm 1 new patterns per epoch M (100)
gen_max_batches: "Optional[int]" = None  # Algorithm 1 batches scanned per epoch, 0 means all (quick: 1, paper: 0)
gen_steps: "Optional[int]" = None  # Algorithm 1 perturbation steps per batch N (20)
gen_eps: "Optional[float]" = None  # Algorithm 1 perturbation step: authors 0.1 x sign of the gradient (0.1)
gen_reps: "Optional[int]" = None  # Algorithm 1 (authors) repetitions averaged per check (quick: 4, paper: 20)
fault_instances: "Optional[int]" = None  # fault instances per fault ratio (quick: 10, paper: 10)
hsf_ratios: "Optional[list]" = None  # HSF fault ratios of Table 4 (0.2 to 0.5)
nasf_ratios: "Optional[list]" = None  # NASF fault ratios of Table 4 (0.03 to 0.15)

# %%
from ftlib import sections

cfg = sections.validate_notebook("snn_patterns/method", globals())

# %%
from ftlib.experiments.snn_patterns import method as sec
from ftlib.report import Report, use_style

use_style()
report = Report("snn_patterns/method", cfg)
report.banner()

# %% [markdown]
# ## Settings (Tables 1 and 2)
# The paper's hyperparameters beside this run's. The neuron parameters are not
# in the paper; the authors' script has them (decay 0.2, threshold 0.5,
# rectangular surrogate, 10 steps). Table 2's "time window 20" is the number
# of perturbation iterations and its "test repetition 20" the repetitions
# averaged per check of Algorithm 1.

# %%
sec.hyperparameters(cfg)

# %% [markdown]
# ## The LIF network and the two neuron faults
# We take the network trained by the previous method [5] against NASF at
# FIR 0.05 (it is shared with the accuracy section through the cache). Left:
# the membrane potential of the busiest hidden neuron for one test image, with
# its spikes. Right: the hidden layer's spikes (neurons × time steps) without
# fault, with HSF at 0.3 and NASF at 0.15 (in the authors' configuration these fault sets also
# attenuate or saturate input pixels; HSF hidden neurons are attenuated, not silent).

# %%
demo = sec.gen_demo(cfg)
report.figure(sec.plot_lif_demo(cfg, demo), "lif",
              "Left: membrane potential of one hidden LIF neuron and its spikes. Right: hidden spike rasters "
              "fault-free, under HSF 0.3 (attenuated or silent rows) and NASF 0.15 (rows spiking at every step).")

# %% [markdown]
# ## Algorithm 1 on a few images
# One batch of training images, one faulty instance (NASF at FIR 0.05), up to
# N = 20 perturbation steps. Authors' rule: at each step, 5 checks, each
# comparing the fault-free and faulty predictions averaged over `gen_reps`
# stochastic repetitions; an already perturbed image is kept when at least
# K = 4 checks show a faulty prediction different from a *correct* fault-free
# one; the others move by 0.1 · sign(∇ff − ∇ft) of Σ(ff − ft)². (Paper-text
# rule: more than K of 5 single inferences differ; step ε times the normalised
# gradient.)

# %%
print(sec.pattern_summary(demo))
report.figure(sec.plot_patterns(demo), "patterns",
              "Top: source training images; bottom: the patterns Algorithm 1 kept, with the steps each needed. "
              "Look at how little the images change.")

# %% [markdown]
# On fresh inferences (another encoding), how often do the faulty and the
# fault-free network disagree, on the source images and on the generated
# patterns? Algorithm 1 works if the patterns separate the two networks more
# often than the images they came from. The verdicts below say whether it
# does, and whether this run used the settings of Tables 1-2 (a detail row).

# %%
sec.compare(report, cfg, demo)
report.table()

# %%
report.save()
report.summary()
