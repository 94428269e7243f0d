"""Read SPSS, Stata and SAS files into the same grid of text cells the CSV reader gives.

Clinical data managers often export ``.sav`` (SPSS), ``.dta`` (Stata), ``.sas7bdat`` or ``.xpt`` (SAS
transport). :func:`read_stat_file` reads one with ``pyreadstat`` and returns a grid whose first row is the
header and whose cells are text, the grid the CSV reader gives (both become the validator's frame through
:func:`analysis.intake.grid.grid_to_frame`); the same rules then apply to every format.

How cells become text:

* cells hold the stored codes, and the value labels travel beside the grid (``grid.attrs["value_labels"]``,
  ``{column: {code text: label}}``); the validator replaces codes by labels in every column except the
  numeric columns of the data dictionary (an SPSS ``arm`` coded 1/2 with labels ``UC-MSC``/``placebo``
  reads as the labels, to be mapped with ``arms:`` in ``dataset.yaml``; a ``week`` coded 12 with the label
  "Week 12" stays 12). A SAS ``.sas7bdat`` file takes its labels from a catalog file of the same name
  (``visits.sas7bcat``) when there is one;
* missing values (system- and user-defined) become empty cells;
* whole numbers are written without decimals (``12.0`` -> ``12``), other numbers with the shortest text
  that reads back as the same double (``repr``), so a number survives the trip unchanged;
* text is kept as written (the validator strips surrounding spaces); ``True``/``False`` become
  ``true``/``false``.

SAS transport (``.xpt``, version 5) allows only 8-character names: map them to the dictionary's names
with ``columns:`` in ``dataset.yaml`` (``CRPMGL: crp_mg_l``).

Examples
--------
>>> import tempfile, pyreadstat
>>> from pathlib import Path
>>> d = Path(tempfile.mkdtemp())
>>> df = pd.DataFrame({"patient_id": ["P1", "P2"], "arm": [1.0, 2.0], "age": [50.0, float("nan")]})
>>> pyreadstat.write_sav(df, d / "patients.sav", variable_value_labels={"arm": {1.0: "MSCT", 2.0: "control"}})
>>> grid, problems = read_stat_file(d / "patients.sav")
>>> grid.values.tolist(), problems
([['patient_id', 'arm', 'age'], ['P1', '1', '50'], ['P2', '2', '']], [])
>>> grid.attrs["value_labels"]
{'arm': {'1': 'MSCT', '2': 'control'}}
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.intake.problem import Problem

__all__ = ["STAT_FORMATS", "cell_text", "read_stat_file"]

#: suffix -> (format name for messages, pyreadstat reader name)
STAT_FORMATS: dict[str, tuple[str, str]] = {
    ".sav": ("SPSS .sav", "read_sav"),
    ".zsav": ("SPSS compressed .zsav", "read_sav"),
    ".dta": ("Stata .dta", "read_dta"),
    ".sas7bdat": ("SAS .sas7bdat", "read_sas7bdat"),
    ".xpt": ("SAS transport .xpt", "read_xport"),
}


def cell_text(value) -> str:
    """One cell of a statistical file as the text a CSV file would hold.

    Examples
    --------
    >>> [cell_text(v) for v in (12.0, 0.1, float("nan"), None, "  P01 ", True, 3)]
    ['12', '0.1', '', '', '  P01 ', 'true', '3']
    >>> cell_text(1e20), cell_text(-0.0)
    ('1e+20', '0')
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if np.isnan(x):
            return ""
        if x.is_integer() and abs(x) < 1e15:
            return str(int(x))
        return repr(x)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def _column_text(col: pd.Series) -> pd.Series:
    """A column as text, converting each distinct value once (a million rows stay fast)."""
    codes, uniques = pd.factorize(col.astype(object), use_na_sentinel=True)
    texts = np.array([cell_text(u) for u in uniques] + [""], dtype=object)
    return pd.Series(texts[np.where(codes < 0, len(texts) - 1, codes)], index=col.index, dtype=object)


def read_stat_file(path) -> tuple[pd.DataFrame | None, list]:
    """Read an SPSS, Stata or SAS file as a grid of text: row 0 is the header, then one row per record.

    Parameters
    ----------
    path : str or Path
        A ``.sav``, ``.zsav``, ``.dta``, ``.sas7bdat`` or ``.xpt`` file (opened read-only).

    Returns
    -------
    grid : pandas.DataFrame or None
        Columns numbered 0..n-1, every cell a ``str``; ``None`` when the file cannot be read.
    problems : list of analysis.intake.problem.Problem
        Empty, or one problem saying why the file cannot be read.

    Raises
    ------
    ValueError
        If ``path`` does not have one of the suffixes of :data:`STAT_FORMATS`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in STAT_FORMATS:
        raise ValueError(f"`path` must end with one of {', '.join(STAT_FORMATS)}, got {path.name!r}")
    what, reader = STAT_FORMATS[suffix]
    try:
        import pyreadstat

        if suffix == ".sas7bdat":  # labels live in a catalog file of the same name
            catalog = _catalog(path)
            kwargs = {} if catalog is None else {"catalog_file": str(catalog)}
        elif suffix == ".xpt":  # transport files carry no value labels
            kwargs = {}
        else:  # user-defined missing values (e.g. 999) become missing
            kwargs = {"user_missing": False}
        df, meta = getattr(pyreadstat, reader)(str(path), **kwargs)
    except Exception as err:  # noqa: BLE001 - any unreadable file is a reported problem
        text = str(err).strip() or type(err).__name__
        return None, [Problem(path.name, None, None, None,
                              f"cannot be opened as an {what} file ({type(err).__name__}: {text}); export it "
                              "again, or save the table as CSV UTF-8")]
    header = [str(c) for c in df.columns]
    cells = {i: np.concatenate([np.array([header[i]], dtype=object), _column_text(df.iloc[:, i]).to_numpy()])
             for i in range(df.shape[1])}
    grid = pd.DataFrame(cells, index=range(len(df) + 1))
    labels = getattr(meta, "variable_value_labels", None) or {}
    grid.attrs["value_labels"] = {str(col): {cell_text(k): str(v) for k, v in sets.items()}
                                  for col, sets in labels.items() if sets}
    return grid, []


def _catalog(path: Path) -> Path | None:
    for p in path.parent.iterdir():
        if p.is_file() and p.suffix.lower() == ".sas7bcat" and p.stem.lower() == path.stem.lower():
            return p
    return None
