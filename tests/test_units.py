"""The unit table: every conversion checked against a value worked by hand, plus the refusal and the hint."""
from __future__ import annotations

import math

import pytest

from analysis.intake import units
from analysis.intake.dictionary import columns

# (column, recorded unit, value, expected in the dictionary's unit, how it was worked by hand)
HAND = [
    ("crp_mg_l", "mg/dL", 1.2, 12.0, "1.2 mg/dL = 1.2 mg per 0.1 L = 12 mg/L"),
    ("hemoglobin_g_l", "g/dL", 13.5, 135.0, "13.5 g per 0.1 L = 135 g/L"),
    ("albumin_g_l", "g/dL", 4.1, 41.0, "4.1 g/dL x 10"),
    ("total_protein_g_l", "g/dL", 7.2, 72.0, "7.2 g/dL x 10"),
    ("globulin_g_l", "g/dL", 3.0, 30.0, "3.0 g/dL x 10"),
    ("creatinine_umol_l", "mg/dL", 1.0, 88.40, "10 mg/L / 113.12 mg/mmol = 0.08840 mmol/L = 88.40 µmol/L"),
    ("glucose_mmol_l", "mg/dL", 90.0, 4.996, "900 mg/L / 180.16 mg/mmol = 4.996 mmol/L"),
    ("cholesterol_mmol_l", "mg/dL", 200.0, 5.173, "2000 mg/L / 386.65 mg/mmol = 5.173 mmol/L"),
    ("triglyceride_mmol_l", "mg/dL", 150.0, 1.694, "1500 mg/L / 885.7 mg/mmol = 1.694 mmol/L"),
    ("urea_mmol_l", "mg/dL urea", 30.0, 4.995, "300 mg/L / 60.06 mg/mmol = 4.995 mmol/L"),
    ("urea_mmol_l", "mg/dL BUN", 14.0, 4.998, "140 mg N/L / 28.014 mg N per mmol urea = 4.998 mmol/L"),
    ("platelets_10e9_l", "/µL", 250_000, 250.0, "250,000 per µL = 2.5e11 per L = 250 x 10^9/L"),
    ("wbc_10e9_l", "/µL", 6_500, 6.5, "6,500 per µL = 6.5e9 per L"),
    ("platelets_10e9_l", "10^3/µL", 250, 250.0, "10^3/µL = 10^9/L"),
    ("wbc_10e9_l", "10^3/µL", 6.5, 6.5, "10^3/µL = 10^9/L"),
]


@pytest.mark.parametrize("column, unit, value, expected, how", HAND, ids=[f"{c}-{u}" for c, u, *_ in HAND])
def test_each_conversion_matches_the_hand_calculation(column, unit, value, expected, how):
    (got,) = units.convert([value], column, unit)
    assert got == pytest.approx(expected, abs=5e-4 * max(1.0, expected)), how


def test_every_conversion_has_a_hand_check_and_a_dictionary_column():
    checked = {(c, u) for c, u, *_ in HAND}
    assert {(c.column, c.unit) for c in units.CONVERSIONS} == checked
    names = {c.name: c.unit for c in columns("visits")}
    for c in units.CONVERSIONS:
        assert names[c.column] == units.dictionary_unit(c.column), c.column


def test_the_dictionary_unit_converts_by_one_and_spellings_are_forgiven():
    assert units.factor("crp_mg_l", "mg/L") == 1.0
    assert units.factor("crp_mg_l", " MG/DL ") == 10.0
    assert units.factor("creatinine_umol_l", "umol/L") == 1.0
    assert units.factor("creatinine_umol_l", "μmol/L") == 1.0  # Greek mu, not the micro sign
    assert units.factor("wbc_10e9_l", "cells/mm3") == 1e-3
    assert units.factor("urea_mmol_l", "BUN mg/dL") == units.factor("urea_mmol_l", "mg/dL BUN")


def test_back_and_forth_is_the_identity():
    for c in units.CONVERSIONS:
        x = 123.456
        (y,) = units.convert([x], c.column, c.unit)
        assert math.isclose(y / c.factor, x, rel_tol=1e-11)


def test_unknown_unit_is_refused_with_the_known_ones():
    with pytest.raises(units.UnitError, match=r"unknown unit 'mmol/L' for crp_mg_l; known units: 'mg/L', 'mg/dL'"):
        units.factor("crp_mg_l", "mmol/L")
    with pytest.raises(units.UnitError, match="ambiguous for urea"):
        units.factor("urea_mmol_l", "mg/dL")
    with pytest.raises(units.UnitError, match="no unit conversions are known for tjc28"):
        units.factor("tjc28", "joints")
    assert units.known_units("tjc28") == ()


def test_rounding_removes_binary_noise_only():
    assert 0.14 * 10 != 1.4  # what floating point gives: 1.4000000000000001
    assert units.convert([0.14], "crp_mg_l", "mg/dL") == [1.4]
    assert math.isnan(units.convert([float("nan")], "crp_mg_l", "mg/dL")[0])


def test_unit_hint_rule():
    # CRP with a median of 1.5: implausible as mg/L (below 3), plausible as mg/dL (15 mg/L) -> warn
    crp_mg_dl = [0.4, 1.2, 2.5, 0.8, 1.9, 1.5, 3.1, 1.1, 0.9, 1.6, 2.2]
    assert "look like mg/dL" in units.unit_hint("crp_mg_l", crp_mg_dl)
    assert units.unit_hint("crp_mg_l", [x * 10 for x in crp_mg_dl]) is None  # the same values in mg/L
    assert units.unit_hint("crp_mg_l", crp_mg_dl[:9]) is None  # too few values to judge
    assert units.unit_hint("crp_mg_l", [0.01] * 20) is None  # implausible either way: no guess
    assert "10^3/µL" not in (units.unit_hint("platelets_10e9_l", [250_000.0] * 20) or "")
    assert "/µL" in units.unit_hint("platelets_10e9_l", [250_000.0] * 20)
    assert units.unit_hint("tjc28", [1.0] * 20) is None


def test_conversions_table():
    t = units.conversions_table()
    assert list(t.columns) == ["column", "dictionary_unit", "recorded_in", "factor", "because"]
    assert len(t) == len(units.CONVERSIONS)
