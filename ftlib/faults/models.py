"""The fault models of the four papers, as small declarative objects.

A fault model says *what* goes wrong and *where*; it holds no tensors. Pair it
with a model and a rate through :func:`ftlib.faults.inject` (one faulty
instance) or :func:`ftlib.faults.sweep` (rates × independent draws).

Two families:

* **parameter faults** change stored tensors (weights, filters, biases) in
  place for the duration of the injection: :class:`StuckAtZero` with
  ``target="weights"`` or ``"filters"``, and :class:`~ftlib.faults.BitFlip`;
* **activation faults** change a layer's output through a forward hook:
  :class:`StuckAtZero` with ``target="nodes"``, :class:`BernoulliCrash`,
  :class:`ConditionallyUniform`, :class:`Erasure`, :class:`SpikeFault`.

Permanent vs transient (argument ``permanent``):

* *permanent*: the faulty positions (and values) are drawn once per faulty
  instance, i.e. once per :func:`inject` / per sweep draw, and stay fixed for
  every input and every batch;
* *transient*: redrawn for every computation. For activation faults that is
  per input and per scalar (each sample of a batch gets its own draw); for
  parameter faults, which one batch shares, it is per forward call of the
  layer (use ``batch_size=1`` for per-input weight faults).

Rates are probabilities or fractions in [0, 1]; what they mean is given per
model (exact fraction per layer, Bernoulli probability, bit-error rate).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import FtlibError, ParameterError
from . import _random as R
from .selection import ACTIVATION_LAYERS, CONV_LAYERS, WEIGHT_LAYERS, normalize_spec, select_layers


def check_rate(rate: object, name: str = "rate") -> float:
    """``rate`` as a float in [0, 1], or :class:`ParameterError`."""
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) and not (
        isinstance(rate, torch.Tensor) and rate.numel() == 1 and not rate.dtype == torch.bool
    ):
        raise ParameterError(f"{name}: expected a number in [0, 1], got {type(rate).__name__} {rate!r}")
    value = float(rate)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ParameterError(f"{name}: must be in [0, 1], got {value!r}")
    return value


def _check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(f"{name}: expected True or False, got {value!r}")
    return value


@dataclass(frozen=True)
class Hit:
    """What one parameter fault changed in one tensor (logical, row-major indices).

    ``kind`` is ``"element"`` (``index`` = flat element indices), ``"row"``
    (``index`` = indices along dim 0, e.g. whole filters) or ``"bit"``
    (``index`` = flat element indices, ``bits`` = the flipped bit of each,
    0 = least significant; an element may appear once per flipped bit).
    """

    kind: str
    index: torch.Tensor
    shape: tuple[int, ...]
    bits: torch.Tensor | None = None

    def mask(self) -> torch.Tensor:
        """Boolean tensor of ``shape``: True where the stored value was changed."""
        mask = torch.zeros(self.shape, dtype=torch.bool, device=self.index.device)
        if self.kind == "row":
            mask[self.index] = True
        else:
            mask.view(-1)[self.index] = True
        return mask

    @property
    def count(self) -> int:
        """Number of faulty rows / elements / flipped bits."""
        return int(self.index.numel())


class FaultModel:
    """Base class. Subclasses set ``site`` ("parameter" or "activation").

    Parameters common to all models: ``layers`` (see
    :mod:`ftlib.faults.selection`; None = the model's default layers) and
    ``permanent`` (see the module docstring).
    """

    site: str = ""
    default_permanent: bool = True
    #: which permanence settings are meaningful for this model
    allowed_permanence: tuple[bool, ...] = (True, False)

    def __init__(self, layers: object = None, permanent: bool | None = None):
        normalize_spec(layers)  # validates early
        self.layers = layers
        if permanent is None:
            permanent = self.default_permanent
        _check_bool(permanent, "permanent")
        if permanent not in self.allowed_permanence:
            kind = "permanent" if permanent else "transient"
            raise ParameterError(f"{type(self).__name__}: a {kind} variant is not meaningful ({self._why_not()})")
        self.permanent = permanent

    # -- selection ---------------------------------------------------------------
    def default_layers(self) -> tuple[type, ...]:
        raise NotImplementedError

    def select(self, model: nn.Module) -> list[tuple[str, nn.Module]]:
        """The ``(name, module)`` pairs this fault model hits in ``model``."""
        return select_layers(model, self.layers, self.default_layers(), type(self).__name__)

    def check_rate(self, rate: object) -> float:
        return check_rate(rate)

    def _why_not(self) -> str:
        return "see the class docstring"

    def _args(self) -> dict:
        return {"layers": self.layers, "permanent": self.permanent}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._args().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))


class ParameterFault(FaultModel):
    """A fault in stored tensors; subclasses implement :meth:`tensors` and :meth:`corrupt_`."""

    site = "parameter"

    def tensors(self, module: nn.Module) -> dict[str, torch.Tensor]:
        """The tensors of ``module`` this model corrupts, by attribute name."""
        raise NotImplementedError

    def corrupt_(self, tensors: dict[str, torch.Tensor], rate: float, gen: torch.Generator | None) -> dict[str, Hit]:
        """Corrupt ``tensors`` in place (one layer); return what was hit."""
        raise NotImplementedError

    def replay_(self, tensors: dict[str, torch.Tensor], hits: dict[str, Hit]) -> None:
        """Apply recorded hits (from an earlier :meth:`corrupt_`) instead of drawing: the replay of a
        :class:`~ftlib.faults.Campaign`. Default: not supported."""
        raise FtlibError(f"{type(self).__name__}: cannot replay recorded sites")

    def prepare_(self, tensors: dict[str, torch.Tensor]) -> None:
        """Called on the clean tensors before any corruption (e.g. quantisation). Default: nothing."""


class ActivationFault(FaultModel):
    """A fault in a layer's output, applied by a forward hook (out of place).

    ``output_index``: when the hooked module returns a tuple/list (e.g. a
    spiking layer returning ``(spikes, membrane)``), the element to corrupt.
    """

    site = "activation"
    default_permanent = False
    #: the value a faulty unit is forced to, or None when it is drawn (conditionally uniform)
    forced_value: float | None = 0.0

    def __init__(self, layers: object = None, permanent: bool | None = None, output_index: int | None = None):
        super().__init__(layers, permanent)
        if output_index is not None and (isinstance(output_index, bool) or not isinstance(output_index, int)):
            raise ParameterError(f"output_index: expected None or an int, got {output_index!r}")
        self.output_index = output_index

    # shapes ---------------------------------------------------------------------
    def unit_shape(self, out: torch.Tensor) -> tuple[int, ...]:
        """Shape of one faulty instance's mask, right-aligned against ``out.shape``.

        Default: one unit per scalar of a sample, ``out.shape[1:]``.
        """
        return tuple(out.shape[1:])

    # draws ----------------------------------------------------------------------
    def draw(self, shape: tuple[int, ...], batch: int | None, rate: float, gen: torch.Generator | None,
             device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Draw ``(mask, values)``: a boolean mask of ``shape`` (permanent,
        ``batch`` None) or ``(batch, *shape)`` (transient), and for models that
        replace values, the replacement values (same shape as the mask for a
        permanent draw, one per True cell, in row-major order, for a transient one)."""
        raise NotImplementedError

    def apply(self, out: torch.Tensor, mask: torch.Tensor, values: torch.Tensor | None) -> torch.Tensor:
        """The faulty output (a new tensor; ``out`` is never modified). Default: zero the masked cells."""
        return out.masked_fill(mask, 0)

    def _args(self) -> dict:
        args = super()._args()
        if self.output_index is not None:
            args["output_index"] = self.output_index
        return args


def _check_unit(unit: object) -> str:
    if unit not in ("element", "channel"):
        raise ParameterError(f"unit: expected 'element' or 'channel', got {unit!r}")
    return unit  # type: ignore[return-value]


def _unit_shape(out: torch.Tensor, unit: str) -> tuple[int, ...]:
    per_sample = tuple(out.shape[1:])
    if unit == "channel" and len(per_sample) >= 2:
        return (per_sample[0],) + (1,) * (len(per_sample) - 1)
    return per_sample


def _exact_mask(shape: tuple[int, ...], batch: int | None, fraction: float, gen, device) -> torch.Tensor:
    n = math.prod(shape)
    k = R.exact_count(fraction, n)
    if batch is None:
        mask = torch.zeros(n, dtype=torch.bool, device=device)
        idx = R.choose(n, k, gen, device)
        if idx.numel():
            mask[idx] = True
        return mask.view(shape)
    return R.choose_rows(batch, n, k, gen, device).view((batch,) + shape)


def _bernoulli_shape(shape: tuple[int, ...], batch: int | None) -> tuple[int, ...]:
    return shape if batch is None else (batch,) + shape


class StuckAtZero(ParameterFault, ActivationFault):
    """Stuck-at-0 faults on weights, whole convolution filters or nodes.

    Paper: adversarial_ft, Section 3 "Fault and error model": "binary masks are
    multiplied with the weights and activations ... the percentage of total
    nodes/parameters to remove for each layer is taken as an input to generate
    the mask"; filter faults extend the taxonomy to convolutions (Figures 2b, 7b).

    The rate is an **exact fraction per selected layer**: ``round(rate * n)``
    (half up) of the layer's ``n`` units are chosen uniformly without
    replacement and set to 0.

    ``target``:

    * ``"weights"`` — units are the scalar entries of each layer's ``weight``
      (``(out, in)`` for Linear, ``(out, in, kh, kw)`` for Conv2d). Default
      layers: every Linear/Conv. ``include_bias=True`` also zeroes the same
      fraction of each bias vector (drawn separately).
    * ``"filters"`` — units are output filters ``weight[o]`` of each
      convolution (for a Linear given by name: its rows). Default layers: every
      Conv. ``include_bias=True`` also zeroes the faulty filters' biases (then
      the feature map is exactly 0; otherwise it is the constant bias, as a
      weight-only mask gives).
    * ``"nodes"`` — units are the hidden activations: the outputs of the
      selected modules (default: every element-wise activation module such as
      ReLU, Sigmoid, Tanh, Hardtanh). For a sample-shaped output ``(C, H, W)``
      of a conv layer, ``unit="element"`` (default) makes every scalar of the
      feature maps a node (an ALU output in the paper's accelerator picture);
      ``unit="channel"`` makes each whole feature map a node.

    ``permanent=True`` (default): one mask per faulty instance. ``False``:
    weights/filters redrawn at every forward call of the layer; nodes redrawn
    per input (each sample gets its own exact-fraction mask).

    As in the paper, permanent node faults multiply the activations by the
    binary mask (identical to writing 0 for finite activations); weights and
    filters are written to 0 in the stored tensors.
    """

    default_permanent = True

    def __init__(self, target: str = "weights", layers: object = None, permanent: bool | None = None,
                 *, unit: str = "element", include_bias: bool = False, output_index: int | None = None):
        if target not in ("weights", "filters", "nodes"):
            raise ParameterError(f"target: expected 'weights', 'filters' or 'nodes', got {target!r}")
        self.target = target
        self.site = "activation" if target == "nodes" else "parameter"
        ActivationFault.__init__(self, layers, permanent, output_index)
        self.unit = _check_unit(unit)
        self.include_bias = _check_bool(include_bias, "include_bias")
        if target != "nodes" and (unit != "element" or output_index is not None):
            raise ParameterError("unit and output_index only apply to target='nodes'")
        if target == "nodes" and include_bias:
            raise ParameterError("include_bias only applies to target='weights' or 'filters'")

    def default_layers(self) -> tuple[type, ...]:
        return {"weights": WEIGHT_LAYERS, "filters": CONV_LAYERS, "nodes": ACTIVATION_LAYERS}[self.target]

    def _args(self) -> dict:
        args = {"target": self.target, "layers": self.layers, "permanent": self.permanent}
        if self.unit != "element":
            args["unit"] = self.unit
        if self.include_bias:
            args["include_bias"] = True
        if self.output_index is not None:
            args["output_index"] = self.output_index
        return args

    # parameter targets ------------------------------------------------------------
    def tensors(self, module: nn.Module) -> dict[str, torch.Tensor]:
        weight = getattr(module, "weight", None)
        if not isinstance(weight, torch.Tensor):
            raise ParameterError(f"StuckAtZero({self.target!r}): layer {type(module).__name__} has no weight tensor")
        out = {"weight": weight}
        bias = getattr(module, "bias", None)
        if self.include_bias and isinstance(bias, torch.Tensor):
            out["bias"] = bias
        return out

    def corrupt_(self, tensors: dict[str, torch.Tensor], rate: float, gen: torch.Generator | None) -> dict[str, Hit]:
        hits: dict[str, Hit] = {}
        if self.target == "filters":
            weight = tensors["weight"]
            n = weight.shape[0]
            idx = R.choose(n, R.exact_count(rate, n), gen, weight.device)
            for name, t in tensors.items():  # weight, then (optionally) bias: the same filters
                if idx.numel():
                    t.index_fill_(0, idx, 0)
                hits[name] = Hit("row", idx, tuple(t.shape))
            return hits
        for name, t in tensors.items():
            n = t.numel()
            idx = R.choose(n, R.exact_count(rate, n), gen, t.device)
            if idx.numel():
                if t.is_contiguous():
                    t.view(-1).index_fill_(0, idx, 0)
                else:  # e.g. channels_last: logical indices through a mask
                    t.masked_fill_(Hit("element", idx, tuple(t.shape)).mask(), 0)
            hits[name] = Hit("element", idx, tuple(t.shape))
        return hits

    def replay_(self, tensors: dict[str, torch.Tensor], hits: dict[str, Hit]) -> None:
        for name, t in tensors.items():
            hit = hits.get(name)
            if hit is None or not hit.index.numel():
                continue
            idx = hit.index.to(t.device)
            if hit.kind == "row":
                t.index_fill_(0, idx, 0)
            elif t.is_contiguous():
                t.view(-1).index_fill_(0, idx, 0)
            else:
                t.masked_fill_(Hit("element", idx, tuple(t.shape)).mask(), 0)

    # node target --------------------------------------------------------------------
    def unit_shape(self, out: torch.Tensor) -> tuple[int, ...]:
        return _unit_shape(out, self.unit)

    def draw(self, shape, batch, rate, gen, device, dtype):
        return _exact_mask(shape, batch, rate, gen, device), None


class BernoulliCrash(ActivationFault):
    """Bernoulli neuron crashes: each neuron independently outputs 0 with probability ``p``.

    Paper: continuous_limit, Definition 3 ("Bernoulli neuron failures": i.i.d.
    ξ_i ~ Be(p_l); a crashed neuron outputs 0), with the output error of
    Definition 4 (Δ = y_faulty − y). **No 1/(1−p) rescaling** of the survivors
    (this is not inverted dropout).

    Units: the outputs of the selected modules (default: every element-wise
    activation module, i.e. the hidden neurons y_l = φ(z_l)); ``unit`` as for
    :class:`StuckAtZero` nodes. To crash the *inputs* y_0 of a layer, put an
    ``nn.Identity()`` before it and select that.

    ``permanent=False`` (default) draws fresh crashes for every input, the
    paper's expectation over U ~ D|x for a single network with intermittent
    crashes; ``permanent=True`` draws one crash set per faulty instance (the
    paper's "large number of networks each having permanent crashes").
    The number of crashed units is Binomial(n, p), not a fixed fraction.
    """

    def __init__(self, layers: object = None, permanent: bool | None = None, *, unit: str = "element",
                 output_index: int | None = None):
        super().__init__(layers, permanent, output_index)
        self.unit = _check_unit(unit)

    def default_layers(self):
        return ACTIVATION_LAYERS

    def unit_shape(self, out):
        return _unit_shape(out, self.unit)

    def draw(self, shape, batch, rate, gen, device, dtype):
        return R.bernoulli_mask(_bernoulli_shape(shape, batch), rate, gen, device), None

    def _args(self):
        args = super()._args()
        if self.unit != "element":
            args["unit"] = self.unit
        return args


class Erasure(ActivationFault):
    """Erasure deviations: each scalar output of a layer's computation is, with
    probability ``p`` and independently, replaced by the neutral value 0.

    Paper: computation_failures, Section IV "Deviation models" (the optimistic
    model: a deviation is detected and the output erased). Deviations are
    sampled **before the activation function**: the hooked modules are the
    ones producing pre-activations, by default every Linear/Conv (their
    outputs z = W y + b, shape ``(B, out)`` or ``(B, C, H, W)``); activation
    and pooling modules then run on the deviated values. With ``p = 1`` the
    pre-activation is exactly all-zero.

    Default ``permanent=False``: independent per computation (per input, per
    scalar), as in the paper. ``permanent=True``: one deviation pattern per
    faulty instance, shared by all inputs.
    """

    def default_layers(self):
        return WEIGHT_LAYERS

    def draw(self, shape, batch, rate, gen, device, dtype):
        return R.bernoulli_mask(_bernoulli_shape(shape, batch), rate, gen, device), None


class ConditionallyUniform(Erasure):
    """Conditionally-uniform deviations: each scalar output of a layer's
    computation is, with probability ``p`` and independently, replaced by a
    draw from Uniform[low, high) over the finite range of the fixed-point value.

    Paper: computation_failures, Section IV "Deviation models" (the pessimistic
    model: "the output is sampled uniformly at random from the finite output
    domain of that circuit"). Sampled before the activation function, pooling
    after (see :class:`Erasure` for where the hooks sit).

    ``value_range=(low, high)``: the fixed-point range. The paper does not
    state it numerically; it uses clipped-ReLU activations saturating at 1
    ("as the range is increased, more bits must be used"), so the default
    (-1.0, 1.0) is a signed fixed-point register of the same magnitude: after
    the clipped ReLU half of the deviations read 0 and half are uniform on
    [0, 1]. Pass e.g. ``value_range=(0.0, 1.0)`` for an unsigned register.
    Values are continuous uniform (the quantisation step of the register is
    not modelled).
    """

    forced_value = None

    def __init__(self, layers: object = None, permanent: bool | None = None, *,
                 value_range: tuple[float, float] = (-1.0, 1.0), output_index: int | None = None):
        super().__init__(layers, permanent, output_index)
        try:
            low, high = (float(v) for v in value_range)
        except (TypeError, ValueError):
            raise ParameterError(f"value_range: expected (low, high), got {value_range!r}") from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ParameterError(f"value_range: need finite low < high, got {value_range!r}")
        self.value_range = (low, high)

    def draw(self, shape, batch, rate, gen, device, dtype):
        mask = R.bernoulli_mask(_bernoulli_shape(shape, batch), rate, gen, device)
        low, high = self.value_range
        if batch is None:  # permanent: a value for every unit (used where the mask is True)
            values = torch.zeros(shape, dtype=dtype, device=device)
            n = int(mask.sum())
            if n:
                values[mask] = R.uniform(n, low, high, gen, device, dtype)
            return mask, values
        n = int(mask.sum())
        return mask, R.uniform(n, low, high, gen, device, dtype)

    def apply(self, out, mask, values):
        if values.shape == mask.shape:  # permanent: one value per unit, broadcast over the batch
            return torch.where(mask, values.to(out.dtype), out)
        if values.numel() == 0:  # transient, no deviation in this call
            return out
        return out.masked_scatter(mask, values.to(out.dtype))  # transient: values in row-major order of the mask

    def _args(self):
        args = super()._args()
        args["value_range"] = self.value_range
        return args


class SpikeFault(ActivationFault):
    """Spiking-neuron faults HSF ("hard to spike": the neuron never emits a
    spike) and NASF ("neuron always spikes": a spike at every time step) on an
    exact fraction of the neurons of each selected spiking layer.

    Paper: snn_patterns, Section 4 "Experimental results" (B, Tables 3–4,
    Fig. 3): two neuron fault models, a *fault ratio* of faulty neurons and
    "ten different fault sets with the same fault ratio" (fault locations are
    fixed for a faulty instance: permanent only).

    The rate is the fault ratio: ``round(ratio * N)`` of the ``N`` neurons of a
    layer (half up), uniformly without replacement. The hook acts on the
    layer's **spike output**: a tensor whose last ``neuron_dims`` dimensions
    index the neurons, e.g. ``(T, B, N)`` for a whole simulation or ``(B, N)``
    per time step (the same mask is used at every step and for every sample).
    If the layer returns ``(spikes, membrane)``, pass ``output_index=0``.
    ``layers`` is required (there is no default spiking module type).

    Stand-alone helpers for a hand-written simulation loop:
    :func:`ftlib.faults.spike_fault_mask` and :func:`ftlib.faults.force_spikes`.
    """

    default_permanent = True
    allowed_permanence = (True,)

    def __init__(self, kind: str, layers: object, *, neuron_dims: int = 1, output_index: int | None = None):
        if kind not in ("HSF", "NASF"):
            raise ParameterError(f"kind: expected 'HSF' or 'NASF', got {kind!r}")
        if layers is None:
            raise ParameterError("SpikeFault: pass layers= (names or types of the spiking layers whose spikes to force)")
        if isinstance(neuron_dims, bool) or not isinstance(neuron_dims, int) or neuron_dims < 1:
            raise ParameterError(f"neuron_dims: expected an int >= 1, got {neuron_dims!r}")
        super().__init__(layers, True, output_index)
        self.kind = kind
        self.neuron_dims = neuron_dims
        self.forced_value = self.value

    def _why_not(self):
        return "HSF/NASF are defective neurons: the fault set is fixed for a faulty instance"

    def default_layers(self):
        return ()

    @property
    def value(self) -> float:
        """The forced spike value (0 for HSF, 1 for NASF)."""
        return 0.0 if self.kind == "HSF" else 1.0

    def unit_shape(self, out):
        if out.dim() < self.neuron_dims:
            raise FtlibError(f"SpikeFault: spike tensor of shape {tuple(out.shape)} has fewer than neuron_dims={self.neuron_dims} dims")
        return tuple(out.shape[out.dim() - self.neuron_dims:])

    def draw(self, shape, batch, rate, gen, device, dtype):
        return _exact_mask(shape, batch, rate, gen, device), None

    def apply(self, out, mask, values):
        return out.masked_fill(mask, self.value)

    def _args(self):
        args = {"kind": self.kind, "layers": self.layers}
        if self.neuron_dims != 1:
            args["neuron_dims"] = self.neuron_dims
        if self.output_index is not None:
            args["output_index"] = self.output_index
        return args


def HSF(layers: object, **kwargs) -> SpikeFault:
    """``SpikeFault("HSF", layers, ...)``: selected neurons never spike."""
    return SpikeFault("HSF", layers, **kwargs)


def NASF(layers: object, **kwargs) -> SpikeFault:
    """``SpikeFault("NASF", layers, ...)``: selected neurons spike at every step."""
    return SpikeFault("NASF", layers, **kwargs)
