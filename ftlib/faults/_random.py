"""Random primitives shared by every fault model (all vectorised, all seeded).

Everything here takes an explicit :class:`torch.Generator`, so a fault draw is
a pure function of ``(generator state, shapes, rate)``. Indices are *logical*
(row-major over the tensor's shape), never memory offsets, so a draw does not
depend on the memory format (``channels_last`` or not) of the tensor it hits.
"""

from __future__ import annotations

import hashlib
import math

import torch

#: Above this probability an i.i.d. Bernoulli draw over ``n`` cells uses one
#: dense ``torch.rand(n) < p``; below it, the positions of the successes are
#: generated directly from geometric gaps (cost O(n p) instead of O(n)).
DENSE_BERNOULLI_ABOVE = 0.05


def derive_seed(seed: int, *keys: object) -> int:
    """A 63-bit seed derived from ``seed`` and ``keys`` by a stable hash (BLAKE2b).

    Stable across processes and Python versions (unlike :func:`hash`), so
    ``derive_seed(0, "0x1.0p-1", 3)`` is the same number everywhere.
    """
    text = repr((int(seed),) + tuple(keys)).encode()
    digest = hashlib.blake2b(text, digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


def derive_generator(seed: int, *keys: object, device: torch.device | str = "cpu") -> torch.Generator:
    """A fresh :class:`torch.Generator` on ``device`` seeded with :func:`derive_seed`."""
    gen = torch.Generator(device=device)
    gen.manual_seed(derive_seed(seed, *keys))
    return gen


def rate_key(rate: float) -> str:
    """The exact, printable key of a rate (``float.hex``): 0.1 and 0.1000001 differ."""
    return float(rate).hex()


def gen_device(gen: torch.Generator | None) -> torch.device:
    return torch.device("cpu") if gen is None else gen.device


def exact_count(fraction: float, n: int) -> int:
    """``round(fraction * n)`` rounded half up (not Python's banker's rounding)."""
    return min(n, int(math.floor(fraction * n + 0.5)))


def choose(n: int, k: int, gen: torch.Generator | None, device: torch.device | str = "cpu") -> torch.Tensor:
    """``k`` distinct indices out of ``range(n)``, uniformly without replacement.

    Returns an int64 tensor of shape ``(k,)`` on ``device`` (drawn on the
    generator's device). ``k == 0`` consumes no randomness.
    """
    if k <= 0:
        return torch.empty(0, dtype=torch.long, device=device)
    if k >= n:
        return torch.arange(n, device=device)
    # int32 permutations are ~2x faster to generate than int64 ones
    dtype = torch.int32 if n < 2**31 else torch.long
    idx = torch.randperm(n, generator=gen, device=gen_device(gen), dtype=dtype)[:k]
    return idx.to(device=device, dtype=torch.long)


def choose_rows(rows: int, n: int, k: int, gen: torch.Generator | None, device: torch.device | str = "cpu") -> torch.Tensor:
    """A boolean ``(rows, n)`` mask with exactly ``k`` True per row, each row an
    independent uniform ``k``-subset (one ``rand`` + ``topk``, no Python loop)."""
    mask = torch.zeros(rows, n, dtype=torch.bool, device=device)
    if k <= 0:
        return mask
    if k >= n:
        return mask.fill_(True)
    keys = torch.rand(rows, n, generator=gen, device=gen_device(gen)).to(device)
    idx = keys.topk(k, dim=1).indices
    return mask.scatter_(1, idx, True)


def bernoulli_positions(n: int, p: float, gen: torch.Generator | None, device: torch.device | str = "cpu") -> torch.Tensor:
    """Sorted positions in ``range(n)`` of i.i.d. Bernoulli(``p``) successes.

    Exact for every ``p``: for small ``p`` the gaps between successes are drawn
    as i.i.d. geometric variables (inverse transform of a float64 uniform), so
    the cost is O(n p) rather than O(n); for ``p > DENSE_BERNOULLI_ABOVE`` one
    dense ``rand(n) < p`` is cheaper. Returns an int64 tensor on ``device``.
    """
    if n <= 0 or p <= 0.0:
        return torch.empty(0, dtype=torch.long, device=device)
    if p >= 1.0:
        return torch.arange(n, device=device)
    gdev = gen_device(gen)
    if p > DENSE_BERNOULLI_ABOVE:
        hits = torch.rand(n, generator=gen, device=gdev) < p
        return hits.nonzero().squeeze(1).to(device)
    log_q = math.log1p(-p)
    mean = n * p
    chunk = int(mean + 6.0 * math.sqrt(mean) + 16)
    parts = []
    last = -1  # position of the last success so far
    while True:
        u = torch.rand(chunk, dtype=torch.float64, generator=gen, device=gdev)
        # number of failures before the next success: floor(log(1-u) / log(1-p)) >= 0
        gaps = torch.floor(torch.log1p(-u) / log_q).clamp_(max=float(n)) + 1.0
        pos = last + torch.cumsum(gaps.to(torch.long), 0)
        if int(pos[-1]) >= n:
            parts.append(pos[pos < n])
            break
        parts.append(pos)
        last = int(pos[-1])
    out = parts[0] if len(parts) == 1 else torch.cat(parts)
    return out.to(device)


def bernoulli_mask(shape: tuple[int, ...], p: float, gen: torch.Generator | None, device: torch.device | str = "cpu") -> torch.Tensor:
    """A boolean tensor of ``shape`` (contiguous) whose cells are i.i.d. Bernoulli(``p``)."""
    n = math.prod(shape)
    if DENSE_BERNOULLI_ABOVE < p < 1.0:  # same random stream as bernoulli_positions, without the round trip
        return (torch.rand(n, generator=gen, device=gen_device(gen)) < p).to(device).view(shape)
    mask = torch.zeros(n, dtype=torch.bool, device=device)
    pos = bernoulli_positions(n, p, gen, device)
    if pos.numel():
        mask[pos] = True
    return mask.view(shape)


def uniform(n: int, lo: float, hi: float, gen: torch.Generator | None, device: torch.device | str = "cpu",
            dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``n`` i.i.d. Uniform[lo, hi) values (drawn in float64, then cast)."""
    u = torch.rand(n, dtype=torch.float64, generator=gen, device=gen_device(gen))
    return (lo + (hi - lo) * u).to(device=device, dtype=dtype)
