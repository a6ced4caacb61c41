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
# # Performance in the presence of faults (adversarial_ft, Section 6.4)
#
# The paper's Figure 7 injects stuck-at-0 faults into the models of Table 2
# trained with the proposed method, with Tikhonov and with Lasso: weights of
# the fully connected layers, filters of the convolution layers, and nodes of
# the hidden fully connected layers. It quotes the accuracy at 60 % weight
# faults and 68 % node faults and the accuracy *drop* at 40 % filter faults.
# We take Table 2's models from the cache (the previous section trains them,
# with the same parameters), use Architecture 1 for weight and node faults and
# Architecture 2 for filter faults (the paper does not say which network each
# panel shows), and draw `fault_draws` faulty instances per fraction.
#
# Then we test the paper's underlying hypothesis — a lower generalization
# error means more fault tolerance — across every model this chapter trained
# for that architecture (all λ of the grids, and the proposed model).
#
# **The run's profile**: its models, fault draws and test images are written
# below the settings, from the settings themselves.

# %% tags=["parameters"]
profile: str = "quick"  # smoke | quick | paper: which settings to use for every parameter left at None
seed: int = 0  # random seed of initialisation, data order, subsets, prior samples and faults
epochs: "Optional[int]" = None  # supervised epochs of the Architecture 1 models (quick: 6, paper: 50)
cnn_epochs: "Optional[int]" = None  # supervised epochs of the Architecture 2 models (quick: 2)
batch_size: "Optional[int]" = None  # mini-batch size (128)
lr: "Optional[float]" = None  # Adam learning rate of the supervised training (1e-3)
n_train: "Optional[int]" = None  # FashionMNIST training images, 0 means all 60000 (quick: 20000)
n_test: "Optional[int]" = None  # FashionMNIST test images, 0 means all 10000 (quick: 5000)
tikhonov_lambdas: "Optional[list]" = None  # Tikhonov grid of Architecture 1 (Table 1's)
lasso_lambdas: "Optional[list]" = None  # Lasso grid of Architecture 1 (Table 1's)
cnn_tikhonov_lambdas: "Optional[list]" = None  # Tikhonov grid of the CNNs
cnn_lasso_lambdas: "Optional[list]" = None  # Lasso grid of the CNNs
phase1_epochs: "Optional[int]" = None  # Phase-I epochs of Architecture 1 (quick: 2, paper: 2000)
cnn_phase1_epochs: "Optional[int]" = None  # Phase-I epochs of Architecture 2 (quick: 1, paper: 2000)
phase1_n_train: "Optional[int]" = None  # FashionMNIST images used in Phase I, 0 means all (quick: 20000)
phase1_iters: "Optional[int]" = None  # cap on FashionMNIST Phase-I iterations, 0 means no cap
phase1_lr: "Optional[float]" = None  # Adam learning rate of the reconstruction game (1e-3)
disc_lr: "Optional[float]" = None  # learning rate of the discriminator and the FE's adversarial step (5e-5)
disc_steps: "Optional[int]" = None  # discriminator steps k per Phase-I iteration (1)
cifar: "Optional[bool]" = None  # also train Architectures 3 and 4 on CIFAR-10 (quick: False, paper: True)
cifar_width: "Optional[float]" = None  # width multiplier of Architecture 3 (paper: 1)
cifar_n_train: "Optional[int]" = None  # CIFAR-10 training images, 0 means all 50000
cifar_n_test: "Optional[int]" = None  # CIFAR-10 test images, 0 means all 10000
cifar_epochs: "Optional[int]" = None  # supervised epochs of Architectures 3 and 4
cifar_phase1_epochs: "Optional[int]" = None  # Phase-I epochs of Architectures 3 and 4
cifar_phase1_iters: "Optional[int]" = None  # cap on CIFAR-10 Phase-I iterations (paper: 10000)
fault_rates: "Optional[list]" = None  # fault fractions of Figure 7 (the quoted 0.4, 0.6, 0.68 are always added)
fault_draws: "Optional[int]" = None  # faulty instances per fault fraction (quick: 5)

# %%
from ftlib import sections

cfg = sections.validate_notebook("adversarial_ft/faults", globals())

# %%
from IPython.display import Markdown

from ftlib.experiments.adversarial_ft import adversarial_framework as t2, faults as sec
from ftlib.report import Report, use_style

use_style()
report = Report("adversarial_ft/faults", cfg)
report.banner()

# %%
Markdown(sec.profile_note(cfg))

# %% [markdown]
# ## Table 2's models (from the cache)

# %%
grid, models, phase1 = t2.table2_models(cfg)
table = t2.select(grid)
table.round(2)

# %% [markdown]
# ## Figure 7: proposed vs Tikhonov vs Lasso under stuck-at-0 faults
# Lines: mean over the fault draws with a 95 % confidence band. Crosses: the
# paper's quoted points (for filters the paper quotes a drop; we draw it below
# our own fault-free accuracy).

# %%
sweeps = sec.figure7_sweeps(cfg, table, models)
report.figure(sec.plot_figure7(sweeps), "figure7",
              "Test accuracy against the fraction of stuck-at-0 weights (Architecture 1), filters (Architecture 2) "
              "and nodes (Architecture 1) for the proposed, Tikhonov and Lasso models of Table 2, with 95% bands; "
              "the paper's quoted points as crosses. Look at the order of the three curves at the crosses.")

# %% [markdown]
# Our numbers at the paper's quoted fractions, in %:

# %%
quoted = sec.figure7_quoted(sweeps)
quoted.round(2)

# %% [markdown]
# ## The hypothesis: does the generalization error predict fault tolerance?
# For every model trained in this chapter on the panel's architecture we plot
# its generalization error against its accuracy at the quoted fault fraction
# (the drop, for filters) and compute Spearman's rank correlation. The
# hypothesis predicts a negative correlation with accuracy (positive with the
# drop). A caveat: with few models, p-values are weak evidence, and strong
# penalties lower both G and the fault-free accuracy, which confounds the
# comparison: a model collapsed to one class has G ≈ 0 *and* chance accuracy
# under faults. We therefore test twice, once on all models and once on the
# models that learned (fault-free test accuracy at least twice chance, a rule
# fixed in ftlib before looking at the result, the same for every panel).

# %%
points = sec.hypothesis_points(cfg, grid, models)
hyp = sec.hypothesis_tests(points)
report.figure(sec.plot_hypothesis(points), "hypothesis",
              "Generalization error against accuracy under faults (left, right) or accuracy drop (middle), one "
              "point per model trained in this chapter, coloured by method. Look for a monotone trend.")
hyp.round(3)

# %% [markdown]
# ## Verdicts
# Per panel: whether the proposed model is the most tolerant at the quoted
# fraction — better than Tikhonov *and* than Lasso, each by a paired
# difference over the shared fault draws with one-sided p < 0.05 (all models
# meet the same faulty sites, so the draws pair up; a point estimate inside
# the draw-to-draw noise does not count) — the three quoted numbers (5 pp
# tolerance), and the hypothesis test (predicted sign with p < 0.05).
#
# **Budget-sensitive**: the MLP panel (AFT-F7a) changed its verdict between
# two quick budgets with the same rule (session 5: "reproduced", p = 0.0018,
# with 30,000 training images; "not reproduced", p = 0.62, with 20,000, Phase
# I included, and 2 instead of 3 epochs for the CNN panels' models: the
# proposed model's accuracy at the quoted fraction fell from 61.5 % to
# 49.1 %). The ranking of the three models at this fraction depends on the
# training budget; the paper-settings run decides it.

# %%
sec.compare(report, quoted, hyp)
report.table()

# %%
report.save()
report.summary()
