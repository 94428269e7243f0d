"""The README and the guide pages of the book ("Using this book"): short README, guide in the table of contents,
and nothing in the text that the code no longer backs (commands, options, module paths, units, margins).

Fast: reads the sources only. That the guide pages are built, in the sidebar and in the search index is checked
on the built site in ``tests/test_site.py``.
"""
from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: the part of the table of contents that holds the user guide, and its pages (file stem -> title), in order
GUIDE_CAPTION = "Using this book"
GUIDE_PAGES = {
    "guide_own_trial": "Rerun on your own trial",
    "guide_claims": "How a claim is judged",
    "guide_robustness": "How sure is each verdict (robustness, Dask)",
    "guide_errors": "When something goes wrong",
}
MAX_README_LINES = 120


def guide_path(stem: str) -> Path:
    return ROOT / "book" / f"{stem}.md"


def documents() -> dict[str, str]:
    """The README and every guide page, by name."""
    docs = {"README.md": README.read_text("utf-8")}
    docs.update({f"book/{s}.md": guide_path(s).read_text("utf-8") for s in GUIDE_PAGES if guide_path(s).exists()})
    return docs


def code_spans(text: str) -> list[str]:
    """Inline code spans and the lines of fenced code blocks."""
    out: list[str] = []
    fences = re.findall(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S)
    for block in fences:
        out += [line for line in block.splitlines() if line.strip()]
    rest = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.M | re.S)
    out += [s.replace("\n", " ") for s in re.findall(r"`([^`]+)`", rest)]
    return out


def analysis_commands(text: str) -> list[str]:
    """Every ``python -m analysis ...`` command shown, without its trailing comment."""
    out = []
    for span in code_spans(text):
        m = re.search(r"python3? -m analysis\b(.*)", span)
        if m:
            out.append(re.sub(r"\s+#.*$", "", m.group(1)).strip())
    return out


def table_rows(text: str, header: str) -> list[list[str]]:
    """The body rows of the first markdown table whose header row starts with ``header`` (cells stripped)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.strip().startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
        rows.append([c.strip() for c in cells])
    return rows


# ------------------------------------------------------------------------------------------------ README
def test_readme_is_short():
    n = len(README.read_text("utf-8").splitlines())
    assert n <= MAX_README_LINES, f"README.md has {n} lines (at most {MAX_README_LINES}); move the rest to the guide"


def test_readme_keeps_the_two_commands_the_data_and_the_outputs():
    text = README.read_text("utf-8")
    head = text.split("\n## ", 1)[0]
    assert "make book" in head and "make test" in head, "the two commands lead the README"
    assert "synthetic" in text.lower()
    assert "_build/html/index.html" in text and "results/" in text


def test_readme_links_every_guide_page_and_contributing():
    text = README.read_text("utf-8")
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, f"README links to files that do not exist: {missing}"
    for stem in GUIDE_PAGES:
        assert f"book/{stem}.md" in local, f"README does not link book/{stem}.md"
    assert "CONTRIBUTING.md" in local


# ------------------------------------------------------------------------------------------------ guide in the book
def test_toc_lists_the_guide_pages_under_using_this_book():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text("utf-8"))
    parts = {p.get("caption"): p for p in toc["parts"]}
    assert GUIDE_CAPTION in parts, f"_toc.yml has no part {GUIDE_CAPTION!r}: {list(parts)}"
    files = [c["file"] for c in parts[GUIDE_CAPTION]["chapters"]]
    assert files == [f"book/{s}" for s in GUIDE_PAGES]


@pytest.mark.parametrize("stem", GUIDE_PAGES)
def test_guide_page_exists_with_its_label_and_title(stem):
    path = guide_path(stem)
    assert path.is_file(), f"{path} is missing"
    lines = path.read_text("utf-8").splitlines()
    assert lines[0] == f"({stem.replace('_', '-')})=", f"{path.name}: first line should be its label"
    assert lines[1] == f"# {GUIDE_PAGES[stem]}"


# ------------------------------------------------------------------------------------------------ what the text says
def test_every_analysis_command_shown_is_accepted_by_the_command_line():
    from analysis.cli import _parser

    parser = _parser()
    seen = 0
    for name, text in documents().items():
        for command in analysis_commands(text):
            seen += 1
            try:
                parser.parse_args(shlex.split(command))
            except SystemExit as exc:  # argparse exits 2 on a bad command line, 0 after --help
                assert exc.code == 0, f"{name}: 'python -m analysis {command}' is refused by the command line"
    assert seen >= 15, f"only {seen} commands found: is the extraction broken?"


def test_every_chapter_parameter_shown_exists():
    from analysis.core.chapters import CHAPTERS
    from analysis.core.notebooks import RESERVED, chapter_parameters
    from analysis.engine.params import check_parameters, parse_parameters

    declared = {c.name: chapter_parameters(ROOT / "book" / c.notebook) for c in CHAPTERS}
    known = {k for params in declared.values() for k in params}
    for name, text in documents().items():
        for key in re.findall(r"-p ([A-Za-z_][A-Za-z_0-9]*)=", text):
            assert key in {"KEY", "name"} or key in known, f"{name}: -p {key}=... is not a chapter parameter"
        if name.endswith("guide_errors.md"):  # shows refused values on purpose
            continue
        pairs = [m for span in code_spans(text) for m in re.findall(r"-p ([a-z_0-9]+=[^\s`…]+)", span)
                 if not m.endswith("...")]
        user = parse_parameters(pairs)
        assert not set(user) & RESERVED
        check_parameters(user, declared)  # refuses unknown names and wrong types


def test_every_option_in_the_option_tables_exists():
    from analysis.cli import _parser

    parser = _parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    for stem, command, header in (("guide_own_trial", "build", "| option |"),
                                  ("guide_robustness", "robustness", "| option |")):
        flags = set(subparsers[command]._option_string_actions)
        rows = table_rows(guide_path(stem).read_text("utf-8"), header)
        assert rows
        for row in rows:
            flag = row[0].strip("`").split()[0]
            assert flag in flags, f"{stem}.md lists {flag}, which 'python -m analysis {command}' does not take"


def test_module_paths_named_in_the_text_exist():
    """``analysis/...`` paths and ``analysis.x.y`` names: the package layout changes; the text must follow."""
    for name, text in documents().items():
        for path in re.findall(r"\banalysis/[\w./<>-]*", text):
            path = path.rstrip(".")
            if "<" in path:  # a pattern such as analysis/chapters/<topic>/
                path = path.split("<")[0]
            assert (ROOT / path).exists(), f"{name} names {path}, which does not exist"
        for dotted in re.findall(r"(?<![/\w])analysis(?:\.[A-Za-z_]\w*)+", text):
            parts = dotted.split(".")
            for i in range(len(parts), 0, -1):
                try:
                    obj = importlib.import_module(".".join(parts[:i]))
                except ImportError:
                    continue
                for attr in parts[i:]:
                    assert hasattr(obj, attr), f"{name} names {dotted}: {'.'.join(parts[:i])} has no {attr!r}"
                    obj = getattr(obj, attr)
                break
            else:
                raise AssertionError(f"{name} names {dotted}, which cannot be imported")


def test_unit_table_lists_every_known_conversion():
    from analysis.intake.units import conversions_table

    rows = table_rows(guide_path("guide_own_trial").read_text("utf-8"), "| dictionary column (unit) |")
    shown = set()
    for columns, units in rows:
        names = re.findall(r"`(\w+)`", columns)
        recorded = [u.split(" (")[0].strip() for u in re.split(r",\s*", units)]
        shown |= {(c, u) for c in names for u in recorded}
    known = {(r.column, r.recorded_in) for r in conversions_table().itertuples()}
    assert shown == known, f"shown but unknown: {sorted(shown - known)}; known but not shown: {sorted(known - shown)}"


def test_margins_named_in_the_claims_page_are_those_of_margins_csv():
    text = " ".join(guide_path("guide_claims").read_text("utf-8").split())
    margins = pd.read_csv(ROOT / "data" / "published" / "margins.csv")
    for measure, label in (("das28", "DAS28"), ("haq_di", "HAQ-DI")):
        value = margins.loc[margins["measure"] == measure, "margin"].item()
        assert f"{label} {value:g}" in text, f"guide_claims.md: the {label} margin is {value:g} in margins.csv"
    rest = margins.loc[margins["measure"] == "*"].iloc[0]
    assert rest["scale"] == "baseline_sd" and rest["margin"] == 0.5 and "half the baseline SD" in text


def test_build_help_names_every_file_format_the_data_folder_may_use():
    from analysis.cli import _parser
    from analysis.intake.readers import STAT_FORMATS

    parser = _parser()
    build = next(a for a in parser._actions if a.dest == "command").choices["build"]
    data_help = build._option_string_actions["--data"].help
    for suffix in (".csv", ".xlsx", *STAT_FORMATS):
        assert suffix.lstrip(".") in data_help, f"build --help: --data does not name {suffix}"
    for name, text in {**documents(), "book/intro.md": (ROOT / "book" / "intro.md").read_text("utf-8")}.items():
        assert ".csv or .xlsx)" not in text and "(CSV or Excel)" not in text, f"{name} names only CSV and Excel"


def test_build_help_lists_every_parameter_and_what_it_takes():
    from analysis.cli import _parser
    from analysis.core.notebooks import PARAMETER_RULES

    parser = _parser()
    build = next(a for a in parser._actions if a.dest == "command").choices["build"]
    text = " ".join(build.format_help().split())
    for name, rule in PARAMETER_RULES.items():
        assert f"{name} {rule.text}" in text, f"build --help does not list -p {name}"
