"""The cache: keys, config checks, atomic writes, corrupt entries, resume of training."""

import json
from pathlib import Path

import pytest
import torch

from ftlib.errors import CacheCorruptError
from ftlib.store import Store, canonical_json, code_salt


def test_key_depends_on_every_field_and_not_on_order(tmp_cache):
    s = Store()
    a = s.entry("train", {"lr": 1e-3, "epochs": 2})
    b = s.entry("train", {"epochs": 2, "lr": 1e-3})
    assert a.key == b.key
    assert s.entry("train", {"lr": 1e-3, "epochs": 3}).key != a.key
    assert s.entry("train", {"lr": 1.0000001e-3, "epochs": 2}).key != a.key
    assert s.entry("eval", {"lr": 1e-3, "epochs": 2}).key != a.key


def test_canonical_floats_exact():
    assert canonical_json({"a": 0.1}) != canonical_json({"a": 0.1 + 1e-17 * 100})
    with pytest.raises(TypeError):
        canonical_json({"a": object()})


def test_result_roundtrip_and_compute_once(tmp_cache):
    s = Store()
    calls = []
    f = lambda: calls.append(1) or {"v": 1.5}
    assert s.cached_result("r", {"x": 1}, f) == {"v": 1.5}
    assert s.cached_result("r", {"x": 1}, f) == {"v": 1.5}
    assert s.cached_result("r", {"x": 2}, f) == {"v": 1.5}
    assert len(calls) == 2


def test_entry_for_other_config_is_never_served(tmp_cache):
    s = Store()
    e = s.entry("r", {"x": 1})
    e.save_result({"v": 1})
    # simulate a hash collision: the directory of x=1 is reached by a different config
    other = s.entry("r", {"x": 2})
    other.path = e.path
    with pytest.raises(CacheCorruptError, match="does not match"):
        other.load_result()


def test_corrupt_result_and_model_give_actionable_error(tmp_cache):
    s = Store()
    e = s.entry("r", {"x": 1})
    e.save_result({"v": 1})
    (e.path / "result.json").write_text("{not json")
    with pytest.raises(CacheCorruptError, match="rm -r"):
        e.load_result()
    e.save_state({"w": torch.ones(3)})
    (e.path / "model.pt").write_bytes(b"garbage")
    with pytest.raises(CacheCorruptError, match="model.pt"):
        e.load_state()


def test_weights_only_refuses_pickled_objects(tmp_cache):
    s = Store()
    e = s.entry("r", {"x": 1})
    e.save_result({"v": 1})
    torch.save({"f": print}, e.path / "model.pt")  # an arbitrary object, not tensors
    with pytest.raises(CacheCorruptError):
        e.load_state()


def test_no_temporary_files_left(tmp_cache):
    s = Store()
    e = s.entry("r", {"x": 1})
    e.save_result({"v": 1})
    e.save_state({"w": torch.zeros(2)})
    assert sorted(p.name for p in e.path.iterdir()) == ["config.json", "model.pt", "result.json"]
    assert json.loads((e.path / "config.json").read_text())["code"] == code_salt()


def test_clear(tmp_cache):
    s = Store()
    s.entry("a", {"x": 1}).save_result(1)
    s.entry("b", {"x": 1}).save_result(1)
    assert s.clear("a") == 1
    assert s.entry("a", {"x": 1}).load_result() is None
    assert s.entry("b", {"x": 1}).load_result() == 1
    assert s.clear() == 1


def test_code_salt_by_parts(tmp_cache):
    from ftlib.training import TRAINING_CODE

    assert code_salt(TRAINING_CODE) != code_salt(("faults",)) != code_salt()
    s = Store()
    assert s.entry("r", {"x": 1}, TRAINING_CODE).key != s.entry("r", {"x": 1}).key
    with pytest.raises(ValueError, match="no 'nope.py'"):
        code_salt(("nope.py",))


def test_salt_follows_the_source(tmp_path, monkeypatch):
    """Editing a module a value depends on changes its salt; editing another does not."""
    import shutil

    import ftlib.store as store_mod

    pkg = tmp_path / "ftlib"
    shutil.copytree(Path(store_mod.__file__).parent, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(store_mod, "__file__", str(pkg / "store.py"))
    store_mod.code_salt.cache_clear()
    before = code_salt(("training.py",)), code_salt(("faults",))
    (pkg / "faults" / "__init__.py").write_text((pkg / "faults" / "__init__.py").read_text() + "\n# edit\n")
    store_mod.code_salt.cache_clear()
    after = code_salt(("training.py",)), code_salt(("faults",))
    store_mod.code_salt.cache_clear()
    assert before[0] == after[0] and before[1] != after[1]


# ---- one locking rule, integrity, read-only caches (issue 20) ---------------------------------------------

import errno
import multiprocessing
import os

from ftlib.errors import CacheReadOnlyError

from .conftest import require_data


def _tiny_configs():
    from ftlib.adversarial import AdversarialConfig
    from ftlib.training import TrainConfig
    from ftlib.training_snn import SNNTrainConfig

    return (TrainConfig(arch="cf_mlp", dataset="mnist", epochs=2, n_train=200, seed=0, optimizer="adadelta", lr=1.0,
                        arch_kwargs={"layers": 1, "neurons": 8}),
            SNNTrainConfig(method="baseline", epochs=1, n_train=64, seed=0, arch_kwargs={"num_steps": 3}),
            AdversarialConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, batch_size=64, n_train=128,
                              arch_kwargs={"hidden": (16, 16, 16)}, log_every=2, seed=1))


def _fill_all(root: str, log: str, barrier=None) -> dict:
    """Every cache-filling family once, as a smoke chapter would: which of them this process computed."""
    import time

    import torch

    from ftlib.adversarial import pretrain
    from ftlib.training import train
    from ftlib.training_snn import train_snn

    torch.set_num_threads(1)
    store = Store(root)
    cfg, snn, adv = _tiny_configs()

    def sweep():  # a Monte Carlo result: slow enough that the processes overlap
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\n")
        time.sleep(0.5)
        return {"accuracy": [0.5, 0.25]}

    out = {}
    for name, fn in (("train", lambda: not train(cfg, store).from_cache),
                     ("train_snn", lambda: not train_snn(snn, store).from_cache),
                     ("adversarial", lambda: not pretrain(adv, store).from_cache),
                     ("sweep", lambda: store.cached_result("sweep", {"n": 1}, sweep))):
        if barrier is not None:
            barrier.wait()
        out[name] = fn()
    return out


def test_concurrent_processes_compute_each_entry_exactly_once(tmp_path):
    """Three processes fill one cache at once: each entry (supervised, spiking, adversarial, sweep) once."""
    require_data("mnist")
    require_data("fashion_mnist")
    ctx = multiprocessing.get_context("spawn")
    n = 3
    root, log = tmp_path / "cache", tmp_path / "computed.log"
    with ctx.Manager() as manager, ctx.Pool(n) as pool:
        barrier = manager.Barrier(n)
        results = pool.starmap(_fill_all, [(str(root), str(log), barrier)] * n)
    for kind in ("train", "train_snn", "adversarial"):
        assert sum(r[kind] for r in results) == 1, f"{kind}: {[r[kind] for r in results]} processes trained it"
    assert log.read_text().count("\n") == 1, "the sweep was computed once, the others loaded it"
    assert all(r["sweep"] == {"accuracy": [0.5, 0.25]} for r in results)
    assert not list(root.rglob("checkpoint.pt")) and not list(root.rglob("*.tmp"))


def _read_only(monkeypatch):
    """Make the cache behave like a directory this user cannot write (a team's shared read-only copy)."""
    import ftlib.store as store_mod

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    for name in ("_open_lock", "atomic_write_bytes", "atomic_torch_save"):
        monkeypatch.setattr(store_mod, name, refuse)


def test_read_only_complete_cache_serves_every_entry(tmp_cache, tmp_path, monkeypatch):
    require_data("mnist")
    require_data("fashion_mnist")
    first = _fill_all(str(tmp_cache), str(tmp_path / "log"))
    assert first == {"train": True, "train_snn": True, "adversarial": True, "sweep": {"accuracy": [0.5, 0.25]}}
    _read_only(monkeypatch)
    if os.geteuid() != 0:  # a real read-only directory too where permissions bind this user
        for p in [tmp_cache, *tmp_cache.rglob("*")]:
            p.chmod(p.stat().st_mode & ~0o222)
    try:
        again = _fill_all(str(tmp_cache), str(tmp_path / "log"))
        assert again == {"train": False, "train_snn": False, "adversarial": False,
                         "sweep": {"accuracy": [0.5, 0.25]}}
        from ftlib.distributed import train_many

        assert train_many([_tiny_configs()[0]], Store(tmp_cache))[0].from_cache
        with pytest.raises(CacheReadOnlyError, match="read-only.*FTLIB_CACHE_DIR"):
            Store(tmp_cache).cached_result("sweep", {"n": 2}, lambda: {"accuracy": [1.0]})
    finally:
        for p in [tmp_cache, *tmp_cache.rglob("*")]:
            p.chmod(p.stat().st_mode | 0o200)
    assert (tmp_path / "log").read_text().count("\n") == 1


def test_truncated_model_is_moved_aside_and_retrained(tmp_cache, capfd):
    require_data("mnist")
    from ftlib.training import train

    cfg = _tiny_configs()[0]
    first = train(cfg)
    entry = Store().entry("train", __import__("ftlib.training", fromlist=["cache_key"]).cache_key(cfg),
                          __import__("ftlib.training", fromlist=["TRAINING_CODE"]).TRAINING_CODE)
    assert (entry.path / "manifest.json").exists()
    blob = (entry.path / "model.pt").read_bytes()
    (entry.path / "model.pt").write_bytes(blob[: len(blob) // 2])
    capfd.readouterr()
    again = train(cfg)
    err = capfd.readouterr().err
    assert not again.from_cache and again.train_acc == first.train_acc
    assert all(torch.equal(a, b) for a, b in zip(first.model.state_dict().values(), again.model.state_dict().values()))
    aside = list(entry.path.parent.glob(f"{entry.key}.corrupt-*"))
    assert len(aside) == 1 and (aside[0] / "model.pt").read_bytes() == blob[: len(blob) // 2]
    lines = [ln for ln in err.splitlines() if "ftlib.store" in ln]
    assert len(lines) == 1 and "model.pt" in lines[0] and str(aside[0]) in lines[0]
    assert "weights_only" not in err
    assert train(cfg).from_cache


def test_edited_result_is_detected_moved_aside_and_recomputed(tmp_cache, capfd):
    """A result.json edited to other *valid* numbers (99.90 instead of 10.00) is never served."""
    s = Store()
    calls = []
    compute = lambda: calls.append(1) or {"accuracy": 10.0}
    assert s.cached_result("eval", {"x": 1}, compute) == {"accuracy": 10.0}
    e = s.entry("eval", {"x": 1})
    (e.path / "result.json").write_text(json.dumps({"accuracy": 99.9}))
    capfd.readouterr()
    assert s.cached_result("eval", {"x": 1}, compute) == {"accuracy": 10.0}
    assert len(calls) == 2
    err = capfd.readouterr().err
    assert err.count("ftlib.store:") == 1 and "result.json does not match" in err and "moved it aside" in err
    aside = list(e.path.parent.glob(f"{e.key}.corrupt-*"))
    assert len(aside) == 1 and json.loads((aside[0] / "result.json").read_text()) == {"accuracy": 99.9}
    # truncated (not JSON any more): the same
    (e.path / "result.json").write_text('{"accur')
    assert s.cached_result("eval", {"x": 1}, compute) == {"accuracy": 10.0} and len(calls) == 3
    assert len(list(e.path.parent.glob(f"{e.key}.corrupt-*"))) == 2


def test_damaged_checkpoint_restarts_training_without_weights_only_advice(tmp_cache, capfd):
    s = Store()
    e = s.entry("train", {"x": 1})
    e.save_checkpoint({"epoch": 1, "w": torch.ones(2)})
    torch.save({"f": print}, e.path / "checkpoint.pt")  # not tensors-only: torch suggests weights_only=False
    assert e.load_checkpoint() is None
    err = capfd.readouterr().err
    assert "checkpoint.pt" in err and "from the start" in err
    assert "weights_only" not in err and "Weights only" not in err and "trust the source" not in err
    assert not (e.path / "checkpoint.pt").exists() and list(e.path.glob("checkpoint.pt.corrupt-*"))


def test_cache_files_are_group_readable_whatever_the_umask(tmp_cache):
    old = os.umask(0o077)
    try:
        s = Store()
        e = s.entry("r", {"x": 1})
        s.cached_result("r", {"x": 1}, lambda: 1)
        e.save_state({"w": torch.ones(1)})
        e.save_checkpoint({"w": torch.ones(1)})
    finally:
        os.umask(old)
    for name in ("config.json", "result.json", "model.pt", "checkpoint.pt", "manifest.json"):
        assert (e.path / name).stat().st_mode & 0o040, name
    for d in (e.path, e.path.parent, e.path.parent.parent):
        assert d.stat().st_mode & 0o050 == 0o050, d


def test_trace_logs_one_line_per_computed_entry(tmp_path, monkeypatch):
    """``FTLIB_TRACE`` records what was computed and how long it took; a cache hit adds no line."""
    import json

    trace = tmp_path / "trace.jsonl"
    monkeypatch.setenv("FTLIB_TRACE", str(trace))
    s = Store(tmp_path / "cache")
    assert s.cached_result("demo", {"x": 1}, lambda: {"v": 1}) == {"v": 1}
    assert s.cached_result("demo", {"x": 1}, lambda: {"v": 2}) == {"v": 1}
    lines = [json.loads(l) for l in trace.read_text().splitlines()]
    assert len(lines) == 1 and lines[0]["kind"] == "demo" and lines[0]["seconds"] >= 0
