"""The synthetic cohort: a calibrated stand-in for the trial data, which are not public.

`simulate` draws patients, visits and adverse events that reproduce the paper's design and
qualitative findings (arm sizes, 28/24 EULAR split at week 12, drop-outs, Table 1 means,
directions of change, the IFN-γ pattern). Every number the paper does not give comes from
``data/published/assumptions.yaml`` (read at run time, each value with its source); the
published Table 1 comes from ``data/published/table1.csv``. Everything is vectorised numpy:
105,000 patients take a few seconds.

Regenerate the shipped cohort with::

    python -m analysis simulate --seed 2018 --patients 105 --out data/synthetic

Another trial's schedule and measures (the design is written into the folder's ``dataset.yaml``)::

    python -m analysis simulate --visit-weeks 0,2,4,8,12,24 --response-week 12 --final-week 24 \
        --omit immune --omit autoantibodies --omit safety_labs --out /tmp/other_trial

``model=`` gives the cohorts of another world, under which some of the paper's claims must fail (:data:`MODELS`,
described in :data:`analysis.core.chapters.MODELS`; each claim names its own in the registry's ``fails_under``).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd
import yaml

from analysis.intake import dictionary
from analysis.science import scores
from analysis.core.chapters import MODELS as _MODEL_TEXT
from analysis.core.design import Design
from analysis.core.errors import UserError

__all__ = ["simulate", "write_cohort", "generate", "cohort_meta", "load_assumptions", "group_counts",
           "MODELS", "OMIT_GROUPS", "omitted_columns", "lab_correlations"]

#: models of the world (:data:`analysis.core.chapters.MODELS` describes each): as calibrated, and the models
#: under which a claim can fail
MODELS: tuple[str, ...] = tuple(_MODEL_TEXT)
#: the markers the paper calls unchanged, moved by the ``shift`` model (labs: those of Table 1 without a star)
SHIFT_MARKERS: dict[str, str] = {"il_1b": "up", "il_2r": "up", "il_8": "up", "anti_ccp_u_ml": "down", "rf_iu_ml": "down"}
#: the size of the ``shift``, ``harm`` and ``imbalance`` changes: half a baseline SD, the equivalence margin of
#: markers without an established one (``data/published/margins.csv``)
MARGIN_SD = 0.5

#: groups of measures a simulated trial may leave out (``omit=``); a visit column's name works too
OMIT_GROUPS: dict[str, tuple[str, ...]] = {
    "cytokines": ("il_1b", "il_2r", "il_6", "il_8", "il_10", "tnf_a", "ifn_g"),
    "immune": ("treg_pct", "th17_pct"),
    "autoantibodies": ("anti_ccp_u_ml", "rf_iu_ml"),
    "safety_labs": ("total_protein_g_l", "albumin_g_l", "globulin_g_l", "cholesterol_mmol_l",
                    "triglyceride_mmol_l", "creatinine_umol_l", "urea_mmol_l", "glucose_mmol_l", "wbc_10e9_l",
                    "hemoglobin_g_l", "platelets_10e9_l"),
    "prednisone": ("prednisone_mg_day",),
    "haq": ("haq_di",),
}
_NEVER_OMIT = ("patient_id", "week", "tjc28", "sjc28", "esr_mm_h", "patient_global_mm")


def omitted_columns(omit: Iterable[str] | str | None) -> tuple[str, ...]:
    """The visit columns that ``omit`` (group names of :data:`OMIT_GROUPS` or column names) leaves out.

    Examples
    --------
    >>> omitted_columns(["immune", "il_6"])
    ('treg_pct', 'th17_pct', 'il_6')
    >>> omitted_columns("prednisone")
    ('prednisone_mg_day',)
    """
    if omit is None:
        return ()
    if isinstance(omit, str):
        omit = [p.strip() for p in omit.split(",") if p.strip()]
    names = [c.name for c in dictionary.columns("visits")]
    out: list[str] = []
    for item in omit:
        if item in OMIT_GROUPS:
            cols = OMIT_GROUPS[item]
        elif item in names and item not in _NEVER_OMIT:
            cols = (item,)
        else:
            raise ValueError(f"`omit` item {item!r} is neither a group ({', '.join(OMIT_GROUPS)}) nor an optional "
                             f"visit column (the DAS28-ESR components, patient_id and week are always simulated)")
        out += [c for c in cols if c not in out]
    return tuple(out)

_ROOT = Path(__file__).resolve().parents[2]
_PUBLISHED = _ROOT / "data" / "published"
_BELOW, _ABOVE = "<LLOQ", ">ULOQ"
_RESP, _NONRESP, _CTRL = 0, 1, 2

# Decimal places of each visit column on disk (the simulated values are rounded to these).
_VISIT_DECIMALS = {
    "crp_mg_l": 1, "haq_di": 3, "prednisone_mg_day": 1, "anti_ccp_u_ml": 1, "rf_iu_ml": 1,
    "treg_pct": 2, "th17_pct": 2, "il_1b": 2, "il_2r": 1, "il_6": 2, "il_8": 2, "il_10": 2,
    "tnf_a": 2, "ifn_g": 2,
}


@lru_cache(maxsize=4)
def _load_yaml(path: str) -> dict:
    return yaml.safe_load(Path(path).read_text("utf-8"))


def load_assumptions(path: str | Path | None = None) -> dict:
    """The simulator's assumptions (``data/published/assumptions.yaml``) as a dict.

    Examples
    --------
    >>> load_assumptions()["paper_targets"]["responders_in_msct"]["value"]
    [28, 52]
    """
    import copy

    return copy.deepcopy(_load_yaml(str(path or _PUBLISHED / "assumptions.yaml")))


def _frac(a: dict, key: str) -> float:
    num, den = a["paper_targets"][key]["value"]
    return num / den


def group_counts(n_patients: int, assumptions: dict | None = None) -> dict[str, int]:
    """Group sizes for a cohort of ``n_patients`` (the paper's proportions, rounded).

    Examples
    --------
    >>> c = group_counts(105)
    >>> c["msct"], c["control"], c["responder"], c["nonresponder"], c["before"]
    (52, 53, 28, 24, 12)
    >>> c["lost_nonresponder"], c["lost_control"], c["relapse"], c["taper"], c["infusion_reaction"]
    (2, 5, 2, 23, 3)
    """
    a = assumptions or load_assumptions()
    n_msct = int(round(n_patients * _frac(a, "msct_arm")))
    n_ctrl = n_patients - n_msct
    n_resp = int(round(n_msct * _frac(a, "responders_in_msct")))
    n_nonresp = n_msct - n_resp
    n_taper = int(round(n_resp * _frac(a, "prednisone_taper_in_responders")))
    n_relapse = min(int(round(n_resp * _frac(a, "relapse_in_responders"))), n_resp - n_taper)
    return {
        "msct": n_msct,
        "control": n_ctrl,
        "responder": n_resp,
        "nonresponder": n_nonresp,
        "before": int(round(n_resp * _frac(a, "before_subgroup_in_responders"))),
        "relapse": n_relapse,
        "taper": n_taper,
        "lost_nonresponder": int(round(n_nonresp * _frac(a, "lost_in_nonresponders"))),
        "lost_control": int(round(n_ctrl * _frac(a, "lost_in_controls"))),
        "infusion_reaction": int(round(n_msct * _frac(a, "infusion_reactions_in_msct"))),
    }


# ---------------------------------------------------------------------------------------------
# small random helpers


def _draw(rng: np.random.Generator, spec: dict, size) -> np.ndarray:
    """Draw from a spec {dist: normal|lognormal|uniform, ...}, clipped to [min, max] if given."""
    dist = spec["dist"]
    if dist == "normal":
        x = rng.normal(spec["mean"], spec["sd"], size)
    elif dist == "lognormal":
        x = np.exp(rng.normal(np.log(spec["median"]), spec["sdlog"], size))
    elif dist == "uniform":
        x = rng.uniform(spec["low"], spec["high"], size)
    else:  # pragma: no cover - guarded by the YAML
        raise ValueError(f"unknown distribution {dist!r} in assumptions.yaml")
    return np.clip(x, spec.get("min", -np.inf), spec.get("max", np.inf))


def _lognoise(rng: np.random.Generator, sdlog: float, size) -> np.ndarray:
    """Multiplicative visit noise with mean 1 (``exp(N(-sdlog²/2, sdlog))``), drawn at every visit."""
    return np.exp(rng.normal(-0.5 * sdlog**2, sdlog, size))


# ---------------------------------------------------------------------------------------------
# the cohort


def simulate(*, seed: int = 2018, n_patients: int = 105, ifng_effect: float = 1.0, design: Design | None = None,
             omit: Iterable[str] | str | None = None, model: str = "calibrated",
             msct_fraction: float | None = None) -> dict[str, pd.DataFrame]:
    """Simulate the cohort as it would appear on disk.

    Parameters
    ----------
    seed : int
        Seed of the numpy random generator; the same seed gives the same cohort.
    n_patients : int
        Number of randomised patients (at least 20); group sizes keep the paper's proportions.
    ifng_effect : float
        Strength of the IFN-γ-response link in [0, 1]: 1 (calibrated default) ties the IFN-γ
        profile to response as in the paper; 0 shuffles IFN-γ profiles across the MSCT arm so
        that IFN-γ is unrelated to response.
    design : Design, optional
        The trial's schedule (:class:`analysis.core.design.Design`); default the paper's. The cohort is
        simulated on the paper's weeks and the design's together (the calibration targets sit at the
        paper's weeks 12, 24 and 48) and only the design's visit weeks are kept; drop-outs leave after
        the design's response week; adverse events fall up to its final week.
    omit : iterable of str or str, optional
        Groups of measures (:data:`OMIT_GROUPS`: cytokines, immune, autoantibodies, safety_labs,
        prednisone, haq) or visit column names the trial did not measure; their columns are left out
        of ``visits``.
    model : str
        One of :data:`MODELS`. ``"calibrated"`` (default): as the paper. ``"null_treatment"``: the infusion has
        no effect on any measure; the MSCT arm is simulated exactly as the control arm (same trajectories,
        drop-out rate, IFN-γ and labs; infusion reactions fall on either arm). ``"null_ifng"``: IFN-γ unrelated
        to response (``ifng_effect=0``). ``"null_mechanism"``: the same clinical responders, but cells,
        cytokines, autoantibodies, IFN-γ and labs drawn as non-responders'. ``"harm"``: serious adverse
        events, GVHD and infections each in 5 % of treated patients (binomial), twice the other adverse events
        in the MSCT arm, each lab worse by half a baseline SD at the final visit in the MSCT arm.
        ``"placebo_response"``: controls' activity falls by 20 % by the response week (DAS28 about 0.6 lower).
        ``"imbalance"``: responders' baseline activity, demographics and markers 0.5 SD above non-responders'.
        ``"time_null"``: no marker changes over time. ``"shift"``: the markers the paper calls unchanged
        (:data:`SHIFT_MARKERS`, Table 1's unstarred labs in the direction of their Table 1 change) move by half a
        baseline SD by the final visit.
    msct_fraction : float, optional
        Share of the patients randomised to MSCT, in (0, 1) (default: the paper's 52/105); the MSCT arm has
        ``round(n_patients * msct_fraction)`` patients (at least 1 in each arm), the other proportions are the
        paper's.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``patients``, ``visits`` and ``adverse_events``. Censored assay results are the text
        tokens ``"<LLOQ"`` / ``">ULOQ"`` in their column (object dtype), as in the CSV files.

    Notes
    -----
    Week-12 EULAR categories are computed with `analysis.science.scores.eular_response` on DAS28-ESR of
    the rounded components; patients whose category does not match their intended group are
    redrawn (vectorised over those patients) until it does, with a deterministic fallback.
    The same repair keeps exactly the intended relapsers' DAS28 more than 0.6 above week 12 at
    week 24 (with ESR and CRP up) and the other responders not.

    Examples
    --------
    >>> t = simulate(n_patients=105)
    >>> sorted(t), len(t["patients"]), t["patients"]["arm"].value_counts()["MSCT"]
    (['adverse_events', 'patients', 'visits'], 105, np.int64(52))
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"`seed` must be an int, got {seed!r}")
    if isinstance(n_patients, bool) or not isinstance(n_patients, (int, np.integer)):
        raise TypeError(f"`n_patients` must be an int, got {n_patients!r}")
    if n_patients < 20:
        raise ValueError(f"`n_patients` must be at least 20, got {n_patients}")
    if not isinstance(ifng_effect, (int, float, np.floating)) or not 0.0 <= float(ifng_effect) <= 1.0:
        raise ValueError(f"`ifng_effect` must be a number between 0 and 1, got {ifng_effect!r}")
    if model not in MODELS:
        raise ValueError(f"`model` must be one of {list(MODELS)}, got {model!r}")
    if design is not None and not isinstance(design, Design):
        raise TypeError(f"`design` must be an analysis.core.design.Design, got {type(design).__name__}")
    if msct_fraction is not None and (isinstance(msct_fraction, bool) or not isinstance(msct_fraction, (int, float))
                                      or not 0.0 < float(msct_fraction) < 1.0):
        raise ValueError(f"`msct_fraction` must be a number strictly between 0 and 1, got {msct_fraction!r}")
    design = design or Design()
    dropped = omitted_columns(omit)
    if model == "null_ifng":
        ifng_effect = 0.0

    a = load_assumptions()
    if msct_fraction is not None:  # the trial's own randomisation ratio instead of the paper's 52/105
        n_msct = min(max(int(round(n_patients * float(msct_fraction))), 1), int(n_patients) - 1)
        a["paper_targets"]["msct_arm"]["value"] = [n_msct, int(n_patients)]
    rng = np.random.default_rng(seed)
    n = int(n_patients)
    weeks = np.asarray(sorted(set(dictionary.design_weeks()) | set(design.visit_weeks)), dtype=float)
    counts = group_counts(n, a)

    roles = _roles(rng, n, counts)
    if model == "null_treatment":
        roles = _null_treatment(rng, roles, counts)
    roles["model"] = model
    patients = _patients(rng, n, roles, a)
    timing = _timing(rng, roles, a)
    curves = _curves(weeks, roles, timing, a)
    # null_mechanism / time_null: the autoantibodies do not fall
    fall = curves["s"] if model not in ("null_mechanism", "time_null") else np.zeros_like(curves["s"])
    clinical = _clinical(rng, weeks, roles, {**curves, "s": fall}, timing, a)
    # null_mechanism / time_null: markers drawn as if no responder had a mechanism (time_null: nor any change)
    mroles = roles
    if model in ("null_mechanism", "time_null"):  # time_null: a high week-0 IFN-γ stays high
        mroles = {**roles, "resp": np.zeros_like(roles["resp"]), "relapse": np.zeros_like(roles["relapse"]),
                  "before": roles["before"] if model == "time_null" else np.zeros_like(roles["before"])}
    mcurves = curves if mroles is roles else _curves(weeks, mroles, timing, a)
    ifn = _ifn_gamma(rng, weeks, mroles, timing, a, float(ifng_effect))
    immune = _immune(rng, weeks, mroles, mcurves, a)
    labs = _labs(rng, weeks, mroles, mcurves, a, **_lab_changes(model, roles))
    if model == "imbalance":
        _imbalance(patients, clinical, immune, ifn, labs, roles, a)
    if model == "shift":
        _shift(clinical, immune, weeks, float(design.response_week), roles["resp"])

    visits = _assemble(patients["patient_id"].to_numpy(), weeks, roles, {**clinical, **immune, **labs, "ifn_g": ifn},
                       design=design)
    if dropped:
        visits = visits.drop(columns=list(dropped))
    adverse = _adverse_events(rng, patients, roles, counts, a, design=design)
    return {"patients": patients, "visits": visits, "adverse_events": adverse}


def _null_treatment(rng, roles: dict, c: dict) -> dict:
    """Every patient simulated as a control (no response, no IFN-γ peak); the arm labels are kept.

    Drop-outs take the control arm's rate in both arms. ``treated`` (False for everyone) tells the
    IFN-γ and adverse-event steps that no infusion acts.
    """
    n = roles["group"].size
    out = dict(roles)
    out["group"] = np.full(n, _CTRL)
    out["resp"] = np.zeros(n, bool)
    for key in ("before", "taper", "relapse"):
        out[key] = np.zeros(n, bool)
    out["lost"] = rng.random(n) < c["lost_control"] / max(c["control"], 1)
    out["treated"] = np.zeros(n, bool)
    return out


def _roles(rng: np.random.Generator, n: int, c: dict) -> dict[str, np.ndarray]:
    """Group and subgroup flags, shuffled over patient positions."""
    group = np.repeat([_RESP, _NONRESP, _CTRL], [c["responder"], c["nonresponder"], c["control"]])
    n_r = c["responder"]
    before = np.zeros(n, bool)
    before[:n_r] = rng.permutation(np.arange(n_r) < c["before"])
    taper = np.zeros(n, bool)
    taper[: c["taper"]] = True
    relapse = np.zeros(n, bool)
    relapse[c["taper"] : c["taper"] + c["relapse"]] = True
    lost = np.zeros(n, bool)
    lost[n_r : n_r + c["lost_nonresponder"]] = True
    start_c = n_r + c["nonresponder"]
    lost[start_c : start_c + c["lost_control"]] = True
    order = rng.permutation(n)
    out = {"group": group, "before": before, "taper": taper, "relapse": relapse, "lost": lost}
    out = {k: v[order] for k, v in out.items()}
    out["msct"] = out["group"] != _CTRL
    out["resp"] = out["group"] == _RESP
    return out


def _patients(rng, n, roles, a) -> pd.DataFrame:
    d = a["demographics"]
    width = max(3, len(str(n)))
    ids = np.char.add("P", np.char.zfill(np.arange(1, n + 1).astype(str), width))
    return pd.DataFrame(
        {
            "patient_id": ids.astype(object),
            "arm": np.where(roles["msct"], "MSCT", "control").astype(object),
            "age": np.rint(_draw(rng, d["age"], n)).astype(np.int64),
            "sex": np.where(rng.random(n) < d["female_fraction"]["value"], "F", "M").astype(object),
            "weight_kg": np.round(_draw(rng, d["weight_kg"], n), 1),
            "disease_duration_years": np.round(_draw(rng, d["disease_duration_years"], n), 1),
        }
    )


def _timing(rng, roles, a) -> dict[str, np.ndarray]:
    """Per-patient IFN-γ timing (t_ifn), immune lag and the latent IFN-γ amplitude z."""
    n = roles["group"].size
    ia = a["ifn_gamma"]
    after_weeks = rng.choice(ia["peak_week_after_subgroup"]["values"], size=n, p=ia["peak_week_after_subgroup"]["probs"])
    peak_week = np.where(roles["before"], ia["peak_week_before_subgroup"]["value"], after_weeks).astype(float)
    t_ifn = np.where(roles["before"], 0.0, peak_week)
    lag = _draw(rng, a["response"]["immune_lag_weeks"], n)
    z = rng.normal(size=n)
    return {"peak_week": peak_week, "t_ifn": t_ifn, "lag": lag, "z": z}


def _curves(weeks, roles, timing, a) -> dict[str, np.ndarray]:
    """Activity factor f, clinical curve g, immune curve e, gradual s and IL-10 pulse, shape (n, W).

    Every responder's clinical improvement starts at their IFN-γ rise (``t_ifn``: week 0 in the Before
    subgroup, the IFN-γ peak week in the After subgroup); their immune and cytokine response starts
    ``lag`` (2-3) weeks later (``onset``) and nothing of it, the IL-10 pulse included, precedes the onset.
    """
    r = a["response"]
    n = roles["group"].size
    resp = roles["resp"][:, None]
    t = weeks[None, :]
    t_ifn = timing["t_ifn"][:, None]
    onset = t_ifn + timing["lag"][:, None]
    g = np.clip((t - t_ifn) / r["clinical_ramp_weeks"]["value"], 0.0, 1.0)
    e = np.clip((t - onset) / r["immune_ramp_weeks"]["value"], 0.0, 1.0)
    s = np.clip(t / 12.0, 0.0, 1.0)
    s_cyt = np.clip((t - onset) / r["cytokine_gradual_weeks"]["value"], 0.0, 1.0)
    x = np.maximum(t - onset, 0.0) / r["il_10_pulse"]["peak_after_onset_weeks"]
    pulse = x * np.exp(1.0 - x)  # 0 up to the onset, 1 at its peak, back near 0 within weeks
    i24 = int(np.flatnonzero(weeks == 24)[0])
    i48 = int(np.flatnonzero(weeks == 48)[0])
    rel = roles["relapse"]
    e[rel, i24] = r["relapse_immune_e"]["week24"]
    e[rel, i48] = r["relapse_immune_e"]["week48"]
    zero = ~roles["resp"]
    e[zero] = 0.0
    pulse[zero] = 0.0
    s_cyt[zero] = 0.0
    s_resp = np.where(resp, s, 0.0)
    return {"g": g, "e": e, "s": s_resp, "s_cyt": s_cyt, "s_all": np.broadcast_to(s, (n, weeks.size)),
            "pulse": pulse}


def _clinical(rng, weeks, roles, curves, timing, a) -> dict[str, np.ndarray]:
    """Joint counts, ESR, CRP, GH, HAQ, prednisone, autoantibodies; EULAR and relapse repaired."""
    b = a["baseline"]
    r = a["response"]
    n, W = roles["group"].size, weeks.size
    i12 = int(np.flatnonzero(weeks == 12)[0])
    i24 = int(np.flatnonzero(weeks == 24)[0])
    i48 = int(np.flatnonzero(weeks == 48)[0])

    # Baseline components.
    base = {
        "tjc28": np.rint(_draw(rng, b["tjc28"], n)),
        "sjc28": np.rint(_draw(rng, b["sjc28"], n)),
        "patient_global_mm": np.rint(_draw(rng, b["patient_global_mm"], n)),
        "haq_di": np.round(_draw(rng, b["haq_di"], n) * 8) / 8,
    }
    z_esr, z_c = rng.normal(size=n), rng.normal(size=n)
    rho = b["crp_esr_log_correlation"]["value"]
    esr = np.exp(np.log(b["esr_mm_h"]["median"]) + b["esr_mm_h"]["sdlog"] * z_esr)
    crp = np.exp(np.log(b["crp_mg_l"]["median"]) + b["crp_mg_l"]["sdlog"] * (rho * z_esr + np.sqrt(1 - rho**2) * z_c))
    base["esr_mm_h"] = np.rint(np.clip(esr, b["esr_mm_h"]["min"], b["esr_mm_h"]["max"]))
    base["crp_mg_l"] = np.round(np.clip(crp, b["crp_mg_l"]["min"], b["crp_mg_l"]["max"]), 1)

    # Activity factor f(t): responders 1 - (1 - L) g(t); others a small drift.
    dl = r["depth_L"]
    depth = np.clip(dl["mean"] - dl["ifng_coefficient"] * timing["z"] + rng.normal(0, dl["sd"], n), dl["min"], dl["max"])
    drift = _draw(rng, r["nonresponder_drift"], n)
    if roles.get("model") == "placebo_response":  # controls improve: activity 20 % lower by week 12
        drift = np.where(roles["msct"], drift, r["placebo_drift"]["value"])
    f = np.where(roles["resp"][:, None], 1 - (1 - depth[:, None]) * curves["g"], 1 - drift[:, None] * curves["s_all"])
    rel = roles["relapse"]
    f[rel, i24] = 1 - (1 - depth[rel]) * r["relapse_f"]["week24"]
    f[rel, i48] = 1 - (1 - depth[rel]) * r["relapse_f"]["week48"]

    comps = _components(rng, base, f, np.arange(n), np.arange(W), a)  # week 0 too: noise at every visit

    # Repair 1: EULAR at week 12 must match the intended group within MSCT.
    msct, resp, rel = roles.get("treated", roles["msct"]), roles["resp"], roles["relapse"]

    def bad12(c, rows):
        cat = scores.eular_response(_das(c, 0, rows), _das(c, i12, rows))
        return msct[rows] & (scores.is_responder(cat) != resp[rows])

    def fallback12(c, rows):
        nr = rows[~resp[rows]]
        for k in c:
            c[k][nr, i12] = c[k][nr, 0]  # unchanged -> improvement 0 -> "none"
        rr = rows[resp[rows]]
        c["tjc28"][rr, i12] = 0
        c["sjc28"][rr, i12] = 0
        c["esr_mm_h"][rr, i12] = np.maximum(1, np.rint(c["esr_mm_h"][rr, 0] * 0.3))
        c["patient_global_mm"][rr, i12] = np.rint(c["patient_global_mm"][rr, 0] * 0.3)

    goal12 = np.where(resp, f[:, i12] * 0.5, 1.0)
    _repair(rng, comps, base, f, i12, bad12, goal12, fallback12, a)

    # Repair 2: relapse at week 24 in exactly the intended responders (DAS28 up > 0.6, ESR and CRP up).
    def bad24(c, rows):
        rise = _das(c, i24, rows) - _das(c, i12, rows)
        up = (rise > 0.6) & (c["esr_mm_h"][rows, i24] > c["esr_mm_h"][rows, i12]) & (c["crp_mg_l"][rows, i24] > c["crp_mg_l"][rows, i12])
        return (rel[rows] & ~up) | (resp[rows] & ~rel[rows] & (rise > 0.6))

    def fallback24(c, rows):
        src = np.where(rel[rows], 0, i12)
        for k in c:
            c[k][rows, i24] = c[k][rows, src]
        rr = rows[rel[rows]]
        c["esr_mm_h"][rr, i24] = np.maximum(c["esr_mm_h"][rr, i24], c["esr_mm_h"][rr, i12] + 1)
        c["crp_mg_l"][rr, i24] = np.maximum(c["crp_mg_l"][rr, i24], c["crp_mg_l"][rr, i12] + 1)

    goal24 = np.where(rel, 1.0, f[:, i12])
    _repair(rng, comps, base, f, i24, bad24, goal24, fallback24, a)

    # Non-relapsing responders stay improved at week 48 too.
    def bad48(c, rows):
        return resp[rows] & ~rel[rows] & (_das(c, i48, rows) - _das(c, i12, rows) > 0.6)

    def fallback48(c, rows):
        for k in c:
            c[k][rows, i48] = c[k][rows, i12]

    _repair(rng, comps, base, f, i48, bad48, f[:, i12].copy(), fallback48, a)

    # Prednisone: constant, stepwise taper in the intended responders.
    p = b["prednisone_mg_day"]
    dose0 = rng.choice(p["values"], size=n, p=p["probs"]).astype(float)
    taper = r["prednisone_taper"]
    steps = np.searchsorted(np.asarray(taper["weeks"], float), weeks, side="right")
    dose = np.where(roles["taper"][:, None], np.maximum(dose0[:, None] - taper["step_mg"] * steps[None, :], 0.0), dose0[:, None])
    comps["prednisone_mg_day"] = np.round(dose, 1)

    # Autoantibodies: slight fall in responders.
    nz = a["visit_noise"]["autoantibody_sdlog"]["value"]
    fall = 1 - r["autoantibody_fall"]["value"] * curves["s"]
    for col in ("anti_ccp_u_ml", "rf_iu_ml"):
        spec = b[col]
        pos = rng.random(n) < spec["positive_fraction"]["value"]
        level = np.where(pos, _draw(rng, {**spec["positive"], "dist": "lognormal"}, n), _draw(rng, {**spec["negative"], "dist": "lognormal"}, n))
        noise = _lognoise(rng, nz, (n, W))
        comps[col] = np.round(level[:, None] * fall * noise, 1)
    return comps


def _components(rng, base, f, rows, cols, a) -> dict[str, np.ndarray]:
    """Visit components for ``rows`` x ``cols`` scaled by the activity factor f (rounded, in range)."""
    nz = a["visit_noise"]
    r = a["response"]
    ff = f[np.ix_(rows, cols)]
    shape = ff.shape

    def b(k):
        return base[k][rows][:, None]

    jn = nz["joint_counts_sdlog"]["value"]
    out = {
        "tjc28": np.clip(np.rint(b("tjc28") * ff * _lognoise(rng, jn, shape)), 0, 28),
        "sjc28": np.clip(np.rint(b("sjc28") * ff * _lognoise(rng, jn, shape)), 0, 28),
        "esr_mm_h": np.clip(np.rint(b("esr_mm_h") * ff ** r["esr_exponent"]["value"] * _lognoise(rng, nz["esr_sdlog"]["value"], shape)), 1, 200),
        "crp_mg_l": np.clip(np.round(b("crp_mg_l") * ff ** r["crp_exponent"]["value"] * _lognoise(rng, nz["crp_sdlog"]["value"], shape), 1), 0, 500),
        "patient_global_mm": np.clip(np.rint(b("patient_global_mm") * ff + rng.normal(0, nz["patient_global_sd"]["value"], shape)), 0, 100),
    }
    haq = b("haq_di") * (1 - r["haq_share"]["value"] * (1 - ff)) + rng.normal(0, nz["haq_sd"]["value"], shape)
    out["haq_di"] = np.clip(np.round(haq * 8) / 8, 0, 3)
    return out


def _das(c: dict, i: int, rows: np.ndarray) -> np.ndarray:
    return scores.das28_esr(c["tjc28"][rows, i], c["sjc28"][rows, i], c["esr_mm_h"][rows, i], c["patient_global_mm"][rows, i])


def _repair(rng, comps, base, f, col, bad: Callable, goal: np.ndarray, fallback: Callable, a, max_iter: int = 30) -> None:
    """Redraw column ``col`` for the rows that break a constraint, then fall back.

    ``bad(comps, rows)`` returns a mask over ``rows``. Only redrawn rows can change status, so after
    the first full check only those rows are re-checked. From the second try on, the activity
    factor of a row moves toward ``goal`` (a full-length vector) so that redraws converge.
    """
    rows = np.arange(f.shape[0])
    rows = rows[bad(comps, rows)]
    for k in range(max_iter):
        if rows.size == 0:
            return
        w = min(1.0, k / 10.0)
        sub = f[rows, col] + (goal[rows] - f[rows, col]) * w
        f_rows = np.empty((rows.size, 1))
        f_rows[:, 0] = sub
        new = _components(rng, {key: v[rows] for key, v in base.items()}, f_rows, np.arange(rows.size), np.array([0]), a)
        for key, v in new.items():
            comps[key][rows, col] = v[:, 0]
        rows = rows[bad(comps, rows)]
    if rows.size:
        fallback(comps, rows)
        still = rows[bad(comps, rows)]
        if still.size:  # pragma: no cover - the fallbacks satisfy the constraints by construction
            raise RuntimeError(f"simulator could not satisfy a calibration constraint for {still.size} patients")


def _ifn_gamma(rng, weeks, roles, timing, a, effect: float) -> np.ndarray:
    """IFN-γ (pg/mL), shape (n, W): low in non-responders, Before/After profiles in responders."""
    ia = a["ifn_gamma"]
    n, W = roles["group"].size, weeks.size
    t = weeks[None, :]
    low = _draw(rng, ia["low_level"], n)[:, None] * _lognoise(rng, ia["visit_noise_sdlog"]["value"], (n, W))
    hb = ia["high_baseline_extra"]
    decay = np.inf if roles.get("model") == "time_null" else hb["decay_weeks"]
    high_extra = _draw(rng, {**hb, "dist": "lognormal"}, n)[:, None] * np.exp(-t / decay)
    num, den = ia["controls_high_baseline_fraction"]["value"]
    ctrl_high = (~roles.get("treated", roles["msct"])) & (rng.random(n) < num / den)
    has_high = roles["before"] | ctrl_high
    amp_spec = ia["infusion_peak"]
    amp = np.exp(np.log(amp_spec["median"]) + amp_spec["sdlog"] * timing["z"])[:, None]
    d = t - timing["peak_week"][:, None]
    bump = np.where(d >= 0, np.exp(-np.maximum(d, 0) / ia["decay_weeks"]["value"]), np.exp(-((d / ia["rise_width_weeks"]["value"]) ** 2)))
    x = low + has_high[:, None] * high_extra + roles["resp"][:, None] * amp * bump
    x = np.round(x, 2)
    # Enforce the subgroup definitions at the threshold.
    bef = roles["before"]
    x[bef, 0] = np.maximum(x[bef, 0], ia["before_week0_floor"]["value"])
    aft = roles["resp"] & ~bef
    x[aft, 0] = np.minimum(x[aft, 0], ia["after_week0_ceiling"]["value"])
    pk = np.flatnonzero(aft)
    pcol = np.searchsorted(weeks, timing["peak_week"][pk])
    x[pk, pcol] = np.maximum(x[pk, pcol], ia["peak_floor"]["value"])
    # ifng_effect: shuffle the profiles of a random (1 - effect) share of the MSCT arm.
    keep = rng.random(n) < effect
    pool = np.flatnonzero(roles.get("treated", roles["msct"]) & ~keep)
    x[pool] = x[rng.permutation(pool)]
    return x


def _immune(rng, weeks, roles, curves, a) -> dict[str, np.ndarray]:
    """Treg, Th17 and cytokines (before censoring), shape (n, W)."""
    b, r, nz = a["baseline"], a["response"], a["visit_noise"]
    n, W = roles["group"].size, weeks.size
    e, s, pulse = curves["e"], curves["s_cyt"], curves["pulse"]

    def noise(key):
        return _lognoise(rng, nz[key]["value"], (n, W))

    treg0 = _draw(rng, b["treg_pct"], n)[:, None]
    th170 = _draw(rng, b["th17_pct"], n)[:, None]
    out = {
        "treg_pct": np.round(treg0 * (1 + r["treg_rise"]["value"] * e) * noise("cells_sdlog"), 2),
        "th17_pct": np.round(np.maximum(th170 * (1 - r["th17_fall"]["value"] * e) * noise("cells_sdlog"), 0.05), 2),
    }
    il6, tnf = r["il_6_fall"], r["tnf_a_fall"]
    out["il_6"] = _draw(rng, b["il_6"], n)[:, None] * (1 - il6["immune"] * e - il6["gradual"] * s) * noise("cytokines_sdlog")
    out["tnf_a"] = _draw(rng, b["tnf_a"], n)[:, None] * (1 - tnf["immune"] * e - tnf["gradual"] * s) * noise("cytokines_sdlog")
    out["il_10"] = _draw(rng, b["il_10"], n)[:, None] * (1 + r["il_10_pulse"]["amplitude"] * pulse) * noise("cytokines_sdlog")
    for col in ("il_1b", "il_2r", "il_8"):
        out[col] = _draw(rng, b[col], n)[:, None] * noise("stable_cytokines_sdlog")
    for col in ("il_6", "tnf_a", "il_10", "il_1b", "il_8"):
        out[col] = np.round(out[col], 2)
    out["il_2r"] = np.round(out["il_2r"], 1)
    return out


def lab_correlations(path: str | Path | None = None) -> pd.DataFrame:
    """The labs' within-patient correlation ranges (``data/published/lab_correlations.csv``, each row sourced).

    Columns ``column``, ``cv_within``, ``cv_between`` (%, biological variation), ``icc`` (their
    test-retest correlation ``cv_between² / (cv_between² + cv_within²)``), ``rho_low``, ``rho_high`` (the range
    a simulated cohort's week-0/week-48 correlation is drawn from), ``worse`` ("up" or "down": the direction
    of harm), ``source``.

    Examples
    --------
    >>> t = lab_correlations()
    >>> bool(((t["rho_low"] <= t["rho_high"]) & (t["rho_high"] <= 1)).all())
    True
    """
    return pd.read_csv(path or _PUBLISHED / "lab_correlations.csv", encoding="utf-8")


def _labs(rng, weeks, roles, curves, a, shifts: dict | None = None, no_change: bool = False) -> dict[str, np.ndarray]:
    """Safety labs drawn from Table 1's means and SDs at weeks 0 and 48 (see assumptions.yaml, table1).

    Each group's week-0 and week-48 values are drawn (not standardised) from normal distributions with
    Table 1's group means and SDs; their within-patient correlation is drawn, per lab and cohort,
    uniformly from the lab's range in ``lab_correlations.csv``. ``shifts`` (column -> per-patient change in
    SDs of week 0, positive up) adds a change by the final visit (models ``harm`` and ``shift``);
    ``no_change`` draws week 48 from week 0's distribution (``time_null``).
    """
    t1 = pd.read_csv(_ROOT / a["paper_targets"]["table1"]["value"])
    ranges = lab_correlations().set_index("column")
    ta = a["table1"]
    dec = ta["decimals"]["value"]
    limits = {c.name: (c.min, c.max) for c in dictionary.columns("visits")}
    n, W = roles["group"].size, weeks.size
    group = roles["group"]
    h = np.where(roles["resp"][:, None], curves["g"], np.broadcast_to(weeks[None, :] / weeks[-1], (n, W)))
    out = {}
    for col, rows in t1.groupby("column", sort=False):
        p = rows.set_index("group")
        rho = rng.uniform(ranges.loc[col, "rho_low"], ranges.loc[col, "rho_high"])
        label = np.where(roles["resp"], "Responder", "Non-responder")
        z0 = rng.normal(size=n)
        z1 = rho * z0 + np.sqrt(1 - rho**2) * rng.normal(size=n)
        v0 = p.loc[label, "before_mean"].to_numpy() + p.loc[label, "before_pm"].to_numpy() * z0
        after = "before" if no_change else "after"
        v48 = p.loc[label, f"{after}_mean"].to_numpy() + p.loc[label, f"{after}_pm"].to_numpy() * z1
        sd = float(p["before_pm"].mean())
        if shifts and col in shifts:
            v48 = v48 + shifts[col] * sd
        x = v0[:, None] + (v48 - v0)[:, None] * h + rng.normal(0, 0.25 * sd, (n, W))
        x[:, 0] = v0
        x[:, -1] = v48
        lo, hi = limits[col]
        out[col] = np.round(np.clip(x, lo, hi), dec[col])
    return out


def _lab_changes(model: str, roles: dict) -> dict:
    """The ``_labs`` keyword arguments of a model: ``harm`` (MSCT arm worse by one margin), ``shift`` (Table 1's
    unstarred labs moved by one margin in the direction of their Table 1 change), ``time_null`` (no change)."""
    if model == "time_null":
        return {"no_change": True}
    if model not in ("harm", "shift"):
        return {}
    t1 = pd.read_csv(_PUBLISHED / "table1.csv")
    out = {}
    if model == "harm":
        worse = lab_correlations().set_index("column")["worse"]
        for col in t1["column"].unique():
            out[col] = np.where(roles["msct"], MARGIN_SD * (1.0 if worse[col] == "up" else -1.0), 0.0)
        return {"shifts": out}
    for col, rows in t1.groupby("column", sort=False):
        x = np.zeros(roles["group"].size)
        for code, label in ((_RESP, "Responder"), (_NONRESP, "Non-responder")):
            r = rows.loc[rows["group"] == label].iloc[0]
            if str(r["after_flag_significant"]).lower() == "true":
                continue
            sign = 1.0 if r["after_mean"] >= r["before_mean"] else -1.0
            x[roles["group"] == code] = MARGIN_SD * sign
        r = rows.loc[rows["group"] == "Non-responder"].iloc[0]
        x[roles["group"] == _CTRL] = MARGIN_SD * (1.0 if r["after_mean"] >= r["before_mean"] else -1.0)
        out[col] = x
    return {"shifts": out}


def _imbalance(patients: pd.DataFrame, clinical: dict, immune: dict, ifn: np.ndarray, labs: dict, roles: dict,
               a: dict) -> None:
    """``imbalance``: responders 0.5 SD above the others at week 0 (age, disease duration, HAQ, ESR, CRP, cells,
    cytokines, IFN-γ, labs), a difference kept at every visit; in place."""
    resp = roles["resp"]
    d = a["demographics"]
    patients.loc[resp, "age"] = patients.loc[resp, "age"] + int(round(MARGIN_SD * d["age"]["sd"]))
    dur = patients.loc[resp, "disease_duration_years"] * np.exp(MARGIN_SD * d["disease_duration_years"]["sdlog"])
    patients.loc[resp, "disease_duration_years"] = np.round(dur, 1)
    for values in (clinical, immune, labs, {"ifn_g": ifn}):
        for col, x in values.items():
            if col in ("tjc28", "sjc28", "esr_mm_h", "patient_global_mm", "prednisone_mg_day"):
                continue  # the DAS28 components keep the week-12 EULAR groups
            base = x[:, 0].astype(float)
            sd = np.nanstd(base, ddof=1)
            step = MARGIN_SD * sd
            x[resp] = x[resp] + step


def _shift(clinical: dict, immune: dict, weeks: np.ndarray, response_week: float, resp: np.ndarray) -> None:
    """``shift``: each of :data:`SHIFT_MARKERS` moves by one margin (half the responders' baseline SD, as the
    chapters' equivalence rule computes it), reached by the response week (where the paper compares them) and kept
    to the final visit; in place.

    A rise adds the margin. A fall scales every value by ``1 - margin / mean`` (a skewed marker cannot lose a
    constant amount); when the margin is more than 90 % of the responders' mean (a marker whose half SD nearly
    equals its mean, e.g. RF in some cohorts) no fall of one margin is possible and the marker rises instead.
    """
    ramp = np.clip(weeks / response_week, 0.0, 1.0)[None, :]
    for col, way in SHIFT_MARKERS.items():
        x = clinical.get(col, immune.get(col))
        base = x[resp, 0] if resp.sum() >= 2 else x[:, 0]
        margin = MARGIN_SD * float(np.std(base, ddof=1))
        mean = float(np.mean(base))
        if way == "down" and mean > 0 and margin <= 0.9 * mean:
            x *= 1.0 - (margin / mean) * ramp
        else:
            x += margin * ramp


def _assemble(ids, weeks, roles, values: dict[str, np.ndarray], *, design: Design) -> pd.DataFrame:
    """Long visit table in contract column order, drop-outs' late visits removed, censoring tokens.

    Only the design's visit weeks are kept; drop-outs are not seen after the design's response week.
    """
    n, W = ids.size, weeks.size
    keep = ~(roles["lost"][:, None] & (weeks[None, :] > design.response_week))
    keep &= np.isin(weeks, np.asarray(design.visit_weeks, dtype=float))[None, :]
    flat = keep.ravel()
    data = {"patient_id": np.repeat(ids, W)[flat], "week": np.tile(weeks.astype(np.int64), n)[flat]}
    int_cols = {"tjc28", "sjc28", "esr_mm_h", "patient_global_mm"}
    for col in dictionary.columns("visits"):
        if col.name in data:
            continue
        v = values[col.name].ravel()[flat]
        if col.name in int_cols:
            data[col.name] = v.astype(np.int64)
            continue
        v = np.round(v, _VISIT_DECIMALS.get(col.name, 2))
        if col.lloq is not None or col.uloq is not None:
            obj = v.astype(object)
            if col.lloq is not None:
                obj[v < col.lloq] = _BELOW
            if col.uloq is not None:
                obj[v > col.uloq] = _ABOVE
            v = obj
        data[col.name] = v
    return pd.DataFrame(data)


def _adverse_events(rng, patients, roles, counts, a, *, design: Design) -> pd.DataFrame:
    """Infusion reactions in the MSCT arm and a few non-serious unrelated events in both arms.

    Under ``null_treatment`` the infusion reactions fall on patients of either arm. Events fall up to
    the design's final week (drop-outs: up to its response week).
    """
    ids = patients["patient_id"].to_numpy()
    msct = np.flatnonzero(roles["msct"])
    ctrl = np.flatnonzero(~roles["msct"])
    treated = np.flatnonzero(roles.get("treated", roles["msct"]))
    pool = treated if treated.size else np.arange(ids.size)
    react = rng.choice(pool, size=min(counts["infusion_reaction"], pool.size), replace=False)
    other = a["adverse_events"]["other_per_arm"]
    num, den = other["value"]
    k_m = max(1, int(round(msct.size * num / den)))
    k_c = max(1, int(round(ctrl.size * num / den)))
    harm = roles.get("model") == "harm"
    if harm:  # adverse-event rate ratio 2 in the MSCT arm
        k_m = min(msct.size, 2 * k_m)
    oth = np.concatenate([rng.choice(msct, size=k_m, replace=False), rng.choice(ctrl, size=k_c, replace=False)])
    last = np.where(roles["lost"][oth], design.response_week, design.final_week)
    weeks_o = 1 + np.floor(rng.random(oth.size) * last).astype(np.int64)
    terms = np.asarray(other["terms"], dtype=object)
    ae = pd.DataFrame(
        {
            "patient_id": np.concatenate([ids[react], ids[oth]]),
            "week": np.concatenate([np.zeros(react.size, np.int64), weeks_o]),
            "event": np.concatenate([np.where(np.arange(react.size) % 2 == 0, "fever", "chills").astype(object), terms[rng.integers(0, terms.size, oth.size)]]),
            "serious": False,
            "related": np.concatenate([np.ones(react.size, bool), np.zeros(oth.size, bool)]),
        }
    )
    if harm:  # serious adverse events, GVHD and infections, each in 5 % of treated patients (binomial)
        rate = a["adverse_events"]["harm_rate"]["value"]
        parts = [ae]
        for event in a["adverse_events"]["harm_events"]["value"]:
            k = min(int(rng.binomial(treated.size, rate)), treated.size)
            who = rng.choice(treated, size=k, replace=False)
            parts.append(pd.DataFrame({
                "patient_id": ids[who], "week": 1 + np.floor(rng.random(k) * design.response_week).astype(np.int64),
                "event": np.full(k, event, dtype=object), "serious": True, "related": True}))
        ae = pd.concat(parts, ignore_index=True)
    return ae.sort_values(["patient_id", "week", "event"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# writing


def cohort_meta(*, seed: int = 2018, n_patients: int = 105, ifng_effect: float = 1.0, design: Design | None = None,
                omit: Iterable[str] | str | None = None, model: str = "calibrated") -> dict:
    """The ``dataset.yaml`` content for a simulated cohort (no dates, so output is reproducible).

    A design other than the paper's is written as the ``design:`` block (what the validator and the
    chapters read); left-out measures as ``omitted:`` and a null model as ``model:``.

    Examples
    --------
    >>> cohort_meta(seed=1)["synthetic"]
    True
    >>> d = Design.from_mapping({"visit_weeks": [0, 2, 4, 8, 12, 24], "final_week": 24})
    >>> cohort_meta(design=d, omit=["immune"])["design"]["visit_weeks"]
    [0, 2, 4, 8, 12, 24]
    """
    command = f"python -m analysis simulate --seed {int(seed)} --patients {int(n_patients)}"
    extra: dict = {}
    if design is not None and not design.is_paper:
        extra["design"] = design.as_dict()
        command += (f" --visit-weeks {','.join(map(str, design.visit_weeks))} --response-week {design.response_week}"
                    f" --final-week {design.final_week}")
    dropped = omitted_columns(omit)
    if dropped:
        groups = [omit] if isinstance(omit, str) else list(omit)
        extra["omitted"] = list(dropped)
        command += "".join(f" --omit {g}" for g in groups)
    if model != "calibrated":
        extra["model"] = model
        command += f" --model {model}"
    return {
        "synthetic": True,
        "generator": "analysis.simulate",
        "seed": int(seed),
        "n_patients": int(n_patients),
        "ifng_effect": float(0.0 if model == "null_ifng" else ifng_effect),
        "assumptions": "data/published/assumptions.yaml",
        "command": command + " --out <folder>",
        **extra,
    }


_README = """# SYNTHETIC data — not patient data

These files are **synthetic**: made up by a computer program, not measured on anyone. The trial's real data
(Yang et al. 2018, J Transl Med 16:165) are not public, so the book runs on this stand-in.

How it was made: `analysis/simulate.py` draws {n} patients with random seed {seed} (IFN-γ effect {effect}).
It is calibrated to reproduce the paper's design and qualitative findings, scaled to the cohort size
(the paper: 52 MSCT / 53 control; 28 responders / 24 non-responders): here {n_msct} MSCT / {n_ctrl} control
patients and exactly {n_resp} EULAR responders and {n_nonresp} non-responders at week 12 (computed with
`analysis.science.scores`), the Fig. 1 drop-outs, Table 1's safety-lab means, the directions of change of Figs. 2-5
and the IFN-γ pattern (Before/After subgroups). Every number the paper does not give is an assumption listed,
with its source, in `data/published/assumptions.yaml`. Agreement between this cohort and the paper therefore
shows that the book's code works, not that the paper is right.

Files: `patients.csv`, `visits.csv`, `adverse_events.csv` (columns described by the book's data dictionary),
`dataset.yaml` (how the files were generated). Censored assay results are written `<LLOQ` / `>ULOQ`.

Regenerate (same seed, byte-identical files; add `--overwrite` to replace the files in a non-empty folder):

    python -m analysis simulate --seed {seed} --patients {n} --out data/synthetic
"""


def _normalised_meta(meta: dict) -> dict:
    """``cohort_meta`` keys first (so the CLI and `generate` write identical files), then any extras."""
    known = {"seed": meta.get("seed"), "n_patients": meta.get("n_patients"), "ifng_effect": meta.get("ifng_effect")}
    if all(v is not None for v in known.values()):
        base = cohort_meta(**known)
        if "command" in meta:
            base["command"] = meta["command"]
    else:
        base = {"synthetic": True, "generator": "analysis.simulate"}
    extra = {k: v for k, v in meta.items() if k not in base}
    return {**base, **extra, "synthetic": True}


def _readme(tables: dict, meta: dict) -> str:
    p = tables["patients"]
    n = len(p)
    n_msct = int((p["arm"] == "MSCT").sum())
    c = group_counts(n) if n >= 20 else {"responder": "?", "nonresponder": "?"}
    text = _README.format(
        n=n, seed=meta.get("seed", "?"), effect=meta.get("ifng_effect", "?"), n_msct=n_msct,
        n_ctrl=n - n_msct, n_resp=c["responder"], n_nonresp=c["nonresponder"],
    )
    extra = []
    if isinstance(meta.get("design"), dict):
        d = meta["design"]
        extra.append(f"Design (the `design:` block of `dataset.yaml`): visits at weeks "
                     f"{', '.join(map(str, d.get('visit_weeks', [])))}; EULAR response judged at week "
                     f"{d.get('response_week')}; final visit at week {d.get('final_week')}. The calibration targets "
                     "sit at the paper's weeks (12, 24, 48), which were simulated and then dropped where the design "
                     "has no such visit.")
    if meta.get("omitted"):
        extra.append(f"Not measured in this trial (columns left out): {', '.join(meta['omitted'])}.")
    if meta.get("model") and meta["model"] != "calibrated":
        extra.append(f"Model: {meta['model']} (see `analysis.science.simulate.simulate`).")
    if extra:
        text += "\n" + "\n\n".join(extra) + "\n"
    if meta.get("command"):
        text = text.replace(f"python -m analysis simulate --seed {meta.get('seed')} --patients {n} --out data/synthetic",
                            meta["command"].replace("<folder>", "data/synthetic"))
    return text


def write_cohort(tables: dict[str, pd.DataFrame], out_dir, *, meta: dict, overwrite: bool = False) -> list[Path]:
    """Write a simulated cohort: three CSVs, ``dataset.yaml`` and ``README.md``.

    Parameters
    ----------
    tables : dict of DataFrame
        Output of `simulate` (``patients``, ``visits``, ``adverse_events``).
    out_dir : str or Path
        Target folder; created if missing.
    meta : dict
        Written to ``dataset.yaml`` (see `cohort_meta`); ``synthetic: true`` is always set.
    overwrite : bool
        Refuse to write into a non-empty folder unless True (files of the same name are replaced,
        other files are left alone).

    Returns
    -------
    list of Path
        The files written.

    Notes
    -----
    UTF-8, ``"\\n"`` line endings, values already rounded by `simulate` and written with
    Python's shortest float repr, booleans as ``true``/``false``; no dates, so the same seed
    gives byte-identical files.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_cohort(simulate(n_patients=40), tmp, meta=cohort_meta(n_patients=40))
    ...     sorted(p.name for p in paths)
    ['README.md', 'adverse_events.csv', 'dataset.yaml', 'patients.csv', 'visits.csv']
    """
    missing = {"patients", "visits", "adverse_events"} - set(tables)
    if missing:
        raise ValueError(f"`tables` lacks {sorted(missing)}; expected the output of simulate()")
    if not isinstance(meta, dict):
        raise TypeError(f"`meta` must be a dict, got {type(meta).__name__}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"`out_dir` {str(out)!r} exists and is not a folder.")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise UserError(
            f"`out_dir` {str(out)!r} is not empty; refusing to write a synthetic cohort into it. "
            "Choose an empty or new folder, or pass overwrite=True (CLI: --overwrite)."
        )
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in ("patients", "visits", "adverse_events"):
        df = tables[name].copy()
        for c in df.columns:
            if df[c].dtype == bool:
                df[c] = np.where(df[c].to_numpy(), "true", "false")
        path = out / f"{name}.csv"
        df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        paths.append(path)
    full_meta = _normalised_meta(meta)
    path = out / "dataset.yaml"
    path.write_text(yaml.safe_dump(full_meta, sort_keys=False, allow_unicode=True), encoding="utf-8", newline="\n")
    paths.append(path)
    path = out / "README.md"
    text = _readme(tables, full_meta)
    path.write_text(text, encoding="utf-8", newline="\n")
    paths.append(path)
    return paths


def generate(out_dir, *, seed: int = 2018, n_patients: int = 105, ifng_effect: float = 1.0, overwrite: bool = False,
             design: Design | None = None, omit: Iterable[str] | str | None = None,
             model: str = "calibrated") -> list[Path]:
    """Simulate and write in one call (what ``python -m analysis simulate`` does).

    ``design``, ``omit`` and ``model`` as in :func:`simulate`; the design and the left-out measures are
    written into ``dataset.yaml``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     len(generate(tmp, n_patients=30))
    5
    """
    tables = simulate(seed=seed, n_patients=n_patients, ifng_effect=ifng_effect, design=design, omit=omit, model=model)
    meta = cohort_meta(seed=seed, n_patients=n_patients, ifng_effect=ifng_effect, design=design, omit=omit, model=model)
    return write_cohort(tables, out_dir, meta=meta, overwrite=overwrite)
