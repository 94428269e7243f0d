"""A second look: current methods beside the paper's, one section per chapter.

The paper tests each visit on its own, defines relapse at one visit and calls IFN-γ a predictor on the
strength of peaks inside the response window. This module gives each chapter the analysis a statistician
would run today on the same data, as pure functions on the tidy tables of :func:`analysis.science.derive.derive`:

* **disease activity** — a linear mixed model over all visits (:func:`mixed_models`: group × week, week
  categorical, a random intercept per patient and a random slope where it converges), its marginal means
  and the group × time test; time to relapse among responders as a Kaplan–Meier curve
  (:func:`relapse_times`, :func:`kaplan_meier`), relapse by the chapter's rule
  (:func:`analysis.chapters.disease_activity.analysis.relapse_checks`);
* **immune function and inflammation** — the same model for the Treg/Th17 ratio and the cytokines on the log
  scale and on ranks (values below the LLOQ tied at the lowest rank), Holm and Benjamini–Hochberg over the
  family of markers (:func:`marker_models`);
* **IFN-γ** — logistic prediction of response from baseline (pre-infusion) IFN-γ and clinical covariates,
  its cross-validated AUC over repeated stratified k-fold splits and a calibration table
  (:func:`prediction_models`), beside the paper's circular peak-in-window predictor;
* **safety** — adverse-event rates per patient-year with exact Poisson intervals (:func:`ae_rates`) and the
  Table 1 labs by ANCOVA (:func:`ancova_labs`).

Every section function returns a :class:`Look`: named tidy tables, a ``reason`` (empty when the analysis
ran; otherwise why it could not, for a "Not available with these data" note) and ``facts`` (plain values to
glue). Weeks always come from the design (``derived.design``). Nothing is printed or written here; figures
are returned, never saved or shown. The second-look claims are judged by :func:`judge`.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special as _special
from scipy import stats as sps

from analysis.claims.rules import format_p, z_quantile
from analysis.science import stats
from analysis.core.checks import check_choice as _check_choice, check_frame as _check_frame

__all__ = [
    "CLAIM_COLUMNS",
    "GROUPS",
    "LABELS",
    "Look",
    "activity_section",
    "ae_rates",
    "ancova",
    "ancova_labs",
    "auc",
    "beside_per_visit",
    "beside_t_tests",
    "calibration_table",
    "cv_auc",
    "figure_ancova",
    "figure_ae_rates",
    "figure_km",
    "figure_marginal_means",
    "figure_markers",
    "figure_prediction",
    "glue_values",
    "ifng_section",
    "immune_section",
    "inflammation_section",
    "judge",
    "kaplan_meier",
    "load_claims",
    "marker_models",
    "mixed_model",
    "mixed_models",
    "poisson_exact_ci",
    "prediction_data",
    "prediction_models",
    "rate_ratio_exact",
    "relapse_times",
    "safety_section",
    "stratified_folds",
    "unavailable",
]

#: The three analysis groups, in display order (the first is the reference of the contrasts' sign).
GROUPS: tuple[str, ...] = ("Responder", "Non-responder", "Control")
#: Weeks per year for person-time (365.25 days / 7).
WEEKS_PER_YEAR = 365.25 / 7
#: Display labels of the outcomes and markers modelled here.
LABELS: dict[str, str] = {
    "das28": "DAS28", "haq_di": "HAQ-DI", "treg_th17_ratio": "Treg/Th17 ratio", "treg_pct": "Treg (%)",
    "th17_pct": "Th17 (%)", "anti_ccp_u_ml": "anti-CCP", "rf_iu_ml": "RF", "il_6": "IL-6", "tnf_a": "TNF-α",
    "il_10": "IL-10", "il_1b": "IL-1β", "il_2r": "IL-2R", "il_8": "IL-8", "ifn_g": "IFN-γ",
}
_BELOW, _ABOVE = "<LLOQ", ">ULOQ"
_RANDOM = ("auto", "slope", "intercept")
_TRANSFORMS = ("none", "log", "rank")
#: Columns of the second-look claims file: the registry's columns plus ``basis`` and ``basis_reason``.
CLAIM_COLUMNS: tuple[str, ...] = ("claim_id", "chapter", "claim", "location", "published", "kind", "expected",
                                  "tolerance", "basis", "basis_reason")


@dataclass(frozen=True)
class Look:
    """What one second-look section returns.

    Attributes
    ----------
    tables : dict of str to DataFrame
        Named tidy tables (empty, with their columns, when not available).
    reason : str
        Empty when the analysis ran; otherwise why it could not (shown as "Not available with these data: …").
    facts : dict
        Plain Python values for the page's glue and for :func:`judge`.

    Examples
    --------
    >>> look = Look({"t": pd.DataFrame()}, reason="no responders")
    >>> look.available, unavailable(look.reason)
    (False, 'Not available with these data: no responders.')
    """

    tables: dict = field(default_factory=dict)
    reason: str = ""
    facts: dict = field(default_factory=dict)

    @property
    def available(self) -> bool:
        """True when the section's analysis ran."""
        return not self.reason

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def _demo_cohort(n_patients: int = 40, seed: int = 1):
    """A small simulated cohort for the examples (``patients``, ``visits``, ``adverse_events``, ``meta``)."""
    from types import SimpleNamespace

    from analysis.science.simulate import simulate

    return SimpleNamespace(**simulate(seed=seed, n_patients=n_patients), meta={})


def unavailable(reason: str) -> str:
    """The note a page shows when a section cannot run: starts with "Not available with these data".

    Examples
    --------
    >>> unavailable("fewer than 2 patients per group")
    'Not available with these data: fewer than 2 patients per group.'
    """
    reason = str(reason).strip().rstrip(".")
    return f"Not available with these data: {reason}." if reason else ""


def _fmt(x, digits: int = 2) -> str:
    """A number as short text; ``'n/a'`` for NaN/None."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}f}"


# =========================================================================== mixed models
_TEST_COLS = ["outcome", "scale", "n_patients", "n_obs", "weeks", "random", "lr_stat", "lr_df", "p_lr",
              "wald_F", "df1", "df2", "p_wald", "note"]
_MEAN_COLS = ["outcome", "scale", "group", "week", "n", "mean", "se", "ci_low", "ci_high"]
_CONTRAST_COLS = ["outcome", "scale", "kind", "week", "contrast", "estimate", "se", "ci_low", "ci_high", "p"]


class _NotFitted(Exception):
    """The model cannot be fitted on these data (message: why)."""


def _transform(d: pd.DataFrame, dv: str, transform: str) -> pd.Series:
    """The modelled value: ``dv`` itself, its natural log, or its mid-rank (censored values tied at the ends).

    Missing values stay missing (they are not ranked), as pandas' ``rank(method="average")`` leaves them.
    """
    y = pd.to_numeric(d[dv], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if transform == "log":
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.log(np.where(y > 0, y, np.nan))
    elif transform == "rank":
        if f"{dv}_flag" in d.columns:
            flag = d[f"{dv}_flag"]
            below = flag.eq(_BELOW).to_numpy(dtype=bool, na_value=False)
            above = flag.eq(_ABOVE).to_numpy(dtype=bool, na_value=False)
            y = np.where(below, -np.inf, np.where(above, np.inf, y))
        ranked = np.full(y.shape, np.nan)
        known = ~np.isnan(y)
        ranked[known] = sps.rankdata(y[known], method="average")
        y = ranked
    return pd.Series(y, index=d.index, dtype=float)


def _design(groups: Sequence, weeks: Sequence, g: np.ndarray, w: np.ndarray, *, interaction: bool = True):
    """Dummy-coded fixed-effects matrix: intercept, groups, weeks (and group × week); names of the columns."""
    cols, names = [np.ones(len(g))], ["Intercept"]
    for lev in groups[1:]:
        cols.append((g == lev).astype(float))
        names.append(f"group[{lev}]")
    for wk in weeks[1:]:
        cols.append((w == wk).astype(float))
        names.append(f"week[{wk}]")
    if interaction:
        for lev in groups[1:]:
            for wk in weeks[1:]:
                cols.append(((g == lev) & (w == wk)).astype(float))
                names.append(f"group[{lev}]:week[{wk}]")
    return np.column_stack(cols), names


@dataclass(frozen=True)
class _Fit:
    """What :func:`mixed_model` needs from a fit: fixed effects, their covariance, log-likelihood."""

    beta: np.ndarray
    cov: np.ndarray
    llf: float
    note: str = ""
    theta: np.ndarray | None = None


def _ri_fit(y: np.ndarray, X: np.ndarray, subject: np.ndarray, *, reml: bool) -> _Fit:
    """Random-intercept linear mixed model by its exact profile likelihood (the model MixedLM fits).

    With θ = τ²/σ², each patient's covariance is σ²(I + θJ), whose inverse and determinant are closed-form;
    β and σ² are profiled out and the (restricted) log-likelihood is maximised over log θ, with θ = 0 (no
    between-patient variance) as the boundary candidate. The fixed-effects covariance is σ̂²(X'V̄⁻¹X)⁻¹.
    """
    from scipy.optimize import minimize_scalar

    codes, _ = pd.factorize(subject)
    n_i = np.bincount(codes).astype(float)
    N, p = X.shape
    SX = np.zeros((n_i.size, p))
    np.add.at(SX, codes, X)
    Sy = np.bincount(codes, weights=y)
    XtX, Xty, yty = X.T @ X, X.T @ y, float(y @ y)

    def parts(theta):
        c = theta / (1 + n_i * theta)
        A = XtX - (SX * c[:, None]).T @ SX
        b = Xty - (SX * c[:, None]).T @ Sy
        beta = np.linalg.solve(A, b)
        Q = yty - float(np.sum(c * Sy ** 2)) - float(b @ beta)
        return A, beta, max(Q, 1e-300), float(np.sum(np.log1p(n_i * theta)))

    def negll(theta):
        A, _, Q, logdet = parts(theta)
        if reml:
            m = N - p
            return 0.5 * (m * np.log(2 * np.pi * Q / m) + logdet + np.linalg.slogdet(A)[1] + m)
        return 0.5 * (N * np.log(2 * np.pi * Q / N) + logdet + N)

    opt = minimize_scalar(lambda t: negll(np.exp(t)), bounds=(-18.0, 10.0), method="bounded",
                          options={"xatol": 1e-10})
    theta = float(np.exp(opt.x))
    if negll(0.0) <= negll(theta):
        theta = 0.0
    A, beta, Q, _ = parts(theta)
    sigma2 = Q / (N - p if reml else N)
    return _Fit(beta=beta, cov=sigma2 * np.linalg.inv(A), llf=-float(negll(theta)),
                note="" if theta > 0 else "between-patient variance estimated at zero")


def _lmm_fit(y: np.ndarray, X: np.ndarray, subject: np.ndarray, Z: np.ndarray, *, reml: bool,
             start: np.ndarray | None = None) -> _Fit:
    """Linear mixed model with correlated random effects ``Z`` per patient, by its profiled likelihood.

    The parametrisation of lme4 (Bates et al. 2015, J Stat Softw 67(1), section 3): the random effects'
    covariance is σ²ΛΛ' with Λ lower triangular; β and σ² are profiled out, so the (restricted)
    log-likelihood is a function of Λ's q(q+1)/2 entries only, maximised by L-BFGS-B with the diagonal of Λ
    bounded at zero. Per patient only q × q systems are solved, all patients at once (batched), from the
    sums Z'Z, Z'X, Z'y computed once: the model statsmodels ``MixedLM`` fits, with the same estimates
    (tested), without its per-patient loops. The fixed-effects covariance is σ̂²(X'V̄⁻¹X)⁻¹.

    ``start`` is the starting value of Λ's entries (row-major lower triangle; default: the identity): the
    fits of one outcome start each from the last one's optimum.

    Raises :class:`_NotFitted` when the optimiser does not converge or the random-effects covariance is
    singular (the slope model is then not kept, as before with MixedLM).
    """
    from scipy.optimize import minimize

    codes, _ = pd.factorize(subject)
    m = int(codes.max()) + 1
    N, p = X.shape
    q = Z.shape[1]
    if np.linalg.matrix_rank(Z.T @ Z) < q:
        raise _NotFitted("the random effects are not identifiable (their design has rank below its columns)")
    ZtZ = np.zeros((m, q, q))
    np.add.at(ZtZ, codes, Z[:, :, None] * Z[:, None, :])
    ZtX = np.zeros((m, q, p))
    np.add.at(ZtX, codes, Z[:, :, None] * X[:, None, :])
    Zty = np.zeros((m, q))
    np.add.at(Zty, codes, Z * y[:, None])
    ZtXy = np.concatenate([ZtX, Zty[:, :, None]], axis=2)
    XtX, Xty, yty = X.T @ X, X.T @ y, float(y @ y)
    rows, cols = np.tril_indices(q)
    eye = np.eye(q)
    denom = N - p if reml else N

    def parts(theta):
        lam = np.zeros((q, q))
        lam[rows, cols] = theta
        M = lam.T @ ZtZ @ lam + eye  # (m, q, q)
        Bc = lam.T @ ZtXy  # (m, q, p + 1): Λ'Z'X and Λ'Z'y side by side
        if q == 1:
            det = M[:, 0, 0]
            u = Bc[:, 0, :]
            S = (u.T / det) @ u  # Σ (Λ'Z'[X y])' M⁻¹ Λ'Z'[X y]
        elif q == 2:
            a, b, d = M[:, 0, 0], M[:, 0, 1], M[:, 1, 1]
            det = a * d - b * b
            u, v = Bc[:, 0, :], Bc[:, 1, :]
            cross = (u.T * (b / det)) @ v
            S = (u.T * (d / det)) @ u - cross - cross.T + (v.T * (a / det)) @ v
        else:
            sign, logdets = np.linalg.slogdet(M)
            det = np.where(sign > 0, np.exp(logdets), 0.0)
            MB = np.linalg.solve(M, Bc)
            S = Bc.reshape(m * q, p + 1).T @ MB.reshape(m * q, p + 1)
        if not np.all(det > 0):
            raise np.linalg.LinAlgError("not positive definite")
        A = XtX - S[:p, :p]
        b_ = Xty - S[:p, p]
        beta = np.linalg.solve(A, b_)
        Q = yty - float(S[p, p]) - float(b_ @ beta)
        return A, beta, max(Q, 1e-300), float(np.log(det).sum()), lam

    def negll(theta):
        try:
            A, _, Q, logdet, _ = parts(theta)
        except np.linalg.LinAlgError:
            return np.inf
        value = denom * np.log(2 * np.pi * Q / denom) + logdet + denom
        if reml:
            value += np.linalg.slogdet(A)[1]
        return 0.5 * value

    start = eye[rows, cols].astype(float) if start is None else np.asarray(start, float)
    bounds = [(0.0, None) if r == c_ else (None, None) for r, c_ in zip(rows, cols)]
    def grad(theta, h=1e-6):
        g = np.empty_like(theta)
        for j in range(theta.size):
            e = np.zeros_like(theta)
            e[j] = h
            lo = theta - e
            if bounds[j][0] is not None and lo[j] < 0:  # one-sided at the bound
                g[j] = (negll(theta + e) - negll(theta)) / h
            else:
                g[j] = (negll(theta + e) - negll(lo)) / (2 * h)
        return g

    opt = minimize(negll, start, jac=grad, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 500, "ftol": 1e-10, "gtol": 1e-6})
    if not opt.success and np.isfinite(opt.fun):
        # L-BFGS-B stops "abnormally" when its line search cannot improve on a point that is already the
        # optimum up to rounding; accept it when the projected gradient there is small
        g = grad(opt.x)
        g[(opt.x <= 0) & (g > 0) & np.array([lo is not None for lo, _ in bounds])] = 0.0
        opt.success = bool(np.max(np.abs(g)) < 1e-3)
    if not opt.success or not np.isfinite(opt.fun):
        raise _NotFitted(f"did not converge ({opt.message})")
    A, beta, Q, _, lam = parts(opt.x)
    sigma2 = Q / denom
    cov_re = sigma2 * lam @ lam.T
    eig = np.linalg.eigvalsh(cov_re)
    if q > 1 and eig.min() <= 1e-6 * max(eig.max(), 1e-12):
        raise _NotFitted("did not converge (singular random-effects covariance)")
    return _Fit(beta=beta, cov=sigma2 * np.linalg.inv(A), llf=-float(opt.fun), theta=opt.x)


def _empty_model() -> dict[str, pd.DataFrame]:
    """The tables of a mixed model that was not fitted (columns only)."""
    return {"test": pd.DataFrame(columns=_TEST_COLS), "means": pd.DataFrame(columns=_MEAN_COLS),
            "contrasts": pd.DataFrame(columns=_CONTRAST_COLS)}


def mixed_model(data: pd.DataFrame, *, dv: str, weeks: Sequence[int], groups: Sequence[str] = GROUPS,
                subject: str = "patient_id", group: str = "group", week: str = "week",
                transform: str = "none", random: str = "auto", confidence: float = 0.95) -> Look:
    """Linear mixed model ``dv ~ group × week`` (week categorical), random intercept (and slope) per patient.

    Parameters
    ----------
    data : DataFrame
        Long table, one row per patient × visit (every observed visit: the model uses them all).
    dv : str
        Outcome column.
    weeks : sequence of int
        Visits in the model (from the design: ``derived.design.visit_weeks``); the first is the reference.
    groups : sequence of str
        Groups in the model; the first is the reference of the dummy coding.
    subject, group, week : str
        Column names.
    transform : {"none", "log", "rank"}
        Model ``dv`` itself, its natural log (values ≤ 0 dropped), or its mid-ranks over all observations,
        where a ``f"{dv}_flag"`` of ``"<LLOQ"`` ties the value at the lowest rank and ``">ULOQ"`` at the
        highest (a rank-transform analysis that needs no number for a censored value).
    random : {"auto", "slope", "intercept"}
        ``"intercept"``: random intercept per patient. ``"slope"``: random intercept and slope on time
        (weeks / last week), fitted by :func:`_lmm_fit`; kept only when its three fits converge and its
        random-effects covariance is positive definite. ``"auto"``: the slope model
        when it is kept, else the intercept model.
    confidence : float

    Returns
    -------
    Look
        Tables ``test`` (one row: ``lr_stat``, ``lr_df``, ``p_lr`` — likelihood-ratio test of group × week,
        ML fits with and without it — and ``wald_F``, ``df1``, ``df2``, ``p_wald`` — Wald F from the REML fit,
        denominator df by the between–within rule; ``random`` names the random effects used), ``means``
        (model-based mean per group × week with a normal-theory CI) and ``contrasts`` (between groups at each
        week, and each week against the first within each group). ``reason`` says why, when not fitted.

    Notes
    -----
    The random-intercept model is fitted by its exact profile (restricted) likelihood, closed-form per patient
    (:func:`_ri_fit`), and the random-slope model by the profiled likelihood of lme4's parametrisation
    (:func:`_lmm_fit`): the models statsmodels ``MixedLM`` fits, with the same estimates (tested), tens to
    hundreds of times faster, which matters for families of markers and for robustness runs.
    Patients with some visits missing still contribute (valid if missing at random given their observed
    values); the paper's per-visit tests drop or ignore them. On a balanced design with a random intercept
    only, the Wald F of group × week equals the interaction F of the classical mixed (split-plot) ANOVA.
    Group × week cells without data are removed by dropping the weeks where a group has no value.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ids = np.repeat(np.arange(20), 3)
    >>> d = pd.DataFrame({"patient_id": ids, "week": np.tile([0, 4, 12], 20),
    ...                   "group": np.where(ids < 10, "Responder", "Control")})
    >>> d["y"] = 5 - (d["group"] == "Responder") * d["week"] / 6 + rng.normal(0, 0.3, 60) + rng.normal(0, 0.5, 20)[ids]
    >>> look = mixed_model(d, dv="y", weeks=[0, 4, 12], groups=["Responder", "Control"], random="intercept")
    >>> look.tables["test"][["df1", "random"]].values.tolist(), bool(look.tables["test"]["p_lr"].iloc[0] < 0.05)
    ([[2.0, 'intercept']], True)
    """
    _check_frame(data, "data", [subject, group, week, dv])
    _check_choice("transform", transform, _TRANSFORMS)
    _check_choice("random", random, _RANDOM)
    # the rows of the model, by numpy (a marker family fits dozens of these models per cohort)
    g_all, w_all = data[group].to_numpy(object), data[week].to_numpy()
    rows_ = np.flatnonzero(pd.Series(g_all).isin(list(groups)).to_numpy()
                           & pd.Series(w_all).isin(list(weeks)).to_numpy())
    s_codes = pd.factorize(data[subject].to_numpy()[rows_], sort=True)[0]
    w_codes = pd.factorize(w_all[rows_])[0]
    _, first = np.unique(s_codes.astype(np.int64) * (w_codes.max() + 1 if w_codes.size else 1) + w_codes,
                         return_index=True)
    rows_ = rows_[np.sort(first)]  # one row per patient × visit: the first
    cols = [dv] + ([f"{dv}_flag"] if f"{dv}_flag" in data.columns else [])
    y_all = _transform(data[cols].iloc[rows_], dv, transform).to_numpy(float)
    rows_, y_all = rows_[~np.isnan(y_all)], y_all[~np.isnan(y_all)]
    g, w, subj = g_all[rows_], w_all[rows_], data[subject].to_numpy()[rows_]
    # keep weeks observed in every group present (a full factorial needs every cell)
    present = [lev for lev in groups if (g == lev).any()]
    s_first = np.unique(pd.factorize(subj)[0], return_index=True)[1]  # each patient's first row
    per_group = pd.Series({lev: int((g[s_first] == lev).sum()) for lev in present}, dtype=float)
    if len(present) < 2 or (per_group < 2).any():
        return Look(_empty_model(), f"{dv}: fewer than two groups with at least two patients ({per_group.astype(int).to_dict()})")
    g_is = {lev: g == lev for lev in present}
    w_is = {ww: w == ww for ww in weeks}
    cell_n = {(lev, ww): int(np.count_nonzero(g_is[lev] & w_is[ww])) for lev in present for ww in weeks}
    wk = [ww for ww in weeks if all(cell_n[(lev, ww)] > 0 for lev in present)]
    if len(wk) < 2:
        return Look(_empty_model(), f"{dv}: fewer than two visits observed in every group")
    inside = pd.Series(w).isin(wk).to_numpy()
    order = np.lexsort((w[inside].astype(float), pd.factorize(subj[inside], sort=True)[0]))  # by patient, visit
    y, g, w, subj = y_all[inside][order], g[inside][order], w[inside][order], subj[inside][order]
    X, names = _design(present, wk, g, w)
    X0, _ = _design(present, wk, g, w, interaction=False)
    n_subj = int(pd.unique(subj).size)
    # every group × week cell holds data (checked above), so the full-factorial dummy coding has full rank
    if len(y) <= X.shape[1] + 2:
        return Look(_empty_model(), f"{dv}: too few observations for {X.shape[1]} fixed effects")
    t = (w.astype(float) / max(float(max(wk)), 1.0))
    slope_Z = np.column_stack([np.ones(len(y)), t])
    order = {"auto": ["slope", "intercept"], "slope": ["slope"], "intercept": ["intercept"]}[random]
    fits, failures = None, []
    for name in order:
        try:
            if name == "slope":
                first = _lmm_fit(y, X, subj, slope_Z, reml=True)
                full = _lmm_fit(y, X, subj, slope_Z, reml=False, start=first.theta)
                fits = (name, first, full, _lmm_fit(y, X0, subj, slope_Z, reml=False, start=full.theta))
            else:
                fits = (name, _ri_fit(y, X, subj, reml=True), _ri_fit(y, X, subj, reml=False),
                        _ri_fit(y, X0, subj, reml=False))
            break
        except (_NotFitted, np.linalg.LinAlgError) as exc:
            failures.append(f"{name}: {exc}")
    if fits is None:
        return Look(_empty_model(), f"{dv}: the mixed model did not converge ({'; '.join(failures)})")
    used, reml, ml_full, ml_red = fits
    note = "; ".join([f"random {f}" for f in failures] + ([reml.note] if reml.note else []))
    k = X.shape[1]
    beta, V = reml.beta, reml.cov
    # likelihood-ratio test of the interaction (ML fits)
    lr = max(0.0, 2 * (ml_full.llf - ml_red.llf))
    lr_df = k - X0.shape[1]
    p_lr = float(_special.chdtrc(lr_df, lr))
    # Wald F of the interaction (REML fit), between–within denominator df
    idx = [i for i, n in enumerate(names) if ":" in n]
    b = beta[idx]
    W = float(b @ np.linalg.solve(V[np.ix_(idx, idx)], b))
    df1 = float(len(idx))
    between = 1 + (len(present) - 1)
    df2 = float(len(y) - n_subj - (k - between))
    F = W / df1
    p_wald = float(_special.fdtrc(df1, df2, F)) if df2 > 0 else np.nan
    test = pd.DataFrame([dict(outcome=dv, scale=transform, n_patients=n_subj, n_obs=len(y),
                              weeks=", ".join(map(str, wk)),
                              random="intercept + slope" if used == "slope" else "intercept",
                              lr_stat=lr, lr_df=float(lr_df), p_lr=p_lr, wald_F=F, df1=df1, df2=df2, p_wald=p_wald,
                              note=note)], columns=_TEST_COLS)
    # model-based means per group × week
    z = z_quantile(confidence)
    cell_g = [gg for gg in present for ww in wk]
    cell_w = [ww for gg in present for ww in wk]
    G, _ = _design(present, wk, np.array(cell_g, dtype=object), np.array(cell_w))
    mean = G @ beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", G, V, G))
    means = pd.DataFrame({"outcome": dv, "scale": transform, "group": cell_g, "week": cell_w,
                          "n": [cell_n[(gg, ww)] for gg, ww in zip(cell_g, cell_w)], "mean": mean, "se": se,
                          "ci_low": mean - z * se, "ci_high": mean + z * se}, columns=_MEAN_COLS)
    # contrasts: between groups at each week; each week against the first within each group (all at once)
    pos = {(gg, ww): i for i, (gg, ww) in enumerate(zip(cell_g, cell_w))}
    spec = [("between groups", ww, f"{ga} − {gb}", (ga, ww), (gb, ww))
            for ww in wk for i, ga in enumerate(present) for gb in present[i + 1:]]
    spec += [("versus first visit", ww, f"{gg}: week {ww} − week {wk[0]}", (gg, ww), (gg, wk[0]))
             for gg in present for ww in wk[1:]]
    L = G[[pos[a] for *_, a, _b in spec]] - G[[pos[b_] for *_, b_ in spec]]
    est = L @ beta
    s_ = np.sqrt(np.einsum("ij,jk,ik->i", L, V, L))
    with np.errstate(divide="ignore", invalid="ignore"):
        p_c = 2 * _special.ndtr(-np.abs(est / s_))
    contrasts = pd.DataFrame({"outcome": dv, "scale": transform, "kind": [c[0] for c in spec],
                              "week": [c[1] for c in spec], "contrast": [c[2] for c in spec], "estimate": est,
                              "se": s_, "ci_low": est - z * s_, "ci_high": est + z * s_, "p": p_c},
                             columns=_CONTRAST_COLS)
    return Look({"test": test, "means": means, "contrasts": contrasts}, "",
                {"random": test["random"].iloc[0], "p_lr": p_lr, "p_wald": p_wald})


def mixed_models(visits: pd.DataFrame, *, outcomes: Sequence[str], weeks: Sequence[int],
                 groups: Sequence[str] = GROUPS, transforms: Sequence[str] = ("none",), random: str = "auto",
                 confidence: float = 0.95, adjust: bool = False) -> Look:
    """:func:`mixed_model` for several outcomes (and scales), stacked; Holm and BH over the family when asked.

    Parameters
    ----------
    visits : DataFrame
        ``derived.visits`` (``patient_id``, ``week``, ``group`` and the outcome columns).
    outcomes : sequence of str
        Outcome columns; those absent or empty give a note in the ``test`` table, not an error.
    weeks : sequence of int
        The design's visits (``derived.design.visit_weeks``).
    transforms : sequence of {"none", "log", "rank"}
        One model per outcome and scale.
    adjust : bool
        Add ``p_holm`` and ``p_bh`` (adjusted over the outcomes, separately for each scale) to ``test``.

    Returns
    -------
    Look
        Tables ``test``, ``means``, ``contrasts`` (see :func:`mixed_model`); a failed outcome keeps a
        ``test`` row with NaN and its reason in ``note``. ``reason`` is set only when no model was fitted.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": [1, 2], "week": [0, 0], "group": ["Responder", "Control"], "das28": [5.0, 6.0]})
    >>> look = mixed_models(v, outcomes=["das28", "haq_di"], weeks=[0, 12])
    >>> look.available, look.tables["test"]["outcome"].tolist()
    (False, ['das28', 'haq_di'])
    """
    _check_frame(visits, "visits", ["patient_id", "week", "group"])
    for t in transforms:
        _check_choice("transforms", t, _TRANSFORMS)
    tests, means, contrasts, reasons = [], [], [], []
    for scale in transforms:
        for dv in outcomes:
            if dv not in visits.columns or pd.to_numeric(visits[dv], errors="coerce").notna().sum() == 0:
                why = f"{dv}: not in these data"
                tests.append(pd.DataFrame([dict(outcome=dv, scale=scale, note=why)], columns=_TEST_COLS))
                reasons.append(why)
                continue
            look = mixed_model(visits, dv=dv, weeks=weeks, groups=groups, transform=scale, random=random,
                               confidence=confidence)
            if look.available:
                tests.append(look["test"])
                means.append(look["means"])
                contrasts.append(look["contrasts"])
            else:
                tests.append(pd.DataFrame([dict(outcome=dv, scale=scale, note=look.reason)], columns=_TEST_COLS))
                reasons.append(look.reason)
    test = pd.concat(tests, ignore_index=True) if tests else pd.DataFrame(columns=_TEST_COLS)
    test = test.astype({c: float for c in ("lr_stat", "lr_df", "p_lr", "wald_F", "df1", "df2", "p_wald")})
    if adjust:
        test["p_holm"] = np.nan
        test["p_bh"] = np.nan
        for scale, idx in test.groupby("scale").groups.items():
            p = test.loc[idx, "p_lr"].to_numpy(float)
            test.loc[idx, "p_holm"] = stats.adjust_pvalues(p, "holm")
            test.loc[idx, "p_bh"] = stats.adjust_pvalues(p, "fdr_bh")
        cols = list(test.columns)
        cols.remove("note")
        test = test[cols + ["note"]]
    fitted = test["p_lr"].notna().any()
    reason = "" if fitted else ("; ".join(reasons) or "no outcome to model")
    return Look({"test": test,
                 "means": pd.concat(means, ignore_index=True) if means else pd.DataFrame(columns=_MEAN_COLS),
                 "contrasts": pd.concat(contrasts, ignore_index=True) if contrasts
                 else pd.DataFrame(columns=_CONTRAST_COLS)}, reason)


def beside_per_visit(contrasts: pd.DataFrame, pairwise: pd.DataFrame | None = None, *,
                     scale: str = "none") -> pd.DataFrame:
    """The model's between-group contrast at each visit beside the paper-style per-visit test.

    Parameters
    ----------
    contrasts : DataFrame
        ``contrasts`` of :func:`mixed_models`.
    pairwise : DataFrame, optional
        The chapter's per-visit pairwise tests (``outcome``, ``week``, ``a``, ``b``, ``p_unc``, ``p_bonf``);
        columns it lacks are left out.
    scale : str
        Which scale of the contrasts to show.

    Returns
    -------
    DataFrame
        ``outcome``, ``week``, ``contrast``, ``estimate``, ``ci_low``, ``ci_high``, ``p_model``, then
        ``p_per_visit`` and ``p_per_visit_bonf`` when ``pairwise`` has them.

    Examples
    --------
    >>> c = pd.DataFrame({"outcome": ["das28"], "scale": ["none"], "kind": ["between groups"], "week": [12],
    ...                   "contrast": ["Responder − Control"], "estimate": [-2.0], "se": [0.5],
    ...                   "ci_low": [-3.0], "ci_high": [-1.0], "p": [1e-4]})
    >>> pw = pd.DataFrame({"outcome": ["das28"], "week": [12], "a": ["Responder"], "b": ["Control"],
    ...                    "p_unc": [0.001], "p_bonf": [0.003]})
    >>> beside_per_visit(c, pw)[["contrast", "p_model", "p_per_visit"]].values.tolist()
    [['Responder − Control', 0.0001, 0.001]]
    """
    _check_frame(contrasts, "contrasts", ["outcome", "scale", "kind", "week", "contrast", "estimate", "p"])
    out = contrasts.loc[(contrasts["kind"] == "between groups") & (contrasts["scale"] == scale),
                        ["outcome", "week", "contrast", "estimate", "ci_low", "ci_high", "p"]]
    out = out.rename(columns={"p": "p_model"}).reset_index(drop=True)
    if pairwise is not None and {"outcome", "week", "a", "b"} <= set(pairwise.columns) and len(pairwise):
        pw = pairwise.copy()
        keep = {"p_unc": "p_per_visit", "p_bonf": "p_per_visit_bonf"}
        keep = {k: v for k, v in keep.items() if k in pw.columns}
        pw["contrast"] = pw["a"].astype(str) + " − " + pw["b"].astype(str)
        flipped = pw.assign(contrast=pw["b"].astype(str) + " − " + pw["a"].astype(str))
        pw = pd.concat([pw, flipped], ignore_index=True).drop_duplicates(["outcome", "week", "contrast"])
        pw = pw[["outcome", "week", "contrast"] + list(keep)].rename(columns=keep)
        pw["week"] = pd.to_numeric(pw["week"], errors="coerce")
        out = out.assign(week=pd.to_numeric(out["week"])).merge(pw, on=["outcome", "week", "contrast"], how="left")
    return out


# =========================================================================== relapse: Kaplan–Meier
_KM_COLS = ["time", "at_risk", "events", "censored", "survival", "ci_low", "ci_high"]


def relapse_times(checks: pd.DataFrame, *, reference_week: int) -> pd.DataFrame:
    """Time to first relapse (or to the last evaluable visit) per patient, from the chapter's relapse checks.

    Parameters
    ----------
    checks : DataFrame
        :func:`analysis.chapters.disease_activity.analysis.relapse_checks` output (``patient_id``, ``week``, ``evaluable``, ``relapse``).
    reference_week : int
        The visit relapse is measured from (the design's response week); time 0.

    Returns
    -------
    DataFrame
        One row per patient with at least one evaluable later visit: ``patient_id``, ``time`` (weeks after
        ``reference_week``), ``event`` (True: relapsed at ``time``; False: censored at the last evaluable visit).

    Notes
    -----
    Relapse is only seen at visits, so the time is the visit at which it was first seen (interval
    censoring is ignored, as it is in the paper's "relapse at week 24").

    Examples
    --------
    >>> c = pd.DataFrame({"patient_id": ["a", "a", "b", "b"], "week": [24, 48, 24, 48],
    ...                   "evaluable": [True, True, True, False], "relapse": [False, True, False, False]})
    >>> relapse_times(c, reference_week=12).values.tolist()
    [['a', 36, True], ['b', 12, False]]
    """
    _check_frame(checks, "checks", ["patient_id", "week", "evaluable", "relapse"])
    ev = checks.loc[checks["evaluable"].astype(bool)]
    cols = ["patient_id", "time", "event"]
    if ev.empty:
        return pd.DataFrame(columns=cols)
    first = ev.loc[ev["relapse"].astype(bool)].groupby("patient_id")["week"].min()
    last = ev.groupby("patient_id")["week"].max()
    out = pd.DataFrame({"patient_id": last.index})
    out["event"] = out["patient_id"].isin(first.index)
    week = np.where(out["event"], out["patient_id"].map(first), out["patient_id"].map(last))
    out["time"] = (week - int(reference_week)).astype(int)
    return out[cols].reset_index(drop=True)


def kaplan_meier(times: pd.DataFrame, *, duration: str = "time", event: str = "event",
                 confidence: float = 0.95) -> pd.DataFrame:
    """Kaplan–Meier survival with its pointwise CI (lifelines; log(−log) Greenwood interval).

    Parameters
    ----------
    times : DataFrame
        One row per patient with ``duration`` and ``event`` (bool) columns.
    confidence : float

    Returns
    -------
    DataFrame
        One row per distinct time, starting at 0: ``time``, ``at_risk``, ``events``, ``censored``,
        ``survival``, ``ci_low``, ``ci_high``. Empty (with these columns) when ``times`` is empty.

    Examples
    --------
    >>> t = pd.DataFrame({"time": [1, 2, 2, 3, 4], "event": [True, True, False, True, False]})
    >>> kaplan_meier(t)[["time", "at_risk", "survival"]].round(2).values.tolist()
    [[0.0, 5.0, 1.0], [1.0, 5.0, 0.8], [2.0, 4.0, 0.6], [3.0, 2.0, 0.3], [4.0, 1.0, 0.3]]
    """
    _check_frame(times, "times", [duration, event])
    if times.empty:
        return pd.DataFrame(columns=_KM_COLS)
    from lifelines import KaplanMeierFitter

    km = KaplanMeierFitter(alpha=1 - confidence)
    km.fit(times[duration].astype(float), times[event].astype(bool))
    et = km.event_table
    ci = km.confidence_interval_survival_function_
    out = pd.DataFrame({"time": et.index.astype(float), "at_risk": et["at_risk"].to_numpy(float),
                        "events": et["observed"].to_numpy(float), "censored": et["censored"].to_numpy(float),
                        "survival": km.survival_function_.iloc[:, 0].reindex(et.index).to_numpy(float),
                        "ci_low": ci.iloc[:, 0].reindex(et.index).to_numpy(float),
                        "ci_high": ci.iloc[:, 1].reindex(et.index).to_numpy(float)})
    if out["time"].iloc[0] != 0:
        out = pd.concat([pd.DataFrame([dict(time=0.0, at_risk=float(len(times)), events=0.0, censored=0.0,
                                            survival=1.0, ci_low=1.0, ci_high=1.0)]), out], ignore_index=True)
    return out[_KM_COLS]


def _km_at(km: pd.DataFrame, t: float) -> pd.Series | None:
    """The KM row in force at time ``t`` (last time ≤ t)."""
    part = km.loc[km["time"] <= t]
    return None if part.empty else part.iloc[-1]


# =========================================================================== disease activity section
def activity_section(derived, *, outcomes: Sequence[str] = ("das28", "haq_di"), relapse_das28_rise: float = 0.6,
                     relapse_require_labs: bool = True, checks: pd.DataFrame | None = None,
                     pairwise: pd.DataFrame | None = None, random: str = "auto", confidence: float = 0.95,
                     alpha: float = 0.05) -> Look:
    """The disease-activity second look: mixed models for DAS28 and HAQ, and time to relapse.

    Parameters
    ----------
    derived : Derived
        :func:`analysis.science.derive.derive` output (its ``design`` gives the weeks).
    outcomes : sequence of str
    relapse_das28_rise, relapse_require_labs
        The chapter's relapse rule (:func:`analysis.chapters.disease_activity.analysis.relapse_checks`), applied to every observed visit
        after the design's response week.
    checks : DataFrame, optional
        Relapse checks computed elsewhere (overrides the two rule parameters).
    pairwise : DataFrame, optional
        The chapter's per-visit pairwise tests, set beside the model's contrasts.
    random : {"auto", "slope", "intercept"}
        Random effects (see :func:`mixed_model`).
    confidence, alpha : float
        Confidence level of the intervals; significance level of the counts in ``facts``.

    Returns
    -------
    Look
        Tables ``mixed_tests``, ``marginal_means``, ``contrasts``, ``beside_per_visit``, ``relapse_times``,
        ``km``; facts for the page and :func:`judge`. ``reason`` is set when neither part could run;
        ``facts["mixed_reason"]`` / ``facts["km_reason"]`` say why a part is missing.

    Examples
    --------
    >>> from analysis.science.derive import derive
    >>> look = activity_section(derive(_demo_cohort()))
    >>> sorted(look.tables)[:3], look.available
    (['beside_per_visit', 'contrasts', 'km'], True)
    """
    from analysis.chapters.disease_activity import analysis as activity

    design = derived.design
    visits = derived.visits
    mm = mixed_models(visits, outcomes=outcomes, weeks=design.visit_weeks, random=random, confidence=confidence)
    tables = {"mixed_tests": mm["test"], "marginal_means": mm["means"], "contrasts": mm["contrasts"],
              "beside_per_visit": beside_per_visit(mm["contrasts"], pairwise)}
    facts: dict = {"mixed_reason": mm.reason, "weeks": design.describe_weeks(),
                   "response_week": design.response_week, "relapse_week": design.relapse_week}
    # the model's Responder − Control contrast at each visit against the per-visit tests
    between = tables["beside_per_visit"]
    rc = between.loc[(between["outcome"] == outcomes[0]) & (between["contrast"] == "Responder − Control")] \
        if len(between) else between
    facts["n_visits"] = int(len(rc))
    facts["n_visits_model_sig"] = int((rc["p_model"] < alpha).sum()) if len(rc) else 0
    facts["n_visits_per_visit_sig"] = (int((rc["p_per_visit_bonf"] < alpha).sum())
                                       if len(rc) and "p_per_visit_bonf" in rc.columns else None)
    test = mm["test"].set_index("outcome")
    for dv in outcomes:
        row = test.loc[dv] if dv in test.index else None
        facts[f"p_{dv}"] = float(row["p_lr"]) if row is not None and np.isfinite(row["p_lr"]) else np.nan
        facts[f"random_{dv}"] = row["random"] if row is not None and isinstance(row["random"], str) else "n/a"
    # time to relapse
    need = ["patient_id", "week", "group", "das28", "esr_mm_h", "crp_mg_l"]
    km_reason = ""
    if checks is None:
        if all(c in visits.columns for c in need):
            checks = activity.relapse_checks(visits, reference_week=design.response_week,
                                             das28_rise=relapse_das28_rise, require_labs=relapse_require_labs)
        else:
            checks = pd.DataFrame(columns=["patient_id", "week", "evaluable", "relapse"])
            km_reason = f"the visits lack {[c for c in need if c not in visits.columns]}"
    times = relapse_times(checks, reference_week=design.response_week)
    if times.empty and not km_reason:
        km_reason = f"no responder has an evaluable visit after week {design.response_week}"
    elif len(times) < 2 and not km_reason:
        km_reason = "fewer than two responders can be followed for relapse"
        times = times.iloc[:0]
    km = kaplan_meier(times, confidence=confidence)
    tables["relapse_times"] = times
    tables["km"] = km
    facts["km_reason"] = km_reason
    facts["n_followed"] = int(len(times))
    facts["n_relapsed"] = int(times["event"].sum()) if len(times) else 0
    rw = design.relapse_week
    at = _km_at(km, rw - design.response_week) if (len(km) and rw is not None) else None
    if at is not None:
        facts.update(cum_relapse=float(1 - at["survival"]), cum_relapse_low=float(1 - at["ci_high"]),
                     cum_relapse_high=float(1 - at["ci_low"]))
    else:
        facts.update(cum_relapse=np.nan, cum_relapse_low=np.nan, cum_relapse_high=np.nan)
    reason = "" if (not mm.reason or not km_reason) else f"{mm.reason}; {km_reason}"
    return Look(tables, reason, facts)


# =========================================================================== immune and inflammation
def marker_models(visits: pd.DataFrame, *, markers: Sequence[str], weeks: Sequence[int],
                  groups: Sequence[str] = GROUPS, scales: Sequence[str] = ("log", "rank"),
                  random: str = "intercept", confidence: float = 0.95) -> Look:
    """Mixed models for a family of markers on the log scale and on ranks, Holm and BH over the family.

    A random intercept per patient by default: one model per marker and scale makes a dozen fits, and a
    random slope per marker often sits on the boundary; ``random="auto"`` tries it (slower).

    The log scale uses the values as derived (a value below the LLOQ replaced by the chapter's
    ``lloq_rule``); the rank scale ties every value below the LLOQ at the lowest rank (and above the ULOQ at
    the highest), which is exact for the ordering and needs no number for a censored result.

    Parameters
    ----------
    visits : DataFrame
        ``derived.visits``, with ``f"{marker}_flag"`` columns where a marker has assay limits.
    markers : sequence of str
    weeks : sequence of int
        The design's visits.
    scales : sequence of {"log", "rank", "none"}

    Returns
    -------
    Look
        Tables ``test`` (one row per marker × scale, with ``p_holm``, ``p_bh`` adjusted over the markers
        within each scale, and ``n_censored``), ``means``, ``contrasts``.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": [1], "week": [0], "group": ["Control"], "il_6": [1.0]})
    >>> marker_models(v, markers=["il_6"], weeks=[0, 12]).available
    False
    """
    look = mixed_models(visits, outcomes=markers, weeks=weeks, groups=groups, transforms=scales, random=random,
                        confidence=confidence, adjust=True)
    test = look["test"]
    n_cens = {m: int(visits[f"{m}_flag"].isin([_BELOW, _ABOVE]).sum()) if f"{m}_flag" in visits.columns else 0
              for m in markers}
    test.insert(test.columns.get_loc("n_obs") + 1, "n_censored", test["outcome"].map(n_cens).fillna(0).astype(int))
    return Look({**look.tables, "test": test}, look.reason)


def _marker_section(derived, *, markers: Sequence[str], scales, random, confidence, claim_markers,
                    alpha: float = 0.05) -> Look:
    visits = derived.visits.copy()
    if "treg_th17_ratio" in markers and "treg_th17_ratio" in visits.columns and "ratio_undefined" in visits.columns:
        visits["treg_th17_ratio"] = visits["treg_th17_ratio"].mask(visits["ratio_undefined"].astype(bool))
    look = marker_models(visits, markers=markers, weeks=derived.design.visit_weeks, scales=scales, random=random,
                         confidence=confidence)
    test = look["test"]
    facts: dict = {"weeks": derived.design.describe_weeks(), "n_markers": len(markers)}
    for scale in scales:
        part = test.loc[test["scale"] == scale]
        facts[f"n_sig_raw_{scale}"] = int((part["p_lr"] < alpha).sum())
        facts[f"n_sig_holm_{scale}"] = int((part["p_holm"] < alpha).sum())
        facts[f"n_fitted_{scale}"] = int(part["p_lr"].notna().sum())
    for m in claim_markers:
        for scale in scales:
            row = test.loc[(test["outcome"] == m) & (test["scale"] == scale)]
            facts[f"p_holm_{m}_{scale}"] = float(row["p_holm"].iloc[0]) if len(row) else np.nan
            facts[f"p_{m}_{scale}"] = float(row["p_lr"].iloc[0]) if len(row) else np.nan
    return Look(look.tables, look.reason, facts)


def immune_section(derived, *, markers: Sequence[str] = ("treg_th17_ratio", "treg_pct", "th17_pct",
                                                         "anti_ccp_u_ml", "rf_iu_ml"),
                   scales: Sequence[str] = ("log", "rank"), random: str = "intercept",
                   confidence: float = 0.95, alpha: float = 0.05) -> Look:
    """The immune second look: mixed models for the Treg/Th17 ratio and the immune markers.

    The ratio is undefined where Th17 is 0 (``ratio_undefined``); those visits are left out. Anti-CCP above
    the ULOQ is capped on the log scale and tied at the top rank on the rank scale.

    Returns
    -------
    Look
        As :func:`marker_models`; facts ``p_holm_treg_th17_ratio_rank`` etc. for :func:`judge`.

    Examples
    --------
    >>> from analysis.science.derive import derive
    >>> look = immune_section(derive(_demo_cohort()), markers=["treg_th17_ratio"])
    >>> look.tables["test"]["scale"].tolist()
    ['log', 'rank']
    """
    return _marker_section(derived, markers=markers, scales=scales, random=random, confidence=confidence,
                           claim_markers=("treg_th17_ratio",), alpha=alpha)


def inflammation_section(derived, *, markers: Sequence[str] = ("il_6", "tnf_a", "il_10", "il_1b", "il_2r", "il_8"),
                         scales: Sequence[str] = ("log", "rank"), random: str = "intercept",
                         confidence: float = 0.95, alpha: float = 0.05) -> Look:
    """The inflammation second look: mixed models for the six cytokines, log scale and ranks, Holm/BH.

    Returns
    -------
    Look
        As :func:`marker_models`; facts ``p_holm_il_6_rank`` etc. for :func:`judge`.

    Examples
    --------
    >>> from analysis.science.derive import derive
    >>> look = inflammation_section(derive(_demo_cohort()), markers=["il_6"])
    >>> look.available
    True
    """
    return _marker_section(derived, markers=markers, scales=scales, random=random, confidence=confidence,
                           claim_markers=("il_6", "tnf_a", "il_10"), alpha=alpha)


# =========================================================================== IFN-γ: prediction
def auc(y, score) -> float:
    """Area under the ROC curve by ranks (Mann–Whitney; ties count one half); NaN with one class.

    Examples
    --------
    >>> auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), auc([0, 1], [0.5, 0.5])
    (0.75, 0.5)
    """
    y = np.asarray(y, float)
    s = np.asarray(score, float)
    pos, neg = s[y == 1], s[y == 0]
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (pos.size * neg.size))


def stratified_folds(y, *, k: int = 5, repeats: int = 20, seed: int = 0) -> np.ndarray:
    """Fold labels for repeated stratified k-fold cross-validation (numpy only).

    Parameters
    ----------
    y : array-like of 0/1
    k : int
        Folds per repeat; each fold gets the classes in the same proportions (± 1 patient).
    repeats : int
    seed : int

    Returns
    -------
    ndarray of shape (repeats, len(y))
        ``folds[r, i]`` is the fold (0 … k−1) of patient ``i`` in repeat ``r``.

    Examples
    --------
    >>> f = stratified_folds([0, 0, 0, 1, 1, 1], k=3, repeats=2, seed=1)
    >>> f.shape, sorted(f[0][:3].tolist()), sorted(f[0][3:].tolist())
    ((2, 6), [0, 1, 2], [0, 1, 2])
    """
    y = np.asarray(y)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"`k` must be an integer >= 2; got {k!r}.")
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(f"`repeats` must be an integer >= 1; got {repeats!r}.")
    rng = np.random.default_rng(seed)
    folds = np.empty((repeats, y.size), dtype=int)
    for r in range(repeats):
        offset = 0
        for cls in np.unique(y):
            idx = np.flatnonzero(y == cls)
            perm = rng.permutation(idx)
            # continue the fold counter across classes so fold sizes stay balanced
            folds[r, perm] = (np.arange(perm.size) + offset) % k
            offset += perm.size
    return folds


def _logistic_newton(X: np.ndarray, y: np.ndarray, *, ridge: float = 0.0, maxiter: int = 100,
                     tol: float = 1e-10) -> tuple[np.ndarray, bool]:
    """Maximum-likelihood logistic regression by Newton–Raphson (IRLS); ``ridge`` adds an L2 penalty.

    The same estimates as ``statsmodels.Logit`` (checked in the tests), without its per-fit overhead: the
    cross-validation fits hundreds of small models. Returns the coefficients and whether it converged.
    """
    beta = np.zeros(X.shape[1])
    penalty = ridge * len(y) * np.eye(X.shape[1])
    for _ in range(maxiter):
        eta = np.clip(X @ beta, -50, 50)
        prob = 1 / (1 + np.exp(-eta))
        grad = X.T @ (y - prob) - penalty @ beta
        hess = (X * (prob * (1 - prob))[:, None]).T @ X + penalty
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return beta, False
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            return beta, True
    return beta, False


#: a fitted linear predictor beyond ±30 (a probability within 1e-13 of 0 or 1) means (quasi-)separation: the
#: Newton steps then vanish in rounding, so "converged" says nothing and the ridge fit is used instead
_SATURATED = 30.0


def _fit_predict(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    """Logistic regression on standardised predictors; predicted probabilities for ``X_test``.

    Maximum likelihood by Newton–Raphson (:func:`_logistic_newton`, equal to ``statsmodels.Logit``).
    Constant predictors are dropped (intercept-only when none is left). Under (quasi-)complete separation
    (no convergence, a coefficient beyond ±30 or a fitted probability within 1e-13 of 0 or 1) or a singular
    fit, a ridge-penalised fit (L2 = 1e-4 per observation) is used instead.
    """
    mu, sd = X_train.mean(axis=0), X_train.std(axis=0)
    keep = sd > 1e-12
    Xt = (X_train[:, keep] - mu[keep]) / sd[keep]
    Xs = (X_test[:, keep] - mu[keep]) / sd[keep]
    Xt = np.column_stack([np.ones(len(Xt)), Xt])
    Xs = np.column_stack([np.ones(len(Xs)), Xs])
    if y_train.min() == y_train.max():
        return np.full(len(Xs), float(y_train.mean()))
    y = np.asarray(y_train, float)
    params, converged = _logistic_newton(Xt, y)
    if not converged or not np.all(np.isfinite(params)) or np.abs(params).max() > 30 \
            or np.abs(Xt @ params).max() > _SATURATED:
        params, _ = _logistic_newton(Xt, y, ridge=1e-4)
    return 1 / (1 + np.exp(-(Xs @ params)))


def _newton_folds(Xs: np.ndarray, W: np.ndarray, y: np.ndarray, active: np.ndarray, *, ridge: float,
                  maxiter: int = 100, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_logistic_newton` on the folds ``active`` at once (weights ``W`` select each fold's patients).

    Each fold stops when its own step is below ``tol`` (so every fold gets the single fit's iterations);
    returns the coefficients (folds × predictors) and which folds converged.
    """
    F, _, p = Xs.shape
    beta = np.zeros((F, p))
    penalty = ridge * W.sum(axis=1)[:, None, None] * np.eye(p)[None]
    done = ~active
    converged = np.zeros(F, dtype=bool)
    for _ in range(maxiter):
        todo = np.flatnonzero(~done)
        if not todo.size:
            break
        Xt, Wt, b = Xs[todo], W[todo], beta[todo]
        prob = 1 / (1 + np.exp(-np.clip(np.einsum("fnp,fp->fn", Xt, b), -50, 50)))
        grad = np.einsum("fnp,fn->fp", Xt, Wt * (y - prob)) - np.einsum("fpq,fq->fp", penalty[todo], b)
        hess = np.einsum("fnp,fn,fnq->fpq", Xt, Wt * prob * (1 - prob), Xt) + penalty[todo]
        try:
            step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # some fold's Hessian is singular: that fold stops, unconverged
            step = np.zeros_like(b)
            for i in range(todo.size):
                try:
                    step[i] = np.linalg.solve(hess[i], grad[i])
                except np.linalg.LinAlgError:
                    done[todo[i]] = True
                    step[i] = np.nan
            keep = np.isfinite(step).all(axis=1)
            todo, b, step = todo[keep], b[keep], step[keep]
        beta[todo] = b + step
        small = np.max(np.abs(step), axis=1) < tol
        done[todo[small]] = True
        converged[todo[small]] = True
    return beta, converged


def _fit_predict_folds(X: np.ndarray, y: np.ndarray, train: np.ndarray) -> np.ndarray:
    """:func:`_fit_predict` for many training sets at once: probabilities of every patient under each fit.

    ``train`` is a boolean array (folds × patients). All folds' Newton–Raphson fits run together (one
    batched solve per iteration), on predictors standardised within each training set as
    :func:`_fit_predict` does, with its rule: a fit that does not converge or runs away (separation) is
    replaced by the ridge-penalised fit. A fold whose training set has one class or a constant predictor
    is fitted by :func:`_fit_predict` itself. The probabilities equal the fold-by-fold fits' (tested).
    """
    F, n = train.shape
    W = train.astype(float)
    n_f = W.sum(axis=1)
    mu = (W @ X) / n_f[:, None]
    sd = np.sqrt(np.maximum((W @ X ** 2) / n_f[:, None] - mu ** 2, 0.0))
    pos = W @ y
    simple = (sd > 1e-12).all(axis=1) & (pos > 0) & (pos < n_f)
    Xs = np.concatenate([np.ones((F, n, 1)), (X[None, :, :] - mu[:, None, :]) / np.where(sd > 0, sd, 1.0)[:, None, :]],
                        axis=2)
    beta, converged = _newton_folds(Xs, W, y, simple, ridge=0.0)
    with np.errstate(invalid="ignore"):
        eta = np.abs(np.einsum("fnp,fp->fn", Xs, beta)) * W  # the training patients' linear predictors
    ok = simple & converged & np.isfinite(beta).all(axis=1) & (np.abs(beta).max(axis=1) <= 30) \
        & (eta.max(axis=1) <= _SATURATED)
    # (quasi-)separation: the ridge-penalised fit, as _fit_predict does, accepted as it ends
    retry = simple & ~ok
    if retry.any():
        beta[retry] = _newton_folds(Xs, W, y, retry, ridge=1e-4)[0][retry]
        ok |= retry
    with np.errstate(over="ignore"):  # folds refitted below may hold runaway coefficients
        out = 1 / (1 + np.exp(-np.einsum("fnp,fp->fn", Xs, beta)))
    for f in np.flatnonzero(~ok):
        out[f] = _fit_predict(X[train[f]], y[train[f]], X)
    return out


def _fold_aucs(y: np.ndarray, prob: np.ndarray, test: np.ndarray) -> np.ndarray:
    """:func:`auc` of each fold's test patients (rows of ``prob`` and ``test``), all folds at once."""
    pos = test & (y == 1)[None, :]
    neg = test & (y == 0)[None, :]
    pairs = pos[:, :, None] & neg[:, None, :]
    greater = ((prob[:, :, None] > prob[:, None, :]) & pairs).sum(axis=(1, 2))
    ties = ((prob[:, :, None] == prob[:, None, :]) & pairs).sum(axis=(1, 2))
    total = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (greater + 0.5 * ties) / np.maximum(total, 1), np.nan)


def cv_auc(data: pd.DataFrame, *, outcome: str, predictors: Sequence[str], k: int = 5, repeats: int = 20,
           seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cross-validated AUC of a logistic regression by repeated stratified k-fold.

    Parameters
    ----------
    data : DataFrame
        One row per patient: ``outcome`` (0/1) and the ``predictors`` (rows with a missing value are dropped).
    outcome : str
    predictors : sequence of str
    k, repeats, seed
        See :func:`stratified_folds`; ``k`` is lowered to the size of the smaller class when needed.

    Returns
    -------
    (summary, predictions)
        ``summary``: one row: ``n``, ``n_events``, ``k``, ``repeats``, ``apparent_auc`` (fitted and judged on
        the same patients), ``cv_auc`` (mean over repeats of the mean per-fold AUC), ``cv_auc_low`` /
        ``cv_auc_high`` (2.5 and 97.5 percentiles over repeats: the split-to-split spread, not a confidence
        interval), ``note``. ``predictions``: one row per patient × repeat with the out-of-fold probability
        (``repeat``, ``row``, ``y``, ``p``).

    Examples
    --------
    >>> d = pd.DataFrame({"y": [0, 0, 0, 0, 0, 1, 1, 1, 1, 1], "x": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]})
    >>> s, _ = cv_auc(d, outcome="y", predictors=["x"], k=5, repeats=3)
    >>> float(s["cv_auc"].iloc[0])
    1.0
    >>> s, _ = cv_auc(d.assign(x=1.0), outcome="y", predictors=["x"], k=5, repeats=3)
    >>> float(s["cv_auc"].iloc[0])
    0.5
    """
    _check_frame(data, "data", [outcome, *predictors])
    d = data[[outcome, *predictors]].apply(pd.to_numeric, errors="coerce").dropna()
    y = d[outcome].to_numpy(float)
    X = d[list(predictors)].to_numpy(float) if predictors else np.empty((len(d), 0))
    n_events, n = int(y.sum()), len(y)
    minority = int(min(n_events, n - n_events))
    cols = ["n", "n_events", "k", "repeats", "apparent_auc", "cv_auc", "cv_auc_low", "cv_auc_high", "note"]
    if minority < 2:
        return (pd.DataFrame([dict(n=n, n_events=n_events, k=k, repeats=repeats,
                                   note=f"not fitted: {n_events} responders and {n - n_events} non-responders "
                                        f"with every predictor known ({len(data) - n} left out for a missing "
                                        "value; need at least 2 of each)")], columns=cols),
                pd.DataFrame(columns=["repeat", "row", "y", "p"]))
    k_used = int(min(k, minority))
    folds = stratified_folds(y, k=k_used, repeats=repeats, seed=seed)
    # every (repeat, fold) fit at once: row r * k + f holds fold f of repeat r
    test = (folds[:, None, :] == np.arange(k_used)[None, :, None]).reshape(repeats * k_used, n)
    prob = _fit_predict_folds(X, y, ~test)
    oof = np.where(test, prob, 0.0).reshape(repeats, k_used, n).sum(axis=1)  # each patient's out-of-fold p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a repeat whose folds all have one class: NaN
        per_repeat = np.nanmean(_fold_aucs(y, prob, test).reshape(repeats, k_used), axis=1)
    preds = [pd.DataFrame({"repeat": np.repeat(np.arange(repeats), n), "row": np.tile(np.arange(n), repeats),
                           "y": np.tile(y.astype(int), repeats), "p": oof.ravel()})]
    per_repeat = np.asarray(per_repeat)
    apparent = auc(y, _fit_predict(X, y, X))
    note = "" if k_used == k else f"k lowered to {k_used} (smaller class)"
    summary = pd.DataFrame([dict(n=n, n_events=n_events, k=k_used, repeats=repeats, apparent_auc=apparent,
                                 cv_auc=float(per_repeat.mean()), cv_auc_low=float(np.percentile(per_repeat, 2.5)),
                                 cv_auc_high=float(np.percentile(per_repeat, 97.5)), note=note)], columns=cols)
    return summary, pd.concat(preds, ignore_index=True)


def calibration_table(predictions: pd.DataFrame, *, bins: int = 5, confidence: float = 0.95) -> pd.DataFrame:
    """Observed against predicted response, by groups of out-of-fold predicted probability.

    Each patient's out-of-fold probabilities are averaged over the repeats, then patients are cut into
    ``bins`` groups of (nearly) equal size by that probability.

    Parameters
    ----------
    predictions : DataFrame
        ``predictions`` of :func:`cv_auc` (``row``, ``y``, ``p``).
    bins : int

    Returns
    -------
    DataFrame
        One row per bin: ``bin``, ``n``, ``mean_predicted``, ``observed`` (share of responders), ``ci_low``,
        ``ci_high`` (Wilson).

    Examples
    --------
    >>> p = pd.DataFrame({"repeat": 0, "row": range(4), "y": [0, 0, 1, 1], "p": [0.1, 0.2, 0.8, 0.9]})
    >>> calibration_table(p, bins=2)[["n", "mean_predicted", "observed"]].round(2).values.tolist()
    [[2.0, 0.15, 0.0], [2.0, 0.85, 1.0]]
    """
    _check_frame(predictions, "predictions", ["row", "y", "p"])
    cols = ["bin", "n", "mean_predicted", "observed", "ci_low", "ci_high"]
    if predictions.empty:
        return pd.DataFrame(columns=cols)
    per = predictions.groupby("row").agg(y=("y", "first"), p=("p", "mean")).sort_values("p", kind="stable")
    nb = int(max(1, min(bins, len(per))))
    per["bin"] = np.arange(len(per)) * nb // len(per) + 1
    g = per.groupby("bin").agg(n=("y", "size"), mean_predicted=("p", "mean"), k=("y", "sum")).reset_index()
    ci = stats.proportion_table(g["k"].to_numpy(int), g["n"].to_numpy(int), confidence=confidence)
    g["observed"] = g["k"] / g["n"]
    g["ci_low"], g["ci_high"] = ci["ci_low"].to_numpy(), ci["ci_high"].to_numpy()
    return g.astype({"n": float})[cols]


def prediction_data(visits: pd.DataFrame, patients: pd.DataFrame, *, early_weeks: Sequence[int],
                    covariates: Sequence[str] = ("das28_baseline",), marker: str = "ifn_g") -> pd.DataFrame:
    """One row per classified MSCT patient: response, baseline marker, the peak in the early window, covariates.

    Parameters
    ----------
    visits : DataFrame
        ``derived.visits`` (``patient_id``, ``week`` and ``marker``; values below the LLOQ as derived).
    patients : DataFrame
        ``derived.patients`` (``patient_id``, ``group`` and the covariates).
    early_weeks : sequence of int
        The paper's window "before and up to 4 weeks after MSCT" (``derived.design.early_weeks``).
    covariates : sequence of str
    marker : str

    Returns
    -------
    DataFrame
        ``patient_id``, ``responder`` (1/0), ``log_baseline`` (natural log of the week-0 value),
        ``log_peak_window`` (log of the highest value in the window), then the covariates.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["a", "a", "b", "b"], "week": [0, 4, 0, 4], "ifn_g": [1.0, 3.0, 1.0, 1.0]})
    >>> p = pd.DataFrame({"patient_id": ["a", "b"], "group": ["Responder", "Non-responder"], "das28_baseline": [6.0, 6.5]})
    >>> prediction_data(v, p, early_weeks=[0, 4]).round(2).values.tolist()
    [['a', 1, 0.0, 1.1, 6.0], ['b', 0, 0.0, 0.0, 6.5]]
    """
    _check_frame(visits, "visits", ["patient_id", "week", marker])
    _check_frame(patients, "patients", ["patient_id", "group", *covariates])
    pts = patients.loc[patients["group"].isin(["Responder", "Non-responder"]), ["patient_id", "group", *covariates]]
    v = visits[["patient_id", "week", marker]].assign(**{marker: pd.to_numeric(visits[marker], errors="coerce")})
    v = v.loc[v[marker] > 0]
    base = v.loc[v["week"] == 0].drop_duplicates("patient_id").set_index("patient_id")[marker]
    peak = v.loc[v["week"].isin(list(early_weeks))].groupby("patient_id")[marker].max()
    out = pd.DataFrame({"patient_id": pts["patient_id"].to_numpy(),
                        "responder": (pts["group"] == "Responder").astype(int).to_numpy()})
    out["log_baseline"] = np.log(out["patient_id"].map(base).astype(float))
    out["log_peak_window"] = np.log(out["patient_id"].map(peak).astype(float))
    for c in covariates:
        out[c] = pd.to_numeric(pts[c], errors="coerce").to_numpy(float)
    return out


def _lr_added(data: pd.DataFrame, *, outcome: str, base: Sequence[str], added: str) -> float:
    """p of the likelihood-ratio test of ``added`` on top of ``base`` (statsmodels Logit); NaN if not fitted."""
    import statsmodels.api as sm

    d = data[[outcome, *base, added]].dropna()
    y = d[outcome].to_numpy(float)
    if len(d) < 10 or y.min() == y.max():
        return float("nan")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            full = sm.Logit(y, sm.add_constant(d[[*base, added]].to_numpy(float), has_constant="add")).fit(disp=0)
            red = sm.Logit(y, sm.add_constant(d[list(base)].to_numpy(float), has_constant="add")
                           if base else np.ones((len(y), 1))).fit(disp=0)
    except Exception:
        return float("nan")
    if not (full.mle_retvals.get("converged", True) and red.mle_retvals.get("converged", True)):
        return float("nan")
    return float(sps.chi2.sf(max(0.0, 2 * (full.llf - red.llf)), 1))


def prediction_models(data: pd.DataFrame, *, covariates: Sequence[str] = ("das28_baseline",), k: int = 5,
                      repeats: int = 20, seed: int = 0, bins: int = 5) -> Look:
    """Baseline prediction models of response, cross-validated, beside the paper's peak-in-window predictor.

    Models (logistic regression): baseline IFN-γ + covariates; covariates only; baseline IFN-γ only; and the
    paper's predictor, the peak IFN-γ in the early window, which is measured after the infusion and inside
    the response window (``circular`` = True: its AUC cannot support a claim of prediction).

    Parameters
    ----------
    data : DataFrame
        :func:`prediction_data` output.
    covariates : sequence of str
    k, repeats, seed
        Cross-validation (:func:`cv_auc`).
    bins : int
        Calibration groups.

    Returns
    -------
    Look
        Tables ``auc`` (one row per model: ``model``, ``predictors``, ``circular`` and the :func:`cv_auc`
        summary), ``calibration`` (``model`` and :func:`calibration_table` rows, for the baseline and the
        circular model); facts ``cv_auc_full``, ``cv_auc_clinical``, ``cv_auc_peak``, ``apparent_auc_peak``,
        ``p_lr_ifng`` (likelihood-ratio test of baseline IFN-γ added to the covariates).

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> y = np.repeat([0, 1], 20)
    >>> d = pd.DataFrame({"patient_id": range(40), "responder": y, "log_baseline": rng.normal(y, 1.0),
    ...                   "log_peak_window": rng.normal(2 * y, 1.0), "das28_baseline": rng.normal(6, 1, 40)})
    >>> look = prediction_models(d, repeats=3)
    >>> look.tables["auc"]["model"].tolist()[:2]
    ['baseline IFN-γ + clinical', 'clinical only']
    """
    _check_frame(data, "data", ["responder", "log_baseline", "log_peak_window", *covariates])
    covariates = list(covariates)
    models = {"baseline IFN-γ + clinical": ["log_baseline", *covariates],
              "clinical only": covariates,
              "baseline IFN-γ only": ["log_baseline"],
              "peak in window (circular)": ["log_peak_window"]}
    rows, calib, facts = [], [], {}
    for name, preds in models.items():
        if not preds:
            continue
        s, p = cv_auc(data, outcome="responder", predictors=preds, k=k, repeats=repeats, seed=seed)
        rows.append(s.assign(model=name, predictors=" + ".join(preds), circular=name.endswith("(circular)")))
        if name in ("baseline IFN-γ + clinical", "peak in window (circular)") and len(p):
            calib.append(calibration_table(p, bins=bins).assign(model=name))
    table = pd.concat(rows, ignore_index=True)
    table = table[["model", "predictors", "circular"] + [c for c in table.columns
                                                          if c not in ("model", "predictors", "circular")]]
    cal = (pd.concat(calib, ignore_index=True) if calib else
           pd.DataFrame(columns=["bin", "n", "mean_predicted", "observed", "ci_low", "ci_high", "model"]))
    cal = cal[["model"] + [c for c in cal.columns if c != "model"]]
    by = table.set_index("model")
    for key, name in (("full", "baseline IFN-γ + clinical"), ("clinical", "clinical only"),
                      ("ifng", "baseline IFN-γ only"), ("peak", "peak in window (circular)")):
        facts[f"cv_auc_{key}"] = float(by.loc[name, "cv_auc"]) if name in by.index else np.nan
        facts[f"apparent_auc_{key}"] = float(by.loc[name, "apparent_auc"]) if name in by.index else np.nan
    facts["p_lr_ifng"] = _lr_added(data, outcome="responder", base=covariates, added="log_baseline")
    facts["n"] = int(table["n"].iloc[0]) if len(table) else 0
    reason = ""
    if not np.isfinite(facts["cv_auc_full"]):
        reason = str(by.loc["baseline IFN-γ + clinical", "note"]) if "baseline IFN-γ + clinical" in by.index else \
            "no model could be fitted"
    return Look({"auc": table, "calibration": cal}, reason, facts)


def ifng_section(derived, *, covariates: Sequence[str] = ("das28_baseline", "age"), k: int = 5, repeats: int = 20,
                 seed: int = 0, bins: int = 5) -> Look:
    """The IFN-γ second look: :func:`prediction_data` then :func:`prediction_models`, window from the design.

    Returns
    -------
    Look
        As :func:`prediction_models`, plus the table ``data`` (the per-patient predictors).

    Examples
    --------
    >>> from analysis.science.derive import derive
    >>> look = ifng_section(derive(_demo_cohort()), repeats=2)
    >>> look.available
    True
    """
    cols = [c for c in covariates if c in derived.patients.columns]
    if "ifn_g" not in derived.visits.columns:
        empty = pd.DataFrame(columns=["model", "predictors", "circular", "cv_auc"])
        return Look({"auc": empty, "calibration": pd.DataFrame(columns=["model", "bin"]), "data": pd.DataFrame()},
                    "the visits have no IFN-γ column", {})
    data = prediction_data(derived.visits, derived.patients, early_weeks=derived.design.early_weeks, covariates=cols)
    look = prediction_models(data, covariates=cols, k=k, repeats=repeats, seed=seed, bins=bins)
    facts = {**look.facts, "covariates": ", ".join(cols) or "none",
             "window": f"0–{derived.design.early_window_weeks}", "response_week": derived.design.response_week}
    return Look({**look.tables, "data": data}, look.reason, facts)


# =========================================================================== safety
def poisson_exact_ci(events, exposure, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) confidence interval of a Poisson rate ``events / exposure`` from chi-square quantiles.

    Lower = χ²(α/2; 2k) / (2T) (0 when k = 0); upper = χ²(1 − α/2; 2k + 2) / (2T).

    Examples
    --------
    >>> tuple(round(x, 4) for x in poisson_exact_ci(0, 10))
    (0.0, 0.3689)
    """
    k = float(events)
    t = float(exposure)
    if t <= 0 or k < 0 or not 0 < confidence < 1:
        return float("nan"), float("nan")
    a = 1 - confidence
    low = 0.0 if k == 0 else float(sps.chi2.ppf(a / 2, 2 * k)) / (2 * t)
    high = float(sps.chi2.ppf(1 - a / 2, 2 * k + 2)) / (2 * t)
    return low, high


def rate_ratio_exact(k1, t1, k2, t2, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Rate ratio (k1/t1)/(k2/t2) with the exact conditional (binomial) CI and two-sided p.

    Given k1 + k2 events, k1 is binomial with p = t1 r / (t1 r + t2) under rate ratio r; the Clopper–Pearson
    interval of p gives that of r.

    Returns
    -------
    (ratio, ci_low, ci_high, p)

    Examples
    --------
    >>> [round(x, 3) for x in rate_ratio_exact(10, 5.0, 10, 5.0)]
    [1.0, 0.374, 2.677, 1.0]
    """
    k1, k2, t1, t2 = int(k1), int(k2), float(t1), float(t2)
    n = k1 + k2
    if t1 <= 0 or t2 <= 0 or n == 0:
        return float("nan"), float("nan"), float("nan"), float("nan")
    a = 1 - confidence
    lo = 0.0 if k1 == 0 else float(sps.beta.ppf(a / 2, k1, n - k1 + 1))
    hi = 1.0 if k1 == n else float(sps.beta.ppf(1 - a / 2, k1 + 1, n - k1))

    def to_ratio(p):
        return p * t2 / ((1 - p) * t1) if p < 1 else float("inf")

    ratio = (k1 / t1) / (k2 / t2) if k2 > 0 else float("inf")
    p = float(sps.binomtest(k1, n, t1 / (t1 + t2)).pvalue)
    return ratio, to_ratio(lo), to_ratio(hi), p


def ae_rates(adverse_events: pd.DataFrame | None, patients: pd.DataFrame, *, confidence: float = 0.95,
             weeks_per_year: float = WEEKS_PER_YEAR) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Adverse-event rates per patient-year by arm with exact Poisson CIs, and the MSCT/control rate ratio.

    Parameters
    ----------
    adverse_events : DataFrame or None
        One row per event (``patient_id``, ``week``, ``event``, ``serious``); None or empty: no events.
    patients : DataFrame
        ``derived.patients`` (``patient_id``, ``arm``, ``last_week``).
    confidence : float
    weeks_per_year : float

    Returns
    -------
    (rates, ratios)
        ``rates``: one row per measure × arm: ``measure``, ``arm``, ``patients``, ``patient_years``,
        ``events``, ``rate_per_py``, ``ci_low``, ``ci_high``. ``ratios``: one row per measure:
        ``measure``, ``events_msct``, ``events_control``, ``rate_ratio``, ``ci_low``, ``ci_high``, ``p``
        (exact conditional test).

    Notes
    -----
    Follow-up runs from the infusion (week 0) to the patient's last visit, or to a later adverse event when
    one is recorded after it. Every event counts (a patient may have several). Measures: any adverse event,
    serious, infusion reaction (fever/chills), infection (categories of :func:`analysis.chapters.safety.analysis.classify_events`).

    Examples
    --------
    >>> pts = pd.DataFrame({"patient_id": ["a", "b"], "arm": ["MSCT", "control"], "last_week": [52, 52]})
    >>> ae = pd.DataFrame({"patient_id": ["a"], "week": [3], "event": ["fever"], "serious": [False]})
    >>> rates, ratios = ae_rates(ae, pts, weeks_per_year=52)
    >>> rates.loc[rates["measure"] == "any adverse event", ["arm", "events", "patient_years"]].values.tolist()
    [['MSCT', 1, 1.0], ['control', 0, 1.0]]
    """
    from analysis.chapters.safety import analysis as safety

    _check_frame(patients, "patients", ["patient_id", "arm", "last_week"])
    ae = adverse_events if adverse_events is not None else pd.DataFrame(
        columns=["patient_id", "week", "event", "serious"])
    ae = safety.classify_events(ae) if len(ae) else ae.assign(category=pd.Series(dtype=object))
    ae = ae.assign(serious=ae["serious"].astype("boolean").fillna(False).astype(bool))
    last_ae = ae.groupby("patient_id")["week"].max() if len(ae) else pd.Series(dtype=float)
    follow = pd.to_numeric(patients["last_week"], errors="coerce").fillna(0).astype(float)
    follow = np.maximum(follow.to_numpy(), patients["patient_id"].map(last_ae).fillna(0).to_numpy(float))
    pts = patients[["patient_id", "arm"]].assign(years=follow / weeks_per_year)
    ae = ae.merge(pts[["patient_id", "arm"]], on="patient_id", how="inner")
    measures = {"any adverse event": np.ones(len(ae), bool), "serious adverse event": ae["serious"].to_numpy(bool),
                "infusion reaction (fever/chills)": ae["category"].eq("infusion reaction (fever/chills)").to_numpy(bool),
                "infection": ae["category"].eq("infection").to_numpy(bool)}
    rows, ratios = [], []
    for measure, mask in measures.items():
        counts = ae.loc[mask].groupby("arm").size()
        per_arm = {}
        for arm in ("MSCT", "control"):
            part = pts.loc[pts["arm"] == arm]
            t, k = float(part["years"].sum()), int(counts.get(arm, 0))
            lo, hi = poisson_exact_ci(k, t, confidence)
            per_arm[arm] = (k, t)
            rows.append(dict(measure=measure, arm=arm, patients=int(len(part)), patient_years=t, events=k,
                             rate_per_py=k / t if t > 0 else np.nan, ci_low=lo, ci_high=hi))
        rr, lo, hi, p = rate_ratio_exact(*per_arm["MSCT"], *per_arm["control"], confidence=confidence)
        ratios.append(dict(measure=measure, events_msct=per_arm["MSCT"][0], events_control=per_arm["control"][0],
                           rate_ratio=rr, ci_low=lo, ci_high=hi, p=p))
    return pd.DataFrame(rows), pd.DataFrame(ratios)


def _ols(y: np.ndarray, X: np.ndarray) -> dict:
    """Ordinary least squares: coefficients, their standard errors and the residual sum of squares.

    What ``statsmodels.OLS(y, X).fit()`` gives as ``params``, ``bse``, ``ssr`` and ``df_resid`` (tested), without its
    per-fit overhead (a family of labs fits two models per lab). A rank-deficient ``X`` gets the minimum-norm
    solution and the pseudo-inverse covariance, as in statsmodels.
    """
    params, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ params
    ssr = float(resid @ resid)
    df = len(y) - int(rank)  # residual degrees of freedom, n − rank (statsmodels' df_resid)
    # the pseudo-inverse, as statsmodels: a constant covariate (e.g. a lab with one value) gives a singular X'X
    cov = (ssr / df) * np.linalg.pinv(X.T @ X) if df > 0 else np.full((X.shape[1],) * 2, np.nan)
    return {"params": params, "bse": np.sqrt(np.diag(cov)), "ssr": ssr, "df_resid": df}


def ancova(data: pd.DataFrame, *, after: str, before: str, by: str, levels: Sequence[str],
           confidence: float = 0.95) -> pd.DataFrame:
    """ANCOVA ``after ~ before + by`` (OLS): each level against the first, adjusted for the value before.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    after, before, by : str
        Columns: the outcome at the later visit, at baseline, and the grouping.
    levels : sequence of str
        Levels of ``by`` in the model; the first is the reference.

    Returns
    -------
    DataFrame
        One row per non-reference level: ``contrast`` ("level − reference"), ``estimate`` (adjusted
        difference), ``se``, ``ci_low``, ``ci_high``, ``p`` (t test), ``p_group`` (F test of ``by`` as a
        whole), ``slope_before``, ``n``, ``note``.

    Examples
    --------
    >>> d = pd.DataFrame({"pre": [1.0, 2, 3, 4, 1, 2, 3, 4], "post": [2.0, 3, 4, 5, 4, 5, 6, 7],
    ...                   "arm": ["c"] * 4 + ["t"] * 4})
    >>> ancova(d, after="post", before="pre", by="arm", levels=["c", "t"])[["contrast", "estimate"]].round(6).values.tolist()
    [['t − c', 2.0]]
    """
    _check_frame(data, "data", [after, before, by])
    cols = ["contrast", "estimate", "se", "ci_low", "ci_high", "p", "p_group", "slope_before", "n", "note"]
    d = data.loc[data[by].isin(list(levels)), [after, before, by]].copy()
    d[[after, before]] = d[[after, before]].apply(pd.to_numeric, errors="coerce")
    d = d.dropna()
    present = [lv for lv in levels if (d[by] == lv).sum() >= 2]
    ref = levels[0]
    if ref not in present or len(present) < 2 or len(d) < len(present) + 3:
        return pd.DataFrame([dict(contrast=f"{lv} − {ref}", n=len(d),
                                  note="not fitted: fewer than 2 patients in a group or too few in all")
                             for lv in levels[1:]], columns=cols)
    d = d.loc[d[by].isin(present)]
    dummies = [(d[by] == lv).astype(float).to_numpy() for lv in present[1:]]
    X = np.column_stack([np.ones(len(d)), d[before].to_numpy(float), *dummies])
    X0 = X[:, :2]
    y = d[after].to_numpy(float)
    fit, red = _ols(y, X), _ols(y, X0)
    q = len(present) - 1
    df_resid = fit["df_resid"]
    f_stat = ((red["ssr"] - fit["ssr"]) / q) / (fit["ssr"] / df_resid) if fit["ssr"] > 0 else np.nan
    p_group = float(_special.fdtrc(q, df_resid, f_stat)) if np.isfinite(f_stat) else np.nan
    t_crit = float(_special.stdtrit(df_resid, 0.5 + confidence / 2))
    rows = []
    for j, lv in enumerate(present[1:], start=2):
        est, se = float(fit["params"][j]), float(fit["bse"][j])
        p = float(2 * _special.stdtr(df_resid, -abs(est / se))) if se > 0 else np.nan
        rows.append(dict(contrast=f"{lv} − {ref}", estimate=est, se=se, ci_low=est - t_crit * se,
                         ci_high=est + t_crit * se, p=p, p_group=p_group,
                         slope_before=float(fit["params"][1]), n=len(d), note=""))
    return pd.DataFrame(rows, columns=cols)


def ancova_labs(visits: pd.DataFrame, *, before: int, after: int, labs=None, by: str = "arm",
                levels: Sequence[str] = ("control", "MSCT"), confidence: float = 0.95) -> pd.DataFrame:
    """The Table 1 labs by ANCOVA: value at ``after`` adjusted for the value at ``before``, by arm (or group).

    Parameters
    ----------
    visits : DataFrame
        ``derived.visits`` (``patient_id``, ``week``, ``arm``/``group`` and the lab columns).
    before, after : int
        Visits (the design's week 0 and final week).
    labs : sequence of str, optional
        Default: every lab with a normal range in the data dictionary (:func:`analysis.chapters.safety.analysis.safety_labs`).
    by : {"arm", "group"}
    levels : sequence of str
        The first is the reference.

    Returns
    -------
    DataFrame
        One row per lab × contrast: ``lab``, ``label``, ``unit``, then :func:`ancova`'s columns, and
        ``p_holm`` (Holm over the labs, on ``p_group``).

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": np.repeat(range(8), 2), "week": [0, 48] * 8,
    ...                   "arm": np.repeat(["control"] * 4 + ["MSCT"] * 4, 2),
    ...                   "albumin_g_l": [40, 41, 42, 42, 44, 45, 46, 46, 40, 43, 42, 45, 44, 47, 46, 48.0]})
    >>> ancova_labs(v, before=0, after=48, labs=["albumin_g_l"])[["lab", "contrast", "n"]].values.tolist()
    [['albumin_g_l', 'MSCT − control', 8]]
    """
    from analysis.chapters.safety import analysis as safety

    _check_choice("by", by, ("arm", "group"))
    _check_frame(visits, "visits", ["patient_id", "week", by])
    info = safety.safety_labs().set_index("lab")
    labs = [c for c in (info.index if labs is None else labs) if c in visits.columns]
    parts = []
    pre = visits.loc[visits["week"] == before].drop_duplicates("patient_id").set_index("patient_id")
    post = visits.loc[visits["week"] == after].drop_duplicates("patient_id").set_index("patient_id")
    for lab in labs:
        d = pd.DataFrame({"before": pre[lab], "by": pre[by]}).join(post[lab].rename("after"), how="inner")
        res = ancova(d, after="after", before="before", by="by", levels=levels, confidence=confidence)
        res.insert(0, "unit", info.loc[lab, "unit"] if lab in info.index else "")
        res.insert(0, "label", info.loc[lab, "label"] if lab in info.index else lab)
        res.insert(0, "lab", lab)
        parts.append(res)
    cols = ["lab", "label", "unit", "contrast", "estimate", "se", "ci_low", "ci_high", "p", "p_group",
            "slope_before", "n", "note"]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    first = out.drop_duplicates("lab")
    holm = pd.Series(stats.adjust_pvalues(first["p_group"].to_numpy(float), "holm"), index=first["lab"].to_numpy())
    out["p_holm"] = out["lab"].map(holm).astype(float)
    return out


def beside_t_tests(ancova_table: pd.DataFrame, lab_tests: pd.DataFrame | None) -> pd.DataFrame:
    """The ANCOVA of each lab beside the paper-style before/after t tests per group (one row per lab).

    Parameters
    ----------
    ancova_table : DataFrame
        :func:`ancova_labs` output.
    lab_tests : DataFrame, optional
        The chapter's before/after tests (``lab``, ``group``, ``p``), e.g. :func:`analysis.chapters.safety.analysis.lab_changes`.

    Returns
    -------
    DataFrame
        ``lab``, ``label``, ``contrast``, ``estimate``, ``ci_low``, ``ci_high``, ``p_ancova``, ``p_holm``,
        then ``p_t_<group>`` per group of ``lab_tests``.

    Examples
    --------
    >>> a = pd.DataFrame({"lab": ["x"], "label": ["X"], "contrast": ["MSCT − control"], "estimate": [1.0],
    ...                   "ci_low": [0.0], "ci_high": [2.0], "p": [0.04], "p_holm": [0.04]})
    >>> t = pd.DataFrame({"lab": ["x", "x"], "group": ["Responder", "Control"], "p": [0.01, 0.5]})
    >>> beside_t_tests(a, t).columns.tolist()[-2:]
    ['p_t_Responder', 'p_t_Control']
    """
    _check_frame(ancova_table, "ancova_table", ["lab", "contrast", "estimate", "p", "p_holm"])
    keep = [c for c in ("lab", "label", "contrast", "estimate", "ci_low", "ci_high", "p", "p_holm")
            if c in ancova_table.columns]
    out = ancova_table[keep].rename(columns={"p": "p_ancova"})
    if lab_tests is not None and {"lab", "group", "p"} <= set(lab_tests.columns) and len(lab_tests):
        order = list(dict.fromkeys(lab_tests["group"]))
        wide = lab_tests.drop_duplicates(["lab", "group"]).pivot(index="lab", columns="group", values="p")
        wide = wide.reindex(columns=order).add_prefix("p_t_").reset_index()
        wide.columns.name = None
        out = out.merge(wide, on="lab", how="left")
    return out


def safety_section(derived, adverse_events: pd.DataFrame | None, *, lab_tests: pd.DataFrame | None = None,
                   confidence: float = 0.95, alpha: float = 0.05) -> Look:
    """The safety second look: adverse-event rates per patient-year and the Table 1 labs by ANCOVA (by arm).

    Parameters
    ----------
    derived : Derived
        Its design gives the visits (week 0 and the final week).
    adverse_events : DataFrame or None
        ``cohort.adverse_events``.
    lab_tests : DataFrame, optional
        The chapter's before/after tests, set beside the ANCOVA.

    Returns
    -------
    Look
        Tables ``ae_rates``, ``ae_ratios``, ``ancova``, ``beside_t_tests``; facts for the page and :func:`judge`.
        ``reason`` names the part(s) that could not be computed (the other part is still in the tables).

    Examples
    --------
    >>> from analysis.science.derive import derive
    >>> c = _demo_cohort()
    >>> look = safety_section(derive(c), c.adverse_events)
    >>> look.tables["ae_rates"]["arm"].unique().tolist()
    ['MSCT', 'control']
    """
    design = derived.design
    patients = derived.patients
    rates, ratios = ae_rates(adverse_events, patients, confidence=confidence)
    anc = ancova_labs(derived.visits, before=0, after=design.final_week, confidence=confidence)
    facts: dict = {"final_week": design.final_week}
    any_ae = ratios.set_index("measure").loc["any adverse event"]
    facts.update(rr_any=float(any_ae["rate_ratio"]), rr_any_low=float(any_ae["ci_low"]),
                 rr_any_high=float(any_ae["ci_high"]), p_rr_any=float(any_ae["p"]),
                 events_msct=int(any_ae["events_msct"]), events_control=int(any_ae["events_control"]))
    tested = anc.drop_duplicates("lab")
    facts["n_labs"] = int(tested["p_group"].notna().sum())
    facts["n_labs_sig_holm"] = int((tested["p_holm"] < alpha).sum())
    facts["n_labs_sig_raw"] = int((tested["p_group"] < alpha).sum())
    facts["labs_sig_holm"] = ", ".join(tested.loc[tested["p_holm"] < alpha, "label"].str.lower()) or "none"
    py = rates.groupby("arm")["patient_years"].first()
    facts["py_msct"], facts["py_control"] = float(py.get("MSCT", 0.0)), float(py.get("control", 0.0))
    reasons = []
    if (rates["patient_years"] <= 0).all():
        reasons.append("no follow-up time in either arm")
    if facts["n_labs"] == 0:
        reasons.append(f"no lab has values at week 0 and week {design.final_week} in both arms")
    facts["ae_reason"] = reasons[0] if reasons and reasons[0].startswith("no follow-up") else ""
    facts["ancova_reason"] = reasons[-1] if reasons and reasons[-1].startswith("no lab") else ""
    return Look({"ae_rates": rates, "ae_ratios": ratios, "ancova": anc, "beside_t_tests": beside_t_tests(anc, lab_tests)},
                "; ".join(reasons), facts)


# =========================================================================== figures
def _styled(fn):
    """Draw ``fn``'s figure in the book's look without changing the global settings."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _look():
            return fn(*args, **kwargs)

    return wrapper


def _theme():
    from analysis.science import figures

    return figures


def _look():
    """The book's plot look (:func:`analysis.science.figures.set_theme`'s style) for one figure only."""
    import contextlib

    import seaborn as sns

    stack = contextlib.ExitStack()
    stack.enter_context(sns.axes_style("whitegrid"))
    stack.enter_context(_theme().book_style())
    return stack


def _placeholder(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, wrap=True)
    ax.set_axis_off()


@_styled
def figure_marginal_means(means: pd.DataFrame, *, outcomes: Sequence[str], labels: Mapping[str, str] | None = None,
                          scale: str = "none"):
    """Model-based mean ± CI per group over the weeks, one panel per outcome (returns the Figure).

    Examples
    --------
    >>> m = pd.DataFrame({"outcome": "das28", "scale": "none", "group": ["Responder"] * 2, "week": [0, 12],
    ...                   "mean": [6.0, 3.0], "ci_low": [5.5, 2.5], "ci_high": [6.5, 3.5]})
    >>> len(figure_marginal_means(m, outcomes=["das28"]).axes)
    1
    """
    import matplotlib.pyplot as plt

    figures = _theme()
    labels = dict(labels or {})
    fig, axes = plt.subplots(1, max(1, len(outcomes)), figsize=(5.2 * max(1, len(outcomes)), 4.2), squeeze=False)
    for ax, dv in zip(axes[0], outcomes):
        part = means.loc[(means["outcome"] == dv) & (means["scale"] == scale)] if len(means) else means
        if part.empty:
            _placeholder(ax, f"{labels.get(dv, dv)}: not available with these data")
            continue
        for i, (grp, g) in enumerate(part.groupby("group", sort=False)):
            g = g.sort_values("week")
            col = figures.color_for(grp, i)
            ax.plot(g["week"], g["mean"], marker="o", color=col, label=grp)
            ax.fill_between(g["week"].astype(float), g["ci_low"].astype(float), g["ci_high"].astype(float),
                            color=col, alpha=0.15, linewidth=0)
        ax.set(xlabel="week", ylabel=labels.get(dv, dv) + ("" if scale == "none" else f" ({scale})"),
               title=labels.get(dv, dv))
    handles, names = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, names, loc="lower center", ncol=len(names), bbox_to_anchor=(0.5, -0.06))
    fig.tight_layout()
    return fig


@_styled
def figure_km(km: pd.DataFrame, *, reference_week: int, relapse_week: int | None = None):
    """Kaplan–Meier curve of relapse-free responders with its CI band (returns the Figure).

    Examples
    --------
    >>> km = pd.DataFrame({"time": [0.0, 12.0], "survival": [1.0, 0.9], "ci_low": [1.0, 0.7], "ci_high": [1.0, 0.98],
    ...                    "at_risk": [10.0, 10.0], "events": [0.0, 1.0], "censored": [0.0, 0.0]})
    >>> figure_km(km, reference_week=12, relapse_week=24).axes[0].get_xlabel()
    'weeks after week 12'
    """
    import matplotlib.pyplot as plt

    figures = _theme()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    if km.empty:
        _placeholder(ax, "Relapse: not available with these data")
        return fig
    col = figures.color_for("Responder")
    ax.step(km["time"], km["survival"], where="post", color=col, label="relapse-free (Kaplan–Meier)")
    ax.fill_between(km["time"].astype(float), km["ci_low"].astype(float), km["ci_high"].astype(float), step="post",
                    color=col, alpha=0.2, linewidth=0, label="95% CI")
    if relapse_week is not None:
        ax.axvline(relapse_week - reference_week, color="0.4", linestyle="--", linewidth=1)
        ax.text(relapse_week - reference_week, 0.02, f" week {relapse_week}", color="0.3", va="bottom")
    ax.set(xlabel=f"weeks after week {reference_week}", ylabel="share of responders relapse-free", ylim=(0, 1.05))
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


@_styled
def figure_markers(test: pd.DataFrame, *, labels: Mapping[str, str] | None = None, alpha: float = 0.05):
    """−log10 p of the group × week test per marker and scale, raw and Holm-adjusted (returns the Figure).

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["il_6", "il_6"], "scale": ["log", "rank"], "p_lr": [0.01, 0.02],
    ...                   "p_holm": [0.03, 0.04]})
    >>> len(figure_markers(t).axes)
    1
    """
    import matplotlib.pyplot as plt

    labels = dict(labels or {})
    fig, ax = plt.subplots(figsize=(7.5, 0.5 * max(4, test["outcome"].nunique() * 1.2) + 1.5))
    t = test.dropna(subset=["p_lr"]) if len(test) else test
    if t.empty:
        _placeholder(ax, "Not available with these data")
        return fig
    markers = list(dict.fromkeys(t["outcome"]))
    scales = list(dict.fromkeys(t["scale"]))
    ypos = {m: i for i, m in enumerate(markers)}
    styles = {"log": ("o", "#0072B2"), "rank": ("s", "#E69F00"), "none": ("D", "#009E73")}
    for j, sc in enumerate(scales):
        part = t.loc[t["scale"] == sc]
        mk, col = styles.get(sc, ("^", "#CC79A7"))
        off = (j - (len(scales) - 1) / 2) * 0.25
        y = part["outcome"].map(ypos).to_numpy(float) + off
        ax.scatter(-np.log10(part["p_lr"].clip(lower=1e-300)), y, marker=mk, facecolor="none", edgecolor=col,
                   label=f"{sc} scale, unadjusted")
        if "p_holm" in part.columns:
            ax.scatter(-np.log10(part["p_holm"].clip(lower=1e-300)), y, marker=mk, color=col,
                       label=f"{sc} scale, Holm")
    ax.axvline(-np.log10(alpha), color="0.4", linestyle="--", linewidth=1)
    ax.set_xscale("symlog", linthresh=2)  # p-values from 1 to 1e-100 on one readable axis
    ax.set_xlim(left=0)
    ax.set_yticks(range(len(markers)), [labels.get(m, m) for m in markers])
    ax.set(xlabel=f"−log10 p of group × week (symmetric log axis; dashed: p = {alpha:g})", ylabel="")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


@_styled
def figure_prediction(look: Look):
    """Calibration of the baseline model (left) and the AUCs of the four models (right; returns the Figure).

    Examples
    --------
    >>> look = Look({"auc": pd.DataFrame(columns=["model", "cv_auc"]), "calibration": pd.DataFrame(columns=["model"])})
    >>> len(figure_prediction(look).axes)
    2
    """
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.4))
    cal = look.tables.get("calibration", pd.DataFrame())
    table = look.tables.get("auc", pd.DataFrame())
    styles = {"baseline IFN-γ + clinical": "#0072B2", "peak in window (circular)": "#D55E00"}
    if len(cal):
        ax1.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label="perfect calibration")
        for name, part in cal.groupby("model", sort=False):
            col = styles.get(name, "#7F7F7F")
            obs, lo, hi = (part[c].to_numpy(float) for c in ("observed", "ci_low", "ci_high"))
            ax1.errorbar(part["mean_predicted"].to_numpy(float), obs, yerr=np.vstack([obs - lo, hi - obs]),
                         marker="o", color=col, capsize=3, label=name)
        ax1.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="predicted probability (out of fold)",
                ylabel="observed share of responders", title="Calibration")
        ax1.legend(loc="upper left", fontsize=9)
    else:
        _placeholder(ax1, "Calibration: not available with these data")
    t = table.dropna(subset=["cv_auc"]) if len(table) and "cv_auc" in table.columns else table.iloc[:0]
    if len(t):
        y = np.arange(len(t))[::-1]
        for yi, (_, r) in zip(y, t.iterrows()):
            col = styles.get(r["model"], "#7F7F7F")
            ax2.errorbar([float(r["cv_auc"])], [yi], xerr=[[float(r["cv_auc"] - r["cv_auc_low"])],
                                                           [float(r["cv_auc_high"] - r["cv_auc"])]],
                         marker="o", color=col, capsize=3)
            ax2.plot(r["apparent_auc"], yi, marker="x", color=col)
        ax2.axvline(0.5, color="0.5", linestyle="--", linewidth=1)
        ax2.set_yticks(y, [m.replace(" (circular)", "\n(circular: after infusion)") for m in t["model"]])
        ax2.set(xlim=(0.3, 1.0), xlabel="AUC (o: cross-validated, range over repeats; x: apparent)",
                title="Discrimination")
    else:
        _placeholder(ax2, "AUC: not available with these data")
    fig.tight_layout()
    return fig


@_styled
def figure_ae_rates(rates: pd.DataFrame):
    """Adverse-event rate per patient-year by arm with exact CIs, one row per measure (returns the Figure).

    Examples
    --------
    >>> r = pd.DataFrame({"measure": ["any adverse event"] * 2, "arm": ["MSCT", "control"],
    ...                   "rate_per_py": [0.2, 0.1], "ci_low": [0.1, 0.05], "ci_high": [0.4, 0.3]})
    >>> len(figure_ae_rates(r).axes)
    1
    """
    import matplotlib.pyplot as plt

    figures = _theme()
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    r = rates.dropna(subset=["rate_per_py"]) if len(rates) else rates
    if r.empty:
        _placeholder(ax, "Adverse-event rates: not available with these data")
        return fig
    measures = list(dict.fromkeys(r["measure"]))
    ypos = {m: i for i, m in enumerate(measures[::-1])}
    for j, (arm, part) in enumerate(r.groupby("arm", sort=False)):
        y = part["measure"].map(ypos).to_numpy(float) + (0.15 if j == 0 else -0.15)
        rate, lo, hi = (part[c].to_numpy(float) for c in ("rate_per_py", "ci_low", "ci_high"))
        ax.errorbar(rate, y, xerr=np.vstack([rate - lo, np.nan_to_num(hi - rate, posinf=0.0)]),
                    fmt="o", color=figures.color_for(arm, j), capsize=3, label=arm)
    ax.set_yticks(range(len(measures)), measures[::-1])
    ax.set(xlabel="events per patient-year (exact 95% CI)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


@_styled
def figure_ancova(table: pd.DataFrame, *, alpha: float = 0.05):
    """Adjusted difference (MSCT − control) per lab divided by its standard error, with ±1.96 bars.

    Labs of different units share one axis this way; a bar crossing 0 is a 95% CI containing no difference;
    red marks Holm p < ``alpha`` (returns the Figure).

    Examples
    --------
    >>> t = pd.DataFrame({"label": ["Albumin"], "contrast": ["MSCT − control"], "estimate": [1.0], "se": [0.5],
    ...                   "p_holm": [0.2]})
    >>> len(figure_ancova(t).axes)
    1
    """
    import matplotlib.pyplot as plt

    t = table.dropna(subset=["estimate", "se"]) if len(table) else table
    fig, ax = plt.subplots(figsize=(7.5, 0.35 * max(6, len(t)) + 1.2))
    if t.empty:
        _placeholder(ax, "ANCOVA: not available with these data")
        return fig
    zval = (t["estimate"] / t["se"]).to_numpy(float)
    y = np.arange(len(t))[::-1]
    sig = t["p_holm"].to_numpy(float) < alpha if "p_holm" in t.columns else np.zeros(len(t), bool)
    ax.errorbar(zval, y, xerr=1.96, fmt="none", ecolor="0.6", capsize=2)
    ax.scatter(zval[~sig], y[~sig], color="#0072B2", zorder=3, label=f"Holm p ≥ {alpha:g}")
    ax.scatter(zval[sig], y[sig], color="#D55E00", zorder=3, label=f"Holm p < {alpha:g}")
    ax.axvline(0, color="0.4", linewidth=1)
    ax.set_yticks(y, (t["label"] + ("" if t["contrast"].nunique() == 1 else " " + t["contrast"])).tolist())
    ax.set(xlabel=f"adjusted difference {t['contrast'].iloc[0]} / its SE (bars: ±1.96)")
    ax.legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    return fig


# =========================================================================== claims
def load_claims() -> pd.DataFrame:
    """The second-look claims: the ``*.second_look_*`` rows of the chapters' registry files.

    Examples
    --------
    >>> c = load_claims()
    >>> set(c["basis"]) == {"empirical"}, c["claim_id"].is_unique
    (True, True)
    """
    from analysis.claims.registry import load_published

    registry = load_published()
    return registry.loc[registry["claim_id"].str.contains(".second_look_", regex=False)].reset_index(drop=True)


def judge(log, look: Look, *, chapter: str, claims: pd.DataFrame | None = None) -> pd.DataFrame:
    """Judge this chapter's second-look claims from a section's facts.

    The claims live in the chapter's registry (``data/published/claims/<chapter>.csv``, ids ``*.second_look_*``)
    and are recorded in ``log`` (the page's claim log, so they enter ``claims.csv`` and the scorecard); the
    judged rows are also returned.

    Parameters
    ----------
    log : analysis.claims.log.ClaimLog
        The page's log (``page.claims``).
    look : Look
        The chapter's second look (``activity_section`` etc.).
    chapter : str
        One of safety, disease_activity, immune, inflammation, ifng.
    claims : DataFrame, optional
        Unused (kept for callers of the first version); the log's registry is the source.

    Returns
    -------
    DataFrame
        One row per second-look claim of the chapter: the claims table's columns plus ``basis`` and
        ``basis_reason``.

    Examples
    --------
    >>> from analysis.claims.log import ClaimLog
    >>> look = Look({}, "", {"p_treg_th17_ratio_rank": 0.001, "p_holm_treg_th17_ratio_rank": 0.004})
    >>> judge(ClaimLog("immune"), look, chapter="immune")["verdict"].tolist()
    ['reproduced']
    """
    mine = log._claims.loc[log._claims["claim_id"].str.contains(".second_look_", regex=False)]
    f = look.facts
    alpha = log.alpha

    def sig(cid, p, detail):
        if p is None or not np.isfinite(p):
            log.not_testable(cid, unavailable(look.reason or detail or "the model could not be fitted"))
        else:
            # a test of "the courses differ" has no direction: p < alpha supports it (a null effect passes
            # with probability alpha); p >= alpha is absence of evidence, hence inconclusive, never "not reproduced"
            log.check_true(cid, True if float(p) < alpha else None, f"{format_p(float(p))}; {detail}",
                         rule=f"reproduced if p < {alpha:g}; inconclusive otherwise (p ≥ alpha is no evidence "
                              "that the courses are alike)")

    def true(cid, holds, text, rule, testable=True, why=""):
        if not testable:
            log.not_testable(cid, unavailable(why))
        else:
            log.check_true(cid, holds, text, rule=rule)

    if chapter == "disease_activity":
        sig("activity.second_look_das28_group_time", f.get("p_das28"),
            f"likelihood-ratio test of group × week, linear mixed model (random {f.get('random_das28')})")
        sig("activity.second_look_haq_group_time", f.get("p_haq_di"),
            f"likelihood-ratio test of group × week, linear mixed model (random {f.get('random_haq_di')})")
        c, lo, hi = f.get("cum_relapse", np.nan), f.get("cum_relapse_low", np.nan), f.get("cum_relapse_high", np.nan)
        ok = np.isfinite(c)
        true("activity.second_look_relapse_km", ok and lo - 1e-9 <= 0.08 <= hi + 1e-9,
             f"cumulative relapse by week {f.get('relapse_week')}: {_fmt(c)} (95% CI {_fmt(lo)}–{_fmt(hi)}), "
             f"{f.get('n_relapsed', 0)} relapses among {f.get('n_followed', 0)} responders followed",
             "reproduced if the Kaplan–Meier 95% CI of the cumulative relapse by the relapse week contains the "
             "paper's 8%", testable=ok, why=f.get("km_reason") or "no relapse week in this design")
    elif chapter == "immune":
        p = f.get("p_holm_treg_th17_ratio_rank")
        sig("immune.second_look_ratio_group_time", p,
            f"group × week, mixed model on ranks, Holm over the immune markers (unadjusted "
            f"{format_p(f.get('p_treg_th17_ratio_rank'))})")
    elif chapter == "inflammation":
        for m, cid in (("il_6", "inflammation.second_look_il6_group_time"),
                       ("tnf_a", "inflammation.second_look_tnfa_group_time"),
                       ("il_10", "inflammation.second_look_il10_group_time")):
            sig(cid, f.get(f"p_holm_{m}_rank"),
                f"group × week, mixed model on ranks (<LLOQ tied lowest), Holm over the six cytokines "
                f"(unadjusted {format_p(f.get(f'p_{m}_rank'))})")
    elif chapter == "ifng":
        sig("ifng.second_look_baseline_predicts", f.get("p_lr_ifng"),
            f"likelihood-ratio test of log baseline IFN-γ added to {f.get('covariates', 'the covariates')}")
        cv = f.get("cv_auc_full", np.nan)
        ok = cv is not None and np.isfinite(cv)
        true("ifng.second_look_cv_auc", ok and cv >= 0.7,
             f"cross-validated AUC {_fmt(cv)} (clinical covariates only: {_fmt(f.get('cv_auc_clinical'))}; "
             f"circular peak in window: {_fmt(f.get('cv_auc_peak'))})",
             "reproduced if the cross-validated AUC of baseline IFN-γ + clinical covariates is at least 0.7 "
             "(acceptable discrimination)", testable=ok, why=look.reason or "the model could not be fitted")
    elif chapter == "safety":
        lo = f.get("rr_any_low", np.nan)
        ok = lo is not None and np.isfinite(lo)
        hi = f.get("rr_any_high", np.nan)
        verdict_ae = None if not ok else (False if lo > 1 else (True if np.isfinite(hi) and hi < 2 else None))
        true("safety.second_look_ae_rate", verdict_ae,
             f"rate ratio MSCT/control {_fmt(f.get('rr_any'))} (exact 95% CI {_fmt(lo)}–{_fmt(f.get('rr_any_high'))}; "
             f"{f.get('events_msct', 0)} vs {f.get('events_control', 0)} events)",
             "reproduced if the exact 95% CI of the adverse-event rate ratio MSCT/control lies below 2 (a stated "
             "margin: no more than a doubled rate with MSCT); not reproduced if it lies above 1; inconclusive "
             "otherwise", testable=ok,
             why=f.get("ae_reason") or "no adverse events or no follow-up in an arm")
        n = f.get("n_labs", 0)
        true("safety.second_look_labs_ancova", None if f.get("n_labs_sig_holm", 0) == 0 else False,
             f"{f.get('n_labs_sig_holm', 0)} of {n} labs differ between arms at week {f.get('final_week')} after "
             f"adjustment for week 0 (Holm p < {alpha:g}): {f.get('labs_sig_holm', 'none')}",
             f"not reproduced if a lab differs between arms by ANCOVA with Holm-adjusted p < {alpha:g}; otherwise "
             "inconclusive (no difference found is not shown equivalence)",
             testable=n > 0, why=f.get("ancova_reason") or "no lab could be analysed")
    else:
        raise ValueError(f"`chapter` must be one of ['safety', 'disease_activity', 'immune', 'inflammation', "
                         f"'ifng']; got {chapter!r}.")
    rows = []
    tab = log.table()
    for cid in mine["claim_id"]:
        rows.append(tab.loc[tab["claim_id"] == cid])
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    if len(out):
        basis = mine.set_index("claim_id")
        out["basis"] = out["claim_id"].map(basis["basis"])
        out["basis_reason"] = out["claim_id"].map(basis["basis_reason"])
    return out


# =========================================================================== what the page says
def _reading(p, alpha: float) -> str:
    """How a test bears on a claim of a difference: supports / does not support / cannot address."""
    if p is None or not np.isfinite(p):
        return "cannot address"
    return "supports" if p < alpha else "does not support"


def glue_values(look: Look, *, chapter: str, alpha: float = 0.05) -> dict:
    """The numbers and words a chapter's second-look prose glues (``sl_*`` keys; plain str/int values).

    Every value has a fallback ("n/a", "cannot address"), so the prose reads correctly whatever the data show.

    Parameters
    ----------
    look : Look
        The chapter's section (:func:`activity_section` etc.).
    chapter : str
    alpha : float

    Returns
    -------
    dict
        Keys starting with ``sl_``.

    Examples
    --------
    >>> glue_values(Look({}, "", {"p_das28": 0.001, "p_haq_di": 0.2}), chapter="disease_activity")["sl_das28_reading"]
    'supports'
    >>> glue_values(Look({}, "no data", {}), chapter="ifng")["sl_reading"]
    'cannot address'
    """
    f = look.facts
    out: dict = {}
    if chapter == "disease_activity":
        out.update(sl_p_das28=format_p(f.get("p_das28")), sl_p_haq=format_p(f.get("p_haq_di")),
                   sl_random_das28=str(f.get("random_das28", "n/a")), sl_random_haq=str(f.get("random_haq_di", "n/a")),
                   sl_das28_reading=_reading(f.get("p_das28"), alpha), sl_haq_reading=_reading(f.get("p_haq_di"), alpha),
                   sl_n_visits=int(f.get("n_visits", 0)), sl_n_visits_model_sig=int(f.get("n_visits_model_sig", 0)),
                   sl_n_visits_per_visit_sig=("n/a" if f.get("n_visits_per_visit_sig") is None
                                              else int(f["n_visits_per_visit_sig"])),
                   sl_weeks=str(f.get("weeks", "n/a")),
                   sl_relapse_week=str(f.get("relapse_week") if f.get("relapse_week") is not None else "n/a"),
                   sl_response_week=str(f.get("response_week", "n/a")),
                   sl_cum_relapse=_fmt(f.get("cum_relapse")),
                   sl_cum_relapse_ci=f"{_fmt(f.get('cum_relapse_low'))}–{_fmt(f.get('cum_relapse_high'))}",
                   sl_n_followed=int(f.get("n_followed", 0)), sl_n_relapsed=int(f.get("n_relapsed", 0)))
    elif chapter in ("immune", "inflammation"):
        first = "treg_th17_ratio" if chapter == "immune" else "il_6"
        out.update(sl_n_markers=int(f.get("n_markers", 0)),
                   sl_n_fitted_rank=int(f.get("n_fitted_rank", 0)), sl_n_fitted_log=int(f.get("n_fitted_log", 0)),
                   sl_n_sig_raw_rank=int(f.get("n_sig_raw_rank", 0)), sl_n_sig_raw_log=int(f.get("n_sig_raw_log", 0)),
                   sl_n_sig_holm_rank=int(f.get("n_sig_holm_rank", 0)),
                   sl_n_sig_holm_log=int(f.get("n_sig_holm_log", 0)),
                   sl_weeks=str(f.get("weeks", "n/a")))
        markers = ("treg_th17_ratio",) if chapter == "immune" else ("il_6", "tnf_a", "il_10")
        for m in markers:
            key = m.replace("_", "")
            out[f"sl_p_{key}"] = format_p(f.get(f"p_holm_{m}_rank"))
            out[f"sl_p_{key}_log"] = format_p(f.get(f"p_holm_{m}_log"))
            out[f"sl_{key}_reading"] = _reading(f.get(f"p_holm_{m}_rank"), alpha)
        out["sl_reading"] = out[f"sl_{first.replace('_', '')}_reading"]
    elif chapter == "ifng":
        cv, p = f.get("cv_auc_full", np.nan), f.get("p_lr_ifng", np.nan)
        if cv is None or not np.isfinite(cv) or p is None or not np.isfinite(p):
            reading = "cannot address"
        elif cv >= 0.7 and p < alpha:
            reading = "supports"
        elif cv >= 0.7 or p < alpha:
            reading = "only partly supports"
        else:
            reading = "does not support"
        out.update(sl_cv_auc_full=_fmt(cv), sl_cv_auc_clinical=_fmt(f.get("cv_auc_clinical")),
                   sl_cv_auc_ifng=_fmt(f.get("cv_auc_ifng")), sl_cv_auc_peak=_fmt(f.get("cv_auc_peak")),
                   sl_apparent_auc_full=_fmt(f.get("apparent_auc_full")),
                   sl_apparent_auc_peak=_fmt(f.get("apparent_auc_peak")), sl_p_lr=format_p(p),
                   sl_covariates=str(f.get("covariates", "n/a")), sl_window=str(f.get("window", "n/a")),
                   sl_response_week=str(f.get("response_week", "n/a")), sl_n=int(f.get("n", 0)), sl_reading=reading)
    elif chapter == "safety":
        lo = f.get("rr_any_low", np.nan)
        ae_reading = ("cannot address" if lo is None or not np.isfinite(lo) else
                      "the data do not show a higher rate with MSCT, but they cannot exclude one as large as the "
                      "upper limit" if lo <= 1 else "the data show a higher rate with MSCT")
        n_labs = int(f.get("n_labs", 0))
        out.update(sl_events_msct=int(f.get("events_msct", 0)), sl_events_control=int(f.get("events_control", 0)),
                   sl_py_msct=_fmt(f.get("py_msct"), 1), sl_py_control=_fmt(f.get("py_control"), 1),
                   sl_rr=_fmt(f.get("rr_any")), sl_rr_ci=f"{_fmt(lo)}–{_fmt(f.get('rr_any_high'))}",
                   sl_ae_reading=ae_reading, sl_n_labs=n_labs, sl_n_labs_sig_holm=int(f.get("n_labs_sig_holm", 0)),
                   sl_n_labs_sig_raw=int(f.get("n_labs_sig_raw", 0)),
                   sl_labs_sig_holm=str(f.get("labs_sig_holm", "none")),
                   sl_final_week=str(f.get("final_week", "n/a")),
                   sl_labs_reading=("cannot address" if n_labs == 0 else
                                    "supports" if f.get("n_labs_sig_holm", 0) == 0 else "weakens"))
    else:
        raise ValueError(f"`chapter` must be one of ['safety', 'disease_activity', 'immune', 'inflammation', "
                         f"'ifng']; got {chapter!r}.")
    return out
