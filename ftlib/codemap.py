"""Which ftlib source a computation depends on, read from its imports: one rule for cache salts and code maps.

A trained model's cache salt (:func:`ftlib.store.code_salt`) and a result record's code map
(:func:`ftlib.report.code_files`, which marks archived results stale) both need "the ftlib files this
computation can run". Both follow the same rule here: start from a module (a trainer such as
``ftlib/training.py``, or a notebook), read its ``import`` statements from the source text (the AST, so
imports inside functions count too), resolve those that name ftlib modules, absolute
(``from ftlib.faults import inject``) or relative (``from .faults import inject``), and repeat on each
file found. Importing a package means its ``__init__.py`` and, through that file's own imports, the
modules it re-exports.

The walk stops at the modules that cannot change a computed number, listed once in
:data:`NO_NUMBERS` (presentation, the registry, configuration, errors, the cache layer itself).
:data:`VERDICT_MODULES` (the verdict rules and the paper's numbers) cannot change a trained model
either, so salts leave them out; a code map keeps them, because they change a verdict.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent
"""The ftlib package directory."""

NO_NUMBERS = frozenset({"report.py", "scoreboard.py", "build.py", "archive.py", "not_run.py", "costs.py",
                        "style.py", "params.py", "sections.py", "config.py", "errors.py", "notebook.py",
                        "__main__.py", "distributed.py", "store.py", "codemap.py", "device.py",
                        "plan.py"})
"""Top-level ftlib modules whose edits change no number and no verdict: presentation (report, scoreboard,
style, the notebook helpers), the build and its archive, the parameters and the registry, configuration and
errors, the cache layer (``store.py``: a change to how entries are keyed changes the keys themselves), the
distribution layer, this module, the build's cost plan (:mod:`ftlib.plan`), and the device choice
(:mod:`ftlib.device`: the device a model was trained on is part of its cache key, not of its code)."""

VERDICT_MODULES = frozenset({"claims.py", "reference.py"})
"""The verdict rules and the paper's numbers: in a section's code map (they decide its verdicts), never in a
trained model's salt (they change no trained weight)."""


def _resolve(dotted: list[str], root: Path) -> list[Path]:
    base = root.joinpath(*dotted)
    if base.with_suffix(".py").is_file():
        return [base.with_suffix(".py")]
    if (base / "__init__.py").is_file():
        return [base / "__init__.py"]
    return []


def _imported(node: ast.AST, here: tuple[str, ...] | None, root: Path) -> list[Path]:
    """The ftlib files one import statement runs code from: ``import ftlib.a.b`` → ``a/b``; for
    ``from m import x``, the submodule ``m/x`` where ``x`` is one, else ``m`` itself (``x`` is a name
    of ``m``'s namespace)."""
    if isinstance(node, ast.Import):
        return [f for a in node.names if a.name.split(".")[0] == "ftlib"
                for f in _resolve(a.name.split(".")[1:], root)]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level == 0 and node.module and node.module.split(".")[0] == "ftlib":
        mod = node.module.split(".")[1:]
    elif node.level > 0 and here is not None:
        up = list(here[:len(here) - (node.level - 1)]) if node.level > 1 else list(here)
        mod = up + (node.module.split(".") if node.module else [])
    else:
        return []
    found: list[Path] = []
    for alias in node.names:
        sub = _resolve(mod + [alias.name], root)
        found += sub if sub else _resolve(mod, root)
    return found


def _discovered(tree: ast.AST, path: Path) -> list[Path]:
    """The modules a package ``__init__.py`` imports by discovery (``pkgutil.iter_modules(__path__)``: every
    module beside it; ``pkgutil.walk_packages``: every module below it), which no import statement names."""
    calls = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
    if path.name != "__init__.py" or not calls & {"iter_modules", "walk_packages"}:
        return []
    found = path.parent.rglob("*.py") if "walk_packages" in calls else path.parent.glob("*.py")
    return sorted(p for p in found if p != path and "__pycache__" not in p.parts)


def imported_files(source: Path, root: Path | None = None, stop: frozenset[str] = NO_NUMBERS) -> set[Path]:
    """The ftlib files ``source`` (a module or a jupytext notebook) imports, transitively, not counting
    ``source`` itself unless it is imported back, and stopping at the top-level modules named in ``stop``
    and at the section registry (``experiments/__init__.py``). Importing a submodule
    (``from .faults.apply import inject``) counts that file, not its package's ``__init__.py``; a package
    that discovers its modules (``pkgutil.iter_modules``, the model registry) counts all of them."""
    root = ROOT if root is None else root
    seen: set[Path] = set()
    todo = [Path(source)]
    while todo:
        path = todo.pop()
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        resolved = path.resolve()
        here = resolved.relative_to(root).parts[:-1] if resolved.is_relative_to(root) else None
        candidates = [found for node in ast.walk(tree) for found in _imported(node, here, root)]
        candidates += _discovered(tree, resolved)
        for found in candidates:
            if (found.parent == root and found.name in stop) or \
                    (found.name == "__init__.py" and "experiments" in found.relative_to(root).parts):
                continue
            if found not in seen:
                seen.add(found)
                todo.append(found)
    return seen


@lru_cache(maxsize=None)
def salt_parts(*modules: str) -> tuple[str, ...]:
    """The cache-salt parts of a computation that runs code of the ftlib ``modules`` (dotted names below
    ``ftlib``: ``"training"``, ``"training_snn"``, ``"faults.sweep"``, or a package such as ``"theory"``,
    meaning its ``__init__.py`` and what that imports): each module's own file and every ftlib file they
    import, transitively, except the modules that change no number (:data:`NO_NUMBERS`), the verdict
    modules (:data:`VERDICT_MODULES`) and the package's top-level ``__init__.py`` (re-exports only). Paths
    relative to the package, sorted (the form :func:`ftlib.store.code_salt` takes)."""
    files: set[Path] = set()
    for module in modules:
        found = _resolve(module.split("."), ROOT)
        if not found:
            raise ValueError(f"salt_parts: ftlib has no module {module!r}")
        files |= imported_files(found[0], ROOT, NO_NUMBERS | VERDICT_MODULES) | {found[0]}
    files.discard(ROOT / "__init__.py")
    return tuple(sorted(str(p.relative_to(ROOT)) for p in files))
