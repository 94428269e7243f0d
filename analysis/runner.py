"""Execute one chapter notebook with papermill in its own process (used by :mod:`analysis.build`).

Usage: ``python -m analysis.runner INPUT OUTPUT PARAMS_JSON CWD``. On failure, the last line on
stderr is ``MSCT-ERROR {json}`` with the cell index, execution count, exception name and value,
and the traceback; the exit code is 3. Running each chapter in its own process lets the build
time it out, interrupt it and run chapters in parallel without sharing state. On Linux the build forks
this process (and the kernel papermill starts) from a warm :mod:`analysis.zygote` instead of starting it
from scratch; :func:`main` is the same either way.
"""
from __future__ import annotations

import json
import os
import re
import sys

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def main(argv: list[str]) -> int:
    src, dst, params_json, cwd = argv
    # jsonschema (under nbformat) imports the optional IRI checker rfc3987_syntax, which compiles ~40 grammars:
    # about 1 s per process, for a check notebooks never need. Mark it absent so the import is skipped.
    sys.modules.setdefault("rfc3987_syntax", None)
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from .zygote import SOCKET_ENV, _kernel_manager_class

    params = json.loads(params_json)
    # with a zygote (set up by the build), the kernel is forked from a process that has imported the stack
    extra = {"kernel_manager_class": _kernel_manager_class()} if os.environ.get(SOCKET_ENV) else {}
    try:
        pm.execute_notebook(src, dst, parameters=params, kernel_name="python3", progress_bar=False,
                            log_output=False, cwd=cwd, request_save_on_cell_execute=False, **extra)
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
