"""Tests for analysis.science.derive on a hand-built cohort (DAS28 values worked by hand in comments)."""
import math
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.science.derive import Derived, apply_limits, derive, write_derived

E = math.e
# Component sets with hand-worked DAS28-ESR = 0.56*sqrt(T) + 0.28*sqrt(S) + 0.70*ln(ESR) + 0.014*GH
BASE = dict(tjc28=16, sjc28=4, esr_mm_h=E**2, patient_global_mm=50)  # 2.24 + 0.56 + 1.40 + 0.70 = 4.90
LOW = dict(tjc28=4, sjc28=1, esr_mm_h=E, patient_global_mm=50)  # 1.12 + 0.28 + 0.70 + 0.70 = 2.80
SAME = dict(tjc28=16, sjc28=4, esr_mm_h=E**2, patient_global_mm=40)  # 4.90 - 0.14 = 4.76


def _visit(pid, week, comp, **extra):
    row = {"patient_id": pid, "week": week, "crp_mg_l": E - 1, "treg_pct": 4.0, "th17_pct": 2.0}
    row.update(comp)
    row.update(extra)
    return row


@pytest.fixture
def cohort():
    patients = pd.DataFrame(
        {
            "patient_id": ["a", "b", "c", "d"],
            "arm": ["MSCT", "MSCT", "MSCT", "control"],
            "age": [50, 51, 52, 53],
            "sex": ["F", "F", "M", "F"],
            "weight_kg": [60.0, 61.0, 62.0, 63.0],
            "disease_duration_years": [5.0, 6.0, 7.0, 8.0],
        }
    )
    rows = [
        _visit("a", 0, BASE), _visit("a", 12, LOW, th17_pct=0.0), _visit("a", 48, LOW),
        _visit("b", 0, BASE), _visit("b", 12, SAME), _visit("b", 48, SAME),
        _visit("c", 0, BASE), _visit("c", 4, BASE),  # no week 12 -> Unclassified, lost
        _visit("d", 48, LOW), _visit("d", 0, BASE), _visit("d", 12, LOW),  # unsorted on purpose
    ]
    visits = pd.DataFrame(rows)
    visits["il_6"] = [np.nan, 3.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    visits["il_6_flag"] = pd.Series(["<LLOQ"] + [None] * 10, dtype=object)
    visits["anti_ccp_u_ml"] = [np.nan] + [50.0] * 10
    visits["anti_ccp_u_ml_flag"] = pd.Series([">ULOQ"] + [None] * 10, dtype=object)
    return SimpleNamespace(patients=patients, visits=visits, adverse_events=None, meta={})


def test_groups_eular_and_das28(cohort):
    d = derive(cohort)
    p = d.patients.set_index("patient_id")
    # a: 4.90 -> 2.80, improvement 2.10 > 1.2 and current <= 3.2 -> good
    assert p.loc["a", "eular"] == "good" and p.loc["a", "group"] == "Responder"
    assert p.loc["a", "das28_baseline"] == pytest.approx(4.90)
    assert p.loc["a", "das28_response_week"] == pytest.approx(2.80)
    # b: 4.90 -> 4.76, improvement 0.14 -> none
    assert p.loc["b", "eular"] == "none" and p.loc["b", "group"] == "Non-responder"
    # c: no week 12 -> Unclassified, EULAR missing
    assert p.loc["c", "group"] == "Unclassified" and p.loc["c", "eular"] is None
    # d: control arm: eular still computed, group Control
    assert p.loc["d", "group"] == "Control" and p.loc["d", "eular"] == "good"
    assert list(d.patients.columns[:6]) == ["patient_id", "arm", "age", "sex", "weight_kg", "disease_duration_years"]


def test_follow_up(cohort):
    p = derive(cohort).patients.set_index("patient_id")
    assert p["last_week"].tolist() == [48, 48, 4, 48]
    assert p["lost_to_follow_up"].tolist() == [False, False, True, False]
    p = derive(cohort, final_week=12).patients.set_index("patient_id")
    assert p["lost_to_follow_up"].tolist() == [False, False, True, False]


def test_visits_change_ratio_group(cohort):
    v = derive(cohort).visits
    assert v[["patient_id", "week"]].values.tolist()[-3:] == [["d", 0], ["d", 12], ["d", 48]]  # sorted
    a12 = v[(v.patient_id == "a") & (v.week == 12)].iloc[0]
    assert a12["das28_change"] == pytest.approx(2.80 - 4.90)
    assert np.isnan(a12["treg_th17_ratio"]) and a12["ratio_undefined"]  # th17 == 0 rule
    a0 = v[(v.patient_id == "a") & (v.week == 0)].iloc[0]
    assert a0["treg_th17_ratio"] == pytest.approx(2.0) and not a0["ratio_undefined"]  # 4 / 2
    assert a0["das28_change"] == 0
    assert set(v["group"]) == {"Responder", "Non-responder", "Unclassified", "Control"}
    assert (v.loc[v.patient_id == "d", "arm"] == "control").all()


def test_crp_variant(cohort):
    v = derive(cohort, das28_variant="crp").visits
    a0 = v[(v.patient_id == "a") & (v.week == 0)].iloc[0]
    # 0.56*4 + 0.28*2 + 0.36*ln(e) + 0.014*50 + 0.96 = 2.24 + 0.56 + 0.36 + 0.70 + 0.96 = 4.82
    assert a0["das28"] == pytest.approx(4.82)


@pytest.mark.parametrize("rule, expected", [("half", 0.25), ("lloq", 0.5), ("exclude", np.nan)])
def test_apply_limits_rules(cohort, rule, expected):
    out = apply_limits(cohort.visits, lloq_rule=rule)
    # il_6 LLOQ is 0.5 pg/mL in the data dictionary; anti-CCP ULOQ is 200
    if np.isnan(expected):
        assert np.isnan(out["il_6"].iloc[0])
    else:
        assert out["il_6"].iloc[0] == expected
    assert out["anti_ccp_u_ml"].iloc[0] == 200.0
    assert out["il_6"].iloc[1] == 3.0


def test_apply_limits_raw_tokens_and_string_flags():
    raw = pd.DataFrame({"ifn_g": ["<LLOQ", "2.5", ">ULOQ"], "anti_ccp_u_ml": [">ULOQ", "10", "12.5"]})
    out = apply_limits(raw)
    assert out["ifn_g"].iloc[:2].tolist() == [0.25, 2.5]
    assert np.isnan(out["ifn_g"].iloc[2])  # IFN-γ has no ULOQ: value stays missing, flag kept
    assert out["ifn_g_flag"].tolist()[0] == "<LLOQ"
    assert out["anti_ccp_u_ml"].tolist() == [200.0, 10.0, 12.5]
    typed = pd.DataFrame({"il_6": [np.nan, 1.0], "il_6_flag": pd.Series(["<LLOQ", pd.NA], dtype="string")})
    assert apply_limits(typed, lloq_rule="lloq")["il_6"].tolist() == [0.5, 1.0]


def test_inputs_not_mutated(cohort):
    before_v, before_p = cohort.visits.copy(), cohort.patients.copy()
    derive(cohort)
    pd.testing.assert_frame_equal(cohort.visits, before_v)
    pd.testing.assert_frame_equal(cohort.patients, before_p)


@pytest.mark.parametrize(
    "kwargs, exc, word",
    [
        ({"das28_variant": "crp2"}, ValueError, "`das28_variant`"),
        ({"lloq_rule": "zero"}, ValueError, "`lloq_rule`"),
        ({"response_week": "12"}, TypeError, "`response_week`"),
    ],
)
def test_bad_arguments(cohort, kwargs, exc, word):
    with pytest.raises(exc, match=word):
        derive(cohort, **kwargs)


def test_params_recorded(cohort):
    d = derive(cohort, lloq_rule="lloq", response_week=4)
    assert d.params == {"das28_variant": "esr", "lloq_rule": "lloq", "response_week": 4, "final_week": 48}
    assert d.patients.set_index("patient_id").loc["a", "group"] == "Unclassified"  # a has no week-4 visit


def test_write_derived(cohort, tmp_path):
    d = derive(cohort)
    paths = write_derived(d, tmp_path / "new")
    assert [p.name for p in paths] == ["patients.csv", "visits.csv"]
    back = pd.read_csv(paths[0])
    assert back["group"].tolist() == d.patients["group"].tolist()
    assert b"\r\n" not in Path(paths[1]).read_bytes()
    with pytest.raises(TypeError, match="`derived`"):
        write_derived({"patients": 1}, tmp_path)


def test_scales_vectorised():
    # 10,500 patients x 8 visits: must be seconds, not minutes (no per-patient loops).
    n, weeks = 10_500, [0, 1, 2, 3, 4, 12, 24, 48]
    rng = np.random.default_rng(1)
    ids = np.array([f"P{i:05d}" for i in range(n)], dtype=object)
    patients = pd.DataFrame({"patient_id": ids, "arm": np.where(np.arange(n) % 2, "MSCT", "control"),
                             "age": 50, "sex": "F", "weight_kg": 60.0, "disease_duration_years": 5.0})
    m = n * len(weeks)
    visits = pd.DataFrame({"patient_id": np.repeat(ids, len(weeks)), "week": np.tile(weeks, n),
                           "tjc28": rng.integers(0, 29, m), "sjc28": rng.integers(0, 29, m),
                           "esr_mm_h": rng.uniform(1, 100, m), "crp_mg_l": rng.uniform(0, 50, m),
                           "patient_global_mm": rng.uniform(0, 100, m), "treg_pct": 4.0, "th17_pct": 2.0,
                           "il_6": rng.uniform(0, 5, m), "il_6_flag": None})
    t = time.perf_counter()
    d = derive(SimpleNamespace(patients=patients, visits=visits, adverse_events=None, meta={}))
    assert time.perf_counter() - t < 20
    assert len(d.patients) == n and len(d.visits) == m
    assert d.patients["group"].isin(["Responder", "Non-responder", "Control"]).all()
