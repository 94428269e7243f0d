"""The published claims registry and the rules that judge each claim.

Every claim of Yang et al. 2018 lives as one row in ``data/published/claims/<chapter>.csv``.
A chapter judges its claims through a :class:`ClaimLog`; each check states its rule in words and
returns one of :data:`VERDICTS`.

The rules (one per kind of claim; a null effect passes a rule of change no more often than ``alpha``):

* **change or difference in a direction** (:meth:`ClaimLog.check_ci`, :meth:`ClaimLog.check_change`,
  :meth:`ClaimLog.check_difference`): the (1 − alpha) confidence interval of the effect. Reproduced when
  it excludes zero on the claimed side, not reproduced when it excludes zero on the other side,
  inconclusive when it contains zero. Several visits or markers for one claim: Bonferroni, i.e. each
  interval at 1 − alpha/m (stated in the rule).
* **no change / no difference** (:meth:`ClaimLog.check_equivalence`): two one-sided tests (TOST) within
  a margin per measure read from ``data/published/margins.csv`` (DAS28 0.6, EULAR; HAQ-DI 0.22, MCID;
  other measures half a baseline SD, Norman et al. 2003). Reproduced when the (1 − 2·alpha) interval
  lies inside ±margin; not reproduced when the (1 − alpha) interval lies wholly beyond the margin;
  otherwise inconclusive. ``p ≥ alpha`` alone never reproduces a claim.
* **proportions** (:meth:`ClaimLog.check_wilson`): reproduced when the published value lies within
  the (1 − alpha) Wilson interval of the reproduced proportion. **Exact counts** stay exact.
* **holds by construction** (:meth:`ClaimLog.by_construction`): follows from how groups are defined;
  the reason is stated and the claim is never counted as reproduced.
* **not testable with these data** (:meth:`ClaimLog.not_testable`, :meth:`ClaimLog.missing_columns`).

:meth:`ClaimLog.write` writes ``results/<chapter>/claims.csv`` with
every claim of the chapter exactly once, and :func:`collect` / :func:`summary` build the scorecard.

Registry columns
----------------
``claim_id`` (unique), ``chapter`` (one of :data:`CHAPTERS`, equal to the file name), ``claim``,
``location``, ``published`` (as printed), ``kind`` (one of :data:`KINDS`), ``expected`` (machine-readable,
see :data:`EXPECTED`), ``tolerance`` (only for the audit's rounding checks of the paper's own arithmetic),
``basis`` (one of :data:`BASES`), ``basis_reason`` (one line), ``quote`` (the paper's words, verbatim in
``data/published/paper.txt``).
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import pandas as pd

import numpy as np

from .chapters import CLAIM_CHAPTERS


def _special():
    """:mod:`scipy.special`, imported on first use: the build collects and compares claims without SciPy."""
    from scipy import special

    return special

__all__ = [
    "BASES",
    "CHAPTERS",
    "COLUMNS",
    "EXPECTED",
    "KINDS",
    "TABLE_COLUMNS",
    "VERDICTS",
    "ClaimLog",
    "PAPER_CHECK_CHAPTERS",
    "collect",
    "equivalence_margin",
    "evidence_claims",
    "load_margins",
    "load_published",
    "mean_ci",
    "judge_inputs",
    "paired_changes",
    "values_at",
    "paper_text",
    "quote_in_paper",
    "read_claims",
    "scorecard_facts",
    "summary",
    "verdicts_long",
    "welch_ci",
]

VERDICTS: tuple[str, ...] = (
    "reproduced", "not reproduced", "inconclusive", "holds by construction", "not testable with these data",
)
REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, BY_CONSTRUCTION, NOT_TESTABLE = VERDICTS

#: the basis of a claim: evidence the data can give, a consequence of definitions, or the authors' reading
BASES: tuple[str, ...] = ("empirical", "by construction", "interpretation")

#: chapters with a claims file, in reading order (from the book's one chapter registry)
CHAPTERS: tuple[str, ...] = CLAIM_CHAPTERS
COLUMNS: tuple[str, ...] = (
    "claim_id", "chapter", "claim", "location", "published", "kind", "expected", "tolerance",
    "basis", "basis_reason", "quote",
)
TABLE_COLUMNS: tuple[str, ...] = (
    "chapter", "claim_id", "claim", "location", "published", "reproduced", "verdict", "rule", "basis",
    "basis_reason",
)
KINDS: tuple[str, ...] = ("count", "proportion", "direction", "significant", "not_significant", "qualitative")

#: values allowed in ``expected`` for each kind (``None``: a number / free text, checked separately).
#: ``significant`` and ``direction`` differ in what the paper states (a test or only a direction);
#: both are judged by the same confidence-interval rule. ``not_significant`` is judged by equivalence:
#: ``no_change`` two-sided, ``no_improvement`` one-sided (no decrease beyond the margin).
EXPECTED: dict[str, tuple[str, ...] | None] = {
    "count": None,
    "proportion": None,
    "direction": ("increase", "decrease"),
    "significant": ("increase", "decrease"),
    "not_significant": ("no_change", "no_improvement"),
    "qualitative": None,
}

_DEFAULT_DIR = Path(__file__).resolve().parents[1] / "data" / "published"
_EPS = 1e-9  # floating-point slack so that a value exactly on a bound counts as inside


# --------------------------------------------------------------------------------------------- registry
def _row_problem(row: pd.Series) -> str | None:
    """Return what is wrong with one registry row, or ``None`` when it is valid."""
    for col in ("claim_id", "chapter", "claim", "location", "published", "kind", "expected"):
        if not str(row[col]).strip():
            return f"`{col}` is empty"
    kind, expected, tol = row["kind"], row["expected"], row["tolerance"].strip()
    if row["chapter"] not in CHAPTERS:
        return f"`chapter` is {row['chapter']!r}; allowed: {', '.join(CHAPTERS)}"
    if kind not in KINDS:
        return f"`kind` is {kind!r}; allowed: {', '.join(KINDS)}"
    if kind == "count":
        try:
            value = float(expected)
        except ValueError:
            return f"`expected` is {expected!r}; a count needs a whole number"
        if not value.is_integer() or value < 0:
            return f"`expected` is {expected!r}; a count needs a whole number >= 0"
    elif kind == "proportion":
        try:
            value, tolerance = float(expected), float(tol or 0)
        except ValueError:
            return f"`expected`/`tolerance` are {expected!r}/{tol!r}; a proportion needs numbers"
        if not (0 <= value <= 1 and 0 <= tolerance < 1):
            return f"`expected`/`tolerance` are {expected!r}/{tol!r}; both must lie in [0, 1]"
    elif EXPECTED[kind] is not None and expected not in EXPECTED[kind]:
        return f"`expected` is {expected!r}; allowed for kind {kind!r}: {', '.join(EXPECTED[kind])}"
    if kind != "proportion" and tol:
        return f"`tolerance` is {tol!r}; only a proportion has a tolerance"
    if row["basis"] not in BASES:
        return f"`basis` is {row['basis']!r}; allowed: {', '.join(BASES)}"
    if not str(row["basis_reason"]).strip():
        return "`basis_reason` is empty"
    if not str(row["quote"]).strip():
        return "`quote` is empty"
    return None


def load_published(published_dir: str | Path | None = None) -> pd.DataFrame:
    """Read and validate the claims registry (all ``claims/*.csv`` files).

    Parameters
    ----------
    published_dir : str or Path, optional
        Folder holding ``claims/``; default ``<repo>/data/published``.

    Returns
    -------
    pandas.DataFrame
        One row per claim, columns :data:`COLUMNS` (all text), ordered by :data:`CHAPTERS`
        and then by the order of the rows in each file.

    Raises
    ------
    ValueError
        If the folder has no registry file, a file is not named after a chapter, its columns differ
        from :data:`COLUMNS`, a row is invalid (the message names file and row) or a ``claim_id``
        occurs twice.

    Examples
    --------
    >>> reg = load_published()
    >>> list(reg.columns) == list(COLUMNS)
    True
    >>> reg["claim_id"].is_unique
    True
    """
    folder = Path(published_dir) if published_dir is not None else _DEFAULT_DIR
    files = sorted((folder / "claims").glob("*.csv"))
    if not files:
        raise ValueError(f"`published_dir` is {str(folder)!r}: no claims/*.csv files found there")
    frames = []
    for path in files:
        if path.stem not in CHAPTERS:
            raise ValueError(f"{path}: file name {path.stem!r} is not a chapter; allowed: {', '.join(CHAPTERS)}")
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        if tuple(frame.columns) != COLUMNS:
            raise ValueError(f"{path}: columns are {list(frame.columns)}; expected {list(COLUMNS)}")
        frame = frame.apply(lambda col: col.str.strip())
        for i, row in frame.iterrows():
            problem = _row_problem(row)
            if problem is None and row["chapter"] != path.stem:
                problem = f"`chapter` is {row['chapter']!r} but the file is {path.name}"
            if problem:
                raise ValueError(f"{path}, row {i + 2} ({row['claim_id'] or 'no claim_id'}): {problem}")
        frames.append(frame.assign(_order=CHAPTERS.index(path.stem)))
    registry = pd.concat(frames, ignore_index=True)
    duplicated = registry.loc[registry["claim_id"].duplicated(), "claim_id"].tolist()
    if duplicated:
        raise ValueError(f"claim_id not unique in {folder / 'claims'}: {', '.join(sorted(set(duplicated)))}")
    registry = registry.sort_values("_order", kind="stable").drop(columns="_order")
    return registry.reset_index(drop=True)


# --------------------------------------------------------------------------------------------- the paper and margins
def paper_text(published_dir: str | Path | None = None, *, normalise: bool = True) -> str:
    """The paper's full text (``paper.txt``, CC BY 4.0), optionally normalised for quote matching.

    Normalising joins words hyphenated across lines (``inflamma-\\ntion``), folds every run of white
    space into one space and unifies the typographic variants that text extraction produces.

    Examples
    --------
    >>> "enrolled from July 2016 to March 2017" in paper_text()
    True
    """
    folder = Path(published_dir) if published_dir is not None else _DEFAULT_DIR
    text = (folder / "paper.txt").read_text(encoding="utf-8")
    return _normalise(text) if normalise else text


def _normalise(text: str) -> str:
    """Join hyphenated line breaks, fold white space and unify dashes/quotes (for quote matching)."""
    import re

    text = text.replace("\u00a0", " ").replace("\u2009", " ")
    text = re.sub(r"/\s*\n\s*", "/", text)  # "Treg/\nTh17", "pg/\nmL"
    text = re.sub(r"-\s*\n\s*", "-", text)  # keep the hyphen: "inflamma-tion" matches only when quoted so
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", "", text)  # ... then drop hyphens inside words altogether
    text = text.replace("’", "'").replace("“", '"').replace("”", '"').replace("–", "-").replace("−", "-")
    return re.sub(r"\s+", " ", text).strip()


def quote_in_paper(quote: str, text: str | None = None) -> bool:
    """True when ``quote`` (normalised like the paper) occurs in the paper's text.

    Parts separated by `` … `` must each occur, in order.

    Examples
    --------
    >>> quote_in_paper("no serious infections occurred")
    True
    >>> quote_in_paper("all patients were cured")
    False
    """
    text = paper_text() if text is None else text
    pos = 0
    for part in str(quote).split("…"):
        part = _normalise(part)
        if not part:
            continue
        found = text.find(part, pos)
        if found < 0:
            return False
        pos = found + len(part)
    return True


def load_margins(published_dir: str | Path | None = None) -> pd.DataFrame:
    """The equivalence margins (``margins.csv``): one row per measure, with the rule and its source.

    Columns ``measure`` (a visit column, or ``*`` for every other measure), ``margin`` (a number),
    ``scale`` (``absolute``: the margin in the measure's unit; ``baseline_sd``: a multiple of the
    baseline SD), ``source``.

    Examples
    --------
    >>> m = load_margins().set_index("measure")
    >>> float(m.loc["das28", "margin"]), m.loc["*", "scale"]
    (0.6, 'baseline_sd')
    """
    folder = Path(published_dir) if published_dir is not None else _DEFAULT_DIR
    frame = pd.read_csv(folder / "margins.csv", dtype={"measure": str, "scale": str, "source": str},
                        keep_default_na=False, encoding="utf-8")
    return frame


def _margin_rules(margins: pd.DataFrame) -> dict[str, tuple[float, str, str]]:
    return {str(r.measure): (float(r.margin), str(r.scale), str(r.source)) for r in margins.itertuples()}


@lru_cache(maxsize=1)
def _default_margin_rules() -> dict[str, tuple[float, str, str]]:
    """The shipped margins, read once per process (the claims ask for them a hundred times per cohort)."""
    return _margin_rules(load_margins())


def equivalence_margin(measure: str, baseline=None, margins: pd.DataFrame | None = None) -> tuple[float, str]:
    """The smallest difference that matters for ``measure``, and its stated source.

    Parameters
    ----------
    measure : str
        A visit column (``das28``, ``haq_di``, ``il_8`` ...).
    baseline : array-like, optional
        Baseline values of the measure (needed when the rule is a multiple of the baseline SD).

    Examples
    --------
    >>> equivalence_margin("das28")[0]
    0.6
    >>> round(equivalence_margin("il_8", [1.0, 3.0])[0], 4)
    0.7071
    """
    rules = _default_margin_rules() if margins is None else _margin_rules(margins)
    value, scale, source = rules[measure] if measure in rules else rules["*"]
    if scale == "absolute":
        return value, f"{value:g} ({source})"
    x = _floats(baseline if baseline is not None else np.array([], dtype=float))
    x = x[np.isfinite(x)]
    sd = float(np.std(x, ddof=1)) if len(x) >= 2 else float("nan")
    return value * sd, f"{value:g} × baseline SD = {value * sd:.3g} ({source})"


# --------------------------------------------------------------------------------------------- intervals
def _floats(x) -> np.ndarray:
    """``x`` as a float array, non-numbers as NaN (a float array is used as it is)."""
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x.astype(float, copy=False)
    return np.asarray(pd.to_numeric(pd.Series(x), errors="coerce"), dtype=float)


def mean_ci(x, confidence: float = 0.95) -> tuple[float, float, float, int]:
    """Mean of ``x`` with its t-based confidence interval: ``(mean, low, high, n)`` (NaN below 2 values).

    Examples
    --------
    >>> est, lo, hi, n = mean_ci([1.0, 2.0, 3.0])
    >>> est, round(lo, 3), round(hi, 3), n
    (2.0, -0.484, 4.484, 3)
    """
    v = _floats(x)
    v = v[np.isfinite(v)]
    n = int(len(v))
    if n < 2:
        return (float(v.mean()) if n else float("nan"), float("nan"), float("nan"), n)
    m, se = float(v.mean()), float(v.std(ddof=1) / math.sqrt(n))
    half = float(_special().stdtrit(n - 1, 0.5 + confidence / 2)) * se
    return (m, m - half, m + half, n)


def welch_ci(a, b, confidence: float = 0.95) -> tuple[float, float, float, int, int]:
    """Difference of means ``mean(a) − mean(b)`` with its Welch confidence interval.

    Returns ``(diff, low, high, n_a, n_b)`` (NaN bounds when a group has fewer than 2 values or both
    have zero variance).

    Examples
    --------
    >>> d, lo, hi, na, nb = welch_ci([2.0, 3.0, 4.0], [0.0, 1.0, 2.0])
    >>> d, round(lo, 3), round(hi, 3)
    (2.0, -0.267, 4.267)
    """
    va, vb = _floats(a), _floats(b)
    va, vb = va[np.isfinite(va)], vb[np.isfinite(vb)]
    na, nb = len(va), len(vb)
    if na < 2 or nb < 2:
        d = float(va.mean() - vb.mean()) if na and nb else float("nan")
        return (d, float("nan"), float("nan"), na, nb)
    sa, sb = va.var(ddof=1) / na, vb.var(ddof=1) / nb
    d = float(va.mean() - vb.mean())
    se = math.sqrt(sa + sb)
    if se == 0:
        return (d, float("nan"), float("nan"), na, nb)
    df = (sa + sb) ** 2 / (sa ** 2 / (na - 1) + sb ** 2 / (nb - 1))
    half = float(_special().stdtrit(df, 0.5 + confidence / 2)) * se
    return (d, d - half, d + half, na, nb)


def _wilson(successes: int, total: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval (Wilson 1927; Newcombe 1998 method 3)."""
    z = float(_special().ndtri(0.5 + confidence / 2))
    p = successes / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return (max(0.0, centre - half), min(1.0, centre + half))


# --------------------------------------------------------------------------------------------- formatting
def _fmt_p(p: float) -> str:
    """Format a p-value as short text: ``p < 0.001`` or ``p = 0.034``."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _fmt_num(x: float) -> str:
    """Format a number with three significant digits (``-1.23``, ``0.0456``)."""
    return f"{x:.3g}"


def _fmt_ci(lo: float, hi: float, confidence: float) -> str:
    """``95 % CI −1.2 to −0.3``."""
    return f"{100 * confidence:.4g} % CI {_fmt_num(lo)} to {_fmt_num(hi)}"


def _direction_word(estimate: float) -> str:
    """Return ``increase``, ``decrease`` or ``no change`` for the sign of ``estimate``."""
    return "increase" if estimate > 0 else "decrease" if estimate < 0 else "no change"


def _is_nan(x) -> bool:
    """True for a float NaN or pandas NA (``None`` is not NaN)."""
    if x is None:
        return False
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------------------------- data helpers
def judge_inputs(derived, design=None, visits: pd.DataFrame | None = None):
    """The design and visits a chapter's ``judge_claims`` works on: those given, else the derivation's.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from analysis.design import Design
    >>> d = SimpleNamespace(design=Design(visit_weeks=(0, 6, 26), response_week=6, final_week=26),
    ...                     visits=pd.DataFrame({"week": [0]}))
    >>> design, visits = judge_inputs(d)
    >>> design.final_week, len(visits)
    (26, 1)
    >>> judge_inputs(SimpleNamespace(visits=None))[0].final_week  # no design: the paper's
    48
    """
    from .design import Design

    design = design or getattr(derived, "design", None) or Design()
    return design, (derived.visits if visits is None else visits)


def values_at(visits: pd.DataFrame, column: str, *, week: int, group: str | None = None) -> np.ndarray:
    """Finite values of ``column`` at ``week`` (optionally in one ``group``).

    Examples
    --------
    >>> v = pd.DataFrame({"week": [0, 4, 4], "group": ["R", "R", "C"], "x": [1.0, 2.0, 3.0]})
    >>> values_at(v, "x", week=4, group="R").tolist()
    [2.0]
    """
    if column not in visits.columns:
        return np.array([], dtype=float)
    sel = visits["week"].to_numpy() == week
    if group is not None:
        sel &= visits["group"].to_numpy(object) == group
    x = pd.to_numeric(visits[column].to_numpy()[sel], errors="coerce").astype(float)
    return x[np.isfinite(x)]


def paired_changes(visits: pd.DataFrame, column: str, *, after: int, before: int = 0, group: str | None = None,
                   patients=None) -> np.ndarray:
    """Per-patient ``column`` at ``after`` minus at ``before`` (patients with both), optionally in one group.

    Examples
    --------
    >>> v = pd.DataFrame({"patient_id": ["a", "a", "b", "b", "c"], "week": [0, 4, 0, 4, 0],
    ...                   "group": ["R"] * 5, "x": [1.0, 3.0, 2.0, 2.5, 1.0]})
    >>> paired_changes(v, "x", after=4).tolist()
    [2.0, 0.5]
    """
    if column not in visits.columns:
        return np.array([], dtype=float)
    # numpy, not a pivot table: the claims call this a hundred times per cohort (the same result as
    # ``pivot_table(index="patient_id", columns="week", aggfunc="first")`` and a difference; tested)
    week = visits["week"].to_numpy()
    keep = (week == before) | (week == after)
    if group is not None:
        keep &= visits["group"].to_numpy(object) == group
    if patients is not None:
        keep &= visits["patient_id"].isin(list(patients)).to_numpy()
    y = pd.to_numeric(visits[column].to_numpy()[keep], errors="coerce").astype(float)
    week, ids = week[keep], visits["patient_id"].to_numpy()[keep]
    codes, _ = pd.factorize(ids, sort=True)
    n = int(codes.max()) + 1 if codes.size else 0

    def first(at):  # each patient's first non-missing value at week ``at`` (NaN when none)
        out = np.full(n, np.nan)
        idx = np.flatnonzero((week == at) & ~np.isnan(y))[::-1]
        out[codes[idx]] = y[idx]  # later rows written first, so the first row wins
        return out

    d = first(after) - first(before)
    return d[np.isfinite(d)]


# --------------------------------------------------------------------------------------------- log
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
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 0.5:
            raise ValueError(f"`alpha` is {alpha!r}; a number strictly between 0 and 0.5 is required")
        registry = load_published() if published is None else published
        registry = registry.copy()
        for col, default in (("basis", "empirical"), ("basis_reason", ""), ("quote", "")):
            if col not in registry.columns:
                registry[col] = default
        missing_cols = set(COLUMNS) - set(registry.columns)
        if missing_cols:
            raise ValueError(f"`published` lacks columns {sorted(missing_cols)}; expected {list(COLUMNS)}")
        self.chapter = chapter
        self.alpha = float(alpha)
        self._claims = registry.loc[registry["chapter"] == chapter, list(COLUMNS)].set_index("claim_id", drop=False)
        self._rows: dict[str, dict] = {}

    # ---- internals
    def _claim(self, claim_id: str, kinds: tuple[str, ...] | None = None) -> pd.Series:
        """Return the registry row of ``claim_id``; check chapter and kind."""
        if claim_id not in self._claims.index:
            raise KeyError(
                f"`claim_id` {claim_id!r} is not a claim of chapter {self.chapter!r} in the registry "
                f"(data/published/claims/{self.chapter}.csv)"
            )
        claim = self._claims.loc[claim_id]
        if kinds is not None and claim["kind"] not in kinds:
            raise ValueError(
                f"claim {claim_id!r} has kind {claim['kind']!r}; this check accepts kinds {', '.join(kinds)}"
            )
        return claim

    def _record(self, claim: pd.Series, reproduced: str, verdict: str, rule: str) -> str:
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

    def _expected_side(self, claim: pd.Series, expected: str | None) -> str:
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
        lo, hi = _wilson(int(successes), int(total), conf)
        verdict = REPRODUCED if lo - _EPS <= expected <= hi + _EPS else NOT_REPRODUCED
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
        verdict = REPRODUCED if abs(p_hat - expected) <= tolerance + _EPS else NOT_REPRODUCED
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
        if any(_is_nan(v) for v in (estimate, low, high)):
            return self._record(claim, "interval could not be computed" + (f"; {detail}" if detail else ""),
                                NOT_TESTABLE, rule)
        text = f"{_direction_word(estimate)} ({_fmt_num(estimate)}), {_fmt_ci(low, high, conf)}"
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
        if _is_nan(estimate) or _is_nan(p):
            return self._record(claim, "estimate or p could not be computed", NOT_TESTABLE, rule)
        text = f"{_direction_word(estimate)} ({_fmt_num(estimate)}), {_fmt_p(p)}" + (f"; {detail}" if detail else "")
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
            rule = (f"TOST: reproduced if the {100 * (1 - 2 * self.alpha):.4g} % CI lies within ±{_fmt_num(margin)} "
                    f"(margin {margin_source}); not reproduced if the {100 * (1 - self.alpha):.4g} % CI lies wholly "
                    "beyond the margin; inconclusive otherwise")
        else:
            bound = "lower" if one_sided == "no_decrease" else "upper"
            rule = (f"one-sided test: reproduced if the {bound} bound of the {100 * (1 - 2 * self.alpha):.4g} % CI "
                    f"lies {'above −' if one_sided == 'no_decrease' else 'below '}{_fmt_num(margin)} (margin "
                    f"{margin_source}); not reproduced if the {100 * (1 - self.alpha):.4g} % CI lies wholly beyond "
                    "it; inconclusive otherwise")
        if any(v is None or _is_nan(v) for v in (estimate, low, high, wide_low, wide_high, margin)) or margin <= 0:
            return self._record(claim, "interval or margin could not be computed", NOT_TESTABLE, rule)
        text = (f"{_fmt_num(estimate)}, {_fmt_ci(low, high, 1 - 2 * self.alpha)}, margin ±{_fmt_num(margin)}")
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
            text = (_fmt_p(p) if not _is_nan(p) else "p could not be computed") + (f"; {detail}" if detail else "")
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
        """
        claim = self._claim(claim_id)
        return self._record(claim, "", NOT_TESTABLE, f"not testable: {reason}")

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
        gone = [c for c in columns if c not in data.columns or not data[c].notna().any()]
        if gone:
            self.not_testable(claim_id, f"the data lack the column(s) {', '.join(gone)}")
        return gone

    def not_in_design(self, claim_id: str, paper_week: int, design) -> str:
        """Record "not testable": this design has no visit playing the part of the paper's ``paper_week``.

        Examples
        --------
        >>> from analysis.design import Design
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
        for w in weeks:
            ref = values_at(visits, column, week=w, group=reference)
            cis = [welch_ci(ref, values_at(visits, column, week=w, group=o), conf) for o in others]
            if any(_is_nan(c[1]) for c in cis):
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
                f"{'first such' if good else 'most favourable'} week {w}, smaller of the differences: {_fmt_num(c[0])}, "
                f"{_fmt_ci(c[1], c[2], conf)}")
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
        parts, on, off = [], 0, 0
        for lab, v in items:
            est, lo, hi, n = mean_ci(v, conf)
            if _is_nan(lo):
                parts.append(f"{lab}: n = {n}")
                continue
            parts.append(f"{lab}: {_fmt_num(est)} [{_fmt_num(lo)}, {_fmt_num(hi)}], n = {n}")
            up, down = lo > 0, hi < 0
            on += (up if side == "increase" else down)
            off += (down if side == "increase" else up)
        if not any("[" in p for p in parts):
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
                f"±{'margin' if _is_nan(margin) else _fmt_num(margin)} (margin {margin_source}; intersection–union, no correction needed); "
                f"not reproduced if some {100 * (1 - self.alpha / m):.4g} % CI (Bonferroni over {m}) lies wholly "
                "beyond the margin; inconclusive otherwise")
        own = all(len(item) > 3 for item in items)
        if not items or (not own and (_is_nan(margin) or margin <= 0)):
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
            if _is_nan(lo) or _is_nan(mg) or mg <= 0:
                return self._record(claim, f"{lab}: fewer than 2 values or no margin", NOT_TESTABLE, rule)
            ok = ok and lo > -mg and hi < mg
            bad = bad or wlo > mg or whi < -mg
            used = max(abs(lo), abs(hi)) / mg
            if worst is None or used > worst[0]:
                worst = (used, lab, est, lo, hi, mg)
        _, lab, est, lo, hi, mg = worst
        text = (f"closest to its margin: {lab}: {_fmt_num(est)}, {_fmt_ci(lo, hi, 1 - 2 * self.alpha)}, margin "
                f"±{_fmt_num(mg)}; {m} comparison(s)")
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
        z = float(_special().ndtri(0.5 + conf / 2))
        rule = (f"{method.title()} r within each group; reproduced if every {100 * conf:.4g} % Fisher-z CI lies "
                f"{'above' if sign > 0 else 'below'} 0 and r {'≥' if sign > 0 else '≤'} {sign * strength:g}; "
                f"not reproduced if some CI excludes that strength; inconclusive otherwise (Bonferroni over {m})")
        parts, good, bad, any_ok = [], True, False, False
        for lab, x, y in items:
            d = pd.DataFrame({"x": pd.to_numeric(pd.Series(list(x)), errors="coerce"),
                              "y": pd.to_numeric(pd.Series(list(y)), errors="coerce")}).dropna()
            n = len(d)
            if n < 4 or d["x"].std() == 0 or d["y"].std() == 0:
                parts.append(f"{lab}: n = {n}")
                good = False
                continue
            r = float(d["x"].corr(d["y"], method=method))
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
        lo, hi = _wilson(int(successes), int(total), conf)
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
    def table(self) -> pd.DataFrame:
        """The judged claims, in registry order, columns :data:`TABLE_COLUMNS`.

        Examples
        --------
        >>> ClaimLog("audit").table().shape[1] == len(TABLE_COLUMNS)
        True
        """
        order = [cid for cid in self._claims.index if cid in self._rows]
        return pd.DataFrame([self._rows[cid] for cid in order], columns=list(TABLE_COLUMNS))

    def missing(self, *, second_look: bool = True) -> list[str]:
        """Claims of this chapter not yet judged, in registry order.

        ``second_look=False`` leaves out the "A second look" claims (ids ``*.second_look_*``), which
        :func:`analysis.second_look.judge` records, not the chapter's ``judge_claims``.

        Examples
        --------
        >>> log = ClaimLog("immune")
        >>> len(log.missing()) == int((load_published()["chapter"] == "immune").sum())
        True
        >>> any(".second_look_" in c for c in log.missing(second_look=False))
        False
        """
        return [cid for cid in self._claims.index
                if cid not in self._rows and (second_look or ".second_look_" not in cid)]

    def full_table(self) -> pd.DataFrame:
        """Every claim of the chapter exactly once; unjudged ones are "not testable with these data".

        Examples
        --------
        >>> log = ClaimLog("immune")
        >>> bool((log.full_table()["verdict"] == "not testable with these data").all())
        True
        """
        rows = []
        for cid, claim in self._claims.iterrows():
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


# --------------------------------------------------------------------------------------------- scorecard
#: the chapter whose claims are about the paper's own arithmetic, not about data (listed apart in the scorecard)
PAPER_CHECK_CHAPTERS: tuple[str, ...] = ("audit",)


def collect(results_dir: str | Path) -> pd.DataFrame:
    """Concatenate ``<chapter>/claims.csv`` of every chapter present, ordered by chapter and claim id.

    Parameters
    ----------
    results_dir : str or Path
        The ``results`` folder (holding ``<chapter>/claims.csv``), or the output folder that
        contains it (``<output_dir>/results`` is used when present).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TABLE_COLUMNS`; empty when no chapter has written its claims.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = ClaimLog("immune").write(tmp)
    ...     _ = ClaimLog("safety").write(tmp)
    ...     collect(tmp)["chapter"].unique().tolist()
    ['safety', 'immune']
    """
    folder = Path(results_dir)
    if (folder / "results").is_dir():
        folder = folder / "results"
    frames = [
        pd.read_csv(folder / ch / "claims.csv", dtype=str, keep_default_na=False, encoding="utf-8")
        for ch in CHAPTERS
        if (folder / ch / "claims.csv").is_file()
    ]
    if not frames:
        return pd.DataFrame(columns=list(TABLE_COLUMNS))
    claims = pd.concat(frames, ignore_index=True).reindex(columns=list(TABLE_COLUMNS), fill_value="")
    order = claims["chapter"].map({ch: i for i, ch in enumerate(CHAPTERS)})
    claims = claims.assign(_order=order).sort_values(["_order", "claim_id"], kind="stable")
    return claims.drop(columns="_order").reset_index(drop=True)


def summary(claims: pd.DataFrame, *, by: str = "verdict") -> pd.DataFrame:
    """Count claims by chapter and verdict (or basis), with a final ``Total`` row.

    Parameters
    ----------
    by : {"verdict", "basis"}

    Returns
    -------
    pandas.DataFrame
        Columns ``chapter``, one per verdict in :data:`VERDICTS` (or basis in :data:`BASES`), ``total``.

    Examples
    --------
    >>> claims = pd.DataFrame({"chapter": ["safety", "safety", "ifng"],
    ...                        "verdict": ["reproduced", "inconclusive", "reproduced"]})
    >>> summary(claims).to_dict("records")[-1]["inconclusive"]
    1
    """
    if by not in ("verdict", "basis"):
        raise ValueError(f"`by` is {by!r}; allowed: 'verdict', 'basis'")
    levels = VERDICTS if by == "verdict" else BASES
    for col in ("chapter", by):
        if col not in claims.columns:
            raise ValueError(f"`claims` lacks column {col!r}; it needs 'chapter' and {by!r}")
    unknown = set(claims[by]) - set(levels)
    if unknown:
        raise ValueError(f"`claims` has {by} values {sorted(unknown)}; allowed: {', '.join(levels)}")
    chapters = [ch for ch in CHAPTERS if ch in set(claims["chapter"])]
    chapters += sorted(set(claims["chapter"]) - set(CHAPTERS))
    counts = pd.crosstab(claims["chapter"], claims[by]).reindex(index=chapters, columns=list(levels), fill_value=0)
    counts = counts.astype(int)
    counts.loc["Total"] = counts.sum()
    counts["total"] = counts.sum(axis=1)
    counts.columns.name = None
    return counts.rename_axis("chapter").reset_index()


def read_claims(results_dir: str | Path) -> pd.DataFrame:
    """The book's claims table: ``results_dir/claims.csv`` as the build wrote it, else collected afresh.

    Examples
    --------
    >>> import tempfile
    >>> read_claims(tempfile.mkdtemp()).empty
    True
    """
    results_dir = Path(results_dir)
    path = results_dir / "claims.csv"
    if path.is_file():
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    return collect(results_dir)


def evidence_claims(claims: pd.DataFrame) -> pd.DataFrame:
    """The claims the headline percentage counts: empirical basis, a data chapter, and testable verdict.

    Testable means reproduced, not reproduced or inconclusive; claims that hold by construction, rest on
    interpretation, are not testable, or check the paper's own arithmetic (:data:`PAPER_CHECK_CHAPTERS`)
    are listed apart.

    Examples
    --------
    >>> c = pd.DataFrame({"chapter": ["safety", "safety", "audit"], "basis": ["empirical"] * 3,
    ...                   "verdict": ["reproduced", "holds by construction", "reproduced"]})
    >>> len(evidence_claims(c))
    1
    """
    basis = claims["basis"] if "basis" in claims.columns else pd.Series("empirical", index=claims.index)
    keep = (basis.eq("empirical") & ~claims["chapter"].isin(PAPER_CHECK_CHAPTERS)
            & claims["verdict"].isin([REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE]))
    return claims.loc[keep]


def scorecard_facts(claims: pd.DataFrame) -> dict:
    """The numbers the scorecard states in prose, from the claims table (plain Python values).

    ``pct_reproduced`` is the share of the :func:`evidence_claims` (empirical, testable, about data)
    that were reproduced; every other claim is counted apart.

    Examples
    --------
    >>> claims = pd.DataFrame({"chapter": ["safety", "safety", "ifng", "ifng"],
    ...                        "basis": ["empirical", "empirical", "by construction", "empirical"],
    ...                        "verdict": ["reproduced", "inconclusive", "holds by construction",
    ...                                    "not testable with these data"]})
    >>> f = scorecard_facts(claims)
    >>> f["n_evidence"], f["n_evidence_reproduced"], f["pct_reproduced"], f["n_by_construction"]
    (2, 1, '50 %', 1)
    """
    verdict = claims["verdict"]
    basis = claims["basis"] if "basis" in claims.columns else pd.Series("empirical", index=claims.index)
    ev = evidence_claims(claims)
    n_ev, n_ev_rep = len(ev), int(ev["verdict"].eq(REPRODUCED).sum())
    paper = claims["chapter"].isin(PAPER_CHECK_CHAPTERS)
    return {
        "n_claims": int(len(claims)),
        "n_chapters": int(claims["chapter"].nunique()),
        "n_reproduced": int(verdict.eq(REPRODUCED).sum()),
        "n_not_reproduced": int(verdict.eq(NOT_REPRODUCED).sum()),
        "n_inconclusive": int(verdict.eq(INCONCLUSIVE).sum()),
        "n_by_construction": int(verdict.eq(BY_CONSTRUCTION).sum()),
        "n_not_testable": int(verdict.eq(NOT_TESTABLE).sum()),
        "n_empirical": int(basis.eq("empirical").sum()),
        "n_basis_construction": int(basis.eq("by construction").sum()),
        "n_interpretation": int(basis.eq("interpretation").sum()),
        "n_evidence": n_ev,
        "n_evidence_reproduced": n_ev_rep,
        "n_evidence_not_reproduced": int(ev["verdict"].eq(NOT_REPRODUCED).sum()),
        "n_evidence_inconclusive": int(ev["verdict"].eq(INCONCLUSIVE).sum()),
        "n_paper_checks": int(paper.sum()),
        "n_paper_checks_hold": int((paper & verdict.eq(REPRODUCED)).sum()),
        "pct_reproduced": f"{100 * n_ev_rep / n_ev:.0f} %" if n_ev else "–",
    }


def verdicts_long(counts: pd.DataFrame) -> pd.DataFrame:
    """A :func:`summary` table in long form (``chapter, verdict, n``), without the total, for a bar chart.

    Examples
    --------
    >>> claims = pd.DataFrame({"chapter": ["safety"], "verdict": ["reproduced"]})
    >>> verdicts_long(summary(claims))["n"].tolist()
    [1, 0, 0, 0, 0]
    """
    long = counts[counts["chapter"] != "Total"].melt(id_vars="chapter", value_vars=list(VERDICTS),
                                                       var_name="verdict", value_name="n")
    return long.assign(verdict=pd.Categorical(long["verdict"], categories=list(VERDICTS)))
