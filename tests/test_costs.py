"""``ftlib.costs``: a run's cost is measured from a short probe and scaled, never typed in."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from ftlib import costs, not_run

from .conftest import require_data


def test_scaling_is_linear_in_images_and_epochs():
    out = costs._scaled(2.0, probe=500, full=50_000, epochs=15)
    assert out["epoch_seconds"] == 200.0 and out["run_seconds"] == 3000.0 and out["probe_images"] == 500


def test_pattern_generation_is_scaled_to_the_images_it_would_scan(monkeypatch):
    """Generation stops at m_patterns: at a yield of 10 kept per 512 scanned it would scan 5,120 images for
    100 patterns, not the whole training set; with no pattern kept it scans everything."""
    from ftlib import training_snn

    history = [{"train_wall_s": 9.0, "gen_wall_s": 9.0, "new_patterns": 99},  # the warm-up epoch: not used
               {"train_wall_s": 1.0, "gen_wall_s": 4.0, "new_patterns": 10}]
    monkeypatch.setattr(training_snn, "train_snn", lambda cfg, store=None: SimpleNamespace(history=history))
    cfg = training_snn.SNNTrainConfig(method="proposed", epochs=20, fault="NASF", fir=0.05, n_train=48_000)
    out = costs.snn_cost(cfg, probe=512)
    per_image = 4.0 / 512
    assert out["gen_seconds_per_epoch"] == pytest.approx(round(per_image * 512 * cfg.gen.m_patterns / 10, 1))
    assert out["epoch_seconds"] == pytest.approx(round(1.0 * 48_000 / 512 + out["gen_seconds_per_epoch"], 1), abs=0.2)
    history[1]["new_patterns"] = 0
    assert costs.snn_cost(cfg, probe=512)["gen_seconds_per_epoch"] == pytest.approx(round(per_image * 48_000, 1))


def test_a_real_probe_trains_in_a_throwaway_cache(tmp_path, monkeypatch):
    from ftlib.training import TrainConfig

    monkeypatch.setenv("FTLIB_CACHE_DIR", str(tmp_path / "cache"))
    cfg = TrainConfig(arch="cf_mlp", dataset="mnist", epochs=7, batch_size=64, lr=1.0, n_train=0, seed=0,
                      optimizer="adadelta", arch_kwargs={"layers": 1, "neurons": 16, "activation": "crelu"})
    require_data("mnist")
    out = costs.train_cost(cfg, 60_000, probe=256)
    assert out["probe_images"] == 256 and out["epoch_seconds"] > 0
    assert out["run_seconds"] == pytest.approx(out["epoch_seconds"] * 7, abs=0.05 * 7 + 0.05)  # both rounded to 0.1 s
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("config.json"))


def test_the_costs_file_merges_probes_and_records_where_each_was_measured(tmp_path, monkeypatch):
    monkeypatch.setenv("FTLIB_ARCHIVE_DIR", str(tmp_path))
    fake = {"epoch_seconds": 10.0, "run_seconds": 100.0, "epochs": 10, "probe_images": 8, "probe_seconds": 0.1,
            "epoch_images": 800}
    monkeypatch.setattr(costs, "PROBES", {"a": ("probe a", lambda: dict(fake)), "b": ("probe b", lambda: dict(fake))})
    costs.main(["a"])
    costs.main(["b"])
    data = json.loads((tmp_path / "costs.json").read_text())
    assert set(data["probes"]) == {"a", "b"} and data["probes"]["a"]["what"] == "probe a"
    assert data["probes"]["a"]["machine"]["cpus"] >= 1 and data["probes"]["a"]["date"]
    with pytest.raises(Exception, match="unknown cost probe"):
        costs.measure(["nope"])


def test_every_declared_part_names_probes_that_exist():
    assert {p for e in not_run.NOT_RUN for p in e.probes} <= set(costs.PROBES)
