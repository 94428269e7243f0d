"""Check a data folder against the data contract and report every problem at once.

The rules come from ``data_dictionary.yaml`` (through :mod:`analysis.intake.dictionary`): required columns,
types, ranges, allowed values, grids, assay limits, keys, plus cross-table rules (every visit and
adverse event belongs to a known patient, every patient has a baseline visit, both arms are present).
Each problem names the file, the row as a spreadsheet shows it (header = row 1), the column, the
offending value and the rule broken. Files are only ever opened for reading.

The folder's ``dataset.yaml`` (:mod:`analysis.intake.dataset`) is read first. Its ``columns:``, ``units:`` and
``arms:`` are applied to every table as it is read (names, units and arm labels become the dictionary's)
and its ``design:`` sets the visit weeks and the last adverse-event week, so the checks and everything
after them see one contract. A problem in a renamed column names both names (``'CRP (crp_mg_l)'``); a
problem in a converted column shows the value as recorded and as converted. A broken ``dataset.yaml``
is the only problem reported until it is fixed.

Tables may be ``.csv`` (UTF-8), ``.xlsx``, SPSS ``.sav``/``.zsav``, Stata ``.dta`` or SAS ``.sas7bdat``/``.xpt``
(:mod:`analysis.intake.readers`); one file per table.

The checks are vectorised (one pandas operation per column and rule), so a million-row visits file
validates in seconds; at most :data:`MAX_ROWS_PER_RULE` rows are listed per (file, column, rule) and
the rest are summarised in one line that carries their count.
"""
from __future__ import annotations

import codecs
import difflib
import io as _io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import yaml

from analysis.intake import units as _units
from analysis.intake.dataset import DatasetError, DatasetSpec, dataset_spec
from analysis.core.design import Design
from analysis.intake.dictionary import TABLES, Column, columns, load_dictionary, required_one_of
from analysis.intake.readers import STAT_FORMATS, read_stat_file

__all__ = ["MAX_ROWS_PER_RULE", "Problem", "format_problems", "validate_folder"]

#: Rows listed one by one per (file, column, rule); further rows are summarised in one problem.
MAX_ROWS_PER_RULE = 100
_VALUE_WIDTH = 40
_SUFFIXES = (".csv", ".xlsx", *STAT_FORMATS)
_FORMATS_TEXT = ".csv (UTF-8), .xlsx, .sav, .dta, .sas7bdat or .xpt"
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")
_NAN_CODES = {"nan", "-nan", "+nan", "na", "n/a", "null", "none", "#n/a", "nd"}
_DAS28 = ("tjc28", "sjc28", "esr_mm_h", "patient_global_mm")
_DAS28_LABS = ("esr_mm_h", "crp_mg_l")  # the DAS28's laboratory term: ESR if the folder has it, else CRP


@dataclass(frozen=True)
class Problem:
    """One broken rule in one place of a data folder.

    Parameters
    ----------
    file : str
        File name, e.g. ``"visits.csv"`` (the folder itself for folder-level problems).
    row : int or None
        Row number as a spreadsheet shows it (header = 1, first data row = 2); ``None`` for
        file- or column-level problems.
    column : str or None
        Column name, if the problem belongs to one.
    value : str or None
        The offending value as text, truncated to about 40 characters.
    rule : str
        The rule broken, in plain words.
    severity : str
        ``"error"`` (the data cannot be used) or ``"warning"`` (noted, data still usable).
    count : int
        How many cells this line stands for (1, or more for a summary line of repeated problems).

    Examples
    --------
    >>> print(Problem("visits.csv", 14, "haq_di", "1.3", "must be a multiple of 0.125 between 0 and 3"))
    visits.csv, row 14, column 'haq_di', value '1.3': must be a multiple of 0.125 between 0 and 3
    >>> print(Problem("visits.csv", None, "foo", None, "unknown column, ignored", severity="warning"))
    visits.csv, column 'foo': unknown column, ignored (warning)
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    severity: str = "error"
    count: int = 1

    def __str__(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        if self.value is not None:
            parts.append(f"value '{self.value}'")
        text = f"{', '.join(parts)}: {self.rule}"
        return text + " (warning)" if self.severity == "warning" else text


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------
def format_problems(problems, limit: int = 50, *, folder=None) -> str:
    """Turn a problem list into one readable report: a header line, then one line per problem.

    Parameters
    ----------
    problems : list of Problem
        As returned by :func:`validate_folder`.
    limit : int
        Show at most this many lines; the rest are counted in a final ``... and N more problems`` line.
    folder : str or Path, optional
        Data folder named in the header line.

    Returns
    -------
    str
        Errors first, then warnings, each in the order found.

    Examples
    --------
    >>> ps = [Problem("patients.csv", 3, "age", "abc", "must be a whole number"),
    ...       Problem("visits.csv", None, "foo", None, "unknown column, ignored", severity="warning")]
    >>> print(format_problems(ps, folder="my_cohort"))
    Data folder 'my_cohort' breaks the data contract: 1 error, 1 warning.
      - patients.csv, row 3, column 'age', value 'abc': must be a whole number
      - visits.csv, column 'foo': unknown column, ignored (warning)
    >>> print(format_problems([], folder="my_cohort"))
    Data folder 'my_cohort': no problems found.
    """
    if not isinstance(limit, int) or limit < 0:
        raise ValueError(f"`limit` must be a non-negative integer, got {limit!r}")
    problems = list(problems)
    where = f"Data folder '{folder}'" if folder is not None else "The data folder"
    n_err = sum(p.count for p in problems if p.severity == "error")
    n_warn = sum(p.count for p in problems if p.severity != "error")
    if not problems:
        return f"{where}: no problems found."
    counts = f"{_plural(n_err, 'error')}, {_plural(n_warn, 'warning')}"
    head = f"{where} breaks the data contract: {counts}." if n_err else f"{where} passes with {_plural(n_warn, 'warning')}."
    ordered = sorted(problems, key=lambda p: p.severity != "error")  # stable: errors first
    lines = [head] + [f"  - {p}" for p in ordered[:limit]]
    rest = ordered[limit:]
    if rest:
        groups: dict[str, int] = {}
        for p in rest:
            key = f"{p.file}" + (f" '{p.column}'" if p.column else "")
            groups[key] = groups.get(key, 0) + p.count
        top = sorted(groups.items(), key=lambda kv: -kv[1])
        shown = ", ".join(f"{k}: {v:,}" for k, v in top[:5]) + (", ..." if len(top) > 5 else "")
        lines.append(f"  ... and {sum(p.count for p in rest):,} more problems (same kinds of rules; {shown})")
    return "\n".join(lines)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


# ----------------------------------------------------------------------------------------------
# Locating and reading files (shared with analysis.intake.io)
# ----------------------------------------------------------------------------------------------
def _locate(data_dir: Path, table: str) -> tuple[Path | None, list[Problem]]:
    """The file holding ``table`` in ``data_dir`` (any suffix of ``_SUFFIXES``), or None with the problems."""
    entries = [p for p in data_dir.iterdir() if p.is_file()]
    found = [p for p in entries if p.stem.lower() == table and p.suffix.lower() in _SUFFIXES]
    if len(found) == 1:
        return found[0], []
    if len(found) > 1:
        names = " and ".join(sorted(p.name for p in found))
        return None, [Problem(names, None, None, None,
                              f"ambiguous: both {names} exist for the table '{table}'; keep only one of them")]
    from analysis.intake.sniff import missing_file  # exports (issue 20): a folder/link/visits.csv.txt named like the table
    diagnosis = missing_file(data_dir, table)
    if diagnosis is not None:
        return None, [diagnosis]
    others = sorted(p.name for p in entries if p.stem.lower() == table)
    hint = (f" (found {', '.join(others)}: save it as {_FORMATS_TEXT})" if others else "")
    return None, [Problem(f"{table}.csv", None, None, None,
                          f"missing file: the table '{table}' must be in {table}.csv, {table}.xlsx, {table}.sav, "
                          f"{table}.dta, {table}.sas7bdat or {table}.xpt{hint}")]


def _read(path: Path, table: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read one table as stripped strings, indexed by spreadsheet row number, or None with the problems."""
    fname = path.name
    if path.stat().st_size == 0:
        return None, [Problem(fname, None, None, None,
                              "the file is empty (0 bytes); it needs at least the header row")]
    from analysis.intake.sniff import check_file  # exports (issue 20): what the bytes really are, before parsing
    early = check_file(path, table)
    if early:
        return None, early
    if path.suffix.lower() == ".xlsx":
        grid, problems = _read_xlsx(path, table)
    elif path.suffix.lower() in STAT_FORMATS:
        grid, problems = read_stat_file(path)
    else:
        grid, problems = _read_csv(path)
    if grid is None:
        return None, problems
    labels = grid.attrs.get("value_labels") or {}
    body, problems = _grid_to_frame(grid, fname)
    if body is not None and labels:
        body.attrs["value_labels"] = {k: v for k, v in labels.items() if k in body.columns}
    return body, problems


def _read_csv(path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    from analysis.intake.sniff import read_csv  # exports (issue 20): chunked (bounded memory), separator/decimal, junk

    return read_csv(path)


def _read_xlsx(path: Path, table: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    fname = path.name
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            names = list(book.sheet_names)
            match = [n for n in names if str(n).strip().lower() == table]
            if match:
                sheet = match[0]
            elif len(names) == 1:
                sheet = names[0]
            else:
                listed = ", ".join(f"'{n}'" for n in names)
                return None, [Problem(fname, None, None, None,
                                      f"the workbook has {len(names)} sheets ({listed}) and none is named "
                                      f"'{table}'; name the sheet holding the table '{table}' or keep only that sheet")]
            grid = book.parse(sheet, header=None, dtype=str, na_filter=False)
    except Exception as err:  # noqa: BLE001 - any unreadable workbook is a reported problem
        return None, [Problem(fname, None, None, None,
                              f"cannot be opened as an Excel .xlsx workbook ({type(err).__name__}: {err})")]
    if grid.shape[0] == 0:
        return None, [Problem(fname, None, None, None, f"the sheet '{sheet}' is empty; it needs at least the header row")]
    return grid, []


def _grid_to_frame(grid: pd.DataFrame, fname: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """First grid row -> header; the rest -> stripped strings indexed by spreadsheet row number.

    Columns are returned as pandas Categoricals of stripped strings (empty cell = ``""``): every check
    then runs once per distinct value and is mapped back to the rows through the category codes.
    """
    problems: list[Problem] = []
    header = ["" if pd.isna(h) else str(h).replace("\ufeff", "").strip() for h in grid.iloc[0]]
    # Wrong delimiter: everything landed in one column.
    if len(header) == 1:
        for sep, word in ((";", "semicolon ';'"), ("\t", "tab")):
            if sep in header[0]:
                return None, [Problem(fname, 1, None, _short(header[0]),
                                      f"the header is a single column containing a {word}: the file seems to use "
                                      f"the {word} as delimiter; save it comma-separated (CSV UTF-8)")]
    index = pd.RangeIndex(2, 1 + len(grid), name="row")
    cols = [_stripped_categorical(grid.iloc[1:, i]) for i in range(grid.shape[1])]
    # Columns without a header: drop if empty, else a problem.
    keep = []
    for i, name in enumerate(header):
        if name == "":
            if (cols[i] != "").any():
                problems.append(Problem(fname, 1, None, None,
                                        f"column number {i + 1} has values but no header; give it a name from the "
                                        "data dictionary or delete it"))
            continue
        keep.append(i)
    # Duplicate column names: report, keep the first.
    seen: dict[str, list[int]] = {}
    for i in keep:
        seen.setdefault(header[i], []).append(i)
    for name, idx in seen.items():
        if len(idx) > 1:
            where = ", ".join(str(i + 1) for i in idx)
            problems.append(Problem(fname, None, name, None,
                                    f"duplicate column name: '{name}' appears {len(idx)} times (column numbers "
                                    f"{where}); each column must appear once"))
    body = pd.DataFrame({name: pd.Series(cols[idx[0]], index=index, copy=False) for name, idx in seen.items()},
                        index=index)
    # Fully blank rows (e.g. trailing empty lines) are ignored; row numbers stay as in the file.
    if body.shape[1]:
        blank = np.ones(len(body), dtype=bool)
        for name in body.columns:
            blank &= np.asarray(body[name] == "")
        if blank.any():
            body = body[~blank]
    return body, problems


def _stripped_categorical(col: pd.Series) -> pd.Categorical:
    """A column as a Categorical of stripped strings; missing cells (short rows) become ``""``."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes, cats = col.cat.codes.to_numpy(), col.cat.categories
    else:
        codes, cats = pd.factorize(col, use_na_sentinel=True)
    texts = [str(c).strip() for c in cats] + [""]  # last: for missing cells (code -1)
    codes = np.where(codes < 0, len(texts) - 1, codes)
    new_codes, uniq = pd.factorize(pd.Index(texts, dtype=object))
    return pd.Categorical.from_codes(new_codes[codes], categories=pd.Index(uniq, dtype=object))


def _per_value(s: pd.Series, func: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply a vectorised ``func`` once per distinct value of a (categorical) Series, mapped back to rows."""
    if not isinstance(s.dtype, pd.CategoricalDtype):
        return func(s)
    res = func(pd.Series(s.cat.categories, dtype=object))
    return pd.Series(res.to_numpy()[s.cat.codes.to_numpy()], index=s.index).astype(res.dtype)


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"


def _read_meta(data_dir: Path) -> tuple[dict, list[Problem]]:
    """``dataset.yaml`` of the folder as a dict (``{}`` if absent), with any problems."""
    path = data_dir / "dataset.yaml"
    if not path.is_file():
        return {}, []
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8-sig")
        meta = yaml.safe_load(text)
    except UnicodeDecodeError:
        return {}, [Problem(path.name, None, None, None, "the file is not valid UTF-8; re-save it as UTF-8")]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        what = getattr(err, "problem", None) or str(err).splitlines()[0]
        return {}, [Problem(path.name, row, None, None,
                            f"not valid YAML ({what}); write one 'key: value' per line, e.g. 'synthetic: true'")]
    if meta is None:
        return {}, []
    if not isinstance(meta, dict):
        return {}, [Problem(path.name, None, None, None,
                            f"must hold 'key: value' lines (a mapping), got a {type(meta).__name__}")]
    return meta, []


# ----------------------------------------------------------------------------------------------
# Collecting problems from boolean masks (vectorised)
# ----------------------------------------------------------------------------------------------
class _Out:
    """Problem sink for one file: lists the first rows of each mask, summarises the rest."""

    def __init__(self, fname: str, problems: list[Problem]):
        self.fname = fname
        self.problems = problems

    def add(self, row, column, value, rule, severity="error"):
        self.problems.append(Problem(self.fname, row, column, None if value is None else _short(value),
                                     rule, severity))

    def mask(self, values: pd.Series, mask, column: str | None, rule: str | Callable[[str, int], str],
             summary: str | None = None, severity: str = "error"):
        m = mask if isinstance(mask, np.ndarray) else np.asarray(pd.Series(mask).fillna(False), dtype=bool)
        n = int(m.sum())
        if n == 0:
            return
        rows = values.index[m]
        shown = rows[:MAX_ROWS_PER_RULE]
        for r, v in zip(shown, values.loc[shown]):
            self.add(int(r), column, v, rule(v, int(r)) if callable(rule) else rule, severity)
        if n > len(shown):
            text = summary or (rule if isinstance(rule, str) else "same problem")
            self.problems.append(Problem(
                self.fname, None, column, None,
                f"{text}: also in {n - len(shown):,} more rows (rows {int(rows[len(shown)])} to {int(rows[-1])})",
                severity, count=n - len(shown)))


class _Expand:
    """Adapter: masks computed on the distinct values of a column are reported on its rows."""

    def __init__(self, out: _Out, s: pd.Series):
        self.out, self.s, self.codes = out, s, s.cat.codes.to_numpy()

    def mask(self, values, mask, column, rule, summary=None, severity="error"):
        m = mask if isinstance(mask, np.ndarray) else np.asarray(pd.Series(mask).fillna(False), dtype=bool)
        if m.any():
            self.out.mask(self.s, m[self.codes], column, rule, summary, severity)


# ----------------------------------------------------------------------------------------------
# Per-column rules
# ----------------------------------------------------------------------------------------------
def _g(x) -> str:
    return f"{x:g}"


def _range_text(c: Column) -> str:
    if c.min is not None and c.max is not None:
        return f"between {_g(c.min)} and {_g(c.max)}"
    if c.min is not None:
        return f"at least {_g(c.min)}"
    return f"at most {_g(c.max)}"


def _did_you_mean(value: str, allowed: list[str]) -> str:
    for a in allowed:
        if value.lower() == a.lower():
            return f"; did you mean '{a}'? (values are case-sensitive)"
    close = difflib.get_close_matches(value.lower(), [a.lower() for a in allowed], n=1, cutoff=0.6)
    if close:
        a = next(a for a in allowed if a.lower() == close[0])
        return f"; did you mean '{a}'?"
    return ""


def parse_numeric(s: pd.Series, c: Column) -> tuple[pd.Series, pd.Series]:
    """Numeric values of a string column and its censoring flags.

    Parameters
    ----------
    s : pandas.Series
        Stripped strings.
    c : Column
        The dictionary column (uses ``lloq``/``uloq``).

    Returns
    -------
    values : pandas.Series
        float64; NaN for empty, unparsable and censored cells.
    flags : pandas.Series
        ``"<LLOQ"``/``">ULOQ"`` where censored and accepted for this column, else ``<NA>`` (dtype string).

    Examples
    --------
    >>> from analysis.intake.dictionary import columns
    >>> il6 = next(c for c in columns("visits") if c.name == "il_6")
    >>> v, f = parse_numeric(pd.Series(["1.5", "<LLOQ", ""]), il6)
    >>> v.tolist()[0], f.tolist()[1]
    (1.5, '<LLOQ')
    """
    below, above = _tokens()

    def numbers(u: pd.Series) -> pd.Series:
        num = pd.to_numeric(u.where(~u.isin([below, above, ""])), errors="coerce").astype(float)
        return _correctly_rounded(u, num)

    def flags(u: pd.Series) -> pd.Series:
        f = pd.Series(pd.NA, index=u.index, dtype="string")
        if c.lloq is not None:
            f[u == below] = below
        if c.uloq is not None:
            f[u == above] = above
        return f

    return _per_value(s, numbers), _per_value(s, flags)


def _correctly_rounded(texts: pd.Series, num: pd.Series) -> pd.Series:
    """``num`` (pandas' fast parse of ``texts``) with each parsed value replaced by Python's correctly rounded one.

    pandas' parser may be one unit in the last place off for texts with 17 significant digits (a double
    written in full by SPSS, Stata or SAS); Python's ``float`` returns the nearest double. Only the cells
    pandas parsed are touched, so what counts as a number is unchanged.
    """
    ok = np.isfinite(num.to_numpy())
    if not ok.any():
        return num
    out = num.to_numpy().copy()
    for i, t in zip(np.flatnonzero(ok), texts.to_numpy(dtype=object)[ok]):
        try:
            out[i] = float(t)
        except (TypeError, ValueError):
            pass
    return pd.Series(out, index=num.index, dtype=float)


@lru_cache(maxsize=1)
def _contract() -> dict:
    """The parsed data dictionary, read once per process (treat as read-only)."""
    return load_dictionary()


def _tokens() -> tuple[str, str]:
    tok = _contract().get("censor_tokens", {})
    return tok.get("below", "<LLOQ"), tok.get("above", ">ULOQ")


def parse_bool(s: pd.Series) -> pd.Series:
    """``true/false/1/0/yes/no`` (any case) as a nullable boolean Series; anything else -> ``<NA>``.

    Examples
    --------
    >>> parse_bool(pd.Series(["Yes", "0", "", "maybe"])).tolist()
    [True, False, <NA>, <NA>]
    """

    def convert(u: pd.Series) -> pd.Series:
        low = u.astype(str).str.lower()
        out = pd.Series(pd.NA, index=u.index, dtype="boolean")
        out[low.isin(_TRUE)] = True
        out[low.isin(_FALSE)] = False
        return out

    return _per_value(s, convert)


def _check_column(c: Column, s: pd.Series, out: _Out) -> None:
    # s holds the distinct values of the column (see _Expand); masks are numpy arrays for speed
    empty = s.to_numpy(dtype=object) == ""
    if not c.missing_ok:
        out.mask(s, empty, c.name, "empty cell: a value is required in this column")
    nonempty = ~empty
    if c.type == "category" and c.allowed is not None:
        allowed = [str(a) for a in c.allowed]
        listed = ", ".join(f"'{a}'" for a in allowed)
        more = (" (other labels: map them to these under arms: in dataset.yaml, e.g. 'placebo: control')"
                if c.table == "patients" and c.name == "arm" else
                f" (other labels: map them to these under values: in dataset.yaml, e.g. "
                f"'{c.name}: {{your label: {allowed[0]}}}')")
        out.mask(s, nonempty & ~s.isin(allowed).to_numpy(), c.name,
                 lambda v, r: f"must be one of {listed}{_did_you_mean(str(v), allowed)}{more}",
                 f"must be one of {listed}{more}")
    elif c.type == "bool":
        ok = s.astype(str).str.lower().isin(_TRUE + _FALSE).to_numpy()
        out.mask(s, nonempty & ~ok, c.name, "must be true or false (also accepted: 1/0, yes/no, any case)")
    elif c.type in ("int", "float"):
        _check_numeric(c, s, nonempty, out)


def _check_numeric(c: Column, s: pd.Series, nonempty: np.ndarray, out: _Out) -> None:
    below, above = _tokens()
    a = s.to_numpy(dtype=object)
    is_lt, is_gt = a == below, a == above
    if c.lloq is None:
        out.mask(s, is_lt, c.name, f"'{below}' is only accepted in columns with a lower limit of quantification "
                                   f"(lloq in the data dictionary); write a number")
    if c.uloq is None:
        out.mask(s, is_gt, c.name, f"'{above}' is only accepted in columns with an upper limit of quantification "
                                   f"(uloq in the data dictionary); write a number")
    rest = nonempty & ~is_lt & ~is_gt
    num = pd.to_numeric(s.where(rest), errors="coerce").to_numpy(dtype=float)
    kind = "a whole number" if c.type == "int" else "a number"
    unparsed = rest & np.isnan(num)
    nan_code = s.astype(str).str.lower().isin(_NAN_CODES).to_numpy() if unparsed.any() else unparsed
    out.mask(s, unparsed & nan_code, c.name,
             f"'NaN'/missing-value codes are not accepted; leave the cell empty for a missing value"
             + ("" if c.missing_ok else " (but this column needs a value)"))

    def not_number(v: str, row: int) -> str:
        hint = " (use '.' as the decimal separator)" if re.fullmatch(r"-?\d+,\d+", str(v)) else ""
        return f"must be {kind}{hint}"

    out.mask(s, unparsed & ~nan_code, c.name, not_number, f"must be {kind}")
    out.mask(s, rest & np.isinf(num), c.name, f"must be a finite number (infinity is not allowed)")
    ok = rest & np.isfinite(num)
    if c.type == "int":
        frac = ok & (num != np.floor(num))
        out.mask(s, frac, c.name, "must be a whole number (an integer)")
        ok = ok & ~frac
    is_week = c.name == "week"
    negative = ok & (num < 0) & ((c.min is not None and c.min >= 0) or c.allowed is not None)
    if is_week:
        out.mask(s, negative, c.name, "negative week: nothing can happen before randomisation "
                                      "(week 0 is the baseline visit, the day of infusion)")
    else:
        out.mask(s, negative, c.name, f"negative values are not allowed (must be {_range_text(c)})")
    ok = ok & ~negative
    from_design = c.extra.get("design", {})
    if c.allowed is not None:
        allowed = [float(a) for a in c.allowed]
        listed = ", ".join(_g(a) for a in allowed)
        what = "scheduled visit week of the design" if is_week else "allowed value"
        how = (" (another schedule? declare it in dataset.yaml under design: visit_weeks)"
               if from_design.get("allowed") == "visit_weeks" else "")
        bad = ok & ~np.isin(num, allowed)
        out.mask(s, bad, c.name, f"not a {what}; allowed: {listed}{how}")
        ok = ok & ~bad
    if c.min is not None or c.max is not None:
        lo = -np.inf if c.min is None else c.min
        hi = np.inf if c.max is None else c.max
        bad = ok & ((num < lo) | (num > hi))
        extra = f", steps of {_g(c.step)}" if c.step else ""
        if from_design.get("max") == "final_week":
            extra += " (up to the design's final week; declare another under design: final_week in dataset.yaml)"
        out.mask(s, bad, c.name, f"out of range: must be {_range_text(c)}{extra}")
        ok = ok & ~bad
    if c.step:
        ratio = num / c.step
        off = ok & (np.abs(ratio - np.round(ratio)) > 1e-9)
        out.mask(s, off, c.name, f"must be a multiple of {_g(c.step)} {_range_text(c)}")


# ----------------------------------------------------------------------------------------------
# Per-table and cross-table rules
# ----------------------------------------------------------------------------------------------
def _identifier_pattern(name: str) -> str | None:
    for pat in _contract().get("identifier_patterns", []):
        if re.fullmatch(pat, name, flags=re.IGNORECASE):
            return pat
    return None


def _check_table(table: str, df: pd.DataFrame, out: _Out, dspec: DatasetSpec | None = None) -> None:
    dspec = dspec or DatasetSpec()
    spec = {c.name: c for c in columns(table, dspec.design)}
    for name in df.columns:
        if name in spec:
            continue
        pat = _identifier_pattern(name)
        if pat is not None:
            out.add(None, name, None,
                    f"refused for privacy: the column name looks like a direct identifier (pattern '{pat}'); "
                    "delete this column - the book must never receive names, contact details, dates of birth or "
                    "hospital numbers (use the pseudonymous patient_id only)")
            continue
        close = difflib.get_close_matches(name.lower(), list(spec), n=1, cutoff=0.75)
        hint = (f"; did you mean '{close[0]}'?" if close else
                "; if it is one of the dictionary's columns under another name, map it under columns: in "
                "dataset.yaml")
        out.add(None, name, None, f"unknown column, ignored (not in the data dictionary){hint}", "warning")
    for name, c in spec.items():
        if c.required and name not in df.columns:
            out.add(None, name, None, f"missing required column '{name}' ({c.description})")
    for group in required_one_of(table):
        if not any(name in df.columns for name in group):
            listed = " or ".join(f"'{n}'" for n in group)
            out.add(None, ", ".join(group), None,
                    f"missing required column: {listed} (at least one is needed"
                    + (", for the DAS28)" if set(group) == set(_DAS28_LABS) else ")"))
    if len(df) == 0:
        if table != "adverse_events":
            out.add(None, None, None, "the file has a header but no data rows")
        return
    for name, c in spec.items():
        if name in df.columns:
            s = df[name]
            _check_column(c, pd.Series(s.cat.categories, dtype=object), _Expand(out, s))
    _check_keys(table, df, out)
    if table == "visits":
        components = _das28_components(df)
        if all(k in df.columns for k in components):
            _check_das28(df, out, components)
    _check_units(table, df, out, dspec)


def _das28_components(df: pd.DataFrame) -> tuple[str, ...]:
    """The DAS28's columns for this visits table: ESR when it has any ESR value, else CRP."""
    lab = next((k for k in _DAS28_LABS if k in df.columns and (df[k] != "").any()),
               next((k for k in _DAS28_LABS if k in df.columns), _DAS28_LABS[0]))
    return ("tjc28", "sjc28", lab, "patient_global_mm")


def _check_units(table: str, df: pd.DataFrame, out: _Out, dspec: DatasetSpec) -> None:
    """Warn where a column without a declared unit looks recorded in another unit (:func:`analysis.intake.units.unit_hint`)."""
    for name in df.columns:
        if name in dspec.units or name not in _units.PLAUSIBLE_MEDIAN:
            continue
        s = df[name]
        nums = _per_value(s, lambda u: pd.to_numeric(u, errors="coerce").astype(float)).to_numpy()
        hint = _units.unit_hint(name, nums)
        if hint is not None:
            out.add(None, name, None, hint, "warning")


def _key_frame(table: str, df: pd.DataFrame) -> pd.DataFrame | None:
    """Key columns in comparable form (week as number), or None if a key column is absent."""
    key = _contract()["tables"][table].get("key") or []
    if not key or any(k not in df.columns for k in key):
        return None
    parts = {}
    for k in key:
        s = df[k]
        if k == "week":
            parts[k] = _per_value(s, lambda u: pd.to_numeric(u, errors="coerce").astype(float))
        else:  # the category code identifies the value; empty -> NaN
            parts[k] = pd.Series(s.cat.codes.to_numpy(), index=s.index).where(s != "")
    return pd.DataFrame(parts, index=df.index)


def _check_keys(table: str, df: pd.DataFrame, out: _Out) -> None:
    keys = _key_frame(table, df)
    if keys is None:
        return
    complete = keys.notna().all(axis=1)
    k = keys[complete]
    if k.empty:
        return
    dup = k.duplicated(keep="first")
    if not dup.any():
        return
    first_row = pd.Series(k.index, index=k.index).groupby([k[c] for c in k.columns]).transform("first")
    what = "patient" if table == "patients" else "patient and week"
    out.mask(df.loc[k.index, "patient_id"], dup, "patient_id",
             lambda v, r: f"duplicate {what}: already on row {int(first_row[r])}", f"duplicate {what}")


def _check_das28(df: pd.DataFrame, out: _Out, components: tuple[str, ...] = _DAS28) -> None:
    present = pd.DataFrame({k: df[k] != "" for k in components})
    n = present.sum(axis=1)
    partial = (n > 0) & (n < len(components))
    if not partial.any():
        return
    # One rule text per presence pattern (at most 14 patterns), each summarised separately.
    codes = (present.astype(int) * [1, 2, 4, 8]).sum(axis=1)
    for code in sorted(codes[partial].unique()):
        has = [k for i, k in enumerate(components) if code & (1 << i)]
        missing = [k for k in components if k not in has]
        rule = f"DAS28 components incomplete: has {', '.join(has)}, missing {', '.join(missing)}"
        out.mask(df[missing[0]], partial & (codes == code), ", ".join(missing), rule)


def _check_cross(frames: dict[str, tuple[str, pd.DataFrame]], problems: list[Problem],
                 design: Design | None = None) -> None:
    """Rules between tables: known patients, baseline visits, both arms present, the design's key visits."""
    design = design or Design()
    if "visits" in frames:
        vname, vis = frames["visits"]
        if "week" in vis.columns and len(vis):
            weeks = set(_per_value(vis["week"], lambda u: pd.to_numeric(u, errors="coerce").astype(float)).dropna())
            for week, what in ((design.response_week, "response week (response_week)"),
                               (design.final_week, "final week (final_week)")):
                if float(week) not in weeks:
                    problems.append(Problem(vname, None, "week", None,
                                            f"no visit at all at week {week}, the design's {what}: analyses at "
                                            "that week will have no data", "warning"))
    if "patients" not in frames:
        return
    pname, pat = frames["patients"]
    if "patient_id" not in pat.columns or len(pat) == 0:
        return
    ids = pat["patient_id"]
    known = set(ids[ids != ""].unique())
    for table in ("visits", "adverse_events"):
        if table not in frames:
            continue
        fname, df = frames[table]
        if "patient_id" not in df.columns:
            continue
        s = df["patient_id"]
        what = "visit" if table == "visits" else "adverse event"
        _Out(fname, problems).mask(s, (s != "") & ~s.isin(known), "patient_id",
                                   lambda v, r: f"{what} for patient '{v}', who is not in {pname}",
                                   f"{what} for a patient who is not in {pname}")
    if "visits" in frames:
        vname, vis = frames["visits"]
        if {"patient_id", "week"} <= set(vis.columns) and len(vis):
            week = _per_value(vis["week"], lambda u: pd.to_numeric(u, errors="coerce").astype(float))
            base = set(vis.loc[week == 0, "patient_id"].unique())
            _Out(pname, problems).mask(ids, (ids != "") & ~ids.isin(base), "patient_id",
                                       f"this patient has no baseline visit (week 0) in {vname}")
    if "arm" in pat.columns:
        arm = next(c for c in columns("patients") if c.name == "arm")
        present = set(pat["arm"].unique())
        for a in arm.allowed or ():
            if str(a) not in present:
                listed = " and ".join(str(x) for x in arm.allowed)
                problems.append(Problem(pname, None, "arm", None,
                                        f"no patients at all in arm '{a}': both arms ({listed}) are needed"))


# ----------------------------------------------------------------------------------------------
# Entry points
# ----------------------------------------------------------------------------------------------
def _validate(data_dir) -> tuple[list[Problem], dict[str, tuple[Path, pd.DataFrame]], dict]:
    """Validate and also return what was read: ``{table: (path, frame)}`` and the metadata.

    The frames are the tables as the rest of the book sees them: columns renamed, units converted and
    arm labels mapped as ``dataset.yaml`` says.
    """
    problems: list[Problem] = []
    folder = Path(data_dir)
    if not folder.exists():
        return [Problem(str(folder), None, None, None, "the data folder does not exist")], {}, {}
    if not folder.is_dir():
        return [Problem(str(folder), None, None, None, "is not a folder (give the folder holding the tables)")], {}, {}
    from analysis.intake.sniff import folder_problems  # exports (issue 20): unreadable folder/dataset.yaml, CSV dialect
    fatal = folder_problems(folder)
    if fatal:
        return fatal, {}, {}
    meta, found = _read_meta(folder)
    if found:  # unreadable dataset.yaml: nothing else can be judged (design, names, units) until it is fixed
        return found, {}, meta
    try:
        dspec = dataset_spec(meta)
    except DatasetError as err:
        return [Problem("dataset.yaml", None, None, None, _where(folder, err.key) + f"{err.key}: {err.rule}")], {}, meta
    problems += _meta_key_warnings(folder, meta)
    read: dict[str, tuple[Path, pd.DataFrame]] = {}
    seen_names: set[str] = set()
    for table in TABLES:
        path, found = _locate(folder, table)
        problems += found
        if path is None:
            continue
        df, found = _read(path, table)
        problems += found
        if df is None:
            continue
        seen_names |= set(df.columns)
        mine: list[Problem] = []
        original = df = _apply_value_labels(table, df, dspec)
        df, renamed, converted = _apply_spec(table, df, dspec, _Out(path.name, mine))
        read[table] = (path, df)
        _check_table(table, df, _Out(path.name, mine), dspec)
        problems += _annotate(mine, renamed, converted, original)
    _check_cross({t: (p.name, df) for t, (p, df) in read.items()}, problems, dspec.design)
    for user in dspec.columns:
        if user not in seen_names and user.lower() not in {n.lower() for n in seen_names}:
            problems.append(Problem("dataset.yaml", None, None, None,
                                    _where(folder, f"columns.{user}")
                                    + f"columns.{user}: no table has a column '{user}'; this line is ignored",
                                    "warning"))
    from analysis.intake.hints import diagnose  # exports (issue 20): one leading diagnosis, knock-on errors dropped; PII
    problems = diagnose(problems, read, meta)
    return problems, read, meta


def _where(folder: Path, key: str) -> str:
    line = _meta_line(folder, key)
    return "" if line is None else f"line {line}, "


def _meta_key_warnings(folder: Path, meta: dict) -> list[Problem]:
    """Top-level keys of dataset.yaml that look like a misspelt design/columns/units/arms key (ignored otherwise)."""
    from analysis.intake.dataset import SPEC_KEYS
    from analysis.core.design import DESIGN_KEYS

    out = []
    for key in meta:
        if not isinstance(key, str) or key in SPEC_KEYS:
            continue
        if key in DESIGN_KEYS or difflib.get_close_matches(key, DESIGN_KEYS, n=1, cutoff=0.8):
            close = key if key in DESIGN_KEYS else difflib.get_close_matches(key, DESIGN_KEYS, n=1, cutoff=0.8)[0]
            hint = f"write it under design: ({close}: ...)"
        elif difflib.get_close_matches(key, SPEC_KEYS, n=1, cutoff=0.75):
            hint = f"did you mean '{difflib.get_close_matches(key, SPEC_KEYS, n=1, cutoff=0.75)[0]}:'?"
        else:
            continue
        out.append(Problem("dataset.yaml", None, None, None,
                           _where(folder, key) + f"{key}: not a key the book reads at the top level, ignored; {hint}",
                           "warning"))
    return out


def _meta_line(folder: Path, key: str) -> int | None:
    """Line of ``key`` (dotted: ``units.crp_mg_l``) in the folder's dataset.yaml, if it can be found."""
    try:
        node = yaml.compose((folder / "dataset.yaml").read_text("utf-8-sig"))
    except Exception:  # noqa: BLE001 - the line number is a courtesy
        return None
    line = None
    for part in key.split("."):
        if not isinstance(node, yaml.MappingNode):
            break
        match = next(((k, v) for k, v in node.value if str(k.value).strip() == part), None)
        if match is None:
            break
        line, node = match[0].start_mark.line + 1, match[1]
    return line


# ----------------------------------------------------------------------------------------------
# dataset.yaml applied while reading: names, arm labels, units
# ----------------------------------------------------------------------------------------------
def _apply_value_labels(table: str, df: pd.DataFrame, dspec: DatasetSpec) -> pd.DataFrame:
    """Codes -> labels (SPSS/Stata/SAS value labels), except in the dictionary's numeric columns.

    A numeric column keeps its codes (a ``week`` coded 12 with the label "Week 12" stays 12); every
    other column (``arm``, ``sex``, booleans, unknown columns) shows its labels, as the statistical
    package does. The column's dictionary name is the one ``columns:`` gives it.
    """
    labels = df.attrs.pop("value_labels", None) if df.attrs else None
    if not labels:
        return df
    types = {c.name: c.type for c in columns(table)}
    rename = dspec.rename_for(list(labels))
    changed = {}
    for name, sets in labels.items():
        if types.get(rename.get(name, name)) in ("int", "float"):
            continue
        changed[name] = _map_categories(df[name], lambda cats, sets=sets: cats.map(lambda v: sets.get(v, v)))
    out = df.assign(**changed) if changed else df
    out.attrs = {}
    return out


def _apply_spec(table: str, df: pd.DataFrame, dspec: DatasetSpec,
                out: _Out) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """Rename columns, map arm and category labels and convert units as ``dataset.yaml`` says.

    Returns the new frame, ``{dictionary name: file name}`` of renamed columns and ``{dictionary name:
    unit}`` of converted columns. Collisions (two file columns for one dictionary name) are problems;
    the file's own column wins.
    """
    renamed: dict[str, str] = {}
    converted: dict[str, str] = {}
    if dspec.columns:
        rename = dspec.rename_for(list(df.columns))
        keep: dict[str, str] = {}
        for name in df.columns:
            target = rename.get(name, name)
            if target != name and target in df.columns:
                out.add(None, name, None, f"dataset.yaml renames '{name}' to '{target}' (columns:), but the file "
                                          f"also has a column '{target}'; keep only one of them")
                continue
            if target in keep.values():
                first = next(k for k, v in keep.items() if v == target)
                out.add(None, name, None, f"dataset.yaml renames both '{first}' and '{name}' to '{target}' "
                                          "(columns:); keep only one of them")
                continue
            keep[name] = target
        df = df[list(keep)].rename(columns=keep)
        renamed = {t: n for n, t in keep.items() if t != n}
    if table == "patients" and dspec.arms and "arm" in df.columns:
        df = df.assign(arm=_map_categories(df["arm"], _label_mapper(dspec.arms)))
    for name, labels in dspec.values.items():  # values: your labels -> the dictionary's (exact, else any case)
        if name in df.columns:
            df = df.assign(**{name: _map_categories(df[name], _label_mapper(labels))})
    for name, unit in dspec.units.items():
        f = dspec.unit_factor(name)
        if name in df.columns and f != 1.0:
            df = df.assign(**{name: _map_categories(df[name], _scaler(f))})
            converted[name] = unit
    return df, renamed, converted


def _map_categories(s: pd.Series, func: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply ``func`` to the distinct texts of a categorical column; equal results share one category."""
    cats = pd.Series(s.cat.categories, dtype=object)
    new = func(cats)
    codes, uniq = pd.factorize(pd.Index(new.to_numpy(), dtype=object))
    cat = pd.Categorical.from_codes(codes[s.cat.codes.to_numpy()], categories=pd.Index(uniq, dtype=object))
    return pd.Series(cat, index=s.index)


def _label_mapper(labels: dict[str, str]) -> Callable[[pd.Series], pd.Series]:
    """Your labels -> the dictionary's (``arms:``, ``values:``): matched exactly, else ignoring case."""
    lower = {k.lower(): v for k, v in labels.items()}

    def apply(cats: pd.Series) -> pd.Series:
        return cats.map(lambda v: labels.get(v, lower.get(str(v).lower(), v)))

    return apply


def _scaler(f: float) -> Callable[[pd.Series], pd.Series]:
    """Multiply numeric texts by ``f`` (12 significant digits, as :func:`analysis.intake.units.convert`); others unchanged."""

    def apply(cats: pd.Series) -> pd.Series:
        below, above = _tokens()
        num = pd.to_numeric(cats.where(~cats.isin([below, above, ""])), errors="coerce").astype(float)
        ok = np.isfinite(num.to_numpy())
        out = cats.copy()
        out[ok] = [f"{x:.12g}" for x in num[ok].to_numpy() * f]
        return out

    return apply


def _annotate(problems: list[Problem], renamed: dict[str, str], converted: dict[str, str],
              original: pd.DataFrame) -> list[Problem]:
    """Problems of one file, naming the user's column beside the dictionary's and the value as recorded."""
    if not renamed and not converted:
        return problems
    out = []
    for p in problems:
        column, value, rule = p.column, p.value, p.rule
        if p.column in converted and p.row is not None:
            unit = converted[p.column]
            src = renamed.get(p.column, p.column)
            raw = original[src].get(p.row, None) if src in original.columns else None
            own = _units.dictionary_unit(p.column) or ""
            if raw is not None:
                value = _short(f"{raw} {unit} = {p.value} {own}")
        elif p.column in converted:
            rule = f"{rule} (after converting {converted[p.column]} to {_units.dictionary_unit(p.column)})"
        if p.column in renamed:
            column = f"{renamed[p.column]} ({p.column})"
        out.append(Problem(p.file, p.row, column, value, rule, p.severity, p.count))
    return out


def validate_folder(data_dir) -> list[Problem]:
    """Check a data folder against the data contract; return every problem (errors and warnings).

    Never raises for bad data: a missing folder, unreadable file or broken value is a :class:`Problem`.
    Files are opened read-only.

    Parameters
    ----------
    data_dir : str or Path
        Folder with ``patients``, ``visits`` and ``adverse_events`` as ``.csv``, ``.xlsx``, ``.sav``,
        ``.dta``, ``.sas7bdat`` or ``.xpt``, and optionally ``dataset.yaml`` (design, column names, units,
        arm labels: :mod:`analysis.intake.dataset`).

    Returns
    -------
    list of Problem
        Empty when the folder is valid. Rows beyond :data:`MAX_ROWS_PER_RULE` for the same rule are
        summarised in one problem whose ``count`` says how many cells it stands for.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print(validate_folder(Path(d) / "nowhere")[0].rule)
    the data folder does not exist
    """
    return _validate(data_dir)[0]
