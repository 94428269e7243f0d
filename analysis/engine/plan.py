"""The build's plan: a cache key per chapter, and which chapters run, are reused from the last build, or skipped.

A chapter is re-executed only when its notebook, the ``analysis`` code, the published values, its
parameters or the input data changed (content hashes), unless forced. The build's record of the last
published site is :data:`MANIFEST` in the output folder. Also here: which robustness result the scorecard
reads (part of its key).
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from analysis.core import paths
from analysis.core.chapters import Chapter
from analysis.core.errors import UserError
from analysis.core.provenance import hash_files, hash_tree
from analysis.engine.params import check_parameters, declared_parameters

__all__ = ["MANIFEST", "RESULT_FILES", "SHIPPED", "Plan", "cache_key", "inputs_key", "make_plan", "reusable", "robustness_key",
           "robustness_source", "stage_robustness", "up_to_date"]


def cache_key(*parts: object) -> str:
    """A short SHA-256 of JSON-able ``parts`` (a chapter's, the site's cache key).

    Examples
    --------
    >>> cache_key("safety", {"alpha": 0.05}) == cache_key("safety", {"alpha": 0.05}), len(cache_key(1))
    (True, 20)
    """
    h = hashlib.sha256()
    for part in parts:
        h.update(json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()[:20]


def inputs_key(c: Chapter, params: dict, data_fingerprint: str) -> str:
    """What chapter ``c`` computes *from*: its parameters and, if it reads data, the data files' hash.

    A chapter's cache key also covers its notebook and the code; this narrower key decides whether a
    chapter left out by ``--chapter`` may be reused: only when it was built on the same data and parameters,
    so a book never shows two data folders (issue 34).

    Examples
    --------
    >>> from analysis.core.chapters import chapter
    >>> inputs_key(chapter("safety"), {"alpha": 0.05}, "abc") == inputs_key(chapter("safety"), {"alpha": 0.05}, "abd")
    False
    >>> inputs_key(chapter("audit"), {"alpha": 0.05}, "abc") == inputs_key(chapter("audit"), {"alpha": 0.05}, "abd")
    True
    """
    return cache_key("inputs", params, data_fingerprint if c.uses_data else "")


#: the build's record in its output folder (cache keys of the site and of each chapter), written when it publishes
MANIFEST = "build.json"


@dataclass
class Plan:
    """What a build will do, from content hashes (:func:`make_plan`)."""

    #: chapter -> cache key (phase-2 keys are extended later with the hash of the collected claims)
    keys: dict[str, str]
    #: chapter -> "run" | "reuse" | "skip" (phase-2 chapters: "run", decided after phase 1)
    actions: dict[str, str]
    #: chapter -> its :func:`inputs_key` (written beside its executed copy)
    inputs: dict[str, str]
    #: chapters not selected that must run anyway: their last run used other data or parameters
    rerun_unselected: list[str]
    #: identifies the published site (phase-1 keys, static pages, configuration, data folder, --no-solutions)
    site_key: str
    #: hash of the robustness result the scorecard will read ("" when none)
    robustness_key: str
    manifest_path: Path
    #: the published site is exactly what this build would make: nothing to do
    unchanged: bool


def make_plan(*, root: Path, out: Path, chapters: list[Chapter], selected: set[str], per_chapter: dict[str, dict],
              data_fingerprint: str, book_src: Path, data_dir: Path, no_solutions: bool, force: bool,
              robustness: Path | None) -> Plan:
    """Cache keys and plan of a build of ``chapters`` (those whose notebook is in ``book_src``).

    A chapter is re-executed only when its notebook, the ``analysis`` code, the published values, its
    parameters (``per_chapter``) or the input data (``data_fingerprint``, :attr:`analysis.intake.io.Cohort.fingerprint`)
    changed; a chapter not ``selected`` is reused when the last build left it *from the same data and
    parameters* (:func:`inputs_key`), run when it was built on other inputs, and skipped when never built.
    """
    code_hash = hash_tree(root / "analysis", ("*.py", "*.yaml"))
    published_hash = hash_tree(paths.published_dir())
    # robustness (issue 21): a new result (given, in OUT, or shipped in data/robustness) rebuilds the scorecard;
    # its operating characteristics also rebuild the chapters, which show each claim's class (issue 31)
    shipped = book_src.parent / "data" / "robustness"
    rob_key = robustness_key(robustness, out, shipped)
    rob_source = robustness_source(robustness, out, shipped)
    oc_file = rob_source / "operating_characteristics.csv" if rob_source is not None else None
    oc_hash = hash_files([oc_file]) if oc_file is not None and oc_file.is_file() else ""
    keys: dict[str, str] = {}
    for c in chapters:
        nb_hash = hash_files([book_src / c.notebook])
        keys[c.name] = cache_key(c.name, nb_hash, code_hash, published_hash, per_chapter[c.name],
                                 data_fingerprint if c.uses_data else "", oc_hash if c.phase == 1 else "")
        if no_solutions:  # a hand-out's executed copies have no solutions (analysis.engine.solutions): keyed apart
            keys[c.name] = cache_key(keys[c.name], "no-solutions")
    # (a hand-out's copies have no solutions: one is never reused for a book with them, nor the other way)
    inputs = {c.name: inputs_key(c, per_chapter[c.name], data_fingerprint) + ("-no-solutions" if no_solutions else "")
              for c in chapters}
    plan: dict[str, str] = {}  # name -> "run" | "reuse" | "skip"
    rerun: list[str] = []
    for c in chapters:
        cached_nb = out / "executed" / c.notebook
        cached_key = out / "executed" / f"{c.name}.key"
        cached_inputs = out / "executed" / f"{c.name}.inputs"
        has_cache = cached_nb.exists() and (out / "results" / c.name).is_dir() and cached_key.exists()
        if c.phase == 2:
            plan[c.name] = "run"  # decided after phase 1
        elif c.name in selected:
            plan[c.name] = ("reuse" if (not force and has_cache and cached_key.read_text() == keys[c.name])
                            else "run")
        elif not has_cache:
            plan[c.name] = "skip"
        elif cached_inputs.is_file() and cached_inputs.read_text() == inputs[c.name]:
            plan[c.name] = "reuse"  # (its notebook or the code may have changed: --chapter's purpose)
        else:  # built on other data or parameters: reusing it would publish a book of two data sets
            plan[c.name] = "run"
            rerun.append(c.name)
    static_hash = hash_tree(book_src, ("*.md", "*.bib", "*.png", "*.svg", "*.css"))
    config_hash = hash_files([root / "_config.yml", root / "_toc.yml"])
    manifest_path = out / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    # the keys identify the site (phase-2 chapters depend otherwise only on phase-1 results), computed now,
    # while the phase-2 keys are their base keys (notebook, code, parameters): the build extends them later
    # with the hash of the collected claims; the scorecard compares with the shipped default build, so
    # that build's files are part of the site too
    default_build = book_src.parent / "data" / "default_build"
    site_key = cache_key(keys, static_hash, config_hash, data_dir.as_posix(), no_solutions,
                         hash_tree(default_build) if default_build.is_dir() else "")
    later = {c.name for c in chapters if c.phase == 2}  # always "run" here: decided after phase 1
    unchanged = (not force and all(v == "reuse" for k, v in plan.items() if k not in later)
                 and manifest.get("site_key") == site_key and manifest.get("robustness", "") == rob_key
                 and (out / "html" / "index.html").exists())
    return Plan(keys, plan, inputs, rerun, site_key, rob_key, manifest_path, unchanged)


def up_to_date(*, root: Path, out: Path, chapters: list[Chapter], selected: set[str], user: dict, book_src: Path,
               data_dir: Path, no_solutions: bool, robustness: Path | None) -> bool:
    """True when the published site is up to date, judged from the data files' hash alone (no validation).

    The site was built from exactly these files (their SHA-256, :func:`analysis.intake.io.fingerprint`, is in
    every chapter's key), with this code (its hash too: the rules of the data contract are part of it) and
    these parameters, and that build validated them; so a rebuild with nothing changed need not validate
    again nor start the warm process. Anything unexpected (no folder, an unreadable file, a bad parameter)
    answers False: the full path then reports it.
    """
    if not (out / MANIFEST).exists():  # never built here: answered before importing anything (pandas, ...)
        return False
    try:
        data_fingerprint = ""
        if any(c.uses_data for c in chapters):
            from analysis.intake.io import fingerprint

            data_fingerprint = fingerprint(data_dir)
        per_chapter = check_parameters(user, declared_parameters(chapters, book_src))
        return make_plan(root=root, out=out, chapters=chapters, selected=selected, per_chapter=per_chapter,
                         data_fingerprint=data_fingerprint, book_src=book_src, data_dir=data_dir,
                         no_solutions=no_solutions, force=False, robustness=robustness).unchanged
    except Exception:  # noqa: BLE001 - the full path reports it properly
        return False


def reusable(c: Chapter, out: Path, key: str, force: bool) -> bool:
    """Whether the last build's output of phase-2 chapter ``c`` was made from the inputs keyed ``key``."""
    cached_key = out / "executed" / f"{c.name}.key"
    return (not force and cached_key.exists() and cached_key.read_text() == key
            and (out / "executed" / c.notebook).exists() and (out / "results" / c.name).is_dir())


def _is_shipped(folder: Path) -> bool:
    """True when ``folder`` holds the precomputed result shipped with the book (or a build's copy of it)."""
    try:
        return bool(json.loads((folder / "run.json").read_text("utf-8")).get("shipped_with_book"))
    except (OSError, ValueError):
        return False


#: ``build --robustness shipped``: show the precomputed result shipped with the book again (``data/robustness``)
SHIPPED = "shipped"
#: a robustness folder given to ``build --robustness`` holds at least one of these: the simulated cohorts, the
#: multiverse, a design run (``robustness --design-from``, issue 32: the page "Planning a replication") or the data
#: folder resampled (``robustness --resample``, issue 32)
RESULT_FILES: tuple[str, ...] = ("claim_probability.csv", "multiverse.csv", "design_characteristics.csv",
                                 "data_probability.csv")


def robustness_source(given: Path | str | None, out: Path, shipped: Path | None = None) -> Path | None:
    """The robustness folder the scorecard will read.

    In order: ``given`` (or its ``results/robustness``; the word :data:`SHIPPED` names ``shipped``); the result
    in ``out/results/robustness`` (a ``python -m analysis robustness --out OUT`` run, or what the last build
    published) unless that is a copy of the shipped result; the precomputed result ``shipped`` with the book
    (``data/robustness``, labelled in its ``run.json``); else None.

    Examples
    --------
    >>> import tempfile
    >>> out, shipped = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    >>> _ = (shipped / "claim_probability.csv").write_text("claim_id\\n")
    >>> (out / "results" / "robustness").mkdir(parents=True)
    >>> robustness_source(None, out, shipped) == out / "results" / "robustness"  # kept from an earlier build
    True
    >>> robustness_source(SHIPPED, out, shipped) == shipped  # back to the shipped result
    True
    """
    if isinstance(given, str) and given == SHIPPED:
        return shipped
    if given is not None:
        given = Path(given)
        return given / "results" / "robustness" if (given / "results" / "robustness").is_dir() else given
    published = out / "results" / "robustness"
    # a copy of the shipped result is kept only when a build added the resampled data to it (data_probability.csv)
    if published.is_dir() and not (_is_shipped(published) and shipped is not None and shipped.is_dir()
                                   and not (published / "data_probability.csv").is_file()):
        return published
    if shipped is not None and (shipped / "claim_probability.csv").is_file():
        return shipped
    return published if published.is_dir() else None


def robustness_key(given: Path | str | None, out: Path, shipped: Path | None = None) -> str:
    """Hash of the robustness folder the scorecard will read ("" when none); checks a given folder."""
    source = robustness_source(given, out, shipped)
    if isinstance(given, str) and given == SHIPPED:
        if source is None or not (source / "claim_probability.csv").is_file():
            raise UserError(f"--robustness {SHIPPED}: no robustness result is shipped with this copy of the book "
                            f"({source or 'data/robustness'} has no claim_probability.csv); make one with "
                            "python tools/ship_robustness.py, or give a result folder.")
        return hash_tree(source)
    if given is not None and not (source.is_dir() and any((source / name).is_file() for name in RESULT_FILES)):
        raise UserError(f"--robustness {given}: no {', '.join(RESULT_FILES[:-1])} or {RESULT_FILES[-1]} there (nor "
                        "in results/robustness/); run python -m analysis robustness --out DIR first.")
    return hash_tree(source) if source is not None and source.is_dir() else ""


def stage_robustness(given: Path | str | None, out: Path, results_dir: Path, report: Callable[[str], None],
                     shipped: Path | None = None) -> list[Path]:
    """Copy a robustness result (see :func:`robustness_source`) to ``results/robustness``.

    Returns the files copied (their hashes join the scorecard's cache key).
    """
    source = robustness_source(given, out, shipped)
    if source is None or not source.is_dir():
        return []
    target = results_dir / "robustness"
    if target.resolve() != source.resolve():
        shutil.rmtree(target, ignore_errors=True)  # no file of an older result stays beside a newer one
        shutil.copytree(source, target)
    report(f"robustness result for the scorecard: {_describe_source(source)}")
    return sorted(p for p in target.iterdir() if p.is_file())


def _describe_source(source: Path) -> str:
    """What :func:`stage_robustness` shows, in words: the folder, or for ``build --resamples`` (a temporary folder
    that the build removes) the data resampled now beside the simulated result it was combined with.

    Examples
    --------
    >>> import json, tempfile
    >>> d = Path(tempfile.mkdtemp(prefix=".resample-")) / "results" / "robustness"
    >>> d.mkdir(parents=True)
    >>> _ = (d / "data_probability.csv").write_text("claim_id\\n")
    >>> _ = (d / "run.json").write_text(json.dumps({"resample_data": "mine", "resample_count": 5,
    ...                                            "resample_beside": "no simulated result"}))
    >>> _describe_source(d)
    'the data mine resampled now (5 resamples per method), beside no simulated result'
    """
    try:
        run = json.loads((source / "run.json").read_text("utf-8"))
    except (OSError, ValueError):
        run = {}
    resampled = (source / "data_probability.csv").is_file()
    if resampled and "resample_beside" in run and source.parent.parent.name.startswith(".resample-"):
        return (f"the data {run.get('resample_data', '?')} resampled now ({run.get('resample_count', '?')} "
                f"resamples per method), beside {run['resample_beside']}")
    if _is_shipped(source):
        return f"{source} (" + ("a copy of the result shipped with the book, with the resampling of "
                                f"{run.get('resample_data', '?')} added by a build" if resampled
                                else "precomputed, shipped with the book") + ")"
    return str(source)
