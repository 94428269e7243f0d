"""Immune function (the paper's Fig. 3): anti-CCP, RF, Treg, Th17 and the Treg/Th17 ratio.

The chapter answers four questions from the data folder alone:

* **Autoantibodies before and after MSCT** by group, with the anti-CCP assay cap handled by a stated
  rule: :func:`apply_uloq_rule`, :func:`censoring_counts`, :func:`paired_change`,
  :func:`uloq_sensitivity`.
* **Treg and Th17 percentages** by group and visit: :func:`group_visit_summary`,
  :func:`anova_per_visit`, :func:`change_from_baseline`, :func:`repeated_measures`,
  :func:`responder_contrast`, :func:`weakest_contrast`.
* **The Treg/Th17 ratio per patient** (with a rule for a zero Th17 value):
  :func:`ratio_per_patient`, :func:`ratio_summary`, :func:`ratio_matches_derived`,
  :func:`baseline_ratio_check`.
* A chapter figure: :func:`marker_figure`.

Every function takes tidy tables (``derived.visits``) and returns a new tidy
:class:`pandas.DataFrame` (or a Figure); nothing is printed or written here.

The chapter's claims are judged in :mod:`analysis.chapters.immune.verdicts` (with the headless ``evaluate``);
its "A second look" is :mod:`analysis.chapters.immune.second_look`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis.intake import dictionary
from analysis.science import stats
from analysis.core.checks import check_frame as _check_frame, check_choice as _check_choice, check_alpha as _check_alpha
from analysis.core.design import PAPER

__all__ = [
    "GROUPS",
    "ULOQ_RULES",
    "anova_per_visit",
    "apply_uloq_rule",
    "baseline_ratio_check",
    "censoring_counts",
    "fmt",
    "change_from_baseline",
    "group_visit_summary",
    "marker_figure",
    "marker_label",
    "paired_change",
    "ratio_matches_derived",
    "ratio_of_means",
    "ratio_per_patient",
    "ratio_summary",
    "repeated_measures",
    "responder_contrast",
    "uloq_of",
    "uloq_sensitivity",
    "value_at",
    "weakest_contrast",
]

#: Group labels in the order the chapter shows them.
GROUPS: tuple[str, ...] = ("Responder", "Non-responder", "Control")
#: How values above the assay's upper limit (``">ULOQ"``) enter the analysis.
ULOQ_RULES: tuple[str, ...] = ("cap", "exclude")

_ABOVE = ">ULOQ"
_LABELS = {
    "anti_ccp_u_ml": "Anti-CCP",
    "rf_iu_ml": "RF",
    "treg_pct": "Treg (CD4+CD25+Foxp3+)",
    "th17_pct": "Th17 (CD4+IL-17A+)",
    "treg_th17_ratio": "Treg/Th17 ratio",
}


# ----------------------------------------------------------------------------------------- checks


def _in_groups(visits: pd.DataFrame, groups) -> pd.DataFrame:
    return visits.loc[visits["group"].isin(list(groups))]


# ----------------------------------------------------------------------------------------- small helpers
def fmt(x, decimals: int = 2) -> str:
    """A number as text with ``decimals`` decimals, or ``"n/a"`` when missing (for glue).

    Examples
    --------
    >>> fmt(1.23456), fmt(float("nan")), fmt(None), fmt(3, 0)
    ('1.23', 'n/a', 'n/a', '3')
    """
    if x is None:
        return "n/a"
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise TypeError(f"`x` must be a number or None, got {x!r}") from None
    return "n/a" if not np.isfinite(v) else f"{v:.{decimals}f}"


def value_at(table: pd.DataFrame, column: str, **keys):
    """The value of ``column`` in the first row matching every ``key == value``; NaN when none matches.

    Lets a notebook read one cell of a result table without crashing when a group or visit is absent.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["Responder", "Control"], "test": ["t", "t"], "p": [0.01, 0.5]})
    >>> value_at(t, "p", group="Control", test="t")
    0.5
    >>> value_at(t, "p", group="Non-responder")
    nan
    """
    _check_frame(table, "table", [column, *keys])
    mask = pd.Series(True, index=table.index)
    for k, v in keys.items():
        mask &= table[k].eq(v)
    hit = table.loc[mask, column]
    if hit.empty:
        return float("nan")
    val = hit.iloc[0]
    return val.item() if isinstance(val, np.generic) else val


# ----------------------------------------------------------------------------------------- labels
def marker_label(column: str) -> str:
    """Readable label with unit for a marker column (from the data dictionary).

    Examples
    --------
    >>> marker_label("anti_ccp_u_ml")
    'Anti-CCP (RU/mL)'
    >>> marker_label("treg_th17_ratio")
    'Treg/Th17 ratio'
    """
    unit = {c.name: c.unit for c in dictionary.columns("visits")}.get(column, "")
    name = _LABELS.get(column, column)
    return f"{name} ({unit})" if unit else name


# ----------------------------------------------------------------------------------------- censoring
def uloq_of(column: str = "anti_ccp_u_ml") -> float:
    """The upper limit of quantification of ``column`` in the data dictionary.

    Raises
    ------
    ValueError
        If the column has no ``uloq`` in ``analysis/data_dictionary.yaml``.

    Examples
    --------
    >>> uloq_of("anti_ccp_u_ml")
    200.0
    """
    limits = {c.name: c.uloq for c in dictionary.columns("visits")}
    if limits.get(column) is None:
        with_limit = [k for k, v in limits.items() if v is not None]
        raise ValueError(f"`column` {column!r} has no ULOQ in the data dictionary; columns with one: {with_limit}")
    return float(limits[column])


def _censored(visits: pd.DataFrame, column: str) -> pd.Series:
    """True where the ``{column}_flag`` companion says ``">ULOQ"`` (False without a flag column)."""
    flag = f"{column}_flag"
    if flag not in visits.columns:
        return pd.Series(False, index=visits.index)
    return visits[flag].astype("string").str.strip().eq(_ABOVE).fillna(False).astype(bool)


def apply_uloq_rule(visits: pd.DataFrame, *, rule: str = "cap", column: str = "anti_ccp_u_ml") -> pd.DataFrame:
    """Apply the rule for values above the assay's upper limit.

    Parameters
    ----------
    visits : pandas.DataFrame
        Visit table with ``column`` and its companion ``f"{column}_flag"`` (``">ULOQ"`` where the
        result was above the limit), as :func:`analysis.science.derive.derive` returns it.
    rule : {"cap", "exclude"}
        ``"cap"``: a censored value is the ULOQ itself (what ``derive`` already substitutes; a
        lower bound of the true value); ``"exclude"``: a censored value becomes NaN (the patient
        drops out of tests at that visit).
    column : str
        The censored column (default anti-CCP).

    Returns
    -------
    pandas.DataFrame
        A copy with ``column`` replaced and a boolean ``f"{column}_censored"`` column. Without a
        flag column nothing counts as censored.

    Examples
    --------
    >>> v = pd.DataFrame({"anti_ccp_u_ml": [50.0, np.nan, 200.0],
    ...                   "anti_ccp_u_ml_flag": [None, ">ULOQ", ">ULOQ"]})
    >>> apply_uloq_rule(v)["anti_ccp_u_ml"].tolist()
    [50.0, 200.0, 200.0]
    >>> apply_uloq_rule(v, rule="exclude")["anti_ccp_u_ml"].tolist()
    [50.0, nan, nan]
    """
    _check_frame(visits, "visits", [column])
    _check_choice("rule", rule, ULOQ_RULES)
    cap = uloq_of(column)
    censored = _censored(visits, column)
    out = visits.copy()
    values = pd.to_numeric(out[column], errors="coerce").astype(float)
    out[column] = values.mask(censored, cap if rule == "cap" else np.nan)
    out[f"{column}_censored"] = censored.to_numpy(dtype=bool)
    return out


def censoring_counts(visits: pd.DataFrame, *, column: str = "anti_ccp_u_ml", groups=GROUPS,
                     weeks=None) -> pd.DataFrame:
    """How many results are above the ULOQ, per group and visit.

    Parameters
    ----------
    visits : pandas.DataFrame
        Visit table with ``group``, ``week``, ``column`` and ``f"{column}_flag"``.
    column : str
        Censored column.
    groups : sequence of str
        Groups to count, in this order.
    weeks : sequence of int, optional
        Visits to count (default: all present).

    Returns
    -------
    pandas.DataFrame
        ``group``, ``week``, ``n_measured`` (a number or a censored result), ``n_censored``,
        ``pct_censored`` (NaN when nothing was measured).

    Examples
    --------
    >>> v = pd.DataFrame({"group": ["Responder"] * 3, "week": [0, 0, 12],
    ...                   "anti_ccp_u_ml": [np.nan, 80.0, 90.0],
    ...                   "anti_ccp_u_ml_flag": [">ULOQ", None, None]})
    >>> censoring_counts(v, groups=["Responder"])[["week", "n_measured", "n_censored", "pct_censored"]]
       week  n_measured  n_censored  pct_censored
    0     0           2           1          50.0
    1    12           1           0           0.0
    """
    _check_frame(visits, "visits", ["group", "week", column])
    censored = _censored(visits, column)
    measured = pd.to_numeric(visits[column], errors="coerce").notna() | censored
    d = pd.DataFrame({"group": visits["group"], "week": visits["week"],
                      "n_measured": measured.astype(int), "n_censored": censored.astype(int)})
    d = d.loc[d["group"].isin(list(groups))]
    if weeks is not None:
        d = d.loc[d["week"].isin(list(weeks))]
    out = d.groupby(["group", "week"], observed=True)[["n_measured", "n_censored"]].sum().reset_index()
    out["group"] = pd.Categorical(out["group"], categories=list(groups), ordered=True)
    out = out.sort_values(["group", "week"]).reset_index(drop=True)
    out["group"] = out["group"].astype(str)
    out["week"] = out["week"].astype(int)
    n = out["n_measured"].astype(float)
    out["pct_censored"] = (100.0 * out["n_censored"] / n.where(n > 0)).astype(float)
    return out[["group", "week", "n_measured", "n_censored", "pct_censored"]]


# ----------------------------------------------------------------------------------------- before/after
def _mean_diff_ci(diff: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """t-based CI of the mean of paired differences (NaN for fewer than 2 pairs)."""
    n = diff.size
    if n < 2:
        return (np.nan, np.nan)
    se = diff.std(ddof=1) / np.sqrt(n)
    half = sps.t.ppf(0.5 + confidence / 2, n - 1) * se
    return (float(diff.mean() - half), float(diff.mean() + half))


def paired_change(visits: pd.DataFrame, *, dv: str, groups=GROUPS, before: int = 0, after: int = PAPER.response_week,
                  tests=("t", "wilcoxon"), alpha: float = 0.05, subject: str = "patient_id") -> pd.DataFrame:
    """Within-patient change of ``dv`` from ``before`` to ``after`` in each group, one row per test.

    Parameters
    ----------
    visits : pandas.DataFrame
        Visit table with ``subject``, ``week``, ``group`` and ``dv``.
    dv : str
        Outcome column.
    groups : sequence of str
        Groups, in order.
    before, after : int
        The two visits (weeks); change = after − before.
    tests : sequence of {"t", "wilcoxon"}
        Paired t test and/or Wilcoxon signed-rank test (:func:`analysis.science.stats.compare_paired`).
    alpha : float
        Significance level.
    subject : str
        Patient identifier column.

    Returns
    -------
    pandas.DataFrame
        ``dv``, ``group``, ``test``, ``n`` (complete pairs), ``mean_before``, ``mean_after``,
        ``mean_diff``, ``diff_ci_low``, ``diff_ci_high`` (95% t interval of the mean change, the
        same for both tests), ``median_diff``, ``statistic``, ``p``, ``hedges_g``, ``g_ci_low``,
        ``g_ci_high``, ``significant``, ``note``.

    Notes
    -----
    Complete pairs only. The Wilcoxon test uses only the ranks of the differences, so values
    capped at the ULOQ move it less than they move the t test.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abcd") * 2, "week": [0] * 4 + [12] * 4,
    ...                   "group": ["Responder"] * 8, "y": [1, 2, 3, 4, 2, 4, 5, 5]})
    >>> res = paired_change(v, dv="y", groups=["Responder"])
    >>> res[["test", "n", "mean_diff"]]
           test  n  mean_diff
    0         t  4        1.5
    1  wilcoxon  4        1.5
    """
    _check_frame(visits, "visits", [subject, "week", "group", dv])
    _check_alpha(alpha)
    for t in tests:
        _check_choice("tests", t, ("t", "wilcoxon"))
    rows = []
    for g in groups:
        sub = visits.loc[visits["group"].eq(g) & visits["week"].isin([before, after]), [subject, "week", dv]]
        sub = sub.drop_duplicates([subject, "week"])
        wide = sub.pivot(index=subject, columns="week", values=dv).reindex(columns=[before, after])
        wide = wide.apply(pd.to_numeric, errors="coerce").dropna()
        diff = (wide[after] - wide[before]).to_numpy(float)
        lo, hi = _mean_diff_ci(diff)
        for t in tests:
            res = stats.compare_paired(sub, dv=dv, within="week", subject=subject, pair=(before, after),
                                       test=t, alpha=alpha).iloc[0]
            rows.append({"dv": dv, "group": g, "test": t, "n": int(res["n"]),
                         "mean_before": res["mean_before"], "mean_after": res["mean_after"],
                         "mean_diff": res["mean_diff"], "diff_ci_low": lo, "diff_ci_high": hi,
                         "median_diff": float(np.median(diff)) if diff.size else np.nan,
                         "statistic": res["statistic"], "p": res["p"], "hedges_g": res["hedges_g"],
                         "g_ci_low": res["g_ci_low"], "g_ci_high": res["g_ci_high"],
                         "significant": bool(res["significant"]), "note": res["note"]})
    cols = ["dv", "group", "test", "n", "mean_before", "mean_after", "mean_diff", "diff_ci_low",
            "diff_ci_high", "median_diff", "statistic", "p", "hedges_g", "g_ci_low", "g_ci_high",
            "significant", "note"]
    return pd.DataFrame(rows, columns=cols)


def uloq_sensitivity(visits: pd.DataFrame, *, column: str = "anti_ccp_u_ml", groups=GROUPS, before: int = 0,
                     after: int = PAPER.response_week, alpha: float = 0.05) -> pd.DataFrame:
    """Do the before/after conclusions change between ``uloq_rule="cap"`` and ``"exclude"``?

    Parameters
    ----------
    visits : pandas.DataFrame
        Visit table with the censored ``column`` and its flag.
    column, groups, before, after, alpha
        As in :func:`paired_change`.

    Returns
    -------
    pandas.DataFrame
        One row per group × test: ``group``, ``test``, ``n_cap``, ``mean_diff_cap``, ``p_cap``,
        ``n_exclude``, ``mean_diff_exclude``, ``p_exclude``, ``same_direction``,
        ``same_significance`` and ``conclusion_changes`` (either differs).

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abcd") * 2, "week": [0] * 4 + [12] * 4,
    ...                   "group": ["Responder"] * 8,
    ...                   "anti_ccp_u_ml": [200.0, 50, 60, 70, 150, 40, 55, 61],
    ...                   "anti_ccp_u_ml_flag": [">ULOQ"] + [None] * 7})
    >>> res = uloq_sensitivity(v, groups=["Responder"])
    >>> res[["test", "n_cap", "n_exclude"]]
           test  n_cap  n_exclude
    0         t      4          3
    1  wilcoxon      4          3
    """
    parts = {}
    for rule in ULOQ_RULES:
        data = apply_uloq_rule(visits, rule=rule, column=column)
        parts[rule] = paired_change(data, dv=column, groups=groups, before=before, after=after,
                                    alpha=alpha).set_index(["group", "test"])
    cap, exc = parts["cap"], parts["exclude"]
    out = pd.DataFrame({
        "n_cap": cap["n"], "mean_diff_cap": cap["mean_diff"], "p_cap": cap["p"],
        "n_exclude": exc["n"], "mean_diff_exclude": exc["mean_diff"], "p_exclude": exc["p"],
    }).reset_index()
    out["same_direction"] = (np.sign(out["mean_diff_cap"]) == np.sign(out["mean_diff_exclude"])).to_numpy(bool)
    out["same_significance"] = ((out["p_cap"] < alpha) == (out["p_exclude"] < alpha)).to_numpy(bool)
    out["conclusion_changes"] = ~(out["same_direction"] & out["same_significance"])
    return out


# ----------------------------------------------------------------------------------------- by group and visit
def group_visit_summary(visits: pd.DataFrame, *, dv: str, groups=GROUPS, weeks=None) -> pd.DataFrame:
    """Mean, SD and SEM of ``dv`` per group and visit (the paper's error bars are SEM).

    Returns
    -------
    pandas.DataFrame
        ``dv``, ``group``, ``week``, ``n``, ``mean``, ``sd``, ``sem`` (NaN SD/SEM for n < 2).

    Examples
    --------
    >>> v = pd.DataFrame({"group": ["Responder"] * 3, "week": [0, 0, 12], "y": [1.0, 3.0, 5.0]})
    >>> group_visit_summary(v, dv="y", groups=["Responder"])[["week", "n", "mean", "sd"]]
       week  n  mean        sd
    0     0  2   2.0  1.414214
    1    12  1   5.0       NaN
    """
    _check_frame(visits, "visits", ["group", "week", dv])
    d = _in_groups(visits, groups)
    if weeks is not None:
        d = d.loc[d["week"].isin(list(weeks))]
    d = d.assign(_y=pd.to_numeric(d[dv], errors="coerce")).dropna(subset=["_y"])
    out = d.groupby(["group", "week"], observed=True)["_y"].agg(n="count", mean="mean", sd="std").reset_index()
    out["sem"] = out["sd"] / np.sqrt(out["n"])
    out["group"] = pd.Categorical(out["group"], categories=list(groups), ordered=True)
    out = out.sort_values(["group", "week"]).reset_index(drop=True)
    out["group"] = out["group"].astype(str)
    out["week"] = out["week"].astype(int)
    out.insert(0, "dv", dv)
    return out[["dv", "group", "week", "n", "mean", "sd", "sem"]]


def anova_per_visit(visits: pd.DataFrame, *, dv: str, groups=GROUPS, weeks=None,
                    alpha: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One-way ANOVA between groups at each visit, with Bonferroni post-hoc tests (as in the paper).

    Parameters
    ----------
    visits : pandas.DataFrame
        Visit table with ``group``, ``week`` and ``dv``.
    dv : str
        Outcome column.
    groups : sequence of str
        Groups entering the ANOVA.
    weeks : sequence of int, optional
        Visits (default: all present).
    alpha : float
        Significance level.

    Returns
    -------
    anova : pandas.DataFrame
        ``dv``, ``week`` and the columns of :func:`analysis.science.stats.anova_bonferroni`'s ANOVA table.
    posthoc : pandas.DataFrame
        ``dv``, ``week`` and its post-hoc columns (one row per pair of groups).

    Examples
    --------
    >>> v = pd.DataFrame({"week": [0] * 9, "group": ["Responder"] * 3 + ["Non-responder"] * 3
    ...                   + ["Control"] * 3, "y": [1, 2, 3, 2, 3, 4, 6, 7, 8]})
    >>> aov, post = anova_per_visit(v, dv="y")
    >>> aov[["week", "k", "F"]]
       week  k     F
    0     0  3  21.0
    >>> len(post)
    3
    """
    _check_frame(visits, "visits", ["group", "week", dv])
    _check_alpha(alpha)
    d = _in_groups(visits, groups)
    if weeks is not None:
        d = d.loc[d["week"].isin(list(weeks))]
    aovs, posts = [], []
    for week, sub in d.groupby("week", sort=True):
        aov, post = stats.anova_bonferroni(sub, dv=dv, between="group", alpha=alpha)
        aovs.append(aov.assign(week=int(week)))
        if len(post):
            posts.append(post.assign(week=int(week)))
    aov_cols = ["source", "n", "k", "F", "df1", "df2", "p", "np2", "alpha", "significant", "note"]
    post_cols = ["a", "b", "n_a", "n_b", "t", "dof", "p_unc", "p_bonf", "hedges_g", "alpha", "significant"]
    aov = pd.concat(aovs, ignore_index=True) if aovs else pd.DataFrame(columns=aov_cols + ["week"])
    post = pd.concat(posts, ignore_index=True) if posts else pd.DataFrame(columns=post_cols + ["week"])
    aov = aov.assign(dv=dv)[["dv", "week"] + aov_cols]
    post = post.assign(dv=dv)[["dv", "week"] + post_cols]
    return aov, post


def change_from_baseline(visits: pd.DataFrame, *, dv: str, group: str = "Responder", baseline: int = 0,
                         weeks=None, test: str = "t", alpha: float = 0.05,
                         subject: str = "patient_id") -> pd.DataFrame:
    """Within-group change of ``dv`` at each visit versus the baseline visit (the paper's ``*`` marks).

    Parameters
    ----------
    visits : pandas.DataFrame
        Visit table.
    dv : str
        Outcome column.
    group : str
        The group (default the responders).
    baseline : int
        Baseline week.
    weeks : sequence of int, optional
        Visits compared with baseline (default: every other visit present).
    test : {"t", "wilcoxon"}
        Paired test.
    alpha : float
        Significance level.
    subject : str
        Patient identifier column.

    Returns
    -------
    pandas.DataFrame
        ``dv``, ``group``, ``week``, ``n``, ``mean_before``, ``mean_after``, ``mean_diff``,
        ``diff_ci_low``, ``diff_ci_high``, ``p``, ``p_bonf`` (p × number of visits compared,
        at most 1; the paper did not correct), ``hedges_g``, ``significant`` (unadjusted p < alpha),
        ``note``.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abc") * 3, "week": [0] * 3 + [4] * 3 + [12] * 3,
    ...                   "group": ["Responder"] * 9, "y": [1, 2, 3, 2, 3, 5, 3, 5, 6]})
    >>> change_from_baseline(v, dv="y")[["week", "n", "mean_diff"]]
       week  n  mean_diff
    0     4  3   1.333333
    1    12  3   2.666667
    """
    _check_frame(visits, "visits", [subject, "week", "group", dv])
    _check_choice("test", test, ("t", "wilcoxon"))
    present = sorted(int(w) for w in visits.loc[visits["group"].eq(group), "week"].dropna().unique())
    weeks = [w for w in (present if weeks is None else weeks) if w != baseline]
    parts = [paired_change(visits, dv=dv, groups=[group], before=baseline, after=w, tests=(test,),
                           alpha=alpha).assign(week=int(w)) for w in weeks]
    cols = ["dv", "group", "week", "n", "mean_before", "mean_after", "mean_diff", "diff_ci_low",
            "diff_ci_high", "p", "p_bonf", "hedges_g", "significant", "note"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    out["p_bonf"] = (out["p"] * out["p"].notna().sum()).clip(upper=1.0)
    return out[cols]


def repeated_measures(visits: pd.DataFrame, *, dv: str, groups=GROUPS, weeks=None,
                      subject: str = "patient_id") -> pd.DataFrame:
    """Mixed ANOVA (group × visit) over the visits: one model instead of one test per visit.

    Wraps :func:`analysis.science.stats.mixed_model_view` (complete cases: patients with ``dv`` at every
    visit in ``weeks``).

    Returns
    -------
    pandas.DataFrame
        ``dv`` and the columns of :func:`analysis.science.stats.mixed_model_view`.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list(range(6)) * 2, "week": [0] * 6 + [12] * 6,
    ...                   "group": ["Responder"] * 3 + ["Control"] * 3 + ["Responder"] * 3 + ["Control"] * 3,
    ...                   "y": [5, 6, 7, 5, 6, 8, 3, 4, 4, 5, 6, 7]})
    >>> repeated_measures(v, dv="y")["source"].tolist()
    ['group', 'week', 'Interaction']
    """
    _check_frame(visits, "visits", [subject, "week", "group", dv])
    d = _in_groups(visits, groups)
    if weeks is not None:
        d = d.loc[d["week"].isin(list(weeks))]
    d = d.drop_duplicates([subject, "week"])
    out = stats.mixed_model_view(d, dv=dv, within="week", between="group", subject=subject)
    out.insert(0, "dv", dv)
    return out


def responder_contrast(visits: pd.DataFrame, *, dv: str, week: int, groups=GROUPS,
                       alpha: float = 0.05) -> pd.DataFrame:
    """Responders versus each other group at one visit (the paper's ``&`` marks).

    Parameters
    ----------
    visits : pandas.DataFrame
        Visit table.
    dv : str
        Outcome.
    week : int
        Visit.
    groups : sequence of str
        The first is the responder group; the ANOVA uses all of them.
    alpha : float
        Significance level.

    Returns
    -------
    pandas.DataFrame
        One row per other group: ``dv``, ``week``, ``group``, ``other``, ``mean_group``,
        ``mean_other``, ``diff`` (group − other), ``p_bonf`` (Bonferroni post-hoc after the
        one-way ANOVA at that visit; NaN if not computable), ``significant``.

    Examples
    --------
    >>> v = pd.DataFrame({"week": [12] * 9, "group": ["Responder"] * 3 + ["Non-responder"] * 3
    ...                   + ["Control"] * 3, "y": [6, 7, 8, 2, 3, 4, 1, 2, 3]})
    >>> responder_contrast(v, dv="y", week=12)[["other", "diff"]]
               other  diff
    0  Non-responder   4.0
    1        Control   5.0
    """
    _check_frame(visits, "visits", ["group", "week", dv])
    groups = list(groups)
    focus, others = groups[0], groups[1:]
    summ = group_visit_summary(visits, dv=dv, groups=groups, weeks=[week]).set_index("group")["mean"]
    _, post = anova_per_visit(visits, dv=dv, groups=groups, weeks=[week], alpha=alpha)
    rows = []
    for other in others:
        hit = post.loc[((post["a"] == focus) & (post["b"] == other)) | ((post["a"] == other) & (post["b"] == focus))]
        p = float(hit["p_bonf"].iloc[0]) if len(hit) else np.nan
        m_f, m_o = float(summ.get(focus, np.nan)), float(summ.get(other, np.nan))
        rows.append({"dv": dv, "week": int(week), "group": focus, "other": other, "mean_group": m_f,
                     "mean_other": m_o, "diff": m_f - m_o, "p_bonf": p,
                     "significant": bool(p < alpha) if not np.isnan(p) else False})
    cols = ["dv", "week", "group", "other", "mean_group", "mean_other", "diff", "p_bonf", "significant"]
    return pd.DataFrame(rows, columns=cols)


def weakest_contrast(contrast: pd.DataFrame, *, direction: str) -> tuple[float, float]:
    """The least favourable of the responder-versus-other differences, for a claim "higher/lower than both".

    Parameters
    ----------
    contrast : pandas.DataFrame
        Output of :func:`responder_contrast`.
    direction : {"increase", "decrease"}
        The claimed direction.

    Returns
    -------
    (estimate, p) : tuple of float
        For "increase" the smallest difference, for "decrease" the largest (so its sign agrees
        with the claim only if every difference does), and the largest Bonferroni p (the claim
        is significant only if every comparison is). NaN when a difference is missing.

    Examples
    --------
    >>> c = pd.DataFrame({"diff": [4.0, 1.0], "p_bonf": [0.01, 0.2]})
    >>> weakest_contrast(c, direction="increase")
    (1.0, 0.2)
    """
    _check_frame(contrast, "contrast", ["diff", "p_bonf"])
    _check_choice("direction", direction, ("increase", "decrease"))
    if contrast.empty or contrast["diff"].isna().any():
        return (np.nan, np.nan)
    est = contrast["diff"].min() if direction == "increase" else contrast["diff"].max()
    p = contrast["p_bonf"].max() if contrast["p_bonf"].notna().all() else np.nan
    return (float(est), float(p))


# ----------------------------------------------------------------------------------------- ratio
def ratio_per_patient(visits: pd.DataFrame, *, treg: str = "treg_pct", th17: str = "th17_pct",
                      subject: str = "patient_id") -> pd.DataFrame:
    """Treg/Th17 ratio of every patient at every visit (per patient, never a ratio of means).

    Parameters
    ----------
    visits : pandas.DataFrame
        Visit table with ``subject``, ``week``, ``treg`` and ``th17`` (``group`` kept if present).
    treg, th17 : str
        The two percentage columns.
    subject : str
        Patient identifier column.

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``week``, (``group``), ``treg_pct``, ``th17_pct``, ``treg_th17_ratio``,
        ``ratio_undefined``.

    Notes
    -----
    The rule for a zero denominator (the same as :func:`analysis.science.derive.derive`): when Th17 is 0
    the ratio is undefined, so it is NaN (never infinity) and ``ratio_undefined`` is True; such
    visits leave the ratio's means and tests and are counted separately. A missing Treg or Th17
    value gives NaN with ``ratio_undefined`` False (missing, not undefined).

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["a", "a", "b"], "week": [0, 12, 0],
    ...                   "treg_pct": [4.0, 6.0, 5.0], "th17_pct": [2.0, 0.0, np.nan]})
    >>> r = ratio_per_patient(v)
    >>> r["treg_th17_ratio"].tolist(), r["ratio_undefined"].tolist()
    ([2.0, nan, nan], [False, True, False])
    """
    _check_frame(visits, "visits", [subject, "week", treg, th17])
    keep = [subject, "week"] + (["group"] if "group" in visits.columns else [])
    out = visits[keep].copy()
    t = pd.to_numeric(visits[treg], errors="coerce").astype(float)
    h = pd.to_numeric(visits[th17], errors="coerce").astype(float)
    zero = h.eq(0) & t.notna()
    ratio = t / h.mask(h.eq(0))
    out["treg_pct"] = t.to_numpy()
    out["th17_pct"] = h.to_numpy()
    out["treg_th17_ratio"] = ratio.replace([np.inf, -np.inf], np.nan).to_numpy(float)
    out["ratio_undefined"] = zero.to_numpy(dtype=bool)
    return out.reset_index(drop=True)


def ratio_matches_derived(visits: pd.DataFrame, *, tol: float = 1e-9) -> bool:
    """True when ``visits["treg_th17_ratio"]`` (from ``derive``) equals :func:`ratio_per_patient`'s.

    NaN positions and ``ratio_undefined`` must agree too.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["a", "b"], "week": [0, 0], "treg_pct": [4.0, 5.0],
    ...                   "th17_pct": [2.0, 0.0], "treg_th17_ratio": [2.0, np.nan],
    ...                   "ratio_undefined": [False, True]})
    >>> ratio_matches_derived(v)
    True
    """
    _check_frame(visits, "visits", ["treg_th17_ratio", "ratio_undefined"])
    mine = ratio_per_patient(visits)
    a = visits["treg_th17_ratio"].to_numpy(float)
    b = mine["treg_th17_ratio"].to_numpy(float)
    same_nan = np.array_equal(np.isnan(a), np.isnan(b))
    close = np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], atol=tol, rtol=0) if same_nan else False
    flags = np.array_equal(visits["ratio_undefined"].to_numpy(bool), mine["ratio_undefined"].to_numpy(bool))
    return bool(same_nan and close and flags)


def ratio_of_means(visits: pd.DataFrame, *, treg: str = "treg_pct", th17: str = "th17_pct") -> float:
    """Mean Treg over mean Th17 on the rows where both are present (NaN if the mean Th17 is 0).

    Shown only for contrast: it is not the average patient's ratio.

    Examples
    --------
    >>> v = pd.DataFrame({"treg_pct": [4.0, 2.0], "th17_pct": [1.0, 2.0]})
    >>> ratio_of_means(v)   # (4+2)/2 / ((1+2)/2); the mean of the ratios is (4 + 1)/2 = 2.5
    2.0
    """
    _check_frame(visits, "visits", [treg, th17])
    t = pd.to_numeric(visits[treg], errors="coerce")
    h = pd.to_numeric(visits[th17], errors="coerce")
    both = t.notna() & h.notna()
    if not both.any() or h[both].mean() == 0:
        return float("nan")
    return float(t[both].mean() / h[both].mean())


def ratio_summary(visits: pd.DataFrame, *, groups=GROUPS, weeks=None) -> pd.DataFrame:
    """Per group and visit: the mean of the per-patient ratios next to the ratio of the group means.

    Parameters
    ----------
    visits : pandas.DataFrame
        Visit table with ``patient_id``, ``group``, ``week``, ``treg_pct``, ``th17_pct``.
    groups : sequence of str
        Groups, in order.
    weeks : sequence of int, optional
        Visits (default: all present).

    Returns
    -------
    pandas.DataFrame
        ``group``, ``week``, ``n`` (patients with a defined ratio), ``n_undefined`` (Th17 = 0),
        ``mean_ratio`` (mean of per-patient ratios), ``sem_ratio``, ``median_ratio``,
        ``ratio_of_means`` (mean Treg / mean Th17 over the same patients), ``difference``
        (ratio_of_means − mean_ratio). No infinite value can appear.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abc"), "group": ["Responder"] * 3, "week": [0] * 3,
    ...                   "treg_pct": [4.0, 2.0, 3.0], "th17_pct": [1.0, 2.0, 0.0]})
    >>> ratio_summary(v, groups=["Responder"])[["n", "n_undefined", "mean_ratio", "ratio_of_means"]]
       n  n_undefined  mean_ratio  ratio_of_means
    0  2            1         2.5             2.0
    """
    r = ratio_per_patient(visits)
    _check_frame(r, "visits", ["group"])
    r = _in_groups(r, groups)
    if weeks is not None:
        r = r.loc[r["week"].isin(list(weeks))]
    defined = r.loc[r["treg_th17_ratio"].notna()]
    g = defined.groupby(["group", "week"], observed=True)
    out = g["treg_th17_ratio"].agg(n="count", mean_ratio="mean", sd="std", median_ratio="median")
    means = g[["treg_pct", "th17_pct"]].mean()
    out["ratio_of_means"] = means["treg_pct"] / means["th17_pct"].where(means["th17_pct"] > 0)
    und = r.groupby(["group", "week"], observed=True)["ratio_undefined"].sum().rename("n_undefined")
    out = out.join(und, how="outer").reset_index()
    out["n"] = out["n"].fillna(0).astype(int)
    out["n_undefined"] = out["n_undefined"].fillna(0).astype(int)
    out["sem_ratio"] = out["sd"] / np.sqrt(out["n"].where(out["n"] > 0))
    out["difference"] = out["ratio_of_means"] - out["mean_ratio"]
    out["group"] = pd.Categorical(out["group"], categories=list(groups), ordered=True)
    out = out.sort_values(["group", "week"]).reset_index(drop=True)
    out["group"] = out["group"].astype(str)
    out["week"] = out["week"].astype(int)
    cols = ["group", "week", "n", "n_undefined", "mean_ratio", "sem_ratio", "median_ratio", "ratio_of_means",
            "difference"]
    return out[cols]


def baseline_ratio_check(visits: pd.DataFrame, *, groups=GROUPS, baseline: int = 0, after: int = PAPER.response_week,
                         alpha: float = 0.05) -> pd.DataFrame:
    """Judge "a low ratio in all patients before MSCT" by a stated rule.

    Rule: the claim holds when (i) the groups' baseline mean ratios do not differ (one-way ANOVA
    p ≥ alpha) and (ii) every group's baseline mean ratio is below the responders' mean ratio at
    ``after``. "Low" is relative: the paper gives no reference value.

    Returns
    -------
    pandas.DataFrame
        One row: ``max_baseline_mean`` (highest group mean at baseline), ``responder_mean_after``,
        ``anova_p`` (baseline), ``similar_at_baseline``, ``below_responders_after``, ``holds``
        (False when anything is not computable), ``note``.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abcdef") * 2, "week": [0] * 6 + [12] * 6,
    ...                   "group": ["Responder"] * 3 + ["Control"] * 3 + ["Responder"] * 3 + ["Control"] * 3,
    ...                   "treg_pct": [3, 3, 3, 3, 3, 3, 8, 9, 10, 3, 3, 3.0],
    ...                   "th17_pct": [2, 2.5, 3, 2, 2.5, 3, 2, 2, 2, 2, 2.5, 3.0]})
    >>> baseline_ratio_check(v, groups=["Responder", "Control"])["holds"].item()
    True
    """
    r = ratio_per_patient(visits)
    _check_frame(r, "visits", ["group"])
    summ = ratio_summary(visits, groups=groups, weeks=[baseline, after]).set_index(["group", "week"])
    base = summ.xs(baseline, level="week")["mean_ratio"] if baseline in summ.index.get_level_values("week") \
        else pd.Series(dtype=float)
    focus = list(groups)[0]
    resp_after = float(summ["mean_ratio"].get((focus, after), np.nan))
    aov, _ = anova_per_visit(r, dv="treg_th17_ratio", groups=groups, weeks=[baseline], alpha=alpha)
    p = float(aov["p"].iloc[0]) if len(aov) else np.nan
    max_base = float(base.max()) if len(base) else np.nan
    similar = bool(p >= alpha) if not np.isnan(p) else False
    below = bool(max_base < resp_after) if not (np.isnan(max_base) or np.isnan(resp_after)) else False
    note = "" if not (np.isnan(p) or np.isnan(resp_after)) else "not computable: a group or visit has too few ratios"
    return pd.DataFrame([{"max_baseline_mean": max_base, "responder_mean_after": resp_after, "anova_p": p,
                          "similar_at_baseline": similar, "below_responders_after": below,
                          "holds": bool(similar and below), "note": note}])


# ----------------------------------------------------------------------------------------- figure
def marker_figure(visits: pd.DataFrame, *, dvs, groups=GROUPS, ncols: int = 2):
    """Mean ± SEM over visits for each marker in ``dvs``, one panel per marker, one line per group.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> v = pd.DataFrame({"group": ["Responder", "Control"] * 2, "week": [0, 0, 12, 12],
    ...                   "treg_pct": [4.0, 4.1, 6.0, 4.0]})
    >>> fig = marker_figure(v, dvs=["treg_pct"])
    >>> len(fig.axes)
    1
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    from analysis.science import figures

    dvs = list(dvs)
    _check_frame(visits, "visits", ["group", "week"] + dvs)
    if not dvs:
        raise ValueError("`dvs` must name at least one column, got []")
    ncols = min(ncols, len(dvs))
    nrows = int(np.ceil(len(dvs) / ncols))
    d = _in_groups(visits, groups)
    with figures.book_style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(6.0 * ncols, 3.8 * nrows), squeeze=False)
        for ax, dv in zip(axes.ravel(), dvs):
            present = [g for g in groups if g in set(d["group"])]
            sub = d.assign(group=pd.Categorical(d["group"], categories=present, ordered=True))
            figures.mean_sem_lines(sub, x="week", y=dv, hue="group", ax=ax)
            ax.set_ylabel(marker_label(dv))
            ax.set_xlabel("week after infusion")
            ax.set_title(marker_label(dv).split(" (")[0])
        for ax in axes.ravel()[len(dvs):]:
            ax.set_visible(False)
        fig.tight_layout()
    return fig

