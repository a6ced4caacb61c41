"""Declared claims: one rule per claim of a checklist id, fixed before anything runs (DESIGN.md "Verdicts").

A :class:`Claim` says, beside the paper's numbers (:mod:`ftlib.reference`), what is claimed, which quantity
decides it, which test (one of ``TESTS``), at which α, with which tolerance or margin and where that
tolerance comes from (the paper's printed precision, or a seed-to-seed spread measured in a named earlier run —
never the result being graded), and whether it is a *headline* claim of its id (an id's verdict follows its
headline claims only, :func:`ftlib.report.combined_verdict`). Notebooks compute the data; :func:`decide` turns
data into a verdict and a one-sentence reason; :meth:`ftlib.report.Report.check` puts both, with the rule text,
in the comparison table.

The test kinds (each implemented once, with :mod:`scipy.stats`; every one is checked against its null in
``tests/test_claims_null.py`` at the quick profile's sample sizes ``n``):

* ``beats`` — "A beats B": one-sided paired t test of the differences A − B over shared fault draws or seeds
  (``diff``, shape ``(n,)``), reproduced when p < α;
* ``no_effect`` — "no (clear) effect": TOST equivalence test of paired differences ``diff`` ``(n,)`` against
  ±``tolerance`` (the margin), reproduced when both one-sided p < α (the 1 − 2α interval lies inside the margin);
* ``matches`` — "our number matches the paper's": TOST of ``estimate`` (± its standard error ``se``; or a
  sample ``values`` ``(n,)``) against paper ± ``tolerance``; with ``se = 0`` (an exactly computed quantity)
  it is |ours − paper| < tolerance;
* ``rank_vs_random`` — "this quantity orders the cases better than chance": permutation test of the mean rank
  loss over ``groups`` (pairs of vectors, one per repetition) against random orderings, reproduced when p < α;
* ``implemented`` — something that exists and runs (an algorithm, a diagram, a setting): no test, status
  ``implemented``, never counted as reproduced;
* ``not_runnable`` — the claim needs what these machines do not have; it counts in its id's verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

BEATS, NO_EFFECT, MATCHES, RANK, IMPLEMENTED_TEST, NOT_RUNNABLE_TEST = (
    "beats", "no_effect", "matches", "rank_vs_random", "implemented", "not_runnable")
TESTS = (BEATS, NO_EFFECT, MATCHES, RANK, IMPLEMENTED_TEST, NOT_RUNNABLE_TEST)
POWER = 0.8
"""The power at which :func:`detectable` states the smallest detectable effect."""


@dataclass(frozen=True)
class Claim:
    """One declared claim. ``key`` is ``"<id>:<short name>"``; ``n`` the quick profile's sample size for the
    test (draws, seeds, pairs; for ``rank_vs_random``: repetitions × cases ``(reps, cases)``); ``sigma`` the
    noise of one sample (same unit as the quantity) and ``sigma_source`` the named run it was measured in, or
    None when the test does not need it (it then only enters the stated power)."""

    key: str
    text: str
    quantity: str
    test: str
    alpha: float = 0.05
    tolerance: float | None = None
    tolerance_source: str = ""
    headline: bool = False
    n: int | tuple[int, int] | None = None
    sigma: float | None = None
    sigma_source: str = ""
    changed: str = ""
    """A rule changed after a result was seen says so here, with its date and reason (shown on the page)."""
    method: str = ""
    """How the test is computed when not the kind's default (e.g. "one-sided z test with binomial standard
    errors"); shown in the rule."""
    power: str = ""
    """The power statement when not the kind's default one (e.g. an exact binomial test)."""
    powered: bool = True
    """False when the quick profile's sample cannot confirm the claim even when it is true (the rule says so;
    its test then checks that 4 × the sample can)."""

    def __post_init__(self):
        if self.test not in TESTS:
            raise ValueError(f"claim {self.key}: test must be one of {TESTS}, got {self.test!r}")
        if self.test in (NO_EFFECT, MATCHES) and not (self.tolerance and self.tolerance > 0):
            raise ValueError(f"claim {self.key}: a {self.test} test needs a positive tolerance (its margin)")
        if self.test in (NO_EFFECT, MATCHES) and not self.tolerance_source:
            raise ValueError(f"claim {self.key}: say where the tolerance comes from (tolerance_source)")
        if not 0 < self.alpha < 0.5:
            raise ValueError(f"claim {self.key}: alpha must be in (0, 0.5), got {self.alpha}")

    @property
    def id(self) -> str:
        return self.key.split(":", 1)[0]

    def rule(self) -> str:
        """The rule in one sentence, as shown beside the verdict."""
        a = f"α = {self.alpha:g}"
        tol = f"{self.tolerance:g}" if self.tolerance is not None else ""
        src = f" (tolerance: {self.tolerance_source})" if self.tolerance_source else ""
        how = self.method
        text = {
            BEATS: f"{how or 'one-sided paired t test'} of {self.quantity}{'' if how else ' over shared draws/seeds'}, {a}"
                   + ("" if how and "sign test" in how else BEATS_CONSTANT),
            NO_EFFECT: f"{how or 'TOST equivalence'} of {self.quantity} within ±{tol}, {a}{src}",
            MATCHES: f"{how or 'TOST equivalence'} of {self.quantity} with the reference value within ±{tol}, {a}{src}",
            RANK: f"permutation test of the rank loss of {self.quantity} against random orderings, {a}",
            IMPLEMENTED_TEST: "exists and runs (status implemented; never counted as reproduced)",
            NOT_RUNNABLE_TEST: "cannot run on these machines (counts in its id's verdict)",
        }[self.test]
        power = detectable(self)
        weak = "; underpowered at the quick profile's sample size: a true claim mostly reads not reproduced" \
            if not self.powered else ""
        return text + (f"; {power}" if power else "") + weak + (f"; rule changed: {self.changed}" if self.changed else "")


@dataclass(frozen=True)
class Decision:
    """What a declared rule decided: ``passed`` (the claim is supported at the rule's α), the p-value of the
    test (NaN where there is none) and a one-sentence reason with the numbers."""

    passed: bool
    p_value: float
    reason: str


# --------------------------------------------------------------------------- the tests (vectorized)

def _mean_se(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean and standard error along the last axis of ``x`` ``(..., n)``."""
    n = x.shape[-1]
    return x.mean(-1), x.std(-1, ddof=1) / math.sqrt(n), n


BEATS_CONSTANT = ("; a constant difference (no spread for a t test) falls back to the exact sign test, one-sided "
                  "p = 0.5ⁿ (rule changed 2026-12-02, session 6, from a tie seen in session 5: it gave p = 0)")
"""What every ``beats`` rule says about constant differences (:func:`p_beats` here, :func:`ftlib.stats.paired_t`
for a p computed elsewhere), on the page with the rule."""


def p_beats(diff, alternative: str = "greater") -> np.ndarray:
    """One-sided paired t p-value of mean(diff) > 0 (``"less"``: < 0) along the last axis ``(..., n)``.

    A constant difference has no spread for a t test; it falls back to the exact sign test: ``n`` equal
    positive differences give 0.5 ** n (the chance of ``n`` heads), zero or negative ones give 1."""
    d = np.asarray(diff, dtype=float)
    if alternative == "less":
        d = -d
    m, se, n = _mean_se(d)
    spread = se > 1e-9 * np.abs(m)  # rounding leaves a std of ~1e-18 on equal floats: that is no spread
    with np.errstate(divide="ignore", invalid="ignore"):
        t = stats.t.sf(m / np.where(spread, se, 1), n - 1)
    return np.where(spread, t, np.where(m > 0, 0.5 ** float(n), 1.0))


def p_equivalent(estimate, se, center, margin, df=np.inf) -> np.ndarray:
    """TOST p-value of |estimate − center| < margin with standard error ``se`` (t with ``df`` degrees of
    freedom; normal when infinite): the larger of the two one-sided p-values. ``se = 0``: 0 inside, 1 outside."""
    g = np.asarray(estimate, dtype=float) - center
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = stats.t.sf((g + margin) / se, df)   # H0: g ≤ −margin
        hi = stats.t.cdf((g - margin) / se, df)  # H0: g ≥ +margin
    p = np.maximum(lo, hi)
    exact = np.where(np.abs(g) < margin, 0.0, 1.0)
    return np.where(se > 0, p, exact)


def p_mean_above(mean, std, n, bound, alternative: str = "greater") -> np.ndarray:
    """One-sided t p-value (``n − 1`` degrees of freedom) of "the true mean exceeds ``bound``" (``"less"``: is
    below it) from sample summaries ``mean``, ``std`` (ddof 1) and ``n`` (broadcast arrays); a zero std gives
    0 (right side) or 1."""
    mean, std, n = (np.asarray(v, dtype=float) for v in (mean, std, n))
    g = mean - bound if alternative == "greater" else bound - mean
    se = std / np.sqrt(np.maximum(n, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = stats.t.sf(g / np.where(se > 0, se, 1), np.maximum(n - 1, 1))
    return np.where(se > 0, p, np.where(g > 0, 0.0, 1.0))


def mean_rank_loss(groups) -> float:
    """The mean over ``groups`` [(x, y), ...] of the fraction of pairs ordered differently by x and y."""
    from .theory.tails import rank_loss

    return float(np.mean([rank_loss(x, y) for x, y in groups]))


def p_rank(groups, permutations: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Permutation test of "``y`` orders the cases like ``x``": the mean rank loss over ``groups`` and the
    p-value of a mean rank loss that small under random orderings (each group's ``y`` permuted independently;
    Monte Carlo with ``permutations`` draws, add-one estimate)."""
    groups = [(np.asarray(x, float), np.asarray(y, float)) for x, y in groups]
    obs = mean_rank_loss(groups)
    rng = np.random.default_rng(seed)
    null = np.zeros(permutations)
    for x, y in groups:
        i, j = np.triu_indices(x.size, 1)
        sx = np.sign(x[i] - x[j])
        perm = np.argsort(rng.random((permutations, y.size)), axis=1)
        yp = y[perm]
        sy = np.sign(yp[:, i] - yp[:, j])
        null += ((sx * sy < 0) + 0.5 * ((sx == 0) ^ (sy == 0))).mean(1)
    null /= len(groups)
    return obs, float((1 + np.sum(null <= obs + 1e-12)) / (1 + permutations))


# --------------------------------------------------------------------------- deciding

def decide(claim: Claim, *, diff=None, estimate=None, se=None, values=None, paper=None, groups=None,
           alternative: str = "greater", p_value: float | None = None, summary: str = "",
           df: float = np.inf) -> Decision:
    """Apply ``claim``'s declared test to the data (see the module docstring for which data each test takes).
    For ``beats``, ``p_value`` may instead be the one-sided p of the same paired t test computed elsewhere
    (``ftlib.stats.paired_draws`` + ``ftlib.stats.one_sided``; the larger one of an
    intersection-union test), with ``summary`` saying what was compared."""
    a = claim.alpha
    if claim.test in (IMPLEMENTED_TEST, NOT_RUNNABLE_TEST):
        return Decision(False, math.nan, claim.rule())
    if claim.test == BEATS and p_value is not None:
        p = float(p_value)
        ok = p == p and p < a
        return Decision(ok, p, (summary + ", " if summary else "") + f"one-sided p = {p:.2g}"
                        + (" < " if ok else " ≥ ") + f"α = {a:g}")
    if claim.test == BEATS:
        d = np.atleast_2d(np.asarray(diff, dtype=float))  # (k, n): k comparisons, all must hold (IUT)
        if d.shape[-1] < 2:
            return Decision(False, math.nan, f"fewer than 2 paired differences ({d.shape[-1]})")
        ps = p_beats(d, alternative)
        p = float(ps.max())
        m, se_ = d.mean(-1), d.std(-1, ddof=1) / math.sqrt(d.shape[-1])
        diffs = "; ".join(f"{float(mi):+.4g} ± {float(si):.2g}" for mi, si in zip(m, se_))
        return Decision(p < a, p, f"mean {'difference' if len(m) == 1 else 'differences'} {diffs} (s.e., n = "
                        f"{d.shape[-1]}), one-sided p = {p:.2g}" + (" (the larger: intersection-union)" if len(m) > 1 else "")
                        + (" < " if p < a else " ≥ ") + f"α = {a:g}")
    if claim.test == NO_EFFECT and estimate is not None:  # an estimate with its standard error (normal TOST)
        est, se_ = float(estimate), float(se if se is not None else 0.0)
        if not (math.isfinite(est) and math.isfinite(se_)):
            return Decision(False, math.nan, f"{summary + ': ' if summary else ''}not computable (NaN: too few "
                            "cases or a constant quantity)")
        p = float(p_equivalent(est, se_, 0.0, claim.tolerance, df if df > 0 else np.inf))
        half = stats.t.ppf(1 - a, df if df > 0 else np.inf) * se_
        return Decision(p < a, p, f"{summary + ': ' if summary else ''}estimate {est:+.3g}, {1 - 2 * a:.0%} interval "
                        f"[{est - half:+.3g}, {est + half:+.3g}] {'inside' if p < a else 'not inside'} "
                        f"±{claim.tolerance:.3g} (TOST p = {p:.2g})")
    if claim.test == NO_EFFECT:
        d = np.asarray(diff, dtype=float).ravel()
        if d.size < 2:
            return Decision(False, math.nan, f"fewer than 2 differences ({d.size})")
        m, se_, n = _mean_se(d)
        p = float(p_equivalent(m, se_, 0.0, claim.tolerance, n - 1))
        half = stats.t.ppf(1 - a, n - 1) * float(se_)
        return Decision(p < a, p, f"mean {float(m):+.4g}, {1 - 2 * a:.0%} interval [{float(m) - half:+.4g}, "
                        f"{float(m) + half:+.4g}] {'inside' if p < a else 'not inside'} ±{claim.tolerance:g} (TOST p = {p:.2g})")
    if claim.test == MATCHES:
        if values is None and np.ndim(estimate) > 0:  # several estimates that must all match (intersection-union)
            est_v = np.asarray(estimate, dtype=float).ravel()
            se_v = np.broadcast_to(np.asarray(se if se is not None else 0.0, dtype=float), est_v.shape)
            pap = np.broadcast_to(np.asarray(paper, dtype=float), est_v.shape)
            if not (np.all(np.isfinite(est_v)) and not np.any(np.isnan(se_v))):
                return Decision(False, math.nan, "not computable (NaN)")
            ps = np.array([float(p_equivalent(e, s_, c, claim.tolerance)) for e, s_, c in zip(est_v, se_v, pap)])
            k = int(ps.argmax())
            p = float(ps[k])
            return Decision(p < a, p, f"{summary + ': ' if summary else ''}{len(ps)} estimates, worst gap "
                            f"{est_v[k] - pap[k]:+.3g} ± {se_v[k]:.2g}: {int((ps < a).sum())} of {len(ps)} shown "
                            f"within ±{claim.tolerance:g} (largest TOST p = {p:.2g})")
        if values is not None:
            v = np.asarray(values, dtype=float).ravel()
            est, se_, df = float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else 0.0, v.size - 1
        else:
            est, se_ = float(estimate), float(se or 0.0)
        if not (math.isfinite(est) and se_ == se_):
            return Decision(False, math.nan, f"not computable (ours {est:.4g}, standard error {se_:.2g})")
        p = float(p_equivalent(est, se_, float(paper), claim.tolerance, df if df > 0 else np.inf))
        return Decision(p < a, p, f"ours {est:.4g} ± {se_:.2g} vs reference {float(paper):.4g}: gap {est - float(paper):+.4g}, "
                        f"{'within' if p < a else 'not shown within'} ±{claim.tolerance:g}"
                        + (f" (TOST p = {p:.2g})" if se_ > 0 else " (exact quantity)"))
    if claim.test == RANK:
        obs, p = p_rank(groups)
        return Decision(p < a, p, f"mean rank loss {100 * obs:.1f} % over {len(groups)} repetitions; "
                        f"random orderings give 50 %: permutation p = {p:.2g}" + (" < " if p < a else " ≥ ") + f"α = {a:g}")
    raise AssertionError(claim.test)


# --------------------------------------------------------------------------- power

def detectable(claim: Claim) -> str:
    """The smallest effect the quick profile's sample can detect with :data:`POWER` power, as a phrase
    (empty when the claim has no sample size or no test)."""
    if claim.test in (IMPLEMENTED_TEST, NOT_RUNNABLE_TEST):
        return ""
    if claim.power:
        return claim.power
    a = claim.alpha
    if claim.n is None:  # a z test on an estimate and its standard error
        z = stats.norm.ppf(1 - a) + stats.norm.ppf(POWER)
        if claim.test == BEATS:
            return f"power: it detects a true difference of {z:.2f} standard errors with {POWER:.0%} power"
        return f"power: it confirms a true gap of up to the margin − {z:.2f} standard errors with {POWER:.0%} power"
    if claim.test == RANK:
        reps, cases = claim.n
        pairs = cases * (cases - 1) / 2
        # Kendall's τ under the null has variance 2(2n+5)/(9n(n−1)) per repetition; averaged over reps
        sd = math.sqrt(2 * (2 * cases + 5) / (9 * cases * (cases - 1)) / reps)
        tau = (stats.norm.ppf(1 - a) + stats.norm.ppf(POWER)) * sd
        return (f"power: with {reps} × {cases} cases ({pairs:.0f} pairs each) it detects a rank loss of "
                f"≤ {100 * (1 - tau) / 2:.0f} % with {POWER:.0%} power")
    n = int(claim.n)
    if claim.test == BEATS:
        d = min_effect_beats(n, a)
        unit = f" = {d * claim.sigma:.3g}" if claim.sigma else ""
        return f"power: with n = {n} it detects a mean difference of {d:.2f} σ{unit} with {POWER:.0%} power"
    # TOST: the largest true |gap| (as a fraction of the margin) still confirmed with POWER power
    if claim.sigma is None:
        return f"power: n = {n}; the noise of one sample is not declared"
    se = claim.sigma / math.sqrt(n) if n > 1 else claim.sigma
    if se == 0:
        return "exact quantity (no noise)"
    z = stats.norm.ppf(1 - a) + stats.norm.ppf(POWER)
    room = claim.tolerance - z * se
    return (f"power: n = {n}, σ = {claim.sigma:g} ({claim.sigma_source}): it confirms a true gap of up to "
            f"{max(room, 0):.3g} with {POWER:.0%} power" + (" (none: the margin is below the noise)" if room <= 0 else ""))


def min_effect_beats(n: int, alpha: float = 0.05, power: float = POWER) -> float:
    """The smallest mean difference, in units of the differences' standard deviation, that a one-sided paired
    t test at ``alpha`` with ``n`` pairs detects with ``power`` (noncentral t, :func:`scipy.stats.nct`)."""
    from scipy.optimize import brentq

    crit = stats.t.ppf(1 - alpha, n - 1)
    return float(brentq(lambda d: stats.nct.sf(crit, n - 1, d * math.sqrt(n)) - power, 1e-6, 50.0))


# --------------------------------------------------------------------------- the declarations

_PP = "the paper's figures are read to about ±2 percentage points"
CLAIMS: dict[str, Claim] = {}


def _declare(*claims: Claim) -> None:
    for c in claims:
        if c.key in CLAIMS:
            raise ValueError(f"claim {c.key} declared twice")
        CLAIMS[c.key] = c


_declare(
    # adversarial_ft ------------------------------------------------------------------------------------
    Claim("AFT-A1:algorithm", "Algorithm 1 (Phase I games 1 and 2, Phase II from the extractor) runs",
          "the training pipeline", IMPLEMENTED_TEST, headline=True),
    Claim("AFT-F3/F4/F6:diagrams", "the method's diagrams (Figures 3, 4, 6) are drawn", "diagrams",
          IMPLEMENTED_TEST, headline=True),
    Claim("AFT-F5:curves", "Phase I loss curves are computed and shown (Fig. 5)", "loss curves",
          IMPLEMENTED_TEST, headline=True),
    *(Claim(f"AFT-T1:{k}", text, quantity + " (one model per λ; test-set sampling noise only: the seed-to-seed "
            "spread is not measured in quick)", BEATS, headline=True,
            method="one-sided z test with binomial test-set standard errors")
      for k, text, quantity in (
          ("gen_error_falls", "a larger λ lowers the generalization error", "G(λ = 0) − G(largest λ)"),
          ("accuracy_falls", "the largest λ costs test accuracy", "test accuracy(λ = 0) − test accuracy(largest λ)"))),
    Claim("AFT-T2:lowest_gen_error", "the proposed method has the lowest generalization error",
          "G(each baseline) − G(proposed), one model each", BEATS, headline=True,
          method="one-sided z tests with binomial standard errors, intersection-union over the three baselines"),
    Claim("AFT-T2:keeps_accuracy", "the proposed method keeps the test accuracy of the best baseline",
          "test accuracy(proposed) − test accuracy(each baseline) + 1 pp", BEATS, headline=True,
          method="one-sided non-inferiority z tests (margin 1 pp, the former rule's) with binomial standard "
          "errors, intersection-union over the three baselines"),
    *(Claim(f"{i}:regularized_beats", "the regularized network keeps more accuracy under the faults",
            "accuracy(regularized) − accuracy(unregularized) at the quoted rate", BEATS, headline=True, n=5)
      for i in ("AFT-F2a", "AFT-F2b", "AFT-F2c")),
    *(Claim(f"{i}:proposed_beats", "the proposed method beats Tikhonov and Lasso (intersection-union test)",
            "accuracy(proposed) − accuracy(each baseline) at the quoted rate", BEATS, headline=True, n=5)
      for i in ("AFT-F7a", "AFT-F7b", "AFT-F7c")),
    Claim("AFT-F1:smaller_std", "the regularized network's weights have a smaller standard deviation (Fig. 1)",
          "ln std(unregularized weights) − ln std(regularized weights), one MLP each", BEATS, headline=True,
          method="one-sided z test with the sampling error of ln std over the N weights, √(1/(2(N − 1))) per "
          "model (the weights as draws; the seed-to-seed spread is not measured in quick, so this understates "
          "the noise)"),
    *(Claim(f"AFT-F1:std_{k}", f"the {k} weights' standard deviation matches the paper's", f"std of the {k} "
            "MLP's weights", MATCHES, tolerance=tol, headline=False,
            method="TOST with the sampling error of a std over the N weights, std/√(2(N − 1))",
            tolerance_source=f"±{tol:g}, the former rule's tolerance, kept as declared before this change "
            "(a different training run cannot be expected to match a printed std more closely)")
      for k, tol in (("regularized", 0.01), ("unregularized", 0.05))),
    # computation_failures ---
    Claim("CF-F3:unreachable", "MLP, uniform deviations: the best deviation-free error target cannot be met "
          "for p ≥ 1e-3, whatever the size", "error of every model at every p ≥ 1e-3 − the target", BEATS,
          headline=True, method="one-sided t tests over the fault draws that each model's mean error exceeds "
          "the target, intersection-union over all (model, p ≥ 1e-3)"),
    *(Claim(f"{i}:reachable", f"{net}, erasure: every target met at p = 0 stays reachable at every p > 0",
            "target − error of the best model, per (target met at p = 0, p > 0)", BEATS, headline=True,
            method="per (target, p): the smallest over models of the one-sided t p-value (fault draws) that the "
            "model's mean error is below the target; intersection-union over all pairs",
            powered=False)
      for i, net in (("CF-F4", "MLP"), ("CF-F6", "CNN"))),
    Claim("CF-F5:cnn_smaller_overhead", "the CNN is much more robust than the MLP: a smaller parameter increase "
          "for its error target at p = 1e-3 under uniform deviations", "parameter increase (MLP) − parameter "
          "increase (CNN), % (MLP: +∞ when no model meets the target)", BEATS, headline=True,
          method="parametric bootstrap over the fault draws (each mean error resampled from its t interval, "
          "2,000 resamples): p = the share of resamples in which the CNN's increase is not below the MLP's"),
    *(Claim(f"CF-H:activation_{net}", f"{net}: clipped ReLU and tanh are similarly robust",
            "ln(error increase, tanh / error increase, clipped ReLU) at the largest p", NO_EFFECT,
            tolerance=round(math.log(2), 4), tolerance_source="'similar' read as within a factor 2, the former "
            "rule's factor, declared before this change", headline=True,
            method="TOST (normal) with the delta-method standard error from the two fault-draw 95 % intervals")
      for net in ("MLP", "CNN")),
    Claim("CF-F1:no_depth_effect", "MLP: no clear effect of the number of layers on the error under deviations",
          "Fisher z of Spearman ρ(L, error at the largest p) over the selected models", NO_EFFECT,
          method="TOST (normal, s.e. √(1.06/(n − 3)))",
          tolerance=round(math.atanh(0.5), 4), tolerance_source="|ρ| < 0.5, a medium correlation (Cohen); "
          "declared before the run (the former |ρ| < 0.7 was passed by noise)", headline=True, n=10,
          sigma=round(math.sqrt(1.06 / 7 * 10), 3), powered=False,
          sigma_source="Fisher z of Spearman's ρ over 10 models: s.e. √(1.06/(n − 3)) = σ/√n"),
    Claim("CF-F2:deeper_more_robust", "CNN: more layers usually more robust",
          "Spearman ρ(L, error at the largest p) < 0", BEATS, headline=True, method="one-sided Fisher z test"),
    Claim("CF-H:pooling", "no pooling is (slightly) more robust than max pooling",
          "error increase (max pooling) − error increase (no pooling) at the largest p", BEATS, headline=True,
          method="one-sided z test from the two fault-draw 95 % intervals"),
    *(Claim(f"CF-H:placement_{net}", f"{net}: deviations before the activation are less harmful than after",
            "error increase (after) − error increase (before) at the largest p", BEATS, headline=True,
            method="one-sided z test from the two fault-draw 95 % intervals")
      for net in ("MLP", "CNN")),
    # continuous_limit ----------------------------------------------------------------------------------
    Claim("CL-T2:t1_var", "T1 Var Δ orders the networks by training dropout better than chance",
          "T1 Var Δ against p_train", RANK, headline=True, n=(3, 5)),
    Claim("CL-T2:crashing_mae", "the crashing experiment's MAE orders the networks better than chance",
          "crashing MAE against p_train", RANK, headline=True, n=(3, 5)),
    Claim("CL-B:b3_b4_meaningful", "b3 and b4 are meaningful: median relative error below 100 % in every panel",
          "1 − median relative error of b3 and b4 per panel (8 panels each)", BEATS, headline=True,
          method="one-sided z tests with the Monte Carlo standard error of each relative error (the sampling "
          "error of the draws), intersection-union over the panels"),
    Claim("CL-B:b1_b2_not", "b1 and b2 are not meaningful: median relative error above 100 % in every panel",
          "median relative error of b1 and b2 per panel − 1", BEATS, headline=True,
          method="one-sided z tests with the Monte Carlo standard error of each relative error (the sampling "
          "error of the draws), intersection-union over the panels"),
    Claim("CL-B:b3_b4_order_better", "b3 and b4 order the cases better than b1 and b2",
          "rank loss (b1 or b2) − rank loss (b3 or b4), paired over the 8 panels", BEATS, headline=True, n=8,
          method="one-sided paired t tests over the panels, intersection-union over the four pairs"),
    Claim("CL-B:b4_not_worse", "b4 is at least as accurate as b3 (relative error) in every panel",
          "relative error (b3) − relative error (b4) + 0.02 (the margin), per panel", BEATS, tolerance=0.02,
          tolerance_source="a non-inferiority margin of 2 points of relative error for 'at least as good', "
          "declared 2026-12-01 before the next run (the former rule, b4 ≤ b3 as point estimates, had none)",
          method="one-sided non-inferiority z tests with the Monte Carlo standard error of the difference "
          "(both errors share the Monte Carlo truth: at most (rel3 + rel4)·its relative s.e., the sampling error "
          "of the draws), intersection-union over the panels",
          changed="2026-12-01 (issue 17): the point rule b4 ≤ b3 replaced by a non-inferiority test with the "
          "Monte Carlo noise; it stays a detail row"),
    Claim("CL-P2:grows_with_depth", "the spectral bound's looseness grows exponentially with depth",
          "least-squares slope of log10(b1 / experiment) on the number of hidden layers (1–5)", BEATS,
          headline=True, method="one-sided t test of the slope (its standard error from the fit, n − 2 d.o.f.; "
          "each depth the median of 3 random networks)"),
    Claim("CL-P2:loose", "b1 / experiment exceeds 1 at every depth (true of any network: b1 is an upper bound)",
          "b1 / experiment", IMPLEMENTED_TEST, headline=False),
    *(Claim(f"CL-CONT:{k}", f"with the continuity regularizer, {q} falls as N^{paper} with the width N",
            f"least-squares log-log slope of {q} against N (one network per width)", MATCHES, tolerance=tol,
            tolerance_source=f"±{tol:g}, the notebook's tolerance, declared before this change",
            headline=True, method="TOST (t, widths − 2 degrees of freedom) with the fit's standard error")
      for k, q, paper, tol in (("slope_D", "avg |D_i|", -1, 0.3), ("slope_H", "avg |H_ij|", -2, 0.5))),
    Claim("CL-CONT:winf_flat", "with the regularizer the ‖W‖∞ product stabilizes (flat in N)",
          "least-squares log-log slope of the ‖W‖∞ product against N", NO_EFFECT, tolerance=0.33,
          tolerance_source="the former 'max/min < 2 across widths' over the quick widths 50–400 (a factor 8): "
          "a slope of ln 2 / ln 8 ≈ 0.33, declared before the next run",
          headline=True, method="TOST (t, widths − 2 degrees of freedom) with the fit's standard error",
          changed="2026-12-01 (issue 17): the point rule max/min < 2 replaced by a TOST on the slope"),
    *(Claim(f"CL-CONT:accuracy_{k}", f"MNIST test accuracy {what} the regularizer matches the paper's",
            "test accuracy (%), mean over the widths", MATCHES, tolerance=5.0,
            tolerance_source="±5 points, the notebook's tolerance, declared before this change (the quick "
            "profile trains 10 epochs on 10,000 images)", headline=False,
            method="TOST (t over the widths)")
      for k, what in (("plain", "without"), ("regularized", "with"))),
    Claim("CL-CONT:boston_slope_D", "Boston: plain networks already show the derivative decay (slope −1)",
          "least-squares log-log slope of avg |D_i| against N, plain networks that learned", MATCHES,
          tolerance=0.3, tolerance_source="±0.3, the notebook's tolerance, declared before this change",
          headline=True, method="TOST (t, widths − 2 degrees of freedom) with the fit's standard error"),
    Claim("CL-ALG:certificate", "Algorithm 1 returns a certificate: the median of R copies fails (loss increase "
          "≥ ε) with probability below δ", "failures of the median of R copies (and of single copies against "
          "Chebyshev's δ) over the check's images × trials", BEATS, headline=True, powered=False,
          method="exact one-sided binomial tests (H0: failure probability ≥ δ), intersection-union of the "
          "median and single-copy checks; no certificate reads not reproduced",
          power="power: with n checks and no failure it can pass only when n ≥ ln(1/α)/δ (3.0e5 at δ = 1e-5; "
          "the quick profile's 100 images × 1,000 trials = 1e5 cannot)"),
    # beyond (findings: the verdict is the confidence, strong if p < 0.01, weak if p < 0.05) -------------------
    Claim("BEY-RANK:differ", "the training methods differ in the accuracy they retain", "retained accuracy per "
          "method, each model (arch × seed) averaged over the fault models", BEATS, alpha=0.05, headline=True,
          method="Friedman test over the models (arch × seed blocks; the fault models of one model are not "
          "independent replicates)",
          changed="2026-12-01 (issue 17): the blocks were arch × fault × seed, which counts one model's faults "
          "as replicates; now the models"),
    Claim("BEY-BEST:top_beats_none", "the top-ranked method retains more than none", "retained accuracy (top "
          "method) − (none) per model, averaged over the fault models", BEATS, headline=True,
          method="one-sided paired t test over the models, Bonferroni-corrected for the 7 candidates (the top "
          "method is picked from the same data)",
          changed="2026-12-01 (issue 17): Wilcoxon over arch × fault × seed blocks without a correction for "
          "picking the top method passed its null; now paired t over models, Bonferroni × 7"),
    *(Claim(key, text, quantity + " per model (arch × seed), averaged over the fault models", BEATS,
            headline=True, method="one-sided paired t test over the models",
            changed="2026-12-01 (issue 17): Wilcoxon over arch × fault × seed blocks (not independent) replaced by "
            "a paired t test over the models")
      for key, text, quantity in (
          ("BEY-AFT:beats_l1_l2", "the adversarial two-phase method retains more than the better of L1 / L2",
           "retained accuracy (adversarial) − max(L1, L2)"),
          ("BEY-FAT:beats_none", "fault-aware training retains more than none", "retained accuracy (fault-aware) − (none)"),
          ("BEY-REG:beats_none", "the Var Δ regularizer retains more than none", "retained accuracy (Var Δ reg.) − (none)"))),
    Claim("BEY-TRADE:negative", "models with higher clean accuracy retain less (per architecture)",
          "Spearman ρ(clean accuracy, mean retained accuracy) over the models", BEATS, headline=True,
          method="one-sided Spearman test (scipy's two-sided p halved on the predicted side)"),
    *(Claim(key, text, quantity, BEATS, headline=True,
            method="permutation test of the mean Spearman ρ over the fault models (predictor permuted jointly), "
            "the larger of the two architectures' p-values")
      for key, text, quantity in (
          ("BEY-B3:ranks", "b3 ranks the models by their accuracy drop under Bernoulli crashes",
           "mean Spearman ρ(predictor, drop)"),
          ("BEY-B3X:ranks", "b3 ranks the models by their drop under the other fault models",
           "mean Spearman ρ(predictor, drop)"),
          ("BEY-GEN:ranks", "a lower generalization error goes with more retained accuracy",
           "mean Spearman ρ(G, retained)"))),
    Claim("CL-REG:similar", "crashing accuracy with the Var Δ regularizer is similar to that with dropout",
          "crashing test accuracy (%), best Var Δ setting − best dropout setting, per repetition", NO_EFFECT,
          tolerance=2.0, tolerance_source="the paper's Fig 10 is read to about ±2 percentage points",
          headline=True, n=2, powered=False),
    Claim("CL-T1:b3_var", "b3 estimates Var Δ of the widest network (median relative error within 10 %)",
          "median relative error of b3's Var Δ against Monte Carlo", MATCHES, tolerance=0.10,
          method="TOST with the Monte Carlo standard error",
          tolerance_source="'correct magnitude' read as within 10 % (declared before the run)", headline=True,
          n=1, sigma=0.01, sigma_source="the sampling error of the Monte Carlo draws, not a measured seed-to-seed spread: "
          "20,000 draws, relative s.e. of a variance ≈ √(2/20,000)"),
    *(Claim(f"CL-SUP:{q}", f"superposition of the {q} across layers holds to a few %",
            f"relative error of the superposed {q} against Monte Carlo", MATCHES, tolerance=0.05,
            method="TOST with the Monte Carlo standard error",
            tolerance_source="'a few %' (supplement Fig 11) read as within 5 % (declared before the run)",
            headline=True, n=1, sigma=0.01,
            sigma_source="the sampling error of the Monte Carlo draws, not a measured seed-to-seed spread: "
          "20,000 draws, relative s.e. ≈ √(2/20,000)")
      for q in ("mean", "variance")),
    *(Claim(f"CL-AP9:{b}_matches", f"{b} matches the experiment's mean loss change at every epoch",
            f"{b} / experiment at each epoch (all must hold: intersection-union)", MATCHES, tolerance=tol,
            method="TOST with the Monte Carlo standard error",
            tolerance_source=f"'{b} ≈ experiment' read as within {tol:.0%} (declared before the run"
            + ("; b3 misses the curvature term, hence the wider margin)" if b == "b3" else ")"),
            headline=b == "b4", n=1, sigma=0.05, sigma_source="the sampling error of the Monte Carlo draws, not a measured seed-to-seed spread: "
          "relative s.e. ≈ 5 % per epoch")
      for b, tol in (("b4", 0.2), ("b3", 0.5))),
    Claim("CL-AP9:decays", "the mean loss change under crashes decays with training",
          "|E Δ| (first epoch) − |E Δ| (last epoch), Monte Carlo", BEATS, headline=True,
          method="one-sided z test with the Monte Carlo standard errors"),
    Claim("CL-F2:slope", "Var Δ falls as 1/n with the layer width (log-log slope −1)",
          "least-squares log-log slope of b3's Var Δ against n", MATCHES, tolerance=0.25,
          tolerance_source="the notebook's ±0.25 on the slope, kept as it was declared before this change",
          headline=True, method="TOST (t, n − 2 degrees of freedom) with the fit's standard error"),
    Claim("CL-ARCH:ln_var", "ln Var Δ of the architecture under crashes at every layer matches the paper's",
          "Monte Carlo ln Var Δ", MATCHES, tolerance=1.0,
          tolerance_source="±1 in ln Var Δ (a factor e), for a stand-in architecture (MobileNet α = 0.75)",
          headline=True, method="TOST with the Monte Carlo standard error", n=1, sigma=0.05,
          sigma_source="the sampling error of the Monte Carlo draws, not a measured seed-to-seed spread: "
          "800 draws, s.e. of ln Var ≈ √(2/800)",
          changed="the ±1 tolerance was fixed after the first run (the notebook says so; with ±0.5 that run's "
          "Monte Carlo row would not have passed); kept, disclosed 2026-12-01 (issue 17), and the id reads at best "
          "partly reproduced while VGG16/VGG19 cannot run here"),
    Claim("CL-P3:kl", "Proposition 3's KL tail bound on the crashed weight norm is computed beside the empirical "
          "frequency (a Chernoff bound ≥ the frequency holds for any weights: it checks the code, not the paper)",
          "the bound", IMPLEMENTED_TEST, headline=True),
    Claim("CL-P5:chebyshev", "Chebyshev's bound with Theorem 1's moments is computed beside the empirical tail "
          "(a bound ≥ the frequency is true of any network: Chebyshev's inequality)", "the bound",
          IMPLEMENTED_TEST, headline=True),
    Claim("CL-MT:median", "the median-of-R-copies aggregation is computed beside the binomial bound "
          "(order statistics of resamples: true of any network)", "the median trick", IMPLEMENTED_TEST, headline=True),
)


def get(key: str) -> Claim:
    """The declared claim ``key`` (``"<id>:<name>"``); a clear error for an undeclared one."""
    try:
        return CLAIMS[key]
    except KeyError:
        raise KeyError(f"claim {key!r} is not declared in ftlib.claims.CLAIMS; declare it (its test, α, "
                       f"tolerance and source) before using it") from None


# snn_patterns ----------------------------------------------------------------------------------------------
# (the authors' checkpoints' interval rule lives here, beside the declarations; its numbers are unchanged)

SNN_PRINTED_PRECISION = {"SNN-T3": 1e-3, "SNN-T4": 1e-4}
"""The paper's printed precision (Table 3: three decimals; Table 4: four)."""


def snn_interval_tolerance(id_: str, halfwidth: float) -> float:
    """The tolerance of a Table 3 / 4 cell under the interval rule: our 95 % half-width over fault sets plus
    half the paper's printed precision; the cell is covered when |ours − paper| ≤ this. A containment rule
    (the wider our interval, the likelier it covers): it cannot bound the chance of a false match, so it
    only ever decides *detail* rows (``SNN-T3:authors_interval``, ``SNN-T4:authors_interval``)."""
    h = 0.0 if halfwidth is None or math.isnan(halfwidth) else float(halfwidth)
    return h + SNN_PRINTED_PRECISION[id_] / 2


def snn_covers(id_: str, paper: float, mean: float, halfwidth: float) -> bool:
    """True when the interval rule (:func:`snn_interval_tolerance`) covers ``paper`` with ``mean``."""
    return abs(float(mean) - float(paper)) <= snn_interval_tolerance(id_, halfwidth)


SNN_INTERVAL_RULE = ("detail: the paper's value inside our 95 % t interval over fault sets ± half its printed "
                     "precision (interval containment: shown, never an id's verdict; it passes more easily the "
                     "noisier the estimate)")
_SNN_FI = 10  # fault instances (sets) per ratio in the quick profile (snn_patterns/accuracy and authors_models)
_SNN_TOL_CLEAN = "the paper's five Table 3 models span 0.964–0.975 (±0.01, the former rule's, declared before the run)"

_declare(
    Claim("SNN-T1/T2:settings", "the run's hyperparameters and pattern-generation settings are listed beside "
          "Tables 1-2", "the settings table", IMPLEMENTED_TEST, headline=True),
    Claim("SNN-A1:algorithm", "Algorithm 1 (gen_pattern) runs and keeps patterns", "the generated patterns",
          IMPLEMENTED_TEST, headline=True),
    Claim("SNN-T3:clean_matches", "the fault-free accuracies match Table 3 (≈ 0.97 for all)",
          "fault-free test accuracy of each model (all must hold: intersection-union)", MATCHES, tolerance=0.01,
          tolerance_source=_SNN_TOL_CLEAN, headline=True, n=1, sigma=0.0054, powered=False,
          method="TOST per model with the binomial test-set standard error √(a(1 − a)/n_test), intersection-union",
          sigma_source="binomial s.e. of an accuracy of 0.97 on the quick profile's 1,000 test images"),
    *(Claim(f"SNN-T4:{k}", text, quantity, BEATS, headline=True, n=_SNN_FI, method=(
            "one-sided paired t test over the shared fault instances at the largest fault ratio, "
            "intersection-union over FIR 0.03 and 0.05"))
      for k, text, quantity in (
          ("proposed_beats", "the proposed method keeps more accuracy than the previous one (same FIR)",
           "accuracy(proposed FIR f) − accuracy(previous FIR f)"),
          ("fault_aware_beats", "fault-aware training keeps more accuracy than the baseline",
           "accuracy(previous FIR f) − accuracy(baseline)"))),
    Claim("SNN-F3:gap_grows", "the proposed − previous gap grows with the fault ratio (Fig. 3)",
          "per fault instance, (proposed − previous) at the largest ratio − (proposed − previous) at the smallest, "
          "averaged over FIR 0.03 and 0.05", BEATS, headline=True, n=_SNN_FI,
          method="one-sided paired t test over the fault instances (instance i at both ratios)",
          changed="2026-12-01 (issue 17): was gaps[-1] > gaps[0] on the means (a point rule inside the noise)"),
    Claim("SNN-F3:most_instances", "proposed ≥ previous on most fault instances (Fig. 3)",
          "instances where the proposed model (best FIR by mean) beats the previous one (best FIR by mean)",
          BEATS, headline=True, n=_SNN_FI,
          method="one-sided exact sign test (binomial, ties dropped) of P(proposed > previous) > ½",
          power="power: with 10 untied instances it needs ≥ 9 wins (p = 0.011); it detects a "
          "win probability of 0.92 with 80 % power",
          changed="2026-12-01 (issue 17): was wins > n/2 (passed by a coin half the time)"),
    Claim("SNN-T5-T8:less_work", "without pattern generation the proposed method reaches the previous method's "
          "final faulty accuracy with less training (Tables 5-8)",
          "training-work reduction (%) under NASF at the largest fault ratio (the paper: 89 % at both FIRs; its "
          "HSF reductions are small or negative)", BEATS, headline=True, n=2, powered=False,
          method="one-sided exact sign test of the reduction > 0 over FIR 0.03 and 0.05 (2 distinct model "
          "pairs, one seed each); its smallest p with 2 cells is 0.25, so quick cannot confirm the claim",
          changed="2026-12-02 (session 5, after seeing a result): was a one-sample t test over the 2 cells. The "
          "reduction is counted in whole epochs, so the two cells can tie (quick: +66.6 % and +66.6 %): a "
          "standard error of 0 and p = 2e-05 from a test whose noise model does not hold. This tightens the rule; "
          "the earlier quick runs read 'not reproduced' with p = 0.10"),
    Claim("SNN-T5-T8:generation_costs", "pattern generation costs extra time (true by construction: the proposed "
          "method does the previous one's training plus the generation)", "CPU time", IMPLEMENTED_TEST,
          headline=False),
    # beyond, spiking part (findings: the verdict is the confidence, strong if p < 0.01, weak if p < 0.05)
    Claim("BEY-SNN-RANK:differ", "the spiking training methods differ in the accuracy they retain",
          "retained accuracy per method, each training seed averaged over the fault models", BEATS, headline=True,
          method="Friedman test over the training seeds (the fault models of one model are not independent "
          "replicates)", n=3, power="power: with 3 seeds × 5 methods the smallest attainable p is 0.017 (all "
          "seeds ranking the methods alike): at most weak evidence in quick",
          changed="2026-12-01 (issue 17): the blocks were fault model × seed; now the seeds"),
    *(Claim(f"BEY-SNN-{i}:{k}", text, quantity + ", per training seed averaged over the methods and fault "
            "models", BEATS, headline=True, n=3, method="one-sided paired t test over the training seeds",
            changed="2026-12-01 (issue 17): blocks (method, fault, seed) sharing one 'none' model per seed were "
            "counted as independent; now one difference per seed")
      for i, k, text, quantity in (
          ("FAT", "own", "fault-aware training retains more than none under the spiking fault it was trained with",
           "retained accuracy (fault-aware) − (none)"),
          ("FAT", "cross", "fault-aware training retains more than none under the other spiking fault",
           "retained accuracy (fault-aware) − (none)"),
          ("FAT", "other", "fault-aware training retains more than none under every fault model but its own",
           "retained accuracy (fault-aware) − (none)"),
          ("PAT", "own", "pattern generation retains more than fault-aware training alone under its own fault",
           "retained accuracy (patterns) − (fault-aware, same fault)"),
          ("PAT", "other", "pattern generation retains more than fault-aware training alone under every other "
           "fault model", "retained accuracy (patterns) − (fault-aware, same fault)"))),
)
