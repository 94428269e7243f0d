"""The audit chapter's verdicts: its claims about the paper's own numbers, and a headless run.

* :func:`judge_consistency` — the consistency checks (counts that add up, percentages that follow from them);
* :func:`judge_claims` — those, and the caption's reading of Table 1 ("±" as SEM, Student t test);
* :func:`evaluate` — the claims table without the notebook (it depends on the published values and alpha
  only, so it is computed once per registry and alpha).
"""
from __future__ import annotations

import pandas as pd

from analysis.chapters.audit.analysis import consistency_checks, load_table1, reading_agreement, table1_tests
from analysis.claims import registry
from analysis.claims.log import ClaimLog
from analysis.core.notebooks import chapter_params

__all__ = ["evaluate", "judge_claims", "judge_consistency"]


def judge_consistency(checks: pd.DataFrame, log) -> pd.DataFrame:
    """Record each consistency check as a verdict on the matching audit claim of ``log``.

    Percentage checks go through ``log.check_proportion(check_id, k, n)`` (the registry's tolerance is
    the rounding half-unit), sums and differences through ``log.check_count``, the subset check through
    ``log.check_true``.

    Parameters
    ----------
    checks : pandas.DataFrame
        Output of :func:`~analysis.chapters.audit.analysis.consistency_checks`.
    log : analysis.claims.log.ClaimLog
        The audit chapter's claim log.

    Returns
    -------
    pandas.DataFrame
        ``check_id`` and ``verdict``.

    Examples
    --------
    >>> from analysis.claims.registry import load_published
    >>> log = ClaimLog("audit")
    >>> out = judge_consistency(consistency_checks(load_published()), log)
    >>> len(out) == len(log.table())
    True
    """
    verdicts = []
    for _, row in checks.iterrows():
        cid = row["check_id"]
        if not pd.isna(row["k"]):
            verdict = log.check_proportion(cid, int(row["k"]), int(row["n"]))
        elif isinstance(row.get("rule"), str) and row["rule"]:
            verdict = log.check_true(cid, bool(row["consistent"]),
                                     row["computed"] + (f"; {row['note']}" if row["note"] else ""), rule=row["rule"])
        else:
            verdict = log.check_count(cid, int(row["computed_value"]))
        verdicts.append({"check_id": cid, "verdict": verdict})
    return pd.DataFrame(verdicts, columns=["check_id", "verdict"])


def judge_claims(log, checks: pd.DataFrame, agreement: pd.DataFrame) -> pd.DataFrame:
    """Judge every claim of the audit chapter on a :class:`analysis.claims.log.ClaimLog`.

    The consistency checks (:func:`judge_consistency`), then the caption's reading of Table 1: how many
    comparisons are significant reading "±" as SEM with an independent Student t test
    (``audit.table1_n_significant``), and whether that reading agrees with every star of the table
    (``audit.table1_caption_reading``).

    Parameters
    ----------
    log : analysis.claims.log.ClaimLog
        The audit chapter's log (``page.claims``).
    checks : pandas.DataFrame
        :func:`~analysis.chapters.audit.analysis.consistency_checks` output.
    agreement : pandas.DataFrame
        :func:`~analysis.chapters.audit.analysis.reading_agreement` of the Table 1 tests.

    Returns
    -------
    pandas.DataFrame
        ``log.table()`` after judging.

    Examples
    --------
    >>> from analysis.chapters.audit.analysis import consistency_checks, load_table1, reading_agreement, table1_tests
    >>> from analysis.claims.registry import load_published
    >>> table1 = load_table1()
    >>> log = ClaimLog("audit")
    >>> checks, agreement = consistency_checks(load_published(), table1), reading_agreement(table1_tests(table1))
    >>> t = judge_claims(log, checks, agreement)
    >>> log.missing(), t.set_index("claim_id").loc["audit.table1_caption_reading", "verdict"]
    ([], 'not reproduced')
    """
    judge_consistency(checks, log)
    indep = agreement[agreement["test"] != "paired"].set_index(["reading", "test"])
    caption_reading = indep.loc[("SEM", "Student")]
    log.check_count("audit.table1_n_significant", int(caption_reading["significant"]))
    log.check_true(
        "audit.table1_caption_reading", bool(caption_reading["all_agree"]),
        f"± = SEM, Student t test: {int(caption_reading['agree'])} of {int(caption_reading['comparisons'])} stars agree",
        rule="reproduced if, reading ± as SEM, an independent Student t test agrees with every star of Table 1",
    )
    return log.table()


# --------------------------------------------------------------------------------------------- headless
def evaluate(cohort=None, params: dict | None = None) -> pd.DataFrame:
    """The audit chapter's claims (they depend on the published values only; ``cohort`` is ignored).

    Parameters
    ----------
    cohort : ignored
        Accepted so that every chapter is evaluated the same way.
    params : dict, optional
        ``alpha`` overriding the notebook's default (:func:`analysis.core.notebooks.chapter_params`).

    Returns
    -------
    pandas.DataFrame
        The claims table (:data:`analysis.claims.registry.TABLE_COLUMNS`), every claim of the chapter once.

    Examples
    --------
    >>> evaluate()["claim_id"].str.startswith("audit.").all()
    np.True_
    """
    p = chapter_params("audit", params)
    alpha = p["alpha"]
    published = registry.published()
    # the claims depend on the published numbers and alpha only, not on the cohort: a robustness run asks
    # for the same table hundreds of times, so it is computed once per registry and alpha
    key = (float(alpha), id(published))
    if key not in _EVALUATED:
        _EVALUATED[key] = (published, _claims_table(published, alpha))  # the registry is kept: its id stays unique
    return _EVALUATED[key][1].copy()


#: (alpha, id of the registry) -> (registry, claims table) of :func:`evaluate`.
_EVALUATED: dict = {}


def _claims_table(published: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """The audit chapter's claims table, as the notebook judges them (see :func:`evaluate`)."""
    table1 = load_table1()
    checks = consistency_checks(published, table1)
    tests = table1_tests(table1, alpha=alpha)
    agreement = reading_agreement(tests)
    claims = ClaimLog.for_chapter("audit", alpha)
    judge_claims(claims, checks, agreement)
    return claims.full_table()
