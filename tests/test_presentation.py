"""How results are shown to a reader: table cells in full, numbers by their scale, readable figures, the
scoreboard's compact table and anchors, the status and citation pages, collapsed set-up cells."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ftlib import build, reference, report, scoreboard, sections


@pytest.mark.parametrize("value,column,shown", [
    (1e-4, "lambda", "1e-4"), (1e-9, "lam", "1e-9"), (0.0, "lambda", "0"), (88.9123, "test", "88.91"),
    (0.0523, "", "0.0523"), (12345.6, "", "12346"), (float("nan"), "", report.MISSING), (3, "", "3"),
    (0.005, "rate", "5e-3"), (0.005, "acc", "0.005"), (-2.5e-5, "", "-2.5e-5"), (None, "", report.MISSING),
])
def test_numbers_are_shown_by_their_scale_never_rounded_to_zero(value, column, shown):
    assert report.fmt_number(value, column) == shown


def test_tables_show_every_cell_in_full_and_say_what_is_missing():
    note = "the certified network's accuracy is far below the paper's: " + "x" * 200
    df = pd.DataFrame({"reg": ["lasso", "lasso"], "lambda": [1e-4, 0.0], "acc": [84.6, math.nan],
                       "note": [note, "short"]}).set_index(["reg", "lambda"])
    out = report.frame_html(df)
    assert note.replace("'", "&#x27;") in out or note in out
    assert "NaN" not in out and "nan" not in out.lower().replace("nan-", "")
    assert "…" not in out and "..." not in out
    assert "<th>1e-4</th>" in out and "lasso" in out
    assert "not computed in this run" in out  # the note under the table says what "—" means
    assert report.frame_html(df.dropna()).count("ftlib-table-note") == 0
    series = report.frame_html(pd.Series({"lam": 1e-9, "R": 20}, dtype=object))
    assert "1e-9" in series and "0.0" not in series


def test_the_comparison_table_is_an_anchor_target_and_keeps_full_notes(tmp_cache):
    rep = report.Report("adversarial_ft/faults", sections.resolve("adversarial_ft/faults", {"profile": "quick",
                                                                                            "seed": 0}))
    long = "p = 0.0016 (one-sided test); " + "a reason that is long " * 10
    rep.numeric("AFT-F5", "claim", 80.0, 70.0, 2.0, note=long)
    df = rep.table()
    assert df.attrs["ftlib_table_id"] == "verdict-table"
    out = report.frame_html(df, table_id=df.attrs["ftlib_table_id"])
    assert 'id="verdict-table"' in out and long.strip() in out


def _figure(width_in: float, font: float, legend_entries: int = 0):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width_in, 3.0))
    for i in range(max(1, legend_entries)):
        ax.plot([0, 1], [i, i + 1], label=f"line {i}")
    ax.set_xlabel("x", fontsize=font)
    ax.tick_params(labelsize=font)
    if legend_entries:
        ax.legend(fontsize=font)
    return fig


@pytest.mark.parametrize("width_in,font", [(5.5, 5.0), (14.0, 7.0), (30.0, 10.0)])
def test_figures_are_saved_with_text_readable_at_display_width(tmp_cache, width_in, font):
    from PIL import Image

    rep = report.Report("adversarial_ft/faults", sections.resolve("adversarial_ft/faults", {"profile": "quick",
                                                                                            "seed": 0}))
    rep.figure(_figure(width_in, font), "figure5", "a caption")
    png = report.config.results_dir() / rep.figures[-1]["file"]
    width = Image.open(png).size[0]
    html = report.figure_html(png.read_bytes(), "alt", "cap", "figure5", min_pt=1.0, dpi=150)
    assert 'data-min-font-pt="1.00"' in html and 'data-dpi="150"' in html and "ftlib-zoomable" in html
    # the smallest text, on screen at the book's figure width, is at least MIN_FONT_PX
    import matplotlib.pyplot as plt

    fig = _figure(width_in, font)
    report._readable(fig, 150.0)
    px = report.min_font_pt(fig) * 150 / 72 * min(1.0, report.DISPLAY_PX / width)
    plt.close(fig)
    assert px >= report.MIN_FONT_PX - 0.3, (width, px)
    assert rep.figures[-1]["paper_figure"] == "5"


def test_enlarged_titles_that_widen_the_figure_are_measured_again():
    """Bigger titles widen a tight bounding box, which shrinks the image on screen: the text must still
    reach MIN_FONT_PX at the final width (a grid of image panels with titles, as in snn_patterns' Fig 2)."""
    import io

    import matplotlib
    import numpy as np
    from PIL import Image

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 8, figsize=(8, 2.5))
    for i, ax in enumerate(axes.ravel()):
        ax.imshow(np.zeros((8, 8)))
        ax.set_title(f"label {i}, 0 steps: source", fontsize=5)
        ax.axis("off")
    report._readable(fig, 150.0)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    width = Image.open(buf).size[0]
    assert report.min_font_pt(fig) * 150 / 72 * min(1.0, report.DISPLAY_PX / width) >= report.MIN_FONT_PX
    plt.close(fig)


def test_a_crowded_legend_moves_out_of_the_data():
    import matplotlib.pyplot as plt

    fig = _figure(5.5, 9, legend_entries=15)
    report._legends_outside(fig)
    leg = fig.axes[0].get_legend()
    assert len(leg.get_texts()) == 15
    fig.canvas.draw()
    box = leg.get_window_extent()
    assert box.x0 >= fig.axes[0].get_window_extent().x1 - 1  # to the right of the panel, over no data
    plt.close(fig)


def test_figure_numbers_follow_the_paper_and_ids_have_anchors():
    assert report.figure_number("figure7") == "7" and report.figure_number("fig3b") == "3b"
    assert report.figure_number("figure2_mlp") == "2" and report.figure_number("trace") is None
    assert report.figure_number("figures3_4") == "3, 4" and report.figure_label("3, 4", 0) == "Figures 3, 4"
    assert report.figure_label(None, 2) == "Plot 2"
    assert report.anchor_id("AFT-F3/F4/F6") == "AFT-F3-F4-F6" and report.anchor_id("CL-T1") == "CL-T1"


def _record(section: str, comparisons: list[dict], **extra) -> dict:
    return {"section": section, "title": "t", "paper": section.split("/")[0], "profile": "quick",
            "ids": sorted({c["id"] for c in comparisons}), "comparisons": comparisons, "figures": [],
            "git_commit": "0123456789abcdef", "wall_time_s": 693.2, "created": "2026-01-02T03:04:05+00:00",
            **extra}


def test_scoreboard_starts_with_a_compact_table_linking_every_id_to_its_anchor():
    rec = _record("adversarial_ft/faults", [
        {"id": "AFT-F5", "claim": "accuracy at 40 %", "paper": 80.0, "ours": 60.0, "gap": -20.0,
         "verdict": report.NOT_REPRODUCED, "note": "ours falls 20 pp below the paper (p = 0.0016, one-sided)"}])
    table = scoreboard.rows([rec])
    page = scoreboard.render(table)
    glance = page.index("## At a glance")
    assert glance < page.index("## adversarial_ft")
    assert '<a href="_executed/adversarial_ft/faults.html#AFT-F5"><strong>AFT-F5</strong></a>' in page
    assert "ours falls 20 pp below the paper (p = 0.0016, one-sided)" in page[glance:]
    for id_ in reference.REFERENCES:  # every id an anchor target on the scoreboard
        assert f'id="sb-{report.anchor_id(id_)}"' in page, id_
    assert "| why |" in page


def test_the_reason_prefers_the_row_that_failed():
    r = {"id": "X", "verdict": report.PARTLY, "within": 1, "n": 2, "comparisons": [
        {"claim": "a", "paper": 1, "ours": 1, "verdict": report.REPRODUCED, "note": "fine"},
        {"claim": "b", "paper": 1, "ours": 5, "verdict": report.NOT_REPRODUCED, "note": ""}]}
    assert scoreboard.reason(r) == "fine" or scoreboard.reason(r).startswith("b: ours")
    r["comparisons"][1]["reason"] = "the gap is 4, over twice the tolerance"
    assert scoreboard.reason(r) == "the gap is 4, over twice the tolerance"


def test_status_and_citation_pages_are_filled_from_the_records():
    rec = _record("computation_failures/fault_tolerance", [])
    status = scoreboard.render_status([rec])
    assert "computation_failures/fault_tolerance" in status and "| 693 |" in status and "0123456789ab" in status
    assert "../_records/computation_failures/fault_tolerance.json" in status
    cite = scoreboard.render_cite([rec])
    assert "<ftlib version>" not in cite and "0123456789ab" in cite and "2026-01-02" in cite
    for key in reference.PAPERS:
        assert f"{{{key}," in cite, key
    assert "El-Mahdi El-Mhamdi and Rachid Guerraoui and Andrei Kucharavy and Sergei Volodin" in cite
    assert "https://arxiv.org/abs/1902.01686" in cite and "https://arxiv.org/abs/1907.03103" in cite


def test_set_up_cells_are_collapsed():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"),
                nbformat.v4.new_code_cell("profile = 'quick'", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("profile = 'smoke'", metadata={"tags": ["injected-parameters"]}),
                nbformat.v4.new_code_cell("from ftlib import sections"),
                nbformat.v4.new_markdown_cell("## Table 1"),
                nbformat.v4.new_code_cell("table")]
    build.collapse_setup(nb)
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert all(build.HIDE_INPUT in t for t in tags[1:4])
    assert build.HIDE_INPUT not in tags[5]
