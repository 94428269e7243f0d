"""Safety and trial profile: the computations behind the book's first chapter.

The chapter answers four questions from the data folder alone:

* **Trial flow** (the paper's Fig. 1): :func:`trial_flow`, :func:`flow_counts`, :func:`flow_labels`.
* **Baseline characteristics** by arm and by response group: :func:`baseline_table`.
* **Safety laboratory values** before vs after (the paper's Table 1): :func:`safety_labs`,
  :func:`lab_changes`, :func:`published_table1`, :func:`compare_with_published`.
* **Adverse events**: :func:`classify_events`, :func:`adverse_event_table`, :func:`adverse_event_summary`.

Every function takes tidy tables (``derived.patients``, ``derived.visits``, ``cohort.adverse_events``) and
returns a new tidy :class:`pandas.DataFrame`; nothing is printed, drawn or written here.

The chapter's claims are judged in :mod:`analysis.chapters.safety.verdicts` (with the headless ``evaluate``);
its "A second look" is :mod:`analysis.chapters.safety.second_look`.
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import special

from analysis.intake import dictionary
from analysis.science import stats
from analysis.core.checks import check_frame as _check_frame, check_choice as _check_choice, check_alpha as _check_alpha
from analysis.core.design import PAPER

__all__ = [
    "flagged_change_sentence",
    "EVENT_CATEGORIES",
    "GROUPS",
    "LAB_TESTS",
    "adverse_event_summary",
    "adverse_event_table",
    "baseline_table",
    "baseline_wide",
    "classify_events",
    "compare_with_published",
    "flow_counts",
    "flow_n",
    "flow_labels",
    "ae_count",
    "ae_counts_sentence",
    "lab_changes",
    "lab_change_row",
    "lab_long",
    "lab_view",
    "lab_worsening",
    "table1_claims",
    "published_table1",
    "safety_labs",
    "short_lab",
    "trial_flow",
]

#: Group labels in the order the chapter shows them.
GROUPS: tuple[str, ...] = ("Responder", "Non-responder", "Control")
#: Tests :func:`lab_changes` offers: paired t test on complete pairs, or Student's two-sample t test.
LAB_TESTS: tuple[str, ...] = ("paired", "unpaired")

#: Adverse-event categories, each matched case-insensitively against the free-text ``event`` term.
#: An event matching no pattern is "other". Order matters: the first match wins.
EVENT_CATEGORIES: dict[str, str] = {
    "GVHD": r"gvhd|graft[\s-]*(?:versus|vs\.?)[\s-]*host",
    "infusion reaction (fever/chills)": r"fever|pyrexia|chill|rigor|febrile",
    "infection": r"infect|pneumonia|sepsis|bronchitis|cellulitis|zoster|herpes|tuberculosis|\buti\b",
}

_BASELINE_DEFAULT = ("age", "sex", "weight_kg", "height_cm", "disease_duration_years", "prior_biologic",
                     "das28_baseline")
_BASELINE_LABELS = {"das28_baseline": ("DAS28 at week 0", "")}


# --------------------------------------------------------------------------------------------- checks


# --------------------------------------------------------------------------------------------- trial flow
def trial_flow(patients: pd.DataFrame) -> pd.DataFrame:
    """Counts of the trial profile (the paper's Fig. 1), from the derived patient table.

    Parameters
    ----------
    patients : DataFrame
        ``derived.patients``: one row per randomised patient with ``arm``, ``group`` and
        ``lost_to_follow_up``.

    Returns
    -------
    DataFrame
        Columns ``stage``, ``arm``, ``group``, ``n``. Stages, in order: ``"enrolled"`` (arm and group
        ``"all"``), ``"randomised"`` (per arm, group ``"all"``), ``"classified at response week"``
        (per group), ``"lost to follow-up"`` and ``"analysed"`` (per group; analysed = not lost).
        Every arm and group appears even with a count of 0 (so a missing arm shows as 0, not as a
        missing row); ``"Unclassified"`` rows (MSCT patients whose EULAR response could not be
        computed) appear only when there are any.

    Examples
    --------
    >>> p = pd.DataFrame({"arm": ["MSCT", "MSCT", "MSCT", "control"],
    ...                   "group": ["Responder", "Non-responder", "Non-responder", "Control"],
    ...                   "lost_to_follow_up": [False, True, False, False]})
    >>> flow = trial_flow(p)
    >>> flow.loc[flow["stage"] == "lost to follow-up", ["group", "n"]].values.tolist()
    [['Responder', 0], ['Non-responder', 1], ['Control', 0]]
    """
    _check_frame(patients, "patients", ["arm", "group", "lost_to_follow_up"])
    groups = list(GROUPS) + (["Unclassified"] if patients["group"].eq("Unclassified").any() else [])
    arm_of = {g: ("control" if g == "Control" else "MSCT") for g in groups}
    lost = patients["lost_to_follow_up"].astype(bool)
    if patients["group"].dtype == object and patients["arm"].dtype == object:
        # text labels: the counts value_counts().reindex() gives, by numpy masks
        group, arm, lost_rows = patients["group"].to_numpy(), patients["arm"].to_numpy(), lost.to_numpy(dtype=bool)
        by_group = {g: int(_text_is(group, g).sum()) for g in groups}
        lost_by_group = {g: int((_text_is(group, g) & lost_rows).sum()) for g in groups}
        by_arm = pd.Series({a: int(_text_is(arm, a).sum()) for a in ("MSCT", "control")})
    else:
        by_group = patients["group"].value_counts().reindex(groups, fill_value=0)
        lost_by_group = patients.loc[lost, "group"].value_counts().reindex(groups, fill_value=0)
        by_arm = patients["arm"].value_counts().reindex(["MSCT", "control"], fill_value=0)
    rows = [("enrolled", "all", "all", len(patients))]
    rows += [("randomised", arm, "all", by_arm[arm]) for arm in by_arm.index]
    rows += [("classified at response week", arm_of[g], g, by_group[g]) for g in groups]
    rows += [("lost to follow-up", arm_of[g], g, lost_by_group[g]) for g in groups]
    rows += [("analysed", arm_of[g], g, by_group[g] - lost_by_group[g]) for g in groups]
    out = pd.DataFrame(rows, columns=["stage", "arm", "group", "n"])
    return out.astype({"n": int})


def _text_is(values: np.ndarray, text: str) -> np.ndarray:
    """Which elements of an object array are the string ``text`` (what ``Series.eq(text)`` gives for text
    columns)."""
    return np.fromiter((x == text if isinstance(x, str) else False for x in values), dtype=bool, count=len(values))


def flow_n(flow: pd.DataFrame, stage: str, *, arm: str | None = None, group: str | None = None) -> int:
    """The number of patients of the trial flow (:func:`trial_flow`) at ``stage``, in ``arm`` and ``group``
    (None: every arm or group).

    Examples
    --------
    >>> flow = pd.DataFrame({"stage": ["randomised", "randomised", "analysed"], "arm": ["MSCT", "control", "MSCT"],
    ...                      "group": [None, None, "Responder"], "n": [52, 53, 28]})
    >>> flow_n(flow, "randomised"), flow_n(flow, "randomised", arm="MSCT"), flow_n(flow, "analysed", group="Responder")
    (105, 52, 28)
    """
    return _sum_where(flow, "n", stage=stage, arm=arm, group=group)


def _sum_where(table: pd.DataFrame, what: str, **equal) -> int:
    """``int(table.loc[sel, what].sum())`` where ``sel`` keeps the rows whose columns equal the values of
    ``equal`` (a value None: that column is not used), by numpy masks instead of a row selection."""
    sel = np.ones(len(table), dtype=bool)
    for column, value in equal.items():
        if value is None:
            continue
        col = table[column]
        if col.dtype == object and isinstance(value, str):  # text: element-wise == (what .eq gives)
            sel &= _text_is(col.to_numpy(), value)
        else:
            sel &= col.eq(value).to_numpy(dtype=bool, na_value=False)
    values = table[what].to_numpy()
    if values.dtype.kind in "biu":  # counts: the same sum as pandas' (which skips missing values of other types)
        return int(values[sel].sum())
    return int(table.loc[sel, what].sum())


def flow_counts(flow: pd.DataFrame) -> dict[str, int]:
    """The nine box counts of :func:`analysis.science.figures.flow_diagram` from a :func:`trial_flow` table.

    Returns
    -------
    dict
        Keys ``enrolled``, ``msct``, ``control``, ``responders``, ``non_responders``, ``lost_msct``,
        ``lost_control``, ``analysed_msct``, ``analysed_control``; plain ``int`` values.

    Examples
    --------
    >>> p = pd.DataFrame({"arm": ["MSCT", "MSCT", "control"], "group": ["Responder", "Non-responder", "Control"],
    ...                   "lost_to_follow_up": [False, True, False]})
    >>> c = flow_counts(trial_flow(p))
    >>> c["enrolled"], c["lost_msct"], c["analysed_msct"]
    (3, 1, 1)
    """
    _check_frame(flow, "flow", ["stage", "arm", "group", "n"])
    return {
        "enrolled": flow_n(flow, "enrolled"),
        "msct": flow_n(flow, "randomised", arm="MSCT"),
        "control": flow_n(flow, "randomised", arm="control"),
        "responders": flow_n(flow, "classified at response week", group="Responder"),
        "non_responders": flow_n(flow, "classified at response week", group="Non-responder"),
        "lost_msct": flow_n(flow, "lost to follow-up", arm="MSCT"),
        "lost_control": flow_n(flow, "lost to follow-up", arm="control"),
        "analysed_msct": flow_n(flow, "analysed", arm="MSCT"),
        "analysed_control": flow_n(flow, "analysed", arm="control"),
    }


def flow_labels(flow: pd.DataFrame, *, response_week: int = PAPER.response_week, final_week: int = PAPER.final_week) -> dict[str, str]:
    """Box labels for :func:`analysis.science.figures.flow_diagram` that split the MSCT boxes by group.

    Examples
    --------
    >>> p = pd.DataFrame({"arm": ["MSCT", "MSCT", "control"], "group": ["Responder", "Non-responder", "Control"],
    ...                   "lost_to_follow_up": [False, True, False]})
    >>> flow_labels(trial_flow(p))["lost_msct"]
    'Lost to follow-up (MSCT)\\nresponders 0, non-responders 1'
    """
    _check_frame(flow, "flow", ["stage", "arm", "group", "n"])

    def split(stage: str) -> str:
        parts = [f"responders {flow_n(flow, stage, group='Responder')}",
                 f"non-responders {flow_n(flow, stage, group='Non-responder')}"]
        unclassified = flow_n(flow, stage, group="Unclassified")
        if unclassified:
            parts.append(f"unclassified {unclassified}")
        return ", ".join(parts)

    return {
        "responders": f"EULAR good/moderate\nat week {response_week} (responders)",
        "non_responders": f"EULAR no response\nat week {response_week} (non-responders)",
        "lost_msct": "Lost to follow-up (MSCT)\n" + split("lost to follow-up"),
        "analysed_msct": f"Analysed at week {final_week} (MSCT)\n" + split("analysed"),
        "analysed_control": f"Analysed at week {final_week} (control)",
    }


# --------------------------------------------------------------------------------------------- baseline
def _variable_info(name: str) -> tuple[str, str]:
    """(label, unit) of a patient column, from the data dictionary where it is described."""
    if name in _BASELINE_LABELS:
        return _BASELINE_LABELS[name]
    for col in dictionary.columns("patients"):
        if col.name == name:
            label = col.description.split(" (")[0].rstrip(".") or name
            return label, col.unit
    return name, ""


def baseline_table(patients: pd.DataFrame, *, by: str = "arm", variables=None) -> pd.DataFrame:
    """Baseline characteristics per level of ``by``, summarised as the distribution warrants.

    Parameters
    ----------
    patients : DataFrame
        ``derived.patients`` (one row per patient).
    by : str, default "arm"
        Grouping column, usually ``"arm"`` or ``"group"``.
    variables : list of str, optional
        Columns to describe. Default: age, sex, weight, height, disease duration, prior biologic and
        DAS28 at week 0 — those present in ``patients`` with at least one value (optional columns
        the loader added empty are left out).

    Returns
    -------
    DataFrame
        One row per variable × level: ``variable``, ``label``, ``unit``, ``by`` (the grouping column's
        name), ``level``, ``n`` (non-missing values), ``summary`` (text), ``statistic`` (what
        ``summary`` shows: ``"mean ± SD"``, ``"median [IQR]"`` or ``"n (%)"``), ``mean``, ``sd``,
        ``median``, ``q1``, ``q3`` (NaN for categorical rows), ``skewed``.

    Notes
    -----
    Numeric variables use the book's skewness rule (:func:`analysis.science.stats.describe`: n ≥ 3 and
    |skewness| > 1 or Shapiro–Wilk p < 0.05). A variable skewed in **any** level is shown as
    median [IQR] in **every** level, so one row of the table reads one way. Categorical and boolean
    variables show the count and percentage of each category (booleans: of ``True``), with the
    percentage of non-missing values. Missing values are left out of ``n``.

    Examples
    --------
    >>> p = pd.DataFrame({"arm": ["MSCT"] * 4 + ["control"] * 4,
    ...                   "age": [40, 50, 60, 70, 45, 55, 65, 75],
    ...                   "sex": ["F", "F", "M", "F", "F", "M", "M", "F"]})
    >>> t = baseline_table(p, by="arm", variables=["age", "sex"])
    >>> t[["variable", "level", "n", "summary", "statistic"]]
      variable    level  n        summary  statistic
    0      age     MSCT  4  55.00 ± 12.91  mean ± SD
    1      age  control  4  60.00 ± 12.91  mean ± SD
    2    sex=F     MSCT  4      3 (75.0%)      n (%)
    3    sex=F  control  4      2 (50.0%)      n (%)
    4    sex=M     MSCT  4      1 (25.0%)      n (%)
    5    sex=M  control  4      2 (50.0%)      n (%)
    """
    if not isinstance(by, str):
        raise TypeError(f"`by` must be a column name (str); got {type(by).__name__}.")
    _check_frame(patients, "patients", [by])
    if variables is None:
        variables = [v for v in _BASELINE_DEFAULT if v in patients.columns and patients[v].notna().any()]
    else:
        variables = list(variables)
        _check_frame(patients, "patients", variables)
    order = [lv for lv in ("MSCT", "control", *GROUPS, "Unclassified") if lv in set(patients[by])]
    order += sorted(set(patients[by].dropna()) - set(order), key=str)
    rows = []
    for var in variables:
        label, unit = _variable_info(var)
        col = patients[var]
        if pd.api.types.is_bool_dtype(col) or col.dtype == object or isinstance(col.dtype, pd.CategoricalDtype):
            rows += _categorical_rows(patients, var, label, by, order)
            continue
        desc = stats.describe(patients.assign(**{var: pd.to_numeric(col, errors="coerce")}), dv=var, by=by)
        desc = desc.set_index(by).reindex(order)
        skewed = bool(desc["skewed"].fillna(False).astype(bool).any())
        for level, d in desc.iterrows():
            n = 0 if pd.isna(d["n"]) else int(d["n"])
            if n == 0:
                text = "n/a"
            elif skewed:
                text = f"{d['median']:.2f} [{d['q1']:.2f}–{d['q3']:.2f}]"
            elif n >= 2:
                text = f"{d['mean']:.2f} ± {d['sd']:.2f}"
            else:
                text = f"{d['mean']:.2f}"
            rows.append(dict(variable=var, label=label, unit=unit, by=by, level=level, n=n, summary=text,
                             statistic="median [IQR]" if skewed else "mean ± SD", mean=d["mean"], sd=d["sd"],
                             median=d["median"], q1=d["q1"], q3=d["q3"], skewed=skewed))
    cols = ["variable", "label", "unit", "by", "level", "n", "summary", "statistic", "mean", "sd", "median",
            "q1", "q3", "skewed"]
    return pd.DataFrame(rows, columns=cols).astype({"n": int})


def _categorical_rows(patients, var, label, by, order) -> list[dict]:
    col = patients[var]
    is_bool = pd.api.types.is_bool_dtype(col) or set(col.dropna().unique()) <= {True, False}
    cats = [True] if is_bool else sorted(col.dropna().unique().tolist(), key=str)
    known = patients.loc[col.notna()]
    n_by = known[by].value_counts().reindex(order, fill_value=0)
    rows = []
    for cat in cats:
        hits = known.loc[known[var] == cat, by].value_counts().reindex(order, fill_value=0)
        name = var if is_bool else f"{var}={cat}"
        for level in order:
            n, k = int(n_by[level]), int(hits[level])
            text = f"{k} ({100 * k / n:.1f}%)" if n else "n/a"
            rows.append(dict(variable=name, label=label if is_bool else f"{label}: {cat}", unit="", by=by,
                             level=level, n=n, summary=text, statistic="n (%)", mean=np.nan, sd=np.nan,
                             median=np.nan, q1=np.nan, q3=np.nan, skewed=False))
    return rows


def baseline_wide(table: pd.DataFrame) -> pd.DataFrame:
    """One row per variable, one column per level ("<level> (n = k)"), for display.

    Examples
    --------
    >>> p = pd.DataFrame({"arm": ["MSCT", "MSCT", "control", "control"], "age": [40, 50, 60, 70]})
    >>> baseline_wide(baseline_table(p, variables=["age"])).columns.tolist()
    ['characteristic', 'statistic', 'MSCT (n = 2)', 'control (n = 2)']
    """
    _check_frame(table, "table", ["variable", "label", "unit", "level", "n", "summary", "statistic"])
    if table.empty:
        return pd.DataFrame(columns=["characteristic", "statistic"])
    levels = list(dict.fromkeys(table["level"]))
    size = table.groupby("level", sort=False)["n"].max()
    name = {lv: f"{lv} (n = {int(size[lv])})" for lv in levels}
    char = table["label"] + np.where(table["unit"].astype(bool), " (" + table["unit"] + ")", "")
    wide = (table.assign(characteristic=char, column=table["level"].map(name))
            .pivot(index=["variable", "characteristic", "statistic"], columns="column", values="summary"))
    wide = wide.reindex(pd.Index(list(dict.fromkeys(table["variable"])), name="variable"), level=0)
    wide = wide.reset_index().drop(columns="variable")
    wide.columns.name = None
    return wide[["characteristic", "statistic", *[name[lv] for lv in levels]]]


# --------------------------------------------------------------------------------------------- safety labs
def safety_labs() -> pd.DataFrame:
    """The safety laboratory tests: every visit column of the data dictionary with a normal range.

    Returns
    -------
    DataFrame
        ``lab`` (column name), ``label``, ``unit``, ``normal_low``, ``normal_high``, in dictionary order.

    Examples
    --------
    >>> labs = safety_labs()
    >>> labs.loc[labs["lab"] == "albumin_g_l", ["normal_low", "normal_high"]].values.tolist()
    [[40.0, 55.0]]
    """
    return _safety_labs().copy()  # a copy: callers may change theirs


@lru_cache(maxsize=1)
def _safety_labs() -> pd.DataFrame:
    """The table of :func:`safety_labs`, made once per process from the data dictionary (read once per process)."""
    rows = [dict(lab=c.name, label=c.description.split(" (")[0].rstrip("."), unit=c.unit,
                 normal_low=float(c.normal[0]), normal_high=float(c.normal[1]))
            for c in dictionary.columns("visits") if c.normal is not None]
    return pd.DataFrame(rows, columns=["lab", "label", "unit", "normal_low", "normal_high"])


def _distance_to_range(mean: float, low: float, high: float) -> float:
    """How far a mean lies outside [low, high] (0 inside)."""
    if pd.isna(mean):
        return np.nan
    return float(max(low - mean, 0.0, mean - high))


def lab_change_row(data: pd.DataFrame, *, dv: str, test: str = "paired", alpha: float = 0.05,
                   before: int = 0, after: int = PAPER.final_week) -> dict:
    """Describe and test one lab between two visits in one group (one row of :func:`lab_changes`).

    Parameters
    ----------
    data : DataFrame
        Visit rows of one group with ``patient_id``, ``week`` and ``dv``.
    dv : str
        Lab column.
    test, alpha, before, after
        As in :func:`lab_changes`.

    Returns
    -------
    dict
        The columns of :func:`lab_changes` that do not depend on the lab's metadata.

    Examples
    --------
    >>> d = pd.DataFrame({"patient_id": list("abcd") * 2, "week": [0] * 4 + [48] * 4,
    ...                   "y": [1.0, 2, 3, 4, 2, 4, 5, 5]})
    >>> row = lab_change_row(d, dv="y")
    >>> row["n"], row["mean_diff"], round(row["t"], 3), row["dof"]
    (4, 1.5, 5.196, 3.0)
    """
    _check_choice("test", test, LAB_TESTS)
    _check_alpha(alpha)
    return _lab_change(pd.to_numeric(data[dv], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
                       *_visit_rows(data, before, after), test=test, alpha=alpha)


def _visit_rows(data: pd.DataFrame, before: int, after: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which rows of ``data`` are at ``before`` and at ``after``, and each row's patient code (sorted order)."""
    at_before = data["week"].eq(before).to_numpy(dtype=bool, na_value=False)
    at_after = data["week"].eq(after).to_numpy(dtype=bool, na_value=False)
    patient, _ = pd.factorize(data["patient_id"], sort=True)  # -1 for a missing id
    return at_before, at_after, patient


def _lab_change(value: np.ndarray, at_before: np.ndarray, at_after: np.ndarray, patient: np.ndarray, *,
                test: str, alpha: float) -> dict:
    """:func:`lab_change_row` on arrays: one lab's values and the rows of :func:`_visit_rows`."""
    present = ~np.isnan(value)
    at_before, at_after = at_before & present, at_after & present
    if test == "paired":
        # the patients the test uses: complete before/after pairs (none when before == after: a visit is not
        # paired with itself)
        same_visit = bool((at_before & at_after).any())
        # np.isin(patient, patient[at_before]) & np.isin(patient, patient[at_after]) by a table of the codes
        # (shifted by one: a missing id is -1)
        seen = np.zeros((2, (patient.max() if patient.size else -1) + 2), dtype=bool)
        seen[0, patient[at_before] + 1] = True
        seen[1, patient[at_after] + 1] = True
        both = seen[0, patient + 1] & seen[1, patient + 1] & (patient >= 0) & (not same_visit)
        at_before, at_after = at_before & both, at_after & both
    x, y = value[at_before], value[at_after]  # in row order, as the descriptives have always been computed
    desc = {}
    for tag, v in (("before", x), ("after", y)):
        sd = float(np.std(v, ddof=1)) if v.size >= 2 else np.nan
        desc.update({f"n_{tag}": int(v.size), f"mean_{tag}": float(v.mean()) if v.size else np.nan,
                     f"sd_{tag}": sd, f"sem_{tag}": sd / np.sqrt(v.size) if v.size >= 2 else np.nan})
    if test == "paired":
        xs, ys = _pairs_by_patient(patient, at_before, at_after, x, y)
        res = _paired_t(xs, ys)
        n, test_name = xs.size, "paired t test"
    else:
        res = _student_t(y, x)
        n, test_name = int(y.size + x.size), "Student's two-sample t test"
    t, dof, p, note, (g, g_low, g_high) = res
    return dict(n=n, **desc, mean_diff=desc["mean_after"] - desc["mean_before"], test=test_name,
                t=t, dof=dof, p=p, hedges_g=float(g), g_ci_low=float(g_low), g_ci_high=float(g_high),
                significant=bool(np.isfinite(p) and p < alpha), note=note)


def _pairs_by_patient(patient, at_before, at_after, x, y) -> tuple[np.ndarray, np.ndarray]:
    """The (before, after) values ``x``, ``y`` of :func:`lab_change_row` in patient order (as the test pairs them)."""
    if np.unique(patient[at_before]).size < x.size or np.unique(patient[at_after]).size < y.size:
        raise ValueError("`data` has more than one row per `patient_id` × `week`.")
    return x[np.argsort(patient[at_before], kind="stable")], y[np.argsort(patient[at_after], kind="stable")]


def _paired_t(before: np.ndarray, after: np.ndarray):
    """Paired t test of ``after`` − ``before`` with Hedges' g: ``(t, dof, p, note, (g, low, high))``.

    The numbers of :func:`analysis.science.stats.compare_paired` (test ``"t"``) from two aligned arrays of
    complete pairs, without building its one-row table (:func:`lab_changes` runs dozens of these).

    Examples
    --------
    >>> t, dof, p, note, g = _paired_t(np.array([1.0, 2, 3, 4]), np.array([2.0, 4, 5, 5]))
    >>> round(t, 3), dof, round(p, 4), note
    (5.196, 3.0, 0.0138, '')
    """
    row = stats.paired_row(before, after, (None, None))  # the same test, notes and g (one pass over the pairs)
    return row["statistic"], row["dof"], row["p"], row["note"], (row["hedges_g"], row["g_ci_low"], row["g_ci_high"])


def _student_t(a: np.ndarray, b: np.ndarray):
    """Student's two-sample t test of ``a`` − ``b`` with Hedges' g: ``(t, dof, p, note, (g, low, high))``.

    The numbers of :func:`analysis.science.stats.compare_independent` (test ``"t"``) from two arrays without
    missing values, without building its one-row table.

    Examples
    --------
    >>> t, dof, p, note, g = _student_t(np.array([1.0, 2, 3]), np.array([2.0, 3, 4]))
    >>> round(t, 4), dof, round(p, 4), note
    (-1.2247, 4.0, 0.2879, '')
    """
    na, nb = a.size, b.size
    t = dof = p = np.nan
    note = ""
    if na < 2 or nb < 2:
        note = f"fewer than 2 values in a group (n_a={na}, n_b={nb}): no test"
    else:
        dof = na + nb - 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            pooled = ((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / dof
            t = float((a.mean() - b.mean()) / np.sqrt(pooled * (1.0 / na + 1.0 / nb)))
            p = float(2.0 * special.stdtr(dof, -np.abs(t)))
        if np.isnan(p):
            note = "no variance in either group: test undefined"
    return t, dof, p, note, stats.hedges_g_independent(a, b)


def flagged_change_sentence(labs: pd.DataFrame, flagged: list[str], *, group: str = "Responder") -> str:
    """The page's sentence on how the labs the paper flags changed in ``group``, for whatever the data give.

    Parameters
    ----------
    labs : DataFrame
        :func:`lab_changes` output.
    flagged : list of str
        Lab columns the paper marks as changed (those absent from these data already left out).
    group : str
        The group described (the paper: responders).

    Returns
    -------
    str
        One clause per flagged lab with a test in ``group`` (change, Hedges' g with its CI when known, p, n);
        a sentence saying none could be compared otherwise. Never a placeholder such as "n/a".

    Examples
    --------
    >>> labs = pd.DataFrame({"lab": ["albumin_g_l", "hemoglobin_g_l"], "label": ["Albumin", "Hemoglobin"],
    ...                      "group": "Responder", "unit": "g/L", "n": [10, 0], "mean_diff": [1.5, float("nan")],
    ...                      "hedges_g": [0.4, float("nan")], "g_ci_low": [-0.1, float("nan")],
    ...                      "g_ci_high": [0.9, float("nan")], "p": [0.04, float("nan")]})
    >>> flagged_change_sentence(labs, ["albumin_g_l", "hemoglobin_g_l"])
    "In responders, albumin changed by +1.50 g/L (Hedges' g 0.40, 95% CI -0.10 to 0.90; p = 0.040; n = 10); hemoglobin could not be compared (no responder has it at both visits)."
    >>> flagged_change_sentence(labs.iloc[:0], [])
    'None of the labs the paper flags is in these data.'
    """
    from analysis.claims.rules import format_p

    if not flagged:
        return "None of the labs the paper flags is in these data."
    rows = labs.loc[labs["group"].eq(group)].drop_duplicates("lab").set_index("lab")
    word = {"Responder": "responders", "Non-responder": "non-responders", "Control": "controls"}.get(group, group)
    done, gone = [], []
    for lab in flagged:
        row = rows.loc[lab] if lab in rows.index else None
        label = str(row["label"]).lower() if row is not None else lab
        if row is None or not row["n"] or not np.isfinite(float(row["mean_diff"])):
            gone.append(label)
            continue
        g = (f"Hedges' g {row['hedges_g']:.2f}, 95% CI {row['g_ci_low']:.2f} to {row['g_ci_high']:.2f}; "
             if np.isfinite(float(row["hedges_g"])) and np.isfinite(float(row["g_ci_low"])) else "")
        done.append(f"{label} {'changed ' if not done else ''}by {row['mean_diff']:+.2f} {row['unit']} "
                    f"({g}{format_p(row['p'])}; n = {int(row['n'])})")
    parts = []
    if done:
        parts.append(f"In {word}, " + (", ".join(done[:-1]) + " and " + done[-1] if len(done) > 1 else done[0]))
    if gone:
        parts.append(f"{' and '.join(gone)} could not be compared (no {word[:-1]} has "
                     f"{'them' if len(gone) > 1 else 'it'} at both visits)")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def lab_changes(visits: pd.DataFrame, *, labs=None, groups=("Non-responder", "Responder"), test: str = "paired",
                alpha: float = 0.05, before: int = 0, after: int = PAPER.final_week) -> pd.DataFrame:
    """Safety labs before vs after, per group, with the test the caller chose (the paper's Table 1).

    Parameters
    ----------
    visits : DataFrame
        ``derived.visits``: one row per patient × visit with ``patient_id``, ``week``, ``group`` and the labs.
    labs : list of str, optional
        Lab columns; default every visit column with a normal range in the data dictionary
        (:func:`safety_labs`) that is present in ``visits``.
    groups : sequence of str
        Groups to analyse, one block of rows each (a group absent from the data still gets its rows,
        with n = 0 and NaN statistics).
    test : {"paired", "unpaired"}
        ``"paired"``: paired t test on the patients with a value at both visits (the descriptives are over
        those same patients). ``"unpaired"``: Student's two-sample t test treating the two visits as
        independent samples (every available value enters).
    alpha : float, default 0.05
        ``significant`` is ``p < alpha``.
    before, after : int
        The two visit weeks compared (default 0 and 48).

    Returns
    -------
    DataFrame
        One row per lab × group: ``lab``, ``label``, ``unit``, ``normal_low``, ``normal_high``, ``group``,
        ``n`` (patients in the test), ``n_before``, ``mean_before``, ``sd_before``, ``sem_before``,
        ``n_after``, ``mean_after``, ``sd_after``, ``sem_after``, ``before_sd``, ``after_sd``
        (text "mean ± SD"), ``before_sem``, ``after_sem`` (text "mean ± SEM"), ``mean_diff`` (after −
        before), ``test``, ``t``, ``dof``, ``p``, ``hedges_g``, ``g_ci_low``, ``g_ci_high`` (95% CI),
        ``significant``, ``p_holm`` (Holm-adjusted over all rows of the table), ``away_from_normal``
        (the group mean lies further outside the normal range after than before) and ``note``.

    Notes
    -----
    The t tests assume approximately normal values (paired: normal differences; Student: equal
    variances). Hedges' g is after − before standardised by the average SD of the two visits
    (:func:`analysis.science.stats.hedges_g_paired` / :func:`analysis.science.stats.hedges_g_independent`); its CI is a
    normal approximation. Missing values are dropped. Rows with fewer than two values give NaN
    statistics and a ``note`` instead of an error.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abcd") * 2, "week": [0] * 4 + [48] * 4,
    ...                   "group": "Responder", "albumin_g_l": [30.0, 32, 34, 36, 38, 39, 43, 40]})
    >>> res = lab_changes(v, labs=["albumin_g_l"], groups=["Responder"])
    >>> res[["group", "n", "before_sd", "after_sem", "dof", "significant"]]
           group  n     before_sd     after_sem  dof  significant
    0  Responder  4  33.00 ± 2.58  40.00 ± 1.08  3.0         True
    """
    _check_frame(visits, "visits", ["patient_id", "week", "group"])
    _check_choice("test", test, LAB_TESTS)
    _check_alpha(alpha)
    meta = safety_labs()
    if labs is None:
        labs = [lab for lab in meta["lab"] if lab in visits.columns]
    else:
        labs = [labs] if isinstance(labs, str) else list(labs)
        _check_frame(visits, "visits", labs)
    if isinstance(groups, str):
        groups = [groups]
    meta = meta.set_index("lab")
    # each group's rows at the two visits, selected once for all labs (lab_change_row's work on arrays): the
    # rows' positions, which of them are at `before` / `after`, and each row's patient code (sorted order)
    at_before = visits["week"].eq(before).to_numpy(dtype=bool, na_value=False)
    at_after = visits["week"].eq(after).to_numpy(dtype=bool, na_value=False)
    patient_ids = visits["patient_id"].to_numpy()
    by_group = {}
    for group in groups:
        rows = np.flatnonzero((at_before | at_after) & (visits["group"] == group).to_numpy(dtype=bool, na_value=False))
        by_group[group] = (rows, (at_before[rows], at_after[rows], pd.factorize(patient_ids[rows], sort=True)[0]))
    infos = meta.to_dict("index") if meta.index.is_unique else {lab: meta.loc[lab].to_dict() for lab in labs
                                                               if lab in meta.index}
    rows = []
    for lab in labs:
        info = infos[lab] if lab in infos else dict(label=lab, unit="", normal_low=np.nan, normal_high=np.nan)
        column = visits[lab]
        values = (column.to_numpy() if column.dtype == np.float64
                  else pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
        for group in groups:
            at_rows, at = by_group[group]
            res = _lab_change(values[at_rows], *at, test=test, alpha=alpha)
            lo, hi = info["normal_low"], info["normal_high"]
            away = (_distance_to_range(res["mean_after"], lo, hi) > _distance_to_range(res["mean_before"], lo, hi))
            rows.append(dict(lab=lab, **info, group=group, **res, away_from_normal=bool(away)))
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    for tag in ("before", "after"):
        for spread in ("sd", "sem"):
            out[f"{tag}_{spread}"] = [_pm(m, s) for m, s in zip(out[f"mean_{tag}"], out[f"{spread}_{tag}"])]
    out["p_holm"] = stats.adjust_pvalues(out["p"].to_numpy(float), method="holm")
    cols = ["lab", "label", "unit", "normal_low", "normal_high", "group", "n", "n_before", "mean_before",
            "sd_before", "sem_before", "n_after", "mean_after", "sd_after", "sem_after", "before_sd",
            "after_sd", "before_sem", "after_sem", "mean_diff", "test", "t", "dof", "p", "hedges_g", "g_ci_low",
            "g_ci_high", "significant", "p_holm", "away_from_normal", "note"]
    return out[cols]


def _pm(mean: float, spread: float, decimals: int = 2) -> str:
    if pd.isna(mean):
        return "n/a"
    if pd.isna(spread):
        return f"{mean:.{decimals}f}"
    return f"{mean:.{decimals}f} ± {spread:.{decimals}f}"


def lab_view(changes: pd.DataFrame, *, spread: str = "sem") -> pd.DataFrame:
    """A compact, readable version of :func:`lab_changes` for the page (the full table goes to CSV).

    Parameters
    ----------
    changes : DataFrame
        Output of :func:`lab_changes`.
    spread : {"sem", "sd"}
        Show mean ± SEM (as the paper's caption says) or mean ± SD.

    Returns
    -------
    DataFrame
        ``measure`` (label and unit), ``group``, ``n``, ``before``, ``after``, ``t``, ``dof``, ``p``,
        ``g [95% CI]`` (text), ``p < alpha`` ("*" or "").

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": list("abcd") * 2, "week": [0] * 4 + [48] * 4,
    ...                   "group": "Responder", "albumin_g_l": [30.0, 32, 34, 36, 38, 39, 43, 40]})
    >>> lab_view(lab_changes(v, groups=["Responder"]), spread="sd").iloc[0][["before", "after"]].tolist()
    ['33.00 ± 2.58', '40.00 ± 2.16']
    """
    _check_choice("spread", spread, ("sem", "sd"))
    _check_frame(changes, "changes", ["label", "unit", "group", "n", f"before_{spread}", f"after_{spread}", "t",
                                      "dof", "p", "hedges_g", "g_ci_low", "g_ci_high", "significant"])
    g = [f"{v:.2f} [{lo:.2f}, {hi:.2f}]" if pd.notna(v) and pd.notna(lo) else (f"{v:.2f}" if pd.notna(v) else "n/a")
         for v, lo, hi in zip(changes["hedges_g"], changes["g_ci_low"], changes["g_ci_high"])]
    return pd.DataFrame({
        "measure": changes["label"] + np.where(changes["unit"].astype(bool), " (" + changes["unit"] + ")", ""),
        "group": changes["group"],
        "n": changes["n"],
        "before": changes[f"before_{spread}"],
        "after": changes[f"after_{spread}"],
        "t": changes["t"],
        "dof": changes["dof"],
        "p": changes["p"],
        "g [95% CI]": g,
        "p < alpha": np.where(changes["significant"], "*", ""),
    })


def lab_worsening(changes: pd.DataFrame, *, groups=None) -> pd.DataFrame:
    """Rows of :func:`lab_changes` with p < alpha whose group mean moved further outside the normal range.

    This is the chapter's rule for "a significant abnormality" in the safety labs.

    Examples
    --------
    >>> ch = pd.DataFrame({"lab": ["x", "y"], "group": ["Responder"] * 2, "significant": [True, True],
    ...                    "away_from_normal": [False, True]})
    >>> lab_worsening(ch)["lab"].tolist()
    ['y']
    """
    _check_frame(changes, "changes", ["lab", "group", "significant", "away_from_normal"])
    keep = changes["significant"].astype(bool) & changes["away_from_normal"].astype(bool)
    if groups is not None:
        keep &= changes["group"].isin([groups] if isinstance(groups, str) else list(groups))
    return changes.loc[keep].reset_index(drop=True)


def lab_long(visits: pd.DataFrame, *, labs, groups=GROUPS, before: int = 0, after: int = PAPER.final_week,
             max_per_group: int | None = 300, seed: int = 0) -> pd.DataFrame:
    """Long table of lab values at the two visits, for before/after plots (subsampled per group).

    Parameters
    ----------
    visits : DataFrame
        ``derived.visits``.
    labs : list of str
        Lab columns.
    groups : sequence of str
        Groups kept.
    max_per_group : int or None, default 300
        At most this many patients per group (a random sample with ``seed``), so that plots of
        very large cohorts stay readable; ``None`` keeps everyone.

    Returns
    -------
    DataFrame
        ``patient_id``, ``group``, ``lab``, ``label``, ``week``, ``visit`` ("Week 0", "Week 48"), ``value``.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["a", "a", "b", "b"], "week": [0, 48, 0, 48],
    ...                   "group": ["Responder", "Responder", "Control", "Control"],
    ...                   "albumin_g_l": [30.0, 38, 33, 32]})
    >>> lab_long(v, labs=["albumin_g_l"])[["group", "visit", "value"]].values.tolist()
    [['Responder', 'Week 0', 30.0], ['Responder', 'Week 48', 38.0], ['Control', 'Week 0', 33.0], ['Control', 'Week 48', 32.0]]
    """
    labs = [labs] if isinstance(labs, str) else list(labs)
    _check_frame(visits, "visits", ["patient_id", "week", "group", *labs])
    sub = visits.loc[visits["week"].isin([before, after]) & visits["group"].isin(list(groups))]
    if max_per_group is not None:
        ids = sub[["patient_id", "group"]].drop_duplicates()
        ids = ids.sample(frac=1.0, random_state=seed).groupby("group", sort=False).head(max_per_group)
        sub = sub.loc[sub["patient_id"].isin(ids["patient_id"])]
    long = sub.melt(id_vars=["patient_id", "group", "week"], value_vars=labs, var_name="lab", value_name="value")
    label = safety_labs().set_index("lab")["label"]
    long["label"] = long["lab"].map(label).fillna(long["lab"])
    long["visit"] = "Week " + long["week"].astype(int).astype(str)
    long["value"] = pd.to_numeric(long["value"], errors="coerce").astype(float)
    order = {g: i for i, g in enumerate(groups)}
    long = long.sort_values(["lab", "group", "week", "patient_id"], key=lambda s: s.map(order) if s.name == "group"
                            else s, kind="stable")
    return long[["patient_id", "group", "lab", "label", "week", "visit", "value"]].reset_index(drop=True)


def short_lab(lab: str) -> str:
    """Claim-id stem of a lab column: the name without its unit suffix (``albumin_g_l`` → ``albumin``).

    Examples
    --------
    >>> short_lab("albumin_g_l"), short_lab("platelets_10e9_l")
    ('albumin', 'platelets')
    """
    return re.sub(r"_(g_l|mmol_l|umol_l|10e9_l|mg_l)$", "", lab)


def table1_claims(changes: pd.DataFrame) -> pd.DataFrame:
    """The inputs of the Table 1 claims: one row per responder / non-responder row of :func:`lab_changes`.

    Returns
    -------
    DataFrame
        ``claim_id`` (``safety.t1_<lab>_<responder|nonresponder>``), ``estimate`` (mean after − before),
        ``p``, ``detail`` (test, n, Hedges g with CI as text).

    Examples
    --------
    >>> ch = pd.DataFrame({"lab": ["albumin_g_l"], "group": ["Responder"], "mean_diff": [8.1], "p": [0.001],
    ...                    "n": [28], "test": ["paired t test"], "hedges_g": [1.9], "g_ci_low": [1.3],
    ...                    "g_ci_high": [2.5]})
    >>> table1_claims(ch)[["claim_id", "detail"]].values.tolist()
    [['safety.t1_albumin_responder', 'paired t test, n = 28, g = 1.90 [1.30, 2.50]']]
    """
    _check_frame(changes, "changes", ["lab", "group", "mean_diff", "p", "n", "test", "hedges_g", "g_ci_low",
                                      "g_ci_high"])
    rows = changes.loc[changes["group"].isin(["Responder", "Non-responder"])]
    suffix = rows["group"].map({"Responder": "responder", "Non-responder": "nonresponder"})
    detail = [f"{t}, n = {n}, g = {g:.2f} [{lo:.2f}, {hi:.2f}]" if pd.notna(g) else f"{t}, n = {n}"
              for t, n, g, lo, hi in zip(rows["test"], rows["n"], rows["hedges_g"], rows["g_ci_low"],
                                         rows["g_ci_high"])]
    return pd.DataFrame({
        "claim_id": "safety.t1_" + rows["lab"].map(short_lab) + "_" + suffix,
        "estimate": rows["mean_diff"].astype(float),
        "p": rows["p"].astype(float),
        "detail": detail,
    }).reset_index(drop=True)


# --------------------------------------------------------------------------------------------- published Table 1
_TABLE1_COLUMNS = ("measure", "column", "unit", "normal_low", "normal_high", "group", "n", "before_mean",
                   "before_pm", "after_mean", "after_pm", "after_flag_significant", "location")


def published_table1(published_dir=None) -> pd.DataFrame:
    """The paper's Table 1 as transcribed in ``data/published/table1.csv``.

    Parameters
    ----------
    published_dir : path, optional
        Folder holding ``table1.csv``; default ``data/published`` of this project.

    Returns
    -------
    DataFrame
        ``lab`` (our column name), ``measure`` (the paper's wording), ``unit``, ``normal_low``,
        ``normal_high``, ``group``, ``n``, ``before_mean``, ``before_pm``, ``after_mean``, ``after_pm``
        (the "±" values as printed: the caption calls them SEM), ``significant`` (the paper's ``*``), ``location``.

    Raises
    ------
    ValueError
        If the file lacks a column or names a group other than "Responder"/"Non-responder".

    Examples
    --------
    >>> t1 = published_table1()
    >>> sorted(t1["group"].unique())
    ['Non-responder', 'Responder']
    """
    from analysis.core import paths

    folder = paths.resolve_dir(published_dir, paths.published_dir())
    path = folder / "table1.csv"
    if not path.is_file():
        raise ValueError(f"`published_dir` is {str(folder)!r}: it has no table1.csv")
    raw = pd.read_csv(path, encoding="utf-8")
    missing = [c for c in _TABLE1_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: lacks column(s) {missing}; expected {list(_TABLE1_COLUMNS)}")
    bad = sorted(set(raw["group"]) - {"Responder", "Non-responder"})
    if bad:
        raise ValueError(f"{path}: `group` has {bad}; allowed: 'Responder', 'Non-responder'")
    flag = raw["after_flag_significant"].astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
    out = raw.rename(columns={"column": "lab"}).assign(significant=flag.to_numpy(bool))
    return out[["lab", "measure", "unit", "normal_low", "normal_high", "group", "n", "before_mean", "before_pm",
                "after_mean", "after_pm", "significant", "location"]]


def compare_with_published(changes: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Put the published Table 1 next to the reproduced one, row by row.

    Parameters
    ----------
    changes : DataFrame
        Output of :func:`lab_changes`.
    published : DataFrame
        Output of :func:`published_table1`.

    Returns
    -------
    DataFrame
        One row per published lab × group: ``measure``, ``group``, ``n_published``, ``n_reproduced``,
        ``before_published``, ``before_reproduced`` (mean ± SEM), ``after_published``,
        ``after_reproduced``, ``star_published`` / ``star_reproduced`` ("*" when p < alpha, else ""),
        ``p`` (reproduced), ``same_verdict`` (both flag or neither), and ``lab``. Rows the reproduction
        lacks show NaN / "n/a".

    Examples
    --------
    >>> pub = published_table1()
    >>> rep = pd.DataFrame({"lab": ["albumin_g_l"], "group": ["Responder"], "n": [28],
    ...                     "before_sem": ["32.00 ± 1.00"], "after_sem": ["40.00 ± 1.00"],
    ...                     "p": [0.001], "significant": [True]})
    >>> row = compare_with_published(rep, pub).query("lab == 'albumin_g_l' and group == 'Responder'")
    >>> row[["star_published", "star_reproduced", "same_verdict"]].values.tolist()
    [['*', '*', True]]
    """
    _check_frame(changes, "changes", ["lab", "group", "n", "before_sem", "after_sem", "p", "significant"])
    _check_frame(published, "published", ["lab", "measure", "group", "n", "before_mean", "before_pm",
                                          "after_mean", "after_pm", "significant"])
    rep = changes[["lab", "group", "n", "before_sem", "after_sem", "p", "significant"]]
    merged = published.merge(rep, on=["lab", "group"], how="left", suffixes=("_pub", "_rep"))
    rep_sig = merged["significant_rep"].astype("boolean")
    out = pd.DataFrame({
        "measure": merged["measure"],
        "group": merged["group"],
        "n_published": merged["n_pub"].astype(int),
        "n_reproduced": merged["n_rep"].astype("Int64"),
        "before_published": [_pm(m, s) for m, s in zip(merged["before_mean"], merged["before_pm"])],
        "before_reproduced": merged["before_sem"].fillna("n/a"),
        "after_published": [_pm(m, s) for m, s in zip(merged["after_mean"], merged["after_pm"])],
        "after_reproduced": merged["after_sem"].fillna("n/a"),
        "star_published": np.where(merged["significant_pub"], "*", ""),
        "star_reproduced": np.where(rep_sig.fillna(False), "*", ""),
        "p": merged["p"].astype(float),
        "same_verdict": (merged["significant_pub"].astype(bool) == rep_sig).fillna(False).astype(bool),
        "lab": merged["lab"],
    })
    return out


# --------------------------------------------------------------------------------------------- adverse events
def classify_events(adverse_events: pd.DataFrame) -> pd.DataFrame:
    """Add a ``category`` column to the adverse events (see :data:`EVENT_CATEGORIES`).

    Examples
    --------
    >>> ae = pd.DataFrame({"patient_id": ["a", "b", "c"], "week": [0, 3, 10],
    ...                    "event": ["Fever", "upper respiratory infection", "rash"],
    ...                    "serious": [False, False, False]})
    >>> classify_events(ae)["category"].tolist()
    ['infusion reaction (fever/chills)', 'infection', 'other']
    """
    _check_frame(adverse_events, "adverse_events", ["patient_id", "week", "event", "serious"])
    term = adverse_events["event"].fillna("").astype(str).str.strip().str.lower()
    # each distinct term's category (the first pattern that finds it, as str.contains would), then every row's
    patterns = [(name, re.compile(pattern, flags=re.IGNORECASE)) for name, pattern in EVENT_CATEGORIES.items()]
    codes, distinct = pd.factorize(term)
    of_distinct = np.array([next((name for name, rx in patterns if rx.search(t) is not None), "other")
                            for t in distinct] + ["other"], dtype=object)  # the last: a missing term (none)
    category = pd.Series(of_distinct[codes], index=adverse_events.index, dtype=object)
    return adverse_events.assign(event=term, category=category)


def _with_arm(adverse_events: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    _check_frame(patients, "patients", ["patient_id", "arm"])
    ae = classify_events(adverse_events)
    ids, arms = patients["patient_id"], patients["arm"]
    if ids.notna().all() and ids.is_unique and arms.dtype == object and "arm" not in ae.columns:
        # each event's arm by an index lookup: the table the left merge below gives (rows renumbered, arm last)
        at = pd.Index(ids.to_numpy()).get_indexer(ae["patient_id"].to_numpy())
        arm = np.where(at >= 0, arms.to_numpy()[at], np.nan) if len(ids) else np.full(len(ae), np.nan, dtype=object)
        ae = ae.reset_index(drop=True).assign(arm=np.asarray(arm, dtype=object))
    else:
        ae = ae.merge(patients[["patient_id", "arm"]], on="patient_id", how="left")
    return ae.assign(serious=ae["serious"].astype("boolean").fillna(False).astype(bool))


def adverse_event_table(adverse_events: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """Adverse events by arm and type.

    Parameters
    ----------
    adverse_events : DataFrame
        ``cohort.adverse_events``: one row per event (``patient_id``, ``week``, ``event``, ``serious``).
    patients : DataFrame
        One row per patient with ``patient_id`` and ``arm`` (for the denominators).

    Returns
    -------
    DataFrame
        One row per category × event term × arm with at least one event: ``category``, ``event``, ``arm``,
        ``n_events``, ``n_patients`` (distinct patients), ``n_serious`` (serious events), ``arm_n``
        (patients randomised to the arm) and ``pct_patients``. Empty (with these columns) when there
        are no events.

    Examples
    --------
    >>> pts = pd.DataFrame({"patient_id": ["a", "b", "c"], "arm": ["MSCT", "MSCT", "control"]})
    >>> ae = pd.DataFrame({"patient_id": ["a", "a", "c"], "week": [0, 0, 4],
    ...                    "event": ["fever", "chills", "pneumonia"], "serious": [False, False, True]})
    >>> adverse_event_table(ae, pts)[["event", "arm", "n_patients", "n_serious", "pct_patients"]]
           event      arm  n_patients  n_serious  pct_patients
    0  pneumonia  control           1          1         100.0
    1     chills     MSCT           1          0          50.0
    2      fever     MSCT           1          0          50.0
    """
    ae = _with_arm(adverse_events, patients)
    cols = ["category", "event", "arm", "n_events", "n_patients", "n_serious", "arm_n", "pct_patients"]
    if ae.empty:
        return pd.DataFrame(columns=cols)
    arm_n = patients["arm"].value_counts()
    out = (ae.groupby(["category", "event", "arm"], sort=True)
           .agg(n_events=("patient_id", "size"), n_patients=("patient_id", "nunique"),
                n_serious=("serious", "sum"))
           .reset_index())
    out["arm_n"] = out["arm"].map(arm_n).fillna(0).astype(int)
    out["pct_patients"] = np.where(out["arm_n"] > 0, 100 * out["n_patients"] / out["arm_n"].clip(lower=1), np.nan)
    return out.astype({"n_events": int, "n_patients": int, "n_serious": int})[cols]


def adverse_event_summary(adverse_events: pd.DataFrame, patients: pd.DataFrame, *,
                          infusion_weeks=(0,)) -> pd.DataFrame:
    """The safety statements of the paper as counts per arm.

    Parameters
    ----------
    adverse_events, patients
        As in :func:`adverse_event_table`.
    infusion_weeks : sequence of int, default (0,)
        Onset weeks that count as "after infusion" for fever/chills (week 0 = day of infusion).

    Returns
    -------
    DataFrame
        One row per measure × arm (arms ``MSCT`` and ``control``, always both): ``measure``, ``arm``,
        ``n_patients`` (distinct patients), ``n_events``. Measures: "any adverse event", "serious adverse
        event", "fever/chills after infusion", "GVHD", "infection", "serious infection".

    Examples
    --------
    >>> pts = pd.DataFrame({"patient_id": ["a", "b", "c"], "arm": ["MSCT", "MSCT", "control"]})
    >>> ae = pd.DataFrame({"patient_id": ["a", "a", "b"], "week": [0, 0, 12],
    ...                    "event": ["fever", "chills", "fever"], "serious": [False, False, False]})
    >>> s = adverse_event_summary(ae, pts)
    >>> s.loc[s["measure"] == "fever/chills after infusion", ["arm", "n_patients", "n_events"]].values.tolist()
    [['MSCT', 1, 2], ['control', 0, 0]]
    """
    ae = _with_arm(adverse_events, patients)
    weeks = [infusion_weeks] if isinstance(infusion_weeks, (int, np.integer)) else list(infusion_weeks)
    infection = ae["category"].eq("infection")
    masks = {
        "any adverse event": pd.Series(True, index=ae.index),
        "serious adverse event": ae["serious"],
        "fever/chills after infusion": ae["category"].eq("infusion reaction (fever/chills)") & ae["week"].isin(weeks),
        "GVHD": ae["category"].eq("GVHD"),
        "infection": infection,
        "serious infection": infection & ae["serious"],
    }
    # counted with numpy masks (one boolean array per measure and arm), not one table selection per cell
    in_arm = {arm: ae["arm"].eq(arm).to_numpy(dtype=bool, na_value=False) for arm in ("MSCT", "control")}
    ids = ae["patient_id"].to_numpy(dtype=object)
    known = ae["patient_id"].notna().to_numpy(dtype=bool)
    rows = []
    for measure, mask in masks.items():
        for arm in ("MSCT", "control"):
            sel = mask.to_numpy(dtype=bool) & in_arm[arm]
            rows.append(dict(measure=measure, arm=arm, n_patients=len(pd.unique(ids[sel & known])),
                             n_events=int(sel.sum())))
    return pd.DataFrame(rows, columns=["measure", "arm", "n_patients", "n_events"])


def ae_counts_sentence(summary: pd.DataFrame) -> str:
    """The page's sentences on adverse-event counts (:func:`adverse_event_summary`), nouns and verbs by count.

    Examples
    --------
    >>> m = ["any adverse event", "serious adverse event", "fever/chills after infusion", "GVHD", "infection"]
    >>> s = pd.DataFrame({"measure": m * 2, "arm": ["MSCT"] * 5 + ["control"] * 5,
    ...                   "n_patients": [3, 1, 1, 0, 1, 1, 0, 0, 0, 0], "n_events": [3, 1, 1, 0, 1, 1, 0, 0, 0, 0]})
    >>> ae_counts_sentence(s)
    '3 MSCT and 1 control patient had at least one adverse event. There was 1 serious adverse event in total; 1 MSCT patient had fever or chills on the day of infusion; 0 patients had GVHD and 1 an infection.'
    """
    def patients(k: int) -> str:
        return "patient" if k == 1 else "patients"

    msct, control = ae_count(summary, "any adverse event", arm="MSCT"), ae_count(summary, "any adverse event",
                                                                                 arm="control")
    sae = ae_count(summary, "serious adverse event", what="n_events")
    fever = ae_count(summary, "fever/chills after infusion", arm="MSCT")
    gvhd, infection = ae_count(summary, "GVHD"), ae_count(summary, "infection")
    return (f"{msct} MSCT and {control} control {patients(control)} had at least one adverse event. "
            f"There {'was' if sae == 1 else 'were'} {sae} serious adverse event{'' if sae == 1 else 's'} in total; "
            f"{fever} MSCT {patients(fever)} had fever or chills on the day of infusion; {gvhd} {patients(gvhd)} "
            f"had GVHD and {infection} an infection.")


def ae_count(summary: pd.DataFrame, measure: str, *, arm: str | None = None, what: str = "n_patients") -> int:
    """One count from :func:`adverse_event_summary` (``arm=None``: both arms).

    Examples
    --------
    >>> s = pd.DataFrame({"measure": ["GVHD", "GVHD"], "arm": ["MSCT", "control"], "n_patients": [1, 2],
    ...                   "n_events": [1, 3]})
    >>> ae_count(s, "GVHD"), ae_count(s, "GVHD", arm="MSCT", what="n_events")
    (3, 1)
    """
    _check_frame(summary, "summary", ["measure", "arm", what])
    _check_choice("what", what, ("n_patients", "n_events"))
    if measure not in set(summary["measure"]):
        raise ValueError(f"`measure` must be one of {sorted(set(summary['measure']))}; got {measure!r}.")
    return _sum_where(summary, what, measure=measure, arm=arm)

