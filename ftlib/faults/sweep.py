"""Sweeps: a model under a fault model over rates × independent fault draws.

::

    res = sweep(model, StuckAtZero("weights"), rates=[0, 0.1, 0.3, 0.5], data=(x, y), draws=20, seed=0)
    res.table     # tidy: one row per (rate, draw) with the metric value
    res.summary   # per rate: n, mean, std, ci_low, ci_high, ci_halfwidth (95 % Student t)

Reproducibility: draw ``d`` at rate ``r`` uses its own CPU generator seeded
with a stable hash of ``(seed, r, d)`` (:func:`ftlib.faults._random.derive_seed`,
the rate keyed by its exact float value). So the same seed gives the same
draws (and the same numbers on CPU), every (rate, draw) gets different faults,
and adding a rate to the grid or draws to a rate does not change the others.

Speed (all on by default, each with an off switch):

* **fault-free prefix reuse**: when the model is an ``nn.Sequential`` (nested
  ones are flattened), the activations up to the first faulty stage are
  computed once per sweep and reused by every draw and rate;
* **channels_last** memory format for models with ``Conv2d`` (restored after);
* ``torch.inference_mode``, one CPU→Python sync per draw, masks drawn with a
  handful of tensor ops per layer (no Python loop over weights or neurons);
* rate 0 is evaluated once: every fault model here is deterministic at rate 0;
* **batched draws on accelerators**: ``batch_draws=K > 1`` evaluates K draws of a
  *permanent parameter* fault in one pass with :func:`torch.func.vmap` over
  stacked faulty weights (:func:`torch.func.functional_call`), the same sites
  as the per-draw path. ``batch_draws=None`` (the default) chooses with
  :func:`auto_batch_draws`: batched on a CUDA or MPS model, per-draw on the CPU,
  where ``benchmarks/bench_faults.py`` measures the per-draw path (prefix reuse,
  channels_last) faster.
"""

from __future__ import annotations

import numbers
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ParameterError
from . import _random as R
from .apply import FaultSession
from .models import FaultModel
from .selection import sequential_stages
from ..stats import mean_ci, summarize

if TYPE_CHECKING:
    from .campaign import Campaign

BUILTIN_METRICS = ("accuracy", "error", "cross_entropy", "mse")
#: the prefix cache is skipped when it would need more memory than this
DEFAULT_PREFIX_CACHE_BYTES = 1 << 30
#: the automatic batched path stacks at most this many draws ...
AUTO_BATCH_DRAWS = 16
#: ... and at most this many bytes of stacked faulty parameters
AUTO_BATCH_BYTES = 1 << 30


# --------------------------------------------------------------------------- results
@dataclass
class SweepResult:
    """What :func:`sweep` returns.

    ``table``: tidy DataFrame, columns ``rate``, ``draw``, and one column named
    after the metric (e.g. ``accuracy``). ``summary``: per rate ``n, mean, std,
    ci_low, ci_high, ci_halfwidth`` (two-sided Student t interval of the
    mean over draws at ``confidence``, 95 % by default; ``ci_halfwidth`` is the
    achieved margin of the point), and with a target ``margin`` also
    ``target_margin`` and ``margin_met`` (``ci_halfwidth <= margin``).
    ``info``: how it ran (seconds, evaluations, draws per rate, prefix stages
    reused, channels_last, ...). ``campaign``: the recorded
    :class:`~ftlib.faults.Campaign` (``sweep(..., record=True)``) or None.
    """

    table: pd.DataFrame
    metric: str
    fault: str
    seed: int
    info: dict = field(default_factory=dict)
    confidence: float = 0.95
    margin: float | None = None
    campaign: Campaign | None = None

    @cached_property
    def summary(self) -> pd.DataFrame:
        s = summarize(self.table, self.metric, level=self.confidence)
        if self.margin is not None:
            s["target_margin"] = self.margin
            s["margin_met"] = s["ci_halfwidth"] <= self.margin
        return s

    def plot(self, ax=None, label: str | None = None, **kwargs):
        """Mean ± 95 % CI band vs rate on a matplotlib axis (created if None)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        s = self.summary
        line, = ax.plot(s["rate"], s["mean"], marker="o", label=label or self.fault, **kwargs)
        ax.fill_between(s["rate"], s["ci_low"].fillna(s["mean"]), s["ci_high"].fillna(s["mean"]),
                        color=line.get_color(), alpha=0.2, linewidth=0)
        if self.margin is not None:  # hollow markers: the margin was not met within max_draws
            miss = s[~s["margin_met"]]
            ax.plot(miss["rate"], miss["mean"], linestyle="none", marker="o", markerfacecolor="white",
                    markeredgecolor=line.get_color())
        ax.set_xlabel("fault rate")
        ax.set_ylabel(self.metric)
        return ax


# --------------------------------------------------------------------------- metrics
class _Metric:
    """Sums over a batch with a leading draw dimension: ``out`` is ``(K, B, ...)``."""

    def __init__(self, metric: str | Callable):
        if callable(metric) and not isinstance(metric, str):
            self.fn = metric
            self.name = getattr(metric, "__name__", "metric")
            if self.name == "<lambda>":
                self.name = "metric"
        elif metric in BUILTIN_METRICS:
            self.fn = None
            self.name = metric
        else:
            raise ParameterError(f"metric: expected one of {', '.join(BUILTIN_METRICS)} or a callable, got {metric!r}")
        if self.name in ("rate", "draw"):
            raise ParameterError("metric: a callable metric may not be named 'rate' or 'draw'")

    def batch(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        k = out.shape[0]
        if self.name in ("accuracy", "error"):
            return (out.argmax(-1) == y).sum(-1)
        if self.name == "cross_entropy":
            losses = F.cross_entropy(out.reshape(-1, out.shape[-1]).float(), y.repeat(k), reduction="none")
            return losses.view(k, -1).double().sum(1)
        diff = out.double() - y.double()
        return (diff * diff).reshape(k, -1).sum(1)

    def finish(self, totals: torch.Tensor, n: int, n_elems: int) -> list[float]:
        vals = totals.double().cpu()
        if self.name == "accuracy":
            vals = vals / n
        elif self.name == "error":
            vals = 1.0 - vals / n
        elif self.name == "cross_entropy":
            vals = vals / n
        else:
            vals = vals / n_elems
        return [float(v) for v in vals]


# --------------------------------------------------------------------------- data
def _materialize(data: object, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)`` tensors on ``device`` from a pair of tensors, a Dataset or an iterable of batches."""
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        x, y = data
    else:
        if isinstance(data, torch.utils.data.Dataset) and not isinstance(data, torch.utils.data.IterableDataset):
            data = torch.utils.data.DataLoader(data, batch_size=1024)
        if not isinstance(data, Iterable):
            raise ParameterError(
                f"data: expected (x, y) tensors, a Dataset or a loader of (x, y) batches, got {type(data).__name__}"
            )
        xs, ys = [], []
        for item in data:
            if not (isinstance(item, (tuple, list)) and len(item) >= 2):
                raise ParameterError("data: every batch of the loader must be an (x, y) pair")
            xs.append(torch.as_tensor(item[0]))
            ys.append(torch.as_tensor(item[1]))
        if not xs:
            raise ParameterError("data: the loader yielded no batch")
        x, y = torch.cat(xs), torch.cat(ys)
    if x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ParameterError(f"data: x and y need the same, non-zero length; got {x.shape[0]} and {y.shape[0]}")
    return x.to(device), y.to(device)


# --------------------------------------------------------------------------- staging
def _first_faulty_stage(stages: list[nn.Module], session: FaultSession) -> int:
    mods = {id(m) for m in session.modules}
    tens = {id(t) for t in session.tensors}
    for i, stage in enumerate(stages):
        if any(id(m) in mods for m in stage.modules()) or any(id(p) in tens for p in stage.parameters()):
            return i
    return len(stages)


def _run(stages: list[nn.Module], x: torch.Tensor) -> torch.Tensor:
    for stage in stages:
        x = stage(x)
    return x


def _channels_last(t: torch.Tensor) -> torch.Tensor:
    """A channels_last copy with explicit NHWC strides. (``t.contiguous(memory_format=
    channels_last)`` is a no-op when a dim is 1, e.g. the weight of a conv with one
    input channel, and then PyTorch keeps running that conv, and what follows it,
    in the slow NCHW layout.)"""
    out = torch.empty_like(t, memory_format=torch.channels_last)
    out.copy_(t)
    return out


def _model_device(model: nn.Module) -> torch.device:
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("cpu")


# --------------------------------------------------------------------------- sweep
def auto_batch_draws(model: nn.Module, fault: FaultModel, draws: int, *, adaptive: bool = False,
                     record: bool = False, replay: bool = False) -> int:
    """The draws :func:`sweep` evaluates per pass when ``batch_draws`` is None.

    1 (today's per-draw path, with prefix reuse and channels_last) on the CPU, for faults other than
    permanent parameter faults, in adaptive mode (batches would change how many draws it adds), with
    ``record`` or a campaign replay. On a CUDA or MPS model: ``min(draws, AUTO_BATCH_DRAWS)``, fewer when
    K stacked copies of the model's parameters would exceed ``AUTO_BATCH_BYTES``.
    Either way the draws are the same (the same generators select the same sites); only the pass differs.
    """
    device = _model_device(model)
    if (device.type not in ("cuda", "mps") or adaptive or record or replay
            or not (fault.site == "parameter" and fault.permanent)):
        return 1
    per_draw = sum(p.numel() * p.element_size() for p in model.parameters()) or 1
    return max(1, min(int(draws), AUTO_BATCH_DRAWS, AUTO_BATCH_BYTES // per_draw))


def _check_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ParameterError(f"{name}: expected an int >= {minimum}, got {value!r}")
    return int(value)


def sweep(model: nn.Module, fault: FaultModel, rates: Iterable[float], data: object, draws: int = 20, seed: int = 0,
          metric: str | Callable = "accuracy", batch_size: int = 256, ci_width: float | None = None,
          max_draws: int | None = None, *, batch_draws: int | None = None, prefix_reuse: bool = True,
          channels_last: bool | None = None, prefix_cache_bytes: int = DEFAULT_PREFIX_CACHE_BYTES,
          progress: bool | None = None, margin: float | None = None, confidence: float = 0.95,
          campaign: Campaign | None = None, record: bool = False) -> SweepResult:
    """Evaluate ``model`` under ``fault`` for every rate × ``draws`` independent faulty instances.

    Parameters
    ----------
    model : the network, called as ``model(x_batch)`` → outputs ``(B, C)``
        (logits for the built-in classification metrics). Put in eval mode for
        the sweep; its training flags, memory format and weights are restored.
    fault : a fault model (``StuckAtZero("weights")``, ``BernoulliCrash()``, ...);
        None with ``campaign`` (the campaign's).
    rates : fault rates in [0, 1] (distinct); None with ``campaign`` (all of its rates).
    data : ``(x, y)`` tensors (``x``: ``(N, ...)`` inputs, ``y``: ``(N,)`` class
        indices, or targets for ``"mse"``), a ``Dataset``, or an iterable of
        ``(x, y)`` batches (materialised once: the evaluation set must fit in memory).
    draws : independent faulty instances per rate (the minimum in adaptive mode).
    seed : base seed of the per-(rate, draw) generators.
    metric : ``"accuracy"``, ``"error"``, ``"cross_entropy"`` (mean over
        samples), ``"mse"`` (mean over elements), or ``f(outputs, targets) ->
        float`` called once per draw on all outputs ``(N, ...)``.
    batch_size : inputs per forward call (256: on 2 CPU cores small batches keep the
        conv activations in cache; 10k-image passes of the adversarial_ft CNN are
        ~1.5x faster than with 1000). Transient faults are drawn per call.
    ci_width, max_draws : adaptive mode. With ``ci_width`` set, draws are
        added one at a time (``batch_draws`` at a time) to each rate until the
        95 % interval is narrower than ``ci_width`` (half-width < ci_width/2)
        or ``max_draws`` (default ``10 * draws``) is reached.
    margin, confidence : statistical fault injection (see
        :func:`ftlib.faults.draws_for_margin`): draws are added per rate until
        the half-width of the ``confidence`` t interval of the mean is at most
        ``margin`` (in metric units, e.g. 0.01 = 1 point of accuracy) or
        ``max_draws`` (default ``10 * draws``) is reached; ``draws`` is the
        pilot. The summary reports the achieved half-width and ``margin_met``
        per rate. ``confidence`` also sets the summary's interval (default 95 %).
    campaign : a :class:`~ftlib.faults.Campaign` to replay (its recorded sites,
        no random draw) instead of drawing with ``seed``; ``draws`` is then the
        campaign's. The model must have the campaign's shapes.
    record : also return the drawn sites as ``result.campaign`` (permanent faults).
    batch_draws : > 1 evaluates that many draws per pass with ``vmap``
        (permanent parameter faults only); 1 one draw per pass; None (default)
        :func:`auto_batch_draws` (batched on a GPU, per-draw on the CPU).
    prefix_reuse : reuse the fault-free prefix activations of a Sequential model.
    channels_last : convert 4-D parameters and inputs to channels_last; None →
        yes when the model has a Conv2d (and ``batch_draws == 1``).
    prefix_cache_bytes : skip prefix reuse if the cache would be larger.
    progress : tqdm progress bar; None → only when stderr is a terminal.
    """
    t0 = time.perf_counter()
    if not isinstance(model, nn.Module):
        raise ParameterError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if campaign is not None:
        from .campaign import Campaign as _Campaign

        if not isinstance(campaign, _Campaign):
            raise ParameterError(f"campaign: expected a Campaign (Campaign.load(path)), got {type(campaign).__name__}")
        if fault is None:
            fault = campaign.fault_model()
        elif repr(fault) != campaign.fault:
            raise ParameterError(f"fault: {fault!r} differs from the campaign's {campaign.fault}; pass fault=None")
        if rates is None:
            rates = list(campaign.rates)
        if ci_width is not None or margin is not None or batch_draws not in (None, 1) or record:
            raise ParameterError("campaign: a replay has the campaign's draws; do not combine it with ci_width, "
                                 "margin, batch_draws or record")
    if not isinstance(fault, FaultModel):
        raise ParameterError(f"fault: expected a fault model (e.g. StuckAtZero('weights')), got {fault!r}")
    if isinstance(rates, numbers.Real):
        rates = [rates]
    if not isinstance(rates, Iterable) or isinstance(rates, str):
        raise ParameterError(f"rates: expected a list of numbers in [0, 1], got {rates!r}")
    rate_list = [fault.check_rate(r) for r in rates]
    if not rate_list:
        raise ParameterError("rates: give at least one rate")
    if len(set(rate_list)) != len(rate_list):
        raise ParameterError(f"rates: contains duplicates: {rate_list}")
    draws = _check_int(draws, "draws", 1)
    camp_index: dict[float, int] = {}
    if campaign is not None:
        camp_index = {float(r): i for i, r in enumerate(campaign.rates)}
        missing = [r for r in rate_list if r not in camp_index]
        if missing:
            raise ParameterError(f"rates: {missing} not in the campaign (its rates: {campaign.rates})")
        if campaign.seed is not None:
            seed = campaign.seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ParameterError(f"seed: expected an int, got {seed!r}")
    seed = int(seed)
    if not (isinstance(confidence, numbers.Real) and not isinstance(confidence, bool) and 0 < confidence < 1):
        raise ParameterError(f"confidence: expected a number in (0, 1), got {confidence!r}")
    confidence = float(confidence)
    if margin is not None:
        if isinstance(margin, bool) or not isinstance(margin, numbers.Real) or not margin > 0:
            raise ParameterError(f"margin: expected a positive number (half-width in metric units), got {margin!r}")
        if ci_width is not None:
            raise ParameterError("margin and ci_width: pass one of them (margin = ci_width / 2)")
        if draws < 2:
            raise ParameterError("draws: adaptive mode (margin) needs draws >= 2 to form an interval")
        margin = float(margin)
    batch_size = _check_int(batch_size, "batch_size", 1)
    if batch_draws is None:
        batch_draws = auto_batch_draws(model, fault, draws, adaptive=ci_width is not None or margin is not None,
                                       record=record, replay=campaign is not None)
    batch_draws = _check_int(batch_draws, "batch_draws", 1)
    if ci_width is not None:
        if isinstance(ci_width, bool) or not isinstance(ci_width, numbers.Real) or not ci_width > 0:
            raise ParameterError(f"ci_width: expected a positive number, got {ci_width!r}")
        if draws < 2:
            raise ParameterError("draws: adaptive mode (ci_width) needs draws >= 2 to form an interval")
        max_draws = 10 * draws if max_draws is None else _check_int(max_draws, "max_draws", draws)
    elif margin is not None:
        max_draws = 10 * draws if max_draws is None else _check_int(max_draws, "max_draws", draws)
    elif max_draws is not None:
        raise ParameterError("max_draws: only meaningful with ci_width or margin (adaptive mode)")
    if record and batch_draws > 1:
        raise ParameterError("record=True needs batch_draws=1 (the batched path does not keep the sites)")
    if batch_draws > 1 and not (fault.site == "parameter" and fault.permanent):
        raise ParameterError("batch_draws > 1 supports permanent parameter faults only (weights, filters, bit flips)")
    met = _Metric(metric)

    device = _model_device(model)
    x, y = _materialize(data, device)
    n = x.shape[0]
    bounds = [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]
    has_conv2d = any(isinstance(m, nn.Conv2d) for m in model.modules())
    use_cl = (has_conv2d and batch_draws == 1) if channels_last is None else bool(channels_last)
    if use_cl and batch_draws > 1:
        raise ParameterError("channels_last is not supported with batch_draws > 1")

    modes = [(m, m.training) for m in model.modules()]
    swapped: list[tuple[torch.Tensor, torch.Tensor]] = []
    session: FaultSession | None = None
    bar = None
    info: dict = {}
    try:
        model.eval()
        if use_cl:
            for t in list(model.parameters()) + list(model.buffers()):
                if t.dim() == 4:
                    swapped.append((t, t.data))
                    t.data = _channels_last(t.data)
            if x.dim() == 4:
                x = _channels_last(x)
        session = FaultSession(model, fault, inplace=True)
        if campaign is not None:
            campaign.check(model, session)
        recorded = None
        if record:
            from .campaign import Campaign as _Campaign

            recorded = _Campaign.empty(model, fault, rate_list, seed, session)

        # fault-free prefix, computed once
        stages = sequential_stages(model, session.modules) if (prefix_reuse and batch_draws == 1) else None
        start = _first_faulty_stage(stages, session) if stages is not None else 0
        cache: list[torch.Tensor] | None = None
        if stages is not None and start > 0:
            prefix = stages[:start]
            with torch.inference_mode():
                first = _run(prefix, x[bounds[0][0]:bounds[0][1]])
                if isinstance(first, torch.Tensor) and (
                    first.element_size() * first.numel() * n / (bounds[0][1] - bounds[0][0]) <= prefix_cache_bytes
                ):
                    cache = [first] + [_run(prefix, x[s:e]) for s, e in bounds[1:]]
        if cache is None:
            start = 0
        suffix = stages[start:] if stages is not None else None
        clone_inputs = cache is not None and any(
            getattr(m, "inplace", False) for st in suffix for m in st.modules())  # type: ignore[union-attr]
        n_elems = y.numel()

        def forward(b: int) -> torch.Tensor:
            if cache is not None:
                xb = cache[b].clone() if clone_inputs else cache[b]
                return _run(suffix, xb)  # type: ignore[arg-type]
            s, e = bounds[b]
            return model(x[s:e])

        def eval_one(rate: float, d: int) -> float:
            if campaign is not None:
                inj = session.apply(rate, sites=campaign.sites_for(camp_index[rate], d))  # type: ignore[union-attr]
            else:
                inj = session.apply(rate, R.derive_generator(seed, R.rate_key(rate), d))  # type: ignore[union-attr]
            try:
                if recorded is not None:
                    try:
                        return _evaluate()
                    finally:
                        recorded.add(rate_list.index(rate), d, inj)
                return _evaluate()
            finally:
                session.reset()  # type: ignore[union-attr]

        def _evaluate() -> float:
            with torch.inference_mode():
                if met.fn is not None:
                    out = torch.cat([forward(b) for b in range(len(bounds))])
                    return float(met.fn(out, y))
                total = None
                for b, (s, e) in enumerate(bounds):
                    part = met.batch(forward(b).unsqueeze(0), y[s:e])
                    total = part if total is None else total + part
                return met.finish(total, n, n_elems)[0]

        def eval_many(rate: float, ds: list[int]) -> list[float]:
            return _eval_batched(model, session, rate, ds, seed, x, y, bounds, met, n, n_elems)  # type: ignore[arg-type]

        if progress is None:
            progress = sys.stderr.isatty()
        if progress:
            try:
                from tqdm.auto import tqdm
                bar = tqdm(total=len(rate_list) * draws, desc=f"sweep {type(fault).__name__}", leave=False)
            except ImportError:  # pragma: no cover
                bar = None

        rows = []
        evaluations = 0
        draws_per_rate = []
        adaptive = ci_width is not None or margin is not None
        for rate in rate_list:
            values: list[float] = []
            target = draws if campaign is None else campaign.draws[camp_index[rate]]
            while True:
                while len(values) < target:
                    if rate == 0.0 and values:  # deterministic at rate 0: replicate
                        values.append(values[0])
                        step = 1
                    elif batch_draws > 1:
                        ds = list(range(len(values), min(target, len(values) + batch_draws)))
                        values.extend(eval_many(rate, ds))
                        step = len(ds)
                        evaluations += step
                    else:
                        values.append(eval_one(rate, len(values)))
                        step = 1
                        evaluations += 1
                    if bar is not None:
                        bar.update(step)
                if not adaptive or len(values) >= max_draws:  # type: ignore[operator]
                    break
                if ci_width is not None and mean_ci(values)["ci_halfwidth"] < ci_width / 2.0:
                    break
                if margin is not None and mean_ci(values, confidence)["ci_halfwidth"] <= margin:
                    break
                target = min(max_draws, len(values) + batch_draws)  # type: ignore[type-var]
                if bar is not None:
                    bar.total += target - len(values)
            rows.extend((rate, d, v) for d, v in enumerate(values))
            draws_per_rate.append(len(values))
        info = {
            "seconds": time.perf_counter() - t0,
            "evaluations": evaluations,
            "n_samples": n,
            "batch_size": batch_size,
            "batch_draws": batch_draws,
            "prefix_stages": start,
            "channels_last": use_cl,
            "device": str(device),
            "layers": [name for name, _ in session.layers],
            "draws_per_rate": draws_per_rate,
        }
        if recorded is not None:  # rate 0 is replicated, not redrawn: record its draws as empty
            for i, k in enumerate(draws_per_rate):
                recorded.draws[i] = k
                for d in range(k):
                    recorded.sites.setdefault((i, d), {})
    finally:
        if bar is not None:
            bar.close()
        try:
            if session is not None:
                session.close()
        finally:
            for t, data_ in swapped:
                t.data = data_
            for m, mode in modes:
                m.training = mode
    table = pd.DataFrame(rows, columns=["rate", "draw", met.name])
    return SweepResult(table=table, metric=met.name, fault=repr(fault), seed=seed, info=info, confidence=confidence,
                       margin=margin, campaign=recorded)


def _eval_batched(model: nn.Module, session: FaultSession, rate: float, ds: list[int], seed: int, x: torch.Tensor,
                  y: torch.Tensor, bounds, met: _Metric, n: int, n_elems: int) -> list[float]:
    """K = len(ds) draws of a permanent parameter fault in one vmap pass over stacked weights."""
    from torch.func import functional_call, vmap

    names = {id(p): name for name, p in model.named_parameters()}
    names.update({id(b): name for name, b in model.named_buffers()})
    per_draw = []
    for d in ds:
        gen = R.derive_generator(seed, R.rate_key(rate), d)
        clones = [{a: c.clone() for a, c in clean.items()} for clean in session.clean]
        with torch.no_grad():
            for i in range(len(session.entries)):
                session.fault.corrupt_(clones[i], rate, gen)  # type: ignore[attr-defined]
        per_draw.append(clones)
    stacked = {}
    for i, (_, _, tensors) in enumerate(session.entries):
        for a, t in tensors.items():
            stacked[names[id(t)]] = torch.stack([pd[i][a] for pd in per_draw])
    fixed = {name: t for name, t in list(model.named_parameters()) + list(model.named_buffers()) if name not in stacked}

    def f(params, xb):
        return functional_call(model, (params, fixed), (xb,))

    batched = vmap(f, in_dims=(0, None))
    with torch.inference_mode():
        if met.fn is not None:
            outs = torch.cat([batched(stacked, x[s:e]) for s, e in bounds], dim=1)
            return [float(met.fn(outs[k], y)) for k in range(len(ds))]
        total = None
        for s, e in bounds:
            part = met.batch(batched(stacked, x[s:e]), y[s:e])
            total = part if total is None else total + part
        return met.finish(total, n, n_elems)
