"""The inflammation verdicts' _per_patient_change from one visit_wide pivot against the per-column pivots it replaces."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.chapters.inflammation import verdicts
from analysis.science.tables import visit_wide


def _per_column_pivots(visits, columns, *, after, group):
    """The former implementation: one pivot_table per column."""
    v = visits.loc[visits["group"].eq(group) & visits["week"].isin([0, after])]
    out = {}
    for col in columns:
        wide = v.assign(_y=pd.to_numeric(v[col], errors="coerce")).pivot_table(
            index="patient_id", columns="week", values="_y", aggfunc="first")
        out[col] = (wide[after] - wide[0]) if {0, after} <= set(wide.columns) else pd.Series(dtype=float)
    return pd.DataFrame(out)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_patient_change_pairs_equal_the_per_column_pivots(seed):
    rng = np.random.default_rng(seed)
    rows = [dict(patient_id=f"p{i:02d}", group="Responder" if i % 3 else "Control", week=w,
                 a=rng.normal() if rng.random() > 0.2 else np.nan, b=rng.normal() if rng.random() > 0.2 else np.nan)
            for i in range(20) for w in (0, 4, 12) if rng.random() > 0.1]
    v = pd.DataFrame(rows).sample(frac=1.0, random_state=seed)
    for after in (4, 12):
        got = verdicts._per_patient_change(v, ["a", "b"], after=after, group="Responder")
        ref = _per_column_pivots(v, ["a", "b"], after=after, group="Responder")
        # what check_correlations uses: the complete (Δa, Δb) pairs, in patient order
        pd.testing.assert_frame_equal(got.dropna(), ref.dropna(), check_exact=True, check_names=False)
        # a table built for every visit gives the same changes
        wide = visit_wide(v, ["a", "b"], group="Responder")
        again = verdicts._per_patient_change(v, ["a", "b"], after=after, group="Responder", wide=wide)
        pd.testing.assert_frame_equal(again.dropna(), ref.dropna(), check_exact=True, check_names=False)
