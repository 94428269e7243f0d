"""Write an example data folder: the tables as CSV and its ``dataset.yaml`` (shared by the ``make_*.py`` scripts here).

The scripts refuse to overwrite a folder that already holds the example unless ``--overwrite`` is given.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

import pandas as pd

TABLES = ("patients.csv", "visits.csv", "adverse_events.csv", "dataset.yaml")


def main_for(description: str, default_out: Path, tables: Callable[[], dict[str, pd.DataFrame]],
             dataset_yaml: Callable[[], str], argv=None) -> int:
    """Parse ``--out``/``--overwrite`` and write ``tables()`` as CSV and ``dataset_yaml()`` into the folder.

    Returns the exit code (2 when the folder holds the example already and ``--overwrite`` was not given).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default=str(default_out))
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if any((out / n).exists() for n in TABLES) and not args.overwrite:
        print(f"{out} already holds the example; pass --overwrite to write it again", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables().items():
        df.to_csv(out / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")
    (out / "dataset.yaml").write_text(dataset_yaml(), encoding="utf-8", newline="\n")
    return 0
