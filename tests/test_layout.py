"""Project layout promises: TOC ↔ notebooks, pins, the README's commands, the notebook contract."""

import re
from pathlib import Path

import yaml

from ftlib import sections

ROOT = Path(__file__).resolve().parent.parent


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    out = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                out.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(toc.get("parts", []))
    return out


def test_every_notebook_is_in_the_toc_and_registered():
    files = set(toc_files())
    for nb in sorted((ROOT / "notebooks").glob("*/*.py")):
        key = f"{nb.parent.name}/{nb.stem}"
        assert f"book/_executed/{key}" in files, f"{key} missing from _toc.yml"
        assert key in sections.SECTIONS, f"{key} has no entry in ftlib.sections"
    for f in files:
        if f.startswith("book/_executed/"):
            assert (ROOT / "notebooks" / (f.removeprefix("book/_executed/") + ".py")).exists(), f


def test_hand_written_pages_exist():
    for f in toc_files():
        if not f.startswith("book/_executed/") and f not in ("book/scoreboard", "book/status"):  # generated
            assert (ROOT / f"{f}.md").exists(), f


def _pins(lines):
    return sorted(l.strip().lstrip("- ").strip() for l in lines if re.match(r"^\s*-?\s*[A-Za-z0-9_.\-]+==", l))


def test_environment_yml_pins_equal_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    assert sorted(pip) == req


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^(make [a-z]+)\s*(?:#.*)?$", readme, flags=re.M)
    assert commands[:2] == ["make book", "make test"], commands
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), flags=re.M)


def test_notebook_contract_parameters_cell():
    """Every notebook declares exactly its section's parameters, each annotated and commented."""
    for nb in sorted((ROOT / "notebooks").glob("*/*.py")):
        text = nb.read_text()
        cell = text.split('# %% tags=["parameters"]', 1)[1].split("# %%", 1)[0]
        names = []
        for line in cell.strip().splitlines():
            m = re.match(r'^(\w+): (\w+|"Optional\[\w+\]") = (.+?)  # (.+)$', line)
            assert m, f"{nb.name}: parameter line without type annotation or comment: {line!r}"
            assert "=" not in m.group(4), f"{nb.name}: papermill cannot parse '=' in a parameter comment: {line!r}"
            names.append(m.group(1))
        key = f"{nb.parent.name}/{nb.stem}"
        assert sorted(names) == sorted(sections.get(key).spec), key
        assert f'validate_notebook("{key}", globals())' in text


def test_paper_numbers_only_in_reference():
    """Notebooks never write a paper value literally (they take it from ftlib.reference)."""
    from ftlib.reference import get

    values = {f"{v:.2f}" for row in get("AFT-T1").values.values() for v in row.values()}
    for nb in (ROOT / "notebooks").glob("*/*.py"):
        text = nb.read_text()
        assert not [v for v in values if v in text], nb


def quoted_profile_values(comment: str) -> list[tuple[tuple[str, ...], str]]:
    """The profile values a parameter comment quotes, as (profiles, quoted text): "(quick: 3, paper: 20)"
    quotes one value per named profile; a bare "(128)" at the end of the comment quotes the value of the
    profiles that make results, ``quick`` and ``paper`` (``smoke`` is CI's, and shrinks sizes); "the paper's
    grid is [0, 1e-4]" quotes the ``paper`` profile's value."""
    out = [((prof,), quoted) for prof, quoted in re.findall(r"\b(smoke|quick|paper): (\[[^\]]*\]|[^,;)]+)", comment)]
    bare = re.search(r"\(([^():]*)\)\s*$", comment)
    if bare:
        out.append((("quick", "paper"), bare.group(1)))
    out += [(("paper",), q) for q in re.findall(r"the paper's \w+ is (\[[^\]]*\]|[\d.e+-]+)", comment)]
    return out


def stale_parameter_comments(cell: str, profiles) -> list[str]:
    """Every quote of :func:`quoted_profile_values` in the parameter lines of ``cell`` that differs from the
    value the profile really uses (prose such as "all 405" is not a literal and is not checked)."""
    import ast

    stale = []
    for m in re.finditer(r'^(\w+): .+?  # (.+)$', cell, flags=re.M):
        name, comment = m.groups()
        for profs, quoted in quoted_profile_values(comment):
            try:
                value = ast.literal_eval(quoted.strip())
            except (ValueError, SyntaxError):
                continue
            for prof in profs:
                if name in profiles[prof] and profiles[prof][name] != value:
                    stale.append(f"{name} says {prof}: {quoted.strip()}, profile has {profiles[prof][name]!r}")
    return stale


def test_profile_values_quoted_in_parameter_comments_are_current():
    """A parameter comment that quotes a profile's value ("(quick: 3, paper: 20)", "(128)", "the paper's grid
    is [...]") quotes the value that profile really uses (the section's ``profiles``), so `papermill
    --help-notebook` never documents a stale setting."""
    stale = []
    for nb in sorted((ROOT / "notebooks").glob("*/*.py")):
        key = f"{nb.parent.name}/{nb.stem}"
        cell = nb.read_text().split('# %% tags=["parameters"]', 1)[1].split("# %%", 1)[0]
        stale += [f"{key}: {s}" for s in stale_parameter_comments(cell, sections.get(key).profiles)]
    assert not stale, "\n".join(stale)


def test_the_parameter_comment_check_finds_stale_values():
    """The check above can fail: a value drifted from its profile is found in each quoting form."""
    profiles = {"smoke": {"epochs": 1, "batch_size": 256, "grid": [0.0]},
                "quick": {"epochs": 6, "batch_size": 128, "grid": [0.0, 0.1]},
                "paper": {"epochs": 50, "batch_size": 128, "grid": [0.0, 0.1]}}
    cell = ('epochs: "Optional[int]" = None  # training epochs (quick: 6, paper: 20)\n'
            'batch_size: "Optional[int]" = None  # mini-batch size (256)\n'
            "grid: \"Optional[list]\" = None  # strengths; the paper's grid is [0, 1e-4]\n")
    assert stale_parameter_comments(cell, profiles) == [
        "epochs says paper: 20, profile has 50", "batch_size says quick: 256, profile has 128",
        "batch_size says paper: 256, profile has 128", "grid says paper: [0, 1e-4], profile has [0.0, 0.1]"]
    fixed = cell.replace("paper: 20", "paper: 50").replace("(256)", "(128)").replace("[0, 1e-4]", "[0, 0.1]")
    assert stale_parameter_comments(fixed, profiles) == []


def test_every_public_module_is_in_the_api_reference():
    """Each public module of ftlib has an ``automodule`` on one of the book's API pages. Subpackages that
    re-export their modules' API (``ftlib.faults``, ``ftlib.theory``) count for their submodules."""
    import pkgutil

    import ftlib

    documented = set()
    for page in (ROOT / "book").glob("api*.md"):
        documented |= set(re.findall(r"automodule:: ([\w.]+)", page.read_text()))
    reexporting = {"ftlib.faults", "ftlib.theory"}
    missing = []
    for info in pkgutil.walk_packages(ftlib.__path__, "ftlib."):
        name = info.name
        if any(part.startswith("_") for part in name.split(".")) or name == "ftlib.datasets":
            continue
        if any(name.startswith(p + ".") for p in reexporting):
            continue
        if name not in documented:
            missing.append(name)
    assert not missing, f"modules without an API page: {missing}"


def test_the_permanence_strip_plot_is_the_same_figure_twice():
    """Its jitter is seeded (quick builds of session 6 found the figure differing by the jitter alone)."""
    import io

    import matplotlib
    import numpy as np
    import pandas as pd

    matplotlib.use("Agg")
    from ftlib.experiments.fault_models.primer import plot_permanence

    df = pd.DataFrame({"rate": [0.1] * 6 + [0.2] * 6, "mode": (["permanent"] * 3 + ["transient"] * 3) * 2,
                       "accuracy": np.linspace(0.7, 0.9, 12)})
    np.random.seed(5)
    expected = np.random.random()
    np.random.seed(5)
    pngs = []
    for _ in range(2):
        buf = io.BytesIO()
        plot_permanence(df).savefig(buf, format="png")
        pngs.append(buf.getvalue())
    assert pngs[0] == pngs[1]
    assert np.random.random() == expected  # the caller's global NumPy stream is left where it was
