"""continuous_limit experiments, part 1: every bound of :mod:`ftlib.theory` against Monte Carlo.

Networks are those of :mod:`ftlib.models.continuous_limit` (Definition 1,
the original code's sigmoid(4x)/ReLU, init and MSE-on-linear-output training).
Crashes are the fault engine's Bernoulli crashes, transient (a fresh crash set
per input and draw), no rescaling. Choices where the paper is silent (shown in
the book): Adam, batch 64 (Boston) / 128 (MNIST), Boston inputs standardised
with the training split's mean and std, raw MEDV targets; inputs of random
networks N(0, 1); crash probability and crashing layers per profile.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import torch

from .. import theory
from ..data import load
from ..models import build
from ..params import Param, Settings
from ..params import Section
from ..store import Store
from ..training import TrainConfig, train

# ----------------------------------------------------------------------------- networks


def boston_standardization() -> tuple[list[float], list[float]]:
    """Mean and std (ddof 0) of each Boston feature on the fixed training split."""
    x = load("boston", "train").x.double()
    return [round(float(v), 6) for v in x.mean(0)], [round(float(v), 6) for v in x.std(0, unbiased=False)]


def boston_config(s: Settings, seed: int, epochs: int | None = None) -> TrainConfig:
    shift, scale = boston_standardization()
    return TrainConfig(arch="cl_mlp", dataset="boston", epochs=epochs or s.boston_epochs, batch_size=64, lr=s.lr,
                       loss="mse", output="linear", seed=seed,
                       arch_kwargs={"widths": [13, *s.boston_hidden, 1], "activation": "sigmoid",
                                    "shift": shift, "scale": scale})


def boston_networks(s: Settings, store: Store | None = None):
    """``s.n_networks`` sigmoid networks trained on Boston from different initialisations (seeds)."""
    return [train(boston_config(s, s.seed + k), store) for k in range(s.n_networks)]


def boston_inputs(n: int, seed: int) -> torch.Tensor:
    return load("boston", "test").subset(n, seed=seed).x


def random_network(widths, activation: str, seed: int):
    torch.manual_seed(seed)
    return build("cl_mlp", widths=list(widths), activation=activation).eval()


def mnist_config(s: Settings, width: int) -> TrainConfig:
    return TrainConfig(arch="cl_mlp", dataset="mnist", epochs=s.mnist_epochs, batch_size=128, lr=1e-3,
                       n_train=s.n_train, loss="mse", output="linear", seed=s.seed,
                       arch_kwargs={"widths": [784, width, 10], "activation": "sigmoid", "flatten": True})


# ----------------------------------------------------------------------------- CL-T1, CL-SUP


def theorem1_table(s: Settings) -> pd.DataFrame:
    """b3 and b4 against Monte Carlo on random sigmoid networks of growing width.

    Per network: the median over inputs and output units of the relative error of
    E Δ and Var Δ, and of Monte Carlo's own 95 % half-width (its noise level).
    """
    rows = []
    gen = torch.Generator().manual_seed(s.seed)
    for k, widths in enumerate(s.t1_widths):
        widths = list(widths)
        net = random_network(widths, "sigmoid", s.seed + k)
        x = torch.randn(s.n_inputs, widths[0], generator=gen)
        import time

        t0 = time.perf_counter()
        b3 = theory.first_order(net, x, s.p)
        t_b3 = time.perf_counter() - t0
        t0 = time.perf_counter()
        b4 = theory.single_crash(net, x, s.p)
        t_b4 = time.perf_counter() - t0
        mc = theory.monte_carlo(net, x, s.p, draws=s.draws, seed=s.seed + 100 + k)
        row = {"widths": "-".join(map(str, widths)), "hidden_neurons": sum(widths[1:-1])}
        for name, m in (("b3", b3), ("b4", b4)):
            row[f"{name}_mean_relerr"] = float(np.median(theory.relative_error(m.mean, mc.mean)))
            row[f"{name}_var_relerr"] = float(np.median(theory.relative_error(m.var, mc.var)))
        row["mc_mean_ci_rel"] = float(torch.median(mc.mean_ci / mc.mean.abs()))
        row["mc_var_ci_rel"] = float(torch.median(mc.var_ci / mc.var))
        row.update(b3_seconds=t_b3, b4_seconds=t_b4, mc_seconds=mc.seconds, draws=s.draws)
        rows.append(row)
    return pd.DataFrame(rows)


def superposition(s: Settings) -> pd.DataFrame:
    """Supplement Fig 11: relative error ‖Δ_{a∪b} − Δ_a − Δ_b‖ / ‖Δ_{a∪b}‖ of the Monte Carlo mean and variance
    for ``s.sup_pairs`` random pairs of disjoint non-empty subsets of the crashing layers of a random network
    with L = 4 layers (crash points: the input and the three hidden layers). One input, ``5 · s.draws`` draws
    per subset (the relative error of a sum is noisier than its parts)."""
    widths = list(s.sup_widths)
    net = random_network(widths, "sigmoid", s.seed + 50)
    x = torch.randn(1, widths[0], generator=torch.Generator().manual_seed(s.seed + 51))
    points = theory.crash_layers(net, include_input=True)
    pairs = []
    for a_size in range(1, len(points)):
        for a in itertools.combinations(points, a_size):
            rest = [q for q in points if q not in a]
            for b_size in range(1, len(rest) + 1):
                for b in itertools.combinations(rest, b_size):
                    if a < b:
                        pairs.append((a, b))
    rng = np.random.default_rng(s.seed)
    chosen = [pairs[i] for i in rng.choice(len(pairs), size=min(s.sup_pairs, len(pairs)), replace=False)]
    cache: dict[tuple, theory.MonteCarlo] = {}

    def mc(subset):
        key = tuple(sorted(subset, key=points.index))
        if key not in cache:
            cache[key] = theory.monte_carlo(net, x, s.p, layers=list(key), draws=5 * s.draws,
                                            seed=s.seed + 1000 + len(cache))
        return cache[key]

    rows = []
    for a, b in chosen:
        ab, ma, mb = mc(a + b), mc(a), mc(b)
        rows.append({"a": "+".join(a), "b": "+".join(b),
                     "mean_relerr": float((ab.mean - ma.mean - mb.mean).norm() / ab.mean.norm()),
                     "var_relerr": float((ab.var - ma.var - mb.var).norm() / ab.var.norm()),
                     "mc_mean_noise": float((ab.mean_ci ** 2 + ma.mean_ci ** 2 + mb.mean_ci ** 2).sqrt().norm()
                                            / 1.96 / ab.mean.norm()),
                     "mc_var_noise": float((ab.var_ci ** 2 + ma.var_ci ** 2 + mb.var_ci ** 2).sqrt().norm()
                                           / 1.96 / ab.var.norm())})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- CL-B, CL-P2

BOUNDS = {"b1": theory.spectral, "b2": theory.absolute, "b3": theory.first_order, "b4": theory.single_crash}


def _panel(pred: dict, truth: theory.MonteCarlo, draws: int | None = None) -> list[dict]:
    """Rank loss and median relative error of |E Δ| and std Δ, per bound (scalar-output networks), and
    ``mc_rel_se``: the Monte Carlo relative standard error of the truth over ``draws`` crash sets (median over
    the cases; |E Δ|: std/(√draws·|E Δ|), std Δ: 1/√(2(draws − 1)), the normal approximation)."""
    rows = []
    t_mean, t_std = truth.mean.abs().flatten().numpy(), truth.std.flatten().numpy()
    if draws:
        with np.errstate(divide="ignore", invalid="ignore"):
            se_mean = float(np.median(t_std / math.sqrt(draws) / t_mean))
        se_std = 1.0 / math.sqrt(2 * max(draws - 1, 1))
    else:
        se_mean = se_std = float("nan")
    for name, m in pred.items():
        p_mean, p_std = m.mean.abs().flatten().numpy(), m.std.flatten().numpy()
        rows.append({"bound": name, "quantity": "mean", "rank_loss": theory.rank_loss(p_mean, t_mean),
                     "rel_error": float(np.median(theory.relative_error(p_mean, t_mean))), "mc_rel_se": se_mean})
        rows.append({"bound": name, "quantity": "std", "rank_loss": theory.rank_loss(p_std, t_std),
                     "rel_error": float(np.median(theory.relative_error(p_std, t_std))), "mc_rel_se": se_std})
    return rows


def _bounds(net, x, p, layers):
    return {name: fn(net, x, p, layers=layers) for name, fn in BOUNDS.items()}


def _stack(ms: list) -> theory.Moments:
    return theory.Moments(torch.cat([m.mean for m in ms]), torch.cat([m.var for m in ms]))


def bounds_comparison(s: Settings, store: Store | None = None) -> pd.DataFrame:
    """Supplement Figs 5 and 6: b1–b4 against Monte Carlo, on Boston-trained sigmoid networks and on random
    ReLU networks; 'inputs' = many inputs on one network, 'networks' = one input on many networks."""
    rows = []
    layers_b = ["input", *[f"act{i + 1}" for i in range(len(s.boston_hidden))]]
    nets = [t.model for t in boston_networks(s, store)]
    x = boston_inputs(s.n_inputs, s.seed)
    setups = [("Boston sigmoid", "inputs", [nets[0]], x, layers_b),
              ("Boston sigmoid", "networks", nets, x[:1], layers_b)]
    rw = [10, *s.random_hidden, 1]
    layers_r = ["input", *[f"act{i + 1}" for i in range(len(s.random_hidden))]]
    rnets = [random_network(rw, "relu", s.seed + 200 + k) for k in range(s.n_networks)]
    xr = torch.randn(s.n_inputs, 10, generator=torch.Generator().manual_seed(s.seed + 7))
    setups += [("random ReLU", "inputs", rnets[:1], xr, layers_r), ("random ReLU", "networks", rnets, xr[:1], layers_r)]
    for family, vary, ns, xs, layers in setups:
        preds = {name: [] for name in BOUNDS}
        truths = []
        for k, net in enumerate(ns):
            for name, m in _bounds(net, xs, s.p, layers).items():
                preds[name].append(m)
            truths.append(theory.monte_carlo(net, xs, s.p, layers=layers, draws=s.draws, seed=s.seed + 300 + k))
        truth = theory.MonteCarlo(torch.cat([t.mean for t in truths]), torch.cat([t.var for t in truths]))
        for r in _panel({n: _stack(v) for n, v in preds.items()}, truth, s.draws):
            rows.append({"networks": family, "varying": vary, **r})
    return pd.DataFrame(rows)


def spectral_vs_depth(s: Settings) -> pd.DataFrame:
    """Proposition 2's looseness: b1's bound on E‖Δ‖₂² over Monte Carlo's, random ReLU nets of growing depth
    (input crashes only)."""
    rows = []
    x = torch.randn(s.n_inputs, 10, generator=torch.Generator().manual_seed(s.seed + 9))
    for depth in range(1, 6):
        ratios = []
        for k in range(3):
            net = random_network([10] + [20] * depth + [1], "relu", s.seed + 400 + 10 * depth + k)
            b1 = theory.spectral(net, x, s.p, layers=["input"])
            mc = theory.monte_carlo(net, x, s.p, layers=["input"], draws=s.draws // 2, seed=s.seed + 500 + depth)
            ratios.append(float((b1.var[:, 0] / (mc.var + mc.mean ** 2).sum(1)).median()))
        rows.append({"hidden_layers": depth, "b1_over_experiment": float(np.median(ratios))})
    return pd.DataFrame(rows)


def p_relative_error(df: pd.DataFrame, below: bool) -> float:
    """CL-B's "meaningful" tests: the intersection-union p-value that every panel's median relative error in
    ``df`` is below 1 (``below``; above 1 otherwise), one-sided z tests with the Monte Carlo standard error of
    the relative error, (1 + rel_error)·``mc_rel_se`` (the truth's relative error carried into the ratio)."""
    from scipy import stats

    rel, se = df["rel_error"].to_numpy(float), (1 + df["rel_error"].to_numpy(float)) * df["mc_rel_se"].to_numpy(float)
    if not len(rel) or np.isnan(se).any():
        return float("nan")
    g = (1 - rel) if below else (rel - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(se > 0, stats.norm.sf(g / np.where(se > 0, se, 1)), np.where(g > 0, 0.0, 1.0))
    return float(p.max())


def rank_loss_gaps(df: pd.DataFrame) -> np.ndarray:
    """CL-B's ordering claim: rank loss (b1 or b2) − rank loss (b3 or b4) per panel, for the four pairs
    ``(4, panels)`` (the panels are the replicates of the paired test)."""
    rk = df.pivot_table(index=["networks", "varying", "quantity"], columns="bound", values="rank_loss")
    return np.stack([rk[lo] - rk[hi] for hi in ("b3", "b4") for lo in ("b1", "b2")]).astype(float)


def b4_b3_se(rel3, rel4, mc_rel_se):
    """Monte Carlo standard error of rel_error(b3) − rel_error(b4): both are measured against the same Monte
    Carlo truth, so its relative error ε moves them together and their difference by at most
    (rel3 + rel4)·ε."""
    return (np.asarray(rel3, dtype=float) + np.asarray(rel4, dtype=float)) * np.asarray(mc_rel_se, dtype=float)


def spectral_slope(depth: pd.DataFrame) -> tuple[float, float, int]:
    """CL-P2: least-squares slope of log10(b1 / experiment) on the number of hidden layers, its standard error
    and the degrees of freedom (:func:`scipy.stats.linregress`)."""
    from scipy import stats

    fit = stats.linregress(depth["hidden_layers"].to_numpy(float), np.log10(depth["b1_over_experiment"].to_numpy(float)))
    return float(fit.slope), float(fit.stderr), len(depth) - 2


def compare_bounds(report, df: pd.DataFrame, depth: pd.DataFrame) -> None:
    """CL-B and CL-P2 by their declared claims (:mod:`ftlib.claims`): b3/b4 below and b1/b2 above 100 %
    relative error in every panel with the Monte Carlo noise, b3/b4 ordering better than b1/b2 (paired over the
    panels), b4 at least as accurate as b3 (detail), and Proposition 2's looseness growing with depth."""
    from scipy import stats

    from .. import claims

    useful, useless = df[df.bound.isin(["b3", "b4"])], df[df.bound.isin(["b1", "b2"])]
    report.check("CL-B:b3_b4_meaningful", "only b3, b4 meaningful",
                 f"b3/b4 worst median relative error {100 * useful.rel_error.max():.0f} %",
                 p_value=p_relative_error(useful, True), summary=f"worst of {len(useful)} panel errors "
                 f"{100 * useful.rel_error.max():.0f} % < 100 % (Monte Carlo noise)")
    report.check("CL-B:b1_b2_not", "b1, b2 not meaningful",
                 f"b1/b2 best median relative error {100 * useless.rel_error.min():.0f} %",
                 p_value=p_relative_error(useless, False), summary=f"best of {len(useless)} panel errors "
                 f"{100 * useless.rel_error.min():.0f} % > 100 %")
    gaps = rank_loss_gaps(df)
    rk = df.groupby("bound")["rank_loss"].mean()
    report.check("CL-B:b3_b4_order_better", "yes", ", ".join(f"rank loss {b} {rk[b]:.2f}" for b in BOUNDS),
                 diff=gaps)
    piv = df.pivot_table(index=["networks", "varying", "quantity"], columns="bound", values=["rel_error", "mc_rel_se"])
    margin = claims.get("CL-B:b4_not_worse").tolerance
    d = piv["rel_error"]["b3"] - piv["rel_error"]["b4"] + margin
    se = b4_b3_se(piv["rel_error"]["b3"], piv["rel_error"]["b4"], piv["mc_rel_se"]["b3"])
    p = float(np.max(stats.norm.sf(d / se))) if len(d) and (se > 0).all() else float("nan")
    wins = int((piv["rel_error"]["b4"] <= piv["rel_error"]["b3"]).sum())
    report.check("CL-B:b4_not_worse", "b4 ≥ b3 always", f"b4 ≤ b3 in {wins} of {len(piv)} panels", p_value=p,
                 summary=f"b4's relative error within {margin:g} of b3's or better in every panel")
    slope, se_s, dof = spectral_slope(depth)
    p = float(stats.t.sf(slope / se_s, dof)) if se_s > 0 else (0.0 if slope > 0 else 1.0)
    report.check("CL-P2:grows_with_depth", "loose, exponential in depth",
                 f"b1 / experiment from {depth.b1_over_experiment.iloc[0]:.3g} (1 hidden layer) to "
                 f"{depth.b1_over_experiment.iloc[-1]:.3g} ({int(depth.hidden_layers.iloc[-1])}); ×{10 ** slope:.1f} per layer",
                 p_value=p, summary=f"slope of log10(b1 / experiment) {slope:+.3f} ± {se_s:.2g} per layer ({dof} d.o.f.)")
    report.check("CL-P2:loose", "loose", f"smallest b1 / experiment {depth.b1_over_experiment.min():.3g}")


def plot_bounds(df: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(8, 5.2))
    for col, metric in enumerate(("rank_loss", "rel_error")):
        for row, q in enumerate(("mean", "std")):
            ax = axes[row, col]
            d = df[df.quantity == q]
            labels = [f"{f.split()[0]}\n{v}" for f, v in d[["networks", "varying"]].drop_duplicates().values]
            for j, b in enumerate(BOUNDS):
                vals = d[d.bound == b][metric].to_numpy()
                ax.bar(np.arange(len(vals)) + 0.2 * (j - 1.5), vals, width=0.2, label=b)
            ax.set_xticks(range(len(labels)), labels, fontsize=7)
            if metric == "rel_error":
                ax.set_yscale("log")
                ax.axhline(1.0, color="grey", lw=0.7, ls="--")
            else:
                ax.axhline(0.5, color="grey", lw=0.7, ls="--")
            ax.set_title(f"{'rank loss' if metric == 'rank_loss' else 'median relative error'}: "
                         f"{'|E Δ|' if q == 'mean' else 'std Δ'}", fontsize=8)
    axes[0, 0].legend(fontsize=7, ncol=4)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- CL-F2


def width_sweep(s: Settings, store: Store | None = None) -> pd.DataFrame:
    """Var Δ (crashes in the hidden layer, probability p) against the hidden width n of MNIST-trained
    784-n-10 sigmoid networks: b3 averaged over test inputs and output units, and Monte Carlo on a few inputs."""
    test = load("mnist", "test").subset(s.n_test, seed=s.seed)
    x = test.x
    rows = []
    for n in s.widths:
        t = train(mnist_config(s, n), store)
        net = t.model
        b3 = theory.first_order(net, x, s.p, layers=["act1"])
        mc = theory.monte_carlo(net, x[:s.n_inputs], s.p, layers=["act1"], draws=s.draws, seed=s.seed + n)
        with torch.no_grad():
            acc = float((net(x).argmax(1) == test.y).double().mean())
        rows.append({"width": n, "var_b3": float(b3.var.mean()), "var_b3_same_inputs": float(b3.var[:s.n_inputs].mean()),
                     "var_mc": float(mc.var.mean()), "var_mc_ci": float(mc.var_ci.mean()),
                     "mean_b3": float(b3.mean.mean()), "test_acc": acc,
                     "out_weight_l1": float(net.fc2.weight.detach().abs().sum(0).mean())})
    return pd.DataFrame(rows)


def plot_width(df: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    ax.loglog(df.width, df.var_b3, "o-", label=f"b3 (slope {theory.loglog_slope(df.width, df.var_b3):.2f})")
    ax.errorbar(df.width, df.var_mc, yerr=df.var_mc_ci, fmt="s", label=f"Monte Carlo (slope "
                f"{theory.loglog_slope(df.width, df.var_mc):.2f})")
    ref = df.var_b3.iloc[0] * df.width.iloc[0] / df.width
    ax.loglog(df.width, ref, "--", color="grey", label="slope −1 (paper)")
    ax.set_xlabel("hidden width n")
    ax.set_ylabel("Var Δ")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- CL-P3, CL-P5, CL-MT


def kl_table(s: Settings, store: Store | None = None) -> pd.DataFrame:
    """Proposition 3 on the first layer of the widest MNIST network: bound vs frequency of ‖U‖₁ ≥ α‖W‖₁."""
    n = max(s.widths)
    net = train(mnist_config(s, n), store).model
    w = theory.incoming_weight_mass(net.fc1.weight)
    q = theory.balance(w)
    frac = theory.crash_probability_draws(w, s.p, draws=s.draws * 10, seed=s.seed)
    rows = []
    for mult in (1.5, 2.0, 3.0, 4.0):
        alpha = mult * s.p
        rows.append({"alpha": alpha, "n": n, "q": q, "empirical": float((frac >= alpha).double().mean()),
                     "bound": theory.kl_tail_bound(n, q, alpha, s.p),
                     "bound_q1": theory.kl_tail_bound(n, 1.0, alpha, s.p)})
    return pd.DataFrame(rows)


def tail_samples(s: Settings, store: Store | None = None):
    """Δ samples of the first Boston network at one test input (crashes at the input and hidden layers)."""
    net = boston_networks(s, store)[0].model
    x = boston_inputs(1, s.seed + 3)
    layers = ["input", *[f"act{i + 1}" for i in range(len(s.boston_hidden))]]
    mc = theory.monte_carlo(net, x, s.p_tail, layers=layers, draws=s.draws * 10, seed=s.seed + 5, keep_samples=True)
    b3 = theory.first_order(net, x, s.p_tail, layers=layers)
    return mc, b3


def chebyshev_table(mc, b3) -> pd.DataFrame:
    d = mc.samples[:, 0, 0].double()
    sd = math.sqrt(mc.var.item())
    rows = []
    for k in (1.0, 1.5, 2.0, 3.0, 4.0, 6.0):
        eps = mc.mean.item() + k * sd
        rows.append({"eps": eps, "t_in_sd": k, "empirical": float((d >= eps).double().mean()),
                     "chebyshev_b3": theory.chebyshev_delta(eps, b3.mean.item(), b3.var.item()),
                     "chebyshev_mc": theory.chebyshev_delta(eps, mc.mean.item(), mc.var.item())})
    return pd.DataFrame(rows)


def median_table(mc, s: Settings) -> pd.DataFrame:
    """Median vs mean of R copies: failure = |Δ| ≥ ε, ε chosen so that one copy fails w.p. ≈ 0.2 (< 1/3)."""
    d = mc.samples[:, 0, 0].double()
    eps = float(d.abs().quantile(0.8))
    delta1 = float((d.abs() >= eps).double().mean())
    rows = []
    for R in (1, 3, 5, 7, 9, 15, 21):
        med = theory.median_of(d, R, trials=s.draws * 4, seed=s.seed)
        mean = theory.median_of(d, R, trials=s.draws * 4, seed=s.seed, aggregate="mean")
        b = theory.median_bound(delta1, R)
        rows.append({"R": R, "eps": eps, "delta1": delta1, "median_fail": float((med.abs() >= eps).double().mean()),
                     "mean_fail": float((mean.abs() >= eps).double().mean()), "binomial_bound": b["exact"],
                     "chernoff_bound": b["chernoff"]})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- CL-AP9


def training_decay(s: Settings, store: Store | None = None) -> pd.DataFrame:
    """Supplement Fig 12: along one Boston training run, the loss, ‖∇_W L‖, and the mean loss change
    E_x E_ξ Δ_{L+1} under crashes: Monte Carlo, b3, b4 and AP9's −p⟨∇_W L, W⟩."""
    x_all = load("boston", "train").subset(s.n_inputs, seed=s.seed)
    x, y = x_all.x, x_all.y
    layers = ["input", *[f"act{i + 1}" for i in range(len(s.boston_hidden))]]
    B = x.shape[0]

    def loss_rows(out):  # rows in draw-major order (k·B, 1)
        return (out.reshape(-1) - y.repeat(out.shape[0] // B)).pow(2).unsqueeze(1)

    rows = []
    for e in s.ap9_epochs:
        net = train(boston_config(s, s.seed, epochs=e), store).model
        with torch.no_grad():
            loss = float((net(x).reshape(-1) - y).pow(2).mean())
        params = [m.weight for m in net.modules() if isinstance(m, torch.nn.Linear)]
        g = torch.autograd.grad((net(x).reshape(-1) - y).pow(2).mean(), params)
        gnorm = float(torch.sqrt(sum(gi.pow(2).sum() for gi in g)))
        mc = theory.monte_carlo(net, x, s.p, layers=layers, draws=s.draws, seed=s.seed + e, output=loss_rows)
        b3 = theory.first_order(net, x, s.p, layers=layers, output=loss_rows)
        b4 = theory.single_crash(net, x, s.p, layers=layers, output=loss_rows)
        ap9 = theory.loss_gradient_mean(net, x, y, s.p, lambda o, t: (o.reshape(-1) - t).pow(2), layers=layers)
        rows.append({"epoch": e, "loss": loss, "grad_norm": gnorm, "mc": float(mc.mean.mean()),
                     "mc_ci": float(mc.mean_ci.pow(2).sum().sqrt() / B), "b3": float(b3.mean.mean()),
                     "b4": float(b4.mean.mean()), "ap9": float(ap9.mean())})
    return pd.DataFrame(rows)


def plot_decay(df: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.semilogx(df.epoch, df.loss, color="C0", label="loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (MSE)", color="C0")
    ax2 = ax.twinx()
    ax2.errorbar(df.epoch, df.mc, yerr=df.mc_ci, fmt="o", color="C3", label="experiment")
    ax2.plot(df.epoch, df.b3, "-", color="C1", label="b3")
    ax2.plot(df.epoch, df.b4, "--", color="C5", label="b4")
    ax2.plot(df.epoch, df.ap9, ":", color="k", label="AP9")
    ax2.set_ylabel("E Δ of the loss")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- sections

_COMMON = (Param("p", float, "crash probability of every crashing layer", low=1e-6, high=0.5),
           Param("draws", int, "Monte Carlo crash sets per input", low=10, high=10_000_000),
           Param("n_inputs", int, "inputs evaluated", low=2, high=10_000))
_BOSTON = (Param("n_networks", int, "networks (different initialisations)", low=2, high=1000),
           Param("boston_hidden", list, "hidden widths of the Boston networks", item=int, low=1, high=10_000),
           Param("boston_epochs", int, "Boston training epochs", low=1, high=100_000),
           Param("lr", float, "Adam learning rate for Boston", low=1e-6, high=1.0))
_MNIST = (Param("widths", list, "hidden widths n of the MNIST networks", item=int, low=2, high=100_000),
          Param("mnist_epochs", int, "MNIST training epochs", low=1, high=1000),
          Param("n_train", int, "MNIST training images (0 = all)", low=0, high=60_000),
          Param("n_test", int, "MNIST test images for b3", low=10, high=10_000))

SECTIONS = [
    Section(
        key="continuous_limit/theorem1",
        title="continuous_limit, Theorem 1: first-order mean and variance vs Monte Carlo, and superposition",
        ids=("CL-T1", "CL-SUP"),
        params=_COMMON + (
            Param("t1_widths", list, "layer widths of each random network", item=list, inner=int, low=1,
                  high=100_000),
            Param("sup_widths", list, "layer widths of the superposition network (4 layers)", item=int, low=1,
                  high=100_000),
            Param("sup_pairs", int, "pairs of disjoint layer subsets", low=1, high=1000),
        ),
        profiles={
            "smoke": dict(p=0.01, draws=200, n_inputs=4, t1_widths=[[10, 10, 10, 1], [20, 50, 50, 1]],
                          sup_widths=[10, 10, 10, 10, 1], sup_pairs=5),
            "quick": dict(p=0.01, draws=20_000, n_inputs=20,
                          t1_widths=[[10, 10, 10, 1], [20, 50, 50, 1], [100, 200, 200, 3], [784, 2000, 100, 10]],
                          sup_widths=[20, 30, 30, 30, 1], sup_pairs=25),
            "paper": dict(p=0.01, draws=200_000, n_inputs=100,
                          t1_widths=[[10, 10, 10, 1], [20, 50, 50, 1], [100, 200, 200, 3], [784, 2000, 100, 10]],
                          sup_widths=[20, 30, 30, 30, 1], sup_pairs=25),
        },
    ),
    Section(
        key="continuous_limit/bounds",
        title="continuous_limit, supplement Sec. 7.1-7.2: the bounds b1-b4 on Boston-trained and random networks",
        ids=("CL-B", "CL-P2"),
        params=_COMMON + _BOSTON + (
            Param("random_hidden", list, "hidden widths of the random ReLU networks", item=int, low=1, high=10_000),
        ),
        profiles={
            "smoke": dict(p=0.01, draws=200, n_inputs=5, n_networks=3, boston_hidden=[25, 25], boston_epochs=2,
                          lr=1e-2, random_hidden=[10, 10]),
            "quick": dict(p=0.01, draws=20_000, n_inputs=30, n_networks=8, boston_hidden=[25, 25],
                          boston_epochs=100, lr=1e-2, random_hidden=[10, 10]),
            "paper": dict(p=0.01, draws=200_000, n_inputs=101, n_networks=30, boston_hidden=[25, 25],
                          boston_epochs=500, lr=1e-2, random_hidden=[10, 10]),
        },
    ),
    Section(
        key="continuous_limit/width",
        title="continuous_limit, Fig 2: the variance of the error against the layer width",
        ids=("CL-F2",),
        params=_COMMON + _MNIST,
        profiles={
            "smoke": dict(p=0.01, draws=100, n_inputs=3, widths=[20, 40], mnist_epochs=1, n_train=500, n_test=50),
            "quick": dict(p=0.01, draws=5000, n_inputs=10, widths=[25, 50, 100, 200, 400, 800], mnist_epochs=3,
                          n_train=20_000, n_test=1000),
            "paper": dict(p=0.01, draws=50_000, n_inputs=100, widths=[25, 50, 100, 200, 400, 800, 1600],
                          mnist_epochs=20, n_train=0, n_test=10_000),
        },
    ),
    Section(
        key="continuous_limit/tails",
        title="continuous_limit, Propositions 3 and 5 and the median trick against empirical frequencies",
        ids=("CL-P3", "CL-P5", "CL-MT"),
        params=_COMMON + _BOSTON + _MNIST + (
            Param("p_tail", float, "crash probability for the Chebyshev and median experiments", low=1e-6, high=0.5),
        ),
        profiles={
            "smoke": dict(p=0.01, p_tail=0.05, draws=200, n_inputs=3, n_networks=2, boston_hidden=[25, 25],
                          boston_epochs=2, lr=1e-2, widths=[20, 40], mnist_epochs=1, n_train=500, n_test=50),
            "quick": dict(p=0.01, p_tail=0.05, draws=5000, n_inputs=10, n_networks=8, boston_hidden=[25, 25],
                          boston_epochs=100, lr=1e-2, widths=[25, 50, 100, 200, 400, 800], mnist_epochs=3,
                          n_train=20_000, n_test=1000),
            "paper": dict(p=0.01, p_tail=0.05, draws=50_000, n_inputs=100, n_networks=30, boston_hidden=[25, 25],
                          boston_epochs=500, lr=1e-2, widths=[25, 50, 100, 200, 400, 800, 1600], mnist_epochs=20,
                          n_train=0, n_test=10_000),
        },
    ),
    Section(
        key="continuous_limit/training_decay",
        title="continuous_limit, Additional Proposition 9: the mean error decays with the loss gradient",
        ids=("CL-AP9",),
        params=_COMMON + _BOSTON + (
            Param("ap9_epochs", list, "epochs at which the training run is examined", item=int, low=1, high=100_000),
        ),
        profiles={
            "smoke": dict(p=0.01, draws=100, n_inputs=20, n_networks=2, boston_hidden=[25, 25], boston_epochs=2,
                          lr=1e-2, ap9_epochs=[1, 2]),
            "quick": dict(p=0.01, draws=4000, n_inputs=405, n_networks=2, boston_hidden=[25, 25], boston_epochs=100,
                          lr=1e-2, ap9_epochs=[1, 3, 10, 30, 100]),
            "paper": dict(p=0.01, draws=40_000, n_inputs=405, n_networks=2, boston_hidden=[25, 25],
                          boston_epochs=500, lr=1e-2, ap9_epochs=[1, 3, 10, 30, 100, 300, 1000]),
        },
    ),
]
