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
# # Fault models: a primer
#
# The four papers of this book break neural networks in different ways. This
# page shows every fault model of `ftlib.faults` on one small trained network,
# so you can see what each one does before reading the chapters, and how to
# call it in your own code.
#
# | fault model | what it does | paper | drawn |
# |---|---|---|---|
# | stuck-at-0 **weights** | an exact fraction of each layer's weights reads 0 | adversarial_ft, Sec. 3 | once per faulty chip (permanent) |
# | stuck-at-0 **filters** | an exact fraction of each conv layer's filters reads 0 | adversarial_ft, Sec. 3 | permanent |
# | stuck-at-0 **nodes** | an exact fraction of each layer's hidden units outputs 0 | adversarial_ft, Sec. 3 | permanent |
# | **Bernoulli crash** | each hidden unit outputs 0 with probability p, no rescaling | continuous_limit, Def. 3 | per input (transient) or permanent |
# | **erasure** | each scalar pre-activation is replaced by 0 with probability p | computation_failures, Sec. IV | per scalar (transient) |
# | **conditionally uniform** | each scalar pre-activation is replaced by a uniform draw over the fixed-point range with probability p | computation_failures, Sec. IV | per scalar (transient) |
# | **bit flip** float32 / int8 | each stored bit of the weights flips with probability p (the bit-error rate) | memory soft errors | permanent |
# | **HSF / NASF** | a fraction of spiking neurons never / always spikes | snn_patterns | permanent (shown in the snn_patterns chapter) |
#
# The network is a reduced version of adversarial_ft's Architecture 2 (conv
# 5×5 ×8 → pool → conv 5×5 ×16 → pool → FC 64 → 10) trained on Fashion-MNIST.

# %% tags=["parameters"]
profile: str = "quick"  # smoke | quick | paper: which settings to use for every parameter left at None
seed: int = 0  # random seed of training, subsets and fault draws
epochs: "Optional[int]" = None  # training epochs of the primer network (quick: 3)
n_train: "Optional[int]" = None  # training images used, 0 means all 60000
n_test: "Optional[int]" = None  # test images used in the sweeps, 0 means all 10000
draws: "Optional[int]" = None  # independent faulty instances per rate (quick: 8)

# %%
from ftlib import sections

cfg = sections.validate_notebook("fault_models/primer", globals())

# %%
from ftlib.experiments.fault_models import primer as sec
from ftlib.report import Report, use_style

use_style()
report = Report("fault_models/primer", cfg)
report.banner()

# %% [markdown]
# ## The network

# %%
print(sec.describe(cfg))

# %% [markdown]
# ## What a fault does to the weights
# Each row shows the eight 5×5 filters of the first convolution. Stuck-at-0
# weights blank out single pixels of the filters (30 % of them); stuck-at-0
# filters blank out whole filters (30 % of them, rounded: 2 of 8); int8 bit
# flips (bit-error rate 1 %) change a few weights, some by a lot (a flipped
# high bit moves a code by 64 or 128 steps).

# %%
report.figure(sec.weight_pictures(cfg), "weights",
              "The first convolution's eight 5x5 filters (columns), clean and under three parameter faults "
              "(rows). Look for single blank pixels (weights), blank filters (filters) and a few changed "
              "values (int8 bit flips).")

# %% [markdown]
# ## What a fault does to the activations
# The 64 hidden units of the FC layer for one test image. Node faults and
# Bernoulli crashes zero units after the activation; erasure and
# conditionally-uniform deviations replace pre-activation values before the
# ReLU. A uniform draw over a symmetric range is negative half the time and
# then erased by the ReLU; positive draws can be far larger than any clean
# value, which is why this model is the most damaging at a given p.

# %%
report.figure(sec.activation_pictures(cfg), "activations",
              "Hidden units of the FC 64 layer for one test image, clean (top) and under four activation "
              "faults at rate 0.3. Look for units forced to zero and, for the conditionally-uniform "
              "deviation, units pushed far above their clean values.")

# %% [markdown]
# ## Accuracy against the fault rate, every model on one plot
# For every rate we draw independent faulty instances and report the mean
# test accuracy with its 95 % confidence interval (the bands). The rate
# means a fraction of weights, filters or units, a per-scalar probability, or a
# bit-error rate, so the x-axis compares severities only loosely; what the
# plot shows is at which scale each model starts to hurt.

# %%
sweeps = sec.fault_sweeps(cfg)
report.figure(sec.plot_sweeps(sweeps), "accuracy_vs_rate",
              "Test accuracy against fault rate (symmetric-log axis) for every fault model, mean of the "
              "faulty instances with a 95% confidence band. Look at where each curve leaves the clean "
              "accuracy: float32 bit flips and conditionally-uniform deviations hurt at rates 100 times "
              "smaller than stuck-at-0 faults.")

# %%
sec.sweep_table(sweeps)

# %% [markdown]
# ## Permanent or transient?
# A permanent fault is drawn once per faulty instance (a chip with broken
# units) and stays for every input; a transient one is drawn again for every
# input. With Bernoulli crashes the average accuracy is about the same, but
# permanent instances spread much more: some chips lose important units, some
# do not.

# %%
perm = sec.permanence_sweeps(cfg)
report.figure(sec.plot_permanence(perm), "permanence",
              "Accuracy of each faulty instance under Bernoulli crashes, permanent (drawn once per instance) "
              "vs transient (drawn per input). Look at the spread: wide for permanent, narrow for transient.")
sec.permanence_table(perm)

# %% [markdown]
# ## How many faulty instances does a point need?
# Every point above is a mean over random faulty instances, so it carries a
# sampling error: its **margin** is the half-width of its 95 % confidence
# interval, $t_{0.975,\,n-1}\, s/\sqrt{n}$ for $n$ instances whose accuracies
# spread with standard deviation $s$. A margin is *met* when that half-width is
# at most the target (here 1 point of accuracy). The spread $s$ differs a lot
# between rates, so a fixed number of draws is too many where instances agree
# (low rates) and too few where they differ (where the curve falls). With
# `sweep(..., margin=0.01)` the engine starts from the profile's draws, adds
# one draw at a time to each rate until the margin is met, and stops at a cap
# (here 4 × the pilot); the summary reports the achieved half-width and
# whether the target was met. Filled markers met it; hollow ones hit the cap
# first (raise the cap or accept the wider interval shown by the bar).

# %%
margins = sec.margin_sweeps(cfg)
report.figure(sec.plot_margins(margins), "margins",
              "Adaptive sweeps with a target margin of 1 point (95% interval). Left: mean accuracy with its "
              "interval; filled markers met the margin, hollow ones reached the cap first. Right: the draws "
              "each point needed. Look at where the draws go: to the rates where faulty instances differ most.")
sec.margin_table(margins)

# %% [markdown]
# Injecting single faults (one flipped bit per run) is the other classic
# campaign: the question is then which fraction of all possible faults is
# harmful, a proportion over a finite population of $N$ fault sites (every bit
# of every weight). Leveugle et al. (DATE 2009) give the number of injections
# for a margin $e$ at confidence $t$: $n = N / (1 + e^2 (N-1) / (t^2 p (1-p)))$
# with $p = 0.5$ the worst case (`ftlib.faults.sample_size`). A tiny fraction
# of the population suffices unless the margin is very small:

# %%
sec.bit_sample_sizes(cfg)

# %% [markdown]
# ## Using the fault engine in your own code
# One faulty instance, reversibly (the clean weights come back, even after an
# exception):
#
# ```python
# from ftlib.faults import StuckAtZero, inject
# with inject(model, StuckAtZero("weights"), 0.3, seed=0):
#     logits = model(x)          # 30 % of every Linear/Conv weight tensor is 0
# ```
#
# A sweep over rates × independent draws, with 95 % confidence intervals:
#
# ```python
# from ftlib.faults import BernoulliCrash, sweep
# res = sweep(model, BernoulliCrash(), [0.0, 0.1, 0.2], (x, y), draws=20, seed=0)
# res.summary          # rate, n, mean, std, ci_low, ci_high, ci_halfwidth
# ```
#
# `sweep(..., margin=0.01)` keeps adding draws per rate until the 95 % interval
# is within ±1 point of accuracy (see above); `record=True` keeps the faulty
# sites of every draw as `res.campaign`, which `res.campaign.save("c.npz")`
# writes and `sweep(model, None, None, (x, y), campaign=Campaign.load("c.npz"))`
# replays exactly. The API reference lists every option.

# %% [markdown]
# ## How fast is it?
# `benchmarks/bench_faults.py` times the same stuck-at-0 weight sweep (10 rates ×
# 20 draws, 10,000 Fashion-MNIST-sized images) four ways in one run and prints
# each time as a ratio to the *clean-forward bound*: the same number of
# fault-free forward passes, which no injector can beat on a CPU where a
# 10k-image forward pass is compute-bound. Measured on 2026-11-22 on this
# project's 2-core CI machine (run it yourself with `make bench`):
#
# | method | adversarial_ft MLP | adversarial_ft CNN |
# |---|---|---|
# | clean-forward bound | 1.00 | 1.00 (channels_last; contiguous: 1.81) |
# | **ftlib `sweep`** | **1.09** | **1.00** |
# | naive copy–mask–evaluate loop | 1.56 | 1.85 |
# | PyTorchFI 0.6 (extrapolated from 10 draws) | 80 | 11.8 |
#
# For node faults, reusing the fault-free prefix of the network gives 1.29×
# (MLP) and 1.21× (CNN) over recomputing it. One trap found on the way: for a
# convolution with a single input channel, `contiguous(memory_format=channels_last)`
# changes nothing, so the sweep restrides tensors explicitly.

# %%
report.save()
report.summary()
