"""The book's plot look and generic plots.

Plot functions only draw: they take tidy DataFrames (computed elsewhere, e.g.
by :mod:`analysis.science.stats`), draw on ``ax`` (a new Axes when None) and return the
Axes — or the Figure for multi-panel plots. They never call ``savefig`` or
``show`` and never mutate their input. The only arithmetic here is what a plot
needs to draw (a group mean ± SEM per visit, a least-squares line, a random
subsample that keeps large cohorts light).

Colours are fixed per label (Okabe–Ito colour-blind-safe palette), so a
Responder is the same blue in every chapter.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
import warnings
from contextlib import contextmanager

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch

__all__ = [
    "PALETTE",
    "bar_counts",
    "before_after",
    "book_style",
    "color_for",
    "flow_diagram",
    "heatmap",
    "mean_sem_lines",
    "palette_for",
    "roc_plot",
    "scatter_fit",
    "set_theme",
    "spaghetti",
]

#: Fixed colours (Okabe & Ito 2008, "Color Universal Design").
PALETTE: dict[str, str] = {
    "Responder": "#0072B2",      # blue
    "Non-responder": "#D55E00",  # vermillion
    "Control": "#7F7F7F",        # grey
    "MSCT": "#009E73",           # bluish green
    "control": "#7F7F7F",        # grey (arm)
    "Before": "#56B4E9",         # sky blue
    "After": "#E69F00",          # orange
    # verdicts of the scorecard
    "reproduced": "#009E73",                    # bluish green
    "not reproduced": "#D55E00",                # vermillion
    "not testable with these data": "#7F7F7F",  # grey
}
#: colours for labels the book's palette does not name (colour-blind safe, Okabe–Ito), in the order they are handed out
SPARE_COLOURS = ["#CC79A7", "#F0E442", "#000000", "#009E73", "#56B4E9", "#E69F00", "#0072B2", "#D55E00"]

#: Sizes chosen for figures shown about 900 px wide.
_RC: dict = {
    "figure.figsize": (7.5, 4.5),
    "figure.dpi": 120,
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 2.0,
    "axes.prop_cycle": mpl.cycler(color=["#0072B2", "#D55E00", "#7F7F7F", "#009E73",
                                         "#CC79A7", "#E69F00", "#56B4E9", "#F0E442"]),
}


def set_theme() -> None:
    """Apply the book's look globally (call once at the top of a notebook).

    Examples
    --------
    >>> set_theme()
    >>> plt.rcParams["font.size"]
    12.0
    """
    sns.set_theme(style="whitegrid", rc=_RC)


@contextmanager
def book_style() -> Iterator[None]:
    """Context manager: the book's look inside the ``with`` block only.

    Examples
    --------
    >>> with book_style():
    ...     plt.rcParams["legend.frameon"]
    False
    """
    with mpl.rc_context(_RC):
        yield


def color_for(label, index: int = 0) -> str:
    """The fixed colour of ``label``; unknown labels get a spare colour by ``index``.

    Examples
    --------
    >>> color_for("Responder")
    '#0072B2'
    """
    return PALETTE.get(str(label), SPARE_COLOURS[index % len(SPARE_COLOURS)])


def palette_for(levels) -> dict:
    """A ``{level: colour}`` dict for seaborn's ``palette=``, fixed colours first.

    Examples
    --------
    >>> palette_for(["Control", "Responder"])
    {'Control': '#7F7F7F', 'Responder': '#0072B2'}
    """
    out, spare = {}, 0
    for lev in levels:
        if str(lev) in PALETTE:
            out[lev] = PALETTE[str(lev)]
        else:
            out[lev] = SPARE_COLOURS[spare % len(SPARE_COLOURS)]
            spare += 1
    return out


def _check(data: pd.DataFrame, **cols) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`data` must be a pandas DataFrame; got {type(data).__name__}.")
    for arg, col in cols.items():
        if col is not None and col not in data.columns:
            raise ValueError(f"`{arg}` names column {col!r}, which is not in `data` "
                             f"(columns: {list(data.columns)}).")


def _ax(ax: Axes | None) -> Axes:
    return plt.subplots()[1] if ax is None else ax


def _levels(data: pd.DataFrame, hue: str | None) -> list:
    """Hue levels present: categorical order, else known labels in PALETTE order, then sorted."""
    if hue is None:
        return [None]
    s = data[hue]
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [c for c in s.cat.categories if (s == c).any()]
    present = list(pd.unique(s.dropna()))
    rank = {k: i for i, k in enumerate(PALETTE)}
    known = sorted((v for v in present if str(v) in rank), key=lambda v: rank[str(v)])
    rest = sorted((v for v in present if str(v) not in rank), key=str)
    return known + rest


def _subset(data: pd.DataFrame, hue: str | None, level) -> pd.DataFrame:
    return data if hue is None else data[data[hue] == level]


def mean_sem_lines(data: pd.DataFrame, *, x: str, y: str, hue: str | None = None,
                   ax: Axes | None = None, capsize: float = 3) -> Axes:
    """Mean ± SEM of ``y`` at each ``x`` (visit), one line per ``hue`` group.

    SEM = sample SD / sqrt(n) of the non-missing values at that visit; a point
    with a single value has no error bar.

    Returns
    -------
    Axes
        One errorbar container (``ax.containers``) per hue level.

    Examples
    --------
    >>> df = pd.DataFrame({"week": [0, 0, 4, 4] * 2, "y": [1, 3, 2, 4, 5, 7, 4, 6],
    ...                    "group": ["Responder"] * 4 + ["Control"] * 4})
    >>> ax = mean_sem_lines(df, x="week", y="y", hue="group")
    >>> len(ax.containers)
    2
    >>> plt.close("all")
    """
    _check(data, x=x, y=y, hue=hue)
    ax = _ax(ax)
    for i, level in enumerate(_levels(data, hue)):
        agg = (_subset(data, hue, level).groupby(x, sort=True)[y]
               .agg(["mean", "sem", "count"]).reset_index())
        ax.errorbar(agg[x], agg["mean"], yerr=agg["sem"], marker="o", capsize=capsize,
                    color=color_for(level, i), label=None if level is None else str(level))
    ax.set_xlabel(x)
    ax.set_ylabel(f"{y} (mean ± SEM)")
    if hue is not None and ax.get_legend_handles_labels()[0]:  # no legend (and no warning) when no group has data
        ax.legend(title=hue)
    return ax


def spaghetti(data: pd.DataFrame, *, x: str, y: str, unit: str, hue: str | None = None,
              ax: Axes | None = None, max_units: int = 200, seed: int = 0,
              alpha: float = 0.35) -> Axes:
    """One thin line per patient (``unit``) over ``x``, coloured by ``hue``.

    At most ``max_units`` units per hue level are drawn, chosen at random with
    a seeded :class:`numpy.random.Generator`; when any level is subsampled the
    title says so (e.g. "showing 200 of 950 patients per group at most").

    Returns
    -------
    Axes
        One Line2D per drawn unit.

    Examples
    --------
    >>> df = pd.DataFrame({"id": [1, 1, 2, 2, 3, 3], "week": [0, 12] * 3,
    ...                    "y": [5, 3, 6, 6, 4, 2], "group": ["Responder"] * 4 + ["Control"] * 2})
    >>> ax = spaghetti(df, x="week", y="y", unit="id", hue="group")
    >>> len(ax.lines)
    3
    >>> ax = spaghetti(df, x="week", y="y", unit="id", hue="group", max_units=1)
    >>> len(ax.lines), ax.get_title()
    (2, 'showing 1 of 2 units per group at most (random, seed 0)')
    >>> plt.close("all")
    """
    _check(data, x=x, y=y, unit=unit, hue=hue)
    if not isinstance(max_units, (int, np.integer)) or max_units < 1:
        raise ValueError(f"`max_units` must be a positive integer; got {max_units!r}.")
    ax = _ax(ax)
    rng = np.random.default_rng(seed)
    biggest, subsampled = 0, False
    for i, level in enumerate(_levels(data, hue)):
        sub = _subset(data, hue, level)
        units = pd.unique(sub[unit])
        biggest = max(biggest, len(units))
        if len(units) > max_units:
            units = rng.choice(units, size=max_units, replace=False)
            sub = sub[sub[unit].isin(units)]
            subsampled = True
        wide = sub.pivot_table(index=x, columns=unit, values=y, aggfunc="mean").sort_index()
        if wide.empty:
            continue
        color = color_for(level, i)
        ax.plot(wide.index.to_numpy(), wide.to_numpy(), color=color, alpha=alpha, lw=1,
                marker=".", ms=3)
    if hue is not None:
        handles = [mpl.lines.Line2D([], [], color=color_for(lev, i), label=str(lev))
                   for i, lev in enumerate(_levels(data, hue))]
        ax.legend(handles=handles, title=hue)
    if subsampled:
        ax.set_title(f"showing {max_units} of {biggest} units per group at most "
                     f"(random, seed {seed})")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    return ax


def before_after(data: pd.DataFrame, *, x: str, y: str, hue: str | None = None,
                 unit: str | None = None, ax: Axes | None = None, order=None,
                 max_points: int = 300, seed: int = 0) -> Axes:
    """Box plots with the individual dots at each condition (e.g. Before/After).

    Parameters
    ----------
    data : DataFrame
        Long table, one row per unit × condition.
    x : str
        Condition column (e.g. ``"Before"``/``"After"`` or visit week).
    y : str
        Value column.
    hue : str, optional
        Group column; boxes are dodged per group.
    unit : str, optional
        Subject column; when given (and ``hue`` is None) grey lines join each
        subject's values.
    order : list, optional
        Order of the ``x`` levels (default: sorted).
    max_points : int, default 300
        Large cohorts: the boxes always summarise every row, but dots (and subject lines) are drawn
        for at most ``max_points`` randomly chosen subjects (``unit``) or rows per box, so a page
        stays light; the axes then say so in a note under the plot.
    seed : int, default 0
        Seed of that random choice.

    Returns
    -------
    Axes

    Examples
    --------
    >>> df = pd.DataFrame({"id": [1, 2, 3] * 2, "when": ["Before"] * 3 + ["After"] * 3,
    ...                    "y": [5, 6, 7, 3, 5, 4]})
    >>> ax = before_after(df, x="when", y="y", unit="id", order=["Before", "After"])
    >>> len(ax.lines) >= 3
    True
    >>> plt.close("all")
    """
    _check(data, x=x, y=y, hue=hue, unit=unit)
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)) or max_points < 1:
        raise ValueError(f"`max_points` must be a positive integer; got {max_points!r}.")
    ax = _ax(ax)
    order = list(order) if order is not None else sorted(data[x].dropna().unique())
    dots, note = _thin(data, x=x, hue=hue, unit=unit, max_points=max_points, seed=seed)
    with warnings.catch_warnings():
        # seaborn 0.13.2 passes `vert=` to matplotlib ≥ 3.11 (deprecated there, harmless)
        warnings.simplefilter("ignore", mpl.MatplotlibDeprecationWarning)
        _before_after(data, dots, x=x, y=y, hue=hue, unit=unit, ax=ax, order=order)
    if note:
        ax.annotate(note, xy=(0.5, 0), xycoords="axes fraction", xytext=(0, -28), textcoords="offset points",
                    ha="center", va="top", fontsize="small", color="0.3")
    return ax


def _thin(data: pd.DataFrame, *, x, hue, unit, max_points: int, seed: int) -> tuple[pd.DataFrame, str]:
    """Rows whose dots are drawn, and the sentence saying how they were chosen ("" when all are drawn).

    With ``unit``: at most ``max_points`` subjects per ``hue`` level, chosen at random, with all their rows
    (so before/after lines stay whole). Without: at most ``max_points`` random rows per box.
    """
    boxes = [k for k in (hue, x) if k is not None]
    if unit is not None:
        per_box = data.groupby(boxes, observed=True)[unit].nunique() if boxes else pd.Series([data[unit].nunique()])
    else:
        per_box = data.groupby(boxes, observed=True).size() if boxes else pd.Series([len(data)])
    biggest = int(per_box.max()) if len(per_box) else 0
    if biggest <= max_points:
        return data, ""
    rng = np.random.default_rng(seed)
    if unit is not None:
        ids = pd.unique(data[unit])
        rank = pd.Series(rng.permutation(len(ids)), index=ids)
        levels = [hue] if hue is not None else []
        firsts = data[levels + [unit]].drop_duplicates()
        firsts = firsts.assign(_rank=firsts[unit].map(rank)).sort_values("_rank", kind="stable")
        nth = firsts.groupby(levels, observed=True).cumcount() if levels else pd.Series(np.arange(len(firsts)))
        dots = data[data[unit].isin(firsts.loc[nth.to_numpy() < max_points, unit])]
        what = "subjects"
    else:
        shuffled = data.iloc[rng.permutation(len(data))]
        nth = shuffled.groupby(boxes, observed=True).cumcount() if boxes else pd.Series(np.arange(len(data)))
        dots = shuffled[nth.to_numpy() < max_points].sort_index()
        what = "values"
    return dots, (f"boxes summarise all {what} (up to {biggest:,} per box); dots show a random "
                  f"{max_points} per box (seed {seed})")


@contextmanager
def _jitter_seed(seed: int = 0) -> Iterator[None]:
    """Seed numpy's global generator for seaborn's strip-plot jitter, then restore the caller's state.

    seaborn 0.13 draws the jitter from ``np.random`` with no way to pass a seed; without this the
    figure's pixels would change from build to build.

    Examples
    --------
    >>> np.random.seed(1); before = np.random.get_state()[1][:3].tolist()
    >>> with _jitter_seed():
    ...     a = np.random.uniform()
    >>> with _jitter_seed():
    ...     b = np.random.uniform()
    >>> a == b, np.random.get_state()[1][:3].tolist() == before
    (True, True)
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _before_after(data, dots, *, x, y, hue, unit, ax, order) -> None:
    with _jitter_seed():
        _before_after_draw(data, dots, x=x, y=y, hue=hue, unit=unit, ax=ax, order=order)


def _before_after_draw(data, dots, *, x, y, hue, unit, ax, order) -> None:
    if hue is None:
        pal = palette_for(order)
        sns.boxplot(data=data, x=x, y=y, order=order, hue=x, hue_order=order, palette=pal,
                    ax=ax, fliersize=0, width=0.5, boxprops={"alpha": 0.5}, legend=False)
        if unit is not None:
            wide = dots.pivot_table(index=unit, columns=x, values=y, aggfunc="mean")
            wide = wide.reindex(columns=order)
            ax.plot(np.arange(len(order)), wide.to_numpy().T, color="0.6", lw=0.8, alpha=0.6,
                    zorder=1)
        sns.stripplot(data=dots, x=x, y=y, order=order, color="0.2", size=4, ax=ax, zorder=3)
    else:
        hue_order = _levels(data, hue)
        pal = palette_for(hue_order)
        sns.boxplot(data=data, x=x, y=y, order=order, hue=hue, hue_order=hue_order,
                    palette=pal, ax=ax, fliersize=0, boxprops={"alpha": 0.5})
        sns.stripplot(data=dots, x=x, y=y, order=order, hue=hue, hue_order=hue_order,
                      palette=pal, dodge=True, size=4, ax=ax, legend=False)


def heatmap(table: pd.DataFrame, *, ax: Axes | None = None, center: float | None = 0,
            annot: bool = True, fmt: str = ".2f", cmap: str = "vlag", **kwargs) -> Axes:
    """Annotated heatmap of a wide numeric table (e.g. a correlation matrix).

    Returns
    -------
    Axes
        One QuadMesh in ``ax.collections``; one text per cell when ``annot``.

    Examples
    --------
    >>> t = pd.DataFrame([[1.0, 0.5], [0.5, 1.0]], index=["a", "b"], columns=["a", "b"])
    >>> ax = heatmap(t)
    >>> len(ax.texts)
    4
    >>> plt.close("all")
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"`table` must be a pandas DataFrame; got {type(table).__name__}.")
    ax = _ax(ax)
    with warnings.catch_warnings():
        # seaborn 0.13.2 calls Colormap.set_bad, pending deprecation in matplotlib ≥ 3.11
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        sns.heatmap(table.astype(float), ax=ax, center=center, annot=annot, fmt=fmt, cmap=cmap,
                    square=False, linewidths=0.5, **kwargs)
    return ax


def scatter_fit(data: pd.DataFrame, *, x: str, y: str, hue: str | None = None,
                ax: Axes | None = None, max_points: int = 2000, seed: int = 0) -> Axes:
    """Scatter of ``y`` against ``x`` with a least-squares line per ``hue`` group.

    With more than ``max_points`` rows, a seeded random subsample of
    ``max_points`` points is drawn (lines are still fitted on all rows) and
    the title says so. A group with fewer than 2 distinct ``x`` gets no line.

    Returns
    -------
    Axes
        One PathCollection per group and one Line2D per fitted group.

    Examples
    --------
    >>> df = pd.DataFrame({"x": [1, 2, 3, 1, 2, 3], "y": [1, 2, 3, 3, 2, 1],
    ...                    "group": ["Responder"] * 3 + ["Non-responder"] * 3})
    >>> ax = scatter_fit(df, x="x", y="y", hue="group")
    >>> len(ax.lines), len(ax.collections)
    (2, 2)
    >>> plt.close("all")
    """
    _check(data, x=x, y=y, hue=hue)
    ax = _ax(ax)
    cols = [x, y] + ([hue] if hue else [])
    d = data[cols].dropna()
    shown = d
    if len(d) > max_points:
        shown = d.sample(n=max_points, random_state=np.random.default_rng(seed))
        ax.set_title(f"showing {max_points} of {len(d)} points (random, seed {seed})")
    for i, level in enumerate(_levels(d, hue)):
        color = color_for(level, i)
        pts = _subset(shown, hue, level)
        ax.scatter(pts[x], pts[y], s=14, alpha=0.6, color=color,
                   label=None if level is None else str(level))
        fit = _subset(d, hue, level)
        if fit[x].nunique() >= 2:
            slope, intercept = np.polyfit(fit[x].astype(float), fit[y].astype(float), 1)
            xs = np.array([fit[x].min(), fit[x].max()], float)
            ax.plot(xs, intercept + slope * xs, color=color, lw=2)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if hue is not None:
        ax.legend(title=hue)
    return ax


def roc_plot(curve_df: pd.DataFrame, *, ax: Axes | None = None, auc: float | None = None,
             best: pd.DataFrame | None = None, label: str = "ROC") -> Axes:
    """ROC curve (``fpr`` → ``tpr``) with the chance diagonal.

    Parameters
    ----------
    curve_df : DataFrame
        From :func:`analysis.science.stats.roc_curve_auc` (columns ``fpr``, ``tpr``).
    auc : float, optional
        Shown in the legend label.
    best : DataFrame, optional
        A row with ``fpr``, ``tpr`` (e.g. :func:`analysis.science.stats.youden_threshold`)
        marked on the curve.

    Returns
    -------
    Axes
        Two lines (curve, diagonal), plus one marker line when ``best`` is given.

    Examples
    --------
    >>> curve = pd.DataFrame({"fpr": [0, 0, 0.5, 1], "tpr": [0, 0.5, 1, 1]})
    >>> len(roc_plot(curve, auc=0.75).lines)
    2
    >>> plt.close("all")
    """
    _check(curve_df, fpr="fpr", tpr="tpr")
    ax = _ax(ax)
    text = label if auc is None or pd.isna(auc) else f"{label} (AUC = {auc:.2f})"
    ax.plot(curve_df["fpr"], curve_df["tpr"], drawstyle="steps-post", color=PALETTE["Responder"],
            label=text)
    ax.plot([0, 1], [0, 1], ls="--", color="0.6", lw=1, label="chance")
    if best is not None and len(best):
        ax.plot(best["fpr"], best["tpr"], "o", color=PALETTE["Non-responder"], ms=8,
                label="Youden optimum")
    ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), xlabel="1 − specificity",
           ylabel="sensitivity", aspect="equal")
    ax.legend(loc="lower right")
    return ax


#: Boxes of the trial flow diagram: key -> (default label, row, column). Rows run top to bottom; columns are
#: "all" (centred over the whole chart), "msct" (centred over the two MSCT sub-columns), "resp", "nonresp"
#: (the two MSCT sub-columns) and "control".
_FLOW_BOXES: dict[str, tuple[str, int, str]] = {
    "enrolled": ("Enrolled", 0, "all"),
    "msct": ("Randomised to MSCT", 1, "msct"),
    "control": ("Randomised to control", 1, "control"),
    "responders": ("Responders at the response visit", 2, "resp"),
    "non_responders": ("Non-responders at the response visit", 2, "nonresp"),
    "lost_msct": ("Lost to follow-up (MSCT)", 3, "msct"),
    "lost_control": ("Lost to follow-up (control)", 3, "control"),
    "analysed_msct": ("Analysed (MSCT)", 4, "msct"),
    "analysed_control": ("Analysed (control)", 4, "control"),
}
_FLOW_ARROWS = [("enrolled", "msct"), ("enrolled", "control"), ("msct", "responders"),
                ("msct", "non_responders"), ("responders", "lost_msct"),
                ("non_responders", "lost_msct"), ("control", "lost_control"),
                ("lost_msct", "analysed_msct"), ("lost_control", "analysed_control")]
#: layout constants, in points: box padding, gap between columns, gap between rows (room for the arrows)
_FLOW_PAD, _FLOW_COL_GAP, _FLOW_ROW_GAP, _FLOW_MARGIN = 6.0, 24.0, 30.0, 4.0


def _flow_layout(sizes: dict[str, tuple[float, float]]) -> tuple[dict[str, tuple[float, float]], float, float]:
    """Centres of the flow boxes from their sizes (points), and the chart's width and height (points).

    Columns are as wide as their widest box; the MSCT boxes span the two MSCT sub-columns (which widen
    when an MSCT box is wider than both together); rows are as tall as their tallest box, with a fixed gap
    for the arrows. So no two boxes overlap whatever the text, and every arrow runs in a gap between rows
    (the control column has no box in the responder row, so its long arrow passes an empty cell).
    """
    def width(cols):
        return max([sizes[k][0] for k, (_, _, c) in _FLOW_BOXES.items() if c in cols] + [0.0])

    w_resp, w_non, w_msct, w_ctrl = width({"resp"}), width({"nonresp"}), width({"msct"}), width({"control"})
    extra = max(0.0, w_msct - (w_resp + _FLOW_COL_GAP + w_non))
    w_resp, w_non = w_resp + extra / 2, w_non + extra / 2
    x_resp = _FLOW_MARGIN + w_resp / 2
    x_non = _FLOW_MARGIN + w_resp + _FLOW_COL_GAP + w_non / 2
    msct_right = _FLOW_MARGIN + w_resp + _FLOW_COL_GAP + w_non
    x_msct = (_FLOW_MARGIN + msct_right) / 2
    x_ctrl = msct_right + 1.5 * _FLOW_COL_GAP + w_ctrl / 2
    total_w = x_ctrl + w_ctrl / 2 + _FLOW_MARGIN
    w_all = width({"all"})
    if w_all + 2 * _FLOW_MARGIN > total_w:  # a very wide top box: centre everything under it
        shift = (w_all + 2 * _FLOW_MARGIN - total_w) / 2
        x_resp, x_non, x_msct, x_ctrl = (x + shift for x in (x_resp, x_non, x_msct, x_ctrl))
        total_w = w_all + 2 * _FLOW_MARGIN
    xs = {"all": total_w / 2, "msct": x_msct, "resp": x_resp, "nonresp": x_non, "control": x_ctrl}
    n_rows = 1 + max(r for _, r, _ in _FLOW_BOXES.values())
    heights = [max([sizes[k][1] for k, (_, r, _) in _FLOW_BOXES.items() if r == row] + [0.0])
               for row in range(n_rows)]
    total_h = sum(heights) + _FLOW_ROW_GAP * (n_rows - 1) + 2 * _FLOW_MARGIN
    ys, top = [], total_h - _FLOW_MARGIN
    for h in heights:
        ys.append(top - h / 2)
        top -= h + _FLOW_ROW_GAP
    centres = {k: (xs[c], ys[r]) for k, (_, r, c) in _FLOW_BOXES.items()}
    return centres, total_w, total_h


def flow_diagram(counts: Mapping, *, ax: Axes | None = None,
                 labels: Mapping | None = None, fontsize: float = 10.0) -> Axes:
    """The trial flow chart (CONSORT-style) drawn with matplotlib boxes and arrows, laid out from its text.

    Box sizes are measured from the rendered labels, and the columns and rows are sized to fit them
    (:func:`_flow_layout`): boxes never overlap and arrows never cross a box, for any counts (large cohorts,
    empty groups) and labels. Without ``ax`` the figure is sized to the chart; with ``ax`` the text is
    shrunk, if needed, to fit that Axes.

    Parameters
    ----------
    counts : dict
        Counts keyed by ``enrolled``, ``msct``, ``control``, ``responders``,
        ``non_responders``, ``lost_msct``, ``lost_control``, ``analysed_msct``,
        ``analysed_control``. Missing keys are shown as "n = –"; unknown keys
        are an error.
    labels : dict, optional
        Replacement box labels, same keys.
    fontsize : float
        Text size in points (before any shrinking to fit ``ax``).

    Returns
    -------
    Axes
        Nine text boxes (``ax.texts``) and nine arrows (``ax.patches``), axis hidden.

    Examples
    --------
    >>> ax = flow_diagram({"enrolled": 10, "msct": 6, "control": 4})
    >>> len(ax.texts)
    9
    >>> ax.texts[0].get_text()
    'Enrolled\\nn = 10'
    >>> plt.close("all")
    """
    unknown = set(counts) - set(_FLOW_BOXES)
    if unknown:
        raise ValueError(f"`counts` has unknown keys {sorted(unknown)}; allowed: {list(_FLOW_BOXES)}.")
    labels = dict(labels or {})
    bad = set(labels) - set(_FLOW_BOXES)
    if bad:
        raise ValueError(f"`labels` has unknown keys {sorted(bad)}; allowed: {list(_FLOW_BOXES)}.")
    if not (isinstance(fontsize, (int, float)) and fontsize > 0):
        raise ValueError(f"`fontsize` must be a positive number of points, got {fontsize!r}.")
    own_figure = ax is None
    if own_figure:
        ax = plt.subplots(figsize=(8, 6.5))[1]
        ax.set_position([0, 0, 1, 1])
    fig = ax.figure
    ax.set_axis_off()
    texts = {}
    for key, (default, _, _) in _FLOW_BOXES.items():
        n = counts.get(key)
        n_text = "–" if n is None or pd.isna(n) else f"{int(n)}"
        texts[key] = ax.text(0, 0, f"{labels.get(key, default)}\nn = {n_text}", ha="center", va="center",
                             fontsize=fontsize, multialignment="center",
                             bbox=dict(boxstyle=f"round,pad={_FLOW_PAD / fontsize:.3f}", fc="white", ec="0.3"))

    def measure() -> dict[str, tuple[float, float]]:
        renderer = fig.canvas.get_renderer()
        scale = 72.0 / fig.dpi  # pixels -> points
        out = {}
        for key, text in texts.items():
            ext = text.get_window_extent(renderer)
            pad = 2 * _FLOW_PAD * text.get_fontsize() / fontsize
            out[key] = (ext.width * scale + pad, ext.height * scale + pad)
        return out

    centres, total_w, total_h = _flow_layout(measure())
    if own_figure:
        fig.set_size_inches(total_w / 72.0, total_h / 72.0)
    else:  # fit the chart into the given Axes: shrink the text if the Axes is too small
        box = ax.get_window_extent(fig.canvas.get_renderer())
        avail_w, avail_h = box.width * 72.0 / fig.dpi, box.height * 72.0 / fig.dpi
        size = fontsize
        for _ in range(6):  # text does not scale exactly with its size (hinting): shrink until it fits
            shrink = min(avail_w / total_w, avail_h / total_h)
            if shrink >= 1.0:
                break
            size *= shrink * 0.97
            for text in texts.values():
                text.set_fontsize(size)
            centres, total_w, total_h = _flow_layout(measure())
        # equal scale in x and y, the chart centred in the Axes
        sx, sy = avail_w / total_w, avail_h / total_h
        s = min(sx, sy)
        dx, dy = (avail_w / s - total_w) / 2, (avail_h / s - total_h) / 2
        ax.set(xlim=(-dx, total_w + dx), ylim=(-dy, total_h + dy))
    if own_figure:
        ax.set(xlim=(0, total_w), ylim=(0, total_h))
    for key, text in texts.items():
        text.set_position(centres[key])
    sizes = measure()
    gap = 3.0  # points between an arrow's end and its box
    for src, dst in _FLOW_ARROWS:
        (x0, y0), (x1, y1) = centres[src], centres[dst]
        start = (x0, y0 - sizes[src][1] / 2 - gap)
        end = (x1, y1 + sizes[dst][1] / 2 + gap)
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="->", mutation_scale=12, color="0.3", lw=1.2,
                                     shrinkA=0, shrinkB=0))
    return ax


def bar_counts(data: pd.DataFrame, *, x: str, y: str = "n", hue: str | None = None,
               ax: Axes | None = None, horizontal: bool = False,
               annotate: bool = True) -> Axes:
    """Bars of pre-computed counts (adverse events, verdict summaries).

    Parameters
    ----------
    data : DataFrame
        One row per bar: category ``x``, count ``y`` and optional ``hue``.
    horizontal : bool, default False
        Horizontal bars (categories on the y axis) for long labels.
    annotate : bool, default True
        Write each count on its bar.

    Returns
    -------
    Axes
        One Rectangle patch per row of ``data``.

    Examples
    --------
    >>> df = pd.DataFrame({"event": ["fever", "rash"], "n": [3, 1]})
    >>> ax = bar_counts(df, x="event")
    >>> len(ax.patches), len(ax.texts)
    (2, 2)
    >>> plt.close("all")
    """
    _check(data, x=x, y=y, hue=hue)
    ax = _ax(ax)
    hue_order = _levels(data, hue) if hue is not None else None
    kw = dict(data=data, ax=ax, hue=hue, hue_order=hue_order)
    if hue is not None:
        kw["palette"] = palette_for(hue_order)
    else:
        kw["color"] = PALETTE["Responder"]
    if horizontal:
        sns.barplot(x=y, y=x, orient="h", errorbar=None, **kw)
    else:
        sns.barplot(x=x, y=y, errorbar=None, **kw)
    if annotate:
        for container in ax.containers:
            ax.bar_label(container, fmt="%g", padding=2)
    return ax
