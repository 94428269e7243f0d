"""Issue 33: visit and onset dates -> weeks (``visit_dates:``), ``values:`` for every category and yes/no column, the
identifier check on REDCap/CDISC exports, and the edc_export example (its tables and verdicts equal data/synthetic's).

The dated folders are made from ``data/examples/small_trial`` (weeks 0, 4, 12, 24): each patient gets a day 0, each
visit the date day 0 + 7 x week + a jitter, each adverse event day 0 + 7 x week + 0..6 days.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.core.design import Design
from analysis.intake.dataset import DatasetError, dataset_spec
from analysis.intake.dates import DateReader, VisitDates, parse_dates, visit_dates_block
from analysis.intake.io import load
from analysis.intake.pii import export_column, name_rule
from analysis.intake.problem import ProblemSink
from analysis.intake.validate import validate_folder

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "data" / "examples" / "small_trial"
WINDOWS = {0: 3, 4: 3, 12: 7, 24: 7}
FIRST_DAY0 = pd.Timestamp("2019-01-07")


def _iso(d: pd.Timestamp) -> str:
    return d.strftime("%Y-%m-%d")


def dated_copy(folder: Path, jitter=None, fmt=_iso, *, windows=WINDOWS, keep_week=False, extra: dict | None = None,
               day0=None) -> Path:
    """small_trial with dates instead of weeks; ``jitter(i, week)`` gives the days added to visit row ``i``."""
    jitter = jitter or (lambda i, w: 0)
    folder.mkdir(parents=True, exist_ok=True)
    read = {t: pd.read_csv(SMALL / f"{t}.csv", dtype=str, keep_default_na=False)
            for t in ("patients", "visits", "adverse_events")}
    p, v, a = read["patients"], read["visits"], read["adverse_events"]
    starts = day0 or {s: FIRST_DAY0 + pd.Timedelta(days=11 * i) for i, s in enumerate(p["subject"])}
    p.insert(1, "infusion_date", [fmt(starts[s]) for s in p["subject"]])
    weeks = v["visit_week"].astype(int)
    v.insert(1, "visit_date", [fmt(starts[s] + pd.Timedelta(days=7 * w + jitter(i, w)))
                               for i, (s, w) in enumerate(zip(v["subject"], weeks))])
    a.insert(1, "ae_onset_date", [fmt(starts[s] + pd.Timedelta(days=7 * int(w) + i % 7))
                                  for i, (s, w) in enumerate(zip(a["subject"], a["week"]))])
    if not keep_week:
        v = v.drop(columns=["visit_week"])
        a = a.drop(columns=["week"])
    for name, df in (("patients", p), ("visits", v), ("adverse_events", a)):
        df.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    meta = yaml.safe_load((SMALL / "dataset.yaml").read_text("utf-8"))
    if not keep_week:
        del meta["columns"]["visit_week"]
    meta["visit_dates"] = {"day0": "infusion_date", "visits": "visit_date", "adverse_events": "ae_onset_date",
                           "window_days": dict(windows)}
    for k, val in (extra or {}).items():
        meta.setdefault(k, {}).update(val) if isinstance(val, dict) else meta.__setitem__(k, val)
    (folder / "dataset.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), "utf-8")
    return folder


def _same_cohort(a, b):
    for t in ("patients", "visits", "adverse_events"):
        keys = ["patient_id", "week"] if t == "visits" else ["patient_id"]
        x = getattr(a, t).sort_values(keys + ([] if t != "adverse_events" else ["week", "event"])).reset_index(drop=True)
        y = getattr(b, t).sort_values(keys + ([] if t != "adverse_events" else ["week", "event"])).reset_index(drop=True)
        pd.testing.assert_frame_equal(x, y, check_like=False)


def _errors(folder):
    return [p for p in validate_folder(folder) if p.severity == "error"]


# ------------------------------------------------------------------------------------------------ parsing
@pytest.mark.parametrize("texts, expected, order", [
    (["2020-03-17", "2020-03-17 00:00:00", "2020-03-17T08:30"], ["2020-03-17"] * 3, None),
    (["17/03/2020", "01/02/2020"], ["2020-03-17", "2020-02-01"], "dmy"),
    (["03/17/2020", "01/02/2020"], ["2020-03-17", "2020-01-02"], "mdy"),
    (["17.03.2020", "2020-02-01"], ["2020-03-17", "2020-02-01"], "dmy"),
])
def test_dates_are_read_iso_and_day_or_month_first_when_the_column_shows_which(texts, expected, order):
    dates, bad, got = parse_dates(texts)
    assert bad == [] and [_iso(d) for d in dates] == expected and got == order


def test_an_ambiguous_column_is_refused_with_an_example_and_a_request_for_date_format():
    dates, bad, _ = parse_dates(["", "03/04/2020", "05/06/2020"])
    assert [i for i, _ in bad] == [1]
    assert "could be read as 3 April or as 4 March 2020" in bad[0][1] and "date_format: dd/mm/yyyy" in bad[0][1]
    dates, bad, order = parse_dates(["03/04/2020"], date_format="mm/dd/yyyy")
    assert bad == [] and _iso(dates[0]) == "2020-03-04" and order == "mdy"
    dates, bad, _ = parse_dates(["03/04/2020"], order="dmy")  # another column of the folder showed the order
    assert bad == [] and _iso(dates[0]) == "2020-04-03"


def test_unreadable_dates_mixed_orders_and_serials_outside_xlsx_are_errors():
    assert "not a calendar date" in parse_dates(["2020-02-30"])[1][0][1]
    assert "not a calendar date (read as dd/mm/yyyy)" in parse_dates(["31/02/2020", "13/01/2020"])[1][0][1]
    assert "mixes day-first and month-first" in parse_dates(["13/01/2020", "01/13/2020"])[1][0][1]
    assert "Excel serial numbers are read only from .xlsx" in parse_dates(["43907"])[1][0][1]
    assert "not a date" in parse_dates(["next week"])[1][0][1]
    assert _iso(parse_dates(["43907", "43907.5"], excel=True)[0][1]) == "2020-03-17"


# ------------------------------------------------------------------------------------------------ the block
@pytest.mark.parametrize("block, key, words", [
    ({"visits": "vd", "window_days": 7}, "visit_dates.day0", "missing"),
    ({"day0": "d0"}, "visit_dates", "name the visit date column"),
    ({"day0": "d0", "visits": "vd"}, "visit_dates.window_days", "missing"),
    ({"day0": "d0", "visits": "vd", "window_days": -1}, "visit_dates.window_days", "whole number of days"),
    ({"day0": "d0", "visits": "vd", "window_days": {0: 3, 4: 3, 12: 7, 24: 7, 36: 7}}, "visit_dates.window_days",
     "week 36 is not a scheduled visit week"),
    ({"day0": "d0", "visits": "vd", "window_days": 7, "date_format": "dd-mmm-yy"}, "visit_dates.date_format",
     "not a known date format"),
    ({"day0": "d0", "visits": "vd", "window_days": 7, "windows": 3}, "visit_dates.windows", "unknown key"),
    ({"day0": 5, "visits": "vd", "window_days": 7}, "visit_dates.day0", "name of your date column"),
    ("infusion_date", "visit_dates", "must be a mapping"),
])
def test_a_broken_visit_dates_block_names_the_key_and_the_rule(block, key, words):
    meta = {"design": {"visit_weeks": [0, 4, 12, 24], "final_week": 24}, "visit_dates": block}
    with pytest.raises(DatasetError) as err:
        dataset_spec(meta)
    assert err.value.key == key and words in err.value.rule


def test_a_folder_with_a_broken_visit_dates_block_reports_its_line(tmp_path):
    folder = dated_copy(tmp_path / "d")
    text = (folder / "dataset.yaml").read_text("utf-8").replace("window_days:", "window_day:")
    (folder / "dataset.yaml").write_text(text, "utf-8")
    (p,) = validate_folder(folder)
    assert p.file == "dataset.yaml" and "visit_dates.window_day: unknown key" in p.rule and p.rule.startswith("line")


def test_window_days_one_number_applies_to_every_scheduled_week():
    d = Design.from_mapping({"visit_weeks": [0, 4, 12], "final_week": 12})
    assert visit_dates_block({"day0": "a", "visits": "b", "window_days": 5}, d).window_days == {0: 5, 4: 5, 12: 5}
    quoted = {"day0": "a", "visits": "b", "window_days": {"0": 1, "4": "2", 12: 3}}
    assert visit_dates_block(quoted, d).window_days == {0: 1, 4: 2, 12: 3}


# ------------------------------------------------------------------------------------------------ folders
def test_a_dated_folder_reads_as_the_undated_one_and_its_dates_are_dropped(tmp_path):
    jit = lambda i, w: [-3, 0, 2][i % 3] if w == 0 else [-(WINDOWS[w]), WINDOWS[w], 1][i % 3]
    folder = dated_copy(tmp_path / "d", jit)
    dated, plain = load(folder), load(SMALL)
    _same_cohort(dated, plain)
    for t in ("patients", "visits", "adverse_events"):
        assert not [c for c in getattr(dated, t).columns if "date" in c]
    notes = [str(p) for p in dated.problems]
    assert any("weeks computed from the dates (48 rows); the date column is dropped" in n for n in notes)


def test_a_visit_outside_every_window_names_the_row_date_days_and_nearest_week(tmp_path):
    folder = dated_copy(tmp_path / "d", lambda i, w: 8 if i == 2 else 0)  # row 4: week 12 visit 8 days late
    (p,) = _errors(folder)
    start = FIRST_DAY0  # S01
    assert (p.file, p.row, p.column, p.value) == ("visits.csv", 4, "visit_date", _iso(start + pd.Timedelta(days=92)))
    assert p.rule == ("outside every visit window: 92 days from day 0 (patient S01); the nearest scheduled visit is "
                      "week 12 (day 84 ± 7 days)")


def test_two_visits_of_one_patient_in_one_window_name_both_rows(tmp_path):
    folder = dated_copy(tmp_path / "d", lambda i, w: -4 if i == 2 else 0)
    v = pd.read_csv(folder / "visits.csv", dtype=str)
    v.loc[1, "visit_date"] = v.loc[0, "visit_date"]  # week 4 visit on the baseline date
    v.to_csv(folder / "visits.csv", index=False)
    (p,) = _errors(folder)
    assert (p.file, p.row, p.column) == ("visits.csv", 3, "visit_date")
    assert "patient S01 has two visits in the window of week 0 (day 0 ± 3): rows 2 and 3" in p.rule


def test_where_windows_overlap_the_nearest_week_wins_and_a_baseline_may_precede_day0(tmp_path):
    windows = {0: 3, 4: 20, 12: 40, 24: 80}  # week 4's and 12's windows overlap
    folder = dated_copy(tmp_path / "d", lambda i, w: {0: -3, 4: 13, 12: -14, 24: 0}[w], windows=windows)
    _same_cohort(load(folder), load(SMALL))  # day 41: in both windows of weeks 4 and 12, nearer 4; day 70: nearer 12


def test_a_week_column_given_too_must_agree(tmp_path):
    folder = dated_copy(tmp_path / "d", keep_week=True)
    _same_cohort(load(folder), load(SMALL))
    v = pd.read_csv(folder / "visits.csv", dtype=str)
    v.loc[1, "visit_week"] = "12"
    v.to_csv(folder / "visits.csv", index=False)
    errors = _errors(folder)
    assert errors[0].row == 3 and errors[0].column == "visit_week (week)" and errors[0].value == "12"
    assert "disagrees with the date in 'visit_date'" in errors[0].rule and "28 days from day 0: week 4" in errors[0].rule


def test_an_onset_before_day0_is_an_error_and_onset_weeks_are_floor_days_over_7(tmp_path):
    folder = dated_copy(tmp_path / "d")
    a = pd.read_csv(folder / "adverse_events.csv", dtype=str)
    assert load(folder).adverse_events["week"].tolist() == [0, 4, 12]  # onsets on days 0, 29, 86
    a.loc[0, "ae_onset_date"] = _iso(FIRST_DAY0 + pd.Timedelta(days=11 - 2))  # S02's day 0 is FIRST_DAY0 + 11
    a.to_csv(folder / "adverse_events.csv", index=False)
    (p,) = _errors(folder)
    assert (p.file, p.row, p.column) == ("adverse_events.csv", 2, "ae_onset_date")
    assert p.rule.startswith("onset 2 days before day 0 (patient S02)")


def test_empty_and_unreadable_dates_and_a_missing_day0(tmp_path):
    folder = dated_copy(tmp_path / "d")
    p = pd.read_csv(folder / "patients.csv", dtype=str, keep_default_na=False)
    p.loc[0, "infusion_date"] = ""
    p.to_csv(folder / "patients.csv", index=False)
    v = pd.read_csv(folder / "visits.csv", dtype=str, keep_default_na=False)
    v.loc[5, "visit_date"] = "soon"
    v.to_csv(folder / "visits.csv", index=False)
    found = {(e.file, e.row, e.column): e.rule for e in _errors(folder)}
    assert "empty cell: day 0" in found[("patients.csv", 2, "infusion_date")]
    assert found[("visits.csv", 7, "visit_date")].startswith("not a date")
    assert "patient 'S01' has no day 0 (infusion_date in the patients table)" in found[("visits.csv", 2, "visit_date")]


def test_a_missing_date_column_is_named(tmp_path):
    folder = dated_copy(tmp_path / "d")
    v = pd.read_csv(folder / "visits.csv", dtype=str).rename(columns={"visit_date": "date_of_visit"})
    v.to_csv(folder / "visits.csv", index=False)
    rules = [e.rule for e in _errors(folder) if e.file == "visits.csv"]
    assert any("missing date column 'visit_date' (visit_dates.visits in dataset.yaml names it)" in r for r in rules)


def test_day_first_dates_and_ambiguous_ones_with_date_format(tmp_path):
    dmy = lambda d: d.strftime("%d/%m/%Y")
    folder = dated_copy(tmp_path / "d", fmt=dmy)  # days above 12 show the order
    _same_cohort(load(folder), load(SMALL))
    early = {s: pd.Timestamp(f"2019-0{1 + i % 2}-0{1 + i // 2 % 9}") for i, s in
             enumerate(pd.read_csv(SMALL / "patients.csv")["subject"])}
    folder = dated_copy(tmp_path / "e", lambda i, w: 0, fmt=lambda d: d.strftime("%m/%d/%Y"), day0=early,
                        windows={0: 0, 4: 0, 12: 0, 24: 0})
    if not _errors(folder):
        pytest.skip("the invented dates happened to show the order")
    errors = _errors(folder)
    assert errors[0].file == "patients.csv" and "could be read as" in errors[0].rule
    assert "date_format: dd/mm/yyyy" in errors[0].rule
    meta = yaml.safe_load((folder / "dataset.yaml").read_text("utf-8"))
    meta["visit_dates"]["date_format"] = "mm/dd/yyyy"
    (folder / "dataset.yaml").write_text(yaml.safe_dump(meta), "utf-8")
    _same_cohort(load(folder), load(SMALL))


def test_excel_serial_dates_in_a_workbook(tmp_path):
    folder = dated_copy(tmp_path / "d", fmt=lambda d: str((d - pd.Timestamp("1899-12-30")).days))
    for t in ("patients", "visits"):
        df = pd.read_csv(folder / f"{t}.csv", dtype=str, keep_default_na=False)
        col = "infusion_date" if t == "patients" else "visit_date"
        df[col] = df[col].astype(int)
        df.to_excel(folder / f"{t}.xlsx", index=False)
        (folder / f"{t}.csv").unlink()
    a = pd.read_csv(folder / "adverse_events.csv", dtype=str)
    a["ae_onset_date"] = [_iso(pd.Timestamp("1899-12-30") + pd.Timedelta(days=int(x))) for x in a["ae_onset_date"]]
    a.to_csv(folder / "adverse_events.csv", index=False)
    _same_cohort(load(folder), load(SMALL))


# a property: any jitter inside the windows gives exactly the weeks of the undated folder
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(-7, 7), min_size=48, max_size=48), st.integers(0, 2000))
def test_random_jitter_inside_the_windows_gives_the_weeks_of_the_undated_folder(tmp_path, jitters, shift):
    def jit(i, w):
        return max(-WINDOWS[w], min(WINDOWS[w], jitters[i]))

    starts = {s: FIRST_DAY0 + pd.Timedelta(days=shift + 3 * i)
              for i, s in enumerate(pd.read_csv(SMALL / "patients.csv")["subject"])}
    folder = dated_copy(tmp_path / f"p{shift}_{abs(hash(tuple(jitters)))}", jit, day0=starts)
    _same_cohort(load(folder), load(SMALL))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_the_date_reader_gives_back_the_scheduled_weeks_for_any_jitter_inside_non_overlapping_windows(data):
    weeks = [0, 1, 2, 3, 4, 12, 24, 48]
    gaps = np.diff(weeks) * 7
    windows = {}
    for k, w in enumerate(weeks):  # a window never reaches halfway to a neighbour
        room = min([(gaps[k - 1] - 1) // 2] if k else [30]) if k == len(weeks) - 1 else min(
            ([(gaps[k - 1] - 1) // 2] if k else []) + [(gaps[k] - 1) // 2])
        windows[w] = data.draw(st.integers(0, int(room)))
    design = Design()
    reader = DateReader(VisitDates("d0", "vd", window_days=windows), design)
    day0 = pd.Timestamp("2018-01-01") + pd.Timedelta(days=data.draw(st.integers(0, 3000)))
    jit = [data.draw(st.integers(-windows[w], windows[w])) for w in weeks]
    idx = pd.RangeIndex(2, 2 + len(weeks), name="row")
    cat = lambda xs: pd.Series(pd.Categorical(xs), index=idx[:len(xs)])
    found: list = []
    reader.apply("patients", pd.DataFrame({"patient_id": cat(["P"]), "d0": cat([_iso(day0)])}),
                 ProblemSink("patients.csv", found), "patients.csv")
    v = pd.DataFrame({"patient_id": cat(["P"] * len(weeks)),
                      "vd": cat([_iso(day0 + pd.Timedelta(days=7 * w + j)) for w, j in zip(weeks, jit)]),
                      "tjc28": cat(["1"] * len(weeks))})
    out = reader.apply("visits", v, ProblemSink("visits.csv", found), "visits.csv")
    assert [p for p in found if p.severity == "error"] == []
    assert out["week"].astype(int).tolist() == weeks


# ------------------------------------------------------------------------------------------------ values:
def test_values_maps_yes_no_labels_of_any_yes_no_column(tmp_path):
    folder = dated_copy(tmp_path / "d", extra={"values": {"serious": {"Y": True, "N": False}}})
    a = pd.read_csv(folder / "adverse_events.csv", dtype=str)
    a["serious"] = a["serious"].map({"false": "N", "true": "Y"})
    a.to_csv(folder / "adverse_events.csv", index=False)
    _same_cohort(load(folder), load(SMALL))
    a.loc[1, "serious"] = "Unknown"
    a.loc[2, "serious"] = "N/A"
    a.to_csv(folder / "adverse_events.csv", index=False)
    errors = _errors(folder)
    assert [(e.row, e.column, e.value) for e in errors] == [(3, "serious", "Unknown"), (4, "serious", "N/A")]
    assert "labels found that are not mapped: 'N/A', 'Unknown'" in errors[0].rule


def test_unquoted_yes_no_keys_keep_their_text(tmp_path):
    folder = dated_copy(tmp_path / "d")
    (folder / "dataset.yaml").write_text((folder / "dataset.yaml").read_text("utf-8")
                                         + "values:\n  serious: {Yes: true, No: false}\n  related: {Yes: yes, No: no}\n")
    a = pd.read_csv(folder / "adverse_events.csv", dtype=str)
    a["serious"] = a["serious"].map({"false": "No", "true": "Yes"})
    a.to_csv(folder / "adverse_events.csv", index=False)
    _same_cohort(load(folder), load(SMALL))


def test_an_unmapped_sex_label_lists_the_labels_found(tmp_path):
    folder = dated_copy(tmp_path / "d", extra={"values": {"sex": {"Female": "F", "Male": "M"}}})
    p = pd.read_csv(folder / "patients.csv", dtype=str)
    p["sex"] = p["sex"].map({"F": "Female", "M": "Male"})
    p.loc[3, "sex"] = "unknown"
    p.to_csv(folder / "patients.csv", index=False)
    (e,) = _errors(folder)
    assert (e.file, e.row, e.column, e.value) == ("patients.csv", 5, "sex", "unknown")
    assert "labels found that are not mapped: 'unknown'" in e.rule


@pytest.mark.parametrize("values, key, words", [
    ({"serious": {"Y": "maybe"}}, "values.serious.Y", "'maybe' is not a value of serious"),
    ({"event": {"HA": "headache"}}, "values.event", "not a category or yes/no column"),
    ({"arm": {"UC-MSC": "MSCT"}}, "values.arm", "mapped under arms:"),
])
def test_a_wrong_values_line_names_the_key(values, key, words):
    with pytest.raises(DatasetError) as err:
        dataset_spec({"values": values})
    assert err.value.key == key and words in err.value.rule


# ------------------------------------------------------------------------------------------------ identifiers
@pytest.mark.parametrize("name", ["redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
                                  "redcap_data_access_group", "USUBJID", "SUBJID", "SITEID", "AVISIT", "AVISITN",
                                  "PARAMCD", "PARAM", "STUDYID", "LBTESTCD", "aeseq"])
def test_export_columns_are_recognised(name):
    assert export_column(name) is not None


@pytest.mark.parametrize("name", ["patient_name", "BRTHDTC", "date_of_birth", "address", "phone", "INVNAM"])
def test_identifiers_are_not_export_columns_and_still_refused(name):
    assert export_column(name) is None and name_rule(name) is not None


def test_a_redcap_export_is_not_refused_but_names_and_birth_dates_are(tmp_path):
    folder = dated_copy(tmp_path / "d")
    v = pd.read_csv(folder / "visits.csv", dtype=str)
    v.insert(1, "redcap_event_name", "week_arm_1")
    v.insert(2, "redcap_repeat_instance", "1")
    v.to_csv(folder / "visits.csv", index=False)
    problems = validate_folder(folder)
    assert not [p for p in problems if p.severity == "error"]
    notes = {p.column: p.rule for p in problems if p.severity == "note"}
    assert notes["redcap_event_name"].startswith("recognised as REDCap's event (visit) name")
    p = pd.read_csv(folder / "patients.csv", dtype=str)
    p["patient_name"] = "Li Wei"
    p["remark"] = "born 1961-04-03"
    p.to_csv(folder / "patients.csv", index=False)
    refused = {e.column: e.rule for e in _errors(folder)}
    assert refused["patient_name"].startswith("refused for privacy: the column name")
    assert "date of birth" in refused["remark"]


# ------------------------------------------------------------------------------------------------ edc_export
EDC = ROOT / "data" / "examples" / "edc_export"


def test_the_edc_export_reads_as_the_shipped_cohort(tmp_path):
    edc, synth = load(EDC), load(ROOT / "data" / "synthetic")
    _same_cohort(edc, synth)
    assert not [p for p in edc.problems if p.severity != "note"]


def test_the_edc_export_script_writes_the_shipped_folder(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "edc"
    subprocess.run([sys.executable, str(ROOT / "data" / "examples" / "make_edc_export.py"), "--out", str(out)],
                   check=True, cwd=ROOT)
    for name in ("patients.csv", "visits.csv", "adverse_events.csv", "dataset.yaml"):
        assert (out / name).read_bytes() == (EDC / name).read_bytes(), name


# ------------------------------------------------------------------------------------------------ no date leaves
def _date_texts(folder: Path) -> set[str]:
    """Every date of the folder in the forms it could be written: ISO, d/m/Y, m/d/Y (with and without zeros).

    Excel serial numbers are not searched: a five-digit number such as 43907 occurs in outputs for other reasons."""
    out = set()
    for t, col in (("patients", "infusion_date"), ("visits", "visit_date"), ("adverse_events", "ae_onset_date")):
        for text in pd.read_csv(folder / f"{t}.csv", dtype=str)[col]:
            d = pd.Timestamp(text)
            out |= {d.strftime("%Y-%m-%d"), d.strftime("%d/%m/%Y"), d.strftime("%m/%d/%Y"),
                    f"{d.day}/{d.month}/{d.year}", f"{d.month}/{d.day}/{d.year}", d.strftime("%Y/%m/%d"),
                    d.strftime("%d.%m.%Y"), d.strftime("%Y%m%d")}
    return out


@pytest.mark.slow
def test_no_output_of_a_dated_build_holds_any_of_its_dates(tmp_path):
    from analysis.engine.build import build

    folder = dated_copy(tmp_path / "dated", lambda i, w: [-2, 1, 3][i % 3])
    out = tmp_path / "out"
    build(data_dir=folder, out=out, jobs=2)
    dates = _date_texts(folder)
    pattern = re.compile("|".join(re.escape(d) for d in sorted(dates, key=len, reverse=True)).encode())
    assert pattern.search((folder / "visits.csv").read_bytes())  # the search finds the dates where they are
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 20
    hits = []
    for p in files:
        m = pattern.search(p.read_bytes())
        if m:
            hits.append((str(p.relative_to(out)), m.group().decode()))
    assert hits == []


def test_many_rows_outside_their_windows_are_listed_up_to_the_limit_then_counted():
    from analysis.intake.problem import MAX_ROWS_PER_RULE

    n = MAX_ROWS_PER_RULE + 30
    reader = DateReader(VisitDates("d0", "vd", window_days={w: 1 for w in Design().visit_weeks}), Design())
    found: list = []
    idx = pd.RangeIndex(2, 2 + n, name="row")
    reader.apply("patients", pd.DataFrame({"patient_id": pd.Categorical([f"P{i}" for i in range(n)]),
                                           "d0": pd.Categorical(["2020-01-01"] * n)}, index=idx),
                 ProblemSink("patients.csv", found), "patients.csv")
    v = pd.DataFrame({"patient_id": pd.Categorical([f"P{i}" for i in range(n)]),
                      "vd": pd.Categorical(["2020-02-15"] * n), "tjc28": pd.Categorical(["1"] * n)}, index=idx)
    reader.apply("visits", v, ProblemSink("visits.csv", found), "visits.csv")
    errors = [p for p in found if p.severity == "error"]
    assert len([e for e in errors if e.row is not None]) == MAX_ROWS_PER_RULE
    (summary,) = [e for e in errors if e.row is None]
    assert summary.count == 30 and summary.rule.startswith("outside every visit window: also in 30 more rows")


def test_without_a_readable_patients_table_the_weeks_are_not_guessed(tmp_path):
    folder = dated_copy(tmp_path / "d")
    (folder / "patients.csv").write_bytes(b"")
    rules = [e.rule for e in _errors(folder) if e.file == "visits.csv"]
    assert any(r.startswith("the weeks cannot be computed: day 0 (infusion_date) comes from the patients table")
               for r in rules)


def test_date_format_may_also_be_written_at_the_top_level():
    meta = {"date_format": "mm/dd/yyyy", "visit_dates": {"day0": "a", "visits": "b", "window_days": 3}}
    assert dataset_spec(meta).visit_dates.date_format == "mm/dd/yyyy"
    for written, read in (("DD.MM.YYYY", "dd/mm/yyyy"), ("%m/%d/%Y", "mm/dd/yyyy"), ("yyyy-mm-dd", "yyyy-mm-dd")):
        meta["visit_dates"]["date_format"] = written
        assert dataset_spec(meta).visit_dates.date_format == read


def test_a_scheduled_week_without_a_window_is_a_warning_and_its_visits_are_refused(tmp_path):
    folder = dated_copy(tmp_path / "d", windows={0: 3, 4: 3, 12: 7})  # no window for week 24
    problems = validate_folder(folder)
    (w,) = [p for p in problems if p.severity == "warning" and p.column == "visit_date"]
    assert w.file == "visits.csv" and "gives no window for the scheduled week 24" in w.rule
    errors = [p for p in problems if p.severity == "error" and p.column == "visit_date"]
    assert len(errors) == 12
    assert all("nearest scheduled visit is week 24 (day 168, no window declared)" in e.rule for e in errors)


@pytest.mark.slow
def test_the_edc_export_builds_with_the_shipped_verdicts_and_no_output_holds_its_dates(tmp_path):
    """The done-when of issue 33 for the worked EDC example: it builds; every verdict is the shipped default
    build's (``data/default_build``, which tests/test_compare.py keeps equal to the code on data/synthetic); and no
    file of the build (tables, notebooks, pages, downloads) holds any of its dates."""
    from analysis.engine.build import build

    out = tmp_path / "out"
    build(data_dir=EDC, out=out, jobs=2)
    cols = ["claim_id", "verdict"]
    built = pd.read_csv(out / "results" / "claims.csv")[cols].sort_values("claim_id").reset_index(drop=True)
    shipped = pd.read_csv(ROOT / "data" / "default_build" / "claims.csv")[cols]
    pd.testing.assert_frame_equal(built, shipped.sort_values("claim_id").reset_index(drop=True))
    dates = _date_texts(EDC)
    pattern = re.compile("|".join(re.escape(d) for d in sorted(dates, key=len, reverse=True)).encode())
    assert pattern.search((EDC / "visits.csv").read_bytes())  # the search finds the dates where they are
    hits = [(str(p.relative_to(out)), m.group().decode()) for p in out.rglob("*") if p.is_file()
            for m in [pattern.search(p.read_bytes())] if m]
    assert hits == []
