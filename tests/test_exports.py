"""Issue 20: malformed exports get their real cause, personal identifiers are refused, memory stays bounded.

The cases live in the bad-input battery (tests/fixtures_bad.py, run by test_validate.py and test_reliability.py);
here: that each diagnosis leads and suppresses its knock-on errors, unreadable files, the CSV dialect of
dataset.yaml, unknown columns never reaching any output, the chunked reader, and property-based damage.
"""
from __future__ import annotations

import builtins
import shutil
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.intake.validate import validate_folder

try:
    from fixtures_bad import CASES, folder_hashes, mini_tables, write_csv, write_folder
except ImportError:  # tests/ as a package
    from tests.fixtures_bad import CASES, folder_hashes, mini_tables, write_csv, write_folder

ROOT = Path(__file__).resolve().parents[1]
SHAPED = [c for c in CASES if c.lead or c.absent or c.max_errors is not None]


def test_issue_20_cases_are_in_the_battery():
    assert len(SHAPED) >= 15


@pytest.mark.parametrize("case", SHAPED, ids=lambda c: c.id)
def test_the_diagnosis_leads_and_knock_on_errors_are_suppressed(case, tmp_path):
    folder = case.build(tmp_path)
    errors = [p for p in validate_folder(folder) if p.severity == "error"]
    listing = "\n".join(str(p) for p in errors)
    if case.lead:
        e = case.expect[0]
        assert e.rule.lower() in errors[0].rule.lower(), listing
        assert errors[0].file == e.file, listing
    if case.max_errors is not None:
        assert len(errors) <= case.max_errors, listing
    for word in case.absent:
        assert not any(word.lower() in p.rule.lower() for p in errors), listing


# --------------------------------------------------------------------------- unreadable files
@pytest.fixture
def deny(monkeypatch):
    """Make opening files whose name ends with one of the given suffixes raise PermissionError (tests run as root)."""
    import io as _io

    real_open, real_io_open = builtins.open, _io.open

    def install(*names):
        def fake(file, *args, **kwargs):
            if isinstance(file, (str, Path)) and str(file).endswith(names):
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", fake)
        monkeypatch.setattr(_io, "open", fake)

    return install


def test_unreadable_table_is_bad_input(tmp_path, deny, capsys):
    folder = write_folder(tmp_path / "data")
    deny("visits.csv")
    (problem,) = [p for p in validate_folder(folder) if p.severity == "error"]
    assert problem.file == "visits.csv" and "cannot be read (permission denied)" in problem.rule
    assert main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "permission denied" in err and "Traceback" not in err and "please report" not in err


def test_unreadable_dataset_yaml_is_bad_input(tmp_path, deny, capsys):
    folder = write_folder(tmp_path / "data")
    (folder / "dataset.yaml").write_text("synthetic: false\n")
    deny("dataset.yaml")
    assert main(["build", "--data", str(folder), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "dataset.yaml" in err and "permission denied" in err


def test_unreadable_folder_is_bad_input(tmp_path, monkeypatch):
    folder = write_folder(tmp_path / "data")
    real = Path.iterdir

    def fake(self):
        if self == folder:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", fake)
    (problem,) = validate_folder(folder)
    assert "cannot be read (permission denied)" in problem.rule


# --------------------------------------------------------------------------- European CSV
def test_european_csv_declared_reads_the_same_values(tmp_path, synthetic_dir):
    import pandas as pd

    from analysis.intake.io import load

    folder = tmp_path / "eu"
    shutil.copytree(synthetic_dir, folder)
    for name in ("patients", "visits", "adverse_events"):
        df = pd.read_csv(synthetic_dir / f"{name}.csv", dtype=str, keep_default_na=False)
        df.to_csv(folder / f"{name}.csv", sep=";", index=False)
        (folder / f"{name}.csv").write_text((folder / f"{name}.csv").read_text().replace(".", ","))
    assert "European Excel export" in str(validate_folder(folder)[0])
    with open(folder / "dataset.yaml", "a") as fh:
        fh.write('csv:\n  separator: ";"\n  decimal: ","\n')
    a, b = load(synthetic_dir), load(folder)
    for t in ("patients", "visits", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(a, t), getattr(b, t))


# --------------------------------------------------------------------------- unknown columns never reach outputs
MARKER = "ZQX-never-published-7731"


def _with_unknown_column(src: Path, dst: Path) -> Path:
    import pandas as pd

    shutil.copytree(src, dst)
    for name in ("patients", "visits"):
        df = pd.read_csv(dst / f"{name}.csv", dtype=str, keep_default_na=False)
        df["comment"] = [f"{MARKER}-{i}" for i in range(len(df))]
        df.to_csv(dst / f"{name}.csv", index=False)
    return dst


def test_loaded_cohort_drops_unknown_columns(tmp_path, synthetic_dir):
    from analysis.intake.io import load

    folder = _with_unknown_column(synthetic_dir, tmp_path / "data")
    problems = validate_folder(folder)
    assert problems and all(p.severity == "warning" and "unknown column" in p.rule for p in problems)
    cohort = load(folder)
    for df in (cohort.patients, cohort.visits, cohort.adverse_events):
        assert "comment" not in df.columns
        assert not df.astype(str).apply(lambda s: s.str.contains(MARKER)).any().any()


@pytest.mark.slow
def test_unknown_columns_never_reach_results(tmp_path, synthetic_dir):
    from analysis.engine.build import build

    folder = _with_unknown_column(synthetic_dir, tmp_path / "data")
    out = tmp_path / "out"
    build(data_dir=folder, out=out, force=True)
    leaked = [p for p in out.rglob("*") if p.is_file() and MARKER.encode() in p.read_bytes()]
    assert not leaked, leaked


# --------------------------------------------------------------------------- chunked reading
def test_chunked_reading_gives_the_same_report(tmp_path, monkeypatch):
    """Several chunks (forced small) give exactly the problems of one chunk, row numbers included."""
    import analysis.intake.sniff as sniff

    t = mini_tables()
    base_p, base_v = t["patients"]["rows"][0], t["visits"]["rows"][0]
    for k in range(300):
        t["patients"]["rows"].append({**base_p, "patient_id": f"X{k}"})
        t["visits"]["rows"].append({**base_v, "patient_id": f"X{k}", "haq_di": "9" if k % 7 == 0 else "1"})
    t["visits"]["rows"][250]["crp_mg_l"] = "abc"
    folder = write_folder(tmp_path / "d", t)
    whole = validate_folder(folder)
    monkeypatch.setattr(sniff, "CHUNK_ROWS", 17)
    monkeypatch.setattr(sniff, "FIRST_CHUNK_ROWS", 5)
    assert validate_folder(folder) == whole
    assert any(p.row == 252 and p.column == "crp_mg_l" for p in whole)


def test_junk_is_refused_after_the_first_chunk(tmp_path, monkeypatch):
    import analysis.intake.sniff as sniff

    t = mini_tables()
    folder = write_folder(tmp_path / "d", t)
    header = t["visits"]["header"]
    lines = [",".join(header)] + [",".join(f"j{r}x{c}" for c in range(len(header))) for r in range(30_000)]
    (folder / "visits.csv").write_text("\n".join(lines) + "\n")
    seen = []
    real = sniff._Accumulator.add
    monkeypatch.setattr(sniff._Accumulator, "add", lambda self, chunk: (seen.append(len(chunk)), real(self, chunk)))
    problems = validate_folder(folder)
    assert max(seen) < 10, "junk must be refused before any chunk of visits.csv is kept (only the small tables are)"
    assert "does not hold valid 'visits' data" in problems[0].rule
    assert "reading stopped after row 5,000" in problems[0].rule
    assert sum(1 for p in problems if p.column == "week") <= 101  # bounded per rule, with a count of the rest
    assert any("more rows" in p.rule for p in problems if p.column == "week")


# --------------------------------------------------------------------------- a couple of CLI checks
@pytest.mark.parametrize("case_id", ["european_csv", "ids_without_leading_zeros", "xlsx_named_csv"])
def test_cli_validate_and_build_name_the_cause(case_id, tmp_path, capsys):
    case = next(c for c in CASES if c.id == case_id)
    folder = case.build(tmp_path)
    before = folder_hashes(folder)
    assert main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    first = err.splitlines()[1]
    assert case.expect[0].rule.lower() in first.lower(), err
    assert main(["build", "--data", str(folder), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert case.expect[0].rule.lower() in err.lower() and "Traceback" not in err
    assert folder_hashes(folder) == before


def test_large_junk_workbook_is_refused_from_its_first_rows(tmp_path, monkeypatch):
    import openpyxl

    import analysis.intake.sniff as sniff

    folder = write_folder(tmp_path / "d")
    (folder / "visits.csv").unlink()
    header = mini_tables()["visits"]["header"]
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("visits")
    ws.append(header)
    for r in range(1_200):
        ws.append([f"j{r}x{c}" for c in range(len(header))])
    wb.save(folder / "visits.xlsx")
    monkeypatch.setattr(sniff, "XLSX_SAMPLE_BYTES", 0)
    monkeypatch.setattr(sniff, "FIRST_CHUNK_ROWS", 1_100)
    problems = validate_folder(folder)
    assert problems[0].file == "visits.xlsx"
    assert "does not hold valid 'visits' data" in problems[0].rule and "was not read" in problems[0].rule
