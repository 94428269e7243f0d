"""Where things live: the shipped data, the published values, and scratch space.

Notebooks opened straight from a clone use these defaults, so a chapter runs top to bottom
in JupyterLab without any parameter and never writes into ``book/``.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["repo_root", "default_data_dir", "published_dir", "scratch_dir", "resolve_dir", "robustness_folder"]


def repo_root() -> Path:
    """The project folder (the parent of the ``analysis`` package).

    Examples
    --------
    >>> (repo_root() / "analysis").is_dir()
    True
    """
    return Path(__file__).resolve().parents[2]


def default_data_dir() -> Path:
    """The shipped synthetic cohort, ``data/synthetic``.

    Examples
    --------
    >>> default_data_dir().name
    'synthetic'
    """
    return repo_root() / "data" / "synthetic"


def published_dir() -> Path:
    """The paper's published values, ``data/published``.

    Examples
    --------
    >>> published_dir().name
    'published'
    """
    return repo_root() / "data" / "published"


def scratch_dir() -> Path:
    """Scratch output folder for interactive runs (``$MSCT_SCRATCH`` or ``<repo>/scratch``).

    Examples
    --------
    >>> scratch_dir().name in {"scratch", os.environ.get("MSCT_SCRATCH", "scratch")}
    True
    """
    env = os.environ.get("MSCT_SCRATCH")
    return Path(env) if env else repo_root() / "scratch"


def resolve_dir(value: str | os.PathLike | None, default: Path) -> Path:
    """``value`` as an absolute path, or ``default`` when it is ``None`` or empty.

    Examples
    --------
    >>> resolve_dir(None, Path("/tmp")) == Path("/tmp")
    True
    """
    if value is None or str(value) == "":
        return default
    return Path(value).expanduser().resolve()


def robustness_folder(folder: str | os.PathLike) -> Path:
    """The folder a robustness result is in: ``folder/results/robustness`` when ``folder`` is an output folder
    holding one, else ``folder`` itself (``…/results/robustness``, or any folder given).

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> robustness_folder(out) == out
    True
    >>> (out / "results" / "robustness").mkdir(parents=True)
    >>> robustness_folder(out) == out / "results" / "robustness"
    True
    """
    folder = Path(folder)
    return folder / "results" / "robustness" if (folder / "results" / "robustness").is_dir() else folder
