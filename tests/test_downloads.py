"""The build's downloads: each chapter's results as a zip and the collected claims.csv (analysis.engine.publish.write_downloads)."""
from __future__ import annotations

import zipfile

from analysis.core.chapters import CHAPTERS
from analysis.engine.publish import write_downloads


def _results(root):
    res = root / "results"
    (res / "safety" / "figures").mkdir(parents=True)
    (res / "safety" / "table1.csv").write_text("measure,p\nALB,0.01\n")
    (res / "safety" / "figures" / "flow.png").write_bytes(b"\x89PNG fake")
    (res / "safety" / "scratch.txt").write_text("not a result")
    (res / "claims.csv").write_text("chapter,claim_id,verdict\nsafety,a,reproduced\n")
    return res


def test_zip_holds_the_chapters_csvs_and_figures_only(tmp_path):
    res = _results(tmp_path)
    written = write_downloads(res, tmp_path / "extra", [c for c in CHAPTERS if c.name in {"safety", "immune"}])
    names = sorted(p.name for p in written)
    assert names == ["claims.csv", "safety-results.zip"]  # no results for immune: no zip
    with zipfile.ZipFile(tmp_path / "extra" / "downloads" / "safety-results.zip") as zf:
        assert sorted(zf.namelist()) == ["safety/figures/flow.png", "safety/table1.csv"]
        assert zf.read("safety/table1.csv") == (res / "safety" / "table1.csv").read_bytes()
    assert (tmp_path / "extra" / "downloads" / "claims.csv").read_bytes() == (res / "claims.csv").read_bytes()


def test_zips_are_byte_identical_for_the_same_results(tmp_path):
    res = _results(tmp_path)
    safety = [c for c in CHAPTERS if c.name == "safety"]
    a = write_downloads(res, tmp_path / "a", safety)[0].read_bytes()
    (res / "safety" / "table1.csv").touch()  # a newer time stamp, same content
    b = write_downloads(res, tmp_path / "b", safety)[0].read_bytes()
    assert a == b
