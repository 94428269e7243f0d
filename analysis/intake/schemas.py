"""pandera schemas generated from the data dictionary, for the *loaded* (typed) tables.

The validator (:mod:`analysis.intake.validate`) checks the raw files: it must name spreadsheet rows, accept
``<LLOQ``/``>ULOQ`` tokens, and stay fast on a million rows. These schemas state the same per-column
contract for the typed tables that :func:`analysis.intake.io.load` returns, so a user who derives or edits a
cohort in pandas can check it with pandera, and the test suite checks that the loader's output keeps the
contract. Both are generated from ``data_dictionary.yaml``: one source.
"""
from __future__ import annotations

import pandera.pandas as pa

from analysis.core.design import Design
from analysis.intake.dictionary import TABLES, Column, columns

__all__ = ["schema", "schemas"]

_DTYPES = {"str": object, "category": object, "int": "Int64", "float": float, "bool": "boolean"}


def _checks(col: Column) -> list:
    checks = []
    if col.allowed is not None:
        checks.append(pa.Check.isin(list(col.allowed)))
    if col.min is not None:
        checks.append(pa.Check.ge(col.min))
    if col.max is not None:
        checks.append(pa.Check.le(col.max))
    if col.step is not None:
        step = col.step
        checks.append(pa.Check(lambda s, step=step: ((s / step).round(9) % 1 == 0), name=f"multiple_of_{step:g}"))
    return checks


def schema(table: str, design: Design | None = None) -> pa.DataFrameSchema:
    """The pandera schema of one loaded table (``patients``, ``visits`` or ``adverse_events``).

    Required columns must exist; empty cells are allowed where the dictionary says ``missing_ok``; ranges,
    allowed values and grids (HAQ-DI steps of 0.125) are checked; key columns must be unique together.
    The visit weeks and the last adverse-event week are ``design``'s (a cohort's ``cohort.design``; the
    paper's by default).

    Examples
    --------
    >>> import pandas as pd
    >>> s = schema("adverse_events")
    >>> ok = pd.DataFrame({"patient_id": ["P1"], "week": pd.array([0], dtype="Int64"), "event": ["fever"],
    ...                    "serious": pd.array([False], dtype="boolean"), "related": pd.array([True], dtype="boolean")})
    >>> len(s.validate(ok))
    1
    """
    if table not in TABLES:
        raise ValueError(f"`table` must be one of {list(TABLES)}, got {table!r}")
    cols = {}
    for col in columns(table, design):
        checks = _checks(col)
        cols[col.name] = pa.Column(_DTYPES[col.type], checks=checks, nullable=col.missing_ok,
                                   required=col.required, coerce=False)
    key = {"patients": ["patient_id"], "visits": ["patient_id", "week"]}.get(table)
    return pa.DataFrameSchema(cols, unique=key, strict=False, name=table)


def schemas(design: Design | None = None) -> dict[str, pa.DataFrameSchema]:
    """All three schemas, by table name (for ``design``, the paper's by default).

    Examples
    --------
    >>> sorted(schemas())
    ['adverse_events', 'patients', 'visits']
    """
    return {t: schema(t, design) for t in TABLES}
