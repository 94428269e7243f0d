"""The immune chapter's second look: the Treg/Th17 ratio and the immune markers over all visits.

The paper tests the markers visit by visit. Here each marker is modelled over all visits, on the log scale and
on ranks (values beyond the assay limits tied at the ends), with Holm and Benjamini–Hochberg over the family
(:func:`analysis.science.methods.mixed.marker_section`). :func:`immune_section` returns a
:class:`~analysis.science.methods.look.Look` (drawn by :func:`analysis.science.methods.mixed.figure_marginal_means`
and :func:`analysis.science.methods.mixed.figure_markers`); :func:`glue_values` gives the prose its numbers. The
claim is judged by :func:`analysis.chapters.immune.verdicts.judge_second_look`.
"""
from __future__ import annotations

from collections.abc import Sequence

from analysis.science.methods.look import Look
from analysis.science.methods.mixed import marker_glue_values, marker_section

__all__ = ["glue_values", "immune_section"]


def immune_section(derived, *, markers: Sequence[str] = ("treg_th17_ratio", "treg_pct", "th17_pct",
                                                         "anti_ccp_u_ml", "rf_iu_ml"),
                   scales: Sequence[str] = ("log", "rank"), random: str = "intercept",
                   confidence: float = 0.95, alpha: float = 0.05) -> Look:
    """The immune second look: mixed models for the Treg/Th17 ratio and the immune markers.

    The ratio is undefined where Th17 is 0 (``ratio_undefined``); those visits are left out. Anti-CCP above
    the ULOQ is capped on the log scale and tied at the top rank on the rank scale.

    Returns
    -------
    Look
        As :func:`analysis.science.methods.mixed.marker_section`; facts ``p_holm_treg_th17_ratio_rank`` etc. for
        :func:`analysis.chapters.immune.verdicts.judge_second_look`.

    Examples
    --------
    >>> from analysis.science.derive import derive
    >>> from analysis.science.methods.look import demo_cohort
    >>> look = immune_section(derive(demo_cohort()), markers=["treg_th17_ratio"])
    >>> look.tables["test"]["scale"].tolist()
    ['log', 'rank']
    """
    return marker_section(derived, markers=markers, claim_markers=("treg_th17_ratio",), scales=scales,
                          random=random, confidence=confidence, alpha=alpha)


def glue_values(look: Look, *, alpha: float = 0.05) -> dict:
    """The numbers and words the chapter's second-look prose glues (``sl_*`` keys; plain str/int values).

    :func:`analysis.science.methods.mixed.marker_glue_values` for the markers the prose names
    (``treg_th17_ratio``); every value has a fallback ("n/a", "cannot address").

    Examples
    --------
    >>> glue_values(Look({}, "", {"p_holm_treg_th17_ratio_rank": 0.004}))["sl_reading"]
    'supports'
    """
    return marker_glue_values(look, markers=("treg_th17_ratio",), alpha=alpha)
