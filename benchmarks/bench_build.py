"""Build speed and scale, printed as figures measured in one run (not a timed test).

Usage::

    .venv/bin/python benchmarks/bench_build.py            # everything (about 10-20 minutes on 2 cores)
    .venv/bin/python benchmarks/bench_build.py --quick    # skip the 105,000-patient build

Prints, each measured here and now:
1. cold full build (papermill in parallel, --jobs N) versus Jupyter Book's own sequential execution
   (``execute_notebooks: force``) of the same notebooks on the same data, as a ratio;
2. a rebuild with nothing changed;
3. a rebuild after changing one chapter's parameter;
4. full builds at 105, 10,500 and 105,000 simulated patients, with time and peak memory of the largest process.
Copy the printed block into benchmarks/README.md with the machine it came from.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def run(cmd: list[str], **kw) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t0


def peak_child_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def jupyter_book_sequential(data_dir: Path, work: Path) -> float:
    """Jupyter Book executing the same notebooks itself, one after the other (its only mode)."""
    from analysis import build as b

    stage = work / "jb-seq"
    chapters = [c for c in b.CHAPTERS if (ROOT / "book" / c.notebook).exists()]
    b._stage_book(ROOT / "book", stage, chapters, "benchmark", False)
    for c in chapters:
        shutil.copy2(ROOT / "book" / c.notebook, stage / "book" / c.notebook)
    cfg = yaml.safe_load((stage / "_config.yml").read_text())
    cfg["execute"] = {"execute_notebooks": "force", "timeout": 3600}
    (stage / "_config.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    env = dict(os.environ, MSCT_SCRATCH=str(work / "jb-scratch"), MPLBACKEND="Agg")
    # the scorecard needs the chapters' claims: give it those of the parallel build's results
    return run([PY, "-c", "from jupyter_book.cli.main import main; main()", "build", str(stage), "--path-output",
                str(stage), "--quiet"], env=env)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="skip the 105,000-patient build")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="msct-bench-"))
    data = ROOT / "data" / "synthetic"
    build = [PY, "-m", "analysis", "build", "--jobs", str(args.jobs)]
    lines = [f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"{platform.system()} {platform.release()}; --jobs {args.jobs}"]

    out = work / "out"
    cold = run(build + ["--out", str(out), "--force"])
    seq = jupyter_book_sequential(data, work)
    lines.append(f"cold full build (ours, parallel papermill + render): {cold:7.1f} s")
    lines.append(f"Jupyter Book sequential execution + render:        {seq:7.1f} s")
    lines.append(f"speed-up: {seq / cold:.2f}x (target >= 1.8x on 2 cores)")
    nochange = run(build + ["--out", str(out)])
    lines.append(f"rebuild, nothing changed:                          {nochange:7.1f} s (target <= 5 s)")
    one = run(build + ["--out", str(out), "-p", "ifng_threshold_pg_ml=3"])
    lines.append(f"rebuild after one chapter's parameter changed:    {one:7.1f} s")

    sizes = [105, 10_500] + ([] if args.quick else [105_000])
    times = {}
    for n in sizes:
        cohort = work / f"cohort{n}"
        run([PY, "-m", "analysis", "simulate", "--seed", "2018", "--patients", str(n), "--out", str(cohort)])
        before = peak_child_rss_mib()
        times[n] = run(build + ["--data", str(cohort), "--out", str(work / f"out{n}"), "--force"])
        peak = peak_child_rss_mib()
        lines.append(f"full build at {n:>7,} patients: {times[n]:7.1f} s, peak memory of the largest process "
                     f"{peak:,.0f} MiB" + ("" if peak > before else " (no new peak)"))
    if 10_500 in times:
        lines.append(f"10,500 / 105 time ratio: {times[10_500] / times[105]:.2f} (target <= 1.5)")
    print("\n".join(lines))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
