"""Tests for analysis.chapters.audit (analysis and verdicts) against hand calculations and independent scipy computations."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from analysis.chapters.audit import analysis as A
from analysis.chapters.audit import verdicts as V


def _t1(**over):
    row = {"measure": "X", "column": "x", "group": "Responder", "n": 10, "before_mean": 0.0, "before_pm": 1.0,
           "after_mean": 1.0, "after_pm": 1.0, "after_flag_significant": True}
    row.update(over)
    return pd.DataFrame([row])


def test_table1_tests_student_hand():
    out = A.table1_tests(_t1(), correlations=(0.0, 0.5))
    sd = out[(out.reading == "SD") & (out.test == "Student")].iloc[0]
    # by hand: pooled SD 1, SE = sqrt(2/10), t = 1/0.4472 = 2.236, df = 18
    assert sd["t"] == pytest.approx(1 / math.sqrt(0.2))
    assert sd["df"] == 18
    assert sd["p"] == pytest.approx(2 * sps.t.sf(1 / math.sqrt(0.2), 18))
    # paired, r = 0.5, sd1 = sd2 = 1: SD_diff = 1, t = 1 / (1/sqrt(10)) = sqrt(10), df = 9
    paired = out[(out.reading == "SD") & (out.test == "paired") & (out.r == 0.5)].iloc[0]
    assert paired["t"] == pytest.approx(math.sqrt(10))
    assert paired["df"] == 9
    assert set(out.columns) >= {"measure", "group", "reading", "test", "r", "t", "df", "p", "significant",
                                "paper_marks_significant", "agrees"}
    assert len(out) == 2 * (2 + 2)


def test_sem_reading_equals_sd_reading_of_scaled_values():
    # "± = SEM" with SEM = 1/sqrt(10) must give the same test as "± = SD" with SD = 1
    sem = A.table1_tests(_t1(before_pm=1 / math.sqrt(10), after_pm=1 / math.sqrt(10)), correlations=(0.5,))
    sd = A.table1_tests(_t1(), correlations=(0.5,))
    a = sem[sem.reading == "SEM"].reset_index(drop=True)
    b = sd[sd.reading == "SD"].reset_index(drop=True)
    np.testing.assert_allclose(a["t"], b["t"])
    np.testing.assert_allclose(a["p"], b["p"])


def test_paired_matches_scipy_on_raw_data():
    # independent check: the formula with the sample's own correlation equals scipy's ttest_rel
    rng = np.random.default_rng(1)
    before = rng.normal(50, 10, 15)
    after = before * 0.7 + rng.normal(5, 6, 15)
    r = float(np.corrcoef(before, after)[0, 1])
    t1 = _t1(n=15, before_mean=before.mean(), before_pm=before.std(ddof=1), after_mean=after.mean(),
             after_pm=after.std(ddof=1))
    out = A.table1_tests(t1, correlations=(r,))
    row = out[(out.reading == "SD") & (out.test == "paired")].iloc[0]
    ref = sps.ttest_rel(after, before)
    assert row["t"] == pytest.approx(ref.statistic)
    assert row["p"] == pytest.approx(ref.pvalue)
    welch = out[(out.reading == "SD") & (out.test == "Welch")].iloc[0]
    ref_w = sps.ttest_ind(after, before, equal_var=False)
    assert welch["p"] == pytest.approx(ref_w.pvalue)
    assert welch["df"] == pytest.approx(ref_w.df)


def test_agreement_and_boundary_alpha():
    # a row whose p is exactly the threshold is not significant: choose alpha = p
    out = A.table1_tests(_t1(), correlations=())
    p = float(out.loc[(out.reading == "SD") & (out.test == "Student"), "p"].iloc[0])
    at = A.table1_tests(_t1(), alpha=p, correlations=())
    row = at[(at.reading == "SD") & (at.test == "Student")].iloc[0]
    assert not row["significant"] and not row["agrees"]
    agr = A.reading_agreement(out)
    assert agr["comparisons"].tolist() == [1, 1, 1, 1]


def test_bad_arguments():
    with pytest.raises(ValueError, match="`table1`"):
        A.table1_tests(_t1().drop(columns="n"))
    with pytest.raises(ValueError, match="`correlations`"):
        A.table1_tests(_t1(), correlations=(1.5,))
    with pytest.raises(ValueError, match="`n`"):
        A.grim_mean(1.0, 0)


def test_grim_hand_worked():
    # n = 4: possible means 0, .25, .5, .75, 1, 1.25 ...; printed with 2 decimals
    assert A.grim_mean(1.25, 4) and not A.grim_mean(1.26, 4)
    # n = 7, 1 decimal: k/7 = 1.0, 1.1, 1.3, 1.4, 1.6, 1.7, 1.9, 2.0 (k = 7..14): 1.2, 1.5, 1.8 impossible
    assert A.grim_mean(1.4, 7, 1) and not A.grim_mean(1.5, 7, 1) and not A.grim_mean(1.2, 7, 1)
    # n >= 10**decimals: every mean is possible
    assert all(A.grim_mean(x / 100, 200) for x in range(0, 300, 7))
    # two items per person doubles the granularity: 2 people x 2 items -> quarters
    assert A.grim_mean(1.25, 2, items=2) and not A.grim_mean(1.25, 2)


def test_round_half_up_and_percent():
    assert A.round_half_up(2.5) == 3 and A.round_half_up(0.125, 2) == 0.13
    # 28/52 = 53.846 % -> 54 %; 2/28 = 7.14 % -> 7 %
    assert A.percent_consistent(28, 52, 54)
    assert not A.percent_consistent(2, 28, 8)
    # by hand: 2/24 = 8.33, 2/25 = 8.00, 2/26 = 7.69 round to 8; 2/23 = 8.70 and 2/27 = 7.41 do not
    assert A.denominators_for_percent(2, 8) == [24, 25, 26]


def test_consistency_checks_on_hand_registry():
    vals = {"activity.responders_n": 6, "activity.nonresponders_n": 4, "activity.msct_n": 10,
            "activity.control_n": 9, "activity.randomised_n": 20, "activity.lost_nonresponders": 1,
            "activity.lost_responders": 0, "activity.relapse_n": 1, "activity.response_rate": 0.6,
            "activity.nonresponse_rate": 0.4, "activity.relapse_pct": 0.2, "ifng.before_subgroup_n": 2,
            "ifng.after_subgroup_n": 4, "activity.prednisone_reduced_n": 7,
            "safety.table1_n_nonresponder": 3, "safety.table1_n_responder": 6, "activity.lost_controls": 2,
            "activity.improved_with_less_drug_n": 6}
    reg = pd.DataFrame({"claim_id": list(vals), "expected": [str(v) for v in vals.values()]})
    out = A.consistency_checks(reg).set_index("check_id")
    assert out.loc["audit.response_rate_rounding", "consistent"]        # 6/10 = 60 %
    assert not out.loc["audit.relapse_pct_rounding", "consistent"]      # 1/6 = 16.7 % is not 20 %
    assert "[5]" in out.loc["audit.relapse_pct_rounding", "note"]       # only 1/5 gives 20 %
    assert out.loc["audit.msct_sum", "consistent"]
    assert not out.loc["audit.randomised_sum", "consistent"]            # 10 + 9 = 19, not 20
    assert out.loc["audit.table1_nonresponder_n", "consistent"]         # 4 - 1 = 3
    assert out.loc["audit.ifng_subgroups_sum", "consistent"]
    assert not out.loc["audit.prednisone_within_responders", "consistent"]  # 7 > 6
    # by hand: 1 + 2 = 3 lost, so "all returned" contradicts the lost; 6 with less drug <= 7 with less prednisone
    assert not out.loc["audit.all_returned_vs_lost", "consistent"]
    assert out.loc["audit.all_returned_vs_lost", "computed_value"] == 3
    assert out.loc["audit.dosage_28_vs_prednisone_23", "consistent"]
    with pytest.raises(ValueError, match="activity.responders_n"):
        A.consistency_checks(reg[reg.claim_id != "activity.responders_n"])


def test_implied_sd_and_grim_table1():
    t1 = _t1(n=4, before_mean=2.0, before_pm=0.5, after_mean=1.26, after_pm=1.0)
    sd = A.implied_sd(t1)
    assert sd["sd_if_sem"].tolist() == [1.0, 2.0]  # 0.5*2, 1.0*2
    g = A.grim_table1(t1, columns=("x",))
    assert g["grim_consistent"].tolist() == [True, False]
    assert g["chance_consistent"].tolist() == [0.04, 0.04]


def test_load_table1_shipped():
    t1 = A.load_table1()
    assert len(t1) == 22 and t1["after_flag_significant"].dtype == bool


def test_shipped_registry_gives_the_two_text_inconsistencies():
    from analysis.claims.log import ClaimLog
    from analysis.claims.registry import load_published

    checks = A.consistency_checks(load_published())
    log = ClaimLog("audit")
    verdicts = V.judge_consistency(checks, log).set_index("check_id")["verdict"]
    # the paper's own numbers: 2 + 5 lost although "all returned"; 28 with less drug against 23 with less prednisone
    assert verdicts["audit.all_returned_vs_lost"] == "not reproduced"
    assert verdicts["audit.dosage_28_vs_prednisone_23"] == "not reproduced"
    rules = log.table().set_index("claim_id")["rule"]
    assert rules["audit.all_returned_vs_lost"].startswith("the paper's own numbers")
    assert "arithmetic" in rules["audit.relapse_pct_rounding"]


def test_evaluate_is_computed_once_per_alpha_and_returns_fresh_copies():
    from analysis.claims.registry import published

    first = V.evaluate(None, {"alpha": 0.01})
    first.loc[:, "verdict"] = "changed by the caller"
    again = V.evaluate(None, {"alpha": 0.01})
    pd.testing.assert_frame_equal(again, V._claims_table(published(), 0.01))
    assert not again["verdict"].eq("changed by the caller").any()
    assert len(V.evaluate(None, {"alpha": 0.05})) == len(again)


def test_table1_tests_row_by_row_equals_scipy_one_comparison_at_a_time():
    """The vectorised table: row by row, each reading, Student, Welch then paired per r; every value as
    scipy's one-comparison functions and the paired formula give it."""
    rng = np.random.default_rng(3)
    t1 = pd.concat([_t1(measure=f"M{i}", n=int(rng.integers(2, 60)), before_mean=rng.normal(),
                        before_pm=rng.uniform(0.1, 2), after_mean=rng.normal(), after_pm=rng.uniform(0.1, 2),
                        after_flag_significant=bool(i % 2)) for i in range(4)], ignore_index=True)
    rs = (-0.3, 0.0, 0.7)
    out = A.table1_tests(t1, correlations=rs)
    expected = []
    for _, row in t1.iterrows():
        n = int(row["n"])
        for reading in A.READINGS:
            k = 1.0 if reading == "SD" else math.sqrt(n)
            s1, s2 = row["before_pm"] * k, row["after_pm"] * k
            for test, eq in (("Student", True), ("Welch", False)):
                res = sps.ttest_ind_from_stats(row["after_mean"], s2, n, row["before_mean"], s1, n, equal_var=eq)
                expected.append((row["measure"], reading, test, res.statistic, res.pvalue))
            for r in rs:
                t = (row["after_mean"] - row["before_mean"]) / (math.sqrt(s1**2 + s2**2 - 2 * r * s1 * s2) / math.sqrt(n))
                expected.append((row["measure"], reading, "paired", t, 2 * sps.t.sf(abs(t), n - 1)))
    assert list(zip(out["measure"], out["reading"], out["test"])) == [e[:3] for e in expected]
    assert out["t"].to_numpy() == pytest.approx([e[3] for e in expected], rel=1e-12)
    assert out["p"].to_numpy() == pytest.approx([e[4] for e in expected], rel=1e-9)


def test_table1_tests_degenerate_rows_give_nan_not_an_error():
    """n = 1 or no spread: no test can be computed; NaN t and p, "not significant", and no exception."""
    out = A.table1_tests(pd.concat([_t1(n=1), _t1(measure="Y", before_pm=0.0, after_pm=0.0)], ignore_index=True),
                         correlations=(0.5,))
    assert len(out) == 2 * 2 * 3
    assert out.loc[out["measure"] == "X", "p"].isna().all()
    paired_flat = out[(out["measure"] == "Y") & (out["test"] == "paired")]
    assert paired_flat["t"].isna().all() and not paired_flat["significant"].any()
    empty = A.table1_tests(_t1().iloc[:0])
    assert empty.empty and list(empty.columns)[:3] == ["measure", "group", "n"]


def test_followup_visits_is_the_audits_and_judged_by_the_papers_lost_counts():
    from analysis.chapters.audit.verdicts import evaluate, judge_followup_visits
    from analysis.claims.log import ClaimLog
    from analysis.claims.registry import published

    assert published().set_index("claim_id").loc["activity.followup_visits", "chapter"] == "audit"
    # by hand: the paper reports 0 lost -> "all returned" holds; 1 + 2 = 3 lost -> it does not
    row = {"check_id": "audit.all_returned_vs_lost", "computed": "lost: 0 no-response + 0 control = 0",
           "computed_value": 0.0}
    log = ClaimLog("audit")
    assert judge_followup_visits(log, pd.DataFrame([row])) == "reproduced"
    assert judge_followup_visits(log, pd.DataFrame([{**row, "computed_value": 3.0}])) == "not reproduced"
    assert "3 patient(s) lost" in log.table().set_index("claim_id").loc["activity.followup_visits", "reproduced"]
    # the shipped registry: Fig. 1 reports 2 + 5 lost, so the Methods' sentence is not reproduced, whatever a cohort holds
    t = evaluate().set_index("claim_id")
    assert t.loc["activity.followup_visits", "verdict"] == "not reproduced"
    assert "7 patient(s) lost" in t.loc["activity.followup_visits", "reproduced"]
