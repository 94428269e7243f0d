"""Shared fixtures: one full build of the book per test session, reused by the build, site and browser tests."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every matplotlib figure after each test (seaborn's convention)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """Build the whole book on the default data once per session; returns the output folder.

    Set MSCT_BUILT_SITE to an existing output folder (with html/ and results/) to reuse a build instead.
    """
    reuse = os.environ.get("MSCT_BUILT_SITE")
    if reuse and (Path(reuse) / "html" / "index.html").exists():
        return Path(reuse)
    from analysis.engine.build import build

    out = tmp_path_factory.mktemp("book") / "out"
    build(out=out, force=True)
    return out


@pytest.fixture
def synthetic_dir() -> Path:
    """The shipped synthetic cohort."""
    return ROOT / "data" / "synthetic"


@pytest.fixture
def copy_of(tmp_path):
    """Copy a folder into tmp_path (for tests that must not touch the original)."""

    def _copy(src: Path, name: str | None = None) -> Path:
        dst = tmp_path / (name or Path(src).name)
        shutil.copytree(src, dst)
        return dst

    return _copy
