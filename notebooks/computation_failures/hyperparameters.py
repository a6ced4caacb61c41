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
# # Effect of some hyperparameters on robustness (computation_failures, Section V.A)
#
# Vialatte and Leduc-Primeau ask how well ordinary MNIST classifiers tolerate
# **faulty computations**: every scalar output of every layer's computation
# deviates independently with probability $p$. Under the pessimistic
# *conditionally-uniform* model a deviating value is replaced by a uniform draw
# over the fixed-point range of the register; deviations are sampled **before
# the activation** (a clipped ReLU saturating at 1), pooling comes after, and
# only the final softmax is reliable.
#
# This section reproduces Figure 1 (MLP–L–N, L = 1..5), Figure 2
# (CNN–L–C–P–F–pool, L = 1..3) and the paper's three hyperparameter claims
# (clipped ReLU ≈ tanh, no pooling slightly more robust than max pooling,
# deviations before the activation less harmful than after).
#
# **Hyperparameter search.** The paper shows "the 5 best models per L" of a
# search it does not describe. Ours is a grid: every width N in `mlp_widths`
# (MLPs) or number of feature maps F in `cnn_filters` (CNNs, C×C kernels, 2×2
# max pooling, dense 200) for every depth L, each trained once with the paper's
# recipe (Adadelta, batch 128, dropout, Glorot, clipped ReLU). Models are
# ranked by their deviation-free error on held-out training images (not the
# test set); the `top_k` best per L are swept.
#
# **Fixed-point range.** The paper gives none. We draw uniform values on
# `value_range` (default [-1, 1]: a signed register as wide as the clipped
# ReLU's output) and show the dependence on it with a wider `alt_range`.

# %% tags=["parameters"]
profile: str = "quick"  # smoke | quick | paper: which settings to use for every parameter left at None
seed: int = 0  # random seed of initialisation, data order, subsets and deviations
epochs: "Optional[int]" = None  # training epochs per model (quick: 4, paper: 15)
batch_size: "Optional[int]" = None  # mini-batch size (128)
lr: "Optional[float]" = None  # Adadelta step multiplier (Keras default 1.0)
n_train: "Optional[int]" = None  # training images (quick: 20000; the rest of the split is held out for validation)
n_val: "Optional[int]" = None  # held-out images ranking the models by deviation-free error
n_test: "Optional[int]" = None  # test images of the deviation sweeps, 0 means all 10000
mlp_depths: "Optional[list]" = None  # MLP depths L of the grid search
mlp_widths: "Optional[list]" = None  # MLP widths N of the grid search
cnn_depths: "Optional[list]" = None  # CNN depths L of the grid search
cnn_filters: "Optional[list]" = None  # CNN feature maps F of the grid search
cnn_kernel: "Optional[int]" = None  # CNN kernel size C (pooling is 2x2 max)
rates: "Optional[list]" = None  # deviation probabilities p
draws: "Optional[int]" = None  # independent deviation draws per p, each over the whole test set
value_range: "Optional[list]" = None  # fixed-point range [low, high] of conditionally-uniform draws
top_k: "Optional[int]" = None  # best models per depth shown (the paper shows 5)
alt_range: "Optional[list]" = None  # a second fixed-point range, to show how the results depend on it
ref_mlp: "Optional[list]" = None  # [L, N] of the MLP of the hyperparameter comparisons
ref_cnn: "Optional[list]" = None  # [L, F] of the CNN of the hyperparameter comparisons

# %%
from ftlib import sections

cfg = sections.validate_notebook("computation_failures/hyperparameters", globals())

# %%
from ftlib.experiments.computation_failures import hyperparameters as sec
from ftlib.report import Report, use_style

use_style()
sec.check_range(cfg), sec.check_range(cfg, "alt_range")
report = Report("computation_failures/hyperparameters", cfg)
report.banner()

# %% [markdown]
# ## Figure 1: MLP–L–N under conditionally-uniform deviations
# The grid search (parameter count, deviation-free validation and test error;
# `cached` means loaded from an earlier run), then the error rate against $p$
# of the `top_k` best models per depth, each line the mean over `draws`
# deviation draws of the whole test set with its 95 % band.

# %%
mlp_table, mlp_models, mlp_chosen, mlp_summary = sec.depth_study(cfg, "mlp")
mlp_table.round(4)

# %%
report.figure(sec.plot_error_vs_p(mlp_summary, "MLP-L-N, conditionally uniform"), "figure1",
              "Error rate of the best MLP-L-N models per depth L against the deviation probability p "
              "(conditionally uniform deviations, 95% bands). Look for whether the depth orders the curves.")

# %% [markdown]
# The paper: "the number of layers does not have a clear impact on robustness";
# 2-layer models minimize the deviation-free error, deeper ones sometimes win
# as $p$ grows. We call the effect of L "clear" when the rank correlation ρ
# between L and the error at the largest $p$ (over the shown models) has
# |ρ| ≥ 0.7.

# %%
sec.depth_effect(mlp_summary)

# %% [markdown]
# ## Figure 2: CNN–L–C–P–F–pool under conditionally-uniform deviations

# %%
cnn_table, cnn_models, cnn_chosen, cnn_summary = sec.depth_study(cfg, "cnn")
cnn_table.round(4)

# %%
report.figure(sec.plot_error_vs_p(cnn_summary, "CNN-L-C-P-F-max, conditionally uniform"), "figure2",
              "Error rate of the best CNN models per depth L against p (conditionally uniform deviations, "
              "95% bands). Look for deeper CNNs degrading more slowly.")

# %%
sec.depth_effect(cnn_summary)

# %% [markdown]
# ## How much the fixed-point range matters
# The best model per depth, deviations drawn on `value_range` (solid) and on
# the wider `alt_range` (dashed). After a clipped ReLU a draw above 1 reads 1
# and a negative one reads 0, so a wider range mostly turns deviations into
# saturated activations; on the output logits (no activation) it allows larger
# jumps.

# %%
alt_mlp, alt_cnn = sec.alt_range_summary(cfg, "mlp"), sec.alt_range_summary(cfg, "cnn")
report.figure(sec.plot_ranges(cfg, "mlp", mlp_summary, alt_mlp), "range_mlp",
              "Mean error (log scale) of the best MLP per depth against p for the two fixed-point ranges of the "
              "uniform draw. Look at how far the dashed lines sit above the solid ones.")
report.figure(sec.plot_ranges(cfg, "cnn", cnn_summary, alt_cnn), "range_cnn",
              "The same for the best CNN per depth.")

# %% [markdown]
# ## The hyperparameter claims
# Reference models `ref_mlp` and `ref_cnn` from the grid, retrained with tanh
# and (CNN) without pooling; error at $p = 0$ and at the largest $p$ under
# conditionally-uniform deviations. "After the activation" hooks the outputs
# of the activation modules (and, as before, the logits).

# %%
comp = sec.hyperparameter_comparisons(cfg, sec.comparison_models(cfg, mlp_models, cnn_models))
comp.round(4)

# %% [markdown]
# ## Verdicts

# %%
sec.compare(report, mlp_summary, cnn_summary, comp)
report.table()

# %%
report.save()
report.summary()
