"""The disease-activity chapter's second look: mixed models over all visits, and time to relapse.

The paper tests each visit on its own and counts relapse at one visit. Here DAS28 and HAQ-DI are modelled over
all visits (:func:`analysis.science.methods.mixed.mixed_models`: group × week, a random intercept per patient
and a random slope where it converges), the model's contrasts set beside the chapter's per-visit tests, and the
time to relapse among responders (by the chapter's rule,
:func:`~analysis.chapters.disease_activity.analysis.relapse_checks`) is a Kaplan–Meier curve
(:mod:`analysis.science.methods.survival`). :func:`activity_section` returns a
:class:`~analysis.science.methods.look.Look`; :func:`figure_km` draws the curve (the marginal means are drawn
by :func:`analysis.science.methods.mixed.figure_marginal_means`); :func:`glue_values` gives the prose its
numbers. The claims are judged by :func:`analysis.chapters.disease_activity.verdicts.judge_second_look`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.chapters.disease_activity.analysis import relapse_checks, relapse_not_evaluable
from analysis.claims.rules import format_p
from analysis.science.methods.look import Look, fmt, placeholder, reading, styled
from analysis.science.methods.mixed import beside_per_visit, mixed_models
from analysis.science.methods.survival import kaplan_meier, km_at, relapse_times

__all__ = ["activity_section", "figure_km", "glue_values"]


def activity_section(derived, *, outcomes: Sequence[str] = ("das28", "haq_di"), relapse_das28_rise: float = 0.6,
                     relapse_require_labs: bool = True, checks: pd.DataFrame | None = None,
                     pairwise: pd.DataFrame | None = None, random: str = "auto", confidence: float = 0.95,
                     alpha: float = 0.05) -> Look:
    """The disease-activity second look: mixed models for DAS28 and HAQ, and time to relapse.

    Parameters
    ----------
    derived : Derived
        :func:`analysis.science.derive.derive` output (its ``design`` gives the weeks).
    outcomes : sequence of str
    relapse_das28_rise, relapse_require_labs
        The chapter's relapse rule (:func:`analysis.chapters.disease_activity.analysis.relapse_checks`), applied
        to every observed visit after the design's response week.
    checks : DataFrame, optional
        Relapse checks computed elsewhere (overrides the two rule parameters).
    pairwise : DataFrame, optional
        The chapter's per-visit pairwise tests, set beside the model's contrasts.
    random : {"auto", "slope", "intercept"}
        Random effects (see :func:`analysis.science.methods.mixed.mixed_model`).
    confidence, alpha : float
        Confidence level of the intervals; significance level of the counts in ``facts``.

    Returns
    -------
    Look
        Tables ``mixed_tests``, ``marginal_means``, ``contrasts``, ``beside_per_visit``, ``relapse_times``,
        ``km``; facts for the page and :func:`analysis.chapters.disease_activity.verdicts.judge_second_look`.
        ``reason`` is set when neither part could run;
        ``facts["mixed_reason"]`` / ``facts["km_reason"]`` say why a part is missing.

    Examples
    --------
    >>> from analysis.science.derive import derive
    >>> from analysis.science.methods.look import demo_cohort
    >>> look = activity_section(derive(demo_cohort()))
    >>> sorted(look.tables)[:3], look.available
    (['beside_per_visit', 'contrasts', 'km'], True)
    """
    design = derived.design
    visits = derived.visits
    mm = mixed_models(visits, outcomes=outcomes, weeks=design.visit_weeks, random=random, confidence=confidence)
    tables = {"mixed_tests": mm["test"], "marginal_means": mm["means"], "contrasts": mm["contrasts"],
              "beside_per_visit": beside_per_visit(mm["contrasts"], pairwise)}
    facts: dict = {"mixed_reason": mm.reason, "weeks": design.describe_weeks(),
                   "response_week": design.response_week, "relapse_week": design.relapse_week}
    # the model's Responder − Control contrast at each visit against the per-visit tests
    between = tables["beside_per_visit"]
    rc = between.loc[(between["outcome"] == outcomes[0]) & (between["contrast"] == "Responder − Control")] \
        if len(between) else between
    facts["n_visits"] = int(len(rc))
    facts["n_visits_model_sig"] = int((rc["p_model"] < alpha).sum()) if len(rc) else 0
    facts["n_visits_per_visit_sig"] = (int((rc["p_per_visit_bonf"] < alpha).sum())
                                       if len(rc) and "p_per_visit_bonf" in rc.columns else None)
    test = mm["test"].set_index("outcome")
    for dv in outcomes:
        row = test.loc[dv] if dv in test.index else None
        facts[f"p_{dv}"] = float(row["p_lr"]) if row is not None and np.isfinite(row["p_lr"]) else np.nan
        facts[f"random_{dv}"] = row["random"] if row is not None and isinstance(row["random"], str) else "n/a"
        # why this outcome's model gave no p (its test row's note), for the claim's "not testable" reason
        note = row["note"] if row is not None and "note" in test.columns else None
        facts[f"reason_{dv}"] = (note if isinstance(note, str) and note and not np.isfinite(facts[f"p_{dv}"])
                                 else ("" if row is not None else f"{dv}: not modelled"))
    # no responder: the models compare non-responders and controls only, which says nothing of the response group
    if "group" in visits.columns and not visits["group"].eq("Responder").any():
        facts["no_responders"] = True
        for dv in outcomes:
            facts[f"p_{dv}"] = np.nan
            facts[f"reason_{dv}"] = ("these data have no responders: the model compares only the non-responders and "
                                     "the controls")
    # time to relapse
    need = ["patient_id", "week", "group", "das28", "esr_mm_h", "crp_mg_l"]
    km_reason = ""
    if checks is None:
        if all(c in visits.columns for c in need):
            checks = relapse_checks(visits, reference_week=design.response_week,
                                    das28_rise=relapse_das28_rise, require_labs=relapse_require_labs)
        else:
            checks = pd.DataFrame(columns=["patient_id", "week", "evaluable", "relapse"])
            km_reason = f"the visits lack {[c for c in need if c not in visits.columns]}"
    times = relapse_times(checks, reference_week=design.response_week)
    if times.empty and not km_reason:
        km_reason = (relapse_not_evaluable(checks, reference_week=design.response_week,
                                           require_labs=relapse_require_labs)
                     or f"no responder has an evaluable visit after week {design.response_week}")
    elif len(times) < 2 and not km_reason:
        km_reason = "fewer than two responders can be followed for relapse"
        times = times.iloc[:0]
    km = kaplan_meier(times, confidence=confidence)
    tables["relapse_times"] = times
    tables["km"] = km
    facts["km_reason"] = km_reason
    facts["n_followed"] = int(len(times))
    facts["n_relapsed"] = int(times["event"].sum()) if len(times) else 0
    rw = design.relapse_week
    at = km_at(km, rw - design.response_week) if (len(km) and rw is not None) else None
    if at is not None:
        facts.update(cum_relapse=float(1 - at["survival"]), cum_relapse_low=float(1 - at["ci_high"]),
                     cum_relapse_high=float(1 - at["ci_low"]))
    else:
        facts.update(cum_relapse=np.nan, cum_relapse_low=np.nan, cum_relapse_high=np.nan)
    reason = "" if (not mm.reason or not km_reason) else f"{mm.reason}; {km_reason}"
    return Look(tables, reason, facts)


def glue_values(look: Look, *, alpha: float = 0.05) -> dict:
    """The numbers and words the chapter's second-look prose glues (``sl_*`` keys; plain str/int values).

    Every value has a fallback ("n/a", "cannot address"), so the prose reads correctly whatever the data show.

    Parameters
    ----------
    look : Look
        :func:`activity_section` output.
    alpha : float

    Returns
    -------
    dict
        Keys starting with ``sl_``.

    Examples
    --------
    >>> glue_values(Look({}, "", {"p_das28": 0.001, "p_haq_di": 0.2}))["sl_das28_reading"]
    'supports'
    >>> glue_values(Look({}, "no data", {}))["sl_cum_relapse_ci"]
    'n/a–n/a'
    """
    f = look.facts
    out: dict = {}
    out.update(sl_p_das28=format_p(f.get("p_das28")), sl_p_haq=format_p(f.get("p_haq_di")),
               sl_random_das28=str(f.get("random_das28", "n/a")), sl_random_haq=str(f.get("random_haq_di", "n/a")),
               sl_das28_reading=reading(f.get("p_das28"), alpha), sl_haq_reading=reading(f.get("p_haq_di"), alpha),
               sl_n_visits=int(f.get("n_visits", 0)), sl_n_visits_model_sig=int(f.get("n_visits_model_sig", 0)),
               sl_n_visits_per_visit_sig=("n/a" if f.get("n_visits_per_visit_sig") is None
                                          else int(f["n_visits_per_visit_sig"])),
               sl_weeks=str(f.get("weeks", "n/a")),
               sl_relapse_week=str(f.get("relapse_week") if f.get("relapse_week") is not None else "n/a"),
               sl_response_week=str(f.get("response_week", "n/a")),
               sl_cum_relapse=fmt(f.get("cum_relapse")),
               sl_cum_relapse_ci=f"{fmt(f.get('cum_relapse_low'))}–{fmt(f.get('cum_relapse_high'))}",
               sl_n_followed=int(f.get("n_followed", 0)), sl_n_relapsed=int(f.get("n_relapsed", 0)))
    out.update(sl_models_sentence=models_sentence(look, alpha=alpha), sl_haq_sentence=haq_sentence(look, alpha=alpha),
               sl_relapse_sentence=km_sentence(look))
    return out


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and bool(np.isfinite(x))


def models_sentence(look: Look, *, alpha: float = 0.05) -> str:
    """What the mixed models say, in sentences written for every case (an outcome not modelled is named).

    Examples
    --------
    >>> f = {"p_das28": 0.001, "random_das28": "intercept", "p_haq_di": float("nan"),
    ...      "reason_haq_di": "haq_di: not in these data", "n_visits": 3, "n_visits_model_sig": 2,
    ...      "n_visits_per_visit_sig": 1}
    >>> models_sentence(Look({}, "", f))
    "The model answers once, for all visits: group × week for DAS28 p = 0.001 (random effects: intercept); HAQ could not be modelled (haq_di: not in these data). For DAS28 visit by visit, the model's responder − control contrast is significant at 2 of 3 visits, the Bonferroni-corrected per-visit test at 1 (level alpha)."
    >>> models_sentence(Look({}, "no visits", {}))
    'The model could not be fitted for DAS28 (no visits).'
    >>> models_sentence(Look({}, "", {"no_responders": True, "p_das28": float("nan")}))[:60]
    'These data have no responders: the model compares only the n'
    """
    f = look.facts
    p_das, p_haq = f.get("p_das28"), f.get("p_haq_di")
    if f.get("no_responders"):
        return ("These data have no responders: the model compares only the non-responders and the controls, so it "
                "cannot test whether the response group's course differed.")
    if not _finite(p_das):
        return f"The model could not be fitted for DAS28 ({f.get('reason_das28') or look.reason or 'no estimate'})."
    text = (f"The model answers once, for all visits: group × week for DAS28 {format_p(p_das)} (random effects: "
            f"{f.get('random_das28')})")
    if _finite(p_haq):
        text += f", for HAQ {format_p(p_haq)} (random effects: {f.get('random_haq_di')})."
    else:
        text += f"; HAQ could not be modelled ({f.get('reason_haq_di') or look.reason or 'no estimate'})."
    n = int(f.get("n_visits", 0))
    if n:
        text += (f" For DAS28 visit by visit, the model's responder − control contrast is significant at "
                 f"{int(f.get('n_visits_model_sig', 0))} of {n} visits")
        if f.get("n_visits_per_visit_sig") is not None:
            text += f", the Bonferroni-corrected per-visit test at {int(f['n_visits_per_visit_sig'])}"
        text += " (level alpha)."
    return text


def haq_sentence(look: Look, *, alpha: float = 0.05) -> str:
    """The sentence on HAQ, which was not used to form the groups.

    Examples
    --------
    >>> haq_sentence(Look({}, "", {"p_haq_di": 0.2}))
    "HAQ was not used for the selection, and its test does not support the paper's conclusion."
    >>> haq_sentence(Look({}, "", {"reason_haq_di": "haq_di: not in these data"}))
    'HAQ, which was not used for the selection, could not be tested here (haq_di: not in these data).'
    """
    f = look.facts
    if _finite(f.get("p_haq_di")):
        return (f"HAQ was not used for the selection, and its test {reading(f['p_haq_di'], alpha)} the paper's "
                "conclusion.")
    return ("HAQ, which was not used for the selection, could not be tested here "
            f"({f.get('reason_haq_di') or look.reason or 'no estimate'}).")


def km_sentence(look: Look) -> str:
    """The sentence on the Kaplan–Meier curve of relapse, or why it could not be drawn.

    Examples
    --------
    >>> km_sentence(Look({}, "", {"cum_relapse": 0.1, "cum_relapse_low": 0.02, "cum_relapse_high": 0.4,
    ...                           "relapse_week": 24, "n_relapsed": 2, "n_followed": 20}))[:90]
    "The Kaplan–Meier curve replaces the paper's relapse count at one visit by a curve: by week"
    >>> km_sentence(Look({}, "", {"cum_relapse": 0.0, "cum_relapse_low": 0.0, "cum_relapse_high": 0.0,
    ...                           "relapse_week": 26, "n_relapsed": 0, "n_followed": 4}))[83:]
    'no relapse was seen among 4 responders followed, so the curve stays at 100% relapse-free through week 26 and its confidence interval collapses to that point: with no relapse seen, it says nothing of how rare relapses are.'
    >>> km_sentence(Look({}, "", {"km_reason": "no responder was seen at week 12 and at week 24"}))
    'The Kaplan–Meier curve of relapse could not be drawn because no responder was seen at week 12 and at week 24.'
    """
    f = look.facts
    c = f.get("cum_relapse")
    n_rel, n_fol = int(f.get("n_relapsed", 0)), int(f.get("n_followed", 0))
    if _finite(c) and f.get("relapse_week") is not None and n_rel == 0:
        return (f"The Kaplan–Meier curve replaces the paper's relapse count at one visit by a curve: no relapse was "
                f"seen among {n_fol} responder{'s' if n_fol != 1 else ''} followed, so the curve stays at 100% "
                f"relapse-free through week {f['relapse_week']} and its confidence interval collapses to that point: "
                "with no relapse seen, it says nothing of how rare relapses are.")
    if _finite(c) and f.get("relapse_week") is not None:
        return (f"The Kaplan–Meier curve replaces the paper's relapse count at one visit by a curve: by week "
                f"{f['relapse_week']} an estimated {fmt(c)} of responders had relapsed (95% CI "
                f"{fmt(f.get('cum_relapse_low'))}–{fmt(f.get('cum_relapse_high'))}; {n_rel} "
                f"relapse{'s' if n_rel != 1 else ''} among {n_fol} responders followed), and the width of that interval "
                "shows how loosely a handful of relapses pins a percentage down.")
    why = f.get("km_reason") or ("this design has no relapse week" if f.get("relapse_week") is None
                                 else "no estimate at the relapse week")
    return f"The Kaplan–Meier curve of relapse could not be drawn because {why}."


# =========================================================================== figures
@styled
def figure_km(km: pd.DataFrame, *, reference_week: int, relapse_week: int | None = None):
    """Kaplan–Meier curve of relapse-free responders with its CI band (returns the Figure).

    Examples
    --------
    >>> km = pd.DataFrame({"time": [0.0, 12.0], "survival": [1.0, 0.9], "ci_low": [1.0, 0.7], "ci_high": [1.0, 0.98],
    ...                    "at_risk": [10.0, 10.0], "events": [0.0, 1.0], "censored": [0.0, 0.0]})
    >>> figure_km(km, reference_week=12, relapse_week=24).axes[0].get_xlabel()
    'weeks after week 12'
    """
    import matplotlib.pyplot as plt

    from analysis.science import figures
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    if km.empty:
        placeholder(ax, "Relapse: not available with these data")
        return fig
    col = figures.color_for("Responder")
    ax.step(km["time"], km["survival"], where="post", color=col, label="relapse-free (Kaplan–Meier)")
    ax.fill_between(km["time"].astype(float), km["ci_low"].astype(float), km["ci_high"].astype(float), step="post",
                    color=col, alpha=0.2, linewidth=0, label="95% CI")
    if relapse_week is not None:
        ax.axvline(relapse_week - reference_week, color="0.4", linestyle="--", linewidth=1)
        ax.text(relapse_week - reference_week, 0.02, f" week {relapse_week}", color="0.3", va="bottom")
    ax.set(xlabel=f"weeks after week {reference_week}", ylabel="share of responders relapse-free", ylim=(0, 1.05))
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig
