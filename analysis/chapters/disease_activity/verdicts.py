"""The disease-activity chapter's verdicts: its claims of the paper, its second look's claims, a headless run.

* :func:`judge_claims` — every claim of ``data/published/claims/disease_activity.csv`` outside a section
  (counts, response rates, the DAS28/HAQ-DI/ESR/CRP changes and differences, durability, relapse, prednisone);
* :func:`judge_second_look` — the claims of "A second look" (mixed-model group × week tests, relapse by
  Kaplan–Meier);
* :func:`evaluate` — the notebook's steps and both judgements on a cohort, without the notebook.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.chapters.disease_activity.analysis import (
    between_group_tests,
    handle_missing,
    lasting_response,
    prednisone_steps,
    relapse_checks,
    relapse_not_evaluable,
    select_tests,
)
from analysis.chapters.disease_activity.second_look import activity_section
from analysis.claims.log import ClaimLog
from analysis.core.notebooks import chapter_params
from analysis.science import sections
from analysis.science.derive import derive_cached
from analysis.science.methods.look import Look, fmt, judge_if_testable, judge_test

__all__ = ["evaluate", "judge_claims", "judge_second_look"]


# --------------------------------------------------------------------------------------------- the paper's claims
def judge_claims(log, derived, *, design=None, visits: pd.DataFrame | None = None,
                 relapse: pd.DataFrame | None = None, prednisone: pd.DataFrame | None = None,
                 lasting: pd.DataFrame | None = None, relapse_require_labs: bool = True) -> pd.DataFrame:
    """Judge every claim of the chapter on a :class:`analysis.claims.log.ClaimLog`.

    Parameters
    ----------
    log : ClaimLog
        The chapter's log (``page.claims``); its ``alpha`` is used.
    derived : Derived
        ``derive(cohort)``: ``patients`` and ``visits``.
    design : Design, optional
        The trial's schedule (default ``derived.design``). A claim naming a week of the paper is judged at
        ``design.paper_week(week)``; where that is ``None`` the claim is not testable with these data.
    visits : DataFrame, optional
        The visits after the chapter's missing-data rule (default ``derived.visits``).
    relapse, prednisone, lasting : DataFrame, optional
        :func:`~analysis.chapters.disease_activity.analysis.relapse_checks`,
        :func:`~analysis.chapters.disease_activity.analysis.prednisone_steps` and
        :func:`~analysis.chapters.disease_activity.analysis.lasting_response` outputs (claims needing one that
        is missing are not testable).
    relapse_require_labs : bool
        Whether ``relapse`` was computed with ESR and CRP required (a relapse claim that cannot be judged
        names the missing input, :func:`~analysis.chapters.disease_activity.analysis.relapse_not_evaluable`).

    Returns
    -------
    DataFrame
        ``log.table()`` after judging.

    Notes
    -----
    The rules are those of :class:`~analysis.claims.log.ClaimLog`: a direction by the (1 − alpha) interval;
    "no difference at baseline" and "no improvement" by equivalence within each measure's margin
    (``data/published/margins.csv``); shares by Wilson intervals; exact counts exactly. The responders'
    DAS28 fall, the non-responders' lack of improvement and the responders' lower DAS28 than the others
    hold by construction (EULAR response defines the groups by DAS28 at the response week). The & marks
    of Fig. 2 do not say at which visit: every visit after baseline is judged, Bonferroni.

    Examples
    --------
    >>> from analysis.claims.log import ClaimLog
    >>> from analysis.science.derive import derive
    >>> from analysis.intake.io import load
    >>> from analysis.core.paths import default_data_dir
    >>> log = ClaimLog("disease_activity")
    >>> t = judge_claims(log, derive(load(default_data_dir())))
    >>> t.set_index("claim_id").loc["activity.das28_decrease_responders_12w", "verdict"], len(log.missing(section=""))
    ('holds by construction', 0)
    """
    from analysis.claims.registry import equivalence_margin
    from analysis.claims.rules import floats, judge_inputs, paired_changes, values_picker

    design, visits = judge_inputs(derived, design, visits)
    wk = {w: design.paper_week(w) for w in (0, 4, 12, 24, 48)}  # the paper's landmark weeks in this design
    patients = derived.patients
    resp_w, final_w, relapse_w = wk[12], wk[48], wk[24]
    arm, group = patients["arm"].to_numpy(object), patients["group"].to_numpy(object)  # compared per label below
    n_resp, n_non = int((group == "Responder").sum()), int((group == "Non-responder").sum())
    log.check_count("activity.randomised_n", len(patients))
    log.check_count("activity.msct_n", int((arm == "MSCT").sum()))
    log.check_count("activity.control_n", int((arm == "control").sum()))
    log.check_count("activity.responders_n", n_resp)
    log.check_count("activity.nonresponders_n", n_non)
    if n_resp + n_non:
        log.check_wilson("activity.response_rate", n_resp, n_resp + n_non)
        log.check_wilson("activity.nonresponse_rate", n_non, n_resp + n_non)
    else:
        for cid in ("activity.response_rate", "activity.nonresponse_rate"):
            log.not_testable(cid, "no MSCT patient could be classified by EULAR response")
    lost = patients["lost_to_follow_up"].astype(bool).to_numpy()
    for cid, grp in (("activity.lost_nonresponders", "Non-responder"), ("activity.lost_controls", "Control"),
                     ("activity.lost_responders", "Responder")):
        log.check_count(cid, int((lost & (group == grp)).sum()))
    done = len(patients) - int(lost.sum())
    log.check_share("activity.most_completed_48w", done, len(patients), above=0.5,
                    what=f"of randomised patients seen at the final visit (week {design.final_week})")

    # enrolment, "28 improved with less drug"; the Methods' "all patients returned" (activity.followup_visits)
    # is the audit's: a statement of the paper set against its own lost counts, not a count of the data's visits
    log.missing_columns("activity.enrolment_period", patients, ["enrolment_date"])
    # "decreases in disease activity and drug dosage": the Methods taper prednisone, then NSAIDs and DMARDs; the
    # data hold the prednisone dose only, so a count of patients with less drug cannot be made from them
    log.not_testable("activity.improved_with_less_drug_n",
                     "the data lack NSAID and DMARD doses (no columns for them; only prednisone_mg_day is recorded), "
                     "and the paper's 'drug dosage' covers prednisone, NSAIDs and DMARDs")

    # baseline: equivalence of every pair of groups within each measure's margin
    base = visits.loc[visits["week"].eq(0)]
    items = []
    groups_present = [g for g in ("Responder", "Non-responder", "Control") if (group == g).sum() >= 2]
    pairs = [(a, b) for i, a in enumerate(groups_present) for b in groups_present[i + 1:]]
    for col in ("das28", "haq_di", "esr_mm_h", "crp_mg_l"):
        if col not in base.columns:
            continue
        margin, _ = equivalence_margin(col, base[col])
        pick = values_picker(base, col)  # values_at(base, col, week=0, group=...), the columns read once
        for a, b in pairs:
            items.append((f"{col} {a} − {b}", pick(0, a), pick(0, b), margin))
    in_group = {g: group == g for g in groups_present}
    for col in ("age", "disease_duration_years"):
        if col not in patients.columns:
            continue
        margin, _ = equivalence_margin(col, patients[col])
        values = floats(pd.to_numeric(patients[col], errors="coerce"))  # as welch_ci reads each group's values
        for a, b in pairs:
            items.append((f"{col} {a} − {b}", values[in_group[a]], values[in_group[b]], margin))
    if items:
        log.check_equivalence_all("activity.no_baseline_differences", items, margin=float("nan"),
                                  margin_source="per measure: DAS28 0.6 (EULAR), HAQ-DI 0.22 (MCID), others half the "
                                                "baseline SD (Norman 2003)")
    else:
        log.not_testable("activity.no_baseline_differences", "fewer than two groups with data at baseline")

    # within groups at the response week
    if resp_w is None:
        for cid in ("activity.das28_decrease_responders_12w", "activity.haq_decrease_responders_12w",
                    "activity.esr_decrease_responders_12w", "activity.crp_decrease_responders_12w",
                    "activity.no_improvement_nonresponders", "activity.no_improvement_controls",
                    "activity.responders_better_than_others_12w", "activity.rapid_improvement"):
            log.not_in_design(cid, 12, design)
    else:
        d = paired_changes(visits, "das28", after=resp_w, group="Responder")
        if len(d):
            log.by_construction("activity.das28_decrease_responders_12w",
                                "a responder is a patient whose DAS28 fell by more than 0.6 by the response week (EULAR)",
                                f"mean change {np.mean(d):.2f} at week {resp_w} (n = {len(d)})")
        else:
            log.not_testable("activity.das28_decrease_responders_12w", "no responder in these data")
        for col, cid in (("haq_di", "activity.haq_decrease_responders_12w"),
                         ("esr_mm_h", "activity.esr_decrease_responders_12w"),
                         ("crp_mg_l", "activity.crp_decrease_responders_12w")):
            if not log.missing_columns(cid, visits, [col]):
                log.check_change(cid, paired_changes(visits, col, after=resp_w, group="Responder"),
                                 detail=f"week 0 to {resp_w} (the paper's week 12), responders")
        d = paired_changes(visits, "das28", after=resp_w, group="Non-responder")
        if len(d):
            log.by_construction("activity.no_improvement_nonresponders",
                                "a non-responder is a patient whose DAS28 did not fall enough by the response week (EULAR)",
                                f"mean change {np.mean(d):.2f} at week {resp_w} (n = {len(d)})")
        else:
            log.not_testable("activity.no_improvement_nonresponders", "no non-responder in these data")
        margin, src = equivalence_margin("das28")
        log.check_equivalence("activity.no_improvement_controls",
                              paired_changes(visits, "das28", after=resp_w, group="Control"),
                              margin=margin, margin_source=src, one_sided="no_decrease",
                              detail=f"DAS28 week 0 to {resp_w} (the paper's week 12), controls")
        if n_resp and (n_non or int((group == "Control").sum())):
            log.by_construction("activity.responders_better_than_others_12w",
                                "responders are selected for a DAS28 that fell to a low level by the response week; "
                                "a lower DAS28 than the other groups follows largely from that selection")
        else:
            log.not_testable("activity.responders_better_than_others_12w", "the responder group or both other groups "
                                                                          "are empty in these data")
        early = [w for w in design.post_weeks if w < resp_w]
        if early:
            log.check_changes("activity.rapid_improvement",
                              [(f"week {w}", paired_changes(visits, "das28", after=w, group="Responder")) for w in early],
                              expected="decrease", what=f"responders' DAS28 change at the visits before week {resp_w}")
        else:
            log.not_testable("activity.rapid_improvement", "the design has no visit between baseline and the response week")
    for col, cid in (("haq_di", "activity.haq_responders_better_12w"), ("esr_mm_h", "activity.esr_responders_better_12w"),
                     ("crp_mg_l", "activity.crp_responders_better_12w")):
        if not log.missing_columns(cid, visits, [col]):
            log.check_versus_others(cid, visits, col, weeks=design.post_weeks, expected="decrease")

    # durability
    if final_w is None:
        log.not_in_design("activity.effect_lasted_48w", 48, design)
    else:
        seen = lasting.loc[lasting["das28_at_week"].notna()] if lasting is not None and len(lasting) else None
        if seen is not None and len(seen):
            log.check_share("activity.effect_lasted_48w", int(seen["still_responding"].sum()), len(seen), above=0.5,
                            what=f"of responders seen at week {final_w} still meeting EULAR good/moderate against baseline")
        else:
            log.not_testable("activity.effect_lasted_48w", f"no responder has a DAS28 at week {final_w}")

    # relapse
    if relapse_w is None:
        for cid in ("activity.relapse_n", "activity.relapse_pct", "activity.relapse_week", "activity.relapse_signs"):
            log.not_in_design(cid, 24, design)
    else:
        at = relapse.loc[relapse["week"] == relapse_w] if relapse is not None and len(relapse) else pd.DataFrame()
        evaluable = int(at["evaluable"].sum()) if len(at) else 0
        if evaluable:
            first = int((at["relapse"] & at["first_relapse_week"].eq(relapse_w)).sum())
            log.check_count("activity.relapse_n", first)
            log.check_wilson("activity.relapse_pct", first, evaluable,
                             detail=f"responders evaluable at week {relapse_w} (the paper's week 24)")
        else:
            why = relapse_not_evaluable(relapse if relapse is not None else pd.DataFrame(),
                                        reference_week=design.response_week, week=relapse_w,
                                        require_labs=relapse_require_labs)
            for cid in ("activity.relapse_n", "activity.relapse_pct"):
                log.not_testable(cid, why)
        starts = (relapse.loc[relapse["relapse"] & relapse["first_relapse_week"].eq(relapse["week"])]
                  if relapse is not None and len(relapse) else pd.DataFrame())
        if len(starts):
            counts = starts["week"].value_counts()
            modal = int(min(counts.index[counts == counts.max()]))
            log.check_true("activity.relapse_week", modal == relapse_w, f"most common first-relapse visit: week {modal}",
                           rule=f"reproduced if the most common first-relapse visit is week {relapse_w} "
                                "(the paper's week 24 in this design)")
            signs = starts[["esr_up", "crp_up", "tjc_up", "sjc_up"]].eq(True).all(axis=1)
            log.check_true("activity.relapse_signs", int(signs.sum()) > len(starts) / 2,
                           f"{int(signs.sum())} of {len(starts)} relapsing responders had ESR, CRP, TJC28 and SJC28 up",
                           rule="reproduced if more than half of the relapsing responders had ESR, CRP, tender and "
                                "swollen joint counts all higher than at the response visit")
        else:
            why = (relapse_not_evaluable(relapse if relapse is not None else pd.DataFrame(),
                                         reference_week=design.response_week, require_labs=relapse_require_labs)
                   or "no responder met the relapse rule")
            for cid in ("activity.relapse_week", "activity.relapse_signs"):
                log.not_testable(cid, why)

    # prednisone
    if prednisone is not None and len(prednisone):
        log.check_count("activity.prednisone_reduced_n", int(prednisone["reduced_stepwise"].sum()))
    else:
        log.not_testable("activity.prednisone_reduced_n", "no responder has a baseline prednisone dose")
    log.not_testable("activity.drug_plans_unchanged_before", "the data hold no medication history before enrolment")
    return log.table()


# --------------------------------------------------------------------------------------------- the second look
def judge_second_look(log, look: Look) -> pd.DataFrame:
    """Judge the claims of the chapter's second look (section ``second_look``) from its facts.

    The claims live in ``data/published/claims/disease_activity.csv`` (``section`` = ``second_look``) and are
    recorded in ``log`` (the page's claim log, so they enter ``claims.csv`` and the scorecard).

    * ``activity.second_look_das28_group_time``, ``activity.second_look_haq_group_time``: the groups' courses
      differ: reproduced if the likelihood-ratio test of group × week has p < alpha, inconclusive otherwise
      (:func:`analysis.science.methods.look.judge_test`);
    * ``activity.second_look_relapse_km``: reproduced if the Kaplan–Meier 95% CI of the cumulative relapse by
      the relapse week contains the paper's 8%.

    Parameters
    ----------
    log : analysis.claims.log.ClaimLog
        The page's log (``page.claims``); its ``alpha`` is used.
    look : Look
        :func:`analysis.chapters.disease_activity.second_look.activity_section` output.

    Returns
    -------
    DataFrame
        The judged second-look claims (``log.table(section="second_look")``).

    Examples
    --------
    >>> from analysis.claims.log import ClaimLog
    >>> look = Look({}, "", {"p_das28": 0.001, "p_haq_di": 0.3, "cum_relapse": 0.1, "cum_relapse_low": 0.02,
    ...                      "cum_relapse_high": 0.3})
    >>> judge_second_look(ClaimLog("disease_activity"), look)["verdict"].tolist()
    ['reproduced', 'inconclusive', 'reproduced']
    """
    f = look.facts
    # a model that gave no p is not testable with its own reason (HAQ not in these data, say), not "random n/a"
    judge_test(log, "activity.second_look_das28_group_time", f.get("p_das28"),
               f"likelihood-ratio test of group × week, linear mixed model (random {f.get('random_das28')})",
               reason=f.get("reason_das28") or look.reason)
    judge_test(log, "activity.second_look_haq_group_time", f.get("p_haq_di"),
               f"likelihood-ratio test of group × week, linear mixed model (random {f.get('random_haq_di')})",
               reason=f.get("reason_haq_di") or look.reason)
    c, lo, hi = f.get("cum_relapse", np.nan), f.get("cum_relapse_low", np.nan), f.get("cum_relapse_high", np.nan)
    ok = np.isfinite(c)
    judge_if_testable(
        log, "activity.second_look_relapse_km", ok and lo - 1e-9 <= 0.08 <= hi + 1e-9,
        f"cumulative relapse by week {f.get('relapse_week')}: {fmt(c)} (95% CI {fmt(lo)}–{fmt(hi)}), "
        f"{f.get('n_relapsed', 0)} relapses among {f.get('n_followed', 0)} responders followed",
        rule="reproduced if the Kaplan–Meier 95% CI of the cumulative relapse by the relapse week contains the "
             "paper's 8%", testable=ok, why=f.get("km_reason") or "no relapse week in this design")
    return log.table(section="second_look")


# --------------------------------------------------------------------------------------------- headless
def evaluate(cohort, params: dict | None = None) -> pd.DataFrame:
    """The chapter's claims on ``cohort``: the notebook's steps and verdicts, without figures.

    Mirrors ``book/disease_activity.ipynb`` up to its claims: the DAS28 variant as
    :func:`analysis.science.sections.das28_variant` resolves it; ``response_week``, ``final_week``, ``early_window_weeks``
    and ``relapse_week`` of ``params`` override the design's, ``None`` keeps them.

    The parameters are the notebook's defaults overridden by ``params``
    (:func:`analysis.core.notebooks.chapter_params`); the build's headless runs and the robustness runs call
    this (:mod:`analysis.scorecard.evaluate`).

    Returns
    -------
    pandas.DataFrame
        Every claim of the chapter once (:meth:`analysis.claims.log.ClaimLog.full_table`).
    """
    p = chapter_params("disease_activity", params)
    alpha = p["alpha"]
    das28_variant = sections.das28_variant(cohort, p["das28_variant"])  # DAS28-CRP when the data have no ESR
    derived = derive_cached(cohort, das28_variant=das28_variant, response_week=p["response_week"],
                            final_week=p["final_week"], early_window_weeks=p["early_window_weeks"],
                            relapse_week=p["relapse_week"])
    design = derived.design
    response_week, final_week = design.response_week, design.final_week
    analysed = handle_missing(derived.visits, missing=p["missing"])
    tests = select_tests(analysed, rule=p["test_rule"], alpha=alpha)
    _, pairwise = between_group_tests(analysed, tests=tests, alpha=alpha)
    lasting = lasting_response(derived.patients, derived.visits, week=final_week)
    relapse = relapse_checks(analysed, reference_week=response_week, das28_rise=p["relapse_das28_rise"],
                             require_labs=p["relapse_require_labs"])
    pred = prednisone_steps(analysed, min_steps=p["prednisone_min_steps"], final_week=final_week)
    second = activity_section(derived, relapse_das28_rise=p["relapse_das28_rise"],
                              relapse_require_labs=p["relapse_require_labs"], pairwise=pairwise, alpha=alpha)
    claims = ClaimLog.for_chapter("disease_activity", alpha)
    judge_second_look(claims, second)
    judge_claims(claims, derived, design=design, visits=analysed, relapse=relapse, prednisone=pred,
                 lasting=lasting, relapse_require_labs=p["relapse_require_labs"])
    return claims.full_table()
