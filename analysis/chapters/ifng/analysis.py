"""IFN-γ as a predictor of response to MSCT (the paper's Fig. 5) and a reviewer's checks of it.

Every function takes the derived tidy tables (``derived.visits`` / ``derived.patients``) or the
per-patient IFN-γ profile built by :func:`ifng_profile`, and returns a tidy DataFrame.

The rules, stated once:

* **High IFN-γ**: a value strictly above ``threshold`` (the paper: > 2 pg/mL).
* **Window**: weeks ``1..window_weeks`` after infusion (the paper: 4); week 0 is "before".
* **Subgroups of responders** (:func:`classify_subgroup`): *Before* = high at week 0;
  *After* = not high at week 0 and high at some week of the window; *Never high* = neither;
  *Not measured* = no IFN-γ value (and no below-LLOQ flag) at week 0 or in the window.
* **Rise week**: the first visit (0..window) with high IFN-γ.
* **ΔIFN-γ**: peak IFN-γ over weeks 0..``response_week`` minus the week-0 value;
  **ΔDAS28**: DAS28 at ``response_week`` minus DAS28 at week 0.

The chapter's claims are judged in :mod:`analysis.chapters.ifng.verdicts` (with the headless ``evaluate``);
its "A second look" is :mod:`analysis.chapters.ifng.second_look`.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from analysis.science import stats
from analysis.science.tables import rows_by
from analysis.core.checks import check_frame as _check_frame
from analysis.claims.rules import format_p
from analysis.core.design import PAPER

__all__ = [
    "MARKERS",
    "SUBGROUPS",
    "classify_subgroup",
    "ifng_profile",
    "share_above",
    "compare_peaks",
    "high_ifng_sentence",
    "subgroup_counts",
    "subgroup_sentence",
    "subgroup_tests",
    "first_significant",
    "format_auc",
    "change_after_rise",
    "delta_correlation",
    "diagnostic_summary",
    "roc_summary",
    "baseline_logistic",
    "infections_in_window",
    "transient_summary",
    "qualitative_verdicts",
    "plot_peaks",
    "plot_trajectories",
    "trajectories_not_drawn",
    "plot_delta",
    "plot_roc",
]

#: Markers of Fig. 5b–e, with display labels.
MARKERS: dict[str, str] = {
    "treg_th17_ratio": "Treg/Th17 ratio",
    "il_6": "IL-6 (pg/mL)",
    "tnf_a": "TNF-α (pg/mL)",
    "il_10": "IL-10 (pg/mL)",
}
#: Responder subgroup labels, in display order.
SUBGROUPS: tuple[str, ...] = ("Before", "After", "Never high", "Not measured")
_GROUPS = ("Responder", "Non-responder")
_BELOW = "<LLOQ"


# --------------------------------------------------------------------------------------------- checks


def _check_threshold(threshold) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)) \
            or not np.isfinite(threshold) or threshold < 0:
        raise ValueError(f"`threshold` must be a finite number >= 0 (pg/mL); got {threshold!r}.")
    return float(threshold)


def _early_weeks(visits: pd.DataFrame, response_week: int = PAPER.response_week) -> list[int]:
    """The visits of the data from week 0 to the response week (the paper's Fig. 5b–e: weeks 0–12)."""
    return sorted(int(w) for w in pd.unique(visits["week"].dropna()) if 0 <= w <= response_week)


def _check_window(window_weeks) -> int:
    if isinstance(window_weeks, bool) or not isinstance(window_weeks, (int, np.integer)) or window_weeks < 1:
        raise ValueError(f"`window_weeks` must be an integer >= 1; got {window_weeks!r}.")
    return int(window_weeks)


# --------------------------------------------------------------------------------------------- subgroups
def classify_subgroup(baseline, peak_after, *, threshold: float = 2.0, measured=None) -> np.ndarray:
    """The paper's Before/After rule, vectorised.

    Parameters
    ----------
    baseline : array-like of float
        IFN-γ at week 0 (NaN: not measured).
    peak_after : array-like of float
        Highest IFN-γ over the window weeks 1..window (NaN: not measured).
    threshold : float, default 2.0
        High means strictly above this value (pg/mL).
    measured : array-like of bool, optional
        Whether the patient has any IFN-γ result at week 0 or in the window (a below-LLOQ
        result counts as measured). Default: any of ``baseline``/``peak_after`` is not NaN.

    Returns
    -------
    ndarray of str
        ``"Before"`` (baseline > threshold), ``"After"`` (baseline ≤ threshold or missing, and
        peak_after > threshold), ``"Never high"``, or ``"Not measured"``.

    Examples
    --------
    >>> classify_subgroup([3.0, 2.0, 2.0, 1.0, np.nan], [0.5, 2.5, 2.0, np.nan, np.nan]).tolist()
    ['Before', 'After', 'Never high', 'Never high', 'Not measured']
    """
    thr = _check_threshold(threshold)
    b = np.asarray(baseline, float)
    a = np.asarray(peak_after, float)
    if b.shape != a.shape:
        raise ValueError(f"`baseline` and `peak_after` must have equal length; got {b.shape} and {a.shape}.")
    meas = (~np.isnan(b) | ~np.isnan(a)) if measured is None else np.asarray(measured, bool)
    with np.errstate(invalid="ignore"):
        before = b > thr
        after = ~before & (a > thr)
    return np.select([before, after, ~meas], ["Before", "After", "Not measured"], "Never high").astype(object)


def ifng_profile(visits: pd.DataFrame, *, threshold: float = 2.0, window_weeks: int = PAPER.early_window_weeks,
                 response_week: int = PAPER.response_week, value: str = "ifn_g") -> pd.DataFrame:
    """One row per classified MSCT patient (Responder / Non-responder) with the IFN-γ summaries.

    Parameters
    ----------
    visits : DataFrame
        ``derived.visits``: ``patient_id``, ``week``, ``group``, ``value`` and ``das28``
        (``{value}_flag`` is used when present: a ``"<LLOQ"`` result counts as measured).
    threshold : float, default 2.0
        High IFN-γ: strictly above (pg/mL).
    window_weeks : int, default 4
        Post-infusion window, weeks 1..window_weeks.
    response_week : int, default 12
        Week of the response evaluation (ΔDAS28, ΔIFN-γ).
    value : str, default "ifn_g"

    Returns
    -------
    DataFrame
        ``patient_id``, ``group``, ``ifng_baseline`` (week 0), ``ifng_peak_after`` (max over
        weeks 1..window), ``ifng_peak_window`` (max over weeks 0..window), ``ifng_response_week``,
        ``ifng_peak_12`` (max over weeks 0..response_week), ``delta_ifng`` (ifng_peak_12 −
        ifng_baseline), ``das28_change_12`` (DAS28 at response_week − week 0), ``high_before``,
        ``high_after``, ``high_window``, ``subgroup`` (see :func:`classify_subgroup`; also given
        for non-responders) and ``rise_week`` (first week 0..window with a high value; NaN if none).

    Notes
    -----
    Patients of other groups (Control, Unclassified) are left out. A patient with two rows for
    the same week keeps the first (as :func:`analysis.science.derive.derive` does).

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["a"] * 3 + ["b"] * 3, "week": [0, 2, 12] * 2,
    ...                   "group": ["Responder"] * 3 + ["Non-responder"] * 3,
    ...                   "ifn_g": [1.0, 4.0, 1.0, 1.0, 1.5, 0.25], "das28": [6.0, 5.0, 3.5, 6.0, 5.9, 5.8]})
    >>> p = ifng_profile(v)
    >>> p[["patient_id", "subgroup", "rise_week", "delta_ifng"]].values.tolist()
    [['a', 'After', 2.0, 3.0], ['b', 'Never high', nan, 0.5]]
    >>> p["das28_change_12"].round(2).tolist()
    [-2.5, -0.2]
    """
    thr = _check_threshold(threshold)
    win = _check_window(window_weeks)
    _check_frame(visits, "visits", ["patient_id", "week", "group", value])
    flag_col = f"{value}_flag"
    # the MSCT patients' rows, a patient's first row of each week (as drop_duplicates), as positions in ``visits``
    at = np.flatnonzero(visits["group"].isin(_GROUPS).to_numpy(bool))
    patient, _ = pd.factorize(visits["patient_id"].to_numpy()[at], use_na_sentinel=False)  # codes by first row
    week, _ = pd.factorize(visits["week"].to_numpy()[at], use_na_sentinel=False)
    at = at[np.sort(np.unique(patient * (int(week.max()) + 1 if week.size else 1) + week, return_index=True)[1])]
    patient, _ = pd.factorize(visits["patient_id"].to_numpy()[at], use_na_sentinel=False)
    _, first_row = np.unique(patient, return_index=True)  # each patient's first row (patients in order of it)
    ids = visits.iloc[at[first_row]][["patient_id", "group"]].reset_index(drop=True)
    yv = pd.to_numeric(visits[value], errors="coerce").to_numpy(float)[at]
    known = ~np.isnan(yv)
    if flag_col in visits.columns:
        known |= visits[flag_col].eq(_BELOW).fillna(False).to_numpy(bool)[at]
    # each row's patient as a position in ``ids``; every summary is one numpy pass over the rows
    row = np.where(pd.isna(visits["patient_id"].to_numpy()[at]), -1, patient)
    wk = visits["week"].to_numpy(float)[at]

    def first(mask, values):  # each patient's first non-missing value among the rows of ``mask`` (NaN if none)
        out = np.full(len(ids), np.nan)
        at = np.flatnonzero(mask & (row >= 0) & ~np.isnan(values))
        patients, first_row = np.unique(row[at], return_index=True)  # the first of each patient's rows
        out[patients] = values[at[first_row]]
        return out

    def extreme(mask, values, how=np.fmax):  # largest (or with np.fmin smallest) non-missing value, NaN if none
        out = np.full(len(ids), np.nan)
        at = mask & (row >= 0) & ~np.isnan(values)
        how.at(out, row[at], values[at])  # fmax/fmin ignore the NaN start
        return out

    window = (wk >= 0) & (wk <= win)
    baseline, peak_after, peak_12 = first(wk == 0, yv), extreme((wk >= 1) & (wk <= win), yv), \
        extreme((wk >= 0) & (wk <= response_week), yv)
    if "das28" in visits.columns:
        das = pd.to_numeric(visits["das28"], errors="coerce").to_numpy(float)[at]
        das28_change = first(wk == response_week, das) - first(wk == 0, das)
    else:
        das28_change = np.full(len(ids), np.nan)
    with np.errstate(invalid="ignore"):
        high_before, high_after = baseline > thr, peak_after > thr
        rise_week = extreme(window & (yv > thr), wk, np.fmin)
    measured = np.zeros(len(ids), bool)
    measured[row[window & known & (row >= 0)]] = True
    out = pd.DataFrame({
        "patient_id": ids["patient_id"], "group": ids["group"], "ifng_baseline": baseline,
        "ifng_peak_after": peak_after, "ifng_peak_window": extreme(window, yv),
        "ifng_response_week": first(wk == response_week, yv), "ifng_peak_12": peak_12,
        "delta_ifng": peak_12 - baseline, "das28_change_12": das28_change, "high_before": high_before,
        "high_after": high_after, "high_window": high_before | high_after,
        "subgroup": classify_subgroup(baseline, peak_after, threshold=thr, measured=measured),
        "rise_week": rise_week})
    out.attrs["response_week"] = int(response_week)  # the columns *_12 hold the response week's values
    return out


# --------------------------------------------------------------------------------------------- Fig. 5a
def share_above(profile: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Share of each group with high IFN-γ before, after and either (Fig. 5a), with Wilson CIs.

    Parameters
    ----------
    profile : DataFrame
        From :func:`ifng_profile`.
    confidence : float, default 0.95

    Returns
    -------
    DataFrame
        One row per group × period (``"before (week 0)"``, ``"after (window)"``,
        ``"before or after"``): ``group``, ``period``, ``n`` (patients with a value),
        ``n_high``, ``proportion``, ``ci_low``, ``ci_high``, ``mean_peak``, ``sem_peak``,
        ``median_peak`` (of the period's peak IFN-γ, pg/mL).

    Examples
    --------
    >>> prof = pd.DataFrame({"group": ["Responder"] * 2 + ["Non-responder"],
    ...                      "ifng_baseline": [3.0, 1.0, 1.0], "ifng_peak_after": [1.0, 5.0, 1.0],
    ...                      "ifng_peak_window": [3.0, 5.0, 1.0], "high_before": [True, False, False],
    ...                      "high_after": [False, True, False], "high_window": [True, True, False]})
    >>> share_above(prof)[["group", "period", "n_high", "n"]].values.tolist()[:3]
    [['Responder', 'before (week 0)', 1, 2], ['Responder', 'after (window)', 1, 2], ['Responder', 'before or after', 2, 2]]
    """
    _check_frame(profile, "profile", ["group", "ifng_baseline", "ifng_peak_after", "ifng_peak_window",
                                      "high_before", "high_after", "high_window"])
    periods = {"before (week 0)": ("ifng_baseline", "high_before"),
               "after (window)": ("ifng_peak_after", "high_after"),
               "before or after": ("ifng_peak_window", "high_window")}
    group = profile["group"].to_numpy(object)
    # per period: the peak values and whether high (a missing flag is not high)
    arrays = {p: (profile[val].to_numpy(float), profile[high].to_numpy() == True)  # noqa: E712
              for p, (val, high) in periods.items()}
    rows = []
    for g in _GROUPS:
        for period, (values, is_high) in arrays.items():
            at = (group == g) & ~np.isnan(values)
            mean, sem = _mean_sem(values[at])
            rows.append(dict(group=g, period=period, n=int(at.sum()), n_high=int(is_high[at].sum()),
                             mean_peak=mean, sem_peak=sem,
                             median_peak=float(np.median(values[at])) if at.any() else np.nan))
    out = pd.DataFrame(rows)
    props = stats.proportion_table(out["n_high"].to_numpy(), out["n"].to_numpy(), confidence)
    for c in ("proportion", "ci_low", "ci_high"):
        out[c] = props[c].to_numpy()
    cols = ["group", "period", "n", "n_high", "proportion", "ci_low", "ci_high", "mean_peak",
            "sem_peak", "median_peak"]
    return out[cols]


def _mean_sem(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard error of ``values`` (no NaN) with pandas' groupby bits: a Kahan-compensated sum, and
    Welford's running variance (ddof 1); NaN when there are too few values."""
    total = comp = mean = m2 = 0.0
    for i, v in enumerate(values.tolist(), start=1):
        y = v - comp
        t = total + y
        comp = (t - total) - y
        comp = 0.0 if comp != comp else comp  # an infinite value: no compensation (as pandas)
        total = t
        old = mean
        mean += (v - old) / i
        m2 += (v - mean) * (v - old)
    n = values.size
    return (total / n if n else np.nan), (math.sqrt(m2 / (n - 1) / n) if n > 1 else np.nan)


def high_ifng_sentence(share: pd.DataFrame, peaks: pd.DataFrame, *, threshold: float,
                       not_available: str | None = None) -> str:
    """The page's sentence on who had high IFN-γ, written for every case the data allow.

    Parameters
    ----------
    share : DataFrame
        :func:`share_above` output (its ``"before or after"`` rows are read).
    peaks : DataFrame
        :func:`compare_peaks` output (its ``ifng_peak_window`` row is read).
    threshold : float
        The threshold (pg/mL).
    not_available : str, optional
        The section's "Not available with these data: needs ..." reason (IFN-γ not in these data).

    Returns
    -------
    str
        Counts for each group that has patients, the peak comparison when both groups allow it; no
        placeholder such as "n/a".

    Examples
    --------
    >>> share = pd.DataFrame({"group": ["Responder", "Non-responder"], "period": "before or after",
    ...                       "n": [6, 0], "n_high": [4, 0], "proportion": [4 / 6, float("nan")]})
    >>> peaks = pd.DataFrame({"measure": ["ifng_peak_window"], "mean_diff": [float("nan")], "p": [float("nan")]})
    >>> high_ifng_sentence(share, peaks, threshold=2)
    '4/6 responders (67 %) had IFN-γ above 2 pg/mL at week 0 or within the window; there are no non-responders with a value to compare them with.'
    >>> high_ifng_sentence(share.iloc[:0], peaks, threshold=2, not_available="Not available with these data: needs ifn_g")
    'Nobody can be counted: these data have no IFN-γ values (ifn_g).'
    """
    from analysis.claims.rules import format_p

    if not_available:
        needs = not_available.split("needs ", 1)[-1].split(" (")[0]
        return f"Nobody can be counted: these data have no IFN-γ values ({needs})."
    rows = share.loc[share["period"] == "before or after"].set_index("group") if len(share) else share
    parts, absent = [], []
    for group, word in (("Responder", "responders"), ("Non-responder", "non-responders")):
        n = int(rows.loc[group, "n"]) if group in rows.index else 0
        if n:
            k = int(rows.loc[group, "n_high"])
            parts.append(f"{k}/{n} {word} ({100 * k / n:.0f} %)")
        else:
            absent.append(word)
    if not parts:
        return "No MSCT patient with a response group has an IFN-γ value at week 0 or within the window."
    text = f"{' and '.join(parts)} had IFN-γ above {threshold:g} pg/mL at week 0 or within the window"
    if absent:
        return text + f"; there are no {' or '.join(absent)} with a value to compare them with."
    row = peaks.set_index("measure").loc["ifng_peak_window"] if "ifng_peak_window" in set(peaks["measure"]) else None
    diff = float(row["mean_diff"]) if row is not None else float("nan")
    if not np.isfinite(diff):
        return text + ". The peaks of the two groups cannot be compared with these data."
    side = "higher" if diff >= 0 else "lower"
    return (text + f". Peak IFN-γ was {side} in responders by {abs(diff):.2f} pg/mL on average (Mann–Whitney, "
            f"{format_p(row['p'])}).")


def subgroup_sentence(counts: pd.DataFrame) -> str:
    """The page's sentence on the Before / After / Never-high responders, for every case the data allow.

    Examples
    --------
    >>> counts = pd.DataFrame({"subgroup": ["Before", "After", "Never high"], "n": [2, 3, 1],
    ...                        "median_rise_week": [0.0, 2.0, float("nan")]})
    >>> subgroup_sentence(counts)
    "The rule gives 2 Before, 3 After and 1 Never-high responders; the After subgroup's median rise week is 2."
    >>> subgroup_sentence(counts.assign(n=[2, 0, 4]))
    'The rule gives 2 Before, 0 After and 4 Never-high responders; with nobody in the After subgroup it has no rise week.'
    """
    c = counts.set_index("subgroup")
    n = {k: int(c.loc[k, "n"]) if k in c.index else 0 for k in ("Before", "After", "Never high")}
    text = f"The rule gives {n['Before']} Before, {n['After']} After and {n['Never high']} Never-high responders"
    week = c.loc["After", "median_rise_week"] if "After" in c.index else float("nan")
    if n["After"] and pd.notna(week):
        return text + f"; the After subgroup's median rise week is {float(week):g}."
    return text + "; with nobody in the After subgroup it has no rise week."


def compare_peaks(profile: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Responders versus non-responders on peak IFN-γ: Mann–Whitney U per period.

    Parameters
    ----------
    profile : DataFrame
        From :func:`ifng_profile`.
    alpha : float, default 0.05

    Returns
    -------
    DataFrame
        One row per measure (``ifng_baseline``, ``ifng_peak_after``, ``ifng_peak_window``):
        ``measure`` first, then the columns of :func:`analysis.science.stats.compare_independent`
        (``group_a`` = Responder, ``mean_diff`` = Responder − Non-responder).

    Notes
    -----
    Mann–Whitney because cytokine concentrations are skewed and partly censored at the LLOQ;
    it compares distributions (no normality assumed), two-sided.

    Examples
    --------
    >>> prof = pd.DataFrame({"group": ["Responder"] * 3 + ["Non-responder"] * 3,
    ...                      "ifng_baseline": [3.0, 4, 5, 1, 1.5, 0.25], "ifng_peak_after": [6.0, 4, 5, 1, 2, 1],
    ...                      "ifng_peak_window": [6.0, 4, 5, 1, 2, 1]})
    >>> compare_peaks(prof)[["measure", "n_a", "n_b", "mean_diff"]].round(2).values.tolist()[0]
    ['ifng_baseline', 3, 3, 3.08]
    """
    _check_frame(profile, "profile", ["group", "ifng_baseline", "ifng_peak_after", "ifng_peak_window"])
    parts = []
    for measure in ("ifng_baseline", "ifng_peak_after", "ifng_peak_window"):
        res = stats.compare_independent(profile, dv=measure, between="group", groups=list(_GROUPS),
                                        test="mannwhitney", alpha=alpha)
        parts.append(res.assign(measure=measure))
    out = pd.concat(parts, ignore_index=True)
    return out[["measure"] + [c for c in out.columns if c != "measure"]]


def subgroup_counts(profile: pd.DataFrame) -> pd.DataFrame:
    """Responders per subgroup (Before / After / Never high / Not measured).

    Returns
    -------
    DataFrame
        ``subgroup``, ``n``, ``share`` (of responders), ``median_rise_week``; every label of
        :data:`SUBGROUPS` appears (n = 0 when absent).

    Examples
    --------
    >>> prof = pd.DataFrame({"group": ["Responder"] * 3 + ["Non-responder"],
    ...                      "subgroup": ["Before", "After", "After", "Before"],
    ...                      "rise_week": [0.0, 1.0, 3.0, 0.0]})
    >>> subgroup_counts(prof)[["subgroup", "n", "median_rise_week"]].values.tolist()
    [['Before', 1, 0.0], ['After', 2, 2.0], ['Never high', 0, nan], ['Not measured', 0, nan]]
    """
    _check_frame(profile, "profile", ["group", "subgroup", "rise_week"])
    resp = (profile["group"] == "Responder").to_numpy(bool)
    sub = profile["subgroup"].to_numpy(object)[resp]
    rise = profile["rise_week"].to_numpy(float)[resp]
    n, median = [], []
    for sg in SUBGROUPS:
        at = sub == sg
        weeks = rise[at & ~np.isnan(rise)]
        n.append(int(at.sum()))
        median.append(float(np.median(weeks)) if weeks.size else np.nan)  # as groupby's median: NaN skipped
    n = np.array(n, dtype=int)
    return pd.DataFrame({"subgroup": list(SUBGROUPS), "n": n, "share": n / len(sub) if len(sub) else np.nan,
                         "median_rise_week": np.array(median, dtype=float)})


# --------------------------------------------------------------------------------------------- Fig. 5b–e
_PAIRED_COLUMNS = ["before", "after", "n", "mean_before", "mean_after", "mean_diff", "sd_diff", "statistic", "dof",
                   "p", "hedges_g", "g_ci_low", "g_ci_high", "test", "alpha", "significant", "note"]


def subgroup_tests(visits: pd.DataFrame, profile: pd.DataFrame, *, markers=tuple(MARKERS),
                   weeks=None, reference: str = "previous", subgroups=("Before", "After"),
                   test: str = "t", alpha: float = 0.05) -> pd.DataFrame:
    """Paired tests of each marker, each visit versus the previous visit (or baseline), per subgroup.

    Parameters
    ----------
    visits : DataFrame
        ``derived.visits`` (``patient_id``, ``week`` and the marker columns).
    profile : DataFrame
        From :func:`ifng_profile` (``patient_id``, ``group``, ``subgroup``).
    markers : sequence of str
        Visit columns to test (default :data:`MARKERS`).
    weeks : sequence of int
        Visits in order; only those present in ``visits`` are used.
    reference : {"previous", "baseline"}
        Compare each visit with the one before it (the paper's Fig. 5 stars) or with week 0.
    subgroups : sequence of str
        Responder subgroups to test.
    test : {"t", "wilcoxon"}
        Paired t test (the paper's choice) or Wilcoxon signed-rank.
    alpha : float, default 0.05

    Returns
    -------
    DataFrame
        One row per subgroup × marker × visit pair: ``subgroup``, ``marker``, ``reference``,
        then :func:`analysis.science.stats.compare_paired`'s columns (``before``, ``after`` = weeks,
        ``n`` = complete pairs, ``mean_diff`` = after − before, ``p``, ``significant``, ...).

    Notes
    -----
    Uncorrected p-values, as in the paper (one star per visit); the number of tests is large,
    so read single stars with care.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abc") * 2, "week": [0] * 3 + [1] * 3,
    ...                   "il_10": [1.0, 2, 3, 2, 4, 5]})
    >>> prof = pd.DataFrame({"patient_id": list("abc"), "group": ["Responder"] * 3,
    ...                      "subgroup": ["Before"] * 3})
    >>> subgroup_tests(v, prof, markers=["il_10"], subgroups=["Before"])[
    ...     ["subgroup", "before", "after", "n", "mean_diff"]].values.tolist()
    [['Before', 0, 1, 3, 1.6666666666666667]]
    """
    if reference not in ("previous", "baseline"):
        raise ValueError(f"`reference` must be 'previous' or 'baseline'; got {reference!r}.")
    markers = list(markers)
    _check_frame(visits, "visits", ["patient_id", "week"] + markers)
    _check_frame(profile, "profile", ["patient_id", "group", "subgroup"])
    weeks = _early_weeks(visits) if weeks is None else weeks
    week = visits["week"]
    if week.dtype.kind in "iuf":  # numeric weeks: the row masks by numpy, not one Series comparison per week
        at = {w: week.to_numpy() == w for w in weeks}
    else:
        at = {w: week.eq(w).to_numpy(dtype=bool, na_value=False) for w in weeks}
    present = [w for w in weeks if at[w].any()]
    pairs = [(present[i - 1] if reference == "previous" else present[0], w)
             for i, w in enumerate(present) if i > 0]
    # each responder's subgroup (its first profile row), and the visit rows of responders at the present weeks:
    # what merging the visits with the responders' profile rows and keeping the first row per patient × week
    # gives, by arrays (patients sorted, as compare_paired pairs them)
    responder = (profile["group"] == "Responder").to_numpy(dtype=bool, na_value=False)
    known = pd.Index(profile["patient_id"].to_numpy()[responder])
    first = ~known.duplicated()
    known, known_sg = known[first], profile["subgroup"].to_numpy()[responder][first]
    col = {w: i for i, w in enumerate(present)}
    week_idx = np.full(len(visits), -1)
    for w, i in col.items():
        week_idx[at[w]] = i
    pid = visits["patient_id"]
    which = known.get_indexer(pid.to_numpy())
    rows = np.flatnonzero((week_idx >= 0) & (which >= 0) & pid.notna().to_numpy())
    codes, patients = pd.factorize(pid.to_numpy()[rows], sort=True)
    cell = codes.astype(np.int64) * len(present) + week_idx[rows]
    once = np.sort(np.unique(cell, return_index=True)[1])  # the first row of each patient × week
    rows, codes, row_sg = rows[once], codes[once], known_sg[which[rows[once]]]
    values = {m: pd.to_numeric(visits[m], errors="coerce").to_numpy(float, na_value=np.nan)[rows] for m in markers}
    parts = []
    for sg in subgroups:
        # one patient × week table per marker, then each visit pair is two columns of it: no per-test frame
        in_sg = row_sg == sg
        c, wi = codes[in_sg], week_idx[rows[in_sg]]
        for m in markers:
            wide = np.full((len(patients), len(present)), np.nan)
            wide[c, wi] = values[m][in_sg]
            for b, a in pairs:
                x, y = wide[:, col[b]], wide[:, col[a]]
                keep = ~(np.isnan(x) | np.isnan(y))
                parts.append(dict(subgroup=sg, marker=m, reference=reference,
                                  **stats.paired_row(x[keep], y[keep], (b, a), test=test, alpha=alpha)))
    if not parts:
        return pd.DataFrame(columns=["subgroup", "marker", "reference", "before", "after", "n", "p"])
    columns = ["subgroup", "marker", "reference"] + _PAIRED_COLUMNS
    return pd.DataFrame({c: [row[c] for row in parts] for c in columns}, columns=columns)


def first_significant(tests: pd.DataFrame, profile: pd.DataFrame) -> pd.DataFrame:
    """Timing rule: the first visit with a significant change, relative to the IFN-γ rise.

    For each subgroup × marker × reference in ``tests`` (from :func:`subgroup_tests`), the first
    visit (``after`` week) whose test is significant, its direction, and ``lag_weeks`` = that
    week − the subgroup's rise week (the median over its patients of the first week with high
    IFN-γ: 0 for Before by definition); and the first visit with a significant change in each direction,
    for a claim about a change in one direction (an uncorrected test at every visit finds a change in the other
    direction by chance now and then, which is not the change claimed).

    Returns
    -------
    DataFrame
        ``subgroup``, ``marker``, ``reference``, ``rise_week``, ``first_sig_week`` (NaN if
        none), ``direction`` ("increase"/"decrease"/""), ``lag_weeks``, ``first_increase_week``,
        ``first_decrease_week`` (NaN if none), ``n_tests``.

    Examples
    --------
    >>> t = pd.DataFrame({"subgroup": ["Before"] * 3, "marker": ["m"] * 3, "reference": ["previous"] * 3,
    ...                   "after": [1, 2, 3], "significant": [False, True, True], "mean_diff": [0.1, 0.5, 0.2]})
    >>> prof = pd.DataFrame({"group": ["Responder"], "subgroup": ["Before"], "rise_week": [0.0]})
    >>> first_significant(t, prof)[["first_sig_week", "direction", "lag_weeks"]].values.tolist()
    [[2.0, 'increase', 2.0]]
    >>> t["mean_diff"] = [0.1, -0.5, 0.2]  # a fall at week 2, then a rise at week 3
    >>> first_significant(t, prof)[["first_sig_week", "first_increase_week", "first_decrease_week"]].values.tolist()
    [[2.0, 3.0, 2.0]]
    """
    _check_frame(tests, "tests", ["subgroup", "marker", "reference", "after", "significant", "mean_diff"])
    counts = subgroup_counts(profile)
    rise = dict(zip(counts["subgroup"], counts["median_rise_week"]))
    keys = ["subgroup", "marker", "reference"]
    # one pass over the tests (a few dozen rows): per key, the number of tests and the significant test with
    # the earliest visit (the first such row on ties; a missing visit counts as the latest)
    cells = list(zip(*(tests[k] for k in keys)))
    significant = tests["significant"].fillna(False).astype(bool).to_numpy()
    after = tests["after"].astype(float).to_numpy()
    mean_diff = tests["mean_diff"].to_numpy(float)
    n_tests, first, first_up, first_down = {}, {}, {}, {}
    for i, cell in enumerate(cells):
        n_tests[cell] = n_tests.get(cell, 0) + 1
        when = (bool(np.isnan(after[i])), 0.0 if np.isnan(after[i]) else after[i])
        if significant[i] and (cell not in first or when < first[cell][0]):
            first[cell] = (when, i)
        one_way = first_up if mean_diff[i] > 0 else first_down if mean_diff[i] < 0 else None
        if significant[i] and one_way is not None and (cell not in one_way or when < one_way[cell][0]):
            one_way[cell] = (when, i)
    out = {k: np.array([c[i] for c in n_tests], dtype=object) for i, k in enumerate(keys)}
    hit = [first[c][1] if c in first else -1 for c in n_tests]
    first_week = np.array([after[i] if i >= 0 else np.nan for i in hit], dtype=float)
    diff = np.array([mean_diff[i] if i >= 0 else np.nan for i in hit], dtype=float)
    rise_week = np.array([rise.get(c[0], np.nan) for c in n_tests], dtype=float)
    out.update(rise_week=rise_week, first_sig_week=first_week,
               direction=np.select([diff > 0, diff < 0], ["increase", "decrease"], "").astype(object),
               lag_weeks=first_week - rise_week)
    for name, one_way in (("first_increase_week", first_up), ("first_decrease_week", first_down)):
        out[name] = np.array([after[one_way[c][1]] if c in one_way else np.nan for c in n_tests], dtype=float)
    out["n_tests"] = np.array(list(n_tests.values()), dtype=int)
    return pd.DataFrame(out)


def change_after_rise(visits: pd.DataFrame, profile: pd.DataFrame, *, markers=tuple(MARKERS),
                      lag_weeks=(2, 3), test: str = "t", alpha: float = 0.05) -> pd.DataFrame:
    """Each marker from the week of the IFN-γ rise to 2–3 weeks later, per patient (aligned).

    For every responder with a rise week (Before or After), the marker at the rise visit is paired
    with the marker at the latest visit ``lag_weeks[0]..lag_weeks[1]`` weeks after it (visits are
    at weeks 0, 1, 2, 3, 4, 12: a rise at week 3 or 4 has no such visit and is left out).

    Returns
    -------
    DataFrame
        One row per marker: ``marker``, ``n`` (patients with both visits), ``mean_rise``,
        ``mean_later``, ``mean_diff`` (later − rise), ``p``, ``significant``, ``hedges_g``,
        ``test``, ``note``.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("aabbcc"), "week": [0, 3, 1, 3, 0, 2],
    ...                   "il_10": [1.0, 2, 2, 3, 1, 3]})
    >>> prof = pd.DataFrame({"patient_id": list("abc"), "group": ["Responder"] * 3,
    ...                      "rise_week": [0.0, 1.0, 0.0]})
    >>> change_after_rise(v, prof, markers=["il_10"])[["n", "mean_diff"]].values.tolist()
    [[3.0, 1.3333333333333333]]
    """
    markers = list(markers)
    lo, hi = lag_weeks
    _check_frame(visits, "visits", ["patient_id", "week"] + markers)
    _check_frame(profile, "profile", ["patient_id", "group", "rise_week"])
    rise = profile.loc[(profile["group"] == "Responder") & profile["rise_week"].notna(), ["patient_id", "rise_week"]]
    v = visits[["patient_id", "week"] + markers].merge(rise, on="patient_id")
    v = v.assign(rel=v["week"] - v["rise_week"]).drop_duplicates(["patient_id", "week"], keep="first")
    at_rise = v[v["rel"] == 0].assign(when="rise")
    later = (v[(v["rel"] >= lo) & (v["rel"] <= hi)].sort_values("rel", kind="stable")
             .drop_duplicates("patient_id", keep="last").assign(when="later"))
    long = pd.concat([at_rise, later], ignore_index=True)
    rows = []
    for m in markers:
        res = stats.compare_paired(long, dv=m, within="when", subject="patient_id", pair=("rise", "later"),
                                   test=test, alpha=alpha).iloc[0]
        rows.append(dict(marker=m, n=float(res["n"]), mean_rise=res["mean_before"], mean_later=res["mean_after"],
                         mean_diff=res["mean_diff"], p=res["p"], significant=bool(res["significant"]),
                         hedges_g=res["hedges_g"], test=test, note=res["note"]))
    return pd.DataFrame(rows, columns=["marker", "n", "mean_rise", "mean_later", "mean_diff", "p",
                                       "significant", "hedges_g", "test", "note"])


# --------------------------------------------------------------------------------------------- Fig. 5f
def delta_correlation(profile: pd.DataFrame, *, methods=("pearson", "spearman")) -> pd.DataFrame:
    """ΔDAS28 against ΔIFN-γ: Pearson and Spearman correlation per group and pooled.

    Returns
    -------
    DataFrame
        One row per subset (``Responder``, ``Non-responder``, ``MSCT (both)``) × method:
        ``subset`` then :func:`analysis.science.stats.correlation`'s columns (``n``, ``r``, ``ci_low``,
        ``ci_high``, ``p``, ``note``).

    Examples
    --------
    >>> prof = pd.DataFrame({"group": ["Responder"] * 3 + ["Non-responder"] * 3,
    ...                      "delta_ifng": [1.0, 2, 3, 0, 1, 2], "das28_change_12": [-1.0, -2, -3, 0, 0.5, 0.1]})
    >>> delta_correlation(prof, methods=["pearson"])[["subset", "n", "r"]].round(3).values.tolist()[0]
    ['Responder', 3, -1.0]
    """
    _check_frame(profile, "profile", ["group", "delta_ifng", "das28_change_12"])
    subsets = {"Responder": profile[profile["group"] == "Responder"],
               "Non-responder": profile[profile["group"] == "Non-responder"],
               "MSCT (both)": profile}
    parts = [stats.correlation(d, x="delta_ifng", y="das28_change_12", method=m).assign(subset=name)
             for name, d in subsets.items() for m in methods]
    out = pd.concat(parts, ignore_index=True)
    return out[["subset"] + [c for c in out.columns if c != "subset"]]


# --------------------------------------------------------------------------------------------- beyond
def _truth(profile: pd.DataFrame) -> pd.Series:
    return profile["group"].eq("Responder").astype(int)


def _predicted(profile: pd.DataFrame, score: str, threshold: float) -> np.ndarray:
    """1.0 where ``score`` is strictly above ``threshold``, 0.0 where not, NaN where the score is missing."""
    s = pd.to_numeric(profile[score], errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(s), np.nan, (s > threshold).astype(float))


def diagnostic_summary(profile: pd.DataFrame, *, score: str = "ifng_peak_window", threshold: float = 2.0,
                       confidence: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """IFN-γ above ``threshold`` as a test for response: 2 × 2 table and metrics with Wilson CIs.

    Parameters
    ----------
    profile : DataFrame
        From :func:`ifng_profile` (``group``: Responder is the positive class).
    score : str, default "ifng_peak_window"
        The IFN-γ summary used (``ifng_baseline`` for a baseline-only test).
    threshold : float, default 2.0
        Test positive when the score is strictly above.

    Returns
    -------
    table : DataFrame
        One row: ``score``, ``threshold``, ``TP``, ``FP``, ``FN``, ``TN``, ``n``.
    metrics : DataFrame
        :func:`analysis.science.stats.diagnostic_metrics` with ``score`` and ``threshold`` in front.

    Examples
    --------
    >>> prof = pd.DataFrame({"group": ["Responder"] * 3 + ["Non-responder"] * 2,
    ...                      "ifng_peak_window": [3.0, 2.5, 1.0, 2.1, 0.5]})
    >>> tab, met = diagnostic_summary(prof)
    >>> tab[["TP", "FP", "FN", "TN"]].values.tolist()
    [[2, 1, 1, 1]]
    >>> met["estimate"].round(3).tolist()
    [0.667, 0.5, 0.667, 0.5]
    """
    thr = _check_threshold(threshold)
    _check_frame(profile, "profile", ["group", score])
    predicted = _predicted(profile, score, thr)
    truth = _truth(profile).to_numpy()
    tab = stats.diagnostic_table(truth, predicted)
    met = stats.diagnostic_metrics(truth, predicted, confidence)
    for t in (tab, met):
        t.insert(0, "score", score)
        t.insert(1, "threshold", thr)
    return tab, met


def roc_summary(profile: pd.DataFrame, *, scores=("ifng_peak_window", "ifng_baseline"), n_boot: int = 2000,
                seed: int = 0, paper_threshold: float = 2.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ROC curves and AUCs (seeded bootstrap CI) of continuous IFN-γ summaries, with Youden's optimum.

    Returns
    -------
    curves : DataFrame
        ``score`` then :func:`analysis.science.stats.roc_curve_auc`'s curve columns.
    summary : DataFrame
        One row per score: ``score``, ``n_pos``, ``n_neg``, ``auc``, ``ci_low``, ``ci_high``,
        ``n_boot``, ``youden_threshold``, ``youden_sensitivity``, ``youden_specificity``,
        ``youden_j``, ``paper_threshold``, ``paper_j`` (J of "score > paper_threshold"), ``note``.

    Notes
    -----
    The ROC curve counts a score ≥ cut-off as positive; the paper's rule is "> 2 pg/mL". The
    Youden optimum is chosen on the same data it is judged on, so its J is optimistic.

    Examples
    --------
    >>> prof = pd.DataFrame({"group": ["Responder", "Responder", "Non-responder", "Non-responder"],
    ...                      "ifng_peak_window": [3.0, 0.35, 0.1, 0.4], "ifng_baseline": [1.0, 1, 1, 1]})
    >>> curves, summ = roc_summary(prof, n_boot=0)
    >>> summ[["score", "auc", "youden_threshold"]].values.tolist()
    [['ifng_peak_window', 0.75, 3.0], ['ifng_baseline', 0.5, 1.0]]
    """
    _check_frame(profile, "profile", ["group"] + list(scores))
    paper_thr = _check_threshold(paper_threshold)
    truth = _truth(profile).to_numpy()
    curves, rows = [], []
    for sc in scores:
        score = pd.to_numeric(profile[sc], errors="coerce").to_numpy(float)
        curve, auc = stats.roc_curve_auc(truth, score, n_boot=n_boot, seed=seed)
        best = _first_row(stats.youden_threshold(curve))
        # the metrics of diagnostic_summary(profile, score=sc, threshold=paper_threshold), without its 2 × 2 table
        met = stats.diagnostic_metrics(truth, _predicted(profile, sc, paper_thr))
        est = dict(zip(met["metric"], met["estimate"]))
        a = _first_row(auc)
        rows.append(dict(score=sc, n_pos=int(a["n_pos"]), n_neg=int(a["n_neg"]), auc=a["auc"],
                         ci_low=a["ci_low"], ci_high=a["ci_high"], n_boot=int(a["n_boot"]),
                         youden_threshold=best["threshold"], youden_sensitivity=best["tpr"],
                         youden_specificity=best["specificity"], youden_j=best["youden"],
                         paper_threshold=float(paper_threshold),
                         paper_j=est["sensitivity"] + est["specificity"] - 1, note=a["note"]))
        curve.insert(0, "score", sc)
        curves.append(curve)
    return pd.concat(curves, ignore_index=True), pd.DataFrame(rows)


def baseline_logistic(profile: pd.DataFrame, patients: pd.DataFrame, *,
                      covariates=("das28_baseline",), confidence: float = 0.95) -> pd.DataFrame:
    """Logistic regression of response on baseline IFN-γ (+ covariates): odds ratios with CIs.

    Only what is known before infusion enters, so the window–response overlap (circularity) is
    avoided.

    Parameters
    ----------
    profile : DataFrame
        From :func:`ifng_profile` (``patient_id``, ``group``, ``ifng_baseline``).
    patients : DataFrame
        ``derived.patients`` (``patient_id`` and the covariate columns).
    covariates : sequence of str
        Extra baseline predictors (default: baseline DAS28).

    Returns
    -------
    DataFrame
        One row per predictor (``ifng_baseline`` first, then covariates): ``term``,
        ``odds_ratio`` (per 1 unit), ``ci_low``, ``ci_high``, ``p`` (Wald), ``n``,
        ``n_responders``, ``note``. Rows are NaN with a note when the model cannot be fitted
        (one class only, fewer than 10 patients, perfect separation, no convergence).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(3, 1, 60)
    >>> prof = pd.DataFrame({"patient_id": range(60), "ifng_baseline": x,
    ...                      "group": np.where(x + rng.normal(0, 1, 60) > 3, "Responder", "Non-responder")})
    >>> pat = pd.DataFrame({"patient_id": range(60), "das28_baseline": rng.normal(6, 1, 60)})
    >>> res = baseline_logistic(prof, pat)
    >>> res["term"].tolist(), bool(res.loc[0, "odds_ratio"] > 1)
    (['ifng_baseline', 'das28_baseline'], True)
    """
    import statsmodels.api as sm

    covariates = list(covariates)
    _check_frame(profile, "profile", ["patient_id", "group", "ifng_baseline"])
    _check_frame(patients, "patients", ["patient_id"] + covariates)
    d = profile[["patient_id", "group", "ifng_baseline"]].merge(
        patients[["patient_id"] + covariates], on="patient_id", how="left")
    terms = ["ifng_baseline"] + covariates
    d = d[terms + ["group"]].apply(lambda c: pd.to_numeric(c, errors="coerce") if c.name in terms else c).dropna()
    y = _truth(d).to_numpy(float)
    rows = {t: dict(term=t, odds_ratio=np.nan, ci_low=np.nan, ci_high=np.nan, p=np.nan) for t in terms}
    note = ""
    if len(d) < 10 or y.min() == y.max():
        note = f"not fitted: {len(d)} patients, {int(y.sum())} responders (need ≥ 10 and both classes)"
    else:
        X = sm.add_constant(d[terms].astype(float), has_constant="add")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = sm.Logit(y, X).fit(disp=0, maxiter=200)
            ci = fit.conf_int(alpha=1 - confidence)
            if not fit.mle_retvals.get("converged", True):
                note = "the fit did not converge: estimates unreliable"
            with np.errstate(over="ignore"):  # a diverged fit (separation) gives inf; the note says why
                for t in terms:
                    rows[t].update(odds_ratio=float(np.exp(fit.params[t])), ci_low=float(np.exp(ci.loc[t, 0])),
                                   ci_high=float(np.exp(ci.loc[t, 1])), p=float(fit.pvalues[t]))
        except Exception as exc:  # perfect separation, singular design
            note = f"not fitted: {type(exc).__name__}"
    out = pd.DataFrame(list(rows.values()))
    out["n"] = len(d)
    out["n_responders"] = int(y.sum())
    out["note"] = note
    return out


def infections_in_window(adverse_events, profile: pd.DataFrame, *, window_weeks: int = PAPER.early_window_weeks) -> pd.DataFrame:
    """Infections (adverse events whose term contains "infect") among patients with high IFN-γ.

    Returns
    -------
    DataFrame
        One row: ``n_high`` (MSCT patients with high IFN-γ before or in the window),
        ``n_high_infected`` (of them, with an infection in weeks 0..window), ``n_infections_msct``
        (all MSCT-classified patients with an infection in weeks 0..window), ``available``
        (False when there is no adverse-event table), ``n_msct`` (the MSCT patients of ``profile``).

    Examples
    --------
    >>> ae = pd.DataFrame({"patient_id": ["a", "c"], "week": [1, 2], "event": ["Infection (URTI)", "fever"],
    ...                    "serious": [False, False], "related": [None, None]})
    >>> prof = pd.DataFrame({"patient_id": ["a", "b"], "high_window": [True, True]})
    >>> infections_in_window(ae, prof)[["n_high", "n_high_infected"]].values.tolist()
    [[2, 1]]
    """
    win = _check_window(window_weeks)
    _check_frame(profile, "profile", ["patient_id", "high_window"])
    high = set(profile.loc[profile["high_window"].astype(bool), "patient_id"])
    if adverse_events is None or not isinstance(adverse_events, pd.DataFrame) \
            or not {"patient_id", "week", "event"} <= set(adverse_events.columns):
        return pd.DataFrame([dict(n_high=len(high), n_high_infected=np.nan, n_infections_msct=np.nan,
                                  available=False, n_msct=len(profile))])
    ae = adverse_events
    inf = ae[ae["event"].astype(str).str.contains("infect", case=False)
             & pd.to_numeric(ae["week"], errors="coerce").between(0, win)]
    infected = set(inf["patient_id"])
    return pd.DataFrame([dict(n_high=len(high), n_high_infected=len(high & infected),
                              n_infections_msct=len(infected & set(profile["patient_id"])), available=True,
                              n_msct=len(profile))])


def transient_summary(profile: pd.DataFrame, *, threshold: float = 2.0) -> pd.DataFrame:
    """Is the IFN-γ rise transient? Responders high before/in the window who are still high at the response week.

    Returns
    -------
    DataFrame
        One row: ``n_high`` (responders high at week 0 or in the window, with a value at the response week),
        ``n_still_high`` (> threshold at the response week), ``proportion``, ``ci_low``, ``ci_high``,
        ``median_peak``, ``median_response_week``.

    Examples
    --------
    >>> prof = pd.DataFrame({"group": ["Responder"] * 3, "high_window": [True, True, False],
    ...                      "ifng_peak_window": [5.0, 4, 1], "ifng_response_week": [1.0, 3, 1]})
    >>> transient_summary(prof)[["n_high", "n_still_high"]].values.tolist()
    [[2, 1]]
    """
    thr = _check_threshold(threshold)
    _check_frame(profile, "profile", ["group", "high_window", "ifng_peak_window", "ifng_response_week"])
    later = profile["ifng_response_week"].to_numpy(float)
    at = (profile["group"] == "Responder").to_numpy(bool) & profile["high_window"].astype(bool).to_numpy() \
        & ~np.isnan(later)
    peak, later = profile["ifng_peak_window"].to_numpy(float)[at], later[at]
    k = int(np.sum(later > thr))
    prop = _first_row(stats.proportion_table(k, int(at.sum())))

    def median(x):  # as Series.median: NaN skipped, NaN when none is left
        x = x[~np.isnan(x)]
        return float(np.median(x)) if x.size else np.nan

    return pd.DataFrame({k_: [v] for k_, v in dict(
        n_high=int(at.sum()), n_still_high=k, proportion=prop["proportion"], ci_low=prop["ci_low"],
        ci_high=prop["ci_high"], median_peak=median(peak), median_response_week=median(later)).items()})


# --------------------------------------------------------------------------------------------- verdicts
def _first_row(table: pd.DataFrame) -> dict:
    """``table``'s first row as ``{column: value}`` (without building a row Series)."""
    return {c: table[c].to_numpy()[0] for c in table.columns}


def _fmt(x, digits: int = 2) -> str:
    return "n/a" if x is None or pd.isna(x) else f"{x:.{digits}f}"


def format_auc(row) -> str:
    """AUC with its bootstrap interval, as text; a degenerate interval (every resample perfectly separated) is named.

    ``row`` is a row of :func:`roc_summary`'s summary (``auc``, ``ci_low``, ``ci_high``).

    Examples
    --------
    >>> format_auc({"auc": 0.71, "ci_low": 0.6, "ci_high": 0.8})
    'AUC 0.71 (95% CI 0.60–0.80)'
    >>> format_auc({"auc": 1.0, "ci_low": float("nan"), "ci_high": float("nan")})
    'AUC 1.00 (no interval)'
    """
    auc, lo, hi = row["auc"], row["ci_low"], row["ci_high"]
    if pd.isna(lo) or pd.isna(hi):
        return f"AUC {_fmt(auc)} (no interval)"
    if float(hi) - float(lo) < 1e-9:
        return (f"AUC {_fmt(auc)} (bootstrap interval degenerate, {_fmt(lo)}–{_fmt(hi)}: every resample separates "
                "the groups perfectly; this is not certainty)")
    return f"AUC {_fmt(auc)} (95% CI {_fmt(lo)}–{_fmt(hi)})"


def qualitative_verdicts(*, share: pd.DataFrame, transient: pd.DataFrame, infections: pd.DataFrame,
                         first_sig: pd.DataFrame, roc: pd.DataFrame, diagnostics: pd.DataFrame,
                         lag_weeks=(2, 3), min_n: int = 2, subgroup_n=None,
                         alpha: float = 0.05) -> pd.DataFrame:
    """Judge the qualitative IFN-γ claims by stated rules.

    Parameters
    ----------
    share : DataFrame
        :func:`share_above`.
    transient : DataFrame
        :func:`transient_summary`.
    infections : DataFrame
        :func:`infections_in_window`.
    first_sig : DataFrame
        :func:`first_significant` for the markers (``reference`` "previous" and "baseline"), with
        ``das28`` among the markers for the precedence claim.
    roc : DataFrame
        :func:`roc_summary`'s summary (row ``ifng_peak_window`` used).
    diagnostics : DataFrame
        :func:`diagnostic_summary`'s metrics for the paper's window and threshold.
    lag_weeks : (int, int)
        The claimed lag range, inclusive.
    min_n : int
        A subgroup needs at least this many patients to be judged.
    subgroup_n : dict, optional
        ``{subgroup: n}``; subgroups below ``min_n`` are not judged.
    alpha : float, default 0.05
        Significance level of the responder/non-responder comparison.

    Returns
    -------
    DataFrame
        One row per claim id: ``claim_id``, ``testable``, ``holds``, ``reproduced`` (text),
        ``rule`` (text).

    Examples
    --------
    >>> share = pd.DataFrame({"group": ["Responder", "Non-responder"], "period": ["before or after"] * 2,
    ...                       "n": [10, 10], "n_high": [8, 1], "proportion": [0.8, 0.1]})
    >>> res = qualitative_verdicts(share=share, transient=None, infections=None, first_sig=None,
    ...                            roc=None, diagnostics=None)
    >>> res.set_index("claim_id").loc[["ifng.high_in_responders", "ifng.low_in_nonresponders"], "holds"].tolist()
    [True, True]
    """
    rows = []

    def add(cid, testable, holds, reproduced, rule):
        rows.append(dict(claim_id=cid, testable=bool(testable), holds=bool(holds), reproduced=reproduced, rule=rule))

    # High in responders (and more often than in non-responders) / low in non-responders.
    from scipy.stats import fisher_exact

    either = rows_by(share[share["period"] == "before or after"], "group") if share is not None else None
    fisher_p = np.nan
    if either is not None and set(_GROUPS) <= set(either) and all(either[g]["n"] > 0 for g in _GROUPS):
        r, nr = either["Responder"], either["Non-responder"]
        table = [[int(r["n_high"]), int(r["n"] - r["n_high"])], [int(nr["n_high"]), int(nr["n"] - nr["n_high"])]]
        fisher_p = float(fisher_exact(table, alternative="two-sided")[1])
    for cid, grp, want_high in (("ifng.high_in_responders", "Responder", True),
                                ("ifng.low_in_nonresponders", "Non-responder", False)):
        rule = (f"reproduced if {'more' if want_high else 'fewer'} than half of the {grp.lower()}s have IFN-γ "
                "above the threshold at week 0 or in the window, and the share differs between responders and "
                f"non-responders (Fisher exact p < {alpha:g})")
        if either is None or grp not in either or either[grp]["n"] == 0 or pd.isna(fisher_p):
            add(cid, False, False, "", rule + " (a group is empty)")
            continue
        r = either[grp]
        holds = (r["proportion"] > 0.5 if want_high else r["proportion"] < 0.5) and fisher_p < alpha
        add(cid, True, holds, f"{int(r['n_high'])}/{int(r['n'])} ({_fmt(r['proportion'])}) high; Fisher "
            f"{format_p(fisher_p)}", rule)

    # Transient.
    rule = "reproduced if fewer than half of the responders with high IFN-γ are still high at the response week"
    if transient is None or transient.iloc[0]["n_high"] == 0:
        add("ifng.transient_increase", False, False, "", rule + " (no high responder has a value at the response week)")
    else:
        t = transient.iloc[0]
        add("ifng.transient_increase", True, t["proportion"] < 0.5,
            f"{int(t['n_still_high'])}/{int(t['n_high'])} still high (median {_fmt(t['median_peak'])} → "
            f"{_fmt(t['median_response_week'])} pg/mL)", rule)

    # Infection.
    rule = "reproduced if no patient with high IFN-γ had an infection in weeks 0..window"
    if infections is None or not bool(infections.iloc[0]["available"]):
        add("ifng.unrelated_to_infection", False, False, "", rule + " (no adverse-event table)")
    elif int(infections.iloc[0].get("n_msct", 1)) == 0:  # a control-only trial: no IFN-γ increase to look at
        add("ifng.unrelated_to_infection", False, False, "",
            rule + " (no MSCT patient classified by response in these data)")
    else:
        i = infections.iloc[0]
        add("ifng.unrelated_to_infection", True, i["n_high_infected"] == 0,
            f"{int(i['n_high_infected'])} of {int(i['n_high'])} high-IFN-γ patients had an infection", rule)

    sizes = dict(subgroup_n or {})
    judged = [s for s in ("Before", "After") if sizes.get(s, min_n) >= min_n]
    if first_sig is not None:
        fs = rows_by(first_sig, ["subgroup", "marker", "reference"])
    # Rapid efficacy in Before: first significant ratio change vs baseline earlier than in After.
    rule = ("reproduced if the Treg/Th17 ratio first differs significantly from baseline (paired t) at an "
            "earlier week in the Before subgroup than in the After subgroup (or never in After)")
    try:
        wb = fs[("Before", "treg_th17_ratio", "baseline")]["first_sig_week"]
        wa = fs[("After", "treg_th17_ratio", "baseline")]["first_sig_week"]
        ok = {"Before", "After"} <= set(judged)
        holds = pd.notna(wb) and (pd.isna(wa) or wb < wa)
        add("ifng.rapid_efficacy_before", ok, holds, f"first significant week: Before "
            f"{'none' if pd.isna(wb) else _fmt(wb, 0)}, After {'none' if pd.isna(wa) else _fmt(wa, 0)}",
            rule if ok else rule + " (a subgroup is too small)")
    except (KeyError, NameError, UnboundLocalError):
        add("ifng.rapid_efficacy_before", False, False, "", rule + " (no subgroup tests)")

    # Lag 2–3 weeks.
    lo, hi = lag_weeks
    rule = (f"reproduced if, in each subgroup (Before, After), the Treg/Th17 ratio and IL-10 first rise and IL-6 "
            f"first falls significantly versus the previous visit {lo}–{hi} weeks after the subgroup's IFN-γ rise "
            "(median first week above the threshold; a significant change the other way is not the change claimed)")
    try:
        parts, holds = [], bool(judged)
        for sg in judged:
            for m, want in (("treg_th17_ratio", "increase"), ("il_10", "increase"), ("il_6", "decrease")):
                r = fs[(sg, m, "previous")]
                lag = r[f"first_{want}_week"] - r["rise_week"]
                parts.append(f"{sg} {m}: {f'no significant {want}' if pd.isna(lag) else _fmt(lag, 1)}")
                holds = holds and pd.notna(lag) and lo <= lag <= hi
        add("ifng.lag_2_3_weeks", bool(judged), holds, "lag (weeks): " + "; ".join(parts), rule)
    except (KeyError, NameError, UnboundLocalError):
        add("ifng.lag_2_3_weeks", False, False, "", rule + " (no subgroup tests)")

    # IFN-γ precedes improvement.
    rule = ("reproduced if, in each subgroup, the first significant change from baseline in the claimed direction "
            "(DAS28 down, Treg/Th17 and IL-10 up) comes after the subgroup's IFN-γ rise week (a significant change "
            "the other way is not the change claimed)")
    try:
        parts, holds = [], bool(judged)
        for sg in judged:
            for m, want in (("das28", "decrease"), ("treg_th17_ratio", "increase"), ("il_10", "increase")):
                r = fs[(sg, m, "baseline")]
                week = r[f"first_{want}_week"]
                parts.append(f"{sg} {m}: no significant {want}" if pd.isna(week) else
                             f"{sg} {m}: {want} first at week {_fmt(week, 0)}")
                holds = holds and pd.notna(week) and week > r["rise_week"]
        add("ifng.precedes_improvement", bool(judged), holds, "; ".join(parts), rule)
    except (KeyError, NameError, UnboundLocalError):
        add("ifng.precedes_improvement", False, False, "", rule + " (no subgroup tests)")

    # Predicts response.
    rule = ("reproduced if the AUC of peak IFN-γ (week 0..window) has a 95% CI above 0.5 and, at the paper's "
            "threshold, sensitivity and specificity both exceed 0.5")
    roc_rows = rows_by(roc, "score") if roc is not None else {}
    if roc is None or diagnostics is None or "ifng_peak_window" not in roc_rows \
            or pd.isna(roc_rows["ifng_peak_window"]["auc"]):
        add("ifng.predicts_response", False, False, "", rule + " (AUC not computable)")
    else:
        r = roc_rows["ifng_peak_window"]
        est = dict(zip(diagnostics["metric"], diagnostics["estimate"]))
        holds = r["ci_low"] > 0.5 and est["sensitivity"] > 0.5 and est["specificity"] > 0.5
        add("ifng.predicts_response", True, holds,
            f"AUC {_fmt(r['auc'])} (95% CI {_fmt(r['ci_low'])}–{_fmt(r['ci_high'])}); sensitivity "
            f"{_fmt(est['sensitivity'])}, specificity {_fmt(est['specificity'])}", rule)
    return pd.DataFrame(rows, columns=["claim_id", "testable", "holds", "reproduced", "rule"])


# --------------------------------------------------------------------------------------------- figures
def plot_peaks(profile: pd.DataFrame, *, threshold: float = 2.0, max_points: int = 400, seed: int = 0):
    """Fig. 5a: IFN-γ before (week 0) and peak in the window, per patient, by group (log scale).

    Returns a Figure with one Axes; above ``max_points`` patients per group a seeded random
    subsample is drawn (the title says so).

    Examples
    --------
    >>> prof = pd.DataFrame({"group": ["Responder", "Non-responder"], "ifng_baseline": [3.0, 1.0],
    ...                      "ifng_peak_after": [1.0, 0.5]})
    >>> fig = plot_peaks(prof)
    >>> len(fig.axes)
    1
    """
    import matplotlib.pyplot as plt
    from analysis.science import figures

    _check_frame(profile, "profile", ["group", "ifng_baseline", "ifng_peak_after"])
    long = profile.melt(id_vars=["group"], value_vars=["ifng_baseline", "ifng_peak_after"],
                        var_name="period", value_name="ifng").dropna()
    long["period"] = long["period"].map({"ifng_baseline": "before (week 0)", "ifng_peak_after": "after (peak)"})
    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    sub = False
    for gi, grp in enumerate(_GROUPS):
        for pi, period in enumerate(["before (week 0)", "after (peak)"]):
            y = long.loc[(long["group"] == grp) & (long["period"] == period), "ifng"].to_numpy(float)
            if y.size > max_points:
                y, sub = rng.choice(y, max_points, replace=False), True
            x = pi * 3 + gi + rng.uniform(-0.25, 0.25, y.size)
            ax.scatter(x, np.clip(y, 0.1, None), s=14, alpha=0.6, color=figures.color_for(grp),
                       label=grp if pi == 0 else None)
            if y.size:
                ax.hlines(np.median(y), pi * 3 + gi - 0.35, pi * 3 + gi + 0.35, color="k", lw=2)
    ax.axhline(threshold, ls="--", color="0.4", lw=1, label=f"threshold {threshold:g} pg/mL")
    ax.set_yscale("log")
    ax.set_xticks([0.5, 3.5], ["before (week 0)", "after (peak, window)"])
    ax.set_ylabel("IFN-γ (pg/mL, log scale)")
    ax.legend(loc="upper left")
    if sub:
        ax.set_title(f"showing a random {max_points} patients per group (seed {seed}); bars = medians")
    return fig


def plot_trajectories(visits: pd.DataFrame, profile: pd.DataFrame, *, markers=tuple(MARKERS),
                      weeks=None, subgroups=("Before", "After")):
    """Fig. 5b–e: mean ± SEM of each marker over the visits for the Before and After subgroups.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abab"), "week": [0, 0, 1, 1], "il_10": [1.0, 2, 3, 4]})
    >>> prof = pd.DataFrame({"patient_id": list("ab"), "group": ["Responder"] * 2, "subgroup": ["Before", "After"]})
    >>> len(plot_trajectories(v, prof, markers=["il_10"]).axes)
    1
    """
    import matplotlib.pyplot as plt
    from analysis.science import figures

    markers = list(markers)
    sub = profile.loc[(profile["group"] == "Responder") & profile["subgroup"].isin(subgroups),
                      ["patient_id", "subgroup"]]
    weeks = _early_weeks(visits) if weeks is None else weeks
    d = visits.loc[visits["week"].isin(weeks), ["patient_id", "week"] + markers].merge(sub, on="patient_id")
    d["subgroup"] = pd.Categorical(d["subgroup"], list(subgroups))
    ncol = min(2, len(markers))
    nrow = int(np.ceil(len(markers) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 3.8 * nrow), squeeze=False)
    for ax, m in zip(axes.ravel(), markers):
        figures.mean_sem_lines(d, x="week", y=m, hue="subgroup", ax=ax)
        ax.set_ylabel(MARKERS.get(m, m) + " (mean ± SEM)")
        ax.set_xticks([w for w in weeks if (d["week"] == w).any()])
    for ax in axes.ravel()[len(markers):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def trajectories_not_drawn(visits: pd.DataFrame, profile: pd.DataFrame, *, markers=tuple(MARKERS),
                           weeks=None, subgroups=("Before", "After")) -> str:
    """Why :func:`plot_trajectories` would draw an empty figure on these data, or ``""`` when it has lines.

    Parameters
    ----------
    visits : DataFrame
        ``patient_id``, ``week`` and the marker columns.
    profile : DataFrame
        :func:`ifng_profile`: ``patient_id``, ``group``, ``subgroup``.
    markers, weeks, subgroups
        As in :func:`plot_trajectories`.

    Returns
    -------
    str
        A sentence ending without a full stop, saying what is missing; empty when some subgroup has a marker value.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("ab"), "week": [0, 0], "il_10": [1.0, 2]})
    >>> prof = pd.DataFrame({"patient_id": list("ab"), "group": ["Non-responder"] * 2, "subgroup": [None] * 2})
    >>> trajectories_not_drawn(v, prof, markers=["il_10"], weeks=[0])
    'these data have no responders'
    >>> prof["group"] = "Responder"; prof["subgroup"] = "Never high"
    >>> trajectories_not_drawn(v, prof, markers=["il_10"], weeks=[0])
    'the rule puts no responder in the Before or After subgroup (2 responders)'
    >>> prof["subgroup"] = ["Before", "After"]
    >>> trajectories_not_drawn(v, prof, markers=["il_10"], weeks=[0])
    ''
    """
    resp = profile.loc[profile["group"] == "Responder"]
    if resp.empty:
        return "these data have no responders"
    sub = resp.loc[resp["subgroup"].isin(subgroups), "patient_id"]
    names = " or ".join(subgroups)
    if sub.empty:
        return (f"the rule puts no responder in the {names} subgroup ({len(resp)} "
                f"responder{'' if len(resp) == 1 else 's'})")
    markers = [m for m in markers if m in visits.columns]
    weeks = _early_weeks(visits) if weeks is None else weeks
    d = visits.loc[visits["patient_id"].isin(sub) & visits["week"].isin(weeks), markers]
    if not markers or not d.notna().any().any():
        return f"no responder of the {names} subgroup has a marker value at the weeks shown"
    return ""


def plot_delta(profile: pd.DataFrame, *, max_points: int = 2000, seed: int = 0):
    """Fig. 5f: ΔDAS28 against ΔIFN-γ with a least-squares line per group.

    Examples
    --------
    >>> prof = pd.DataFrame({"group": ["Responder"] * 2, "delta_ifng": [1.0, 2], "das28_change_12": [-1.0, -2]})
    >>> len(plot_delta(prof).axes)
    1
    """
    import matplotlib.pyplot as plt
    from analysis.science import figures

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    figures.scatter_fit(profile, x="delta_ifng", y="das28_change_12", hue="group", ax=ax,
                        max_points=max_points, seed=seed)
    ax.axhline(0, color="0.6", lw=0.8)
    rw = int(profile.attrs.get("response_week", PAPER.response_week))
    ax.set(xlabel=f"ΔIFN-γ (peak weeks 0–{rw} − week 0, pg/mL)", ylabel=f"ΔDAS28 (week {rw} − week 0)")
    return fig


def plot_roc(curves: pd.DataFrame, summary: pd.DataFrame):
    """ROC curves of each IFN-γ summary, with the Youden optimum of each marked.

    Examples
    --------
    >>> prof = pd.DataFrame({"group": ["Responder", "Responder", "Non-responder", "Non-responder"],
    ...                      "ifng_peak_window": [3.0, 0.35, 0.1, 0.4], "ifng_baseline": [1.0, 2, 1, 1]})
    >>> c, s = roc_summary(prof, n_boot=0)
    >>> len(plot_roc(c, s).axes)
    1
    """
    import matplotlib.pyplot as plt
    from analysis.science import figures

    labels = {"ifng_peak_window": "peak, week 0 to window", "ifng_baseline": "baseline only (week 0)"}
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    for i, row in enumerate(summary.itertuples()):
        c = curves[curves["score"] == row.score]
        text = labels.get(row.score, row.score)
        if pd.notna(row.auc):
            text += f" (AUC {row.auc:.2f})"
        color = figures.SPARE_COLOURS[i] if i else figures.PALETTE["Responder"]
        ax.plot(c["fpr"], c["tpr"], drawstyle="steps-post", color=color, label=text)
        if pd.notna(row.youden_j):
            ax.plot(1 - row.youden_specificity, row.youden_sensitivity, "o", color=color, ms=7)
    ax.plot([0, 1], [0, 1], ls="--", color="0.6", lw=1, label="chance")
    ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), xlabel="1 − specificity", ylabel="sensitivity",
           aspect="equal")
    ax.legend(loc="lower right", fontsize=9)
    return fig

