"""Build the book: validate the data, execute the chapters with papermill, render with Jupyter Book.

The flow of one build (:func:`build`):

0. check the ``-p`` parameters against every chapter's ``parameters`` cell and what each may take (unknown name,
   wrong type, a value outside its choices or range: refuse; :mod:`analysis.engine.params`);
1. take a lock on the output folder (a second build on the same folder refuses; :mod:`analysis.engine.publish`);
   when nothing changed since the last build, known from content hashes alone, stop here
   (:func:`analysis.engine.plan.up_to_date`);
2. read and validate the data folder, once (nothing runs on data that breaks the contract); the validated
   cohort, with its design and the fingerprint of its files, is what every later step uses;
3. check the ``-p`` weeks against the data's design (a response week that is no visit: refuse, naming the weeks
   allowed);
4. plan: a chapter is re-executed only when its notebook, the ``analysis`` code, the published values,
   its parameters or the input data changed (content hashes), unless ``force`` (:mod:`analysis.engine.plan`);
5. execute chapters with papermill, in parallel, each in its own process (timeout, Ctrl-C safe),
   into a staging folder inside the output folder; on Linux those processes and their kernels are
   forked from one that imported the scientific stack once (:mod:`analysis.engine.forkserver`), and each chapter
   reuses the cohort validated in step 2 (:func:`analysis.intake.io.keep_validated`);
6. render the staged book with Jupyter Book, execution off, warnings as errors (the render process is
   started as soon as the book is staged, so Sphinx is imported and set up while the chapters run;
   :mod:`analysis.engine.render`, :mod:`analysis.engine.render_sphinx`);
7. publish: swap the new ``html/``, ``results/`` and ``executed/`` into place. Until this last step
   the previous site is untouched; on any failure the staging folder is removed.

The module reports progress through a callback and raises :class:`~analysis.core.errors.UserError`
subclasses with one-paragraph messages; it never prints.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from analysis.core import paths
from analysis.core.chapters import CHAPTERS, Chapter
from analysis.core.errors import BuildError, UserError
from analysis.core.notebooks import chapter_parameters
from analysis.core.provenance import hash_files
from analysis.engine.forkclient import SOCKET_ENV, ForkedRunner, Zygote
from analysis.engine.params import (DERIVE_OPTIONS, check_design_parameters, check_parameters, declared_parameters,
                                    parse_parameters)
from analysis.engine.plan import (cache_key, make_plan, reusable, robustness_key, robustness_source,
                                  stage_robustness, up_to_date)
from analysis.engine.processes import kill
from analysis.engine.publish import DOWNLOADS_EXTRA, DeferInterrupts, Lock, publish, write_downloads
from analysis.engine.render import (Render, announcement_for, not_available_by_heading, sections_not_available,
                                    stage_book, tag_hidden_cells)

if TYPE_CHECKING:  # pandas is imported where a build needs it (a no-change rebuild never does)
    import pandas as pd

    from analysis.intake.io import Cohort

__all__ = ["BuildResult", "build"]

Reporter = Callable[[str], None]


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
    #: chapter -> heading of its page -> how many of ``not_available`` it refers to first (for the log, in words)
    not_available_where: dict[str, dict[str, int]] = field(default_factory=dict)


# --------------------------------------------------------------------------- running the chapters
@dataclass
class _Run:
    chapter: Chapter
    proc: "subprocess.Popen | ForkedRunner"  # ForkedRunner: forked by the zygote (analysis.engine.forkserver)
    started: float
    stderr_path: Path


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


def _report_validation(cohort: Cohort, data_dir: Path, strict: bool, report: Reporter) -> None:
    """Repeat the validator's warnings and notes in the log; under ``strict``, refuse warnings as errors."""
    from analysis.core.errors import DataError
    from analysis.intake.problem import format_problems

    problems = list(getattr(cohort, "problems", ()))
    if strict and any(p.severity == "warning" for p in problems):
        raise DataError(format_problems(problems, folder=data_dir, strict=True), problems)
    if problems:
        for line in format_problems(problems, limit=10, folder=data_dir).splitlines():
            report(line)
        report(f"(python -m analysis validate {data_dir} shows them with the design and what was translated; "
               "--strict refuses warnings)")


# --------------------------------------------------------------------------- the build
def build(*, data_dir: Path | None = None, out: Path | None = None, chapters: list[str] | None = None,
          params: list[str] | dict | None = None, jobs: int | None = None, force: bool = False,
          timeout: float = 1800.0, verbose: bool = False, no_solutions: bool = False,
          book_dir: Path | None = None, warm_kernels: bool = True,
          report: Reporter = lambda msg: None, robustness: Path | str | None = None,
          strict: bool = False, resamples: int | None = None, seed: int = 2018) -> BuildResult:
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
        scientific stack (:mod:`analysis.engine.forkserver`; Linux only, ignored elsewhere). ``False`` starts them
        from scratch (slower, same results).
    report : callable
        Receives one progress line at a time.
    robustness : path or "shipped", optional
        A ``python -m analysis robustness`` result (its ``--out`` folder, or its ``results/robustness``):
        copied to ``out/results/robustness`` for the scorecard. ``"shipped"``
        (:data:`analysis.engine.plan.SHIPPED`): the precomputed result shipped with the book again. Without it, a
        robustness result already in ``out/results/robustness`` is kept (else the shipped one is shown).
    strict : bool
        Refuse data whose validation gives warnings (a :class:`~analysis.core.errors.DataError`, exit 2), as data
        with errors are refused. Without it the warnings (and notes) are repeated in the log and the build goes on.
    resamples : int, optional
        Also resample the data folder this many times by every method of
        :data:`analysis.scorecard.resample.METHODS` (seed ``seed``; on a local Dask cluster of ``jobs`` workers)
        and add the result to the robustness result the scorecard shows (:func:`_with_resamples`).
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
    # parameters: names, types, choices and ranges, before anything else (the weeks wait for the data's design)
    per_chapter = check_parameters(user, declared_parameters(available, book_src))

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
    # seaborn, ... once (analysis.engine.forkserver). It starts now, so its imports overlap with validating and staging.
    # (statsmodels and lifelines are imported by the zygote once the first `jobs` kernels are forked)
    selected = set(chapters or names)
    with Lock(out), contextlib.ExitStack() as started:
        # nothing changed (the usual rebuild): known from the hashes alone, before validating or starting processes
        # (--strict validates even then: the warnings decide whether the build may go on)
        if not force and not strict and not resamples and up_to_date(root=root, out=out, chapters=available, selected=selected,
                                                   user=user, book_src=book_src, data_dir=data_dir,
                                                   no_solutions=no_solutions, robustness=robustness):
            report("nothing changed since the last build: every chapter reused, site left as it is")
            return BuildResult(out=out, site=out / "html" / "index.html", up_to_date=True,
                               reused=[c.name for c in available], seconds=time.perf_counter() - t0)
        zygote = started.enter_context(Zygote(env, enabled=warm_kernels, quiet=not verbose, late_after=jobs))
        # 2. data: read and validated once; the cohort carries its design and the fingerprint of its files,
        # which the plan, the kept copy for the chapters and the derived tables use (nothing reads the folder again)
        cohort = None
        if any(c.uses_data for c in available):
            from analysis.intake.io import load  # load validates; raises DataError with every problem listed

            report(f"validating {data_dir}")
            cohort = load(data_dir)
            kind = "a synthetic cohort" if cohort.synthetic else "not marked synthetic in dataset.yaml"
            n_ae = len(cohort.adverse_events)
            report(f"data ok: {len(cohort.patients)} patients, {len(cohort.visits)} visits, "
                   f"{n_ae} adverse event{'' if n_ae == 1 else 's'}; {kind}")
            _report_validation(cohort, data_dir, strict, report)

        # 3. the -p weeks against the data's design
        check_design_parameters(user, cohort)
        # 3b. resampling the data (issue 32): added to the robustness result the scorecard shows
        if resamples:
            robustness = _with_resamples(robustness, out, cohort, data_dir, user, int(resamples), int(seed), jobs,
                                         report, book_src.parent / "data" / "robustness")
            started.callback(shutil.rmtree, robustness, True)

        # 4. plan
        planned = make_plan(root=root, out=out, chapters=available, selected=selected, per_chapter=per_chapter,
                            data_fingerprint=cohort.fingerprint if cohort is not None else "", book_src=book_src,
                            data_dir=data_dir, no_solutions=no_solutions, force=force, robustness=robustness)
        keys, plan = planned.keys, planned.actions
        for name in planned.rerun_unselected:
            report(f"{name}: executed although not selected: its last run used other data or parameters "
                   "(a book shows one data folder)")
        if planned.unchanged:
            result = BuildResult(out=out, site=out / "html" / "index.html", up_to_date=True,
                                 reused=[c.name for c in available], seconds=time.perf_counter() - t0)
            report("nothing changed since the last build: every chapter reused, site left as it is")
            return result

        # staging folders of builds that were killed outright (SIGKILL, power loss): nobody uses them (we hold the lock)
        for old in out.glob(".staging-*"):
            shutil.rmtree(old, ignore_errors=True)
        stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
        renders: list[Render] = []  # the render, started by _build_in_stage as soon as the book is staged
        try:
            result = _build_in_stage(stage, out, data_dir, available, plan, per_chapter, keys, jobs, timeout,
                                     verbose, report, t0, no_solutions, book_src, user, force,
                                     cohort, zygote, robustness=robustness, renders=renders)
            for c in available:  # what each chapter was computed from (data, parameters): see plan.inputs_key
                if plan[c.name] != "skip":
                    (stage / "executed" / f"{c.name}.inputs").write_text(planned.inputs[c.name])
            zygote.close()  # every chapter has run: the render gets the machine to itself
            report("rendering the book (Jupyter Book, execution off, warnings are errors)")
            tb = time.perf_counter()
            if not renders:
                renders.append(Render(stage, out))
            renders[0].run()
            report(f"book rendered in {time.perf_counter() - tb:.1f}s")
            with DeferInterrupts() as deferred:
                publish(stage, out)
                manifest = {"site_key": planned.site_key,
                            "data_dir": str(data_dir), "chapters": plan, "robustness": planned.robustness_key}
                planned.manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
            if deferred.received:
                report("interrupt received while publishing: the new site was published completely first")
        finally:
            for render in renders:
                render.stop()
            shutil.rmtree(stage, ignore_errors=True)
        result.seconds = time.perf_counter() - t0
        return result


def _with_resamples(robustness, out: Path, cohort: Cohort | None, data_dir: Path, user: dict, resamples: int,
                    seed: int, jobs: int, report: Reporter, shipped: Path) -> Path | str | None:
    """Resample ``cohort`` ``resamples`` times by every method and write the result beside a copy of the robustness
    result the build would show (``robustness``, see :func:`analysis.engine.plan.robustness_source`), in a folder
    of ``out`` that the build shows instead (and removes at its end; the scorecard's copy stays). Returns it."""
    from analysis.scorecard import resample

    if cohort is None:
        report("--resamples: no chapter of this book reads data, so there is nothing to resample")
        return robustness
    robustness_key(robustness, out, shipped)  # a --robustness folder that holds no result is refused first
    folder = Path(tempfile.mkdtemp(prefix=".resample-", dir=out))
    source = robustness_source(robustness, out, shipped)
    target = folder / "results" / "robustness"
    if source is not None and source.is_dir():
        shutil.copytree(source, target)
    if source is None or not source.is_dir():
        beside = "no simulated result"
    elif isinstance(robustness, str) or (source == shipped) or _shipped_copy(source):
        beside = "the simulated result shipped with the book (data/robustness)"
    else:
        beside = f"the simulated result in {source}" + (" (given with --robustness)" if robustness is not None else "")
    methods = list(resample.METHODS)
    report(f"resampling the data: {resamples} resamples x {len(methods)} methods ({', '.join(methods)}) on a "
           f"local Dask cluster of {jobs} worker process(es)")
    t0 = time.perf_counter()
    marks = {25, 50, 75}

    def progress(done: int, total: int) -> None:
        pct = int(100 * done / total) if total else 100
        for m in sorted(marks):
            if pct >= m:
                marks.discard(m)
                report(f"resampling: {done}/{total} tasks ({time.perf_counter() - t0:.0f}s)")
                break

    params = dict(user) or None
    full = resample.full_verdicts(cohort, params)
    verdicts, problems = resample.run(cohort, methods=methods, resamples=resamples, seed=seed, params=params,
                                      workers=jobs, progress=progress)
    seconds = time.perf_counter() - t0
    for method, why in problems.items():
        report(f"resampling: {method} not run: {why}")
    cpu = float(verdicts.drop_duplicates(["method", "resample"])["seconds"].mean()) if len(verdicts) else None
    info = resample.run_info(data_name=str(data_dir), data_fingerprint=cohort.fingerprint, methods=methods,
                             resamples=resamples, seed=seed, params=params, seconds=seconds,
                             command=_build_command(data_dir, out, user, resamples),
                             where=f"a local Dask cluster of {jobs} worker process(es)", problems=problems,
                             cpu_per_resample=cpu)
    info["resample_beside"] = beside
    resample.write_outputs(folder, probability=resample.data_probability(verdicts, full, methods=methods,
                                                                         problems=problems),
                           verdicts=verdicts, info=info)
    report(f"resampling done in {seconds:.1f}s")
    return folder


def _build_command(data_dir: Path, out: Path, user: dict, resamples: int) -> str:
    """The command that reproduces a build's resampling: the command line as typed (``sys.argv``) when this is
    ``python -m analysis build``, else one with the data folder, output folder, parameters and ``--resamples``.

    Examples
    --------
    >>> saved, sys.argv = sys.argv, ["pytest"]
    >>> _build_command(Path("d"), Path("o"), {"alpha": 0.01}, 5)
    'python -m analysis build --data d --out o -p alpha=0.01 --resamples 5'
    >>> sys.argv = saved
    """
    import shlex

    argv = sys.argv[1:]
    if argv[:1] == ["build"] or (len(argv) > 1 and argv[0] == "--verbose" and argv[1] == "build"):
        return "python -m analysis " + " ".join(shlex.quote(a) for a in argv)
    parts = ["build", "--data", str(data_dir), "--out", str(out)]
    for key, value in (user or {}).items():
        parts += ["-p", f"{key}={value}"]
    return "python -m analysis " + " ".join(shlex.quote(a) for a in parts + ["--resamples", str(resamples)])


def _shipped_copy(folder: Path) -> bool:
    """Whether a robustness folder is (a copy of) the result shipped with the book (its ``run.json`` says so)."""
    try:
        return bool(json.loads((folder / "run.json").read_text("utf-8")).get("shipped_with_book"))
    except (OSError, ValueError):
        return False


def _build_in_stage(stage, out, data_dir, available, plan, per_chapter, keys, jobs, timeout, verbose, report,
                    t0, no_solutions, book_src, user, force, cohort: Cohort | None,
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
    stage_book(book_src, stage, in_book, announcement_for(cohort.meta if cohort is not None else None, data_dir),
               no_solutions, cohort=cohort, data_dir=data_dir, das28_variant=str(user.get("das28_variant") or "esr"))
    if renders is not None:  # Sphinx is imported and set up while the chapters run; it renders when told
        renders.append(Render(stage, out))

    # derived tables every chapter shares, written once by the build; the validated cohort, which every
    # chapter's page.load() reuses instead of validating the folder again
    if cohort is not None:
        from analysis.science.derive import derive, write_derived
        from analysis.intake.io import keep_validated

        keep_validated(cohort, stage)

        from analysis.science.sections import das28_variant

        options = {k: user[k] for k in DERIVE_OPTIONS if user.get(k) is not None}
        # the variant every chapter uses (DAS28-CRP when the data have no ESR), so the shared table agrees
        options["das28_variant"] = das28_variant(cohort, str(options.get("das28_variant", "esr")))
        write_derived(derive(cohort, **options), results_dir / "derived")

    staged: set[str] = set()

    def publishable(c: Chapter) -> None:
        """The executed notebook as the book renders it (the render may read it now), and the chapter's
        download (as soon as it is final)."""
        if no_solutions:  # the hand-out: exercises without solutions, in the executed copy too (keyed apart)
            from analysis.engine.solutions import strip_solutions

            nb = strip_solutions(json.loads((executed_dir / c.notebook).read_text("utf-8")))
            (executed_dir / c.notebook).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", "utf-8")
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
        with contextlib.suppress(OSError, ValueError):  # only for the log: where the page says "not available"
            result.not_available_where[c.name] = not_available_by_heading(
                json.loads((executed_dir / c.notebook).read_text("utf-8")))
        missing[c.name] = tag_hidden_cells(executed_dir / c.notebook)
        publishable(c)
    # the scorecard's runner and kernel start while the last chapters run, and wait for their claims
    early: dict[str, _Run] = {}
    try:
        _execute_phases(available, plan, stage, out, data_dir, per_chapter, keys, jobs, timeout, verbose, report,
                        t0, book_src, zygote, force, robustness, results_dir, executed_dir, result, finished,
                        missing, early, data_hash=cohort.fingerprint if cohort is not None else _data_hash(data_dir))
    finally:
        for run in early.values():  # started in advance but not needed (reused, or the build failed)
            kill(run.proc)
    # the executed notebooks are what the book renders (those executed now or reused are staged already)
    for c in available:
        if plan[c.name] != "skip" and c.name not in staged:
            publishable(c)
    write_downloads(results_dir, stage / DOWNLOADS_EXTRA, [])  # claims.csv
    return result


def _execute_phases(available, plan, stage, out, data_dir, per_chapter, keys, jobs, timeout, verbose, report, t0,
                    book_src, zygote, force, robustness, results_dir, executed_dir, result, finished, missing,
                    early, *, data_hash: str) -> None:
    """Phase 1 (the chapters), then phase 2 (the scorecard, which reads their claims).

    Phase 2 may start before phase 1 ends (:class:`_EarlyScorecard`); it then stands only if the notebooks'
    claims are those it read.
    """
    base_keys = dict(keys)
    # --- robustness (issue 21): staged before the chapters run, which show each claim's class ("can this design
    # tell?", issue 31) from it; the scorecard reads all of it
    rob_files = stage_robustness(robustness, out, results_dir, report, book_src.parent / "data" / "robustness")
    # the scorecard also reads the data folder's hash (whose data a robustness result and the shipped default
    # build are on) and the shipped default build's claims (analysis.scorecard.compare)
    rob_files += sorted((book_src.parent / "data" / "default_build").glob("*.*"))
    # --- end robustness

    def phase2_inputs(claims: pd.DataFrame, todo: list[Chapter]) -> list[Chapter]:
        """Write ``results/claims.csv`` from ``claims`` and key each phase-2 chapter of ``todo`` on it and the
        staged robustness result; returns those that cannot be reused from the last build."""
        text = claims.to_csv(index=False, lineterminator="\n")
        target = results_dir / "claims.csv"
        if not target.is_file() or target.read_text("utf-8") != text:  # (an early scorecard may be reading it)
            target.write_text(text, "utf-8")
        for c in todo:
            keys[c.name] = cache_key(base_keys[c.name], hash_files([results_dir / "claims.csv"] + rob_files),
                                     data_hash)
        return [c for c in todo if not reusable(c, out, keys[c.name], force)]

    phase2 = [c for c in available if c.phase == 2 and plan[c.name] == "run"]
    early_scorecard = None
    if phase2 and jobs > 1:  # the first phase-2 chapter (the scorecard) may start early; the others wait
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
            # the phase-2 chapters not started early (all of them, unless the early scorecard stands)
            keyed = (todo if early_scorecard is None or not early_scorecard.released
                     else [c for c in todo if c.name != early_scorecard.chapter.name])
            if keyed:
                to_run = phase2_inputs(claims, keyed)
                # reuse a phase-2 chapter whose inputs (the collected claims) are unchanged
                for c in [c for c in keyed if c not in to_run]:
                    todo.remove(c)
                    shutil.copy2(out / "executed" / c.notebook, executed_dir / c.notebook)
                    (executed_dir / f"{c.name}.key").write_text(keys[c.name])
                    shutil.copytree(out / "results" / c.name, results_dir / c.name)
                    report(f"{c.name}: reused (the claims it reads are unchanged)")
                    result.reused.append(c.name)
                    if c.name in early:
                        kill(early.pop(c.name).proc)
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
            gone = sections_not_available(results_dir / c.name)
            if gone:
                result.sections_not_available[c.name] = gone
                report(f"{c.name}: sections not available with these data (shown as notes): {'; '.join(gone)}")
            if missing[c.name]:
                result.not_available[c.name] = missing[c.name]
                line = _not_available_line(missing[c.name], result.not_available_where.get(c.name, {}), gone)
                if line:
                    report(f"{c.name}: {line}")
            (executed_dir / f"{c.name}.key").write_text(keys[c.name])
            result.executed.append(c.name)


def _not_available_line(missing: list[str], where: dict[str, int], gone: list[str]) -> str:
    """The log line for the values a page shows as not available, by the page's headings (not glue names).

    ``where`` is :func:`analysis.engine.render.not_available_by_heading`. Headings that the line of sections
    not available (``gone``, "title (needs ...)") already names are left out; empty when nothing is left to say.

    Examples
    --------
    >>> _not_available_line(["a", "b", "c"], {"Labs": 2, "Exercises": 1}, ["Labs (needs x)"])
    "1 value on the page reads 'not available' with these data, under Exercises"
    >>> _not_available_line(["a", "b", "c"], {"Labs": 2, "Exercises": 1}, [])
    "3 values on the page read 'not available' with these data, under Labs (2); Exercises (1)"
    >>> _not_available_line(["a", "b"], {"Labs": 2}, ["Labs (needs x)"])
    ''
    """
    rest = {h: n for h, n in where.items() if not any(g.startswith(f"{h} (needs ") for g in gone)}
    n = sum(rest.values()) if where else len(missing)
    if n == 0:
        return ""
    text = f"{n} value on the page reads" if n == 1 else f"{n} values on the page read"
    text += " 'not available' with these data"
    if rest:
        text += ", under " + "; ".join(h if len(rest) == 1 else f"{h} ({k})" for h, k in rest.items())
    return text


def _data_hash(data_dir: Path) -> str:
    """:func:`analysis.intake.io.fingerprint` of the data folder, "" when it has none (a tiny test book's; a build
    that read the data uses the validated cohort's fingerprint instead of hashing the files again)."""
    from analysis.intake.io import fingerprint

    try:
        return fingerprint(data_dir)
    except OSError:
        return ""


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
            kill(run.proc)
        (executed_dir / self.chapter.notebook).unlink(missing_ok=True)
        shutil.rmtree(results_dir / self.chapter.name, ignore_errors=True)
        _go_file(self.stage, self.chapter).unlink(missing_ok=True)

    def stop_job(self) -> None:
        """Stop the claims process if it still runs (a chapter failed, or the build was interrupted)."""
        if self.job is not None:
            kill(self.job)
            self.job = None


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
                    kill(run.proc)
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
            kill(run.proc)
        raise
    if failure is not None:
        raise failure
