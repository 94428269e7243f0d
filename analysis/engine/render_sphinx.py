"""The render process: ``jupyter-book build`` with Sphinx and myst-nb patched for the way the build renders.

Started by :class:`analysis.engine.render.Render` as soon as the book is staged::

    python -m analysis.engine.render_sphinx build STAGE --path-output STAGE -W -n --keep-going --quiet

The arguments are those of ``jupyter-book build``. Importing Sphinx, Jupyter Book and the extensions and
setting up the Sphinx application (configuration, theme, table of contents) happen while the chapters run.
Sphinx then *reads* the pages as they become final: the static pages at once, each chapter notebook when the
build writes ``ready DOCNAME`` on standard input (its executed copy is staged), so after the chapters only the
scorecard is left to read. Writing starts when the build writes ``go`` (every page is final); end of input
before ``go``: exit 3 without writing. The pages do not depend on the order they are read in (the table of
contents, numbering and search index are built from the whole environment; ``tests/test_build_overlap.py``).

Every change to Sphinx or myst-nb is one function of this module, listed in :data:`PATCHES` in the order
:func:`main` applies them. Each docstring names the version it was written against and what it gained when
measured in whole cold builds (``benchmarks/README.md``, "Render patches"); a patch that gained less than about
0.2 s of a build was dropped unless it is needed for the build to work. (Eight were dropped: lower priority, gc
freezing, stand-ins for myst-nb's executing clients, no rfc3987_syntax, one page per writing task, no environment
pickle, cached word stems, cached pybtex plugins.) ``tests/test_render_sphinx.py``
fails, naming the patch, when an upgrade changes what a patch replaces.

Written against Sphinx 7.4.7, myst-nb 1.4.0 and Jupyter Book 1.0.4.post1.
"""
from __future__ import annotations

import os
import sys
from typing import Callable



def _told() -> list[str]:
    """The next line the build wrote on standard input, as words; end of input: exit 3 (write nothing)."""
    line = sys.stdin.readline()
    if not line:  # the build ended (failed or interrupted) before saying go
        raise SystemExit(3)
    return line.split()


def read_when_ready() -> None:
    """Replace ``sphinx.builders.Builder._read_serial``: read each chapter notebook when the build says it is ready.

    Needed for the build to work (not a matter of speed): the render is set up before the chapters run,
    when each chapter's notebook is a placeholder. Static pages are read at once; a notebook (``.ipynb``)
    when a ``ready book/NAME`` line arrives on standard input, or when ``go`` arrives (every page is then
    final). Written against Sphinx 7.4.7, where ``Builder.read`` calls ``_read_serial(docnames)`` for a
    serial read and ``read_doc`` after ``env-purge-doc`` and ``env.clear_doc`` for each page.
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


def parallel_write() -> None:
    """Write the pages in parallel (five processes), read them in one.

    Jupyter Book's ``build_sphinx`` gets ``jobs=5`` (with 2 CPUs or more; the first process resolves each
    page and indexes it for the search while forked ones write the pages already resolved), and
    ``Sphinx.is_parallel_allowed`` answers no for reading. Reading must stay serial for
    :func:`read_when_ready`; and sphinx-multitoc-numbering does not declare itself safe for parallel
    reading, so Sphinx 7.4.7 would warn, and warnings are errors. (In parallel, reading was slower here
    anyway: each worker sends back the large notebook doctrees.) Written against Sphinx 7.4.7 and
    Jupyter Book 1.0.4.post1 (``jupyter_book.cli.main.build`` imports ``build_sphinx`` when it runs).
    Measured in whole cold builds of the shipped cohort (3 each, December 2026, 2 cores): the render's part after
    the last chapter took 1.9-2.0 s with this patch and 2.2-2.3 s without it (~0.3 s).
    """
    import jupyter_book.sphinx
    import sphinx.application as application
    import functools

    allowed = application.Sphinx.is_parallel_allowed

    def _parallel_write_only(self, typ: str) -> bool:
        return typ == "write" and allowed(self, typ)

    application.Sphinx.is_parallel_allowed = _parallel_write_only
    jupyter_book.sphinx.build_sphinx = functools.partial(jupyter_book.sphinx.build_sphinx,
                                                         jobs=5 if (os.cpu_count() or 1) > 1 else 1)


def exit_without_teardown() -> None:
    """End the process with :func:`os._exit` once Jupyter Book returns (every file is written and closed).

    The interpreter's teardown of Sphinx's objects is skipped; the build waits for this process to end. Measured in
    whole cold builds (3 each, December 2026, 2 cores): the render's part after the last chapter took 1.5 s with
    this patch and 1.9-2.0 s without it (~0.45 s). Relies only on Jupyter Book returning once every file is
    written; replaces nothing of another package.
    """
    global _EXIT_AT_ONCE
    _EXIT_AT_ONCE = True


_EXIT_AT_ONCE = False

#: The patches, in the order :func:`main` applies them (the first ones before Sphinx is imported).
PATCHES: dict[str, Callable[[], None]] = {
    "read_when_ready": read_when_ready,
    "parallel_write": parallel_write,
    "exit_without_teardown": exit_without_teardown,
}


def main(argv: list[str] | None = None, *, skip: frozenset[str] | set[str] = frozenset()) -> None:
    """Apply :data:`PATCHES` (but those named in ``skip``), run ``jupyter-book ARGV``, and exit with its code.

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
    try:
        jupyter_book()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    else:
        code = 0
    if not _EXIT_AT_ONCE:
        raise SystemExit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
