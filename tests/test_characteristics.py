"""analysis.claims.characteristics and the scorecard's "can this design tell?" (headline, figure, column), on the tiny
fixture tests/fixtures/operating_characteristics.csv; the scorecard's and the audit's notebooks fold their code."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.claims import characteristics as C
from analysis.scorecard import summary as S

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "operating_characteristics.csv"


@pytest.fixture
def oc():
    return C.read_characteristics(FIXTURE)


def _claims(ids):
    from analysis.claims.registry import published

    reg = published().set_index("claim_id")
    return pd.DataFrame({"claim_id": ids, "chapter": [reg.loc[i, "chapter"] for i in ids],
                         "basis": [reg.loc[i, "basis"] for i in ids], "verdict": "reproduced"})


def test_read_the_fixture_from_a_folder_or_an_output_folder(tmp_path, oc):
    assert list(oc.columns) == list(C.OC_COLUMNS) and len(oc) == 6
    assert oc["testable"].tolist() == [1.0] * 5 + [0.0]  # the share of calibrated cohorts it is testable in
    assert oc["false_positive"].isna().sum() == 1
    (tmp_path / "results" / "robustness").mkdir(parents=True)
    shutil.copy(FIXTURE, tmp_path / "results" / "robustness" / C.FILE)
    pd.testing.assert_frame_equal(C.read_characteristics(tmp_path), oc)
    assert C.read_characteristics(tmp_path / "results") is None  # no robustness folder directly there


def test_a_bad_file_is_refused_with_its_problem(tmp_path):
    pd.read_csv(FIXTURE).drop(columns="class").to_csv(tmp_path / C.FILE, index=False)
    with pytest.raises(ValueError, match="lacks the column"):
        C.read_characteristics(tmp_path)
    pd.read_csv(FIXTURE).assign(**{"class": "great"}).to_csv(tmp_path / C.FILE, index=False)
    with pytest.raises(ValueError, match="unknown class"):
        C.read_characteristics(tmp_path)


def test_headline_counts_the_papers_data_claims_by_class(oc):
    # the fixture's six claims, one audit claim (the paper's text) and one second look (the book's own claim)
    ids = list(oc["claim_id"]) + ["audit.msct_sum", "safety.second_look_ae_rate", "activity.relapse_n"]
    text = S.design_headline(_claims(ids), oc, run={"cohorts": 7, "command": "python -m analysis robustness"})
    first = text.split(". ")[0]
    # by hand: 7 data claims of the paper; 2 discriminating, 1 of each other class, relapse_n not in the result
    assert first == ("Of the paper's 7 empirical claims about data, 2 are discriminating at this design, 1 underpowered, "
                     "1 uninformative, 1 fixed by the simulation, 1 not assessable and 1 not in this robustness result")
    assert "7 simulated cohorts per model" in text
    for cls in C.CLASSES:
        assert f"- **{cls}**: {C.CLASS_MEANING[cls]}." in text


def test_headline_without_characteristics_says_so_and_how_to_make_them():
    text = S.design_headline(_claims(["safety.no_gvhd"]), None)
    assert text.startswith("This robustness result has no operating characteristics")
    assert "python -m analysis robustness --out DIR" in text and "--robustness DIR" in text


def test_the_column_and_the_figure(oc):
    claims = _claims(["safety.no_gvhd", "activity.relapse_n"])
    col = C.with_design_class(claims, oc)[C.DESIGN_COLUMN].tolist()
    assert col == ["uninformative", C.NOT_IN_RESULT]
    fig = S.characteristics_figure(oc, _claims(list(oc["claim_id"])))
    ax = fig.axes[0]
    assert len(ax.collections) == 5  # one point set per class present
    assert sum(len(c.get_offsets()) for c in ax.collections) == 6
    # labelled from the highest sensitivity down: responders_n (0, 1.0) first; haq (0.04, 0.95) lies within 0.06 of
    # it on both axes and is left unlabelled; esr (0.02, 0.91) is 0.09 below it and is labelled
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["responders_n", "no_gvhd", "esr_decrease_responders_12w", "ratio_reversed_responders",
                      "ido_in_vitro"]
    empty = S.characteristics_figure(None)
    assert not empty.axes[0].collections and "no operating characteristics" in empty.axes[0].texts[0].get_text()


@pytest.mark.parametrize("name", ["scorecard", "audit"])
def test_code_cells_are_folded_and_no_glue_role_is_wrapped_in_backticks(name):
    nb = json.loads((ROOT / "book" / f"{name}.ipynb").read_text(encoding="utf-8"))
    inside = False
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            inside = (inside or "{solution-start}" in src) and "{solution-end}" not in src
            # a role in backticks (``{glue:text}`key` ``) shows as raw text on the page; a ```{glue:figure} fence is fine
            assert not re.search(r"(?<!`)`{1,2}\{glue", src), src
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if not inside:  # an exercise's solution is folded by its dropdown already
            assert set(tags) & {"hide-input", "remove-cell", "parameters"}, (name, src[:80])
        assert "remove-input" not in tags, (name, src[:80])


def test_the_scorecard_states_the_headline_before_the_provenance_box():
    nb = json.loads((ROOT / "book" / "scorecard.ipynb").read_text(encoding="utf-8"))
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    first = next(i for i, s in enumerate(code) if "design_headline" in s)
    assert first < next(i for i, s in enumerate(code) if "page.header" in s)


def test_the_classes_words_match_the_thresholds_of_the_robustness_run():
    """At the boundaries, by hand: sensitivity 0.8 with false positive 0.1 is discriminating, 0.11 uninformative,
    sensitivity 0.79 underpowered; a model testable in fewer than 90 % of cohorts does not count."""
    from analysis.scorecard import robustness as rb

    assert (rb.SENSITIVITY, rb.FALSE_POSITIVE, rb.TESTABLE) == (0.80, 0.10, 0.90)
    for words, number in (("at least 80 %", rb.SENSITIVITY), ("more than 10 %", rb.FALSE_POSITIVE)):
        assert words in C.CLASS_MEANING["uninformative"] and f"{100 * number:.0f} %" in words
    assert "at most 10 %" in C.CLASS_MEANING["discriminating"] and "90 %" in C.CLASS_MEANING["not assessable"]
    ids = ["a", "b", "c", "d"]
    prob = pd.DataFrame({"claim_id": [i for i in ids for _ in (0, 1)], "model": ["calibrated", "harm"] * 4,
                         "p_reproduced": [0.8, 0.1, 0.8, 0.11, 0.79, 0.0, 1.0, 0.0],
                         "p_not_testable_with_these_data": [0, 0, 0, 0, 0, 0, 0, 0.11]})
    reg = pd.DataFrame({"claim_id": ids, "chapter": "safety", "basis": "empirical", "kind": "qualitative",
                        "expected": "holds", "fails_under": "harm"})
    got = rb.operating_characteristics(prob, reg).set_index("claim_id")["class"].to_dict()
    assert got == {"a": "discriminating", "b": "uninformative", "c": "underpowered", "d": "not assessable"}
    # a count the simulator gives is "fixed by the simulation", unless the data never allow it (no columns for it)
    count = pd.DataFrame({"claim_id": ["e", "e", "f", "f"], "model": ["calibrated", "null_treatment"] * 2,
                          "p_reproduced": [1.0, 1.0, 0.0, 0.0], "p_not_testable_with_these_data": [0, 0, 1.0, 1.0]})
    reg = reg.iloc[:2].assign(claim_id=["e", "f"], kind="count", fails_under="null_treatment")
    got = rb.operating_characteristics(count, reg).set_index("claim_id")["class"].to_dict()
    assert got == {"e": "fixed by the simulation", "f": "not assessable"}


def test_claims_a_robustness_run_does_not_assess_say_why_not_missing():
    """Interpretation and by-construction claims are never assessed (only empirical ones are): the column says so,
    from the table's basis or, without one, the registry's."""
    oc = pd.DataFrame({"claim_id": ["activity.das28_decrease_responders_12w"], "class": ["discriminating"]}).iloc[:0]
    c = pd.DataFrame({"claim_id": ["a.x", "a.y", "a.z"], "basis": ["interpretation", "by construction", "empirical"]})
    assert C.with_design_class(c, oc)[C.DESIGN_COLUMN].tolist() == [
        "not assessed (interpretation)", "not assessed (by construction)", C.NOT_IN_RESULT]
    no_basis = pd.DataFrame({"claim_id": ["activity.das28_decrease_responders_12w"]})  # by construction in the registry
    assert C.with_design_class(no_basis, oc)[C.DESIGN_COLUMN].tolist() == ["not assessed (by construction)"]
