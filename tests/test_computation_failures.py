"""computation_failures: models, the smallest-model rule on hand-made tables, selection, sweeps, sections."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn

from ftlib import faults, models, sections
from ftlib.errors import ParameterError
from ftlib.experiments.computation_failures import _config as cfc, fault_tolerance as cff, hyperparameters as cfh  # noqa: F401
from ftlib.models.computation_failures import n_params

from .conftest import require_data


# ----------------------------------------------------------------------------- models

def test_mlp_structure_glorot_and_dropout_placement():
    m = models.build("cf_mlp", layers=3, neurons=32)
    assert isinstance(m, nn.Sequential)
    kinds = [type(x).__name__ for x in m]
    # no dropout after the first hidden layer, 50 % after the others
    assert kinds == ["Flatten", "Linear", "Hardtanh", "Linear", "Hardtanh", "Dropout", "Linear", "Hardtanh",
                     "Dropout", "Linear"]
    assert all(d.p == 0.5 for d in m if isinstance(d, nn.Dropout))
    act = m[2]
    assert (act.min_val, act.max_val) == (0.0, 1.0)  # clipped ReLU saturating at 1
    lin = m[1]
    bound = math.sqrt(6 / (784 + 32))  # Glorot uniform
    assert lin.weight.abs().max() <= bound and lin.weight.abs().max() > 0.9 * bound
    assert torch.all(lin.bias == 0)
    assert n_params(m) == 784 * 32 + 32 + 2 * (32 * 32 + 32) + 32 * 10 + 10
    assert m(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    assert isinstance(models.build("cf_mlp", layers=1, neurons=8, activation="tanh")[2], nn.Tanh)
    with pytest.raises(ParameterError):
        models.build("cf_mlp", activation="relu")


def test_cnn_structure_pooling_and_sizes():
    m = models.build("cf_cnn", layers=2, kernel=3, pool=2, filters=4, pooling="max")
    # 28 -conv3-> 26 -pool-> 13 -conv3-> 11 -pool-> 5: flatten 4*5*5 = 100 -> dense 200 -> 10
    assert m(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    dense = [x for x in m if isinstance(x, nn.Linear)]
    assert dense[0].in_features == 100 and dense[0].out_features == 200
    drops = [x.p for x in m if isinstance(x, nn.Dropout)]
    assert drops == [0.25, 0.5]  # after the second conv layer and after the dense layer
    none = models.build("cf_cnn", layers=2, kernel=3, filters=4, pooling="none")
    assert not any(isinstance(x, nn.MaxPool2d) for x in none)
    assert [x for x in none if isinstance(x, nn.Linear)][0].in_features == 4 * 24 * 24
    with pytest.raises(ParameterError):
        models.build("cf_cnn", layers=4, kernel=5)  # feature maps vanish
    with pytest.raises(ParameterError):
        models.build("cf_cnn", pooling="avg")


def test_deviations_hit_pre_activations_and_after_activation_option():
    """The default sites are the Linear outputs (before the clipped ReLU); 'after' hooks the activations + logits."""
    m = models.build("cf_mlp", layers=2, neurons=8)
    fault = cfc.uniform(type("S", (), {"value_range": [-1.0, 1.0]})())
    assert [n for n, _ in fault.select(m)] == ["1", "3", "6"]
    assert cfh.after_activation_layers(m) == ["2", "4", "6"]
    # with p = 1 every pre-activation is uniform in [-1, 1], so the hidden activations lie in [0, 1]
    seen = []
    h = m[2].register_forward_hook(lambda mod, i, o: seen.append((i[0].min().item(), i[0].max().item())))
    with faults.inject(m.eval(), faults.ConditionallyUniform(value_range=(-1.0, 1.0)), 1.0, seed=0):
        m(torch.rand(16, 1, 28, 28) * 50)
    h.remove()
    lo, hi = seen[0]
    assert -1.0 <= lo < -0.5 and 0.5 < hi <= 1.0


# ----------------------------------------------------------------------------- the rule of Figures 3-6

def _table():
    # three models; errors at p = 0 and p = 1e-3 (hand-made)
    rows = [("small", 100, 0.0, 0.020), ("small", 100, 1e-3, 0.030),
            ("medium", 300, 0.0, 0.018), ("medium", 300, 1e-3, 0.024),
            ("large", 1000, 0.0, 0.015), ("large", 1000, 1e-3, 0.019)]
    return pd.DataFrame(rows, columns=["model", "params", "rate", "mean"])


def test_smallest_meeting_on_a_hand_made_table():
    needed = cff.smallest_meeting(_table(), [0.016, 0.020, 0.024, 0.010])
    get = lambda t, r: needed[(needed.target == t) & (needed.rate == r)].iloc[0]  # noqa: E731
    assert get(0.020, 0.0)["model"] == "small" and get(0.020, 0.0)["params"] == 100  # meets exactly (≤)
    assert get(0.020, 1e-3)["model"] == "large"  # small and medium exceed 0.020 under deviations
    assert get(0.024, 1e-3)["model"] == "medium"  # 0.024 ≤ 0.024
    assert get(0.016, 0.0)["model"] == "large" and math.isnan(get(0.016, 1e-3)["params"])
    assert math.isnan(get(0.010, 0.0)["params"]) and pd.isna(get(0.010, 0.0)["model"])
    assert len(needed) == 4 * 2
    # overheads: 0.024 needs small (100) at p = 0, medium (300) at 1e-3 → +200 %
    assert cff.overhead(needed, 0.024, 1e-3) == pytest.approx(200.0)
    assert cff.overhead(needed, 0.020, 1e-3) == pytest.approx(900.0)
    assert math.isnan(cff.overhead(needed, 0.016, 1e-3))  # unreachable at p = 1e-3
    assert math.isnan(cff.overhead(needed, 0.010, 1e-3))  # unreachable at p = 0
    r = cff.reachability(needed).set_index("target")
    assert r.loc[0.016, "met_at_p0"] and r.loc[0.016, "met_fraction_p>0"] == 0.0
    assert r.loc[0.024, "met_fraction_p>0"] == 1.0 and not r.loc[0.010, "met_at_p0"]


def test_smallest_meeting_ties_go_to_the_lower_error():
    t = pd.DataFrame([("a", 100, 0.0, 0.02), ("b", 100, 0.0, 0.01)], columns=["model", "params", "rate", "mean"])
    assert cff.smallest_meeting(t, [0.03]).iloc[0]["model"] == "b"


def test_headline_and_shifted_targets():
    needed = cff.smallest_meeting(_table(), [0.024])
    h = cff.headline(needed, 0.024, 1e-3)
    assert h["overhead_pct"] == pytest.approx(200.0) and (h["model_p0"], h["model_p"]) == ("small", "medium")
    assert cff.shifted_targets([0.016, 0.024], 0.016, 0.03) == [0.03, 0.038]
    assert cff.paper_targets("CF-F3")[0] == pytest.approx(0.016) and len(cff.paper_targets("CF-F3")) == 15
    assert len(cff.paper_targets("CF-F5")) == 15 and len(cff.paper_targets("CF-F6")) == 15


def test_best_per_depth_ranks_by_validation_error():
    t = pd.DataFrame({"model": list("abcde"), "L": [1, 1, 1, 2, 2], "val_error": [0.03, 0.01, 0.02, 0.05, 0.04],
                      "params": [1, 2, 3, 4, 5]})
    got = cfc.best_per_depth(t, 2)
    assert list(got["model"]) == ["b", "c", "e", "d"]


def test_depth_effect_and_spearman():
    rows = []
    for L, e in ((1, 0.05), (2, 0.04), (3, 0.03)):
        rows += [{"model": f"m{L}", "L": L, "rate": 0.0, "mean": 0.02}, {"model": f"m{L}", "L": L, "rate": 5e-3, "mean": e}]
    eff = cfh.depth_effect(pd.DataFrame(rows))
    assert eff["rho"] == pytest.approx(-1.0) and eff["best_L_p"] == 3
    assert math.isnan(cfh.spearman([1, 1], [2, 3]))


def test_hyperparameter_verdicts_on_a_hand_made_table():
    def row(c, v, inc, ci=0.001):
        return {"comparison": c, "variant": v, "model": "x", "err_p0": 0.02, "err_p": 0.02 + inc,
                "ci_halfwidth": ci, "increase": inc}
    comp = pd.DataFrame([row("activation (MLP)", "clipped ReLU", 0.010), row("activation (MLP)", "tanh", 0.012),
                         row("activation (CNN)", "clipped ReLU", 0.010), row("activation (CNN)", "tanh", 0.050),
                         row("pooling (CNN)", "max", 0.010), row("pooling (CNN)", "none", 0.008),
                         row("placement (MLP)", "before activation", 0.010),
                         row("placement (MLP)", "after activation", 0.030),
                         row("placement (CNN)", "before activation", 0.010),
                         row("placement (CNN)", "after activation", 0.005)])
    from ftlib import claims

    vs = cfh.hyperparameter_verdicts(comp)
    decided = [claims.decide(claims.get(v["key"]), **{k: v[k] for k in ("p_value", "estimate", "se", "summary")
                                                     if k in v}).passed for v in vs]
    assert decided == [True, False, True, True, False]
    assert [v["key"] for v in vs][:2] == ["CF-H:activation_MLP", "CF-H:activation_CNN"]


# ----------------------------------------------------------------------------- sections and an end-to-end smoke

def test_sections_registered_with_profiles():
    for key in ("computation_failures/hyperparameters", "computation_failures/fault_tolerance"):
        sec = sections.get(key)
        for profile in ("smoke", "quick", "paper"):
            s = sections.resolve(key, {"profile": profile, "seed": 0})
            assert s.value_range == [-1.0, 1.0]
    with pytest.raises(ParameterError):
        sections.resolve("computation_failures/fault_tolerance", {"profile": "smoke", "seed": 0, "target_mode": "x"})
    assert set(sections.get("computation_failures/hyperparameters").ids) == {"CF-F1", "CF-F2", "CF-H"}


def test_smoke_pipeline_end_to_end(tmp_cache):
    require_data("mnist")
    s = sections.resolve("computation_failures/fault_tolerance", {"profile": "smoke", "seed": 0})
    tables, summaries, needed = cff.size_study(s)
    assert set(summaries) == {"CF-F3", "CF-F4", "CF-F5", "CF-F6"}
    for key, n in needed.items():
        assert set(n.columns) >= {"target", "rate", "params", "model"} and len(n) == 15 * len(s.rates)
    # the validation set is held out from training
    xv, yv, ident = cfc.validation_set(s)
    assert len(xv) == s.n_val and ident["split"] == "train-heldout"
    # same configuration → served from the cache, identical numbers
    again = cff.size_study(s)[1]
    pd.testing.assert_frame_equal(summaries["CF-F3"], again["CF-F3"])
    assert bool(tables["mlp"]["cached"].eq(False).all())
