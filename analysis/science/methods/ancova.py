"""Comparing arms on a measure at a later visit, adjusted for its value before: ANCOVA.

The paper tests each lab before against after within each group (Table 1). The between-arm question is
answered today by analysis of covariance: the value at the later visit regressed on the value before and the
arm (:func:`ancova`, ordinary least squares), for a family of labs with Holm's adjustment
(:func:`ancova_labs`), set beside the paper-style before/after tests (:func:`beside_t_tests`).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special as _special

from analysis.core.checks import check_choice as _check_choice, check_frame as _check_frame
from analysis.science import stats

__all__ = ["ancova", "ancova_labs", "beside_t_tests"]


def _ols(y: np.ndarray, X: np.ndarray) -> dict:
    """Ordinary least squares: coefficients, their standard errors and the residual sum of squares.

    What ``statsmodels.OLS(y, X).fit()`` gives as ``params``, ``bse``, ``ssr`` and ``df_resid`` (tested), without its
    per-fit overhead (a family of labs fits two models per lab). A rank-deficient ``X`` gets the minimum-norm
    solution and the pseudo-inverse covariance, as in statsmodels.
    """
    params, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ params
    ssr = float(resid @ resid)
    df = len(y) - int(rank)  # residual degrees of freedom, n − rank (statsmodels' df_resid)
    # the pseudo-inverse, as statsmodels: a constant covariate (e.g. a lab with one value) gives a singular X'X
    cov = (ssr / df) * np.linalg.pinv(X.T @ X) if df > 0 else np.full((X.shape[1],) * 2, np.nan)
    return {"params": params, "bse": np.sqrt(np.diag(cov)), "ssr": ssr, "df_resid": df}


def ancova(data: pd.DataFrame, *, after: str, before: str, by: str, levels: Sequence[str],
           confidence: float = 0.95) -> pd.DataFrame:
    """ANCOVA ``after ~ before + by`` (OLS): each level against the first, adjusted for the value before.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    after, before, by : str
        Columns: the outcome at the later visit, at baseline, and the grouping.
    levels : sequence of str
        Levels of ``by`` in the model; the first is the reference.

    Returns
    -------
    DataFrame
        One row per non-reference level: ``contrast`` ("level − reference"), ``estimate`` (adjusted
        difference), ``se``, ``ci_low``, ``ci_high``, ``p`` (t test), ``p_group`` (F test of ``by`` as a
        whole), ``slope_before``, ``n``, ``note``.

    Examples
    --------
    >>> d = pd.DataFrame({"pre": [1.0, 2, 3, 4, 1, 2, 3, 4], "post": [2.0, 3, 4, 5, 4, 5, 6, 7],
    ...                   "arm": ["c"] * 4 + ["t"] * 4})
    >>> ancova(d, after="post", before="pre", by="arm", levels=["c", "t"])[["contrast", "estimate"]].round(6).values.tolist()
    [['t − c', 2.0]]
    """
    _check_frame(data, "data", [after, before, by])
    d = data.loc[data[by].isin(list(levels)), [after, before, by]]
    rows = _ancova_rows(pd.to_numeric(d[after], errors="coerce").to_numpy(float),
                        pd.to_numeric(d[before], errors="coerce").to_numpy(float), d[by].to_numpy(object), levels,
                        confidence)
    return pd.DataFrame(rows, columns=_COLS)


_COLS = ["contrast", "estimate", "se", "ci_low", "ci_high", "p", "p_group", "slope_before", "n", "note"]


def _ancova_rows(y: np.ndarray, x: np.ndarray, g: np.ndarray, levels: Sequence[str], confidence: float) -> list[dict]:
    """:func:`ancova` on arrays (``g`` already restricted to ``levels``): its rows as dicts."""
    keep = ~(np.isnan(y) | np.isnan(x))
    y, x, g = y[keep], x[keep], g[keep]
    present = [lv for lv in levels if (g == lv).sum() >= 2]
    ref = levels[0]
    if ref not in present or len(present) < 2 or len(y) < len(present) + 3:
        return [dict(contrast=f"{lv} − {ref}", n=len(y),
                     note="not fitted: fewer than 2 patients in a group or too few in all") for lv in levels[1:]]
    inside = np.isin(g, present)
    y, x, g = y[inside], x[inside], g[inside]
    dummies = [(g == lv).astype(float) for lv in present[1:]]
    X = np.column_stack([np.ones(len(y)), x, *dummies])
    X0 = X[:, :2]
    fit, red = _ols(y, X), _ols(y, X0)
    q = len(present) - 1
    df_resid = fit["df_resid"]
    f_stat = ((red["ssr"] - fit["ssr"]) / q) / (fit["ssr"] / df_resid) if fit["ssr"] > 0 else np.nan
    p_group = float(_special.fdtrc(q, df_resid, f_stat)) if np.isfinite(f_stat) else np.nan
    t_crit = float(_special.stdtrit(df_resid, 0.5 + confidence / 2))
    rows = []
    for j, lv in enumerate(present[1:], start=2):
        est, se = float(fit["params"][j]), float(fit["bse"][j])
        p = float(2 * _special.stdtr(df_resid, -abs(est / se))) if se > 0 else np.nan
        rows.append(dict(contrast=f"{lv} − {ref}", estimate=est, se=se, ci_low=est - t_crit * se,
                         ci_high=est + t_crit * se, p=p, p_group=p_group,
                         slope_before=float(fit["params"][1]), n=len(y), note=""))
    return rows


def ancova_labs(visits: pd.DataFrame, *, before: int, after: int, labs, by: str = "arm",
                levels: Sequence[str] = ("control", "MSCT"), confidence: float = 0.95) -> pd.DataFrame:
    """The Table 1 labs by ANCOVA: value at ``after`` adjusted for the value at ``before``, by arm (or group).

    Parameters
    ----------
    visits : DataFrame
        ``derived.visits`` (``patient_id``, ``week``, ``arm``/``group`` and the lab columns).
    before, after : int
        Visits (the design's week 0 and final week).
    labs : DataFrame or sequence of str
        The labs, in order: a table with ``lab`` (the visit column), ``label`` and ``unit`` (e.g. the safety
        chapter's ``safety_labs()``), or column names (each labelled by its name, without a unit). Labs
        absent from ``visits`` are left out.
    by : {"arm", "group"}
    levels : sequence of str
        The first is the reference.

    Returns
    -------
    DataFrame
        One row per lab × contrast: ``lab``, ``label``, ``unit``, then :func:`ancova`'s columns, and
        ``p_holm`` (Holm over the labs, on ``p_group``).

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": np.repeat(range(8), 2), "week": [0, 48] * 8,
    ...                   "arm": np.repeat(["control"] * 4 + ["MSCT"] * 4, 2),
    ...                   "albumin_g_l": [40, 41, 42, 42, 44, 45, 46, 46, 40, 43, 42, 45, 44, 47, 46, 48.0]})
    >>> ancova_labs(v, before=0, after=48, labs=["albumin_g_l"])[["lab", "contrast", "n"]].values.tolist()
    [['albumin_g_l', 'MSCT − control', 8]]
    """
    _check_choice("by", by, ("arm", "group"))
    _check_frame(visits, "visits", ["patient_id", "week", by])
    if isinstance(labs, pd.DataFrame):
        _check_frame(labs, "labs", ["lab", "label", "unit"])
        info = labs.set_index("lab")
        names = list(info.index)
    else:
        info = pd.DataFrame(columns=["label", "unit"], index=pd.Index([], name="lab"))
        names = [labs] if isinstance(labs, str) else list(labs)
    labs = [c for c in names if c in visits.columns]
    parts = []
    # only the columns used (the same rows: duplicates are judged on patient_id alone)
    used = list(dict.fromkeys(["patient_id", by, *labs]))
    if visits["patient_id"].notna().all() and all(visits[c].dtype == np.float64 for c in labs):
        # float labs (as derive makes them): the rows of the join below by numpy, the values as arrays
        pre_rows, post_rows = _rows_at_both(visits, before, after)
        g = visits[by].to_numpy(object)[pre_rows]
        inside = visits[by].isin(list(levels)).to_numpy()[pre_rows]

        def values(col: str) -> np.ndarray:
            rows = post_rows if col.startswith("after:") else pre_rows
            return visits[col.removeprefix("after:")].to_numpy()[rows][inside]
    else:
        pre = visits.loc[visits["week"] == before, used].drop_duplicates("patient_id").set_index("patient_id")
        post = visits.loc[visits["week"] == after, used].drop_duplicates("patient_id").set_index("patient_id")
        # each lab's patients with a value row at both visits (one join for all labs; a lab's missing values are
        # dropped by the model), then one model per lab on arrays
        both = pre[[by, *labs]].join(post[labs].add_prefix("after:"), how="inner")
        g = both[by].to_numpy(object)
        inside = both[by].isin(list(levels)).to_numpy()

        def values(col: str) -> np.ndarray:
            return pd.to_numeric(both[col], errors="coerce").to_numpy(float, na_value=np.nan)[inside]

    if info.index.is_unique:  # each lab's label and unit by position (the values .loc gives), not one .loc each
        at = {lab: i for i, lab in enumerate(info.index)}
        label_of, unit_of = info["label"].to_numpy(), info["unit"].to_numpy()
        names_of = {lab: (label_of[at[lab]], unit_of[at[lab]]) if lab in at else (lab, "") for lab in labs}
    else:
        names_of = {lab: (info.loc[lab, "label"], info.loc[lab, "unit"]) if lab in info.index else (lab, "")
                    for lab in labs}
    for lab in labs:
        label, unit = names_of[lab]
        for row in _ancova_rows(values(f"after:{lab}"), values(lab), g[inside], levels, confidence):
            parts.append({"lab": lab, "label": label, "unit": unit, **row})
    cols = ["lab", "label", "unit", *_COLS]
    out = pd.DataFrame(parts, columns=cols)
    first = out.loc[~out["lab"].duplicated().to_numpy()]
    holm = pd.Series(stats.adjust_pvalues(first["p_group"].to_numpy(float), "holm"), index=first["lab"].to_numpy())
    out["p_holm"] = out["lab"].map(holm).astype(float)
    return out


def _rows_at_both(visits: pd.DataFrame, before: int, after: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows (positions) of each patient's first row at ``before`` and at ``after``, for the patients with
    both, in the order of the ``before`` rows: the rows of joining the two visits' first rows per patient
    (``drop_duplicates("patient_id")``, an inner join on the patient) for patient ids without missing values."""
    ids = visits["patient_id"].to_numpy()

    def first_rows(week) -> np.ndarray:
        rows = np.flatnonzero((visits["week"] == week).to_numpy(dtype=bool, na_value=False))
        return rows[~pd.Index(ids[rows]).duplicated()]

    pre_rows, post_rows = first_rows(before), first_rows(after)
    at_post = pd.Index(ids[post_rows]).get_indexer(ids[pre_rows])
    return pre_rows[at_post >= 0], post_rows[at_post[at_post >= 0]]


def beside_t_tests(ancova_table: pd.DataFrame, lab_tests: pd.DataFrame | None) -> pd.DataFrame:
    """The ANCOVA of each lab beside the paper-style before/after t tests per group (one row per lab).

    Parameters
    ----------
    ancova_table : DataFrame
        :func:`ancova_labs` output.
    lab_tests : DataFrame, optional
        The chapter's before/after tests (``lab``, ``group``, ``p``), e.g. the safety chapter's ``lab_changes``.

    Returns
    -------
    DataFrame
        ``lab``, ``label``, ``contrast``, ``estimate``, ``ci_low``, ``ci_high``, ``p_ancova``, ``p_holm``,
        then ``p_t_<group>`` per group of ``lab_tests``.

    Examples
    --------
    >>> a = pd.DataFrame({"lab": ["x"], "label": ["X"], "contrast": ["MSCT − control"], "estimate": [1.0],
    ...                   "ci_low": [0.0], "ci_high": [2.0], "p": [0.04], "p_holm": [0.04]})
    >>> t = pd.DataFrame({"lab": ["x", "x"], "group": ["Responder", "Control"], "p": [0.01, 0.5]})
    >>> beside_t_tests(a, t).columns.tolist()[-2:]
    ['p_t_Responder', 'p_t_Control']
    """
    _check_frame(ancova_table, "ancova_table", ["lab", "contrast", "estimate", "p", "p_holm"])
    keep = [c for c in ("lab", "label", "contrast", "estimate", "ci_low", "ci_high", "p", "p_holm")
            if c in ancova_table.columns]
    out = ancova_table[keep].rename(columns={"p": "p_ancova"})
    if lab_tests is not None and {"lab", "group", "p"} <= set(lab_tests.columns) and len(lab_tests):
        order = list(dict.fromkeys(lab_tests["group"]))
        if (lab_tests["p"].dtype == np.float64 and lab_tests["lab"].notna().all() and lab_tests["group"].notna().all()
                and out["lab"].notna().all() and not any(f"p_t_{g}" in out.columns for g in order)):
            # what the pivot and merge below give, by a dict: each (lab, group)'s first p, NaN where none
            first_p: dict = {}
            for key in zip(lab_tests["lab"], lab_tests["group"], lab_tests["p"].to_numpy()):
                first_p.setdefault(key[:2], key[2])
            out = out.reset_index(drop=True)
            for g in order:
                out[f"p_t_{g}"] = np.array([first_p.get((lab, g), np.nan) for lab in out["lab"]], dtype=float)
            return out
        wide = lab_tests.drop_duplicates(["lab", "group"]).pivot(index="lab", columns="group", values="p")
        wide = wide.reindex(columns=order).add_prefix("p_t_").reset_index()
        wide.columns.name = None
        out = out.merge(wide, on="lab", how="left")
    return out
