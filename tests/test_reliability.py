"""Reliability through the command line: every bad input gives one clear message, exit code 2, no traceback,
no chapter executed, the previous site untouched and the input files byte-for-byte unchanged.

The broken folders are the validator's battery (tests/fixtures_bad.py); here each is fed to
``python -m analysis build`` (in-process, through ``analysis.cli.main``) over an output folder that already holds a
site.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from analysis.cli import main
from fixtures_bad import CASES, folder_hashes

ROOT = Path(__file__).resolve().parents[1]
BAD = [c for c in CASES if not c.no_errors]


def _previous_site(out: Path) -> str:
    (out / "html").mkdir(parents=True)
    (out / "html" / "index.html").write_text("<html>the previous site</html>")
    return hashlib.sha256((out / "html" / "index.html").read_bytes()).hexdigest()


def test_the_battery_is_large_enough():
    assert len(BAD) >= 40


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.id)
def test_bad_input_is_refused_cleanly_by_build(case, tmp_path, capsys):
    data = case.build(tmp_path)
    before = folder_hashes(data) if data.is_dir() else None
    out = tmp_path / "out"
    site = _previous_site(out)

    code = main(["build", "--data", str(data), "--out", str(out)])
    captured = capsys.readouterr()

    assert code == 2, captured
    assert captured.err.startswith("error: "), captured.err
    assert "Traceback" not in captured.err + captured.out
    assert "started" not in captured.out, "a chapter was executed on bad data"
    assert hashlib.sha256((out / "html" / "index.html").read_bytes()).hexdigest() == site
    assert not list(out.glob(".staging-*"))
    if before is not None:
        assert folder_hashes(data) == before, "an input file was modified"


@pytest.mark.parametrize("case", BAD[:8], ids=lambda c: c.id)
def test_validate_command_exits_2_with_one_line_per_problem(case, tmp_path, capsys):
    data = case.build(tmp_path)
    code = main(["validate", str(data)])
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.err
    assert captured.err.strip(), "no message"


def test_valid_data_validates(synthetic_dir, capsys):
    assert main(["validate", str(synthetic_dir)]) == 0
    assert "valid" in capsys.readouterr().out


def test_path_with_spaces_and_non_ascii_characters(synthetic_dir, tmp_path, capsys):
    data = tmp_path / "mes données (copie)"
    shutil.copytree(synthetic_dir, data)
    assert main(["validate", str(data)]) == 0


def test_template_then_validate_names_the_empty_tables(tmp_path, capsys):
    folder = tmp_path / "new cohort"
    assert main(["template", str(folder)]) == 0
    for name in ("patients.csv", "visits.csv", "adverse_events.csv"):
        assert (folder / name).exists()
    assert main(["template", str(folder)]) == 2, "template must not overwrite"
    capsys.readouterr()
    assert main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "patients" in err


def test_simulate_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "x.txt").write_text("keep me")
    code = main(["simulate", "--patients", "20", "--out", str(tmp_path)])
    assert code == 2
    assert (tmp_path / "x.txt").read_text() == "keep me"
    assert "Traceback" not in capsys.readouterr().err


# --------------------------------------------------------------------------- reproducibility and privacy
def _result_csvs(out: Path) -> dict[str, str]:
    """sha256 of every CSV under out/results, by path relative to results/."""
    root = out / "results"
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.csv"))}


@pytest.mark.slow
def test_same_data_parameters_and_seed_give_byte_identical_results(built_book, tmp_path):
    """Two builds of the same data with the same parameters (seeds included) write the same CSV bytes."""
    from analysis.engine.build import build

    second = tmp_path / "second"
    build(out=second, force=True)
    first_hashes, second_hashes = _result_csvs(built_book), _result_csvs(second)
    assert len(first_hashes) > 20, "too few result tables to be a meaningful comparison"
    assert sorted(first_hashes) == sorted(second_hashes), set(first_hashes) ^ set(second_hashes)
    differ = [name for name in first_hashes if first_hashes[name] != second_hashes[name]]
    assert not differ, f"result tables differ between two identical builds: {differ}"


@pytest.mark.slow
def test_results_hold_no_identifier_but_the_pseudonymous_patient_id(built_book, synthetic_dir):
    import re

    import pandas as pd

    from analysis.intake.dictionary import load_dictionary

    patterns = load_dictionary()["identifier_patterns"]
    ids = set(pd.read_csv(synthetic_dir / "patients.csv", dtype=str)["patient_id"])
    problems = []
    for path in sorted((built_book / "results").rglob("*.csv")):
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        where = path.relative_to(built_book / "results")
        for col in df.columns:
            if any(re.fullmatch(p, str(col), flags=re.IGNORECASE) for p in patterns):
                problems.append(f"{where}: column '{col}' is named like a direct identifier")
            if col != "patient_id" and re.search(r"patient|subject|person", str(col), re.IGNORECASE) \
                    and re.search(r"(^|_)(id|no|number|code)$", str(col), re.IGNORECASE):
                problems.append(f"{where}: column '{col}' is an identifier other than patient_id")
            if col != "patient_id" and df[col].isin(ids).any():
                problems.append(f"{where}: column '{col}' holds patient ids but is not named patient_id")
    assert not problems, "\n".join(problems)
