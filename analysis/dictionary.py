"""The data contract: one machine-readable data dictionary.

Everything that needs to know about columns (validator, template writer, loader,
simulator, the book's data-dictionary page) asks this module; the facts live in
``data_dictionary.yaml`` beside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml

__all__ = [
    "Column",
    "TABLES",
    "columns",
    "design_weeks",
    "dictionary_table",
    "load_dictionary",
]

TABLES: tuple[str, ...] = ("patients", "visits", "adverse_events")


@dataclass(frozen=True)
class Column:
    """One column of the data contract."""

    table: str
    name: str
    type: str
    description: str = ""
    unit: str = ""
    required: bool = False
    missing_ok: bool = True
    min: float | None = None
    max: float | None = None
    allowed: tuple[Any, ...] | None = None
    step: float | None = None
    lloq: float | None = None
    uloq: float | None = None
    normal: tuple[float, float] | None = None
    extra: dict = field(default_factory=dict)


@lru_cache(maxsize=1)
def _raw() -> dict:
    text = resources.files("analysis").joinpath("data_dictionary.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def load_dictionary() -> dict:
    """Return the parsed data dictionary (a fresh deep copy of the YAML).

    Examples
    --------
    >>> d = load_dictionary()
    >>> d["design_weeks"]
    [0, 1, 2, 3, 4, 12, 24, 48]
    """
    import copy

    return copy.deepcopy(_raw())


def design_weeks() -> tuple[int, ...]:
    """Scheduled visit weeks of the study design.

    Examples
    --------
    >>> design_weeks()[-1]
    48
    """
    return tuple(_raw()["design_weeks"])


def columns(table: str) -> list[Column]:
    """Columns of one table, in contract order.

    Parameters
    ----------
    table : str
        One of ``"patients"``, ``"visits"``, ``"adverse_events"``.

    Examples
    --------
    >>> [c.name for c in columns("adverse_events")]
    ['patient_id', 'week', 'event', 'serious', 'related']
    """
    raw = _raw()["tables"]
    if table not in raw:
        raise ValueError(f"`table` must be one of {list(raw)}, got {table!r}")
    out = []
    known = {f for f in Column.__dataclass_fields__}
    for name, spec in raw[table]["columns"].items():
        spec = dict(spec)
        extra = {k: spec.pop(k) for k in list(spec) if k not in known}
        if "allowed" in spec and spec["allowed"] is not None:
            spec["allowed"] = tuple(spec["allowed"])
        if "normal" in spec and spec["normal"] is not None:
            spec["normal"] = tuple(spec["normal"])
        spec.setdefault("missing_ok", not spec.get("required", False) or spec.get("missing_ok", True))
        out.append(Column(table=table, name=name, extra=extra, **spec))
    return out


def dictionary_table() -> pd.DataFrame:
    """The whole contract as one tidy table (one row per column), for the book's page.

    Returns
    -------
    pandas.DataFrame
        Columns ``table, column, type, unit, required, allowed, description``.

    Examples
    --------
    >>> t = dictionary_table()
    >>> t.loc[t["column"] == "haq_di", "allowed"].item()
    '0 to 3, steps of 0.125'
    """
    rows = []
    for table in TABLES:
        for c in columns(table):
            if c.allowed is not None:
                allowed = ", ".join(str(a) for a in c.allowed)
            elif c.min is not None or c.max is not None:
                allowed = f"{_fmt(c.min)} to {_fmt(c.max)}"
            else:
                allowed = ""
            if c.step is not None:
                allowed += f", steps of {_fmt(c.step)}"
            if c.lloq is not None:
                allowed += f"; or <LLOQ (LLOQ = {_fmt(c.lloq)})"
            if c.uloq is not None:
                allowed += f"; or >ULOQ (ULOQ = {_fmt(c.uloq)})"
            if c.normal is not None:
                allowed += f"; normal {_fmt(c.normal[0])}-{_fmt(c.normal[1])}"
            rows.append(
                {
                    "table": table,
                    "column": c.name,
                    "type": c.type,
                    "unit": c.unit,
                    "required": "yes" if c.required else "no",
                    "empty allowed": "yes" if c.missing_ok else "no",
                    "allowed": allowed,
                    "description": c.description,
                }
            )
    return pd.DataFrame(rows)


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:g}"
