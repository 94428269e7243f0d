"""The render's patches (analysis.engine.render_sphinx) still fit the Sphinx and Jupyter Book installed.

Each patch replaces or relies on a function of another package. Its source is pinned here by hash: after an
upgrade that changes one of them, the test fails and names the patch to re-check (read the new source, adapt
or drop the patch, measure it again with ``benchmarks/bench_render.py``, then update the hash). A patch that
replaces nothing of another package needs no pin, and is listed as such.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect

import pytest

from analysis.engine import render_sphinx

#: patch -> {"module:qualified.name": first 16 hex digits of the SHA-256 of its source}, as of Sphinx 7.4.7 and
#: Jupyter Book 1.0.4.post1
PINNED: dict[str, dict[str, str]] = {
    "read_when_ready": {
        "sphinx.builders:Builder._read_serial": "e59db75d557eeb12",  # replaced
        # calls _read_serial(docnames) when reading in one process (app.parallel unset: Jupyter Book gets no jobs)
        "sphinx.builders:Builder.read": "d557873918b4ec84",
        "sphinx.builders:Builder.read_doc": "bf106000941b66fd",  # what reading one page is
        "jupyter_book.sphinx:build_sphinx": "969e068aa35f679f",  # reads in one process (parallel_write: writes only)
    },
    "parallel_write": {
        "sphinx.application:Sphinx.is_parallel_allowed": "0d7b3c4f5398f5c9",  # wrapped: parallel for writing only
        "jupyter_book.sphinx:build_sphinx": "969e068aa35f679f",  # given jobs=5
    },
}
#: patches that replace nothing of another package
REPLACE_NOTHING: set[str] = {"exit_without_teardown"}


def _resolve(target: str):
    module, _, qualname = target.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def test_every_patch_is_pinned_or_replaces_nothing():
    patches = set(render_sphinx.PATCHES)
    assert patches == set(PINNED) | (REPLACE_NOTHING & patches), (
        "a patch of analysis.engine.render_sphinx is not pinned here: add the functions it replaces to PINNED "
        f"(or to REPLACE_NOTHING). Unpinned: {sorted(patches - set(PINNED) - REPLACE_NOTHING)}; "
        f"pinned but gone: {sorted(set(PINNED) - patches)}")


@pytest.mark.parametrize("patch, target, pinned",
                         [(p, t, h) for p, targets in PINNED.items() for t, h in targets.items()])
def test_what_a_patch_replaces_is_unchanged(patch, target, pinned):
    try:
        source = inspect.getsource(_resolve(target))
    except (ImportError, AttributeError) as err:
        pytest.fail(f"render patch '{patch}': {target} is gone ({err}). Re-check the patch "
                     "(analysis/engine/render_sphinx.py) against the installed version.")
    found = hashlib.sha256(source.encode()).hexdigest()[:16]
    assert found == pinned, (
        f"render patch '{patch}': {target} has changed (source hash {found}, pinned {pinned}). Re-check the patch "
        "in analysis/engine/render_sphinx.py against the new code, measure it again (benchmarks/bench_render.py), "
        "then update the hash in tests/test_render_sphinx.py.")


def test_main_refuses_an_unknown_patch_name():
    with pytest.raises(ValueError, match="no such patch"):
        render_sphinx.main(["--help"], skip={"no_such_patch"})
