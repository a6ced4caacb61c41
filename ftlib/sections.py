"""The book's notebooks ("sections"): parameters, profile settings, checklist ids.

One :class:`Section` per notebook in ``notebooks/<paper>/<name>.py``; the key is
``"<paper>/<name>"``. Each declares every parameter the notebook accepts
(:class:`ftlib.params.Param`) and the value each profile gives to the
parameters left at ``None``. The common parameters (``profile``, ``seed``) and
the profile mechanism are defined here once; each paper's sections are declared
in ``SECTIONS`` of its module ``ftlib.experiments.<paper>``, beside the code
they run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .errors import ParameterError
from .params import PROFILES, Param, Settings, notebook_parameters, validate


@dataclass(frozen=True)
class Section:
    """A notebook of the book: title, checklist ids, parameters, profile values."""

    key: str
    title: str
    ids: tuple[str, ...]
    params: tuple[Param, ...]
    profiles: Mapping[str, Mapping[str, Any]]

    @property
    def paper(self) -> str:
        return self.key.split("/", 1)[0]

    @property
    def spec(self) -> dict[str, Param]:
        common = {
            "profile": Param("profile", str, "which settings to use", choices=PROFILES, profile_default=False),
            "seed": Param("seed", int, "random seed of data order, initialisation and faults", low=0, high=2**31 - 1,
                          profile_default=False),
        }
        return {**common, **{p.name: p for p in self.params}}


def _discover() -> dict[str, Section]:
    """Collect the ``SECTIONS`` list of every module of :mod:`ftlib.experiments` (one per paper)."""
    import importlib
    import pkgutil

    from . import experiments

    found: dict[str, Section] = {}
    for info in sorted(pkgutil.iter_modules(experiments.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{experiments.__name__}.{info.name}")
        for section in getattr(module, "SECTIONS", ()):
            if section.key in found:
                raise RuntimeError(f"section {section.key} defined twice")
            found[section.key] = section
    return found


SECTIONS: dict[str, Section] = _discover()


def get(key: str) -> Section:
    """The section registered under ``key`` (``"<paper>/<notebook name>"``)."""
    try:
        return SECTIONS[key]
    except KeyError:
        raise ParameterError(f"unknown section '{key}'; known: {', '.join(sorted(SECTIONS))}") from None


def resolve(key: str, given: Mapping[str, Any]) -> Settings:
    """Validate ``given`` parameters of section ``key`` and fill ``None`` from the profile."""
    section = get(key)
    checked = validate(section.spec, given)
    profile = checked["profile"] or "quick"
    defaults = section.profiles[profile]
    values, from_profile = {}, []
    for name, value in checked.items():
        if value is None and name in defaults:
            value = defaults[name]
            from_profile.append(name)
        values[name] = value
    return Settings(values, tuple(from_profile))


def validate_notebook(key: str, namespace: Mapping[str, Any]) -> Settings:
    """The notebook contract's validation cell: ``cfg = validate_notebook(KEY, globals())``.

    Raises :class:`ftlib.errors.ParameterError` before any work is done; in a
    notebook, ftlib's errors are shown as one message (:mod:`ftlib.notebook`).
    """
    from .notebook import install_error_handler

    install_error_handler()
    return resolve(key, notebook_parameters(namespace))
