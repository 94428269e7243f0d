"""Tests of the second looks against hand-checkable cases and independent formulas (never the paper).

The general methods (:mod:`analysis.science.methods`: mixed models, survival, prediction, rates, ANCOVA) and each
chapter's section (``analysis.chapters.<chapter>.second_look``) and second-look verdicts
(``analysis.chapters.<chapter>.verdicts.judge_second_look``).
"""
from __future__ import annotations

import warnings
import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats as sps

from analysis.chapters.disease_activity import second_look as activity_sl
from analysis.chapters.disease_activity import verdicts as activity_verdicts
from analysis.chapters.ifng import second_look as ifng_sl
from analysis.chapters.immune import second_look as immune_sl
from analysis.chapters.inflammation import second_look as inflammation_sl
from analysis.chapters.safety import second_look as safety_sl
from analysis.chapters.safety import verdicts as safety_verdicts
from analysis.chapters.safety.analysis import classify_events
from analysis.claims.registry import published_claims
from analysis.science import stats
from analysis.science.methods import ancova, mixed, prediction, rates, survival
from analysis.science.methods.look import Look, demo_cohort, unavailable
from analysis.claims.log import ClaimLog
from analysis.core.design import Design


# --------------------------------------------------------------------------- mixed model
def _balanced(seed: int = 0, n_per_group: int = 8, weeks=(0, 4, 12), effect: float = 0.8) -> pd.DataFrame:
    """Balanced design: 3 groups × n patients × weeks, a patient effect (random intercept) and noise."""
    rng = np.random.default_rng(seed)
    groups = ["Responder", "Non-responder", "Control"]
    rows = []
    for gi, g in enumerate(groups):
        for i in range(n_per_group):
            pid = f"{g[0]}{i}"
            u = rng.normal(0, 1.0)
            for w in weeks:
                trend = -effect * (gi == 0) * w / max(weeks)
                rows.append(dict(patient_id=pid, group=g, week=w, y=5 + u + trend + rng.normal(0, 0.5)))
    return pd.DataFrame(rows)


def test_wald_F_of_group_by_week_equals_mixed_anova_F_on_a_balanced_design():
    d = _balanced()
    look = mixed.mixed_model(d, dv="y", weeks=[0, 4, 12], random="intercept")
    test = look["test"].iloc[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aov = pg.mixed_anova(data=d, dv="y", within="week", between="group", subject="patient_id")
    inter = aov.loc[aov["Source"] == "Interaction"].iloc[0]
    # classical split-plot ANOVA: interaction F on (g-1)(t-1) and (n-g)(t-1) degrees of freedom
    assert test["df1"] == (3 - 1) * (3 - 1)
    assert test["df2"] == (24 - 3) * (3 - 1)
    assert test["wald_F"] == pytest.approx(float(inter["F"]), rel=1e-6)
    p_col = "p_unc" if "p_unc" in aov.columns else "p-unc"
    assert test["p_wald"] == pytest.approx(float(inter[p_col]), rel=1e-5)
    assert test["random"] == "intercept"


def test_random_intercept_fit_equals_statsmodels_mixedlm_on_unbalanced_data():
    from statsmodels.regression.mixed_linear_model import MixedLM

    d = _balanced(seed=3, n_per_group=10).sample(frac=0.8, random_state=2).reset_index(drop=True)
    X, _ = mixed._design(["Responder", "Non-responder", "Control"], [0, 4, 12],
                      d["group"].to_numpy(object), d["week"].to_numpy())
    y, subj = d["y"].to_numpy(float), d["patient_id"].to_numpy()
    for reml in (True, False):
        ours = mixed._ri_fit(y, X, subj, reml=reml)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = MixedLM(y, X, groups=subj, exog_re=np.ones((len(y), 1))).fit(reml=reml, method=["lbfgs"])
        assert ours.llf == pytest.approx(ref.llf, abs=1e-5)
        np.testing.assert_allclose(ours.beta, ref.fe_params, atol=1e-5)
        # standard errors: ours are σ̂²(X'V⁻¹X)⁻¹ (as nlme/lme4); MixedLM inverts the full Hessian, whose
        # cross terms with the variance parameters vanish only in balanced data, so they agree closely, not exactly
        np.testing.assert_allclose(np.sqrt(np.diag(ours.cov)), ref.bse_fe, rtol=2e-3)


def _sloped(seed: int, n_per_group: int = 12) -> pd.DataFrame:
    """Three groups, five visits, a random intercept and a random slope per patient (correlated)."""
    rng = np.random.default_rng(seed)
    rows = []
    for gi, g in enumerate(["Responder", "Non-responder", "Control"]):
        for i in range(n_per_group):
            u0, u1 = rng.multivariate_normal([0, 0], [[0.8, 0.2], [0.2, 0.5]])
            for w in (0, 4, 12, 24, 48):
                t = w / 48
                rows.append(dict(patient_id=f"{g[0]}{i}", group=g, week=w,
                                 y=5 + u0 + (u1 - gi * 0.5) * t + rng.normal(0, 0.4)))
    return pd.DataFrame(rows).sample(frac=0.85, random_state=seed).sort_values(["patient_id", "week"])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_slope_fit_equals_statsmodels_mixedlm(seed):
    from statsmodels.regression.mixed_linear_model import MixedLM

    d = _sloped(seed)
    weeks = [0, 4, 12, 24, 48]
    X, _ = mixed._design(["Responder", "Non-responder", "Control"], weeks, d["group"].to_numpy(object),
                      d["week"].to_numpy())
    y, subj = d["y"].to_numpy(float), d["patient_id"].to_numpy()
    Z = np.column_stack([np.ones(len(y)), d["week"].to_numpy(float) / 48])
    for reml in (True, False):
        ours = mixed._lmm_fit(y, X, subj, Z, reml=reml)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = MixedLM(y, X, groups=subj, exog_re=Z).fit(reml=reml, method=["lbfgs"])
        # the same optimum: ours is never worse, and at most a rounding better
        assert ours.llf == pytest.approx(ref.llf, abs=1e-4)
        assert ours.llf >= ref.llf - 1e-6
        np.testing.assert_allclose(ours.beta, ref.fe_params, atol=1e-4)
        np.testing.assert_allclose(np.sqrt(np.diag(ours.cov)), ref.bse_fe, rtol=5e-3)


def test_general_fitter_with_one_random_effect_is_the_random_intercept_fit():
    d = _sloped(4)
    X, _ = mixed._design(["Responder", "Non-responder", "Control"], [0, 4, 12, 24, 48],
                      d["group"].to_numpy(object), d["week"].to_numpy())
    y, subj = d["y"].to_numpy(float), d["patient_id"].to_numpy()
    for reml in (True, False):
        a = mixed._lmm_fit(y, X, subj, np.ones((len(y), 1)), reml=reml)
        b = mixed._ri_fit(y, X, subj, reml=reml)
        assert a.llf == pytest.approx(b.llf, abs=1e-6)
        np.testing.assert_allclose(a.beta, b.beta, atol=1e-5)


def test_random_effects_that_cannot_be_estimated_are_refused():
    d = _balanced(seed=7)
    with pytest.raises(mixed._NotFitted, match="not identifiable"):
        X, _ = mixed._design(["Responder", "Non-responder", "Control"], [0, 4, 12], d["group"].to_numpy(object),
                          d["week"].to_numpy())
        Z = np.column_stack([np.ones(len(d)), np.zeros(len(d))])  # a slope on a constant-zero time
        mixed._lmm_fit(d["y"].to_numpy(float), X, d["patient_id"].to_numpy(), Z, reml=True)


def _ri_reference(y, X, subject, *, reml):
    """The random-intercept profile likelihood summed patient by patient and maximised by a bounded scalar
    minimiser over log θ (the fit before issue 32): llf and β, for the tests of the faster fit."""
    from scipy.optimize import minimize_scalar

    codes, _ = pd.factorize(subject)
    n_i = np.bincount(codes).astype(float)
    N, p = X.shape
    SX = np.zeros((n_i.size, p))
    np.add.at(SX, codes, X)
    Sy = np.bincount(codes, weights=y)

    def parts(theta):
        c = theta / (1 + n_i * theta)
        A = X.T @ X - (SX * c[:, None]).T @ SX
        b = X.T @ y - (SX * c[:, None]).T @ Sy
        beta = np.linalg.solve(A, b)
        return A, beta, float(y @ y) - float(np.sum(c * Sy ** 2)) - float(b @ beta), np.sum(np.log1p(n_i * theta))

    def negll(theta):
        A, _, Q, logdet = parts(theta)
        m = N - p if reml else N
        return 0.5 * (m * np.log(2 * np.pi * Q / m) + logdet + m + (np.linalg.slogdet(A)[1] if reml else 0.0))

    t = minimize_scalar(lambda t: negll(np.exp(t)), bounds=(-18.0, 10.0), method="bounded",
                        options={"xatol": 1e-10}).x
    theta = 0.0 if negll(0.0) <= negll(np.exp(t)) else float(np.exp(t))
    return -negll(theta), parts(theta)[1], theta


def _with_missed_visits(seed: int, n_per_group: int = 15, weeks=(0, 2, 4, 12, 24), tau: float = 0.7) -> pd.DataFrame:
    """Three groups, five visits, a patient effect of SD ``tau``; about one visit in six missed (not at random
    patterns: each patient keeps week 0)."""
    rng = np.random.default_rng(seed)
    rows = []
    for gi, g in enumerate(["Responder", "Non-responder", "Control"]):
        for i in range(n_per_group):
            u = rng.normal(0, tau)
            for w in weeks:
                if w and rng.random() < 1 / 6:
                    continue
                rows.append(dict(patient_id=f"{g[0]}{i}", group=g, week=w,
                                 y=3 + u - 0.02 * gi * w + rng.normal(0, 0.5)))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed,tau", [(1, 0.7), (2, 0.3), (3, 0.0), (4, 2.0)])
def test_random_intercept_fit_equals_the_plain_profile_likelihood_with_missed_visits(seed, tau):
    # the fit sums the likelihood over patients' patterns (same group and visits) and finds the root of its
    # derivative: the same optimum as the per-patient likelihood maximised directly (tau = 0: often on the
    # boundary, no between-patient variance)
    d = _with_missed_visits(seed, tau=tau)
    weeks = [0, 2, 4, 12, 24]
    g, w = d["group"].to_numpy(object), d["week"].to_numpy()
    y, subj = d["y"].to_numpy(float), d["patient_id"].to_numpy()
    for interaction in (True, False):
        X = mixed._design(["Responder", "Non-responder", "Control"], weeks, g, w, interaction=interaction)[0]
        for reml in (True, False):
            ours = mixed._ri_fit(y, X, subj, reml=reml)
            llf, beta, theta = _ri_reference(y, X, subj, reml=reml)
            assert ours.llf == pytest.approx(llf, abs=1e-8)
            assert ours.llf >= llf - 1e-9  # never worse than the direct maximisation (beyond rounding)
            np.testing.assert_allclose(ours.beta, beta, atol=1e-6)
            assert (ours.note == "") == (theta > 0)


def test_random_intercept_fits_of_a_family_at_once_equal_each_fit_alone():
    # models of different sizes (columns, patients) and kinds (REML, ML) stacked with zero padding
    problems = []
    for seed in (5, 6, 7):
        d = _with_missed_visits(seed, n_per_group=8 + 3 * seed)
        d = d.loc[d["group"].ne("Control") | (seed != 6)]  # one model with two groups only
        groups = list(dict.fromkeys(d["group"]))
        weeks = [0, 2, 4, 12, 24]
        y, subj = d["y"].to_numpy(float), d["patient_id"].to_numpy()
        for interaction, reml in ((True, True), (True, False), (False, False)):
            X = mixed._design(groups, weeks, d["group"].to_numpy(object), d["week"].to_numpy(),
                              interaction=interaction)[0]
            problems.append((y, X, subj, reml))
    together = mixed._ri_fits(problems)
    for (y, X, subj, reml), fit in zip(problems, together):
        alone = mixed._ri_fit(y, X, subj, reml=reml)
        assert fit.llf == pytest.approx(alone.llf, abs=1e-9)
        np.testing.assert_allclose(fit.beta, alone.beta, atol=1e-9)
        np.testing.assert_allclose(fit.cov, alone.cov, rtol=1e-7, atol=1e-12)
        assert fit.note == alone.note


def test_a_marker_family_fitted_together_gives_each_models_own_table():
    d = _with_missed_visits(8)
    d["z"] = d["y"] * 2 + np.random.default_rng(1).normal(0, 0.3, len(d))
    d.loc[d.index[::5], "z"] = np.nan
    family = mixed.mixed_models(d, outcomes=["y", "z"], weeks=[0, 2, 4, 12, 24], transforms=("none", "rank"),
                                random="intercept")
    for dv in ("y", "z"):
        for scale in ("none", "rank"):
            one = mixed.mixed_model(d, dv=dv, weeks=[0, 2, 4, 12, 24], transform=scale, random="intercept")
            row = family["test"].loc[(family["test"]["outcome"] == dv) & (family["test"]["scale"] == scale)]
            assert row["p_lr"].item() == pytest.approx(one["test"]["p_lr"].item(), rel=1e-9)
            means = family["means"].loc[(family["means"]["outcome"] == dv) & (family["means"]["scale"] == scale)]
            np.testing.assert_allclose(means["mean"].to_numpy(float), one["means"]["mean"].to_numpy(float),
                                       rtol=1e-9)


def test_likelihood_ratio_test_is_twice_the_ml_log_likelihood_difference():
    d = _balanced(seed=5)
    look = mixed.mixed_model(d, dv="y", weeks=[0, 4, 12], random="intercept")
    groups, weeks = ["Responder", "Non-responder", "Control"], [0, 4, 12]
    d = d.sort_values(["patient_id", "week"])
    g, w, y, s = d["group"].to_numpy(object), d["week"].to_numpy(), d["y"].to_numpy(float), d["patient_id"].to_numpy()
    full = mixed._ri_fit(y, mixed._design(groups, weeks, g, w)[0], s, reml=False)
    red = mixed._ri_fit(y, mixed._design(groups, weeks, g, w, interaction=False)[0], s, reml=False)
    lr = 2 * (full.llf - red.llf)
    assert look["test"]["lr_stat"].iloc[0] == pytest.approx(lr, rel=1e-9)
    assert look["test"]["p_lr"].iloc[0] == pytest.approx(sps.chi2.sf(lr, 4), rel=1e-9)


def test_marginal_means_of_the_full_factorial_equal_the_cell_means_when_balanced():
    d = _balanced(seed=1)
    means = mixed.mixed_model(d, dv="y", weeks=[0, 4, 12], random="intercept")["means"]
    cell = d.groupby(["group", "week"])["y"].mean()
    for row in means.itertuples():
        assert row.mean == pytest.approx(cell[(row.group, row.week)], abs=1e-9)
        assert row.ci_low < row.mean < row.ci_high


def test_mixed_model_degrades_with_a_reason():
    d = _balanced().query("group == 'Responder'")
    look = mixed.mixed_model(d, dv="y", weeks=[0, 4, 12])
    assert not look.available and "fewer than two groups" in look.reason
    assert look["test"].empty and list(look["test"].columns)[:2] == ["outcome", "scale"]
    look = mixed.mixed_models(_balanced(), outcomes=["y", "absent"], weeks=[0, 4, 12], random="intercept")
    assert look.available
    assert look["test"].set_index("outcome").loc["absent", "note"] == "absent: not in these data"


def test_rank_scale_ties_censored_values_at_the_lowest_rank():
    d = pd.DataFrame({"x": [np.nan, 0.25, 3.0, 1.0], "x_flag": ["<LLOQ", "<LLOQ", None, None]})
    assert mixed._transform(d, "x", "rank").tolist() == [1.5, 1.5, 4.0, 3.0]


def test_mid_ranks_are_scipys_rankdata_to_the_bit():
    assert stats.average_ranks(np.array([2.0, -np.inf, 2.0, 5.0, -np.inf]))[0].tolist() == [3.5, 1.5, 3.5, 5.0, 1.5]
    assert stats.average_ranks(np.array([]))[0].size == 0
    rng = np.random.default_rng(3)
    for n in (1, 2, 7, 300):
        y = np.round(rng.normal(size=n), 1)
        y[rng.random(n) < 0.2] = -np.inf
        assert stats.average_ranks(y)[0].tobytes() == sps.rankdata(y, method="average").tobytes()


def test_beside_per_visit_finds_the_test_of_either_order_of_the_groups():
    c = pd.DataFrame({"outcome": "das28", "scale": "none", "kind": "between groups", "week": [0, 12, 24],
                      "contrast": ["Responder − Control", "Control − Responder", "Responder − Control"],
                      "estimate": [0.1, 2.0, -1.0], "se": 0.5, "ci_low": 0.0, "ci_high": 1.0, "p": [0.9, 1e-4, 0.05]})
    pw = pd.DataFrame({"outcome": "das28", "week": [0, 12, 12], "a": ["Responder", "Responder", "Control"],
                       "b": ["Control", "Control", "Responder"], "p_unc": [0.5, 0.001, 0.7],
                       "p_bonf": [1.0, 0.003, 1.0]})
    out = mixed.beside_per_visit(c, pw)
    # week 12: the row named this way round (Control − Responder) before the other one flipped; week 24: none
    assert out["p_per_visit"].tolist()[:2] == [0.5, 0.7] and np.isnan(out["p_per_visit"].iloc[2])
    flipped = mixed.beside_per_visit(c, pw.iloc[:2])  # only Responder − Control at week 12: found flipped
    assert flipped["p_per_visit_bonf"].tolist()[:2] == [1.0, 0.003]
    merged = mixed.beside_per_visit(c, pw.assign(week=pw["week"].astype(float)))  # float weeks: merged instead
    pd.testing.assert_frame_equal(out, merged)


def test_marker_models_adjust_over_the_family_per_scale():
    d = _balanced(seed=2)
    d["z"] = np.exp(d["y"] / 3)
    look = mixed.marker_models(d, markers=["y", "z"], weeks=[0, 4, 12], scales=["log", "rank"])
    test = look["test"]
    for _, part in test.groupby("scale"):
        np.testing.assert_allclose(part["p_holm"], np.minimum(1, np.maximum.accumulate(
            np.sort(part["p_lr"]) * np.array([2, 1]))[np.argsort(np.argsort(part["p_lr"]))]))


# --------------------------------------------------------------------------- Kaplan–Meier
def test_kaplan_meier_by_hand():
    t = pd.DataFrame({"time": [1, 2, 2, 3, 4], "event": [True, True, False, True, False]})
    km = survival.kaplan_meier(t).set_index("time")
    # S(1) = 4/5; S(2) = 4/5 · 3/4; S(3) = 0.6 · 1/2; censored at 4
    assert km["survival"].tolist() == pytest.approx([1.0, 0.8, 0.6, 0.3, 0.3])
    assert km["at_risk"].tolist() == [5, 5, 4, 2, 1]
    # log(−log) interval with Greenwood's variance, by hand at t = 2
    s, z = 0.6, sps.norm.ppf(0.975)
    greenwood = 1 / (5 * 4) + 1 / (4 * 3)
    v = greenwood / np.log(s) ** 2
    low, high = s ** np.exp(z * np.sqrt(v)), s ** np.exp(-z * np.sqrt(v))
    assert km.loc[2, "ci_low"] == pytest.approx(low, rel=1e-6)
    assert km.loc[2, "ci_high"] == pytest.approx(high, rel=1e-6)


def test_relapse_times_take_first_relapse_or_last_evaluable_visit():
    c = pd.DataFrame({"patient_id": list("aabbcc"), "week": [24, 48] * 3,
                      "evaluable": [True, True, True, True, False, False],
                      "relapse": [True, True, False, False, False, False]})
    out = survival.relapse_times(c, reference_week=12).set_index("patient_id")
    assert out.loc["a"].tolist() == [12, True]
    assert out.loc["b"].tolist() == [36, False]
    assert "c" not in out.index


# --------------------------------------------------------------------------- Poisson and rates
@pytest.mark.parametrize("k,t", [(0, 10.0), (1, 2.5), (6, 46.5), (40, 12.0)])
def test_poisson_exact_ci_is_the_garwood_interval(k, t):
    low, high = rates.poisson_exact_ci(k, t)
    # the hand formula from chi-square quantiles
    assert high == pytest.approx(sps.chi2.ppf(0.975, 2 * k + 2) / (2 * t))
    assert low == pytest.approx(0.0 if k == 0 else sps.chi2.ppf(0.025, 2 * k) / (2 * t))
    # and its definition: the Poisson tail probabilities at the limits are 2.5%
    assert sps.poisson.cdf(k, high * t) == pytest.approx(0.025, abs=1e-9)
    if k:
        assert sps.poisson.sf(k - 1, low * t) == pytest.approx(0.025, abs=1e-9)
    if k == 0:
        assert high == pytest.approx(-np.log(0.025) / t)


def test_rate_ratio_exact_matches_the_conditional_binomial():
    rr, lo, hi, p = rates.rate_ratio_exact(6, 46.0, 3, 45.0)
    assert rr == pytest.approx((6 / 46) / (3 / 45))
    ci = sps.binomtest(6, 9).proportion_ci(method="exact")
    assert lo == pytest.approx(ci.low / (1 - ci.low) * 45 / 46)
    assert hi == pytest.approx(ci.high / (1 - ci.high) * 45 / 46)
    assert p == pytest.approx(sps.binomtest(6, 9, 46 / 91).pvalue)


def test_ae_rates_count_events_over_patient_years():
    pts = pd.DataFrame({"patient_id": ["a", "b", "c"], "arm": ["MSCT", "MSCT", "control"], "last_week": [48, 24, 48]})
    ae = pd.DataFrame({"patient_id": ["a", "a", "b", "c"], "week": [0, 30, 40, 5],
                       "event": ["fever", "pneumonia", "headache", "rash"], "serious": [False, True, False, False]})
    by_arm, ratios = rates.ae_rates(classify_events(ae), pts, weeks_per_year=52.0)
    r = by_arm.set_index(["measure", "arm"])
    # b's follow-up runs to its event at week 40, after its last visit
    assert r.loc[("any adverse event", "MSCT"), "patient_years"] == pytest.approx((48 + 40) / 52)
    assert r.loc[("any adverse event", "MSCT"), "events"] == 3
    assert r.loc[("serious adverse event", "MSCT"), "events"] == 1
    assert r.loc[("infection", "control"), "events"] == 0
    assert ratios.set_index("measure").loc["any adverse event", "rate_ratio"] == pytest.approx((3 / 88) / (1 / 48))


def test_ae_rates_count_the_categories_it_is_given_and_refuse_unclassified_events():
    pts = pd.DataFrame({"patient_id": ["a", "b"], "arm": ["MSCT", "control"], "last_week": [52, 52]})
    ae = pd.DataFrame({"patient_id": ["a", "b"], "week": [3, 5], "event": ["fever", "rash"], "serious": [False, False]})
    with pytest.raises(ValueError, match="category"):
        rates.ae_rates(ae, pts)
    by_arm, _ = rates.ae_rates(ae, pts, categories=())
    assert by_arm["measure"].unique().tolist() == ["any adverse event", "serious adverse event"]
    by_arm, _ = rates.ae_rates(classify_events(ae), pts)
    assert by_arm["measure"].unique().tolist() == ["any adverse event", "serious adverse event", *rates.CATEGORIES]
    assert rates.ae_rates(None, pts)[0]["events"].sum() == 0  # no events table: no events, no classification needed


# --------------------------------------------------------------------------- ANCOVA
def test_ancova_group_effect_equals_least_squares():
    rng = np.random.default_rng(4)
    n = 30
    d = pd.DataFrame({"pre": rng.normal(40, 3, n), "arm": np.repeat(["control", "MSCT"], n // 2)})
    d["post"] = 10 + 0.7 * d["pre"] + 1.5 * (d["arm"] == "MSCT") + rng.normal(0, 1, n)
    res = ancova.ancova(d, after="post", before="pre", by="arm", levels=["control", "MSCT"]).iloc[0]
    X = np.column_stack([np.ones(n), d["pre"], (d["arm"] == "MSCT").astype(float)])
    beta, rss, *_ = np.linalg.lstsq(X, d["post"].to_numpy(), rcond=None)
    sigma2 = rss[0] / (n - 3)
    se = np.sqrt(sigma2 * np.linalg.inv(X.T @ X)[2, 2])
    assert res["estimate"] == pytest.approx(beta[2], rel=1e-9)
    assert res["slope_before"] == pytest.approx(beta[1], rel=1e-9)
    assert res["se"] == pytest.approx(se, rel=1e-9)
    assert res["p"] == pytest.approx(2 * sps.t.sf(abs(beta[2] / se), n - 3), rel=1e-9)
    assert res["p_group"] == pytest.approx(res["p"], rel=1e-9)  # one contrast: F = t²


def test_ancova_labs_uses_the_two_visits_and_holm():
    v = pd.DataFrame({"patient_id": np.repeat(range(10), 2), "week": [0, 24] * 10,
                      "arm": np.repeat(["control"] * 5 + ["MSCT"] * 5, 2),
                      "albumin_g_l": np.r_[[40, 41, 42, 42, 44, 45, 46, 46, 41, 41], [40, 43, 42, 45, 44, 47, 46, 48, 42, 44]],
                      "urea_mmol_l": np.linspace(4, 6, 20)})
    out = ancova.ancova_labs(v, before=0, after=24, labs=["albumin_g_l", "urea_mmol_l"])
    assert out["n"].tolist() == [10, 10]
    np.testing.assert_allclose(out["p_holm"], stats.adjust_pvalues(out["p_group"].to_numpy(), "holm"))
    assert out["label"].tolist() == ["albumin_g_l", "urea_mmol_l"] and out["unit"].eq("").all()
    # a table of labs names and orders them (labs absent from the visits are left out)
    info = pd.DataFrame({"lab": ["urea_mmol_l", "crp_mg_l", "albumin_g_l"], "label": ["Urea", "CRP", "Albumin"],
                         "unit": ["mmol/L", "mg/L", "g/L"]})
    named = ancova.ancova_labs(v, before=0, after=24, labs=info)
    assert named[["lab", "label", "unit"]].values.tolist() == [["urea_mmol_l", "Urea", "mmol/L"],
                                                              ["albumin_g_l", "Albumin", "g/L"]]


def test_ancova_labs_equals_ancova_of_each_lab_with_a_lab_missing_in_one_arm():
    # the labs are modelled on arrays after one join; each row must be ancova() on that lab's own table
    rng = np.random.default_rng(4)
    v = pd.DataFrame({"patient_id": np.repeat(range(16), 2), "week": [0, 24] * 16,
                      "arm": np.repeat(["control"] * 8 + ["MSCT"] * 8, 2),
                      "albumin_g_l": rng.normal(42, 2, 32), "urea_mmol_l": rng.normal(5, 1, 32),
                      "alt_u_l": rng.normal(30, 5, 32)})
    v.loc[(v["arm"] == "MSCT") & (v["week"] == 24), "urea_mmol_l"] = np.nan  # not fitted
    v.loc[[3, 10], "alt_u_l"] = np.nan
    out = ancova.ancova_labs(v, before=0, after=24, labs=["albumin_g_l", "urea_mmol_l", "alt_u_l"])
    for lab in ("albumin_g_l", "urea_mmol_l", "alt_u_l"):
        pre, post = (v.loc[v["week"] == wk].set_index("patient_id") for wk in (0, 24))
        d = pd.DataFrame({"before": pre[lab], "by": pre["arm"]}).join(post[lab].rename("after"), how="inner")
        one = ancova.ancova(d, after="after", before="before", by="by", levels=["control", "MSCT"])
        mine = out.loc[out["lab"] == lab, list(one.columns)].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, one, check_dtype=False)
    assert out.loc[out["lab"] == "urea_mmol_l", "note"].item().startswith("not fitted")


# --------------------------------------------------------------------------- prediction
def test_auc_equals_mann_whitney_u_over_n1_n2():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], [13, 17])
    s = np.round(rng.normal(y, 1), 1)
    u = sps.mannwhitneyu(s[y == 1], s[y == 0]).statistic
    assert prediction.auc(y, s) == pytest.approx(u / (13 * 17))


def test_stratified_folds_keep_class_proportions():
    y = np.repeat([0, 1], [24, 28])
    folds = prediction.stratified_folds(y, k=5, repeats=4, seed=3)
    for r in range(4):
        for f in range(5):
            assert abs((folds[r] == f).sum() - 52 / 5) < 1
            assert abs(((folds[r] == f) & (y == 1)).sum() - 28 / 5) < 1
    assert not np.array_equal(folds[0], folds[1])


def test_cv_auc_is_one_for_a_perfect_predictor_and_half_for_a_constant():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 20)
    perfect = pd.DataFrame({"y": y, "x": y * 5 + rng.uniform(0, 1, 40)})
    s, _ = prediction.cv_auc(perfect, outcome="y", predictors=["x"], k=5, repeats=5)
    assert s["cv_auc"].iloc[0] == 1.0 and s["apparent_auc"].iloc[0] == 1.0
    s, _ = prediction.cv_auc(perfect.assign(x=3.0), outcome="y", predictors=["x"], k=5, repeats=5)
    assert s["cv_auc"].iloc[0] == 0.5


def test_calibration_table_counts_every_patient_once():
    p = pd.DataFrame({"repeat": np.repeat([0, 1], 10), "row": np.tile(range(10), 2), "y": np.tile([0, 1] * 5, 2),
                      "p": np.linspace(0.05, 0.95, 20)})
    cal = prediction.calibration_table(p, bins=5)
    assert cal["n"].sum() == 10
    assert (np.diff(cal["mean_predicted"]) > 0).all()


# --------------------------------------------------------------------------- sections and claims
@pytest.fixture(scope="module")
def derived():
    from analysis.science.derive import derive

    return derive(demo_cohort(n_patients=40, seed=2))


def test_sections_take_their_weeks_from_the_design(derived):
    from analysis.science.derive import Derived

    short = Design.from_mapping({"visit_weeks": [0, 1, 2, 3, 4, 12, 24], "final_week": 24})
    visits = derived.visits.loc[derived.visits["week"].isin(short.visit_weeks)]
    d2 = Derived(patients=derived.patients, visits=visits, params=derived.params, design=short)
    look = activity_sl.activity_section(d2, outcomes=["das28"])
    assert look["mixed_tests"]["weeks"].iloc[0] == "0, 1, 2, 3, 4, 12, 24"
    assert look.facts["relapse_week"] == short.relapse_week == 24


def test_sections_degrade_when_columns_are_missing(derived):
    from analysis.science.derive import Derived

    bare = derived.visits[["patient_id", "week", "group", "arm"]]
    d2 = Derived(patients=derived.patients, visits=bare, params=derived.params, design=derived.design)
    for look in (activity_sl.activity_section(d2), immune_sl.immune_section(d2),
                 inflammation_sl.inflammation_section(d2), ifng_sl.ifng_section(d2)):
        assert not look.available and unavailable(look.reason).startswith("Not available with these data")
    look = safety_sl.safety_section(d2, None)
    assert look["ae_rates"]["events"].sum() == 0 and look["ancova"].empty


def test_judge_records_into_the_page_log():
    look = Look({}, "", {"p_das28": 0.001, "p_haq_di": float("nan"), "random_das28": "intercept",
                            "cum_relapse": 0.1, "cum_relapse_low": 0.02, "cum_relapse_high": 0.3,
                            "relapse_week": 24, "n_followed": 20, "n_relapsed": 2})
    log = ClaimLog("disease_activity")
    out = activity_verdicts.judge_second_look(log, look)
    assert out.set_index("claim_id")["verdict"].to_dict() == {
        "activity.second_look_das28_group_time": "reproduced",
        "activity.second_look_haq_group_time": "not testable with these data",
        "activity.second_look_relapse_km": "reproduced"}
    assert set(out["basis"]) == {"empirical"}
    assert set(log.table()["claim_id"]) == set(out["claim_id"])


def test_a_group_time_test_without_evidence_is_inconclusive_not_refuted():
    """p >= alpha is absence of evidence: the verdict must be "inconclusive", never "not reproduced"."""
    look = Look({}, "", {"p_das28": 0.6, "p_haq_di": 0.049, "cum_relapse": float("nan")})
    out = activity_verdicts.judge_second_look(ClaimLog("disease_activity"), look).set_index("claim_id")
    assert out.loc["activity.second_look_das28_group_time", "verdict"] == "inconclusive"
    assert out.loc["activity.second_look_haq_group_time", "verdict"] == "reproduced"


def test_safety_rules_at_their_margins():
    """AE rate ratio: CI below 2 -> reproduced; CI above 1 -> not reproduced; else inconclusive. Labs, read in the
    direction of harm: a Holm worsening refutes, every lab shown no worse than its margin reproduces, else
    inconclusive."""
    def verdicts(lo, hi, worse, shown=9):
        look = Look({}, "", {"rr_any_low": lo, "rr_any": (lo + hi) / 2, "rr_any_high": hi, "n_labs": 11,
                                "n_labs_worse": worse, "n_labs_noninferior": shown, "final_week": 48})
        return safety_verdicts.judge_second_look(ClaimLog("safety"), look).set_index("claim_id")["verdict"].to_dict()
    assert verdicts(0.4, 1.9, 0)["safety.second_look_ae_rate"] == "reproduced"
    assert verdicts(0.4, 9.0, 0)["safety.second_look_ae_rate"] == "inconclusive"
    assert verdicts(1.1, 9.0, 0)["safety.second_look_ae_rate"] == "not reproduced"
    assert verdicts(0.4, 1.9, 0)["safety.second_look_labs_ancova"] == "inconclusive"
    assert verdicts(0.4, 1.9, 0, shown=11)["safety.second_look_labs_ancova"] == "reproduced"
    assert verdicts(0.4, 1.9, 2, shown=9)["safety.second_look_labs_ancova"] == "not reproduced"


def _two_arm_lab(shift, n=40, lab="albumin_g_l"):
    """``n`` patients per arm, albumin at weeks 0 and 48; MSCT's week-48 value moved by ``shift`` g/L.

    Baseline 34–40 g/L (below the middle, 47.5, of the normal range 40–55: lower is worse); week 48 = week 0 plus a
    ±0.2 wobble, so the adjusted difference is ``shift`` up to a few hundredths."""
    rows = []
    for i in range(2 * n):
        arm = "MSCT" if i < n else "control"
        b = 34.0 + (i % 7)
        after = b + (0.2 if i % 2 else -0.2) + (shift if arm == "MSCT" else 0.0)
        rows += [(f"p{i}", 0, arm, b), (f"p{i}", 48, arm, after)]
    return pd.DataFrame(rows, columns=["patient_id", "week", "arm", lab])


@pytest.mark.parametrize("shift, verdict", [(0.0, "reproduced"), (2.0, "reproduced"), (-0.9, "reproduced"),
                                            (-1.0, "inconclusive"), (-1.5, "not reproduced")])
def test_labs_ancova_is_direction_aware(shift, verdict):
    """By hand: the baseline SD of 34..40 is 2.02 (margin 1.01 g/L); the adjusted difference is ``shift`` with an
    SE of 0.046 (one-sided bound +0.076, Bonferroni interval ±0.092). Albumin starts below the middle of its normal
    range, so lower is worse. No change, 2 g/L higher with MSCT (towards normal) or 0.9 lower (within the margin):
    reproduced. 1.0 lower: the bound 1.08 crosses the margin, the interval 0.91–1.09 contains it: inconclusive.
    1.5 lower: wholly beyond the margin: not reproduced (the old rule called the 2 g/L improvement a refutation)."""
    from analysis.chapters.safety.second_look import labs_noninferiority
    from analysis.science.methods.ancova import ancova_labs

    v = _two_arm_lab(shift)
    anc = ancova_labs(v, before=0, after=48, labs=["albumin_g_l"])
    t = labs_noninferiority(anc, v).iloc[0]
    assert t["harm"] == "lower" and t["margin"] == pytest.approx(0.5 * v.loc[v.week == 0, "albumin_g_l"].std())
    assert t["harm_estimate"] == pytest.approx(-shift, abs=0.01)
    facts = {"n_labs": 1, "n_labs_worse": int(t["worse"]), "n_labs_noninferior": int(t["noninferior"]),
             "final_week": 48}
    got = safety_verdicts.judge_second_look(ClaimLog("safety"), Look({}, "", facts)).set_index("claim_id")
    assert got.loc["safety.second_look_labs_ancova", "verdict"] == verdict


def test_claims_are_valid_registry_rows():
    claims = published_claims(section="second_look")
    assert claims["claim_id"].is_unique and len(claims) == 11
    assert set(claims["chapter"]) == {"safety", "disease_activity", "immune", "inflammation", "ifng"}
    assert set(claims["basis"]) == {"empirical"}


def test_figures_are_returned_not_saved(derived):
    import matplotlib.figure

    look = activity_sl.activity_section(derived, outcomes=["das28"])
    for fig in (mixed.figure_marginal_means(look["marginal_means"], outcomes=["das28"]),
                activity_sl.figure_km(look["km"], reference_week=12, relapse_week=24),
                ifng_sl.figure_prediction(ifng_sl.ifng_section(derived, repeats=2))):
        assert isinstance(fig, matplotlib.figure.Figure)


def test_newton_logistic_equals_statsmodels_logit():
    """The cross-validation's own logistic fit gives statsmodels' maximum-likelihood estimates."""
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(80), rng.normal(size=(80, 2))])
    y = (rng.random(80) < 1 / (1 + np.exp(-(X @ [0.3, 1.0, -0.7])))).astype(float)
    beta, converged = prediction._logistic_newton(X, y)
    assert converged
    np.testing.assert_allclose(beta, sm.Logit(y, X).fit(disp=0).params, atol=1e-7)


@pytest.mark.parametrize("case", ["plain", "separated", "intercept only"])
def test_logit_llf_is_statsmodels_logit_to_the_bit(case):
    """The likelihood-ratio test's own Logit fit: statsmodels' log-likelihood and convergence, bit for bit."""
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    X = np.column_stack([np.ones(70), rng.normal(size=(70, 2))])
    y = (rng.random(70) < 1 / (1 + np.exp(-(X @ [0.2, 1.2, -0.5])))).astype(float)
    if case == "separated":
        y = (X[:, 1] > 0).astype(float)  # no maximum: statsmodels stops unconverged
    if case == "intercept only":
        X = X[:, :1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.Logit(y, X).fit(disp=0)
        llf, converged = prediction._logit_llf(y, X)
    assert repr(llf) == repr(float(fit.llf))
    assert converged == fit.mle_retvals["converged"] == (case != "separated")


def test_calibration_group_mean_is_pandas_groupby_mean_to_the_bit():
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 7, 300)
    values = rng.lognormal(0, 2, 300)
    values[rng.random(300) < 0.1] = np.nan
    expected = pd.Series(values).groupby(codes).mean().reindex(range(8)).to_numpy()
    assert repr(prediction._group_mean(codes, values, 8).tolist()) == repr(expected.tolist())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batched_cross_validation_equals_the_fold_by_fold_fits(seed):
    rng = np.random.default_rng(seed)
    n = 60
    d = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "x3": rng.integers(0, 2, n)})
    d["y"] = (d["x1"] + 0.5 * d["x2"] + rng.normal(size=n) > 0).astype(int)
    if seed == 2:
        d.loc[d["y"] == 1, "x3"] = 1.0  # x3 separates part of the data: some folds need the ridge fallback
    summary, preds = prediction.cv_auc(d, outcome="y", predictors=["x1", "x2", "x3"], k=5, repeats=4, seed=seed)
    X, y = d[["x1", "x2", "x3"]].to_numpy(float), d["y"].to_numpy(float)
    folds = prediction.stratified_folds(y, k=5, repeats=4, seed=seed)
    per_repeat = []
    for r in range(4):
        p = np.empty(n)
        fold_auc = []
        for f in range(5):
            test = folds[r] == f
            p[test] = prediction._fit_predict(X[~test], y[~test], X[test])  # one fit per fold, the plain way
            fold_auc.append(prediction.auc(y[test], p[test]))
        per_repeat.append(np.nanmean(fold_auc))
        np.testing.assert_allclose(preds.loc[preds["repeat"] == r, "p"].to_numpy(), p, rtol=1e-7, atol=1e-9)
    assert summary["cv_auc"].iloc[0] == pytest.approx(np.mean(per_repeat), abs=1e-12)


def test_ancova_equals_statsmodels_ols_with_three_groups():
    import statsmodels.api as sm

    rng = np.random.default_rng(11)
    n = 45
    d = pd.DataFrame({"pre": rng.normal(10, 2, n), "arm": np.repeat(["a", "b", "c"], 15)})
    d["post"] = 0.6 * d["pre"] + (d["arm"] == "b") * 1.5 - (d["arm"] == "c") * 0.7 + rng.normal(0, 1, n)
    res = ancova.ancova(d, after="post", before="pre", by="arm", levels=["a", "b", "c"], confidence=0.9)
    X = np.column_stack([np.ones(n), d["pre"], d["arm"] == "b", d["arm"] == "c"]).astype(float)
    fit = sm.OLS(d["post"].to_numpy(), X).fit()
    red = sm.OLS(d["post"].to_numpy(), X[:, :2]).fit()
    ci = fit.conf_int(alpha=0.1)
    for j, row in zip((2, 3), res.itertuples()):
        assert row.estimate == pytest.approx(fit.params[j], rel=1e-10)
        assert row.se == pytest.approx(fit.bse[j], rel=1e-10)
        assert row.p == pytest.approx(fit.pvalues[j], rel=1e-8)
        assert (row.ci_low, row.ci_high) == pytest.approx(tuple(ci[j]), rel=1e-10)
    assert res["p_group"].iloc[0] == pytest.approx(fit.compare_f_test(red)[1], rel=1e-8)


def test_rank_scale_keeps_missing_values_missing_and_reads_missing_flags():
    d = pd.DataFrame({"x": [np.nan, 2.0, np.nan, 1.0, 5.0],
                      "x_flag": pd.Series(["<LLOQ", None, pd.NA, None, ">ULOQ"], dtype=object)})
    r = mixed._transform(d, "x", "rank")
    ref = d["x"].mask(d["x_flag"].eq("<LLOQ").fillna(False).astype(bool), -np.inf) \
        .mask(d["x_flag"].eq(">ULOQ").fillna(False).astype(bool), np.inf).rank(method="average")
    np.testing.assert_array_equal(r.to_numpy(), ref.to_numpy())  # NaN where missing, as pandas' rank
    assert r.iloc[0] == 1.0 and np.isnan(r.iloc[2])
    assert mixed._transform(d, "x", "log").round(6).tolist()[3:] == [0.0, round(np.log(5.0), 6)]


def test_ancova_with_a_constant_baseline_does_not_fail_and_matches_statsmodels():
    import statsmodels.api as sm

    d = pd.DataFrame({"pre": [5.0] * 8, "post": [4.0, 5, 6, 5, 7, 8, 7, 9], "arm": ["c"] * 4 + ["t"] * 4})
    res = ancova.ancova(d, after="post", before="pre", by="arm", levels=["c", "t"]).iloc[0]
    X = np.column_stack([np.ones(8), d["pre"], d["arm"] == "t"]).astype(float)
    fit = sm.OLS(d["post"].to_numpy(), X).fit()
    assert res["estimate"] == pytest.approx(fit.params[2], rel=1e-9)
    assert res["se"] == pytest.approx(fit.bse[2], rel=1e-9)
