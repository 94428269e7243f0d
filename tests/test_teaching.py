"""Teaching: students open, run and change the chapters; exercises are real tasks; solutions run and check themselves.

Every computed solution is *gated* (sphinx-exercise ``solution-start`` / ``solution-end`` around executable code
cells that ``assert`` their answer), so running a chapter top to bottom also runs and checks its solutions.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
#: the chapters with exercises (the scorecard has none)
CHAPTERS = ["safety", "disease_activity", "immune", "inflammation", "ifng", "audit"]
#: every chapter has one exercise of each type; the title of each exercise names its type in parentheses
TYPES = {"predict", "by hand", "figure", "new cohort"}

START = re.compile(r"```\{solution-start\}\s+(\S+)")
END = re.compile(r"```\{solution-end\}")
EXERCISE = re.compile(r"`{3,}\{exercise\}\s*(.*)\n:label:\s*(\S+)")


def _cells(chapter: str) -> list[dict]:
    return json.loads((BOOK / f"{chapter}.ipynb").read_text("utf-8"))["cells"]


def _src(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def exercises(chapter: str) -> dict[str, str]:
    """``{label: title}`` of the chapter's exercises, in order."""
    out = {}
    for cell in _cells(chapter):
        if cell["cell_type"] == "markdown":
            for title, label in EXERCISE.findall(_src(cell)):
                out[label] = title.strip()
    return out


def gated_solutions(chapter: str) -> dict[str, list[str]]:
    """``{exercise label: [code of each solution cell]}`` for the gated solutions of a chapter."""
    out: dict[str, list[str]] = {}
    current = None
    for cell in _cells(chapter):
        text = _src(cell)
        if cell["cell_type"] == "markdown":
            if END.search(text):
                current = None
            m = START.search(text)
            if m:
                current = m.group(1)
                out[current] = []
        elif current is not None:
            out[current].append(text)
    return out


# --------------------------------------------------------------------------- structure (fast)
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_exercise_labels_follow_the_convention(chapter):
    labels = list(exercises(chapter))
    assert labels == [f"ex-{chapter}-{i}" for i in range(1, len(labels) + 1)], labels


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_chapter_has_every_exercise_type(chapter):
    found = set()
    for title in exercises(chapter).values():
        m = re.search(r"\(([^()]+)\)\s*$", title)
        assert m and m.group(1) in TYPES, f"{chapter}: exercise title {title!r} does not end with its type"
        found.add(m.group(1))
    assert found == TYPES, f"{chapter}: missing exercise types {TYPES - found}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_gated_solutions_compute_and_assert(chapter):
    gated = gated_solutions(chapter)
    labels = exercises(chapter)
    assert gated, f"{chapter}: no gated (executable) solution"
    assert set(gated) <= set(labels), set(gated) - set(labels)
    assert any("assert" in code for codes in gated.values() for code in codes)
    for label, codes in gated.items():
        assert codes and all(c.strip() for c in codes), f"{label}: empty gated solution"
        assert any("assert" in c for c in codes), f"{label}: the solution checks nothing"
    # starts and ends pair up, never nested
    depth = 0
    for cell in _cells(chapter):
        text = _src(cell)
        if cell["cell_type"] == "markdown":
            depth += len(START.findall(text))
            assert depth <= 1, f"{chapter}: nested solution-start"
            depth -= len(END.findall(text))
            assert depth >= 0, f"{chapter}: solution-end without solution-start"
    assert depth == 0, f"{chapter}: solution-start without solution-end"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solutions_never_write_into_the_repository(chapter):
    for codes in gated_solutions(chapter).values():
        for code in codes:
            if "generate(" in code or "write" in code:
                assert "tempfile" in code or "tmp" in code, code[:200]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_simulate_exercise_names_the_command(chapter):
    cells = "\n".join(_src(c) for c in _cells(chapter) if c["cell_type"] == "markdown")
    assert "python -m analysis simulate" in cells


# --------------------------------------------------------------------------- execution (slow)
def _tree(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime for p in folder.rglob("*")}


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_solution_cell_runs(chapter, tmp_path, monkeypatch):
    """The notebook as a student opens it: cwd book/, no parameters injected, default data, scratch in tmp."""
    import papermill as pm

    monkeypatch.setenv("MSCT_SCRATCH", str(tmp_path / "scratch"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    before = _tree(BOOK)
    out = tmp_path / f"{chapter}.ipynb"
    pm.execute_notebook(str(BOOK / f"{chapter}.ipynb"), str(out), cwd=str(BOOK), progress_bar=False,
                        kernel_name="python3")
    assert _tree(BOOK) == before, "running the chapter changed files in book/"
    executed = json.loads(out.read_text("utf-8"))["cells"]
    ran = [c for c in executed if c["cell_type"] == "code" and c.get("execution_count")]
    n_solution_cells = sum(len(v) for v in gated_solutions(chapter).values())
    assert n_solution_cells and len(ran) == sum(c["cell_type"] == "code" for c in executed)
    assert (tmp_path / "scratch").is_dir(), "default output_dir should be the scratch folder"


@pytest.mark.slow
def test_parameter_change_reruns(tmp_path, monkeypatch):
    """Open the IFN-γ chapter, change the threshold in the parameters cell, rerun: both runs succeed."""
    import papermill as pm

    monkeypatch.setenv("MPLBACKEND", "Agg")
    sens = {}
    for thr in (2.0, 5.0):
        out = tmp_path / f"thr{thr:g}"
        pm.execute_notebook(str(BOOK / "ifng.ipynb"), str(tmp_path / f"ifng_{thr:g}.ipynb"), cwd=str(BOOK),
                            parameters={"ifng_threshold_pg_ml": thr, "output_dir": str(out)}, progress_bar=False,
                            kernel_name="python3")
        diag = pd.read_csv(out / "results" / "ifng" / "diagnostic_metrics.csv").set_index("metric")
        assert (diag["threshold"] == thr).all()
        sens[thr] = diag.loc["sensitivity", "estimate"]
        spec = diag.loc["specificity", "estimate"]
        sens[(thr, "spec")] = spec
    # a stricter threshold can only lose positives (every value above 5 is above 2)
    assert sens[5.0] <= sens[2.0]
    assert sens[(5.0, "spec")] >= sens[(2.0, "spec")]


# --------------------------------------------------------------------------- the built site (slow)
def _page(out: Path, chapter: str) -> str:
    return (out / "html" / "book" / f"{chapter}.html").read_text("utf-8")


def _text(page: str) -> str:
    """The page's text without tags (code is split into highlighted spans)."""
    import html as html_mod

    return html_mod.unescape(re.sub(r"<[^>]+>", "", page))


def _solution_snippets(chapter: str) -> list[str]:
    """A distinctive line of code from each gated solution (must not appear in a hand-out build)."""
    snippets = []
    for codes in gated_solutions(chapter).values():
        code = [ln.strip() for c in codes for ln in c.splitlines() if ln.strip() and not ln.strip().startswith("#")]
        asserts = [ln for ln in code if ln.startswith("assert")]
        # an assert when the solution has one; otherwise its longest line (some solutions only show a result)
        snippets.append(asserts[0] if asserts else max(code, key=len))
    return snippets


@pytest.fixture(scope="module")
def handout_build(tmp_path_factory) -> Path:
    from analysis.engine.build import build

    out = tmp_path_factory.mktemp("handout") / "out"
    build(out=out, no_solutions=True, chapters=CHAPTERS, force=True)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_instructor_build_has_no_solution_text(chapter, handout_build):
    page = _page(handout_build, chapter)
    text = _text(page)
    for title in exercises(chapter).values():
        assert title in text, title
    assert 'class="solution' not in page and "Solution to" not in text
    for snippet in _solution_snippets(chapter):
        assert snippet not in text, f"solution code shown in the hand-out: {snippet}"
    downloaded = handout_build / "html" / "_sources" / "book" / f"{chapter}.ipynb"
    if downloaded.exists():  # the page's download button serves this notebook
        text = downloaded.read_text("utf-8")
        assert "solution-start" not in text and "{solution}" not in text


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_default_build_hides_solutions_in_dropdowns(chapter, built_book):
    page = _page(built_book, chapter)
    n_ex = len(exercises(chapter))
    assert len(re.findall(r'class="[^"]*\bsolution\b[^"]*\bdropdown\b', page)) == n_ex
    text = _text(page)
    for snippet in _solution_snippets(chapter):
        assert snippet in text, snippet
