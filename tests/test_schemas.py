"""The pandera schemas (from the data dictionary) accept what the loader returns and refuse broken tables."""
from __future__ import annotations

import pandas as pd
import pandera.errors
import pytest

from analysis.intake.io import load
from analysis.intake.schemas import schema, schemas


@pytest.fixture(scope="module")
def cohort(request):
    from pathlib import Path

    return load(Path(__file__).resolve().parents[1] / "data" / "synthetic")


@pytest.mark.parametrize("table", ["patients", "visits", "adverse_events"])
def test_loaded_synthetic_cohort_satisfies_the_schema(cohort, table):
    frame = getattr(cohort, table)
    assert len(schema(table).validate(frame)) == len(frame)


def _fails(table: str, frame: pd.DataFrame) -> None:
    with pytest.raises(pandera.errors.SchemaError):
        schema(table).validate(frame)


def test_out_of_range_joint_count_is_refused(cohort):
    v = cohort.visits.copy()
    v.loc[v.index[0], "tjc28"] = 29  # 28 joints at most
    _fails("visits", v)


def test_haq_off_the_grid_is_refused(cohort):
    v = cohort.visits.copy()
    v["haq_di"] = v["haq_di"].astype(float)
    v.loc[v.index[0], "haq_di"] = 1.3  # 1.3 / 0.125 = 10.4: not on the grid
    _fails("visits", v)


def test_haq_on_the_grid_passes(cohort):
    v = cohort.visits.copy()
    v.loc[v.index[0], "haq_di"] = 1.375  # 11 × 0.125
    schema("visits").validate(v)


def test_unknown_arm_and_duplicate_patient_are_refused(cohort):
    p = cohort.patients.copy()
    p.loc[p.index[0], "arm"] = "msct"
    _fails("patients", p)
    _fails("patients", pd.concat([cohort.patients, cohort.patients.head(1)], ignore_index=True))


def test_week_outside_the_design_is_refused(cohort):
    v = cohort.visits.copy()
    v.loc[v.index[0], "week"] = 5
    _fails("visits", v)


def test_every_table_has_a_schema():
    assert sorted(schemas()) == ["adverse_events", "patients", "visits"]


def test_the_other_trials_cohort_satisfies_its_designs_schema():
    from pathlib import Path

    c = load(Path(__file__).resolve().parents[1] / "data" / "examples" / "other_trial")
    for table in ("patients", "visits", "adverse_events"):
        schema(table, c.design).validate(getattr(c, table))
    _fails("visits", c.visits)  # week 8 is not a visit of the paper's design
