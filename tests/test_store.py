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
