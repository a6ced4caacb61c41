"""The scoreboard page and the landing page's summary, aggregated from the result records.

``python -m ftlib.scoreboard [output.md]`` writes ``book/scoreboard.md``,
``book/_generated/summary.md`` and ``book/_generated/beyond_findings.md``
(all generated, never committed; the book build
writes them before ``jupyter-book`` runs). Ids without a record are listed as
"not yet reproduced". Archived runs (:mod:`ftlib.archive`, e.g. the ``paper``
profile) are shown beside this build's verdicts: a column per archived profile
in the "At a glance" table and in the detailed rows, one sentence per id whose
verdicts differ, verdict counts per profile on the landing page, and the parts
whose paper settings were not run (:mod:`ftlib.not_run`).
"""

from __future__ import annotations

import datetime as _dt
import sys
from collections import Counter
from pathlib import Path

from . import config, reference
from .report import (IMPLEMENTED, NO_EVIDENCE, NOT_REPRODUCED, NOT_RUNNABLE, NOT_YET, PARTLY, REPRODUCED, SMOKE,
                     STRONG, WEAK, anchor_id, combined_verdict, explain, load_records)

BADGES = {REPRODUCED: "✓", PARTLY: "◐", NOT_REPRODUCED: "✗", IMPLEMENTED: "◇", SMOKE: "∅", NOT_RUNNABLE: "⊘",
          NOT_YET: "…", STRONG: "●", WEAK: "◑", NO_EVIDENCE: "○"}
"""One symbol per verdict, used on every page that shows verdicts (plain Unicode that common fonts have:
colour emoji showed as empty boxes in a browser without an emoji font)."""

ORDER = (REPRODUCED, PARTLY, NOT_REPRODUCED, IMPLEMENTED, STRONG, WEAK, NO_EVIDENCE, NOT_RUNNABLE, SMOKE, NOT_YET)
"""The order in which the scoreboard groups the ids of a paper."""

SUMMARY = "book/_generated/summary.md"
"""The landing page's generated include file, relative to the checkout."""

FINDINGS = "book/_generated/beyond_findings.md"
"""The "Beyond the papers" chapter page's generated include file (this build's findings), relative to the checkout."""


def _label(paper: str) -> str:
    return f"scoreboard-{paper}"


def _cell(value) -> str:
    """A value as the text of one Markdown table cell (numbers to 4 significant digits, Markdown escaped)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = " ".join(str(value).split())
    for ch in ("\\", "|", "$", "*", "`"):
        text = text.replace(ch, "\\" + ch)
    return text.replace("<", "&lt;")


def _badge(verdict: str) -> str:
    return f"{BADGES.get(verdict, '')} {verdict}".strip()


def rows(records: list[dict] | None = None) -> list[dict]:
    """One dict per checklist id: id, paper, what, verdict, counts, profile, section, comparisons."""
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
            "verdict": combined_verdict([c for _, c in found]) if found else NOT_YET,
            "why": explain([c for _, c in found]) if found else "",
            "within": sum(v == REPRODUCED for v in verdicts), "n": len(verdicts),
            "profile": rec["profile"] if rec else "", "section": rec["section"] if rec else ref.section,
            "title": rec["title"] if rec else "",
            "created": rec["created"] if rec else "",
            "comparisons": [c for _, c in found],
        })
    return out


def archive_rows(archived: list | None) -> dict[str, dict[str, dict]]:
    """``{profile: {id: row}}`` of the archived sections (:class:`ftlib.archive.Archived`): each row holds the
    id's archived verdict, its comparisons, and the archive's stamp, commit, date and stale marking."""
    out: dict[str, dict[str, dict]] = {}
    for a in archived or []:
        for r in rows([a.record]):
            if not r["comparisons"]:
                continue
            out.setdefault(a.profile, {})[r["id"]] = {**r, "stale": a.stale, "stale_text": a.stale_text(),
                                                       "commit": a.commit, "date": a.date, "stamp": a.stamp()}
    return out


def _archived_cell(row: dict | None, not_run: bool = False) -> str:
    if row is None:
        return "⊘ paper settings not run" if not_run else "—"
    return _badge(row["verdict"]) + (" (**stale**)" if row["stale"] else "")


def disagreements(table: list[dict], arch: dict[str, dict[str, dict]]) -> list[str]:
    """One sentence per (id, archived profile) whose archived verdict differs from this build's
    (:func:`ftlib.archive.disagreement`)."""
    from .archive import disagreement

    out = []
    for profile, by_id in arch.items():
        for r in table:
            a = by_id.get(r["id"])
            if a and r["profile"]:
                s = disagreement(r["id"], r["verdict"], r["profile"], a["verdict"], profile)
                if s:
                    out.append(s + (" (The archived run is stale.)" if a["stale"] else ""))
    return out


def _not_run_ids() -> set[str]:
    from .not_run import current

    return {i for e in current() for i in e.ids}


def render_not_run() -> str:
    """The scoreboard's "paper settings not run" part: each declared part (:data:`ftlib.not_run.NOT_RUN`) with
    why, its measured cost (per epoch of its probes; the section's plan) and where it was measured (or "cost not
    yet measured"), and the command; a part archived since, and current, is not listed (:func:`ftlib.not_run.current`)."""
    from .not_run import current

    parts = current()  # the declared parts without a current paper archive
    lines = ["", "(scoreboard-not-run)=", "## paper settings not run", ""]
    if not parts:
        return "\n".join(lines + ["Every part of the book has an archived run with the paper's settings.", ""])
    lines += ["These parts were not run with the papers' own settings on these machines (declared in "
              "`ftlib.not_run`; a cost is a measurement, with the file it was measured in, or says it was not "
              "measured yet).", "",
              "| section | ids | why | measured cost | command |", "|---|---|---|---|---|"]
    lines += [f"| {e.section} | {', '.join(e.ids)} | {_cell(e.why)} | {_cell(e.cost())} | `{e.command}` |"
              for e in parts]
    return "\n".join(lines) + "\n"


STATUS = "book/status.md"
"""The build-status page (generated): every section's profile, execution time, commit and date."""

CITE = "book/_generated/cite.md"
"""The "How to cite" part of the rerun page (generated): this build's version and commit, BibTeX of the papers."""

_GOOD = (REPRODUCED, STRONG)


def headline(r: dict) -> str:
    """The headline claim of a checklist id: the reference's ``headline`` when it has one, else its ``what``."""
    ref = reference.REFERENCES.get(r["id"])
    return getattr(ref, "headline", None) or r.get("headline") or r["what"]


def reason(r: dict) -> str:
    """Why an id got its verdict, in the words of its result rows: the ``reason`` of the id (when the verdict
    logic gives one), else the reason or note of the first row that did not reproduce, else of the first row,
    else a count of the comparisons within tolerance. Full text, never cut."""
    if r.get("reason"):
        return str(r["reason"])
    comps = r["comparisons"]
    if not comps:
        return "no notebook of this build reports it" if r["verdict"] == NOT_YET else ""
    from .report import IMPLEMENTED as _IMPL, headline_rows

    heads = headline_rows(comps) or comps  # an id's verdict follows its headline claims: so does its reason
    failing = [c for c in heads if c.get("verdict") not in _GOOD + (_IMPL,)]
    for c in failing + heads:
        text = c.get("reason") or c.get("note")
        if text:
            return " ".join(str(text).split())
    if failing:
        c = failing[0]
        return f"{c['claim']}: ours {_cell(c['ours'])}, the paper's {_cell(c['paper'])}"
    return r.get("why") or f"{r['within']} of {r['n']} comparisons within tolerance"


def section_href(r: dict, base: str = "_executed/") -> str:
    """The URL (relative to ``book/``) of the id's anchor on its section page, or "" when it has none."""
    if not r["profile"]:
        return ""
    return f"{base}{r['section']}.html#{anchor_id(r['id'])}"


def _id_link(r: dict) -> str:
    href = section_href(r)
    return f'<a href="{href}"><strong>{r["id"]}</strong></a>' if href else f"**{r['id']}**"


def render_compact(table: list[dict], arch: dict[str, dict[str, dict]] | None = None) -> str:
    """The scoreboard's first table: one line per checklist id (paper, id linked to its anchor on its
    section page, headline claim, verdict, the reason), with a column per archived profile (``arch``, from
    :func:`archive_rows`: its verdict, marked stale when its code changed since), then one sentence per id
    whose verdicts differ."""
    arch = arch or {}
    not_run = _not_run_ids()
    extra = "".join(f" {p} settings (archived) |" for p in arch)
    lines = ["(scoreboard-at-a-glance)=", "## At a glance", "",
             "One line per checklist id; the id links to its verdict on its section page, the detailed rows "
             "of every comparison follow below."
             + (" The archived column(s) give the verdict of a run the build archived (its profile, commit and "
                "date are in the detailed rows; **stale**: the code or settings changed since that run)."
                if arch else ""), "",
             f"| paper | id | headline claim | verdict |{extra} why |", "|---|---|---|---|" + "---|" * len(arch) + "---|"]
    for r in table:
        cols = "".join(f" {_archived_cell(by_id.get(r['id']), p == 'paper' and r['id'] in not_run)} |"
                       for p, by_id in arch.items())
        lines.append(f"| {r['paper']} | {_id_link(r)} | {_cell(headline(r))} | {_badge(r['verdict'])} |{cols} "
                     f"{_cell(reason(r))} |")
    differ = disagreements(table, arch)
    if differ:
        lines += ["", "Where the verdicts differ:", ""] + [f"- {_cell(d)}" for d in differ]
    return "\n".join(lines) + "\n"


def _section_link(r: dict) -> str:
    if not r["profile"]:
        return "—"
    return f"[{r['section'].split('/', 1)[-1]}](_executed/{r['section']}.ipynb)"


def render(table: list[dict], archived: list | None = None) -> str:
    """The scoreboard page as MyST Markdown: per paper, ids grouped by verdict, one row per comparison; with
    ``archived`` (:func:`ftlib.archive.load`), each archived profile's verdict and numbers beside this build's
    and the parts whose paper settings were not run."""
    from .archive import match_rows

    arch = archive_rows(archived)
    counts = Counter(r["verdict"] for r in table)
    profiles = sorted({r["profile"] for r in table if r["profile"]})
    lines = [
        "# Scoreboard",
        "",
        "Every table and figure of the four papers, by checklist id, with our verdict. "
        "An id's verdict follows its *headline* claims (declared in `ftlib.claims` with their test, α and "
        "tolerance before anything runs; the other rows are detail, shown but not counted): **reproduced** when "
        "every headline claim passes its rule, **partly reproduced** when some do or when a headline claim could "
        "not run here, **not reproduced** when none does; **implemented** marks an algorithm, setting or diagram "
        "that exists and runs (never counted as reproduced). Numbers made by the `smoke` profile are never "
        "verdicts; **not runnable here** marks claims these machines cannot check (e.g. they need a GPU). "
        "The *gap* is ours − paper, for numeric claims only. "
        "The last part, **beyond the papers**, lists the findings of the book's own study: they have no paper "
        "value, and their verdict is the finding's confidence (**strong evidence**: its test gives p < 0.01, "
        "**weak evidence**: p < 0.05, **no evidence** otherwise).",
        "",
        f"Built from the profile(s): {', '.join(f'`{p}`' for p in profiles) if profiles else 'none yet'}.",
        "",
        "| verdict | ids |",
        "|---|---|",
    ]
    lines += [f"| {_badge(v)} | {counts[v]} |" for v in ORDER if counts[v]]
    for profile, by_id in arch.items():
        got = Counter(a["verdict"] for a in by_id.values())
        stale = sum(a["stale"] for a in by_id.values())
        lines += ["", f"Archived with the `{profile}` profile: {len(by_id)} ids, "
                  + ", ".join(f"{_badge(v)} {got[v]}" for v in ORDER if got[v])
                  + (f"; {stale} of them stale (the code or settings changed since)." if stale else ".")]
    lines += ["", render_compact(table, arch)]
    for paper, title in {**reference.PAPERS, **reference.STUDIES}.items():
        mine = [r for r in table if r["paper"] == paper]
        paper_counts = Counter(r["verdict"] for r in mine)
        heading = "beyond the papers" if paper in reference.STUDIES else paper
        lines += ["", f"({_label(paper)})=", f"## {heading}", "", f"*{_cell(title)}*", "",
                  " · ".join(f"{_badge(v)}: {paper_counts[v]}" for v in ORDER if paper_counts[v])]
        for verdict in ORDER:
            group = [r for r in mine if r["verdict"] == verdict]
            if not group:
                continue
            lines += ["", f"### {_badge(verdict)} ({len(group)} {'id' if len(group) == 1 else 'ids'})", ""]
            if verdict == NOT_YET:
                lines += ["| id | what | profile | section |", "|---|---|---|---|"]
                lines += [f"| <span id=\"sb-{anchor_id(r['id'])}\"></span>**{r['id']}** | {_cell(r['what'])} | — "
                          f"| {_section_link(r)} |" for r in group]
                continue
            extra = "".join(f" {p} (archived): ours · verdict |" for p in arch)
            lines += [f"| id | claim | paper | ours | gap | verdict | why | profile | section |{extra}",
                      "|---|---|---|---|---|---|---|---|---|" + "---|" * len(arch)]
            for r in group:
                # this build's rows with each archived profile's matching row beside them; archived rows with
                # no counterpart in this build follow
                pairs = {p: match_rows(r["comparisons"], (by_id.get(r["id"]) or {}).get("comparisons", []))
                         for p, by_id in arch.items()}
                mine_rows = [(c, {p: next((b for a_, b in pairs[p] if a_ is c), None) for p in arch})
                             for c in r["comparisons"]]
                only = [(p, b) for p in arch for a_, b in pairs[p] if a_ is None and b is not None]
                for i, (c, beside) in enumerate(mine_rows):
                    first = i == 0
                    ident = (f'<span id="sb-{anchor_id(r["id"])}"></span>{_id_link(r)}' if first else "")
                    lines.append(
                        f"| {ident} | {_cell(c['claim'])} | {_cell(c['paper'])} "
                        f"| {_cell(c['ours'])} | {_cell(c['gap'])} | {_badge(c['verdict'])} "
                        f"| {_cell(c.get('reason') or c.get('note'))} "
                        f"| {r['profile'] if first else ''} | {_section_link(r) if first else ''} |"
                        + "".join(f" {_beside(beside[p], arch[p].get(r['id']), first)} |" for p in arch))
                for p, b in only:
                    lines.append(f"| | {_cell(b['claim'])} | {_cell(b['paper'])} | — | — | — | only in the "
                                 f"archived {p} run | | |"
                                 + "".join(f" {_beside(b, arch[q].get(r['id']), True) if q == p else '—'} |"
                                           for q in arch))
    return "\n".join(lines) + "\n"


def _beside(row: dict | None, id_row: dict | None, first: bool) -> str:
    """A detailed row's archived cell: the archived ours and verdict, with the archive's commit and date (and
    the stale marking) on the id's first row."""
    if row is None:
        return "—"
    text = f"{_cell(row['ours'])} · {_badge(row['verdict'])}"
    if first and id_row:
        text += f" (commit `{id_row['commit']}`, {id_row['date']}" + ("; **stale**: " + _cell(id_row["stale_text"])
                                                                     if id_row["stale"] else "") + ")"
    return text


BUDGET_MIN = {"smoke": 10, "quick": 30}
"""The whole book's wall-time budget per profile on 2 CPU cores from a cold cache, minutes (DESIGN.md)."""


def render_timings(records: list[dict]) -> str:
    """The "build time" part of the scoreboard: each notebook's wall time from its result record, the sum per
    profile and the budget it is held to. A record's time is that of its own run: a notebook that found its
    models in the cache ran faster than it would from a cold cache."""
    runs = sorted((r["section"], r.get("profile", "?"), float(r["wall_time_s"])) for r in records
                  if r.get("wall_time_s") is not None)
    if not runs:  # the label stays: other pages refer to it
        return "\n".join(["", "(scoreboard-build-time)=", "## build time", "",
                          "No result records yet: the notebooks of this copy have not run "
                          "(`python -m ftlib.build`).", ""])
    lines = ["", "(scoreboard-build-time)=", "## build time", "",
             "Wall time of each notebook of this copy, from its result record (kernel start-up and the HTML "
             "build come on top, about 5 s per notebook and half a minute). "
             + ", ".join(f"`{p}`: {BUDGET_MIN[p]} min" for p in BUDGET_MIN)
             + " is the budget of the whole book from a cold cache on 2 CPU cores; a notebook that found its "
             "models in the cache ran faster than a cold one would.", "",
             "| notebook | profile | wall time (s) |", "|---|---|---|"]
    lines += [f"| [{sec}](_executed/{sec}.ipynb) | {prof} | {secs:.0f} |" for sec, prof, secs in runs]
    for prof in sorted({p for _, p, _ in runs}):
        total = sum(secs for _, p, secs in runs if p == prof)
        budget = BUDGET_MIN.get(prof)
        lines.append(f"| **all `{prof}` notebooks** | {prof} | **{total:.0f}** ({total / 60:.1f} min"
                     + (f" of the {budget}-min budget)" if budget else ")") + " |")
    return "\n".join(lines) + "\n"


def _when(iso: str) -> str:
    try:
        return _dt.datetime.fromisoformat(iso).astimezone(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso


def render_summary(table: list[dict], records: list[dict], archived: list | None = None) -> str:
    """The landing page's generated part: who built this copy, and the verdict counts per paper and profile
    (this build's, then each archived profile's, :func:`ftlib.archive.load`)."""
    arch = archive_rows(archived)
    every = list(table) + [a for by_id in arch.values() for a in by_id.values()]
    shown = [v for v in ORDER if v in (REPRODUCED, PARTLY, NOT_REPRODUCED) or any(r["verdict"] == v for r in every)]
    lines = []
    if records:
        profiles = Counter(r.get("profile", "?") for r in records)
        created = sorted(r.get("created", "") for r in records if r.get("created"))
        commits = sorted({r.get("git_commit") or "unknown" for r in records})
        code = ", ".join(f"`{c[:12]}{'+dirty' if c.endswith('+dirty') else ''}`" for c in commits)
        made = ", ".join(f"`{p}` ({n} {'section' if n == 1 else 'sections'})" for p, n in profiles.most_common())
        span = _when(created[-1]) if created and created[0][:16] == created[-1][:16] else (
            f"{_when(created[0])} to {_when(created[-1])}" if created else "an unknown date")
        lines += [f"**This copy of the book** was computed with the profile {made}, from "
                  f"{len(records)} result {'record' if len(records) == 1 else 'records'} written {span}, "
                  f"git commit {code}."]
        if "smoke" in profiles:
            lines += ["", "```{warning}", "The `smoke` profile made (some of) these numbers: tiny subsets and one "
                      "epoch, to test the pipeline. They are meaningless, and the verdicts say so. Build the book "
                      "with the `quick` profile (the default) for real results.", "```"]
    else:
        lines += ["**This copy of the book has no results yet**: no notebook was executed. "
                  "See {doc}`/book/rerun` to build it."]
    this = ", ".join(sorted({r["profile"] for r in table if r["profile"]})) or "this build"
    if arch:
        lines += ["", "Verdicts per profile: this build's (" + this + ") and those of the archived runs "
                  "(the papers' own settings, run once and kept in the repository; an archived row counts only the "
                  "ids it ran, *stale* ones included). See the {ref}`scoreboard <scoreboard-at-a-glance>`."]
    lines += ["", "| paper | profile | " + " | ".join(_badge(v) for v in shown) + " | ids |",
              "|---|---|" + "---|" * (len(shown) + 1)]
    for paper in {**reference.PAPERS, **reference.STUDIES}:
        mine = Counter(r["verdict"] for r in table if r["paper"] == paper)
        lines.append(f"| {{ref}}`{paper} <{_label(paper)}>` | {this} | " + " | ".join(str(mine[v]) for v in shown)
                     + f" | {sum(mine.values())} |")
        for profile, by_id in arch.items():
            got = [a for a in by_id.values() if a["paper"] == paper]
            if got:
                c = Counter(a["verdict"] for a in got)
                stale = sum(a["stale"] for a in got)
                lines.append(f"| | {profile} (archived{f', {stale} stale' if stale else ''}) | "
                             + " | ".join(str(c[v]) for v in shown) + f" | {len(got)} |")
    total = Counter(r["verdict"] for r in table)
    lines.append(f"| **all** | {this} | " + " | ".join(f"**{total[v]}**" for v in shown) + f" | **{len(table)}** |")
    for profile, by_id in arch.items():
        c = Counter(a["verdict"] for a in by_id.values())
        lines.append(f"| **all** | {profile} (archived) | " + " | ".join(f"**{c[v]}**" for v in shown)
                     + f" | **{len(by_id)}** |")
    return "\n".join(lines) + "\n"


def render_findings(table: list[dict], study: str = "beyond", records: list[dict] | None = None) -> str:
    """The findings of the book's own study ``study`` with this build's numbers and confidence, one row per
    test, and (given the ``records``) the wall time of each of its notebooks (for the chapter page: it restates
    no number by hand, so it cannot go stale)."""
    mine = [r for r in table if r["paper"] == study]
    done = [r for r in mine if r["comparisons"]]
    lines = []
    if not done:
        return "*No finding of this study has been computed in this copy of the book yet.*\n"
    profiles = sorted({r["profile"] for r in done})
    lines += [f"*Computed by this build with the profile {', '.join(f'`{p}`' for p in profiles)}.*", "",
              "| id | finding tested | this build | confidence | section |", "|---|---|---|---|---|"]
    for r in done:
        for i, c in enumerate(r["comparisons"]):
            first = i == 0
            lines.append(f"| {'**' + r['id'] + '**' if first else ''} | {_cell(c['claim'])} | {_cell(c['ours'])} "
                         f"| {_badge(c['verdict'])} | {_section_link(r) if first else ''} |")
    missing = [r["id"] for r in mine if not r["comparisons"]]
    if missing:
        lines += ["", f"Not computed in this copy: {', '.join(missing)}."]
    if records:
        runs = sorted((r["section"], r.get("profile", "?"), r.get("wall_time_s")) for r in records
                      if r.get("section", "").split("/", 1)[0] == study and r.get("wall_time_s") is not None)
        if runs:
            lines += ["", "Wall time of each notebook in this build (from its result record; a run that found its "
                      "models in the cache is faster than a cold one): "
                      + ", ".join(f"{sec.split('/', 1)[-1]} {secs:.0f} s (`{prof}`)" for sec, prof, secs in runs)
                      + f"; {sum(r[2] for r in runs) / 60:.1f} min in all."]
    return "\n".join(lines) + "\n"


REPRO = "book/_generated/reproducibility_{paper}.md"
"""Each paper's reproducibility summary (included from its chapter page), relative to the checkout."""


def _reason(c: dict) -> str:
    why = c.get("reason") or c.get("note") or ""
    return f"{_cell(c['claim'])}" + (f" ({_cell(why)})" if why else "")


def render_reproducibility(table: list[dict], records: list[dict], paper: str) -> str:
    """``paper``'s reproducibility summary in the ML Reproducibility Challenge's form (scope; what reproduced;
    what did not, and why; deviations from the paper; what was easy; what was hard), generated from the result
    records of this build: every number on it comes from a record."""
    from .report import headline_rows

    mine = [r for r in table if r["paper"] == paper]
    recs = [r for r in records if r.get("paper") == paper]
    if not any(r["comparisons"] for r in mine):
        return "*No result of this chapter has been computed in this copy of the book yet.*\n"
    profiles = sorted({r.get("profile", "?") for r in recs})
    by = {v: [r for r in mine if r["verdict"] == v] for v in ORDER}
    ids = lambda vs: ", ".join(f"**{r['id']}**" for v in vs for r in by[v]) or "none"  # noqa: E731
    lines = ["(reproducibility-" + paper + ")=", "### Reproducibility summary", "",
             f"*Generated from the {len(recs)} result {'record' if len(recs) == 1 else 'records'} of this build "
             f"(profile {', '.join(f'`{p}`' for p in profiles)}); an id's verdict follows its headline claims.*", "",
             f"**Scope.** {len(mine)} checklist ids of {_cell(reference.PAPERS.get(paper, paper))}, in "
             f"{len(recs)} {'section' if len(recs) == 1 else 'sections'}: "
             + "; ".join(f"{_cell(r.get('title', r['section']))} ({', '.join(r.get('ids', []))})" for r in recs) + ".",
             "", f"**What reproduced.** {ids([REPRODUCED])}. Partly: {ids([PARTLY])}. "
             f"Implemented (exists and runs; not a reproduction): {ids([IMPLEMENTED])}.", "",
             "**What did not, and why.**"]
    failed = [r for v in (NOT_REPRODUCED, PARTLY) for r in by[v]]
    if not failed:
        lines.append("Every headline claim that ran reproduced.")
    for r in failed:
        bad = [c for c in headline_rows(r["comparisons"]) if c["verdict"] not in (REPRODUCED, IMPLEMENTED)]
        lines.append(f"- **{r['id']}** ({r['verdict']}): " + "; ".join(_reason(c) for c in bad) + ".")
    lines += ["", "**Deviations from the paper.**"]
    dev = [(r["id"], c) for r in mine for c in r["comparisons"] if c["verdict"] == NOT_RUNNABLE]
    lines += [f"- **{i}**, not run here: {_reason(c)}." for i, c in dev] or ["- Every claim ran here."]
    for rec in recs:
        chosen = [k for k in rec.get("from_profile", []) if k not in ("profile", "seed")]
        if chosen and rec.get("profile") != "paper":
            lines.append(f"- {rec['section'].split('/', 1)[-1]}: the `{rec.get('profile')}` profile set "
                         + ", ".join(f"`{k}={rec['settings'].get(k)!r}`" for k in chosen[:8])
                         + (" …" if len(chosen) > 8 else "") + " (the `paper` profile uses the paper's values).")
    timed = sorted(((r.get("wall_time_s") or 0.0, r["section"].split("/", 1)[-1]) for r in recs), reverse=True)
    lines += ["", f"**What was easy.** {ids([REPRODUCED, IMPLEMENTED])} "
              f"({sum(len(by[v]) for v in (REPRODUCED, IMPLEMENTED))} of {len(mine)} ids).", "",
              f"**What was hard.** Not reproduced: {ids([NOT_REPRODUCED])}; not runnable here: {ids([NOT_RUNNABLE])}. "
              "Longest sections in this build: " + ", ".join(f"{n} {t:.0f} s" for t, n in timed[:3]) + "."]
    from . import claims

    declared = [c for c in claims.CLAIMS.values() if reference.get(c.id).paper == paper]
    if declared:
        lines += ["", "**Declared rules** (`ftlib.claims`: fixed before the run; each is checked against its null "
                  "in `tests/test_claims_null.py`; the power is at the quick profile's sample size):", ""]
        lines += [f"- `{c.key}`{' (headline)' if c.headline else ''}: {_cell(c.text)} — {_cell(c.rule())}."
                  for c in declared]
        undeclared = sorted({r["id"] for r in mine for c in headline_rows(r["comparisons"])
                             if c.get("status", "legacy") == "legacy"})
        if undeclared:
            lines += ["", "Ids whose verdict still comes from an undeclared rule (shown in its row): "
                      + ", ".join(undeclared) + "."]
    return "\n".join(lines) + "\n"


def _commit(rec: dict) -> str:
    c = rec.get("git_commit") or "unknown"
    return c[:12] + ("+dirty" if c.endswith("+dirty") else "")


def render_status(records: list[dict]) -> str:
    """The build-status page: one line per executed section (profile, wall time, commit, date, record)."""
    lines = ["# Build status", "",
             "Every section of this copy of the book, from its result record: the profile that made its numbers, "
             "the wall time of its notebook (a run that found its models in the cache is faster than a cold one), "
             "the git commit of the code and when it ran. The record link opens the machine-readable record.", ""]
    if not records:
        return "\n".join(lines + ["*No section has been executed in this copy yet.*"]) + "\n"
    lines += ["| section | profile | wall time (s) | commit | date | record |", "|---|---|---|---|---|---|"]
    for rec in records:
        sec = rec.get("section", "?")
        wall = rec.get("wall_time_s")
        lines.append(f"| [{sec}](_executed/{sec}.ipynb) | {rec.get('profile', '?')} "
                     f"| {'—' if wall is None else f'{float(wall):.0f}'} | `{_commit(rec)}` "
                     f"| {_when(rec.get('created', '')) if rec.get('created') else '—'} "
                     f'| <a href="../_records/{sec}.json">{sec.split("/", 1)[-1]}.json</a> |')
    total = sum(float(r["wall_time_s"]) for r in records if r.get("wall_time_s") is not None)
    lines += ["", f"{len(records)} sections, {total:.0f} s ({total / 60:.1f} min) of notebook time in all."]
    return "\n".join(lines) + "\n"


def render_cite(records: list[dict]) -> str:
    """The "How to cite" block: this build's ftlib version, commit(s) and date, then BibTeX of each paper."""
    from . import __version__

    commits = sorted({_commit(r) for r in records}) or ["not built"]
    created = sorted(r.get("created", "") for r in records if r.get("created"))
    date = _when(created[-1]) if created else "not built yet"
    year = created[-1][:4] if created else str(_dt.date.today().year)
    lines = ["```text",
             f"The ftlib authors ({year}). Fault tolerance of neural networks: a reproducibility book.",
             f"Version {__version__}, commit {', '.join(commits)}, built {date}.", "```", "",
             "```bibtex",
             "@misc{ftlib_book,",
             "  title = {{Fault tolerance of neural networks: a reproducibility book}},",
             "  author = {{The ftlib authors}},",
             f"  year = {{{year}}},",
             f"  note = {{Version {__version__}, commit {', '.join(commits)}}}",
             "}", "```", "", "The four papers:", ""]
    for key, paper in reference.BIBLIOGRAPHY.items():
        who = ", ".join(paper.authors) if paper.authors else "authors not named in the text the book reproduces"
        link = f" <{paper.url}>" if paper.url else ""
        lines.append(f"- **{key}**: {who}. *{paper.title}*. {paper.venue + '.' if paper.venue else ''}{link}")
    lines += ["", "```bibtex"] + [p.bibtex() + "\n" for p in reference.BIBLIOGRAPHY.values()] + ["```"]
    return "\n".join(lines) + "\n"


def write(path: Path | None = None, summary: Path | None = None) -> Path:
    """Write the scoreboard page (default ``<checkout>/book/scoreboard.md``) and the landing page's summary
    (default ``<checkout>/book/_generated/summary.md``); returns the scoreboard's path."""
    root = config.repo_root() or Path.cwd()
    path = path or root / "book" / "scoreboard.md"
    summary = summary or root / SUMMARY
    from . import archive

    records = load_records()
    table = rows(records)
    archived = archive.load()
    path.write_text(render(table, archived) + render_not_run() + render_timings(records))
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(render_summary(table, records, archived))
    (summary.parent / Path(FINDINGS).name).write_text(render_findings(table, records=records))
    for paper in reference.PAPERS:
        (summary.parent / Path(REPRO.format(paper=paper)).name).write_text(render_reproducibility(table, records, paper))
    (summary.parent / Path(CITE).name).write_text(render_cite(records))
    (path.parent / Path(STATUS).name).write_text(render_status(records))
    return path


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
