"""Two builds' verdicts side by side (analysis/scorecard/compare.py, ``python -m analysis compare``) and the shipped
default build the scorecard compares with."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.scorecard import compare as cmp

ROOT = Path(__file__).resolve().parents[1]


def _claims(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame({"chapter": [cid.split(".")[0] for cid, _ in rows], "claim_id": [cid for cid, _ in rows],
                         "claim": [f"the claim {cid}" for cid, _ in rows], "verdict": [v for _, v in rows],
                         "reproduced": "1"})


def _build(folder: Path, rows: list[tuple[str, str]]) -> Path:
    """A folder shaped like a build's output: results/claims.csv only."""
    (folder / "results").mkdir(parents=True)
    _claims(rows).to_csv(folder / "results" / "claims.csv", index=False)
    return folder


A = [("safety.a", "reproduced"), ("safety.b", "inconclusive"), ("immune.c", "reproduced")]
B = [("safety.a", "reproduced"), ("safety.b", "not reproduced"), ("ifng.d", "not testable with these data")]


def test_compare_verdicts_by_hand():
    t = cmp.compare_verdicts(_claims(A), _claims(B))
    assert t["claim_id"].tolist() == ["safety.a", "safety.b", "immune.c", "ifng.d"]
    assert t["status"].tolist() == ["same", "changed", "only in A", "only in B"]
    row = t.set_index("claim_id").loc["safety.b"]
    assert (row["verdict_a"], row["verdict_b"]) == ("inconclusive", "not reproduced")
    only_b = t.set_index("claim_id").loc["ifng.d"]
    assert (only_b["verdict_a"], only_b["chapter"], only_b["claim"]) == ("", "ifng", "the claim ifng.d")
    assert cmp.count_statuses(t) == {"same": 1, "changed": 1, "only in A": 1, "only in B": 1}
    with pytest.raises(ValueError, match="verdict"):
        cmp.compare_verdicts(_claims(A).drop(columns="verdict"), _claims(B))


def test_cli_compare_prints_and_writes_the_table(tmp_path, capsys):
    a, b = _build(tmp_path / "a", A), _build(tmp_path / "b", B)
    csv = tmp_path / "sub" / "cmp.csv"
    assert main(["compare", str(a), str(b), "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "4 claims: 1 same, 1 changed, 1 only in A, 1 only in B" in out
    line = next(ln for ln in out.splitlines() if ln.startswith("safety.b"))
    assert line.split() == ["safety.b", "inconclusive", "not", "reproduced", "changed"]
    written = pd.read_csv(csv, keep_default_na=False)
    assert written.columns.tolist() == ["chapter", "claim_id", "claim", "verdict_a", "verdict_b", "reproduced_a",
                                        "reproduced_b", "status"]
    assert written["status"].tolist() == ["same", "changed", "only in A", "only in B"]
    assert main(["compare", str(a), str(b), "--csv", str(csv), "--changed"]) == 0
    out = capsys.readouterr().out
    assert not any(ln.startswith("safety.a") for ln in out.splitlines())  # the same verdict: not printed


def test_cli_compare_refuses_a_folder_that_is_not_a_build(tmp_path, capsys):
    a = _build(tmp_path / "a", A)
    (tmp_path / "empty").mkdir()
    assert main(["compare", str(tmp_path / "empty"), str(a), "--csv", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: compare OUT_A:") and "not the output folder of a build" in err
    assert "Traceback" not in err
    assert main(["compare", str(a), str(tmp_path / "nope"), "--csv", str(tmp_path / "x.csv")]) == 2
    assert "compare OUT_B:" in capsys.readouterr().err and not (tmp_path / "x.csv").exists()
    bad = tmp_path / "bad"
    (bad / "results").mkdir(parents=True)
    (bad / "results" / "claims.csv").write_text("x,y\n1,2\n")
    assert main(["compare", str(bad), str(a), "--csv", str(tmp_path / "x.csv")]) == 2
    assert "not a claims table" in capsys.readouterr().err


def test_cli_compare_help_names_the_shipped_build(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["compare", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "OUT_A" in text and "shipped" in text and "--csv" in text


def test_against_default_on_the_default_data_and_on_other_data():
    base = _claims(A)
    run = {"data_hash": "h0", "commit": "0123456789abcdef", "date": "2026-12-06T00:00:00+00:00"}
    text, rows = cmp.against_default(base, data_fingerprint="h0", data_name="synthetic", default=(base, run))
    assert text.startswith("This build is on the default data, and its verdicts are the shipped ones: all 3 claims")
    assert rows.empty and "0123456789" in text
    text, rows = cmp.against_default(_claims(B), data_fingerprint="h0", data_name="synthetic", default=(base, run))
    assert "but 3 of 4 claims differ" in text
    text, rows = cmp.against_default(_claims(B), data_fingerprint="h1", data_name="mine", default=(base, run))
    assert "(`mine`) are not the default data" in text
    assert "1 claims have the same verdict, 1 a different one, 1 are judged only there and 1 only here" in text
    assert rows["status"].tolist() == ["changed", "only in the default build", "only in this build"]
    assert rows.columns.tolist() == ["chapter", "claim_id", "claim", "default build", "this build", "status"]


def test_the_shipped_default_build_is_labelled_and_covers_the_registry():
    from analysis.claims.registry import published as registry
    from analysis.core import paths
    from analysis.intake.io import fingerprint

    shipped = cmp.shipped_default()
    assert shipped is not None, "no data/default_build/claims.csv: run python tools/ship_default_build.py"
    claims, run = shipped
    for key in ("command", "date", "commit", "data_folder", "data_hash"):
        assert run.get(key), key
    assert run["data_hash"] == fingerprint(paths.default_data_dir())  # the default data as shipped today
    assert sorted(claims["claim_id"]) == sorted(registry()["claim_id"])  # each claim of the registry once


@pytest.mark.slow
def test_the_shipped_default_verdicts_are_what_the_code_gives_on_the_default_data():
    """The chapters' headless evaluation (the notebooks' claims: tests/test_evaluate.py) on the default data gives
    the shipped verdicts; if not, refresh them: python tools/ship_default_build.py."""
    from analysis.core import paths
    from analysis.intake.io import load
    from analysis.scorecard.evaluate import evaluate_all

    claims, run = cmp.shipped_default()
    now = evaluate_all(load(paths.default_data_dir()), run.get("params") or None)
    table = cmp.compare_verdicts(claims, now)
    assert cmp.count_statuses(table)["same"] == len(table), table.loc[table["status"] != "same"].to_string()


def test_the_refresh_tool_is_documented():
    text = (ROOT / "tools" / "ship_default_build.py").read_text("utf-8")
    assert "data/default_build" in text and json.loads((ROOT / "data" / "default_build" / "run.json").read_text())[
        "made_by"] == "tools/ship_default_build.py"


@pytest.mark.slow
def test_the_scorecard_of_a_small_trial_compares_with_the_default_build_and_flags_nothing(tmp_path, capsys):
    """On data other than the shipped result's, the scorecard names that result's data, attaches none of its flags,
    and lists the verdicts that differ from the shipped default build; ``compare shipped OUT`` agrees."""
    import html
    import re

    from analysis.engine.build import build

    out = tmp_path / "out"
    build(data_dir=ROOT / "data" / "examples" / "small_trial", out=out, jobs=2)
    page = html.unescape(re.sub(r"<[^>]+>", "", (out / "html" / "book" / "scorecard.html").read_text("utf-8")))
    page = re.sub(r"\s+", " ", page)
    assert "This build's data (small_trial) are not the default data" in page.replace("’", "'")
    assert "none of its flags is attached to a claim judged on these data" in page
    assert "are not of that design" in page
    table = pd.read_csv(out / "results" / "scorecard" / "robustness.csv", keep_default_na=False)
    assert "flags" not in table.columns and "choices on data/synthetic (shipped)" in table.columns
    assert main(["compare", "shipped", str(out), "--csv", str(tmp_path / "c.csv")]) == 0
    counts = re.search(r"(\d+) claims: (\d+) same, (\d+) changed", capsys.readouterr().out)
    assert f"{counts[2]} claims have the same verdict, {counts[3]} a different one" in page
    listed = pd.read_csv(out / "results" / "scorecard" / "against_default.csv", keep_default_na=False)
    assert len(listed) == int(counts[1]) - int(counts[2])


def test_cli_compare_changed_without_differences_says_so(tmp_path, capsys):
    a, b = _build(tmp_path / "a", A), _build(tmp_path / "b", A)
    assert main(["compare", str(a), str(b), "--csv", str(tmp_path / "x.csv"), "--changed"]) == 0
    out = capsys.readouterr().out
    assert "no verdict differs: every claim has the same verdict in A and B" in out
    assert "verdict A" not in out  # no empty table header
