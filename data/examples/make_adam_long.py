"""Write ``data/examples/adam_long/``: the shipped cohort (``data/synthetic``) as a CDISC ADaM-like export.

The folder shows how a submission-style export is described by ``dataset.yaml`` (see its README) without editing
its files:

- ``patients.xpt``: ADSL-like, one row per patient (``STUDYID``, ``USUBJID``, ``TRT01P``, ``AGE``, ``SEX``,
  ``WEIGHTBL``, ``DISDURY``), arms labelled ``UC-MSC`` and ``Placebo``;
- ``visits.xpt``: BDS-like, in the long layout: one row per patient, visit and parameter (``STUDYID``, ``USUBJID``,
  ``PARAMCD``, ``PARAM``, ``AVISIT``, ``AVISITN``, ``AVAL``, ``AVALC``); a measurement missing from the cohort has
  no row; a result below the assay's limit has ``AVAL`` empty and ``AVALC`` ``<LLOQ`` (so the folder reads the
  value from ``AVALC``, the result as text); CRP in mg/dL;
- ``adverse_events.xpt``: ADAE-like (``STUDYID``, ``USUBJID``, ``AEDECOD``, ``ASTWK``, ``AESERN``, ``ARELN``),
  the yes/no flags as numeric 1/0.

All three are SAS transport files, version 5 (8-character names), read by the book with ``pyreadstat``. Nothing is
simulated: every value is the shipped cohort's, so the folder's tables as the book reads them, and every verdict,
equal those of ``data/synthetic`` (a test checks it).

The folder's README.md is written by hand and left alone. Run from the repository root (it refuses to overwrite
the tables unless ``--overwrite``)::

    python data/examples/make_adam_long.py [--source data/synthetic] [--out data/examples/adam_long] [--overwrite]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]

STUDYID = "MSCRA01"
#: the data dictionary's visit column -> (PARAMCD, PARAM)
PARAMS = {
    "tjc28": ("TJC28", "Tender Joint Count (28 joints)"),
    "sjc28": ("SJC28", "Swollen Joint Count (28 joints)"),
    "esr_mm_h": ("ESR", "Erythrocyte Sedimentation Rate (mm/h)"),
    "crp_mg_l": ("CRP", "C-Reactive Protein (mg/dL)"),
    "patient_global_mm": ("PTGA", "Patient Global Assessment VAS (mm)"),
    "haq_di": ("HAQDI", "HAQ Disability Index"),
    "prednisone_mg_day": ("PREDDOSE", "Prednisone Acetate Daily Dose (mg/day)"),
    "anti_ccp_u_ml": ("ACCP", "Anti-CCP Antibody (RU/mL)"),
    "rf_iu_ml": ("RF", "Rheumatoid Factor (IU/mL)"),
    "treg_pct": ("TREG", "Regulatory T Cells (% of CD4+)"),
    "th17_pct": ("TH17", "Th17 Cells (% of CD4+)"),
    "il_1b": ("IL1B", "Interleukin-1 beta (pg/mL)"),
    "il_2r": ("IL2R", "Soluble IL-2 Receptor (U/mL)"),
    "il_6": ("IL6", "Interleukin-6 (pg/mL)"),
    "il_8": ("IL8", "Interleukin-8 (pg/mL)"),
    "il_10": ("IL10", "Interleukin-10 (pg/mL)"),
    "tnf_a": ("TNFA", "Tumour Necrosis Factor alpha (pg/mL)"),
    "ifn_g": ("IFNG", "Interferon gamma (pg/mL)"),
    "total_protein_g_l": ("PROT", "Total Protein (g/L)"),
    "albumin_g_l": ("ALB", "Albumin (g/L)"),
    "globulin_g_l": ("GLOBUL", "Globulin (g/L)"),
    "cholesterol_mmol_l": ("CHOL", "Total Cholesterol (mmol/L)"),
    "triglyceride_mmol_l": ("TRIG", "Triglycerides (mmol/L)"),
    "creatinine_umol_l": ("CREAT", "Creatinine (umol/L)"),
    "urea_mmol_l": ("UREA", "Urea (mmol/L)"),
    "glucose_mmol_l": ("GLUC", "Fasting Glucose (mmol/L)"),
    "wbc_10e9_l": ("WBC", "Leukocytes (10^9/L)"),
    "hemoglobin_g_l": ("HGB", "Hemoglobin (g/L)"),
    "platelets_10e9_l": ("PLAT", "Platelets (10^9/L)"),
}
#: ADSL / ADAE variable -> the data dictionary's name (dataset.yaml's columns:)
COLUMNS = {"USUBJID": "patient_id", "TRT01P": "arm", "AGE": "age", "SEX": "sex", "WEIGHTBL": "weight_kg",
           "DISDURY": "disease_duration_years", "AVISITN": "week", "AEDECOD": "event", "ASTWK": "week",
           "AESERN": "serious", "ARELN": "related"}
ARMS = {"MSCT": "UC-MSC", "control": "Placebo"}
LABELS = {"STUDYID": "Study Identifier", "USUBJID": "Unique Subject Identifier", "TRT01P": "Planned Treatment",
          "AGE": "Age (years)", "SEX": "Sex", "WEIGHTBL": "Baseline Weight (kg)",
          "DISDURY": "Disease Duration (years)", "PARAMCD": "Parameter Code", "PARAM": "Parameter",
          "AVISIT": "Analysis Visit", "AVISITN": "Analysis Visit (N)", "AVAL": "Analysis Value",
          "AVALC": "Analysis Value (C)", "AEDECOD": "Dictionary-Derived Term", "ASTWK": "Analysis Start Week",
          "AESERN": "Serious Event (N)", "ARELN": "Causality (N)"}


def _text_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def _number(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s.replace("", np.nan), errors="coerce").to_numpy(dtype=float)


def adam_long(source: Path | str = ROOT / "data" / "synthetic") -> dict[str, pd.DataFrame]:
    """The three tables of the example (as written to .xpt), from the cohort folder ``source`` (CSV files with the
    data dictionary's names)."""
    source = Path(source)
    pat = _text_table(source / "patients.csv")
    vis = _text_table(source / "visits.csv")
    ae = _text_table(source / "adverse_events.csv")
    adsl = pd.DataFrame({"STUDYID": STUDYID, "USUBJID": pat["patient_id"], "TRT01P": pat["arm"].map(ARMS),
                         "AGE": _number(pat["age"]), "SEX": pat["sex"], "WEIGHTBL": _number(pat["weight_kg"]),
                         "DISDURY": _number(pat["disease_duration_years"])})
    parts = []
    for col, (code, label) in PARAMS.items():
        if col not in vis.columns:
            continue
        text = vis[col]
        if col == "crp_mg_l":  # recorded in mg/dL (dataset.yaml converts it back: units: crp_mg_l: mg/dL)
            num = _number(text) / 10
            text = pd.Series([("" if np.isnan(x) else f"{x:.12g}") for x in num], index=vis.index)
        given = text != ""
        parts.append(pd.DataFrame({"USUBJID": vis.loc[given, "patient_id"], "PARAMCD": code, "PARAM": label,
                                   "AVISITN": _number(vis.loc[given, "week"]), "AVALC": text[given],
                                   "order": list(PARAMS).index(col), "row": np.flatnonzero(given)}))
    advs = pd.concat(parts, ignore_index=True).sort_values(["row", "order"], kind="stable")
    advs.insert(0, "STUDYID", STUDYID)
    advs["AVISIT"] = np.where(advs["AVISITN"] == 0, "Baseline", [f"Week {int(w)}" for w in advs["AVISITN"]])
    advs["AVAL"] = pd.to_numeric(advs["AVALC"], errors="coerce")  # empty where censored (<LLOQ, >ULOQ)
    advs = advs[["STUDYID", "USUBJID", "PARAMCD", "PARAM", "AVISIT", "AVISITN", "AVAL", "AVALC"]]
    flag = {"true": 1.0, "false": 0.0, "": np.nan}
    adae = pd.DataFrame({"STUDYID": STUDYID, "USUBJID": ae["patient_id"], "AEDECOD": ae["event"],
                         "ASTWK": _number(ae["week"]), "AESERN": ae["serious"].str.lower().map(flag),
                         "ARELN": ae["related"].str.lower().map(flag)})
    return {"patients": adsl, "visits": advs.reset_index(drop=True), "adverse_events": adae}


def dataset_yaml() -> str:
    """The folder's dataset.yaml: column names, the long layout, CRP's unit and the arm labels (with comments)."""
    cols = "\n".join(f"  {k}: {v}" for k, v in COLUMNS.items())
    measures = ", ".join(f"{code}: {col}" for col, (code, _) in PARAMS.items())
    return f"""# The shipped cohort (data/synthetic) as a CDISC ADaM-like export (see README.md).
synthetic: true
generator: data/examples/make_adam_long.py (from data/synthetic)

columns:          # ADaM variable -> the data dictionary's name (any table)
{cols}

long:             # visits.xpt is in the long layout: one row per patient, visit and parameter
  visits:
    measure: PARAMCD     # the column naming the measure
    value: AVALC         # the column holding its value (the text result: keeps <LLOQ, where AVAL is empty)
    measures: {{{measures}}}

units:            # the unit a measure is recorded in; converted on reading to the dictionary's unit
  crp_mg_l: mg/dL

arms:             # TRT01P -> MSCT / control
  UC-MSC: MSCT
  Placebo: control
"""


def write_xpt(df: pd.DataFrame, path: Path, table_name: str) -> None:
    """One table as a SAS transport file, version 5 (8-character names), with the ADaM variable labels."""
    import pyreadstat

    pyreadstat.write_xport(df, str(path), file_label=table_name, table_name=table_name, file_format_version=5,
                           column_labels={c: LABELS.get(c) for c in df.columns})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(ROOT / "data" / "synthetic"))
    parser.add_argument("--out", default=str(ROOT / "data" / "examples" / "adam_long"))
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    names = ("patients.xpt", "visits.xpt", "adverse_events.xpt", "dataset.yaml")
    if any((out / n).exists() for n in names) and not args.overwrite:
        print(f"{out} already holds the example; pass --overwrite to write it again", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    for (table, df), sas in zip(adam_long(args.source).items(), ("ADSL", "ADVS", "ADAE")):
        write_xpt(df, out / f"{table}.xpt", sas)
    (out / "dataset.yaml").write_text(dataset_yaml(), encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
