"""Bit flips in stored weights or in activations: float32, float16, bfloat16 and int8.

This is the memory soft-error model that PyTorchFI/MRFI users expect first; it
is not from one of the four papers. The rate is the **bit-error rate** (BER):
every eligible bit of every selected tensor flips independently with
probability ``ber`` (with ``adjacent=k``: every eligible *start* bit starts a
burst of ``k`` adjacent flipped bits of the same word with probability ``ber``,
a multi-bit upset). Flips are applied through integer views of the storage
(``float32 -> int32``, ``float16``/``bfloat16 -> int16``, ``int8``), all in one
XOR per tensor: no Python loop over weights or bits. The number of flipped bits
is Binomial(n_bits, ber); their positions are drawn directly (geometric gaps,
O(n_bits · ber) work for small BERs).

Number formats (``format=``), for weights (``target="weights"``, stored
corruption) and activations (``target="activations"``, a layer's output):

* ``"float32"``: the IEEE 754 single-precision words themselves;
* ``"float16"``, ``"bfloat16"``: the half-precision words; a tensor already in
  that dtype (a half / bfloat16 model) is flipped in place, a float32 tensor is
  rounded to the format, flipped, and widened back (at rate 0: the model with
  weights / activations stored in that format);
* ``"int8"``: symmetric quantisation (``granularity="tensor"``: one scale per
  tensor, :func:`quantize_int8`; ``"channel"``: one scale per output channel,
  dim 0, :func:`quantize_int8_channel`), flip the int8 codes, dequantise. For
  activations the scale is per sample (dim 0), so a sample's result does not
  depend on the rest of its batch. torch's **quantized** layers
  (``torch.ao.nn.quantized`` Linear/Conv: packed int8 weights) are flipped in
  their own integer representation and repacked, with their own scale(s) and
  zero point(s); **fake-quantized** QAT layers (``torch.ao.nn.qat``, with a
  ``weight_fake_quant``) are flipped in the integer domain of their (calibrated)
  fake quantiser and written back dequantised, which the fake quantiser then
  reproduces exactly (freeze its observers first,
  ``model.apply(torch.ao.quantization.disable_observer)``: an observer that
  keeps running re-fits its scale to the faulty weights).

Bit numbering: 0 is the least significant bit. float32: bit 31 sign, 30–23
exponent, 22–0 mantissa; float16: 15 sign, 14–10 exponent, 9–0 mantissa;
bfloat16: 15 sign, 14–7 exponent, 6–0 mantissa; int8 (two's complement): bit 7
is the sign bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.utils.weak import WeakIdKeyDictionary

from ..errors import ParameterError
from . import _random as R
from .models import ActivationFault, Hit, ParameterFault, _check_bool, check_rate
from .selection import WEIGHT_LAYERS

_INT_VIEW = {torch.float32: torch.int32, torch.int32: torch.int32, torch.int8: torch.int8, torch.uint8: torch.uint8,
             torch.float16: torch.int16, torch.bfloat16: torch.int16, torch.int16: torch.int16}
_WIDTH = {torch.int32: 32, torch.int16: 16, torch.int8: 8, torch.uint8: 8}
FORMATS = ("float32", "float16", "bfloat16", "int8")
"""The number formats of :class:`BitFlip`."""
_FLOAT_DTYPE = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
FORMAT_BITS = {"float32": 32, "float16": 16, "bfloat16": 16, "int8": 8}
"""Word width of each format."""


def _quantized_layers() -> tuple[type, ...]:
    """torch.ao.nn.quantized weight layers (packed int8 weights), if this torch has them."""
    try:
        import torch.ao.nn.quantized as nnq
    except ImportError:  # pragma: no cover
        return ()
    return tuple(getattr(nnq, n) for n in ("Linear", "Conv1d", "Conv2d", "Conv3d") if hasattr(nnq, n))


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


def draw_bit_sites(n: int, width: int, ber: float, generator: torch.Generator | None = None,
                   bits: Sequence[int] | None = None, adjacent: int = 1,
                   device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """The flipped bits of ``n`` words of ``width`` bits at bit-error rate ``ber``.

    Returns ``(elem, bit)``, two int64 tensors of equal length: the word (flat,
    row-major) and the bit (0 = least significant) of every flipped bit, each
    (word, bit) pair once. ``adjacent = k > 1``: each eligible start bit ``b``
    (``b + k <= width``) starts a burst of bits ``b .. b+k-1`` with probability
    ``ber``; overlapping bursts in one word flip the union of their bits. With
    ``adjacent=1`` the random stream is the one of the single-bit model.
    """
    elig = _check_bits(bits, width)
    if adjacent > 1:
        elig = tuple(b for b in elig if b + adjacent <= width)
        if not elig:
            raise ParameterError(f"adjacent={adjacent}: no eligible start bit leaves room for the burst in {width} bits")
    nb = len(elig)
    pos = R.bernoulli_positions(n * nb, ber, generator, device)
    elem = torch.div(pos, nb, rounding_mode="floor")
    bit = torch.tensor(elig, dtype=torch.long, device=device)[pos - elem * nb]
    if adjacent > 1 and pos.numel():
        offs = torch.arange(adjacent, device=device)
        start = elem * width + bit  # sorted: bursts overlap only if two consecutive starts are < adjacent apart
        key = (start.unsqueeze(1) + offs).reshape(-1)
        if start.numel() > 1 and bool(((start[1:] - start[:-1]) < adjacent).any()):
            key = key.unique(sorted=True)  # (a burst never crosses its word: starts leave room for it)
        elem = torch.div(key, width, rounding_mode="floor")
        bit = key - elem * width
    return elem, bit


def xor_words(elem: torch.Tensor, bit: torch.Tensor, n: int, width: int, signed: bool = True,
              device: torch.device | str = "cpu") -> torch.Tensor:
    """The XOR pattern of ``n`` words (int64, shape ``(n,)``) with bit ``bit[i]`` of word ``elem[i]`` set
    (pairs distinct), wrapped into the signed range when ``signed`` (two's complement)."""
    xor = torch.zeros(n, dtype=torch.long, device=device)
    if elem.numel():
        xor.scatter_add_(0, elem.to(device), torch.ones_like(bit, device=device) << bit.to(device))  # distinct: sum == OR
        if signed:
            half = 1 << (width - 1)
            xor = torch.where(xor >= half, xor - (1 << width), xor)
    return xor


def xor_bits_(t: torch.Tensor, elem: torch.Tensor, bit: torch.Tensor) -> torch.Tensor:
    """Flip bit ``bit[i]`` of element ``elem[i]`` (flat, row-major; pairs distinct) of ``t`` in place,
    through its integer view, in one XOR. ``t``: float32/float16/bfloat16/int32/int16/int8/uint8."""
    if t.dtype not in _INT_VIEW:
        raise ParameterError(f"bit flips: unsupported dtype {t.dtype} (float32, float16, bfloat16, int32, int16, int8 "
                             "or uint8)")
    ints = t.view(_INT_VIEW[t.dtype])
    if elem.numel():
        width = _WIDTH[ints.dtype]
        xor = xor_words(elem, bit, t.numel(), width, ints.dtype != torch.uint8, t.device)
        ints.bitwise_xor_(xor.to(ints.dtype).view(t.shape))
    return t


def flip_bits_(t: torch.Tensor, ber: float, generator: torch.Generator | None = None,
               bits: Sequence[int] | None = None, adjacent: int = 1) -> Hit:
    """Flip each eligible bit of ``t`` in place with probability ``ber`` (``adjacent``: burst length).

    ``t``: any shape and memory format; dtype float32, float16, bfloat16,
    int32, int16, int8 or uint8. ``bits``: the eligible bit positions
    (default: all). Returns a :class:`~ftlib.faults.models.Hit` of kind
    ``"bit"`` listing each flipped (element, bit) in logical row-major order.
    """
    ber = check_rate(ber, "ber")
    if t.dtype not in _INT_VIEW:
        raise ParameterError(f"bit flips: unsupported dtype {t.dtype} (float32, float16, bfloat16, int32, int16, int8 "
                             "or uint8)")
    width = _WIDTH[_INT_VIEW[t.dtype]]
    elem, bit = draw_bit_sites(t.numel(), width, ber, generator, bits, adjacent, t.device)
    xor_bits_(t, elem, bit)
    return Hit("bit", elem, tuple(t.shape), bit)


def flip_bits(t: torch.Tensor, ber: float, generator: torch.Generator | None = None,
              bits: Sequence[int] | None = None, adjacent: int = 1) -> torch.Tensor:
    """Out-of-place :func:`flip_bits_`: a copy of ``t`` with flipped bits."""
    out = t.clone()
    flip_bits_(out, ber, generator, bits, adjacent)
    return out


def quantize_int8(w: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Symmetric per-tensor int8 quantisation: ``q = clamp(round(w / s), -127, 127)``
    with ``s = max|w| / 127`` (``s = 1`` for an all-zero tensor). Returns ``(q, s)``."""
    amax = float(w.detach().abs().max()) if w.numel() else 0.0
    scale = amax / 127.0 if amax > 0 else 1.0
    q = torch.round(w.detach() / scale).clamp_(-127, 127).to(torch.int8)
    return q, scale


def quantize_int8_channel(w: torch.Tensor, dim: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-channel int8 quantisation along ``dim`` (the output channel of a weight):
    ``s_c = max|w_c| / 127`` (1 for an all-zero channel), ``q = clamp(round(w / s_c), -127, 127)``.
    Returns ``(q, s)`` with ``s`` of shape ``(w.shape[dim],)`` (float32)."""
    w = w.detach()
    c = w.shape[dim]
    amax = w.movedim(dim, 0).reshape(c, -1).abs().amax(1).float() if w.numel() else torch.zeros(c)
    scale = torch.where(amax > 0, amax / 127.0, torch.ones_like(amax))
    shape = [1] * w.dim()
    shape[dim] = c
    q = torch.round(w / scale.view(shape).to(w.dtype)).clamp_(-127, 127).to(torch.int8)
    return q, scale


def dequantize_int8(q: torch.Tensor, scale, dtype: torch.dtype = torch.float32, dim: int = 0) -> torch.Tensor:
    """``q * scale`` as ``dtype`` (``scale`` a float, or a per-channel tensor along ``dim``).
    Note a flipped sign bit can give -128."""
    if isinstance(scale, torch.Tensor):
        shape = [1] * q.dim()
        shape[dim] = -1
        return q.to(dtype) * scale.to(device=q.device, dtype=dtype).view(shape)
    return q.to(dtype) * float(scale)


# ----------------------------------------------------------------------------- torch's quantized layers
class _Packed:
    """How to write an int8 code tensor back into a torch.ao.nn.quantized layer."""

    def __init__(self, module: nn.Module, qweight: torch.Tensor):
        self.module = module
        self.scheme = qweight.qscheme()
        if self.scheme in (torch.per_channel_affine, torch.per_channel_symmetric):
            self.qparams = (qweight.q_per_channel_scales(), qweight.q_per_channel_zero_points(),
                            qweight.q_per_channel_axis())
        else:
            self.qparams = (qweight.q_scale(), qweight.q_zero_point())

    def write(self, codes: torch.Tensor) -> None:
        if len(self.qparams) == 3:
            s, z, axis = self.qparams
            qw = torch._make_per_channel_quantized_tensor(codes, s, z, axis)
        else:
            qw = torch._make_per_tensor_quantized_tensor(codes, *self.qparams)
        self.module.set_weight_bias(qw, self.module.bias())


class _FakeQuant:
    """The integer domain of a QAT layer's weight fake quantiser (scale, zero point, range, axis)."""

    def __init__(self, fq: nn.Module, weight: torch.Tensor):
        scale, zp = fq.scale.detach().clone(), fq.zero_point.detach().clone()
        self.lo, self.hi = int(fq.quant_min), int(fq.quant_max)
        self.signed = self.lo < 0
        shape = [1] * weight.dim()
        if scale.numel() > 1:
            axis = int(getattr(fq, "ch_axis", 0))
            shape[axis] = -1
        self.scale = scale.to(weight.dtype).view(shape)
        self.zp = zp.to(weight.dtype).view(shape)

    def encode(self, w: torch.Tensor) -> torch.Tensor:
        q = torch.clamp(torch.round(w / self.scale) + self.zp, self.lo, self.hi)
        return q.to(torch.int8 if self.signed else torch.uint8)

    def decode(self, q: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return ((q.to(dtype) - self.zp) * self.scale).to(dtype)


class BitFlip(ParameterFault, ActivationFault):
    """Random bit flips in stored weights or in activations, with a bit-error rate (the rate).

    ``format``: ``"float32"`` (default), ``"float16"``, ``"bfloat16"`` or
    ``"int8"`` (see the module docstring: what is flipped, how a float32
    tensor is stored in a narrower format, torch's quantized and
    fake-quantized layers). ``granularity``: for ``"int8"`` on float weights,
    ``"tensor"`` (one scale per tensor, default) or ``"channel"`` (one per
    output channel, dim 0). At rate 0 the model is the clean model in that
    storage format (for int8: the clean *quantised* model).

    ``target``: ``"weights"`` (default; stored corruption, default layers every
    Linear/Conv and torch's quantized Linear/Conv, permanent by default:
    fixed for the faulty instance; ``permanent=False``: redrawn at every
    forward call, read errors) or ``"activations"`` (the outputs of the
    selected layers, default every Linear/Conv, through a forward hook;
    transient by default: a fresh draw for every inference, the generator
    advancing per call; ``permanent=True``: stuck cells of an activation
    buffer, the same flips for every input).

    ``bits``: restrict flips to these bit positions (e.g. ``[31]`` sign only,
    ``range(23, 31)`` exponent only); the BER applies to each eligible bit.
    ``adjacent=k``: multi-bit upsets of ``k`` adjacent bits of one word (the
    BER is then the probability that an eligible bit starts a burst).
    ``include_bias``: also flip bias bits (weights only; default: weights only).
    """

    default_permanent = True
    forced_value = None

    def __init__(self, layers: object = None, permanent: bool | None = None, *, format: str = "float32",
                 bits: Sequence[int] | None = None, include_bias: bool = False, target: str = "weights",
                 granularity: str = "tensor", adjacent: int = 1, output_index: int | None = None):
        if target not in ("weights", "activations"):
            raise ParameterError(f"target: expected 'weights' or 'activations', got {target!r}")
        if format not in FORMATS:
            raise ParameterError(f"format: expected one of {', '.join(map(repr, FORMATS))}, got {format!r}")
        if granularity not in ("tensor", "channel"):
            raise ParameterError(f"granularity: expected 'tensor' or 'channel', got {granularity!r}")
        if granularity == "channel" and format != "int8":
            raise ParameterError("granularity='channel' only applies to format='int8' (one scale per output channel)")
        if isinstance(adjacent, bool) or not isinstance(adjacent, int) or not 1 <= adjacent <= FORMAT_BITS[format]:
            raise ParameterError(f"adjacent: expected an int in 1..{FORMAT_BITS[format]} (bits per burst), got {adjacent!r}")
        self.target = target
        self.site = "activation" if target == "activations" else "parameter"
        if permanent is None:
            permanent = target == "weights"
        ActivationFault.__init__(self, layers, permanent, output_index)
        if target == "weights" and output_index is not None:
            raise ParameterError("output_index only applies to target='activations'")
        self.format = format
        self.granularity = granularity
        self.adjacent = adjacent
        self.width = FORMAT_BITS[format]
        self.bits = None if bits is None else _check_bits(bits, self.width)
        self.include_bias = _check_bool(include_bias, "include_bias")
        if target == "activations" and include_bias:
            raise ParameterError("include_bias only applies to target='weights'")
        self._codecs = WeakIdKeyDictionary()  # tensor -> _Packed / _FakeQuant (torch's quantized / QAT layers)

    def default_layers(self):
        return WEIGHT_LAYERS if self.target == "activations" else WEIGHT_LAYERS + _quantized_layers()

    # -- weights ---------------------------------------------------------------------------------
    def tensors(self, module: nn.Module) -> dict[str, torch.Tensor]:
        if isinstance(module, _quantized_layers()):
            if self.format != "int8":
                raise ParameterError(f"BitFlip: layer {type(module).__name__} holds quantized int8 weights; "
                                     "pass format='int8'")
            qw = module.weight()
            codes = qw.int_repr().clone()
            self._codecs[codes] = _Packed(module, qw)
            return {"weight": codes}
        out = {}
        for name in ("weight", "bias") if self.include_bias else ("weight",):
            t = getattr(module, name, None)
            if isinstance(t, torch.Tensor):
                out[name] = t
        if "weight" not in out:
            raise ParameterError(f"BitFlip: layer {type(module).__name__} has no weight tensor")
        fq = getattr(module, "weight_fake_quant", None)
        if fq is not None and hasattr(fq, "scale"):
            if self.format != "int8":
                raise ParameterError(f"BitFlip: layer {type(module).__name__} fake-quantizes its weights; "
                                     "pass format='int8' to flip them in the quantized integer domain")
            self._codecs[out["weight"]] = _FakeQuant(fq, out["weight"])
        for name, t in out.items():
            if t.dtype in (torch.float16, torch.bfloat16) and self.format in ("float32",) or (
                    t.dtype == torch.float16 and self.format == "bfloat16") or (
                    t.dtype == torch.bfloat16 and self.format == "float16"):
                raise ParameterError(f"BitFlip: {type(module).__name__}.{name} is stored as {t.dtype}; pass "
                                     f"format={str(t.dtype).removeprefix('torch.')!r} (or format='int8')")
        return out

    def needs_write_back(self, tensors: dict[str, torch.Tensor]) -> bool:
        return any(isinstance(self._codecs.get(t), _Packed) for t in tensors.values())

    def write_back(self, tensors: dict[str, torch.Tensor]) -> None:
        """Repack code tensors into torch's quantized layers (after a corruption or a restore)."""
        for t in tensors.values():
            codec = self._codecs.get(t)
            if isinstance(codec, _Packed):
                codec.write(t)

    def _encode(self, name: str, t: torch.Tensor):
        """``(storage, decode)``: the tensor whose bits are flipped, and how to write it back into ``t``."""
        codec = self._codecs.get(t)
        if isinstance(codec, _Packed):
            return t, None  # the int8 codes themselves (repacked by write_back)
        if isinstance(codec, _FakeQuant):
            return codec.encode(t), lambda q: t.copy_(codec.decode(q, t.dtype))
        if self.format == "int8":
            if self.granularity == "channel" and t.dim() >= 1 and name == "weight":
                q, s = quantize_int8_channel(t)
            else:
                q, s = quantize_int8(t)
            return q, lambda q_: t.copy_(dequantize_int8(q_, s, t.dtype))
        fdt = _FLOAT_DTYPE[self.format]
        if t.dtype == fdt:
            return t, None
        if self.format == "float32":
            return t, None  # flip_bits_ refuses other dtypes with a clear message
        s = t.to(fdt)
        return s, lambda s_: t.copy_(s_.to(t.dtype))

    def corrupt_(self, tensors, rate, gen):
        hits = {}
        for name, t in tensors.items():
            store, decode = self._encode(name, t)
            hits[name] = flip_bits_(store, rate, gen, self.bits, self.adjacent)
            if decode is not None:
                decode(store)
        return hits

    def replay_(self, tensors: dict[str, torch.Tensor], hits: dict[str, Hit]) -> None:
        """Apply recorded flips (``hits[name].index`` words, ``.bits`` bits) instead of drawing them."""
        for name, t in tensors.items():
            hit = hits.get(name)
            if hit is None or hit.index.numel() == 0:
                store, decode = self._encode(name, t)
                if decode is not None:
                    decode(store)
                continue
            store, decode = self._encode(name, t)
            xor_bits_(store, hit.index.to(t.device), hit.bits.to(t.device))
            if decode is not None:
                decode(store)

    # -- activations -------------------------------------------------------------------------------
    def draw(self, shape, batch, rate, gen, device, dtype):
        """Flipped elements and their XOR words: ``mask`` (``shape`` permanent, ``(batch, *shape)``
        transient; True where a word has a flipped bit) and ``values`` (int64, the mask's shape: the XOR
        word of every cell, two's complement in the format's width; 0 where nothing flips)."""
        full = shape if batch is None else (batch,) + tuple(shape)
        n = math.prod(full)
        elem, bit = draw_bit_sites(n, self.width, rate, gen, self.bits, self.adjacent, device)
        xor = xor_words(elem, bit, n, self.width, True, device).view(full)
        return xor != 0, xor

    def apply(self, out, mask, values):
        """The output with the drawn bits flipped in the format's words (a new tensor)."""
        if self.format == "int8":
            q, s = quantize_int8_channel(out) if out.dim() >= 1 else quantize_int8(out)
            store = q
        elif out.dtype == _FLOAT_DTYPE[self.format]:
            store = out.clone()
        elif self.format == "float32":
            raise ParameterError(f"BitFlip(target='activations'): the output is {out.dtype}; pass "
                                 f"format={str(out.dtype).removeprefix('torch.')!r}")
        else:
            store = out.to(_FLOAT_DTYPE[self.format])
        ints = store.view(_INT_VIEW[store.dtype])
        ints.bitwise_xor_(values.to(ints.dtype))  # one XOR (broadcast over the batch when permanent)
        if self.format == "int8":
            return dequantize_int8(store, s, out.dtype)
        return store if store.dtype == out.dtype else store.to(out.dtype)

    def __getstate__(self):  # picklable (sent to distributed workers): the codec cache stays behind
        state = dict(self.__dict__)
        state["_codecs"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._codecs = WeakIdKeyDictionary()

    def _args(self):
        args = {"layers": self.layers, "permanent": self.permanent, "format": self.format}
        if self.target != "weights":
            args["target"] = self.target
        if self.granularity != "tensor":
            args["granularity"] = self.granularity
        if self.adjacent != 1:
            args["adjacent"] = self.adjacent
        if self.bits is not None:
            args["bits"] = list(self.bits)
        if self.include_bias:
            args["include_bias"] = True
        if self.output_index is not None:
            args["output_index"] = self.output_index
        return args
