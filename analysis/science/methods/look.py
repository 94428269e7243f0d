"""What every "A second look" section shares: its result (:class:`Look`), its words and its plot look.

A second-look section (``analysis.chapters.<chapter>.second_look``) returns a :class:`Look`: named tidy tables,
a ``reason`` (empty when the analysis ran; otherwise why it could not, for the note :func:`unavailable` writes)
and ``facts`` (plain values the page glues and the chapter's ``judge_second_look`` judges). This module holds
that container, the display names of the modelled measures (:data:`LABELS`), the analysis groups
(:data:`GROUPS`), the number formatting of the prose (:func:`fmt`, :func:`reading`), the two ways a second
look judges its claims (:func:`judge_test`, :func:`judge_if_testable`) and the book's plot look for one figure
(:func:`styled`, :func:`plot_look`, :func:`placeholder`). Plotting libraries are imported only when a figure is
drawn.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.claims.rules import format_p

__all__ = ["GROUPS", "LABELS", "Look", "bare_reason", "demo_cohort", "fmt", "judge_if_testable", "judge_test", "placeholder",
           "plot_look", "reading", "styled", "unavailable"]

#: The three analysis groups, in display order (the first is the reference of the contrasts' sign).
GROUPS: tuple[str, ...] = ("Responder", "Non-responder", "Control")
#: Display labels of the outcomes and markers modelled here.
LABELS: dict[str, str] = {
    "das28": "DAS28", "haq_di": "HAQ-DI", "treg_th17_ratio": "Treg/Th17 ratio", "treg_pct": "Treg (%)",
    "th17_pct": "Th17 (%)", "anti_ccp_u_ml": "anti-CCP", "rf_iu_ml": "RF", "il_6": "IL-6", "tnf_a": "TNF-α",
    "il_10": "IL-10", "il_1b": "IL-1β", "il_2r": "IL-2R", "il_8": "IL-8", "ifn_g": "IFN-γ",
}


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
        Plain Python values for the page's glue and for the chapter's ``judge_second_look``.

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


def demo_cohort(n_patients: int = 40, seed: int = 1):
    """A small simulated cohort for examples and tests (``patients``, ``visits``, ``adverse_events``, ``meta``).

    Examples
    --------
    >>> c = demo_cohort()
    >>> len(c.patients), sorted(c.meta)
    (40, [])
    """
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


def bare_reason(reason: str) -> str:
    """A reason without the "Not available with these data:" of :func:`unavailable` and without its full stop.

    A claim's rule reads "not testable: <reason>"; a page note passed as the reason would read "not testable: Not
    available with these data: ...".

    Examples
    --------
    >>> bare_reason("Not available with these data: no IFN-γ."), bare_reason("no Th17 values")
    ('no IFN-γ', 'no Th17 values')
    """
    reason = str(reason or "").strip().rstrip(".")
    prefix = "not available with these data:"
    if reason.lower().startswith(prefix):
        reason = reason[len(prefix):].strip()
    return reason


def fmt(x, digits: int = 2) -> str:
    """A number as short text with ``digits`` decimals; ``'n/a'`` for NaN/None (the second looks' prose).

    Examples
    --------
    >>> fmt(0.1234), fmt(12.0, 1), fmt(float("nan")), fmt(None)
    ('0.12', '12.0', 'n/a', 'n/a')
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}f}"


def reading(p, alpha: float) -> str:
    """How a test bears on a claim of a difference: supports / does not support / cannot address.

    Examples
    --------
    >>> reading(0.01, 0.05), reading(0.2, 0.05), reading(float("nan"), 0.05)
    ('supports', 'does not support', 'cannot address')
    """
    if p is None or not np.isfinite(p):
        return "cannot address"
    return "supports" if p < alpha else "does not support"


# =========================================================================== judging a second look's claims
def judge_test(log, claim_id: str, p, detail: str, *, reason: str = "") -> str:
    """Judge a claim that courses differ by a test without direction: reproduced if p < alpha, else inconclusive.

    A null effect passes with probability alpha; p ≥ alpha is absence of evidence, hence "inconclusive", never
    "not reproduced". A missing p (the model could not run) makes the claim not testable, with the section's
    ``reason`` (else "the model could not be fitted") as its reason; ``detail`` is not used then (its p is
    missing).

    Parameters
    ----------
    log : analysis.claims.log.ClaimLog
        The page's log; its ``alpha`` is used.
    claim_id : str
    p : float or None
        The test's p-value.
    detail : str
        What was tested (after the p in the claims table).
    reason : str
        The section's ``Look.reason``.

    Returns
    -------
    str
        The verdict.

    Examples
    --------
    >>> from analysis.claims.log import ClaimLog
    >>> log = ClaimLog("immune")
    >>> cid = "immune.second_look_ratio_group_time"
    >>> judge_test(log, cid, 0.2, "mixed model"), judge_test(log, cid, 0.001, "mixed model")
    ('inconclusive', 'reproduced')
    >>> judge_test(log, cid, float("nan"), "mixed model", reason="no Th17 values")
    'not testable with these data'
    """
    alpha = log.alpha
    if p is None or not np.isfinite(p):
        return log.not_testable(claim_id, bare_reason(reason) or "the model could not be fitted")
    return log.check_true(claim_id, True if float(p) < alpha else None, f"{format_p(float(p))}; {detail}",
                          rule=f"reproduced if p < {alpha:g}; inconclusive otherwise (p ≥ alpha is no evidence "
                               "that the courses are alike)")


def judge_if_testable(log, claim_id: str, holds, text: str, *, rule: str, testable: bool = True,
                      why: str = "") -> str:
    """:meth:`~analysis.claims.log.ClaimLog.check_true` when the section could judge the claim, else not testable.

    ``holds`` is True (reproduced), False (not reproduced) or None (inconclusive); ``why`` is the reason (the
    note of :func:`unavailable` without its "Not available with these data" prefix) when ``testable`` is False.

    Examples
    --------
    >>> from analysis.claims.log import ClaimLog
    >>> log = ClaimLog("ifng")
    >>> judge_if_testable(log, "ifng.second_look_cv_auc", None, "AUC n/a", rule="r", testable=False, why="no IFN-γ")
    'not testable with these data'
    >>> log.table().loc[0, "rule"]
    'not testable: no IFN-γ'
    """
    if not testable:
        return log.not_testable(claim_id, bare_reason(why) or "the section could not run on these data")
    return log.check_true(claim_id, holds, text, rule=rule)


# =========================================================================== the plot look
def plot_look():
    """The book's plot look (:func:`analysis.science.figures.set_theme`'s style) for one figure only.

    A context manager: seaborn's ``whitegrid`` axes style and the book's settings
    (:func:`analysis.science.figures.book_style`), restored on exit.

    Examples
    --------
    >>> import matplotlib
    >>> before = matplotlib.rcParams["figure.dpi"]
    >>> with plot_look():
    ...     inside = matplotlib.rcParams["figure.dpi"]
    >>> inside, matplotlib.rcParams["figure.dpi"] == before
    (120.0, True)
    """
    import contextlib

    import seaborn as sns

    from analysis.science import figures

    stack = contextlib.ExitStack()
    stack.enter_context(sns.axes_style("whitegrid"))
    stack.enter_context(figures.book_style())
    return stack


def styled(fn):
    """Decorator: draw ``fn``'s figure in the book's look (:func:`plot_look`) without changing global settings.

    Examples
    --------
    >>> import matplotlib
    >>> @styled
    ... def dpi():
    ...     return matplotlib.rcParams["figure.dpi"]
    >>> dpi()
    120.0
    """
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with plot_look():
            return fn(*args, **kwargs)

    return wrapper


def placeholder(ax, text: str) -> None:
    """Write ``text`` in the middle of ``ax`` instead of a plot, and hide its axes ("not available" panels).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> placeholder(ax, "IL-6: not available with these data")
    >>> ax.texts[0].get_text(), ax.axison
    ('IL-6: not available with these data', False)
    >>> plt.close(fig)
    """
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, wrap=True)
    ax.set_axis_off()
