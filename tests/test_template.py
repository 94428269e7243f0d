"""The template writer: header-only files matching the dictionary, a README, no overwriting."""
from __future__ import annotations

import pytest

from analysis.intake.dictionary import TABLES, columns
from analysis.intake.template import write_template
from analysis.intake.validate import validate_folder

try:
    from fixtures_bad import mini_tables, write_csv
except ImportError:  # tests/ as a package
    from tests.fixtures_bad import mini_tables, write_csv


def test_writes_headers_and_readme(tmp_path):
    out = tmp_path / "new" / "cohort"
    written = write_template(out)
    assert [p.name for p in written] == [f"{t}.csv" for t in TABLES] + ["README.txt"]
    for t in TABLES:
        text = (out / f"{t}.csv").read_text(encoding="utf-8")
        assert text == ",".join(c.name for c in columns(t)) + "\n"
    readme = (out / "README.txt").read_text(encoding="utf-8")
    for t in TABLES:
        for c in columns(t):
            assert f"- {c.name} (" in readme


def test_filled_template_validates(tmp_path):
    """The headers the template writes are exactly what the validator wants."""
    write_template(tmp_path)
    problems = validate_folder(tmp_path)
    # header-only patients/visits are errors (no rows); header-only adverse events is fine; nothing else
    assert sorted((p.file, p.rule) for p in problems) == [
        ("patients.csv", "the file has a header but no data rows"),
        ("visits.csv", "the file has a header but no data rows")]
    t = mini_tables()
    for name in ("patients", "visits"):
        header = (tmp_path / f"{name}.csv").read_text().strip().split(",")
        (tmp_path / f"{name}.csv").unlink()
        write_csv(tmp_path / f"{name}.csv", header, t[name]["rows"])
    assert validate_folder(tmp_path) == []


def test_refuses_to_overwrite(tmp_path):
    (tmp_path / "visits.csv").write_text("mine\n")
    with pytest.raises(ValueError, match="visits.csv"):
        write_template(tmp_path)
    assert (tmp_path / "visits.csv").read_text() == "mine\n"
    assert not (tmp_path / "patients.csv").exists()  # nothing written


def test_refuses_a_file_as_folder(tmp_path):
    f = tmp_path / "x"
    f.write_text("")
    with pytest.raises(ValueError, match="`out_dir`"):
        write_template(f)
