"""The results archive: runs that CI cannot repeat (the ``paper`` profile), kept in the repository.

Written by the book's own build, never by hand::

    python -m ftlib.build --profile paper --chapter continuous_limit --archive

After executing, the build archives every section of the selected chapters
whose notebook ran successfully in this build or is current by its stamp
(:func:`archive_section`); a failed section, a section whose record is
missing or was made by another profile or seed, and the ``smoke`` profile are
refused with one message saying what to do.

Layout (``book/_archive``, committed; ``$FTLIB_ARCHIVE_DIR`` elsewhere)::

    book/_archive/<profile>/<paper>/<section>.json              the archived section
    book/_archive/<profile>/<paper>/<section>/<figure>.<sha>.png its figures, recompressed

The JSON holds ``{"archive": metadata, "record": result record}``: the
record is the notebook's own (comparison rows with their verdicts, settings,
seed, figures with their captions), and the metadata says where it came from:
the commit and date of the run, the machine (cores, CPU model, torch device),
the wall time, the seed and settings, and the code its numbers depend on
(``code``: ``{path: sha256}`` of every file of the cache-salt parts of the
cache entries the run created or loaded, every ``ftlib.experiments`` module
its kernel loaded and the notebook source; see
:func:`ftlib.report.code_files`). Figures are re-encoded as 256-colour
optimised PNGs at the original resolution (a plot has few colours; the text
keeps its size on screen), scaled down only when that is still over
:data:`FIGURE_MAX_BYTES`. The figure files carry a content hash in their name:
the JSON, written last and atomically, always names files that exist, and
files no JSON names are removed after it. No executed notebook and no other
output is archived.

How the book shows it (the mechanism, chosen over a cell written into each
executed notebook): at every HTML build, the book's Sphinx extension
(``book/_ext/ftbook.py``) puts :func:`section_html` right after each section
page's "Verdicts and why" block, and the scoreboard and the landing page
summary (:mod:`ftlib.scoreboard`, written by every build) read the archive
too. Both read the archive and the checkout's files when the site is built, so
an archive refreshed without any notebook re-executing, or code edited since
the archived run, shows at once, and the executed notebooks stay exactly what
papermill wrote. An archived section whose code map no longer matches the
files of the checkout, or whose settings differ from what its profile gives
now, is **stale** (:attr:`Archived.stale`): still shown, with the files that
changed or are missing and the settings that differ.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import config
from .errors import ArchiveError, FtlibError
from .store import atomic_write_bytes, sha256_file

FORMAT = 1
"""Version of the archived section's JSON layout."""

FIGURE_MAX_BYTES = 150_000
"""The largest an archived figure may be (bytes): a figure still larger once re-encoded is scaled down."""

MIN_SCALE = 0.35
"""The smallest scale a figure is shrunk to; a figure that does not fit :data:`FIGURE_MAX_BYTES` even then is
refused."""

ARCHIVE = "book/_archive"
"""The archive's folder, relative to the checkout."""

REFUSED_PROFILES = ("smoke",)
"""Profiles never archived: their numbers are meaningless."""


def archive_dir() -> Path:
    """Where the archive lives: ``$FTLIB_ARCHIVE_DIR``, else ``<checkout>/book/_archive``, else ``./ftlib_archive``."""
    env = os.environ.get("FTLIB_ARCHIVE_DIR")
    if env:
        return Path(env).expanduser().resolve()
    root = config.repo_root()
    return root / ARCHIVE if root else Path.cwd() / "ftlib_archive"


def optional_json(name: str, remedy: str) -> dict[str, Any]:
    """The JSON file ``name`` of the archive folder (:func:`archive_dir`), or ``{}`` when it is absent; a file
    that does not parse raises :class:`~ftlib.errors.FtlibError` saying ``remedy`` (what to rerun)."""
    path = archive_dir() / name
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError:
        raise FtlibError(f"{path} is unreadable; {remedy}") from None


def code_root() -> Path:
    """The checkout whose files an archived code map is compared with (the one ftlib is imported from)."""
    return Path(__file__).resolve().parent.parent


def check_profile(profile: str) -> None:
    """Raise :class:`~ftlib.errors.ArchiveError` for a profile that is never archived (``smoke``)."""
    if profile in REFUSED_PROFILES:
        raise ArchiveError(f"the {profile} profile is not archived: its numbers are meaningless (tiny subsets, one "
                           f"epoch). Archive a quick or paper build, e.g. python -m ftlib.build --profile paper "
                           f"--chapter continuous_limit --archive")


def _utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def recompress(png: bytes, max_bytes: int = FIGURE_MAX_BYTES) -> tuple[bytes, float]:
    """``(png bytes, scale)``: ``png`` re-encoded as an optimised 256-colour PNG (Pillow), at its resolution
    when that fits ``max_bytes``, else scaled down by steps of 0.8 until it fits; the original when it is
    smaller. Raises :class:`~ftlib.errors.ArchiveError` when even :data:`MIN_SCALE` does not fit."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    image.load()
    if "A" in image.getbands() and image.getchannel("A").getextrema()[0] == 255:
        image = image.convert("RGB")  # opaque: no alpha channel to keep
    elif image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    scale = 1.0
    while scale >= MIN_SCALE:
        shown = image if scale == 1.0 else image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.LANCZOS)
        method = Image.Quantize.MEDIANCUT if shown.mode == "RGB" else Image.Quantize.FASTOCTREE
        buf = io.BytesIO()
        shown.quantize(colors=256, method=method).save(buf, format="PNG", optimize=True)
        data = buf.getvalue()
        if scale == 1.0 and len(png) <= len(data):
            data = png
        if len(data) <= max_bytes:
            return data, scale
        scale *= 0.8
    raise ArchiveError(f"a figure of {len(png)} bytes does not fit {max_bytes} bytes even at scale {MIN_SCALE}: "
                       f"draw it smaller (fewer points, a smaller figsize) and rerun its notebook")


def _read_record(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ArchiveError(f"no result record {path}: the section did not run to its end; run it again "
                           f"(python -m ftlib.build --chapter {path.parent.name} ...)") from None
    except (OSError, ValueError) as exc:
        raise ArchiveError(f"result record {path} is unreadable ({exc}); run its section again") from None


def check_record(record: dict[str, Any], key: str, profile: str, seed: int) -> None:
    """Raise :class:`~ftlib.errors.ArchiveError` unless ``record`` is a whole run of section ``key`` with
    ``profile`` and ``seed`` and carries its code map (a record of an older ftlib has none)."""
    check_profile(profile)
    rerun = f"run it again: python -m ftlib.build --profile {profile} --chapter {key.split('/')[0]} --force"
    if record.get("section") != key:
        raise ArchiveError(f"{key}: its result record is of section {record.get('section')!r}; {rerun}")
    if record.get("profile") != profile or record.get("seed") != seed:
        raise ArchiveError(f"{key}: its result record was made with profile {record.get('profile')!r}, seed "
                           f"{record.get('seed')!r}, not {profile!r}, seed {seed}; {rerun}")
    if not record.get("comparisons") and record.get("ids"):
        raise ArchiveError(f"{key}: its result record has no comparison row (a partial run); {rerun}")
    if not isinstance(record.get("code_files"), dict) or not record["code_files"]:
        raise ArchiveError(f"{key}: its result record has no code map (made by an older ftlib); {rerun}")


def section_path(key: str, profile: str, root: Path | None = None) -> Path:
    """The archived section's JSON: ``<archive>/<profile>/<paper>/<section>.json``."""
    return (root or archive_dir()) / profile / f"{key}.json"


def archive_section(key: str, profile: str, seed: int, results: Path | None = None, root: Path | None = None,
                    build_seconds: float | None = None) -> Path:
    """Archive section ``key`` from its result record under ``results`` (default
    :func:`ftlib.config.results_dir`) into ``root`` (default :func:`archive_dir`); returns the JSON's path.

    The caller (``python -m ftlib.build --archive``) passes only sections that ran successfully or are
    current by their stamp; this checks the record itself (:func:`check_record`) and that every figure it
    names exists (never a partial section). Figures are written first (recompressed, content-named), the
    JSON last and atomically, then files of an earlier archive of the section that it no longer names are
    removed. ``build_seconds``: the execution time of this build when it ran the notebook.
    """
    check_profile(profile)
    results = results or config.results_dir()
    root = root or archive_dir()
    record_path = results / f"{key}.json"
    record = _read_record(record_path)
    check_record(record, key, profile, seed)
    figures_in = record.get("figures") or []
    sources = []
    for fig in figures_in:
        src = results / fig["file"]
        if not src.is_file():
            raise ArchiveError(f"{key}: figure {fig['file']} of its record is missing under {results} (a partial "
                               f"run); run the section again")
        # a notebook writes its figures before its record: a newer figure is from a later run that did not finish
        if src.stat().st_mtime > record_path.stat().st_mtime + 1.0:
            raise ArchiveError(f"{key}: figure {fig['file']} is newer than its record (a later run of the section "
                               f"stopped before its end); run the section again")
        sources.append(src)
    folder = root / profile / key
    figures_out, archived_figs = [], []
    for fig, src in zip(figures_in, sources):
        original = src.read_bytes()
        data, scale = recompress(original)
        digest = hashlib.sha256(data).hexdigest()
        rel = f"{profile}/{key}/{fig['name']}.{digest[:12]}.png"
        target = root / rel
        if not target.is_file() or sha256_file(target) != digest:
            atomic_write_bytes(target, data)
        figures_out.append({**fig, "file": rel})
        archived_figs.append({"name": fig["name"], "file": rel, "bytes": len(data), "sha256": digest,
                              "scale": round(scale, 4), "original_bytes": len(original)})
    record = {**record, "figures": figures_out}
    meta = {
        "format": FORMAT, "section": key, "profile": profile, "seed": seed,
        "commit": record.get("git_commit"), "date": record.get("created"), "archived": _utc_now(),
        "machine": record.get("machine") or {"unknown": "the run's record does not say"},
        "wall_time_s": record.get("wall_time_s"), "build_seconds": build_seconds,
        "settings": record.get("settings"), "code": record["code_files"], "figures": archived_figs,
        "command": f"python -m ftlib.build --profile {profile} --section {key} --archive",
    }
    path = section_path(key, profile, root)
    atomic_write_bytes(path, json.dumps({"archive": meta, "record": record}, indent=1, sort_keys=True,
                                        default=str).encode())
    keep = {Path(f["file"]).name for f in archived_figs}
    if folder.is_dir():
        for old in folder.iterdir():
            if old.is_file() and old.name not in keep and not old.name.startswith("."):
                old.unlink()
    return path


@dataclass
class Archived:
    """One archived section as read back: its metadata, its record, and how it differs from the checkout.

    ``changed``/``missing``: files of its code map whose content differs / that no longer exist;
    ``settings_changed``: ``"name: archived → now"`` for each setting its profile gives differently now.
    """

    path: Path
    meta: dict[str, Any]
    record: dict[str, Any]
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    settings_changed: list[str] = field(default_factory=list)

    @property
    def section(self) -> str:
        return self.meta["section"]

    @property
    def profile(self) -> str:
        return self.meta["profile"]

    @property
    def stale(self) -> bool:
        """True when the code or the profile's settings changed since the archived run."""
        return bool(self.changed or self.missing or self.settings_changed)

    @property
    def commit(self) -> str:
        """The run's commit, 7 characters (``+dirty`` kept)."""
        c = self.meta.get("commit") or "unknown"
        return c[:7] + ("+dirty" if c.endswith("+dirty") else "")

    @property
    def date(self) -> str:
        """The run's date (UTC), ``YYYY-MM-DD``."""
        return str(self.meta.get("date") or "unknown date")[:10]

    def stamp(self) -> str:
        """One line: profile, commit, date, wall time, the machine it ran on."""
        wall = self.meta.get("wall_time_s")
        m = self.meta.get("machine") or {}
        where = (f"{m.get('cpu_count')} cores ({m.get('cpu_model') or 'CPU model unknown'}), torch device "
                 f"{m.get('torch_device', 'unknown')}" if "cpu_count" in m else "machine unknown")
        return (f"{self.profile} profile · commit {self.commit} · {self.date} · wall "
                f"{'—' if wall is None else _duration(float(wall))} · run on {where} · seed {self.meta.get('seed')}")

    def stale_text(self) -> str:
        """Why this archived section is stale (empty when it is not)."""
        parts = []
        if self.changed:
            parts.append("changed since: " + ", ".join(self.changed))
        if self.missing:
            parts.append("missing now: " + ", ".join(self.missing))
        if self.settings_changed:
            parts.append(f"the {self.profile} profile's settings differ now: " + "; ".join(self.settings_changed))
        return "; ".join(parts)

    def figure_bytes(self, fig: dict[str, Any], root: Path | None = None) -> bytes | None:
        """The bytes of one archived figure (``fig`` from the record's ``figures``), checked against its
        sha256; None when the file is missing or altered."""
        want = {f["file"]: f.get("sha256") for f in self.meta.get("figures", [])}
        base = root or self.path.parents[len(Path(self.section).parts)]  # <archive>/<profile>/<paper>/x.json
        path = base / fig["file"]
        try:
            data = path.read_bytes()
        except OSError:
            return None
        return data if hashlib.sha256(data).hexdigest() == want.get(fig["file"]) else None


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def code_differences(code: dict[str, str], root: Path | None = None,
                     section: str | None = None) -> tuple[list[str], list[str]]:
    """``(changed, missing)``: the files of the code map ``code`` (``{path: sha256}``, paths relative to the
    checkout ``root``, default :func:`code_root`) whose content differs now, and those that no longer exist.
    An ``entries:`` digest (``reference.py`` in a code map) is compared with the ``section``'s own paper
    numbers now (:func:`ftlib.report.reference_digest`), read from the running ftlib."""
    from . import sections
    from .report import reference_digest

    root = root or code_root()
    changed, missing = [], []
    for rel, digest in sorted(code.items()):
        path = root / rel
        if not path.is_file():
            missing.append(rel)
        elif digest.startswith("entries:"):
            try:
                now = reference_digest(sections.get(section).ids) if section else None
            except FtlibError:
                now = None  # the section no longer exists: settings_differences says so
            if now != digest:
                changed.append(f"{rel} (this section's paper numbers)")
        elif sha256_file(path) != digest:
            changed.append(rel)
    return changed, missing


def settings_differences(meta: dict[str, Any]) -> list[str]:
    """``"name: archived → now"`` for each setting the archived section's profile gives differently now (or
    one line saying the section no longer exists)."""
    from . import sections

    try:
        now = sections.resolve(meta["section"], {"profile": meta["profile"], "seed": meta["seed"]}).as_dict()
    except FtlibError:
        return [f"the section {meta['section']} no longer exists"]
    now = json.loads(json.dumps(now, default=str))  # as the record stored them (tuples read back as lists)
    then = meta.get("settings") or {}
    return [f"{k}: {then.get(k)!r} → {now.get(k)!r}" for k in sorted(set(then) | set(now))
            if then.get(k) != now.get(k)]


def read(path: Path, code: Path | None = None) -> Archived:
    """One archived section from its JSON, compared with the checkout ``code`` (default :func:`code_root`)."""
    try:
        doc = json.loads(path.read_text())
        meta, record = doc["archive"], doc["record"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArchiveError(f"archived section {path} is unreadable ({exc}); restore it with git checkout or "
                           f"archive the section again (python -m ftlib.build --profile <profile> --chapter "
                           f"<paper> --archive)") from None
    changed, missing = code_differences(meta.get("code") or {}, code, meta.get("section"))
    return Archived(path, meta, record, changed, missing, settings_differences(meta))


def load(root: Path | None = None, code: Path | None = None) -> list[Archived]:
    """Every archived section under ``root`` (default :func:`archive_dir`), sorted by profile and section."""
    root = root or archive_dir()
    if not root.is_dir():
        return []
    found = [read(p, code) for p in sorted(root.glob("*/*/*.json"))]
    return sorted(found, key=lambda a: (a.profile, a.section))


def id_verdicts(record: dict[str, Any]) -> dict[str, str]:
    """The combined verdict of each checklist id of a result record (:func:`ftlib.report.combined_verdict`)."""
    from .report import combined_verdict

    by_id: dict[str, list[dict]] = {}
    for c in record.get("comparisons", []):
        by_id.setdefault(c["id"], []).append(c)
    return {i: combined_verdict(rows) for i, rows in by_id.items()}


def disagreement(id_: str, now: str, now_profile: str, then: str, then_profile: str) -> str | None:
    """The one sentence saying that this build and an archived profile give checklist id ``id_`` different
    verdicts (``now`` in ``now_profile``, ``then`` archived with ``then_profile``), or None when they agree or
    either is no verdict (smoke, not yet run)."""
    from .report import NOT_YET, SMOKE

    if now == then or SMOKE in (now, then) or NOT_YET in (now, then):
        return None
    settings = "the paper's settings" if then_profile == "paper" else f"the {then_profile} profile's settings"
    return (f"{id_} is {now} in {now_profile} but {then} with {settings}: this finding depends on the training "
            f"budget (epochs, data and draws).")


def match_rows(current: list[dict], archived: list[dict]) -> list[tuple[dict | None, dict | None]]:
    """Pairs ``(this build's row, archived row)`` of one section's comparisons, matched by id, claim and the
    order of rows with the same id and claim; a row with no partner is paired with None (archived rows first
    in their order, then this build's unmatched rows)."""
    def keyed(rows):
        seen: dict[tuple, int] = {}
        out = {}
        for r in rows:
            k = (r.get("id"), r.get("claim"))
            out[(*k, seen.get(k, 0))] = r
            seen[k] = seen.get(k, 0) + 1
        return out

    now, then = keyed(current), keyed(archived)
    pairs = [(now.get(k), r) for k, r in then.items()]
    pairs += [(r, None) for k, r in now.items() if k not in then]
    return pairs


def section_html(archived: list[Archived], record: dict[str, Any] | None) -> str:
    """The block a section page shows after its "Verdicts and why": for each archived profile of the
    section, its stamp, the stale marking, one sentence per id whose verdict differs from this build's, the
    comparison rows (id, claim, paper, archived ours, archived verdict, this build's verdict) and the archived
    figures (embedded). ``record``: this build's result record of the section (None: not executed)."""
    import html

    from .report import anchor_id, figure_html, figure_label, fmt_number

    esc = html.escape
    now_profile = (record or {}).get("profile") or "this build"
    now_ids = id_verdicts(record) if record else {}
    blocks = []
    for a in archived:
        then_ids = id_verdicts(a.record)
        sentences = [s for i, v in then_ids.items()
                     if (s := disagreement(i, now_ids.get(i, ""), now_profile, v, a.profile))]
        ids_line = " · ".join(
            (f'<a href="#{esc(anchor_id(i))}"><strong>{esc(i)}</strong></a>' if i in now_ids
             else f"<strong>{esc(i)}</strong>") + f" {esc(v)}"
            + (f" (this build: {esc(now_ids[i])})" if i in now_ids else "") for i, v in then_ids.items())
        head = [f'<p class="ftlib-provenance">{esc(a.stamp())}</p>',
                f'<p class="ftlib-archive-ids">{ids_line}</p>' if ids_line else ""]
        if a.stale:
            head.append(f'<p class="ftlib-stale"><strong>stale</strong>: the code or settings changed since this '
                        f'run, so these numbers may differ from what the code gives now ({esc(a.stale_text())}). '
                        f'Refresh: <code>{esc(a.meta.get("command", ""))}</code>.</p>')
        head += [f'<p class="ftlib-disagree">{esc(s)}</p>' for s in sentences]
        cells = []
        for now_row, row in match_rows((record or {}).get("comparisons", []), a.record.get("comparisons", [])):
            ref = row or now_row
            cell = (lambda v: esc(fmt_number(v) if isinstance(v, (int, float)) and not isinstance(v, bool)
                                  else ("—" if v is None else str(v))))
            cells.append(
                f"<tr><td>{esc(ref['id'])}</td><td>{esc(str(ref.get('claim', '')))}</td>"
                f"<td>{cell(ref.get('paper'))}</td><td>{cell(row.get('ours')) if row else '—'}</td>"
                f"<td>{esc(row['verdict']) if row else '—'}</td>"
                f"<td>{esc(now_row['verdict']) if now_row else '—'}</td></tr>")
        table = ('<div class="ftlib-table-wrap"><table class="ftlib-table ftlib-archive-table"><thead><tr>'
                 f'<th>id</th><th>claim</th><th>paper</th><th>ours ({esc(a.profile)}, archived)</th>'
                 f'<th>verdict ({esc(a.profile)}, archived)</th><th>verdict (this build, {esc(now_profile)})</th>'
                 f'</tr></thead><tbody>{"".join(cells)}</tbody></table></div>') if cells else ""
        figs = []
        plots = 0
        for fig in a.record.get("figures", []):
            data = a.figure_bytes(fig)
            if data is None:
                figs.append(f'<p class="ftlib-stale">archived figure {esc(fig["name"])} is missing or altered: '
                            f'archive the section again.</p>')
                continue
            plots += not fig.get("paper_figure")
            label = figure_label(fig.get("paper_figure"), plots)
            scale = next((f.get("scale", 1.0) for f in a.meta.get("figures", []) if f["file"] == fig["file"]), 1.0)
            width = _png_width(data)
            figs.append(figure_html(
                data, fig.get("alt", ""), f"{label}, {a.profile} profile (archived, commit {a.commit}). "
                f"{fig.get('caption', '')}", f"{a.profile}-{fig['name']}", min_pt=fig.get("min_font_pt"),
                dpi=(fig.get("dpi") * scale) if fig.get("dpi") else None,
                width_px=round(width / scale) if width and scale < 1.0 else None))
        title = ("With the paper's settings (archived)" if a.profile == "paper"
                 else f"With the {a.profile} profile (archived)")
        # the figures follow the box at the page's full width (inside its padding their text shrank below 9 px)
        blocks.append(f'<div class="ftlib-archive admonition seealso" id="archived-{esc(a.profile)}">'
                      f'<p class="admonition-title">{esc(title)}{" — stale" if a.stale else ""}</p>'
                      + "".join(head) + table + "</div>" + "".join(figs))
    return "".join(blocks)


def _png_width(data: bytes) -> int | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big")
    return None


def for_section(archived: list[Archived], key: str) -> list[Archived]:
    """The archived entries of section ``key`` (one per archived profile)."""
    return [a for a in archived if a.section == key]
