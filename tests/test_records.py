"""Result records: what the same seed reproduces exactly is kept apart from measured timings."""

from __future__ import annotations

import json

from ftlib import report as report_mod
from ftlib import sections
from ftlib.store import Store

from .conftest import require_data


def _convergence_record(cache) -> dict:
    """The convergence notebook's record for one (fault, FIR) in smoke, computed from an empty cache."""
    from ftlib.experiments.snn_patterns import convergence as sec

    cfg = sections.resolve("snn_patterns/convergence", {"profile": "smoke", "seed": 0})
    tables = {("NASF", 0.03): sec.convergence_table(cfg, "NASF", 0.03, Store(cache))}
    rep = report_mod.Report("snn_patterns/convergence", cfg)
    sec.compare(rep, tables)
    return json.loads(rep.save().read_text())  # the record as written


def test_two_runs_with_one_seed_give_byte_identical_deterministic_records(tmp_path, monkeypatch):
    """Two trainings from scratch (their CPU times differ): the deterministic record is byte-identical,
    the measured time ratios live in ``timings`` only."""
    require_data("mnist")
    monkeypatch.setenv("FTLIB_RESULTS_DIR", str(tmp_path / "results"))
    first = _convergence_record(tmp_path / "cache1")
    second = _convergence_record(tmp_path / "cache2")
    assert report_mod.deterministic(first) == report_mod.deterministic(second)
    assert any("measured CPU time" in k for k in first["timings"]) and "wall_time_s" in first["timings"]
    text = report_mod.deterministic(first).decode()
    assert "measured CPU time gives" not in text and "÷ previous =" not in text
    for key in report_mod.VARYING:
        assert key not in json.loads(text)
