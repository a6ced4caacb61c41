"""The training-method catalogue (:mod:`ftlib.methods`): one name, one configuration, everywhere."""

from __future__ import annotations

import pytest

from ftlib import methods
from ftlib.errors import ParameterError
from ftlib.params import Settings
from ftlib.training import TrainConfig

BASE = TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1)


def test_a_method_sets_exactly_its_fields():
    assert methods.configure("none", BASE) == BASE
    assert methods.configure("l1", BASE, l1=1e-4) == TrainConfig(**{**BASE.__dict__, "l1": 1e-4})
    cfg = methods.configure("dropout", BASE, dropout=0.2, dropout_layer="6")
    assert (cfg.dropout, cfg.dropout_layer) == (0.2, "6") and cfg.l1 == cfg.l2 == 0.0
    with pytest.raises(ParameterError, match="sets l2; got l1"):
        methods.configure("l2", BASE, l1=1e-4)
    with pytest.raises(ParameterError, match="sets dropout, dropout_layer; got dropout"):
        methods.configure("dropout", BASE, dropout=0.2)
    with pytest.raises(ParameterError, match="two phases"):
        methods.configure("adversarial", BASE)
    with pytest.raises(ParameterError, match="unknown training method 'lasso'; known: none, l1"):
        methods.get("lasso")


def test_the_study_and_the_chapters_configure_through_the_catalogue():
    """The beyond study's methods are the catalogue's (labels and papers included), and adversarial_ft's
    Lasso / Tikhonov baselines are the catalogue's l1 / l2 of the same plain model."""
    from ftlib.experiments.adversarial_ft import _config as aft
    from ftlib.experiments.adversarial_ft.adversarial_framework import SECTION as T2
    from ftlib.experiments.beyond import _config as beyond
    from ftlib.experiments.beyond.methods_faults import SECTION

    assert beyond.METHODS == methods.METHOD_NAMES
    assert beyond.METHOD_LABELS["fault_aware"] == methods.get("fault_aware").label
    s = Settings({**SECTION.profiles["smoke"], "seed": 0})
    plain = beyond.train_config(s, "aft_arch1", "none", 0)
    assert beyond.train_config(s, "aft_arch1", "l1", 0) == methods.configure("l1", plain, l1=s.l1)
    t2 = Settings({**T2.profiles["smoke"], "seed": 0})
    none = aft.baseline_config(t2, "aft_arch1", "tikhonov", 0.0)
    assert aft.baseline_config(t2, "aft_arch1", "lasso", 1e-4) == methods.configure("l1", none, l1=1e-4)
    with pytest.raises(ParameterError):
        beyond.train_config(s, "aft_arch1", "magic", 0)
