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
from ftlib.experiments.continuous_limit import bounds as sec
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
df = sec.bounds_comparison(cfg)
sec.bounds_table(df).round(3)

# %%
fig = sec.plot_bounds(df)
report.figure(fig, "bounds", "Rank loss (left; dashed: 0.5 = no information) and median relative error "
              "(right, log scale; dashed: 100 %) of b1-b4 for |E Δ| (top) and std Δ (bottom); Boston-trained "
              "sigmoid and random ReLU networks, varying the input or the network (cf. supplement Figs 5, 6).")

# %% [markdown]
# ## Proposition 2 is loose, increasingly with depth
# Ratio of b1's bound on $E\|\Delta\|_2^2$ to the Monte Carlo value, for random
# ReLU networks (width 20) with input crashes, by number of hidden layers.

# %%
depth = sec.spectral_vs_depth(cfg)
depth

# %% [markdown]
# ## Verdict

# %%
sec.compare(report, df, depth)
report.table()

# %%
report.save()
report.summary()
