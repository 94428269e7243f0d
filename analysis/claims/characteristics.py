"""Each claim's operating characteristics at the simulated design: can this design tell?

A robustness run (``python -m analysis robustness``, :mod:`analysis.scorecard.robustness`) writes
``results/robustness/operating_characteristics.csv``: per claim, how often it is reproduced in cohorts of the
calibrated model (``sensitivity``), the largest share of cohorts reproducing it under a model where it must fail
(``false_positive``, and that model), whether some such model can test it (``testable``) and its ``class``
(:data:`CLASSES`). This module reads that file and puts the class beside a claims table, for any page: it sits in
``claims/`` so that the scorecard and, later, a chapter page can show the same column without importing each
other.

Examples
--------
>>> oc = pd.DataFrame({"claim_id": ["a.x"], "sensitivity": [0.9], "false_positive": [0.05],
...                    "false_positive_model": ["null_treatment"], "testable": [True], "class": ["discriminating"]})
>>> with_design_class(pd.DataFrame({"claim_id": ["a.x", "a.y"]}), oc)[DESIGN_COLUMN].tolist()
['discriminating', 'not in the robustness result']
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core import paths

__all__ = ["CLASSES", "CLASS_MEANING", "DESIGN_COLUMN", "FILE", "NOT_IN_RESULT", "OC_COLUMNS",
           "read_characteristics", "with_design_class"]

#: the file a robustness run writes in ``results/robustness/``
FILE = "operating_characteristics.csv"
#: its columns
OC_COLUMNS: tuple[str, ...] = ("claim_id", "sensitivity", "false_positive", "false_positive_model", "testable", "class")
#: the classes, in the order the scorecard lists them
CLASSES: tuple[str, ...] = ("discriminating", "underpowered", "uninformative", "fixed by the simulation",
                            "not assessable")
#: what each class means, in words (the thresholds of :func:`analysis.scorecard.robustness.operating_characteristics`,
#: checked against them by tests/test_characteristics.py)
CLASS_MEANING: dict[str, str] = {
    "discriminating": "reproduced in at least 80 % of calibrated cohorts and in at most 10 % under every model "
                      "where it must fail",
    "underpowered": "reproduced in fewer than 80 % of calibrated cohorts, so a true claim is often missed",
    "uninformative": "reproduced in at least 80 % of calibrated cohorts, but also in more than 10 % of the cohorts "
                     "of a model where it must fail",
    "fixed by the simulation": "a count the simulator is given, so its verdict on simulated cohorts says nothing",
    "not assessable": "no model where the claim must fail can test it in at least 90 % of cohorts, or the claim "
                      "is about the paper's own numbers (the audit), not data",
}
#: the column a claims table gets
DESIGN_COLUMN = "can this design tell?"
#: the value of that column for a claim the result does not cover
NOT_IN_RESULT = "not in the robustness result"


def read_characteristics(folder) -> pd.DataFrame | None:
    """Read ``operating_characteristics.csv`` from a robustness folder; ``None`` when the result has none.

    Parameters
    ----------
    folder : str or Path
        ``…/results/robustness``, an output folder holding ``results/robustness``, or the file itself.

    Returns
    -------
    DataFrame or None
        Columns :data:`OC_COLUMNS` (``sensitivity``, ``false_positive`` and ``testable``, the share of calibrated
        cohorts in which the claim is testable, as floats; a ``True``/``False`` column reads as 1.0/0.0).

    Raises
    ------
    ValueError
        If the file lacks a column of :data:`OC_COLUMNS` or holds a class not in :data:`CLASSES`.

    Examples
    --------
    >>> import tempfile
    >>> read_characteristics(tempfile.mkdtemp()) is None
    True
    """
    path = Path(folder)
    if path.is_dir():
        path = paths.robustness_folder(path) / FILE
    if not path.is_file():
        return None
    frame = pd.read_csv(path, dtype={"claim_id": str, "false_positive_model": str, "class": str},
                        keep_default_na=False, encoding="utf-8")
    missing = [c for c in OC_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: lacks the column(s) {', '.join(missing)}; expected {', '.join(OC_COLUMNS)}")
    unknown = sorted(set(frame["class"]) - set(CLASSES))
    if unknown:
        raise ValueError(f"{path}: unknown class(es) {', '.join(map(repr, unknown))}; allowed: {', '.join(CLASSES)}")
    out = frame[list(OC_COLUMNS)].copy()
    for col in ("sensitivity", "false_positive"):
        out[col] = pd.to_numeric(out[col], errors="coerce")
    words = {"true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0}
    out["testable"] = out["testable"].map(lambda v: words.get(str(v).strip().lower(), v))
    out["testable"] = pd.to_numeric(out["testable"], errors="coerce")
    return out


def with_design_class(claims: pd.DataFrame, characteristics: pd.DataFrame | None) -> pd.DataFrame:
    """``claims`` with the column :data:`DESIGN_COLUMN`: each claim's class in ``characteristics``.

    A claim the result does not cover gets "not assessed (interpretation)" or "not assessed (by construction)"
    when its basis (the table's ``basis`` column, else the registry's) is not empirical, since a robustness run
    assesses only empirical claims, and :data:`NOT_IN_RESULT` otherwise; without ``characteristics`` the table is
    returned unchanged (a copy).

    Examples
    --------
    >>> c = pd.DataFrame({"claim_id": ["a.x"], "verdict": ["reproduced"]})
    >>> list(with_design_class(c, None).columns)
    ['claim_id', 'verdict']
    >>> c = pd.DataFrame({"claim_id": ["a.x", "a.y", "a.z"], "basis": ["empirical", "interpretation", "empirical"]})
    >>> oc = pd.DataFrame({"claim_id": ["a.x"], "class": ["discriminating"]})
    >>> with_design_class(c, oc)[DESIGN_COLUMN].tolist()
    ['discriminating', 'not assessed (interpretation)', 'not in the robustness result']
    """
    out = claims.copy()
    if characteristics is None:
        return out
    classes = characteristics.drop_duplicates("claim_id").set_index("claim_id")["class"]
    if "basis" in out.columns:
        basis = out["basis"]
    else:
        from analysis.claims.registry import published

        reg = published()
        basis = out["claim_id"].map(dict(zip(reg["claim_id"], reg["basis"])))
    basis = basis.fillna("").astype(str).str.strip()
    unassessed = pd.Series(np.where(basis.isin(["", "empirical"]), NOT_IN_RESULT, "not assessed (" + basis + ")"),
                           index=out.index)
    out[DESIGN_COLUMN] = out["claim_id"].map(classes).fillna(unassessed)
    return out
