"""Reusable fault campaigns: the faulty sites of every draw, saved to a file and replayed exactly.

A :class:`Campaign` holds what is needed to apply the same faulty instances
again, without the random generator: the fault model, the rates, the seed they
were drawn with, a fingerprint of the model (every parameter's name, shape and
dtype, and a hash of the clean faulted tensors) and, for every (rate, draw),
the sites: which elements / filters / bits of which tensors (parameter faults),
or which units with which values (permanent activation faults). So a campaign
replays bit for bit on another model of the same shapes (another training run,
another device, a later version of torch, whose random streams may differ)::

    camp = Campaign.draw(model, StuckAtZero("weights"), [0.1, 0.3], draws=20, seed=0)
    camp.save("stuck.npz")
    res = sweep(other_model, None, None, (x, y), campaign=Campaign.load("stuck.npz"))

``sweep(..., record=True)`` returns the campaign of a sweep as ``res.campaign``.

File format: a NumPy ``.npz`` (read with ``allow_pickle=False``): a JSON
metadata string under ``"meta"`` and one plain array per recorded index / bit /
mask / value tensor (``"a0"``, ``"a1"``, ...). Transient faults are redrawn for
every computation and have no fixed sites: they are refused (replay them by
their seed).
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import FtlibError, ParameterError
from . import _random as R
from .models import FaultModel, Hit

FORMAT = "ftlib.faults.Campaign"
VERSION = 1


def _encode_arg(v):
    if isinstance(v, type):
        return {"__type__": f"{v.__module__}.{v.__qualname__}"}
    if isinstance(v, (list, tuple)):
        return [_encode_arg(x) for x in v]
    return v


def _decode_arg(v):
    if isinstance(v, dict) and "__type__" in v:
        mod, _, name = v["__type__"].rpartition(".")
        return getattr(importlib.import_module(mod), name)
    if isinstance(v, list):
        return [_decode_arg(x) for x in v]
    return v


def fingerprint(model: nn.Module) -> dict:
    """``{"tensors": [[name, shape, dtype], ...]}`` of every parameter of ``model`` (named_parameters order)."""
    return {"tensors": [[n, list(p.shape), str(p.dtype).removeprefix("torch.")] for n, p in model.named_parameters()]}


def _tensor_hash(tensors) -> str:
    h = hashlib.sha256()
    for t in tensors:
        t = t.detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            t = t.view(torch.int16)
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def _weights_hash(model: nn.Module, session) -> str:
    """SHA-256 of every parameter and every faulted tensor (e.g. a quantized layer's codes) of ``model``, clean."""
    seen: set[int] = set()
    tensors = []
    for t in [p for _, p in model.named_parameters()] + session.tensors:
        if id(t) not in seen:
            seen.add(id(t))
            tensors.append(t)
    return _tensor_hash(tensors)


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    t = t.detach().cpu()
    if t.dtype == torch.bfloat16:
        t = t.float()  # bfloat16 -> float32 is exact
    return t.numpy()


@dataclass
class Campaign:
    """The faulty sites of every (rate, draw) of a fault model on a model, replayable exactly.

    ``fault``: the fault model's repr; ``fault_class``/``fault_args``: how to
    rebuild it (:meth:`fault_model`); ``rates``; ``draws``: draws per rate;
    ``seed``: the seed the sites were drawn with (None if unknown);
    ``fingerprint``: see :func:`fingerprint` plus ``"faulted"``
    (``{"layer.tensor": shape}``) and ``"sha256"`` of the clean parameters
    and faulted tensors (:meth:`same_weights`); ``sites[(rate_index, draw)]``: ``{layer: {tensor: Hit}}``
    (parameter faults) or ``{layer: (mask, values)}`` (activation faults).
    """

    fault: str
    fault_class: str
    fault_args: dict
    rates: list[float]
    draws: list[int]
    seed: int | None
    fingerprint: dict
    site: str
    sites: dict = field(default_factory=dict)

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def empty(cls, model: nn.Module, fault: FaultModel, rates, seed: int | None, session) -> Campaign:
        if not fault.permanent:
            raise ParameterError(f"{type(fault).__name__}: a transient fault is redrawn for every computation and "
                                 "has no fixed sites to save; use permanent=True, or replay it by its seed")
        fp = fingerprint(model)
        fp["faulted"] = {f"{layer}.{a}": list(t.shape) for layer, _, ts in session.entries for a, t in ts.items()}
        fp["sha256"] = _weights_hash(model, session)
        args = {k: _encode_arg(v) for k, v in fault._args().items()}
        return cls(fault=repr(fault), fault_class=type(fault).__name__, fault_args=args,
                   rates=[float(r) for r in rates], draws=[0] * len(rates), seed=seed, fingerprint=fp,
                   site=fault.site)

    def add(self, rate_index: int, draw: int, inj) -> None:
        """Record the sites of the :class:`~ftlib.faults.Injection` ``inj`` as draw ``draw`` of rate ``rate_index``."""
        if self.site == "parameter":
            sites = {layer: {a: Hit(h.kind, h.index.detach().cpu().clone(), h.shape,
                                    None if h.bits is None else h.bits.detach().cpu().clone())
                             for a, h in d.items()} for layer, d in inj.hits.items()}
        else:
            sites = {layer: (m.detach().cpu().clone(), None if inj.activation_values.get(layer) is None
                             else inj.activation_values[layer].detach().cpu().clone())
                     for layer, m in inj.activation_masks.items()}
        self.sites[(rate_index, draw)] = sites
        self.draws[rate_index] = max(self.draws[rate_index], draw + 1)

    @classmethod
    def draw(cls, model: nn.Module, fault: FaultModel, rates, draws: int = 20, seed: int = 0,
             example: torch.Tensor | None = None) -> Campaign:
        """Draw the sites of ``draws`` faulty instances per rate, exactly those :func:`~ftlib.faults.sweep`
        with the same ``seed`` evaluates (same per-(rate, draw) generators), without evaluating anything.

        ``example``: an input batch ``(B, ...)``, needed for activation faults (their masks take the
        shape of a layer's output, known only after a forward pass; one forward per draw).
        """
        from .apply import FaultSession

        rates = [fault.check_rate(r) for r in ([rates] if isinstance(rates, (int, float)) else rates)]
        if fault.site == "activation" and example is None:
            raise ParameterError("Campaign.draw: an activation fault needs example= (an input batch) to learn "
                                 "the shapes of the layers' outputs")
        modes = [(m, m.training) for m in model.modules()]
        model.eval()  # no BatchNorm statistics updated by the shape-finding forward passes
        try:
            with FaultSession(model, fault) as session:
                camp = cls.empty(model, fault, rates, seed, session)
                for i, rate in enumerate(rates):
                    for d in range(draws):
                        inj = session.apply(rate, R.derive_generator(seed, R.rate_key(rate), d))
                        try:
                            if fault.site == "activation":
                                with torch.inference_mode():
                                    model(example[:1])
                            camp.add(i, d, inj)
                        finally:
                            session.reset()
        finally:
            for m, mode in modes:
                m.training = mode
        return camp

    # -- using -----------------------------------------------------------------------------------
    def fault_model(self) -> FaultModel:
        """A fresh instance of the campaign's fault model (checked against the stored repr)."""
        from . import bitflip, models

        cls = getattr(models, self.fault_class, None) or getattr(bitflip, self.fault_class, None)
        if cls is None:
            raise FtlibError(f"campaign: unknown fault model class {self.fault_class!r}")
        fault = cls(**{k: _decode_arg(v) for k, v in self.fault_args.items()})
        if repr(fault) != self.fault:
            raise FtlibError(f"campaign: rebuilt {fault!r}, but the campaign recorded {self.fault}")
        return fault

    def sites_for(self, rate_index: int, draw: int) -> dict:
        try:
            return self.sites[(rate_index, draw)]
        except KeyError:
            raise FtlibError(f"campaign: no draw {draw} at rate {self.rates[rate_index]!r}") from None

    def check(self, model: nn.Module, session=None) -> None:
        """Raise :class:`~ftlib.errors.ParameterError` naming the first tensor whose shape differs from the campaign's."""
        mine = {n: s for n, s, _ in self.fingerprint["tensors"]}
        theirs = {n: list(p.shape) for n, p in model.named_parameters()}
        for name, shape in mine.items():
            if name not in theirs:
                raise ParameterError(f"campaign: the model has no parameter {name!r} (the campaign was drawn on a "
                                     "model with it); replay it on a model of the same architecture")
            if theirs[name] != shape:
                raise ParameterError(f"campaign: parameter {name!r} has shape {tuple(theirs[name])} here but "
                                     f"{tuple(shape)} in the campaign; replay it on a model of the same shapes")
        extra = sorted(set(theirs) - set(mine))
        if extra:
            raise ParameterError(f"campaign: the model has parameter {extra[0]!r}, which the campaign's model did not")
        if session is not None:
            faulted = {f"{layer}.{a}": list(t.shape) for layer, _, ts in session.entries for a, t in ts.items()}
            for key, shape in self.fingerprint.get("faulted", {}).items():
                if faulted.get(key) != shape:
                    raise ParameterError(f"campaign: faulted tensor {key!r} has shape "
                                         f"{None if key not in faulted else tuple(faulted[key])} here but "
                                         f"{tuple(shape)} in the campaign")

    def same_weights(self, model: nn.Module) -> bool:
        """True if ``model``'s clean faulted tensors hash to the campaign's (same trained weights)."""
        from .apply import FaultSession

        with FaultSession(model, self.fault_model()) as session:
            return _weights_hash(model, session) == self.fingerprint.get("sha256")

    # -- files -------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the campaign to ``path`` (``.npz``, atomically). Returns the path."""
        arrays: dict[str, np.ndarray] = {}
        records = []

        def put(t):
            if t is None:
                return None
            key = f"a{len(arrays)}"
            arrays[key] = _to_numpy(t)
            return [key, str(t.dtype).removeprefix("torch.")]

        for (i, d), sites in sorted(self.sites.items()):
            for layer, entry in sites.items():
                if self.site == "parameter":
                    for a, h in entry.items():
                        records.append({"rate": i, "draw": d, "layer": layer, "tensor": a, "kind": h.kind,
                                        "shape": list(h.shape), "index": put(h.index), "bits": put(h.bits)})
                else:
                    mask, values = entry
                    records.append({"rate": i, "draw": d, "layer": layer, "kind": "activation",
                                    "mask": put(mask), "values": put(values)})
        meta = {"format": FORMAT, "version": VERSION, "fault": self.fault, "fault_class": self.fault_class,
                "fault_args": self.fault_args, "rates": [r.hex() for r in self.rates], "draws": self.draws,
                "seed": self.seed, "fingerprint": self.fingerprint, "site": self.site, "records": records,
                "torch": torch.__version__}
        arrays["meta"] = np.array(json.dumps(meta))
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        from ..store import atomic_write_bytes

        path = Path(path)
        atomic_write_bytes(path, buf.getvalue())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Campaign:
        """Read a campaign written by :meth:`save`."""
        try:
            with np.load(Path(path), allow_pickle=False) as z:
                meta = json.loads(str(z["meta"][()]))
                arrays = {k: z[k] for k in z.files if k != "meta"}
        except (OSError, KeyError, ValueError) as e:
            raise FtlibError(f"campaign: cannot read {path}: {e} (expected a file written by Campaign.save)") from e
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise FtlibError(f"campaign: {path} is not a version-{VERSION} ftlib campaign")

        def get(ref):
            if ref is None:
                return None
            key, dtype = ref
            t = torch.from_numpy(np.array(arrays[key]))
            return t.to(getattr(torch, dtype)) if str(t.dtype).removeprefix("torch.") != dtype else t

        sites: dict = {}
        for r in meta["records"]:
            slot = sites.setdefault((r["rate"], r["draw"]), {})
            if meta["site"] == "parameter":
                slot.setdefault(r["layer"], {})[r["tensor"]] = Hit(r["kind"], get(r["index"]), tuple(r["shape"]),
                                                                   get(r["bits"]))
            else:
                slot[r["layer"]] = (get(r["mask"]), get(r["values"]))
        camp = cls(fault=meta["fault"], fault_class=meta["fault_class"], fault_args=meta["fault_args"],
                   rates=[float.fromhex(r) for r in meta["rates"]], draws=list(meta["draws"]), seed=meta["seed"],
                   fingerprint=meta["fingerprint"], site=meta["site"], sites=sites)
        for i, n in enumerate(camp.draws):  # draws without a site at all (rate 0, nothing hit) still replay
            for d in range(n):
                camp.sites.setdefault((i, d), {})
        return camp

    def __repr__(self) -> str:
        return (f"Campaign({self.fault}, rates={self.rates}, draws={self.draws}, seed={self.seed}, "
                f"{len(self.fingerprint['tensors'])} parameters)")
