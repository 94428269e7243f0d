"""Which columns each section needs (analysis/sections.py) and the design box."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.science import sections
from analysis.core.design import Design
from analysis.science.derive import derive
from analysis.intake.io import load

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def derived():
    return derive(load(ROOT / "data" / "synthetic"))


def test_every_section_is_available_on_the_shipped_cohort(derived):
    assert all(sections.available(sid, derived) for sid in sections.SECTIONS)


def test_blank_and_absent_columns_are_missing(derived):
    v = derived.visits.assign(treg_pct=np.nan).drop(columns=["th17_pct"])
    d = SimpleNamespace(visits=v, patients=derived.patients)
    assert sections.missing("immune.cells", d) == ["treg_pct", "th17_pct"]
    assert sections.reason("immune.cells", d).startswith("Not available with these data: needs treg_pct, th17_pct")
    # a panel: one member with values is enough
    v2 = derived.visits.assign(**{c: np.nan for c in ("il_1b", "il_2r", "il_6", "il_8", "il_10")})
    assert sections.missing("inflammation.cytokines", SimpleNamespace(visits=v2, patients=derived.patients)) == []
    with pytest.raises(ValueError, match="`section_id`"):
        sections.missing("nope", derived)


def test_derive_adds_absent_measurement_columns_empty(derived):
    cohort = load(ROOT / "data" / "synthetic")
    small = SimpleNamespace(patients=cohort.patients, visits=cohort.visits.drop(columns=["il_6", "ifn_g", "il_6_flag", "ifn_g_flag"]),
                            meta={})
    d = derive(small)
    assert d.visits["il_6"].isna().all() and not sections.available("ifng.high", d)


def test_check_notes_records_and_glues(tmp_path):
    notes, glued = [], {}
    page = SimpleNamespace(results_dir=tmp_path, note=lambda text, kind="note": notes.append(text),
                           glue=lambda k, v: glued.__setitem__(k, v))
    d = SimpleNamespace(visits=pd.DataFrame({"prednisone_mg_day": [np.nan]}), patients=pd.DataFrame())
    assert sections.check(page, "activity.prednisone", d, glue=["n_pred"]) is False
    assert notes[0].startswith("Not available with these data: needs prednisone_mg_day")
    assert glued == {"n_pred": "not available with these data"}
    rec = pd.read_csv(tmp_path / sections.RECORD)
    assert rec["section"].tolist() == ["activity.prednisone"]


def test_section_table_and_design_rows():
    table = sections.section_table()
    assert set(table["chapter"]) == {"safety", "disease_activity", "immune", "inflammation", "ifng"}
    rows = dict(sections.design_rows(Design.from_mapping({"visit_weeks": [0, 2, 4, 8, 12, 24], "final_week": 24}),
                                     {"arms": {"UC-MSC": "MSCT", "placebo": "control"},
                                      "units": {"crp_mg_l": "mg/dL"}, "columns": {"CRP": "crp_mg_l"}}))
    assert rows["visit weeks"] == "0, 2, 4, 8, 12, 24"
    assert rows["arm labels"] == "UC-MSC → MSCT; placebo → control"
    assert rows["unit conversions"] == "crp_mg_l: mg/dL → mg/L"
    assert rows["column names"] == "CRP → crp_mg_l"
    assert dict(sections.design_rows(Design(), None))["arm labels"] == "none"


def test_derive_overrides_go_through_the_design(derived):
    cohort = load(ROOT / "data" / "synthetic")
    d = derive(cohort, response_week=24)
    assert d.design.response_week == 24 and d.design.relapse_week == 48
    assert d.params["response_week"] == 24
    with pytest.raises(ValueError, match="response_week"):
        derive(cohort, response_week=5)


def test_build_checks_week_parameters_against_the_design():
    from analysis.engine.params import check_design_parameters
    from analysis.core.errors import ParameterError

    cohort = load(ROOT / "data" / "synthetic")
    check_design_parameters({"response_week": 24, "alpha": 0.01}, cohort)  # a visit: accepted
    check_design_parameters({"response_week": None}, cohort)  # null: the data's design
    with pytest.raises(ParameterError, match=r"response_week=5: allowed: a visit week of these data after week 0 and "
                                             r"not after the final week \(48\): 1, 2, 3, 4, 12, 24 or 48"):
        check_design_parameters({"response_week": 5}, cohort)
    with pytest.raises(ParameterError, match="whole number"):
        check_design_parameters({"after_week": 2.5}, cohort)
