"""Sentences glued into the pages, on hand-made cases where a count is zero, one or several (issue 34, items 3–4).

Each case is small enough to check by eye: the sentence must be true of the facts given, and never read
"0 of 0", "n/a" or "nan".
"""
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
