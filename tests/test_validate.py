"""The validator against the bad-input battery (tests/fixtures_bad.py): one broken folder per case."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from analysis.intake.problem import MAX_ROWS_PER_RULE, Problem, format_problems
from analysis.intake.validate import validate_folder

try:
    from fixtures_bad import ANY, CASES, Expect, folder_hashes, mini_tables, write_csv, write_folder
except ImportError:  # tests/ as a package
    from tests.fixtures_bad import ANY, CASES, Expect, folder_hashes, mini_tables, write_csv, write_folder


def _matches(p: Problem, e: Expect) -> bool:
    return ((e.file is ANY or p.file == e.file)
            and (e.row is ANY or p.row == e.row)
            and (e.column is ANY or p.column == e.column)
            and e.rule.lower() in p.rule.lower()
            and p.severity == e.severity)


def test_battery_is_large_enough():
    assert len({c.id for c in CASES}) == len(CASES) >= 40


def test_valid_mini_cohort_has_no_problems(tmp_path):
    folder = write_folder(tmp_path / "data")
    assert validate_folder(folder) == []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, tmp_path):
    folder = case.build(tmp_path)
    before = folder_hashes(folder)
    problems = validate_folder(folder)
    assert folder_hashes(folder) == before, "validation must not modify the input files"
    listing = "\n".join(str(p) for p in problems)
    for e in case.expect:
        assert any(_matches(p, e) for p in problems), f"expected {e} in:\n{listing}"
    errors = [p for p in problems if p.severity == "error"]
    if case.no_errors:
        assert errors == [], listing
    else:
        assert errors, "a broken folder must give at least one error"


def test_identifier_values_never_echoed(tmp_path):
    t = mini_tables()
    t["patients"]["header"].append("name")
    for r in t["patients"]["rows"]:
        r["name"] = "Zhang Wei"
    problems = validate_folder(write_folder(tmp_path / "d", t))
    assert "Zhang Wei" not in format_problems(problems, limit=1000)


def test_all_problems_at_once(tmp_path):
    t = mini_tables()
    t["patients"]["rows"][0]["age"] = "abc"
    t["visits"]["rows"][3]["haq_di"] = "1.3"
    t["adverse_events"]["rows"][0]["serious"] = "maybe"
    t["visits"]["header"].append("extra")
    problems = validate_folder(write_folder(tmp_path / "d", t))
    assert {(p.file, p.column, p.severity) for p in problems} == {
        ("patients.csv", "age", "error"), ("visits.csv", "haq_di", "error"),
        ("adverse_events.csv", "serious", "error"), ("visits.csv", "extra", "warning")}


def test_one_problem_per_bad_cell(tmp_path):
    # "2.5" in an int column with a range: reported once (type), not also as out of range.
    t = mini_tables()
    t["visits"]["rows"][0]["tjc28"] = "2.5"
    problems = validate_folder(write_folder(tmp_path / "d", t))
    assert len(problems) == 1


def test_accepted_variants(tmp_path):
    """BOM, spaces around values, bool spellings, censor tokens where allowed, empty optional cells."""
    t = mini_tables()
    a = t["adverse_events"]["rows"]
    a[0].update(serious="No", related="YES")
    a[1].update(serious="0", related="")
    v = t["visits"]["rows"]
    v[0].update(il_6="<LLOQ", ifn_g="<LLOQ", anti_ccp_u_ml=">ULOQ", haq_di="2.875", crp_mg_l="")
    v[1].update(tjc28="", sjc28="", esr_mm_h="", patient_global_mm="")  # all DAS28 components missing: fine
    v[2].update(tjc28="12.0", week=" 48 ")
    t["patients"]["rows"][0].update(height_cm="", prior_biologic="")
    folder = write_folder(tmp_path / "d", t)
    p = folder / "visits.csv"
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    (folder / "notes.txt").write_text("ignored\n")
    assert validate_folder(folder) == []


def test_blank_lines_are_skipped_and_rows_keep_their_number(tmp_path):
    t = mini_tables()
    t["patients"]["rows"][2]["age"] = "abc"  # row 4
    folder = write_folder(tmp_path / "d", t)
    p = folder / "patients.csv"
    lines = p.read_text().split("\n")
    lines.insert(2, "")  # blank line becomes row 3; the bad row moves to row 5
    p.write_text("\n".join(lines) + "\n\n")
    (prob,) = validate_folder(folder)
    assert (prob.row, prob.column, prob.value) == (5, "age", "abc")


def test_long_value_truncated(tmp_path):
    t = mini_tables()
    t["patients"]["rows"][0]["sex"] = "x" * 200
    (prob,) = validate_folder(write_folder(tmp_path / "d", t))
    assert len(prob.value) <= 40


def test_cap_keeps_problem_list_small_and_counts_everything(tmp_path):
    t = mini_tables()
    base_p, base_v = t["patients"]["rows"][0], t["visits"]["rows"][0]
    for k in range(1000):
        t["patients"]["rows"].append({**base_p, "patient_id": f"X{k}"})
        t["visits"]["rows"].append({**base_v, "patient_id": f"X{k}", "haq_di": "9"})
    problems = validate_folder(write_folder(tmp_path / "d", t))
    assert len(problems) == MAX_ROWS_PER_RULE + 1
    assert sum(p.count for p in problems) == 1000
    text = format_problems(problems, limit=50)
    assert len(text.splitlines()) == 1 + 50 + 1
    assert "1,000 errors" in text.splitlines()[0]
    assert "... and 950 more problems" in text


def test_problem_str_and_report():
    p = Problem("visits.csv", 14, "haq_di", "1.3", "must be a multiple of 0.125 between 0 and 3")
    assert str(p) == "visits.csv, row 14, column 'haq_di', value '1.3': must be a multiple of 0.125 between 0 and 3"
    assert str(Problem("x", None, None, None, "r")) == "x: r"
    w = Problem("v.csv", None, "c", None, "unknown column", severity="warning")
    report = format_problems([w, p], folder="F")
    lines = report.splitlines()
    assert lines[0] == "Data folder 'F' breaks the data contract: 1 error, 1 warning."
    assert lines[1].endswith("between 0 and 3") and lines[2].endswith("(warning)")  # errors first
    assert "passes with 1 warning" in format_problems([w])
    with pytest.raises(ValueError, match="`limit`"):
        format_problems([p], limit=-1)


@pytest.mark.slow
def test_million_visit_rows_validate_fast(tmp_path):
    """1,000,000 visit rows (125,000 patients x 8 weeks), 100 bad HAQ values, validated in well under a minute."""
    n_pat, weeks = 125_000, [0, 1, 2, 3, 4, 12, 24, 48]
    rng = np.random.default_rng(1)
    t = mini_tables()
    folder = tmp_path / "big"
    folder.mkdir()
    prow = t["patients"]["rows"][0]
    rest = ",".join(prow[c] for c in t["patients"]["header"][2:])
    lines = [",".join(t["patients"]["header"])]
    lines += [f"P{i:06d},{'MSCT' if i % 2 else 'control'},{rest}" for i in range(n_pat)]
    (folder / "patients.csv").write_text("\n".join(lines) + "\n")
    header = t["visits"]["header"]
    vrow = t["visits"]["rows"][0]
    i_crp, i_haq = header.index("crp_mg_l"), header.index("haq_di")
    assert 2 < i_crp < i_haq
    mid1 = ",".join(vrow[c] for c in header[2:i_crp])
    mid2 = ",".join(vrow[c] for c in header[i_crp + 1:i_haq])
    tail = ",".join(vrow[c] for c in header[i_haq + 1:])
    n = n_pat * len(weeks)
    crp = np.round(rng.uniform(0, 100, n), 2).astype(str)
    haq = (rng.integers(0, 25, n) * 0.125).astype(str)
    haq[::10_000] = "1.3"  # 100 off-grid values
    lines = [",".join(header)]
    lines += [f"P{k // 8:06d},{weeks[k % 8]},{mid1},{crp[k]},{mid2},{haq[k]},{tail}" for k in range(n)]
    (folder / "visits.csv").write_text("\n".join(lines) + "\n")
    del lines
    write_csv(folder / "adverse_events.csv", t["adverse_events"]["header"], [])
    t0 = time.perf_counter()
    problems = validate_folder(folder)
    elapsed = time.perf_counter() - t0
    assert [(p.row, p.column) for p in problems] == [(2 + k * 10_000, "haq_di") for k in range(100)]
    assert elapsed < 60, f"validation took {elapsed:.1f} s"


# ----------------------------------------------------------------------------------------------
# dataset.yaml: design, columns, units, arms (applied before the checks)
# ----------------------------------------------------------------------------------------------
def _rename(t: dict, table: str, old: str, new: str) -> None:
    t[table]["header"] = [new if h == old else h for h in t[table]["header"]]
    for r in t[table]["rows"]:
        r[new] = r.pop(old)


def _with_yaml(tmp_path, text: str, t: dict | None = None):
    folder = write_folder(tmp_path / "d", t)
    (folder / "dataset.yaml").write_text(text)
    return folder


@pytest.mark.parametrize("text, key, rule", [
    ("design:\n  visit_weeks: [2, 4]\n", "design.visit_weeks", "must start with 0"),
    ("design:\n  response_week: 5\n", "design.response_week", "is not one of the visit_weeks"),
    ("design:\n  visit_weeks: [0, 12, 24]\n  final_week: 48\n", "design.final_week", "48 is not one of the visit_weeks"),
    ("design:\n  visit_week: [0, 12]\n", "design.visit_week", "unknown key"),
    ("design: [0, 12]\n", "design", "must be a mapping"),
    ("columns:\n  CRP: crp\n", "columns.CRP", "'crp' is not a column of the data dictionary; did you mean 'crp_mg_l'"),
    ("columns: CRP\n", "columns", "must be a mapping"),
    ("units:\n  crp_mg_l: mg/mL\n", "units.crp_mg_l", "known units: 'mg/L', 'mg/dL'"),
    ("units:\n  tjc28: dozens\n", "units.tjc28", "no unit conversions are known for tjc28"),
    ("units:\n  CRP: mg/dL\n", "units.CRP", "not a column of the data dictionary (write the dictionary's name"),
    ("columns:\n  CRP: crp_mg_l\nunits:\n  crp_mg_l: mg/dL\n  CRP: mg/dL\n", "units.CRP", "a second unit"),
    ("arms:\n  UC-MSC: MSC\n", "arms.UC-MSC", "one of 'MSCT', 'control'"),
])
def test_broken_dataset_yaml_is_one_problem_naming_key_and_rule(tmp_path, text, key, rule):
    problems = validate_folder(_with_yaml(tmp_path, text))
    assert len(problems) == 1, problems
    (p,) = problems
    assert p.file == "dataset.yaml" and p.severity == "error"
    assert f"{key}: " in p.rule and rule in p.rule
    assert p.rule.startswith("line ")  # where in the file


def test_cli_exit_code_2_for_a_broken_dataset_yaml(tmp_path, capsys):
    from analysis.cli import main

    folder = _with_yaml(tmp_path, "units:\n  crp_mg_l: mg/mL\n")
    assert main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "units.crp_mg_l" in err and "Traceback" not in err


def test_visit_weeks_come_from_the_design(tmp_path):
    t = mini_tables()  # visits at weeks 0, 12, 48
    design = "design:\n  visit_weeks: [0, 6, 12]\n  response_week: 6\n"
    problems = validate_folder(_with_yaml(tmp_path, design, t))
    bad = [p for p in problems if p.column == "week" and p.severity == "error"]
    assert [p.value for p in bad] == ["48"] * 4
    assert "allowed: 0, 6, 12" in bad[0].rule
    warn = [p.rule for p in problems if p.severity == "warning"]
    assert any("no visit at all at week 6, the design's response week" in w for w in warn)
    # week 48 is the paper's: no dataset.yaml, no problem; and the refusal of week 13 says how to declare one
    t["visits"]["rows"][1]["week"] = "13"
    (p,) = validate_folder(write_folder(tmp_path / "paper", t))
    assert "declare it in dataset.yaml under design: visit_weeks" in p.rule


def test_adverse_event_weeks_up_to_the_final_week(tmp_path):
    t = mini_tables()
    design = "design:\n  visit_weeks: [0, 12, 24, 48]\n  final_week: 24\n"
    for r in t["adverse_events"]["rows"]:
        r["week"] = "30"
    problems = [p for p in validate_folder(_with_yaml(tmp_path, design, t)) if p.file == "adverse_events.csv"]
    assert [(p.row, p.column) for p in problems] == [(2, "week"), (3, "week")]
    assert "between 0 and 24" in problems[0].rule and "final week" in problems[0].rule


def test_renamed_columns_in_any_table(tmp_path):
    t = mini_tables()
    for table in ("patients", "visits", "adverse_events"):
        _rename(t, table, "patient_id", "SUBJID")
    _rename(t, "visits", "crp_mg_l", "CRP")
    t["visits"]["rows"][0]["CRP"] = "900"
    folder = _with_yaml(tmp_path, "columns:\n  SUBJID: patient_id\n  CRP: crp_mg_l\n  NOPE: ifn_g\n", t)
    problems = validate_folder(folder)
    err = [p for p in problems if p.severity == "error"]
    assert [(p.column, p.value) for p in err] == [("CRP (crp_mg_l)", "900")]  # the user's name and ours
    warn = [p for p in problems if p.severity == "warning"]
    assert len(warn) == 1 and "columns.NOPE: no table has a column 'NOPE'" in warn[0].rule


def test_renaming_onto_an_existing_column_is_refused(tmp_path):
    t = mini_tables()
    t["visits"]["header"].append("CRP")
    for r in t["visits"]["rows"]:
        r["CRP"] = "1.0"
    problems = validate_folder(_with_yaml(tmp_path, "columns:\n  CRP: crp_mg_l\n", t))
    (p,) = problems
    assert p.column == "CRP" and "also has a column 'crp_mg_l'" in p.rule


def test_units_converted_before_the_range_check(tmp_path):
    t = mini_tables()
    for i, r in enumerate(t["visits"]["rows"]):
        r["crp_mg_l"] = f"{1 + i / 10:g}"  # mg/dL
    t["visits"]["rows"][1]["crp_mg_l"] = "60"  # 600 mg/L: out of range only after conversion
    problems = validate_folder(_with_yaml(tmp_path, "units:\n  crp_mg_l: mg/dL\n", t))
    (p,) = problems
    assert (p.row, p.column) == (3, "crp_mg_l") and "between 0 and 500" in p.rule
    assert p.value == "60 mg/dL = 600 mg/L"


def test_undeclared_unit_that_looks_wrong_is_a_warning(tmp_path):
    t = mini_tables()
    for i, r in enumerate(t["visits"]["rows"]):
        r["crp_mg_l"] = f"{0.5 + i / 10:g}"  # median 1.05: looks like mg/dL
    problems = validate_folder(write_folder(tmp_path / "d", t))
    (p,) = problems
    assert p.severity == "warning" and p.column == "crp_mg_l" and "crp_mg_l: mg/dL" in p.rule


def test_arm_labels_mapped(tmp_path):
    t = mini_tables()
    for r in t["patients"]["rows"]:
        r["arm"] = {"MSCT": "UC-MSC", "control": "placebo"}[r["arm"]]
    unmapped = validate_folder(write_folder(tmp_path / "raw", t))
    assert {p.column for p in unmapped if p.severity == "error"} == {"arm"}
    assert any("arms: in dataset.yaml" in p.rule for p in unmapped)
    folder = _with_yaml(tmp_path, "arms:\n  UC-MSC: MSCT\n  placebo: control\n", t)
    assert validate_folder(folder) == []


def test_misspelt_top_level_key_is_a_warning(tmp_path):
    problems = validate_folder(_with_yaml(tmp_path, "unit:\n  crp_mg_l: mg/dL\nresponse_week: 12\nsource: x\n"))
    rules = [p.rule for p in problems]
    assert all(p.severity == "warning" for p in problems) and len(rules) == 2
    assert "did you mean 'units:'" in rules[0] and "write it under design:" in rules[1]


def test_measures_are_optional_only_the_das28_is_required(tmp_path):
    from analysis.intake.dictionary import columns

    t = mini_tables()
    keep = {"patient_id", "week", "tjc28", "sjc28", "crp_mg_l", "patient_global_mm", "il_6"}
    t["visits"]["header"] = [h for h in t["visits"]["header"] if h in keep]
    for r in t["visits"]["rows"]:
        r["il_6"] = ""  # present but entirely empty
    assert validate_folder(write_folder(tmp_path / "crp_only", t)) == []  # the DAS28 takes CRP
    t["visits"]["header"].remove("crp_mg_l")
    problems = validate_folder(write_folder(tmp_path / "no_lab", t))
    (p,) = problems
    assert "'esr_mm_h' or 'crp_mg_l'" in p.rule and "DAS28" in p.rule
    optional = [c.name for c in columns("visits") if not c.required]
    assert "ifn_g" in optional and "tjc28" not in optional


def test_das28_check_uses_crp_when_the_folder_has_no_esr(tmp_path):
    t = mini_tables()
    t["visits"]["header"].remove("esr_mm_h")
    t["visits"]["rows"][0]["crp_mg_l"] = ""  # tjc28, sjc28, patient_global but no CRP: incomplete DAS28-CRP
    (p,) = validate_folder(write_folder(tmp_path / "d", t))
    assert p.row == 2 and "missing crp_mg_l" in p.rule


# --------------------------------------------------------------------------- what validate prints (issue 34)
def _small_trial_copy(tmp_path, name="trial"):
    import shutil
    from pathlib import Path

    folder = tmp_path / name
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "examples" / "small_trial", folder)
    return folder


def _edit(path, **cells):
    """Set cells of a CSV: ``row=(spreadsheet row, column, value)`` pairs given as keyword values."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for row, column, value in cells.values():
        df.loc[row - 2, column] = value
    df.to_csv(path, index=False)


def test_validate_prints_a_summary_of_a_valid_folder(tmp_path, capsys):
    from analysis.cli import main

    folder = _small_trial_copy(tmp_path)
    _edit(folder / "visits.csv", a=(29, "TJC", ""), b=(29, "SJC", ""), c=(29, "CRP", ""), d=(29, "PGA", ""))
    assert main(["validate", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == f"{folder}: valid. 12 patients (MSCT 6, control 6), 47 visit rows, 3 adverse events."
    assert ("design (dataset.yaml): visits at weeks 0, 4, 12, 24; response judged at week 12; "
            "final visit week 24") in lines
    assert "translated on reading:" in lines and "sections of the book (+ measure present, - absent):" in lines
    assert "  - visits.csv, row 29: patient S07, week 24 has no measurement; counted as a missed visit (note)" in lines
    assert "not available: HAQ [-haq_di]" in out


def test_a_validate_failure_is_printed_once_on_stderr_starting_with_error(tmp_path, capsys):
    from analysis.cli import main

    t = mini_tables()
    t["patients"]["header"].remove("arm")
    folder = write_folder(tmp_path / "d", t)
    assert main(["validate", str(folder)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: Data folder '{folder}' breaks the data contract: 1 error")
    assert err.count("missing required column 'arm'") == 1 and err.count("error:") == 1


def test_strict_makes_warnings_errors_in_validate_and_build(tmp_path, capsys):
    from analysis.cli import main
    from analysis.core.errors import DataError
    from analysis.engine.build import build

    folder = _small_trial_copy(tmp_path)
    p = pd.read_csv(folder / "patients.csv", dtype=str)
    p.assign(comment="x").to_csv(folder / "patients.csv", index=False)  # an unknown column: a warning
    _edit(folder / "visits.csv", a=(29, "TJC", ""), b=(29, "SJC", ""), c=(29, "CRP", ""), d=(29, "PGA", ""))
    warning = "patients.csv, column 'comment': unknown column, ignored"
    assert main(["validate", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert warning in out and err == ""
    assert main(["validate", "--strict", str(folder)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"error: Data folder '{folder}' breaks the data contract under --strict "
                                        "(warnings are errors): 0 errors, 1 warning, 1 note.")
    assert warning in err

    try:
        from tinybook import tiny_book
    except ImportError:  # tests/ as a package
        from tests.tinybook import tiny_book
    book = tiny_book(tmp_path / "book")  # one chapter that reads the data (nothing of it runs here)
    lines: list[str] = []
    with pytest.raises(DataError) as caught:
        build(data_dir=folder, out=tmp_path / "out", book_dir=book, warm_kernels=False, strict=True,
              report=lines.append)
    assert "under --strict" in str(caught.value) and warning in str(caught.value)
    assert not (tmp_path / "out" / "html").exists()

    class Seen(Exception):
        pass

    def report(line: str) -> None:  # stop the build once it has repeated the validation's findings
        lines.append(line)
        if line.startswith("(python -m analysis validate"):
            raise Seen

    lines.clear()
    with pytest.raises(Seen):
        build(data_dir=folder, out=tmp_path / "out2", book_dir=book, warm_kernels=False, report=report)
    assert any(warning in line for line in lines)
    assert any("patient S07, week 24 has no measurement; counted as a missed visit" in line for line in lines)


def test_an_arm_label_close_to_a_mapped_one_gets_did_you_mean(tmp_path):
    """small_trial maps UC-MSC and placebo under arms:; a patient's 'UC-MCS' is a typo of UC-MSC, not a new label."""
    folder = _small_trial_copy(tmp_path)
    _edit(folder / "patients.csv", a=(4, "arm", "UC-MCS"))
    (p,) = validate_folder(folder)
    assert (p.file, p.row, p.column, p.value, p.severity) == ("patients.csv", 4, "arm", "UC-MCS", "error")
    assert p.rule == ("must be one of 'MSCT', 'control' or a label dataset.yaml maps under arms: "
                      "('UC-MSC', 'placebo'); labels found that are not mapped: 'UC-MCS'; did you mean 'UC-MSC' "
                      "(mapped to 'MSCT')?")
    assert "map them to these under arms" not in p.rule


def test_labels_far_from_any_still_get_the_mapping_hint(tmp_path):
    folder = _small_trial_copy(tmp_path)
    _edit(folder / "patients.csv", a=(4, "arm", "zzz"))
    (p,) = validate_folder(folder)
    assert "did you mean" not in p.rule and "map them to these under arms: in dataset.yaml" in p.rule


@pytest.mark.parametrize("column, value, suggestion", [
    ("sex", "femal", "did you mean 'female' (mapped to 'F')?"),  # a label values: maps
    ("sex", "F ", None),                                        # stripped: valid
    ("sex", "m", "did you mean 'M'? (values are case-sensitive)"),
])
def test_category_labels_close_to_a_mapped_or_allowed_one(tmp_path, column, value, suggestion):
    t = mini_tables()
    for r in t["patients"]["rows"]:
        r["sex"] = {"F": "female", "M": "male"}[r["sex"]]
    t["patients"]["rows"][1]["sex"] = value
    folder = write_folder(tmp_path / "d", t)
    (folder / "dataset.yaml").write_text("values: {sex: {male: M, female: F}}\n")
    problems = validate_folder(folder)
    if suggestion is None:
        assert problems == []
    else:
        (p,) = problems
        assert (p.row, p.column) == (3, "sex") and p.rule.endswith(suggestion)


def test_a_true_false_typo_gets_did_you_mean(tmp_path):
    t = mini_tables()
    t["adverse_events"]["rows"][0]["serious"] = "ture"
    (p,) = validate_folder(write_folder(tmp_path / "d", t))
    assert (p.file, p.row, p.column, p.value) == ("adverse_events.csv", 2, "serious", "ture")
    assert p.rule == ("must be true or false (also accepted: 1/0, yes/no, any case); labels found that are not "
                      "mapped: 'ture'; did you mean 'true'?")


def test_notes_are_counted_apart_from_warnings():
    ps = [Problem("visits.csv", 9, None, None, "patient P1, week 24 has no measurement; counted as a missed visit",
                  severity="note")]
    assert format_problems(ps, folder="d").splitlines() == [
        "Data folder 'd' passes with 1 note.",
        "  - visits.csv, row 9: patient P1, week 24 has no measurement; counted as a missed visit (note)"]
    assert format_problems(ps, folder="d", strict=True).startswith("Data folder 'd' passes with 1 note.")
