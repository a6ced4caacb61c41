"""Validation of notebook (papermill) parameters.

papermill injects ``-p name value`` as plain assignments after a notebook's
``parameters`` cell; it only *warns* on unknown names and never checks types.
Every notebook therefore calls :func:`~ftlib.sections.validate_notebook` in the cell right
after its parameters cell: unknown names, wrong types and out-of-range values
stop the run there, with one message naming the parameter and what is allowed.

Parameters whose value is ``None`` take the value of the chosen profile
(see :mod:`ftlib.sections`).
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass, field
from typing import Any, Mapping

from .errors import ParameterError

PROFILES = ("smoke", "quick", "paper")
"""The three profiles, cheapest first.

``smoke`` for CI (seconds, meaningless numbers), ``quick`` the default (real
data, minutes on 2 CPU cores), ``paper`` the papers' own settings (for a GPU)."""

# Names IPython and papermill put into a kernel's namespace that are not parameters.
_KERNEL_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}

_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true/false", list: "a list"}


@dataclass(frozen=True)
class Param:
    """One notebook parameter.

    ``kind`` is one of ``int``, ``float``, ``str``, ``bool``, ``list``; for a
    list, ``item`` is the kind of its elements. ``low``/``high`` bound numbers
    (and every element of a numeric list); ``choices`` restricts the value.
    ``profile_default`` means ``None`` is allowed and stands for the profile's value.
    """

    name: str
    kind: type
    help: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    item: type | None = None
    profile_default: bool = True

    def describe(self) -> str:
        """What values are allowed, in words (used in error messages and docs)."""
        what = _TYPE_NAMES[self.kind]
        if self.kind is list and self.item is not None:
            what = f"a list of {_TYPE_NAMES[self.item].split(' ', 1)[1]}s (pass it with -y, e.g. -y '{self.name}: [0.0, 0.1]')"
        parts = [what]
        if self.choices is not None:
            parts.append("one of " + ", ".join(repr(c) for c in self.choices))
        if self.low is not None or self.high is not None:
            lo = "-inf" if self.low is None else f"{self.low:g}"
            hi = "inf" if self.high is None else f"{self.high:g}"
            parts.append(f"in [{lo}, {hi}]")
        if self.profile_default:
            parts.append("or None for the profile's value")
        return ", ".join(parts)


def _is_kind(value: Any, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, kind)


def check_value(p: Param, value: Any) -> Any:
    """Return ``value`` (ints promoted to float for float params) or raise ParameterError."""
    if value is None:
        if p.profile_default:
            return None
        raise ParameterError(f"parameter '{p.name}' must be {p.describe()}; got None")
    if not _is_kind(value, p.kind):
        raise ParameterError(
            f"parameter '{p.name}' must be {p.describe()}; got {value!r} ({type(value).__name__})"
        )
    items = value if p.kind is list else [value]
    if p.kind is list:
        if p.item is not None and not all(_is_kind(v, p.item) for v in items):
            raise ParameterError(f"parameter '{p.name}' must be {p.describe()}; got {value!r}")
        if len(items) == 0:
            raise ParameterError(f"parameter '{p.name}' must be a non-empty list; got []")
    for v in items:
        if isinstance(v, float) and not math.isfinite(v):
            raise ParameterError(f"parameter '{p.name}' must be finite; got {value!r}")
        if p.low is not None and v < p.low or p.high is not None and v > p.high:
            raise ParameterError(f"parameter '{p.name}' must be {p.describe()}; got {value!r}")
    if p.choices is not None and value not in p.choices:
        raise ParameterError(f"parameter '{p.name}' must be {p.describe()}; got {value!r}")
    if p.kind is float:
        return float(value)
    if p.kind is list and p.item is float:
        return [float(v) for v in value]
    return value


def validate(spec: Mapping[str, Param], given: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``given`` against ``spec``; return the checked values (None kept).

    Raises :class:`~ftlib.errors.ParameterError` for the first unknown name, in alphabetical
    order, listing the allowed names, or for the first bad value.
    """
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise ParameterError(
            f"unknown parameter '{unknown[0]}'"
            + (f" (and {', '.join(unknown[1:])})" if len(unknown) > 1 else "")
            + f"; this notebook accepts: {', '.join(sorted(spec))}"
        )
    return {name: check_value(spec[name], given.get(name)) for name in spec}


def notebook_parameters(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The user-level variables of a notebook namespace (``globals()``).

    Skips private names, modules, functions, classes and IPython's own names:
    what remains right after the parameters cell (and papermill's injected
    cell) are the parameters.
    """
    out = {}
    for name, value in namespace.items():
        if name.startswith("_") or name in _KERNEL_NAMES:
            continue
        if isinstance(value, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)):
            continue
        out[name] = value
    return out


@dataclass
class Settings:
    """Resolved settings of one notebook run: every parameter with a concrete value.

    Attribute access (``cfg.epochs``) and :meth:`as_dict`. ``from_profile``
    names the parameters that took the profile's value.
    """

    values: dict[str, Any]
    from_profile: tuple[str, ...] = field(default_factory=tuple)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)
