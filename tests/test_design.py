"""Planning a replication (issue 32, part 3): a data folder's design, cohorts of it per size, the planning page."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.scorecard import design

ROOT = Path(__file__).resolve().parents[1]
OTHER = ROOT / "data" / "examples" / "other_trial"
SMALL = ROOT / "data" / "examples" / "small_trial"
OC_COLUMNS = ["patients", "claim_id", "sensitivity", "false_positive", "false_positive_model", "testable", "class"]


# --------------------------------------------------------------------------------------------- the design read
def test_design_of_other_trial_is_its_dataset_yaml():
    """By hand from data/examples/other_trial/dataset.yaml and its tables: visits at 0, 2, 4, 8, 12, 24; response
    at 12; final 24; 40 UC-MSC (MSCT) and 40 placebo; measured: the DAS28 components (ESR and CRP), HAQ,
    prednisone, IL-6, TNF-α, IFN-γ; no cells, autoantibodies, other cytokines or safety labs."""
    t = design.read_trial_design(OTHER)
    assert t.design.visit_weeks == (0, 2, 4, 8, 12, 24)
    assert (t.design.response_week, t.design.final_week) == (12, 24)
    assert (t.n_patients, t.n_msct, t.n_control) == (80, 40, 40)
    assert t.msct_fraction == 0.5 and t.arms_at(160) == (80, 80)
    measured = set(t.measured["visits"])
    assert {"tjc28", "sjc28", "esr_mm_h", "crp_mg_l", "patient_global_mm", "haq_di", "prednisone_mg_day",
            "il_6", "tnf_a", "ifn_g"} <= measured
    left = set(t.left_out["visits"])
    assert {"treg_pct", "th17_pct", "anti_ccp_u_ml", "rf_iu_ml", "il_1b", "il_2r", "il_8", "il_10",
            "albumin_g_l", "hemoglobin_g_l", "platelets_10e9_l"} <= left
    assert not measured & left
    assert len(t.fingerprint) == 64
    assert design.TrialDesign.from_dict(json.loads(json.dumps(t.as_dict()))) == t


def test_design_of_small_trial_leaves_out_esr():
    """data/examples/small_trial: weeks 0, 4, 12, 24, 6 + 6 patients, DAS28 with CRP only (no ESR, no HAQ)."""
    t = design.read_trial_design(SMALL)
    assert t.design.visit_weeks == (0, 4, 12, 24) and (t.n_msct, t.n_control) == (6, 6)
    assert {"esr_mm_h", "haq_di", "ifn_g"} <= set(t.left_out["visits"])
    assert "crp_mg_l" not in t.left_out["visits"]
    tables = {"visits": pd.DataFrame({"week": [0], "esr_mm_h": [20.0], "crp_mg_l": [3.0]})}
    assert list(t.restrict(tables)["visits"].columns) == ["week", "crp_mg_l"]


def test_simulated_cohort_keeps_the_ratio_and_the_schedule():
    from analysis.science.simulate import simulate

    t = design.TrialDesign("x", "", design.Design.from_mapping({"visit_weeks": [0, 4, 12, 24]}), 30, 10, 20, {}, {})
    tables = simulate(seed=3, n_patients=60, design=t.design, msct_fraction=t.arms_at(60)[0] / 60)
    assert tables["patients"]["arm"].value_counts().to_dict() == {"control": 40, "MSCT": 20}
    assert sorted(tables["visits"]["week"].unique()) == [0, 4, 12, 24]
    with pytest.raises(ValueError, match="msct_fraction"):
        simulate(n_patients=40, msct_fraction=1.0)


@pytest.mark.parametrize("text,expected", [("160,40, 80", [40, 80, 160]), ("105", [105]), ("60,60", [60])])
def test_parse_sizes(text, expected):
    assert design.parse_sizes(text) == expected


@pytest.mark.parametrize("text", ["", "40,x", "10,40", "0"])
def test_parse_sizes_refuses(text):
    with pytest.raises(ValueError, match="--patients"):
        design.parse_sizes(text)


# --------------------------------------------------------------------------------------------- the summaries
def _oc(rows):
    return pd.DataFrame(rows, columns=["patients", "claim_id", "sensitivity", "false_positive", "testable", "class"])


def test_size_reaching_on_a_hand_made_table():
    oc = _oc([
        (40, "a", 0.50, 0.00, 1.0, "underpowered"), (80, "a", 0.85, 0.05, 1.0, "discriminating"),
        (160, "a", 0.95, 0.00, 1.0, "discriminating"),
        (40, "b", 0.90, 0.00, 1.0, "discriminating"), (80, "b", 0.70, 0.00, 1.0, "underpowered"),
        (160, "b", 0.99, 0.00, 1.0, "discriminating"),
        (40, "c", 0.90, 0.10, 1.0, "discriminating"), (80, "c", 0.95, 0.10, 1.0, "discriminating"),
        (160, "c", 0.99, 0.15, 1.0, "uninformative"),
        (40, "d", 0.99, float("nan"), 1.0, "not assessable"), (80, "d", 0.99, float("nan"), 1.0, "not assessable"),
        (160, "d", 0.99, float("nan"), 1.0, "not assessable"),
        (40, "e", 0.0, float("nan"), 0.0, "not assessable"), (80, "e", 0.0, float("nan"), 0.0, "not assessable"),
        (160, "e", 0.0, float("nan"), 0.0, "not assessable"),
    ])
    got = design.size_reaching(oc, {"a": "A", "b": "B", "c": "C", "d": "D", "e": "E", "f": "F"}).set_index("claim_id")
    assert got.loc["a", "patients_needed"] == 80 and got.loc["a", "result"] == "reached at 80 patients"
    assert got.loc["b", "patients_needed"] == 40  # the smallest size tried that reaches it
    # a false-positive rate of exactly 10 % is not under 10 %
    assert pd.isna(got.loc["c", "patients_needed"])
    assert got.loc["c", "result"] == "not reached at the sizes tried (40, 80, 160)"
    assert got.loc["d", "result"].startswith("false-positive rate unknown")
    assert got.loc["e", "result"].startswith("not testable at this design")
    assert got.loc["f", "result"] == "not in the result"
    assert (got.loc["a", "sensitivity"], got.loc["a", "class"], got.loc["a", "finding"]) == (0.95, "discriminating", "A")


def test_class_shares_on_a_hand_made_table():
    oc = _oc([(40, "a", 0, 0, 1, "underpowered"), (40, "b", 0, 0, 1, "underpowered"),
              (40, "c", 0, 0, 1, "discriminating"), (40, "d", 0, 0, 1, "not assessable"),
              (80, "a", 0, 0, 1, "discriminating"), (80, "b", 0, 0, 1, "discriminating"),
              (80, "c", 0, 0, 1, "discriminating"), (80, "d", 0, 0, 1, "not assessable")])
    s = design.class_shares(oc).set_index(["patients", "class"])
    assert s.loc[(40, "discriminating"), "share"] == 0.25 and s.loc[(80, "discriminating"), "share"] == 0.75
    assert s.loc[(40, "underpowered"), "claims"] == 2 and s.loc[(80, "underpowered"), "claims"] == 0
    assert set(s.loc[40].index) == set(design.class_shares(oc)["class"])  # every class at every size


def test_headline_claims_are_in_the_registry():
    from analysis.claims.registry import published

    reg = published().set_index("claim_id")
    assert set(design.HEADLINE_CLAIMS) <= set(reg.index)
    assert (reg.loc[list(design.HEADLINE_CLAIMS), "basis"] == "empirical").all()
    assert set(design.HEADLINE_CLAIMS.values()) == {"IFN-γ predicts response", "responders' cytokine changes",
                                                    "safety counts"}


# --------------------------------------------------------------------------------------------- the command
def test_a_tiny_design_run_writes_the_characteristics(tmp_path, capsys):
    from analysis.cli import main

    out = tmp_path / "plan"
    code = main(["robustness", "--design-from", str(SMALL), "--patients", "20,30", "--cohorts", "2",
                 "--models", "calibrated,null_ifng", "--workers", "1", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    folder = out / "results" / "robustness"
    oc = pd.read_csv(folder / "design_characteristics.csv")
    assert list(oc.columns) == OC_COLUMNS
    assert sorted(oc["patients"].unique()) == [20, 30]
    assert oc.groupby("patients")["claim_id"].nunique().nunique() == 1  # the same claims at every size
    prob = pd.read_csv(folder / "design_probability.csv")
    assert set(prob["model"]) == {"calibrated", "null_ifng"} and (prob["cohorts"] == 2).all()
    info = json.loads((folder / "design.json").read_text("utf-8"))
    assert info["design_from"] == str(SMALL) and info["sizes"] == [20, 30]
    assert info["trial"]["design"]["visit_weeks"] == [0, 4, 12, 24]
    assert info["design_from_fingerprint"] == design.read_trial_design(SMALL).fingerprint
    # IFN-γ is not measured in the small trial: its claims are never testable there
    assert (oc.loc[oc["claim_id"] == "ifng.predicts_response", "testable"] == 0).all()
    assert not (folder / "claim_probability.csv").exists()  # a design run is not the simulated-cohorts part


@pytest.mark.parametrize("args,message", [
    (["--design-from", "no/such/folder"], "no such folder"),
    (["--design-from", str(OTHER), "--patients", "10,40"], "at least 20"),
    (["--design-from", str(OTHER), "--patients", "40,x"], "whole numbers"),
    (["--design-from", str(OTHER), "--cohorts", "0"], "--cohorts must be at least 1"),
    (["--design-from", str(OTHER), "--multiverse"], "do not combine"),
    (["--patients", "5"], "at least 20"),
])
def test_bad_input_is_one_error_and_exit_2(args, message, tmp_path, capsys):
    from analysis.cli import main

    assert main(["robustness", *args, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err and "Traceback" not in err


def test_a_folder_that_does_not_validate_gives_the_validate_report(tmp_path, capsys):
    from analysis.cli import main

    (tmp_path / "bad").mkdir()
    assert main(["robustness", "--design-from", str(tmp_path / "bad"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "patients" in err


# --------------------------------------------------------------------------------------------- the page
def _hand_made_result(folder: Path) -> Path:
    """A design result without simulation: two sizes, the calibrated model and null_ifng, two IFN-γ claims."""
    rows = []
    for n, reproduced in ((40, ["reproduced", "not reproduced"]), (80, ["reproduced", "reproduced"])):
        for model in ("calibrated", "null_ifng"):
            for k, verdict in enumerate(reproduced):
                for cid in ("ifng.predicts_response", "ifng.high_in_responders"):
                    rows.append({"patients": n, "model": model, "cohort": k, "seed": k, "chapter": "ifng",
                                 "claim_id": cid, "seconds": 0.1,
                                 "verdict": verdict if model == "calibrated" else "not reproduced"})
    info = {"command": "python -m analysis robustness --design-from data/examples/other_trial --patients 40,80",
            "date": "2026-12-06T00:00:00+00:00", "design_from": "data/examples/other_trial",
            "design_from_fingerprint": "ab" * 32, "trial": design.read_trial_design(OTHER).as_dict(),
            "sizes": [40, 80], "cohorts": 2, "models": ["calibrated", "null_ifng"]}
    design.write_design_outputs(folder, verdicts=pd.DataFrame(rows), info=info)
    return folder


def test_describe_a_hand_made_result(tmp_path):
    found = design.read_design_outputs(_hand_made_result(tmp_path / "r"))
    text = design.describe_design_result(found["characteristics"], found["info"])
    assert "`data/examples/other_trial`" in text and "40 MSCT and 40 control" in text
    assert "2 sizes (40 and 80 patients)" in text and "2 cohorts under each of 2 models" in text
    table = design.size_reaching(found["characteristics"]).set_index("claim_id")
    assert table.loc["ifng.predicts_response", "patients_needed"] == 80  # 1/2 at 40, 2/2 at 80; null 0/2


@pytest.mark.slow
def test_the_planning_page_builds_with_and_without_a_result(tmp_path):
    sys.path.insert(0, str(Path(__file__).parent))
    from tinybook import PARAMETERS, tiny_book

    from analysis.engine.build import build

    safety = "from pathlib import Path\nPath(output_dir, 'results', 'safety').mkdir(parents=True, exist_ok=True)"
    book = tiny_book(tmp_path / "book", chapters={"safety": (PARAMETERS, safety)})
    shutil.copy2(ROOT / "book" / "planning.ipynb", book / "planning.ipynb")
    out = tmp_path / "out"
    first = build(data_dir=SMALL, out=out, book_dir=book, jobs=2)
    assert "planning" in first.executed
    page = (out / "html" / "book" / "planning.html").read_text("utf-8")
    assert "No design result is part of this build" in page and "--design-from" in page
    assert "Not shown: no design result" in page
    assert (out / "results" / "planning" / "headline_claims.csv").is_file()
    assert build(data_dir=SMALL, out=out, book_dir=book, jobs=2).up_to_date  # two phase-2 pages: nothing to redo

    rob = _hand_made_result(tmp_path / "plan")
    second = build(data_dir=SMALL, out=out, book_dir=book, jobs=2, robustness=rob)
    assert "planning" in second.executed
    page = (out / "html" / "book" / "planning.html").read_text("utf-8")
    assert "data/examples/other_trial" in page and "No design result" not in page
    assert (out / "results" / "planning" / "figures" / "design_sizes.png").is_file()
    sizes = pd.read_csv(out / "results" / "planning" / "headline_sizes.csv")
    assert sizes.set_index("claim_id").loc["ifng.predicts_response", "patients_needed"] == 80


def test_kind_shares_count_only_the_claims_a_design_can_assess():
    """By hand: at 40 patients 1 of the 2 assessable changes is discriminating; the count is fixed by the
    simulation and the not-assessable claim is left out of every denominator."""
    oc = pd.DataFrame({"patients": [40] * 4, "claim_id": ["a", "b", "c", "d"],
                       "class": ["discriminating", "underpowered", "fixed by the simulation", "not assessable"]})
    reg = pd.DataFrame({"claim_id": ["a", "b", "c", "d"], "kind": ["direction", "significant", "count", "qualitative"]})
    got = design.kind_shares(oc, reg).set_index("claim_class")
    assert got.loc["changes and differences", ["discriminating", "assessable"]].tolist() == [1, 2]
    assert got.loc["changes and differences", "share"] == 0.5
    assert got.loc["counts", "assessable"] == 0 and np.isnan(got.loc["counts", "share"])
    assert got.loc["qualitative statements", "assessable"] == 0


def test_headline_sizes_say_how_many_cohorts_and_warn_when_few():
    """9 of 10 cohorts reproduce: Wilson 95 % [0.60, 0.98]; 10 < 20 cohorts per size: the result warns. With 50
    cohorts, no warning."""
    import pandas as pd

    from analysis.scorecard import design as D

    oc = pd.DataFrame({"patients": [40, 80], "claim_id": ["a", "a"], "sensitivity": [0.5, 0.9],
                       "false_positive": [0.0, 0.05], "class": ["underpowered", "discriminating"]})
    few = D.size_reaching(oc, ["a"], cohorts=10).iloc[0]
    assert few["cohorts"] == 10 and few["sensitivity 95 % CI"] == "[0.60, 0.98]"
    assert few["result"].startswith("reached at 80 patients (from only 10 cohorts per size")
    many = D.size_reaching(oc, ["a"], cohorts=50).iloc[0]
    assert many["result"] == "reached at 80 patients" and many["sensitivity 95 % CI"] == "[0.79, 0.96]"
