"""Analysis-ready tables every chapter shares: DAS28, EULAR groups, changes, Treg/Th17 ratio.

One call, :func:`derive`, turns a loaded cohort into two tidy tables (one row per patient,
one row per visit) plus the options used. Everything is vectorised pandas, so a cohort of
100,000 patients takes seconds.
"""
from __future__ import annotations

import inspect
import numbers
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.intake import dictionary
from analysis.science import scores
from analysis.core.design import Design, design_from_meta

__all__ = ["Derived", "derive", "derive_cached", "apply_limits", "design_with_overrides", "write_derived",
           "LLOQ_RULES", "DAS28_VARIANTS"]

#: How values below the lower limit of quantification are replaced.
LLOQ_RULES: tuple[str, ...] = ("half", "lloq", "exclude")
#: Which DAS28 the `das28` column holds.
DAS28_VARIANTS: tuple[str, ...] = ("esr", "crp")

_BELOW = "<LLOQ"
_ABOVE = ">ULOQ"
_PATIENT_BASE = ["patient_id", "arm", "age", "sex", "weight_kg", "disease_duration_years"]


@dataclass(frozen=True)
class Derived:
    """The derived tables.

    Attributes
    ----------
    patients : pandas.DataFrame
        One row per patient: the patient columns, then ``group`` ("Responder", "Non-responder",
        "Unclassified" within MSCT; "Control" for the control arm), ``eular`` (good/moderate/none,
        also for controls), ``das28_baseline``, ``das28_response_week``, ``last_week``,
        ``lost_to_follow_up``.
    visits : pandas.DataFrame
        One row per visit: all visit columns (censored values substituted), ``group``, ``arm``,
        ``das28``, ``das28_change``, ``treg_th17_ratio``, ``ratio_undefined``.
    params : dict
        The options used.
    design : Design
        The trial's schedule (visit weeks, response and final week, the paper's landmarks); every
        chapter takes its weeks from here.
    """

    patients: pd.DataFrame
    visits: pd.DataFrame
    params: dict = field(default_factory=dict)
    design: Design = field(default_factory=Design)


def _limit_columns() -> list[dictionary.Column]:
    return [c for c in dictionary.columns("visits") if c.lloq is not None or c.uloq is not None]


def apply_limits(visits: pd.DataFrame, *, lloq_rule: str = "half") -> pd.DataFrame:
    """Replace censored assay results by numbers.

    Parameters
    ----------
    visits : pandas.DataFrame
        Visit table. For every column with an ``lloq`` or ``uloq`` in the data dictionary, the
        companion column ``f"{col}_flag"`` holds ``"<LLOQ"`` or ``">ULOQ"`` where the value is
        censored (the value cell itself is empty). If the value column still holds the tokens as
        text (a table read straight from CSV), the flag is taken from the tokens.
    lloq_rule : {"half", "lloq", "exclude"}
        ``"half"``: below-limit values become LLOQ/2; ``"lloq"``: LLOQ; ``"exclude"``: NaN.
        Above-limit values always become the ULOQ (the cap), whatever the rule.

    Returns
    -------
    pandas.DataFrame
        A copy with float limit columns. The ``*_flag`` columns are kept (and created from the
        tokens when the values held them), so chapters can still count censored results.

    Notes
    -----
    A ``">ULOQ"`` flag on a column without an ULOQ in the dictionary (or ``"<LLOQ"`` without an
    LLOQ) cannot be substituted and leaves the value missing.

    Examples
    --------
    >>> v = pd.DataFrame({"il_6": [np.nan, 3.0], "il_6_flag": ["<LLOQ", None]})
    >>> apply_limits(v)["il_6"].tolist()
    [0.25, 3.0]
    >>> apply_limits(v, lloq_rule="exclude")["il_6"].tolist()
    [nan, 3.0]
    """
    if lloq_rule not in LLOQ_RULES:
        raise ValueError(f"`lloq_rule` must be one of {list(LLOQ_RULES)}, got {lloq_rule!r}")
    out = visits.copy()
    for col in _limit_columns():
        if col.name not in out.columns:
            continue
        values = out[col.name]
        flag_name = f"{col.name}_flag"
        flag = out[flag_name] if flag_name in out.columns else pd.Series(None, index=out.index, dtype=object)
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            # Tokens still in the value column (raw CSV): move them to the flag.
            is_token = values.isin([_BELOW, _ABOVE]).to_numpy(dtype=bool)
            if is_token.any():
                flag = flag.astype(object).mask(is_token & flag.isna().to_numpy(), values)
                out[flag_name] = flag
            values = pd.to_numeric(values.mask(is_token), errors="coerce")
        values = values.astype(float)
        below = flag.eq(_BELOW).to_numpy(dtype=bool, na_value=False) if col.lloq is not None else None
        above = flag.eq(_ABOVE).to_numpy(dtype=bool, na_value=False) if col.uloq is not None else None
        if (below is not None and below.any()) or (above is not None and above.any()):
            # the substitutions on the array (what Series.mask gives, without a Series per step)
            substituted = values.to_numpy(dtype=float, copy=True)
            if below is not None:
                substituted[below] = {"half": col.lloq / 2.0, "lloq": col.lloq, "exclude": np.nan}[lloq_rule]
            if above is not None:
                substituted[above] = float(col.uloq)
            values = pd.Series(substituted, index=values.index, name=values.name)
        out[col.name] = values
    return out


def derive(
    cohort: Any,
    *,
    das28_variant: str = "esr",
    lloq_rule: str = "half",
    response_week: int | None = None,
    final_week: int | None = None,
    design: Design | None = None,
    early_window_weeks: int | None = None,
    relapse_week: int | None = None,
) -> Derived:
    """Build the analysis-ready patient and visit tables.

    Parameters
    ----------
    cohort : Cohort
        Anything with ``patients`` and ``visits`` DataFrames (``analysis.intake.io.Cohort``).
    das28_variant : {"esr", "crp"}
        DAS28-ESR (Prevoo 1995) or DAS28-CRP (DAS28 website) in the ``das28`` column.
    lloq_rule : {"half", "lloq", "exclude"}
        Substitution for values below the LLOQ, see `apply_limits`.
    response_week : int, optional
        Visit at which the EULAR response is judged against week 0; default: the design's (the paper: 12).
    final_week : int, optional
        Last scheduled visit; a patient without a visit row at this week is lost to follow-up;
        default: the design's (the paper: 48).
    design : Design, optional
        The trial's schedule; default: the cohort's (``cohort.design``, from its ``dataset.yaml``), else
        the paper's. ``response_week``, ``final_week``, ``early_window_weeks`` and ``relapse_week`` given
        here override it for this call (a notebook's ``-p response_week=24``), checked by
        :meth:`Design.with_overrides`; ``None`` keeps the design's.
    early_window_weeks, relapse_week : int, optional
        Overrides of the design's early window (the paper: 4) and relapse visit (the paper: 24).

    Returns
    -------
    Derived
        ``patients``, ``visits`` and ``params`` (see `Derived`).

    Notes
    -----
    * ``group``: MSCT patients are "Responder" (EULAR good/moderate at ``response_week``) or
      "Non-responder" (EULAR none); MSCT patients without a DAS28 at week 0 or at
      ``response_week`` are "Unclassified"; control-arm patients are "Control" (their
      ``eular`` is computed all the same).
    * ``das28_change`` is the visit's DAS28 minus the same patient's week-0 DAS28.
    * ``treg_th17_ratio`` = ``treg_pct / th17_pct``. When ``th17_pct`` is 0 the ratio is
      undefined: it is set to NaN and ``ratio_undefined`` is True. A missing Treg or Th17
      value gives NaN with ``ratio_undefined`` False.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> p = pd.DataFrame({"patient_id": ["a", "b"], "arm": ["MSCT", "control"], "age": [50, 60],
    ...                   "sex": ["F", "M"], "weight_kg": [60.0, 70.0], "disease_duration_years": [5.0, 3.0]})
    >>> v = pd.DataFrame({"patient_id": ["a", "a", "b", "b"], "week": [0, 12, 0, 12],
    ...                   "tjc28": [9, 1, 9, 9], "sjc28": [4, 0, 4, 4], "esr_mm_h": [40.0, 10, 40, 40],
    ...                   "patient_global_mm": [70.0, 20, 70, 70], "treg_pct": [4.0, 6, 4, 4],
    ...                   "th17_pct": [2.0, 1, 0, 2]})
    >>> d = derive(SimpleNamespace(patients=p, visits=v, adverse_events=None, meta={}))
    >>> d.patients[["patient_id", "group", "eular"]].values.tolist()
    [['a', 'Responder', 'good'], ['b', 'Control', 'none']]
    >>> d.visits["ratio_undefined"].tolist()
    [False, False, True, False]
    """
    if das28_variant not in DAS28_VARIANTS:
        raise ValueError(f"`das28_variant` must be one of {list(DAS28_VARIANTS)}, got {das28_variant!r}")
    overrides = {"response_week": response_week, "final_week": final_week,
                 "early_window_weeks": early_window_weeks, "relapse_week": relapse_week}
    for name, val in overrides.items():
        if val is not None and (isinstance(val, bool) or not isinstance(val, (int, np.integer))):
            raise TypeError(f"`{name}` must be an int (a visit week), got {val!r}")
    if design is None:
        design = getattr(cohort, "design", None) or design_from_meta(getattr(cohort, "meta", None))
    if not isinstance(design, Design):
        raise TypeError(f"`design` must be an analysis.core.design.Design, got {type(design).__name__}")
    design = design_with_overrides(design, {k: int(v) for k, v in overrides.items() if v is not None})
    response_week, final_week = design.response_week, design.final_week
    params = {
        "das28_variant": das28_variant,
        "lloq_rule": lloq_rule,
        "response_week": int(response_week),
        "final_week": int(final_week),
    }

    # Visits: absent measurement columns added empty (a section that needs them says so), censored values,
    # DAS28, ratio.
    visits = cohort.visits
    absent = [c.name for c in dictionary.columns("visits") if c.name not in visits.columns]
    if absent:
        visits = visits.assign(**{name: np.nan for name in absent})
    visits = apply_limits(visits, lloq_rule=lloq_rule)
    visits = visits.sort_values(["patient_id", "week"], kind="stable").reset_index(drop=True)
    visits["das28"] = _das28(visits, das28_variant)
    visits = _add_ratio(visits)

    # Per-patient DAS28 at week 0 and at the response week (first row if duplicated).
    # (the first rows' DAS28 by masks, without copying the table as drop_duplicates would)
    first = ~visits.duplicated(["patient_id", "week"], keep="first").to_numpy()
    base, resp = (_das28_at(visits, first, week) for week in (0, response_week))
    visits["das28_change"] = visits["das28"] - visits["patient_id"].map(base)

    # Patients: EULAR, group, follow-up.
    patients = cohort.patients.copy().reset_index(drop=True)
    ids = patients["patient_id"]
    patients["das28_baseline"] = ids.map(base).astype(float)
    patients["das28_response_week"] = ids.map(resp).astype(float)
    patients["eular"] = scores.eular_response(patients["das28_baseline"], patients["das28_response_week"])
    patients["group"] = _group(patients["arm"], patients["eular"])
    last = visits.groupby("patient_id", sort=False)["week"].max()
    patients["last_week"] = ids.map(last).astype("Int64")
    at_final = set(visits["patient_id"].to_numpy()[(visits["week"] == final_week).to_numpy(dtype=bool, na_value=False)])
    patients["lost_to_follow_up"] = ~ids.isin(at_final)

    front = [c for c in _PATIENT_BASE if c in patients.columns]
    derived_cols = ["group", "eular", "das28_baseline", "das28_response_week", "last_week", "lost_to_follow_up"]
    other = [c for c in patients.columns if c not in front and c not in derived_cols]
    patients = patients[front + other + derived_cols]

    # Group and arm on every visit.
    lookup = patients.set_index("patient_id")
    visits["group"] = visits["patient_id"].map(lookup["group"])
    if "arm" not in cohort.visits.columns:
        visits["arm"] = visits["patient_id"].map(lookup["arm"])
    return Derived(patients=patients, visits=visits, params=params, design=design)


_DERIVED: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def derive_cached(cohort, **options) -> Derived:
    """:func:`derive` of ``cohort`` with ``options``, computed once per cohort and option set in a process.

    The chapters' headless runs (``analysis.chapters.<chapter>.verdicts.evaluate``) derive the same cohort
    with the same options; in one process they share the result (the derived tables are never modified by
    the chapters' functions: treat them as read-only). The same derivation under different spellings
    (a default given or left out, a week as a NumPy integer) is computed once. Cohorts that cannot be weakly
    referenced are derived afresh every time; the cache entry goes with the cohort.

    Parameters
    ----------
    cohort : Cohort
        As for :func:`derive`.
    **options
        Keyword arguments of :func:`derive`.

    Returns
    -------
    Derived
        The shared result (the same object for the same cohort and options).

    Examples
    --------
    >>> from analysis.intake.io import load
    >>> from analysis.core.paths import default_data_dir
    >>> c = load(default_data_dir())
    >>> derive_cached(c, das28_variant="esr") is derive_cached(c, das28_variant="esr")
    True
    >>> derive_cached(c, response_week=None) is derive_cached(c), derive_cached(c, final_week=24) is derive_cached(c)
    (True, False)
    """
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


def design_with_overrides(design: Design, overrides: dict) -> Design:
    """``design`` with some weeks replaced (``-p response_week=24`` for one build), checked again.

    Keys derived from a replaced week are recomputed: a new response or final week drops the design's relapse
    visit and early window unless they are given too (they are then chosen again by
    :meth:`Design.from_mapping`, within the new weeks). :func:`derive` applies its week arguments this way,
    and the build checks ``-p`` weeks with it before any chapter runs.

    Parameters
    ----------
    design : Design
        The data's design (``cohort.design``).
    overrides : dict
        Keys of :data:`analysis.core.design.DESIGN_KEYS` to replace (``response_week``, ``final_week``,
        ``early_window_weeks``, ``relapse_week``); empty: ``design`` itself.

    Returns
    -------
    Design

    Raises
    ------
    analysis.core.design.DesignError
        When the new weeks break a rule of the design (e.g. a response week that is not a visit).

    Examples
    --------
    >>> d = design_with_overrides(Design(), {"response_week": 24})
    >>> d.response_week, d.relapse_week
    (24, 48)
    >>> design_with_overrides(Design(), {}) == Design()
    True
    """
    if not overrides:
        return design
    base = design.as_dict()
    if {"response_week", "final_week"} & set(overrides):
        if "relapse_week" not in overrides:
            base.pop("relapse_week")
        if "early_window_weeks" not in overrides and base["early_window_weeks"] > overrides.get(
                "response_week", base["response_week"]):
            base.pop("early_window_weeks")
    base.update(overrides)
    return Design.from_mapping(base, source=design.source + " with overrides")


def _das28(visits: pd.DataFrame, variant: str) -> pd.Series:
    """The chosen DAS28 for every visit row (NaN where a component is missing)."""
    lab = "esr_mm_h" if variant == "esr" else "crp_mg_l"
    needed = ["tjc28", "sjc28", lab, "patient_global_mm"]
    missing = [c for c in needed if c not in visits.columns]
    if missing:
        raise ValueError(f"`cohort.visits` lacks the DAS28-{variant.upper()} columns {missing}")
    fn = scores.das28_esr if variant == "esr" else scores.das28_crp
    return fn(visits["tjc28"], visits["sjc28"], visits[lab], visits["patient_global_mm"])


def _das28_at(visits: pd.DataFrame, first: np.ndarray, week: int) -> pd.Series:
    """``das28`` of the rows ``first`` at ``week``, indexed by ``patient_id``: what
    ``visits.loc[first & (visits["week"] == week)].set_index("patient_id")["das28"]`` gives."""
    at = first & (visits["week"] == week).to_numpy(dtype=bool, na_value=False)
    return pd.Series(visits["das28"].to_numpy()[at], index=pd.Index(visits["patient_id"].to_numpy()[at], name="patient_id"),
                     name="das28")


def _add_ratio(visits: pd.DataFrame) -> pd.DataFrame:
    """Treg/Th17 ratio with the th17 == 0 rule (NaN and ``ratio_undefined``)."""
    if "treg_pct" not in visits.columns or "th17_pct" not in visits.columns:
        visits["treg_th17_ratio"] = np.nan
        visits["ratio_undefined"] = False
        return visits
    treg, th17 = (pd.to_numeric(visits[c], errors="coerce").astype(float).to_numpy() for c in ("treg_pct", "th17_pct"))
    zero = th17 == 0
    with np.errstate(all="ignore"):  # (as the Series division does)
        visits["treg_th17_ratio"] = treg / np.where(zero, np.nan, th17)
    visits["ratio_undefined"] = zero & ~np.isnan(treg)
    return visits


def _group(arm: pd.Series, eular: pd.Series) -> pd.Series:
    msct = arm.eq("MSCT").to_numpy(dtype=bool)
    resp = scores.is_responder(eular).to_numpy(dtype=bool)
    known = eular.notna().to_numpy(dtype=bool)
    out = np.where(
        ~msct, "Control", np.where(~known, "Unclassified", np.where(resp, "Responder", "Non-responder"))
    )
    return pd.Series(out, index=arm.index, dtype=object)


def write_derived(derived: Derived, out_dir) -> list[Path]:
    """Write ``patients.csv`` and ``visits.csv`` (UTF-8, ``\\n`` line endings) into ``out_dir``.

    Parameters
    ----------
    derived : Derived
        Result of `derive`.
    out_dir : str or Path
        Folder to write into (created if needed).

    Returns
    -------
    list of Path
        The files written.

    Examples
    --------
    >>> import tempfile
    >>> d = Derived(pd.DataFrame({"a": [1]}), pd.DataFrame({"b": [2]}), {})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [p.name for p in write_derived(d, Path(tmp) / "x")]
    ['patients.csv', 'visits.csv']
    """
    if not isinstance(derived, Derived):
        raise TypeError(f"`derived` must be a Derived, got {type(derived).__name__}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in (("patients", derived.patients), ("visits", derived.visits)):
        path = out / f"{name}.csv"
        table.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        paths.append(path)
    return paths
