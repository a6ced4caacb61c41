"""Build the book: execute the notebooks that changed, then ``jupyter-book build``.

``python -m ftlib.build [--profile quick] [--chapter adversarial_ft ...] [--force] [--no-html]``

Pipeline (DESIGN.md): ``notebooks/<paper>/<name>.py`` (jupytext percent, the
source of truth) → in-memory ``.ipynb`` → papermill with ``profile`` (and
``seed``) → ``book/_executed/<paper>/<name>.ipynb`` → result records in
``book/_results`` → ``book/scoreboard.md`` and ``book/_generated/summary.md`` (the
landing page's summary) → ``jupyter-book build .`` with
``execute_notebooks: off``.

When a notebook re-executes (a simple, correct rule): its stamp is the sha256
of its source, the profile, the seed, and the source of the whole ``ftlib``
package. Editing only ``book/*.md`` re-executes nothing; editing one notebook
re-executes that one; editing ftlib re-executes all of them (trained models
still come from the cache when their own code did not change).
A ``--chapter`` build executes only that chapter's notebooks; sections never
executed in this copy get a placeholder page saying how to build them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .params import PROFILES

ROOT = Path(__file__).resolve().parent.parent
EXECUTED = "book/_executed"


def notebooks(root: Path = ROOT, chapters: list[str] | None = None) -> list[Path]:
    """The notebook sources ``notebooks/<paper>/<name>.py``, optionally only some chapters (papers)."""
    found = sorted((root / "notebooks").glob("*/*.py"))
    if chapters:
        known = {p.parent.name for p in found}
        bad = [c for c in chapters if c not in known]
        if bad:
            raise SystemExit(f"unknown chapter {bad[0]!r}; chapters: {', '.join(sorted(known))}")
        found = [p for p in found if p.parent.name in chapters]
    return found


def ftlib_hash(root: Path = ROOT) -> str:
    """sha256 over every file of the ftlib package (the re-execution rule's code part)."""
    h = hashlib.sha256()
    for path in sorted((root / "ftlib").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def stamp(source: Path, profile: str, seed: int, code: str) -> str:
    """The stamp of one notebook execution; equal stamps mean the output is current."""
    h = hashlib.sha256()
    for part in (source.read_bytes(), profile.encode(), str(seed).encode(), code.encode()):
        h.update(part)
        h.update(b"\0")
    return h.hexdigest()


def executed_path(source: Path, root: Path = ROOT) -> Path:
    return root / EXECUTED / source.parent.name / (source.stem + ".ipynb")


def current_stamp(path: Path) -> str | None:
    """The stamp stored in an executed notebook, or None (missing, placeholder or unreadable)."""
    try:
        return json.loads(path.read_text())["metadata"]["ftlib"]["stamp"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def execute(source: Path, target: Path, profile: str, seed: int, stamp_: str, root: Path = ROOT) -> float:
    """Convert ``source`` with jupytext, run it with papermill, write ``target`` atomically; returns seconds."""
    import jupytext
    import nbformat
    import papermill

    t0 = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(source)
    tmp_in = target.with_suffix(".input.ipynb")
    tmp_out = target.with_suffix(".partial.ipynb")
    nbformat.write(nb, tmp_in)
    saved = {k: os.environ.get(k) for k in ("FTLIB_QUIET", "PYTHONPATH")}
    os.environ["FTLIB_QUIET"] = "1"  # no progress bars in the built pages
    # the kernel imports the ftlib of this checkout, whatever is installed
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), saved["PYTHONPATH"]) if p)
    try:
        papermill.execute_notebook(str(tmp_in), str(tmp_out), parameters={"profile": profile, "seed": seed},
                                   kernel_name="python3", cwd=str(root), progress_bar=False, log_output=False)
    except Exception:
        failed = target.with_suffix(".failed.ipynb")
        if tmp_out.exists():
            tmp_out.replace(failed)
        print(f"FAILED: {source.relative_to(root)} — the executed notebook with the error is {failed}",
              file=sys.stderr)
        raise
    finally:
        tmp_in.unlink(missing_ok=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    seconds = time.perf_counter() - t0
    out = nbformat.read(tmp_out, as_version=4)
    out.metadata["ftlib"] = {"stamp": stamp_, "profile": profile, "seed": seed, "seconds": round(seconds, 1),
                             "source": str(source.relative_to(root))}
    nbformat.write(out, tmp_out)
    tmp_out.replace(target)
    target.with_suffix(".failed.ipynb").unlink(missing_ok=True)
    return seconds


def placeholder(source: Path, target: Path) -> None:
    """A page for a section that was never executed in this copy of the book."""
    import nbformat

    chapter = source.parent.name
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(
        f"# {source.stem.replace('_', ' ').capitalize()} ({chapter})\n\n"
        f"This section was not executed in this copy of the book. Build it with\n\n"
        f"```bash\nmake book CHAPTER={chapter}\n```\n\nor run `{source.relative_to(ROOT)}` by hand "
        f"(see *Rerun it yourself*)."))
    nb.metadata["ftlib"] = {"stamp": None, "placeholder": True}
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


def jupyter_book(root: Path = ROOT) -> None:
    """``jupyter-book build`` of the whole site into ``_build/html`` (warnings are errors)."""
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(root), "--builder", "html", "-W", "-n",
           "--keep-going", "-q"]
    # the API reference (book/api_*.md) imports the ftlib of this checkout, whatever is installed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p)}
    subprocess.run(cmd, check=True, cwd=root, env=env)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ftlib.build", description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default=os.environ.get("PROFILE") or "quick", choices=PROFILES,
                    help="profile of every notebook (default: $PROFILE or quick)")
    ap.add_argument("--seed", type=int, default=0, help="seed passed to every notebook (default 0)")
    ap.add_argument("--chapter", action="append", help="execute only this chapter (paper key); repeatable")
    ap.add_argument("--force", action="store_true", help="re-execute even when the stamp is current")
    ap.add_argument("--no-html", action="store_true", help="execute notebooks only, skip jupyter-book")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    code = ftlib_hash()
    timings: list[tuple[str, str, float]] = []
    for source in notebooks():
        target = executed_path(source)
        name = str(source.relative_to(ROOT / "notebooks"))
        selected = not args.chapter or source.parent.name in args.chapter
        want = stamp(source, args.profile, args.seed, code)
        if selected and (args.force or current_stamp(target) != want):
            print(f"executing {name} (profile {args.profile}) ...", flush=True)
            timings.append((name, "executed", execute(source, target, args.profile, args.seed, want)))
        elif not target.exists():
            placeholder(source, target)
            timings.append((name, "placeholder", 0.0))
        else:
            timings.append((name, "up to date", 0.0))

    from . import scoreboard

    # generated pages: the scoreboard and the landing page's summary (book/_generated/summary.md)
    scoreboard.write(ROOT / "book" / "scoreboard.md", ROOT / scoreboard.SUMMARY)
    t_html = time.perf_counter()
    if not args.no_html:
        jupyter_book()
    t_end = time.perf_counter()
    print("\nbuild timing summary")
    for name, what, seconds in timings:
        print(f"  {name:<50} {what:<12} {seconds:8.1f} s")
    print(f"  {'jupyter-book build':<50} {'':<12} {t_end - t_html:8.1f} s")
    print(f"  {'total':<50} {'':<12} {t_end - t_start:8.1f} s")
    if not args.no_html:
        print(f"site: {ROOT / '_build' / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
