"""Notebooks through papermill, as a user runs them: parameter errors stop before any work;
``--help-notebook`` documents every parameter; the smoke profile runs and is reproducible."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ftlib import sections

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*/*.py"))
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """Every notebook converted once to .ipynb with jupytext (one-way)."""
    out = tmp_path_factory.mktemp("ipynb")
    paths = {}
    for nb in NOTEBOOKS:
        target = out / f"{nb.parent.name}__{nb.stem}.ipynb"
        subprocess.run([BIN / "jupytext", "--to", "ipynb", str(nb), "-o", str(target), "-q"], check=True)
        paths[f"{nb.parent.name}/{nb.stem}"] = target
    return paths


def papermill(nb: Path, out: Path, *args: str, env_cache: Path) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "FTLIB_CACHE_DIR": str(env_cache), "FTLIB_RESULTS_DIR": str(env_cache / "results"),
           "FTLIB_QUIET": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([BIN / "papermill", str(nb), str(out), "--cwd", str(ROOT), *args],
                          capture_output=True, text=True, env=env, timeout=900)


@pytest.mark.parametrize("key", [f"{p.parent.name}/{p.stem}" for p in NOTEBOOKS])
def test_help_notebook_lists_every_parameter(converted, key):
    out = subprocess.run([BIN / "papermill", "--help-notebook", str(converted[key])], capture_output=True,
                         text=True, check=True).stdout
    for name, p in sections.get(key).spec.items():
        line = next((l for l in out.splitlines() if l.strip().startswith(f"{name}:")), None)
        assert line is not None, f"{name} not listed by --help-notebook"
        assert "default" in line


@pytest.mark.parametrize("args, name", [
    (["-p", "no_such_param", "1"], "no_such_param"),
    (["-p", "epochs", "abc"], "epochs"),
    (["-p", "profile", "fast"], "profile"),
    (["-p", "lr", "-1"], "lr"),
])
def test_bad_parameter_fails_before_any_work(converted, tmp_path, args, name):
    nb = converted["adversarial_ft/experiment_setup"]
    cache = tmp_path / "cache"
    res = papermill(nb, tmp_path / "out.ipynb", "-p", "profile", "smoke", *args, env_cache=cache)
    assert res.returncode != 0
    assert f"ParameterError: parameter '{name}'" in res.stderr or f"ParameterError: unknown parameter '{name}'" in res.stderr
    assert not cache.exists(), "nothing may be trained or cached before validation"
    # the error is one message, not a traceback through ftlib
    out = json.loads((tmp_path / "out.ipynb").read_text())
    errors = [o for c in out["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert len(errors) == 1 and len(errors[0]["traceback"]) == 1


def test_smoke_run_is_reproducible_and_cached(converted, tmp_path):
    """Same parameters and seed → same numbers, whether trained anew or loaded from the cache."""
    nb = converted["adversarial_ft/experiment_setup"]
    records = []
    for run, cache in enumerate((tmp_path / "a", tmp_path / "a", tmp_path / "b")):
        res = papermill(nb, tmp_path / f"out{run}.ipynb", "-p", "profile", "smoke", "-p", "seed", "1",
                        env_cache=cache)
        assert res.returncode == 0, res.stderr[-2000:]
        rec = json.loads((cache / "results" / "adversarial_ft" / "experiment_setup.json").read_text())
        records.append(rec)
    ours = [[(c["claim"], c["ours"]) for c in r["comparisons"]] for r in records]
    assert ours[0] == ours[1] == ours[2]
    assert records[0]["profile"] == "smoke" and records[0]["seed"] == 1
    assert all(c["verdict"] == "smoke run: not meaningful" for c in records[0]["comparisons"])
    assert {"python", "torch", "ftlib"} <= set(records[0]["versions"])
    assert records[0]["figures"] and records[0]["wall_time_s"] > 0
