"""The render process: ``jupyter-book build`` with Sphinx patched to read each chapter when the build says it is ready.

Started by :class:`analysis.engine.render.Render` as soon as the book is staged::

    python -m analysis.engine.render_sphinx build STAGE --path-output STAGE -W -n --keep-going --quiet

The arguments are those of ``jupyter-book build``. Importing Sphinx, Jupyter Book and the extensions and
setting up the Sphinx application (configuration, theme, table of contents) happen while the chapters run.
Sphinx then *reads* the pages as they become final: the static pages at once, each chapter notebook when the
build writes ``ready DOCNAME`` on standard input (its executed copy is staged), so after the chapters only the
scorecard is left to read. Writing starts when the build writes ``go`` (every page is final); end of input
before ``go``: exit 3 without writing. The pages do not depend on the order they are read in (the table of
contents, numbering and search index are built from the whole environment; ``tests/test_build_overlap.py``).

Every change to Sphinx is one function of this module, listed in :data:`PATCHES` in the order :func:`main`
applies them; each docstring names the version it was written against and what it gained when measured
(``benchmarks/bench_render.py``, ``benchmarks/README.md``, "Render patches"). ``tests/test_render_sphinx.py``
fails, naming the patch, when an upgrade changes what a patch replaces. Written against Sphinx 7.4.7,
myst-nb 1.4.0 and Jupyter Book 1.0.4.post1.

Patches measured and dropped, each having gained less than about 0.2 s (December 2026, on a 2-core machine
shared with other work; medians of 7 to 9 renders with and without each, and 5 rounds of whole cold builds
leaving each out; ``benchmarks/README.md``, "Render patches"): a lower priority (nice +10) until ``go`` (none
in whole builds), garbage collection off while Sphinx is set up and frozen when reading starts (0.15 s of CPU,
before ``go``), stand-ins for myst-nb's executing clients (0.18 s of CPU, before ``go``), marking
``rfc3987_syntax`` absent (none: it is not installed), writing the pages in five processes (0.1-0.15 s of the
render's tail, for 0.35 s more CPU), one page per writing task (none), no pickled environment (none), cached
word stems (0.05 s) and pybtex plugin look-ups (0.05-0.1 s), and ``os._exit`` instead of the interpreter's
teardown (0.1 s). Together they gained 0.6-0.7 s of a 10-11 s cold build; they are in the git history
(``analysis/engine/render_sphinx.py`` before the commit that dropped them), pinned and measured the same way.
"""
from __future__ import annotations

import sys
from typing import Callable

__all__ = ["PATCHES", "main", "read_when_ready"]


def _told() -> list[str]:
    """The next line the build wrote on standard input, as words; end of input: exit 3 (write nothing)."""
    line = sys.stdin.readline()
    if not line:  # the build ended (failed or interrupted) before saying go
        raise SystemExit(3)
    return line.split()


def read_when_ready() -> None:
    """Replace ``sphinx.builders.Builder._read_serial``: read each chapter notebook when the build says it is ready.

    Needed for the build to work, whatever its gain: the render is set up before the chapters run, when each
    chapter's notebook is still a placeholder. Static pages are read at once; a notebook (``.ipynb``) when a
    ``ready book/NAME`` line arrives on standard input, or when ``go`` arrives (every page is then final).
    Measured gain: the overlap itself. With the set-up and the reading done while the chapters run, the
    render's share of the critical path after the chapters is its tail, 1.0-1.1 s (writing the pages and
    the search index); the same render started after the chapters takes 2.2-2.5 s (December 2026, medians
    of 7 to 9 renders, ``benchmarks/bench_render.py``).

    Written against Sphinx 7.4.7, where ``Builder.read`` calls ``_read_serial(docnames)`` when reading in
    one process (always here: Jupyter Book is given no ``jobs``), and reading a page is ``env-purge-doc``,
    ``env.clear_doc`` and ``read_doc``, as in Sphinx's own ``_read_serial``.
    """
    import sphinx.builders as builders

    def _read_when_ready(self, docnames: list[str]) -> None:
        waiting = [d for d in docnames if str(self.env.doc2path(d)).endswith(".ipynb")]
        ready, go = set(), False

        def read(docname: str) -> None:
            self.events.emit("env-purge-doc", self.env, docname)
            self.env.clear_doc(docname)
            self.read_doc(docname)

        for docname in docnames:
            if docname not in waiting:
                read(docname)
        while not go:
            words = _told()
            if words[:1] == ["ready"]:
                ready.update(words[1:])
            elif words[:1] == ["go"]:
                go = True
            for docname in [d for d in waiting if go or d in ready]:
                read(docname)
                waiting.remove(docname)

    builders.Builder._read_serial = _read_when_ready


#: The patches, in the order :func:`main` applies them (before Jupyter Book and Sphinx are imported).
PATCHES: dict[str, Callable[[], None]] = {
    "read_when_ready": read_when_ready,
}


def main(argv: list[str] | None = None, *, skip: frozenset[str] | set[str] = frozenset()) -> None:
    """Apply :data:`PATCHES` (but those named in ``skip``), run ``jupyter-book ARGV`` and exit with its code.

    ``skip`` is for measuring a patch (``benchmarks/bench_render.py``).
    """
    args = sys.argv[1:] if argv is None else list(argv)
    unknown = set(skip) - set(PATCHES)
    if unknown:
        raise ValueError(f"no such patch: {', '.join(sorted(unknown))}")
    for name, patch in PATCHES.items():
        if name not in skip:
            patch()
    from jupyter_book.cli.main import main as jupyter_book

    sys.argv = ["jupyter-book", *args]
    jupyter_book()


if __name__ == "__main__":
    main()
