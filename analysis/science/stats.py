"""Generic statistical helpers returning tidy DataFrames.

Thin, documented wrappers over :mod:`pingouin` (0.7) and :mod:`scipy.stats`.
Every public function takes a tidy table first with column names as keywords,
returns a tidy :class:`pandas.DataFrame` (one row per test), never mutates its
input and never raises on tiny or degenerate cohorts: when a statistic cannot be
computed (fewer than two values per group, no variance, an empty class) the row
is still returned with ``NaN`` statistics and a ``note`` explaining why.

Pingouin's output column names are mapped to ours in one place,
:data:`_PG_COLUMNS`.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from inspect import signature

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import special as _special
from scipy import stats as sps

from analysis.claims.rules import wilson_interval, z_quantile
from analysis.core.checks import check_choice as _check_choice, check_alpha as _check_alpha
from analysis.core.moments import mean_ss

__all__ = [
    "adjust_pvalues",
    "anova_arrays",
    "average_ranks",
    "anova_bonferroni",
    "by_visit",
    "choose_test",
    "compare_independent",
    "compare_paired",
    "correlation",
    "describe",
    "diagnostic_metrics",
    "diagnostic_table",
    "hedges_g_independent",
    "hedges_g_paired",
    "mean_pm",
    "mixed_model_view",
    "multiplicity_summary",
    "paired_row",
    "paired_t_columns",
    "proportion_table",
    "roc_curve_auc",
    "stars",
    "student_t_columns",
    "youden_threshold",
]

# ---------------------------------------------------------------------------
# The one place where pingouin 0.7 column names meet ours.
# ---------------------------------------------------------------------------
_PG_COLUMNS: dict[str, str] = {
    # ttest / mwu / wilcoxon
    "T": "statistic",
    "U_val": "statistic",
    "W_val": "statistic",
    "dof": "dof",
    "p_val": "p",
    # anova / mixed_anova
    "Source": "source",
    "SS": "ss",
    "MS": "ms",
    "DF": "df",
    "ddof1": "df1",
    "ddof2": "df2",
    "DF1": "df1",
    "DF2": "df2",
    "F": "F",
    "p_unc": "p_unc",
    "p_GG_corr": "p_gg",
    "np2": "np2",
    "eps": "eps",
    "sphericity": "sphericity",
    # pairwise_tests
    "A": "a",
    "B": "b",
    "p_corr": "p_adj",
    "hedges": "hedges_g",
    # corr
    "n": "n",
    "r": "r",
    "CI95": "ci95",
}

_TESTS_INDEPENDENT = ("t", "welch", "mannwhitney")
_TESTS_PAIRED = ("t", "wilcoxon")
_ADJUST_METHODS = ("holm", "bonf", "fdr_bh", "none")
_add, _max, _min = np.add.reduce, np.maximum.reduce, np.minimum.reduce  # the reductions without np.sum's wrapper


def _pg(table: pd.DataFrame) -> pd.DataFrame:
    """Rename pingouin output columns to ours (see :data:`_PG_COLUMNS`)."""
    return table.rename(columns=_PG_COLUMNS).reset_index(drop=True)


def _ttest(x: np.ndarray, y: np.ndarray, *, paired: bool = False, welch: bool = False) -> tuple[float, float, float]:
    """t, two-sided p and degrees of freedom of x versus y (the numbers :func:`pingouin.ttest` reports).

    scipy directly: pingouin's ttest adds a Bayes factor (numerical integration) and power, which cost
    ~20 ms per call and were the slowest part of a chapter with hundreds of tests.

    Examples
    --------
    >>> t, p, dof = _ttest(np.array([1.0, 2, 3]), np.array([2.0, 3, 4]))
    >>> round(t, 4), round(p, 4), dof
    (-1.2247, 0.2879, 4.0)
    """
    nx, ny = x.size, y.size
    # the formulas of scipy.stats.ttest_rel / ttest_ind, without their per-call argument handling
    # (robustness runs make thousands of these calls); tests/test_stats_fast.py checks them against scipy.
    # Means and variances by _mean_var (numpy's steps of .mean() and .var(ddof=1), the same bits)
    with np.errstate(divide="ignore", invalid="ignore"):
        if paired:
            mean_d, var_d = _mean_var(x - y)
            dof = nx - 1.0
            t = mean_d / np.sqrt(var_d / nx)
        else:
            (mean_x, var_x), (mean_y, var_y) = _mean_var(x), _mean_var(y)
            if welch:
                vnx, vny = var_x / nx, var_y / ny
                dof = (vnx + vny) ** 2 / (vnx**2 / (nx - 1) + vny**2 / (ny - 1))  # Welch–Satterthwaite, as pingouin
                t = (mean_x - mean_y) / np.sqrt(vnx + vny)
            else:
                dof = nx + ny - 2.0
                svar = ((nx - 1) * var_x + (ny - 1) * var_y) / dof
                t = (mean_x - mean_y) / np.sqrt(svar * (1.0 / nx + 1.0 / ny))
        p = 2.0 * _special.stdtr(dof, -np.abs(t))
    return float(t), float(p), float(dof)


def _mean_var(a) -> tuple:
    """``(a.mean(), a.var(ddof=1))`` of a 1-D array by :func:`analysis.core.moments.mean_ss` (the same bits; NaN
    for a variance of fewer than 2 values, as numpy gives)."""
    a = np.asarray(a, dtype=float)
    mean, ss = mean_ss(a)
    return mean, ss / max(a.size - 1, 0)


def _two_labels(data: pd.DataFrame, column: str, given, name: str, shape: str) -> tuple:
    """The two labels to compare: ``given``, or the two labels present in ``column`` when it is None."""
    if given is None:
        present = sorted(data[column].dropna().unique().tolist())
        if len(present) != 2:
            raise ValueError(f"`{name}` must be given when `{column}` does not hold exactly two "
                             f"labels; found {present}.")
        given = tuple(present)
    if len(given) != 2:
        raise ValueError(f"`{name}` must be {shape}; got {given!r}.")
    return tuple(given)


def _check_columns(data: pd.DataFrame, **cols) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`data` must be a pandas DataFrame; got {type(data).__name__}.")
    for arg, col in cols.items():
        names = [col] if isinstance(col, str) else list(col or [])
        for c in names:
            if c not in data.columns:
                raise ValueError(
                    f"`{arg}` names column {c!r}, which is not in `data` "
                    f"(columns: {list(data.columns)})."
                )


def _values(x) -> np.ndarray:
    """Float array of ``x`` without missing values."""
    arr = np.asarray(pd.to_numeric(pd.Series(np.asarray(x, dtype=object)), errors="coerce"), float)
    return arr[~np.isnan(arr)]


def _sd(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1)) if x.size >= 2 else np.nan


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------
def stars(p: float, alpha: float = 0.05) -> str:
    """Significance stars: ``***`` p < alpha/50, ``**`` p < alpha/5, ``*`` p < alpha, else ``ns``.

    With the usual ``alpha = 0.05`` the thresholds are 0.001, 0.01 and 0.05.
    A missing p-value gives ``""``.

    Examples
    --------
    >>> [stars(p) for p in (0.0004, 0.004, 0.04, 0.4)]
    ['***', '**', '*', 'ns']
    """
    _check_alpha(alpha)
    if p is None or pd.isna(p):
        return ""
    if p < alpha / 50:
        return "***"
    if p < alpha / 5:
        return "**"
    if p < alpha:
        return "*"
    return "ns"


# ---------------------------------------------------------------------------
# Description
# ---------------------------------------------------------------------------
def _is_skewed(x: np.ndarray, alpha: float = 0.05) -> bool:
    """The book's skewness rule (see :func:`describe`)."""
    if x.size < 3 or np.ptp(x) == 0:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        skew = float(sps.skew(x, bias=False))
        p = float(sps.shapiro(x).pvalue)
    return bool(abs(skew) > 1 or p < alpha)


def _describe_one(x: np.ndarray) -> dict:
    n = int(x.size)
    if n == 0:
        return dict(n=0, mean=np.nan, sd=np.nan, sem=np.nan, median=np.nan, q1=np.nan,
                    q3=np.nan, min=np.nan, max=np.nan, skewed=False, summary="n/a",
                    note="no non-missing values")
    q1, med, q3 = np.percentile(x, [25, 50, 75])
    sd = _sd(x)
    skewed = _is_skewed(x)
    if skewed:
        summary = f"{med:.2f} [{q1:.2f}–{q3:.2f}]"
    elif n >= 2:
        summary = f"{x.mean():.2f} ± {sd:.2f}"
    else:
        summary = f"{x.mean():.2f}"
    return dict(n=n, mean=float(x.mean()), sd=sd, sem=sd / np.sqrt(n) if n >= 2 else np.nan,
                median=float(med), q1=float(q1), q3=float(q3), min=float(x.min()),
                max=float(x.max()), skewed=skewed, summary=summary,
                note="" if n >= 2 else "fewer than 2 values: SD/SEM undefined")


def _grouped(data: pd.DataFrame, by):
    """Yield (key-dict, sub-frame) for ``by`` (None, a column name or a list)."""
    if by is None:
        yield {}, data
        return
    keys = [by] if isinstance(by, str) else list(by)
    for key, sub in data.groupby(keys, sort=True, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        yield dict(zip(keys, key)), sub


def describe(data: pd.DataFrame, *, dv: str, by=None) -> pd.DataFrame:
    """Descriptive statistics of ``dv``, per group of ``by``.

    Parameters
    ----------
    data : DataFrame
        Tidy table, one row per observation.
    dv : str
        Numeric column to describe.
    by : str or list of str, optional
        Grouping column(s); one row per group (sorted). ``None``: one row.

    Returns
    -------
    DataFrame
        The ``by`` columns, then ``n`` (non-missing values), ``mean``, ``sd``
        (sample, ddof=1), ``sem`` (= sd/sqrt(n)), ``median``, ``q1``, ``q3``
        (25th/75th percentiles, linear interpolation), ``min``, ``max``,
        ``skewed`` (bool), ``summary`` (``"mean ± SD"`` when not skewed,
        ``"median [q1–q3]"`` when skewed) and ``note``.

    Notes
    -----
    Missing values of ``dv`` are dropped per group; rows with a missing group
    label are dropped. **Skewness rule**: a group is ``skewed`` when it has
    n ≥ 3 non-constant values and either the bias-corrected sample skewness
    exceeds 1 in absolute value or the Shapiro–Wilk test rejects normality at
    0.05. With n < 3 (untestable) the group counts as not skewed.

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 4, "y": [1, 2, 3, 4, 2, 4, 6, 8]})
    >>> describe(df, dv="y", by="g")[["g", "n", "mean", "summary"]]
       g  n  mean      summary
    0  a  4   2.5  2.50 ± 1.29
    1  b  4   5.0  5.00 ± 2.58
    """
    _check_columns(data, dv=dv, by=by)
    rows = [{**key, **_describe_one(_values(sub[dv]))} for key, sub in _grouped(data, by)]
    return pd.DataFrame(rows)


def mean_pm(data: pd.DataFrame, *, dv: str, by=None, spread: str = "sd",
            decimals: int = 2) -> pd.DataFrame:
    """``"mean ± SD"`` (or ± SEM) text per group, as papers print it.

    Parameters
    ----------
    data : DataFrame
    dv : str
        Numeric column.
    by : str or list of str, optional
        Grouping column(s).
    spread : {"sd", "sem"}
        Sample standard deviation or standard error of the mean.
    decimals : int, default 2

    Returns
    -------
    DataFrame
        The ``by`` columns, ``n``, ``mean``, ``sd`` or ``sem``, and ``text``
        (e.g. ``"12.34 ± 1.23"``; only the mean when n < 2).

    Examples
    --------
    >>> df = pd.DataFrame({"y": [2, 4, 4, 4, 5, 5, 7, 9]})
    >>> mean_pm(df, dv="y")["text"].item()
    '5.00 ± 2.14'
    >>> mean_pm(df, dv="y", spread="sem", decimals=3)["text"].item()
    '5.000 ± 0.756'
    """
    _check_choice("spread", spread, ("sd", "sem"))
    desc = describe(data, dv=dv, by=by)
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    out = desc[keys + ["n", "mean", spread]].copy()
    out["text"] = [
        f"{m:.{decimals}f} ± {s:.{decimals}f}" if pd.notna(s) else
        (f"{m:.{decimals}f}" if pd.notna(m) else "n/a")
        for m, s in zip(out["mean"], out[spread])
    ]
    return out


# ---------------------------------------------------------------------------
# Effect sizes
# ---------------------------------------------------------------------------
def hedges_g_independent(a, b, confidence: float = 0.95) -> tuple[float, float, float]:
    """Hedges' g of ``a`` minus ``b`` with a normal-approximation CI.

    ``d = (mean_a - mean_b) / s_pooled`` with
    ``s_pooled = sqrt(((n_a-1) s_a² + (n_b-1) s_b²) / (n_a + n_b - 2))``;
    ``g = J d`` with ``J = 1 - 3 / (4 (n_a + n_b) - 9)``;
    ``SE(g) = sqrt((n_a + n_b) / (n_a n_b) + g² / (2 (n_a + n_b)))``;
    CI ``g ± z SE`` (Hedges & Olkin 1985, *Statistical Methods for
    Meta-Analysis*, ch. 5; Borenstein et al. 2009, eq. 4.18–4.24).

    Returns
    -------
    (g, ci_low, ci_high) : tuple of float, NaN when n < 2 in a group or s_pooled = 0.

    Examples
    --------
    >>> g, lo, hi = hedges_g_independent([1, 2, 3], [2, 3, 4])
    >>> round(g, 4)
    -0.8
    """
    a, b = _values(a), _values(b)
    na, nb = a.size, b.size
    if na < 2 or nb < 2:
        return (np.nan, np.nan, np.nan)
    sp = np.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
    if sp == 0:
        return (np.nan, np.nan, np.nan)
    g = (1 - 3 / (4 * (na + nb) - 9)) * (a.mean() - b.mean()) / sp
    se = np.sqrt((na + nb) / (na * nb) + g**2 / (2 * (na + nb)))
    z = z_quantile(confidence)
    return (float(g), float(g - z * se), float(g + z * se))


def _corrcoef(x: np.ndarray, y: np.ndarray) -> float:
    """``np.corrcoef(x, y)[0, 1]`` for two float vectors of 2 or more values: numpy's own steps (``np.cov``'s
    centring and product, then the scaling and clipping of ``np.corrcoef``) without its argument handling, so
    the same number bit for bit (tests/test_stats_fast.py).

    Examples
    --------
    >>> x, y = np.array([1.0, 2, 3, 4]), np.array([2.0, 4, 5, 5])
    >>> bool(_corrcoef(x, y) == np.corrcoef(x, y)[0, 1])
    True
    """
    X = np.array([x, y], dtype=float)
    X -= X.mean(axis=1)[:, None]
    c = np.dot(X, X.T.conj())
    # np.corrcoef's scaling and clipping of the 2 x 2 matrix, on the three numbers r needs (the same operations
    # element by element, so the same bits)
    f = np.true_divide(1, X.shape[1] - 1)
    sd0, sd1 = np.sqrt(c[0, 0] * f), np.sqrt(c[1, 1] * f)
    r = c[0, 1] * f / sd0 / sd1
    return np.float64(-1.0) if r < -1 else np.float64(1.0) if r > 1 else r


def hedges_g_paired(before, after, confidence: float = 0.95) -> tuple[float, float, float]:
    """Hedges' g of ``after`` minus ``before`` for paired values, with a CI.

    ``d = mean(after - before) / s_av`` with ``s_av = sqrt((s_before² + s_after²) / 2)``
    (the standardiser is the SD of the two conditions, not of the differences,
    so g is comparable with an independent-groups g); ``g = J d`` with
    ``J = 1 - 3 / (4 (n - 1) - 1)``; ``SE(g) = J sqrt((1/n + d² / (2n)) · 2 (1 - r))``
    where r is the before–after Pearson correlation (Borenstein et al. 2009,
    *Introduction to Meta-Analysis*, eq. 4.27–4.28; Hedges & Olkin 1985);
    CI ``g ± z SE``.

    Returns
    -------
    (g, ci_low, ci_high) : tuple of float; NaN when n < 2 complete pairs or s_av = 0.
    The CI is NaN when r is undefined (a constant condition) and n < 3.

    Examples
    --------
    >>> g, lo, hi = hedges_g_paired([1, 2, 3, 4], [2, 4, 5, 5])
    >>> round(g, 3)
    0.806
    """
    x = np.asarray(before, float)
    y = np.asarray(after, float)
    if x.ndim != 1 or x.shape != y.shape or np.isnan(_add(x) + _add(y)):  # missing values: keep complete pairs
        keep = ~(np.isnan(x) | np.isnan(y))
        x, y = x[keep], y[keep]
    n = x.size
    if n < 2:
        return (np.nan, np.nan, np.nan)
    return _g_paired(x, y, mean_ss(x)[1], mean_ss(y)[1], mean_ss(y - x)[0], confidence)


def _g_paired(x: np.ndarray, y: np.ndarray, ss_x, ss_y, mean_diff, confidence: float) -> tuple[float, float, float]:
    """:func:`hedges_g_paired` of complete pairs ``x``, ``y`` (n >= 2) from their sums of squared deviations
    and the mean of ``y - x`` (:func:`analysis.core.moments.mean_ss`)."""
    n = x.size
    s_av = np.sqrt((ss_x / (n - 1) + ss_y / (n - 1)) / 2)
    if s_av == 0:
        return (np.nan, np.nan, np.nan)
    d = mean_diff / s_av
    j = 1 - 3 / (4 * (n - 1) - 1)
    if ss_x / n > 0 and ss_y / n > 0:  # x.std() > 0 and y.std() > 0
        with np.errstate(all="ignore"):
            r = _corrcoef(x, y)
    else:
        r = np.nan
    se = j * np.sqrt((1 / n + d**2 / (2 * n)) * 2 * (1 - r))
    z = z_quantile(confidence)
    g = j * d
    return (float(g), float(g - z * se), float(g + z * se))


# ---------------------------------------------------------------------------
# Choosing and running two-group tests
# ---------------------------------------------------------------------------
def choose_test(x, y=None, *, paired: bool = False, rule: str = "shapiro",
                alpha: float = 0.05) -> str:
    """Choose a parametric or rank test by a stated rule.

    Parameters
    ----------
    x, y : array-like
        Two independent samples; or, with ``paired=True``, the paired values
        (``y - x`` is tested); or ``x`` alone as paired differences.
    paired : bool, default False
        Paired design. Implied when ``y`` is None.
    rule : {"shapiro", "skew"}
        ``"shapiro"``: Shapiro–Wilk on each group (independent) or on the
        differences (paired); any p < ``alpha`` → rank test.
        ``"skew"``: |bias-corrected skewness| > 1 in any group / in the
        differences → rank test.
    alpha : float, default 0.05

    Returns
    -------
    str
        Independent: ``"t"`` or ``"mannwhitney"``; paired: ``"t"`` or ``"wilcoxon"``.

    Notes
    -----
    A sample with fewer than 3 values, or with no variance, cannot be tested
    and counts as compatible with normality (the parametric test is chosen;
    with such samples neither test has meaningful power anyway). Missing
    values are dropped (for paired data, incomplete pairs are dropped).
    Testing normality before choosing a test is a convention of the paper's
    era, not a recommendation: the choice itself changes the error rates.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> choose_test(rng.normal(size=40), rng.normal(size=40))
    't'
    >>> choose_test(rng.lognormal(sigma=1.5, size=40), rng.normal(size=40))
    'mannwhitney'
    """
    _check_choice("rule", rule, ("shapiro", "skew"))
    _check_alpha(alpha)
    if y is None or paired:
        if y is None:
            samples = [_values(x)]
        else:
            xa, ya = np.asarray(x, float), np.asarray(y, float)
            if xa.shape != ya.shape:
                raise ValueError(f"`x` and `y` must have equal length when `paired=True`; "
                                 f"got {xa.size} and {ya.size}.")
            d = ya - xa
            samples = [d[~np.isnan(d)]]
        labels = ("t", "wilcoxon")
    else:
        samples = [_values(x), _values(y)]
        labels = ("t", "mannwhitney")

    def non_normal(s: np.ndarray) -> bool:
        if s.size < 3 or np.ptp(s) == 0:
            return False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if rule == "shapiro":
                return bool(sps.shapiro(s).pvalue < alpha)
            return bool(abs(sps.skew(s, bias=False)) > 1)

    return labels[1] if any(non_normal(s) for s in samples) else labels[0]


def _significant(p: float, alpha: float) -> bool:
    return bool(pd.notna(p) and p < alpha)


def compare_independent(data: pd.DataFrame, *, dv: str, between: str, groups=None,
                        test: str = "t", alpha: float = 0.05) -> pd.DataFrame:
    """Compare ``dv`` between two independent groups.

    Parameters
    ----------
    data : DataFrame
        Tidy table, one row per subject.
    dv : str
        Numeric outcome column.
    between : str
        Group column.
    groups : tuple (a, b), optional
        The two labels to compare, in this order (effects are a − b). Default:
        the two sorted labels present (error if there are not exactly two).
    test : {"t", "welch", "mannwhitney"}
        Student's t (equal variances), Welch's t, or Mann–Whitney U (two-sided).
    alpha : float, default 0.05

    Returns
    -------
    DataFrame
        One row: ``group_a``, ``group_b``, ``n_a``, ``n_b``, ``mean_a``,
        ``mean_b``, ``sd_a``, ``sd_b``, ``mean_diff`` (a − b), ``statistic``
        (t or U), ``dof`` (NaN for U), ``p``, ``hedges_g``, ``g_ci_low``,
        ``g_ci_high``, ``test``, ``alpha``, ``significant`` (p < alpha) and
        ``note``.

    Notes
    -----
    Missing ``dv`` values are dropped. t tests assume approximately normal
    outcomes (Student also equal variances); Mann–Whitney assumes independent
    observations and compares distributions (p from scipy, exact for small
    samples without ties). Hedges' g (see :func:`hedges_g_independent`) is
    reported for every test. With fewer than 2 values in a group the row is
    returned with NaN statistics and an explanatory ``note``.

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["A"] * 3 + ["B"] * 3, "y": [1, 2, 3, 2, 3, 4]})
    >>> res = compare_independent(df, dv="y", between="g")
    >>> res[["n_a", "n_b", "mean_diff", "statistic", "dof"]].round(4)
       n_a  n_b  mean_diff  statistic  dof
    0    3    3       -1.0    -1.2247  4.0
    """
    _check_columns(data, dv=dv, between=between)
    _check_choice("test", test, _TESTS_INDEPENDENT)
    _check_alpha(alpha)
    groups = _two_labels(data, between, groups, "groups", "a pair (a, b)")
    a = _values(data.loc[data[between] == groups[0], dv])
    b = _values(data.loc[data[between] == groups[1], dv])
    row = dict(group_a=groups[0], group_b=groups[1], n_a=a.size, n_b=b.size,
               mean_a=a.mean() if a.size else np.nan, mean_b=b.mean() if b.size else np.nan,
               sd_a=_sd(a), sd_b=_sd(b), statistic=np.nan, dof=np.nan, p=np.nan, note="")
    row["mean_diff"] = row["mean_a"] - row["mean_b"]
    g, lo, hi = hedges_g_independent(a, b)
    if a.size < 2 or b.size < 2:
        row["note"] = f"fewer than 2 values in a group (n_a={a.size}, n_b={b.size}): no test"
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if test == "mannwhitney":
                # scipy directly (same U and p as pingouin.mwu, which also builds an n_a x n_b matrix for
                # its effect size: gigabytes at 100,000 patients)
                mw = sps.mannwhitneyu(a, b, alternative="two-sided")
                res = pd.DataFrame({"statistic": [mw.statistic], "p": [mw.pvalue]})
            else:
                t, p, dof = _ttest(a, b, welch=(test == "welch"))
                res = pd.DataFrame({"statistic": [t], "p": [p], "dof": [dof]})
        row.update(statistic=float(res["statistic"].iloc[0]), p=float(res["p"].iloc[0]))
        if test != "mannwhitney":
            row["dof"] = float(res["dof"].iloc[0])
        if pd.isna(row["p"]):
            row["note"] = "no variance in either group: test undefined"
    row.update(hedges_g=g, g_ci_low=lo, g_ci_high=hi, test=test, alpha=alpha,
               significant=_significant(row["p"], alpha))
    cols = ["group_a", "group_b", "n_a", "n_b", "mean_a", "mean_b", "sd_a", "sd_b", "mean_diff",
            "statistic", "dof", "p", "hedges_g", "g_ci_low", "g_ci_high", "test", "alpha",
            "significant", "note"]
    return pd.DataFrame([row])[cols]


def paired_row(x: np.ndarray, y: np.ndarray, pair, *, test: str = "t", alpha: float = 0.05) -> dict:
    """:func:`compare_paired`'s row, as a dict, from the complete pairs ``x`` (before) and ``y`` (after).

    Callers that run many tests on arrays they already hold (``ifng.subgroup_tests``) use it without
    building a table per test.

    Examples
    --------
    >>> row = paired_row(np.array([1.0, 2, 3, 4]), np.array([2.0, 4, 5, 5]), (0, 12))
    >>> row["n"], float(row["mean_diff"]), round(row["statistic"], 3), row["dof"]
    (4, 1.5, 5.196, 3.0)
    """
    n = x.size
    diff = y - x
    if n >= 2 and test == "t":
        mean_d, ss_d = mean_ss(diff)
        if not np.isnan(mean_d):  # complete pairs (a missing value would make the mean NaN)
            return _paired_t_row(x, y, diff, mean_d, ss_d, pair, alpha)
    row = dict(before=pair[0], after=pair[1], n=n,
               mean_before=x.mean() if n else np.nan, mean_after=y.mean() if n else np.nan,
               mean_diff=diff.mean() if n else np.nan, sd_diff=_sd(diff),
               statistic=np.nan, dof=np.nan, p=np.nan, note="")
    g, lo, hi = hedges_g_paired(x, y)
    if n < 2:
        row["note"] = f"fewer than 2 complete pairs (n={n}): no test"
    elif np.ptp(diff) == 0:
        row["note"] = "all differences are equal: test undefined"
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if test == "wilcoxon":
                # scipy directly (same W and p as pingouin.wilcoxon, without its n x n effect-size matrix)
                wx = sps.wilcoxon(y - x)
                row.update(statistic=float(wx.statistic), p=float(wx.pvalue))
            else:
                t, p, _ = _ttest(y, x, paired=True)
                row.update(statistic=float(t), p=float(p), dof=float(n - 1))
    row.update(hedges_g=g, g_ci_low=lo, g_ci_high=hi, test=test, alpha=alpha,
               significant=_significant(row["p"], alpha))
    return row


def _paired_t_row(x: np.ndarray, y: np.ndarray, diff: np.ndarray, mean_d, ss_d, pair, alpha: float) -> dict:
    """:func:`paired_row` of the paired t test for n >= 2 complete pairs, from the differences'
    :func:`analysis.core.moments.mean_ss`:
    the same numbers as its general path (``_ttest``, ``hedges_g_paired``) with each mean and variance computed
    once."""
    n = x.size
    mean_x, ss_x = mean_ss(x)
    mean_y, ss_y = mean_ss(y)
    var_d = ss_d / (n - 1)
    row = dict(before=pair[0], after=pair[1], n=n, mean_before=mean_x, mean_after=mean_y, mean_diff=mean_d,
               sd_diff=float(np.sqrt(var_d)), statistic=np.nan, dof=np.nan, p=np.nan, note="")
    g, lo, hi = _g_paired(x, y, ss_x, ss_y, mean_d, 0.95)
    if _max(diff) - _min(diff) == 0:
        row["note"] = "all differences are equal: test undefined"
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = float(mean_d / np.sqrt(var_d / n))
            p = float(2.0 * _special.stdtr(n - 1.0, -np.abs(t)))
        row.update(statistic=t, p=p, dof=float(n - 1))
    row.update(hedges_g=g, g_ci_low=lo, g_ci_high=hi, test="t", alpha=alpha, significant=_significant(row["p"], alpha))
    return row


def compare_paired(data: pd.DataFrame, *, dv: str, within: str, subject: str, pair=None,
                   test: str = "t", alpha: float = 0.05) -> pd.DataFrame:
    """Compare ``dv`` between two conditions measured on the same subjects.

    Parameters
    ----------
    data : DataFrame
        Long table, one row per subject × condition.
    dv : str
        Numeric outcome column.
    within : str
        Condition column (e.g. visit week).
    subject : str
        Subject identifier column.
    pair : tuple (before, after), optional
        The two conditions; effects are after − before. Default: the two
        sorted labels present.
    test : {"t", "wilcoxon"}
        Paired t test or Wilcoxon signed-rank test (two-sided).
    alpha : float, default 0.05

    Returns
    -------
    DataFrame
        One row: ``before``, ``after`` (labels), ``n`` (complete pairs),
        ``mean_before``, ``mean_after``, ``mean_diff`` (after − before),
        ``sd_diff``, ``statistic`` (t or W), ``dof`` (n − 1; NaN for W), ``p``,
        ``hedges_g``, ``g_ci_low``, ``g_ci_high`` (see :func:`hedges_g_paired`),
        ``test``, ``alpha``, ``significant`` and ``note``.

    Notes
    -----
    Only subjects with a non-missing value in both conditions enter (complete
    pairs); the means are over those pairs. A subject with two rows for the
    same condition is an error. The paired t test assumes approximately normal
    differences; Wilcoxon assumes symmetric differences (zero differences are
    dropped, scipy's default). Fewer than 2 pairs → NaN statistics and a note.

    Examples
    --------
    >>> df = pd.DataFrame({"id": [1, 2, 3, 4] * 2, "week": [0] * 4 + [12] * 4,
    ...                    "y": [1, 2, 3, 4, 2, 4, 5, 5]})
    >>> res = compare_paired(df, dv="y", within="week", subject="id", pair=(0, 12))
    >>> res[["n", "mean_diff", "statistic", "dof"]].round(3)
       n  mean_diff  statistic  dof
    0  4        1.5      5.196  3.0
    """
    _check_columns(data, dv=dv, within=within, subject=subject)
    _check_choice("test", test, _TESTS_PAIRED)
    _check_alpha(alpha)
    pair = _two_labels(data, within, pair, "pair", "(before, after)")
    x, y = _complete_pairs(data, dv=dv, within=within, subject=subject, pair=pair)
    row = paired_row(x, y, pair, test=test, alpha=alpha)
    cols = ["before", "after", "n", "mean_before", "mean_after", "mean_diff", "sd_diff",
            "statistic", "dof", "p", "hedges_g", "g_ci_low", "g_ci_high", "test", "alpha",
            "significant", "note"]
    return pd.DataFrame([row])[cols]


def _complete_pairs(data: pd.DataFrame, *, dv: str, within: str, subject: str, pair) -> tuple[np.ndarray, np.ndarray]:
    """The complete (before, after) pairs of ``data`` for the conditions ``pair``, subjects sorted.

    What ``data[data[within].isin(pair)].pivot(index=subject, columns=within, values=dv)[list(pair)].dropna()``
    gives, with numpy instead of a pivot (the pivot cost more than the test). A subject with two rows for
    one condition is a ``ValueError``.

    Examples
    --------
    >>> df = pd.DataFrame({"id": ["b", "a", "a", "b", "c"], "w": [0, 0, 1, 1, 0], "y": [1.0, 2, 3, 5, 7]})
    >>> _complete_pairs(df, dv="y", within="w", subject="id", pair=(0, 1))
    (array([2., 1.]), array([3., 5.]))
    """
    which = np.full(len(data), -1)
    for i, label in enumerate(pair):
        which[data[within].isin([label]).to_numpy(dtype=bool, na_value=False)] = i
    sel = which >= 0
    which = which[sel]
    subjects = data[subject].to_numpy()[sel]
    codes, uniques = pd.factorize(subjects, sort=True)
    key = codes.astype(np.int64) * 2 + which
    if np.unique(key).size < key.size:
        first = int(np.flatnonzero(pd.Series(key).duplicated().to_numpy())[0])
        raise ValueError(f"`data` has more than one row per `{subject}` × `{within}`; "
                         f"e.g. {[subjects[first], pair[which[first]]]}.")
    values = pd.to_numeric(data[dv], errors="coerce").to_numpy(dtype=float, na_value=np.nan)[sel]
    out = []
    for i in range(2):
        at = (which == i) & (codes >= 0)
        col = np.full(len(uniques), np.nan)
        col[codes[at]] = values[at]
        out.append(col)
    keep = ~(np.isnan(out[0]) | np.isnan(out[1]))
    return out[0][keep], out[1][keep]


def paired_t_columns(before, after) -> pd.DataFrame:
    """Paired t tests of many cells at once: column ``j`` of ``after`` against column ``j`` of ``before``.

    One numpy pass for a whole table (markers × visits × groups laid out as columns) instead of one test
    call per cell; each column uses its own complete pairs (rows where both values are present).

    Parameters
    ----------
    before, after : array-like, shape (n_subjects, n_cells)
        Values, NaN where missing. A 1-D input is one cell.

    Returns
    -------
    pandas.DataFrame
        One row per cell: ``n`` (complete pairs), ``mean_before``, ``mean_after``, ``mean_diff``
        (after − before), ``sd_diff``, ``statistic`` (t), ``dof``, ``p`` (two-sided); NaN statistics when
        n < 2 or all differences are equal (as :func:`compare_paired`).

    Examples
    --------
    >>> b = np.array([[1.0, 5], [2, 6], [3, np.nan], [4, 8]])
    >>> a = np.array([[2.0, 5], [4, 7], [5, 1], [5, 9]])
    >>> paired_t_columns(b, a)[["n", "mean_diff", "statistic"]].round(3)
       n  mean_diff  statistic
    0  4      1.500      5.196
    1  3      0.667      2.000
    """
    x = np.asarray(before, dtype=float)
    y = np.asarray(after, dtype=float)
    if x.ndim == 1:
        x, y = x[:, None], y[:, None]
    if x.shape != y.shape:
        raise ValueError(f"`before` and `after` must have the same shape; got {x.shape} and {y.shape}.")
    ok = ~(np.isnan(x) | np.isnan(y))
    n = ok.sum(axis=0)
    d = np.where(ok, y - x, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_b = np.where(ok, x, 0.0).sum(axis=0) / n
        mean_a = np.where(ok, y, 0.0).sum(axis=0) / n
        mean_d = d.sum(axis=0) / n
        dev = np.where(ok, d - mean_d, 0.0)
        var_d = (dev**2).sum(axis=0) / (n - 1)
        t = mean_d / np.sqrt(var_d / n)
        ptp = np.where(ok, d, -np.inf).max(axis=0) - np.where(ok, d, np.inf).min(axis=0)
        testable = (n >= 2) & (ptp > 0)
        dof = np.where(testable, n - 1.0, np.nan)
        t = np.where(testable, t, np.nan)
        p = np.where(testable, 2.0 * _special.stdtr(dof, -np.abs(t)), np.nan)
    return pd.DataFrame({"n": n, "mean_before": np.where(n > 0, mean_b, np.nan),
                         "mean_after": np.where(n > 0, mean_a, np.nan), "mean_diff": np.where(n > 0, mean_d, np.nan),
                         "sd_diff": np.where(n > 1, np.sqrt(var_d), np.nan), "statistic": t, "dof": dof, "p": p})


def student_t_columns(a, b, *, welch: bool = False) -> pd.DataFrame:
    """Two-sample t tests of many cells at once: column ``j`` of ``a`` against column ``j`` of ``b``.

    Parameters
    ----------
    a, b : array-like, shape (n_a, n_cells) and (n_b, n_cells)
        Values of the two groups, NaN where missing (each column uses its own non-missing values).
    welch : bool
        Welch's unequal-variance test instead of Student's.

    Returns
    -------
    pandas.DataFrame
        One row per cell: ``n_a``, ``n_b``, ``mean_a``, ``mean_b``, ``mean_diff`` (a − b), ``statistic``,
        ``dof``, ``p`` (two-sided); NaN when a group has fewer than 2 values.

    Examples
    --------
    >>> student_t_columns(np.array([1.0, 2, 3]), np.array([2.0, 3, 4]))[["statistic", "dof"]].round(4)
       statistic  dof
    0    -1.2247  4.0
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if y.ndim == 1:
        y = y[:, None]
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"`a` and `b` must have the same number of columns; got {x.shape[1]} and {y.shape[1]}.")

    def moments(v):
        ok = ~np.isnan(v)
        n = ok.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            m = np.where(ok, v, 0.0).sum(axis=0) / n
            var = (np.where(ok, v - m, 0.0) ** 2).sum(axis=0) / (n - 1)
        return n, m, var

    na, ma, va = moments(x)
    nb, mb, vb = moments(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        if welch:
            vna, vnb = va / na, vb / nb
            dof = (vna + vnb) ** 2 / (vna**2 / (na - 1) + vnb**2 / (nb - 1))
            t = (ma - mb) / np.sqrt(vna + vnb)
        else:
            dof = (na + nb - 2.0).astype(float)
            t = (ma - mb) / np.sqrt(((na - 1) * va + (nb - 1) * vb) / dof * (1.0 / na + 1.0 / nb))
        ok = (na >= 2) & (nb >= 2)
        t, dof = np.where(ok, t, np.nan), np.where(ok, dof, np.nan)
        p = np.where(ok, 2.0 * _special.stdtr(dof, -np.abs(t)), np.nan)
    return pd.DataFrame({"n_a": na, "n_b": nb, "mean_a": np.where(na > 0, ma, np.nan),
                         "mean_b": np.where(nb > 0, mb, np.nan), "mean_diff": ma - mb, "statistic": t, "dof": dof,
                         "p": p})


# ---------------------------------------------------------------------------
# More than two groups
# ---------------------------------------------------------------------------
def anova_bonferroni(data: pd.DataFrame, *, dv: str, between: str,
                     alpha: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One-way ANOVA followed by Bonferroni-corrected pairwise t tests.

    Parameters
    ----------
    data : DataFrame
        Tidy table, one row per subject.
    dv : str
        Numeric outcome.
    between : str
        Group column (three or more groups; two also work).
    alpha : float, default 0.05

    Returns
    -------
    anova_table : DataFrame
        One row: ``source``, ``n`` (values used), ``k`` (groups), ``F``,
        ``df1``, ``df2``, ``p``, ``np2`` (η², equal to partial η² in a one-way
        design), ``alpha``, ``significant``, ``note``.
    posthoc_table : DataFrame
        One row per pair: ``a``, ``b``, ``n_a``, ``n_b``, ``t`` (a − b),
        ``dof``, ``p_unc``, ``p_bonf`` (min(1, p_unc × number of pairs)),
        ``hedges_g``, ``alpha``, ``significant`` (p_bonf < alpha).

    Notes
    -----
    Missing ``dv`` values are dropped. Groups with fewer than 2 values are
    left out (listed in ``note``). The ANOVA assumes normal residuals and
    equal variances. Post-hoc tests are Student two-sample t tests on each
    pair's own data (:func:`pingouin.pairwise_tests`, ``correction=False``);
    SPSS's "Bonferroni" post hoc instead uses the ANOVA's pooled error term,
    so p-values can differ slightly.

    Examples
    --------
    >>> df = pd.DataFrame({"g": list("aaabbbccc"), "y": [1, 2, 3, 2, 3, 4, 6, 7, 8]})
    >>> aov, post = anova_bonferroni(df, dv="y", between="g")
    >>> aov[["k", "F", "df1", "df2"]]
       k     F  df1  df2
    0  3  21.0    2    6
    >>> post[["a", "b", "n_a", "n_b"]]
       a  b  n_a  n_b
    0  a  b    3    3
    1  a  c    3    3
    2  b  c    3    3
    """
    _check_columns(data, dv=dv, between=between)
    _check_alpha(alpha)
    d = data[[between, dv]].assign(**{dv: pd.to_numeric(data[dv], errors="coerce")}).dropna()
    # one pass over the groups (sorted as groupby sorts them); the ANOVA and the pairwise tests from their
    # arrays with the formulas of _oneway_anova / _pairwise_student (pingouin's), without per-step frames
    every = {k: v.to_numpy(dtype=np.float64) for k, v in d.groupby(between, observed=True, sort=True)[dv]}
    small = [k for k, v in every.items() if v.size < 2]
    groups = {k: v for k, v in every.items() if v.size >= 2}
    note = f"left out groups with < 2 values: {small}" if small else ""
    aov_row = dict(source=between, n=int(sum(v.size for v in groups.values())), k=len(groups), F=np.nan,
                   df1=np.nan, df2=np.nan, p=np.nan, np2=np.nan)
    post_cols = ["a", "b", "n_a", "n_b", "t", "dof", "p_unc", "p_bonf", "hedges_g", "alpha",
                 "significant"]
    post = pd.DataFrame(columns=post_cols)
    if len(groups) < 2:
        note = "; ".join(filter(None, [note, "fewer than 2 groups with ≥ 2 values: no ANOVA"]))
    else:
        omni, rows = anova_arrays(groups)
        aov_row.update(omni)
        post = pd.DataFrame(rows, columns=["a", "b", "n_a", "n_b", "t", "dof", "p_unc", "p_bonf", "hedges_g"])
        post["p_bonf"] = post["p_bonf"].astype(float)
        post["alpha"] = alpha
        post["significant"] = post["p_bonf"] < alpha
        post = post[post_cols]
    aov_row.update(alpha=alpha, significant=_significant(aov_row["p"], alpha), note=note)
    return pd.DataFrame([aov_row]), post.reset_index(drop=True)


def average_ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranks 1..n of ``values`` (ties get their average rank) and the size of each group of tied values.

    What ``scipy.stats.rankdata(values, method="average")`` gives, bit for bit (the ranks are exact halves),
    without its argument handling: the rank tests and the rank-scale mixed models call it per visit and outcome.

    Parameters
    ----------
    values : numpy.ndarray
        1-D float array without NaN (infinite values rank first or last).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The ranks, and the tie group sizes as float (for the tie corrections), in sorted order of the values.

    Examples
    --------
    >>> ranks, counts = average_ranks(np.array([3.0, 1.0, 3.0, 2.0]))
    >>> ranks.tolist(), counts.tolist()
    ([3.5, 1.0, 3.5, 2.0], [1.0, 1.0, 2.0])
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))  # first of each distinct value
    counts = np.diff(np.append(starts, values.size))
    ranks = np.empty(values.size)
    ranks[order] = np.repeat(starts + 1 + (counts - 1) / 2, counts)
    return ranks, counts.astype(float)


def anova_arrays(groups: dict) -> tuple[dict, list[dict]]:
    """One-way ANOVA and every pair's Student t test (Bonferroni) from each group's values (the arithmetic of
    :func:`anova_bonferroni`, for callers that already hold one array per group).

    Parameters
    ----------
    groups : dict of str to ndarray
        Group label -> its values (no missing values); pairs are taken in the dict's order
        (:func:`itertools.combinations`).

    Returns
    -------
    omnibus : dict
        ``F``, ``df1``, ``df2``, ``p``, ``np2``.
    pairs : list of dict
        ``a``, ``b``, ``n_a``, ``n_b``, ``t`` (a − b), ``dof``, ``p_unc``, ``p_bonf`` (min(1, p_unc × number
        of pairs)), ``hedges_g``.

    Examples
    --------
    >>> omni, pairs = anova_arrays({"a": np.array([1.0, 2, 3]), "b": np.array([2.0, 3, 4]),
    ...                             "c": np.array([6.0, 7, 8])})
    >>> omni["F"], omni["df1"], omni["df2"]
    (21.0, 2, 6)
    >>> [(r["a"], r["b"], round(r["t"], 3)) for r in pairs][:1]
    [('a', 'b', -1.225)]
    """
    from itertools import combinations

    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        values = np.concatenate(list(groups.values()))
        grand = values.mean()
        moments = {k: mean_ss(np.asarray(v, dtype=float)) for k, v in groups.items()}  # (mean, sum of squares)
        ss_between = sum(v.size * (moments[k][0] - grand) ** 2 for k, v in groups.items())
        ss_error = sum(moments[k][1] for k in groups)
        df1, df2 = len(groups) - 1, values.size - len(groups)
        f_val = (ss_between / df1) / (ss_error / df2)
        omni = dict(F=float(f_val), df1=int(df1), df2=int(df2), p=float(_special.fdtrc(df1, df2, f_val)),
                    np2=float(ss_between / (ss_between + ss_error)))
        rows = []
        for a, b in combinations(groups, 2):
            x, y = groups[a], groups[b]
            t, p_unc, dof = _ttest(x, y)
            nx, ny = x.size, y.size
            (mean_x, ss_x), (mean_y, ss_y) = moments[a], moments[b]
            pooled = np.sqrt(((nx - 1) * (ss_x / max(nx - 1, 0)) + (ny - 1) * (ss_y / max(ny - 1, 0))) / (nx + ny - 2))
            g = (mean_x - mean_y) / pooled * (1 - (3 / (4 * (nx + ny) - 9)))
            rows.append(dict(a=a, b=b, n_a=nx, n_b=ny, t=t, dof=dof, p_unc=p_unc, hedges_g=float(g)))
    for r in rows:
        r["p_bonf"] = float(np.minimum(r["p_unc"] * len(rows), 1.0)) if len(rows) > 1 else r["p_unc"]
    return omni, rows


def _oneway_anova(d: pd.DataFrame, *, dv: str, between: str) -> pd.DataFrame:
    """One-way ANOVA with the formulas of :func:`pingouin.anova` (``detailed=False``), vectorised.

    ``d`` has no missing values. Columns as :func:`_pg` names them: ``df1``, ``df2``, ``F``, ``p_unc``,
    ``np2``.

    Examples
    --------
    >>> df = pd.DataFrame({"g": list("aaabbbccc"), "y": [1, 2, 3, 2, 3, 4, 6, 7, 8]})
    >>> _oneway_anova(df, dv="y", between="g")[["df1", "df2", "F"]]
       df1  df2     F
    0    2    6  21.0
    """
    grp = d.groupby(between, observed=True)[dv]
    n_groups = grp.ngroups
    n = d[dv].size
    ss_between = ((grp.mean() - d[dv].mean()) ** 2 * grp.count()).sum()
    ss_error = ((d[dv] - grp.transform("mean")) ** 2).sum()
    df1, df2 = n_groups - 1, n - n_groups
    f_val = (ss_between / df1) / (ss_error / df2)
    return pd.DataFrame({"df1": [df1], "df2": [df2], "F": [f_val], "p_unc": [_special.fdtrc(df1, df2, f_val)],
                         "np2": [ss_between / (ss_between + ss_error)]})


def _pairwise_student(d: pd.DataFrame, *, dv: str, between: str) -> pd.DataFrame:
    """Student t tests of every pair of groups, as :func:`pingouin.pairwise_tests` (``correction=False``,
    ``padjust="bonf"``, ``effsize="hedges"``) reports them, without its Bayes factors.

    Groups in sorted order, pairs as :func:`itertools.combinations`; ``p_adj`` only with two or more pairs.

    Examples
    --------
    >>> df = pd.DataFrame({"g": list("aaabbbccc"), "y": [1, 2, 3, 2, 3, 4, 6, 7, 8]})
    >>> _pairwise_student(df, dv="y", between="g")[["a", "b", "dof"]]
       a  b  dof
    0  a  b  4.0
    1  a  c  4.0
    2  b  c  4.0
    """
    from itertools import combinations

    groups = {k: v.to_numpy(dtype=np.float64) for k, v in d.groupby(between, observed=True, sort=True)[dv]}
    rows = []
    for a, b in combinations(groups, 2):
        t, p, dof = _ttest(groups[a], groups[b])
        rows.append({"a": a, "b": b, "statistic": t, "dof": dof, "p_unc": p,
                     "hedges_g": pg.compute_effsize(groups[a], groups[b], paired=False, eftype="hedges")})
    out = pd.DataFrame(rows)
    if len(out) > 1:
        out["p_adj"] = pg.multicomp(out["p_unc"].to_numpy(), method="bonf")[1]
    return out


def by_visit(data: pd.DataFrame, *, dv: str, group: str, visit: str, func: Callable,
             **kwargs) -> pd.DataFrame:
    """Apply a comparison separately at each visit and stack the results.

    Parameters
    ----------
    data : DataFrame
        Long table with one row per subject × visit.
    dv, group, visit : str
        Outcome, grouping and visit columns.
    func : callable
        A function of this module (or any with the same style). ``group`` is
        passed as ``between=`` if ``func`` accepts ``between``, else as
        ``by=``. If ``func`` returns a tuple (e.g. :func:`anova_bonferroni`),
        its first element is used.
    **kwargs
        Passed on to ``func`` (e.g. ``groups=``, ``test=``, ``alpha=``).

    Returns
    -------
    DataFrame
        ``visit`` column first (named after the ``visit`` argument), then
        ``func``'s columns; one block per visit, visits sorted.

    Examples
    --------
    >>> df = pd.DataFrame({"week": [0] * 6 + [12] * 6, "g": list("AAABBB") * 2,
    ...                    "y": [1, 2, 3, 2, 3, 4, 1, 2, 3, 5, 6, 7]})
    >>> by_visit(df, dv="y", group="g", visit="week", func=compare_independent)[
    ...     ["week", "mean_diff"]]
       week  mean_diff
    0     0       -1.0
    1    12       -4.0
    """
    _check_columns(data, dv=dv, group=group, visit=visit)
    params = signature(func).parameters
    key = "between" if "between" in params else "by"

    def one(sub: pd.DataFrame) -> pd.DataFrame:
        res = func(sub, dv=dv, **{key: group}, **kwargs)
        return res[0] if isinstance(res, tuple) else res

    parts = [one(sub).assign(**{visit: v}) for v, sub in data.groupby(visit, sort=True)]
    if not parts:
        return pd.DataFrame(columns=[visit])
    out = pd.concat(parts, ignore_index=True)
    return out[[visit] + [c for c in out.columns if c != visit]]


def mixed_model_view(data: pd.DataFrame, *, dv: str, within: str, between: str,
                     subject: str) -> pd.DataFrame:
    """Mixed ANOVA (group × visit) over repeated visits, complete cases.

    The "modern alternative" to one test per visit: one model for all visits.

    Parameters
    ----------
    data : DataFrame
        Long table, one row per subject × visit.
    dv : str
        Outcome.
    within : str
        Repeated factor (visit).
    between : str
        Group factor.
    subject : str
        Subject id.

    Returns
    -------
    DataFrame
        One row per effect (``between``, ``within``, ``Interaction``):
        ``source``, ``df1``, ``df2``, ``F``, ``p_unc``, ``p_gg``
        (Greenhouse–Geisser corrected, within effects), ``np2``, ``eps``,
        ``n_subjects`` (complete cases), ``note``.

    Notes
    -----
    Only subjects with a value at every level of ``within`` are used
    (complete-case analysis; assumes data missing completely at random — a
    linear mixed model would use every observation). Assumes normal
    residuals and sphericity (see ``p_gg``). Fewer than 2 complete subjects
    per group or fewer than 2 visits → NaN rows with a note.

    Examples
    --------
    >>> df = pd.DataFrame({"id": list(range(6)) * 2, "week": [0] * 6 + [12] * 6,
    ...                    "g": list("AAABBB") * 2,
    ...                    "y": [5, 6, 7, 5, 6, 8, 3, 4, 4, 5, 6, 7]})
    >>> mixed_model_view(df, dv="y", within="week", between="g", subject="id")["source"].tolist()
    ['g', 'week', 'Interaction']
    """
    _check_columns(data, dv=dv, within=within, between=between, subject=subject)
    d = data[[subject, within, between, dv]].assign(
        **{dv: pd.to_numeric(data[dv], errors="coerce")}).dropna()
    n_levels = d[within].nunique()
    counts = d.groupby(subject)[within].nunique()
    complete = counts[counts == n_levels].index
    d = d[d[subject].isin(complete)]
    per_group = d.drop_duplicates(subject).groupby(between, observed=True).size()
    cols = ["source", "df1", "df2", "F", "p_unc", "p_gg", "np2", "eps", "n_subjects", "note"]
    if n_levels < 2 or len(per_group) < 2 or (per_group < 2).any():
        note = (f"not estimable: {n_levels} visit(s), complete subjects per group "
                f"{per_group.to_dict()}")
        return pd.DataFrame({"source": [between, within, "Interaction"], "n_subjects": len(complete),
                             "note": note}).reindex(columns=cols)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = _pg(pg.mixed_anova(data=d, dv=dv, within=within, between=between, subject=subject))
    res = res.assign(n_subjects=len(complete), note="")
    return res.reindex(columns=cols)


def correlation(data: pd.DataFrame, *, x: str, y: str, method: str = "pearson") -> pd.DataFrame:
    """Correlation between two columns with a 95% CI.

    Parameters
    ----------
    data : DataFrame
    x, y : str
        Numeric columns.
    method : {"pearson", "spearman"}

    Returns
    -------
    DataFrame
        One row: ``x``, ``y``, ``method``, ``n`` (complete pairs), ``r``,
        ``ci_low``, ``ci_high`` (Fisher z, from pingouin), ``p``, ``note``.

    Notes
    -----
    Rows with a missing ``x`` or ``y`` are dropped. Pearson assumes a linear
    relation and bivariate normality; Spearman only a monotone relation.
    Fewer than 3 pairs, or a constant column → NaN and a note.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 4, 5, 4, 5]})
    >>> correlation(df, x="a", y="b")[["n", "r"]].round(3)
       n      r
    0  5  0.775
    """
    _check_columns(data, x=x, y=y)
    _check_choice("method", method, ("pearson", "spearman"))
    d = data[[x, y]].apply(pd.to_numeric, errors="coerce").dropna()
    row = dict(x=x, y=y, method=method, n=len(d), r=np.nan, ci_low=np.nan, ci_high=np.nan,
               p=np.nan, note="")
    if len(d) < 3:
        row["note"] = f"fewer than 3 complete pairs (n={len(d)})"
    elif d[x].nunique() < 2 or d[y].nunique() < 2:
        row["note"] = "a constant column: correlation undefined"
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = _pg(pg.corr(d[x], d[y], method=method))
        ci = res["ci95"].iloc[0]
        row.update(r=float(res["r"].iloc[0]), ci_low=float(ci[0]), ci_high=float(ci[1]),
                   p=float(res["p"].iloc[0]))
    return pd.DataFrame([row])


# ---------------------------------------------------------------------------
# Proportions and multiplicity
# ---------------------------------------------------------------------------
def proportion_table(successes, total, confidence: float = 0.95) -> pd.DataFrame:
    """Vectorised proportions with Wilson confidence intervals.

    Parameters
    ----------
    successes, total : int or array-like of int
    confidence : float, default 0.95

    Returns
    -------
    DataFrame
        ``successes``, ``total``, ``proportion`` (NaN when total is 0),
        ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> proportion_table([0, 5], [10, 5])[["proportion", "ci_high"]].round(4)
       proportion  ci_high
    0         0.0   0.2775
    1         1.0   1.0000
    """
    k = np.atleast_1d(np.asarray(successes))
    n = np.atleast_1d(np.asarray(total))
    k, n = np.broadcast_arrays(k, n)
    low, high = wilson_interval(k, n, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        prop = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
    return pd.DataFrame({"successes": k, "total": n, "proportion": prop,
                         "ci_low": low, "ci_high": high})


def adjust_pvalues(p, method: str = "holm") -> np.ndarray:
    """Adjust p-values for multiple testing (:func:`pingouin.multicomp`).

    Parameters
    ----------
    p : array-like of float
        Raw p-values; NaN stays NaN and is not counted as a test.
    method : {"holm", "bonf", "fdr_bh", "none"}
        Holm step-down, Bonferroni, Benjamini–Hochberg FDR, or no adjustment.

    Returns
    -------
    ndarray of adjusted p-values (capped at 1), in the input order.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.02, 0.04], method="bonf").round(2)
    array([0.03, 0.06, 0.12])
    >>> adjust_pvalues([0.01, 0.02, 0.04], method="holm").round(2)
    array([0.03, 0.04, 0.04])
    """
    _check_choice("method", method, _ADJUST_METHODS)
    arr = np.asarray(p, float).ravel()
    if method == "none" or arr.size == 0:
        return arr.copy()
    if np.all(np.isnan(arr)):
        return arr.copy()
    _, adj = pg.multicomp(arr, method=method)
    return np.asarray(adj, float)


def multiplicity_summary(pvals, alpha: float = 0.05) -> pd.DataFrame:
    """How many results stay significant under each multiplicity correction.

    Parameters
    ----------
    pvals : array-like of float
        Raw p-values of a family of tests (NaN ignored).
    alpha : float, default 0.05

    Returns
    -------
    DataFrame
        One row per method (``raw``, ``holm``, ``bonf``, ``fdr_bh``):
        ``method``, ``n_tests``, ``n_significant`` (adjusted p < alpha),
        ``alpha``.

    Examples
    --------
    >>> multiplicity_summary([0.001, 0.01, 0.03, 0.2])[["method", "n_significant"]]
       method  n_significant
    0     raw              3
    1    holm              2
    2    bonf              2
    3  fdr_bh              3
    """
    _check_alpha(alpha)
    arr = np.asarray(pvals, float).ravel()
    n_tests = int(np.sum(~np.isnan(arr)))
    rows = []
    for method in ("raw", "holm", "bonf", "fdr_bh"):
        adj = arr if method == "raw" else adjust_pvalues(arr, method=method)
        rows.append(dict(method=method, n_tests=n_tests,
                         n_significant=int(np.sum(np.nan_to_num(adj, nan=1.0) < alpha)),
                         alpha=alpha))
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# Diagnostic accuracy
# ---------------------------------------------------------------------------
def _binary(name: str, x) -> pd.Series:
    s = pd.Series(np.asarray(x, dtype=object))
    ok = s.isna() | s.isin([0, 1, True, False])
    if not ok.all():
        raise ValueError(f"`{name}` must hold 0/1 or booleans; got e.g. {s[~ok].iloc[0]!r}.")
    return s


def _binary_values(name: str, x) -> np.ndarray:
    """:func:`_binary` as floats (1.0, 0.0, NaN where missing); numbers are checked without a Series."""
    a = np.asarray(x)
    if a.ndim == 1 and a.dtype.kind in "biuf":
        v = a.astype(float)
        if np.all(np.isnan(v) | (v == 0) | (v == 1)):
            return v
    s = _binary(name, x)  # raises on a value that is not 0/1
    return np.where(s.isna().to_numpy(bool), np.nan, s.fillna(False).astype(bool).to_numpy(float))


def _table_counts(truth, predicted) -> dict[str, int]:
    """TP, FP, FN, TN and n of :func:`diagnostic_table` (pairs with a missing value dropped)."""
    t, p = _binary_values("truth", truth), _binary_values("predicted", predicted)
    if len(t) != len(p):
        raise ValueError(f"`truth` and `predicted` must have equal length; got {len(t)} and {len(p)}.")
    keep = ~(np.isnan(t) | np.isnan(p))
    t, p = t[keep] == 1, p[keep] == 1
    return dict(TP=int(np.sum(t & p)), FP=int(np.sum(~t & p)), FN=int(np.sum(t & ~p)), TN=int(np.sum(~t & ~p)),
                n=int(t.size))


def diagnostic_table(truth, predicted) -> pd.DataFrame:
    """The 2 × 2 table of a binary prediction against the truth.

    Parameters
    ----------
    truth, predicted : array-like of 0/1 or bool (1 = positive)
        Pairs with a missing value are dropped.

    Returns
    -------
    DataFrame
        One row: ``TP``, ``FP``, ``FN``, ``TN``, ``n``.

    Examples
    --------
    >>> diagnostic_table([1, 1, 0, 0, 1], [1, 0, 0, 1, 1])
       TP  FP  FN  TN  n
    0   2   1   1   1  5
    """
    return pd.DataFrame({k: [v] for k, v in _table_counts(truth, predicted).items()})


def diagnostic_metrics(truth, predicted, confidence: float = 0.95) -> pd.DataFrame:
    """Sensitivity, specificity, PPV and NPV with Wilson confidence intervals.

    Parameters
    ----------
    truth, predicted : array-like of 0/1 or bool
    confidence : float, default 0.95

    Returns
    -------
    DataFrame
        One row per metric (``sensitivity`` = TP/(TP+FN), ``specificity`` =
        TN/(TN+FP), ``PPV`` = TP/(TP+FP), ``NPV`` = TN/(TN+FN)): ``metric``,
        ``successes``, ``total``, ``estimate``, ``ci_low``, ``ci_high``,
        ``note`` (set when the denominator is 0).

    Notes
    -----
    PPV and NPV depend on the prevalence in the sample; they transfer to
    another population only if the prevalence is the same.

    Examples
    --------
    >>> diagnostic_metrics([1, 1, 0, 0, 1], [1, 0, 0, 1, 1])[["metric", "estimate"]].round(3)
            metric  estimate
    0  sensitivity     0.667
    1  specificity     0.500
    2          PPV     0.667
    3          NPV     0.500
    """
    tab = _table_counts(truth, predicted)
    spec = {"sensitivity": ("TP", "FN"), "specificity": ("TN", "FP"),
            "PPV": ("TP", "FP"), "NPV": ("TN", "FN")}
    k = np.array([tab[a] for a, _ in spec.values()], dtype=np.int64)
    n = np.array([tab[a] + tab[b] for a, b in spec.values()], dtype=np.int64)
    props = proportion_table(k, n, confidence)
    return pd.DataFrame({
        "metric": list(spec), "successes": k, "total": n, "estimate": props["proportion"],
        "ci_low": props["ci_low"], "ci_high": props["ci_high"],
        "note": ["no cases in the denominator" if v == 0 else "" for v in n],
    })


def _auc_rank(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """Mann–Whitney AUC along the last axis: P(pos > neg) + ½ P(tie)."""
    n_pos, n_neg = pos.shape[-1], neg.shape[-1]
    ranks = sps.rankdata(np.concatenate([pos, neg], axis=-1), axis=-1)
    r_pos = ranks[..., :n_pos].sum(axis=-1)
    return (r_pos - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def roc_curve_auc(truth, score, *, n_boot: int = 2000, seed: int = 0,
                  confidence: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ROC curve and AUC with a bootstrap percentile confidence interval.

    Parameters
    ----------
    truth : array-like of 0/1 or bool (1 = positive)
    score : array-like of float
        Higher scores predict the positive class. Pairs with a missing value
        are dropped.
    n_boot : int, default 2000
        Bootstrap resamples (0 → no CI).
    seed : int, default 0
        Seed of the :class:`numpy.random.Generator`.
    confidence : float, default 0.95

    Returns
    -------
    curve_df : DataFrame
        One row per threshold (descending, starting at +inf): ``threshold``
        (positive when score ≥ threshold), ``tpr`` (sensitivity), ``fpr``,
        ``specificity``, ``youden`` (tpr − fpr).
    auc_row_df : DataFrame
        One row: ``n_pos``, ``n_neg``, ``auc``, ``ci_low``, ``ci_high``,
        ``n_boot``, ``note``.

    Notes
    -----
    AUC = (R_pos − n_pos(n_pos+1)/2) / (n_pos n_neg) with average ranks, i.e.
    the Mann–Whitney estimate of P(score_pos > score_neg) + ½ P(tie)
    (Hanley & McNeil 1982, Radiology 143:29). The bootstrap resamples
    positives and negatives separately (stratified), so every resample has
    both classes; CI = percentiles of the bootstrap AUCs.

    Examples
    --------
    >>> curve, auc = roc_curve_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], n_boot=200)
    >>> auc["auc"].item()
    0.75
    >>> curve[["tpr", "fpr"]].values.tolist()
    [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [1.0, 0.5], [1.0, 1.0]]
    """
    t = _binary_values("truth", truth)
    s = np.asarray(score)
    if s.ndim == 1 and s.dtype.kind in "iuf":
        s = s.astype(float)
    else:
        s = pd.to_numeric(pd.Series(np.asarray(score, dtype=object)), errors="coerce").to_numpy(float)
    if len(t) != len(s):
        raise ValueError(f"`truth` and `score` must have equal length; got {len(t)} and {len(s)}.")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"`n_boot` must be a non-negative integer; got {n_boot!r}.")
    keep = ~(np.isnan(t) | np.isnan(s))
    t = t[keep] == 1
    s = s[keep]
    pos, neg = s[t], s[~t]
    # Curve: for each distinct threshold, positives predicted when score >= threshold.
    # (sorted arrays + searchsorted: O(n log n) time and O(n) memory, fine for 100,000 patients)
    thresholds = np.r_[np.inf, np.unique(s)[::-1]]
    tp = pos.size - np.searchsorted(np.sort(pos), thresholds, side="left")
    fp = neg.size - np.searchsorted(np.sort(neg), thresholds, side="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr = tp / pos.size if pos.size else np.full(tp.shape, np.nan)
        fpr = fp / neg.size if neg.size else np.full(fp.shape, np.nan)
    tpr, fpr = tpr.astype(float), fpr.astype(float)
    curve = pd.DataFrame({"threshold": thresholds, "tpr": tpr, "fpr": fpr, "specificity": 1 - fpr,
                          "youden": tpr - fpr})
    row = dict(n_pos=pos.size, n_neg=neg.size, auc=np.nan, ci_low=np.nan, ci_high=np.nan,
               n_boot=int(n_boot), note="")
    if pos.size == 0 or neg.size == 0:
        row["note"] = "both classes are needed for an AUC"
        return curve, pd.DataFrame({k: [v] for k, v in row.items()})
    row["auc"] = float(_auc_rank(pos, neg))
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        # resamples in chunks of at most ~4 million values, so memory stays flat for large cohorts
        chunk = max(1, int(4_000_000 // (pos.size + neg.size)))
        small = pos.size * neg.size <= 250_000  # the pairs' comparison table fits in memory
        if small:
            # 1 where the positive beats the negative, ½ for a tie: a resample's AUC is a'Cb / (n_pos n_neg) with a
            # and b how often it drew each positive and negative (the rank formula's value exactly: both are sums
            # of halves, exact in floating point)
            C = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
        parts = []
        for start in range(0, n_boot, chunk):
            size = min(chunk, n_boot - start)
            ip = rng.integers(0, pos.size, size=(size, pos.size))
            ineg = rng.integers(0, neg.size, size=(size, neg.size))
            if small:
                rows = np.arange(size)[:, None]
                a = np.bincount((rows * pos.size + ip).ravel(), minlength=size * pos.size).reshape(size, pos.size)
                b = np.bincount((rows * neg.size + ineg).ravel(), minlength=size * neg.size).reshape(size, neg.size)
                parts.append(((a @ C) * b).sum(axis=1) / (pos.size * neg.size))
            else:
                parts.append(_auc_rank(pos[ip], neg[ineg]))
        boots = np.concatenate(parts)
        tail = (1 - confidence) / 2 * 100
        row["ci_low"], row["ci_high"] = (float(v) for v in np.percentile(boots, [tail, 100 - tail]))
    if min(pos.size, neg.size) < 5:
        row["note"] = "fewer than 5 in a class: the bootstrap CI is unreliable"
    return curve, pd.DataFrame({k: [v] for k, v in row.items()})


def youden_threshold(curve_df: pd.DataFrame) -> pd.DataFrame:
    """The threshold that maximises Youden's J = sensitivity + specificity − 1.

    Parameters
    ----------
    curve_df : DataFrame
        The curve from :func:`roc_curve_auc`.

    Returns
    -------
    DataFrame
        One row: ``threshold``, ``tpr``, ``fpr``, ``specificity``, ``youden``.
        Ties go to the highest threshold; the +inf start is never chosen. An
        empty or undefined curve gives a NaN row.

    Examples
    --------
    >>> curve, _ = roc_curve_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], n_boot=0)
    >>> youden_threshold(curve)[["threshold", "youden"]]
       threshold  youden
    0        0.8     0.5
    """
    _check_columns(curve_df, curve_df=["threshold", "tpr", "fpr"])
    cols = ["threshold", "tpr", "fpr", "specificity", "youden"]
    finite = np.flatnonzero(np.isfinite(curve_df["threshold"].to_numpy(float)))
    thr, tpr, fpr = (curve_df[c].to_numpy()[finite] for c in ("threshold", "tpr", "fpr"))
    j = (tpr - fpr).astype(float)
    if not finite.size or np.isnan(j).all():
        return pd.DataFrame([{k: np.nan for k in cols}])
    i = int(np.nanargmax(j))  # the first maximum (the highest threshold), as idxmax
    at = slice(i, i + 1)
    return pd.DataFrame({"threshold": thr[at], "tpr": tpr[at], "fpr": fpr[at], "specificity": 1 - fpr[at],
                         "youden": tpr[at] - fpr[at]})
