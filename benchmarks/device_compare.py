"""CPU against GPU sweeps of one trained model (not a test; run by ``benchmarks/device_check.sh``).

Trains adversarial_ft's Architecture 1 for one epoch on the CPU (``ftlib.training.train``), then sweeps
stuck-at-0 weights over ``--rates`` rates × ``--draws`` draws on ``--n`` FashionMNIST test images twice: on the
CPU and on ``--device``. The same seeds choose the same faulty weights on both (the engine draws its masks
with CPU generators), so the draws pair up; only the kernels' rounding differs. Per rate it prints both mean
accuracies, the largest paired difference and a two-sample Welch test (``scipy.stats.ttest_ind``), and
exits 1 when a rate's test rejects at ``--alpha`` or a paired draw differs by more than ``--tolerance``.

    FTLIB_DATA_DIR=... python benchmarks/device_compare.py --device cuda
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

import torch
from scipy import stats

from ftlib import data
from ftlib.device import resolve
from ftlib.faults import StuckAtZero, sweep
from ftlib.store import Store
from ftlib.training import TrainConfig, train


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--rates", type=int, default=5)
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--alpha", type=float, default=1e-3)
    ap.add_argument("--tolerance", type=float, default=0.01, help="largest paired accuracy difference accepted")
    args = ap.parse_args(argv)
    dev = resolve(args.device)
    cfg = TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, n_train=10_000)
    with tempfile.TemporaryDirectory() as tmp:
        model = train(cfg, Store(tmp), device="cpu").model
    test = data.load("fashion_mnist", "test").subset(args.n, seed=0)
    rates = [(i + 0.5) / args.rates for i in range(args.rates)]
    tables, seconds = {}, {}
    for where in (torch.device("cpu"), dev):
        m = model.to(where)
        t0 = time.perf_counter()
        res = sweep(m, StuckAtZero("weights"), rates, (test.x, test.y), draws=args.draws, seed=0, progress=False)
        seconds[where.type] = time.perf_counter() - t0
        tables[where.type] = res.table.sort_values(["rate", "draw"]).reset_index(drop=True)
    cpu, other = tables["cpu"], tables[dev.type]
    print(f"sweep seconds: cpu {seconds['cpu']:.1f}, {dev} {seconds[dev.type]:.1f}")
    print(f"{'rate':>6s} {'cpu acc':>8s} {dev.type + ' acc':>9s} {'max |paired diff|':>18s} {'Welch p':>8s}")
    bad = False
    for rate in rates:
        a = cpu[cpu.rate == rate]["accuracy"].to_numpy()
        b = other[other.rate == rate]["accuracy"].to_numpy()
        diff = float(abs(a - b).max())
        p = 1.0 if (a == b).all() else float(stats.ttest_ind(a, b, equal_var=False).pvalue)
        bad |= p < args.alpha or diff > args.tolerance
        print(f"{rate:6.2f} {a.mean():8.4f} {b.mean():9.4f} {diff:18.5f} {p:8.3g}")
    print("CPU and", dev, "agree" if not bad else "DISAGREE")
    return int(bad)


if __name__ == "__main__":
    sys.exit(main())
