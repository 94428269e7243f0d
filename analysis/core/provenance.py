"""Provenance of a run: which data, which parameters, which software.

Shown as a box on every chapter page so a reader can tell what produced the numbers.
"""
from __future__ import annotations

import hashlib
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Iterable

__all__ = ["hash_files", "hash_tree", "package_versions", "provenance"]

_PACKAGES = ("pandas", "numpy", "scipy", "pingouin", "seaborn", "matplotlib", "papermill", "jupyter-book")


def hash_files(paths: Iterable[Path], *, length: int = 12) -> str:
    """Short SHA-256 over the names and bytes of ``paths`` (order-independent).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.csv").write_text("x\\n1\\n")
    >>> len(hash_files([d / "a.csv"]))
    12
    """
    h = hashlib.sha256()
    for p in sorted(Path(p) for p in paths):
        h.update(p.name.encode())
        h.update(b"\0")
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        h.update(b"\0")
    return h.hexdigest()[:length]


def hash_tree(root: Path, patterns: Iterable[str] = ("*",), *, length: int = 16) -> str:
    """Short SHA-256 of every file under ``root`` matching ``patterns`` (relative names + bytes).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> hash_tree(d) == hash_tree(d)
    True
    """
    root = Path(root)
    h = hashlib.sha256()
    files = sorted({p for pat in patterns for p in root.rglob(pat) if p.is_file() and "__pycache__" not in p.parts})
    for p in files:
        h.update(str(p.relative_to(root)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()[:length]


def package_versions() -> dict[str, str]:
    """Versions of Python and the scientific packages that produce the numbers.

    Examples
    --------
    >>> "python" in package_versions()
    True
    """
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def provenance(*, data_dir: Path, files: Iterable[Path], synthetic: bool, params: dict) -> dict:
    """Everything the provenance box shows, as a plain dict.

    Examples
    --------
    >>> p = provenance(data_dir=Path("data/synthetic"), files=[], synthetic=True, params={"alpha": 0.05})
    >>> p["data folder"], p["synthetic"]
    ('synthetic', 'yes')
    """
    return {
        "data folder": Path(data_dir).name,
        "synthetic": "yes" if synthetic else "no (not marked synthetic in dataset.yaml)",
        "input hash": hash_files(list(files)) if files else "–",
        "parameters": ", ".join(f"{k} = {v!r}" for k, v in params.items()),
        "built": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "software": ", ".join(f"{k} {v}" for k, v in package_versions().items()),
    }
