"""Headless evaluation: every chapter's claims from a cohort and parameters, without a notebook or a figure.

Each chapter's ``verdicts`` module (``analysis.chapters.<chapter>.verdicts``) ends with
``evaluate(cohort, params=None)``: the same step functions its notebook calls, in the same order, then the
same verdict calls on a :class:`~analysis.claims.log.ClaimLog`, and it returns that log's claims table. What
they share lives below the chapters: the notebooks' parameters (:mod:`analysis.core.notebooks`), the derivation
computed once per cohort (:func:`analysis.science.derive.derive_cached`) and the registry read once per process
(:func:`analysis.claims.registry.published`, :meth:`analysis.claims.log.ClaimLog.for_chapter`). This module holds
what runs every chapter:

* :data:`CHAPTER_MODULES` — each chapter's ``verdicts`` module;
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
from pathlib import Path

import numpy as np

import pandas as pd

from analysis.core.chapters import CHAPTERS

__all__ = ["CHAPTER_MODULES", "accepts", "cohort_from_tables", "evaluate_all"]

#: chapter name -> module holding its ``evaluate`` (in reading order): read from the chapter registry
CHAPTER_MODULES: dict[str, str] = {c.name: c.verdicts_module for c in CHAPTERS if c.package}


# --------------------------------------------------------------------------------------------- cohorts
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

    from analysis.intake.io import Cohort, typed_table

    missing = {"patients", "visits", "adverse_events"} - set(tables)
    if missing:
        raise ValueError(f"`tables` lacks {sorted(missing)}; expected the output of simulate()")
    frames = {}
    for name in ("patients", "visits", "adverse_events"):
        raw = _text_as_read(tables[name])
        if raw is None:
            df = tables[name].copy()
            for c in df.columns:
                if df[c].dtype == bool:
                    df[c] = np.where(df[c].to_numpy(), "true", "false")
            text = df.to_csv(index=False, lineterminator="\n")
            raw = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False)
            raw = raw.apply(lambda s: s.str.strip()).astype(object)
        raw.index = pd.RangeIndex(2, len(raw) + 2, name="row")
        frames[name] = typed_table(name, raw)
    return Cohort(patients=frames["patients"], visits=frames["visits"], adverse_events=frames["adverse_events"],
                  source=Path(source) if source is not None else Path("<memory>"), files={}, meta=dict(meta or {}))


def _text_as_read(df: pd.DataFrame) -> pd.DataFrame | None:
    """A table of text (a resample of :func:`analysis.scorecard.resample.raw_tables`) as :func:`cohort_from_tables`'s
    CSV round trip would read it, without the round trip; None for any other table (it takes the round trip).

    Text tables: at least two uniquely named columns, every cell a ``str`` without a line break. Their round trip
    gives the same cells stripped (the CSV quoting reads back every other character). Each column is returned as
    a categorical of those cells, so that the typing parses each distinct cell once
    (:func:`analysis.intake.contract.parse_numeric` maps the values back to the rows): the same typed table.
    """
    cols = list(df.columns)
    if len(cols) < 2 or len(set(cols)) < len(cols) or not all(isinstance(c, str) for c in cols):
        return None
    out = {}
    for c in cols:
        values = df[c].to_numpy()
        if values.dtype != object:
            return None
        codes, uniques = pd.factorize(values, use_na_sentinel=False)  # the distinct cells, hashed in C
        uniques = list(uniques)
        if not all(type(u) is str for u in uniques):
            return None
        joined = "".join(uniques)
        if "\n" in joined or "\r" in joined:
            return None
        stripped = [u.strip() for u in uniques]
        if stripped != uniques:  # cells with surrounding blanks: strip every cell
            codes, stripped = pd.factorize(np.array([u.strip() for u in values], dtype=object))
        out[c] = pd.Categorical.from_codes(codes, categories=pd.Index(stripped, dtype=object))
    return pd.DataFrame(out, columns=cols)


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
