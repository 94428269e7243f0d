"""Tests for analysis.chapters.ifng.analysis on tiny hand-made frames (expected values worked by hand or by an independent formula)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.chapters.ifng import analysis as ifng
from analysis.chapters.ifng import verdicts


def _visits(rows):
    """rows: (patient_id, group, week, ifn_g, das28)."""
    return pd.DataFrame(rows, columns=["patient_id", "group", "week", "ifn_g", "das28"])


# ------------------------------------------------------------------------------------------ subgroup rule
def test_classify_subgroup_boundaries():
    # threshold 2: "high" is strictly above; exactly 2.0 is not high (the paper: "> 2 pg/mL").
    base = [2.01, 2.0, 2.0, 0.25, np.nan, np.nan, 5.0]
    peak = [0.25, 2.01, 2.0, np.nan, 3.0, np.nan, 9.0]
    got = ifng.classify_subgroup(base, peak, threshold=2.0).tolist()
    assert got == ["Before", "After", "Never high", "Never high", "After", "Not measured", "Before"]


def test_classify_subgroup_measured_flag_and_threshold():
    # a patient whose values were all below LLOQ and excluded (NaN) is measured, hence "Never high"
    got = ifng.classify_subgroup([np.nan], [np.nan], threshold=2.0, measured=[True]).tolist()
    assert got == ["Never high"]
    # threshold 5: 3 pg/mL is no longer high
    assert ifng.classify_subgroup([3.0], [6.0], threshold=5).tolist() == ["After"]
    with pytest.raises(ValueError, match="`threshold`"):
        ifng.classify_subgroup([1.0], [1.0], threshold=-1)


def test_profile_rule_from_visits():
    rows = [
        # a: high at week 0 -> Before, rise week 0
        ("a", "Responder", 0, 3.0, 6.0), ("a", "Responder", 2, 1.0, 5.0), ("a", "Responder", 12, 0.5, 3.0),
        # b: low at 0, high at week 3 -> After, rise 3
        ("b", "Responder", 0, 1.0, 6.0), ("b", "Responder", 3, 4.0, 5.0), ("b", "Responder", 12, 1.0, 3.5),
        # c: high only at week 12 (outside the 4-week window) -> Never high
        ("c", "Responder", 0, 1.0, 6.0), ("c", "Responder", 4, 2.0, 5.0), ("c", "Responder", 12, 8.0, 3.0),
        # d: non-responder, high in window
        ("d", "Non-responder", 0, 0.5, 6.0), ("d", "Non-responder", 1, 2.5, 6.0), ("d", "Non-responder", 12, 1.0, 6.1),
        # e: control -> left out
        ("e", "Control", 0, 9.0, 6.0),
    ]
    prof = ifng.ifng_profile(_visits(rows), threshold=2.0, window_weeks=4).set_index("patient_id")
    assert list(prof.index) == ["a", "b", "c", "d"]
    assert prof["subgroup"].tolist() == ["Before", "After", "Never high", "After"]
    assert prof["rise_week"].tolist()[:2] == [0.0, 3.0] and math.isnan(prof.loc["c", "rise_week"])
    # ΔIFN-γ = max over weeks 0..12 − week 0: c = 8 − 1 = 7; a = 3 − 3 = 0
    assert prof.loc["c", "delta_ifng"] == 7.0 and prof.loc["a", "delta_ifng"] == 0.0
    # ΔDAS28 = week 12 − week 0
    assert prof.loc["b", "das28_change_12"] == pytest.approx(-2.5)
    # a longer window (12) makes c an After patient
    wide = ifng.ifng_profile(_visits(rows), window_weeks=12).set_index("patient_id")
    assert wide.loc["c", "subgroup"] == "After"


def test_profile_lloq_flag_counts_as_measured():
    v = pd.DataFrame({"patient_id": ["a", "a"], "group": ["Responder"] * 2, "week": [0, 1],
                      "ifn_g": [np.nan, np.nan], "ifn_g_flag": ["<LLOQ", "<LLOQ"]})
    assert ifng.ifng_profile(v)["subgroup"].tolist() == ["Never high"]
    v2 = v.assign(ifn_g_flag=[None, None])
    assert ifng.ifng_profile(v2)["subgroup"].tolist() == ["Not measured"]


def test_subgroup_counts_and_share_above():
    prof = pd.DataFrame({
        "group": ["Responder"] * 4 + ["Non-responder"] * 2,
        "subgroup": ["Before", "After", "After", "Never high", "Never high", "After"],
        "rise_week": [0.0, 1.0, 2.0, np.nan, np.nan, 1.0],
        "ifng_baseline": [3.0, 1, 1, 1, 1, 1], "ifng_peak_after": [1.0, 3, 4, 1, 1, 3],
        "ifng_peak_window": [3.0, 3, 4, 1, 1, 3],
        "high_before": [True, False, False, False, False, False],
        "high_after": [False, True, True, False, False, True],
        "high_window": [True, True, True, False, False, True]})
    counts = ifng.subgroup_counts(prof).set_index("subgroup")
    assert counts["n"].tolist() == [1, 2, 1, 0]
    assert counts.loc["After", "median_rise_week"] == 1.5
    share = ifng.share_above(prof).set_index(["group", "period"])
    assert share.loc[("Responder", "before or after"), "n_high"] == 3
    assert share.loc[("Non-responder", "after (window)"), "proportion"] == 0.5


# ------------------------------------------------------------------------------------------ diagnostics
def _wilson_by_hand(k, n, z=1.959963984540054):
    # Wilson 1927: (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_diagnostic_metrics_hand_computed():
    # 6 responders: peaks 5, 4, 3, 2.5, 1, 2.0 (2.0 is NOT > 2) -> TP 4, FN 2
    # 4 non-responders: 3, 1, 0.5, 0.25 -> FP 1, TN 3
    prof = pd.DataFrame({"group": ["Responder"] * 6 + ["Non-responder"] * 4,
                         "ifng_peak_window": [5, 4, 3, 2.5, 1, 2.0, 3, 1, 0.5, 0.25]})
    tab, met = ifng.diagnostic_summary(prof, threshold=2.0)
    assert tab[["TP", "FP", "FN", "TN", "n"]].values.tolist() == [[4, 1, 2, 3, 10]]
    m = met.set_index("metric")
    assert m.loc["sensitivity", "estimate"] == pytest.approx(4 / 6)
    assert m.loc["specificity", "estimate"] == pytest.approx(3 / 4)
    assert m.loc["PPV", "estimate"] == pytest.approx(4 / 5)
    assert m.loc["NPV", "estimate"] == pytest.approx(3 / 5)
    for metric, (k, n) in {"sensitivity": (4, 6), "specificity": (3, 4), "PPV": (4, 5), "NPV": (3, 5)}.items():
        lo, hi = _wilson_by_hand(k, n)
        assert m.loc[metric, "ci_low"] == pytest.approx(lo, abs=1e-9)
        assert m.loc[metric, "ci_high"] == pytest.approx(hi, abs=1e-9)
    # threshold 5: only the 5.0 responder would be > 5? no: 5 is not > 5 -> sensitivity 0
    _, met5 = ifng.diagnostic_summary(prof, threshold=5)
    assert met5.set_index("metric").loc["sensitivity", "estimate"] == 0.0


def test_wilson_known_value():
    # Newcombe 1998 (Stat Med 17:857), Table I example: 81/263 -> 0.2553 to 0.3662 (Wilson, method 3)
    prof = pd.DataFrame({"group": ["Responder"] * 263, "ifng_peak_window": [3.0] * 81 + [1.0] * 182})
    _, met = ifng.diagnostic_summary(prof)
    row = met.set_index("metric").loc["sensitivity"]
    assert (round(row["ci_low"], 4), round(row["ci_high"], 4)) == (0.2553, 0.3662)


def test_roc_summary_auc_and_youden_by_hand():
    # pos = [3, 0.35], neg = [0.1, 0.4]: pairs pos>neg: (3,.1)(3,.4)(.35,.1) = 3 of 4 -> AUC 0.75
    prof = pd.DataFrame({"group": ["Responder", "Responder", "Non-responder", "Non-responder"],
                         "ifng_peak_window": [3.0, 0.35, 0.1, 0.4], "ifng_baseline": [1.0, 1, 1, 1]})
    curves, summ = ifng.roc_summary(prof, n_boot=200, seed=3)
    s = summ.set_index("score")
    assert s.loc["ifng_peak_window", "auc"] == 0.75
    assert s.loc["ifng_baseline", "auc"] == 0.5  # all tied
    # Youden: cut-off 3 -> sens 1/2, spec 1 -> J 0.5 (ties go to the highest threshold)
    assert s.loc["ifng_peak_window", "youden_threshold"] == 3.0
    assert s.loc["ifng_peak_window", "youden_j"] == 0.5
    # seeded bootstrap: same seed, same CI
    _, again = ifng.roc_summary(prof, n_boot=200, seed=3)
    assert again["ci_low"].tolist() == summ["ci_low"].tolist()


# ------------------------------------------------------------------------------------------ time course
def test_subgroup_tests_previous_and_baseline():
    v = pd.DataFrame({"patient_id": list("abc") * 3, "week": [0] * 3 + [1] * 3 + [2] * 3,
                      "il_10": [1.0, 2, 3, 2, 4, 5, 2, 4, 6]})
    prof = pd.DataFrame({"patient_id": list("abc"), "group": ["Responder"] * 3, "subgroup": ["Before"] * 3})
    prev = ifng.subgroup_tests(v, prof, markers=["il_10"], subgroups=["Before"])
    assert prev[["before", "after"]].values.tolist() == [[0, 1], [1, 2]]
    base = ifng.subgroup_tests(v, prof, markers=["il_10"], subgroups=["Before"], reference="baseline")
    assert base[["before", "after"]].values.tolist() == [[0, 1], [0, 2]]
    # week 1 vs 0: diffs 1, 2, 2 -> mean 5/3
    assert prev.loc[0, "mean_diff"] == pytest.approx(5 / 3)
    with pytest.raises(ValueError, match="`reference`"):
        ifng.subgroup_tests(v, prof, markers=["il_10"], reference="first")


def test_first_significant_lag_uses_median_rise_week():
    tests = pd.DataFrame({"subgroup": ["After"] * 3, "marker": ["m"] * 3, "reference": ["previous"] * 3,
                          "after": [1, 2, 4], "significant": [False, False, True], "mean_diff": [0.1, 0.2, -0.5]})
    prof = pd.DataFrame({"group": ["Responder"] * 3, "subgroup": ["After"] * 3, "rise_week": [1.0, 2.0, 2.0]})
    fs = ifng.first_significant(tests, prof).iloc[0]
    assert (fs["rise_week"], fs["first_sig_week"], fs["lag_weeks"], fs["direction"]) == (2.0, 4.0, 2.0, "decrease")


def test_change_after_rise_alignment():
    # a rises at 0: pair (0, 3) [latest of rise+2..rise+3]; b rises at 3: no visit 5-6 -> left out
    v = pd.DataFrame({"patient_id": ["a"] * 4 + ["b"] * 3, "week": [0, 2, 3, 12, 0, 3, 12],
                      "il_6": [10.0, 8, 6, 5, 9, 9, 1]})
    prof = pd.DataFrame({"patient_id": ["a", "b"], "group": ["Responder"] * 2, "rise_week": [0.0, 3.0]})
    res = ifng.change_after_rise(v, prof, markers=["il_6"]).iloc[0]
    assert res["n"] == 1 and res["mean_rise"] == 10.0 and res["mean_later"] == 6.0


def test_delta_correlation_matches_numpy():
    prof = pd.DataFrame({"group": ["Responder"] * 4 + ["Non-responder"] * 3,
                         "delta_ifng": [1.0, 2, 3, 5, 0, 0.5, 1], "das28_change_12": [-1.0, -1.5, -3, -4, 0.2, 0, 0.1]})
    res = ifng.delta_correlation(prof).set_index(["subset", "method"])
    r = np.corrcoef(prof["delta_ifng"], prof["das28_change_12"])[0, 1]
    assert res.loc[("MSCT (both)", "pearson"), "r"] == pytest.approx(r)
    assert res.loc[("MSCT (both)", "pearson"), "n"] == 7


def test_baseline_logistic_degenerate():
    prof = pd.DataFrame({"patient_id": range(5), "group": ["Responder"] * 5, "ifng_baseline": [1.0] * 5})
    pat = pd.DataFrame({"patient_id": range(5), "das28_baseline": [6.0] * 5})
    res = ifng.baseline_logistic(prof, pat)
    assert res["odds_ratio"].isna().all() and "not fitted" in res.loc[0, "note"]


def test_baseline_logistic_separated_without_warning():
    """Baseline IFN-γ above 6 in exactly the responders (complete separation, as in a small trial): the fit
    diverges, the table says so, and no overflow warning reaches the page."""
    import warnings

    x = np.arange(1.0, 13.0)
    prof = pd.DataFrame({"patient_id": range(12), "ifng_baseline": x,
                         "group": np.where(x > 6, "Responder", "Non-responder")})
    pat = pd.DataFrame({"patient_id": range(12),
                        "das28_baseline": [5.1, 6.3, 5.7, 6.0, 5.2, 6.8, 5.5, 6.1, 5.9, 6.4, 5.3, 6.6]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = ifng.baseline_logistic(prof, pat)
    assert (res["note"] == "the fit did not converge: estimates unreliable").all()
    assert res.loc[0, "n"] == 12 and res.loc[0, "n_responders"] == 6


def test_verdicts_flip_without_effect():
    share = pd.DataFrame({"group": ["Responder", "Non-responder"], "period": ["before or after"] * 2,
                          "n": [20, 20], "n_high": [12, 11], "proportion": [0.6, 0.55]})
    roc = pd.DataFrame({"score": ["ifng_peak_window"], "auc": [0.55], "ci_low": [0.4], "ci_high": [0.7]})
    diag = pd.DataFrame({"metric": ["sensitivity", "specificity"], "estimate": [0.6, 0.45]})
    res = ifng.qualitative_verdicts(share=share, transient=None, infections=None, first_sig=None,
                                    roc=roc, diagnostics=diag).set_index("claim_id")
    # 60% vs 55% high is not a difference (Fisher p ~ 1): both Fig. 5a claims fail; AUC CI covers 0.5
    assert not res.loc["ifng.high_in_responders", "holds"]
    assert not res.loc["ifng.low_in_nonresponders", "holds"]
    assert not res.loc["ifng.predicts_response", "holds"]
    assert not res.loc["ifng.lag_2_3_weeks", "testable"]


def test_infections_missing_table():
    prof = pd.DataFrame({"patient_id": ["a"], "high_window": [True]})
    assert not ifng.infections_in_window(None, prof)["available"].item()


def _ragged_visits(seed=0):
    """Responders of two subgroups, weeks 0-3, with missing visits, a missing value and a constant change."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(14):
        for w in (0, 1, 2, 3):
            if (i + w) % 5 == 4:  # a missed visit
                continue
            il10 = 5 + w * (i % 3) + rng.normal()
            rows.append((f"p{i:02d}", w, np.nan if (i, w) == (3, 2) else il10, 4.0 + w))  # il_6: change 1 for all
    v = pd.DataFrame(rows, columns=["patient_id", "week", "il_10", "il_6"]).sample(frac=1, random_state=seed)
    prof = pd.DataFrame({"patient_id": [f"p{i:02d}" for i in range(14)] + ["x"],
                         "group": ["Responder"] * 14 + ["Non-responder"],
                         "subgroup": ["Before", "After"] * 7 + ["Before"]})
    return v, prof


@pytest.mark.parametrize("reference", ["previous", "baseline"])
@pytest.mark.parametrize("test", ["t", "wilcoxon"])
def test_subgroup_tests_equal_compare_paired_per_cell(reference, test):
    # the vectorised table must be exactly stats.compare_paired called on each subgroup x marker x visit pair
    from analysis.science import stats

    v, prof = _ragged_visits()
    got = ifng.subgroup_tests(v, prof, markers=["il_10", "il_6"], weeks=[0, 1, 2, 3], reference=reference,
                              test=test, alpha=0.05)
    rows = []
    for sg in ("Before", "After"):
        ids = prof.loc[prof["group"].eq("Responder") & prof["subgroup"].eq(sg), "patient_id"]
        d = v[v["patient_id"].isin(ids)]
        for m in ("il_10", "il_6"):
            for b, a in ([(0, 1), (1, 2), (2, 3)] if reference == "previous" else [(0, 1), (0, 2), (0, 3)]):
                res = stats.compare_paired(d, dv=m, within="week", subject="patient_id", pair=(b, a), test=test)
                rows.append(res.assign(subgroup=sg, marker=m, reference=reference))
    want = pd.concat(rows, ignore_index=True)
    want = want[["subgroup", "marker", "reference"] + [c for c in want.columns
                                                       if c not in ("subgroup", "marker", "reference")]]
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert (got.loc[got["marker"].eq("il_6"), "note"] == "all differences are equal: test undefined").all()


def test_steps_after_rise_equal_the_pivot_table_rule():
    # the dictionary of first non-missing values gives what the pivot table (aggfunc="first") gave, including a
    # NaN change for a patient measured at the week but not at the previous visit, and skipping a patient
    # with no value at all
    rows = [("a", 0, 1.0), ("a", 1, np.nan), ("a", 1, 2.0), ("a", 2, 4.0), ("a", 3, 5.0),  # duplicate week 1
            ("b", 0, 1.0), ("b", 2, 3.0), ("b", 3, 3.5),                                    # no week 1
            ("c", 0, np.nan), ("c", 2, np.nan),                                              # never measured
            ("d", 0, 2.0), ("d", 1, 2.5), ("d", 2, 2.0), ("d", 3, 1.0), ("d", 4, 0.5)]
    v = pd.DataFrame(rows, columns=["patient_id", "week", "il_10"])
    prof = pd.DataFrame({"patient_id": list("abcd"), "subgroup": ["Before", "After", "After", "After"],
                         "rise_week": [0.0, 0.0, 0.0, 1.0]})
    got = dict(verdicts._steps_after_rise(v, prof, "il_10", [0, 1, 2, 3, 4, 12]))
    wide = v.pivot_table(index="patient_id", columns="week", values="il_10", aggfunc="first")
    want = {}
    for sg in ("Before", "After"):
        sub = prof[prof["subgroup"].eq(sg)]
        for lag in (2, 3):
            ch = [wide.loc[p, r + lag] - wide.loc[p, r + lag - 1] for p, r in zip(sub["patient_id"], sub["rise_week"].astype(int))
                  if p in wide.index and r + lag <= 4]
            want[f"{sg}, {lag} weeks after the rise"] = np.asarray(ch, float)
    assert got.keys() == want.keys()
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])
    assert np.isnan(got["After, 2 weeks after the rise"]).sum() == 1  # b: week 2 − week 1 (missing)


def test_first_significant_equals_sort_and_merge_reference():
    # earliest significant visit per subgroup x marker x reference (first row on ties, a missing visit last),
    # as sorting the significant rows by visit and merging gives it
    tests = pd.DataFrame({"subgroup": ["Before"] * 3 + ["After"] * 5, "marker": ["m"] * 3 + ["k"] * 2 + ["m"] * 3,
                          "reference": "previous", "after": [3.0, 1, 2, 1, 2, 2, np.nan, 2],
                          "significant": [True, False, True, False, False, True, True, True],
                          "mean_diff": [0.5, -1, -0.2, 1, 2, -3, 4, 5]})
    prof = pd.DataFrame({"group": ["Responder"] * 3, "subgroup": ["Before", "After", "After"],
                         "rise_week": [0.0, 1.0, 2.0]})
    got = ifng.first_significant(tests, prof)
    keys = ["subgroup", "marker", "reference"]
    sig = tests[tests["significant"]].sort_values("after", kind="stable").drop_duplicates(keys)
    want = tests[keys].drop_duplicates().merge(sig[keys + ["after", "mean_diff"]], on=keys, how="left")
    assert got["first_sig_week"].tolist()[:1] == [2.0] and np.isnan(got["first_sig_week"].iloc[1])
    np.testing.assert_array_equal(got["first_sig_week"], want["after"].astype(float))
    assert got["direction"].tolist() == ["decrease", "", "decrease"]
    assert got["n_tests"].tolist() == [3, 2, 3]
    assert got["lag_weeks"].tolist()[2] == 2.0 - 1.5
    # by direction, by hand: Before m rises first at week 3 (the fall at week 2 is the other way); After m's
    # significant rises are at weeks NaN (missing visit: last) and 2, its fall at week 2
    up, down = got["first_increase_week"].tolist(), got["first_decrease_week"].tolist()
    assert up[0] == 3.0 and down[0] == 2.0 and np.isnan(up[1]) and np.isnan(down[1])
    assert up[2] == 2.0 and down[2] == 2.0


def test_ifng_profile_summaries_equal_groupby_per_patient():
    # the numpy passes give each patient's first / largest / smallest values as groupby would
    v = _visits([("a", "Responder", 0, 1.0, 6.0), ("a", "Responder", 1, np.nan, 5.0), ("a", "Responder", 2, 4.0, 5.0),
                 ("a", "Responder", 12, 0.5, 3.0), ("b", "Non-responder", 0, 3.0, 6.0), ("b", "Non-responder", 0, 9.0, 1.0),
                 ("b", "Non-responder", 3, 2.5, 5.5), ("c", "Control", 0, 7.0, 6.0),
                 ("d", "Responder", 1, np.nan, 6.0), ("d", "Responder", 12, np.nan, np.nan)])
    p = ifng.ifng_profile(v).set_index("patient_id")
    assert p.index.tolist() == ["a", "b", "d"]  # controls left out
    assert p.loc["a", ["ifng_baseline", "ifng_peak_after", "ifng_peak_12", "rise_week"]].tolist() == [1.0, 4.0, 4.0, 2.0]
    # b's duplicate week 0 keeps the first row (3.0, DAS28 6.0)
    assert p.loc["b", ["ifng_baseline", "ifng_peak_window", "rise_week", "subgroup"]].tolist() == [3.0, 3.0, 0.0, "Before"]
    assert math.isnan(p.loc["b", "das28_change_12"]) and p.loc["a", "das28_change_12"] == -3.0
    assert p.loc["d", "subgroup"] == "Not measured" and math.isnan(p.loc["d", "rise_week"])


# ------------------------------------------------------------------------------------------ rules that can fail
def _judge(profile, visits):
    """Judge the chapter's claims on a hand-made profile and visits (the paper's design)."""
    from analysis.claims.log import ClaimLog
    from analysis.science.derive import Derived

    log = ClaimLog("ifng")
    patients = profile[["patient_id", "group"]].assign(arm="MSCT")
    verdicts.judge_claims(log, Derived(patients=patients, visits=visits), profile=profile)
    return log.table().set_index("claim_id")


def _profile(peaks_resp, peaks_non, *, d_das=None, d_ifng=None):
    """Responders first (half Before, rise week 0; half After, rise week 1), then non-responders (never high)."""
    nr, nn = len(peaks_resp), len(peaks_non)
    n = nr + nn
    return pd.DataFrame({
        "patient_id": [f"p{i:02d}" for i in range(n)],
        "group": ["Responder"] * nr + ["Non-responder"] * nn,
        "ifng_peak_window": list(peaks_resp) + list(peaks_non),
        "subgroup": ["Before" if i < nr // 2 else "After" for i in range(nr)] + ["Never high"] * nn,
        "rise_week": [0.0 if i < nr // 2 else 1.0 for i in range(nr)] + [np.nan] * nn,
        "das28_change_12": d_das if d_das is not None else [-2.0] * nr + [0.0] * nn,
        "delta_ifng": d_ifng if d_ifng is not None else [1.0] * nr + [0.0] * nn,
    })


def _marker_visits(profile, effect):
    """Weeks 0–4 and 12: every marker moves by ``effect`` (per unit: IL-10 up, IL-6 and TNF-α down) from
    2 weeks after each patient's rise on; before, each patient wobbles by ±0.3 around its own level."""
    rows = []
    for i, (pid, rise) in enumerate(zip(profile["patient_id"], profile["rise_week"])):
        for w in (0, 1, 2, 3, 4, 12):
            after = 0.0 if np.isnan(rise) or w < rise + 2 else effect * (1 + 0.1 * (i % 3))
            wobble = 0.3 if (w + i) % 2 else -0.3
            rows.append((pid, w, 3.0, 5.0 + i % 4 + wobble + after, 8.0 + wobble - after, 6.0 + wobble - after, 1.0))
    return pd.DataFrame(rows, columns=["patient_id", "week", "ifn_g", "il_10", "il_6", "tnf_a", "treg_th17_ratio"])


def test_low_in_nonresponders_is_judged_against_the_responders():
    # by hand: non-responders 1/10 above 2 pg/mL, responders 10/10: difference −0.9, Newcombe CI well below 0
    prof = _profile([5.0] * 10, [3.0] + [1.0] * 9)
    assert _judge(prof, _marker_visits(prof, 1.0)).loc["ifng.low_in_nonresponders", "verdict"] == "reproduced"
    # false: non-responders 9/10 above, responders 2/10: difference +0.7, CI above 0
    prof = _profile([5.0] * 2 + [1.0] * 8, [3.0] * 9 + [1.0])
    assert _judge(prof, _marker_visits(prof, 1.0)).loc["ifng.low_in_nonresponders", "verdict"] == "not reproduced"
    # equal shares (5/10 each): the difference is 0, the interval contains it
    prof = _profile([5.0] * 5 + [1.0] * 5, [3.0] * 5 + [1.0] * 5)
    assert _judge(prof, _marker_visits(prof, 1.0)).loc["ifng.low_in_nonresponders", "verdict"] == "inconclusive"


def test_delta_das28_related_is_judged_within_responders_only():
    nr, nn = 12, 10
    d_ifng = list(np.linspace(0.5, 6.0, nr)) + list(np.linspace(-1.0, 1.0, nn))
    # responders: ΔDAS28 = −0.5·ΔIFN-γ ± 0.05 (r ≈ −1); non-responders: ΔDAS28 rises with ΔIFN-γ (r = +1), not counted
    d_das = [-0.5 * x + (0.05 if i % 2 else -0.05) for i, x in enumerate(d_ifng[:nr])] + [0.2 * x for x in d_ifng[nr:]]
    prof = _profile([5.0] * nr, [1.0] * nn, d_das=d_das, d_ifng=d_ifng)
    row = _judge(prof, _marker_visits(prof, 1.0)).loc["ifng.delta_das28_related"]
    assert row["verdict"] == "reproduced"
    assert "responders: r = -1.00" in row["reproduced"] and "non-responders r = 1.00" in row["reproduced"]
    # false: within the responders a larger IFN-γ rise goes with a smaller DAS28 fall (r ≈ +1)
    d_das = [-3.0 + 0.3 * x for x in d_ifng[:nr]] + [0.2 * x for x in d_ifng[nr:]]
    prof = _profile([5.0] * nr, [1.0] * nn, d_das=d_das, d_ifng=d_ifng)
    assert _judge(prof, _marker_visits(prof, 1.0)).loc["ifng.delta_das28_related", "verdict"] == "not reproduced"


def test_after_rise_changes_are_judged_from_the_level_before_the_rise():
    prof = _profile([5.0] * 12, [1.0] * 4)
    # by hand: each responder's IL-10 is 1.0–1.2 higher at rise + 2 and rise + 3 than before its rise
    # (IL-6 and TNF-α as much lower); the ±0.3 wobble cancels between weeks of the same parity
    holds = _judge(prof, _marker_visits(prof, 1.0))
    fails = _judge(prof, _marker_visits(prof, -1.0))
    for cid in ("ifng.il10_rise_after_ifng", "ifng.il6_fall_after_ifng", "ifng.tnfa_fall_after_ifng"):
        assert holds.loc[cid, "verdict"] == "reproduced", cid
        assert "versus the level before the rise" in holds.loc[cid, "rule"]
        assert fails.loc[cid, "verdict"] == "not reproduced", cid
    # every responder counts: 6 Before (week 0 to weeks 2, 3), 6 After (week 0 to weeks 3, 4)
    assert holds.loc["ifng.il10_rise_after_ifng", "reproduced"].count("n = 6") == 4


def test_changes_from_pre_rise_use_the_last_visit_before_the_rise():
    v = pd.DataFrame({"patient_id": ["a"] * 5, "week": [0, 1, 2, 3, 4], "x": [1.0, 2.0, 2.5, 4.0, 7.0]})
    prof = pd.DataFrame({"patient_id": ["a"], "subgroup": ["After"], "rise_week": [2.0]})
    got = dict(verdicts._changes_from_pre_rise(v, prof, "x", [0, 1, 2, 3, 4]))
    # rise at week 2: the level before is week 1 (2.0); week 4 (2 after) is 7.0; week 5 (3 after) is no visit
    assert got["After, 2 weeks after the rise"].tolist() == [5.0]
    assert got["After, 3 weeks after the rise"].tolist() == []


def test_share_above_mean_and_sem_are_pandas_groupby_bits():
    """share_above's per-cell mean and SEM are pandas' groupby mean (Kahan) and sem (Welford), bit for bit."""
    rng = np.random.default_rng(4)
    values = rng.lognormal(0, 2, 57)
    g = pd.Series(values).groupby(np.zeros(57, int))
    mean, sem = ifng._mean_sem(values)
    assert (repr(mean), repr(sem)) == (repr(float(g.mean().iloc[0])), repr(float(g.sem().iloc[0])))
    assert np.isnan(ifng._mean_sem(values[:1])[1]) and np.isnan(ifng._mean_sem(values[:0])[0])
