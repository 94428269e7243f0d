"""The arithmetic the claims rules share: confidence intervals, the Wilson interval, number formatting and the
per-visit value pickers a chapter's ``judge_claims`` reads."""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd

from analysis.core.moments import mean_var

#: floating-point slack so that a value exactly on a bound counts as inside
EPS = 1e-9


def special():
    """:mod:`scipy.special`, imported on first use: the build collects and compares claims without SciPy."""
    from scipy import special

    return special


# --------------------------------------------------------------------------------------------- intervals
def floats(x) -> np.ndarray:
    """``x`` as a float array, non-numbers as NaN (a float array is used as it is)."""
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x.astype(float, copy=False)
    if isinstance(x, pd.Series) and x.dtype == np.float64:  # what pd.to_numeric gives back: its values
        return x.to_numpy()
    return np.asarray(pd.to_numeric(pd.Series(x), errors="coerce"), dtype=float)


def _finite(x) -> np.ndarray:
    """The finite values of :func:`floats` ``(x)``."""
    v = floats(x)
    return v[np.isfinite(v)]


def mean_ci(x, confidence: float = 0.95) -> tuple[float, float, float, int]:
    """Mean of ``x`` with its t-based confidence interval: ``(mean, low, high, n)`` (NaN below 2 values).

    Examples
    --------
    >>> est, lo, hi, n = mean_ci([1.0, 2.0, 3.0])
    >>> est, round(lo, 3), round(hi, 3), n
    (2.0, -0.484, 4.484, 3)
    """
    v = _finite(x)
    n = int(len(v))
    if n < 2:
        return (float(v.mean()) if n else float("nan"), float("nan"), float("nan"), n)
    m, var = mean_var(v)
    m, se = float(m), float(math.sqrt(var) / math.sqrt(n))
    half = float(special().stdtrit(n - 1, 0.5 + confidence / 2)) * se
    return (m, m - half, m + half, n)


def welch_ci(a, b, confidence: float = 0.95) -> tuple[float, float, float, int, int]:
    """Difference of means ``mean(a) − mean(b)`` with its Welch confidence interval.

    Returns ``(diff, low, high, n_a, n_b)`` (NaN bounds when a group has fewer than 2 values or both
    have zero variance).

    Examples
    --------
    >>> d, lo, hi, na, nb = welch_ci([2.0, 3.0, 4.0], [0.0, 1.0, 2.0])
    >>> d, round(lo, 3), round(hi, 3)
    (2.0, -0.267, 4.267)
    """
    va, vb = _finite(a), _finite(b)
    na, nb = len(va), len(vb)
    if na < 2 or nb < 2:
        d = float(va.mean() - vb.mean()) if na and nb else float("nan")
        return (d, float("nan"), float("nan"), na, nb)
    ma, var_a = mean_var(va)
    mb, var_b = mean_var(vb)
    sa, sb = var_a / na, var_b / nb
    d = float(ma - mb)
    se = math.sqrt(sa + sb)
    if se == 0:
        return (d, float("nan"), float("nan"), na, nb)
    df = (sa + sb) ** 2 / (sa ** 2 / (na - 1) + sb ** 2 / (nb - 1))
    half = float(special().stdtrit(df, 0.5 + confidence / 2)) * se
    return (d, d - half, d + half, na, nb)


@lru_cache(maxsize=64)
def z_quantile(confidence: float) -> float:
    """The two-sided standard-normal critical value ``z`` with ``P(|Z| <= z) = confidence``.

    Examples
    --------
    >>> round(z_quantile(0.95), 4)
    1.96
    """
    return float(special().ndtri(0.5 + confidence / 2))


def wilson_interval(successes, total, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score intervals for binomial proportions, vectorised: the book's one Wilson interval.

    ``centre = (p + z²/2n) / (1 + z²/n)``, ``half = z / (1 + z²/n) · sqrt(p(1-p)/n + z²/4n²)``
    (Wilson 1927, JASA 22:209; Newcombe 1998, Stat Med 17:857, method 3). Unlike the Wald interval it stays
    inside [0, 1] and is not degenerate at 0/n or n/n; the bound at 0/n is exactly 0 and at n/n exactly 1.

    Parameters
    ----------
    successes, total : int or array-like of int
        Counts, ``0 <= successes <= total``.
    confidence : float, default 0.95
        Strictly between 0 and 1.

    Returns
    -------
    (low, high) : tuple of numpy.ndarray
        NaN where ``total`` is 0.

    Examples
    --------
    >>> low, high = wilson_interval([0, 28], [10, 52])
    >>> low.round(4).tolist(), high.round(4).tolist()
    ([0.0, 0.405], [0.2775, 0.6666])
    """
    if not 0 < confidence < 1:
        raise ValueError(f"`confidence` must be strictly between 0 and 1; got {confidence!r}.")
    k = np.asarray(successes, float)
    n = np.asarray(total, float)
    if np.any(n < 0) or np.any(k < 0) or np.any(k > n):
        raise ValueError(f"`successes` must be between 0 and `total`; got successes={k.tolist()}, "
                         f"total={n.tolist()}.")
    z = z_quantile(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    low = np.where(n > 0, np.clip(centre - half, 0, 1), np.nan)
    high = np.where(n > 0, np.clip(centre + half, 0, 1), np.nan)
    low = np.where((k == 0) & (n > 0), 0.0, low)
    high = np.where((k == n) & (n > 0), 1.0, high)
    return low, high


def wilson_ci(successes: int, total: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of one proportion (:func:`wilson_interval` for a single count).

    Returns
    -------
    (low, high) : tuple of float; ``(nan, nan)`` when ``total`` is 0.

    Examples
    --------
    >>> [round(v, 4) for v in wilson_ci(28, 52)]
    [0.405, 0.6666]
    >>> wilson_ci(0, 10)[0], round(wilson_ci(0, 10)[1], 4)
    (0.0, 0.2775)
    """
    low, high = wilson_interval(np.asarray([successes]), np.asarray([total]), confidence)
    return (float(low[0]), float(high[0]))


def newcombe_ci(k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """Difference of two proportions ``k1/n1 − k2/n2`` with Newcombe's hybrid score interval (his method 10).

    Each proportion gets its Wilson interval (:func:`wilson_ci`); the bounds of the difference are
    ``d − sqrt((p1 − l1)² + (u2 − p2)²)`` and ``d + sqrt((u1 − p1)² + (p2 − l2)²)`` (Newcombe 1998,
    Stat Med 17:873).

    Returns
    -------
    (difference, low, high) : tuple of float; NaN when a group is empty.

    Examples
    --------
    Newcombe's own example, 56/70 against 48/80 (his Table II gives 0.0524 to 0.3339):

    >>> [round(v, 4) for v in newcombe_ci(56, 70, 48, 80)]
    [0.2, 0.0524, 0.3339]
    >>> newcombe_ci(1, 0, 2, 4)[0]
    nan
    """
    if n1 <= 0 or n2 <= 0:
        return (float("nan"), float("nan"), float("nan"))
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_ci(k1, n1, confidence)
    l2, u2 = wilson_ci(k2, n2, confidence)
    d = p1 - p2
    return (d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


# --------------------------------------------------------------------------------------------- formatting
def format_p(p: float, decimals: int = 3) -> str:
    """Format a p-value for prose: ``"p = 0.012"`` or ``"p < 0.001"``.

    Parameters
    ----------
    p : float
        The p-value; ``NaN``/``None`` gives ``"p = n/a"``.
    decimals : int, default 3
        Decimals shown; values below ``10**-decimals`` are written as ``p < 0.001``.

    Returns
    -------
    str

    Examples
    --------
    >>> format_p(0.01234)
    'p = 0.012'
    >>> format_p(0.0000042)
    'p < 0.001'
    >>> format_p(float("nan"))
    'p = n/a'
    """
    if p is None or pd.isna(p):
        return "p = n/a"
    floor = 10.0 ** (-decimals)
    if p < floor:
        return f"p < {floor:.{decimals}f}"
    return f"p = {p:.{decimals}f}"


def fmt_num(x: float) -> str:
    """Format a number with three significant digits (``-1.23``, ``0.0456``)."""
    return f"{x:.3g}"


def fmt_ci(lo: float, hi: float, confidence: float) -> str:
    """``95 % CI −1.2 to −0.3``."""
    return f"{100 * confidence:.4g} % CI {fmt_num(lo)} to {fmt_num(hi)}"


def count_noun(n: int, singular: str, plural: str | None = None) -> str:
    """``n`` with its noun in the right number: ``1 responder``, ``0 responders``, ``4 non-responders``.

    Parameters
    ----------
    n : int
    singular : str
    plural : str, optional
        Default: ``singular + "s"``.

    Examples
    --------
    >>> count_noun(1, "responder"), count_noun(0, "responder"), count_noun(3, "patient-year")
    ('1 responder', '0 responders', '3 patient-years')
    """
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def fmt_mean_ci(estimate: float, low: float, high: float, n: int) -> str:
    """A mean with its interval in brackets and its n, or what stands in for the interval when there is none.

    Parameters
    ----------
    estimate, low, high : float
        The mean and its interval bounds (NaN bounds below 2 values, as :func:`mean_ci` returns them).
    n : int
        The number of values.

    Examples
    --------
    >>> fmt_mean_ci(-0.5, -1.25, 0.25, 6)
    '-0.5 [-1.25, 0.25], n = 6'
    >>> fmt_mean_ci(0.4, float("nan"), float("nan"), 1)
    'no interval with n = 1'
    >>> fmt_mean_ci(float("nan"), float("nan"), float("nan"), 0)
    'no values'
    """
    if not n:
        return "no values"
    if is_nan(low) or is_nan(high):
        return f"no interval with n = {n}"
    return f"{fmt_num(estimate)} [{fmt_num(low)}, {fmt_num(high)}], n = {n}"


def direction_word(estimate: float) -> str:
    """Return ``increase``, ``decrease`` or ``no change`` for the sign of ``estimate``."""
    return "increase" if estimate > 0 else "decrease" if estimate < 0 else "no change"


def is_nan(x) -> bool:
    """True for a float NaN or pandas NA (``None`` is not NaN)."""
    if x is None:
        return False
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------------------------- data helpers
def judge_inputs(derived, design=None, visits: pd.DataFrame | None = None):
    """The design and visits a chapter's ``judge_claims`` works on: those given, else the derivation's.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from analysis.core.design import Design
    >>> d = SimpleNamespace(design=Design(visit_weeks=(0, 6, 26), response_week=6, final_week=26),
    ...                     visits=pd.DataFrame({"week": [0]}))
    >>> design, visits = judge_inputs(d)
    >>> design.final_week, len(visits)
    (26, 1)
    >>> judge_inputs(SimpleNamespace(visits=None))[0].final_week  # no design: the paper's
    48
    """
    from analysis.core.design import Design

    design = design or getattr(derived, "design", None) or Design()
    return design, (derived.visits if visits is None else visits)


def values_at(visits: pd.DataFrame, column: str, *, week: int, group: str | None = None) -> np.ndarray:
    """Finite values of ``column`` at ``week`` (optionally in one ``group``).

    Examples
    --------
    >>> v = pd.DataFrame({"week": [0, 4, 4], "group": ["R", "R", "C"], "x": [1.0, 2.0, 3.0]})
    >>> values_at(v, "x", week=4, group="R").tolist()
    [2.0]
    """
    if column not in visits.columns:
        return np.array([], dtype=float)
    sel = visits["week"].to_numpy() == week
    if group is not None:
        sel &= visits["group"].to_numpy(object) == group
    x = visits[column].to_numpy()[sel]
    x = x.astype(float) if x.dtype.kind == "f" else pd.to_numeric(x, errors="coerce").astype(float)
    return x[np.isfinite(x)]


def values_picker(visits: pd.DataFrame, column: str):
    """:func:`values_at` for many visits and groups of one column: the table's arrays are read once.

    Parameters
    ----------
    visits : DataFrame
        ``week``, ``group`` and ``column``, as for :func:`values_at`.
    column : str
        The column picked.

    Returns
    -------
    callable
        ``pick(week, group=None)``, the array :func:`values_at` ``(visits, column, week=week, group=group)``
        returns.

    Examples
    --------
    >>> v = pd.DataFrame({"week": [0, 4, 4], "group": ["R", "R", "C"], "x": [1.0, 2.0, 3.0]})
    >>> pick = values_picker(v, "x")
    >>> pick(4, "R").tolist(), pick(4).tolist(), values_picker(v, "y")(0).tolist()
    ([2.0], [2.0, 3.0], [])
    """
    if column not in visits.columns:
        return lambda week, group=None: np.array([], dtype=float)
    weeks, values = visits["week"].to_numpy(), visits[column].to_numpy()
    groups = visits["group"].to_numpy(object) if "group" in visits.columns else None
    in_group: dict = {}  # group -> its rows (the comparison of the group column made once per group)
    at_week: dict = {}  # week -> its rows (likewise)

    def pick(week, group=None) -> np.ndarray:
        if week not in at_week:
            at_week[week] = weeks == week
        sel = at_week[week].copy()
        if group is not None:
            if groups is None:
                visits["group"]  # the KeyError values_at raises
            if group not in in_group:
                in_group[group] = groups == group
            sel &= in_group[group]
        x = values[sel]
        x = x.astype(float) if x.dtype.kind == "f" else pd.to_numeric(x, errors="coerce").astype(float)
        return x[np.isfinite(x)]

    return pick


def paired_changes(visits: pd.DataFrame, column: str, *, after: int, before: int = 0, group: str | None = None,
                   patients=None) -> np.ndarray:
    """Per-patient ``column`` at ``after`` minus at ``before`` (patients with both), optionally in one group.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["a", "a", "b", "b", "c"], "week": [0, 4, 0, 4, 0],
    ...                   "group": ["R"] * 5, "x": [1.0, 3.0, 2.0, 2.5, 1.0]})
    >>> paired_changes(v, "x", after=4).tolist()
    [2.0, 0.5]
    """
    if column not in visits.columns:
        return np.array([], dtype=float)
    # numpy, not a pivot table: the claims call this a hundred times per cohort (the same result as
    # ``pivot_table(index="patient_id", columns="week", aggfunc="first")`` and a difference; tested)
    week = visits["week"].to_numpy()
    keep = (week == before) | (week == after)
    if group is not None:
        keep &= visits["group"].to_numpy(object) == group
    if patients is not None:
        keep &= visits["patient_id"].isin(list(patients)).to_numpy()
    y = pd.to_numeric(visits[column].to_numpy()[keep], errors="coerce").astype(float)
    week, ids = week[keep], visits["patient_id"].to_numpy()[keep]
    codes, _ = pd.factorize(ids, sort=True)
    n = int(codes.max()) + 1 if codes.size else 0

    def first(at):  # each patient's first non-missing value at week ``at`` (NaN when none)
        out = np.full(n, np.nan)
        idx = np.flatnonzero((week == at) & ~np.isnan(y))[::-1]
        out[codes[idx]] = y[idx]  # later rows written first, so the first row wins
        return out

    d = first(after) - first(before)
    return d[np.isfinite(d)]


