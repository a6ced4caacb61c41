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
# # Four bounds on the crash error: which ones are useful? (continuous_limit, supplement Figs 5-6)
#
# The supplement compares four ways to predict the error $\Delta$ caused by
# Bernoulli neuron crashes:
# **b1**, the spectral bound of Proposition 2 ($\prod_l \|W_l\|_2$);
# **b2**, the absolute-value bound of Additional Proposition 2 ($p|W_L|\cdots|W_1||x|$);
# **b3**, Theorem 1's first-order terms; and **b4**, the exact effect of every
# single-neuron crash. It judges them by the *rank loss* (fraction of pairs of
# cases ordered differently from the experiment; 0.5 = no information) and the
# relative error, on sigmoid networks trained on Boston Housing and on random
# ReLU networks, varying the input on one network or the network at one input.
# The paper finds that only b3 and b4 are meaningful and that b4 is always better than b3.
# We also measure how loose b1 becomes with depth (Proposition 2: "loose,
# exponential in depth").

# %% tags=["parameters"]
profile: str = "quick"  # smoke | quick | paper: which settings to use for every parameter left at None
seed: int = 0  # random seed of initialisations, inputs and crashes
p: "Optional[float]" = None  # crash probability at the input and every hidden layer (0.01)
draws: "Optional[int]" = None  # Monte Carlo crash sets per input (quick: 20000)
n_inputs: "Optional[int]" = None  # inputs on the fixed network (quick: 30 Boston test rows)
n_networks: "Optional[int]" = None  # networks from different initialisations (quick: 8)
boston_hidden: "Optional[list]" = None  # hidden widths of the Boston sigmoid networks ([25, 25], N about 50)
boston_epochs: "Optional[int]" = None  # Boston training epochs (quick: 100)
lr: "Optional[float]" = None  # Adam learning rate for Boston (1e-2)
random_hidden: "Optional[list]" = None  # hidden widths of the random ReLU networks ([10, 10], N about 20)

# %%
from ftlib import sections

cfg = sections.validate_notebook("continuous_limit/bounds", globals())

# %%
from ftlib.experiments import continuous_limit as cl
from ftlib.report import Report, use_style

use_style()
report = Report("continuous_limit/bounds", cfg)
report.banner()

# %% [markdown]
# ## The four bounds against the experiment
# Boston networks: 13 → 25 → 25 → 1, sigmoid(4x), trained with MSE on the
# linear output from `n_networks` initialisations (cached). Crashes at the input
# and both hidden layers. b1 and b2 bound magnitudes, so all four are compared
# on $|E\Delta|$ and on the standard deviation of $\Delta$.

# %%
df = cl.bounds_comparison(cfg)
df.pivot_table(index=["networks", "varying", "quantity"], columns="bound", values=["rank_loss", "rel_error"]).round(3)

# %%
fig = cl.plot_bounds(df)
report.figure(fig, "bounds", "Rank loss (left; dashed: 0.5 = no information) and median relative error "
              "(right, log scale; dashed: 100 %) of b1-b4 for |E Δ| (top) and std Δ (bottom); Boston-trained "
              "sigmoid and random ReLU networks, varying the input or the network (cf. supplement Figs 5, 6).")

# %% [markdown]
# ## Proposition 2 is loose, increasingly with depth
# Ratio of b1's bound on $E\|\Delta\|_2^2$ to the Monte Carlo value, for random
# ReLU networks (width 20) with input crashes, by number of hidden layers.

# %%
depth = cl.spectral_vs_depth(cfg)
depth

# %% [markdown]
# ## Verdict

# %%
import numpy as np

useful = df[df.bound.isin(["b3", "b4"])]
useless = df[df.bound.isin(["b1", "b2"])]
report.qualitative("CL-B", "b3 and b4 are meaningful: relative error < 100 % in every panel",
                   "only b3, b4 meaningful", f"b3/b4 worst median relative error {100 * useful.rel_error.max():.0f} %",
                   bool(useful.rel_error.max() < 1.0))
report.qualitative("CL-B", "b1 and b2 are not: relative error > 100 % in every panel",
                   "b1, b2 not meaningful", f"b1/b2 best median relative error {100 * useless.rel_error.min():.0f} %",
                   bool(useless.rel_error.min() > 1.0))
piv = df.pivot_table(index=["networks", "varying", "quantity"], columns="bound", values="rel_error")
wins = int((piv.b4 <= piv.b3).sum())
report.qualitative("CL-B", "b4 is always at least as good as b3 (relative error)", "b4 ≥ b3 always",
                   f"b4 ≤ b3 in {wins} of {len(piv)} panels", wins == len(piv), headline=False,
                   rule="detail: point estimates without the Monte Carlo noise")
rk = df.pivot_table(index=["networks", "varying", "quantity"], columns="bound", values="rank_loss")
report.qualitative("CL-B", "b3 and b4 order cases better than b1 and b2 (mean rank loss)", "yes",
                   f"rank loss b1 {rk.b1.mean():.2f}, b2 {rk.b2.mean():.2f}, b3 {rk.b3.mean():.2f}, b4 {rk.b4.mean():.2f}",
                   bool(max(rk.b3.mean(), rk.b4.mean()) < min(rk.b1.mean(), rk.b2.mean())))
slope = float(np.polyfit(depth.hidden_layers, np.log10(depth.b1_over_experiment), 1)[0])
report.qualitative("CL-P2", "the spectral bound is loose and its looseness grows exponentially with depth",
                   "loose, exponential in depth", f"b1 / experiment from {depth.b1_over_experiment.iloc[0]:.3g} "
                   f"(1 hidden layer) to {depth.b1_over_experiment.iloc[-1]:.3g} (5); ×{10 ** slope:.1f} per layer",
                   bool(depth.b1_over_experiment.min() > 1 and slope > 0.3))
report.table()

# %%
report.save()
report.summary()
