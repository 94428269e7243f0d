"""Degenerate cohorts made from the shipped synthetic one: no responders, all responders.

Used by tests/test_degenerate.py. Each function copies ``data/synthetic`` to ``dst`` and edits the week-12
visits of the MSCT arm with pandas (the original folder is never touched).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from analysis.intake.dictionary import load_dictionary

DAS28_COLUMNS = ["tjc28", "sjc28", "esr_mm_h", "crp_mg_l", "patient_global_mm"]


def _copy(src: Path, dst: Path) -> tuple[Path, pd.DataFrame, pd.DataFrame, pd.Series]:
    shutil.copytree(src, dst)
    patients = pd.read_csv(dst / "patients.csv", dtype=str, keep_default_na=False)
    visits = pd.read_csv(dst / "visits.csv", dtype=str, keep_default_na=False)
    week = load_dictionary()["response_week"]
    msct = set(patients.loc[patients["arm"] == "MSCT", "patient_id"])
    at_response = visits["patient_id"].isin(msct) & (visits["week"] == str(week))
    return dst, patients, visits, at_response


def _write(dst: Path, visits: pd.DataFrame) -> Path:
    visits.to_csv(dst / "visits.csv", index=False, lineterminator="\n")
    return dst


def no_responders(src: Path, dst: Path) -> Path:
    """Every MSCT patient's week-12 DAS28 components equal their week-0 values: EULAR response 'none'."""
    dst, _, visits, at_response = _copy(src, dst)
    base = visits.loc[visits["week"] == "0"].set_index("patient_id")[DAS28_COLUMNS]
    ids = visits.loc[at_response, "patient_id"]
    visits.loc[at_response, DAS28_COLUMNS] = base.loc[ids].to_numpy()
    return _write(dst, visits)


def all_responders(src: Path, dst: Path) -> Path:
    """Every MSCT patient is in remission at week 12 (no tender or swollen joints, low ESR/CRP and global)."""
    dst, _, visits, at_response = _copy(src, dst)
    visits.loc[at_response, ["tjc28", "sjc28"]] = "0"
    visits.loc[at_response, "esr_mm_h"] = "2"
    visits.loc[at_response, "crp_mg_l"] = "0.5"
    visits.loc[at_response, "patient_global_mm"] = "0"
    return _write(dst, visits)
