"""The immune chapter's verdicts: its claims of the paper, its second look's claim, and a headless run.

* :func:`judge_claims` — every claim of ``data/published/claims/immune.csv`` outside a section (the
  autoantibodies' and the Treg/Th17 ratio's changes in responders, the comparisons with the other groups);
* :func:`judge_second_look` — the claim of "A second look" (the ratio's course, mixed model on ranks);
* :func:`evaluate` — the notebook's steps and both judgements on a cohort, without the notebook.
"""
from __future__ import annotations

import pandas as pd

from analysis.chapters.immune.analysis import apply_uloq_rule
from analysis.chapters.immune.second_look import immune_section
from analysis.claims.log import ClaimLog
from analysis.claims.rules import format_p
from analysis.core.notebooks import chapter_params
from analysis.science import sections
from analysis.science.derive import derive_cached
from analysis.science.methods.look import Look, judge_test

__all__ = ["evaluate", "judge_claims", "judge_second_look"]


# --------------------------------------------------------------------------------------------- the paper's claims
def judge_claims(log, derived, *, design=None, visits: pd.DataFrame | None = None, after_week: int | None = None,
                 detail: str = "") -> pd.DataFrame:
    """Judge every claim of the immune chapter on a :class:`analysis.claims.log.ClaimLog`.

    Parameters
    ----------
    log : ClaimLog
        The chapter's log (``page.claims``).
    derived : Derived
        ``derive(cohort)``.
    design : Design, optional
        Default ``derived.design``.
    visits : DataFrame, optional
        Visits after the chapter's ULOQ rule (default ``derived.visits``).
    after_week : int, optional
        The "after MSCT" visit (the paper names none); default the design's response week
        (``design.paper_week(12)``).
    detail : str
        Appended to the before/after rows (e.g. the ULOQ rule).

    Returns
    -------
    DataFrame
        ``log.table()`` after judging.

    Notes
    -----
    Decreases and increases: (1 − alpha) interval of the responders' mean paired change. The anti-CCP and RF
    "decreases" the paper itself calls not significant cannot discriminate under any rule: not testable as
    stated (the change is shown; the improved autoantibody profile is judged by both intervals). "Not
    statistically significant": equivalence within half the responders' baseline SD (TOST), never p ≥
    alpha. Comparisons with the no-response and control groups (Fig. 3c, the & marks of Fig. 3d) name no
    visit: every visit after baseline is judged, Bonferroni. "Low ratio in all patients": every patient's
    baseline ratio below the responders' mean at the after visit (the paper gives no reference value).

    Examples
    --------
    >>> from analysis.claims.log import ClaimLog
    >>> from analysis.science.derive import derive
    >>> from analysis.intake.io import load
    >>> from analysis.core.paths import default_data_dir
    >>> log = ClaimLog("immune")
    >>> t = judge_claims(log, derive(load(default_data_dir())))
    >>> len(log.missing(section="")), t.set_index("claim_id").loc["immune.msc_regulate_homeostasis", "basis"]
    (0, 'interpretation')
    """
    from analysis.claims.registry import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, equivalence_margin, load_margins
    from analysis.claims.rules import (direction_word, fmt_ci, fmt_num, is_nan, judge_inputs, mean_ci, paired_changes,
                                       values_at)

    design, visits = judge_inputs(derived, design, visits)
    after = design.paper_week(12) if after_week is None else int(after_week)
    where = f"responders, week 0 to {after}" + (f", {detail}" if detail else "")
    margins = load_margins()
    verdicts, no_interval = {}, {}
    msct = "arm" not in visits or bool((visits["arm"] == "MSCT").any())  # False: a control-only trial
    for col, dec, ns in (("anti_ccp_u_ml", "immune.anticcp_decrease_responders", "immune.anticcp_not_significant"),
                         ("rf_iu_ml", "immune.rf_decrease_responders", "immune.rf_not_significant")):
        if after is None or after not in design.visit_weeks:
            verdicts[dec] = log.not_in_design(dec, 12, design)
            log.not_in_design(ns, 12, design)
            continue
        if log.missing_columns(dec, visits, [col]):
            log.missing_columns(ns, visits, [col])
            verdicts[dec] = None
            continue
        ch = paired_changes(visits, col, after=after, group="Responder")
        # "decreased ... however, these changes were not statistically significant": no rule can judge such a
        # decrease (an interval below 0 contradicts the paper's own test, one containing 0 shows no decrease);
        # the change is shown, and the testable half of the sentence is the equivalence claim ``ns``
        est, lo, hi, n = mean_ci(ch, 1 - log.alpha)
        shown = (f"{direction_word(est)} ({fmt_num(est)}), {fmt_ci(lo, hi, 1 - log.alpha)}; mean change, n = {n}, "
                 f"{where} (shown, not judged)") if not is_nan(lo) else ""
        # the decrease by its interval, for the profile claim below; data without any MSCT patient (a control-only
        # trial) leave that claim not testable
        verdicts[dec] = (None if not msct else INCONCLUSIVE if is_nan(lo) else REPRODUCED if hi < 0
                         else NOT_REPRODUCED if lo > 0 else INCONCLUSIVE)
        no_interval[dec] = is_nan(lo)
        log.not_discriminating(
            dec, "a decrease the paper itself calls not statistically significant: a confidence interval below 0 "
                 "would contradict the paper's test, and one containing 0 cannot show a decrease; the testable part "
                 f"is {ns} (no change beyond the margin)", shown)
        margin, src = equivalence_margin(col, values_at(visits, col, week=0, group="Responder"), margins=margins)
        log.check_equivalence(ns, ch, margin=margin, margin_source=src, detail=where)
    both = [verdicts.get("immune.anticcp_decrease_responders"), verdicts.get("immune.rf_decrease_responders")]
    if all(v in (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE) for v in both):
        holds = True if all(v == REPRODUCED for v in both) else False if NOT_REPRODUCED in both else None
        word = {REPRODUCED: "decrease shown", NOT_REPRODUCED: "increase shown", INCONCLUSIVE: "interval contains 0"}
        said = ["fewer than 2 responders with both visits, no interval" if no_interval.get(dec) else word[v]
                for dec, v in zip(("immune.anticcp_decrease_responders", "immune.rf_decrease_responders"), both)]
        log.check_true("immune.autoantibody_profile_improved", holds,
                       f"anti-CCP: {said[0]}; RF: {said[1]} ({100 * (1 - log.alpha):.4g} % CIs)",
                       rule=f"reproduced if the {100 * (1 - log.alpha):.4g} % CIs of both the anti-CCP and the RF "
                            "change of responders lie below 0; not reproduced if either lies above 0; inconclusive "
                            "otherwise")
    else:
        log.not_testable("immune.autoantibody_profile_improved",
                         "anti-CCP or RF cannot be judged with these data" if msct else
                         "no MSCT patient, so no responder, in these data")
    for col, cid, side in (("treg_pct", "immune.treg_higher_responders", "increase"),
                           ("th17_pct", "immune.th17_lower_responders", "decrease"),
                           ("treg_th17_ratio", "immune.ratio_vs_others_responders", "increase")):
        if not log.missing_columns(cid, visits, [col]):
            log.check_versus_others(cid, visits, col, weeks=design.post_weeks, expected=side)
    cid = "immune.ratio_low_baseline_all"
    if after is None:
        log.not_in_design(cid, 12, design)
        log.not_in_design("immune.ratio_reversed_responders", 12, design)
    elif not log.missing_columns(cid, visits, ["treg_th17_ratio"]):
        base = values_at(visits, "treg_th17_ratio", week=0)
        ref = values_at(visits, "treg_th17_ratio", week=after, group="Responder")
        if len(base) and len(ref):
            k = int((base < ref.mean()).sum())
            log.check_true(cid, k == len(base), f"{k} of {len(base)} patients below {ref.mean():.2f} at baseline",
                           rule=f"reproduced if every patient's baseline ratio lies below the responders' mean at week "
                                f"{after} (the level reached; the paper gives no reference value)")
        else:
            log.not_testable(cid, f"no baseline ratios or no responder ratios at week {after}")
        log.check_change("immune.ratio_reversed_responders",
                         paired_changes(visits, "treg_th17_ratio", after=after, group="Responder"),
                         detail=where)
    else:
        log.missing_columns("immune.ratio_reversed_responders", visits, ["treg_th17_ratio"])
    log.not_testable("immune.msc_regulate_homeostasis",
                     "an interpretation: a role of MSCs in immune homeostasis needs experiments the data do not hold")
    return log.table()


# --------------------------------------------------------------------------------------------- the second look
def judge_second_look(log, look: Look) -> pd.DataFrame:
    """Judge the claims of the chapter's second look (section ``second_look``) from its facts.

    The claims live in ``data/published/claims/immune.csv`` (``section`` = ``second_look``) and are recorded in
    ``log`` (the page's claim log, so they enter ``claims.csv`` and the scorecard).

    * ``immune.second_look_ratio_group_time``: the Treg/Th17 ratio's course differs between the groups:
      reproduced if the group × week test on ranks, Holm-adjusted over the immune markers, has p < alpha,
      inconclusive otherwise (:func:`analysis.science.methods.look.judge_test`).

    Parameters
    ----------
    log : analysis.claims.log.ClaimLog
        The page's log (``page.claims``); its ``alpha`` is used.
    look : Look
        :func:`analysis.chapters.immune.second_look.immune_section` output.

    Returns
    -------
    DataFrame
        The judged second-look claims (``log.table(section="second_look")``).

    Examples
    --------
    >>> from analysis.claims.log import ClaimLog
    >>> look = Look({}, "", {"p_treg_th17_ratio_rank": 0.001, "p_holm_treg_th17_ratio_rank": 0.004})
    >>> judge_second_look(ClaimLog("immune"), look)["verdict"].tolist()
    ['reproduced']
    """
    f = look.facts
    judge_test(log, "immune.second_look_ratio_group_time", f.get("p_holm_treg_th17_ratio_rank"),
               f"group × week, mixed model on ranks, Holm over the immune markers (unadjusted "
               f"{format_p(f.get('p_treg_th17_ratio_rank'))})",
               reason=look.reason or f.get("note_treg_th17_ratio_rank", ""))
    return log.table(section="second_look")


# --------------------------------------------------------------------------------------------- headless
def evaluate(cohort, params: dict | None = None) -> pd.DataFrame:
    """The chapter's claims on ``cohort``: the notebook's steps and verdicts, without figures.

    Mirrors ``book/immune.ipynb`` up to its claims: the DAS28 variant as :func:`analysis.science.sections.das28_variant`
    resolves it, the weeks from the design (``response_week`` / ``final_week`` of ``params`` override it) and
    ``after_week`` ``None`` meaning the response week.

    The parameters are the notebook's defaults overridden by ``params``
    (:func:`analysis.core.notebooks.chapter_params`); the build's headless runs and the robustness runs call
    this (:mod:`analysis.scorecard.evaluate`).

    Returns
    -------
    pandas.DataFrame
        Every claim of the chapter once (:meth:`analysis.claims.log.ClaimLog.full_table`).
    """
    p = chapter_params("immune", params)
    alpha = p["alpha"]
    das28_variant = sections.das28_variant(cohort, p["das28_variant"])  # DAS28-CRP when the data have no ESR
    derived = derive_cached(cohort, das28_variant=das28_variant, response_week=p["response_week"],
                            final_week=p["final_week"])
    response_week = derived.design.response_week
    after_week = int(p["after_week"]) if p["after_week"] is not None else response_week
    visits = apply_uloq_rule(derived.visits, rule=p["uloq_rule"])
    second = immune_section(derived, alpha=alpha)
    claims = ClaimLog.for_chapter("immune", alpha)
    judge_second_look(claims, second)
    judge_claims(claims, derived, design=derived.design, visits=visits, after_week=after_week,
                 detail=f"uloq_rule={p['uloq_rule']}")
    return claims.full_table()
