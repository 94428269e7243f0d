"""The ``-p KEY=VALUE`` parameters of a build: parsed, checked against the chapters' ``parameters`` cells, coerced.

A chapter's parameters and their defaults are read from its notebook (:func:`analysis.core.notebooks.chapter_parameters`);
a ``-p`` value goes to every chapter that declares the name, with the type of its default. Visit weeks
(:data:`DESIGN_PARAMETERS`) are also checked against the data's design.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from analysis.core.chapters import Chapter
from analysis.core.errors import BuildError, ParameterError
from analysis.core.notebooks import RESERVED, chapter_parameters

__all__ = ["DERIVE_OPTIONS", "DESIGN_PARAMETERS", "check_design_parameters", "check_parameters",
           "declared_parameters", "parse_parameters"]


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


def _coerce(key: str, value: object, default: object, chapter: str) -> object:
    if default is None or value is None:
        return value
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
    """Per-chapter parameter values: refuse unknown names, reserved names and wrong types.

    Examples
    --------
    >>> check_parameters({"alpha": 0.01}, {"safety": {"alpha": 0.05, "data_dir": None}})
    {'safety': {'alpha': 0.01}}
    """
    for key in user:
        if key in RESERVED:
            raise ParameterError(f"-p {key}=...: '{key}' is set by the build itself; use --data / --out instead.")
        if not any(key in params for params in declared.values()):
            known = sorted({k for p in declared.values() for k in p} - RESERVED)
            raise ParameterError(f"-p {key}=...: unknown parameter '{key}'. Parameters of the selected chapters: "
                                 f"{', '.join(known)}.")
    return {chapter: {k: _coerce(k, v, params[k], chapter) for k, v in user.items() if k in params}
            for chapter, params in declared.items()}


#: ``-p`` parameters that name a visit week (default None = the data's design)
DESIGN_PARAMETERS: tuple[str, ...] = ("response_week", "final_week", "early_window_weeks", "relapse_week")
_WEEK_PARAMETERS: tuple[str, ...] = DESIGN_PARAMETERS + ("after_week", "evaluation_week", "window_weeks")


def check_design_parameters(user: dict, cohort) -> None:
    """Refuse ``-p`` weeks that are not whole numbers, or that the data's design cannot take (with the rule).

    Examples
    --------
    >>> check_design_parameters({"response_week": 24}, None)
    >>> check_design_parameters({"response_week": "x"}, None)
    Traceback (most recent call last):
    ...
    analysis.core.errors.ParameterError: -p response_week='x': a visit week is a whole number (e.g. -p response_week=24), or null for the data's design.
    """
    for key in _WEEK_PARAMETERS:
        value = user.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ParameterError(f"-p {key}={value!r}: a visit week is a whole number (e.g. -p {key}=24), "
                                 "or null for the data's design.")
    overrides = {k: user[k] for k in DESIGN_PARAMETERS if user.get(k) is not None}
    if not overrides or cohort is None:
        return
    from analysis.core.design import DesignError
    from analysis.science.derive import design_with_overrides

    try:
        design_with_overrides(cohort.design, overrides)
    except DesignError as err:
        weeks = "" if "visit_weeks (" in str(err) else f" (the data's visit weeks: {cohort.design.describe_weeks()})"
        raise ParameterError(f"-p {', '.join(f'{k}={v}' for k, v in overrides.items())}: {err}{weeks}.") from None
