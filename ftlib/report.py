"""One report path for every notebook: comparisons, verdicts, figures, result records.

A notebook creates a :class:`Report` right after validating its parameters,
adds one comparison per claim (:meth:`Report.numeric`, :meth:`Report.qualitative`),
saves its figures through :meth:`Report.figure`, and ends with
:meth:`Report.save`, which writes the machine-readable result record
(``<results>/<paper>/<name>.json``) that the scoreboard aggregates.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import __version__, config, reference, sections
from .errors import FtlibError
from .params import Settings
from .store import atomic_write_bytes, code_salt

REPRODUCED = "reproduced"
CLOSE = "close"
"""No longer produced (it was never defined): a numeric gap is within its tolerance or not. Old records that
carry it read as ``not reproduced``."""
IMPLEMENTED = "implemented"
"""An algorithm, a setting or a diagram that exists and runs: shown, never counted as reproduced."""
PARTLY = "partly reproduced"
NOT_REPRODUCED = "not reproduced"
SMOKE = "smoke run: not meaningful"
NOT_YET = "not yet reproduced"
NOT_RUNNABLE = "not runnable here"
STRONG = "strong evidence"
WEAK = "weak evidence"
NO_EVIDENCE = "no evidence"
EVIDENCE = (STRONG, WEAK, NO_EVIDENCE)
"""Verdicts of a *finding* (the "beyond the papers" study: no paper value to compare with): the confidence
of the finding, from the p-value of its test (:func:`evidence_verdict`)."""
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, IMPLEMENTED, STRONG, WEAK, NO_EVIDENCE, SMOKE, NOT_RUNNABLE, NOT_YET)


def evidence_verdict(p_value: float) -> str:
    """The confidence of a finding from the p-value of its (directional) test: ``strong evidence`` when
    p < 0.01, ``weak evidence`` when p < 0.05, else ``no evidence`` (also for NaN)."""
    if p_value == p_value and p_value < 0.01:
        return STRONG
    if p_value == p_value and p_value < 0.05:
        return WEAK
    return NO_EVIDENCE


@dataclass
class Comparison:
    """One row of a paper-vs-ours table. ``gap`` = ours − paper for numbers, else None.

    ``rule``: the declared rule that made the verdict (:meth:`ftlib.claims.Claim.rule`, or a description of an
    undeclared legacy rule); ``reason``: the numbers behind the verdict in one sentence; ``headline``: True for
    a headline claim of its id, False for a detail row, None when undeclared (see :func:`combined_verdict`);
    ``status``: ``tested`` (a rule decided), ``implemented``, ``not runnable here`` or ``legacy`` (an
    undeclared rule, kept for the chapters not yet ported to :mod:`ftlib.claims`)."""

    id: str
    claim: str
    paper: Any
    ours: Any
    gap: float | None
    verdict: str
    note: str = ""
    rule: str = ""
    reason: str = ""
    headline: bool | None = None
    status: str = "legacy"


def _get(row, name, default=None):
    return row.get(name, default) if isinstance(row, dict) else getattr(row, name, default)


def headline_rows(rows: list) -> list:
    """The rows that decide an id's verdict: its headline rows if it declares any, else every row not marked
    as detail (``headline=False``), else all rows."""
    heads = [r for r in rows if _get(r, "headline") is True]
    if heads:
        return heads
    undeclared = [r for r in rows if _get(r, "headline") is not False]
    return undeclared or list(rows)


def combined_verdict(verdicts: list, headlines: list | None = None) -> str:
    """One verdict for a checklist id from its rows (verdict strings, with ``headlines`` the rows' headline
    flags; or the rows themselves, :class:`Comparison` or record dicts). Only the headline rows count
    (:func:`headline_rows`): all reproduced → reproduced; some reproduced → partly reproduced; none → not
    reproduced. A headline that could not run here (``not runnable here``) makes the id at best partly
    reproduced; ``implemented`` rows never count as reproduced (an id with only those is ``implemented``).
    Findings of the study beyond the papers: as strong as the weakest row."""
    if verdicts and not isinstance(verdicts[0], str):
        rows = list(verdicts)
    else:
        flags = headlines if headlines is not None else [None] * len(verdicts)
        rows = [{"verdict": v, "headline": h} for v, h in zip(verdicts, flags)]
    if not rows:
        return NOT_YET
    if any(_get(r, "verdict") == SMOKE for r in rows):
        return SMOKE
    vs = [CLOSE_AS.get(_get(r, "verdict"), _get(r, "verdict")) for r in headline_rows(rows)]
    if all(v == NOT_RUNNABLE for v in vs):
        return NOT_RUNNABLE
    if all(v == IMPLEMENTED for v in vs):
        return IMPLEMENTED
    missing = NOT_RUNNABLE in vs
    tested = [v for v in vs if v not in (NOT_RUNNABLE, IMPLEMENTED)]
    if not tested:  # implemented parts and parts that could not run
        return NOT_RUNNABLE
    if all(v in EVIDENCE for v in tested):  # a finding: as strong as its weakest row
        return max(tested, key=EVIDENCE.index)
    if all(v == REPRODUCED for v in tested):
        return PARTLY if missing else REPRODUCED
    if any(v == REPRODUCED for v in tested):
        return PARTLY
    return NOT_REPRODUCED


CLOSE_AS = {CLOSE: NOT_REPRODUCED}
"""How verdicts no longer produced read in old records."""


def explain(rows: list) -> str:
    """Why an id has its verdict, in a few words: how many headline claims reproduced, what did not run."""
    heads = headline_rows(rows)
    tested = [r for r in heads if _get(r, "verdict") not in (NOT_RUNNABLE, IMPLEMENTED)]
    ok = sum(_get(r, "verdict") == REPRODUCED for r in tested)
    parts = [f"{ok} of {len(tested)} headline {'claim' if len(tested) == 1 else 'claims'} reproduced"] if tested else []
    impl = [r for r in heads if _get(r, "verdict") == IMPLEMENTED]
    if impl:
        parts.append(f"{len(impl)} implemented")
    missing = [_get(r, "claim") for r in heads if _get(r, "verdict") == NOT_RUNNABLE]
    if missing:
        parts.append("not run here: " + "; ".join(missing))
    detail = len(rows) - len(heads)
    if detail:
        parts.append(f"{detail} detail {'row' if detail == 1 else 'rows'} shown, not counted")
    return ", ".join(parts)


def numeric_verdict(paper: float, ours: float, tolerance: float) -> str:
    """``reproduced`` if ``|ours − paper|`` ≤ tolerance, else ``not reproduced`` (a point estimate: prefer a
    declared ``matches`` claim, :mod:`ftlib.claims`, which accounts for the noise)."""
    gap = abs(ours - paper)
    return REPRODUCED if gap <= tolerance else NOT_REPRODUCED


def _fmt(value: Any) -> str:
    """A table cell: floats to 4 significant digits, None as ``—``, anything else as text."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def alt_text(fig) -> str:
    """A short description of a matplotlib figure from its titles and axis labels (the default alt text)."""
    parts = []
    for ax in fig.get_axes():
        ylabel, xlabel, title = ax.get_ylabel().strip(), ax.get_xlabel().strip(), ax.get_title().strip()
        if not (ylabel or xlabel or title):
            continue
        what = f"{ylabel or 'values'} against {xlabel}" if xlabel else (ylabel or "")
        parts.append(f"{title}: {what}".strip(": ") if title else what)
    head = fig.get_suptitle().strip()
    body = "; ".join(dict.fromkeys(p for p in parts if p))
    if not (head or body):
        return "Figure (no axis labels)"
    return "Plot" + (f" '{head}'" if head else "") + (f" of {body}" if body else "") + "."


def figure_html(png: bytes, alt: str, caption: str, name: str = "") -> str:
    """An HTML ``<figure>`` with the PNG embedded as base64 data, ``alt`` text and a ``<figcaption>``."""
    import base64
    import html

    data = base64.b64encode(png).decode("ascii")
    return (f'<figure class="ftlib-figure" id="fig-{html.escape(name)}" style="margin:1em 0;">'
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}" '
            f'style="max-width:100%;height:auto;" />'
            f'<figcaption style="font-size:0.9em;margin-top:0.4em;">{html.escape(caption)}</figcaption></figure>')


def use_style() -> None:
    """The book's one plotting style: scienceplots ``science`` + ``no-latex``, seaborn colour-blind palette."""
    import matplotlib.pyplot as plt
    import scienceplots  # noqa: F401  (registers the styles)
    import seaborn as sns

    plt.style.use(["science", "no-latex"])
    sns.set_palette("colorblind")
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "figure.figsize": (5.5, 3.4)})


def _git_commit() -> str | None:
    root = config.repo_root()
    if root is None:
        return None
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "ftlib", "notebooks"], cwd=root,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def versions() -> dict[str, str]:
    """Versions of what computed the numbers."""
    import numpy
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__,
            "ftlib": __version__, "ftlib_code": code_salt()}


class Report:
    """The comparison table and result record of one notebook run."""

    def __init__(self, section_key: str, settings: Settings):
        self.section = sections.get(section_key)
        self.settings = settings
        self.rows: list[Comparison] = []
        self.figures: list[dict[str, str]] = []
        self.timings: dict[str, float] = {}
        self._t0 = time.perf_counter()

    @property
    def smoke(self) -> bool:
        return self.settings.profile == "smoke"

    @property
    def folder(self) -> Path:
        """Where this notebook's record and figure files go."""
        return config.results_dir() / self.section.paper

    def _verdict(self, verdict: str) -> str:
        return SMOKE if self.smoke else verdict

    def banner(self):
        """A Markdown note saying which profile made the numbers and which settings it chose."""
        from IPython.display import Markdown

        values = ", ".join(f"`{k}={v!r}`" for k, v in self.settings.as_dict().items() if k != "profile")
        warn = ("\n\n**Smoke profile: tiny subsets and one epoch, for testing the pipeline. "
                "The numbers below are meaningless.**" if self.smoke else "")
        return Markdown(f"Profile **{self.settings.profile}**: {values}.{warn}")

    def summary(self):
        """A Markdown line per checklist id with its combined verdict (see :func:`combined_verdict`)."""
        from IPython.display import Markdown

        lines = [] if self.section.ids else [f"This section reproduces no checklist id ({time.perf_counter() - self._t0:.0f} s)."]
        for id_ in self.section.ids:
            rows = [r for r in self.rows if r.id == id_]
            v = combined_verdict(rows) if rows else NOT_YET
            what = (f"the weakest of {len(rows)} {'row' if len(rows) == 1 else 'rows'}" if v in EVIDENCE else
                    explain(rows) if rows else "no row")
            lines.append(f"- **{id_}**: {v} ({what}; "
                         f"profile {self.settings.profile}, {time.perf_counter() - self._t0:.0f} s)")
        return Markdown("\n".join(lines))

    def check(self, key: str, paper: Any, ours: Any, note: str = "", claim: str | None = None, **data) -> Comparison:
        """Add the row of the declared claim ``key`` (:data:`ftlib.claims.CLAIMS`): its test decides on
        ``data`` (see :func:`ftlib.claims.decide`); the row carries the rule, the reason and the headline flag.
        ``claim`` overrides the row's claim text (e.g. to name the panel); ``reference`` (in ``data``) gives
        the reference values of a several-estimate ``matches`` test when ``paper`` is a text."""
        from . import claims

        c = claims.get(key)
        reference.get(c.id)
        if c.test == claims.IMPLEMENTED_TEST:
            verdict, reason, status = IMPLEMENTED, "exists and runs", IMPLEMENTED
        elif c.test == claims.NOT_RUNNABLE_TEST:
            verdict, reason, status = NOT_RUNNABLE, note, NOT_RUNNABLE
        else:
            ref = data.pop("reference", paper if isinstance(paper, (int, float)) else None)  # several: a list
            d = claims.decide(c, paper=ref, **data)
            verdict, reason, status = (REPRODUCED if d.passed else NOT_REPRODUCED), d.reason, "tested"
        gap = float(ours) - float(paper) if isinstance(ours, (int, float)) and isinstance(paper, (int, float)) else None
        row = Comparison(c.id, claim or c.text, paper, ours, gap, self._verdict(verdict), note, rule=c.rule(),
                         reason=reason, headline=c.headline, status=status)
        self.rows.append(row)
        return row

    def numeric(self, id_: str, claim: str, paper: float, ours: float, tolerance: float, note: str = "",
                headline: bool | None = None) -> Comparison:
        """Add a numeric comparison; the verdict follows :func:`numeric_verdict` with ``tolerance`` (an
        undeclared point-estimate rule; ``headline=False`` makes it a detail row)."""
        reference.get(id_)
        row = Comparison(id_, claim, float(paper), float(ours), float(ours) - float(paper),
                         self._verdict(numeric_verdict(paper, ours, tolerance)), note,
                         rule=f"undeclared: |ours − paper| ≤ {tolerance:g} (point estimate)", headline=headline)
        self.rows.append(row)
        return row

    def qualitative(self, id_: str, claim: str, paper: str, ours: str, holds: bool, note: str = "",
                    headline: bool | None = None, rule: str = "") -> Comparison:
        """Add a comparison of a qualitative claim; ``holds`` says whether our run shows it (an undeclared rule:
        ``rule`` says what it is; ``headline=False`` makes it a detail row)."""
        reference.get(id_)
        row = Comparison(id_, claim, paper, ours, None, self._verdict(REPRODUCED if holds else NOT_REPRODUCED), note,
                         rule=rule or "undeclared: the notebook's condition", headline=headline)
        self.rows.append(row)
        return row

    def finding(self, id_: str, claim: str, ours: Any, p_value: float, note: str = "") -> Comparison:
        """Add a finding of the study beyond the papers (no paper value): its verdict is its confidence,
        :func:`evidence_verdict` of ``p_value`` (the p-value of the test of the claim as stated). ``id_`` may
        be a declared claim's key (``"BEY-AFT:beats_l1_l2"``, :data:`ftlib.claims.CLAIMS`): the row then shows
        its rule."""
        rule = "finding: strong if p < 0.01, weak if p < 0.05"
        if ":" in id_:
            from . import claims

            c = claims.get(id_)
            id_, rule = c.id, c.rule() + "; " + rule
        reference.get(id_)
        row = Comparison(id_, claim, None, ours, None, self._verdict(evidence_verdict(p_value)),
                         note or f"p = {p_value:.3g}", rule=rule, reason=f"p = {p_value:.3g}", status="tested")
        self.rows.append(row)
        return row

    def not_runnable(self, id_: str, claim: str, paper: Any, reason: str, headline: bool | None = True) -> Comparison:
        """Record that a claim cannot be checked on these machines (e.g. it needs a GPU); ``reason`` says why.
        It counts in the id's verdict (a headline by default: the id reads at best partly reproduced)."""
        reference.get(id_)
        row = Comparison(id_, claim, paper, None, None, NOT_RUNNABLE, reason, rule="cannot run on these machines",
                         reason=reason, headline=headline, status=NOT_RUNNABLE)
        self.rows.append(row)
        return row

    def table(self):
        """The comparison table as a pandas DataFrame (paper / ours / gap / verdict), formatted for reading:
        numbers to 4 significant digits, the gap signed, ``—`` where there is no number, no empty note column."""
        import pandas as pd

        df = pd.DataFrame([asdict(r) for r in self.rows])
        if df.empty:
            return df
        for col in ("paper", "ours"):
            df[col] = df[col].map(_fmt)
        df["gap"] = df["gap"].map(lambda g: "—" if g is None or g != g else f"{g:+.4g}")
        df["headline"] = df["headline"].map(lambda h: "headline" if h is True else "detail" if h is False else "")
        df = df.drop(columns="status")
        for col in ("note", "rule", "reason", "headline"):
            if not df[col].astype(bool).any():
                df = df.drop(columns=col)
        return df.set_index(["id", "claim"])

    def figure(self, fig, name: str, caption: str, alt: str | None = None) -> None:
        """Save ``fig`` as ``<results>/<paper>/<notebook>/<name>.png`` and show it once, with its caption.

        The figure is displayed as an HTML ``<figure>``: the PNG embedded (so
        the page needs no other file), ``alt`` text for screen readers
        (default: built from the figure's titles and axis labels, see
        :func:`alt_text`) and ``caption`` below it, numbered within the
        notebook. The caption should say what to see in the figure.
        """
        import matplotlib.pyplot as plt
        from IPython.display import display

        path = self.folder / self.section.key.split("/", 1)[1] / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.png")
        fig.savefig(tmp, bbox_inches="tight")
        tmp.replace(path)
        alt = alt or alt_text(fig)
        self.figures.append({"name": name, "file": str(path.relative_to(config.results_dir())), "caption": caption,
                             "alt": alt})
        number = len(self.figures)
        html = figure_html(path.read_bytes(), alt, f"Figure {number}. {caption}", name)
        display({"text/html": html, "text/plain": f"[Figure {number}: {alt}] {caption}"}, raw=True)
        plt.close(fig)

    def timing(self, name: str, value: float) -> None:
        """Keep a *measured* quantity (seconds, a ratio of measured times) in the record's ``timings`` block,
        apart from the results that repeat exactly with the same seed (see :func:`deterministic`)."""
        self.timings[name] = float(value)

    def record(self) -> dict[str, Any]:
        """The machine-readable result record (what :meth:`save` writes).

        Everything but :data:`VARYING` (``timings``: wall time and measured
        quantities of :meth:`timing`; versions, commit, creation time) is a
        function of the settings and the seed: :func:`deterministic` of two runs
        with one seed is byte-identical.
        """
        wall = round(time.perf_counter() - self._t0, 2)
        return {
            "section": self.section.key,
            "title": self.section.title,
            "paper": self.section.paper,
            "ids": list(self.section.ids),
            "profile": self.settings.profile,
            "seed": self.settings.seed,
            "settings": self.settings.as_dict(),
            "from_profile": list(self.settings.from_profile),
            "comparisons": [asdict(r) for r in self.rows],
            "figures": self.figures,
            "versions": versions(),
            "git_commit": _git_commit(),
            "timings": {"wall_time_s": wall, **self.timings},
            "wall_time_s": wall,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }

    def save(self) -> Path:
        """Write the record atomically to ``<results>/<paper>/<notebook>.json``; returns the path."""
        path = self.folder / (self.section.key.split("/", 1)[1] + ".json")
        atomic_write_bytes(path, json.dumps(self.record(), indent=1, default=str).encode())
        return path


VARYING = ("timings", "wall_time_s", "created", "versions", "git_commit")
"""Keys of a result record that change from run to run (measured times, environment); all others repeat."""


def deterministic(record: dict[str, Any]) -> bytes:
    """The part of a result record that the same settings and seed reproduce exactly, as canonical JSON bytes."""
    return json.dumps({k: v for k, v in record.items() if k not in VARYING}, sort_keys=True, default=str,
                      separators=(",", ":")).encode()


def load_records(root: Path | None = None) -> list[dict[str, Any]]:
    """Every result record under ``root`` (default :func:`ftlib.config.results_dir`), sorted by section."""
    root = root or config.results_dir()
    out = []
    for path in sorted(root.glob("*/*.json")):
        try:
            out.append(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            raise FtlibError(f"result record {path} is unreadable ({exc}); delete it and rerun its notebook "
                             f"(python -m ftlib.build --chapter {path.parent.name})") from None
    return sorted(out, key=lambda r: r.get("section", ""))
