"""Thin notebooks: the code cells of the migrated chapters hold calls, not computations.

A code cell (the parameters cell aside) may not hold a loop (``for``, ``while``, comprehensions), a rule
(``if``, comparisons, boolean operators, ``lambda``, ``def``), a non-trivial number (anything but the integers
0–4, e.g. the digits of a ``.round(2)``: paper numbers come from :mod:`ftlib.reference`, settings from the
parameters) or a verdict row written inline (``report.numeric / qualitative / check / not_runnable /
finding``: each section's rules live in its ``compare``, in ``ftlib/experiments/<paper>/<name>.py``).

The chapters checked are listed in :data:`MIGRATED`: all of them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MIGRATED = ("adversarial_ft", "beyond", "computation_failures", "continuous_limit", "fault_models", "snn_patterns")
"""The chapters whose notebooks are thin (one module per notebook in ftlib/experiments/<paper>/)."""
INLINE_VERDICTS = {"numeric", "qualitative", "check", "not_runnable", "finding"}
MAX_CALLS = 40
"""More calls than this in one notebook means work is done in the notebook (the thin ones make 16–30 calls,
6–15 of them into the section's module, figures, tables and the report included)."""


def code_cells(text: str) -> list[str]:
    """The code cells of a jupytext percent notebook, without the ``parameters`` cell."""
    cells = []
    for chunk in text.split("\n# %%")[1:]:
        header, _, body = chunk.partition("\n")
        if "[markdown]" in header or "parameters" in header:
            continue
        cells.append(body)
    return cells


def violations(source: str) -> list[str]:
    """What makes one code cell thick (empty when it is thin)."""
    out = []
    for node in ast.walk(ast.parse(source)):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp,
                             ast.GeneratorExp)):
            out.append(f"{where}: a loop ({type(node).__name__})")
        elif isinstance(node, (ast.If, ast.IfExp, ast.Compare, ast.BoolOp, ast.Lambda, ast.FunctionDef)):
            out.append(f"{where}: a rule ({type(node).__name__})")
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float, complex)) \
                and not isinstance(node.value, bool) and not (isinstance(node.value, int) and 0 <= node.value <= 4):
            out.append(f"{where}: the number {node.value!r}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "report" \
                and node.func.attr in INLINE_VERDICTS:
            out.append(f"{where}: an inline verdict (report.{node.func.attr})")
    return out


NOTEBOOKS = sorted(p for c in MIGRATED for p in (ROOT / "notebooks" / c).glob("*.py"))


def test_every_migrated_chapter_has_notebooks():
    assert {p.parent.name for p in NOTEBOOKS} == set(MIGRATED)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_notebook_code_cells_are_thin(nb):
    cells = code_cells(nb.read_text())
    found = [f"cell {i}: {v}" for i, c in enumerate(cells) for v in violations(c)]
    assert not found, "\n".join(found)
    calls = sum(isinstance(n, ast.Call) for c in cells for n in ast.walk(ast.parse(c)))
    assert calls <= MAX_CALLS, f"{calls} calls"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_notebook_has_one_compare_from_its_own_module(nb):
    """The verdicts come from one ``compare`` of the notebook's own module (the primer has no checklist id,
    hence no verdict)."""
    text = nb.read_text()
    module = f"ftlib.experiments.{nb.parent.name} import "
    assert module in text and f" {nb.stem} as sec" in text, "imports its module as sec"
    n = sum(c.count("sec.compare(") for c in code_cells(text))
    assert n == (0 if nb.parent.name == "fault_models" else 1)


@pytest.mark.parametrize("source, what", [
    ("for arch in archs:\n    report.figure(f(arch), arch, 'x')", "a loop"),
    ("x = [r for r in rows]", "a loop"),
    ("ok = rho < 0", "a rule"),
    ("report.numeric('AFT-T1', 'claim', 97.2, ours, 2.0)", "the number 97.2"),
    ("report.check('AFT-A1:algorithm', 'Algorithm 1', text)", "an inline verdict"),
    ("table.mul(100)", "the number 100"),
    ("f = lambda r: r", "a rule"),
])
def test_the_check_finds_thick_cells(source, what):
    """The rules above can fail: each kind of thick cell is found."""
    assert any(what in v for v in violations(source)), violations(source)


def test_the_check_passes_a_thin_cell():
    assert violations("sweeps = sec.figure7_sweeps(cfg, table, models)\n"
                      "report.figure(sec.plot_figure7(sweeps), 'figure7', 'caption')\nsweeps.round(2)") == []
