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

__all__ = ["evaluate", "judge_claims", "judge_consistency", "judge_followup_visits"]


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

    The consistency checks (:func:`judge_consistency`), the Methods' "all patients returned"
    (``activity.followup_visits``, :func:`judge_followup_visits`), then the caption's reading of Table 1: how many
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
    if log.has_claim("activity.followup_visits"):
        judge_followup_visits(log, checks)
    indep = agreement[agreement["test"] != "paired"].set_index(["reading", "test"])
    caption_reading = indep.loc[("SEM", "Student")]
    log.check_count("audit.table1_n_significant", int(caption_reading["significant"]))
    log.check_true(
        "audit.table1_caption_reading", bool(caption_reading["all_agree"]),
        f"± = SEM, Student t test: {int(caption_reading['agree'])} of {int(caption_reading['comparisons'])} stars agree",
        rule="reproduced if, reading ± as SEM, an independent Student t test agrees with every star of Table 1",
    )
    return log.table()


def judge_followup_visits(log, checks: pd.DataFrame) -> str:
    """Judge the Methods' "all patients returned for scheduled follow-up visits" by the paper's own numbers.

    ``activity.followup_visits`` keeps its id but lives in the audit: a data set records the visits it holds,
    not who was scheduled to return, and a missing-data rule that fills visits (LOCF) would make the data
    "attend" every visit. The paper itself reports patients lost to follow-up (the count of the consistency
    check ``audit.all_returned_vs_lost``, non-responders and controls as the Results give them): reproduced
    if that count is 0, not reproduced otherwise.

    Parameters
    ----------
    log : analysis.claims.log.ClaimLog
        The audit chapter's log.
    checks : pandas.DataFrame
        :func:`~analysis.chapters.audit.analysis.consistency_checks` output.

    Returns
    -------
    str
        The verdict.

    Examples
    --------
    >>> checks = pd.DataFrame({"check_id": ["audit.all_returned_vs_lost"], "computed_value": [0.0],
    ...                        "computed": ["lost: 0 no-response + 0 control = 0"]})
    >>> judge_followup_visits(ClaimLog("audit"), checks)
    'reproduced'
    >>> judge_followup_visits(ClaimLog("audit"), checks.assign(computed_value=7.0))
    'not reproduced'
    """
    row = checks.set_index("check_id").loc["audit.all_returned_vs_lost"]
    lost = int(row["computed_value"])
    return log.check_true(
        "activity.followup_visits", lost == 0,
        f"the paper reports {lost} patient(s) lost to follow-up ({row['computed']})",
        rule="the paper's own numbers: reproduced if the Results and Fig. 1 report no patient lost to follow-up; "
             "not reproduced otherwise (a statement about the paper's account, not about a data set's visits)")


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
    >>> t = evaluate()
    >>> sorted(set(t["claim_id"].str.split(".").str[0]))  # the audit's own, and the Methods' attendance sentence
    ['activity', 'audit']
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
