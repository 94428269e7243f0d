"""Warm kernels (analysis.engine.forkserver): a forked kernel must behave like a freshly started one, and nothing it
forks may outlive the build.

The comparisons run the same notebook through ``analysis.engine.runner`` twice, once with a zygote and once
without, and compare what the kernel reports about itself (working directory, environment, pandas and
matplotlib settings that depend on how they were imported, random seeds) and the exit codes.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import nbformat
import pytest

from analysis.engine import forkclient as zg
from analysis.engine import forkserver
from analysis.engine.build import build
from tinybook import PARAMETERS, alive, tiny_book

pytestmark = pytest.mark.skipif(not zg.supported(), reason="warm kernels are forked: Linux only")
ROOT = Path(__file__).resolve().parents[1]

PROBE = """\
import json, os, sys
import numpy as np, pandas as pd, matplotlib
print(json.dumps({
    "cwd": os.getcwd(),
    "probe_env": os.environ.get("MSCT_PROBE"),
    "max_columns": pd.get_option("display.max_columns"),
    "backend": matplotlib.get_backend(),
    "hash_seed": os.environ.get("PYTHONHASHSEED"),
    "has_parent": os.getppid() != 1,
    "draw": float(np.random.random()),
    "value": value,
}))
"""


def notebook(path: Path, code: str, params: str = "value = 0") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, path)
    return path


def stdout_of(executed: Path) -> dict:
    nb = nbformat.read(executed, as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stdout")
    return json.loads(text)


def env_for_runner() -> dict[str, str]:
    return dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0", MSCT_PROBE="probe")


def run_forked(z: zg.Zygote, src: Path, dst: Path, params: dict, cwd: Path, stderr: Path) -> int:
    proc = z.start_runner([str(src), str(dst), json.dumps(params), str(cwd)], cwd=ROOT, stderr=stderr)
    assert proc is not None, "the zygote did not fork a runner"
    return proc.wait(timeout=120)


def run_fresh(src: Path, dst: Path, params: dict, cwd: Path, stderr: Path) -> int:
    import subprocess

    with open(stderr, "w") as err:
        return subprocess.run([sys.executable, "-m", "analysis.engine.runner", str(src), str(dst), json.dumps(params),
                               str(cwd)], cwd=ROOT, env=env_for_runner(), stdout=subprocess.DEVNULL, stderr=err,
                              timeout=120).returncode


def test_a_forked_kernel_sees_what_a_fresh_kernel_sees(tmp_path):
    src = notebook(tmp_path / "probe.ipynb", PROBE)
    work = tmp_path / "cwd"
    work.mkdir()
    assert run_fresh(src, tmp_path / "fresh.ipynb", {"value": 7}, work, tmp_path / "fresh.err") == 0
    with zg.Zygote(env_for_runner()) as z:
        assert zg.SOCKET_ENV in z.env
        codes = [run_forked(z, src, tmp_path / f"forked{i}.ipynb", {"value": 7}, work, tmp_path / f"f{i}.err")
                 for i in range(2)]
    assert codes == [0, 0]
    fresh = stdout_of(tmp_path / "fresh.ipynb")
    forked = [stdout_of(tmp_path / f"forked{i}.ipynb") for i in range(2)]
    for f in forked:
        for key in ("cwd", "probe_env", "max_columns", "backend", "hash_seed", "has_parent", "value"):
            assert f[key] == fresh[key], key
    assert fresh["max_columns"] == 20  # what pandas picks inside a Jupyter kernel (0 in a terminal)
    assert fresh["value"] == 7  # papermill's parameters reached the kernel
    # every kernel draws its own unseeded numbers, as a new process would (not the zygote's copied state)
    assert forked[0]["draw"] != forked[1]["draw"]


def test_a_failing_chapter_reports_its_error_and_exit_code(tmp_path):
    src = notebook(tmp_path / "fail.ipynb", "raise ValueError('deliberate failure')")
    with zg.Zygote(env_for_runner()) as z:
        code = run_forked(z, src, tmp_path / "out.ipynb", {}, tmp_path, tmp_path / "fail.err")
    assert code == 3  # analysis.engine.runner's code for "a cell raised"
    last = (tmp_path / "fail.err").read_text().strip().splitlines()[-1]
    assert last.startswith("MSCT-ERROR ")
    info = json.loads(last.removeprefix("MSCT-ERROR "))
    assert info["ename"] == "ValueError" and "deliberate failure" in info["evalue"]


def _wait_gone(pids: list[int], seconds: float = 10) -> list[int]:
    """Wait up to ``seconds`` for ``pids`` to end; returns those still running."""
    deadline = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pids)


def _running_chapter(tmp_path: Path, z: zg.Zygote):
    """Start a chapter that sleeps, and wait until its kernel is running; returns the runner and kernel pids."""
    psutil = pytest.importorskip("psutil")
    src = notebook(tmp_path / "sleep.ipynb", "import time\nopen('started', 'w').close()\ntime.sleep(300)")
    proc = z.start_runner([str(src), str(tmp_path / "out.ipynb"), "{}", str(tmp_path)], cwd=ROOT,
                          stderr=tmp_path / "err")
    deadline = time.monotonic() + 60
    while not (tmp_path / "started").exists():
        assert time.monotonic() < deadline, (tmp_path / "err").read_text()
        time.sleep(0.1)
    family = [c.pid for c in psutil.Process(z.proc.pid).children(recursive=True)]
    assert proc.pid in family and len(family) >= 2, "expected the runner and its kernel, both forked"
    return proc, family


def test_closing_the_zygote_stops_every_runner_and_kernel_it_forked(tmp_path):
    with zg.Zygote(env_for_runner()) as z:
        proc, family = _running_chapter(tmp_path, z)
        zygote_pid = z.proc.pid
    assert _wait_gone([zygote_pid, *family]) == []


def test_killing_a_runner_stops_its_kernel(tmp_path):
    with zg.Zygote(env_for_runner()) as z:
        proc, family = _running_chapter(tmp_path, z)
        os.kill(proc.pid, signal.SIGKILL)  # what a chapter timeout does (and kill -9 by hand)
        assert proc.wait(timeout=30) == -signal.SIGKILL  # the exit code travels back from the zygote
        # the kernel watches its runner and stops within a second, zygote still running
        assert _wait_gone(family) == []
        assert z.proc.poll() is None


def test_the_zygote_refuses_what_it_does_not_understand(tmp_path):
    with zg.Zygote(env_for_runner()) as z:
        address = z.env[zg.SOCKET_ENV]
        with pytest.raises(OSError, match="not an IPython kernel command"):
            zg.request_kernel(address, ["python", "-c", "print(1)"], str(tmp_path), {})
        with pytest.raises(OSError, match="not a request"):
            zg._ask(address, {"kind": "shell", "argv": ["ls"]})


def test_without_a_zygote_the_kernel_manager_launches_kernels_normally(tmp_path, monkeypatch):
    monkeypatch.delenv(zg.SOCKET_ENV, raising=False)
    src = notebook(tmp_path / "probe.ipynb", PROBE)
    import papermill as pm

    pm.execute_notebook(str(src), str(tmp_path / "out.ipynb"), parameters={"value": 3}, kernel_name="python3",
                        progress_bar=False, cwd=str(tmp_path), kernel_manager_class=zg.kernel_manager_class())
    assert stdout_of(tmp_path / "out.ipynb")["value"] == 3


def test_a_zygote_that_is_disabled_or_unreachable_changes_nothing():
    with zg.Zygote({"A": "1"}, enabled=False) as z:
        assert z.env == {"A": "1"} and z.proc is None
        assert z.start_runner(["x"], cwd=ROOT, stderr=Path(os.devnull)) is None
    gone = zg.Zygote({"A": "1"})
    gone.env[zg.SOCKET_ENV] = "@msct-zygote-nobody-listens-here"
    assert gone.start_runner(["x"], cwd=ROOT, stderr=Path(os.devnull)) is None  # the build then uses Popen


@pytest.mark.slow
def test_warm_and_fresh_kernels_build_the_same_book(tmp_path):
    code = ("import pandas as pd\nfrom analysis.engine.report import Page\n"
            "df = pd.DataFrame({c: range(3) for c in 'abcdefghijklmnopqrstuvwxyz'})\nprint(df)\nprint(repr(df))")
    book = tiny_book(tmp_path / "book", chapters={"safety": (PARAMETERS, code)})
    outputs = []
    for warm in (True, False):
        out = tmp_path / f"out-{warm}"
        build(out=out, book_dir=book, jobs=1, warm_kernels=warm)
        nb = nbformat.read(out / "executed" / "safety.ipynb", as_version=4)
        outputs.append([o for c in nb.cells for o in c.get("outputs", [])])
    assert outputs[0] == outputs[1]
    assert "..." in outputs[0][0]["text"]  # 26 columns > pandas' 20 in a kernel: the repr elides columns


def test_the_warm_imports_leave_a_process_that_is_safe_to_fork():
    """Whatever is added to WARM_MODULES must not start Python threads or an event loop at import time
    (a forked child would inherit a lock held by a thread that does not exist in it)."""
    import subprocess

    code = ("import asyncio, sys, threading\n"
            "from analysis.engine import forkserver\n"
            "forkserver.warm_imports()\n"
            "import pandas as pd\n"
            "assert threading.active_count() == 1, threading.enumerate()\n"
            "try:\n"
            "    asyncio.get_running_loop()\n"
            "    raise SystemExit('an event loop is running')\n"
            "except RuntimeError:\n"
            "    pass\n"
            "assert 'get_ipython' not in dir(__builtins__)\n"
            "print(pd.get_option('display.max_columns'))\n")
    env = dict(os.environ, MPLBACKEND="Agg")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "20"  # as inside a Jupyter kernel


def test_a_request_whose_sender_gave_up_forks_nothing(tmp_path):
    """A requester that stops waiting (timeout, Ctrl-C) must not get a runner nobody tracks."""
    import socket

    psutil = pytest.importorskip("psutil")
    with zg.Zygote(env_for_runner()) as z:
        address = z.env[zg.SOCKET_ENV]
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(zg.address(address))  # the zygote is still importing: the request waits in the queue
        request = {"kind": "runner", "argv": ["missing.ipynb", str(tmp_path / "o.ipynb"), "{}", str(tmp_path)],
                   "cwd": str(tmp_path), "env": env_for_runner(), "watch_pid": os.getpid(),
                   "stderr": str(tmp_path / "err")}
        sock.sendall((json.dumps(request) + "\n").encode())
        sock.close()  # ... and gives up
        with pytest.raises(OSError, match="not a request"):  # answered after the abandoned one: still alive
            zg._ask(address, {"kind": "nothing"})
        assert psutil.Process(z.proc.pid).children() == []
        assert not (tmp_path / "err").exists()


def test_kernels_beyond_the_first_ones_get_the_late_modules(tmp_path):
    """With late_after=1, the second kernel is forked only after LATE_MODULES are imported, even when asked at once
    (a chapter started in advance must not import statsmodels in its own cells)."""
    late = forkserver.LATE_MODULES
    src = notebook(tmp_path / "late.ipynb",
                   f"import json, sys\nprint(json.dumps({{'late': [m in sys.modules for m in {list(late)!r}]}}))")
    with zg.Zygote(env_for_runner(), late_after=1) as z:
        procs = [z.start_runner([str(src), str(tmp_path / f"late{i}.ipynb"), json.dumps({}), str(tmp_path)],
                                cwd=ROOT, stderr=tmp_path / f"late{i}.err") for i in range(2)]
        assert all(p is not None for p in procs)
        assert [p.wait(timeout=120) for p in procs] == [0, 0]
    seen = sorted(stdout_of(tmp_path / f"late{i}.ipynb")["late"] for i in range(2))
    assert seen[-1] == [True] * len(late)  # at least the kernel forked second has every late module
