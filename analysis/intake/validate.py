"""Check a data folder against the data contract and report every problem at once.

The rules come from ``data_dictionary.yaml`` (through :mod:`analysis.intake.dictionary`) and are applied by
:mod:`analysis.intake.contract`: required columns, types, ranges, allowed values, grids, assay limits, keys, plus
cross-table rules (every visit and adverse event belongs to a known patient, every patient has a baseline visit,
the patients are in an arm; a single-arm folder is valid, with a note). Each problem
(:class:`~analysis.intake.problem.Problem`) names the file, the row as a spreadsheet shows it (header = row 1), the
column, the offending value and the rule broken. Files are only ever
opened for reading.

This module runs the steps in order (:func:`read_folder`; :func:`validate_and_read` and :func:`validate_folder`
return parts of its result):

1. the folder itself and its CSV dialect (:func:`analysis.intake.sniff.folder_problems`), then ``dataset.yaml``;
2. each table's file (:func:`locate_table`; why it is missing: :func:`analysis.intake.sniff.missing_file`), read
   as stripped strings (:func:`read_table_strings`: the bytes first, :func:`analysis.intake.sniff.check_file`;
   then the CSV, workbook or SPSS/Stata/SAS reader; then :func:`analysis.intake.grid.grid_to_frame`);
3. a table declared under ``long:`` in ``dataset.yaml`` pivoted to one row per patient and visit
   (:func:`analysis.intake.long.pivot_long`; its problems then name the file's rows:
   :func:`analysis.intake.long.relocate`);
   ``dataset.yaml`` applied to each table (each change recorded as a :class:`Translation`); visit rows that hold a
   patient and a scheduled week but no measurement left out (a missed visit, one note each); then the table's
   rules (:func:`analysis.intake.contract.check_table`);
4. the rules between tables (:func:`analysis.intake.contract.check_cross`);
5. the diagnoses that replace a flood of knock-on errors by their cause, and the privacy rules
   (:func:`analysis.intake.hints.diagnose`).

The folder's ``dataset.yaml`` (:mod:`analysis.intake.dataset`) is read first. Its ``columns:``, ``units:`` and
``arms:`` are applied to every table as it is read (names, units and arm labels become the dictionary's)
and its ``design:`` sets the visit weeks and the last adverse-event week, so the checks and everything
after them see one contract. A problem in a renamed column names both names (``'CRP (crp_mg_l)'``); a
problem in a converted column shows the value as recorded and as converted. A broken ``dataset.yaml``
is the only problem reported until it is fixed.

Tables may be ``.csv`` (UTF-8), ``.xlsx``, SPSS ``.sav``/``.zsav``, Stata ``.dta`` or SAS ``.sas7bdat``/``.xpt``
(:mod:`analysis.intake.readers`); one file per table.

The checks are vectorised (one pandas operation per column and rule), so a million-row visits file
validates in seconds; at most :data:`~analysis.intake.problem.MAX_ROWS_PER_RULE` rows are listed per (file,
column, rule) and the rest are summarised in one line that carries their count.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import yaml

from analysis.core.design import DESIGN_KEYS
from analysis.intake import units as _units
from analysis.intake.contract import censor_tokens, check_cross, check_table
from analysis.intake.dataset import SPEC_KEYS, DatasetError, DatasetSpec, dataset_spec, load_meta_text
from analysis.intake.dates import DateReader
from analysis.intake.dictionary import TABLES, columns
from analysis.intake.grid import grid_to_frame
from analysis.intake.hints import diagnose
from analysis.intake.long import long_layouts, pivot_long, relocate
from analysis.intake.problem import MAX_ROWS_PER_RULE, Problem, ProblemSink, short_value
from analysis.intake.readers import STAT_FORMATS, read_stat_file
from analysis.intake.sniff import check_file, folder_problems, missing_file, read_csv

__all__ = ["FolderRead", "Translation", "locate_table", "read_folder", "read_table_strings", "validate_and_read",
           "validate_folder"]

_SUFFIXES = (".csv", ".xlsx", *STAT_FORMATS)
_FORMATS_TEXT = ".csv (UTF-8), .xlsx, .sav, .dta, .sas7bdat or .xpt"


# ----------------------------------------------------------------------------------------------
# Locating and reading files (shared with analysis.intake.io)
# ----------------------------------------------------------------------------------------------
def locate_table(data_dir, table: str) -> tuple[Path | None, list[Problem]]:
    """The file holding ``table`` in ``data_dir``, or None with the problems saying why there is none.

    Parameters
    ----------
    data_dir : str or Path
        An existing folder.
    table : str
        A table of the data contract (``patients``, ``visits``, ``adverse_events``).

    Returns
    -------
    path : Path or None
        The one file named like the table (any case) with a suffix ``.csv``, ``.xlsx``, ``.sav``, ``.zsav``,
        ``.dta``, ``.sas7bdat`` or ``.xpt``.
    problems : list of Problem
        Empty when found; else one problem: two files for one table, something named like the table that is
        not the file (:func:`analysis.intake.sniff.missing_file`), or a plain missing file.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "Visits.xlsx").write_bytes(b"")
    >>> locate_table(d, "visits")[0].name
    'Visits.xlsx'
    >>> print(locate_table(d, "patients")[1][0].rule)  # doctest: +ELLIPSIS
    missing file: the table 'patients' must be in patients.csv, patients.xlsx, ...
    """
    data_dir = Path(data_dir)
    entries = [p for p in data_dir.iterdir() if p.is_file()]
    found = [p for p in entries if p.stem.lower() == table and p.suffix.lower() in _SUFFIXES]
    if len(found) == 1:
        return found[0], []
    if len(found) > 1:
        names = " and ".join(sorted(p.name for p in found))
        return None, [Problem(names, None, None, None,
                              f"ambiguous: both {names} exist for the table '{table}'; keep only one of them")]
    diagnosis = missing_file(data_dir, table)
    if diagnosis is not None:
        return None, [diagnosis]
    others = sorted(p.name for p in entries if p.stem.lower() == table)
    hint = (f" (found {', '.join(others)}: save it as {_FORMATS_TEXT})" if others else "")
    return None, [Problem(f"{table}.csv", None, None, None,
                          f"missing file: the table '{table}' must be in {table}.csv, {table}.xlsx, {table}.sav, "
                          f"{table}.dta, {table}.sas7bdat or {table}.xpt{hint}")]


def read_table_strings(path, table: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read one table file as stripped strings, indexed by spreadsheet row number, or None with the problems.

    The bytes are looked at first (:func:`analysis.intake.sniff.check_file`); then the file is read by its suffix
    (``.xlsx``: the sheet named like ``table`` or the only sheet; SPSS/Stata/SAS:
    :func:`analysis.intake.readers.read_stat_file`; else CSV: :func:`analysis.intake.sniff.read_csv`) and made a
    frame by :func:`analysis.intake.grid.grid_to_frame`. ``dataset.yaml`` is not applied here.

    Parameters
    ----------
    path : str or Path
        The table's file (see :func:`locate_table`).
    table : str
        The table it holds (names the sheet of a workbook; selects the rules a junk check applies).

    Returns
    -------
    frame : pandas.DataFrame or None
        Categorical columns of stripped strings; SPSS/Stata/SAS value labels in ``frame.attrs["value_labels"]``.
    problems : list of Problem

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "patients.csv"
    >>> _ = p.write_text("patient_id,arm\\nP01, MSCT\\n")
    >>> frame, problems = read_table_strings(p, "patients")
    >>> frame.to_dict("index"), problems
    ({2: {'patient_id': 'P01', 'arm': 'MSCT'}}, [])
    """
    path = Path(path)
    fname = path.name
    if path.stat().st_size == 0:
        return None, [Problem(fname, None, None, None,
                              "the file is empty (0 bytes); it needs at least the header row")]
    early = check_file(path, table)
    if early:
        return None, early
    if path.suffix.lower() == ".xlsx":
        grid, problems = _read_xlsx(path, table)
    elif path.suffix.lower() in STAT_FORMATS:
        grid, problems = read_stat_file(path)
    else:
        grid, problems = read_csv(path)
    if grid is None:
        return None, problems
    labels = grid.attrs.get("value_labels") or {}
    body, problems = grid_to_frame(grid, fname)
    if body is not None and labels:
        body.attrs["value_labels"] = {k: v for k, v in labels.items() if k in body.columns}
    return body, problems


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


def _read_meta(data_dir: Path) -> tuple[dict, list[Problem]]:
    """``dataset.yaml`` of the folder as a dict (``{}`` if absent), with any problems."""
    path = data_dir / "dataset.yaml"
    if not path.is_file():
        return {}, []
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8-sig")
        meta = load_meta_text(text)
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
# Entry points
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Translation:
    """One change ``dataset.yaml`` (or a statistical file's value labels) made while a table was read.

    Parameters
    ----------
    file : str
        The file read, e.g. ``"visits.csv"``.
    kind : {"column", "unit", "label", "value labels"}
        A column renamed, a unit converted, a category label mapped, or the file's own value labels applied.
    column : str
        The data dictionary's column.
    source : str
        As recorded: the file's column name, the unit, the label (empty for ``"value labels"``).
    target : str
        As the book reads it: the dictionary's name, unit or label.
    count : int
        Cells changed (units and labels; 0 for a renamed column).

    Examples
    --------
    >>> print(Translation("patients.csv", "label", "arm", "UC-MSC", "MSCT", 6))
    patients.csv, column 'arm': 'UC-MSC' read as 'MSCT' (6 cells)
    >>> print(Translation("visits.csv", "column", "crp_mg_l", "CRP", "crp_mg_l"))
    visits.csv: column 'CRP' read as 'crp_mg_l'
    """

    file: str
    kind: str
    column: str
    source: str
    target: str
    count: int = 0

    def __str__(self) -> str:
        cells = f" ({self.count:,} cell{'' if self.count == 1 else 's'})"
        if self.kind == "column":
            return f"{self.file}: column '{self.source}' read as '{self.target}'"
        if self.kind == "unit":
            return f"{self.file}, column '{self.column}': {self.source} converted to {self.target}{cells}"
        if self.kind == "value labels":
            return f"{self.file}, column '{self.column}': the file's value labels applied{cells}"
        return f"{self.file}, column '{self.column}': '{self.source}' read as '{self.target}'{cells}"


@dataclass(frozen=True)
class FolderRead:
    """Everything :func:`read_folder` found in a data folder.

    Attributes
    ----------
    problems : list of Problem
        Errors, warnings and notes (as :func:`validate_folder` returns them).
    read : dict
        ``{table: (path, frame)}`` of the tables that could be read, as the book sees them (see
        :func:`validate_and_read`).
    meta : dict
        ``dataset.yaml`` (``{}`` when absent or unreadable).
    spec : DatasetSpec or None
        What ``dataset.yaml`` declares; ``None`` when it could not be read or broke a rule.
    translations : list of Translation
        The names, units and labels changed on reading, in the order applied.
    """

    problems: list
    read: dict
    meta: dict
    spec: DatasetSpec | None = None
    translations: list = field(default_factory=list)

    @property
    def errors(self) -> list:
        """The problems of severity ``"error"``."""
        return [p for p in self.problems if p.severity == "error"]


def validate_and_read(data_dir) -> tuple[list[Problem], dict[str, tuple[Path, pd.DataFrame]], dict]:
    """Validate a data folder (as :func:`validate_folder`) and also return what was read.

    Parameters
    ----------
    data_dir : str or Path
        The data folder.

    Returns
    -------
    problems : list of Problem
        As :func:`validate_folder` returns them.
    read : dict
        ``{table: (path, frame)}`` of the tables that could be read. The frames are the tables as the rest
        of the book sees them (stripped strings, indexed by spreadsheet row): columns renamed, units converted
        and arm labels mapped as ``dataset.yaml`` says, and visit rows without any measurement left out
        (a missed visit; each is a note among the problems).
    meta : dict
        ``dataset.yaml`` (``{}`` when absent or unreadable).

    Examples
    --------
    >>> from analysis.core.paths import default_data_dir
    >>> problems, read, meta = validate_and_read(default_data_dir())
    >>> [p for p in problems if p.severity == "error"], sorted(read), meta.get("synthetic")
    ([], ['adverse_events', 'patients', 'visits'], True)
    """
    found = read_folder(data_dir)
    return found.problems, found.read, found.meta


def read_folder(data_dir) -> FolderRead:
    """Validate a data folder and return what was read, with the translations ``dataset.yaml`` made.

    The steps are those of the module docstring. A visit row whose every measurement is empty (only the
    patient and a scheduled week filled in) is left out of the table: the visit was missed, and a note says so
    (``visits.csv, row 49: patient S07, week 24 has no measurement; counted as a missed visit``).

    Parameters
    ----------
    data_dir : str or Path
        The data folder.

    Returns
    -------
    FolderRead

    Examples
    --------
    >>> from analysis.core.paths import default_data_dir
    >>> found = read_folder(default_data_dir())
    >>> found.errors, found.spec.design.final_week, found.translations
    ([], 48, [])
    """
    problems: list[Problem] = []
    folder = Path(data_dir)
    if not folder.exists():
        return FolderRead([Problem(str(folder), None, None, None, "the data folder does not exist")], {}, {})
    if not folder.is_dir():
        return FolderRead([Problem(str(folder), None, None, None,
                                   "is not a folder (give the folder holding the tables)")], {}, {})
    fatal = folder_problems(folder)
    if fatal:
        return FolderRead(fatal, {}, {})
    meta, found = _read_meta(folder)
    if found:  # unreadable dataset.yaml: nothing else can be judged (design, names, units) until it is fixed
        return FolderRead(found, {}, meta)
    try:
        dspec = dataset_spec(meta)
        layouts = long_layouts(meta)
    except DatasetError as err:
        return FolderRead([Problem("dataset.yaml", None, None, None,
                                   _where(folder, err.key) + f"{err.key}: {err.rule}")], {}, meta)
    problems += _meta_key_warnings(folder, meta)
    read: dict[str, tuple[Path, pd.DataFrame]] = {}
    translations: list[Translation] = []
    seen_names: set[str] = set()
    dates = DateReader(dspec.visit_dates, dspec.design) if dspec.visit_dates is not None else None
    for table in TABLES:
        path, found = locate_table(folder, table)
        problems += found
        if path is None:
            continue
        df, found = read_table_strings(path, table)
        problems += found
        if df is None:
            continue
        seen_names |= set(df.columns)
        mine: list[Problem] = []
        original = df = _apply_value_labels(table, df, dspec, translations, path.name)
        cells = None
        if table in layouts:  # the long layout -> one row per patient and visit (analysis.intake.long)
            df, cells = pivot_long(table, df, layouts[table], ProblemSink(path.name, mine), dspec, meta)
            if df is None:
                problems += mine
                continue
            original = df
        df, renamed, converted = _apply_spec(table, df, dspec, ProblemSink(path.name, mine))
        translations += _translations(table, path.name, original, df, dspec, renamed, converted)
        if dates is not None:  # visit_dates: dates -> weeks, the date columns dropped (analysis.intake.dates)
            df = dates.apply(table, df, ProblemSink(path.name, mine), path.name)
        if table == "visits":
            df = _drop_unmeasured_visits(df, dspec, mine, path.name)
        read[table] = (path, df)
        check_table(table, df, ProblemSink(path.name, mine), dspec)
        problems += relocate(_annotate(mine, renamed, converted, original), cells)
    check_cross({t: (p.name, df) for t, (p, df) in read.items()}, problems, dspec.design)
    for user in dspec.columns:
        if user not in seen_names and user.lower() not in {n.lower() for n in seen_names}:
            problems.append(Problem("dataset.yaml", None, None, None,
                                    _where(folder, f"columns.{user}")
                                    + f"columns.{user}: no table has a column '{user}'; this line is ignored",
                                    "warning"))
    problems = diagnose(problems, read, meta)
    return FolderRead(problems, read, meta, dspec, translations)


def _where(folder: Path, key: str) -> str:
    line = _meta_line(folder, key)
    return "" if line is None else f"line {line}, "


def _meta_key_warnings(folder: Path, meta: dict) -> list[Problem]:
    """Top-level keys of dataset.yaml that look like a misspelt design/columns/units/arms key (ignored otherwise)."""
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
def _apply_value_labels(table: str, df: pd.DataFrame, dspec: DatasetSpec, record: list | None = None,
                        fname: str = "") -> pd.DataFrame:
    """Codes -> labels (SPSS/Stata/SAS value labels), except in the dictionary's numeric columns.

    A numeric column keeps its codes (a ``week`` coded 12 with the label "Week 12" stays 12); every
    other column (``arm``, ``sex``, booleans, unknown columns) shows its labels, as the statistical
    package does. The column's dictionary name is the one ``columns:`` gives it. Each dictionary column whose
    labels were applied is appended to ``record`` as a :class:`Translation`.
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
        target = rename.get(name, name)
        if record is not None and target in types:
            n = int(np.sum(np.asarray(df[name], dtype=object) != np.asarray(changed[name], dtype=object)))
            if n:
                record.append(Translation(fname, "value labels", target, "", "", n))
    out = df.assign(**changed) if changed else df
    out.attrs = {}
    return out


def _apply_spec(table: str, df: pd.DataFrame, dspec: DatasetSpec,
                out: ProblemSink) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
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


def _translations(table: str, fname: str, before: pd.DataFrame, after: pd.DataFrame, dspec: DatasetSpec,
                  renamed: dict[str, str], converted: dict[str, str]) -> list[Translation]:
    """What :func:`_apply_spec` changed in one table: renamed columns, converted units, mapped labels (with counts)."""
    out = [Translation(fname, "column", target, source, target) for target, source in renamed.items()]
    for name, unit in converted.items():
        n = int(np.sum(~_blank(after[name])))
        out.append(Translation(fname, "unit", name, unit, _units.dictionary_unit(name) or unit, n))
    mapped = (["arm"] if table == "patients" and dspec.arms else []) + list(dspec.values)
    for name in mapped:
        source = renamed.get(name, name)
        if name not in after.columns or source not in before.columns:
            continue
        pairs = pd.DataFrame({"from": np.asarray(before[source], dtype=object),
                              "to": np.asarray(after[name], dtype=object)})
        pairs = pairs[pairs["from"] != pairs["to"]]
        for (src, dst), n in pairs.value_counts(sort=False).items():
            out.append(Translation(fname, "label", name, str(src), str(dst), int(n)))
    return out


def _blank(s: pd.Series) -> np.ndarray:
    """True where a column of stripped strings (categorical or not) is empty."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = np.append(np.asarray(s.cat.categories, dtype=object) == "", True)  # code -1 (NaN) is blank
        return cats[s.cat.codes.to_numpy()]
    a = np.asarray(s, dtype=object)
    return (a == "") | pd.isna(a)


_VISIT_KEYS = ("patient_id", "week")


def _drop_unmeasured_visits(df: pd.DataFrame, dspec: DatasetSpec, problems: list[Problem],
                            fname: str) -> pd.DataFrame:
    """The visits without the rows that hold a patient and a scheduled week but no measurement at all.

    Such a row records a visit that did not take place (the template asks for one row per patient and
    scheduled week): it is left out, so that every count of attended visits and of patients lost to
    follow-up sees the visit as missed, and one note per row says so. Rows whose patient or week is empty or
    not a scheduled week are kept for the rules to judge. Only the dictionary's measurement columns count
    (unknown columns are never read).
    """
    measures = [c.name for c in columns("visits") if c.name not in _VISIT_KEYS and c.name in df.columns]
    if not measures or not all(k in df.columns for k in _VISIT_KEYS) or len(df) == 0:
        return df
    blank = np.ones(len(df), dtype=bool)
    for name in measures:
        blank &= _blank(df[name])
    if not blank.any():
        return df
    pid = np.asarray(df["patient_id"], dtype=object)
    week = np.asarray(df["week"], dtype=object)
    number = pd.to_numeric(pd.Series(week), errors="coerce")
    scheduled = number.isin([float(w) for w in dspec.design.visit_weeks]).to_numpy()
    drop = blank & ~_blank(df["patient_id"]) & scheduled
    rows = df.index[drop]
    for i in np.flatnonzero(drop)[:MAX_ROWS_PER_RULE]:
        problems.append(Problem(fname, int(df.index[i]), None, None,
                                f"patient {short_value(pid[i])}, week {short_value(week[i])} has no measurement; "
                                "counted as a missed visit", "note"))
    if len(rows) > MAX_ROWS_PER_RULE:
        rest = rows[MAX_ROWS_PER_RULE:]
        problems.append(Problem(fname, None, None, None,
                                f"a patient and week but no measurement, counted as a missed visit: also in "
                                f"{len(rest):,} more rows (rows {int(rest[0])} to {int(rest[-1])})",
                                "note", count=len(rest)))
    return df[~drop]


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
        below, above = censor_tokens()
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
                value = short_value(f"{raw} {unit} = {p.value} {own}")
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
    return validate_and_read(data_dir)[0]
