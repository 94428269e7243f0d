"""Robustness runs: CPU per cohort, and wall time of K cohorts on 1 and 2 Dask workers (not a timed test).

Usage::

    .venv/bin/python benchmarks/bench_robustness.py                  # K = 20 cohorts per worker setting
    .venv/bin/python benchmarks/bench_robustness.py --cohorts 60 --per-chapter

Prints, each measured here and now:

1. CPU seconds of one cohort's full claim evaluation at n = 105 (simulate, in-memory cohort, derive, every
   chapter's ``evaluate``), median over ``--sample`` cohorts after one warm-up cohort, in this process;
   with ``--per-chapter`` also the CPU of each chapter's ``evaluate``;
2. wall time of K cohorts (calibrated model) on a ``LocalCluster`` with 1 worker and with 2 workers
   (batches of 5 cohorts per task; the cluster's start-up, with the stack imported in every worker, is
   printed separately), and the speed-up;
3. the projected wall time of 200 and of 50 cohorts x every model on 2 workers, from 2.

The in-process CPU measurement runs with one BLAS thread (``OPENBLAS_NUM_THREADS=1`` and friends, set below
before NumPy is imported), as Dask's workers do (``distributed.nanny.pre-spawn-environ``): with several
threads, OpenBLAS's idle threads spin on small matrices and the CPU time of the mixed models triples.
On a shared machine wall-clock times swing with the load (printed at start and end); CPU times barely do.
Copy the printed block into benchmarks/README.md with the machine it came from.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as in every Dask worker (before NumPy is imported)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def cpu_per_cohort(sample: int, per_chapter: bool) -> tuple[float, dict]:
    from analysis.science.derive import derive_cached
    from analysis.scorecard import evaluate as ev
    from analysis.scorecard import robustness as rb

    rb.evaluate_batch("calibrated", [(0, rb.cohort_seed(1, 0))])  # warm-up: imports, registry, notebook defaults
    times = []
    for k in range(1, sample + 1):
        t0 = time.process_time()
        rb.evaluate_batch("calibrated", [(k, rb.cohort_seed(1, k))])
        times.append(time.process_time() - t0)
    chapters = {}
    if per_chapter:
        import importlib

        for k in range(1, 4):
            cohort = ev.cohort_from_tables(rb.model_tables("calibrated", rb.cohort_seed(2, k)))
            t0 = time.process_time()
            derive_cached(cohort, das28_variant="esr")
            derive_cached(cohort, das28_variant="esr", lloq_rule="half")
            derive_cached(cohort, lloq_rule="half")
            chapters.setdefault("(derive, 3 option sets)", []).append(time.process_time() - t0)
            for name, module in ev.CHAPTER_MODULES.items():
                mod = importlib.import_module(module)
                t0 = time.process_time()
                mod.evaluate(cohort)
                chapters.setdefault(name, []).append(time.process_time() - t0)
        chapters = {k: statistics.median(v) for k, v in chapters.items()}
    return statistics.median(times), chapters


def wall(cohorts: int, workers: int) -> tuple[float, float]:
    """Seconds to start a LocalCluster of ``workers`` (and import the stack in each worker), and seconds
    to judge ``cohorts`` cohorts on it."""
    from dask.distributed import Client, LocalCluster

    from analysis.scorecard import robustness as rb

    t0 = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.run(lambda: __import__("analysis.scorecard.evaluate") and None)  # workers import the stack
        t1 = time.perf_counter()
        rb.run(cohorts=cohorts, models=["calibrated"], seed=7, batch_size=5, client=client)
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cohorts", type=int, default=20, help="K cohorts for the 1- and 2-worker runs (default 20)")
    ap.add_argument("--sample", type=int, default=5, help="cohorts timed for the CPU per cohort (default 5)")
    ap.add_argument("--per-chapter", action="store_true", help="also the CPU of each chapter's evaluate")
    args = ap.parse_args(argv)
    print(f"date: {time.strftime('%Y-%m-%d %H:%M')}; machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{platform.system()} {platform.release()}, Python {platform.python_version()}")
    print(f"load average at start (1, 5, 15 min): {_load()}")
    cpu, chapters = cpu_per_cohort(args.sample, args.per_chapter)
    print(f"CPU per cohort (n = 105, all claims, median of {args.sample}):   {cpu:6.2f} s  (target <= 1 s)")
    for name, sec in chapters.items():
        print(f"    {name:<28s} {sec:6.3f} s")
    s1, w1 = wall(args.cohorts, 1)
    print(f"{args.cohorts} cohorts, LocalCluster 1 worker:              {w1:6.1f} s wall  (+ {s1:.1f} s cluster start)")
    s2, w2 = wall(args.cohorts, 2)
    print(f"{args.cohorts} cohorts, LocalCluster 2 workers:             {w2:6.1f} s wall  (+ {s2:.1f} s cluster start)")
    print(f"speed-up 2 vs 1 worker: {w1 / w2:.2f}x")
    m = len(rb.MODELS)
    print(f"projected 200 cohorts x {m} models on 2 workers: {(s2 + w2 / args.cohorts * 200 * m) / 60:.1f} min")
    print(f"projected 50 cohorts x {m} models on 2 workers:  {(s2 + w2 / args.cohorts * 50 * m) / 60:.1f} min "
          f"(target <= 5 min)")
    print(f"load average at end (1, 5, 15 min): {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
