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
import re
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import __version__, codemap, config, reference
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


def anchor_id(id_: str) -> str:
    """The HTML id of checklist id ``id_`` on its section page (and, prefixed ``sb-``, on the scoreboard):
    the id with every character other than letters, digits, ``_`` and ``-`` replaced by ``-``
    (``AFT-F3/F4/F6`` → ``AFT-F3-F4-F6``)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", id_)


def numeric_verdict(paper: float, ours: float, tolerance: float) -> str:
    """``reproduced`` if ``|ours − paper|`` ≤ tolerance, else ``not reproduced`` (a point estimate: prefer a
    declared ``matches`` claim, :mod:`ftlib.claims`, which accounts for the noise)."""
    gap = abs(ours - paper)
    return REPRODUCED if gap <= tolerance else NOT_REPRODUCED


def _fmt(value: Any) -> str:
    """A table cell: numbers by their scale (:func:`fmt_number`), None as ``—``, anything else as text."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return fmt_number(value)
    return str(value)


MISSING = "—"
"""What a table shows where a value is missing (never ``NaN``); the table says below it what the mark means."""

_SCIENTIFIC = re.compile(r"(lambda|λ|\blam\b|lam_|_lam\b|^lam|rate|\bp\b|p_value|p-value|alpha|eps)", re.I)


def fmt_number(value: Any, column: Any = "") -> str:
    """A number as a reader should see it: by its scale, never rounded to zero.

    Integers as they are; ``0`` as ``0``; a column named like a strength or a rate (λ, ``lam``, ``rate``,
    ``p``, ``alpha``, ``eps``) or a value below 10⁻³ in scientific notation (``1e-4``, ``2.5e-9``); other
    values to 4 significant digits (``88.91``, ``0.0523``), large ones without a decimal part
    (``12346``). ``NaN`` and ``None`` give :data:`MISSING`.
    """
    import math

    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu"):
        return str(int(value))
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return MISSING
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    small = abs(x) < 1e-3
    if small or (_SCIENTIFIC.search(str(column)) and abs(x) < 0.01):
        mant, exp = f"{x:.3e}".split("e")
        mant = mant.rstrip("0").rstrip(".")
        return f"{mant}e{int(exp)}"
    if abs(x) >= 1e4:
        return f"{x:.0f}"
    return f"{x:.4g}"


def _cell_text(value: Any, column: Any = "") -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell_text(v, column) for v in value)
    try:
        import numpy as np

        if isinstance(value, (float, int, np.number)) or value is None:
            return fmt_number(value, column)
    except ImportError:  # pragma: no cover
        pass
    if value != value:  # NaN-like (pd.NA, NaT)
        return MISSING
    return str(value)


def frame_html(df, table_id: str = "", missing: str = "not computed in this run") -> str:
    """A DataFrame (or Series) as the book shows it: every cell in full (no truncation, long text wraps),
    numbers by their scale (:func:`fmt_number`, also in the index), no ``NaN`` (a ``—`` and a line under
    the table saying what it means: ``missing``), inside a box that scrolls sideways on a narrow screen."""
    import html as _html

    import pandas as pd

    if isinstance(df, pd.Series):
        df = df.to_frame(df.name if df.name is not None else "value")
    shown = df.copy()
    n_missing = int(shown.isna().to_numpy().sum()) if shown.size else 0
    for col in shown.columns:
        shown[col] = [_cell_text(v, col) for v in shown[col].tolist()]
    shown = shown.astype(object)

    def fmt_label(v, name=""):
        return v if isinstance(v, str) else _cell_text(v, name)

    if isinstance(shown.index, pd.MultiIndex):
        names = list(shown.index.names)
        shown.index = pd.MultiIndex.from_tuples(
            [tuple(fmt_label(v, names[i] or "") for i, v in enumerate(t)) for t in shown.index], names=names)
    else:
        shown.index = pd.Index([fmt_label(v, shown.index.name or "") for v in shown.index], name=shown.index.name)
    with pd.option_context("display.max_colwidth", None, "display.max_rows", None, "display.max_columns", None):
        table = shown.to_html(escape=True, na_rep=MISSING, border=0, classes=["ftlib-table"],
                              table_id=table_id or None)
    note = (f'<p class="ftlib-table-note">{MISSING} : {_html.escape(missing)}.</p>' if n_missing else "")
    return f'<div class="ftlib-table-wrap">{table}{note}</div>'


def install_display() -> None:
    """Show every pandas DataFrame and Series of a notebook through :func:`frame_html` (full cells, no
    ``NaN``, numbers by scale); pandas' own display options are set to never truncate either."""
    import pandas as pd

    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_columns", None)
    pd.set_option("display.width", 250)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    shell = get_ipython()
    if shell is None:
        return
    fmt = shell.display_formatter.formatters["text/html"]
    fmt.for_type(pd.DataFrame, lambda df: frame_html(df, table_id=df.attrs.get("ftlib_table_id", "")))
    fmt.for_type(pd.Series, frame_html)


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


DISPLAY_PX = 660
"""The width (CSS px) the book gives a figure on a laptop screen (``book/_static/ftbook.css``: figures may
grow wider than the text column, up to ``--ftlib-figure-max``); a figure's fonts are sized for it."""

MIN_FONT_PX = 9.0
"""The smallest text of a figure, in CSS px at :data:`DISPLAY_PX` (the browser test checks it)."""

MAX_LEGEND_ENTRIES = 8
"""A panel's legend with more entries is drawn outside the data, beside the panel."""


def _texts(fig):
    import matplotlib.text as mtext

    return [t for t in fig.findobj(mtext.Text) if t.get_visible() and t.get_text().strip()]


def min_font_pt(fig) -> float:
    """The size (pt) of the smallest visible text of ``fig``."""
    sizes = [t.get_fontsize() for t in _texts(fig)]
    return float(min(sizes)) if sizes else 10.0


def _legends_outside(fig, max_entries: int = MAX_LEGEND_ENTRIES) -> None:
    """Move every panel legend with more than ``max_entries`` entries out of the data, to the panel's right."""
    for ax in fig.get_axes():
        leg = ax.get_legend()
        if leg is None:
            continue
        texts = [t.get_text() for t in leg.get_texts()]
        if len(texts) <= max_entries:
            continue
        handles = list(getattr(leg, "legend_handles", None) or getattr(leg, "legendHandles", []))
        title = leg.get_title().get_text()
        ncol = 1 if len(texts) <= 16 else 2
        ax.legend(handles, texts, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                  ncol=ncol, title=title or None, frameon=False)


def _readable(fig, dpi: float, display_px: float = DISPLAY_PX, min_px: float = MIN_FONT_PX) -> None:
    """Enlarge the texts of ``fig`` that would render under ``min_px`` CSS px when the saved image is shown
    at most ``display_px`` wide (a wider figure is scaled down by the browser, and its fonts with it)."""
    import io
    import warnings

    from PIL import Image

    for _ in range(4):  # enlarged text can widen the saved image (tight bounding box): measure again
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        width = Image.open(io.BytesIO(buf.getvalue())).size[0]
        px_per_pt = dpi / 72 * min(1.0, display_px / width)
        need = min_px / px_per_pt
        small = [t for t in _texts(fig) if t.get_fontsize() < need - 1e-6]
        if not small:
            return
        for t in small:
            t.set_fontsize(need * 1.03)  # a little margin for the next measurement
        if fig.get_layout_engine() is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    fig.tight_layout()
                except Exception:  # noqa: BLE001 (a layout that cannot be tightened stays as it is)
                    pass


def figure_html(png: bytes, alt: str, caption: str, name: str = "", min_pt: float | None = None,
                dpi: float | None = None, href: str = "", width_px: int | None = None) -> str:
    """An HTML ``<figure>`` with the PNG embedded as base64 data, ``alt`` text and a ``<figcaption>``.

    The image is a button that opens it at full resolution (``book/_static/ftbook.js``); ``href`` (when
    given) links to the PNG file. ``data-min-font-pt`` and ``data-dpi`` record the smallest text size and
    the resolution, so a test can compute how large the smallest text renders on screen. ``width_px`` (when
    given) is the width the image is shown at (a downscaled copy keeps the size of its original on screen).
    """
    import base64
    import html

    data = base64.b64encode(png).decode("ascii")
    attrs = ""
    if min_pt is not None:
        attrs += f' data-min-font-pt="{min_pt:.2f}"'
    if dpi is not None:
        attrs += f' data-dpi="{dpi:g}"'
    link = (f' <a class="ftlib-figure-full" href="{html.escape(href, quote=True)}">full-resolution image</a>'
            if href else "")
    if width_px is not None:
        attrs += f' width="{int(width_px)}"'
    return (f'<figure class="ftlib-figure" id="fig-{html.escape(name)}">'
            f'<img class="ftlib-zoomable" src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}"'
            f'{attrs} tabindex="0" title="Click to enlarge" />'
            f'<figcaption>{html.escape(caption)}'
            f' <span class="ftlib-zoom-hint">(click the figure to enlarge it)</span>{link}</figcaption></figure>')


_PAPER_FIGURE = re.compile(r"^fig(?:ure)?s?_?(\d+[a-z]?(?:_\d+[a-z]?)*)(?:$|_)", re.I)


def figure_number(name: str) -> str | None:
    """The paper's figure number(s) a figure named ``figure7``/``fig3b``/``figure2_mlp``/``figures3_4``
    reproduces (``"7"``, ``"3b"``, ``"2"``, ``"3, 4"``), else None."""
    m = _PAPER_FIGURE.match(name)
    return ", ".join(m.group(1).split("_")) if m else None


def figure_label(number: str | None, plot_index: int) -> str:
    """"Figure 7", "Figures 3, 4" for a paper's figure(s), else "Plot k" (k counts a page's other figures)."""
    if number:
        return f"Figure{'s' if ',' in number else ''} {number}"
    return f"Plot {plot_index}"


def use_style() -> None:
    """The book's one plotting style: scienceplots ``science`` + ``no-latex``, seaborn colour-blind palette,
    fonts of at least 9 pt, and the notebook's tables shown in full (:func:`install_display`)."""
    import matplotlib.pyplot as plt
    import scienceplots  # noqa: F401  (registers the styles)
    import seaborn as sns

    plt.style.use(["science", "no-latex"])
    sns.set_palette("colorblind")
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "figure.figsize": (5.5, 3.4),
                         "font.size": 10, "legend.fontsize": 9, "xtick.labelsize": 9, "ytick.labelsize": 9,
                         "axes.labelsize": 10, "axes.titlesize": 10})
    install_display()


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


def machine() -> dict[str, Any]:
    """What this process runs on: CPU count, CPU model (``/proc/cpuinfo``, else ``platform.processor()``),
    host, operating system, torch's default device and its number of threads."""
    import os

    import torch

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    device = torch.get_default_device() if hasattr(torch, "get_default_device") else torch.empty(0).device
    return {"cpu_count": os.cpu_count(), "cpu_model": model or platform.processor() or platform.machine(),
            "host": platform.node(), "os": platform.platform(terse=True), "torch_device": str(device),
            "torch_threads": torch.get_num_threads()}


def code_files(section_key: str, ids: tuple[str, ...] = ()) -> dict[str, str]:
    """The code the numbers of a run of section ``section_key`` depend on, as ``{path relative to the checkout:
    sha256 of its content}``: every file of the code-salt parts of the cache entries this process created or
    loaded (:data:`ftlib.store.USED_CODE`), the section's notebook source, and every ftlib module the
    notebook imports, transitively (its experiments modules, the statistics; not the presentation modules,
    whose edits change no number), and always ``claims.py``, whose declared rules decide every verdict row
    through the report. ``reference.py`` counts by the section's own entries (``ids``, the section's checklist
    ids; :func:`reference_digest`). Another section's experiments module is not in it, so restructuring one
    chapter does not mark another's archive stale. The results archive compares the map with the files of a
    later checkout to mark an archived result stale (:mod:`ftlib.archive`)."""
    from .store import sha256_file, used_code_files

    base = Path(__file__).resolve().parent.parent
    files = used_code_files()
    notebook = base / "notebooks" / f"{section_key}.py"
    if notebook.is_file():
        files[str(notebook.relative_to(base))] = sha256_file(notebook)
        for path in codemap.imported_files(notebook):
            files[str(path.relative_to(base))] = sha256_file(path)
    claims = base / "ftlib" / "claims.py"  # every verdict row is decided by a declared claim's rule
    files[str(claims.relative_to(base))] = sha256_file(claims)
    if REFERENCE_FILE in files:
        files[REFERENCE_FILE] = reference_digest(ids)
    return dict(sorted(files.items()))


REFERENCE_FILE = "ftlib/reference.py"
"""The paper's numbers: in a code map, only the section's own entries count (:func:`reference_digest`)."""


def reference_digest(ids: tuple[str, ...]) -> str:
    """``"entries:<sha256>"`` of the ``ftlib.reference.REFERENCES`` entries of a section's checklist
    ``ids`` (id, paper, what, values): the part of ``reference.py`` a section's verdicts read. A code map
    stores it for ``reference.py`` instead of the file's hash, so adding another chapter's paper numbers does
    not mark this section's archive stale, while changing one of its own numbers does."""
    import dataclasses
    import hashlib

    from .store import canonical_json

    entries = {i: dataclasses.asdict(reference.REFERENCES[i]) for i in ids if i in reference.REFERENCES}
    return "entries:" + hashlib.sha256(canonical_json(entries).encode()).hexdigest()


class Report:
    """The comparison table and result record of one notebook run."""

    def __init__(self, section_key: str, settings: Settings):
        """``settings``: from :func:`ftlib.sections.validate_notebook` (or :meth:`ftlib.params.Section.resolve`),
        which carry their section; ``section_key`` must name it (a notebook says which section it is)."""
        section = getattr(settings, "section", None)
        if section is None:
            raise FtlibError(f"Report({section_key!r}): the settings carry no section; make them with "
                             f"ftlib.sections.validate_notebook or ftlib.sections.resolve({section_key!r}, ...)")
        if section.key != section_key:
            raise FtlibError(f"Report({section_key!r}) was given the settings of section {section.key!r}")
        self.section = section
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
        """Add the row of the declared claim ``key`` (``ftlib.claims.CLAIMS``): its test decides on
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
        be a declared claim's key (``"BEY-AFT:beats_l1_l2"``, ``ftlib.claims.CLAIMS``): the row then shows
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
            df[col] = df[col].map(lambda v, c=col: _fmt(v) if not isinstance(v, float) else fmt_number(v, c))
        df["gap"] = df["gap"].map(lambda g: MISSING if g is None or g != g else
                                  ("+" if g > 0 else "") + fmt_number(g))
        df["headline"] = df["headline"].map(lambda h: "headline" if h is True else "detail" if h is False else "")
        extra = [c for c in df.columns if c not in ("id", "claim", "paper", "ours", "gap", "verdict", "note",
                                                    "rule", "reason", "headline")]
        df = df.drop(columns=extra)  # fields of the record (status, ...) that the table does not show
        for col in ("note", "rule", "reason", "headline"):
            if col in df and not df[col].astype(bool).any():
                df = df.drop(columns=col)
        df = df.set_index(["id", "claim"])
        df.attrs["ftlib_table_id"] = "verdict-table"  # the target of the page's "Verdicts and why" links
        return df

    def figure(self, fig, name: str, caption: str, alt: str | None = None) -> None:
        """Save ``fig`` as ``<results>/<paper>/<notebook>/<name>.png`` and show it once, with its caption.

        The figure is displayed as an HTML ``<figure>``: the PNG embedded (so
        the page needs no other file), ``alt`` text for screen readers
        (default: built from the figure's titles and axis labels, see
        :func:`alt_text`) and ``caption`` below it, labelled with the paper's
        figure number when ``name`` names one (``figure7``, see
        :func:`figure_number`), else "Plot k" (k counts this page's other
        figures). The caption should say what to see in the figure. Before
        saving, legends of more than :data:`MAX_LEGEND_ENTRIES` entries move
        out of the data and texts too small to read at :data:`DISPLAY_PX`
        are enlarged to :data:`MIN_FONT_PX`.
        """
        import matplotlib.pyplot as plt
        from IPython.display import display

        path = self.folder / self.section.key.split("/", 1)[1] / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        dpi = float(plt.rcParams["savefig.dpi"]) if plt.rcParams["savefig.dpi"] != "figure" else float(fig.dpi)
        _legends_outside(fig)
        _readable(fig, dpi)
        tmp = path.with_suffix(".tmp.png")
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
        tmp.replace(path)
        alt = alt or alt_text(fig)
        paper_no = figure_number(name)
        self.figures.append({"name": name, "file": str(path.relative_to(config.results_dir())), "caption": caption,
                             "alt": alt, "paper_figure": paper_no, "min_font_pt": round(min_font_pt(fig), 2),
                             "dpi": dpi})
        # the paper's number when the figure reproduces one of its figures, else a plot number of this page
        label = figure_label(paper_no, sum(1 for f in self.figures if not f.get("paper_figure")))
        html = figure_html(path.read_bytes(), alt, f"{label}. {caption}", name, min_pt=self.figures[-1]["min_font_pt"],
                           dpi=dpi)
        display({"text/html": html, "text/plain": f"[{label}: {alt}] {caption}"}, raw=True)
        plt.close(fig)

    def timing(self, name: str, value: float) -> None:
        """Keep a *measured* quantity (seconds, a ratio of measured times) in the record's ``timings`` block,
        apart from the results that repeat exactly with the same seed (see :func:`deterministic`)."""
        self.timings[name] = float(value)

    def record(self) -> dict[str, Any]:
        """The machine-readable result record (what :meth:`save` writes).

        Everything but :data:`VARYING` (``timings``: wall time and measured
        quantities of :meth:`timing`; versions, commit, creation time, the
        machine) is a function of the settings and the seed: :func:`deterministic`
        of two runs with one seed is byte-identical. ``code_files`` is the code
        the numbers depend on (:func:`code_files`).
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
            "code_files": code_files(self.section.key, self.section.ids),
            "machine": machine(),
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


VARYING = ("timings", "wall_time_s", "created", "versions", "git_commit", "machine")
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
