"""Benchmark of ftlib.theory (not a test): Theorem 1 (b3) and exact single crashes (b4) against Monte Carlo.

For random sigmoid networks of the paper's form (784-N-100-10, N in --widths) and B random inputs,
crashes at both hidden layers with probability p, it times

* ``b3``: :func:`ftlib.theory.first_order` (autograd, one backward per output unit);
* ``b4``: :func:`ftlib.theory.single_crash` (one batched forward per neuron);
* ``mc``: :func:`ftlib.theory.monte_carlo` with the number of draws that gives a Monte Carlo
  estimate of Var Δ with the *same* median relative error as b3 (the error of b3 against a
  reference run with many draws; Monte Carlo's relative error of a variance is ≈ sqrt(2 / draws)
  for near-Gaussian Δ, so equal error needs ≈ 2 / err_b3² draws; measured, not assumed:
  we run that many draws and report the error it reached).

    OMP_NUM_THREADS=2 python benchmarks/bench_theory.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from ftlib import theory
from ftlib.models import build


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--widths", type=int, nargs="+", default=[100, 500, 2000])
    ap.add_argument("--inputs", type=int, default=8)
    ap.add_argument("--p", type=float, default=0.01)
    ap.add_argument("--ref-draws", type=int, default=50_000)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, p = {args.p}, B = {args.inputs}")
    print(f"{'N':>6} {'b3 s':>8} {'b4 s':>8} {'err b3':>8} {'err b4':>8} {'MC draws':>9} {'MC s':>8} "
          f"{'err MC':>8} {'MC/b3':>8} {'MC/b4':>8}")
    for n in args.widths:
        torch.manual_seed(0)
        net = build("cl_mlp", widths=[784, n, 100, 10], activation="sigmoid").eval()
        x = torch.rand(args.inputs, 784, generator=torch.Generator().manual_seed(1))
        ref = theory.monte_carlo(net, x, args.p, draws=args.ref_draws, seed=123)
        theory.first_order(net, x, args.p), theory.single_crash(net, x, args.p)  # warm-up (first-call overheads)
        t0 = time.perf_counter()
        b3 = theory.first_order(net, x, args.p)
        t3 = time.perf_counter() - t0
        t0 = time.perf_counter()
        b4 = theory.single_crash(net, x, args.p)
        t4 = time.perf_counter() - t0
        e3 = float(np.median(theory.relative_error(b3.var, ref.var)))
        e4 = float(np.median(theory.relative_error(b4.var, ref.var)))
        draws = int(min(args.ref_draws, max(20, round(2.0 / max(e3, 1e-3) ** 2))))
        t0 = time.perf_counter()
        mc = theory.monte_carlo(net, x, args.p, draws=draws, seed=7)
        tm = time.perf_counter() - t0
        em = float(np.median(theory.relative_error(mc.var, ref.var)))
        print(f"{n:>6} {t3:>8.3f} {t4:>8.3f} {e3:>8.3f} {e4:>8.3f} {draws:>9} {tm:>8.3f} {em:>8.3f} "
              f"{tm / t3:>8.1f} {tm / t4:>8.1f}")
    print("err: median relative error of Var Δ against a reference Monte Carlo run "
          f"({args.ref_draws} draws, itself ≈ {np.sqrt(2 / args.ref_draws):.3f} noisy)")


if __name__ == "__main__":
    main()
