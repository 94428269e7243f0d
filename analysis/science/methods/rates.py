"""Event rates per patient-year with exact intervals, and the rate ratio between two arms.

The paper counts adverse events. Counts over unequal follow-up are compared as rates: events per
patient-year with the exact (Garwood) Poisson interval (:func:`poisson_exact_ci`), and the ratio of two rates
with the exact conditional (binomial) interval and test (:func:`rate_ratio_exact`). :func:`ae_rates` applies
both to the adverse events of a trial, per arm and per kind of event.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special as _special
from scipy import stats as sps

from analysis.core.checks import check_frame as _check_frame

__all__ = ["CATEGORIES", "WEEKS_PER_YEAR", "ae_rates", "poisson_exact_ci", "rate_ratio_exact"]

#: Weeks per year for person-time (365.25 days / 7).
WEEKS_PER_YEAR = 365.25 / 7
#: Adverse-event categories :func:`ae_rates` counts by default (values of the events' ``category``).
CATEGORIES: tuple[str, ...] = ("infusion reaction (fever/chills)", "infection")


def poisson_exact_ci(events, exposure, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) confidence interval of a Poisson rate ``events / exposure`` from chi-square quantiles.

    Lower = χ²(α/2; 2k) / (2T) (0 when k = 0); upper = χ²(1 − α/2; 2k + 2) / (2T).

    Examples
    --------
    >>> tuple(round(x, 4) for x in poisson_exact_ci(0, 10))
    (0.0, 0.3689)
    """
    k = float(events)
    t = float(exposure)
    if t <= 0 or k < 0 or not 0 < confidence < 1:
        return float("nan"), float("nan")
    a = 1 - confidence
    low = 0.0 if k == 0 else _chi2_ppf(a / 2, 2 * k) / (2 * t)
    high = _chi2_ppf(1 - a / 2, 2 * k + 2) / (2 * t)
    return low, high


def _chi2_ppf(q: float, df: float) -> float:
    """``scipy.stats.chi2.ppf(q, df)`` for 0 < q < 1 and df > 0: its formula (``2 gammaincinv(df / 2, q)``)
    without the distribution's argument handling, so the same number (tests/test_safety_fast.py)."""
    return float(2 * _special.gammaincinv(np.asarray(df, float) / 2, q))


def rate_ratio_exact(k1, t1, k2, t2, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Rate ratio (k1/t1)/(k2/t2) with the exact conditional (binomial) CI and two-sided p.

    Given k1 + k2 events, k1 is binomial with p = t1 r / (t1 r + t2) under rate ratio r; the Clopper–Pearson
    interval of p gives that of r.

    Returns
    -------
    (ratio, ci_low, ci_high, p)

    Examples
    --------
    >>> [round(x, 3) for x in rate_ratio_exact(10, 5.0, 10, 5.0)]
    [1.0, 0.374, 2.677, 1.0]
    """
    k1, k2, t1, t2 = int(k1), int(k2), float(t1), float(t2)
    n = k1 + k2
    if t1 <= 0 or t2 <= 0 or n == 0:
        return float("nan"), float("nan"), float("nan"), float("nan")
    a = 1 - confidence
    lo = 0.0 if k1 == 0 else float(sps.beta.ppf(a / 2, k1, n - k1 + 1))
    hi = 1.0 if k1 == n else float(sps.beta.ppf(1 - a / 2, k1 + 1, n - k1))

    def to_ratio(p):
        return p * t2 / ((1 - p) * t1) if p < 1 else float("inf")

    ratio = (k1 / t1) / (k2 / t2) if k2 > 0 else float("inf")
    p = float(sps.binomtest(k1, n, t1 / (t1 + t2)).pvalue)
    return ratio, to_ratio(lo), to_ratio(hi), p


def ae_rates(adverse_events: pd.DataFrame | None, patients: pd.DataFrame, *,
             categories: Sequence[str] = CATEGORIES, confidence: float = 0.95,
             weeks_per_year: float = WEEKS_PER_YEAR) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Adverse-event rates per patient-year by arm with exact Poisson CIs, and the MSCT/control rate ratio.

    Parameters
    ----------
    adverse_events : DataFrame or None
        One row per event (``patient_id``, ``week``, ``serious`` and, when ``categories`` is not empty, the
        event's ``category``, e.g. from the safety chapter's ``classify_events``); None or empty: no events.
    patients : DataFrame
        ``derived.patients`` (``patient_id``, ``arm``, ``last_week``).
    categories : sequence of str
        Values of ``category`` counted as measures of their own, after "any adverse event" and "serious
        adverse event".
    confidence : float
    weeks_per_year : float

    Returns
    -------
    (rates, ratios)
        ``rates``: one row per measure × arm: ``measure``, ``arm``, ``patients``, ``patient_years``,
        ``events``, ``rate_per_py``, ``ci_low``, ``ci_high``. ``ratios``: one row per measure:
        ``measure``, ``events_msct``, ``events_control``, ``rate_ratio``, ``ci_low``, ``ci_high``, ``p``
        (exact conditional test).

    Notes
    -----
    Follow-up runs from the infusion (week 0) to the patient's last visit, or to a later adverse event when
    one is recorded after it. Every event counts (a patient may have several). Measures: any adverse event,
    serious adverse event, then each of ``categories`` (by default infusion reaction (fever/chills) and
    infection).

    Examples
    --------
    >>> pts = pd.DataFrame({"patient_id": ["a", "b"], "arm": ["MSCT", "control"], "last_week": [52, 52]})
    >>> ae = pd.DataFrame({"patient_id": ["a"], "week": [3], "event": ["fever"], "serious": [False],
    ...                    "category": ["infusion reaction (fever/chills)"]})
    >>> rates, ratios = ae_rates(ae, pts, weeks_per_year=52)
    >>> rates.loc[rates["measure"] == "any adverse event", ["arm", "events", "patient_years"]].values.tolist()
    [['MSCT', 1, 1.0], ['control', 0, 1.0]]
    """
    _check_frame(patients, "patients", ["patient_id", "arm", "last_week"])
    ae = adverse_events if adverse_events is not None else pd.DataFrame(
        columns=["patient_id", "week", "event", "serious"])
    if "category" not in ae.columns:
        if len(ae) and len(categories):
            raise ValueError("`adverse_events` has no `category` column; classify the events first (e.g. with the "
                             "safety chapter's classify_events) or pass categories=()")
        ae = ae.assign(category=pd.Series(dtype=object))
    ae = ae.assign(serious=ae["serious"].astype("boolean").fillna(False).astype(bool))
    last_ae = ae.groupby("patient_id")["week"].max() if len(ae) else pd.Series(dtype=float)
    follow = pd.to_numeric(patients["last_week"], errors="coerce").fillna(0).astype(float)
    follow = np.maximum(follow.to_numpy(), patients["patient_id"].map(last_ae).fillna(0).to_numpy(float))
    pts = patients[["patient_id", "arm"]].assign(years=follow / weeks_per_year)
    ids = pts["patient_id"]
    if ids.notna().all() and ids.is_unique and "arm" not in ae.columns:
        # each event's patient by an index lookup: the events of the inner merge below (the counts need only the
        # events' arms, not their order)
        at = pd.Index(ids.to_numpy()).get_indexer(ae["patient_id"].to_numpy())
        keep = at >= 0
        event_arm = pts["arm"].to_numpy(object)[at[keep]]
    else:
        ae = ae.merge(pts[["patient_id", "arm"]], on="patient_id", how="inner")
        keep = np.ones(len(ae), dtype=bool)
        event_arm = ae["arm"].to_numpy(object)
    measures = {"any adverse event": np.ones(int(keep.sum()), bool),
                "serious adverse event": ae["serious"].to_numpy(bool)[keep],
                **{c: ae["category"].eq(c).to_numpy(bool)[keep] for c in categories}}
    # each arm's patients and patient-years (the same for every measure), and each event's arm
    arms = {}
    for arm in ("MSCT", "control"):
        part = pts.loc[pts["arm"] == arm]
        arms[arm] = (int(len(part)), float(part["years"].sum()))
    rows, ratios = [], []
    for measure, mask in measures.items():
        per_arm = {}
        for arm, (n_patients, t) in arms.items():
            k = int(np.count_nonzero(mask & (event_arm == arm)))  # the measure's events in the arm
            lo, hi = poisson_exact_ci(k, t, confidence)
            per_arm[arm] = (k, t)
            rows.append(dict(measure=measure, arm=arm, patients=n_patients, patient_years=t, events=k,
                             rate_per_py=k / t if t > 0 else np.nan, ci_low=lo, ci_high=hi))
        rr, lo, hi, p = rate_ratio_exact(*per_arm["MSCT"], *per_arm["control"], confidence=confidence)
        ratios.append(dict(measure=measure, events_msct=per_arm["MSCT"][0], events_control=per_arm["control"][0],
                           rate_ratio=rr, ci_low=lo, ci_high=hi, p=p))
    return pd.DataFrame(rows), pd.DataFrame(ratios)
