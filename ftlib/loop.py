"""The one training loop of ftlib: the cache entry, epochs, seeds, progress, checkpoint and resume.

Every trainer is this skeleton plus its own epoch: the supervised loop (:func:`ftlib.training.train`),
the spiking loop (:func:`ftlib.training_snn.train_snn`) and adversarial_ft's Phase I
(:func:`ftlib.adversarial.pretrain`). A trainer

1. asks :func:`cached` for its model: one cache entry per configuration, salted with the ftlib source
   the trainer imports (:func:`ftlib.codemap.salt_parts`, derived, never hand-listed), filled by one
   process under the store's lock (:meth:`ftlib.store.Entry.fill`) while the others wait and load it;
2. on a miss, builds its modules and optimizers and hands :func:`run_epochs` a ``run_epoch(epoch)``
   function. :func:`run_epochs` restores the last checkpoint (modules, optimizers, history, elapsed time
   and the trainer's own extra state), runs the remaining epochs, and checkpoints after an epoch once
   :func:`ftlib.config.checkpoint_seconds` (60 s) of training have passed since the last one, so an
   interrupted run resumes at its last checkpointed epoch with the numbers of an uninterrupted one, having
   lost at most that much work (``FTLIB_CHECKPOINT_SECONDS=0``: a checkpoint after every epoch).

Seeds: epoch ``e`` of a run seeded ``s`` draws its data order, dropout and fault draws from generators
seeded by :func:`epoch_seed` ``(s, e)`` plus a fixed offset each (each trainer's ``run_epoch`` says which),
never from a generator carried over from the previous epoch, which is what makes resuming exact.

Devices (:mod:`ftlib.device`): the trainers keep data, models and accumulators on their device and
read a number back to the host once per epoch (the history row), not once per batch; index orders are
drawn with CPU generators and moved, so the same seed visits the data in the same order on any device.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn as nn

from . import codemap, config


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of epoch ``epoch`` (0-based) of a run seeded ``seed``: data order, dropout and fault
    draws of that epoch are seeded from it (plus a fixed offset each), so a run resumed at an epoch
    boundary gives the numbers of an uninterrupted one."""
    return (seed * 1_000_003 + epoch * 7919 + 17) % (2**63 - 1)


def progress(iterable, total: int, desc: str):
    """``iterable`` wrapped in a tqdm bar, or unchanged when ftlib is quiet (``FTLIB_QUIET``, built book)."""
    if config.quiet():
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False)


def batches(order: torch.Tensor, batch_size: int, desc: str) -> Iterator[torch.Tensor]:
    """The index batches ``order[i:i + batch_size]`` of one epoch (``order``: a permutation, shape ``(n,)``,
    on the data's device), behind a progress bar."""
    starts = range(0, len(order), batch_size)
    for i in progress(starts, len(starts), desc):
        yield order[i:i + batch_size]


def shuffled(n: int, seed: int, device: torch.device) -> tuple[torch.Tensor, torch.Generator]:
    """One epoch's data order: a permutation of ``range(n)`` drawn with a CPU generator seeded ``seed`` and
    moved to ``device`` (the same order on every device), and that generator (trainers draw their
    per-batch fault seeds from it after the permutation)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=gen).to(device), gen


def cached(store, kind: str, key: dict, module: str, load: Callable, fit: Callable, what: str):
    """The trained result of configuration ``key``: ``load(entry)`` from the cache, or ``fit(entry)`` under
    the entry's lock (``fit`` stores it). The entry of ``(kind, key)`` is salted with the source of ftlib
    module ``module`` and everything it imports (:func:`ftlib.codemap.salt_parts`)."""
    entry = store.entry(kind, key, codemap.salt_parts(module))
    # the store's one locking rule: of several processes asking for key, one trains, the others load
    return entry.fill(lambda: load(entry), lambda: fit(entry), what)


@dataclass
class Resumable:
    """What a run checkpoints after every epoch besides its history: its modules and optimizers by name,
    and the trainer's extra state (``save()`` → a dict of tensors and numbers; ``restore(dict)``)."""

    modules: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    save: Callable[[], dict[str, Any]] = field(default=dict)
    restore: Callable[[dict[str, Any]], None] = field(default=lambda extra: None)


@dataclass
class Run:
    """What :func:`run_epochs` returns: every history row (one or more per epoch, in order), the seconds
    spent inside ``run_epoch`` over all epochs (resumed runs included), and the epochs completed."""

    history: list[dict]
    elapsed: float
    epochs_done: int


def _history_tensor(history: list[dict]) -> tuple[list[str], torch.Tensor]:
    keys = list(history[0]) if history else []
    if any(list(h) != keys for h in history):
        raise ValueError(f"history rows must share their keys ({keys}) to be checkpointed")
    return keys, torch.tensor([[float(h[k]) for k in keys] for h in history], dtype=torch.float64)


def run_epochs(entry, epochs: int, state: Resumable, run_epoch: Callable[[int], list[dict]],
               stop: Callable[[], bool] | None = None) -> Run:
    """Run epochs ``start..epochs - 1`` of a training, ``start`` being the epoch after the last checkpoint of
    cache entry ``entry`` (0 without one), restoring ``state`` from that checkpoint first.

    ``run_epoch(epoch)`` trains one epoch (0-based) and returns its history rows (dicts of numbers with the
    same keys in every row). A checkpoint holds ``state``'s modules and optimizers, the rows so far, the
    elapsed seconds and ``state.save()``; it is written after an epoch when at least
    :func:`ftlib.config.checkpoint_seconds` of ``run_epoch`` time have passed since the last one (or the
    run's start), never after the last epoch (the trainer stores its result next). Writing fewer
    checkpoints changes no number: every epoch is seeded from :func:`epoch_seed`. ``stop()``, asked before
    each epoch, ends the run early (a budget of iterations reached). The checkpoint is left in place: the
    trainer drops it once it has stored its result (:meth:`ftlib.store.Entry.drop_checkpoint`)."""
    history: list[dict] = []
    start, elapsed = 0, 0.0
    ckpt = entry.load_checkpoint()
    if ckpt is not None:
        for name, module in state.modules.items():
            module.load_state_dict(ckpt["modules"][name])
        for name, opt in state.optimizers.items():
            opt.load_state_dict(ckpt["optimizers"][name])
        history = [dict(zip(ckpt["history_keys"], row)) for row in ckpt["history"].tolist()]
        start, elapsed = int(ckpt["epoch"]), float(ckpt["elapsed"])
        state.restore(ckpt["extra"])
    done, every, unsaved = start, config.checkpoint_seconds(), 0.0
    for epoch in range(start, epochs):
        if stop is not None and stop():
            break
        t0 = time.perf_counter()
        history.extend(run_epoch(epoch))
        took = time.perf_counter() - t0
        elapsed, unsaved, done = elapsed + took, unsaved + took, epoch + 1
        if done == epochs or unsaved < every:
            continue
        unsaved = 0.0
        keys, table = _history_tensor(history)
        entry.save_checkpoint({
            "epoch": done, "elapsed": elapsed, "history_keys": keys, "history": table,
            "modules": {name: m.state_dict() for name, m in state.modules.items()},
            "optimizers": {name: o.state_dict() for name, o in state.optimizers.items()},
            "extra": state.save(),
        })
    return Run(history, elapsed, done)
