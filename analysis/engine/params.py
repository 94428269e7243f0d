"""The ``-p KEY=VALUE`` parameters of a build: parsed, checked against the chapters' ``parameters`` cells, coerced.

A chapter's parameters and their defaults are read from its notebook (:func:`analysis.core.notebooks.chapter_parameters`);
a ``-p`` value goes to every chapter that declares the name, with the type of its default. Every value is checked
against what the parameter may take (:data:`analysis.core.notebooks.PARAMETER_RULES`: a choice, a range) before
anything runs, and visit weeks (:data:`DESIGN_PARAMETERS` and the chapters' own weeks) against the data's design
once the data are validated. A refused value is a :class:`~analysis.core.errors.ParameterError` of one line,
``-p NAME=VALUE: allowed: ...``, which the command line prints with exit code 2.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from analysis.core.chapters import Chapter
from analysis.core.errors import BuildError, ParameterError
from analysis.core.notebooks import PARAMETER_RULES, RESERVED, chapter_parameters, parameter_problem

__all__ = ["DERIVE_OPTIONS", "DESIGN_PARAMETERS", "check_design_parameters", "check_parameters",
           "declared_parameters", "parse_parameters", "shown"]


#: parameters the build sets itself (``--data``, ``--out``); ``-p`` may not set them
#: derive() options a user may set with -p; the build uses them for results/derived/
DERIVE_OPTIONS = ("das28_variant", "lloq_rule", "response_week", "final_week", "early_window_weeks", "relapse_week")


def parse_parameters(pairs: list[str]) -> dict[str, object]:
    """Parse ``KEY=VALUE`` strings; values are read as YAML scalars (``0.01``, ``true``, ``esr``).

    Examples
    --------
    >>> parse_parameters(["alpha=0.01", "das28_variant=crp", "n_boot=500"])
    {'alpha': 0.01, 'das28_variant': 'crp', 'n_boot': 500}
    """
    out: dict[str, object] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ParameterError(f"-p {pair!r}: parameters are written KEY=VALUE, e.g. -p alpha=0.01")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        if isinstance(value, (list, dict)):
            value = raw
        out[key] = value
    return out


def shown(value: object) -> str:
    """A ``-p`` value as the user would write it (``5``, ``xyz``, ``true``, ``null``).

    Examples
    --------
    >>> shown("xyz"), shown(5), shown(0.5), shown(True), shown(None)
    ('xyz', '5', '0.5', 'true', 'null')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _refuse(key: str, value: object, allowed: str) -> ParameterError:
    return ParameterError(f"-p {key}={shown(value)}: allowed: {allowed}.")


def _coerce(key: str, value: object, default: object, chapter: str) -> object:
    if default is None:
        return value
    if value is None:
        raise ParameterError(f"-p {key}=null: chapter '{chapter}' needs a value here (its default is {default!r}).")
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
        return str(value)
    else:
        return value
    raise ParameterError(f"-p {key}={value!r}: chapter '{chapter}' expects a {type(default).__name__} "
                         f"(its default is {default!r}), got a {type(value).__name__}.")


def declared_parameters(chapters: list[Chapter], book_src: Path) -> dict[str, dict[str, object]]:
    """Each chapter's declared parameters and defaults (its notebook's ``parameters`` cell, in ``book_src``).

    Raises :class:`~analysis.core.errors.BuildError` when a chapter does not declare ``output_dir`` (the build
    tells each chapter where to write through it).

    Examples
    --------
    >>> from analysis.core.chapters import CHAPTERS
    >>> from analysis.core.paths import repo_root
    >>> declared_parameters(CHAPTERS[:1], repo_root() / "book")["safety"]["alpha"]
    0.05
    """
    declared = {c.name: chapter_parameters(Path(book_src) / c.notebook) for c in chapters}
    for name, params in declared.items():
        if "output_dir" not in params:
            raise BuildError(f"{name}.ipynb: the parameters cell must declare output_dir.")
    return declared


def check_parameters(user: dict, declared: dict[str, dict]) -> dict[str, dict]:
    """Per-chapter parameter values: refuse unknown names, reserved names, wrong types and values not allowed.

    What a value may take is declared once, in :data:`analysis.core.notebooks.PARAMETER_RULES` (choices and
    ranges; a visit week is checked against the data by :func:`check_design_parameters`).

    Examples
    --------
    >>> check_parameters({"alpha": 0.01}, {"safety": {"alpha": 0.05, "data_dir": None}})
    {'safety': {'alpha': 0.01}}
    >>> check_parameters({"alpha": 5}, {"safety": {"alpha": 0.05}})
    Traceback (most recent call last):
    ...
    analysis.core.errors.ParameterError: -p alpha=5: allowed: a number greater than 0 and at most 0.5 (e.g. 0.05 or 0.01).
    """
    for key in user:
        if key in RESERVED:
            raise ParameterError(f"-p {key}=...: '{key}' is set by the build itself; use --data / --out instead.")
        if not any(key in params for params in declared.values()):
            known = sorted({k for p in declared.values() for k in p} - RESERVED)
            raise ParameterError(f"-p {key}=...: unknown parameter '{key}'. Parameters of the selected chapters: "
                                 f"{', '.join(known)}.")
        problem = parameter_problem(key, user[key])
        if problem is not None:
            raise _refuse(key, user[key], problem)
    return {chapter: {k: _coerce(k, v, params[k], chapter) for k, v in user.items() if k in params}
            for chapter, params in declared.items()}


#: ``-p`` parameters that name a visit week of the design (default None = the data's design)
DESIGN_PARAMETERS: tuple[str, ...] = ("response_week", "final_week", "early_window_weeks", "relapse_week")
#: every ``-p`` parameter that is a week (the design's, and the chapters' own: ``after_week``, ...), in the order
#: they are checked (the final week first: the others are judged against it)
_WEEK_PARAMETERS: tuple[str, ...] = ("final_week", "response_week", "relapse_week", "early_window_weeks",
                                     "window_weeks", "after_week", "evaluation_week")


def _weeks(weeks: list[int]) -> str:
    shown_weeks = [str(w) for w in weeks]
    return shown_weeks[0] if len(shown_weeks) == 1 else ", ".join(shown_weeks[:-1]) + " or " + shown_weeks[-1]


def check_design_parameters(user: dict, cohort) -> None:
    """Refuse ``-p`` weeks that are not whole numbers, or that the data's design cannot take (saying which it can).

    ``cohort`` is the validated data (its ``design``); ``None`` checks only that weeks are whole numbers. The
    allowed weeks follow the design's rules (:meth:`analysis.core.design.Design.from_mapping`) with the other
    ``-p`` weeks applied: the response week is a visit after week 0 and not after the final week, the relapse
    week a visit after the response week, the early window (``early_window_weeks``, the IFN-γ chapter's
    ``window_weeks``) a whole week from 1 to the response week, ``after_week`` and ``evaluation_week`` visits
    after week 0.

    Examples
    --------
    >>> check_design_parameters({"response_week": 24}, None)
    >>> check_design_parameters({"response_week": "x"}, None)
    Traceback (most recent call last):
    ...
    analysis.core.errors.ParameterError: -p response_week=x: allowed: a whole number (a visit week, e.g. -p response_week=24), or null for the data's design.
    >>> from types import SimpleNamespace
    >>> from analysis.core.design import Design
    >>> small = SimpleNamespace(design=Design.from_mapping({"visit_weeks": [0, 4, 12, 24], "response_week": 12}))
    >>> check_design_parameters({"response_week": 13}, small)
    Traceback (most recent call last):
    ...
    analysis.core.errors.ParameterError: -p response_week=13: allowed: a visit week of these data after week 0 and not after the final week (24): 4, 12 or 24; or null for the data's design (week 12).
    """
    for key in _WEEK_PARAMETERS:
        value = user.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise _refuse(key, value, f"a whole number (a visit week, e.g. -p {key}=24), or null for the data's design")
    if cohort is None:
        return
    design = cohort.design
    given = {k: user[k] for k in _WEEK_PARAMETERS if user.get(k) is not None}
    final = given.get("final_week", design.final_week)
    response = given.get("response_week", design.response_week)
    visits = design.visit_weeks
    rules = {
        "final_week": ([w for w in visits if w > 0] if "response_week" in given else
                       [w for w in visits if w >= design.response_week],
                       "a visit week of these data " + ("after week 0" if "response_week" in given else
                                                        f"not before the response week ({design.response_week})"),
                       f"week {design.final_week}"),
        "response_week": ([w for w in visits if 0 < w <= final],
                          f"a visit week of these data after week 0 and not after the final week ({final})",
                          f"week {design.response_week}"),
        "relapse_week": ([w for w in visits if response < w <= final],
                         f"a visit week of these data after the response week ({response}) and not after the final "
                         f"week ({final})",
                         f"week {design.relapse_week}" if design.relapse_week is not None else "none"),
        "early_window_weeks": (list(range(1, response + 1)), f"a whole week from 1 to the response week ({response})",
                               f"week {design.early_window_weeks}"),
        "after_week": ([w for w in visits if w > 0], "a visit week of these data after week 0",
                       f"the response week, {response}"),
    }
    rules["window_weeks"] = rules["early_window_weeks"]
    rules["evaluation_week"] = rules["after_week"]
    for key in _WEEK_PARAMETERS:
        if key not in given:
            continue
        allowed, what, default = rules[key]
        if given[key] in allowed:
            continue
        if not allowed:
            raise _refuse(key, given[key], f"only null (the data's design): these data have no visit after the "
                                           f"response week ({response}) and not after the final week ({final})")
        detail = what if key in ("early_window_weeks", "window_weeks") else f"{what}: {_weeks(allowed)}"
        raise _refuse(key, given[key], f"{detail}; or null for the data's design ({default})")
    # the design's own rules, as derive() will apply them (a last check; the rules above should have said it all)
    from analysis.core.design import DesignError
    from analysis.science.derive import design_with_overrides

    overrides = {k: given[k] for k in DESIGN_PARAMETERS if k in given}
    for extra in ({}, {"early_window_weeks": given["window_weeks"]} if "window_weeks" in given else None):
        if extra is None:
            continue
        try:
            design_with_overrides(design, {**overrides, **extra})
        except DesignError as err:
            names = [k for k in given if k in overrides or (extra and k == "window_weeks")]
            raise ParameterError(f"-p {', '.join(f'{k}={given[k]}' for k in names)}: {err.rule} "
                                 f"(the data's visit weeks: {design.describe_weeks()}).") from None
