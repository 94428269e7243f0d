"""The command line: ``python -m analysis {build,validate,template,simulate,robustness,compare}``.

Known errors (bad data, bad parameters, a failing chapter) become one paragraph on stderr and a
non-zero exit code, with no traceback (``--verbose`` shows it). Progress goes to stdout.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from analysis.core.errors import UserError

EXAMPLES = """\
examples:
  python -m analysis build                       build the whole book on the shipped synthetic cohort
  python -m analysis build --data my_cohort/     rerun every chapter on your own data folder
  python -m analysis build --chapter ifng -p ifng_threshold_pg_ml=5
  python -m analysis validate my_cohort/         check a data folder against the data contract
  python -m analysis template my_cohort/         write empty, correctly headed files to fill in
  python -m analysis simulate --seed 7 --out /tmp/cohort7
  python -m analysis robustness --cohorts 50 --out /tmp/rob    P(verdict) per claim over simulated cohorts
  python -m analysis robustness --data my_cohort/ --resample all --resamples 100 --out /tmp/mine
                                                 how stable each verdict is on your data (bootstrap, permutations)
  python -m analysis compare shipped my_out/     my build's verdicts beside the shipped default build's
"""


def _parameters_help() -> str:
    """The ``-p`` parameters and what each may take (:data:`analysis.core.notebooks.PARAMETER_RULES`)."""
    import textwrap

    from analysis.core.notebooks import PARAMETER_RULES

    lines = ["chapter parameters (-p NAME=VALUE; a value outside these is refused before anything runs):"]
    for name, rule in PARAMETER_RULES.items():
        lines += textwrap.wrap(rule.text, width=100, initial_indent=f"  {name:<22}", subsequent_indent=" " * 24)
    return "\n".join(lines) + "\n"


class _Parser(argparse.ArgumentParser):
    """argparse with the command line's one-line errors: ``error: ...`` on stderr, exit code 2, no usage block
    (``--help`` still prints it). Subcommands' parsers are of this class too."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        print(f"error: {self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    from analysis.core.chapters import CHAPTERS

    p = _Parser(
        prog="python -m analysis",
        description="Build, check and feed the executable reproduction of Yang et al. 2018 "
                    "(MSC transplantation in rheumatoid arthritis; IFN-γ as a predictor of response).",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--verbose", action="store_true", help="show full tracebacks and tool output on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    b = sub.add_parser("build", help="execute the chapters and render the website",
                       description="Validate the data folder, execute every chapter notebook with papermill "
                                   "(in parallel, cached by content hash) and render the book with Jupyter Book. "
                                   "The new site replaces the old one only if everything succeeded.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=_parameters_help() + "\n" + EXAMPLES)
    b.add_argument("--data", metavar="DIR", type=Path, default=None,
                   help="data folder with the tables patients, visits, adverse_events, each a .csv, .xlsx, SPSS "
                        ".sav/.zsav, Stata .dta or SAS .sas7bdat/.xpt file, and optionally dataset.yaml; "
                        "default: the shipped synthetic cohort data/synthetic")
    b.add_argument("--out", metavar="DIR", type=Path, default=None,
                   help="output folder (default: _build); site in OUT/html, tables in OUT/results/<chapter>/")
    b.add_argument("--chapter", metavar="NAME", action="append", choices=[c.name for c in CHAPTERS],
                   help="execute only this chapter (repeatable); the others reuse their last executed copy if it was "
                        "built on the same data and parameters, and run again otherwise (a book shows one data "
                        "folder). "
                        f"Chapters: {', '.join(c.name for c in CHAPTERS)}")
    b.add_argument("-p", "--param", metavar="KEY=VALUE", action="append", default=[],
                   help="set a chapter parameter, e.g. -p alpha=0.01 -p das28_variant=crp (repeatable); "
                        "unknown names and values not allowed (listed below) are refused")
    b.add_argument("--jobs", metavar="N", type=int, default=None,
                   help=f"chapters executed at once (default: CPU count, here {os.cpu_count()})")
    b.add_argument("--force", action="store_true", help="ignore the cache and re-execute every selected chapter")
    b.add_argument("--timeout", metavar="SECONDS", type=float, default=1800.0,
                   help="stop a chapter that runs longer than this (default: 1800)")
    b.add_argument("--no-solutions", action="store_true",
                   help="instructor hand-out build: exercises kept, solutions removed")
    b.add_argument("--no-warm-kernels", action="store_true",
                   help="start every chapter's papermill runner and Jupyter kernel from scratch instead of "
                        "forking them from one process that has already imported papermill, pandas, SciPy, ... "
                        "(slower, same results; forking is Linux-only)")
    b.add_argument("--robustness", metavar="DIR|shipped", type=_robustness_choice, default=None,
                   help="show a 'python -m analysis robustness' result (its --out folder) on the scorecard; it "
                        "stays for later builds into the same OUT. 'shipped': show the precomputed result "
                        "shipped with the book again (data/robustness; a folder named shipped: ./shipped). "
                        "Without the option: the result already in OUT/results/robustness, else the shipped one")
    # --- resampling the data folder (issue 32)
    b.add_argument("--resamples", metavar="N", type=int, default=None,
                   help="also resample the data folder N times by every method (bootstrap, permute_arm, "
                        "permute_mechanism, permute_ifng, shuffle_time; as 'python -m analysis robustness --data DIR "
                        "--resample all') and show per claim how stable its verdict is on these data")
    # --- end resampling
    b.add_argument("--strict", action="store_true",
                   help="refuse data with validation warnings (exit 2), as errors are refused")
    b.add_argument("--verbose", action="store_true", help="show full tracebacks on errors")
    b.add_argument("--book-dir", type=Path, default=None, help=argparse.SUPPRESS)  # tests: a tiny book

    v = sub.add_parser("validate", help="check a data folder against the data contract",
                       description="Check every table of a data folder against the data dictionary and report "
                                   "all problems at once (file, spreadsheet row, column, value, rule). A valid "
                                   "folder gets a summary: patients, design, DAS28, what dataset.yaml translated, "
                                   "the measures each section of the book needs (present or absent), warnings and "
                                   "notes. Files are only read, never modified. Exit code 0 = valid, 2 = errors "
                                   "(with --strict: errors or warnings).")
    v.add_argument("data", metavar="DIR", type=Path, help="the data folder to check")
    v.add_argument("--strict", action="store_true", help="count warnings as errors (exit 2)")

    t = sub.add_parser("template", help="write empty, correctly headed files for a new cohort",
                       description="Write patients.csv, visits.csv and adverse_events.csv with the right headers "
                                   "(and a README describing every column) into DIR, to be filled in.")
    t.add_argument("out", metavar="DIR", type=Path, help="folder to create (must not contain these files)")

    s = sub.add_parser("simulate", help="write a synthetic cohort calibrated to the paper",
                       description="Simulate a cohort with the study's design, calibrated to the published "
                                   "numbers. Same seed and size give byte-identical files.")
    s.add_argument("--seed", type=int, default=2018, help="random seed (default: 2018, the shipped cohort)")
    s.add_argument("--patients", type=int, default=105, help="number of patients (default: 105, as the study)")
    s.add_argument("--ifng-effect", type=float, default=1.0,
                   help="strength of the IFN-γ/response link: 1 = as calibrated, 0 = IFN-γ unrelated to response")
    s.add_argument("--visit-weeks", metavar="W,W,...", default=None,
                   help="scheduled visit weeks, e.g. 0,2,4,8,12,24 (default: the paper's 0,1,2,3,4,12,24,48)")
    s.add_argument("--response-week", metavar="W", type=int, default=None,
                   help="visit at which the EULAR response is judged (default: 12, or the design's)")
    s.add_argument("--final-week", metavar="W", type=int, default=None,
                   help="last scheduled visit (default: the last visit week)")
    s.add_argument("--design", metavar="FILE", type=Path, default=None,
                   help="a YAML file with a design: block (as in dataset.yaml); the options above override it")
    s.add_argument("--omit", metavar="GROUP", action="append", default=[],
                   help="leave out a group of measures (cytokines, immune, autoantibodies, safety_labs, prednisone, "
                        "haq) or a visit column; repeat or separate with commas")
    s.add_argument("--model", default="calibrated", choices=["calibrated", "null_treatment", "null_ifng"],
                   help="calibrated (default); null_treatment: the infusion has no effect; null_ifng: IFN-γ "
                        "unrelated to response")
    s.add_argument("--out", metavar="DIR", type=Path, required=True, help="folder to write (created if needed)")
    s.add_argument("--overwrite", action="store_true", help="replace files in a non-empty folder")

    # robustness (issue 21): reproduction probability per claim and the multiverse, on Dask
    r = sub.add_parser("robustness", help="how sure is each verdict: P(reproduced) over simulated cohorts, "
                                          "over resamples of your data (--resample), or at your design "
                                          "(--design-from: planning a replication)",
                       description="Simulate K cohorts under each model (calibrated: the shipped simulator; the\n"
                                   "others, e.g. null_treatment, harm, shift: worlds under which claims must fail,\n"
                                   "named per claim in the registry's fails_under), judge every claim of the book\n"
                                   "on each with the chapters' own code, and write the share of each verdict per\n"
                                   "claim and model (Wilson 95% CIs) to OUT/results/robustness/\n"
                                   "claim_probability.csv (OUT: the --out folder), each claim's sensitivity, false\n"
                                   "positive and class to\n"
                                   "operating_characteristics.csv, the per-cohort verdicts (verdicts.csv.gz) and\n"
                                   "run.json. --multiverse also judges each claim on one cohort under every\n"
                                   "combination of the chapters' analysis options (multiverse.csv) and on\n"
                                   "--multiverse-cohorts calibrated cohorts under each single change of one option\n"
                                   "(multiverse_flips.csv: how often each choice flips each verdict). Runs on a\n"
                                   "Dask LocalCluster, or on a running cluster with --scheduler.\n\n"
                                   "With --resample METHODS, no cohort is simulated: the data folder --data DIR\n"
                                   "itself is resampled N times (--resamples) by each method (bootstrap of the\n"
                                   "patients within each arm; permute_arm, permute_mechanism, permute_ifng,\n"
                                   "shuffle_time: the data with an effect permuted away), every claim the method\n"
                                   "concerns is judged on each resample, and the shares of each verdict per claim\n"
                                   "and method (p_reproduced, p_same_verdict: the full data's verdict, testable;\n"
                                   "Wilson 95% CIs) go to OUT/results/robustness/data_probability.csv, with the\n"
                                   "data's fingerprint in run.json. Resample k of a method is the same for a\n"
                                   "given --seed on any machine and with any number of workers.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n"
                              "  python -m analysis robustness --cohorts 50 --out /tmp/rob\n"
                              "  python -m analysis robustness --cohorts 200 --multiverse --out _build\n"
                              "  python -m analysis robustness --scheduler tcp://10.0.0.5:8786 --out /tmp/rob\n"
                              "  python -m analysis build --robustness /tmp/rob     show it on the scorecard\n"
                              "planning a replication (the paper's effects at your design, per number of patients):\n"
                              "  python -m analysis robustness --design-from my_trial/ --cohorts 50 --out /tmp/plan\n"
                              "  python -m analysis robustness --design-from data/examples/other_trial "
                              "--patients 40,80,160 --cohorts 10 --out /tmp/plan\n"
                              "  python -m analysis build --robustness /tmp/plan    the page 'Planning a replication'\n"
                              "how sure is each verdict on your data (bootstrap and permutations of the folder):\n"
                              "  python -m analysis robustness --data my_trial/ --resample all --resamples 100 "
                              "--out /tmp/mine\n"
                              "  python -m analysis robustness --data my_trial/ --resample bootstrap,permute_arm "
                              "--resamples 20 --workers 2 --out /tmp/mine\n"
                              "  python -m analysis build --data my_trial/ --robustness /tmp/mine\n")
    r.add_argument("--cohorts", metavar="K", type=int, default=200, help="cohorts per model (default: 200)")
    r.add_argument("--out", metavar="OUT", type=Path, default=None,
                   help="output folder (default: _build); results in OUT/results/robustness/")
    r.add_argument("--workers", metavar="N", type=int, default=None,
                   help=f"worker processes of the local Dask cluster (default: CPU count, here {os.cpu_count()})")
    r.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="run on an existing Dask cluster, e.g. tcp://host:8786 (then --workers is ignored)")
    r.add_argument("--models", metavar="LIST", default="all",
                   help="comma-separated models, or all (default: all: " + ", ".join(_model_names()) + ")")
    r.add_argument("--all-chapters", action="store_true",
                   help="judge every claim under every model (default: under a model other than calibrated, only "
                        "the chapters with a claim that names it in fails_under; about half the time)")
    r.add_argument("--seed", metavar="S", type=int, default=2018, help="master seed (default: 2018)")
    r.add_argument("--patients", metavar="N[,N...]", default=None,
                   help="patients per cohort (default: 105; with --design-from: the folder's number); a comma list "
                        "such as 60,105,210 sweeps the size (a design run: design_characteristics.csv)")
    r.add_argument("--design-from", metavar="DIR", type=Path, default=None,
                   help="plan a replication: simulate cohorts of DIR's design (its dataset.yaml and data, read "
                        "and checked as by validate: visit weeks, response and final weeks, arm ratio, measured "
                        "columns) under the calibrated model and its nulls; writes design_characteristics.csv "
                        "(per size and claim: sensitivity, false positive, class) and design.json")
    r.add_argument("--batch", metavar="B", type=int, default=5, help="cohorts per Dask task (default: 5)")
    r.add_argument("-p", "--param", metavar="KEY=VALUE", action="append", default=[],
                   help="a chapter parameter for every cohort, e.g. -p alpha=0.01 (repeatable)")
    r.add_argument("--multiverse", action="store_true",
                   help="also judge each claim on one cohort (--data, default the shipped one) under every "
                        "combination of the chapters' analysis options")
    r.add_argument("--multiverse-only", action="store_true", help="run only the multiverse (no simulated cohorts)")
    r.add_argument("--multiverse-cohorts", metavar="K", type=int, default=20,
                   help="calibrated cohorts on which --multiverse tries each single change of an option "
                        "(default: 20; 0: none)")
    r.add_argument("--data", metavar="DIR", type=Path, default=None,
                   help="the multiverse's cohort, and the data folder --resample resamples (default: the shipped "
                        "synthetic cohort)")
    # --- resampling the data folder (issue 32): bootstrap and permutations of --data
    r.add_argument("--resample", metavar="METHODS", default=None,
                   help="resample the data folder instead of simulating cohorts: comma-separated methods among "
                        "bootstrap, permute_arm, permute_mechanism, permute_ifng, shuffle_time, or all")
    r.add_argument("--resamples", metavar="N", type=int, default=None,
                   help="resamples per method with --resample (default: 100; only with --resample)")
    # --- end resampling
    r.add_argument("--verbose", action="store_true", help="show full tracebacks on errors")

    # compare (issue 34): two builds' verdicts side by side
    c = sub.add_parser("compare", help="two builds' verdicts side by side: same, changed, only in one",
                       description="Read the claims table of two builds (OUT/results/claims.csv, written by every "
                                   "build) and put their verdicts side by side, one row per claim: the same "
                                   "verdict, a changed one, or a claim judged in one build only. Prints the table "
                                   "and writes it as CSV (columns chapter, claim_id, claim, verdict_a, verdict_b, "
                                   "reproduced_a, reproduced_b, status). The word 'shipped' names the default "
                                   "build shipped with the book (data/default_build: the synthetic cohort, every "
                                   "parameter at its default). Exit code 0, or 2 when a folder is not a build.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n"
                              "  python -m analysis compare shipped my_out/           against the shipped default build\n"
                              "  python -m analysis compare out_alpha05/ out_alpha01/ --csv alpha.csv\n"
                              "  python -m analysis compare shipped my_out/ --changed  only the claims that differ\n")
    c.add_argument("a", metavar="OUT_A", help="the --out folder of a build (A), or 'shipped'")
    c.add_argument("b", metavar="OUT_B", help="the --out folder of another build (B), or 'shipped'")
    c.add_argument("--csv", metavar="FILE", type=Path, default=Path("verdicts_compared.csv"),
                   help="where to write the table (default: verdicts_compared.csv in the current folder)")
    c.add_argument("--changed", action="store_true",
                   help="print only the claims whose verdict differs or that one build lacks (the CSV has all)")
    c.add_argument("--verbose", action="store_true", help="show full tracebacks on errors")
    return p


def _model_names() -> list[str]:
    from analysis.core.chapters import MODELS

    return list(MODELS)


def _robustness_choice(value: str):
    """``--robustness``: the word ``shipped`` as is, anything else a folder."""
    from analysis.engine.plan import SHIPPED

    return SHIPPED if value == SHIPPED else Path(value)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    verbose = bool(getattr(args, "verbose", False))
    if args.command is None:
        parser.print_help()
        return 0
    previous = _terminate_as_interrupt()
    try:
        return {"build": _build, "validate": _validate, "template": _template,
                "simulate": _simulate, "robustness": _robustness, "compare": _compare}[args.command](args)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was published; the previous site is unchanged.", file=sys.stderr)
        return 130
    except Exception as err:  # an unexpected failure: short message unless --verbose
        if verbose:
            raise
        print(f"error: unexpected {type(err).__name__}: {err}\n(rerun with --verbose for the traceback; "
              "please report it)", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous[0])
            signal.signal(signal.SIGINT, previous[1])


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _terminate_as_interrupt():
    """Make SIGTERM and SIGINT (Ctrl-C) interrupt the command cleanly; returns the previous handlers.

    SIGINT is set explicitly too: a process started in the background by a non-interactive shell inherits
    SIGINT as *ignored*, and Python then never raises KeyboardInterrupt. Only in the main thread (signal
    handlers cannot be set elsewhere); returns None when not installed.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    return (signal.signal(signal.SIGTERM, _raise_interrupt), signal.signal(signal.SIGINT, signal.default_int_handler))


def _say(msg: str) -> None:
    """Print a progress line; if nobody reads them any more (``... | head``), carry on without them."""
    try:
        print(msg, flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the build goes on; its exit code still tells how it ended
        os.close(devnull)


def _build(args) -> int:
    from analysis.engine.build import build

    if not args.timeout > 0:  # also NaN
        raise UserError(f"--timeout {args.timeout:g}: give the seconds a chapter may run, a number above 0 "
                        "(default: 1800)")
    if args.jobs is not None and args.jobs < 1:
        raise UserError(f"--jobs {args.jobs}: give the number of chapters executed at once, at least 1")
    if args.resamples is not None and args.resamples < 1:
        raise UserError(f"--resamples {args.resamples}: give the resamples per method, at least 1")
    t0 = time.perf_counter()
    result = build(data_dir=args.data, out=args.out, chapters=args.chapter, params=args.param, jobs=args.jobs,
                   force=args.force, timeout=args.timeout, verbose=args.verbose, no_solutions=args.no_solutions,
                   book_dir=args.book_dir, warm_kernels=not args.no_warm_kernels, report=_say,
                   robustness=args.robustness, strict=args.strict, resamples=args.resamples)
    parts = []
    if result.executed:
        parts.append(f"{len(result.executed)} executed")
    if result.reused:
        parts.append(f"{len(result.reused)} reused")
    if result.skipped:
        parts.append(f"{len(result.skipped)} skipped")
    _say(f"build finished in {time.perf_counter() - t0:.1f}s ({', '.join(parts) or 'no chapters'}); "
         f"site: {result.site}")
    _say(f"results (tables as CSV): {result.out / 'results'}")
    return 0


def _validate(args) -> int:
    """``python -m analysis validate DIR``: the summary on stdout, or one ``error:`` report on stderr (exit 2)."""
    from analysis.core.errors import DataError
    from analysis.intake.problem import format_problems
    from analysis.intake.summary import format_summary, summarize
    from analysis.intake.validate import read_folder

    found = read_folder(args.data)
    strict = bool(getattr(args, "strict", False))
    if found.errors or (strict and any(p.severity == "warning" for p in found.problems)):
        raise DataError(format_problems(found.problems, folder=args.data, strict=strict), found.problems)
    _say(format_summary(summarize(found, folder=args.data)))
    return 0


def _template(args) -> int:
    from analysis.intake.template import write_template

    try:
        written = write_template(args.out)
    except (ValueError, OSError) as err:
        raise UserError(f"template {args.out}: {err}") from None
    for path in written:
        _say(f"wrote {path}")
    _say(f"Fill these in, then run: python -m analysis validate {args.out}")
    return 0


def _simulate_design(args):
    """The design of ``simulate``'s options: --design FILE, then --visit-weeks/--response-week/--final-week."""
    import yaml

    from analysis.core.design import Design, DesignError

    block: dict = {}
    if args.design is not None:
        try:
            doc = yaml.safe_load(Path(args.design).read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError) as err:
            raise UserError(f"simulate --design {args.design}: cannot read it as YAML ({err})") from None
        block = doc.get("design", doc) if isinstance(doc, dict) else None
        if not isinstance(block, dict):
            raise UserError(f"simulate --design {args.design}: expected a design: block (visit_weeks, "
                            "response_week, final_week, ...)")
        block = dict(block)
    if args.visit_weeks is not None:
        try:
            block["visit_weeks"] = [int(w) for w in str(args.visit_weeks).replace(" ", "").split(",") if w]
        except ValueError:
            raise UserError(f"--visit-weeks {args.visit_weeks!r}: write whole weeks separated by commas, "
                            "e.g. 0,2,4,8,12,24") from None
    if args.response_week is not None:
        block["response_week"] = args.response_week
    if args.final_week is not None:
        block["final_week"] = args.final_week
    if not block:
        return None
    try:
        return Design.from_mapping(block, source=str(args.design or "the simulate options"))
    except DesignError as err:
        raise UserError(f"simulate: {err}") from None


def _simulate(args) -> int:
    from analysis.science.simulate import cohort_meta, simulate, write_cohort

    if args.patients < 1:
        raise UserError(f"--patients must be at least 1, got {args.patients}")
    design = _simulate_design(args)
    omit = [g.strip() for item in args.omit for g in item.split(",") if g.strip()]
    t0 = time.perf_counter()
    _say(f"simulating {args.patients} patients (seed {args.seed}, IFN-γ effect {args.ifng_effect:g}"
         + (f", visits at weeks {design.describe_weeks()}" if design is not None else "")
         + (f", without {', '.join(omit)}" if omit else "")
         + (f", model {args.model}" if args.model != "calibrated" else "") + ")")
    try:
        tables = simulate(seed=args.seed, n_patients=args.patients, ifng_effect=args.ifng_effect, design=design,
                          omit=omit, model=args.model)
        meta = cohort_meta(seed=args.seed, n_patients=args.patients, ifng_effect=args.ifng_effect, design=design,
                           omit=omit, model=args.model)
    except ValueError as err:
        raise UserError(f"simulate: {err}") from None
    try:
        written = write_cohort(tables, args.out, meta=meta, overwrite=args.overwrite)
    except (ValueError, FileExistsError, OSError) as err:
        raise UserError(f"simulate --out {args.out}: {err}") from None
    _say(f"wrote {len(written)} files to {args.out} in {time.perf_counter() - t0:.1f}s")
    return 0


def _robustness(args) -> int:
    """``python -m analysis robustness``: see :mod:`analysis.scorecard.robustness`."""
    import datetime
    import shlex

    from analysis.core import paths
    from analysis.core.chapters import CHAPTERS
    from analysis.scorecard import dask_run, robustness
    from analysis.engine.params import (check_design_parameters, check_parameters, declared_parameters,
                                        parse_parameters)

    if args.resample is not None:  # the data folder itself, resampled (issue 32)
        return _robustness_resample(args)
    if args.resamples is not None:
        raise UserError(f"--resamples {args.resamples} needs --resample METHODS (e.g. --resample all): without it "
                        "no data folder is resampled")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if models == ["all"]:
        models = list(robustness.MODELS)
    bad = [m for m in models if m not in robustness.MODELS]
    if bad or not models:
        raise UserError(f"--models {args.models!r}: unknown model(s) {', '.join(bad) or '(none given)'}; "
                        f"allowed: {', '.join(robustness.MODELS)}")
    sizes = _patient_sizes(args.patients)  # planning a replication (issue 32): a design and/or several sizes
    if args.design_from is not None or (sizes is not None and len(sizes) > 1):
        return _robustness_design(args, sizes, models)
    args.patients = sizes[0] if sizes is not None else 105
    for name, value, low in (("--cohorts", args.cohorts, 1), ("--patients", args.patients, 20),
                             ("--batch", args.batch, 1), ("--multiverse-cohorts", args.multiverse_cohorts, 0)):
        if value < low:
            raise UserError(f"{name} must be at least {low}, got {value}")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    if args.data is not None:
        _folder_or_error("--data", args.data)
    params = parse_parameters(args.param) or None
    if params:  # the same checks as a build's, before any cohort is simulated (weeks: whole numbers only here)
        check_parameters(params, declared_parameters(list(CHAPTERS), paths.repo_root() / "book"))
        check_design_parameters(params, None)
    out = args.out if args.out is not None else paths.repo_root() / "_build"
    where = args.scheduler or f"a local Dask cluster of {args.workers or os.cpu_count()} worker process(es)"
    argv = sys.argv[1:] if "robustness" in sys.argv[1:] else ["robustness"]
    info = {"command": "python -m analysis " + " ".join(shlex.quote(a) for a in argv),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "params": params or {}, "where": where}
    verdicts = universes = None
    if not args.multiverse_only:
        info.update(seed=args.seed, cohorts=args.cohorts, n_patients=args.patients, models=models,
                    all_chapters=bool(args.all_chapters),
                    cohorts_data=f"cohorts of {args.patients} patients simulated by this project (the calibrated "
                                 "model of the shipped synthetic cohort, at its design)",
                    cohorts_data_hash=robustness.cohorts_reference(args.patients, params))
        _say(f"judging every claim on {args.cohorts} simulated cohorts x {len(models)} model(s) "
             f"({', '.join(models)}) on {where}")
        t0 = time.perf_counter()
        try:
            verdicts = robustness.run(cohorts=args.cohorts, models=models, seed=args.seed, n_patients=args.patients,
                                      workers=args.workers, scheduler=args.scheduler, batch_size=args.batch,
                                      params=params, progress=dask_run.text_progress(),
                                      all_chapters=args.all_chapters)
        except (ValueError, TypeError) as err:
            raise UserError(f"robustness: {err}") from None
        info["seconds"] = round(time.perf_counter() - t0, 1)
        info["cpu_seconds_per_cohort"] = round(float(verdicts.drop_duplicates(["model", "cohort"])["seconds"].mean()), 3)
        _say(f"{args.cohorts * len(models)} cohorts judged in {info['seconds']:.1f}s "
             f"({info['cpu_seconds_per_cohort']:.2f} s CPU per cohort)")
    if args.multiverse or args.multiverse_only:
        _say(f"multiverse: every combination of the chapters' analysis options on "
             f"{args.data or 'the shipped synthetic cohort'}")
        t0 = time.perf_counter()
        universes = robustness.multiverse(data_dir=args.data, workers=args.workers, scheduler=args.scheduler,
                                          progress=dask_run.text_progress())
        info["multiverse_seconds"] = round(time.perf_counter() - t0, 1)
        info["multiverse_data"] = str(args.data or "data/synthetic (shipped)")
        from analysis.intake.io import fingerprint  # the data it judged: the scorecard attaches it only to these

        info["multiverse_data_hash"] = fingerprint(args.data or paths.default_data_dir())
    cohort_universes = None
    if (args.multiverse or args.multiverse_only) and args.multiverse_cohorts > 0:
        _say(f"multiverse over {args.multiverse_cohorts} calibrated cohorts: each single change of an option")
        t0 = time.perf_counter()
        cohort_universes = robustness.multiverse_cohorts(cohorts=args.multiverse_cohorts, seed=args.seed,
                                                         n_patients=args.patients, workers=args.workers,
                                                         scheduler=args.scheduler,
                                                         progress=dask_run.text_progress())
        info["multiverse_cohorts"] = args.multiverse_cohorts
        info["multiverse_cohorts_seconds"] = round(time.perf_counter() - t0, 1)
    written = robustness.write_outputs(out, verdicts=verdicts, universes=universes, info=info,
                                       cohort_universes=cohort_universes)
    for path in written:
        _say(f"wrote {path}")
    return 0


def _folder_or_error(option: str, folder: Path) -> None:
    """Refuse a path that is not a folder, saying which: missing, or a file."""
    folder = Path(folder)
    if folder.is_file():
        raise UserError(f"{option} {folder}: is not a folder (give the folder holding the tables)")
    if not folder.is_dir():
        raise UserError(f"{option} {folder}: no such folder")


def _patient_sizes(text) -> list[int] | None:
    """``robustness --patients``: None when not given, else the sizes (:func:`analysis.scorecard.design.parse_sizes`)."""
    if text is None:
        return None
    from analysis.scorecard.design import parse_sizes

    try:
        return parse_sizes(text)
    except ValueError as err:
        raise UserError(str(err)) from None


def _robustness_design(args, sizes: list[int] | None, models: list[str]) -> int:
    """``robustness --design-from DIR [--patients 60,105,210]``: see :mod:`analysis.scorecard.design`."""
    import datetime
    import shlex

    from analysis.core import paths
    from analysis.core.chapters import CHAPTERS
    from analysis.core.design import PAPER
    from analysis.engine.params import check_parameters, declared_parameters, parse_parameters
    from analysis.scorecard import dask_run, design, robustness

    if args.multiverse or args.multiverse_only:
        raise UserError("--multiverse and --multiverse-only do not combine with --design-from or a list of "
                        "--patients: run the multiverse separately")
    for name, value in (("--cohorts", args.cohorts), ("--batch", args.batch)):
        if value < 1:
            raise UserError(f"{name} must be at least 1, got {value}")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    if args.design_from is not None:
        _folder_or_error("--design-from", args.design_from)
        _say(f"reading the design of {args.design_from} (validated as by python -m analysis validate)")
        try:
            trial = design.read_trial_design(args.design_from)
        except ValueError as err:
            raise UserError(f"--design-from {err}") from None
        # (a folder that does not validate raises DataError, a UserError: the validate report, exit 2)
    else:  # a list of sizes at the paper's design, with every measure
        trial = design.TrialDesign(folder="", fingerprint="", design=PAPER, n_patients=105, n_msct=52, n_control=53,
                                   measured={}, left_out={})
    sizes = sizes or [trial.n_patients]
    if sizes[0] < design.MIN_PATIENTS:
        raise UserError(f"--design-from {args.design_from}: the folder has {trial.n_patients} patients, fewer than "
                        f"the simulator's smallest cohort ({design.MIN_PATIENTS}); give sizes with --patients, e.g. "
                        "--patients 40,80,160")
    params = parse_parameters(args.param) or None
    if params:
        check_parameters(params, declared_parameters(list(CHAPTERS), paths.repo_root() / "book"))
    out = args.out if args.out is not None else paths.repo_root() / "_build"
    where = args.scheduler or f"a local Dask cluster of {args.workers or os.cpu_count()} worker process(es)"
    argv = sys.argv[1:] if "robustness" in sys.argv[1:] else ["robustness"]
    d = trial.design
    left = [c for cols in trial.left_out.values() for c in cols]
    _say(f"design: visits at weeks {d.describe_weeks()}, response at week {d.response_week}, final visit at week "
         f"{d.final_week}; arms {trial.n_msct} MSCT : {trial.n_control} control"
         + (f"; not measured (left out of the cohorts): {', '.join(left)}" if left else ""))
    _say(f"judging every claim on {args.cohorts} simulated cohorts x {len(models)} model(s) x {len(sizes)} size(s) "
         f"({', '.join(map(str, sizes))} patients) on {where}")
    t0 = time.perf_counter()
    try:
        verdicts = design.run_design(trial, sizes, cohorts=args.cohorts, models=models, seed=args.seed,
                                     workers=args.workers, scheduler=args.scheduler, batch_size=args.batch,
                                     params=params, progress=dask_run.text_progress(),
                                     all_chapters=args.all_chapters)
    except (ValueError, TypeError) as err:
        raise UserError(f"robustness: {err}") from None
    seconds = round(time.perf_counter() - t0, 1)
    info = {"command": "python -m analysis " + " ".join(shlex.quote(a) for a in argv),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "design_from": str(args.design_from) if args.design_from is not None else "",
            "design_from_fingerprint": trial.fingerprint, "trial": trial.as_dict(), "sizes": sizes,
            "arms_per_size": {str(n): list(trial.arms_at(n)) for n in sizes}, "cohorts": args.cohorts,
            "models": models, "seed": args.seed, "params": params or {}, "where": where, "seconds": seconds,
            "cpu_seconds_per_cohort": round(float(verdicts.drop_duplicates(["patients", "model", "cohort"])
                                                  ["seconds"].mean()), 3)}
    _say(f"{args.cohorts * len(models) * len(sizes)} cohorts judged in {seconds:.1f}s "
         f"({info['cpu_seconds_per_cohort']:.2f} s CPU per cohort)")
    for path in design.write_design_outputs(out, verdicts=verdicts, info=info):
        _say(f"wrote {path}")
    shown = f" --data {args.design_from}" if args.design_from is not None else ""
    _say(f"show it: python -m analysis build{shown} --robustness {out}")
    return 0


def _robustness_resample(args) -> int:
    """``python -m analysis robustness --data DIR --resample METHODS``: see :mod:`analysis.scorecard.resample`."""
    import shlex

    from analysis.core import paths
    from analysis.core.chapters import CHAPTERS
    from analysis.engine.params import (check_design_parameters, check_parameters, declared_parameters,
                                        parse_parameters)
    from analysis.intake.io import load
    from analysis.scorecard import dask_run, resample

    try:
        methods = resample.parse_methods(args.resample)
    except ValueError as err:
        raise UserError(f"--resample: {err}") from None
    for option, given in (("--design-from", args.design_from is not None), ("--patients", args.patients is not None)):
        if given:
            raise UserError(f"--resample resamples the data folder --data and simulates no cohort: {option} does "
                            "not apply (plan a replication in a separate command)")
    args.resamples = 100 if args.resamples is None else args.resamples
    for name, value, low in (("--resamples", args.resamples, 1), ("--batch", args.batch, 1)):
        if value < low:
            raise UserError(f"{name} must be at least {low}, got {value}")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    if args.multiverse or args.multiverse_only:
        raise UserError("--resample runs on its own: run --multiverse in a separate command (same --out)")
    data = args.data if args.data is not None else paths.default_data_dir()
    _folder_or_error("--data", Path(data))
    cohort = load(data)  # a DataError (invalid data) is reported like validate's, exit 2
    tables = resample.raw_tables(cohort)
    cannot = {m: resample.method_problem(tables, m) for m in methods}
    if all(cannot.values()):
        raise UserError(f"--resample {args.resample}: no chosen method can run on {data}: "
                        + "; ".join(f"{m}: {why}" for m, why in cannot.items()))
    params = parse_parameters(args.param) or None
    if params:
        check_parameters(params, declared_parameters(list(CHAPTERS), paths.repo_root() / "book"))
        check_design_parameters(params, cohort)
    out = args.out if args.out is not None else paths.repo_root() / "_build"
    where = args.scheduler or f"a local Dask cluster of {args.workers or os.cpu_count()} worker process(es)"
    argv = sys.argv[1:] if "robustness" in sys.argv[1:] else ["robustness"]
    _say(f"resampling {data} ({len(cohort.patients)} patients): {args.resamples} resamples x {len(methods)} "
         f"method(s) ({', '.join(methods)}) on {where}")
    t0 = time.perf_counter()
    full = resample.full_verdicts(cohort, params)
    verdicts, problems = resample.run(cohort, methods=methods, resamples=args.resamples, seed=args.seed,
                                      params=params, workers=args.workers, scheduler=args.scheduler,
                                      batch_size=args.batch, progress=dask_run.text_progress())
    seconds = time.perf_counter() - t0
    for method, why in problems.items():
        _say(f"{method}: not run: {why}")
    cpu = (float(verdicts.drop_duplicates(["method", "resample"])["seconds"].mean()) if len(verdicts) else None)
    info = resample.run_info(data_name=str(data), data_fingerprint=cohort.fingerprint, methods=methods,
                             resamples=args.resamples, seed=args.seed, params=params, seconds=seconds,
                             command="python -m analysis " + " ".join(shlex.quote(a) for a in argv), where=where,
                             problems=problems, cpu_per_resample=cpu)
    prob = resample.data_probability(verdicts, full, methods=methods, problems=problems)
    written = resample.write_outputs(out, probability=prob, verdicts=verdicts, info=info)
    done = verdicts.drop_duplicates(["method", "resample"]).shape[0]
    _say(f"{done} resamples judged in {seconds:.1f}s" + (f" ({cpu:.2f} s CPU per resample)" if cpu else ""))
    for path in written:
        _say(f"wrote {path}")
    _say(f"show it: python -m analysis build --data {data} --robustness {out}")
    return 0


def _compare(args) -> int:
    """``python -m analysis compare OUT_A OUT_B``: see :mod:`analysis.scorecard.compare`."""
    from analysis.scorecard.compare import (compare_verdicts, count_statuses, default_build_dir, read_build_claims,
                                            table_lines)

    tables = []
    for name, where in (("OUT_A", args.a), ("OUT_B", args.b)):
        folder = default_build_dir() if where == "shipped" else Path(where)
        try:
            tables.append(read_build_claims(folder))
        except ValueError as err:
            raise UserError(f"compare {name}: {err}") from None
    table = compare_verdicts(*tables)
    try:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.csv, index=False, encoding="utf-8", lineterminator="\n")
    except OSError as err:
        raise UserError(f"compare --csv {args.csv}: cannot write it ({err.strerror or err})") from None
    _say(f"A: {args.a}\nB: {args.b}\n")
    for line in table_lines(table, changed_only=args.changed):
        _say(line)
    counts = count_statuses(table)
    _say(f"\n{len(table)} claims: {counts['same']} same, {counts['changed']} changed, "
         f"{counts['only in A']} only in A, {counts['only in B']} only in B")
    _say(f"wrote {args.csv}")
    return 0
