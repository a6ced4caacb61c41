"""Bit flips in stored weights: float32 (IEEE 754) and int8 (symmetric per-tensor quantisation).

This is the memory soft-error model that PyTorchFI/MRFI users expect first; it
is not from one of the four papers. The rate is the **bit-error rate** (BER):
every eligible bit of every selected tensor flips independently with
probability ``ber``. Flips are applied through integer views of the storage
(``float32 -> int32``), all in one XOR per tensor: no Python loop over weights
or bits. The number of flipped bits is Binomial(n_bits, ber); their positions
are drawn directly (geometric gaps, O(n_bits · ber) work for small BERs).

Bit numbering: 0 is the least significant bit. For float32, bit 31 is the sign,
30–23 the exponent, 22–0 the mantissa. For int8 (two's complement), bit 7 is
the sign bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..errors import ParameterError
from . import _random as R
from .models import Hit, ParameterFault, _check_bool, check_rate
from .selection import WEIGHT_LAYERS

_INT_VIEW = {torch.float32: torch.int32, torch.int32: torch.int32, torch.int8: torch.int8, torch.uint8: torch.uint8}
_WIDTH = {torch.int32: 32, torch.int8: 8, torch.uint8: 8}


def _check_bits(bits: Sequence[int] | None, width: int) -> tuple[int, ...]:
    if bits is None:
        return tuple(range(width))
    try:
        out = tuple(sorted(set(int(b) for b in bits)))
    except (TypeError, ValueError):
        raise ParameterError(f"bits: expected a list of bit positions, got {bits!r}") from None
    if not out or out[0] < 0 or out[-1] >= width:
        raise ParameterError(f"bits: positions must be in 0..{width - 1} (0 = least significant), got {bits!r}")
    return out


def flip_bits_(t: torch.Tensor, ber: float, generator: torch.Generator | None = None,
               bits: Sequence[int] | None = None) -> Hit:
    """Flip each eligible bit of ``t`` (float32, int32, int8 or uint8) in place with probability ``ber``.

    ``t``: any shape and memory format. ``bits``: the eligible bit positions
    (default: all). Returns a :class:`~ftlib.faults.models.Hit` of kind
    ``"bit"`` listing each flipped (element, bit) in logical row-major order.
    """
    ber = check_rate(ber, "ber")
    if t.dtype not in _INT_VIEW:
        raise ParameterError(f"bit flips: unsupported dtype {t.dtype} (float32, int32, int8 or uint8)")
    ints = t.view(_INT_VIEW[t.dtype])
    width = _WIDTH[ints.dtype]
    elig = _check_bits(bits, width)
    nb = len(elig)
    n = t.numel()
    pos = R.bernoulli_positions(n * nb, ber, generator, t.device)
    elem = torch.div(pos, nb, rounding_mode="floor")
    bit_t = torch.tensor(elig, dtype=torch.long, device=t.device)[pos - elem * nb]
    if pos.numel():
        xor = torch.zeros(n, dtype=torch.long, device=t.device)
        xor.scatter_add_(0, elem, torch.ones_like(bit_t) << bit_t)  # distinct bits of one element: sum == OR
        if ints.dtype != torch.uint8:  # two's complement wrap into the signed range
            half = 1 << (width - 1)
            xor = torch.where(xor >= half, xor - (1 << width), xor)
        ints.bitwise_xor_(xor.to(ints.dtype).view(t.shape))
    return Hit("bit", elem, tuple(t.shape), bit_t)


def flip_bits(t: torch.Tensor, ber: float, generator: torch.Generator | None = None,
              bits: Sequence[int] | None = None) -> torch.Tensor:
    """Out-of-place :func:`flip_bits_`: a copy of ``t`` with flipped bits."""
    out = t.clone()
    flip_bits_(out, ber, generator, bits)
    return out


def quantize_int8(w: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Symmetric per-tensor int8 quantisation: ``q = clamp(round(w / s), -127, 127)``
    with ``s = max|w| / 127`` (``s = 1`` for an all-zero tensor). Returns ``(q, s)``."""
    amax = float(w.detach().abs().max()) if w.numel() else 0.0
    scale = amax / 127.0 if amax > 0 else 1.0
    q = torch.round(w.detach() / scale).clamp_(-127, 127).to(torch.int8)
    return q, scale


def dequantize_int8(q: torch.Tensor, scale: float, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``q * scale`` as ``dtype``. Note a flipped sign bit can give -128."""
    return q.to(dtype) * scale


class BitFlip(ParameterFault):
    """Random bit flips in stored weights with a bit-error rate (the rate).

    ``format="float32"`` (default): flips bits of the float32 weights
    themselves (IEEE 754; an exponent flip can make a weight huge, inf or NaN —
    as in memory). ``format="int8"``: each selected tensor is quantised
    (symmetric, per tensor, see :func:`quantize_int8`), the bits of the int8
    codes are flipped, and the result is dequantised into the float weights:
    at rate 0 the model is the clean *quantised* model.

    ``bits``: restrict flips to these bit positions (e.g. ``[31]`` sign only,
    ``range(23, 31)`` exponent only); the BER applies to each eligible bit.
    ``include_bias``: also flip bias bits (default: weights only).
    Default layers: every Linear/Conv. ``permanent=True`` (default): stored
    corruption fixed for the faulty instance; ``False``: redrawn at every
    forward call of the layer (read errors).
    """

    default_permanent = True

    def __init__(self, layers: object = None, permanent: bool | None = None, *, format: str = "float32",
                 bits: Sequence[int] | None = None, include_bias: bool = False):
        super().__init__(layers, permanent)
        if format not in ("float32", "int8"):
            raise ParameterError(f"format: expected 'float32' or 'int8', got {format!r}")
        self.format = format
        self.bits = None if bits is None else _check_bits(bits, 32 if format == "float32" else 8)
        self.include_bias = _check_bool(include_bias, "include_bias")

    def default_layers(self):
        return WEIGHT_LAYERS

    def tensors(self, module: nn.Module) -> dict[str, torch.Tensor]:
        out = {}
        for name in ("weight", "bias") if self.include_bias else ("weight",):
            t = getattr(module, name, None)
            if isinstance(t, torch.Tensor):
                if t.dtype != torch.float32:
                    raise ParameterError(
                        f"BitFlip: {type(module).__name__}.{name} is {t.dtype}; bit flips need float32 weights "
                        "(call model.float())"
                    )
                out[name] = t
        if "weight" not in out:
            raise ParameterError(f"BitFlip: layer {type(module).__name__} has no weight tensor")
        return out

    def corrupt_(self, tensors, rate, gen):
        hits = {}
        for name, t in tensors.items():
            if self.format == "float32":
                hits[name] = flip_bits_(t, rate, gen, self.bits)
            else:
                q, scale = quantize_int8(t)
                hits[name] = flip_bits_(q, rate, gen, self.bits)
                t.copy_(dequantize_int8(q, scale, t.dtype))
        return hits

    def _args(self):
        args = {"layers": self.layers, "permanent": self.permanent, "format": self.format}
        if self.bits is not None:
            args["bits"] = list(self.bits)
        if self.include_bias:
            args["include_bias"] = True
        return args
