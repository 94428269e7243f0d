"""Tests for analysis.chapters.inflammation.analysis: hand-made frames, expected values worked by hand or by an independent formula."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from analysis.chapters.inflammation import analysis as inf
from analysis.science import stats as st
from analysis.science.derive import derive


def _cohort():
    """Two MSCT patients (a responder, a non-responder) and one control, weeks 0 and 12.

    IL-6 (LLOQ 0.5 pg/mL in the data dictionary): three cells censored "<LLOQ" (value empty).
    """
    p = pd.DataFrame({"patient_id": ["r", "n", "c"], "arm": ["MSCT", "MSCT", "control"], "age": [50, 55, 60],
                      "sex": ["F", "F", "M"], "weight_kg": [60.0, 65, 70], "disease_duration_years": [5.0, 4, 3]})
    v = pd.DataFrame({
        "patient_id": ["r", "r", "n", "n", "c", "c"], "week": [0, 12] * 3,
        # responder: DAS28-ESR falls a lot (good response); non-responder and control unchanged
        "tjc28": [9, 1, 9, 9, 9, 9], "sjc28": [4, 0, 4, 4, 4, 4], "esr_mm_h": [40.0, 10, 40, 40, 40, 40],
        "patient_global_mm": [70.0, 20, 70, 70, 70, 70], "treg_pct": [4.0] * 6, "th17_pct": [2.0] * 6,
        "il_6": [4.0, np.nan, np.nan, 2.0, np.nan, 6.0],
        "il_6_flag": [None, "<LLOQ", "<LLOQ", None, "<LLOQ", None],
    })
    return SimpleNamespace(patients=p, visits=v, adverse_events=None, meta={})


# ------------------------------------------------------------------ LLOQ rules through derive
@pytest.mark.parametrize("rule, sub", [("half", 0.25), ("lloq", 0.5), ("exclude", np.nan)])
def test_lloq_rule_values_through_derive(rule, sub):
    # hand: IL-6 LLOQ = 0.5 → half: 0.25, lloq: 0.5, exclude: missing
    d = derive(_cohort(), lloq_rule=rule)
    long = inf.cytokine_long(d.visits, cytokines=["il_6"])
    got = long.set_index(["patient_id", "week"])["value"]
    assert got[("r", 0)] == 4.0 and got[("n", 12)] == 2.0 and got[("c", 12)] == 6.0
    for key in [("r", 12), ("n", 0), ("c", 0)]:
        assert (np.isnan(got[key]) if np.isnan(sub) else got[key] == sub)
    assert long["censored"].sum() == 3


@pytest.mark.parametrize("rule", ["half", "lloq", "exclude"])
def test_censored_counts_do_not_depend_on_rule(rule):
    # hand: week 0 — 2 of 3 below (n, c); week 12 — 1 of 3 below (r)
    d = derive(_cohort(), lloq_rule=rule)
    cc = inf.censored_counts(inf.cytokine_long(d.visits, cytokines=["il_6"])).set_index("week")
    assert cc.loc[0, "n_measured"] == 3 and cc.loc[0, "n_below_lloq"] == 2
    assert cc.loc[12, "n_measured"] == 3 and cc.loc[12, "n_below_lloq"] == 1
    assert cc.loc[0, "pct_below_lloq"] == pytest.approx(200 / 3)


def test_summary_mean_under_each_rule():
    # Control + Non-responder + Responder pooled at week 0: values 4, x, x with x the substitute.
    for rule, expected in [("half", (4 + 0.25 + 0.25) / 3), ("lloq", (4 + 0.5 + 0.5) / 3), ("exclude", 4.0)]:
        d = derive(_cohort(), lloq_rule=rule)
        long = inf.cytokine_long(d.visits, cytokines=["il_6"])
        assert long.loc[long["week"] == 0, "value"].mean() == pytest.approx(expected)
        s = inf.cytokine_summary(long)
        n0 = s.loc[s["week"] == 0, "n"].sum()
        assert n0 == (1 if rule == "exclude" else 3)


def test_missing_value_without_flag_is_not_censored():
    v = pd.DataFrame({"patient_id": ["a", "b"], "week": [0, 0], "group": ["Control"] * 2,
                      "il_6": [np.nan, 1.0], "il_6_flag": [None, None]})
    cc = inf.censored_counts(inf.cytokine_long(v))
    assert cc[["n_measured", "n_below_lloq"]].values.tolist() == [[1, 0]]


def test_log10_value_and_input_not_mutated():
    v = pd.DataFrame({"patient_id": ["a", "b"], "week": [0, 0], "group": ["Responder"] * 2,
                      "il_6": [100.0, 0.0]})
    before = v.copy()
    long = inf.cytokine_long(v)
    assert long["log10_value"].iloc[0] == pytest.approx(2.0)
    assert np.isnan(long["log10_value"].iloc[1])  # log of 0 undefined
    pd.testing.assert_frame_equal(v, before)


def test_unknown_cytokine_rejected():
    v = pd.DataFrame({"patient_id": ["a"], "week": [0], "group": ["Control"], "il_6": [1.0]})
    with pytest.raises(ValueError, match="`cytokines`"):
        inf.cytokine_long(v, cytokines=["il_99"])


# ------------------------------------------------------------------ multiplicity on a hand-made table
def _hand_tests():
    # 6 p-values, alpha 0.05, m = 6.
    # raw < 0.05: 0.001, 0.008, 0.012, 0.04 → 4
    # Bonferroni (p·6 < 0.05 ⇔ p < 0.00833): 0.001, 0.008 → 2
    # Holm: sorted 0.001·6=0.006 ✓, 0.008·5=0.04 ✓, 0.012·4=0.048 ✓, 0.04·3=0.12 ✗ stop → 3
    # BH: k·0.05/6 thresholds 0.00833, 0.0167, 0.025, 0.0333, 0.0417, 0.05; largest k with p_(k) ≤ kα/m:
    #     k=4: 0.04 > 0.0333; k=3: 0.012 ≤ 0.025 ✓ → 3
    return pd.DataFrame({"family": ["within"] * 4 + ["omnibus"] * 2,
                         "p_param": [0.001, 0.008, 0.04, 0.3, 0.012, 0.6],
                         "p_nonpar": [0.002, 0.07, 0.03, 0.2, 0.02, np.nan]})


def test_multiplicity_counts_hand():
    m = inf.multiplicity(_hand_tests()).set_index(["family", "method"])["n_significant"]
    assert [m[("all", k)] for k in ("raw", "holm", "bonf", "fdr_bh")] == [4, 3, 2, 3]
    # within only (m = 4): raw 3; Bonf p < 0.0125: 0.001, 0.008 → 2;
    # Holm 0.004 ✓, 0.024 ✓, 0.08 ✗ → 2; BH thresholds 0.0125, 0.025, 0.0375, 0.05: k=3 0.04 > 0.0375, k=2 ✓ → 2
    assert [m[("within", k)] for k in ("raw", "holm", "bonf", "fdr_bh")] == [3, 2, 2, 2]
    n = inf.multiplicity(_hand_tests()).set_index(["family", "method"])["n_tests"]
    assert n[("all", "raw")] == 6 and n[("omnibus", "raw")] == 2


def test_multiplicity_nan_not_a_test():
    m = inf.multiplicity(_hand_tests(), p="p_nonpar").set_index(["family", "method"])
    assert m.loc[("all", "raw"), "n_tests"] == 5  # one NaN
    # raw < 0.05: 0.002, 0.03, 0.02 → 3; Bonferroni m=5 → p < 0.01: 0.002 → 1
    assert m.loc[("all", "raw"), "n_significant"] == 3 and m.loc[("all", "bonf"), "n_significant"] == 1


def test_star_survival_hand():
    t = pd.DataFrame({"family": ["within"] * 3 + ["between"], "cytokine": ["il_6"] * 4, "label": ["IL-6"] * 4,
                      "comparison": ["Responder", "Responder", "Control", "Responder vs Control"],
                      "week": [1, 4, 4, 4], "p_param": [0.02, 0.004, 0.001, 0.5]})
    # Bonferroni over all 4 rows: 0.08, 0.016, 0.004, 1 → responder stars: weeks 1, 4; survive: week 4
    s = inf.star_survival(t, method="bonf").iloc[0]
    assert (s["n_stars"], s["n_survive"], s["weeks_star"], s["weeks_survive"]) == (2, 1, "1, 4", "4")


def test_disagreement_count_hand():
    t = pd.DataFrame({"family": ["within", "within", "between", "between"],
                      "p_param": [0.01, 0.2, 0.04, np.nan], "p_nonpar": [0.2, 0.01, 0.03, 0.01]})
    t = t.assign(sig_param=t["p_param"] < 0.05, sig_nonpar=t["p_nonpar"] < 0.05,
                 disagree=[True, True, False, False])
    out = inf.disagreement_count(t).set_index("family")
    assert out.loc["all"].tolist() == [3, 2, 1, 1]
    assert out.loc["between", "n_pairs"] == 1


# ------------------------------------------------------------------ tests against the stats module
def _visits(seed=1, n=12):
    rng = np.random.default_rng(seed)
    ids = [f"p{i}" for i in range(3 * n)]
    grp = ["Responder"] * n + ["Non-responder"] * n + ["Control"] * n
    base = rng.lognormal(2, 0.5, 3 * n)
    rows = []
    for w, f in [(0, 1.0), (4, 0.7), (12, 0.5)]:
        eff = np.where(np.array(grp) == "Responder", f, 1.0)
        rows.append(pd.DataFrame({"patient_id": ids, "week": w, "group": grp,
                                  "il_6": base * eff * rng.lognormal(0, 0.2, 3 * n)}))
    return pd.concat(rows, ignore_index=True)


def test_within_matches_stats_compare_paired():
    v = _visits()
    long = inf.cytokine_long(v)
    w = inf.within_group_tests(long).set_index(["comparison", "week"])
    sub = v[v["group"] == "Responder"]
    for test, col in [("t", "p_param"), ("wilcoxon", "p_nonpar")]:
        ref = st.compare_paired(sub, dv="il_6", within="week", subject="patient_id", pair=(0, 12), test=test)
        assert w.loc[("Responder", 12), col] == pytest.approx(ref["p"].item())
    assert w.loc[("Responder", 12), "estimate"] == pytest.approx(ref["mean_diff"].item())
    assert len(w) == 3 * 2  # 3 groups × 2 later visits


def test_between_and_omnibus_match_stats():
    v = _visits(seed=2)
    long = inf.cytokine_long(v)
    b = inf.between_group_tests(long).set_index(["comparison", "week"])
    d = v[(v["week"] == 12) & v["group"].isin(["Responder", "Control"])]
    for test, col in [("t", "p_param"), ("mannwhitney", "p_nonpar")]:
        ref = st.compare_independent(d, dv="il_6", between="group", groups=("Responder", "Control"), test=test)
        assert b.loc[("Responder vs Control", 12), col] == pytest.approx(ref["p"].item())
    o = inf.omnibus_tests(long).set_index("week")
    aov, _ = st.anova_bonferroni(v[v["week"] == 12], dv="il_6", between="group")
    assert o.loc[12, "p_param"] == pytest.approx(aov["p"].item())
    assert o.loc[12, "estimate"] == pytest.approx(aov["np2"].item())
    samples = [s.to_numpy() for _, s in v[v["week"] == 12].groupby("group")["il_6"]]
    assert o.loc[12, "p_nonpar"] == pytest.approx(sps.kruskal(*samples).pvalue)


# ------------------------------------------------------------------ standardised change
def test_standardised_change_hand():
    # baseline values 2, 4, 6 (SD = 2); week 4 changes: -1, -1, +5 → mean 1 → std 0.5
    v = pd.DataFrame({"patient_id": list("abcabc"), "week": [0] * 3 + [4] * 3,
                      "group": ["Responder", "Responder", "Control"] * 2, "il_6": [2.0, 4, 6, 1, 3, 11]})
    sc = inf.standardised_change(inf.cytokine_long(v)).set_index("group")
    assert sc.loc["Responder", "mean_change"] == -1 and sc.loc["Responder", "std_change"] == pytest.approx(-0.5)
    assert sc.loc["Control", "std_change"] == pytest.approx(2.5)
    # log scale: log10 fold changes, baseline SD of log10(2, 4, 6)
    lg = inf.standardised_change(inf.cytokine_long(v), scale="log").set_index("group")
    sd_log = np.std(np.log10([2, 4, 6]), ddof=1)
    assert lg.loc["Control", "std_change"] == pytest.approx(np.log10(11 / 6) / sd_log)
    with pytest.raises(ValueError, match="`scale`"):
        inf.standardised_change(inf.cytokine_long(v), scale="z")


# ------------------------------------------------------------------ degenerate data
def test_degenerate_single_patient_and_no_responders():
    v = pd.DataFrame({"patient_id": ["a", "a"], "week": [0, 4], "group": ["Control"] * 2, "il_6": [1.0, 2.0]})
    long = inf.cytokine_long(v)
    tests = inf.test_table(inf.within_group_tests(long), inf.between_group_tests(long), inf.omnibus_tests(long))
    assert tests["p_param"].isna().all() and not tests["disagree"].any()
    assert inf.multiplicity(tests).query("family == 'all'")["n_tests"].eq(0).all()
    assert np.isnan(inf.paired_result(tests, cytokine="il_6", week=4)["p"])
    assert inf.return_to_baseline(tests, inf.cytokine_summary(long))["holds"] is None
    assert inf.reversal(tests)["holds"] is None
    assert inf.no_change_evidence(tests, cytokine="il_8")["n_visits"] == 0
    empty = inf.cytokine_long(v.assign(group="Unclassified"))
    assert empty.empty
    assert inf.within_group_tests(empty).empty and inf.standardised_change(empty).empty
    fig = inf.heatmap_figure(inf.standardised_change(empty))
    assert fig is not None


def test_return_to_baseline_rule_hand():
    s = pd.DataFrame({"cytokine": ["il_10"] * 2, "group": ["Responder"] * 2, "week": [4, 48], "mean": [6.0, 3.0]})

    def t(est, p):
        return pd.DataFrame({"family": ["within"], "cytokine": ["il_10"], "comparison": ["Responder"],
                             "week": [48], "estimate": [est], "p_param": [p], "p_nonpar": [p], "n": [20]})
    assert inf.return_to_baseline(t(-0.8, 0.001), s)["holds"] is True   # fell below baseline: rise gone
    assert inf.return_to_baseline(t(0.8, 0.001), s)["holds"] is False   # still significantly above
    assert inf.return_to_baseline(t(0.8, 0.2), s)["holds"] is True
    assert inf.return_to_baseline(t(0.1, 0.9), s.assign(mean=[3.0, 6.0]))["holds"] is False  # no fall from week 4
