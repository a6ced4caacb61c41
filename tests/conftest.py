"""Shared fixtures: an isolated cache and results folder per test, the data directory from the environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """A fresh, empty FTLIB_CACHE_DIR (and results dir) for one test."""
    monkeypatch.setenv("FTLIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FTLIB_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path / "cache"


def have_data(name: str) -> bool:
    """True if ftlib can find dataset ``name`` (no download)."""
    from ftlib import data
    from ftlib.errors import DatasetNotFoundError

    try:
        data.load(name, "test")
    except DatasetNotFoundError:
        return False
    return True


def require_data(name: str) -> None:
    """Skip when the dataset is absent *and* no data dir is configured; fail when FTLIB_DATA_DIR is set."""
    if have_data(name):
        return
    if os.environ.get("FTLIB_DATA_DIR"):
        pytest.fail(f"FTLIB_DATA_DIR is set but dataset {name!r} was not found")
    pytest.skip(f"dataset {name!r} not available and FTLIB_DATA_DIR not set")


# ---- the smoke build of the whole book, shared by tests/test_book.py and tests/test_browser.py ----

IGNORE = shutil.ignore_patterns(".git", ".venv", "_build", "_executed", "_results", "_generated", "scoreboard.md", "status.md",
                                "__pycache__", ".pytest_cache", ".ci-cache", "*.egg-info", ".ipynb_checkpoints")


def run_build(copy: Path, cache: Path, *args: str) -> str:
    """``python -m ftlib.build --profile smoke`` in ``copy``; returns its stdout, fails the test on an error."""
    env = {**os.environ, "FTLIB_CACHE_DIR": str(cache)}
    env.pop("FTLIB_RESULTS_DIR", None)
    res = subprocess.run([sys.executable, "-m", "ftlib.build", "--profile", "smoke", *args], cwd=copy,
                         capture_output=True, text=True, env=env, timeout=1800)
    assert res.returncode == 0, f"build failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout


@pytest.fixture(scope="session")
def book(tmp_path_factory):
    """(copy of the checkout, cache, build output) after one smoke build of the whole book (once per session)."""
    base = tmp_path_factory.mktemp("book")
    copy = base / "checkout"
    shutil.copytree(ROOT, copy, ignore=IGNORE)
    out = run_build(copy, base / "cache")
    return copy, base / "cache", out
