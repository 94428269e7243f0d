"""The fork server's client side: what the build and the chapter runners use to get warm processes.

The build starts the fork server (:mod:`analysis.engine.forkserver`, a process that has imported the
scientific stack once) for the duration of a ``with`` block (:class:`Zygote`) and asks it for chapter
runners (:meth:`Zygote.start_runner`, answered by a :class:`ForkedRunner`); papermill, in a runner, asks it
for kernels through the kernel manager class of :func:`kernel_manager_class`. The server's environment
variable :data:`SOCKET_ENV` tells a runner where the server listens. This module imports nothing of the
server: the server imports from it (:func:`address`, :func:`alive`).

Protocol: one JSON line per connection on a Unix socket (a Linux abstract address),
``{"kind": "runner" | "kernel", "argv", "cwd", "env", "watch_pid", "stderr"}``, answered by ``{"pid": PID}``
or ``{"error": MESSAGE}``; a runner's connection then stays open and receives ``{"exit": CODE}``.
"""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
import time
from pathlib import Path

__all__ = ["SOCKET_ENV", "ForkedRunner", "Zygote", "address", "alive", "kernel_manager_class", "request_kernel",
           "supported"]

#: Environment variable through which the build tells :mod:`analysis.engine.runner` where the fork server listens.
SOCKET_ENV = "MSCT_ZYGOTE_SOCKET"


def supported() -> bool:
    """Whether kernels can be forked here (Linux, with ``fork``)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def address(path: str) -> str:
    """Socket address: ``@name`` is a Linux abstract socket (no file to clean up, no path-length limit)."""
    return "\0" + path[1:] if path.startswith("@") else path


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _ask(path: str, request: dict, timeout: float = 60.0) -> tuple[int, socket.socket]:
    """Send ``request`` to the zygote; returns the child's pid and the open connection."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(address(path))
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


class _ForkedKernel(_Forked):
    """A kernel forked by the zygote, for jupyter_client's local provisioner; watched through ``/proc``."""

    def _check(self, timeout: float) -> None:
        if not alive(self.pid):
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


def kernel_manager_class():
    """The kernel manager class papermill gets in a runner: kernels forked by the fork server (see below)."""
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
        self.late_after = int(late_after)  # see forkserver.serve(): LATE_MODULES once this many kernels are forked
        self.proc = None

    def __enter__(self) -> "Zygote":
        if not self.enabled:
            return self
        import subprocess
        import uuid

        where = f"@msct-zygote-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.proc = subprocess.Popen([sys.executable, "-m", "analysis.engine.forkserver", where, str(self.late_after)],
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL if self.quiet else None,
                                     env=self.env, text=True, start_new_session=True)
        if self.proc.stdout.readline().strip() == "listening":
            self.env[SOCKET_ENV] = where
        else:
            self.close()
        return self

    def start_runner(self, args: list[str], *, cwd: Path, stderr: Path) -> ForkedRunner | None:
        """Fork ``python -m analysis.engine.runner ARGS`` from the zygote (``None`` when there is no zygote).

        The runner gets :attr:`env`, works in ``cwd``, writes its error report to ``stderr`` and leads a
        session of its own, as a runner started with :class:`subprocess.Popen` would.
        """
        where = self.env.get(SOCKET_ENV)
        if not where:
            return None
        try:
            pid, sock = _ask(where, {"kind": "runner", "argv": [str(a) for a in args], "cwd": str(cwd),
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
