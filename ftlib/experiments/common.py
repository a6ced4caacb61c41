"""Helpers shared by the experiments of several papers (one implementation each): cached fault sweeps and
the accuracy-vs-rate band of a :func:`ftlib.stats.summarize` table."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd
import torch

from .. import codemap, distributed, faults
from ..store import Store
from ..training import Trained

SWEEP_CODE = codemap.salt_parts("training", "faults")
"""The ftlib source a sweep result depends on (its cache salt): the trained model's (:mod:`ftlib.training`)
and the whole fault engine (:mod:`ftlib.faults`, the sweep and its campaigns included)."""


def cached_sweep(store: Store, trained: Trained, fault: faults.FaultModel, rates, x: torch.Tensor,
                 y: torch.Tensor, draws: int, seed: int, data_id: dict) -> pd.DataFrame:
    """:func:`ftlib.faults.sweep` of a trained model, cached by everything that determines it.

    ``data_id`` identifies the evaluation set ``(x, y)`` (e.g. dataset, split,
    subset size and seed) — it is part of the cache key, the tensors are not.
    Returns the tidy table (``rate``, ``draw``, ``accuracy``).
    """
    config = {"train": asdict(trained.config), "fault": repr(fault), "rates": [float(r) for r in rates],
              "draws": int(draws), "seed": int(seed), "data": data_id}

    def compute():
        res = faults.sweep(trained.model, fault, rates, (x, y), draws=draws, seed=seed)
        return res.table.to_dict("list")

    # the stored record's keys may come back in another order: fix the column order
    return pd.DataFrame(store.cached_result("sweep", config, compute, code=SWEEP_CODE))[["rate", "draw", "accuracy"]]


def _sweep_task(job, store: Store, x: torch.Tensor, y: torch.Tensor, draws: int, seed: int, data_id: dict):
    trained, fault, rates = job
    return cached_sweep(store, trained, fault, rates, x, y, draws, seed, data_id)


def cached_sweeps(store: Store, jobs, x: torch.Tensor, y: torch.Tensor, draws: int, seed: int,
                  data_id: dict) -> list[pd.DataFrame]:
    """:func:`cached_sweep` of each ``(trained, fault, rates)`` of ``jobs`` on the same evaluation set.

    The sweeps are independent: in this process one after another (no cluster
    configured), or one task each on the workers of ``ftlib.distributed``
    (the evaluation set is sent to them once). Same tables, in the order of ``jobs``.
    """
    return distributed.map(_sweep_task, [tuple(job) for job in jobs], name="sweep", desc="fault sweeps",
                           shared={"store": store, "x": x, "y": y, "draws": int(draws), "seed": int(seed),
                                   "data_id": data_id})


def plot_bands(ax, summary: pd.DataFrame, label: str, scale: float = 100.0, **kwargs):
    """Mean vs rate with its 95 % confidence band (clipped to [0, scale]) on ``ax``; returns the line."""
    (line,) = ax.plot(summary["rate"], scale * summary["mean"], marker="o", ms=3, label=label, **kwargs)
    low = (scale * summary["ci_low"].fillna(summary["mean"])).clip(0, scale)
    high = (scale * summary["ci_high"].fillna(summary["mean"])).clip(0, scale)
    ax.fill_between(summary["rate"], low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    return line


def images(n: int, total: int) -> str:
    """A subset-size setting in words: ``n`` images ("2,000 images"), or "all 60,000 images" for ``n = 0``
    (the notebooks' convention: 0 means the whole split of ``total``)."""
    return f"all {total:,} images" if not n else f"{n:,} images"
