"""Linear mixed models over all visits: the group × week test, model-based means and contrasts.

The paper tests each visit on its own. A statistician today models all visits at once: a linear mixed model
``outcome ~ group × week`` (week categorical) with a random intercept per patient, and a random slope on time
where it converges (:func:`mixed_model`); a likelihood-ratio test of group × week, model-based means per group
and week, and contrasts between groups at each visit and against the first visit. :func:`mixed_models` runs
it for several outcomes and scales (Holm and Benjamini–Hochberg over the family when asked),
:func:`beside_per_visit` sets the model's contrasts beside the paper-style per-visit tests, and
:func:`marker_models` / :func:`marker_section` model a family of markers on the log scale and on ranks (values
below the LLOQ tied at the lowest rank), as the immune and inflammation chapters do. The figures
:func:`figure_marginal_means` and :func:`figure_markers` draw these tables (and are returned, never saved).

The models are fitted by their exact profile likelihoods (:func:`_ri_fit`, :func:`_lmm_fit`): the models
statsmodels ``MixedLM`` fits, with the same estimates (tested in ``tests/test_second_look.py``), much faster.
A family's random-intercept models are fitted together (:func:`_ri_fits`, one batched evaluation per step), and
both fitters sum over patients' visit patterns rather than over patients, which is exact (patients with the
same group and visits share every term but their outcome sums).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special as _special

from analysis.claims.rules import format_p, z_quantile
from analysis.core.checks import check_choice as _check_choice, check_frame as _check_frame
from analysis.science import stats
from analysis.science.methods.look import GROUPS, LABELS, Look, placeholder, reading, styled

__all__ = ["beside_per_visit", "family_sentence", "figure_marginal_means", "figure_markers", "marker_glue_values", "marker_models",
           "marker_section", "mixed_model", "mixed_models"]

_BELOW, _ABOVE = "<LLOQ", ">ULOQ"
_RANDOM = ("auto", "slope", "intercept")
_TRANSFORMS = ("none", "log", "rank")
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
    below = above = None
    if f"{dv}_flag" in d.columns:
        flag = d[f"{dv}_flag"]
        below = flag.eq(_BELOW).to_numpy(dtype=bool, na_value=False)
        above = flag.eq(_ABOVE).to_numpy(dtype=bool, na_value=False)
    return pd.Series(_transform_values(y, below, above, transform), index=d.index, dtype=float)


def _transform_values(y: np.ndarray, below: np.ndarray | None, above: np.ndarray | None,
                      transform: str) -> np.ndarray:
    """:func:`_transform` on arrays: the values (float, NaN when missing) and where they are censored."""
    if transform == "log":
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.log(np.where(y > 0, y, np.nan))
    elif transform == "rank":
        if below is not None:
            y = np.where(below, -np.inf, np.where(above, np.inf, y))
        ranked = np.full(y.shape, np.nan)
        known = ~np.isnan(y)
        ranked[known] = stats.average_ranks(y[known])[0]
        y = ranked
    return y


def _design(groups: Sequence, weeks: Sequence, g: np.ndarray, w: np.ndarray, *, interaction: bool = True):
    """Dummy-coded fixed-effects matrix: intercept, groups, weeks (and group × week); names of the columns."""
    g, w = np.asarray(g, dtype=object), np.asarray(w)
    gi, wi = np.full(len(g), -1), np.full(len(w), -1)
    for j, lev in enumerate(groups):
        gi[g == lev] = j
    for j, wk in enumerate(weeks):
        wi[w == wk] = j
    G = (gi[:, None] == np.arange(1, len(groups))[None, :]).astype(float)
    W = (wi[:, None] == np.arange(1, len(weeks))[None, :]).astype(float)
    cols = [np.ones((len(g), 1)), G, W]
    names = ["Intercept"] + [f"group[{lev}]" for lev in groups[1:]] + [f"week[{wk}]" for wk in weeks[1:]]
    if interaction:
        cols.append((G[:, :, None] * W[:, None, :]).reshape(len(g), -1))
        names += [f"group[{lev}]:week[{wk}]" for lev in groups[1:] for wk in weeks[1:]]
    return np.hstack(cols), names


@dataclass(frozen=True)
class _Fit:
    """What :func:`mixed_model` needs from a fit: fixed effects, their covariance, log-likelihood."""

    beta: np.ndarray
    cov: np.ndarray
    llf: float
    note: str = ""
    theta: np.ndarray | None = None


def _patient_sums(X: np.ndarray, y: np.ndarray, subject: np.ndarray, _groups: dict | None = None):
    """Each patient's sums of the rows of ``X`` and of ``y``, and their numbers of rows (order of first appearance).

    ``_groups`` (a dict) keeps the grouping of each ``subject`` array already seen, for several ``X`` of one model.
    """
    order, starts, n_i = _grouping(subject, _groups)
    SX = np.add.reduceat(X[order], starts, axis=0)
    Sy = np.add.reduceat(y[order], starts)
    return SX, Sy, n_i.astype(float)


def _grouping(subject: np.ndarray, _groups: dict | None = None):
    """The rows of each patient together (an order), where each patient's rows start in it, and their numbers."""
    key = id(subject)
    if _groups is not None and key in _groups and _groups[key][0] is subject:
        return _groups[key][1:]
    codes, _ = pd.factorize(subject)
    n_i = np.bincount(codes)
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(n_i)[:-1]])
    if _groups is not None:
        _groups[key] = (subject, order, starts, n_i)
    return order, starts, n_i


def _patterns(sx: np.ndarray, ni: np.ndarray) -> np.ndarray:
    """Codes of the patients' distinct (n_i, s_i) rows (equal rows, equal codes)."""
    keys = np.column_stack([ni, sx])
    # a random projection finds the groups fast; every member is then checked equal to its group's first
    h = keys @ np.random.default_rng(0).random(keys.shape[1])
    codes, _ = pd.factorize(h)
    first = np.unique(codes, return_index=True)[1]
    if np.array_equal(keys, keys[first[codes]]):
        return codes
    return np.unique(keys, axis=0, return_inverse=True)[1].ravel()


def _ri_fit(y: np.ndarray, X: np.ndarray, subject: np.ndarray, *, reml: bool) -> _Fit:
    """Random-intercept linear mixed model by its exact profile likelihood (the model MixedLM fits).

    One model of :func:`_ri_fits` (which says how).
    """
    return _ri_fits([(y, X, subject, reml)])[0]


def _ri_fits(problems: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, bool]]) -> list[_Fit]:
    """Random-intercept linear mixed models ``(y, X, subject, reml)`` by their exact profile likelihoods, at once.

    With θ = τ²/σ², each patient's covariance is σ²(I + θJ), whose inverse and determinant are closed-form;
    β and σ² are profiled out, so the (restricted) log-likelihood is a function of θ alone, and so is its
    derivative, in closed form too (Q' = −Σ c_i' r_i² with c_i = θ/(1 + n_iθ) and r_i the patient's sum of
    residuals; d log|A|/dθ = −Σ c_i' s_i'A⁻¹s_i). The likelihood is evaluated on a grid of log θ in [−18, 10];
    the root of the derivative between the neighbours of the grid's best point is found by regula falsi
    (Illinois variant) to 1e-12 in log θ; θ = 0 (no between-patient variance) is the boundary candidate. The
    fixed-effects covariance is σ̂²(X'V̄⁻¹X)⁻¹.

    The models are stacked (patients and columns padded with zeros, which add nothing to any sum, and with an
    identity block in X'X, which adds nothing to any determinant), so each step is one batched evaluation for
    all of them: a marker family's dozens of fits cost about as many numpy calls as one.
    """
    F = len(problems)
    # patients with the same rows of X (same group and visits) share n_i and s_i = their sum of X's rows: the
    # likelihood needs per pattern only their number, Σ Sy_i and Σ Sy_i², so the sums run over patterns
    # models on one design (the same X and subject arrays: a family's models on the same rows) share its patterns
    pats, seen, groups, designs = [], {}, {}, {}
    for y, X, s, _ in problems:
        key = (id(y), id(X), id(s))
        if key not in seen:
            if key[1:] not in designs:
                sx, _, ni = _patient_sums(X, y, s, groups)
                inv = _patterns(sx, ni)
                first = np.unique(inv, return_index=True)[1]
                designs[key[1:]] = (sx[first], ni[first], np.bincount(inv), inv, X.T @ X, (X, s))
            sx, ni, ct, inv, xtx, _ = designs[key[1:]]
            order, starts, _ = _grouping(s, groups)
            sy = np.add.reduceat(y[order], starts)  # each patient's sum of y (as _patient_sums gives it)
            seen[key] = (sx, ni, ct, np.bincount(inv, weights=sy), np.bincount(inv, weights=sy ** 2), xtx,
                         X.T @ y, float(y @ y))
        pats.append(seen[key])
    # which models share a design (and so, at one θ, X'V̄⁻¹X), and which are the same problem (REML and ML fits
    # of one model: at one θ the same β and Q): the grid's likelihoods are computed once per design and problem
    design_no, problem_no = {k: i for i, k in enumerate(designs)}, {k: i for i, k in enumerate(seen)}
    d_rep, d_of = np.unique([design_no[(id(X), id(s))] for _, X, s, _ in problems], return_index=True,
                            return_inverse=True)[1:]
    u_rep, u_of = np.unique([problem_no[(id(y), id(X), id(s))] for y, X, s, _ in problems], return_index=True,
                            return_inverse=True)[1:]
    d_of, u_of = d_of.ravel(), u_of.ravel()
    M = max(pt[1].size for pt in pats)
    P = max(pr[1].shape[1] for pr in problems)
    SX, n_i, cnt, S1, S2 = np.zeros((F, M, P)), np.zeros((F, M)), np.zeros((F, M)), np.zeros((F, M)), np.zeros((F, M))
    XtX, Xty, yty = np.zeros((F, P, P)), np.zeros((F, P)), np.zeros(F)
    dims = np.zeros(F, dtype=int)
    N = np.zeros(F)
    reml = np.array([bool(pr[3]) for pr in problems])
    for f, ((y, _, _, _), (sx, ni, ct, s1, s2, xtx, xty, yy)) in enumerate(zip(problems, pats)):
        m_, p_ = sx.shape
        SX[f, :m_, :p_], n_i[f, :m_], cnt[f, :m_], S1[f, :m_], S2[f, :m_] = sx, ni, ct, s1, s2
        XtX[f, :p_, :p_], Xty[f, :p_], yty[f] = xtx, xty, yy
        XtX[f, p_:, p_:] = np.eye(P - p_)
        dims[f], N[f] = p_, len(y)
    m = np.where(reml, N - dims, N)
    const = m * np.log(2 * np.pi / m) + m
    SXT = SX.transpose(0, 2, 1)
    SXS1 = SX * S1[..., None]

    def negll(theta: np.ndarray, common: bool = False) -> np.ndarray:
        """The negative (restricted) log-likelihood of each model (rows) at each θ of its row of ``theta``;
        ``common``: all rows of ``theta`` are equal (each design's and each problem's terms are computed once)."""
        d, u = (d_rep, u_rep) if common else (slice(None), slice(None))
        nt = n_i[d, None, :] * theta[d, :, None]  # (F, K, patterns)
        c = theta[d, :, None] / (1 + nt)
        A = XtX[d, None] - (SXT[d, None] * (c * cnt[d, None, :])[:, :, None, :]) @ SX[d, None]
        logs = (cnt[d, None, :] * np.log1p(nt)).sum(-1)
        A_u, c_u = (A[d_of[u_rep]], c[d_of[u_rep]]) if common else (A, c)
        b = Xty[u, None] - c_u @ SXS1[u]
        beta = np.linalg.solve(A_u, b[..., None])[..., 0]
        Q = np.maximum(yty[u, None] - (c_u * S2[u, None, :]).sum(-1) - (b * beta).sum(-1), 1e-300)
        if common:
            Q, logs = Q[u_of], logs[d_of]
        f = m[:, None] * np.log(Q) + logs + const[:, None]
        if reml.any():  # log|X'V̄⁻¹X| of the REML fits (once per design when common)
            ld = np.zeros(f.shape)
            if common:
                need = np.unique(d_of[reml])
                per_design = np.zeros((len(d_rep), f.shape[1]))
                per_design[need] = np.linalg.slogdet(A[need])[1]
                ld[reml] = per_design[d_of[reml]]
            else:
                ld[reml] = np.linalg.slogdet(A[reml])[1]
            f = f + ld
        return 0.5 * f

    def slope(t: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """d(negll)/d log θ of the models ``idx`` at θ = exp(t)."""
        theta = np.exp(t)
        nt = n_i[idx] * theta[:, None]
        c, dc = theta[:, None] / (1 + nt), 1 / (1 + nt) ** 2
        ct = cnt[idx]
        Ainv = np.linalg.inv(XtX[idx] - (SXT[idx] * (c * ct)[:, None, :]) @ SX[idx])
        b = Xty[idx] - (c[:, None, :] @ SXS1[idx])[:, 0, :]
        beta = (Ainv @ b[..., None])[..., 0]
        mu = (SX[idx] @ beta[..., None])[..., 0]  # the pattern's fitted sum s'β
        r2 = S2[idx] - 2 * mu * S1[idx] + ct * mu ** 2  # Σ over the pattern's patients of (Sy_i − s'β)²
        Q = np.maximum(yty[idx] - (c * S2[idx]).sum(-1) - (b * beta).sum(-1), 1e-300)
        d = -m[idx] * (dc * r2).sum(-1) / Q + (ct * n_i[idx] / (1 + nt)).sum(-1)
        r = reml[idx]
        if r.any():  # the REML fits' d log|A| (computed for those rows only)
            sx = SX[idx[r]]
            trace = np.zeros(idx.size)
            trace[r] = (dc[r] * ct[r] * ((sx @ Ainv[r]) * sx).sum(-1)).sum(-1)
            d = d - trace
        return 0.5 * d * theta

    grid = np.arange(-18.0, 10.01, 2.0)
    j = np.argmin(negll(np.broadcast_to(np.exp(grid), (F, grid.size)), common=True), axis=1)
    rows = np.arange(F)
    lo, hi = grid[np.maximum(j - 1, 0)], grid[np.minimum(j + 1, grid.size - 1)]
    g_lo, g_hi = slope(lo, rows), slope(hi, rows)
    t_best = grid[j].astype(float)
    root = (g_lo < 0) & (g_hi > 0)
    # regula falsi (Illinois) on the derivative, all bracketed models at once
    a, b, fa, fb = lo.copy(), hi.copy(), g_lo.copy(), g_hi.copy()
    x = np.where(root, (a + b) / 2, t_best)
    active = root.copy()
    side = np.zeros(F, dtype=int)
    for _ in range(200):
        idx = np.flatnonzero(active)
        if not idx.size:
            break
        new = b[idx] - fb[idx] * (b[idx] - a[idx]) / (fb[idx] - fa[idx])
        bad = ~((new > a[idx]) & (new < b[idx]))
        new[bad] = (a[idx][bad] + b[idx][bad]) / 2
        fx = slope(new, idx)
        step = np.abs(new - x[idx])
        x[idx] = new
        left = fx < 0
        # the end kept twice in a row has its value halved (Illinois), so both ends move
        ia, ib = idx[left], idx[~left]
        a[ia], fa[ia] = new[left], fx[left]
        fb[ia] = np.where(side[ia] == -1, fb[ia] / 2, fb[ia])
        b[ib], fb[ib] = new[~left], fx[~left]
        fa[ib] = np.where(side[ib] == 1, fa[ib] / 2, fa[ib])
        side[ia], side[ib] = -1, 1
        done = (step < 1e-12) | (fx == 0) | (b[idx] - a[idx] < 1e-12)
        active[idx[done]] = False
    theta = np.exp(x)
    for f in np.flatnonzero(~root & (j > 0) & (j < grid.size - 1)):
        # no sign change around the grid's best (a flat likelihood): minimise there
        from scipy.optimize import minimize_scalar

        def one(v, f=f):
            th = np.zeros((F, 1))
            th[:, 0] = np.exp(v)
            return float(negll(th)[f, 0])

        theta[f] = float(np.exp(minimize_scalar(one, bounds=(lo[f], hi[f]), method="bounded",
                                                options={"xatol": 1e-10}).x))
    f0 = negll(np.column_stack([np.zeros(F), theta]))
    theta = np.where(f0[:, 0] <= f0[:, 1], 0.0, theta)
    nt = n_i * theta[:, None]
    c = theta[:, None] / (1 + nt)
    A = XtX - (SXT * (c * cnt)[:, None, :]) @ SX
    bvec = Xty - (c[:, None, :] @ SXS1)[:, 0, :]
    # all models' (X'V̄⁻¹X)⁻¹ at once: the identity block of the padding inverts to itself
    Ainv = np.linalg.inv(A)
    beta = (Ainv @ bvec[..., None])[..., 0]
    Q = np.maximum(yty - (c * S2).sum(-1) - (bvec * beta).sum(-1), 1e-300)
    fits = []
    for f in range(F):
        p_ = dims[f]
        fits.append(_Fit(beta=beta[f, :p_], cov=(Q[f] / m[f]) * Ainv[f, :p_, :p_], llf=-float(f0[f].min()),
                         note="" if theta[f] > 0 else "between-patient variance estimated at zero"))
    return fits


def _lmm_fit(y: np.ndarray, X: np.ndarray, subject: np.ndarray, Z: np.ndarray, *, reml: bool,
             start: np.ndarray | None = None, _sums: dict | None = None) -> _Fit:
    """Linear mixed model with correlated random effects ``Z`` per patient, by its profiled likelihood.

    The parametrisation of lme4 (Bates et al. 2015, J Stat Softw 67(1), section 3): the random effects'
    covariance is σ²ΛΛ' with Λ lower triangular; β and σ² are profiled out, so the (restricted)
    log-likelihood is a function of Λ's q(q+1)/2 entries only, maximised by L-BFGS-B with the diagonal of Λ
    bounded at zero. Per patient only q × q systems are solved, all patients at once (batched), from the
    sums Z'Z, Z'X, Z'y computed once: the model statsmodels ``MixedLM`` fits, with the same estimates
    (tested), without its per-patient loops. The fixed-effects covariance is σ̂²(X'V̄⁻¹X)⁻¹.

    ``start`` is the starting value of Λ's entries (row-major lower triangle; default: the identity): the
    fits of one outcome start each from the last one's optimum. ``_sums`` (a dict) keeps the sums of
    :func:`_lmm_sums` for several fits on the same arrays (the REML and ML fits of one model).

    Raises :class:`_NotFitted` when the optimiser does not converge or the random-effects covariance is
    singular (the slope model is then not kept, as before with MixedLM).
    """
    from scipy.optimize import minimize

    key = (id(y), id(X), id(subject), id(Z))
    if _sums is None or key not in _sums:
        found = _lmm_sums(y, X, subject, Z)
        if _sums is not None:
            _sums[key] = (found, (y, X, subject, Z))
    else:
        found = _sums[key][0]
    N, p, q, m, ZtZ, ZtXy, XtX, Xty, yty, rows, cols, eye, pattern = found
    if q == 2:
        cnt, z00, z01, z11, P00, P11, P01 = pattern
    denom = N - p if reml else N

    def parts(theta):
        """A, β, Q, log-determinant and Λ at each row of ``theta`` (k × entries), all at once; a row whose
        Λ'Z'ZΛ + I is not positive definite for some patient gets Q = NaN."""
        k = theta.shape[0]
        lam = np.zeros((k, q, q))
        lam[:, rows, cols] = theta
        if q == 2:
            l0, l1, l2 = theta[:, 0:1], theta[:, 1:2], theta[:, 2:3]  # Λ = [[l0, 0], [l1, l2]]
            a = 1 + l0 * (z00 * l0 + z01 * l1) + l1 * (z01 * l0 + z11 * l1)  # M = Λ'Z'ZΛ + I, (k, m)
            b = l2 * (z01 * l0 + z11 * l1)
            d = 1 + l2 * l2 * z11
            det = a * d - b * b
            with np.errstate(divide="ignore", invalid="ignore"):
                # u = Λ'Z'[X y] row 1 = l0 R0 + l1 R1, v = row 2 = l2 R1; S = Σ (d uu' − b(uv' + vu') + a vv') / det
                w00 = d * l0 * l0 / det
                w01 = (d * l0 * l1 - b * l0 * l2) / det
                w11 = (d * l1 * l1 - 2 * b * l1 * l2 + a * l2 * l2) / det
            S = (w00 @ P00 + w01 @ P01 + w11 @ P11).reshape(k, p + 1, p + 1)
        else:
            lamT = lam.transpose(0, 2, 1)
            M = lamT[:, None] @ ZtZ[None] @ lam[:, None] + eye  # (k, m, q, q)
            Bc = lamT[:, None] @ ZtXy[None]  # (k, m, q, p + 1): Λ'Z'X and Λ'Z'y side by side
            if q == 1:
                det = M[:, :, 0, 0]
                u = Bc[:, :, 0, :]
                S = (u.transpose(0, 2, 1) / det[:, None, :]) @ u  # Σ (Λ'Z'[X y])' M⁻¹ Λ'Z'[X y]
            else:
                sign, logdets = np.linalg.slogdet(M)
                det = np.where(sign > 0, np.exp(logdets), 0.0)
                MB = np.linalg.solve(M, Bc)
                S = Bc.reshape(k, m * q, p + 1).transpose(0, 2, 1) @ MB.reshape(k, m * q, p + 1)
        ok = np.all(det > 0, axis=1)
        A = XtX[None] - S[:, :p, :p]
        b_ = Xty[None] - S[:, :p, p]
        if not ok.all():
            A[~ok] = np.eye(p)
        try:
            beta = np.linalg.solve(A, b_[..., None])[..., 0]
        except np.linalg.LinAlgError:  # a singular A in the batch: solve row by row, that row not defined
            beta = np.zeros((k, p))
            for j in range(k):
                try:
                    beta[j] = np.linalg.solve(A[j], b_[j])
                except np.linalg.LinAlgError:
                    ok[j] = False
                    A[j] = np.eye(p)
        Q = np.maximum(yty - S[:, p, p] - (b_ * beta).sum(1), 1e-300)
        if not ok.all():
            Q[~ok] = np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            logdet = (np.log(det) * cnt).sum(1) if q == 2 else np.log(det).sum(1)
        return A, beta, Q, logdet, lam

    def negll(theta):
        """Negative (restricted) log-likelihood at each row of ``theta`` (∞ where not positive definite)."""
        A, _, Q, logdet, _ = parts(theta)
        value = denom * np.log(2 * np.pi * Q / denom) + logdet + denom
        if reml:
            value = value + np.linalg.slogdet(A)[1]
        return np.where(np.isnan(Q), np.inf, 0.5 * value)

    start = eye[rows, cols].astype(float) if start is None else np.asarray(start, float)
    bounded = rows == cols  # the diagonal of Λ is bounded below at zero
    bounds = [(0.0, None) if bd else (None, None) for bd in bounded]
    h = 1e-6
    steps = np.eye(rows.size) * h

    def value_and_grad(theta):
        """The likelihood and its central-difference gradient (one-sided at the bound) from one batched call."""
        f = negll(np.vstack([theta, theta + steps, theta - steps]))
        f0, up, down = f[0], f[1:1 + rows.size], f[1 + rows.size:]
        one_sided = bounded & (theta - h < 0)
        with np.errstate(invalid="ignore"):
            g = np.where(one_sided, (up - f0) / h, (up - down) / (2 * h))
        return float(f0), g

    opt = minimize(value_and_grad, start, jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 500, "ftol": 1e-10, "gtol": 1e-6})
    if not opt.success and np.isfinite(opt.fun):
        # L-BFGS-B stops "abnormally" when its line search cannot improve on a point that is already the
        # optimum up to rounding; accept it when the projected gradient there is small
        g = value_and_grad(opt.x)[1]
        g[(opt.x <= 0) & (g > 0) & bounded] = 0.0
        opt.success = bool(np.max(np.abs(g)) < 1e-3)
    if not opt.success or not np.isfinite(opt.fun):
        raise _NotFitted(f"did not converge ({opt.message})")
    A, beta, Q, _, lam = (x[0] for x in parts(opt.x[None, :]))
    sigma2 = float(Q) / denom
    cov_re = sigma2 * lam @ lam.T
    eig = np.linalg.eigvalsh(cov_re)
    if q > 1 and eig.min() <= 1e-6 * max(eig.max(), 1e-12):
        raise _NotFitted("did not converge (singular random-effects covariance)")
    return _Fit(beta=beta, cov=sigma2 * np.linalg.inv(A), llf=-float(opt.fun), theta=opt.x)


def _lmm_sums(y: np.ndarray, X: np.ndarray, subject: np.ndarray, Z: np.ndarray) -> tuple:
    """What :func:`_lmm_fit`'s likelihood needs of the data: sizes, per-patient Z'Z and Z'[X y], X'X, X'y, y'y,
    Λ's entries, and (one random slope) the per-pattern sums; raises :class:`_NotFitted` when Z has low rank."""
    N, p = X.shape
    q = Z.shape[1]
    if np.linalg.matrix_rank(Z.T @ Z) < q:
        raise _NotFitted("the random effects are not identifiable (their design has rank below its columns)")
    # per patient: Z'Z, and Z'X beside Z'y (sums over each patient's rows)
    ZZ = (Z[:, :, None] * Z[:, None, :]).reshape(N, q * q)
    ZXy = (Z[:, :, None] * np.column_stack([X, y])[:, None, :]).reshape(N, q * (p + 1))
    sums, _, n_i = _patient_sums(np.column_stack([ZZ, ZXy]), y, subject)
    m = n_i.size
    ZtZ = sums[:, :q * q].reshape(m, q, q)
    ZtXy = sums[:, q * q:].reshape(m, q, p + 1)
    XtX, Xty, yty = X.T @ X, X.T @ y, float(y @ y)
    rows, cols = np.tril_indices(q)
    eye = np.eye(q)
    pattern = None

    if q == 2:  # intercept and slope: each patient's 2 × 2 algebra written out, products of [X y] precomputed
        # patients with the same Z'Z (the same visits) share M = Λ'Z'ZΛ + I, so the weights below are computed
        # per such pattern and the products of [X y] summed over its patients
        pat = _patterns(ZtZ.reshape(m, q * q), np.zeros(m))
        first = np.unique(pat, return_index=True)[1]
        one_hot = (pat[None, :] == np.arange(first.size)[:, None]).astype(float)
        cnt = one_hot.sum(axis=1)
        z00, z01, z11 = ZtZ[first, 0, 0], ZtZ[first, 0, 1], ZtZ[first, 1, 1]
        R0, R1 = ZtXy[:, 0, :], ZtXy[:, 1, :]
        P00 = one_hot @ (R0[:, :, None] * R0[:, None, :]).reshape(m, -1)
        P11 = one_hot @ (R1[:, :, None] * R1[:, None, :]).reshape(m, -1)
        cross = (R0[:, :, None] * R1[:, None, :]).reshape(m, -1)
        P01 = one_hot @ (cross + (R1[:, :, None] * R0[:, None, :]).reshape(m, -1))
        pattern = (cnt, z00, z01, z11, P00, P11, P01)
    return N, p, q, m, ZtZ, ZtXy, XtX, Xty, yty, rows, cols, eye, pattern


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
    (:func:`_ri_fit`: the root of its closed-form derivative), and the random-slope model by the profiled
    likelihood of lme4's parametrisation (:func:`_lmm_fit`): the models statsmodels ``MixedLM`` fits, with the
    same estimates (tested), tens to hundreds of times faster, which matters for families of markers and for
    robustness runs (:func:`mixed_models` fits a family's random-intercept models at once).
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
    return _fit_model(data, dv=dv, weeks=weeks, groups=groups, subject=subject, group=group, week=week,
                      transform=transform, random=random, confidence=confidence)


def _fit_model(data: pd.DataFrame, *, dv: str, weeks: Sequence[int], groups: Sequence[str] = GROUPS,
               subject: str = "patient_id", group: str = "group", week: str = "week",
               transform: str = "none", random: str = "auto", confidence: float = 0.95,
               frames: bool = True) -> Look:
    """:func:`mixed_model`; with ``frames=False`` its ``means`` and ``contrasts`` are dicts of columns (lists and
    arrays of one length), which :func:`mixed_models` stacks for a whole family before making one table of each."""
    prep = _prepare(data, dv=dv, weeks=weeks, groups=groups, subject=subject, group=group, week=week,
                    transform=transform, random=random)
    if isinstance(prep, str):
        return Look(_empty_model(), prep)
    return _finish(prep, random=random, confidence=confidence, frames=frames)


def _prepare(data: pd.DataFrame, *, dv: str, weeks: Sequence[int], groups: Sequence[str], subject: str, group: str,
             week: str, transform: str, random: str, shared: dict | None = None):
    """The rows, outcome and designs of one model (a dict), or a str saying why it cannot be fitted.

    ``shared`` (a dict) keeps what several models of one table (``data``) have in common: its rows in the model
    (with their codes of group, week and patient), each outcome's values, and the designs of each set of rows
    (models on the same rows share their arrays); :func:`mixed_models` passes one for a family.
    """
    _check_frame(data, "data", [subject, group, week, dv])
    _check_choice("transform", transform, _TRANSFORMS)
    _check_choice("random", random, _RANDOM)
    shared = {} if shared is None else shared
    if "rows" not in shared:
        shared["rows"] = _model_rows(data, weeks=weeks, groups=groups, subject=subject, group=group, week=week)
    rows_ = shared["rows"][0]
    values, below, above = _outcome_values(data, dv, shared)
    y_all = _transform_values(values[rows_], None if below is None else below[rows_],
                              None if above is None else above[rows_], transform)
    missing = np.isnan(y_all)
    key = ("kept", missing.tobytes())
    if key not in shared:  # the models of a family with values on the same rows share their structure and arrays
        shared[key] = _structure(np.flatnonzero(~missing), shared["rows"], weeks=weeks, groups=groups)
    found = shared[key]
    if isinstance(found, str):
        return f"{dv}: {found}"
    return dict(dv=dv, transform=transform, y=y_all[found["at"]], **found)


def _outcome_values(data: pd.DataFrame, dv: str, shared: dict) -> tuple:
    """An outcome's values (float, NaN when missing or not a number) and where they are flagged below or above
    the limits (None without flags), kept in ``shared``."""
    if ("values", dv) not in shared:
        flag = data[f"{dv}_flag"] if f"{dv}_flag" in data.columns else None
        # the flags as objects, missing ones None: == gives flag.eq(...) with missing as False, without pandas'
        # string-array comparison
        tokens = None if flag is None else flag.to_numpy(dtype=object, na_value=None)
        shared[("values", dv)] = (pd.to_numeric(data[dv], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
                                  None if flag is None else tokens == _BELOW,
                                  None if flag is None else tokens == _ABOVE)
    return shared[("values", dv)]


def _structure(keep: np.ndarray, rows: tuple, *, weeks: Sequence[int], groups: Sequence[str]) -> dict | str:
    """What a model takes from the rows with a value (``keep``, positions in the rows of :func:`_model_rows`):
    the groups present, the weeks kept, the number of rows per cell, its rows in order (positions ``at``), their
    group, week and patient, its designs; or why no model can be fitted on these rows."""
    rows_, g_all, w_all, s_all, g_code, w_code, s_code, w_float = rows
    gk, wk_code, sk = g_code[keep], w_code[keep], s_code[keep]
    # keep weeks observed in every group present (a full factorial needs every cell)
    n_g, n_w = len(groups), len(weeks)
    cells = np.bincount(gk * n_w + wk_code, minlength=n_g * n_w).reshape(n_g, n_w)
    has = cells.sum(axis=1) > 0
    present = [lev for j, lev in enumerate(groups) if has[j]]
    g_first = gk[np.unique(sk, return_index=True)[1]]  # each patient's group at their first row
    per_group = {lev: int(np.count_nonzero(g_first == j)) for j, lev in enumerate(groups) if has[j]}
    if len(present) < 2 or min(per_group.values()) < 2:
        return f"fewer than two groups with at least two patients ({per_group})"
    cell_n = {(lev, ww): int(cells[j, i]) for j, lev in enumerate(groups) if has[j] for i, ww in enumerate(weeks)}
    wk_at = [i for i in range(n_w) if all(cells[j, i] > 0 for j in range(n_g) if has[j])]
    wk = [weeks[i] for i in wk_at]
    if len(wk) < 2:
        return "fewer than two visits observed in every group"
    inside = np.isin(wk_code, wk_at)
    order = np.lexsort((w_float[keep][inside], sk[inside]))  # by patient, then visit
    at = keep[inside][order]
    idx = rows_[at]
    cell = _cells(present, wk)
    g_pos, w_pos = np.full(n_g, -1), np.full(n_w, -1)
    g_pos[np.flatnonzero(has)] = np.arange(len(present))
    w_pos[wk_at] = np.arange(len(wk))
    row_cell = g_pos[g_code[at]] * len(wk) + w_pos[w_code[at]]
    X = cell["G"][row_cell]  # every row's design is its group × week cell's (the 0/1 values _design gives)
    # every group × week cell holds data (checked above), so the full-factorial dummy coding has full rank
    if len(at) <= X.shape[1] + 2:
        return f"too few observations for {X.shape[1]} fixed effects"
    counts = [cell_n[(gg, ww)] for gg, ww in zip(cell["cell_g"], cell["cell_w"])]
    return {"at": at, "present": present, "wk": wk, "cell_n": cell_n, "cell_counts": counts, "g": g_all[idx],
            "w": w_all[idx], "subj": s_all[idx], "X": X, "X0": cell["G0"][row_cell], "names": cell["names"],
            "n_subj": int(np.unique(s_code[at]).size), "cell": cell}


def _model_rows(data: pd.DataFrame, *, weeks: Sequence[int], groups: Sequence[str], subject: str, group: str,
                week: str):
    """The rows of a table in the models (the first per patient × visit of ``groups`` and ``weeks``), the table's
    group, week and patient columns as arrays, and per row in the models its group and week codes (positions in
    ``groups`` and ``weeks``), patient code (in sorted order) and week as float."""
    g_all, w_all = data[group].to_numpy(object), data[week].to_numpy()
    rows_ = np.flatnonzero(pd.Series(g_all).isin(list(groups)).to_numpy()
                           & pd.Series(w_all).isin(list(weeks)).to_numpy())
    s_all = data[subject].to_numpy()
    s_codes = pd.factorize(s_all[rows_], sort=True)[0]
    w_codes = pd.factorize(w_all[rows_])[0]
    _, first = np.unique(s_codes.astype(np.int64) * (w_codes.max() + 1 if w_codes.size else 1) + w_codes,
                         return_index=True)
    first = np.sort(first)  # one row per patient × visit: the first
    rows_ = rows_[first]
    g, w = g_all[rows_], w_all[rows_]
    g_code, w_code = np.full(len(rows_), -1), np.full(len(rows_), -1)
    for j, lev in enumerate(groups):
        g_code[g == lev] = j
    for j, wk in enumerate(weeks):
        w_code[w == wk] = j
    return rows_, g_all, w_all, s_all, g_code, w_code, s_codes[first], w.astype(float)


def _cells(present: Sequence[str], wk: Sequence[int]) -> dict:
    """The group × week cells of a model (groups outer): their groups and weeks, design rows (``G`` with the
    interaction, ``G0`` without), the names of the columns and the interaction's; the contrasts' kinds, weeks,
    names and matrix ``L``."""
    cell_g = [gg for gg in present for ww in wk]
    cell_w = [ww for gg in present for ww in wk]
    G, names = _design(present, wk, np.array(cell_g, dtype=object), np.array(cell_w))
    G0, _ = _design(present, wk, np.array(cell_g, dtype=object), np.array(cell_w), interaction=False)
    # contrasts: between groups at each week; each week against the first within each group
    pos = {(gg, ww): i for i, (gg, ww) in enumerate(zip(cell_g, cell_w))}
    spec = [("between groups", ww, f"{ga} − {gb}", (ga, ww), (gb, ww))
            for ww in wk for i, ga in enumerate(present) for gb in present[i + 1:]]
    spec += [("versus first visit", ww, f"{gg}: week {ww} − week {wk[0]}", (gg, ww), (gg, wk[0]))
             for gg in present for ww in wk[1:]]
    L = G[[pos[a] for *_, a, _b in spec]] - G[[pos[b_] for *_, b_ in spec]]
    return {"cell_g": cell_g, "cell_w": cell_w, "G": G, "G0": G0, "names": names, "L": L,
            "kind": [c[0] for c in spec], "week": [c[1] for c in spec], "contrast": [c[2] for c in spec],
            "interaction": [i for i, n in enumerate(names) if ":" in n]}


def _finish(prep: dict, *, random: str, confidence: float, frames: bool, intercept_fits=None) -> Look:
    """Fit a prepared model (:func:`_prepare`) and make its tables; ``intercept_fits`` are its three
    random-intercept fits (REML, ML, ML without the interaction) when :func:`mixed_models` fitted a family's
    at once."""
    dv, transform, y, w, subj = prep["dv"], prep["transform"], prep["y"], prep["w"], prep["subj"]
    X, X0, present, wk, n_subj = (prep[k] for k in ("X", "X0", "present", "wk", "n_subj"))
    order = {"auto": ["slope", "intercept"], "slope": ["slope"], "intercept": ["intercept"]}[random]
    fits, failures = None, []
    for name in order:
        try:
            if name == "slope":
                slope_Z = np.column_stack([np.ones(len(y)), (w.astype(float) / max(float(max(wk)), 1.0))])
                sums: dict = {}  # the REML and ML fits share the data's sums
                first = _lmm_fit(y, X, subj, slope_Z, reml=True, _sums=sums)
                full = _lmm_fit(y, X, subj, slope_Z, reml=False, start=first.theta, _sums=sums)
                fits = (name, first, full, _lmm_fit(y, X0, subj, slope_Z, reml=False, start=full.theta))
            elif intercept_fits is not None:
                fits = (name, *intercept_fits)
            else:
                fits = (name, _ri_fit(y, X, subj, reml=True), _ri_fit(y, X, subj, reml=False),
                        _ri_fit(y, X0, subj, reml=False))
            break
        except (_NotFitted, np.linalg.LinAlgError) as exc:
            failures.append(f"{name}: {exc}")
    if fits is None:
        why = f"{dv}: the mixed model did not converge ({'; '.join(failures)})"
        return Look(_empty_model() if frames else {}, why)
    used, reml, ml_full, ml_red = fits
    note = "; ".join([f"random {f}" for f in failures] + ([reml.note] if reml.note else []))
    k = X.shape[1]
    beta, V = reml.beta, reml.cov
    # likelihood-ratio test of the interaction (ML fits)
    lr = max(0.0, 2 * (ml_full.llf - ml_red.llf))
    lr_df = k - X0.shape[1]
    p_lr = float(_special.chdtrc(lr_df, lr))
    # Wald F of the interaction (REML fit), between–within denominator df
    idx = prep["cell"]["interaction"]
    b = beta[idx]
    W = float(b @ np.linalg.solve(V[np.ix_(idx, idx)], b))
    df1 = float(len(idx))
    between = 1 + (len(present) - 1)
    df2 = float(len(y) - n_subj - (k - between))
    F = W / df1
    p_wald = float(_special.fdtrc(df1, df2, F)) if df2 > 0 else np.nan
    test = dict(outcome=dv, scale=transform, n_patients=n_subj, n_obs=len(y), weeks=", ".join(map(str, wk)),
                random="intercept + slope" if used == "slope" else "intercept",
                lr_stat=lr, lr_df=float(lr_df), p_lr=p_lr, wald_F=F, df1=df1, df2=df2, p_wald=p_wald, note=note)
    # model-based means per group × week
    z = z_quantile(confidence)
    cell = prep["cell"]
    cell_g, cell_w, G, L = (cell[k] for k in ("cell_g", "cell_w", "G", "L"))
    mean = G @ beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", G, V, G))
    means = {"outcome": [dv] * len(cell_g), "scale": [transform] * len(cell_g), "group": cell_g, "week": cell_w,
             "n": prep["cell_counts"], "mean": mean, "se": se,
             "ci_low": mean - z * se, "ci_high": mean + z * se}
    # contrasts: between groups at each week; each week against the first within each group (all at once)
    est = L @ beta
    s_ = np.sqrt(np.einsum("ij,jk,ik->i", L, V, L))
    with np.errstate(divide="ignore", invalid="ignore"):
        p_c = 2 * _special.ndtr(-np.abs(est / s_))
    n_c = len(cell["kind"])
    contrasts = {"outcome": [dv] * n_c, "scale": [transform] * n_c, "kind": cell["kind"], "week": cell["week"],
                 "contrast": cell["contrast"], "estimate": est,
                 "se": s_, "ci_low": est - z * s_, "ci_high": est + z * s_, "p": p_c}
    facts = {"random": test["random"], "p_lr": p_lr, "p_wald": p_wald}
    if frames:
        test = pd.DataFrame([test], columns=_TEST_COLS)
        means, contrasts = _stack([means], _MEAN_COLS), _stack([contrasts], _CONTRAST_COLS)
    return Look({"test": test, "means": means, "contrasts": contrasts}, "", facts)


def _stack(parts: list[dict], columns: list[str]) -> pd.DataFrame:
    """One table from dicts of columns (lists or arrays), stacked in order: what ``pd.concat`` of their tables gives."""
    if not parts:
        return pd.DataFrame(columns=columns)
    out = {}
    for c in columns:
        values = [p[c] for p in parts]
        out[c] = np.concatenate(values) if isinstance(values[0], np.ndarray) else \
            _column([v for vs in values for v in vs])
    return pd.DataFrame(out, columns=columns)


def _column(values: list):
    """A list as pandas makes it into a column, made faster: Python ints as an int64 array, str as an object
    array; any other list as it is."""
    kinds = {type(v) for v in values}
    if kinds == {str}:
        return np.array(values, dtype=object)
    if kinds == {int} and -2 ** 63 <= min(values) and max(values) < 2 ** 63:
        return np.array(values, dtype=np.int64)
    return values


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
    _check_choice("random", random, _RANDOM)
    tests, means, contrasts, reasons = [], [], [], []
    preps, shared, empty = [], {}, {}
    for scale in transforms:
        for dv in outcomes:
            if dv not in empty:  # no value at all (checked once per outcome; its values kept for the models)
                empty[dv] = dv not in visits.columns or bool(np.isnan(_outcome_values(visits, dv, shared)[0]).all())
            if empty[dv]:
                preps.append((dv, scale, None))
            else:
                preps.append((dv, scale, _prepare(visits, dv=dv, weeks=weeks, groups=groups, subject="patient_id",
                                                  group="group", week="week", transform=scale, random=random,
                                                  shared=shared)))
    ready = [p for _, _, p in preps if isinstance(p, dict)]
    batched: dict[int, tuple] = {}
    if random == "intercept" and ready:
        # every model's three random-intercept fits, each kind for the whole family at once
        try:
            fits = _ri_fits([(p["y"], p[X], p["subj"], reml) for p in ready
                             for X, reml in (("X", True), ("X", False), ("X0", False))])
            batched = {id(p): tuple(fits[3 * i:3 * i + 3]) for i, p in enumerate(ready)}
        except np.linalg.LinAlgError:  # one model is singular: each is fitted on its own (and that one says so)
            batched = {}
    for dv, scale, prep in preps:
        if prep is None:
            why = f"{dv}: not in these data"
            tests.append(dict(outcome=dv, scale=scale, note=why))
            reasons.append(why)
            continue
        look = Look({}, prep) if isinstance(prep, str) else _finish(prep, random=random, confidence=confidence,
                                                                    frames=False, intercept_fits=batched.get(id(prep)))
        if look.available:
            tests.append(look["test"])
            means.append(look["means"])
            contrasts.append(look["contrasts"])
        else:
            tests.append(dict(outcome=dv, scale=scale, note=look.reason))
            reasons.append(look.reason)
    # one table from the rows (as the one-row tables stacked would give; when no model was fitted, the notes and
    # NaN elsewhere)
    test = pd.DataFrame(tests, columns=_TEST_COLS) if tests else pd.DataFrame(columns=_TEST_COLS)
    floats = {c: float for c in ("lr_stat", "lr_df", "p_lr", "wald_F", "df1", "df2", "p_wald")
              if test[c].dtype != np.float64}
    if floats:
        test = test.astype(floats)
    if adjust:  # p_holm and p_bh, adjusted within each scale, inserted before the note
        p, scale_of = test["p_lr"].to_numpy(float), test["scale"].to_numpy(object)
        holm, bh = np.full(len(test), np.nan), np.full(len(test), np.nan)
        for scale in dict.fromkeys(scale_of):
            at = np.flatnonzero(scale_of == scale)
            holm[at] = stats.adjust_pvalues(p[at], "holm")
            bh[at] = stats.adjust_pvalues(p[at], "fdr_bh")
        at = test.columns.get_loc("note")
        test.insert(at, "p_holm", holm)
        test.insert(at + 1, "p_bh", bh)
    fitted = bool((~np.isnan(test["p_lr"].to_numpy(float))).any())
    # each reason once (one model per scale gives the same reason again); absent outcomes named together
    absent = list(dict.fromkeys(r.split(":")[0] for r in reasons if r.endswith(": not in these data")))
    others = list(dict.fromkeys(r for r in reasons if not r.endswith(": not in these data")))
    said = ([f"not in these data: {', '.join(absent)}"] if absent else []) + others
    reason = "" if fitted else ("; ".join(said) or "no outcome to model")
    return Look({"test": test,
                 "means": _stack(means, _MEAN_COLS), "contrasts": _stack(contrasts, _CONTRAST_COLS)}, reason)


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
        keep = {"p_unc": "p_per_visit", "p_bonf": "p_per_visit_bonf"}
        keep = {k: v for k, v in keep.items() if k in pairwise.columns}
        found = _pairwise_rows(out.assign(week=pd.to_numeric(out["week"])), pairwise, list(keep))
        if found is not None:  # what the merge below gives, by a lookup
            return found.rename(columns=keep)
        pw = pairwise.copy()
        pw["contrast"] = pw["a"].astype(str) + " − " + pw["b"].astype(str)
        flipped = pw.assign(contrast=pw["b"].astype(str) + " − " + pw["a"].astype(str))
        pw = pd.concat([pw, flipped], ignore_index=True).drop_duplicates(["outcome", "week", "contrast"])
        pw = pw[["outcome", "week", "contrast"] + list(keep)].rename(columns=keep)
        pw["week"] = pd.to_numeric(pw["week"], errors="coerce")
        out = out.assign(week=pd.to_numeric(out["week"])).merge(pw, on=["outcome", "week", "contrast"], how="left")
    return out


def _pairwise_rows(out: pd.DataFrame, pairwise: pd.DataFrame, cols: list[str]) -> pd.DataFrame | None:
    """``out`` with ``cols`` of the per-visit test of each of its rows (the first row of ``pairwise`` with its
    outcome, week and groups, either way round; NaN when none), or None when the weeks are not both whole
    numbers without gaps or a column is not float (then :func:`beside_per_visit` merges the tables)."""
    weeks = pd.to_numeric(pairwise["week"], errors="coerce")
    if not len(out) or weeks.dtype != np.int64 or out["week"].dtype != np.int64 or \
            any(pairwise[c].dtype != np.float64 for c in cols):
        return None
    outcome, week = pairwise["outcome"].to_numpy(object), weeks.tolist()
    a, b = pairwise["a"].astype(str).to_numpy(object), pairwise["b"].astype(str).to_numpy(object)
    first: dict = {}
    for i in range(len(pairwise)):
        first.setdefault((outcome[i], week[i], a[i] + " − " + b[i]), i)
    for i in range(len(pairwise)):
        first.setdefault((outcome[i], week[i], b[i] + " − " + a[i]), i)
    at = np.array([first.get(key, -1) for key in zip(out["outcome"].tolist(), out["week"].tolist(),
                                                      out["contrast"].tolist())], dtype=np.int64)
    found = out.copy()
    for c in cols:
        found[c] = np.where(at >= 0, pairwise[c].to_numpy(float)[np.maximum(at, 0)], np.nan)
    return found


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
    n_cens = {m: _n_censored(visits[f"{m}_flag"]) if f"{m}_flag" in visits.columns else 0 for m in markers}
    test.insert(test.columns.get_loc("n_obs") + 1, "n_censored",
                np.array([n_cens.get(o, 0) for o in test["outcome"]], dtype=np.int64))
    return Look({**look.tables, "test": test}, look.reason)


def _n_censored(flag: pd.Series) -> int:
    """How many values of a flag column are ``"<LLOQ"`` or ``">ULOQ"`` (missing flags are not)."""
    tokens = flag.to_numpy(dtype=object, na_value=None)
    return int(np.count_nonzero((tokens == _BELOW) | (tokens == _ABOVE)))


def marker_section(derived, *, markers: Sequence[str], claim_markers: Sequence[str],
                   scales: Sequence[str] = ("log", "rank"), random: str = "intercept", confidence: float = 0.95,
                   alpha: float = 0.05) -> Look:
    """A family of markers over the visits (:func:`marker_models`), with the facts a page and its claims read.

    The immune and inflammation chapters' second looks. The Treg/Th17 ratio, when it is one of ``markers``,
    is left out at the visits where it is undefined (``ratio_undefined``: Th17 = 0).

    Parameters
    ----------
    derived : Derived
        :func:`analysis.science.derive.derive` output (its ``design`` gives the weeks).
    markers : sequence of str
        The family (Holm and BH adjust over it, per scale).
    claim_markers : sequence of str
        Markers whose p-values enter ``facts`` (those the chapter's claims name).
    scales, random, confidence
        As :func:`marker_models`.
    alpha : float
        Significance level of the counts in ``facts``.

    Returns
    -------
    Look
        The tables of :func:`marker_models`; facts ``weeks``, ``n_markers``, per scale ``n_sig_raw_<scale>``,
        ``n_sig_holm_<scale>``, ``n_fitted_<scale>``, and per claim marker and scale ``p_<marker>_<scale>``
        (unadjusted), ``p_holm_<marker>_<scale>`` and ``note_<marker>_<scale>`` (why no model, else empty).

    Examples
    --------
    >>> from analysis.science.derive import derive
    >>> from analysis.science.methods.look import demo_cohort
    >>> look = marker_section(derive(demo_cohort()), markers=["il_6", "tnf_a"], claim_markers=["il_6"])
    >>> look.facts["n_markers"], sorted(k for k in look.facts if k.startswith("p_holm"))
    (2, ['p_holm_il_6_log', 'p_holm_il_6_rank'])
    """
    visits = derived.visits.copy()
    if "treg_th17_ratio" in markers and "treg_th17_ratio" in visits.columns and "ratio_undefined" in visits.columns:
        visits["treg_th17_ratio"] = visits["treg_th17_ratio"].mask(visits["ratio_undefined"].astype(bool))
    look = marker_models(visits, markers=markers, weeks=derived.design.visit_weeks, scales=scales, random=random,
                         confidence=confidence)
    test = look["test"]
    facts: dict = {"weeks": derived.design.describe_weeks(), "n_markers": len(markers)}
    outcome_of, scale_of, notes = (test[c].to_numpy(object) for c in ("outcome", "scale", "note"))
    p_lr, p_holm = test["p_lr"].to_numpy(float), test["p_holm"].to_numpy(float)
    for scale in scales:
        part = scale_of == scale
        with np.errstate(invalid="ignore"):
            facts[f"n_sig_raw_{scale}"] = int(np.count_nonzero(p_lr[part] < alpha))
            facts[f"n_sig_holm_{scale}"] = int(np.count_nonzero(p_holm[part] < alpha))
        facts[f"n_fitted_{scale}"] = int(np.count_nonzero(~np.isnan(p_lr[part])))
    for m in claim_markers:
        for scale in scales:
            row = np.flatnonzero((outcome_of == m) & (scale_of == scale))[:1]
            facts[f"p_holm_{m}_{scale}"] = float(p_holm[row[0]]) if len(row) else np.nan
            facts[f"p_{m}_{scale}"] = float(p_lr[row[0]]) if len(row) else np.nan
            note = str(notes[row[0]]) if len(row) and pd.notna(notes[row[0]]) else ""
            facts[f"note_{m}_{scale}"] = note.replace(f"{m}:", f"{LABELS.get(m, m)}:", 1)
    reason = look.reason
    if "group" in visits.columns and not visits["group"].eq("Responder").any():
        # the models compare non-responders and controls only: no test of a claim about the response group
        facts["no_responders"] = True
        facts.update({k: np.nan for k in facts if k.startswith("p_")})
        reason = reason or "these data have no responders: the models compare only the non-responders and the controls"
    return Look(look.tables, reason, facts)


def marker_glue_values(look: Look, *, markers: Sequence[str], alpha: float = 0.05, noun: str = "marker") -> dict:
    """The numbers and words a marker family's second-look prose glues (``sl_*`` keys; plain str/int values).

    Counts of the family (``sl_n_markers``, ``sl_n_fitted_<scale>``, ``sl_n_sig_raw_<scale>``,
    ``sl_n_sig_holm_<scale>`` for the log and rank scales), ``sl_weeks``, then per marker of ``markers`` (its
    name without underscores, e.g. ``il6``) the Holm p on ranks ``sl_p_<key>``, on the log scale
    ``sl_p_<key>_log`` and ``sl_<key>_reading`` (:func:`analysis.science.methods.look.reading` of the rank
    scale); ``sl_reading`` is the first marker's reading; ``sl_markers_sentence`` (:func:`marker_sentence`) and
    ``sl_family_sentence`` (:func:`family_sentence`, members called ``noun``). Every value has a fallback ("n/a",
    0, "cannot address").

    Parameters
    ----------
    look : Look
        :func:`marker_section` output.
    markers : sequence of str
        The markers the prose names (a subset of the section's ``claim_markers``).
    alpha : float
    noun : str
        What the family's members are called (singular), for ``sl_family_sentence`` (:func:`family_sentence`).

    Examples
    --------
    >>> g = marker_glue_values(Look({}, "", {"p_holm_il_6_rank": 0.01}), markers=["il_6"])
    >>> g["sl_p_il6"], g["sl_reading"], g["sl_n_markers"]
    ('p = 0.010', 'supports', 0)
    """
    f = look.facts
    out: dict = {}
    out.update(sl_n_markers=int(f.get("n_markers", 0)),
               sl_n_fitted_rank=int(f.get("n_fitted_rank", 0)), sl_n_fitted_log=int(f.get("n_fitted_log", 0)),
               sl_n_sig_raw_rank=int(f.get("n_sig_raw_rank", 0)), sl_n_sig_raw_log=int(f.get("n_sig_raw_log", 0)),
               sl_n_sig_holm_rank=int(f.get("n_sig_holm_rank", 0)),
               sl_n_sig_holm_log=int(f.get("n_sig_holm_log", 0)),
               sl_weeks=str(f.get("weeks", "n/a")))
    for m in markers:
        key = m.replace("_", "")
        out[f"sl_p_{key}"] = format_p(f.get(f"p_holm_{m}_rank"))
        out[f"sl_p_{key}_log"] = format_p(f.get(f"p_holm_{m}_log"))
        out[f"sl_{key}_reading"] = reading(f.get(f"p_holm_{m}_rank"), alpha)
    out["sl_reading"] = out[f"sl_{markers[0].replace('_', '')}_reading"]
    out["sl_markers_sentence"] = marker_sentence(look, markers=markers, alpha=alpha)
    out["sl_family_sentence"] = family_sentence(look, noun=noun, alpha=alpha)
    return out


def family_sentence(look: Look, *, noun: str = "marker", alpha: float = 0.05) -> str:
    """How many of the family's group × week tests keep p < ``alpha`` after Holm, on ranks and on the log scale.

    Written for every case: when no model was fitted on either scale, one sentence says why nothing was
    compared (no "0 of 0").

    Parameters
    ----------
    look : Look
        :func:`marker_section` output (facts ``n_fitted_<scale>``, ``n_sig_raw_<scale>``, ``n_sig_holm_<scale>``).
    noun : str
        What a member of the family is called ("marker", "cytokine"); made plural by adding "s".
    alpha : float

    Examples
    --------
    >>> family_sentence(Look({}, "", {"n_fitted_rank": 5, "n_sig_holm_rank": 1, "n_sig_raw_rank": 2,
    ...                                "n_fitted_log": 5, "n_sig_holm_log": 0}))
    'On ranks, 1 of 5 markers keeps p < 0.05 after Holm (2 before); on the log scale, 0 of 5.'
    >>> family_sentence(Look({}, "il_6: not in these data", {}), noun="cytokine")
    'No cytokine could be modelled with these data (il_6: not in these data), so none is compared.'
    """
    f = look.facts
    n_rank, n_log = int(f.get("n_fitted_rank", 0)), int(f.get("n_fitted_log", 0))
    if n_rank == 0 and n_log == 0:
        why = f" ({look.reason})" if look.reason else ""
        return f"No {noun} could be modelled with these data{why}, so none is compared."
    parts, counted = [], False
    for scale, n in (("ranks", n_rank), ("the log scale", n_log)):
        key = "rank" if scale == "ranks" else "log"
        if n == 0:
            parts.append(f"on {scale}, no model could be fitted")
        elif not counted:
            counted = True
            holm = int(f.get(f"n_sig_holm_{key}", 0))
            parts.append(f"on {scale}, {holm} of {n} {noun}{'s' if n != 1 else ''} "
                         f"{'keeps' if holm == 1 else 'keep'} p < {alpha:g} after Holm "
                         f"({int(f.get(f'n_sig_raw_{key}', 0))} before)")
        else:
            parts.append(f"on {scale}, {int(f.get(f'n_sig_holm_{key}', 0))} of {n}")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def marker_sentence(look: Look, *, markers: Sequence[str], alpha: float = 0.05) -> str:
    """What the group × week tests say of ``markers``, in sentences written for every case.

    Each marker with a test is given with its Holm p on ranks and on the log scale and how it bears on the paper's
    conclusion; markers without a test (not in these data, or no model fitted) are named as such. No "n/a".

    Examples
    --------
    >>> look = Look({}, "", {"p_holm_il_6_rank": 0.01, "p_holm_il_6_log": 0.02})
    >>> marker_sentence(look, markers=["il_6", "tnf_a"])
    "For IL-6 the group × week test gives p = 0.010 on ranks (Holm; log scale p = 0.020). So the modern method supports the paper's conclusion about IL-6. TNF-α could not be tested with these data."
    >>> marker_sentence(Look({}, "no values", {}), markers=["il_6", "tnf_a", "il_10"])
    'None of IL-6, TNF-α and IL-10 could be tested with these data (no values).'
    >>> marker_sentence(Look({}, "", {}), markers=["treg_th17_ratio"])
    'The Treg/Th17 ratio could not be tested with these data.'
    """
    from analysis.science.methods.look import LABELS

    f = look.facts
    def name(m: str) -> str:
        return ("the " if LABELS.get(m, m).endswith("ratio") else "") + LABELS.get(m, m)

    def both(items: list[str]) -> str:
        return (", ".join(items[:-1]) + " and " + items[-1]) if len(items) > 1 else items[0]

    done = [m for m in markers if _finite_p(f.get(f"p_holm_{m}_rank"))]
    gone = [name(m) for m in markers if m not in done]
    if not done:
        why = f" ({look.reason})" if look.reason else ""
        return f"None of {both(gone)} could be tested with these data{why}." if len(gone) > 1 else \
            f"{gone[0][0].upper() + gone[0][1:]} could not be tested with these data{why}."
    tests = [f"{name(m)} the group × week test gives {format_p(f[f'p_holm_{m}_rank'])} on ranks (Holm; log scale "
             f"{format_p(f.get(f'p_holm_{m}_log'))})" if i == 0 else
             f"{name(m)} {format_p(f[f'p_holm_{m}_rank'])} ({format_p(f.get(f'p_holm_{m}_log'))})"
             for i, m in enumerate(done)]
    readings = [f"{reading(f[f'p_holm_{m}_rank'], alpha)} the paper's conclusion about {name(m)}" if i == 0 else
                f"{reading(f[f'p_holm_{m}_rank'], alpha)} the one about {name(m)}" for i, m in enumerate(done)]
    text = (f"For {', for '.join(tests[:-1]) + ' and for ' + tests[-1] if len(tests) > 1 else tests[0]}. "
            f"So the modern method {both(readings)}.")
    if gone:
        rest = both(gone)
        text += f" {rest[0].upper() + rest[1:]} could not be tested with these data."
    return text.replace("log scale p = n/a", "no log-scale model").replace("(p = n/a)", "(no log-scale model)")


def _finite_p(p) -> bool:
    return p is not None and isinstance(p, (int, float)) and bool(np.isfinite(p))


# =========================================================================== figures
@styled
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

    from analysis.science import figures
    labels = dict(labels or {})
    fig, axes = plt.subplots(1, max(1, len(outcomes)), figsize=(5.2 * max(1, len(outcomes)), 4.2), squeeze=False)
    for ax, dv in zip(axes[0], outcomes):
        part = means.loc[(means["outcome"] == dv) & (means["scale"] == scale)] if len(means) else means
        if part.empty:
            placeholder(ax, f"{labels.get(dv, dv)}: not available with these data")
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


@styled
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
        placeholder(ax, "Not available with these data")
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
