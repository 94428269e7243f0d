"""Models under which each claim can fail (issue 31): the simulator's models, the registry's ``fails_under`` and
the operating characteristics the robustness run derives from them."""
import numpy as np
import pandas as pd
import pytest

from analysis.claims.registry import fails_under, published
from analysis.core.chapters import MODELS
from analysis.science.simulate import MODELS as SIM_MODELS, simulate
from analysis.scorecard.robustness import CLASSES, multiverse_flips, operating_characteristics

NEW = ("null_mechanism", "harm", "placebo_response", "imbalance", "time_null", "shift")


def test_model_names():
    assert SIM_MODELS == tuple(MODELS)
    assert set(NEW) | {"calibrated", "null_treatment", "null_ifng"} == set(MODELS)


def test_every_empirical_claim_names_a_model_it_must_fail_under():
    reg = published()
    emp = reg.loc[reg["basis"].eq("empirical")]
    names = emp["fails_under"].map(fails_under)
    assert names.map(len).gt(0).all(), emp.loc[names.map(len).eq(0), "claim_id"].tolist()
    assert set().union(*names) <= set(MODELS) - {"calibrated"}
    # the claims of absence fail under harm or shift; "no improvement in controls" under placebo_response
    f = dict(zip(reg["claim_id"], reg["fails_under"].map(fails_under)))
    for cid in ("safety.no_gvhd", "safety.no_serious_ae", "safety.no_serious_infections",
                "safety.no_infectious_complications"):
        assert "harm" in f[cid]
    assert "placebo_response" in f["activity.no_improvement_controls"]
    assert "shift" in f["inflammation.il2r_no_change"]


@pytest.mark.parametrize("model", NEW)
def test_each_model_keeps_the_design(model):
    t = simulate(seed=5, n_patients=105, model=model)
    assert len(t["patients"]) == 105 and (t["patients"]["arm"] == "MSCT").sum() == 52


def _wide(t, col):
    v = t["visits"].copy()
    v[col] = pd.to_numeric(v[col], errors="coerce")
    return v.pivot(index="patient_id", columns="week", values=col)


def test_harm_adds_serious_events_in_the_msct_arm_only():
    t = simulate(seed=11, model="harm")
    ae = t["adverse_events"].merge(t["patients"][["patient_id", "arm"]], on="patient_id")
    assert ae["serious"].any() and (ae.loc[ae["serious"], "arm"] == "MSCT").all()
    assert not simulate(seed=11)["adverse_events"]["serious"].any()


def test_time_null_and_null_mechanism_keep_markers_flat():
    for model in ("time_null", "null_mechanism"):
        t = simulate(seed=3, model=model)
        ratio = _wide(t, "treg_pct") / _wide(t, "th17_pct")
        change = np.log(ratio[12] / ratio[0]).mean()
        assert abs(change) < 0.1, (model, change)
    cal = simulate(seed=3)
    ratio = _wide(cal, "treg_pct") / _wide(cal, "th17_pct")
    assert np.log(ratio[12] / ratio[0]).mean() > 0.2  # calibrated: the responders' ratio rises


def test_shift_moves_the_unchanged_markers():
    a, b = simulate(seed=4), simulate(seed=4, model="shift")
    for col, way in (("il_2r", 1), ("rf_iu_ml", -1)):
        da = (_wide(a, col)[48] - _wide(a, col)[0]).mean()
        db = (_wide(b, col)[48] - _wide(b, col)[0]).mean()
        assert way * (db - da) > 0, col


def test_no_il10_pulse_before_week_0():
    t = simulate(seed=2018, n_patients=2100)
    v = _wide(t, "il_10")
    ifn = _wide(t, "ifn_g")
    arm = t["patients"].set_index("patient_id")["arm"]
    before = ifn[0] > 2
    msct = arm.reindex(v.index).eq("MSCT")
    # the Before subgroup's week-0 IL-10 is like everyone else's (2,100 patients: a pulse would show)
    assert abs(v.loc[before & msct, 0].median() / v.loc[~before & msct, 0].median() - 1) < 0.15


def test_operating_characteristics_classes():
    prob = pd.DataFrame({
        "claim_id": ["a"] * 3 + ["b"] * 3 + ["c"] * 3 + ["d"] * 3,
        "model": ["calibrated", "harm", "shift"] * 4,
        "p_reproduced": [0.9, 0.05, 0.5, 0.9, 0.3, 0.0, 1.0, 1.0, 1.0, 0.9, 0.0, 0.0],
        "p_not_testable_with_these_data": [0, 0, 0.5, 0, 0, 0, 0, 0, 0, 0, 1.0, 1.0]})
    reg = pd.DataFrame({"claim_id": list("abcd"), "basis": "empirical", "kind": ["qualitative"] * 2 + ["count"] * 2,
                        "expected": ["holds", "holds", "28", "0"],
                        "fails_under": ["harm; shift", "harm; shift", "shift", "harm; shift"]})
    oc = operating_characteristics(prob, reg).set_index("claim_id")
    # a: shift is testable in only 50 % of cohorts, so harm (0.05) is the false positive
    assert oc.loc["a", "false_positive"] == 0.05 and oc.loc["a", "false_positive_model"] == "harm"
    assert oc["class"].to_dict() == {"a": "discriminating", "b": "uninformative", "c": "fixed by the simulation",
                                     "d": "not assessable"}
    assert set(oc["class"]) <= set(CLASSES)
    # a claim of a chapter that does not read the data (the audit) is never assessable
    audit = reg.assign(chapter=["audit", "safety", "safety", "safety"])
    assert operating_characteristics(prob, audit).set_index("claim_id").loc["a", "class"] == "not assessable"


def test_multiverse_flips_counts_cohorts():
    u = pd.DataFrame({"cohort": [0, 0, 1, 1, 2, 2], "chapter": "audit", "claim_id": "c", "universe": [0, 1] * 3,
                      "alpha": [0.05, 0.01] * 3,
                      "verdict": ["reproduced", "inconclusive", "reproduced", "reproduced", "inconclusive", "reproduced"]})
    f = multiverse_flips(u, {"audit": {"alpha": (0.05, 0.01)}})
    assert f[["choice", "cohorts", "flips"]].values.tolist() == [["alpha=0.01", 3, 2]]


def test_registry_rejects_an_unknown_or_missing_fails_under(tmp_path):
    from analysis.claims.registry import FILE_COLUMNS, load_published

    row = {"claim_id": "safety.x", "chapter": "safety", "claim": "c", "location": "l", "published": "0",
           "kind": "count", "expected": "0", "tolerance": "", "basis": "empirical", "basis_reason": "r",
           "quote": "q", "fails_under": "harm; nonsense"}
    (tmp_path / "claims").mkdir()
    path = tmp_path / "claims" / "safety.csv"
    pd.DataFrame([row], columns=list(FILE_COLUMNS)).to_csv(path, index=False)
    with pytest.raises(ValueError, match="`fails_under` names nonsense"):
        load_published(tmp_path)
    pd.DataFrame([{**row, "fails_under": ""}], columns=list(FILE_COLUMNS)).to_csv(path, index=False)
    with pytest.raises(ValueError, match="`fails_under` is empty"):
        load_published(tmp_path)
    pd.DataFrame([{**row, "fails_under": "harm"}], columns=list(FILE_COLUMNS)).to_csv(path, index=False)
    assert load_published(tmp_path)["fails_under"].tolist() == ["harm"]
