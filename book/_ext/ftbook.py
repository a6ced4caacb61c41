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
"""

from __future__ import annotations

import re
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


def setup(app):
    app.connect("autodoc-process-docstring", _before_napoleon, priority=100)
    app.connect("autodoc-process-docstring", _after_napoleon, priority=900)
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", _dedupe_scripts, priority=999)  # after the handlers that add scripts
    app.add_css_file("ftbook.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
