"""A tiny book for the build, fault and cache tests: an intro page and a few one-cell chapters.

Real chapters take tens of seconds; these take a second, so the tests can build many times.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
PARAMETERS = "data_dir = None\noutput_dir = None\nalpha = 0.05"


def chapter(path: Path, *, params: str = PARAMETERS, code: str = "print(1 + 1)") -> Path:
    """Write a chapter notebook: a title, a ``parameters`` cell and one code cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {path.stem.title()} (tiny)"),
        nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(code),
    ]
    nbformat.write(nb, path)
    return path


def tiny_book(folder: Path, *, chapters: dict[str, tuple[str, str]] | None = None,
              intro: str = "A tiny book for the tests.") -> Path:
    """A book folder with ``intro.md`` and ``chapters`` (name -> (parameters cell, code)); default: one
    ``safety`` chapter printing 2."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "intro.md").write_text(f"# A tiny book\n\n{intro}\n", "utf-8")
    (folder / "references.bib").write_bytes((ROOT / "book" / "references.bib").read_bytes())
    if (ROOT / "book" / "_static").is_dir() and not (folder / "_static").exists():  # _config.yml points into it
        shutil.copytree(ROOT / "book" / "_static", folder / "_static")
    for name, (params, code) in (chapters or {"safety": (PARAMETERS, "print(1 + 1)")}).items():
        chapter(folder / f"{name}.ipynb", params=params, code=code)
    return folder


def tree_hash(folder: Path) -> str:
    """SHA-256 over the relative names and bytes of every file under ``folder`` (to prove it untouched)."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def alive(pids: list[int]) -> list[int]:
    """The processes of ``pids`` still running (exited-but-unreaped zombies count as gone)."""
    import pytest

    psutil = pytest.importorskip("psutil")
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out
