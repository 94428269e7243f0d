"""Precompute the robustness result shipped with the book (``data/robustness/``), labelled with its provenance.

Usage (from the repository root; about 10 minutes on 2 cores)::

    .venv/bin/python tools/ship_robustness.py                      # 200 cohorts x every model + the multiverse
    .venv/bin/python tools/ship_robustness.py --cohorts 50 --workers 2

It runs ``python -m analysis robustness --cohorts K --seed S --models all --multiverse --multiverse-cohorts M --out
TMP`` (the command is recorded exactly), then copies :data:`FILES` into
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
FILES = ("claim_probability.csv", "verdicts.csv.gz", "operating_characteristics.csv", "multiverse.csv",
         "multiverse_flips.csv", "run.json")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cohorts", type=int, default=200, help="cohorts per model (default 200)")
    ap.add_argument("--seed", type=int, default=2018, help="master seed (default 2018)")
    ap.add_argument("--multiverse-cohorts", type=int, default=20,
                    help="calibrated cohorts of the single-choice multiverse (default 20)")
    ap.add_argument("--workers", type=int, default=None, help="Dask workers (default: CPU count)")
    ap.add_argument("--target", type=Path, default=ROOT / "data" / "robustness",
                    help="where the shipped result goes (default data/robustness)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    state = source_state()  # before this tool writes: whether the work tree was clean
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "analysis", "robustness", "--cohorts", str(args.cohorts), "--seed",
               str(args.seed), "--models", "all", "--multiverse", "--multiverse-cohorts", str(args.multiverse_cohorts),
               "--out", tmp]
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
    meta.update(shipped_with_book=True, **state, made_by="tools/ship_robustness.py")
    meta_path.write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"shipped robustness result written to {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
