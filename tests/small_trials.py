"""Small valid trials, drawn by hypothesis or written from explicit specs (issue 34: no valid folder fails a build).

A :class:`TrialSpec` describes a small trial in a few fields: the number of patients per arm (6-20 in all), the
scheduled weeks (week 0 always, 2-6 visits) with the response and final week written to ``dataset.yaml``
``design:``, how many MSCT patients respond (EULAR good) at the response week, which optional measures exist
(groups of :data:`analysis.science.simulate.OMIT_GROUPS`; absent groups are absent columns), the DAS28's
laboratory value (ESR only, CRP only or both), visit rows with every measure blank, patients lost to follow-up
(no rows after some visit), and adverse events.
:func:`write_trial` writes the folder of a spec (the same spec gives the same files, outside hypothesis too);
:func:`trial_specs` is the hypothesis strategy and :func:`seeded_spec` draws the same way from a seed (a list of
examples that is the same on every run); :data:`EXAMPLES` names explicit specs that cover the corners.
:data:`SMALL_TRIAL` is the hand-written pilot ``data/examples/small_trial``; :func:`one_non_responder` copies it
and turns one UC-MSC patient's response-week row back to near-baseline values.

The DAS28 trajectories are controlled so the EULAR response lands where intended: every patient starts with
active disease (DAS28 about 5.5-7); a responder's response-week components are near remission (improvement
> 1.2, DAS28 <= 3.2: "good"); a non-responder's equal the baseline plus a joint or two (improvement <= 0:
"none"). Controls change little. Blank rows are never at week 0 or at an MSCT patient's response week, so the
intended groups hold whether a blank row counts as a missed visit or not.

Examples
--------
>>> spec = EXAMPLES["one_non_responder"]
>>> spec.n_msct, spec.n_responders, spec.visit_weeks
(5, 4, (0, 4, 12))
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from hypothesis import strategies as st

from analysis.intake.dictionary import columns
from analysis.science.simulate import OMIT_GROUPS

ROOT = Path(__file__).resolve().parents[1]
SMALL_TRIAL = ROOT / "data" / "examples" / "small_trial"

#: the optional measure groups a spec may include (the simulator's groups)
GROUPS: tuple[str, ...] = tuple(OMIT_GROUPS)
#: the weeks a schedule may use besides week 0
LATER_WEEKS: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12, 16, 24, 36, 48, 52)
LABS = ("esr", "crp", "both")
_EVENTS = ("fever", "headache", "rash", "infection", "chills", "nausea")
_VISIT_COLUMNS = {c.name: c for c in columns("visits")}


@dataclass(frozen=True)
class TrialSpec:
    """One small trial, in the terms of the issue.

    Attributes
    ----------
    n_msct, n_control : int
        Patients per arm (both >= 1; 6-20 in all for the drawn specs).
    visit_weeks : tuple of int
        Scheduled weeks, ascending, starting with 0.
    response_week, final_week : int
        Written to ``dataset.yaml`` ``design:``; both are visit weeks, ``0 < response_week <= final_week``.
    n_responders : int
        MSCT patients who respond (EULAR good) at the response week: the first ``n_responders`` of the arm.
    lab : {"esr", "crp", "both"}
        The DAS28's laboratory column(s) present: ``esr_mm_h``, ``crp_mg_l`` or both.
    measures : tuple of str
        Optional measure groups present (names of :data:`GROUPS`); the others' columns are absent.
    blank_rows : tuple of (int, int)
        ``(patient index, week)`` visit rows written with every measure blank (patients numbered from 0 over
        both arms, MSCT first). Rows at week 0, or at the response week of an MSCT patient, are ignored.
    lost : tuple of (int, int)
        ``(patient index, week)``: the patient has no visit row from that week on (lost to follow-up; week 0 is
        ignored). An MSCT patient lost by the response week is "Unclassified".
    n_adverse_events : int
        Adverse events, spread over the patients and the weeks up to the final week.
    seed : int
        Seed of the values (noise, covariates, events).
    """

    n_msct: int = 6
    n_control: int = 6
    visit_weeks: tuple[int, ...] = (0, 4, 12, 24)
    response_week: int = 12
    final_week: int = 24
    n_responders: int = 3
    lab: str = "crp"
    measures: tuple[str, ...] = ()
    blank_rows: tuple[tuple[int, int], ...] = ()
    lost: tuple[tuple[int, int], ...] = ()
    n_adverse_events: int = 2
    seed: int = 0

    def __post_init__(self):
        weeks = self.visit_weeks
        assert weeks[0] == 0 and list(weeks) == sorted(set(weeks)), weeks
        assert self.response_week in weeks and self.final_week in weeks, (self.response_week, self.final_week)
        assert 0 < self.response_week <= self.final_week, (self.response_week, self.final_week)
        assert 0 <= self.n_responders <= self.n_msct and self.n_msct >= 1 and self.n_control >= 1
        assert self.lab in LABS and set(self.measures) <= set(GROUPS), (self.lab, self.measures)

    @property
    def n_patients(self) -> int:
        return self.n_msct + self.n_control

    def ids(self) -> list[str]:
        """Patient ids, MSCT first: ``P01``, ``P02``, ..."""
        return [f"P{i + 1:02d}" for i in range(self.n_patients)]

    def blank(self) -> set[tuple[str, int]]:
        """The (patient id, week) rows written blank, after the rules above."""
        ids = self.ids()
        out = set()
        for i, week in self.blank_rows:
            if i >= self.n_patients or week not in self.visit_weeks or week == 0:
                continue
            if i < self.n_msct and week == self.response_week:
                continue
            out.add((ids[i], week))
        return out

    def last_seen(self) -> dict[str, int]:
        """Each patient's last scheduled visit with a row (the final week unless lost)."""
        ids = self.ids()
        out = {pid: self.final_week for pid in ids}
        for i, week in self.lost:
            if i < self.n_patients and week > 0:
                earlier = [w for w in self.visit_weeks if w < week]
                out[ids[i]] = min(out[ids[i]], earlier[-1])
        return out

    def expected_groups(self) -> dict[str, str]:
        """The group each patient should get: Responder, Non-responder, Unclassified (MSCT) or Control."""
        seen = self.last_seen()

        def group(i: int, pid: str) -> str:
            if i >= self.n_msct:
                return "Control"
            if seen[pid] < self.response_week:
                return "Unclassified"
            return "Responder" if i < self.n_responders else "Non-responder"
        return {pid: group(i, pid) for i, pid in enumerate(self.ids())}


# ----------------------------------------------------------------------------- values
def _fmt(x: float, decimals: int = 1) -> str:
    return f"{round(float(x), decimals):.{decimals}f}"


def _components(rng: np.random.Generator, role: str, week: int, spec: TrialSpec, base: dict) -> dict:
    """DAS28 components of one visit (numbers); ``base`` holds the patient's week-0 values."""
    if week == 0:
        return dict(base)
    rw = spec.response_week
    if role == "Responder" and week >= rw:
        near = dict(tjc28=rng.integers(0, 3), sjc28=rng.integers(0, 2), esr_mm_h=rng.uniform(3, 10),
                    crp_mg_l=rng.uniform(0.5, 3), patient_global_mm=rng.uniform(5, 20))
        if week > rw and rng.random() < 0.3:  # a relapse after the response week
            near = dict(base, tjc28=base["tjc28"] - 1)
        return near
    if role == "Non-responder" and week == rw:  # a little worse than baseline: improvement < 0, EULAR none
        return dict(base, tjc28=min(28, base["tjc28"] + 1), sjc28=min(28, base["sjc28"] + 1))
    # other visits: a fraction of the way towards a modest improvement
    f = {"Responder": 0.6, "Non-responder": 0.15, "Control": 0.1}[role] * min(1.0, week / rw)
    return dict(tjc28=round(base["tjc28"] * (1 - f)), sjc28=round(base["sjc28"] * (1 - f)),
                esr_mm_h=max(1.0, base["esr_mm_h"] * (1 - f)), crp_mg_l=base["crp_mg_l"] * (1 - f),
                patient_global_mm=base["patient_global_mm"] * (1 - f))


def _optional(rng: np.random.Generator, group: str, role: str, week: int) -> dict[str, str]:
    """Values of one optional group at one visit, as text within the contract's ranges."""
    out: dict[str, str] = {}
    if group == "haq":
        out["haq_di"] = _fmt(0.125 * rng.integers(0, 20), 3)
    elif group == "prednisone":
        out["prednisone_mg_day"] = _fmt(2.5 * rng.integers(0, 5))
    elif group == "autoantibodies":
        ccp = rng.uniform(5, 260)
        out["anti_ccp_u_ml"] = ">ULOQ" if ccp > 200 else _fmt(ccp)
        out["rf_iu_ml"] = _fmt(rng.uniform(5, 150))
    elif group == "immune":
        out["treg_pct"] = _fmt(rng.uniform(2, 9), 2)
        out["th17_pct"] = _fmt(rng.uniform(0.3, 3), 2)
    elif group == "cytokines":
        for name in OMIT_GROUPS["cytokines"]:
            lloq = _VISIT_COLUMNS[name].lloq or 0.0
            value = rng.lognormal(np.log(max(4 * lloq, 3.0)), 0.8)
            if name == "ifn_g":  # high (> 2 pg/mL) in some responders early on
                value = rng.uniform(2.5, 6) if role == "Responder" and week <= 4 and rng.random() < 0.6 \
                    else rng.uniform(0.2, 2.5)
            out[name] = "<LLOQ" if value < lloq else _fmt(value, 2)
    elif group == "safety_labs":
        for name in OMIT_GROUPS["safety_labs"]:
            lo, hi = _VISIT_COLUMNS[name].normal
            out[name] = _fmt(rng.uniform(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo)), 2)
    return out


def tables(spec: TrialSpec) -> dict[str, pd.DataFrame]:
    """The three tables of a spec (all cells as text), without writing them.

    Examples
    --------
    >>> t = tables(TrialSpec(n_msct=3, n_control=3, visit_weeks=(0, 12), response_week=12, final_week=12,
    ...                      n_responders=1, lab="esr", n_adverse_events=0))
    >>> len(t["patients"]), len(t["visits"]), len(t["adverse_events"]), "crp_mg_l" in t["visits"]
    (6, 12, 0, False)
    """
    rng = np.random.default_rng(spec.seed)
    ids, blank, seen = spec.ids(), spec.blank(), spec.last_seen()
    patients = pd.DataFrame({
        "patient_id": ids,
        "arm": ["MSCT" if i < spec.n_msct else "control" for i in range(spec.n_patients)],
        "age": [str(a) for a in rng.integers(25, 75, spec.n_patients)],
        "sex": rng.choice(["F", "M"], spec.n_patients, p=[0.8, 0.2]).tolist(),
        "weight_kg": [_fmt(w) for w in rng.uniform(45, 90, spec.n_patients)],
        "disease_duration_years": [_fmt(d) for d in rng.uniform(0.5, 20, spec.n_patients)],
    })
    labs = {"esr": ["esr_mm_h"], "crp": ["crp_mg_l"], "both": ["esr_mm_h", "crp_mg_l"]}[spec.lab]
    das28 = ["tjc28", "sjc28", *labs, "patient_global_mm"]
    optional = [c for g in GROUPS if g in spec.measures for c in OMIT_GROUPS[g]]
    rows = []
    for i, pid in enumerate(ids):  # the intended role (an MSCT patient lost early is still drawn as one)
        role = "Control" if i >= spec.n_msct else "Responder" if i < spec.n_responders else "Non-responder"
        base = dict(tjc28=int(rng.integers(10, 21)), sjc28=int(rng.integers(6, 15)),
                    esr_mm_h=float(rng.uniform(35, 80)), crp_mg_l=float(rng.uniform(15, 45)),
                    patient_global_mm=float(rng.uniform(55, 85)))
        for week in spec.visit_weeks:
            if week > seen[pid]:
                continue
            row = {"patient_id": pid, "week": str(week)}
            comp = _components(rng, role, week, spec, base)
            values = {"tjc28": str(int(comp["tjc28"])), "sjc28": str(int(comp["sjc28"])),
                      "esr_mm_h": _fmt(comp["esr_mm_h"]), "crp_mg_l": _fmt(comp["crp_mg_l"]),
                      "patient_global_mm": _fmt(comp["patient_global_mm"])}
            row.update({c: values[c] for c in das28})
            for g in GROUPS:
                if g in spec.measures:
                    row.update(_optional(rng, g, role, week))
            if (pid, week) in blank:
                row.update({c: "" for c in das28 + optional})
            rows.append(row)
    visits = pd.DataFrame(rows, columns=["patient_id", "week", *das28, *optional])
    aes = []
    for _ in range(spec.n_adverse_events):
        aes.append({"patient_id": str(rng.choice(ids)), "week": str(int(rng.integers(0, spec.final_week + 1))),
                    "event": str(rng.choice(_EVENTS)), "serious": str(bool(rng.random() < 0.15)).lower(),
                    "related": str(rng.choice(["true", "false", ""]))})
    ae = pd.DataFrame(aes, columns=["patient_id", "week", "event", "serious", "related"])
    return {"patients": patients, "visits": visits, "adverse_events": ae}


def write_trial(spec: TrialSpec, dst) -> Path:
    """Write the data folder of ``spec`` into ``dst`` (created; must not hold another trial).

    Returns
    -------
    Path
        ``dst``, holding ``patients.csv``, ``visits.csv``, ``adverse_events.csv`` and ``dataset.yaml``.

    Examples
    --------
    >>> import tempfile
    >>> out = write_trial(EXAMPLES["no_responders"], Path(tempfile.mkdtemp()) / "trial")
    >>> sorted(p.name for p in out.iterdir())
    ['adverse_events.csv', 'dataset.yaml', 'patients.csv', 'visits.csv']
    """
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    for name, df in tables(spec).items():
        df.to_csv(dst / f"{name}.csv", index=False, lineterminator="\n")
    meta = {"design": {"visit_weeks": list(spec.visit_weeks), "response_week": spec.response_week,
                       "final_week": spec.final_week}}
    head = f"# A small trial written by tests/small_trials.py: {spec!r}\n"
    (dst / "dataset.yaml").write_text(head + yaml.safe_dump(meta, sort_keys=False), "utf-8")
    return dst


# ----------------------------------------------------------------------------- drawn specs
class _Draws:
    """The few kinds of choice a spec needs, from hypothesis (``draw``) or from a numpy seed (``seed``)."""

    def __init__(self, draw=None, seed: int | None = None):
        self.draw, self.rng = draw, np.random.default_rng(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi)) if self.draw else int(self.rng.integers(lo, hi + 1))

    def choice(self, options):
        return self.draw(st.sampled_from(options)) if self.draw else options[int(self.rng.integers(len(options)))]

    def subset(self, options, lo: int = 0, hi: int | None = None) -> list:
        hi = len(options) if hi is None else hi
        if self.draw:
            return self.draw(st.lists(st.sampled_from(options), min_size=lo, max_size=hi, unique=True))
        k = self.integer(lo, hi)
        return [options[i] for i in self.rng.permutation(len(options))[:k]]


def _spec(d: _Draws) -> TrialSpec:
    n_patients = d.integer(6, 20)
    n_msct = d.integer(1, n_patients - 1)
    weeks = (0, *sorted(d.subset(LATER_WEEKS, 1, 5)))
    kind = d.choice(("none", "one", "few", "all"))
    n_resp = {"none": 0, "one": 1, "all": n_msct}[kind] if kind != "few" else d.integer(1, n_msct)
    blank = [(d.integer(0, n_patients - 1), d.choice(weeks[1:])) for _ in range(d.integer(0, 4))]
    lost = [(d.integer(0, n_patients - 1), d.choice(weeks[1:])) for _ in range(d.integer(0, 2))]
    return TrialSpec(
        n_msct=n_msct, n_control=n_patients - n_msct, visit_weeks=weeks, response_week=d.choice(weeks[1:]),
        final_week=weeks[-1], n_responders=n_resp, lab=d.choice(LABS), measures=tuple(d.subset(GROUPS)),
        blank_rows=tuple(blank), lost=tuple(lost), n_adverse_events=d.choice((0, 0, 1, 3, 6)), seed=d.integer(0, 2**16),
    )


@st.composite
def trial_specs(draw) -> TrialSpec:
    """Hypothesis strategy of :class:`TrialSpec`: 6-20 patients, 2-6 visits, 0 / 1 / few / all responders."""
    return _spec(_Draws(draw=draw))


def seeded_spec(seed: int) -> TrialSpec:
    """The same distribution as :func:`trial_specs`, drawn from a numpy seed (a reproducible list of examples).

    Examples
    --------
    >>> seeded_spec(3) == seeded_spec(3), 6 <= seeded_spec(3).n_patients <= 20
    (True, True)
    """
    return _spec(_Draws(seed=seed))


# ----------------------------------------------------------------------------- explicit corners
#: explicit specs, by name: the corners `make test` builds (CORE in tests/test_small_trials.py) and a few more
EXAMPLES: dict[str, TrialSpec] = {
    "one_non_responder": TrialSpec(n_msct=5, n_control=4, visit_weeks=(0, 4, 12), response_week=12, final_week=12,
                                   n_responders=4, lab="crp", measures=("haq",), n_adverse_events=2, seed=5),
    "no_responders": TrialSpec(n_msct=4, n_control=4, visit_weeks=(0, 2, 8, 24), response_week=8, final_week=24,
                               n_responders=0, lab="both", measures=("cytokines", "haq"), n_adverse_events=3,
                               seed=2),
    "all_responders_esr_only": TrialSpec(n_msct=8, n_control=6, visit_weeks=(0, 1, 4, 12, 24, 48),
                                         response_week=12, final_week=48, n_responders=8, lab="esr",
                                         measures=GROUPS, n_adverse_events=6, seed=3),
    "minimal_no_ae_blank_rows": TrialSpec(n_msct=3, n_control=3, visit_weeks=(0, 6, 12), response_week=6,
                                          final_week=12, n_responders=2, lab="crp", measures=(),
                                          blank_rows=((0, 12), (3, 6), (4, 12)), n_adverse_events=0, seed=4),
    "one_responder_response_at_final": TrialSpec(n_msct=10, n_control=10, visit_weeks=(0, 3, 16), response_week=16,
                                                 final_week=16, n_responders=1, lab="esr",
                                                 measures=("immune", "autoantibodies", "prednisone"),
                                                 blank_rows=((12, 3),), n_adverse_events=1, seed=5),
    "one_control_drop_outs": TrialSpec(n_msct=6, n_control=1, visit_weeks=(0, 2, 12, 24), response_week=12,
                                       final_week=24, n_responders=3, lab="both", measures=("haq", "safety_labs"),
                                       lost=((0, 12), (3, 24), (5, 2)), n_adverse_events=2, seed=7),
    "two_visits_cytokines": TrialSpec(n_msct=3, n_control=3, visit_weeks=(0, 12), response_week=12, final_week=12,
                                      n_responders=2, lab="crp", measures=("cytokines", "safety_labs"),
                                      n_adverse_events=1, seed=6),
}


def one_non_responder(dst, src: Path = SMALL_TRIAL, patient: str = "S01") -> Path:
    """Copy the hand-written small trial and make one UC-MSC patient a EULAR non-responder.

    The patient's response-week row (week 12) gets the week-0 values plus one tender joint: the DAS28 does not
    improve, so the EULAR response is "none".
    """
    dst = Path(dst)
    shutil.copytree(src, dst)
    visits = pd.read_csv(dst / "visits.csv", dtype=str, keep_default_na=False)
    meta = yaml.safe_load((dst / "dataset.yaml").read_text("utf-8"))
    names = {v: k for k, v in meta.get("columns", {}).items()}  # contract name -> the trial's own name
    pid, week, tjc = names.get("patient_id", "patient_id"), names.get("week", "week"), names.get("tjc28", "tjc28")
    week12 = str(meta["design"]["response_week"])
    at = visits[pid].eq(patient) & visits[week].eq(week12)
    base = visits.loc[visits[pid].eq(patient) & visits[week].eq("0")].iloc[0]
    assert at.sum() == 1, (patient, week12)
    measures = [c for c in visits.columns if c not in (pid, week)]
    visits.loc[at, measures] = base[measures].to_numpy()
    visits.loc[at, tjc] = str(min(28, int(base[tjc]) + 1))
    visits.to_csv(dst / "visits.csv", index=False, lineterminator="\n")
    return dst
