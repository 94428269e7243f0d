"""Precompute the claims table of the default build shipped with the book (``data/default_build/``).

Usage (from the repository root; about a minute and a half on 2 cores)::

    .venv/bin/python tools/ship_default_build.py

It runs ``python -m analysis build --out TMP`` (the shipped synthetic cohort, every parameter at its default),
then copies ``TMP/results/claims.csv`` into ``data/default_build/claims.csv`` and writes ``run.json`` beside
it: the command, the date, the git commit it was computed on (and whether the work tree had uncommitted
changes), the data folder and its hash (:func:`analysis.intake.io.fingerprint`) and a hash of the claims
registry. The scorecard of a build on other data compares its verdicts with this table
(:mod:`analysis.scorecard.compare`); so does ``python -m analysis compare shipped OUT``.
``tests/test_compare.py`` checks that the table holds the registry's claims and the verdicts the chapters'
code gives on the default data today, so a change of a verdict asks for a refresh.
"""
from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from shipping import source_state  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", type=Path, default=ROOT / "data" / "default_build",
                    help="where the shipped table goes (default data/default_build)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from analysis.core import paths
    from analysis.intake.io import fingerprint

    state = source_state()  # before this tool changes the target: whether the work tree was clean
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "analysis", "build", "--out", tmp], cwd=ROOT, check=True)
        args.target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(tmp) / "results" / "claims.csv", args.target / "claims.csv")
    data = paths.default_data_dir()
    run = {
        "command": "python -m analysis build",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "data_folder": data.relative_to(ROOT).as_posix(),
        "data_hash": fingerprint(data),
        "params": {},
        **state,
        "made_by": "tools/ship_default_build.py",
    }
    (args.target / "run.json").write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
    print(f"shipped default build's claims written to {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
