"""The scoreboard page: one row per checklist id, aggregated from the result records.

``python -m ftlib.scoreboard [output.md]`` writes ``book/scoreboard.md`` (generated,
never committed). Ids without a record are listed as "not yet reproduced".
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from . import config, reference
from .report import NOT_YET, combined_verdict, load_records

_BADGES = {"reproduced": "✅", "partly reproduced": "🟡", "not reproduced": "❌", "smoke run: not meaningful": "🧪",
           "not yet reproduced": "⏳"}


def _link(section: str, title: str) -> str:
    return f"[{title}](_executed/{section}.ipynb)"


def rows(records: list[dict] | None = None) -> list[dict]:
    """One dict per checklist id: id, paper, what, verdict, counts, profile, section."""
    records = load_records() if records is None else records
    by_id: dict[str, list[tuple[dict, dict]]] = {}
    for rec in records:
        for comp in rec.get("comparisons", []):
            by_id.setdefault(comp["id"], []).append((rec, comp))
    out = []
    for ref in reference.REFERENCES.values():
        found = by_id.get(ref.id, [])
        verdicts = [c["verdict"] for _, c in found]
        rec = found[0][0] if found else None
        out.append({
            "id": ref.id, "paper": ref.paper, "what": ref.what,
            "verdict": combined_verdict(verdicts) if found else NOT_YET,
            "within": sum(v == "reproduced" for v in verdicts), "n": len(verdicts),
            "profile": rec["profile"] if rec else "", "section": rec["section"] if rec else ref.section,
            "title": rec["title"] if rec else "",
            "created": rec["created"] if rec else "",
        })
    return out


def render(table: list[dict]) -> str:
    """The scoreboard page as MyST Markdown."""
    counts = Counter(r["verdict"] for r in table)
    profiles = sorted({r["profile"] for r in table if r["profile"]})
    lines = [
        "# Scoreboard",
        "",
        "Every table and figure of the four papers, by checklist id, with our verdict. "
        "A verdict combines all comparisons of an id (paper / ours / gap, shown in its section): "
        "**reproduced** when every comparison is within its stated tolerance, **partly reproduced** when some are, "
        "**not reproduced** when none is. Numbers made by the `smoke` profile are never verdicts.",
        "",
        f"Built from the profile(s): {', '.join(profiles) if profiles else 'none yet'}.",
        "",
        "| verdict | ids |",
        "|---|---|",
    ]
    lines += [f"| {_BADGES.get(v, '')} {v} | {n} |" for v, n in counts.most_common()]
    for paper, title in reference.PAPERS.items():
        lines += ["", f"## {paper}", "", title, "",
                  "| id | what | verdict | comparisons within tolerance | profile | section |",
                  "|---|---|---|---|---|---|"]
        for r in (r for r in table if r["paper"] == paper):
            section = _link(r["section"], r["title"] or r["section"]) if r["profile"] else "—"
            within = f"{r['within']} / {r['n']}" if r["n"] else "—"
            lines.append(f"| {r['id']} | {r['what']} | {_BADGES.get(r['verdict'], '')} {r['verdict']} | {within} "
                         f"| {r['profile'] or '—'} | {section} |")
    return "\n".join(lines) + "\n"


def write(path: Path | None = None) -> Path:
    """Write the scoreboard page (default ``<checkout>/book/scoreboard.md``)."""
    root = config.repo_root() or Path.cwd()
    path = path or root / "book" / "scoreboard.md"
    path.write_text(render(rows()))
    return path


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
