"""One data folder per book (issue 34): ``--chapter`` never publishes chapters built from other data.

Build the small trial (A), then its one-non-responder variant (B) into the same output folder with
``--chapter safety``: every chapter that read A must run again on B (its data differ), so every page that reads
patient data names B and shows B's input hash, and the scorecard's box names the same data. A rebuild on B
with ``--chapter safety`` then reuses the other chapters (same data, same parameters); a changed parameter
re-executes every chapter that declares it.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from analysis.core import paths
from analysis.core.chapters import CHAPTERS
from analysis.engine.build import build
from analysis.intake.io import fingerprint

pytestmark = pytest.mark.slow

SMALL = paths.repo_root() / "data" / "examples" / "small_trial"


def _one_nonresponder(dst: Path) -> Path:
    """The small trial with patient S03 (UC-MSC) back at baseline at week 12: a EULAR non-responder."""
    shutil.copytree(SMALL, dst)
    visits = dst / "visits.csv"
    lines = visits.read_text().splitlines()
    base = next(line for line in lines if line.startswith("S03,0,")).split(",")
    lines = [",".join(["S03", "12", *base[2:]]) if line.startswith("S03,12,") else line for line in lines]
    visits.write_text("\n".join(lines) + "\n")
    return dst


def _boxes(html_dir: Path) -> dict[str, dict[str, str]]:
    """page -> its provenance box (row name -> text)."""
    out = {}
    for page in sorted(html_dir.rglob("*.html")):
        rows = re.findall(r"<th>([^<]+)</th><td>([^<]*)</td>", page.read_text("utf-8"))
        box = {k: v for k, v in rows if k in ("data folder", "synthetic", "input hash", "published values hash")}
        if box:
            out[page.stem] = box
    return out


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    base = tmp_path_factory.mktemp("one-book")
    other = _one_nonresponder(base / "pilot_b")
    out = base / "out"
    build(data_dir=SMALL, out=out, jobs=2)
    log: list[str] = []
    result = build(data_dir=other, out=out, jobs=2, chapters=["safety"], report=log.append)
    return other, out, result, log


def test_unselected_chapters_built_on_other_data_run_again(two_builds):
    other, out, result, log = two_builds
    readers = {c.name for c in CHAPTERS if c.uses_data}
    assert readers <= set(result.executed)
    assert "audit" in result.reused  # reads no patient data: nothing of it changed
    assert any("executed although not selected" in line and "disease_activity" in line for line in log)


def test_every_page_names_the_same_data(two_builds):
    other, out, result, log = two_builds
    expected = fingerprint(other)[:12]  # the hash the scorecard and a robustness result's run.json name too
    boxes = _boxes(out / "html")
    readers = [c.name for c in CHAPTERS if c.uses_data] + ["scorecard"]
    assert set(readers) <= set(boxes)
    for name in readers:
        assert boxes[name]["data folder"] == other.name, name
        assert boxes[name]["input hash"].split()[0] == expected, name
        assert "no patient data" not in boxes[name]["synthetic"], name
    assert boxes["audit"]["data folder"].startswith("none")  # it checks the published numbers only


def test_no_page_speaks_of_the_other_cohort(two_builds):
    other, out, result, log = two_builds
    for page in out.joinpath("html").rglob("*.html"):
        assert "Of 105 randomised" not in page.read_text("utf-8"), page.name


def test_same_data_reuses_and_a_changed_parameter_reruns(two_builds):
    other, out, result, log = two_builds
    again = build(data_dir=other, out=out, jobs=2, chapters=["safety"], force=True)
    assert set(again.reused) >= {"disease_activity", "immune", "inflammation", "ifng", "audit"}
    log: list[str] = []
    changed = build(data_dir=other, out=out, jobs=2, chapters=["safety"], params=["alpha=0.01"], report=log.append)
    declares_alpha = {"disease_activity", "immune", "inflammation", "ifng", "audit"}
    assert declares_alpha <= set(changed.executed)
