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


def test_profile_values_quoted_in_parameter_comments_are_current():
    """A parameter comment that quotes a profile's value ("(quick: 3, paper: 20)") quotes the value that
    profile really uses (ftlib.sections), so `papermill --help-notebook` never documents a stale setting."""
    import ast

    stale = []
    for nb in sorted((ROOT / "notebooks").glob("*/*.py")):
        key = f"{nb.parent.name}/{nb.stem}"
        profiles = sections.get(key).profiles
        cell = nb.read_text().split('# %% tags=["parameters"]', 1)[1].split("# %%", 1)[0]
        for m in re.finditer(r'^(\w+): .+?  # (.+)$', cell, flags=re.M):
            name, comment = m.groups()
            for prof, quoted in re.findall(r"\b(smoke|quick|paper): (\[[^\]]*\]|[^,;)]+)", comment):
                try:
                    value = ast.literal_eval(quoted.strip())
                except (ValueError, SyntaxError):
                    continue  # prose such as "all 405": not a literal, not checked
                if name in profiles[prof] and profiles[prof][name] != value:
                    stale.append(f"{key}: {name} says {prof}: {quoted.strip()}, profile has {profiles[prof][name]!r}")
    assert not stale, "\n".join(stale)


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
