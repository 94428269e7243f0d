"""The published claims registry and the rules that judge each claim.

Every claim of Yang et al. 2018 lives as one row in ``data/published/claims/<chapter>.csv``.
A chapter judges its claims through a :class:`ClaimLog`; each check states its rule in words and
returns one of :data:`VERDICTS`. :meth:`ClaimLog.write` writes ``results/<chapter>/claims.csv`` with
every claim of the chapter exactly once, and :func:`collect` / :func:`summary` build the scorecard.

Registry columns
----------------
``claim_id`` (unique), ``chapter`` (one of :data:`CHAPTERS`, equal to the file name), ``claim``,
``location``, ``published`` (as printed), ``kind`` (one of :data:`KINDS`), ``expected`` (machine-readable,
see :data:`EXPECTED`), ``tolerance`` (absolute, only for proportions).
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .chapters import CLAIM_CHAPTERS

__all__ = [
    "CHAPTERS",
    "COLUMNS",
    "EXPECTED",
    "KINDS",
    "TABLE_COLUMNS",
    "VERDICTS",
    "ClaimLog",
    "collect",
    "load_published",
    "read_claims",
    "scorecard_facts",
    "summary",
    "verdicts_long",
]

VERDICTS: tuple[str, ...] = ("reproduced", "not reproduced", "not testable with these data")
REPRODUCED, NOT_REPRODUCED, NOT_TESTABLE = VERDICTS

#: chapters with a claims file, in reading order (from the book's one chapter registry)
CHAPTERS: tuple[str, ...] = CLAIM_CHAPTERS
COLUMNS: tuple[str, ...] = (
    "claim_id", "chapter", "claim", "location", "published", "kind", "expected", "tolerance",
)
TABLE_COLUMNS: tuple[str, ...] = (
    "chapter", "claim_id", "claim", "location", "published", "reproduced", "verdict", "rule",
)
KINDS: tuple[str, ...] = ("count", "proportion", "direction", "significant", "not_significant", "qualitative")

#: values allowed in ``expected`` for each kind (``None``: a number / free text, checked separately)
EXPECTED: dict[str, tuple[str, ...] | None] = {
    "count": None,
    "proportion": None,
    "direction": ("increase", "decrease", "no_change"),
    "significant": ("p<alpha", "increase", "decrease"),
    "not_significant": ("p>=alpha", "no_change", "increase", "decrease"),
    "qualitative": None,
}

_DEFAULT_DIR = Path(__file__).resolve().parents[1] / "data" / "published"
_EPS = 1e-9  # floating-point slack so that a proportion exactly at the tolerance counts as reproduced


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
            value, tolerance = float(expected), float(tol)
        except ValueError:
            return f"`expected`/`tolerance` are {expected!r}/{tol!r}; a proportion needs two numbers"
        if not (0 <= value <= 1 and 0 <= tolerance < 1):
            return f"`expected`/`tolerance` are {expected!r}/{tol!r}; both must lie in [0, 1]"
    elif EXPECTED[kind] is not None and expected not in EXPECTED[kind]:
        return f"`expected` is {expected!r}; allowed for kind {kind!r}: {', '.join(EXPECTED[kind])}"
    if kind != "proportion" and tol:
        return f"`tolerance` is {tol!r}; only a proportion has a tolerance"
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


# --------------------------------------------------------------------------------------------- formatting
def _fmt_p(p: float) -> str:
    """Format a p-value as short text: ``p < 0.001`` or ``p = 0.034``."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _fmt_num(x: float) -> str:
    """Format a number with three significant digits (``-1.23``, ``0.0456``)."""
    return f"{x:.3g}"


def _direction_word(estimate: float) -> str:
    """Return ``increase``, ``decrease`` or ``no change`` for the sign of ``estimate``."""
    return "increase" if estimate > 0 else "decrease" if estimate < 0 else "no change"


def _is_nan(x: float | None) -> bool:
    """True for a float NaN (``None`` is not NaN)."""
    return x is not None and isinstance(x, (int, float)) and math.isnan(float(x))


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
        Significance level of the verdict rules (``p < alpha`` is significant; ``p == alpha`` is not).

    Notes
    -----
    Each ``check_*`` method records one row for a ``claim_id`` of this chapter (``KeyError`` otherwise),
    returns the verdict, and replaces an earlier row for the same claim.

    Examples
    --------
    >>> log = ClaimLog("disease_activity")
    >>> log.check_count("activity.responders_n", 28)
    'reproduced'
    >>> log.check_proportion("activity.response_rate", 20, 52)
    'not reproduced'
    >>> log.table().loc[1, ["reproduced", "rule"]].tolist()
    ['0.38 (20/52)', 'reproduced if |p̂ − 0.54| ≤ 0.1']
    """

    def __init__(self, chapter: str, published: pd.DataFrame | None = None, alpha: float = 0.05):
        if chapter not in CHAPTERS:
            raise ValueError(f"`chapter` is {chapter!r}; allowed: {', '.join(CHAPTERS)}")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
            raise ValueError(f"`alpha` is {alpha!r}; a number strictly between 0 and 1 is required")
        registry = load_published() if published is None else published
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
        self._rows[claim["claim_id"]] = {
            "chapter": self.chapter,
            "claim_id": claim["claim_id"],
            "claim": claim["claim"],
            "location": claim["location"],
            "published": claim["published"],
            "reproduced": reproduced,
            "verdict": verdict,
            "rule": rule,
        }
        return verdict

    # ---- checks
    def check_count(self, claim_id: str, reproduced: int) -> str:
        """Reproduced if the count equals the published count.

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
        return self._record(claim, str(value), verdict, f"reproduced if the count equals {expected}")

    def check_proportion(self, claim_id: str, successes: int, total: int) -> str:
        """Reproduced if ``|successes/total − expected| <= tolerance``.

        Examples
        --------
        >>> ClaimLog("disease_activity").check_proportion("activity.response_rate", 28, 52)
        'reproduced'
        """
        claim = self._claim(claim_id, ("proportion",))
        if total <= 0 or not 0 <= successes <= total:
            raise ValueError(f"`successes`/`total` are {successes!r}/{total!r}; need 0 <= successes <= total, total > 0")
        expected, tolerance = float(claim["expected"]), float(claim["tolerance"])
        p_hat = successes / total
        verdict = REPRODUCED if abs(p_hat - expected) <= tolerance + _EPS else NOT_REPRODUCED
        rule = f"reproduced if |p̂ − {expected:g}| ≤ {tolerance:g}"
        return self._record(claim, f"{p_hat:.2f} ({successes}/{total})", verdict, rule)

    def check_direction(self, claim_id: str, *, estimate: float, p: float | None = None, detail: str = "") -> str:
        """Judge a claimed change (``estimate`` = after − before, or group difference, or correlation).

        Rules by the registry's ``kind`` and ``expected``:

        * ``expected`` increase/decrease, kind ``direction``: only the sign of ``estimate``;
        * kind ``significant``: the sign **and** ``p < alpha`` (``p`` is required);
        * kind ``not_significant`` with a direction: the sign **and** ``p >= alpha``;
        * ``expected`` no_change / p>=alpha: ``p >= alpha``; ``p<alpha``: ``p < alpha``.

        A NaN ``estimate`` or ``p`` gives "not testable with these data".

        Examples
        --------
        >>> log = ClaimLog("disease_activity")
        >>> log.check_direction("activity.das28_decrease_responders_12w", estimate=-2.1, p=0.003)
        'reproduced'
        >>> log.table().loc[0, "reproduced"]
        'decrease (-2.1), p = 0.003'
        """
        claim = self._claim(claim_id, ("direction", "significant", "not_significant"))
        kind, expected = claim["kind"], claim["expected"]
        needs_p = kind in ("significant", "not_significant") or expected == "no_change"
        if needs_p and p is None:
            raise ValueError(f"`p` is None; claim {claim_id!r} (kind {kind!r}, expected {expected!r}) needs a p-value")
        text = f"{_direction_word(estimate)} ({_fmt_num(estimate)})" if not _is_nan(estimate) else "no estimate"
        if p is not None and not _is_nan(p):
            text += f", {_fmt_p(p)}"
        if detail:
            text += f"; {detail}"
        # the rule in words, then the verdict
        parts = []
        if expected in ("increase", "decrease"):
            parts.append(f"the change is {'an' if expected == 'increase' else 'a'} {expected}")
        if kind == "significant" or expected == "p<alpha":
            parts.insert(0, f"p < {self.alpha:g}")
        elif kind == "not_significant" or expected == "no_change":
            parts.insert(0, f"p ≥ {self.alpha:g}")
        rule = "reproduced if " + " and ".join(parts)
        if _is_nan(estimate) or (p is not None and _is_nan(p)):
            return self._record(claim, text, NOT_TESTABLE, rule + " (estimate or p could not be computed)")
        holds = True
        if expected in ("increase", "decrease"):
            holds = estimate > 0 if expected == "increase" else estimate < 0
        if kind == "significant" or expected == "p<alpha":
            holds = holds and p < self.alpha
        elif kind == "not_significant" or expected == "no_change":
            holds = holds and p >= self.alpha
        return self._record(claim, text, REPRODUCED if holds else NOT_REPRODUCED, rule)

    def check_significance(self, claim_id: str, *, p: float, estimate: float | None = None, detail: str = "") -> str:
        """Kind ``significant``: reproduced if ``p < alpha``; kind ``not_significant``: if ``p >= alpha``.

        When ``estimate`` is given and the registry expects an increase/decrease, the sign must match too.

        Examples
        --------
        >>> log = ClaimLog("immune", alpha=0.05)
        >>> log.check_significance("immune.rf_not_significant", p=0.05)
        'reproduced'
        """
        claim = self._claim(claim_id, ("significant", "not_significant"))
        if estimate is not None:
            return self.check_direction(claim_id, estimate=estimate, p=p, detail=detail)
        significant = claim["kind"] == "significant"
        rule = f"reproduced if p {'<' if significant else '≥'} {self.alpha:g}"
        if _is_nan(p):
            return self._record(claim, "p could not be computed", NOT_TESTABLE, rule)
        text = _fmt_p(p) + (f"; {detail}" if detail else "")
        holds = p < self.alpha if significant else p >= self.alpha
        return self._record(claim, text, REPRODUCED if holds else NOT_REPRODUCED, rule)

    def check_true(self, claim_id: str, holds: bool, reproduced: str, *, rule: str = "") -> str:
        """Record a claim the chapter judged itself (usually ``qualitative``).

        Parameters
        ----------
        holds : bool
            Whether the chapter's computation confirms the claim.
        reproduced : str
            What was found, as short text.
        rule : str, optional
            The rule in words; default "reproduced if the chapter's computation confirms the claim".

        Examples
        --------
        >>> ClaimLog("safety").check_true("safety.fever_max_39c", True, "max 38.6 °C")
        'reproduced'
        """
        claim = self._claim(claim_id)
        return self._record(
            claim,
            str(reproduced),
            REPRODUCED if bool(holds) else NOT_REPRODUCED,
            rule or "reproduced if the chapter's computation confirms the claim",
        )

    def not_testable(self, claim_id: str, reason: str) -> str:
        """Record that the data cannot judge the claim, and why.

        Examples
        --------
        >>> ClaimLog("ifng").not_testable("ifng.ido_in_vitro", "in vitro experiment, no data")
        'not testable with these data'
        """
        claim = self._claim(claim_id)
        return self._record(claim, "", NOT_TESTABLE, f"not testable: {reason}")

    # ---- output
    def table(self) -> pd.DataFrame:
        """The judged claims, in registry order, columns :data:`TABLE_COLUMNS`.

        Examples
        --------
        >>> ClaimLog("audit").table().shape[1]
        8
        """
        order = [cid for cid in self._claims.index if cid in self._rows]
        return pd.DataFrame([self._rows[cid] for cid in order], columns=list(TABLE_COLUMNS))

    def missing(self) -> list[str]:
        """Claims of this chapter not yet judged, in registry order.

        Examples
        --------
        >>> log = ClaimLog("immune")
        >>> len(log.missing()) == int((load_published()["chapter"] == "immune").sum())
        True
        """
        return [cid for cid in self._claims.index if cid not in self._rows]

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
    claims = pd.concat(frames, ignore_index=True)[list(TABLE_COLUMNS)]
    order = claims["chapter"].map({ch: i for i, ch in enumerate(CHAPTERS)})
    claims = claims.assign(_order=order).sort_values(["_order", "claim_id"], kind="stable")
    return claims.drop(columns="_order").reset_index(drop=True)


def summary(claims: pd.DataFrame) -> pd.DataFrame:
    """Count verdicts by chapter, with a final ``Total`` row.

    Returns
    -------
    pandas.DataFrame
        Columns ``chapter``, one per verdict in :data:`VERDICTS`, ``total``.

    Examples
    --------
    >>> claims = pd.DataFrame({"chapter": ["safety", "safety", "ifng"],
    ...                        "verdict": ["reproduced", "not reproduced", "reproduced"]})
    >>> summary(claims).to_dict("records")[-1]
    {'chapter': 'Total', 'reproduced': 2, 'not reproduced': 1, 'not testable with these data': 0, 'total': 3}
    """
    for col in ("chapter", "verdict"):
        if col not in claims.columns:
            raise ValueError(f"`claims` lacks column {col!r}; it needs 'chapter' and 'verdict'")
    unknown = set(claims["verdict"]) - set(VERDICTS)
    if unknown:
        raise ValueError(f"`claims` has verdicts {sorted(unknown)}; allowed: {', '.join(VERDICTS)}")
    chapters = [ch for ch in CHAPTERS if ch in set(claims["chapter"])]
    chapters += sorted(set(claims["chapter"]) - set(CHAPTERS))
    counts = pd.crosstab(claims["chapter"], claims["verdict"]).reindex(index=chapters, columns=list(VERDICTS), fill_value=0)
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


def scorecard_facts(counts: pd.DataFrame) -> dict:
    """The numbers the scorecard states in prose, from a :func:`summary` table (plain Python values).

    ``pct_reproduced`` is the share of *testable* claims (reproduced or not) that were reproduced.

    Examples
    --------
    >>> claims = pd.DataFrame({"chapter": ["safety", "safety", "ifng"],
    ...                        "verdict": ["reproduced", "not testable with these data", "not reproduced"]})
    >>> scorecard_facts(summary(claims))
    {'n_claims': 3, 'n_chapters': 2, 'n_reproduced': 1, 'n_not_reproduced': 1, 'n_not_testable': 1, 'n_testable': 2, 'pct_reproduced': '50 %'}
    """
    total = counts.set_index("chapter").loc["Total"]
    n_testable = int(total["reproduced"] + total["not reproduced"])
    return {
        "n_claims": int(total["total"]),
        "n_chapters": int((counts["chapter"] != "Total").sum()),
        "n_reproduced": int(total["reproduced"]),
        "n_not_reproduced": int(total["not reproduced"]),
        "n_not_testable": int(total["not testable with these data"]),
        "n_testable": n_testable,
        "pct_reproduced": f"{100 * int(total['reproduced']) / n_testable:.0f} %" if n_testable else "–",
    }


def verdicts_long(counts: pd.DataFrame) -> pd.DataFrame:
    """A :func:`summary` table in long form (``chapter, verdict, n``), without the total, for a bar chart.

    Examples
    --------
    >>> claims = pd.DataFrame({"chapter": ["safety"], "verdict": ["reproduced"]})
    >>> verdicts_long(summary(claims))["n"].tolist()
    [1, 0, 0]
    """
    long = counts[counts["chapter"] != "Total"].melt(id_vars="chapter", value_vars=list(VERDICTS),
                                                       var_name="verdict", value_name="n")
    return long.assign(verdict=pd.Categorical(long["verdict"], categories=list(VERDICTS)))
