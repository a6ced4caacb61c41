"""Training loops of snn_patterns: baseline, fault-aware training [5] and the
proposed fault-aware training with adversarial pattern generation (Algorithm 1).

One loop body (:func:`train_snn`) for the four methods of the paper:

- ``"baseline"``: cross-entropy on the fault-free output;
- ``"previous"`` (fault-aware training of [5], Section 3B): for each batch,
  inject a fresh faulty instance at the fault injection ratio (FIR), faulty
  inference, update, restore; the loss is CE(faulty) in the ``"authors"``
  variant (their script) and CE(fault-free) + CE(faulty) in ``"paper-text"``;
- ``"proposed"``: ``"previous"`` plus, after every epoch but the last,
  :func:`gen_pattern` (Algorithm 1) adds at most M new patterns to the
  training set (19 × 100 = 1,900 after 20 epochs, Section 4A);
- ``"replay"``: ``"previous"`` on the original data plus the patterns stored
  by the matching ``"proposed"`` run, without generating any (Section 4C,
  "proposed w/o pattern generation"); the model after every epoch is kept so
  the epoch that reaches the previous method's accuracy can be found.

It is :mod:`ftlib.loop`'s skeleton (cache entry per configuration, per-epoch
seeds, checkpoints: an interrupted run resumes from its last completed epoch)
plus this loop's epoch. Faults come from the
shared engine, applied with :func:`ftlib.faults.inject`: in the ``"authors"``
variant :class:`ftlib.faults.PopulationSpikeFault` over the 784 input pixels
and 128 hidden neurons (:func:`spike_fault`), in ``"paper-text"``
:class:`ftlib.faults.SpikeFault` on the hidden LIF layer's spikes.

Variants (``SNNTrainConfig.variant``, :data:`ftlib.models.snn_patterns.VARIANTS`):
``"authors"`` is what the authors' public script did (neuron, fault population,
loss, keep rule of the pattern generation); ``"paper-text"`` our earlier reading
of the paper's text.

Timing: the history records, per epoch, the seconds spent training
(``train_s``) and generating patterns (``gen_s``), measured with
:func:`time.process_time` (CPU time of this process, as the paper's "CPU run
time") and :func:`time.perf_counter` (wall).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import codemap, data, loop, models
from . import device as _device
from .errors import ParameterError
from .faults.apply import inject
from .faults.models import FaultModel, SpikeFault, check_rate
from .faults.spiking import PopulationSpikeFault
from .models.snn_patterns import CURRENT_LAYER, HIDDEN_LAYER, PIXEL_LAYER, VARIANTS
from .store import Store

SNN_CODE = codemap.salt_parts(__name__.split(".")[-1])
"""The ftlib source an SNN training result depends on (its cache salt)."""

METHODS = ("baseline", "previous", "proposed", "replay")
DATASET = "mnist"
POPULATIONS = ("both", "inputs", "hidden")
"""The authors' fault population (784 pixels + 128 hidden neurons, one draw) and its two restrictions."""
AUTHORS_SITES = ((PIXEL_LAYER, "probability", 784), (CURRENT_LAYER, "current", 128))
"""The 912 fault candidates of the authors' script: the input pixels' spike probabilities, the hidden currents."""


@dataclass(frozen=True)
class GenConfig:
    """Algorithm 1's settings (Table 2: time window N = 20, inference time 5,
    different time K = 4, M = 100 patterns per epoch).

    ``eps`` is the step ε of the perturbation (not given by the paper; see
    :func:`gen_pattern` for the normalisation). ``max_batches`` bounds the
    batches scanned per call (0 = all, the paper's outer loop); ``batch_size``
    is the batch of the scan.
    """

    n_steps: int = 20
    check_time: int = 5
    k_diff: int = 4
    m_patterns: int = 100
    eps: float = 0.05
    max_batches: int = 0
    batch_size: int = 64
    reps: int = 1

    def __post_init__(self):
        if (self.n_steps < 1 or self.check_time < 1 or self.m_patterns < 1 or self.eps <= 0 or self.batch_size < 1
                or self.reps < 1):
            raise ParameterError(f"invalid pattern-generation settings: {self}")
        if not 0 <= self.k_diff <= self.check_time:
            raise ParameterError(f"k_diff must be in [0, check_time], got {self.k_diff} (check_time {self.check_time})")


@dataclass(frozen=True)
class SNNTrainConfig:
    """Everything that determines a trained spiking model (the cache key).

    ``fault`` is ``"HSF"`` or ``"NASF"`` (ignored by the baseline) and ``fir``
    the fault injection ratio used in training. ``n_train`` images of the
    MNIST training split (48,000 = the paper's 80 %; the rest is left for
    validation); ``arch_kwargs`` go to ``snn_mlp`` (``num_steps``, ``beta``...).
    """

    method: str
    epochs: int
    fault: str = "NASF"
    fir: float = 0.0
    batch_size: int = 64
    lr: float = 1e-3
    n_train: int = 48_000
    seed: int = 0
    arch_kwargs: dict = field(default_factory=dict)
    gen: GenConfig = field(default_factory=GenConfig)
    variant: str = "paper-text"

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ParameterError(f"variant must be one of {', '.join(VARIANTS)}, got {self.variant!r}")
        if self.method not in METHODS:
            raise ParameterError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.fault not in ("HSF", "NASF"):
            raise ParameterError(f"fault must be 'HSF' or 'NASF', got {self.fault!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.n_train < 1:
            raise ParameterError(f"invalid SNN training configuration: {self}")
        check_rate(self.fir, "fir")

    def build(self) -> nn.Sequential:
        """A fresh (randomly initialised) network of this configuration's variant."""
        return models.build("snn_mlp", variant=self.variant, **self.arch_kwargs)

    def key(self) -> dict:
        """The cache key: the baseline ignores fault, FIR and pattern settings; only
        the proposed method depends on the pattern-generation settings."""
        k = asdict(self)
        if self.method == "baseline":
            k.update(fault=None, fir=None)
        if self.method in ("baseline", "previous"):
            k["gen"] = None
        return k


@dataclass
class SNNTrained:
    """A trained spiking model, its per-epoch history and (proposed) its generated patterns."""

    model: nn.Sequential
    config: SNNTrainConfig
    history: list[dict]
    patterns: tuple[torch.Tensor, torch.Tensor] | None
    epoch_states: list[dict] | None
    from_cache: bool

    @property
    def train_seconds(self) -> float:
        """CPU seconds spent in training steps (without pattern generation)."""
        return sum(h["train_cpu_s"] for h in self.history)

    @property
    def gen_seconds(self) -> float:
        """CPU seconds spent generating patterns."""
        return sum(h["gen_cpu_s"] for h in self.history)

    def model_at(self, epoch: int) -> nn.Sequential:
        """A copy of the model after ``epoch`` (1-based; replay runs only)."""
        if not self.epoch_states:
            raise ParameterError("model_at: only replay runs keep the model of every epoch")
        m = self.config.build()
        m.load_state_dict(self.epoch_states[epoch - 1])
        return m.eval()


def spike_fault(kind: str, variant: str = "paper-text", population: str = "both") -> FaultModel:
    """The HSF/NASF fault model of ``variant`` on ``snn_mlp``.

    ``"authors"``: :class:`~ftlib.faults.PopulationSpikeFault` over the 784 input pixels and the 128 hidden
    neurons (``int(912 · ratio)`` of them; HSF × 0.1, NASF always spikes); ``population`` ``"inputs"`` or
    ``"hidden"`` applies only that part of the same fault set. ``"paper-text"``:
    :class:`~ftlib.faults.SpikeFault` on the hidden LIF layer's spikes (``round(128 · ratio)`` neurons forced
    to 0 or 1; ``population`` must be ``"hidden"`` or ``"both"``)."""
    if population not in POPULATIONS:
        raise ParameterError(f"population must be one of {', '.join(POPULATIONS)}, got {population!r}")
    if variant == "authors":
        apply_to = {"both": None, "inputs": (PIXEL_LAYER,), "hidden": (CURRENT_LAYER,)}[population]
        return PopulationSpikeFault(kind, AUTHORS_SITES, apply_to=apply_to)
    if variant != "paper-text":
        raise ParameterError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    if population == "inputs":
        raise ParameterError("the paper-text fault model has no input faults (population 'hidden' or 'both')")
    return SpikeFault(kind, HIDDEN_LAYER)


def _draw_seed(gen: torch.Generator) -> int:
    return int(torch.randint(0, 2**62, (1,), generator=gen))


def gen_pattern(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor, fault: SpikeFault, fir: float,
                g: GenConfig, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Algorithm 1 (gen_pattern): new patterns that tell the faulty model from the fault-free one.

    For each batch (in a random order; a fresh faulty instance at ``fir`` per
    batch) and for up to ``g.n_steps`` perturbation steps ("time window" N):
    run ``g.check_time`` fault-free and faulty inferences of the current
    patterns, count for each pattern how often the two predicted classes
    (argmax of the spike counts) differ; a pattern that differs more than
    ``g.k_diff`` times is kept as a new pattern (with the label of its
    source image) and leaves the loop; the others are perturbed by
    ε · ∇ₓ Σ(ft_output − ff_output)², where the outputs are the spike counts
    averaged over the ``check_time`` inferences. That gradient is the
    paper's ε · (ft_grad − ff_grad): ft_grad (ff_grad) is the Jacobian of the
    faulty (fault-free) output contracted with 2(ft − ff). We scale it per
    pattern by its largest absolute entry, so ε is the largest pixel change
    per step (the paper's raw-gradient scale is not given), and clip pixels to
    [0, 1] (they are spike probabilities). Stops after ``g.m_patterns``
    patterns (Algorithm 1, lines 18-19) or ``g.max_batches`` batches.

    Returns ``(patterns, labels, stats)``; ``stats`` counts batches scanned,
    inferences, and the perturbation steps each kept pattern needed.
    """
    was_training = model.training
    model.eval()
    order = torch.randperm(len(x), generator=generator).to(x.device)
    kept_x, kept_y, steps_needed = [], [], []
    n_kept, n_batches = 0, 0
    C = g.check_time
    try:
        for i in range(0, len(x), g.batch_size):
            if n_kept >= g.m_patterns or (g.max_batches and n_batches >= g.max_batches):
                break
            n_batches += 1
            idx = order[i:i + g.batch_size]
            pat, lab = x[idx].clone(), y[idx]
            alive = torch.ones(len(idx), dtype=torch.bool, device=x.device)
            fault_seed = _draw_seed(generator)
            for step in range(g.n_steps):
                pat.requires_grad_(True)
                rep = pat.repeat(C, *([1] * (pat.dim() - 1)))
                ff = model(rep).view(C, len(idx), -1)
                with inject(model, fault, fir, seed=fault_seed):
                    ft = model(rep).view(C, len(idx), -1)
                different = (ff.argmax(-1) != ft.argmax(-1)).sum(0)
                good = (different > g.k_diff) & alive
                if good.any():
                    take = good.nonzero().flatten()[: g.m_patterns - n_kept]
                    kept_x.append(pat.detach()[take].clone())
                    kept_y.append(lab[take])
                    steps_needed += [step] * len(take)
                    n_kept += len(take)
                    alive &= ~good
                if n_kept >= g.m_patterns or not alive.any():
                    break
                loss = (ft.mean(0) - ff.mean(0)).pow(2).sum()
                (grad,) = torch.autograd.grad(loss, pat)
                scale = grad.flatten(1).abs().amax(1).clamp_min(1e-12).view(-1, *([1] * (pat.dim() - 1)))
                step_ = g.eps * grad / scale * alive.view(-1, *([1] * (pat.dim() - 1))).to(grad.dtype)
                pat = (pat.detach() + step_).clamp(0.0, 1.0)
    finally:
        model.train(was_training)
    if kept_x:
        px, py = torch.cat(kept_x), torch.cat(kept_y)
    else:
        px, py = x[:0].clone(), y[:0].clone()
    stats = {"batches": n_batches, "patterns": int(len(py)), "steps_needed": steps_needed}
    return px, py, stats


def gen_pattern_authors(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor, fault: FaultModel,
                        fir: float, g: GenConfig,
                        generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Algorithm 1 with the keep rule and the step of the authors' script (``gen_pattern`` of
    ``fault_tolerant.py``; facts in ``shared/data/snn_patterns_authors/PROVENANCE.md``).

    For each batch (random order; a fresh fault set at ``fir`` per batch), for ``g.n_steps`` iterations
    (Table 2's "time window" 20): ``g.check_time`` checks, each comparing the argmax of the fault-free and of
    the faulty output averaged over ``g.reps`` stochastic repetitions (theirs: 5 checks of 20); an image is
    *kept* when at least ``g.k_diff`` (4) checks show a faulty prediction ≠ fault-free one **and** a correct
    fault-free one. An image that already passes before any perturbation is marked and not kept (it is not
    a new pattern). Then every image not yet marked moves by ``g.eps`` (0.1) · sign(∇_ff − ∇_ft), the
    gradients of Σ(ff − ft)² with respect to the fault-free and the faulty copy of the input, clipped to
    [0, 1]. Stops after ``g.m_patterns`` patterns or ``g.max_batches`` batches. The Hotelling T² test in the
    script is never called and is not used here. Shapes and returns as :func:`gen_pattern`.
    """
    was_training = model.training
    model.eval()
    order = torch.randperm(len(x), generator=generator).to(x.device)
    kept_x, kept_y, steps_needed = [], [], []
    n_kept, n_batches = 0, 0
    shape1 = [1] * (x.dim() - 1)
    try:
        for i in range(0, len(x), g.batch_size):
            if n_kept >= g.m_patterns or (g.max_batches and n_batches >= g.max_batches):
                break
            n_batches += 1
            idx = order[i:i + g.batch_size]
            pat, lab, b = x[idx].clone(), y[idx], len(idx)
            marked = torch.zeros(b, dtype=torch.bool, device=x.device)
            fault_seed = _draw_seed(generator)
            for step in range(g.n_steps):
                with torch.no_grad():
                    hits = torch.zeros(b, dtype=torch.long, device=x.device)
                    rep = pat.repeat(g.reps, *shape1)
                    for _ in range(g.check_time):
                        ff = model(rep).view(g.reps, b, -1).mean(0).argmax(-1)
                        with inject(model, fault, fir, seed=fault_seed):
                            ft = model(rep).view(g.reps, b, -1).mean(0).argmax(-1)
                        hits += ((ff != ft) & (ff == lab)).long()
                good = (hits >= g.k_diff) & ~marked
                if step > 0 and good.any():
                    take = good.nonzero().flatten()[: g.m_patterns - n_kept]
                    kept_x.append(pat[take].clone())
                    kept_y.append(lab[take])
                    steps_needed += [step] * len(take)
                    n_kept += len(take)
                marked |= good
                if n_kept >= g.m_patterns or marked.all():
                    break
                p_ff = pat.detach().clone().requires_grad_(True)
                p_ft = pat.detach().clone().requires_grad_(True)
                out_ff = model(p_ff)
                with inject(model, fault, fir, seed=fault_seed):
                    out_ft = model(p_ft)
                g_ff, g_ft = torch.autograd.grad((out_ff - out_ft).pow(2).sum(), (p_ff, p_ft))
                move = (~marked).view(-1, *shape1).to(pat.dtype)
                pat = (pat + g.eps * (g_ff - g_ft).sign() * move).clamp(0.0, 1.0).detach()
    finally:
        model.train(was_training)
    if kept_x:
        px, py = torch.cat(kept_x), torch.cat(kept_y)
    else:
        px, py = x[:0].clone(), y[:0].clone()
    return px, py, {"batches": n_batches, "patterns": int(len(py)), "steps_needed": steps_needed}


def _train_data(cfg: SNNTrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    ds = data.load(DATASET, "train").subset(cfg.n_train, seed=cfg.seed)
    return ds.x, ds.y


def proposed_of(cfg: SNNTrainConfig) -> SNNTrainConfig:
    """The ``"proposed"`` run whose stored patterns a ``"replay"`` run trains on."""
    return replace(cfg, method="proposed")


def train_snn(cfg: SNNTrainConfig, store: Store | None = None,
              device: str | torch.device | None = None) -> SNNTrained:
    """Train (or load from the cache) the spiking model described by ``cfg`` on ``device``
    (:func:`ftlib.device.resolve`; see the module docstring). An accelerator's model is its own cache entry."""
    dev, store = _device.resolve(device), store or Store()
    return loop.cached(store, "train_snn", {**cfg.key(), **_device.cache_key(dev)}, __name__.split(".")[-1],
                       lambda entry: _cached(cfg, entry, dev), lambda entry: _fit(cfg, store, entry, dev),
                       f"spiking {cfg.method}")


def _cached(cfg: SNNTrainConfig, entry, dev: torch.device) -> SNNTrained | None:
    """The trained spiking model of ``cfg`` from its cache entry (on ``dev``), or None if it is not stored."""
    state, meta = entry.load_state(), entry.load_result()
    if state is None or meta is None:
        return None
    return _from_state(cfg.build(), cfg, state, meta["history"], True, dev)


def _fit(cfg: SNNTrainConfig, store: Store, entry, dev: torch.device) -> SNNTrained:
    """Train ``cfg`` on ``dev`` (resuming from its checkpoint, :func:`ftlib.loop.run_epochs`) and store it in
    ``entry``; the caller holds its lock.

    One epoch: the training set plus the patterns so far, in the order of a permutation from the epoch's seed
    (whose generator then draws each batch's fault seed and the pattern generation's order); per batch the
    method's loss, one Adam step; after every epoch but the last the proposed method generates patterns."""
    x0, y0 = (t.to(dev) for t in _train_data(cfg))
    extra = {"x": x0[:0], "y": y0[:0]}  # the generated (proposed) or replayed patterns
    if cfg.method == "replay":
        extra["x"], extra["y"] = (t.to(dev) for t in train_snn(proposed_of(cfg), store, dev).patterns)
    torch.manual_seed(cfg.seed)
    model = cfg.build().to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    epoch_states: list[dict] = []
    fault = spike_fault(cfg.fault, cfg.variant)
    fault_aware = cfg.method != "baseline"
    faulty_only = cfg.variant == "authors"  # their "previous": the loss of the faulty pass only
    generate = gen_pattern_authors if cfg.variant == "authors" else gen_pattern

    def run_epoch(epoch: int) -> list[dict]:
        x, y = torch.cat([x0, extra["x"]]), torch.cat([y0, extra["y"]])
        c0, w0 = time.process_time(), time.perf_counter()
        model.train()
        seed = loop.epoch_seed(cfg.seed, epoch)
        order, gen = loop.shuffled(len(x), seed, dev)
        torch.manual_seed(seed + 1)
        total = torch.zeros((), dtype=torch.float64, device=dev)
        for idx in loop.batches(order, cfg.batch_size, f"{cfg.method} epoch {epoch + 1}/{cfg.epochs}"):
            xb, yb = x[idx], y[idx]
            loss = 0.0 if fault_aware and faulty_only else F.cross_entropy(model(xb), yb)
            if fault_aware:
                with inject(model, fault, cfg.fir, seed=_draw_seed(gen)):
                    loss = loss + F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach().double() * len(idx)
        mean_loss = float(total) / len(x)  # the epoch's one read from the device (after it, the timing is true)
        train_cpu, train_wall = time.process_time() - c0, time.perf_counter() - w0
        gen_cpu = gen_wall = 0.0
        n_new = 0
        if cfg.method == "proposed" and epoch < cfg.epochs - 1:
            c1, w1 = time.process_time(), time.perf_counter()
            px, py, st = generate(model, x0, y0, fault, cfg.fir, cfg.gen, gen)
            extra["x"], extra["y"] = torch.cat([extra["x"], px]), torch.cat([extra["y"], py])
            n_new = st["patterns"]
            gen_cpu, gen_wall = time.process_time() - c1, time.perf_counter() - w1
        if cfg.method == "replay":
            epoch_states.append({k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
        return [{"epoch": epoch + 1, "loss": mean_loss, "train_cpu_s": train_cpu,
                 "train_wall_s": train_wall, "gen_cpu_s": gen_cpu, "gen_wall_s": gen_wall,
                 "new_patterns": n_new, "train_size": len(x)}]

    def save() -> dict:
        return {"patterns_x": extra["x"].cpu(), "patterns_y": extra["y"].cpu(), "epochs": _flatten_epochs(epoch_states)}

    def restore(saved: dict) -> None:
        if cfg.method == "proposed":
            extra["x"], extra["y"] = saved["patterns_x"].to(dev), saved["patterns_y"].to(dev)
        epoch_states[:] = _unflatten_epochs(saved["epochs"])

    run = loop.run_epochs(entry, cfg.epochs, loop.Resumable({"model": model}, {"optimizer": opt}, save, restore),
                          run_epoch)
    model.eval()
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if cfg.method == "proposed":
        state["patterns.x"], state["patterns.y"] = extra["x"].cpu().contiguous(), extra["y"].cpu().contiguous()
    state.update(_flatten_epochs(epoch_states))
    entry.save_state(state)
    entry.save_result({"history": run.history})
    entry.drop_checkpoint()
    return _from_state(cfg.build(), cfg, state, run.history, False, dev)


def _flatten_epochs(states: list[dict]) -> dict[str, torch.Tensor]:
    return {f"epoch{e + 1}.{k}": v for e, s in enumerate(states) for k, v in s.items()}


def _unflatten_epochs(flat: dict[str, torch.Tensor]) -> list[dict]:
    out: dict[int, dict] = {}
    for k, v in flat.items():
        head, name = k.split(".", 1)
        out.setdefault(int(head.removeprefix("epoch")), {})[name] = v
    return [out[e] for e in sorted(out)]


def _from_state(model, cfg, state, history, cached, dev: torch.device | None = None) -> SNNTrained:
    """The :class:`SNNTrained` of a stored state (weights, patterns and per-epoch weights on the CPU; the
    model moved to ``dev``)."""
    state = dict(state)
    patterns = None
    if "patterns.x" in state:
        patterns = (state.pop("patterns.x"), state.pop("patterns.y"))
    epochs = {k: state.pop(k) for k in [k for k in state if k.startswith("epoch")]}
    model.load_state_dict(state)
    model.to(dev or torch.device("cpu")).eval()
    return SNNTrained(model, cfg, history, patterns, _unflatten_epochs(epochs) or None, cached)


# --- evaluation -------------------------------------------------------------------------------------

@torch.inference_mode()
def accuracy(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor, reps: int, seed: int,
             batch_size: int = 2000) -> float:
    """Mean accuracy over ``reps`` stochastic repetitions (fresh rate encodings) of the test set
    (the paper's "test repetition": 20). The encodings are seeded by ``(seed, rep)``."""
    model.eval()
    enc = model[0]
    dev = next(iter(model.parameters()), torch.empty(0)).device
    correct = torch.zeros(reps, dtype=torch.long, device=dev)
    try:
        for r in range(reps):
            enc.generator = torch.Generator().manual_seed(seed * 1_000_003 + r)
            for i in range(0, len(x), batch_size):
                xb, yb = x[i:i + batch_size].to(dev), y[i:i + batch_size].to(dev)
                correct[r] += (model(xb).argmax(1) == yb).sum()
    finally:
        enc.generator = None
    accs = [c / len(x) for c in correct.tolist()]
    return sum(accs) / len(accs)


def fault_instance_seed(seed: int, instance: int) -> int:
    """The seed of fault instance ``instance``: the same fault locations for every model compared."""
    return seed * 7_919 + 104_729 * (instance + 1)


def faulty_accuracies(model: nn.Sequential, kind: str, ratio: float, x: torch.Tensor, y: torch.Tensor,
                      instances: int, reps: int, seed: int, variant: str = "paper-text",
                      population: str = "both") -> list[float]:
    """Accuracy of ``model`` under ``instances`` HSF/NASF fault instances at ``ratio`` (each the
    mean over ``reps`` encodings) of the fault model :func:`spike_fault` ``(kind, variant, population)``.
    Instance ``i`` has the same fault locations for every model (and, in the authors' variant, for every
    population: "inputs" and "hidden" are the two parts of the "both" fault set)."""
    out = []
    fault = spike_fault(kind, variant, population)
    for i in range(instances):
        with inject(model, fault, ratio, seed=fault_instance_seed(seed, i)):
            out.append(accuracy(model, x, y, reps, seed + i))
    return out
