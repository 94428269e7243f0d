"""``--no-solutions`` (analysis/engine/solutions.py): no solution in any output of a hand-out build, and the page
says the solutions are not included; a later build with solutions has them again."""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from analysis.core.chapters import CHAPTERS
from analysis.engine.solutions import NO_SOLUTIONS_NOTE, strip_solutions

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "data" / "examples" / "small_trial"
#: what only a solution puts into an output: the fences, sphinx-exercise's HTML, the chapters' sentence on them
MARKERS = ("solution-start", "solution-end", "{solution}", 'class="solution', "Solution to", "hidden in a dropdown")
WITH_EXERCISES = [c.name for c in CHAPTERS if "{exercise" in (ROOT / "book" / c.notebook).read_text("utf-8")]


def _solution_code(nb: dict) -> list[str]:
    """The code lines of the gated solutions of a stored notebook that no other cell has (imports are shared)."""
    solution, other, inside = [], set(), False
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            inside = (inside or "{solution-start}" in src) and "{solution-end}" not in src
            continue
        lines = [ln.strip() for ln in src.splitlines() if len(ln.strip()) > 25 and not ln.strip().startswith("#")]
        if inside:
            solution += lines
        else:
            other.update(lines)
    return [ln for ln in solution if ln not in other]


@pytest.mark.parametrize("chapter", WITH_EXERCISES)
def test_strip_solutions_on_each_chapter(chapter):
    nb = json.loads((ROOT / "book" / f"{chapter}.ipynb").read_text("utf-8"))
    stripped = strip_solutions(nb)
    text = json.dumps(stripped, ensure_ascii=False)
    assert not [m for m in MARKERS if m in text]
    assert text.count(NO_SOLUTIONS_NOTE.replace('"', '\\"')) == 1  # said once, where the chapter said where they are
    assert text.count("{exercise") == json.dumps(nb, ensure_ascii=False).count("{exercise")  # every exercise stays
    assert strip_solutions(stripped) == stripped  # stripping twice changes nothing


def test_a_notebook_without_the_sentence_gets_the_note_before_its_first_exercise():
    md = lambda s: {"cell_type": "markdown", "metadata": {}, "source": s}  # noqa: E731
    nb = {"cells": [md("# T"), md("```{exercise} A\n:label: ex-a\nDo.\n```\n"),
                    md("```{solution} ex-a\nDone.\n```\n")]}
    cells = strip_solutions(nb)["cells"]
    assert [c["source"].split("\n")[0] for c in cells] == ["# T", NO_SOLUTIONS_NOTE]
    plain = {"cells": [md("# T"), md("```{exercise} A\n:label: ex-a\nDo.\n```\n")]}
    assert strip_solutions(plain) == plain  # nothing removed: nothing said


def _outputs(out: Path):
    """(name, text) of every text output of a build: pages, executed and downloadable notebooks, zip members."""
    for path in sorted(out.rglob("*")):
        if not path.is_file() or "_static" in path.parts:
            continue
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    yield f"{path}:{name}", zf.read(name).decode("utf-8", "replace")
        elif path.suffix in {".html", ".ipynb", ".js", ".csv", ".json", ".txt", ".md"}:
            yield str(path), path.read_text("utf-8", "replace")


@pytest.mark.slow
def test_a_handout_build_has_no_solution_anywhere_and_a_later_build_has_them_again(tmp_path):
    from analysis.engine.build import build

    out = tmp_path / "out"
    build(data_dir=SMALL, out=out, no_solutions=True, jobs=2)
    code = {name: _solution_code(json.loads((ROOT / "book" / f"{name}.ipynb").read_text("utf-8")))
            for name in WITH_EXERCISES}
    assert all(code.values())
    n_files = 0
    for name, text in _outputs(out):
        n_files += 1
        found = [m for m in MARKERS if m in text]
        assert not found, f"{name}: {found}"
        if name.endswith((".html", ".ipynb")) and Path(name).stem in code:  # a chapter's page or notebook
            leaked = [ln for ln in code[Path(name).stem] if ln in text]
            assert not leaked, f"{name}: solution code {leaked[:2]}"
    assert n_files > 20
    for name in WITH_EXERCISES:
        page = re.sub(r"<[^>]+>", "", (out / "html" / "book" / f"{name}.html").read_text("utf-8"))
        assert "The solutions are not included in this edition" in page, name
        executed = (out / "executed" / f"{name}.ipynb").read_text("utf-8")
        assert "The solutions are not included in this edition" in executed and "{exercise" in executed
    # the hand-out's executed copies are keyed apart: a build with solutions runs the chapters again
    again = build(data_dir=SMALL, out=out, jobs=2)
    assert set(again.executed) >= set(WITH_EXERCISES)
    for name in WITH_EXERCISES:
        assert "solution-start" in (out / "executed" / f"{name}.ipynb").read_text("utf-8")
        assert 'class="solution' in (out / "html" / "book" / f"{name}.html").read_text("utf-8")
