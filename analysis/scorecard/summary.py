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


# --------------------------------------------------------------------------------------------- can this design tell?
#: a colour per operating-characteristics class (Okabe–Ito, colour-blind safe)
CLASS_COLOURS: dict[str, str] = {
    "discriminating": "#009E73",           # bluish green
    "underpowered": "#E69F00",             # orange
    "uninformative": "#D55E00",            # vermillion
    "fixed by the simulation": "#56B4E9",  # sky blue
    "not assessable": "#7F7F7F",           # grey
}


def paper_data_claims(claims: pd.DataFrame, registry: pd.DataFrame | None = None) -> pd.DataFrame:
    """The paper's empirical claims about data: basis empirical, a data chapter, not a second look's own claim.

    The second looks' claims are the book's, not the paper's (``section`` of the registry); the audit's are about
    the paper's text (:data:`PAPER_CHECK_CHAPTERS`).

    Examples
    --------
    >>> c = pd.DataFrame({"chapter": ["safety", "safety", "audit"], "basis": ["empirical"] * 3,
    ...                   "claim_id": ["safety.no_gvhd", "safety.second_look_ae_rate", "audit.msct_sum"]})
    >>> paper_data_claims(c)["claim_id"].tolist()
    ['safety.no_gvhd']
    """
    from analysis.claims.registry import published

    reg = published() if registry is None else registry
    section = claims["claim_id"].map(reg.set_index("claim_id")["section"]).fillna("")
    basis = claims["basis"] if "basis" in claims.columns else pd.Series("empirical", index=claims.index)
    keep = basis.eq("empirical") & ~claims["chapter"].isin(PAPER_CHECK_CHAPTERS) & section.eq("")
    return claims.loc[keep]


def design_headline(claims: pd.DataFrame, characteristics: pd.DataFrame | None, *, run: dict | None = None,
                    registry: pd.DataFrame | None = None, of_these_data: bool | None = None) -> str:
    """The scorecard's first words: how many of the paper's empirical claims this design can tell, by class.

    Parameters
    ----------
    claims : DataFrame
        The build's claims table (``chapter``, ``claim_id``, ``basis``).
    characteristics : DataFrame or None
        :func:`analysis.claims.characteristics.read_characteristics` of the robustness result the scorecard
        reads; ``None`` when it has none.
    run : dict, optional
        That result's ``run.json`` (its command and number of cohorts are named).
    registry : DataFrame, optional
        The claims registry (its ``section`` column); default the shipped one.
    of_these_data : bool, optional
        Whether the simulated cohorts stand for this build's data
        (:func:`analysis.scorecard.robustness.applies_to`); ``False`` adds that the classes are the simulated
        design's, not these data's.

    Returns
    -------
    str
        Markdown: "Of the paper's N empirical claims about data, K are discriminating at this design, …", and
        what each class means; without operating characteristics, a sentence saying so and how to make them.

    Examples
    --------
    >>> c = pd.DataFrame({"chapter": ["safety"] * 3, "basis": ["empirical"] * 3,
    ...                   "claim_id": ["safety.no_gvhd", "safety.no_serious_ae", "safety.no_infections"]})
    >>> oc = pd.DataFrame({"claim_id": ["safety.no_gvhd", "safety.no_serious_ae"],
    ...                    "class": ["discriminating", "uninformative"]})
    >>> design_headline(c, oc).split(".")[0]
    "Of the paper's 3 empirical claims about data, 1 is discriminating at this design, 0 underpowered, 1 uninformative, 0 fixed by the simulation, 0 not assessable and 1 not in this robustness result"
    >>> "not of that design" in design_headline(c, oc, of_these_data=False)
    True
    >>> design_headline(c, None).split(".")[0]
    'This robustness result has no operating characteristics (`results/robustness/operating_characteristics'
    >>> design_headline(c, None, run={"resample_count": 5, "resample_data": "mine"}).split(",")[0]
    'This result has no simulated part (it holds the resampling of `mine`)'
    """
    from analysis.claims.characteristics import CLASS_MEANING, CLASSES, FILE, NOT_IN_RESULT, with_design_class

    if characteristics is None and (run or {}).get("resample_count") and not (run or {}).get("cohorts"):
        return (f"This result has no simulated part (it holds the resampling of `{run.get('resample_data', '?')}`), "
                f"so it has no operating characteristics (`results/robustness/{FILE}`) and this page cannot say "
                "which of the paper's claims this design can tell apart from a world where they are false. `python "
                "-m analysis robustness --out DIR` simulates them (into the same DIR, the resampling is kept), then "
                "`python -m analysis build --robustness DIR`.")
    if characteristics is None:
        return (f"This robustness result has no operating characteristics (`results/robustness/{FILE}`), so this "
                "page cannot say which of the paper's claims this design can tell apart from a world where they are "
                "false. A robustness run of this version writes them: `python -m analysis robustness --out DIR`, "
                "then `python -m analysis build --robustness DIR`.")
    mine = with_design_class(paper_data_claims(claims, registry), characteristics)
    counts = mine["can this design tell?"].value_counts()
    n = len(mine)
    parts = [f"{int(counts.get(c, 0))} {c}" for c in CLASSES]
    parts[0] = f"{int(counts.get(CLASSES[0], 0))} {'is' if int(counts.get(CLASSES[0], 0)) == 1 else 'are'} " \
               f"{CLASSES[0]} at this design"
    if int(counts.get(NOT_IN_RESULT, 0)):
        parts.append(f"{int(counts[NOT_IN_RESULT])} {NOT_IN_RESULT.replace('the robustness', 'this robustness')}")
    text = f"Of the paper's {n} empirical claims about data, " + ", ".join(parts[:-1]) + f" and {parts[-1]}."
    run = run or {}
    if run.get("cohorts"):
        text += (f" These operating characteristics come from {run['cohorts']} simulated cohorts per model "
                 f"(`{run.get('command', 'python -m analysis robustness')}`): they describe the trial's design and "
                 "this analysis, not patients.")
    if of_these_data is False:
        text += (" This build's data are not of that design: the classes say what the simulated design can tell, "
                 "not what these data can.")
    text += "\n\n" + "\n".join(f"- **{c}**: {CLASS_MEANING[c]}." for c in CLASSES)
    return text


def characteristics_figure(characteristics: pd.DataFrame | None, claims: pd.DataFrame | None = None, *, ax=None,
                           registry: pd.DataFrame | None = None, min_gap: float = 0.06):
    """Each claim at (false positive, sensitivity), coloured by its class, labelled where there is room.

    Parameters
    ----------
    characteristics : DataFrame or None
        :func:`analysis.claims.characteristics.read_characteristics` output (``None``: a note instead of points).
    claims : DataFrame, optional
        The build's claims table: only the paper's empirical claims about data are drawn
        (:func:`paper_data_claims`); default every claim of ``characteristics``.
    min_gap : float
        A point is labelled (with its claim id after the chapter prefix) only when no labelled point lies within
        this distance on both axes and its label would not overlap a label already drawn; points are labelled from
        the highest sensitivity down. A claim without a
        testable model (no false positive) is drawn just left of 0.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> oc = pd.DataFrame({"claim_id": ["a.x", "a.y", "a.z"], "sensitivity": [0.9, 0.91, 0.3],
    ...                    "false_positive": [0.05, 0.05, 0.5], "class": ["discriminating", "discriminating",
    ...                                                                 "uninformative"]})
    >>> fig = characteristics_figure(oc)
    >>> len(fig.axes[0].collections), [t.get_text() for t in fig.axes[0].texts]
    (2, ['y', 'z'])
    """
    import matplotlib.pyplot as plt

    from analysis.claims.characteristics import CLASSES

    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 6))
    else:
        fig = ax.figure
    if characteristics is None:
        ax.text(0.5, 0.5, "this robustness result has no operating characteristics", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    oc = characteristics
    if claims is not None:
        oc = oc.loc[oc["claim_id"].isin(paper_data_claims(claims, registry)["claim_id"])]
    oc = oc.dropna(subset=["sensitivity"]).assign(
        false_positive=lambda d: d["false_positive"].fillna(-0.02))  # no testable model: drawn left of 0
    for cls in CLASSES:
        pts = oc.loc[oc["class"].eq(cls)]
        if len(pts):
            ax.scatter(pts["false_positive"], pts["sensitivity"], color=CLASS_COLOURS[cls], alpha=0.8, s=30,
                       label=f"{cls} ({len(pts)})")
    # a label is a box to the right of its point (about 0.0105 axis units per character at this size): it is
    # drawn only when its box overlaps no point already labelled and no box already drawn
    char, height = 0.0105, 0.035
    placed: list[tuple[float, float, float]] = []  # x, y and right end of each label drawn
    for r in oc.sort_values(["sensitivity", "false_positive"], ascending=[False, True]).itertuples():
        x, y = float(r.false_positive), float(r.sensitivity)
        text = str(r.claim_id).split(".", 1)[-1]
        right = x + 0.01 + char * len(text)
        if any((abs(x - px) < min_gap and abs(y - py) < min_gap)
               or (abs(y - py) < height and x < pright and right > px) for px, py, pright in placed):
            continue
        placed.append((x, y, right))
        ax.annotate(text, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=7, color="#333333")
    ax.axvline(0.1, color="grey", linestyle="--", linewidth=1)
    ax.axhline(0.8, color="grey", linestyle="--", linewidth=1)
    ax.set(xlim=(-0.05, 1.03), ylim=(-0.03, 1.03), xlabel="false positive: P(reproduced) under a model where it must fail",
           ylabel="sensitivity: P(reproduced | calibrated)")
    if ax.collections:
        ax.legend(loc="lower right", fontsize=8, title="can this design tell?", title_fontsize=8)
    return fig
