"""The data contract's rules, vectorised: per column, per table and across tables.

The rules come from ``data_dictionary.yaml`` (through :mod:`analysis.intake.dictionary`): required columns, types,
ranges, allowed values, grids, assay limits (``<LLOQ``/``>ULOQ``), keys, the DAS28's components and implausible
units (:func:`check_table`), plus the rules between tables: every visit and adverse event belongs to a known
patient, every patient has a baseline visit, some patients are in an arm (a single-arm trial is valid, with a note
that nothing can be compared between the arms), the design's key visits exist (:func:`check_cross`). Each rule is
one pandas operation per column, run once per distinct value of the column and reported on its rows through a
:class:`~analysis.intake.problem.ProblemSink`.

The same parsing turns validated text into numbers and booleans when a cohort is loaded (:func:`parse_numeric`,
:func:`parse_bool`, used by :mod:`analysis.intake.io`). The rules judge frames as
:func:`analysis.intake.grid.grid_to_frame` makes them; :mod:`analysis.intake.validate` runs them on a data folder
and :mod:`analysis.intake.sniff` on the first rows of a file, to refuse junk early.
"""
from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import Callable

import numpy as np
import pandas as pd

from analysis.core.design import Design
from analysis.intake import units as _units
from analysis.intake.dataset import DatasetSpec
from analysis.intake.dictionary import Column, columns, load_dictionary, required_one_of
from analysis.intake.problem import Problem, ProblemSink

__all__ = ["censor_tokens", "check_column", "check_cross", "check_table", "parse_bool", "parse_numeric"]

_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")
_NAN_CODES = {"nan", "-nan", "+nan", "na", "n/a", "null", "none", "#n/a", "nd"}
_DAS28 = ("tjc28", "sjc28", "esr_mm_h", "patient_global_mm")
_DAS28_LABS = ("esr_mm_h", "crp_mg_l")  # the DAS28's laboratory term: ESR if the folder has it, else CRP


def _per_value(s: pd.Series, func: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply a vectorised ``func`` once per distinct value of a (categorical) Series, mapped back to rows."""
    if not isinstance(s.dtype, pd.CategoricalDtype):
        return func(s)
    res = func(pd.Series(s.cat.categories, dtype=object))
    return pd.Series(res.to_numpy()[s.cat.codes.to_numpy()], index=s.index).astype(res.dtype)


class _Expand:
    """Adapter: masks computed on the distinct values of a column are reported on its rows."""

    def __init__(self, out: ProblemSink, s: pd.Series):
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


def _did_you_mean(value: str, allowed: list[str], declared: dict | None = None) -> str:
    """``"; did you mean 'X'?"`` for a label close to an allowed one or to one ``dataset.yaml`` maps (else ``""``).

    ``declared`` maps the folder's own labels to allowed ones (``arms:`` or ``values:`` of ``dataset.yaml``); a
    suggestion among them says what it is mapped to.

    Examples
    --------
    >>> _did_you_mean("MCST", ["MSCT", "control"])
    "; did you mean 'MSCT'?"
    >>> _did_you_mean("UC-MCS", ["MSCT", "control"], {"UC-MSC": "MSCT", "placebo": "control"})
    "; did you mean 'UC-MSC' (mapped to 'MSCT')?"
    >>> _did_you_mean("xyz", ["F", "M"])
    ''
    """
    declared = declared or {}
    for a in allowed:
        if value.lower() == a.lower():
            return f"; did you mean '{a}'? (values are case-sensitive)"
    candidates = list(allowed) + [k for k in declared if k not in allowed]
    close = difflib.get_close_matches(value.lower(), [a.lower() for a in candidates], n=1, cutoff=0.6)
    if not close:
        return ""
    a = next(a for a in candidates if a.lower() == close[0])
    if a in declared and a not in allowed:
        return f"; did you mean '{a}' (mapped to '{declared[a]}')?"
    return f"; did you mean '{a}'?"


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
    below, above = censor_tokens()

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


def censor_tokens() -> tuple[str, str]:
    """The data dictionary's censoring tokens: (below the lower, above the upper limit of quantification).

    Examples
    --------
    >>> censor_tokens()
    ('<LLOQ', '>ULOQ')
    """
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


def check_column(c: Column, s: pd.Series, out: ProblemSink, declared: dict | None = None) -> None:
    """Check one column of a frame against its dictionary entry; report each broken cell to ``out``.

    Empty cells (where a value is required), allowed labels, booleans, numbers (type, censoring tokens,
    missing-value codes, sign, allowed values, range, step). Each rule runs once per distinct value.

    Parameters
    ----------
    c : Column
        The dictionary column.
    s : pandas.Series
        The column as :func:`analysis.intake.grid.grid_to_frame` gives it (a Categorical of stripped strings,
        indexed by spreadsheet row).
    out : ProblemSink
        Or anything with its ``mask`` method.
    declared : dict, optional
        For a category column, the labels ``dataset.yaml`` maps to the allowed ones (``arms:`` for ``arm``,
        ``values:`` for the others): a label close to one of them gets "did you mean" it.

    Examples
    --------
    >>> from analysis.intake.dictionary import columns
    >>> haq = next(c for c in columns("visits") if c.name == "haq_di")
    >>> found = []
    >>> s = pd.Series(pd.Categorical(["1.125", "1.3", ""]), index=pd.RangeIndex(2, 5, name="row"))
    >>> check_column(haq, s, ProblemSink("visits.csv", found))
    >>> for p in found:
    ...     print(p)
    visits.csv, row 3, column 'haq_di', value '1.3': must be a multiple of 0.125 between 0 and 3
    """
    if c.type in ("category", "bool"):  # the labels found are listed: only those of the rows
        s = s.cat.remove_unused_categories()
    _check_column(c, pd.Series(s.cat.categories, dtype=object), _Expand(out, s), declared)


def _check_column(c: Column, s: pd.Series, out: ProblemSink, declared: dict | None = None) -> None:
    # s holds the distinct values of the column (see _Expand); masks are numpy arrays for speed
    empty = s.to_numpy(dtype=object) == ""
    if not c.missing_ok:
        out.mask(s, empty, c.name, "empty cell: a value is required in this column")
    nonempty = ~empty
    if c.type == "category" and c.allowed is not None:
        allowed = [str(a) for a in c.allowed]
        declared = {str(k): str(v) for k, v in (declared or {}).items()}
        block = "arms:" if c.table == "patients" and c.name == "arm" else f"values: {c.name}:"
        listed = ", ".join(f"'{a}'" for a in allowed)
        if declared:
            mapped = ", ".join(f"'{k}'" for k in declared)
            listed += f" or a label dataset.yaml maps under {block} ({mapped})"
        more = (" (other labels: map them to these under arms: in dataset.yaml, e.g. 'placebo: control')"
                if block == "arms:" else
                f" (other labels: map them to these under values: in dataset.yaml, e.g. "
                f"'{c.name}: {{your label: {allowed[0]}}}')")

        wrong = nonempty & ~s.isin(allowed).to_numpy()
        found = _labels_found(s[wrong])

        def category_rule(v, r) -> str:
            hint = _did_you_mean(str(v), allowed, declared)
            return f"must be one of {listed}{found}{hint or more}"

        out.mask(s, wrong, c.name, category_rule, f"must be one of {listed}{found}{more}")
    elif c.type == "bool":
        ok = s.astype(str).str.lower().isin(_TRUE + _FALSE).to_numpy()
        found = _labels_found(s[nonempty & ~ok])
        how = (f" (other labels: map them under values: in dataset.yaml, e.g. '{c.name}: "
               "{\"Y\": true, \"N\": false}')")

        def bool_rule(v, r) -> str:
            hint = _did_you_mean(str(v).lower(), list(_TRUE + _FALSE))
            return "must be true or false (also accepted: 1/0, yes/no, any case)" + found + (hint or how)

        out.mask(s, nonempty & ~ok, c.name, bool_rule,
                 "must be true or false (also accepted: 1/0, yes/no, any case)" + found + how)
    elif c.type in ("int", "float"):
        _check_numeric(c, s, nonempty, out)


def _check_numeric(c: Column, s: pd.Series, nonempty: np.ndarray, out: ProblemSink) -> None:
    below, above = censor_tokens()
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
def _labels_found(wrong: pd.Series, limit: int = 12) -> str:
    """``"; labels found that are not mapped: 'x', 'y'"`` for the distinct values a rule refuses (``""`` if none).

    Examples
    --------
    >>> _labels_found(pd.Series(["Unknown", "N/A"]))
    "; labels found that are not mapped: 'N/A', 'Unknown'"
    """
    labels = sorted({str(v) for v in wrong})
    if not labels:
        return ""
    more = f" and {len(labels) - limit} more" if len(labels) > limit else ""
    return "; labels found that are not mapped: " + ", ".join(f"'{v}'" for v in labels[:limit]) + more


def _identifier_pattern(name: str) -> str | None:
    for pat in _contract().get("identifier_patterns", []):
        if re.fullmatch(pat, name, flags=re.IGNORECASE):
            return pat
    return None


def check_table(table: str, df: pd.DataFrame, out: ProblemSink, dspec: DatasetSpec | None = None) -> None:
    """Check one table against the data contract; report every problem to ``out``.

    Unknown columns (a warning, or refused when the name looks like a direct identifier), missing required
    columns, a header without data rows, every column (:func:`check_column`), duplicate keys, incomplete DAS28
    components and implausible units.

    Parameters
    ----------
    table : {"patients", "visits", "adverse_events"}
        The table ``df`` holds.
    df : pandas.DataFrame
        As :func:`analysis.intake.grid.grid_to_frame` gives it, with the dictionary's column names.
    out : ProblemSink
        Collects the problems of the table's file.
    dspec : DatasetSpec, optional
        What ``dataset.yaml`` declares (its design sets the visit weeks; its units silence unit hints).

    Examples
    --------
    >>> from analysis.intake.grid import grid_to_frame
    >>> frame, _ = grid_to_frame(pd.DataFrame([["patient_id", "arm", "age"], ["P1", "MSCT", "abc"]]), "patients.csv")
    >>> found = []
    >>> check_table("patients", frame, ProblemSink("patients.csv", found))
    >>> print(next(p for p in found if p.column == "age"))
    patients.csv, row 2, column 'age', value 'abc': must be a whole number
    """
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
            declared = (dspec.arms if name == "arm" and table == "patients" else dspec.values.get(name)
                        if c.type in ("category", "bool") else None)
            check_column(c, df[name], out, declared)
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


def _check_units(table: str, df: pd.DataFrame, out: ProblemSink, dspec: DatasetSpec) -> None:
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


def _check_keys(table: str, df: pd.DataFrame, out: ProblemSink) -> None:
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


def _check_das28(df: pd.DataFrame, out: ProblemSink, components: tuple[str, ...] = _DAS28) -> None:
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


def check_cross(frames: dict[str, tuple[str, pd.DataFrame]], problems: list[Problem],
                 design: Design | None = None) -> None:
    """Rules between tables: known patients, baseline visits, the arms present, the design's key visits.

    A folder with patients in one arm only (a single-arm pilot trial) is valid: a note says that the comparisons
    between the arms are not available. A folder none of whose patients is in an arm the data dictionary allows
    is refused.

    Parameters
    ----------
    frames : dict
        ``{table: (file name, frame)}`` of the tables that could be read (frames as :func:`check_table` takes them).
    problems : list of Problem
        Appended to in place.
    design : Design, optional
        The trial's schedule (the paper's when absent).

    Examples
    --------
    >>> from analysis.intake.grid import grid_to_frame
    >>> pat, _ = grid_to_frame(pd.DataFrame([["patient_id", "arm"], ["P1", "MSCT"]]), "patients.csv")
    >>> vis, _ = grid_to_frame(pd.DataFrame([["patient_id", "week"], ["P1", "0"], ["P2", "0"]]), "visits.csv")
    >>> found = []
    >>> check_cross({"patients": ("patients.csv", pat), "visits": ("visits.csv", vis)}, found)
    >>> for p in found:
    ...     print(p)  # doctest: +ELLIPSIS
    visits.csv, column 'week': no visit at all at week 12, the design's response week (response_week): ... (warning)
    visits.csv, column 'week': no visit at all at week 48, the design's final week (final_week): ... (warning)
    visits.csv, row 3, column 'patient_id', value 'P2': visit for patient 'P2', who is not in patients.csv
    patients.csv, column 'arm': one arm only ('MSCT'; no patient in 'control'): comparisons between the ... (note)
    """
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
        ProblemSink(fname, problems).mask(s, (s != "") & ~s.isin(known), "patient_id",
                                   lambda v, r: f"{what} for patient '{v}', who is not in {pname}",
                                   f"{what} for a patient who is not in {pname}")
    if "visits" in frames:
        vname, vis = frames["visits"]
        if {"patient_id", "week"} <= set(vis.columns) and len(vis):
            week = _per_value(vis["week"], lambda u: pd.to_numeric(u, errors="coerce").astype(float))
            base = set(vis.loc[week == 0, "patient_id"].unique())
            ProblemSink(pname, problems).mask(ids, (ids != "") & ~ids.isin(base), "patient_id",
                                       f"this patient has no baseline visit (week 0) in {vname}")
    if "arm" in pat.columns:
        arm = next(c for c in columns("patients") if c.name == "arm")
        allowed = [str(x) for x in arm.allowed or ()]
        present = [a for a in allowed if a in set(pat["arm"].unique())]
        if len(present) == 1:  # a single-arm trial (a pilot): valid, but nothing can be compared between arms
            missing = " and ".join(f"'{a}'" for a in allowed if a not in present)
            problems.append(Problem(pname, None, "arm", None, f"one arm only ('{present[0]}'; no patient in "
                                    f"{missing}): comparisons between the arms are not available", "note"))
        elif not present:
            listed = " and ".join(allowed)
            problems.append(Problem(pname, None, "arm", None, f"no patients in any arm ({listed})"))
