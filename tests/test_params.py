"""The ``-p NAME=VALUE`` parameters (analysis/engine/params.py, PARAMETER_RULES in analysis/core/notebooks.py).

A value that is not allowed is an input error: one line ``error: -p NAME=VALUE: allowed: ...``, exit code 2,
no traceback, never "please report it", and no chapter runs. The command line is called in-process
(:func:`analysis.cli.main`); every refused case stops before a chapter starts, so these tests take seconds.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from analysis.cli import main
from analysis.core.chapters import CHAPTERS
from analysis.core.errors import ParameterError
from analysis.core.notebooks import PARAMETER_RULES, RESERVED, chapter_parameters, parameter_problem
from analysis.engine.params import check_design_parameters, check_parameters

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "data" / "examples" / "small_trial"  # visits at weeks 0, 4, 12 and 24; response at 12
ALPHA = "allowed: a number greater than 0 and at most 0.5 (e.g. 0.05 or 0.01)."


def build_cli(capsys, tmp_path: Path, *params: str, data: Path = SMALL) -> tuple[int, str, str]:
    """``python -m analysis build --data DATA --out TMP -p ...``, in this process; (exit code, stdout, stderr)."""
    argv = ["build", "--no-warm-kernels", "--data", str(data), "--out", str(tmp_path / "out")]
    for p in params:
        argv += ["-p", p]
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_input_error(code: int, out: str, err: str, message: str) -> None:
    assert code == 2, (code, err)
    assert err == f"error: {message}\n", err  # one line, nothing else
    assert "please report" not in err and "Traceback" not in err
    assert "executing" not in out and "started" not in out  # no chapter ran


# ------------------------------------------------------------------------------------------- through the CLI
def test_a_choice_outside_its_values_is_an_input_error(capsys, tmp_path):
    code, out, err = build_cli(capsys, tmp_path, "das28_variant=xyz")
    assert_input_error(code, out, err, "-p das28_variant=xyz: allowed: esr or crp.")
    assert "validating" not in out  # refused before the data are even read
    assert not (tmp_path / "out" / "html").exists()


@pytest.mark.parametrize("value", ["0", "0.50001", "5", "-0.05", "often", "null"])
def test_alpha_outside_0_to_0_5_is_an_input_error(capsys, tmp_path, value):
    code, out, err = build_cli(capsys, tmp_path, f"alpha={value}")
    assert_input_error(code, out, err, f"-p alpha={value}: {ALPHA}")


@pytest.mark.parametrize("param, allowed", [
    ("lloq_rule=foo", "half, lloq or exclude"),
    ("relapse_require_labs=1", "true or false"),
    ("n_boot=-1", "a whole number of at least 0 (0: no bootstrap interval)"),
    ("relapse_das28_rise=10.5", "a number from 0 to 10 (DAS28 points)"),
    ("max_units=2.5", "a whole number of at least 1"),
])
def test_other_choices_and_ranges_are_input_errors(capsys, tmp_path, param, allowed):
    code, out, err = build_cli(capsys, tmp_path, param)
    assert_input_error(code, out, err, f"-p {param}: allowed: {allowed}.")


def test_a_week_that_is_not_a_visit_blames_the_parameter_not_dataset_yaml(capsys, tmp_path):
    code, out, err = build_cli(capsys, tmp_path, "response_week=13")
    assert_input_error(code, out, err, "-p response_week=13: allowed: a visit week of these data after week 0 and "
                                       "not after the final week (24): 4, 12 or 24; or null for the data's design "
                                       "(week 12).")
    assert "dataset.yaml" not in err


@pytest.mark.parametrize("params, message", [
    (["final_week=4"], "-p final_week=4: allowed: a visit week of these data not before the response week (12): "
                       "12 or 24; or null for the data's design (week 24)."),
    (["response_week=24", "relapse_week=24"], "-p relapse_week=24: allowed: only null (the data's design): these "
                                              "data have no visit after the response week (24) and not after the "
                                              "final week (24)."),
    (["window_weeks=13"], "-p window_weeks=13: allowed: a whole week from 1 to the response week (12); or null for "
                          "the data's design (week 4)."),
    (["after_week=0"], "-p after_week=0: allowed: a visit week of these data after week 0: 4, 12 or 24; or null "
                       "for the data's design (the response week, 12)."),
])
def test_weeks_are_checked_against_the_data_and_the_other_weeks(capsys, tmp_path, params, message):
    code, out, err = build_cli(capsys, tmp_path, *params)
    assert_input_error(code, out, err, message)


def test_timeout_and_jobs_below_their_minimum_are_input_errors(capsys, tmp_path):
    for option, value in (("--timeout", "0"), ("--jobs", "0")):
        code = main(["build", "--data", str(SMALL), "--out", str(tmp_path / "out"), option, value])
        out, err = capsys.readouterr()
        assert code == 2 and err.startswith(f"error: {option} 0: ") and err.count("\n") == 1, err


def test_robustness_checks_its_parameters_before_simulating(capsys, tmp_path):
    code = main(["robustness", "--cohorts", "1", "--out", str(tmp_path), "-p", "lloq_rule=foo"])
    out, err = capsys.readouterr()
    assert code == 2 and err == "error: -p lloq_rule=foo: allowed: half, lloq or exclude.\n"
    assert "judging" not in out


# ------------------------------------------------------------------------------------------- the rules themselves
@pytest.mark.parametrize("name, accepted, refused", [
    ("alpha", [1e-9, 0.01, 0.05, 0.49, 0.5], [0, 0.0, 0.5000001, 5, -1, True, "0.05", None, float("nan")]),
    ("relapse_das28_rise", [0, 0.6, 10], [-0.1, 10.01, float("inf")]),
    ("ifng_threshold_pg_ml", [0, 2.0, 5], [-1]),
    ("n_boot", [0, 1, 2000], [-1, 2.0, True]),
    ("seed", [0, 7], [-1, 1.5]),
    ("prednisone_min_steps", [1, 3], [0]),
    ("das28_variant", ["esr", "crp"], ["ESR", "", 1]),
    ("relapse_require_labs", [True, False], [1, 0, "true"]),
    ("response_week", [None, 12, 999], [2.5, "12", True]),  # which visit: checked against the data's design
])
def test_boundaries_by_hand(name, accepted, refused):
    for value in accepted:
        assert parameter_problem(name, value) is None, (name, value)
    for value in refused:
        assert parameter_problem(name, value) == PARAMETER_RULES[name].text, (name, value)


def test_check_parameters_refuses_values_and_says_what_is_allowed():
    declared = {"safety": {"alpha": 0.05, "das28_variant": "esr"}}
    assert check_parameters({"alpha": 0.01, "das28_variant": "crp"}, declared) == {
        "safety": {"alpha": 0.01, "das28_variant": "crp"}}
    with pytest.raises(ParameterError, match=r"^-p das28_variant=xyz: allowed: esr or crp\.$"):
        check_parameters({"das28_variant": "xyz"}, declared)


def test_check_design_parameters_on_the_small_trial():
    from analysis.intake.io import load

    cohort = load(SMALL)
    check_design_parameters({"response_week": 4, "relapse_week": 24, "window_weeks": 4}, cohort)
    check_design_parameters({"final_week": 12, "after_week": 24, "evaluation_week": 4}, cohort)
    with pytest.raises(ParameterError, match="response_week=13: allowed: .*4, 12 or 24"):
        check_design_parameters({"response_week": 13}, cohort)
    with pytest.raises(ParameterError, match=r"early_window_weeks=5: allowed: a whole week from 1 to the response "
                                             r"week \(4\)"):
        check_design_parameters({"response_week": 4, "early_window_weeks": 5}, cohort)


# ------------------------------------------------------------------------------------------- one place, in step
def test_every_chapter_parameter_has_a_rule_and_its_default_is_allowed():
    declared = {c.name: chapter_parameters(ROOT / "book" / c.notebook) for c in CHAPTERS}
    names = {k for params in declared.values() for k in params} - RESERVED
    assert names == set(PARAMETER_RULES), (sorted(names - set(PARAMETER_RULES)), sorted(set(PARAMETER_RULES) - names))
    for chapter, params in declared.items():
        for name, default in params.items():
            if name not in RESERVED:
                assert parameter_problem(name, default) is None, f"{chapter}: default {name}={default!r} refused"


def test_every_multiverse_option_is_allowed():
    for c in CHAPTERS:
        for name, values in c.multiverse.items():
            for value in values:
                assert parameter_problem(name, value) is None, f"{c.name} multiverse: {name}={value!r} refused"


def test_choices_agree_with_the_functions_that_take_them():
    from analysis.chapters.disease_activity.analysis import MISSING_RULES, TEST_RULES
    from analysis.chapters.immune.analysis import ULOQ_RULES
    from analysis.chapters.inflammation.analysis import SCALES
    from analysis.science.derive import DAS28_VARIANTS, LLOQ_RULES

    for name, values in (("das28_variant", DAS28_VARIANTS), ("lloq_rule", LLOQ_RULES), ("missing", MISSING_RULES),
                         ("test_rule", TEST_RULES), ("uloq_rule", ULOQ_RULES), ("heatmap_scale", SCALES)):
        assert set(PARAMETER_RULES[name].choices) == set(values), name
