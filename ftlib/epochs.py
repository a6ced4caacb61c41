"""What every training loop of ftlib shares per epoch: its seed and its progress bar.

Kept apart from :mod:`ftlib.training` so that a loop which only needs these
(the spiking loop of :mod:`ftlib.training_snn`) does not depend on the
supervised loop's source: the cache salt of a trained model hashes the files
it depends on (:func:`ftlib.store.code_salt`), and an edit of
``training.py`` must not invalidate the spiking models.
"""

from __future__ import annotations

from . import config


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
