"""Sentences glued into the pages, on hand-made cases where a count is zero, one or several (issue 34, items 3–4).

Each case is small enough to check by eye: the sentence must be true of the facts given, and never read
"0 of 0", "n/a" or "nan".
"""
import math

from analysis.chapters.safety import second_look as safety_sl
from analysis.science.methods.look import Look


def test_safety_changes_sentence_counts_the_serious_events():
    # 1 serious event: the sentence names it (it used to say "zero serious events" whatever the data)
    one = safety_sl.changes_sentence(Look({}, "", {"rr_any_low": 0.4, "serious_events": 1, "n_labs": 0}))
    assert "the count of 1 serious event," in one and "zero" not in one
    three = safety_sl.changes_sentence(Look({}, "", {"rr_any_low": 0.4, "serious_events": 3, "n_labs": 0}))
    assert "the count of 3 serious events," in three
    none = safety_sl.changes_sentence(Look({}, "", {"rr_any_low": 0.4, "serious_events": 0, "n_labs": 0}))
    assert "the count of zero serious events," in none


def test_family_sentence_says_why_nothing_was_compared():
    from analysis.science.methods.mixed import family_sentence

    none = family_sentence(Look({}, "no marker in these data", {}), noun="cytokine")
    assert none == "No cytokine could be modelled with these data (no marker in these data), so none is compared."
    # 2 cytokines on ranks, 1 significant after Holm, 2 before; log scale: 2 fitted, 0 after Holm
    two = family_sentence(Look({}, "", {"n_fitted_rank": 2, "n_sig_holm_rank": 1, "n_sig_raw_rank": 2,
                                        "n_fitted_log": 2, "n_sig_holm_log": 0}), noun="cytokine", alpha=0.05)
    assert two == "On ranks, 1 of 2 cytokines keeps p < 0.05 after Holm (2 before); on the log scale, 0 of 2."
    rank_only = family_sentence(Look({}, "", {"n_fitted_log": 1, "n_sig_holm_log": 1, "n_sig_raw_log": 1}))
    assert rank_only == "On ranks, no model could be fitted; on the log scale, 1 of 1 marker keeps p < 0.05 after Holm (1 before)."
    assert "0 of 0" not in none + two + rank_only


def test_safety_labs_sentence_without_labs_says_why():
    text = safety_sl.labs_sentence(Look({}, "", {"n_labs": 0, "ancova_reason": "no lab in these data"}))
    assert text == "By ANCOVA, no lab could be compared between the arms (no lab in these data)."


def test_safety_labs_sentence_counts_and_plurals():
    # 3 labs, none significant, none worse, all 3 shown no worse: nothing listed after a colon, no "(not shown: none)"
    facts = {"n_labs": 3, "n_labs_sig_holm": 0, "n_labs_sig_raw": 1, "labs_sig_holm": "none", "n_labs_worse": 0,
             "labs_worse": "none", "n_labs_noninferior": 3, "labs_not_shown": "none", "final_week": 16}
    text = safety_sl.labs_sentence(Look({}, "", facts))
    assert text.startswith("By ANCOVA, 0 of 3 labs differ between the arms at week 16 after Holm (1 before). ")
    assert "none is worse with MSCT" in text and text.endswith("and 3 of 3 are shown no worse than half a baseline SD.")
    # 1 lab, worse: singular verbs, the lab named
    one = safety_sl.labs_sentence(Look({}, "", {**facts, "n_labs": 1, "n_labs_sig_holm": 1, "labs_sig_holm": "albumin",
                                                "n_labs_worse": 1, "labs_worse": "albumin",
                                                "n_labs_noninferior": 0, "labs_not_shown": "albumin"}))
    assert "1 of 1 lab differs" in one and "1 is worse with MSCT beyond half a baseline SD (albumin)" in one
    assert one.endswith("0 of 1 is shown no worse than half a baseline SD (not shown: albumin).")


def test_not_testable_reason_has_no_doubled_prefix():
    from analysis.claims.log import ClaimLog
    from analysis.science.methods.look import judge_test

    log = ClaimLog("inflammation")
    # a marker not in these data, the section otherwise fitted (look.reason empty): the marker's own note
    judge_test(log, "inflammation.second_look_tnfa_group_time", float("nan"),
               "group × week (unadjusted p = n/a)", reason="TNF-α: not in these data")
    judge_test(log, "inflammation.second_look_il10_group_time", float("nan"), "group × week (unadjusted p = n/a)")
    rules = log.table()["rule"].tolist()
    assert rules == ["not testable: TNF-α: not in these data", "not testable: the model could not be fitted"]


def test_marker_section_notes_name_the_marker():
    # il_1b dropped from the demo cohort: its note names it by its label, not its column name
    import dataclasses

    from analysis.science.derive import derive
    from analysis.science.methods.look import demo_cohort
    from analysis.science.methods.mixed import marker_section

    derived = derive(demo_cohort())
    derived = dataclasses.replace(derived, visits=derived.visits.drop(columns=["il_1b", "il_1b_flag"]))
    look = marker_section(derived, markers=["il_6", "il_1b"], claim_markers=["il_6", "il_1b"], scales=("rank",))
    assert look.facts["note_il_6_rank"] == ""
    assert look.facts["note_il_1b_rank"].endswith(": not in these data")
    assert "il_1b" not in look.facts["note_il_1b_rank"]


def test_lr_test_says_why_it_was_not_computed():
    import pandas as pd

    from analysis.science.methods.prediction import _lr_added

    # 7 patients (4 responders, 3 not), as trial_b's MSCT arm: too few for the test
    d = pd.DataFrame({"responder": [1, 1, 1, 1, 0, 0, 0], "x": [3.0, 2.5, 2.8, 3.1, 1.0, 1.2, 0.9]})
    p, why = _lr_added(d, outcome="responder", base=[], added="x")
    assert math.isnan(p) and why == "fewer than 10 patients have every predictor"


def test_relapse_sentence_names_the_responders_left_out():
    import pandas as pd

    from analysis.chapters.disease_activity.analysis import (
        relapse_sentence,
        responders_left_out,
    )

    # trial_b's case by hand: 4 responders, B03 missed week 1 and the complete-case rule drops it; 0 of 3 relapse
    pts = pd.DataFrame({"patient_id": ["B01", "B02", "B03", "B05", "B04"],
                        "group": ["Responder"] * 4 + ["Non-responder"]})
    analysed = pd.DataFrame({"patient_id": ["B01", "B02", "B05", "B04"]})
    assert responders_left_out(pts, analysed) == ["B03"]
    table = pd.DataFrame({"week": [26], "evaluable": [3], "first_relapses": [0], "proportion": [0.0],
                          "claim_week": [True]})
    text = relapse_sentence(table, relapse_week=26, left_out=["B03"])
    assert text.startswith("By this rule, 0 of 3 evaluable responders relapsed first at the relapse week (0%). "
                           "Responder B03 is not counted here: the complete-case rule")
    assert relapse_sentence(table, relapse_week=26) == (
        "By this rule, 0 of 3 evaluable responders relapsed first at the relapse week (0%).")


def test_km_sentence_without_relapses_claims_no_interval_width():
    from analysis.chapters.disease_activity.second_look import km_sentence

    # trial_b's case: 4 responders followed, none relapsed, KM 0.00 (0.00–0.00)
    none = km_sentence(Look({}, "", {"cum_relapse": 0.0, "cum_relapse_low": 0.0, "cum_relapse_high": 0.0,
                                     "relapse_week": 26, "n_relapsed": 0, "n_followed": 4}))
    assert "no relapse was seen among 4 responders followed" in none
    assert "width" not in none and "0.00" not in none
    one = km_sentence(Look({}, "", {"cum_relapse": 0.1, "cum_relapse_low": 0.02, "cum_relapse_high": 0.4,
                                    "relapse_week": 24, "n_relapsed": 1, "n_followed": 10}))
    assert "1 relapse among 10 responders followed" in one


def test_placeholder_figure_becomes_a_note_without_its_caption():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.engine.render import FIGURE_LEFT_OUT, mark_not_available
    from analysis.engine.report import placeholder_panels
    from analysis.science.methods.look import placeholder

    fig, axes = plt.subplots(1, 3)
    for ax, label in zip(axes, ("IL-6", "TNF-α", "IL-10")):
        placeholder(ax, f"{label}: not available with these data")
    assert placeholder_panels(fig) == ["IL-6", "TNF-α", "IL-10"]
    plt.close(fig)
    # a figure glued as its placeholder text (what Page.figure does for it): note, no caption, no dangling numref
    glued = {"metadata": {"scrapbook": {"name": "fig_x"}},
             "data": {"application/papermill.record/text/plain": "'not available with these data: IL-6; TNF-α'"}}
    md = ("```{glue:figure} fig_x\n:name: fig-x\n\nModel-based means of IL-6 per group.\n```\n\n"
          "As {numref}`fig-x` shows.")
    new, missing = mark_not_available({"cells": [{"cell_type": "markdown", "source": md},
                                                 {"cell_type": "code", "outputs": [glued]}]})
    src = new["cells"][0]["source"]
    assert "Model-based means" not in src and "{numref}" not in src and missing == []
    assert FIGURE_LEFT_OUT.replace("this figure", "this figure (IL-6; TNF-α)") in src


def test_verdict_counts_sentence_agrees_with_each_count():
    import pandas as pd

    from analysis.claims.registry import verdict_counts_sentence

    one_each = pd.Series(["reproduced", "not reproduced", "inconclusive", "holds by construction",
                          "not testable with these data"])
    assert verdict_counts_sentence(one_each) == (
        "Of the 5 claims of this chapter, 1 is reproduced, 1 is not, 1 is inconclusive (the data cannot tell), "
        "1 holds by construction and 1 cannot be tested with these data.")
    assert "Of the 1 claim of this chapter, 0 are reproduced" in verdict_counts_sentence(pd.Series(["inconclusive"]))


def test_ae_counts_sentence_singular_and_plural():
    import pandas as pd

    from analysis.chapters.safety.analysis import ae_counts_sentence

    # trial_a by hand: MSCT 3 patients with an AE, control 1; 1 serious (A04); fever/chills 1 (A01); infection 1
    m = ["any adverse event", "serious adverse event", "fever/chills after infusion", "GVHD", "infection"]
    s = pd.DataFrame({"measure": m * 2, "arm": ["MSCT"] * 5 + ["control"] * 5,
                      "n_patients": [3, 1, 1, 0, 1, 1, 0, 0, 0, 0], "n_events": [3, 1, 1, 0, 1, 1, 0, 0, 0, 0]})
    text = ae_counts_sentence(s)
    assert "There was 1 serious adverse event in total" in text and "1 MSCT patient had fever" in text
    assert text.startswith("3 MSCT and 1 control patient had")


def test_provenance_box_has_no_empty_row():
    from analysis.engine.report import provenance_rows

    rows = provenance_rows({"data folder": "trial_a", "synthetic": "no", "parameters": "", "input hash": None})
    assert rows.count("<tr>") == 2 and "parameters" not in rows


def test_left_out_paragraph_names_its_section_across_cells():
    from analysis.engine.render import LEFT_OUT, left_out_sentence, mark_not_available

    nb = {"cells": [{"cell_type": "markdown", "source": "# Chapter\n\n## Relapse\n\nIntro."},
                    {"cell_type": "markdown", "source": "{glue:text}`gone` relapsed."},
                    {"cell_type": "markdown", "source": "## Week {glue:text}`w`\n\n{glue:text}`gone2` more."},
                    {"cell_type": "code", "outputs": [{"metadata": {"scrapbook": {"name": "w"}}}]}]}
    new, missing = mark_not_available(nb)
    assert new["cells"][1]["source"] == left_out_sentence("Relapse")
    assert "“Relapse”" in left_out_sentence("Relapse")
    assert new["cells"][2]["source"].endswith("\n\n" + LEFT_OUT)  # a heading with markup is not named
    assert missing == ["gone", "gone2"]


def test_design_box_shows_value_mappings():
    from analysis.core.design import Design
    from analysis.science.sections import design_rows

    # trial_c's dataset.yaml: sex coded Female/Male
    rows = dict(design_rows(Design.from_mapping({"visit_weeks": [0, 2, 8, 16]}),
                            {"arms": {"Active": "MSCT"}, "values": {"sex": {"Female": "F", "Male": "M"}}}))
    assert rows["value labels"] == "sex: Female → F, Male → M"
    assert dict(design_rows(Design(), None))["value labels"] == "none"
