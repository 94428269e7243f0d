"""Reshaping the visit table for many columns at once: one pivot instead of one per column.

The claims' value pickers (:func:`analysis.claims.rules.paired_changes`, :func:`analysis.claims.rules.values_at`)
select the rows of one column at a time. A chapter that judges a dozen markers builds the per-patient table
once (:func:`visit_wide`) and reads each column's changes from it (:func:`paired_change`), or takes every
column's values at one visit with one row selection (:func:`baseline_values`); the results are the same
arrays (tested in ``tests/test_safety_fast.py``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["baseline_values", "change_reader", "paired_change", "paired_change_many", "rows_by", "visit_wide"]


def visit_wide(visits: pd.DataFrame, columns, *, weeks=None, group: str | None = None) -> pd.DataFrame:
    """Values of ``columns`` per patient and visit: one row per patient, one column per (column, week).

    The table :func:`analysis.claims.rules.paired_changes` pivots for one column, built once for many columns
    so that a chapter's paired changes cost one pivot instead of one each (see :func:`paired_change`).

    Parameters
    ----------
    visits : DataFrame
        ``derived.visits`` (``patient_id``, ``week``, ``group`` and ``columns``).
    columns : str or list of str
        Visit columns (made numeric; anything else becomes NaN).
    weeks : sequence of int, optional
        Keep only these visits (default all).
    group : str, optional
        Keep only the rows of this group (default all rows).

    Returns
    -------
    DataFrame
        Index ``patient_id`` (sorted), columns ``(column, week)``; NaN where a patient has no value. A
        patient with two rows for one visit keeps the first non-missing value (as the pivot does).

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["b", "b", "a", "a", "c"], "week": [0, 4, 0, 4, 0],
    ...                   "group": ["R"] * 5, "x": [2.0, 2.5, 1.0, 3.0, 1.0]})
    >>> w = visit_wide(v, ["x"], weeks=[0, 4])
    >>> w.columns.tolist(), w.index.tolist()
    ([('x', 0), ('x', 4)], ['a', 'b', 'c'])
    >>> w.to_numpy().tolist()
    [[1.0, 3.0], [2.0, 2.5], [1.0, nan]]
    """
    columns = [columns] if isinstance(columns, str) else list(dict.fromkeys(columns))
    pid, week = visits["patient_id"], visits["week"]
    if all(visits[c].dtype == np.float64 for c in columns):
        # float columns (as derive makes them): the rows by a numpy mask and the columns as arrays, without
        # selecting a frame (the same values as the general path below)
        keep = np.ones(len(visits), dtype=bool)
        if weeks is not None:
            keep &= week.isin(list(weeks)).to_numpy(dtype=bool)
        if group is not None:
            keep &= visits["group"].eq(group).to_numpy(dtype=bool, na_value=False)
        at = np.flatnonzero(keep)
        # arrays of the columns' own types (numpy, or pandas' for a nullable type), as the index's dtypes
        pid_at, week_at = (c.to_numpy()[at] if isinstance(c.dtype, np.dtype) else c.array[at] for c in (pid, week))
        if not (pd.isna(pid_at).any() or pd.isna(week_at).any()):
            return _pivot_first(pid_at, week_at, {c: visits[c].to_numpy()[at] for c in columns}, columns)
    keep = pd.Series(True, index=visits.index)
    if weeks is not None:
        keep &= visits["week"].isin(list(weeks))
    if group is not None:
        keep &= visits["group"].eq(group)
    rows = visits.loc[keep, list(dict.fromkeys(["patient_id", "week", *columns]))]  # the columns used only
    numeric = {c: pd.to_numeric(rows[c], errors="coerce") for c in columns}
    pid, week = rows["patient_id"], rows["week"]
    if all(v.dtype == np.float64 for v in numeric.values()) and pid.notna().all() and week.notna().all():
        return _pivot_first(pid, week, {c: v.to_numpy() for c, v in numeric.items()}, columns)
    values = pd.DataFrame({"patient_id": pid, "week": week, **numeric})
    return values.groupby(["patient_id", "week"])[columns].first().unstack("week")


def _pivot_first(pid, week, values: dict, columns: list) -> pd.DataFrame:
    """The pivot of :func:`visit_wide` by numpy: each (patient, week) cell takes the column's first non-missing
    value, as ``groupby(...).first().unstack()`` does (patients and weeks sorted; equal tables, tested)."""
    p_codes, patients = pd.factorize(pid, sort=True)
    w_codes, weeks_ = pd.factorize(week, sort=True)
    cell = p_codes.astype(np.int64) * len(weeks_) + w_codes
    blocks = []
    for c in columns:
        x = values[c]
        ok = np.flatnonzero(~np.isnan(x))
        cells, first = np.unique(cell[ok], return_index=True)
        block = np.full(len(patients) * len(weeks_), np.nan)
        block[cells] = x[ok[first]]
        blocks.append(block.reshape(len(patients), len(weeks_)))
    return pd.DataFrame(np.hstack(blocks) if blocks else np.empty((len(patients), 0)),
                        index=pd.Index(patients, name="patient_id"),
                        columns=_product_columns(columns, weeks_))


#: the column indexes :func:`_product_columns` made, by columns and weeks (a few per process)
_PRODUCTS: dict = {}


def _product_columns(columns: list, weeks) -> pd.MultiIndex:
    """``pd.MultiIndex.from_product([columns, weeks], names=[None, "week"])``, made once per columns and weeks
    (it costs more than the pivot; the chapters ask for the same few dozen times per cohort): a copy of the
    index made the first time, so a caller renaming its levels changes only its own."""
    key = (tuple((type(c), c) for c in columns), tuple(weeks.tolist()), str(weeks.dtype))
    found = _PRODUCTS.get(key)
    if found is None:
        if len(_PRODUCTS) >= 256:
            _PRODUCTS.clear()
        found = _PRODUCTS[key] = pd.MultiIndex.from_product([columns, weeks], names=[None, "week"])
    return found.copy()


def paired_change(wide: pd.DataFrame, column: str, *, after: int, before: int = 0) -> np.ndarray:
    """Per-patient ``column`` at ``after`` minus at ``before`` from a :func:`visit_wide` table.

    The same array as :func:`analysis.claims.rules.paired_changes` on the rows ``wide`` was built from:
    finite differences of the patients with both values, in patient order.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["a", "a", "b", "b", "c"], "week": [0, 4, 0, 4, 0],
    ...                   "x": [1.0, 3.0, 2.0, 2.5, 1.0]})
    >>> paired_change(visit_wide(v, "x"), "x", after=4).tolist()
    [2.0, 0.5]
    """
    return paired_change_many(wide, [column], after=after, before=before)[column]


def paired_change_many(wide: pd.DataFrame, columns, *, after: int, before: int = 0) -> dict[str, np.ndarray]:
    """:func:`paired_change` of each of ``columns``, reading the table's values once for all of them.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["a", "a", "b", "b"], "week": [0, 4, 0, 4],
    ...                   "x": [1.0, 3.0, 2.0, 2.5], "y": [1.0, 1.0, 5.0, 4.0]})
    >>> {k: d.tolist() for k, d in paired_change_many(visit_wide(v, ["x", "y"]), ["x", "y"], after=4).items()}
    {'x': [2.0, 0.5], 'y': [0.0, -1.0]}
    """
    change = change_reader(wide)
    return {column: change(column, after=after, before=before) for column in columns}


def change_reader(wide: pd.DataFrame):
    """A function ``change(column, *, after, before=0)`` giving :func:`paired_change` ``(wide, column, ...)``, for
    a chapter that reads many columns and visit pairs of one :func:`visit_wide` table: the table's values are read
    once (as one float array when every column is float, as :func:`visit_wide` makes them).

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["a", "a", "a", "b", "b"], "week": [0, 4, 8, 0, 4],
    ...                   "x": [1.0, 3.0, 2.0, 2.0, 2.5]})
    >>> change = change_reader(visit_wide(v, "x"))
    >>> change("x", after=4).tolist(), change("x", after=8, before=4).tolist(), change("y", after=4).tolist()
    ([2.0, 0.5], [-1.0], [])
    """
    values = wide.to_numpy(float) if all(t == np.float64 for t in wide.dtypes) else None

    def change(column: str, *, after: int, before: int = 0) -> np.ndarray:
        try:
            i, j = wide.columns.get_loc((column, after)), wide.columns.get_loc((column, before))
        except (LookupError, TypeError, ValueError):  # what `(column, week) in wide.columns` says no to
            return np.array([], dtype=float)
        if isinstance(i, int) and isinstance(j, int) and values is not None:
            d = values[:, i] - values[:, j]  # float columns: the two columns as arrays, not two aligned Series
        else:
            d = (wide[(column, after)] - wide[(column, before)]).to_numpy(float)
        return d[np.isfinite(d)]

    return change


def baseline_values(visits: pd.DataFrame, columns, *, week: int = 0,
                    group: str | None = None) -> dict[str, np.ndarray]:
    """Finite values of each of ``columns`` at ``week`` (optionally in one group), in row order.

    :func:`analysis.claims.rules.values_at` for several columns with one row selection.

    Examples
    --------
    >>> v = pd.DataFrame({"week": [0, 0, 4], "group": ["R", "C", "R"], "x": [1.0, 2.0, 3.0], "y": [np.nan, 5.0, 6.0]})
    >>> {k: a.tolist() for k, a in baseline_values(v, ["x", "y"], group="R").items()}
    {'x': [1.0], 'y': []}
    """
    columns = [columns] if isinstance(columns, str) else list(dict.fromkeys(columns))
    keep = visits["week"].eq(week)
    if group is not None:
        keep &= visits["group"].eq(group)
    at = np.flatnonzero(keep.to_numpy(dtype=bool))  # the rows (positions), the columns one by one
    out = {}
    for c in columns:
        col = visits[c]
        x = (col.to_numpy()[at] if col.dtype == np.float64
             else pd.to_numeric(col.iloc[at], errors="coerce").to_numpy(float))
        out[c] = x[np.isfinite(x)]
    return out


def rows_by(table: pd.DataFrame, key) -> dict:
    """``table``'s rows as ``{column: value}`` dicts, by the value of column ``key``.

    A page or a rule that reads a few cells of a small summary table looks them up here instead of through
    ``set_index(...).loc[...]`` (which builds an index and a row Series per lookup).

    Parameters
    ----------
    table : DataFrame
    key : str or list of str
        The column whose value names a row, or a list of columns (the key is then the tuple of their values).
        When two rows share a key, the last one is kept.

    Returns
    -------
    dict

    Examples
    --------
    >>> t = pd.DataFrame({"score": ["a", "b"], "auc": [0.6, 0.8]})
    >>> rows_by(t, "score")["b"]["auc"]
    np.float64(0.8)
    >>> list(rows_by(t, ["score", "auc"]))
    [('a', np.float64(0.6)), ('b', np.float64(0.8))]
    """
    columns = {c: table[c].to_numpy() for c in table.columns}
    keys = zip(*(columns[k] for k in key)) if isinstance(key, list) else columns[key]
    return {k: {c: v[i] for c, v in columns.items()} for i, k in enumerate(keys)}
