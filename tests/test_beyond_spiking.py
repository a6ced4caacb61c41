"""The spiking part of "Beyond the papers": shared models, fault placement, paired sweeps, statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from ftlib import faults, models, reference, report, sections
from ftlib.experiments.beyond import spiking as bs
from ftlib.experiments.snn_patterns import _config as snn
from ftlib.models.snn_patterns import HIDDEN_LAYER
from ftlib.store import Store
from ftlib.training_snn import SNNTrainConfig, SNNTrained


def settings(profile: str, **over):
    return sections.resolve("beyond/spiking", {"profile": profile, "seed": 0, **over})


@pytest.mark.parametrize("profile", ["smoke", "quick", "paper"])
def test_seed0_models_are_snn_patterns_table4_models(profile):
    """Every profile trains snn_patterns' own Table 4 models for seed 0 (nothing is trained twice)."""
    s = settings(profile)
    assert bs.shares_snn_patterns(s, profile)
    t4 = sections.resolve("snn_patterns/accuracy", {"profile": profile, "seed": 0})
    assert bs.train_config(s, "patterns_nasf", 0) == snn.train_config(t4, "proposed", "NASF", s.fir)
    assert bs.train_config(s, "none", 0) == snn.train_config(t4, "baseline")
    # another seed is another model; a changed setting is no longer shared
    assert bs.train_config(s, "none", 1) != bs.train_config(s, "none", 0)
    assert not bs.shares_snn_patterns(settings(profile, fir=0.2), profile)


def test_methods_are_distinct_configurations_with_their_own_fault():
    s = settings("quick")
    cfgs = {m: bs.train_config(s, m, 0) for m in bs.SNN_METHODS}
    assert len({repr(sorted(c.key().items())) for c in cfgs.values()}) == len(cfgs)
    for m, own in bs.OWN_FAULT.items():
        assert cfgs[m].fault == own.upper() and cfgs[m].fir == s.fir
    assert cfgs["none"].method == "baseline" and cfgs["patterns_hsf"].method == "proposed"
    assert s.n_seeds >= 3
    with pytest.raises(ValueError, match="unknown spiking method"):
        bs.train_config(s, "dropout", 0)


def test_fault_models_sit_where_the_docstring_says():
    hsf, nasf, drop = bs.snn_fault("hsf"), bs.snn_fault("nasf"), bs.snn_fault("spike_drop")
    assert isinstance(hsf, faults.SpikeFault) and hsf.kind == "HSF" and hsf.layers == HIDDEN_LAYER
    assert nasf.kind == "NASF" and nasf.permanent
    assert isinstance(drop, faults.BernoulliCrash) and not drop.permanent and drop.layers == HIDDEN_LAYER
    assert [bs.snn_fault(f) for f in ("stuck_weights", "bitflip")] == [faults.by_name("stuck_weights"),
                                                                     faults.by_name("bitflip")]
    with pytest.raises(ValueError, match="unknown spiking fault"):
        bs.snn_fault("stuck_filters")
    # every fault model actually changes a spiking network's output at a high rate
    torch.manual_seed(0)
    net = models.build("snn_mlp", num_steps=8)
    with torch.no_grad():  # an untrained net barely spikes: strong weights make every layer active
        net[1].weight.mul_(8.0)
        net[3].weight.mul_(8.0)
    x = torch.rand(16, 1, 28, 28)
    net[0].generator = torch.Generator().manual_seed(1)
    clean = net(x)
    assert clean.sum() > 0
    for name in bs.SNN_FAULTS:
        net[0].generator = torch.Generator().manual_seed(1)
        with faults.inject(net, bs.snn_fault(name), 0.9, seed=3):
            out = net(x)
        assert not torch.equal(out, clean), name


def _tiny_trained(seed: int) -> SNNTrained:
    torch.manual_seed(seed)
    net = models.build("snn_mlp", num_steps=4).eval()
    cfg = SNNTrainConfig(method="baseline", epochs=2, n_train=100, seed=seed, arch_kwargs={"num_steps": 4})
    return SNNTrained(net, cfg, [], None, None, False)


def test_sweeps_are_cached_reproducible_and_share_the_input_spike_trains(tmp_cache):
    """Same arguments → the same table (from the cache the second time); every fault model's sweep of a
    model sees the same spike trains, so the rate-0 accuracies agree exactly across fault models."""
    store = Store()
    t = _tiny_trained(0)
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    data_id = {"test": "tiny"}
    a = bs.snn_sweep(store, t, "hsf", [0.0, 0.5], x, y, 2, 7, data_id)
    b = bs.snn_sweep(Store(), t, "hsf", [0.0, 0.5], x, y, 2, 7, data_id)
    pd.testing.assert_frame_equal(a, b)
    fresh = bs.snn_sweep(store, _tiny_trained(0), "hsf", [0.0, 0.5], x, y, 2, 7, {"test": "tiny", "v": 2})
    pd.testing.assert_frame_equal(a, fresh)  # recomputed under another key: the same numbers
    clean = {f: bs.snn_sweep(store, t, f, [0.0, 0.3], x, y, 2, 7, data_id).query("rate == 0").accuracy.iloc[0]
             for f in bs.SNN_FAULTS}
    assert len(set(clean.values())) == 1, clean
    assert t.model[0].generator is None  # the encoder is left as it was found


def synthetic_retained(s, effect: dict) -> pd.DataFrame:
    """Retained fractions with a method effect (added under every fault) plus small noise."""
    rng = np.random.default_rng(0)
    rows = []
    for method in bs.SNN_METHODS:
        for seed in range(3):
            for fault in bs.SNN_FAULTS:
                rows.append({"arch": bs.ARCH, "method": method, "seed": seed, "fault": fault,
                             "retained": 0.6 + effect.get(method, 0.0) + 0.01 * rng.normal()})
    return pd.DataFrame(rows)


def test_directional_t_is_one_sided_and_pairs_by_seed():
    s = settings("quick")
    ret = synthetic_retained(s, {"fault_aware_hsf": 0.1})
    up = bs.directional_t(ret, [("fault_aware_hsf", "none", "hsf")])
    assert up["diff_pp"] == pytest.approx(10, abs=2) and up["blocks"] == 3 and up["p_value"] < 0.01
    down = bs.directional_t(ret, [("none", "fault_aware_hsf", "hsf")])
    assert down["p_value"] > 0.99 and down["wins"] == 0.0
    pooled = bs.directional_t(ret, [("fault_aware_hsf", "none", f) for f in bs.SNN_FAULTS])
    assert pooled["blocks"] == 3  # one difference per seed: the fault models of one model are not replicates


def test_findings_and_report_rows_on_synthetic_data():
    s = settings("quick")
    ret = synthetic_retained(s, {"fault_aware_hsf": 0.1, "fault_aware_nasf": 0.1, "patterns_hsf": 0.1,
                                 "patterns_nasf": 0.1})
    f = bs.findings(ret)
    assert f["fat_own"]["p_value"] < 0.01 and f["fat_other"]["p_value"] < 0.01
    assert f["pat_own"]["p_value"] > 0.01  # no effect of the patterns over fault-aware training
    assert f["friedman"]["top"] != "none" and f["ranking"].method.iloc[-1] == "none"
    rep = report.Report("beyond/spiking", s)
    bs.compare(rep, f, s)
    assert {r.id for r in rep.rows} == set(sections.get("beyond/spiking").ids)
    assert all(reference.get(r.id).paper == "beyond" for r in rep.rows)
    fat = [r for r in rep.rows if r.id == "BEY-SNN-FAT"]
    assert len(fat) == 3 and fat[0].verdict == report.STRONG
    assert "Fault-aware training" in bs.conclusions(f, s)
