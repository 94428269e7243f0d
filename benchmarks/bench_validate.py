"""How long validating a large malformed (or valid) table takes, and how much memory it needs.

Writes a data folder into a temporary directory: the shipped synthetic ``patients.csv`` and ``adverse_events.csv``
and a large ``visits.csv``, then validates it in a fresh child process (``python -m analysis validate``) and
prints the wall-clock time, the child's CPU time and its peak resident memory (``ru_maxrss`` of the child).

Kinds of ``visits.csv``:

- ``junk`` (default): the right header, a random 6-character token in every cell (issue 20: must be refused
  within 60 s and 2 GiB);
- ``valid``: well-formed rows (patients P000001..., the design's weeks, plausible values);
- ``late-junk``: valid rows for the first half of the file, junk after it.

Examples::

    .venv/bin/python benchmarks/bench_validate.py                      # 200 MB of junk
    .venv/bin/python benchmarks/bench_validate.py --mb 1000            # 1 GB of junk
    .venv/bin/python benchmarks/bench_validate.py --kind valid --mb 300

A benchmark, not a test: nothing fails when a target is missed.
"""
from __future__ import annotations

import argparse
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.intake.dictionary import columns, design_weeks  # noqa: E402

ALPHABET = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)


def junk_block(rng, rows: int, ncols: int, width: int = 6) -> bytes:
    """``rows`` lines of ``ncols`` random ``width``-character tokens, comma-separated."""
    cell = width + 1
    a = ALPHABET[rng.integers(0, len(ALPHABET), size=(rows, ncols, cell))]
    a[:, :, width] = ord(",")
    a = a.reshape(rows, ncols * cell)
    a[:, -1] = ord("\n")
    return a.tobytes()


def valid_block(rng, start: int, rows: int, header: list[str]) -> bytes:
    """``rows`` valid visit rows starting at global row ``start`` (one patient per design week cycle)."""
    import pandas as pd

    weeks = np.array(design_weeks())
    k = np.arange(start, start + rows)
    spec = {c.name: c for c in columns("visits")}
    data = {}
    for name in header:
        c = spec[name]
        if name == "patient_id":
            data[name] = pd.Series(k // len(weeks)).map("P{:07d}".format)
        elif name == "week":
            data[name] = weeks[k % len(weeks)]
        else:
            lo = c.min if c.min is not None else 0.0
            hi = min(c.max if c.max is not None else lo + 100, lo + 50)
            if c.step:
                data[name] = np.round(rng.uniform(lo, hi, rows) / c.step) * c.step
            elif c.type == "int":
                data[name] = rng.integers(int(lo), int(hi) + 1, rows)
            else:
                data[name] = np.round(rng.uniform(max(lo, 1.0), hi, rows), 2)
    return pd.DataFrame(data).to_csv(index=False, header=False, lineterminator="\n").encode()


def patients_csv(n: int) -> bytes:
    """Valid patients P0000000 ... for ``n`` patients (both arms)."""
    import pandas as pd

    i = np.arange(n)
    return pd.DataFrame({"patient_id": pd.Series(i).map("P{:07d}".format),
                         "arm": np.where(i % 2, "MSCT", "control"), "age": 50, "sex": np.where(i % 3, "F", "M"),
                         "weight_kg": 60.5, "disease_duration_years": 7.5}).to_csv(index=False, lineterminator="\n").encode()


def write_folder(folder: Path, mb: float, kind: str, seed: int = 1) -> Path:
    folder.mkdir(parents=True)
    for name in ("patients.csv", "adverse_events.csv"):
        shutil.copy(ROOT / "data" / "synthetic" / name, folder / name)
    header = [c.name for c in columns("visits")]
    target = int(mb * 1e6)
    rng = np.random.default_rng(seed)
    written, row = 0, 0
    with open(folder / "visits.csv", "wb") as fh:
        line = (",".join(header) + "\n").encode()
        fh.write(line)
        written += len(line)
        while written < target:
            junk = kind == "junk" or (kind == "late-junk" and written >= target / 2)
            block = junk_block(rng, 50_000, len(header)) if junk else valid_block(rng, row, 200_000, header)
            block = block[: max(0, target - written)]
            block = block[: block.rfind(b"\n") + 1] if written + len(block) >= target else block
            if not block:
                break
            fh.write(block)
            written += len(block)
            row += block.count(b"\n")
    if kind != "junk":
        (folder / "patients.csv").write_bytes(patients_csv(-(-row // len(design_weeks()))))
        (folder / "adverse_events.csv").write_text(",".join(c.name for c in columns("adverse_events")) + "\n")
    return folder


def run(folder: Path) -> dict:
    """Validate ``folder`` in a child process; time, CPU and peak memory of the child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "analysis", "validate", str(folder)], cwd=ROOT,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"code": proc.returncode, "wall": wall, "cpu": cpu, "peak_mib": after.ru_maxrss / 1024,
            "message": (proc.stderr or proc.stdout).strip().splitlines()[:3]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mb", type=float, default=200.0, help="size of visits.csv in MB (default 200)")
    p.add_argument("--kind", choices=("junk", "valid", "late-junk"), default="junk")
    p.add_argument("--keep", action="store_true", help="keep the generated folder (its path is printed)")
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-validate-"))
    try:
        t0 = time.perf_counter()
        folder = write_folder(tmp / "data", args.mb, args.kind)
        size = (folder / "visits.csv").stat().st_size
        print(f"date: {time.strftime('%Y-%m-%d %H:%M')}; machine: {platform.machine()}, "
              f"Python {platform.python_version()}")
        print(f"visits.csv: {size / 1e6:,.0f} MB of {args.kind} (written in {time.perf_counter() - t0:.1f} s)")
        r = run(folder)
        print(f"validate: exit code {r['code']}, {r['wall']:.1f} s wall-clock (CPU {r['cpu']:.1f} s), "
              f"peak memory {r['peak_mib']:,.0f} MiB")
        for line in r["message"]:
            print(f"  {line[:300]}")
        if args.keep:
            print(f"kept: {folder}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
