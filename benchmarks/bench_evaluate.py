"""One evaluation of every claim of the book: CPU seconds, and where they go (not a timed test).

Usage::

    .venv/bin/python benchmarks/bench_evaluate.py                 # 50 cohorts of 105 patients
    .venv/bin/python benchmarks/bench_evaluate.py --cohorts 20 --patients 210

"One evaluation" is what the robustness runs (simulated cohorts, and resamples of a data folder) do per
cohort: :func:`analysis.scorecard.evaluate.evaluate_all` on a cohort already in memory, every chapter's
``evaluate`` with the notebooks' default parameters (the IFN-γ chapter's ``n_boot`` included). Prints, each
measured here and now, in this process (imports, registry and notebook defaults warmed up by one cohort first):

1. CPU seconds (``time.process_time``) of one evaluation, median over ``--cohorts`` simulated cohorts of the
   calibrated model (and the 10th and 90th percentiles);
2. apart from it, the CPU of simulating a cohort (:func:`analysis.scorecard.robustness.model_tables`) and of
   typing its tables into a cohort (:func:`analysis.scorecard.evaluate.cohort_from_tables`);
3. where the time goes: per chapter, the derivation shared by the chapters
   (:func:`analysis.science.derive.derive_cached`), each chapter's second look (its ``*_section``), the one
   resampling inside an evaluation (the IFN-γ chapter's bootstrap CI of the ROC AUC, ``n_boot`` = 2000 per
   score, outside its second look) and the rest of the chapter (the paper's claims and their verdicts);
   medians over the same cohorts.

Runs with one BLAS thread, as Dask's workers do (``benchmarks/bench_robustness.py`` says why). On a shared
machine the CPU times still move by 10–20 % with the load (printed at start and end).
Copy the printed block into benchmarks/README.md with the machine it came from.
"""
from __future__ import annotations

import argparse
import importlib
import os
import platform
import statistics
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as in every Dask worker (before NumPy is imported)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET = 0.25  # seconds of CPU per evaluation (issue 32)


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _quantile(values, q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


class _Timer:
    """Wraps the functions a chapter's ``verdicts`` module calls (``derive_cached``, its ``*_section``) and adds
    their CPU seconds to a named bucket, so a chapter's time splits into derivation, second look and the rest."""

    def __init__(self):
        self.spent: dict[str, float] = {}
        self._saved: list[tuple[object, str, object]] = []
        self._depth = 0

    def wrap(self, module, attr: str, bucket: str) -> None:
        func = getattr(module, attr)

        def timed(*args, **kwargs):
            if self._depth:  # nested: counted by the outer one
                return func(*args, **kwargs)
            self._depth += 1
            t0 = time.process_time()
            try:
                return func(*args, **kwargs)
            finally:
                self.spent[bucket] = self.spent.get(bucket, 0.0) + time.process_time() - t0
                self._depth -= 1

        self._saved.append((module, attr, func))
        setattr(module, attr, timed)

    def restore(self) -> None:
        for module, attr, func in reversed(self._saved):
            setattr(module, attr, func)
        self._saved.clear()


def measure(cohorts: int, patients: int) -> dict:
    from analysis.science import stats
    from analysis.science.simulate import cohort_meta
    from analysis.scorecard import evaluate as ev
    from analysis.scorecard import robustness as rb

    def make(k: int):
        seed = rb.cohort_seed(32, k)
        t0 = time.process_time()
        tables = rb.model_tables("calibrated", seed, patients)
        t1 = time.process_time()
        cohort = ev.cohort_from_tables(tables, cohort_meta(seed=seed, n_patients=patients, model="calibrated"))
        return cohort, t1 - t0, time.process_time() - t1

    ev.evaluate_all(make(0)[0])  # warm-up: imports, registry, notebook defaults
    evals, sims, typing_, parts = [], [], [], {}
    modules = {name: importlib.import_module(m) for name, m in ev.CHAPTER_MODULES.items()}
    for k in range(1, cohorts + 1):
        cohort, sim, typ = make(k)
        sims.append(sim)
        typing_.append(typ)
        t0 = time.process_time()
        ev.evaluate_all(cohort)
        evals.append(time.process_time() - t0)
    # where the time goes, on the same cohorts again (a fresh cohort object each: nothing cached)
    for k in range(1, cohorts + 1):
        cohort = make(k)[0]
        for name, module in modules.items():
            timer = _Timer()
            for attr in dir(module):
                if attr.endswith("_section") and callable(getattr(module, attr)):
                    timer.wrap(module, attr, "second look")
            if hasattr(module, "derive_cached"):
                timer.wrap(module, "derive_cached", "derive")
            timer.wrap(stats, "roc_curve_auc", "ROC bootstrap")  # the one resampling inside an evaluation
            t0 = time.process_time()
            try:
                module.evaluate(cohort, None)
            finally:
                timer.restore()
            total = time.process_time() - t0
            rest = total - sum(timer.spent.values())
            for bucket, sec in [*timer.spent.items(), ("paper's claims and verdicts", rest)]:
                parts.setdefault((name, bucket), []).append(sec)
            parts.setdefault((name, "total"), []).append(total)
    return {"evaluate": evals, "simulate": sims, "cohort": typing_,
            "parts": {key: statistics.median(v) for key, v in parts.items()}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cohorts", type=int, default=50, help="cohorts timed (default 50)")
    ap.add_argument("--patients", type=int, default=105, help="patients per cohort (default 105)")
    args = ap.parse_args(argv)
    print(f"date: {time.strftime('%Y-%m-%d %H:%M')}; machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{platform.system()} {platform.release()}, Python {platform.python_version()}")
    print(f"load average at start (1, 5, 15 min): {_load()}")
    r = measure(args.cohorts, args.patients)
    e = r["evaluate"]
    print(f"CPU per evaluation (n = {args.patients}, every claim, median of {args.cohorts}): "
          f"{statistics.median(e):6.3f} s  (10-90 %: {_quantile(e, 0.1):.3f}-{_quantile(e, 0.9):.3f} s; "
          f"target <= {TARGET} s)")
    print(f"  not included: simulating a cohort {statistics.median(r['simulate']):.3f} s, "
          f"typing its tables (cohort_from_tables) {statistics.median(r['cohort']):.3f} s")
    print("where the time goes (median CPU seconds per chapter; derive counted where first computed):")
    parts = r["parts"]
    chapters = list(dict.fromkeys(ch for ch, _ in parts))
    for ch in sorted(chapters, key=lambda c: -parts[(c, "total")]):
        detail = ", ".join(f"{b} {parts[(c_, b)]:.3f}" for c_, b in parts if c_ == ch and b != "total"
                           and parts[(c_, b)] >= 0.0005)
        print(f"  {ch:<18s} {parts[(ch, 'total')]:6.3f} s  ({detail or 'nothing measurable'})")
    for bucket in ("derive", "second look", "paper's claims and verdicts", "ROC bootstrap"):
        sec = sum(v for (c, b), v in parts.items() if b == bucket)
        print(f"  all chapters, {bucket + ':':<30s} {sec:6.3f} s")
    print(f"load average at end (1, 5, 15 min): {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
