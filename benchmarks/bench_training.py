"""Benchmark of ftlib's training loop (not a test): epochs of :mod:`ftlib.loop` against a bare torch loop.

For each model — adversarial_ft's MLP (Architecture 1) and CNN (Architecture 2), snn_patterns' 784-128-10
spiking net, a continuous_limit sigmoid MLP — it times epochs over ``--n`` training images (three per run,
the first one, the warm-up, left out; the median of the others):

* ``ftlib``: :func:`ftlib.training.train` (or :func:`ftlib.training_snn.train_snn`) in a throw-away
  cache; ``epoch s`` is an epoch as the trainer's history measures it (seeding, batches, sums, the
  history row), ``run s`` the whole call of three epochs (data loading, the cache entry, the checkpoints,
  the final training accuracy and the stored result);
* ``bare``: a hand-written loop over the same model, data, batch size and optimizer (permutation, forward,
  loss, ``zero_grad``, ``backward``, ``step``), nothing else.

The two run interleaved, ``--repeats`` times each, and the best time of each is kept, so other jobs on a
shared machine disturb both alike; the ratio epoch / bare is the loop's overhead per epoch (budget: ≤ 1.05).
It also prints each epoch's FLOP rate (FLOPs of one batch's forward and backward, counted by
``torch.utils.flop_counter``, times the batches) against this machine's float32 matmul rate measured in
the same run (a 1024 × 1024 product), and the load average before and after.

    OMP_NUM_THREADS=2 python benchmarks/bench_training.py            # 8,192 images per epoch
    python benchmarks/bench_training.py --n 2048 --repeats 2        # a quick look
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from ftlib import data
from ftlib.store import Store
from ftlib.training import TrainConfig, make_optimizer, train
from ftlib.training_snn import SNNTrainConfig, train_snn

SUPERVISED = {
    "aft MLP (Arch 1)": TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, batch_size=128),
    "aft CNN (Arch 2)": TrainConfig(arch="aft_arch2", dataset="fashion_mnist", epochs=1, batch_size=128),
    "cl MLP 784-500-100-10": TrainConfig(arch="cl_mlp", dataset="mnist", epochs=1, batch_size=1000, loss="mse",
                                         output="linear", arch_kwargs={"widths": [784, 500, 100, 10],
                                                                       "activation": "sigmoid", "flatten": True}),
}


def matmul_rate(seconds: float = 1.0) -> float:
    """This machine's float32 matmul rate (FLOP/s) from repeated 1024 × 1024 products."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    a @ b
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        n += 1
    return 2 * 1024 ** 3 * n / (time.perf_counter() - t0)


def batch_flops(model, x, y, loss_fn) -> int:
    """FLOPs of one forward and backward pass of ``model`` on the batch ``(x, y)``."""
    with FlopCounterMode(display=False) as counter:
        loss_fn(model(x), y).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def bare_epoch(model, opt, x, y, batch_size: int, loss_fn) -> float:
    """Seconds of one bare epoch: permutation, forward, loss, zero_grad, backward, step."""
    t0 = time.perf_counter()
    model.train()
    order = torch.randperm(len(x))
    for i in range(0, len(x), batch_size):
        idx = order[i:i + batch_size]
        loss = loss_fn(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


EPOCHS = 3
"""Epochs per timed run; the first (warm-up: first kernels, optimizer state) is not counted."""


def interleaved(ftlib_run, bare_model, x, y, batch_size: int, loss_fn, repeats: int):
    """``(epoch s, run s, bare s, FLOPs per epoch)``: per side the best over ``repeats`` interleaved runs of
    the median of epochs 2..:data:`EPOCHS` — ftlib's as its history measured them (``ftlib_run(seed,
    store)`` → the epochs' seconds), bare ones on a fresh ``bare_model(seed)`` → ``(model, optimizer)``
    — and the whole ftlib call."""
    ftlib_s, bare_s = [], []
    for r in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            epochs = ftlib_run(r, Store(tmp))
            ftlib_s.append((statistics.median(epochs[1:]), time.perf_counter() - t0))
        torch.manual_seed(r)
        model, opt = bare_model(r)
        bare_s.append(statistics.median([bare_epoch(model, opt, x, y, batch_size, loss_fn)
                                         for _ in range(EPOCHS)][1:]))
    flops = batch_flops(model, x[:batch_size], y[:batch_size], loss_fn) * (len(x) / batch_size)
    return min(e for e, _ in ftlib_s), min(w for _, w in ftlib_s), min(bare_s), flops


def supervised_case(cfg: TrainConfig, n: int, repeats: int):
    from ftlib import models
    from ftlib.training import _loss

    cfg = TrainConfig(**{**cfg.__dict__, "n_train": n})
    ds = data.load(cfg.dataset, "train").subset(n, seed=0)

    def ftlib_run(seed, store):
        t = train(TrainConfig(**{**cfg.__dict__, "seed": seed, "epochs": EPOCHS}), store, device="cpu")
        return [h["seconds"] for h in t.history]

    def bare_model(seed):
        model = models.build(cfg.arch, **cfg.arch_kwargs)
        if any(isinstance(m, torch.nn.Conv2d) for m in model.modules()):
            model = model.to(memory_format=torch.channels_last)
        return model, make_optimizer(cfg, model.parameters())

    return interleaved(ftlib_run, bare_model, ds.x, ds.y, cfg.batch_size,
                       lambda out, t: _loss(out, t, cfg.loss, cfg.output), repeats)


def snn_case(n: int, repeats: int):
    cfg = SNNTrainConfig(method="baseline", epochs=1, n_train=n, variant="authors")
    ds = data.load("mnist", "train").subset(n, seed=0)

    def ftlib_run(seed, store):
        t = train_snn(SNNTrainConfig(**{**cfg.__dict__, "seed": seed, "epochs": EPOCHS}), store, device="cpu")
        return [h["train_wall_s"] for h in t.history]

    def bare_model(seed):
        model = cfg.build()
        return model, torch.optim.Adam(model.parameters(), lr=cfg.lr)

    return interleaved(ftlib_run, bare_model, ds.x, ds.y, cfg.batch_size, F.cross_entropy, repeats)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=8192, help="training images per epoch")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repetitions (the best of each is kept)")
    args = ap.parse_args()
    os.environ.setdefault("FTLIB_QUIET", "1")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {os.getloadavg()}")
    peak = matmul_rate()
    print(f"float32 matmul rate (1024 x 1024): {peak / 1e9:.1f} GFLOP/s\n")
    print(f"{'model':26s} {'epoch s':>8s} {'bare s':>8s} {'epoch/bare':>10s} {'run s':>7s} {'GFLOP/s':>8s} "
          f"{'of matmul':>9s}")
    cases = [(name, lambda c=cfg: supervised_case(c, args.n, args.repeats)) for name, cfg in SUPERVISED.items()]
    cases.append(("snn 784-128-10 (authors)", lambda: snn_case(args.n, args.repeats)))
    for name, run in cases:
        epoch, whole, b, flops = run()
        rate = flops / b
        print(f"{name:26s} {epoch:8.2f} {b:8.2f} {epoch / b:10.3f} {whole:7.2f} {rate / 1e9:8.1f} {rate / peak:9.1%}")
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
