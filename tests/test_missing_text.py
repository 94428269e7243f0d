"""Every sentence of a page stays readable and true when the data lack values (issue 34, items 3 and 4).

One whole-book build on a minimal folder (the hand-written 12-patient pilot: DAS28 components with CRP only, no
ESR, no other measure; here without any adverse event) and a search of every page's prose for garbled
missing-data sentences ("not available with these data of not available ...", "n/a (", a dangling "note
above"), raw glue markup, and a provenance that denies using the data. Then unit tests of the sentence
helpers, on hand-made cases.
"""
from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.chapters.disease_activity.analysis import (
    prednisone_sentence,
    relapse_checks,
    relapse_not_evaluable,
    relapse_sentence,
)
from analysis.chapters.ifng.analysis import high_ifng_sentence
from analysis.chapters.safety.analysis import flagged_change_sentence
from analysis.claims.registry import VERDICTS
from analysis.core.chapters import CHAPTERS, chapter
from analysis.engine import render
from analysis.engine.report import Page
from analysis.science.sections import das28_choice, das28_variant, design_rows

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "data" / "examples" / "small_trial"
DATA_CHAPTERS = [c for c in CHAPTERS if c.uses_data]

#: garbled or dangling phrases no page's prose may contain
GARBLED = [
    re.compile(r"not available with these data\W+(?:of|and|to|,)\W+not available", re.IGNORECASE),
    re.compile(r"\bn/a\b", re.IGNORECASE),
    re.compile(r"\bnan\b"),
    re.compile(r"noted? above", re.IGNORECASE),
    re.compile(r"\b0 of 0\b"),
    re.compile(r"not available with these data:\s*not available", re.IGNORECASE),
    re.compile(r"not testable:\s*not available", re.IGNORECASE),
]
#: a missing number printed into a claim's text or a page (issue 34, item 4): "±nan", "= nan", "[nan, nan]",
#: "n/a (", an infinite bound
NUMBER_LEFT_IN = [
    re.compile(r"\bnan\b", re.IGNORECASE),
    re.compile(r"\bn/a\b", re.IGNORECASE),
    re.compile(r"(?<![\w-])[-−]?inf\b"),
    re.compile(r"\bNone\b(?! of)"),
    re.compile(r"<NA>|\bNaT\b"),
]
#: the text columns of a chapter's claims.csv
CLAIM_TEXT = ("reproduced", "rule", "verdict", "basis_reason")
#: raw glue markup that should have been rendered
RAW_GLUE = ("{glue:", "```{glue", "{glue}`")


class _Prose(HTMLParser):
    """Text of a page's ``<main>``: all of it, and its prose (paragraphs and list items outside code and tables)."""

    SKIP = frozenset({"pre", "table", "script", "style"})

    def __init__(self):
        super().__init__()
        self.depth = {"main": 0, "skip": 0}
        self.all: list[str] = []
        self.prose: list[str] = []
        self._para: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.depth["main"] += 1
        if tag in self.SKIP:
            self.depth["skip"] += 1
        if tag in ("p", "li") and not self.depth["skip"] and self.depth["main"]:
            self._flush()
            self._para = []

    def handle_endtag(self, tag):
        if tag in ("p", "li"):
            self._flush()
        if tag in self.SKIP:
            self.depth["skip"] -= 1
        if tag == "main":
            self.depth["main"] -= 1

    def handle_data(self, data):
        if self.depth["main"]:
            self.all.append(data)
            if self._para is not None and not self.depth["skip"]:
                self._para.append(data)

    def _flush(self):
        if self._para:
            text = re.sub(r"\s+", " ", "".join(self._para)).strip()
            if text:
                self.prose.append(text)
        self._para = None


def page_text(path: Path) -> tuple[str, list[str]]:
    """(all text of the page's main part, its prose paragraphs)."""
    parser = _Prose()
    parser.feed(path.read_text("utf-8"))
    parser._flush()
    return "".join(parser.all), parser.prose


# ------------------------------------------------------------------------------------------ one build
@pytest.fixture(scope="module")
def minimal_book(tmp_path_factory):
    """The book built on the small pilot without adverse events: ``(out, folder name)``."""
    from analysis.engine.build import build

    base = tmp_path_factory.mktemp("missing-text")
    folder = base / "pilot_without_events"
    shutil.copytree(SMALL, folder)
    header = (folder / "adverse_events.csv").read_text("utf-8").splitlines()[0]
    (folder / "adverse_events.csv").write_text(header + "\n", "utf-8")
    out = base / "out"
    build(data_dir=folder, out=out, force=True, jobs=2)
    return out, folder.name


def _pages(out: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted((out / "html" / "book").glob("*.html"))}


@pytest.mark.slow
def test_no_page_has_garbled_missing_data_sentences(minimal_book):
    out, _ = minimal_book
    pages = _pages(out)
    assert {Path(c.notebook).stem for c in CHAPTERS} <= set(pages)
    bad = []
    for name, path in pages.items():
        _, prose = page_text(path)
        for para in prose:
            for pattern in GARBLED:
                if pattern.search(para):
                    bad.append(f"{name}: {pattern.pattern!r} in {para[:160]!r}")
    assert not bad, "\n".join(bad)


@pytest.mark.slow
def test_no_page_prints_a_missing_number(minimal_book):
    """Prose and captions (tables' cells aside): no "nan", "n/a", "inf" or "None" where a number should be."""
    out, _ = minimal_book
    bad = []
    for name, path in _pages(out).items():
        _, prose = page_text(path)
        for para in prose:
            bad += [f"{name}: {pattern.pattern!r} in {para[:160]!r}" for pattern in NUMBER_LEFT_IN
                    if pattern.search(para)]
    assert not bad, "\n".join(bad)


@pytest.mark.slow
def test_no_claim_text_prints_a_missing_number(minimal_book):
    out, _ = minimal_book
    bad = []
    for path in sorted((out / "results").glob("*/claims.csv")):
        claims = pd.read_csv(path, keep_default_na=False, dtype=str)
        if "claim_id" not in claims.columns:  # the scorecard's copy, without ids: the chapters' rows again
            continue
        for col in [c for c in CLAIM_TEXT if c in claims.columns]:
            for cid, text in zip(claims["claim_id"], claims[col]):
                bad += [f"{cid} {col}: {pattern.pattern!r} in {text[:160]!r}" for pattern in NUMBER_LEFT_IN
                        if pattern.search(text)]
    assert not bad, "\n".join(bad)


def _raw_glue(path: Path) -> list[str]:
    text, _ = page_text(path)
    return [mark for mark in RAW_GLUE if mark in text]


@pytest.mark.slow
def test_no_page_shows_raw_glue_markup(minimal_book):
    out, _ = minimal_book
    bad = {name: _raw_glue(path) for name, path in _pages(out).items() if name != "scorecard"}
    assert not any(bad.values()), bad


@pytest.mark.slow
def test_scorecard_shows_no_raw_glue_markup(minimal_book):
    out, _ = minimal_book
    assert not _raw_glue(_pages(out)["scorecard"])


@pytest.mark.slow
@pytest.mark.parametrize("ch", DATA_CHAPTERS, ids=lambda c: c.name)
def test_chapter_provenance_names_the_data_folder(minimal_book, ch):
    out, folder = minimal_book
    path = _pages(out)[Path(ch.notebook).stem]
    text, _ = page_text(path)
    assert "no patient data used" not in text
    assert f"<th>data folder</th><td>{folder}</td>" in path.read_text("utf-8")


@pytest.mark.slow
def test_scorecard_provenance_does_not_deny_using_the_data(minimal_book):
    out, folder = minimal_book
    path = _pages(out)["scorecard"]
    text, _ = page_text(path)
    assert "no patient data used" not in text and f"<th>data folder</th><td>{folder}</td>" in path.read_text("utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("ch", [c for c in DATA_CHAPTERS if c.name != "inflammation"], ids=lambda c: c.name)
def test_one_das28_variant_stated_the_same_way(minimal_book, ch):
    """Design box, parameters box (and the text where it says) all give the variant used and why."""
    out, _ = minimal_book
    text, _ = page_text(_pages(out)[Path(ch.notebook).stem])
    assert "ESR not recorded: DAS28-CRP" in text
    assert "das28_variant = 'esr' → 'crp' (ESR not recorded)" in text
    assert "we assume DAS28-ESR" not in text


@pytest.mark.slow
def test_no_claim_rule_is_garbled(minimal_book):
    """Every claim's rule (shown in the claims tables, which the prose search skips) reads without a doubled
    "not available" or a "p = n/a"."""
    out, _ = minimal_book
    bad = []
    for path in sorted((out / "results").glob("*/claims.csv")):
        claims = pd.read_csv(path, keep_default_na=False)
        if not {"claim_id", "rule"} <= set(claims.columns):  # a summary table, not a chapter's claims
            continue
        for cid, rule in zip(claims["claim_id"], claims["rule"]):
            if any(pattern.search(rule) for pattern in GARBLED):
                bad.append(f"{cid}: {rule[:160]}")
    assert not bad, "\n".join(bad)


@pytest.mark.slow
def test_relapse_claims_name_the_missing_input(minimal_book):
    out, _ = minimal_book
    claims = pd.read_csv(out / "results" / "disease_activity" / "claims.csv", keep_default_na=False)
    rules = claims.set_index("claim_id")["rule"]
    for cid in ("activity.relapse_n", "activity.relapse_pct", "activity.second_look_relapse_km"):
        assert "ESR is missing for every responder" in rules[cid], (cid, rules[cid])
        assert "has an evaluable visit" not in rules[cid]


@pytest.mark.slow
def test_intro_states_this_build(minimal_book):
    out, folder = minimal_book
    text, _ = page_text(_pages(out)["intro"])
    flat = re.sub(r"\s+", " ", text)
    assert "By default every number" not in flat
    assert f"data folder {folder}" in flat and "not marked synthetic" in flat
    assert "What this build could compute" in flat and "ESR not recorded: DAS28-CRP" in flat
    assert "Relapse (needs esr_mm_h and crp_mg_l)" in flat
    for verdict in VERDICTS:
        assert verdict in flat, verdict


# ------------------------------------------------------------------------------------------ unit tests
def _nb(markdown: str, glued: dict) -> dict:
    outs = [{"metadata": {"scrapbook": {"name": k}}, "data": {"application/papermill.record/text/plain": repr(v)}}
            for k, v in glued.items()]
    return {"cells": [{"cell_type": "markdown", "source": markdown}, {"cell_type": "code", "outputs": outs}]}


def test_a_paragraph_citing_a_missing_value_is_replaced_whole():
    src = ("## Title\n\nIntro with {glue:text}`n`.\n\n{glue:text}`gone` of {glue:text}`n` patients\nrelapsed."
           "\n\nLast {glue:text}`p`.")
    new, missing = render.mark_not_available(_nb(src, {"n": 3, "p": "p = n/a"}))
    text = new["cells"][0]["source"]
    assert missing == ["gone"]
    # hand-checked: the heading and the first paragraph stay; the two others become one sentence (not two)
    assert text.rstrip() == "## Title\n\nIntro with {glue:text}`n`.\n\n" + render.left_out_sentence("Title")


def test_list_items_and_fences_are_kept_around_a_left_out_item():
    src = "- first {glue:text}`n`\n- second {glue:text}`gone`\n\n```{note}\nKept.\n```"
    new, _ = render.mark_not_available(_nb(src, {"n": 1}))
    lines = new["cells"][0]["source"].splitlines()
    assert lines[0] == "- first {glue:text}`n`"
    assert lines[1] == "- " + render.LEFT_OUT
    assert lines[-3:] == ["```{note}", "Kept.", "```"]


def test_a_missing_value_in_a_table_row_or_heading_is_marked_not_left_for_sphinx():
    src = "| a | b |\n|---|---|\n| {glue:text}`gone` | {glue:text}`n` |\n\n## Week {glue:text}`gone2`"
    new, missing = render.mark_not_available(_nb(src, {"n": 1}))
    text = new["cells"][0]["source"]
    assert missing == ["gone", "gone2"]
    assert "`gone" not in text and "| *not available with these data* | {glue:text}`n` |" in text


def test_a_missing_figure_becomes_a_note_without_a_dangling_reference():
    src = "```{glue:figure} fig\n:name: fig-x\n\nCaption\n```\n\nSee {numref}`fig-x`."
    new, missing = render.mark_not_available(_nb(src, {}))
    text = new["cells"][0]["source"]
    assert missing == ["fig"] and render.FIGURE_LEFT_OUT in text
    assert "note above" not in text and "{numref}" not in text


@pytest.mark.parametrize("value, placeholder", [
    ("n/a", True), ("p = n/a", True), ("n/a–n/a", True), ("not available with these data", True), ("nan", True),
    (3, False), ("0.12", False), ("DAS28-CRP", False), ("no responder is evaluable", False),
])
def test_placeholder_values(value, placeholder):
    assert (render.placeholder_keys(_nb("", {"k": value})) == {"k"}) is placeholder


def _cohort(esr, crp):
    return SimpleNamespace(visits=pd.DataFrame({"esr_mm_h": [esr], "crp_mg_l": [crp]}))


@pytest.mark.parametrize("esr, crp, requested, variant, statement", [
    (np.nan, 5.0, "esr", "crp", "ESR not recorded: DAS28-CRP"),
    (20.0, np.nan, "crp", "esr", "CRP not recorded: DAS28-ESR"),
    (20.0, 5.0, "esr", "esr", "DAS28-ESR (the paper reports ESR)"),
    (20.0, 5.0, "crp", "crp", "DAS28-CRP (parameter das28_variant = 'crp')"),
])
def test_das28_choice(esr, crp, requested, variant, statement):
    choice = das28_choice(_cohort(esr, crp), requested)
    assert (choice.variant, choice.statement) == (variant, statement)
    assert das28_variant(_cohort(esr, crp), requested) == variant


def test_the_page_records_the_das28_choice(tmp_path):
    page = Page("demo", output_dir=tmp_path, params={"alpha": 0.05, "das28_variant": "esr"})
    page.glue = lambda key, value: setattr(page, "glued", (key, value))
    assert das28_variant(_cohort(np.nan, 5.0), "esr", page=page) == "crp"
    assert page.parameters_text() == "alpha = 0.05, das28_variant = 'esr' → 'crp' (ESR not recorded)"
    assert page.glued == ("das28_used", "ESR not recorded: DAS28-CRP")


def test_design_box_row_gives_the_reason():
    from analysis.core.design import Design

    rows = dict(design_rows(Design.from_mapping({"visit_weeks": [0, 12, 24]}),
                            das28=das28_choice(_cohort(np.nan, 5.0), "esr")))
    assert rows["DAS28 behind the response groups"] == "ESR not recorded: DAS28-CRP"


def _visits(esr):
    return pd.DataFrame({"patient_id": ["a", "a", "b", "b"], "week": [12, 24] * 2, "group": "Responder",
                         "das28": [3.0, 4.0, 3.0, 3.2], "esr_mm_h": esr, "crp_mg_l": [2.0, 5.0, 2.0, 1.0]})


def test_relapse_not_evaluable_names_the_missing_lab():
    checks = relapse_checks(_visits([np.nan] * 4))
    why = relapse_not_evaluable(checks, reference_week=12, week=24)
    assert why.startswith("no responder is evaluable for relapse at week 24")
    assert "ESR is missing for every responder" in why and "CRP" not in why.split("and ESR")[1]
    # with ESR for one visit only, nobody has both: the clause says so without blaming a whole column
    part = relapse_not_evaluable(relapse_checks(_visits([10.0, np.nan, np.nan, np.nan])), reference_week=12, week=24)
    assert "ESR is missing for every responder" in part
    # evaluable responders: nothing to explain
    assert relapse_not_evaluable(relapse_checks(_visits([10.0, 20.0, 10.0, 5.0])), reference_week=12, week=24) == ""
    # no visit at the relapse week at all
    assert relapse_not_evaluable(checks, reference_week=12, week=48).endswith(
        "no responder was seen at week 12 and at week 48")


def test_relapse_and_prednisone_sentences():
    checks = relapse_checks(_visits([10.0, 20.0, 10.0, 5.0]))
    from analysis.chapters.disease_activity.analysis import relapse_summary

    # hand-checked: a rises 1.0 (> 0.6) with ESR and CRP up -> relapse; b rises 0.2 -> none; 1 of 2 = 50%
    assert relapse_sentence(relapse_summary(checks, relapse_week=24), relapse_week=24) == (
        "By this rule, 1 of 2 evaluable responders relapsed first at the relapse week (50%).")
    none = relapse_checks(_visits([np.nan] * 4))
    why = relapse_not_evaluable(none, reference_week=12, week=24)
    text = relapse_sentence(relapse_summary(none, relapse_week=24), relapse_week=24, not_evaluable=why)
    assert text.startswith("No responder is evaluable for relapse at week 24: the rule needs") and "n/a" not in text
    assert prednisone_sentence(pd.DataFrame({"reduced_stepwise": [True]})) == (
        "1 of 1 responder had their dose reduced stepwise by this rule.")


def test_high_ifng_sentence_both_groups_and_sign():
    share = pd.DataFrame({"group": ["Responder", "Non-responder"], "period": "before or after",
                          "n": [4, 5], "n_high": [3, 1]})
    peaks = pd.DataFrame({"measure": ["ifng_peak_window"], "mean_diff": [-1.234], "p": [0.2]})
    text = high_ifng_sentence(share, peaks, threshold=2.0)
    # hand-checked: 3/4 = 75 %, 1/5 = 20 %; a negative difference reads "lower ... by 1.23"
    assert text.startswith("3/4 responders (75 %) and 1/5 non-responders (20 %) had IFN-γ above 2 pg/mL")
    assert "lower in responders by 1.23 pg/mL" in text


def test_flagged_change_sentence_lists_only_what_was_compared():
    labs = pd.DataFrame({"lab": ["albumin_g_l", "platelets_10e9_l"], "label": ["Albumin", "Platelets"],
                         "group": "Responder", "unit": ["g/L", "10^9/L"], "n": [8, 6], "mean_diff": [1.0, -20.0],
                         "hedges_g": [0.5, np.nan], "g_ci_low": [0.1, np.nan], "g_ci_high": [0.9, np.nan],
                         "p": [0.01, 0.3]})
    text = flagged_change_sentence(labs, ["albumin_g_l", "platelets_10e9_l"])
    assert text.startswith("In responders, albumin changed by +1.00 g/L (Hedges' g 0.50, 95% CI 0.10 to 0.90;")
    assert "and platelets by -20.00 10^9/L (p = " in text and "n/a" not in text


def test_fill_intro_for_synthetic_and_user_data():
    text = "<!-- build:data -->\n\n<!-- build:contents -->"
    synthetic = SimpleNamespace(meta={"synthetic": True, "seed": 7}, patients=pd.DataFrame(), visits=pd.DataFrame())
    page = render.fill_intro(text, cohort=synthetic, data_dir=Path("synthetic"), chapters=[chapter("safety")])
    assert "**synthetic cohort** (data folder `synthetic`, seed 7)" in page
    user = SimpleNamespace(meta={}, patients=pd.DataFrame({"arm": ["MSCT"] * 2 + ["control"]}),
                           visits=pd.DataFrame({"esr_mm_h": [np.nan], "crp_mg_l": [1.0], "ifn_g": [2.0]}))
    page = render.fill_intro(text, cohort=user, data_dir=Path("mine"), chapters=[chapter("ifng"), chapter("audit")])
    assert "`mine` (3 patients: 2 MSCT, 1 control)" in page and "synthetic cohort**" not in page
    row = next(line for line in page.splitlines() if line.startswith("| {doc}`ifng`"))
    assert row.split(" | ")[1].startswith("IFN-γ before and after") and "(needs ifn_g; at least one of treg_pct" in row  # no cell or cytokine
    assert "| {doc}`audit` | the paper's printed statistics" in page
    assert "Not part of this build: Safety and trial profile" in page
    assert not any(marker in page for marker in render.INTRO_MARKERS)
    # a build of chapters that read no data (the audit alone) says so, and claims no cohort
    page = render.fill_intro(text, cohort=None, data_dir=Path("mine"), chapters=[chapter("audit")])
    assert "read no patient data" in page and "synthetic cohort**" not in page


def test_the_intro_source_names_the_five_verdicts_and_its_markers():
    text = (ROOT / "book" / "intro.md").read_text("utf-8")
    flat = re.sub(r"\s+", " ", text)
    for verdict in VERDICTS:
        assert f"*{verdict}*" in flat, verdict
    for marker in render.INTRO_MARKERS:
        assert marker in text


def test_marker_sentence_names_markers_without_a_test():
    from analysis.science.methods.look import Look
    from analysis.science.methods.mixed import marker_sentence

    look = Look({}, "", {"p_holm_il_6_rank": 0.2, "p_holm_il_6_log": 0.3, "p_holm_tnf_a_rank": 0.01,
                         "p_holm_tnf_a_log": float("nan")})
    text = marker_sentence(look, markers=["il_6", "tnf_a", "il_10"])
    # hand-checked: IL-6 p = 0.2 >= 0.05 does not support; TNF-α 0.01 supports; IL-10 has no test
    assert text == ("For IL-6 the group × week test gives p = 0.200 on ranks (Holm; log scale p = 0.300) and for "
                    "TNF-α p = 0.010 (no log-scale model). So the modern method does not support the paper's "
                    "conclusion about IL-6 and supports the one about TNF-α. IL-10 could not be tested with these data.")


def test_subgroup_sentence_without_an_after_subgroup():
    from analysis.chapters.ifng.analysis import subgroup_sentence

    counts = pd.DataFrame({"subgroup": ["Before", "After", "Never high"], "n": [3, 0, 1],
                           "median_rise_week": [0.0, np.nan, np.nan]})
    assert subgroup_sentence(counts) == ("The rule gives 3 Before, 0 After and 1 Never-high responders; with nobody "
                                         "in the After subgroup it has no rise week.")


# ------------------------------------------------------------------------------------------ missing numbers
def test_equivalence_margin_without_two_baseline_values_says_so():
    from analysis.claims.registry import equivalence_margin

    margin, text = equivalence_margin("il_8", [4.0])
    assert np.isnan(margin)
    assert text.startswith("0.5 × baseline SD, not defined: fewer than 2 baseline values (")
    # hand-checked: SD of (1, 3) is sqrt(2); half of it 0.707
    assert equivalence_margin("il_8", [1.0, 3.0])[1].startswith("0.5 × baseline SD = 0.707 (")


@pytest.mark.parametrize("method, kwargs", [
    ("check_equivalence_all", {"items": [("week 4", [0.1])]}),
    ("check_equivalence", {"values": [0.1, 0.2]}),
])
def test_a_rule_with_an_undefined_margin_reads_without_nan(method, kwargs):
    from analysis.claims.log import ClaimLog
    from analysis.claims.registry import equivalence_margin

    log = ClaimLog("inflammation")
    margin, src = equivalence_margin("il_8", [4.0])
    assert getattr(log, method)("inflammation.il8_no_change", **kwargs, margin=margin,
                                margin_source=src) == "not testable with these data"
    row = log.table().iloc[-1]
    text = f"{row['reproduced']} {row['rule']}"
    assert "nan" not in text and "±margin" not in text
    assert "within the margin (margin 0.5 × baseline SD, not defined: fewer than 2 baseline values" in row["rule"]


def test_a_one_sided_rule_with_an_undefined_margin():
    from analysis.claims.log import ClaimLog

    log = ClaimLog("disease_activity")
    log.check_equivalence("activity.no_improvement_controls", [0.1], margin=float("nan"),
                          margin_source="not defined", one_sided="no_decrease")
    rule = log.table().iloc[-1]["rule"]
    assert "lies above minus the margin (margin not defined)" in rule and "nan" not in rule


@pytest.mark.parametrize("args, text", [
    ((-0.5, -1.25, 0.25, 6), "-0.5 [-1.25, 0.25], n = 6"),
    ((0.4, np.nan, np.nan, 1), "no interval with n = 1"),
    ((np.nan, np.nan, np.nan, 0), "no values"),
])
def test_fmt_mean_ci(args, text):
    from analysis.claims.rules import fmt_mean_ci

    assert fmt_mean_ci(*args) == text


def test_check_changes_with_one_value_says_no_interval():
    from analysis.claims.log import ClaimLog

    log = ClaimLog("ifng")
    # hand-checked: "a" has 4 values (an interval above 0), "b" one value (no interval)
    assert log.check_changes("ifng.ratio_rise_after_ifng", [("a", [0.3, 0.4, 0.5, 0.35]), ("b", [0.2])]) == "reproduced"
    text = log.table().iloc[-1]["reproduced"]
    assert "b: no interval with n = 1" in text and "nan" not in text


def test_microenvironment_claim_with_one_patient_is_not_testable():
    from analysis.chapters.inflammation.verdicts import judge_claims
    from analysis.claims.log import ClaimLog
    from analysis.core.design import Design

    visits = pd.DataFrame({"patient_id": ["a", "a"], "week": [0, 12], "arm": "MSCT", "group": "Responder",
                           "il_6": [5.0, 3.0], "tnf_a": [4.0, 2.0], "il_10": [1.0, 2.0]})
    derived = SimpleNamespace(visits=visits, patients=pd.DataFrame({"patient_id": ["a"], "arm": ["MSCT"],
                                                                    "group": ["Responder"]}),
                              design=Design.from_mapping({"visit_weeks": [0, 4, 12, 24]}))
    claims = judge_claims(ClaimLog("inflammation"), derived).set_index("claim_id")
    row = claims.loc["inflammation.microenvironment_reversed"]
    assert row["verdict"] == "not testable with these data"
    assert "il_6: no interval with n = 1" in row["rule"] and "nan" not in row["rule"]


def test_trajectories_not_drawn():
    from analysis.chapters.ifng.analysis import trajectories_not_drawn

    visits = pd.DataFrame({"patient_id": list("abc"), "week": [0, 0, 0], "il_10": [1.0, 2.0, np.nan]})
    profile = pd.DataFrame({"patient_id": list("abc"), "group": ["Non-responder"] * 3, "subgroup": [None] * 3})
    assert trajectories_not_drawn(visits, profile, markers=["il_10"], weeks=[0]) == "these data have no responders"
    profile = profile.assign(group="Responder", subgroup="Never high")
    assert trajectories_not_drawn(visits, profile, markers=["il_10"], weeks=[0]) == (
        "the rule puts no responder in the Before or After subgroup (3 responders)")
    profile = profile.assign(subgroup=["Never high", "Never high", "Before"])  # c has no IL-10
    assert trajectories_not_drawn(visits, profile, markers=["il_10"], weeks=[0]) == (
        "no responder of the Before or After subgroup has a marker value at the weeks shown")
    assert trajectories_not_drawn(visits, profile.assign(subgroup="After"), markers=["il_10"], weeks=[0]) == ""


@pytest.mark.parametrize("facts, text", [
    ({"rr_any": 1.1, "rr_any_low": 0.5, "rr_any_high": 2.4}, "1.10 (exact 95% CI 0.50–2.40)"),
    ({"rr_any": float("inf"), "rr_any_low": 0.15, "rr_any_high": float("inf"), "events_msct": 2,
      "events_control": 0},
     "not defined, as the control arm has no adverse event (exact 95% CI from 0.15, with no upper limit)"),
    ({"rr_any": float("nan"), "events_msct": 0, "events_control": 0}, "not defined: no adverse event in either arm"),
    ({"rr_any": float("nan"), "events_msct": 1, "ae_reason": "no follow-up time in either arm"},
     "not defined: no follow-up time in either arm"),
])
def test_rate_ratio_text(facts, text):
    from analysis.chapters.safety.second_look import rate_ratio_text

    assert rate_ratio_text(facts) == text


def test_ae_rate_claim_without_control_events_reads_in_words():
    from analysis.chapters.safety.verdicts import judge_second_look
    from analysis.claims.log import ClaimLog
    from analysis.science.methods.look import Look

    look = Look({}, "", {"rr_any": float("inf"), "rr_any_low": 0.15, "rr_any_high": float("inf"),
                         "events_msct": 2, "events_control": 0, "n_labs": 0})
    row = judge_second_look(ClaimLog("safety"), look).set_index("claim_id").loc["safety.second_look_ae_rate"]
    assert row["reproduced"] == ("rate ratio MSCT/control not defined, as the control arm has no adverse event "
                                 "(exact 95% CI from 0.15, with no upper limit); 2 vs 0 events")
    assert row["verdict"] == "inconclusive"


def test_count_noun():
    from analysis.claims.rules import count_noun

    assert [count_noun(n, "responder") for n in (0, 1, 2)] == ["0 responders", "1 responder", "2 responders"]
    assert count_noun(1, "MSCT patient") == "1 MSCT patient"


def test_family_sentence_without_any_model_says_why():
    from analysis.science.methods.look import Look
    from analysis.science.methods.mixed import marker_glue_values

    text = marker_glue_values(Look({}, "", {}), markers=["il_6"])["sl_family_sentence"]
    assert "0 of 0" not in text and "n/a" not in text and text


def test_a_not_testable_reason_is_not_doubled():
    from analysis.claims.log import ClaimLog
    from analysis.science.methods.look import judge_if_testable, unavailable

    log = ClaimLog("ifng")
    judge_if_testable(log, "ifng.second_look_cv_auc", None, "", rule="r", testable=False,
                      why=unavailable("not fitted: 1 responder and 2 non-responders"))
    assert log.table().iloc[-1]["rule"] == "not testable: not fitted: 1 responder and 2 non-responders"


def test_mixed_model_without_responders_judges_no_response_group():
    """With no responder the model compares non-responders and controls only: the second look says so, and its
    group × week claims are not testable (not "reproduced" by a non-responder − control difference)."""
    from dataclasses import replace

    from analysis.chapters.disease_activity import second_look
    from analysis.chapters.disease_activity.verdicts import judge_second_look
    from analysis.claims.log import ClaimLog
    from analysis.science.derive import derive
    from analysis.science.methods.look import demo_cohort

    derived = derive(demo_cohort())
    relabel = lambda frame: frame.assign(group=frame["group"].replace({"Responder": "Non-responder"}))
    none = replace(derived, visits=relabel(derived.visits), patients=relabel(derived.patients))
    look = second_look.activity_section(none)
    assert look.facts["no_responders"]
    glued = second_look.glue_values(look)
    assert glued["sl_models_sentence"].startswith("These data have no responders: the model compares only")
    assert glued["sl_das28_reading"] == "cannot address"
    out = judge_second_look(ClaimLog("disease_activity"), look).set_index("claim_id")
    row = out.loc["activity.second_look_das28_group_time"]
    assert row["verdict"] == "not testable with these data"
    assert row["rule"] == ("not testable: these data have no responders: the model compares only the non-responders "
                           "and the controls")


def test_marker_models_without_responders_test_no_claim():
    from dataclasses import replace

    from analysis.science.derive import derive
    from analysis.science.methods.look import demo_cohort
    from analysis.science.methods.mixed import marker_section, marker_sentence

    derived = derive(demo_cohort())
    relabel = lambda frame: frame.assign(group=frame["group"].replace({"Responder": "Non-responder"}))
    none = replace(derived, visits=relabel(derived.visits), patients=relabel(derived.patients))
    look = marker_section(none, markers=["il_6", "tnf_a"], claim_markers=["il_6"])
    assert look.facts["no_responders"] and np.isnan(look.facts["p_holm_il_6_rank"])
    assert marker_sentence(look, markers=["il_6"]) == (
        "IL-6 could not be tested with these data (these data have no responders: the models compare only the "
        "non-responders and the controls).")


def test_a_correlation_without_an_interval_says_so():
    from analysis.claims.log import ClaimLog

    log = ClaimLog("ifng")
    x = list(range(10))
    log.check_correlations("ifng.delta_das28_related", [("responders", [], []), ("non-responders", x, x)],
                           strength=0.5)
    text = log.table().iloc[-1]["reproduced"]
    assert text.startswith("responders: no interval (n = 0); non-responders: r = 1.00")


def test_ifng_timing_claims_without_a_significant_change_say_so():
    from analysis.chapters.ifng.analysis import qualitative_verdicts

    share = pd.DataFrame({"group": ["Responder", "Non-responder"], "period": ["before or after"] * 2,
                          "n": [8, 0], "n_high": [8, 0], "proportion": [1.0, np.nan]})
    rows = [dict(subgroup=sg, marker=m, reference=ref, rise_week=0.0, first_sig_week=np.nan, direction="",
                 lag_weeks=np.nan, first_increase_week=np.nan, first_decrease_week=np.nan, n_tests=2)
            for sg in ("Before", "After") for m in ("das28", "treg_th17_ratio", "il_10", "il_6")
            for ref in ("previous", "baseline")]
    first = pd.DataFrame(rows)
    first.loc[(first["subgroup"] == "Before") & (first["marker"] == "das28") & (first["reference"] == "baseline"),
              ["first_sig_week", "direction", "first_decrease_week"]] = [1.0, "decrease", 1.0]
    res = qualitative_verdicts(share=share, transient=None, infections=None, first_sig=first, roc=None,
                               diagnostics=None, subgroup_n={"Before": 8, "After": 0}).set_index("claim_id")
    lag = res.loc["ifng.lag_2_3_weeks", "reproduced"]
    assert lag == ("lag (weeks): Before treg_th17_ratio: no significant increase; Before il_10: no significant "
                   "increase; Before il_6: no significant decrease")
    assert res.loc["ifng.precedes_improvement", "reproduced"].startswith(
        "Before das28: decrease first at week 1; Before treg_th17_ratio: no significant increase")
    assert "n/a" not in res.loc["ifng.rapid_efficacy_before", "reproduced"]
