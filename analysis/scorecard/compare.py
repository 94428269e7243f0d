"""Two builds' verdicts side by side (``python -m analysis compare OUT_A OUT_B``), and the shipped default build.

A build writes every claim's verdict to ``OUT/results/claims.csv`` (:func:`analysis.scorecard.summary.read_claims`).
:func:`compare_verdicts` puts two such tables side by side, one row per claim: the same verdict, a changed one,
or a claim judged in one build only. The book ships the claims table of a build on the default data
(``data/default_build/``, refreshed with ``python tools/ship_default_build.py``), so the scorecard of a build
on other data shows what changed against it (:func:`shipped_default`).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

__all__ = ["DEFAULT_BUILD", "STATUSES", "against_default", "compare_verdicts", "count_statuses", "default_build_dir", "read_build_claims",
           "shipped_default", "table_lines"]

#: the row statuses of :func:`compare_verdicts`, in this order
STATUSES = ("same", "changed", "only in A", "only in B")
#: the shipped default build's folder, under the repository root
DEFAULT_BUILD = "data/default_build"
#: the columns a claims table must have to be compared
_NEEDED = ("claim_id", "verdict")


def default_build_dir() -> Path:
    """The folder of the shipped default build's claims table (``data/default_build``).

    Examples
    --------
    >>> default_build_dir().name
    'default_build'
    """
    from analysis.core import paths

    return paths.repo_root() / DEFAULT_BUILD


def read_build_claims(out) -> pd.DataFrame:
    """The claims table of the build in output folder ``out`` (``out/results/claims.csv``).

    ``out`` may also be the ``results`` folder itself, or a folder holding ``claims.csv`` (as the shipped
    default build, :func:`default_build_dir`).

    Raises
    ------
    ValueError
        ``out`` is not a folder, or holds no claims table with ``claim_id`` and ``verdict`` columns (a message
        that says what was looked for).

    Examples
    --------
    >>> read_build_claims(default_build_dir())["verdict"].notna().all()
    np.True_
    """
    folder = Path(out)
    if not folder.is_dir():
        raise ValueError(f"{out}: no such folder (give the --out folder of a build)")
    for candidate in (folder / "results" / "claims.csv", folder / "claims.csv"):
        if candidate.is_file():
            table = pd.read_csv(candidate, dtype=str, keep_default_na=False, encoding="utf-8")
            missing = [c for c in _NEEDED if c not in table.columns]
            if missing:
                raise ValueError(f"{candidate}: not a claims table of a build (no column {', '.join(missing)})")
            return table
    raise ValueError(f"{out}: not the output folder of a build (no results/claims.csv in it); give the --out "
                     "folder of python -m analysis build")


def compare_verdicts(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """One row per claim of either table: its verdict in ``a`` and in ``b``, and whether it changed.

    Parameters
    ----------
    a, b : DataFrame
        Claims tables (``claim_id``, ``verdict``; ``chapter``, ``claim`` and ``reproduced`` when present), e.g.
        :func:`read_build_claims`.

    Returns
    -------
    pandas.DataFrame
        ``chapter``, ``claim_id``, ``claim``, ``verdict_a``, ``verdict_b``, ``reproduced_a``, ``reproduced_b``,
        ``status`` (one of :data:`STATUSES`: "same", "changed", "only in A", "only in B"); ``a``'s claims in
        its order, then those only in ``b``. A claim judged in one table only has "" as its other verdict.

    Examples
    --------
    >>> a = pd.DataFrame({"claim_id": ["x", "y", "z"], "verdict": ["reproduced", "inconclusive", "reproduced"]})
    >>> b = pd.DataFrame({"claim_id": ["x", "y", "w"], "verdict": ["reproduced", "not reproduced", "reproduced"]})
    >>> compare_verdicts(a, b)[["claim_id", "status"]].values.tolist()
    [['x', 'same'], ['y', 'changed'], ['z', 'only in A'], ['w', 'only in B']]
    """
    for name, table in (("a", a), ("b", b)):
        missing = [c for c in _NEEDED if c not in table.columns]
        if missing:
            raise ValueError(f"`{name}` lacks column(s) {', '.join(missing)}; a claims table has claim_id, verdict")
    keep = ["claim_id", "chapter", "claim", "verdict", "reproduced"]

    def side(table: pd.DataFrame) -> pd.DataFrame:
        t = table[[c for c in keep if c in table.columns]].drop_duplicates("claim_id").astype(str)
        for c in keep:
            if c not in t.columns:
                t[c] = ""
        return t[keep].reset_index(drop=True)

    left, right = side(a), side(b)
    merged = left.merge(right, on="claim_id", how="outer", suffixes=("_a", "_b"), indicator=True, sort=False)
    order: dict[str, int] = {}
    for cid in list(left["claim_id"]) + list(right["claim_id"]):
        order.setdefault(cid, len(order))
    merged = merged.assign(_o=merged["claim_id"].map(order)).sort_values("_o", kind="stable")
    status = pd.Series("same", index=merged.index)
    status[merged["_merge"].eq("left_only")] = "only in A"
    status[merged["_merge"].eq("right_only")] = "only in B"
    both = merged["_merge"].eq("both")
    status[both & merged["verdict_a"].ne(merged["verdict_b"])] = "changed"
    out = pd.DataFrame({
        "chapter": merged["chapter_a"].fillna(merged["chapter_b"]).fillna(""),
        "claim_id": merged["claim_id"],
        "claim": merged["claim_a"].where(merged["claim_a"].notna() & merged["claim_a"].ne(""),
                                         merged["claim_b"]).fillna(""),
        "verdict_a": merged["verdict_a"].fillna(""), "verdict_b": merged["verdict_b"].fillna(""),
        "reproduced_a": merged["reproduced_a"].fillna(""), "reproduced_b": merged["reproduced_b"].fillna(""),
        "status": status,
    })
    return out.reset_index(drop=True)


def table_lines(table: pd.DataFrame, *, changed_only: bool = False) -> list[str]:
    """The :func:`compare_verdicts` table as aligned text lines (header first), for the command line.

    With ``changed_only``, only the claims whose status is not "same"; when there is none, one line saying so
    instead of an empty table.

    Examples
    --------
    >>> t = pd.DataFrame({"claim_id": ["x"], "verdict_a": ["reproduced"], "verdict_b": ["reproduced"],
    ...                   "status": ["same"]})
    >>> table_lines(t, changed_only=True)
    ['no verdict differs: every claim has the same verdict in A and B']
    >>> table_lines(t)[1].split()
    ['x', 'reproduced', 'reproduced', 'same']
    """
    shown = table.loc[table["status"].ne("same")] if changed_only else table
    if shown.empty:
        return (["no verdict differs: every claim has the same verdict in A and B"] if len(table) else
                ["no claim in either build"])
    width = {c: max([len(h)] + [len(x) for x in shown[c]])
             for c, h in (("claim_id", "claim"), ("verdict_a", "verdict A"), ("verdict_b", "verdict B"))}
    lines = [f"{'claim':<{width['claim_id']}}  {'verdict A':<{width['verdict_a']}}  "
             f"{'verdict B':<{width['verdict_b']}}  status"]
    for row in shown.itertuples():
        lines.append(f"{row.claim_id:<{width['claim_id']}}  {row.verdict_a or '-':<{width['verdict_a']}}  "
                     f"{row.verdict_b or '-':<{width['verdict_b']}}  {row.status}")
    return lines


def count_statuses(table: pd.DataFrame) -> dict[str, int]:
    """How many claims of a :func:`compare_verdicts` table have each status (every status, 0 when none).

    Examples
    --------
    >>> count_statuses(pd.DataFrame({"status": ["same", "same", "changed"]}))
    {'same': 2, 'changed': 1, 'only in A': 0, 'only in B': 0}
    """
    counts = table["status"].value_counts()
    return {s: int(counts.get(s, 0)) for s in STATUSES}


def shipped_default(folder=None) -> tuple[pd.DataFrame, dict] | None:
    """The shipped default build: its claims table and its ``run.json`` (command, date, commit, data hash), or
    None when this copy of the book has none.

    Examples
    --------
    >>> claims, run = shipped_default()
    >>> run["data_folder"], len(run["data_hash"])
    ('data/synthetic', 64)
    """
    folder = Path(folder) if folder is not None else default_build_dir()
    if not (folder / "claims.csv").is_file():
        return None
    run_path = folder / "run.json"
    run = json.loads(run_path.read_text("utf-8")) if run_path.is_file() else {}
    return read_build_claims(folder), run


def against_default(claims: pd.DataFrame, *, data_fingerprint: str, data_name: str,
                    default: tuple[pd.DataFrame, dict] | None = None) -> tuple[str, pd.DataFrame]:
    """The scorecard's words on this build's verdicts against the shipped default build, and the rows that differ.

    Parameters
    ----------
    claims : DataFrame
        This build's claims table.
    data_fingerprint, data_name : str
        This build's data: :func:`analysis.intake.io.fingerprint` of its folder, and the folder's name.
    default : (DataFrame, dict), optional
        The default build's claims and ``run.json`` (default: :func:`shipped_default`).

    Returns
    -------
    (str, DataFrame)
        Markdown text, and the claims whose verdict differs or that only one build judged (``chapter``,
        ``claim_id``, ``claim``, ``default build``, ``this build``, ``status``).

    Examples
    --------
    >>> mine = pd.DataFrame({"claim_id": ["x", "y"], "verdict": ["reproduced", "inconclusive"]})
    >>> text, rows = against_default(mine, data_fingerprint="ab", data_name="mine",
    ...                              default=(mine, {"data_hash": "ab", "commit": "0123456789abc"}))
    >>> text.split(":")[0], len(rows)
    ('This build is on the default data, and its verdicts are the shipped ones', 0)
    >>> text, rows = against_default(mine.assign(verdict="reproduced"), data_fingerprint="cd", data_name="mine",
    ...                              default=(mine, {"data_hash": "ab"}))
    >>> rows[["claim_id", "default build", "this build"]].values.tolist()
    [['y', 'inconclusive', 'reproduced']]
    """
    empty = pd.DataFrame(columns=["chapter", "claim_id", "claim", "default build", "this build", "status"])
    default = shipped_default() if default is None else default
    if default is None:
        return ("This copy of the book ships no default build to compare with (`data/default_build/claims.csv`; "
                "`python tools/ship_default_build.py` makes it)."), empty
    base, run = default
    table = compare_verdicts(base, claims)
    n = count_statuses(table)
    rows = table.loc[table["status"].ne("same")].rename(columns={"verdict_a": "default build",
                                                                 "verdict_b": "this build"})
    rows = rows.assign(status=rows["status"].replace({"only in A": "only in the default build",
                                                      "only in B": "only in this build"}))
    rows = rows[list(empty.columns)].reset_index(drop=True)
    made = (f"computed with the code of commit {str(run.get('commit', '?'))[:10]} on "
            f"{str(run['date'])[:10] if run.get('date') else 'an unrecorded date'}")
    total = len(table)
    if run.get("data_hash") and run.get("data_hash") == data_fingerprint:
        if rows.empty:
            return (f"This build is on the default data, and its verdicts are the shipped ones: all {total} claims "
                    f"have the verdict of the default build shipped with the book ({made})."), rows
        return (f"This build is on the default data, but {len(rows)} of {total} claims differ from the default "
                f"build shipped with the book ({made}): the code or the parameters differ (this build's parameters "
                "are in each chapter's parameters box). The table lists them."), rows
    text = (f"This build's data (`{data_name}`) are not the default data. Against the default build shipped with the "
            f"book (the synthetic cohort, every parameter at its default; {made}): {n['same']} claims have the same "
            f"verdict, {n['changed']} a different one")
    if n["only in A"] or n["only in B"]:
        text += f", {n['only in A']} are judged only there and {n['only in B']} only here"
    text += ("." if rows.empty else ". The table lists the claims whose verdict differs.")
    return text, rows
