"""What the build and the headless evaluation read from a chapter notebook without running it.

Examples
--------
>>> from analysis.core.paths import repo_root
>>> chapter_parameters(repo_root() / "book" / "safety.ipynb")["alpha"]
0.05
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

from analysis.core.errors import BuildError

__all__ = ["chapter_parameters"]


def chapter_parameters(notebook: Path) -> dict[str, object]:
    """Parameters and default values declared in the notebook's ``parameters`` cell.

    Raises :class:`~analysis.core.errors.BuildError` if the notebook has no code cell tagged ``parameters`` or
    the cell holds anything but ``name = literal`` lines (papermill only warns about both).

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
