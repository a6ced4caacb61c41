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
# # Can the damage be predicted without simulating it?
#
# A fault simulation of every candidate model under every fault model costs
# hours. Two cheap predictors come from the papers:
#
# - continuous_limit's **first-order Var Δ (b3)** of Theorem 1: the variance of
#   the output error under Bernoulli neuron crashes, from one forward and ten
#   backward passes, no fault drawn;
# - adversarial_ft's hypothesis that the **generalization error** predicts
#   fault tolerance.
#
# We compute both for every model of the previous notebook (the same cache:
# nothing is trained twice) and ask how well they *rank* the models and the
# methods by their measured damage, under Bernoulli crashes (b3's own fault
# model) and under every other fault model. b3 is the raw Var Δ of the logits
# (summed over the 10 outputs, averaged over `n_theory` test images); since the
# logits' scale differs between methods (L2 shrinks them), we also test a
# scale-free variant of our own: √b3 divided by the mean logit margin (top-1 −
# top-2), median over the images.

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

cfg = sections.validate_notebook("beyond/theory", globals())

# %%
from IPython.display import Markdown

from ftlib.experiments.beyond import theory as sec
from ftlib.report import Report, use_style

use_style()
report = Report("beyond/theory", cfg)
report.banner()

# %% [markdown]
# ## The models and their measured damage (from the cache)

# %%
pop, models = sec.population(cfg)
ret = sec.retained(sec.sweeps(cfg, models), cfg)
th = sec.theory_table(cfg, models)
sec.theory_means(th)

# %% [markdown]
# ## b3 against the measured damage

# %%
report.figure(sec.plot_theory(th, ret, cfg), "b3_vs_drop",
              "b3's predicted Var Δ of the logits (log scale) against the measured accuracy drop under Bernoulli "
              "crashes and under stuck-at-0 weights, one point per model, per architecture.")

# %% [markdown]
# How well each predictor ranks the models (Spearman ρ, its p-value, and the
# rank loss: the fraction of model pairs ordered wrongly, 0.5 = no
# information) and the eight methods (rank loss of the method means), per
# architecture and fault model.

# %%
findings = sec.findings(pop, ret, th, cfg)
findings["quality"].round(3)

# %%
findings["quality_rel"].round(3)

# %% [markdown]
# ## Generalization error against fault tolerance, over the whole population
# adversarial_ft tested its hypothesis on its own models and stuck-at-0 faults.
# Here: Spearman ρ between G and the retained accuracy over all 8 methods ×
# seeds, per architecture and fault model (the hypothesis predicts ρ < 0).

# %%
findings["gen_table"].round(3)

# %% [markdown]
# ## Conclusions

# %%
Markdown(sec.conclusions(findings, cfg))

# %%
sec.compare(report, findings)
report.table()

# %%
report.save()
report.summary()
