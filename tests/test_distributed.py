"""Scale-out through Dask distributed (ftlib.distributed), with real processes on loopback, no mocks.

- a smoke chapter built through a real ``dask scheduler`` and two ``dask worker``
  processes gives the result records and cache numbers of the serial build;
- killing a worker mid-run loses only its task, which is rescheduled: every result arrives, equal to serial;
- model-family training and fault sweeps through the cluster equal the serial ones bit for bit;
- the cache under concurrent writers: one computation, one entry, never a torn file.

Bit-identical float32 numbers need the same number of torch threads per process
(reduction order): the serial references here use the workers' thread count.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from ftlib import distributed
from ftlib.store import Store

from .conftest import IGNORE, require_data

CHAPTER = "computation_failures"  # the cheapest chapter with two notebooks that train models (~40 s in smoke)


# ----------------------------------------------------------------------------- helpers

def _records(copy: Path) -> dict:
    """The numbers of a chapter's result records (without wall times, timestamps, versions, commit)."""
    out = {}
    for path in sorted((copy / "book" / "_results" / CHAPTER).glob("*.json")):
        rec = json.loads(path.read_text())
        out[path.name] = {k: rec[k] for k in ("settings", "comparisons", "ids", "profile", "seed", "figures")}
    return out


def _cache_values(cache: Path) -> dict:
    """result.json of every cache entry by its configuration (code salt dropped), timings removed."""
    out = {}
    for cfg in cache.rglob("config.json"):
        key = json.loads(cfg.read_text())
        key.pop("code")
        res = cfg.parent / "result.json"
        if not res.exists():
            continue
        value = json.loads(res.read_text())
        if isinstance(value, dict) and "history" in value:
            value.pop("wall_time_s", None)
            value["history"] = [{k: v for k, v in h.items() if k != "seconds"} for h in value["history"]]
        out[json.dumps(key, sort_keys=True)] = value
    return out


def _dask(*args: str) -> list[str]:
    exe = Path(sys.executable).with_name("dask")
    return [str(exe), *args] if exe.exists() else [sys.executable, "-m", "dask", *args]


def _wait_for(predicate, timeout: float, what: str):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(what)


@pytest.fixture
def fresh_client():
    """Make ftlib.distributed forget any client of an earlier test (and close it afterwards)."""
    distributed.close()
    yield
    distributed.close()


@pytest.fixture(scope="module")
def local_cluster():
    """A real scheduler and two worker processes (one thread each) on 127.0.0.1."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as cluster:
        yield cluster


@pytest.fixture
def one_thread():
    """Serial references computed with the workers' torch thread count (1)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# ----------------------------------------------------------------------------- the smoke chapter through a cluster

@pytest.mark.book
def test_smoke_chapter_on_two_workers_equals_serial(book, tmp_path):
    """``python -m ftlib.build --scheduler`` through ``dask scheduler`` + two ``dask worker`` processes."""
    serial_copy, serial_cache, _ = book
    copy = tmp_path / "checkout"
    shutil.copytree(serial_copy, copy, ignore=IGNORE)  # the very code the serial build ran
    cache = tmp_path / "cache"
    sched_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(copy)}
    env.pop("FTLIB_SCHEDULER", None)
    # the serial build computed with torch's default thread count: give each worker process the same
    n = torch.get_num_threads()
    env["DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON"] = repr(
        {"OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n, "MALLOC_TRIM_THRESHOLD_": 65536})
    procs = [subprocess.Popen(_dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0",
                                    "--scheduler-file", str(sched_file)), cwd=copy, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        _wait_for(sched_file.exists, 60, "the scheduler did not start")
        procs.append(subprocess.Popen(
            _dask("worker", "--scheduler-file", str(sched_file), "--nworkers", "2", "--nthreads", "1",
                  "--no-dashboard", "--local-directory", str(tmp_path / "dask-worker-space")),
            cwd=copy, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(scheduler_file=str(sched_file), timeout=60) as c:
            c.wait_for_workers(2, timeout=120)
            address = c.scheduler.address
        build_env = {**env, "FTLIB_CACHE_DIR": str(cache)}
        build_env.pop("FTLIB_RESULTS_DIR", None)
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, "-m", "ftlib.build", "--profile", "smoke", "--chapter", CHAPTER,
                              "--no-html", "--scheduler", address], cwd=copy, env=build_env, capture_output=True,
                             text=True, timeout=900)
        seconds = time.perf_counter() - t0
        assert res.returncode == 0, f"distributed build failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    print(f"distributed smoke build of {CHAPTER} on two workers: {seconds:.1f} s")
    assert "2 workers" in res.stdout and "dashboard" in res.stdout
    assert res.stdout.count("executing") == 2, res.stdout
    assert "notebooks" in res.stderr, "the progress bar"

    dist, ref = _records(copy), _records(serial_copy)
    assert set(dist) == {"fault_tolerance.json", "hyperparameters.json"}
    assert dist == ref, "the distributed build's result records differ from the serial build's"
    values, serial_values = _cache_values(cache), _cache_values(serial_cache)
    assert values, "the distributed build wrote no cache entries"
    missing = [k for k in values if k not in serial_values]
    assert not missing, f"{len(missing)} entries of the distributed build are not in the serial cache"
    differ = [k for k in values if values[k] != serial_values[k]]
    assert not differ, f"{len(differ)} of {len(values)} cached numbers differ, e.g. {differ[0][:300]}"


# ----------------------------------------------------------------------------- a worker dies mid-run

def _value(seed: int) -> float:
    g = torch.Generator().manual_seed(seed)
    return float(torch.randn(10_000, generator=g, dtype=torch.float64).sum())


def slow_task(seed: int) -> float:
    """A task that takes a while; its value depends on its input only."""
    time.sleep(1.0)
    return _value(seed)


def test_a_killed_worker_loses_only_its_task(local_cluster, monkeypatch, fresh_client):
    monkeypatch.setenv("FTLIB_SCHEDULER", local_cluster.scheduler_address)
    monkeypatch.setenv("FTLIB_QUIET", "1")
    c = distributed.client()
    c.wait_for_workers(2, timeout=60)
    pids = c.run(os.getpid)
    killed = {}

    def kill_one_busy_worker():
        busy = _wait_for(lambda: [w for w, tasks in c.processing().items() if tasks and w in pids], 60,
                         "no task started")
        time.sleep(0.3)  # mid-task
        killed["worker"], killed["tasks"] = busy[0], list(c.processing()[busy[0]])
        os.kill(pids[busy[0]], signal.SIGKILL)

    items = list(range(6))
    killer = threading.Thread(target=kill_one_busy_worker)
    killer.start()
    got = distributed.map(slow_task, items, name="slow")
    killer.join()
    assert killed.get("tasks"), "a worker was killed while it ran a task"
    with pytest.raises(ProcessLookupError):
        os.kill(pids[killed["worker"]], 0)
    assert got == [_value(i) for i in items]


# ----------------------------------------------------------------------------- training families and sweeps

def test_train_many_and_sweeps_on_the_cluster_equal_serial(local_cluster, monkeypatch, fresh_client, tmp_path,
                                                           one_thread):
    require_data("mnist")
    from ftlib import faults
    from ftlib.data import load
    from ftlib.experiments.common import cached_sweeps
    from ftlib.training import TrainConfig

    monkeypatch.setenv("FTLIB_QUIET", "1")
    cfgs = [TrainConfig(arch="cf_mlp", dataset="mnist", epochs=1, n_train=300, seed=s, optimizer="adadelta", lr=1.0,
                        arch_kwargs={"layers": 1, "neurons": 8}) for s in (0, 1)]
    test = load("mnist", "test").subset(200, seed=0)
    fault = faults.ConditionallyUniform(value_range=(-1.0, 1.0))

    def run(store):
        models = distributed.train_many(cfgs, store)
        sweeps = cached_sweeps(store, [(t, fault, [0.0, 0.05]) for t in models], test.x, test.y, 3, 0,
                               {"n": 200})
        return models, sweeps

    serial_models, serial_sweeps = run(Store(tmp_path / "serial"))
    assert distributed.client() is None
    monkeypatch.setenv("FTLIB_SCHEDULER", local_cluster.scheduler_address)
    models, sweeps = run(Store(tmp_path / "dist"))
    for a, b in zip(serial_models, models):
        assert a.config == b.config and a.history[0]["loss"] == b.history[0]["loss"] and a.train_acc == b.train_acc
        sa, sb = a.model.state_dict(), b.model.state_dict()
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    for a, b in zip(serial_sweeps, sweeps):
        assert a.equals(b)
    # the workers wrote the shared cache: loading it here trains nothing
    again = distributed.train_many(cfgs, Store(tmp_path / "dist"))
    assert all(t.from_cache for t in again)


# ----------------------------------------------------------------------------- the cache under concurrent writers

def _race_result(root: str, log: str, barrier) -> object:
    barrier.wait()

    def compute():
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\n")
        time.sleep(0.5)
        return {"value": [1.5, 2.5], "by": "whoever came first"}

    return Store(root).cached_result("race", {"a": 1}, compute)


def _race_state(root: str, barrier, rounds: int) -> int:
    """Write the same entry's model over and over while others read it; returns how many reads succeeded."""
    entry = Store(root).entry("race_model", {"b": 2})
    state = {"w": torch.arange(2_000_000, dtype=torch.float32)}  # 8 MB: a torn file would show
    barrier.wait()
    reads = 0
    for _ in range(rounds):
        entry.save_state(state)
        loaded = entry.load_state()  # CacheCorruptError if it ever saw a torn file
        assert torch.equal(loaded["w"], state["w"])
        reads += 1
    return reads


def _race_train(root: str, barrier) -> bool:
    from ftlib.distributed import train_locked
    from ftlib.training import TrainConfig

    torch.set_num_threads(1)
    cfg = TrainConfig(arch="cf_mlp", dataset="mnist", epochs=2, n_train=300, seed=0, optimizer="adadelta", lr=1.0,
                      arch_kwargs={"layers": 1, "neurons": 8})
    barrier.wait()
    return train_locked(cfg, Store(root)).from_cache


def test_cache_under_concurrent_writers(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    n = 3
    root, log = tmp_path / "cache", tmp_path / "computed.log"
    with ctx.Manager() as manager, ctx.Pool(n) as pool:
        barrier = manager.Barrier(n)
        values = pool.starmap(_race_result, [(str(root), str(log), barrier)] * n)
        assert log.read_text().count("\n") == 1, "exactly one process computed the entry, the others loaded it"
        assert all(v == values[0] for v in values)
        barrier = manager.Barrier(3)
        reads = pool.starmap(_race_state, [(str(root), barrier, 5)] * 3)
        assert reads == [5, 5, 5]
        from .conftest import have_data

        if have_data("mnist"):
            barrier = manager.Barrier(3)
            from_cache = pool.starmap(_race_train, [(str(root), barrier)] * 3)
            assert sorted(from_cache) == [False, True, True], "one process trained, the others loaded its model"
    entries = list((root / "race").rglob("config.json"))
    assert len(entries) == 1
    entry = entries[0].parent
    assert json.loads((entry / "result.json").read_text()) == values[0]
    json.loads((entry / "config.json").read_text())
    leftovers = [p.name for p in root.rglob("*.tmp")]
    assert not leftovers, f"temporary files left behind: {leftovers}"
    state = Store(root).entry("race_model", {"b": 2}).load_state()
    assert torch.equal(state["w"], torch.arange(2_000_000, dtype=torch.float32))


def test_local_cluster_dashboard_listens_on_loopback_only(monkeypatch, fresh_client):
    """``local:N`` binds its dashboard (and scheduler) to 127.0.0.1, not to every interface."""
    import psutil
    from urllib.parse import urlparse

    monkeypatch.setattr(distributed, "LOCAL_DASHBOARD", "127.0.0.1:0")  # a free port
    monkeypatch.setenv("FTLIB_QUIET", "1")
    c = distributed.client("local:1")
    port = urlparse(c.dashboard_link).port
    sched_port = urlparse(c.scheduler.address).port
    listening = {(s.laddr.ip, s.laddr.port) for s in psutil.Process().net_connections(kind="inet")
                 if s.status == psutil.CONN_LISTEN}
    on_port = {ip for ip, p in listening if p == port}
    assert on_port and on_port <= {"127.0.0.1"}, f"dashboard port {port} listens on {on_port}"
    assert {ip for ip, p in listening if p == sched_port} <= {"127.0.0.1"}
