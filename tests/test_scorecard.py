"""The scorecard covers every published claim exactly once, and every chapter evaluates all of its claims."""
from __future__ import annotations

import pandas as pd
import pytest

from analysis.claims.registry import VERDICTS, load_published

pytestmark = pytest.mark.slow  # needs the session's full build


@pytest.fixture(scope="module")
def claims(built_book) -> pd.DataFrame:
    return pd.read_csv(built_book / "results" / "claims.csv", dtype=str, keep_default_na=False)


def test_every_published_claim_appears_exactly_once(claims):
    published = load_published()
    assert claims["claim_id"].is_unique
    assert sorted(claims["claim_id"]) == sorted(published["claim_id"])


def test_no_claim_is_left_unevaluated(claims):
    unevaluated = claims.loc[claims["rule"] == "not evaluated by the chapter", "claim_id"].tolist()
    assert unevaluated == [], f"claims no chapter evaluated: {unevaluated}"


def test_every_verdict_is_known_and_every_rule_stated(claims):
    assert set(claims["verdict"]) <= set(VERDICTS)
    assert (claims["rule"].str.len() > 0).all()


def test_published_values_come_from_the_registry(claims):
    published = load_published().set_index("claim_id")
    merged = claims.set_index("claim_id").join(published[["published", "location"]], rsuffix="_registry")
    assert (merged["published"] == merged["published_registry"].astype(str)).all()
    assert (merged["location"] == merged["location_registry"].astype(str)).all()


def test_every_claim_carries_its_basis(claims):
    published = load_published().set_index("claim_id")
    assert (claims.set_index("claim_id")["basis"] == published.loc[claims["claim_id"], "basis"].values).all()


def test_construction_claims_are_labelled_and_not_counted(claims):
    from analysis.scorecard.summary import evidence_claims, scorecard_facts

    construction = claims[claims["basis"] == "by construction"]
    assert len(construction) >= 3
    assert construction["verdict"].isin(["holds by construction", "not testable with these data"]).all()
    assert construction["rule"].str.contains("construction|not testable").all()
    evidence = evidence_claims(claims)
    assert not evidence["verdict"].eq("holds by construction").any()
    assert not evidence["chapter"].eq("audit").any()
    facts = scorecard_facts(claims)
    assert facts["n_evidence"] == len(evidence)


def test_no_number_gets_two_verdicts_from_one_question(claims):
    """The relapse share: the data's question (Wilson) and the paper's arithmetic (rounding) are told apart."""
    rows = claims.set_index("claim_id")
    assert "Wilson" in rows.loc["activity.relapse_pct", "rule"]
    assert "arithmetic" in rows.loc["audit.relapse_pct_rounding", "rule"]
    data_props = claims[claims["rule"].str.contains("Wilson interval of the reproduced proportion")]
    assert not data_props["chapter"].eq("audit").any()


def _page_text(path) -> str:
    import html
    import re

    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)))


def test_no_built_page_shows_raw_glue_markup(built_book):
    pages = sorted((built_book / "html").rglob("*.html"))
    assert pages
    raw = {p.name: t[max(0, t.find("{glue") - 60): t.find("{glue") + 60]
           for p in pages if "{glue" in (t := _page_text(p))}
    assert raw == {}


def test_scorecard_leads_with_what_this_design_can_tell(built_book):
    text = _page_text(next((built_book / "html").rglob("scorecard.html")))
    # the headline (or, for a result without operating characteristics, the sentence saying so) comes before the
    # provenance box and the verdicts
    first = min(i for i in (text.find("Of the paper's"), text.find("This robustness result has no operating"),
                            text.find("Of the paper’s")) if i >= 0)
    assert 0 <= first < text.find("Provenance and parameters") < text.find("holds on these data")
