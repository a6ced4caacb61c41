"""The one rule behind cache salts and code maps: what a computation imports (:mod:`ftlib.codemap`)."""

from __future__ import annotations

import textwrap

import pytest

from ftlib import codemap
from ftlib.adversarial import ADVERSARIAL_CODE
from ftlib.experiments.common import SWEEP_CODE
from ftlib.training import TRAINING_CODE
from ftlib.training_snn import SNN_CODE


def test_each_trainer_is_salted_with_what_it_runs_and_nothing_that_changes_no_weight():
    """The supervised loop runs the skeleton, the data, every model (the registry discovers them), the
    injection it trains through and the regularizers with the part of theory they read; not the sweep, the
    statistics, the verdicts, the paper's numbers or the cache layer."""
    must = {"training.py", "loop.py", "data.py", "regularizers.py", "theory/network.py", "faults/apply.py",
            "faults/catalog.py", "models/__init__.py", "models/computation_failures.py", "models/continuous_limit.py"}
    assert must <= set(TRAINING_CODE)
    never = {"stats.py", "claims.py", "reference.py", "store.py", "report.py", "faults/sweep.py", "__init__.py",
             "device.py", "codemap.py"}
    for code in (TRAINING_CODE, SNN_CODE, ADVERSARIAL_CODE):
        assert not never & set(code), never & set(code)
    assert {"training_snn.py", "loop.py", "models/snn_patterns.py", "faults/spiking.py"} <= set(SNN_CODE)
    assert "training.py" not in SNN_CODE  # editing the supervised loop retrains no spiking model
    assert set(TRAINING_CODE) | {"adversarial.py"} <= set(ADVERSARIAL_CODE)
    assert {"faults/sweep.py", "faults/campaign.py", "stats.py"} <= set(SWEEP_CODE)  # a sweep runs those


def _package(tmp_path, files: dict[str, str]):
    root = tmp_path / "ftlib"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


def test_the_walk_follows_lazy_relative_absolute_and_discovered_imports(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "trainer.py": "from . import data\nfrom .pkg.leaf import f\n\ndef fit():\n    from .lazy import g\n",
        "data.py": "import ftlib.absolute\n",
        "absolute.py": "",
        "lazy.py": "",
        "pkg/__init__.py": "from .heavy import h\n",
        "pkg/heavy.py": "",
        "pkg/leaf.py": "",
        "zoo/__init__.py": "import pkgutil\nfor m in pkgutil.iter_modules(__path__):\n    pass\n",
        "zoo/a.py": "", "zoo/b.py": "",
        "user.py": "from .zoo import build\nfrom .report import show\n",
        "report.py": "from .secret import x\n", "secret.py": "",
    })
    rel = lambda files: {str(p.relative_to(root)) for p in files}  # noqa: E731
    assert rel(codemap.imported_files(root / "trainer.py", root)) == {"data.py", "absolute.py", "lazy.py",
                                                                       "pkg/leaf.py"}
    # a submodule import counts that file, not the package's __init__ (whose re-exports the trainer never runs)
    assert "pkg/heavy.py" not in rel(codemap.imported_files(root / "trainer.py", root))
    # a registry that discovers its modules imports all of them; the walk stops at a module that changes no number
    assert rel(codemap.imported_files(root / "user.py", root)) == {"zoo/__init__.py", "zoo/a.py", "zoo/b.py"}


def test_a_salt_moves_with_every_file_it_names_and_only_with_those(tmp_path, monkeypatch):
    from ftlib import store

    root = _package(tmp_path, {"__init__.py": "", "trainer.py": "def fit():\n    from .helper import h\n",
                               "helper.py": "h = 1\n", "other.py": "o = 1\n"})
    monkeypatch.setattr(codemap, "ROOT", root)
    monkeypatch.setattr(store, "__file__", str(root / "store.py"))
    codemap.salt_parts.cache_clear()
    store.code_salt.cache_clear()
    try:
        parts = codemap.salt_parts("trainer")
        assert parts == ("helper.py", "trainer.py")
        before = store.code_salt(parts)
        (root / "other.py").write_text("o = 2\n")
        store.code_salt.cache_clear()
        assert store.code_salt(parts) == before
        (root / "helper.py").write_text("h = 2\n")  # imported only inside a function: still the salt's
        store.code_salt.cache_clear()
        assert store.code_salt(parts) != before
        with pytest.raises(ValueError, match="no module"):
            codemap.salt_parts("missing")
    finally:
        codemap.salt_parts.cache_clear()
        store.code_salt.cache_clear()
