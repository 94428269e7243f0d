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
