"""The safety chapter's second look: adverse events per patient-year and the Table 1 labs by ANCOVA.

The paper counts adverse events and tests each lab before against after within each group. Here the events
become rates per patient-year with exact intervals and an MSCT/control rate ratio
(:func:`analysis.science.methods.rates.ae_rates`), and the labs are compared between arms at the final visit
adjusted for week 0 (:func:`analysis.science.methods.ancova.ancova_labs`), beside the chapter's t tests.
:func:`safety_section` returns a :class:`~analysis.science.methods.look.Look`; :func:`figure_ae_rates` and
:func:`figure_ancova` draw it; :func:`glue_values` gives the prose its numbers. The claims are judged by
:func:`analysis.chapters.safety.verdicts.judge_second_look`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.chapters.safety.analysis import classify_events, safety_labs
from analysis.science.methods.ancova import ancova_labs, beside_t_tests
from analysis.science.methods.look import Look, fmt, placeholder, styled, unavailable
from analysis.science.methods.rates import ae_rates

__all__ = ["changes_sentence", "figure_ae_rates", "figure_ancova", "glue_values", "labs_noninferiority", "labs_sentence",
           "rate_ratio_text",
           "safety_section", "single_arm"]


def safety_section(derived, adverse_events: pd.DataFrame | None, *, lab_tests: pd.DataFrame | None = None,
                   confidence: float = 0.95, alpha: float = 0.05) -> Look:
    """The safety second look: adverse-event rates per patient-year and the Table 1 labs by ANCOVA (by arm).

    Parameters
    ----------
    derived : Derived
        Its design gives the visits (week 0 and the final week).
    adverse_events : DataFrame or None
        ``cohort.adverse_events`` (classified by :func:`~analysis.chapters.safety.analysis.classify_events` for
        the rates of infusion reactions and infections).
    lab_tests : DataFrame, optional
        The chapter's before/after tests, set beside the ANCOVA.

    Returns
    -------
    Look
        Tables ``ae_rates``, ``ae_ratios``, ``ancova``, ``beside_t_tests``, ``labs_noninferiority``
        (:func:`labs_noninferiority`); facts for the page and
        :func:`analysis.chapters.safety.verdicts.judge_second_look`.
        ``reason`` names the part(s) that could not be computed (the other part is still in the tables).

    Examples
    --------
    >>> from analysis.science.derive import derive
    >>> from analysis.science.methods.look import demo_cohort
    >>> c = demo_cohort()
    >>> look = safety_section(derive(c), c.adverse_events)
    >>> look.tables["ae_rates"]["arm"].unique().tolist()
    ['MSCT', 'control']
    """
    design = derived.design
    patients = derived.patients
    classified = adverse_events is not None and len(adverse_events) > 0
    events = classify_events(adverse_events) if classified else adverse_events  # categories of the rates
    rates, ratios = ae_rates(events, patients, confidence=confidence)
    anc = ancova_labs(derived.visits, before=0, after=design.final_week, labs=safety_labs(), confidence=confidence)
    facts: dict = {"final_week": design.final_week}
    any_ae = ratios.set_index("measure").loc["any adverse event"]
    facts.update(rr_any=float(any_ae["rate_ratio"]), rr_any_low=float(any_ae["ci_low"]),
                 rr_any_high=float(any_ae["ci_high"]), p_rr_any=float(any_ae["p"]),
                 events_msct=int(any_ae["events_msct"]), events_control=int(any_ae["events_control"]))
    by_measure = ratios.set_index("measure")
    if "serious adverse event" in by_measure.index:  # the serious events in both arms, for the page's sentence
        sae = by_measure.loc["serious adverse event"]
        facts["serious_events"] = int(sae["events_msct"]) + int(sae["events_control"])
    tested = anc.drop_duplicates("lab")
    worse = labs_noninferiority(anc, derived.visits, before=0, alpha=alpha)
    facts["n_labs_worse"] = int(worse["worse"].sum())
    facts["labs_worse"] = ", ".join(worse.loc[worse["worse"], "label"].str.lower()) or "none"
    facts["n_labs_noninferior"] = int(worse["noninferior"].sum())
    facts["labs_not_shown"] = ", ".join(worse.loc[~worse["noninferior"], "label"].str.lower()) or "none"
    facts["n_labs"] = int(tested["p_group"].notna().sum())
    facts["n_labs_sig_holm"] = int((tested["p_holm"] < alpha).sum())
    facts["n_labs_sig_raw"] = int((tested["p_group"] < alpha).sum())
    facts["labs_sig_holm"] = ", ".join(tested.loc[tested["p_holm"] < alpha, "label"].str.lower()) or "none"
    py = rates.groupby("arm")["patient_years"].first()
    facts["py_msct"], facts["py_control"] = float(py.get("MSCT", 0.0)), float(py.get("control", 0.0))
    reasons = []
    if (rates["patient_years"] <= 0).all():
        reasons.append("no follow-up time in either arm")
    if facts["n_labs"] == 0:
        reasons.append(f"no lab has values at week 0 and week {design.final_week} in both arms")
    facts["ae_reason"] = reasons[0] if reasons and reasons[0].startswith("no follow-up") else ""
    facts["ancova_reason"] = reasons[-1] if reasons and reasons[-1].startswith("no lab") else ""
    one = single_arm(patients)
    if one:  # a single-arm trial: neither comparison exists, whatever else the data hold
        why = f"the data have only the {one} arm, and no other arm to compare it with"
        reasons = [why]
        facts.update(single_arm=one, ae_reason=why, ancova_reason=why)
    return Look({"ae_rates": rates, "ae_ratios": ratios, "ancova": anc, "beside_t_tests": beside_t_tests(anc, lab_tests),
                 "labs_noninferiority": worse}, "; ".join(reasons), facts)


def single_arm(patients: pd.DataFrame) -> str:
    """The one arm of a single-arm trial (``"MSCT"`` or ``"control"``), or ``""`` when the patients are in both.

    Parameters
    ----------
    patients : DataFrame
        ``derived.patients`` (column ``arm``).

    Returns
    -------
    str

    Examples
    --------
    >>> single_arm(pd.DataFrame({"arm": ["MSCT", "MSCT"]})), single_arm(pd.DataFrame({"arm": ["MSCT", "control"]}))
    ('MSCT', '')
    """
    arms = set(patients["arm"].astype(str)) & {"MSCT", "control"}
    return next(iter(arms)) if len(arms) == 1 else ""


def labs_noninferiority(ancova: pd.DataFrame, visits: pd.DataFrame, *, before: int = 0,
                        alpha: float = 0.05) -> pd.DataFrame:
    """Each lab's MSCT − control difference read in the direction that would mean harm.

    A lab is *worse* with MSCT when away from the middle of its normal range is where the patients start:
    lower is worse when the mean of all patients at ``before`` lies below the middle of the normal range
    (albumin, haemoglobin in RA), higher is worse otherwise (platelets, which inflammation raises). A
    difference in the other direction is an improvement, not an abnormality. The margin is the lab's
    equivalence margin (``data/published/margins.csv``: half the baseline SD of all patients). As in
    :meth:`analysis.claims.log.ClaimLog.check_equivalence_all`, a lab is *shown no worse* when the one-sided
    (1 − alpha) bound of its harm lies below the margin (each test at alpha, intersection–union), and *worse*
    when its harm lies wholly beyond the margin (the lower bound of the two-sided 1 − alpha/m interval, Bonferroni
    over the m labs): a worsening smaller than what matters is not an abnormality.

    Parameters
    ----------
    ancova : DataFrame
        :func:`analysis.science.methods.ancova.ancova_labs` by arm (contrast "MSCT − control").
    visits : DataFrame
        ``derived.visits`` (the labs at ``before``).
    before : int
        The baseline visit.
    alpha : float
        One-sided level of each non-inferiority test; two-sided, Bonferroni over the labs, for "worse".

    Returns
    -------
    DataFrame
        One row per fitted lab: ``lab``, ``label``, ``harm`` ("lower" or "higher"), ``margin``,
        ``harm_estimate`` (the difference signed so that positive is worse), ``harm_bound`` (its one-sided
        (1 − alpha) upper bound), ``harm_low`` (the lower bound at 1 − alpha/m), ``noninferior`` (``harm_bound``
        below the margin), ``worse`` (``harm_low`` above the margin).

    Examples
    --------
    >>> anc = pd.DataFrame({"lab": ["albumin_g_l"], "label": ["Albumin"], "contrast": ["MSCT − control"],
    ...                     "estimate": [-1.0], "se": [0.5], "n": [43], "p_holm": [0.051]})
    >>> v = pd.DataFrame({"week": [0, 0, 0], "albumin_g_l": [36.0, 38.0, 40.0]})
    >>> r = labs_noninferiority(anc, v).iloc[0]   # margin 0.5 × SD 2 = 1; bound −(−1) + 1.684 × 0.5
    >>> r["harm"], float(r["margin"]), round(float(r["harm_bound"]), 3), bool(r["noninferior"]), bool(r["worse"])
    ('lower', 1.0, 1.842, False, False)
    >>> bool(labs_noninferiority(anc.assign(estimate=-3.0), v).iloc[0]["worse"])  # 3 − 2.021 × 0.5 > 1
    True
    """
    from analysis.claims.registry import equivalence_margin
    from analysis.claims.rules import special

    cols = ["lab", "label", "harm", "margin", "harm_estimate", "harm_bound", "harm_low", "noninferior", "worse"]
    labs = safety_labs()
    normal = {lab: (low, high) for lab, low, high in zip(labs["lab"], labs["normal_low"].to_numpy(),
                                                         labs["normal_high"].to_numpy())}  # one row per lab
    fitted = ancova.loc[ancova["contrast"].eq("MSCT − control") & pd.to_numeric(ancova["se"], errors="coerce").notna()]
    at_base = (visits["week"] == before).to_numpy(dtype=bool, na_value=False)  # the baseline rows, not a copy
    fitted = fitted.drop_duplicates("lab").loc[lambda d: d["lab"].isin(list(normal)) & d["lab"].isin(visits.columns)]
    m = max(1, len(fitted))
    rows = []
    for r in fitted.itertuples():
        column = visits[r.lab]
        x = (column.to_numpy()[at_base] if column.dtype == np.float64
             else pd.to_numeric(column[at_base], errors="coerce").to_numpy(dtype=float, na_value=np.nan))
        x = x[~np.isnan(x)]
        low_normal, high_normal = normal[r.lab]
        middle = (low_normal + high_normal) / 2
        # the mean as pandas takes it (sum / count) of the values present
        harm = "lower" if (x.sum() / np.float64(x.size) if x.size else np.nan) < middle else "higher"
        sign = -1.0 if harm == "lower" else 1.0
        margin, _ = equivalence_margin(r.lab, x)
        est = sign * float(r.estimate)
        bound = est + float(special().stdtrit(int(r.n) - 3, 1 - alpha)) * float(r.se)
        low = est - float(special().stdtrit(int(r.n) - 3, 1 - alpha / (2 * m))) * float(r.se)
        rows.append(dict(lab=r.lab, label=r.label, harm=harm, margin=margin, harm_estimate=est, harm_bound=bound,
                         harm_low=low, noninferior=bool(bound < margin), worse=bool(low > margin)))
    return pd.DataFrame(rows, columns=cols)


def glue_values(look: Look, *, alpha: float = 0.05) -> dict:
    """The numbers and words the safety chapter's second-look prose glues (``sl_*`` keys; plain str/int values).

    Every value has a fallback ("n/a", "cannot address"), so the prose reads correctly whatever the data show.

    Parameters
    ----------
    look : Look
        :func:`safety_section` output.
    alpha : float

    Returns
    -------
    dict
        Keys starting with ``sl_``.

    Examples
    --------
    >>> glue_values(Look({}, "", {"rr_any_low": 0.5, "rr_any": 1.1, "rr_any_high": 2.4}))["sl_rr_ci"]
    '0.50–2.40'
    >>> glue_values(Look({}, "no data", {}))["sl_labs_reading"]
    'cannot address'
    """
    f = look.facts
    out: dict = {}
    lo = f.get("rr_any_low", np.nan)
    ae_reading = ("cannot address" if lo is None or not np.isfinite(lo) else
                  "the data do not show a higher rate with MSCT, but they cannot exclude one as large as the "
                  "upper limit" if lo <= 1 else "the data show a higher rate with MSCT")
    n_labs = int(f.get("n_labs", 0))
    out.update(sl_events_msct=int(f.get("events_msct", 0)), sl_events_control=int(f.get("events_control", 0)),
               sl_py_msct=fmt(f.get("py_msct"), 1), sl_py_control=fmt(f.get("py_control"), 1),
               sl_rr=fmt(f.get("rr_any")), sl_rr_ci=f"{fmt(lo)}–{fmt(f.get('rr_any_high'))}",
               sl_rr_text=rate_ratio_text(f),
               sl_ae_reading=ae_reading, sl_n_labs=n_labs, sl_n_labs_sig_holm=int(f.get("n_labs_sig_holm", 0)),
               sl_n_labs_sig_raw=int(f.get("n_labs_sig_raw", 0)),
               sl_labs_sig_holm=str(f.get("labs_sig_holm", "none")),
               sl_final_week=str(f.get("final_week", "n/a")),
               sl_n_labs_worse=int(f.get("n_labs_worse", 0)),
               sl_labs_worse=str(f.get("labs_worse", "none")),
               sl_n_labs_noninferior=int(f.get("n_labs_noninferior", 0)),
               sl_labs_not_shown=str(f.get("labs_not_shown", "none")),
               sl_labs_reading=("cannot address" if n_labs == 0 else
                                "weakens" if f.get("n_labs_worse", 0) else
                                "supports" if f.get("n_labs_noninferior", 0) == n_labs else
                                "neither supports nor weakens"))
    out["sl_changes_sentence"] = changes_sentence(look)
    out["sl_labs_sentence"] = labs_sentence(look)
    if f.get("single_arm"):  # the rates of one arm against nothing: the page leaves that paragraph out and says why
        out["sl_rr_text"] = unavailable(f.get("ae_reason", ""))
    return out


def rate_ratio_text(facts: dict) -> str:
    """The adverse-event rate ratio MSCT/control with its exact 95% CI, in words when it has no number.

    Parameters
    ----------
    facts : dict
        A :class:`Look`'s facts: ``rr_any``, ``rr_any_low``, ``rr_any_high``, ``events_msct``, ``events_control``
        and ``ae_reason``.

    Returns
    -------
    str
        The ratio and its interval, e.g. ``"1.10 (exact 95% CI 0.50–2.40)"``; a sentence part saying why there is
        no ratio, or no upper limit, otherwise.

    Examples
    --------
    >>> rate_ratio_text({"rr_any": 1.1, "rr_any_low": 0.5, "rr_any_high": 2.4})
    '1.10 (exact 95% CI 0.50–2.40)'
    >>> rate_ratio_text({"rr_any": float("inf"), "rr_any_low": 0.125, "rr_any_high": float("inf"),
    ...                  "events_msct": 2, "events_control": 0})
    'not defined, as the control arm has no adverse event (exact 95% CI from 0.12, with no upper limit)'
    >>> rate_ratio_text({"rr_any": float("nan"), "events_msct": 0, "events_control": 0})
    'not defined: no adverse event in either arm'
    """
    def finite(x) -> bool:
        return x is not None and bool(np.isfinite(x))

    rr, lo, hi = (facts.get(k, np.nan) for k in ("rr_any", "rr_any_low", "rr_any_high"))
    if finite(rr) and finite(lo) and finite(hi):
        return f"{fmt(rr)} (exact 95% CI {fmt(lo)}–{fmt(hi)})"
    if finite(lo):
        return (f"not defined, as the control arm has no adverse event (exact 95% CI from {fmt(lo)}, with no upper "
                "limit)")
    if not facts.get("events_msct", 0) and not facts.get("events_control", 0) and not facts.get("ae_reason"):
        return "not defined: no adverse event in either arm"
    return f"not defined: {facts.get('ae_reason') or 'no follow-up time in an arm'}"


def labs_sentence(look: Look) -> str:
    """What the ANCOVA of the labs finds (Holm, direction of harm, no worse than half a baseline SD), for every case.

    When no lab could be compared, one sentence says why (no "0 of 0").

    Parameters
    ----------
    look : Look
        :func:`safety_section` output (facts ``n_labs``, ``n_labs_sig_holm``, ``n_labs_sig_raw``,
        ``labs_sig_holm``, ``n_labs_worse``, ``labs_worse``, ``n_labs_noninferior``, ``labs_not_shown``,
        ``final_week``, ``ancova_reason``).

    Examples
    --------
    >>> labs_sentence(Look({}, "", {"n_labs": 0, "ancova_reason": "no lab has values at week 0 and week 16 in both arms"}))
    'By ANCOVA, no lab could be compared between the arms (no lab has values at week 0 and week 16 in both arms).'
    >>> labs_sentence(Look({}, "", {"n_labs": 2, "n_labs_sig_holm": 1, "n_labs_sig_raw": 1, "labs_sig_holm": "albumin",
    ...                             "n_labs_worse": 0, "n_labs_noninferior": 1, "labs_not_shown": "albumin",
    ...                             "final_week": 24}))[:80]
    'By ANCOVA, 1 of 2 labs differs between the arms at week 24 after Holm (1 before)'
    """
    f = look.facts
    n = int(f.get("n_labs", 0))
    if n == 0:
        return (f"By ANCOVA, no lab could be compared between the arms "
                f"({f.get('ancova_reason') or 'no lab in these data'}).")
    holm, raw = int(f.get("n_labs_sig_holm", 0)), int(f.get("n_labs_sig_raw", 0))
    worse, shown = int(f.get("n_labs_worse", 0)), int(f.get("n_labs_noninferior", 0))
    which = f": {f.get('labs_sig_holm')}" if holm else ""
    worse_text = (f"{worse} {'is' if worse == 1 else 'are'} worse with MSCT beyond half a baseline SD "
                  f"({f.get('labs_worse')})" if worse else "none is worse with MSCT beyond half a baseline SD")
    not_shown = f" (not shown: {f.get('labs_not_shown')})" if shown < n else ""
    return (f"By ANCOVA, {holm} of {n} lab{'s' if n != 1 else ''} {'differs' if 1 in (holm, n) else 'differ'} between "
            f"the arms at week {f.get('final_week', '')} after Holm ({raw} before){which}. Read in the direction that "
            "would mean harm (lower for a lab the patients start below the middle of its normal range, higher "
            f"otherwise), {worse_text}, and {shown} of {n} {'is' if 1 in (shown, n) else 'are'} shown no worse than half "
            f"a baseline SD{not_shown}.")


def changes_sentence(look: Look) -> str:
    """What the second look changes, for adverse events and labs, in sentences written for every case.

    Examples
    --------
    >>> changes_sentence(Look({}, "", {"rr_any_low": 0.5, "n_labs": 3, "n_labs_noninferior": 3}))[:80]
    'For adverse events, the data do not show a higher rate with MSCT, but they canno'
    >>> changes_sentence(Look({}, "", {"rr_any_low": 2.0, "serious_events": 1, "n_labs": 0}))[59:106]
    'the interval, not the count of 1 serious event,'
    >>> changes_sentence(Look({}, "", {"ae_reason": "no follow-up time in either arm",
    ...                                "ancova_reason": "no lab has values at week 0 and week 24 in both arms"}))
    "No adverse-event rate ratio could be estimated (no follow-up time in either arm), so these data cannot say how large a harm they exclude. With no lab compared, the randomised comparison cannot address the paper's conclusion of no significant laboratory abnormality."
    """
    f = look.facts
    lo = f.get("rr_any_low", np.nan)
    if lo is not None and np.isfinite(lo):
        reading = ("the data do not show a higher rate with MSCT, but they cannot exclude one as large as the upper "
                   "limit" if lo <= 1 else "the data show a higher rate with MSCT")
        n_sae = int(f.get("serious_events", 0))
        count = ("zero serious events" if n_sae == 0 else
                 f"{n_sae} serious event{'s' if n_sae != 1 else ''}")
        ae = f"For adverse events, {reading}: the interval, not the count of {count}, says how large a harm these data can exclude."
    else:
        why = f.get("ae_reason") or "no adverse event in one arm or no follow-up"
        ae = (f"No adverse-event rate ratio could be estimated ({why}), so these data cannot say how large a harm "
              "they exclude.")
    n_labs = int(f.get("n_labs", 0))
    if n_labs:
        verb = ("weakens" if f.get("n_labs_worse", 0) else
                "supports" if f.get("n_labs_noninferior", 0) == n_labs else "neither supports nor weakens")
        labs = (f"For the labs, the randomised comparison {verb} the paper's conclusion of no significant laboratory "
                "abnormality.")
    else:
        labs = ("With no lab compared, the randomised comparison cannot address the paper's conclusion of no "
                "significant laboratory abnormality.")
    return f"{ae} {labs}"


# =========================================================================== figures
@styled
def figure_ae_rates(rates: pd.DataFrame):
    """Adverse-event rate per patient-year by arm with exact CIs, one row per measure (returns the Figure).

    Examples
    --------
    >>> r = pd.DataFrame({"measure": ["any adverse event"] * 2, "arm": ["MSCT", "control"],
    ...                   "rate_per_py": [0.2, 0.1], "ci_low": [0.1, 0.05], "ci_high": [0.4, 0.3]})
    >>> len(figure_ae_rates(r).axes)
    1
    """
    import matplotlib.pyplot as plt

    from analysis.science import figures
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    r = rates.dropna(subset=["rate_per_py"]) if len(rates) else rates
    if r.empty:
        placeholder(ax, "Adverse-event rates: not available with these data")
        return fig
    measures = list(dict.fromkeys(r["measure"]))
    ypos = {m: i for i, m in enumerate(measures[::-1])}
    for j, (arm, part) in enumerate(r.groupby("arm", sort=False)):
        y = part["measure"].map(ypos).to_numpy(float) + (0.15 if j == 0 else -0.15)
        rate, lo, hi = (part[c].to_numpy(float) for c in ("rate_per_py", "ci_low", "ci_high"))
        ax.errorbar(rate, y, xerr=np.vstack([rate - lo, np.nan_to_num(hi - rate, posinf=0.0)]),
                    fmt="o", color=figures.color_for(arm, j), capsize=3, label=arm)
    ax.set_yticks(range(len(measures)), measures[::-1])
    ax.set(xlabel="events per patient-year (exact 95% CI)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


@styled
def figure_ancova(table: pd.DataFrame, *, alpha: float = 0.05):
    """Adjusted difference (MSCT − control) per lab divided by its standard error, with ±1.96 bars.

    Labs of different units share one axis this way; a bar crossing 0 is a 95% CI containing no difference;
    red marks Holm p < ``alpha`` (returns the Figure).

    Examples
    --------
    >>> t = pd.DataFrame({"label": ["Albumin"], "contrast": ["MSCT − control"], "estimate": [1.0], "se": [0.5],
    ...                   "p_holm": [0.2]})
    >>> len(figure_ancova(t).axes)
    1
    """
    import matplotlib.pyplot as plt

    t = table.dropna(subset=["estimate", "se"]) if len(table) else table
    fig, ax = plt.subplots(figsize=(7.5, 0.35 * max(6, len(t)) + 1.2))
    if t.empty:
        placeholder(ax, "ANCOVA: not available with these data")
        return fig
    zval = (t["estimate"] / t["se"]).to_numpy(float)
    y = np.arange(len(t))[::-1]
    sig = t["p_holm"].to_numpy(float) < alpha if "p_holm" in t.columns else np.zeros(len(t), bool)
    ax.errorbar(zval, y, xerr=1.96, fmt="none", ecolor="0.6", capsize=2)
    ax.scatter(zval[~sig], y[~sig], color="#0072B2", zorder=3, label=f"Holm p ≥ {alpha:g}")
    ax.scatter(zval[sig], y[sig], color="#D55E00", zorder=3, label=f"Holm p < {alpha:g}")
    ax.axvline(0, color="0.4", linewidth=1)
    ax.set_yticks(y, (t["label"] + ("" if t["contrast"].nunique() == 1 else " " + t["contrast"])).tolist())
    ax.set(xlabel=f"adjusted difference {t['contrast'].iloc[0]} / its SE (bars: ±1.96)")
    ax.legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    return fig
