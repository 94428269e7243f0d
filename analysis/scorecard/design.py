"""The paper's effects at your design: planning a replication.

Could a trial of *this* schedule, these measures and this size detect what the paper reports? This module reads a
data folder's design through the normal intake (:func:`read_trial_design`: visit weeks, response and final weeks,
the arms' sizes and ratio, the columns measured), simulates cohorts of that design under the calibrated model
(the paper's effects) and the models under which claims must fail (:data:`analysis.core.chapters.MODELS`), at
one or several numbers of patients (:func:`run_design`), and judges every claim on each with the chapters' own
code (:func:`analysis.scorecard.evaluate.evaluate_all`). Per size, :func:`design_characteristics` gives each
claim's operating characteristics as :func:`analysis.scorecard.robustness.operating_characteristics` defines them
(sensitivity, false-positive rate, class).

What the book's page *Planning a replication* (``book/planning.ipynb``) shows: :func:`class_shares` and
:func:`size_figure` (the share of claims in each class against the number of patients) and :func:`size_reaching`
(the smallest size tried at which each of :data:`HEADLINE_CLAIMS` reaches 80 % sensitivity with a false-positive
rate under 10 %). :func:`write_design_outputs` / :func:`read_design_outputs` keep a run in
``OUT/results/robustness/`` (``design_characteristics.csv``, ``design_probability.csv``,
``design_verdicts.csv.gz``, ``design.json``), where ``python -m analysis build --robustness OUT`` finds it.

The cohorts are simulated by this project: the probabilities describe a design and the analysis under the paper's
effects as calibrated, not the data of the folder the design was read from.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from analysis.core import paths
from analysis.core.design import Design

__all__ = ["COMMAND", "DESIGN_FILES", "HEADLINE_CLAIMS", "TrialDesign", "class_shares", "describe_design_result",
           "design_characteristics", "evaluate_design_batch", "headline_table", "parse_sizes", "read_design_outputs",
           "read_trial_design", "reads_words", "run_design", "size_figure", "size_reaching", "write_design_outputs",
           "KIND_GROUPS", "kind_shares"]

#: The paper's headline claims for the planning table (claim id -> the finding it belongs to), picked from
#: ``data/published/claims/*.csv``: the IFN-γ prediction (the paper's proposal of IFN-γ as a biomarker of response,
#: and the observations and second looks it rests on), the responders' cytokine changes (IL-6 and TNF-α down,
#: IL-10 up at week 4) and the safety counts (no serious adverse event, GVHD or infection). Counts the simulator is
#: given (e.g. the three fevers) are not among them: their verdict on simulated cohorts says nothing.
HEADLINE_CLAIMS: dict[str, str] = {
    "ifng.predicts_response": "IFN-γ predicts response",
    "ifng.second_look_baseline_predicts": "IFN-γ predicts response",
    "ifng.second_look_cv_auc": "IFN-γ predicts response",
    "ifng.high_in_responders": "IFN-γ predicts response",
    "ifng.peak_higher_responders": "IFN-γ predicts response",
    "inflammation.il6_decrease_responders": "responders' cytokine changes",
    "inflammation.tnfa_decrease_responders": "responders' cytokine changes",
    "inflammation.il10_increase_week4": "responders' cytokine changes",
    "safety.no_serious_ae": "safety counts",
    "safety.no_gvhd": "safety counts",
    "safety.no_serious_infections": "safety counts",
    "safety.no_infectious_complications": "safety counts",
}

#: the claim classes of the size figure: the registry's ``kind`` of a claim, in words (a kind not listed is "other")
KIND_GROUPS: dict[str, str] = {
    "count": "counts",
    "proportion": "counts",
    "direction": "changes and differences",
    "significant": "changes and differences",
    "not_significant": "no change (equivalence)",
    "qualitative": "qualitative statements",
}

#: what a design run writes into ``results/robustness/``
DESIGN_FILES: dict[str, str] = {"characteristics": "design_characteristics.csv",
                                "probability": "design_probability.csv",
                                "verdicts": "design_verdicts.csv.gz", "info": "design.json"}
#: the smallest cohort the simulator makes
MIN_PATIENTS = 20
#: the command that makes a design result, and the build that shows it
COMMAND = ("python -m analysis robustness --design-from DIR --patients 40,80,160 --cohorts 50 --out OUT", 
           "python -m analysis build --robustness OUT")


# --------------------------------------------------------------------------------------------- the design
@dataclass(frozen=True)
class TrialDesign:
    """A trial's design as read from its data folder: what the simulated cohorts copy.

    Attributes
    ----------
    folder : str
        The data folder it was read from.
    fingerprint : str
        :func:`analysis.intake.io.fingerprint` of that folder's data files.
    design : Design
        Visit weeks, response and final weeks (``dataset.yaml``'s ``design:`` block, else the paper's).
    n_patients, n_msct, n_control : int
        Randomised patients in all and per arm.
    measured : dict of str to tuple of str
        Per table, the columns that hold values (:func:`analysis.intake.io.measured`).
    left_out : dict of str to tuple of str
        Per table, the optional columns the trial did not measure: the simulated cohorts leave them empty.
    """

    folder: str
    fingerprint: str
    design: Design
    n_patients: int
    n_msct: int
    n_control: int
    measured: dict
    left_out: dict

    @property
    def msct_fraction(self) -> float:
        """Share of the patients in the MSCT arm."""
        return self.n_msct / self.n_patients

    def arms_at(self, n_patients: int) -> tuple[int, int]:
        """(MSCT, control) patients of a simulated cohort of ``n_patients`` at this design's ratio.

        Examples
        --------
        >>> t = TrialDesign("x", "", Design(), 80, 40, 40, {}, {})
        >>> t.arms_at(105)
        (52, 53)
        """
        msct = min(max(int(round(n_patients * self.msct_fraction)), 1), int(n_patients) - 1)
        return msct, int(n_patients) - msct

    def as_dict(self) -> dict:
        """Plain values (``design.json``; the argument of :func:`evaluate_design_batch`)."""
        out = asdict(self)
        out["design"] = self.design.as_dict()
        out["measured"] = {k: list(v) for k, v in self.measured.items()}
        out["left_out"] = {k: list(v) for k, v in self.left_out.items()}
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "TrialDesign":
        """The inverse of :meth:`as_dict`.

        Examples
        --------
        >>> t = TrialDesign("x", "", Design(), 80, 40, 40, {"visits": ("tjc28",)}, {"visits": ("il_6",)})
        >>> TrialDesign.from_dict(t.as_dict()) == t
        True
        """
        return cls(folder=d["folder"], fingerprint=d["fingerprint"],
                   design=Design.from_mapping(d["design"], source=f"{d['folder']}/dataset.yaml"),
                   n_patients=int(d["n_patients"]), n_msct=int(d["n_msct"]), n_control=int(d["n_control"]),
                   measured={k: tuple(v) for k, v in d["measured"].items()},
                   left_out={k: tuple(v) for k, v in d["left_out"].items()})

    def restrict(self, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """Simulated ``tables`` without the columns this trial did not measure.

        Examples
        --------
        >>> t = TrialDesign("x", "", Design(), 80, 40, 40, {}, {"visits": ("il_6",)})
        >>> list(t.restrict({"visits": pd.DataFrame({"week": [0], "il_6": [1.0]})})["visits"].columns)
        ['week']
        """
        return {name: df.drop(columns=[c for c in self.left_out.get(name, ()) if c in df.columns])
                for name, df in tables.items()}

    def cohort_meta(self, *, seed: int, n_patients: int, model: str) -> dict:
        """What a simulated cohort's ``dataset.yaml`` would hold (its design is this trial's)."""
        meta = {"synthetic": True, "generator": "analysis.scorecard.design", "seed": int(seed),
                "n_patients": int(n_patients), "model": model, "design_from": self.folder,
                "omitted": [c for cols in self.left_out.values() for c in cols]}
        if not self.design.is_paper:
            meta["design"] = self.design.as_dict()
        return meta


def read_trial_design(data_dir) -> TrialDesign:
    """Read a data folder's design through the normal intake (:func:`analysis.intake.io.load`).

    Parameters
    ----------
    data_dir : path
        A data folder, valid for ``python -m analysis validate``.

    Returns
    -------
    TrialDesign

    Raises
    ------
    analysis.core.errors.DataError
        When the folder does not validate (the same report as ``validate``).
    ValueError
        When the folder has fewer than two patients in either arm (no ratio to copy).

    Examples
    --------
    >>> from analysis.core import paths
    >>> t = read_trial_design(paths.repo_root() / "data" / "examples" / "other_trial")
    >>> t.design.visit_weeks, t.n_msct, t.n_control, "treg_pct" in t.left_out["visits"]
    ((0, 2, 4, 8, 12, 24), 40, 40, True)
    """
    from analysis.intake import dictionary
    from analysis.intake.io import load, measured

    cohort = load(data_dir)
    arms = cohort.patients["arm"].astype(str)
    n_msct, n_control = int((arms == "MSCT").sum()), int((arms == "control").sum())
    if n_msct < 1 or n_control < 1:
        raise ValueError(f"{data_dir}: the patients table has {n_msct} MSCT and {n_control} control patient(s); a "
                         "design to simulate needs both arms (their ratio is copied)")
    have, left = {}, {}
    for table in dictionary.TABLES:
        have[table] = measured(cohort, table)
        # optional columns, and the members of a "one of" group (ESR or CRP) the folder did not measure: it
        # validated, so at least one member of each group is measured and stays
        optional = list(dictionary.optional_columns(table))
        optional += [c for group in dictionary.required_one_of(table) for c in group if c not in optional]
        left[table] = tuple(c for c in optional if c not in have[table])
    return TrialDesign(folder=str(data_dir), fingerprint=cohort.fingerprint, design=cohort.design,
                       n_patients=n_msct + n_control, n_msct=n_msct, n_control=n_control, measured=have,
                       left_out=left)


def parse_sizes(text) -> list[int]:
    """``--patients``: one number or a comma-separated list of numbers of patients (ascending, no repeats).

    Raises ``ValueError`` with a message for the command line.

    Examples
    --------
    >>> parse_sizes("160, 40,80"), parse_sizes(105)
    ([40, 80, 160], [105])
    >>> parse_sizes("40,x")
    Traceback (most recent call last):
    ...
    ValueError: --patients '40,x': write whole numbers of patients separated by commas, e.g. 60,105,210
    """
    if isinstance(text, int) and not isinstance(text, bool):
        items = [text]
    else:
        try:
            items = [int(p) for p in str(text).replace(" ", "").split(",") if p]
        except ValueError:
            raise ValueError(f"--patients {text!r}: write whole numbers of patients separated by commas, "
                             "e.g. 60,105,210") from None
    if not items:
        raise ValueError(f"--patients {text!r}: give at least one number of patients, e.g. 105 or 60,105,210")
    small = [n for n in items if n < MIN_PATIENTS]
    if small:
        raise ValueError(f"--patients {text!r}: each size must be at least {MIN_PATIENTS} patients (the simulator's "
                         f"smallest cohort), got {', '.join(map(str, small))}")
    return sorted(set(items))


# --------------------------------------------------------------------------------------------- the run
def evaluate_design_batch(model: str, seeds: Iterable[tuple[int, int]], n_patients: int, trial: dict,
                          params: dict | None = None, all_chapters: bool = False) -> pd.DataFrame:
    """Judge the claims on simulated cohorts of ``trial``'s design (:meth:`TrialDesign.as_dict`) under ``model``.

    As :func:`analysis.scorecard.robustness.evaluate_batch` (the same chapters per model), with the trial's
    schedule, arm ratio and measures. One Dask task.

    Returns
    -------
    pandas.DataFrame
        ``patients``, ``model``, ``cohort``, ``seed``, ``chapter``, ``claim_id``, ``verdict``, ``seconds``.

    Examples
    --------
    >>> t = TrialDesign("x", "", Design.from_mapping({"visit_weeks": [0, 4, 12, 24]}), 40, 20, 20, {}, {})
    >>> v = evaluate_design_batch("calibrated", [(0, 5)], 30, t.as_dict(), {"n_boot": 50}, all_chapters=False)
    >>> v[["patients", "model", "cohort"]].drop_duplicates().values.tolist()
    [[30, 'calibrated', 0]]
    """
    from analysis.science.simulate import simulate
    from analysis.scorecard.evaluate import cohort_from_tables, evaluate_all
    from analysis.scorecard.robustness import model_chapters

    spec = TrialDesign.from_dict(trial)
    msct, _ = spec.arms_at(n_patients)
    frames = []
    for index, seed in seeds:
        t0 = time.process_time()
        tables = simulate(seed=int(seed), n_patients=int(n_patients), model=model, design=spec.design,
                          msct_fraction=msct / int(n_patients))
        cohort = cohort_from_tables(spec.restrict(tables),
                                    spec.cohort_meta(seed=int(seed), n_patients=n_patients, model=model))
        claims = evaluate_all(cohort, params, chapters=None if all_chapters else model_chapters(model))
        frames.append(claims[["chapter", "claim_id", "verdict"]].assign(
            patients=int(n_patients), model=model, cohort=int(index), seed=int(seed),
            seconds=time.process_time() - t0))
    out = pd.concat(frames, ignore_index=True)
    return out[["patients", "model", "cohort", "seed", "chapter", "claim_id", "verdict", "seconds"]]


def run_design(trial: TrialDesign, sizes: Iterable[int], *, cohorts: int = 50, models: Iterable[str] | None = None,
               seed: int = 2018, workers: int | None = None, scheduler: str | None = None, batch_size: int = 5,
               params: dict | None = None, progress=None, client=None, all_chapters: bool = False) -> pd.DataFrame:
    """Simulate ``cohorts`` cohorts of ``trial``'s design per size and model and judge every claim, on Dask.

    Parameters
    ----------
    trial : TrialDesign
        From :func:`read_trial_design`.
    sizes : iterable of int
        Numbers of patients (each at least 20); the arms keep the trial's ratio.
    cohorts : int
        Cohorts per size and model (K).
    models : iterable of str, optional
        Default: every model of :data:`analysis.scorecard.robustness.MODELS`.
    seed, workers, scheduler, batch_size, params, progress, client, all_chapters
        As :func:`analysis.scorecard.robustness.run` (cohort ``k`` has the same simulator seed at every size and
        under every model).

    Returns
    -------
    pandas.DataFrame
        :func:`evaluate_design_batch`'s columns, sorted by size, model, cohort and claim order.
    """
    from analysis.claims.registry import published as registry
    from analysis.scorecard.dask_run import run_tasks
    from analysis.scorecard.robustness import MODELS, cohort_seed

    models = list(MODELS) if models is None else list(models)
    bad = [m for m in models if m not in MODELS]
    if bad or not models:
        raise ValueError(f"`models` has {bad or 'none'}; allowed: {', '.join(MODELS)}")
    sizes = parse_sizes(",".join(str(int(n)) for n in sizes))
    for name, value in (("cohorts", cohorts), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` is {value!r}; a whole number >= 1 is required")
    spec = trial.as_dict()
    batches = [list(range(i, min(cohorts, i + batch_size))) for i in range(0, cohorts, batch_size)]
    tasks = [(evaluate_design_batch, model, [(k, cohort_seed(seed, k)) for k in batch], n, spec, params, all_chapters)
             for n in sizes for model in models for batch in batches]
    out = pd.concat(run_tasks(tasks, client=client, workers=workers, scheduler=scheduler, progress=progress),
                    ignore_index=True)
    order = {cid: i for i, cid in enumerate(registry()["claim_id"])}
    out = out.assign(_m=out["model"].map({m: i for i, m in enumerate(MODELS)}), _c=out["claim_id"].map(order))
    out = out.sort_values(["patients", "_m", "cohort", "_c"], kind="stable").drop(columns=["_m", "_c"])
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------- summaries
def design_characteristics(verdicts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per size: the claim probabilities and each claim's operating characteristics.

    Returns
    -------
    (probability, characteristics) : tuple of DataFrame
        :func:`analysis.scorecard.robustness.claim_probability` and
        :func:`analysis.scorecard.robustness.operating_characteristics` of each size's cohorts, with a first
        column ``patients``.

    Examples
    --------
    >>> v = pd.DataFrame({"patients": [40, 40, 80, 80], "model": ["calibrated", "harm"] * 2, "cohort": 0,
    ...                   "chapter": "safety", "claim_id": "safety.no_gvhd", "verdict": "reproduced"})
    >>> prob, oc = design_characteristics(v)
    >>> gvhd = oc.loc[oc["claim_id"] == "safety.no_gvhd"]
    >>> gvhd["patients"].tolist(), gvhd["sensitivity"].tolist(), gvhd["false_positive"].tolist()
    ([40, 80], [1.0, 1.0], [1.0, 1.0])
    """
    from analysis.scorecard.robustness import claim_probability, operating_characteristics

    if "patients" not in verdicts.columns:
        raise ValueError("`verdicts` lacks the column 'patients'; expected run_design's output")
    probs, chars = [], []
    for n, one in verdicts.groupby("patients", sort=True):
        prob = claim_probability(one.drop(columns="patients"))
        probs.append(prob.assign(patients=int(n)))
        chars.append(operating_characteristics(prob).assign(patients=int(n)))
    prob, oc = pd.concat(probs, ignore_index=True), pd.concat(chars, ignore_index=True)
    return (prob[["patients"] + [c for c in prob.columns if c != "patients"]],
            oc[["patients"] + [c for c in oc.columns if c != "patients"]])


def class_shares(characteristics: pd.DataFrame) -> pd.DataFrame:
    """The share of claims in each class, per number of patients.

    Returns
    -------
    pandas.DataFrame
        ``patients``, ``class``, ``claims`` (in that class), ``of`` (claims at that size), ``share``; every class of
        :data:`analysis.scorecard.robustness.CLASSES` at every size (0 when none).

    Examples
    --------
    >>> oc = pd.DataFrame({"patients": [40, 40, 80, 80], "claim_id": ["a", "b"] * 2,
    ...                    "class": ["underpowered", "discriminating", "discriminating", "discriminating"]})
    >>> s = class_shares(oc)
    >>> s.loc[s["class"] == "discriminating", ["patients", "claims", "share"]].to_dict("records")
    [{'patients': 40, 'claims': 1, 'share': 0.5}, {'patients': 80, 'claims': 2, 'share': 1.0}]
    """
    from analysis.scorecard.robustness import CLASSES

    rows = []
    for n, one in characteristics.groupby("patients", sort=True):
        counts = one["class"].value_counts()
        for cls in CLASSES:
            k = int(counts.get(cls, 0))
            rows.append({"patients": int(n), "class": cls, "claims": k, "of": int(len(one)),
                         "share": k / len(one) if len(one) else float("nan")})
    return pd.DataFrame(rows, columns=["patients", "class", "claims", "of", "share"])


def kind_shares(characteristics: pd.DataFrame, registry: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per claim class (:data:`KIND_GROUPS`, from the registry's ``kind``) and number of patients: the share of
    its claims that are discriminating, among those this design can assess.

    A claim that is "not assessable" or "fixed by the simulation" at a size is left out of that size's
    denominator: no number of patients makes it discriminating.

    Returns
    -------
    pandas.DataFrame
        ``patients``, ``claim_class``, ``discriminating``, ``assessable``, ``share`` (NaN when none is assessable).

    Examples
    --------
    >>> oc = pd.DataFrame({"patients": [40, 40, 40, 80, 80, 80], "claim_id": ["a", "b", "c"] * 2,
    ...                    "class": ["underpowered", "discriminating", "not assessable", "discriminating",
    ...                              "discriminating", "not assessable"]})
    >>> reg = pd.DataFrame({"claim_id": ["a", "b", "c"], "kind": ["direction", "significant", "count"]})
    >>> kind_shares(oc, reg)[["patients", "claim_class", "assessable", "share"]].values.tolist()
    [[40, 'changes and differences', 2, 0.5], [40, 'counts', 0, nan], [80, 'changes and differences', 2, 1.0], [80, 'counts', 0, nan]]
    """
    if registry is None:
        from analysis.claims.registry import published

        registry = published()
    kind = registry.drop_duplicates("claim_id").set_index("claim_id")["kind"]
    oc = characteristics.assign(claim_class=characteristics["claim_id"].map(kind).map(KIND_GROUPS).fillna("other"))
    oc = oc.assign(assessable=~oc["class"].isin(["not assessable", "fixed by the simulation"]),
                   discriminating=oc["class"].eq("discriminating"))
    out = (oc.groupby(["patients", "claim_class"], sort=True)[["discriminating", "assessable"]].sum().astype(int)
           .reset_index())
    out["share"] = np.where(out["assessable"] > 0, out["discriminating"] / out["assessable"].where(out["assessable"] > 0),
                            np.nan)
    return out[["patients", "claim_class", "discriminating", "assessable", "share"]]


#: fewer cohorts per size than this: the planning page warns that the shares are noisy
FEW_COHORTS = 20


def size_reaching(characteristics: pd.DataFrame, claims: dict[str, str] | Iterable[str] | None = None, *,
                  sensitivity: float = 0.80, false_positive: float = 0.10, cohorts: int | None = None) -> pd.DataFrame:
    """Per claim: the smallest number of patients tried at which it reaches ``sensitivity`` with a false-positive
    rate under ``false_positive``.

    A size counts when the claim's sensitivity is at least ``sensitivity`` and its false-positive rate (over the
    models where it must fail and is testable) is known and strictly below ``false_positive``.

    Parameters
    ----------
    characteristics : DataFrame
        :func:`design_characteristics`' second table (``patients``, ``claim_id``, ``sensitivity``,
        ``false_positive``, ``class``).
    claims : dict or iterable of str, optional
        The claims (default :data:`HEADLINE_CLAIMS`); a dict maps each to the finding it belongs to.
    cohorts : int, optional
        The cohorts per model and size the shares come from (``design.json``'s ``cohorts``). When given, the
        table gets ``cohorts`` and ``sensitivity 95 % CI`` (Wilson, at the largest size tried), and with fewer
        than :data:`FEW_COHORTS` every ``result`` says that the shares are noisy.

    Returns
    -------
    pandas.DataFrame
        ``finding``, ``claim_id``, ``patients_needed`` (``Int64``; missing when not reached), ``result`` (words:
        "reached at 80 patients" or "not reached at the sizes tried (40, 80)"), then ``sensitivity``,
        ``false_positive`` and ``class`` at the largest size tried (and ``cohorts``, ``sensitivity 95 % CI``).

    Examples
    --------
    >>> oc = pd.DataFrame({"patients": [40, 80, 40, 80], "claim_id": ["a", "a", "b", "b"],
    ...                    "sensitivity": [0.5, 0.9, 0.95, 0.99], "false_positive": [0.0, 0.05, 0.2, 0.3],
    ...                    "class": ["underpowered", "discriminating", "uninformative", "uninformative"]})
    >>> size_reaching(oc, ["a", "b"])[["claim_id", "patients_needed", "result"]].values.tolist()
    [['a', 80, 'reached at 80 patients'], ['b', <NA>, 'not reached at the sizes tried (40, 80)']]
    >>> t = size_reaching(oc, ["a"], cohorts=10)
    >>> t.loc[0, "result"]
    'reached at 80 patients (from only 10 cohorts per size: shares this noisy can be off by tens of points)'
    >>> t.loc[0, "sensitivity 95 % CI"]  # 9 of 10 cohorts
    '[0.60, 0.98]'
    """
    if claims is None:
        claims = HEADLINE_CLAIMS
    findings = dict(claims) if isinstance(claims, dict) else {c: "" for c in claims}
    sizes = sorted(int(n) for n in characteristics["patients"].unique())
    tried = ", ".join(map(str, sizes))
    rows = []
    for cid, finding in findings.items():
        one = characteristics.loc[characteristics["claim_id"] == cid].sort_values("patients")
        sens = pd.to_numeric(one["sensitivity"], errors="coerce")
        fp = pd.to_numeric(one["false_positive"], errors="coerce")
        ok = (sens >= sensitivity - 1e-12) & fp.notna() & (fp < false_positive - 1e-12)
        reached = one.loc[ok.to_numpy(), "patients"]
        needed = int(reached.iloc[0]) if len(reached) else None
        testable = pd.to_numeric(one["testable"], errors="coerce") if "testable" in one.columns else None
        if one.empty:
            text = "not in the result"
        elif needed is not None:
            text = f"reached at {needed} patients"
        elif testable is not None and not (testable > 0).any():
            text = ("not testable at this design (never testable in the calibrated cohorts: a measure or visit it "
                    "needs is missing)")
        elif not fp.notna().any():
            text = ("false-positive rate unknown: no model where it must fail was run, or none could test it in "
                    "90 % of its cohorts")
        else:
            text = f"not reached at the sizes tried ({tried})"
        last = one.iloc[-1] if len(one) else None
        rows.append({"finding": finding, "claim_id": cid, "patients_needed": needed, "result": text,
                     "sensitivity": float(last["sensitivity"]) if last is not None else np.nan,
                     "false_positive": float(last["false_positive"]) if last is not None else np.nan,
                     "class": str(last["class"]) if last is not None else ""})
    out = pd.DataFrame(rows, columns=["finding", "claim_id", "patients_needed", "result", "sensitivity",
                                      "false_positive", "class"])
    out["patients_needed"] = out["patients_needed"].astype("Int64")
    if cohorts is not None:
        from analysis.claims.rules import wilson_interval

        k = int(cohorts)
        hits = np.round(out["sensitivity"].fillna(0).to_numpy() * k)
        lo, hi = wilson_interval(hits, np.full(len(out), k), 0.95)
        out["cohorts"] = k
        out["sensitivity 95 % CI"] = [f"[{a:.2f}, {b:.2f}]" if pd.notna(v) else ""
                                      for a, b, v in zip(lo, hi, out["sensitivity"])]
        if k < FEW_COHORTS:
            out["result"] = out["result"] + (f" (from only {k} cohort{'s' if k != 1 else ''} per size: shares this "
                                             "noisy can be off by tens of points)")
    return out


def size_figure(characteristics: pd.DataFrame, *, ax=None, by_kind_ax=None, registry: pd.DataFrame | None = None):
    """The share of claims in each class (:func:`class_shares`) against the number of patients; returns the Figure.

    One line per class, discriminating drawn heaviest; the x axis is the number of patients (log scale, ticks at
    the sizes tried). With ``by_kind_ax``, that axis gets, per claim class (:func:`kind_shares`), the share of its
    assessable claims that are discriminating.

    Examples
    --------
    >>> oc = pd.DataFrame({"patients": [40, 80], "claim_id": "a", "class": ["underpowered", "discriminating"]})
    >>> fig = size_figure(oc)
    >>> len(fig.axes[0].lines)
    5
    """
    import matplotlib.pyplot as plt

    from analysis.scorecard.robustness import CLASSES

    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.5))
    else:
        fig = ax.figure
    shares = class_shares(characteristics)
    sizes = sorted(shares["patients"].unique())
    if by_kind_ax is not None:
        kinds = kind_shares(characteristics, registry)
        for (group, one), marker in zip(kinds.groupby("claim_class", sort=True), "os^Dvx"):
            one = one.sort_values("patients")
            n = int(one["assessable"].max())
            by_kind_ax.plot(one["patients"], 100 * one["share"], marker=marker, label=f"{group} ({n} claims)")
        if len(sizes) > 1:
            by_kind_ax.set_xscale("log")
        by_kind_ax.set_xticks(sizes)
        by_kind_ax.set_xticklabels([str(int(n)) for n in sizes])
        by_kind_ax.minorticks_off()
        by_kind_ax.set(ylim=(-3, 103), xlabel="patients per trial (both arms)",
                       ylabel="discriminating (% of the assessable claims)", title="per claim class")
        by_kind_ax.legend(loc="best", fontsize=7)
    markers = dict(zip(CLASSES, "os^Dv"))
    for cls in CLASSES:
        one = shares.loc[shares["class"] == cls].sort_values("patients")
        heavy = cls == "discriminating"
        ax.plot(one["patients"], 100 * one["share"], marker=markers[cls], linewidth=2.5 if heavy else 1.2,
                alpha=1.0 if heavy else 0.8, label=f"{cls}")
    if len(sizes) > 1:
        ax.set_xscale("log")
    ax.set_xticks(sizes)
    ax.set_xticklabels([str(int(n)) for n in sizes])
    ax.minorticks_off()
    ax.set(ylim=(-3, 103), xlabel="patients per trial (both arms)", ylabel="share of the empirical claims (%)")
    if by_kind_ax is not None:
        ax.set_title("all empirical claims, by operating class")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, title="class", title_fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------- files
def write_design_outputs(out_dir, *, verdicts: pd.DataFrame, info: dict) -> list[Path]:
    """Write a design run into ``out_dir/results/robustness/`` (:data:`DESIGN_FILES`).

    ``design_characteristics.csv`` (per size and claim: sensitivity, false positive, class),
    ``design_probability.csv`` (per size, claim and model: the share of each verdict), ``design_verdicts.csv.gz``
    (per cohort) and ``design.json`` (``info``: the folder, its fingerprint, the design, the sizes, the command).
    The files of a simulated or multiverse run in the same folder are left alone.

    Examples
    --------
    >>> import tempfile
    >>> v = pd.DataFrame({"patients": 40, "model": ["calibrated"], "cohort": 0, "seed": 1, "chapter": "safety",
    ...                   "claim_id": "safety.no_gvhd", "verdict": "reproduced", "seconds": 0.5})
    >>> sorted(p.name for p in write_design_outputs(tempfile.mkdtemp(), verdicts=v, info={}))
    ['design.json', 'design_characteristics.csv', 'design_probability.csv', 'design_verdicts.csv.gz']
    """
    folder = Path(out_dir) / "results" / "robustness"
    folder.mkdir(parents=True, exist_ok=True)
    prob, oc = design_characteristics(verdicts)
    paths = {k: folder / v for k, v in DESIGN_FILES.items()}
    oc.to_csv(paths["characteristics"], index=False, encoding="utf-8", lineterminator="\n")
    prob.to_csv(paths["probability"], index=False, encoding="utf-8", lineterminator="\n")
    verdicts.to_csv(paths["verdicts"], index=False, encoding="utf-8")
    paths["info"].write_text(json.dumps(info, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
    return [paths[k] for k in ("characteristics", "probability", "verdicts", "info")]


def read_design_outputs(folder) -> dict:
    """A design run in a robustness folder: ``characteristics`` (DataFrame or None) and ``info`` (dict).

    ``folder`` is ``…/results/robustness`` or an output folder holding it.

    Examples
    --------
    >>> import tempfile
    >>> read_design_outputs(tempfile.mkdtemp())["characteristics"] is None
    True
    """
    folder = paths.robustness_folder(folder)
    oc = folder / DESIGN_FILES["characteristics"]
    info = folder / DESIGN_FILES["info"]
    return {"characteristics": (pd.read_csv(oc, encoding="utf-8", keep_default_na=False,
                                            na_values=[""]) if oc.is_file() else None),
            "info": json.loads(info.read_text("utf-8")) if info.is_file() else {}}


# --------------------------------------------------------------------------------------------- the page's words
def _join(items: list[str]) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def reads_words(info: dict | None) -> str:
    """What the planning page reads, for its provenance box: the design run and the folder its design came from.

    Examples
    --------
    >>> reads_words(None)
    'none: no design result is part of this build'
    >>> reads_words({"design_from": "data/examples/other_trial", "design_from_fingerprint": "ab" * 32})
    "a design run (results/robustness/design.json): cohorts simulated at the design of data/examples/other_trial (data hash abababababab); no patient's values"
    """
    if not info:
        return "none: no design result is part of this build"
    where = (f"the design of {info['design_from']}" + (f" (data hash {str(info['design_from_fingerprint'])[:12]})"
                                                       if info.get("design_from_fingerprint") else "")
             if info.get("design_from") else "the paper's design")
    return f"a design run (results/robustness/design.json): cohorts simulated at {where}; no patient's values"


def describe_design_result(characteristics: pd.DataFrame | None, info: dict) -> str:
    """The planning page's words on a design result (Markdown): which run, whose design, what it simulated.

    Without a result (``characteristics`` None), says so and gives the commands (:data:`COMMAND`). Every number
    is read from the result (``design.json`` and the characteristics table).

    Examples
    --------
    >>> describe_design_result(None, {}).split(",")[0]
    'No design result is part of this build'
    """
    if characteristics is None:
        return ("No design result is part of this build, so this page has no figure and no sizes to show. To ask "
                "whether a trial of your design could detect the paper's effects, run "
                f"`{COMMAND[0]}` (DIR: a data folder whose design, arms and measures the simulated cohorts copy; "
                "`--patients`: the trial sizes to try) and build with "
                f"`{COMMAND[1]}`.")
    trial = info.get("trial") or {}
    folder = info.get("design_from") or ""
    d = trial.get("design") or {}
    sizes = sorted(int(n) for n in characteristics["patients"].unique())
    claims = int(characteristics.loc[characteristics["patients"] == sizes[0], "claim_id"].nunique())
    command = info.get("command", "a command it does not record")
    date = str(info["date"])[:10] if info.get("date") else "an unrecorded date"
    if folder:
        digest = str(info.get("design_from_fingerprint") or "")[:12]
        whose = (f"the design of the data folder `{folder}`" + (f" (data hash {digest})" if digest else "") +
                 ", read and checked as `python -m analysis validate` does")
    else:
        whose = "the paper's design (no data folder was given)"
    paras = [f"This page shows a design result (`{command}`, {date}). Its cohorts copy {whose}."]
    if d:
        weeks = ", ".join(str(w) for w in d.get("visit_weeks", []))
        text = (f"That design has visits at weeks {weeks}, judges the EULAR response at week {d.get('response_week')} "
                f"and ends at week {d.get('final_week')}")
        if trial.get("n_patients") and folder:
            text += (f"; its folder has {trial['n_patients']} patients, {trial['n_msct']} MSCT and "
                     f"{trial['n_control']} control, and every simulated cohort keeps that ratio")
        elif trial.get("n_patients"):
            text += (f"; every simulated cohort keeps the paper's ratio of {trial['n_msct']} MSCT to "
                     f"{trial['n_control']} control patients")
        text += "."
        left = [c for cols in (trial.get("left_out") or {}).values() for c in cols]
        if folder:
            text += (f" Columns the folder did not measure are left empty in every simulated cohort ({_join(left)})."
                     if left else " The folder measured every column of the data dictionary.")
        paras.append(text)
    models = info.get("models") or []
    named = ", ".join(models) or "not recorded"
    paras.append(
        f"At each of {len(sizes)} size{'s' if len(sizes) != 1 else ''} ({_join(sizes)} patients) it simulated "
        f"{info.get('cohorts', '?')} cohorts under each of {len(models) or '?'} model{'s' if len(models) != 1 else ''} "
        f"({named}) and judged each claim with the chapters' own code; the operating characteristics of {claims} "
        f"empirical claim{'s are' if claims != 1 else ' is'} given "
        "at each size. The cohorts are simulated by this project with the paper's effects as "
        "calibrated: the shares describe what a trial of this design could detect if the paper were right (and "
        "how often it would wrongly reproduce a claim in a world where the claim is false), not the data"
        + (f" in `{folder}`." if folder else " of any patient."))
    return "\n\n".join(paras)


def headline_table(published: pd.DataFrame | None = None) -> pd.DataFrame:
    """The headline claims (:data:`HEADLINE_CLAIMS`) with the paper's words, from the claims registry.

    Examples
    --------
    >>> headline_table()[["finding", "claim_id"]].iloc[0].tolist()
    ['IFN-γ predicts response', 'ifng.predicts_response']
    """
    from analysis.claims.registry import published as registry

    reg = (published if published is not None else registry()).set_index("claim_id")
    rows = [{"finding": f, "claim_id": c, "the paper's words": str(reg.loc[c, "quote"]) if c in reg.index else ""}
            for c, f in HEADLINE_CLAIMS.items()]
    return pd.DataFrame(rows, columns=["finding", "claim_id", "the paper's words"])
