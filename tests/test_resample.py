"""Robustness from the data folder (analysis.scorecard.resample): the bootstrap and the permutations on hand-made
tables whose results can be checked by eye, the seeding, folders a method cannot run on, the command line and the
build."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.intake.dictionary import CLINICAL_COLUMNS, marker_columns
from analysis.scorecard import resample as rs

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "data" / "examples" / "small_trial"


def _tables() -> dict[str, pd.DataFrame]:
    """Four patients (a, b, c MSCT; d control), weeks 0 and 12 each, as text; one adverse event for a and d."""
    pats = pd.DataFrame({"patient_id": list("abcd"), "arm": ["MSCT", "MSCT", "MSCT", "control"],
                         "age": ["40", "50", "60", "70"]})
    rows = []
    for i, p in enumerate("abcd"):
        for w in ("0", "12"):
            rows.append({"patient_id": p, "week": w, "tjc28": str(10 * i + int(w) // 12),
                         "sjc28": str(i), "ifn_g": f"{i}.{w}" if p != "c" or w == "0" else "<LLOQ",
                         "il_6": str(100 + 10 * i + int(w)), "treg_pct": "" if w == "0" else str(i + 1)})
    visits = pd.DataFrame(rows)
    ae = pd.DataFrame({"patient_id": ["a", "d"], "week": ["1", "3"], "event": ["fever", "chills"],
                       "serious": ["false", "false"], "related": ["true", ""]})
    return {"patients": pats, "visits": visits, "adverse_events": ae}


def _by_patient(df: pd.DataFrame, pid: str) -> list[list[str]]:
    return df.loc[df["patient_id"] == pid].drop(columns="patient_id").values.tolist()


# --------------------------------------------------------------------------------------------- bootstrap
def test_bootstrap_keeps_each_patients_rows_together():
    t = _tables()
    for k in range(5):
        out = rs.resample_tables(t, "bootstrap", seed=3, index=k)
        pats = out["patients"]
        # within each arm, as many patients as the data have; every drawn patient has a new, unique id
        assert pats["arm"].value_counts().to_dict() == {"MSCT": 3, "control": 1}
        assert pats["patient_id"].is_unique and not set(pats["patient_id"]) & set("abcd")
        for new in pats["patient_id"]:
            old = new.split("~")[0]
            assert pats.loc[pats["patient_id"] == new].drop(columns="patient_id").values.tolist() == \
                t["patients"].loc[t["patients"]["patient_id"] == old].drop(columns="patient_id").values.tolist()
            # all their visits and events, unchanged but for the id
            assert _by_patient(out["visits"], new) == _by_patient(t["visits"], old)
            assert _by_patient(out["adverse_events"], new) == _by_patient(t["adverse_events"], old)
    assert len(set(map(tuple, (rs.resample_tables(t, "bootstrap", seed=3, index=k)["patients"]["patient_id"]
                               .str.split("~").str[0] for k in range(20))))) > 1  # the draws differ


# --------------------------------------------------------------------------------------------- permutations
def test_permute_arm_keeps_the_arm_sizes_and_moves_nothing_else():
    t = _tables()
    out = rs.resample_tables(t, "permute_arm", seed=1, index=0)
    assert sorted(out["patients"]["arm"]) == sorted(t["patients"]["arm"])
    assert out["visits"].equals(t["visits"]) and out["adverse_events"].equals(t["adverse_events"])
    seen = {tuple(rs.resample_tables(t, "permute_arm", seed=1, index=k)["patients"]["arm"]) for k in range(30)}
    assert len(seen) == 4  # the control label lands on each of the 4 patients


def test_permute_mechanism_moves_markers_within_msct_and_keeps_clinical_columns():
    t = _tables()
    markers = [c for c in marker_columns() if c in t["visits"].columns]
    clinical = [c for c in CLINICAL_COLUMNS if c in t["visits"].columns]
    msct = t["visits"]["patient_id"].isin(["a", "b", "c"])
    for k in range(10):
        out = rs.resample_tables(t, "permute_mechanism", seed=2, index=k)["visits"]
        assert out[["patient_id", "week"] + clinical].equals(t["visits"][["patient_id", "week"] + clinical])
        assert out.loc[~msct].equals(t["visits"].loc[~msct])  # the control patient keeps everything
        for c in markers:  # the same values within MSCT at each week (every patient has every week here)
            for w in ("0", "12"):
                at = msct & t["visits"]["week"].eq(w)
                assert sorted(out.loc[at, c]) == sorted(t["visits"].loc[at, c])
        # a whole trajectory moves: each MSCT patient's markers are one MSCT patient's, at both weeks
        for p in "abc":
            mine = out.loc[out["patient_id"] == p, markers].values.tolist()
            assert mine in [t["visits"].loc[t["visits"]["patient_id"] == q, markers].values.tolist() for q in "abc"]


def test_permute_ifng_moves_only_ifng():
    t = _tables()
    out = rs.resample_tables(t, "permute_ifng", seed=5, index=1)["visits"]
    assert out.drop(columns="ifn_g").equals(t["visits"].drop(columns="ifn_g"))
    assert sorted(out["ifn_g"]) == sorted(t["visits"]["ifn_g"])  # the "<LLOQ" token moves with its trajectory


def test_shuffle_time_keeps_every_patients_set_of_values():
    t = _tables()
    for k in range(10):
        out = rs.resample_tables(t, "shuffle_time", seed=4, index=k)["visits"]
        for c in CLINICAL_COLUMNS:
            if c in t["visits"].columns:
                assert out[c].equals(t["visits"][c])
        for c in ("ifn_g", "il_6", "treg_pct"):
            for p in "abcd":
                mine = out["patient_id"] == p
                assert sorted(out.loc[mine, c]) == sorted(t["visits"].loc[mine, c])
        # a marker measured at one visit only stays at that visit (empty cells are not shuffled in)
        assert out.loc[out["week"] == "0", "treg_pct"].eq("").all()
    assert any(not rs.resample_tables(t, "shuffle_time", seed=4, index=k)["visits"].equals(t["visits"])
               for k in range(10))


def test_the_same_index_gives_the_same_resample():
    t = _tables()
    a = rs.resample_tables(t, "bootstrap", seed=9, index=7)
    b = rs.resample_tables(t, "bootstrap", seed=9, index=7)
    assert all(a[n].equals(b[n]) for n in a)
    assert t["patients"]["patient_id"].tolist() == list("abcd")  # the input is not modified


# --------------------------------------------------------------------------------------------- methods and claims
def test_methods_and_the_claims_they_concern():
    assert rs.parse_methods("all") == list(rs.METHODS)
    assert rs.parse_methods("shuffle_time,bootstrap") == ["bootstrap", "shuffle_time"]
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        rs.parse_methods("bootstrap,nope")
    from analysis.claims.registry import fails_under, published

    reg = published()
    row = reg.set_index("claim_id").loc["ifng.predicts_response"]
    assert "null_ifng" in fails_under(row["fails_under"])
    assert "ifng.predicts_response" in rs.claims_concerned("permute_ifng")
    assert len(rs.claims_concerned("bootstrap")) == len(reg)


def test_data_probability_by_hand():
    v = pd.DataFrame({"method": "permute_ifng", "resample": range(5), "chapter": "ifng",
                      "claim_id": "ifng.predicts_response", "reason": ["", "", "", "no responders", "no responders"],
                      "verdict": ["reproduced", "not reproduced", "inconclusive", "not testable with these data",
                                  "not testable with these data"]})
    full = pd.DataFrame({"claim_id": ["ifng.predicts_response"], "verdict": ["inconclusive"], "rule": ["r"]})
    p = rs.data_probability(v, full, methods=["permute_ifng"])
    row = p.set_index("claim_id").loc["ifng.predicts_response"]
    # 1 of 5 reproduced, 1 of 5 gives the full data's verdict (inconclusive), 3 of 5 testable
    assert (row["resamples"], row["p_reproduced"], row["p_same_verdict"], row["testable"]) == (5, 0.2, 0.2, 0.6)
    assert row["not_testable_reason"] == "no responders"
    assert 0 < row["p_reproduced_ci_low"] < 0.2 < row["p_reproduced_ci_high"] < 1
    # every claim permute_ifng concerns has a row; those never judged say 0 resamples, not "0 % reproduced"
    assert set(p["claim_id"]) == set(rs.claims_concerned("permute_ifng"))
    other = p.loc[p["claim_id"] != "ifng.predicts_response"].iloc[0]
    assert other["resamples"] == 0 and pd.isna(other["p_reproduced"])


def test_untested_reason_is_the_evaluations_reason_not_the_rule():
    rule = "reproduced if the 95 % CI of the effect lies wholly below 0; not reproduced if ...; inconclusive ..."
    nt = "not testable with these data"
    assert rs.untested_reason(nt, "interval could not be computed; n = 0 responders", rule) == \
        "interval could not be computed; n = 0 responders"
    assert rs.untested_reason(nt, "", "not testable: the data lack the column(s) ifn_g") == \
        "the data lack the column(s) ifn_g"
    assert rs.untested_reason(nt, "a: n = 1", rule + " (fewer than 2 patients)") == "a: n = 1; fewer than 2 patients"
    assert rs.untested_reason("holds by construction", "", "holds by construction: EULAR") == "EULAR"
    assert rs.untested_reason("evaluation failed", float("nan"), "ZeroDivisionError: x") == "ZeroDivisionError: x"


def test_resamples_record_the_reason_of_not_testable_never_a_rule():
    from analysis.intake.io import load

    c = load(SMALL)
    v = rs.evaluate_resamples(rs.raw_tables(c), c.meta, "bootstrap", [0], seed=1).set_index("claim_id")
    assert not v["reason"].str.startswith(("reproduced if", "TOST", "not testable: ")).any()
    # the small trial has no haq_di: its TOST at every visit cannot be applied to HAQ-DI
    assert "fewer than 2 values" in v.loc["activity.no_baseline_differences", "reason"]
    assert v.loc["ifng.high_in_responders", "reason"] == "the data lack the column(s) ifn_g"


def _prob_row(**kw):
    base = {"claim_id": "activity.das28_decrease_responders_12w", "method": "bootstrap", "resamples": 4,
            "p_reproduced": float("nan"), "p_same_verdict": 1.0, "testable": 0.0, "p_holds_by_construction": 1.0,
            "not_testable_reason": "EULAR response is this fall"}
    return {**base, **kw}


def test_holds_by_construction_is_said_so_not_untestable(tmp_path):
    claims = pd.DataFrame({"chapter": ["disease_activity"], "claim_id": ["activity.das28_decrease_responders_12w"],
                           "verdict": ["holds by construction"]})
    for row, words in ((_prob_row(), "holds by construction in 100 % of 4 bootstrap resamples"),
                       (_prob_row(p_holds_by_construction=0.75, not_testable_reason="no responder"),
                        "holds by construction in 75 % and not testable in 25 % of 4 bootstrap resamples "
                        "(no responder)"),
                       (_prob_row(p_holds_by_construction=0.0, not_testable_reason="no responder"),
                        "not testable in any of 4 bootstrap resamples (no responder)")):
        p = pd.DataFrame([row])
        rs.write_outputs(tmp_path, probability=p, verdicts=p, info={})
        assert rs.scorecard_table(claims, tmp_path)["bootstrap"].tolist() == [words]


# --------------------------------------------------------------------------------------------- folders
def _variant(tmp_path: Path, name: str, edit) -> Path:
    d = tmp_path / name
    shutil.copytree(SMALL, d)
    edit(d)
    return d


def _one_arm(d: Path) -> None:
    p = pd.read_csv(d / "patients.csv", dtype=str)
    keep = set(p.loc[p["arm"] == "UC-MSC", "subject"])
    p.loc[p["subject"].isin(keep)].to_csv(d / "patients.csv", index=False)
    for name in ("visits.csv", "adverse_events.csv"):
        t = pd.read_csv(d / name, dtype=str, keep_default_na=False)
        t.loc[t["subject"].isin(keep)].to_csv(d / name, index=False)


def _no_response(d: Path) -> None:
    v = pd.read_csv(d / "visits.csv", dtype=str, keep_default_na=False)
    base = v.loc[v["visit_week"] == "0"].set_index("subject")
    for c in ("TJC", "SJC", "CRP", "PGA"):  # nobody's DAS28 moves: no EULAR responder
        v[c] = v["subject"].map(base[c])
    v.to_csv(d / "visits.csv", index=False)


def test_one_arm_data_say_why_a_permutation_cannot_run(tmp_path):
    """A single-arm folder (the small trial's MSCT patients) is valid: it loads, and permuting the arm says why not."""
    from analysis.intake.io import load

    one = load(_variant(tmp_path, "one_arm", _one_arm))
    assert set(one.patients["arm"].astype(str)) == {"MSCT"}
    full = rs.full_verdicts(one)
    verdicts, problems = rs.run(one, methods=["permute_arm", "permute_ifng"], resamples=2, workers=1)
    assert verdicts.empty
    assert problems["permute_arm"].startswith("the data have a single arm (MSCT)")
    assert problems["permute_ifng"] == "the data have no IFN-γ values to permute"
    p = rs.data_probability(verdicts, full, methods=["permute_arm", "permute_ifng"], problems=problems)
    arm = p.loc[p["method"] == "permute_arm"]
    assert arm["resamples"].eq(0).all() and arm["p_reproduced"].isna().all() and arm["testable"].eq(0).all()
    assert arm["not_testable_reason"].str.contains("single arm").all()


@pytest.mark.parametrize("arm, label", [("MSCT", "UC-MSC"), ("control", "placebo")])
def test_robustness_command_on_a_single_arm_folder_says_why_per_claim(arm, label, tmp_path, capsys):
    """`robustness --resample all` runs on a one-arm folder; data_probability.csv says why permute_arm cannot run."""
    from analysis.cli import main

    def keep_arm(d: Path) -> None:
        p = pd.read_csv(d / "patients.csv", dtype=str)
        keep = set(p.loc[p["arm"] == label, "subject"])
        for name in ("patients.csv", "visits.csv", "adverse_events.csv"):
            t = pd.read_csv(d / name, dtype=str, keep_default_na=False)
            t.loc[t["subject"].isin(keep)].to_csv(d / name, index=False)

    folder = _variant(tmp_path, f"{arm}_only", keep_arm)
    assert main(["robustness", "--data", str(folder), "--resample", "all", "--resamples", "5", "--workers", "1",
                 "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    reason = f"the data have a single arm ({arm}): there are no arm labels to permute"
    assert f"permute_arm: not run: {reason}" in out
    p = pd.read_csv(tmp_path / "out" / "results" / "robustness" / "data_probability.csv")
    assert set(p["method"]) == {"bootstrap", "permute_arm", "permute_mechanism", "permute_ifng", "shuffle_time"}
    permuted = p.loc[p["method"] == "permute_arm"]
    assert len(permuted) and permuted["resamples"].eq(0).all() and permuted["p_reproduced"].isna().all()
    assert permuted["not_testable_reason"].eq(f"permute_arm cannot run on these data: {reason}").all()
    assert p.loc[p["method"] == "bootstrap", "resamples"].eq(5).all()


def test_no_responders_runs_and_says_per_claim_why(tmp_path):
    from analysis.intake.io import load

    cohort = load(_variant(tmp_path, "no_response", _no_response))
    full = rs.full_verdicts(cohort)
    v = rs.evaluate_resamples(rs.raw_tables(cohort), cohort.meta, "bootstrap", [0, 1], seed=1)
    p = rs.data_probability(v, full, methods=["bootstrap"])
    never = p.loc[p["testable"].eq(0)]
    assert len(never) and never["p_reproduced"].isna().all()
    assert never["not_testable_reason"].str.len().gt(0).all()  # each says why (the chapter's own rule)


# --------------------------------------------------------------------------------------------- seeding, Dask
def _digest(tables: dict, method: str, seed: int, index: int) -> str:
    out = rs.resample_tables(tables, method, seed=seed, index=index)
    return hashlib.sha256("".join(out[n].to_csv(index=False) for n in sorted(out)).encode()).hexdigest()


def test_a_fixed_seed_gives_identical_tables_and_verdicts_with_1_and_2_workers():
    from analysis.intake.io import load
    from analysis.scorecard.dask_run import client_for, run_tasks

    cohort = load(SMALL)
    tables = rs.raw_tables(cohort)
    tasks = [(_digest, tables, m, 11, k) for m in ("bootstrap", "permute_arm") for k in range(4)]
    local = [_digest(tables, m, 11, k) for m in ("bootstrap", "permute_arm") for k in range(4)]
    runs = {}
    for workers, batch in ((1, 1), (2, 3)):
        client, cluster = client_for(workers=workers)
        try:
            assert sorted(run_tasks(tasks, client=client)) == sorted(local)
            v, _ = rs.run(cohort, methods=["bootstrap", "permute_arm"], resamples=3, seed=11, batch_size=batch,
                          client=client)
        finally:
            client.close()
            cluster.close()
        runs[workers] = v.drop(columns="seconds")
    assert runs[1].equals(runs[2])


# --------------------------------------------------------------------------------------------- a null IFN-γ folder
def test_without_an_ifng_effect_permute_ifng_and_the_full_data_agree(tmp_path):
    """A folder simulated with no IFN-γ effect: the full data do not reproduce ifng.predicts_response, and
    neither does any resample with IFN-γ permuted among MSCT patients."""
    from analysis.cli import main
    from analysis.intake.io import load

    folder = tmp_path / "null_ifng"
    assert main(["simulate", "--model", "null_ifng", "--out", str(folder)]) == 0
    cohort = load(folder)
    full = rs.full_verdicts(cohort).set_index("claim_id")["verdict"]
    assert full["ifng.predicts_response"] != "reproduced"
    v = rs.evaluate_resamples(rs.raw_tables(cohort), cohort.meta, "permute_ifng", range(5), seed=2018)
    p = rs.data_probability(v, full.reset_index().assign(rule=""), methods=["permute_ifng"])
    row = p.set_index("claim_id").loc["ifng.predicts_response"]
    assert row["resamples"] == 5 and row["testable"] == 1.0 and row["p_reproduced"] == 0.0


# --------------------------------------------------------------------------------------------- command line
@pytest.mark.parametrize("argv, message", [
    (["--resample", "boot"], "--resample: unknown method 'boot' (did you mean 'bootstrap'?); allowed: bootstrap,"),
    (["--resample", "bootstrapp"], "unknown method 'bootstrapp' (did you mean 'bootstrap'?)"),
    (["--resample", ""], "--resample: no method given; allowed:"),
    (["--resample", "all", "--resamples", "0"], "--resamples must be at least 1"),
    (["--resample", "all", "--data", "/no/such/folder"], "no such folder"),
    (["--resample", "all", "--data", "FILE"], "is not a folder"),
    (["--design-from", "FILE"], "--design-from FILE: is not a folder"),
    (["--resample", "all", "--design-from", str(SMALL)], "--design-from does not apply"),
    (["--resample", "all", "--patients", "40"], "--patients does not apply"),
    (["--resamples", "5"], "--resamples 5 needs --resample METHODS"),
    (["--resamples", "abc"], "argument --resamples: invalid int value: 'abc'"),
    # the small trial has no IFN-γ: the only chosen method cannot run, and the error says why
    (["--resample", "permute_ifng", "--data", str(SMALL)],
     "no chosen method can run on " + str(SMALL) + ": permute_ifng: the data have no IFN-γ values to permute"),
])
def test_bad_input_is_one_error_line(argv, message, capsys, tmp_path):
    from analysis.cli import main

    afile = tmp_path / "afile.txt"
    afile.write_text("x\n")
    argv = [str(afile) if a == "FILE" else a for a in argv]
    message = message.replace("FILE", str(afile))
    try:
        code = main(["robustness", *argv, "--out", str(tmp_path)])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0]


def test_command_writes_data_probability_with_the_data_fingerprint(tmp_path, capsys):
    from analysis.cli import main
    from analysis.intake.io import fingerprint

    assert main(["robustness", "--data", str(SMALL), "--resample", "bootstrap,permute_ifng", "--resamples", "2",
                 "--workers", "1", "--out", str(tmp_path)]) == 0
    assert f"show it: python -m analysis build --data {SMALL} --robustness {tmp_path}" in capsys.readouterr().out
    folder = tmp_path / "results" / "robustness"
    p = pd.read_csv(folder / "data_probability.csv")
    assert list(p.columns[:6]) == ["claim_id", "method", "resamples", "p_reproduced", "p_same_verdict", "testable"]
    assert set(p["method"]) == {"bootstrap", "permute_ifng"}
    assert p.loc[p["method"] == "bootstrap", "resamples"].eq(2).all()
    assert p.loc[p["method"] == "permute_ifng", "not_testable_reason"].str.contains("no IFN-γ values").all()
    run = json.loads((folder / "run.json").read_text())
    assert run["resample_data_hash"] == fingerprint(SMALL) and run["resample_seed"] == 2018
    # the scorecard's words: these data -> the figures; other data -> said so, nothing attached
    assert "this build's own data" in rs.describe_result(folder, data_fingerprint=fingerprint(SMALL), data_name="s")
    other = rs.describe_result(folder, data_fingerprint="0" * 64, data_name="mine")
    assert "other data" in other and "not shown" in other


# --------------------------------------------------------------------------------------------- the build
@pytest.mark.slow
def test_build_with_resamples_shows_the_section(tmp_path):
    from analysis.engine.build import build

    out = tmp_path / "out"
    log: list[str] = []
    build(data_dir=SMALL, out=out, resamples=2, jobs=2, report=log.append)
    assert (out / "results" / "robustness" / "data_probability.csv").is_file()
    # the log says what the scorecard shows: the data resampled now, beside the shipped simulated result
    shown = [line for line in log if line.startswith("robustness result for the scorecard")]
    assert shown == [f"robustness result for the scorecard: the data {SMALL} resampled now (2 resamples per "
                     "method), beside the simulated result shipped with the book (data/robustness)"]
    # run.json's command reproduces the result: it names the data and the output folder
    run = json.loads((out / "results" / "robustness" / "run.json").read_text())
    assert run["resample_command"] == f"python -m analysis build --data {SMALL} --out {out} --resamples 2"
    table = pd.read_csv(out / "results" / "scorecard" / "resample.csv")
    assert table["bootstrap"].str.contains("of 2 bootstrap resamples").any()
    page = (out / "html" / "book" / "scorecard.html").read_text("utf-8").replace("’", "'")
    # the data's section, with its figures said to come from these data, before the simulated one
    assert "this build's own data" in page
    assert page.index("How sure is each verdict on these data?") < page.index(
        "How sure is each verdict at the paper's design?")


def test_a_result_where_no_method_ran_says_so_and_has_no_table(tmp_path):
    from analysis.intake.io import fingerprint, load

    cohort = load(SMALL)  # no IFN-γ: permute_ifng cannot run
    verdicts, problems = rs.run(cohort, methods=["permute_ifng"], resamples=5, workers=1)
    p = rs.data_probability(verdicts, rs.full_verdicts(cohort), methods=["permute_ifng"], problems=problems)
    info = rs.run_info(data_name="small", data_fingerprint=fingerprint(SMALL), methods=["permute_ifng"], resamples=5,
                       seed=1, params=None, seconds=0.0, command="c", where="w", problems=problems,
                       cpu_per_resample=None)
    rs.write_outputs(tmp_path, probability=p, verdicts=verdicts, info=info)
    assert rs.methods_run(tmp_path) == []
    text = rs.describe_result(tmp_path, data_fingerprint=fingerprint(SMALL), data_name="small")
    assert "no method could run on them, so no claim has a figure: permute_ifng: the data have no IFN-γ" in text
    assert "resamples by each of 0 methods" not in text


# --------------------------------------------------------------------------------------------- typing a resample
def _round_trip(tables, meta):
    """cohort_from_tables through its CSV round trip (the fast path for text tables switched off)."""
    from analysis.scorecard import evaluate as ev

    saved = ev._text_as_read
    ev._text_as_read = lambda df: None
    try:
        return ev.cohort_from_tables(tables, meta)
    finally:
        ev._text_as_read = saved


def _assert_same_cohort(a, b):
    for name in ("patients", "visits", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert a.meta == b.meta and a.source == b.source and a.files == b.files


def test_text_tables_typed_without_the_round_trip_give_the_same_cohort():
    from analysis.intake.io import load
    from analysis.scorecard.evaluate import _text_as_read, cohort_from_tables

    small = load(SMALL)
    raw = rs.raw_tables(small)
    assert _text_as_read(raw["visits"]) is not None  # the fast path is taken
    for method in rs.METHODS:
        for k in range(2):
            t = rs.resample_tables(raw, method, seed=5, index=k)
            _assert_same_cohort(cohort_from_tables(t, small.meta), _round_trip(t, small.meta))
    # hand-made text: blanks around cells, quotes and commas, an empty row, no adverse events at all
    t = _tables()
    t["visits"].loc[0, "il_6"] = " 101 "
    t["visits"].loc[1, ["tjc28", "sjc28", "ifn_g", "il_6", "treg_pct"]] = ""
    t["adverse_events"].loc[0, "event"] = 'fever, "high"'
    for tables in (t, {**t, "adverse_events": t["adverse_events"].iloc[:0]}):
        fast = cohort_from_tables(tables, {"x": 1})
        _assert_same_cohort(fast, _round_trip(tables, {"x": 1}))
    assert fast.visits.loc[0, "il_6"] == 101.0 and fast.visits.loc[2, "ifn_g"] == 1.0
    # not text (numbers, a line break): the round trip, as before
    assert _text_as_read(pd.DataFrame({"a": [1.0], "b": ["x"]})) is None
    assert _text_as_read(pd.DataFrame({"a": ["x\ny"], "b": ["x"]})) is None


def test_every_method_drawn_on_typed_tables_gives_the_cohort_of_the_resampled_text():
    from analysis.intake.io import load
    from analysis.scorecard.evaluate import cohort_from_tables

    small = load(SMALL)
    raw = rs.raw_tables(small)
    empty_ae = {**_tables(), "adverse_events": _tables()["adverse_events"].iloc[:0]}
    for tables, meta in ((raw, small.meta), (_tables(), {}), (empty_ae, {})):
        base = cohort_from_tables(tables, meta)
        for method in rs.METHODS:
            for k in range(3):
                want = cohort_from_tables(rs.resample_tables(tables, method, seed=5, index=k), meta)
                got = rs._typed_resample(tables, base, method, seed=5, index=k)
                _assert_same_cohort(want, got)
                for name in ("patients", "visits", "adverse_events"):  # None stays None, not NaN
                    assert getattr(want, name).astype(str).equals(getattr(got, name).astype(str))
    # a task given the typed tables judges what a task typing them itself judges
    mine = rs.evaluate_resamples(raw, small.meta, "permute_ifng", [0, 1], seed=3)
    given = rs.evaluate_resamples(raw, small.meta, "permute_ifng", [0, 1], seed=3,
                                  typed=cohort_from_tables(raw, small.meta))
    assert mine.drop(columns="seconds").equals(given.drop(columns="seconds"))
