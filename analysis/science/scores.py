"""Clinical scores: DAS28 (ESR and CRP variants) and the EULAR response criteria.

All functions are vectorised: they accept Python scalars, numpy arrays or pandas Series
(Series keep their index) and propagate missing values.

References
----------
.. [1] Prevoo MLL, van 't Hof MA, Kuper HH, van Leeuwen MA, van de Putte LBA, van Riel PLCM.
   Modified disease activity scores that include twenty-eight-joint counts. Arthritis Rheum
   1995;38:44-48. (DAS28-ESR)
.. [2] DAS28 website, Radboud university medical center, "DAS28" formulae
   (https://www.das-score.nl/en/das-and-das28/how-to-measure-the-das28/): DAS28-CRP.
.. [3] van Gestel AM, Prevoo MLL, van 't Hof MA, et al. Development and validation of the
   European League Against Rheumatism response criteria for rheumatoid arthritis.
   Arthritis Rheum 1996;39:34-40. (EULAR response)
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["das28_esr", "das28_crp", "eular_response", "is_responder", "EULAR_CATEGORIES"]

#: The three EULAR response categories, best first.
EULAR_CATEGORIES: tuple[str, str, str] = ("good", "moderate", "none")

# Decimal places to which the improvement and the current DAS28 are rounded before the
# EULAR cut-offs are applied (see `eular_response`, Notes).
_DECIMALS = 9


def _as_float(x: Any) -> Any:
    """Scalars -> float, Series stay Series (float), everything else -> float ndarray."""
    if isinstance(x, pd.Series):
        return pd.to_numeric(x, errors="coerce").astype(float)
    if np.ndim(x) == 0:
        return np.nan if x is None or pd.isna(x) else float(x)
    arr = np.asarray(x)
    if arr.dtype.kind in "biuf":
        return arr.astype(float)
    return pd.to_numeric(pd.Series(np.asarray(x, dtype=object).ravel()), errors="coerce").to_numpy(
        dtype=float
    ).reshape(np.shape(x))


def _scalar_out(value: Any, *inputs: Any) -> Any:
    """Return a Python float when every input was a scalar."""
    if all(np.ndim(i) == 0 and not isinstance(i, pd.Series) for i in inputs):
        return float(value)
    return value


def das28_esr(tjc28, sjc28, esr, gh):
    """DAS28 with the erythrocyte sedimentation rate (Prevoo 1995).

    ``DAS28-ESR = 0.56*sqrt(TJC28) + 0.28*sqrt(SJC28) + 0.70*ln(ESR) + 0.014*GH``

    Parameters
    ----------
    tjc28, sjc28 : scalar, array or Series
        Tender and swollen joint counts (0-28).
    esr : scalar, array or Series
        ESR in mm/h (must be > 0; the logarithm of 0 is undefined and gives ``-inf``).
    gh : scalar, array or Series
        Patient global assessment of health, 0-100 mm.

    Returns
    -------
    float, ndarray or Series
        DAS28-ESR; ``NaN`` wherever an input is missing.

    References
    ----------
    Prevoo MLL et al. Arthritis Rheum 1995;38:44-48; formula as published on the DAS28 website
    (das-score.nl).

    Examples
    --------
    Hand-worked: tjc=4, sjc=1, esr=e (ln e = 1), gh=50 gives 0.56*2 + 0.28*1 + 0.70*1 + 0.014*50 = 2.80.

    >>> round(das28_esr(4, 1, np.e, 50), 10)
    2.8
    >>> das28_esr(pd.Series([4, None]), 1, np.e, 50).round(2).tolist()
    [2.8, nan]
    """
    t, s, e, g = (_as_float(v) for v in (tjc28, sjc28, esr, gh))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 0.56 * np.sqrt(t) + 0.28 * np.sqrt(s) + 0.70 * np.log(e) + 0.014 * g
    return _scalar_out(out, tjc28, sjc28, esr, gh)


def das28_crp(tjc28, sjc28, crp, gh):
    """DAS28 with C-reactive protein (DAS28 website formula; CRP in mg/L).

    ``DAS28-CRP = 0.56*sqrt(TJC28) + 0.28*sqrt(SJC28) + 0.36*ln(CRP + 1) + 0.014*GH + 0.96``

    Parameters
    ----------
    tjc28, sjc28 : scalar, array or Series
        Tender and swollen joint counts (0-28).
    crp : scalar, array or Series
        CRP in mg/L (not mg/dL).
    gh : scalar, array or Series
        Patient global assessment of health, 0-100 mm.

    Returns
    -------
    float, ndarray or Series
        DAS28-CRP; ``NaN`` wherever an input is missing.

    References
    ----------
    DAS28 website (das-score.nl), "How to measure the DAS28"; derived from Prevoo MLL et al.,
    Arthritis Rheum 1995;38:44-48.

    Examples
    --------
    Hand-worked: tjc=9, sjc=4, crp=e-1 (ln(crp+1) = 1), gh=0 gives 0.56*3 + 0.28*2 + 0.36 + 0 + 0.96 = 3.56.

    >>> round(das28_crp(9, 4, np.e - 1, 0), 10)
    3.56
    """
    t, s, c, g = (_as_float(v) for v in (tjc28, sjc28, crp, gh))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 0.56 * np.sqrt(t) + 0.28 * np.sqrt(s) + 0.36 * np.log(c + 1.0) + 0.014 * g + 0.96
    return _scalar_out(out, tjc28, sjc28, crp, gh)


def eular_response(baseline, current):
    """EULAR response category from a baseline and a current DAS28 (van Gestel 1996).

    ``improvement = baseline - current``

    * good: improvement > 1.2 and current <= 3.2
    * moderate: improvement > 1.2 and current > 3.2, or 0.6 < improvement <= 1.2 and current <= 5.1
    * none: improvement <= 0.6, or 0.6 < improvement <= 1.2 and current > 5.1

    Parameters
    ----------
    baseline, current : scalar, array or Series
        DAS28 before treatment and at the evaluation visit.

    Returns
    -------
    str, None, ndarray (object) or Series (object)
        ``"good"``, ``"moderate"`` or ``"none"``; ``None`` where either value is missing.

    Notes
    -----
    The cut-offs are decimal numbers, but DAS28 values are floats: ``4.4 - 3.2`` is
    ``1.2000000000000002`` in binary floating point and would wrongly count as "> 1.2".
    Both the improvement and the current value are therefore rounded to 9 decimal places
    (``numpy.round``) before they are compared, so boundaries behave as in decimal arithmetic.
    Differences smaller than 1e-9 are far below any clinical precision.

    Examples
    --------
    >>> eular_response(4.4, 3.2)      # improvement exactly 1.2 -> not > 1.2; 0.6 < 1.2, current <= 5.1
    'moderate'
    >>> eular_response(4.41, 3.2)     # improvement 1.21 > 1.2 and current <= 3.2
    'good'
    >>> eular_response(6.0, 5.4)      # improvement exactly 0.6
    'none'
    >>> eular_response(pd.Series([6.0, None]), pd.Series([3.0, 3.0])).tolist()
    ['good', None]
    """
    b = _as_float(baseline)
    c = _as_float(current)
    b_arr = np.asarray(b, dtype=float)
    c_arr = np.asarray(c, dtype=float)
    b_arr, c_arr = np.broadcast_arrays(b_arr, c_arr)
    imp = np.round(b_arr - c_arr, _DECIMALS)
    cur = np.round(c_arr, _DECIMALS)
    missing = np.isnan(imp) | np.isnan(cur)
    big = imp > 1.2
    mid = (imp > 0.6) & (imp <= 1.2)
    good = big & (cur <= 3.2)
    moderate = (big & (cur > 3.2)) | (mid & (cur <= 5.1))
    out = np.where(good, "good", np.where(moderate, "moderate", "none")).astype(object)
    out[missing] = None
    if isinstance(baseline, pd.Series) or isinstance(current, pd.Series):
        index = baseline.index if isinstance(baseline, pd.Series) else current.index
        return pd.Series(out, index=index, dtype=object, name="eular")
    if out.ndim == 0:
        return out.item()
    return out


def is_responder(category):
    """EULAR responder: category ``"good"`` or ``"moderate"``.

    Parameters
    ----------
    category : str, None, array or Series
        EULAR categories as returned by `eular_response`.

    Returns
    -------
    bool, ndarray of bool or Series of bool
        ``True`` for good/moderate; ``False`` for ``"none"`` **and** for missing categories
        (check missingness separately when it matters).

    Examples
    --------
    >>> is_responder("moderate"), is_responder("none"), is_responder(None)
    (True, False, False)
    >>> is_responder(pd.Series(["good", "none"])).tolist()
    [True, False]
    """
    if isinstance(category, pd.Series):
        return category.isin(["good", "moderate"])
    if np.ndim(category) == 0:
        return category in ("good", "moderate")
    return np.isin(np.asarray(category, dtype=object), ["good", "moderate"])
