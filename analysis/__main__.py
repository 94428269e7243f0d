"""``python -m analysis`` — see :mod:`analysis.cli`."""
import atexit
import os
import sys

from analysis.cli import main

code = main()
# The command is done and has closed every file it wrote. Run the exit handlers (Dask's, tempfile's, ...) and end
# without the interpreter's teardown of pandas, SciPy, matplotlib, ... objects (about 0.2 s after every command).
if hasattr(atexit, "_run_exitfuncs"):
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # nobody reads any more (``... | head``), or already closed
            pass
    os._exit(code if isinstance(code, int) else 1)
sys.exit(code)
