"""Inflammation (the paper's Fig. 4): IL-6, TNF-α, IL-10, IL-1β, IL-2R and IL-8 over weeks 0–48.

Every function takes the tidy visit table of :func:`analysis.science.derive.derive` (``derived.visits``,
censored values already substituted by the chosen ``lloq_rule``) or a table made by this module,
and returns a tidy :class:`pandas.DataFrame` (or a matplotlib Figure); nothing is printed and no
input is mutated. The chapter ``book/inflammation.ipynb`` only calls these functions.

Stated rules:

* **Below the LLOQ** (:func:`censored_counts`): a value is censored when its companion column
  ``f"{cytokine}_flag"`` holds ``"<LLOQ"``; the substitution itself (half the LLOQ, the LLOQ, or
  exclusion) is done by :func:`analysis.science.derive.apply_limits`. Counts do not depend on the rule.
* **Paper's tests next to rank tests** (:func:`within_group_tests`, :func:`between_group_tests`,
  :func:`omnibus_tests`): paired t vs Wilcoxon signed-rank (each visit against baseline, within a
  group); Student t vs Mann–Whitney U (responders against each other group, per visit); one-way
  ANOVA vs Kruskal–Wallis (all groups, per visit). A pair of verdicts *disagrees* when exactly one
  of the two p-values is below ``alpha``.
* **Multiplicity** (:func:`multiplicity`): counts of p < alpha before and after Holm, Bonferroni
  and Benjamini–Hochberg over the whole family of the paper's tests (and per family).
* **Standardised change** (:func:`standardised_change`): per cytokine, group and visit, the mean
  within-patient change from baseline divided by the SD of that cytokine at baseline over all
  patients of the groups shown (``scale="sd"``), or the same on log10 values (``scale="log"``,
  a mean log fold change in baseline-SD units).

The chapter's claims are judged in :mod:`analysis.chapters.inflammation.verdicts` (with the headless ``evaluate``);
its "A second look" is :mod:`analysis.chapters.inflammation.second_look`.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis.science import stats
from analysis.core.checks import check_frame as _check_frame, check_choice as _check_choice, check_alpha as _check_alpha
from analysis.claims.rules import format_p
from analysis.core.design import PAPER

__all__ = [
    "CYTOKINES",
    "GROUPS",
    "SCALES",
    "add_adjusted",
    "between_group_tests",
    "censored_counts",
    "cytokine_long",
    "cytokine_summary",
    "disagreement_count",
    "heatmap_figure",
    "multiplicity",
    "no_change_evidence",
    "omnibus_tests",
    "paired_result",
    "return_to_baseline",
    "reversal",
    "standardised_change",
    "star_survival",
    "test_table",
    "trajectory_figure",
    "within_group_tests",
]

#: The six cytokines of Fig. 4 (a–f) and their display labels.
CYTOKINES: dict[str, str] = {
    "il_6": "IL-6", "tnf_a": "TNF-α", "il_10": "IL-10", "il_1b": "IL-1β", "il_2r": "IL-2R", "il_8": "IL-8",
}
#: The three analysis groups, in display order.
GROUPS: tuple[str, ...] = ("Responder", "Non-responder", "Control")
#: Scales of the standardised change and of the trajectory figure.
SCALES: tuple[str, ...] = ("sd", "log")

_BELOW = "<LLOQ"
_TEST_COLS = ["family", "cytokine", "label", "comparison", "week", "n", "estimate", "p_param", "p_nonpar",
              "test_param", "test_nonpar", "sig_param", "sig_nonpar", "disagree"]


# ------------------------------------------------------------------------------------------ checks


def _cytokines(visits: pd.DataFrame, cytokines) -> list[str]:
    names = list(CYTOKINES) if cytokines is None else list(cytokines)
    unknown = [c for c in names if c not in CYTOKINES]
    if unknown:
        raise ValueError(f"`cytokines` holds {unknown}; allowed: {list(CYTOKINES)}.")
    return [c for c in names if c in visits.columns]


# ------------------------------------------------------------------------------------------ data
def cytokine_long(visits: pd.DataFrame, *, cytokines=None, groups: Sequence[str] = GROUPS) -> pd.DataFrame:
    """One row per patient, visit and cytokine, with the censoring flag and the log10 value.

    Parameters
    ----------
    visits : pandas.DataFrame
        ``derived.visits``: ``patient_id``, ``week``, ``group``, the cytokine columns and (where
        present) their ``*_flag`` columns.
    cytokines : list of str, optional
        Columns of :data:`CYTOKINES` to keep (default all six; absent columns are skipped).
    groups : sequence of str
        Groups kept (default :data:`GROUPS`; "Unclassified" is left out), in display order.

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``group`` (ordered categorical), ``week``, ``cytokine``, ``label``,
        ``value`` (after the LLOQ rule), ``censored`` (flag is "<LLOQ"), ``log10_value``
        (NaN where the value is missing or not positive).

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["a", "a"], "week": [0, 4], "group": ["Responder"] * 2,
    ...                   "il_6": [0.25, 10.0], "il_6_flag": ["<LLOQ", None]})
    >>> cytokine_long(v)[["week", "value", "censored", "log10_value"]].round(3)
       week  value  censored  log10_value
    0     0   0.25      True       -0.602
    1     4  10.00     False        1.000
    """
    _check_frame(visits, "visits", ["patient_id", "week", "group"])
    names = _cytokines(visits, cytokines)
    base = visits.loc[visits["group"].isin(groups), ["patient_id", "group", "week"]]
    parts = []
    for col in names:
        flag = visits.get(f"{col}_flag")
        censored = (flag.eq(_BELOW).fillna(False) if flag is not None
                    else pd.Series(False, index=visits.index)).astype(bool)
        value = pd.to_numeric(visits[col], errors="coerce").astype(float)
        parts.append(base.assign(cytokine=col, label=CYTOKINES[col], value=value.loc[base.index],
                                 censored=censored.loc[base.index].to_numpy(dtype=bool)))
    if not parts:
        out = base.assign(cytokine=pd.Series(dtype=object), label=pd.Series(dtype=object),
                          value=pd.Series(dtype=float), censored=pd.Series(dtype=bool))
    else:
        out = pd.concat(parts, ignore_index=True)
    positive = out["value"].where(out["value"] > 0)
    out["log10_value"] = np.log10(positive.astype(float))
    out["group"] = pd.Categorical(out["group"], categories=[g for g in groups], ordered=True)
    return out.reset_index(drop=True)


def censored_counts(long: pd.DataFrame) -> pd.DataFrame:
    """How many measured values were below the LLOQ, per cytokine and visit.

    Parameters
    ----------
    long : pandas.DataFrame
        From :func:`cytokine_long`.

    Returns
    -------
    pandas.DataFrame
        ``cytokine``, ``label``, ``week``, ``n_measured`` (a number or a "<LLOQ" flag),
        ``n_below_lloq``, ``pct_below_lloq`` (0–100). The counts are the same under every
        ``lloq_rule`` because they read the flags, not the substituted values.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abc"), "week": [0, 0, 0], "group": ["Control"] * 3,
    ...                   "il_6": [np.nan, 2.0, np.nan], "il_6_flag": ["<LLOQ", None, None]})
    >>> censored_counts(cytokine_long(v))[["week", "n_measured", "n_below_lloq"]]
       week  n_measured  n_below_lloq
    0     0           2             1
    """
    _check_frame(long, "long", ["cytokine", "label", "week", "value", "censored"])
    measured = long["value"].notna() | long["censored"]
    d = long.assign(measured=measured, below=long["censored"] & measured)
    out = (d.groupby(["cytokine", "label", "week"], sort=False, observed=True)
           .agg(n_measured=("measured", "sum"), n_below_lloq=("below", "sum")).reset_index())
    out[["n_measured", "n_below_lloq"]] = out[["n_measured", "n_below_lloq"]].astype(int)
    out["pct_below_lloq"] = np.where(out["n_measured"] > 0,
                                     100.0 * out["n_below_lloq"] / out["n_measured"].where(out["n_measured"] > 0),
                                     np.nan)
    order = {c: i for i, c in enumerate(CYTOKINES)}
    out = out.sort_values(["cytokine", "week"], key=lambda s: s.map(order) if s.name == "cytokine" else s)
    return out.reset_index(drop=True)


def cytokine_summary(long: pd.DataFrame) -> pd.DataFrame:
    """Mean ± SEM (the paper's display) and median [IQR] per cytokine, group and visit.

    Returns
    -------
    pandas.DataFrame
        ``cytokine``, ``label``, ``group``, ``week``, ``n`` (values used), ``n_censored``,
        ``mean``, ``sd``, ``sem``, ``median``, ``q1``, ``q3``, ``geo_mean`` (10 ** mean log10,
        positive values only).

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("ab"), "week": [0, 0], "group": ["Control"] * 2,
    ...                   "il_6": [1.0, 100.0]})
    >>> cytokine_summary(cytokine_long(v))[["n", "mean", "median", "geo_mean"]]
       n  mean  median  geo_mean
    0  2  50.5    50.5      10.0
    """
    _check_frame(long, "long", ["cytokine", "label", "group", "week", "value", "censored", "log10_value"])
    g = long.groupby(["cytokine", "label", "group", "week"], sort=True, observed=True)
    out = g.agg(n=("value", "count"), n_censored=("censored", "sum"), mean=("value", "mean"),
                sd=("value", "std"), median=("value", "median"),
                q1=("value", lambda s: s.quantile(0.25)), q3=("value", lambda s: s.quantile(0.75)),
                log_mean=("log10_value", "mean")).reset_index()
    out["sem"] = out["sd"] / np.sqrt(out["n"].where(out["n"] > 0))
    out["geo_mean"] = 10 ** out["log_mean"]
    out["n_censored"] = out["n_censored"].astype(int)
    order = {c: i for i, c in enumerate(CYTOKINES)}
    out = out.sort_values(["cytokine", "group", "week"],
                          key=lambda s: s.map(order) if s.name == "cytokine" else s, kind="stable")
    cols = ["cytokine", "label", "group", "week", "n", "n_censored", "mean", "sd", "sem", "median", "q1", "q3",
            "geo_mean"]
    return out[cols].reset_index(drop=True)


# ------------------------------------------------------------------------------------------ tests
def _row(family, cytokine, comparison, week, n, estimate, p_param, p_nonpar, test_param, test_nonpar, alpha):
    sig_p = bool(pd.notna(p_param) and p_param < alpha)
    sig_n = bool(pd.notna(p_nonpar) and p_nonpar < alpha)
    both = pd.notna(p_param) and pd.notna(p_nonpar)
    return dict(family=family, cytokine=cytokine, label=CYTOKINES.get(cytokine, cytokine), comparison=comparison,
                week=week, n=int(n), estimate=estimate, p_param=p_param, p_nonpar=p_nonpar, test_param=test_param,
                test_nonpar=test_nonpar, sig_param=sig_p, sig_nonpar=sig_n, disagree=bool(both and sig_p != sig_n))


def _frame(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=_TEST_COLS)
    return out.astype({"sig_param": bool, "sig_nonpar": bool, "disagree": bool})


def _paired_p(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Two-sided paired t and Wilcoxon p-values of complete pairs (NaN when undefined)."""
    diff = y - x
    if diff.size < 2 or np.ptp(diff) == 0:
        return np.nan, np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p_t = float(sps.ttest_rel(y, x).pvalue)
        try:
            p_w = float(sps.wilcoxon(y, x).pvalue)
        except ValueError:
            p_w = np.nan
    return p_t, p_w


def _independent_p(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Two-sided Student t and Mann–Whitney U p-values (NaN when a group has < 2 values)."""
    if a.size < 2 or b.size < 2:
        return np.nan, np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p_t = float(sps.ttest_ind(a, b, equal_var=True).pvalue)
        p_u = float(sps.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    return p_t, p_u


def within_group_tests(long: pd.DataFrame, *, groups: Sequence[str] = GROUPS, baseline_week: int = 0,
                       alpha: float = 0.05) -> pd.DataFrame:
    """Each visit against baseline within each group: paired t (the paper) and Wilcoxon signed-rank.

    Parameters
    ----------
    long : pandas.DataFrame
        From :func:`cytokine_long`.
    groups : sequence of str
        Groups tested (absent groups give no rows).
    baseline_week : int
        The reference visit.
    alpha : float

    Returns
    -------
    pandas.DataFrame
        One row per cytokine × group × later visit: ``family`` ("within"), ``cytokine``, ``label``,
        ``comparison`` (the group), ``week``, ``n`` (complete pairs), ``estimate`` (mean change,
        visit − baseline), ``p_param`` (paired t), ``p_nonpar`` (Wilcoxon), ``test_param``,
        ``test_nonpar``, ``sig_param``, ``sig_nonpar``, ``disagree``.

    Notes
    -----
    Complete pairs only, the same tests as :func:`analysis.science.stats.compare_paired` (scipy's
    ``ttest_rel`` and ``wilcoxon``, called directly on one patient × visit matrix so that
    100,000 patients stay fast). The paired t test assumes roughly normal differences; Wilcoxon
    assumes symmetric differences and drops zero differences. Fewer than two pairs, or all
    differences equal, give NaN p-values (no verdict, no disagreement).

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abcdabcd"), "week": [0] * 4 + [4] * 4,
    ...                   "group": ["Responder"] * 8, "il_6": [5.0, 6, 7, 8, 4, 4, 5, 5]})
    >>> within_group_tests(cytokine_long(v))[["comparison", "week", "n", "estimate"]]
      comparison  week  n  estimate
    0  Responder     4  4      -2.0
    """
    _check_frame(long, "long", ["patient_id", "cytokine", "group", "week", "value"])
    _check_alpha(alpha)
    rows = []
    sub_all = long[long["group"].isin(groups)].drop_duplicates(["patient_id", "cytokine", "week"])
    for (cyt, grp), sub in sub_all.groupby(["cytokine", "group"], sort=False, observed=True):
        wide = sub.pivot(index="patient_id", columns="week", values="value")
        if baseline_week not in wide.columns:
            continue
        base = wide[baseline_week].to_numpy(float)
        for week in sorted(w for w in wide.columns if w != baseline_week):
            after = wide[week].to_numpy(float)
            ok = ~np.isnan(base) & ~np.isnan(after)
            x, y = base[ok], after[ok]
            p_t, p_w = _paired_p(x, y)
            est = float(np.mean(y - x)) if ok.any() else np.nan
            rows.append(_row("within", cyt, str(grp), int(week), ok.sum(), est, p_t, p_w,
                             "paired t", "Wilcoxon", alpha))
    return _sort(_frame(rows), groups)


def between_group_tests(long: pd.DataFrame, *, reference: str = "Responder",
                        others: Sequence[str] = ("Non-responder", "Control"), alpha: float = 0.05) -> pd.DataFrame:
    """Per visit, ``reference`` against each other group: Student t (the paper) and Mann–Whitney U.

    Returns
    -------
    pandas.DataFrame
        Columns as :func:`within_group_tests`, ``family`` "between", ``comparison``
        "Responder vs Control" etc., ``n`` = n_a + n_b, ``estimate`` = mean difference (reference − other).

    Notes
    -----
    The same tests as :func:`analysis.science.stats.compare_independent` with ``test="t"`` and
    ``"mannwhitney"`` (scipy ``ttest_ind`` and ``mannwhitneyu``, two-sided). Student's t assumes
    normal outcomes with equal variances; Mann–Whitney compares the distributions by ranks.
    Fewer than two values in a group give NaN p-values.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abcdef"), "week": [0] * 6,
    ...                   "group": ["Responder"] * 3 + ["Control"] * 3, "il_6": [1.0, 2, 3, 2, 3, 4]})
    >>> between_group_tests(cytokine_long(v), others=("Control",))[["comparison", "n", "estimate"]]
                 comparison  n  estimate
    0  Responder vs Control  6      -1.0
    """
    _check_frame(long, "long", ["patient_id", "cytokine", "group", "week", "value"])
    _check_alpha(alpha)
    rows = []
    d_all = long.dropna(subset=["value"])
    for (cyt, week), sub in d_all.groupby(["cytokine", "week"], sort=False):
        a = sub.loc[sub["group"] == reference, "value"].to_numpy(float)
        for other in others:
            b = sub.loc[sub["group"] == other, "value"].to_numpy(float)
            p_t, p_u = _independent_p(a, b)
            est = float(a.mean() - b.mean()) if a.size and b.size else np.nan
            rows.append(_row("between", cyt, f"{reference} vs {other}", int(week), a.size + b.size,
                             est, p_t, p_u, "Student t", "Mann–Whitney", alpha))
    return _sort(_frame(rows), None)


def omnibus_tests(long: pd.DataFrame, *, groups: Sequence[str] = GROUPS, alpha: float = 0.05) -> pd.DataFrame:
    """Per cytokine and visit, all groups at once: one-way ANOVA (the paper) and Kruskal–Wallis.

    Returns
    -------
    pandas.DataFrame
        Columns as :func:`within_group_tests`, ``family`` "omnibus", ``comparison`` "all groups",
        ``estimate`` = η² (between-group over total sum of squares).

    Notes
    -----
    Groups with fewer than two values are left out (as :func:`analysis.science.stats.anova_bonferroni`
    does); with fewer than two groups left, or all values tied, the p-values are NaN. ANOVA
    (scipy ``f_oneway``) assumes normal residuals and equal variances; Kruskal–Wallis
    (scipy ``kruskal``) compares ranks.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abcdefghi"), "week": [0] * 9,
    ...                   "group": ["Responder"] * 3 + ["Non-responder"] * 3 + ["Control"] * 3,
    ...                   "il_6": [1.0, 2, 3, 2, 3, 4, 6, 7, 8]})
    >>> omnibus_tests(cytokine_long(v))[["comparison", "n", "estimate"]].round(3)
       comparison  n  estimate
    0  all groups  9     0.875
    """
    _check_frame(long, "long", ["patient_id", "cytokine", "group", "week", "value"])
    _check_alpha(alpha)
    rows = []
    d_all = long[long["group"].isin(groups)].dropna(subset=["value"])
    for (cyt, week), sub in d_all.groupby(["cytokine", "week"], sort=False):
        samples = [s.to_numpy(float) for _, s in sub.groupby("group", observed=True)["value"] if len(s) >= 2]
        n = int(sum(s.size for s in samples))
        p_f = p_kw = eta2 = np.nan
        if len(samples) >= 2:
            pooled = np.concatenate(samples)
            ss_tot = float(np.sum((pooled - pooled.mean()) ** 2))
            if ss_tot > 0:
                ss_between = float(sum(s.size * (s.mean() - pooled.mean()) ** 2 for s in samples))
                eta2 = ss_between / ss_tot
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    p_f = float(sps.f_oneway(*samples).pvalue)
                    p_kw = float(sps.kruskal(*samples).pvalue)
        rows.append(_row("omnibus", cyt, "all groups", int(week), n, eta2, p_f, p_kw,
                         "one-way ANOVA", "Kruskal–Wallis", alpha))
    return _sort(_frame(rows), None)


def _sort(tests: pd.DataFrame, groups) -> pd.DataFrame:
    order = {c: i for i, c in enumerate(CYTOKINES)}
    key = tests["cytokine"].map(order)
    comp = tests["comparison"].map({g: i for i, g in enumerate(groups)}) if groups else tests["comparison"]
    return (tests.assign(_c=key, _g=comp).sort_values(["_c", "_g", "week"], kind="stable")
            .drop(columns=["_c", "_g"]).reset_index(drop=True))


def test_table(*tables: pd.DataFrame) -> pd.DataFrame:
    """Stack the tables of :func:`within_group_tests`, :func:`between_group_tests`, :func:`omnibus_tests`.

    Examples
    --------
    >>> test_table(_frame([]), _frame([])).shape
    (0, 14)
    """
    frames = [t for t in tables if len(t)]
    if not frames:
        return _frame([])
    return pd.concat(frames, ignore_index=True)[_TEST_COLS]


test_table.__test__ = False  # not a pytest test despite the name


def disagreement_count(tests: pd.DataFrame) -> pd.DataFrame:
    """Where the paper's test and its rank-based partner give different verdicts, per family.

    Returns
    -------
    pandas.DataFrame
        ``family`` (each family, then "all"), ``n_pairs`` (both p-values defined), ``n_disagree``,
        ``param_only`` (only the paper's test significant), ``nonpar_only``.

    Examples
    --------
    >>> t = pd.DataFrame({"family": ["within"] * 3, "p_param": [0.01, 0.2, np.nan],
    ...                   "p_nonpar": [0.08, 0.03, 0.01], "sig_param": [True, False, False],
    ...                   "sig_nonpar": [False, True, True], "disagree": [True, True, False]})
    >>> [int(x) for x in disagreement_count(t).iloc[-1, 1:]]
    [2, 2, 1, 1]
    """
    _check_frame(tests, "tests", ["family", "p_param", "p_nonpar", "sig_param", "sig_nonpar", "disagree"])
    both = tests["p_param"].notna() & tests["p_nonpar"].notna()
    d = tests.assign(both=both, param_only=both & tests["sig_param"] & ~tests["sig_nonpar"],
                     nonpar_only=both & ~tests["sig_param"] & tests["sig_nonpar"],
                     disagree=both & tests["disagree"])
    cols = dict(n_pairs=("both", "sum"), n_disagree=("disagree", "sum"), param_only=("param_only", "sum"),
                nonpar_only=("nonpar_only", "sum"))
    per = d.groupby("family", sort=False).agg(**cols).reset_index()
    total = pd.DataFrame([{"family": "all", **{k: int(d[v[0]].sum()) for k, v in cols.items()}}])
    out = pd.concat([per, total], ignore_index=True)
    out[list(cols)] = out[list(cols)].astype(int)
    return out


# ------------------------------------------------------------------------------------------ multiplicity
def multiplicity(tests: pd.DataFrame, *, p: str = "p_param", alpha: float = 0.05) -> pd.DataFrame:
    """How many tests are significant at raw ``alpha`` and after Holm / Bonferroni / FDR.

    Each family (``within``, ``between``, ``omnibus``) is corrected on its own, and all tests
    together form the family "all" (the chapter's whole set of tests).

    Parameters
    ----------
    tests : pandas.DataFrame
        A table with ``family`` and the p-value column ``p`` (NaN p-values are not tests).
    p : str
        ``"p_param"`` (the paper's tests) or ``"p_nonpar"`` (the rank tests).
    alpha : float

    Returns
    -------
    pandas.DataFrame
        ``family``, ``method`` (raw, holm, bonf, fdr_bh), ``n_tests``, ``n_significant``, ``alpha``
        (from :func:`analysis.science.stats.multiplicity_summary`, over pingouin ``multicomp``).

    Examples
    --------
    >>> t = pd.DataFrame({"family": ["within"] * 4, "p_param": [0.001, 0.01, 0.03, 0.2]})
    >>> multiplicity(t).query("family == 'all'")[["method", "n_significant"]].values.tolist()
    [['raw', 3], ['holm', 2], ['bonf', 2], ['fdr_bh', 3]]
    """
    _check_frame(tests, "tests", ["family", p])
    _check_alpha(alpha)
    parts = [stats.multiplicity_summary(sub[p].to_numpy(float), alpha=alpha).assign(family=fam)
             for fam, sub in tests.groupby("family", sort=False)]
    parts.append(stats.multiplicity_summary(tests[p].to_numpy(float), alpha=alpha).assign(family="all"))
    out = pd.concat(parts, ignore_index=True)
    return out[["family", "method", "n_tests", "n_significant", "alpha"]]


def add_adjusted(tests: pd.DataFrame, *, p: str = "p_param", methods=("holm", "bonf", "fdr_bh")) -> pd.DataFrame:
    """Add ``p_<method>`` columns: ``p`` adjusted over all rows of ``tests`` (one family).

    Examples
    --------
    >>> t = pd.DataFrame({"p_param": [0.01, 0.02, 0.04]})
    >>> add_adjusted(t, methods=("bonf",))["p_bonf"].round(2).tolist()
    [0.03, 0.06, 0.12]
    """
    _check_frame(tests, "tests", [p])
    out = tests.copy()
    for m in methods:
        out[f"p_{m}"] = stats.adjust_pvalues(out[p].to_numpy(float), method=m) if len(out) else np.array([])
    return out


def star_survival(tests: pd.DataFrame, *, family: str = "within", comparison: str | None = "Responder",
                  method: str = "holm", alpha: float = 0.05) -> pd.DataFrame:
    """The paper's stars (paired t p < alpha) and which survive a correction over the chapter's tests.

    The correction runs over **all** rows of ``tests`` (the whole family of the chapter's tests), then
    the rows of ``family`` / ``comparison`` are reported.

    Returns
    -------
    pandas.DataFrame
        ``cytokine``, ``label``, ``n_stars`` (raw p < alpha), ``n_survive`` (adjusted p < alpha),
        ``weeks_star``, ``weeks_survive`` (comma-separated weeks), one row per cytokine present.

    Examples
    --------
    >>> t = pd.DataFrame({"family": ["within"] * 3, "cytokine": ["il_6"] * 3, "label": ["IL-6"] * 3,
    ...                   "comparison": ["Responder"] * 3, "week": [1, 4, 12], "p_param": [0.04, 0.001, 0.01]})
    >>> star_survival(t, method="bonf").iloc[0][["n_stars", "n_survive", "weeks_survive"]].map(str).tolist()
    ['3', '2', '4, 12']
    """
    _check_frame(tests, "tests", ["family", "cytokine", "label", "comparison", "week", "p_param"])
    _check_alpha(alpha)
    adj = add_adjusted(tests, methods=(method,))
    sel = adj[adj["family"] == family]
    if comparison is not None:
        sel = sel[sel["comparison"] == comparison]
    sel = sel.assign(star=sel["p_param"] < alpha, survive=sel[f"p_{method}"] < alpha)
    rows = []
    for (cyt, lab), s in sel.groupby(["cytokine", "label"], sort=False):
        rows.append(dict(cytokine=cyt, label=lab, n_stars=int(s["star"].sum()), n_survive=int(s["survive"].sum()),
                         weeks_star=", ".join(str(w) for w in s.loc[s["star"], "week"]),
                         weeks_survive=", ".join(str(w) for w in s.loc[s["survive"], "week"])))
    return pd.DataFrame(rows, columns=["cytokine", "label", "n_stars", "n_survive", "weeks_star", "weeks_survive"])


# ------------------------------------------------------------------------------------------ standardised change
def standardised_change(long: pd.DataFrame, *, scale: str = "sd", baseline_week: int = 0) -> pd.DataFrame:
    """Mean within-patient change from baseline in units of the baseline SD, per cytokine, group, visit.

    Parameters
    ----------
    long : pandas.DataFrame
        From :func:`cytokine_long`.
    scale : {"sd", "log"}
        ``"sd"``: change = value − the patient's baseline value; divided by the SD of the cytokine at
        baseline over all patients in ``long`` (all groups pooled). ``"log"``: the same on log10 values
        (change = log10 fold change; divided by the SD of log10 baseline values).
    baseline_week : int

    Returns
    -------
    pandas.DataFrame
        ``cytokine``, ``label``, ``group``, ``week`` (later visits only), ``n`` (patients with both
        values), ``mean_change``, ``baseline_sd``, ``std_change`` = mean_change / baseline_sd
        (NaN when the baseline SD is 0 or undefined).

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abab"), "week": [0, 0, 4, 4], "group": ["Responder"] * 4,
    ...                   "il_6": [2.0, 4.0, 1.0, 3.0]})
    >>> standardised_change(cytokine_long(v))[["week", "mean_change", "std_change"]].round(4)
       week  mean_change  std_change
    0     4         -1.0     -0.7071
    """
    _check_frame(long, "long", ["patient_id", "cytokine", "label", "group", "week", "value", "log10_value"])
    _check_choice("scale", scale, SCALES)
    col = "value" if scale == "sd" else "log10_value"
    d = long[["patient_id", "cytokine", "label", "group", "week", col]].dropna(subset=[col])
    d = d.drop_duplicates(["patient_id", "cytokine", "week"])
    base = d[d["week"] == baseline_week]
    sd = base.groupby("cytokine")[col].std()
    key = base.set_index(["patient_id", "cytokine"])[col]
    later = d[d["week"] != baseline_week]
    idx = pd.MultiIndex.from_frame(later[["patient_id", "cytokine"]])
    change = later[col].to_numpy(float) - key.reindex(idx).to_numpy(float)
    later = later.assign(change=change).dropna(subset=["change"])
    out = (later.groupby(["cytokine", "label", "group", "week"], observed=True, sort=True)
           .agg(n=("change", "size"), mean_change=("change", "mean")).reset_index())
    out["baseline_sd"] = out["cytokine"].map(sd).astype(float)
    out["std_change"] = out["mean_change"] / out["baseline_sd"].where(out["baseline_sd"] > 0)
    order = {c: i for i, c in enumerate(CYTOKINES)}
    out = out.sort_values(["cytokine", "group", "week"],
                          key=lambda s: s.map(order) if s.name == "cytokine" else s, kind="stable")
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------------------ claim evidence
def paired_result(tests: pd.DataFrame, *, cytokine: str, group: str = "Responder", week: int) -> dict:
    """``estimate``, ``p`` (paired t), ``p_nonpar`` and ``n`` of one within-group row; NaN when absent.

    Examples
    --------
    >>> paired_result(_frame([]), cytokine="il_6", week=12)["p"]
    nan
    """
    row = tests[(tests["family"] == "within") & (tests["cytokine"] == cytokine)
                & (tests["comparison"] == group) & (tests["week"] == week)]
    if row.empty:
        return dict(estimate=np.nan, p=np.nan, p_nonpar=np.nan, n=0)
    r = row.iloc[0]
    return dict(estimate=float(r["estimate"]), p=float(r["p_param"]), p_nonpar=float(r["p_nonpar"]), n=int(r["n"]))


def no_change_evidence(tests: pd.DataFrame, *, cytokine: str, group: str = "Responder") -> dict:
    """The smallest paired-t p over all visits of ``group`` (the paper's "no star at any visit").

    Returns
    -------
    dict
        ``p_min``, ``week`` (where it occurs), ``estimate`` (mean change there), ``n_visits``; NaN / 0
        when the group has no testable visit.

    Examples
    --------
    >>> t = pd.DataFrame({"family": ["within"] * 2, "cytokine": ["il_8"] * 2, "comparison": ["Responder"] * 2,
    ...                   "week": [4, 12], "estimate": [0.1, -0.2], "p_param": [0.5, 0.2]})
    >>> no_change_evidence(t, cytokine="il_8")
    {'p_min': 0.2, 'week': 12, 'estimate': -0.2, 'n_visits': 2}
    """
    rows = tests[(tests["family"] == "within") & (tests["cytokine"] == cytokine)
                 & (tests["comparison"] == group)].dropna(subset=["p_param"])
    if rows.empty:
        return dict(p_min=np.nan, week=None, estimate=np.nan, n_visits=0)
    r = rows.loc[rows["p_param"].idxmin()]
    return dict(p_min=float(r["p_param"]), week=int(r["week"]), estimate=float(r["estimate"]), n_visits=len(rows))


def return_to_baseline(tests: pd.DataFrame, summary: pd.DataFrame, *, cytokine: str = "il_10",
                       group: str = "Responder", peak_week: int = PAPER.early_window_weeks,
                       final_week: int = PAPER.final_week,
                       alpha: float = 0.05) -> dict:
    """Did ``cytokine`` rise to ``peak_week`` and come back to baseline by ``final_week``?

    Rule ("the rise has gone"): the mean at ``final_week`` is below the mean at ``peak_week`` **and**
    ``final_week`` is not significantly *above* baseline (paired t: mean change ≤ 0, or p ≥ alpha).

    Returns
    -------
    dict
        ``holds`` (bool, or None when not computable), ``mean_peak``, ``mean_final``, ``p_final``, ``text``.

    Examples
    --------
    >>> t = pd.DataFrame({"family": ["within"], "cytokine": ["il_10"], "comparison": ["Responder"],
    ...                   "week": [48], "estimate": [0.1], "p_param": [0.6], "p_nonpar": [0.5], "n": [20]})
    >>> s = pd.DataFrame({"cytokine": ["il_10"] * 2, "group": ["Responder"] * 2, "week": [4, 48],
    ...                   "mean": [6.0, 3.0]})
    >>> return_to_baseline(t, s)["holds"]
    True
    """
    _check_alpha(alpha)
    means = summary[(summary["cytokine"] == cytokine) & (summary["group"] == group)].set_index("week")["mean"]
    mean_peak = float(means.get(peak_week, np.nan))
    mean_final = float(means.get(final_week, np.nan))
    res = paired_result(tests, cytokine=cytokine, group=group, week=final_week)
    p_final = res["p"]
    if not (np.isfinite(mean_peak) and np.isfinite(mean_final) and np.isfinite(p_final)):
        return dict(holds=None, mean_peak=mean_peak, mean_final=mean_final, p_final=p_final,
                    text="not computable (group or visit missing)")
    above = res["estimate"] > 0 and p_final < alpha
    holds = bool(mean_final < mean_peak and not above)
    text = (f"mean {mean_peak:.3g} at week {peak_week}, {mean_final:.3g} at week {final_week}; "
            f"week {final_week} vs baseline {res['estimate']:+.3g}, {format_p(p_final)}")
    return dict(holds=holds, mean_peak=mean_peak, mean_final=mean_final, p_final=p_final, text=text)


def reversal(tests: pd.DataFrame, *, cytokines=("il_6", "tnf_a"), group: str = "Responder", week: int = PAPER.response_week,
             alpha: float = 0.05) -> dict:
    """Are all ``cytokines`` significantly lower than baseline at ``week`` in ``group`` (paired t)?

    Returns
    -------
    dict
        ``holds`` (bool, or None when a test is missing), ``text``.

    Examples
    --------
    >>> t = pd.DataFrame({"family": ["within"] * 2, "cytokine": ["il_6", "tnf_a"],
    ...                   "comparison": ["Responder"] * 2, "week": [12, 12], "estimate": [-5.0, -2.0],
    ...                   "p_param": [0.001, 0.2], "p_nonpar": [0.002, 0.1], "n": [20, 20]})
    >>> reversal(t)["holds"]
    False
    """
    _check_alpha(alpha)
    res = {c: paired_result(tests, cytokine=c, group=group, week=week) for c in cytokines}
    if any(not np.isfinite(r["p"]) for r in res.values()):
        return dict(holds=None, text="not computable (group or visit missing)")
    holds = all(r["estimate"] < 0 and r["p"] < alpha for r in res.values())
    text = "; ".join(f"{CYTOKINES[c]} {r['estimate']:+.3g}, {format_p(r['p'])}" for c, r in res.items())
    return dict(holds=holds, text=f"week {week} vs baseline: {text}")


# ------------------------------------------------------------------------------------------ figures
def trajectory_figure(long: pd.DataFrame, *, scale: str = "linear"):
    """Fig. 4 redrawn: mean ± SEM per group over the visits, one panel per cytokine.

    Parameters
    ----------
    long : pandas.DataFrame
        From :func:`cytokine_long`.
    scale : {"linear", "log"}
        ``"log"`` plots the mean ± SEM of log10 values (10 ** mean is the geometric mean), which
        tames the skew of cytokine data.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abab"), "week": [0, 0, 4, 4], "group": ["Responder"] * 4,
    ...                   "il_6": [2.0, 4.0, 1.0, 3.0]})
    >>> fig = trajectory_figure(cytokine_long(v), scale="log")
    >>> len(fig.axes)
    1
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    import matplotlib.pyplot as plt

    from analysis.science import figures

    _check_choice("scale", scale, ("linear", "log"))
    y = "value" if scale == "linear" else "log10_value"
    present = [c for c in CYTOKINES if c in set(long["cytokine"])]
    ncols = min(3, max(1, len(present)))
    nrows = max(1, int(np.ceil(len(present) / ncols)))
    with figures.book_style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.6 * nrows), squeeze=False)
        for ax, cyt in zip(axes.ravel(), present):
            sub = long[long["cytokine"] == cyt]
            figures.mean_sem_lines(sub, x="week", y=y, hue="group", ax=ax)
            ax.set_title(CYTOKINES[cyt])
            ax.set_xlabel("week")
            ax.set_ylabel("mean ± SEM" if scale == "linear" else "log10 value, mean ± SEM")
            if ax.get_legend() is not None:
                ax.get_legend().remove()
        for ax in axes.ravel()[len(present):]:
            ax.set_visible(False)
        handles, labels = axes.ravel()[0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="lower center", ncol=len(labels), bbox_to_anchor=(0.5, -0.04))
        fig.tight_layout()
    return fig


def heatmap_figure(change: pd.DataFrame):
    """Heat map of :func:`standardised_change`: cytokines × visits, one panel per group, shared colour scale.

    Examples
    --------
    >>> c = pd.DataFrame({"cytokine": ["il_6"], "label": ["IL-6"], "group": ["Responder"], "week": [4],
    ...                   "std_change": [-0.5]})
    >>> fig = heatmap_figure(c)
    >>> len(fig.axes) >= 1
    True
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    import matplotlib.pyplot as plt

    from analysis.science import figures

    _check_frame(change, "change", ["cytokine", "label", "group", "week", "std_change"])
    groups = [g for g in GROUPS if g in set(change["group"].astype(str))]
    labels = [CYTOKINES[c] for c in CYTOKINES if c in set(change["cytokine"])]
    weeks = sorted(change["week"].unique())
    lim = float(np.nanmax(np.abs(change["std_change"].to_numpy(float)))) if len(change) else 1.0
    lim = lim if np.isfinite(lim) and lim > 0 else 1.0
    with figures.book_style():
        fig, axes = plt.subplots(1, max(1, len(groups)), figsize=(5.2 * max(1, len(groups)), 3.8), squeeze=False)
        for i, (ax, grp) in enumerate(zip(axes.ravel(), groups)):
            wide = (change[change["group"].astype(str) == grp]
                    .pivot_table(index="label", columns="week", values="std_change", observed=True)
                    .reindex(index=labels, columns=weeks))
            figures.heatmap(wide, ax=ax, vmin=-lim, vmax=lim, cbar=i == len(groups) - 1, annot_kws={"size": 8})
            ax.grid(False)
            ax.set_title(grp)
            ax.set_xlabel("week")
            ax.set_ylabel("" if i else "cytokine")
        fig.tight_layout()
    return fig

