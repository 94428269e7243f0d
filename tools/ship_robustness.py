"""Precompute the robustness result shipped with the book (``data/robustness/``), labelled with its provenance.

Usage (from the repository root; about 10 minutes on 2 cores)::

    .venv/bin/python tools/ship_robustness.py                      # 200 cohorts x 3 models + the multiverse
    .venv/bin/python tools/ship_robustness.py --cohorts 50 --workers 2

It runs ``python -m analysis robustness --cohorts K --seed S --multiverse --out TMP`` (the command is recorded
exactly), then copies ``claim_probability.csv``, ``verdicts.csv.gz``, ``multiverse.csv`` and ``run.json`` into
``data/robustness/``, adding to ``run.json``: ``shipped_with_book: true``, the git commit it was computed on
(and whether the work tree had uncommitted changes) and a hash of the claims registry. The command itself
records the data each part stands for (``cohorts_data_hash``, ``multiverse_data_hash``: the hash of
``data/synthetic``'s files), so the scorecard attaches its flags only to builds on those data. The default
``make book`` shows this result on the scorecard when no newer one is given (``--robustness DIR`` or a run
written to ``OUT/results/robustness``; ``--robustness shipped`` returns to it); ``tests/test_robustness.py`` checks that it covers exactly the
registry's claims, so a changed registry asks for a new run.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from shipping import source_state  # noqa: E402
FILES = ("claim_probability.csv", "verdicts.csv.gz", "multiverse.csv", "run.json")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cohorts", type=int, default=200, help="cohorts per model (default 200)")
    ap.add_argument("--seed", type=int, default=2018, help="master seed (default 2018)")
    ap.add_argument("--workers", type=int, default=None, help="Dask workers (default: CPU count)")
    ap.add_argument("--target", type=Path, default=ROOT / "data" / "robustness",
                    help="where the shipped result goes (default data/robustness)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "analysis", "robustness", "--cohorts", str(args.cohorts), "--seed",
               str(args.seed), "--multiverse", "--out", tmp]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        subprocess.run(cmd, cwd=ROOT, check=True)
        source = Path(tmp) / "results" / "robustness"
        args.target.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            if (source / name).is_file():
                shutil.copy2(source / name, args.target / name)
    meta_path = args.target / "run.json"
    meta = json.loads(meta_path.read_text("utf-8"))
    # the recorded command names the temporary folder; say what to run instead
    meta["command"] = meta["command"].replace(f"--out {tmp}", "--out DIR")
    meta.update(shipped_with_book=True, **source_state(), made_by="tools/ship_robustness.py")
    meta_path.write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"shipped robustness result written to {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
