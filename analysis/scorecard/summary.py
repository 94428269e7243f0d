"""The scorecard's tables: every chapter's ``claims.csv`` collected, counted by verdict and by basis."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.claims.registry import (
    BASES,
    BY_CONSTRUCTION,
    CHAPTERS,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_TESTABLE,
    REPRODUCED,
    TABLE_COLUMNS,
    VERDICTS,
)


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
    >>> from analysis.claims.log import ClaimLog
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
