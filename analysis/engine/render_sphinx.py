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
measured (``benchmarks/bench_render.py``; ``benchmarks/README.md``, "Render patches"); a patch that gained
less than about 0.2 s was dropped unless it is needed for the build to work. ``tests/test_render_sphinx.py``
fails, naming the patch, when an upgrade changes what a patch replaces.

Written against Sphinx 7.4.7, myst-nb 1.4.0 and Jupyter Book 1.0.4.post1.
"""
from __future__ import annotations

import gc
import os
import sys
from typing import Callable

#: Called when Sphinx starts reading (the set-up is done) and when the build says ``go``.
_AT_READING: list[Callable[[], None]] = []
_AT_GO: list[Callable[[], None]] = []


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
        for hook in _AT_READING:
            hook()
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
                for hook in _AT_GO:
                    hook()
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
    Measured gain: see :data:`GAINS`.
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


def one_page_per_task() -> None:
    """Replace ``sphinx.builders.make_chunks``: hand one page at a time to the writing processes.

    Sphinx 7.4.7's own chunks give up to ten pages to one process, so one process ends up writing most
    chapters while the others idle. Measured gain: see :data:`GAINS`.
    """
    import sphinx.builders as builders

    def _one_page_per_task(arguments, nproc, maxbatch=10):
        return [[docname] for docname in arguments]

    builders.make_chunks = _one_page_per_task


def no_environment_pickle() -> None:
    """Replace ``sphinx.builders.pickle``: save every pickle but the build environment.

    Sphinx 7.4.7 pickles the whole environment (every doctree's metadata) at the end of reading for the next
    incremental build; the build throws the staging folder away, so no build ever reads it. Doctrees are
    still pickled. Measured gain: see :data:`GAINS`.
    """
    import pickle

    import sphinx.builders as builders
    from sphinx.environment import BuildEnvironment

    class _PickleButNotTheEnvironment:
        def __getattr__(self, name):
            return getattr(pickle, name)

        @staticmethod
        def dump(obj, file, *args, **kwargs):
            if not isinstance(obj, BuildEnvironment):
                pickle.dump(obj, file, *args, **kwargs)

    builders.pickle = _PickleButNotTheEnvironment()


def gc_off_while_setting_up() -> None:
    """Garbage collection off while Sphinx is imported and set up; what was set up frozen out of later scans.

    Importing and setting up Sphinx creates no garbage worth collecting. When reading starts, collection is
    back on and everything made so far is frozen (:func:`gc.freeze`), so the collections during reading and
    writing do not re-scan it. Measured gain: see :data:`GAINS`.
    """
    gc.disable()

    def _freeze_and_enable() -> None:
        gc.freeze()
        gc.enable()

    _AT_READING.append(_freeze_and_enable)


def lower_priority_until_go() -> None:
    """Set up and read at a lower priority (nice +10) until the build says ``go``.

    The render is set up and reads while the chapters run: at nice +10 it takes the CPU the fork server's
    imports and the chapters leave idle, not theirs. At ``go`` the process returns to the build's priority
    (where that is not permitted it stays lower). Measured gain (in a whole build): see :data:`GAINS`.
    """
    priority = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, 0, priority + 10)

    def _back() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, priority)
        except OSError:
            pass

    _AT_GO.append(_back)


def skip_rfc3987_syntax() -> None:
    """Mark ``rfc3987_syntax`` absent: an optional IRI checker jsonschema imports and Sphinx never uses.

    Importing it compiles about 40 grammars. Measured gain: see :data:`GAINS`.
    """
    sys.modules["rfc3987_syntax"] = None


def no_executing_clients() -> None:
    """Stand-ins for myst-nb's executing notebook clients (``myst_nb.core.execute.cache`` and ``.direct``).

    Execution is off (``execute_notebooks: off``): myst-nb 1.4.0 imports its "cache" and "force" clients, and
    the jupyter-cache and SQLAlchemy they import, but never uses them; the stand-ins refuse to run.
    Measured gain: see :data:`GAINS`.
    """
    import types

    class _NoExecution:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("the render does not execute notebooks (execute_notebooks: off)")

    for name, client in (("cache", "NotebookClientCache"), ("direct", "NotebookClientDirect")):
        module = types.ModuleType("myst_nb.core.execute." + name)
        setattr(module, client, _NoExecution)
        sys.modules[module.__name__] = module


def cache_stems() -> None:
    """Cache ``sphinx.search.en.SearchEnglish.stem``: a word's stem for the search index, per process.

    Sphinx 7.4.7 caches it per page only. Measured gain: see :data:`GAINS`.
    """
    import functools

    import sphinx.search.en as search_en

    search_en.SearchEnglish.stem = functools.lru_cache(maxsize=None)(search_en.SearchEnglish.stem)


def cache_pybtex_plugins() -> None:
    """Cache ``pybtex.plugin.find_plugin``: pybtex 0.26.1 scans the installed packages' entry points each time.

    sphinxcontrib-bibtex looks a plugin up by name for every page. Measured gain: see :data:`GAINS`.
    """
    import functools

    import pybtex.plugin as pybtex_plugin

    pybtex_plugin.find_plugin = functools.lru_cache(maxsize=None)(pybtex_plugin.find_plugin)


def exit_without_teardown() -> None:
    """End the process with :func:`os._exit` once Jupyter Book returns (every file is written and closed).

    The interpreter's teardown of Sphinx's objects is skipped. Measured gain: see :data:`GAINS`.
    """
    global _EXIT_AT_ONCE
    _EXIT_AT_ONCE = True


_EXIT_AT_ONCE = False

#: The patches, in the order :func:`main` applies them (the first ones before Sphinx is imported).
PATCHES: dict[str, Callable[[], None]] = {
    "gc_off_while_setting_up": gc_off_while_setting_up,
    "lower_priority_until_go": lower_priority_until_go,
    "skip_rfc3987_syntax": skip_rfc3987_syntax,
    "no_executing_clients": no_executing_clients,
    "read_when_ready": read_when_ready,
    "parallel_write": parallel_write,
    "one_page_per_task": one_page_per_task,
    "no_environment_pickle": no_environment_pickle,
    "cache_stems": cache_stems,
    "cache_pybtex_plugins": cache_pybtex_plugins,
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
