"""Each migrated section's ``compare(report, ...)`` decides by its declared rules, and those rules can fail:
fed tables where the paper's claim is false they say ``not reproduced``, fed tables where it holds clearly
they say ``reproduced`` (the pattern of tests/test_claims_null.py, on the sections' own entry points)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from ftlib import report, sections
from ftlib.experiments.adversarial_ft import adversarial_framework as t2
from ftlib.experiments.adversarial_ft import experiment_setup as t1
from ftlib.experiments.beyond import spiking


def _report(key: str) -> report.Report:
    return report.Report(key, sections.resolve(key, {"profile": "quick", "seed": 0}))


def _verdicts(rep, key_prefix: str) -> set[str]:
    return {r.verdict for r in rep.rows if r.rule and r.status == "tested" and r.claim and key_prefix in r.rule}


def _table1(falls: bool) -> pd.DataFrame:
    """Table 1 rows: the generalization error (and test accuracy) fall with λ by 6 pp when ``falls``, else
    stay flat (the claim's null)."""
    rows = []
    for reg in ("tikhonov", "lasso"):
        for i, lam in enumerate((0.0, 1e-4, 1e-3, 0.1)):
            g = 8.0 - (2.0 * i if falls else 0.0)
            test = 88.0 - (2.0 * i if falls else 0.0)
            rows.append({"regularizer": reg, "lambda": lam, "train_acc": test + g, "test_acc": test, "gen_error": g})
    return pd.DataFrame(rows)


def _spread(ratio: float) -> pd.DataFrame:
    """Figure 1: the regularized MLP's weights ``ratio`` times narrower than the unregularized ones."""
    return pd.DataFrame([{"network": "mlp", "model": "unregularized", "n_weights": 10_000, "mean": 0.0, "std": 0.05},
                         {"network": "mlp", "model": "regularized", "n_weights": 10_000, "mean": 0.0,
                          "std": 0.05 / ratio}])


def _figure2_sweeps(gap: float, own: float, shared: float = 0.02, draws: int = 5, seed: int = 0) -> pd.DataFrame:
    """Figure 2 sweeps: at every rate the regularized model keeps ``gap`` more accuracy than the
    unregularized one; each draw (the same faulty sites for both models) moves both by a ``shared`` noise,
    and each model by its ``own``. With ``gap = own = 0`` the two models are the same model (the null)."""
    rng = np.random.default_rng(seed)
    rows = []
    for id_, (_, label, _) in t1.FIGURE2_PANELS.items():
        for rate in sorted({0.0, t1.FIGURE2_QUOTED[id_]}):
            for d in range(draws):
                base = 0.9 - 0.6 * rate + rng.normal(0, shared)
                for model, shift in (("unregularized", 0.0), ("regularized", gap)):
                    rows.append({"id": id_, "fault": label, "model": model, "rate": rate, "draw": d,
                                 "accuracy": base + shift + rng.normal(0, own)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("holds, expected", [(True, report.REPRODUCED), (False, report.NOT_REPRODUCED)])
def test_experiment_setup_compare_follows_its_rules(holds, expected):
    rep = _report("adversarial_ft/experiment_setup")
    t1.compare(rep, _table1(holds), _spread(10.0 if holds else 1.0),
               _figure2_sweeps(0.1 if holds else 0.0, 0.005 if holds else 0.0))
    rows = [r for r in rep.rows if r.status == "tested" and r.headline]
    keys = {r.id for r in rows}
    assert {"AFT-T1", "AFT-F1", "AFT-F2a", "AFT-F2b", "AFT-F2c"} <= keys
    # every headline claim of the section follows the data: all hold, or none does
    assert {r.verdict for r in rows} == {expected}, [(r.id, r.claim, r.verdict, r.reason) for r in rows]


def _table2(proposed_best: bool) -> pd.DataFrame:
    """Table 2 rows of two architectures: the proposed model has a generalization error 3 pp below every
    baseline at the same test accuracy when ``proposed_best``, else the same error (the claim's null)."""
    rows = []
    for arch in ("aft_arch1", "aft_arch2"):
        for method, lam in (("none", 0.0), ("lasso", 1e-4), ("tikhonov", 1e-3), ("proposed", 0.0)):
            g = 2.0 if method == "proposed" and proposed_best else 5.0
            rows.append({"arch": arch, "method": method, "lambda": lam, "train_acc": 88.0 + g, "test_acc": 88.0,
                         "gen_error": g})
    return pd.DataFrame(rows)


def _phase1_and_models():
    history = [{"epoch": 0, "iteration": i, "reconstruction": 0.1 - 0.01 * i, "generator": 0.7,
                "discriminator": 1.39, "d_real": 0.5, "d_fake": 0.5} for i in range(3)]
    phase1 = {a: SimpleNamespace(history=history) for a in ("aft_arch1", "aft_arch2")}
    models = {(a, "proposed", 0.0): SimpleNamespace(config=SimpleNamespace(init_from="adversarial/0123456789abcdef"))
              for a in phase1}
    return phase1, models


@pytest.mark.parametrize("holds, expected", [(True, report.REPRODUCED), (False, report.NOT_REPRODUCED)])
def test_adversarial_framework_compare_follows_its_rules(holds, expected):
    rep = _report("adversarial_ft/adversarial_framework")
    phase1, models = _phase1_and_models()
    t2.compare(rep, _table2(holds), phase1, models, rep.settings)
    lowest = [r for r in rep.rows if r.rule and "lowest" in r.claim]
    assert len(lowest) == 2 and {r.verdict for r in lowest} == {expected}, [(r.claim, r.reason) for r in lowest]
    # the rows of Algorithm 1 and the diagrams are implemented, never counted as reproduced
    impl = [r for r in rep.rows if r.id in ("AFT-A1", "AFT-F3/F4/F6")]
    assert len(impl) == 3 and {r.verdict for r in impl} == {report.IMPLEMENTED}
    # CIFAR-10 rows are not runnable in the quick profile
    assert any(r.verdict == report.NOT_RUNNABLE for r in rep.rows if r.id == "AFT-T2")


def _spiking_retained(effect: float, seeds: int = 3, seed: int = 0) -> pd.DataFrame:
    """Retained accuracy of the spiking methods: fault-aware and pattern-generation models retain ``effect``
    more than the baseline under every fault (pattern generation twice that), plus noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(seeds):
        for m in spiking.SNN_METHODS:
            gain = 0.0 if m == "none" else effect * (2 if m.startswith("patterns") else 1)
            for f in spiking.SNN_FAULTS:
                rows.append({"arch": spiking.ARCH, "method": m, "seed": s, "fault": f,
                             "retained": 0.5 + gain + rng.normal(0, 0.005)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("effect, expected", [(0.1, report.STRONG), (0.0, report.NO_EVIDENCE)])
def test_spiking_compare_gives_no_evidence_under_the_null(effect, expected):
    rep = _report("beyond/spiking")
    spiking.compare(rep, spiking.findings(_spiking_retained(effect)), rep.settings)
    fat = [r for r in rep.rows if r.id == "BEY-SNN-FAT" and "trained with" in r.claim]
    assert fat and {r.verdict for r in fat} == {expected}, [(r.claim, r.ours, r.verdict) for r in fat]
