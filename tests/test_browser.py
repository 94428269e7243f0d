"""The built site in a real browser (headless Chromium through playwright), served from 127.0.0.1 only.

The book is built once per session by the ``built_book`` fixture of ``tests/conftest.py`` (or reused from the
folder named by ``MSCT_BUILT_SITE``) and served with ``http.server`` on a free local port. For every page:
HTTP 200, no traceback or error output, every image loads, no request leaves the local server, no console
error, no horizontal scrolling at laptop width. Then: Sphinx search finds the glossary, the sidebar reaches
every chapter from the landing page, math renders from the local MathJax.

The layout (issue 22), every page at a desktop (1280×900) and a phone (390×844) screen: nothing covers the
book's title in the sidebar (``document.elementFromPoint`` at the title's corners and centre returns the title
or a descendant; on the phone after opening the navigation drawer), at most one search field is visible,
code cells do not hide code sideways; at 1280 px no table needs sideways scrolling (no scroll box around
it is wider inside than outside); at 390 px the page never scrolls sideways and every table stays within the
screen (it scrolls inside its own box). A screenshot of each page at each width is saved under
``OUT/screenshots/<page>-<width>.png`` (``make screenshots`` writes the full set without running the tests).

Chromium is Debian's ``/usr/bin/chromium`` (``apt-get install -y chromium``); nothing is downloaded. Without it
the tests are skipped with that reason.
"""
from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urljoin, urlsplit

import pytest

from analysis.core.chapters import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORT = {"width": 1366, "height": 900}  # a common laptop screen

try:
    import playwright.sync_api  # noqa: F401

    _HAVE_PLAYWRIGHT = True
except ImportError:  # pragma: no cover
    _HAVE_PLAYWRIGHT = False

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)"),
    pytest.mark.skipif(not _HAVE_PLAYWRIGHT, reason="the Python package playwright is not installed"),
]

#: pages every build has; chapters are added when their notebook exists
STATIC_PAGES = ("intro", "glossary", "references", "instructor_guide", "data_dictionary",
                "guide_own_trial", "guide_claims", "guide_robustness", "guide_errors")


def chapter_names() -> list[str]:
    return [c.name for c in CHAPTERS if (ROOT / "book" / c.notebook).exists()]


def expected_pages() -> list[str]:
    """Site-relative paths of every page the tests open (decided from the sources, before the build)."""
    return ["index.html"] + [f"book/{name}.html" for name in chapter_names() + list(STATIC_PAGES)]


# ------------------------------------------------------------------------------------------------ fixtures
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="session")
def site(built_book):
    """Serve ``OUT/html`` on 127.0.0.1 (free port) in a thread for the whole session."""
    html = built_book / "html"
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield SimpleNamespace(out=built_book, html=html, base=f"http://{host}:{port}/", netloc=f"{host}:{port}")
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Visit:
    """One browser tab that records every request, console error and page error."""

    def __init__(self, browser, site):
        self.site = site
        self.context = browser.new_context(viewport=VIEWPORT, service_workers="block")
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("response", lambda r: self.errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)

    def foreign(self) -> list[str]:
        """Requests to anything but the local server (data: and blob: URLs stay in the page)."""
        return [u for u in self.requests
                if urlsplit(u).scheme not in {"data", "blob", "about"} and urlsplit(u).netloc != self.site.netloc]

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, site):
    v = Visit(browser, site)
    yield v
    v.close()


# ------------------------------------------------------------------------------------------------ JavaScript
_LOAD_IMAGES = """async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = "eager"; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  return imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute("src"));
}"""

_ERROR_OUTPUT = """() => {
  const bad = document.querySelectorAll(".output.stderr, .output.traceback, .output_error, .output.error");
  const text = document.body.innerText;
  return {elements: bad.length, traceback: text.includes("Traceback (most recent call last)")};
}"""


# ------------------------------------------------------------------------------------------------ tests
def test_every_built_page_is_checked(site):
    """No page of the site escapes the per-page test below."""
    built = {p.relative_to(site.html).as_posix() for p in site.html.rglob("*.html")
             if "_static" not in p.parts and p.name not in {"search.html", "genindex.html"}}
    assert built == set(expected_pages()), (f"pages built but not checked: {sorted(built - set(expected_pages()))}; "
                                            f"checked but not built: {sorted(set(expected_pages()) - built)}")


@pytest.mark.parametrize("rel", expected_pages())
def test_page_loads_cleanly_offline(site, visit, rel):
    response = visit.page.goto(urljoin(site.base, rel), wait_until="load")
    assert response is not None and response.status == 200, f"{rel}: HTTP {response and response.status}"
    visit.page.wait_for_load_state("networkidle")
    broken = visit.page.evaluate(_LOAD_IMAGES)
    assert not broken, f"{rel}: images that did not load: {broken}"
    shown = visit.page.evaluate(_ERROR_OUTPUT)
    assert shown["elements"] == 0 and not shown["traceback"], f"{rel}: error output rendered: {shown}"
    visit.page.wait_for_load_state("networkidle")
    assert not visit.foreign(), f"{rel}: requests left the machine: {visit.foreign()}"
    assert not visit.errors, f"{rel}: console errors: {visit.errors}"
    overflow = visit.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{rel}: page scrolls sideways by {overflow}px at {VIEWPORT['width']}px width"


def test_figures_are_legible_at_laptop_width(site, visit):
    """Figures of the chapters are shown at least 500 px wide (or their natural size) and fit the page."""
    for name in chapter_names():
        visit.page.goto(urljoin(site.base, f"book/{name}.html"), wait_until="load")
        visit.page.evaluate(_LOAD_IMAGES)
        sizes = visit.page.evaluate("""() => Array.from(document.querySelectorAll("article figure img")).map(i => ({
            src: i.getAttribute("src"), shown: i.getBoundingClientRect().width, natural: i.naturalWidth,
            right: i.getBoundingClientRect().right, article: i.closest("article").getBoundingClientRect().right}))""")
        for s in sizes:
            assert s["shown"] >= min(500, s["natural"]) - 1, f"{name}: figure {s['src']} shown only {s['shown']}px wide"
            assert s["right"] <= s["article"] + 1, f"{name}: figure {s['src']} overflows the text column"


def test_math_renders_from_local_mathjax(site, visit):
    visit.page.goto(urljoin(site.base, "book/glossary.html"), wait_until="load")
    visit.page.wait_for_selector("mjx-container", timeout=20_000)
    assert visit.page.locator("mjx-container").count() > 0
    assert any("/_static/mathjax/" in u for u in visit.requests), "MathJax was not loaded from the site"
    assert not visit.foreign(), f"requests left the machine: {visit.foreign()}"


def test_search_finds_the_glossary(site, visit):
    visit.page.goto(urljoin(site.base, "search.html?q=DAS28"), wait_until="load")
    visit.page.wait_for_selector("#search-results ul.search li", timeout=20_000)
    hits = visit.page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
    assert any(h.split("#")[0].endswith("book/glossary.html") for h in hits), f"search for DAS28 gave {hits}"
    assert not visit.foreign(), f"requests left the machine: {visit.foreign()}"


def test_sidebar_reaches_every_chapter_from_the_landing_page(site, visit):
    """Follow the sidebar links, starting at the landing page, until no new page appears."""
    visit.page.goto(urljoin(site.base, "index.html"), wait_until="load")
    visit.page.wait_for_url("**/book/intro.html", timeout=10_000)  # index.html redirects to the landing page
    seen: set[str] = set()
    todo = [visit.page.url.split("#")[0]]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        response = visit.page.goto(url, wait_until="load")
        assert response is not None and response.status == 200, f"{url}: HTTP {response and response.status}"
        links = visit.page.eval_on_selector_all("nav.bd-docs-nav a.reference.internal", "els => els.map(e => e.href)")
        todo += [h.split("#")[0] for h in links if urlsplit(h).netloc == site.netloc]
    reached = {urlsplit(u).path.lstrip("/") for u in seen}
    missing = [f"book/{n}.html" for n in chapter_names() + list(STATIC_PAGES) if f"book/{n}.html" not in reached]
    assert not missing, f"not reachable through the sidebar: {missing}"


# ------------------------------------------------------------------------------------------------ layout (issue 22)
#: (width, height) of the screens the layout is checked on: a desktop and a phone
SCREENS = {"desktop": (1280, 900), "phone": (390, 844)}

_LAYOUT = """() => {
  const visible = e => {
    const r = e.getBoundingClientRect();
    if (r.width < 1 || r.height < 1 || r.right <= 0 || r.left >= innerWidth) return false;  // empty or off-canvas
    for (let a = e; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.display === "none" || s.visibility === "hidden" || s.opacity === "0") return false;
    }
    return true;
  };
  const describe = e => e ? e.tagName.toLowerCase() + (e.className && e.className.toString ? "." +
      e.className.toString().trim().split(/\\s+/).slice(0, 3).join(".") : "") : "nothing";
  const out = {};
  // the book's title in the sidebar: whatever is at its corners and centre must be the title itself
  const title = Array.from(document.querySelectorAll(".navbar-brand")).find(visible);
  if (title) {
    const r = title.getBoundingClientRect();
    out.title = {top: r.top, bottom: r.bottom, text: title.innerText.trim().split("\\n")[0]};
    const pts = [[r.left + 3, r.top + 3], [r.right - 3, r.top + 3], [r.left + r.width / 2, r.top + r.height / 2],
                 [r.left + 3, r.bottom - 3], [r.right - 3, r.bottom - 3]];
    out.covered = pts.map(([x, y]) => {
      const e = document.elementFromPoint(x, y);
      return e && (e === title || title.contains(e)) ? null : `(${Math.round(x)}, ${Math.round(y)}): ${describe(e)}`;
    }).filter(Boolean);
  }
  // search fields (a field or a search button; nested matches count once)
  const found = Array.from(document.querySelectorAll(
      "input[type=search], input[name=q], .search-button-field, button.search-button, form.bd-search, #searchbox"))
    .filter(visible);
  out.search = found.filter(e => !found.some(o => o !== e && o.contains(e))).map(describe);
  // tables: every scroll box from the table up to the article must fit its content
  const article = document.querySelector("article.bd-article") || document.body;
  out.tables = [];
  article.querySelectorAll("table").forEach(t => {
    const wrap = t.closest(".msct-table-wrap");
    const cap = wrap && wrap.querySelector(".msct-caption");
    const name = (cap ? cap.innerText : t.innerText).trim().slice(0, 70);
    let box = null;
    for (let a = t.parentElement; a && a !== article.parentElement; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX !== "visible") {
        box = box || a;
        if (a.scrollWidth > a.clientWidth + 1)
          out.tables.push({table: name, box: describe(a), inside: a.scrollWidth, outside: a.clientWidth});
      }
    }
    const r = (box || t).getBoundingClientRect();
    if (r.right > innerWidth + 1 || r.left < -1)
      out.tables.push({table: name, box: describe(box || t), leaves_screen: [Math.round(r.left), Math.round(r.right)]});
  });
  // code: no cell hides code sideways
  out.code = Array.from(article.querySelectorAll("pre")).filter(p => p.scrollWidth > p.clientWidth + 1)
    .map(p => p.innerText.trim().split("\\n")[0].slice(0, 60));
  out.page_overflow = document.documentElement.scrollWidth - innerWidth;
  return out;
}"""


#: unfold collapsed solutions and boxes (not the per-row "details" cells of result tables: one is read at a time)
_EXPAND = """() => {
  document.querySelectorAll(".toggle-hidden").forEach(e => e.classList.remove("toggle-hidden"));
  document.querySelectorAll("details:not([open])").forEach(d => { if (!d.closest("td")) d.open = true; });
}"""


@pytest.fixture(params=list(SCREENS), scope="module")
def screen(request, browser):
    """One browser tab per screen size, reused for every page."""
    width, height = SCREENS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height}, service_workers="block")
    page = context.new_page()
    page.screen_name, page.screen_width = request.param, width
    yield page
    context.close()


def _open_drawer(page) -> bool:
    """On a narrow screen, open the navigation drawer (where the title is); True when it opened."""
    toggle = page.locator(".bd-header-article button.primary-toggle, button.primary-toggle").first
    if not toggle.count() or not toggle.is_visible():
        return False
    toggle.click()
    page.wait_for_timeout(600)  # the drawer slides in
    return True


@pytest.mark.parametrize("rel", expected_pages())
def test_layout_on_desktop_and_phone(site, screen, rel):
    page, width = screen, screen.screen_width
    page.goto(urljoin(site.base, rel), wait_until="load")
    page.wait_for_load_state("networkidle")
    page.evaluate(_LOAD_IMAGES)
    where = f"{rel} at {width}px"
    shots = site.out / "screenshots"
    shots.mkdir(exist_ok=True)
    name = Path(rel).with_suffix("").as_posix().replace("/", "_").removeprefix("book_")
    page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=name in chapter_names())
    page.evaluate(_EXPAND)  # what a reader can unfold is checked too (solutions, provenance, ...)
    result = page.evaluate(_LAYOUT)

    assert len(result["search"]) <= 1, f"{where}: {len(result['search'])} search fields visible: {result['search']}"
    assert not result["code"], f"{where}: code cut off or scrolled sideways in {len(result['code'])} cells: " \
                               f"{result['code'][:3]}"
    if screen.screen_name == "desktop":
        assert result.get("title"), f"{where}: the book's title is not visible in the sidebar"
        assert result["title"]["top"] >= 0 and result["title"]["bottom"] <= 900, \
            f"{where}: the book's title is not wholly on screen: {result['title']}"
        assert not result["covered"], f"{where}: the title {result['title']['text']!r} is covered at {result['covered']}"
        assert not result["tables"], f"{where}: {len(result['tables'])} tables need sideways scrolling: " \
                                     f"{result['tables'][:4]}"
    else:
        assert result["page_overflow"] <= 1, f"{where}: the page scrolls sideways by {result['page_overflow']}px"
        leaving = [t for t in result["tables"] if "leaves_screen" in t]
        assert not leaving, f"{where}: tables that leave the screen instead of scrolling in their box: {leaving[:4]}"
        if _open_drawer(page):
            opened = page.evaluate(_LAYOUT)
            assert opened.get("title"), f"{where}: the navigation drawer shows no title"
            assert not opened["covered"], f"{where}: in the drawer, the title is covered at {opened['covered']}"
            assert len(opened["search"]) <= 1, f"{where}: with the drawer open, search fields: {opened['search']}"
