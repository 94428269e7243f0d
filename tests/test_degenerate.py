"""Degenerate cohorts: the whole book still builds when nobody, or everybody, in the MSCT arm responds.

Both cohorts are the shipped synthetic one with the MSCT arm's week-12 visits edited (tests/degenerate_cohorts.py):
with no responders every MSCT patient's week-12 DAS28 components equal their week-0 values (EULAR "none"); with
all responders every MSCT patient is in remission at week 12. Each is built once per session (two full builds,
the costly part of this file). A chapter must render every page, say in a note what it cannot show, and judge
each claim or call it "not testable with these data" -- never crash.

Single-arm folders (a pilot trial: the small trial's MSCT arm, its control arm, one patient) are valid: validate
says that the arms cannot be compared, the book builds, and every claim that compares the arms is "not testable with
these data" with the reason; asserted at the end (three builds of the small trial, about 12 s each).
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
def _assert_every_page(out: Path, result) -> None:
    """The build executed every chapter and rendered each page, without a traceback."""
    assert (out / "html" / "index.html").exists()
    assert sorted(result.executed) == sorted(c.name for c in CHAPTERS)
    for c in CHAPTERS:
        page = out / "html" / "book" / f"{Path(c.notebook).stem}.html"
        assert page.exists(), page
        assert "Traceback" not in page.read_text("utf-8"), page.name


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COHORTS))
def test_book_builds_and_every_chapter_page_exists(name, degenerate_builds):
    out, result, lines = degenerate_builds[name]
    _assert_every_page(out, result)
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


# --------------------------------------------------------------------------- single-arm folders (a pilot trial)
SMALL = ROOT / "data" / "examples" / "small_trial"
#: the small trial's own arm labels (its dataset.yaml maps them to MSCT and control)
SMALL_LABELS = {"MSCT": "UC-MSC", "control": "placebo"}
#: claims that compare the arms, or the response groups with the control group: with one arm, never judged
COMPARE_ARMS = ["safety.second_look_ae_rate", "safety.second_look_labs_ancova",
                "activity.crp_responders_better_12w", "activity.esr_responders_better_12w",
                "activity.haq_responders_better_12w", "immune.treg_higher_responders", "immune.th17_lower_responders",
                "immune.ratio_vs_others_responders", "inflammation.il6_vs_others_fig4",
                "inflammation.tnfa_vs_others_fig4", "inflammation.il10_vs_others_fig4"]


def single_arm(src: Path, dst: Path, arm: str, *, column: str = "arm", key: str = "patient_id",
               label: str | None = None, first: int | None = None) -> Path:
    """A copy of ``src`` keeping only the patients whose ``column`` is ``label`` (the first ``first`` of them)."""
    shutil.copytree(src, dst)
    patients = pd.read_csv(dst / "patients.csv", dtype=str, keep_default_na=False)
    keep = list(patients.loc[patients[column] == (label or arm), key])[:first]
    for table in ("patients", "visits", "adverse_events"):
        df = pd.read_csv(dst / f"{table}.csv", dtype=str, keep_default_na=False)
        df.loc[df[key].isin(keep)].to_csv(dst / f"{table}.csv", index=False, lineterminator="\n")
    return dst


def _small(arm: str, dst: Path, first: int | None = None) -> Path:
    return single_arm(SMALL, dst, arm, column="arm", key="subject", label=SMALL_LABELS[arm], first=first)


SINGLE = {"msct_only": lambda dst: _small("MSCT", dst), "control_only": lambda dst: _small("control", dst),
          "one_patient": lambda dst: _small("MSCT", dst, first=1)}
ARM = {"msct_only": "MSCT", "control_only": "control", "one_patient": "MSCT"}


@pytest.mark.parametrize("name", list(SINGLE))
def test_a_single_arm_folder_is_valid_and_validate_says_what_it_cannot_compare(name, tmp_path, capsys):
    data = SINGLE[name](tmp_path / "data")
    assert main(["validate", str(data)]) == 0
    out, err = capsys.readouterr()
    arm = ARM[name]
    other = "control" if arm == "MSCT" else "MSCT"
    assert err == ""
    lines = out.splitlines()
    assert lines[1] == (f"one arm only ({arm}): the comparisons between the arms are not available; the book says so "
                        "where they would be")
    assert (f"  - patients.csv, column 'arm': one arm only ('{arm}'; no patient in '{other}'): comparisons between "
            "the arms are not available (note)") in lines


def test_one_patient_of_the_synthetic_cohort_is_a_valid_single_arm_folder(tmp_path):
    """One patient is one arm: valid, with the note (before single-arm folders were valid, only the arm rule refused
    it); every analysis that needs two patients says so on its page."""
    from analysis.intake.validate import validate_folder

    data = single_arm(SYNTHETIC, tmp_path / "data", "MSCT", first=1)
    problems = validate_folder(data)
    assert [p for p in problems if p.severity == "error"] == []
    assert [p.rule for p in problems if p.column == "arm"] == [
        "one arm only ('MSCT'; no patient in 'control'): comparisons between the arms are not available"]


@pytest.fixture(scope="session")
def single_arm_builds(tmp_path_factory) -> dict[str, tuple[Path, object]]:
    """The book built on the small trial's MSCT arm, its control arm and its first patient (about 12 s each)."""
    builds = {}
    for name, make in SINGLE.items():
        base = tmp_path_factory.mktemp(name)
        data = make(base / "data")
        builds[name] = (base / "out", build(data_dir=data, out=base / "out", force=True, report=lambda line: None))
    return builds


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SINGLE))
def test_single_arm_book_builds_every_chapter_page(name, single_arm_builds):
    out, result = single_arm_builds[name]
    _assert_every_page(out, result)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SINGLE))
def test_single_arm_claims_are_judged_and_arm_comparisons_not_testable(name, single_arm_builds):
    out, _ = single_arm_builds[name]
    claims = pd.read_csv(out / "results" / "claims.csv").set_index("claim_id")
    assert len(claims) and claims.index.is_unique
    assert set(claims["verdict"]) <= set(VERDICTS), set(claims["verdict"]) - set(VERDICTS)
    for claim_id in COMPARE_ARMS:
        assert claims.loc[claim_id, "verdict"] == NOT_TESTABLE, (claim_id, claims.loc[claim_id, "verdict"])
    for claim_id in ("safety.second_look_ae_rate", "safety.second_look_labs_ancova"):
        assert claims.loc[claim_id, "rule"] == (f"not testable: the data have only the {ARM[name]} arm, and no other "
                                                "arm to compare it with")
    # a claim about responders is not judged on data without any ("interval contains 0" of no interval)
    if name == "control_only":
        for claim_id in ("immune.autoantibody_profile_improved", "ifng.unrelated_to_infection"):
            assert claims.loc[claim_id, "verdict"] == NOT_TESTABLE, claim_id


@pytest.mark.slow
@pytest.mark.parametrize("name", ["msct_only", "control_only"])
def test_single_arm_safety_page_says_why_the_arms_are_not_compared(name, single_arm_builds):
    out, _ = single_arm_builds[name]
    page = (out / "html" / "book" / "safety.html").read_text("utf-8")
    assert (f"Not available with these data: the data have only the {ARM[name]} arm, and no other arm to compare it "
            "with.") in page
    assert "patient-years, control" not in page  # the rates of one arm against none: left out, not "0 in 0.0"
