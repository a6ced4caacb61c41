"""adversarial_ft's Algorithm 1: two-phase adversarial fault-tolerant training.

Phase I (:func:`pretrain`) trains the feature extractor (FE, ``model[:k]`` of an
architecture, see :func:`ftlib.models.adversarial_ft.split`) without labels.
Every iteration on a mini-batch ``x``:

1. Game 1: one step on FE + decoder of the reconstruction loss ‖x − x′‖²
   (mean squared error per pixel), x′ = decoder(FE(x));
2. Game 2a: ``disc_steps`` (k) steps of the discriminator D on
   L_D = −mean[log D(z′) + log(1 − D(z))], z′ ~ N(0, σ² I) the prior
   (σ = ``prior_std``), z = FE(x) (FE fixed);
3. Game 2b: one step on the FE of L_G = −mean log D(z) (D fixed).

Phase II (:func:`finetune`) is the ordinary supervised loop of
:mod:`ftlib.training` (``train``) with ``init_from`` pointing at the Phase-I
extractor: the classifier starts from its seeded random initialisation, the FE
from Phase I, and both are trained on ‖softmax(f(x)) − onehot(y)‖².

Choices where the paper is silent (one place): prior N(0, I) (μ = 0, Σ = I as in
adversarial autoencoders); Adam for every player; reconstruction step lr
``lr`` (1e-3); discriminator *and* FE-regularisation step lr ``disc_lr`` (the
paper's 5e-5); discriminator dropout 0.2; decoder output in [0, 1] (sigmoid).
Phase I is cached in :mod:`ftlib.store` (kind ``"adversarial"``) with a
checkpoint after every epoch, like :func:`ftlib.training.train`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import codemap, data, loop, models
from . import device as _device
from .errors import ParameterError
from .models.adversarial_ft import phase1_networks
from .store import Store
from .training import TrainConfig, Trained, train

ADVERSARIAL_CODE = codemap.salt_parts(__name__.split(".")[-1])
"""The salt of a Phase-I entry: this module and what it imports (the supervised loop's files among them)."""
"""The ftlib source a Phase-I model depends on (its cache salt)."""

HISTORY_KEYS = ("epoch", "iteration", "reconstruction", "generator", "discriminator", "d_real", "d_fake")
"""Columns of the Phase-I loss history (Figure 5): mean losses over ``log_every`` iterations, and the
mean probability D gives to prior samples (``d_real``) and to features (``d_fake``)."""


@dataclass(frozen=True)
class AdversarialConfig:
    """Everything that determines a Phase-I extractor (its cache key).

    ``epochs`` passes over the ``n_train`` images (0 = all); ``max_iters`` > 0
    stops Phase I after that many iterations (mini-batches) in total (the
    paper's "10k iterations" on CIFAR-10).
    """

    arch: str
    dataset: str
    epochs: int
    batch_size: int = 128
    lr: float = 1e-3
    disc_lr: float = 5e-5
    disc_steps: int = 1
    prior_std: float = 1.0
    n_train: int = 0
    max_iters: int = 0
    log_every: int = 20
    seed: int = 0
    arch_kwargs: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.disc_lr <= 0 or self.disc_steps < 1 \
                or self.prior_std <= 0 or self.n_train < 0 or self.max_iters < 0 or self.log_every < 1:
            raise ParameterError(f"invalid Phase-I configuration: {self}")

    def iterations(self, n_images: int) -> int:
        """Total Phase-I iterations on ``n_images`` training images."""
        per_epoch = math.ceil(n_images / self.batch_size)
        total = per_epoch * self.epochs
        return min(total, self.max_iters) if self.max_iters else total


@dataclass
class Pretrained:
    """A Phase-I result: the networks, the loss history and the cache reference of the extractor."""

    extractor: nn.Sequential
    decoder: nn.Module
    discriminator: nn.Module
    config: AdversarialConfig
    history: list[dict]
    ref: str
    wall_time_s: float
    from_cache: bool


def networks(cfg: AdversarialConfig, input_shape: tuple[int, ...]):
    """(full model, extractor, decoder, discriminator), seeded by ``cfg.seed``."""
    torch.manual_seed(cfg.seed)
    model = models.build(cfg.arch, **cfg.arch_kwargs)
    extractor, decoder, disc = phase1_networks(model, input_shape)
    return model, extractor, decoder, disc


def sample_prior(n: int, shape: tuple[int, ...], std: float, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """``n`` samples of the prior N(0, std² I) over features of ``shape``, flattened to (n, prod(shape)), drawn
    on the generator's device (a CPU generator: the same samples on any device) and moved to ``device``."""
    d = 1
    for s in shape:
        d *= s
    where = "cpu" if generator is None else generator.device
    return (std * torch.randn(n, d, generator=generator, device=where)).to(device)


class Phase1Step:
    """One iteration of Algorithm 1's Phase I (games 1 and 2) over the given networks and optimizers."""

    def __init__(self, extractor: nn.Module, decoder: nn.Module, disc: nn.Module, cfg: AdversarialConfig):
        self.extractor, self.decoder, self.disc, self.cfg = extractor, decoder, disc, cfg
        fe_params = list(extractor.parameters())
        self.opt_rec = torch.optim.Adam(fe_params + list(decoder.parameters()), lr=cfg.lr)
        self.opt_disc = torch.optim.Adam(disc.parameters(), lr=cfg.disc_lr)
        self.opt_gen = torch.optim.Adam(fe_params, lr=cfg.disc_lr)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"rec": self.opt_rec, "disc": self.opt_disc, "gen": self.opt_gen}

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, float]:
        cfg = self.cfg
        self.extractor.train(), self.decoder.train(), self.disc.train()
        # (1) Game 1: FE + decoder minimise the reconstruction loss
        rec = F.mse_loss(self.decoder(self.extractor(x)), x)
        self.opt_rec.zero_grad(set_to_none=True)
        rec.backward()
        self.opt_rec.step()
        # (2) Game 2a: k discriminator steps, FE fixed: prior samples are "real", features "fake"
        with torch.no_grad():
            z = self.extractor(x).flatten(1)
        for _ in range(cfg.disc_steps):
            z_prior = sample_prior(len(x), z.shape[1:], cfg.prior_std, generator, z.device)
            real, fake = self.disc(z_prior), self.disc(z)
            d_loss = F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + \
                F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
            self.opt_disc.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_disc.step()
        # (3) Game 2b: FE fools D (−log D(z)), D fixed (only the FE's optimizer steps)
        fake = self.disc(self.extractor(x).flatten(1))
        g_loss = F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
        self.opt_gen.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_gen.step()
        self.disc.zero_grad(set_to_none=True)
        # 0-dim tensors on the device: the history reads them once per logged row, not per iteration
        return {"reconstruction": rec.detach(), "generator": g_loss.detach(), "discriminator": d_loss.detach(),
                "d_real": torch.sigmoid(real).mean().detach(), "d_fake": torch.sigmoid(fake).mean().detach()}


def _key(cfg: AdversarialConfig, dev: torch.device) -> dict:
    return {**asdict(cfg), **_device.cache_key(dev)}


def pretrain(cfg: AdversarialConfig, store: Store | None = None,
             device: str | torch.device | None = None) -> Pretrained:
    """Phase I of Algorithm 1 (or its cached result) on ``device`` (:func:`ftlib.device.resolve`): returns the
    trained networks and the loss history. An accelerator's Phase I is its own cache entry."""
    dev, store = _device.resolve(device), store or Store()
    return loop.cached(store, "adversarial", _key(cfg, dev), __name__.split(".")[-1],
                       lambda entry: _cached(cfg, entry, dev), lambda entry: _fit(cfg, entry, dev),
                       "adversarial Phase I")


def _cached(cfg: AdversarialConfig, entry, dev: torch.device) -> Pretrained | None:
    """Phase I of ``cfg`` from its cache entry (networks on ``dev``), or None if it is not stored."""
    state, meta = entry.load_state(), entry.load_result()
    if state is None or meta is None:
        return None
    x = data.load(cfg.dataset, "train").subset(cfg.n_train or None, seed=cfg.seed).x
    _, extractor, decoder, disc = networks(cfg, tuple(x.shape[1:]))
    extractor.load_state_dict(state)
    for net in (extractor, decoder, disc):
        net.to(dev)
    extractor.eval()
    return Pretrained(extractor, decoder, disc, cfg, meta["history"], f"adversarial/{entry.key}",
                      meta["wall_time_s"], True)


def _fit(cfg: AdversarialConfig, entry, dev: torch.device) -> Pretrained:
    """Phase I of ``cfg`` on ``dev`` (resuming from its checkpoint, :func:`ftlib.loop.run_epochs`), stored in
    ``entry``; the caller holds its lock.

    One epoch: a permutation from the epoch's seed (+ 1 seeds the global RNG, + 2 the prior samples); per
    batch one :class:`Phase1Step`; every ``log_every`` iterations a history row of the mean losses; the run
    stops once ``cfg.iterations`` iterations are done (``max_iters``)."""
    ref = f"adversarial/{entry.key}"
    x = data.load(cfg.dataset, "train").subset(cfg.n_train or None, seed=cfg.seed).x.to(dev)
    _, extractor, decoder, disc = networks(cfg, tuple(x.shape[1:]))
    for net in (extractor, decoder, disc):
        net.to(dev)
    step = Phase1Step(extractor, decoder, disc, cfg)
    n = len(x)
    total = cfg.iterations(n)
    done = [0]  # iterations over all epochs (checkpointed)

    def rows(acc: list[dict], epoch: int) -> dict:
        """One history row: the mean of each loss over the iterations in ``acc`` (one read from the device)."""
        table = torch.stack([torch.stack([a[k] for a in acc]) for k in HISTORY_KEYS[2:]]).tolist()
        return {"epoch": epoch + 1, "iteration": done[0],
                **{k: sum(vals) / len(vals) for k, vals in zip(HISTORY_KEYS[2:], table)}}

    def run_epoch(epoch: int) -> list[dict]:
        seed = loop.epoch_seed(cfg.seed, epoch)
        order, _ = loop.shuffled(n, seed, dev)
        prior_gen = torch.Generator().manual_seed(seed + 2)
        torch.manual_seed(seed + 1)
        out, acc = [], []
        for idx in loop.batches(order, cfg.batch_size, f"Phase I epoch {epoch + 1}/{cfg.epochs}"):
            if done[0] >= total:
                break
            acc.append(step(x[idx], prior_gen))
            done[0] += 1
            if len(acc) == cfg.log_every:
                out.append(rows(acc, epoch))
                acc = []
        if acc:
            out.append(rows(acc, epoch))
        return out

    def restore(saved: dict) -> None:
        done[0] = int(saved["iterations"])

    state = loop.Resumable({"extractor": extractor, "decoder": decoder, "discriminator": disc},
                           step.optimizers(), lambda: {"iterations": done[0]}, restore)
    run = loop.run_epochs(entry, cfg.epochs, state, run_epoch, stop=lambda: done[0] >= total)
    extractor.eval()
    entry.save_state({k: v.detach().cpu().contiguous() for k, v in extractor.state_dict().items()})
    entry.save_result({"history": run.history, "wall_time_s": run.elapsed, "iterations": done[0]})
    entry.drop_checkpoint()
    return Pretrained(extractor, decoder, disc, cfg, run.history, ref, run.elapsed, False)


def phase2_config(pre: Pretrained | str, arch: str, dataset: str, epochs: int, batch_size: int = 128,
                  lr: float = 1e-3, n_train: int = 0, seed: int = 0, arch_kwargs: dict | None = None,
                  loss: str = "mse") -> TrainConfig:
    """Phase II's :class:`~ftlib.training.TrainConfig`: the supervised loop initialised from the Phase-I
    extractor (``pre`` or its cache reference), with the paper's ‖f(x) − y‖² loss on one-hot targets."""
    ref = pre if isinstance(pre, str) else pre.ref
    return TrainConfig(arch=arch, dataset=dataset, epochs=epochs, batch_size=batch_size, lr=lr, n_train=n_train,
                       loss=loss, seed=seed, arch_kwargs=dict(arch_kwargs or {}), init_from=ref)


def finetune(pre: Pretrained, epochs: int, batch_size: int = 128, lr: float = 1e-3, n_train: int = 0,
             seed: int = 0, store: Store | None = None, loss: str = "mse") -> Trained:
    """Phase II of Algorithm 1: :func:`ftlib.training.train` starting from the Phase-I extractor."""
    c = pre.config
    return train(phase2_config(pre, c.arch, c.dataset, epochs, batch_size, lr, n_train, seed, c.arch_kwargs, loss),
                 store)


def reference_of(cfg: AdversarialConfig, store: Store | None = None,
                 device: str | torch.device | None = None) -> str:
    """The cache reference (``"adversarial/<key>"``) Phase I of ``cfg`` on ``device`` is stored under, without
    training."""
    entry = (store or Store()).entry("adversarial", _key(cfg, _device.resolve(device)), ADVERSARIAL_CODE)
    return f"adversarial/{entry.key}"
