"""Stopping a process the build started, with everything it started (runners, kernels, the render)."""
from __future__ import annotations

import os
import signal
import subprocess

__all__ = ["descendants", "kill"]


def descendants(pid: int) -> list[int]:
    """Process ids of every descendant of ``pid`` (empty when psutil is missing or the process is gone)."""
    try:
        import psutil

        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except Exception:  # psutil missing, or the process already exited
        return []


def kill(proc: subprocess.Popen) -> None:
    """Stop a process the build started (a chapter runner, the render), its process group and every descendant.

    The runner is started in its own session, so killing its group stops papermill; the Jupyter kernel
    papermill launches lives in a session of its own (jupyter_client starts it with ``start_new_session``),
    so it is killed by pid and process group as well, leaving no orphan kernel behind.
    """
    children = descendants(proc.pid)
    for pid in [proc.pid, *children]:
        for send in (os.killpg, os.kill):
            try:
                send(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, OSError):
                pass
    proc.wait()
