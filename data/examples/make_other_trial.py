"""Write ``data/examples/other_trial/``: a simulated trial that looks like another team's export.

The folder shows what ``dataset.yaml`` can describe (see its README): another visit schedule
(weeks 0, 2, 4, 8, 12, 24; response judged at week 12, last visit week 24), only the clinical measures
and three cytokines, the trial's own column names (``subject_id``, ``CRP``, ``TJC28``, ...), CRP recorded
in mg/dL, and arms labelled ``UC-MSC`` and ``placebo``.

It starts from the book's simulator (:func:`analysis.science.simulate.simulate`, which uses the paper's schedule)
and transforms the tables in memory:

1. keep the visits at weeks 0, 2, 4, 12 and 24 and add week 8 halfway between weeks 4 and 12
   (the mean of the two visits, rounded as the column is recorded: whole joints and mm, HAQ-DI on its
   0.125 grid, the week-4 prednisone dose; a cytokine below the limit at either visit stays ``<LLOQ``);
   patients without both visits get no week-8 row;
2. keep only ``tjc28``, ``sjc28``, ``esr_mm_h``, ``crp_mg_l``, ``patient_global_mm``, ``haq_di``,
   ``prednisone_mg_day`` and the cytokines ``il_6``, ``tnf_a``, ``ifn_g``; no immune cells, no safety labs;
3. CRP in mg/dL (mg/L / 10, two decimals), renamed columns, relabelled arms;
4. adverse events up to week 24 only.

The folder's README.md is written by hand and left alone. Run from the repository root (it refuses to
overwrite the tables unless ``--overwrite``)::

    python data/examples/make_other_trial.py [--out data/examples/other_trial] [--overwrite]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from example_folder import main_for  # noqa: E402
sys.path.insert(0, str(ROOT))

from analysis.science.simulate import simulate  # noqa: E402

SEED = 2024
N_PATIENTS = 80
WEEKS = [0, 2, 4, 8, 12, 24]
MEASURES = ["tjc28", "sjc28", "esr_mm_h", "crp_mg_l", "patient_global_mm", "haq_di", "prednisone_mg_day",
            "il_6", "tnf_a", "ifn_g"]
CYTOKINES = ["il_6", "tnf_a", "ifn_g"]
#: the trial's own column names (dataset.yaml maps them back under columns:)
NAMES = {"patient_id": "subject_id", "week": "visit_week", "arm": "arm", "tjc28": "TJC28", "sjc28": "SJC28",
         "esr_mm_h": "ESR", "crp_mg_l": "CRP", "patient_global_mm": "PtGA", "haq_di": "HAQ",
         "prednisone_mg_day": "prednisone", "il_6": "IL6", "tnf_a": "TNF_alpha", "ifn_g": "IFN_gamma"}
ARMS = {"MSCT": "UC-MSC", "control": "placebo"}


def _week8(visits: pd.DataFrame) -> pd.DataFrame:
    """One week-8 row per patient seen at weeks 4 and 12: halfway between the two visits."""
    w4 = visits[visits["week"] == 4].set_index("patient_id")
    w12 = visits[visits["week"] == 12].set_index("patient_id")
    ids = w4.index.intersection(w12.index)
    a, b = w4.loc[ids], w12.loc[ids]
    out = pd.DataFrame({"patient_id": ids, "week": 8})
    for col in ("tjc28", "sjc28", "esr_mm_h", "patient_global_mm"):
        out[col] = np.floor((a[col].to_numpy() + b[col].to_numpy()) / 2 + 0.5).astype(int)
    out["crp_mg_l"] = np.round((a["crp_mg_l"].to_numpy() + b["crp_mg_l"].to_numpy()) / 2, 1)
    out["haq_di"] = np.round((a["haq_di"].to_numpy() + b["haq_di"].to_numpy()) / 2 * 8) / 8
    out["prednisone_mg_day"] = a["prednisone_mg_day"].to_numpy()
    for col in CYTOKINES:
        x = pd.to_numeric(a[col], errors="coerce").to_numpy()
        y = pd.to_numeric(b[col], errors="coerce").to_numpy()
        mid = np.round((x + y) / 2, 2)
        out[col] = np.where(np.isnan(mid), "<LLOQ", [f"{v:g}" for v in mid])
    return out


def other_trial(seed: int = SEED, n_patients: int = N_PATIENTS) -> dict[str, pd.DataFrame]:
    """The three tables of the example, as the other trial would export them."""
    t = simulate(seed=seed, n_patients=n_patients)
    visits = t["visits"][["patient_id", "week", *MEASURES]]
    visits = pd.concat([visits[visits["week"].isin(WEEKS)], _week8(visits)], ignore_index=True)
    visits = visits.sort_values(["patient_id", "week"], kind="stable").reset_index(drop=True)
    visits["crp_mg_l"] = np.round(visits["crp_mg_l"].to_numpy() / 10, 2)  # recorded in mg/dL
    patients = t["patients"].assign(arm=t["patients"]["arm"].map(ARMS))
    ae = t["adverse_events"]
    ae = ae[ae["week"] <= WEEKS[-1]].reset_index(drop=True)
    ae = ae.assign(serious=np.where(ae["serious"], "true", "false"), related=np.where(ae["related"], "true", "false"))
    return {"patients": patients.rename(columns=NAMES), "visits": visits.rename(columns=NAMES),
            "adverse_events": ae.rename(columns={**NAMES, "week": "onset_week"})}


def dataset_yaml(seed: int = SEED, n_patients: int = N_PATIENTS) -> str:
    """The folder's dataset.yaml: the design, the column names, CRP's unit and the arm labels (with comments)."""
    cols = "\n".join(f"  {v}: {k}" for k, v in {**NAMES, "week": "visit_week"}.items() if v != k)
    return f"""# Another trial, described only by this file (see README.md).
synthetic: true
generator: data/examples/make_other_trial.py (from analysis.simulate)
seed: {seed}
n_patients: {n_patients}

design:
  visit_weeks: [{", ".join(map(str, WEEKS))}]   # scheduled visits; 0 = baseline, before the infusion
  response_week: 12                   # EULAR response is judged here
  final_week: 24                      # last scheduled visit

columns:          # our column name -> the data dictionary's name (any table)
{cols}
  onset_week: week                    # adverse_events: week of onset

units:            # the unit our column is recorded in; converted on reading to the dictionary's unit
  crp_mg_l: mg/dL

arms:             # our arm labels -> MSCT / control
  UC-MSC: MSCT
  placebo: control
"""


def main(argv=None) -> int:
    return main_for(__doc__.splitlines()[0], ROOT / "data" / "examples" / "other_trial", other_trial, dataset_yaml, argv)


if __name__ == "__main__":
    raise SystemExit(main())
