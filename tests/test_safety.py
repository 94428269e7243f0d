"""Tests for analysis.chapters.safety.analysis on tiny hand-made frames, plus one slow run of the chapter notebook.

Expected values come from hand calculation (shown in comments) or from scipy, never from the paper.
"""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from analysis.science import figures
from analysis.chapters.safety import analysis as safety

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------------- fixtures
def _patients(groups, lost=None):
    """One row per patient; arm follows from the group."""
    lost = lost or [False] * len(groups)
    return pd.DataFrame({
        "patient_id": [f"p{i}" for i in range(len(groups))],
        "arm": ["control" if g == "Control" else "MSCT" for g in groups],
        "group": groups,
        "lost_to_follow_up": lost,
    })


def _visits(before, after, *, lab="albumin_g_l", group="Responder", prefix="p"):
    """Week-0 and week-48 rows for one lab (NaN = value missing)."""
    n = len(before)
    ids = [f"{prefix}{i}" for i in range(n)]
    return pd.DataFrame({"patient_id": ids * 2, "week": [0] * n + [48] * n, "group": group,
                         lab: list(before) + list(after)})


# --------------------------------------------------------------------------------------------- trial flow
def test_trial_flow_counts_by_hand():
    p = _patients(["Responder"] * 3 + ["Non-responder"] * 2 + ["Control"] * 4,
                  lost=[False, False, False, True, False, True, False, False, True])
    flow = safety.trial_flow(p)
    counts = safety.flow_counts(flow)
    assert counts == {"enrolled": 9, "msct": 5, "control": 4, "responders": 3, "non_responders": 2,
                      "lost_msct": 1, "lost_control": 2, "analysed_msct": 4, "analysed_control": 2}
    analysed = flow.query("stage == 'analysed'").set_index("group")["n"]
    assert analysed.to_dict() == {"Responder": 3, "Non-responder": 1, "Control": 2}
    assert "Unclassified" not in set(flow["group"])


def test_trial_flow_missing_arm_gives_zero_rows_and_unclassified_is_shown():
    p = _patients(["Responder", "Unclassified"])  # no control arm at all
    flow = safety.trial_flow(p)
    assert safety.flow_counts(flow)["control"] == 0
    assert flow.query("stage == 'randomised' and arm == 'control'")["n"].item() == 0
    assert flow.query("group == 'Unclassified' and stage == 'classified at response week'")["n"].item() == 1
    assert "unclassified 1" in safety.flow_labels(flow)["analysed_msct"]


def test_flow_counts_fit_the_flow_diagram():
    counts = safety.flow_counts(safety.trial_flow(_patients(["Responder", "Control"])))
    assert set(counts) == set(figures._FLOW_BOXES)
    labels = safety.flow_labels(safety.trial_flow(_patients(["Responder", "Control"])))
    ax = figures.flow_diagram(counts, labels=labels)
    assert len(ax.texts) == 9


def test_trial_flow_rejects_missing_column():
    with pytest.raises(ValueError, match="`patients`"):
        safety.trial_flow(pd.DataFrame({"arm": ["MSCT"], "group": ["Responder"]}))


# --------------------------------------------------------------------------------------------- baseline
def test_baseline_mean_sd_by_hand():
    # ages 40, 50, 60, 70: mean 55, SD sqrt(((15²+5²)·2)/3) = sqrt(500/3) = 12.91
    p = pd.DataFrame({"arm": ["MSCT"] * 4, "age": [40, 50, 60, 70]})
    row = safety.baseline_table(p, variables=["age"]).iloc[0]
    assert row["statistic"] == "mean ± SD"
    assert row["sd"] == pytest.approx(math.sqrt(500 / 3))
    assert row["summary"] == "55.00 ± 12.91"


def test_baseline_skewed_in_one_group_uses_median_everywhere():
    # group b: one far outlier -> |skewness| > 1 -> skewed; group a symmetric
    p = pd.DataFrame({"arm": ["a"] * 6 + ["b"] * 6,
                      "x": [1, 2, 3, 4, 5, 6, 1, 1, 1, 1, 1, 50]})
    t = safety.baseline_table(p, variables=["x"])
    assert set(t["statistic"]) == {"median [IQR]"}
    # group a: median 3.5, quartiles 2.25 and 4.75 (numpy linear interpolation)
    assert t.loc[t["level"] == "a", "summary"].item() == "3.50 [2.25–4.75]"


def test_baseline_categorical_and_boolean_percentages():
    p = pd.DataFrame({"arm": ["MSCT"] * 4, "sex": ["F", "F", "M", None],
                      "prior_biologic": pd.array([True, False, None, True], dtype="boolean")})
    t = safety.baseline_table(p, variables=["sex", "prior_biologic"]).set_index("variable")
    assert t.loc["sex=F", "summary"] == "2 (66.7%)"  # 2 of the 3 non-missing
    assert t.loc["prior_biologic", "summary"] == "2 (66.7%)"
    wide = safety.baseline_wide(safety.baseline_table(p, variables=["sex"]))
    assert list(wide.columns) == ["characteristic", "statistic", "MSCT (n = 3)"]


def test_baseline_default_skips_empty_optional_columns():
    p = pd.DataFrame({"arm": ["MSCT", "control"], "age": [40, 50], "height_cm": [np.nan, np.nan]})
    assert set(safety.baseline_table(p)["variable"]) == {"age"}


def test_baseline_rejects_bad_by():
    with pytest.raises(TypeError, match="`by`"):
        safety.baseline_table(pd.DataFrame({"arm": ["MSCT"]}), by=["arm"])


# --------------------------------------------------------------------------------------------- safety labs
def test_safety_labs_come_from_the_dictionary_and_match_table1():
    labs = safety.safety_labs()
    assert len(labs) == 11
    assert (labs["normal_low"] < labs["normal_high"]).all()
    assert set(labs["lab"]) == set(safety.published_table1()["lab"])


def test_paired_t_by_hand():
    # changes 1, 2, 2, 1: mean 1.5, SD sqrt(1/3), t = 1.5 / (sqrt(1/3)/2) = 3·sqrt(3) = 5.196, dof 3
    v = _visits([1, 2, 3, 4], [2, 4, 5, 5])
    row = safety.lab_changes(v, labs=["albumin_g_l"], groups=["Responder"]).iloc[0]
    assert row["n"] == 4 and row["dof"] == 3
    assert row["mean_diff"] == pytest.approx(1.5)
    assert row["t"] == pytest.approx(3 * math.sqrt(3))
    assert row["p"] == pytest.approx(2 * sps.t.sf(3 * math.sqrt(3), 3))
    assert row["test"] == "paired t test"


def test_unpaired_t_by_hand():
    # before 1,2,3 / after 2,3,4: pooled SD 1, SE sqrt(1/3 + 1/3), t = 1 / 0.8165 = 1.2247, dof 4
    v = _visits([1, 2, 3], [2, 3, 4])
    row = safety.lab_changes(v, labs=["albumin_g_l"], groups=["Responder"], test="unpaired").iloc[0]
    assert row["t"] == pytest.approx(1 / math.sqrt(2 / 3))
    assert row["dof"] == 4
    assert row["p"] == pytest.approx(sps.ttest_ind([2, 3, 4], [1, 2, 3]).pvalue)
    assert row["test"] == "Student's two-sample t test"


def test_sd_and_sem_by_hand():
    # 2,4,4,4,5,5,7,9: mean 5, SD sqrt(32/7) = 2.138, SEM = SD / sqrt(8) = 0.756
    v = _visits([2, 4, 4, 4, 5, 5, 7, 9], [3, 5, 4, 4, 6, 5, 8, 9])
    row = safety.lab_changes(v, labs=["albumin_g_l"], groups=["Responder"]).iloc[0]
    assert row["sd_before"] == pytest.approx(math.sqrt(32 / 7))
    assert row["sem_before"] == pytest.approx(math.sqrt(32 / 7) / math.sqrt(8))
    assert row["before_sd"] == "5.00 ± 2.14"
    assert row["before_sem"] == "5.00 ± 0.76"


def test_hedges_g_paired_by_formula():
    # g = J · mean(diff) / sqrt((s0² + s1²) / 2), J = 1 - 3 / (4(n-1) - 1)  (Borenstein et al. 2009, 4.27)
    before, after = np.array([1.0, 2, 3, 4]), np.array([2.0, 4, 5, 5])
    n = before.size
    d = (after - before).mean() / math.sqrt((before.var(ddof=1) + after.var(ddof=1)) / 2)
    g = (1 - 3 / (4 * (n - 1) - 1)) * d
    row = safety.lab_changes(_visits(before, after), labs=["albumin_g_l"], groups=["Responder"]).iloc[0]
    assert row["hedges_g"] == pytest.approx(g)
    assert row["g_ci_low"] < row["hedges_g"] < row["g_ci_high"]


def test_paired_uses_complete_pairs_unpaired_uses_all_values():
    v = _visits([1, 2, 3, 4], [2, 4, 5, np.nan])
    paired = safety.lab_changes(v, labs=["albumin_g_l"], groups=["Responder"]).iloc[0]
    assert (paired["n"], paired["n_before"], paired["mean_before"]) == (3, 3, 2.0)
    unpaired = safety.lab_changes(v, labs=["albumin_g_l"], groups=["Responder"], test="unpaired").iloc[0]
    assert (unpaired["n"], unpaired["n_before"], unpaired["mean_before"]) == (7, 4, 2.5)


def test_significance_flag_is_strictly_below_alpha():
    v = _visits([1, 2, 3, 4], [2, 4, 5, 5])
    p = safety.lab_changes(v, labs=["albumin_g_l"], groups=["Responder"]).loc[0, "p"]
    at = safety.lab_changes(v, labs=["albumin_g_l"], groups=["Responder"], alpha=float(p)).iloc[0]
    assert not at["significant"]  # p == alpha is not significant
    above = safety.lab_changes(v, labs=["albumin_g_l"], groups=["Responder"], alpha=float(p) * 1.01).iloc[0]
    assert above["significant"]


def test_absent_group_gives_nan_row_not_an_error():
    v = _visits([1, 2, 3], [2, 3, 4])
    res = safety.lab_changes(v, labs=["albumin_g_l"], groups=["Responder", "Non-responder"])
    nr = res.set_index("group").loc["Non-responder"]
    assert nr["n"] == 0 and math.isnan(nr["p"]) and not nr["significant"]
    assert nr["before_sem"] == "n/a"
    single = safety.lab_changes(_visits([1], [2]), labs=["albumin_g_l"], groups=["Responder"]).iloc[0]
    assert single["n"] == 1 and math.isnan(single["t"]) and "fewer than 2" in single["note"]


def test_away_from_normal_range():
    # albumin normal range 40-55: 35 -> 30 moves away; 35 -> 38 moves toward
    down = safety.lab_changes(_visits([34, 35, 36], [29, 30, 31.5]), labs=["albumin_g_l"],
                              groups=["Responder"]).iloc[0]
    up = safety.lab_changes(_visits([34, 35, 36], [37, 38, 39.5]), labs=["albumin_g_l"],
                            groups=["Responder"]).iloc[0]
    assert down["away_from_normal"] and not up["away_from_normal"]
    worse = safety.lab_worsening(pd.DataFrame([down, up]))
    assert len(worse) == int(down["significant"])


def test_lab_changes_rejects_bad_arguments():
    v = _visits([1, 2, 3], [2, 3, 4])
    with pytest.raises(ValueError, match="`test`"):
        safety.lab_changes(v, labs=["albumin_g_l"], test="welch")
    with pytest.raises(ValueError, match="`alpha`"):
        safety.lab_changes(v, labs=["albumin_g_l"], alpha=1.5)
    with pytest.raises(ValueError, match="`visits`"):
        safety.lab_changes(v, labs=["no_such_lab"])


def test_lab_changes_does_not_mutate_input():
    v = _visits([1, 2, 3], [2, 3, 4])
    copy = v.copy()
    safety.lab_changes(v, labs=["albumin_g_l"], groups=["Responder"])
    pd.testing.assert_frame_equal(v, copy)


def test_lab_long_subsamples_per_group():
    v = pd.concat([_visits(range(10), range(10), group="Responder", prefix="r"),
                   _visits(range(3), range(3), group="Control", prefix="c")])
    long = safety.lab_long(v, labs=["albumin_g_l"], max_per_group=4)
    assert long.groupby("group")["patient_id"].nunique().to_dict() == {"Control": 3, "Responder": 4}


# --------------------------------------------------------------------------------------------- published Table 1
def test_published_table1_shape_and_flags():
    t1 = safety.published_table1()
    assert len(t1) == 22
    assert t1.groupby("group")["lab"].nunique().to_dict() == {"Non-responder": 11, "Responder": 11}
    assert t1["significant"].dtype == bool


def test_published_table1_bad_folder(tmp_path):
    with pytest.raises(ValueError, match="`published_dir`"):
        safety.published_table1(tmp_path)
    (tmp_path / "table1.csv").write_text("measure,column\nx,y\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lacks column"):
        safety.published_table1(tmp_path)


def test_compare_with_published_marks_agreement_and_missing_rows():
    pub = safety.published_table1()
    rep = pd.DataFrame({"lab": ["albumin_g_l", "urea_mmol_l"], "group": ["Responder", "Responder"], "n": [28, 28],
                        "before_sem": ["1 ± 1", "1 ± 1"], "after_sem": ["2 ± 1", "2 ± 1"], "p": [0.2, 0.01],
                        "significant": [False, True]})
    cmp_ = safety.compare_with_published(rep, pub).set_index(["lab", "group"])
    assert not cmp_.loc[("albumin_g_l", "Responder"), "same_verdict"]   # paper *, reproduction not
    assert not cmp_.loc[("urea_mmol_l", "Responder"), "same_verdict"]   # reproduction *, paper not
    missing = cmp_.loc[("globulin_g_l", "Non-responder")]
    assert missing["before_reproduced"] == "n/a" and not missing["same_verdict"]
    assert len(cmp_) == len(pub)


def test_table1_claim_ids_exist_in_registry():
    from analysis.claims.registry import load_published

    registry = set(load_published().query("chapter == 'safety'")["claim_id"])
    v = pd.concat([_visits([1, 2, 3], [2, 3, 4], lab=lab, group=g, prefix=g[:3])
                   for lab in safety.safety_labs()["lab"] for g in ("Responder", "Non-responder")])
    v = v.groupby(["patient_id", "week", "group"], as_index=False).first()
    ids = set(safety.table1_claims(safety.lab_changes(v))["claim_id"])
    assert len(ids) == 22 and ids <= registry


# --------------------------------------------------------------------------------------------- adverse events
@pytest.fixture
def ae_data():
    pts = pd.DataFrame({"patient_id": ["a", "b", "c", "d"], "arm": ["MSCT", "MSCT", "control", "control"]})
    ae = pd.DataFrame({
        "patient_id": ["a", "a", "b", "c", "c", "d"],
        "week": [0, 0, 12, 4, 0, 24],
        "event": ["Fever", "chills", "fever", "Pneumonia", "rash", "acute GVHD"],
        "serious": pd.array([False, False, False, True, False, False], dtype="boolean"),
    })
    return ae, pts


def test_classify_events(ae_data):
    ae, _ = ae_data
    cats = safety.classify_events(ae)["category"].tolist()
    assert cats == ["infusion reaction (fever/chills)"] * 3 + ["infection", "other", "GVHD"]
    assert safety.classify_events(ae)["event"].iloc[0] == "fever"  # normalised term


def test_adverse_event_summary_by_hand(ae_data):
    ae, pts = ae_data
    s = safety.adverse_event_summary(ae, pts)
    get = lambda m, arm, what="n_patients": safety.ae_count(s, m, arm=arm, what=what)  # noqa: E731
    assert get("any adverse event", "MSCT") == 2 and get("any adverse event", "MSCT", "n_events") == 3
    assert get("fever/chills after infusion", "MSCT") == 1      # b's fever began in week 12
    assert get("serious adverse event", "control") == 1
    assert get("serious infection", None) == 1 and get("GVHD", "control") == 1
    s2 = safety.adverse_event_summary(ae, pts, infusion_weeks=(0, 12))
    assert safety.ae_count(s2, "fever/chills after infusion", arm="MSCT") == 2


def test_adverse_event_table_by_hand(ae_data):
    ae, pts = ae_data
    t = safety.adverse_event_table(ae, pts).set_index(["event", "arm"])
    assert t.loc[("fever", "MSCT"), "n_events"] == 2
    assert t.loc[("fever", "MSCT"), "pct_patients"] == pytest.approx(100.0)  # a and b of 2 MSCT patients
    assert t.loc[("pneumonia", "control"), "n_serious"] == 1


def test_no_adverse_events(ae_data):
    ae, pts = ae_data
    empty = ae.iloc[0:0]
    assert safety.adverse_event_table(empty, pts).empty
    s = safety.adverse_event_summary(empty, pts)
    assert len(s) == 12 and s["n_patients"].sum() == 0


def test_ae_count_rejects_unknown_measure(ae_data):
    ae, pts = ae_data
    with pytest.raises(ValueError, match="`measure`"):
        safety.ae_count(safety.adverse_event_summary(ae, pts), "rash")


# --------------------------------------------------------------------------------------------- the chapter
EXPECTED_CSVS = ["trial_flow", "baseline_by_arm", "baseline_by_arm_long", "baseline_by_group",
                 "baseline_by_group_long", "safety_labs", "table1", "table1_vs_published", "adverse_events",
                 "adverse_event_summary", "claims"]


def _data_dir(tmp_path) -> Path:
    """The shipped synthetic cohort, or one simulated the same way if it is not there yet."""
    shipped = ROOT / "data" / "synthetic"
    if (shipped / "patients.csv").exists():
        return shipped
    from analysis.science import simulate

    out = tmp_path / "cohort"
    simulate.write_cohort(simulate.simulate(seed=2018), out, meta=simulate.cohort_meta(seed=2018))
    return out


def _run(data_dir, out, **params):
    import papermill as pm

    out.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(ROOT / "book" / "safety.ipynb"), str(out / "safety.ipynb"),
                        parameters={"data_dir": str(data_dir), "output_dir": str(out), **params},
                        progress_bar=False, cwd=str(ROOT))
    return out / "results" / "safety"


@pytest.mark.slow
def test_notebook_writes_expected_results(tmp_path):
    results = _run(_data_dir(tmp_path), tmp_path / "out")
    for name in EXPECTED_CSVS:
        assert (results / f"{name}.csv").is_file(), name
    for name in ("flow", "labs_before_after"):
        assert (results / "figures" / f"{name}.png").is_file(), name
    claims = pd.read_csv(results / "claims.csv")
    registry = pd.read_csv(ROOT / "data" / "published" / "claims" / "safety.csv")
    assert sorted(claims["claim_id"]) == sorted(registry["claim_id"])


@pytest.mark.slow
def test_notebook_survives_a_cohort_without_responders(tmp_path):
    from analysis.science.derive import derive
    from analysis.intake.io import load

    src = _data_dir(tmp_path)
    responders = set(derive(load(src)).patients.query("group == 'Responder'")["patient_id"])
    dst = tmp_path / "no_responders"
    shutil.copytree(src, dst)
    for name in ("patients", "visits", "adverse_events"):
        table = pd.read_csv(dst / f"{name}.csv", dtype=str, keep_default_na=False)
        table.loc[~table["patient_id"].isin(responders)].to_csv(dst / f"{name}.csv", index=False)
    results = _run(dst, tmp_path / "out", table1_test="unpaired")
    claims = pd.read_csv(results / "claims.csv").set_index("claim_id")
    assert claims.loc["safety.t1_albumin_responder", "verdict"] == "not testable with these data"
    assert claims.loc["safety.table1_n_responder", "verdict"] == "not reproduced"  # 0 responders, not 28
    assert (results / "table1.csv").is_file()
