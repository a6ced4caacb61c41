"""The experiments behind the book's notebooks, and the registry of the book's sections.

``ftlib/experiments/<paper>/<name>.py`` mirrors ``notebooks/<paper>/<name>.py``:
one module per notebook, declaring that notebook's :class:`~ftlib.params.Section`
as ``SECTION``, holding its computations (tidy tables from resolved settings,
trained or loaded from the cache), its ``plot_*`` functions and one
``compare(report, ...)`` with its verdict rules. Configuration shared by the
sections of one paper lives in ``<paper>/_config.py``; helpers shared by several
papers in :mod:`ftlib.experiments.common`.

The registry (:func:`registry`, :func:`get`, :func:`resolve`) discovers the
sections by importing every module of this package the first time it is asked,
not when this package is imported: an experiment module can therefore be
imported first, in any order, and nothing below this package (``ftlib.params``,
``ftlib.report``, ...) imports it. Notebooks reach it through
:func:`ftlib.sections.validate_notebook`.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Mapping

from ..errors import ParameterError
from ..params import Section, Settings

_REGISTRY: dict[str, Section] | None = None


def _section_modules() -> list[str]:
    """Every module of this package that may declare sections (not ``_private`` ones, not ``common``)."""
    names = []
    for info in pkgutil.walk_packages(__path__, f"{__name__}."):
        tail = info.name.rsplit(".", 1)[1]
        if info.ispkg or tail.startswith("_") or tail == "common":
            continue
        names.append(info.name)
    return sorted(names)


def _discover() -> dict[str, Section]:
    found: dict[str, Section] = {}
    for name in _section_modules():
        module = importlib.import_module(name)
        section = getattr(module, "SECTION", None)
        if section is None:
            continue  # a helper module of a chapter (e.g. shared tables), not a notebook's
        if section.key in found and found[section.key] is not section:
            raise RuntimeError(f"section {section.key} defined twice (the second time in {name})")
        found[section.key] = section
    return found


def registry() -> dict[str, Section]:
    """Every section of the book by key ``"<paper>/<name>"`` (discovered once, on the first call)."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _discover()
    return _REGISTRY


def get(key: str) -> Section:
    """The section registered under ``key`` (``"<paper>/<notebook name>"``)."""
    sections = registry()
    try:
        return sections[key]
    except KeyError:
        raise ParameterError(f"unknown section '{key}'; known: {', '.join(sorted(sections))}") from None


def resolve(key: str, given: Mapping[str, Any]) -> Settings:
    """Validate ``given`` parameters of section ``key`` and fill ``None`` from the profile
    (:meth:`ftlib.params.Section.resolve`); the settings carry their section."""
    return get(key).resolve(given)
