"""The build cache decides correctly what to re-execute and what to reuse (no timing anywhere).

A tiny book with two one-cell chapters, ``safety`` and ``immune`` (only ``immune`` declares the parameter
``x``), is built once into a reference output folder; every test copies that folder and rebuilds it after
one change, then checks :class:`analysis.engine.build.BuildResult` ``executed`` / ``reused`` / ``up_to_date``.
The rule under test (analysis/build.py): a chapter is re-executed only when its notebook, the analysis
code, its parameters or the input data changed; ``force`` ignores the cache; ``chapters`` limits what runs.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from analysis.engine.build import build
from tinybook import tiny_book

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow  # each build starts Jupyter kernels and renders a (tiny) book


#: like a real chapter, each writes its results folder (the build reuses a chapter only with its results)
_WRITE = ("from pathlib import Path\n"
          "results = Path(output_dir) / 'results' / '{0}'\n"
          "results.mkdir(parents=True, exist_ok=True)\n"
          "(results / 'value.csv').write_text('value\\n' + str(globals().get('x', 1) * 2) + '\\n')")


def _tiny_book(folder: Path) -> Path:
    """Intro page plus two tiny data chapters; only ``immune`` declares ``x``."""
    return tiny_book(folder, intro="Two chapters, for the cache tests.", chapters={
        "safety": ("data_dir = None\noutput_dir = None\nalpha = 0.05", _WRITE.format("safety")),
        "immune": ("data_dir = None\noutput_dir = None\nx = 1", _WRITE.format("immune")),
    })


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A tiny book and an output folder holding its first (cold) build."""
    base = tmp_path_factory.mktemp("cache")
    book = _tiny_book(base / "book")
    out = base / "out"
    first = build(book_dir=book, out=out, jobs=2)
    return book, out, first


@pytest.fixture
def rebuild(reference, tmp_path):
    """Rebuild a copy of the reference output folder with extra build() arguments."""
    book, out, _ = reference
    copy = tmp_path / "out"
    shutil.copytree(out, copy)

    def _run(**kwargs):
        return build(book_dir=book, out=copy, jobs=2, **kwargs)

    return _run


def test_first_build_executes_both_chapters(reference):
    _, out, first = reference
    assert sorted(first.executed) == ["immune", "safety"]
    assert first.reused == [] and not first.up_to_date
    assert (out / "executed" / "safety.ipynb").exists() and (out / "executed" / "immune.ipynb").exists()


def test_nothing_changed_executes_nothing(rebuild):
    res = rebuild()
    assert res.up_to_date
    assert res.executed == []
    assert sorted(res.reused) == ["immune", "safety"]


def test_parameter_of_one_chapter_reexecutes_only_that_chapter(rebuild):
    res = rebuild(params=["x=2"])  # declared by immune only
    assert res.executed == ["immune"]
    assert res.reused == ["safety"]
    assert not res.up_to_date


def test_changed_data_reexecutes_the_data_chapters(rebuild, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "synthetic", data)
    rows = list(csv.reader((data / "visits.csv").open(newline="", encoding="utf-8")))
    col = rows[0].index("tjc28")
    rows[1][col] = str(int(rows[1][col]) - 1 if int(rows[1][col]) > 0 else 1)  # one cell, still valid
    with (data / "visits.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    res = rebuild(data_dir=data)
    assert sorted(res.executed) == ["immune", "safety"]
    assert res.reused == []


def test_force_reexecutes_everything(rebuild):
    res = rebuild(force=True)
    assert sorted(res.executed) == ["immune", "safety"]
    assert res.reused == []


def test_selected_chapter_alone_is_executed(rebuild):
    res = rebuild(chapters=["safety"], force=True)
    assert res.executed == ["safety"]
    assert res.reused == ["immune"]


def test_selected_chapter_on_an_empty_folder_skips_the_others(reference, tmp_path):
    book, _, _ = reference
    res = build(book_dir=book, out=tmp_path / "fresh", chapters=["safety"], jobs=2)
    assert res.executed == ["safety"]
    assert res.skipped == ["immune"] and res.reused == []
