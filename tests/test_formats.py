"""SPSS, Stata and SAS files: the default cohort read from each format equals the CSV files, cell for cell."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis.core.errors import DataError
from analysis.intake.io import data_files, find_table, load, read_table
from analysis.core.paths import default_data_dir
from analysis.intake.readers import cell_text, read_stat_file
from analysis.intake.validate import validate_folder

TABLES = ("patients", "visits", "adverse_events")


@pytest.fixture(scope="module")
def csv_cohort():
    return load(default_data_dir())


def _typed_copy(table: str) -> pd.DataFrame:
    """A table of the default cohort as a statistical package holds it: numbers as doubles, the rest as text.

    A column is numeric when every non-empty cell is a number (so a cytokine column with ``<LLOQ`` cells
    stays text, as it would in SPSS); empty numeric cells are system-missing.
    """
    raw = read_table(find_table(default_data_dir(), table), table)
    out = {}
    for name in raw.columns:
        s = raw[name].astype(str)
        num = pd.to_numeric(s.where(s != ""), errors="coerce")
        numeric = (num.notna() | (s == "")).all() and (s != "").any()
        out[name] = num.astype(float) if numeric else s
    return pd.DataFrame(out).reset_index(drop=True)


def _write(fmt: str, folder, table: str, df: pd.DataFrame, **kw):
    path = folder / f"{table}.{fmt}"
    if fmt == "sav":
        pyreadstat.write_sav(df, path, **kw)
    elif fmt == "dta":
        pyreadstat.write_dta(df, path, **kw)
    elif fmt == "xpt":
        pyreadstat.write_xport(df, path, table_name=table[:8], file_format_version=5)
    return path


def _assert_same(cohort, reference):
    for t in TABLES:
        pd.testing.assert_frame_equal(getattr(cohort, t), getattr(reference, t), check_exact=True)


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_spss_and_stata_copies_load_like_the_csv(fmt, tmp_path, csv_cohort):
    for t in TABLES:
        _write(fmt, tmp_path, t, _typed_copy(t))
    shutil.copy(default_data_dir() / "dataset.yaml", tmp_path / "dataset.yaml")
    assert [p for p in validate_folder(tmp_path) if p.severity == "error"] == []
    c = load(tmp_path)
    _assert_same(c, csv_cohort)
    assert c.files["visits"].name == f"visits.{fmt}"
    assert (tmp_path / f"visits.{fmt}") in data_files(tmp_path)  # part of the build's fingerprint


def test_sas_transport_with_8_character_names_mapped_in_dataset_yaml(tmp_path, csv_cohort):
    """SAS transport v5 allows 8-character names: columns: maps them back (any table)."""
    mapping = {}
    for t in TABLES:
        df = _typed_copy(t)
        short = {}
        for name in df.columns:
            if len(name) <= 8:
                continue
            short[name] = mapping.setdefault(name, f"C{len(mapping):02d}")
        _write("xpt", tmp_path, t, df.rename(columns=short))
    lines = ["synthetic: true", "columns:"] + [f"  {s}: {n}" for n, s in mapping.items()]
    (tmp_path / "dataset.yaml").write_text("\n".join(lines) + "\n")
    c = load(tmp_path)
    _assert_same(c, csv_cohort)
    assert c.spec.columns["C00"] in {col for t in TABLES for col in getattr(c, t).columns}


def test_spss_value_labels_are_applied_and_arms_mapped(tmp_path):
    """An arm coded 1/2 with labels 'UC-MSC'/'placebo' reads as its labels; arms: maps them."""
    for t in ("visits", "adverse_events"):
        _write("sav", tmp_path, t, _typed_copy(t))
    p = _typed_copy("patients")
    p["arm"] = np.where(p["arm"] == "MSCT", 1.0, 2.0)
    p["sex"] = np.where(p["sex"] == "F", 1.0, 2.0)
    _write("sav", tmp_path, "patients", p,
           variable_value_labels={"arm": {1.0: "UC-MSC", 2.0: "placebo"}, "sex": {1.0: "F", 2.0: "M"}})
    grid, problems = read_stat_file(tmp_path / "patients.sav")
    assert problems == [] and set(grid.iloc[1:, 1]) == {"1", "2"}  # the codes, with their labels beside them
    assert grid.attrs["value_labels"]["arm"] == {"1": "UC-MSC", "2": "placebo"}
    refused = validate_folder(tmp_path)
    assert any(p.column == "arm" and "arms:" in p.rule for p in refused)  # the hint names the key
    (tmp_path / "dataset.yaml").write_text("arms:\n  UC-MSC: MSCT\n  placebo: control\n")
    c = load(tmp_path)
    ref = load(default_data_dir())
    assert c.patients["arm"].tolist() == ref.patients["arm"].tolist()
    assert c.patients["sex"].tolist() == ref.patients["sex"].tolist()


def test_labels_of_numeric_dictionary_columns_keep_the_codes(tmp_path):
    """A week coded 12 with the label 'Week 12' stays 12; a boolean 0/1 labelled No/Yes reads as No/Yes."""
    for t in ("patients", "visits"):
        _write("dta", tmp_path, t, _typed_copy(t))
    v = _typed_copy("visits").rename(columns={"week": "VISIT"})
    weeks = {float(w): f"Week {w}" for w in (0, 1, 2, 3, 4, 12, 24, 48)}
    _write("sav", tmp_path, "visits", v, variable_value_labels={"VISIT": weeks})
    (tmp_path / "visits.dta").unlink()
    ae = _typed_copy("adverse_events")
    ae["serious"] = np.where(ae["serious"] == "true", 1.0, 0.0)
    _write("sav", tmp_path, "adverse_events", ae, variable_value_labels={"serious": {0.0: "No", 1.0: "Yes"}})
    (tmp_path / "dataset.yaml").write_text("columns:\n  VISIT: week\n")
    c = load(tmp_path)
    ref = load(default_data_dir())
    assert c.visits["week"].tolist() == ref.visits["week"].tolist()
    assert c.adverse_events["serious"].tolist() == ref.adverse_events["serious"].tolist()


def test_user_defined_missing_values_become_empty(tmp_path):
    df = pd.DataFrame({"patient_id": ["P1", "P2"], "age": [50.0, 999.0]})
    path = tmp_path / "patients.sav"
    pyreadstat.write_sav(df, path, missing_ranges={"age": [999.0]})
    grid, _ = read_stat_file(path)
    assert grid.values.tolist() == [["patient_id", "age"], ["P1", "50"], ["P2", ""]]


def test_two_files_for_one_table_are_refused(tmp_path):
    shutil.copytree(default_data_dir(), tmp_path / "d")
    _write("sav", tmp_path / "d", "visits", _typed_copy("visits"))
    problems = validate_folder(tmp_path / "d")
    assert any("ambiguous" in p.rule and "visits.csv and visits.sav" in p.file for p in problems)
    with pytest.raises(DataError, match="ambiguous"):
        find_table(tmp_path / "d", "visits")


def test_unreadable_statistical_file_is_one_problem(tmp_path):
    for suffix, what in ((".sav", "SPSS"), (".dta", "Stata"), (".sas7bdat", "SAS"), (".xpt", "SAS transport")):
        path = tmp_path / f"visits{suffix}"
        path.write_bytes(b"this is not a statistical file at all, just text\n" * 20)
        grid, problems = read_stat_file(path)
        assert grid is None and len(problems) == 1
        assert f"cannot be opened as an {what}" in problems[0].rule and problems[0].file == path.name
        path.unlink()


def test_sas7bdat_goes_through_pyreadstat_with_its_catalog(tmp_path, monkeypatch):
    """pyreadstat cannot write .sas7bdat; the reader's call is checked with a stand-in returning a frame."""
    calls = {}

    def fake(path, **kw):
        calls.update(kw, path=path)
        return pd.DataFrame({"patient_id": ["P1"], "age": [61.0]}), None

    monkeypatch.setattr(pyreadstat, "read_sas7bdat", fake)
    (tmp_path / "patients.sas7bdat").write_bytes(b"x")
    (tmp_path / "patients.sas7bcat").write_bytes(b"x")
    grid, problems = read_stat_file(tmp_path / "patients.sas7bdat")
    assert problems == [] and grid.values.tolist() == [["patient_id", "age"], ["P1", "61"]]
    assert calls["catalog_file"].endswith("patients.sas7bcat")
    assert {p.name for p in data_files(tmp_path)} == {"patients.sas7bdat", "patients.sas7bcat"}


def test_cell_text_round_trips_doubles():
    """Every double written as text reads back, through the loader's parser, as the same double."""
    from analysis.intake.dictionary import columns
    from analysis.intake.contract import parse_numeric

    rng = np.random.default_rng(0)
    rounded = [round(x, int(d)) for x, d in zip(rng.normal(0, 1e3, 2000), rng.integers(0, 6, 2000))]
    xs = np.concatenate([rounded, rng.normal(0, 1, 500)])  # the second half needs all 17 digits
    texts = pd.Series([cell_text(x) for x in xs], dtype=object)
    crp = next(c for c in columns("visits") if c.name == "crp_mg_l")
    back = parse_numeric(texts, crp)[0].to_numpy()
    assert np.array_equal(back, xs)
    assert cell_text(48.0) == "48" and cell_text(np.float32(0.5)) == "0.5"


def test_full_precision_doubles_survive_an_spss_file(tmp_path, csv_cohort):
    """A computed variable stored with all 17 digits loads as exactly the stored double."""
    for t in ("patients", "adverse_events"):
        _write("sav", tmp_path, t, _typed_copy(t))
    v = _typed_copy("visits")
    rng = np.random.default_rng(1)
    v["crp_mg_l"] = v["crp_mg_l"] + rng.uniform(0, 1, len(v)) / 3  # 1/3 needs every digit
    _write("sav", tmp_path, "visits", v)
    c = load(tmp_path)
    assert np.array_equal(c.visits["crp_mg_l"].to_numpy(), v["crp_mg_l"].to_numpy())


def test_spss_sex_labels_are_mapped_by_values_in_dataset_yaml(tmp_path):
    """SPSS sex coded 1/2 and labelled 'Female'/'male' reads as its labels, which the dictionary refuses with a hint
    naming values:; a values: block maps them (exactly, else ignoring case) and the cohort equals the CSV one."""
    for t in ("visits", "adverse_events"):
        _write("sav", tmp_path, t, _typed_copy(t))
    p = _typed_copy("patients")
    p["sex"] = np.where(p["sex"] == "F", 1.0, 2.0)
    _write("sav", tmp_path, "patients", p, variable_value_labels={"sex": {1.0: "Female", 2.0: "male"}})
    refused = validate_folder(tmp_path)
    assert any(p.column == "sex" and "values:" in p.rule for p in refused), [p.rule for p in refused]
    (tmp_path / "dataset.yaml").write_text("values:\n  sex: {female: F, Male: M}\n")
    c = load(tmp_path)
    assert c.patients["sex"].tolist() == load(default_data_dir()).patients["sex"].tolist()


@pytest.mark.parametrize("yaml_text,key", [
    ("values:\n  sex: {male: Male}\n", "values.sex.male"),  # not one of the dictionary's values
    ("values:\n  arm: {placebo: control}\n", "values.arm"),  # arms have their own block
    ("values:\n  age: {old: '70'}\n", "values.age"),  # not a category column
    ("values:\n  sex: M\n", "values.sex"),  # not a mapping
])
def test_a_wrong_values_block_is_one_problem_naming_its_key(tmp_path, yaml_text, key):
    import shutil

    data = shutil.copytree(default_data_dir(), tmp_path / "d")
    (data / "dataset.yaml").write_text(yaml_text)
    problems = validate_folder(data)
    assert len(problems) == 1 and problems[0].file == "dataset.yaml" and key in problems[0].rule, problems
