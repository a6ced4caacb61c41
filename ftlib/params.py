"""Notebook sections and the validation of their (papermill) parameters.

A :class:`Section` is one notebook of the book (``notebooks/<paper>/<name>.py``):
its checklist ids, every :class:`Param` it accepts and the value each profile
gives to the parameters left at ``None``. Each section is declared once, as
``SECTION`` of its module ``ftlib.experiments.<paper>.<name>``; the registry of
all of them is :mod:`ftlib.experiments` (this module imports nothing of it).

papermill injects ``-p name value`` as plain assignments after a notebook's
``parameters`` cell; it only *warns* on unknown names and never checks types.
Every notebook therefore calls :func:`~ftlib.sections.validate_notebook` in the cell right
after its parameters cell: unknown names, wrong types and out-of-range values
stop the run there, with one message naming the parameter and what is allowed.

Parameters whose value is ``None`` take the value of the chosen profile
(:meth:`Section.resolve`).
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

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
    list, ``item`` is the kind of its elements, and for a list of lists
    (``item=list``) ``inner`` the kind of theirs. ``low``/``high`` bound numbers
    (and every number of a list, nested or not); ``choices`` restricts the value,
    or for a list each of its elements. ``profile_default`` means ``None`` is
    allowed and stands for the profile's value.
    """

    name: str
    kind: type
    help: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    item: type | None = None
    profile_default: bool = True
    inner: type | None = None

    def describe(self) -> str:
        """What values are allowed, in words (used in error messages and docs)."""
        what = _TYPE_NAMES[self.kind]
        if self.kind is list and self.item is not None:
            of = _TYPE_NAMES[self.item].split(" ", 1)[1] + "s"
            if self.item is list and self.inner is not None:
                of = f"lists of {_TYPE_NAMES[self.inner].split(' ', 1)[1]}s"
            what = f"a list of {of} (pass it with -y, e.g. -y '{self.name}: {self._example()}')"
        parts = [what]
        if self.choices is not None:
            parts.append(("each " if self.kind is list else "") + "one of " + ", ".join(repr(c) for c in self.choices))
        if self.low is not None or self.high is not None:
            lo = "-inf" if self.low is None else _num(self.low, self._number_kind())
            hi = "inf" if self.high is None else _num(self.high, self._number_kind())
            parts.append(f"in [{lo}, {hi}]")
        if self.profile_default:
            parts.append("or None for the profile's value")
        return ", ".join(parts)


    def _number_kind(self) -> type:
        """The kind of the numbers ``low``/``high`` bound: the value's, a list's elements', or nested ones'."""
        if self.kind is list:
            return self.inner if self.item is list and self.inner is not None else (self.item or float)
        return self.kind

    def _example(self) -> str:
        """A valid-looking example value of a list parameter, for the hint."""
        kind = self._number_kind()
        if self.choices:
            one = "[" + ", ".join(repr(c) for c in self.choices[:2]) + "]"
        elif kind is int:
            lo = int(self.low) if self.low is not None else 1
            one = f"[{lo}, {lo + 1}]"
        elif kind is str:
            one = "['a', 'b']"
        elif kind is bool:
            one = "[true, false]"
        else:
            lo = float(self.low) if self.low is not None else 0.0
            one = f"[{lo!r}, {lo + 0.1!r}]"
        return f"[{one}]" if self.item is list else one


def _num(v: float, kind: type) -> str:
    """A bound in words: integers as integers (2147483647, not 2.14748e+09), other numbers with %g."""
    if kind is int or float(v).is_integer() and abs(v) >= 1e6:
        return str(int(v))
    return f"{v:g}"


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
    where = [""] * len(items) if p.kind is not list else [f" (element {i}: {v!r})" for i, v in enumerate(items)]
    if p.kind is list:
        if len(items) == 0:
            raise ParameterError(f"parameter '{p.name}' must be a non-empty list; got []")
        for v, at in zip(items, where):
            if p.item is not None and not _is_kind(v, p.item):
                raise ParameterError(f"parameter '{p.name}' must be {p.describe()}; got {value!r}{at}")
        if p.item is list:  # a list of lists: check inside each one too
            flat, flat_where = [], []
            for i, inner in enumerate(items):
                if len(inner) == 0:
                    raise ParameterError(f"parameter '{p.name}' must be {p.describe()}; got {value!r} "
                                         f"(element {i} is empty)")
                for j, v in enumerate(inner):
                    at = f" (element [{i}][{j}]: {v!r})"
                    if p.inner is not None and not _is_kind(v, p.inner) or \
                            p.inner is None and not _is_kind(v, float) or isinstance(v, list):
                        raise ParameterError(f"parameter '{p.name}' must be {p.describe()}; got {value!r}{at}")
                    flat.append(v)
                    flat_where.append(at)
            items, where = flat, flat_where
    for v, at in zip(items, where):
        if isinstance(v, float) and not math.isfinite(v):
            raise ParameterError(f"parameter '{p.name}' must be finite; got {value!r}{at}")
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            continue
        if p.low is not None and v < p.low or p.high is not None and v > p.high:
            raise ParameterError(f"parameter '{p.name}' must be {p.describe()}; got {value!r}{at}")
    if p.choices is not None:
        for v, at in zip(value if p.kind is list else [value], where if p.kind is list else [""]):
            if v not in p.choices:
                raise ParameterError(f"parameter '{p.name}' must be {p.describe()}; got {value!r}{at}")
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
    names the parameters that took the profile's value; ``section`` is the
    :class:`Section` that resolved them (None for settings made by hand), so a
    :class:`ftlib.report.Report` knows its section without a registry.
    """

    values: dict[str, Any]
    from_profile: tuple[str, ...] = field(default_factory=tuple)
    section: Optional["Section"] = None

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)


def common_params() -> dict[str, Param]:
    """The parameters every notebook has: ``profile`` and ``seed`` (never taken from a profile)."""
    return {
        "profile": Param("profile", str, "which settings to use", choices=PROFILES, profile_default=False),
        "seed": Param("seed", int, "random seed of data order, initialisation and faults", low=0, high=2**31 - 1,
                      profile_default=False),
    }


@dataclass(frozen=True)
class Section:
    """A notebook of the book: key ``"<paper>/<name>"``, title, checklist ids, parameters, profile values.

    ``profiles[p]`` maps parameter names to the value profile ``p`` gives them when the notebook leaves
    them at ``None``; :meth:`resolve` applies it.
    """

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
        """Every parameter the notebook accepts, ``profile`` and ``seed`` first."""
        return {**common_params(), **{p.name: p for p in self.params}}

    def resolve(self, given: Mapping[str, Any]) -> Settings:
        """Validate ``given`` against :attr:`spec` and fill each ``None`` from the chosen profile
        (``quick`` when ``profile`` is None); raises :class:`~ftlib.errors.ParameterError`."""
        checked = validate(self.spec, given)
        profile = checked["profile"] or "quick"
        defaults = self.profiles[profile]
        values, from_profile = {}, []
        for name, value in checked.items():
            if value is None and name in defaults:
                value = defaults[name]
                from_profile.append(name)
            values[name] = value
        return Settings(values, tuple(from_profile), section=self)
