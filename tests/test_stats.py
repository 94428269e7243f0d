"""Tests for analysis.science.stats: expected values from hand calculation or scipy, named in comments."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from analysis.claims import rules
from analysis.science import stats as st

Z95 = sps.norm.ppf(0.975)  # 1.959964...


# --------------------------------------------------------------------- describe / mean_pm
def test_sd_vs_sem_hand():
    # [2,4,4,4,5,5,7,9]: mean 5; squared deviations 9,1,1,1,0,0,4,16 → sum 32.
    # population SD = sqrt(32/8) = 2; sample SD = sqrt(32/7) = 2.13809; SEM = 2.13809/sqrt(8) = 0.75593
    df = pd.DataFrame({"y": [2, 4, 4, 4, 5, 5, 7, 9]})
    row = st.describe(df, dv="y").iloc[0]
    assert row["n"] == 8 and row["mean"] == 5
    assert row["sd"] == pytest.approx(np.sqrt(32 / 7))
    assert row["sd"] == pytest.approx(2.13809, abs=1e-5)
    assert np.sqrt(32 / 8) == 2  # population SD, which we do NOT report
    assert row["sem"] == pytest.approx(np.sqrt(32 / 7) / np.sqrt(8))
    assert (row["median"], row["min"], row["max"]) == (4.5, 2, 9)
    assert st.mean_pm(df, dv="y")["text"].item() == "5.00 ± 2.14"
    assert st.mean_pm(df, dv="y", spread="sem")["text"].item() == "5.00 ± 0.76"


def test_describe_groups_skew_rule_and_missing():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({
        "g": ["normal"] * 60 + ["skewed"] * 60 + ["one"],
        # "normal": exact normal quantiles (a random normal sample is flagged 5% of the time)
        "y": np.r_[10 + sps.norm.ppf((np.arange(60) + 0.5) / 60), rng.lognormal(0, 1.2, 60), 4.0],
    })
    df.loc[df.index[-2], "y"] = np.nan  # drop one value of the skewed group
    before = df.copy()
    out = st.describe(df, dv="y", by="g").set_index("g")
    pd.testing.assert_frame_equal(df, before)  # input not mutated
    assert out.loc["skewed", "n"] == 59  # missing value dropped
    assert not out.loc["normal", "skewed"] and "±" in out.loc["normal", "summary"]
    assert out.loc["skewed", "skewed"] and "[" in out.loc["skewed", "summary"]
    # single value: no SD, no exception, a note
    assert out.loc["one", "n"] == 1 and np.isnan(out.loc["one", "sd"]) and out.loc["one", "note"]


def test_mean_pm_rejects_bad_spread():
    with pytest.raises(ValueError, match="`spread`"):
        st.mean_pm(pd.DataFrame({"y": [1, 2]}), dv="y", spread="iqr")


# --------------------------------------------------------------------- paired
def _paired_frame(before, after):
    n = len(before)
    return pd.DataFrame({"id": list(range(n)) * 2, "week": [0] * n + [12] * n,
                         "y": list(before) + list(after)})


def test_paired_t_hand():
    # before=[1,2,3,4], after=[2,4,5,5] → differences [1,2,2,1]
    # mean diff = 1.5; SD diff = sqrt(((-.5)²+.5²+.5²+(-.5)²)/3) = sqrt(1/3) = 0.57735
    # t = 1.5 / (0.57735/sqrt(4)) = 5.19615, dof = 3; p = 2·P(T3 > 5.19615)
    df = _paired_frame([1, 2, 3, 4], [2, 4, 5, 5])
    row = st.compare_paired(df, dv="y", within="week", subject="id", pair=(0, 12)).iloc[0]
    assert row["n"] == 4
    assert (row["mean_before"], row["mean_after"], row["mean_diff"]) == (2.5, 4.0, 1.5)
    assert row["sd_diff"] == pytest.approx(np.sqrt(1 / 3))
    assert row["statistic"] == pytest.approx(1.5 / (np.sqrt(1 / 3) / 2))
    assert row["statistic"] == pytest.approx(5.19615, abs=1e-5)
    assert row["dof"] == 3
    assert row["p"] == pytest.approx(2 * sps.t.sf(5.196152, 3), rel=1e-5)
    assert row["significant"] == (row["p"] < 0.05)
    # Hedges g, paired (Borenstein et al. 2009 eq. 4.27-4.28, standardiser s_av):
    # s_before² = 5/3, s_after² = 2 → s_av = sqrt(11/6); d = 1.5/s_av; J = 1 - 3/(4·3 - 1) = 8/11
    s_av = np.sqrt((5 / 3 + 2) / 2)
    d = 1.5 / s_av
    j = 8 / 11
    r = np.corrcoef([1, 2, 3, 4], [2, 4, 5, 5])[0, 1]
    se = j * np.sqrt((1 / 4 + d**2 / 8) * 2 * (1 - r))
    assert row["hedges_g"] == pytest.approx(j * d)
    assert row["g_ci_low"] == pytest.approx(j * d - Z95 * se)
    assert row["g_ci_high"] == pytest.approx(j * d + Z95 * se)


def test_paired_wilcoxon_matches_scipy_and_drops_incomplete_pairs():
    before = [5.1, 6.0, 7.2, 4.4, 6.6, 5.9, 7.7]
    after = [4.0, 5.1, 7.0, 3.1, 6.9, 4.0, 6.1]
    df = _paired_frame(before, after)
    df = pd.concat([df, pd.DataFrame({"id": [99], "week": [0], "y": [3.0]})])  # no week 12
    row = st.compare_paired(df, dv="y", within="week", subject="id", test="wilcoxon").iloc[0]
    ref = sps.wilcoxon(np.subtract(after, before))
    assert row["n"] == 7
    assert row["statistic"] == pytest.approx(ref.statistic)
    assert row["p"] == pytest.approx(ref.pvalue)
    assert np.isnan(row["dof"]) and row["test"] == "wilcoxon"


def test_paired_tiny_and_degenerate_do_not_raise():
    one = st.compare_paired(_paired_frame([1], [2]), dv="y", within="week", subject="id").iloc[0]
    assert one["n"] == 1 and np.isnan(one["p"]) and "fewer than 2" in one["note"]
    assert not one["significant"]
    same = st.compare_paired(_paired_frame([1, 2, 3], [2, 3, 4]), dv="y", within="week",
                             subject="id").iloc[0]
    assert np.isnan(same["p"]) and same["note"]


def test_paired_rejects_duplicates_and_bad_test():
    df = _paired_frame([1, 2], [2, 3])
    with pytest.raises(ValueError, match="more than one row"):
        st.compare_paired(pd.concat([df, df]), dv="y", within="week", subject="id")
    with pytest.raises(ValueError, match="`test`"):
        st.compare_paired(df, dv="y", within="week", subject="id", test="sign")


# --------------------------------------------------------------------- independent
A = [1.0, 2.0, 3.0, 4.0, 5.0]
B = [3.0, 4.0, 5.0, 6.0, 8.0, 9.0]


def _indep_frame(a=A, b=B):
    return pd.DataFrame({"group": ["Responder"] * len(a) + ["Non-responder"] * len(b),
                         "y": list(a) + list(b)})


def test_independent_t_against_scipy_and_hand_formula():
    df = _indep_frame()
    before = df.copy()
    row = st.compare_independent(df, dv="y", between="group",
                                 groups=("Responder", "Non-responder")).iloc[0]
    pd.testing.assert_frame_equal(df, before)
    # Student t by hand: s_p² = ((n_a-1)s_a² + (n_b-1)s_b²)/(n_a+n_b-2); t = (m_a-m_b)/sqrt(s_p²(1/n_a+1/n_b))
    na, nb = len(A), len(B)
    sp2 = ((na - 1) * np.var(A, ddof=1) + (nb - 1) * np.var(B, ddof=1)) / (na + nb - 2)
    t_hand = (np.mean(A) - np.mean(B)) / np.sqrt(sp2 * (1 / na + 1 / nb))
    ref = sps.ttest_ind(A, B)
    assert row["statistic"] == pytest.approx(t_hand)
    assert row["statistic"] == pytest.approx(ref.statistic)
    assert row["p"] == pytest.approx(ref.pvalue)
    assert row["dof"] == na + nb - 2
    assert (row["n_a"], row["n_b"]) == (5, 6)
    assert row["mean_diff"] == pytest.approx(np.mean(A) - np.mean(B))


def test_independent_welch_and_mannwhitney_against_scipy():
    df = _indep_frame()
    w = st.compare_independent(df, dv="y", between="group", groups=("Responder", "Non-responder"),
                               test="welch").iloc[0]
    ref = sps.ttest_ind(A, B, equal_var=False)
    assert w["statistic"] == pytest.approx(ref.statistic)
    assert w["p"] == pytest.approx(ref.pvalue)
    m = st.compare_independent(df, dv="y", between="group", groups=("Responder", "Non-responder"),
                               test="mannwhitney").iloc[0]
    ref = sps.mannwhitneyu(A, B, alternative="two-sided")
    assert m["statistic"] == pytest.approx(ref.statistic)
    assert m["p"] == pytest.approx(ref.pvalue)
    assert np.isnan(m["dof"])


def test_hedges_g_independent_hand():
    # a=[1,2,3], b=[2,3,4]: s_p = 1, d = -1, J = 1 - 3/(4·6 - 9) = 0.8 → g = -0.8
    # SE (Hedges & Olkin 1985) = sqrt((3+3)/(3·3) + 0.64/(2·6)) = sqrt(0.72)
    g, lo, hi = st.hedges_g_independent([1, 2, 3], [2, 3, 4])
    assert g == pytest.approx(-0.8)
    assert lo == pytest.approx(-0.8 - Z95 * np.sqrt(0.72))
    assert hi == pytest.approx(-0.8 + Z95 * np.sqrt(0.72))


def test_independent_tiny_group_returns_nan_row():
    df = _indep_frame(a=[3.0], b=[1.0, 2.0])
    row = st.compare_independent(df, dv="y", between="group",
                                 groups=("Responder", "Non-responder")).iloc[0]
    assert row["n_a"] == 1 and np.isnan(row["p"]) and np.isnan(row["hedges_g"])
    assert "fewer than 2" in row["note"] and not row["significant"]
    # an absent group also works
    row = st.compare_independent(df, dv="y", between="group", groups=("Responder", "Control")).iloc[0]
    assert row["n_b"] == 0 and np.isnan(row["p"])


def test_independent_argument_errors():
    df = _indep_frame()
    with pytest.raises(ValueError, match="`test`"):
        st.compare_independent(df, dv="y", between="group", test="ks")
    with pytest.raises(ValueError, match="`dv`"):
        st.compare_independent(df, dv="nope", between="group")
    with pytest.raises(ValueError, match="`alpha`"):
        st.compare_independent(df, dv="y", between="group", alpha=5)


# --------------------------------------------------------------------- choose_test
def test_choose_test_rule_normal_vs_skewed():
    rng = np.random.default_rng(2024)
    normal_a, normal_b = rng.normal(0, 1, 50), rng.normal(1, 1, 50)
    skewed = rng.exponential(1, 50) ** 2
    assert st.choose_test(normal_a, normal_b) == "t"
    assert st.choose_test(skewed, normal_b) == "mannwhitney"
    assert st.choose_test(skewed, normal_b, rule="skew") == "mannwhitney"
    # paired: the rule is applied to the differences
    assert st.choose_test(normal_a, normal_a + rng.normal(0.5, 1, 50), paired=True) == "t"
    assert st.choose_test(normal_a, normal_a + skewed, paired=True) == "wilcoxon"
    assert st.choose_test(skewed) == "wilcoxon"
    # untestable (n < 3): parametric, documented
    assert st.choose_test([1, 2], [3, 4]) == "t"


# --------------------------------------------------------------------- ANOVA + Bonferroni
def test_anova_bonferroni_hand_and_scipy():
    # groups a=[1,2,3], b=[2,3,4], c=[6,7,8]: means 2,3,7, grand mean 4
    # SS_between = 3·(4+1+9) = 42 (df 2); SS_within = 3·2 = 6 (df 6); F = 21/1 = 21; η² = 42/48
    df = pd.DataFrame({"g": list("aaabbbccc"), "y": [1, 2, 3, 2, 3, 4, 6, 7, 8]})
    aov, post = st.anova_bonferroni(df, dv="y", between="g")
    row = aov.iloc[0]
    assert row["F"] == pytest.approx(21.0)
    assert (row["df1"], row["df2"], row["n"], row["k"]) == (2, 6, 9, 3)
    assert row["np2"] == pytest.approx(42 / 48)
    assert row["p"] == pytest.approx(sps.f_oneway([1, 2, 3], [2, 3, 4], [6, 7, 8]).pvalue)
    # Bonferroni: p_bonf = min(1, 3 · p_unc), p_unc from a Student t test of each pair
    groups = {"a": [1, 2, 3], "b": [2, 3, 4], "c": [6, 7, 8]}
    for _, r in post.iterrows():
        p = sps.ttest_ind(groups[r["a"]], groups[r["b"]]).pvalue
        assert r["p_unc"] == pytest.approx(p)
        assert r["p_bonf"] == pytest.approx(min(1.0, 3 * p))
        assert r["significant"] == (r["p_bonf"] < 0.05)
        assert (r["n_a"], r["n_b"]) == (3, 3)
    assert list(post.columns) == ["a", "b", "n_a", "n_b", "t", "dof", "p_unc", "p_bonf",
                                  "hedges_g", "alpha", "significant"]


def test_anova_drops_tiny_group_and_survives_one_group():
    df = pd.DataFrame({"g": list("aaabbbc"), "y": [1, 2, 3, 2, 3, 5, 9]})
    aov, post = st.anova_bonferroni(df, dv="y", between="g")
    assert aov["k"].item() == 2 and "left out" in aov["note"].item()
    assert len(post) == 1
    aov, post = st.anova_bonferroni(df[df.g == "a"], dv="y", between="g")
    assert np.isnan(aov["F"].item()) and aov["note"].item() and post.empty


# --------------------------------------------------------------------- by_visit / mixed
def test_by_visit_stacks_per_visit():
    df = pd.DataFrame({"week": [0] * 6 + [12] * 6, "g": list("AAABBB") * 2,
                       "y": [1, 2, 3, 2, 3, 4, 1, 2, 3, 5, 6, 7]})
    out = st.by_visit(df, dv="y", group="g", visit="week", func=st.compare_independent,
                      test="welch")
    assert out.columns[0] == "week" and out["week"].tolist() == [0, 12]
    assert out["mean_diff"].tolist() == [-1.0, -4.0]
    assert (out["test"] == "welch").all()
    desc = st.by_visit(df, dv="y", group="g", visit="week", func=st.describe)
    assert len(desc) == 4
    aov = st.by_visit(df, dv="y", group="g", visit="week", func=st.anova_bonferroni)
    assert len(aov) == 2 and "F" in aov


def test_mixed_model_view_complete_cases():
    rng = np.random.default_rng(0)
    ids = np.arange(10)
    df = pd.DataFrame({"id": np.tile(ids, 3), "week": np.repeat([0, 4, 12], 10),
                       "g": np.tile(["A"] * 5 + ["B"] * 5, 3), "y": rng.normal(size=30)})
    df.loc[(df.id == 0) & (df.week == 4), "y"] = np.nan  # subject 0 incomplete → dropped
    out = st.mixed_model_view(df, dv="y", within="week", between="g", subject="id")
    assert out["source"].tolist() == ["g", "week", "Interaction"]
    assert (out["n_subjects"] == 9).all()
    assert out.loc[0, "df1"] == 1 and out.loc[0, "df2"] == 7  # between: 2 groups, 9 subjects
    tiny = st.mixed_model_view(df[df.id.isin([0, 1, 5])], dv="y", within="week", between="g",
                               subject="id")
    assert tiny["F"].isna().all() and tiny["note"].str.contains("not estimable").all()


# --------------------------------------------------------------------- correlation
def test_correlation_against_scipy():
    df = pd.DataFrame({"a": [1, 2, 3, 4, 5, 6, np.nan], "b": [2, 1, 4, 3, 7, 8, 1]})
    p = st.correlation(df, x="a", y="b").iloc[0]
    ref = sps.pearsonr([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 7, 8])
    assert p["n"] == 6 and p["r"] == pytest.approx(ref.statistic) and p["p"] == pytest.approx(ref.pvalue)
    assert p["ci_low"] < p["r"] < p["ci_high"]
    s = st.correlation(df, x="a", y="b", method="spearman").iloc[0]
    assert s["r"] == pytest.approx(sps.spearmanr([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 7, 8]).statistic)
    tiny = st.correlation(df.head(2), x="a", y="b").iloc[0]
    assert np.isnan(tiny["r"]) and tiny["note"]


# --------------------------------------------------------------------- proportions
def _wilson_closed(k, n, z=Z95):
    # Wilson (1927): (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    p = k / n
    centre = p + z**2 / (2 * n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return (centre - half) / (1 + z**2 / n), (centre + half) / (1 + z**2 / n)


def test_wilson_against_closed_formula_and_edges():
    lo, hi = rules.wilson_ci(28, 52)
    ref = _wilson_closed(28, 52)
    assert (lo, hi) == pytest.approx(ref)
    assert (round(lo, 3), round(hi, 3)) == (0.405, 0.667)  # worked by hand: centre 0.5358, half 0.1308
    lo0, hi0 = rules.wilson_ci(0, 10)
    assert lo0 == 0 and 0 < hi0 < 1 and hi0 == pytest.approx(_wilson_closed(0, 10)[1])
    lon, hin = rules.wilson_ci(10, 10)
    assert hin == 1 and 0 < lon < 1
    assert all(np.isnan(rules.wilson_ci(0, 0)))
    with pytest.raises(ValueError, match="`successes`"):
        rules.wilson_ci(5, 3)


def test_proportion_table_vectorised():
    out = st.proportion_table([28, 0, 0], [52, 7, 0])
    assert out["proportion"].iloc[0] == pytest.approx(28 / 52)
    assert out[["ci_low", "ci_high"]].iloc[0].tolist() == pytest.approx(list(_wilson_closed(28, 52)))
    assert out["ci_low"].iloc[1] == 0 and out["ci_high"].iloc[1] > 0
    assert out.iloc[2][["proportion", "ci_low", "ci_high"]].isna().all()


# --------------------------------------------------------------------- multiplicity
def test_adjust_pvalues_by_hand():
    p = [0.01, 0.02, 0.04]
    # Bonferroni: × 3 → 0.03, 0.06, 0.12
    assert st.adjust_pvalues(p, method="bonf") == pytest.approx([0.03, 0.06, 0.12])
    # Holm: sorted p × (3, 2, 1) = 0.03, 0.04, 0.04, then running maximum → 0.03, 0.04, 0.04
    assert st.adjust_pvalues(p, method="holm") == pytest.approx([0.03, 0.04, 0.04])
    # BH: p × 3 / rank = 0.03, 0.03, 0.04, running minimum from the top → 0.03, 0.03, 0.04
    assert st.adjust_pvalues(p, method="fdr_bh") == pytest.approx([0.03, 0.03, 0.04])
    assert st.adjust_pvalues([0.5, 0.9], method="bonf") == pytest.approx([1.0, 1.0])
    with pytest.raises(ValueError, match="`method`"):
        st.adjust_pvalues(p, method="sidak2")


def test_multiplicity_summary_counts_by_hand():
    # p = 0.001, 0.01, 0.03, 0.2 at α = 0.05:
    # raw: 3 below 0.05; Bonferroni ×4 → .004 .04 .12 .8 → 2;
    # Holm ×(4,3,2,1) → .004 .03 .06 .2 → 2; BH ×4/rank → .004 .02 .04 .2 → 3
    out = st.multiplicity_summary([0.001, 0.01, 0.03, 0.2, np.nan]).set_index("method")
    assert out["n_significant"].to_dict() == {"raw": 3, "holm": 2, "bonf": 2, "fdr_bh": 3}
    assert (out["n_tests"] == 4).all()


# --------------------------------------------------------------------- diagnostics
def _two_by_two(tp, fp, fn, tn):
    truth = [1] * tp + [0] * fp + [1] * fn + [0] * tn
    pred = [1] * tp + [1] * fp + [0] * fn + [0] * tn
    return truth, pred


def test_diagnostic_metrics_hand_table():
    truth, pred = _two_by_two(tp=8, fp=2, fn=4, tn=6)
    tab = st.diagnostic_table(truth, pred).iloc[0]
    assert tab[["TP", "FP", "FN", "TN", "n"]].tolist() == [8, 2, 4, 6, 20]
    m = st.diagnostic_metrics(truth, pred).set_index("metric")
    # sensitivity 8/12, specificity 6/8, PPV 8/10, NPV 6/10
    assert m["estimate"].to_dict() == pytest.approx(
        {"sensitivity": 8 / 12, "specificity": 6 / 8, "PPV": 8 / 10, "NPV": 6 / 10})
    assert m.loc["sensitivity", ["ci_low", "ci_high"]].tolist() == pytest.approx(
        list(_wilson_closed(8, 12)))


def test_diagnostic_metrics_all_responders():
    m = st.diagnostic_metrics([1, 1, 1], [1, 0, 1]).set_index("metric")
    assert np.isnan(m.loc["specificity", "estimate"]) and m.loc["specificity", "note"]
    assert m.loc["sensitivity", "estimate"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="`truth`"):
        st.diagnostic_table([2, 1], [1, 1])


def test_roc_auc_hand_case_and_bootstrap():
    # positives 0.35, 0.8; negatives 0.1, 0.4: of 4 pairs, 3 have pos > neg → AUC = 0.75
    curve, auc = st.roc_curve_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], n_boot=500, seed=1)
    a = auc.iloc[0]
    assert a["auc"] == 0.75 and (a["n_pos"], a["n_neg"]) == (2, 2)
    assert 0 <= a["ci_low"] <= a["auc"] <= a["ci_high"] <= 1
    again = st.roc_curve_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], n_boot=500, seed=1)[1]
    pd.testing.assert_frame_equal(auc, again)  # seeded → reproducible
    assert curve.iloc[0][["tpr", "fpr"]].tolist() == [0, 0]
    assert curve.iloc[-1][["tpr", "fpr"]].tolist() == [1, 1]
    best = st.youden_threshold(curve).iloc[0]
    assert best["threshold"] == 0.8 and best["youden"] == 0.5
    # ties count one half: one positive and one negative both 0.5 → AUC 0.5
    assert st.roc_curve_auc([1, 0], [0.5, 0.5], n_boot=0)[1]["auc"].item() == 0.5


def test_roc_auc_equals_mann_whitney_u():
    rng = np.random.default_rng(7)
    pos, neg = rng.normal(1, 1, 30), rng.normal(0, 1, 40)
    _, auc = st.roc_curve_auc(np.r_[np.ones(30), np.zeros(40)], np.r_[pos, neg], n_boot=0)
    u = sps.mannwhitneyu(pos, neg).statistic
    assert auc["auc"].item() == pytest.approx(u / (30 * 40))


def test_roc_bootstrap_counts_draws_and_gives_the_rank_formula_exactly():
    # each resample's AUC is computed from how often it drew each positive and negative, against the table of
    # pairwise comparisons: it must equal the mid-rank (Mann-Whitney) AUC of the same resample, bit for bit
    rng = np.random.default_rng(3)
    pos, neg = np.round(rng.normal(1, 1, 13), 1), np.round(rng.normal(0, 1, 17), 1)  # rounded: many ties
    truth, score = np.r_[np.ones(13), np.zeros(17)], np.r_[pos, neg]
    _, auc = st.roc_curve_auc(truth, score, n_boot=300, seed=5)
    draws = np.random.default_rng(5)  # the same draws, in the same order, as roc_curve_auc makes them
    ip, ineg = draws.integers(0, 13, size=(300, 13)), draws.integers(0, 17, size=(300, 17))
    boots = st._auc_rank(pos[ip], neg[ineg])
    assert (auc["ci_low"].item(), auc["ci_high"].item()) == tuple(np.percentile(boots, [2.5, 97.5]))


def test_roc_single_class_does_not_raise():
    curve, auc = st.roc_curve_auc([1, 1, 1], [0.2, 0.5, 0.9])
    assert np.isnan(auc["auc"].item()) and auc["note"].item()
    assert np.isnan(st.youden_threshold(curve)["youden"].item())  # fpr undefined → NaN row


# --------------------------------------------------------------------- formatting
def test_format_p_and_stars():
    assert rules.format_p(0.0123) == "p = 0.012"
    assert rules.format_p(0.0009) == "p < 0.001"
    assert rules.format_p(None) == "p = n/a"
    assert st.stars(0.0005) == "***" and st.stars(0.005) == "**" and st.stars(0.03) == "*"
    assert st.stars(0.3) == "ns" and st.stars(np.nan) == ""
    with pytest.raises(ValueError, match="`alpha`"):
        st.stars(0.01, alpha=2)


def test_pingouin_columns_mapped_in_one_place():
    assert st._PG_COLUMNS["p_val"] == "p" and st._PG_COLUMNS["hedges"] == "hedges_g"
