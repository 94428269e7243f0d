"""Remove exercise solutions from a notebook, for the instructor's hand-out build (``--no-solutions``).

sphinx-exercise's ``hide_solutions`` does not cope with *gated* solutions (``solution-start`` …
``solution-end`` with executable code cells between them): the code stays on the page and the end
marker crashes Sphinx. So the build strips solutions from the notebooks it renders instead; the
executed notebooks (and the cache) keep them.
"""
from __future__ import annotations

import re

__all__ = ["strip_solutions"]

_FENCE_START = re.compile(r"^(?P<f>`{3,}|:{3,})\{solution-start\}", re.M)
_FENCE_END = re.compile(r"^(?P<f>`{3,}|:{3,})\{solution-end\}[^\n]*\n(?P=f)[ \t]*(\n|$)", re.M)
_BLOCK = re.compile(r"^(?P<f>`{3,}|:{3,})\{solution\}.*?^(?P=f)[ \t]*(\n|$)", re.M | re.S)


def strip_solutions(nb: dict) -> dict:
    """A copy of notebook ``nb`` (nbformat JSON as a dict) without any solution.

    Removes plain ``{solution}`` blocks and everything from a ``{solution-start}`` fence to the end of its
    ``{solution-end}`` fence, including the code cells in between. Exercises stay.

    Examples
    --------
    >>> md = lambda s: {"cell_type": "markdown", "metadata": {}, "source": s}
    >>> code = lambda s: {"cell_type": "code", "metadata": {}, "source": s, "outputs": []}
    >>> nb = {"cells": [md("```{exercise} T\\n:label: ex-x-1\\nDo it.\\n```\\n"),
    ...                 md("```{solution-start} ex-x-1\\n:class: dropdown\\n```\\n"), code("assert 1 + 1 == 2"),
    ...                 md("```{solution-end}\\n```\\n"),
    ...                 md("```{solution} ex-x-1\\nIn words.\\n```\\nAfter.")]}
    >>> [c["source"] for c in strip_solutions(nb)["cells"]]
    ['```{exercise} T\\n:label: ex-x-1\\nDo it.\\n```\\n', 'After.']
    """
    cells, inside = [], False
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] != "markdown":
            if not inside:
                cells.append(cell)
            continue
        out = ""
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
        if out.strip():
            cells.append(dict(cell, source=out))
    return dict(nb, cells=cells)
