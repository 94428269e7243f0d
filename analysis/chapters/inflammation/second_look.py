"""The inflammation chapter's second look: the six cytokines over all visits, log scale and ranks.

The paper tests the cytokines visit by visit. Here each cytokine is modelled over all visits, on the log scale
and on ranks (values below the LLOQ tied at the lowest rank, so no number is needed for them), with Holm and
Benjamini–Hochberg over the six (:func:`analysis.science.methods.mixed.marker_section`).
:func:`inflammation_section` returns a :class:`~analysis.science.methods.look.Look` (drawn by
:func:`analysis.science.methods.mixed.figure_marginal_means` and :func:`analysis.science.methods.mixed.figure_markers`);
:func:`glue_values` gives the prose its numbers. The claims are judged by
:func:`analysis.chapters.inflammation.verdicts.judge_second_look`.
"""
from __future__ import annotations

from collections.abc import Sequence

from analysis.science.methods.look import Look
from analysis.science.methods.mixed import marker_glue_values, marker_section

__all__ = ["glue_values", "inflammation_section"]


def inflammation_section(derived, *, markers: Sequence[str] = ("il_6", "tnf_a", "il_10", "il_1b", "il_2r", "il_8"),
                         scales: Sequence[str] = ("log", "rank"), random: str = "intercept",
                         confidence: float = 0.95, alpha: float = 0.05) -> Look:
    """The inflammation second look: mixed models for the six cytokines, log scale and ranks, Holm/BH.

    Returns
    -------
    Look
        As :func:`analysis.science.methods.mixed.marker_section`; facts ``p_holm_il_6_rank`` etc. for
        :func:`analysis.chapters.inflammation.verdicts.judge_second_look`.

    Examples
    --------
    >>> from analysis.science.derive import derive
    >>> from analysis.science.methods.look import demo_cohort
    >>> look = inflammation_section(derive(demo_cohort()), markers=["il_6"])
    >>> look.available
    True
    """
    return marker_section(derived, markers=markers, claim_markers=("il_6", "tnf_a", "il_10"), scales=scales,
                          random=random, confidence=confidence, alpha=alpha)


def glue_values(look: Look, *, alpha: float = 0.05) -> dict:
    """The numbers and words the chapter's second-look prose glues (``sl_*`` keys; plain str/int values).

    :func:`analysis.science.methods.mixed.marker_glue_values` for the markers the prose names
    (``il_6``, ``tnf_a``, ``il_10``); every value has a fallback ("n/a", "cannot address").

    Examples
    --------
    >>> g = glue_values(Look({}, "", {"p_holm_il_6_rank": 0.2, "p_holm_tnf_a_rank": 0.01}))
    >>> g["sl_reading"], g["sl_tnfa_reading"]
    ('does not support', 'supports')
    """
    return marker_glue_values(look, markers=("il_6", "tnf_a", "il_10"), alpha=alpha, noun="cytokine")
