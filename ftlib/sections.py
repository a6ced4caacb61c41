"""The notebooks' entry point to the section registry: ``cfg = sections.validate_notebook(KEY, globals())``.

A section (:class:`ftlib.params.Section`) is one notebook of the book,
declared as ``SECTION`` of its module ``ftlib.experiments.<paper>.<name>``; the
registry is :mod:`ftlib.experiments`. This module sits *above* the experiments
(it is what a notebook imports first) and re-exports the registry's
:func:`~ftlib.experiments.get`, :func:`~ftlib.experiments.resolve` and
``SECTIONS`` (every section by key); nothing of ftlib imports it.
"""

from __future__ import annotations

from typing import Any, Mapping

from .experiments import get, registry, resolve  # noqa: F401  (re-exported for the notebooks and users)
from .params import Section, Settings, notebook_parameters  # noqa: F401  (Section: re-exported)


def __getattr__(name: str):
    if name == "SECTIONS":  # every section by key, discovered on first use
        return registry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def validate_notebook(key: str, namespace: Mapping[str, Any]) -> Settings:
    """The notebook contract's validation cell: ``cfg = validate_notebook(KEY, globals())``.

    Raises :class:`ftlib.errors.ParameterError` before any work is done; in a
    notebook, ftlib's errors are shown as one message (:mod:`ftlib.notebook`).
    """
    from . import plan
    from .notebook import install_error_handler

    install_error_handler()
    settings = resolve(key, notebook_parameters(namespace))
    plan.install()  # plan mode (python -m ftlib.build --plan): probes instead of runs; else nothing
    return settings
