"""The statistics every chapter uses: Student t intervals of a mean over fault draws or seeds
(:func:`mean_ci`, :func:`summarize`), paired tests over shared draws (:func:`paired_t`,
:func:`paired_draws`, :func:`one_sided`) and the sample sizes of statistical fault injection
(:func:`sample_size`, :func:`margin_of_error`, :func:`draws_for_margin`), normal-approximation tests
of a difference with a standard error (:func:`binomial_se`, :func:`p_positive`, :func:`std_log_gap`),
Holm's correction (:func:`holm`) and a permutation test of a mean Spearman correlation
(:func:`spearman_permutation`). Quantiles and CDFs come
from ``scipy.stats``. It sits beside the fault engine, not inside it: editing a statistic must not
invalidate a cached sweep or trained model (see :func:`ftlib.store.code_salt`).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd

def t_cdf(t: float, df: float) -> float:
    """CDF of Student's t distribution with ``df`` degrees of freedom (``scipy.stats.t``)."""
    from scipy.stats import t as student_t

    return float(student_t.cdf(t, df))


@lru_cache(maxsize=4096)
def t_quantile(q: float, df: float) -> float:
    """Quantile of Student's t (``q`` in (0, 1), ``df`` > 0; ``scipy.stats.t``); e.g. ``t_quantile(0.975, 9) = 2.2622``."""
    if not 0.0 < q < 1.0 or not df > 0:
        raise ValueError(f"t_quantile: need 0 < q < 1 and df > 0, got q={q}, df={df}")
    from scipy.stats import t as student_t

    return float(student_t.ppf(q, df))


def mean_ci(values, level: float = 0.95) -> dict[str, float]:
    """``n, mean, std`` (ddof 1), the two-sided t interval ``ci_low, ci_high`` at
    ``level`` and its ``ci_halfwidth``. With n < 2 the std and interval are NaN;
    a constant sample has a zero-width interval."""
    x = np.asarray(values, dtype=float)
    n = int(x.size)
    mean = float(x.mean()) if n else math.nan
    if n < 2:
        return {"n": n, "mean": mean, "std": math.nan, "ci_low": math.nan, "ci_high": math.nan, "ci_halfwidth": math.nan}
    std = float(x.std(ddof=1))
    half = t_quantile(0.5 + level / 2.0, n - 1) * std / math.sqrt(n) if std > 0 else 0.0
    return {"n": n, "mean": mean, "std": std, "ci_low": mean - half, "ci_high": mean + half, "ci_halfwidth": half}


def summarize(table: pd.DataFrame, value: str, by: str = "rate", level: float = 0.95, *,
              groups: str | list[str] | None = None) -> pd.DataFrame:
    """Per-``by`` summary of column ``value`` (:func:`mean_ci`): n, mean, std, ci_low, ci_high, ci_halfwidth,
    ``by`` in increasing order.

    ``groups`` (a column or a list of them, e.g. ``["id", "model"]``): one such summary per group, the groups
    in the order they first appear in ``table``, their columns first (e.g. a tidy sweep table of several
    models and fault models → one row per (model, fault, rate))."""
    if groups is not None:
        keys = [groups] if isinstance(groups, str) else list(groups)
        frames = []
        for key, g in table.groupby(keys, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            frames.append(summarize(g[[by, value]], value, by, level).assign(**dict(zip(keys, key))))
        out = pd.concat(frames, ignore_index=True)
        return out[keys + [c for c in out.columns if c not in keys]]
    rows = []
    for key, group in table.groupby(by, sort=True):
        rows.append({by: key, **mean_ci(group[value].to_numpy(), level)})
    return pd.DataFrame(rows, columns=[by, "n", "mean", "std", "ci_low", "ci_high", "ci_halfwidth"])


def paired_t(a, b, level: float = 0.95) -> dict[str, float]:
    """Paired comparison of two equal-length samples (e.g. two methods on the same seeds): the mean of
    ``a − b`` with its two-sided t interval (``n, mean, std, ci_low, ci_high, ci_halfwidth``, as
    :func:`mean_ci`) and the two-sided ``p_value`` of "mean difference = 0" (NaN with fewer than 2 pairs).
    A constant difference has no spread for a t test: zero gives 1, a nonzero one the two-sided exact sign
    test, min(1, 2 · 0.5ⁿ) (:func:`one_sided` halves it on the observed side: 0.5ⁿ, ``n`` heads in a row)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.ndim != 1:
        raise ValueError(f"paired_t: need two 1-D samples of equal length, got shapes {np.shape(a)}, {np.shape(b)}")
    out = mean_ci(d, level)
    n = out["n"]
    if n < 2:
        out["p_value"] = math.nan
    elif out["std"] <= 1e-9 * abs(out["mean"]) or out["std"] == 0:  # equal floats leave ~1e-18 of rounding
        out["p_value"] = 1.0 if out["mean"] == 0 else min(1.0, 2.0 * 0.5 ** n)
    else:
        t = out["mean"] / (out["std"] / math.sqrt(n))
        out["p_value"] = 2.0 * (1.0 - t_cdf(abs(t), n - 1))
    return out


def one_sided(test: dict, alternative: str = "greater") -> float:
    """The one-sided p-value of a :func:`paired_t` result: for ``"greater"`` (mean difference > 0) p/2 when
    the observed mean is positive and 1 − p/2 otherwise; ``"less"`` mirrors it. NaN stays NaN."""
    if alternative not in ("greater", "less"):
        raise ValueError(f"alternative: 'greater' or 'less', got {alternative!r}")
    p = test["p_value"]
    if p != p:
        return p
    right_way = test["mean"] > 0 if alternative == "greater" else test["mean"] < 0
    return p / 2 if right_way else 1 - p / 2


def paired_draws(a: pd.DataFrame, b: pd.DataFrame, rate: float, value: str = "accuracy",
                 baseline_rate: float | None = None) -> dict[str, float]:
    """Paired t comparison of two models swept under the *same* fault draws (tidy sweep tables with ``rate``,
    ``draw`` and ``value``; e.g. two networks of one architecture swept with the same seed, whose draw ``d``
    at a rate hits the same sites): :func:`paired_t` of ``a − b`` over the draws at ``rate``, matched by draw.

    With ``baseline_rate`` (e.g. 0) the compared quantity is the *drop* ``value(baseline_rate) − value(rate)``
    of each model (its mean over the draws at ``baseline_rate``), so ``a − b`` > 0 means ``a`` drops more."""
    def at(t: pd.DataFrame) -> pd.Series:
        s = t[t["rate"] == rate].set_index("draw")[value]
        if baseline_rate is not None:
            s = t.loc[t["rate"] == baseline_rate, value].mean() - s
        return s

    sa, sb = at(a), at(b)
    if sa.empty or not sa.index.equals(sb.index):
        raise ValueError(f"paired_draws: the two tables need the same draws at rate {rate}")
    return paired_t(sa.to_numpy(), sb.to_numpy())


# --------------------------------------------------------------------------- statistical fault injection
def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: need 0 < confidence < 1, got {confidence!r}")
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2.0))


def sample_size(margin: float, confidence: float = 0.95, population: float | None = None, p: float = 0.5) -> int:
    """Number of faults to inject so that a proportion (e.g. the fraction of faults that cause a failure)
    is estimated within ``± margin`` at ``confidence``: Leveugle, Calvez, Maistri, Vanhauwaert,
    "Statistical fault injection: quantified error and confidence", DATE 2009 (the sample size
    of a finite population):

        n = N / (1 + e² (N − 1) / (t² p (1 − p)))

    with ``N`` the size of the fault population (every possible fault site: e.g. every bit of every
    weight for single bit flips; ``None`` or ``inf``: infinite, n = t² p(1−p) / e²), ``e`` the margin,
    ``t`` the two-sided normal quantile of ``confidence`` (1.96 at 95 %) and ``p`` the expected
    proportion (0.5, the default, is the worst case). Rounded up; at most ``N`` (exhaustive injection).
    """
    if not 0.0 < margin < 1.0:
        raise ValueError(f"margin: need 0 < margin < 1 (a proportion), got {margin!r}")
    if not 0.0 < p < 1.0:
        raise ValueError(f"p: need 0 < p < 1, got {p!r}")
    t = _z(confidence)
    n0 = t * t * p * (1.0 - p) / (margin * margin)
    if population is None or math.isinf(population):
        return int(math.ceil(n0 - 1e-9))
    big_n = float(population)
    if big_n < 1:
        raise ValueError(f"population: need N >= 1, got {population!r}")
    n = big_n / (1.0 + margin * margin * (big_n - 1.0) / (t * t * p * (1.0 - p)))
    return int(min(big_n, math.ceil(n - 1e-9)))


def margin_of_error(n: int, confidence: float = 0.95, population: float | None = None, p: float = 0.5) -> float:
    """The margin ``e`` that ``n`` injections out of a population of ``N`` give (the inverse of
    :func:`sample_size`, Leveugle et al. 2009): ``e = t sqrt(p (1 − p) / n · (N − n) / (N − 1))``."""
    if n < 1:
        raise ValueError(f"n: need n >= 1, got {n!r}")
    t = _z(confidence)
    fpc = 1.0 if population is None or math.isinf(population) or population <= 1 else (population - n) / (population - 1)
    return t * math.sqrt(p * (1.0 - p) / n * max(fpc, 0.0))


def draws_for_margin(std: float, margin: float, confidence: float = 0.95, minimum: int = 2) -> int:
    """The interval-width rule for a mean over fault draws (e.g. the accuracy of faulty instances): the
    smallest ``n >= minimum`` with ``t_{n-1} · std / sqrt(n) <= margin`` (the half-width of the Student t
    interval of :func:`mean_ci` at ``confidence``), for a draw-to-draw standard deviation ``std`` (from a
    pilot run). ``std = 0`` gives ``minimum``."""
    if not margin > 0:
        raise ValueError(f"margin: need margin > 0, got {margin!r}")
    minimum = max(2, int(minimum))
    if std <= 0:
        return minimum
    z = _z(confidence)
    n = max(minimum, int(math.floor((z * std / margin) ** 2)))  # t > z: never below the normal answer
    q = 0.5 + confidence / 2.0
    while t_quantile(q, n - 1) * std / math.sqrt(n) > margin:
        n += 1
    return n


# --------------------------------------------------------------------------- normal-approximation tests
def binomial_se(acc_pct: float, n: int) -> float:
    """Standard error (percentage points) of an accuracy ``acc_pct`` (%) measured on ``n`` images:
    100 √(a (1 − a) / n) with a = acc_pct / 100 clipped to [0, 1] (a floor of 1e-12 under the root)."""
    a = min(max(float(acc_pct) / 100, 0.0), 1.0)
    return 100 * math.sqrt(max(a * (1 - a), 1e-12) / max(int(n), 1))


def p_positive(d: float, se: float) -> float:
    """One-sided normal p-value of "the true difference is > 0" for an observed ``d`` with standard error
    ``se`` (``scipy.stats.norm.sf(d / se)``; with ``se`` = 0: 0 when d > 0, else 1)."""
    from scipy import stats

    if not se > 0:
        return 0.0 if d > 0 else 1.0
    return float(stats.norm.sf(d / se))


def std_log_gap(std_a: float, n_a: int, std_b: float, n_b: int) -> tuple[float, float]:
    """ln std_a − ln std_b and its standard error √(1/(2(n_a − 1)) + 1/(2(n_b − 1))) (the large-sample error of
    ln s for ``n`` draws; NaN when a std is not positive)."""
    if not (std_a > 0 and std_b > 0):
        return float("nan"), float("nan")
    return float(math.log(std_a) - math.log(std_b)), math.sqrt(0.5 / max(n_a - 1, 1) + 0.5 / max(n_b - 1, 1))


# --------------------------------------------------------------------------- several tests, correlations
def holm(pvalues: dict) -> dict:
    """Holm's step-down correction of a dict of p-values (same keys): the i-th smallest of n is multiplied
    by (n − i), capped at 1, and made monotone."""
    items = sorted(pvalues.items(), key=lambda kv: kv[1])
    n, out, running = len(items), {}, 0.0
    for i, (k, p) in enumerate(items):
        running = max(running, min(1.0, (n - i) * p))
        out[k] = running
    return out


def spearman_permutation(x_by_group: dict, y_by_group: dict, n_perm: int = 2000, seed: int = 0,
                         alternative: str = "greater") -> dict:
    """Mean Spearman ρ over groups (e.g. fault models) between a per-model predictor ``x`` and per-model
    outcomes ``y`` (each a dict group → array ``(n_models,)`` over the *same* models), with a permutation
    p-value: the models' predictor values are permuted once per round, jointly for every group
    (``(1 + #{ρ_perm ≥ ρ}) / (n_perm + 1)`` for ``"greater"``, ``≤`` for ``"less"``). Ranks from
    ``scipy.stats.rankdata``."""
    from scipy.stats import rankdata

    groups = list(x_by_group)
    rx = {g: rankdata(x_by_group[g]) for g in groups}
    ry = {g: rankdata(y_by_group[g]) for g in groups}

    def rho(perm=None):
        vals = []
        for g in groups:
            a = rx[g] if perm is None else rx[g][perm]
            vals.append(np.corrcoef(a, ry[g])[0, 1])
        return float(np.mean(vals))

    obs = rho()
    rng = np.random.default_rng(seed)
    n = len(next(iter(rx.values())))
    null = np.array([rho(rng.permutation(n)) for _ in range(n_perm)])
    if alternative == "greater":
        p = (1 + np.sum(null >= obs)) / (n_perm + 1)
    else:
        p = (1 + np.sum(null <= obs)) / (n_perm + 1)
    return {"rho": obs, "p_value": float(p), "n_models": n, "groups": len(groups)}
