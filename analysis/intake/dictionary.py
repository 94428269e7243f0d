"""The data contract: one machine-readable data dictionary.

Everything that needs to know about columns (validator, template writer, loader,
simulator, the book's data-dictionary page) asks this module; the facts live in
``data_dictionary.yaml`` beside it.

Two rules depend on the trial's design (:class:`analysis.core.design.Design`, from the data folder's
``dataset.yaml``): the visit weeks a visit may have (``allowed: design.visit_weeks``) and the last week
an adverse event may have (``max: design.final_week``). :func:`columns` resolves them for a given
design (the paper's by default).

Which columns a folder must have: ``required: true`` columns must exist; at least one column of each
``required_one_of`` group must exist (the DAS28 needs ESR or CRP); every other column is optional and
may be absent or entirely empty. :func:`required_columns` and :func:`optional_columns` list them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from analysis.core.design import PAPER, Design

__all__ = [
    "CLINICAL_COLUMNS",
    "Column",
    "TABLES",
    "columns",
    "design_weeks",
    "dictionary_table",
    "load_dictionary",
    "marker_columns",
    "optional_columns",
    "required_columns",
    "required_one_of",
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
    text = resources.files("analysis.intake").joinpath("data_dictionary.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def load_dictionary() -> dict:
    """Return the parsed data dictionary (a fresh deep copy of the YAML).

    The paper's design is added under ``design_weeks``, ``response_week`` and ``final_week`` (the
    defaults a data folder's ``dataset.yaml`` may change; see :mod:`analysis.core.design`).

    Examples
    --------
    >>> d = load_dictionary()
    >>> d["design_weeks"], d["response_week"], d["final_week"]
    ([0, 1, 2, 3, 4, 12, 24, 48], 12, 48)
    """
    import copy

    d = copy.deepcopy(_raw())
    d.setdefault("design_weeks", list(PAPER.visit_weeks))
    d.setdefault("response_week", PAPER.response_week)
    d.setdefault("final_week", PAPER.final_week)
    return d


def design_weeks(design: Design | None = None) -> tuple[int, ...]:
    """Scheduled visit weeks of ``design`` (the paper's design by default).

    Examples
    --------
    >>> design_weeks()[-1]
    48
    """
    return tuple((design or PAPER).visit_weeks)


def columns(table: str, design: Design | None = None) -> list[Column]:
    """Columns of one table, in contract order, with the design's rules resolved.

    Parameters
    ----------
    table : str
        One of ``"patients"``, ``"visits"``, ``"adverse_events"``.
    design : Design, optional
        The trial's design; values written ``design.<attribute>`` in the dictionary (the visit weeks, the
        final week) take this design's. Default: the paper's design. ``Column.extra["design"]`` records
        which fields came from the design (``{"allowed": "visit_weeks"}``).

    Examples
    --------
    >>> [c.name for c in columns("adverse_events")]
    ['patient_id', 'week', 'event', 'serious', 'related']
    >>> from analysis.core.design import Design
    >>> wk = next(c for c in columns("visits", Design.from_mapping({"visit_weeks": [0, 6, 12]})) if c.name == "week")
    >>> wk.allowed, wk.extra["design"]
    ((0, 6, 12), {'allowed': 'visit_weeks'})
    """
    raw = _raw()["tables"]
    if table not in raw:
        raise ValueError(f"`table` must be one of {list(raw)}, got {table!r}")
    if design is not None and not isinstance(design, Design):
        raise TypeError(f"`design` must be an analysis.core.design.Design or None, got {design!r}")
    design = design or PAPER
    out = []
    known = {f for f in Column.__dataclass_fields__}
    for name, spec in raw[table]["columns"].items():
        spec = dict(spec)
        from_design = {}
        for key, value in list(spec.items()):
            if isinstance(value, str) and value.startswith("design."):
                attr = value.split(".", 1)[1]
                from_design[key] = attr
                spec[key] = getattr(design, attr)
        extra = {k: spec.pop(k) for k in list(spec) if k not in known}
        if from_design:
            extra["design"] = from_design
        if "allowed" in spec and spec["allowed"] is not None:
            spec["allowed"] = tuple(spec["allowed"])
        if "normal" in spec and spec["normal"] is not None:
            spec["normal"] = tuple(spec["normal"])
        spec.setdefault("missing_ok", not spec.get("required", False) or spec.get("missing_ok", True))
        out.append(Column(table=table, name=name, extra=extra, **spec))
    return out


def required_one_of(table: str) -> list[tuple[str, ...]]:
    """Groups of columns of ``table`` of which at least one must exist.

    Examples
    --------
    >>> required_one_of("visits")
    [('esr_mm_h', 'crp_mg_l')]
    >>> required_one_of("patients")
    []
    """
    raw = _raw()["tables"]
    if table not in raw:
        raise ValueError(f"`table` must be one of {list(raw)}, got {table!r}")
    return [tuple(g) for g in raw[table].get("required_one_of", []) or []]


def required_columns(table: str) -> tuple[str, ...]:
    """Columns ``table`` must have (``required: true``), in contract order; see also :func:`required_one_of`.

    Examples
    --------
    >>> required_columns("visits")
    ('patient_id', 'week', 'tjc28', 'sjc28', 'patient_global_mm')
    """
    return tuple(c.name for c in columns(table) if c.required)


def optional_columns(table: str) -> tuple[str, ...]:
    """Columns ``table`` may lack or leave entirely empty (neither required nor in a ``required_one_of`` group).

    Examples
    --------
    >>> opt = optional_columns("visits")
    >>> "ifn_g" in opt, "esr_mm_h" in opt, "tjc28" in opt
    (True, False, False)
    """
    grouped = {name for g in required_one_of(table) for name in g}
    return tuple(c.name for c in columns(table) if not c.required and c.name not in grouped)


#: The visit columns that are *clinical*: the patient's disease activity, function and treatment. They are what
#: the DAS28 (tender and swollen joints, ESR or CRP, patient global) and so the EULAR response are computed from,
#: plus the HAQ-DI and the prednisone dose. Every other measured visit column (cells, cytokines with IFN-γ,
#: autoantibodies, safety labs) is a *marker* (:func:`marker_columns`). The split is the one the null models
#: and the data resampling use: under ``permute_mechanism`` (:mod:`analysis.scorecard.resample`) the clinical
#: columns, and so DAS28 and the EULAR response, stay with their patient while the markers move; ``shuffle_time``
#: shuffles the markers only. The one place this split is written.
CLINICAL_COLUMNS: tuple[str, ...] = ("tjc28", "sjc28", "esr_mm_h", "crp_mg_l", "patient_global_mm", "haq_di",
                                     "prednisone_mg_day")


def marker_columns(table: str = "visits") -> tuple[str, ...]:
    """The measures of ``table`` that are not clinical (:data:`CLINICAL_COLUMNS`) nor keys, in contract order.

    Examples
    --------
    >>> m = marker_columns()
    >>> "ifn_g" in m, "treg_pct" in m, "tjc28" in m, "week" in m
    (True, True, False, False)
    """
    keys = set(_raw()["tables"][table].get("key", []) or []) | {"patient_id", "week"}
    return tuple(c.name for c in columns(table) if c.name not in keys and c.name not in CLINICAL_COLUMNS)


def _required_text(table: str, c: Column) -> str:
    if c.required:
        return "yes"
    for group in required_one_of(table):
        if c.name in group:
            others = " or ".join(f"`{n}`" for n in group if n != c.name)
            return f"yes, or {others} instead"
    return "optional"


def dictionary_table() -> pd.DataFrame:
    """The whole contract as one tidy table (one row per column), for the book's page.

    Returns
    -------
    pandas.DataFrame
        Columns ``table, column, type, unit, required, empty allowed, allowed, description``.
        ``required`` is ``"yes"`` (the column must exist), ``"yes, or `x` instead"`` (one of a group
        must exist, e.g. ESR or CRP for the DAS28) or ``"optional"`` (the column may be absent or
        entirely empty). Rules that come from the design say so (``allowed`` of the visit week).

    Examples
    --------
    >>> t = dictionary_table()
    >>> t.loc[t["column"] == "haq_di", "allowed"].item()
    '0 to 3, steps of 0.125'
    >>> t.set_index("column").loc[["tjc28", "esr_mm_h", "ifn_g"], "required"].tolist()
    ['yes', 'yes, or `crp_mg_l` instead', 'optional']
    """
    rows = []
    for table in TABLES:
        for c in columns(table):
            from_design = c.extra.get("design", {})
            if from_design.get("allowed") == "visit_weeks":
                allowed = ("a visit week of the design (dataset.yaml `design: visit_weeks`; default "
                           + ", ".join(str(a) for a in c.allowed) + ")")
            elif c.allowed is not None:
                allowed = ", ".join(str(a) for a in c.allowed)
            elif from_design.get("max") == "final_week":
                allowed = f"{_fmt(c.min)} to the design's final week (default {_fmt(c.max)})"
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
                    "required": _required_text(table, c),
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
