"""The package's layers: nothing below ``ftlib.experiments`` imports it; the report layer is light; the section
registry works whatever is imported first.

Layers, bottom up: everything in ``ftlib/`` outside ``ftlib/experiments/`` (params with ``Section``, report,
store, training, faults, ...) < ``ftlib.experiments`` (one module per notebook, and the registry in its
``__init__``) < ``ftlib.sections`` (the notebooks' entry point) and the book's tools that look sections up
(``ftlib.build``, ``ftlib.scoreboard``, the results archive ``ftlib.archive``, ``ftlib.not_run`` and the cost
probes ``ftlib.costs``): :data:`ABOVE`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "ftlib"
ABOVE = {"ftlib.sections", "ftlib.build", "ftlib.scoreboard", "ftlib.archive", "ftlib.not_run", "ftlib.costs",
         "ftlib.plan"}
"""Modules that sit above the experiments (they may import them; nothing of ftlib imports them)."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module an ftlib source file imports, at any depth of the file (function-level imports too), as
    absolute names: ``from . import x`` in ``ftlib/a.py`` gives ``ftlib.x`` (and ``ftlib``)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            out += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
    return out


def upward_imports(files) -> list[str]:
    """``file:line imports module`` for every import of ``ftlib.experiments`` (or of a module in
    :data:`ABOVE`) from a file outside ``ftlib/experiments`` and not itself in :data:`ABOVE`; and every import
    of a module in :data:`ABOVE` from inside ``ftlib/experiments``."""
    bad = []
    for path in files:
        name = module_name(path)
        if name in ABOVE:
            continue
        inside = name == "ftlib.experiments" or name.startswith("ftlib.experiments.")
        for line, mod in imported_modules(path):
            up = mod in ABOVE or any(mod.startswith(a + ".") for a in ABOVE)
            if not inside:
                up = up or mod == "ftlib.experiments" or mod.startswith("ftlib.experiments.")
            if up:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod}")
    return bad


def test_no_import_runs_back_up_to_the_experiments():
    files = sorted(PKG.rglob("*.py"))
    assert len(files) > 50
    assert upward_imports(files) == []


def test_the_layering_check_finds_an_upward_import(tmp_path, monkeypatch):
    """The check above can fail: a lower module importing the registry (as ``ftlib/sections.py`` used to be
    imported by ``report.py``) is reported, at module level or inside a function."""
    fake_root = tmp_path
    (fake_root / "ftlib" / "experiments").mkdir(parents=True)
    low = fake_root / "ftlib" / "report.py"
    low.write_text("from . import config\n\ndef f():\n    from .experiments import beyond\n")
    exp = fake_root / "ftlib" / "experiments" / "x.py"
    exp.write_text("from ..sections import get\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake_root)
    bad = upward_imports([low, exp])
    assert bad == ["ftlib/report.py:4 imports ftlib.experiments", "ftlib/report.py:4 imports ftlib.experiments.beyond",
                   "ftlib/experiments/x.py:1 imports ftlib.sections", "ftlib/experiments/x.py:1 imports ftlib.sections.get"]


def _run(code: str) -> str:
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout


def test_importing_the_report_layer_loads_no_experiment_and_no_torch():
    out = _run("import sys, ftlib.report, ftlib.params\n"
               "heavy = sorted(m for m in sys.modules if m.startswith('ftlib.experiments') or m.split('.')[0] in "
               "('torch', 'torchvision', 'pandas', 'matplotlib'))\n"
               "print(heavy)")
    assert out.strip() == "[]"


SECTION_MODULES = [
    "ftlib.experiments.beyond.spiking",  # imports adversarial_ft's and snn_patterns' modules
    "ftlib.experiments.adversarial_ft.faults",  # imports a sibling section (adversarial_framework)
    "ftlib.experiments.snn_patterns.authors_models",  # imports its chapter's shared _config and _table4
]
"""Experiment modules imported first, each in a fresh interpreter (one start of torch each: a few chosen for
their cross imports, not all of them)."""


@pytest.mark.parametrize("module", SECTION_MODULES)
def test_an_experiment_module_imported_first_leaves_the_registry_whole(module):
    """The former trap: importing an experiment module before ``ftlib.sections`` was a circular import (or a
    registry missing that module's sections). Now any order works: the module imports nothing of the
    registry, and the registry, asked afterwards, has every notebook's section."""
    out = _run(f"import {module} as m\n"
               "from ftlib import sections\n"
               "from pathlib import Path\n"
               "keys = sorted(f'{p.parent.name}/{p.stem}' for p in Path('notebooks').glob('*/*.py'))\n"
               "assert sorted(sections.SECTIONS) == keys, sorted(set(keys) ^ set(sections.SECTIONS))\n"
               "assert sections.get(m.SECTION.key) is m.SECTION\n"
               "print(len(keys))")
    assert int(out) >= 20


def test_a_section_module_declares_its_notebook():
    """``ftlib/experiments/<paper>/<name>.py`` declares ``SECTION`` with key ``<paper>/<name>``, for every
    notebook of the chapters that have one module per notebook."""
    from ftlib import experiments

    for path in sorted(PKG.glob("experiments/*/*.py")):
        if path.name.startswith("_"):
            continue
        mod = __import__(module_name(path), fromlist=["SECTION"])
        assert mod.SECTION.key == f"{path.parent.name}/{path.stem}", path
        assert (ROOT / "notebooks" / path.parent.name / path.name).exists(), path
        assert experiments.get(mod.SECTION.key) is mod.SECTION


def test_the_report_takes_its_section_from_the_settings():
    """``Report`` needs no registry: the settings that ``resolve`` made carry their section; settings made by
    hand, or the settings of another section, are refused with a message saying what to do."""
    from ftlib import report, sections
    from ftlib.errors import FtlibError
    from ftlib.params import Settings

    s = sections.resolve("fault_models/primer", {"profile": "smoke", "seed": 0})
    rep = report.Report("fault_models/primer", s)
    assert rep.section is s.section is sections.get("fault_models/primer")
    with pytest.raises(FtlibError, match="carry no section"):
        report.Report("fault_models/primer", Settings(dict(s.values)))
    with pytest.raises(FtlibError, match="settings of section 'fault_models/primer'"):
        report.Report("beyond/theory", s)
