"""The "Beyond the papers" study: shared configurations, fault-aware training, statistics, findings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from ftlib import reference, report, scoreboard, sections
from ftlib import stats as fstats
from ftlib.store import Store
from ftlib.experiments.adversarial_ft import _config as aftc
from ftlib.experiments.beyond import _config as bc, _pipeline as bp, methods_faults as bm, theory as bt  # noqa: F401
from ftlib.faults import FAULT_NAMES, by_name
from ftlib.stats import paired_t
from ftlib.training import TrainConfig, cache_key, train

from .conftest import require_data


def settings(profile: str, **over):
    return sections.resolve("beyond/methods_faults", {"profile": profile, "seed": 0, **over})


def test_sections_registered_with_the_same_parameters():
    a, t = sections.get("beyond/methods_faults"), sections.get("beyond/theory")
    assert a.paper == t.paper == "beyond" and a.spec.keys() == t.spec.keys()
    for id_ in a.ids + t.ids:
        assert reference.get(id_).paper == "beyond"
    assert set(reference.STUDIES) == {"beyond"} and "beyond" not in reference.PAPERS


@pytest.mark.parametrize("profile", ["smoke", "paper"])
def test_models_are_adversarial_ft_models_where_the_settings_agree(profile):
    """smoke and paper: the seed-0 none / L1 / L2 / adversarial models are adversarial_ft's (same configs)."""
    s = settings(profile)
    assert bc.shares_adversarial_ft(s, profile)
    t2 = sections.resolve("adversarial_ft/adversarial_framework", {"profile": profile, "seed": 0})
    for arch in bc.ARCHS:
        assert bc.train_config(s, arch, "none", 0) == aftc.baseline_config(t2, arch, "tikhonov", 0.0)
        assert bc.train_config(s, arch, "l2", 0) == aftc.baseline_config(t2, arch, "tikhonov", s.l2)
        assert bc.train_config(s, arch, "l1", 0) == aftc.baseline_config(t2, arch, "lasso", s.l1)
        assert bc.aft.phase1_config(bc.aft_settings(s, 0), arch) == aftc.phase1_config(t2, arch)


def test_quick_profile_is_its_own_common_ground():
    s = settings("quick")
    assert s.n_seeds >= 3 and not bc.shares_adversarial_ft(s, "quick")


def test_every_method_is_a_distinct_configuration_and_seeds_differ():
    s = settings("quick")
    for arch in bc.ARCHS:
        cfgs = [bc.train_config(s, arch, m, 0) for m in bc.METHODS if m != "adversarial"]
        keys = [repr(sorted(cache_key(c).items())) for c in cfgs]
        assert len(set(keys)) == len(keys)
        assert bc.train_config(s, arch, "none", 1) != bc.train_config(s, arch, "none", 0)
        fa = bc.train_config(s, arch, "fault_aware", 0)
        assert fa.fault_train == s.fault_train and fa.fault_train_rate == s.fault_train_rate
        assert bc.train_config(s, arch, "dropout", 0).dropout_layer == bc.LAST_HIDDEN[arch]
    assert bc.seeds(s) == [0, 1, 2]


def test_last_hidden_is_the_input_of_the_output_layer():
    from ftlib import models

    for arch, name in bc.LAST_HIDDEN.items():
        m = models.build(arch)
        mods = dict(m.named_modules())
        assert isinstance(mods[name], torch.nn.ReLU)
        assert isinstance(m[int(name) + 1], torch.nn.Linear) and int(name) + 2 == len(m)


def test_fault_train_fields_validated_and_omitted_from_the_key_at_default():
    base = TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1)
    assert "fault_train" not in cache_key(base) and "fault_train_rate" not in cache_key(base)
    k = cache_key(TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, fault_train="stuck_nodes",
                              fault_train_rate=0.2))
    assert k["fault_train"] == "stuck_nodes" and k["fault_train_rate"] == 0.2
    with pytest.raises(Exception, match="fault_train"):
        TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, fault_train="nope", fault_train_rate=0.1)
    with pytest.raises(Exception, match="fault_train_rate"):
        TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, fault_train="crash")


def test_catalog_names_every_engine_fault_model():
    assert set(FAULT_NAMES) == set(bc.FAULTS)
    for name in FAULT_NAMES:
        assert by_name(name) == by_name(name)  # fresh, equal instances
    with pytest.raises(Exception, match="unknown fault model"):
        by_name("cosmic_ray")


@pytest.mark.parametrize("fault", ["stuck_nodes", "stuck_weights"])
def test_fault_aware_training_is_deterministic_and_differs_from_plain(tmp_cache, fault):
    require_data("fashion_mnist")
    cfg = TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, n_train=256, batch_size=64,
                      arch_kwargs={"hidden": (32,)}, seed=1, fault_train=fault, fault_train_rate=0.3)
    a = train(cfg)
    c = train(cfg, store=Store(tmp_cache / "other"))
    plain = train(TrainConfig(**{**cfg.__dict__, "fault_train": "", "fault_train_rate": 0.0}))
    wa = torch.cat([p.flatten() for p in a.model.parameters()])
    assert torch.equal(wa, torch.cat([p.flatten() for p in c.model.parameters()]))
    assert not torch.equal(wa, torch.cat([p.flatten() for p in plain.model.parameters()]))
    assert "faulty_loss" in a.history[-1] and a.history[-1]["faulty_loss"] > 0


def test_paired_t_matches_scipy():
    from scipy.stats import ttest_rel

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=7), rng.normal(size=7) + 0.3
    ours = paired_t(x, y)
    ref = ttest_rel(x, y)
    assert ours["p_value"] == pytest.approx(ref.pvalue, rel=1e-8)
    assert ours["mean"] == pytest.approx(float(np.mean(x - y)))
    assert paired_t([1, 2], [1, 2])["p_value"] == 1.0
    # a constant nonzero difference: the exact sign test, not p = 0 (one-sided: 0.5 ** n)
    const = paired_t([1.02, 2.02, 3.02, 4.02], [1, 2, 3, 4])
    assert const["p_value"] == pytest.approx(2 * 0.5 ** 4)
    assert fstats.one_sided(const) == pytest.approx(0.5 ** 4)
    assert paired_t([1.0, 2.0], [0.0, 1.0])["p_value"] == 0.5  # two heads: min(1, 2 · 0.25)


def test_holm_is_monotone_and_bounded():
    out = fstats.holm({"a": 0.01, "b": 0.04, "c": 0.03})
    assert out["a"] == pytest.approx(0.03) and out["c"] == pytest.approx(0.06) and out["b"] == pytest.approx(0.06)
    assert all(v <= 1 for v in fstats.holm({"a": 0.9, "b": 0.8}).values())


def test_spearman_permutation_detects_a_monotone_relation_and_not_noise():
    x = np.arange(12.0)
    strong = fstats.spearman_permutation({"f": x}, {"f": x ** 2}, n_perm=999, seed=0)
    assert strong["rho"] == pytest.approx(1.0) and strong["p_value"] < 0.01
    rng = np.random.default_rng(1)
    noise = fstats.spearman_permutation({"f": x, "g": x}, {"f": rng.normal(size=12), "g": rng.normal(size=12)},
                                   n_perm=999, seed=0)
    assert noise["p_value"] > 0.01


def synthetic_sweeps(s, effect: dict[str, float]) -> pd.DataFrame:
    """A tidy sweep table where method m retains ``effect[m]`` more accuracy (plus seed noise)."""
    rng = np.random.default_rng(0)
    rows = []
    for arch in bc.ARCHS:
        for method in bc.METHODS:
            for seed in bc.seeds(s):
                for fault in bc.FAULTS:
                    if not bc.applies(arch, fault):
                        continue
                    for d in range(2):
                        rows.append((arch, method, seed, fault, 0.0, d, 0.8))
                        rows.append((arch, method, seed, fault, bc.ANN.severity(s, fault), d,
                                     0.4 + effect.get(method, 0.0) + 0.01 * rng.normal()))
    return pd.DataFrame(rows, columns=["arch", "method", "seed", "fault", "rate", "draw", "accuracy"])


def test_ranking_and_findings_on_synthetic_sweeps():
    s = settings("quick")
    sw = synthetic_sweeps(s, {"adversarial": 0.2, "l1": 0.05})
    ret = bm.retained(sw, s)
    assert ret["retained"].between(0, 1.5).all()
    rank, fried = bp.ranking(ret, bc.METHODS)
    assert fried["top"] == "adversarial" and fried["p"] < 1e-6 and rank.method.iloc[0] == "adversarial"
    heat = bp.heatmap_table(ret)
    cell = heat[(heat.method == "adversarial") & (heat.fault == "crash")].iloc[0]
    assert cell.retained == pytest.approx(100 * 0.6 / 0.8, abs=2) and cell.n_seeds == 3
    pop = pd.DataFrame([{"arch": a, "method": m, "seed": sd, "train_acc": 80.0, "test_acc": 70.0 + i + sd,
                         "gen_error": 10.0 - i - sd} for a in bc.ARCHS for i, m in enumerate(bc.METHODS)
                        for sd in bc.seeds(s)])
    f = bm.findings(ret, pop, s)
    assert f["best_vs_none"]["diff_pp"] == pytest.approx(25, abs=2) and f["best_vs_none"]["p_value"] < 0.01
    assert f["aft_other"]["diff_pp"] > 0
    rep = report.Report("beyond/methods_faults", s)
    bm.compare(rep, f, s)
    verdicts = {r.id: r.verdict for r in rep.rows}
    assert verdicts["BEY-BEST"] == report.STRONG and set(verdicts) == set(sections.get("beyond/methods_faults").ids)
    assert "Which method?" in bm.conclusions(f, s)


def test_evidence_verdicts_and_their_combination():
    assert report.evidence_verdict(0.001) == report.STRONG
    assert report.evidence_verdict(0.03) == report.WEAK
    assert report.evidence_verdict(0.2) == report.NO_EVIDENCE == report.evidence_verdict(float("nan"))
    assert report.combined_verdict([report.STRONG, report.WEAK]) == report.WEAK
    assert report.combined_verdict([report.STRONG]) == report.STRONG
    assert report.combined_verdict([report.SMOKE]) == report.SMOKE


def test_scoreboard_has_a_beyond_the_papers_part_with_confidence_verdicts():
    rec = {"section": "beyond/methods_faults", "title": "t", "profile": "quick", "created": "2026-01-01T00:00:00",
           "comparisons": [{"id": "BEY-RANK", "claim": "c", "paper": None, "ours": "x", "gap": None,
                            "verdict": report.STRONG, "note": ""}]}
    table = scoreboard.rows([rec])
    row = next(r for r in table if r["id"] == "BEY-RANK")
    assert row["verdict"] == report.STRONG and row["paper"] == "beyond"
    page = scoreboard.render(table)
    assert "## beyond the papers" in page and "strong evidence" in page
    assert "beyond" in scoreboard.render_summary(table, [rec])


def test_chapter_findings_are_generated_from_the_records_not_written_by_hand():
    """book/beyond.md restates no number: it includes the generated findings list, which shows every
    comparison of a record and names the ids this copy has not computed."""
    from pathlib import Path

    rec = {"section": "beyond/spiking", "title": "t", "profile": "quick", "created": "2026-01-01T00:00:00",
           "comparisons": [{"id": "BEY-SNN-FAT", "claim": "own | fault", "paper": None, "ours": "+3.0 pp",
                            "gap": None, "verdict": report.WEAK, "note": ""}]}
    page = scoreboard.render_findings(scoreboard.rows([rec]))
    assert "+3.0 pp" in page and "own \\| fault" in page and "weak evidence" in page and "`quick`" in page
    assert "Not computed in this copy" in page and "BEY-RANK" in page
    assert "No finding" in scoreboard.render_findings(scoreboard.rows([]))
    chapter = (Path(__file__).resolve().parent.parent / "book" / "beyond.md").read_text()
    assert "_generated/beyond_findings.md" in chapter


def test_build_time_table_sums_each_profile_against_its_budget():
    recs = [{"section": "a/x", "profile": "quick", "wall_time_s": 600.0},
            {"section": "b/y", "profile": "quick", "wall_time_s": 1500.0},
            {"section": "c/z", "profile": "smoke", "wall_time_s": 12.0}, {"section": "d/w", "profile": "quick"}]
    page = scoreboard.render_timings(recs)
    assert "| **2100** (35.0 min of the 30-min budget) |" in page
    assert "| **12** (0.2 min of the 10-min budget) |" in page and "d/w" not in page
    empty = scoreboard.render_timings([])  # no records yet: the label other pages refer to is still there
    assert "(scoreboard-build-time)=" in empty and "No result records yet" in empty
    found = scoreboard.render_findings(scoreboard.rows([]), records=[{"section": "beyond/spiking",
                                                                      "profile": "quick", "wall_time_s": 90.0}])
    assert "No finding" in found  # no comparisons yet: the timing line needs a computed finding
