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
# # Spiking networks under every fault model
#
# snn_patterns trains its spiking networks against the fault it tests them
# with: dead ("hard to spike", HSF) or saturated ("neuron always spikes",
# NASF) hidden neurons. Hardware that runs a spiking network can fail in
# other ways too: a spike lost on the way, a weight stuck at zero or flipped
# in memory, a synaptic current computed wrongly. Does fault-aware training,
# or snn_patterns' pattern generation, protect against those? And does a
# network trained against dead neurons survive saturated ones?
#
# | method | from | what it does here |
# |---|---|---|
# | none | snn_patterns' baseline | cross-entropy on the output spike counts |
# | fault-aware, HSF / NASF | snn_patterns' previous work [5] | loss under a fresh faulty instance per batch (authors' configuration; clean + faulty loss in paper-text), at the fault injection ratio `fir` |
# | pattern generation, HSF / NASF | snn_patterns' Algorithm 1 | fault-aware training plus the generated patterns |
#
# | fault model | where it acts |
# |---|---|
# | HSF, NASF | authors' configuration: `int(912 · rate)` of the 784 input pixels and 128 hidden neurons, HSF × 0.1, NASF always on (permanent); paper-text: an exact fraction of the 128 hidden neurons' spikes |
# | spike drops | each hidden spike at each time step, independently (transient Bernoulli crash) |
# | stuck-at-0 weights, int8 bit flips | both weight matrices (permanent) |
# | erasure, conditionally-uniform deviations | the synaptic currents of both layers at every time step (transient) |
#
# A stuck-at-0 hidden *node* of a spiking network is an HSF neuron, so it is
# not listed twice. continuous_limit's b3 has no counterpart here (a spike is
# not differentiable), so the theory notebook stays with the non-spiking nets.
#
# **Configuration**: the one snn_patterns adopts, the authors' (`variant`,
# see {doc}`/book/snn_patterns`): their neuron, their fault population and
# their training and keep rules. The banner prints the `variant` this run used.
# The heat map's severities were calibrated once on the paper-text
# configuration's quick baseline and are kept fixed (not re-tuned).
#
# **The run's profile**: its settings (snn_patterns' of the same profile), seeds,
# models and draws are written below the settings, from the settings themselves.

# %% tags=["parameters"]
profile: str = "quick"  # smoke | quick | paper: which settings to use for every parameter left at None
seed: int = 0  # first training seed, and the seed of the test subset, the input spike trains and every fault draw
variant: "Optional[str]" = None  # 'authors' (their script, every profile) or 'paper-text' (our reading of the text)
n_seeds: "Optional[int]" = None  # training seeds per spiking method (quick: 3, paper: 5)
fir: "Optional[float]" = None  # fault injection ratio of fault-aware training and pattern generation (0.05)
epochs: "Optional[int]" = None  # training epochs of every model (quick: 3, paper: 20)
n_train: "Optional[int]" = None  # MNIST training images (quick: 8000, paper: 48000)
n_test: "Optional[int]" = None  # MNIST test images, 0 means all 10000 (quick: 600)
num_steps: "Optional[int]" = None  # simulation time steps of the LIF network (10 in every profile but smoke: the authors' window)
test_reps: "Optional[int]" = None  # encodings averaged for the clean accuracy (quick: 1, paper: 1, the authors' one pass)
m_patterns: "Optional[int]" = None  # Algorithm 1: new patterns per epoch (100)
gen_max_batches: "Optional[int]" = None  # Algorithm 1: batches scanned per epoch, 0 means all (quick: 1, paper: 0)
gen_steps: "Optional[int]" = None  # Algorithm 1: perturbation steps per batch (20)
gen_eps: "Optional[float]" = None  # Algorithm 1 perturbation step: authors 0.1 x sign of the gradient (0.1)
gen_reps: "Optional[int]" = None  # Algorithm 1 (authors) repetitions averaged per check (quick: 4, paper: 20)
snn_severities: "Optional[list]" = None  # heat-map severity per fault model (order: see the table above)
band_factors: "Optional[list]" = None  # rates of the bands as multiples of each severity
draws: "Optional[int]" = None  # fault draws per rate and model (quick: 3, paper: 10)

# %%
from ftlib import sections

cfg = sections.validate_notebook("beyond/spiking", globals())

# %%
from IPython.display import Markdown

from ftlib.experiments.beyond import spiking as sec
from ftlib.report import Report, use_style

use_style()
report = Report("beyond/spiking", cfg)
report.banner()

# %%
Markdown(sec.profile_note(cfg))

# %% [markdown]
# ## The population of spiking models
# Clean test accuracy (%, mean over `test_reps` encodings), patterns added by
# Algorithm 1, training CPU seconds (pattern generation included), and
# whether the model came from the cache.

# %%
pop, models = sec.population(cfg)
sec.population_table(pop)

# %% [markdown]
# ## Every spiking model under every fault model
# Accuracy against the fault rate (first seed's models, 95 % bands over fault
# draws); the dotted line marks the heat map's severity.

# %%
sw = sec.sweeps(cfg, models)
report.figure(sec.plot_bands(sw, cfg), "snn_bands",
              "Test accuracy of the spiking models against the fault rate (first training seed), one panel per "
              "fault model, 95 % bands over fault draws; dotted: the heat map's severity.")

# %% [markdown]
# ## The heat map
# Accuracy retained (faulty / fault-free accuracy of the same model, %) at
# the stated severity, mean over training seeds ± the 95 % t half-width.

# %%
ret = sec.retained(sw, cfg)
report.figure(sec.plot_heatmap(ret, cfg), "snn_heatmap",
              "Accuracy retained (%) by each spiking training method (rows) under each fault model at its "
              "stated severity (columns), mean ± 95 % half-width over training seeds.")

# %% [markdown]
# ## Ranking and the tests
# The methods ranked within each block (fault model × seed; Friedman's test
# and Holm-corrected Wilcoxon p-values against the top method and against
# none), then the best method per fault model.

# %%
found = sec.findings(ret)
found["ranking"].round(3)

# %%
found["per_fault"].round(3)

# %% [markdown]
# ## Conclusions
# The verdict of each finding is its confidence (strong evidence: p < 0.01,
# weak evidence: p < 0.05, no evidence otherwise).

# %%
Markdown(sec.conclusions(found, cfg))

# %%
sec.compare(report, found, cfg)
report.table()

# %%
report.save()
report.summary()
