"""A smoke-profile build of the whole book in a copy of the checkout, and checks on the built HTML.

Also checks the re-execution rule: nothing re-executes when nothing changed or
when only a book page changed; only the edited notebook re-executes after a
notebook edit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from ftlib import reference

from .conftest import run_build

ROOT = Path(__file__).resolve().parent.parent


def html(copy: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((copy / "_build" / "html" / f"{page}.html").read_text(), "html.parser")


def test_every_notebook_page_is_built(book):
    copy, _, out = book
    for nb in sorted((copy / "notebooks").glob("*/*.py")):
        page = copy / "_build" / "html" / "book" / "_executed" / nb.parent.name / f"{nb.stem}.html"
        assert page.exists(), page
    assert (copy / "_build" / "html" / "index.html").exists()
    assert "build timing summary" in out and "budget of the whole book in smoke: 10 min" in out


def test_every_image_exists_and_no_cell_errors(book):
    copy, _, _ = book
    site = copy / "_build" / "html"
    for page in site.rglob("*.html"):
        soup = BeautifulSoup(page.read_text(), "html.parser")
        for img in soup.find_all("img"):
            src = img.get("src", "")
            if src.startswith(("http", "data:")):
                continue
            assert (page.parent / src).resolve().exists(), f"{page}: missing image {src}"
        assert not soup.select(".output.error, .output.traceback"), f"{page}: a cell raised an error"
        assert "Traceback (most recent call last)" not in soup.get_text(), page


def test_notebook_pages_have_a_figure_and_tables(book):
    copy, _, _ = book
    soup = html(copy, "book/_executed/adversarial_ft/experiment_setup")
    assert soup.find_all("img"), "the Table 1 page shows a figure"
    assert len(soup.find_all("table")) >= 3, "our table, the side-by-side table, the verdict table"
    assert "Profile smoke" in " ".join(soup.get_text(" ").split())


def test_scoreboard_lists_every_checklist_id(book):
    copy, _, _ = book
    text = html(copy, "book/scoreboard").get_text(" ")
    for id_ in reference.REFERENCES:
        assert id_ in text, id_
    assert "smoke run: not meaningful" in text
    # every checklist id is run by some notebook of the whole-book build
    assert "not yet reproduced" not in text, "an id of ftlib.reference has no notebook that reports it"


def test_scoreboard_shows_the_build_time_against_the_budget_and_the_chapter_its_findings(book):
    copy, _, _ = book
    text = " ".join(html(copy, "book/scoreboard").get_text(" ").split())
    assert "build time" in text and "all smoke notebooks" in text and "of the 10-min budget" in text
    chapter = " ".join(html(copy, "book/beyond").get_text(" ").split())
    assert "BEY-SNN-FAT" in chapter and "Wall time of each notebook in this build" in chapter
    assert "spiking" in chapter


def test_checklist_and_reference_agree():
    """Every id of ../shared/papers/CHECKLIST.md (when present) is in ftlib.reference, and vice versa."""
    checklist = ROOT.parent / "shared" / "papers" / "CHECKLIST.md"
    if not checklist.exists():
        pytest.skip("CHECKLIST.md not beside the checkout")
    import re

    ids = set(re.findall(r"^\| ((?:AFT|CF|CL|SNN)-[^ |]+) \|", checklist.read_text(), flags=re.M))
    ids = {i.replace("SNN-T5–T8", "SNN-T5-T8") for i in ids}
    # "AFT-F2a/b/c" in the checklist is three panels, three ids here
    ids = {j for i in ids for j in ([i[:-5] + k for k in "abc"] if i.endswith("a/b/c") else [i])}
    assert ids == {i for i, r in reference.REFERENCES.items() if r.paper in reference.PAPERS}  # not the study's


def test_rebuild_executes_only_what_changed(book):
    copy, cache, _ = book
    out = run_build(copy, cache, "--no-html")
    assert "executing" not in out, "nothing changed: nothing re-executes"
    (copy / "book" / "intro.md").write_text((copy / "book" / "intro.md").read_text() + "\nOne more line.\n")
    out = run_build(copy, cache, "--no-html")
    assert "executing" not in out, "a narrative edit re-executes nothing"
    nb = copy / "notebooks" / "adversarial_ft" / "experiment_setup.py"
    nb.write_text(nb.read_text() + "\n# %% [markdown]\n# An added remark.\n")
    out = run_build(copy, cache, "--no-html")
    assert out.count("executing") == 1 and "experiment_setup" in out
    (copy / "ftlib" / "reference.py").write_text((copy / "ftlib" / "reference.py").read_text() + "\n# edit\n")
    out = run_build(copy, cache, "--no-html")
    assert out.count("executing") == len(list((copy / "notebooks").glob("*/*.py")))


def test_figures_have_alt_text_and_a_caption(book):
    copy, _, _ = book
    for page in sorted((copy / "_build" / "html" / "book" / "_executed").rglob("*.html")):
        soup = BeautifulSoup(page.read_text(), "html.parser")
        for fig in soup.select("figure.ftlib-figure"):
            img = fig.find("img")
            assert img is not None and img.get("alt"), f"{page}: a figure without alt text"
            caption = fig.find("figcaption")
            # the paper's figure number ("Figure 7", "Figures 3, 4") or a plot number of the page ("Plot 2")
            assert caption is not None and caption.get_text(strip=True).startswith(("Figure", "Plot ")), page
    soup = html(copy, "book/_executed/adversarial_ft/experiment_setup")
    assert soup.select("figure.ftlib-figure figcaption"), "the Table 1 page shows captioned figures"


def test_notebook_pages_offer_their_ipynb_and_show_no_stderr(book):
    copy, _, _ = book
    site = copy / "_build" / "html"
    for nb in sorted((copy / "notebooks").glob("*/*.py")):
        page = f"book/_executed/{nb.parent.name}/{nb.stem}"
        soup = html(copy, page)
        links = [a["href"] for a in soup.find_all("a", href=True) if a["href"].endswith(f"{nb.stem}.ipynb")]
        assert links, f"{page}: no download link to its .ipynb"
        assert (site / page).parent.joinpath(links[0]).resolve().exists(), links[0]
        assert not soup.select(".output.stderr"), f"{page}: stderr output (a warning or log) in the page"


def test_landing_page_summary_and_api_reference(book):
    copy, _, _ = book
    text = html(copy, "book/intro").get_text(" ")
    assert "This copy of the book was computed with the profile smoke" in " ".join(text.split())
    for paper in reference.PAPERS:
        assert paper in text
    api = html(copy, "book/api_faults")
    assert api.find(id="ftlib.faults.sweep") and api.find(id="ftlib.faults.StuckAtZero"), "autodoc of the fault engine"
    for page in ("api", "api_theory", "api_training", "api_data", "api_report", "rerun"):
        assert (copy / "_build" / "html" / "book" / f"{page}.html").exists(), page


# ---- the build's command line: bad input stops before anything runs; first use fetches the data ----

def _build_cli(*args: str):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "ftlib.build", "--profile", "smoke", "--no-html", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_unknown_chapter_fails_fast():
    res = _build_cli("--chapter", "nope")
    assert res.returncode != 0 and "unknown chapter 'nope'" in res.stderr
    assert "executing" not in res.stdout and "up to date" not in res.stdout


@pytest.mark.parametrize("seed", ["-1", str(2**31)])
def test_invalid_seed_fails_fast(seed):
    res = _build_cli("--seed", seed, "--chapter", "snn_patterns")
    assert res.returncode == 2 and "--seed" in res.stderr and "2147483647" in res.stderr
    assert "executing" not in res.stdout


def test_offline_first_build_stops_before_the_first_notebook_with_one_message(tmp_path, monkeypatch, capsys):
    from ftlib import build, data

    monkeypatch.setenv("FTLIB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FTLIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FTLIB_ALLOW_DOWNLOAD", raising=False)
    monkeypatch.setattr(data, "SYSTEM_DIRS", {})
    monkeypatch.setitem(data.MIRRORS, "mnist", ((tmp_path / "offline").as_uri() + "/",))  # unreachable
    monkeypatch.setattr(build, "placeholder", lambda *a: None)
    monkeypatch.setattr(build, "execute", lambda *a, **k: pytest.fail("a notebook ran without its data"))
    data.clear_cache()
    assert build.main(["--profile", "smoke", "--chapter", "snn_patterns", "--force", "--no-html"]) == 2
    out, err = capsys.readouterr()
    assert "mnist          train MISSING" in out and "downloading it from" in out
    assert "stopped before running any notebook" in err and "Traceback" not in out + err


def test_scoreboard_without_records_keeps_the_label_other_pages_use(tmp_path, monkeypatch):
    from ftlib import scoreboard

    monkeypatch.setenv("FTLIB_RESULTS_DIR", str(tmp_path / "results"))
    page = scoreboard.write(tmp_path / "scoreboard.md", tmp_path / "_generated" / "summary.md")
    assert "(scoreboard-build-time)=" in page.read_text()
    assert "<scoreboard-build-time>" in (ROOT / "book" / "beyond.md").read_text()
