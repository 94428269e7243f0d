"""Screenshots of every page of a built book at desktop (1280 px) and phone (390 px) width, for reviewers.

Usage: ``python tools/screenshots.py [OUT]`` (``make screenshots``; OUT defaults to ``_build``). Serves
``OUT/html`` on 127.0.0.1 only, opens each page in Debian's headless Chromium (``/usr/bin/chromium``, driven by
playwright; nothing is downloaded) and writes ``OUT/screenshots/<page>-<width>.png`` (whole page) and
``<page>-<width>-top.png`` (the first screen). Exit code 2 with a one-line reason when the site or Chromium
is missing.
"""
from __future__ import annotations

import functools
import http.server
import sys
import threading
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: (width, height) of the screens: a desktop and a phone
SIZES = ((1280, 900), (390, 844))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def pages(html: Path) -> list[str]:
    """Site-relative paths of the book's pages (not Sphinx's search/index pages, not redirects)."""
    out = []
    for p in sorted(html.rglob("*.html")):
        rel = p.relative_to(html)
        if "_static" in rel.parts or p.name in {"search.html", "genindex.html"}:
            continue
        if 'http-equiv="Refresh"' in p.read_text("utf-8", errors="replace")[:2000]:
            continue
        out.append(rel.as_posix())
    return out


def take(out: Path) -> list[Path]:
    """Write the screenshots of ``out/html`` into ``out/screenshots``; returns the files written."""
    from playwright.sync_api import sync_playwright

    html = out / "html"
    handler = functools.partial(_Quiet, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    shots = out / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for width, height in SIZES:
                    context = browser.new_context(viewport={"width": width, "height": height},
                                                  service_workers="block")
                    page = context.new_page()
                    for rel in pages(html):
                        page.goto(base + rel, wait_until="load")
                        page.wait_for_load_state("networkidle")
                        name = Path(rel).with_suffix("").as_posix().replace("/", "_").removeprefix("book_")
                        for suffix, full in (("", True), ("-top", False)):
                            path = shots / f"{name}-{width}{suffix}.png"
                            page.screenshot(path=str(path), full_page=full)
                            written.append(path)
                    context.close()
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return written


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "_build").resolve()
    if not (out / "html" / "index.html").exists():
        print(f"screenshots: no built site in {out / 'html'}; build it first (make book).", file=sys.stderr)
        return 2
    if not CHROMIUM.exists():
        print("screenshots: Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium).",
              file=sys.stderr)
        return 2
    try:
        import playwright  # noqa: F401
    except ImportError:
        print("screenshots: the Python package playwright is missing (make install).", file=sys.stderr)
        return 2
    written = take(out)
    print(f"{len(written)} screenshots in {out / 'screenshots'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
