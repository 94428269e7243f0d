"""How sure is each verdict? Reproduction probability over simulated cohorts, and the multiverse.

One cohort gives one verdict per claim. Whether that verdict says anything depends on the design: with
28 responders some claims are reproduced even when the paper is wrong, others fail even when it is
right. This module judges every claim (:func:`analysis.scorecard.evaluate.evaluate_all`, the same code path as the
book's chapters) on many simulated cohorts under the models of the world of
:data:`analysis.core.chapters.MODELS` (``calibrated``: the shipped simulator, calibrated to the paper; the others:
worlds under which some claims must fail, each claim naming its own in the registry's ``fails_under``), all made
by :func:`analysis.science.simulate.simulate` (``model=``).

:func:`operating_characteristics` says per claim what its verdict is worth at this design: its sensitivity
(P(reproduced | calibrated)), its false-positive rate (the largest P(reproduced) over its ``fails_under`` models
in which it is testable in at least 90 % of cohorts) and a class (:data:`CLASSES`).

:func:`run` distributes batches of cohorts over a Dask cluster (a ``LocalCluster`` by default, or any
scheduler address) and returns the per-cohort verdicts; :func:`claim_probability` turns them into
shares with Wilson intervals. :func:`multiverse` judges each claim on one cohort under every combination
of the analysis options the chapters expose (:data:`MULTIVERSE_OPTIONS`) and reports whether the verdict
is robust or which choices flip it. :func:`scorecard_table` and :func:`probability_figure` are what the
scorecard shows; :func:`write_outputs` / :func:`read_outputs` keep it all in
``OUT/results/robustness/``.
"""
from __future__ import annotations

import itertools
import json
import platform
import time
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from analysis.claims.characteristics import CLASSES
from analysis.core.chapters import CHAPTERS, MODELS as _MODEL_TEXT
from analysis.core import paths
from analysis.scorecard.dask_run import Progress, run_tasks

__all__ = [
    "MODELS",
    "MULTIVERSE_OPTIONS",
    "FALSE_POSITIVE",
    "CAUSES",
    "FLIP_RATE",
    "CLASSES",
    "multiverse_flips",
    "operating_characteristics",
    "claim_probability",
    "applies_to",
    "cohort_seed",
    "cohorts_reference",
    "describe_result",
    "evaluate_batch",
    "model_tables",
    "multiverse",
    "multiverse_cohorts",
    "multiverse_grid",
    "model_chapters",
    "multiverse_summary",
    "probability_figure",
    "read_outputs",
    "result_counts",
    "run",
    "scorecard_table",
    "verdict_columns",
    "write_outputs",
]

MODELS: tuple[str, ...] = tuple(_MODEL_TEXT)
#: a claim whose false-positive rate is at most this (and sensitivity at least :data:`SENSITIVITY`) is
#: "discriminating"; above it (with that sensitivity) "uninformative". The issue that defined the classes put
#: "uninformative" above 0.2 and left the band (0.1, 0.2] in no class; the stricter reading counts it as
#: uninformative: such a claim is not discriminating, and a fifth of false worlds reproducing it is not rare.
FALSE_POSITIVE = 0.10
#: the file of the shipped result (``data/robustness/causes.csv``, written by hand after reading the result) that
#: gives each claim below :data:`SENSITIVITY` in that result or the one before it one cause: ``simulator`` (a
#: defect of the calibrated simulator, fixed), ``rule`` (a rule that did not say what the paper says, fixed) or
#: ``design`` (beyond this trial's size or data), with ``why`` in words; ``tests/test_robustness.py`` checks
#: that it covers every such claim of the shipped result
CAUSES = "causes.csv"
#: a single analysis choice that changes a claim's verdict in more than this share of calibrated cohorts is
#: reported as flipping it (the multiverse over cohorts, ``multiverse_flips.csv``)
FLIP_RATE = 0.10
#: sensitivity below this: "underpowered"
SENSITIVITY = 0.80
#: a model counts for a claim's false positive only when the claim is testable in at least this share of its cohorts
TESTABLE = 0.90
#: the analysis options the chapters expose, with the values the multiverse tries (default first): the chapter
#: registry's ``multiverse`` column
MULTIVERSE_OPTIONS: dict[str, dict[str, tuple]] = {c.name: dict(c.multiverse) for c in CHAPTERS if c.multiverse}
#: options the notebooks expose that no claim depends on (recorded in the multiverse output)
NOT_IN_CLAIMS: dict[str, tuple[str, ...]] = {"inflammation": ("adjust_method", "heatmap_scale"),
                                            "disease_activity": ("max_units",)}



def _fails_under() -> dict[str, tuple[str, ...]]:
    """claim_id -> the models its registry row names in ``fails_under``."""
    from analysis.claims.registry import fails_under, published

    reg = published()
    return {c: fails_under(f) for c, f in zip(reg["claim_id"], reg["fails_under"])}


# --------------------------------------------------------------------------------------------- cohorts
def cohort_seed(seed: int, index: int, stream: int = 0) -> int:
    """The simulator seed of cohort ``index`` of a run with master ``seed`` (independent streams).

    The same cohort index gets the same seed under every model (common random numbers), so the models
    differ by the model only.

    Examples
    --------
    >>> cohort_seed(2018, 0) == cohort_seed(2018, 0), cohort_seed(2018, 0) == cohort_seed(2018, 1)
    (True, False)
    """
    return int(np.random.SeedSequence([int(seed), int(index), int(stream)]).generate_state(1, dtype=np.uint32)[0])


def _simulate(seed: int, n_patients: int, **kwargs):
    from analysis.science.simulate import simulate

    return simulate(seed=seed, n_patients=n_patients, **kwargs)


def model_tables(model: str, seed: int, n_patients: int = 105) -> dict[str, pd.DataFrame]:
    """Simulated tables (as :func:`analysis.science.simulate.simulate` returns them) under ``model``.

    Parameters
    ----------
    model : str
        One of :data:`MODELS`.
    seed : int
    n_patients : int

    Examples
    --------
    >>> t = model_tables("null_treatment", 1, 60)
    >>> sorted(t), len(t["patients"])
    (['adverse_events', 'patients', 'visits'], 60)
    """
    if model not in MODELS:
        raise ValueError(f"`model` is {model!r}; allowed: {', '.join(MODELS)}")
    return _simulate(seed, n_patients, model=model)


def _meta(model: str, seed: int, n_patients: int) -> dict:
    from analysis.science.simulate import cohort_meta

    meta = cohort_meta(seed=seed, n_patients=n_patients, model=model)
    meta["model"] = model
    return meta


def model_chapters(model: str) -> list[str] | None:
    """The chapters whose claims a model is needed for: every chapter for ``calibrated`` (``None``), else the
    chapters with a claim that names ``model`` in its registry ``fails_under`` (reading order).

    Examples
    --------
    >>> model_chapters("calibrated") is None, model_chapters("placebo_response")
    (True, ['disease_activity'])
    """
    if model == "calibrated":
        return None
    from analysis.claims.registry import published

    names = _fails_under()
    wanted = set(published().loc[published()["claim_id"].map(lambda c: model in names.get(c, ())), "chapter"])
    return [c.name for c in CHAPTERS if c.name in wanted]


def evaluate_batch(model: str, seeds: Iterable[tuple[int, int]], n_patients: int = 105,
                   params: dict | None = None, all_chapters: bool = False) -> pd.DataFrame:
    """Judge the claims on the cohorts ``seeds`` (pairs of cohort index and simulator seed) under ``model``.

    Every claim under ``calibrated`` (and under every model with ``all_chapters``); under another model only the
    chapters of :func:`model_chapters` (the claims that must fail under it, and their chapters' other claims): the
    false-positive rates need no more, and the run takes about half the time. One Dask task; runs in a worker
    process.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``model``, ``cohort``, ``seed``, ``chapter``, ``claim_id``, ``verdict``, ``seconds`` (CPU
        seconds of that cohort's simulation and evaluation).

    Examples
    --------
    >>> t = evaluate_batch("calibrated", [(0, 5)], n_patients=60, params={"n_boot": 50})
    >>> t[["model", "cohort", "seed"]].drop_duplicates().values.tolist()
    [['calibrated', 0, 5]]
    """
    from analysis.scorecard.evaluate import cohort_from_tables, evaluate_all

    frames = []
    for index, seed in seeds:
        t0 = time.process_time()
        cohort = cohort_from_tables(model_tables(model, int(seed), n_patients), _meta(model, int(seed), n_patients))
        claims = evaluate_all(cohort, params, chapters=None if all_chapters else model_chapters(model))
        frames.append(claims[["chapter", "claim_id", "verdict"]].assign(
            model=model, cohort=int(index), seed=int(seed), seconds=time.process_time() - t0))
    out = pd.concat(frames, ignore_index=True)
    return out[["model", "cohort", "seed", "chapter", "claim_id", "verdict", "seconds"]]


# --------------------------------------------------------------------------------------------- dask
# the Dask helpers (analysis.scorecard.dask_run) are shared with the data resampling run
# (analysis.scorecard.resample) and the design run (analysis.scorecard.design)


def _batches(n: int, size: int) -> list[list[int]]:
    return [list(range(i, min(n, i + size))) for i in range(0, n, size)]


def run(*, cohorts: int = 200, models: Iterable[str] = MODELS, seed: int = 2018, n_patients: int = 105,
        workers: int | None = None, scheduler: str | None = None, batch_size: int = 5,
        params: dict | None = None, progress: Progress | None = None, client=None,
        all_chapters: bool = False) -> pd.DataFrame:
    """Simulate ``cohorts`` cohorts per model and judge every claim on each, on a Dask cluster.

    Parameters
    ----------
    cohorts : int
        Cohorts per model (K).
    models : iterable of str
        Any of :data:`MODELS`.
    seed : int
        Master seed; cohort ``k`` uses :func:`cohort_seed` ``(seed, k)`` under every model.
    n_patients : int
        Patients per cohort (the study: 105).
    workers, scheduler : optional
        A new ``LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)`` (default: one
        worker per CPU), or the address of a running scheduler (``tcp://host:8786``).
    batch_size : int
        Cohorts per task (amortises the per-task overhead).
    params : dict, optional
        Chapter parameters (as ``-p``) used for every cohort.
    progress : callable(done, total), optional
        Called after every finished task (e.g. :func:`analysis.scorecard.dask_run.text_progress`).
    client : dask.distributed.Client, optional
        Use this client (then ``workers``/``scheduler`` are ignored and it is not closed).
    all_chapters : bool
        Judge every claim under every model (default: under a model other than ``calibrated``, only the chapters
        of :func:`model_chapters`).

    Returns
    -------
    pandas.DataFrame
        The per-cohort verdicts (:func:`evaluate_batch`'s columns), sorted by model, cohort, claim order.
    """
    models = list(models)
    bad = [m for m in models if m not in MODELS]
    if bad:
        raise ValueError(f"`models` has {bad}; allowed: {', '.join(MODELS)}")
    if isinstance(cohorts, bool) or not isinstance(cohorts, int) or cohorts < 1:
        raise ValueError(f"`cohorts` is {cohorts!r}; a whole number >= 1 is required")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` is {batch_size!r}; a whole number >= 1 is required")
    tasks = [(evaluate_batch, model, [(k, cohort_seed(seed, k)) for k in batch], n_patients, params, all_chapters)
             for model in models for batch in _batches(cohorts, batch_size)]
    out = pd.concat(run_tasks(tasks, client=client, workers=workers, scheduler=scheduler, progress=progress),
                    ignore_index=True)
    from analysis.claims.registry import published as registry

    order = {cid: i for i, cid in enumerate(registry()["claim_id"])}
    out = out.assign(_m=out["model"].map({m: i for i, m in enumerate(MODELS)}), _c=out["claim_id"].map(order))
    return out.sort_values(["_m", "cohort", "_c"], kind="stable").drop(columns=["_m", "_c"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------- summary
def _slug(verdict: str) -> str:
    return verdict.replace(" ", "_")


def verdict_columns(verdicts: Iterable[str] | None = None) -> list[str]:
    """The verdicts a probability table has columns for: :data:`analysis.claims.registry.VERDICTS` (read at run
    time, so new verdicts are picked up), then any other verdict seen.

    Examples
    --------
    >>> verdict_columns(["reproduced", "odd one"])[0], verdict_columns(["odd one"])[-1]
    ('reproduced', 'odd one')
    """
    from analysis.claims.registry import VERDICTS

    known = list(VERDICTS)
    extra = sorted(set(verdicts if verdicts is not None else []) - set(known))
    return known + extra


def claim_probability(verdicts: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Share of cohorts giving each verdict, per claim and model, with Wilson intervals.

    Parameters
    ----------
    verdicts : DataFrame
        Per-cohort verdicts with columns ``model``, ``cohort``, ``claim_id``, ``verdict`` (as :func:`run`).

    Returns
    -------
    pandas.DataFrame
        ``claim_id``, ``model``, ``cohorts``, ``p_reproduced``, then for every other verdict ``p_<verdict>``
        (spaces as ``_``), then ``<share>_ci_low`` / ``<share>_ci_high`` for each share; ``chapter`` last.
        One row per claim and model, claims in registry order.

    Examples
    --------
    >>> v = pd.DataFrame({"model": "calibrated", "cohort": [0, 1, 2, 3], "chapter": "safety",
    ...                   "claim_id": "safety.no_gvhd", "verdict": ["reproduced"] * 3 + ["not reproduced"]})
    >>> row = claim_probability(v).iloc[0]
    >>> int(row["cohorts"]), float(row["p_reproduced"]), float(row["p_not_reproduced"]), round(float(row["p_reproduced_ci_low"]), 3)
    (4, 0.75, 0.25, 0.301)
    """
    from analysis.claims.rules import wilson_interval

    for col in ("model", "cohort", "claim_id", "verdict"):
        if col not in verdicts.columns:
            raise ValueError(f"`verdicts` lacks column {col!r}; it needs model, cohort, claim_id, verdict")
    names = verdict_columns(verdicts["verdict"].unique())
    counts = pd.crosstab([verdicts["claim_id"], verdicts["model"]], verdicts["verdict"])
    counts = counts.reindex(columns=names, fill_value=0)
    n = counts.sum(axis=1)
    out = pd.DataFrame({"cohorts": n})
    for v in names:
        out[f"p_{_slug(v)}"] = counts[v] / n
    for v in names:
        lo, hi = wilson_interval(counts[v].to_numpy(), n.to_numpy(), confidence)
        out[f"p_{_slug(v)}_ci_low"], out[f"p_{_slug(v)}_ci_high"] = lo, hi
    out = out.reset_index()
    if "chapter" in verdicts.columns:
        out["chapter"] = out["claim_id"].map(verdicts.drop_duplicates("claim_id").set_index("claim_id")["chapter"])
    from analysis.claims.registry import published as registry

    order = {cid: i for i, cid in enumerate(registry()["claim_id"])}
    out = out.assign(_c=out["claim_id"].map(order).fillna(len(order)),
                     _m=out["model"].map({m: i for i, m in enumerate(MODELS)}).fillna(len(MODELS)))
    out = out.sort_values(["_c", "claim_id", "_m"], kind="stable").drop(columns=["_c", "_m"])
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------- multiverse
def multiverse_grid(options: dict[str, dict[str, tuple]] | None = None) -> dict[str, dict[str, tuple]]:
    """The options actually varied: ``options`` (default :data:`MULTIVERSE_OPTIONS`) restricted to what each
    chapter's notebook declares, each option's notebook default first (added when missing).

    Examples
    --------
    >>> g = multiverse_grid({"safety": {"alpha": (0.01, 0.05), "no_such_option": (1, 2)}})
    >>> g
    {'safety': {'alpha': (0.05, 0.01)}}
    """
    from analysis.core.notebooks import chapter_defaults
    from analysis.scorecard.evaluate import CHAPTER_MODULES

    out = {}
    for chapter, opts in (options or MULTIVERSE_OPTIONS).items():
        if chapter not in CHAPTER_MODULES:
            continue
        defaults = chapter_defaults(chapter)
        grid = {}
        for key, values in opts.items():
            if key not in defaults:
                continue
            d = defaults[key]
            grid[key] = (d,) + tuple(v for v in values if v != d)
        out[chapter] = grid
    return out


def _evaluate_universes(chapter: str, universes: list[tuple[int, dict]], data_dir: str | None,
                        tables_seed: int | None, n_patients: int = 105, cohort: int | None = None) -> pd.DataFrame:
    """One multiverse task: ``chapter``'s claims under each of ``universes`` on one cohort (index ``cohort``)."""
    import importlib

    from analysis.core.notebooks import chapter_defaults
    from analysis.scorecard.evaluate import CHAPTER_MODULES

    data = _multiverse_cohort(data_dir, tables_seed, n_patients)
    module = importlib.import_module(CHAPTER_MODULES[chapter])
    defaults = chapter_defaults(chapter)
    frames = []
    for index, universe in universes:
        claims = module.evaluate(data, {**defaults, **universe})
        frames.append(claims[["chapter", "claim_id", "verdict"]].assign(
            universe=index, choices=json.dumps(universe, sort_keys=True)))
    out = pd.concat(frames, ignore_index=True)
    return out if cohort is None else out.assign(cohort=int(cohort))


_COHORTS: dict = {}


def _multiverse_cohort(data_dir: str | None, tables_seed: int | None, n_patients: int = 105):
    key = (data_dir, tables_seed, n_patients)
    if len(_COHORTS) > 8:  # a worker keeps the few cohorts its current tasks share
        _COHORTS.clear()
    if key not in _COHORTS:
        if tables_seed is not None:
            from analysis.scorecard.evaluate import cohort_from_tables

            _COHORTS[key] = cohort_from_tables(model_tables("calibrated", tables_seed, n_patients),
                                               _meta("calibrated", tables_seed, n_patients))
        else:
            from analysis.intake.io import load

            _COHORTS[key] = load(data_dir or paths.default_data_dir())
    return _COHORTS[key]


def multiverse(*, data_dir=None, seed: int | None = None, workers: int | None = None, scheduler: str | None = None,
               batch_size: int = 4, progress: Progress | None = None, client=None,
               options: dict[str, dict[str, tuple]] | None = None) -> pd.DataFrame:
    """Judge each claim on one cohort under every combination of its chapter's analysis options.

    Parameters
    ----------
    data_dir : path, optional
        The cohort (default: the shipped synthetic cohort). Ignored when ``seed`` is given.
    seed : int, optional
        Use the calibrated simulated cohort of this seed (in memory) instead of a folder.
    options : dict, optional
        Chapter -> option -> values (default first); default :data:`MULTIVERSE_OPTIONS`.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``chapter``, ``claim_id``, ``verdict``, ``universe`` (index within the chapter), ``choices``
        (JSON of the options), then one column per option (the chapters' options side by side).
    """
    grid = multiverse_grid(options)
    path = str(data_dir) if data_dir is not None else None
    tasks = []
    for chapter in grid:
        keys = list(grid[chapter])
        combos = [dict(zip(keys, v)) for v in itertools.product(*(grid[chapter][k] for k in keys))]
        indexed = list(enumerate(combos))
        tasks += [(_evaluate_universes, chapter, indexed[i:i + batch_size], path, seed)
                  for i in range(0, len(indexed), batch_size)]
    out = pd.concat(run_tasks(tasks, client=client, workers=workers, scheduler=scheduler, progress=progress),
                    ignore_index=True)
    choices = pd.DataFrame([json.loads(c) for c in out["choices"]])
    out = pd.concat([out.reset_index(drop=True), choices], axis=1)
    return out.sort_values(["chapter", "universe", "claim_id"], kind="stable").reset_index(drop=True)


def _fmt_choice(key, value) -> str:
    return f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"


def _pair_flips(one: pd.DataFrame, opts: dict, defaults: dict, default_verdict: str) -> list[str]:
    """Pairs of non-default choices (all other options at their defaults) that change the verdict."""
    out = []
    keys = list(opts)
    for i, k1 in enumerate(keys):
        for k2 in keys[i + 1:]:
            base = np.ones(len(one), bool)
            for k3, v3 in defaults.items():
                if k3 not in (k1, k2):
                    base &= (one[k3] == v3).to_numpy()
            for v1 in opts[k1][1:]:
                for v2 in opts[k2][1:]:
                    hit = one.loc[base & (one[k1] == v1).to_numpy() & (one[k2] == v2).to_numpy(), "verdict"]
                    if len(hit) and (hit != default_verdict).any():
                        out.append(f"{_fmt_choice(k1, v1)} with {_fmt_choice(k2, v2)}")
    return out


def _per_claim(universes: pd.DataFrame, options: dict | None):
    """Per claim of ``universes``: its chapter, id, rows, the chapter's options, their defaults and the rows of the
    default universe (a boolean array)."""
    grid = multiverse_grid(options) if options is None else options
    for (chapter, claim_id), one in universes.groupby(["chapter", "claim_id"], sort=False):
        opts = grid.get(chapter, {})
        defaults = {k: v[0] for k, v in opts.items()}
        yield chapter, claim_id, one, opts, defaults, _matches(one, defaults)


def _matches(universes: pd.DataFrame, choices: dict) -> np.ndarray:
    """Rows of ``universes`` whose options all equal ``choices`` (a boolean array)."""
    keep = np.ones(len(universes), bool)
    for k, v in choices.items():
        keep &= (universes[k] == v).to_numpy()
    return keep


def multiverse_summary(universes: pd.DataFrame, options: dict[str, dict[str, tuple]] | None = None) -> pd.DataFrame:
    """Per claim: "robust" (one verdict in every universe) or the choices that flip its verdict.

    A choice ``option=value`` *flips* a claim when changing only that option from its default (all other
    options at their defaults) changes the verdict. When no single choice flips a claim that is not robust,
    ``flipped_by`` names the pairs of choices that do (``"alpha=0.01 with table1_test=unpaired"``); changes
    that need three or more choices together show only in ``share_default`` and ``verdicts_seen``.

    Returns
    -------
    pandas.DataFrame
        ``claim_id``, ``chapter``, ``universes``, ``default_verdict``, ``share_default`` (share of universes
        with the default verdict), ``verdicts_seen``, ``result`` ("robust" or "fragile"), ``flipped_by``
        (``"alpha=0.01; das28_variant=crp"``; empty when robust or only interactions flip it).

    Examples
    --------
    >>> u = pd.DataFrame({"chapter": "audit", "claim_id": "c", "universe": [0, 1],
    ...                   "alpha": [0.05, 0.01], "verdict": ["reproduced", "not reproduced"]})
    >>> multiverse_summary(u, {"audit": {"alpha": (0.05, 0.01)}})[["result", "flipped_by"]].values.tolist()
    [['fragile', 'alpha=0.01']]
    """
    rows = []
    for chapter, claim_id, one, opts, defaults, is_default in _per_claim(universes, options):
        default_verdict = one.loc[is_default, "verdict"].iloc[0] if is_default.any() else ""
        flips = []
        for k, values in opts.items():
            others = _matches(one, {k2: v2 for k2, v2 in defaults.items() if k2 != k})
            for value in values[1:]:
                hit = one.loc[others & (one[k] == value).to_numpy(), "verdict"]
                if len(hit) and (hit != default_verdict).any():
                    flips.append(f"{k}={value:g}" if isinstance(value, float) else f"{k}={value}")
        if not flips and one["verdict"].nunique() > 1:  # no single choice flips it: name the pairs that do
            flips = _pair_flips(one, opts, defaults, default_verdict)
        seen = one["verdict"].value_counts()
        rows.append({
            "claim_id": claim_id, "chapter": chapter, "universes": len(one), "default_verdict": default_verdict,
            "share_default": float((one["verdict"] == default_verdict).mean()),
            "verdicts_seen": "; ".join(f"{v} ({n})" for v, n in seen.items()),
            "result": "robust" if seen.size == 1 else "fragile", "flipped_by": "; ".join(flips),
        })
    out = pd.DataFrame(rows, columns=["claim_id", "chapter", "universes", "default_verdict", "share_default",
                                      "verdicts_seen", "result", "flipped_by"])
    from analysis.claims.registry import published as registry

    order = {cid: i for i, cid in enumerate(registry()["claim_id"])}
    out = out.assign(_c=out["claim_id"].map(order).fillna(len(order))).sort_values("_c", kind="stable")
    return out.drop(columns="_c").reset_index(drop=True)


# --------------------------------------------------------------------------------------------- operating characteristics
def _fixed_by_simulation(registry: pd.DataFrame) -> set[str]:
    """Claims the simulator is given: the exact counts (group sizes, drop-outs, relapses, reactions, subgroups), all
    counts but those of adverse events, which the ``harm`` model changes."""
    from analysis.claims.registry import fails_under

    kind = registry["kind"]
    harm = registry["fails_under"].map(lambda f: "harm" in fails_under(f))
    return set(registry.loc[kind.eq("count") & ~harm, "claim_id"])


def _without_data(registry: pd.DataFrame) -> set[str]:
    """Claims of the chapters that judge the paper's own numbers, not the data (``Chapter.uses_data`` false)."""
    no_data = {c.name for c in CHAPTERS if not c.uses_data}
    return set(registry.loc[registry["chapter"].isin(no_data), "claim_id"])


def operating_characteristics(probability: pd.DataFrame, registry: pd.DataFrame | None = None) -> pd.DataFrame:
    """What each empirical claim's verdict is worth at this design: sensitivity, false positive and a class.

    Parameters
    ----------
    probability : DataFrame
        :func:`claim_probability` output (``claim_id``, ``model``, ``p_reproduced`` and the other shares).
    registry : DataFrame, optional
        The claims registry (default the shipped one): ``basis``, ``kind``, ``expected`` and ``fails_under``.

    Returns
    -------
    pandas.DataFrame
        One row per empirical claim of the registry: ``claim_id``, ``sensitivity`` (P(reproduced | calibrated)),
        ``false_positive`` (the largest P(reproduced) over the claim's ``fails_under`` models in which it is
        testable, i.e. not "not testable" nor "holds by construction", in at least :data:`TESTABLE` of the
        cohorts), ``false_positive_model`` (that model), ``testable`` (the share of calibrated cohorts in which
        it is testable) and ``class``: "not assessable" (a claim of a chapter that does not read the data, e.g.
        the audit of the paper's arithmetic; a claim never testable when calibrated, e.g. a count of columns the
        data do not hold; a claim with no model where it must fail that can test it),
        "fixed by the simulation" (a count the simulator is given: every count but the adverse-event counts), "underpowered"
        (sensitivity < :data:`SENSITIVITY`), "discriminating" (false positive <= :data:`FALSE_POSITIVE`),
        else "uninformative" (reproduced in more than 10 % of the cohorts of a world where it is false).

    Examples
    --------
    >>> prob = pd.DataFrame({"claim_id": ["a", "a", "b", "b"], "model": ["calibrated", "harm"] * 2,
    ...                      "p_reproduced": [0.9, 0.05, 0.5, 0.0], "p_not_testable_with_these_data": 0.0})
    >>> reg = pd.DataFrame({"claim_id": ["a", "b"], "basis": "empirical", "kind": "qualitative",
    ...                     "expected": "holds", "fails_under": "harm"})
    >>> operating_characteristics(prob, reg)[["claim_id", "false_positive", "class"]].values.tolist()
    [['a', 0.05, 'discriminating'], ['b', 0.0, 'underpowered']]
    """
    from analysis.claims.registry import fails_under, published

    reg = registry if registry is not None else published()
    reg = reg.loc[reg["basis"].eq("empirical")]
    fixed = _fixed_by_simulation(reg)
    no_data = _without_data(reg) if "chapter" in reg.columns else set()
    p = probability.set_index(["claim_id", "model"])
    untestable = [c for c in ("p_not_testable_with_these_data", "p_holds_by_construction") if c in p.columns]
    rows = []
    for row in reg.itertuples():
        cid = row.claim_id

        def share(model, col):
            return float(p.loc[(cid, model), col]) if (cid, model) in p.index else float("nan")

        def testable(model):
            return 1.0 - sum(share(model, c) for c in untestable) if (cid, model) in p.index else float("nan")

        sens, test = share("calibrated", "p_reproduced"), testable("calibrated")
        fp, fp_model = float("nan"), ""
        for m in fails_under(row.fails_under):
            t = testable(m)
            if np.isfinite(t) and t >= TESTABLE - 1e-12:
                r = share(m, "p_reproduced")
                if not np.isfinite(fp) or r > fp:
                    fp, fp_model = r, m
        if cid in no_data or not test > 0:  # the audit, or never testable even when calibrated
            cls = "not assessable"
        elif cid in fixed:
            cls = "fixed by the simulation"
        elif not np.isfinite(fp) or not np.isfinite(sens):
            cls = "not assessable"
        elif sens < SENSITIVITY:
            cls = "underpowered"
        elif fp <= FALSE_POSITIVE + 1e-12:
            cls = "discriminating"
        else:
            cls = "uninformative"
        rows.append({"claim_id": cid, "sensitivity": sens, "false_positive": fp, "false_positive_model": fp_model,
                     "testable": test, "class": cls})
    return pd.DataFrame(rows, columns=["claim_id", "sensitivity", "false_positive", "false_positive_model", "testable",
                                       "class"])


def _single_changes(grid: dict[str, tuple]) -> list[dict]:
    """The default universe and every universe that changes one option from its default."""
    default = {k: v[0] for k, v in grid.items()}
    out = [dict(default)]
    for k, values in grid.items():
        out += [{**default, k: v} for v in values[1:]]
    return out


def multiverse_cohorts(*, cohorts: int = 20, seed: int = 2018, n_patients: int = 105, workers: int | None = None,
                       scheduler: str | None = None, progress: Progress | None = None, client=None,
                       options: dict[str, dict[str, tuple]] | None = None) -> pd.DataFrame:
    """Judge each claim on ``cohorts`` calibrated cohorts under the default choices and every single change of one.

    Returns the universes (:func:`multiverse`'s columns plus ``cohort``); :func:`multiverse_flips` summarises them.
    """
    grid = multiverse_grid(options)
    tasks = []
    for k in range(int(cohorts)):
        for chapter in grid:
            tasks.append((_evaluate_universes, chapter, list(enumerate(_single_changes(grid[chapter]))), None,
                          cohort_seed(seed, k), n_patients, k))
    out = pd.concat(run_tasks(tasks, client=client, workers=workers, scheduler=scheduler, progress=progress),
                    ignore_index=True)
    choices = pd.DataFrame([json.loads(c) for c in out["choices"]])
    out = pd.concat([out.reset_index(drop=True), choices], axis=1)
    return out.sort_values(["cohort", "chapter", "universe", "claim_id"], kind="stable").reset_index(drop=True)


def multiverse_flips(universes: pd.DataFrame, options: dict[str, dict[str, tuple]] | None = None) -> pd.DataFrame:
    """Per claim and choice: in what share of the cohorts changing only that choice changes the verdict.

    Examples
    --------
    >>> u = pd.DataFrame({"cohort": [0, 0, 1, 1], "chapter": "audit", "claim_id": "c", "universe": [0, 1] * 2,
    ...                   "alpha": [0.05, 0.01] * 2, "verdict": ["reproduced", "inconclusive", "reproduced", "reproduced"]})
    >>> multiverse_flips(u, {"audit": {"alpha": (0.05, 0.01)}})[["choice", "cohorts", "flip_rate"]].values.tolist()
    [['alpha=0.01', 2, 0.5]]
    """
    rows = []
    for chapter, claim_id, one, opts, defaults, is_default in _per_claim(universes, options):
        base = one.loc[is_default].set_index("cohort")["verdict"]
        for k, values in opts.items():
            others = _matches(one, {k2: v2 for k2, v2 in defaults.items() if k2 != k})
            for value in values[1:]:
                hit = one.loc[others & (one[k] == value).to_numpy()].set_index("cohort")["verdict"]
                both = hit.index.intersection(base.index)
                flips = int((hit.loc[both] != base.loc[both]).sum())
                rows.append({"claim_id": claim_id, "chapter": chapter, "choice": _fmt_choice(k, value),
                             "cohorts": int(len(both)), "flips": flips,
                             "flip_rate": flips / len(both) if len(both) else float("nan")})
    return pd.DataFrame(rows, columns=["claim_id", "chapter", "choice", "cohorts", "flips", "flip_rate"])


# --------------------------------------------------------------------------------------------- files
def _versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("numpy", "pandas", "scipy", "pingouin", "dask", "distributed"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def write_outputs(out_dir, *, verdicts: pd.DataFrame | None = None, universes: pd.DataFrame | None = None,
                  info: dict | None = None, cohort_universes: pd.DataFrame | None = None) -> list[Path]:
    """Write a robustness run into ``out_dir/results/robustness/``.

    Files: ``claim_probability.csv`` and ``verdicts.csv.gz`` (per-cohort verdicts) when ``verdicts`` is
    given; ``multiverse.csv`` (per claim) and ``multiverse_universes.csv.gz`` (every universe) when
    ``universes`` is given; ``run.json`` (command, seed, date, versions, timings: ``info`` plus versions),
    merged with an existing ``run.json``.

    Examples
    --------
    >>> import tempfile
    >>> v = pd.DataFrame({"model": "calibrated", "cohort": [0], "seed": 1, "chapter": "safety",
    ...                   "claim_id": "safety.no_gvhd", "verdict": "reproduced", "seconds": 0.5})
    >>> sorted(p.name for p in write_outputs(tempfile.mkdtemp(), verdicts=v, info={"seed": 1}))
    ['claim_probability.csv', 'operating_characteristics.csv', 'run.json', 'verdicts.csv.gz']
    """
    folder = Path(out_dir) / "results" / "robustness"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if verdicts is not None:
        prob = claim_probability(verdicts)
        prob.to_csv(folder / "claim_probability.csv", index=False, encoding="utf-8")
        verdicts.to_csv(folder / "verdicts.csv.gz", index=False, encoding="utf-8")
        operating_characteristics(prob).to_csv(folder / "operating_characteristics.csv", index=False, encoding="utf-8")
        written += [folder / "claim_probability.csv", folder / "verdicts.csv.gz",
                    folder / "operating_characteristics.csv"]
    if cohort_universes is not None:
        multiverse_flips(cohort_universes).to_csv(folder / "multiverse_flips.csv", index=False, encoding="utf-8")
        written.append(folder / "multiverse_flips.csv")
    if universes is not None:
        multiverse_summary(universes).to_csv(folder / "multiverse.csv", index=False, encoding="utf-8")
        universes.to_csv(folder / "multiverse_universes.csv.gz", index=False, encoding="utf-8")
        written += [folder / "multiverse.csv", folder / "multiverse_universes.csv.gz"]
    meta_path = folder / "run.json"
    meta = json.loads(meta_path.read_text("utf-8")) if meta_path.is_file() else {}
    for key in ("shipped_with_book", "commit", "uncommitted_changes", "registry_hash", "made_by", "data_hashes_added"):
        meta.pop(key, None)  # written into a copy of the shipped result: it is no longer that result
    meta.update(info or {})
    meta["versions"] = _versions()
    meta_path.write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
    written.append(meta_path)
    return written


def read_outputs(folder) -> dict:
    """What a robustness folder holds: ``probability``, ``multiverse``, ``operating`` (operating characteristics),
    ``flips`` (the multiverse over cohorts), ``causes`` (:data:`CAUSES`) (DataFrames or None) and ``run`` (dict).

    ``folder`` is ``…/results/robustness``, or an output folder holding ``results/robustness``.

    Examples
    --------
    >>> import tempfile
    >>> read_outputs(tempfile.mkdtemp())["probability"] is None
    True
    """
    folder = paths.robustness_folder(folder)
    prob = folder / "claim_probability.csv"
    mv = folder / "multiverse.csv"
    run_json = folder / "run.json"
    oc = folder / "operating_characteristics.csv"
    flips = folder / "multiverse_flips.csv"
    causes = folder / CAUSES
    return {
        "probability": pd.read_csv(prob, encoding="utf-8") if prob.is_file() else None,
        "multiverse": pd.read_csv(mv, encoding="utf-8", keep_default_na=False) if mv.is_file() else None,
        "operating": pd.read_csv(oc, encoding="utf-8", keep_default_na=False) if oc.is_file() else None,
        "flips": pd.read_csv(flips, encoding="utf-8") if flips.is_file() else None,
        "causes": pd.read_csv(causes, encoding="utf-8", keep_default_na=False) if causes.is_file() else None,
        "run": json.loads(run_json.read_text("utf-8")) if run_json.is_file() else {},
    }


# --------------------------------------------------------------------------------------------- whose data
#: the two parts of a robustness result, each computed on its own data: the simulated cohorts and the multiverse
PARTS = ("cohorts", "multiverse")


def cohorts_reference(n_patients: int, params: dict | None = None) -> str:
    """The data hash the simulated cohorts of a run stand for: the shipped synthetic cohort's, or "".

    The cohorts of a run are drawn from the calibrated simulator (and its null models) at its default design;
    the shipped synthetic cohort (``data/synthetic``) is one draw of that model. So a run of that many
    patients, with the chapters' default parameters, stands for the shipped cohort's design (its
    :func:`analysis.intake.io.fingerprint`); any other run stands for no data folder ("").

    Examples
    --------
    >>> len(cohorts_reference(105)), cohorts_reference(40), cohorts_reference(105, {"alpha": 0.01})
    (64, '', '')
    """
    import yaml

    from analysis.intake.io import fingerprint

    folder = paths.default_data_dir()
    try:
        meta = yaml.safe_load((folder / "dataset.yaml").read_text("utf-8")) or {}
    except OSError:
        return ""
    if params or int(meta.get("n_patients", -1)) != int(n_patients):
        return ""
    return fingerprint(folder)


def applies_to(run: dict, part: str, data_fingerprint: str | None) -> bool:
    """Whether ``part`` ("cohorts" or "multiverse") of a robustness run (its ``run.json``) was computed on the data
    whose :func:`analysis.intake.io.fingerprint` is ``data_fingerprint``.

    A run records ``<part>_data_hash``; an older run that does not is taken for other data (never attached).

    Examples
    --------
    >>> applies_to({"multiverse_data_hash": "ab"}, "multiverse", "ab"), applies_to({}, "multiverse", "ab")
    (True, False)
    """
    if part not in PARTS:
        raise ValueError(f"`part` is {part!r}; allowed: {', '.join(PARTS)}")
    recorded = run.get(f"{part}_data_hash") or ""
    return bool(recorded) and bool(data_fingerprint) and recorded == data_fingerprint


def result_counts(robustness_dir) -> dict:
    """What a robustness result says of its own claims, whatever the build's data.

    Returns ``{"cohort_claims", "classes", "paper_claims", "multiverse_claims", "fragile", "robust",
    "flip_cohorts", "flipping"}``: the number of claims its simulated cohorts judge, the number of empirical claims
    in each class of ``operating_characteristics.csv`` and how many of them are the paper's claims about data (not a
    second look's, not the audit's) (:data:`analysis.claims.characteristics.CLASSES`; empty when the
    result has no such file), the multiverse's claims and how many are fragile or robust on its data, and for
    the multiverse over calibrated cohorts (``multiverse_flips.csv``) its number of cohorts and how many claims
    some single choice flips in more than :data:`FLIP_RATE` of them. A part the result does not have counts 0.

    Examples
    --------
    >>> import tempfile
    >>> result_counts(tempfile.mkdtemp())["cohort_claims"]
    0
    """
    found = read_outputs(robustness_dir)
    out = dict.fromkeys(("cohort_claims", "multiverse_claims", "fragile", "robust", "flip_cohorts", "flipping"), 0)
    out["classes"] = {}
    prob = found["probability"]
    if prob is not None:
        out["cohort_claims"] = int(prob.loc[prob["model"].eq("calibrated"), "claim_id"].nunique()
                                   if "model" in prob.columns else prob["claim_id"].nunique())
    oc = found["operating"]
    out["paper_claims"] = 0
    if oc is not None:
        counts = oc["class"].value_counts()
        out["classes"] = {c: int(counts.get(c, 0)) for c in CLASSES}
        from analysis.claims.registry import published
        from analysis.scorecard.summary import paper_data_claims  # the headline's claims: one definition

        reg = published()
        chapter = oc["claim_id"].map(dict(zip(reg["claim_id"], reg["chapter"])))
        out["paper_claims"] = int(len(paper_data_claims(oc.assign(chapter=chapter), reg)))
    mv = found["multiverse"]
    if mv is not None:
        out["multiverse_claims"] = int(len(mv))
        out["fragile"] = int(mv["result"].eq("fragile").sum())
        out["robust"] = int(mv["result"].eq("robust").sum())
    flips = found["flips"]
    if flips is not None and len(flips):
        out["flip_cohorts"] = int(flips["cohorts"].max())
        out["flipping"] = int(flips.loc[flips["flip_rate"] > FLIP_RATE, "claim_id"].nunique())
    return out


def _data_name(run: dict, part: str) -> str:
    if part == "multiverse":
        return str(run.get("multiverse_data") or "a data folder it does not record")
    return str(run.get("cohorts_data") or f"cohorts of {run.get('n_patients', '?')} patients simulated by this project")


def describe_result(robustness_dir, *, data_fingerprint: str, data_name: str) -> str:
    """The scorecard's words on a robustness result (Markdown): which result, on whose data, what it found.

    Every count is of the result's own claims; a part computed on other data than the build's
    (``data_fingerprint``, folder ``data_name``) is labelled with its data and said not to be attached to the
    verdicts; a part the result does not have is said to be missing, with the command that makes it.

    Examples
    --------
    >>> import tempfile
    >>> describe_result(tempfile.mkdtemp(), data_fingerprint="ab", data_name="mine").split(".")[0]
    'No robustness result is part of this build'
    """
    found = read_outputs(robustness_dir)
    run = found["run"]
    has = {"cohorts": found["probability"] is not None, "multiverse": found["multiverse"] is not None,
           "flips": found["flips"] is not None}
    build = "python -m analysis build"
    folder = paths.robustness_folder(robustness_dir)
    if not any(has.values()) and (folder / "data_probability.csv").is_file():
        data = str(run.get("resample_data") or "a data folder it does not record")
        return (f"This result has no simulated part (it holds the resampling of `{data}`, shown in the section "
                "above): run `python -m analysis robustness --out DIR` for the simulated cohorts at the paper's "
                "design this section describes (into the same DIR, the resampling is kept), then build with `"
                + build + " --robustness DIR`.")
    if not any(has.values()) and (folder / "design_characteristics.csv").is_file():
        return ("The robustness result of this build holds only a design run (`python -m analysis robustness "
                "--design-from`): the page *Planning a replication* shows it. Run `python -m analysis robustness --out DIR` "
                "into the same folder for the simulated cohorts at the paper's design this section describes.")
    if not any(has.values()):
        return ("No robustness result is part of this build. Run `python -m analysis robustness --out DIR` (add "
                "`--multiverse` for the analysis choices) and build with `" + build + " --robustness DIR` to see, "
                "per claim, how often it is reproduced over simulated cohorts.")
    n = result_counts(robustness_dir)
    command = run.get("command", "a command it does not record")
    date = str(run["date"])[:10] if run.get("date") else "an unrecorded date"
    if run.get("shipped_with_book"):
        which = (f"This page shows the robustness result shipped with the book (`data/robustness/`): `{command}`, "
                 f"{date}, computed with the code of commit {str(run.get('commit', '?'))[:10]}.")
    else:
        which = (f"This page shows a robustness result given to this output folder (`{command}`, {date}); it stays "
                 f"for later builds into the same folder, and `{build} --robustness shipped` returns to the result "
                 "shipped with the book.")
    paras = [which]
    if has["cohorts"]:
        models = run.get("models") or []
        text = (f"Its simulated part judges every claim on {run.get('cohorts', '?')} {_data_name(run, 'cohorts')} "
                f"under each of {len(models) or '?'} models ({', '.join(models) or 'not recorded'}).")
        if n["classes"]:
            total = sum(n["classes"].values())
            parts = [f"{k} {c}" for c, k in n["classes"].items()]
            text += (f" What its verdicts are worth at that design, for all {total} empirical claims it covers: "
                     + ", ".join(parts[:-1]) + f" and {parts[-1]}. The headline at the top of this page counts "
                     f"the {n['paper_claims']} of them that are the paper's claims about data; the others are the "
                     "book's own second looks and the audit's checks of the paper's arithmetic (not assessable). "
                     "Each claim's class is in the table below and beside its verdict in its chapter.")
        else:
            text += (" It has no operating characteristics (an older result), so it cannot say what each verdict "
                     "is worth; run `python -m analysis robustness --out DIR` again for them.")
        text += (" The cohorts are simulated by this project: the probabilities describe a design and the analysis, "
                 "not patients.")
        if applies_to(run, "cohorts", data_fingerprint):
            text += (" This build's data are of that design, so an uninformative or underpowered claim is flagged "
                     "beside its verdict below.")
        elif "cohorts_data_hash" not in run:
            text += (" The result does not record which data its cohorts stand for (it predates that record): the "
                     "probabilities are shown for reference and no claim judged on these data is flagged by them.")
        else:
            text += (f" This build's data (`{data_name}`) are not of that design: the probabilities are shown for "
                     "reference and no claim judged on these data is flagged by them.")
    else:
        text = ("This result has no simulated part: run `python -m analysis robustness --out DIR` (without "
                f"`--multiverse-only`) and build with `{build} --robustness DIR` for it.")
    paras.append(text)
    if has["multiverse"]:
        mv_hash = str(run.get("multiverse_data_hash") or "")
        label = f"`{_data_name(run, 'multiverse')}`" + (f" (data hash {mv_hash[:12]})" if mv_hash else "")
        text = (f"Its multiverse judges each of {n['multiverse_claims']} claims on one data folder, {label}, under "
                "every combination of the analysis choices (DAS28-ESR/CRP, α, test rule, missing-data, LLOQ/ULOQ "
                f"rules, IFN-γ threshold): on those data {n['fragile']} are **fragile** (another reasonable choice "
                f"changes their verdict) and {n['robust']} keep their verdict under every combination.")
        if applies_to(run, "multiverse", data_fingerprint):
            text += " Those are this build's data, so the fragile flags are attached to the verdicts below."
        elif not mv_hash:
            text += (" The result does not record the hash of those data (it predates that record), so it cannot "
                     "tell whether they are this build's: none of its flags is attached to a claim judged on these "
                     "data.")
        else:
            text += (f" Those are not this build's data (`{data_name}`): none of its flags is attached to a claim "
                     "judged on these data. For these data, run `python -m analysis robustness --multiverse-only "
                     f"--data DIR --out OUT` (DIR: the `{data_name}` folder) and build with `{build} --robustness OUT`.")
    else:
        text = ("This result has no multiverse part: run `python -m analysis robustness --multiverse --out DIR` (or "
                f"`--multiverse-only`) and build with `{build} --robustness DIR` for it.")
    paras.append(text)
    if n["flip_cohorts"]:
        paras.append(f"Its multiverse over {n['flip_cohorts']} calibrated cohorts changes one analysis choice at a "
                     f"time: for {n['flipping']} claims some single choice changes the verdict in more than "
                     f"{100 * FLIP_RATE:.0f} % of those cohorts (per claim and choice, the share is in "
                     "`results/robustness/multiverse_flips.csv`; the table below names the choice that flips each "
                     "claim most often).")
    return "\n\n".join(paras)


# --------------------------------------------------------------------------------------------- scorecard
def scorecard_table(claims: pd.DataFrame, robustness_dir, *, data_fingerprint: str | None = None) -> pd.DataFrame:
    """Per claim of the book: P(reproduced) under each model, its class, the multiverse results and the flags.

    Parameters
    ----------
    claims : DataFrame
        The book's claims table (``claim_id``, ``verdict`` at least; e.g. :func:`analysis.scorecard.summary.read_claims`).
    robustness_dir : path
        A robustness folder (see :func:`read_outputs`).
    data_fingerprint : str, optional
        The data the ``claims`` were judged on (:func:`analysis.intake.io.fingerprint`). When given, the
        flags of a part of the result (``uninformative``/``underpowered``: the simulated cohorts; ``fragile``: the
        multiverse) are set only when that part was computed on these data (:func:`applies_to`); the
        probabilities, classes and multiverse columns are shown either way.

    Returns
    -------
    pandas.DataFrame
        The claims' columns ``chapter``, ``claim_id``, ``verdict``, then ``p_<model>`` for every model
        (P(reproduced); NaN when that model was not run or did not judge the claim), ``p_null_max`` (the
        largest among the claim's ``fails_under`` models), ``class`` (its class in
        ``operating_characteristics.csv``: can this design tell? "" when the result has none), ``false_positive``
        and ``false_positive_model`` (from the same file), ``multiverse`` ("robust", "fragile: <choices>" or ""
        when not run: the multiverse on one data folder), ``flips_most`` (the single choice that changed the
        verdict in the largest share of calibrated cohorts, e.g. "alpha=0.01 (35 % of 20 cohorts)", or ""),
        ``cause`` (why its sensitivity is or was below 80 %: :data:`CAUSES`, or ""),
        ``uninformative``, ``underpowered`` and ``fragile`` (bool) and ``flags`` (text).

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> v = pd.DataFrame({"model": ["calibrated", "harm"], "cohort": 0, "seed": 1, "chapter": "safety",
    ...                   "claim_id": "safety.no_gvhd", "verdict": "reproduced", "seconds": 0.1})
    >>> _ = write_outputs(d, verdicts=v)
    >>> c = pd.DataFrame({"chapter": ["safety"], "claim_id": ["safety.no_gvhd"], "verdict": ["reproduced"]})
    >>> scorecard_table(c, d)[["p_calibrated", "p_harm", "class", "flags"]].values.tolist()
    [[1.0, 1.0, 'uninformative', 'uninformative at this design (reproduced in 100 % of harm cohorts)']]
    """
    found = read_outputs(robustness_dir)
    base_cols = [c for c in ("chapter", "claim_id", "claim", "verdict") if c in claims.columns]
    out = claims[base_cols].copy().reset_index(drop=True)
    prob = found["probability"]
    for model in MODELS:
        col = f"p_{model}"
        if prob is not None and model in set(prob["model"]):
            one = prob.loc[prob["model"] == model].set_index("claim_id")["p_reproduced"]
            out[col] = out["claim_id"].map(one).astype(float)
        else:
            out[col] = np.nan
    scope = _fails_under()
    relevant = pd.DataFrame({f"p_{m}": out[f"p_{m}"].where(out["claim_id"].map(lambda c: m in scope.get(c, ())))
                             for m in MODELS if m != "calibrated"})
    out["p_null_max"] = relevant.max(axis=1, skipna=True)
    oc = found.get("operating")
    if oc is not None:
        o = oc.drop_duplicates("claim_id").set_index("claim_id")
        out["class"] = out["claim_id"].map(o["class"]).fillna("")
        out["false_positive"] = out["claim_id"].map(pd.to_numeric(o["false_positive"], errors="coerce")).astype(float)
        out["false_positive_model"] = out["claim_id"].map(o["false_positive_model"]).fillna("")
    else:
        out["class"], out["false_positive"], out["false_positive_model"] = "", np.nan, ""
    mv = found["multiverse"]
    if mv is not None:
        m = mv.set_index("claim_id")
        text = np.where(m["result"] == "robust", "robust",
                        "fragile" + np.where(m["flipped_by"].astype(str) != "", ": " + m["flipped_by"].astype(str), ""))
        out["multiverse"] = out["claim_id"].map(pd.Series(text, index=m.index)).fillna("")
        out["fragile"] = out["claim_id"].map((m["result"] == "fragile").to_dict()).eq(True)
    else:
        out["multiverse"] = ""
        out["fragile"] = False
    flips = found.get("flips")
    if flips is not None and len(flips):
        top = flips.dropna(subset=["flip_rate"]).sort_values(["flip_rate", "choice"], ascending=[False, True])
        top = top.loc[top["flip_rate"] > 0].drop_duplicates("claim_id").set_index("claim_id")
        words = top["choice"] + " (" + (100 * top["flip_rate"]).round().astype(int).astype(str) + " % of " \
            + top["cohorts"].astype(int).astype(str) + " cohorts)"
        out["flips_most"] = out["claim_id"].map(words).fillna("")
    else:
        out["flips_most"] = ""
    causes = found.get("causes")
    if causes is not None and {"claim_id", "cause", "why"} <= set(causes.columns):
        c = causes.drop_duplicates("claim_id").set_index("claim_id")
        out["cause"] = out["claim_id"].map(c["cause"] + ": " + c["why"]).fillna("")
    else:
        out["cause"] = ""
    out["uninformative"] = out["class"].eq("uninformative")
    out["underpowered"] = out["class"].eq("underpowered")
    if data_fingerprint is not None:  # flags only from a part computed on the data these claims were judged on
        if not applies_to(found["run"], "cohorts", data_fingerprint):
            out["uninformative"] = False
            out["underpowered"] = False
        if not applies_to(found["run"], "multiverse", data_fingerprint):
            out["fragile"] = False
    flags = []
    for row in out.itertuples():
        parts = []
        if row.uninformative:
            parts.append(f"uninformative at this design (reproduced in {100 * row.false_positive:.0f} % of "
                         f"{row.false_positive_model} cohorts)")
        if row.underpowered:
            parts.append(f"underpowered at this design (reproduced in {100 * row.p_calibrated:.0f} % of "
                         "calibrated cohorts)")
        if row.fragile:
            parts.append("fragile" + (f" ({row.multiverse.split(': ', 1)[1]})" if ": " in row.multiverse else ""))
        flags.append("; ".join(parts))
    out["flags"] = flags
    return out


def probability_figure(table: pd.DataFrame, *, null_rate: float = FALSE_POSITIVE, ax=None):
    """Each claim as a point: P(reproduced | calibrated) against P(reproduced | null), one marker per null.

    ``table`` is :func:`scorecard_table`'s output; with a ``chapter`` column, each null model's points are the
    claims that name it in ``fails_under``). A claim is discriminating when its point under every such model lies
    below the dashed line at ``null_rate`` (:data:`FALSE_POSITIVE`) and right of the dotted one at
    :data:`SENSITIVITY`: reproduced when the paper is right, rarely when it is wrong. Returns the matplotlib Figure.

    Examples
    --------
    >>> t = pd.DataFrame({"claim_id": ["a", "b"], "p_calibrated": [0.9, 0.5], "p_null_treatment": [0.1, 0.5],
    ...                   "p_null_ifng": [0.8, float("nan")]})
    >>> fig = probability_figure(t)
    >>> len(fig.axes[0].collections)
    2
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 6))
    else:
        fig = ax.figure
    shapes = dict(zip([m for m in MODELS if m != "calibrated"], "o^sDvP*Xh"))
    markers = {m: (shapes[m], m) for m in shapes}
    for model, (marker, label) in markers.items():
        col = f"p_{model}"
        if col not in table.columns:
            continue
        scope = table
        if "chapter" in table.columns:  # each model only for the claims that must fail under it (as the flags)
            names = _fails_under()
            scope = table.loc[table["claim_id"].map(lambda c: model in names.get(c, ()))]
        pts = scope[["p_calibrated", col]].dropna()
        if pts.empty:
            continue
        ax.scatter(pts["p_calibrated"], pts[col], marker=marker, alpha=0.7, label=f"{label} ({len(pts)} claims)")
    ax.axhline(null_rate, color="grey", linestyle="--", linewidth=1)
    ax.plot([0, 1], [0, 1], color="lightgrey", linewidth=1)
    ax.axvline(SENSITIVITY, color="grey", linestyle=":", linewidth=1)
    ax.text(0.01, null_rate + 0.01, f"false positive above {100 * null_rate:.0f} %: not discriminating", color="grey",
            fontsize=8)
    ax.set(xlim=(-0.03, 1.03), ylim=(-0.03, 1.03), xlabel="P(reproduced | calibrated model)",
           ylabel="P(reproduced | null model)")
    if ax.collections:
        ax.legend(loc="upper left", fontsize=8, title="null model", title_fontsize=8)
    return fig
