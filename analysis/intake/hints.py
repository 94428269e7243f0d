"""Diagnoses across the validator's findings: one message naming the cause instead of a flood of knock-on errors.

:func:`diagnose` runs after every rule, as the last step of :func:`analysis.intake.validate.validate_and_read`.
Each diagnosis recognises a pattern a broken export leaves, puts one error naming the cause and
the fix at the head of the list, and drops the errors it explains:

- ids that match ``patients`` only after a normalisation (leading zeros ``P1``/``P001``, case, a trailing ``.0``,
  spaces or dashes): drops the "not in patients" and "no baseline visit" errors;
- the header repeated in the middle of a file (two exports pasted together): drops the errors of those rows;
- dates (or Excel date serial numbers) in the ``week`` column: drops the errors of that column and the
  "no baseline visit" errors;
- ``.xlsx`` formulas without a saved result (read as empty cells) and Excel error values such as ``#DIV/0!``:
  drops the empty-cell, DAS28-incomplete and type errors of those cells;
- personal identifiers (:mod:`analysis.intake.pii`).
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd

from analysis.intake import pii
from analysis.intake.problem import Problem

__all__ = ["diagnose"]

_NOT_IN = ("who is not in", "a patient who is not in")
_NO_BASELINE = "no baseline visit"


def diagnose(problems: list, read: dict, meta: dict) -> list:
    """The validator's problem list with diagnoses first and the errors they explain removed.

    Parameters
    ----------
    problems : list of Problem
        Everything the rules found.
    read : dict
        ``{table: (path, frame)}`` of the tables that could be read.
    meta : dict
        ``dataset.yaml``.

    Examples
    --------
    >>> diagnose([], {}, {})
    []
    """
    lead: list = []
    rest = list(problems)
    for finder in (_repeated_header, _week_dates, _id_mismatch, _xlsx_formulas, _excel_errors):
        try:
            found, rest = finder(rest, read)
        except Exception:  # noqa: BLE001 - a diagnosis is a courtesy; the rules' findings stand without it
            continue
        lead += found
    rest = pii.check(rest, read, meta)
    junk = [p for p in rest if "does not hold valid '" in p.rule]
    rest = [p for p in rest if p not in junk]
    return junk + lead + rest


def _frame(read: dict, table: str):
    if table not in read:
        return None, None
    path, df = read[table]
    return Path(path).name, df


# ----------------------------------------------------------------------------------------------
def _repeated_header(problems: list, read: dict):
    lead = []
    for table, (path, df) in read.items():
        fname = Path(path).name
        if df.shape[1] < 2 or len(df) == 0:
            continue
        hits = np.zeros(len(df), dtype=np.int32)
        for col in df.columns:
            s = df[col]
            name = str(col).strip().lower()
            if isinstance(s.dtype, pd.CategoricalDtype):
                cats = pd.Index(s.cat.categories).astype(str).str.replace("\ufeff", "").str.strip().str.lower()
                idx = np.flatnonzero(cats == name)
                if len(idx):
                    hits += np.isin(s.cat.codes.to_numpy(), idx)
            else:
                hits += (s.astype(str).str.strip().str.lower() == name).to_numpy()
        rows = df.index[hits >= max(2, (df.shape[1] + 1) // 2)]
        if len(rows) == 0:
            continue
        first = int(rows[0])
        also = ""
        if len(rows) > 1:
            shown = ", ".join(str(int(r)) for r in rows[1:6]) + (", ..." if len(rows) > 6 else "")
            also = f" (and so do rows {shown})"
        lead.append(Problem(fname, first, None, None,
                            f"row {first} repeats the header{also}: two exports were probably pasted together; "
                            "delete the repeated header row (and check that no rows appear twice)"))
        bad = {int(r) for r in rows}
        problems = [p for p in problems if not (p.file == fname and p.row in bad)]
    return lead, problems


# ----------------------------------------------------------------------------------------------
_DATE_RE = (r"^\s*(?:(?:19|20)\d{2}[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])"
            r"|(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|[12]\d|3[01])[-/.](?:19|20)?\d{2}"
            r"|(?:19|20)\d{2}年\d{1,2}月\d{1,2}日?"
            r"|\d{1,2}[- ](?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[- ](?:19|20)?\d{2})"
            r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\s*$")


def _week_dates(problems: list, read: dict):
    lead = []
    for table in ("visits", "adverse_events"):
        fname, df = _frame(read, table)
        if df is None or "week" not in df.columns or len(df) == 0:
            continue
        s = df["week"].astype(str) if not isinstance(df["week"].dtype, pd.CategoricalDtype) else df["week"]
        cats = pd.Series(s.cat.categories if hasattr(s, "cat") else pd.unique(s), dtype=object).astype(str)
        codes = s.cat.codes.to_numpy() if hasattr(s, "cat") else pd.Index(cats).get_indexer(s)
        nonempty_cat = (cats != "").to_numpy()
        is_date = cats.str.match(_DATE_RE, case=False).to_numpy()
        num = pd.to_numeric(cats, errors="coerce").to_numpy(dtype=float)
        is_serial = (num >= 20000) & (num <= 80000) & (num == np.floor(num))
        n_rows = int(nonempty_cat[codes].sum())
        if n_rows == 0:
            continue
        for mask, what in ((is_date, "dates"), (is_serial, "Excel date serial numbers")):
            rows = mask[codes]
            if rows.sum() < 0.5 * n_rows:
                continue
            first = int(df.index[np.argmax(rows)])
            example = str(s.loc[first]) if first in s.index else ""
            lead.append(Problem(fname, first, "week", example,
                                f"the week column holds {what}: write weeks since the infusion (0 for the baseline "
                                f"visit on the day of infusion, then the scheduled visit week, e.g. 12); "
                                f"{int(rows.sum()):,} of {n_rows:,} rows hold {what}"))
            problems = [p for p in problems if not (p.file == fname and p.column == "week")
                        and not (table == "visits" and _NO_BASELINE in p.rule)]
            break
    return lead, problems


# ----------------------------------------------------------------------------------------------
_NORMALISERS = [
    ("only without leading zeros", lambda x: re.sub(r"(?<!\d)0+(?=\d)", "", x),
     "write every patient_id exactly as in {p} (Excel drops leading zeros from numbers: format the column as Text "
     "before pasting)"),
    ("only when upper and lower case are ignored", str.lower,
     "write every patient_id exactly as in {p} (ids are case-sensitive)"),
    ("only without a trailing '.0'", lambda x: re.sub(r"\.0+$", "", x),
     "the ids were saved as decimal numbers; format the column as Text and write them exactly as in {p}"),
    ("only without spaces, dashes or underscores", lambda x: re.sub(r"[\s\-_]", "", x),
     "write every patient_id exactly as in {p}"),
    ("only after removing leading zeros, case, spaces and dashes",
     lambda x: re.sub(r"(?<!\d)0+(?=\d)", "", re.sub(r"[\s\-_]", "", x.lower())),
     "write every patient_id exactly as in {p}"),
]


def _distinct(s: pd.Series) -> list[str]:
    """The distinct values present in a column (a categorical's used categories), as strings."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        used = np.unique(s.cat.codes.to_numpy())
        return [str(x) for x in s.cat.categories[used[used >= 0]]]
    return [str(x) for x in pd.unique(s.astype(object))]


def _id_mismatch(problems: list, read: dict):
    pname, pat = _frame(read, "patients")
    if pat is None or "patient_id" not in pat.columns:
        return [], problems
    known = {x for x in _distinct(pat["patient_id"]) if x != ""}
    lead = []
    for table in ("visits", "adverse_events"):
        fname, df = _frame(read, table)
        if df is None or "patient_id" not in df.columns:
            continue
        ids = {x for x in _distinct(df["patient_id"]) if x != ""}
        unknown = sorted(ids - known)
        if not unknown:
            continue
        for how, norm, fix in _NORMALISERS:
            table_norm = {}
            for k in sorted(known):
                table_norm.setdefault(norm(k), k)
            matched = [(u, table_norm[norm(u)]) for u in unknown if norm(u) in table_norm]
            if not matched or len(matched) < 0.5 * len(unknown):
                continue
            u, k = matched[0]
            left = len(unknown) - len(matched)
            other = f"; {left:,} other id{'s are' if left > 1 else ' is'} not in {pname} at all" if left else ""
            lead.append(Problem(fname, None, "patient_id", None,
                                f"ids in {fname} match {pname} {how} ('{u}' against '{k}'): " + fix.format(p=pname)
                                + f" ({len(matched):,} of {len(unknown):,} unmatched ids{other})"))
            problems = [p for p in problems if not (p.file == fname and p.column == "patient_id"
                                                    and any(t in p.rule for t in _NOT_IN))
                        and not (p.file == pname and _NO_BASELINE in p.rule and table == "visits")]
            break
    return lead, problems


# ----------------------------------------------------------------------------------------------
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "pr": "http://schemas.openxmlformats.org/package/2006/relationships"}


def _sheet_files(z: zipfile.ZipFile, table: str) -> list[str]:
    wb = ET.fromstring(z.read("xl/workbook.xml"))
    rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): r.get("Target") for r in rels}
    sheets = [(s.get("name"), target.get(s.get(f"{{{_NS['r']}}}id"))) for s in wb.iter(f"{{{_NS['m']}}}sheet")]
    chosen = [t for n, t in sheets if str(n).strip().lower() == table] or (
        [sheets[0][1]] if len(sheets) == 1 else [t for _, t in sheets])
    out = []
    for t in chosen:
        if t is None:
            continue
        t = t.lstrip("/")
        out.append(t if t.startswith("xl/") else f"xl/{t}")
    return out


def formula_cells(path, table: str, limit: int = 1000) -> list[str]:
    """References (e.g. ``'F7'``) of formula cells without a saved result in the table's sheet of an .xlsx."""
    found = []
    with zipfile.ZipFile(path) as z:
        for name in _sheet_files(z, table):
            with z.open(name) as fh:
                for _, el in ET.iterparse(fh):
                    if el.tag == f"{{{_NS['m']}}}c":
                        f = el.find("m:f", _NS)
                        v = el.find("m:v", _NS)
                        is_ = el.find("m:is", _NS)
                        if f is not None and (v is None or (v.text or "") == "") and is_ is None:
                            found.append(el.get("r") or "?")
                            if len(found) >= limit:
                                return found
                        el.clear()
    return found


def _xlsx_formulas(problems: list, read: dict):
    lead = []
    for table, (path, df) in read.items():
        path = Path(path)
        if path.suffix.lower() != ".xlsx":
            continue
        cells = formula_cells(path, table)
        if not cells:
            continue
        rows = {int(re.sub(r"\D", "", c) or 0) for c in cells}
        first = cells[0]
        more = f" ({len(cells) - 1:,} more such cells)" if len(cells) > 1 else ""
        lead.append(Problem(path.name, int(re.sub(r"\D", "", first) or 0) or None, None, None,
                            f"cell {first} holds a formula without a saved result{more}: the workbook was written by "
                            "a program that does not calculate formulas; open it in Excel or LibreOffice and save it "
                            "again (or replace the formulas by their values)"))
        problems = [p for p in problems if not (p.file == path.name and p.row in rows and (
            p.rule.startswith("empty cell") or p.rule.startswith("DAS28 components incomplete")))]
    return lead, problems


_EXCEL_ERRORS = {"#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#N/A", "#SPILL!", "#CALC!"}


def _excel_errors(problems: list, read: dict):
    lead = []
    for table, (path, df) in read.items():
        fname = Path(path).name
        cells: list[tuple[int, str, str]] = []
        for col in df.columns:
            s = df[col]
            if not isinstance(s.dtype, pd.CategoricalDtype):
                continue
            cats = pd.Index(s.cat.categories).astype(str).str.strip().str.upper()
            idx = np.flatnonzero(cats.isin(list(_EXCEL_ERRORS)))
            if len(idx) == 0:
                continue
            m = np.isin(s.cat.codes.to_numpy(), idx)
            for r in df.index[m]:
                cells.append((int(r), str(col), str(s.loc[r])))
        if not cells:
            continue
        cells.sort()
        r, col, val = cells[0]
        more = f" ({len(cells) - 1:,} more such cells)" if len(cells) > 1 else ""
        lead.append(Problem(fname, r, col, val,
                            f"the cell holds the spreadsheet error '{val}' (a formula failed){more}: fix the formula "
                            "or type the value (leave the cell empty if the value is missing)"))
        bad = {(r, c) for r, c, _ in cells}
        problems = [p for p in problems if not (p.file == fname and (p.row, p.column) in bad)]
    return lead, problems
