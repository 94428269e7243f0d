"""The IFN-γ chapter's verdicts: its claims of the paper, its second look's claims, and a headless run.

* :func:`judge_claims` — every claim of ``data/published/claims/ifng.csv`` outside a section (high IFN-γ in
  responders, the subgroups before/after the rise, the correlations, prediction by baseline IFN-γ, the
  qualitative claims of :func:`~analysis.chapters.ifng.analysis.qualitative_verdicts`);
* :func:`judge_second_look` — the claims of "A second look" (baseline prediction, cross-validated AUC);
* :func:`evaluate` — the notebook's steps and both judgements on a cohort, without the notebook.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.chapters.ifng.analysis import (
    MARKERS,
    diagnostic_summary,
    first_significant,
    format_auc,
    ifng_profile,
    infections_in_window,
    qualitative_verdicts,
    roc_summary,
    share_above,
    subgroup_counts,
    subgroup_tests,
    transient_summary,
)
from analysis.chapters.ifng.second_look import ifng_section
from analysis.claims.log import ClaimLog
from analysis.core.notebooks import chapter_params
from analysis.science import sections
from analysis.science.derive import derive_cached
from analysis.science.tables import rows_by
from analysis.science.methods.look import Look, fmt, judge_if_testable, judge_test

__all__ = ["evaluate", "judge_claims", "judge_second_look"]


# --------------------------------------------------------------------------------------------- the paper's claims
def _first_values(visits: pd.DataFrame, profile: pd.DataFrame, marker: str) -> dict[tuple, float]:
    """(patient, week) -> the patient's first non-missing ``marker`` value at that visit (what a pivot table with
    aggfunc="first" holds), for the patients of ``profile``."""
    y = pd.to_numeric(visits[marker], errors="coerce").to_numpy(float)
    ids, wk = visits["patient_id"].to_numpy(object), visits["week"].to_numpy()
    known = visits["patient_id"].isin(profile["patient_id"]).to_numpy(bool) & ~np.isnan(y) & pd.notna(ids) & pd.notna(wk)
    at = np.flatnonzero(known)
    if not at.size:
        return {}
    ids, week, y = ids[at], wk[at].astype(float).astype(np.int64), y[at]  # int(week), as the key has it
    # each (patient, week)'s first row: one key per pair, its first occurrence
    patient, _ = pd.factorize(ids)
    _, first = np.unique(patient * (int(week.max() - week.min()) + 1) + (week - week.min()), return_index=True)
    return dict(zip(zip(ids[first].tolist(), week[first].tolist()), y[first].tolist()))


def _with_rise(profile: pd.DataFrame, subgroup: str) -> list[tuple]:
    """(patient_id, rise week) of the patients of ``subgroup`` with a rise week, in the profile's order."""
    rise = profile["rise_week"].to_numpy()
    keep = (profile["subgroup"].to_numpy(object) == subgroup) & pd.notna(rise)
    return list(zip(profile["patient_id"].to_numpy(object)[keep], rise[keep]))


def _steps_after_rise(visits: pd.DataFrame, profile: pd.DataFrame, marker: str, weeks, lags=(2, 3)):
    """Per subgroup and lag, each patient's change of ``marker`` from the previous visit to the visit ``lag``
    weeks after the patient's IFN-γ rise (Fig. 5b–e: each visit versus the previous one)."""
    weeks = sorted(int(w) for w in weeks)
    # a patient with no value at all, or a visit nobody has a value at, is not in that table and is skipped
    value = _first_values(visits, profile, marker)
    measured_patients, measured_weeks = {pid for pid, _ in value}, {week for _, week in value}
    items = []
    for sg in ("Before", "After"):
        sub = _with_rise(profile, sg)
        for lag in lags:
            ch = []
            for pid, rise in sub:
                target = int(rise) + lag
                if target not in weeks or weeks.index(target) == 0 or pid not in measured_patients:
                    continue
                prev = weeks[weeks.index(target) - 1]
                if target in measured_weeks and prev in measured_weeks:
                    ch.append(value.get((pid, target), np.nan) - value.get((pid, prev), np.nan))
            items.append((f"{sg}, {lag} weeks after the rise", np.asarray(ch, dtype=float)))
    return items


def _changes_from_pre_rise(visits: pd.DataFrame, profile: pd.DataFrame, marker: str, weeks, lags=(2, 3)):
    """Per subgroup and lag, each patient's change of ``marker`` from its level before the IFN-γ rise to the visit
    ``lag`` weeks after the rise.

    The level before the rise is the patient's value at the last visit before its rise week; a rise already
    present at week 0 (the Before subgroup: high IFN-γ before MSCT) has no earlier visit, and week 0 is used.
    A patient without a value at either visit, or whose rise plus ``lag`` is not a visit, is left out.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["a"] * 4 + ["b"] * 4, "week": [0, 1, 3, 4] * 2,
    ...                   "x": [1.0, 1.0, 2.0, 5.0, 2.0, 2.5, 3.0, 3.0]})
    >>> prof = pd.DataFrame({"patient_id": ["a", "b"], "subgroup": ["After", "Before"], "rise_week": [1.0, 0.0]})
    >>> [(lab, ch.tolist()) for lab, ch in _changes_from_pre_rise(v, prof, "x", [0, 1, 3, 4])]
    [('Before, 2 weeks after the rise', []), ('Before, 3 weeks after the rise', [1.0]), \
('After, 2 weeks after the rise', [1.0]), ('After, 3 weeks after the rise', [4.0])]
    """
    weeks = sorted(int(w) for w in weeks)
    value = _first_values(visits, profile, marker)
    items = []
    for sg in ("Before", "After"):
        sub = _with_rise(profile, sg)
        for lag in lags:
            ch = []
            for pid, rise in sub:
                rise = int(rise)
                earlier = [w for w in weeks if w < rise]
                pre = earlier[-1] if earlier else weeks[0]
                target = rise + lag
                if target in weeks and (pid, pre) in value and (pid, target) in value:
                    ch.append(value[(pid, target)] - value[(pid, pre)])
            items.append((f"{sg}, {lag} weeks after the rise", np.asarray(ch, dtype=float)))
    return items


def judge_claims(log, derived, *, profile: pd.DataFrame, design=None, threshold: float = 2.0,
                 qualitative: pd.DataFrame | None = None, roc: pd.DataFrame | None = None) -> pd.DataFrame:
    """Judge every claim of the IFN-γ chapter on a :class:`analysis.claims.log.ClaimLog`.

    Parameters
    ----------
    log : ClaimLog
        The chapter's log (``page.claims``).
    derived : Derived
        ``derive(cohort)``.
    profile : DataFrame
        :func:`~analysis.chapters.ifng.analysis.ifng_profile` (its window is the design's early window, the
        paper's "4 weeks after").
    design : Design, optional
        Default ``derived.design``.
    threshold : float
        High IFN-γ, pg/mL (the paper: 2).
    qualitative : DataFrame, optional
        :func:`~analysis.chapters.ifng.analysis.qualitative_verdicts` (transient, infection, rapid efficacy,
        lag, precedence claims).
    roc : DataFrame, optional
        :func:`~analysis.chapters.ifng.analysis.roc_summary`'s summary (rows ``ifng_baseline`` and
        ``ifng_peak_window``).

    Returns
    -------
    DataFrame
        ``log.table()`` after judging.

    Notes
    -----
    "Rapid efficacy" in the Before subgroup: its Treg/Th17 ratio rises from baseline at some visit of the
    early window (intervals, Bonferroni over those visits). "Generally high" in responders: the Wilson
    interval of the share above the threshold lies above 1/2;
    "remained low" in non-responders: their share above the threshold is lower than the responders' (Newcombe
    interval of the difference below 0). Peak difference: Welch interval. Fig. 5b (the ratio, "significant"
    versus the previous visit): in the Before and After subgroups, each patient's change from the previous
    visit to the visits 2 and 3 weeks after the patient's rise; Fig. 5c–e (IL-10, IL-6, TNF-α, "the same
    trend"): the change from the level before the rise to those visits; Bonferroni over the four intervals.
    ΔDAS28–ΔIFN-γ: within the responders only (the paper gives the non-responders no rise, and the groups
    are defined by ΔDAS28), "closely" = r ≤ −0.5 with the Fisher interval below 0; the non-responders' and
    the pooled r are shown, not counted. Prediction: judged on baseline IFN-γ (measured before the response window; AUC interval
    above 0.5); the week 0–4 peak lies inside the window that defines response and is reported as
    circular, not counted.

    Examples
    --------
    >>> from analysis.claims.log import ClaimLog
    >>> from analysis.science.derive import derive
    >>> from analysis.intake.io import load
    >>> from analysis.core.paths import default_data_dir
    >>> d = derive(load(default_data_dir()))
    >>> from analysis.chapters.ifng.analysis import ifng_profile
    >>> prof = ifng_profile(d.visits)
    >>> log = ClaimLog("ifng")
    >>> t = judge_claims(log, d, profile=prof)
    >>> len(log.missing(section=""))
    0
    """
    from analysis.claims.rules import judge_inputs

    design, visits = judge_inputs(derived, design)
    resp_w = design.paper_week(12)
    win = design.early_window_weeks
    if log.missing_columns("ifng.high_in_responders", visits, ["ifn_g"]):
        for cid in log.missing():
            log.missing_columns(cid, visits, ["ifn_g"])
        return log.table()
    is_resp = profile["group"].eq("Responder").to_numpy(bool)
    is_non = profile["group"].eq("Non-responder").to_numpy(bool)
    resp, non = profile.loc[is_resp], profile.loc[is_non]
    peak = profile["ifng_peak_window"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        high = peak > threshold
    # responders and non-responders with a peak, and of them above the threshold
    n_resp, n_non = int(np.sum(is_resp & ~np.isnan(peak))), int(np.sum(is_non & ~np.isnan(peak)))
    k_resp, k_non = int(np.sum(is_resp & high)), int(np.sum(is_non & high))
    log.check_share("ifng.high_in_responders", k_resp, n_resp,
                    above=0.5, what=f"of responders with peak IFN-γ (weeks 0–{win}) > {threshold:g} pg/mL")
    # "remained low in the no-response group": compared with the responders, whose IFN-γ rose
    from analysis.claims.rules import newcombe_ci

    d, lo, hi = newcombe_ci(k_non, n_non, k_resp, n_resp, 1 - log.alpha)
    log.check_ci("ifng.low_in_nonresponders", estimate=d, low=lo, high=hi, expected="decrease",
                 detail=f"share above {threshold:g} pg/mL at any visit of weeks 0–{win}: non-responders "
                        f"{f'{k_non}/{n_non}' if n_non else 'none'} − responders "
                        f"{f'{k_resp}/{n_resp}' if n_resp else 'none'} (Newcombe interval)")
    log.check_difference("ifng.peak_higher_responders", resp["ifng_peak_window"], non["ifng_peak_window"],
                         detail=f"peak IFN-γ weeks 0–{win}, responders − non-responders (pg/mL)")
    counts = resp["subgroup"].value_counts()
    log.check_count("ifng.before_subgroup_n", int(counts.get("Before", 0)))
    log.check_count("ifng.after_subgroup_n", int(counts.get("After", 0)))
    # Fig. 5b: the ratio "significantly" up versus the previous visit, as the paper tests it
    if not log.missing_columns("ifng.ratio_rise_after_ifng", visits, ["treg_th17_ratio"]):
        log.check_changes("ifng.ratio_rise_after_ifng", _steps_after_rise(visits, resp, "treg_th17_ratio",
                                                                          design.visit_weeks),
                          expected="increase", what="Before and After subgroups × 2 and 3 weeks after each "
                                                    "patient's rise, versus the previous visit")
    # Fig. 5c–e: "the same trend, not always significant": the change 2–3 weeks after the rise, from the level
    # before it (one-week steps leave a handful of patients and ask about a step the paper does not test)
    for cid, marker, side in (("ifng.il10_rise_after_ifng", "il_10", "increase"),
                              ("ifng.il6_fall_after_ifng", "il_6", "decrease"),
                              ("ifng.tnfa_fall_after_ifng", "tnf_a", "decrease")):
        if log.missing_columns(cid, visits, [marker]):
            continue
        log.check_changes(cid, _changes_from_pre_rise(visits, resp, marker, design.visit_weeks), expected=side,
                          what="Before and After subgroups × 2 and 3 weeks after each patient's rise, versus the "
                               "level before the rise (week 0 for a rise already present at week 0)")
    # rapid efficacy in the Before subgroup: the ratio's change from baseline at the early visits (Bonferroni)
    cid = "ifng.rapid_efficacy_before"
    early = [w for w in design.early_weeks if w > 0]
    before_ids = resp.loc[resp["subgroup"].eq("Before"), "patient_id"]
    if not early:
        log.not_in_design(cid, 4, design)
    elif not log.missing_columns(cid, visits, ["treg_th17_ratio"]):
        from analysis.claims.rules import paired_changes

        log.check_changes(cid, [(f"week {w}", paired_changes(visits, "treg_th17_ratio", after=w, patients=before_ids))
                                for w in early], expected="increase",
                          what=f"Before subgroup's Treg/Th17 ratio change from baseline at weeks {', '.join(map(str, early))}")
    # ΔDAS28 vs ΔIFN-γ, within groups
    if resp_w is None:
        log.not_in_design("ifng.delta_das28_related", 12, design)
    else:
        # within the responders only: the paper gives the non-responders no IFN-γ rise to relate to
        def pair(g):
            one = resp if g == "Responder" else non
            return one["das28_change_12"], one["delta_ifng"]

        log.check_correlations("ifng.delta_das28_related", [("responders", *pair("Responder"))],
                               expected="decrease", strength=0.5)
        notes = []
        x, y = (pd.to_numeric(s_, errors="coerce") for s_ in pair("Non-responder"))
        ok = x.notna() & y.notna()
        if ok.sum() > 3 and x[ok].std() > 0 and y[ok].std() > 0:
            notes.append(f"non-responders r = {float(x[ok].corr(y[ok])):.2f}")
        pooled = profile[["das28_change_12", "delta_ifng"]].dropna()
        if len(pooled) > 3 and (pooled.std() > 0).all():  # r is undefined when either change is constant
            notes.append(f"pooled r = {float(pooled['das28_change_12'].corr(pooled['delta_ifng'])):.2f} across "
                         "groups that ΔDAS28 defines")
        if notes:
            log.annotate("ifng.delta_das28_related", note="; ".join(notes) + " (shown, not counted)")
    # prediction
    rule = ("reproduced if the 95% bootstrap CI of the AUC of baseline IFN-γ (measured before the response window) "
            "lies above 0.5; not reproduced if it lies below or at 0.5 entirely; inconclusive otherwise. The week "
            f"0–{win} peak lies inside the window that defines response: circular, shown but not counted")
    r = rows_by(roc, "score") if roc is not None and len(roc) else None
    if r is None or "ifng_baseline" not in r or pd.isna(r["ifng_baseline"]["auc"]):
        log.not_testable("ifng.predicts_response", "the AUC of baseline IFN-γ could not be computed")
    else:
        b = r["ifng_baseline"]
        text = f"baseline: {format_auc(b)}"
        if "ifng_peak_window" in r and pd.notna(r["ifng_peak_window"]["auc"]):
            text += f"; circular, not counted: peak weeks 0–{win}: {format_auc(r['ifng_peak_window'])}"
        lo, hi = b["ci_low"], b["ci_high"]
        holds = None if pd.isna(lo) else True if lo > 0.5 else False if hi <= 0.5 else None
        log.check_true("ifng.predicts_response", holds, text, rule=rule)
    # claims about markers these data lack are not testable, naming them (not "not reproduced" on empty tests)
    for cid, cols in (("ifng.lag_2_3_weeks", ["treg_pct", "th17_pct", "il_10", "il_6"]),
                      ("ifng.precedes_improvement", ["treg_pct", "th17_pct", "il_10"])):
        why = sections.reason("ifng.markers", derived, columns=cols)
        if why and log.has_claim(cid) and not log.judged(cid):
            log.not_testable(cid, why)
    # chapter's qualitative rules
    q_rows = [] if qualitative is None else list(zip(*(qualitative[c].tolist() for c in (
        "claim_id", "testable", "holds", "reproduced", "rule"))))
    handled = {cid for cid, *_ in q_rows if log.judged(cid)}
    for cid, testable, holds, reproduced, rule in q_rows:
        if cid in handled or not log.has_claim(cid):
            continue
        if testable:
            log.check_true(cid, holds, reproduced, rule=rule)
        else:
            log.not_testable(cid, rule)
    for cid in ("ifng.transient_increase", "ifng.unrelated_to_infection", "ifng.rapid_efficacy_before",
                "ifng.lag_2_3_weeks", "ifng.precedes_improvement"):
        if not log.judged(cid):
            log.not_testable(cid, "the chapter's qualitative rules were not supplied")
    log.not_testable("ifng.ido_in_vitro", "an in vitro experiment on MSCs; no such data in the cohort")
    prec = log.verdict("ifng.precedes_improvement")
    log.not_testable("ifng.inflammation_before_effect",
                     "an interpretation of the order of events; the order itself is ifng.precedes_improvement "
                     f"({prec or 'not judged'})")
    return log.table()


# --------------------------------------------------------------------------------------------- the second look
def judge_second_look(log, look: Look) -> pd.DataFrame:
    """Judge the claims of the chapter's second look (section ``second_look``) from its facts.

    The claims live in ``data/published/claims/ifng.csv`` (``section`` = ``second_look``) and are recorded in
    ``log`` (the page's claim log, so they enter ``claims.csv`` and the scorecard).

    * ``ifng.second_look_baseline_predicts``: baseline IFN-γ adds to the clinical covariates: reproduced if
      the likelihood-ratio test has p < alpha, inconclusive otherwise
      (:func:`analysis.science.methods.look.judge_test`);
    * ``ifng.second_look_cv_auc``: reproduced if the cross-validated AUC of baseline IFN-γ + clinical
      covariates is at least 0.7 (acceptable discrimination).

    Parameters
    ----------
    log : analysis.claims.log.ClaimLog
        The page's log (``page.claims``); its ``alpha`` is used.
    look : Look
        :func:`analysis.chapters.ifng.second_look.ifng_section` output.

    Returns
    -------
    DataFrame
        The judged second-look claims (``log.table(section="second_look")``).

    Examples
    --------
    >>> from analysis.claims.log import ClaimLog
    >>> look = Look({}, "", {"p_lr_ifng": 0.01, "cv_auc_full": 0.62})
    >>> judge_second_look(ClaimLog("ifng"), look)["verdict"].tolist()
    ['reproduced', 'not reproduced']
    """
    f = look.facts
    judge_test(log, "ifng.second_look_baseline_predicts", f.get("p_lr_ifng"),
               f"likelihood-ratio test of log baseline IFN-γ added to {f.get('covariates', 'the covariates')}",
               reason=look.reason or f.get("lr_reason", ""))
    cv = f.get("cv_auc_full", np.nan)
    ok = cv is not None and np.isfinite(cv)
    judge_if_testable(
        log, "ifng.second_look_cv_auc", ok and cv >= 0.7,
        f"cross-validated AUC {fmt(cv)} (clinical covariates only: {fmt(f.get('cv_auc_clinical'))}; "
        f"circular peak in window: {fmt(f.get('cv_auc_peak'))})",
        rule="reproduced if the cross-validated AUC of baseline IFN-γ + clinical covariates is at least 0.7 "
             "(acceptable discrimination)", testable=ok, why=look.reason or "the model could not be fitted")
    return log.table(section="second_look")


# --------------------------------------------------------------------------------------------- headless
def evaluate(cohort, params: dict | None = None) -> pd.DataFrame:
    """The chapter's claims on ``cohort``: the notebook's steps and verdicts, without figures.

    Mirrors ``book/ifng.ipynb`` up to its claims: the DAS28 variant as :func:`analysis.science.sections.das28_variant`
    resolves it; ``response_week``, ``final_week`` and ``window_weeks`` (the early window) of ``params``
    override the design's, ``None`` keeps them; the subgroup tests run on the figure's weeks (the early
    window and the response week).

    The parameters are the notebook's defaults overridden by ``params``
    (:func:`analysis.core.notebooks.chapter_params`); the build's headless runs and the robustness runs call
    this (:mod:`analysis.scorecard.evaluate`).

    Returns
    -------
    pandas.DataFrame
        Every claim of the chapter once (:meth:`analysis.claims.log.ClaimLog.full_table`).
    """
    p = chapter_params("ifng", params)
    alpha, thr = p["alpha"], p["ifng_threshold_pg_ml"]
    das28_variant = sections.das28_variant(cohort, p["das28_variant"])  # DAS28-CRP when the data have no ESR
    derived = derive_cached(cohort, das28_variant=das28_variant, lloq_rule=p["lloq_rule"],
                            response_week=p["response_week"], final_week=p["final_week"],
                            early_window_weeks=p["window_weeks"])
    design = derived.design
    response_week, window_weeks = design.response_week, design.early_window_weeks
    profile = ifng_profile(derived.visits, threshold=thr, window_weeks=window_weeks, response_week=response_week)
    share = share_above(profile)
    counts = subgroup_counts(profile)
    sub_n = {k: int(v) for k, v in zip(counts["subgroup"], counts["n"])}
    fig_weeks = sorted(set(design.early_weeks) | {response_week})  # the paper's Fig. 5b-e: weeks 0-4 and 12
    markers = list(MARKERS) + ["das28"]
    tests_prev = subgroup_tests(derived.visits, profile, markers=markers, reference="previous", alpha=alpha,
                                weeks=fig_weeks)
    tests_base = subgroup_tests(derived.visits, profile, markers=markers, reference="baseline", alpha=alpha,
                                weeks=fig_weeks)
    first_sig = pd.concat([first_significant(tests_prev, profile), first_significant(tests_base, profile)],
                          ignore_index=True)
    _, diag = diagnostic_summary(profile, score="ifng_peak_window", threshold=thr)
    _, roc = roc_summary(profile, n_boot=p["n_boot"], seed=p["seed"], paper_threshold=thr)
    second = ifng_section(derived, seed=p["seed"])
    claims = ClaimLog.for_chapter("ifng", alpha)
    judge_second_look(claims, second)
    infections = infections_in_window(cohort.adverse_events, profile, window_weeks=window_weeks)
    transient = transient_summary(profile, threshold=thr)
    qualitative = qualitative_verdicts(share=share, transient=transient, infections=infections, first_sig=first_sig,
                                       roc=roc, diagnostics=diag, subgroup_n=sub_n, alpha=alpha)
    judge_claims(claims, derived, profile=profile, design=design, threshold=thr, qualitative=qualitative,
                 roc=roc)
    return claims.full_table()
