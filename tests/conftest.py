"""Shared fixtures: an isolated cache and results folder per test, the data directory from the environment."""

from __future__ import annotations

import os
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
