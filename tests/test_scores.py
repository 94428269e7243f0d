"""Tests for analysis.science.scores: DAS28 by hand, EULAR cut-offs at and around every boundary."""
import math

import numpy as np
import pandas as pd
import pytest

from analysis.science.scores import das28_crp, das28_esr, eular_response, is_responder

E = math.e


# --- DAS28-ESR: 0.56*sqrt(TJC) + 0.28*sqrt(SJC) + 0.70*ln(ESR) + 0.014*GH (Prevoo 1995) ---------------
@pytest.mark.parametrize(
    "tjc, sjc, esr, gh, expected",
    [
        (4, 1, E, 50, 2.80),  # 0.56*2 + 0.28*1 + 0.70*1 + 0.014*50 = 1.12 + 0.28 + 0.70 + 0.70
        (0, 0, 1, 0, 0.0),  # every term zero (ln 1 = 0)
        (9, 16, E**2, 100, 5.60),  # 0.56*3 + 0.28*4 + 0.70*2 + 1.4 = 1.68 + 1.12 + 1.40 + 1.40
        (16, 4, E**2, 50, 4.90),  # 0.56*4 + 0.28*2 + 1.40 + 0.70 = 2.24 + 0.56 + 1.40 + 0.70
    ],
)
def test_das28_esr_hand_worked(tjc, sjc, esr, gh, expected):
    assert das28_esr(tjc, sjc, esr, gh) == pytest.approx(expected, abs=1e-12)


# --- DAS28-CRP: 0.56*sqrt(TJC) + 0.28*sqrt(SJC) + 0.36*ln(CRP+1) + 0.014*GH + 0.96 (DAS28 website) ------
@pytest.mark.parametrize(
    "tjc, sjc, crp, gh, expected",
    [
        (4, 1, E - 1, 50, 3.42),  # 1.12 + 0.28 + 0.36*1 + 0.70 + 0.96
        (0, 0, 0, 0, 0.96),  # ln(0 + 1) = 0: only the constant
        (9, 4, E**2 - 1, 0, 3.92),  # 1.68 + 0.56 + 0.72 + 0 + 0.96
    ],
)
def test_das28_crp_hand_worked(tjc, sjc, crp, gh, expected):
    assert das28_crp(tjc, sjc, crp, gh) == pytest.approx(expected, abs=1e-12)


def test_das28_vectorised_and_nan_propagates():
    s = das28_esr(pd.Series([4, np.nan], index=["a", "b"]), 1, E, 50)
    assert list(s.index) == ["a", "b"]
    assert s["a"] == pytest.approx(2.80) and np.isnan(s["b"])
    arr = das28_crp(np.array([4, 4]), np.array([1, 1]), np.array([E - 1, np.nan]), 50)
    assert isinstance(arr, np.ndarray)
    assert arr[0] == pytest.approx(3.42) and np.isnan(arr[1])
    assert isinstance(das28_esr(4, 1, E, 50), float)


# --- EULAR (van Gestel 1996) -------------------------------------------------------------------------
# improvement = baseline - current. Each case names the boundary it probes.
CASES = [
    # improvement at 0.6 and just above
    (5.0, 4.4, "none"),  # improvement exactly 0.6 (float 0.5999999999999996) -> not > 0.6
    (3.8, 3.2, "none"),  # improvement exactly 0.6, low current -> none
    (5.01, 4.4, "moderate"),  # 0.61 > 0.6, current 4.4 <= 5.1
    (4.4000001, 3.8, "moderate"),  # 0.6000001: epsilon above 0.6
    # improvement at 1.2 and just above
    (4.4, 3.2, "moderate"),  # exactly 1.2 (float 1.2000000000000002) -> not > 1.2; 0.6 < 1.2 <= 1.2, current <= 5.1
    (4.41, 3.2, "good"),  # 1.21 > 1.2 and current 3.2 <= 3.2
    (4.4000001, 3.2, "good"),  # 1.2000001: epsilon above 1.2
    # current at 3.2 and just above (improvement > 1.2)
    (5.0, 3.2, "good"),  # current exactly 3.2
    (5.0, 3.21, "moderate"),  # current 3.21 > 3.2
    (5.0, 3.2000001, "moderate"),
    # current at 5.1 and just above (0.6 < improvement <= 1.2)
    (6.0, 5.1, "moderate"),  # improvement 0.9, current exactly 5.1
    (6.0, 5.11, "none"),  # improvement 0.89, current 5.11 > 5.1
    (6.3, 5.1, "moderate"),  # improvement exactly 1.2 and current exactly 5.1
    (6.31, 5.11, "none"),  # improvement exactly 1.2 (float 1.1999999999999993), current > 5.1
    (6.0, 5.1000001, "none"),
    # current above 5.1 with a big improvement is still moderate
    (6.5, 5.11, "moderate"),  # improvement 1.39 > 1.2, current > 3.2
    # worsening
    (3.0, 4.0, "none"),
]


@pytest.mark.parametrize("baseline, current, expected", CASES)
def test_eular_cutoffs_scalar(baseline, current, expected):
    assert eular_response(baseline, current) == expected


def test_float_trap_is_real():
    # Why rounding is needed: in binary floating point 4.4 - 3.2 is slightly above 1.2.
    assert 4.4 - 3.2 > 1.2
    assert eular_response(4.4, 3.2) == "moderate"


def test_eular_vectorised_series_and_array():
    b = pd.Series([c[0] for c in CASES] + [np.nan, 5.0])
    c = pd.Series([c[1] for c in CASES] + [3.0, None])
    out = eular_response(b, c)
    assert isinstance(out, pd.Series)
    assert out.iloc[: len(CASES)].tolist() == [c[2] for c in CASES]
    assert out.iloc[-2] is None and out.iloc[-1] is None
    arr = eular_response(np.array([5.0, 4.4]), np.array([4.4, 3.2]))
    assert arr.tolist() == ["none", "moderate"]


def test_eular_missing_scalar():
    assert eular_response(None, 3.0) is None
    assert eular_response(5.0, float("nan")) is None


def test_is_responder():
    assert is_responder("good") and is_responder("moderate")
    assert not is_responder("none") and not is_responder(None)
    s = is_responder(pd.Series(["good", "none", None, "moderate"]))
    assert s.tolist() == [True, False, False, True]
    assert is_responder(np.array(["none", "good"], dtype=object)).tolist() == [False, True]
