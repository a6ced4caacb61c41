"""Monte Carlo ground truth: E Δ and Var Δ under Bernoulli neuron crashes, with confidence intervals.

Crashes are the fault engine's :class:`ftlib.faults.BernoulliCrash` (transient:
a fresh crash set for every input and every draw; crashed neurons output 0, no
rescaling), applied through :class:`ftlib.faults.FaultSession` hooks. The
fault-free prefix of the network (everything before the first crashing layer)
is computed once; ``draws`` copies of its output are then pushed through the
rest of the network in large batches, one independent crash set per row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import ParameterError
from ..faults import BernoulliCrash, FaultSession, t_quantile
from .bounds import Moments
from .network import as_rates, layout


@dataclass
class MonteCarlo(Moments):
    """Measured moments of Δ (``mean``, ``var`` of shape ``(B, n_L)``) with 95 % half-widths
    ``mean_ci`` (Student t) and ``var_ci`` (normal approximation with the 4th central moment),
    the number of ``draws`` and, if kept, the raw ``samples`` ``(draws, B, n_L)``."""

    mean_ci: torch.Tensor | None = None
    var_ci: torch.Tensor | None = None
    draws: int = 0
    samples: torch.Tensor | None = None
    seconds: float = 0.0


def _seed(seed: int, *keys: int) -> int:
    h = int(seed) & 0xFFFFFFFF
    for k in keys:
        h = (h * 1_000_003 + int(k) + 0x9E3779B9) % (2**61 - 1)
    return h


@torch.no_grad()
def monte_carlo(model: nn.Module, x: torch.Tensor, p: float | dict, layers: object = None, draws: int = 1000,
                seed: int = 0, max_rows: int = 65536, keep_samples: bool = False, output=None) -> MonteCarlo:
    """Estimate E Δ and Var Δ of y_L (or of ``output(y_L)``) per input and output unit from ``draws``
    independent crash sets per input, crash probability ``p`` (float or dict layer → p_l) at ``layers``.

    ``output`` receives rows in draw-major order ``(k·B, ...)`` (k draws of the B inputs).
    Same arguments → same numbers (CPU). Runs on the device of ``model`` and ``x`` (the crash sets are drawn
    by CPU generators and moved: the same seed crashes the same neurons on every device); the moments are
    summed there and read back once, at the end.
    """
    import time

    t0 = time.perf_counter()
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 2:
        raise ParameterError(f"draws: expected an int >= 2, got {draws!r}")
    lay = layout(model, layers)
    rates = as_rates(p, lay.names)
    was_training = model.training
    model.eval()
    groups: dict[float, list[str]] = {}
    for n in lay.names:
        if rates[n] > 0:
            groups.setdefault(rates[n], []).append(n)
    start = min(i for _, i in lay.points)
    h = lay.run(x, 0, start)  # fault-free prefix, once
    base = lay.run(h, start)
    if output is not None:
        base = output(base)
    base = base.reshape(x.shape[0], -1).double()
    B, nL = base.shape
    sessions = [FaultSession(model, BernoulliCrash(layers=names, permanent=False)) for names in groups.values()]
    s1 = torch.zeros(B, nL, dtype=torch.float64, device=base.device)  # the sums stay on the model's device
    s2 = torch.zeros_like(s1)
    s3 = torch.zeros_like(s1)
    s4 = torch.zeros_like(s1)
    kept = []
    per = max(1, max_rows // max(B, 1))
    done, chunk = 0, 0
    try:
        while done < draws:
            k = min(per, draws - done)
            for g, (rate, sess) in enumerate(zip(groups, sessions)):
                sess.apply(rate, torch.Generator().manual_seed(_seed(seed, g, chunk)))
            try:
                hh = h.unsqueeze(0).expand(k, *h.shape).reshape(k * B, *h.shape[1:])
                o = lay.run(hh, start)
                if output is not None:
                    o = output(o)
            finally:
                for sess in sessions:
                    sess.reset()
            d = o.reshape(k, B, nL).double() - base.unsqueeze(0)
            # shifted sums for numerical stability are unnecessary at these magnitudes (float64)
            s1 += d.sum(0)
            d2 = d * d
            s2 += d2.sum(0)
            s3 += (d2 * d).sum(0)
            s4 += (d2 * d2).sum(0)
            if keep_samples:
                kept.append(d.float())
            done += k
            chunk += 1
    finally:
        for sess in sessions:
            sess.close()
        model.train(was_training)
    n = float(draws)
    mean = s1 / n
    m2 = s2 / n - mean ** 2
    m4 = s4 / n - 4 * mean * s3 / n + 6 * mean ** 2 * s2 / n - 3 * mean ** 4
    var = (m2 * n / (n - 1)).clamp_min(0)
    tq = t_quantile(0.975, draws - 1)
    mean_ci = tq * (var / n).sqrt()
    var_ci = 1.959963984540054 * ((m4 - m2 ** 2).clamp_min(0) / n).sqrt()
    return MonteCarlo(mean=mean, var=var, per_layer={}, method="monte_carlo", mean_ci=mean_ci, var_ci=var_ci,
                      draws=draws, samples=torch.cat(kept) if keep_samples else None,
                      seconds=time.perf_counter() - t0)


def crash_probability_draws(weights: torch.Tensor, p: float, draws: int, seed: int = 0) -> torch.Tensor:
    """Proposition 3's random variable ‖U_l‖₁ / ‖W_l‖₁ = Σ_i ξ_i w_i / Σ_i w_i for ``draws`` crash sets.

    ``weights``: the per-neuron total incoming weights ``W_l^i = Σ_j |W_l^ij|`` (shape ``(n_l,)``). The
    crashes ξ_i ~ Be(p) are drawn by the fault engine (a BernoulliCrash on an identity layer).
    """
    w = weights.detach().double().reshape(1, -1).abs()
    probe = nn.Sequential(nn.Identity())
    out = []
    per = max(1, 65536 // max(w.shape[1] // 64, 1))
    with torch.no_grad(), FaultSession(probe, BernoulliCrash(layers=["0"])) as sess:
        done, chunk = 0, 0
        while done < draws:
            k = min(per, draws - done)
            sess.apply(p, torch.Generator().manual_seed(_seed(seed, 7, chunk)))
            try:
                kept = probe(w.expand(k, -1))
            finally:
                sess.reset()
            out.append(1.0 - kept.sum(1) / w.sum())
            done += k
            chunk += 1
    return torch.cat(out)


def median_of(samples: torch.Tensor, R: int, trials: int, seed: int = 0, aggregate: str = "median") -> torch.Tensor:
    """``trials`` aggregates (componentwise median or mean) of R independent copies, each copy's Δ
    resampled from i.i.d. Monte Carlo ``samples`` ``(N, ...)`` of one copy; shape ``(trials, ...)``."""
    if isinstance(R, bool) or not isinstance(R, int) or R < 1:
        raise ParameterError(f"R: expected an int >= 1, got {R!r}")
    gen = torch.Generator().manual_seed(_seed(seed, R, 11))
    idx = torch.randint(0, samples.shape[0], (trials, R), generator=gen)
    picked = samples[idx]  # (trials, R, ...)
    if aggregate == "median":
        # the median of an even number of copies is the mean of the two middle ones
        srt = picked.sort(1).values
        lo, hi = (R - 1) // 2, R // 2
        return 0.5 * (srt[:, lo] + srt[:, hi])
    if aggregate == "mean":
        return picked.mean(1)
    raise ParameterError(f"aggregate: expected 'median' or 'mean', got {aggregate!r}")


def ci_halfwidth(values, level: float = 0.95) -> float:
    """Half-width of the t interval of the mean of ``values`` (convenience for tables)."""
    v = torch.as_tensor(values, dtype=torch.float64).flatten()
    if v.numel() < 2:
        return math.nan
    return float(t_quantile(0.5 + level / 2, v.numel() - 1) * v.std() / math.sqrt(v.numel()))
