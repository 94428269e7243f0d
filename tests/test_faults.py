"""Faults during a build: the book render failing after every chapter ran, Ctrl-C / SIGTERM mid-chapter, and two
builds at once on the same output folder.

Each uses a tiny book (one 'safety' chapter, a one-line intro page), passed to the build with ``book_dir`` (the
CLI's hidden ``--book-dir``), so a fault costs seconds, not a full build. What must hold after every fault: the
previous site is byte-for-byte unchanged, no ``.staging-*`` folder and no lock are left behind, no chapter
process (runner or Jupyter kernel) survives, and the next build succeeds.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.core.errors import BuildError
from analysis.engine.build import build
from tinybook import PARAMETERS, alive, tree_hash
from tinybook import tiny_book as _tiny_book

ROOT = Path(__file__).resolve().parents[1]


def tiny_book(folder: Path, *, code: str = "print(1 + 1)", intro: str = "One chapter, for the fault tests.") -> Path:
    """A book folder with an intro page and one 'safety' chapter running ``code``."""
    return _tiny_book(folder, chapters={"safety": (PARAMETERS, code)}, intro=intro)



def previous_site(out: Path) -> str:
    """A stand-in previous site (the tests only check it is left alone); returns its hash."""
    (out / "html").mkdir(parents=True)
    (out / "html" / "index.html").write_text("<html>the previous site</html>")
    (out / "results" / "safety").mkdir(parents=True)
    (out / "results" / "safety" / "table.csv").write_text("a,b\n1,2\n")
    return tree_hash(out)


def assert_clean(out: Path) -> None:
    assert not list(out.glob(".staging-*")), "a staging folder was left behind"
    assert not (out / ".build.lock").exists(), "the build lock was not released"


def start_cli(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "analysis", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_line(proc: subprocess.Popen, needle: str, timeout: float = 120) -> list[str]:
    """Read the process's stdout until a line contains ``needle``; returns the lines read."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return lines
    proc.kill()
    raise AssertionError(f"never saw {needle!r}; stdout so far: {''.join(lines)}; stderr: {proc.stderr.read()}")


def wait_for_kernel(pid: int, timeout: float = 60) -> list[int]:
    """Wait until the build process has a Jupyter kernel among its descendants; returns every descendant pid."""
    psutil = pytest.importorskip("psutil")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = psutil.Process(pid).children(recursive=True)
        # a kernel started by jupyter_client runs ipykernel; one forked by the zygote is named msct-kernel
        if any("ipykernel" in " ".join(k.cmdline()) or k.name() == "msct-kernel" for k in kids if k.is_running()):
            return [k.pid for k in kids]
        time.sleep(0.2)
    raise AssertionError("no Jupyter kernel was started")


# --------------------------------------------------------------------------- the book render fails last
@pytest.mark.slow
def test_book_render_failing_after_all_chapters_ran_keeps_the_previous_site(tmp_path):
    out = tmp_path / "out"
    good = tiny_book(tmp_path / "good")
    build(out=out, book_dir=good, jobs=1)
    before = tree_hash(out / "html")

    broken = tiny_book(tmp_path / "broken", intro="See {ref}`nonexistent-label`.")
    lines: list[str] = []
    with pytest.raises(BuildError) as err:
        build(out=out, book_dir=broken, jobs=1, force=True, report=lines.append)
    message = str(err.value)
    assert message.startswith("The book build (Jupyter Book / Sphinx, warnings are errors) failed after all "
                              "chapters ran")
    assert "nonexistent-label" in message
    assert "Traceback" not in message
    assert any("safety: done" in line for line in lines), "the chapter should have run before the render failed"
    assert tree_hash(out / "html") == before
    assert_clean(out)

    result = build(out=out, book_dir=good, jobs=1)  # the next build succeeds
    assert (out / "html" / "index.html").exists() and not result.up_to_date
    assert_clean(out)


# --------------------------------------------------------------------------- Ctrl-C and SIGTERM
@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_mid_chapter_publishes_nothing_and_leaves_no_process(sig, tmp_path):
    out = tmp_path / "out"
    before = previous_site(out)
    book = tiny_book(tmp_path / "slow", code="import time\ntime.sleep(300)")
    proc = start_cli("build", "--out", str(out), "--book-dir", str(book), "--jobs", "1", "--force")
    try:
        wait_for_line(proc, "safety: started")
        chapter_processes = wait_for_kernel(proc.pid)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert stderr.strip().startswith("interrupted: nothing was published"), stderr
    assert "Traceback" not in stderr
    assert tree_hash(out) == before, "the previous site or results changed"
    assert_clean(out)
    deadline = time.monotonic() + 10
    while alive(chapter_processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(chapter_processes), "a chapter runner or kernel survived the interrupt"


# --------------------------------------------------------------------------- two builds at once
@pytest.mark.slow
def test_second_build_on_the_same_folder_refuses_while_the_first_completes(tmp_path):
    out = tmp_path / "out"
    book = tiny_book(tmp_path / "book", code="import time\ntime.sleep(8)\nprint('slept')")
    first = start_cli("build", "--out", str(out), "--book-dir", str(book), "--jobs", "1", "--force")
    try:
        wait_for_line(first, "safety: started")
        second = subprocess.run([sys.executable, "-m", "analysis", "build", "--out", str(out), "--book-dir",
                                 str(book), "--force"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        stdout, stderr = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
    assert second.returncode != 0
    assert second.stderr.startswith("error: Another build is running on"), second.stderr
    assert str(first.pid) in second.stderr, "the message should name the running build's process"
    assert "Traceback" not in second.stderr
    assert first.returncode == 0, stderr
    assert (out / "html" / "index.html").exists()
    assert "slept" in (out / "executed" / "safety.ipynb").read_text("utf-8")
    assert_clean(out)


def test_stale_staging_folders_of_a_killed_build_are_removed_by_the_next_build(tmp_path, monkeypatch):
    """A build killed with SIGKILL cannot clean up; the next build (holding the lock) removes its staging folder."""
    out = tmp_path / "out"
    stale = out / ".staging-killed"
    (stale / "results").mkdir(parents=True)
    from analysis.engine import build as build_mod

    def stop(*args, **kwargs):
        raise BuildError("stop here")

    monkeypatch.setattr(build_mod, "_build_in_stage", stop)
    with pytest.raises(BuildError, match="stop here"):
        build(out=out, book_dir=tiny_book(tmp_path / "book"), force=True)
    assert_clean(out)


# --------------------------------------------------------------------------- nobody reads the progress lines
@pytest.mark.slow
def test_build_piped_into_head_finishes_and_publishes(tmp_path):
    """`python -m analysis build | head -1`: the reader goes away; the build carries on and publishes."""
    out = tmp_path / "out"
    book = tiny_book(tmp_path / "book")
    proc = start_cli("build", "--out", str(out), "--book-dir", str(book), "--jobs", "1")
    try:
        assert proc.stdout.readline()  # the first progress line
        proc.stdout.close()  # what head does after its lines
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "BrokenPipe" not in stderr and "Traceback" not in stderr
    assert (out / "html" / "index.html").exists()
    assert_clean(out)
