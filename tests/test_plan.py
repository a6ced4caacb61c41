"""``ftlib.plan`` (``python -m ftlib.build --plan``): what a profile would cost, measured from probes, with the
cache read but never written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ftlib import plan
from ftlib.training import TrainConfig

from .conftest import require_data

ROOT = Path(__file__).resolve().parent.parent


def test_describe_names_a_run_by_its_non_default_fields():
    cfg = TrainConfig(arch="cf_mlp", dataset="mnist", epochs=15, n_train=50_000, l2=1e-3,
                      arch_kwargs={"layers": 2, "neurons": 64})
    text = plan.describe(cfg)
    assert text.startswith("TrainConfig(arch=cf_mlp, layers=2, neurons=64, dataset=mnist")
    assert "l2=0.001" in text and "epochs=15" in text and "l1" not in text


def test_a_sweep_is_reduced_to_two_draws_on_few_images_and_scaled_back():
    import torch

    args = {"model": None, "fault": "f", "rates": [0.1, 0.2], "data": (torch.zeros(1000, 3), torch.zeros(1000)),
            "draws": 10, "ci_width": None, "max_draws": None, "margin": None, "campaign": None}
    scale, what = plan._reduce_sweep(args)
    assert args["draws"] == 2 and len(args["data"][0]) == plan.SWEEP_IMAGES
    assert scale == pytest.approx(10 / 2 * 1000 / plan.SWEEP_IMAGES)
    assert "2 rates × 10 draws × 1000 images" in what
    # adaptive sweeps are planned at their cap, and run with a fixed number of draws
    args.update(draws=5, ci_width=0.01, max_draws=40, data=(torch.zeros(100, 3), torch.zeros(100)))
    scale, _ = plan._reduce_sweep(args)
    assert scale == pytest.approx(40 / 2) and args["ci_width"] is None and args["max_draws"] is None
    # a campaign replays its own faults: run as it is
    assert plan._reduce_sweep({**args, "campaign": object()}) is None


def test_two_point_extrapolation_pays_a_fixed_cost_once():
    """Probes of 1 s at 1 unit and 1.5 s at 4 units: a fixed 5/6 s plus 1/6 s per unit, so 100 units cost
    1.5 + 96 / 6 = 17.5 s, where scaling the small probe linearly said 100 s."""
    assert plan.two_point(1.0, 1.0, 1.5, 4.0, 100.0) == pytest.approx(17.5)
    assert plan.two_point(2.0, 0.01, 1.9, 0.04) == pytest.approx(1.9), "noise: never a negative marginal cost"
    assert plan.two_point(1.0, 0.25, 3.0, 1.0) == 3.0, "the larger probe was the whole call"
    # a purely linear cost is extrapolated exactly
    assert plan.two_point(0.2, 0.1, 0.8, 0.4) == pytest.approx(2.0)


def test_monte_carlo_is_reduced_in_draws_only():
    import torch

    args = {"x": torch.zeros(7, 3), "draws": 6400}
    scale, what = plan._reduce_monte_carlo(args)
    assert args["draws"] == plan.MC_DRAWS and scale == 100 and "7 inputs" in what
    args = {"x": torch.zeros(7, 3), "draws": 10}
    assert plan._reduce_monte_carlo(args)[0] == 1 and args["draws"] == 10
    args = {"x": torch.zeros(7, 3), "draws": 6400}
    assert plan._reduce_monte_carlo(args, factor=plan.GROW)[0] == 25 and args["draws"] == plan.GROW * plan.MC_DRAWS


def test_summary_counts_the_rest_as_measured_and_adds_up():
    rows = [{"section": "a/b", "kind": "train", "what": "m", "cached": False, "probe_s": 2.0, "estimate_s": 100.0},
            {"section": "a/b", "kind": "cached", "what": "s", "cached": True, "probe_s": 0.0, "estimate_s": 0.0},
            {"section": "a/c", "kind": "sweep", "what": "s", "cached": False, "probe_s": 1.0, "estimate_s": 10.0}]
    out = plan.summarize(rows, {"a/b": 5.0, "a/c": 0.5}, {"a/c": "boom"})
    assert out["sections"]["a/b"]["rest_seconds"] == 3.0 and out["sections"]["a/b"]["estimate_seconds"] == 103.0
    assert out["sections"]["a/c"]["rest_seconds"] == 0.0 and out["sections"]["a/c"]["failed"] == "boom"
    assert out["total_seconds"] == 113.0 and out["sections"]["a/b"]["cached"] == 1
    text = plan.render(out, "paper")
    assert "PARTIAL" in text and "total: 1.9 min" in text


def test_not_active_without_the_variable(monkeypatch):
    monkeypatch.delenv(plan.ENV, raising=False)
    assert plan.active() is False and plan.install() is False


_SCRIPT = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    import torch
    from ftlib import faults, plan, training
    from ftlib.experiments.continuous_limit import _config as cf
    from ftlib.store import Store
    from ftlib.training import TrainConfig

    cache = Path(os.environ["FTLIB_CACHE_DIR"])
    small = TrainConfig(arch="cf_mlp", dataset="mnist", epochs=1, n_train=256, batch_size=64,
                        arch_kwargs={"layers": 1, "neurons": 16})
    training.train(small)  # cached before plan mode
    before = sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file())
    original = training.train
    assert plan.install()
    # rebound wherever ftlib bound it by name, not only in its own module
    assert training.train is not original and cf.train is training.train
    again = cf.train(small)
    big = TrainConfig(arch="cf_mlp", dataset="mnist", epochs=40, n_train=4096, batch_size=64,
                      arch_kwargs={"layers": 1, "neurons": 16})
    probe = training.train(big)  # not cached: a probe, in a throw-away cache
    x, y = torch.rand(1000, 1, 28, 28), torch.randint(0, 10, (1000,))
    res = faults.sweep(probe.model, faults.StuckAtZero("weights"), [0.1], (x, y), draws=10)
    after = sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file())
    rows = [json.loads(l) for l in Path(os.environ["FTLIB_PLAN"]).read_text().splitlines()]
    print(json.dumps({"same_files": before == after, "rows": rows, "probe_epochs": probe.config.epochs,
                      "draws": int(res.table["draw"].nunique()), "again_cached": again.from_cache}))
""")


def test_plan_mode_reads_the_cache_never_writes_it_and_probes_what_is_missing(tmp_path):
    require_data("mnist")
    env = {**os.environ, "FTLIB_CACHE_DIR": str(tmp_path / "cache"), plan.ENV: str(tmp_path / "rows.jsonl"),
           plan.ENV_SECTION: "test/section", "OMP_NUM_THREADS": "1", "FTLIB_QUIET": "1"}
    (tmp_path / "rows.jsonl").touch()
    # install() happens after the first training, so plan mode must not be on at import: the script calls it
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["same_files"], "plan mode wrote into the cache"
    # the sweep is probed at 2 and at 2 × GROW draws; the notebook continues with the larger probe
    assert out["again_cached"] is True and out["probe_epochs"] == 2 and out["draws"] == 2 * plan.GROW
    kinds = [(r["kind"], r["cached"]) for r in out["rows"]]
    assert kinds == [("train", True), ("train", False), ("sweep", False)]
    train_row, sweep_row = out["rows"][1], out["rows"][2]
    assert train_row["detail"]["epochs"] == 40 and train_row["detail"]["epoch_images"] == 4096
    d = train_row["detail"]  # the probe's second epoch, scaled to 4,096 images and 40 epochs
    assert d["probe_images"] == min(plan.TRAIN_PROBE, 4096)
    assert train_row["estimate_s"] == d["run_seconds"]  # probe_seconds is rounded to 1 ms: 160× that is 0.16 s
    assert train_row["estimate_s"] == pytest.approx(d["probe_seconds"] * 4096 / d["probe_images"] * 40, abs=0.2)
    assert sweep_row["detail"]["scale"] == pytest.approx(10 / 2 * 1000 / plan.SWEEP_IMAGES)
    (u1, t1), (u2, t2) = sweep_row["detail"]["probes"]
    assert u1 == pytest.approx(2 / 10 * plan.SWEEP_IMAGES / 1000) and u2 == pytest.approx(4 * u1)
    assert sweep_row["estimate_s"] == pytest.approx(plan.two_point(t1, u1, t2, u2))
    assert sweep_row["probe_s"] == pytest.approx(t1 + t2)
    assert all(r["section"] == "test/section" for r in out["rows"])


def test_the_build_plans_a_section_without_touching_its_results(tmp_path):
    require_data("mnist")
    from ftlib import build

    out = tmp_path / "plan.json"
    results = ROOT / "book" / "_results" / "continuous_limit" / "theorem1.json"
    before = results.read_bytes() if results.exists() else None
    env = {"FTLIB_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        rc = build.main(["--profile", "smoke", "--plan", "--section", "continuous_limit/theorem1",
                         "--plan-out", str(out)])
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    assert rc == 0
    result = json.loads(out.read_text())
    sec = result["sections"]["continuous_limit/theorem1"]
    assert sec["failed"] is None and any(r["kind"] == "monte_carlo" for r in sec["runs"])
    assert sec["estimate_seconds"] >= sum(r["estimate_s"] for r in sec["runs"])
    assert result["profile"] == "smoke" and result["machine"]["cpus"] and result["commit"]
    assert not any((tmp_path / "cache").rglob("*.json")), "plan mode wrote into the cache"
    assert (results.read_bytes() if results.exists() else None) == before
