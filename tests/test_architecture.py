"""The house's rules (CONTRIBUTING.md, "Rooms"), checked on the code as it is.

- The import-linter contracts of ``pyproject.toml`` hold: rooms import only the rooms below them, and the
  chapters are independent of each other (``lint-imports`` also runs in ``make test`` before pytest).
- No import cycle at all, between any two modules of the package (grimp, the graph import-linter uses).
- No module imports another module's private name (``from analysis.x import _y`` or ``x._y`` on a module).
- One chapter registry: every chapter package has a registry row, every row's package exists.
"""
from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from analysis.core.chapters import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "analysis"


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("analysis", cache_dir=None)


def test_no_import_cycle(graph):
    cycles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                cycles.append(" -> ".join((module,) + tuple(back)))
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _private_reach_ins(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    here = _module_name(path)
    found, modules = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("analysis") and node.level == 0:
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                if importlib.util.find_spec(node.module) and _is_module(target):
                    modules[alias.asname or alias.name] = target
                elif alias.name.startswith("_") and node.module != here:
                    found.append(f"{here}:{node.lineno} imports {node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("analysis") and alias.asname:
                    modules[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append(f"{here}:{node.lineno} uses {modules[node.value.id]}.{node.attr}")
    return found


def _is_module(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except ModuleNotFoundError:
        return False


def test_no_module_imports_another_modules_private_name():
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in _private_reach_ins(path)]
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_every_chapter_package_has_one_registry_row():
    on_disk = {p.parent.name for p in (PACKAGE / "chapters").glob("*/__init__.py")}
    in_registry = {c.package.rsplit(".", 1)[1] for c in CHAPTERS if c.package}
    assert on_disk == in_registry
    for c in CHAPTERS:
        assert (ROOT / "book" / c.notebook).is_file(), c.notebook
        if c.package:
            assert importlib.util.find_spec(c.verdicts_module) is not None, c.verdicts_module


def test_fork_server_warms_every_module_a_chapter_kernel_imports(graph):
    """A module a chapter imports but the fork server does not warm makes every build slower, silently."""
    from analysis.engine.forkserver import COLD_MODULES, WARM_MODULES

    starts = {"analysis.engine.report"} | {m for m in graph.modules if m.startswith("analysis.chapters.")}
    needed = set(starts)
    for module in starts:
        needed |= {m for m in graph.find_upstream_modules(module) if m.startswith("analysis.")}
    assert not needed - set(WARM_MODULES), sorted(needed - set(WARM_MODULES))
    assert not needed & set(COLD_MODULES), sorted(needed & set(COLD_MODULES))
