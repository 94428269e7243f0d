"""What each render patch (:mod:`analysis.engine.render_sphinx`) gains: the render with all of them, and without each.

Usage (from the repository root, after one build whose executed notebooks it renders again)::

    python -m analysis build --out /tmp/built
    python benchmarks/bench_render.py --built /tmp/built --repeats 5 [--patch NAME ...]

Each repeat stages the built book afresh (as the build stages it: pages, configuration, the executed
notebooks, downloads), then runs the render process with every notebook ready at once, with all patches and
then without each one in turn (interleaved, so that a noisy neighbour weighs on every variant alike). ``go`` is
sent once Sphinx has read every page. It prints the medians of: the wall-clock seconds of the whole render, its
CPU seconds (the render and the processes it forks), its *tail* (from ``go`` to the end: in a build, the
render's share of the critical path after the last chapter) and the tail's CPU seconds, and each one's
difference to "all". Rendering
alone, the set-up and reading are not overlapped with chapters, so for a patch of the set-up this is an upper
bound of what it saves a build; a patch that matters only in a whole build (the lower priority) is measured
with whole builds instead (``benchmarks/README.md``, "Render patches").
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.core.chapters import CHAPTERS  # noqa: E402
from analysis.engine import render_sphinx  # noqa: E402
from analysis.engine.publish import DOWNLOADS_EXTRA, write_downloads  # noqa: E402
from analysis.engine.render import stage_book  # noqa: E402


def stage(built: Path, where: Path) -> Path:
    """A staging folder as the build makes it, holding the executed notebooks of ``built``."""
    chapters = [c for c in CHAPTERS if (built / "executed" / c.notebook).exists()]
    stage_dir = where / "stage"
    stage_book(ROOT / "book", stage_dir, chapters, "benchmark", False)
    shutil.copytree(built / "results", stage_dir / "results")
    for c in chapters:
        shutil.copy2(built / "executed" / c.notebook, stage_dir / "book" / c.notebook)
    write_downloads(stage_dir / "results", stage_dir / DOWNLOADS_EXTRA, chapters)
    return stage_dir


def _cpu_so_far(pid: int) -> float:
    """CPU seconds of process ``pid`` and of the children it has waited for, so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime, stime, cutime, cstime


def render(stage_dir: Path, skip: list[str]) -> tuple[float, float, float, float]:
    """Render ``stage_dir`` once without the patches ``skip``: seconds of (wall, CPU, tail wall, tail CPU).

    Every chapter is ready at once; ``go`` is sent when Sphinx has read every page (its doctrees exist), as in a
    build whose chapters have all ended. The tail is the time from ``go`` to the end of the process (in a build,
    the render's part of the critical path after the last chapter): writing the pages and the search index.
    The tail's CPU seconds count the render and the processes it forks to write (less noisy than its wall time
    on a busy machine).
    """
    code = ("import sys\nfrom analysis.engine.render_sphinx import main\n"
            f"main(sys.argv[1:], skip={set(skip)!r})")
    cmd = [sys.executable, "-c", code, "build", str(stage_dir), "--path-output", str(stage_dir),
           "-W", "-n", "--keep-going", "--quiet"]
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1",
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    log = stage_dir / ".render.log"
    pages = sorted(p.stem for p in (stage_dir / "book").glob("*.ipynb"))
    doctrees = [stage_dir / "_build" / ".doctrees" / "book" / f"{name}.doctree" for name in pages]
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=fh, stderr=subprocess.STDOUT, text=True,
                                env=env, cwd=stage_dir)
        proc.stdin.write("".join(f"ready book/{name}\n" for name in pages))
        proc.stdin.flush()
        while not all(p.exists() for p in doctrees) and proc.poll() is None:
            time.sleep(0.01)
        time.sleep(0.05)  # the last doctree is written as its page's reading ends
        t_go = time.perf_counter()
        cpu_at_go = _cpu_so_far(proc.pid)
        proc.stdin.write("go\n")
        proc.stdin.close()
        _, status, usage = os.wait4(proc.pid, 0)
    end = time.perf_counter()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or not (stage_dir / "_build" / "html" / "index.html").exists():
        sys.exit(f"render without {skip} failed:\n{log.read_text()[-3000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return end - t0, cpu, end - t_go, cpu - cpu_at_go


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--built", type=Path, required=True, help="output folder of a finished build")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--patch", action="append", help="measure only these patches (default: every one)")
    parser.add_argument("--without", action="append", default=[], metavar="NAME,NAME",
                        help="also measure the render without these patches together")
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    args = parser.parse_args(argv)
    names = args.patch or [n for n in render_sphinx.PATCHES if n != "read_when_ready"]
    variants = [[]] + [[n] for n in names] + [w.split(",") for w in args.without]
    times: dict[str, list[tuple[float, float, float, float]]] = {}
    for repeat in range(args.repeats):
        for skip in variants:
            label = "all" if not skip else f"without {'+'.join(skip)}"
            with tempfile.TemporaryDirectory() as tmp:
                stage_dir = stage(args.built, Path(tmp))
                times.setdefault(label, []).append(render(stage_dir, skip))
            wall, cpu, tail, tail_cpu = times[label][-1]
            print(f"[{repeat + 1}/{args.repeats}] {label:40s} {wall:6.2f} s wall {cpu:6.2f} s CPU {tail:6.2f} s tail "
                  f"{tail_cpu:6.2f} s tail CPU (load {os.getloadavg()[0]:.1f})", flush=True)
    base = [statistics.median(t[i] for t in times["all"]) for i in range(4)]
    print(f"\n{'variant':40s} {'wall':>7s} {'gain':>6s} {'CPU':>7s} {'gain':>6s} {'tail':>7s} {'gain':>6s}"
          f" {'tailCPU':>7s} {'gain':>6s}  (medians of {args.repeats}; gain = without - all)")
    for label, runs in times.items():
        med = [statistics.median(t[i] for t in runs) for i in range(4)]
        print(f"{label:40s} " + " ".join(f"{m:7.2f} {m - b:+6.2f}" for m, b in zip(med, base)))
    if args.json:
        args.json.write_text(json.dumps(times, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
