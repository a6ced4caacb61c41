"""What a profile would cost on this machine, measured before it runs: ``python -m ftlib.build --profile paper --plan``.

Every selected notebook runs once in *plan mode*: the build sets ``FTLIB_PLAN`` (the file the plan's rows
go to) and the notebook's validation cell (:func:`ftlib.sections.validate_notebook`) calls :func:`install`.
In plan mode the cache is read but never written, cached work costs nothing (a row "cached"), and each
expensive primitive that would compute is replaced by a measured probe whose result the notebook then
continues with:

- a training run that is not cached (:func:`ftlib.training.train`, :func:`ftlib.training_snn.train_snn`,
  :func:`ftlib.adversarial.pretrain`) is trained in a throw-away cache on at most :data:`TRAIN_PROBE` images
  (:data:`SNN_PROBE` for spiking models and Phase I) for two epochs (three for a proposed spiking model, so a
  round of pattern generation follows a warm epoch; one for Phase I), by :func:`ftlib.costs.train_cost`,
  :func:`~ftlib.costs.snn_cost` and :func:`~ftlib.costs.phase1_cost`: the second epoch's seconds scaled to
  the run's images and epochs (pattern generation at the probe's yield, Phase I to its ``max_iters`` cap);
- a fault sweep (:func:`ftlib.faults.sweep`) runs 2 and then 8 draws per rate on at most
  :data:`SWEEP_IMAGES` evaluation images, extrapolated to the run's draws and images from the second
  probe and the marginal cost between the two (:func:`two_point`; an adaptive sweep at its cap of draws);
- a Monte Carlo estimate (:func:`ftlib.theory.monte_carlo`) runs :data:`MC_DRAWS` and then
  :data:`GROW` × :data:`MC_DRAWS` crash sets per input, extrapolated the same way;
- a spiking evaluation (:func:`ftlib.training_snn.accuracy`, :func:`~ftlib.training_snn.faulty_accuracies`)
  runs on at most :data:`SNN_EVAL_IMAGES` test images, scaled by images.

Everything else (evaluations, bounds, figures, the statistics) runs as it is, at the profile's size on the
probes' results; its seconds — the notebook's wall time less its probes — are counted as measured, in a row
"rest". The plan is linear extrapolation of measured seconds, not a guess, and not a promise either: warm-up,
memory and whatever ran beside it change the numbers (the plan records the machine and its load).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import os
import re
import sys
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, Callable

ENV = "FTLIB_PLAN"
"""The environment variable that turns plan mode on: the JSON-lines file the plan's rows are appended to."""
ENV_SECTION = "FTLIB_PLAN_SECTION"
"""The section key the rows of a plan-mode kernel are recorded under."""

TRAIN_PROBE = 1024
"""Training images of a probe of :func:`ftlib.training.train`."""
SNN_PROBE = 512
"""Training images of a probe of a spiking model or of Phase I."""
SWEEP_IMAGES = 256
"""Evaluation images of a probe sweep."""
MC_DRAWS = 64
"""Crash sets per input of a probe Monte Carlo estimate."""
SNN_EVAL_IMAGES = 256
"""Test images of a probe spiking evaluation."""
MAX_LINES = 8
"""Lines per section in the printed plan (the rest summed in one line; the JSON keeps every run)."""

_TRAINER_KINDS = frozenset({"train", "train_snn", "adversarial"})
_state = {"installed": False, "depth": 0}


class _NotCached(Exception):
    """A trainer's cache entry is absent (raised inside a plan-mode trainer call, caught by its wrapper)."""


def active() -> bool:
    """Whether this process is in plan mode (``$FTLIB_PLAN`` is set)."""
    return bool(os.environ.get(ENV))


def _live() -> bool:
    return _state["installed"] and _state["depth"] == 0


@contextlib.contextmanager
def _inside():
    """Inside a probe or a reduced call: nested primitives run as they are, into the probe's own cache."""
    _state["depth"] += 1
    try:
        yield
    finally:
        _state["depth"] -= 1


def _record(**row) -> None:
    row = {"section": os.environ.get(ENV_SECTION, ""), **row}
    with open(os.environ[ENV], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, default=str) + "\n")


_DESCRIBE = ("arch", "method", "dataset", "fault", "fir", "variant", "l1", "l2", "dropout", "var_reg",
             "fault_train", "fault_train_rate", "epochs", "n_train", "seed")


def describe(cfg: Any) -> str:
    """One line naming a training configuration by its non-default fields (``_DESCRIBE``)."""
    fields = asdict(cfg) if is_dataclass(cfg) else {}
    parts = [f"{k}={fields[k]}" for k in _DESCRIBE if fields.get(k) not in (None, "", 0, 0.0, (), [])]
    short = {k: v for k, v in (fields.get("arch_kwargs") or {}).items() if len(repr(v)) <= 40}
    if short:
        parts.insert(1, ", ".join(f"{k}={v}" for k, v in short.items()))
    return f"{type(cfg).__name__}({', '.join(parts)})"


def _full_images(cfg) -> int:
    if cfg.n_train:
        return int(cfg.n_train)
    from .data import load

    return len(load(cfg.dataset, "train").y)


# ----------------------------------------------------------------------------- the probes


def _probe_train(cfg):
    from .costs import train_cost

    return train_cost(cfg, _full_images(cfg), probe=TRAIN_PROBE, keep=True)


def _probe_snn(cfg):
    from .costs import snn_cost

    return snn_cost(cfg, probe=SNN_PROBE, keep=True)


def _probe_phase1(cfg):
    from .costs import phase1_cost

    return phase1_cost(cfg, _full_images(cfg), probe=SNN_PROBE, keep=True)


def _trainer(kind: str, original: Callable, probe: Callable) -> Callable:
    """``original(cfg, store=None, ...)`` in plan mode: the cached result if the cache holds it, else the probe's."""

    @functools.wraps(original)
    def planned(cfg, *args, **kwargs):
        if not _live():
            return original(cfg, *args, **kwargs)
        t0 = time.perf_counter()
        try:
            out = original(cfg, *args, **kwargs)  # a miss raises _NotCached from the entry's fill
            _record(kind=kind, what=describe(cfg), cached=True, probe_s=time.perf_counter() - t0, estimate_s=0.0)
            return out
        except _NotCached:
            pass
        t0 = time.perf_counter()
        with _inside():
            cost, result = probe(cfg)
        _record(kind=kind, what=describe(cfg), cached=False, probe_s=time.perf_counter() - t0,
                estimate_s=float(cost["run_seconds"]), detail=cost)
        return result

    return planned


GROW = 4
"""The second probe of a sweep or Monte Carlo estimate is this many times the first (in draws)."""


def two_point(t_small: float, u_small: float, t_large: float, u_large: float, full: float = 1.0) -> float:
    """Seconds of a call of size ``full`` from two probes of sizes ``u_small < u_large`` (any unit, the same
    for all three): the larger probe's seconds plus the rest at the marginal cost ``(t_large − t_small) /
    (u_large − u_small)`` per unit (at least 0). A call's fixed cost (set-up, the rate-0 pass, a vectorised
    draw loop's first step) is paid once, not scaled with its size — scaling one small probe linearly
    multiplied it too and overestimated continuous_limit's Monte Carlo sections up to 24×."""
    if u_large >= full or u_large <= u_small:
        return t_large * (full / u_large if u_large < full else 1.0)
    return t_large + (full - u_large) * max((t_large - t_small) / (u_large - u_small), 0.0)


def _reduced(kind: str, original: Callable, reduce: Callable[..., tuple[float, str] | None],
             grows: bool = False) -> Callable:
    """``original`` in plan mode with the arguments ``reduce`` shrinks (it edits the bound arguments in place
    and returns (scale factor, what), or None to run the call as it is). With ``grows``, ``reduce`` also
    takes ``factor``: the call is probed at ``factor=1`` and at ``factor=GROW`` (:func:`two_point`), and
    the notebook continues with the larger probe's result."""
    signature = inspect.signature(original)

    def timed(arguments: dict):
        with _inside():
            t0 = time.perf_counter()
            out = original(**arguments)
            return out, time.perf_counter() - t0

    @functools.wraps(original)
    def planned(*args, **kwargs):
        if not _live():
            return original(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        small = dict(bound.arguments)
        plan = reduce(small)
        if plan is None:
            out, seconds = timed(small)
            _record(kind=kind, what="as it is", cached=False, probe_s=seconds, estimate_s=seconds)
            return out
        scale, what = plan
        large, scale_large = small, scale
        if grows and scale > 1:
            large = dict(bound.arguments)
            scale_large = reduce(large, factor=GROW)[0]
        if scale_large < scale:
            _, t_small = timed(small)
            out, t_large = timed(large)
            estimate = two_point(t_small, 1 / scale, t_large, 1 / scale_large)
            detail = {"scale": scale, "probes": [[1 / scale, t_small], [1 / scale_large, t_large]]}
            _record(kind=kind, what=what, cached=False, probe_s=t_small + t_large, estimate_s=estimate,
                    detail=detail)
            return out
        out, seconds = timed(small)
        _record(kind=kind, what=what, cached=False, probe_s=seconds, estimate_s=seconds * scale,
                detail={"scale": scale})
        return out

    return planned


def _rows(data) -> tuple[Any, int, int] | None:
    """(data cut to its first rows, rows before, rows after) for ``(x, y)`` tensors or a dataset with x, y."""
    if isinstance(data, (tuple, list)) and len(data) == 2 and hasattr(data[0], "shape"):
        x, y = data
    elif hasattr(data, "x") and hasattr(data, "y"):
        x, y = data.x, data.y
    else:
        return None
    return x, y, len(x)


def _reduce_sweep(a: dict, factor: int = 1):
    if a.get("campaign") is not None:
        return None
    draws = int(a["draws"])
    full_draws = int(a.get("max_draws") or draws) if a.get("ci_width") or a.get("margin") else draws
    a["ci_width"], a["max_draws"], a["margin"] = None, None, None
    a["draws"] = min(draws, 2 * factor)
    scale = full_draws / a["draws"]
    cut = _rows(a["data"])
    n = n_full = None
    if cut is not None:
        x, y, n_full = cut
        n = min(n_full, SWEEP_IMAGES)
        a["data"] = (x[:n], y[:n])
        scale *= n_full / n
    rates = list(a["rates"])
    what = (f"sweep {a['fault']!r} × {len(rates)} rates × {full_draws} draws"
            + (f" × {n_full} images" if n_full else ""))
    return scale, what


def _reduce_monte_carlo(a: dict, factor: int = 1):
    draws = int(a["draws"])
    a["draws"] = max(2, min(draws, MC_DRAWS * factor))
    rows = len(a["x"])
    return draws / a["draws"], f"Monte Carlo, {draws} crash sets × {rows} inputs"


def _reduce_snn_eval(a: dict):
    n_full = len(a["x"])
    n = min(n_full, SNN_EVAL_IMAGES)
    a["x"], a["y"] = a["x"][:n], a["y"][:n]
    what = "spiking evaluation" + (f", {a['kind']} {a['ratio']:g} × {a['instances']} fault sets" if "kind" in a else "")
    return n_full / n, f"{what} × {a['reps']} reps × {n_full} images"


# ----------------------------------------------------------------------------- install


def install() -> bool:
    """Put this process in plan mode (once; a no-op unless :func:`active`): every ftlib module is imported,
    the primitives of the table above are replaced wherever ftlib binds them, and the cache's entries stop
    writing. Returns whether plan mode is on."""
    if not active() or _state["installed"]:
        return _state["installed"]
    import importlib

    from . import adversarial, experiments, store, training, training_snn
    from .theory import montecarlo

    sweep_module = importlib.import_module("ftlib.faults.sweep")  # `ftlib.faults.sweep` is also the function

    experiments.registry()  # imports every section's module, so their `from ... import train` bind below
    patches = {
        training.train: _trainer("train", training.train, _probe_train),
        training_snn.train_snn: _trainer("train_snn", training_snn.train_snn, _probe_snn),
        adversarial.pretrain: _trainer("adversarial", adversarial.pretrain, _probe_phase1),
        sweep_module.sweep: _reduced("sweep", sweep_module.sweep, _reduce_sweep, grows=True),
        montecarlo.monte_carlo: _reduced("monte_carlo", montecarlo.monte_carlo, _reduce_monte_carlo, grows=True),
        training_snn.accuracy: _reduced("snn_eval", training_snn.accuracy, _reduce_snn_eval),
        training_snn.faulty_accuracies: _reduced("snn_eval", training_snn.faulty_accuracies, _reduce_snn_eval),
    }
    by_id = {id(f): (f, w) for f, w in patches.items()}
    for name, module in list(sys.modules.items()):
        if not (name == "ftlib" or name.startswith("ftlib.")) or module is None:
            continue
        for attr, value in list(vars(module).items()):
            hit = by_id.get(id(value))
            if hit is not None and hit[0] is value:
                setattr(module, attr, hit[1])
    _patch_entries(store.Entry, store._try_load)
    _state["installed"] = True
    return True


def _patch_entries(entry_cls, try_load) -> None:
    """Plan mode's cache: read, never written; a trainer's miss raises :class:`_NotCached` (its wrapper probes);
    any other miss computes (its primitives are probes) without storing."""
    fill = entry_cls.fill

    def planned_fill(self, load, compute, what=""):
        if not _live():
            return fill(self, load, compute, what)
        value, _ = try_load(load)
        if value is not None:
            if self.kind not in _TRAINER_KINDS:
                _record(kind="cached", what=what or self.kind, cached=True, probe_s=0.0, estimate_s=0.0)
            return value
        if self.kind in _TRAINER_KINDS:
            raise _NotCached(self.name)
        return compute()

    entry_cls.fill = planned_fill
    for name in ("save_result", "save_state", "save_checkpoint", "seal", "drop_checkpoint", "quarantine"):
        original = getattr(entry_cls, name)

        def skipped(self, *args, _original=original, **kwargs):
            if _live():
                return None
            return _original(self, *args, **kwargs)

        setattr(entry_cls, name, functools.wraps(original)(skipped))


# ----------------------------------------------------------------------------- the build's --plan


def summarize(rows: list[dict], seconds: dict[str, float], failed: dict[str, str]) -> dict:
    """The plan of the sections ``seconds`` (section → plan-mode wall seconds) from their ``rows``: per section
    the runs, their estimates and the rest (wall time less the probes), and the total."""
    sections = {}
    for key, wall in seconds.items():
        mine = [r for r in rows if r["section"] == key]
        probes = sum(r["probe_s"] for r in mine)
        estimate = sum(r["estimate_s"] for r in mine) + max(0.0, wall - probes)
        sections[key] = {"runs": mine, "plan_seconds": round(wall, 1), "rest_seconds": round(max(0.0, wall - probes), 1),
                         "estimate_seconds": round(estimate, 1), "cached": sum(1 for r in mine if r["cached"]),
                         "failed": failed.get(key)}
    return {"sections": sections, "total_seconds": round(sum(s["estimate_seconds"] for s in sections.values()), 1)}


def _hours(s: float) -> str:
    return f"{s / 3600:.2f} h" if s >= 3600 else f"{s / 60:.1f} min" if s >= 60 else f"{s:.0f} s"


def render(plan: dict, profile: str) -> str:
    """The plan as text: one line per training run, sweep or estimate that would compute, and the totals."""
    out = [f"plan of the {profile} profile on this machine (measured probes, scaled to the full size)"]
    for key, sec in plan["sections"].items():
        head = f"\n{key}: {_hours(sec['estimate_seconds'])}"
        if sec["failed"]:
            head += f"  (PARTIAL: the plan-mode run stopped: {sec['failed']})"
        out.append(head)
        groups: dict[tuple[str, str], list[dict]] = {}
        for r in sec["runs"]:
            if not r["cached"]:  # runs that differ only by seed (repetitions) share a line
                groups.setdefault((r["kind"], re.sub(r", seed=\d+", "", r["what"])), []).append(r)
        ranked = sorted(groups.items(), key=lambda kv: -sum(r["estimate_s"] for r in kv[1]))
        for (kind, what), rs in ranked[:MAX_LINES]:
            total = sum(r["estimate_s"] for r in rs)
            out.append(f"  {kind:<12} {len(rs):>3} × {what[:96]:<96} {_hours(total):>10}")
        if len(ranked) > MAX_LINES:
            more = [r for _, rs in ranked[MAX_LINES:] for r in rs]
            out.append(f"  {'(more)':<12} {len(more):>3} × smaller runs{'':<84} "
                       f"{_hours(sum(r['estimate_s'] for r in more)):>10}")
        if sec["cached"]:
            out.append(f"  cached       {sec['cached']:>3} entries{'':<89} {'0 s':>10}")
        out.append(f"  rest              (the notebook's other work, measured as it ran){'':<33}"
                   f" {_hours(sec['rest_seconds']):>10}")
    out.append(f"\ntotal: {_hours(plan['total_seconds'])} ({plan['total_seconds']:.0f} s)")
    return "\n".join(out)


def run(sources: list[tuple[str, Path]], profile: str, seed: int, root: Path, out: Path | None = None) -> dict:
    """Run each notebook ``(section key, source)`` of ``sources`` in plan mode and return (and print, and write
    to ``out`` as JSON) the plan of :func:`summarize`, with the machine, the commit and the date."""
    import datetime as _dt
    import tempfile

    from .build import execute
    from .costs import machine
    from .report import _git_commit

    seconds, failed = {}, {}
    with tempfile.TemporaryDirectory(prefix="ftlib-plan-") as tmp:
        rows_file = Path(tmp) / "rows.jsonl"
        rows_file.touch()
        for key, source in sources:
            print(f"planning {key} (profile {profile}) ...", flush=True)
            env = {ENV: str(rows_file), ENV_SECTION: key, "FTLIB_RESULTS_DIR": str(Path(tmp) / "results"),
                   "FTLIB_TRACE": None}
            t0 = time.perf_counter()
            try:
                execute(source, Path(tmp) / "executed" / f"{key.replace('/', '__')}.ipynb", profile, seed, "plan",
                        root, env=env)
            except Exception as exc:  # the section's plan is partial: say so, plan the others
                why = f"{exc.ename}: {exc.evalue}" if hasattr(exc, "ename") else f"{type(exc).__name__}: {exc}"
                failed[key] = why.splitlines()[0][:300] if why else type(exc).__name__
            seconds[key] = time.perf_counter() - t0
        rows = [json.loads(line) for line in rows_file.read_text().splitlines() if line.strip()]
    plan = summarize(rows, seconds, failed)
    plan.update(profile=profile, seed=seed, machine=machine(), commit=_git_commit(),
                date=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                load_average=list(os.getloadavg()) if hasattr(os, "getloadavg") else None)
    print(render(plan, profile), flush=True)
    if out is not None:
        from .store import atomic_write_bytes

        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out, json.dumps(plan, indent=1, default=str).encode())
        print(f"plan written to {out}")
    return plan
