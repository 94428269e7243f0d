"""The safety chapter's verdicts: its claims of the paper, its second look's claims, and a headless run.

* :func:`judge_claims` — every claim of ``data/published/claims/safety.csv`` outside a section: Table 1 (the
  change of each lab by its interval, or by equivalence where the paper found none), the adverse-event counts,
  "no significant abnormalities" on the labs;
* :func:`judge_second_look` — the claims of "A second look" (adverse-event rate ratio, labs by ANCOVA);
* :func:`evaluate` — the notebook's steps and both judgements on a cohort, without the notebook.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.chapters.safety.analysis import (
    adverse_event_summary,
    ae_count,
    flow_n,
    lab_changes,
    safety_labs,
    short_lab,
    trial_flow,
)
from analysis.chapters.safety.second_look import rate_ratio_text, safety_section
from analysis.claims.log import ClaimLog
from analysis.claims.registry import equivalence_margin, load_margins
from analysis.claims.rules import mean_ci
from analysis.core.notebooks import chapter_params
from analysis.science import sections
from analysis.science.derive import derive_cached
from analysis.science.methods.look import Look, judge_if_testable
from analysis.science.tables import baseline_values, paired_change_many, visit_wide

__all__ = ["evaluate", "judge_claims", "judge_second_look"]


# --------------------------------------------------------------------------------------------- the paper's claims
def _lab_inputs(visits: pd.DataFrame, *, after: int, groups=("Responder", "Non-responder")) -> dict:
    """Per (lab, group): the baseline values, the paired changes from week 0 to ``after`` and the margin.

    ``{(lab, group): (values_at(week 0), paired_changes(0 → after), equivalence_margin(lab, baseline))}`` of
    :mod:`analysis.claims.log`, for every safety lab in ``visits``, with one pivot per group instead of one per
    lab; the Table 1 claims and the lab-worsening verdict both use them.
    """
    labs = [lab for lab in safety_labs()["lab"] if lab in visits.columns]
    margins = load_margins()
    out = {}
    for g in groups:
        changes = paired_change_many(visit_wide(visits, labs, weeks=[0, after], group=g), labs, after=after)
        base = baseline_values(visits, labs, week=0, group=g)
        out.update({(lab, g): (base[lab], changes[lab], equivalence_margin(lab, base[lab], margins=margins))
                    for lab in labs})
    return out


def _lab_worsening_verdict(visits: pd.DataFrame, *, after: int, alpha: float, groups=("Responder", "Non-responder"),
                           inputs: dict | None = None):
    """Whether any safety lab worsened beyond its margin in the MSCT groups: (holds or None, text).

    For each lab and group, "worse" is the direction away from the middle of the normal range as seen
    from the group's baseline mean. Holds (``True``) when every lab's (1 − 2·alpha) bound in that direction
    stays within half a baseline SD (one-sided tests; intersection–union); ``False`` when some (1 − alpha/m)
    interval lies wholly beyond it (Bonferroni over the m lab × group pairs); otherwise ``None``.
    ``inputs`` is :func:`_lab_inputs` when the caller has it already.
    """
    labs = safety_labs()
    pairs = [(r, g) for r in labs.itertuples() for g in groups if r.lab in visits.columns]
    inputs = _lab_inputs(visits, after=after, groups=groups) if inputs is None else inputs
    m = max(1, len(pairs))
    ok, bad, worst, n = True, [], None, 0
    for r, g in pairs:
        base, ch, (margin, _) = inputs[(r.lab, g)]
        _, lo, hi, k = mean_ci(ch, 1 - 2 * alpha)
        _, wlo, whi, _ = mean_ci(ch, 1 - alpha / m)
        if k < 2 or not np.isfinite(margin) or margin <= 0 or not np.isfinite(lo):
            continue
        n += 1
        up_is_worse = base.mean() >= (r.normal_low + r.normal_high) / 2
        bound, far = (hi, wlo) if up_is_worse else (-lo, -whi)
        ok = ok and bound < margin
        if far > margin:
            bad.append(f"{r.label} ({g})")
        share = bound / margin
        if worst is None or share > worst[0]:
            worst = (share, f"{r.label} ({g})")
    if not n:
        return None, "no MSCT group has labs at both visits", False
    text = (f"{n} lab × group changes; closest to its margin in the worsening direction: {worst[1]} "
            f"({100 * worst[0]:.0f} % of the margin)" + (f"; worse beyond the margin: {', '.join(bad)}" if bad else ""))
    return (True if ok else False if bad else None), text, True


def judge_claims(log, derived, *, design=None, adverse_events: pd.DataFrame | None = None,
                 ae_summary: pd.DataFrame | None = None, flow: pd.DataFrame | None = None) -> pd.DataFrame:
    """Judge every claim of the safety chapter on a :class:`analysis.claims.log.ClaimLog`.

    Parameters
    ----------
    log : ClaimLog
        The chapter's log (``page.claims``); its ``alpha`` is used.
    derived : Derived
        ``derive(cohort)``.
    design : Design, optional
        Default ``derived.design``; Table 1 compares week 0 with ``design.paper_week(48)``.
    adverse_events : DataFrame, optional
        The cohort's adverse events (used when ``ae_summary`` is not given).
    ae_summary, flow : DataFrame, optional
        :func:`~analysis.chapters.safety.analysis.adverse_event_summary` and
        :func:`~analysis.chapters.safety.analysis.trial_flow` outputs (computed when omitted).

    Returns
    -------
    DataFrame
        ``log.table()`` after judging.

    Notes
    -----
    Table 1: a starred change is judged by the (1 − alpha) interval of the mean paired change; an
    unstarred row ("not significant") by equivalence (TOST) within half the group's baseline SD, never by
    p ≥ alpha. "No significant abnormalities" is judged on the laboratory tests only (chest radiography,
    urine analysis and ECG are not in the data): no lab may worsen, away from its normal range, by more
    than half a baseline SD (one-sided tests).

    Examples
    --------
    >>> from analysis.claims.log import ClaimLog
    >>> from analysis.science.derive import derive
    >>> from analysis.intake.io import load
    >>> from analysis.core.paths import default_data_dir
    >>> t = load(default_data_dir())
    >>> log = ClaimLog("safety")
    >>> out = judge_claims(log, derive(t), adverse_events=t.adverse_events)
    >>> out.set_index("claim_id").loc["safety.labs_indicate_immune_improvement", "basis"], len(log.missing(section=""))
    ('interpretation', 0)
    """
    from analysis.claims.rules import judge_inputs

    design, visits = judge_inputs(derived, design)
    patients = derived.patients
    after = design.paper_week(48)
    if flow is None:
        flow = trial_flow(patients)
    if ae_summary is None and adverse_events is not None:
        ae_summary = adverse_event_summary(adverse_events, patients, infusion_weeks=(0,))

    labs = safety_labs()
    inputs = None if after is None else _lab_inputs(visits, after=after)  # baselines, paired changes, margins
    for r in labs.itertuples():
        for grp, suffix in (("Responder", "responder"), ("Non-responder", "nonresponder")):
            cid = f"safety.t1_{short_lab(r.lab)}_{suffix}"
            if not log.has_claim(cid):
                continue
            if after is None:
                log.not_in_design(cid, 48, design)
                continue
            if log.missing_columns(cid, visits, [r.lab]):
                continue
            _, ch, (margin, src) = inputs[(r.lab, grp)]
            where = f"week 0 to {after} (the paper's 48 weeks), {grp.lower()}s"
            kind = log.kind(cid)
            if kind == "significant":
                log.check_change(cid, ch, detail=where)
            else:
                log.check_equivalence(cid, ch, margin=margin, margin_source=src, detail=where)

    has_msct = bool((patients["arm"] == "MSCT").any())
    if has_msct and ae_summary is not None:
        log.check_count("safety.no_serious_ae", ae_count(ae_summary, "serious adverse event", arm="MSCT", what="n_events"))
        log.check_count("safety.fever_chills_n", ae_count(ae_summary, "fever/chills after infusion", arm="MSCT"))
        log.check_count("safety.no_gvhd", ae_count(ae_summary, "GVHD", arm="MSCT"))
    else:
        for cid in ("safety.no_serious_ae", "safety.fever_chills_n", "safety.no_gvhd"):
            log.not_testable(cid, "no MSCT patient or no adverse-event table in these data")
    if has_msct:
        log.check_count("safety.table1_n_nonresponder", flow_n(flow, "analysed", group="Non-responder"))
        log.check_count("safety.table1_n_responder", flow_n(flow, "analysed", group="Responder"))
    else:
        for cid in ("safety.table1_n_nonresponder", "safety.table1_n_responder"):
            log.not_testable(cid, "no patient was randomised to MSCT in these data")
    if ae_summary is not None:
        log.check_count("safety.no_serious_infections", ae_count(ae_summary, "serious infection"))
        log.check_count("safety.no_infectious_complications", ae_count(ae_summary, "infection"))
    else:
        for cid in ("safety.no_serious_infections", "safety.no_infectious_complications"):
            log.not_testable(cid, "no adverse-event table in these data")
    for cid in ("safety.fever_max_39c", "safety.fever_resolved_3h"):
        log.not_testable(cid, "the data record neither temperature nor duration of a reaction")

    rule = ("judged on the laboratory tests only (chest radiography, urine analysis and ECG are not in the data): "
            "reproduced if no lab worsens, away from its normal range, by half a baseline SD or more (each "
            f"{100 * (1 - 2 * log.alpha):.4g} % bound within the margin; intersection–union); not reproduced if some "
            "Bonferroni interval lies wholly beyond it; inconclusive otherwise")
    if after is None:
        log.not_in_design("safety.no_routine_abnormalities", 48, design)
        holds, text, tested = None, "", False
    else:
        holds, text, tested = _lab_worsening_verdict(visits, after=after, alpha=log.alpha, inputs=inputs)
        if tested:
            log.check_true("safety.no_routine_abnormalities", holds, text, rule=rule)
        else:
            log.not_testable("safety.no_routine_abnormalities", text)
    log.not_testable("safety.labs_indicate_immune_improvement",
                     "an interpretation: the data cannot show that these lab changes reflect immune function")
    if has_msct and ae_summary is not None and tested:
        n_sae = ae_count(ae_summary, "serious adverse event", arm="MSCT", what="n_events")
        ok = None if holds is None else (n_sae == 0 and holds)
        if n_sae:
            ok = False
        log.check_true("safety.msct_safe_feasible", ok,
                       f"{n_sae} serious adverse event(s) in MSCT; labs: {text}",
                       rule="reproduced if the MSCT arm has no serious adverse event and no lab worsened beyond its "
                            "margin (as safety.no_routine_abnormalities); inconclusive when the labs cannot tell")
    else:
        log.not_testable("safety.msct_safe_feasible", "needs MSCT patients, adverse events and labs at both visits")
    return log.table()


# --------------------------------------------------------------------------------------------- the second look
def judge_second_look(log, look: Look) -> pd.DataFrame:
    """Judge the claims of the chapter's second look (section ``second_look``) from its facts.

    The claims live in ``data/published/claims/safety.csv`` (``section`` = ``second_look``) and are recorded
    in ``log`` (the page's claim log, so they enter ``claims.csv`` and the scorecard).

    * ``safety.second_look_ae_rate``: reproduced if the exact 95% CI of the adverse-event rate ratio
      MSCT/control lies below 2 (a stated margin), not reproduced if it lies above 1, inconclusive otherwise.
    * ``safety.second_look_labs_ancova``: each lab's ANCOVA difference read in the direction of harm
      (:func:`analysis.chapters.safety.second_look.labs_noninferiority`): reproduced if every lab is shown no worse
      than its margin, not reproduced if some lab is worse beyond its margin, inconclusive otherwise.

    Parameters
    ----------
    log : analysis.claims.log.ClaimLog
        The page's log (``page.claims``); its ``alpha`` is used.
    look : Look
        :func:`analysis.chapters.safety.second_look.safety_section` output.

    Returns
    -------
    DataFrame
        The judged second-look claims (``log.table(section="second_look")``).

    Examples
    --------
    >>> from analysis.claims.log import ClaimLog
    >>> look = Look({}, "", {"rr_any_low": 0.4, "rr_any": 0.9, "rr_any_high": 1.9, "n_labs": 11,
    ...                      "n_labs_worse": 0, "n_labs_noninferior": 9})
    >>> judge_second_look(ClaimLog("safety"), look)["verdict"].tolist()
    ['reproduced', 'inconclusive']
    """
    f = look.facts
    alpha = log.alpha
    lo = f.get("rr_any_low", np.nan)
    ok = lo is not None and np.isfinite(lo) and not f.get("single_arm")  # one arm: nothing to compare
    hi = f.get("rr_any_high", np.nan)
    verdict_ae = None if not ok else (False if lo > 1 else (True if np.isfinite(hi) and hi < 2 else None))
    judge_if_testable(
        log, "safety.second_look_ae_rate", verdict_ae,
        f"rate ratio MSCT/control {rate_ratio_text(f)}; {f.get('events_msct', 0)} vs {f.get('events_control', 0)} "
        "events",
        rule="reproduced if the exact 95% CI of the adverse-event rate ratio MSCT/control lies below 2 (a stated "
             "margin: no more than a doubled rate with MSCT); not reproduced if it lies above 1; inconclusive "
             "otherwise", testable=ok,
        why=f.get("ae_reason") or "no adverse events or no follow-up in an arm")
    n = f.get("n_labs", 0)
    worse, shown = f.get("n_labs_worse", 0), f.get("n_labs_noninferior", 0)
    holds = False if worse else True if n and shown == n else None
    judge_if_testable(
        log, "safety.second_look_labs_ancova", holds,
        f"at week {f.get('final_week')}, adjusted for week 0: {worse} of {n} labs worse with MSCT beyond their margin "
        f"({f.get('labs_worse', 'none')}); {shown} of {n} shown no worse than their margin (not shown: "
        f"{f.get('labs_not_shown', 'none')})",
        rule=f"ANCOVA MSCT − control of each lab, read in the direction that would mean harm (lower when the patients "
             "start below the middle of the normal range, higher otherwise); reproduced if for every lab the one-sided "
             f"{100 * (1 - alpha):.4g} % bound of the harm lies below the lab's margin (half a baseline SD: "
             "non-inferiority, intersection–union); not reproduced if some lab's harm lies wholly beyond its margin "
             f"(the {100 * (1 - alpha):.4g} % interval, Bonferroni over the labs); inconclusive otherwise. A difference "
             "towards the normal range is not an abnormality",
        testable=n > 0 and not f.get("single_arm"), why=f.get("ancova_reason") or "no lab could be analysed")
    return log.table(section="second_look")


# --------------------------------------------------------------------------------------------- headless
def evaluate(cohort, params: dict | None = None) -> pd.DataFrame:
    """The chapter's claims on ``cohort``: the notebook's steps and verdicts, without figures.

    Mirrors ``book/safety.ipynb`` up to its claims: the DAS28 variant as :func:`analysis.science.sections.das28_variant`
    resolves it, the weeks from the design (``response_week`` / ``final_week`` of ``params`` override it).

    The parameters are the notebook's defaults overridden by ``params``
    (:func:`analysis.core.notebooks.chapter_params`); the build's headless runs and the robustness runs call
    this (:mod:`analysis.scorecard.evaluate`).

    Returns
    -------
    pandas.DataFrame
        Every claim of the chapter once (:meth:`analysis.claims.log.ClaimLog.full_table`).
    """
    p = chapter_params("safety", params)
    alpha = p["alpha"]
    das28_variant = sections.das28_variant(cohort, p["das28_variant"])  # DAS28-CRP when the data have no ESR
    derived = derive_cached(cohort, das28_variant=das28_variant, response_week=p["response_week"],
                            final_week=p["final_week"])
    final_week = derived.design.final_week
    flow = trial_flow(derived.patients)
    labs = lab_changes(derived.visits, groups=["Non-responder", "Responder", "Control"], test=p["table1_test"],
                       alpha=alpha, before=0, after=final_week)
    ae_summary = adverse_event_summary(cohort.adverse_events, derived.patients, infusion_weeks=(0,))
    second = safety_section(derived, cohort.adverse_events, lab_tests=labs, alpha=alpha)
    claims = ClaimLog.for_chapter("safety", alpha)
    judge_second_look(claims, second)
    judge_claims(claims, derived, design=derived.design, ae_summary=ae_summary, flow=flow)
    return claims.full_table()
