"""``ClaimLog``: one chapter's claims judged by stated rules and written to ``results/<chapter>/claims.csv``."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.claims.registry import (
    BY_CONSTRUCTION,
    CHAPTERS,
    COLUMNS,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_TESTABLE,
    REPRODUCED,
    TABLE_COLUMNS,
    VERDICTS,
    check_section,
    load_published,
    published,
)
from analysis.claims.rules import (
    EPS,
    direction_word,
    fmt_ci,
    fmt_mean_ci,
    fmt_num,
    format_p,
    is_nan,
    mean_ci,
    special,
    values_picker,
    welch_ci,
    wilson_interval,
)
from analysis.core.moments import mean_ss

#: the start of a page's note of what is not available (lower case), not repeated after "not testable: "
_NOTE_PREFIX = "not available with these data:"

# --------------------------------------------------------------------------------------------- log
def _check_alpha(alpha) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha <= 0.5:
        raise ValueError(f"`alpha` is {alpha!r}; a number greater than 0 and at most 0.5 is required")


#: chapter -> (the registry :meth:`ClaimLog.for_chapter` read, the first log made from it): its selected rows
_FOR_CHAPTER: dict[str, tuple] = {}


def _plus_minus(margin) -> str:
    """``±0.6``, or ``the margin`` when the margin is not a number (its source then says why)."""
    return "the margin" if margin is None or is_nan(margin) else f"±{fmt_num(margin)}"


def _bound(margin, *, above: bool) -> str:
    """``above −0.6`` / ``below 0.6``, or ``above minus the margin`` / ``below the margin`` without a number."""
    if margin is None or is_nan(margin):
        return "above minus the margin" if above else "below the margin"
    return f"above −{fmt_num(margin)}" if above else f"below {fmt_num(margin)}"

def _numbers(x) -> np.ndarray:
    """``pd.to_numeric(pd.Series(list(x)), errors="coerce")`` as a float array (a float array as it is)."""
    if isinstance(x, np.ndarray) and x.dtype == np.float64 and x.ndim == 1:
        return x
    if isinstance(x, pd.Series) and x.dtype == np.float64:  # its values, by position (as list(x) reads them)
        return x.to_numpy()
    return pd.to_numeric(pd.Series(list(x)), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _no_spread(v: np.ndarray) -> bool:
    """``pd.Series(v).std() == 0`` for a float array of 2 or more values without NaN (its sum of squared deviations
    is 0: the same two passes)."""
    return bool(mean_ss(v)[1] == 0)



class ClaimLog:
    """Judge the published claims of one chapter and write ``results/<chapter>/claims.csv``.

    Parameters
    ----------
    chapter : str
        One of :data:`CHAPTERS`.
    published : pandas.DataFrame, optional
        The registry (as from :func:`load_published`); read from the default folder when omitted.
    alpha : float
        Error rate of the verdict rules: (1 − alpha) intervals for direction claims, (1 − 2·alpha)
        intervals (TOST at alpha) for equivalence, (1 − alpha) Wilson intervals for proportions.

    Notes
    -----
    Each ``check_*`` method records one row for a ``claim_id`` of this chapter (``KeyError`` otherwise),
    returns the verdict, and replaces an earlier row for the same claim. The row carries the registry's
    ``basis`` and ``basis_reason``.

    A chapter's claims may belong to a named section (the registry's ``section`` column, e.g. the
    ``second_look`` claims of "A second look"): :meth:`claims`, :meth:`table` and :meth:`missing` take
    ``section`` to ask for those only (``""``: the claims outside any section). :meth:`for_chapter` gives a
    fresh log on the shipped registry, read once per process.

    Examples
    --------
    >>> log = ClaimLog("disease_activity")
    >>> log.check_count("activity.responders_n", 28)
    'reproduced'
    >>> log.check_wilson("activity.response_rate", 24, 52)
    'reproduced'
    >>> log.check_ci("activity.das28_decrease_responders_12w", estimate=-2.0, low=-2.5, high=-1.5)
    'reproduced'
    >>> log.check_ci("activity.haq_decrease_responders_12w", estimate=-0.1, low=-0.3, high=0.1)
    'inconclusive'
    """

    def __init__(self, chapter: str, published: pd.DataFrame | None = None, alpha: float = 0.05):
        if chapter not in CHAPTERS:
            raise ValueError(f"`chapter` is {chapter!r}; allowed: {', '.join(CHAPTERS)}")
        _check_alpha(alpha)
        registry = load_published() if published is None else published
        registry = registry.copy()
        for col, default in (("section", ""), ("basis", "empirical"), ("basis_reason", ""), ("quote", "")):
            if col not in registry.columns:
                registry[col] = default
        registry["section"] = registry["section"].fillna("")
        missing_cols = set(COLUMNS) - set(registry.columns)
        if missing_cols:
            raise ValueError(f"`published` lacks columns {sorted(missing_cols)}; expected {list(COLUMNS)}")
        self.chapter = chapter
        self.alpha = float(alpha)
        self._claims = registry.loc[registry["chapter"] == chapter, list(COLUMNS)].set_index("claim_id", drop=False)
        self._rows: dict[str, dict] = {}
        # the registry rows as dicts (the frame's own values), made on first use; shared by the logs of
        # for_chapter, which all read the same registry rows
        self._registry_rows: dict[str, dict] | None = None

    @classmethod
    def for_chapter(cls, chapter: str, alpha: float = 0.05) -> "ClaimLog":
        """A fresh log of ``chapter`` on the shipped registry (:func:`analysis.claims.registry.published`,
        read once per process): what a headless ``evaluate`` judges its claims in.

        Examples
        --------
        >>> log = ClaimLog.for_chapter("safety", 0.01)
        >>> log.chapter, log.alpha, log.table().empty
        ('safety', 0.01, True)
        """
        registry = published()
        hit = _FOR_CHAPTER.get(chapter)
        if hit is None or hit[0] is not registry:
            log = cls(chapter, registry, alpha=alpha)
            _FOR_CHAPTER[chapter] = (registry, log)
            return log
        # a headless evaluation makes a log per chapter on every cohort: the registry rows are selected and
        # made into dicts once per process (the same values as a fresh log's), only the judged rows are new
        template = hit[1]
        _check_alpha(alpha)
        log = cls.__new__(cls)
        log.chapter, log.alpha = chapter, float(alpha)
        log._claims, log._registry_rows, log._rows = template._claims, template._rows_of_registry(), {}
        return log

    def _rows_of_registry(self) -> dict[str, dict]:
        """The chapter's registry rows, claim id → {column: value}, in registry order (made once)."""
        if self._registry_rows is None:
            cols = list(self._claims.columns)
            self._registry_rows = {row[0]: dict(zip(cols, row[1:]))
                                   for row in self._claims.itertuples(index=True, name=None)}
        return self._registry_rows

    # ---- internals
    def _claim(self, claim_id: str, kinds: tuple[str, ...] | None = None) -> dict:
        """Return the registry row of ``claim_id`` (column → value); check chapter and kind."""
        claim = self._rows_of_registry().get(claim_id)
        if claim is None:
            raise KeyError(
                f"`claim_id` {claim_id!r} is not a claim of chapter {self.chapter!r} in the registry "
                f"(data/published/claims/{self.chapter}.csv)"
            )
        if kinds is not None and claim["kind"] not in kinds:
            raise ValueError(
                f"claim {claim_id!r} has kind {claim['kind']!r}; this check accepts kinds {', '.join(kinds)}"
            )
        return claim

    def _record(self, claim: dict, reproduced: str, verdict: str, rule: str) -> str:
        """Store one judged claim (replacing an earlier one) and return the verdict."""
        if verdict not in VERDICTS:
            raise ValueError(f"`verdict` is {verdict!r}; allowed: {', '.join(VERDICTS)}")
        self._rows[claim["claim_id"]] = {
            "chapter": self.chapter,
            "claim_id": claim["claim_id"],
            "claim": claim["claim"],
            "location": claim["location"],
            "published": claim["published"],
            "reproduced": reproduced,
            "verdict": verdict,
            "rule": rule,
            "basis": claim["basis"],
            "basis_reason": claim["basis_reason"],
        }
        return verdict

    def _expected_side(self, claim: dict, expected: str | None) -> str:
        side = expected or claim["expected"]
        if side not in ("increase", "decrease"):
            raise ValueError(f"claim {claim['claim_id']!r} expects {side!r}; a direction rule needs "
                             "'increase' or 'decrease' (pass `expected`)")
        return side

    # ---- exact counts and proportions
    def check_count(self, claim_id: str, reproduced: int) -> str:
        """Reproduced if the count equals the published count (counts the paper reports exactly stay exact).

        Examples
        --------
        >>> ClaimLog("safety").check_count("safety.no_gvhd", 1)
        'not reproduced'
        """
        claim = self._claim(claim_id, ("count",))
        if isinstance(reproduced, bool) or float(reproduced) != int(float(reproduced)):
            raise TypeError(f"`reproduced` is {reproduced!r}; a whole number is required")
        expected = int(float(claim["expected"]))
        value = int(float(reproduced))
        verdict = REPRODUCED if value == expected else NOT_REPRODUCED
        return self._record(claim, str(value), verdict, f"reproduced if the count equals {expected} exactly")

    def check_wilson(self, claim_id: str, successes: int, total: int, *, detail: str = "") -> str:
        """Reproduced if the published proportion lies within the (1 − alpha) Wilson interval of ``successes/total``.

        Otherwise not reproduced. The paper's value is the registry's ``expected`` (a fraction).

        Examples
        --------
        >>> log = ClaimLog("disease_activity")
        >>> log.check_wilson("activity.relapse_pct", 2, 28)   # 95 % Wilson CI 0.020–0.228 holds 0.08
        'reproduced'
        >>> log.check_wilson("activity.relapse_pct", 12, 28)  # 0.26–0.61 does not
        'not reproduced'
        """
        claim = self._claim(claim_id, ("proportion",))
        if isinstance(successes, bool) or isinstance(total, bool) or total <= 0 or not 0 <= successes <= total:
            raise ValueError(f"`successes`/`total` are {successes!r}/{total!r}; need 0 <= successes <= total, total > 0")
        expected = float(claim["expected"])
        conf = 1 - self.alpha
        lo, hi = wilson_interval(int(successes), int(total), conf)
        verdict = REPRODUCED if lo - EPS <= expected <= hi + EPS else NOT_REPRODUCED
        text = f"{successes / total:.3f} ({successes}/{total}), Wilson {100 * conf:.4g} % CI {lo:.3f}–{hi:.3f}"
        text += f"; {detail}" if detail else ""
        rule = (f"reproduced if the published {expected:g} lies within the {100 * conf:.4g} % Wilson interval "
                "of the reproduced proportion")
        return self._record(claim, text, verdict, rule)

    def check_proportion(self, claim_id: str, successes: int, total: int) -> str:
        """The audit's rounding rule: reproduced if ``|successes/total − expected| <= tolerance``.

        Used only for the paper's own arithmetic (``audit.*_rounding``: the paper's numerator and
        denominator against the printed percentage); data are judged by :meth:`check_wilson`.

        Examples
        --------
        >>> ClaimLog("audit").check_proportion("audit.response_rate_rounding", 28, 52)
        'reproduced'
        """
        claim = self._claim(claim_id, ("proportion",))
        if total <= 0 or not 0 <= successes <= total:
            raise ValueError(f"`successes`/`total` are {successes!r}/{total!r}; need 0 <= successes <= total, total > 0")
        if not claim["tolerance"]:
            raise ValueError(f"claim {claim_id!r} has no tolerance; judge data proportions with check_wilson")
        expected, tolerance = float(claim["expected"]), float(claim["tolerance"])
        p_hat = successes / total
        verdict = REPRODUCED if abs(p_hat - expected) <= tolerance + EPS else NOT_REPRODUCED
        rule = f"the paper's arithmetic: reproduced if |{successes}/{total} − {expected:g}| ≤ {tolerance:g} (rounding)"
        return self._record(claim, f"{p_hat:.4f} ({successes}/{total})", verdict, rule)

    # ---- direction
    def check_ci(self, claim_id: str, *, estimate: float, low: float, high: float, confidence: float | None = None,
                 expected: str | None = None, detail: str = "", tests: int = 1) -> str:
        """Judge a claimed change or difference by the confidence interval of the effect.

        Reproduced when the interval excludes zero on the claimed side, not reproduced when it excludes
        zero on the other side, inconclusive when it contains zero. A NaN bound: not testable.

        Parameters
        ----------
        estimate, low, high : float
            The effect (after − before, or group − comparison group) and its interval.
        confidence : float, optional
            Level of the interval; default 1 − alpha/tests.
        expected : {"increase", "decrease"}, optional
            The claimed side; default the registry's ``expected``.
        tests : int
            Number of intervals judged for this claim (visits or markers): the rule says so (Bonferroni).

        Examples
        --------
        >>> log = ClaimLog("immune")
        >>> log.check_ci("immune.anticcp_decrease_responders", estimate=-3.0, low=-6.0, high=0.5)
        'inconclusive'
        >>> log.check_ci("immune.anticcp_decrease_responders", estimate=3.0, low=0.5, high=6.0)
        'not reproduced'
        >>> log.check_ci("immune.anticcp_decrease_responders", estimate=-3.0, low=-6.0, high=0.0)
        'inconclusive'
        """
        claim = self._claim(claim_id, ("direction", "significant", "qualitative"))
        side = self._expected_side(claim, expected)
        if isinstance(tests, bool) or int(tests) < 1:
            raise ValueError(f"`tests` is {tests!r}; a whole number >= 1 is required")
        conf = 1 - self.alpha / int(tests) if confidence is None else float(confidence)
        rule = (f"reproduced if the {100 * conf:.4g} % CI of the effect lies wholly "
                f"{'above' if side == 'increase' else 'below'} 0; not reproduced if wholly on the other side; "
                "inconclusive if it contains 0")
        if int(tests) > 1:
            rule += f" ({tests} intervals judged for this claim, Bonferroni: each at 1 − {self.alpha:g}/{tests})"
        if any(is_nan(v) for v in (estimate, low, high)):
            return self._record(claim, "interval could not be computed" + (f"; {detail}" if detail else ""),
                                NOT_TESTABLE, rule)
        text = f"{direction_word(estimate)} ({fmt_num(estimate)}), {fmt_ci(low, high, conf)}"
        text += f"; {detail}" if detail else ""
        up, down = low > 0, high < 0
        if (side == "increase" and up) or (side == "decrease" and down):
            verdict = REPRODUCED
        elif up or down:
            verdict = NOT_REPRODUCED
        else:
            verdict = INCONCLUSIVE
        return self._record(claim, text, verdict, rule)

    def check_change(self, claim_id: str, changes, *, expected: str | None = None, detail: str = "",
                     tests: int = 1) -> str:
        """Judge a within-patient change from the per-patient changes (mean change, t interval).

        Examples
        --------
        >>> ClaimLog("immune").check_change("immune.ratio_reversed_responders", [0.2, 0.3, 0.25, 0.4])
        'reproduced'
        """
        conf = 1 - self.alpha / max(1, int(tests))
        est, lo, hi, n = mean_ci(changes, conf)
        return self.check_ci(claim_id, estimate=est, low=lo, high=hi, confidence=conf, expected=expected,
                             detail=f"mean change, n = {n}" + (f", {detail}" if detail else ""), tests=tests)

    def check_difference(self, claim_id: str, a, b, *, expected: str | None = None, detail: str = "",
                         tests: int = 1) -> str:
        """Judge a difference between two groups (``mean(a) − mean(b)``, Welch interval).

        Examples
        --------
        >>> ClaimLog("ifng").check_difference("ifng.peak_higher_responders", [5.0, 6, 7, 8], [1.0, 2, 1, 2])
        'reproduced'
        """
        conf = 1 - self.alpha / max(1, int(tests))
        d, lo, hi, na, nb = welch_ci(a, b, conf)
        return self.check_ci(claim_id, estimate=d, low=lo, high=hi, confidence=conf, expected=expected,
                             detail=f"difference of means (Welch), n = {na} vs {nb}" + (f", {detail}" if detail else ""),
                             tests=tests)

    def check_direction(self, claim_id: str, *, estimate: float, p: float | None = None, low: float | None = None,
                        high: float | None = None, detail: str = "") -> str:
        """Judge a direction claim from an interval, or from a two-sided p-value inverting one.

        With ``low``/``high`` this is :meth:`check_ci`. With only ``p`` (of a test whose (1 − alpha)
        interval excludes 0 exactly when ``p < alpha``) the same rule reads: reproduced if ``p < alpha`` and
        the sign is the claimed one; not reproduced if ``p < alpha`` with the other sign; else inconclusive.
        A "no change" claim cannot be judged by ``p``: use :meth:`check_equivalence`.

        Examples
        --------
        >>> log = ClaimLog("disease_activity")
        >>> log.check_direction("activity.das28_decrease_responders_12w", estimate=-2.1, p=0.003)
        'reproduced'
        >>> log.check_direction("activity.das28_decrease_responders_12w", estimate=-2.1, p=0.3)
        'inconclusive'
        """
        claim = self._claim(claim_id, ("direction", "significant", "qualitative"))
        if low is not None and high is not None:
            return self.check_ci(claim_id, estimate=estimate, low=low, high=high, detail=detail)
        if p is None:
            raise ValueError(f"`p` is None; claim {claim_id!r} needs an interval (`low`, `high`) or a p-value")
        side = self._expected_side(claim, None)
        rule = (f"reproduced if the change is {'an increase' if side == 'increase' else 'a decrease'} with "
                f"two-sided p < {self.alpha:g} (its {100 * (1 - self.alpha):.4g} % CI excludes 0 on that side); "
                "not reproduced if significant the other way; inconclusive otherwise")
        if is_nan(estimate) or is_nan(p):
            return self._record(claim, "estimate or p could not be computed", NOT_TESTABLE, rule)
        text = f"{direction_word(estimate)} ({fmt_num(estimate)}), {format_p(p)}" + (f"; {detail}" if detail else "")
        if p < self.alpha and estimate != 0:
            right = estimate > 0 if side == "increase" else estimate < 0
            verdict = REPRODUCED if right else NOT_REPRODUCED
        else:
            verdict = INCONCLUSIVE
        return self._record(claim, text, verdict, rule)

    # ---- no change / no difference
    def check_equivalence(self, claim_id: str, values=None, *, margin: float, margin_source: str,
                          other=None, estimate: float | None = None, low: float | None = None,
                          high: float | None = None, wide_low: float | None = None, wide_high: float | None = None,
                          one_sided: str | None = None, detail: str = "") -> str:
        """Judge "no change / no difference" by two one-sided tests (TOST) within ``±margin``.

        Give either ``values`` (per-patient changes; with ``other``: two groups, Welch) or the effect with its
        (1 − 2·alpha) interval ``low``/``high`` and (1 − alpha) interval ``wide_low``/``wide_high``.

        Reproduced when the (1 − 2·alpha) interval lies inside ``(−margin, margin)`` (TOST at alpha);
        not reproduced when the (1 − alpha) interval lies wholly beyond the margin (the change is
        larger than what matters); otherwise inconclusive. ``one_sided="no_decrease"`` ("no
        improvement" of a score where lower is better) asks only that the lower bound stays above
        ``−margin`` (one-sided test at alpha).

        Examples
        --------
        >>> log = ClaimLog("inflammation")
        >>> log.check_equivalence("inflammation.il8_no_change", estimate=0.1, low=-0.4, high=0.59,
        ...                       wide_low=-0.5, wide_high=0.7, margin=0.6, margin_source="hand")
        'reproduced'
        >>> log.check_equivalence("inflammation.il8_no_change", estimate=0.1, low=-0.4, high=0.6,
        ...                       wide_low=-0.5, wide_high=0.7, margin=0.6, margin_source="hand")
        'inconclusive'
        >>> log.check_equivalence("inflammation.il8_no_change", estimate=1.0, low=0.7, high=1.3,
        ...                       wide_low=0.61, wide_high=1.4, margin=0.6, margin_source="hand")
        'not reproduced'
        """
        claim = self._claim(claim_id, ("not_significant", "qualitative"))
        if one_sided not in (None, "no_decrease", "no_increase"):
            raise ValueError(f"`one_sided` is {one_sided!r}; allowed: None, 'no_decrease', 'no_increase'")
        if one_sided is None and claim["expected"] == "no_improvement":
            one_sided = "no_decrease"
        n_text = ""
        if values is not None:
            if other is None:
                estimate, low, high, n = mean_ci(values, 1 - 2 * self.alpha)
                _, wide_low, wide_high, _ = mean_ci(values, 1 - self.alpha)
                n_text = f"mean change, n = {n}"
            else:
                estimate, low, high, na, nb = welch_ci(values, other, 1 - 2 * self.alpha)
                _, wide_low, wide_high, _, _ = welch_ci(values, other, 1 - self.alpha)
                n_text = f"difference of means (Welch), n = {na} vs {nb}"
        if one_sided is None:
            rule = (f"TOST: reproduced if the {100 * (1 - 2 * self.alpha):.4g} % CI lies within {_plus_minus(margin)} "
                    f"(margin {margin_source}); not reproduced if the {100 * (1 - self.alpha):.4g} % CI lies wholly "
                    "beyond the margin; inconclusive otherwise")
        else:
            bound = "lower" if one_sided == "no_decrease" else "upper"
            rule = (f"one-sided test: reproduced if the {bound} bound of the {100 * (1 - 2 * self.alpha):.4g} % CI "
                    f"lies {_bound(margin, above=one_sided == 'no_decrease')} (margin "
                    f"{margin_source}); not reproduced if the {100 * (1 - self.alpha):.4g} % CI lies wholly beyond "
                    "it; inconclusive otherwise")
        if any(v is None or is_nan(v) for v in (estimate, low, high, wide_low, wide_high, margin)) or margin <= 0:
            return self._record(claim, "interval or margin could not be computed", NOT_TESTABLE, rule)
        text = (f"{fmt_num(estimate)}, {fmt_ci(low, high, 1 - 2 * self.alpha)}, margin ±{fmt_num(margin)}")
        text += "".join(f"; {t}" for t in (n_text, detail) if t)
        if one_sided == "no_decrease":
            ok, bad = low > -margin, wide_high < -margin
        elif one_sided == "no_increase":
            ok, bad = high < margin, wide_low > margin
        else:
            ok = low > -margin and high < margin
            bad = wide_low > margin or wide_high < -margin
        verdict = REPRODUCED if ok else NOT_REPRODUCED if bad else INCONCLUSIVE
        return self._record(claim, text, verdict, rule)

    def check_significance(self, claim_id: str, *, p: float, estimate: float | None = None, detail: str = "") -> str:
        """A direction claim judged by a two-sided ``p`` and the sign (see :meth:`check_direction`).

        "Not significant" claims are never judged by ``p ≥ alpha``: they need :meth:`check_equivalence`
        (calling this for one records "inconclusive" and says why).

        Examples
        --------
        >>> ClaimLog("immune").check_significance("immune.rf_not_significant", p=0.5)
        'inconclusive'
        """
        claim = self._claim(claim_id, ("significant", "not_significant", "direction"))
        if claim["kind"] == "not_significant":
            text = (format_p(p) if not is_nan(p) else "p could not be computed") + (f"; {detail}" if detail else "")
            return self._record(claim, text, INCONCLUSIVE,
                                "p ≥ alpha alone is absence of evidence, not evidence of no change; "
                                "an equivalence margin is needed")
        if estimate is None:
            raise ValueError(f"`estimate` is None; claim {claim_id!r} needs the sign of the effect")
        return self.check_direction(claim_id, estimate=estimate, p=p, detail=detail)

    # ---- other verdicts
    def check_true(self, claim_id: str, holds: bool | None, reproduced: str, *, rule: str = "") -> str:
        """Record a claim the chapter judged itself (usually ``qualitative``).

        Parameters
        ----------
        holds : bool or None
            Whether the chapter's computation confirms the claim; ``None``: the data cannot tell
            (inconclusive).
        reproduced : str
            What was found, as short text.
        rule : str, optional
            The rule in words; default "reproduced if the chapter's computation confirms the claim".

        Examples
        --------
        >>> ClaimLog("safety").check_true("safety.fever_max_39c", True, "max 38.6 °C")
        'reproduced'
        >>> ClaimLog("safety").check_true("safety.fever_max_39c", None, "one reading")
        'inconclusive'
        """
        claim = self._claim(claim_id)
        verdict = INCONCLUSIVE if holds is None else REPRODUCED if bool(holds) else NOT_REPRODUCED
        return self._record(claim, str(reproduced), verdict,
                            rule or "reproduced if the chapter's computation confirms the claim")

    def by_construction(self, claim_id: str, reason: str, reproduced: str = "") -> str:
        """Record a claim that follows from how the groups or variables are defined; never counted as reproduced.

        Examples
        --------
        >>> ClaimLog("disease_activity").by_construction(
        ...     "activity.das28_decrease_responders_12w", "EULAR response is defined by this fall")
        'holds by construction'
        """
        claim = self._claim(claim_id)
        if not str(reason).strip():
            raise ValueError("`reason` is empty; a claim that holds by construction needs its reason")
        return self._record(claim, str(reproduced), BY_CONSTRUCTION, f"holds by construction: {reason}")

    def not_testable(self, claim_id: str, reason: str) -> str:
        """Record that the data cannot judge the claim, and why.

        Examples
        --------
        >>> ClaimLog("ifng").not_testable("ifng.ido_in_vitro", "in vitro experiment, no data")
        'not testable with these data'

        A page's note ("Not available with these data: ...") can be passed as it is: its prefix is not repeated.

        >>> log = ClaimLog("ifng")
        >>> _ = log.not_testable("ifng.ido_in_vitro", "Not available with these data: no IFN-γ.")
        >>> log.table().loc[0, "rule"]
        'not testable: no IFN-γ.'
        """
        claim = self._claim(claim_id)
        reason = str(reason).strip()
        if reason.lower().startswith(_NOTE_PREFIX):
            reason = reason[len(_NOTE_PREFIX):].strip()
        return self._record(claim, "", NOT_TESTABLE, f"not testable: {reason}")

    def not_discriminating(self, claim_id: str, reason: str, reproduced: str = "") -> str:
        """Record "not testable" for a claim whose statement no rule can judge, with any data, and why.

        A statement that cannot discriminate, such as a decrease the paper itself calls not significant (an
        interval below 0 would contradict the paper's own test; one containing 0 cannot show a decrease), gets
        no rule forced onto it. ``reproduced`` may show what was found, not judged.

        Examples
        --------
        >>> log = ClaimLog("immune")
        >>> log.not_discriminating("immune.rf_decrease_responders", "a decrease the paper calls not significant")
        'not testable with these data'
        >>> log.table().loc[0, "rule"]
        'not testable as stated, with any data: a decrease the paper calls not significant'
        """
        claim = self._claim(claim_id)
        if not str(reason).strip():
            raise ValueError("`reason` is empty; a claim that cannot discriminate needs its reason")
        return self._record(claim, str(reproduced), NOT_TESTABLE, f"not testable as stated, with any data: {reason}")

    def missing_columns(self, claim_id: str, data: pd.DataFrame, columns) -> list[str]:
        """Record "not testable" naming the missing columns, when any of ``columns`` is absent or empty.

        Returns the missing columns (empty list: nothing recorded, the claim can be judged).

        Examples
        --------
        >>> log = ClaimLog("inflammation")
        >>> log.missing_columns("inflammation.il8_no_change", pd.DataFrame({"il_6": [1.0]}), ["il_8"])
        ['il_8']
        >>> log.table().loc[0, "verdict"]
        'not testable with these data'
        """
        gone = [c for c in columns if c not in data.columns or not pd.notna(data[c].to_numpy()).any()]
        if gone:
            self.not_testable(claim_id, f"the data lack the column(s) {', '.join(gone)}")
        return gone

    def not_in_design(self, claim_id: str, paper_week: int, design) -> str:
        """Record "not testable": this design has no visit playing the part of the paper's ``paper_week``.

        Examples
        --------
        >>> from analysis.core.design import Design
        >>> d = Design.from_mapping({"visit_weeks": [0, 12, 24], "final_week": 24, "early_window_weeks": 4})
        >>> ClaimLog("inflammation").not_in_design("inflammation.il10_increase_week4", 4, d)
        'not testable with these data'
        """
        return self.not_testable(claim_id, f"the paper's week {paper_week} has no corresponding visit in this "
                                           f"design (visits {design.describe_weeks()})")

    # ---- several intervals for one claim
    def check_versus_others(self, claim_id: str, visits: pd.DataFrame, column: str, *, weeks,
                            reference: str = "Responder", others=("Non-responder", "Control"),
                            expected: str | None = None) -> str:
        """Judge "the reference group differs from every other group" at visits the paper does not name.

        Every (visit, other group) difference ``mean(reference) − mean(other)`` gets a Welch interval at
        1 − alpha/m, m = visits × other groups (Bonferroni). Reproduced when at some visit the intervals
        against all other groups lie on the claimed side of 0; not reproduced when no visit does and some
        interval lies on the other side; inconclusive otherwise.

        Examples
        --------
        >>> v = pd.DataFrame({"group": ["Responder"] * 4 + ["Control"] * 4, "week": [4] * 8,
        ...                   "x": [1.0, 1.2, 0.9, 1.1, 3.0, 3.2, 2.9, 3.1]})
        >>> ClaimLog("disease_activity").check_versus_others(
        ...     "activity.crp_responders_better_12w", v, "x", weeks=[4], others=("Control",))
        'reproduced'
        """
        claim = self._claim(claim_id, ("direction", "significant", "qualitative"))
        side = self._expected_side(claim, expected)
        weeks = [int(w) for w in weeks]
        m = max(1, len(weeks) * len(others))
        conf = 1 - self.alpha / m
        rule = (f"reproduced if at some visit the {100 * conf:.4g} % Welch CIs of {reference} − each of "
                f"{', '.join(others)} all lie {'above' if side == 'increase' else 'below'} 0 (visits {', '.join(map(str, weeks))}; "
                f"Bonferroni over {m} intervals); not reproduced if none does and some CI lies on the other side; "
                "inconclusive otherwise")
        good, bad, best, any_ci = [], False, None, False
        pick = values_picker(visits, column)
        for w in weeks:
            ref = pick(w, reference)
            cis = [welch_ci(ref, pick(w, o), conf) for o in others]
            if any(is_nan(c[1]) for c in cis):
                continue
            any_ci = True
            on_side = [(c[1] > 0) if side == "increase" else (c[2] < 0) for c in cis]
            wrong = [(c[2] < 0) if side == "increase" else (c[1] > 0) for c in cis]
            bad = bad or any(wrong)
            worst = min(cis, key=lambda c: c[0] if side == "increase" else -c[0])
            if all(on_side):
                good.append(w)
                if best is None or not best[2]:
                    best = (w, worst, True)
            elif best is None or (not best[2] and (worst[0] > best[1][0] if side == "increase" else worst[0] < best[1][0])):
                best = (w, worst, False)
        if not any_ci:
            return self._record(claim, f"no visit with {reference} and every comparison group", NOT_TESTABLE, rule)
        w, c, _ = best
        text = (f"{'on the claimed side at week(s) ' + ', '.join(map(str, good)) if good else 'no visit on the claimed side'}; "
                f"{'first such' if good else 'most favourable'} week {w}, smaller of the differences: {fmt_num(c[0])}, "
                f"{fmt_ci(c[1], c[2], conf)}")
        verdict = REPRODUCED if good else NOT_REPRODUCED if bad else INCONCLUSIVE
        return self._record(claim, text, verdict, rule)

    def check_changes(self, claim_id: str, items, *, expected: str | None = None, what: str = "") -> str:
        """Judge one claim over several within-patient changes (visits, steps or subgroups), Bonferroni.

        ``items`` is a list of ``(label, changes)``. Each mean change gets a t interval at 1 − alpha/m.
        Reproduced when some interval lies on the claimed side of 0 and none on the other; not
        reproduced when some lies on the other side and none on the claimed one; otherwise inconclusive.

        Examples
        --------
        >>> log = ClaimLog("ifng")
        >>> log.check_changes("ifng.ratio_rise_after_ifng", [("a", [0.3, 0.4, 0.5, 0.35]), ("b", [0.1, -0.1, 0.0])])
        'reproduced'
        """
        claim = self._claim(claim_id, ("direction", "significant", "qualitative"))
        side = self._expected_side(claim, expected)
        items = [(str(lab), v) for lab, v in items]
        m = max(1, len(items))
        conf = 1 - self.alpha / m
        rule = (f"reproduced if some {100 * conf:.4g} % CI of the mean change lies {'above' if side == 'increase' else 'below'} "
                f"0 and none on the other side (Bonferroni over {m} interval(s){': ' + what if what else ''}); "
                "not reproduced if the reverse; inconclusive otherwise")
        parts, on, off, intervals = [], 0, 0, 0
        for lab, v in items:
            est, lo, hi, n = mean_ci(v, conf)
            parts.append(f"{lab}: {fmt_mean_ci(est, lo, hi, n)}")
            if is_nan(lo):
                continue
            intervals += 1
            up, down = lo > 0, hi < 0
            on += (up if side == "increase" else down)
            off += (down if side == "increase" else up)
        if not intervals:
            return self._record(claim, "; ".join(parts) or "no changes", NOT_TESTABLE, rule + " (fewer than 2 patients)")
        verdict = REPRODUCED if on and not off else NOT_REPRODUCED if off and not on else INCONCLUSIVE
        return self._record(claim, "; ".join(parts), verdict, rule)

    def check_equivalence_all(self, claim_id: str, items, *, margin: float, margin_source: str) -> str:
        """Judge "no change at any visit" by equivalence at every visit (intersection–union test).

        ``items`` is a list of ``(label, changes)``, or ``(label, a, b[, margin])`` for a difference of two
        groups (Welch) with its own margin. Reproduced when every visit's (1 − 2·alpha) interval lies
        inside ±margin (each TOST at alpha; the intersection–union test needs no multiplicity correction);
        not reproduced when some visit's (1 − alpha/m) interval lies wholly beyond the margin (Bonferroni);
        otherwise inconclusive.

        Examples
        --------
        >>> log = ClaimLog("inflammation")
        >>> log.check_equivalence_all("inflammation.il8_no_change", [("w4", [0.01, -0.02, 0.0, 0.01])],
        ...                           margin=0.5, margin_source="hand")
        'reproduced'
        """
        claim = self._claim(claim_id, ("not_significant",))
        m = max(1, len(items))
        rule = (f"TOST at every visit: reproduced if each {100 * (1 - 2 * self.alpha):.4g} % CI lies within "
                f"{_plus_minus(margin)} (margin {margin_source}; intersection–union, no correction needed); "
                f"not reproduced if some {100 * (1 - self.alpha / m):.4g} % CI (Bonferroni over {m}) lies wholly "
                "beyond the margin; inconclusive otherwise")
        own = all(len(item) > 3 for item in items)
        if not items or (not own and (is_nan(margin) or margin <= 0)):
            return self._record(claim, "margin or visits missing", NOT_TESTABLE, rule)
        ok, bad, worst = True, False, None
        for item in items:
            lab, v = item[0], item[1]
            other = item[2] if len(item) > 2 else None
            mg = float(item[3]) if len(item) > 3 else float(margin)
            if other is None:
                est, lo, hi, _ = mean_ci(v, 1 - 2 * self.alpha)
                _, wlo, whi, _ = mean_ci(v, 1 - self.alpha / m)
            else:
                est, lo, hi, _, _ = welch_ci(v, other, 1 - 2 * self.alpha)
                _, wlo, whi, _, _ = welch_ci(v, other, 1 - self.alpha / m)
            if is_nan(lo) or is_nan(mg) or mg <= 0:
                return self._record(claim, f"{lab}: fewer than 2 values or no margin", NOT_TESTABLE, rule)
            ok = ok and lo > -mg and hi < mg
            bad = bad or wlo > mg or whi < -mg
            used = max(abs(lo), abs(hi)) / mg
            if worst is None or used > worst[0]:
                worst = (used, lab, est, lo, hi, mg)
        _, lab, est, lo, hi, mg = worst
        text = (f"closest to its margin: {lab}: {fmt_num(est)}, {fmt_ci(lo, hi, 1 - 2 * self.alpha)}, margin "
                f"±{fmt_num(mg)}; {m} comparison(s)")
        verdict = REPRODUCED if ok else NOT_REPRODUCED if bad else INCONCLUSIVE
        return self._record(claim, text, verdict, rule)

    def check_correlations(self, claim_id: str, items, *, expected: str | None = None, strength: float = 0.0,
                           method: str = "pearson") -> str:
        """Judge a claimed association within each group (never pooled across groups one variable defines).

        ``items`` is a list of ``(label, x, y)``. Each correlation gets a Fisher-z interval at 1 − alpha/m.
        ``expected`` "decrease" means a negative association. Reproduced when in every group the interval
        excludes 0 on the claimed side and the estimate reaches ``strength`` (|r| ≥ strength); not
        reproduced when in some group the interval excludes the claimed strength (or lies on the other
        side of 0); otherwise inconclusive.

        Examples
        --------
        >>> x = list(range(10)); y = [-v + (v % 2) * 0.1 for v in x]
        >>> ClaimLog("ifng").check_correlations("ifng.delta_das28_related", [("all", x, y)], strength=0.5)
        'reproduced'
        """
        claim = self._claim(claim_id, ("direction", "significant", "qualitative"))
        side = expected or claim["expected"]
        if side not in ("increase", "decrease"):
            side = "increase"
        sign = 1.0 if side == "increase" else -1.0
        m = max(1, len(items))
        conf = 1 - self.alpha / m
        z = float(special().ndtri(0.5 + conf / 2))
        rule = (f"{method.title()} r within each group; reproduced if every {100 * conf:.4g} % Fisher-z CI lies "
                f"{'above' if sign > 0 else 'below'} 0 and r {'≥' if sign > 0 else '≤'} {sign * strength:g}; "
                f"not reproduced if some CI excludes that strength; inconclusive otherwise (Bonferroni over {m})")
        parts, good, bad, any_ok = [], True, False, False
        for lab, x, y in items:
            x, y = _numbers(x), _numbers(y)
            if len(x) != len(y):  # as a frame of the two: the shorter padded with NaN
                size = max(len(x), len(y))
                x, y = (np.concatenate([v, np.full(size - len(v), np.nan)]) for v in (x, y))
            both = ~(np.isnan(x) | np.isnan(y))
            x, y = x[both], y[both]
            n = len(x)
            if n < 4 or _no_spread(x) or _no_spread(y):
                parts.append(f"{lab}: no interval (n = {n}{', no spread' if n >= 4 else ''})")
                good = False
                continue
            r = float(np.corrcoef(x, y)[0, 1] if method == "pearson"
                      else pd.Series(x).corr(pd.Series(y), method=method))
            r = max(min(r, 0.999999), -0.999999)
            half = z / math.sqrt(n - 3)
            lo, hi = math.tanh(math.atanh(r) - half), math.tanh(math.atanh(r) + half)
            any_ok = True
            parts.append(f"{lab}: r = {r:.2f} [{lo:.2f}, {hi:.2f}], n = {n}")
            s_lo, s_hi = (lo, hi) if sign > 0 else (-hi, -lo)  # on the claimed scale
            good = good and s_lo > 0 and sign * r >= strength
            bad = bad or s_hi < strength or s_hi < 0
        if not any_ok:
            return self._record(claim, "; ".join(parts), NOT_TESTABLE, rule + " (fewer than 4 patients in a group)")
        verdict = REPRODUCED if good else NOT_REPRODUCED if bad else INCONCLUSIVE
        return self._record(claim, "; ".join(parts), verdict, rule)

    def check_share(self, claim_id: str, successes: int, total: int, *, above: float | None = None,
                    below: float | None = None, what: str = "") -> str:
        """Judge "most / few" by the (1 − alpha) Wilson interval of a share against a stated bound.

        With ``above=b``: reproduced if the interval lies above ``b``, not reproduced if below, else
        inconclusive; ``below=b`` the mirror.

        Examples
        --------
        >>> ClaimLog("ifng").check_share("ifng.high_in_responders", 25, 28, above=0.5)
        'reproduced'
        >>> ClaimLog("ifng").check_share("ifng.low_in_nonresponders", 3, 24, below=0.25)
        'inconclusive'
        """
        claim = self._claim(claim_id)
        if (above is None) == (below is None):
            raise ValueError("give exactly one of `above` and `below`")
        conf = 1 - self.alpha
        bound = above if above is not None else below
        rule = (f"reproduced if the {100 * conf:.4g} % Wilson CI of the share{' ' + what if what else ''} lies "
                f"{'above' if above is not None else 'below'} {bound:g}; not reproduced if wholly on the other side; "
                "inconclusive otherwise")
        if total <= 0:
            return self._record(claim, "no patients", NOT_TESTABLE, rule)
        lo, hi = wilson_interval(int(successes), int(total), conf)
        text = f"{successes}/{total} ({successes / total:.2f}), Wilson CI {lo:.2f}–{hi:.2f}"
        if above is not None:
            verdict = REPRODUCED if lo > above else NOT_REPRODUCED if hi < above else INCONCLUSIVE
        else:
            verdict = REPRODUCED if hi < below else NOT_REPRODUCED if lo > below else INCONCLUSIVE
        return self._record(claim, text, verdict, rule)

    def judged(self, claim_id: str) -> bool:
        """True when ``claim_id`` already has a verdict in this log."""
        return claim_id in self._rows

    def verdict(self, claim_id: str) -> str:
        """The verdict recorded for ``claim_id`` ("" when not judged yet).

        Examples
        --------
        >>> log = ClaimLog("safety")
        >>> log.verdict("safety.no_gvhd"), log.check_count("safety.no_gvhd", 0), log.verdict("safety.no_gvhd")
        ('', 'reproduced', 'reproduced')
        """
        return self._rows.get(claim_id, {}).get("verdict", "")

    def has_claim(self, claim_id: str) -> bool:
        """True when ``claim_id`` is a claim of this chapter in the registry."""
        return claim_id in self._claims.index

    def _in_section(self, section: str | None) -> pd.Index:
        """The claim ids of this chapter in ``section`` (None: all), in registry order."""
        check_section(section)
        if section is None:
            return self._claims.index
        return self._claims.index[self._claims["section"].eq(section).to_numpy()]

    def claims(self, section: str | None = None) -> pd.DataFrame:
        """The registry's rows of this chapter (a copy, columns :data:`COLUMNS`), in registry order.

        Parameters
        ----------
        section : str, optional
            Only the claims of this section (one of :data:`analysis.claims.registry.SECTIONS`, e.g.
            ``"second_look"``), or ``""`` for the claims outside any section; default every claim.

        Examples
        --------
        >>> log = ClaimLog("immune")
        >>> log.claims("second_look")["claim_id"].tolist()
        ['immune.second_look_ratio_group_time']
        >>> len(log.claims()) == len(log.claims("")) + 1
        True
        """
        return self._claims.loc[self._in_section(section)].reset_index(drop=True)

    def kind(self, claim_id: str) -> str:
        """The registry's ``kind`` of ``claim_id`` (``KeyError`` for a claim of another chapter)."""
        return str(self._claim(claim_id)["kind"])

    def annotate(self, claim_id: str, *, note: str = "", rule_prefix: str = "") -> None:
        """Add context to a judged claim without changing its verdict: ``note`` after the reproduced text,
        ``rule_prefix`` before the rule (e.g. "testable part of an interpretation").

        Examples
        --------
        >>> log = ClaimLog("safety")
        >>> _ = log.check_count("safety.no_gvhd", 0)
        >>> log.annotate("safety.no_gvhd", note="MSCT arm")
        >>> log.table().loc[0, "reproduced"]
        '0; MSCT arm'
        """
        if claim_id not in self._rows:
            raise KeyError(f"`claim_id` {claim_id!r} has no verdict yet; judge it before annotating")
        row = self._rows[claim_id]
        if note:
            row["reproduced"] = f"{row['reproduced']}; {note}" if row["reproduced"] else note
        if rule_prefix:
            row["rule"] = f"{rule_prefix}: {row['rule']}"

    # ---- output
    def table(self, section: str | None = None) -> pd.DataFrame:
        """The judged claims, in registry order, columns :data:`TABLE_COLUMNS`.

        ``section`` as in :meth:`claims`: only the judged claims of that section.

        Examples
        --------
        >>> ClaimLog("audit").table().shape[1] == len(TABLE_COLUMNS)
        True
        >>> log = ClaimLog("immune")
        >>> log.not_testable("immune.second_look_ratio_group_time", "no data")
        'not testable with these data'
        >>> log.table("second_look")["claim_id"].tolist(), log.table("").empty
        (['immune.second_look_ratio_group_time'], True)
        """
        order = [cid for cid in self._in_section(section) if cid in self._rows]
        return pd.DataFrame([self._rows[cid] for cid in order], columns=list(TABLE_COLUMNS))

    def missing(self, *, section: str | None = None) -> list[str]:
        """Claims of this chapter not yet judged, in registry order.

        ``section`` as in :meth:`claims`: ``section=""`` asks for the chapter's own claims only (those a
        chapter's ``judge_claims`` records), leaving out the "A second look" claims (``"second_look"``), which
        its ``judge_second_look`` records.

        Examples
        --------
        >>> log = ClaimLog("immune")
        >>> len(log.missing()) == int((load_published()["chapter"] == "immune").sum())
        True
        >>> log.missing(section="second_look")
        ['immune.second_look_ratio_group_time']
        >>> "immune.second_look_ratio_group_time" in log.missing(section="")
        False
        """
        return [cid for cid in self._in_section(section) if cid not in self._rows]

    def full_table(self) -> pd.DataFrame:
        """Every claim of the chapter exactly once; unjudged ones are "not testable with these data".

        Examples
        --------
        >>> log = ClaimLog("immune")
        >>> bool((log.full_table()["verdict"] == "not testable with these data").all())
        True
        """
        rows = []
        for cid, claim in self._rows_of_registry().items():
            if cid in self._rows:
                rows.append(self._rows[cid])
            else:
                rows.append({
                    "chapter": self.chapter, "claim_id": cid, "claim": claim["claim"],
                    "location": claim["location"], "published": claim["published"], "reproduced": "",
                    "verdict": NOT_TESTABLE, "rule": "not evaluated by the chapter",
                    "basis": claim["basis"], "basis_reason": claim["basis_reason"],
                })
        return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))

    def write(self, output_dir: str | Path) -> Path:
        """Write :meth:`full_table` to ``output_dir/results/<chapter>/claims.csv`` and return the path.

        Examples
        --------
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = ClaimLog("audit").write(tmp)
        ...     path.relative_to(tmp).as_posix()
        'results/audit/claims.csv'
        """
        path = Path(output_dir) / "results" / self.chapter / "claims.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.full_table().to_csv(path, index=False, encoding="utf-8")
        return path


