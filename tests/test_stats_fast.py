"""The fast paths of analysis.science.stats equal SciPy / pingouin (the references) to 1e-12."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats as sps

from analysis.science import stats

RNG = np.random.default_rng(20181)
TOL = 1e-12


def _close(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    both_nan = np.isnan(a) & np.isnan(b)
    assert np.all(both_nan | (np.abs(a - b) <= TOL * np.maximum(1.0, np.abs(b)))), (a, b)


@pytest.mark.parametrize("n", [2, 3, 7, 28, 200])
def test_ttest_by_formula_equals_scipy(n):
    for _ in range(20):
        x = RNG.lognormal(1, 1, n)
        y = x * RNG.lognormal(0.1, 0.5, n)
        z = RNG.normal(3, 2, n + 3)
        t, p, dof = stats._ttest(y, x, paired=True)
        ref = sps.ttest_rel(y, x)
        _close([t, p], [ref.statistic, ref.pvalue])
        t, p, dof = stats._ttest(x, z)
        ref = sps.ttest_ind(x, z)
        _close([t, p, dof], [ref.statistic, ref.pvalue, ref.df])
        t, p, dof = stats._ttest(x, z, welch=True)
        ref = sps.ttest_ind(x, z, equal_var=False)
        _close([t, p, dof], [ref.statistic, ref.pvalue, ref.df])
        res = pg.ttest(x, z, correction=True)  # pingouin's Welch dof, the documented reference
        _close([dof], [res["dof"].iloc[0]])


def test_compare_paired_equals_the_pivot_it_replaced():
    rows = []
    for pid in range(40):
        for week in (0, 4, 12):
            if RNG.random() < 0.15:
                continue
            rows.append({"pid": f"P{pid:03d}", "week": week, "y": RNG.normal(5 + week / 12, 1)})
    df = pd.DataFrame(rows).sample(frac=1, random_state=1)
    df.loc[df.sample(5, random_state=2).index, "y"] = np.nan
    res = stats.compare_paired(df, dv="y", within="week", subject="pid", pair=(0, 12))
    wide = df.pivot(index="pid", columns="week", values="y")[[0, 12]].dropna()
    ref = sps.ttest_rel(wide[12], wide[0])
    assert res["n"].item() == len(wide)
    _close([res["statistic"].item(), res["p"].item(), res["mean_diff"].item()],
           [ref.statistic, ref.pvalue, (wide[12] - wide[0]).mean()])
    w = stats.compare_paired(df, dv="y", within="week", subject="pid", pair=(0, 12), test="wilcoxon")
    _close([w["p"].item()], [sps.wilcoxon(wide[12] - wide[0]).pvalue])


def test_compare_paired_still_refuses_duplicates():
    df = pd.DataFrame({"id": [1, 1, 1], "w": [0, 0, 1], "y": [1.0, 2, 3]})
    with pytest.raises(ValueError, match="more than one row"):
        stats.compare_paired(df, dv="y", within="w", subject="id", pair=(0, 1))


def test_paired_t_columns_equals_per_cell_scipy():
    n, cells = 30, 12
    x = RNG.normal(10, 3, (n, cells))
    y = x + RNG.normal(0.5, 2, (n, cells))
    x[RNG.random((n, cells)) < 0.1] = np.nan
    y[RNG.random((n, cells)) < 0.1] = np.nan
    x[:, 3] = np.round(x[:, 3])
    y[:, 3] = x[:, 3] + 1.0  # all differences equal (exactly, integers): no test
    x[1:, 5] = np.nan  # fewer than 2 pairs
    out = stats.paired_t_columns(x, y)
    for j in range(cells):
        ok = ~(np.isnan(x[:, j]) | np.isnan(y[:, j]))
        assert out.loc[j, "n"] == ok.sum()
        if j in (3, 5):
            assert np.isnan(out.loc[j, "p"])
            continue
        ref = sps.ttest_rel(y[ok, j], x[ok, j])
        _close([out.loc[j, "statistic"], out.loc[j, "p"], out.loc[j, "mean_diff"], out.loc[j, "sd_diff"]],
               [ref.statistic, ref.pvalue, (y[ok, j] - x[ok, j]).mean(), (y[ok, j] - x[ok, j]).std(ddof=1)])


@pytest.mark.parametrize("welch", [False, True])
def test_student_t_columns_equals_per_cell_scipy(welch):
    a = RNG.normal(0, 1, (25, 9))
    b = RNG.normal(0.3, 2, (31, 9))
    a[RNG.random(a.shape) < 0.1] = np.nan
    b[RNG.random(b.shape) < 0.1] = np.nan
    b[1:, 4] = np.nan
    out = stats.student_t_columns(a, b, welch=welch)
    for j in range(9):
        aj, bj = a[~np.isnan(a[:, j]), j], b[~np.isnan(b[:, j]), j]
        if bj.size < 2:
            assert np.isnan(out.loc[j, "p"])
            continue
        ref = sps.ttest_ind(aj, bj, equal_var=not welch)
        _close([out.loc[j, "statistic"], out.loc[j, "p"], out.loc[j, "dof"]], [ref.statistic, ref.pvalue, ref.df])


def test_anova_p_by_fdtrc_equals_scipy_f_oneway():
    df = pd.DataFrame({"g": np.repeat(list("abc"), 15), "y": RNG.normal(0, 1, 45) + np.repeat([0, 0.3, 0.8], 15)})
    aov, _ = stats.anova_bonferroni(df, dv="y", between="g")
    ref = sps.f_oneway(*[v.to_numpy() for _, v in df.groupby("g")["y"]])
    _close([aov["F"].item(), aov["p"].item()], [ref.statistic, ref.pvalue])


@pytest.mark.parametrize("seed", range(6))
def test_anova_bonferroni_equals_pingouin(seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 30, 4)
    df = pd.DataFrame({"g": np.repeat(["Responder", "Non-responder", "Control", "x"], sizes),
                       "y": rng.normal(0, 1, sizes.sum()) + np.repeat(rng.normal(0, 0.5, 4), sizes)})
    df.loc[rng.random(len(df)) < 0.05, "y"] = np.nan
    aov, post = stats.anova_bonferroni(df, dv="y", between="g")
    d = df.dropna()
    keep = d.groupby("g")["y"].transform("size") >= 2
    d = d[keep]
    if d["g"].nunique() < 2:
        assert np.isnan(aov["F"].item())
        return
    ref = pg.anova(data=d, dv="y", between="g", detailed=False)
    _close([aov["F"].item(), aov["p"].item(), aov["np2"].item()], [ref["F"].iloc[0], ref["p_unc"].iloc[0], ref["np2"].iloc[0]])
    ph = pg.pairwise_tests(data=d, dv="y", between="g", padjust="bonf", effsize="hedges", correction=False)
    if "p_corr" not in ph:
        ph["p_corr"] = ph["p_unc"]
    merged = post.merge(ph, left_on=["a", "b"], right_on=["A", "B"])
    assert len(merged) == len(post) == len(ph)
    _close(merged["t"], merged["T"])
    _close(merged["p_unc_x"], merged["p_unc_y"])
    _close(merged["p_bonf"], merged["p_corr"])
    _close(merged["hedges_g"], merged["hedges"])


def test_corrcoef_is_numpys_bit_for_bit():
    from analysis.science.stats import _corrcoef

    rng = np.random.default_rng(7)
    for _ in range(3000):
        n = int(rng.integers(2, 60))
        x = rng.normal(size=n) * rng.choice([1.0, 1e-3, 1e5])
        y = x * rng.normal() + rng.normal(size=n)
        if rng.random() < 0.3:  # ties and short decimals, as lab values have
            x, y = np.round(x, 1), np.round(y, 1)
        if x.std() > 0 and y.std() > 0:
            assert _corrcoef(x, y) == np.corrcoef(x, y)[0, 1]
    two = np.array([1.0, 2.0]), np.array([3.0, 1.0])
    assert _corrcoef(*two) == np.corrcoef(*two)[0, 1] and abs(_corrcoef(*two) + 1) < 1e-15


def _paired_row_before(x, y, pair):
    """paired_row's t test as it was computed before its fast path: numpy's mean/var/std, np.corrcoef."""
    n, d = x.size, y - x
    row = dict(before=pair[0], after=pair[1], n=n, mean_before=x.mean(), mean_after=y.mean(), mean_diff=d.mean(),
               sd_diff=float(np.std(d, ddof=1)), statistic=np.nan, dof=np.nan, p=np.nan, note="")
    s_av = np.sqrt((x.var(ddof=1) + y.var(ddof=1)) / 2)
    if s_av == 0:
        g = lo = hi = np.nan
    else:
        dd = d.mean() / s_av
        j = 1 - 3 / (4 * (n - 1) - 1)
        r = np.corrcoef(x, y)[0, 1] if x.std() > 0 and y.std() > 0 else np.nan
        se = j * np.sqrt((1 / n + dd**2 / (2 * n)) * 2 * (1 - r))
        g, lo, hi = float(j * dd), float(j * dd - 1.959963984540054 * se), float(j * dd + 1.959963984540054 * se)
    if np.ptp(d) == 0:
        row["note"] = "all differences are equal: test undefined"
    else:
        t = d.mean() / np.sqrt(d.var(ddof=1) / n)
        row.update(statistic=float(t), p=float(2.0 * stats._special.stdtr(n - 1.0, -np.abs(t))), dof=float(n - 1))
    row.update(hedges_g=g, g_ci_low=lo, g_ci_high=hi, test="t", alpha=0.05, significant=bool(row["p"] < 0.05))
    return row


def test_paired_row_fast_path_is_the_same_bits_as_before():
    rng = np.random.default_rng(11)
    for k in range(3000):
        n = int(rng.integers(2, 40))
        x = rng.normal(size=n) * rng.choice([1.0, 1e-3, 1e4])
        y = x * rng.normal(1, 0.3) + rng.normal(size=n)
        if k % 5 == 0:  # ties, constant conditions and equal differences, as lab values have
            x, y = np.round(x, 1), np.round(y, 1)
        if k % 97 == 0:
            y = x + 1.5
        if k % 89 == 0:
            x = np.full(n, 2.0)
        got, ref = stats.paired_row(x, y, (0, 4)), _paired_row_before(x, y, (0, 4))
        assert list(got) == list(ref) and repr(list(got.values())) == repr(list(ref.values())), (got, ref)
        assert repr(stats.hedges_g_paired(x, y)) == repr((ref["hedges_g"], ref["g_ci_low"], ref["g_ci_high"]))
    x, y = np.array([1.0, np.nan, 3, 4]), np.array([2.0, 4, np.nan, 6])  # missing values: complete pairs only
    assert stats.hedges_g_paired(x, y) == stats.hedges_g_paired(x[[0, 3]], y[[0, 3]])


def test_mean_var_is_numpys_bit_for_bit():
    from analysis.core.moments import mean_var

    rng = np.random.default_rng(12)
    for k in range(2000):
        a = rng.normal(size=int(rng.integers(1, 50))) * rng.choice([1.0, 1e-4, 1e6])
        if k % 3 == 0:
            a = np.round(a, 1)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy's "Degrees of freedom <= 0" for one value
            mean, var = stats._mean_var(a)
            assert repr((mean, var)) == repr((a.mean(), a.var(ddof=1)))
            if a.size > 1:  # the shared one (claims rules, equivalence margins, paired tests)
                assert repr(mean_var(a)) == repr((a.mean(), a.var(ddof=1)))
