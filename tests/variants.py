"""A battery of valid variant data folders, made from the shipped synthetic cohort or by the simulator.

Used by tests/test_variants.py (issue 18: any folder that passes ``validate`` builds). Each variant is a
function ``make(src, dst) -> dst`` that copies ``data/synthetic`` (or simulates) into ``dst`` and edits the
tables with pandas, as text (the original folder is never touched). :data:`VARIANTS` maps a name to
``(make, needs)``: ``needs`` names a feature of the data layer the variant relies on (``None``: the
validator on main accepts it); tests skip a variant whose feature :func:`supported` says is missing.

Examples
--------
>>> len(VARIANTS) >= 25
True
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import yaml

from analysis.intake.dictionary import columns

ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC = ROOT / "data" / "synthetic"

DAS28 = ["tjc28", "sjc28", "esr_mm_h", "crp_mg_l", "patient_global_mm"]
CYTOKINES = ["il_1b", "il_2r", "il_6", "il_8", "il_10", "tnf_a", "ifn_g"]
CELLS = ["treg_pct", "th17_pct"]
AUTOANTIBODIES = ["anti_ccp_u_ml", "rf_iu_ml"]
LABS = [c.name for c in columns("visits") if c.normal is not None]
MEASURES = [c.name for c in columns("visits") if c.name not in ("patient_id", "week")]


# ----------------------------------------------------------------------------- helpers
def _copy(src: Path, dst: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    shutil.copytree(src, dst)
    read = lambda name: pd.read_csv(dst / f"{name}.csv", dtype=str, keep_default_na=False)  # noqa: E731
    return read("patients"), read("visits"), read("adverse_events")


def _write(dst: Path, **tables: pd.DataFrame) -> Path:
    for name, df in tables.items():
        df.to_csv(dst / f"{name}.csv", index=False, lineterminator="\n")
    return dst


def _meta(dst: Path, **extra) -> None:
    """Add keys (e.g. ``design``) to the folder's dataset.yaml."""
    path = dst / "dataset.yaml"
    meta = yaml.safe_load(path.read_text("utf-8")) if path.exists() else {}
    meta.update(extra)
    path.write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True), "utf-8")


def _edit_visits(fn: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]):
    def make(src: Path, dst: Path) -> Path:
        patients, visits, _ = _copy(src, dst)
        return _write(dst, visits=fn(visits, patients))
    return make


def _blank(cols: list[str]):
    def edit(v, p):
        v[cols] = ""
        return v
    return _edit_visits(edit)


def _constant(cols: list[str], value: str):
    def edit(v, p):
        v[cols] = value
        return v
    return _edit_visits(edit)


def _response_rows(v: pd.DataFrame, p: pd.DataFrame, week: int = 12) -> pd.Series:
    msct = set(p.loc[p["arm"] == "MSCT", "patient_id"])
    return v["patient_id"].isin(msct) & v["week"].eq(str(week))


def _set_responders(v: pd.DataFrame, p: pd.DataFrame, keep: int | None, week: int = 12) -> pd.DataFrame:
    """Make every MSCT patient a non-responder except the first ``keep`` (None: all respond)."""
    at = _response_rows(v, p, week)
    ids = sorted(v.loc[at, "patient_id"].unique())
    responders = set(ids if keep is None else ids[:keep])
    base = v.loc[v["week"] == "0"].set_index("patient_id")[DAS28]
    good = at & v["patient_id"].isin(responders)
    bad = at & ~v["patient_id"].isin(responders)
    v.loc[bad, DAS28] = base.loc[v.loc[bad, "patient_id"]].to_numpy()
    v.loc[good, ["tjc28", "sjc28", "patient_global_mm"]] = "0"
    v.loc[good, "esr_mm_h"] = "2"
    v.loc[good, "crp_mg_l"] = "0.5"
    return v


# ----------------------------------------------------------------------------- variants
def no_responders(src, dst):
    patients, visits, _ = _copy(src, dst)
    return _write(dst, visits=_set_responders(visits, patients, 0))


def all_responders(src, dst):
    patients, visits, _ = _copy(src, dst)
    return _write(dst, visits=_set_responders(visits, patients, None))


def two_responders(src, dst):
    patients, visits, _ = _copy(src, dst)
    return _write(dst, visits=_set_responders(visits, patients, 2))


def one_responder(src, dst):
    patients, visits, _ = _copy(src, dst)
    return _write(dst, visits=_set_responders(visits, patients, 1))


def tiny_cohort(src, dst):
    """1 responder, 1 non-responder, 2 controls."""
    patients, visits, ae = _copy(src, dst)
    v = visits.copy()
    msct = patients.loc[patients["arm"] == "MSCT", "patient_id"].tolist()
    ctrl = patients.loc[patients["arm"] == "control", "patient_id"].tolist()
    # the shipped cohort's groups: recompute from week 0 / 12 rows is not needed, force them instead
    keep = msct[:2] + ctrl[:2]
    v = v[v["patient_id"].isin(keep)].copy()
    p = patients[patients["patient_id"].isin(keep)].copy()
    v = _set_responders(v, p, 1)
    return _write(dst, patients=p, visits=v, adverse_events=ae[ae["patient_id"].isin(keep)])


def small_simulated(src, dst):
    from analysis.science.simulate import generate

    generate(dst, seed=5, n_patients=20)
    return dst


def drop_outs(src, dst):
    """A third of every arm is not seen after week 4."""
    patients, visits, ae = _copy(src, dst)
    rng = np.random.default_rng(3)
    ids = patients["patient_id"].to_numpy()
    lost = set(rng.choice(ids, size=len(ids) // 3, replace=False))
    v = visits[~(visits["patient_id"].isin(lost) & visits["week"].astype(int).gt(4))]
    a = ae[~(ae["patient_id"].isin(lost) & ae["week"].astype(int).gt(4))]
    return _write(dst, visits=v, adverse_events=a)


def missing_at_random(src, dst):
    """15 % of the measurement cells (DAS28 components included) blank, at random."""
    patients, visits, _ = _copy(src, dst)
    rng = np.random.default_rng(15)
    mask = rng.random((len(visits), len(MEASURES))) < 0.15
    comps = [MEASURES.index(c) for c in DAS28]
    mask[:, comps] = mask[:, comps[:1]]  # the DAS28 components are blank together (the validator's rule)
    vals = visits[MEASURES].to_numpy(dtype=object)
    vals[mask] = ""
    visits[MEASURES] = vals
    return _write(dst, visits=visits)


def no_response_visits(src, dst):
    """No visit at the response week (nobody can be classified)."""
    patients, visits, _ = _copy(src, dst)
    return _write(dst, visits=visits[visits["week"] != "12"])


def no_adverse_events(src, dst):
    patients, visits, ae = _copy(src, dst)
    return _write(dst, adverse_events=ae.iloc[0:0])


def ifng_all_below(src, dst):
    return _constant(["ifn_g"], "<LLOQ")(src, dst)


def ifng_above_for_everyone(src, dst):
    """Every IFN-γ value high: nobody is 'never high', so the test has no negatives."""
    return _constant(["ifn_g"], "9.5")(src, dst)


def _schedule(weeks: list[int], **design):
    """Keep only ``weeks`` and declare the design in dataset.yaml."""
    def make(src, dst):
        patients, visits, ae = _copy(src, dst)
        v = visits[visits["week"].astype(int).isin(weeks)]
        final = design.get("final_week", weeks[-1])
        a = ae[ae["week"].astype(int) <= final]
        _write(dst, visits=v, adverse_events=a)
        _meta(dst, design={"visit_weeks": weeks, **design})
        return dst
    return make


def response_at_week_24(src, dst):
    dst = _schedule([0, 1, 2, 3, 4, 12, 24, 48], response_week=24)(src, dst)
    return dst


def simulated_ifng_unrelated(src, dst):
    from analysis.science.simulate import generate

    generate(dst, seed=11, n_patients=105, ifng_effect=0.0)
    return dst


def simulated_null_treatment(src, dst):
    from analysis.science.simulate import cohort_meta, simulate, write_cohort

    write_cohort(simulate(seed=12, model="null_treatment"), dst, meta={**cohort_meta(seed=12), "model": "null_treatment"})
    return dst


def simulated_design(src, dst):
    """The issue's other trial: visits 0, 2, 4, 8, 12, 24; response 12; final 24; clinical + a few cytokines."""
    from analysis.core.design import Design
    from analysis.science.simulate import generate

    design = Design.from_mapping({"visit_weeks": [0, 2, 4, 8, 12, 24], "response_week": 12, "final_week": 24})
    generate(dst, seed=24, design=design, omit=("immune", "autoantibodies", "safety_labs"))
    return dst


def simulated_omit_all(src, dst):
    """Only the DAS28 components (columns absent, not blank)."""
    from analysis.science.simulate import OMIT_GROUPS, generate

    generate(dst, seed=25, omit=tuple(OMIT_GROUPS))
    return dst


# ----------------------------------------------------------------------------- the data layer's mappings and formats
def renamed_columns(src, dst):
    """The trial's own column names, mapped back by ``columns:`` in dataset.yaml."""
    patients, visits, ae = _copy(src, dst)
    names = {"patient_id": "subject", "tjc28": "TJC28", "sjc28": "SJC28", "crp_mg_l": "CRP", "ifn_g": "IFNg"}
    _write(dst, patients=patients.rename(columns={"patient_id": "subject"}),
           visits=visits.rename(columns=names), adverse_events=ae.rename(columns={"patient_id": "subject"}))
    _meta(dst, columns={v: k for k, v in names.items()})
    return dst


def crp_in_mg_dl(src, dst):
    """CRP recorded in mg/dL (declared under ``units:``), converted on reading."""
    patients, visits, _ = _copy(src, dst)
    crp = pd.to_numeric(visits["crp_mg_l"].where(visits["crp_mg_l"] != ""), errors="coerce") / 10
    visits["crp_mg_l"] = crp.map(lambda x: "" if pd.isna(x) else repr(round(float(x), 3)))
    _write(dst, visits=visits)
    _meta(dst, units={"crp_mg_l": "mg/dL"})
    return dst


def other_arm_labels(src, dst):
    patients, _, _ = _copy(src, dst)
    patients["arm"] = patients["arm"].map({"MSCT": "UC-MSC", "control": "placebo"})
    _write(dst, patients=patients)
    _meta(dst, arms={"UC-MSC": "MSCT", "placebo": "control"})
    return dst


def _stat_format(fmt: str):
    """The three tables as SPSS (.sav) or Stata (.dta) files: numbers as doubles, the rest as text."""
    def make(src, dst):
        import pyreadstat

        tables = _copy(src, dst)
        for name, df in zip(("patients", "visits", "adverse_events"), tables):
            out = {}
            for col in df.columns:
                num = pd.to_numeric(df[col].where(df[col] != ""), errors="coerce")
                numeric = (num.notna() | (df[col] == "")).all() and (df[col] != "").any()
                out[col] = num.astype(float) if numeric else df[col].astype(str)
            frame = pd.DataFrame(out)
            (dst / f"{name}.csv").unlink()
            (pyreadstat.write_sav if fmt == "sav" else pyreadstat.write_dta)(frame, dst / f"{name}.{fmt}")
        return dst
    return make


def other_trial_example(src, dst):
    """The shipped example of another trial (data/examples/other_trial): its own design, names, units, arms."""
    shutil.copytree(ROOT / "data" / "examples" / "other_trial", dst)
    return dst


#: name -> (make, needs): ``needs`` is None or the data-layer feature the variant relies on
VARIANTS: dict[str, tuple[Callable[[Path, Path], Path], str | None]] = {
    "blank_cytokines": (_blank(CYTOKINES), None),
    "blank_cells": (_blank(CELLS), None),
    "blank_autoantibodies": (_blank(AUTOANTIBODIES), None),
    "blank_safety_labs": (_blank(LABS), None),
    "blank_prednisone": (_blank(["prednisone_mg_day"]), None),
    "blank_haq": (_blank(["haq_di"]), None),
    "das28_only": (_blank([c for c in MEASURES if c not in ("tjc28", "sjc28", "esr_mm_h", "patient_global_mm")]), None),
    "constant_labs": (_edit_visits(lambda v, p: v.assign(**{c: v[c].where(v[c].eq(""), v.loc[v[c].ne(""), c].iloc[0]) for c in LABS})), None),
    "constant_ifng": (_constant(["ifn_g"], "3"), None),
    "constant_cytokines": (_constant(CYTOKINES, "1"), None),
    "constant_cells": (_constant(CELLS, "5"), None),
    "ifng_all_below_lloq": (ifng_all_below, None),
    "ifng_high_for_everyone": (ifng_above_for_everyone, None),
    "no_responders": (no_responders, None),
    "all_responders": (all_responders, None),
    "two_responders": (two_responders, None),
    "one_responder": (one_responder, None),
    "tiny_cohort": (tiny_cohort, None),
    "small_simulated": (small_simulated, None),
    "drop_outs": (drop_outs, None),
    "missing_at_random_15pct": (missing_at_random, None),
    "no_response_week_visits": (no_response_visits, None),
    "no_adverse_events": (no_adverse_events, None),
    "schedule_stops_at_24": (_schedule([0, 1, 2, 3, 4, 12, 24]), None),
    "schedule_0_2_4_12_24": (_schedule([0, 2, 4, 12, 24]), None),
    "schedule_0_4_12_24_48": (_schedule([0, 4, 12, 24, 48]), None),
    "schedule_0_12_48": (_schedule([0, 12, 48]), None),
    "response_at_week_24": (response_at_week_24, None),
    "simulated_ifng_unrelated": (simulated_ifng_unrelated, None),
    "simulated_null_treatment": (simulated_null_treatment, None),
    # the data layer's features (helper "data", issue 18): other weeks, absent columns
    "simulated_other_trial": (simulated_design, "design_weeks"),
    "simulated_das28_columns_only": (simulated_omit_all, "optional_columns"),
    "crp_without_esr": (_blank(["esr_mm_h"]), "optional_columns"),  # DAS28-CRP is used (the design box says so)
    "renamed_columns": (renamed_columns, "mapping"),
    "crp_in_mg_dl": (crp_in_mg_dl, "mapping"),
    "other_arm_labels": (other_arm_labels, "mapping"),
    "spss_files": (_stat_format("sav"), "formats"),
    "stata_files": (_stat_format("dta"), "formats"),
    "other_trial_example": (other_trial_example, "other_trial"),
}


def supported(feature: str | None) -> bool:
    """Does the data layer on this branch accept folders that need ``feature``?"""
    if feature is None:
        return True
    from analysis.intake.dictionary import columns as cols

    if feature == "design_weeks":
        week = next(c for c in cols("visits") if c.name == "week")
        # the validator takes the weeks from the design, not from a fixed list
        return not week.allowed or "design" in (week.extra or {})
    if feature == "optional_columns":
        return not next(c for c in cols("visits") if c.name == "il_6").required
    import importlib.util

    if feature == "mapping":  # dataset.yaml columns: / units: / arms: applied on reading
        return importlib.util.find_spec("analysis.intake.dataset") is not None
    if feature == "formats":  # SPSS / Stata / SAS readers
        return importlib.util.find_spec("analysis.intake.readers") is not None
    if feature == "other_trial":
        return (ROOT / "data" / "examples" / "other_trial" / "dataset.yaml").exists()
    return False


def make(name: str, dst: Path, src: Path = SYNTHETIC) -> Path:
    """Write the variant ``name`` into ``dst`` (must not exist)."""
    fn, _ = VARIANTS[name]
    return fn(Path(src), Path(dst))
