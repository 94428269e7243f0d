"""Resampling the data folder: wall time of N bootstrap resamples plus N resamples of each of three permutations,
on 1 and 2 Dask workers (not a timed test).

Usage::

    .venv/bin/python benchmarks/bench_resample.py                      # N = 1,000: the issue's 1,000 + 3 x 1,000 run
    .venv/bin/python benchmarks/bench_resample.py --resamples 20       # a quick look
    .venv/bin/python benchmarks/bench_resample.py --workers 2 --methods all --resamples 100

Prints, each measured here and now on the data folder ``--data`` (default: the shipped synthetic cohort):

1. for each worker setting (``--workers``, default ``1,2``): the start-up of a ``LocalCluster`` of that many
   single-threaded worker processes (with the scientific stack imported in each), then the wall time of
   ``analysis.scorecard.resample.run`` with ``--resamples`` resamples by each method of ``--methods`` (default:
   bootstrap, permute_arm, permute_mechanism, permute_ifng), and the median CPU seconds of one resample per method
   (resampling, rebuilding the cohort with ``cohort_from_tables``, judging the claims the method concerns with
   ``evaluate_all``);
2. the speed-up of the last setting over the first.

The run is the one ``python -m analysis robustness --data DIR --resample METHODS --resamples N`` makes, without
writing files. Every resample is the same in each setting (seeded per resample), so the settings do the same work.
The CPU is measured with one BLAS thread per worker, as Dask's workers run. On a shared machine wall-clock times
swing with the load (printed at start and end); CPU times barely do.
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

DEFAULT_METHODS = "bootstrap,permute_arm,permute_mechanism,permute_ifng"


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _warm() -> bool:
    """Import what a resample needs in a worker (counted in the start-up, not in the run)."""
    import analysis.scorecard.evaluate as ev  # noqa: F401
    from analysis.scorecard import resample  # noqa: F401
    from analysis.claims.registry import published

    published()
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--resamples", type=int, default=1000, help="resamples per method (default: 1000)")
    ap.add_argument("--methods", default=DEFAULT_METHODS, help=f"comma-separated methods or all (default: {DEFAULT_METHODS})")
    ap.add_argument("--workers", default="1,2", help="worker settings to compare (default: 1,2)")
    ap.add_argument("--data", type=Path, default=None, help="data folder (default: data/synthetic)")
    ap.add_argument("--batch", type=int, default=5, help="resamples per Dask task (default: 5)")
    ap.add_argument("--seed", type=int, default=2018)
    args = ap.parse_args(argv)

    from analysis.core import paths
    from analysis.intake.io import load
    from analysis.scorecard import resample
    from analysis.scorecard.dask_run import client_for

    methods = resample.parse_methods(args.methods)
    data = args.data or paths.default_data_dir()
    cohort = load(data)
    settings = [int(w) for w in args.workers.split(",") if w.strip()]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"load average at start: {_load()}")
    print(f"data: {data} ({len(cohort.patients)} patients); {args.resamples} resamples x {len(methods)} methods "
          f"({', '.join(methods)}); batches of {args.batch}")
    walls = {}
    for workers in settings:
        t0 = time.perf_counter()
        client, cluster = client_for(workers=workers)
        try:
            client.run(_warm)
            startup = time.perf_counter() - t0
            t1 = time.perf_counter()
            verdicts, problems = resample.run(cohort, methods=methods, resamples=args.resamples, seed=args.seed,
                                              batch_size=args.batch, client=client)
            walls[workers] = time.perf_counter() - t1
        finally:
            client.close()
            cluster.close()
        per = verdicts.drop_duplicates(["method", "resample"]).groupby("method", sort=False)["seconds"]
        cpu = ", ".join(f"{m} {statistics.median(s):.2f}" for m, s in per)
        print(f"{workers} worker(s): start-up {startup:.1f} s; run {walls[workers]:.1f} s wall "
              f"({walls[workers] / 60:.1f} min); median CPU s per resample: {cpu}")
        for m, why in problems.items():
            print(f"  {m} not run: {why}")
    if len(walls) > 1:
        first, last = settings[0], settings[-1]
        print(f"speed-up {last} over {first} worker(s): {walls[first] / walls[last]:.2f}x")
    print(f"load average at end: {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
