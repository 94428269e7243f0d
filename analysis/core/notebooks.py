"""The chapter notebooks' parameters: what a chapter declares in its ``parameters`` cell, and a run's overrides.

A chapter's parameters and their defaults live in one place, the notebook's code cell tagged ``parameters``
(papermill replaces it in a build). The headless runs (each chapter's ``verdicts.evaluate``, the robustness
runs) read the same cell, so a changed default in a notebook changes them too:

* :func:`chapter_parameters` — the ``name = literal`` assignments of a notebook's ``parameters`` cell;
* :func:`chapter_defaults` — a chapter's parameters and defaults, without those a build sets itself;
* :func:`chapter_params` — those defaults overridden by one flat ``params`` dict (as ``-p KEY=VALUE``);
* :data:`PARAMETER_RULES` — what each parameter may take (choices, ranges, visit weeks), checked by the build
  before any chapter runs and listed by ``build --help``; :func:`parameter_problem` applies it.
"""
from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from analysis.core import paths
from analysis.core.chapters import CHAPTERS, CLAIM_CHAPTERS
from analysis.core.errors import BuildError

__all__ = ["PARAMETER_RULES", "RESERVED", "Allowed", "chapter_defaults", "chapter_parameters", "chapter_params",
           "parameter_problem"]

#: parameters a build sets itself (never a user's: ``-p`` refuses them; never taken from ``params``)
RESERVED = frozenset({"data_dir", "output_dir", "published_dir", "results_dir"})


def chapter_parameters(notebook: Path) -> dict[str, object]:
    """Parameters and default values declared in the notebook's ``parameters`` cell.

    Raises :class:`BuildError` if the notebook has no code cell tagged ``parameters`` or the cell holds
    anything but ``name = literal`` lines (papermill only warns about both).

    Examples
    --------
    >>> import nbformat, tempfile, pathlib
    >>> nb = nbformat.v4.new_notebook()
    >>> nb.cells = [nbformat.v4.new_code_cell("alpha = 0.05\\ndata_dir = None", metadata={"tags": ["parameters"]})]
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.ipynb"
    >>> nbformat.write(nb, p)
    >>> chapter_parameters(p)
    {'alpha': 0.05, 'data_dir': None}
    """
    notebook = Path(notebook)
    nb = json.loads(notebook.read_text("utf-8"))
    cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        raise BuildError(f"{notebook.name}: no code cell is tagged 'parameters'; papermill could not inject "
                         "the data folder. Tag the first code cell 'parameters'.")
    source = "".join(tagged[0]["source"]) if isinstance(tagged[0]["source"], list) else tagged[0]["source"]
    out: dict[str, object] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, (ast.Assign, ast.AnnAssign))):
            raise BuildError(f"{notebook.name}: the parameters cell may only assign literal values "
                             f"(line {node.lineno}).")
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        try:
            out[target.id] = ast.literal_eval(node.value)
        except (ValueError, AttributeError):
            raise BuildError(f"{notebook.name}: parameter on line {node.lineno} is not a literal value.") from None
    return out


@lru_cache(maxsize=None)
def _defaults(chapter: str) -> tuple[tuple[str, Any], ...]:
    notebook = {c.name: c.notebook for c in CHAPTERS}[chapter]
    found = chapter_parameters(paths.repo_root() / "book" / notebook)
    return tuple((k, v) for k, v in found.items() if k not in RESERVED)


def chapter_defaults(chapter: str) -> dict[str, Any]:
    """The parameters of ``chapter`` and their defaults, from its notebook's ``parameters`` cell.

    ``data_dir``, ``output_dir``, ``published_dir`` and ``results_dir`` are left out.

    Examples
    --------
    >>> chapter_defaults("safety")["alpha"]
    0.05
    """
    if chapter not in CLAIM_CHAPTERS:
        raise ValueError(f"`chapter` is {chapter!r}; allowed: {', '.join(CLAIM_CHAPTERS)}")
    return dict(_defaults(chapter))


def chapter_params(chapter: str, params: dict | None = None) -> dict[str, Any]:
    """``chapter``'s defaults, overridden by the keys of ``params`` that the chapter declares.

    ``params`` is one flat dict for all chapters (as ``python -m analysis build -p KEY=VALUE``): a key a
    chapter does not declare is ignored for that chapter. A value of the wrong type is refused.

    Examples
    --------
    >>> chapter_params("immune", {"alpha": 0.01, "lloq_rule": "lloq"})["alpha"]
    0.01
    >>> "lloq_rule" in chapter_params("immune", {"lloq_rule": "lloq"})
    False
    """
    out = chapter_defaults(chapter)
    for key, value in (params or {}).items():
        if key not in out or key in RESERVED:
            continue
        default = out[key]
        if default is not None and value is not None:
            if isinstance(default, bool) != isinstance(value, bool) or (
                    isinstance(default, (int, float)) and not isinstance(value, (int, float))) or (
                    isinstance(default, str) and not isinstance(value, str)):
                raise TypeError(f"`params` has {key}={value!r}; chapter {chapter!r} expects a "
                                f"{type(default).__name__} (default {default!r})")
            if isinstance(default, float) and isinstance(value, int):
                value = float(value)
        out[key] = value
    return out


# --------------------------------------------------------------------------- what each parameter may take
@dataclass(frozen=True)
class Allowed:
    """What one chapter parameter may take (``-p NAME=VALUE``): a choice, a number in a range, or a visit week.

    The build checks every ``-p`` value against it before any chapter runs
    (:func:`analysis.engine.params.check_parameters`); ``python -m analysis build --help`` and the guide list
    :attr:`text`. A visit week (``week`` set) is only checked to be a whole number here: which weeks are
    allowed depends on the data's design, which the build knows after validating the data
    (:func:`analysis.engine.params.check_design_parameters`).

    Attributes
    ----------
    text : str
        What is allowed, in words (the error message after ``allowed:``).
    choices : tuple
        The values allowed (empty: not a choice).
    low, high : float or None
        Bounds of a number (``None``: unbounded on that side).
    low_open, high_open : bool
        ``low`` (``high``) itself is not allowed (``alpha`` > 0 and < 0.5).
    whole : bool
        A whole number (an ``int``, not ``2.5`` nor ``true``).
    week : str or None
        The part a visit week plays: ``"response"``, ``"final"``, ``"relapse"``, ``"window"`` (the end of
        the early window, need not be a visit) or ``"visit"`` (any visit after week 0); ``None`` means the
        data's design.

    Examples
    --------
    >>> Allowed("a number from 0 to 10", low=0, high=10).accepts(10)
    True
    >>> Allowed("a number greater than 0 and less than 0.5", low=0, high=0.5, low_open=True, high_open=True).accepts(0.5)
    False
    >>> Allowed("esr or crp", choices=("esr", "crp")).accepts("xyz")
    False
    """

    text: str
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    whole: bool = False
    week: str | None = None

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` (as parsed from ``-p``) is allowed; a week only needs to be whole or ``None``."""
        if self.week is not None:
            return value is None or (isinstance(value, int) and not isinstance(value, bool))
        if self.choices:
            # 1 == True in Python: a bool choice takes only bools, a text choice only text
            return any(type(value) is type(c) and value == c for c in self.choices)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.whole and not isinstance(value, int):
            return False
        if not math.isfinite(value):
            return False
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return self.high is None or value < self.high or (value == self.high and not self.high_open)


def _one_of(*values: Any) -> Allowed:
    shown = [("true" if v else "false") if isinstance(v, bool) else str(v) for v in values]
    return Allowed(", ".join(shown[:-1]) + " or " + shown[-1], choices=tuple(values))


_WEEK_NOTE = "or null for the data's design"

#: every chapter parameter a user may set with ``-p``, and what it may take (one place: the build's checks, the
#: ``--help`` text and the guide read it; a test keeps it in step with the notebooks and the functions they call)
PARAMETER_RULES: dict[str, Allowed] = {
    # up to 0.5: an equivalence claim is judged on a (1 - 2 alpha) interval (analysis.claims.log.ClaimLog),
    # which at 0.5 shrinks to the estimate itself
    "alpha": Allowed("a number greater than 0 and at most 0.5 (e.g. 0.05 or 0.01)", low=0.0, high=0.5,
                     low_open=True),
    "das28_variant": _one_of("esr", "crp"),
    "table1_test": _one_of("paired", "unpaired"),
    "missing": _one_of("complete_case", "available_case", "locf"),
    "test_rule": _one_of("skew", "shapiro", "parametric", "rank"),
    "relapse_das28_rise": Allowed("a number from 0 to 10 (DAS28 points)", low=0.0, high=10.0),
    "relapse_require_labs": _one_of(True, False),
    "prednisone_min_steps": Allowed("a whole number of at least 1", low=1, whole=True),
    "max_units": Allowed("a whole number of at least 1", low=1, whole=True),
    "uloq_rule": _one_of("cap", "exclude"),
    "lloq_rule": _one_of("half", "lloq", "exclude"),
    "heatmap_scale": _one_of("sd", "log"),
    "adjust_method": _one_of("holm", "bonf", "fdr_bh"),
    "ifng_threshold_pg_ml": Allowed("a number of at least 0 (pg/mL)", low=0.0),
    "seed": Allowed("a whole number of at least 0", low=0, whole=True),
    "n_boot": Allowed("a whole number of at least 0 (0: no bootstrap interval)", low=0, whole=True),
    "response_week": Allowed(f"a visit week of the data after week 0 and not after the final week, {_WEEK_NOTE}",
                             week="response"),
    "final_week": Allowed(f"a visit week of the data not before the response week, {_WEEK_NOTE}", week="final"),
    "relapse_week": Allowed("a visit week of the data after the response week and not after the final week, "
                            + _WEEK_NOTE, week="relapse"),
    "early_window_weeks": Allowed(f"a whole week from 1 to the response week, {_WEEK_NOTE}", week="window"),
    "window_weeks": Allowed(f"a whole week from 1 to the response week, {_WEEK_NOTE}", week="window"),
    "after_week": Allowed("a visit week of the data after week 0, or null for the response week", week="visit"),
    "evaluation_week": Allowed("a visit week of the data after week 0, or null for the response week",
                               week="visit"),
}


def parameter_problem(name: str, value: Any) -> str | None:
    """What ``-p name=value`` may take when ``value`` is not allowed, else ``None`` (also for a name without a rule).

    Examples
    --------
    >>> parameter_problem("alpha", 0.01) is None
    True
    >>> parameter_problem("alpha", 0)
    'a number greater than 0 and at most 0.5 (e.g. 0.05 or 0.01)'
    >>> parameter_problem("das28_variant", "xyz")
    'esr or crp'
    """
    rule = PARAMETER_RULES.get(name)
    if rule is None or rule.accepts(value):
        return None
    return rule.text
