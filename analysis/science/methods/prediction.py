"""Predicting a binary outcome from baseline values: logistic models judged by cross-validated AUC.

The paper calls IFN-γ a predictor on the strength of peaks inside the response window. A prediction claim is
judged today by a model fitted on values known before the outcome, its discrimination out of sample and its
calibration: :func:`prediction_data` builds one row per classified patient (baseline marker, its peak in the
early window, covariates), :func:`cv_auc` cross-validates a logistic regression by repeated stratified k-fold
(:func:`stratified_folds`; AUC by ranks, :func:`auc`), :func:`calibration_table` sets observed against predicted
response, and :func:`prediction_models` compares the baseline model with covariates alone and with the paper's
circular peak-in-window predictor.

The logistic fits are Newton–Raphson, all folds at once (:func:`_fit_predict_folds`): the estimates of
``statsmodels.Logit`` (tested in ``tests/test_second_look.py``) without a fit per fold.
"""
from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis.claims.rules import count_noun
from analysis.core.checks import check_frame as _check_frame
from analysis.science import stats
from analysis.science.methods.look import Look

__all__ = ["auc", "calibration_table", "cv_auc", "prediction_data", "prediction_models", "stratified_folds"]


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


@functools.lru_cache(maxsize=8)
def _stratified_folds_cached(y: bytes, k: int, repeats: int, seed: int) -> np.ndarray:
    """:func:`stratified_folds` of the outcome ``y`` (float64 bytes), kept for the next model on the same patients."""
    folds = stratified_folds(np.frombuffer(y, dtype=float), k=k, repeats=repeats, seed=seed)
    folds.flags.writeable = False
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
        if todo.size == F:  # every fold still iterating: the arrays themselves, not copies (the same values)
            Xt, Wt, b, pen = Xs, W, beta, penalty
        else:
            Xt, Wt, b, pen = Xs[todo], W[todo], beta[todo], penalty[todo]
        prob = 1 / (1 + np.exp(-np.clip((Xt @ b[:, :, None])[:, :, 0], -50, 50)))
        XtT = Xt.transpose(0, 2, 1)
        grad = (XtT @ (Wt * (y - prob))[:, :, None])[:, :, 0] - (pen @ b[:, :, None])[:, :, 0]
        hess = (XtT * (Wt * prob * (1 - prob))[:, None, :]) @ Xt + pen
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
    # each fold's test patients first (in order), padded to the largest test set: pairs within test sets only
    size = test.sum(axis=1)
    idx = np.argsort(~test, axis=1, kind="stable")[:, :int(size.max()) if size.size else 0]
    valid = np.arange(idx.shape[1])[None, :] < size[:, None]
    prob, y = np.take_along_axis(prob, idx, axis=1), y[idx]
    pos = valid & (y == 1)
    neg = valid & (y == 0)
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
    used = [outcome, *predictors]
    if len(set(used)) == len(used) and all(data[c].dtype.kind in "fi" for c in used):
        values = np.column_stack([data[c].to_numpy(float) for c in used])  # numbers already: no frame
    else:
        values = data[used].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    values = values[~np.isnan(values).any(axis=1)]  # rows with a missing value dropped
    y = values[:, 0].copy()
    X = np.asfortranarray(values[:, 1:])  # column by column in memory, as DataFrame.to_numpy gives it (same sums)
    n_events, n = int(y.sum()), len(y)
    minority = int(min(n_events, n - n_events))
    cols = ["n", "n_events", "k", "repeats", "apparent_auc", "cv_auc", "cv_auc_low", "cv_auc_high", "note"]
    if minority < 2:
        return (pd.DataFrame([dict(n=n, n_events=n_events, k=k, repeats=repeats,
                                   note=f"not fitted: {count_noun(n_events, 'responder')} and "
                                        f"{count_noun(n - n_events, 'non-responder')} "
                                        f"with every predictor known ({len(data) - n} left out for a missing "
                                        "value; need at least 2 of each)")], columns=cols),
                pd.DataFrame(columns=["repeat", "row", "y", "p"]))
    k_used = int(min(k, minority))
    folds = _stratified_folds_cached(y.tobytes(), k_used, repeats, seed)
    # every (repeat, fold) fit at once: row r * k + f holds fold f of repeat r
    test = (folds[:, None, :] == np.arange(k_used)[None, :, None]).reshape(repeats * k_used, n)
    prob = _fit_predict_folds(X, y, ~test)
    oof = np.where(test, prob, 0.0).reshape(repeats, k_used, n).sum(axis=1)  # each patient's out-of-fold p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a repeat whose folds all have one class: NaN
        per_repeat = np.nanmean(_fold_aucs(y, prob, test).reshape(repeats, k_used), axis=1)
    preds = pd.DataFrame({"repeat": np.repeat(np.arange(repeats), n), "row": np.tile(np.arange(n), repeats),
                          "y": np.tile(y.astype(int), repeats), "p": oof.ravel()})
    per_repeat = np.asarray(per_repeat)
    apparent = auc(y, _fit_predict(X, y, X))
    note = "" if k_used == k else f"k lowered to {k_used} (smaller class)"
    summary = pd.DataFrame([dict(n=n, n_events=n_events, k=k_used, repeats=repeats, apparent_auc=apparent,
                                 cv_auc=float(per_repeat.mean()), cv_auc_low=float(np.percentile(per_repeat, 2.5)),
                                 cv_auc_high=float(np.percentile(per_repeat, 97.5)), note=note)], columns=cols)
    return summary, preds


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
    # numpy on the rows, with the values of the groupby it replaces: the first y of each patient (row), its mean
    # p, then patients sorted by it and cut into bins
    codes, _ = pd.factorize(predictions["row"], sort=True)  # a missing row is left out (-1), as groupby does
    at = np.flatnonzero(codes >= 0)
    codes = codes[at]
    n_rows = int(codes.max()) + 1 if codes.size else 0
    y_all = predictions["y"].to_numpy()[at]
    known = np.flatnonzero(pd.notna(y_all))
    seen, first = np.unique(codes[known], return_index=True)
    y = y_all[known[first]]
    if seen.size < n_rows:  # a patient without a y: NaN, as groupby's first
        y = np.full(n_rows, np.nan)
        y[seen] = y_all[known[first]]
    p_row = _group_mean(codes, predictions["p"].to_numpy(float)[at], n_rows)
    order = np.argsort(p_row, kind="stable")  # NaN last, as sort_values
    nb = int(max(1, min(bins, n_rows)))
    b = np.arange(n_rows) * nb // n_rows  # each sorted patient's bin - 1
    n = np.bincount(b, minlength=nb)
    k = np.bincount(b, weights=np.nan_to_num(y[order].astype(float)), minlength=nb)
    k = k.astype(np.int64) if y.dtype.kind in "biu" else k
    ci = stats.proportion_table(k.astype(int), n, confidence=confidence)
    return pd.DataFrame({"bin": np.arange(1, nb + 1), "n": n.astype(float),
                         "mean_predicted": _group_mean(b, p_row[order], nb), "observed": k / n,
                         "ci_low": ci["ci_low"].to_numpy(), "ci_high": ci["ci_high"].to_numpy()})[cols]


def _group_mean(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Mean of ``values`` per group ``codes`` (0 … n_groups − 1), NaN skipped (NaN for a group without values).

    Summed in each group's order with Kahan compensation, as pandas' groupby mean does, so the bits are
    pandas' (tested): one pass per position within the groups, all groups at once.
    """
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    start = np.searchsorted(sorted_codes, np.arange(n_groups))
    rank = np.empty(codes.size, dtype=int)
    rank[order] = np.arange(codes.size) - start[sorted_codes]  # each value's position within its group
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[by_rank], np.arange(int(rank.max()) + 2 if codes.size else 1))
    total, comp, count = np.zeros(n_groups), np.zeros(n_groups), np.zeros(n_groups)
    for r in range(bounds.size - 1):
        at = by_rank[bounds[r]:bounds[r + 1]]  # every group's r-th value (one per group)
        at = at[~np.isnan(values[at])]
        g, v = codes[at], values[at]
        y = v - comp[g]
        t = total[g] + y
        c = (t - total[g]) - y
        comp[g] = np.where(np.isnan(c), 0.0, c)  # an infinite value: no compensation (as pandas)
        total[g] = t
        count[g] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


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
    # each visit's patient as a code; the week-0 value (a patient's first) and the window's peak per code
    y = pd.to_numeric(visits[marker], errors="coerce").to_numpy(float)
    codes, ids = pd.factorize(visits["patient_id"])
    week = visits["week"]
    with np.errstate(invalid="ignore"):
        ok = (y > 0) & (codes >= 0)
    base, peak = np.full(len(ids), np.nan), np.full(len(ids), np.nan)
    at = np.flatnonzero(ok & (week == 0).to_numpy(bool))
    first_code, first = np.unique(codes[at], return_index=True)
    base[first_code] = y[at[first]]
    at = ok & week.isin(list(early_weeks)).to_numpy(bool)
    np.fmax.at(peak, codes[at], y[at])
    where = pd.Index(ids).get_indexer(pts["patient_id"])  # -1: no visit, NaN
    out = {"patient_id": pts["patient_id"].to_numpy(),
           "responder": (pts["group"] == "Responder").astype(int).to_numpy(),
           "log_baseline": np.log(np.where(where >= 0, base[where], np.nan)),
           "log_peak_window": np.log(np.where(where >= 0, peak[where], np.nan))}
    for c in covariates:
        out[c] = pd.to_numeric(pts[c], errors="coerce").to_numpy(float)
    return pd.DataFrame(out)


def _lr_added(data: pd.DataFrame, *, outcome: str, base: Sequence[str], added: str) -> tuple[float, str]:
    """(p of the likelihood-ratio test of ``added`` on top of ``base`` (statsmodels' Logit fit), why not fitted).

    p is NaN when the test could not be computed; the second item then says why, in words for the page.

    Examples
    --------
    >>> d = pd.DataFrame({"y": [0, 1] * 3, "x": range(6)})
    >>> _lr_added(d, outcome="y", base=[], added="x")
    (nan, 'fewer than 10 patients have every predictor')
    """
    d = data[[outcome, *base, added]].dropna()
    y = d[outcome].to_numpy(float)
    if len(d) < 10:
        return float("nan"), "fewer than 10 patients have every predictor"
    if y.min() == y.max():
        return float("nan"), "every patient with the predictors is in one response group"
    failed = "the logistic model could not be fitted (the predictors may separate the groups perfectly)"
    ones = np.ones((len(y), 1))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            llf_full, ok_full = _logit_llf(y, np.column_stack((ones, d[[*base, added]].to_numpy(float))))
            llf_red, ok_red = _logit_llf(y, np.column_stack((ones, d[list(base)].to_numpy(float))) if base else ones)
    except (np.linalg.LinAlgError, ValueError):
        return float("nan"), failed
    if not (ok_full and ok_red):
        return float("nan"), failed
    return float(sps.chi2.sf(max(0.0, 2 * (llf_full - llf_red)), 1)), ""


def _logit_llf(y: np.ndarray, X: np.ndarray, *, maxiter: int = 35, tol: float = 1e-8,
               ridge: float = 1e-10) -> tuple[float, bool]:
    """Log-likelihood and convergence of ``statsmodels.Logit(y, X).fit(disp=0)``, computed as it does.

    Its Newton–Raphson step by step (start at 0, Hessian and score divided by n, 1e-10 added to the Hessian's
    diagonal, stop when no coefficient moves more than ``tol``, "not converged" after ``maxiter`` steps), so the
    same bits without its model and results objects (tested against statsmodels). Raises ``LinAlgError`` where
    statsmodels does (a singular Hessian) and ``ValueError`` for a value that is not finite.
    """
    if not np.isfinite(X).all():
        raise ValueError("the predictors hold a value that is not finite")
    n = y.shape[0]

    def mean(params):
        return 1 / (1 + np.exp(-(np.dot(X, params) + 0.0)))

    def hess(params):  # of the negative log-likelihood per observation
        p = mean(params)
        return -(-np.dot(p * (1 - p) * X.T, X)) / n

    def score(params):
        return -np.dot(y - mean(params), X) / n

    iterations, old, params = 0, np.inf, np.zeros(X.shape[1])
    while iterations < maxiter and np.any(np.abs(params - old) > tol):
        H = hess(params)
        H[np.diag_indices(H.shape[0])] += ridge
        old = params
        params = old - np.linalg.solve(H, score(old))
        iterations += 1
    np.linalg.inv(hess(params))  # statsmodels inverts the final Hessian for the covariance: singular fails
    q = 2 * y - 1
    return float(np.sum(np.log(1 / (1 + np.exp(-(q * (np.dot(X, params) + 0.0))))))), iterations != maxiter


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
        ``p_lr_ifng`` (likelihood-ratio test of baseline IFN-γ added to the covariates), ``lr_reason`` (why that
        test could not be computed, else empty).

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
    rows, names, calib, cal_names, facts = [], [], [], [], {}
    for name, preds in models.items():
        if not preds:
            continue
        s, p = cv_auc(data, outcome="responder", predictors=preds, k=k, repeats=repeats, seed=seed)
        rows.append(s)
        names.append((name, " + ".join(preds), name.endswith("(circular)")))
        if name in ("baseline IFN-γ + clinical", "peak in window (circular)") and len(p):
            calib.append(calibration_table(p, bins=bins))
            cal_names += [name] * len(calib[-1])
    # the model's columns put in front once (not a copy of each model's row)
    table = pd.concat(rows, ignore_index=True)
    for i, column in enumerate(("model", "predictors", "circular")):
        table.insert(i, column, np.array([row[i] for row in names], dtype=bool if column == "circular" else object))
    if calib:
        cal = pd.concat(calib, ignore_index=True)
        cal.insert(0, "model", np.array(cal_names, dtype=object))
    else:
        cal = pd.DataFrame(columns=["model", "bin", "n", "mean_predicted", "observed", "ci_low", "ci_high"])
    by = table.set_index("model")
    for key, name in (("full", "baseline IFN-γ + clinical"), ("clinical", "clinical only"),
                      ("ifng", "baseline IFN-γ only"), ("peak", "peak in window (circular)")):
        facts[f"cv_auc_{key}"] = float(by.loc[name, "cv_auc"]) if name in by.index else np.nan
        facts[f"apparent_auc_{key}"] = float(by.loc[name, "apparent_auc"]) if name in by.index else np.nan
    facts["p_lr_ifng"], facts["lr_reason"] = _lr_added(data, outcome="responder", base=covariates,
                                                       added="log_baseline")
    facts["n"] = int(table["n"].iloc[0]) if len(table) else 0
    reason = ""
    if not np.isfinite(facts["cv_auc_full"]):
        reason = str(by.loc["baseline IFN-γ + clinical", "note"]) if "baseline IFN-γ + clinical" in by.index else \
            "no model could be fitted"
    return Look({"auc": table, "calibration": cal}, reason, facts)
