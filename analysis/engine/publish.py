"""Publishing a build: the output folder's lock, the downloads, and the swap of the new site into place.

Until :func:`publish` the previous site is untouched; the swap itself is not interrupted by Ctrl-C
(:class:`DeferInterrupts`).
"""
from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

from analysis.core.chapters import Chapter
from analysis.core.errors import BuildError

__all__ = ["DOWNLOADS_EXTRA", "DeferInterrupts", "Lock", "publish", "write_downloads"]


class Lock:
    """An exclusive lock file in the output folder (stale locks of dead processes are taken over)."""

    def __init__(self, out: Path):
        self.path = out / ".build.lock"
        self.fd = None

    def __enter__(self):
        for _ in range(2):
            try:
                self.fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                os.write(self.fd, f"{os.getpid()} {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
                return self
            except FileExistsError:
                try:
                    pid_text = self.path.read_text().split()
                    pid = int(pid_text[0])
                    os.kill(pid, 0)
                except (ProcessLookupError, ValueError, IndexError):
                    self.path.unlink(missing_ok=True)  # stale: its process is gone
                    continue
                except PermissionError:
                    pass
                raise BuildError(f"Another build is running on {self.path.parent} (process {pid_text[0]}, started "
                                 f"{' '.join(pid_text[1:])}). Wait for it to finish; if no build is running, "
                                 f"delete {self.path}.") from None
        raise BuildError(f"Could not take the build lock {self.path}.")

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)
            self.path.unlink(missing_ok=True)


class DeferInterrupts:
    """Hold Ctrl-C / SIGTERM while the new site is swapped into place (publishing is all or nothing).

    A signal received meanwhile is remembered in ``received``; the swap completes. Only effective in the
    main thread (elsewhere signal handlers cannot be changed and this does nothing).
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.received: list[int] = []
        self.previous: dict[int, object] = {}

    def __enter__(self):
        import threading

        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self.previous[sig] = signal.signal(sig, lambda signum, frame: self.received.append(signum))
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        return False


def publish(stage: Path, out: Path) -> None:
    """Swap the staged html/, results/ and executed/ into ``out`` (rename, then remove the old copies)."""
    pairs = [(stage / "_build" / "html", out / "html"), (stage / "results", out / "results"),
             (stage / "executed", out / "executed")]
    olds = []
    for new, final in pairs:
        if final.exists():
            old = stage / f"old-{final.name}"
            os.replace(final, old)
            olds.append(old)
        os.replace(new, final)


#: folder of the staging area copied verbatim into the site (``html_extra_path`` in _config.yml): it holds
#: ``downloads/`` (each chapter's results as a zip, the collected claims.csv), linked from the pages
DOWNLOADS_EXTRA = "_site_extra"
#: every zip entry gets this time stamp, so the same results give byte-identical zips
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def write_downloads(results_dir: Path, extra_dir: Path, chapters: list[Chapter]) -> list[Path]:
    """Write ``downloads/<chapter>-results.zip`` (the chapter's result CSVs and figures) and ``downloads/claims.csv``.

    Runs in the staging folder after the chapters and before the render, so the site's links resolve when
    Sphinx copies ``extra_dir`` into the site. Zips are deterministic (sorted entries, fixed time stamps).
    Returns the files written.

    Examples
    --------
    >>> import tempfile
    >>> from analysis.core.chapters import CHAPTERS
    >>> tmp = Path(tempfile.mkdtemp())
    >>> (tmp / "results" / "safety" / "figures").mkdir(parents=True)
    >>> _ = (tmp / "results" / "safety" / "claims.csv").write_text("claim_id\\n")
    >>> [p.name for p in write_downloads(tmp / "results", tmp / "extra", [CHAPTERS[0]])]
    ['safety-results.zip']
    """
    import zipfile

    out = Path(extra_dir) / "downloads"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for c in chapters:
        folder = Path(results_dir) / c.name
        if not folder.is_dir():
            continue
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in {".csv", ".png", ".svg"})
        target = out / f"{c.name}-results.zip"
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in files:
                info = zipfile.ZipInfo(f"{c.name}/{path.relative_to(folder).as_posix()}", date_time=_ZIP_TIME)
                info.external_attr = 0o644 << 16
                # a PNG is compressed already: deflating it again costs CPU (~0.2 s a build) and saves nothing
                info.compress_type = zipfile.ZIP_STORED if path.suffix == ".png" else zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
        written.append(target)
    claims = Path(results_dir) / "claims.csv"
    if claims.is_file():
        shutil.copy2(claims, out / "claims.csv")
        written.append(out / "claims.csv")
    return written
