"""Benchmark of the fault engine (not a test): the same stuck-at-0 weight sweep, four ways.

For (a) the adversarial_ft MLP 784-512-1024-512-10 (ReLU) and (b) its CNN
conv5x5(20)-maxpool2-conv5x5(50)-maxpool2-FC512-FC10, on random-init weights
and random 1x28x28 inputs (timing does not depend on training), it times a
sweep of R rates x D draws over N images with:

* ``ftlib``      : ``ftlib.faults.sweep(model, StuckAtZero("weights"), ...)``, the
                   path ``batch_draws=None`` picks (per draw on the CPU);
* ``ftlib batched``: the same sweep with ``batch_draws=K`` (``--batched``, default 5):
                   K draws per ``vmap`` pass over stacked faulty weights, the path
                   ``batch_draws=None`` picks on a GPU (same draws, same numbers);
* ``naive``      : for every draw ``copy.deepcopy(model)``, multiply each weight
                   by an exact-fraction mask (vectorised), evaluate (``no_grad``);
* ``pytorchfi``  : PyTorchFI 0.6 ``declare_weight_fi`` with the same number of
                   zeroed weights per layer (its injection loops in Python per
                   weight, so it is timed on ``--pfi-draws`` draws per rate and
                   extrapolated linearly to D draws, and labelled so);
* ``clean``      : the lower bound, R x D clean forward passes over the same
                   data and batch size (for the CNN in both memory formats; the
                   ratios use the format ftlib runs in, channels_last).

Then a node-fault sweep (``StuckAtZero("nodes")``) with and without the
fault-free prefix reuse, and (issue 23, off with ``--skip-engine``) every
other path of the engine, each also as a ratio to the clean passes of the
same rate: activation faults (Bernoulli crashes, erasures, transient
activation bit flips), weight bit flips per number format (float32,
float16, bfloat16, int8 per tensor and per channel, 2-bit bursts; bit-error
rates 1e-4 .. 1e-2 instead of the fractions) and, after the interleaved
loop, the adaptive sweep (``margin=``) against the fixed budget a
non-adaptive sweep needs for the same margin at every rate. Rates are (i + 0.5) / R, so no rate is 0 (ftlib
evaluates rate 0 only once, which would flatter it). The methods run
interleaved, rate by rate (one ``sweep`` call per rate for ftlib, which
slightly penalises it: its set-up and prefix cache are paid R times), so
that other jobs on a shared machine disturb all methods alike; the load
average before/after is printed.

    OMP_NUM_THREADS=2 python benchmarks/bench_faults.py              # 10 rates x 20 draws x 10k
    python benchmarks/bench_faults.py --rates 3 --draws 2 --n 1000   # a quick look
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ftlib.faults import BernoulliCrash, BitFlip, Erasure, StuckAtZero, sweep  # noqa: E402
from ftlib.faults._random import exact_count  # noqa: E402

WEIGHT_TYPES = (nn.Linear, nn.Conv2d)


def build_mlp() -> nn.Sequential:
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 1024), nn.ReLU(),
        nn.Linear(1024, 512), nn.ReLU(), nn.Linear(512, 10),
    )


def build_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(800, 512), nn.ReLU(), nn.Linear(512, 10),
    )


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, bs: int) -> float:
    correct = torch.zeros((), dtype=torch.long, device=x.device)  # one read at the end (no sync per batch)
    for s in range(0, x.shape[0], bs):
        correct += (model(x[s:s + bs]).argmax(1) == y[s:s + bs]).sum()
    return int(correct) / x.shape[0]


def run_clean(model, x, y, passes, bs, channels_last):
    m = copy.deepcopy(model).eval()
    if channels_last:
        m = m.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    t0 = time.perf_counter()
    with torch.inference_mode():
        accs = [evaluate(m, x, y, bs) for _ in range(passes)]
    return time.perf_counter() - t0, float(np.mean(accs))


def run_ftlib(model, fault, x, y, rates, draws, bs, **kw):
    t0 = time.perf_counter()
    res = sweep(model, fault, rates, (x, y), draws=draws, seed=0, batch_size=bs, progress=False, **kw)
    return time.perf_counter() - t0, float(res.table["accuracy"].mean()), res


def run_naive(model, x, y, rates, draws, bs, seed=0):
    g = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    accs = []
    with torch.no_grad():
        for rate in rates:
            for _ in range(draws):
                m = copy.deepcopy(model).eval()
                for mod in m.modules():
                    if isinstance(mod, WEIGHT_TYPES):
                        w = mod.weight
                        mask = torch.ones(w.numel())
                        mask[torch.randperm(w.numel(), generator=g)[:exact_count(rate, w.numel())]] = 0
                        mask = mask.to(w.device)
                        w.mul_(mask.view_as(w))
                accs.append(evaluate(m, x, y, bs))
    return time.perf_counter() - t0, float(np.mean(accs))


def run_pytorchfi(model, x, y, rates, draws_per_rate, bs, seed=0):
    from pytorchfi import core

    model = model.eval()
    pfi = core.fault_injection(model, bs, input_shape=list(x.shape[1:]), layer_types=list(WEIGHT_TYPES),
                               use_cuda=x.device.type == "cuda")
    shapes = [tuple(m.weight.shape) for m in model.modules() if isinstance(m, WEIGHT_TYPES)]
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    accs = []
    for rate in rates:
        for _ in range(draws_per_rate):
            cols = {"layer_num": [], "k": [], "dim1": [], "dim2": [], "dim3": []}
            for num, shape in enumerate(shapes):
                numel = int(np.prod(shape))
                flat = rng.choice(numel, exact_count(rate, numel), replace=False)
                idx = np.unravel_index(flat, shape)
                cols["layer_num"] += [num] * len(flat)
                cols["k"] += idx[0].tolist()
                cols["dim1"] += idx[1].tolist()
                cols["dim2"] += idx[2].tolist() if len(shape) > 2 else [None] * len(flat)
                cols["dim3"] += idx[3].tolist() if len(shape) > 3 else [None] * len(flat)
            faulty = pfi.declare_weight_fi(value=[0.0] * len(cols["k"]), **cols)
            with torch.no_grad():
                accs.append(evaluate(faulty.eval(), x, y, bs))
    return time.perf_counter() - t0, float(np.mean(accs))


def bench_adaptive(model, x, y, rates, bs, channels_last, pilot=4):
    """Adaptive sweep (draws added per rate until the 95 % half-width <= margin) vs the fixed budget a
    non-adaptive sweep needs for that margin at every rate (the largest per-rate need, at every rate).
    The margin is half the median pilot half-width, so a typical rate needs ~4x the pilot's draws."""
    fault = StuckAtZero("weights")
    res = sweep(model, fault, rates, (x, y), draws=pilot, seed=1, batch_size=bs, progress=False, metric="cross_entropy")
    margin = float(np.median(res.summary["ci_halfwidth"])) / 2
    cap = 25 * pilot
    t0 = time.perf_counter()
    ad = sweep(model, fault, rates, (x, y), draws=pilot, seed=0, batch_size=bs, progress=False, margin=margin,
               max_draws=cap, metric="cross_entropy")
    t_ad = time.perf_counter() - t0
    need = max(ad.info["draws_per_rate"])
    t0 = time.perf_counter()
    fixed = sweep(model, fault, rates, (x, y), draws=need, seed=0, batch_size=bs, progress=False,
                  metric="cross_entropy")
    t_fixed = time.perf_counter() - t0
    n_ad, n_fixed = sum(ad.info["draws_per_rate"]), need * len(rates)
    t_clean, _ = run_clean(model, x, y, n_ad, bs, channels_last)
    met = bool(ad.summary["margin_met"].all())
    fixed_met = bool((fixed.summary["ci_halfwidth"] <= margin).all())
    print(f"adaptive sweep (stuck-at-0 weights, cross-entropy, margin {margin:.2e} at 95 %): "
          f"draws per rate {ad.info['draws_per_rate']} = {n_ad} evaluations (margin met: {met}); "
          f"fixed budget for the same margin: {need} x {len(rates)} = {n_fixed} (met: {fixed_met}); "
          f"{1 - n_ad / n_fixed:.0%} of the draws saved, time {t_ad:.1f} s vs {t_fixed:.1f} s "
          f"({t_fixed / t_ad:.2f}x); adaptive vs {n_ad} clean passes: {t_ad / t_clean:.2f}x")
    return {"margin": margin, "draws_per_rate": ad.info["draws_per_rate"], "evaluations": n_ad,
            "fixed_evaluations": n_fixed, "seconds": t_ad, "fixed_seconds": t_fixed,
            "ratio_vs_clean": t_ad / t_clean, "margin_met": met, "fixed_margin_met": fixed_met}


def fmt_table(rows, headers):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = " | ".join(str(h).ljust(w) for h, w in zip(headers, widths))
    out = [line, "-|-".join("-" * w for w in widths)]
    out += [" | ".join(str(v).ljust(w) for v, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rates", type=int, default=10, help="number of fault rates (default 10)")
    ap.add_argument("--draws", type=int, default=20, help="fault draws per rate (default 20)")
    ap.add_argument("--n", type=int, default=10_000, help="test images (default 10000)")
    ap.add_argument("--batch-size", type=int, default=256, help="inputs per forward, all methods (default 256)")
    ap.add_argument("--models", default="mlp,cnn", help="comma list of mlp, cnn")
    ap.add_argument("--pfi-draws", type=int, default=1, help="PyTorchFI draws per rate actually timed (default 1)")
    ap.add_argument("--batched", type=int, default=5,
                    help="draws per pass of the batched (vmap) ftlib sweep; 0 or 1 skips it (default 5)")
    ap.add_argument("--skip-pfi", action="store_true", help="do not time PyTorchFI")
    ap.add_argument("--skip-nodes", action="store_true", help="skip the node-fault prefix-reuse comparison")
    ap.add_argument("--skip-engine", action="store_true",
                    help="skip the activation-fault, bit-flip-format and adaptive-sweep paths")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    ap.add_argument("--json", type=Path, default=None, help="also write the measurements to this JSON file")
    ap.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N, auto (ftlib.device.resolve); "
                    "PyTorchFI runs with use_cuda on a CUDA device")
    args = ap.parse_args(argv)
    from ftlib.device import resolve

    dev = resolve(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    rates = [(i + 0.5) / args.rates for i in range(args.rates)]
    passes = args.rates * args.draws
    try:
        import pytorchfi  # noqa: F401
        have_pfi = not args.skip_pfi
    except ImportError:
        have_pfi = False
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
          f"{platform.processor() or platform.machine()}, device {dev}")
    print(f"sweep: {args.rates} rates x {args.draws} draws = {passes} evaluations of {args.n} images, "
          f"batch {args.batch_size}; rates {[round(r, 3) for r in rates]}\n")
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.n, 1, 28, 28, generator=g).to(dev)
    y = torch.randint(0, 10, (args.n,), generator=g).to(dev)
    record = {"args": {k: str(v) for k, v in vars(args).items()}, "torch": torch.__version__, "models": {}}

    for name in args.models.split(","):
        torch.manual_seed(0)
        model = {"mlp": build_mlp, "cnn": build_cnn}[name]().to(dev).eval()
        is_cnn = name == "cnn"
        with torch.inference_mode():  # warm-up (thread pool, oneDNN primitives)
            evaluate(model, x[: args.batch_size], y[: args.batch_size], args.batch_size)
        pfi_name = f"pytorchfi 0.6 (extrapolated from {args.pfi_draws * args.rates} draws)"
        methods = {"clean": lambda r: run_clean(model, x, y, args.draws, args.batch_size, channels_last=is_cnn)}
        if is_cnn:
            methods["clean (contiguous format)"] = lambda r: run_clean(model, x, y, args.draws, args.batch_size, False)
        methods["ftlib sweep"] = lambda r: run_ftlib(model, StuckAtZero("weights"), x, y, [r], args.draws,
                                                     args.batch_size)[:2]
        if args.batched > 1:
            methods[f"ftlib sweep, batched (vmap, {args.batched} draws per pass)"] = lambda r: run_ftlib(
                model, StuckAtZero("weights"), x, y, [r], args.draws, args.batch_size, batch_draws=args.batched)[:2]
        methods["naive deepcopy loop"] = lambda r: run_naive(model, x, y, [r], args.draws, args.batch_size)
        if have_pfi:
            def pfi(r):
                t, a = run_pytorchfi(model, x, y, [r], args.pfi_draws, args.batch_size)
                return t * args.draws / args.pfi_draws, a
            methods[pfi_name] = pfi
        if not args.skip_nodes:
            nodes = StuckAtZero("nodes")
            methods["nodes: ftlib, prefix reuse"] = lambda r: run_ftlib(model, nodes, x, y, [r], args.draws,
                                                                        args.batch_size)[:2]
            methods["nodes: ftlib, no prefix reuse"] = lambda r: run_ftlib(
                model, nodes, x, y, [r], args.draws, args.batch_size, prefix_reuse=False)[:2]
        if not args.skip_engine:
            def add(key, fault, ber=False, **kw):
                def fn(r):
                    rate = 1e-4 * 100.0 ** r if ber else r  # bit-error rates 1e-4 .. 1e-2
                    return run_ftlib(model, fault, x, y, [rate], args.draws, args.batch_size, **kw)[:2]
                methods[key] = fn
            add("activations: Bernoulli crash (transient)", BernoulliCrash())
            add("activations: erasure (transient)", Erasure())
            add("activations: bit flip float32 (transient)", BitFlip(target="activations"), ber=True)
            add("activations: bit flip bfloat16 (transient)", BitFlip(target="activations", format="bfloat16"),
                ber=True)
            for fmt, kw in (("float32", {}), ("float16", {}), ("bfloat16", {}), ("int8", {}),
                            ("int8", {"granularity": "channel"}), ("float32", {"adjacent": 2})):
                label = fmt + "".join(f", {k}={v}" for k, v in kw.items())
                add(f"weights: bit flip {label}", BitFlip(format=fmt, **kw), ber=True)
        # interleaved rate by rate: drift and other jobs on the machine hit every method alike
        times = {k: [] for k in methods}
        accs = {k: [] for k in methods}
        load0 = os.getloadavg()[0]
        for rate in rates:
            for key, fn in methods.items():
                t, a = fn(rate)
                times[key].append(t)
                accs[key].append(a)
        load1 = os.getloadavg()[0]
        totals = {k: float(np.sum(v)) for k, v in times.items()}
        # robust to bursts of other jobs: each rate's methods run back to back, so take
        # the median over rates of the per-rate ratio to the clean passes
        medians = {k: float(np.median(np.array(v) / np.array(times["clean"]))) for k, v in times.items()}
        base = totals["clean"]
        print(f"== {name.upper()} (load average {load0:.2f} -> {load1:.2f}; this benchmark alone adds ~2) ==")
        rows = [(k, f"{t:.1f}", f"{1000 * t / passes:.0f}", f"{t / base:.2f}x", f"{medians[k]:.2f}x",
                 f"{np.mean(accs[k]):.4f}") for k, t in totals.items()]
        print(fmt_table(rows, ["method", "seconds", "ms/draw", "vs clean (total)", "vs clean (median over rates)",
                               "mean acc (random init)"]))
        entry = {k: {"seconds": t, "ratio_vs_clean": t / base, "median_ratio_vs_clean": medians[k],
                     "per_rate_seconds": times[k], "mean_accuracy": float(np.mean(accs[k]))}
                 for k, t in totals.items()}
        entry["load_average"] = [load0, load1]
        if not args.skip_nodes:
            on, off = totals["nodes: ftlib, prefix reuse"], totals["nodes: ftlib, no prefix reuse"]
            stages = run_ftlib(model, nodes, x[:8], y[:8], [0.5], 1, 8)[2].info["prefix_stages"]
            med = float(np.median(np.array(times["nodes: ftlib, no prefix reuse"])
                                  / np.array(times["nodes: ftlib, prefix reuse"])))
            print(f"node faults: prefix reuse ({stages} fault-free stages cached) speeds the sweep up "
                  f"{off / on:.2f}x (median over rates {med:.2f}x)")
            entry["nodes_prefix_speedup"] = off / on
            entry["nodes_prefix_speedup_median"] = med
        if not args.skip_engine:
            entry["adaptive"] = bench_adaptive(model, x, y, rates, args.batch_size, is_cnn)
        record["models"][name] = entry
        print()
    if args.json:
        args.json.write_text(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
