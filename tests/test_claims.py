"""Tests for analysis.claims.log: the registry (its fidelity to the paper) and the verdict rules on hand-worked cases,
then the rules on the default cohort and on cohorts without any effect."""
from __future__ import annotations

import math
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from analysis.claims import registry as C
from analysis.claims.log import ClaimLog
from analysis.claims.registry import VERDICTS, load_published
from analysis.scorecard.summary import collect, scorecard_facts, summary

COLS = list(C.COLUMNS)


def _registry(rows):
    """A tiny hand-made registry: rows are (claim_id, chapter, kind, expected, tolerance)."""
    return pd.DataFrame(
        [{"claim_id": cid, "chapter": ch, "claim": f"claim {cid}", "location": "Nowhere", "published": "x",
          "kind": kind, "expected": exp, "tolerance": tol, "basis": "empirical", "basis_reason": "hand",
          "quote": "x", "section": ""} for cid, ch, kind, exp, tol in rows],
        columns=COLS,
    )


@pytest.fixture
def reg():
    return _registry([
        ("t.count", "safety", "count", "3", ""),
        ("t.prop", "safety", "proportion", "0.5", ""),
        ("t.round", "safety", "proportion", "0.5", "0.1"),
        ("t.up", "safety", "significant", "increase", ""),
        ("t.down", "safety", "direction", "decrease", ""),
        ("t.nochange", "safety", "not_significant", "no_change", ""),
        ("t.noimp", "safety", "not_significant", "no_improvement", ""),
        ("t.qual", "safety", "qualitative", "holds", ""),
        ("o.other", "immune", "count", "1", ""),
    ])


# ----------------------------------------------------------------------------- the shipped registry
def test_registry_loads_and_ids_unique():
    reg = load_published()
    assert reg["claim_id"].is_unique
    assert list(reg.columns) == COLS
    assert set(reg["chapter"]) == set(C.CHAPTERS)
    assert set(reg["basis"]) == set(C.BASES)


def test_every_registry_row_valid():
    reg = load_published()
    for _, row in reg.iterrows():
        assert C._row_problem(row) is None, row["claim_id"]
        assert row["claim_id"].split(".")[0] in {"safety", "activity", "immune", "inflammation", "ifng", "audit"}


def test_registry_covers_required_and_new_claims():
    ids = set(load_published()["claim_id"])
    for cid in ["safety.no_serious_ae", "activity.responders_n", "ifng.before_subgroup_n",
                "ifng.after_subgroup_n", "activity.relapse_n", "audit.relapse_pct_rounding",
                # issue 24: missing claims and the two audit findings
                "activity.enrolment_period", "activity.followup_visits", "activity.improved_with_less_drug_n",
                "inflammation.il6_vs_others_fig4", "inflammation.tnfa_vs_others_fig4",
                "inflammation.il10_vs_others_fig4", "immune.msc_regulate_homeostasis",
                "inflammation.improvement_via_ratio", "inflammation.major_mechanisms",
                "ifng.inflammation_before_effect", "audit.all_returned_vs_lost", "audit.dosage_28_vs_prednisone_23"]:
        assert cid in ids, cid


def test_every_quote_appears_verbatim_in_the_paper():
    """A row cannot drift from its source: its quoted wording is found in the paper's text."""
    reg = load_published()
    text = C.paper_text()
    missing = [(cid, q) for cid, q in zip(reg["claim_id"], reg["quote"]) if not C.quote_in_paper(q, text)]
    assert missing == []


def test_every_location_names_a_place_the_paper_has():
    reg = load_published()
    raw = C.paper_text(normalise=False)
    sections = ("Abstract", "Methods", "Results", "Discussion", "Conclusions", "Fig.", "Table", "Additional file")
    for cid, loc in zip(reg["claim_id"], reg["location"]):
        assert any(s in loc for s in sections), (cid, loc)
        for fig in re.findall(r"Fig\. (\d)", loc):
            assert f"Fig. {fig}" in raw, (cid, loc)


def test_quote_matching_by_hand():
    text = C._normalise("the inflamma-\ntory  micro-\nenvironment of Treg/\nTh17 cells")
    assert C.quote_in_paper("inflammatory microenvironment", text)
    assert C.quote_in_paper("Treg/Th17 cells", text)
    assert C.quote_in_paper("the inflammatory … Th17", text)
    assert not C.quote_in_paper("Th17 … inflammatory", text)  # parts must come in order


def test_paper_text_ships_with_its_licence():
    readme = (C._DEFAULT_DIR / "README.md").read_text(encoding="utf-8")
    assert "paper.txt" in readme and "CC BY 4.0" in readme


def test_issue_24_rows_say_no_more_than_the_paper():
    reg = load_published().set_index("claim_id")
    # the paper states no test between the groups for Fig. 5a, and only a decrease for ESR and CRP
    for cid in ("ifng.peak_higher_responders", "activity.esr_decrease_responders_12w",
                "activity.crp_decrease_responders_12w"):
        assert reg.loc[cid, "kind"] == "direction", cid
        assert "P <" not in reg.loc[cid, "published"], cid
    # & marks: the visit is not stated
    for cid in ("activity.haq_responders_better_12w", "activity.esr_responders_better_12w",
                "activity.crp_responders_better_12w", "immune.ratio_vs_others_responders"):
        assert "visit is not stated" in reg.loc[cid, "claim"] or "visit not stated" in reg.loc[cid, "claim"], cid
    assert "Fig. 2a" in reg.loc["activity.responders_better_than_others_12w", "location"]
    assert "Discussion" in reg.loc["ifng.delta_das28_related", "location"]
    assert " and 4 weeks after" in reg.loc["ifng.high_in_responders", "claim"]
    assert "ANOVA + Bonferroni" not in " ".join(reg["location"])
    for cid in ("immune.msc_regulate_homeostasis", "inflammation.major_mechanisms",
                "inflammation.improvement_via_ratio", "ifng.inflammation_before_effect"):
        assert reg.loc[cid, "basis"] == "interpretation", cid


def test_one_rule_per_number():
    """Data proportions are judged by Wilson intervals (no tolerance); only the audit's arithmetic has one."""
    reg = load_published()
    prop = reg[reg["kind"] == "proportion"]
    assert (prop.loc[prop["chapter"] != "audit", "tolerance"] == "").all()
    audit = prop[prop["chapter"] == "audit"]
    assert (audit["tolerance"] != "").all()
    assert audit["basis_reason"].str.contains("arithmetic").all()


def _copy_registry(tmp_path):
    shutil.copytree(C._DEFAULT_DIR / "claims", tmp_path / "claims")
    return tmp_path / "claims"


@pytest.mark.parametrize("column, value, match", [
    ("kind", "vibes", "`kind`"), ("basis", "hunch", "`basis`"), ("quote", "", "`quote`"),
    ("basis_reason", "", "`basis_reason`"),
])
def test_bad_cell_names_file_and_row(tmp_path, column, value, match):
    dst = _copy_registry(tmp_path)
    df = pd.read_csv(dst / "immune.csv", dtype=str, keep_default_na=False)
    df.loc[1, column] = value
    df.to_csv(dst / "immune.csv", index=False)
    with pytest.raises(ValueError, match=rf"immune\.csv, row 3 .*{re.escape(match)}"):
        load_published(tmp_path)


def test_duplicate_id_and_wrong_chapter_raise(tmp_path):
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
    df.loc[0, "tolerance"] = ""
    df.loc[1, "claim_id"] = df.loc[0, "claim_id"]
    df.to_csv(dst / "immune.csv", index=False)
    with pytest.raises(ValueError, match="not unique"):
        load_published(tmp_path)


def test_sections_come_from_sections_yaml_and_are_checked(tmp_path):
    reg = load_published()
    assert set(reg["section"]) == {"", "second_look"}
    second = reg.loc[reg["section"].eq("second_look")]
    assert len(second) == 11 and set(second["chapter"]) == set(C.CHAPTERS) - {"audit"}
    dst = _copy_registry(tmp_path)
    (dst / "sections.yaml").unlink()
    assert load_published(tmp_path)["section"].eq("").all()  # no file: no sections
    for text, match in [("first_look:\n  - immune.anticcp_decrease_responders\n", "section 'first_look'"),
                        ("second_look:\n  - immune.no_such_claim\n", "not a claim of the registry"),
                        ("second_look:\n  - immune.anticcp_decrease_responders\n  - immune.anticcp_decrease_responders\n",
                         "listed twice"),
                        ("second_look: immune.anticcp_decrease_responders\n", "must list claim ids")]:
        (dst / "sections.yaml").write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=match):
            load_published(tmp_path)


def test_public_claims_api_selects_a_chapter_or_a_section():
    from analysis.claims.registry import TABLE_COLUMNS, published, published_claims

    assert published() is published()
    mine = published_claims("disease_activity", section="second_look")["claim_id"].tolist()
    assert mine == ["activity.second_look_das28_group_time", "activity.second_look_haq_group_time",
                    "activity.second_look_relapse_km"]
    log = ClaimLog.for_chapter("disease_activity", 0.05)
    assert log.claims("second_look")["claim_id"].tolist() == mine
    own = log.claims("")
    assert len(own) + len(mine) == len(log.claims()) == len(published_claims("disease_activity"))
    assert log.missing(section="second_look") == mine and set(log.missing(section="")) == set(own["claim_id"])
    log.not_testable(mine[0], "why")
    assert log.table("second_look")["claim_id"].tolist() == [mine[0]] and log.table("").empty
    # the section stays in the registry: claims.csv and the scorecard keep their columns
    assert list(log.full_table().columns) == list(TABLE_COLUMNS) and "section" not in TABLE_COLUMNS
    with pytest.raises(ValueError, match="`section`"):
        log.claims("first_look")
    with pytest.raises(ValueError, match="`chapter`"):
        published_claims("nope")


def test_margins_are_data_with_sources():
    m = C.load_margins().set_index("measure")
    assert float(m.loc["das28", "margin"]) == 0.6 and "EULAR" in m.loc["das28", "source"]
    assert float(m.loc["haq_di", "margin"]) == 0.22
    assert (m["source"].str.len() > 20).all()
    # half the baseline SD, by hand: SD of [2, 4, 6] = 2
    assert C.equivalence_margin("il_6", [2.0, 4.0, 6.0])[0] == pytest.approx(1.0)


# ----------------------------------------------------------------------------- rules: counts and proportions
def test_count_is_exact(reg):
    log = ClaimLog("safety", reg)
    assert log.check_count("t.count", 3) == "reproduced"
    assert log.check_count("t.count", 4) == "not reproduced"
    assert log.table().loc[0, "reproduced"] == "4"  # recording twice replaces
    assert len(log.table()) == 1


def _wilson_by_hand(k, n, conf):
    z = sps.norm.ppf(0.5 + conf / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize("k, n", [(2, 28), (28, 52), (0, 10), (7, 9)])
def test_wilson_boundaries(k, n):
    lo, hi = _wilson_by_hand(k, n, 0.95)
    lo, hi = max(lo, 0.0), min(hi, 1.0)
    from statsmodels.stats.proportion import proportion_confint

    assert (lo, hi) == pytest.approx(proportion_confint(k, n, alpha=0.05, method="wilson"), abs=1e-12)
    for value, verdict in ((hi - 1e-6, "reproduced"), (hi + 1e-4, "not reproduced"),
                           (lo + 1e-6, "reproduced"), (lo - 1e-4, "not reproduced")):
        if not 0 <= value <= 1:
            continue
        r = _registry([("t.prop", "safety", "proportion", repr(float(value)), "")])
        assert ClaimLog("safety", r).check_wilson("t.prop", k, n) == verdict, (k, n, value)


def test_rounding_rule_is_only_arithmetic(reg):
    log = ClaimLog("safety", reg)
    assert log.check_proportion("t.round", 6, 10) == "reproduced"  # |0.6 − 0.5| = 0.1 at the tolerance
    assert log.check_proportion("t.round", 61, 100) == "not reproduced"
    assert "arithmetic" in log.table().loc[0, "rule"]
    with pytest.raises(ValueError, match="check_wilson"):
        log.check_proportion("t.prop", 6, 10)  # a data proportion has no tolerance
    with pytest.raises(ValueError, match="successes"):
        log.check_wilson("t.prop", 11, 10)


# ----------------------------------------------------------------------------- rules: direction by CI
@pytest.mark.parametrize("low, high, verdict", [
    (0.1, 2.0, "reproduced"), (-1.0, 1.0, "inconclusive"), (0.0, 1.0, "inconclusive"),
    (-2.0, -0.1, "not reproduced"), (float("nan"), 1.0, "not testable with these data"),
])
def test_ci_direction(reg, low, high, verdict):
    assert ClaimLog("safety", reg).check_ci("t.up", estimate=0.5, low=low, high=high) == verdict
    # the mirror image for a claimed decrease
    if not math.isnan(low):
        assert ClaimLog("safety", reg).check_ci("t.down", estimate=-0.5, low=-high, high=-low) == verdict


def test_change_interval_by_hand(reg):
    # [1, 2, 3]: mean 2, SD 1, SE 1/√3, t(0.975, 2) = 4.3027 → 2 ± 2.484 contains 0
    log = ClaimLog("safety", reg)
    assert log.check_change("t.up", [1.0, 2.0, 3.0]) == "inconclusive"
    assert "-0.484 to 4.48" in log.table().loc[0, "reproduced"]
    # [1, 2, 3, 4, 5] + 1: mean 4, SE √2.5/√5, t(0.975, 4) = 2.776 → 4 ± 1.963 excludes 0
    assert log.check_change("t.up", [2.0, 3.0, 4.0, 5.0, 6.0]) == "reproduced"
    assert log.check_change("t.down", [2.0, 3.0, 4.0, 5.0, 6.0]) == "not reproduced"


def test_multiplicity_is_stated_and_widens(reg):
    log = ClaimLog("safety", reg)
    x = [0.2, 0.9, 0.5, 0.7, 0.3, 0.6]  # mean 0.533, SD 0.266, SE 0.1085
    assert log.check_change("t.up", x) == "reproduced"                    # t(0.975, 5) = 2.571: low 0.254
    assert log.check_change("t.up", x, tests=200) == "inconclusive"       # t(1 − 0.000125, 5) ≈ 8.6: low < 0
    assert "Bonferroni" in log.table().loc[0, "rule"] and "200" in log.table().loc[0, "rule"]


def test_direction_by_p_inverts_the_interval(reg):
    log = ClaimLog("safety", reg, alpha=0.05)
    assert log.check_direction("t.up", estimate=2.0, p=0.01) == "reproduced"
    assert log.check_direction("t.up", estimate=2.0, p=0.05) == "inconclusive"  # p == alpha: CI touches 0
    assert log.check_direction("t.up", estimate=-2.0, p=0.01) == "not reproduced"
    assert log.check_direction("t.down", estimate=-0.1, p=0.9) == "inconclusive"  # a sign alone is not enough
    with pytest.raises(ValueError, match="`p`"):
        log.check_direction("t.up", estimate=2.0)


def test_not_significant_is_never_reproduced_by_p(reg):
    log = ClaimLog("safety", reg)
    assert log.check_significance("t.nochange", p=0.9) == "inconclusive"
    assert "absence of evidence" in log.table().loc[0, "rule"]


# ----------------------------------------------------------------------------- rules: equivalence
def test_tost_at_the_margin(reg):
    # [−2, −1, 0, 1, 2]: mean 0, SD 1.5811, SE 0.7071, t(0.95, 4) = 2.1318 → 90 % CI ±1.5075
    x = [-2.0, -1.0, 0.0, 1.0, 2.0]
    half = sps.t.ppf(0.95, 4) * np.std(x, ddof=1) / math.sqrt(5)
    assert half == pytest.approx(1.5075, abs=1e-4)
    log = ClaimLog("safety", reg)
    assert log.check_equivalence("t.nochange", x, margin=half + 1e-6, margin_source="hand") == "reproduced"
    assert log.check_equivalence("t.nochange", x, margin=half, margin_source="hand") == "inconclusive"
    # wholly beyond: (1 − alpha) CI of [10, 11, 12] is 11 ± 2.48, above a margin of 5
    assert log.check_equivalence("t.nochange", [10.0, 11.0, 12.0], margin=5, margin_source="hand") == "not reproduced"
    assert log.check_equivalence("t.nochange", [10.0, 11.0, 12.0], margin=9, margin_source="hand") == "inconclusive"
    assert "TOST" in log.table().loc[0, "rule"]


def test_one_sided_no_improvement(reg):
    log = ClaimLog("safety", reg)
    x = [-0.1, 0.2, 0.0, 0.3, -0.2, 0.1]  # a score where lower is better: no fall beyond 0.6
    assert log.check_equivalence("t.noimp", x, margin=0.6, margin_source="EULAR") == "reproduced"
    assert log.check_equivalence("t.noimp", [v - 3 for v in x], margin=0.6, margin_source="EULAR") == "not reproduced"
    # a large rise is not an improvement: the one-sided rule still holds
    assert log.check_equivalence("t.noimp", [v + 3 for v in x], margin=0.6, margin_source="EULAR") == "reproduced"


def test_equivalence_at_every_visit_is_intersection_union(reg):
    log = ClaimLog("safety", reg)
    flat = [0.01, -0.02, 0.0, 0.01, -0.01]
    assert log.check_equivalence_all("t.nochange", [("w1", flat), ("w2", flat)], margin=0.1,
                                     margin_source="hand") == "reproduced"
    assert log.check_equivalence_all("t.nochange", [("w1", flat), ("w2", [1.0, 1.1, 0.9, 1.0])], margin=0.1,
                                     margin_source="hand") == "not reproduced"
    assert log.check_equivalence_all("t.nochange", [("w1", flat), ("w2", [-0.3, 0.3, 0.0, 0.1])], margin=0.1,
                                     margin_source="hand") == "inconclusive"
    # two groups with their own margin (Welch)
    assert log.check_equivalence_all("t.nochange", [("a−b", [1.0, 1.1, 0.9, 1.0], [1.0, 1.05, 0.95, 1.0], 0.5)],
                                     margin=float("nan"), margin_source="per measure") == "reproduced"


# ----------------------------------------------------------------------------- rules: groups, correlations, shares
def test_versus_others_needs_every_group_at_one_visit(reg):
    v = pd.DataFrame({
        "group": ["R"] * 4 + ["A"] * 4 + ["B"] * 4 + ["R"] * 4 + ["A"] * 4 + ["B"] * 4,
        "week": [4] * 12 + [12] * 12,
        "x": [5.0, 5.2, 4.9, 5.1, 1.0, 1.1, 0.9, 1.0, 5.0, 5.1, 4.9, 5.0,   # week 4: above A only
              5.0, 5.2, 4.9, 5.1, 1.0, 1.1, 0.9, 1.0, 1.0, 1.2, 0.8, 1.1],  # week 12: above both
    })
    log = ClaimLog("safety", reg)
    assert log.check_versus_others("t.up", v, "x", weeks=[4, 12], reference="R", others=("A", "B")) == "reproduced"
    assert "week(s) 12" in log.table().loc[0, "reproduced"]
    assert log.check_versus_others("t.up", v[v.week == 4], "x", weeks=[4], reference="R",
                                   others=("A", "B")) == "inconclusive"
    assert log.check_versus_others("t.down", v, "x", weeks=[4, 12], reference="R",
                                   others=("A", "B")) == "not reproduced"


def test_correlations_within_groups():
    r = _registry([("t.corr", "ifng", "direction", "decrease", "")])
    x = np.arange(20.0)
    noise = np.resize([0.3, -0.3, 0.1, -0.1], 20)
    log = ClaimLog("ifng", r)
    assert log.check_correlations("t.corr", [("g1", x, -x + noise), ("g2", x, -2 * x + noise)],
                                  strength=0.5) == "reproduced"
    # one group with no relation at all: its CI excludes r ≤ −0.5? not with n = 20 → inconclusive or not reproduced
    flat = np.resize([1.0, -1.0, 0.5, -0.5, 0.0], 20)
    v = log.check_correlations("t.corr", [("g1", x, -x + noise), ("g2", x, flat)], strength=0.5)
    assert v in ("not reproduced", "inconclusive")
    assert log.check_correlations("t.corr", [("g1", x, x + noise)], strength=0.5) == "not reproduced"


def test_share_against_a_bound(reg):
    log = ClaimLog("safety", reg)
    lo, hi = _wilson_by_hand(20, 28, 0.95)  # 0.53–0.85
    assert lo > 0.5
    assert log.check_share("t.qual", 20, 28, above=0.5) == "reproduced"
    assert log.check_share("t.qual", 15, 28, above=0.5) == "inconclusive"
    assert log.check_share("t.qual", 5, 28, above=0.5) == "not reproduced"
    with pytest.raises(ValueError):
        log.check_share("t.qual", 5, 28)


# ----------------------------------------------------------------------------- construction, not testable
def test_construction_is_labelled_and_not_counted(reg):
    log = ClaimLog("safety", reg)
    assert log.by_construction("t.down", "the group is defined by this fall") == "holds by construction"
    row = log.table().set_index("claim_id").loc["t.down"]
    assert row["rule"].startswith("holds by construction: the group is defined")
    with pytest.raises(ValueError, match="reason"):
        log.by_construction("t.down", " ")
    log.check_count("t.count", 3)
    facts = scorecard_facts(log.full_table())
    assert facts["n_by_construction"] == 1 and facts["n_evidence"] == 1 and facts["pct_reproduced"] == "100 %"


def test_missing_columns_and_design(reg):
    from analysis.core.design import Design

    log = ClaimLog("safety", reg)
    assert log.missing_columns("t.up", pd.DataFrame({"a": [1.0], "b": [np.nan]}), ["a", "b", "c"]) == ["b", "c"]
    assert log.table().loc[0, "verdict"] == "not testable with these data"
    assert "b, c" in log.table().loc[0, "rule"]
    d = Design.from_mapping({"visit_weeks": [0, 12, 24], "final_week": 24, "early_window_weeks": 2})
    log.not_in_design("t.down", 4, d)
    assert "week 4" in log.table().set_index("claim_id").loc["t.down", "rule"]


def test_other_chapter_and_bad_arguments(reg):
    log = ClaimLog("safety", reg)
    with pytest.raises(KeyError, match="o.other"):
        log.check_count("o.other", 1)
    with pytest.raises(ValueError, match="kind"):
        log.check_count("t.prop", 1)
    with pytest.raises(ValueError, match="`chapter`"):
        ClaimLog("nonsense", reg)
    with pytest.raises(ValueError, match="`alpha`"):
        ClaimLog("safety", reg, alpha=0.7)


# ----------------------------------------------------------------------------- output and scorecard
def test_write_includes_every_claim_once(reg, tmp_path):
    log = ClaimLog("safety", reg)
    log.check_count("t.count", 3)
    log.check_true("t.qual", None, "cannot tell")
    assert "t.count" not in log.missing() and "t.prop" in log.missing()
    out = pd.read_csv(log.write(tmp_path), dtype=str, keep_default_na=False)
    assert list(out.columns) == list(C.TABLE_COLUMNS)
    assert sorted(out["claim_id"]) == sorted(reg.loc[reg.chapter == "safety", "claim_id"])
    assert set(out["verdict"]) <= set(VERDICTS)
    assert (out["basis"] == "empirical").all()
    assert out.set_index("claim_id").loc["t.qual", "verdict"] == "inconclusive"


def test_collect_summary_and_facts(reg, tmp_path):
    s = ClaimLog("safety", reg)
    s.check_count("t.count", 3)
    s.check_ci("t.up", estimate=1.0, low=-1.0, high=2.0)
    s.by_construction("t.down", "defined so")
    s.write(tmp_path)
    o = ClaimLog("immune", reg)
    o.check_count("o.other", 2)
    o.write(tmp_path)
    allc = collect(tmp_path / "results")
    assert len(allc) == len(reg)
    summ = summary(allc).set_index("chapter")
    assert summ.loc["safety", "reproduced"] == 1 and summ.loc["safety", "inconclusive"] == 1
    assert summ.loc["safety", "holds by construction"] == 1 and summ.loc["immune", "not reproduced"] == 1
    assert summ.loc["Total", "not testable with these data"] == len(reg) - 4
    assert summary(allc, by="basis").set_index("chapter").loc["Total", "empirical"] == len(reg)
    f = scorecard_facts(allc)
    # by hand: evidence = reproduced 1 + inconclusive 1 + not reproduced 1 = 3; 1 of 3 reproduced
    assert (f["n_evidence"], f["n_evidence_reproduced"], f["pct_reproduced"]) == (3, 1, "33 %")


# ----------------------------------------------------------------------------- the chapters' judges
CHANGE_CLAIMS = {  # chapter -> claims of a change in a marker over time
    "immune": ["immune.anticcp_decrease_responders", "immune.rf_decrease_responders",
               "immune.ratio_reversed_responders"],
    "inflammation": ["inflammation.il6_decrease_responders", "inflammation.tnfa_decrease_responders",
                     "inflammation.il10_increase_week4"],
    "ifng": ["ifng.rapid_efficacy_before", "ifng.ratio_rise_after_ifng", "ifng.il10_rise_after_ifng", "ifng.il6_fall_after_ifng",
             "ifng.tnfa_fall_after_ifng"],
}
MARKERS = ["anti_ccp_u_ml", "rf_iu_ml", "treg_pct", "th17_pct", "il_1b", "il_2r", "il_6", "il_8", "il_10",
           "tnf_a", "ifn_g"]


def _judge_all(derived, cohort=None):
    """Every chapter's judge on one derived cohort: {chapter: table}."""
    from analysis.chapters.disease_activity import analysis as activity
    from analysis.chapters.disease_activity import verdicts as activity_verdicts
    from analysis.chapters.ifng import analysis as ifng
    from analysis.chapters.ifng import verdicts as ifng_verdicts
    from analysis.chapters.immune import verdicts as immune_verdicts
    from analysis.chapters.inflammation import verdicts as inflammation_verdicts
    from analysis.chapters.safety import verdicts as safety_verdicts

    out = {}
    out["immune"] = immune_verdicts.judge_claims(ClaimLog("immune"), derived)
    out["inflammation"] = inflammation_verdicts.judge_claims(ClaimLog("inflammation"), derived)
    prof = ifng.ifng_profile(derived.visits, window_weeks=derived.design.early_window_weeks)
    _, roc = ifng.roc_summary(prof, n_boot=200, seed=0)
    out["ifng"] = ifng_verdicts.judge_claims(ClaimLog("ifng"), derived, profile=prof, roc=roc)
    out["disease_activity"] = activity_verdicts.judge_claims(
        ClaimLog("disease_activity"), derived, relapse=activity.relapse_checks(derived.visits),
        prednisone=activity.prednisone_steps(derived.visits),
        lasting=activity.lasting_response(derived.patients, derived.visits))
    if cohort is not None:
        out["safety"] = safety_verdicts.judge_claims(ClaimLog("safety"), derived, adverse_events=cohort.adverse_events)
    return {k: v.set_index("claim_id") for k, v in out.items()}


@pytest.fixture(scope="module")
def default_verdicts():
    from analysis.science.derive import derive
    from analysis.intake.io import load
    from analysis.core.paths import default_data_dir

    cohort = load(default_data_dir())
    return _judge_all(derive(cohort), cohort)


def test_default_cohort_reproduces_simulated_effects(default_verdicts):
    v = {cid: t.loc[cid, "verdict"] for t in default_verdicts.values() for cid in t.index}
    for cid in ["activity.haq_decrease_responders_12w", "activity.esr_decrease_responders_12w",
                "activity.crp_decrease_responders_12w", "inflammation.il6_decrease_responders",
                "inflammation.tnfa_decrease_responders", "inflammation.il10_increase_week4",
                "immune.ratio_reversed_responders", "immune.ratio_vs_others_responders",
                "safety.t1_albumin_responder", "safety.t1_hemoglobin_responder", "safety.t1_platelets_responder",
                "ifng.peak_higher_responders", "ifng.ratio_rise_after_ifng"]:
        assert v[cid] == "reproduced", (cid, v[cid])
    for cid in ["activity.das28_decrease_responders_12w", "activity.no_improvement_nonresponders",
                "activity.responders_better_than_others_12w"]:
        assert v[cid] == "holds by construction", cid
    # the circular predictor is not counted: the claim is judged on baseline IFN-γ
    assert "circular" in default_verdicts["ifng"].loc["ifng.predicts_response", "reproduced"]
    assert default_verdicts["ifng"].loc["ifng.predicts_response", "verdict"] != "reproduced"


def test_default_cohort_every_claim_once_and_basis_carried(default_verdicts):
    reg = load_published().set_index("claim_id")
    reg = reg.loc[reg["section"].eq("")]  # the second look's claims are judged by each chapter's judge_second_look
    for chapter, table in default_verdicts.items():
        assert sorted(table.index) == sorted(reg.index[reg["chapter"] == chapter])
        assert (table["basis"] == reg.loc[table.index, "basis"]).all()
        interp = table[table["basis"] == "interpretation"]
        assert not interp["verdict"].eq("reproduced").any() or chapter == "inflammation"


def _time_shuffled(derived, seed):
    """Each patient's marker values permuted across that patient's own visits: no marker changes over time."""
    from dataclasses import replace

    rng = np.random.default_rng(seed)
    v = derived.visits.sort_values(["patient_id", "week"]).reset_index(drop=True).copy()
    for col in MARKERS:
        vals = v[col].to_numpy(copy=True)
        for idx in v.groupby("patient_id").indices.values():
            vals[idx] = vals[rng.permutation(idx)]
        v[col] = vals
    v["treg_th17_ratio"] = v["treg_pct"] / v["th17_pct"]
    return replace(derived, visits=v)


def test_time_shuffled_null_passes_change_claims_no_more_often_than_alpha(default_verdicts):
    """On cohorts where no marker changes over time, claims of change are reproduced at most as often as alpha allows."""
    from analysis.science.derive import derive
    from analysis.intake.io import load
    from analysis.core.paths import default_data_dir

    derived = derive(load(default_data_dir()))
    hits, trials = 0, 0
    for seed in range(4):
        null = _time_shuffled(derived, seed)
        tables = _judge_all(null)
        for chapter, ids in CHANGE_CLAIMS.items():
            verdicts = tables[chapter].loc[ids, "verdict"]
            hits += int(verdicts.eq("reproduced").sum())
            trials += len(ids)
    # each rule errs with probability ≤ alpha (one side: alpha/2); allow the binomial's 99.9 % quantile
    assert hits <= sps.binom.ppf(0.999, trials, 0.05), (hits, trials)


def test_no_ifng_effect_fails_the_prediction_claims():
    from analysis.chapters.ifng import analysis as ifng
    from analysis.chapters.ifng.verdicts import judge_claims
    from analysis.science.derive import derive
    from analysis.intake.io import load
    from analysis.science.simulate import generate

    import tempfile
    from pathlib import Path

    tmp = Path(tempfile.mkdtemp())
    generate(tmp / "c", seed=11, ifng_effect=0.0)
    d = derive(load(tmp / "c"))
    prof = ifng.ifng_profile(d.visits)
    _, roc = ifng.roc_summary(prof, n_boot=200, seed=0)
    t = judge_claims(ClaimLog("ifng"), d, profile=prof, roc=roc).set_index("claim_id")
    assert t.loc["ifng.predicts_response", "verdict"] != "reproduced"
    assert t.loc["ifng.delta_das28_related", "verdict"] != "reproduced"
    shutil.rmtree(tmp, ignore_errors=True)


def test_design_without_week_4_makes_week_4_claims_not_testable():
    from analysis.chapters.inflammation.verdicts import judge_claims
    from analysis.science.derive import derive
    from analysis.core.design import Design
    from analysis.intake.io import load
    from analysis.core.paths import default_data_dir

    d = derive(load(default_data_dir()))
    design = Design.from_mapping({"visit_weeks": [0, 1, 2, 3, 12, 24, 48], "early_window_weeks": 4})
    visits = d.visits[d.visits["week"].isin(design.visit_weeks)]
    t = judge_claims(ClaimLog("inflammation"), d, design=design, visits=visits).set_index("claim_id")
    assert t.loc["inflammation.il10_increase_week4", "verdict"] == "not testable with these data"
    assert "week 4" in t.loc["inflammation.il10_increase_week4", "rule"]
    assert "week 0 to 12 (the paper's week 12)" in t.loc["inflammation.il6_decrease_responders", "reproduced"]


def test_paired_changes_equals_the_pivot_table_computation():
    from analysis.claims.rules import paired_changes

    rng = np.random.default_rng(4)
    n = 300
    v = pd.DataFrame({"patient_id": rng.choice([f"p{i:02d}" for i in range(40)], n),
                      "week": rng.choice([0, 4, 12], n),
                      "group": rng.choice(["R", "C"], n),
                      "x": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n))})
    v.loc[::17, "x"] = np.inf  # infinite differences are dropped too

    def by_pivot(vis, after, before=0, group=None, patients=None):
        vis = vis if group is None else vis.loc[vis["group"].eq(group)]
        if patients is not None:
            vis = vis.loc[vis["patient_id"].isin(list(patients))]
        wide = (vis.loc[vis["week"].isin([before, after])]
                .pivot_table(index="patient_id", columns="week", values="x", aggfunc="first"))
        if before not in wide.columns or after not in wide.columns:
            return np.array([])
        d = (wide[after] - wide[before]).to_numpy(float)
        return d[np.isfinite(d)]

    for kw in ({"after": 4}, {"after": 12, "before": 4}, {"after": 12, "group": "R"},
               {"after": 4, "patients": ["p01", "p02", "p03", "p30"]}, {"after": 4, "before": 4},
               {"after": 99}):
        np.testing.assert_array_equal(paired_changes(v, "x", **kw), by_pivot(v, **kw))


def test_one_wilson_interval_pins_the_values_both_twins_gave():
    """The book's one Wilson interval (claims.rules) keeps the values of the two it replaced.

    Before the redesign, claims.py had a scalar Wilson interval (clipped with max/min) and stats.py a vectorised
    one (exactly 0 at 0/n and 1 at n/n). Away from 0/n and n/n both gave the same floats; at the ends the scalar
    one was off by rounding (2.8e-17 instead of 0 at 0/7). Expected values: Newcombe 1998 (Stat Med 17:857),
    Table I, method 3, and the closed form computed here independently.
    """
    import math

    from analysis.claims.rules import wilson_ci, wilson_interval

    def by_hand(k, n, z=1.959963984540054):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return centre - half, centre + half

    # Newcombe 1998, Table I (method 3): 81/263 -> 0.2553 to 0.3662; 15/148 -> 0.0624 to 0.1605
    assert [round(v, 4) for v in wilson_ci(81, 263)] == [0.2553, 0.3662]
    assert [round(v, 4) for v in wilson_ci(15, 148)] == [0.0624, 0.1605]
    for k, n in [(1, 7), (28, 52), (24, 52), (2, 28), (12, 28), (5, 9)]:
        assert wilson_ci(k, n) == pytest.approx(by_hand(k, n), abs=1e-15)
    assert wilson_ci(0, 7)[0] == 0.0 and wilson_ci(7, 7)[1] == 1.0
    low, high = wilson_interval([0, 28, 0], [10, 52, 0])
    assert low[0] == 0.0 and np.isnan(low[2]) and np.isnan(high[2])
    assert high[1] == pytest.approx(by_hand(28, 52)[1], abs=1e-15)
