"""Where work runs: in this process (the default) or on a Dask distributed cluster.

ftlib does not schedule anything itself. With no cluster configured every
loop runs in this process, in order, exactly as a plain ``for`` loop would.
With one configured, the same calls hand their independent tasks to Dask
distributed (https://distributed.dask.org), which places them on workers,
reruns the tasks of a worker that dies, and shows them on its dashboard.

The cluster is chosen by environment variables (or by ``python -m ftlib.build
--scheduler``):

- ``FTLIB_SCHEDULER=tcp://host:8786``: connect to a running scheduler
  (``dask scheduler`` + ``dask worker``); a path to a ``--scheduler-file``
  works too. ``FTLIB_SCHEDULER=local:4`` starts a local cluster of 4 worker
  processes with one thread each (a multi-core workstation).
- ``FTLIB_JOBQUEUE=slurm`` (or ``pbs``, ``lsf``, ``sge``, ``htcondor``, ``oar``,
  ``moab``): start a dask-jobqueue cluster whose job settings (queue,
  cores, memory, walltime, job script prologue) come from Dask's own
  configuration (``~/.config/dask/jobqueue.yaml``); it grows to at most
  ``FTLIB_JOBS`` batch jobs (default 4) while there is work and shrinks when idle.
- ``FTLIB_RETRIES`` (default 2): how often a task that *raised* is retried; a
  task whose worker died is rescheduled by the scheduler anyway (up to
  ``distributed.scheduler.allowed-failures`` times).

Security: a Dask scheduler executes whatever functions its clients send, so
anyone who can reach its port can run code as the user of its workers. A
``local:N`` cluster therefore listens on 127.0.0.1 only (scheduler and
dashboard). A ``tcp://`` scheduler on a shared network must be reachable only
by you: prefer ``tls://`` with Dask's security configuration (certificates,
``distributed.comm.require-encryption``), see *Rerun it yourself*.

Workers must see the same files as the client: the checkout (same path), the
data directory and the cache (``FTLIB_CACHE_DIR``) on a shared filesystem.
The cache is safe under concurrent writers (:meth:`ftlib.store.Entry.fill`).

Same numbers: a task is a function of its inputs only (seeds come from the
item, e.g. :class:`ftlib.training.TrainConfig` ``seed``, never from global RNG
state), so a distributed run gives the numbers of the serial run.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable

from . import config

ENV_SCHEDULER = "FTLIB_SCHEDULER"
ENV_JOBQUEUE = "FTLIB_JOBQUEUE"
ENV_JOBS = "FTLIB_JOBS"
ENV_RETRIES = "FTLIB_RETRIES"

JOBQUEUE_CLUSTERS = {"slurm": "SLURMCluster", "pbs": "PBSCluster", "lsf": "LSFCluster", "sge": "SGECluster",
                     "htcondor": "HTCondorCluster", "oar": "OARCluster", "moab": "MoabCluster"}
"""``FTLIB_JOBQUEUE`` values and the dask-jobqueue cluster class each one starts."""

LOCAL_DASHBOARD = "127.0.0.1:8787"
"""Where the dashboard of a ``local:N`` cluster listens: loopback only (another port if 8787 is taken)."""

_client = None  # the Client of this process, created on first use
_cluster = None  # a cluster this process started (local:N or jobqueue), closed with the client


def configured() -> bool:
    """True when a cluster is configured (``FTLIB_SCHEDULER`` or ``FTLIB_JOBQUEUE`` set)."""
    return bool(os.environ.get(ENV_SCHEDULER, "").strip() or os.environ.get(ENV_JOBQUEUE, "").strip())


def retries() -> int:
    """How often a task that raised is retried (``FTLIB_RETRIES``, default 2)."""
    try:
        return max(0, int(os.environ.get(ENV_RETRIES, "2")))
    except ValueError:
        raise ValueError(f"{ENV_RETRIES} must be an integer, got {os.environ[ENV_RETRIES]!r}") from None


def _start_cluster(address: str | None, jobqueue: str | None):
    """(cluster or None, what to pass to ``Client``) for a scheduler address or a jobqueue kind."""
    if address and address.startswith("local"):
        from distributed import LocalCluster

        n = address.partition(":")[2] or str(os.cpu_count() or 1)
        if not n.isdigit() or int(n) < 1:
            raise ValueError(f"{ENV_SCHEDULER}={address!r}: use local:N with N ≥ 1 worker processes")
        # scheduler and dashboard on loopback only: a Dask scheduler runs whatever code a client sends it
        cluster = LocalCluster(n_workers=int(n), threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=LOCAL_DASHBOARD)
        return cluster, cluster
    if address:
        return None, address
    kind = jobqueue.strip().lower()
    if kind not in JOBQUEUE_CLUSTERS:
        raise ValueError(f"{ENV_JOBQUEUE}={jobqueue!r}: use one of {', '.join(JOBQUEUE_CLUSTERS)}")
    try:
        import dask_jobqueue
    except ImportError:
        raise ImportError(f"{ENV_JOBQUEUE} needs dask-jobqueue: pip install dask-jobqueue") from None
    # queue, cores, memory, walltime, ... come from jobqueue.<kind> of Dask's configuration files
    cluster = getattr(dask_jobqueue, JOBQUEUE_CLUSTERS[kind])()
    jobs = int(os.environ.get(ENV_JOBS, "4"))
    cluster.adapt(minimum_jobs=1, maximum_jobs=max(1, jobs))
    return cluster, cluster


def client(address: str | None = None):
    """The Dask ``Client`` work is sent to, or None (run in this process).

    ``address`` overrides ``FTLIB_SCHEDULER``. The client is created once per
    process; its dashboard link is printed then (unless ``FTLIB_QUIET``).
    """
    global _client, _cluster
    if _client is not None and _client.status in ("running", "connecting", "newly-created"):
        return _client
    address = (address or os.environ.get(ENV_SCHEDULER, "")).strip() or None
    jobqueue = os.environ.get(ENV_JOBQUEUE, "").strip() or None
    if address is None and jobqueue is None:
        return None
    from distributed import Client

    _cluster, target = _start_cluster(address, jobqueue)
    if isinstance(target, str) and not target.startswith(("tcp://", "tls://", "inproc://", "ucx://", "ws://",
                                                          "wss://")) and Path(target).is_file():
        _client = Client(scheduler_file=target)
    else:
        _client = Client(target)
    if not config.quiet():
        print(f"ftlib: Dask scheduler {_client.scheduler.address}; dashboard {_client.dashboard_link}",
              file=sys.stderr, flush=True)
    return _client


def close() -> None:
    """Close this process's client (and the cluster it started, if any)."""
    global _client, _cluster
    if _client is not None:
        _client.close()
    if _cluster is not None:
        _cluster.close()
    _client = _cluster = None


def describe(c) -> str:
    """One line about a client: scheduler, number of workers and threads, dashboard link."""
    info = c.scheduler_info()
    workers = info.get("workers", {})
    threads = sum(w.get("nthreads", 0) for w in workers.values())
    return (f"Dask scheduler {c.scheduler.address}: {len(workers)} workers, {threads} threads; "
            f"dashboard {c.dashboard_link}")


def watch(futures: list, desc: str = "tasks") -> None:
    """Wait for ``futures`` with a tqdm progress bar (none when ``FTLIB_QUIET``); errors surface at gather."""
    from distributed import as_completed, wait

    if config.quiet():
        wait(futures)
        return
    from tqdm.auto import tqdm

    with tqdm(total=len(futures), desc=desc, leave=False) as bar:
        for _ in as_completed(futures):
            bar.update(1)


def map(fn: Callable, items: Iterable, *, name: str | None = None, shared: dict[str, Any] | None = None,
        desc: str | None = None) -> list:
    """``[fn(item, **shared) for item in items]``, in this process or as one task per item on the cluster.

    Results come back in the order of ``items``. ``shared`` holds arguments
    common to every task (e.g. an evaluation set): on a cluster they are sent
    to the workers once, not once per task. ``name`` prefixes the task keys
    shown on the dashboard. ``fn`` must be importable by the workers (a
    module-level function of ftlib or of an installed package) and a function
    of its arguments only, so that the distributed run gives the serial numbers.
    """
    items = list(items)
    shared = shared or {}
    c = client()
    if c is None or not items:
        return [fn(item, **shared) for item in items]
    name = name or getattr(fn, "__name__", "task")
    token = uuid.uuid4().hex[:8]
    keys = [f"{name}-{token}-{i}" for i in range(len(items))]
    kwargs = {k: c.scatter([v], hash=False)[0] for k, v in shared.items()}
    futures = c.map(fn, items, key=keys, pure=False, retries=retries(), **kwargs)
    try:
        watch(futures, desc or name)
        return c.gather(futures)
    finally:
        for f in futures:
            f.release()
        for f in kwargs.values():
            f.release()


# ----------------------------------------------------------------------------- training families

def train_locked(cfg, store, device=None):
    """:func:`ftlib.training.train`, which fills the cache under the store's one locking rule
    (:meth:`ftlib.store.Entry.fill`): of several processes asking for the same configuration at once, one
    trains it and the others wait, then load it; a read-only cache serves what it holds. Kept as a name."""
    from .training import train

    return train(cfg, store, device)


def _train_task(cfg, cache_root: str, device_type: str):
    from .store import Store

    # the device *type* the client chose: on a worker started with CUDA_VISIBLE_DEVICES=<gpu>, "cuda" is its GPU
    trained = train_locked(cfg, Store(cache_root), device_type)
    trained.model.cpu()  # sent back to the client, which moves it to its own device
    return trained


def train_many(configs: Iterable, store=None, desc: str = "train", device=None) -> list:
    """:func:`ftlib.training.train` of every configuration, in order (a model family, a λ grid, seeds), on
    ``device`` (:func:`ftlib.device.resolve`, resolved here, in the client).

    Serially in this process when no cluster is configured (the same calls as
    a loop); otherwise one task per configuration on the workers, which train
    it or load it from the cache (shared with this process; a configuration
    already being trained elsewhere is waited for, not trained twice). A worker trains on the client's device
    type (``cuda`` on a worker pinned to one GPU by ``CUDA_VISIBLE_DEVICES`` is that GPU), so its model is the
    cache entry the client would have made. Returns the :class:`~ftlib.training.Trained` models in the order
    of ``configs``, on the client's device.
    """
    from . import device as _device
    from .store import Store

    dev = _device.resolve(device)
    store = store or Store()
    configs = list(configs)
    if client() is None:
        return [train_locked(cfg, store, dev) for cfg in configs]
    out = map(_train_task, configs, name=desc, shared={"cache_root": str(store.root), "device_type": dev.type},
              desc=desc)
    for trained in out:
        trained.model.to(dev)
    return out
