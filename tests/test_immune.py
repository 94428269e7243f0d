"""Tests for analysis.chapters.immune.analysis: ratio rule (th17 == 0), censoring rule, tests and contrasts.

Expected values are worked by hand in the comments or come from an independent formula
(scipy directly), never from the paper.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from analysis.chapters.immune import analysis as immune
from analysis.science.derive import derive


# ----------------------------------------------------------------------------- fixtures
def _visits_ratio():
    # a: 4/2 = 2 at week 0; 6/0 -> undefined at week 12
    # b: 3/1 = 3 at week 0; 3/3 = 1 at week 12
    # c: Treg missing at week 0 -> NaN but not "undefined"; 0/2 = 0 at week 12 (a zero ratio is fine)
    return pd.DataFrame({
        "patient_id": ["a", "a", "b", "b", "c", "c"],
        "week": [0, 12, 0, 12, 0, 12],
        "group": ["Responder"] * 6,
        "treg_pct": [4.0, 6.0, 3.0, 3.0, np.nan, 0.0],
        "th17_pct": [2.0, 0.0, 1.0, 3.0, 2.0, 2.0],
    })


def _visits_ccp():
    # Four responders, anti-CCP at weeks 0 and 12; patient a is above the cap at week 0.
    return pd.DataFrame({
        "patient_id": list("abcd") * 2,
        "week": [0] * 4 + [12] * 4,
        "group": ["Responder"] * 8,
        "anti_ccp_u_ml": [np.nan, 50.0, 60.0, 70.0, 150.0, 40.0, 56.0, 61.0],
        "anti_ccp_u_ml_flag": [">ULOQ", None, None, None, None, None, None, None],
    })


# ----------------------------------------------------------------------------- ratio
def test_ratio_zero_th17_is_nan_and_flagged_never_inf():
    r = immune.ratio_per_patient(_visits_ratio())
    assert r["treg_th17_ratio"].iloc[0] == 2.0
    assert np.isnan(r["treg_th17_ratio"].iloc[1]) and bool(r["ratio_undefined"].iloc[1])
    # missing Treg: NaN, but not "undefined"
    assert np.isnan(r["treg_th17_ratio"].iloc[4]) and not bool(r["ratio_undefined"].iloc[4])
    # a zero numerator is a valid ratio of 0
    assert r["treg_th17_ratio"].iloc[5] == 0.0 and not bool(r["ratio_undefined"].iloc[5])
    assert not np.isinf(r["treg_th17_ratio"].to_numpy(float)).any()


def test_ratio_does_not_mutate_input():
    v = _visits_ratio()
    before = v.copy()
    immune.ratio_per_patient(v)
    pd.testing.assert_frame_equal(v, before)


def test_ratio_summary_mean_of_ratios_vs_ratio_of_means_and_no_inf():
    s = immune.ratio_summary(_visits_ratio(), groups=["Responder"]).set_index("week")
    # week 0: defined ratios a = 2, b = 3 (c has no Treg) -> mean 2.5;
    # ratio of means over the same patients: mean Treg (4+3)/2 = 3.5 / mean Th17 (2+1)/2 = 1.5 = 2.333...
    assert s.loc[0, "n"] == 2 and s.loc[0, "n_undefined"] == 0
    assert s.loc[0, "mean_ratio"] == pytest.approx(2.5)
    assert s.loc[0, "ratio_of_means"] == pytest.approx(3.5 / 1.5)
    assert s.loc[0, "difference"] == pytest.approx(3.5 / 1.5 - 2.5)
    # week 12: a undefined (Th17 = 0) and counted; b = 1, c = 0 -> mean 0.5; ratio of means (3+0)/(3+2) = 0.6
    assert s.loc[12, "n"] == 2 and s.loc[12, "n_undefined"] == 1
    assert s.loc[12, "mean_ratio"] == pytest.approx(0.5)
    assert s.loc[12, "ratio_of_means"] == pytest.approx(0.6)
    numeric = s.select_dtypes("number").to_numpy(float)
    assert not np.isinf(numeric).any()


def test_ratio_summary_group_all_undefined_gives_nan_not_inf():
    v = pd.DataFrame({"patient_id": ["a", "b"], "week": [0, 0], "group": ["Control"] * 2,
                      "treg_pct": [3.0, 4.0], "th17_pct": [0.0, 0.0]})
    s = immune.ratio_summary(v, groups=["Control"])
    assert s["n"].item() == 0 and s["n_undefined"].item() == 2
    assert np.isnan(s["mean_ratio"].item()) and np.isnan(s["ratio_of_means"].item())


def test_ratio_of_means_hand_example():
    v = pd.DataFrame({"treg_pct": [4.0, 2.0, np.nan], "th17_pct": [1.0, 2.0, 5.0]})
    # third row lacks Treg so it is dropped from both means: (4+2)/2 / ((1+2)/2) = 2
    assert immune.ratio_of_means(v) == pytest.approx(2.0)
    assert np.isnan(immune.ratio_of_means(pd.DataFrame({"treg_pct": [1.0], "th17_pct": [0.0]})))


def test_ratio_matches_derive_including_zero_th17():
    p = pd.DataFrame({"patient_id": ["a", "b"], "arm": ["MSCT", "control"], "age": [50, 60],
                      "sex": ["F", "M"], "weight_kg": [60.0, 70.0], "disease_duration_years": [5.0, 3.0]})
    v = pd.DataFrame({"patient_id": ["a", "a", "b", "b"], "week": [0, 12, 0, 12],
                      "tjc28": [9, 1, 9, 9], "sjc28": [4, 0, 4, 4], "esr_mm_h": [40.0, 10, 40, 40],
                      "patient_global_mm": [70.0, 20, 70, 70], "treg_pct": [4.0, 6, 4, 4],
                      "th17_pct": [2.0, 1, 0, 2]})
    d = derive(SimpleNamespace(patients=p, visits=v, adverse_events=None, meta={}))
    assert immune.ratio_matches_derived(d.visits)
    broken = d.visits.assign(treg_th17_ratio=d.visits["treg_th17_ratio"].fillna(np.inf))
    assert not immune.ratio_matches_derived(broken)


# ----------------------------------------------------------------------------- censoring
def test_uloq_from_dictionary_and_unknown_column():
    assert immune.uloq_of("anti_ccp_u_ml") == 200.0
    with pytest.raises(ValueError, match="`column`"):
        immune.uloq_of("rf_iu_ml")


def test_apply_uloq_rule_cap_and_exclude():
    v = _visits_ccp()
    cap = immune.apply_uloq_rule(v, rule="cap")
    exc = immune.apply_uloq_rule(v, rule="exclude")
    assert cap["anti_ccp_u_ml"].iloc[0] == 200.0
    assert np.isnan(exc["anti_ccp_u_ml"].iloc[0])
    assert cap["anti_ccp_u_ml_censored"].tolist() == [True] + [False] * 7
    # uncensored values untouched; input not mutated
    assert cap["anti_ccp_u_ml"].iloc[1:].tolist() == v["anti_ccp_u_ml"].iloc[1:].tolist()
    assert np.isnan(v["anti_ccp_u_ml"].iloc[0])
    with pytest.raises(ValueError, match="`rule`"):
        immune.apply_uloq_rule(v, rule="half")


def test_apply_uloq_rule_without_flag_column_censors_nothing():
    v = pd.DataFrame({"anti_ccp_u_ml": [200.0, 10.0]})
    out = immune.apply_uloq_rule(v, rule="exclude")
    assert out["anti_ccp_u_ml"].tolist() == [200.0, 10.0]
    assert not out["anti_ccp_u_ml_censored"].any()


def test_censoring_counts_hand_example():
    v = _visits_ccp()
    c = immune.censoring_counts(v, groups=["Responder"]).set_index("week")
    assert c.loc[0, "n_measured"] == 4 and c.loc[0, "n_censored"] == 1
    assert c.loc[0, "pct_censored"] == pytest.approx(25.0)
    assert c.loc[12, "n_censored"] == 0


def test_paired_change_cap_vs_exclude_against_scipy():
    v = _visits_ccp()
    cap = immune.paired_change(immune.apply_uloq_rule(v, rule="cap"), dv="anti_ccp_u_ml",
                               groups=["Responder"]).set_index("test")
    exc = immune.paired_change(immune.apply_uloq_rule(v, rule="exclude"), dv="anti_ccp_u_ml",
                               groups=["Responder"]).set_index("test")
    before_cap, after = np.array([200.0, 50, 60, 70]), np.array([150.0, 40, 56, 61])
    diff = after - before_cap  # -50, -10, -4, -9 -> mean -18.25
    assert cap.loc["t", "n"] == 4 and cap.loc["t", "mean_diff"] == pytest.approx(-18.25)
    assert cap.loc["t", "p"] == pytest.approx(sps.ttest_rel(after, before_cap).pvalue)
    assert cap.loc["wilcoxon", "p"] == pytest.approx(sps.wilcoxon(after, before_cap).pvalue)
    # 95% CI of the mean change: mean ± t(0.975, 3) * sd / sqrt(4)
    half = sps.t.ppf(0.975, 3) * diff.std(ddof=1) / 2
    assert cap.loc["t", "diff_ci_low"] == pytest.approx(diff.mean() - half)
    assert cap.loc["t", "diff_ci_high"] == pytest.approx(diff.mean() + half)
    # exclude drops patient a: diffs -10, -4, -9 -> mean -23/3
    assert exc.loc["t", "n"] == 3 and exc.loc["t", "mean_diff"] == pytest.approx(-23 / 3)


def test_uloq_sensitivity_reports_both_rules():
    s = immune.uloq_sensitivity(_visits_ccp(), groups=["Responder"]).set_index("test")
    assert s.loc["t", "n_cap"] == 4 and s.loc["t", "n_exclude"] == 3
    assert bool(s.loc["t", "same_direction"])  # both negative
    assert s["conclusion_changes"].dtype == bool


# ----------------------------------------------------------------------------- groups and visits
def _three_groups():
    # week 12: R = 6, 7, 8 (mean 7); NR = 2, 3, 4 (3); C = 1, 2, 3 (2)
    return pd.DataFrame({
        "patient_id": [f"p{i}" for i in range(9)],
        "week": [12] * 9,
        "group": ["Responder"] * 3 + ["Non-responder"] * 3 + ["Control"] * 3,
        "y": [6.0, 7, 8, 2, 3, 4, 1, 2, 3],
    })


def test_anova_per_visit_matches_scipy_f_oneway():
    v = _three_groups()
    aov, post = immune.anova_per_visit(v, dv="y")
    f = sps.f_oneway([6, 7, 8], [2, 3, 4], [1, 2, 3])
    assert aov["F"].item() == pytest.approx(f.statistic)
    assert aov["p"].item() == pytest.approx(f.pvalue)
    # Bonferroni: p_unc of R vs C (Student t) times 3 pairs, capped at 1
    row = post.loc[(post["a"] == "Control") & (post["b"] == "Responder")]
    p_unc = sps.ttest_ind([1, 2, 3], [6, 7, 8]).pvalue
    assert row["p_bonf"].item() == pytest.approx(min(1.0, 3 * p_unc))


def test_responder_contrast_and_weakest():
    c = immune.responder_contrast(_three_groups(), dv="y", week=12)
    assert c["diff"].tolist() == [4.0, 5.0]
    est, p = immune.weakest_contrast(c, direction="increase")
    assert est == 4.0 and p == pytest.approx(c["p_bonf"].max())
    est, _ = immune.weakest_contrast(c, direction="decrease")
    assert est == 5.0
    with pytest.raises(ValueError, match="`direction`"):
        immune.weakest_contrast(c, direction="up")


def test_responder_contrast_without_responders_is_nan():
    v = _three_groups().query("group != 'Responder'")
    c = immune.responder_contrast(v, dv="y", week=12)
    assert c["diff"].isna().all()
    assert np.isnan(immune.weakest_contrast(c, direction="increase")[0])


def test_change_from_baseline_bonferroni_over_visits():
    v = pd.DataFrame({"patient_id": list("abc") * 3, "week": [0] * 3 + [4] * 3 + [12] * 3,
                      "group": ["Responder"] * 9, "y": [1.0, 2, 3, 2, 3, 5, 3, 5, 6]})
    out = immune.change_from_baseline(v, dv="y").set_index("week")
    p4 = sps.ttest_rel([2, 3, 5], [1, 2, 3]).pvalue
    assert out.loc[4, "p"] == pytest.approx(p4)
    assert out.loc[4, "p_bonf"] == pytest.approx(min(1.0, 2 * p4))


def test_group_visit_summary_sem():
    v = pd.DataFrame({"group": ["Responder"] * 3, "week": [0] * 3, "y": [1.0, 2.0, 6.0]})
    s = immune.group_visit_summary(v, dv="y", groups=["Responder"])
    assert s["sem"].item() == pytest.approx(np.std([1, 2, 6], ddof=1) / np.sqrt(3))


def test_baseline_ratio_check_single_patient_does_not_crash():
    v = pd.DataFrame({"patient_id": ["a", "a"], "week": [0, 12], "group": ["Responder"] * 2,
                      "treg_pct": [3.0, 6.0], "th17_pct": [2.0, 2.0]})
    out = immune.baseline_ratio_check(v)
    assert not out["holds"].item()
    assert out["note"].item() != ""


def test_repeated_measures_degenerate_gives_note():
    v = pd.DataFrame({"patient_id": ["a", "a"], "week": [0, 12], "group": ["Responder"] * 2, "y": [1.0, 2.0]})
    out = immune.repeated_measures(v, dv="y")
    assert out["note"].str.contains("not estimable").all()


def test_argument_errors_name_the_argument():
    with pytest.raises(TypeError, match="`visits`"):
        immune.ratio_per_patient([1, 2])
    with pytest.raises(ValueError, match="`visits` lacks"):
        immune.ratio_per_patient(pd.DataFrame({"patient_id": [1]}))
    with pytest.raises(ValueError, match="`alpha`"):
        immune.paired_change(_visits_ccp(), dv="anti_ccp_u_ml", alpha=2)


# ------------------------------------------------------------------------------------------ rules that can fail
def _immune_judged(ccp_change, rf_change):
    """Eight responders at weeks 0 and 12 with anti-CCP and RF changing by ``change`` ± 1 (alternating)."""
    from analysis.chapters.immune.verdicts import judge_claims
    from analysis.claims.log import ClaimLog
    from analysis.science.derive import Derived

    rows = []
    for i in range(8):
        wobble = 1.0 if i % 2 else -1.0
        rows.append((f"p{i}", 0, "Responder", 100.0 + i, 50.0 + i, 0.5))
        rows.append((f"p{i}", 12, "Responder", 100.0 + i + ccp_change + wobble, 50.0 + i + rf_change + wobble, 0.6))
    v = pd.DataFrame(rows, columns=["patient_id", "week", "group", "anti_ccp_u_ml", "rf_iu_ml", "treg_th17_ratio"])
    patients = pd.DataFrame({"patient_id": [f"p{i}" for i in range(8)], "group": "Responder"})
    log = ClaimLog("immune")
    judge_claims(log, Derived(patients=patients, visits=v))
    return log.table().set_index("claim_id")


def test_a_decrease_the_paper_calls_not_significant_is_not_forced_into_a_rule():
    # by hand: changes −10 ± 1 (SD 1.07, n 8): the 95 % CI is about −10.9 to −9.1, below 0
    t = _immune_judged(-10.0, -10.0)
    for cid in ("immune.anticcp_decrease_responders", "immune.rf_decrease_responders"):
        assert t.loc[cid, "verdict"] == "not testable with these data"
        assert t.loc[cid, "rule"].startswith("not testable as stated, with any data: a decrease the paper itself calls")
        assert "shown, not judged" in t.loc[cid, "reproduced"]
    # the profile claim stays judgeable, and can fail: both decrease -> reproduced; RF rising by 10 -> not reproduced
    assert t.loc["immune.autoantibody_profile_improved", "verdict"] == "reproduced"
    assert _immune_judged(-10.0, 10.0).loc["immune.autoantibody_profile_improved", "verdict"] == "not reproduced"
    assert _immune_judged(-10.0, 0.0).loc["immune.autoantibody_profile_improved", "verdict"] == "inconclusive"
