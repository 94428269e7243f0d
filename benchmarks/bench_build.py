"""Build speed and scale, printed as figures measured in one run (not a timed test).

Usage::

    .venv/bin/python benchmarks/bench_build.py                 # everything (20-40 minutes on 2 cores)
    .venv/bin/python benchmarks/bench_build.py --quick         # skip the 105,000-patient build
    .venv/bin/python benchmarks/bench_build.py --part speed    # only 1-3 (speed-up and rebuilds)
    .venv/bin/python benchmarks/bench_build.py --part scale    # only 4 (105 / 10,500 / 105,000 patients)

Prints, each measured here and now:

1. cold full build (papermill in parallel, ``--jobs N``) versus Jupyter Book's own sequential execution
   (``execute_notebooks: force``) of the same notebooks on the same data, as a ratio of the medians of
   ``--repeat`` runs of each (default 3, alternated, each run printed);
2. a rebuild with nothing changed;
3. a rebuild after changing one chapter's parameter (and which chapters it re-executed);
4. full builds at 105, 10,500 and 105,000 simulated patients, with time and the peak memory (high-water
   resident set) of the largest process of each build, and the 10,500 / 105 time ratio.

Every line gives the wall-clock time and, in brackets, the CPU time (user + system) of all processes
involved. On a shared machine wall-clock times swing with the load (printed at start and end); CPU times
barely do, so they show whether a change to the code made the work itself smaller.
Copy the printed block into benchmarks/README.md with the machine it came from.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


@dataclass
class Run:
    wall: float
    cpu: float
    peak_mib: float
    output: str


def _descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _hwm_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    m = re.search(r"^VmHWM:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) if m else 0


def run(cmd: list[str], env: dict | None = None) -> Run:
    """Run ``cmd``; wall time, CPU time of it and its children, and the largest process's peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    peak = [0]
    done = threading.Event()

    def sample() -> None:  # VmHWM only grows, so sampling every 0.2 s misses at most a process's last 0.2 s
        while not done.is_set():
            for pid in [proc.pid] + _descendants(proc.pid):
                peak[0] = max(peak[0], _hwm_kib(pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.communicate()[0]
    done.set()
    sampler.join()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.stderr.write(output[-4000:])
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of the children is a running maximum over the whole benchmark: use it only if it grew
    peak_mib = peak[0] / 1024
    if after.ru_maxrss > before.ru_maxrss:
        peak_mib = max(peak_mib, after.ru_maxrss / 1024)
    return Run(wall, cpu, peak_mib, output)


def executed_chapters(output: str) -> list[str]:
    """Chapters a build executed, read from its progress lines (``[  3.6s] safety: started``)."""
    return re.findall(r"\]\s+(\w+): started", output)


def jupyter_book_sequential(work: Path) -> Run:
    """Jupyter Book executing the same notebooks itself, one after the other (its only mode)."""
    from analysis.engine import build as b
    from analysis.engine.render import stage_book

    stage = work / "jb-seq"
    chapters = [c for c in b.CHAPTERS if (ROOT / "book" / c.notebook).exists()]
    stage_book(ROOT / "book", stage, chapters, "benchmark", False)
    for c in chapters:
        shutil.copy2(ROOT / "book" / c.notebook, stage / "book" / c.notebook)
    cfg = yaml.safe_load((stage / "_config.yml").read_text())
    cfg["execute"] = {"execute_notebooks": "force", "timeout": 3600}
    (stage / "_config.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    # notebooks left at their defaults (shipped cohort, scratch folder) write their results into this
    # scratch folder; the scorecard, last in the table of contents, reads them from there
    env = dict(os.environ, MSCT_SCRATCH=str(work / "jb-scratch"), MPLBACKEND="Agg")
    return run([PY, "-c", "from jupyter_book.cli.main import main; main()", "build", str(stage), "--path-output",
                str(stage), "--quiet"], env=env)


def _book_without_asserts(dst: Path) -> Path:
    """A copy of book/ in which every ``assert`` in a code cell becomes ``_ =`` (same cost, never fails)."""
    import json

    shutil.copytree(ROOT / "book", dst, ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints"))
    for nb_path in dst.glob("*.ipynb"):
        nb = json.loads(nb_path.read_text("utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                cell["source"] = re.sub(r"^(\s*)assert\b", r"\1_ =", src, flags=re.M)
        nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", "utf-8")
    return dst


def _median_run(runs: list[Run]) -> Run:
    """The run with the median wall-clock time (the lower middle one for an even count)."""
    return sorted(runs, key=lambda r: r.wall)[(len(runs) - 1) // 2]


def fmt(label: str, r: Run, extra: str = "") -> str:
    return f"{label:<52}{r.wall:7.1f} s  (CPU {r.cpu:6.1f} s){extra}"


def load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="skip the 105,000-patient build")
    ap.add_argument("--part", choices=["all", "speed", "scale"], default="all")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--repeat", type=int, default=3,
                    help="cold builds of each kind, alternated; their medians are compared (default 3)")
    ap.add_argument("--no-exercise-asserts", action="store_true",
                    help="build a copy of book/ whose exercise cells' assert statements are turned into plain "
                         "expressions (for cohorts where a solution's assert does not hold; says so in the output)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="msct-bench-"))
    build = [PY, "-m", "analysis", "build", "--jobs", str(args.jobs)]
    if args.no_exercise_asserts:
        build += ["--book-dir", str(_book_without_asserts(work / "book"))]
    lines = [f"date: {time.strftime('%Y-%m-%d %H:%M')}; machine: {platform.machine()}, {os.cpu_count()} cores, "
             f"{platform.system()} {platform.release()}, Python {platform.python_version()}; --jobs {args.jobs}",
             f"load average at start (1, 5, 15 min): {load()}"]
    if args.no_exercise_asserts:
        lines.append("built from a copy of book/ with the exercise cells' assert statements disabled")
    print("\n".join(lines), flush=True)

    def say(line: str) -> None:
        lines.append(line)
        print(line, flush=True)

    try:
        if args.part in ("all", "speed"):
            out = work / "out"
            # the two builds alternate, --repeat times each: a shared machine's speed drifts over minutes, and
            # alternating exposes both to the same drift; the medians are compared
            colds, seqs = [], []
            for i in range(args.repeat):
                shutil.rmtree(out, ignore_errors=True)
                colds.append(run(build + ["--out", str(out), "--force"]))
                say(fmt(f"cold full build (ours: parallel papermill + render) #{i + 1}:", colds[-1]))
                shutil.rmtree(work / "jb-seq", ignore_errors=True)
                shutil.rmtree(work / "jb-scratch", ignore_errors=True)
                seqs.append(jupyter_book_sequential(work))
                say(fmt(f"Jupyter Book sequential execution + render #{i + 1}:", seqs[-1]))
            cold, seq = _median_run(colds), _median_run(seqs)
            if args.repeat > 1:
                say(fmt(f"cold full build, median of {args.repeat}:", cold))
                say(fmt(f"Jupyter Book sequential, median of {args.repeat}:", seq))
            say(f"speed-up: {seq.wall / cold.wall:.2f}x wall-clock (medians; target >= 3x); "
                f"CPU ratio {seq.cpu / cold.cpu:.2f}; per pair: "
                + ", ".join(f"{s.wall / c.wall:.2f}x" for c, s in zip(colds, seqs)))
            nochange = run(build + ["--out", str(out)])
            ran = executed_chapters(nochange.output)
            say(fmt("rebuild, nothing changed:", nochange,
                    f"  executed: {', '.join(ran) or 'none'} (target <= 5 s, none)"))
            one = run(build + ["--out", str(out), "-p", "ifng_threshold_pg_ml=3"])
            say(fmt("rebuild after one chapter's parameter changed:", one,
                    f"  executed: {', '.join(executed_chapters(one.output)) or 'none'}"))
        if args.part in ("all", "scale"):
            sizes = [105, 10_500] + ([] if args.quick else [105_000])
            times = {}
            for n in sizes:
                cohort = work / f"cohort{n}"
                run([PY, "-m", "analysis", "simulate", "--seed", "2018", "--patients", str(n), "--out", str(cohort)])
                r = run(build + ["--data", str(cohort), "--out", str(work / f"out{n}"), "--force"])
                times[n] = r
                say(fmt(f"full build at {n:>7,} patients:", r, f"  peak memory (largest process) "
                                                              f"{r.peak_mib:,.0f} MiB"))
                shutil.rmtree(work / f"out{n}", ignore_errors=True)
                shutil.rmtree(cohort, ignore_errors=True)
            if 10_500 in times:
                say(f"10,500 / 105 time ratio: {times[10_500].wall / times[105].wall:.2f} wall-clock, "
                    f"{times[10_500].cpu / times[105].cpu:.2f} CPU (target <= 1.5)")
            if 105_000 in times:
                say(f"105,000: peak memory {times[105_000].peak_mib / 1024:.2f} GiB (target < 4 GiB)")
        say(f"load average at end (1, 5, 15 min): {load()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n--- copy into benchmarks/README.md ---\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
