"""The results archive (``ftlib.archive``): written by the build from a run's own record, refused for smoke and
for failed or partial sections, kept small, shown beside this build's verdicts on the section page, the
scoreboard and the landing page, and marked stale when the code it depends on changes."""

from __future__ import annotations

import base64
import dataclasses
import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

from ftlib import archive, build, not_run, report, scoreboard, sections
from ftlib.errors import ArchiveError, FtlibError

ROOT = Path(__file__).resolve().parent.parent
KEY = "computation_failures/hyperparameters"
ID = sections.get(KEY).ids[0]
CLAIM = "the claim of the archive test"


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    """Results, cache and archive folders of one test (the archive never touches the checkout's)."""
    monkeypatch.setenv("FTLIB_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("FTLIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FTLIB_ARCHIVE_DIR", str(tmp_path / "archive"))
    return tmp_path


def _figure(noise: bool = False):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    if noise:  # a figure that compresses badly: random colours everywhere
        ax.imshow(np.random.default_rng(0).random((400, 600, 3)), aspect="auto")
    else:
        ax.plot([0.0, 0.1, 0.2], [0.1, 0.3, 0.6], label="MLP")
    ax.set_xlabel("deviation probability p")
    ax.set_ylabel("error rate")
    return fig


def run_section(profile: str, holds: bool, noise: bool = False, key: str = KEY) -> Path:
    """What a notebook run of ``key`` leaves behind, made by the report code itself: a cache entry of the
    training code loaded, one comparison row (reproduced when ``holds``), one figure, the record."""
    from ftlib.store import Store
    from ftlib.training import TRAINING_CODE

    Store().entry("train", {"archive-test": True}, TRAINING_CODE)  # its code parts go into the record
    rep = report.Report(key, sections.resolve(key, {"profile": profile, "seed": 0}))
    rep.qualitative(sections.get(key).ids[0], CLAIM, "what the paper shows", f"ours ({profile})", holds)
    rep.figure(_figure(noise), "figure1", "Error against p.")
    return rep.save()


def test_the_smoke_profile_is_refused_before_anything_runs(dirs, capsys, monkeypatch):
    with pytest.raises(ArchiveError, match="smoke profile is not archived"):
        archive.check_profile("smoke")
    monkeypatch.setattr(build, "execute", lambda *a, **k: pytest.fail("a notebook ran"))
    with pytest.raises(SystemExit) as exc:
        build.main(["--profile", "smoke", "--chapter", "computation_failures", "--archive", "--no-html"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--archive: the smoke profile is not archived" in err and "--profile paper" in err
    run_section("smoke", True)
    with pytest.raises(ArchiveError, match="smoke"):
        archive.archive_section(KEY, "smoke", 0)
    assert not (dirs / "archive").exists()


def test_a_record_of_another_profile_or_a_partial_run_is_refused(dirs):
    with pytest.raises(ArchiveError, match="no result record"):
        archive.archive_section(KEY, "paper", 0)
    run_section("quick", True)
    with pytest.raises(ArchiveError, match="made with profile 'quick'"):
        archive.archive_section(KEY, "paper", 0)
    figure = next((dirs / "results").rglob("figure1.png"))
    record = dirs / "results" / f"{KEY}.json"
    import os

    os.utime(figure, (record.stat().st_mtime + 60,) * 2)  # a later run wrote the figure, then stopped
    with pytest.raises(ArchiveError, match="newer than its record"):
        archive.archive_section(KEY, "quick", 0)
    figure.unlink()  # the run stopped before its figures were all written
    with pytest.raises(ArchiveError, match="figure .* is missing"):
        archive.archive_section(KEY, "quick", 0)
    assert not (dirs / "archive").exists()


def test_the_archive_holds_the_record_metadata_and_small_figures(dirs):
    run_section("paper", True)
    path = archive.archive_section(KEY, "paper", 0, build_seconds=12.5)
    assert path == dirs / "archive" / "paper" / f"{KEY}.json"
    doc = json.loads(path.read_text())
    meta, record = doc["archive"], doc["record"]
    assert record["comparisons"][0]["claim"] == CLAIM and record["profile"] == "paper"
    assert meta["machine"]["cpu_count"] >= 1 and meta["machine"]["torch_device"] and meta["machine"]["cpu_model"]
    assert meta["seed"] == 0 and meta["settings"]["epochs"] == sections.resolve(KEY, {"profile": "paper", "seed": 0}).epochs
    assert meta["wall_time_s"] > 0 and meta["build_seconds"] == 12.5 and meta["date"] and meta["archived"]
    assert meta["command"] == f"python -m ftlib.build --profile paper --section {KEY} --archive"  # refreshes this section only
    # the code map: the cache entry's salt parts, the experiments modules, the notebook source
    code = meta["code"]
    assert {"ftlib/training.py", "ftlib/experiments/computation_failures/hyperparameters.py",
            f"notebooks/{KEY}.py"} <= set(code)
    assert all(re.fullmatch(r"[0-9a-f]{64}", v) for k, v in code.items() if k != "ftlib/reference.py")
    assert re.fullmatch(r"entries:[0-9a-f]{64}", code["ftlib/reference.py"])  # its own paper numbers only
    # only the JSON and the recompressed figures: no notebook, nothing else
    files = sorted((p for p in (dirs / "archive").rglob("*") if p.is_file()), key=lambda p: p.suffix)
    assert [p.suffix for p in files] == [".json", ".png"]
    fig = meta["figures"][0]
    assert fig["bytes"] == files[1].stat().st_size <= archive.FIGURE_MAX_BYTES
    assert fig["bytes"] < fig["original_bytes"] and fig["scale"] == 1.0
    # archiving again (a refresh) leaves one figure, whatever its content now
    run_section("paper", True, noise=True)
    archive.archive_section(KEY, "paper", 0)
    assert len(list((dirs / "archive").rglob("*.png"))) == 1


def test_a_figure_over_the_limit_is_scaled_down_and_shown_at_its_original_size(dirs):
    from PIL import Image

    run_section("paper", True, noise=True)
    original = next((dirs / "results").rglob("figure1.png")).read_bytes()
    data, scale = archive.recompress(original, max_bytes=60_000)
    assert len(data) <= 60_000 and scale < 1.0
    width = Image.open(__import__("io").BytesIO(original)).size[0]
    assert Image.open(__import__("io").BytesIO(data)).size[0] == round(width * scale)
    with pytest.raises(ArchiveError, match="does not fit"):
        archive.recompress(original, max_bytes=500)
    monkey_max = archive.FIGURE_MAX_BYTES
    try:
        archive.FIGURE_MAX_BYTES = 60_000
        archive.recompress.__defaults__ = (60_000,)
        archive.archive_section(KEY, "paper", 0)
    finally:
        archive.FIGURE_MAX_BYTES = monkey_max
        archive.recompress.__defaults__ = (monkey_max,)
    [a] = archive.load()
    html = archive.section_html([a], None)
    assert f'width="{width}"' in html  # the downscaled copy keeps its on-screen size (and its text's)


def _ftbook():
    spec = importlib.util.spec_from_file_location("ftbook", ROOT / "book" / "_ext" / "ftbook.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_section_page_and_scoreboard_show_the_archive_beside_this_build(dirs):
    run_section("paper", True)
    archive.archive_section(KEY, "paper", 0)
    run_section("quick", False)  # this build: quick, and its verdict differs
    sentence = (f"{ID} is not reproduced in quick but reproduced with the paper's settings: this finding depends "
                f"on the training budget")
    # the section page: the extension puts the archive right after the "Verdicts and why" block
    ctx = {"body": "<h1>Hyperparameters</h1><p>the notebook</p>", "pathto": lambda p, n: p}
    _ftbook()._inject_verdicts(None, f"book/_executed/{KEY}", "page.html", ctx, None)
    body = ctx["body"]
    assert body.index("</h1>") < body.index('id="verdicts-and-why"') < body.index('id="archived-paper"') \
        < body.index("<p>the notebook</p>")
    block = body[body.index('id="archived-paper"'):]
    assert "With the paper&#x27;s settings (archived)" in block
    assert re.search(r"paper profile · commit \w{7}(\+dirty)? · \d{4}-\d\d-\d\d · wall \d+ s · run on \d+ cores", block)
    assert "ours (paper)" in block and "ours (quick)" not in block
    row = re.search(r"<tr><td>[^<]*</td><td>" + re.escape(CLAIM) + r"</td>.*?</tr>", block).group(0)
    assert "<td>reproduced</td><td>not reproduced</td>" in row  # archived verdict, then this build's
    assert sentence.replace("'", "&#x27;") in block and "stale" not in block
    assert archive.disagreement(ID, report.SMOKE, "smoke", report.REPRODUCED, "paper") is None  # smoke: no verdict
    png = re.search(r'src="data:image/png;base64,([^"]+)"', block).group(1)
    assert len(base64.b64decode(png)) <= archive.FIGURE_MAX_BYTES
    assert 'id="fig-paper-figure1"' in block and "data-min-font-pt=" in block
    # the scoreboard: a column for the archived profile in the compact table and in the detailed rows
    archived = archive.load()
    page = scoreboard.render(scoreboard.rows(report.load_records()), archived)
    glance = page[page.index("## At a glance"):page.index("## computation_failures")]
    assert "| paper settings (archived) |" in glance
    line = next(l for l in glance.splitlines() if f"<strong>{ID}</strong>" in l)
    assert "✗ not reproduced" in line and "✓ reproduced" in line
    assert sentence.replace("'", "\\'") in glance or sentence in glance
    detail = next(l for l in page.splitlines() if CLAIM in l and "| quick |" in l)
    assert "ours (paper) · ✓ reproduced (commit `" in detail
    # the landing page counts verdicts per profile
    summary = scoreboard.render_summary(scoreboard.rows(report.load_records()), report.load_records(), archived)
    rows = {l.split("|")[2].strip(): l for l in summary.splitlines() if "computation_failures" in l
            or l.startswith("| | ")}
    assert "quick" in rows and "paper (archived)" in rows
    cells = [c.strip() for c in rows["paper (archived)"].split("|")[3:-1]]
    assert cells[0] == "1" and cells[-1] == "1"  # one id reproduced, one id archived
    assert "| **all** | paper (archived) |" in summary


def test_an_edited_file_of_the_code_map_marks_the_archive_stale_and_names_it(dirs, monkeypatch):
    run_section("paper", True)
    archive.archive_section(KEY, "paper", 0)
    [a] = archive.load()
    checkout = dirs / "checkout"
    for rel in a.meta["code"]:
        (checkout / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / rel, checkout / rel)
    [a] = archive.load(code=checkout)
    assert not a.stale and a.stale_text() == ""
    edited = checkout / "ftlib" / "training.py"
    edited.write_text(edited.read_text() + "\n# an edit\n")
    (checkout / "notebooks" / f"{KEY}.py").unlink()
    [a] = archive.load(code=checkout)
    assert a.stale and a.changed == ["ftlib/training.py"] and a.missing == [f"notebooks/{KEY}.py"]
    html = archive.section_html([a], None)
    assert "<strong>stale</strong>" in html and "changed since: ftlib/training.py" in html
    assert f"missing now: notebooks/{KEY}.py" in html and "Refresh: <code>python -m ftlib.build" in html
    assert "(**stale**)" in scoreboard.render_compact(scoreboard.rows([]), scoreboard.archive_rows([a]))
    # the profile's settings changed since the run: stale too, saying which
    sec = sections.get(KEY)
    paper = {**sec.profiles["paper"], "epochs": sec.profiles["paper"]["epochs"] + 1}
    monkeypatch.setitem(sections.SECTIONS, KEY, dataclasses.replace(sec, profiles={**sec.profiles, "paper": paper}))
    [a] = archive.load()
    assert a.settings_changed == [f"epochs: {paper['epochs'] - 1} → {paper['epochs']}"] and not a.changed
    assert "the paper profile's settings differ now: epochs" in a.stale_text()


def _fake_build(dirs, monkeypatch, failing: set[str] = frozenset()):
    """A checkout holding computation_failures' notebooks whose build "executes" a notebook by running its
    section's fake Report (:func:`run_section`) and writing a stamped notebook; sections in ``failing`` raise."""
    import nbformat

    from ftlib import data

    checkout = dirs / "checkout"
    (checkout / "notebooks" / "computation_failures").mkdir(parents=True)
    (checkout / "_toc.yml").write_text("format: jb-book\n")
    for src in (ROOT / "notebooks" / "computation_failures").glob("*.py"):
        shutil.copyfile(src, checkout / "notebooks" / "computation_failures" / src.name)

    def execute(source, target, profile, seed, stamp_, root=None, env=None):
        key = f"{source.parent.name}/{source.stem}"
        if key in failing:
            raise RuntimeError(f"{key} failed")
        run_section(profile, True, key=key)
        nb = nbformat.v4.new_notebook()
        nb.metadata["ftlib"] = {"stamp": stamp_, "profile": profile, "seed": seed}
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        return 1.0

    monkeypatch.setattr(build, "ROOT", checkout)
    monkeypatch.setattr(build, "execute", execute)
    monkeypatch.setattr(data, "fetch_missing", lambda names: 0)
    return checkout


def test_the_build_archives_what_succeeded_and_never_a_failed_section(dirs, monkeypatch, capsys):
    """``--archive`` after a build in which one notebook failed: the section that ran is archived, the failed
    one is not; the next build archives the first again (current by its stamp) and the second once it runs."""
    failing = {KEY}  # the second of the chapter's two notebooks (they run in name order)
    checkout = _fake_build(dirs, monkeypatch, failing)
    args = ["--profile", "quick", "--chapter", "computation_failures", "--archive", "--no-html"]
    with pytest.raises(RuntimeError, match="hyperparameters failed"):
        build.main(args)
    out, err = capsys.readouterr()
    assert f"not archived: {KEY}: its execution failed in this build" in err
    assert "archived computation_failures/fault_tolerance (quick)" in out
    assert [a.section for a in archive.load()] == ["computation_failures/fault_tolerance"]
    failing.clear()
    assert build.main(args) == 0
    out = capsys.readouterr().out
    assert f"executing {KEY}" in out and "executing computation_failures/fault_tolerance" not in out
    assert f"archived {KEY} (quick)" in out and "archived computation_failures/fault_tolerance (quick)" in out
    assert [a.section for a in archive.load()] == ["computation_failures/fault_tolerance", KEY]
    assert "quick settings (archived)" in (checkout / "book" / "scoreboard.md").read_text()


def test_parts_not_run_carry_a_measured_cost_and_where_or_say_they_were_not_measured(tmp_path, monkeypatch):
    not_run.check()  # the declared list
    entry = not_run.NOT_RUN[0]
    with pytest.raises(FtlibError, match="probes of ftlib.costs.PROBES"):
        not_run.check([dataclasses.replace(entry, probes=("a_typed_in_cost",))])
    with pytest.raises(FtlibError, match="probes of ftlib.costs.PROBES"):
        not_run.check([dataclasses.replace(entry, probes=())])
    with pytest.raises(FtlibError, match="not ids of that section"):
        not_run.check([dataclasses.replace(entry, ids=("CL-T1",))])
    # without a costs file every probe says it was not measured; with one, the measurement and where it is
    monkeypatch.setenv("FTLIB_ARCHIVE_DIR", str(tmp_path))
    assert all(not_run.NOT_MEASURED in e.cost() and not e.measured for e in not_run.NOT_RUN)
    probe = entry.probes[0]
    costs_file = {"probes": {probe: {"what": "a probe", "probe_images": 512, "probe_seconds": 1.0,
                                     "epoch_images": 60000, "epoch_seconds": 117.2, "epochs": 50,
                                     "run_seconds": 5860.0, "date": "2026-12-02T02:30:00+00:00",
                                     "machine": {"cpus": 2, "device": "cpu"}}}}
    (tmp_path / "costs.json").write_text(json.dumps(costs_file))
    text = entry.cost()
    assert "a probe: 117 s per epoch, 1.6 h for 50 epochs (measured 2026-12-02 on 2 cores, cpu" in text
    assert "book/_archive/costs.json" in text
    assert entry.measured == (len(entry.probes) == 1)
    page = scoreboard.render_not_run()
    assert "## paper settings not run" in page and entry.section in page and entry.command in page
    if not entry.measured:
        assert not_run.NOT_MEASURED in page
    glance = scoreboard.render_compact(scoreboard.rows([]), {"paper": {}})
    line = next(l for l in glance.splitlines() if f"**{entry.ids[0]}**" in l)
    assert "⊘ paper settings not run" in line


def test_a_planned_part_shows_its_sections_measured_plan_and_leaves_the_list_once_archived(tmp_path, monkeypatch):
    """A planned part's cost is the committed plan's measurement of its section (or says it was not measured);
    a section archived with the paper profile, and current, is no longer listed as not run; a stale one is."""
    monkeypatch.setenv("FTLIB_ARCHIVE_DIR", str(tmp_path))
    entry = next(e for e in not_run.NOT_RUN if e.planned)
    assert not_run.NOT_MEASURED in entry.cost()  # no plan file
    runs = [{"section": entry.section, "kind": "train", "what": "TrainConfig(arch=cl_mlp)", "cached": False,
             "probe_s": 3.0, "estimate_s": 7200.0},
            {"section": entry.section, "kind": "cached", "what": "sweep", "cached": True, "probe_s": 0.0,
             "estimate_s": 0.0}]
    plan = {"sections": {entry.section: {"runs": runs, "estimate_seconds": 9000.0, "failed": None}},
            "date": "2026-12-02T08:00:00+00:00", "machine": {"cpus": 2}, "load_average": [1.5, 1.0, 1.0]}
    (tmp_path / "plan").mkdir()
    (tmp_path / not_run.PLAN_FILE).write_text(json.dumps(plan))
    text = entry.cost()
    assert "whole section planned at 2.50 h (1 runs, sweeps and estimates to compute" in text
    assert "the largest train TrainConfig(arch=cl_mlp): 2.00 h" in text and "2026-12-02 on 2 cores, load 1.5" in text
    assert "book/_archive/plan/paper.json" in text
    plan["sections"][entry.section]["failed"] = "KeyError: x"
    assert "PARTIAL plan: KeyError: x" in entry.cost(plan_=plan)
    with pytest.raises(FtlibError, match=r"probes of ftlib.costs.PROBES .* or the build.s plan"):
        not_run.check([dataclasses.replace(entry, planned=False, probes=())])
    fake = lambda section, profile, stale: type("A", (), {"section": section, "profile": profile, "stale": stale})()
    assert entry in not_run.current(archived=[fake(entry.section, "paper", True)])  # stale: still listed
    assert entry in not_run.current(archived=[fake(entry.section, "quick", False)])  # another profile
    assert entry not in not_run.current(archived=[fake(entry.section, "paper", False)])


def test_code_map_holds_what_the_section_imports_and_not_other_chapters(monkeypatch):
    """A section's code map follows its notebook's imports: its own experiments modules, the verdict rules
    and the paper's numbers, the statistics; never another chapter's experiments module or the registry,
    so restructuring one chapter leaves another chapter's archive fresh."""
    from ftlib import report, store

    monkeypatch.setattr(store, "USED_CODE", set())  # no cache entry used by an earlier test in this process
    files = report.code_files("continuous_limit/certification", sections.get("continuous_limit/certification").ids)
    assert "notebooks/continuous_limit/certification.py" in files
    assert {"ftlib/claims.py", "ftlib/reference.py", "ftlib/stats.py"} <= set(files)
    experiments = [f for f in files if f.startswith("ftlib/experiments/")]
    assert experiments and all("continuous_limit" in f for f in experiments)
    assert not any(f.endswith(("report.py", "scoreboard.py", "build.py")) for f in files)


def test_a_code_map_holds_only_the_sections_own_paper_numbers(monkeypatch, tmp_path):
    """``reference.py`` in a code map is a digest of the section's own entries: another chapter's new or
    changed paper number leaves the archive fresh, a change to one of the section's own numbers marks it."""
    import dataclasses

    from ftlib import reference, report, sections

    key = "continuous_limit/certification"
    ids = sections.get(key).ids
    code = {report.REFERENCE_FILE: report.reference_digest(ids)}
    assert report.code_files(key, ids)[report.REFERENCE_FILE] == code[report.REFERENCE_FILE]
    (tmp_path / "ftlib").mkdir()
    (tmp_path / report.REFERENCE_FILE).write_text("# any content: the entries decide\n")
    assert archive.code_differences(code, tmp_path, key) == ([], [])
    other = next(i for i in reference.REFERENCES if i not in sections.get(key).ids)
    own = sections.get(key).ids[0]
    refs = dict(reference.REFERENCES)
    refs[other] = dataclasses.replace(refs[other], values={"changed": 1.0})
    monkeypatch.setattr(reference, "REFERENCES", refs)
    assert archive.code_differences(code, tmp_path, key) == ([], [])
    refs[own] = dataclasses.replace(refs[own], values={**refs[own].values, "new": 2.0})
    changed, missing = archive.code_differences(code, tmp_path, key)
    assert changed == [f"{report.REFERENCE_FILE} (this section's paper numbers)"] and not missing


def test_the_build_runs_and_archives_single_sections(dirs, monkeypatch, capsys):
    """``--section paper/name`` executes and archives that section only (the unit a long paper run can
    complete and archive on its own); an unknown section stops the build before anything runs."""
    _fake_build(dirs, monkeypatch)
    assert build.main(["--profile", "quick", "--section", KEY, "--archive", "--no-html"]) == 0
    out = capsys.readouterr().out
    assert f"executing {KEY}" in out and "executing computation_failures/fault_tolerance" not in out
    assert [a.section for a in archive.load()] == [KEY]
    with pytest.raises(SystemExit):
        build.main(["--profile", "quick", "--section", "computation_failures/nonexistent", "--no-html"])
    assert "unknown section" in capsys.readouterr().err
