"""Reading a data folder into a typed Cohort: csv/xlsx, encodings, sheets, censoring flags, metadata."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.intake.dictionary import columns
from analysis.core.errors import DataError
from analysis.intake.io import Cohort, find_table, load, read_table

try:
    from fixtures_bad import folder_hashes, mini_tables, write_folder, write_xlsx
except ImportError:  # tests/ as a package
    from tests.fixtures_bad import folder_hashes, mini_tables, write_folder, write_xlsx


def test_load_types_and_shapes(tmp_path):
    folder = write_folder(tmp_path / "d")
    before = folder_hashes(folder)
    c = load(folder)
    assert folder_hashes(folder) == before
    assert isinstance(c, Cohort)
    assert (len(c.patients), len(c.visits), len(c.adverse_events)) == (4, 12, 2)
    assert c.patients["patient_id"].tolist() == ["P01", "P02", "P03", "P04"]
    assert c.patients["arm"].tolist() == ["MSCT", "MSCT", "control", "control"]
    assert str(c.patients["age"].dtype) == "Int64"
    assert c.patients["weight_kg"].dtype == np.float64
    assert str(c.patients["prior_biologic"].dtype) == "boolean"
    assert str(c.visits["week"].dtype) == "Int64"
    assert c.visits["week"].tolist() == [0, 12, 48] * 4
    assert c.adverse_events["serious"].tolist() == [False, False]  # "false", "no"
    assert c.adverse_events["related"].isna().tolist() == [False, True]  # empty where missing_ok
    assert c.source == folder.resolve()
    assert c.files == {t: (folder / f"{t}.csv").resolve() for t in ("patients", "visits", "adverse_events")}
    assert c.meta == {} and c.synthetic is False


def test_columns_in_contract_order_with_flags(tmp_path):
    c = load(write_folder(tmp_path / "d"))
    expected = []
    for col in columns("visits"):
        expected.append(col.name)
        if col.lloq is not None or col.uloq is not None:
            expected.append(f"{col.name}_flag")
    assert list(c.visits.columns) == expected
    assert "il_6_flag" in expected and "anti_ccp_u_ml_flag" in expected and "crp_mg_l_flag" not in expected


def test_censored_values_become_nan_and_flag(tmp_path):
    t = mini_tables()
    t["visits"]["rows"][0].update(il_6="<LLOQ", anti_ccp_u_ml=">ULOQ", ifn_g="2.5")
    c = load(write_folder(tmp_path / "d", t))
    v = c.visits
    assert np.isnan(v.loc[0, "il_6"]) and v.loc[0, "il_6_flag"] == "<LLOQ"
    assert np.isnan(v.loc[0, "anti_ccp_u_ml"]) and v.loc[0, "anti_ccp_u_ml_flag"] == ">ULOQ"
    assert v.loc[0, "ifn_g"] == 2.5 and pd.isna(v.loc[0, "ifn_g_flag"])
    assert v["il_6_flag"].notna().sum() == 1


def test_optional_columns_added_empty_and_unknown_dropped(tmp_path):
    t = mini_tables()
    t["patients"]["header"] = [h for h in t["patients"]["header"] if h not in ("height_cm", "prior_biologic")]
    t["patients"]["header"].append("site")
    for r in t["patients"]["rows"]:
        r["site"] = "A"
    c = load(write_folder(tmp_path / "d", t))  # a warning only
    assert "site" not in c.patients.columns
    assert c.patients["height_cm"].isna().all() and c.patients["prior_biologic"].isna().all()


def test_metadata(tmp_path):
    folder = write_folder(tmp_path / "d")
    (folder / "dataset.yaml").write_text("synthetic: true\nseed: 2018\ngenerator: analysis.simulate\n")
    c = load(folder)
    assert c.meta == {"synthetic": True, "seed": 2018, "generator": "analysis.simulate"}
    assert c.synthetic is True
    (folder / "dataset.yaml").write_text("synthetic: 'true'\n")  # a string is not True
    assert load(folder).synthetic is False


def test_load_refuses_bad_data_with_every_problem(tmp_path):
    t = mini_tables()
    t["patients"]["rows"][0]["age"] = "abc"
    t["visits"]["rows"][1]["haq_di"] = "1.3"
    folder = write_folder(tmp_path / "d", t)
    with pytest.raises(DataError) as info:
        load(folder)
    err = info.value
    assert len(err.problems) == 2
    assert str(folder) in str(err) and "row 2, column 'age'" in str(err) and "row 3, column 'haq_di'" in str(err)


def test_load_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load(tmp_path / "nope")


def test_xlsx_tables_load_like_csv(tmp_path):
    """One sheet with another name (used), and a workbook with a sheet named like the table among others."""
    t = mini_tables()
    csv_cohort = load(write_folder(tmp_path / "csv", t))
    folder = tmp_path / "xlsx"
    folder.mkdir()
    write_xlsx(folder / "patients.xlsx", {"Sheet1": (t["patients"]["header"], t["patients"]["rows"])})
    write_xlsx(folder / "visits.xlsx", {"Notes": (["note"], [{"note": "read me"}]),
                                        "Visits": (t["visits"]["header"], t["visits"]["rows"])})
    ae = [dict(r, serious=False) for r in t["adverse_events"]["rows"]]  # Excel booleans, one empty cell
    write_xlsx(folder / "adverse_events.xlsx", {"adverse_events": (t["adverse_events"]["header"], ae)})
    before = folder_hashes(folder)
    c = load(folder)
    assert folder_hashes(folder) == before
    pd.testing.assert_frame_equal(c.patients, csv_cohort.patients)
    pd.testing.assert_frame_equal(c.visits, csv_cohort.visits)
    pd.testing.assert_frame_equal(c.adverse_events, csv_cohort.adverse_events)
    assert c.files["visits"].name == "visits.xlsx"


def test_xlsx_several_sheets_none_matching(tmp_path):
    t = mini_tables()["patients"]
    p = write_xlsx(tmp_path / "patients.xlsx", {"A": (t["header"], t["rows"]), "B": (["x"], [])})
    with pytest.raises(DataError, match="'A', 'B'"):
        read_table(p, "patients")


def test_read_table_raw_strings_and_bom(tmp_path):
    p = tmp_path / "patients.csv"
    p.write_bytes("\ufeffpatient_id,age,height_cm\nP01, 50 ,\n,,\nP02,NA,1e2\n".encode("utf-8"))
    df = read_table(p, "patients")
    assert list(df.columns) == ["patient_id", "age", "height_cm"]
    assert df.index.tolist() == [2, 4]  # spreadsheet rows; the blank row 3 is skipped
    assert df.loc[2].tolist() == ["P01", "50", ""]
    assert df.loc[4].tolist() == ["P02", "NA", "1e2"]  # no NA conversion


def test_read_table_latin1_refused(tmp_path):
    p = tmp_path / "visits.csv"
    p.write_bytes("patient_id,event\nP01,fièvre\n".encode("latin-1"))
    with pytest.raises(DataError, match="not valid UTF-8.*re-save the file as UTF-8") as info:
        read_table(p, "visits")
    assert info.value.problems[0].row == 2


def test_read_table_utf8_non_ascii_ok(tmp_path):
    p = tmp_path / "adverse_events.csv"
    p.write_text("patient_id,event\nP01,fièvre µ\n", encoding="utf-8")
    assert read_table(p, "adverse_events").loc[2, "event"] == "fièvre µ"


def test_find_table(tmp_path):
    write_folder(tmp_path)
    assert find_table(tmp_path, "visits") == tmp_path / "visits.csv"
    (tmp_path / "visits.xlsx").write_bytes(b"")
    with pytest.raises(DataError, match="ambiguous"):
        find_table(tmp_path, "visits")
    (tmp_path / "patients.csv").unlink()
    with pytest.raises(DataError, match="missing file"):
        find_table(tmp_path, "patients")
    with pytest.raises(ValueError, match="`table`"):
        find_table(tmp_path, "labs")
    with pytest.raises(DataError, match="does not exist"):
        find_table(tmp_path / "nope", "visits")


# --------------------------------------------------------------------------- validated once per build
def test_a_kept_cohort_is_the_cohort_load_returns(tmp_path):
    from analysis.intake.io import keep_validated, load_validated

    folder = write_folder(tmp_path / "d")
    fresh = load(folder)
    keep_validated(fresh, tmp_path / "d")  # any folder will do; the build uses its staging folder
    kept = load_validated(folder, tmp_path / "d")
    assert kept is not None
    for table in ("patients", "visits", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(kept, table), getattr(fresh, table))
    assert (kept.source, kept.files, kept.meta) == (fresh.source, fresh.files, fresh.meta)


def test_a_kept_cohort_is_ignored_for_other_or_changed_data(tmp_path):
    import shutil

    from analysis.intake.io import VALIDATED_NAME, keep_validated, load_validated

    folder = write_folder(tmp_path / "d")
    keep_validated(load(folder), tmp_path)
    twin = tmp_path / "twin"
    shutil.copytree(folder, twin)
    assert load_validated(twin, tmp_path) is None  # same bytes, another folder
    assert load_validated(folder, tmp_path / "nowhere") is None  # nothing kept there
    (folder / "dataset.yaml").write_text("synthetic: false\n")  # a file added after validation
    assert load_validated(folder, tmp_path) is None
    (tmp_path / VALIDATED_NAME).write_bytes(b"not a pickle")
    assert load_validated(folder, tmp_path) is None  # unreadable: the caller validates again


# --------------------------------------------------------------------------- dataset.yaml applied on reading
def test_mapped_columns_units_and_arms_load_as_the_dictionary_says(tmp_path):
    """A folder with its own names, CRP in mg/dL and its own arm labels loads like the plain one."""
    t = mini_tables()
    plain = load(write_folder(tmp_path / "plain", t))
    own = mini_tables()
    for table in ("patients", "visits", "adverse_events"):
        own[table]["header"] = ["SUBJID" if h == "patient_id" else h for h in own[table]["header"]]
        for r in own[table]["rows"]:
            r["SUBJID"] = r.pop("patient_id")
    own["visits"]["header"] = ["CRP" if h == "crp_mg_l" else h for h in own["visits"]["header"]]
    for r in own["visits"]["rows"]:
        r["CRP"] = f"{float(r.pop('crp_mg_l')) / 10:.12g}"  # the same values in mg/dL
    for r in own["patients"]["rows"]:
        r["arm"] = {"MSCT": "UC-MSC", "control": "placebo"}[r["arm"]]
    folder = write_folder(tmp_path / "own", own)
    (folder / "dataset.yaml").write_text(
        "columns:\n  SUBJID: patient_id\n  CRP: crp_mg_l\nunits:\n  crp_mg_l: mg/dL\n"
        "arms:\n  UC-MSC: MSCT\n  placebo: control\n")
    c = load(folder)
    for table in ("patients", "visits", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(c, table), getattr(plain, table))
    assert c.spec.units == {"crp_mg_l": "mg/dL"} and c.spec.arms["placebo"] == "control"
    # units: may also name the column as the file does, when columns: maps that name
    text = (folder / "dataset.yaml").read_text().replace("  crp_mg_l: mg/dL", "  CRP: mg/100 mL")
    (folder / "dataset.yaml").write_text(text)
    pd.testing.assert_frame_equal(load(folder).visits, plain.visits)


def test_measured_lists_columns_with_at_least_one_value(tmp_path):
    from analysis.intake.io import das28_lab, measured, not_measured

    t = mini_tables()
    t["visits"]["header"] = [h for h in t["visits"]["header"] if h not in ("ifn_g", "esr_mm_h", "treg_pct")]
    for r in t["visits"]["rows"]:
        r["il_6"] = ""  # present, entirely empty
        r["il_8"] = "<LLOQ"  # measured: every value below the limit
    c = load(write_folder(tmp_path / "d", t))
    m = measured(c)
    assert "ifn_g" not in m and "il_6" not in m and "treg_pct" not in m and "esr_mm_h" not in m
    assert "il_8" in m and "crp_mg_l" in m and m == c.available_columns("visits")
    assert c.visits["ifn_g"].isna().all() and "ifn_g_flag" in c.visits.columns  # absent: added empty, as before
    assert not_measured(c, ["tjc28", "ifn_g", "il_6", "il_8"]) == ["ifn_g", "il_6"]
    assert das28_lab(c) == "crp"
    assert "height_cm" in measured(c, "patients")
    with pytest.raises(ValueError, match="`needed`"):
        not_measured(c, ["no_such_column"])
    with pytest.raises(TypeError, match="`needed`"):
        not_measured(c, "ifn_g")
    with pytest.raises(ValueError, match="`table`"):
        measured(c, "labs")


def test_the_worked_example_of_another_trial_loads():
    from analysis.intake.io import measured
    from analysis.core.paths import default_data_dir

    folder = default_data_dir().parent / "examples" / "other_trial"
    c = load(folder)
    d = c.design
    assert (d.visit_weeks, d.response_week, d.final_week) == ((0, 2, 4, 8, 12, 24), 12, 24)
    assert sorted(c.visits["week"].unique()) == [0, 2, 4, 8, 12, 24]
    assert set(c.patients["arm"]) == {"MSCT", "control"}
    assert c.adverse_events["week"].max() <= 24
    assert set(measured(c)) == {"patient_id", "week", "tjc28", "sjc28", "esr_mm_h", "crp_mg_l", "patient_global_mm",
                                "haq_di", "prednisone_mg_day", "il_6", "tnf_a", "ifn_g"}
    raw = read_table(folder / "visits.csv", "visits")  # CRP recorded in mg/dL, loaded in mg/L
    crp = pd.to_numeric(raw["CRP"]).to_numpy()
    assert np.allclose(c.visits["crp_mg_l"].to_numpy(), crp * 10, rtol=1e-12)


def test_files_validated_once_are_shared_by_content_when_a_build_asks(tmp_path, monkeypatch):
    """With SHARED_ENV set (a build sets it for its chapters), a folder whose files have the same names and bytes
    as one validated before is not validated again: the cohort is the same, with this folder as its source. A
    changed byte is validated afresh (and refused if invalid). Without the variable nothing is kept."""
    import shutil

    import analysis.intake.io as io

    a = write_folder(tmp_path / "a")
    monkeypatch.delenv(io.SHARED_ENV, raising=False)
    load(a)
    assert not any(tmp_path.glob("**/*.pickle"))  # not asked: nothing kept

    shared = tmp_path / "shared"
    monkeypatch.setenv(io.SHARED_ENV, str(shared))
    first = load(a)
    assert len(list(shared.glob("*.pickle"))) == 1
    b = shutil.copytree(a, tmp_path / "b")
    calls = []
    real = io.validate_and_read
    monkeypatch.setattr(io, "validate_and_read", lambda d: calls.append(d) or real(d))
    second = load(b)
    assert calls == []  # the copy's files were validated already (as folder a)
    assert second.source == b.resolve() and all(p.parent == b.resolve() for p in second.files.values())
    for table in ("patients", "visits", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(first, table), getattr(second, table))
    # one byte changed: validated again; made invalid: refused as ever
    visits = b / "visits.csv"
    visits.write_text(visits.read_text("utf-8").replace("P01", "P99", 1), "utf-8")
    with pytest.raises(DataError):
        load(b)
    assert calls == [b]


# --------------------------------------------------------------------------- a visit row without measurements
def _small_trial(tmp_path, name: str):
    """A copy of data/examples/small_trial (12 patients, weeks 0/4/12/24, CRP only) and its visits as strings."""
    import shutil
    from pathlib import Path

    folder = tmp_path / name
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "examples" / "small_trial", folder)
    visits = pd.read_csv(folder / "visits.csv", dtype=str, keep_default_na=False)
    return folder, visits


def test_a_visit_row_without_measurements_is_a_missed_visit(tmp_path):
    """Blanking every measure of S07's week-24 row (a control patient) is the same as deleting the row: the visit is
    missed, S07 is lost to follow-up, and the cohort carries one note naming the row, patient and week."""
    from analysis.science.derive import derive

    blank, visits = _small_trial(tmp_path, "blank")
    row = visits.index[(visits["subject"] == "S07") & (visits["visit_week"] == "24")]
    assert len(row) == 1 and row[0] + 2 == 29  # spreadsheet row: header = 1
    visits.loc[row, ["TJC", "SJC", "CRP", "PGA"]] = ""
    visits.to_csv(blank / "visits.csv", index=False)
    deleted, visits = _small_trial(tmp_path, "deleted")
    visits.drop(index=row).to_csv(deleted / "visits.csv", index=False)
    original, _ = _small_trial(tmp_path, "original")

    cb, cd, co = load(blank), load(deleted), load(original)
    assert len(co.visits) == 48 and len(cb.visits) == len(cd.visits) == 47
    pd.testing.assert_frame_equal(cb.visits, cd.visits)
    assert [str(p) for p in cb.problems] == [
        "visits.csv, row 29: patient S07, week 24 has no measurement; counted as a missed visit (note)"]
    assert cd.problems == () and co.problems == ()

    def lost(c):
        p = derive(c, das28_variant="crp").patients
        return sorted(p.loc[p["lost_to_follow_up"].astype(bool), "patient_id"])

    assert lost(co) == [] and lost(cb) == lost(cd) == ["S07"]


def test_rows_with_measures_or_without_a_scheduled_week_are_kept(tmp_path):
    """Only a row with a patient, a scheduled week and no measure is dropped: one CRP value keeps the row, and a row
    at an unscheduled week or without a patient is left to the rules (an error)."""
    from analysis.intake.validate import read_folder

    folder, visits = _small_trial(tmp_path, "kept")
    visits.loc[3, ["TJC", "SJC", "PGA"]] = ""  # S01 week 24: CRP only (an incomplete DAS28, but a visit)
    extra = pd.DataFrame([{"subject": "S02", "visit_week": "30"}, {"subject": "", "visit_week": "24"}])
    pd.concat([visits, extra]).fillna("").to_csv(folder / "visits.csv", index=False)
    found = read_folder(folder)
    v = found.read["visits"][1]
    assert 5 in v.index and 50 in v.index and 51 in v.index  # spreadsheet rows of the three rows kept
    assert not [p for p in found.problems if p.severity == "note"]
    assert {p.row for p in found.errors} >= {50, 51}


def test_many_missed_visits_are_summarised(tmp_path, monkeypatch):
    from analysis.intake import validate

    monkeypatch.setattr(validate, "MAX_ROWS_PER_RULE", 1)
    t = mini_tables()
    measures = [c.name for c in columns("visits") if c.name not in ("patient_id", "week")]
    for i in (2, 5):  # the week-48 rows of P01 and P02 (weeks 0, 12, 48 per patient)
        t["visits"]["rows"][i].update({m: "" for m in measures})
    notes = [p for p in validate.validate_folder(write_folder(tmp_path / "d", t)) if p.severity == "note"]
    assert [(p.row, p.count) for p in notes] == [(4, 1), (None, 1)]
    assert notes[0].rule == "patient P01, week 48 has no measurement; counted as a missed visit"
    assert "also in 1 more rows (rows 7 to 7)" in notes[1].rule
