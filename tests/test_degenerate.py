"""Degenerate cohorts: the whole book still builds when nobody, or everybody, in the MSCT arm responds.

Both cohorts are the shipped synthetic one with the MSCT arm's week-12 visits edited (tests/degenerate_cohorts.py):
with no responders every MSCT patient's week-12 DAS28 components equal their week-0 values (EULAR "none"); with
all responders every MSCT patient is in remission at week 12. Each is built once per session (two full builds,
the costly part of this file). A chapter must render every page, say in a note what it cannot show, and judge
each claim or call it "not testable with these data" -- never crash.

Cohorts the contract refuses (one patient, a whole arm missing) are stopped by the validator with a message that
names the rule; that is the intended behaviour, asserted at the end.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.core.chapters import CHAPTERS
from analysis.engine.build import build
from analysis.claims.registry import NOT_TESTABLE, VERDICTS
from analysis.cli import main
from analysis.science.derive import derive
from analysis.intake.io import load
from degenerate_cohorts import all_responders, no_responders

ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC = ROOT / "data" / "synthetic"
COHORTS = {"no_responders": no_responders, "all_responders": all_responders}
#: claims that compare responders with non-responders: with one group empty they cannot be tested
NEEDS_BOTH_GROUPS = ["ifng.peak_higher_responders"]


@pytest.fixture(scope="session")
def degenerate_builds(tmp_path_factory) -> dict[str, tuple[Path, object, list[str]]]:
    """Build the book on both degenerate cohorts once: ``{name: (out, BuildResult, progress lines)}``."""
    builds = {}
    for name, make in COHORTS.items():
        base = tmp_path_factory.mktemp(name)
        data = make(SYNTHETIC, base / "data")
        lines: list[str] = []
        result = build(data_dir=data, out=base / "out", force=True, report=lines.append)
        builds[name] = (base / "out", result, lines)
    return builds


# --------------------------------------------------------------------------- the cohorts are what they claim
@pytest.mark.parametrize("name, expected", [("no_responders", "Non-responder"), ("all_responders", "Responder")])
def test_degenerate_cohorts_have_a_single_msct_group(name, expected, tmp_path):
    data = COHORTS[name](SYNTHETIC, tmp_path / "data")
    groups = derive(load(data)).patients
    msct = groups.loc[groups["arm"] == "MSCT", "group"]
    assert set(msct) == {expected}
    assert (groups.loc[groups["arm"] == "control", "group"] == "Control").all()


# --------------------------------------------------------------------------- the builds
@pytest.mark.slow
@pytest.mark.parametrize("name", list(COHORTS))
def test_book_builds_and_every_chapter_page_exists(name, degenerate_builds):
    out, result, lines = degenerate_builds[name]
    assert (out / "html" / "index.html").exists()
    assert sorted(result.executed) == sorted(c.name for c in CHAPTERS)
    for c in CHAPTERS:
        page = out / "html" / "book" / f"{Path(c.notebook).stem}.html"
        assert page.exists(), page
        assert "Traceback" not in page.read_text("utf-8"), page.name
    assert not list(out.glob(".staging-*"))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COHORTS))
def test_every_claim_is_judged_or_not_testable(name, degenerate_builds):
    out, _, _ = degenerate_builds[name]
    claims = pd.read_csv(out / "results" / "claims.csv")
    assert len(claims) and claims["claim_id"].is_unique
    assert set(claims["verdict"]) <= set(VERDICTS), set(claims["verdict"]) - set(VERDICTS)
    verdict = claims.set_index("claim_id")["verdict"]
    for claim_id in NEEDS_BOTH_GROUPS:
        assert verdict[claim_id] == NOT_TESTABLE, (claim_id, verdict[claim_id])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COHORTS))
def test_what_cannot_be_shown_is_marked_on_the_page(name, degenerate_builds):
    """References to figures or numbers a chapter skipped are shown as 'Not available with these data'."""
    out, result, lines = degenerate_builds[name]
    for chapter, keys in result.not_available.items():
        page = (out / "html" / "book" / f"{chapter}.html").read_text("utf-8")
        assert "Not available with these data" in page or "n/a" in page, chapter
        assert any(chapter in line and "not available" in line for line in lines)


# --------------------------------------------------------------------------- cohorts the contract refuses
def _one_patient(dst: Path) -> Path:
    shutil.copytree(SYNTHETIC, dst)
    patients = pd.read_csv(dst / "patients.csv", dtype=str, keep_default_na=False)
    keep = patients["patient_id"].iloc[0]
    for table in ("patients", "visits", "adverse_events"):
        df = pd.read_csv(dst / f"{table}.csv", dtype=str, keep_default_na=False)
        df.loc[df["patient_id"] == keep].to_csv(dst / f"{table}.csv", index=False, lineterminator="\n")
    return dst


def _one_arm(dst: Path) -> Path:
    shutil.copytree(SYNTHETIC, dst)
    patients = pd.read_csv(dst / "patients.csv", dtype=str, keep_default_na=False)
    gone = set(patients.loc[patients["arm"] == "control", "patient_id"])
    for table in ("patients", "visits", "adverse_events"):
        df = pd.read_csv(dst / f"{table}.csv", dtype=str, keep_default_na=False)
        df.loc[~df["patient_id"].isin(gone)].to_csv(dst / f"{table}.csv", index=False, lineterminator="\n")
    return dst


@pytest.mark.parametrize("make", [_one_patient, _one_arm], ids=["single_patient", "one_arm_missing"])
def test_cohorts_without_both_arms_are_refused_naming_the_rule(make, tmp_path, capsys):
    data = make(tmp_path / "data")
    out = tmp_path / "out"
    code = main(["build", "--data", str(data), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ")
    assert "patients.csv" in err and "arm" in err
    assert "no patients at all in arm" in err and "both arms (MSCT and control) are needed" in err
    assert "Traceback" not in err
    assert not (out / "html").exists()
