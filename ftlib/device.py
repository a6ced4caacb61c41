"""Where ftlib computes: one rule for the whole package.

Every public function that touches tensors takes ``device=None``; ``None`` means the environment's choice,
``FTLIB_DEVICE``:

- ``auto`` (the default): the first CUDA device if torch sees one, else the CPU;
- ``cpu``, ``cuda`` (= ``cuda:0``), ``cuda:N``, ``mps``: that device, or one error saying it is not there
  and how to choose another;
- ``meta``: no numbers at all, only shapes — for tests that check every tensor follows the device and
  that a hot loop never reads a value back to the host (a ``.item()`` fails on ``meta``).

Fault draws stay on CPU generators wherever a seed chooses them (:mod:`ftlib.faults._random` draws on the
generator's device and moves the result), so one seed selects the same faulty sites on every device. A
model trained on an accelerator is a cache entry of its own (:func:`cache_key`); CPU keys are those of a
build without this module.
"""

from __future__ import annotations

import os
import re

import torch

from .errors import ParameterError

ENV = "FTLIB_DEVICE"
CHOICES = ("auto", "cpu", "cuda", "cuda:N", "mps", "meta")


def resolve(device: str | torch.device | None = None) -> torch.device:
    """The :class:`torch.device` of ``device`` (a name of ``CHOICES`` or a device), or of
    ``$FTLIB_DEVICE`` when ``device`` is None (unset: ``auto``). Raises :class:`~ftlib.errors.ParameterError`
    for an unknown name or a device this machine does not have."""
    where = "device" if device is not None else ENV
    spec = device if device is not None else os.environ.get(ENV, "auto")
    name = str(spec).strip().lower()
    if name == "auto":
        return torch.device("cuda:0") if torch.cuda.is_available() else torch.device("cpu")
    if name in ("cpu", "meta"):
        return torch.device(name)
    if name == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ParameterError(f"{where}={spec!r}: this machine has no MPS device; set {ENV}=cpu (or auto)")
        return torch.device("mps")
    m = re.fullmatch(r"cuda(?::(\d+))?", name)
    if m is None:
        raise ParameterError(f"{where}={spec!r}: expected one of {', '.join(CHOICES)}")
    index = int(m.group(1) or 0)
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if index >= count:
        raise ParameterError(f"{where}={spec!r}: torch sees {count} CUDA device(s) on this machine; set {ENV}=cpu, "
                             f"auto, or cuda:0..cuda:{count - 1}" if count else
                             f"{where}={spec!r}: torch sees no CUDA device on this machine (torch "
                             f"{torch.__version__}, CUDA build {torch.version.cuda}); set {ENV}=cpu or auto")
    return torch.device("cuda", index)


def cache_key(device: torch.device) -> dict:
    """What a device adds to a trained model's cache key: nothing on the CPU (keys stay those of a CPU-only
    build), ``{"device": "cuda"}`` (the device type, not its index: two GPUs of one kind give one entry)
    elsewhere, because an accelerator's kernels round differently."""
    return {} if device.type == "cpu" else {"device": device.type}
