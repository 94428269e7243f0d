"""Check that a change of code leaves a build's results byte-identical (apart from time stamps).

A refactoring must not change a single number. This script builds the book on a data folder and writes a
*manifest*: one SHA-256 per result file (``results/**``, ``claims.csv`` included; zip archives hashed member by
member, so the zip's own time stamps do not count) and one per executed notebook's outputs (each cell's outputs,
with time stamps and durations masked). Two manifests are then compared file by file.

Usage::

    python tools/compare_builds.py snapshot --data data/synthetic --out /tmp/a --manifest before.json
    # ... change the code ...
    python tools/compare_builds.py snapshot --data data/synthetic --out /tmp/b --manifest after.json
    python tools/compare_builds.py compare before.json after.json

``--variant NAME`` (instead of ``--data``) builds one of the variant folders of ``tests/variants.py``.
``compare`` prints ``IDENTICAL`` and exits 0, or lists every differing file and exits 1.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# what legitimately differs between two builds of the same data: wall-clock stamps and durations
_MASKS = [
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z| UTC)?"), "<TIME>"),
    (re.compile(r"\b\d+(\.\d+)?\s?(s|ms|seconds?)\b"), "<DURATION>"),
    (re.compile(r"/tmp/[^\s\"'<>]+"), "<TMP>"),
]
# a warning printed to a cell's stderr quotes the source file and line of the code that raised it: a move of code
# changes those, not the result (applied to stream outputs only: images are long strings full of slashes)
_SOURCE = re.compile(r"(?:/[\w.-]+)*/analysis/[\w/]+\.py:\d+")


def _mask(text: str) -> str:
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    return text


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_hash(path: Path) -> str:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            parts = [f"{info.filename}:{_sha(zf.read(info))}" for info in sorted(zf.infolist(), key=lambda i: i.filename)]
        return _sha("\n".join(parts).encode())
    data = path.read_bytes()
    if path.suffix in {".json", ".txt", ".md", ".html"}:
        return _sha(_mask(data.decode("utf-8", "replace")).encode())
    return _sha(data)


def _notebook_hashes(path: Path) -> dict[str, str]:
    nb = json.loads(path.read_text("utf-8"))
    out = {}
    for i, cell in enumerate(nb.get("cells", [])):
        outputs = cell.get("outputs")
        if not outputs:
            continue
        kept = []
        for o in outputs:
            o = {k: v for k, v in o.items() if k != "execution_count"}
            if o.get("output_type") == "stream":
                text = "".join(o.get("text", []))
                o["text"] = _SOURCE.sub("<SOURCE>", text)
            kept.append(o)
        text = json.dumps(kept, sort_keys=True)
        out[f"executed/{path.name}#cell{i}"] = _sha(_mask(text).encode())
    return out


def manifest(out_dir: Path) -> dict[str, str]:
    """One hash per result file and per executed cell's outputs of the build in ``out_dir``."""
    hashes: dict[str, str] = {}
    for path in sorted((out_dir / "results").rglob("*")):
        if path.is_file():
            hashes[str(path.relative_to(out_dir))] = _file_hash(path)
    for path in sorted((out_dir / "executed").glob("*.ipynb")):
        hashes.update(_notebook_hashes(path))
    return hashes


def _build(data: Path, out: Path) -> None:
    cmd = [sys.executable, "-m", "analysis", "build", "--data", str(data), "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"build failed on {data}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def _variant(name: str, dst: Path) -> Path:
    sys.path.insert(0, str(ROOT / "tests"))
    import variants  # noqa: PLC0415 (the test battery's variant folders)

    return variants.make(name, dst)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    snap = sub.add_parser("snapshot", help="build on a data folder and write its manifest")
    where = snap.add_mutually_exclusive_group()
    where.add_argument("--data", type=Path, default=ROOT / "data" / "synthetic", help="data folder (default: shipped cohort)")
    where.add_argument("--variant", help="a variant folder of tests/variants.py, made in a temporary folder")
    snap.add_argument("--out", type=Path, required=True, help="build output folder")
    snap.add_argument("--manifest", type=Path, required=True, help="JSON file to write")
    snap.add_argument("--no-build", action="store_true", help="only hash an existing build in --out")
    cmp_ = sub.add_parser("compare", help="compare two manifests")
    cmp_.add_argument("before", type=Path)
    cmp_.add_argument("after", type=Path)
    args = parser.parse_args(argv)

    if args.command == "snapshot":
        if not args.no_build:
            if args.variant:
                with tempfile.TemporaryDirectory() as tmp:
                    _build(_variant(args.variant, Path(tmp) / args.variant), args.out)
            else:
                _build(args.data, args.out)
        hashes = manifest(args.out)
        args.manifest.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n", "utf-8")
        print(f"{len(hashes)} hashes -> {args.manifest}")
        return 0

    before = json.loads(args.before.read_text("utf-8"))
    after = json.loads(args.after.read_text("utf-8"))
    differ = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    only_before = sorted(before.keys() - after.keys())
    only_after = sorted(after.keys() - before.keys())
    for label, keys in (("differs", differ), ("only before", only_before), ("only after", only_after)):
        for key in keys:
            print(f"{label}: {key}")
    if differ or only_before or only_after:
        print(f"DIFFERENT: {len(differ)} differ, {len(only_before)} only before, {len(only_after)} only after "
              f"(of {len(before)} before)")
        return 1
    print(f"IDENTICAL: {len(before)} hashes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
