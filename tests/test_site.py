"""Static checks of the built site (no browser): pages, tables, figures, offline assets, footer, banner.

The book is built once per session by the ``built_book`` fixture of ``tests/conftest.py`` (or reused from
``MSCT_BUILT_SITE``). What is checked comes from the issue "What a reader gets": every chapter page exists with
its tables and figures, figures are numbered and captioned, parameters cells are hidden, no page loads a
script or stylesheet from another host, the footer names the project and links the paper's DOI, and a build
on the default (synthetic) data says so on every page.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from analysis.core import paths
from analysis.core.chapters import CHAPTERS

bs4 = pytest.importorskip("bs4")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DOI = "10.1186/s12967-018-1541-4"
PROJECT = "msct-ra-book"
#: pages every build has, besides the chapter notebooks
STATIC_PAGES = ("intro", "glossary", "references", "instructor_guide", "data_dictionary",
                "guide_own_trial", "guide_claims", "guide_robustness", "guide_errors")
#: the user guide ("Using this book" in the sidebar): page -> (title, a word of that page the search must know)
GUIDE = {
    "guide_own_trial": ("Rerun on your own trial", "sas7bdat"),
    "guide_claims": ("How a claim is judged", "tost"),
    "guide_robustness": ("How sure is each verdict (robustness, Dask)", "localclust"),
    "guide_errors": ("When something goes wrong", "hkid"),
}
GLOSSARY_TERMS = (
    "DAS28", "EULAR response", "HAQ-DI", "ESR", "CRP", "anti-CCP", "RF", "Treg", "Th17", "MSC", "MSCT", "UC-MSC",
    "IDO", "GVHD", "LLOQ", "SEM vs SD", "Bonferroni", "Hedges g", "Wilson interval", "ROC/AUC", "Youden J",
    "IL-1β", "IL-2R", "IL-6", "IL-8", "IL-10", "TNF-α", "IFN-γ",
)


# ------------------------------------------------------------------------------------------------ helpers
def chapters_in_book() -> list:
    """Chapters whose notebook exists in book/ (the build leaves missing ones out of the toc)."""
    return [c for c in CHAPTERS if (ROOT / "book" / c.notebook).exists()]


def is_redirect(path: Path) -> bool:
    """Jupyter Book's root index.html only redirects to the landing page."""
    return 'http-equiv="Refresh"' in path.read_text("utf-8")[:2000]


def html_pages(html: Path) -> list[Path]:
    """Every page of the site (not Sphinx's search and index pages, not theme templates, not redirects)."""
    return sorted(p for p in html.rglob("*.html")
                  if "_static" not in p.relative_to(html).parts and p.name not in {"search.html", "genindex.html"}
                  and not is_redirect(p))


def soup(path: Path):
    return bs4.BeautifulSoup(path.read_text("utf-8"), "html.parser")


def article(page):
    """The main content of a page (without sidebars, header and footer)."""
    return page.select_one("article.bd-article") or page.select_one("main") or page


def is_remote(url: str) -> bool:
    return url.startswith("//") or urlsplit(url).scheme in {"http", "https"} or "cdn." in url


@pytest.fixture(scope="module")
def html(built_book) -> Path:
    return built_book / "html"


# ------------------------------------------------------------------------------------------------ pages
def test_every_chapter_and_reference_page_exists(html):
    expected = [c.name for c in chapters_in_book()] + list(STATIC_PAGES)
    missing = [name for name in expected if not (html / "book" / f"{name}.html").exists()]
    assert not missing, f"pages missing from the site: {missing}"
    assert (html / "index.html").exists()


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS], ids=[c.name for c in CHAPTERS])
def test_chapter_shows_its_tables_and_figures(html, built_book, chapter):
    if not (ROOT / "book" / chapter.notebook).exists():
        pytest.skip(f"book/{chapter.notebook} is not written yet")
    page = article(soup(html / "book" / f"{chapter.name}.html"))
    assert page.select("table.msct-table"), f"{chapter.name}: no table (class msct-table) on the page"
    # every figure the chapter saved is shown on its page
    saved = sorted((built_book / "results" / chapter.name / "figures").glob("*.png"))
    shown = page.select("img")
    assert len(shown) >= len(saved), (f"{chapter.name}: {len(saved)} figures saved in results/, only "
                                      f"{len(shown)} images on the page")
    if chapter.uses_data or chapter.name == "scorecard":
        assert shown, f"{chapter.name}: no figure on the page"


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS], ids=[c.name for c in CHAPTERS])
def test_figures_are_numbered_and_captioned(html, chapter):
    if not (ROOT / "book" / chapter.notebook).exists():
        pytest.skip(f"book/{chapter.notebook} is not written yet")
    page = article(soup(html / "book" / f"{chapter.name}.html"))
    for img in page.select("img"):
        figure = img.find_parent("figure")
        assert figure is not None, f"{chapter.name}: image {img.get('src')} is not in a numbered figure"
        number = figure.select_one(".caption-number")
        caption = figure.select_one("figcaption")
        assert number is not None and number.get_text(strip=True).startswith("Fig"), \
            f"{chapter.name}: figure {figure.get('id')} has no figure number"
        text = caption.get_text(" ", strip=True).replace(number.get_text(" ", strip=True), "")
        assert len(text) > 20, f"{chapter.name}: figure {figure.get('id')} has no real caption ({text!r})"


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS], ids=[c.name for c in CHAPTERS])
def test_parameter_cells_are_hidden(html, chapter):
    if not (ROOT / "book" / chapter.notebook).exists():
        pytest.skip(f"book/{chapter.notebook} is not written yet")
    text = (html / "book" / f"{chapter.name}.html").read_text("utf-8")
    assert "tag_parameters" not in text and "tag_injected-parameters" not in text
    code = " ".join(pre.get_text() for pre in article(soup(html / "book" / f"{chapter.name}.html")).select("pre"))
    assert not re.search(r"^\s*output_dir\s*=", code, re.M), f"{chapter.name}: a parameters cell is shown"


def test_no_error_output_in_any_page(html):
    for path in html_pages(html):
        page = article(soup(path))
        assert not page.select(".output.stderr, .output.traceback, .output_error"), \
            f"{path.name}: error or stderr output rendered"
        assert "Traceback (most recent call last)" not in page.get_text(), f"{path.name}: traceback rendered"


# ------------------------------------------------------------------------------------------------ offline
def test_no_script_or_stylesheet_from_another_host(html):
    for path in sorted(html.rglob("*.html")):
        page = soup(path)
        srcs = [s.get("src", "") for s in page.find_all("script") if s.get("src")]
        srcs += [ln.get("href", "") for ln in page.find_all("link")
                 if "stylesheet" in (ln.get("rel") or []) or ln.get("as") in {"script", "style", "font"}]
        srcs += [i.get("src", "") for i in page.find_all(["img", "iframe", "source"]) if i.get("src")]
        remote = [s for s in srcs if is_remote(s)]
        assert not remote, f"{path.relative_to(html)} loads from another host: {remote}"


def test_local_scripts_and_stylesheets_exist(html):
    """Every script and stylesheet a page asks for is in the site (MathJax included)."""
    for path in html_pages(html):
        page = soup(path)
        refs = [s["src"] for s in page.find_all("script", src=True)]
        refs += [ln["href"] for ln in page.find_all("link", href=True) if "stylesheet" in (ln.get("rel") or [])]
        for ref in refs:
            target = (path.parent / urlsplit(ref).path).resolve()
            assert target.is_file(), f"{path.relative_to(html)} refers to missing {ref}"
    assert list(html.glob("_static/mathjax/tex-mml-chtml.js")), "MathJax is not served from the site"


def test_stylesheets_import_nothing_remote(html):
    for css in html.rglob("*.css"):
        text = css.read_text("utf-8", errors="replace")
        found = re.findall(r"(?:@import\s+(?:url\()?|url\()\s*['\"]?((?:https?:)?//[^'\")\s]+)", text)
        assert not found, f"{css.relative_to(html)} loads {found}"


# ------------------------------------------------------------------------------------------------ config
def test_config_is_the_books_own():
    config = yaml.safe_load((ROOT / "_config.yml").read_text("utf-8"))
    assert "reproduction" in config["title"].lower()
    assert PROJECT in config["author"]
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["html"]["use_search_button"] is True
    assert DOI in config["html"]["extra_footer"]
    assert config["launch_buttons"].get("thebe") is False
    assert not config["launch_buttons"].get("binderhub_url")
    assert not config["launch_buttons"].get("colab_url")


def test_footer_names_the_project_and_links_the_paper(html):
    for path in html_pages(html):
        footer = soup(path).select_one("footer.bd-footer-content") or soup(path).find("footer")
        assert footer is not None, f"{path.name}: no footer"
        text = footer.get_text(" ", strip=True)
        assert PROJECT in text, f"{path.name}: footer does not name the project: {text!r}"
        assert "Copyright 2023" not in text and "Powered by" not in text, f"{path.name}: framework default footer"
        assert any(DOI in (a.get("href") or "") for a in footer.find_all("a")), f"{path.name}: no DOI link"


def test_synthetic_announcement_on_every_page(html, built_book):
    manifest = json.loads((built_book / "build.json").read_text())
    if Path(manifest.get("data_dir", "")) != paths.default_data_dir():
        pytest.skip("this site was built on another data folder; the synthetic banner applies to default builds")
    for path in sorted(html.rglob("*.html")):
        if "_static" in path.relative_to(html).parts or is_redirect(path):
            continue
        banner = soup(path).select_one(".bd-header-announcement")
        assert banner is not None and "SYNTHETIC DATA" in banner.get_text(), \
            f"{path.relative_to(html)}: no synthetic-data announcement"


def test_search_is_built(html):
    assert (html / "search.html").exists() and (html / "searchindex.js").exists()
    assert "das28" in (html / "searchindex.js").read_text("utf-8").lower()


def search_index(html: Path) -> dict:
    """Sphinx's search index (``searchindex.js``: ``Search.setIndex({...})``) as a dict."""
    text = (html / "searchindex.js").read_text("utf-8")
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


def test_guide_pages_are_in_the_sidebar_and_the_search(html):
    """The user guide moved out of the README is a part of the book: in the navigation, and searchable offline."""
    nav = soup(html / "book" / "intro.html").select_one("nav.bd-docs-nav")
    captions = {cap.get_text(strip=True): cap.find_next_sibling("ul") for cap in nav.select("p.caption")}
    assert "Using this book" in captions, f"no 'Using this book' part in the sidebar: {list(captions)}"
    links = [(a.get_text(strip=True), a.get("href", "")) for a in captions["Using this book"].select("a")]
    assert links == [(title, f"{page}.html") for page, (title, _) in GUIDE.items()], links
    index = search_index(html)
    for page, (title, word) in GUIDE.items():
        doc = index["docnames"].index(f"book/{page}")
        assert index["titles"][doc] == title
        hits = index["terms"].get(word)
        hits = [hits] if isinstance(hits, int) else hits or []
        assert doc in hits, f"the search index does not find {word!r} on {page}"


# ------------------------------------------------------------------------------------------------ pages we own
def test_glossary_defines_every_term(html):
    terms = {dt.get_text(" ", strip=True).rstrip("#¶").strip()
             for dt in soup(html / "book" / "glossary.html").select("dl.glossary dt")}
    missing = [t for t in GLOSSARY_TERMS if t not in terms]
    assert not missing, f"glossary lacks {missing}; has {sorted(terms)}"


def test_bibliography_lists_every_entry(html):
    keys = re.findall(r"^@\w+\{([^,]+),", (ROOT / "book" / "references.bib").read_text("utf-8"), re.M)
    page = soup(html / "book" / "references.html")
    entries = page.select(".citation, div[role=doc-biblioentry], .bibtex")
    text = page.get_text(" ")
    assert len(entries) >= len(keys), f"{len(entries)} bibliography entries for {len(keys)} keys"
    assert DOI in text


def test_landing_page_explains_how_to_rerun(html):
    page = soup(html / "book" / "intro.html")
    text = " ".join(pre.get_text() for pre in page.select("pre")) + page.get_text()
    for command in ("python -m analysis template my_cohort/", "python -m analysis validate my_cohort/",
                    "python -m analysis build --data my_cohort/", "make book"):
        assert command in text, f"landing page lacks {command!r}"
    assert any(a.get("href", "").endswith("scorecard.html") for a in page.select("article a")), \
        "landing page does not link the scorecard"
    assert any(DOI in (a.get("href") or "") for a in page.select("article a"))


# ------------------------------------------------------------------------------------------------ layout and downloads
def test_one_search_field_and_the_books_stylesheet_in_the_config():
    config = yaml.safe_load((ROOT / "_config.yml").read_text("utf-8"))["sphinx"]["config"]
    assert config["html_theme_options"]["navbar_persistent"] == [], "the header's second search field is back"
    assert "msct.css" in config["html_css_files"]
    assert all((ROOT / p).is_dir() for p in config["html_static_path"])


def test_every_page_loads_the_books_stylesheet(html):
    assert (html / "_static" / "msct.css").is_file()
    for path in html_pages(html):
        hrefs = [ln.get("href", "") for ln in soup(path).find_all("link") if "stylesheet" in (ln.get("rel") or [])]
        assert any("msct.css" in h for h in hrefs), f"{path.relative_to(html)} does not load msct.css"


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS], ids=[c.name for c in CHAPTERS])
def test_chapter_links_a_zip_of_its_results(html, built_book, chapter):
    import zipfile

    if not (ROOT / "book" / chapter.notebook).exists():
        pytest.skip(f"book/{chapter.notebook} is not written yet")
    page = html / "book" / f"{chapter.name}.html"
    links = [a["href"] for a in article(soup(page)).select("a[href]") if a["href"].endswith("-results.zip")]
    assert links == [f"../downloads/{chapter.name}-results.zip"], f"{chapter.name}: zip links {links}"
    target = (page.parent / links[0]).resolve()
    assert target.is_file(), f"{chapter.name}: the linked zip {target} is missing"
    results = built_book / "results" / chapter.name
    expected = {f"{chapter.name}/{p.relative_to(results).as_posix()}" for p in results.rglob("*")
                if p.suffix in {".csv", ".png"}}
    with zipfile.ZipFile(target) as zf:
        names = set(zf.namelist())
        assert names == expected, f"{chapter.name}: zip has {sorted(names ^ expected)} in excess or missing"
        assert zf.testzip() is None
        for name in [n for n in names if n.endswith(".csv")][:3]:
            assert zf.read(name) == (results / name.split("/", 1)[1]).read_bytes()


def test_scorecard_links_the_claims_csv(html, built_book):
    if not (ROOT / "book" / "scorecard.ipynb").exists():
        pytest.skip("no scorecard in this book")
    page = html / "book" / "scorecard.html"
    links = [a["href"] for a in article(soup(page)).select("a[href]") if a["href"].endswith("claims.csv")]
    assert "../downloads/claims.csv" in links
    assert (html / "downloads" / "claims.csv").read_bytes() == (built_book / "results" / "claims.csv").read_bytes()


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS], ids=[c.name for c in CHAPTERS])
def test_claims_tables_lead_with_claim_published_reproduced_verdict(html, chapter):
    if not (ROOT / "book" / chapter.notebook).exists():
        pytest.skip(f"book/{chapter.notebook} is not written yet")
    from analysis.core.chapters import CLAIM_CHAPTERS

    if chapter.name not in CLAIM_CHAPTERS and chapter.name != "scorecard":
        pytest.skip(f"{chapter.name} judges no claim of the paper (it shows simulated designs)")
    page = article(soup(html / "book" / f"{chapter.name}.html"))
    heads = [[th.get_text(strip=True) for th in t.select("thead th")] for t in page.select("table.msct-table")]
    # claims tables: a claim with its published and reproduced values (the scorecard's robustness table has none)
    claims = [h for h in heads if "verdict" in h and "claim" in h and "published" in h]
    assert claims, f"{chapter.name}: no claims table"
    for h in claims:
        assert h[:4] == ["claim", "published", "reproduced", "verdict"], f"{chapter.name}: claims table columns {h}"
