"""What a shipped precomputed result records about the source it was made from (shared by ``tools/ship_*.py``)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.core.provenance import hash_files  # noqa: E402


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def source_state() -> dict:
    """The commit, whether tracked files had uncommitted changes, and the hash of the claims registry."""
    return {"commit": _git("rev-parse", "HEAD") or "unknown",
            "uncommitted_changes": bool(_git("status", "--porcelain", "--untracked-files=no")),
            "registry_hash": hash_files(sorted((ROOT / "data" / "published" / "claims").glob("*.csv")))}
