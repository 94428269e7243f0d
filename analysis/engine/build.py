"""Build the book: validate the data, execute the chapters with papermill, render with Jupyter Book.

The flow of one build (:func:`build`):

1. take a lock on the output folder (a second build on the same folder refuses);
2. validate the data folder (nothing runs on data that breaks the contract);
3. check the ``-p`` parameters against every chapter's ``parameters`` cell (unknown name or wrong type: refuse);
4. plan: a chapter is re-executed only when its notebook, the ``analysis`` code, the published values,
   its parameters or the input data changed (content hashes), unless ``force``;
5. execute chapters with papermill, in parallel, each in its own process (timeout, Ctrl-C safe),
   into a staging folder inside the output folder; on Linux those processes and their kernels are
   forked from one that imported the scientific stack once (:mod:`analysis.engine.zygote`), and each chapter
   reuses the cohort validated in step 2 (:func:`analysis.intake.io.keep_validated`);
6. render the staged book with Jupyter Book, execution off, warnings as errors (the render process is
   started as soon as the book is staged, so Sphinx is imported and set up while the chapters run);
7. publish: swap the new ``html/``, ``results/`` and ``executed/`` into place. Until this last step
   the previous site is untouched; on any failure the staging folder is removed.

The module reports progress through a callback and raises :class:`~analysis.core.errors.UserError`
subclasses with one-paragraph messages; it never prints.
"""
from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import yaml

from analysis.core import paths
from analysis.core.chapters import CHAPTERS, Chapter
from analysis.core.errors import BuildError, ParameterError, UserError
from analysis.core.provenance import hash_files, hash_tree
from analysis.engine.zygote import SOCKET_ENV, ForkedRunner, Zygote

if TYPE_CHECKING:  # pandas is imported where a build needs it (a no-change rebuild never does)
    import pandas as pd

__all__ = ["Chapter", "CHAPTERS", "BuildResult", "build", "chapter_parameters", "parse_parameters", "glued_keys",
           "mark_not_available", "write_downloads"]

Reporter = Callable[[str], None]


#: parameters the build sets itself (``--data``, ``--out``); ``-p`` may not set them
RESERVED = {"data_dir", "output_dir", "published_dir", "results_dir"}
#: derive() options a user may set with -p; the build uses them for results/derived/
DERIVE_OPTIONS = ("das28_variant", "lloq_rule", "response_week", "final_week", "early_window_weeks", "relapse_week")


@dataclass
class BuildResult:
    """What a build did."""

    out: Path
    site: Path
    executed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    up_to_date: bool = False
    #: chapter -> glue keys its pages reference but that these data did not produce (shown as "not available")
    not_available: dict[str, list[str]] = field(default_factory=dict)
    #: chapter -> sections these data cannot give, each "title (needs col, col)" (analysis.science.sections)
    sections_not_available: dict[str, list[str]] = field(default_factory=dict)


# --------------------------------------------------------------------------- parameters
def chapter_parameters(notebook: Path) -> dict[str, object]:
    """Parameters and default values declared in the notebook's ``parameters`` cell.

    Raises :class:`BuildError` if the notebook has no code cell tagged ``parameters`` or the cell holds
    anything but ``name = literal`` lines (papermill only warns about both).

    Examples
    --------
    >>> import nbformat, tempfile, pathlib
    >>> nb = nbformat.v4.new_notebook()
    >>> nb.cells = [nbformat.v4.new_code_cell("alpha = 0.05\\ndata_dir = None", metadata={"tags": ["parameters"]})]
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.ipynb"
    >>> nbformat.write(nb, p)
    >>> chapter_parameters(p)
    {'alpha': 0.05, 'data_dir': None}
    """
    nb = json.loads(Path(notebook).read_text("utf-8"))
    cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        raise BuildError(f"{notebook.name}: no code cell is tagged 'parameters'; papermill could not inject "
                         "the data folder. Tag the first code cell 'parameters'.")
    source = "".join(tagged[0]["source"]) if isinstance(tagged[0]["source"], list) else tagged[0]["source"]
    out: dict[str, object] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, (ast.Assign, ast.AnnAssign))):
            raise BuildError(f"{notebook.name}: the parameters cell may only assign literal values "
                             f"(line {node.lineno}).")
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        try:
            out[target.id] = ast.literal_eval(node.value)
        except (ValueError, AttributeError):
            raise BuildError(f"{notebook.name}: parameter on line {node.lineno} is not a literal value.") from None
    return out


def parse_parameters(pairs: list[str]) -> dict[str, object]:
    """Parse ``KEY=VALUE`` strings; values are read as YAML scalars (``0.01``, ``true``, ``esr``).

    Examples
    --------
    >>> parse_parameters(["alpha=0.01", "das28_variant=crp", "n_boot=500"])
    {'alpha': 0.01, 'das28_variant': 'crp', 'n_boot': 500}
    """
    out: dict[str, object] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ParameterError(f"-p {pair!r}: parameters are written KEY=VALUE, e.g. -p alpha=0.01")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        if isinstance(value, (list, dict)):
            value = raw
        out[key] = value
    return out


def _coerce(key: str, value: object, default: object, chapter: str) -> object:
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
        return str(value)
    else:
        return value
    raise ParameterError(f"-p {key}={value!r}: chapter '{chapter}' expects a {type(default).__name__} "
                         f"(its default is {default!r}), got a {type(value).__name__}.")


def check_parameters(user: dict, declared: dict[str, dict]) -> dict[str, dict]:
    """Per-chapter parameter values: refuse unknown names, reserved names and wrong types.

    Examples
    --------
    >>> check_parameters({"alpha": 0.01}, {"safety": {"alpha": 0.05, "data_dir": None}})
    {'safety': {'alpha': 0.01}}
    """
    for key in user:
        if key in RESERVED:
            raise ParameterError(f"-p {key}=...: '{key}' is set by the build itself; use --data / --out instead.")
        if not any(key in params for params in declared.values()):
            known = sorted({k for p in declared.values() for k in p} - RESERVED)
            raise ParameterError(f"-p {key}=...: unknown parameter '{key}'. Parameters of the selected chapters: "
                                 f"{', '.join(known)}.")
    return {chapter: {k: _coerce(k, v, params[k], chapter) for k, v in user.items() if k in params}
            for chapter, params in declared.items()}


#: ``-p`` parameters that name a visit week (default None = the data's design)
DESIGN_PARAMETERS: tuple[str, ...] = ("response_week", "final_week", "early_window_weeks", "relapse_week")
_WEEK_PARAMETERS: tuple[str, ...] = DESIGN_PARAMETERS + ("after_week", "evaluation_week", "window_weeks")


def _check_design_parameters(user: dict, cohort) -> None:
    """Refuse ``-p`` weeks that are not whole numbers, or that the data's design cannot take (with the rule).

    Examples
    --------
    >>> _check_design_parameters({"response_week": 24}, None)
    >>> _check_design_parameters({"response_week": "x"}, None)
    Traceback (most recent call last):
    ...
    analysis.core.errors.ParameterError: -p response_week='x': a visit week is a whole number (e.g. -p response_week=24), or null for the data's design.
    """
    for key in _WEEK_PARAMETERS:
        value = user.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ParameterError(f"-p {key}={value!r}: a visit week is a whole number (e.g. -p {key}=24), "
                                 "or null for the data's design.")
    overrides = {k: user[k] for k in DESIGN_PARAMETERS if user.get(k) is not None}
    if not overrides or cohort is None:
        return
    from analysis.science.derive import _override
    from analysis.core.design import DesignError

    try:
        _override(cohort.design, overrides)
    except DesignError as err:
        weeks = "" if "visit_weeks (" in str(err) else f" (the data's visit weeks: {cohort.design.describe_weeks()})"
        raise ParameterError(f"-p {', '.join(f'{k}={v}' for k, v in overrides.items())}: {err}{weeks}.") from None


# --------------------------------------------------------------------------- helpers
def _sha(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()[:20]


class _Lock:
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


@dataclass
class _Run:
    chapter: Chapter
    proc: "subprocess.Popen | ForkedRunner"  # ForkedRunner: forked by the zygote (analysis.engine.zygote)
    started: float
    stderr_path: Path


def _descendants(pid: int) -> list[int]:
    """Process ids of every descendant of ``pid`` (empty when psutil is missing or the process is gone)."""
    try:
        import psutil

        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except Exception:  # psutil missing, or the process already exited
        return []


def _kill(proc: subprocess.Popen) -> None:
    """Stop a chapter runner, its process group and every descendant.

    The runner is started in its own session, so killing its group stops papermill; the Jupyter kernel
    papermill launches lives in a session of its own (jupyter_client starts it with ``start_new_session``),
    so it is killed by pid and process group as well, leaving no orphan kernel behind.
    """
    children = _descendants(proc.pid)
    for pid in [proc.pid, *children]:
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, OSError):
                pass
    proc.wait()


class _DeferInterrupts:
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


def _chapter_error(chapter: Chapter, stderr: str, verbose: bool, out: Path) -> BuildError:
    info = None
    for line in reversed(stderr.splitlines()):
        if line.startswith("MSCT-ERROR "):
            info = json.loads(line[len("MSCT-ERROR "):])
            break
    if info is None:
        detail = stderr.strip().splitlines()[-1] if stderr.strip() else "the kernel stopped without a message"
        msg = f"Chapter '{chapter.name}' failed: {detail}."
    else:
        where = f"in cell {info['cell']}" if info.get("cell") is not None else "before any cell ran"
        evalue = str(info.get("evalue", "")).strip().splitlines()
        evalue = " ".join(evalue[:6])
        msg = f"Chapter '{chapter.name}' ({chapter.notebook}) failed {where}: {info['ename']}: {evalue}"
        if verbose and info.get("traceback"):
            msg += "\n\n" + info["traceback"]
    msg += f"\nThe previous site in {out / 'html'} was left unchanged."
    if not verbose:
        msg += " Rerun with --verbose for the full traceback."
    return BuildError(msg)


_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{glue(?::[a-z]+)?\}[ \t]+(?P<key>[^\s`]+)[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$",
                    re.S | re.M)
_ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`(?P<key>[^`:]+)(?::[^`]*)?`")
_NAME = re.compile(r"^:name:[ \t]*(\S+)", re.M)


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


def mark_not_available(nb: dict) -> tuple[dict, list[str]]:
    """Replace Markdown references to values the notebook did not glue by a visible "not available" note.

    A chapter skips a figure or number its data cannot give (no responders, say) and says so in a note; the
    page's ``{glue:figure}`` block and ``{glue:text}`` roles for it would make the render fail (Sphinx warnings
    are errors). They become a note block and *n/a (not available with these data)*; ``{numref}``/``{ref}`` links to a removed figure become
    plain text. Returns the new notebook and the sorted missing keys (the input is not modified).

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "markdown", "source": "{glue:text}`n_x` of {glue:text}`n:.0f`"},
    ...                 {"cell_type": "code", "outputs": [{"metadata": {"scrapbook": {"name": "n"}}}]}]}
    >>> new, missing = mark_not_available(nb)
    >>> new["cells"][0]["source"], missing
    ('*n/a (not available with these data)* of {glue:text}`n:.0f`', ['n_x'])
    """
    have = glued_keys(nb)
    missing: set[str] = set()
    labels: set[str] = set()

    def block(m: re.Match) -> str:
        key = m.group("key")
        if key in have:
            return m.group(0)
        missing.add(key)
        labels.update(_NAME.findall(m.group("body")))
        return (f"```{{note}}\nNot available with these data: '{key}' was not produced (the chapter explains "
                f"why in a note above).\n```")

    def role(m: re.Match) -> str:
        if m.group("key") in have:
            return m.group(0)
        missing.add(m.group("key"))
        return "*n/a (not available with these data)*"

    cells = []
    for cell in nb.get("cells", []):
        cell = dict(cell)
        if cell.get("cell_type") == "markdown":
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            new = _ROLE.sub(role, _FENCE.sub(block, src))
            cell["source"] = new
        cells.append(cell)
    if labels:
        ref = re.compile(r"\{(?:numref|ref)\}`(?:[^`<]*<)?(" + "|".join(map(re.escape, labels)) + r")>?`")
        for cell in cells:
            if cell.get("cell_type") == "markdown":
                cell["source"] = ref.sub("(figure not available with these data)", cell["source"])
    return dict(nb, cells=cells), sorted(missing)


def _sections_not_available(chapter_results: Path) -> list[str]:
    """The sections a chapter recorded as not available (``results/<chapter>/not_available.csv``)."""
    from analysis.science.sections import RECORD

    path = chapter_results / RECORD
    if not path.exists():
        return []
    import pandas as pd

    table = pd.read_csv(path, keep_default_na=False).drop_duplicates("section")
    return [f"{row.title} (needs {row.missing.replace(' ', ', ')})" for row in table.itertuples()]


def _tag_hidden_cells(executed: Path) -> list[str]:
    """Hide the parameters cells (papermill #416) and mark unglued references; returns the missing glue keys."""
    nb = json.loads(executed.read_text("utf-8"))
    for cell in nb["cells"]:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if ("parameters" in tags or "injected-parameters" in tags) and "remove-cell" not in tags:
            tags.append("remove-cell")
    nb, missing = mark_not_available(nb)
    executed.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", "utf-8")
    return missing


def _stage_book(book_src: Path, stage: Path, chapters: list[Chapter], announcement: str,
                no_solutions: bool) -> None:
    """Copy the book's pages and config into the staging folder (chapters arrive executed)."""
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
    # each chapter's notebook as a placeholder, so Sphinx finds every page when it starts reading; the render
    # reads a notebook only once its executed copy has replaced the placeholder (_Render.ready / run)
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
    from analysis.science.sections import section_table

    lines += ["## Which sections need which columns", "",
              "Only `patient_id`, `week` and the DAS28 components are needed to classify the EULAR response. Any "
              "other measurement column may be absent or empty: the sections below that need it then show a note "
              "starting \"Not available with these data\" naming the missing columns, and their claims are \"not "
              "testable with these data\".", "",
              "| chapter | section | needs |", "|---|---|---|"]
    for row in section_table().itertuples():
        lines.append(f"| {row.chapter} | {row.section} | {row.needs} |")
    lines.append("")
    path.write_text("\n".join(lines), "utf-8")


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


def _announcement(cohort_meta: dict | None, data_dir: Path) -> str:
    if cohort_meta is not None and cohort_meta.get("synthetic") is True:
        seed = cohort_meta.get("seed", "?")
        return (f"SYNTHETIC DATA: every number in this build comes from a simulated cohort (folder "
                f"'{data_dir.name}', seed {seed}), not from the study's patients.")
    return f"Built on the data folder '{data_dir.name}' (not marked synthetic)."


#: The render command's Python code. The process starts as soon as the book is staged: importing Sphinx,
#: Jupyter Book and the extensions and setting up the Sphinx application (configuration, theme, table of
#: contents) happen while the chapters run, at a lower priority (nice +10: it takes the CPU the zygote's imports
#: and the chapters leave idle, not theirs). Sphinx then *reads* the pages as they become final, still at the
#: lower priority: the static pages at once, each chapter notebook when the build writes ``ready DOCNAME`` on
#: standard input (its executed copy is staged), so after the chapters only the scorecard is left to read.
#: Writing starts when the build says ``go`` (every page is final), back at the build's priority; end of input
#: before ``go``: exit 3 without writing. The pages do not depend on the order they are read in (the table of
#: contents, numbering and search index are built from the whole environment; tests/test_build_overlap.py).
#: Writing: with 2 CPUs or more, the first process resolves each page and indexes it for the search while
#: forked ones (up to four at a time) write the pages already resolved, one page per task (Sphinx's own
#: parallel writing, whose default batches would hand ten pages to one process; every extension allows it).
#: Reading stays in one process: in parallel it is slower here (each worker sends back the large notebook
#: doctrees) and sphinx-multitoc-numbering does not declare itself safe for it. The environment is not pickled for an
#: incremental rebuild (the staging folder is thrown away), and the process ends with ``os._exit`` once every
#: file is written (the interpreter's teardown of Sphinx's objects took ~0.5 s). Garbage collection is off while
#: Sphinx is imported and set up, and what it has set up is frozen out of the collector's scans when reading
#: starts (:func:`gc.freeze`; the collections re-scanned those objects all through the reading and writing:
#: ~0.9 s of CPU). rfc3987_syntax: an optional IRI checker jsonschema imports and Sphinx never uses (~1.5 s).
_RENDER_CODE = """\
import functools
import gc
import os
import sys
gc.disable()  # importing and setting up Sphinx creates no garbage worth collecting (back on when reading starts)
_priority = os.getpriority(os.PRIO_PROCESS, 0)
os.setpriority(os.PRIO_PROCESS, 0, _priority + 10)  # set up and read on CPU the chapters leave idle
sys.modules['rfc3987_syntax'] = None
# execution is off (execute_notebooks: off): myst-nb's executing clients ("cache" and "force"), and the jupyter-cache
# and SQLAlchemy they import (~0.2 s), are never used; stand-in modules take their place and refuse to run
import types as _types


class _NoExecution:
    def __init__(self, *args, **kwargs):
        raise RuntimeError('the render does not execute notebooks (execute_notebooks: off)')


for _name, _client in (('cache', 'NotebookClientCache'), ('direct', 'NotebookClientDirect')):
    _module = _types.ModuleType('myst_nb.core.execute.' + _name)
    setattr(_module, _client, _NoExecution)
    sys.modules[_module.__name__] = _module
import sphinx.application as _app
import pickle as _pickle
import sphinx.builders as _builders
from sphinx.environment import BuildEnvironment as _BuildEnvironment

_parallel_allowed = _app.Sphinx.is_parallel_allowed


def _told():
    line = sys.stdin.readline()
    if not line:  # the build ended (failed or interrupted) before saying go: write nothing
        raise SystemExit(3)
    return line.split()


def _read_when_ready(self, docnames):
    gc.freeze()  # Sphinx, its extensions and the set-up application: never garbage, kept out of every collection
    gc.enable()
    waiting = [d for d in docnames if str(self.env.doc2path(d)).endswith('.ipynb')]
    ready, go = set(), False

    def read(docname):
        self.events.emit('env-purge-doc', self.env, docname)
        self.env.clear_doc(docname)
        self.read_doc(docname)

    for docname in docnames:
        if docname not in waiting:
            read(docname)
    while not go:
        words = _told()
        if words[:1] == ['ready']:
            ready.update(words[1:])
        elif words[:1] == ['go']:
            go = True
            try:  # back to the build's priority for the rest (not permitted everywhere: then it stays lower)
                os.setpriority(os.PRIO_PROCESS, 0, _priority)
            except OSError:
                pass
        for docname in [d for d in waiting if go or d in ready]:
            read(docname)
            waiting.remove(docname)


def _parallel_write_only(self, typ):
    return typ == 'write' and _parallel_allowed(self, typ)


def _one_page_per_task(arguments, nproc, maxbatch=10):
    return [[docname] for docname in arguments]


class _PickleButNotTheEnvironment:  # sphinx.builders' pickle, without saving the environment (no rebuild reads it)

    def __getattr__(self, name):
        return getattr(_pickle, name)

    @staticmethod
    def dump(obj, file, *args, **kwargs):
        if not isinstance(obj, _BuildEnvironment):
            _pickle.dump(obj, file, *args, **kwargs)


_builders.Builder._read_serial = _read_when_ready
_app.Sphinx.is_parallel_allowed = _parallel_write_only
_builders.make_chunks = _one_page_per_task
_builders.pickle = _PickleButNotTheEnvironment()
# two pure lookups the writing process repeats for every page: a word's stem for the search index (Sphinx caches
# it per page only) and a bibliography plugin by name (pybtex scans the installed packages' entry points each time)
import pybtex.plugin as _pybtex_plugin
import sphinx.search.en as _search_en
_search_en.SearchEnglish.stem = functools.lru_cache(maxsize=None)(_search_en.SearchEnglish.stem)
_pybtex_plugin.find_plugin = functools.lru_cache(maxsize=None)(_pybtex_plugin.find_plugin)
import jupyter_book.sphinx
jupyter_book.sphinx.build_sphinx = functools.partial(jupyter_book.sphinx.build_sphinx,
                                                     jobs=5 if (os.cpu_count() or 1) > 1 else 1)
from jupyter_book.cli.main import main
try:
    main()
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
else:
    code = 0
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)  # every file is written and closed: skip the interpreter's teardown of Sphinx's objects (~0.5 s)
"""


class _Render:
    """Jupyter Book's render of the staging folder (execution off, warnings are errors), started early.

    ``_Render(stage, out)`` starts the process once the book is staged (configuration, table of contents,
    static pages and a placeholder for each chapter notebook in place): it imports and sets up Sphinx and reads
    the static pages while the chapters run. :meth:`ready` tells it that a chapter's executed notebook is staged
    (it reads it now); :meth:`run` tells it that every page is final (the downloads too), so it reads what is
    left, writes the site, and waits for it; :meth:`stop` ends it unused (a failed or interrupted build).
    Either way nothing is left running.
    """

    def __init__(self, stage: Path, out: Path):
        self.stage, self.out = stage, out
        cmd = [sys.executable, "-c", _RENDER_CODE, "build", str(stage),
               "--path-output", str(stage), "-W", "-n", "--keep-going", "--quiet"]
        env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
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
            _kill(self.proc)
        try:
            self.proc.stdin.close()
        except OSError:
            pass


def _run_jupyter_book(stage: Path, verbose: bool, out: Path) -> None:
    """Render the staged book now (start and run a :class:`_Render`)."""
    render = _Render(stage, out)
    try:
        render.run()
    finally:
        render.stop()


def _publish(stage: Path, out: Path) -> None:
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


# --------------------------------------------------------------------------- the build
#: the build's record in its output folder (cache keys of the site and of each chapter), written when it publishes
MANIFEST = "build.json"


def _plan(root, out, available, selected, per_chapter, data_hash, book_src, data_dir, no_solutions, force,
          robustness):
    """Cache keys and plan: ``(keys, plan, site_key, rob_key, manifest_path, unchanged)``.

    A chapter is re-executed only when its notebook, the ``analysis`` code, the published values, its
    parameters or the input data changed; ``unchanged`` says the published site is exactly what this build
    would make (nothing to do).
    """
    code_hash = hash_tree(root / "analysis", ("*.py", "*.yaml"))
    published_hash = hash_tree(paths.published_dir())
    keys: dict[str, str] = {}
    for c in available:
        nb_hash = hash_files([book_src / c.notebook])
        # (--no-solutions only changes the rendering, so it is not part of a chapter's key)
        keys[c.name] = _sha(c.name, nb_hash, code_hash, published_hash, per_chapter[c.name],
                            data_hash if c.uses_data else "")
    plan: dict[str, str] = {}  # name -> "run" | "reuse" | "skip"
    for c in available:
        cached_nb = out / "executed" / c.notebook
        cached_key = out / "executed" / f"{c.name}.key"
        has_cache = cached_nb.exists() and (out / "results" / c.name).is_dir() and cached_key.exists()
        if c.phase == 2:
            plan[c.name] = "run"  # decided after phase 1
        elif c.name in selected:
            plan[c.name] = ("reuse" if (not force and has_cache and cached_key.read_text() == keys[c.name])
                            else "run")
        else:
            plan[c.name] = "reuse" if has_cache else "skip"
    static_hash = hash_tree(book_src, ("*.md", "*.bib", "*.png", "*.svg", "*.css"))
    config_hash = hash_files([root / "_config.yml", root / "_toc.yml"])
    manifest_path = out / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    # phase-2 chapters (the scorecard) depend only on phase-1 results, so the phase-1 keys identify the site;
    # computed now, because the build extends the phase-2 keys with the hash of the collected claims
    site_key = _sha({c.name: keys[c.name] for c in available if c.phase == 1}, static_hash, config_hash,
                    data_dir.as_posix(), no_solutions)
    # robustness (issue 21): a new result (given, in OUT, or shipped in data/robustness) rebuilds the scorecard
    rob_key = _robustness_key(robustness, out, book_src.parent / "data" / "robustness")
    unchanged = (not force and all(v == "reuse" for k, v in plan.items() if k != "scorecard")
                 and manifest.get("site_key") == site_key and manifest.get("robustness", "") == rob_key
                 and (out / "html" / "index.html").exists())
    return keys, plan, site_key, rob_key, manifest_path, unchanged


def _unchanged_without_validating(root, out, available, selected, user, book_src, data_dir, no_solutions,
                                  robustness) -> bool:
    """True when the published site is up to date, judged from the data files' hash alone (no validation).

    The site was built from exactly these files (their SHA-256 is in every chapter's key), with this code (its
    hash too: the rules of the data contract are part of it) and these parameters, and that build validated
    them; so a rebuild with nothing changed need not validate again nor start the warm process. Anything
    unexpected (no folder, an unreadable file, a bad parameter) answers False: the full path then reports it.
    """
    if not (out / MANIFEST).exists():  # never built here: answered before importing anything (pandas, ...)
        return False
    try:
        data_hash = ""
        if any(c.uses_data for c in available):
            from analysis.intake.io import fingerprint

            data_hash = fingerprint(data_dir)
        declared = {c.name: chapter_parameters(book_src / c.notebook) for c in available}
        if any("output_dir" not in p for p in declared.values()):
            return False
        per_chapter = check_parameters(user, declared)
        return _plan(root, out, available, selected, per_chapter, data_hash, book_src, data_dir, no_solutions,
                     False, robustness)[-1]
    except Exception:  # noqa: BLE001 - the full path reports it properly
        return False


def build(*, data_dir: Path | None = None, out: Path | None = None, chapters: list[str] | None = None,
          params: list[str] | dict | None = None, jobs: int | None = None, force: bool = False,
          timeout: float = 1800.0, verbose: bool = False, no_solutions: bool = False,
          book_dir: Path | None = None, warm_kernels: bool = True,
          report: Reporter = lambda msg: None, robustness: Path | None = None) -> BuildResult:
    """Validate, execute and render the book; publish only when everything succeeded.

    Parameters
    ----------
    data_dir : path, optional
        Data folder (default: the shipped synthetic cohort).
    out : path, optional
        Output folder (default ``_build``): site in ``out/html``, results in ``out/results``.
    chapters : list of str, optional
        Chapters to (re)execute; others reuse their previous executed copy when there is one.
    params : list of "KEY=VALUE" or dict
        Parameters passed to every chapter that declares them.
    jobs : int, optional
        Chapters executed at once (default: CPU count).
    force : bool
        Ignore the cache and re-execute every selected chapter.
    timeout : float
        Seconds one chapter may run before it is stopped.
    no_solutions : bool
        Instructor hand-out build: exercises kept, solutions removed.
    book_dir : path, optional
        Folder of the chapter notebooks and pages (default ``book/``; tests pass a modified copy).
    warm_kernels : bool
        Fork each chapter's papermill runner and kernel from a process that has already imported the
        scientific stack (:mod:`analysis.engine.zygote`; Linux only, ignored elsewhere). ``False`` starts them
        from scratch (slower, same results).
    report : callable
        Receives one progress line at a time.
    robustness : path, optional
        A ``python -m analysis robustness`` result (its ``--out`` folder, or its ``results/robustness``):
        copied to ``out/results/robustness`` for the scorecard. Without it, a robustness result already in
        ``out/results/robustness`` is kept.
    """
    t0 = time.perf_counter()
    root = paths.repo_root()
    data_dir = paths.resolve_dir(data_dir, paths.default_data_dir())
    out = paths.resolve_dir(out, root / "_build")
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    book_src = Path(book_dir).resolve() if book_dir else root / "book"
    user = params if isinstance(params, dict) else parse_parameters(list(params or []))

    names = [c.name for c in CHAPTERS]
    for name in chapters or []:
        if name not in names:
            raise UserError(f"--chapter {name}: no such chapter. Chapters: {', '.join(names)}.")
    available = [c for c in CHAPTERS if (book_src / c.notebook).exists()]

    # 1. output folder and lock
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise UserError(f"Cannot write to the output folder {out}: {err.strerror or err}. "
                        "Choose another folder with --out.") from None

    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0", PYDEVD_DISABLE_FILE_VALIDATION="1")
    # Chapter runners and kernels are forked from one process that imports papermill, pandas, SciPy,
    # seaborn, ... once (analysis.engine.zygote). It starts now, so its imports overlap with validating and staging.
    # (statsmodels and lifelines are imported by the zygote once the first `jobs` kernels are forked)
    with _Lock(out), contextlib.ExitStack() as started:
        # nothing changed (the usual rebuild): known from the hashes alone, before validating or starting processes
        if not force and _unchanged_without_validating(root, out, available, set(chapters or names), user,
                                                        book_src, data_dir, no_solutions, robustness):
            report("nothing changed since the last build: every chapter reused, site left as it is")
            return BuildResult(out=out, site=out / "html" / "index.html", up_to_date=True,
                               reused=[c.name for c in available], seconds=time.perf_counter() - t0)
        zygote = started.enter_context(Zygote(env, enabled=warm_kernels, quiet=not verbose, late_after=jobs))
        # 2. data
        cohort = cohort_meta = None
        data_hash = ""
        if any(c.uses_data for c in available):
            from analysis.intake.io import fingerprint, load  # load validates; raises DataError with every problem listed

            report(f"validating {data_dir}")
            cohort = load(data_dir)
            cohort_meta = dict(cohort.meta)
            data_hash = fingerprint(data_dir)  # also marks the validated cohort kept for the chapters
            kind = "synthetic cohort" if cohort.synthetic else "cohort (not marked synthetic)"
            report(f"data ok: {len(cohort.patients)} patients, {len(cohort.visits)} visits, "
                   f"{len(cohort.adverse_events)} adverse events ({kind})")

        # 3. parameters
        declared = {c.name: chapter_parameters(book_src / c.notebook) for c in available}
        for name, p in declared.items():
            missing = {"output_dir"} - set(p)
            if missing:
                raise BuildError(f"{name}.ipynb: the parameters cell must declare output_dir.")
        per_chapter = check_parameters(user, declared)
        _check_design_parameters(user, cohort)

        # 4. plan
        keys, plan, site_key, rob_key, manifest_path, unchanged = _plan(
            root, out, available, set(chapters or names), per_chapter, data_hash, book_src, data_dir, no_solutions,
            force, robustness)
        if unchanged:
            result = BuildResult(out=out, site=out / "html" / "index.html", up_to_date=True,
                                 reused=[c.name for c in available], seconds=time.perf_counter() - t0)
            report("nothing changed since the last build: every chapter reused, site left as it is")
            return result

        # staging folders of builds that were killed outright (SIGKILL, power loss): nobody uses them (we hold the lock)
        for old in out.glob(".staging-*"):
            shutil.rmtree(old, ignore_errors=True)
        stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
        renders: list[_Render] = []  # the render, started by _build_in_stage as soon as the book is staged
        try:
            result = _build_in_stage(stage, out, data_dir, available, plan, per_chapter, keys, jobs, timeout,
                                     verbose, report, t0, cohort_meta, no_solutions, book_src, user, force,
                                     cohort, data_hash, zygote, robustness=robustness, renders=renders)
            zygote.close()  # every chapter has run: the render gets the machine to itself
            report("rendering the book (Jupyter Book, execution off, warnings are errors)")
            tb = time.perf_counter()
            if not renders:
                renders.append(_Render(stage, out))
            renders[0].run()
            report(f"book rendered in {time.perf_counter() - tb:.1f}s")
            with _DeferInterrupts() as deferred:
                _publish(stage, out)
                manifest = {"site_key": site_key,
                            "data_dir": str(data_dir), "chapters": plan, "robustness": rob_key}
                manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
            if deferred.received:
                report("interrupt received while publishing: the new site was published completely first")
        finally:
            for render in renders:
                render.stop()
            shutil.rmtree(stage, ignore_errors=True)
        result.seconds = time.perf_counter() - t0
        return result


def _build_in_stage(stage, out, data_dir, available, plan, per_chapter, keys, jobs, timeout, verbose, report,
                    t0, cohort_meta, no_solutions, book_src, user, force, cohort, data_hash,
                    zygote, robustness: Path | None = None, renders: list | None = None) -> BuildResult:
    result = BuildResult(out=out, site=out / "html" / "index.html")
    executed_dir = stage / "executed"
    results_dir = stage / "results"
    executed_dir.mkdir()
    results_dir.mkdir()
    in_book = [c for c in available if plan[c.name] != "skip"]
    # the chapters share the cohorts they validate (analysis.intake.io.SHARED_ENV): each set of files once per build
    from analysis.intake.io import SHARED_ENV

    zygote.env[SHARED_ENV] = str(stage / ".validated")
    _stage_book(book_src, stage, in_book, _announcement(cohort_meta, data_dir), no_solutions)
    if renders is not None:  # Sphinx is imported and set up while the chapters run; it renders when told
        renders.append(_Render(stage, out))

    # derived tables every chapter shares, written once by the build; the validated cohort, which every
    # chapter's page.load() reuses instead of validating the folder again
    if cohort is not None:
        from analysis.science.derive import derive, write_derived
        from analysis.intake.io import keep_validated

        keep_validated(cohort, stage, data_fingerprint=data_hash)

        options = {k: user[k] for k in DERIVE_OPTIONS if user.get(k) is not None}
        write_derived(derive(cohort, **options), results_dir / "derived")

    staged: set[str] = set()

    def publishable(c: Chapter) -> None:
        """The executed notebook as the book renders it (the render may read it now), and the chapter's
        download (as soon as it is final)."""
        if no_solutions:  # the hand-out: exercises without solutions (the executed copies keep them)
            from analysis.engine.solutions import strip_solutions

            nb = strip_solutions(json.loads((executed_dir / c.notebook).read_text("utf-8")))
            (stage / "book" / c.notebook).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", "utf-8")
        else:
            shutil.copy2(executed_dir / c.notebook, stage / "book" / c.notebook)
        staged.add(c.name)
        if renders:
            renders[0].ready(c.notebook)
        write_downloads(results_dir, stage / DOWNLOADS_EXTRA, [c])

    for c in available:
        if plan[c.name] == "reuse":
            shutil.copy2(out / "executed" / c.notebook, executed_dir / c.notebook)
            (executed_dir / f"{c.name}.key").write_text(keys[c.name])
            shutil.copytree(out / "results" / c.name, results_dir / c.name)
            report(f"{c.name}: reused (unchanged since the last build)")
            result.reused.append(c.name)
            publishable(c)
        elif plan[c.name] == "skip":
            report(f"{c.name}: skipped (not selected and never built)")
            result.skipped.append(c.name)

    missing: dict[str, list[str]] = {}

    def finished(c: Chapter) -> None:
        """Called as each chapter ends (while the others still run): hide its parameters cells, mark what its
        data could not give, and stage its page and download."""
        missing[c.name] = _tag_hidden_cells(executed_dir / c.notebook)
        publishable(c)
    # the scorecard's runner and kernel start while the last chapters run, and wait for their claims
    early: dict[str, _Run] = {}
    try:
        _execute_phases(available, plan, stage, out, data_dir, per_chapter, keys, jobs, timeout, verbose, report,
                        t0, book_src, zygote, force, robustness, results_dir, executed_dir, result, finished,
                        missing, early)
    finally:
        for run in early.values():  # started in advance but not needed (reused, or the build failed)
            _kill(run.proc)
    # the executed notebooks are what the book renders (those executed now or reused are staged already)
    for c in available:
        if plan[c.name] != "skip" and c.name not in staged:
            publishable(c)
    write_downloads(results_dir, stage / DOWNLOADS_EXTRA, [])  # claims.csv
    return result


def _execute_phases(available, plan, stage, out, data_dir, per_chapter, keys, jobs, timeout, verbose, report, t0,
                    book_src, zygote, force, robustness, results_dir, executed_dir, result, finished, missing,
                    early) -> None:
    """Phase 1 (the chapters), then phase 2 (the scorecard, which reads their claims).

    Phase 2 may start before phase 1 ends (:class:`_EarlyScorecard`); it then stands only if the notebooks'
    claims are those it read.
    """
    base_keys = dict(keys)
    rob_files: list[Path] | None = None

    def phase2_inputs(claims: pd.DataFrame, todo: list[Chapter]) -> list[Chapter]:
        """Write ``results/claims.csv`` from ``claims``, stage the robustness result (once) and key each phase-2
        chapter of ``todo`` on them; returns those that cannot be reused from the last build."""
        nonlocal rob_files
        claims.to_csv(results_dir / "claims.csv", index=False, lineterminator="\n")
        # --- robustness (issue 21): the scorecard reads results/robustness/ when present
        if rob_files is None:
            rob_files = _stage_robustness(robustness, out, results_dir, report, book_src.parent / "data" / "robustness")
        # --- end robustness
        for c in todo:
            keys[c.name] = _sha(base_keys[c.name], hash_files([results_dir / "claims.csv"] + rob_files))
        return [c for c in todo if not _reusable(c, out, keys[c.name], force)]

    phase2 = [c for c in available if c.phase == 2 and plan[c.name] == "run"]
    early_scorecard = None
    if len(phase2) == 1 and jobs > 1:
        early_scorecard = _EarlyScorecard(phase2[0], [c for c in available if c.phase == 1], stage, data_dir,
                                          per_chapter, zygote, phase2_inputs, report, t0)
    for phase in (1, 2):
        todo = [c for c in available if c.phase == phase and plan[c.name] == "run"]
        if phase == 2:
            from analysis.scorecard.summary import collect

            claims = collect(results_dir)
            if early_scorecard is not None and early_scorecard.released:
                if early_scorecard.stands(claims):
                    report(f"{early_scorecard.chapter.name}: its early start stands (the notebooks gave the claims "
                           "it read)")
                else:
                    report(f"{early_scorecard.chapter.name}: started again (the notebooks' claims differ from the "
                           "headless ones it read)")
                    early_scorecard.discard(early, executed_dir, results_dir)
                    early_scorecard = None
            if early_scorecard is None or not early_scorecard.released:
                to_run = phase2_inputs(claims, todo)
                # reuse a phase-2 chapter whose inputs (the collected claims) are unchanged
                for c in [c for c in todo if c not in to_run]:
                    todo.remove(c)
                    shutil.copy2(out / "executed" / c.notebook, executed_dir / c.notebook)
                    (executed_dir / f"{c.name}.key").write_text(keys[c.name])
                    shutil.copytree(out / "results" / c.name, results_dir / c.name)
                    report(f"{c.name}: reused (the claims it reads are unchanged)")
                    result.reused.append(c.name)
                    if c.name in early:
                        _kill(early.pop(c.name).proc)
        later = phase2 if phase == 1 else []
        # longest first (Chapter.cost), so the slots end together: a short chapter is the last to finish
        longest_first = sorted(todo, key=lambda c: -c.cost)
        try:
            _execute(longest_first, stage, data_dir, per_chapter, jobs, timeout, verbose, report, t0, out, book_src,
                     zygote, on_done=finished, prestart=later, early=early,
                     idle=early_scorecard.tick if phase == 1 and early_scorecard is not None else None)
        finally:
            if phase == 1 and early_scorecard is not None:
                early_scorecard.stop_job()
        for c in todo:
            gone = _sections_not_available(results_dir / c.name)
            if gone:
                result.sections_not_available[c.name] = gone
                report(f"{c.name}: sections not available with these data (shown as notes): {'; '.join(gone)}")
            if missing[c.name]:
                result.not_available[c.name] = missing[c.name]
                report(f"{c.name}: not available with these data (shown as notes): {', '.join(missing[c.name])}")
            (executed_dir / f"{c.name}.key").write_text(keys[c.name])
            result.executed.append(c.name)


def _reusable(c: Chapter, out: Path, key: str, force: bool) -> bool:
    """Whether the last build's output of phase-2 chapter ``c`` was made from the inputs keyed ``key``."""
    cached_key = out / "executed" / f"{c.name}.key"
    return (not force and cached_key.exists() and cached_key.read_text() == key
            and (out / "executed" / c.notebook).exists() and (out / "results" / c.name).is_dir())


class _EarlyScorecard:
    """The scorecard started while the last chapter still runs, on that chapter's claims computed headlessly.

    The scorecard reads only the chapters' claims, and each chapter's ``evaluate`` computes them without the
    notebook and its figures (:mod:`analysis.scorecard.evaluate`; ``tests/test_evaluate.py`` checks they agree). So once
    every chapter has started and a slot is free, the build (:meth:`tick`, called by :func:`_execute`):

    1. forks from the zygote one process that writes the claims of the chapters still running
       (``python -m analysis.engine.runner --claims``, about 0.2 s);
    2. collects them with the claims of the chapters that have ended, writes ``results/claims.csv`` and lets
       the scorecard, started in advance, run on it, on the CPU the last chapter leaves idle.

    When the last chapters end, :meth:`stands` compares their notebooks' claims with what the scorecard read.
    The same (the usual case): its run stands. Not the same: it is stopped or its output discarded
    (:meth:`discard`), and the scorecard runs again on the notebooks' claims, as without an early start. The
    book is the same either way (``tests/test_build_overlap.py``); the build only waits less. Nothing is
    started early without a zygote (a cold process would import the stack), with one slot, or when the
    scorecard can be reused from the last build.
    """

    def __init__(self, chapter: Chapter, phase1: list[Chapter], stage: Path, data_dir, per_chapter: dict,
                 zygote: Zygote, inputs: Callable, report: Reporter, t0: float):
        self.chapter = chapter
        self.phase1 = phase1
        self.stage = stage
        self.data_dir = data_dir
        self.per_chapter = per_chapter
        self.zygote = zygote
        self.inputs = inputs
        self.report = report
        self.t0 = t0
        self.folder = stage / ".early-claims"
        self.job = None
        self.headless: list[str] = []
        self.claims: pd.DataFrame | None = None
        self.released = False
        self.done = False  # released, or given up

    def tick(self, running: list[_Run], early: dict[str, _Run]) -> None:
        """Every chapter has started and a slot is free: start the claims process, or release the scorecard."""
        from analysis.scorecard.evaluate import CHAPTER_MODULES

        if self.done or self.chapter.name not in early or not running:
            return
        if self.job is None:
            names = [r.chapter.name for r in running]
            if any(n not in CHAPTER_MODULES for n in names) or SOCKET_ENV not in self.zygote.env:
                self.done = True
                return
            params = {n: self.per_chapter.get(n, {}) for n in names}
            self.job = self.zygote.start_runner(
                ["--claims", str(self.data_dir), str(self.stage), json.dumps(params), str(self.folder), *names],
                cwd=paths.repo_root(), stderr=self.stage / ".early-claims.stderr")
            self.headless = names
            self.done = self.job is None
            return
        code = self.job.poll()
        if code is None:
            return
        self.job = None
        self.done = True
        if code != 0:
            return  # the scorecard waits for the notebooks, as without an early start
        from analysis.scorecard.summary import collect

        still = {r.chapter.name for r in running}
        for c in self.phase1:  # the notebooks' claims of every chapter that has ended; headless for the others
            ended = self.stage / "results" / c.name / "claims.csv"
            if c.name not in still and ended.is_file():
                (self.folder / c.name).mkdir(parents=True, exist_ok=True)
                shutil.copy2(ended, self.folder / c.name / "claims.csv")
        claims = collect(self.folder)
        if not self.inputs(claims, [self.chapter]):
            return  # reusable from the last build: phase 2 will reuse it
        self.claims = claims
        self.released = True
        _go(self.stage, early[self.chapter.name])
        headless = [n for n in self.headless if n in still]
        which = (f"{headless[0]} computed without the notebook (checked when it ends)" if len(headless) == 1 else
                 f"{', '.join(headless)} computed without the notebooks (checked when they end)")
        self.report(f"[{time.perf_counter() - self.t0:6.1f}s] {self.chapter.name}: started early, on the claims of "
                    + which)

    def stands(self, claims: pd.DataFrame) -> bool:
        """Whether the notebooks' ``claims`` are those the early scorecard read."""
        return self.claims is not None and self.claims.equals(claims)

    def discard(self, early: dict[str, _Run], executed_dir: Path, results_dir: Path) -> None:
        """Stop the early scorecard and remove what it wrote (it runs again on the notebooks' claims)."""
        run = early.pop(self.chapter.name, None)
        if run is not None:
            _kill(run.proc)
        (executed_dir / self.chapter.notebook).unlink(missing_ok=True)
        shutil.rmtree(results_dir / self.chapter.name, ignore_errors=True)
        _go_file(self.stage, self.chapter).unlink(missing_ok=True)

    def stop_job(self) -> None:
        """Stop the claims process if it still runs (a chapter failed, or the build was interrupted)."""
        if self.job is not None:
            _kill(self.job)
            self.job = None


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


# --- robustness (issue 21)
def _is_shipped(folder: Path) -> bool:
    """True when ``folder`` holds the precomputed result shipped with the book (or a build's copy of it)."""
    try:
        return bool(json.loads((folder / "run.json").read_text("utf-8")).get("shipped_with_book"))
    except (OSError, ValueError):
        return False


def _robustness_source(given: Path | None, out: Path, shipped: Path | None = None) -> Path | None:
    """The robustness folder the scorecard will read.

    In order: ``given`` (or its ``results/robustness``); the result in ``out/results/robustness`` (a
    ``python -m analysis robustness --out OUT`` run, or what the last build published) unless that is a
    copy of the shipped result; the precomputed result ``shipped`` with the book (``data/robustness``,
    labelled in its ``run.json``); else None.
    """
    if given is not None:
        given = Path(given)
        return given / "results" / "robustness" if (given / "results" / "robustness").is_dir() else given
    published = out / "results" / "robustness"
    if published.is_dir() and not (_is_shipped(published) and shipped is not None and shipped.is_dir()):
        return published
    if shipped is not None and (shipped / "claim_probability.csv").is_file():
        return shipped
    return published if published.is_dir() else None


def _robustness_key(given: Path | None, out: Path, shipped: Path | None = None) -> str:
    """Hash of the robustness folder the scorecard will read ("" when none); checks a given folder."""
    source = _robustness_source(given, out, shipped)
    if given is not None and not (source.is_dir() and ((source / "claim_probability.csv").is_file()
                                                       or (source / "multiverse.csv").is_file())):
        raise UserError(f"--robustness {given}: no claim_probability.csv or multiverse.csv there (nor in "
                        "results/robustness/); run python -m analysis robustness --out DIR first.")
    return hash_tree(source) if source is not None and source.is_dir() else ""


def _stage_robustness(given: Path | None, out: Path, results_dir: Path, report: Reporter,
                      shipped: Path | None = None) -> list[Path]:
    """Copy a robustness result (see :func:`_robustness_source`) to ``results/robustness``.

    Returns the files copied (their hashes join the scorecard's cache key).
    """
    source = _robustness_source(given, out, shipped)
    if source is None or not source.is_dir():
        return []
    target = results_dir / "robustness"
    if target.resolve() != source.resolve():
        shutil.rmtree(target, ignore_errors=True)  # no file of an older result stays beside a newer one
        shutil.copytree(source, target)
    report(f"robustness result for the scorecard: {source}"
           + (" (precomputed, shipped with the book)" if _is_shipped(source) else ""))
    return sorted(p for p in target.iterdir() if p.is_file())
# --- end robustness


def _start_runner(c: Chapter, stage, data_dir, per_chapter, book_src, zygote: Zygote, *, go: bool = False) -> _Run:
    """Start chapter ``c``'s runner (forked by the zygote, else a new process). With ``go``, its kernel starts
    now but its first cell runs only when :func:`_go_file` exists (:func:`_go`)."""
    params = dict(per_chapter[c.name], output_dir=str(stage))
    declared = chapter_parameters(book_src / c.notebook)
    if "data_dir" in declared:
        params["data_dir"] = str(data_dir)
    if "results_dir" in declared:
        params["results_dir"] = str(stage / "results")
    err_path = stage / f".{c.name}.stderr"
    args = [str(book_src / c.notebook), str(stage / "executed" / c.notebook), json.dumps(params),
            str(stage / "book")] + ([str(_go_file(stage, c))] if go else [])
    proc = zygote.start_runner(args, cwd=paths.repo_root(), stderr=err_path)
    if proc is None:
        with open(err_path, "w") as err_fh:
            proc = subprocess.Popen([sys.executable, "-m", "analysis.engine.runner", *args],
                                    stdout=subprocess.DEVNULL, stderr=err_fh, env=zygote.env,
                                    cwd=paths.repo_root(), start_new_session=True)
    return _Run(c, proc, time.perf_counter(), err_path)


def _go_file(stage: Path, c: Chapter) -> Path:
    """The file whose existence lets chapter ``c``'s runner, started with ``go=True``, run its cells."""
    return stage / f".{c.name}.go"


def _go(stage: Path, run: _Run) -> _Run:
    """Let a runner started with ``go=True`` run its cells; its clock (``--timeout``) starts now (or went on
    running if it was told to go already)."""
    go = _go_file(stage, run.chapter)
    if not go.exists():
        go.touch()
        run.started = time.perf_counter()
    return run


def _execute(todo, stage, data_dir, per_chapter, jobs, timeout, verbose, report, t0, out, book_src,
             zygote: Zygote, on_done: Callable[[Chapter], None] | None = None,
             prestart: list[Chapter] | None = None, early: dict[str, _Run] | None = None,
             idle: Callable[[list[_Run], dict[str, _Run]], None] | None = None) -> None:
    """Run the chapters ``todo``, ``jobs`` at a time, each in a runner process of its own.

    With a zygote, the runner is forked from it (papermill and the scientific stack already imported);
    otherwise it is started with ``python -m analysis.engine.runner``. Either way it leads a session of its own,
    so a timeout or Ctrl-C stops it (and its kernel) without touching the other chapters.

    The next chapter waiting for a slot is started in advance (runner and kernel, into ``early``, waiting
    for :func:`_go`), so it runs its first cell as soon as a slot frees. ``prestart``: chapters of the next
    phase started the same way as soon as a slot is free (the last chapters of this phase are running). A
    chapter of ``todo`` found in ``early`` is told to go instead of being started. The caller stops what it
    leaves in ``early``. ``idle(running, early)`` is called on every turn once every chapter of ``todo`` has
    started and a slot is free (:class:`_EarlyScorecard`).
    """
    pending = list(todo)
    prestart = list(prestart or [])
    early = early if early is not None else {}
    how = ("runners and kernels forked from the warm process" if SOCKET_ENV in zygote.env
           else "each in a new process")
    report(f"[{time.perf_counter() - t0:6.1f}s] executing {len(todo)} chapter(s), up to {jobs} at a time ({how})")
    running: list[_Run] = []
    failure: BuildError | None = None
    try:
        while pending or running:
            while pending and len(running) < jobs and failure is None:
                c = pending.pop(0)
                how_started = "started"
                if c.name in early:
                    if _go_file(stage, c).exists():
                        how_started = "running (started early)"
                    running.append(_go(stage, early.pop(c.name)))
                else:
                    running.append(_start_runner(c, stage, data_dir, per_chapter, book_src, zygote))
                report(f"[{time.perf_counter() - t0:6.1f}s] {c.name}: {how_started}")
            if pending and failure is None and pending[0].name not in early:
                # the next chapter's runner and kernel start now and wait: it runs its cells as a slot frees
                c = pending[0]
                early[c.name] = _start_runner(c, stage, data_dir, per_chapter, book_src, zygote, go=True)
            if prestart and not pending and running and len(running) < jobs and failure is None:
                c = prestart.pop(0)
                early[c.name] = _start_runner(c, stage, data_dir, per_chapter, book_src, zygote, go=True)
            if idle is not None and not pending and running and len(running) < jobs and failure is None:
                idle(running, early)
            time.sleep(0.02)
            for run in list(running):
                code = run.proc.poll()
                elapsed = time.perf_counter() - run.started
                if code is None and elapsed > timeout:
                    _kill(run.proc)
                    running.remove(run)
                    failure = failure or BuildError(
                        f"Chapter '{run.chapter.name}' was stopped after {timeout:g}s (--timeout). "
                        f"The previous site in {out / 'html'} was left unchanged.")
                    report(f"[{time.perf_counter() - t0:6.1f}s] {run.chapter.name}: TIMED OUT after {elapsed:.1f}s")
                elif code is not None:
                    running.remove(run)
                    if code == 0:
                        report(f"[{time.perf_counter() - t0:6.1f}s] {run.chapter.name}: done in {elapsed:.1f}s")
                        if on_done is not None and failure is None:
                            on_done(run.chapter)
                    else:
                        report(f"[{time.perf_counter() - t0:6.1f}s] {run.chapter.name}: FAILED after {elapsed:.1f}s")
                        failure = failure or _chapter_error(run.chapter, run.stderr_path.read_text(), verbose, out)
            if failure is not None and not running:
                break
    except BaseException:
        for run in running:
            _kill(run.proc)
        raise
    if failure is not None:
        raise failure
