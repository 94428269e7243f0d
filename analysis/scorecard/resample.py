"""How sure is each verdict on *these* data? The patient bootstrap and permutation tests, from the data folder.

The simulated robustness run (:mod:`analysis.scorecard.robustness`) describes the paper's design, not a user's
data. This module resamples the data themselves, with no simulator, and judges every claim on each resample with
the chapters' own evaluation (:func:`analysis.scorecard.evaluate.evaluate_all` on a cohort rebuilt by
:func:`analysis.scorecard.evaluate.cohort_from_tables`). The methods (:data:`METHODS`):

* ``bootstrap``: patients drawn with replacement within each arm, each with all their visits and adverse
  events; a drawn patient gets a new id. The share of resamples that give the full data's verdict is that
  verdict's *stability*.
* ``permute_arm``: the arm labels permuted among the patients (no treatment effect, from the data).
* ``permute_mechanism``: within the MSCT arm, the clinical measures
  (:data:`analysis.intake.dictionary.CLINICAL_COLUMNS`, hence DAS28 and the EULAR response) stay with their
  patient; every marker's whole trajectory moves to another MSCT patient (response unrelated to cells,
  cytokines, autoantibodies and labs).
* ``permute_ifng``: the IFN-γ trajectories permuted among MSCT patients.
* ``shuffle_time``: each patient's values of each marker shuffled across that patient's own visits at which the
  marker was measured (no change over time).

A claim is read under the methods that concern it: ``bootstrap`` concerns every claim; a permutation concerns
the claims whose registry row names its null model in ``fails_under`` (:data:`METHOD_MODELS`). A permutation
that reproduces a claim often says these data cannot tell that claim from chance. Resample ``k`` of a method
in a run with seed ``s`` is drawn from its own generator (:func:`generator`), so it is the same on any machine,
with any number of workers and any batching. A method the data cannot support (one arm, no IFN-γ, ...) is
not run, and every claim it concerns says why; a claim the resamples leave untestable is reported as such
(``testable`` 0, ``p_reproduced`` empty, ``not_testable_reason``), never as "0 % reproduced".

:func:`run` distributes the resamples over Dask (:mod:`analysis.scorecard.dask_run`); :func:`data_probability`
summarises them; :func:`write_outputs` / :func:`read_outputs` keep the result beside the simulated one in
``OUT/results/robustness/`` (``data_probability.csv``, ``data_verdicts.csv.gz``, ``run.json``'s ``resample_*``
keys); :func:`describe_result` and :func:`scorecard_table` are what the scorecard shows.
"""
from __future__ import annotations

import datetime
import json
import re
import time
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from analysis.core import paths
from analysis.scorecard.dask_run import Progress, run_tasks

__all__ = [
    "METHODS",
    "METHOD_MODELS",
    "applies_to",
    "claims_concerned",
    "data_probability",
    "describe_result",
    "evaluate_resamples",
    "full_verdicts",
    "generator",
    "method_problem",
    "methods_run",
    "parse_methods",
    "raw_tables",
    "resample_tables",
    "read_outputs",
    "run",
    "run_info",
    "scorecard_table",
    "untested_reason",
    "write_outputs",
]

#: the resampling methods, with what each leaves of the data (in the order of the output)
METHODS: dict[str, str] = {
    "bootstrap": "patients drawn with replacement within each arm, with all their visits and events",
    "permute_arm": "the arm labels permuted among the patients",
    "permute_mechanism": "within the MSCT arm, every marker's trajectory moved to another patient, the clinical "
                         "measures (and so the EULAR response) left with their own",
    "permute_ifng": "the IFN-γ trajectories permuted among the MSCT patients",
    "shuffle_time": "each patient's values of each marker shuffled across that patient's own visits",
}
#: each permutation and the simulated null model whose claims it concerns (registry ``fails_under``)
METHOD_MODELS: dict[str, str] = {"permute_arm": "null_treatment", "permute_mechanism": "null_mechanism",
                                 "permute_ifng": "null_ifng", "shuffle_time": "time_null"}
#: how the scorecard names the data of a permutation: "reproduced in Y % of resamples with ..."
PERMUTED_AWAY: dict[str, str] = {
    "permute_arm": "the arm labels permuted",
    "permute_mechanism": "the markers moved between MSCT patients",
    "permute_ifng": "IFN-γ permuted among MSCT patients",
    "shuffle_time": "the markers shuffled over each patient's visits",
}
#: verdicts that leave a claim untested
UNTESTED: tuple[str, ...] = ("not testable with these data", "holds by construction")
_TABLES = ("patients", "visits", "adverse_events")


# --------------------------------------------------------------------------------------------- methods
def parse_methods(text: str | Iterable[str]) -> list[str]:
    """The methods of a ``--resample`` value (comma-separated; ``all``: every method), in :data:`METHODS` order.

    Examples
    --------
    >>> parse_methods("permute_arm, bootstrap")
    ['bootstrap', 'permute_arm']
    >>> parse_methods("bootstrapp")
    Traceback (most recent call last):
    ...
    ValueError: unknown method 'bootstrapp' (did you mean 'bootstrap'?); allowed: bootstrap, permute_arm, permute_mechanism, permute_ifng, shuffle_time, all
    >>> parse_methods("")
    Traceback (most recent call last):
    ...
    ValueError: no method given; allowed: bootstrap, permute_arm, permute_mechanism, permute_ifng, shuffle_time, all
    """
    import difflib

    items = [m.strip() for m in (text.split(",") if isinstance(text, str) else text) if str(m).strip()]
    if items == ["all"]:
        return list(METHODS)
    allowed = f"allowed: {', '.join(METHODS)}, all"
    if not items:
        raise ValueError(f"no method given; {allowed}")
    bad = [m for m in items if m not in METHODS]
    if bad:
        named = []
        for b in bad:
            close = difflib.get_close_matches(b, [*METHODS, "all"], n=1)
            named.append(repr(b) + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ValueError(f"unknown method{'s' if len(bad) > 1 else ''} {', '.join(named)}; {allowed}")
    return [m for m in METHODS if m in items]


def claims_concerned(method: str, registry: pd.DataFrame | None = None) -> list[str]:
    """The claims a method is read for: every claim for ``bootstrap``; for a permutation, the claims whose
    ``fails_under`` names its null model (:data:`METHOD_MODELS`), in registry order.

    Examples
    --------
    >>> "ifng.predicts_response" in claims_concerned("permute_ifng"), len(claims_concerned("bootstrap")) > 100
    (True, True)
    """
    from analysis.claims.registry import fails_under, published

    if method not in METHODS:
        raise ValueError(f"`method` is {method!r}; allowed: {', '.join(METHODS)}")
    reg = registry if registry is not None else published()
    if method == "bootstrap":
        return list(reg["claim_id"])
    model = METHOD_MODELS[method]
    return [c for c, f in zip(reg["claim_id"], reg["fails_under"]) if model in fails_under(f)]


def _chapters_for(method: str) -> list[str] | None:
    """The chapters to evaluate under ``method`` (``None``: all)."""
    if method == "bootstrap":
        return None
    from analysis.claims.registry import published
    from analysis.scorecard.evaluate import CHAPTER_MODULES

    reg = published()
    wanted = set(reg.loc[reg["claim_id"].isin(claims_concerned(method, reg)), "chapter"])
    return [c for c in CHAPTER_MODULES if c in wanted]


def generator(seed: int, method: str, index: int) -> np.random.Generator:
    """The random generator of resample ``index`` of ``method`` in a run with master ``seed``.

    Derived from ``(seed, crc32(method), index)`` by NumPy's ``SeedSequence``: independent streams, the same on
    every machine and whatever the number of workers or the batches.

    Examples
    --------
    >>> a, b = generator(1, "bootstrap", 0), generator(1, "bootstrap", 0)
    >>> bool(a.integers(1000) == b.integers(1000)), bool(generator(1, "bootstrap", 1).integers(10**9) == generator(1, "permute_arm", 1).integers(10**9))
    (True, False)
    """
    key = zlib.crc32(str(method).encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(key), int(index)]))


# --------------------------------------------------------------------------------------------- tables
def raw_tables(cohort) -> dict[str, pd.DataFrame]:
    """A cohort's tables as text, as a data file holds them: what :func:`resample_tables` resamples and
    :func:`analysis.scorecard.evaluate.cohort_from_tables` types again.

    Censored cells hold their token (``<LLOQ``, ``>ULOQ``) and the ``_flag`` companions are dropped; empty cells
    are ``""``; booleans ``true``/``false``; numbers as Python writes them (they read back exactly).

    Examples
    --------
    >>> from analysis.intake.io import load
    >>> from analysis.core.paths import default_data_dir
    >>> t = raw_tables(load(default_data_dir()))
    >>> sorted(t), "<LLOQ" in set(t["visits"]["ifn_g"]), "ifn_g_flag" in t["visits"].columns
    (['adverse_events', 'patients', 'visits'], True, False)
    """
    out = {}
    for name in _TABLES:
        df = getattr(cohort, name)
        cols = {}
        for c in df.columns:
            if c.endswith("_flag") and c[:-5] in df.columns:
                continue
            s = df[c]
            if str(s.dtype) == "boolean" or s.dtype == bool:
                text = np.where(s.isna().to_numpy(), "", np.where(s.fillna(False).to_numpy(dtype=bool), "true", "false"))
            elif pd.api.types.is_numeric_dtype(s):
                values = s.astype("float64").to_numpy() if str(s.dtype) != "Int64" else None
                if values is None:  # integers: no decimal point
                    text = np.array(["" if pd.isna(v) else str(int(v)) for v in s], dtype=object)
                else:
                    text = np.array(["" if np.isnan(v) else repr(float(v)) for v in values], dtype=object)
            else:
                text = np.array(["" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v)
                                 for v in s], dtype=object)
            flag = f"{c}_flag"
            if flag in df.columns:
                tokens = df[flag]
                text = np.where(tokens.notna().to_numpy(), tokens.fillna("").astype(str).to_numpy(), text)
            cols[c] = pd.Series(text, dtype=object)
        out[name] = pd.DataFrame(cols, columns=list(cols)).reset_index(drop=True)
    return out


def _measured(visits: pd.DataFrame, columns) -> list[str]:
    return [c for c in columns if c in visits.columns and visits[c].ne("").any()]


def _markers(visits: pd.DataFrame) -> list[str]:
    from analysis.intake.dictionary import marker_columns

    return _measured(visits, marker_columns("visits"))


def method_problem(tables: dict[str, pd.DataFrame], method: str) -> str:
    """Why ``method`` cannot run on these (raw) tables, or ``""`` when it can.

    Examples
    --------
    >>> p = pd.DataFrame({"patient_id": ["a", "b"], "arm": ["MSCT", "MSCT"]})
    >>> v = pd.DataFrame({"patient_id": ["a", "b"], "week": ["0", "0"], "ifn_g": ["", ""]})
    >>> method_problem({"patients": p, "visits": v}, "permute_arm")
    'the data have a single arm (MSCT): there are no arm labels to permute'
    >>> method_problem({"patients": p, "visits": v}, "permute_ifng")
    'the data have no IFN-γ values to permute'
    """
    if method not in METHODS:
        raise ValueError(f"`method` is {method!r}; allowed: {', '.join(METHODS)}")
    pats, visits = tables["patients"], tables["visits"]
    arms = list(pd.unique(pats["arm"]))
    msct = int(pats["arm"].eq("MSCT").sum())
    if len(pats) < 2:
        return "the data have fewer than 2 patients"
    if method == "permute_arm" and len(arms) < 2:
        return f"the data have a single arm ({', '.join(map(str, arms))}): there are no arm labels to permute"
    if method in ("permute_mechanism", "permute_ifng") and msct < 2:
        return f"the data have {msct} MSCT patient{'' if msct == 1 else 's'}: nothing to permute within the MSCT arm"
    if method == "permute_ifng" and not _measured(visits, ["ifn_g"]):
        return "the data have no IFN-γ values to permute"
    if method in ("permute_mechanism", "shuffle_time") and not _markers(visits):
        return "the data measure no marker (cells, cytokines, autoantibodies, labs) to move"
    return ""


def _bootstrap_rows(tables, rng) -> tuple[np.ndarray, np.ndarray, dict]:
    """A bootstrap draw: the patients' rows drawn within each arm, their new ids, and per other table the rows of
    the drawn patients with their new ids (``None`` when none)."""
    pats = tables["patients"]
    arm = pats["arm"].to_numpy()
    picks = [rng.choice(np.flatnonzero(arm == a), size=int((arm == a).sum()), replace=True) for a in pd.unique(arm)]
    order = np.concatenate(picks) if picks else np.array([], dtype=int)
    old = pats["patient_id"].to_numpy()[order]
    new = np.array([f"{pid}~{j + 1}" for j, pid in enumerate(old)], dtype=object)
    rows_of = {}
    for name in ("visits", "adverse_events"):
        df = tables[name]
        rows = df.groupby("patient_id", sort=False).indices if len(df) else {}
        parts = [(rows[pid], nid) for pid, nid in zip(old, new) if pid in rows]
        rows_of[name] = ((np.concatenate([r for r, _ in parts]),
                          np.concatenate([np.full(len(r), nid, dtype=object) for r, nid in parts]))
                         if parts else None)
    return order, new, rows_of


def _bootstrap(tables, rng, typed=None):
    """The bootstrap resample of ``tables``; with ``typed`` (the same tables typed, row for row), of those."""
    order, new, rows_of = _bootstrap_rows(tables, rng)
    source = tables if typed is None else typed
    out = {"patients": source["patients"].iloc[order].assign(patient_id=new).reset_index(drop=True)}
    for name, hit in rows_of.items():
        df = source[name]
        out[name] = df.iloc[:0].copy() if hit is None else df.iloc[hit[0]].assign(patient_id=hit[1]).reset_index(drop=True)
    return out


def _permute_arm(tables, rng):
    pats = tables["patients"]
    return {**tables, "patients": pats.assign(arm=rng.permutation(pats["arm"].to_numpy()))}


@lru_cache(maxsize=1)
def _empty_visit() -> pd.DataFrame:
    """A visit row whose every cell is empty, typed (:func:`analysis.intake.io.typed_table`); read only."""
    from analysis.intake.io import typed_table

    return typed_table("visits", pd.DataFrame({"patient_id": [""]}, dtype=object))


def _typed_cells_moved(visits: pd.DataFrame, sources: dict[str, np.ndarray]) -> pd.DataFrame:
    """:func:`_cells_moved` on typed visits: a text column's value and its censoring flag taken together from the
    source rows; an empty cell (-1) gets the value the typing gives an empty cell."""
    if not sources:
        return visits
    empty = _empty_visit()
    out = visits.copy()
    for c, source in sources.items():
        rows = np.where(source >= 0, source, len(visits))  # the last row of the extended column: the empty cell
        for col in (c, f"{c}_flag"):
            if col in visits.columns:
                extended = pd.concat([visits[col], empty[col]], ignore_index=True)
                out[col] = extended.take(rows).set_axis(out.index)
    return out


def _typed_resample(tables: dict, typed, method: str, *, seed: int, index: int):
    """Resample ``index`` of ``method`` drawn from the raw ``tables`` (the same draw as :func:`resample_tables`)
    and applied to ``typed``, the cohort those tables type to: the cohort
    :func:`analysis.scorecard.evaluate.cohort_from_tables` makes of the resampled tables, without typing them.

    The typing is cell by cell (each cell's value depends on that cell's text only; each column's dtype on the
    column only), so typing the resampled text equals taking, relabelling (a new id is text typed as itself),
    permuting or moving the typed cells (a censored value with its flag; an empty cell typed as empty).
    """
    from analysis.intake.io import Cohort

    if method not in METHODS:
        raise ValueError(f"`method` is {method!r}; allowed: {', '.join(METHODS)}")
    rng = generator(seed, method, index)
    frames = {name: getattr(typed, name) for name in _TABLES}
    if method == "bootstrap":
        frames = _bootstrap(tables, rng, frames)
    else:
        frames = {n: f.copy() for n, f in frames.items()}
        if method == "permute_arm":  # the same permutation of the typed labels ("" typed as None)
            pats = frames["patients"]
            frames["patients"] = pats.assign(arm=rng.permutation(pats["arm"].to_numpy()))
        else:
            if method == "shuffle_time":
                sources = _shuffled_cells(tables, rng)
            else:
                columns = (_markers(tables["visits"]) if method == "permute_mechanism"
                           else _measured(tables["visits"], ["ifn_g"]))
                sources = _moved_cells(tables, rng, columns) if columns else {}
            frames["visits"] = _typed_cells_moved(frames["visits"], sources)
    return Cohort(patients=frames["patients"], visits=frames["visits"], adverse_events=frames["adverse_events"],
                  source=typed.source, files={}, meta=dict(typed.meta))


def _moved_cells(tables, rng, columns) -> dict[str, np.ndarray]:
    """Within the MSCT arm, each patient's values of ``columns`` at each week come from another patient's
    same week (one permutation of the MSCT patients): per column, the visit row each row's cell comes from
    (-1: the donor did not attend that week, an empty cell)."""
    pats, visits = tables["patients"], tables["visits"]
    ids = pats.loc[pats["arm"].eq("MSCT"), "patient_id"].to_numpy()
    donor = dict(zip(ids, ids[rng.permutation(len(ids))]))
    pid = visits["patient_id"].to_numpy()
    mine = np.array([p in donor for p in pid])
    key = pd.MultiIndex.from_arrays([visits["patient_id"], visits["week"]])
    wanted = pd.MultiIndex.from_arrays([[donor[p] for p in pid[mine]], visits["week"].to_numpy()[mine]])
    source = np.arange(len(visits))
    source[np.flatnonzero(mine)] = key.get_indexer(wanted)
    return {c: source for c in columns}


def _shuffled_cells(tables, rng) -> dict[str, np.ndarray]:
    """Each patient's values of each marker shuffled across that patient's visits with a value: per marker with
    at least 2 values, the visit row each row's cell comes from."""
    visits = tables["visits"]
    codes = pd.factorize(visits["patient_id"])[0]
    out = {}
    for c in _markers(visits):
        sub = np.flatnonzero(visits[c].to_numpy() != "")
        if len(sub) < 2:
            continue
        keys = rng.random(len(sub))
        here = sub[np.lexsort((sub, codes[sub]))]  # each patient's measured visits, in table order
        there = sub[np.lexsort((keys, codes[sub]))]  # the same visits, in a random order within the patient
        source = np.arange(len(visits))
        source[here] = there
        out[c] = source
    return out


def _cells_moved(visits: pd.DataFrame, sources: dict[str, np.ndarray]) -> pd.DataFrame:
    """The text visits with each column of ``sources`` taken from its source rows (-1: an empty cell)."""
    out = visits.copy()
    for c, source in sources.items():
        out[c] = np.where(source >= 0, visits[c].to_numpy()[np.maximum(source, 0)], "")
    return out


def _move_trajectories(tables, rng, columns):
    if not columns:
        return tables
    return {**tables, "visits": _cells_moved(tables["visits"], _moved_cells(tables, rng, columns))}


def _shuffle_time(tables, rng):
    return {**tables, "visits": _cells_moved(tables["visits"], _shuffled_cells(tables, rng))}


def resample_tables(tables: dict[str, pd.DataFrame], method: str, *, seed: int, index: int) -> dict[str, pd.DataFrame]:
    """Resample ``index`` of ``method`` (run seed ``seed``) of the raw tables (:func:`raw_tables`).

    Parameters
    ----------
    tables : dict of DataFrame
        ``patients``, ``visits``, ``adverse_events`` as text (:func:`raw_tables`).
    method : str
        One of :data:`METHODS`.
    seed, index : int
        The run's seed and the resample's number; the generator is :func:`generator` ``(seed, method, index)``.

    Returns
    -------
    dict of DataFrame
        New tables (the input is not modified).

    Examples
    --------
    >>> p = pd.DataFrame({"patient_id": ["a", "b", "c"], "arm": ["MSCT", "MSCT", "control"]})
    >>> v = pd.DataFrame({"patient_id": ["a", "a", "b", "c"], "week": ["0", "12", "0", "0"], "tjc28": ["5", "1", "7", "6"]})
    >>> ae = pd.DataFrame({"patient_id": ["a"], "week": ["1"], "event": ["fever"]})
    >>> t = resample_tables({"patients": p, "visits": v, "adverse_events": ae}, "bootstrap", seed=1, index=0)
    >>> t["patients"]["arm"].value_counts().to_dict(), t["patients"]["patient_id"].is_unique
    ({'MSCT': 2, 'control': 1}, True)
    """
    if method not in METHODS:
        raise ValueError(f"`method` is {method!r}; allowed: {', '.join(METHODS)}")
    rng = generator(seed, method, index)
    if method == "bootstrap":
        return _bootstrap(tables, rng)
    if method == "permute_arm":
        return _permute_arm(tables, rng)
    if method == "permute_mechanism":
        return _move_trajectories(tables, rng, _markers(tables["visits"]))
    if method == "permute_ifng":
        return _move_trajectories(tables, rng, _measured(tables["visits"], ["ifn_g"]))
    return _shuffle_time(tables, rng)


# --------------------------------------------------------------------------------------------- evaluation
def _judged(cohort, params, chapters) -> pd.DataFrame:
    """:func:`evaluate_all`; when one chapter fails on a resample, the others still count and its claims say
    "evaluation failed" with the error."""
    from analysis.scorecard.evaluate import CHAPTER_MODULES, evaluate_all

    try:
        return evaluate_all(cohort, params, chapters=chapters)
    except Exception:  # noqa: BLE001 - isolate the chapter that fails on this resample
        frames = []
        for name in (chapters if chapters is not None else list(CHAPTER_MODULES)):
            try:
                frames.append(evaluate_all(cohort, params, chapters=[name]))
            except Exception as err:  # noqa: BLE001
                from analysis.claims.registry import published

                reg = published()
                ids = reg.loc[reg["chapter"].eq(name), "claim_id"]
                frames.append(pd.DataFrame({"chapter": name, "claim_id": ids, "verdict": "evaluation failed",
                                            "rule": f"{type(err).__name__}: {err}"}))
        return pd.concat(frames, ignore_index=True)


_SHORT_OF = re.compile(r"\s\((fewer than [^()]*)\)$")


def untested_reason(verdict: str, reproduced, rule) -> str:
    """Why the evaluation left a claim untested, from its claims-table row: the reason it gave, not its rule.

    A claim recorded by :meth:`analysis.claims.log.ClaimLog.not_testable` or
    :meth:`~analysis.claims.log.ClaimLog.by_construction` carries its reason in ``rule`` ("not testable: ...",
    "holds by construction: ..."); one whose rule could not be applied (no interval, no patients) carries what was
    missing in ``reproduced`` (and "(fewer than ...)" at the end of the rule). "evaluation failed" keeps the error.

    Examples
    --------
    >>> untested_reason("not testable with these data", "", "not testable: the data lack the column(s) ifn_g")
    'the data lack the column(s) ifn_g'
    >>> untested_reason("not testable with these data", "interval could not be computed; n = 0 responders",
    ...                 "reproduced if the 95 % CI of the effect lies wholly below 0; ...")
    'interval could not be computed; n = 0 responders'
    >>> untested_reason("not testable with these data", "", "reproduced if ... (fewer than 2 patients)")
    'fewer than 2 patients'
    >>> untested_reason("holds by construction", "", "holds by construction: EULAR response is this fall")
    'EULAR response is this fall'
    """
    rule = "" if rule is None or (isinstance(rule, float) and np.isnan(rule)) else str(rule).strip()
    found = "" if reproduced is None or (isinstance(reproduced, float) and np.isnan(reproduced)) else str(reproduced).strip()
    if verdict == "evaluation failed":
        return rule
    for prefix in ("not testable: ", "holds by construction: "):
        if rule.startswith(prefix):
            return rule[len(prefix):].strip()
    if rule.startswith("not testable") or rule == "not evaluated by the chapter":
        return rule
    short = _SHORT_OF.search(rule)
    parts = [p for p in (found, short.group(1) if short else "") if p]
    return "; ".join(parts) or rule


def evaluate_resamples(tables: dict[str, pd.DataFrame], meta: dict | None, method: str, indices: Iterable[int],
                       seed: int, params: dict | None = None, typed=None) -> pd.DataFrame:
    """Judge the claims ``method`` concerns on resamples ``indices`` of ``tables``: one Dask task.

    Each resample is the cohort :func:`analysis.scorecard.evaluate.cohort_from_tables` makes of it (with the data
    folder's ``meta``: its design), drawn from ``tables`` and applied to ``typed``, the same tables typed once
    (:func:`_typed_resample`; :func:`run` types them once per run and shares them with every task; when not given,
    they are typed here, once per task), and judged by :func:`analysis.scorecard.evaluate.evaluate_all` on the
    chapters of those claims.

    Returns
    -------
    pandas.DataFrame
        ``method``, ``resample``, ``chapter``, ``claim_id``, ``verdict``, ``reason`` (why an untested verdict is
        untested, :func:`untested_reason`; else ""), ``seconds`` (CPU of that resample: resampling, rebuilding,
        judging).

    Examples
    --------
    >>> from analysis.intake.io import load
    >>> from analysis.core.paths import repo_root
    >>> c = load(repo_root() / "data" / "examples" / "small_trial")
    >>> t = evaluate_resamples(raw_tables(c), c.meta, "permute_ifng", [0], seed=1)
    >>> sorted(t["claim_id"].isin(claims_concerned("permute_ifng")).unique())
    [np.True_]
    """
    from analysis.scorecard.evaluate import cohort_from_tables

    wanted = set(claims_concerned(method))
    chapters = _chapters_for(method)
    typed = cohort_from_tables(tables, meta) if typed is None else typed
    frames = []
    for k in indices:
        t0 = time.process_time()
        cohort = _typed_resample(tables, typed, method, seed=seed, index=int(k))
        claims = _judged(cohort, params, chapters)
        claims = claims.loc[claims["claim_id"].isin(wanted)]
        untested = claims["verdict"].isin(UNTESTED + ("evaluation failed",)).to_numpy()
        reason = [untested_reason(v, r, u) if t else "" for t, v, r, u in
                  zip(untested, claims["verdict"], claims["reproduced"] if "reproduced" in claims else [""] * len(claims),
                      claims["rule"])]
        frames.append(pd.DataFrame({"method": method, "resample": int(k), "chapter": claims["chapter"].to_numpy(),
                                    "claim_id": claims["claim_id"].to_numpy(),
                                    "verdict": claims["verdict"].to_numpy(), "reason": reason,
                                    "seconds": time.process_time() - t0}))
    return pd.concat(frames, ignore_index=True)


def full_verdicts(cohort, params: dict | None = None) -> pd.DataFrame:
    """The full data's verdicts (every chapter, :func:`analysis.scorecard.evaluate.evaluate_all`): ``chapter``,
    ``claim_id``, ``verdict``, ``rule``; the reference of ``p_same_verdict``.

    Examples
    --------
    >>> from analysis.intake.io import load
    >>> from analysis.core.paths import repo_root
    >>> full_verdicts(load(repo_root() / "data" / "examples" / "small_trial")).columns.tolist()
    ['chapter', 'claim_id', 'verdict', 'rule']
    """
    return _judged(cohort, params, None)[["chapter", "claim_id", "verdict", "rule"]].reset_index(drop=True)


def run(cohort, *, methods: Iterable[str] = tuple(METHODS), resamples: int = 100, seed: int = 2018,
        params: dict | None = None, workers: int | None = None, scheduler: str | None = None,
        batch_size: int = 5, progress: Progress | None = None, client=None) -> tuple[pd.DataFrame, dict]:
    """Resample a loaded cohort ``resamples`` times by each method and judge the claims each concerns, on Dask.

    Parameters
    ----------
    cohort : Cohort
        The data (:func:`analysis.intake.io.load`).
    methods : iterable of str
        Any of :data:`METHODS`.
    resamples : int
        Resamples per method (N).
    seed : int
        Master seed (:func:`generator`).
    params : dict, optional
        Chapter parameters (as ``-p``), for every resample.
    workers, scheduler, client, progress
        As :func:`analysis.scorecard.dask_run.run_tasks`.
    batch_size : int
        Resamples per task.

    Returns
    -------
    (pandas.DataFrame, dict)
        The per-resample verdicts (:func:`evaluate_resamples`'s columns, sorted by method, resample and registry
        order) and, per method that could not run, why (:func:`method_problem`).

    Examples
    --------
    >>> from analysis.intake.io import load
    >>> from analysis.core.paths import repo_root
    >>> v, problems = run(load(repo_root() / "data" / "examples" / "small_trial"), methods=["permute_arm"],
    ...                   resamples=2, workers=1)  # doctest: +SKIP
    """
    methods = parse_methods(list(methods))
    for name, value in (("resamples", resamples), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"`{name}` is {value!r}; a whole number >= 1 is required")
    from analysis.scorecard.evaluate import cohort_from_tables

    tables = raw_tables(cohort)
    problems = {m: method_problem(tables, m) for m in methods}
    tasks = [(evaluate_resamples, "<shared:tables>", "<shared:meta>", m, list(range(i, min(resamples, i + batch_size))),
              int(seed), params, "<shared:typed>")
             for m in methods if not problems[m] for i in range(0, int(resamples), int(batch_size))]
    columns = ["method", "resample", "chapter", "claim_id", "verdict", "reason", "seconds"]
    if tasks:
        out = pd.concat(run_tasks(tasks, client=client, workers=workers, scheduler=scheduler, progress=progress,
                                  shared={"tables": tables, "meta": dict(cohort.meta),
                                          "typed": cohort_from_tables(tables, dict(cohort.meta))}),
                        ignore_index=True)
    else:
        out = pd.DataFrame(columns=columns)
    from analysis.claims.registry import published

    order = {cid: i for i, cid in enumerate(published()["claim_id"])}
    out = out.assign(_m=out["method"].map({m: i for i, m in enumerate(METHODS)}), _c=out["claim_id"].map(order))
    out = out.sort_values(["_m", "resample", "_c"], kind="stable").drop(columns=["_m", "_c"]).reset_index(drop=True)
    return out[columns], {m: p for m, p in problems.items() if p}


# --------------------------------------------------------------------------------------------- summary
def _slug(verdict: str) -> str:
    return verdict.replace(" ", "_")


def data_probability(verdicts: pd.DataFrame, full: pd.DataFrame, *, methods: Iterable[str] | None = None,
                     problems: dict | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Per claim and method: the shares of the resamples' verdicts, with Wilson intervals.

    Parameters
    ----------
    verdicts : DataFrame
        :func:`run`'s per-resample verdicts.
    full : DataFrame
        :func:`full_verdicts` (``claim_id``, ``verdict``, ``rule``).
    methods : iterable of str, optional
        The methods of the run (default: those in ``verdicts`` and ``problems``).
    problems : dict, optional
        Method -> why it could not run (:func:`run`): its claims get 0 resamples and that reason.

    Returns
    -------
    pandas.DataFrame
        One row per claim and method that concerns it (:func:`claims_concerned`): ``claim_id``, ``method``,
        ``resamples``, ``p_reproduced`` (share of resamples; empty when the claim was never testable),
        ``p_same_verdict`` (share giving the full data's verdict), ``testable`` (share in which the claim was
        neither "not testable with these data" nor "holds by construction"), ``p_<verdict>`` for the other
        verdicts, ``<share>_ci_low`` / ``<share>_ci_high`` (Wilson), then ``chapter``, ``full_verdict`` and
        ``not_testable_reason`` (why the method could not run, or the most frequent reason (:func:`untested_reason`) of the resamples in
        which the claim was not testable).

    Examples
    --------
    >>> v = pd.DataFrame({"method": "permute_ifng", "resample": [0, 1, 2, 3], "chapter": "ifng",
    ...                   "claim_id": "ifng.predicts_response", "reason": "",
    ...                   "verdict": ["reproduced"] + ["not reproduced"] * 3})
    >>> f = pd.DataFrame({"claim_id": ["ifng.predicts_response"], "verdict": ["reproduced"], "rule": ["r"]})
    >>> row = data_probability(v, f).set_index("claim_id").loc["ifng.predicts_response"]
    >>> int(row["resamples"]), float(row["p_reproduced"]), float(row["p_same_verdict"]), float(row["testable"])
    (4, 0.25, 0.25, 1.0)
    """
    from analysis.claims.registry import VERDICTS, published
    from analysis.claims.rules import wilson_interval

    problems = dict(problems or {})
    seen = list(pd.unique(verdicts["method"])) if len(verdicts) else []
    methods = parse_methods(list(methods)) if methods is not None else parse_methods(seen + list(problems))
    names = list(VERDICTS) + sorted(set(verdicts["verdict"]) - set(VERDICTS)) if len(verdicts) else list(VERDICTS)
    reg = published()
    chapter_of = dict(zip(reg["claim_id"], reg["chapter"]))
    full_of = dict(zip(full["claim_id"], full["verdict"]))
    rows = []
    groups = {key: g for key, g in verdicts.groupby(["method", "claim_id"], sort=False)} if len(verdicts) else {}
    for method in methods:
        for cid in claims_concerned(method, reg):
            g = groups.get((method, cid))
            n = 0 if g is None else len(g)
            row = {"claim_id": cid, "method": method, "resamples": n}
            counts = g["verdict"].value_counts() if n else pd.Series(dtype=int)
            same = int((g["verdict"] == full_of.get(cid, "")).sum()) if n else 0
            untested = int(sum(counts.get(v, 0) for v in UNTESTED))
            row["_counts"] = {"reproduced": int(counts.get("reproduced", 0)), "same_verdict": same,
                              **{_slug(v): int(counts.get(v, 0)) for v in names if v != "reproduced"}}
            row["testable"] = (n - untested) / n if n else 0.0
            if method in problems:
                reason = f"{method} cannot run on these data: {problems[method]}"
            elif n and untested:
                why = g.loc[g["verdict"].isin(UNTESTED), ["verdict", "reason"]].astype(str)
                why = why.loc[why["reason"] != ""]
                if why["verdict"].ne("holds by construction").any():  # the reason of "not testable" first
                    why = why.loc[why["verdict"].ne("holds by construction")]
                why = why["reason"]
                reason = why.value_counts().index[0] if len(why) else ""
            else:
                reason = ""
            row.update(chapter=chapter_of.get(cid, ""), full_verdict=full_of.get(cid, ""), not_testable_reason=reason)
            rows.append(row)
    shares = ["reproduced", "same_verdict"] + [_slug(v) for v in names if v != "reproduced"]
    out = []
    for row in rows:
        counts, n = row.pop("_counts"), row["resamples"]
        for s in shares:
            row[f"p_{s}"] = counts[s] / n if n else np.nan
        for s in shares:
            lo, hi = wilson_interval(np.array([counts[s]]), np.array([n]), confidence) if n else ([np.nan], [np.nan])
            row[f"p_{s}_ci_low"], row[f"p_{s}_ci_high"] = float(lo[0]), float(hi[0])
        if not row["testable"] > 0:  # never testable: no share of "reproduced" to report
            for col in ("p_reproduced", "p_reproduced_ci_low", "p_reproduced_ci_high"):
                row[col] = np.nan
        out.append(row)
    columns = (["claim_id", "method", "resamples", "p_reproduced", "p_same_verdict", "testable"]
               + [f"p_{s}" for s in shares[2:]]
               + [f"p_{s}_ci_{e}" for s in shares for e in ("low", "high")]
               + ["chapter", "full_verdict", "not_testable_reason"])
    return pd.DataFrame(out, columns=columns)


# --------------------------------------------------------------------------------------------- files
def _folder(out_dir) -> Path:
    folder = Path(out_dir)
    if (folder / "results" / "robustness").is_dir() or folder.name != "robustness":
        folder = folder / "results" / "robustness"
    return folder


def write_outputs(out_dir, *, probability: pd.DataFrame, verdicts: pd.DataFrame, info: dict) -> list[Path]:
    """Write a resampling run into ``out_dir/results/robustness/`` (beside a simulated result, if any).

    Files: ``data_probability.csv`` (:func:`data_probability`), ``data_verdicts.csv.gz`` (per resample) and
    ``run.json``, whose ``resample_*`` keys (``info``: command, data, data hash, seed, methods, timings) are
    replaced and every other key kept.

    Examples
    --------
    >>> import tempfile
    >>> p = pd.DataFrame({"claim_id": ["a"], "method": ["bootstrap"]})
    >>> [x.name for x in write_outputs(tempfile.mkdtemp(), probability=p, verdicts=p, info={"resample_seed": 1})]
    ['data_probability.csv', 'data_verdicts.csv.gz', 'run.json']
    """
    folder = Path(out_dir) / "results" / "robustness"
    folder.mkdir(parents=True, exist_ok=True)
    probability.to_csv(folder / "data_probability.csv", index=False, encoding="utf-8", lineterminator="\n")
    verdicts.to_csv(folder / "data_verdicts.csv.gz", index=False, encoding="utf-8")
    meta_path = folder / "run.json"
    meta = json.loads(meta_path.read_text("utf-8")) if meta_path.is_file() else {}
    meta = {k: v for k, v in meta.items() if not k.startswith("resample_")}  # an older data result goes entirely
    meta.update(info)
    meta_path.write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
    return [folder / "data_probability.csv", folder / "data_verdicts.csv.gz", meta_path]


def read_outputs(folder) -> dict:
    """A robustness folder's data part: ``probability`` (``data_probability.csv``, or None) and ``run`` (its
    ``run.json``, ``{}`` when absent). ``folder`` is ``…/results/robustness`` or an output folder holding it.

    Examples
    --------
    >>> import tempfile
    >>> read_outputs(tempfile.mkdtemp())["probability"] is None
    True
    """
    folder = paths.robustness_folder(folder)
    prob, run_json = folder / "data_probability.csv", folder / "run.json"
    return {"probability": pd.read_csv(prob, encoding="utf-8", keep_default_na=True,
                                       dtype={"not_testable_reason": str, "full_verdict": str}) if prob.is_file() else None,
            "run": json.loads(run_json.read_text("utf-8")) if run_json.is_file() else {}}


def run_info(*, data_name: str, data_fingerprint: str, methods, resamples: int, seed: int, params: dict | None,
             seconds: float, command: str, where: str, problems: dict, cpu_per_resample: float | None) -> dict:
    """The ``resample_*`` keys of ``run.json`` for :func:`write_outputs`.

    Examples
    --------
    >>> i = run_info(data_name="d", data_fingerprint="ab", methods=["bootstrap"], resamples=5, seed=1, params=None,
    ...              seconds=1.0, command="c", where="w", problems={}, cpu_per_resample=0.5)
    >>> i["resample_data_hash"], i["resample_methods"]
    ('ab', ['bootstrap'])
    """
    return {"resample_command": command,
            "resample_date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "resample_data": str(data_name), "resample_data_hash": str(data_fingerprint),
            "resample_methods": list(methods), "resample_count": int(resamples), "resample_seed": int(seed),
            "resample_params": dict(params or {}), "resample_where": where, "resample_seconds": round(seconds, 1),
            "resample_cpu_seconds_per_resample": None if cpu_per_resample is None else round(cpu_per_resample, 3),
            "resample_methods_not_run": dict(problems)}


def applies_to(run: dict, data_fingerprint: str | None) -> bool:
    """Whether the data part of a robustness result (its ``run.json``) was computed on the data whose
    :func:`analysis.intake.io.fingerprint` is ``data_fingerprint``.

    Examples
    --------
    >>> applies_to({"resample_data_hash": "ab"}, "ab"), applies_to({"resample_data_hash": "ab"}, "cd"), applies_to({}, "")
    (True, False, False)
    """
    recorded = str(run.get("resample_data_hash") or "")
    return bool(recorded) and bool(data_fingerprint) and recorded == data_fingerprint


# --------------------------------------------------------------------------------------------- scorecard
def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _untested_words(r, of: str) -> str:
    """What happened to a claim that no resample could test (``r``: a row of :func:`data_probability`): "holds
    by construction in 100 % of 5 bootstrap resamples", "not testable in any of 5 bootstrap resamples (reason)",
    or both shares when the resamples differ. ``testable`` counts neither verdict, as
    :func:`analysis.scorecard.robustness.operating_characteristics` does for the false-positive rate."""
    n = int(r.resamples)
    built = getattr(r, "p_holds_by_construction", np.nan)
    built = 0.0 if built is None or pd.isna(built) else float(built)
    reason = str(r.not_testable_reason) if isinstance(r.not_testable_reason, str) and r.not_testable_reason else ""
    if built >= 1.0:
        return f"holds by construction in 100 % of {n} {of}"
    if built > 0:
        return (f"holds by construction in {_pct(built)} and not testable in {_pct(1 - built)} of {n} {of}"
                + (f" ({reason})" if reason else ""))
    return f"not testable in any of {n} {of}" + (f" ({reason})" if reason else "")


def scorecard_table(claims: pd.DataFrame, robustness_dir) -> pd.DataFrame:
    """Per claim of the book: how stable its verdict is over the bootstrap, and how often a permutation that
    removes its effect still reproduces it, in words.

    Parameters
    ----------
    claims : DataFrame
        The book's claims (``chapter``, ``claim_id``, ``claim``, ``verdict``).
    robustness_dir : path
        A robustness folder with ``data_probability.csv`` (:func:`read_outputs`); call only when its data part
        :func:`applies_to` the claims' data.

    Returns
    -------
    pandas.DataFrame
        The claims' columns, then ``bootstrap`` ("stable in 93 % of 100 bootstrap resamples", or why not) and
        ``effect permuted away`` ("reproduced in 4 % of 100 resamples with the arm labels permuted"; one phrase per
        permutation that concerns the claim; "no permutation concerns this claim" when none does), and
        ``p_stable``, ``p_permuted_max`` (numbers; NaN when not run or not testable).

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> p = pd.DataFrame({"claim_id": ["ifng.predicts_response"] * 2, "method": ["bootstrap", "permute_ifng"],
    ...                   "resamples": 10, "p_reproduced": [0.9, 0.1], "p_same_verdict": [0.9, 0.1],
    ...                   "testable": 1.0, "not_testable_reason": ""})
    >>> _ = write_outputs(d, probability=p, verdicts=p, info={})
    >>> c = pd.DataFrame({"chapter": ["ifng"], "claim_id": ["ifng.predicts_response"], "verdict": ["reproduced"]})
    >>> scorecard_table(c, d)[["bootstrap", "effect permuted away"]].values.tolist()
    [['stable in 90 % of 10 bootstrap resamples', 'reproduced in 10 % of 10 resamples with IFN-γ permuted among MSCT patients']]
    """
    found = read_outputs(robustness_dir)
    prob = found["probability"]
    base = [c for c in ("chapter", "claim_id", "claim", "verdict") if c in claims.columns]
    out = claims[base].copy().reset_index(drop=True)
    if prob is None:
        prob = pd.DataFrame(columns=["claim_id", "method", "resamples", "p_reproduced", "p_same_verdict",
                                     "testable", "not_testable_reason"])
    by = {(r.claim_id, r.method): r for r in prob.itertuples(index=False)}
    ran = set(prob["method"])
    from analysis.core.chapters import CHAPTERS

    about_text = {c.name for c in CHAPTERS if not c.uses_data}
    chapter_of = dict(zip(out["claim_id"], out["chapter"])) if "chapter" in out.columns else {}
    boot, perm, stable, worst = [], [], [], []
    for cid in out["claim_id"]:
        r = by.get((cid, "bootstrap"))
        if chapter_of.get(cid, cid.split(".")[0]) in about_text:  # the audit of the paper's own numbers
            boot.append("about the paper's text: resampling the data does not apply")
            perm.append("about the paper's text: resampling the data does not apply")
            stable.append(np.nan)
            worst.append(np.nan)
            continue
        if "bootstrap" not in ran:
            boot.append("bootstrap not run")
            stable.append(np.nan)
        elif r is None:
            boot.append("")
            stable.append(np.nan)
        elif not r.resamples:
            boot.append(f"not resampled: {r.not_testable_reason}")
            stable.append(np.nan)
        elif not r.testable > 0:
            boot.append(_untested_words(r, "bootstrap resamples"))
            stable.append(float(r.p_same_verdict))
        else:
            boot.append(f"stable in {_pct(r.p_same_verdict)} of {int(r.resamples)} bootstrap resamples")
            stable.append(float(r.p_same_verdict))
        parts, highs = [], []
        concerned = [m for m in METHOD_MODELS if cid in set(claims_concerned(m))]
        for m in concerned:
            r = by.get((cid, m))
            if m not in ran or r is None:  # describe_result names the methods that ran
                continue
            elif not r.resamples:
                reason = str(r.not_testable_reason) if isinstance(r.not_testable_reason, str) else ""
                parts.append(f"not testable with {PERMUTED_AWAY[m]}" + (f" ({reason})" if reason else ""))
            elif not r.testable > 0:
                parts.append(_untested_words(r, f"resamples with {PERMUTED_AWAY[m]}"))
            else:
                parts.append(f"reproduced in {_pct(r.p_reproduced)} of {int(r.resamples)} resamples with "
                             f"{PERMUTED_AWAY[m]}")
                highs.append(float(r.p_reproduced))
        perm.append("; ".join(parts) if parts else "no permutation concerns this claim" if not concerned
                    else "no permutation that concerns this claim was run")
        worst.append(max(highs) if highs else np.nan)
    out["bootstrap"], out["effect permuted away"] = boot, perm
    out["p_stable"], out["p_permuted_max"] = stable, worst
    return out


def describe_result(robustness_dir, *, data_fingerprint: str, data_name: str) -> str:
    """The scorecard's words on the data part of a robustness result (Markdown): whether there is one, on which
    data, and how to read the table that follows (shown only when the data are this build's).

    Examples
    --------
    >>> import tempfile
    >>> describe_result(tempfile.mkdtemp(), data_fingerprint="ab", data_name="mine").split(",")[0]
    'No resampling of the data is part of this build'
    """
    found = read_outputs(robustness_dir)
    run, prob = found["run"], found["probability"]
    make = ("`python -m analysis build --data DIR --resamples 100` (or `python -m analysis robustness --data DIR "
            "--resample all --resamples 100 --out OUT`, then `python -m analysis build --data DIR --robustness OUT`)")
    if prob is None:
        return ("No resampling of the data is part of this build, so this page cannot say how stable each verdict "
                f"is on these data. {make} adds it: every claim judged on bootstrap resamples of the data and on "
                "the data with each effect permuted away.")
    recorded = str(run.get("resample_data") or "a data folder it does not record")
    digest = str(run.get("resample_data_hash") or "")
    if not applies_to(run, data_fingerprint):
        return (f"The robustness result of this build holds resamples of other data (`{recorded}`"
                + (f", data hash {digest[:12]}" if digest else ", data hash not recorded")
                + f"), not of this build's data (`{data_name}`): they say nothing about the verdicts here and are "
                f"not shown. {make} makes them for these data.")
    n = run.get("resample_count", int(prob["resamples"].max()) if len(prob) else 0)
    not_run = dict(run.get("resample_methods_not_run") or {})
    ran = methods_run(robustness_dir)
    if not ran:
        return (f"The resampling in this build's robustness result is of this build's own data (`{data_name}`, data "
                f"hash {data_fingerprint[:12]}), but no method could run on them, so no claim has a figure: "
                + "; ".join(f"{m}: {why}" for m, why in not_run.items()) + ".")
    text = (f"The figures below come from resampling this build's own data (`{data_name}`, data hash "
            f"{data_fingerprint[:12]}): {n} resamples by each of {len(ran)} method{'' if len(ran) == 1 else 's'} "
            f"({', '.join(ran) or 'none'}; seed {run.get('resample_seed', '?')}; `{run.get('resample_command', '?')}`, "
            f"{str(run.get('resample_date', ''))[:10] or 'an unrecorded date'}). Each resample is judged with the "
            "chapters' own code, as these data were.")
    lines = [text]
    if "bootstrap" in ran:
        lines.append("*Stable* is the share of **bootstrap** resamples (" + METHODS["bootstrap"] + ") that give the "
                     "verdict these data give: a verdict stable in fewer than 80 % of them could well come out "
                     "otherwise with another sample of such patients.")
    perms = [m for m in ran if m != "bootstrap"]
    if perms:
        lines.append("*Reproduced with the effect permuted away* is the share of resamples in which a claim is still "
                     "reproduced after a permutation of the data (" + "; ".join(
                         f"{m}: {METHODS[m]}" for m in perms) + "). Each claim is read only under the permutations "
                     "that stand for the null models its registry row names. A permutation removes only what it "
                     "moves: permuting the arm labels removes the differences between the arms, not a change over "
                     "time that patients of both arms share. A claim reproduced often with its effect permuted away "
                     "is one these data cannot tell from chance.")
    for m, why in not_run.items():
        lines.append(f"{m} could not run on these data: {why}; the claims it concerns say so.")
    return "\n\n".join(lines)


def methods_run(robustness_dir) -> list[str]:
    """The methods a resampling result ran (those its ``run.json`` records, less those that could not run).

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> p = pd.DataFrame({"claim_id": ["a"], "method": ["bootstrap"], "resamples": [0]})
    >>> _ = write_outputs(d, probability=p, verdicts=p, info={"resample_methods": ["bootstrap", "permute_ifng"],
    ...                                                        "resample_methods_not_run": {"permute_ifng": "no IFN-γ"}})
    >>> methods_run(d)
    ['bootstrap']
    """
    found = read_outputs(robustness_dir)
    run, prob = found["run"], found["probability"]
    if prob is None:
        return []
    methods = list(run.get("resample_methods") or pd.unique(prob["method"]))
    not_run = dict(run.get("resample_methods_not_run") or {})
    return [m for m in methods if m not in not_run]
