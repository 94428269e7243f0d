"""The inflammation chapter's verdicts: its claims of the paper, its second look's claims, a headless run.

* :func:`judge_claims` — every claim of ``data/published/claims/inflammation.csv`` outside a section (the
  cytokines' changes in responders, the comparisons with the other groups, the correlations with DAS28);
* :func:`judge_second_look` — the claims of "A second look" (IL-6, TNF-α and IL-10 courses, mixed models on ranks);
* :func:`evaluate` — the notebook's steps and both judgements on a cohort, without the notebook.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.chapters.inflammation.second_look import inflammation_section
from analysis.claims.log import ClaimLog
from analysis.claims.rules import format_p
from analysis.core.notebooks import chapter_params
from analysis.science import sections
from analysis.science.derive import derive_cached
from analysis.science.methods.look import Look, judge_test
from analysis.science.tables import change_reader, visit_wide

__all__ = ["evaluate", "judge_claims", "judge_second_look"]


# --------------------------------------------------------------------------------------------- the paper's claims
def _per_patient_change(visits: pd.DataFrame, columns, *, after: int, group: str,
                        wide: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-patient change from week 0 to ``after`` of each column, one row per patient of ``group``.

    ``wide`` is :func:`analysis.science.tables.visit_wide` of ``group``'s rows when the caller has it already.
    """
    if wide is None:
        wide = visit_wide(visits, columns, weeks=[0, after], group=group)
    out = {}
    for col in columns:
        has_both = (col, 0) in wide.columns and (col, after) in wide.columns
        out[col] = (wide[(col, after)] - wide[(col, 0)]) if has_both else pd.Series(dtype=float)
    return pd.DataFrame(out)


def judge_claims(log, derived, *, design=None, visits: pd.DataFrame | None = None,
                 evaluation_week: int | None = None) -> pd.DataFrame:
    """Judge every claim of the inflammation chapter on a :class:`analysis.claims.log.ClaimLog`.

    Parameters
    ----------
    log : ClaimLog
        The chapter's log (``page.claims``).
    derived : Derived
        ``derive(cohort)`` (cytokines after the LLOQ rule).
    design : Design, optional
        Default ``derived.design``; "at 4 weeks" is ``design.paper_week(4)``.
    visits : DataFrame, optional
        Default ``derived.visits``.
    evaluation_week : int, optional
        Visit of the direction claims; default ``design.paper_week(12)``.

    Returns
    -------
    DataFrame
        ``log.table()`` after judging.

    Notes
    -----
    Directions: (1 − alpha) interval of the responders' mean paired change. "No significant change"
    (IL-1β, IL-2R, IL-8): equivalence at every visit after baseline within half the baseline SD (TOST,
    intersection–union), never the smallest p. IL-10 "back to normal": lower at the final visit than at the
    week-4 peak (interval) and equivalent to baseline. Fig. 4's & marks: every visit, Bonferroni. The
    Discussion's mechanism statements are interpretations; where a part is testable it is judged: within
    responders, the change of the Treg/Th17 ratio must go with opposite changes of IL-6, TNF-α, ESR and CRP
    (Pearson r, Bonferroni over the four); "reversed the inflammatory microenvironment" in the MSCT arm
    (IL-6 and TNF-α down, IL-10 up; Bonferroni over the three).

    Examples
    --------
    >>> from analysis.claims.log import ClaimLog
    >>> from analysis.science.derive import derive
    >>> from analysis.intake.io import load
    >>> from analysis.core.paths import default_data_dir
    >>> log = ClaimLog("inflammation")
    >>> t = judge_claims(log, derive(load(default_data_dir())))
    >>> len(log.missing(section="")), t.set_index("claim_id").loc["inflammation.major_mechanisms", "verdict"]
    (0, 'not testable with these data')
    """
    from analysis.claims.registry import equivalence_margin, load_margins
    from analysis.claims.rules import fmt_mean_ci, judge_inputs, mean_ci, paired_changes, values_at


    design, visits = judge_inputs(derived, design, visits)
    week = design.paper_week(12) if evaluation_week is None else int(evaluation_week)
    w4, final = design.paper_week(4), design.paper_week(48)
    alpha = log.alpha
    # the responders' values per patient and visit, and their baselines, for every column judged below
    # (one pivot instead of one per paired change)
    used = [c for c in ("il_6", "tnf_a", "il_10", "il_1b", "il_2r", "il_8", "treg_th17_ratio", "esr_mm_h", "crp_mg_l")
            if c in visits.columns]
    responders = visit_wide(visits, used, group="Responder")
    changes = change_reader(responders)  # the responders' paired changes (analysis.claims.rules.paired_changes)
    margins = load_margins()

    def baseline(col):
        """The responders' values of ``col`` at week 0 (:func:`analysis.science.tables.baseline_values`)."""
        return values_at(visits, col, week=0, group="Responder")
    log.not_testable("inflammation.baseline_proinflammatory",
                     "the data hold no healthy reference group or cytokine reference ranges to call levels high or low")
    for cid, col in (("inflammation.il6_decrease_responders", "il_6"), ("inflammation.tnfa_decrease_responders", "tnf_a")):
        if week is None:
            log.not_in_design(cid, 12, design)
        elif not log.missing_columns(cid, visits, [col]):
            log.check_change(cid, changes(col, after=week),
                             detail=f"responders, week 0 to {week} (the paper's week 12)")
    cid = "inflammation.il10_increase_week4"
    if w4 is None:
        log.not_in_design(cid, 4, design)
    elif not log.missing_columns(cid, visits, ["il_10"]):
        log.check_change(cid, changes("il_10", after=w4), detail=f"responders, week 0 to {w4} (the paper's week 4)")
    cid = "inflammation.il10_returns_normal"
    if w4 is None or final is None:
        log.not_in_design(cid, 4 if w4 is None else 48, design)
    elif not log.missing_columns(cid, visits, ["il_10"]):
        down = changes("il_10", before=w4, after=final)
        back = changes("il_10", after=final)
        margin, src = equivalence_margin("il_10", baseline("il_10"), margins=margins)
        _, dlo, dhi, n1 = mean_ci(down, 1 - alpha / 2)
        eb, lo, hi, n2 = mean_ci(back, 1 - 2 * alpha)
        _, wlo, whi, _ = mean_ci(back, 1 - alpha / 2)
        if n1 < 2 or n2 < 2 or not np.isfinite(margin):
            log.not_testable(cid, "fewer than 2 responders with IL-10 at the visits compared")
        else:
            fell, equal = dhi < 0, (lo > -margin and hi < margin)
            holds = True if fell and equal else False if (dlo > 0 or wlo > margin or whi < -margin) else None
            log.check_true(cid, holds,
                           f"week {w4} → {final}: CI {dlo:.3g} to {dhi:.3g}; week {final} − 0: {eb:.3g}, "
                           f"90 % CI {lo:.3g} to {hi:.3g}, margin ±{margin:.3g}",
                           rule=f"reproduced if IL-10 fell from week {w4} to {final} (its {100 * (1 - alpha / 2):.4g} % CI "
                                f"below 0) and is back to baseline (TOST within {src}); not reproduced if it rose, or "
                                "stays beyond the margin; inconclusive otherwise")
    for cid, col in (("inflammation.il1b_no_change", "il_1b"), ("inflammation.il2r_no_change", "il_2r"),
                     ("inflammation.il8_no_change", "il_8")):
        if log.missing_columns(cid, visits, [col]):
            continue
        margin, src = equivalence_margin(col, baseline(col), margins=margins)
        log.check_equivalence_all(cid, [(f"week {w}", changes(col, after=w)) for w in design.post_weeks],
                                  margin=margin, margin_source=src)
    for cid, col, side in (("inflammation.il6_vs_others_fig4", "il_6", "decrease"),
                           ("inflammation.tnfa_vs_others_fig4", "tnf_a", "decrease"),
                           ("inflammation.il10_vs_others_fig4", "il_10", "increase")):
        if not log.missing_columns(cid, visits, [col]):
            log.check_versus_others(cid, visits, col, weeks=design.post_weeks, expected=side)

    # interpretations, with their testable parts
    cid = "inflammation.microenvironment_reversed"
    if week is None:
        log.not_in_design(cid, 12, design)
    elif not log.missing_columns(cid, visits, ["il_6", "tnf_a", "il_10"]):
        msct = visits.loc[visits["arm"].eq("MSCT")] if "arm" in visits.columns else visits
        parts, on, off, sizes = [], 0, 0, []
        for col, side in (("il_6", -1), ("tnf_a", -1), ("il_10", 1)):
            est, lo, hi, n = mean_ci(paired_changes(msct, col, after=week), 1 - alpha / 3)
            parts.append(f"{col}: {fmt_mean_ci(est, lo, hi, n)}")
            sizes.append(n)
            on += (lo > 0) if side > 0 else (hi < 0)
            off += (hi < 0) if side > 0 else (lo > 0)
        holds = True if on == 3 else False if off else None
        if max(sizes) < 2:
            log.not_testable(cid, f"fewer than 2 MSCT patients with IL-6, TNF-α or IL-10 at weeks 0 and {week} "
                                  f"({'; '.join(parts)})")
        else:
            log.check_true(cid, holds, "; ".join(parts) + f" (MSCT arm, week 0 to {week})",
                           rule=f"testable part of an interpretation: reproduced if, in the whole MSCT arm, IL-6 and "
                                f"TNF-α fell and IL-10 rose by week {week} (each {100 * (1 - alpha / 3):.4g} % CI, "
                                "Bonferroni over 3); not reproduced if any moved the other way; inconclusive otherwise")
    cid = "inflammation.improvement_via_ratio"
    cols = ["treg_th17_ratio", "il_6", "tnf_a", "esr_mm_h", "crp_mg_l"]
    if week is None:
        log.not_in_design(cid, 12, design)
    elif not log.missing_columns(cid, visits, cols):
        ch = _per_patient_change(visits, cols, after=week, group="Responder", wide=responders)
        log.check_correlations(cid, [(f"Δratio vs Δ{c}", ch["treg_th17_ratio"], ch[c]) for c in cols[1:]],
                               expected="decrease")
        log.annotate(cid, rule_prefix=f"testable part of an interpretation, within responders (week 0 to {week})")
    log.not_testable("inflammation.major_mechanisms",
                     "an interpretation: mechanisms need experiments that isolate them; the data hold none")
    return log.table()


# --------------------------------------------------------------------------------------------- the second look
def judge_second_look(log, look: Look) -> pd.DataFrame:
    """Judge the claims of the chapter's second look (section ``second_look``) from its facts.

    The claims live in ``data/published/claims/inflammation.csv`` (``section`` = ``second_look``) and are recorded in
    ``log`` (the page's claim log, so they enter ``claims.csv`` and the scorecard).

    * ``inflammation.second_look_il6_group_time``, ``..._tnfa_group_time``, ``..._il10_group_time``: the
      cytokine's course differs between the groups: reproduced if the group × week test on ranks (values below
      the LLOQ tied lowest), Holm-adjusted over the six cytokines, has p < alpha, inconclusive otherwise
      (:func:`analysis.science.methods.look.judge_test`).

    Parameters
    ----------
    log : analysis.claims.log.ClaimLog
        The page's log (``page.claims``); its ``alpha`` is used.
    look : Look
        :func:`analysis.chapters.inflammation.second_look.inflammation_section` output.

    Returns
    -------
    DataFrame
        The judged second-look claims (``log.table(section="second_look")``).

    Examples
    --------
    >>> from analysis.claims.log import ClaimLog
    >>> look = Look({}, "", {"p_holm_il_6_rank": 0.001, "p_holm_tnf_a_rank": 0.3})
    >>> judge_second_look(ClaimLog("inflammation"), look)["verdict"].tolist()
    ['reproduced', 'inconclusive', 'not testable with these data']
    """
    f = look.facts
    for m, cid in (("il_6", "inflammation.second_look_il6_group_time"),
                   ("tnf_a", "inflammation.second_look_tnfa_group_time"),
                   ("il_10", "inflammation.second_look_il10_group_time")):
        judge_test(log, cid, f.get(f"p_holm_{m}_rank"),
                   f"group × week, mixed model on ranks (<LLOQ tied lowest), Holm over the six cytokines "
                   f"(unadjusted {format_p(f.get(f'p_{m}_rank'))})", reason=look.reason or f.get(f"note_{m}_rank", ""))
    return log.table(section="second_look")


# --------------------------------------------------------------------------------------------- headless
def evaluate(cohort, params: dict | None = None) -> pd.DataFrame:
    """The chapter's claims on ``cohort``: the notebook's steps and verdicts, without figures.

    Mirrors ``book/inflammation.ipynb`` up to its claims: the DAS28 variant :func:`analysis.science.sections.das28_variant`
    chooses (the chapter has no such parameter), the weeks from the design (``response_week``, ``final_week`` and
    ``early_window_weeks`` of ``params`` override it) and ``evaluation_week`` ``None`` meaning the response week.

    The parameters are the notebook's defaults overridden by ``params``
    (:func:`analysis.core.notebooks.chapter_params`); the build's headless runs and the robustness runs call
    this (:mod:`analysis.scorecard.evaluate`).

    Returns
    -------
    pandas.DataFrame
        Every claim of the chapter once (:meth:`analysis.claims.log.ClaimLog.full_table`).
    """
    p = chapter_params("inflammation", params)
    alpha = p["alpha"]
    derived = derive_cached(cohort, lloq_rule=p["lloq_rule"], das28_variant=sections.das28_variant(cohort),
                            response_week=p["response_week"], final_week=p["final_week"],
                            early_window_weeks=p["early_window_weeks"])
    response_week = derived.design.response_week
    evaluation_week = int(p["evaluation_week"]) if p["evaluation_week"] is not None else response_week
    second = inflammation_section(derived, alpha=alpha)
    claims = ClaimLog.for_chapter("inflammation", alpha)
    judge_second_look(claims, second)
    judge_claims(claims, derived, design=derived.design, evaluation_week=evaluation_week)
    return claims.full_table()
