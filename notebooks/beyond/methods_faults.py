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
# # Every training method under every fault model
#
# The four papers each test their own method against their own fault model.
# A practitioner asks a different question: *which training method should I
# use, for which kind of hardware fault?* This notebook answers it on one
# common ground: FashionMNIST, adversarial_ft's Architecture 1 (MLP) and
# Architecture 2 (CNN), eight training methods, seven fault models, several
# training seeds per method. See {doc}`/book/beyond` for the design and its
# choices; the next notebook asks whether the damage can be predicted without
# simulating it.
#
# | method | from | what it does here |
# |---|---|---|
# | none | all | cross-entropy, Adam |
# | L1, L2 | adversarial_ft | Lasso λ₁ / Tikhonov λ₂ on the weights |
# | dropout | continuous_limit | unscaled Bernoulli dropout on the last hidden layer |
# | adversarial two-phase | adversarial_ft | Phase I (autoencoder + discriminator), Phase II fine-tuning |
# | fault-aware training | snn_patterns [5] | clean loss + loss under a fresh faulty instance per batch |
# | Var Δ regularizer | continuous_limit | λ · Theorem 1's Var Δ (b3) of the last hidden layer |
# | continuity regularizer | continuous_limit | ψ · smooth(W) (C1 + C2 + C3) |
#
# Fault models (the shared engine, `ftlib.faults.catalog`), in the order of
# the `severities` parameter: stuck-at-0 weights, stuck-at-0 filters (CNN
# only), stuck-at-0 nodes, Bernoulli crashes, conditionally-uniform deviations,
# erasures, int8 bit flips. The heat map uses one stated severity per fault
# model; the bands a short range around it.
#
# **The run's profile**: its seeds, models, data and draws are written below
# the settings, from the settings themselves. In the quick profile the models
# are briefly trained (their clean accuracy, in the first table, is far below
# the papers'): the ranking is that of briefly trained networks. The `paper`
# profile's seed-0 none / L1 / L2 / adversarial models are adversarial_ft's
# Table 2 models (the same cache entries).

# %% tags=["parameters"]
profile: str = "quick"  # smoke | quick | paper: which settings to use for every parameter left at None
seed: int = 0  # first training seed, and the seed of the evaluation subset and of every fault draw
n_seeds: "Optional[int]" = None  # training seeds per architecture and method (quick: 3)
epochs: "Optional[int]" = None  # training epochs of the MLP (Architecture 1) models (quick: 2, paper: 50)
cnn_epochs: "Optional[int]" = None  # training epochs of the CNN (Architecture 2) models (quick: 2, paper: 50)
batch_size: "Optional[int]" = None  # mini-batch size (128)
lr: "Optional[float]" = None  # Adam learning rate (1e-3)
n_train: "Optional[int]" = None  # FashionMNIST training images, 0 means all 60000 (quick: 2000)
n_test: "Optional[int]" = None  # FashionMNIST test images every model is evaluated on, 0 means all (quick: 500)
l1: "Optional[float]" = None  # Lasso strength of the L1 method (1e-4)
l2: "Optional[float]" = None  # Tikhonov strength of the L2 method (1e-3)
dropout: "Optional[float]" = None  # unscaled dropout probability on the last hidden layer (0.3)
fault_train: "Optional[str]" = None  # fault model of fault-aware training (stuck_nodes)
fault_train_rate: "Optional[float]" = None  # its rate during training (0.3)
var_reg: "Optional[float]" = None  # lambda of the Var Delta (b3) regularizer on the last hidden layer (0.2)
continuity: "Optional[list]" = None  # continuity regularizer psi as [psi_D, psi_S] ([1e-6, 1e-5])
phase1_epochs: "Optional[int]" = None  # Phase-I epochs of the adversarial method, MLP (quick: 1)
cnn_phase1_epochs: "Optional[int]" = None  # Phase-I epochs of the adversarial method, CNN (quick: 1)
phase1_n_train: "Optional[int]" = None  # images of Phase I, 0 means all
phase1_iters: "Optional[int]" = None  # cap on Phase-I iterations, 0 means none
phase1_lr: "Optional[float]" = None  # Adam learning rate of the reconstruction game (1e-3)
disc_lr: "Optional[float]" = None  # learning rate of the discriminator and the adversarial step (5e-5)
disc_steps: "Optional[int]" = None  # discriminator steps per Phase-I iteration (1)
severities: "Optional[list]" = None  # heat-map severity per fault model (order: see the text)
band_factors: "Optional[list]" = None  # rates of the bands as multiples of each severity
draws: "Optional[int]" = None  # fault draws per rate and model (quick: 2)
n_theory: "Optional[int]" = None  # evaluation images on which b3 is computed per model (quick: 200)
n_perm: "Optional[int]" = None  # permutations of the correlation tests (quick: 2000)

# %%
from ftlib import sections

cfg = sections.validate_notebook("beyond/methods_faults", globals())

# %%
from IPython.display import Markdown

from ftlib.experiments.beyond import methods_faults as sec
from ftlib.report import Report, use_style

use_style()
report = Report("beyond/methods_faults", cfg)
report.banner()

# %%
Markdown(sec.profile_note(cfg))

# %% [markdown]
# ## The population of models
# One row per trained model: training and test accuracy (%), the
# generalization error G = train − test (pp), training seconds (Phase I
# included) and whether it came from the cache.

# %%
pop, models = sec.population(cfg)
sec.population_table(pop)

# %% [markdown]
# ## Every model under every fault model
# Accuracy against the fault rate for the first seed's models, with 95 % bands
# over the fault draws; the dotted line marks the severity of the heat map.

# %%
sw = sec.sweeps(cfg, models)
report.figure(sec.plot_bands(sw, cfg), "bands",
              "Test accuracy against the fault rate for every method (first training seed), one panel per "
              "architecture and fault model, 95 % bands over fault draws; dotted: the heat map's severity.")

# %% [markdown]
# ## The summary heat map
# Accuracy retained (faulty / fault-free accuracy of the same model, %) at the
# stated severity, mean over training seeds ± the 95 % t half-width over seeds.

# %%
ret = sec.retained(sw, cfg)
report.figure(sec.plot_heatmap(ret, cfg), "heatmap",
              "Accuracy retained (%) by each training method (rows) under each fault model at its stated "
              "severity (columns), mean ± 95 % half-width over training seeds; left MLP, right CNN.")

# %% [markdown]
# ## Ranking, and the significance of the differences
# Within each block (architecture × fault model × seed) the methods are ranked
# by retained accuracy (1 = best). Friedman's test asks whether any method is
# systematically better; the p-values compare each method with the top one and
# with `none` (Wilcoxon signed-rank over the blocks, Holm-corrected).

# %%
findings = sec.findings(ret, pop, cfg)
print(sec.friedman_line(findings))
findings["ranking"].round(3)

# %% [markdown]
# Per fault model (pooled over the two architectures): the best method, its
# paired difference to `none` over (architecture, seed) and the runner-up.

# %%
findings["per_fault"].round(3)

# %% [markdown]
# ## The trade-off: clean accuracy against robustness

# %%
report.figure(sec.plot_tradeoff(findings["tradeoff_models"]), "tradeoff",
              "Clean test accuracy against the accuracy retained under faults (mean over the fault models), one "
              "small dot per model, squares: method means with 95 % intervals over seeds.")
findings["tradeoff"].round(3)

# %% [markdown]
# ## Conclusions
# Stated with this run's numbers; the verdict of each finding is its
# confidence (strong evidence: p < 0.01, weak evidence: p < 0.05, no evidence
# otherwise).

# %%
Markdown(sec.conclusions(findings, cfg))

# %%
sec.compare(report, findings, cfg)
report.table()

# %%
report.save()
report.summary()
