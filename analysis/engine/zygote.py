"""Warm processes: fork each chapter's papermill runner and Jupyter kernel from one that has imported the stack.

Each chapter runs in processes of its own (a papermill runner, :mod:`analysis.engine.runner`, and the Jupyter kernel
it starts), so a timeout or Ctrl-C can stop one chapter without touching the others. Started from scratch,
each of those processes spends most of its first two seconds importing papermill, pandas, SciPy,
matplotlib, seaborn and pingouin. The build therefore starts one *zygote* (``python -m analysis.engine.zygote
ADDRESS``, :class:`Zygote`) that imports all of that once (:data:`WARM_MODULES`) and then waits:

- the build asks it for a chapter runner (:meth:`Zygote.start_runner`): the zygote forks, and the child runs
  :func:`analysis.engine.runner.main` with the arguments, working directory, environment and error file the
  build gives, in a session of its own, exactly as ``subprocess.Popen(..., start_new_session=True)``
  would; its exit code is sent back to the build (:class:`ForkedRunner`);
- papermill, in that runner, asks it for a kernel through the kernel manager returned by
  :func:`_kernel_manager_class`: the zygote forks, and the child becomes an ordinary IPython kernel
  (``ipykernel``), with the command line, working directory and environment papermill asked for,
  talking to papermill over the usual ZeroMQ connection file.

Every forked process is still a process of its own, with its own memory: nothing a chapter does can reach
another one. Only the importing is shared.

Design notes

- The zygote creates no ZeroMQ context, asyncio loop or Python thread before forking, so a child starts
  from a clean state (numpy's BLAS threads are re-created after ``fork`` by the library itself). What an
  import decides by looking at its surroundings is decided as in a kernel (:func:`_warm_imports`), and
  each child draws a fresh numpy seed, as a new process would. ``tests/test_zygote.py`` compares a forked
  kernel with a fresh one.
- Linux only (``fork`` after importing these libraries is not safe on macOS); elsewhere, with
  ``--no-warm-kernels``, or whenever the zygote cannot be reached, runners and kernels are started the
  ordinary way, with the same results.
- Nothing is left behind. A forked process watches the process that asked for it (a runner: the build; a
  kernel: its runner) and stops, with its process group, when that process is gone (timeout, Ctrl-C,
  ``kill -9``). The build stops the zygote and anything it forked when the chapters are done
  (:meth:`Zygote.close`); if the build itself is killed, the zygote sees its standard input close.

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

#: Imported once by the zygote, before any fork (what every chapter notebook imports first).
WARM_MODULES = (
    "numpy", "pandas", "scipy.stats", "scipy.optimize", "matplotlib", "matplotlib.pyplot", "seaborn",
    "pingouin", "yaml", "IPython", "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "myst_nb",
    "analysis.engine.report", "analysis.science.figures", "analysis.science.stats", "analysis.science.derive", "analysis.intake.io",
    "analysis.claims.log", "analysis.chapters.safety.analysis", "analysis.chapters.disease_activity.analysis", "analysis.chapters.immune.analysis", "analysis.chapters.inflammation.analysis",
    "analysis.chapters.ifng.analysis", "analysis.chapters.audit.analysis", "analysis.science.simulate", "papermill", "nbclient", "jupyter_client",
    "analysis.engine.runner", "analysis.chapters.second_look", "analysis.science.sections",
)

#: Imported by the zygote once the first chapters' kernels are forked (:func:`serve`), so they do not delay the
#: start of the build: analysis.chapters.second_look imports them inside its functions (mixed, logistic and ANCOVA
#: models, Kaplan-Meier), so every chapter's kernel would otherwise import them again (0.3-0.6 s each).
LATE_MODULES = ("statsmodels.api", "lifelines")

#: Environment variable through which the build tells :mod:`analysis.engine.runner` where the zygote listens.
SOCKET_ENV = "MSCT_ZYGOTE_SOCKET"


def supported() -> bool:
    """Whether kernels can be forked here (Linux, with ``fork``)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def _address(path: str) -> str:
    """Socket address: ``@name`` is a Linux abstract socket (no file to clean up, no path-length limit)."""
    return "\0" + path[1:] if path.startswith("@") else path


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


# --------------------------------------------------------------------------- the zygote (server) side
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
        while _alive(watch):
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


def _warm_imports(late: bool = True) -> None:
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
    server.bind(_address(path))
    server.listen(64)
    sys.stdout.write("listening\n")
    sys.stdout.flush()
    _redirect(1, None, os.O_WRONLY)  # nothing else goes to the build's pipe
    _warm_imports(late=late_after <= 0)
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


def _ask(path: str, request: dict, timeout: float = 60.0) -> tuple[int, socket.socket]:
    """Send ``request`` to the zygote; returns the child's pid and the open connection."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(_address(path))
        sock.sendall((json.dumps(dict(request, watch_pid=os.getpid())) + "\n").encode())
        line = b""
        while not line.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            line += chunk
        answer = json.loads(line or b"{}")
        if "pid" not in answer:
            raise OSError(answer.get("error", "the zygote gave no answer"))
    except BaseException:
        sock.close()
        raise
    return int(answer["pid"]), sock


def _own_stderr() -> str | None:
    """The file this process's standard error goes to, if it is a regular file (a launched kernel shares it)."""
    try:
        target = os.readlink("/proc/self/fd/2")
    except OSError:
        return None
    return target if os.path.isfile(target) else None


def request_kernel(path: str, argv: list[str], cwd: str, env: dict[str, str], *, stderr: str | None = None,
                   timeout: float = 60.0) -> int:
    """Ask the zygote listening on ``path`` for a kernel; returns its pid (raises ``OSError`` on failure).

    The kernel's standard error is appended to ``stderr`` (a file) when given.
    """
    request = {"kind": "kernel", "argv": list(argv), "cwd": str(cwd), "env": dict(env), "stderr": stderr,
               "append": True}
    pid, sock = _ask(path, request, timeout)
    sock.close()
    return pid


class _Forked:
    """The part of :class:`subprocess.Popen` the build and jupyter_client use, for a process the zygote forked.

    The process is the zygote's child, not ours, so ``waitpid`` cannot tell when it ends; subclasses say
    how to find out in :meth:`_check`, which may block up to ``timeout`` seconds.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def _check(self, timeout: float) -> None:
        raise NotImplementedError

    def poll(self) -> int | None:
        if self.returncode is None:
            self._check(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            if deadline is not None and time.monotonic() > deadline:
                import subprocess

                raise subprocess.TimeoutExpired(f"forked process {self.pid}", timeout)
            self._check(0.05)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkedRunner(_Forked):
    """A chapter runner forked by the zygote (see :meth:`Zygote.start_runner`).

    Its exit code arrives on the connection that asked for it (the zygote is its parent and reaps it).
    """

    def __init__(self, pid: int, sock: socket.socket):
        super().__init__(pid)
        self._sock = sock
        self._buffer = b""
        sock.setblocking(False)

    def _check(self, timeout: float) -> None:
        ready, _, _ = select.select([self._sock], [], [], timeout)
        if not ready:
            return
        try:
            chunk = self._sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        self._buffer += chunk
        if b"\n" in self._buffer:
            self.returncode = int(json.loads(self._buffer.split(b"\n", 1)[0]).get("exit", 1))
        elif not chunk:  # the zygote went away before telling
            self.returncode = -signal.SIGKILL
        if self.returncode is not None:
            self._sock.close()


# --------------------------------------------------------------------------- the papermill (client) side
class _ForkedKernel(_Forked):
    """A kernel forked by the zygote, for jupyter_client's local provisioner; watched through ``/proc``."""

    def _check(self, timeout: float) -> None:
        if not _alive(self.pid):
            self.returncode = 0
        elif timeout:
            time.sleep(timeout)


def _kernel_client_class():
    """An ``AsyncKernelClient`` whose ``wait_for_ready`` does not sit idle for 0.2 s after the kernel answered.

    jupyter_client's own ``wait_for_ready`` sends ``kernel_info``, waits for the reply, then checks that IOPub is
    connected by waiting up to 0.2 s for any IOPub message, and finally "flushes" IOPub by reading until 0.2 s
    pass without a message: at least 0.2 s of pure waiting per kernel, 0.4 s when the first check misses.
    This one does the same checks but stops waiting as soon as the kernel's ``idle`` status for that
    ``kernel_info`` request arrives on IOPub (the kernel publishes it after the reply, so IOPub is connected and
    everything the request caused has been read); what has already arrived besides is still read and dropped.
    A missed ``idle`` (IOPub subscribed late) falls back to the 0.2 s wait, as before. nbclient reads only
    the IOPub messages of the cell it runs (by parent message id), so the notebook is unaffected.
    """
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient

    class FastReadyKernelClient(AsyncKernelClient):
        async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.time() + (float("inf") if timeout is None else timeout)
            while True:
                msg_id = self.kernel_info()
                try:
                    reply = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    reply = None
                if reply is not None and reply["msg_type"] == "kernel_info_reply":
                    connected = False
                    while True:
                        try:
                            msg = await self.iopub_channel.get_msg(timeout=0.2)
                        except Empty:
                            break
                        connected = True
                        if (msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
                                and msg["parent_header"].get("msg_id") == msg_id):
                            break
                    if connected:
                        self._handle_kernel_info_reply(reply)
                        break
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.time() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
            while True:  # drop what has already arrived, without waiting for more
                try:
                    await self.iopub_channel.get_msg(timeout=0)
                except Empty:
                    break

        wait_for_ready = _async_wait_for_ready  # (AsyncKernelClient binds the base class's at class creation)

    return FastReadyKernelClient


def _kernel_manager_class():
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    client = _kernel_client_class()

    class ForkKernelManager(AsyncKernelManager):
        """A kernel manager that forks the kernel from the zygote named by ``$MSCT_ZYGOTE_SOCKET``.

        Falls back to launching the kernel normally when the variable is unset, the platform cannot fork,
        the command is not a plain IPython kernel, or the zygote does not answer. Its client does not idle
        after the kernel is ready (:func:`_kernel_client_class`), and at shutdown it looks every 10 ms, not
        every 100 ms, whether the kernel has exited.
        """

        @default("client_factory")
        def _fast_ready_client(self):
            return client

        async def _async_finish_shutdown(self, waittime=None, pollinterval=0.1, restart=False):
            await super()._async_finish_shutdown(waittime, pollinterval=min(pollinterval, 0.01), restart=restart)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            path = os.environ.get(SOCKET_ENV)
            if path and supported() and kernel_cmd[1:3] == ["-m", "ipykernel_launcher"]:
                try:
                    env = kw.get("env") or dict(os.environ)
                    pid = request_kernel(path, kernel_cmd, kw.get("cwd") or os.getcwd(), env, stderr=_own_stderr())
                except (OSError, ValueError):
                    pid = None
                if pid is not None:
                    prov = self.provisioner
                    prov.process = _ForkedKernel(pid)
                    prov.pid = pid
                    prov.pgid = pid  # the child called setsid(): it leads its own process group
                    prov.cwd = kw.get("cwd") or os.getcwd()
                    self._reconcile_connection_info(prov.connection_info)
                    return
            await super()._async_launch_kernel(kernel_cmd, **kw)

    return ForkKernelManager


class Zygote:
    """Start a zygote for the duration of a ``with`` block; ``env`` tells papermill runners where it is.

    ``env`` is the environment to give chapter runners: a copy of the one passed in, plus
    :data:`SOCKET_ENV` when the zygote is listening (unchanged when forking is not supported here, so
    every kernel is then launched the normal way).

    Examples
    --------
    >>> with Zygote({"PATH": "/usr/bin"}, enabled=False) as z:
    ...     SOCKET_ENV in z.env
    False
    """

    def __init__(self, env: dict[str, str], *, enabled: bool = True, quiet: bool = True, late_after: int = 0):
        self.env = dict(env)
        self.enabled = enabled and supported()
        self.quiet = quiet
        self.late_after = int(late_after)  # see serve(): LATE_MODULES once this many kernels are forked
        self.proc = None

    def __enter__(self) -> "Zygote":
        if not self.enabled:
            return self
        import subprocess
        import uuid

        address = f"@msct-zygote-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.proc = subprocess.Popen([sys.executable, "-m", "analysis.engine.zygote", address, str(self.late_after)],
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL if self.quiet else None,
                                     env=self.env, text=True, start_new_session=True)
        if self.proc.stdout.readline().strip() == "listening":
            self.env[SOCKET_ENV] = address
        else:
            self.close()
        return self

    def start_runner(self, args: list[str], *, cwd: Path, stderr: Path) -> ForkedRunner | None:
        """Fork ``python -m analysis.engine.runner ARGS`` from the zygote (``None`` when there is no zygote).

        The runner gets :attr:`env`, works in ``cwd``, writes its error report to ``stderr`` and leads a
        session of its own, as a runner started with :class:`subprocess.Popen` would.
        """
        address = self.env.get(SOCKET_ENV)
        if not address:
            return None
        try:
            pid, sock = _ask(address, {"kind": "runner", "argv": [str(a) for a in args], "cwd": str(cwd),
                                       "env": self.env, "stderr": str(stderr)})
        except (OSError, ValueError):
            return None
        return ForkedRunner(pid, sock)

    def __exit__(self, *exc) -> bool:
        self.close()
        return False

    def close(self) -> None:
        """Stop the zygote and anything it forked that is still running (safe to call twice)."""
        self.env.pop(SOCKET_ENV, None)
        if self.proc is None:
            return
        # Nothing in the zygote is worth a graceful exit (it may still be importing): freeze it so it forks
        # no more, find what it forked that still runs (normally nothing: runners and kernels have exited),
        # and kill them all. psutil guards against pids reused meanwhile.
        try:
            self.proc.send_signal(signal.SIGSTOP)
        except OSError:
            pass
        try:
            import psutil

            family = psutil.Process(self.proc.pid).children(recursive=True)
        except Exception:  # noqa: BLE001 - psutil missing or the zygote already exited
            family = []
        self.proc.kill()
        for child in family:
            try:
                child.kill()
            except Exception:  # noqa: BLE001 - already gone
                pass
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.proc = None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2) or args[0] in ("-h", "--help"):
        sys.stdout.write(__doc__.split("\n\n")[0] + "\n\nUsage: python -m analysis.engine.zygote SOCKET_PATH [LATE_AFTER]\n"
                         "(started and stopped by `python -m analysis build`; not meant to be run by hand)\n")
        return 0 if args and args[0] in ("-h", "--help") else 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle; it stops us
    return serve(args[0], int(args[1]) if len(args) == 2 else 0)


if __name__ == "__main__":
    sys.exit(main())
