"""Visit and onset dates turned into weeks on reading (``visit_dates:`` in ``dataset.yaml``); the dates are dropped.

An EDC export (REDCap, OpenClinica, Castor) records a date for each visit and a day 0 (the infusion), not a
week. ``visit_dates:`` names the columns and the visit windows::

    visit_dates:
      day0: infusion_date          # patients: day 0 (the infusion)
      visits: visit_date           # visits: the visit's date
      adverse_events: ae_onset_date   # adverse events: onset date -> week of onset (floor of days / 7)
      window_days: 7               # or per scheduled week: {0: 3, 1: 2, 2: 2, 3: 2, 4: 2, 12: 7, 24: 7, 48: 14}
      date_format: dd/mm/yyyy      # only needed when day and month cannot be told apart (also read at the top level)

The rules (:class:`DateReader` applies them while the validator reads each table):

* dates are read as ISO (``2020-03-17``, also with a time, as spreadsheets and SPSS/Stata files give them),
  ``dd/mm/yyyy`` or ``mm/dd/yyyy`` when the column shows which (a day above 12), and Excel serial numbers in
  ``.xlsx`` files. A column whose slashed dates could be read both ways is refused, with an example row, until
  ``date_format:`` says which;
* a visit ``d`` days from its patient's day 0 is the visit of scheduled week ``w`` when ``|d - 7w| <=
  window_days`` (of week ``w``); where two windows overlap the nearest scheduled week wins (a tie: the earlier
  week). The baseline (week 0) window reaches ``window_days`` before day 0. A visit outside every window is an
  error naming the row, the date, the days from day 0 and the nearest scheduled week; two visits of one patient
  in one window are an error naming both rows;
* an adverse event's week of onset is ``floor(days / 7)``; an onset before day 0 is an error;
* a ``week`` column given as well must agree with the dates;
* once the weeks are computed, the date columns are dropped: no date reaches the cohort, a table of results, a
  notebook or a page. Dates appear only in the validator's error messages, on the user's own screen.

Examples
--------
>>> from analysis.core.design import Design
>>> spec = visit_dates_block({"day0": "d0", "visits": "visit_date", "window_days": 7},
...                          Design.from_mapping({"visit_weeks": [0, 4, 12], "final_week": 12}))
>>> visit_weeks_of_days([0, 30, 80, 60], spec, Design.from_mapping({"visit_weeks": [0, 4, 12], "final_week": 12}))
[0, 4, 12, None]
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from analysis.core.design import Design
from analysis.intake.problem import MAX_ROWS_PER_RULE, Problem, ProblemSink

__all__ = ["DATE_FORMATS", "DateReader", "DatesError", "VisitDates", "parse_dates", "visit_dates_block",
           "visit_weeks_of_days"]

#: the values ``date_format:`` accepts (separators ``/``, ``-`` or ``.`` are all read)
DATE_FORMATS: tuple[str, ...] = ("dd/mm/yyyy", "mm/dd/yyyy", "yyyy-mm-dd")
_KEYS = ("day0", "visits", "adverse_events", "window_days", "date_format")
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + "$")
_SLASHED = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})" + _TIME + "$")
_SERIAL = re.compile(r"^\d{2,6}(?:\.\d+)?$")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


class DatesError(ValueError):
    """A ``visit_dates:`` line that breaks a rule; ``key`` is the dotted key (``visit_dates.window_days``)."""

    def __init__(self, key: str, rule: str):
        super().__init__(f"dataset.yaml, {key}: {rule}")
        self.key = key
        self.rule = rule


@dataclass(frozen=True)
class VisitDates:
    """The parsed ``visit_dates:`` block.

    Attributes
    ----------
    day0 : str
        The patients table's column holding day 0 (the infusion).
    visits, adverse_events : str or None
        The column holding the visit date / the onset date (``None``: that table has a ``week`` column).
    window_days : dict
        Scheduled week -> days either side of ``7 * week`` that count as that week's visit.
    date_format : str or None
        One of :data:`DATE_FORMATS`, or ``None`` (read from the data).
    """

    day0: str
    visits: str | None = None
    adverse_events: str | None = None
    window_days: dict = field(default_factory=dict)
    date_format: str | None = None

    def column(self, table: str) -> str | None:
        """The date column of ``table`` (``patients``: day 0), or None."""
        return {"patients": self.day0, "visits": self.visits, "adverse_events": self.adverse_events}.get(table)

    def describe_windows(self) -> str:
        """``'±7 days'`` when every week has the same window, else ``'week 0 ±3, week 12 ±7, ...'`` (days).

        Examples
        --------
        >>> VisitDates("d0", window_days={0: 3, 12: 7}).describe_windows()
        'week 0 ±3, week 12 ±7 days'
        """
        sizes = set(self.window_days.values())
        if len(sizes) == 1:
            return f"±{sizes.pop()} days"
        return ", ".join(f"week {w} ±{d}" for w, d in sorted(self.window_days.items())) + " days"


def _whole(key: str, value: Any, what: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():  # '12': 7 (a quoted key) reads as 12
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value) or value < 0:
        raise DatesError(key, f"must be {what}, got {value!r}")
    return int(value)


def visit_dates_block(block: Any, design: Design) -> VisitDates | None:
    """Check and parse the ``visit_dates:`` block of a ``dataset.yaml`` (None when absent).

    Parameters
    ----------
    block : mapping or None
        ``meta["visit_dates"]``.
    design : Design
        The folder's schedule (``window_days`` per week may name only its visit weeks; a week left out has no
        window, and :class:`DateReader` warns).

    Returns
    -------
    VisitDates or None

    Raises
    ------
    DatesError
        The first broken rule, naming the key.

    Examples
    --------
    >>> d = Design.from_mapping({"visit_weeks": [0, 4, 12], "final_week": 12})
    >>> visit_dates_block({"day0": "inf", "visits": "vd", "window_days": {0: 3, 4: 2, 12: 7}}, d).window_days
    {0: 3, 4: 2, 12: 7}
    >>> visit_dates_block({"day0": "inf", "visits": "vd", "window_days": {0: 3, 12: 7, 6: 3}}, d)
    Traceback (most recent call last):
    ...
    analysis.intake.dates.DatesError: dataset.yaml, visit_dates.window_days: week 6 is not a scheduled visit week (0, 4, 12)
    """
    if block is None:
        return None
    if not isinstance(block, Mapping):
        raise DatesError("visit_dates", "must be a mapping such as 'day0: infusion_date', 'visits: visit_date', "
                                        f"'window_days: 7', got {block!r}")
    unknown = [str(k) for k in block if k not in _KEYS]
    if unknown:
        raise DatesError(f"visit_dates.{unknown[0]}", f"unknown key; the keys are {', '.join(_KEYS)}")
    names = {}
    for key in ("day0", "visits", "adverse_events"):
        value = block.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise DatesError(f"visit_dates.{key}", f"must be the name of your date column, got {value!r}")
        names[key] = value.strip()
    if "day0" not in names:
        raise DatesError("visit_dates.day0", "missing: name the patients' column holding day 0 (the infusion date), "
                                             "e.g. 'day0: infusion_date'")
    if "visits" not in names and "adverse_events" not in names:
        raise DatesError("visit_dates", "name the visit date column (visits: visit_date) or the adverse events' "
                                        "onset date column (adverse_events: ae_onset_date), or both")
    weeks = tuple(design.visit_weeks)
    raw = block.get("window_days")
    if raw is None:
        if "visits" in names:
            raise DatesError("visit_dates.window_days", "missing: the days either side of a scheduled week that count "
                                                        "as its visit, e.g. 'window_days: 7' or per week "
                                                        "'{0: 3, 12: 7, ...}'")
        windows = {w: 0 for w in weeks}
    elif isinstance(raw, Mapping):
        windows = {}
        for w, d in raw.items():
            wk = _whole("visit_dates.window_days", w, "a scheduled visit week as the key of each line")
            if wk not in weeks:
                raise DatesError("visit_dates.window_days", f"week {wk} is not a scheduled visit week "
                                                            f"({', '.join(map(str, weeks))})")
            windows[wk] = _whole(f"visit_dates.window_days.{wk}", d, "a whole number of days (0 or more)")
        # a scheduled week left out has no window: a visit near it is refused (the reader warns once)
    else:
        days = _whole("visit_dates.window_days", raw, "a whole number of days (0 or more) or one line per visit week "
                                                      "such as '{0: 3, 12: 7}'")
        windows = {w: days for w in weeks}
    fmt = block.get("date_format")
    if fmt is not None:
        norm = re.sub(r"[-/.]", "/", str(fmt).strip().lower())
        norm = norm.replace("%d", "dd").replace("%m", "mm").replace("%y", "yyyy")  # strftime: %d/%m/%Y
        known = {re.sub(r"[-/.]", "/", f): f for f in DATE_FORMATS}
        if norm not in known:
            raise DatesError("visit_dates.date_format", f"{fmt!r} is not a known date format; write one of "
                                                        + ", ".join(DATE_FORMATS))
        fmt = known[norm]
    return VisitDates(day0=names["day0"], visits=names.get("visits"), adverse_events=names.get("adverse_events"),
                      window_days=windows, date_format=fmt)


def visit_weeks_of_days(days, spec: VisitDates, design: Design) -> list:
    """The scheduled week of each visit ``days`` from day 0 (None outside every window).

    Examples
    --------
    >>> d = Design.from_mapping({"visit_weeks": [0, 1, 2], "final_week": 2})
    >>> s = VisitDates("d0", "vd", window_days={0: 3, 1: 4, 2: 4})
    >>> visit_weeks_of_days([-3, 3, 4, 10, 11, 19], s, d)  # 3: in weeks 0 and 1, 0 is nearer; 11: 2 is nearer
    [0, 0, 1, 1, 2, None]
    """
    week, _ = _assign(np.asarray(days, dtype=float), spec, design)
    return [None if w < 0 else int(w) for w in week]


def _assign(days: np.ndarray, spec: VisitDates, design: Design) -> tuple[np.ndarray, np.ndarray]:
    """(week or -1 outside every window, nearest scheduled week) per day count."""
    weeks = np.array(design.visit_weeks, dtype=float)
    width = np.array([spec.window_days.get(int(w), -1) for w in weeks], dtype=float)  # -1: no window
    dist = np.abs(days[:, None] - 7 * weeks[None, :])
    nearest = weeks[np.argmin(dist, axis=1)] if len(weeks) else np.zeros(len(days))
    inside = dist <= width[None, :]
    masked = np.where(inside, dist, np.inf)
    best = np.argmin(masked, axis=1)
    week = np.where(inside.any(axis=1), weeks[best], -1)
    return week.astype(int), nearest.astype(int)


# ----------------------------------------------------------------------------------------------
# Parsing
# ----------------------------------------------------------------------------------------------
def parse_dates(values, *, excel: bool = False, date_format: str | None = None,
                order: str | None = None) -> tuple[list, list, str | None]:
    """Read date texts: ISO, ``dd/mm/yyyy`` or ``mm/dd/yyyy`` (when the values show which), Excel serials.

    Parameters
    ----------
    values : sequence of str
        The cells ("" = empty).
    excel : bool
        The cells come from an ``.xlsx`` workbook (plain numbers are Excel serial dates).
    date_format : str, optional
        One of :data:`DATE_FORMATS`: the day/month order of slashed dates.
    order : {"dmy", "mdy"}, optional
        The order another column of the folder showed (used when these values do not show it).

    Returns
    -------
    dates : list
        A :class:`pandas.Timestamp` per value, ``None`` for an empty or unreadable cell.
    bad : list of (int, str)
        ``(position, rule)`` of the unreadable cells; an ambiguous column gives one entry (its first slashed value).
    order : str or None
        ``"dmy"`` or ``"mdy"`` when slashed dates were read.

    Examples
    --------
    >>> dates, bad, order = parse_dates(["2020-03-17", "17/03/2020", "03/04/2020", ""])
    >>> [str(d.date()) if d is not None else None for d in dates], bad, order
    (['2020-03-17', '2020-03-17', '2020-04-03', None], [], 'dmy')
    >>> parse_dates(["03/04/2020"])[1]  # doctest: +ELLIPSIS
    [(0, "could be read as 3 April or as 4 March 2020; declare the order under visit_dates: in dataset.yaml, ...
    >>> [str(d.date()) for d in parse_dates(["43907"], excel=True)[0]]
    ['2020-03-17']
    """
    values = [str(v).strip() for v in values]
    out: list = [None] * len(values)
    bad: list = []
    slashed = []
    for i, v in enumerate(values):
        if v == "":
            continue
        m = _ISO.match(v)
        if m:
            out[i] = _make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if out[i] is None:
                bad.append((i, "not a calendar date (year-month-day)"))
            continue
        m = _SLASHED.match(v)
        if m:
            slashed.append((i, int(m.group(1)), int(m.group(2)), int(m.group(3))))
            continue
        if excel and _SERIAL.match(v) and float(v) >= 61:
            out[i] = _EXCEL_EPOCH + pd.Timedelta(days=int(float(v)))
            continue
        hint = (" (Excel serial numbers are read only from .xlsx files; write the dates as yyyy-mm-dd)"
                if _SERIAL.match(v) else "")
        bad.append((i, f"not a date: write yyyy-mm-dd (also read: dd/mm/yyyy, mm/dd/yyyy){hint}"))
    if slashed:
        if date_format == "dd/mm/yyyy":
            order = "dmy"
        elif date_format == "mm/dd/yyyy":
            order = "mdy"
        else:
            day_first = any(a > 12 for _, a, _, _ in slashed)
            month_first = any(b > 12 for _, _, b, _ in slashed)
            if day_first and month_first:
                i = next(i for i, a, _, _ in slashed if a > 12)
                j = next(j for j, _, b, _ in slashed if b > 12)
                bad.append((j, f"mixes day-first and month-first dates (row of '{values[i]}' is day first, this one "
                               "month first); write every date as yyyy-mm-dd"))
                return out, bad, None
            if day_first:
                order = "dmy"
            elif month_first:
                order = "mdy"
            elif order is None:
                i, a, b, y = slashed[0]
                bad.append((i, f"could be read as {a} {_MONTHS[b - 1]} or as {b} {_MONTHS[a - 1]} {y}; declare the "
                               "order under visit_dates: in dataset.yaml, e.g. 'date_format: dd/mm/yyyy' (or "
                               "mm/dd/yyyy), or write the dates as yyyy-mm-dd"))
                return out, bad, None
        for i, a, b, y in slashed:
            d, mo = (a, b) if order == "dmy" else (b, a)
            out[i] = _make(y, mo, d)
            if out[i] is None:
                bad.append((i, f"not a calendar date (read as {'dd/mm/yyyy' if order == 'dmy' else 'mm/dd/yyyy'})"))
    return out, sorted(bad), order


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _make(y: int, m: int, d: int):
    try:
        return pd.Timestamp(year=y, month=m, day=d)
    except ValueError:
        return None


# ----------------------------------------------------------------------------------------------
# Applying the block while a folder is read
# ----------------------------------------------------------------------------------------------
def _find(df: pd.DataFrame, name: str) -> str | None:
    if name in df.columns:
        return name
    low = [c for c in df.columns if str(c).lower() == name.lower()]
    return low[0] if low else None


def _text(s: pd.Series) -> np.ndarray:
    return np.array(["" if pd.isna(v) else str(v) for v in s.astype(object)], dtype=object)


class _Capped:
    """A :class:`ProblemSink` that lists at most :data:`MAX_ROWS_PER_RULE` rows per kind of problem, then counts."""

    def __init__(self, out: ProblemSink):
        self.out = out
        self.counts: dict[tuple, list] = {}

    def add(self, row, column, value, rule, severity="error", kind=None):
        key = (column, kind or rule, severity)
        seen = self.counts.setdefault(key, [])
        seen.append(row)
        if row is None or len(seen) <= MAX_ROWS_PER_RULE:
            self.out.add(row, column, value, rule, severity)

    def flush(self):
        for (column, kind, severity), rows in self.counts.items():
            rest = [r for r in rows[MAX_ROWS_PER_RULE:] if r is not None]
            if rest:
                self.out.problems.append(Problem(self.out.fname, None, column, None,
                                                 f"{kind}: also in {len(rest):,} more rows (rows {rest[0]} to "
                                                 f"{rest[-1]})", severity, count=len(rest)))


class DateReader:
    """Applies a :class:`VisitDates` to the tables of one folder, in the validator's order (patients first).

    Parameters
    ----------
    spec : VisitDates
    design : Design

    Examples
    --------
    >>> d = Design.from_mapping({"visit_weeks": [0, 4], "final_week": 4})
    >>> reader = DateReader(VisitDates("inf", "vd", window_days={0: 2, 4: 3}), d)
    >>> cat = lambda xs: pd.Series(pd.Categorical(xs), index=pd.RangeIndex(2, 2 + len(xs), name="row"))
    >>> found = []
    >>> p = reader.apply("patients", pd.DataFrame({"patient_id": cat(["P1"]), "inf": cat(["2020-03-02"])}),
    ...                  ProblemSink("patients.csv", found), "patients.csv")
    >>> v = pd.DataFrame({"patient_id": cat(["P1", "P1"]), "vd": cat(["2020-03-01", "2020-04-01"]),
    ...                   "tjc28": cat(["3", "2"])})
    >>> v = reader.apply("visits", v, ProblemSink("visits.csv", found), "visits.csv")
    >>> list(p.columns), list(v.columns), v["week"].tolist(), [x.severity for x in found]
    (['patient_id'], ['patient_id', 'tjc28', 'week'], ['0', '4'], ['note', 'note'])
    """

    def __init__(self, spec: VisitDates, design: Design):
        self.spec = spec
        self.design = design
        self.day0: dict[str, pd.Timestamp] = {}
        self.order: str | None = None
        self.seen_patients = False

    def apply(self, table: str, df: pd.DataFrame, out: ProblemSink, fname: str) -> pd.DataFrame:
        """``df`` with its date column turned into weeks (or, for patients, remembered as day 0) and dropped."""
        name = self.spec.column(table)
        if name is None:
            return df
        out = _Capped(out)
        try:
            return self._apply(table, df, out, fname, name)
        finally:
            out.flush()

    def _apply(self, table, df, out, fname, name):
        col = _find(df, name)
        key = {"patients": "day0"}.get(table, table)
        if col is None:
            out.add(None, name, None, f"missing date column '{name}' (visit_dates.{key} in dataset.yaml names it)")
            return df
        if "patient_id" not in df.columns:
            return df.drop(columns=[col])  # the missing patient_id is the table's own error
        if table != "patients" and not self.seen_patients:
            out.add(None, col, None, f"the weeks cannot be computed: day 0 ({self.spec.day0}) comes from the "
                                     "patients table, which could not be read")
            return df.drop(columns=[col])
        texts = _text(df[col])
        dates, bad, order = parse_dates(texts, excel=fname.lower().endswith(".xlsx"),
                                        date_format=self.spec.date_format, order=self.order)
        self.order = self.order or order
        rows = df.index.to_numpy()
        for i, rule in bad:
            out.add(int(rows[i]), col, texts[i], rule, kind="not a date")
        pid = _text(df["patient_id"])
        if table == "patients":
            return self._patients(df, col, texts, dates, pid, rows, out)
        return self._events(table, df, col, texts, dates, {i for i, _ in bad}, pid, rows, out)

    def _window_text(self, w: int) -> str:
        d = self.spec.window_days.get(w)
        return f"day {7 * w} ± {d} days" if d is not None else f"day {7 * w}, no window declared"

    def _patients(self, df, col, texts, dates, pid, rows, out):
        self.seen_patients = True
        for i, d in enumerate(dates):
            if d is None and texts[i] == "":
                out.add(int(rows[i]), col, None, "empty cell: day 0 (the infusion date) is needed to compute the "
                                                 "weeks of the visits", kind="empty cell")
            if d is not None and pid[i] and pid[i] not in self.day0:
                self.day0[pid[i]] = d
        out.add(None, col, None, "day 0 of each patient read; the date column is dropped", "note")
        return df.drop(columns=[col])

    def _events(self, table, df, col, texts, dates, bad, pid, rows, out):
        n = len(df)
        has_week = "week" in df.columns
        given = pd.to_numeric(pd.Series(_text(df["week"])), errors="coerce").to_numpy() if has_week else None
        days = np.full(n, np.nan)
        keep = np.ones(n, dtype=bool)
        measures = [c for c in df.columns if c not in ("patient_id", "week", col)]
        for i in range(n):
            if i in bad:
                keep[i] = False
                continue
            if dates[i] is None:  # an empty date
                if has_week and not np.isnan(given[i]):
                    continue  # the week column says which visit
                if table == "visits" and all(_text(df[m].iloc[[i]])[0] == "" for m in measures):
                    out.add(int(rows[i]), col, None, "no date and no measurement; left out (a missed visit)", "note",
                            kind="no date and no measurement, left out")
                else:
                    out.add(int(rows[i]), col, None, "empty cell: the date is needed to compute the week",
                            kind="empty cell")
                keep[i] = False
                continue
            d0 = self.day0.get(pid[i])
            if d0 is None:
                out.add(int(rows[i]), col, texts[i],
                        f"patient '{pid[i]}' has no day 0 ({self.spec.day0} in the patients table), so the week "
                        "cannot be computed", kind="no day 0 for the patient")
                keep[i] = False
                continue
            days[i] = (dates[i] - d0).days
        ok = ~np.isnan(days)
        week = np.full(n, -1)
        if table == "visits":
            missing = [w for w in self.design.visit_weeks if w not in self.spec.window_days]
            if missing:
                out.add(None, col, None, "visit_dates.window_days in dataset.yaml gives no window for the scheduled "
                                         f"week{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))}: a "
                                         f"visit there is refused as outside every window (add e.g. '{missing[0]}: 3')",
                        "warning")
            assigned, nearest = _assign(np.where(ok, days, 0.0), self.spec, self.design)
            for i in np.flatnonzero(ok & (assigned < 0)):
                w = int(nearest[i])
                out.add(int(rows[i]), col, texts[i],
                        f"outside every visit window: {int(days[i])} days from day 0 (patient {pid[i]}); the nearest "
                        f"scheduled visit is week {w} ({self._window_text(w)})",
                        kind="outside every visit window")
                keep[i] = False
            week = np.where(ok & (assigned >= 0), assigned, -1)
            seen: dict = {}
            for i in np.flatnonzero(week >= 0):
                k = (pid[i], int(week[i]))
                if k in seen:
                    j = seen[k]
                    w = int(week[i])
                    out.add(int(rows[i]), col, texts[i],
                            f"patient {pid[i]} has two visits in the window of week {w} (day {7 * w} ± "
                            f"{self.spec.window_days.get(w, 0)}): rows {int(rows[j])} and {int(rows[i])}, days "
                            f"{int(days[j])} and {int(days[i])} from day 0; keep one of them",
                            kind="two visits of a patient in one window")
                    keep[i] = False
                else:
                    seen[k] = i
        else:
            before = ok & (days < 0)
            for i in np.flatnonzero(before):
                out.add(int(rows[i]), col, texts[i],
                        f"onset {int(-days[i])} days before day 0 (patient {pid[i]}); an adverse event of the trial "
                        "starts on or after the infusion", kind="onset before day 0")
                keep[i] = False
            week = np.where(ok & ~before, np.floor(np.where(ok, days, 0) / 7), -1).astype(int)
        if has_week:
            clash = (week >= 0) & ~np.isnan(given) & (given != week)
            for i in np.flatnonzero(clash):
                out.add(int(rows[i]), "week", str(_text(df["week"])[i]),
                        f"the week column disagrees with the date in '{col}' ({texts[i]}, {int(days[i])} days from "
                        f"day 0: week {int(week[i])}); correct one of them", kind="the week disagrees with the date")
            text = np.where((week >= 0) & ~clash, week.astype(str), _text(df["week"]))
        else:
            text = week.astype(str)
        text = np.where(text == "-1", "", text)
        df = df.drop(columns=[col]).assign(week=pd.Categorical(text))
        df = df[keep]
        df = df.assign(week=df["week"].cat.remove_unused_categories())
        out.add(None, col, None, f"weeks computed from the dates ({int(keep.sum()):,} rows); the date column is "
                                 "dropped", "note")
        return df
