"""Headless evaluation: every chapter's claims from a cohort and parameters, without a notebook or a figure.

Each chapter module (``safety``, ``activity``, ``immune``, ``inflammation``, ``ifng``, ``audit``) ends
with ``evaluate(cohort, params=None)``: the same step functions its notebook calls, in the same order,
then the same verdict calls on a :class:`~analysis.claims.log.ClaimLog`, and it returns that log's claims
table. This module holds what they share:

* :func:`chapter_defaults` — a chapter's parameters and their defaults, read from its notebook's
  ``parameters`` cell (so a changed default in the notebook changes the headless run too);
* :func:`chapter_params` — those defaults overridden by a flat ``params`` dict (as ``-p KEY=VALUE``);
* :func:`derived` — :func:`analysis.science.derive.derive` once per cohort and option set (chapters share it);
* :func:`claim_log` — a fresh log on the registry, read once per process;
* :func:`cohort_from_tables` — a typed :class:`~analysis.intake.io.Cohort` straight from
  :func:`analysis.science.simulate.simulate`'s tables, without writing files;
* :func:`evaluate_all` — every chapter's claims in one table (what the robustness runs call per cohort).

``tests/test_evaluate.py`` checks that ``evaluate`` gives the built notebook's claims (claim id,
reproduced, verdict) on the shipped cohort and on variant folders.
"""
from __future__ import annotations

import importlib
import inspect
import io as _io
import numbers
import weakref
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.core import paths
from analysis.core.chapters import CHAPTERS as _CHAPTERS

__all__ = ["CHAPTER_MODULES", "chapter_defaults", "chapter_params", "claim_log", "cohort_from_tables",
           "derived", "evaluate_all", "registry"]

#: chapter name -> module holding its ``evaluate`` (in reading order)
CHAPTER_MODULES: dict[str, str] = {
    "safety": "analysis.chapters.safety.analysis",
    "disease_activity": "analysis.chapters.disease_activity.analysis",
    "immune": "analysis.chapters.immune.analysis",
    "inflammation": "analysis.chapters.inflammation.analysis",
    "ifng": "analysis.chapters.ifng.analysis",
    "audit": "analysis.chapters.audit.analysis",
}
#: parameters a build sets itself; never taken from ``params``
_RESERVED = frozenset({"data_dir", "output_dir", "published_dir", "results_dir"})


# --------------------------------------------------------------------------------------------- parameters
@lru_cache(maxsize=None)
def _defaults(chapter: str) -> tuple[tuple[str, Any], ...]:
    from analysis.core.notebooks import chapter_parameters

    notebook = {c.name: c.notebook for c in _CHAPTERS}[chapter]
    found = chapter_parameters(paths.repo_root() / "book" / notebook)
    return tuple((k, v) for k, v in found.items() if k not in _RESERVED)


def chapter_defaults(chapter: str) -> dict[str, Any]:
    """The parameters of ``chapter`` and their defaults, from its notebook's ``parameters`` cell.

    ``data_dir``, ``output_dir``, ``published_dir`` and ``results_dir`` are left out.

    Examples
    --------
    >>> chapter_defaults("safety")["alpha"]
    0.05
    """
    if chapter not in CHAPTER_MODULES:
        raise ValueError(f"`chapter` is {chapter!r}; allowed: {', '.join(CHAPTER_MODULES)}")
    return dict(_defaults(chapter))


def chapter_params(chapter: str, params: dict | None = None) -> dict[str, Any]:
    """``chapter``'s defaults, overridden by the keys of ``params`` that the chapter declares.

    ``params`` is one flat dict for all chapters (as ``python -m analysis build -p KEY=VALUE``): a key a
    chapter does not declare is ignored for that chapter. A value of the wrong type is refused.

    Examples
    --------
    >>> chapter_params("immune", {"alpha": 0.01, "lloq_rule": "lloq"})["alpha"]
    0.01
    >>> "lloq_rule" in chapter_params("immune", {"lloq_rule": "lloq"})
    False
    """
    out = chapter_defaults(chapter)
    for key, value in (params or {}).items():
        if key not in out or key in _RESERVED:
            continue
        default = out[key]
        if default is not None and value is not None:
            if isinstance(default, bool) != isinstance(value, bool) or (
                    isinstance(default, (int, float)) and not isinstance(value, (int, float))) or (
                    isinstance(default, str) and not isinstance(value, str)):
                raise TypeError(f"`params` has {key}={value!r}; chapter {chapter!r} expects a "
                                f"{type(default).__name__} (default {default!r})")
            if isinstance(default, float) and isinstance(value, int):
                value = float(value)
        out[key] = value
    return out


# --------------------------------------------------------------------------------------------- shared steps
@lru_cache(maxsize=1)
def registry() -> pd.DataFrame:
    """The claims registry (:func:`analysis.claims.registry.load_published`), read once per process.

    Examples
    --------
    >>> registry()["claim_id"].is_unique
    True
    """
    from analysis.claims.registry import load_published

    return load_published()


def claim_log(chapter: str, alpha: float):
    """A fresh :class:`~analysis.claims.log.ClaimLog` of ``chapter`` on the (cached) registry.

    Examples
    --------
    >>> claim_log("safety", 0.05).alpha
    0.05
    """
    from analysis.claims.log import ClaimLog

    return ClaimLog(chapter, registry(), alpha=alpha)


_DERIVED: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def derived(cohort, **options):
    """:func:`analysis.science.derive.derive` of ``cohort`` with ``options``, computed once per cohort and options.

    The chapters derive the same cohort with the same options; in one process the result is shared
    (the derived tables are never modified by the chapters' functions). Cohorts that cannot be weakly
    referenced are derived afresh every time.

    Examples
    --------
    >>> from analysis.science.simulate import simulate
    >>> c = cohort_from_tables(simulate(n_patients=40))
    >>> derived(c, das28_variant="esr") is derived(c, das28_variant="esr")
    True
    >>> derived(c, response_week=None) is derived(c), derived(c, final_week=48) is derived(c)
    (True, False)
    """
    from analysis.science.derive import derive

    # the same derivation under different spellings (defaults given or not) is computed once
    defaults = {k: v.default for k, v in inspect.signature(derive).parameters.items()
                if v.default is not inspect.Parameter.empty}
    key = tuple(sorted({**defaults, **options}.items(), key=lambda kv: kv[0]))
    # a week given as a NumPy integer is the same week as the int (derive takes both)
    key = tuple((k, repr(int(v) if isinstance(v, numbers.Integral) and not isinstance(v, bool) else v))
                for k, v in key)
    try:
        cache = _DERIVED.setdefault(cohort, {})
    except TypeError:
        return derive(cohort, **options)
    if key not in cache:
        cache[key] = derive(cohort, **options)
    return cache[key]


def cohort_from_tables(tables: dict[str, pd.DataFrame], meta: dict | None = None, *, source=None):
    """A typed :class:`~analysis.intake.io.Cohort` from tables as :func:`analysis.science.simulate.simulate` returns them.

    The tables are written to CSV text in memory exactly as :func:`analysis.science.simulate.write_cohort`
    writes them to disk, read back as strings as :func:`analysis.intake.io.read_table` does, and typed with
    the loader's own conversion, so the result equals ``io.load`` of the written folder (without
    re-validating the simulator's output).

    Parameters
    ----------
    tables : dict of DataFrame
        ``patients``, ``visits``, ``adverse_events``.
    meta : dict, optional
        What ``dataset.yaml`` would hold (its ``design:`` block sets the cohort's schedule).
    source : path, optional
        Recorded as the cohort's source (default: ``"<memory>"``).

    Examples
    --------
    >>> from analysis.science.simulate import simulate
    >>> c = cohort_from_tables(simulate(n_patients=40))
    >>> len(c.patients), bool(c.visits["ifn_g_flag"].eq("<LLOQ").any()), c.visits["ifn_g"].dtype
    (40, True, dtype('float64'))
    """
    import numpy as np

    from analysis.intake.io import Cohort, _typed

    missing = {"patients", "visits", "adverse_events"} - set(tables)
    if missing:
        raise ValueError(f"`tables` lacks {sorted(missing)}; expected the output of simulate()")
    frames = {}
    for name in ("patients", "visits", "adverse_events"):
        df = tables[name].copy()
        for c in df.columns:
            if df[c].dtype == bool:
                df[c] = np.where(df[c].to_numpy(), "true", "false")
        text = df.to_csv(index=False, lineterminator="\n")
        raw = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False)
        raw = raw.apply(lambda s: s.str.strip()).astype(object)
        raw.index = pd.RangeIndex(2, len(raw) + 2, name="row")
        frames[name] = _typed(name, raw)
    return Cohort(patients=frames["patients"], visits=frames["visits"], adverse_events=frames["adverse_events"],
                  source=Path(source) if source is not None else Path("<memory>"), files={}, meta=dict(meta or {}))


# --------------------------------------------------------------------------------------------- all chapters
def _module(chapter: str):
    if chapter not in CHAPTER_MODULES:
        raise ValueError(f"`chapters` has {chapter!r}; allowed: {', '.join(CHAPTER_MODULES)}")
    return importlib.import_module(CHAPTER_MODULES[chapter])


def evaluate_all(cohort, params: dict | None = None, *, chapters=None) -> pd.DataFrame:
    """Every chapter's claims on ``cohort`` under ``params``: one table, chapters in reading order.

    Parameters
    ----------
    cohort : Cohort
        A loaded (:func:`analysis.intake.io.load`) or in-memory (:func:`cohort_from_tables`) cohort.
    params : dict, optional
        One flat dict of chapter parameters (``{"alpha": 0.01, "das28_variant": "crp"}``); each chapter
        takes the keys it declares (:func:`chapter_params`), the others keep their notebook defaults.
    chapters : sequence of str, optional
        Chapter names (default: all of :data:`CHAPTER_MODULES`).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`analysis.claims.registry.TABLE_COLUMNS` (every claim of each chapter exactly once).

    Examples
    --------
    >>> from analysis.science.simulate import simulate
    >>> t = evaluate_all(cohort_from_tables(simulate(seed=1)), chapters=["safety"])
    >>> t["claim_id"].str.startswith("safety.").all()
    np.True_
    """
    names = list(CHAPTER_MODULES) if chapters is None else list(chapters)
    frames = []
    for name in names:
        module = _module(name)
        frames.append(module.evaluate(cohort, params))
    return pd.concat(frames, ignore_index=True)


def accepts(func, name: str) -> bool:
    """True when ``func`` takes a keyword argument ``name`` (or ``**kwargs``).

    Examples
    --------
    >>> accepts(lambda *, model=None: None, "model"), accepts(lambda x: x, "model")
    (True, False)
    """
    sig = inspect.signature(func)
    return name in sig.parameters or any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
