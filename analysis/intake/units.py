"""One table of unit conversions: the units a column may be recorded in, converted to the dictionary's unit.

A data folder's ``dataset.yaml`` may say, under ``units:``, which unit a column was recorded in
(``crp_mg_l: mg/dL``). On reading, every value of that column is multiplied by the factor of that unit
in :data:`CONVERSIONS`, so everything after the reader (validator, loader, chapters) sees the data
dictionary's unit. The factors are written as arithmetic on stated constants (10 dL per L, molar
masses), so each one can be checked by hand:

* ``crp_mg_l`` (mg/L) from mg/dL: x 10 (1 L = 10 dL);
* ``hemoglobin_g_l``, ``albumin_g_l``, ``total_protein_g_l``, ``globulin_g_l`` (g/L) from g/dL: x 10;
* ``creatinine_umol_l`` (µmol/L) from mg/dL: x 10 000 / 113.12 = 88.40 (creatinine 113.12 g/mol);
* ``glucose_mmol_l`` (mmol/L) from mg/dL: x 10 / 180.16 (glucose 180.16 g/mol);
* ``cholesterol_mmol_l`` (mmol/L) from mg/dL: x 10 / 386.65 (cholesterol 386.65 g/mol);
* ``triglyceride_mmol_l`` (mmol/L) from mg/dL: x 10 / 885.7 (as triolein, the laboratory convention);
* ``urea_mmol_l`` (mmol/L) from mg/dL urea: x 10 / 60.06 (urea 60.06 g/mol), or from mg/dL BUN (blood
  urea nitrogen): x 10 / 28.014 (two nitrogen atoms of 14.007 g/mol per urea molecule);
* ``platelets_10e9_l``, ``wbc_10e9_l`` (10^9/L) from /µL (cells per µL): x 1/1000 (1 L = 10^6 µL), and
  from 10^3/µL: x 1.

Units are compared after :func:`normalise_unit` (case, spaces, ``µ``/``μ``/``u`` and ``mcl`` for ``µL``,
``mm3`` for ``µL``). Plain ``mg/dL`` for urea is refused as ambiguous (most US laboratories report blood
urea nitrogen); write ``mg/dL BUN`` or ``mg/dL urea``.

Where no unit is declared, :func:`unit_hint` applies one stated rule to warn about values that look like
they were recorded in another unit: *the column's median lies outside the plausible range of medians
in the dictionary's unit* (:data:`PLAUSIBLE_MEDIAN`), *and converted from an alternative unit it would lie
inside it*. It needs at least :data:`MIN_VALUES_FOR_HINT` values and only ever warns. For CRP the
plausible medians are 3 to 200 mg/L (an RA cohort whose median CRP is below 3 mg/L over all its visits is
unusual), so a median between 0.3 and 3 warns that the values look like mg/dL.

Examples
--------
>>> factor("crp_mg_l", "mg/dL")
10.0
>>> convert([1.2, 0.35], "crp_mg_l", "mg/dL")
[12.0, 3.5]
>>> round(convert([1.0], "creatinine_umol_l", "mg/dL")[0], 1)
88.4
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

__all__ = [
    "CONVERSIONS", "MIN_VALUES_FOR_HINT", "PLAUSIBLE_MEDIAN", "Conversion", "UnitError",
    "conversions_table", "convert", "dictionary_unit", "factor", "known_units", "normalise_unit", "unit_hint",
]

# molar masses, g/mol
_CREATININE = 113.12
_GLUCOSE = 180.16
_CHOLESTEROL = 386.65
_TRIOLEIN = 885.7
_UREA = 60.06
_UREA_N = 2 * 14.007  # two nitrogen atoms per urea molecule: BUN counts their mass only


@dataclass(frozen=True)
class Conversion:
    """One recorded unit of one dictionary column: ``dictionary value = recorded value x factor``."""

    column: str
    unit: str
    factor: float
    because: str


def _c(column: str, unit: str, factor: float, because: str) -> Conversion:
    return Conversion(column, unit, float(factor), because)


#: dictionary column -> its own unit (the unit the loaded data are in)
_DICTIONARY_UNITS: dict[str, str] = {
    "crp_mg_l": "mg/L", "hemoglobin_g_l": "g/L", "albumin_g_l": "g/L", "total_protein_g_l": "g/L",
    "globulin_g_l": "g/L", "creatinine_umol_l": "µmol/L", "glucose_mmol_l": "mmol/L",
    "cholesterol_mmol_l": "mmol/L", "triglyceride_mmol_l": "mmol/L", "urea_mmol_l": "mmol/L",
    "platelets_10e9_l": "10^9/L", "wbc_10e9_l": "10^9/L",
}

#: Every known alternative unit, column by column (the dictionary's own unit has factor 1 and is implied).
CONVERSIONS: tuple[Conversion, ...] = (
    _c("crp_mg_l", "mg/dL", 10, "1 L = 10 dL"),
    *(_c(col, "g/dL", 10, "1 L = 10 dL")
      for col in ("hemoglobin_g_l", "albumin_g_l", "total_protein_g_l", "globulin_g_l")),
    _c("creatinine_umol_l", "mg/dL", 10 * 1000 / _CREATININE, f"creatinine {_CREATININE} g/mol; 1 L = 10 dL"),
    _c("glucose_mmol_l", "mg/dL", 10 / _GLUCOSE, f"glucose {_GLUCOSE} g/mol; 1 L = 10 dL"),
    _c("cholesterol_mmol_l", "mg/dL", 10 / _CHOLESTEROL, f"cholesterol {_CHOLESTEROL} g/mol; 1 L = 10 dL"),
    _c("triglyceride_mmol_l", "mg/dL", 10 / _TRIOLEIN, f"triglyceride as triolein {_TRIOLEIN} g/mol; 1 L = 10 dL"),
    _c("urea_mmol_l", "mg/dL urea", 10 / _UREA, f"urea {_UREA} g/mol; 1 L = 10 dL"),
    _c("urea_mmol_l", "mg/dL BUN", 10 / _UREA_N,
       f"blood urea nitrogen: 2 N of 14.007 g/mol per urea molecule; 1 L = 10 dL"),
    *(_c(col, "/µL", 1e-3, "1 L = 10^6 µL, so n/µL = n x 10^6/L = n/1000 x 10^9/L")
      for col in ("platelets_10e9_l", "wbc_10e9_l")),
    *(_c(col, "10^3/µL", 1, "10^3/µL = 10^3 x 10^6/L = 10^9/L") for col in ("platelets_10e9_l", "wbc_10e9_l")),
)

#: Plausible range of a column's median in the dictionary's unit (RA patients, all visits pooled), used only
#: by :func:`unit_hint` to warn about a unit that was not declared.
PLAUSIBLE_MEDIAN: dict[str, tuple[float, float]] = {
    "crp_mg_l": (3, 200), "hemoglobin_g_l": (70, 200), "albumin_g_l": (20, 60), "total_protein_g_l": (40, 110),
    "globulin_g_l": (10, 70), "creatinine_umol_l": (30, 300), "glucose_mmol_l": (3, 15),
    "cholesterol_mmol_l": (2, 10), "triglyceride_mmol_l": (0.3, 5), "urea_mmol_l": (1.5, 40),
    "platelets_10e9_l": (50, 1000), "wbc_10e9_l": (1, 50),
}

#: :func:`unit_hint` says nothing about a column with fewer non-empty values than this.
MIN_VALUES_FOR_HINT = 10

# spellings accepted for the same unit (after normalise_unit)
_ALIASES = {
    "/ul": ("/ul", "cells/ul", "per ul", "perul", "/mm3", "cells/mm3", "/mm^3", "/cumm"),
    "10^3/ul": ("10^3/ul", "10e3/ul", "1000/ul", "x10^3/ul", "k/ul", "10^3/mm3", "thousand/ul"),
    "10^9/l": ("10^9/l", "10e9/l", "x10^9/l", "10^9/litre"),
    "mg/dlbun": ("mg/dlbun", "bunmg/dl", "mg/dl(bun)", "mg/dlasbun", "mg/dlureanitrogen", "mg/dl(ureanitrogen)"),
    "mg/dlurea": ("mg/dlurea", "ureamg/dl", "mg/dl(urea)", "mg/dlasurea"),
}


class UnitError(ValueError):
    """A unit that is not known for a column; the message lists the known ones."""


def normalise_unit(text: str) -> str:
    """A unit written the way :data:`CONVERSIONS` compares it: lower case, no spaces, ``µ`` as ``u``.

    Examples
    --------
    >>> normalise_unit(" mg/dL "), normalise_unit("µmol/L"), normalise_unit("cells/mcL"), normalise_unit("10^9 / L")
    ('mg/dl', 'umol/l', '/ul', '10^9/l')
    >>> normalise_unit("g/100 mL"), normalise_unit("10³/µL"), normalise_unit("x10*9/L")
    ('g/dl', '10^3/ul', '10^9/l')
    """
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a str, got {text!r}")
    t = text.strip().lower().replace("μ", "u").replace("µ", "u").replace("mcl", "ul").replace("×", "x")
    t = "".join(t.split())
    t = t.replace("10³", "10^3").replace("10⁹", "10^9").replace("³", "3").replace("10*", "10^")
    t = t.replace("/100ml", "/dl").replace("mg%", "mg/dl")
    for canonical, spellings in _ALIASES.items():
        if t in spellings:
            return canonical
    return t


def dictionary_unit(column: str) -> str | None:
    """The unit ``column`` has in the data dictionary, if it has known alternatives (else ``None``).

    Examples
    --------
    >>> dictionary_unit("crp_mg_l"), dictionary_unit("tjc28")
    ('mg/L', None)
    """
    return _DICTIONARY_UNITS.get(column)


def known_units(column: str) -> tuple[str, ...]:
    """The units ``column`` may be recorded in: its dictionary unit first, then the alternatives.

    Examples
    --------
    >>> known_units("urea_mmol_l")
    ('mmol/L', 'mg/dL urea', 'mg/dL BUN')
    >>> known_units("tjc28")
    ()
    """
    own = _DICTIONARY_UNITS.get(column)
    if own is None:
        return ()
    return (own,) + tuple(c.unit for c in CONVERSIONS if c.column == column)


def factor(column: str, unit: str) -> float:
    """The factor that turns a value of ``column`` recorded in ``unit`` into the dictionary's unit.

    Raises
    ------
    UnitError
        If ``unit`` is not known for ``column``; the message lists the known units.

    Examples
    --------
    >>> factor("hemoglobin_g_l", "g/dl"), factor("hemoglobin_g_l", "g/L"), factor("wbc_10e9_l", "cells/µL")
    (10.0, 1.0, 0.001)
    >>> factor("crp_mg_l", "g/L")
    Traceback (most recent call last):
    ...
    analysis.intake.units.UnitError: unknown unit 'g/L' for crp_mg_l; known units: 'mg/L', 'mg/dL'
    """
    if not isinstance(unit, str):
        raise UnitError(f"the unit of {column} must be text such as 'mg/dL', got {unit!r}")
    own = _DICTIONARY_UNITS.get(column)
    if own is None:
        raise UnitError(f"no unit conversions are known for {column}; record it in the data dictionary's unit")
    wanted = normalise_unit(unit)
    if wanted == normalise_unit(own):
        return 1.0
    for c in CONVERSIONS:
        if c.column == column and normalise_unit(c.unit) == wanted:
            return c.factor
    listed = ", ".join(f"'{u}'" for u in known_units(column))
    hint = ""
    if column == "urea_mmol_l" and wanted == "mg/dl":
        hint = " ('mg/dL' alone is ambiguous for urea: write 'mg/dL BUN' for blood urea nitrogen or 'mg/dL urea')"
    raise UnitError(f"unknown unit '{unit}' for {column}; known units: {listed}{hint}")


def convert(values: Iterable[float], column: str, unit: str) -> list[float]:
    """Values of ``column`` recorded in ``unit``, in the dictionary's unit (rounded to 12 significant digits).

    The rounding removes binary noise (0.14 x 10 is 1.4000000000000001 in floating point) and changes no
    value by more than one part in 10^12. NaN stays NaN.

    Examples
    --------
    >>> convert([250000, 4500], "platelets_10e9_l", "/µL")
    [250.0, 4.5]
    >>> convert([float("nan")], "crp_mg_l", "mg/dL")
    [nan]
    """
    f = factor(column, unit)
    out = []
    for v in values:
        x = float(v) * f
        out.append(float(f"{x:.12g}") if np.isfinite(x) else x)
    return out


def unit_hint(column: str, values: Sequence[float]) -> str | None:
    """A warning when ``column`` (no unit declared) looks like it was recorded in another unit, else ``None``.

    The rule: with at least :data:`MIN_VALUES_FOR_HINT` finite values, the median ``m`` lies outside
    :data:`PLAUSIBLE_MEDIAN` ``[lo, hi]`` for the column, and ``m x factor`` of some alternative unit lies
    inside it. The text names that unit and the line to add to ``dataset.yaml``.

    Examples
    --------
    >>> print(unit_hint("crp_mg_l", [0.4, 1.2, 2.5, 0.8, 1.9, 0.3, 3.1, 1.1, 0.9, 1.6]))
    the values look like mg/dL rather than mg/L (median 1.15; as mg/dL it would be 11.5 mg/L); if they are, declare it in dataset.yaml under units: (crp_mg_l: mg/dL)
    >>> unit_hint("crp_mg_l", [4, 12, 25, 8, 19, 3, 31, 11, 9, 16]) is None
    True
    """
    bounds = PLAUSIBLE_MEDIAN.get(column)
    if bounds is None:
        return None
    a = np.asarray(values, dtype=float)
    a = a[np.isfinite(a)]
    if a.size < MIN_VALUES_FOR_HINT:
        return None
    m = float(np.median(a))
    lo, hi = bounds
    if lo <= m <= hi:
        return None
    fits = [c for c in CONVERSIONS if c.column == column and c.factor != 1 and lo <= m * c.factor <= hi]
    if not fits:
        return None
    own = _DICTIONARY_UNITS[column]
    units = " or ".join(c.unit for c in fits)
    c = fits[0]
    return (f"the values look like {units} rather than {own} (median {m:.4g}; as {c.unit} it would be "
            f"{m * c.factor:.4g} {own}); if they are, declare it in dataset.yaml under units: ({column}: {c.unit})")


def conversions_table():
    """Every known conversion as a tidy table (for the book and the README).

    Returns
    -------
    pandas.DataFrame
        Columns ``column``, ``dictionary_unit``, ``recorded_in``, ``factor``, ``because``.

    Examples
    --------
    >>> t = conversions_table()
    >>> t.loc[t["recorded_in"] == "mg/dL BUN", "factor"].round(4).item()
    0.357
    """
    import pandas as pd

    return pd.DataFrame([{"column": c.column, "dictionary_unit": _DICTIONARY_UNITS[c.column], "recorded_in": c.unit,
                          "factor": c.factor, "because": c.because} for c in CONVERSIONS])
