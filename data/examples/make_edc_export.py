"""Write ``data/examples/edc_export/``: the shipped cohort as a REDCap-like EDC export, with dates instead of weeks.

The folder shows what ``dataset.yaml`` can describe for an export as it comes out of an EDC (see its README):
visit and onset dates with a day 0 per patient (``visit_dates:``), REDCap's own columns (``record_id``,
``redcap_event_name``, ``redcap_data_access_group``, ``redcap_repeat_instrument``, ``redcap_repeat_instance``),
``Yes``/``No`` flags and ``Female``/``Male`` labels (``values:``), and arm labels (``arms:``).

It starts from the shipped cohort (``data/synthetic``) and transforms its tables, cell texts unchanged:

1. each patient gets an invented day 0 (the infusion), a random day in 2015-2016;
2. each visit of week ``w`` gets the date day 0 + 7w + a random jitter inside the visit window of
   :data:`WINDOWS` (the baseline: up to 3 days before day 0, or day 0 itself); no windows overlap, so the
   dates give back exactly the weeks of ``data/synthetic``;
3. each adverse event of onset week ``w`` gets the date day 0 + 7w + 0 to 6 days (floor(days / 7) = w);
4. the week columns are dropped; the columns get the export's names; arms, sex and the yes/no flags the
   export's labels.

Its derived tables and every chapter's verdicts equal those of ``data/synthetic`` (``tests/test_dates.py``).
All dates are invented; the folder's README.md is written by hand and left alone. Run from the repository root
(it refuses to overwrite the tables unless ``--overwrite``)::

    python data/examples/make_edc_export.py [--out data/examples/edc_export] [--overwrite]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from example_folder import main_for  # noqa: E402

SOURCE = ROOT / "data" / "synthetic"
SEED = 33
#: days either side of 7 x week that count as that week's visit (the protocol's windows; written to dataset.yaml)
WINDOWS = {0: 3, 1: 2, 2: 2, 3: 2, 4: 2, 12: 7, 24: 7, 48: 14}
FIRST_DAY0, LAST_DAY0 = pd.Timestamp("2015-01-05"), pd.Timestamp("2016-12-19")
#: the export's names (dataset.yaml maps them back under columns:)
NAMES = {"patient_id": "record_id", "event": "ae_term", "serious": "ae_serious", "related": "ae_related"}
ARMS = {"MSCT": "UC-MSC", "control": "Placebo"}
SEX = {"F": "Female", "M": "Male"}
YES_NO = {"true": "Yes", "false": "No", "": ""}


def _event(week: int) -> str:
    return "baseline_arm_1" if week == 0 else f"week_{week}_arm_1"


def edc_export(source=SOURCE, seed: int = SEED) -> dict[str, pd.DataFrame]:
    """The three tables of the example, as the EDC would export them (all cells text)."""
    rng = np.random.default_rng(seed)
    read = {t: pd.read_csv(Path(source) / f"{t}.csv", dtype=str, keep_default_na=False)
            for t in ("patients", "visits", "adverse_events")}
    patients, visits, ae = read["patients"], read["visits"], read["adverse_events"]
    span = (LAST_DAY0 - FIRST_DAY0).days
    day0 = {p: FIRST_DAY0 + pd.Timedelta(days=int(d))
            for p, d in zip(patients["patient_id"], rng.integers(0, span + 1, len(patients)))}
    sites = {p: f"site_{1 + i % 3}" for i, p in enumerate(patients["patient_id"])}

    out_p = pd.DataFrame({"record_id": patients["patient_id"], "redcap_event_name": "screening_arm_1",
                          "redcap_data_access_group": patients["patient_id"].map(sites),
                          "infusion_date": [day0[p].strftime("%Y-%m-%d") for p in patients["patient_id"]]})
    out_p = pd.concat([out_p, patients.drop(columns=["patient_id"]).assign(
        arm=patients["arm"].map(ARMS), sex=patients["sex"].map(SEX))], axis=1)

    weeks = visits["week"].astype(int).to_numpy()
    width = np.array([WINDOWS[w] for w in weeks])
    low = np.where(weeks == 0, -width, -width)
    high = np.where(weeks == 0, 0, width)  # a baseline visit falls on or before the infusion
    jitter = rng.integers(low, high + 1)
    dates = [day0[p] + pd.Timedelta(days=int(7 * w + j)) for p, w, j in zip(visits["patient_id"], weeks, jitter)]
    out_v = pd.DataFrame({"record_id": visits["patient_id"], "redcap_event_name": [_event(w) for w in weeks],
                          "redcap_data_access_group": visits["patient_id"].map(sites),
                          "visit_date": [d.strftime("%Y-%m-%d") for d in dates]})
    out_v = pd.concat([out_v, visits.drop(columns=["patient_id", "week"])], axis=1)

    onset = [day0[p] + pd.Timedelta(days=int(7 * int(w) + d))
             for p, w, d in zip(ae["patient_id"], ae["week"], rng.integers(0, 7, len(ae)))]
    out_a = pd.DataFrame({"record_id": ae["patient_id"], "redcap_repeat_instrument": "adverse_events",
                          "redcap_repeat_instance": ae.groupby("patient_id").cumcount().add(1).astype(str),
                          "ae_term": ae["event"], "ae_onset_date": [d.strftime("%Y-%m-%d") for d in onset],
                          "ae_serious": ae["serious"].str.lower().map(YES_NO),
                          "ae_related": ae["related"].str.lower().map(YES_NO)})
    return {"patients": out_p, "visits": out_v, "adverse_events": out_a}


def dataset_yaml(seed: int = SEED) -> str:
    """The folder's dataset.yaml: names, labels, and the dates -> weeks rules (with comments)."""
    windows = ", ".join(f"{w}: {d}" for w, d in WINDOWS.items())
    cols = "\n".join(f"  {v}: {k}" for k, v in NAMES.items())
    return f"""# The shipped cohort (data/synthetic) as a REDCap-like export with invented dates (see README.md).
synthetic: true
generator: data/examples/make_edc_export.py (from data/synthetic)
seed: {seed}

columns:          # the export's column name -> the data dictionary's name
{cols}

arms:             # the export's arm labels -> MSCT / control
  UC-MSC: MSCT
  Placebo: control

values:           # the export's labels -> the dictionary's values (category and yes/no columns)
  sex: {{Female: F, Male: M}}
  serious: {{"Yes": true, "No": false}}
  related: {{"Yes": true, "No": false}}

visit_dates:      # weeks computed from dates; the date columns are dropped on reading
  day0: infusion_date             # patients: day 0 (the infusion)
  visits: visit_date              # visits: the visit's date -> the scheduled week whose window holds it
  adverse_events: ae_onset_date   # adverse events: onset date -> week of onset (floor of days / 7)
  window_days: {{{windows}}}   # days either side of each scheduled week
"""


def main(argv=None) -> int:
    return main_for(__doc__.splitlines()[0], ROOT / "data" / "examples" / "edc_export", edc_export, dataset_yaml, argv)


if __name__ == "__main__":
    raise SystemExit(main())
