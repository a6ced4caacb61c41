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
# # Regularization, generalization and stuck-at-0 faults (adversarial_ft, Section 4)
#
# Duddu, Rao and Balas motivate their adversarial training by a trade-off they
# see in the usual regularizers (their Section 4, Table 1): a stronger Lasso
# (L1) or Tikhonov (L2) penalty lowers the **generalization error**
# $G = R_{train} - R_{test}$, which they use as a proxy for fault tolerance,
# but past a point it also lowers the **test accuracy**.
#
# We retrain their Architecture 1 (an MLP 784 → 512 → 1024 → 512 → 10 with
# ReLU) on Fashion-MNIST for every λ of their table and compare (Table 1).
# Then we take an unregularized and a regularized model and look at their
# weights (Figure 1) and at their accuracy under stuck-at-0 faults in weights,
# convolution filters and nodes (Figure 2).
# The paper does not give the loss, optimizer, epochs or batch size used for
# Table 1; our choices are listed in the next cell's output and in
# `ftlib.experiments.adversarial_ft._config`.

# %% tags=["parameters"]
profile: str = "quick"  # smoke | quick | paper: which settings to use for every parameter left at None
seed: int = 0  # random seed of initialisation, data order and subsets
epochs: "Optional[int]" = None  # training epochs per model (quick: 6, paper: 50)
batch_size: "Optional[int]" = None  # mini-batch size (128)
lr: "Optional[float]" = None  # Adam learning rate (1e-3)
n_train: "Optional[int]" = None  # training images used, 0 means all 60000 (quick: 20000)
n_test: "Optional[int]" = None  # test images used, 0 means all 10000 (quick: 5000)
tikhonov_lambdas: "Optional[list]" = None  # Tikhonov (L2) strengths; the paper's grid is [0, 1e-4, 1e-3, 0.1]
lasso_lambdas: "Optional[list]" = None  # Lasso (L1) strengths; the paper's grid is [0, 1e-4, 1e-3, 1e-2]
fig_lambda: "Optional[float]" = None  # Tikhonov strength of the regularized models of Figures 1 and 2 (1e-3)
cnn_epochs: "Optional[int]" = None  # training epochs of the Architecture 2 CNNs of Figure 2b (quick: 2)
fault_rates: "Optional[list]" = None  # fault fractions of Figure 2
fault_draws: "Optional[int]" = None  # faulty instances per fault fraction (quick: 5)

# %%
from ftlib import sections

cfg = sections.validate_notebook("adversarial_ft/experiment_setup", globals())

# %%
from ftlib.experiments.adversarial_ft import experiment_setup as sec
from ftlib.report import Report, use_style

use_style()
report = Report("adversarial_ft/experiment_setup", cfg)
report.banner()

# %% [markdown]
# ## Table 1: training the eight models
# Each (regularizer, λ) pair is one training run, cached by its full
# configuration: rerunning the notebook with the same parameters loads the
# models instead of training them again. λ = 0 is the same run for both
# regularizers.

# %%
ours = sec.table1(cfg)
ours  # numbers by their scale (λ in scientific notation): ftlib.report.fmt_number

# %% [markdown]
# ## Our Table 1 beside the paper's
# Accuracies in %, generalization error and gaps in percentage points (pp).

# %%
sec.table1_side_by_side(ours)

# %% [markdown]
# The same numbers as a figure: solid lines are ours, dashed lines the paper's.

# %%
report.figure(sec.plot_table1(ours), "table1", "Test accuracy (left) and generalization error (right) against λ, "
              "for Tikhonov and Lasso: ours solid, the paper's dashed. Look for the generalization error "
              "falling with λ and the accuracy collapsing at the largest λ.")

# %% [markdown]
# ## Figure 1: the weights of a regularized and an unregularized model
# The paper reports that regularization shrinks the spread of the weights
# (a ten times smaller standard deviation) and argues that evenly spread
# weights let other units take over when some fail. The paper does not say
# which λ its regularized model used; we take the Tikhonov model with
# `fig_lambda` from Table 1.

# %%
models = sec.figure_models(cfg)
spread = sec.weight_spread(models)
report.figure(sec.plot_weight_histograms(models), "figure1",
              "Histogram (log density) of all weights of the unregularized and the Tikhonov-regularized MLP. "
              "Look at the width of the two distributions: the legend gives their standard deviations.")
spread.round(4)

# %% [markdown]
# ## Figure 2: accuracy under stuck-at-0 faults
# Each faulty instance zeroes an exact fraction of every layer's weights (a),
# of every convolution layer's filters (b, on Architecture 2), or of every
# hidden layer's units (c). Lines are the mean over `fault_draws` instances
# with a 95 % confidence band; crosses are the accuracies the paper quotes in
# its text.

# %%
sweeps = sec.figure2_sweeps(cfg)
report.figure(sec.plot_figure2(sweeps), "figure2",
              "Test accuracy against the fraction of stuck-at-0 weights (MLP), filters (CNN) and nodes (MLP), "
              "regularized vs unregularized, ours with 95% bands, the paper's quoted points as crosses. Look at "
              "the gap between the two curves at the quoted fractions.")

# %% [markdown]
# ## Verdicts
# The claim of Table 1 is qualitative: both regularizers lower the
# generalization error as λ grows, at the price of test accuracy. We also
# compare every number, with a tolerance of 2 pp (a rough run-to-run spread:
# the paper's own two λ = 0 runs differ by 1.8 pp in training accuracy).
#
# Figure 2's claims ("the regularized model keeps more accuracy") count as
# reproduced when the paired difference over the shared fault draws (both
# models meet the same faulty sites) is positive with one-sided p < 0.05;
# the quoted accuracies have a 5 pp tolerance.
#
# **Budget-sensitive**: the CNN panel (AFT-F2b) depends on how long the CNN
# trains. When our quick budget went from 30,000 to 20,000 training images
# and from 3 to 2 epochs of Architecture 2 (session 5), its verdict changed from "not reproduced" (paired difference
# −0.71 pp, p = 0.57) to "reproduced" (+3.75 pp, p = 0.043, 5 shared draws),
# both times with the same rule. Read it as a property of a short training,
# not of the architecture; the paper-settings run (50 epochs) decides it.

# %%
sec.compare(report, ours, spread, sweeps)
report.table()

# %%
report.save()
report.summary()
