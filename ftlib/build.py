"""Build the book: execute the notebooks that changed, then ``jupyter-book build``.

``python -m ftlib.build [--profile quick] [--chapter adversarial_ft ...] [--force] [--no-html] [--archive]``

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

Distributed (``ftlib.distributed``): with ``--scheduler tcp://host:8786``
(or ``local:N``, or ``$FTLIB_SCHEDULER``/``$FTLIB_JOBQUEUE``) each notebook
execution is one Dask task on the workers (``--distribute notebooks``, the
default), whose kernels run their loops in-process; or the notebooks run here
one after another and their independent training runs and sweeps go to the
workers (``--distribute runs``: better for a chapter of a few heavy notebooks).
The HTML build always runs here. Workers need the checkout at the same path,
the data and the cache on a shared filesystem; the numbers are those of the
serial build.

Archive (``--archive``, any profile but smoke): after executing, every section
of the selected chapters whose notebook ran successfully in this build or is
current by its stamp is copied into the results archive ``book/_archive``
(its record and recompressed figures, with commit, date, machine, wall time,
seed, settings and code map: :mod:`ftlib.archive`); a section that failed is
never archived. The book shows the archive beside this build's verdicts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from .errors import ParameterError
from .params import PROFILES, Param, check_value

ROOT = Path(__file__).resolve().parent.parent
EXECUTED = "book/_executed"

SEED = Param("seed", int, "seed passed to every notebook", low=0, high=2**31 - 1, profile_default=False)
"""The build's ``--seed``: the range every notebook's ``seed`` parameter accepts (checked before anything runs)."""

CHAPTER_DATA: dict[str, tuple[str, ...]] = {
    "adversarial_ft": ("mnist", "fashion_mnist", "cifar10"),
    "beyond": ("mnist", "fashion_mnist"),
    "computation_failures": ("mnist",),
    "continuous_limit": ("mnist", "fashion_mnist", "boston"),
    "fault_models": ("fashion_mnist",),
    "snn_patterns": ("mnist",),
}
"""The datasets each chapter's notebooks read (a chapter not listed here is given every dataset)."""


def datasets_for(chapters: list[str] | None) -> list[str]:
    """The datasets a build of ``chapters`` (None: the whole book) needs, in :data:`ftlib.data.DATASETS` order."""
    from .data import DATASETS

    if not chapters or any(c not in CHAPTER_DATA for c in chapters):
        return list(DATASETS)
    need = {d for c in chapters for d in CHAPTER_DATA[c]}
    return [d for d in DATASETS if d in need]


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


HIDE_INPUT = "hide-input"


def collapse_setup(nb) -> None:
    """Tag the set-up cells of ``nb`` ``hide-input`` (the page shows their output, their code behind a
    toggle): the parameter cell, papermill's injected-parameters cell and every code cell before the
    page's first section heading (validation, imports, the report banner)."""
    seen_heading = False
    for i, cell in enumerate(nb.cells):
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if cell.get("cell_type") == "markdown":
            if i > 0 and any(line.startswith("## ") for line in cell.get("source", "").splitlines()):
                seen_heading = True
            continue
        if cell.get("cell_type") != "code":
            continue
        if ("parameters" in tags or "injected-parameters" in tags or not seen_heading) and HIDE_INPUT not in tags:
            tags.append(HIDE_INPUT)


def execute(source: Path, target: Path, profile: str, seed: int, stamp_: str, root: Path = ROOT,
            env: dict[str, str | None] | None = None) -> float:
    """Convert ``source`` with jupytext, run it with papermill, write ``target`` atomically; returns seconds.

    ``env``: extra environment variables of the kernel (``None`` removes one).
    """
    import jupytext
    import nbformat
    import papermill

    t0 = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(source)
    # per-attempt names: a rescheduled attempt (distributed build) never writes into another's files
    attempt = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"
    tmp_in = target.with_name(f".{target.stem}.{attempt}.input.ipynb")
    tmp_out = target.with_name(f".{target.stem}.{attempt}.partial.ipynb")
    nbformat.write(nb, tmp_in)
    overrides = {"FTLIB_QUIET": "1",  # no progress bars in the built pages
                 # the kernel imports the ftlib of this checkout, whatever is installed
                 "PYTHONPATH": os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p),
                 **(env or {})}
    saved = {k: os.environ.get(k) for k in overrides}
    for key, value in overrides.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
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
    except BaseException:
        tmp_out.unlink(missing_ok=True)
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
    collapse_setup(out)
    out.metadata["ftlib"] = {"stamp": stamp_, "profile": profile, "seed": seed, "seconds": round(seconds, 1),
                             "source": str(source.relative_to(root))}
    nbformat.write(out, tmp_out)
    tmp_out.replace(target)
    target.with_suffix(".failed.ipynb").unlink(missing_ok=True)
    return seconds


def _execute_task(source: str, target: str, profile: str, seed: int, stamp_: str, root: str,
                  env: dict[str, str | None]) -> tuple[float, str]:
    """One notebook execution as a Dask task on a worker: (seconds, worker host)."""
    if not (Path(root) / "_toc.yml").is_file() or not Path(source).is_file():
        raise FileNotFoundError(
            f"worker on {socket.gethostname()} does not see the checkout {root}: workers need the checkout at "
            f"the same path, and the data and cache directories, on a shared filesystem")
    seconds = execute(Path(source), Path(target), profile, seed, stamp_, Path(root), env=env)
    return seconds, socket.gethostname()


def kernel_env_for_workers() -> dict[str, str | None]:
    """What a notebook kernel on a worker must share with this process: cache, data and results
    directories (explicit, whatever the worker's own environment says), and no cluster of its own."""
    from . import config, distributed

    env: dict[str, str | None] = {distributed.ENV_SCHEDULER: None, distributed.ENV_JOBQUEUE: None,
                                  "FTLIB_CACHE_DIR": str(config.cache_dir())}
    for key in ("FTLIB_DATA_DIR", "FTLIB_RESULTS_DIR", "FTLIB_ALLOW_DOWNLOAD"):
        if os.environ.get(key):
            env[key] = str(config.data_dir()) if key == "FTLIB_DATA_DIR" else (
                str(config.results_dir()) if key == "FTLIB_RESULTS_DIR" else os.environ[key])
    return env


def execute_on_cluster(client, todo: list[tuple[str, Path, Path, str]], profile: str, seed: int,
                       root: Path = ROOT, done: dict[str, float] | None = None) -> dict[str, float]:
    """Execute the notebooks ``todo`` = [(name, source, target, stamp)] as Dask tasks; seconds by name.

    Every notebook runs even if another fails; then the first failure is raised.
    A notebook whose worker dies is rescheduled by the scheduler on another worker.
    ``done`` (when given) receives the seconds of each notebook as it succeeds, failure or not.
    """
    from distributed import as_completed
    from tqdm.auto import tqdm

    env = kernel_env_for_workers()
    token = uuid.uuid4().hex[:6]
    futures = {}
    for name, source, target, want in todo:
        print(f"executing {name} (profile {profile}) on the cluster ...", flush=True)
        key = f"notebook-{name.removesuffix('.py').replace('/', '-')}-{token}"
        # retries=0: a notebook that raised fails the same way again; a lost worker is handled by the scheduler
        fut = client.submit(_execute_task, str(source), str(target), profile, seed, want, str(root), env,
                            key=key, pure=False, retries=0)
        futures[fut] = name
    seconds: dict[str, float] = {} if done is None else done
    failures: list[tuple[str, BaseException]] = []
    with tqdm(total=len(futures), desc="notebooks", unit="nb", file=sys.stderr) as bar:
        for fut in as_completed(list(futures)):
            name = futures[fut]
            if fut.status == "error":
                exc = fut.exception()
                failures.append((name, exc))
                bar.write(f"FAILED: {name}: {type(exc).__name__}: {str(exc).strip()[:2000]}")
            else:
                seconds[name], host = fut.result()
                bar.write(f"done {name} in {seconds[name]:.1f} s on {host}")
            bar.update(1)
    if failures:
        name, exc = failures[0]
        print(f"{len(failures)} notebook(s) failed; the executed notebooks with the errors are "
              f"book/_executed/<paper>/<section>.failed.ipynb", file=sys.stderr)
        raise exc
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


def archive_built(wanted: dict[str, tuple[Path, Path, str]], failed: set[str], done: dict[str, float],
                  profile: str, seed: int) -> int:
    """Archive the sections ``wanted`` (name → (source, target, stamp)) of a build (``--archive``): each whose
    notebook executed in this build or is current by its stamp, never one in ``failed`` or with a
    ``.failed.ipynb``; prints one line per section; returns how many could not be archived."""
    from . import archive
    from .errors import ArchiveError

    refused = 0
    for name, (source, target, want) in sorted(wanted.items()):
        key = name.removesuffix(".py")
        why = ("its execution failed in this build" if name in failed or target.with_suffix(".failed.ipynb").exists()
               else "its executed notebook is not current for this profile, seed and code"
               if current_stamp(target) != want else "")
        if not why:
            try:
                path = archive.archive_section(key, profile, seed, build_seconds=done.get(name))
                print(f"archived {key} ({profile}) → {path}", flush=True)
                continue
            except ArchiveError as exc:
                why = str(exc)
        refused += 1
        print(f"not archived: {key}: {why}", file=sys.stderr, flush=True)
    return refused


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ftlib.build", description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default=os.environ.get("PROFILE") or "quick", choices=PROFILES,
                    help="profile of every notebook (default: $PROFILE or quick)")
    ap.add_argument("--seed", type=int, default=0, help="seed passed to every notebook (default 0)")
    ap.add_argument("--chapter", action="append", help="execute only this chapter (paper key); repeatable")
    ap.add_argument("--section", action="append", metavar="PAPER/NAME",
                    help="execute only this section (e.g. continuous_limit/bounds); repeatable, with --chapter too")
    ap.add_argument("--force", action="store_true", help="re-execute even when the stamp is current")
    ap.add_argument("--no-html", action="store_true", help="execute notebooks only, skip jupyter-book")
    ap.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="run on a Dask cluster: tcp://host:8786, a scheduler file, or local:N worker processes "
                         "(default: $FTLIB_SCHEDULER or $FTLIB_JOBQUEUE; none: everything in this process)")
    ap.add_argument("--distribute", choices=("notebooks", "runs"), default="notebooks",
                    help="with a cluster: one task per notebook (default), or notebooks here and their "
                         "training runs and sweeps on the workers")
    ap.add_argument("--archive", action="store_true",
                    help="after executing, archive every selected section that ran successfully or is current "
                         "into book/_archive (any profile but smoke; see ftlib.archive)")
    ap.add_argument("--plan", action="store_true",
                    help="run nothing: measure what the selected sections would cost here (every training run, "
                         "sweep and Monte Carlo estimate probed for a few steps and scaled; see ftlib.plan), "
                         "print it with the total and write it to --plan-out")
    ap.add_argument("--plan-out", type=Path, default=None, metavar="FILE",
                    help="with --plan: the JSON file of the plan (default _build/plan/<profile>.json)")
    args = ap.parse_args(argv)
    root = ROOT  # read here, not bound as a default: a test points the build at another checkout
    # reject bad input before anything runs: an unknown chapter, a seed no notebook accepts, archiving smoke
    if args.chapter:
        notebooks(root, args.chapter)  # SystemExit naming the chapters
    known = {str(p.relative_to(root / "notebooks").with_suffix("")) for p in notebooks(root)}
    for key in args.section or ():
        if key not in known:
            ap.error(f"--section: unknown section {key!r}; sections: {', '.join(sorted(known))}")
    chapters = sorted(set(args.chapter or ()) | {k.split("/")[0] for k in args.section or ()}) or None
    try:
        check_value(SEED, args.seed)
    except ParameterError as exc:
        ap.error(f"--seed: {exc}")
    if args.archive:
        from . import archive
        from .errors import ArchiveError

        try:
            archive.check_profile(args.profile)
        except ArchiveError as exc:
            ap.error(f"--archive: {exc}")

    if args.plan:
        from . import data, plan

        selected = [(str(p.relative_to(root / "notebooks").with_suffix("")), p) for p in notebooks(root)]
        selected = [(k, p) for k, p in selected if (not args.chapter and not args.section)
                    or p.parent.name in (args.chapter or ()) or k in (args.section or ())]
        if data.fetch_missing(datasets_for(chapters)) != 0:
            print("\nNo plan: the datasets above are missing (the probes train on them).", file=sys.stderr)
            return 2
        out = args.plan_out or root / "_build" / "plan" / f"{args.profile}.json"
        result = plan.run(selected, args.profile, args.seed, root, out)
        return 1 if any(s["failed"] for s in result["sections"].values()) else 0

    t_start = time.perf_counter()
    code = ftlib_hash(root)
    status: dict[str, tuple[str, float]] = {}
    todo: list[tuple[str, Path, Path, str]] = []
    wanted: dict[str, tuple[Path, Path, str]] = {}  # the selected sections: (source, target, stamp)
    for source in notebooks(root):
        target = executed_path(source, root)
        name = str(source.relative_to(root / "notebooks"))
        selected = (not args.chapter and not args.section) or source.parent.name in (args.chapter or ()) \
            or name.removesuffix(".py") in (args.section or ())
        want = stamp(source, args.profile, args.seed, code)
        if selected:
            wanted[name] = (source, target, want)
        if selected and (args.force or current_stamp(target) != want):
            todo.append((name, source, target, want))
        elif not target.exists():
            placeholder(source, target)
            status[name] = ("placeholder", 0.0)
        else:
            status[name] = ("up to date", 0.0)

    # leftovers of attempts that were killed (a lost worker, an interrupted build) are not pages
    for stale in (root / EXECUTED).glob("*/.*.ipynb"):
        stale.unlink(missing_ok=True)

    if todo:
        # first use: fetch the datasets the notebooks read (https, capped, hashed); offline, one message, no run
        from . import data

        if data.fetch_missing(datasets_for(chapters)) != 0:
            print("\nThe build stopped before running any notebook: the datasets above are missing. Connect to the "
                  "internet (the build downloads them into the data directory) or set FTLIB_DATA_DIR to a folder "
                  "that holds them, then rerun.", file=sys.stderr)
            return 2

    from . import distributed

    client = None
    if todo and (args.scheduler or distributed.configured()):
        client = distributed.client(args.scheduler)
        print(distributed.describe(client), flush=True)
    done: dict[str, float] = {}
    try:
        if client is not None and args.distribute == "notebooks":
            execute_on_cluster(client, todo, args.profile, args.seed, root, done=done)
        else:
            # serial, or --distribute runs: the kernels send their independent runs to the same scheduler
            env = {distributed.ENV_SCHEDULER: client.scheduler.address, distributed.ENV_JOBQUEUE: None} \
                if client is not None else None
            for name, source, target, want in todo:
                print(f"executing {name} (profile {args.profile}) ...", flush=True)
                done[name] = execute(source, target, args.profile, args.seed, want, root, env=env)
    finally:
        if client is not None:
            distributed.close()
        status.update({name: ("executed", seconds) for name, seconds in done.items()})
        if args.archive:
            # also when a notebook failed: the sections that completed are archived, the failed one never
            failed = {name for name, *_ in todo if name not in done}
            archive_failures = archive_built(wanted, failed, done, args.profile, args.seed)
    timings = [(name, *status[name]) for name in sorted(status)]

    from . import scoreboard

    # generated pages: the scoreboard and the landing page's summary (book/_generated/summary.md)
    scoreboard.write(root / "book" / "scoreboard.md", root / scoreboard.SUMMARY)
    t_html = time.perf_counter()
    if not args.no_html:
        jupyter_book(root)
    t_end = time.perf_counter()
    print("\nbuild timing summary")
    for name, what, seconds in timings:
        print(f"  {name:<50} {what:<12} {seconds:8.1f} s")
    print(f"  {'jupyter-book build':<50} {'':<12} {t_end - t_html:8.1f} s")
    print(f"  {'total':<50} {'':<12} {t_end - t_start:8.1f} s")
    budget = scoreboard.BUDGET_MIN.get(args.profile)
    if budget is not None and not args.chapter and not args.section:
        executed = sum(1 for _, what, _ in timings if what == "executed")
        print(f"  budget of the whole book in {args.profile}: {budget} min from a cold cache on 2 CPU cores "
              f"(this build executed {executed} of {len(timings)} notebooks in {(t_end - t_start) / 60:.1f} min)")
    if not args.no_html:
        print(f"site: {root / '_build' / 'html' / 'index.html'}")
    if args.archive and archive_failures:
        print(f"{archive_failures} selected section(s) were not archived (see 'not archived' above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
