"""What a training run would cost on this machine, measured from a short probe, never guessed.

Each function trains a copy of a configuration on ``probe`` images for two epochs (three for a
proposed spiking model, so that a round of pattern generation follows a warm epoch) in a throw-away
cache, and scales the measured seconds per image of the *second* epoch (the first pays the warm-up:
allocation, first kernels) to the configuration's full epoch and its number of epochs. The estimate
is linear in the number of images, which holds for these mini-batch loops once the batch size is
fixed.

Used for the paper-settings parts that do not fit these 2 cores (:data:`ftlib.not_run.NOT_RUN`):
``python -m ftlib.costs`` measures every such part and writes the results, with the machine and
the commit, to ``book/_archive/costs.json``.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from dataclasses import replace
from typing import Any, Callable

from .store import Store


def machine() -> dict[str, Any]:
    """The machine a measurement ran on: CPU count, CPU model, torch threads and the device the probes train on
    (:func:`ftlib.device.resolve`: ``$FTLIB_DEVICE``, else the first GPU, else the CPU)."""
    import torch

    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            model = next((l.split(":", 1)[1].strip() for l in fh if l.startswith("model name")), model)
    except OSError:
        pass
    from .device import resolve

    return {"cpus": os.cpu_count(), "cpu_model": model, "torch_threads": torch.get_num_threads(),
            "device": str(resolve(None)), "torch": torch.__version__}


def _scaled(seconds: float, probe: int, full: int, epochs: int) -> dict[str, float]:
    per_epoch = seconds * full / probe
    return {"probe_images": probe, "probe_seconds": round(seconds, 3), "epoch_images": full,
            "epoch_seconds": round(per_epoch, 1), "epochs": epochs, "run_seconds": round(per_epoch * epochs, 1)}


def train_cost(cfg, full_images: int, probe: int = 2048, keep: bool = False):
    """Seconds per epoch and per run of :func:`ftlib.training.train` for ``cfg`` (a ``TrainConfig``) whose
    epoch covers ``full_images`` images, from the second of two epochs on ``probe`` of them. With ``keep``:
    ``(cost, trained)``, the probe's trained model too (what :mod:`ftlib.plan` continues with)."""
    from .training import train

    # a Phase II run starts from a Phase I entry the probe's throw-away cache does not hold: the start
    # changes the weights, not the seconds per epoch
    probe_cfg = replace(cfg, n_train=min(probe, full_images), epochs=2, init_from="")
    with tempfile.TemporaryDirectory() as tmp:
        trained = train(probe_cfg, Store(tmp))
    cost = _scaled(trained.history[-1]["seconds"], probe_cfg.n_train, full_images, cfg.epochs)
    return (cost, trained) if keep else cost


def phase1_cost(cfg, full_images: int, probe: int = 2048, keep: bool = False):
    """Seconds per epoch and per run of Phase I (:func:`ftlib.adversarial.pretrain`, an
    ``AdversarialConfig``) from one epoch on ``probe`` images; a ``max_iters`` cap limits the run. With ``keep``:
    ``(cost, pretrained)``."""
    from .adversarial import pretrain

    probe_cfg = replace(cfg, n_train=min(probe, full_images), epochs=1, max_iters=0)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        pretrained = pretrain(probe_cfg, Store(tmp))
        seconds = time.perf_counter() - t0
    out = _scaled(seconds, probe_cfg.n_train, full_images, cfg.epochs)
    if cfg.max_iters:
        per_iter = seconds / -(-probe_cfg.n_train // cfg.batch_size)
        out["run_seconds"] = round(min(out["run_seconds"], per_iter * cfg.max_iters), 1)
    return (out, pretrained) if keep else out


def snn_cost(cfg, probe: int = 2048, keep: bool = False):
    """Seconds per epoch and per run of :func:`ftlib.training_snn.train_snn` for ``cfg`` (an
    ``SNNTrainConfig``): one probe epoch of training scaled to ``cfg.n_train`` images, plus, for the
    proposed method, one round of pattern generation. Generation stops once ``m_patterns`` images are
    kept, so its cost is scaled to the images it would scan at the probe's yield (kept per scanned image),
    capped at the whole training set: an estimate, since the yield changes as the model trains. With ``keep``:
    ``(cost, trained)``."""
    from .training_snn import train_snn

    epochs = 3 if cfg.method == "proposed" else 2
    probe_cfg = replace(cfg, n_train=min(probe, cfg.n_train), epochs=epochs)
    with tempfile.TemporaryDirectory() as tmp:
        trained = train_snn(probe_cfg, Store(tmp))
    first = trained.history[1]  # the second epoch: warm, and (proposed) followed by a round of generation
    out = _scaled(first["train_wall_s"], probe_cfg.n_train, cfg.n_train, cfg.epochs)
    if cfg.method == "proposed":
        kept, scanned = first["new_patterns"], probe_cfg.n_train
        if cfg.gen.max_batches:
            scanned = min(scanned, cfg.gen.max_batches * cfg.gen.batch_size)
        per_image = first["gen_wall_s"] / scanned
        to_scan = cfg.n_train if kept <= 0 else min(cfg.n_train, scanned * cfg.gen.m_patterns / kept)
        gen = per_image * to_scan
        out.update(gen_seconds_per_epoch=round(gen, 1), gen_yield=round(kept / scanned, 4),
                   epoch_seconds=round(out["epoch_seconds"] + gen, 1))
        out["run_seconds"] = round(out["epoch_seconds"] * cfg.epochs, 1)
    return (out, trained) if keep else out


# --------------------------------------------------------------------------- the probes of the parts not run
def _paper(key: str):
    from .experiments import resolve

    return resolve(key, {"profile": "paper", "seed": 0})


def _aft_train(arch: str, images: int):
    def probe():
        from .experiments.adversarial_ft import _config as aft

        s = _paper("adversarial_ft/adversarial_framework")
        return train_cost(aft.baseline_config(s, arch, "tikhonov", 1e-3), images, probe=512)
    return probe


def _aft_phase1(arch: str, images: int):
    def probe():
        from .experiments.adversarial_ft import _config as aft

        s = _paper("adversarial_ft/adversarial_framework")
        return phase1_cost(aft.phase1_config(s, arch), images, probe=512)
    return probe


def _snn(method: str):
    def probe():
        from .experiments.snn_patterns import _config as snn

        s = _paper("snn_patterns/accuracy")
        return snn_cost(snn.train_config(s, method, "NASF", 0.05 if method != "baseline" else 0.0), probe=512)
    return probe


def _cf(kind: str, layers: int, width: int):
    def probe():
        from .experiments.computation_failures import _config as cf

        s = _paper("computation_failures/fault_tolerance")
        cfg = cf.mlp_config(s, layers, width) if kind == "mlp" else cf.cnn_config(s, layers, width)
        return train_cost(cfg, 50_000, probe=1024)
    return probe


PROBES: dict[str, tuple[str, Callable[[], dict]]] = {
    "aft_arch1": ("Architecture 1, supervised (FashionMNIST, 60,000 images)", _aft_train("aft_arch1", 60_000)),
    "aft_arch2": ("Architecture 2, supervised (FashionMNIST, 60,000 images)", _aft_train("aft_arch2", 60_000)),
    "aft_arch1_phase1": ("Architecture 1, Phase I (FashionMNIST)", _aft_phase1("aft_arch1", 60_000)),
    "aft_arch3": ("Architecture 3, supervised (CIFAR-10, 50,000 images)", _aft_train("aft_arch3", 50_000)),
    "aft_arch4": ("Architecture 4, supervised (CIFAR-10, 50,000 images)", _aft_train("aft_arch4", 50_000)),
    "aft_arch3_phase1": ("Architecture 3, Phase I (CIFAR-10)", _aft_phase1("aft_arch3", 50_000)),
    "snn_previous": ("previous method, NASF FIR 0.05 (48,000 images)", _snn("previous")),
    "snn_proposed": ("proposed method with pattern generation, NASF FIR 0.05 (48,000 images)", _snn("proposed")),
    "cf_mlp_5x1024": ("MLP-5-1024, the family's largest MLP (50,000 images)", _cf("mlp", 5, 1024)),
    "cf_cnn_3x64": ("CNN-3-3-2-64, the family's largest CNN (50,000 images)", _cf("cnn", 3, 64)),
}
"""Every measurement :data:`ftlib.not_run.NOT_RUN` cites: name → (what it measures, the probe)."""

COSTS_FILE = "costs.json"
"""The file in the archive folder (:func:`ftlib.archive.archive_dir`) that ``python -m ftlib.costs`` writes."""


def measure(names: list[str]) -> dict[str, Any]:
    """Run the probes ``names`` (of :data:`PROBES`) here; returns the costs file's content: the machine, the
    commit, the date and, per probe, what it measures and its measured cost (:func:`train_cost` and friends)."""
    import datetime as _dt

    from .report import _git_commit

    unknown = [n for n in names if n not in PROBES]
    if unknown:
        from .errors import ParameterError

        raise ParameterError(f"unknown cost probe(s) {unknown}; known: {', '.join(PROBES)}")
    out = {"machine": machine(), "commit": _git_commit(),
           "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "probes": {}}
    for name in names:
        label, probe = PROBES[name]
        out["probes"][name] = {"what": label, **probe()}
    return out


def load() -> dict[str, Any]:
    """The measured costs (the archive's ``costs.json``), or ``{}`` when none were measured."""
    from .archive import optional_json

    return optional_json(COSTS_FILE, "delete it and rerun python -m ftlib.costs")


def main(argv: list[str] | None = None) -> int:
    """``python -m ftlib.costs [probe ...]``: measure the probes cited by the parts not run (default: all of
    them) and write ``costs.json`` into the archive folder (merged with the probes measured before)."""
    import json
    import sys

    from .archive import archive_dir
    from .not_run import NOT_RUN
    from .store import atomic_write_bytes

    names = list(sys.argv[1:] if argv is None else argv) or sorted({p for e in NOT_RUN for p in e.probes})
    fresh = measure(names)
    old = load()
    merged = {**fresh, "probes": {**old.get("probes", {}), **fresh["probes"]}}
    for name in fresh["probes"]:  # each probe keeps the machine and date it was measured on
        merged["probes"][name].update(machine=fresh["machine"], date=fresh["date"], commit=fresh["commit"])
    path = archive_dir() / COSTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(merged, indent=1, sort_keys=True).encode())
    for name, r in fresh["probes"].items():
        print(f"{name}: {r['epoch_seconds']:.0f} s per epoch, {r['run_seconds'] / 3600:.1f} h per run  ({r['what']})")
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
