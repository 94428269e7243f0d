"""Audit of the paper's published summary statistics (needs only ``data/published/``).

Three questions, each answered by a pure function returning a tidy table:

* :func:`table1_tests` — can Table 1's stars be recomputed from its means, "±" values and n, and
  under which reading of "±" (SD or SEM) and which t test (Student, Welch, paired with an assumed
  before/after correlation)? :func:`reading_agreement` counts the agreements per reading and test.
* :func:`consistency_checks` — do the reported counts add up and do the percentages follow from them
  (GRIM-style rounding checks, :func:`percent_consistent`, :func:`denominators_for_percent`)?
* :func:`grim_mean` / :func:`grim_table1` — could a mean of integer data with this n be printed like this?
  :func:`implied_sd` — how large would the between-patient SD be if "±" were an SEM?

The chapter's claims are judged in :mod:`analysis.chapters.audit.verdicts` (with the headless ``evaluate``).
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

__all__ = [
    "READINGS",
    "TESTS",
    "agreeing_correlations",
    "consistency_checks",
    "denominators_for_percent",
    "grim_mean",
    "grim_table1",
    "implied_sd",
    "load_table1",
    "percent_consistent",
    "reading_agreement",
    "round_half_up",
    "table1_tests",
]

READINGS: tuple[str, ...] = ("SD", "SEM")
TESTS: tuple[str, ...] = ("Student", "Welch", "paired")
_TABLE1_COLUMNS = ("measure", "group", "n", "before_mean", "before_pm", "after_mean", "after_pm",
                   "after_flag_significant")
_DEFAULT_DIR = Path(__file__).resolve().parents[3] / "data" / "published"


# ----------------------------------------------------------------------------------------------- input
def load_table1(published_dir: str | Path | None = None) -> pd.DataFrame:
    """Read the published Table 1 (``table1.csv``) with ``after_flag_significant`` as bool.

    Examples
    --------
    >>> t1 = load_table1()
    >>> t1["after_flag_significant"].dtype == bool
    True
    """
    folder = Path(published_dir) if published_dir is not None else _DEFAULT_DIR
    path = folder / "table1.csv"
    if not path.is_file():
        raise ValueError(f"`published_dir` is {str(folder)!r}: it has no table1.csv")
    table = pd.read_csv(path, encoding="utf-8")
    flags = table["after_flag_significant"].astype(str).str.strip().str.lower()
    if not flags.isin(["true", "false"]).all():
        raise ValueError(f"{path}: `after_flag_significant` must be true/false, got {sorted(set(flags))}")
    return table.assign(after_flag_significant=flags.eq("true"))


def _check_table1(table1: pd.DataFrame) -> None:
    """Raise ``ValueError`` naming the missing Table 1 columns."""
    if not isinstance(table1, pd.DataFrame):
        raise TypeError(f"`table1` must be a pandas DataFrame, got {type(table1).__name__}")
    missing = [c for c in _TABLE1_COLUMNS if c not in table1.columns]
    if missing:
        raise ValueError(f"`table1` lacks columns {missing}; it needs {list(_TABLE1_COLUMNS)}")


# ----------------------------------------------------------------------------------------------- t tests
def _paired_from_stats(m1, sd1, m2, sd2, n, r: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Paired t test from summary statistics and an assumed correlation ``r``: (t, df, p), arrays over the rows.

    NaN t and p where the SD of the change is 0 or n < 2.
    """
    m1, sd1, m2, sd2 = (np.asarray(x, dtype=float) for x in (m1, sd1, m2, sd2))
    n = np.asarray(n, dtype=np.int64)
    sd_diff = np.sqrt(np.maximum(sd1**2 + sd2**2 - 2 * r * sd1 * sd2, 0.0))
    ok = (sd_diff != 0) & (n >= 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(ok, (m2 - m1) / (sd_diff / np.sqrt(n)), np.nan)
    df = (n - 1).astype(float)
    p = np.full(t.shape, np.nan)
    p[ok] = 2 * sps.t.sf(np.abs(t[ok]), df[ok])
    return t, df, p


def table1_tests(table1: pd.DataFrame, *, alpha: float = 0.05,
                 correlations: tuple[float, ...] = (0.0, 0.5, 0.8)) -> pd.DataFrame:
    """Recompute every before/after comparison of Table 1 under each reading of "±" and each t test.

    Parameters
    ----------
    table1 : pandas.DataFrame
        Published Table 1 (:func:`load_table1`): one row per measure and group with ``n``,
        ``before_mean``, ``before_pm``, ``after_mean``, ``after_pm``, ``after_flag_significant``.
    alpha : float
        Significance level (``p < alpha`` is significant).
    correlations : tuple of float
        Assumed before/after correlations for the paired test (the paper gives none).

    Returns
    -------
    pandas.DataFrame
        One row per measure × group × reading × test (× r for the paired test), columns
        ``measure, group, n, reading, test, r, t, df, p, significant, paper_marks_significant, agrees``.
        ``r`` is NaN for the independent tests.

    Notes
    -----
    Reading ``SD``: "±" is the SD. Reading ``SEM``: SD = SEM·√n. Independent tests use
    :func:`scipy.stats.ttest_ind_from_stats` with n patients before and after (Student: equal variances;
    Welch: unequal). The paired test uses SD_diff = √(sd₁² + sd₂² − 2·r·sd₁·sd₂), t = Δ/(SD_diff/√n),
    df = n − 1; it cannot be computed exactly because the paper does not report r.

    Examples
    --------
    >>> t1 = pd.DataFrame({"measure": ["X"], "group": ["Responder"], "n": [10], "before_mean": [0.0],
    ...                    "before_pm": [1.0], "after_mean": [1.0], "after_pm": [1.0],
    ...                    "after_flag_significant": [True]})
    >>> out = table1_tests(t1, correlations=(0.5,))
    >>> out[["reading", "test", "t"]].round(3).values.tolist()[:3]
    [['SD', 'Student', 2.236], ['SD', 'Welch', 2.236], ['SD', 'paired', 3.162]]
    """
    _check_table1(table1)
    if not 0 < alpha < 1:
        raise ValueError(f"`alpha` is {alpha!r}; a number strictly between 0 and 1 is required")
    bad_r = [r for r in correlations if not -1 <= r <= 1]
    if bad_r:
        raise ValueError(f"`correlations` contains {bad_r}; each must lie in [-1, 1]")
    # one array operation per reading and test over every row of the table (no per-row SciPy call)
    n = np.array([int(v) for v in table1["n"]], dtype=np.int64)
    m1 = table1["before_mean"].to_numpy(dtype=float)
    m2 = table1["after_mean"].to_numpy(dtype=float)
    pm1 = table1["before_pm"].to_numpy(dtype=float)
    pm2 = table1["after_pm"].to_numpy(dtype=float)
    marked = np.array([bool(v) for v in table1["after_flag_significant"]], dtype=bool)
    blocks = []  # (reading, test, r, t, df, p): one per reading and test, t/df/p over the rows
    for reading in READINGS:
        scale = 1.0 if reading == "SD" else np.sqrt(n)  # the SD under this reading of "±"
        sd1, sd2 = pm1 * scale, pm2 * scale
        with np.errstate(divide="ignore", invalid="ignore"):
            for test, equal_var in (("Student", True), ("Welch", False)):
                res = sps.ttest_ind_from_stats(m2, sd2, n, m1, sd1, n, equal_var=equal_var)
                if equal_var:
                    df = (2 * n - 2).astype(float)
                else:  # Welch–Satterthwaite degrees of freedom
                    v1, v2 = sd1**2 / n, sd2**2 / n
                    df = (v1 + v2) ** 2 / (v1**2 / (n - 1) + v2**2 / (n - 1))
                blocks.append((reading, test, np.nan, res.statistic, df, res.pvalue))
            for r in correlations:
                blocks.append((reading, "paired", float(r), *_paired_from_stats(m1, sd1, m2, sd2, n, float(r))))
    # one line per row of the table and block, row by row, the blocks in their order: a (rows x blocks) grid
    # read row-wise
    rows = len(n)

    def grid(i: int) -> np.ndarray:
        return np.column_stack([np.broadcast_to(np.asarray(b[i], dtype=float), (rows,)) for b in blocks]).ravel()

    row = np.repeat(np.arange(rows), len(blocks))
    p = grid(5)
    significant = p < alpha  # False where p is NaN
    return pd.DataFrame({
        "measure": table1["measure"].to_numpy()[row], "group": table1["group"].to_numpy()[row], "n": n[row],
        "reading": np.tile(np.array([b[0] for b in blocks], dtype=object), rows),
        "test": np.tile(np.array([b[1] for b in blocks], dtype=object), rows),
        "r": np.tile(np.array([b[2] for b in blocks], dtype=float), rows), "t": grid(3), "df": grid(4), "p": p,
        "significant": significant, "paper_marks_significant": marked[row], "agrees": significant == marked[row]})


def reading_agreement(tests: pd.DataFrame) -> pd.DataFrame:
    """Count, per reading and test (and assumed r), how many comparisons agree with the paper's stars.

    Returns
    -------
    pandas.DataFrame
        Columns ``reading, test, r, comparisons, agree, significant, paper_marked, all_agree``.

    Examples
    --------
    >>> tests = pd.DataFrame({"reading": ["SD", "SD"], "test": ["Welch", "Welch"], "r": [np.nan, np.nan],
    ...                       "significant": [True, False], "paper_marks_significant": [True, True],
    ...                       "agrees": [True, False]})
    >>> reading_agreement(tests)[["comparisons", "agree", "all_agree"]].values.tolist()
    [[2, 1, False]]
    """
    needed = ["reading", "test", "r", "significant", "paper_marks_significant", "agrees"]
    missing = [c for c in needed if c not in tests.columns]
    if missing:
        raise ValueError(f"`tests` lacks columns {missing}; pass the output of table1_tests()")
    grouped = tests.groupby(["reading", "test", "r"], dropna=False, sort=False)
    out = grouped.agg(comparisons=("agrees", "size"), agree=("agrees", "sum"),
                      significant=("significant", "sum"), paper_marked=("paper_marks_significant", "sum"))
    out = out.reset_index().astype({"comparisons": int, "agree": int, "significant": int, "paper_marked": int})
    return out.assign(all_agree=out["agree"] == out["comparisons"])


def agreeing_correlations(agreement: pd.DataFrame) -> pd.DataFrame:
    """For each reading, the range of assumed correlations r at which a paired test agrees with every star.

    Parameters
    ----------
    agreement : pandas.DataFrame
        Output of :func:`reading_agreement` for :func:`table1_tests` run on a grid of correlations.

    Returns
    -------
    pandas.DataFrame
        Columns ``reading, r_min, r_max, n_agreeing, n_grid`` (``r_min``/``r_max`` NaN when no r agrees).
        The agreeing r need not form one interval; ``n_agreeing`` counts grid points.

    Examples
    --------
    >>> agr = pd.DataFrame({"reading": ["SD"] * 3, "test": ["paired"] * 3, "r": [0.0, 0.5, 0.9],
    ...                     "all_agree": [True, True, False]})
    >>> agreeing_correlations(agr).values.tolist()
    [['SD', 0.0, 0.5, 2, 3]]
    """
    paired = agreement[agreement["test"] == "paired"]
    rows = []
    for reading, part in paired.groupby("reading", sort=False):
        ok = part.loc[part["all_agree"], "r"]
        rows.append({"reading": reading, "r_min": float(ok.min()) if len(ok) else math.nan,
                     "r_max": float(ok.max()) if len(ok) else math.nan, "n_agreeing": int(len(ok)),
                     "n_grid": int(len(part))})
    return pd.DataFrame(rows, columns=["reading", "r_min", "r_max", "n_agreeing", "n_grid"])


def implied_sd(table1: pd.DataFrame) -> pd.DataFrame:
    """The between-patient SD each "±" implies under the SEM reading, and the coefficients of variation.

    Returns
    -------
    pandas.DataFrame
        One row per measure × group × time (``before``/``after``): ``mean, pm, n, sd_if_sem`` (= pm·√n),
        ``cv_if_sd`` (= pm/mean) and ``cv_if_sem`` (= pm·√n/mean).

    Examples
    --------
    >>> t1 = pd.DataFrame({"measure": ["X"], "group": ["Responder"], "n": [25], "before_mean": [10.0],
    ...                    "before_pm": [1.0], "after_mean": [10.0], "after_pm": [2.0],
    ...                    "after_flag_significant": [False]})
    >>> implied_sd(t1)[["time", "sd_if_sem", "cv_if_sem"]].values.tolist()
    [['before', 5.0, 0.5], ['after', 10.0, 1.0]]
    """
    _check_table1(table1)
    rows = []
    for _, row in table1.iterrows():
        for time in ("before", "after"):
            mean, pm, n = float(row[f"{time}_mean"]), float(row[f"{time}_pm"]), int(row["n"])
            rows.append({"measure": row["measure"], "group": row["group"], "time": time, "mean": mean, "pm": pm,
                         "n": n, "sd_if_sem": pm * math.sqrt(n), "cv_if_sd": pm / mean,
                         "cv_if_sem": pm * math.sqrt(n) / mean})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------- GRIM
def round_half_up(x: float, decimals: int = 0) -> float:
    """Round like a printed table does (0.5 away from zero), avoiding binary floating-point surprises.

    Examples
    --------
    >>> round_half_up(53.846, 0), round_half_up(0.125, 2), round(0.125, 2)
    (54.0, 0.13, 0.12)
    """
    q = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP))


def grim_mean(mean: float, n: int, decimals: int = 2, *, items: int = 1) -> bool:
    """GRIM test: can ``n`` integer values (each the sum of ``items`` integer items) have this printed mean?

    Parameters
    ----------
    mean : float
        The mean as printed.
    n : int
        Number of observations (> 0).
    decimals : int
        Decimals the mean is printed with.
    items : int
        Items per observation for multi-item integer scales (the granularity is 1/(n·items)).

    Returns
    -------
    bool
        True if some integer total T gives ``round_half_up(T / (n·items), decimals) == mean``.

    Notes
    -----
    Brown & Heathers (2017). Only meaningful for integer-valued data and when n·items < 10**decimals;
    otherwise every printed mean is possible. Continuous laboratory values (albumin 32.54 g/L) are not
    integer data, so GRIM says nothing about them.

    Examples
    --------
    Hand-worked: with n = 3 the possible means are k/3 = ..., 1.00, 1.33, 1.67, 2.00, ...

    >>> grim_mean(1.33, 3), grim_mean(1.34, 3), grim_mean(1.67, 3)
    (True, False, True)

    28 of 52 patients is 53.846…%, printed as 54 %; as a mean of 0/1 data (×100):

    >>> grim_mean(0.54, 52, 2), grim_mean(0.08, 28, 2)
    (True, False)
    """
    if isinstance(n, bool) or int(n) != n or n <= 0:
        raise ValueError(f"`n` is {n!r}; a whole number > 0 is required")
    if int(decimals) != decimals or decimals < 0:
        raise ValueError(f"`decimals` is {decimals!r}; a whole number >= 0 is required")
    total_n = int(n) * int(items)
    target = round_half_up(float(mean), int(decimals))
    centre = math.floor(target * total_n)
    return any(round_half_up(t / total_n, int(decimals)) == target for t in range(centre - 2, centre + 3))


def grim_table1(table1: pd.DataFrame, *, columns: tuple[str, ...], decimals: int = 2) -> pd.DataFrame:
    """GRIM on Table 1 means of the measures listed in ``columns`` *if* they were recorded as integers.

    Returns
    -------
    pandas.DataFrame
        ``measure, group, time, mean, n, grim_consistent, chance_consistent``; ``chance_consistent``
        = min(1, n/10**decimals) is the share of printed means that pass by chance.

    Examples
    --------
    >>> t1 = pd.DataFrame({"measure": ["X"], "column": ["x"], "group": ["Responder"], "n": [3],
    ...                    "before_mean": [1.33], "before_pm": [1.0], "after_mean": [1.34], "after_pm": [1.0],
    ...                    "after_flag_significant": [False]})
    >>> grim_table1(t1, columns=("x",))["grim_consistent"].tolist()
    [True, False]
    """
    _check_table1(table1)
    if "column" not in table1.columns:
        raise ValueError("`table1` lacks the column 'column' (data column names) needed to select `columns`")
    rows = []
    for _, row in table1[table1["column"].isin(columns)].iterrows():
        n = int(row["n"])
        for time in ("before", "after"):
            mean = float(row[f"{time}_mean"])
            rows.append({"measure": row["measure"], "group": row["group"], "time": time, "mean": mean, "n": n,
                         "grim_consistent": grim_mean(mean, n, decimals),
                         "chance_consistent": min(1.0, n / 10**decimals)})
    return pd.DataFrame(rows, columns=["measure", "group", "time", "mean", "n", "grim_consistent",
                                       "chance_consistent"])


def percent_consistent(k: int, n: int, percent: float, decimals: int = 0) -> bool:
    """Is ``k/n`` printed with ``decimals`` decimals equal to ``percent``?

    Examples
    --------
    >>> percent_consistent(28, 52, 54), percent_consistent(2, 28, 8), percent_consistent(2, 25, 8)
    (True, False, True)
    """
    if n <= 0:
        raise ValueError(f"`n` is {n!r}; a number > 0 is required")
    return round_half_up(100 * k / n, decimals) == round_half_up(float(percent), decimals)


def denominators_for_percent(k: int, percent: float, decimals: int = 0, *, n_max: int = 200) -> list[int]:
    """All denominators n (k ≤ n ≤ ``n_max``) for which k/n is printed as ``percent``.

    Examples
    --------
    Hand-worked: 2/23 = 8.7 %, 2/24 = 8.3 %, 2/25 = 8.0 %, 2/26 = 7.7 %, 2/27 = 7.4 %

    >>> denominators_for_percent(2, 8)
    [24, 25, 26]
    """
    return [n for n in range(max(int(k), 1), int(n_max) + 1) if percent_consistent(k, n, percent, decimals)]


# ----------------------------------------------------------------------------------------------- consistency
def _value(published: pd.DataFrame, claim_id: str) -> float:
    """The ``expected`` value of ``claim_id`` in the registry, as a number."""
    hit = published.loc[published["claim_id"] == claim_id, "expected"]
    if hit.empty:
        raise ValueError(f"`published` has no claim {claim_id!r}; pass the registry from load_published()")
    return float(hit.iloc[0])


def _printed_percent(published: pd.DataFrame, claim_id: str) -> float:
    """The percentage as printed (from the registry's ``expected`` fraction)."""
    return round_half_up(100 * _value(published, claim_id), 0)


def consistency_checks(published: pd.DataFrame, table1: pd.DataFrame | None = None) -> pd.DataFrame:
    """Do the paper's counts add up, and do its percentages follow from them?

    Parameters
    ----------
    published : pandas.DataFrame
        The claims registry (:func:`analysis.claims.registry.load_published`); every number is read from it.
    table1 : pandas.DataFrame, optional
        Published Table 1; its ``n`` per group is used for the Table 1 checks (else the registry's).

    Returns
    -------
    pandas.DataFrame
        One row per check: ``check_id`` (the audit claim it judges), ``check``, ``reported``, ``computed``
        (as text), ``computed_value`` (the computed sum, difference or percentage), ``consistent`` (bool),
        ``note``, and ``k``/``n`` (numerator/denominator of percentage checks, else NaN).

    Examples
    --------
    >>> from analysis.claims.log import load_published
    >>> checks = consistency_checks(load_published())
    >>> "audit.relapse_pct_rounding" in set(checks["check_id"])
    True
    """
    v = lambda cid: _value(published, cid)  # noqa: E731 - short local accessor
    responders, nonresponders = int(v("activity.responders_n")), int(v("activity.nonresponders_n"))
    msct, control, total = int(v("activity.msct_n")), int(v("activity.control_n")), int(v("activity.randomised_n"))
    lost_nr, lost_r = int(v("activity.lost_nonresponders")), int(v("activity.lost_responders"))
    relapse = int(v("activity.relapse_n"))
    if table1 is not None:
        _check_table1(table1)
        n_t1 = table1.groupby("group")["n"].first()
        t1_nr, t1_r = int(n_t1["Non-responder"]), int(n_t1["Responder"])
    else:
        t1_nr, t1_r = int(v("safety.table1_n_nonresponder")), int(v("safety.table1_n_responder"))
    rows = []

    def pct(check_id, label, k, n, claim_for_percent):
        printed = _printed_percent(published, claim_for_percent)
        exact = 100 * k / n
        ok = percent_consistent(k, n, printed)
        dens = denominators_for_percent(k, printed)
        note = "" if ok else f"{k}/n is printed as {printed:g}% only for n in {dens}"
        rows.append({"check_id": check_id, "check": label, "reported": f"{printed:g}%",
                     "computed": f"{k}/{n} = {exact:.1f}%", "computed_value": exact, "consistent": ok, "note": note,
                     "k": k, "n": n})

    def add(check_id, label, reported, computed_value, computed_text, note=""):
        rows.append({"check_id": check_id, "check": label, "reported": str(reported),
                     "computed": computed_text, "computed_value": float(computed_value),
                     "consistent": bool(computed_value == reported), "note": note, "k": np.nan, "n": np.nan})

    pct("audit.response_rate_rounding", "response rate = responders / MSCT arm", responders, msct,
        "activity.response_rate")
    pct("audit.nonresponse_rate_rounding", "no-response rate = non-responders / MSCT arm", nonresponders, msct,
        "activity.nonresponse_rate")
    pct("audit.relapse_pct_rounding", "relapse share = relapses / responders", relapse, responders,
        "activity.relapse_pct")
    add("audit.msct_sum", "responders + non-responders = MSCT arm", msct, responders + nonresponders,
        f"{responders} + {nonresponders} = {responders + nonresponders}")
    add("audit.randomised_sum", "MSCT arm + control arm = randomised", total, msct + control,
        f"{msct} + {control} = {msct + control}")
    add("audit.table1_nonresponder_n", "Table 1 no-response n = non-responders − lost", t1_nr,
        nonresponders - lost_nr, f"{nonresponders} − {lost_nr} = {nonresponders - lost_nr}")
    add("audit.table1_responder_n", "Table 1 response n = responders − lost", t1_r, responders - lost_r,
        f"{responders} − {lost_r} = {responders - lost_r}")
    before_n, after_n = int(v("ifng.before_subgroup_n")), int(v("ifng.after_subgroup_n"))
    add("audit.ifng_subgroups_sum", "Before + After IFN-γ subgroups = responders", responders,
        before_n + after_n, f"{before_n} + {after_n} = {before_n + after_n}")
    pred = int(v("activity.prednisone_reduced_n"))
    rows.append({"check_id": "audit.prednisone_within_responders", "check": "prednisone-reduced ≤ responders",
                 "reported": f"{pred} of {responders}", "computed": f"{pred} ≤ {responders}",
                 "computed_value": float(pred), "consistent": pred <= responders, "note": "", "k": np.nan, "n": np.nan,
                 "rule": "reproduced if the subset is not larger than the group it belongs to"})
    lost_c = int(v("activity.lost_controls"))
    rows.append({"check_id": "audit.all_returned_vs_lost",
                 "check": "'all patients returned for scheduled follow-up visits' against the patients lost",
                 "reported": "all returned", "computed": f"lost: {lost_nr} no-response + {lost_c} control = {lost_nr + lost_c}",
                 "computed_value": float(lost_nr + lost_c), "consistent": lost_nr + lost_c == 0,
                 "note": "" if lost_nr + lost_c == 0 else
                 f"the Methods say all returned; the Results and Fig. 1 say {lost_nr + lost_c} were lost to follow-up",
                 "k": np.nan, "n": np.nan,
                 "rule": "the paper's own numbers: reproduced if no patient was lost to follow-up"})
    improved = int(v("activity.improved_with_less_drug_n"))
    rows.append({"check_id": "audit.dosage_28_vs_prednisone_23",
                 "check": "responders with decreased drug dosage against responders with prednisone reduced",
                 "reported": f"{improved} with less drug", "computed": f"prednisone reduced in {pred}",
                 "computed_value": float(improved - pred), "consistent": improved <= pred,
                 "note": "" if improved <= pred else
                 f"drugs are tapered prednisone first (Methods), so {improved} patients with less drug need {improved} "
                 f"with less prednisone, not {pred}; consistent only if {improved - pred} took no prednisone at "
                 "baseline, which the paper does not say",
                 "k": np.nan, "n": np.nan,
                 "rule": "the paper's own numbers: reproduced if the patients with decreased drug dosage are not more "
                         "than those whose prednisone, tapered first, was reduced"})
    return pd.DataFrame(rows)

