"""Disease activity (the paper's Fig. 2): DAS28, HAQ-DI, ESR, CRP, EULAR response, relapse, prednisone.

Every function takes the tidy tables of :func:`analysis.science.derive.derive` (``derived.visits``,
``derived.patients``) and returns a tidy :class:`pandas.DataFrame`; nothing is printed, nothing is
mutated. The chapter ``book/disease_activity.ipynb`` only calls these functions.

Stated rules (each is a parameter):

* **Missing visits** (:func:`handle_missing`): ``"complete_case"`` (default) keeps only patients
  with every outcome at every visit that anyone attended; ``"available_case"`` uses whoever was
  seen at each visit; ``"locf"`` carries each patient's last observation forward.
* **Test selection** (:func:`select_tests`): per outcome, at the baseline visit, with
  :func:`analysis.science.stats.choose_test` on each group; rank tests (Mann–Whitney / Wilcoxon /
  Kruskal–Wallis) if any group is flagged, else t tests and one-way ANOVA.
* **Bonferroni** (:func:`between_group_tests`): p × number of pairs, capped at 1.
* **Relapse** (:func:`relapse_checks`): among responders, DAS28 higher than at the reference
  visit (week 12) by more than ``das28_rise`` (default 0.6) **and** ESR and CRP both higher.
* **Reduced stepwise** (:func:`prednisone_steps`): the dose never rises from one visit to the next,
  falls at least ``min_steps`` times, and is lower at the last visit than at baseline.

The chapter's claims are judged in :mod:`analysis.chapters.disease_activity.verdicts` (with the headless ``evaluate``);
its "A second look" is :mod:`analysis.chapters.disease_activity.second_look`.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special
from scipy import stats as sps

from analysis.science import scores
from analysis.science import stats
from analysis.core.checks import check_frame as _check_frame, check_choice as _check_choice
from analysis.core.design import PAPER

__all__ = [
    "GROUPS",
    "MISSING_RULES",
    "OUTCOMES",
    "TEST_RULES",
    "baseline_comparison",
    "between_group_tests",
    "eular_table",
    "follow_up_table",
    "handle_missing",
    "lasting_response",
    "long_term_weeks",
    "missing_data_comparison",
    "mixed_view",
    "paper_marks",
    "prednisone_sentence",
    "prednisone_steps",
    "relapse_checks",
    "relapse_not_evaluable",
    "relapse_sentence",
    "relapse_summary",
    "responders_left_out",
    "response_rate",
    "select_tests",
    "trajectory_figure",
    "trajectory_summary",
    "within_group_tests",
]

#: Outcomes of Fig. 2 a–d and their display labels.
OUTCOMES: dict[str, str] = {"das28": "DAS28", "haq_di": "HAQ-DI", "esr_mm_h": "ESR (mm/h)", "crp_mg_l": "CRP (mg/L)"}
#: The three analysis groups, in display order.
GROUPS: tuple[str, ...] = ("Responder", "Non-responder", "Control")
#: Ways to handle missing visits.
MISSING_RULES: tuple[str, ...] = ("complete_case", "available_case", "locf")
#: Ways to choose between a parametric and a rank test.
TEST_RULES: tuple[str, ...] = ("skew", "shapiro", "parametric", "rank")
_DECIMALS = 9  # boundaries compared after rounding, as in analysis.science.scores


# --------------------------------------------------------------------------------------- helpers


def _outcomes(visits: pd.DataFrame, outcomes) -> list[str]:
    """The requested outcome columns (default: those of OUTCOMES present with at least one value)."""
    if outcomes is None:
        return [c for c in OUTCOMES if c in visits.columns and pd.notna(visits[c].to_numpy()).any()]
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    _check_frame(visits, "visits", outcomes)
    return outcomes


def _label(col: str) -> str:
    return OUTCOMES.get(col, col)


def _in_groups(visits: pd.DataFrame, groups: Sequence[str]) -> pd.DataFrame:
    return visits.loc[visits["group"].isin(list(groups))]


# --------------------------------------------------------------------------------------- missing data
def handle_missing(visits: pd.DataFrame, *, missing: str = "complete_case", outcomes=None,
                   weeks=None) -> pd.DataFrame:
    """Apply a missing-visit rule to the visit table.

    Parameters
    ----------
    visits : DataFrame
        ``derived.visits``: ``patient_id``, ``week``, ``group``, ``arm`` and the outcome columns.
    missing : {"complete_case", "available_case", "locf"}
        ``"complete_case"``: keep only patients with a value of every outcome at every week of
        ``weeks`` (weeks at which nobody has a value, e.g. a lab not measured then, do not count).
        ``"available_case"``: keep every observed row (each visit analyses whoever was seen).
        ``"locf"``: one row per patient and week of ``weeks``; a missing value is replaced by the
        same patient's last earlier value (never by a later one; nothing before the first value).
    outcomes : list of str, optional
        Outcome columns the rule applies to (default: those of :data:`OUTCOMES` present).
    weeks : list of int, optional
        Visits considered (default: every week present in ``visits``).

    Returns
    -------
    DataFrame
        The rows kept (only ``weeks``), columns as in ``visits`` plus ``imputed`` (True where LOCF
        filled at least one outcome of that row; always False for the other rules).

    Notes
    -----
    Complete case assumes data missing completely at random; LOCF assumes nothing changed after a
    patient left, which flatters an improving group and penalises a worsening one.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["a", "a", "b"], "week": [0, 12, 0], "group": "Control",
    ...                   "arm": "control", "das28": [5.0, 4.0, 6.0]})
    >>> handle_missing(v, outcomes=["das28"])["patient_id"].tolist()
    ['a', 'a']
    >>> handle_missing(v, missing="locf", outcomes=["das28"])[["patient_id", "week", "das28", "imputed"]].values.tolist()
    [['a', 0, 5.0, False], ['a', 12, 4.0, False], ['b', 0, 6.0, False], ['b', 12, 6.0, True]]
    """
    _check_choice("missing", missing, MISSING_RULES)
    _check_frame(visits, "visits", ["patient_id", "week"])
    cols = _outcomes(visits, outcomes)
    weeks = sorted(visits["week"].dropna().unique().tolist()) if weeks is None else sorted(weeks)
    v = visits.loc[visits["week"].isin(weeks)].drop_duplicates(["patient_id", "week"])
    v = v.sort_values(["patient_id", "week"], kind="stable").reset_index(drop=True)
    if missing == "available_case":
        return v.assign(imputed=False)
    if missing == "complete_case":
        # a (week, outcome) cell nobody measured is structural, not missing
        w_codes = pd.factorize(v["week"])[0]
        p_codes = pd.factorize(v["patient_id"])[0]
        row_ok = np.ones(len(v), dtype=bool)
        for c in cols:
            seen = pd.notna(v[c].to_numpy())
            measured = np.bincount(w_codes[seen], minlength=w_codes.max() + 1 if len(v) else 0) > 0
            row_ok &= seen | ~measured[w_codes]
        # patients with every row complete and a row at every week
        bad = np.bincount(p_codes[(p_codes >= 0) & ~row_ok], minlength=p_codes.max() + 1 if len(v) else 0)
        size = np.bincount(p_codes[p_codes >= 0], minlength=p_codes.max() + 1 if len(v) else 0)
        keep = (bad == 0) & (size == len(weeks))
        rows = (p_codes >= 0) & keep[np.maximum(p_codes, 0)] if len(v) else np.zeros(0, dtype=bool)
        return v.loc[rows].assign(imputed=False).reset_index(drop=True)
    # LOCF: full patient × week grid, then forward fill within patient
    static = [c for c in ("group", "arm") if c in v.columns]
    ids = v.drop_duplicates("patient_id")[["patient_id"] + static]
    grid = ids.merge(pd.DataFrame({"week": weeks}), how="cross")
    other = [c for c in v.columns if c not in static]
    full = grid.merge(v[other], on=["patient_id", "week"], how="left")
    full = full.sort_values(["patient_id", "week"], kind="stable").reset_index(drop=True)
    was_missing = full[cols].isna()
    full[cols] = full.groupby("patient_id", sort=False)[cols].ffill()
    full["imputed"] = (was_missing & full[cols].notna()).any(axis=1).to_numpy()
    return full[list(visits.columns.intersection(full.columns)) + ["imputed"]]


# --------------------------------------------------------------------------------------- description
def trajectory_summary(visits: pd.DataFrame, *, outcomes=None, groups: Sequence[str] = GROUPS) -> pd.DataFrame:
    """Mean, SD, SEM, median and quartiles of each outcome per group and visit.

    Parameters
    ----------
    visits : DataFrame
        ``patient_id``, ``week``, ``group`` and outcome columns.
    outcomes : list of str, optional
        Default: those of :data:`OUTCOMES` present.
    groups : sequence of str
        Groups kept, in this order.

    Returns
    -------
    DataFrame
        ``outcome``, ``label``, ``group``, ``week``, ``n``, ``mean``, ``sd``, ``sem`` (sd/√n),
        ``median``, ``q1``, ``q3``.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abab"), "week": [0, 0, 12, 12],
    ...                   "group": "Responder", "das28": [5.0, 7.0, 3.0, 3.0]})
    >>> trajectory_summary(v)[["week", "n", "mean", "sd"]].values.tolist()
    [[0.0, 2.0, 6.0, 1.4142135623730951], [12.0, 2.0, 3.0, 0.0]]
    """
    _check_frame(visits, "visits", ["week", "group"])
    cols = _outcomes(visits, outcomes)
    v = _in_groups(visits, groups)
    long = v.melt(id_vars=["group", "week"], value_vars=cols, var_name="outcome").dropna(subset=["value"])
    g = long.groupby(["outcome", "group", "week"], sort=False)["value"]
    out = g.agg(n="count", mean="mean", sd="std", median="median",
                q1=lambda s: s.quantile(0.25), q3=lambda s: s.quantile(0.75)).reset_index()
    out["sem"] = out["sd"] / np.sqrt(out["n"])
    out["label"] = out["outcome"].map(_label)
    out["outcome"] = pd.Categorical(out["outcome"], cols, ordered=True)
    out["group"] = pd.Categorical(out["group"], list(groups), ordered=True)
    out = out.sort_values(["outcome", "group", "week"]).reset_index(drop=True)
    out["outcome"] = out["outcome"].astype(str)
    out["group"] = out["group"].astype(str)
    return out[["outcome", "label", "group", "week", "n", "mean", "sd", "sem", "median", "q1", "q3"]]


# --------------------------------------------------------------------------------------- test choice
def _skew_unbiased(x: np.ndarray):
    """``scipy.stats.skew(x, bias=False)`` of a 1-D float array of at least 3 values without NaN: scipy's
    arithmetic (its moments about the mean, the same operations in the same order) without its per-call
    argument handling.

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 4.0, 8.0])
    >>> bool(_skew_unbiased(x) == sps.skew(x, bias=False))
    True
    """
    n = x.shape[0]
    mean = np.mean(x, keepdims=True)
    d = x - mean
    m2 = np.mean(d**2)
    m3 = np.mean(d**2 * d)
    with np.errstate(all="ignore"):
        if m2 <= (np.finfo(m2.dtype).eps * mean[0]) ** 2:
            return np.nan
        return ((n - 1.0) * n) ** 0.5 / (n - 2.0) * m3 / m2**1.5


def select_tests(visits: pd.DataFrame, *, outcomes=None, rule: str = "skew", baseline_week: int = 0,
                 groups: Sequence[str] = GROUPS, alpha: float = 0.05) -> pd.DataFrame:
    """Choose, per outcome, parametric (t, ANOVA) or rank tests (Mann–Whitney, Wilcoxon, Kruskal–Wallis).

    Parameters
    ----------
    visits : DataFrame
        ``week``, ``group`` and outcome columns.
    outcomes : list of str, optional
    rule : {"skew", "shapiro", "parametric", "rank"}
        ``"skew"``/``"shapiro"``: :func:`analysis.science.stats.choose_test` with that rule on each group's
        values at ``baseline_week`` (before any treatment effect); rank tests if **any** group is
        flagged. ``"parametric"``/``"rank"``: the same family for every outcome.
    baseline_week : int
    groups : sequence of str
    alpha : float
        Level of the Shapiro–Wilk test (rule ``"shapiro"``).

    Returns
    -------
    DataFrame
        ``outcome``, ``label``, ``family`` ("parametric" or "rank"), ``rule``, ``max_abs_skew``
        (largest bias-corrected |skewness| among the groups at baseline), ``flagged_groups``.

    Notes
    -----
    Choosing the test after looking at the data is the paper's era's convention (its Methods:
    "t test for parametric data and the Mann–Whitney U test for non-parametric data"); the choice is
    made once per outcome so that every visit of an outcome is tested the same way.

    Examples
    --------
    >>> v = pd.DataFrame({"week": 0, "group": ["Responder"] * 6,
    ...                   "das28": [4.0, 5, 6, 5, 4.5, 5.5], "crp_mg_l": [1.0, 1, 1, 1, 2, 60]})
    >>> select_tests(v)[["outcome", "family"]].values.tolist()
    [['das28', 'parametric'], ['crp_mg_l', 'rank']]
    """
    _check_choice("rule", rule, TEST_RULES)
    _check_frame(visits, "visits", ["week", "group"])
    cols = _outcomes(visits, outcomes)
    base = _in_groups(visits, groups)
    base = base.loc[base["week"] == baseline_week]
    group_of = base["group"].to_numpy(object)
    rows_of = {g: np.flatnonzero(group_of == g) for g in pd.unique(base["group"].dropna())}  # in order of appearance
    rows = []
    for col in cols:
        flagged, skews = [], []
        values = pd.to_numeric(base[col], errors="coerce").to_numpy(float)
        for grp, at in rows_of.items():
            x = values[at]
            x = x[~np.isnan(x)]
            skew = abs(float(_skew_unbiased(x))) if x.size >= 3 and np.ptp(x) > 0 else None
            if skew is not None:
                skews.append(skew)
            if rule == "skew":  # stats.choose_test's rule "skew", from the skewness just computed
                if skew is not None and skew > 1:
                    flagged.append(grp)
            elif rule == "shapiro" and stats.choose_test(x, rule=rule, alpha=alpha) != "t":
                flagged.append(grp)
        if rule in ("parametric", "rank"):
            family = rule
        else:
            family = "rank" if flagged else "parametric"
        rows.append(dict(outcome=col, label=_label(col), family=family, rule=rule,
                         max_abs_skew=max(skews) if skews else np.nan,
                         flagged_groups=", ".join(sorted(flagged))))
    return pd.DataFrame(rows, columns=["outcome", "label", "family", "rule", "max_abs_skew", "flagged_groups"])


def _family(tests: pd.DataFrame | str | None, col: str) -> str:
    if tests is None:
        return "parametric"
    if isinstance(tests, str):
        _check_choice("tests", tests, ("parametric", "rank"))
        return tests
    hit = np.flatnonzero(tests["outcome"].to_numpy(object) == col)
    return str(tests["family"].iloc[hit[0]]) if len(hit) else "parametric"


# --------------------------------------------------------------------------------------- within groups
def _paired(x: np.ndarray, y: np.ndarray, family: str) -> dict:
    """Paired comparison of y − x (t test or Wilcoxon signed-rank), with a t-based CI of the mean change."""
    d = y - x
    n = d.size
    out = dict(n=n, mean_before=x.mean() if n else np.nan, mean_after=y.mean() if n else np.nan,
               mean_change=d.mean() if n else np.nan, ci_low=np.nan, ci_high=np.nan,
               statistic=np.nan, p=np.nan, test="paired t" if family == "parametric" else "Wilcoxon",
               note="")
    if n < 2:
        out["note"] = f"fewer than 2 complete pairs (n={n})"
        return out
    sd = d.std(ddof=1)
    half = special.stdtrit(n - 1, 0.975) * sd / np.sqrt(n)  # the t quantile of scipy.stats.t.ppf
    out.update(ci_low=out["mean_change"] - half, ci_high=out["mean_change"] + half)
    if np.ptp(d) == 0:
        out["note"] = "all changes equal: test undefined"
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "parametric":
            # the paired t test of stats.compare_paired (scipy.stats.ttest_rel's formulas), without a table per test
            with np.errstate(divide="ignore", invalid="ignore"):
                t = d.mean() / np.sqrt(d.var(ddof=1) / n)
                p = 2.0 * special.stdtr(n - 1.0, -np.abs(t))
            out.update(statistic=float(t), p=float(p))
        else:
            # scipy directly: pingouin 0.7's wilcoxon(x, y) builds an n × n matrix for its CLES
            res = sps.wilcoxon(d)
            out.update(statistic=float(res.statistic), p=float(res.pvalue))
    return out


def within_group_tests(visits: pd.DataFrame, *, outcomes=None, tests=None, groups: Sequence[str] = GROUPS,
                       baseline_week: int = 0, alpha: float = 0.05) -> pd.DataFrame:
    """Each visit versus baseline, within each group (the paper's ``*`` marks: within responders).

    Parameters
    ----------
    visits : DataFrame
        ``patient_id``, ``week``, ``group`` and outcome columns (one row per patient and week).
    outcomes : list of str, optional
    tests : DataFrame, str or None
        :func:`select_tests` output (per-outcome family), or ``"parametric"``/``"rank"`` for all;
        None means parametric.
    groups : sequence of str
    baseline_week : int
    alpha : float

    Returns
    -------
    DataFrame
        ``outcome``, ``label``, ``group``, ``week``, ``n`` (patients with both values),
        ``mean_before``, ``mean_after``, ``mean_change`` (after − before) with a t-based 95% CI
        (``ci_low``, ``ci_high``), ``test`` (paired t or Wilcoxon), ``statistic``, ``p``,
        ``p_bonf`` (Bonferroni over the follow-up visits of that outcome and group, an addition:
        the paper did not correct), ``significant`` (p < alpha, as the paper), ``note``.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abcabc"), "week": [0, 0, 0, 12, 12, 12],
    ...                   "group": "Responder", "das28": [6.0, 5.0, 7.0, 4.0, 4.0, 4.5]})
    >>> r = within_group_tests(v, groups=["Responder"])
    >>> r[["week", "n", "mean_change", "test"]].values.tolist()
    [[12, 3, -1.8333333333333333, 'paired t']]
    """
    _check_frame(visits, "visits", ["patient_id", "week", "group"])
    cols = _outcomes(visits, outcomes)
    cols_out = ["outcome", "label", "group", "week", "n", "mean_before", "mean_after", "mean_change",
                "ci_low", "ci_high", "test", "statistic", "p", "p_bonf", "significant", "note"]
    rows = []
    v = _in_groups(visits, groups).drop_duplicates(["patient_id", "week"])
    follow = sorted(w for w in v["week"].dropna().unique() if w != baseline_week)
    for col in cols:
        family = _family(tests, col)
        wide = v.pivot(index="patient_id", columns="week", values=col)
        grp_of = v.drop_duplicates("patient_id").set_index("patient_id")["group"].reindex(wide.index).to_numpy()
        at = {w: i for i, w in enumerate(wide.columns)}
        table = wide.to_numpy(float)
        for grp in groups:
            block = []
            w_g = table[grp_of == grp]
            for week in follow:
                if baseline_week not in at or week not in at:
                    pair = np.empty((0, 2))
                else:  # the patients of the group with both values, in the table's order
                    pair = w_g[:, [at[baseline_week], at[week]]]
                    pair = pair[~np.isnan(pair).any(axis=1)]
                res = _paired(pair[:, 0], pair[:, 1], family)
                block.append(dict(outcome=col, label=_label(col), group=grp, week=int(week), **res))
            if block:
                adj = stats.adjust_pvalues([b["p"] for b in block], method="bonf")
                for b, pa in zip(block, adj):
                    b["p_bonf"] = float(pa)
                    b["significant"] = bool(pd.notna(b["p"]) and b["p"] < alpha)
            rows.extend(block)
    return pd.DataFrame(rows, columns=cols_out)


# --------------------------------------------------------------------------------------- between groups
def _anova_between(samples: dict) -> tuple[dict, list[dict]]:
    """One-way ANOVA and pairwise Student t tests with Bonferroni, from each group's values.

    :func:`analysis.science.stats.anova_arrays` (the arithmetic of :func:`analysis.science.stats.anova_bonferroni`), its
    results named as this chapter's tables name them.

    Examples
    --------
    >>> omni, post = _anova_between({"a": np.array([1.0, 2, 3]), "b": np.array([2.0, 3, 4]),
    ...                              "c": np.array([6.0, 7, 8])})
    >>> omni["statistic"], omni["df1"], omni["df2"]
    (21.0, 2, 6)
    >>> [(r["a"], r["b"], round(r["statistic"], 3)) for r in post][:1]
    [('a', 'b', -1.225)]
    """
    f, pairs = stats.anova_arrays(samples)
    omni = dict(test="one-way ANOVA", statistic=f["F"], df1=f["df1"], df2=f["df2"], p=f["p"])
    return omni, [dict(a=r["a"], b=r["b"], statistic=r["t"], p_unc=r["p_unc"], p_bonf=r["p_bonf"]) for r in pairs]


def _kruskal(samples: list) -> tuple[float, float]:
    """Kruskal–Wallis H and p: scipy.stats.kruskal's formulas (average ranks, tie correction), without its
    per-call argument handling (a cohort has dozens of these tests; the result is the same, see the tests).

    Examples
    --------
    >>> h, p = _kruskal([np.array([1.0, 2, 3]), np.array([4.0, 5, 6])])
    >>> round(h, 3), round(p, 3)
    (3.857, 0.05)
    """
    n = [x.size for x in samples]
    total = sum(n)
    ranked, t = stats.average_ranks(np.concatenate(samples))
    ties = 1 - np.sum(t**3 - t) / (total**3 - total)
    bounds = np.cumsum([0] + n)
    ssbn = sum(np.sum(ranked[bounds[i]:bounds[i + 1]]) ** 2 / n[i] for i in range(len(samples)))
    with np.errstate(divide="ignore", invalid="ignore"):
        h = 12.0 / (total * (total + 1)) * ssbn - 3 * (total + 1)
        h /= ties
    return float(h), float(special.chdtrc(len(samples) - 1, h))


def _mann_whitney(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mann–Whitney U of ``x`` and two-sided p: scipy.stats.mannwhitneyu's defaults (normal approximation with
    tie and continuity corrections; its exact distribution, for a group of at most 8 without ties, from scipy).

    Examples
    --------
    >>> u, p = _mann_whitney(np.arange(10.0), np.arange(5.0, 15.0))
    >>> u, round(p, 4)
    (12.5, 0.0051)
    """
    n1, n2 = x.size, y.size
    ranks, t = stats.average_ranks(np.concatenate([x, y]))
    if (n1 <= 8 or n2 <= 8) and not (t > 1).any():  # scipy's method="auto" takes the exact distribution
        res = sps.mannwhitneyu(x, y, alternative="two-sided")
        return float(res.statistic), float(res.pvalue)
    r1 = np.sum(ranks[:n1])
    u1 = r1 - n1 * (n1 + 1) / 2
    u = max(u1, n1 * n2 - u1)
    n = n1 + n2
    s = np.sqrt(n1 * n2 / 12 * ((n + 1) - np.sum(t**3 - t) / (n * (n - 1))))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (u - n1 * n2 / 2 - 0.5) / s
    return float(u1), float(np.clip(special.ndtr(-z) * 2, 0.0, 1.0))


def _rank_between(samples: dict) -> tuple[dict, list[dict]]:
    """Kruskal–Wallis and pairwise Mann–Whitney with Bonferroni (scipy's formulas), from each group's values."""
    omni = dict(test="Kruskal–Wallis", statistic=np.nan, df1=len(samples) - 1, df2=np.nan, p=np.nan)
    if len(samples) >= 2:
        h, p = _kruskal(list(samples.values()))
        omni.update(statistic=h, p=p)
    names = list(samples)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    post = []
    for a, b in pairs:
        u, p = _mann_whitney(samples[a], samples[b])
        post.append(dict(a=a, b=b, statistic=u, p_unc=p))
    for row in post:
        row["p_bonf"] = min(1.0, row["p_unc"] * len(pairs)) if pd.notna(row["p_unc"]) else np.nan
    return omni, post


def _cells(week_codes: np.ndarray, group_codes: np.ndarray, n_groups: int) -> dict[int, dict[int, np.ndarray]]:
    """Week code → group code → the positions of that cell's rows, ascending; groups in code order.

    Examples
    --------
    >>> {w: {g: r.tolist() for g, r in c.items()} for w, c in _cells(np.array([1, 0, 1, 1]), np.array([0, 1, 1, 0]), 2).items()}
    {0: {1: [1]}, 1: {0: [0, 3], 1: [2]}}
    """
    cell = week_codes.astype(np.int64) * n_groups + group_codes
    order = np.argsort(cell, kind="stable")
    bounds = np.flatnonzero(np.diff(cell[order])) + 1
    out: dict[int, dict[int, np.ndarray]] = {}
    for rows in np.split(order, bounds) if len(order) else []:
        w, g = divmod(int(cell[rows[0]]), n_groups)
        out.setdefault(w, {})[g] = rows
    return out


def between_group_tests(visits: pd.DataFrame, *, outcomes=None, tests=None, groups: Sequence[str] = GROUPS,
                        alpha: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Between groups at each visit: omnibus test, then Bonferroni-corrected pairwise tests.

    Parametric family: one-way ANOVA and pairwise Student t tests with Bonferroni correction
    (:func:`analysis.science.stats.anova_bonferroni`, pingouin ``anova`` and ``pairwise_tests``). Rank family:
    Kruskal–Wallis and pairwise Mann–Whitney U tests (scipy), Bonferroni-corrected the same way.

    Parameters
    ----------
    visits : DataFrame
        ``patient_id``, ``week``, ``group`` and outcome columns.
    outcomes : list of str, optional
    tests : DataFrame, str or None
        As in :func:`within_group_tests`.
    groups : sequence of str
    alpha : float

    Returns
    -------
    omnibus : DataFrame
        ``outcome``, ``label``, ``week``, ``test``, ``n``, ``k`` (groups with ≥ 2 values),
        ``statistic`` (F or H), ``df1``, ``df2``, ``p``, ``significant``, ``note``.
    pairwise : DataFrame
        ``outcome``, ``label``, ``week``, ``a``, ``b``, ``n_a``, ``n_b``, ``mean_a``, ``mean_b``,
        ``diff`` (mean_a − mean_b), ``test``, ``statistic``, ``p_unc``, ``p_bonf``
        (min(1, p_unc × number of pairs)), ``significant`` (p_bonf < alpha).

    Notes
    -----
    Groups with fewer than 2 values at a visit are left out of that visit. Pairs are ordered as
    ``groups`` is, so ``diff`` of (Responder, Control) is Responder − Control.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": range(9), "week": 12, "group": ["Responder"] * 3
    ...                   + ["Non-responder"] * 3 + ["Control"] * 3, "das28": [1.0, 2, 3, 2, 3, 4, 6, 7, 8]})
    >>> omni, pair = between_group_tests(v)
    >>> omni[["test", "statistic", "df1", "df2"]].values.tolist()
    [['one-way ANOVA', 21.0, 2, 6]]
    >>> pair[["a", "b", "diff"]].values.tolist()
    [['Responder', 'Non-responder', -1.0], ['Responder', 'Control', -5.0], ['Non-responder', 'Control', -4.0]]
    """
    _check_frame(visits, "visits", ["week", "group"])
    cols = _outcomes(visits, outcomes)
    order = {g: i for i, g in enumerate(groups)}
    omni_rows, pair_rows = [], []
    v = _in_groups(visits, groups)
    weeks = np.sort(v["week"].dropna().unique())
    # the visit × group cells, weeks and groups sorted as groupby sorts them (NaN in neither); the cells' means
    # by pandas' groupby for every outcome at once (each outcome's mean skips its missing values)
    w_codes, _ = pd.factorize(v["week"], sort=True)
    g_codes, group_names = pd.factorize(v["group"], sort=True)
    means = v.groupby(["week", "group"], sort=True)[cols].mean() if cols else None
    for col in cols:
        family = _family(tests, col)
        # each visit × group's values of this outcome, in row order
        keep = (w_codes >= 0) & (g_codes >= 0) & pd.notna(v[col].to_numpy())
        values = pd.to_numeric(v[col], errors="coerce").to_numpy(float)[keep]
        rows_of = _cells(w_codes[keep], g_codes[keep], len(group_names))
        cell_means = means[col].to_dict()
        for i, week in enumerate(weeks):
            # groups with at least 2 values at this visit, sorted (as groupby sorts them)
            samples = {group_names[g]: values[rows] for g, rows in rows_of.get(i, {}).items() if rows.size >= 2}
            sizes = {g: np.int64(x.size) for g, x in samples.items()}
            n = sum(x.size for x in samples.values())
            base = dict(outcome=col, label=_label(col), week=int(week))
            if len(sizes) < 2:
                omni_rows.append(dict(base, test="one-way ANOVA" if family == "parametric" else "Kruskal–Wallis",
                                      n=n, k=len(sizes), note="fewer than 2 groups with ≥ 2 values"))
                continue
            if family == "parametric":
                omni, post = _anova_between(samples)
                test = "Student t"
            else:
                omni, post = _rank_between(samples)
                test = "Mann–Whitney U"
            omni_rows.append(dict(base, n=n, k=len(sizes), note="", **omni))
            for r in post:
                a, b, stat = r["a"], r["b"], r["statistic"]
                if order.get(a, 99) > order.get(b, 99):  # orient pairs as `groups`
                    a, b = b, a
                    stat = -stat if family == "parametric" else sizes[a] * sizes[b] - stat
                mean_a, mean_b = cell_means[(week, a)], cell_means[(week, b)]
                pair_rows.append(dict(base, a=a, b=b, n_a=int(sizes[a]), n_b=int(sizes[b]),
                                      mean_a=float(mean_a), mean_b=float(mean_b),
                                      diff=float(mean_a - mean_b), test=test, statistic=stat,
                                      p_unc=r["p_unc"], p_bonf=r["p_bonf"]))
    omni = pd.DataFrame(omni_rows, columns=["outcome", "label", "week", "test", "n", "k", "statistic", "df1",
                                            "df2", "p", "note"])
    omni.insert(10, "significant", omni["p"].lt(alpha))
    pair = pd.DataFrame(pair_rows, columns=["outcome", "label", "week", "a", "b", "n_a", "n_b", "mean_a", "mean_b",
                                            "diff", "test", "statistic", "p_unc", "p_bonf"])
    pair["significant"] = pair["p_bonf"].lt(alpha)
    if len(pair):
        pair["_o"] = pair["a"].map(order) * 100 + pair["b"].map(order)
        pair["_c"] = pair["outcome"].map({c: i for i, c in enumerate(cols)})
        pair = pair.sort_values(["_c", "week", "_o"], kind="stable").drop(columns=["_o", "_c"])
    return omni.reset_index(drop=True), pair.reset_index(drop=True)


def paper_marks(within: pd.DataFrame, pairwise: pd.DataFrame, *, group: str = "Responder",
                others: Sequence[str] = ("Non-responder", "Control"), alpha: float = 0.05) -> pd.DataFrame:
    """The paper's Fig. 2 marks, recomputed: ``*`` (responders vs their baseline) and ``&`` (vs both others).

    Parameters
    ----------
    within : DataFrame
        :func:`within_group_tests` output.
    pairwise : DataFrame
        Second output of :func:`between_group_tests`.
    group : str
        The group marked.
    others : sequence of str
        ``&`` needs a Bonferroni-corrected p < alpha against **each** of these.
    alpha : float

    Returns
    -------
    DataFrame
        ``outcome``, ``label``, ``week``, ``change`` (mean change from baseline), ``p_within``,
        ``star`` ("*" or ""), ``diff_vs_others`` (largest of the mean differences group − other,
        i.e. the least favourable), ``p_vs_others`` (largest Bonferroni p), ``amp`` ("&" or "").

    Examples
    --------
    >>> w = pd.DataFrame({"outcome": "das28", "label": "DAS28", "group": "Responder", "week": [12],
    ...                   "mean_change": [-2.0], "p": [0.01]})
    >>> pw = pd.DataFrame({"outcome": "das28", "week": 12, "a": "Responder", "b": ["Non-responder", "Control"],
    ...                    "diff": [-1.5, -1.8], "p_bonf": [0.03, 0.2]})
    >>> paper_marks(w, pw)[["star", "diff_vs_others", "p_vs_others", "amp"]].values.tolist()
    [['*', -1.5, 0.2, '']]
    """
    w = within.loc[within["group"] == group, ["outcome", "label", "week", "mean_change", "p"]]
    w = w.rename(columns={"mean_change": "change", "p": "p_within"})
    pw = pairwise.loc[(pairwise["a"] == group) & pairwise["b"].isin(list(others))]
    agg = pw.groupby(["outcome", "week"]).agg(diff_vs_others=("diff", "max"), p_vs_others=("p_bonf", "max"),
                                              n_others=("b", "nunique")).reset_index()
    out = w.merge(agg, on=["outcome", "week"], how="left")
    out["star"] = np.where(out["p_within"].lt(alpha), "*", "")
    full = out["n_others"].eq(len(others))
    out["amp"] = np.where(full & out["p_vs_others"].lt(alpha) & out["diff_vs_others"].notna(), "&", "")
    return out[["outcome", "label", "week", "change", "p_within", "star", "diff_vs_others", "p_vs_others",
                "amp"]].reset_index(drop=True)


def mixed_view(visits: pd.DataFrame, *, outcomes=None, weeks: Sequence[int] | None = None,
               groups: Sequence[str] = GROUPS) -> pd.DataFrame:
    """Mixed ANOVA (group × visit) per outcome: one model for all visits (:func:`analysis.science.stats.mixed_model_view`).

    Parameters
    ----------
    visits : DataFrame
        ``patient_id``, ``week``, ``group`` and outcome columns.
    outcomes : list of str, optional
    weeks : sequence of int, optional
        Visits in the model; patients need all of them. Default: baseline and the long-term visits of the
        paper's design (response, relapse and final week); a chapter passes :func:`long_term_weeks` of its
        design.
    groups : sequence of str

    Returns
    -------
    DataFrame
        ``outcome``, ``label`` then the columns of :func:`analysis.science.stats.mixed_model_view`
        (``source``: group, week, Interaction; ``F``, ``p_unc``, ``p_gg``, ``np2``, ``n_subjects``, ...).

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list(range(6)) * 2, "week": [0] * 6 + [12] * 6,
    ...                   "group": ["Responder"] * 3 + ["Control"] * 3 + ["Responder"] * 3 + ["Control"] * 3,
    ...                   "das28": [5.0, 6, 7, 5, 6, 8, 3, 4, 4, 5, 6, 7]})
    >>> mixed_view(v, weeks=(0, 12))["source"].tolist()
    ['group', 'week', 'Interaction']
    """
    _check_frame(visits, "visits", ["patient_id", "week", "group"])
    cols = _outcomes(visits, outcomes)
    v = _in_groups(visits, groups)
    if weeks is None:
        weeks = long_term_weeks(PAPER)
    v = v.loc[v["week"].isin(list(weeks))]
    parts = []
    for col in cols:
        res = stats.mixed_model_view(v, dv=col, within="week", between="group", subject="patient_id")
        res.insert(0, "label", _label(col))
        res.insert(0, "outcome", col)
        parts.append(res)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def long_term_weeks(design) -> tuple[int, ...]:
    """Baseline and the design's response, relapse and final weeks (the mixed model's visits).

    Examples
    --------
    >>> long_term_weeks(PAPER)
    (0, 12, 24, 48)
    """
    weeks = {0, design.response_week, design.final_week}
    if design.relapse_week is not None:
        weeks.add(design.relapse_week)
    return tuple(sorted(weeks))


# --------------------------------------------------------------------------------------- EULAR response
def eular_table(patients: pd.DataFrame) -> pd.DataFrame:
    """EULAR response at the response visit by arm (good / moderate / none / not assessable).

    Parameters
    ----------
    patients : DataFrame
        ``derived.patients``: ``arm`` and ``eular``.

    Returns
    -------
    DataFrame
        One row per arm present (MSCT first): ``arm``, ``good``, ``moderate``, ``none``,
        ``not_assessable`` (no DAS28 at week 0 or the response week), ``total``, ``pct_good_or_moderate``
        (of the assessable patients).

    Examples
    --------
    >>> p = pd.DataFrame({"arm": ["MSCT", "MSCT", "MSCT", "control"], "eular": ["good", "none", None, "none"]})
    >>> eular_table(p)[["arm", "good", "none", "not_assessable", "pct_good_or_moderate"]].values.tolist()
    [['MSCT', 1, 1, 1, 50.0], ['control', 0, 1, 0, 0.0]]
    """
    _check_frame(patients, "patients", ["arm", "eular"])
    cat = patients["eular"].fillna("not_assessable")
    tab = pd.crosstab(patients["arm"], cat)
    tab = tab.reindex(columns=["good", "moderate", "none", "not_assessable"], fill_value=0)
    arms = [a for a in ("MSCT", "control") if a in tab.index] + [a for a in tab.index if a not in ("MSCT", "control")]
    tab = tab.reindex(arms)
    tab["total"] = tab.sum(axis=1)
    assess = tab["total"] - tab["not_assessable"]
    with np.errstate(invalid="ignore", divide="ignore"):
        tab["pct_good_or_moderate"] = np.where(assess > 0, 100 * (tab["good"] + tab["moderate"]) / assess.where(assess > 0, 1), np.nan)
    tab.columns.name = None
    return tab.reset_index().rename(columns={"index": "arm"})


def response_rate(patients: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """EULAR good-or-moderate response rate per arm with a Wilson confidence interval.

    Parameters
    ----------
    patients : DataFrame
        ``arm`` and ``eular``.
    confidence : float

    Returns
    -------
    DataFrame
        ``arm``, ``responders`` (good or moderate), ``assessed`` (EULAR known), ``proportion``,
        ``ci_low``, ``ci_high`` (Wilson score interval, :func:`analysis.science.stats.proportion_table`).

    Examples
    --------
    >>> p = pd.DataFrame({"arm": ["MSCT"] * 4, "eular": ["good", "moderate", "none", None]})
    >>> response_rate(p)[["arm", "responders", "assessed", "proportion"]].round(3)
        arm  responders  assessed  proportion
    0  MSCT           2         3       0.667
    """
    _check_frame(patients, "patients", ["arm", "eular"])
    known = patients.loc[patients["eular"].notna()]
    resp = scores.is_responder(known["eular"])
    g = resp.groupby(known["arm"]).agg(["sum", "size"])
    arms = [a for a in ("MSCT", "control") if a in g.index] + [a for a in g.index if a not in ("MSCT", "control")]
    g = g.reindex(arms)
    tab = stats.proportion_table(g["sum"].to_numpy(int), g["size"].to_numpy(int), confidence=confidence)
    tab.insert(0, "arm", arms)
    return tab.rename(columns={"successes": "responders", "total": "assessed"})


def baseline_comparison(patients: pd.DataFrame, *, groups: Sequence[str] = GROUPS,
                        variables: Sequence[str] = ("age", "disease_duration_years", "das28_baseline"),
                        alpha: float = 0.05) -> pd.DataFrame:
    """Baseline differences among the groups: one-way ANOVA per numeric variable, chi-square for sex.

    Parameters
    ----------
    patients : DataFrame
        ``group`` and the variables (and optionally ``sex``).
    groups : sequence of str
    variables : sequence of str
        Numeric baseline variables (those absent are skipped).
    alpha : float

    Returns
    -------
    DataFrame
        ``variable``, ``test``, ``statistic``, ``p``, ``significant``, then one ``"mean ± SD"``
        (or ``"n F (%)"`` for sex) column per group.

    Examples
    --------
    >>> p = pd.DataFrame({"group": ["Responder"] * 3 + ["Control"] * 3, "age": [40, 50, 60, 41, 51, 61],
    ...                   "sex": list("FFMFFM")})
    >>> baseline_comparison(p)[["variable", "test", "p"]].round(3).values.tolist()
    [['age', 'one-way ANOVA', 0.908], ['sex', 'chi-square', 1.0]]
    """
    _check_frame(patients, "patients", ["group"])
    p = _in_groups(patients, groups)
    present = [g for g in groups if (p["group"] == g).any()]
    rows = []
    for var in [v for v in variables if v in p.columns]:
        aov, _ = stats.anova_bonferroni(p, dv=var, between="group", alpha=alpha)
        row = dict(variable=var, test="one-way ANOVA", statistic=float(aov["F"].iloc[0]), p=float(aov["p"].iloc[0]))
        desc = stats.mean_pm(p, dv=var, by="group").set_index("group")["text"]
        row.update({g: desc.get(g, "n/a") for g in present})
        rows.append(row)
    if "sex" in p.columns:
        tab = pd.crosstab(p["group"], p["sex"])
        row = dict(variable="sex", test="chi-square", statistic=np.nan, p=np.nan)
        if tab.shape[0] >= 2 and tab.shape[1] >= 2:
            res = sps.chi2_contingency(tab.to_numpy(), correction=False)
            row.update(statistic=float(res.statistic), p=float(res.pvalue))
        for g in present:
            n_f = int(tab.loc[g].get("F", 0)) if g in tab.index else 0
            n = int(tab.loc[g].sum()) if g in tab.index else 0
            row[g] = f"{n_f} F ({100 * n_f / n:.0f}%)" if n else "n/a"
        rows.append(row)
    out = pd.DataFrame(rows, columns=["variable", "test", "statistic", "p"] + present)
    out.insert(4, "significant", out["p"].lt(alpha))
    return out


# --------------------------------------------------------------------------------------- relapse
def relapse_checks(visits: pd.DataFrame, *, group: str = "Responder", reference_week: int = PAPER.response_week,
                   das28_rise: float = 0.6, require_labs: bool = True) -> pd.DataFrame:
    """Evaluate the relapse rule at every visit after the reference visit, per patient of ``group``.

    Rule: relapse at a visit if DAS28 there exceeds the patient's DAS28 at ``reference_week`` by
    **more than** ``das28_rise`` (strict; compared after rounding to 9 decimals) and, when
    ``require_labs``, ESR and CRP are both strictly higher than at ``reference_week``.

    Parameters
    ----------
    visits : DataFrame
        ``patient_id``, ``week``, ``group``, ``das28``, ``esr_mm_h``, ``crp_mg_l`` (also ``tjc28``,
        ``sjc28`` when present, reported for the relapse signs).
    group : str
        Patients evaluated (the paper: responders).
    reference_week : int
        Visit the rise is measured from (the paper's response visit, week 12).
    das28_rise : float
        Minimum rise of DAS28, exclusive (0.6 is the EULAR threshold of a relevant change).
    require_labs : bool
        Whether ESR and CRP must both rise too (the paper: relapse "indicated by an increase in the ESR
        and CRP levels").

    Returns
    -------
    DataFrame
        One row per patient × later visit: ``patient_id``, ``week``, ``das28_ref``, ``das28``,
        ``das28_rise``, ``esr_up``, ``crp_up``, ``tjc_up``, ``sjc_up`` (NaN when unknown),
        ``evaluable`` (DAS28 — and labs if required — known at both visits), ``relapse`` (bool,
        False when not evaluable), ``first_relapse_week`` (the patient's first relapse visit, NaN if none).

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["a"] * 2 + ["b"] * 2, "week": [12, 24] * 2, "group": "Responder",
    ...                   "das28": [3.0, 3.61, 3.0, 3.6], "esr_mm_h": [10.0, 20, 10, 20],
    ...                   "crp_mg_l": [2.0, 5, 2, 5]})
    >>> relapse_checks(v)[["patient_id", "das28_rise", "relapse"]].round(2).values.tolist()
    [['a', 0.61, True], ['b', 0.6, False]]
    """
    if isinstance(das28_rise, bool) or not isinstance(das28_rise, (int, float)) or das28_rise < 0:
        raise ValueError(f"`das28_rise` must be a number >= 0; got {das28_rise!r}.")
    _check_frame(visits, "visits", ["patient_id", "week", "group", "das28", "esr_mm_h", "crp_mg_l"])
    extra = [c for c in ("tjc28", "sjc28") if c in visits.columns]
    # numpy on the columns used: the rows of `group`, the first of each (patient, week), in table order
    ids, weeks = visits["patient_id"].to_numpy(), visits["week"].to_numpy()
    seen, rows = set(), []
    for i in np.flatnonzero((visits["group"] == group).to_numpy(bool)):
        key = (ids[i], weeks[i])
        if key not in seen:
            seen.add(key)
            rows.append(i)
    rows = np.asarray(rows, dtype=np.intp)
    ref_rows, later_rows = rows[weeks[rows] == reference_week], rows[weeks[rows] > reference_week]
    # each later visit next to the patient's reference visit (patients without one are left out)
    ref_of = {pid: i for i, pid in zip(ref_rows, ids[ref_rows])}
    at_ref = np.array([ref_of.get(pid, -1) for pid in ids[later_rows]], dtype=np.intp)
    later_rows, ref_rows = later_rows[at_ref >= 0], at_ref[at_ref >= 0]

    def up(col: str) -> np.ndarray:
        """True/False where the later value is higher/not higher than the reference value, NaN if one is missing."""
        values = visits[col].to_numpy()
        now, then = values[later_rows], values[ref_rows]
        known = pd.notna(now) & pd.notna(then)
        out = np.full(len(now), np.nan, dtype=object)
        out[known] = (now[known] > then[known]).tolist()
        return out

    das28_all = visits["das28"].to_numpy(float)
    das28, das28_ref = das28_all[later_rows], das28_all[ref_rows]
    rise = das28 - das28_ref
    esr_up, crp_up = up("esr_mm_h"), up("crp_mg_l")
    evaluable = ~np.isnan(rise)
    rose = np.round(rise, _DECIMALS) > das28_rise
    if require_labs:
        evaluable &= pd.notna(esr_up) & pd.notna(crp_up)
        rose &= (esr_up == True) & (crp_up == True)  # elementwise, on object arrays (True, False or NaN)
    relapse = rose & evaluable
    # each patient's first relapse visit, on every row of the patient (NaN if none)
    patient_ids, week = ids[later_rows], weeks[later_rows].astype(int)
    first_of: dict = {}
    for pid, w in zip(patient_ids[relapse], week[relapse]):
        first_of[pid] = min(first_of.get(pid, w), w)
    first = np.array([first_of.get(pid, np.nan) for pid in patient_ids], dtype=float)
    out = pd.DataFrame({"patient_id": patient_ids, "week": week,
                        "das28_ref": das28_ref, "das28": das28, "das28_rise": rise,
                        "esr_up": esr_up, "crp_up": crp_up,
                        "tjc_up": up("tjc28") if "tjc28" in extra else np.nan,
                        "sjc_up": up("sjc28") if "sjc28" in extra else np.nan,
                        "evaluable": evaluable, "relapse": relapse, "first_relapse_week": first})
    return out.sort_values(["patient_id", "week"], kind="stable").reset_index(drop=True)


def relapse_not_evaluable(checks: pd.DataFrame, *, reference_week: int, week: int | None = None,
                          require_labs: bool = True) -> str:
    """Why no responder is evaluable for relapse, naming the input that is missing ("" when some are).

    A responder is evaluable at a later visit when DAS28 (and, with ``require_labs``, ESR and CRP) is known
    there and at ``reference_week`` (:func:`relapse_checks`). When none is, the reason names what is missing
    for all of them: no visit at all, or an input of the rule (ESR in a trial that records CRP only, say).

    Parameters
    ----------
    checks : DataFrame
        :func:`relapse_checks` output.
    reference_week : int
        The response visit the rule compares with.
    week : int, optional
        The visit of the claim (the relapse week); ``None``: any visit after ``reference_week``.
    require_labs : bool
        Whether the rule needed ESR and CRP (as given to :func:`relapse_checks`).

    Returns
    -------
    str
        A clause for "not testable" reasons and notes; empty when at least one responder is evaluable.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["a", "a"], "week": [12, 24], "group": "Responder",
    ...                   "das28": [3.0, 4.0], "esr_mm_h": [float("nan")] * 2, "crp_mg_l": [2.0, 5.0]})
    >>> relapse_not_evaluable(relapse_checks(v), reference_week=12, week=24)
    'no responder is evaluable for relapse at week 24: the rule needs DAS28, ESR and CRP at week 12 and at week 24, and ESR is missing for every responder seen at both (relapse_require_labs=False judges by DAS28 alone)'
    >>> relapse_not_evaluable(relapse_checks(v, require_labs=False), reference_week=12, week=24, require_labs=False)
    ''
    >>> relapse_not_evaluable(relapse_checks(v).iloc[:0], reference_week=12, week=48)
    'no responder is evaluable for relapse at week 48: no responder was seen at week 12 and at week 48'
    """
    at = f"at week {week}" if week is not None else f"at a visit after week {reference_week}"
    rows = checks if week is None or "week" not in checks.columns else checks.loc[checks["week"] == week]
    if "evaluable" in rows.columns and rows["evaluable"].astype(bool).any():
        return ""
    head = f"no responder is evaluable for relapse {at}"
    if rows.empty:
        return f"{head}: no responder was seen at week {reference_week} and {at}"
    inputs = [("DAS28", "das28_rise")] + ([("ESR", "esr_up"), ("CRP", "crp_up")] if require_labs else [])
    lacking = [name for name, col in inputs if col in rows.columns and rows[col].isna().all()]
    needs = ", ".join(n for n, _ in inputs[:-1]) + (" and " if len(inputs) > 1 else "") + inputs[-1][0]
    if not lacking:
        return (f"{head}: no responder has all of {needs} known at week {reference_week} and {at} (the rule "
                "needs all of them at both visits)")
    verb = "is" if len(lacking) == 1 else "are"
    hint = (" (relapse_require_labs=False judges by DAS28 alone)"
            if require_labs and any(n in ("ESR", "CRP") for n in lacking) else "")
    return (f"{head}: the rule needs {needs} at week {reference_week} and {at}, and {' and '.join(lacking)} "
            f"{verb} missing for every responder seen at both{hint}")


def relapse_summary(checks: pd.DataFrame, *, relapse_week: int | None = PAPER.relapse_week, confidence: float = 0.95) -> pd.DataFrame:
    """How many patients relapsed first at ``relapse_week``, and at any later visit.

    Parameters
    ----------
    checks : DataFrame
        :func:`relapse_checks` output.
    relapse_week : int
        The visit of the claim (the paper: 24 weeks).
    confidence : float

    Returns
    -------
    DataFrame
        One row per later visit: ``week``, ``evaluable`` (patients evaluable at that visit),
        ``first_relapses`` (patients whose first relapse is at that visit), ``relapsed`` (patients meeting
        the rule at that visit), ``proportion`` (first_relapses / evaluable), ``ci_low``, ``ci_high``
        (Wilson), ``claim_week`` (True for ``relapse_week``).

    Examples
    --------
    >>> c = pd.DataFrame({"patient_id": list("abab"), "week": [24, 24, 48, 48], "evaluable": True,
    ...                   "relapse": [True, False, True, True], "first_relapse_week": [24.0, 48, 24, 48]})
    >>> relapse_summary(c)[["week", "evaluable", "first_relapses", "relapsed"]].values.tolist()
    [[24, 2, 1, 1], [48, 2, 1, 2]]
    """
    _check_frame(checks, "checks", ["patient_id", "week", "evaluable", "relapse", "first_relapse_week"])
    first = checks["first_relapse_week"].eq(checks["week"]) & checks["relapse"]
    g = checks.assign(first=first).groupby("week").agg(evaluable=("evaluable", "sum"),
                                                      first_relapses=("first", "sum"),
                                                      relapsed=("relapse", "sum")).reset_index()
    g = g.astype({"evaluable": int, "first_relapses": int, "relapsed": int})
    prop = stats.proportion_table(g["first_relapses"].to_numpy(), g["evaluable"].to_numpy(), confidence=confidence)
    g[["proportion", "ci_low", "ci_high"]] = prop[["proportion", "ci_low", "ci_high"]].to_numpy()
    g["week"] = g["week"].astype(int)
    g["claim_week"] = g["week"].eq(relapse_week)
    return g


def responders_left_out(patients: pd.DataFrame, analysed: pd.DataFrame) -> list[str]:
    """The responders the missing-visit rule (:func:`handle_missing`) left out of ``analysed``, sorted.

    Examples
    --------
    >>> pts = pd.DataFrame({"patient_id": ["a", "b", "c"], "group": ["Responder", "Responder", "Control"]})
    >>> responders_left_out(pts, pd.DataFrame({"patient_id": ["a", "a"]}))
    ['b']
    """
    responders = patients.loc[patients["group"] == "Responder", "patient_id"]
    return sorted(set(responders) - set(analysed["patient_id"]), key=str)


def relapse_sentence(summary: pd.DataFrame, *, relapse_week: int | None, not_available: str | None = None,
                     not_evaluable: str = "", left_out: Sequence[str] = (), missing: str = "complete_case") -> str:
    """The page's sentence on relapses at the relapse week, written for every case the data allow.

    Parameters
    ----------
    summary : DataFrame
        :func:`relapse_summary` output (its ``claim_week`` row is the relapse week).
    relapse_week : int or None
        The visit of the paper's statement in this design (``None``: no visit after the response week).
    not_available : str, optional
        The section's "Not available with these data: needs ..." reason, when an input column is absent.
    not_evaluable : str
        :func:`relapse_not_evaluable` for the relapse week ("" when some responder is evaluable).
    left_out : sequence of str
        :func:`responders_left_out`: responders the missing-visit rule removed before the count (named, so the
        count reconciles with the tables that take every responder seen).
    missing : str
        The missing-visit rule that removed them (:data:`MISSING_RULES`).

    Returns
    -------
    str
        One or two sentences, never a placeholder such as "n/a".

    Examples
    --------
    >>> t = pd.DataFrame({"week": [24], "evaluable": [10], "first_relapses": [2], "proportion": [0.2],
    ...                   "claim_week": [True]})
    >>> relapse_sentence(t, relapse_week=24)
    'By this rule, 2 of 10 evaluable responders relapsed first at the relapse week (20%).'
    >>> relapse_sentence(t.iloc[:0], relapse_week=24, not_available="Not available with these data: needs esr_mm_h")
    'No relapse can be counted: the rule needs esr_mm_h, which these data lack.'
    >>> relapse_sentence(t.iloc[:0], relapse_week=None)
    'No relapse can be counted: this design has no visit after the response week.'
    >>> relapse_sentence(t, relapse_week=24, left_out=["B03"])[85:]
    'Responder B03 is not counted here: the complete-case rule leaves out every patient missing a measure at some visit, while the final-visit table and the Kaplan–Meier curve take every responder seen.'
    """
    if not_available:
        needs = not_available.split("needs ", 1)[-1].split(" (")[0]
        return f"No relapse can be counted: the rule needs {needs}, which these data lack."
    if relapse_week is None:
        return "No relapse can be counted: this design has no visit after the response week."
    row = summary.loc[summary["claim_week"].astype(bool)] if "claim_week" in summary.columns else summary.iloc[:0]
    evaluable = int(row["evaluable"].iloc[0]) if len(row) else 0
    rule = "the complete-case rule" if missing == "complete_case" else f"the missing-visit rule ({missing})"
    left = list(left_out)
    note = (f" {'Responder' if len(left) == 1 else 'Responders'} {', '.join(map(str, left))} "
            f"{'is' if len(left) == 1 else 'are'} not counted here: {rule} leaves out every patient missing a measure "
            "at some visit, while the final-visit table and the Kaplan–Meier curve take every responder seen."
            if left else "")
    if not evaluable:
        why = not_evaluable.split(": ", 1)[-1] if not_evaluable else f"no responder was seen at week {relapse_week}"
        return f"No responder is evaluable for relapse at week {relapse_week}: {why}.{note}"
    first = int(row["first_relapses"].iloc[0])
    return (f"By this rule, {first} of {evaluable} evaluable responder{'s' if evaluable != 1 else ''} "
            f"relapsed first at the relapse week ({100 * float(row['proportion'].iloc[0]):.0f}%).{note}")


def prednisone_sentence(steps: pd.DataFrame, *, not_available: str | None = None) -> str:
    """The page's sentence on stepwise prednisone reduction, for every case the data allow.

    Examples
    --------
    >>> prednisone_sentence(pd.DataFrame({"reduced_stepwise": [True, False, True]}))
    '2 of 3 responders had their dose reduced stepwise by this rule.'
    >>> prednisone_sentence(pd.DataFrame({"reduced_stepwise": []}))
    'No responder has a prednisone dose at baseline, so no course can be judged.'
    >>> prednisone_sentence(pd.DataFrame(), not_available="Not available with these data: needs prednisone_mg_day")
    'No prednisone course can be judged: these data lack prednisone_mg_day.'
    """
    if not_available:
        needs = not_available.split("needs ", 1)[-1].split(" (")[0]
        return f"No prednisone course can be judged: these data lack {needs}."
    if steps.empty:
        return "No responder has a prednisone dose at baseline, so no course can be judged."
    n = len(steps)
    k = int(steps["reduced_stepwise"].astype(bool).sum())
    return f"{k} of {n} responder{'s' if n != 1 else ''} had their dose reduced stepwise by this rule."


# --------------------------------------------------------------------------------------- prednisone
def _per_run(flags: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """How many of ``flags`` are True in each run of rows beginning at ``starts`` (int)."""
    if not len(flags):
        return np.zeros(0, dtype=int)
    return np.add.reduceat(flags.astype(int), starts)


def prednisone_steps(visits: pd.DataFrame, *, group: str = "Responder", dose: str = "prednisone_mg_day",
                     baseline_week: int = 0, final_week: int = PAPER.final_week, min_steps: int = 1) -> pd.DataFrame:
    """Per-patient prednisone course and whether it was "reduced stepwise".

    Rule: with the visits that have a dose, from ``baseline_week`` to ``final_week`` (or the
    patient's last visit before it), the dose **never rises** from one visit to the next, **falls at
    least** ``min_steps`` times, and the last dose is **lower** than the baseline dose.

    Parameters
    ----------
    visits : DataFrame
        ``patient_id``, ``week``, ``group`` and ``dose``.
    group : str
    dose : str
    baseline_week, final_week : int
    min_steps : int
        Minimum number of visit-to-visit decreases.

    Returns
    -------
    DataFrame
        One row per patient of ``group`` with a baseline dose: ``patient_id``, ``dose_baseline``,
        ``last_week`` (last visit with a dose, ≤ ``final_week``), ``dose_last``, ``n_decreases``,
        ``n_increases``, ``non_increasing``, ``reduced_stepwise``.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["a"] * 3 + ["b"] * 3 + ["c"] * 3, "week": [0, 12, 48] * 3,
    ...                   "group": "Responder", "prednisone_mg_day": [10, 5, 5, 10, 5, 7.5, 0, 0, 0]})
    >>> prednisone_steps(v)[["patient_id", "n_decreases", "n_increases", "reduced_stepwise"]].values.tolist()
    [['a', 1, 0, True], ['b', 1, 1, False], ['c', 0, 0, False]]
    """
    if isinstance(min_steps, bool) or not isinstance(min_steps, (int, np.integer)) or min_steps < 1:
        raise ValueError(f"`min_steps` must be an integer >= 1; got {min_steps!r}.")
    _check_frame(visits, "visits", ["patient_id", "week", "group", dose])
    v = visits.loc[(visits["group"] == group) & visits["week"].between(baseline_week, final_week)]
    v = v[["patient_id", "week", dose]].dropna().drop_duplicates(["patient_id", "week"])
    v = v.sort_values(["patient_id", "week"], kind="stable")
    has_base = v.loc[v["week"] == baseline_week, "patient_id"]
    v = v.loc[v["patient_id"].isin(has_base)]
    # numpy on the rows sorted by patient: each patient's rows are contiguous (the groupby's diff, first, last, sum)
    pid, x = v["patient_id"].to_numpy(), v[dose].to_numpy(float)
    starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]]) if len(v) else np.zeros(0, dtype=np.intp)
    ends = np.r_[starts[1:], len(v)] - 1 if len(v) else starts
    step = np.full(len(v), np.nan)
    step[1:] = x[1:] - x[:-1]
    step[starts] = np.nan  # no step into a patient's first visit
    down, upw = np.round(step, _DECIMALS) < 0, np.round(step, _DECIMALS) > 0
    out = pd.DataFrame({"dose_baseline": x[starts], "last_week": v["week"].array[ends], "dose_last": x[ends],
                        "n_decreases": _per_run(down, starts), "n_increases": _per_run(upw, starts)},
                       index=pd.Index(pid[starts], name="patient_id"))
    out["non_increasing"] = out["n_increases"].eq(0)
    out["reduced_stepwise"] = (out["non_increasing"] & out["n_decreases"].ge(min_steps)
                               & (np.round(out["dose_last"] - out["dose_baseline"], _DECIMALS) < 0))
    return out.reset_index()


# --------------------------------------------------------------------------------------- durability
def lasting_response(patients: pd.DataFrame, visits: pd.DataFrame, *, group: str = "Responder",
                     week: int = PAPER.final_week) -> pd.DataFrame:
    """Whether each patient of ``group`` still meets the EULAR good/moderate criteria at ``week``.

    Parameters
    ----------
    patients : DataFrame
        ``patient_id``, ``group``, ``das28_baseline``.
    visits : DataFrame
        ``patient_id``, ``week``, ``das28``.
    group : str
    week : int

    Returns
    -------
    DataFrame
        One row per patient of ``group``: ``patient_id``, ``das28_baseline``, ``das28_at_week``,
        ``eular_at_week`` (None when DAS28 is missing), ``still_responding``.

    Examples
    --------
    >>> p = pd.DataFrame({"patient_id": ["a", "b"], "group": "Responder", "das28_baseline": [6.0, 6.0]})
    >>> v = pd.DataFrame({"patient_id": ["a", "b"], "week": 48, "das28": [3.0, 5.8]})
    >>> lasting_response(p, v)["still_responding"].tolist()
    [True, False]
    """
    _check_frame(patients, "patients", ["patient_id", "group", "das28_baseline"])
    _check_frame(visits, "visits", ["patient_id", "week", "das28"])
    p = patients.loc[patients["group"] == group, ["patient_id", "das28_baseline"]]
    at = visits.loc[visits["week"] == week].drop_duplicates("patient_id").set_index("patient_id")["das28"]
    out = p.assign(das28_at_week=p["patient_id"].map(at).astype(float))
    out["eular_at_week"] = scores.eular_response(out["das28_baseline"].astype(float), out["das28_at_week"])
    out["still_responding"] = scores.is_responder(out["eular_at_week"]).astype(bool)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------- sensitivity
def missing_data_comparison(visits: pd.DataFrame, *, dv: str = "das28", week: int = PAPER.final_week, baseline_week: int = 0,
                            rules: Sequence[str] = MISSING_RULES, tests=None, outcomes=None,
                            groups: Sequence[str] = GROUPS, alpha: float = 0.05) -> pd.DataFrame:
    """How the missing-visit rule changes the results at one visit.

    Parameters
    ----------
    visits : DataFrame
        ``derived.visits`` (before any missing-data handling).
    dv : str
        Outcome compared.
    week, baseline_week : int
    rules : sequence of str
        Values of ``missing`` for :func:`handle_missing`.
    tests : DataFrame, str or None
        Test family, as in :func:`within_group_tests`.
    outcomes : list of str, optional
        Outcomes the complete-case rule requires (default: those of :data:`OUTCOMES` present).
    groups : sequence of str
    alpha : float

    Returns
    -------
    DataFrame
        One row per rule × group: ``missing``, ``group``, ``n`` (values at ``week``), ``n_imputed``,
        ``mean``, ``sem``, ``mean_change`` (from baseline, complete pairs), ``p_change``, ``p_between``
        (omnibus test across the groups at ``week``, same for all groups of a rule).

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abcdab"), "week": [0, 0, 0, 0, 48, 48],
    ...                   "group": ["Responder", "Responder", "Control", "Control", "Responder", "Responder"],
    ...                   "arm": "x", "das28": [6.0, 5, 6, 5, 3, 3]})
    >>> r = missing_data_comparison(v, rules=["available_case", "locf"])
    >>> r[["missing", "group", "n", "mean"]].values.tolist()
    [['available_case', 'Responder', 2, 3.0], ['available_case', 'Non-responder', 0, nan], ['available_case', 'Control', 0, nan], ['locf', 'Responder', 2, 3.0], ['locf', 'Non-responder', 0, nan], ['locf', 'Control', 2, 5.5]]
    """
    rows = []
    for rule in rules:
        v = handle_missing(visits, missing=rule, outcomes=outcomes)
        if dv not in v.columns:
            raise ValueError(f"`dv` is {dv!r}, which is not a column of `visits`.")
        at = v.loc[v["week"] == week]
        within = within_group_tests(v.loc[v["week"].isin([baseline_week, week])], outcomes=[dv], tests=tests,
                                    groups=groups, baseline_week=baseline_week, alpha=alpha)
        omni, _ = between_group_tests(at, outcomes=[dv], tests=tests, groups=groups, alpha=alpha)
        p_between = float(omni["p"].iloc[0]) if len(omni) else np.nan
        for grp in groups:
            x = at.loc[at["group"] == grp, dv].dropna()
            w = within.loc[within["group"] == grp]
            rows.append(dict(missing=rule, group=grp, n=int(x.size),
                             n_imputed=int(at.loc[(at["group"] == grp) & at["imputed"]].shape[0]),
                             mean=float(x.mean()) if x.size else np.nan,
                             sem=float(x.sem()) if x.size > 1 else np.nan,
                             mean_change=float(w["mean_change"].iloc[0]) if len(w) else np.nan,
                             p_change=float(w["p"].iloc[0]) if len(w) else np.nan,
                             p_between=p_between))
    return pd.DataFrame(rows, columns=["missing", "group", "n", "n_imputed", "mean", "sem", "mean_change",
                                       "p_change", "p_between"])


# --------------------------------------------------------------------------------------- figure
def trajectory_figure(visits: pd.DataFrame, *, outcomes=None, kind: str = "mean_sem",
                      groups: Sequence[str] = GROUPS, max_units: int = 60, seed: int = 0):
    """Fig. 2 a–d: one panel per outcome over the visits, mean ± SEM lines or one line per patient.

    Parameters
    ----------
    visits : DataFrame
        ``patient_id``, ``week``, ``group`` and outcome columns.
    outcomes : list of str, optional
    kind : {"mean_sem", "spaghetti"}
        Group means ± SEM (:func:`analysis.science.figures.mean_sem_lines`) or per-patient lines
        (:func:`analysis.science.figures.spaghetti`, at most ``max_units`` random patients per group).
    groups : sequence of str
    max_units, seed : int
        Subsampling of the per-patient view (large cohorts).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> v = pd.DataFrame({"patient_id": list("abab"), "week": [0, 0, 12, 12], "group": "Responder",
    ...                   "das28": [5.0, 6, 3, 4], "haq_di": [1.0, 1.5, 0.5, 0.5]})
    >>> len(trajectory_figure(v).axes)
    2
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    from analysis.science import figures

    _check_choice("kind", kind, ("mean_sem", "spaghetti"))
    cols = _outcomes(visits, outcomes)
    v = _in_groups(visits, groups)
    ncol = 2 if len(cols) > 1 else 1
    nrow = int(np.ceil(len(cols) / ncol)) or 1
    with figures.book_style():
        fig, axes = plt.subplots(nrow, ncol, figsize=(11, 3.8 * nrow), squeeze=False)
        for ax, col in zip(axes.ravel(), cols):
            if kind == "mean_sem":
                figures.mean_sem_lines(v, x="week", y=col, hue="group", ax=ax)
                ax.set_ylabel(f"{_label(col)}, mean ± SEM")
            else:
                figures.spaghetti(v, x="week", y=col, unit="patient_id", hue="group", ax=ax,
                                  max_units=max_units, seed=seed)
                ax.set_title(ax.get_title(), fontsize=9)
                ax.set_ylabel(_label(col))
            ax.set_xlabel("week")
            if ax is not axes.ravel()[0] and ax.get_legend() is not None:
                ax.get_legend().remove()
        for ax in axes.ravel()[len(cols):]:
            ax.set_visible(False)
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------- follow-up
def follow_up_table(patients: pd.DataFrame, *, groups: Sequence[str] = GROUPS) -> pd.DataFrame:
    """Patients per group and how many were lost to follow-up (no visit at the final week).

    Parameters
    ----------
    patients : DataFrame
        ``group`` and ``lost_to_follow_up``.
    groups : sequence of str
        Groups listed first, in this order (others present, e.g. "Unclassified", follow).

    Returns
    -------
    DataFrame
        ``group``, ``n``, ``lost_to_follow_up``, ``completed``.

    Examples
    --------
    >>> p = pd.DataFrame({"group": ["Responder", "Control", "Control"], "lost_to_follow_up": [False, True, False]})
    >>> follow_up_table(p).values.tolist()
    [['Responder', 1, 0, 1], ['Non-responder', 0, 0, 0], ['Control', 2, 1, 1]]
    """
    _check_frame(patients, "patients", ["group", "lost_to_follow_up"])
    lost = patients["lost_to_follow_up"].astype(bool)
    g = lost.groupby(patients["group"]).agg(["size", "sum"])
    order = list(groups) + sorted(set(g.index) - set(groups))
    g = g.reindex(order, fill_value=0)
    out = pd.DataFrame({"group": order, "n": g["size"].astype(int).to_numpy(),
                        "lost_to_follow_up": g["sum"].astype(int).to_numpy()})
    out["completed"] = out["n"] - out["lost_to_follow_up"]
    return out

