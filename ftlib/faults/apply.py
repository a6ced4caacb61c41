"""Putting a fault into a model, reversibly: :func:`inject` and :class:`FaultSession`.

:func:`inject` is the everyday entry point::

    with inject(model, StuckAtZero("weights"), 0.3, seed=0) as inj:
        logits = model(x)            # 30 % of every Linear/Conv weight tensor is 0
    # here the clean weights are back and every hook is gone, even after an exception

:class:`FaultSession` is the reusable form behind it (and behind
:func:`ftlib.faults.sweep`): it selects the layers and copies the clean tensors
once, then applies / resets one faulty instance after another cheaply.

Notes

* Parameter faults change the parameters' storage in place (under
  ``torch.no_grad``) and copy the clean values back on exit. Do not update the
  parameters inside the context (e.g. ``optimizer.step()``): the exit restores
  the values of the entry. Gradients computed inside flow through the faulty
  weights, which is what fault-injection training wants.
* Activation faults are forward hooks that return a new tensor (the hooked
  output is not modified in place, except inside :func:`sweep`, which allows
  it when nothing else can see the tensor: no autograd, not a view, no storage
  shared with the module's inputs); they are differentiable through the
  unaffected entries. A *permanent* fault that forces units to 0 multiplies
  the output by a cached 0/1 mask ("binary masks are multiplied with the
  weights and activations", adversarial_ft Sec. 3): the same as replacing by
  0 for finite activations (``nan * 0`` stays ``nan``).
* A permanent activation fault draws its mask at the first forward call of the
  layer inside the context (its shape is only known then) and keeps it for
  every later call. A module used twice with different output shapes is
  rejected: use one module instance per layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from ..errors import FtlibError, ParameterError
from .models import ActivationFault, FaultModel, Hit


class Injection:
    """One faulty instance inside a model (returned by :func:`inject`).

    Attributes: ``fault``, ``rate``, ``layers`` (names of the faulted modules),
    ``hits`` (parameter faults: ``{layer: {tensor: Hit}}``) and
    ``activation_masks`` (activation faults: ``{layer: bool mask}``; for a
    transient fault, the mask of the most recent call).
    """

    def __init__(self, fault: FaultModel, rate: float, layers: list[str]):
        self.fault = fault
        self.rate = rate
        self.layers = layers
        self.hits: dict[str, dict[str, Hit]] = {}
        self.activation_masks: dict[str, torch.Tensor] = {}
        #: permanent activation faults: the drawn values (replacement values, XOR words) or None, by layer
        self.activation_values: dict[str, torch.Tensor | None] = {}

    @property
    def masks(self) -> dict[str, torch.Tensor]:
        """Boolean masks of what is faulty (``"layer.weight"`` → mask of the
        weight's shape for parameter faults, ``"layer"`` → mask of the unit
        shape, permanent, or of the last output, transient, for activation faults)."""
        out = {f"{layer}.{t}" if layer else t: hit.mask() for layer, d in self.hits.items() for t, hit in d.items()}
        out.update(self.activation_masks)
        return out

    @property
    def counts(self) -> dict[str, int]:
        """Number of faulty elements / rows / flipped bits (parameter faults) or
        faulty units (activation masks), by the same keys as :attr:`masks`."""
        out = {f"{layer}.{t}" if layer else t: hit.count for layer, d in self.hits.items() for t, hit in d.items()}
        out.update({k: int(m.sum()) for k, m in self.activation_masks.items()})
        return out

    def __repr__(self) -> str:
        return f"Injection({self.fault!r}, rate={self.rate!r}, layers={self.layers!r})"


class FaultSession:
    """A fault model bound to a model: layer selection and clean copies, made once.

    ``apply(rate, generator)`` injects one faulty instance and returns its
    :class:`Injection`; ``reset()`` removes it (restores tensors, removes
    hooks); ``close()`` resets and drops the clean copies. Also a context
    manager (closing on exit).
    """

    def __init__(self, model: nn.Module, fault: FaultModel, *, inplace: bool = False):
        if not isinstance(model, nn.Module):
            raise ParameterError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(fault, FaultModel):
            raise ParameterError(f"fault: expected a fault model (e.g. StuckAtZero('weights')), got {fault!r}")
        self.model = model
        self.fault = fault
        self.inplace = bool(inplace)  # may activation hooks modify a module's output in place (see module doc)
        self.layers = fault.select(model)
        self.entries: list[tuple[str, nn.Module, dict[str, torch.Tensor]]] = []
        self.clean: list[dict[str, torch.Tensor]] = []
        if fault.site == "parameter":
            seen: set[int] = set()
            for name, module in self.layers:
                tensors = {}
                for attr, t in fault.tensors(module).items():  # type: ignore[attr-defined]
                    if id(t) not in seen:  # a tied tensor is corrupted once
                        seen.add(id(t))
                        tensors[attr] = t
                self.entries.append((name, module, tensors))
            with torch.no_grad():
                self.clean = [{a: t.detach().clone() for a, t in ts.items()} for _, _, ts in self.entries]
        self._handles: list = []
        self._dirty = False
        self._active: Injection | None = None

    # -- helpers ----------------------------------------------------------------------
    @property
    def modules(self) -> list[nn.Module]:
        """The faulted modules (hooked or holding corrupted tensors)."""
        return [m for _, m in self.layers]

    @property
    def tensors(self) -> list[torch.Tensor]:
        return [t for _, _, ts in self.entries for t in ts.values()]

    def _restore(self, i: int | None = None) -> None:
        with torch.no_grad():
            items = range(len(self.entries)) if i is None else (i,)
            for j in items:
                for attr, t in self.entries[j][2].items():
                    t.copy_(self.clean[j][attr])
                self._write_back(j)

    def _write_back(self, j: int) -> None:
        """Layers whose corrupted tensors are copies (torch's quantized layers' int8 codes): repack them."""
        write_back = getattr(self.fault, "write_back", None)
        if write_back is not None:
            write_back(self.entries[j][2])

    def _corrupt(self, i: int, rate: float, gen, inj: Injection) -> None:
        name, _, tensors = self.entries[i]
        with torch.no_grad():
            inj.hits[name] = self.fault.corrupt_(tensors, rate, gen)  # type: ignore[attr-defined]
            self._write_back(i)

    def _replay(self, i: int, hits: dict[str, Hit], inj: Injection) -> None:
        name, _, tensors = self.entries[i]
        replay = getattr(self.fault, "replay_", None)
        if replay is None:
            raise FtlibError(f"{type(self.fault).__name__}: cannot replay recorded sites")
        with torch.no_grad():
            replay(tensors, hits)
            inj.hits[name] = hits
            self._write_back(i)

    # -- public -------------------------------------------------------------------------
    def apply(self, rate: float, generator: torch.Generator | None = None, *, sites: dict | None = None) -> Injection:
        """Inject one faulty instance at ``rate``; undone by :meth:`reset`.

        ``sites``: replay a recorded instance instead of drawing one (permanent
        faults only; see :class:`ftlib.faults.Campaign`): ``{layer: {tensor:
        Hit}}`` for parameter faults, ``{layer: (mask, values)}`` for activation faults.
        """
        rate = self.fault.check_rate(rate)
        if sites is not None and not self.fault.permanent:
            raise FtlibError(f"{type(self.fault).__name__}: a transient fault is redrawn for every computation and has "
                             "no fixed sites to replay; use permanent=True, or replay it by its seed")
        if self._active is not None:
            raise FtlibError("FaultSession.apply: a fault is already applied; call reset() first")
        if self.clean is None:
            raise FtlibError("FaultSession.apply: the session is closed")
        inj = Injection(self.fault, rate, [n for n, _ in self.layers])
        self._active = inj
        try:
            if self.fault.site == "parameter":
                self._dirty = True
                if sites is not None:
                    for i, (name, _, _) in enumerate(self.entries):
                        self._replay(i, sites.get(name, {}), inj)
                elif self.fault.permanent:
                    for i in range(len(self.entries)):
                        self._corrupt(i, rate, generator, inj)
                else:
                    for i, (_, module, _) in enumerate(self.entries):
                        self._handles.append(module.register_forward_pre_hook(self._transient_param_hook(i, rate, generator, inj)))
            else:
                joint = None
                if hasattr(self.fault, "draw_population"):  # one fault set over several layers (PopulationSpikeFault)
                    joint = self.fault.draw_population(rate, generator)  # type: ignore[attr-defined]
                    inj.activation_masks.update({n: m for n, m in joint.items() if n in self.fault.apply_to})
                for name, module in self.layers:
                    preset = None if sites is None or joint is not None else sites.get(name, False)
                    self._handles.append(module.register_forward_hook(
                        self._activation_hook(name, rate, generator, inj, preset, joint)))
        except BaseException:
            self.reset()
            raise
        return inj

    def reset(self) -> None:
        """Remove the current faulty instance (hooks and tensor changes). Idempotent."""
        try:
            for h in self._handles:
                h.remove()
        finally:
            self._handles = []
            if self._dirty:
                self._restore()
                self._dirty = False
            self._active = None

    def close(self) -> None:
        """Reset and release the clean copies."""
        self.reset()
        self.clean = None  # type: ignore[assignment]

    def __enter__(self) -> FaultSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- hooks ----------------------------------------------------------------------------
    def _may_modify(self, out: torch.Tensor, args: tuple) -> bool:
        """True if ``out`` can be changed in place without anyone noticing."""
        if not self.inplace or (out.requires_grad and torch.is_grad_enabled()) or out._is_view():
            return False
        ptr = out.untyped_storage().data_ptr()
        return all(not isinstance(a, torch.Tensor) or a.untyped_storage().data_ptr() != ptr for a in args)

    def _transient_param_hook(self, i: int, rate: float, gen, inj: Injection):
        def hook(module, args):
            self._restore(i)
            self._corrupt(i, rate, gen, inj)
        return hook

    def _activation_hook(self, name: str, rate: float, gen, inj: Injection, preset=None,
                         joint: dict | None = None):
        fault: ActivationFault = self.fault  # type: ignore[assignment]
        state: dict[str, object] = {}
        if preset is False:  # replaying, but nothing recorded for this layer: never draw silently
            def missing(module, args, output):
                raise FtlibError(f"{type(fault).__name__}: the replayed campaign has no sites for layer {name!r} "
                                 "(it was not run when the campaign was drawn); draw the campaign again")
            return missing
        if preset is not None:  # a replayed permanent draw
            mask, values = preset
            state.update(shape=tuple(mask.shape), mask=mask, values=values, replayed=True)

        def hook(module, args, output):
            if joint is not None:  # a population fault: the fault set was drawn once for all its layers
                return fault.apply_site(name, output, joint[name])  # type: ignore[attr-defined]
            target = output
            if isinstance(output, (tuple, list)):
                if fault.output_index is None:
                    raise FtlibError(
                        f"{type(fault).__name__}: layer {name!r} returns a {type(output).__name__}; "
                        "pass output_index= to say which element to corrupt"
                    )
                target = output[fault.output_index]
            if not isinstance(target, torch.Tensor):
                raise FtlibError(f"{type(fault).__name__}: layer {name!r} output is not a tensor")
            shape = fault.unit_shape(target)
            if fault.permanent:
                if state.get("replayed") and "keep" not in state:
                    if state["shape"] != shape:
                        raise FtlibError(
                            f"{type(fault).__name__}: layer {name!r} outputs units of shape {shape}, but the replayed "
                            f"campaign recorded {state['shape']}: the model's shapes differ from the campaign's")
                    state["mask"] = state["mask"].to(target.device)  # type: ignore[union-attr]
                    if state["values"] is not None:
                        state["values"] = state["values"].to(target.device)  # type: ignore[union-attr]
                    state["keep"] = _keep_mask(state["mask"], target) if fault.forced_value == 0.0 else None
                    inj.activation_masks[name] = state["mask"]  # type: ignore[assignment]
                    inj.activation_values[name] = state["values"]  # type: ignore[assignment]
                if "mask" not in state:
                    state["shape"] = shape
                    state["mask"], state["values"] = fault.draw(shape, None, rate, gen, target.device, target.dtype)
                    state["keep"] = _keep_mask(state["mask"], target) if fault.forced_value == 0.0 else None
                    inj.activation_masks[name] = state["mask"]  # type: ignore[assignment]
                    inj.activation_values[name] = state["values"]  # type: ignore[assignment]
                elif state["shape"] != shape:
                    raise FtlibError(
                        f"{type(fault).__name__}: layer {name!r} was called with outputs of unit shape "
                        f"{state['shape']} and then {shape}; a permanent fault needs one module instance per layer"
                    )
                keep = state["keep"]
                if keep is not None:  # stuck-at-0: multiply by the binary mask
                    new = target.mul_(keep) if self._may_modify(target, args) else target * keep
                else:
                    new = fault.apply(target, state["mask"], state["values"])  # type: ignore[arg-type]
            else:
                mask, values = fault.draw(shape, target.shape[0], rate, gen, target.device, target.dtype)
                inj.activation_masks[name] = mask
                if fault.forced_value is not None and self._may_modify(target, args):
                    new = target.masked_fill_(mask, fault.forced_value)
                else:
                    new = fault.apply(target, mask, values)
            if target is output:
                return new
            seq = list(output)
            seq[fault.output_index] = new  # type: ignore[index]
            if isinstance(output, list) or type(output) is tuple:
                return type(output)(seq)
            return type(output)(*seq)  # a namedtuple
        return hook


def _keep_mask(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``1 - mask`` in ``like``'s dtype, laid out like ``like`` (channels_last for NHWC activations)."""
    keep = (~mask).to(like.dtype)
    if (like.dim() == 4 and keep.dim() == 3 and keep.shape[1:] != (1, 1)
            and like.is_contiguous(memory_format=torch.channels_last) and not like.is_contiguous()):
        keep = keep.unsqueeze(0).contiguous(memory_format=torch.channels_last)
    return keep


def make_generator(generator: torch.Generator | None = None, seed: int | None = None) -> torch.Generator | None:
    """``generator``, or a new CPU generator seeded with ``seed``, or None (torch's global RNG)."""
    if generator is not None and seed is not None:
        raise ParameterError("pass either generator= or seed=, not both")
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise ParameterError(f"generator: expected a torch.Generator, got {type(generator).__name__}")
        return generator
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ParameterError(f"seed: expected an int, got {seed!r}")
        return torch.Generator().manual_seed(seed)
    return None


@contextmanager
def inject(model: nn.Module, fault: FaultModel, rate: float, generator: torch.Generator | None = None, *,
           seed: int | None = None) -> Iterator[Injection]:
    """Context manager: ``model`` with one faulty instance of ``fault`` at ``rate``.

    ``generator`` (a :class:`torch.Generator`, consumed) or ``seed`` (an int)
    makes the draw reproducible; with neither, torch's global RNG is used.
    CPU generators work for models on any device (draws are made on the
    generator's device and moved), so a seed gives the same faults on CPU and GPU.
    Yields an :class:`Injection` (see :attr:`Injection.masks`). On exit, also
    after an exception, the clean tensors are restored and all hooks removed.
    """
    gen = make_generator(generator, seed)
    session = FaultSession(model, fault)
    try:
        yield session.apply(rate, gen)
    finally:
        session.close()
