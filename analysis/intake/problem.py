"""A broken rule in one place of a data folder (:class:`Problem`), the report that lists them, and the sink that
collects them from boolean masks.

Every reader and rule of :mod:`analysis.intake` returns its findings as :class:`Problem` values: the validator
(:mod:`analysis.intake.validate`), the per-column and per-table rules (:mod:`analysis.intake.contract`), the byte
sniffer (:mod:`analysis.intake.sniff`), the statistical-file readers (:mod:`analysis.intake.readers`), the
diagnoses (:mod:`analysis.intake.hints`) and the privacy rules (:mod:`analysis.intake.pii`). This module imports
none of them.

A rule computed on a whole column reports through a :class:`ProblemSink`: at most :data:`MAX_ROWS_PER_RULE` rows
are listed per (file, column, rule) and the rest are summarised in one line that carries their count.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

__all__ = ["MAX_ROWS_PER_RULE", "Problem", "ProblemSink", "format_problems", "short_value"]

#: Rows listed one by one per (file, column, rule); further rows are summarised in one problem.
MAX_ROWS_PER_RULE = 100
_VALUE_WIDTH = 40  # characters of an offending value a problem shows


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
        ``"error"`` (the data cannot be used), ``"warning"`` (data still usable, but check it; ``--strict``
        makes it an error) or ``"note"`` (how the data were read, e.g. an empty visit row counted as missed).
    count : int
        How many cells this line stands for (1, or more for a summary line of repeated problems).

    Examples
    --------
    >>> print(Problem("visits.csv", 14, "haq_di", "1.3", "must be a multiple of 0.125 between 0 and 3"))
    visits.csv, row 14, column 'haq_di', value '1.3': must be a multiple of 0.125 between 0 and 3
    >>> print(Problem("visits.csv", None, "foo", None, "unknown column, ignored", severity="warning"))
    visits.csv, column 'foo': unknown column, ignored (warning)
    >>> print(Problem("visits.csv", 49, None, None, "patient S07, week 24 has no measurement; counted as a "
    ...               "missed visit", severity="note"))
    visits.csv, row 49: patient S07, week 24 has no measurement; counted as a missed visit (note)
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
        return text + f" ({self.severity})" if self.severity in ("warning", "note") else text


def format_problems(problems, limit: int = 50, *, folder=None, strict: bool = False) -> str:
    """Turn a problem list into one readable report: a header line, then one line per problem.

    Parameters
    ----------
    problems : list of Problem
        As returned by :func:`analysis.intake.validate.validate_folder`.
    limit : int
        Show at most this many lines; the rest are counted in a final ``... and N more problems`` line.
    folder : str or Path, optional
        Data folder named in the header line.
    strict : bool
        Warnings count as errors (``--strict``): the header says the folder breaks the contract when it has
        any warning.

    Returns
    -------
    str
        Errors first, then warnings, then notes, each in the order found.

    Examples
    --------
    >>> ps = [Problem("patients.csv", 3, "age", "abc", "must be a whole number"),
    ...       Problem("visits.csv", None, "foo", None, "unknown column, ignored", severity="warning")]
    >>> print(format_problems(ps, folder="my_cohort"))
    Data folder 'my_cohort' breaks the data contract: 1 error, 1 warning.
      - patients.csv, row 3, column 'age', value 'abc': must be a whole number
      - visits.csv, column 'foo': unknown column, ignored (warning)
    >>> print(format_problems(ps[1:], folder="my_cohort"))
    Data folder 'my_cohort' passes with 1 warning.
      - visits.csv, column 'foo': unknown column, ignored (warning)
    >>> print(format_problems(ps[1:], folder="my_cohort", strict=True).splitlines()[0])
    Data folder 'my_cohort' breaks the data contract under --strict (warnings are errors): 0 errors, 1 warning.
    >>> print(format_problems([], folder="my_cohort"))
    Data folder 'my_cohort': no problems found.
    """
    if not isinstance(limit, int) or limit < 0:
        raise ValueError(f"`limit` must be a non-negative integer, got {limit!r}")
    problems = list(problems)
    where = f"Data folder '{folder}'" if folder is not None else "The data folder"
    n_err = sum(p.count for p in problems if p.severity == "error")
    n_warn = sum(p.count for p in problems if p.severity == "warning")
    n_note = sum(p.count for p in problems if p.severity not in ("error", "warning"))
    if not problems:
        return f"{where}: no problems found."
    notes = f", {_plural(n_note, 'note')}" if n_note else ""
    counts = f"{_plural(n_err, 'error')}, {_plural(n_warn, 'warning')}{notes}"
    if n_err:
        head = f"{where} breaks the data contract: {counts}."
    elif strict and n_warn:
        head = f"{where} breaks the data contract under --strict (warnings are errors): {counts}."
    else:
        kinds = [_plural(n, w) for n, w in ((n_warn, "warning"), (n_note, "note")) if n]
        head = f"{where} passes with {' and '.join(kinds)}."
    order = {"error": 0, "warning": 1}
    ordered = sorted(problems, key=lambda p: order.get(p.severity, 2))  # stable: errors, warnings, notes
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


def short_value(value) -> str:
    """``value`` as text, cut to 40 characters (the last one an ellipsis) when longer.

    Examples
    --------
    >>> short_value(4.5)
    '4.5'
    >>> short_value("x" * 50) == "x" * 39 + "…"
    True
    """
    text = str(value)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"


class ProblemSink:
    """Problem sink for one file: lists the first rows of each mask, summarises the rest.

    Parameters
    ----------
    fname : str
        File named by every problem added.
    problems : list of Problem
        Appended to in place.

    Examples
    --------
    >>> found = []
    >>> out = ProblemSink("visits.csv", found)
    >>> s = pd.Series(["1", "x", "y"], index=pd.RangeIndex(2, 5, name="row"))
    >>> out.mask(s, s.isin(["x", "y"]), "week", "must be a whole number")
    >>> [str(p) for p in found]  # doctest: +NORMALIZE_WHITESPACE
    ["visits.csv, row 3, column 'week', value 'x': must be a whole number",
     "visits.csv, row 4, column 'week', value 'y': must be a whole number"]
    """

    def __init__(self, fname: str, problems: list[Problem]):
        self.fname = fname
        self.problems = problems

    def add(self, row, column, value, rule, severity="error"):
        """Add one problem of this file (``value`` shortened by :func:`short_value`)."""
        self.problems.append(Problem(self.fname, row, column, None if value is None else short_value(value),
                                     rule, severity))

    def mask(self, values: pd.Series, mask, column: str | None, rule: str | Callable[[str, int], str],
             summary: str | None = None, severity: str = "error"):
        """One problem per row where ``mask`` is true for the first :data:`MAX_ROWS_PER_RULE` rows, one for the rest.

        ``values`` gives the rows (its index: spreadsheet row numbers) and the values shown; ``rule`` is a text or a
        function ``(value, row) -> text``; ``summary`` is the rule text of the summary line (default: ``rule``
        when it is a text).
        """
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
