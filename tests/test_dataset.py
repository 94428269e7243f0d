"""dataset.yaml's design, columns, units and arms blocks (analysis/dataset.py) and the dictionary's required columns."""
from __future__ import annotations

import pytest

from analysis.intake.dataset import DatasetError, DatasetSpec, dataset_spec, describe_spec
from analysis.core.design import Design
from analysis.intake.dictionary import (TABLES, columns, dictionary_table, optional_columns, required_columns,
                                 required_one_of)


def test_empty_or_absent_blocks_are_the_paper():
    for meta in (None, {}, {"synthetic": True, "source": "x"}):
        spec = dataset_spec(meta)
        assert spec == DatasetSpec() and spec.is_default and spec.design.is_paper


def test_arm_labels_written_as_numbers_match_the_cells():
    spec = dataset_spec({"arms": {1: "MSCT", 2.0: "control", "Placebo ": "control"}})
    assert spec.arms == {"1": "MSCT", "2": "control", "Placebo": "control"}


@pytest.mark.parametrize("meta, key", [
    ({"arms": {True: "MSCT"}}, "arms"),
    ({"arms": "UC-MSC"}, "arms"),
    ({"columns": {"CRP": 3}}, "columns.CRP"),
    ({"columns": {"CRP": "crp_mg_l"}, "units": {"CRP": "mg/dL", "crp_mg_l": "mg/dL"}}, "units.crp_mg_l"),
    ({"units": {"crp_mg_l": ""}}, "units.crp_mg_l"),
    ({"units": {"urea_mmol_l": "mg/dL"}}, "units.urea_mmol_l"),
    ({"design": {"final_week": "24"}}, "design.final_week"),
])
def test_each_broken_block_names_its_key(meta, key):
    with pytest.raises(DatasetError) as info:
        dataset_spec(meta)
    assert info.value.key == key and str(info.value).startswith(f"dataset.yaml, {key}: ")


def test_the_dictionary_unit_itself_needs_no_conversion():
    spec = dataset_spec({"units": {"esr_mm_h": "mm/h", "crp_mg_l": "mg/L"}})
    assert spec.units == {"crp_mg_l": "mg/L"} and spec.unit_factor("crp_mg_l") == 1.0


def test_describe_spec_lists_what_reading_changes():
    spec = dataset_spec({"design": {"visit_weeks": [0, 2, 4, 8, 12, 24], "response_week": 12, "final_week": 24},
                         "columns": {"CRP": "crp_mg_l"}, "units": {"crp_mg_l": "mg/dL"},
                         "arms": {"UC-MSC": "MSCT", "placebo": "control"}})
    t = describe_spec(spec)
    assert t["what"].tolist() == ["design", "column", "unit", "arm", "arm"]
    assert t.loc[0, "to"] == "visits at weeks 0, 2, 4, 8, 12, 24"
    assert "week 12" in t.loc[0, "note"] and "week 24" in t.loc[0, "note"]
    assert t.loc[2, "note"] == "values x 10"


def test_required_and_optional_columns():
    assert required_columns("visits") == ("patient_id", "week", "tjc28", "sjc28", "patient_global_mm")
    assert required_one_of("visits") == [("esr_mm_h", "crp_mg_l")]
    for table in TABLES:
        grouped = {n for g in required_one_of(table) for n in g}
        names = [c.name for c in columns(table)]
        assert sorted(required_columns(table) + optional_columns(table) + tuple(grouped)) == sorted(names)
    assert "age" in required_columns("patients")  # only the visits' measures became optional


def test_dictionary_table_keeps_its_columns_and_says_what_is_required():
    t = dictionary_table()
    # build.py reads the sixth field of itertuples(): the column order is part of the contract
    assert list(t.columns) == ["table", "column", "type", "unit", "required", "empty allowed", "allowed", "description"]
    v = t[t["table"] == "visits"].set_index("column")
    assert v.loc["tjc28", "required"] == "yes" and v.loc["il_6", "required"] == "optional"
    assert v.loc["crp_mg_l", "required"] == "yes, or `esr_mm_h` instead"
    assert "a visit week of the design" in v.loc["week", "allowed"]
    ae = t[t["table"] == "adverse_events"].set_index("column")
    assert ae.loc["week", "allowed"] == "0 to the design's final week (default 48)"


def test_columns_resolve_the_design():
    d = Design.from_mapping({"visit_weeks": [0, 2, 4, 8, 12, 24], "final_week": 24})
    week = next(c for c in columns("visits", d) if c.name == "week")
    ae_week = next(c for c in columns("adverse_events", d) if c.name == "week")
    assert week.allowed == (0, 2, 4, 8, 12, 24) and ae_week.max == 24
    assert next(c for c in columns("adverse_events") if c.name == "week").max == 48
    with pytest.raises(TypeError, match="`design`"):
        columns("visits", {"visit_weeks": [0]})


# --------------------------------------------------------------------------- what reading translated, and the summary
def test_translations_name_every_rename_conversion_and_label(tmp_path):
    """Hand-made: CRP renamed and in mg/dL (12 values), arms A/B for 2 + 2 patients, sex male/female."""
    from analysis.intake.validate import read_folder

    try:
        from fixtures_bad import mini_tables, write_folder
    except ImportError:  # tests/ as a package
        from tests.fixtures_bad import mini_tables, write_folder
    t = mini_tables()
    t["patients"]["header"] = [h if h != "sex" else "gender" for h in t["patients"]["header"]]
    for r in t["patients"]["rows"]:
        r["arm"] = {"MSCT": "A", "control": "B"}[r["arm"]]
        r["gender"] = {"F": "female", "M": "male"}[r.pop("sex")]
    t["visits"]["header"] = [h if h != "crp_mg_l" else "CRP" for h in t["visits"]["header"]]
    for r in t["visits"]["rows"]:
        r["CRP"] = "1.5"
    folder = write_folder(tmp_path / "d", t)
    (folder / "dataset.yaml").write_text("columns: {CRP: crp_mg_l, gender: sex}\nunits: {crp_mg_l: mg/dL}\n"
                                         "arms: {A: MSCT, B: control}\nvalues: {sex: {male: M, female: F}}\n")
    found = read_folder(folder)
    assert found.errors == []
    text = [str(x) for x in found.translations]
    sexes = [r["gender"] for r in t["patients"]["rows"]]
    assert text == [
        "patients.csv: column 'gender' read as 'sex'",
        "patients.csv, column 'arm': 'A' read as 'MSCT' (2 cells)",
        "patients.csv, column 'arm': 'B' read as 'control' (2 cells)",
        *[f"patients.csv, column 'sex': '{s}' read as '{s[0].upper()}' ({n} cell{'s' * (n > 1)})"
          for s, n in ((s, sexes.count(s)) for s in dict.fromkeys(sexes))],
        "visits.csv: column 'CRP' read as 'crp_mg_l'",
        "visits.csv, column 'crp_mg_l': mg/dL converted to mg/L (12 cells)",
    ]
    assert found.read["visits"][1]["crp_mg_l"].astype(str).unique().tolist() == ["15"]


def test_summary_of_the_small_trial():
    """data/examples/small_trial: CRP only, no HAQ, labs, cytokines, cells or IFN-γ; arms UC-MSC/placebo, 6 each."""
    from analysis.core.paths import repo_root
    from analysis.intake.summary import format_summary, summarize
    from analysis.intake.validate import read_folder

    s = summarize(read_folder(repo_root() / "data" / "examples" / "small_trial"), folder="small_trial")
    assert (s.n_patients, s.arms, s.n_visit_rows, s.n_adverse_events) == (12, {"MSCT": 6, "control": 6}, 48, 3)
    assert s.design.visit_weeks == (0, 4, 12, 24) and s.das28_variant == "crp"
    status = {x.id: x for x in s.sections}
    assert status["activity.relapse"].present == ("crp_mg_l",) and status["activity.relapse"].absent == ("esr_mm_h",)
    assert not status["activity.haq"].available and status["activity.groups"].available
    assert [x.id for x in s.sections if x.available] == ["safety.flow", "safety.baseline", "safety.adverse_events",
                                                         "activity.groups", "activity.outcomes"]
    text = format_summary(s)
    for line in ["small_trial: valid. 12 patients (MSCT 6, control 6), 48 visit rows, 3 adverse events.",
                 "design (dataset.yaml): visits at weeks 0, 4, 12, 24; response judged at week 12; final visit week 24",
                 "DAS28: tjc28, sjc28, patient_global_mm, crp_mg_l (ESR not recorded: DAS28-CRP)",
                 "  labels: arm 'UC-MSC' -> 'MSCT' (6), arm 'placebo' -> 'control' (6)"]:
        assert line in text.splitlines(), text
    assert "not available: HAQ [-haq_di]" in text and "Relapse [+crp_mg_l -esr_mm_h]" in text
    assert "subject -> patient_id (3 files)" in text
    assert max(len(line) for line in text.splitlines()) <= 110, "short lines"
