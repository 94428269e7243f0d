"""Execute one chapter notebook with papermill in its own process (used by :mod:`analysis.engine.build`).

Usage: ``python -m analysis.engine.runner INPUT OUTPUT PARAMS_JSON CWD [GO_FILE]``. With ``GO_FILE``, the runner starts
papermill and its kernel at once but runs the first cell only when that file exists (the build starts the
scorecard this way while the last chapters run). On failure, the last line on
stderr is ``MSCT-ERROR {json}`` with the cell index, execution count, exception name and value,
and the traceback; the exit code is 3. Running each chapter in its own process lets the build
time it out, interrupt it and run chapters in parallel without sharing state. On Linux the build forks
this process (and the kernel papermill starts) from the warm fork server (:mod:`analysis.engine.forkserver`) instead of starting it
from scratch; :func:`main` is the same either way.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _wait_for(path: str) -> None:
    """Return once ``path`` exists; exit if the process that started this one has gone."""
    parent = os.getppid()
    while not os.path.exists(path):
        if os.getppid() != parent:
            raise SystemExit(3)
        time.sleep(0.01)


#: jupyter_client's messages for a kernel that never answered (so no cell ran and a retry is safe)
_NOT_STARTED = ("Kernel died before replying to kernel_info", "Kernel didn't respond")


def _validate_outputs_once() -> None:
    """Skip nbformat's check of each output as it arrives; the whole notebook is still checked when written.

    nbclient builds every output of every cell with ``nbformat.v4.new_output``, which validates that one output
    against the schema with jsonschema (the fast validator cannot check part of a notebook): ~1.5 ms per
    output, 70-80 outputs a chapter. papermill then writes the notebook with ``nbformat.write``, which
    validates the whole notebook, these outputs included, with the fast validator. One check is enough.
    """
    import nbformat.v4.nbbase as nbbase

    nbbase.validate = lambda node, ref=None: None


def claims_main(argv: list[str]) -> int:
    """``DATA_DIR STAGE PARAMS_JSON DEST CHAPTER...``: each chapter's claims without its notebook.

    The cohort is the one the build validated and kept in ``STAGE`` (:func:`analysis.intake.io.load_validated`),
    else ``DATA_DIR`` loaded afresh; ``PARAMS_JSON`` maps a chapter to its ``-p`` parameters. Each table is
    written as :meth:`analysis.claims.log.ClaimLog.write` writes a notebook's. Returns 0 (an error: a traceback on
    stderr and a non-zero exit; the build then waits for the notebooks).
    """
    from pathlib import Path

    from analysis.scorecard.evaluate import CHAPTER_MODULES
    from analysis.intake.io import load, load_validated

    data_dir, stage, params_json, dest, *chapters = argv
    params = json.loads(params_json)
    cohort = load_validated(Path(data_dir), Path(stage)) or load(Path(data_dir))
    for chapter in chapters:
        table = __import__(CHAPTER_MODULES[chapter], fromlist=["evaluate"]).evaluate(cohort, params.get(chapter))
        path = Path(dest) / chapter / "claims.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(path, index=False, encoding="utf-8")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--claims"]:
        return claims_main(argv[1:])
    src, dst, params_json, cwd, *go = argv
    # jsonschema (under nbformat) imports the optional IRI checker rfc3987_syntax, which compiles ~40 grammars:
    # about 1 s per process, for a check notebooks never need. Mark it absent so the import is skipped.
    sys.modules.setdefault("rfc3987_syntax", None)
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from analysis.engine.forkclient import SOCKET_ENV, kernel_manager_class

    params = json.loads(params_json)
    _validate_outputs_once()
    if go:  # kernel started and ready: wait for the build's signal before the first cell
        from papermill.clientwrap import PapermillNotebookClient

        run_cells = PapermillNotebookClient.papermill_execute_cells

        def run_cells_when_told(self):
            _wait_for(go[0])
            return run_cells(self)

        PapermillNotebookClient.papermill_execute_cells = run_cells_when_told
    # with a zygote (set up by the build), the kernel is forked from a process that has imported the stack
    extra = {"kernel_manager_class": kernel_manager_class()} if os.environ.get(SOCKET_ENV) else {}

    def execute(**kw):
        pm.execute_notebook(src, dst, parameters=params, kernel_name="python3", progress_bar=False,
                            log_output=False, cwd=cwd, request_save_on_cell_execute=False, **kw)

    try:
        try:
            execute(**extra)
        except RuntimeError as err:
            # the kernel never started (no cell ran): once more, with a kernel of its own (not forked)
            if not extra or not str(err).startswith(_NOT_STARTED):
                raise
            execute()
    except PapermillExecutionError as err:
        info = {"cell": err.cell_index, "exec_count": err.exec_count, "ename": err.ename,
                "evalue": _ANSI.sub("", str(err.evalue)),
                "traceback": _ANSI.sub("", "\n".join(err.traceback or []))}
        sys.stderr.write("MSCT-ERROR " + json.dumps(info) + "\n")
        return 3
    except Exception as err:  # kernel died, bad notebook, ...
        info = {"cell": None, "exec_count": None, "ename": type(err).__name__, "evalue": str(err), "traceback": ""}
        sys.stderr.write("MSCT-ERROR " + json.dumps(info) + "\n")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
