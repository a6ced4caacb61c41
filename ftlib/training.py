"""The supervised training-loop family shared by every paper.

:func:`train` fits a model from :mod:`ftlib.models` on a dataset from
:mod:`ftlib.data` with optional L1 (Lasso) and L2 (Tikhonov) penalties, caches
the trained weights and metrics in :mod:`ftlib.store` under the full
:class:`TrainConfig`, and checkpoints every epoch so an interrupted run resumes
from its last completed epoch.

Penalties follow adversarial_ft Section 4: ``L = mean_i loss(f(x_i), y_i)
+ λ₁ Σ_j |θ_j| + λ₂ Σ_j θ_j²`` where θ runs over the *weights* (not biases) of
every Linear/Conv layer (the Keras ``kernel_regularizer`` convention). The
penalty gradient is added to the weight gradients directly (same optimum, no
extra autograd graph).

Determinism: parameters are initialised from ``seed``; epoch ``e`` shuffles
with a generator seeded by ``(seed, e)`` and reseeds the global RNG (dropout)
the same way, so a resumed run gives the same numbers as an uninterrupted one.
"""

from __future__ import annotations

import time
from dataclasses import MISSING, asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import codemap, data, loop, models, regularizers
from . import device as _device
from .errors import ParameterError
from .faults.apply import FaultSession, inject
from .faults.catalog import FAULT_NAMES, by_name
from .faults.models import BernoulliCrash
from .store import Store


TRAINING_CODE = codemap.salt_parts(__name__.split(".")[-1])
"""The ftlib source a trained model depends on (its cache salt, :func:`ftlib.store.code_salt`), derived from
this module's imports (:func:`ftlib.codemap.salt_parts`): the loop, the models and data, the fault engine's
injection (fault-aware and dropout training inject through it) and the regularizers with the part of
``theory`` they read. Evaluations of trained models (``accuracy``) are salted with it too."""


OPTIMIZERS = ("adam", "adadelta")
"""The optimizers :class:`TrainConfig` accepts."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a trained model (the cache key).

    ``n_train = 0`` means the whole training split. ``loss`` is ``"ce"``
    (softmax cross-entropy) or ``"mse"``. ``output`` says what the MSE is taken
    on: ``"softmax"`` (default: ‖softmax(f(x)) − onehot(y)‖², the form
    adversarial_ft writes for Phase II, summed over the classes) or ``"linear"``
    (‖f(x) − t‖² / n_L on the raw network output: the squared error *averaged*
    over the n_L output units, continuous_limit's Keras ``'mse'`` — the original
    code's loss, against which the paper's λ, μ, ψ are set — with t = onehot(y)
    for class labels and t = y for float regression targets such as Boston's).
    With regression targets ``train_acc`` is NaN (accuracy is undefined).
    ``optimizer`` is ``"adam"`` (default) or ``"adadelta"`` (computation_failures;
    Keras' settings: ``lr`` is the Adadelta step multiplier, 1.0 in Keras, with
    ρ = 0.95, ε = 1e-7).
    ``dropout`` (p) and ``dropout_layer``: unscaled Bernoulli dropout on the outputs of one module
    (e.g. ``"act1"``), i.e. the fault engine's :class:`ftlib.faults.BernoulliCrash` at training time
    (a fresh crash set per training input, survivors *not* rescaled by 1/(1 − p)); off at evaluation.
    ``var_reg`` (λ), ``balance`` (μ) and ``continuity`` (ψ = ``(ψ_D, ψ_S)`` or ``(ψ_D, ψ_S, ψ_C2)``) are
    continuous_limit's Eq. 1 terms from :mod:`ftlib.regularizers`: λ·Var Δ/p (b3, crash layers
    ``var_layers``, empty = every activation module), μ·max/min of the per-neuron incoming weight mass,
    ψ·smooth(W). They are added to the batch loss (autograd), unlike L1/L2 whose gradients are added directly.
    ``fault_train`` (a name of :data:`ftlib.faults.FAULT_NAMES`, e.g. ``"stuck_nodes"``) and
    ``fault_train_rate``: fault-aware training as snn_patterns' "previous work" [5] for non-spiking nets:
    per batch, the fault-free loss plus the loss of the same batch under a fresh faulty instance of that
    fault model at that rate (drawn by the fault engine, :func:`ftlib.faults.inject`).
    ``init_from`` is ``""`` (random initialisation from ``seed``) or the
    reference ``"<kind>/<key>"`` of a cache entry whose ``model.pt`` holds some
    of the model's parameters under the model's own names (e.g. a pre-trained
    feature extractor, :mod:`ftlib.adversarial`); those parameters start from
    the stored values, the others from the seeded random initialisation.
    """

    arch: str
    dataset: str
    epochs: int
    batch_size: int = 128
    lr: float = 1e-3
    n_train: int = 0
    l1: float = 0.0
    l2: float = 0.0
    loss: str = "ce"
    seed: int = 0
    arch_kwargs: dict = field(default_factory=dict)
    output: str = "softmax"
    optimizer: str = "adam"
    init_from: str = ""
    dropout: float = 0.0
    dropout_layer: str = "act1"
    var_reg: float = 0.0
    var_layers: tuple = ()
    continuity: tuple = ()
    balance: float = 0.0
    fault_train: str = ""
    fault_train_rate: float = 0.0

    def __post_init__(self):
        for name in ("var_layers", "continuity"):  # lists from notebook parameters → hashable tuples
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not 0.0 <= self.dropout < 1.0:
            raise ParameterError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.var_reg < 0 or self.balance < 0 or any(float(c) < 0 for c in self.continuity):
            raise ParameterError(f"var_reg, balance and continuity must be >= 0, got {self.var_reg!r}, "
                                 f"{self.balance!r}, {self.continuity!r}")
        if self.continuity and len(self.continuity) not in (2, 3):
            raise ParameterError(f"continuity must be () or (psi_D, psi_S[, psi_C2]), got {self.continuity!r}")
        if self.fault_train:
            if self.fault_train not in FAULT_NAMES:
                raise ParameterError(f"fault_train must be '' or one of {', '.join(FAULT_NAMES)}, "
                                     f"got {self.fault_train!r}")
        if not 0.0 <= self.fault_train_rate <= 1.0 or (self.fault_train_rate > 0) != bool(self.fault_train):
            raise ParameterError(f"fault_train_rate must be in (0, 1] with a fault_train model (and 0 without), "
                                 f"got {self.fault_train!r} at {self.fault_train_rate!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ParameterError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.loss not in ("ce", "mse"):
            raise ParameterError(f"loss must be 'ce' or 'mse', got {self.loss!r}")
        if self.output not in ("softmax", "linear"):
            raise ParameterError(f"output must be 'softmax' or 'linear', got {self.output!r}")
        if self.output == "linear" and self.loss != "mse":
            raise ParameterError("output='linear' needs loss='mse' (cross-entropy always applies a softmax)")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.l1 < 0 or self.l2 < 0:
            raise ParameterError(f"invalid training configuration: {self}")
        if self.init_from and self.init_from.count("/") != 1:
            raise ParameterError(f"init_from must be '' or '<kind>/<key>' of a cache entry, got {self.init_from!r}")


OMIT_AT_DEFAULT = ("optimizer", "init_from", "dropout", "dropout_layer", "var_reg", "var_layers", "continuity",
                   "balance", "fault_train", "fault_train_rate")
"""Fields added after the first models were cached: left out of the cache key while at their default,
so that every key written before a field existed keeps its meaning. A new field goes here too."""


def cache_key(cfg: TrainConfig) -> dict:
    """The cache key of ``cfg``: its fields, without those of :data:`OMIT_AT_DEFAULT` that are at their
    default value (so keys written before those fields existed stay the same)."""
    from dataclasses import fields

    key = asdict(cfg)
    defaults = {f.name: (f.default_factory() if f.default_factory is not MISSING else f.default)  # type: ignore[misc]
                for f in fields(cfg)}
    for name in OMIT_AT_DEFAULT:
        if name in key and key[name] == defaults[name]:
            del key[name]
    return key


def initial_state(store: Store, ref: str) -> dict:
    """The ``model.pt`` state dict of the cache entry ``ref`` = ``"<kind>/<key>"`` (for ``init_from``)."""
    kind, _, key = ref.partition("/")
    path = store.root / kind / key[:2] / key / "model.pt"
    if not path.exists():
        raise ParameterError(f"init_from={ref!r}: no cached model at {path}; train that model first "
                             f"(e.g. ftlib.adversarial.pretrain) with the same cache directory")
    return torch.load(path, map_location="cpu", weights_only=True)


def load_initial(model: nn.Module, state: dict, ref: str = "") -> None:
    """Copy ``state`` into the matching parameters of ``model``; every key of ``state`` must exist
    in ``model`` with the same shape."""
    own = model.state_dict()
    bad = [k for k, v in state.items() if k not in own or own[k].shape != v.shape]
    if bad:
        raise ParameterError(f"init_from={ref!r}: the stored parameters {bad} do not fit this architecture")
    model.load_state_dict(state, strict=False)


def make_optimizer(cfg: TrainConfig, params) -> torch.optim.Optimizer:
    """The optimizer named by ``cfg.optimizer`` over ``params`` (Adam's fused kernel wherever torch has one:
    not on the shape-only ``meta`` device)."""
    params = list(params)
    if cfg.optimizer == "adadelta":
        return torch.optim.Adadelta(params, lr=cfg.lr, rho=0.95, eps=1e-7)
    fused = not params or params[0].device.type != "meta"
    return torch.optim.Adam(params, lr=cfg.lr, fused=fused or None)


@dataclass
class Trained:
    """A trained model with its training history and final accuracies (fractions in [0, 1])."""

    model: nn.Sequential
    config: TrainConfig
    history: list[dict]
    train_acc: float
    wall_time_s: float
    from_cache: bool


def penalized_weights(model: nn.Module) -> list[torch.Tensor]:
    """The weight tensors the L1/L2 penalty acts on: ``weight`` of every Linear and Conv layer."""
    return [m.weight for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]


def penalty(model: nn.Module, l1: float, l2: float) -> float:
    """λ₁ Σ|θ| + λ₂ Σ θ² over :func:`penalized_weights` (a Python float; 0.0 without a penalty, unread)."""
    if not (l1 or l2):
        return 0.0
    with torch.no_grad():
        ws = penalized_weights(model)
        return float(sum(l1 * w.abs().sum() + l2 * w.pow(2).sum() for w in ws))


@torch.no_grad()
def add_penalty_grad(weights: list[torch.Tensor], l1: float, l2: float) -> None:
    """Add ∂/∂θ (λ₁ Σ|θ| + λ₂ Σθ²) = λ₁ sign(θ) + 2 λ₂ θ to each weight's ``.grad`` in place."""
    if l2:
        torch._foreach_add_([w.grad for w in weights], weights, alpha=2 * l2)
    if l1:
        torch._foreach_add_([w.grad for w in weights], [w.sign() for w in weights], alpha=l1)


@torch.inference_mode()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 4096) -> float:
    """Fraction of ``x`` (N, ...) classified as ``y`` (N,) by ``model`` in eval mode, computed on the model's
    device (``x`` and ``y`` are moved there; one number read back at the end)."""
    model.eval()
    dev = next(iter(model.parameters()), torch.empty(0)).device
    correct = torch.zeros((), dtype=torch.long, device=dev)
    for i in range(0, len(x), batch_size):
        xb, yb = x[i:i + batch_size].to(dev), y[i:i + batch_size].to(dev)
        correct += (model(xb).argmax(1) == yb).sum()
    return int(correct) / max(len(x), 1)


def _loss(logits: torch.Tensor, y: torch.Tensor, kind: str, output: str = "softmax") -> torch.Tensor:
    if kind == "ce":
        return F.cross_entropy(logits, y)
    if output == "linear":
        target = y.view_as(logits).to(logits.dtype) if y.is_floating_point() else \
            F.one_hot(y, logits.shape[1]).to(logits.dtype)
        return (logits - target).pow(2).mean(1).mean()  # Keras 'mse': mean over the output units
    return (logits.softmax(1) - F.one_hot(y, logits.shape[1]).to(logits.dtype)).pow(2).sum(1).mean()


def _has_regularizer(cfg: TrainConfig) -> bool:
    return bool(cfg.var_reg or cfg.balance or any(cfg.continuity))


def _dropout_session(model: nn.Module, cfg: TrainConfig):
    """A :class:`ftlib.faults.FaultSession` of transient Bernoulli crashes on ``cfg.dropout_layer`` (or None)."""
    if not cfg.dropout:
        return None
    names = dict(model.named_modules())
    if cfg.dropout_layer not in names or not cfg.dropout_layer:
        raise ParameterError(f"dropout_layer={cfg.dropout_layer!r} is not a module of {cfg.arch}; "
                             f"choose one of {', '.join(n for n in names if n)}")
    return FaultSession(model, BernoulliCrash(layers=[cfg.dropout_layer], permanent=False))


def regularization(model: nn.Module, x: torch.Tensor, cfg: TrainConfig) -> torch.Tensor | None:
    """continuous_limit's Eq. 1 terms for one batch ``x``: λ·R1 (Var Δ/p, b3) + μ·R2 (balance) + ψ·smooth(W),
    or None when all are off (see :mod:`ftlib.regularizers`)."""
    if not _has_regularizer(cfg):
        return None
    reg = None
    if cfg.var_reg:
        reg = cfg.var_reg * regularizers.variance_penalty(model, x, list(cfg.var_layers) or None)
    if cfg.balance:
        b = cfg.balance * regularizers.balance_penalty(model)
        reg = b if reg is None else reg + b
    if any(cfg.continuity):
        c = regularizers.smoothness(model, tuple(float(v) for v in cfg.continuity))
        reg = c if reg is None else reg + c
    return reg


def train(cfg: TrainConfig, store: Store | None = None, device: str | torch.device | None = None) -> Trained:
    """Train (or load from the cache) the model described by ``cfg`` on ``device`` (:func:`ftlib.device.resolve`:
    ``None`` = ``$FTLIB_DEVICE``, default the first GPU, else the CPU).

    Returns the model in eval mode, on that device, with its per-epoch history
    (``epoch``, ``loss``, ``penalty``, ``seconds``) and the final training accuracy. A model trained on an
    accelerator is its own cache entry (:func:`ftlib.device.cache_key`); CPU entries keep their keys.
    """
    dev, store = _device.resolve(device), store or Store()
    return loop.cached(store, "train", {**cache_key(cfg), **_device.cache_key(dev)}, __name__.split(".")[-1],
                       lambda entry: _cached(cfg, entry, dev), lambda entry: _fit(cfg, store, entry, dev),
                       f"trained {cfg.arch}")


def _cached(cfg: TrainConfig, entry, dev: torch.device) -> Trained | None:
    """The trained model of ``cfg`` from its cache entry (on ``dev``), or None if it is not stored."""
    state = entry.load_state()
    meta = entry.load_result()
    if state is None or meta is None:
        return None
    model = models.build(cfg.arch, **cfg.arch_kwargs)
    model.load_state_dict(state)
    model.to(dev).eval()
    return Trained(model, cfg, meta["history"], meta["train_acc"], meta["wall_time_s"], True)


def _fit(cfg: TrainConfig, store: Store, entry, dev: torch.device) -> Trained:
    """Train ``cfg`` on ``dev`` (resuming from its checkpoint, :func:`ftlib.loop.run_epochs`) and store it in
    ``entry``; the caller holds its lock.

    One epoch: a permutation from the epoch's seed (:func:`ftlib.loop.epoch_seed`; + 1 seeds the global RNG,
    + 2 the dropout draws, + 3 the fault-aware draws); per batch the loss (plus continuous_limit's
    regularizer, plus the loss under a fresh faulty instance for fault-aware training), the L1/L2 gradient
    added directly, one optimizer step. The losses are summed on the device; the history row reads them once.
    """
    ds = data.load(cfg.dataset, "train").subset(cfg.n_train or None, seed=cfg.seed)
    torch.manual_seed(cfg.seed)
    model = models.build(cfg.arch, **cfg.arch_kwargs)
    if cfg.init_from:
        load_initial(model, initial_state(store, cfg.init_from), cfg.init_from)
    model.to(dev)
    if any(isinstance(m, nn.Conv2d) for m in model.modules()):
        model = model.to(memory_format=torch.channels_last)
    opt = make_optimizer(cfg, model.parameters())
    weights = penalized_weights(model)
    x, y = ds.x.to(dev), ds.y.to(dev)
    n = len(x)
    dropout = _dropout_session(model, cfg)
    fault = by_name(cfg.fault_train) if cfg.fault_train else None

    def run_epoch(epoch: int) -> list[dict]:
        t0 = time.perf_counter()
        model.train()
        seed = loop.epoch_seed(cfg.seed, epoch)
        order, _ = loop.shuffled(n, seed, dev)
        torch.manual_seed(seed + 1)
        drop_gen = torch.Generator().manual_seed(seed + 2)
        fault_gen = torch.Generator().manual_seed(seed + 3)
        sums = torch.zeros(3, dtype=torch.float64, device=dev)  # loss, regularizer, faulty loss (× batch size)
        for idx in loop.batches(order, cfg.batch_size, f"epoch {epoch + 1}/{cfg.epochs}"):
            xb, yb = x[idx], y[idx]  # one gather per batch, shared by the losses and the regularizer
            if dropout is not None:
                dropout.apply(cfg.dropout, drop_gen)
            try:
                loss = _loss(model(xb), yb, cfg.loss, cfg.output)
            finally:
                if dropout is not None:
                    dropout.reset()
            reg = regularization(model, xb, cfg)
            opt.zero_grad(set_to_none=True)
            (loss if reg is None else loss + reg).backward()
            if reg is not None:
                sums[1] += reg.detach().double() * len(idx)
            if fault is not None:  # fault-aware training: + the loss under a fresh faulty instance
                draw = int(torch.randint(0, 2**62, (1,), generator=fault_gen))
                with inject(model, fault, cfg.fault_train_rate, seed=draw):
                    faulty = _loss(model(xb), yb, cfg.loss, cfg.output)
                    faulty.backward()  # inside: parameter faults restore the clean weights on exit
                sums[2] += faulty.detach().double() * len(idx)
            add_penalty_grad(weights, cfg.l1, cfg.l2)
            opt.step()
            sums[0] += loss.detach().double() * len(idx)
        total, reg_total, fault_total = sums.tolist()
        row = {"epoch": epoch + 1, "loss": total / n, "penalty": penalty(model, cfg.l1, cfg.l2),
               "seconds": time.perf_counter() - t0}
        if _has_regularizer(cfg):
            row["regularizer"] = reg_total / n
        if fault is not None:
            row["faulty_loss"] = fault_total / n
        return [row]

    run = loop.run_epochs(entry, cfg.epochs, loop.Resumable({"model": model}, {"optimizer": opt}), run_epoch)
    if dropout is not None:
        dropout.close()
    model.eval()
    train_acc = float("nan") if y.is_floating_point() else accuracy(model, x, y)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    entry.save_state(state)
    entry.save_result({"history": run.history, "train_acc": train_acc, "wall_time_s": run.elapsed})
    entry.drop_checkpoint()
    return Trained(model, cfg, run.history, train_acc, run.elapsed, False)
