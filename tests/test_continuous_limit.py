"""continuous_limit's ``compare`` functions decide by their declared rules, and those rules can fail: fed
tables under the claim's null they say ``not reproduced``, fed tables where the paper's claim holds clearly
they can say ``reproduced`` (the pattern of tests/test_compare_rules.py, on the chapter's own sections).
The statistics behind them (``p_relative_error``, ``spectral_slope``, ``slope_fit``, ``p_certificate``) are
tested under their nulls in tests/test_claims_null.py."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from ftlib import report, sections
from ftlib.experiments.continuous_limit import (architectures, bounds, certification, continuity, dropout_ranking,
                                                regularizers, tails, theorem1, training_decay, width)


def _report(name: str) -> tuple[report.Report, dict[str, list[str]]]:
    """A quick-profile report of ``continuous_limit/<name>`` and the verdicts its ``check`` rows get, by claim
    key (filled as the section's ``compare`` adds rows)."""
    key = f"continuous_limit/{name}"
    rep = report.Report(key, sections.resolve(key, {"profile": "quick", "seed": 0}))
    decided: dict[str, list[str]] = {}
    check = rep.check

    def recording(claim_key, *args, **kw):
        row = check(claim_key, *args, **kw)
        decided.setdefault(claim_key, []).append(row.verdict)
        return row

    rep.check = recording
    return rep, decided


def _verdict(decided: dict[str, list[str]], key: str) -> str:
    (v,) = set(decided[key])
    return v


# ----------------------------------------------------------------------------- theorem1


def _t1(relerr: float, noise: float) -> pd.DataFrame:
    return pd.DataFrame([{"widths": w, "b3_mean_relerr": relerr, "b3_var_relerr": relerr, "b4_mean_relerr": relerr,
                          "b4_var_relerr": relerr, "mc_mean_ci_rel": noise, "mc_var_ci_rel": noise}
                         for w in ("10-10-10-1", "784-2000-100-10")])


def _sup(relerr: float, noise: float, n: int = 25) -> pd.DataFrame:
    return pd.DataFrame({"a": ["input"] * n, "b": ["act1"] * n, "mean_relerr": relerr, "var_relerr": relerr,
                         "mc_mean_noise": noise, "mc_var_noise": noise})


@pytest.mark.parametrize("relerr, expected", [(0.002, report.REPRODUCED), (0.4, report.NOT_REPRODUCED)])
def test_theorem1_compare_follows_its_rules(relerr, expected):
    rep, decided = _report("theorem1")
    theorem1.compare(rep, _t1(relerr, 0.01), _sup(relerr, 0.005))
    assert {k: _verdict(decided, k) for k in decided} == {k: expected for k in
                                                          ("CL-T1:b3_var", "CL-SUP:mean", "CL-SUP:variance")}


def test_theorem1_noise_alone_does_not_pass():
    """An exact estimate measured with Monte Carlo noise as large as the tolerance is not shown within it."""
    rep, decided = _report("theorem1")
    theorem1.compare(rep, _t1(0.05, 0.2), _sup(0.02, 0.05))
    assert set(sum(decided.values(), [])) == {report.NOT_REPRODUCED}


# ----------------------------------------------------------------------------- bounds


def _panels(useful: float, useless: float, rank_useful: float, rank_useless: float, seed: int = 0) -> pd.DataFrame:
    """Eight panels of :func:`bounds.bounds_comparison`: b3/b4 with median relative error ``useful``, b1/b2
    ``useless``; rank losses ``rank_useful``/``rank_useless`` (with a little spread over the panels)."""
    rng = np.random.default_rng(seed)
    rows = []
    for fam in ("Boston sigmoid", "random ReLU"):
        for vary in ("inputs", "networks"):
            for q in ("mean", "std"):
                for b in ("b1", "b2", "b3", "b4"):
                    good = b in ("b3", "b4")
                    rows.append({"networks": fam, "varying": vary, "quantity": q, "bound": b,
                                 "rank_loss": (rank_useful if good else rank_useless) + rng.normal(0, 0.01),
                                 "rel_error": useful if good else useless, "mc_rel_se": 0.01})
    return pd.DataFrame(rows)


def _depth(factor: float) -> pd.DataFrame:
    return pd.DataFrame({"hidden_layers": range(1, 6),
                         "b1_over_experiment": [2.0 * factor ** d * (1 + 0.01 * (-1) ** d) for d in range(5)]})


def test_bounds_compare_reproduces_clear_bounds():
    rep, decided = _report("bounds")
    bounds.compare(rep, _panels(0.05, 10.0, 0.05, 0.4), _depth(3.0))
    for key in ("CL-B:b3_b4_meaningful", "CL-B:b1_b2_not", "CL-B:b3_b4_order_better", "CL-P2:grows_with_depth",
                "CL-B:b4_not_worse"):
        assert _verdict(decided, key) == report.REPRODUCED, key


def test_bounds_compare_under_the_null():
    """All four bounds alike (relative error 100 %, the same rank loss) and b1's looseness flat in depth."""
    rep, decided = _report("bounds")
    bounds.compare(rep, _panels(1.0, 1.0, 0.3, 0.3), _depth(1.0))
    for key in ("CL-B:b3_b4_meaningful", "CL-B:b1_b2_not", "CL-B:b3_b4_order_better", "CL-P2:grows_with_depth"):
        assert _verdict(decided, key) == report.NOT_REPRODUCED, key


# ----------------------------------------------------------------------------- width


@pytest.mark.parametrize("power, expected", [(-1.0, report.REPRODUCED), (0.0, report.NOT_REPRODUCED)])
def test_width_compare_follows_its_rule(power, expected):
    n = np.array([25, 50, 100, 200, 400, 800])
    wiggle = 1 + 0.01 * np.array([1, -1, 1, -1, 1, -1])
    w = pd.DataFrame({"width": n, "var_b3": 1e-3 * (n / 25.0) ** power * wiggle, "var_mc": 1e-3 * (n / 25.0) ** power,
                      "out_weight_l1": 1.0 / n})
    rep, decided = _report("width")
    width.compare(rep, w)
    assert _verdict(decided, "CL-F2:slope") == expected


# ----------------------------------------------------------------------------- tails


def test_tails_detail_rows_check_the_bounds():
    """The ids read implemented; the detail rows say whether each bound lies above the frequencies."""
    s = sections.resolve("continuous_limit/tails", {"profile": "quick", "seed": 0})
    kl = pd.DataFrame({"alpha": [0.02, 0.03], "n": 800, "q": 0.5, "empirical": [0.1, 0.01], "bound": [0.5, 0.05],
                       "bound_q1": [0.4, 0.04]})
    cheb = pd.DataFrame({"eps": [1.0, 2.0], "t_in_sd": [1.0, 2.0], "empirical": [0.1, 0.5],
                         "chebyshev_b3": [1.0, 0.25], "chebyshev_mc": [1.0, 0.25]})
    R = np.array([1, 3, 5, 7])
    med = pd.DataFrame({"R": R, "eps": 1.0, "delta1": 0.2, "median_fail": 0.2 * np.exp(-0.5 * (R - 1)),
                        "mean_fail": 0.2 * np.exp(-0.2 * (R - 1)), "binomial_bound": 0.3 * np.exp(-0.4 * (R - 1)),
                        "chernoff_bound": 0.8 ** R})
    rep, decided = _report("tails")
    tails.compare(rep, s, kl, cheb, med)
    assert {_verdict(decided, k) for k in ("CL-P3:kl", "CL-P5:chebyshev", "CL-MT:median")} == {report.IMPLEMENTED}
    details = {r.claim: r.verdict for r in rep.rows if r.headline is False}
    assert details["the KL bound is above the empirical frequency for every α"] == report.REPRODUCED
    assert details["Chebyshev with Theorem 1's moments is above the empirical tail"] == report.NOT_REPRODUCED
    assert tails.median_decay(med) == pytest.approx(-0.5)


# ----------------------------------------------------------------------------- training_decay


@pytest.mark.parametrize("ratio, last, expected", [(1.02, 0.1, report.REPRODUCED), (2.0, 1.0, report.NOT_REPRODUCED)])
def test_training_decay_compare_follows_its_rules(ratio, last, expected):
    mc = np.array([1.0, 0.6, 0.3, last])
    dec = pd.DataFrame({"epoch": [1, 3, 10, 30], "loss": [50, 30, 20, 10], "grad_norm": [10, 5, 2, 1], "mc": mc,
                        "mc_ci": 0.01 * mc, "b3": ratio * mc, "b4": ratio * mc, "ap9": ratio * mc})
    rep, decided = _report("training_decay")
    training_decay.compare(rep, dec)
    assert _verdict(decided, "CL-AP9:b4_matches") == expected
    assert _verdict(decided, "CL-AP9:decays") == expected


# ----------------------------------------------------------------------------- dropout_ranking


def _runs(ordered: bool, reps: int = 6, seed: int = 0) -> pd.DataFrame:
    """Networks of Table 2: every metric says "more robust" with p_train when ``ordered``, else it is noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for rep in range(reps):
        for pt in (0.0, 0.01, 0.02, 0.03, 0.04, 0.05):
            row = {"p_train": pt, "rep": rep}
            for col, larger_better in dropout_ranking.T2_QUANTITIES.values():
                trend = (pt if larger_better else -pt) if ordered else 0.0
                for c in (f"{col}_train", f"{col}_test", col):
                    row[c] = 1.0 + trend + rng.normal(0, 1e-4 if ordered else 1.0)
            rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("ordered, expected", [(True, report.REPRODUCED), (False, report.NOT_REPRODUCED)])
def test_dropout_ranking_compare_follows_its_rules(ordered, expected):
    runs = _runs(ordered)
    table = dropout_ranking.table2(runs)
    assert {"paper train", "paper test"} <= set(table.columns)
    rep, decided = _report("dropout_ranking")
    dropout_ranking.compare(rep, table, runs)
    assert _verdict(decided, "CL-T2:t1_var") == expected
    assert _verdict(decided, "CL-T2:crashing_mae") == expected


def test_dropout_ranking_paper_numbers_come_from_the_reference():
    from ftlib.reference import get

    runs = _runs(True)
    rep, _ = _report("dropout_ranking")
    dropout_ranking.compare(rep, dropout_ranking.table2(runs), runs)
    ref = get("CL-T2").values
    papers = [r.paper for r in rep.rows if r.claim.startswith("T1 Var Δ orders") and isinstance(r.paper, str)]
    assert papers == [f"{ref['t1_var']:g} % vs {ref['crashing_mae'][1]:g} %",
                      f"{ref['t1_var']:g} % < {ref['p2_mean']:g} %, {ref['p2_var']:g} %, {ref['t1_mean']:g} %"]


# ----------------------------------------------------------------------------- regularizers


@pytest.mark.parametrize("gap, expected", [(0.0, report.REPRODUCED), (8.0, report.NOT_REPRODUCED)])
def test_regularizers_compare_follows_its_rule(gap, expected):
    rng = np.random.default_rng(0)
    rows = []
    for rep_ in range(10):
        shared = rng.normal(0, 0.5)
        for method, strength, acc in (("Var Δ regularizer", 0.0, 80.0), ("Var Δ regularizer", 0.1, 90.0 - gap),
                                      ("dropout", 0.02, 90.0)):
            rows.append({"method": method, "strength": strength, "rep": rep_, "correct_acc_test": 95.0,
                         "crash_acc_test": acc + shared + rng.normal(0, 0.1), "t1_var": 1e-3 / (1 + 10 * strength)})
    s = sections.resolve("continuous_limit/regularizers", {"profile": "quick", "seed": 0, "lambdas": [0.0, 0.1],
                                                            "dropouts": [0.02]})
    rep, decided = _report("regularizers")
    regularizers.compare(rep, s, pd.DataFrame(rows))
    assert _verdict(decided, "CL-REG:similar") == expected


# ----------------------------------------------------------------------------- continuity


def _cont(d_power: float, h_power: float, winf_power: float) -> pd.DataFrame:
    rows = []
    for ds in ("mnist", "fashion_mnist", "boston"):
        for reg in ((False,) if ds == "boston" else (False, True)):
            for k, n in enumerate((50, 100, 200, 400, 800)):
                wig = 1 + 0.01 * (-1) ** k
                rows.append({"dataset": ds, "regularized": reg, "N": n, "learned": True,
                             "test_acc": float("nan") if ds == "boston" else (90.0 if reg else 98.0),
                             "avg_D": n ** d_power * wig, "avg_Hii": n ** h_power, "avg_Hij": n ** h_power * wig,
                             "winf_product": 5.0 * n ** winf_power * wig})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("powers, expected", [((-1.0, -2.0, 0.0), report.REPRODUCED),
                                              ((0.0, 0.0, 1.0), report.NOT_REPRODUCED)])
def test_continuity_compare_follows_its_rules(powers, expected):
    s = sections.resolve("continuous_limit/continuity", {"profile": "quick", "seed": 0})
    rep, decided = _report("continuity")
    continuity.compare(rep, s, _cont(*powers))
    for key in ("CL-CONT:slope_D", "CL-CONT:slope_H", "CL-CONT:winf_flat", "CL-CONT:boston_slope_D"):
        assert _verdict(decided, key) == expected, key


# ----------------------------------------------------------------------------- certification


def _result(feasible: bool):
    from ftlib.reference import get

    ref = get("CL-ALG").values
    cert = SimpleNamespace(feasible=feasible, n1=ref["n1"], lam=1e-9, mu=1e-10, psi=ref["psi"], delta=1e-3,
                           iterations=3, R=20)
    trace = pd.DataFrame({"stage": ["continuity"] * 3, "decision": ["raise ψ"] * 3, "R3": [300.0, 200.0, 150.0]})
    return SimpleNamespace(certificate=cert, trace=trace)


@pytest.mark.parametrize("failures, expected", [(0, report.REPRODUCED), (50, report.NOT_REPRODUCED)])
def test_certification_compare_follows_its_rule(failures, expected):
    s = sections.resolve("continuous_limit/certification", {"profile": "quick", "seed": 0, "delta": 1e-5})
    n = 1_000_000
    check = {"failures": failures, "n": n, "frequency": failures / n, "upper95": 3 / n, "single_failures": failures,
             "single_n": n, "single_frequency": failures / n}
    rep, decided = _report("certification")
    certification.compare(rep, s, _result(True), check, {"test_accuracy_%": 97.0})
    assert _verdict(decided, "CL-ALG:certificate") == expected


def test_certification_without_a_certificate_is_not_reproduced():
    from ftlib.reference import get

    s = sections.resolve("continuous_limit/certification", {"profile": "quick", "seed": 0})
    rep, decided = _report("certification")
    certification.compare(rep, s, _result(False), None, {"test_accuracy_%": 97.0})
    assert _verdict(decided, "CL-ALG:certificate") == report.NOT_REPRODUCED
    ref = get("CL-ALG").values
    assert rep.rows[-1].paper == f"R = {ref['R']}, n₁ = {ref['n1']}"


# ----------------------------------------------------------------------------- architectures


def _arch_results(ln_mc: dict[str, float]) -> dict[str, dict]:
    out = {}
    for name in architectures.MODELS:
        if name not in ln_mc:
            out[name] = {"reason": "weights not here"}
            continue
        v = ln_mc[name]
        res = SimpleNamespace(ln_mc=v, ln_mc_ci=(v - 0.05, v + 0.05), ln_b3=v + 3, draws=800, classes=list(range(1000)))
        out[name] = {"result": res}
    return out


@pytest.mark.parametrize("ln, expected", [(-9.1, report.REPRODUCED), (-3.0, report.NOT_REPRODUCED)])
def test_architectures_compare_follows_its_rule(ln, expected):
    rep, decided = _report("architectures")
    s = sections.resolve("continuous_limit/architectures", {"profile": "quick", "seed": 0})
    architectures.compare(rep, s, _arch_results({"mobilenet": ln}))
    assert _verdict(decided, "CL-ARCH:ln_var") == expected
    headline = [r for r in rep.rows if r.claim == "wider layers (VGG) have a smaller Var Δ than MobileNet"]
    assert [r.verdict for r in headline] == [report.NOT_RUNNABLE]


def test_architectures_headline_needs_all_three_networks():
    rep, _ = _report("architectures")
    s = sections.resolve("continuous_limit/architectures", {"profile": "quick", "seed": 0})
    architectures.compare(rep, s, _arch_results({"vgg16": -18.7, "vgg19": -18.4, "mobilenet": -9.1}))
    (row,) = [r for r in rep.rows if r.claim == "wider layers (VGG) have a smaller Var Δ than MobileNet"]
    assert row.verdict == report.REPRODUCED
