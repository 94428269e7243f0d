"""The chapter notebooks' parameters: what a chapter declares in its ``parameters`` cell, and a run's overrides.

A chapter's parameters and their defaults live in one place, the notebook's code cell tagged ``parameters``
(papermill replaces it in a build). The headless runs (each chapter's ``verdicts.evaluate``, the robustness
runs) read the same cell, so a changed default in a notebook changes them too:

* :func:`chapter_parameters` — the ``name = literal`` assignments of a notebook's ``parameters`` cell;
* :func:`chapter_defaults` — a chapter's parameters and defaults, without those a build sets itself;
* :func:`chapter_params` — those defaults overridden by one flat ``params`` dict (as ``-p KEY=VALUE``).
"""
from __future__ import annotations

import ast
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from analysis.core import paths
from analysis.core.chapters import CHAPTERS, CLAIM_CHAPTERS
from analysis.core.errors import BuildError

__all__ = ["RESERVED", "chapter_defaults", "chapter_parameters", "chapter_params"]

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
