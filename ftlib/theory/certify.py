"""continuous_limit's Algorithm 1: train until an (ε, δ)-fault-tolerance certificate holds, then duplicate.

The loop (main text Algorithm 1, supplement Sec. 6.1), for crashes with probability ``p`` at one hidden
layer ``layer`` (the layer fed by the Linear module ``W_l``) of width n₁::

    while true:
        train a network with (n₁, λ, μ, ψ)                                  (Eq. 1 regularizers)
        q  = min_i W_l^i / max_i W_l^i                                        (Prop. 3's balancedness)
        if q < q_min:            μ ← μ·μ_factor; continue                     ("raise μ")
        δ₀ = exp(−n₁ q d_KL(α ‖ p)), α = e^{2.5}·p                           (Prop. 3)
        if δ₀ > δ₀_max:          n₁ ← n₁ + n_step; continue                   ("raise n₁")
        R3 = derivative part of smooth(W_l) (the original's criterion)         (continuity, Eq. 1's R3)
        if R3 ≥ C:               ψ ← ψ·ψ_factor; continue                     ("raise ψ"; C = 100)
        E Δ, Var Δ of the loss, per input, by Theorem 1 (b3)
        if mean E Δ ≥ ε:         output infeasible
        δ = mean_x min(1, Var Δ(x) / (ε − E Δ(x))²)                          (Prop. 5, averaged over inputs)
        if δ > 1/3:              n₁ ← n₁ + n_step, λ ← λ·λ_factor; continue
        R = ⌈2 log(1/δ_target) / log 3⌉                                        (median trick)
        output (R, n₁, λ, μ, ψ, δ) and the network

Δ is the change of the per-input loss (the mean squared error of the linear output against the one-hot
target over the output units — the original's Keras MSE) when the neurons of ``layer`` crash; ``x``/``y`` are the inputs on
which the certificate is computed (the paper: "works for a single input x but is easily extensible if
the expressions in Propositions are replaced with expectations over inputs" — we average the
per-input Chebyshev bounds, which bounds P_{x,ξ}{Δ ≥ ε} for x drawn from those inputs).

R3 (:func:`derivative_changes`) is what the original TheAlgorithm.ipynb tests (``r['derivative'] >= 100``
→ raise ψ): the derivative part of smooth(W₁) — Σ_ij |(D W)_ij| along the neuron axis, averaged over four
finite-difference stencils — in raw weight units, the paper's number of changes C_d = Σ_ij |W_{i+1,j} − W_ij|
(supplement Table 1) up to the stencils. It is grid-independent for a smooth profile (≈ ∫∫|∂_t w| with
W_ij ≈ w(t, s)/n_in) but grows ∝ n₁·|W| for neuron-to-neuron noise, so it is met only by networks whose
neighbouring neurons have nearly equal incoming weights. The paper's C = 100 is the original's threshold.

:func:`check_certificate` measures the frequency of loss increase ≥ ε for the componentwise median of R
independent copies (same weights, independent crashes) — the empirical test of the certificate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable

import pandas as pd
import torch
from torch import nn

from ..errors import ParameterError
from .bounds import first_order
from .montecarlo import monte_carlo
from .tails import balance, incoming_weight_mass, kl_tail_bound


def squared_error_rows(y: torch.Tensor, n_classes: int | None = None):
    """The per-input loss ‖f(x) − onehot(y)‖² / n_L (or with ``y`` for float targets) — the mean squared
    error over the n_L output units, Keras' ``mean_squared_error`` on which the original defines Δ
    (``get_mse_crash_data − get_mse_correct_data``) — as an ``output`` function for
    :func:`ftlib.theory.first_order` / :func:`ftlib.theory.monte_carlo`: it receives rows in draw-major
    order ``(k·B, n_L)`` and returns ``(k·B, 1)``."""
    B = y.shape[0]

    def loss_rows(out: torch.Tensor) -> torch.Tensor:
        k = out.shape[0] // B
        t = y.view(B, -1).to(out.dtype) if y.is_floating_point() else \
            nn.functional.one_hot(y, n_classes or out.shape[1]).to(out.dtype)
        return (out - t.repeat(k, 1)).pow(2).mean(1, keepdim=True)

    return loss_rows


def central_difference(acc: int) -> list[float]:
    """Central finite-difference coefficients of the first derivative with accuracy order ``acc`` (even),
    ``acc + 1`` taps (what ``findiff.coefficients(deriv=1, acc=acc)['center']`` returns); ``acc = 0`` gives
    the two-point ``[-1, 1]``."""
    if acc == 0:
        return [-1.0, 1.0]
    if acc % 2:
        raise ParameterError(f"central_difference: acc must be even, got {acc}")
    m = acc // 2
    c = [(-1) ** (k + 1) * math.factorial(m) ** 2 / (k * math.factorial(m - k) * math.factorial(m + k))
         for k in range(1, m + 1)]
    return [-v for v in reversed(c)] + [0.0] + c


DERIVATIVE_STENCILS = (0, 4, 10, 14)  # the original continuity.py: derkern(size) for size in [0, 2, 5, 7]


def derivative_changes(w: torch.Tensor) -> float:
    """R3, the continuity criterion of the original Algorithm 1 (TheAlgorithm.ipynb, ``continuity(exp)
    ['derivative']``, continuity.py's ``smoothness_scale_free``): for the weight ``(n_out, n_in)`` (rows =
    neurons), Σ_ij |(D W)_ij| of the finite-difference derivative D along the neuron axis (TensorFlow 'SAME'
    zero padding), averaged over the stencils of ``DERIVATIVE_STENCILS`` (0, 4, 10, 14: the original continuity.py's derkern sizes) (a stencil longer than n_out
    counts 0, as in the original). The two-point stencil gives the paper's number of changes
    C_d = Σ_ij |W_{i+1,j} − W_ij| (supplement Table 1) plus the border term Σ_j |W_{n,j}|. In raw weight
    units (W_ij ≈ w(t, s)/n_in): ≈ ∫∫|∂_t w| for a smooth profile, independent of n_out."""
    w = w.detach().double()
    n = w.shape[0]
    cols = w.t().unsqueeze(1)  # (n_in, 1, n_out)
    total = 0.0
    for acc in DERIVATIVE_STENCILS:
        k = torch.tensor(central_difference(acc), dtype=torch.float64)
        if n < k.numel():
            continue
        left = (k.numel() - 1) // 2
        padded = torch.nn.functional.pad(cols, (left, k.numel() - 1 - left))
        total += float(torch.nn.functional.conv1d(padded, k.view(1, 1, -1)).abs().sum())
    return total / len(DERIVATIVE_STENCILS)


def number_of_changes(w: torch.Tensor) -> float:
    """Σ_ij |W_{i+1,j} − W_ij| / Σ_j (max_i W_ij − min_i W_ij) for a weight ``(n_out, n_in)`` (rows = neurons):
    how many times the profiles swing over their full range (a scale-free diagnostic; *not* Algorithm 1's
    criterion, see :func:`derivative_changes`)."""
    w = w.detach().double()
    rng = (w.max(0).values - w.min(0).values).sum()
    return float(w.diff(dim=0).abs().sum() / rng.clamp_min(1e-300))


def repetitions(delta_target: float) -> int:
    """R = ⌈2 log(1/δ_target) / log 3⌉: with single-copy failure probability < 1/3 the median of R copies
    fails with probability ≤ (1/3)^{R/2} ≤ δ_target (the paper's form; the original notebook's unrounded
    value is 2·log(1/δ)/log 3)."""
    if not 0 < delta_target < 1:
        raise ParameterError(f"delta: expected a target failure probability in (0, 1), got {delta_target!r}")
    return max(1, math.ceil(2 * math.log(1 / delta_target) / math.log(3) - 1e-12))


def feeding_linear(model: nn.Module, layer: str) -> nn.Linear:
    """The Linear module whose outputs (after the activation) are the neurons of ``layer``."""
    last = None
    for name, m in model.named_modules():
        if isinstance(m, nn.Linear):
            last = m
        if name == layer:
            if last is None:
                raise ParameterError(f"layer {layer!r}: no Linear layer before it")
            return last
    raise ParameterError(f"layer {layer!r} is not a module of the model")


def loss_moments(model: nn.Module, x: torch.Tensor, y: torch.Tensor, p: float, layer: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Theorem 1 (b3) for the per-input loss change: E Δ and Var Δ, each ``(B,)`` (first order in p)."""
    m = first_order(model, x, p, layers=[layer], var_factor="p", output=squared_error_rows(y))
    return m.mean[:, 0], m.var[:, 0]


def chebyshev_mean(eps: float, mean: torch.Tensor, var: torch.Tensor) -> float:
    """mean_x min(1, Var Δ(x) / (ε − E Δ(x))²), with 1 where ε ≤ E Δ(x) (Proposition 5 per input, averaged)."""
    t = eps - mean.double()
    d = torch.where(t > 0, (var.double() / t.clamp_min(1e-300) ** 2).clamp(max=1.0), torch.ones_like(t))
    return float(d.mean())


@dataclass
class Certificate:
    """Algorithm 1's output: R copies of the network of width ``n1`` trained with (λ, μ, ψ) are
    (ε, δ_target)-fault tolerant on the inputs, given the single-copy Chebyshev bound ``delta`` < 1/3."""

    R: int
    n1: int
    lam: float
    mu: float
    psi: tuple
    delta: float
    delta_target: float
    eps: float
    p: float
    mean: float
    var: float
    feasible: bool
    iterations: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Certified:
    """The final network, its :class:`Certificate` and the trace (one row per iteration)."""

    model: nn.Module
    certificate: Certificate
    trace: pd.DataFrame


def _times(v: float, factor: float) -> float:
    """v·factor rounded to 12 significant digits (ten raises of 1e-8 give 1e-2, not 0.009999999999999998)."""
    return float(f"{v * factor:.12g}")


def certify(train_network: Callable[[int, float, float, tuple], nn.Module], x: torch.Tensor, y: torch.Tensor, *,
            p: float, eps: float, delta: float, layer: str = "act1", n1: int = 100, n_step: int = 100,
            lam: float = 1e-8, mu: float = 1e-12, psi: tuple = (1e-8, 1e-6), q_min: float = 1e-2,
            alpha: float | None = None, delta0_max: float = 1 / 6, max_changes: float = 100.0,
            mu_factor: float = 10.0, psi_factor: float = 10.0, lam_factor: float = 10.0, max_iter: int = 20,
            mc_draws: int = 0, seed: int = 0, on_iteration: Callable[[dict], None] | None = None) -> Certified:
    """Run Algorithm 1 (see the module docstring).

    ``train_network(n1, lam, mu, psi)`` returns a trained network (e.g. :func:`ftlib.training.train` of a
    :class:`~ftlib.training.TrainConfig` with ``var_reg=lam, balance=mu, continuity=psi``; cached, so a
    rerun is free). ``x``, ``y``: the inputs and labels the certificate is about. ``alpha``: Proposition 3's
    threshold (default e^{2.5}·p, the original's). ``mc_draws`` > 0 adds, per iteration, the Monte Carlo
    frequency of Δ ≥ ε for one copy and the experimental Var Δ (supplement Fig 8) from that many crash sets
    per input. Returns the last network, its certificate (``feasible=False`` when the loop ended without
    one) and the trace.
    """
    if not (0 < p < 1 and eps > 0 and 0 < delta < 1):
        raise ParameterError(f"certify: need 0 < p < 1, eps > 0, 0 < delta < 1; got p={p}, eps={eps}, delta={delta}")
    alpha = math.exp(2.5) * p if alpha is None else alpha
    psi = tuple(float(v) for v in psi)
    rows: list[dict] = []
    net = None
    cert = None
    for it in range(max_iter):
        net = train_network(n1, lam, mu, psi)
        lin = feeding_linear(net, layer)
        q = balance(incoming_weight_mass(lin.weight))
        row = {"iteration": it, "n1": n1, "lambda": lam, "mu": mu, "psi": psi, "q": q, "delta0": math.nan,
               "R3": math.nan, "mean": math.nan, "var": math.nan, "delta": math.nan, "R": math.nan,
               "mc_fail": math.nan, "mc_var": math.nan}
        stage, decision = "balance", ""
        if q < q_min:
            decision = f"q = {q:.3g} < {q_min:g}: raise μ"
            mu = _times(mu, mu_factor)
        else:
            row["delta0"] = d0 = kl_tail_bound(n1, q, alpha, p)
            stage = "width (Prop. 3)"
            if d0 > delta0_max:
                decision = f"δ₀ = {d0:.3g} > {delta0_max:.3g}: raise n₁"
                n1 += n_step
            else:
                row["R3"] = ch = derivative_changes(lin.weight)
                stage = "continuity"
                if ch >= max_changes:
                    decision = f"R3 = {ch:.4g} ≥ C = {max_changes:g}: raise ψ"
                    psi = tuple(_times(v, psi_factor) for v in psi)
                else:
                    stage = "Chebyshev (Prop. 5)"
                    mean, var = loss_moments(net, x, y, p, layer)
                    row["mean"], row["var"] = float(mean.mean()), float(var.mean())
                    if row["mean"] >= eps:
                        decision = f"E Δ = {row['mean']:.3g} ≥ ε: infeasible"
                    else:
                        row["delta"] = dl = chebyshev_mean(eps, mean, var)
                        if dl > 1 / 3:
                            decision = f"δ = {dl:.3g} > 1/3: raise n₁ and λ"
                            n1 += n_step
                            lam = _times(lam, lam_factor)
                        else:
                            row["R"] = R = repetitions(delta)
                            decision = f"δ = {dl:.3g} ≤ 1/3: done, R = {R}"
                            cert = Certificate(R, row["n1"], row["lambda"], row["mu"], row["psi"], dl, delta, eps, p,
                                               row["mean"], row["var"], True, it + 1)
        if mc_draws:
            mc = monte_carlo(net, x, p, layers=[layer], draws=mc_draws, seed=seed + 7919 * it,
                             output=squared_error_rows(y), keep_samples=True)
            row["mc_fail"] = float((mc.samples[..., 0] >= eps).double().mean())
            row["mc_var"] = float(mc.var.mean())
            if math.isnan(row["var"]):
                mean, var = loss_moments(net, x, y, p, layer)
                row["theory_var"] = float(var.mean())
            else:
                row["theory_var"] = row["var"]
        row["stage"], row["decision"] = stage, decision
        rows.append(row)
        if on_iteration is not None:
            on_iteration(row)
        if cert is not None or decision.endswith("infeasible"):
            break
    trace = pd.DataFrame(rows)
    cols = ["iteration", "stage", "n1", "lambda", "mu", "psi", "q", "delta0", "R3", "mean", "var", "delta", "R",
            "decision"]
    trace = trace[cols + [c for c in trace.columns if c not in cols]]
    if cert is None:
        last = rows[-1]
        cert = Certificate(0, last["n1"], last["lambda"], last["mu"], last["psi"], last["delta"], delta, eps, p,
                           last["mean"], last["var"], False, len(rows))
    return Certified(net, cert, trace)


@torch.no_grad()
def check_certificate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, p: float, eps: float, R: int,
                      layer: str = "act1", trials: int = 1000, seed: int = 0, chunk: int = 200) -> dict:
    """Empirical test of a certificate: for every input, ``trials`` independent sets of R copies (same
    weights, independent Bernoulli crashes of ``layer``); the copies' outputs are aggregated by the
    componentwise median, and a failure is a loss increase ≥ ``eps`` over the crash-free loss.

    Returns ``failures``, ``n`` (= inputs × trials), ``frequency``, ``upper95`` (one-sided 95 % Clopper–
    Pearson upper bound on the failure probability; ≈ 3/n with no failure: the resolution), and the
    single-copy frequency of Δ ≥ ε over all n·R copies (``single_frequency``, ``single_n``).
    """
    if R < 1 or trials < 1:
        raise ParameterError(f"check_certificate: need R >= 1 and trials >= 1, got R={R}, trials={trials}")
    loss = squared_error_rows(y)
    was = model.training
    model.eval()
    base_out = model(x)
    base = loss(base_out)[:, 0].double()  # mean over the output units
    B = x.shape[0]
    fails, single_fails, done, k = 0, 0, 0, 0
    while done < trials:
        t = min(chunk, trials - done)
        mc = monte_carlo(model, x, p, layers=[layer], draws=max(2, t * R), seed=seed + 1_000_003 * k, keep_samples=True)
        d = mc.samples[:t * R].reshape(t, R, B, -1).double()  # Δ of the output of every copy
        outs = base_out.double().unsqueeze(0).unsqueeze(0) + d  # (t, R, B, n_L)
        tgt = nn.functional.one_hot(y, outs.shape[-1]).double() if not y.is_floating_point() else y.view(B, -1).double()
        copy_loss = (outs - tgt).pow(2).mean(-1)  # (t, R, B): MSE over the output units, as squared_error_rows
        single_fails += int((copy_loss - base >= eps).sum())
        srt = outs.sort(1).values
        med = 0.5 * (srt[:, (R - 1) // 2] + srt[:, R // 2])  # (t, B, n_L)
        med_loss = (med - tgt).pow(2).mean(-1)
        fails += int((med_loss - base >= eps).sum())
        done += t
        k += 1
    model.train(was)
    n = B * trials
    return {"failures": fails, "n": n, "frequency": fails / n, "upper95": clopper_pearson_upper(fails, n),
            "single_failures": single_fails, "single_n": n * R, "single_frequency": single_fails / (n * R)}


def clopper_pearson_upper(k: int, n: int, level: float = 0.95) -> float:
    """One-sided upper confidence bound on a binomial probability after ``k`` successes in ``n`` trials."""
    if k >= n:
        return 1.0
    if k == 0:
        return 1.0 - (1.0 - level) ** (1.0 / n)
    from scipy.stats import beta

    return float(beta.ppf(level, k + 1, n - k))
