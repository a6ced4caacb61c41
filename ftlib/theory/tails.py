"""Tail bounds and comparison metrics: Proposition 3 (KL), Proposition 5 (Chebyshev), the median trick,
rank loss and relative error."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..errors import ParameterError


def kl_bernoulli(a: float, b: float) -> float:
    """d_KL(a ‖ b) = a log(a/b) + (1−a) log((1−a)/(1−b)) for numbers a, b in (0, 1)."""
    if not (0.0 < b < 1.0) or not (0.0 <= a <= 1.0):
        raise ParameterError(f"kl_bernoulli: need a in [0, 1] and b in (0, 1), got a={a}, b={b}")
    out = 0.0
    if a > 0:
        out += a * math.log(a / b)
    if a < 1:
        out += (1 - a) * math.log((1 - a) / (1 - b))
    return out


def balance(weights) -> float:
    """q of Additional Assumption 1: ``min |w_i| / max |w_i|`` (the vector is q-balanced)."""
    w = torch.as_tensor(weights, dtype=torch.float64).abs()
    return float(w.min() / w.max())


def incoming_weight_mass(linear_weight: torch.Tensor) -> torch.Tensor:
    """``W_l^i = Σ_j |W_l^ij|`` for every neuron i of a layer (Definition 3), from an ``(n_l, n_{l-1})`` weight."""
    return linear_weight.detach().double().abs().sum(1)


def kl_tail_bound(n: int, q: float, alpha: float, p: float) -> float:
    """Proposition 3: P{‖U_l‖₁ ≥ α‖W_l‖₁} ≤ exp(−n_l · q · d_KL(α ‖ p_l)), for α > p."""
    if not alpha > p:
        raise ParameterError(f"Proposition 3 needs alpha > p, got alpha={alpha}, p={p}")
    return math.exp(-n * q * kl_bernoulli(alpha, p))


def chebyshev_delta(eps: float, mean: float, var: float) -> float:
    """Proposition 5: P{Δ ≥ ε} ≤ Var Δ / t² with t = ε − E Δ > 0 (capped at 1); NaN when t ≤ 0."""
    t = eps - mean
    if t <= 0:
        return math.nan
    return min(1.0, var / (t * t))


def median_bound(delta1: float, R: int) -> dict[str, float]:
    """Failure probability of the componentwise median of R independent copies, each failing w.p. ``delta1``.

    ``exact``: P{Bin(R, δ₁) ≥ ⌈R/2⌉} (at least half the copies fail; for even R the median of the
    two middle copies can only fail if one of them does, so this is an upper bound there);
    ``chernoff``: (4 δ₁ (1 − δ₁))^{R/2}; ``paper``: (1/3)^{R/2} (valid when δ₁ < 1/3, supplement Sec. 5).
    """
    k0 = math.ceil(R / 2)
    exact = sum(math.comb(R, k) * delta1 ** k * (1 - delta1) ** (R - k) for k in range(k0, R + 1))
    return {"exact": exact, "chernoff": (4 * delta1 * (1 - delta1)) ** (R / 2), "paper": (1 / 3) ** (R / 2)}


def rank_loss(a, b) -> float:
    """Fraction of pairs (i < j) ordered differently by ``a`` and ``b`` (ties in one of them count ½).

    0 = same order, 0.5 = no information, 1 = reversed (the paper's "rank loss").
    """
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape or a.size < 2:
        raise ParameterError(f"rank_loss: need two equal-length vectors of >= 2 values, got {a.shape}, {b.shape}")
    i, j = np.triu_indices(a.size, 1)
    sa, sb = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
    wrong = (sa * sb < 0).astype(float) + 0.5 * ((sa == 0) ^ (sb == 0))
    return float(wrong.mean())


def relative_error(pred, true) -> np.ndarray:
    """``|pred − true| / |true|``, elementwise."""
    pred = np.asarray(pred, dtype=float)
    true = np.asarray(true, dtype=float)
    return np.abs(pred - true) / np.abs(true)


def loglog_slope(n, v) -> float:
    """Least-squares slope of log v against log n."""
    n = np.log(np.asarray(n, dtype=float))
    v = np.log(np.asarray(v, dtype=float))
    return float(np.polyfit(n, v, 1)[0])
