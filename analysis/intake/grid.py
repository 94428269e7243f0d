"""A table as the validator sees it: the grid a reader returns, turned into a frame of stripped strings.

Every reader gives a *grid*: a DataFrame with columns numbered 0..n-1 whose first row is the header and whose
cells are text (the CSV reader :func:`analysis.intake.sniff.read_csv`, the workbook reader of
:mod:`analysis.intake.validate`, the SPSS/Stata/SAS reader :func:`analysis.intake.readers.read_stat_file`).
:func:`grid_to_frame` makes it the frame every rule runs on: named columns of stripped strings (as pandas
Categoricals, so a rule runs once per distinct value), indexed by the row number a spreadsheet shows. A header
that is one field holding ``;`` or tabs, columns with values but no header and duplicate column names are
:class:`~analysis.intake.problem.Problem` values.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.intake.problem import Problem, short_value

__all__ = ["grid_to_frame"]


def grid_to_frame(grid: pd.DataFrame, fname: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """First grid row -> header; the rest -> stripped strings indexed by spreadsheet row number.

    Columns are returned as pandas Categoricals of stripped strings (empty cell = ``""``): every check
    then runs once per distinct value and is mapped back to the rows through the category codes.

    Parameters
    ----------
    grid : pandas.DataFrame
        Row 0 is the header; cells are text (or missing, for short rows).
    fname : str
        File name the problems carry.

    Returns
    -------
    frame : pandas.DataFrame or None
        Index ``row`` (header = 1, first data row = 2); fully blank rows dropped. ``None`` when the header shows
        the file was split on the wrong delimiter.
    problems : list of Problem
        Headerless columns with values, duplicate names (the first column of a name is kept).

    Examples
    --------
    >>> grid = pd.DataFrame([["patient_id", " arm "], [" P1 ", "MSCT"], ["", ""], ["P2", None]])
    >>> frame, problems = grid_to_frame(grid, "patients.csv")
    >>> frame.to_dict("index"), problems
    ({2: {'patient_id': 'P1', 'arm': 'MSCT'}, 4: {'patient_id': 'P2', 'arm': ''}}, [])
    >>> print(grid_to_frame(pd.DataFrame([["patient_id;arm"]]), "patients.csv")[1][0])  # doctest: +ELLIPSIS
    patients.csv, row 1, value 'patient_id;arm': the header is a single column containing a semicolon ';'...
    """
    problems: list[Problem] = []
    header = ["" if pd.isna(h) else str(h).replace("\ufeff", "").strip() for h in grid.iloc[0]]
    # Wrong delimiter: everything landed in one column.
    if len(header) == 1:
        for sep, word in ((";", "semicolon ';'"), ("\t", "tab")):
            if sep in header[0]:
                return None, [Problem(fname, 1, None, short_value(header[0]),
                                      f"the header is a single column containing a {word}: the file seems to use "
                                      f"the {word} as delimiter; save it comma-separated (CSV UTF-8)")]
    index = pd.RangeIndex(2, 1 + len(grid), name="row")
    cols = [_stripped_categorical(grid.iloc[1:, i]) for i in range(grid.shape[1])]
    # Columns without a header: drop if empty, else a problem.
    keep = []
    for i, name in enumerate(header):
        if name == "":
            if (cols[i] != "").any():
                problems.append(Problem(fname, 1, None, None,
                                        f"column number {i + 1} has values but no header; give it a name from the "
                                        "data dictionary or delete it"))
            continue
        keep.append(i)
    # Duplicate column names: report, keep the first.
    seen: dict[str, list[int]] = {}
    for i in keep:
        seen.setdefault(header[i], []).append(i)
    for name, idx in seen.items():
        if len(idx) > 1:
            where = ", ".join(str(i + 1) for i in idx)
            problems.append(Problem(fname, None, name, None,
                                    f"duplicate column name: '{name}' appears {len(idx)} times (column numbers "
                                    f"{where}); each column must appear once"))
    body = pd.DataFrame({name: pd.Series(cols[idx[0]], index=index, copy=False) for name, idx in seen.items()},
                        index=index)
    # Fully blank rows (e.g. trailing empty lines) are ignored; row numbers stay as in the file.
    if body.shape[1]:
        blank = np.ones(len(body), dtype=bool)
        for name in body.columns:
            blank &= np.asarray(body[name] == "")
        if blank.any():
            body = body[~blank]
    return body, problems


def _stripped_categorical(col: pd.Series) -> pd.Categorical:
    """A column as a Categorical of stripped strings; missing cells (short rows) become ``""``."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes, cats = col.cat.codes.to_numpy(), col.cat.categories
    else:
        codes, cats = pd.factorize(col, use_na_sentinel=True)
    texts = [str(c).strip() for c in cats] + [""]  # last: for missing cells (code -1)
    codes = np.where(codes < 0, len(texts) - 1, codes)
    new_codes, uniq = pd.factorize(pd.Index(texts, dtype=object))
    return pd.Categorical.from_codes(new_codes[codes], categories=pd.Index(uniq, dtype=object))
