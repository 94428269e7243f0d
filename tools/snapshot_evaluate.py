"""Check that a change of code leaves the headless evaluation of every claim identical, cohort by cohort.

``tools/compare_builds.py`` compares whole builds of one data folder; this script compares what the robustness
runs compute: every claim's full row (``reproduced`` value, verdict, rule, basis …) from
:func:`analysis.scorecard.evaluate.evaluate_all` on simulated cohorts under several models and parameter
sets, and the verdict table of :func:`analysis.scorecard.robustness.evaluate_batch` (seconds dropped).

Usage::

    python tools/snapshot_evaluate.py snapshot before.pkl          # on the code before the change
    # ... change the code ...
    python tools/snapshot_evaluate.py snapshot after.pkl
    python tools/snapshot_evaluate.py compare before.pkl after.pkl

``--cohorts K`` (default 10), ``--models a,b`` (default calibrated, null_treatment, null_ifng, null_mechanism,
time_null). ``compare`` prints ``IDENTICAL`` and exits 0, or the differing rows and exits 1.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as in every Dask worker (before NumPy is imported)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODELS = ("calibrated", "null_treatment", "null_ifng", "null_mechanism", "time_null")
#: parameter sets judged on the calibrated cohorts besides the notebooks' defaults
PARAMS = ({"alpha": 0.01}, {"das28_variant": "crp"}, {"lloq_rule": "half"})


def snapshot(cohorts: int, models) -> dict:
    import pandas as pd

    from analysis.scorecard import robustness as rb
    from analysis.scorecard.evaluate import cohort_from_tables, evaluate_all

    claims, batches = [], []
    for model in models:
        seeds = [(k, rb.cohort_seed(2026, k)) for k in range(cohorts)]
        batches.append(rb.evaluate_batch(model, seeds, all_chapters=True).drop(columns="seconds"))
        for k, seed in seeds:
            cohort = cohort_from_tables(rb.model_tables(model, seed))
            sets = [{}] + (list(PARAMS) if model == "calibrated" and k < 3 else [])
            for params in sets:
                t = evaluate_all(cohort, params or None)
                claims.append(t.assign(model=model, cohort=k, params=repr(params)))
    return {"claims": pd.concat(claims, ignore_index=True), "verdicts": pd.concat(batches, ignore_index=True)}


def compare(a: dict, b: dict) -> list[str]:
    import pandas as pd

    out = []
    for key in ("verdicts", "claims"):
        x, y = a[key].astype(str), b[key].astype(str)
        if x.shape != y.shape or list(x.columns) != list(y.columns):
            out.append(f"{key}: shape {x.shape} vs {y.shape}")
            continue
        diff = (x != y).any(axis=1)
        for i in diff[diff].index[:50]:
            cols = [c for c in x.columns if x.at[i, c] != y.at[i, c]]
            out.append(f"{key} row {i}: " + "; ".join(f"{c}: {x.at[i, c]!r} -> {y.at[i, c]!r}" for c in cols)
                       + f"  [{x.at[i, 'claim_id']}]")
        if diff.sum() > 50:
            out.append(f"{key}: … {int(diff.sum())} rows differ")
    _ = pd
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("snapshot")
    s.add_argument("path")
    s.add_argument("--cohorts", type=int, default=10)
    s.add_argument("--models", default=",".join(MODELS))
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    args = ap.parse_args(argv)
    import pandas as pd

    if args.cmd == "snapshot":
        snap = snapshot(args.cohorts, args.models.split(","))
        pd.to_pickle(snap, args.path)
        snap["verdicts"].to_csv(str(args.path).rsplit(".", 1)[0] + ".csv", index=False)
        print(f"{len(snap['claims'])} claim rows, {len(snap['verdicts'])} verdict rows -> {args.path}")
        return 0
    problems = compare(pd.read_pickle(args.before), pd.read_pickle(args.after))
    print("\n".join(problems) if problems else "IDENTICAL")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
