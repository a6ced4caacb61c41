"""Small fixes to Jupyter Book 1's HTML, loaded through ``sphinx.local_extensions`` in ``_config.yml``.

- sphinx-thebe 0.3.1 adds its inline configuration script once per read phase;
  a page that gets it twice throws "Identifier 'THEBE_JS_URL' has already been
  declared" in the browser. Keep one copy of every script.
- pydata-sphinx-theme 0.17 logs "Got invalid theme mode" on every first visit
  when no ``default_mode`` is set: set it to ``auto`` (follow the system).
- The book's stylesheet (``book/_static/ftbook.css``): tables readable on a laptop screen.
- Docstrings are written for people reading the source, in plain maths: ``|x|``
  is an absolute value, not a reStructuredText substitution, so bars outside
  inline literals are escaped before autodoc parses them. The docstring of a
  constant is prose: napoleon would read "Text before a colon: ..." as the
  constant's type, so constants keep their docstring as written.
- Every executed section page gets, right after its title, a generated
  "Verdicts and why" block (each checklist id as an anchor target, its verdict,
  the reason from the result record, links down to its figure and to the
  comparison table) and a provenance stamp (profile, commit, date, wall time,
  a link to the result record, copied into the site under ``_records/``), then
  the archived runs of the section (``ftlib.archive.section_html``: the paper
  profile's verdicts and figures beside this build's, marked stale when the
  code changed since), read from ``book/_archive`` at every HTML build.
- ``book/_static/ftbook.js``: the phone navigation toggles, click-to-zoom figures.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "_static"


def _config_inited(app, config):
    config.html_context.setdefault("default_mode", "auto")  # read by the pydata theme's layout
    if str(STATIC) not in config.html_static_path:
        config.html_static_path.append(str(STATIC))


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        key = (getattr(js, "filename", str(js)) or "", tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    scripts[:] = kept


_LITERAL = re.compile(r"(``.+?``|:[\w:]+:`[^`]+`|`[^`]+`)")
_PROSE_KINDS = ("attribute", "data")
_original: dict[str, list[str]] = {}


def _escape_bars(line: str) -> str:
    """``line`` with every ``|`` outside inline literals and roles escaped (absolute values, norms)."""
    parts = _LITERAL.split(line)
    return "".join(p if i % 2 else p.replace("|", r"\|") for i, p in enumerate(parts))


def _before_napoleon(app, what, name, obj, options, lines):
    lines[:] = [_escape_bars(line) for line in lines]
    if what in _PROSE_KINDS:
        _original[name] = list(lines)


def _after_napoleon(app, what, name, obj, options, lines):
    if what in _PROSE_KINDS and name in _original:
        lines[:] = _original.pop(name)


EXECUTED = "book/_executed/"
RECORDS = "_records"


def _results_dir() -> Path | None:
    try:
        from ftlib import config
    except ImportError:  # the book without its package: no generated blocks
        return None
    return config.results_dir()


def _record(section: str) -> dict | None:
    root = _results_dir()
    path = root / f"{section}.json" if root else None
    if not path or not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


_ID_PART = re.compile(r"(?:^|[-/])([FT])(\d+)")


def _targets(id_: str, figures: list[dict]) -> list[tuple[str, str]]:
    """(href, label) of the figures of this page that reproduce the paper's figures named by ``id_``."""
    from ftlib.report import figure_label, figure_number

    wanted = {n for kind, n in _ID_PART.findall(id_.split("-", 1)[-1] if "-" in id_ else id_) if kind == "F"}
    out = []
    for fig in figures:
        number = fig.get("paper_figure") or figure_number(fig.get("name", ""))
        if number and wanted & set(re.findall(r"\d+", number)):
            out.append((f"#fig-{fig['name']}", figure_label(number, 0)))
    return out


def verdicts_html(record: dict, record_href: str) -> str:
    """The "Verdicts and why" block and the provenance stamp of one section page, from its result record."""
    from ftlib import scoreboard
    from ftlib.report import anchor_id

    esc = html.escape
    rows = [r for r in scoreboard.rows([record]) if r["comparisons"] and r["section"] == record.get("section")]
    ids = record.get("ids") or []
    rows.sort(key=lambda r: ids.index(r["id"]) if r["id"] in ids else len(ids))
    commit = record.get("git_commit") or "unknown"
    commit = commit[:12] + ("+dirty" if commit.endswith("+dirty") else "")
    wall = record.get("wall_time_s")
    when = scoreboard._when(record["created"]) if record.get("created") else "unknown date"
    stamp = (f'<p class="ftlib-provenance">Computed with the profile <strong>{esc(str(record.get("profile")))}'
             f'</strong> · commit <code>{esc(commit)}</code> · {esc(when)} · wall time '
             f'{"—" if wall is None else f"{float(wall):.0f} s"} · '
             f'<a href="{esc(record_href)}">result record (JSON)</a></p>')
    if not rows:
        return f'<div class="ftlib-verdicts" id="verdicts-and-why">{stamp}</div>'
    items = []
    for r in rows:
        links = _targets(r["id"], record.get("figures") or []) + [("#verdict-table", "comparison table")]
        go = " · ".join(f'<a href="{esc(h)}">{esc(label)}</a>' for h, label in links)
        why = scoreboard.reason(r)
        items.append(f'<li id="{esc(anchor_id(r["id"]))}"><strong>{esc(r["id"])}</strong> '
                     f'({esc(scoreboard.headline(r))}): <span class="ftlib-verdict">{esc(scoreboard._badge(r["verdict"]))}'
                     f'</span>{" — " + esc(why) if why else ""}. <span class="ftlib-goto">See {go}.</span></li>')
    return ('<div class="ftlib-verdicts admonition note" id="verdicts-and-why">'
            '<p class="admonition-title">Verdicts and why</p>'
            f'<ul>{"".join(items)}</ul>{stamp}</div>')


def _archived(section: str) -> str:
    """The archived runs of ``section`` beside this build (``ftlib.archive.section_html``), or ""."""
    try:
        from ftlib import archive
    except ImportError:
        return ""
    return archive.section_html(archive.for_section(archive.load(), section), _record(section))


def _inject_verdicts(app, pagename, templatename, context, doctree):
    if not pagename.startswith(EXECUTED) or "body" not in context:
        return
    section = pagename[len(EXECUTED):]
    record = _record(section)
    archived = _archived(section)
    if record is None and not archived:
        return
    href = context["pathto"](f"{RECORDS}/{section}.json", 1)
    block = (verdicts_html(record, href) if record is not None else "") + archived
    body = context["body"]
    at = body.find("</h1>")
    context["body"] = body[:at + 5] + block + body[at + 5:] if at >= 0 else block + body


def _copy_records(app, exception):
    """Copy every result record into the site (``_records/<paper>/<section>.json``), for the pages' links."""
    if exception is not None or app.builder.format != "html":
        return
    root = _results_dir()
    if not root or not root.is_dir():
        return
    for path in root.glob("*/*.json"):
        target = Path(app.outdir) / RECORDS / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def setup(app):
    app.connect("autodoc-process-docstring", _before_napoleon, priority=100)
    app.connect("autodoc-process-docstring", _after_napoleon, priority=900)
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", _dedupe_scripts, priority=999)  # after the handlers that add scripts
    app.connect("html-page-context", _inject_verdicts)
    app.connect("build-finished", _copy_records)
    app.add_css_file("ftbook.css")
    app.add_js_file("ftbook.js", loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
