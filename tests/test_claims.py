"""Tests for analysis.claims: registry validity and verdict rules on hand-made boundary cases."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis import claims as C
from analysis.claims import ClaimLog, VERDICTS, collect, load_published, summary

COLS = list(C.COLUMNS)


def _registry(rows):
    """A tiny hand-made registry: rows are (claim_id, chapter, kind, expected, tolerance)."""
    return pd.DataFrame(
        [{"claim_id": cid, "chapter": ch, "claim": f"claim {cid}", "location": "Nowhere", "published": "x",
          "kind": kind, "expected": exp, "tolerance": tol} for cid, ch, kind, exp, tol in rows],
        columns=COLS,
    )


@pytest.fixture
def reg():
    return _registry([
        ("t.count", "safety", "count", "3", ""),
        ("t.prop", "safety", "proportion", "0.5", "0.1"),
        ("t.up_sig", "safety", "significant", "increase", ""),
        ("t.down", "safety", "direction", "decrease", ""),
        ("t.nochange", "safety", "not_significant", "no_change", ""),
        ("t.sig", "safety", "significant", "p<alpha", ""),
        ("t.ns", "safety", "not_significant", "p>=alpha", ""),
        ("t.down_ns", "safety", "not_significant", "decrease", ""),
        ("t.qual", "safety", "qualitative", "holds", ""),
        ("o.other", "immune", "count", "1", ""),
    ])


# ----------------------------------------------------------------------------- the shipped registry
def test_registry_loads_and_ids_unique():
    reg = load_published()
    assert reg["claim_id"].is_unique
    assert list(reg.columns) == COLS
    assert set(reg["chapter"]) == set(C.CHAPTERS)


def test_every_registry_row_valid():
    reg = load_published()
    for _, row in reg.iterrows():
        assert C._row_problem(row) is None, row["claim_id"]
        assert row["claim_id"].split(".")[0] in {"safety", "activity", "immune", "inflammation", "ifng", "audit"}


def test_registry_covers_required_claims():
    ids = set(load_published()["claim_id"])
    for cid in ["safety.no_serious_ae", "activity.responders_n", "ifng.before_subgroup_n",
                "ifng.after_subgroup_n", "activity.relapse_n", "audit.relapse_pct_rounding"]:
        assert cid in ids


def _copy_registry(tmp_path):
    src = C._DEFAULT_DIR / "claims"
    dst = tmp_path / "claims"
    shutil.copytree(src, dst)
    return dst


def test_bad_kind_names_file_and_row(tmp_path):
    dst = _copy_registry(tmp_path)
    df = pd.read_csv(dst / "immune.csv", dtype=str, keep_default_na=False)
    df.loc[1, "kind"] = "vibes"
    df.to_csv(dst / "immune.csv", index=False)
    with pytest.raises(ValueError, match=r"immune\.csv, row 3 .*`kind`"):
        load_published(tmp_path)


def test_duplicate_id_raises(tmp_path):
    dst = _copy_registry(tmp_path)
    df = pd.read_csv(dst / "immune.csv", dtype=str, keep_default_na=False)
    df.loc[1, "claim_id"] = df.loc[0, "claim_id"]
    df.to_csv(dst / "immune.csv", index=False)
    with pytest.raises(ValueError, match="not unique"):
        load_published(tmp_path)


def test_wrong_chapter_and_tolerance_raise(tmp_path):
    dst = _copy_registry(tmp_path)
    df = pd.read_csv(dst / "immune.csv", dtype=str, keep_default_na=False)
    df.loc[0, "chapter"] = "safety"
    df.to_csv(dst / "immune.csv", index=False)
    with pytest.raises(ValueError, match="but the file is immune.csv"):
        load_published(tmp_path)
    df.loc[0, "chapter"] = "immune"
    df.loc[0, "tolerance"] = "0.1"  # tolerance on a direction claim
    df.to_csv(dst / "immune.csv", index=False)
    with pytest.raises(ValueError, match="tolerance"):
        load_published(tmp_path)


def test_empty_dir_raises(tmp_path):
    with pytest.raises(ValueError, match="published_dir"):
        load_published(tmp_path)


# ----------------------------------------------------------------------------- verdict rules
def test_count(reg):
    log = ClaimLog("safety", reg)
    assert log.check_count("t.count", 3) == "reproduced"
    assert log.check_count("t.count", 4) == "not reproduced"
    assert log.table().loc[0, "reproduced"] == "4"  # recording twice replaces
    assert len(log.table()) == 1


def test_proportion_boundary(reg):
    log = ClaimLog("safety", reg)
    # 6/10 = 0.6 is exactly 0.1 away from 0.5 (by hand): at the tolerance counts as reproduced
    assert log.check_proportion("t.prop", 6, 10) == "reproduced"
    assert log.check_proportion("t.prop", 4, 10) == "reproduced"
    assert log.check_proportion("t.prop", 61, 100) == "not reproduced"
    assert log.table().loc[0, "reproduced"] == "0.61 (61/100)"
    with pytest.raises(ValueError, match="successes"):
        log.check_proportion("t.prop", 11, 10)


def test_significance_boundary(reg):
    log = ClaimLog("safety", reg, alpha=0.05)
    assert log.check_significance("t.sig", p=0.05) == "not reproduced"  # p == alpha is not significant
    assert log.check_significance("t.sig", p=0.0499) == "reproduced"
    assert log.check_significance("t.ns", p=0.05) == "reproduced"
    assert log.check_significance("t.ns", p=0.0499) == "not reproduced"
    # with an estimate, the expected direction must hold too
    assert log.check_significance("t.up_sig", p=0.01, estimate=-1.0) == "not reproduced"
    assert log.check_significance("t.up_sig", p=0.01, estimate=1.0) == "reproduced"


def test_direction_rules(reg):
    log = ClaimLog("safety", reg, alpha=0.05)
    assert log.check_direction("t.up_sig", estimate=2.0, p=0.01) == "reproduced"
    assert log.check_direction("t.up_sig", estimate=2.0, p=0.05) == "not reproduced"
    assert log.check_direction("t.up_sig", estimate=-2.0, p=0.01) == "not reproduced"
    with pytest.raises(ValueError, match="`p`"):
        log.check_direction("t.up_sig", estimate=2.0)
    assert log.check_direction("t.down", estimate=-0.1) == "reproduced"  # sign only
    assert log.check_direction("t.down", estimate=-0.1, p=0.9) == "reproduced"
    assert log.check_direction("t.down", estimate=0.0) == "not reproduced"
    assert log.check_direction("t.nochange", estimate=5.0, p=0.05) == "reproduced"
    assert log.check_direction("t.nochange", estimate=5.0, p=0.01) == "not reproduced"
    assert log.check_direction("t.down_ns", estimate=-1.0, p=0.3) == "reproduced"
    assert log.check_direction("t.down_ns", estimate=-1.0, p=0.01) == "not reproduced"
    assert log.check_direction("t.down", estimate=float("nan")) == "not testable with these data"
    row = log.table().set_index("claim_id").loc["t.up_sig"]
    assert row["rule"] == "reproduced if p < 0.05 and the change is an increase"
    assert row["reproduced"] == "decrease (-2), p = 0.010"


def test_kind_mismatch_raises(reg):
    log = ClaimLog("safety", reg)
    with pytest.raises(ValueError, match="kind"):
        log.check_count("t.prop", 1)
    with pytest.raises(ValueError, match="kind"):
        log.check_significance("t.down", p=0.1)


def test_other_chapter_claim_raises(reg):
    log = ClaimLog("safety", reg)
    with pytest.raises(KeyError, match="o.other"):
        log.check_count("o.other", 1)
    with pytest.raises(KeyError):
        log.not_testable("nope", "x")


def test_bad_arguments(reg):
    with pytest.raises(ValueError, match="`chapter`"):
        ClaimLog("nonsense", reg)
    with pytest.raises(ValueError, match="`alpha`"):
        ClaimLog("safety", reg, alpha=1.5)


def test_write_includes_every_claim_once(reg, tmp_path):
    log = ClaimLog("safety", reg)
    log.check_count("t.count", 3)
    log.check_true("t.qual", False, "did not hold")
    log.not_testable("t.sig", "no such data")
    assert "t.count" not in log.missing() and "t.prop" in log.missing()
    path = log.write(tmp_path)
    out = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(out.columns) == list(C.TABLE_COLUMNS)
    assert sorted(out["claim_id"]) == sorted(reg.loc[reg.chapter == "safety", "claim_id"])
    assert out["claim_id"].is_unique
    assert set(out["verdict"]) <= set(VERDICTS)
    unevaluated = out[out["claim_id"].isin(log.missing())]
    assert (unevaluated["rule"] == "not evaluated by the chapter").all()
    assert (unevaluated["verdict"] == "not testable with these data").all()


def test_collect_and_summary(reg, tmp_path):
    s = ClaimLog("safety", reg)
    s.check_count("t.count", 3)
    s.write(tmp_path)
    o = ClaimLog("immune", reg)
    o.check_count("o.other", 2)
    o.write(tmp_path)
    allc = collect(tmp_path / "results")
    assert allc["chapter"].tolist()[0] == "safety" and allc["chapter"].tolist()[-1] == "immune"
    assert len(allc) == len(reg)
    summ = summary(allc).set_index("chapter")
    # by hand: safety 1 reproduced, 8 untested; immune 1 not reproduced
    assert summ.loc["safety", "reproduced"] == 1
    assert summ.loc["immune", "not reproduced"] == 1
    assert summ.loc["Total", "total"] == len(reg)
    assert summ.loc["Total", "not testable with these data"] == 8
