"""Every declared rule meets its null (issue 17): fed data with the claim false, at the quick profile's sample
sizes, it says "reproduced" at most at its α (plus a binomial slack); fed data with the claim true, it passes
most of the time. A rule that passes its null fails here."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ftlib import claims
from ftlib.claims import BEATS, MATCHES, NO_EFFECT, RANK, Claim, decide

REPS = 600
"""Simulated repetitions per rule and hypothesis (fixed seeds)."""


def _slack(alpha: float, reps: int = REPS) -> float:
    """α plus the 99.9 % binomial upper fluctuation of a rate α over ``reps`` repetitions."""
    return alpha + stats.norm.ppf(0.999) * math.sqrt(alpha * (1 - alpha) / reps)


def _n(c: Claim) -> int:
    return int(c.n) if c.n is not None else 5


def _rate(c: Claim, hypothesis: str, seed: int) -> float:
    """The fraction of ``REPS`` simulated data sets under ``hypothesis`` ("null" or "alt") for which claim ``c``
    says reproduced. Noise: σ = ``c.sigma`` (1 when undeclared: the tests are scale invariant)."""
    rng = np.random.default_rng(seed)
    sigma = c.sigma or 1.0
    if c.test == BEATS:
        n = _n(c)
        # null: identical models (difference 0); alternative: twice the smallest detectable effect
        shift = 0.0 if hypothesis == "null" else 2 * claims.min_effect_beats(n, c.alpha) * sigma
        d = rng.normal(shift, sigma, (REPS, n))
        return float((claims.p_beats(d) < c.alpha).mean())
    if c.test == NO_EFFECT:
        n = _n(c)
        # null: an effect of the margin's size; alternative: no effect
        shift = c.tolerance if hypothesis == "null" else 0.0
        d = rng.normal(shift, sigma, (REPS, n))
        m, se = d.mean(1), d.std(1, ddof=1) / math.sqrt(n)
        return float((claims.p_equivalent(m, se, 0.0, c.tolerance, n - 1) < c.alpha).mean())
    if c.test == MATCHES:
        n = _n(c)
        paper = 10.0
        # null: the paper's value shifted by the tolerance (the boundary; beyond it the rate is lower)
        shift = c.tolerance if hypothesis == "null" else 0.0
        v = rng.normal(paper + shift, sigma, (REPS, n))
        m, se = v.mean(1), v.std(1, ddof=1) / math.sqrt(n)
        return float((claims.p_equivalent(m, se, paper, c.tolerance, n - 1) < c.alpha).mean())
    if c.test == RANK:
        reps, cases = c.n
        x = np.arange(cases, dtype=float)
        hits = 0
        for r in range(REPS // 3):  # the permutation test loops in Python: fewer repetitions
            if hypothesis == "null":
                groups = [(x, rng.permutation(cases).astype(float)) for _ in range(reps)]
            else:  # a quantity that follows the order with noise of half the spacing
                groups = [(x, x + rng.normal(0, 0.5, cases)) for _ in range(reps)]
            _, p = claims.p_rank(groups, permutations=400, seed=r)
            hits += p < c.alpha
        return hits / (REPS // 3)
    raise AssertionError(c.test)


TESTED = [c for c in claims.CLAIMS.values() if c.test in (BEATS, NO_EFFECT, MATCHES, RANK)]


@pytest.mark.parametrize("claim", TESTED, ids=[c.key for c in TESTED])
def test_rule_rarely_passes_its_null(claim):
    rate = _rate(claim, "null", seed=1)
    reps = REPS // 3 if claim.test == RANK else REPS
    assert rate <= _slack(claim.alpha, reps), f"{claim.key}: reproduced in {rate:.1%} of null data sets"


@pytest.mark.parametrize("claim", TESTED, ids=[c.key for c in TESTED])
def test_rule_passes_under_the_alternative(claim):
    assert _rate(claim, "alt", seed=2) >= 0.6, claim.key


@pytest.mark.parametrize("test", [NO_EFFECT, MATCHES])
def test_equivalence_kinds_meet_their_null(test):
    """The equivalence kinds (declared for no claim of the quick book yet) at n = 5 and a margin of 2 σ."""
    c = Claim("CL-REG:x", "x", "x", test, tolerance=2.0, tolerance_source="test", n=5)
    assert _rate(c, "null", seed=3) <= _slack(c.alpha)
    c = Claim("CL-REG:x", "x", "x", test, tolerance=3.0, tolerance_source="test", n=5)
    assert _rate(c, "alt", seed=4) >= 0.6


def test_decide_reasons_and_exact_quantities():
    c = Claim("CL-ALG:x", "x", "x", MATCHES, tolerance=1.0, tolerance_source="printed precision")
    assert decide(c, estimate=20.5, se=0.0, paper=20.0).passed
    assert not decide(c, estimate=21.0, se=0.0, paper=20.0).passed
    b = claims.get("AFT-F2c:regularized_beats")
    d = decide(b, diff=[-1.0, -2.0, -1.5, -0.5, -1.2])
    assert not d.passed and "p =" in d.reason
    assert decide(b, diff=[[1.0, 1.2, 0.9, 1.1, 1.3], [0.1, -0.2, 0.0, 0.1, -0.1]]).passed is False  # IUT


def test_claims_validate_their_declaration():
    with pytest.raises(ValueError):
        Claim("X:y", "x", "x", MATCHES, tolerance=1.0)  # no tolerance source
    with pytest.raises(ValueError):
        Claim("X:y", "x", "x", "maybe")
    with pytest.raises(KeyError, match="not declared"):
        claims.get("AFT-F2a:nothing")


def test_every_claim_names_a_known_id():
    from ftlib import reference

    for c in claims.CLAIMS.values():
        reference.get(c.id)
        assert c.rule()


def test_power_is_stated():
    c = claims.get("AFT-F2a:regularized_beats")
    assert "detects a mean difference of" in c.rule()
    # one-sided paired t, n = 5, α = 0.05, 80 % power: δ/σ ≈ 1.36 (noncentral t)
    assert claims.min_effect_beats(5) == pytest.approx(1.36, abs=0.02)


def test_an_ids_verdict_follows_its_headlines():
    from ftlib import report as R

    rows = [{"verdict": R.NOT_REPRODUCED, "headline": True, "claim": "a"},
            {"verdict": R.REPRODUCED, "headline": False, "claim": "b"}]
    assert R.combined_verdict(rows) == R.NOT_REPRODUCED  # an incidental match does not make it partly
    rows[0]["verdict"] = R.REPRODUCED
    rows.append({"verdict": R.NOT_RUNNABLE, "headline": True, "claim": "CIFAR-10 rows"})
    assert R.combined_verdict(rows) == R.PARTLY  # a headline that did not run
    assert "CIFAR-10 rows" in R.explain(rows)
    assert R.combined_verdict([R.IMPLEMENTED]) == R.IMPLEMENTED
    assert R.combined_verdict([R.IMPLEMENTED, R.REPRODUCED], [True, True]) == R.REPRODUCED
    assert R.combined_verdict([R.IMPLEMENTED, R.NOT_RUNNABLE]) == R.NOT_RUNNABLE
    assert R.combined_verdict([R.CLOSE]) == R.NOT_REPRODUCED  # old records
    assert R.combined_verdict([R.REPRODUCED, R.NOT_RUNNABLE]) == R.PARTLY  # undeclared: all rows count
    assert R.numeric_verdict(20, 21.5, 1.0) == R.NOT_REPRODUCED  # no "close"
