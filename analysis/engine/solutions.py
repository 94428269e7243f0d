"""Remove exercise solutions from a notebook, for the instructor's hand-out build (``--no-solutions``).

sphinx-exercise's ``hide_solutions`` does not cope with *gated* solutions (``solution-start`` …
``solution-end`` with executable code cells between them): the code stays on the page and the end
marker crashes Sphinx. So the build strips the solutions from each executed notebook once it has run,
before anything is rendered or published: the page, its downloadable ``.ipynb`` and the copy in
``OUT/executed/`` have none (a hand-out build's chapters are keyed apart in the cache, so a later build with
solutions runs them again). The sentence that says where the solutions are is rewritten to say they are
not included (:data:`NO_SOLUTIONS_NOTE`).
"""
from __future__ import annotations

import re

__all__ = ["NO_SOLUTIONS_NOTE", "strip_solutions"]

#: what a hand-out page says instead of the chapters' sentence on where the solutions are
NO_SOLUTIONS_NOTE = ("The solutions are not included in this edition (a hand-out built with "
                     "`python -m analysis build --no-solutions`).")
#: the chapters' sentence on where the solutions are ("Each solution is hidden in a dropdown; ...")
_SENTENCE = re.compile(r"Each solution\b[^.]*(?:\.(?=\S)[^.]*)*\.")
_EXERCISE = re.compile(r"^(`{3,}|:{3,})\{exercise", re.M)

_FENCE_START = re.compile(r"^(?P<f>`{3,}|:{3,})\{solution-start\}", re.M)
_FENCE_END = re.compile(r"^(?P<f>`{3,}|:{3,})\{solution-end\}[^\n]*\n(?P=f)[ \t]*(\n|$)", re.M)
_BLOCK = re.compile(r"^(?P<f>`{3,}|:{3,})\{solution\}.*?^(?P=f)[ \t]*(\n|$)", re.M | re.S)


def strip_solutions(nb: dict) -> dict:
    """A copy of notebook ``nb`` (nbformat JSON as a dict) without any solution.

    Removes plain ``{solution}`` blocks and everything from a ``{solution-start}`` fence to the end of its
    ``{solution-end}`` fence, including the code cells in between (and their outputs). Exercises stay. When
    a solution was removed, the sentence "Each solution is ..." becomes :data:`NO_SOLUTIONS_NOTE`; a notebook
    without that sentence gets the note before its first exercise. Stripping a stripped notebook changes
    nothing.

    Examples
    --------
    >>> md = lambda s: {"cell_type": "markdown", "metadata": {}, "source": s}
    >>> code = lambda s: {"cell_type": "code", "metadata": {}, "source": s, "outputs": []}
    >>> nb = {"cells": [md("```{exercise} T\\n:label: ex-x-1\\nDo it.\\n```\\n"),
    ...                 md("```{solution-start} ex-x-1\\n:class: dropdown\\n```\\n"), code("assert 1 + 1 == 2"),
    ...                 md("```{solution-end}\\n```\\n"),
    ...                 md("```{solution} ex-x-1\\nIn words.\\n```\\nAfter.")]}
    >>> [c["source"] for c in strip_solutions(nb)["cells"]]
    ['The solutions are not included ... --no-solutions`).\\n\\n```{exercise} T\\n:label: ex-x-1\\nDo it.\\n```\\n', 'After.']
    >>> nb["cells"].insert(0, md("Two exercises. Each solution is hidden in a dropdown; it runs `assert`."))
    >>> strip_solutions(nb)["cells"][0]["source"]
    'Two exercises. The solutions are not included in this edition (a hand-out built with `python -m analysis build --no-solutions`).'
    """
    cells, inside, removed = [], False, False
    for cell in nb["cells"]:
        src = _source(cell)
        if cell["cell_type"] != "markdown":
            if inside:
                removed = True
            else:
                cells.append(cell)
            continue
        original, out = src, ""
        while src:
            if inside:
                m = _FENCE_END.search(src)
                if m is None:  # the whole cell is inside the solution
                    src = ""
                    break
                src, inside = src[m.end():], False
            else:
                m = _FENCE_START.search(src)
                if m is None:
                    out += src
                    break
                out, src, inside = out + src[:m.start()], src[m.end():], True
        out = _BLOCK.sub("", out)
        removed |= out != original
        if out.strip():
            cells.append(dict(cell, source=out))
    return dict(nb, cells=_say_not_included(cells) if removed else cells)


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _say_not_included(cells: list[dict]) -> list[dict]:
    """``cells`` with the sentence on where the solutions are replaced by :data:`NO_SOLUTIONS_NOTE` (or the note
    put before the first exercise when no cell has that sentence)."""
    out, said = [], False
    for cell in cells:
        if cell["cell_type"] == "markdown":
            src = _source(cell)
            new = _SENTENCE.sub(NO_SOLUTIONS_NOTE, src)
            if new != src or NO_SOLUTIONS_NOTE in src:
                said = True
                cell = dict(cell, source=new)
        out.append(cell)
    if said:
        return out
    for k, cell in enumerate(out):
        if cell["cell_type"] == "markdown" and _EXERCISE.search(_source(cell)):
            out[k] = dict(cell, source=f"{NO_SOLUTIONS_NOTE}\n\n{_source(cell)}")
            return out
    return out
