"""Time to an event seen at visits: per-patient times from visit checks, and the Kaplan–Meier curve.

The paper counts relapse at one visit. :func:`relapse_times` turns a chapter's per-visit relapse checks into
one time per patient (first relapse, or censored at the last evaluable visit), :func:`kaplan_meier` estimates
the relapse-free share over time with its pointwise confidence interval, and :func:`km_at` reads the curve at
a time (e.g. the cumulative relapse by the paper's relapse week).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core.checks import check_frame as _check_frame

__all__ = ["kaplan_meier", "km_at", "relapse_times"]

_KM_COLS = ["time", "at_risk", "events", "censored", "survival", "ci_low", "ci_high"]


def relapse_times(checks: pd.DataFrame, *, reference_week: int) -> pd.DataFrame:
    """Time to first relapse (or to the last evaluable visit) per patient, from the chapter's relapse checks.

    Parameters
    ----------
    checks : DataFrame
        One row per patient × visit checked (``patient_id``, ``week``, ``evaluable``, ``relapse``), e.g. the
        disease-activity chapter's ``relapse_checks``.
    reference_week : int
        The visit relapse is measured from (the design's response week); time 0.

    Returns
    -------
    DataFrame
        One row per patient with at least one evaluable later visit: ``patient_id``, ``time`` (weeks after
        ``reference_week``), ``event`` (True: relapsed at ``time``; False: censored at the last evaluable visit).

    Notes
    -----
    Relapse is only seen at visits, so the time is the visit at which it was first seen (interval
    censoring is ignored, as it is in the paper's "relapse at week 24").

    Examples
    --------
    >>> c = pd.DataFrame({"patient_id": ["a", "a", "b", "b"], "week": [24, 48, 24, 48],
    ...                   "evaluable": [True, True, True, False], "relapse": [False, True, False, False]})
    >>> relapse_times(c, reference_week=12).values.tolist()
    [['a', 36, True], ['b', 12, False]]
    """
    _check_frame(checks, "checks", ["patient_id", "week", "evaluable", "relapse"])
    ev = checks.loc[checks["evaluable"].astype(bool)]
    cols = ["patient_id", "time", "event"]
    if ev.empty:
        return pd.DataFrame(columns=cols)
    pid, week = ev["patient_id"], ev["week"]
    if isinstance(week.dtype, np.dtype) and week.dtype.kind in "iu" and pid.notna().all():
        # integer weeks and known patients: each patient's first relapse and last evaluable week by numpy (what the
        # groupby min / max below give; patients sorted)
        codes, patients = pd.factorize(pid, sort=True)
        weeks = week.to_numpy()
        last_week = np.full(len(patients), np.iinfo(weeks.dtype).min, dtype=weeks.dtype)
        np.maximum.at(last_week, codes, weeks)
        relapse = ev["relapse"].astype(bool).to_numpy()
        first_week = np.full(len(patients), np.iinfo(weeks.dtype).max, dtype=weeks.dtype)
        np.minimum.at(first_week, codes[relapse], weeks[relapse])
        event = np.zeros(len(patients), dtype=bool)
        event[codes[relapse]] = True
        out = pd.DataFrame({"patient_id": patients, "time": (np.where(event, first_week, last_week)
                                                              - int(reference_week)).astype(int), "event": event})
        return out[cols].reset_index(drop=True)
    first = ev.loc[ev["relapse"].astype(bool)].groupby("patient_id")["week"].min()
    last = ev.groupby("patient_id")["week"].max()
    out = pd.DataFrame({"patient_id": last.index})
    out["event"] = out["patient_id"].isin(first.index)
    week = np.where(out["event"], out["patient_id"].map(first), out["patient_id"].map(last))
    out["time"] = (week - int(reference_week)).astype(int)
    return out[cols].reset_index(drop=True)


def kaplan_meier(times: pd.DataFrame, *, duration: str = "time", event: str = "event",
                 confidence: float = 0.95) -> pd.DataFrame:
    """Kaplan–Meier survival with its pointwise CI (lifelines; log(−log) Greenwood interval).

    Parameters
    ----------
    times : DataFrame
        One row per patient with ``duration`` and ``event`` (bool) columns.
    confidence : float

    Returns
    -------
    DataFrame
        One row per distinct time, starting at 0: ``time``, ``at_risk``, ``events``, ``censored``,
        ``survival``, ``ci_low``, ``ci_high``. Empty (with these columns) when ``times`` is empty.

    Examples
    --------
    >>> t = pd.DataFrame({"time": [1, 2, 2, 3, 4], "event": [True, True, False, True, False]})
    >>> kaplan_meier(t)[["time", "at_risk", "survival"]].round(2).values.tolist()
    [[0.0, 5.0, 1.0], [1.0, 5.0, 0.8], [2.0, 4.0, 0.6], [3.0, 2.0, 0.3], [4.0, 1.0, 0.3]]
    """
    _check_frame(times, "times", [duration, event])
    if times.empty:
        return pd.DataFrame(columns=_KM_COLS)
    from lifelines import KaplanMeierFitter

    km = KaplanMeierFitter(alpha=1 - confidence)
    km.fit(times[duration].astype(float), times[event].astype(bool))
    et = km.event_table
    ci = km.confidence_interval_survival_function_
    out = pd.DataFrame({"time": et.index.astype(float), "at_risk": et["at_risk"].to_numpy(float),
                        "events": et["observed"].to_numpy(float), "censored": et["censored"].to_numpy(float),
                        "survival": km.survival_function_.iloc[:, 0].reindex(et.index).to_numpy(float),
                        "ci_low": ci.iloc[:, 0].reindex(et.index).to_numpy(float),
                        "ci_high": ci.iloc[:, 1].reindex(et.index).to_numpy(float)})
    if out["time"].iloc[0] != 0:
        out = pd.concat([pd.DataFrame([dict(time=0.0, at_risk=float(len(times)), events=0.0, censored=0.0,
                                            survival=1.0, ci_low=1.0, ci_high=1.0)]), out], ignore_index=True)
    return out[_KM_COLS]


def km_at(km: pd.DataFrame, t: float) -> pd.Series | None:
    """The row of a :func:`kaplan_meier` table in force at time ``t`` (the last time ≤ ``t``); None before the first.

    Examples
    --------
    >>> km = kaplan_meier(pd.DataFrame({"time": [1, 2, 2, 3, 4], "event": [True, True, False, True, False]}))
    >>> round(float(km_at(km, 2.5)["survival"]), 6), km_at(km.iloc[1:], 0.5) is None
    (0.6, True)
    """
    part = km.loc[km["time"] <= t]
    return None if part.empty else part.iloc[-1]
