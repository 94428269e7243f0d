"""Warm processes: fork each chapter's papermill runner and Jupyter kernel from one that has imported the stack.

Each chapter runs in processes of its own (a papermill runner, :mod:`analysis.engine.runner`, and the Jupyter kernel
it starts), so a timeout or Ctrl-C can stop one chapter without touching the others. Started from scratch,
each of those processes spends most of its first two seconds importing papermill, pandas, SciPy,
matplotlib, seaborn and pingouin. The build therefore starts one *zygote* (``python -m analysis.engine.forkserver
ADDRESS``, started by :class:`analysis.engine.forkclient.Zygote`) that imports all of that once (:data:`WARM_MODULES`) and then waits:

- the build asks it for a chapter runner (:meth:`analysis.engine.forkclient.Zygote.start_runner`): the zygote forks, and the child runs
  :func:`analysis.engine.runner.main` with the arguments, working directory, environment and error file the
  build gives, in a session of its own, exactly as ``subprocess.Popen(..., start_new_session=True)``
  would; its exit code is sent back to the build (:class:`analysis.engine.forkclient.ForkedRunner`);
- papermill, in that runner, asks it for a kernel through the kernel manager returned by
  :func:`analysis.engine.forkclient.kernel_manager_class`: the zygote forks, and the child becomes an ordinary IPython kernel
  (``ipykernel``), with the command line, working directory and environment papermill asked for,
  talking to papermill over the usual ZeroMQ connection file.

Every forked process is still a process of its own, with its own memory: nothing a chapter does can reach
another one. Only the importing is shared.

Design notes

- The zygote creates no ZeroMQ context, asyncio loop or Python thread before forking, so a child starts
  from a clean state (numpy's BLAS threads are re-created after ``fork`` by the library itself). What an
  import decides by looking at its surroundings is decided as in a kernel (:func:`warm_imports`), and
  each child draws a fresh numpy seed, as a new process would. ``tests/test_zygote.py`` compares a forked
  kernel with a fresh one.
- Linux only (``fork`` after importing these libraries is not safe on macOS); elsewhere, with
  ``--no-warm-kernels``, or whenever the zygote cannot be reached, runners and kernels are started the
  ordinary way, with the same results.
- Nothing is left behind. A forked process watches the process that asked for it (a runner: the build; a
  kernel: its runner) and stops, with its process group, when that process is gone (timeout, Ctrl-C,
  ``kill -9``). The build stops the zygote and anything it forked when the chapters are done
  (:meth:`analysis.engine.forkclient.Zygote.close`); if the build itself is killed, the zygote sees its standard input close.

Protocol: one JSON line per connection on a Unix socket (a Linux abstract address),
``{"kind": "runner" | "kernel", "argv", "cwd", "env", "watch_pid", "stderr"}``, answered by ``{"pid": PID}``
or ``{"error": MESSAGE}``; a runner's connection then stays open and receives ``{"exit": CODE}``.
"""
from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from analysis.engine.forkclient import address, alive

#: Imported once by the zygote, before any fork (what every chapter notebook imports first).
#: the rooms a chapter's kernel imports from: every module in them is warmed, found on disk, so a module that is
#: added, moved or renamed is warm without editing a list (a stale name would only slow builds, silently)
WARM_ROOMS = ("analysis.core", "analysis.intake", "analysis.claims", "analysis.science", "analysis.chapters")
#: modules of those rooms no chapter kernel imports, left cold: the pandera schemas (importing pandera costs ~0.2 s
#: of CPU before the first chapter can start) and the template writer
COLD_MODULES = ("analysis.intake.schemas", "analysis.intake.template")


def _room_modules(rooms: tuple[str, ...] = WARM_ROOMS) -> tuple[str, ...]:
    """Every module of ``rooms`` (dotted names, sorted), read from the package's folders without importing them.

    Examples
    --------
    >>> mods = _room_modules()
    >>> "analysis.chapters.safety.verdicts" in mods, "analysis.science.methods.mixed" in mods
    (True, True)
    >>> any(m.startswith(("analysis.engine", "analysis.scorecard")) or m in COLD_MODULES for m in mods)
    False
    """
    root = Path(__file__).resolve().parents[2]
    names = []
    for room in rooms:
        folder = root.joinpath(*room.split("."))
        for path in folder.rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return tuple(sorted(n for n in names if n not in COLD_MODULES))


WARM_MODULES = (
    "numpy", "pandas", "scipy.stats", "scipy.optimize", "matplotlib", "matplotlib.pyplot", "seaborn",
    "pingouin", "yaml", "IPython", "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "myst_nb",
    "papermill", "nbclient", "jupyter_client", "analysis.engine.report", "analysis.engine.runner",
) + _room_modules()

#: Imported by the zygote once the first chapters' kernels are forked (:func:`serve`), so they do not delay the
#: start of the build: analysis.science.methods imports them inside its functions (mixed, logistic and ANCOVA
#: models, Kaplan-Meier), so every chapter's kernel would otherwise import them again (0.3-0.6 s each).
LATE_MODULES = ("statsmodels.api", "lifelines")


def _redirect(fd: int, path: str | None, mode: int) -> None:
    target = os.open(path or os.devnull, mode, 0o644)
    os.dup2(target, fd)
    os.close(target)


def _set_name(name: str) -> None:
    """Name this process (``ps -o comm``, psutil's ``name()``): forked processes share the zygote's command line."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except Exception:  # noqa: BLE001 - cosmetic only
        pass


def _start_child(request: dict) -> None:
    """In a forked child: the process setting a freshly started one would have."""
    gc.enable()  # as in any process; the zygote's objects, frozen before the fork, are not scanned (see serve())
    _set_name(f"msct-{request['kind']}")  # msct-kernel, msct-runner
    os.setsid()  # like Popen(start_new_session=True): a session and process group of its own
    signal.signal(signal.SIGINT, signal.default_int_handler)  # the zygote ignores Ctrl-C; children must not
    _redirect(0, None, os.O_RDONLY)
    _redirect(1, None, os.O_WRONLY)  # as the build starts runners (and they start kernels): stdout unused
    if request.get("stderr"):
        mode = os.O_APPEND if request.get("append") else os.O_TRUNC
        _redirect(2, request["stderr"], os.O_WRONLY | os.O_CREAT | mode)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    if "numpy" in sys.modules:  # a fresh process draws a fresh seed (Python's random reseeds itself)
        sys.modules["numpy"].random.seed()
    watch = int(request["watch_pid"])

    def watchdog() -> None:  # whoever asked for this process went away: so does it, with its group
        while alive(watch):
            time.sleep(0.5)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watchdog, name="msct-watchdog", daemon=True).start()


def _become(request: dict) -> None:
    """In the forked child: become the kernel or the chapter runner ``request`` describes (never returns)."""
    code = 1
    try:
        _start_child(request)
        if request["kind"] == "kernel":
            sys.argv = ["ipykernel_launcher", *request["argv"][3:]]
            if sys.path and sys.path[0] in ("", os.getcwd()):
                del sys.path[0]  # as ipykernel_launcher does; IPython puts the working directory back
            from ipykernel import kernelapp

            kernelapp.launch_new_instance()
            code = 0
        else:
            from analysis.engine import runner

            sys.argv = ["analysis.engine.runner", *request["argv"]]
            code = runner.main(request["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - report and leave: a child must never go back to the zygote's loop
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class _KernelShellStub:
    """What pandas looks at during its import to tell a Jupyter kernel from a terminal (``ip.kernel``)."""

    kernel = True


def warm_imports(late: bool = True) -> None:
    """Import :data:`WARM_MODULES` (and :data:`LATE_MODULES` unless ``late=False``) as a Jupyter kernel would.

    A library that inspects its surroundings while being imported must see what it would see in the
    kernel: pandas picks ``display.max_columns`` (20 in a kernel, 0 = "fit the terminal" elsewhere) by
    calling ``get_ipython()`` at import, so a stub answering "kernel" is in place while pandas loads.
    matplotlib resolves its backend lazily, at the first figure, which happens in the kernel.
    """
    import builtins
    import importlib

    builtins.get_ipython = _KernelShellStub  # calling the class returns an object with .kernel
    try:
        importlib.import_module("pandas")
    finally:
        del builtins.get_ipython
    for name in WARM_MODULES + (LATE_MODULES if late else ()):
        importlib.import_module(name)
    # every runner validates the notebook it writes: nbformat compiles its JSON-schema validator on first use
    # (~60 ms), once per process unless compiled here
    from nbformat import current_nbformat_minor
    from nbformat.validator import get_validator

    get_validator(version=4, version_minor=current_nbformat_minor)


def _check(request: dict) -> None:
    kind, argv = request.get("kind"), request.get("argv")
    if kind == "kernel" and (not isinstance(argv, list) or argv[1:3] != ["-m", "ipykernel_launcher"]):
        raise ValueError(f"not an IPython kernel command: {argv}")
    if kind not in ("kernel", "runner") or not all(k in request for k in ("cwd", "env", "watch_pid")):
        raise ValueError(f"not a request this zygote understands: {sorted(request)}")


def _send(conn: socket.socket, message: dict) -> bool:
    """Send one JSON line; False when the other side has gone (the zygote must never die of it)."""
    try:
        conn.sendall((json.dumps(message) + "\n").encode())
    except OSError:
        return False
    return True


def _requester_gone(conn: socket.socket) -> bool:
    """True when the process that sent a request has closed its end (it sends nothing after the request)."""
    try:
        ready, _, _ = select.select([conn], [], [], 0)
        return bool(ready) and conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def serve(path: str, late_after: int = 0) -> int:
    """Listen on ``path``, import :data:`WARM_MODULES`, then fork one child per request until stdin closes.

    The socket listens before the imports start, so a request can be sent at once (it waits in the
    queue until the imports are done). A runner's connection stays open until the runner exits, and
    then receives ``{"exit": CODE}`` (negative: killed by that signal). :data:`LATE_MODULES` are imported
    once ``late_after`` kernels have been forked (at once when 0), one module at a time and only while no
    request waits, or after 2 s without a request, and in any case before forking a kernel beyond the first
    ``late_after``; those first kernels import them themselves if they need them.

    Garbage collection, as the :mod:`gc` documentation advises for a process that forks without exec: off
    in the zygote (its imports create about a million objects and no garbage; collecting during them took
    ~0.35 s), and everything it holds is frozen before each fork, so a child's collections skip those objects
    (each kernel used to re-scan them: ~0.2 s of CPU per chapter) and leave their memory pages shared.
    Children turn collection back on.
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.modules.setdefault("rfc3987_syntax", None)  # see analysis.engine.runner: an unused 1 s import
    gc.disable()  # the imports create ~1M objects, none of them garbage: collecting meanwhile only costs time
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(address(path))
    server.listen(64)
    sys.stdout.write("listening\n")
    sys.stdout.flush()
    _redirect(1, None, os.O_WRONLY)  # nothing else goes to the build's pipe
    warm_imports(late=late_after <= 0)
    late = [] if late_after <= 0 else list(LATE_MODULES)
    kernels = 0
    quiet_since = time.monotonic()
    stdin = sys.stdin.fileno()
    waiting: dict[int, socket.socket] = {}  # runner pid -> its requester's connection
    try:
        while True:
            ready, _, _ = select.select([server, stdin], [], [], 0.02)  # a runner that exited is reported within 20 ms
            if late and not ready and (kernels >= late_after or time.monotonic() - quiet_since > 2.0):
                import importlib

                importlib.import_module(late.pop(0))
                continue
            while True:  # reap children; tell a runner's requester how it ended
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                conn = waiting.pop(pid, None)
                if conn is not None:
                    _send(conn, {"exit": os.waitstatus_to_exitcode(status)})
                    conn.close()
            if stdin in ready and not os.read(stdin, 4096):
                return 0  # the build ended
            if server in ready:
                quiet_since = time.monotonic()
                conn, _ = server.accept()
                try:
                    request = json.loads(conn.makefile("r", encoding="utf-8").readline())
                    _check(request)
                except (ValueError, KeyError, TypeError, AttributeError) as err:
                    _send(conn, {"error": str(err)})
                    conn.close()
                    continue
                if _requester_gone(conn):  # it gave up waiting (or died): fork nothing it cannot track
                    conn.close()
                    continue
                if request["kind"] == "kernel" and late and kernels >= late_after:
                    # a later kernel (e.g. a chapter's, started in advance): it gets the late modules, too
                    import importlib

                    while late:
                        importlib.import_module(late.pop(0))
                gc.freeze()  # what was imported stays out of the child's garbage collections (see serve())
                pid = os.fork()
                if pid == 0:
                    server.close()
                    conn.close()
                    for other in waiting.values():
                        other.close()
                    _become(request)
                if not _send(conn, {"pid": pid}):  # gone in between: the child's watchdog ends it, too
                    conn.close()
                    continue
                if request["kind"] == "runner":
                    waiting[pid] = conn
                else:
                    kernels += 1
                    conn.close()
    finally:
        server.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2) or args[0] in ("-h", "--help"):
        sys.stdout.write(__doc__.split("\n\n")[0] + "\n\nUsage: python -m analysis.engine.forkserver SOCKET_PATH [LATE_AFTER]\n"
                         "(started and stopped by `python -m analysis build`; not meant to be run by hand)\n")
        return 0 if args and args[0] in ("-h", "--help") else 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle; it stops us
    return serve(args[0], int(args[1]) if len(args) == 2 else 0)


if __name__ == "__main__":
    sys.exit(main())
