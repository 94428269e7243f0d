"""The render: the staged book (pages, configuration, table of contents) and the Jupyter Book process that renders it.

:func:`stage_book` lays out the book in the staging folder; :class:`Render` starts the render process
(:mod:`analysis.engine.render_sphinx`) right away and tells it which chapter pages are final. Before a
chapter's page is rendered, :func:`tag_hidden_cells` hides its parameters cells and marks the values its data
could not give (:func:`mark_not_available`).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from analysis.core import paths
from analysis.core.chapters import Chapter
from analysis.core.errors import BuildError
from analysis.engine.processes import kill
from analysis.engine.publish import DOWNLOADS_EXTRA

__all__ = ["FIGURE_LEFT_OUT", "INTRO_MARKERS", "LEFT_OUT", "Render", "announcement_for", "fill_intro", "glued_keys",
           "left_out_sentence", "mark_not_available", "not_available_by_heading", "placeholder_keys", "sections_not_available",
           "stage_book", "tag_hidden_cells"]


_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{glue(?::[a-z]+)?\}[ \t]+(?P<key>[^\s`]+)[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$",
                    re.S | re.M)
_ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`(?P<key>[^`:]+)(?::[^`]*)?`")
_NAME = re.compile(r"^:name:[ \t]*(\S+)", re.M)


#: the sentence that replaces a paragraph which would report a value these data could not give
LEFT_OUT = ("*Not available with these data: this paragraph reports values that could not be computed from this "
            "data folder, so it is left out.*")
#: the note that replaces a figure or table these data could not give
FIGURE_LEFT_OUT = "Not available with these data: this figure could not be drawn from this data folder."
_PLACEHOLDER = re.compile(r"\bn/a\b|not available with these data|^nan$|^not shown:", re.IGNORECASE)
_STRUCTURE = re.compile(r"^\s*(`{3,}|:{3,}|:[a-z-]+:|#|\(.*\)=\s*$|\|)")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")


def glued_keys(nb: dict) -> set[str]:
    """Names glued by the outputs of an executed notebook (myst-nb stores them in ``metadata.scrapbook``).

    Examples
    --------
    >>> glued_keys({"cells": [{"cell_type": "code", "outputs": [{"metadata": {"scrapbook": {"name": "n"}}}]}]})
    {'n'}
    """
    return {out.get("metadata", {}).get("scrapbook", {}).get("name")
            for cell in nb.get("cells", []) if cell.get("cell_type") == "code"
            for out in cell.get("outputs", [])} - {None}


def placeholder_keys(nb: dict) -> set[str]:
    """Names glued with a placeholder instead of a value ("n/a", "not available with these data", nan).

    A sentence citing one of them would read "... n/a ..."; :func:`mark_not_available` treats them as not glued.

    Examples
    --------
    >>> out = lambda k, v: {"metadata": {"scrapbook": {"name": k}},
    ...                     "data": {"application/papermill.record/text/plain": repr(v)}}
    >>> sorted(placeholder_keys({"cells": [{"cell_type": "code", "outputs": [out("a", "n/a"), out("b", 3),
    ...                                     out("c", "p = n/a"), out("d", "not available with these data")]}]}))
    ['a', 'c', 'd']
    """
    return set(_placeholder_values(nb))


def _placeholder_values(nb: dict) -> dict[str, str]:
    """:func:`placeholder_keys` with the text each was glued with (quotes removed)."""
    found: dict[str, str] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            text = out.get("data", {}).get("application/papermill.record/text/plain")
            if name is None or not isinstance(text, str):
                continue
            value = text.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            if _PLACEHOLDER.search(value.strip()):
                found[name] = value.strip()
    return found


def _figure_left_out(value: str) -> str:
    """The note for a figure not drawn: :data:`FIGURE_LEFT_OUT`, naming its panels when the glued text gives them.

    Examples
    --------
    >>> _figure_left_out("not available with these data: IL-6; TNF-α")
    'Not available with these data: this figure (IL-6; TNF-α) could not be drawn from this data folder.'
    >>> _figure_left_out("") == FIGURE_LEFT_OUT
    True
    >>> _figure_left_out("Not shown: the robustness result has no operating characteristics.")
    'Not shown: the robustness result has no operating characteristics.'
    """
    if value.lower().startswith("not shown:"):  # a reason of the page's own, not of the data (Page.figure_not_shown)
        return value
    prefix = "not available with these data:"
    what = value[len(prefix):].strip() if value.lower().startswith(prefix) else ""
    return FIGURE_LEFT_OUT.replace("this figure", f"this figure ({what})", 1) if what else FIGURE_LEFT_OUT


def left_out_sentence(section: str = "") -> str:
    """:data:`LEFT_OUT`, naming the section the left-out paragraph belongs to when there is one.

    Examples
    --------
    >>> left_out_sentence("Relapse")
    '*Not available with these data: this paragraph of “Relapse” reports values that could not be computed from this data folder, so it is left out.*'
    >>> left_out_sentence() == LEFT_OUT
    True
    """
    return LEFT_OUT.replace("this paragraph", f"this paragraph of “{section}”", 1) if section else LEFT_OUT


_HEADING = re.compile(r"^\s*#{1,6}\s+(?P<title>.+?)\s*#*\s*$")


def _leave_out_paragraphs(src: str, missing_role, section: str = "") -> tuple[str, str]:
    """Replace each paragraph (or list item) of ``src`` that cites a missing value by :func:`left_out_sentence`.

    Structural lines (fences, directive options, headings, labels, table rows) are kept; consecutive prose
    lines are a paragraph, a list item starts a new one. ``section`` is the heading in force where ``src``
    starts; returns the new text and the heading in force at its end.
    """
    lines = src.split("\n")
    out: list[str] = []
    para: list[str] = []
    current = [section]

    def flush():
        if para:
            if any([missing_role(m) for line in para for m in _ROLE.finditer(line)]):  # every key noted
                indent = re.match(r"\s*(?:(?:[-*+]|\d+[.)])\s+)?", para[0]).group(0)
                previous = next((line for line in reversed(out) if line.strip()), "")
                sentence = left_out_sentence(current[0])
                if previous.strip() != sentence:  # one sentence for consecutive left-out paragraphs
                    out.append(indent + sentence)
            else:
                out.extend(para)
            para.clear()

    for line in lines:
        if not line.strip() or _STRUCTURE.match(line):
            flush()
            heading = _HEADING.match(line)
            if heading:  # a heading with markup (a glued number, a role) is not named
                title = heading.group("title").strip("*_ ")
                current[0] = "" if re.search(r"[{}`]", title) else title
            out.append(line)
        else:
            if _ITEM.match(line):
                flush()
            para.append(line)
    flush()
    return "\n".join(out), current[0]


def mark_not_available(nb: dict) -> tuple[dict, list[str]]:
    """Replace Markdown that cites values the notebook could not give by sentences saying so.

    A chapter skips a figure or number its data cannot give (no responders, say) and says so in a note; the
    page's ``{glue:figure}`` block and ``{glue:text}`` roles for it would make the render fail (Sphinx warnings
    are errors), and a value glued as a placeholder ("n/a") would make a garbled sentence. So a figure block
    for a key that was not glued becomes a short note (:data:`FIGURE_LEFT_OUT`), and every paragraph (or list
    item) citing a key that was not glued, or was glued with a placeholder (:func:`placeholder_keys`), is
    replaced as a whole by one sentence (:func:`left_out_sentence`, naming the section it is in): the page never
    shows "n/a" for a value.
    ``{numref}``/``{ref}`` links to a removed figure become plain text. Returns the new notebook and the
    sorted keys that were not glued at all (the input is not modified).

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "markdown", "source": "Intro.\\n\\n{glue:text}`n_x` of {glue:text}`n:.0f`"},
    ...                 {"cell_type": "code", "outputs": [{"metadata": {"scrapbook": {"name": "n"}}}]}]}
    >>> new, missing = mark_not_available(nb)
    >>> new["cells"][0]["source"] == "Intro.\\n\\n" + LEFT_OUT, missing
    (True, ['n_x'])
    """
    have = glued_keys(nb)
    placeholder_values = _placeholder_values(nb)
    placeholders = set(placeholder_values)
    missing: set[str] = set()
    labels: set[str] = set()

    def block(m: re.Match) -> str:
        key = m.group("key")
        if key in have and key not in placeholders:
            return m.group(0)
        if key not in have:
            missing.add(key)
        labels.update(_NAME.findall(m.group("body")))  # the caption goes with the figure
        what = _figure_left_out(placeholder_values.get(key, ""))
        return f"```{{note}}\n{what}\n```"

    def missing_role(m: re.Match) -> bool:
        key = m.group("key")
        if key not in have:
            missing.add(key)
            return True
        return key in placeholders

    def leftover(m: re.Match) -> str:
        if m.group("key") in have:
            return m.group(0)
        missing.add(m.group("key"))
        return "*not available with these data*"

    cells = []
    section = ""
    for cell in nb.get("cells", []):
        cell = dict(cell)
        if cell.get("cell_type") == "markdown":
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            src, section = _leave_out_paragraphs(_FENCE.sub(block, src), missing_role, section)
            # a role left in a heading, a table row or a directive line: Sphinx would fail on its missing key
            cell["source"] = _ROLE.sub(leftover, src)
        cells.append(cell)
    if labels:
        ref = re.compile(r"\{(?:numref|ref)\}`(?:[^`<]*<)?(" + "|".join(map(re.escape, labels)) + r")>?`")
        for cell in cells:
            if cell.get("cell_type") == "markdown":
                cell["source"] = ref.sub("(a figure not drawn with these data)", cell["source"])
    return dict(nb, cells=cells), sorted(missing)


def sections_not_available(chapter_results: Path) -> list[str]:
    """The sections a chapter recorded as not available (``results/<chapter>/not_available.csv``)."""
    from analysis.science.sections import RECORD

    path = chapter_results / RECORD
    if not path.exists():
        return []
    import pandas as pd

    table = pd.read_csv(path, keep_default_na=False).drop_duplicates("section")
    return [f"{row.title} (needs {row.missing.replace(' ', ', ')})" for row in table.itertuples()]


def tag_hidden_cells(executed: Path) -> list[str]:
    """Hide the parameters cells (papermill #416) and mark unglued references; returns the missing glue keys."""
    nb = json.loads(executed.read_text("utf-8"))
    for cell in nb["cells"]:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if ("parameters" in tags or "injected-parameters" in tags) and "remove-cell" not in tags:
            tags.append("remove-cell")
    nb, missing = mark_not_available(nb)
    executed.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", "utf-8")
    return missing


def stage_book(book_src: Path, stage: Path, chapters: list[Chapter], announcement: str,
               no_solutions: bool, *, cohort: Any = None, data_dir: Path | None = None,
               das28_variant: str = "esr") -> None:
    """Copy the book's pages and config into the staging folder (chapters arrive executed).

    The intro page's markers are filled for this build's data (:func:`fill_intro`).
    """
    root = paths.repo_root()
    (stage / "book").mkdir(parents=True)
    for src in book_src.iterdir():
        if src.suffix == ".ipynb" or src.name.startswith((".", "_build")) or src.name == "__pycache__":
            continue
        dst = stage / "book" / src.name
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("mathjax", ".ipynb_checkpoints"))
        else:
            shutil.copy2(src, dst)
    config = yaml.safe_load((root / "_config.yml").read_text("utf-8"))
    config.setdefault("html", {})["announcement"] = announcement
    sphinx_cfg = config.setdefault("sphinx", {}).setdefault("config", {})
    if no_solutions:
        sphinx_cfg["hide_solutions"] = True
    # the staging folder's other contents are never pages: excluded by name, so the render can be set up
    # before the executed notebooks exist (sphinx-external-toc would otherwise exclude the files it finds then)
    config["exclude_patterns"] = list(config.get("exclude_patterns") or []) + ["executed", "results"]
    (stage / DOWNLOADS_EXTRA).mkdir(exist_ok=True)  # html_extra_path must exist when Sphinx is set up
    (stage / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), "utf-8")
    _write_dictionary_page(stage / "book" / "data_dictionary.md")
    intro = stage / "book" / "intro.md"
    if intro.exists():
        intro.write_text(fill_intro(intro.read_text("utf-8"), cohort=cohort, data_dir=data_dir, chapters=chapters,
                                    das28_variant=das28_variant), "utf-8")
    # each chapter's notebook as a placeholder, so Sphinx finds every page when it starts reading; the render
    # reads a notebook only once its executed copy has replaced the placeholder (Render.ready / run)
    for c in chapters:
        shutil.copy2(book_src / c.notebook, stage / "book" / c.notebook)
    # the table of contents lists only pages that exist in this build
    toc = yaml.safe_load((root / "_toc.yml").read_text("utf-8"))
    present = {f"book/{p.stem}" for p in (stage / "book").glob("*.md")}
    present |= {f"book/{Path(c.notebook).stem}" for c in chapters}
    _filter_toc(toc, present)
    (stage / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False, allow_unicode=True), "utf-8")
    # MathJax served from the site itself (no CDN): the packaged MathJax 3 (24 MB) copied straight into the
    # site's _static/ now (Sphinx leaves files it does not know there), rather than listed in html_static_path
    # for Sphinx to copy a second time when it writes the pages, after the chapters
    import mathjax  # provided by django-static-mathjax

    mj = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    shutil.copytree(mj, stage / "_build" / "html" / "_static" / "mathjax")


def _write_dictionary_page(path: Path) -> None:
    """The data-dictionary page, generated from analysis/intake/data_dictionary.yaml (the single source)."""
    from analysis.intake.dictionary import TABLES, dictionary_table, load_dictionary

    spec = load_dictionary()
    table = dictionary_table()
    lines = ["(data-dictionary)=", "# Data dictionary", "",
             "The data contract of this book, generated from `analysis/intake/data_dictionary.yaml`. "
             "A data folder holds three tables, each as `.csv` (UTF-8) or `.xlsx`: `patients`, `visits` and "
             "`adverse_events`. "
             "`python -m analysis template DIR` writes empty files with these headers; "
             "`python -m analysis validate DIR` checks a folder against every rule below.", "",
             f"Scheduled visit weeks: {', '.join(str(w) for w in spec['design_weeks'])} "
             f"(week 0 = baseline, before the infusion). Response is judged at week {spec['response_week']}. These are the "
             "paper's design; a data folder's `dataset.yaml` may declare its own under `design:` (`visit_weeks`, "
             "`response_week`, `final_week`), and every chapter shows the design it used. It may also keep your own "
             "column names, units and labels: `columns:`, `units:`, `arms:` and `values:` translate them on reading "
             "(the page *Rerun on your own trial*, under *Using this book*, shows each).", "",
             "Cells below an assay's lower limit of quantification are written `<LLOQ`; above the upper limit, "
             "`>ULOQ`. Columns whose names look like direct identifiers (names, phone numbers, dates of birth, "
             "national ids) are refused: use pseudonymous `patient_id`s only.", ""]
    for name in TABLES:
        lines += [f"## `{name}`", "", spec["tables"][name]["description"], "",
                  "| column | type | unit | required | empty allowed | allowed values | description |",
                  "|---|---|---|---|---|---|---|"]
        for row in table[table["table"] == name].itertuples():
            cells = [f"`{row.column}`", row.type, row.unit, row.required, row._6, row.allowed, row.description]
            lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
        lines.append("")
    from analysis.intake.exports import dictionary_page_lines
    from analysis.science.sections import section_table

    lines += dictionary_page_lines()  # visit_dates:, values:, export columns
    lines += ["## Which sections need which columns", "",
              "Only `patient_id`, `week` and the DAS28 components are needed to classify the EULAR response. Any "
              "other measurement column may be absent or empty: the sections below that need it then show a note "
              "starting \"Not available with these data\" naming the missing columns, and their claims are \"not "
              "testable with these data\".", "",
              "| chapter | section | needs |", "|---|---|---|"]
    for row in section_table().itertuples():
        lines.append(f"| {row.chapter} | {row.section} | {row.needs} |")
    lines.append("")
    lines += _long_layout_section()
    path.write_text("\n".join(lines), "utf-8")


#: the intro page's markers, replaced for each build by :func:`fill_intro`
INTRO_MARKERS = ("<!-- build:data -->", "<!-- build:contents -->")


def _data_block(cohort: Any, data_dir: Path | None) -> str:
    """The intro's box on the data of this build (synthetic or not)."""
    name = data_dir.name if data_dir is not None else "synthetic"
    meta = getattr(cohort, "meta", None) or {}
    if cohort is None:  # no chapter of this build reads the data folder
        return ("```{note}\nThis build read no patient data: its chapters use the paper's published values only. "
                "The study's patient data are not public; the book's default build computes every chapter from a "
                "synthetic cohort calibrated to the published summaries.\n```")
    if meta.get("synthetic") is True:
        seed = f", seed {meta['seed']}" if "seed" in meta else ""
        return ("```{warning}\nThe study's patient data are not public. Every number in this build is computed from a "
                f"**synthetic cohort** (data folder `{name}`{seed}) simulated by this project and calibrated to the "
                "published summaries. It reproduces the *analysis*, not the patients: a result computed here says "
                "nothing about real patients. The banner at the top of every page says which data the build used.\n```")
    import pandas as pd

    patients = getattr(cohort, "patients", None)
    who = ""
    if isinstance(patients, pd.DataFrame) and len(patients):
        arms = patients["arm"].value_counts() if "arm" in patients.columns else pd.Series(dtype=int)
        by_arm = ", ".join(f"{int(n)} {arm}" for arm, n in arms.items())
        who = f"{len(patients)} patients" + (f": {by_arm}" if by_arm else "")
    design = getattr(cohort, "design", None)
    if design is not None and hasattr(design, "describe_weeks"):
        who += ("; " if who else "") + f"visits at weeks {design.describe_weeks()}"
    who = f" ({who})" if who else ""
    return ("```{note}\n"
            f"This build was computed from the data folder `{name}`{who}, which is not marked synthetic: every "
            "number in it comes from these data, and the paper's values appear only beside them, for comparison. "
            "The banner at the top of every page says which data the build used. (The study's own patient data are "
            "not public; the book's default build uses a synthetic cohort calibrated to the published summaries.)\n```")


def _cell(items: list[str]) -> str:
    """Items as one Markdown table cell ("–" when there are none)."""
    return "; ".join(items).replace("|", "\\|") if items else "–"


def _contents_block(cohort: Any, data_dir: Path | None, chapters: list[Chapter], das28_variant: str) -> str:
    """The intro's section "What this build could compute": chapters, sections available or not, DAS28."""
    from analysis.core.chapters import CHAPTERS
    from analysis.science import sections

    name = data_dir.name if data_dir is not None else "synthetic"
    lines = ["## What this build could compute", ""]
    if cohort is None:
        lines += ["This build did not load a data folder: the chapters say what they computed.", ""]
        return "\n".join(lines)
    lines += [f"What the data folder `{name}` allows, section by section (a section needs the columns named; "
              "\"Not available with these data\" on a page marks what is left out, and its claims are *not "
              "testable with these data*). DAS28 behind the response groups: "
              f"{sections.das28_choice(cohort, das28_variant).statement}.", "",
              "| chapter | can be computed | not available with these data |", "|---|---|---|"]
    built = {c.name for c in chapters}
    for c in CHAPTERS:
        if c.name not in built:
            continue
        stem = Path(c.notebook).stem
        if not c.uses_data:
            what = ("the paper's printed statistics (no patient data needed)" if c.package
                    else "the verdicts of the chapters above")
            lines.append(f"| {{doc}}`{stem}` | {what} | – |")
            continue
        ok, gone = [], []
        for sec in sections.chapter_sections(c.name):
            lacking = sections.missing(sec.id, cohort)
            (gone if lacking else ok).append(sec.title if not lacking else
                                              f"{sec.title} (needs {sections.describe(sec)})")
        lines.append(f"| {{doc}}`{stem}` | {_cell(ok)} | {_cell(gone)} |")
    left = [c.title for c in CHAPTERS if c.name not in built]
    if left:
        lines += ["", f"Not part of this build: {', '.join(left)}."]
    lines.append("")
    return "\n".join(lines)


def fill_intro(text: str, *, cohort: Any = None, data_dir: Path | None = None, chapters: list[Chapter] = (),
               das28_variant: str = "esr") -> str:
    """The intro page with its markers (:data:`INTRO_MARKERS`) replaced by what this build's data allow.

    ``<!-- build:data -->`` becomes a box naming the data folder (synthetic or the user's);
    ``<!-- build:contents -->`` the section "What this build could compute": per chapter of this build, the
    sections its data allow and those they do not (with the columns they need, from the chapter registry and
    :func:`analysis.science.sections.missing`), and the DAS28 variant used
    (:func:`analysis.science.sections.das28_choice`).

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> from analysis.core.chapters import chapter
    >>> cohort = SimpleNamespace(meta={}, patients=pd.DataFrame({"arm": ["MSCT", "control"]}),
    ...                          visits=pd.DataFrame({"esr_mm_h": [float("nan")], "crp_mg_l": [3.0]}))
    >>> page = fill_intro("<!-- build:data -->\\n<!-- build:contents -->", cohort=cohort,
    ...                   data_dir=Path("mine"), chapters=[chapter("disease_activity")])
    >>> "data folder `mine` (2 patients: 1 MSCT, 1 control)" in page, "ESR not recorded: DAS28-CRP" in page
    (True, True)
    >>> [line for line in page.splitlines() if line.startswith("| {doc}")][0].split(" | ")[2].split("; ")[:2]
    ['HAQ (disability) (needs haq_di)', 'Relapse (needs esr_mm_h and crp_mg_l)']
    """
    data_marker, contents_marker = INTRO_MARKERS
    text = text.replace(data_marker, _data_block(cohort, data_dir))
    return text.replace(contents_marker, _contents_block(cohort, data_dir, list(chapters), das28_variant))


def _long_layout_section() -> list[str]:
    """The data-dictionary page's section on ``long:`` (:mod:`analysis.intake.long`)."""
    return ["## Tables in the long layout", "",
            "A table may also come in the long layout: one row per patient, visit and measure, as in CDISC ADaM's "
            "basic data structure (`USUBJID`, `AVISITN`, `PARAMCD`, `AVAL`) and in many laboratory exports. Declare "
            "it under `long:` in `dataset.yaml`:", "",
            "```yaml",
            "columns: {USUBJID: patient_id, AVISITN: week}   # the key columns, as for any table",
            "long:                        # a table in the long layout: one row per patient, visit and measure",
            "  visits:",
            "    measure: PARAMCD         # the column naming the measure",
            "    value: AVAL              # the column holding its value",
            "    measures: {TJC28: tjc28, SJC28: sjc28, ESR: esr_mm_h, CRP: crp_mg_l, PTGA: patient_global_mm, "
            "IFNG: ifn_g}",
            "```", "",
            "`measure` and `value` name columns of *your file*, as it was exported (matched exactly, or else "
            "ignoring case, so SAS transport names work however they are cased); `columns:` does not rename them. "
            "The keys of `measures` are your codes, its values the names of the columns above that each code fills. "
            "The key columns (`patient_id` and `week` for `visits`, `patient_id` for `patients`) are found under the "
            "dictionary's name or a name of yours that `columns:` maps to it. On reading, the table becomes one row "
            "per patient and week before any rule on this page is applied, so `units:` (keyed by the dictionary's "
            "names, e.g. `crp_mg_l: mg/dL`), ranges, assay limits and the schedule apply as to any table; a problem "
            "in a value names the file row it came from and the code "
            "(`visits.xpt, row 57, column 'AVAL (PARAMCD CRP = crp_mg_l)'`).", "",
            "- A code not listed under `measures` is ignored; one warning lists such codes with their row counts.",
            "- A patient, visit and measure given twice is an error naming both rows.",
            "- A row with a value but no code is an error.",
            "- Other columns are kept when they hold one value per patient and visit (`STUDYID`, `AVISIT`) and are "
            "not read (a note) when they vary within a visit (`PARAM`, `AVALC`); either way they pass the privacy "
            "rules.",
            "- `adverse_events` has one row per event and no key, so it cannot be given in the long layout.", "",
            "`data/examples/adam_long/` is a worked example: the shipped cohort as an ADaM-like export in SAS "
            "transport files.", ""]


def _filter_toc(node, present: set[str]) -> None:
    if isinstance(node, dict):
        for key in ("chapters", "sections"):
            if key in node:
                node[key] = [c for c in node[key] if "file" not in c or _strip_ext(c["file"]) in present]
                for c in node[key]:
                    _filter_toc(c, present)
        if "parts" in node:
            for part in node["parts"]:
                _filter_toc(part, present)
            node["parts"] = [p for p in node["parts"] if p.get("chapters")]


def _strip_ext(name: str) -> str:
    return re.sub(r"\.(md|ipynb)$", "", name)


def announcement_for(cohort_meta: dict | None, data_dir: Path) -> str:
    """The banner on every page: whether the data are synthetic (``dataset.yaml``'s ``synthetic``, ``seed``).

    Examples
    --------
    >>> announcement_for({"synthetic": True, "seed": 7}, Path("data/synthetic"))[:15]
    'SYNTHETIC DATA:'
    """
    if cohort_meta is not None and cohort_meta.get("synthetic") is True:
        seed = cohort_meta.get("seed", "?")
        return (f"SYNTHETIC DATA: every number in this build comes from a simulated cohort (folder "
                f"'{data_dir.name}', seed {seed}), not from the study's patients.")
    return f"Built on the data folder '{data_dir.name}' (not marked synthetic)."


class Render:
    """Jupyter Book's render of the staging folder (execution off, warnings are errors), started early.

    ``Render(stage, out)`` starts the process once the book is staged (configuration, table of contents,
    static pages and a placeholder for each chapter notebook in place): it imports and sets up Sphinx and reads
    the static pages while the chapters run. :meth:`ready` tells it that a chapter's executed notebook is staged
    (it reads it now); :meth:`run` tells it that every page is final (the downloads too), so it reads what is
    left, writes the site, and waits for it; :meth:`stop` ends it unused (a failed or interrupted build).
    Either way nothing is left running.
    """

    def __init__(self, stage: Path, out: Path):
        self.stage, self.out = stage, out
        cmd = [sys.executable, "-m", "analysis.engine.render_sphinx", "build", str(stage),
               "--path-output", str(stage), "-W", "-n", "--keep-going", "--quiet"]
        # it runs in the staging folder: the folder holding this analysis package goes first on its path, so it
        # imports the same package as the build (as `python -m analysis` run from the repository does)
        here = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1",
                   PYTHONPATH=os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p))
        self.log = stage / ".jupyter-book.log"
        with open(self.log, "w") as fh:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=fh, stderr=subprocess.STDOUT,
                                         text=True, env=env, cwd=stage, start_new_session=True)

    def _tell(self, line: str) -> None:
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except OSError:  # it stopped already (a configuration error): run() reports its log
            pass

    def ready(self, notebook: str) -> None:
        """The executed notebook ``book/<notebook>`` is staged and final: Sphinx may read it now."""
        self._tell(f"ready book/{_strip_ext(notebook)}")

    def run(self) -> None:
        """Render now; raise :class:`BuildError` with Sphinx's warnings when the render fails."""
        self._tell("go")
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait()
        except BaseException:  # Ctrl-C / SIGTERM: stop Sphinx and anything it started
            self.stop()
            raise
        if self.proc.returncode != 0 or not (self.stage / "_build" / "html" / "index.html").exists():
            text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", self.log.read_text("utf-8", errors="replace"))  # no colours
            problems = [ln.strip() for ln in text.splitlines() if re.search(r"WARNING|ERROR|Error", ln)]
            shown = "\n".join(problems[:12]) if problems else "\n".join(text.strip().splitlines()[-12:])
            raise BuildError("The book build (Jupyter Book / Sphinx, warnings are errors) failed after all chapters "
                             f"ran:\n{shown}\nThe previous site in {self.out / 'html'} was left unchanged.")

    def stop(self) -> None:
        """End the render process (and anything it started) if it still runs (safe to call twice)."""
        if self.proc.poll() is None:
            kill(self.proc)
        try:
            self.proc.stdin.close()
        except OSError:
            pass


_HEADING = re.compile(r"^#{1,2}[ \t]+(?P<title>.+?)[ \t]*$", re.M)  # the page's title and its sections


def not_available_by_heading(nb: dict) -> dict[str, int]:
    """Where an executed notebook's page refers to values it did not glue: heading -> how many such values.

    For the build log, in the reader's words: the page's section headings (``#`` and ``##``), not the glue
    names. Read the notebook before :func:`mark_not_available` replaces the references. A value is counted
    once, under the heading of its first reference (references before any heading count under
    ``"the chapter's introduction"``).

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "markdown", "source": "## Labs\\n### Detail\\n{glue:text}`n_x` of {glue:text}`n`"},
    ...                 {"cell_type": "markdown", "source": "## Exercises\\n{glue:text}`n_x`, {glue:text}`n_y:.1f`"},
    ...                 {"cell_type": "code", "outputs": [{"metadata": {"scrapbook": {"name": "n"}}}]}]}
    >>> not_available_by_heading(nb)
    {'Labs': 1, 'Exercises': 1}
    """
    have = glued_keys(nb)
    heading = "the chapter's introduction"
    seen: set[str] = set()
    out: dict[str, int] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        events = sorted([(m.start(), "", m.group("title")) for m in _HEADING.finditer(src)]
                        + [(m.start(), m.group("key"), "") for m in _FENCE.finditer(src)]
                        + [(m.start(), m.group("key"), "") for m in _ROLE.finditer(src)])
        for _, key, title in events:
            if title:
                heading = title
            elif key not in have and key not in seen:
                seen.add(key)
                out[heading] = out.get(heading, 0) + 1
    return out
