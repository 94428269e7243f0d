"""The long layout: one row per patient, visit and measure (CDISC ADaM's basic data structure), read as the book's
wide table (one row per patient and visit).

A table given in the long layout is declared under ``long:`` in ``dataset.yaml``::

    long:                        # a table in the long layout: one row per patient, visit and measure
      visits:
        measure: PARAMCD         # the column naming the measure
        value: AVAL              # the column holding its value
        measures: {TJC28: tjc28, SJC28: sjc28, ESR: esr_mm_h, CRP: crp_mg_l, PTGA: patient_global_mm, IFNG: ifn_g}

``measure`` and ``value`` are the file's own column names (as ``columns:`` keys are: matched exactly, else in any
case, so SAS transport names such as ``PARAMCD`` work however the export cased them); ``measures`` maps each of the
file's measure codes to the data dictionary's name of the column it fills. The table's key columns (``patient_id``
and ``week`` for visits) are found as for any table: the dictionary's name, or a name of yours that ``columns:``
maps (``USUBJID: patient_id``, ``AVISITN: week``).

:func:`pivot_long` runs on reading, right after the file is read and before ``columns:``, ``units:`` and the data
contract's rules are applied, so every later rule (names, units, ranges, the schedule, the DAS28's components) sees
the wide table. Its rules:

- a code not listed under ``measures`` is ignored, and one warning lists the codes (with their row counts);
- a row whose measure code is empty but whose value is not is an error;
- a patient, visit and measure given twice is an error naming both rows;
- a column other than the key, the measure and the value is kept when it holds one value per patient and visit
  (``STUDYID``, ``AVISIT``, a visit date); one that varies within a visit (``PARAM``, ``AVALC``) cannot be one cell
  of the wide table and is not read (a note), after its name and cells pass the privacy rules
  (:func:`analysis.intake.pii.check`).

Each wide row is numbered by the file row that first holds its patient and visit, and each measure cell remembers
the file row it came from: :func:`relocate` turns a problem found in the wide table back into the file's row and
columns (``visits.xpt, row 57, column 'AVAL (PARAMCD CRP = crp_mg_l)'``).

Examples
--------
>>> from analysis.intake.grid import grid_to_frame
>>> from analysis.intake.problem import ProblemSink
>>> layouts = long_layouts({"long": {"visits": {"measure": "PARAMCD", "value": "AVAL",
...                                             "measures": {"TJC28": "tjc28", "CRP": "crp_mg_l"}}}})
>>> grid = pd.DataFrame([["patient_id", "week", "PARAMCD", "AVAL"], ["P1", "0", "TJC28", "12"],
...                      ["P1", "0", "CRP", "4.5"], ["P1", "12", "TJC28", "3"], ["P1", "12", "HAQ", "1"]])
>>> frame, _ = grid_to_frame(grid, "visits.csv")
>>> found = []
>>> wide, cells = pivot_long("visits", frame, layouts["visits"], ProblemSink("visits.csv", found))
>>> wide.astype(str).to_dict("index")
{2: {'patient_id': 'P1', 'week': '0', 'tjc28': '12', 'crp_mg_l': '4.5'}, 4: {'patient_id': 'P1', 'week': '12', 'tjc28': '3', 'crp_mg_l': ''}}
>>> print(found[0])
visits.csv, column 'PARAMCD': codes not listed under long.visits.measures in dataset.yaml, ignored: 'HAQ' (1 row) (warning)
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from analysis.intake import pii
from analysis.intake.dataset import DatasetError, DatasetSpec
from analysis.intake.dictionary import TABLES, columns, load_dictionary
from analysis.intake.problem import Problem, ProblemSink

__all__ = ["LongCells", "LongLayout", "long_layouts", "pivot_long", "relocate"]

_BLOCK_KEYS = ("measure", "value", "measures")
_SHOWN_CODES = 20  # unknown codes listed one by one in the warning


@dataclass(frozen=True)
class LongLayout:
    """One table's ``long:`` block of ``dataset.yaml``.

    Attributes
    ----------
    table : str
        The table (``"visits"``).
    measure, value : str
        The file's columns naming the measure and holding its value (``"PARAMCD"``, ``"AVAL"``).
    measures : dict
        The file's measure code -> the dictionary column it fills (``{"TJC28": "tjc28"}``).
    """

    table: str
    measure: str
    value: str
    measures: dict = field(default_factory=dict)

    def target(self, code: str) -> str | None:
        """The dictionary column of a measure code: matched exactly, else in any case; None when not listed.

        Examples
        --------
        >>> LongLayout("visits", "PARAMCD", "AVAL", {"TJC28": "tjc28"}).target("tjc28")
        'tjc28'
        """
        if code in self.measures:
            return self.measures[code]
        lower = {k.lower(): v for k, v in self.measures.items()}
        return lower.get(str(code).lower())


def _key_columns(table: str) -> list[str]:
    return list(load_dictionary()["tables"][table].get("key") or [])


def long_layouts(meta: Mapping[str, Any] | None) -> dict[str, LongLayout]:
    """Check and parse the ``long:`` block of a ``dataset.yaml``: ``{table: LongLayout}`` (``{}`` when absent).

    Parameters
    ----------
    meta : mapping or None
        The parsed ``dataset.yaml``.

    Returns
    -------
    dict

    Raises
    ------
    DatasetError
        The first broken rule, naming the key (``long.visits.measures.CRP``).

    Examples
    --------
    >>> long_layouts({"long": {"visits": {"measure": "PARAMCD", "value": "AVAL", "measures": {"CRP": "crp"}}}})
    Traceback (most recent call last):
    ...
    analysis.intake.dataset.DatasetError: dataset.yaml, long.visits.measures.CRP: 'crp' is not a column of the visits table in the data dictionary; did you mean 'crp_mg_l'?
    """
    block = (meta or {}).get("long")
    if block is None:
        return {}
    example = "visits: {measure: PARAMCD, value: AVAL, measures: {TJC28: tjc28}}"
    if not isinstance(block, Mapping):
        raise DatasetError("long", f"must map a table to its layout, such as '{example}', got {block!r}")
    out: dict[str, LongLayout] = {}
    for table, spec in block.items():
        table = str(table).strip()
        if table not in TABLES:
            raise DatasetError(f"long.{table}", f"'{table}' is not a table of the data contract; the tables: "
                                                + ", ".join(TABLES))
        if not _key_columns(table):
            raise DatasetError(f"long.{table}", f"the {table} table has one row per record and no key (patient, "
                                                "visit) to gather a record's measures on; the long layout applies "
                                                "to " + ", ".join(t for t in TABLES if _key_columns(t)))
        if not isinstance(spec, Mapping):
            raise DatasetError(f"long.{table}", "must hold 'measure:', 'value:' and 'measures:', such as "
                                                f"'{example.split(': ', 1)[1]}', got {spec!r}")
        unknown = [str(k) for k in spec if str(k) not in _BLOCK_KEYS]
        if unknown:
            raise DatasetError(f"long.{table}.{unknown[0]}", "not a key of a long: block; the keys are "
                                                             + ", ".join(_BLOCK_KEYS))
        names = {}
        for key in ("measure", "value"):
            name = spec.get(key)
            if not isinstance(name, str) or not name.strip():
                what, example = ("naming the measure", "PARAMCD") if key == "measure" else ("holding the value", "AVAL")
                raise DatasetError(f"long.{table}.{key}", f"must be the name of the file's column {what} (e.g. "
                                                          f"{example}), got {name!r}")
            names[key] = name.strip()
        if names["measure"].lower() == names["value"].lower():
            raise DatasetError(f"long.{table}.value", "must be another column than the measure's")
        out[table] = LongLayout(table, names["measure"], names["value"],
                                _measures_block(table, spec.get("measures")))
    return out


def _measures_block(table: str, block: Any) -> dict[str, str]:
    key = f"long.{table}.measures"
    if not isinstance(block, Mapping) or not block:
        raise DatasetError(key, "must map each of your measure codes to the data dictionary's column, such as "
                                f"'{{TJC28: tjc28, CRP: crp_mg_l}}', got {block!r}")
    keys = set(_key_columns(table))
    known = [c.name for c in columns(table) if c.name not in keys]
    out: dict[str, str] = {}
    for code, target in block.items():
        if isinstance(code, bool) or code is None:
            raise DatasetError(key, f"each key must be one of your measure codes, got {code!r} (quote codes such "
                                    "as 'Y' or 'no' in YAML)")
        code = str(int(code)) if isinstance(code, float) and code.is_integer() else str(code).strip()
        if target in keys:
            raise DatasetError(f"{key}.{code}", f"'{target}' is a key of the {table} table, not a measure; map "
                                                f"its column under columns: instead")
        if not isinstance(target, str) or target not in known:
            close = difflib.get_close_matches(str(target).lower(), known, n=1, cutoff=0.6)
            close = [n for n in known if n.startswith(str(target).lower())] or close
            hint = f"; did you mean '{close[0]}'?" if close else " (see the data-dictionary page for the names)"
            raise DatasetError(f"{key}.{code}", f"{target!r} is not a column of the {table} table in the data "
                                                f"dictionary{hint}")
        if code.lower() in {k.lower() for k in out}:
            raise DatasetError(f"{key}.{code}", "is listed twice (codes are matched in any case); keep one line")
        out[code] = target
    return out


@dataclass(frozen=True)
class LongCells:
    """Where each cell of a pivoted table came from (what :func:`relocate` needs).

    Attributes
    ----------
    layout : LongLayout
    cells : dict
        ``{dictionary column: {wide row: (file row, code)}}``.
    """

    layout: LongLayout
    cells: dict


def _find(names: list[str], wanted: str) -> str | None:
    if wanted in names:
        return wanted
    return next((n for n in names if n.lower() == wanted.lower()), None)


def _text(s: pd.Series) -> np.ndarray:
    return np.asarray(s.astype(object), dtype=object)


def pivot_long(table: str, df: pd.DataFrame, layout: LongLayout, out: ProblemSink, dspec: DatasetSpec | None = None,
               meta: Mapping | None = None) -> tuple[pd.DataFrame | None, LongCells | None]:
    """One table in the long layout as the wide table the rules expect; the rules of the layout go to ``out``.

    Parameters
    ----------
    table : str
        The table (a key of :func:`long_layouts`).
    df : pandas.DataFrame
        The file as read (:func:`analysis.intake.grid.grid_to_frame`: stripped strings indexed by file row), before
        ``dataset.yaml``'s names and units are applied.
    layout : LongLayout
    out : ProblemSink
        Collects the problems (errors, the warning on unknown codes, notes) of the table's file.
    dspec : DatasetSpec, optional
        Its ``columns:`` finds the key columns under the file's own names.
    meta : mapping, optional
        ``dataset.yaml`` (its ``safe_columns:``, for the privacy rules of the columns not read).

    Returns
    -------
    wide : pandas.DataFrame or None
        One row per patient and visit (per key), indexed by the file row first holding it; the key columns and the
        columns constant within a key under the file's names, one column per measure under the dictionary's name
        (empty where no row gives it). ``None`` when the file lacks a column the layout needs (an error says which).
    cells : LongCells or None
        Where each measure cell came from (for :func:`relocate`).
    """
    dspec = dspec or DatasetSpec()
    fname = out.fname
    where = f"long.{table}"
    names = [str(c) for c in df.columns]
    mcol, vcol = _find(names, layout.measure), _find(names, layout.value)
    rename = dspec.rename_for(names)
    keys = {k: next((c for c in names if rename.get(c, c) == k), None) for k in _key_columns(table)}
    lacking = [f"'{layout.measure}' ({where}.measure)" for c in [mcol] if c is None]
    lacking += [f"'{layout.value}' ({where}.value)" for c in [vcol] if c is None]
    lacking += [f"'{k}' (the dictionary's name, or yours mapped to it under columns:)" for k, c in keys.items()
                if c is None]
    if lacking:
        out.add(None, None, None, f"dataset.yaml reads this file in the long layout, which needs the column"
                                  f"{'s' if len(lacking) > 1 else ''} {' and '.join(lacking)}; the file has "
                                  + ", ".join(f"'{n}'" for n in names))
        return None, None
    rows = df.index.to_numpy()
    code = _text(df[mcol])
    value = _text(df[vcol])
    codes, distinct = pd.factorize(code)  # each distinct code looked up once
    target = np.array([None if c == "" else layout.target(c) for c in distinct] + [None], dtype=object)[codes]
    known = target != None  # noqa: E711 - elementwise
    # codes not listed: one warning; an empty code with a value: an error per row
    unknown = (code != "") & ~known
    if unknown.any():
        counts = pd.Series(code[unknown]).value_counts(sort=False)
        listed = ", ".join(f"'{c}' ({n:,} row{'' if n == 1 else 's'})" for c, n in list(counts.items())[:_SHOWN_CODES])
        more = f" and {len(counts) - _SHOWN_CODES} more codes" if len(counts) > _SHOWN_CODES else ""
        out.add(None, mcol, None, f"codes not listed under {where}.measures in dataset.yaml, ignored: {listed}{more}",
                "warning")
    out.mask(df[mcol], (code == "") & (value != ""), mcol,
             f"empty measure code beside the value in '{vcol}': each row must name its measure",
             "empty measure code beside a value")
    # the key of each row (a week as a number, so '12' and '12.0' are one visit) -> one wide row per key
    parts = {}
    for k, c in keys.items():
        text = _text(df[c])
        if k == "week":
            at, uniq = pd.factorize(text)
            num = pd.to_numeric(pd.Series(uniq, dtype=object), errors="coerce").to_numpy(dtype=float)
            text = np.array([t if np.isnan(x) else repr(float(x)) for t, x in zip(uniq, num)] + [""],
                            dtype=object)[at]
        parts[k] = text
    gid = pd.DataFrame(parts).groupby(list(parts), sort=False, dropna=False).ngroup().to_numpy()
    _, first = np.unique(gid, return_index=True)  # gids number the keys in order of first appearance
    wide_rows = rows[first]
    # a patient, visit and measure given twice
    both = pd.DataFrame({"g": gid[known], "t": target[known]}, index=df.index[known])
    dup = both.duplicated(keep="first").to_numpy()
    if dup.any():
        first_row = pd.Series(both.index, index=both.index).groupby([both["g"], both["t"]]).transform("first")
        key_text = {k: _text(df[c]) for k, c in keys.items()}
        pos = {r: i for i, r in enumerate(rows)}

        def twice(v, r) -> str:
            i = pos[r]
            what = ", ".join(f"{k} {key_text[k][i]}" for k in keys)
            return (f"{what}, measure {target[i]} given twice: rows {int(first_row[r])} and {r}; keep one row per "
                    f"{', '.join(keys)} and measure")

        out.mask(df.loc[known, mcol], dup, mcol, twice, "a key and measure given twice")
    # the other columns: kept when one value per key, else not read (after the privacy rules)
    measure_cols = list(dict.fromkeys(layout.measures.values()))
    wide: dict[str, Any] = {c: _text(df[c])[first] for c in keys.values()}
    varying = []
    for c in names:
        if c in (mcol, vcol) or c in keys.values():
            continue
        if rename.get(c, c) in measure_cols:
            out.add(None, c, None, f"the file has a column '{c}' and {where}.measures also reads "
                                   f"{rename.get(c, c)} from '{mcol}'; keep only one of them (this column is not read)")
            continue
        codes = df[c].cat.codes.to_numpy() if isinstance(df[c].dtype, pd.CategoricalDtype) else pd.factorize(df[c])[0]
        per = pd.DataFrame({"g": gid, "c": codes}).groupby("g")["c"].nunique().to_numpy()
        if (per > 1).any():
            varying.append(c)
        else:
            wide[c] = _text(df[c])[first]
    if varying:
        found = pii.check([], {table: (Path(fname), df[varying])}, dict(meta or {}))
        out.problems.extend(p for p in found if p.severity == "error")
        out.add(None, ", ".join(varying), None,
                f"not read: {'these columns vary' if len(varying) > 1 else 'this column varies'} between the rows of "
                f"one {' and '.join(keys)} (the long layout reads one value per {', '.join(keys)} and measure, "
                f"from '{vcol}')", "note")
    cells: dict[str, dict] = {}
    keep = known.copy()
    keep[np.flatnonzero(known)[dup]] = False  # the first of two rows is read
    for t in measure_cols:
        sel = keep & (target == t)
        col = np.full(len(first), "", dtype=object)
        col[gid[sel]] = value[sel]
        wide[t] = col
        cells[t] = {int(wide_rows[g]): (int(r), c) for g, r, c in zip(gid[sel], rows[sel], code[sel])}
    index = pd.Index(wide_rows, name="row")
    frame = pd.DataFrame({c: pd.Series(pd.Categorical(v), index=index) for c, v in wide.items()}, index=index)
    out.add(None, None, None, f"read in the long layout ({where} in dataset.yaml): {int(known.sum()):,} rows of "
                              f"{len(measure_cols)} measures from '{mcol}' and '{vcol}' -> {len(frame):,} rows of "
                              f"one {' and '.join(keys)}", "note")
    return frame, LongCells(layout, cells)


def relocate(problems: list[Problem], cells: LongCells | None) -> list[Problem]:
    """Problems found in a pivoted table, pointing at the file's row and columns where a measure cell is named.

    A problem on a measure cell of a wide row names the file row the value came from and the columns holding it
    (``AVAL (PARAMCD CRP = crp_mg_l)``); a problem on a measure no row gave names the visit's first row and says
    so. Other problems already name a file row (the first holding the key).

    Examples
    --------
    >>> c = LongCells(LongLayout("visits", "PARAMCD", "AVAL", {"CRP": "crp_mg_l"}), {"crp_mg_l": {2: (7, "CRP")}})
    >>> print(relocate([Problem("visits.csv", 2, "crp_mg_l", "-1", "must be at least 0")], c)[0])
    visits.csv, row 7, column 'AVAL (PARAMCD CRP = crp_mg_l)', value '-1': must be at least 0
    """
    if cells is None:
        return problems
    lay = cells.layout
    out = []
    for p in problems:
        got = cells.cells.get(p.column)
        if got is not None and p.row is not None:
            if p.row in got:
                row, code = got[p.row]
                p = Problem(p.file, row, f"{lay.value} ({lay.measure} {code} = {p.column})", p.value, p.rule,
                            p.severity, p.count)
            else:
                p = Problem(p.file, p.row, f"{p.column} (no '{lay.measure}' row of this visit gives it)", p.value,
                            p.rule, p.severity, p.count)
        out.append(p)
    return out
