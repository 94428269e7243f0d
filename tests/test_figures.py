"""Tests for analysis.science.figures: right artists on tiny hand frames, inputs untouched, no savefig."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from analysis.science import figures as fg  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture
def visits() -> pd.DataFrame:
    # 3 patients × 3 visits in two groups
    return pd.DataFrame({
        "id": [1, 1, 1, 2, 2, 2, 3, 3, 3],
        "week": [0, 4, 12] * 3,
        "das28": [5.5, 4.0, 3.0, 6.0, 4.5, 3.5, 5.0, 5.2, 5.1],
        "group": ["Responder"] * 6 + ["Non-responder"] * 3,
    })


def _unchanged(func, data, **kwargs):
    before = data.copy()
    out = func(data, **kwargs)
    pd.testing.assert_frame_equal(data, before)
    return out


def test_theme_and_palette():
    fg.set_theme()
    assert plt.rcParams["font.size"] == 12
    with fg.book_style():
        assert plt.rcParams["axes.spines.top"] is False
    pal = fg.palette_for(["Responder", "Non-responder", "Control", "Before", "After", "other"])
    assert len(set(pal.values())) == 6  # distinct colours
    assert pal["Responder"] == fg.PALETTE["Responder"] and pal["other"] not in fg.PALETTE.values()


def test_mean_sem_lines(visits):
    ax = _unchanged(fg.mean_sem_lines, visits, x="week", y="das28", hue="group")
    assert isinstance(ax, Axes)
    assert len(ax.containers) == 2  # one errorbar per group
    # Responder mean at week 0 = (5.5 + 6.0)/2; the Responder legend entry comes first (fixed order)
    line = ax.containers[0].lines[0]
    assert line.get_ydata()[0] == pytest.approx(5.75)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Responder", "Non-responder"]


def test_spaghetti_counts_and_subsampling(visits):
    ax = _unchanged(fg.spaghetti, visits, x="week", y="das28", unit="id", hue="group")
    assert len(ax.lines) == 3 and ax.get_title() == ""
    ax = fg.spaghetti(visits, x="week", y="das28", unit="id", hue="group", max_units=1)
    assert len(ax.lines) == 2 and "showing 1 of 2" in ax.get_title()
    # a large cohort stays light: 1000 patients → at most 200 lines
    big = pd.DataFrame({"id": np.repeat(np.arange(1000), 2), "week": [0, 12] * 1000,
                        "y": np.arange(2000.0), "group": "Control"})
    assert len(fg.spaghetti(big, x="week", y="y", unit="id", hue="group").lines) == 200
    with pytest.raises(ValueError, match="`max_units`"):
        fg.spaghetti(visits, x="week", y="das28", unit="id", max_units=0)


def test_before_after(visits):
    sub = visits[visits.week.isin([0, 12])].assign(
        when=lambda d: d.week.map({0: "Before", 12: "After"}))
    ax = _unchanged(fg.before_after, sub, x="when", y="das28", unit="id",
                    order=["Before", "After"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Before", "After"]
    assert len(ax.patches) >= 2  # two boxes
    ax = fg.before_after(sub, x="when", y="das28", hue="group", order=["Before", "After"])
    assert isinstance(ax, Axes)


def test_heatmap_texts():
    t = pd.DataFrame([[1.0, -0.2, 0.3], [-0.2, 1.0, 0.1]], index=["a", "b"], columns=list("xyz"))
    ax = _unchanged(fg.heatmap, t)
    assert len(ax.texts) == 6
    with pytest.raises(TypeError, match="`table`"):
        fg.heatmap([[1, 2]])


def test_scatter_fit_lines_and_subsample():
    df = pd.DataFrame({"x": [1, 2, 3, 1, 2, 3, 5], "y": [1, 2, 3, 3, 2, 1, 4],
                       "group": ["Responder"] * 3 + ["Non-responder"] * 3 + ["Control"]})
    ax = _unchanged(fg.scatter_fit, df, x="x", y="y", hue="group")
    assert len(ax.collections) == 3
    assert len(ax.lines) == 2  # Control has one point: no line
    # Responder line: y = x exactly
    xs, ys = ax.lines[0].get_data()
    assert np.allclose(xs, ys)
    rng = np.random.default_rng(0)
    big = pd.DataFrame({"x": rng.normal(size=3000), "y": rng.normal(size=3000)})
    ax = fg.scatter_fit(big, x="x", y="y")
    assert len(ax.collections[0].get_offsets()) == 2000 and "2000 of 3000" in ax.get_title()


def test_roc_plot():
    curve = pd.DataFrame({"threshold": [np.inf, 0.8, 0.4, 0.35, 0.1],
                          "fpr": [0, 0, 0.5, 0.5, 1], "tpr": [0, 0.5, 0.5, 1, 1]})
    ax = _unchanged(fg.roc_plot, curve, auc=0.75, best=curve.iloc[[1]])
    assert len(ax.lines) == 3
    assert "AUC = 0.75" in ax.get_legend().get_texts()[0].get_text()


def test_flow_diagram():
    counts = {"enrolled": 172, "msct": 105, "control": 67, "responders": 50,
              "non_responders": 55, "lost_msct": 3, "lost_control": 2, "analysed_msct": 102,
              "analysed_control": 65}  # arbitrary numbers, only drawn
    ax = fg.flow_diagram(counts)
    assert len(ax.texts) == 9 and len(ax.patches) == 9
    assert ax.texts[0].get_text() == "Enrolled\nn = 172"
    assert not ax.axison
    ax = fg.flow_diagram({}, labels={"msct": "MSCT arm"})
    assert "n = –" in ax.texts[0].get_text() and ax.texts[1].get_text().startswith("MSCT arm")
    with pytest.raises(ValueError, match="`counts`"):
        fg.flow_diagram({"randomised": 3})


def test_bar_counts():
    df = pd.DataFrame({"event": ["fever", "rash", "fever", "rash"], "n": [3, 1, 0, 2],
                       "arm": ["MSCT", "MSCT", "control", "control"]})
    ax = _unchanged(fg.bar_counts, df, x="event", hue="arm")
    bars = [p for c in ax.containers for p in c]
    assert len(bars) == 4
    assert sorted(b.get_height() for b in bars) == [0, 1, 2, 3]
    ax = fg.bar_counts(df[df.arm == "MSCT"], x="event", horizontal=True, annotate=False)
    assert len(ax.texts) == 0 and len(ax.containers[0]) == 2


def test_no_savefig_or_show_in_module():
    import inspect

    src = inspect.getsource(fg)
    assert "savefig(" not in src and "plt.show(" not in src


def test_uses_given_ax(visits):
    fig, ax = plt.subplots()
    assert fg.mean_sem_lines(visits, x="week", y="das28", hue="group", ax=ax) is ax
    assert len(plt.get_fignums()) == 1
