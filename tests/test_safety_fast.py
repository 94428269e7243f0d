"""The vectorised helpers of analysis.science.tables and analysis.chapters.safety.analysis against the plain
per-cell computations they replace.

:func:`tables.visit_wide` + :func:`tables.paired_change` must give what :func:`analysis.claims.rules.paired_changes`
gives (one pivot per column), :func:`tables.baseline_values` what :func:`analysis.claims.rules.values_at` gives, and
:func:`safety.lab_change_row` the numbers of :func:`analysis.science.stats.compare_paired` /
:func:`analysis.science.stats.compare_independent` and of scipy.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from analysis.claims import rules as claims
from analysis.chapters.safety import analysis as safety
from analysis.science import stats, tables


def _messy_visits(seed: int = 0) -> pd.DataFrame:
    """Two groups, four visits, shuffled rows, missing values, missing visits, a non-numeric entry."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(14):
        group = "Responder" if i % 2 else "Control"
        for week in (0, 4, 12, 48):
            if rng.random() < 0.15:
                continue  # visit not attended
            rows.append(dict(patient_id=f"p{i:02d}", group=group, week=week,
                             x=rng.normal(10, 2) if rng.random() > 0.1 else np.nan, y=rng.normal(size=1)[0]))
    v = pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    v["y"] = v["y"].astype(object)
    v.loc[3, "y"] = "n/a"  # becomes NaN, as pd.to_numeric(errors="coerce") makes it
    return v


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paired_change_equals_claims_paired_changes(seed):
    v = _messy_visits(seed)
    for group in (None, "Responder", "Control", "absent"):
        for before, after in ((0, 4), (0, 48), (4, 48), (12, 12), (0, 99)):
            wide = tables.visit_wide(v, ["x", "y"], weeks=[before, after], group=group)
            for col in ("x", "y"):
                expected = claims.paired_changes(v, col, before=before, after=after, group=group)
                got = tables.paired_change(wide, col, before=before, after=after)
                assert np.array_equal(got, expected), (group, before, after, col)
    # one table for every visit serves every pair of visits
    wide = tables.visit_wide(v, "x", group="Responder")
    assert np.array_equal(tables.paired_change(wide, "x", before=4, after=12),
                          claims.paired_changes(v, "x", before=4, after=12, group="Responder"))


def test_paired_change_by_hand_and_duplicate_rows_keep_the_first_value():
    v = pd.DataFrame({"patient_id": ["b", "a", "a", "b", "a"], "week": [0, 0, 4, 4, 4],
                      "x": [1.0, 2.0, np.nan, 5.0, 7.0]})
    # a: the week-4 NaN row is skipped, 7 − 2 = 5; b: 5 − 1 = 4 (patients in sorted order)
    assert tables.paired_change(tables.visit_wide(v, "x"), "x", after=4).tolist() == [5.0, 4.0]
    assert claims.paired_changes(v, "x", after=4).tolist() == [5.0, 4.0]


@pytest.mark.parametrize("seed", [0, 3])
def test_baseline_values_equal_claims_values_at(seed):
    v = _messy_visits(seed)
    for group in (None, "Responder", "absent"):
        for week in (0, 12):
            got = tables.baseline_values(v, ["x", "y"], week=week, group=group)
            for col in ("x", "y"):
                assert np.array_equal(got[col], claims.values_at(v, col, week=week, group=group))


def test_paired_and_student_t_match_scipy_on_a_hand_case():
    before, after = np.array([1.0, 2, 3, 4]), np.array([2.0, 4, 5, 5])
    # differences 1, 2, 2, 1: mean 1.5, SD 0.577, t = 1.5 / (0.577 / 2) = 5.196 on 3 df
    t, dof, p, note, (g, lo, hi) = safety._paired_t(before, after)
    ref = sps.ttest_rel(after, before)
    assert t == pytest.approx(ref.statistic, rel=1e-12) and p == pytest.approx(ref.pvalue, rel=1e-12)
    assert (dof, note) == (3.0, "") and (g, lo, hi) == stats.hedges_g_paired(before, after)
    t, dof, p, note, _ = safety._student_t(after, before)
    ref = sps.ttest_ind(after, before)
    assert t == pytest.approx(ref.statistic, rel=1e-12) and p == pytest.approx(ref.pvalue, rel=1e-12)
    assert dof == 6.0
    # untestable cells: NaN statistics and the notes of analysis.science.stats
    assert safety._paired_t(np.array([1.0]), np.array([2.0]))[3] == "fewer than 2 complete pairs (n=1): no test"
    assert safety._paired_t(before, before + 1)[3] == "all differences are equal: test undefined"
    assert np.isnan(safety._student_t(np.array([1.0, 1]), np.array([1.0, 1]))[2])
    assert safety._student_t(np.array([1.0, 1]), np.array([1.0, 1]))[3] == "no variance in either group: test undefined"


@pytest.mark.parametrize("seed", [0, 1, 2, 5])
@pytest.mark.parametrize("test", ["paired", "unpaired"])
def test_lab_change_row_equals_stats_compare(seed, test):
    v = _messy_visits(seed).query("group == 'Responder'")
    row = safety.lab_change_row(v, dv="x", test=test, after=48)
    sub = v.loc[v["week"].isin([0, 48]) & v["x"].notna()]
    if test == "paired":
        ref = stats.compare_paired(sub, dv="x", within="week", subject="patient_id", pair=(0, 48)).iloc[0]
        assert row["n"] == ref["n"]
    else:
        ref = stats.compare_independent(sub, dv="x", between="week", groups=(48, 0)).iloc[0]
        assert row["n"] == ref["n_a"] + ref["n_b"]
    for ours, theirs in (("t", "statistic"), ("dof", "dof"), ("p", "p"), ("hedges_g", "hedges_g"),
                         ("g_ci_low", "g_ci_low"), ("g_ci_high", "g_ci_high")):
        assert row[ours] == ref[theirs] or (np.isnan(row[ours]) and np.isnan(ref[theirs])), ours
    assert row["significant"] == ref["significant"] and row["note"] == ref["note"]


def test_lab_change_row_paired_refuses_two_rows_for_one_visit():
    v = pd.DataFrame({"patient_id": ["a", "a", "a", "b", "b"], "week": [0, 0, 48, 0, 48],
                      "y": [1.0, 2.0, 3.0, 4.0, 5.0]})
    with pytest.raises(ValueError, match="more than one row"):
        safety.lab_change_row(v, dv="y")


def test_adverse_event_summary_equals_per_cell_counts():
    pts = pd.DataFrame({"patient_id": ["a", "b", "c", "d"], "arm": ["MSCT", "MSCT", "control", "control"]})
    ae = pd.DataFrame({"patient_id": ["a", "a", "b", "c", "x", None, "d"],  # x: not randomised; None: unknown
                       "week": [0, 0, 4, 0, 0, 0, 12],
                       "event": ["Fever", "chills", "pneumonia", "fever", "fever", "fever", "GVHD of the skin"],
                       "serious": [False, False, True, pd.NA, False, False, True]})
    got = safety.adverse_event_summary(ae, pts).set_index(["measure", "arm"])
    full = safety._with_arm(ae, pts)
    masks = {"any adverse event": full["patient_id"].notna() | True,
             "serious adverse event": full["serious"],
             "fever/chills after infusion": (full["category"].eq("infusion reaction (fever/chills)")
                                             & full["week"].eq(0)),
             "GVHD": full["category"].eq("GVHD"), "infection": full["category"].eq("infection"),
             "serious infection": full["category"].eq("infection") & full["serious"]}
    for measure, mask in masks.items():
        for arm in ("MSCT", "control"):
            part = full.loc[mask.to_numpy(bool) & full["arm"].eq(arm).to_numpy(bool, na_value=False)]
            assert got.loc[(measure, arm), "n_events"] == len(part), (measure, arm)
            assert got.loc[(measure, arm), "n_patients"] == part["patient_id"].nunique(), (measure, arm)
    # by hand: fever/chills after infusion in MSCT: patient a, 2 events; serious infection: b in MSCT
    assert got.loc[("fever/chills after infusion", "MSCT")].tolist() == [1, 2]
    assert got.loc[("serious infection", "MSCT")].tolist() == [1, 1]
    assert got.loc[("GVHD", "control")].tolist() == [1, 1]


def test_poisson_exact_ci_is_scipys_chi2_ppf_bit_for_bit():
    from analysis.science.methods import rates

    for k in range(0, 80):
        for confidence in (0.8, 0.9, 0.95, 0.99):
            a = 1 - confidence
            low, high = rates.poisson_exact_ci(k, 7.25, confidence)
            assert high == float(sps.chi2.ppf(1 - a / 2, 2 * k + 2)) / (2 * 7.25)
            assert low == (0.0 if k == 0 else float(sps.chi2.ppf(a / 2, 2 * k)) / (2 * 7.25))
