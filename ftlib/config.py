"""Where ftlib finds data and keeps its cache, from environment variables.

- ``FTLIB_DATA_DIR``: the data directory searched first for every dataset
  (CI points it at ``../shared/data``). Default: ``~/.local/share/ftlib/data``.
- ``FTLIB_CACHE_DIR``: the cache of trained models and results.
  Default: ``~/.cache/ftlib``.
- ``FTLIB_ALLOW_DOWNLOAD``: ``1`` lets :mod:`ftlib.data` download a missing
  dataset from its official mirrors into the data directory. Default: off.
- ``FTLIB_CHECKPOINT_SECONDS``: the least training time between two checkpoints of a
  run (:func:`ftlib.loop.run_epochs`); ``0`` checkpoints after every epoch. Default: 60.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """The configured data directory (it may not exist)."""
    env = os.environ.get("FTLIB_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return Path.home() / ".local" / "share" / "ftlib" / "data"


def cache_dir() -> Path:
    """The configured cache directory (created on first use by :mod:`ftlib.store`)."""
    env = os.environ.get("FTLIB_CACHE_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return Path.home() / ".cache" / "ftlib"


def download_allowed() -> bool:
    """True when the user opted in to downloads with ``FTLIB_ALLOW_DOWNLOAD=1``."""
    return os.environ.get("FTLIB_ALLOW_DOWNLOAD", "").strip().lower() in {"1", "true", "yes", "on"}


def checkpoint_seconds() -> float:
    """The least seconds of training between two checkpoints of a run (``FTLIB_CHECKPOINT_SECONDS``, default
    60; ``0``: after every epoch). An interrupted run loses at most this much work; a run of short epochs
    does not spend its time writing checkpoints (an SNN checkpoint holds every epoch's weights)."""
    from .errors import ParameterError

    env = os.environ.get("FTLIB_CHECKPOINT_SECONDS", "").strip()
    if not env:
        return 60.0
    bad = ParameterError(f"FTLIB_CHECKPOINT_SECONDS={env!r}: expected a number of seconds >= 0 (0: every epoch)")
    try:
        value = float(env)
    except ValueError:
        raise bad from None
    if not value >= 0:  # also NaN
        raise bad
    return value


def quiet() -> bool:
    """True when progress bars must stay off (``FTLIB_QUIET=1``; the book build sets it)."""
    return os.environ.get("FTLIB_QUIET", "").strip().lower() in {"1", "true", "yes", "on"}


def repo_root() -> Path | None:
    """The book's checkout (the folder holding ``_toc.yml``) when ftlib runs from one, else None."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "_toc.yml").exists() else None


def results_dir() -> Path:
    """Where notebooks write result records and figure files (``FTLIB_RESULTS_DIR``).

    Default: ``<checkout>/book/_results`` inside a checkout of the book, else ``./ftlib_results``.
    """
    env = os.environ.get("FTLIB_RESULTS_DIR")
    if env:
        return Path(env).expanduser().resolve()
    root = repo_root()
    return root / "book" / "_results" if root else Path.cwd() / "ftlib_results"
