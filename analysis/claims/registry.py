"""The published claims registry and the rules that judge each claim.

Every claim of Yang et al. 2018 lives as one row in ``data/published/claims/<chapter>.csv``.
A chapter judges its claims through a :class:`~analysis.claims.log.ClaimLog` (``claims/log.py``); each check states
its rule in words and returns one of :data:`VERDICTS`. This module reads the registry; ``claims/rules.py`` holds the
intervals and formatting the rules share.

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
every claim of the chapter exactly once, and :func:`analysis.scorecard.summary.collect` /
:func:`~analysis.scorecard.summary.summary` build the scorecard.

Registry columns
----------------
``claim_id`` (unique), ``chapter`` (one of :data:`CHAPTERS`, equal to the file name), ``claim``,
``location``, ``published`` (as printed), ``kind`` (one of :data:`KINDS`), ``expected`` (machine-readable,
see :data:`EXPECTED`), ``tolerance`` (only for the audit's rounding checks of the paper's own arithmetic),
``basis`` (one of :data:`BASES`), ``basis_reason`` (one line), ``quote`` (the paper's words, verbatim in
``data/published/paper.txt``), ``fails_under`` (the simulated models of the world, :data:`analysis.core.chapters.MODELS`,
under which the claim must fail, separated by ``;``; every empirical claim names at least one; the robustness run
reads it): :data:`FILE_COLUMNS`.

Sections
--------
Some claims of a chapter belong to a named section judged apart from the chapter's own claims of the paper
(:data:`SECTIONS`; ``second_look``: the chapter's "A second look"). ``claims/sections.yaml`` lists each
section's claim ids; :func:`load_published` adds them as the registry's ``section`` column (empty: no
section), so the registry has the columns :data:`COLUMNS`. :func:`published_claims` and
:meth:`analysis.claims.log.ClaimLog.claims` select a chapter's or a section's claims.
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.claims.rules import floats
from analysis.core.moments import mean_var
from analysis.core.chapters import CLAIM_CHAPTERS, MODELS

VERDICTS: tuple[str, ...] = (
    "reproduced", "not reproduced", "inconclusive", "holds by construction", "not testable with these data",
)
REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, BY_CONSTRUCTION, NOT_TESTABLE = VERDICTS



def verdict_counts_sentence(verdicts: pd.Series) -> str:
    """"Of the N claims of this chapter, a are reproduced, ...": the verdict counts, each verb agreeing with its count.

    Parameters
    ----------
    verdicts : Series
        One verdict (of :data:`VERDICTS`) per claim.

    Examples
    --------
    >>> verdict_counts_sentence(pd.Series(["reproduced", "inconclusive", "not testable with these data"]))
    'Of the 3 claims of this chapter, 1 is reproduced, 0 are not, 1 is inconclusive (the data cannot tell), 0 hold by construction and 1 cannot be tested with these data.'
    """
    n = {v: int((verdicts == v).sum()) for v in VERDICTS}

    def be(k: int) -> str:
        return "is" if k == 1 else "are"

    total = len(verdicts)
    return (f"Of the {total} claim{'s' if total != 1 else ''} of this chapter, {n[REPRODUCED]} {be(n[REPRODUCED])} "
            f"reproduced, {n[NOT_REPRODUCED]} {be(n[NOT_REPRODUCED])} not, {n[INCONCLUSIVE]} "
            f"{be(n[INCONCLUSIVE])} inconclusive (the data cannot tell), {n[BY_CONSTRUCTION]} "
            f"{'holds' if n[BY_CONSTRUCTION] == 1 else 'hold'} by construction and {n[NOT_TESTABLE]} cannot be tested "
            "with these data.")


#: the basis of a claim: evidence the data can give, a consequence of definitions, or the authors' reading
BASES: tuple[str, ...] = ("empirical", "by construction", "interpretation")

#: chapters with a claims file, in reading order (from the book's one chapter registry)
CHAPTERS: tuple[str, ...] = CLAIM_CHAPTERS
#: named parts of a chapter whose claims are judged apart from the chapter's own (``section`` column; empty:
#: none): ``second_look`` is the chapter's "A second look" (claims of the book's own analysis, judged by its
#: ``judge_second_look``). Each section's claims are listed in ``claims/sections.yaml``.
SECTIONS: tuple[str, ...] = ("second_look",)
#: columns of each registry file ``claims/<chapter>.csv``
FILE_COLUMNS: tuple[str, ...] = (
    "claim_id", "chapter", "claim", "location", "published", "kind", "expected", "tolerance",
    "basis", "basis_reason", "quote", "fails_under",
)
#: columns of the registry as :func:`load_published` returns it: the files' columns and ``section``
COLUMNS: tuple[str, ...] = FILE_COLUMNS[:2] + ("section",) + FILE_COLUMNS[2:]
#: the file naming each section's claims (in ``claims/``)
SECTIONS_FILE = "sections.yaml"
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

_DEFAULT_DIR = Path(__file__).resolve().parents[2] / "data" / "published"



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
    if "fails_under" not in row.index:  # a file without the column: nothing to check
        return None
    names = fails_under(row["fails_under"])
    unknown = [m for m in names if m not in MODELS or m == "calibrated"]
    if unknown:
        return (f"`fails_under` names {', '.join(unknown)}; allowed: "
                f"{', '.join(m for m in MODELS if m != 'calibrated')} (separated by ';')")
    if row["basis"] == "empirical" and not names:
        return "`fails_under` is empty; an empirical claim names the models under which it must fail"
    return None


def fails_under(value: str) -> tuple[str, ...]:
    """The model names of a registry ``fails_under`` cell (``"harm; shift"`` -> ``("harm", "shift")``).

    Examples
    --------
    >>> fails_under("harm; shift"), fails_under("")
    (('harm', 'shift'), ())
    """
    return tuple(m.strip() for m in str(value or "").split(";") if m.strip())


def load_published(published_dir: str | Path | None = None) -> pd.DataFrame:
    """Read and validate the claims registry (all ``claims/*.csv`` files and ``claims/sections.yaml``).

    Parameters
    ----------
    published_dir : str or Path, optional
        Folder holding ``claims/``; default ``<repo>/data/published``.

    Returns
    -------
    pandas.DataFrame
        One row per claim, columns :data:`COLUMNS` (all text), ordered by :data:`CHAPTERS`
        and then by the order of the rows in each file. ``section`` comes from ``claims/sections.yaml``
        (empty for a claim no section lists, and for every claim when the file is absent).

    Raises
    ------
    ValueError
        If the folder has no registry file, a file is not named after a chapter, its columns differ
        from :data:`FILE_COLUMNS`, a row is invalid (the message names file and row), a ``claim_id``
        occurs twice, or ``sections.yaml`` names a section not in :data:`SECTIONS`, a claim not in the
        registry or a claim twice.

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
        without = tuple(frame.columns) == FILE_COLUMNS[:-1]  # a registry without ``fails_under`` (older, hand-made)
        if tuple(frame.columns) != FILE_COLUMNS and not without:
            raise ValueError(f"{path}: columns are {list(frame.columns)}; expected {list(FILE_COLUMNS)}")
        frame = frame.apply(lambda col: col.str.strip())
        for i, row in frame.iterrows():
            problem = _row_problem(row)
            if problem is None and row["chapter"] != path.stem:
                problem = f"`chapter` is {row['chapter']!r} but the file is {path.name}"
            if problem:
                raise ValueError(f"{path}, row {i + 2} ({row['claim_id'] or 'no claim_id'}): {problem}")
        if without:
            frame["fails_under"] = ""
        frames.append(frame.assign(_order=CHAPTERS.index(path.stem)))
    registry = pd.concat(frames, ignore_index=True)
    duplicated = registry.loc[registry["claim_id"].duplicated(), "claim_id"].tolist()
    if duplicated:
        raise ValueError(f"claim_id not unique in {folder / 'claims'}: {', '.join(sorted(set(duplicated)))}")
    registry = registry.sort_values("_order", kind="stable").drop(columns="_order")
    sections = _read_sections(folder / "claims" / SECTIONS_FILE, set(registry["claim_id"]))
    registry["section"] = registry["claim_id"].map(sections).fillna("").astype(object)
    return registry[list(COLUMNS)].reset_index(drop=True)


def _read_sections(path: Path, claim_ids: set[str]) -> dict[str, str]:
    """``{claim_id: section}`` from ``sections.yaml`` (empty when the file is absent), checked against the registry."""
    if not path.is_file():
        return {}
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of section names to lists of claim ids")
    out: dict[str, str] = {}
    for section, ids in data.items():
        if section not in SECTIONS:
            raise ValueError(f"{path}: section {section!r} is not known; allowed: {', '.join(SECTIONS)}")
        if not isinstance(ids, list) or not all(isinstance(c, str) for c in ids):
            raise ValueError(f"{path}: section {section!r} must list claim ids")
        for cid in ids:
            if cid not in claim_ids:
                raise ValueError(f"{path}: section {section!r} lists {cid!r}, which is not a claim of the registry")
            if cid in out:
                raise ValueError(f"{path}: claim {cid!r} is listed twice (in {out[cid]!r} and {section!r})")
            out[cid] = section
    return out


@lru_cache(maxsize=1)
def published() -> pd.DataFrame:
    """The shipped claims registry (:func:`load_published` of the default folder), read once per process.

    The same DataFrame is returned on every call: read it, never modify it (copy first).

    Examples
    --------
    >>> published() is published(), published()["claim_id"].is_unique
    (True, True)
    """
    return load_published()


def published_claims(chapter: str | None = None, *, section: str | None = None,
                     registry: pd.DataFrame | None = None) -> pd.DataFrame:
    """The registry's rows of one chapter and/or one section, in registry order (a new DataFrame).

    Parameters
    ----------
    chapter : str, optional
        One of :data:`CHAPTERS`; default every chapter.
    section : str, optional
        One of :data:`SECTIONS` (e.g. ``"second_look"``), or ``""`` for the claims outside any section (the
        chapter's own claims of the paper); default every claim.
    registry : DataFrame, optional
        The registry to select from (as :func:`load_published` returns it); default :func:`published`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`, index 0 … n − 1.

    Raises
    ------
    ValueError
        If ``chapter`` or ``section`` is not one of the allowed values.

    Examples
    --------
    >>> published_claims("immune", section="second_look")["claim_id"].tolist()
    ['immune.second_look_ratio_group_time']
    >>> mine = published_claims("immune")
    >>> len(mine) == len(published_claims("immune", section="")) + 1
    True
    """
    if chapter is not None and chapter not in CHAPTERS:
        raise ValueError(f"`chapter` is {chapter!r}; allowed: {', '.join(CHAPTERS)}")
    check_section(section)
    reg = published() if registry is None else registry
    keep = pd.Series(True, index=reg.index)
    if chapter is not None:
        keep &= reg["chapter"].eq(chapter)
    if section is not None:
        keep &= reg["section"].eq(section)
    return reg.loc[keep].reset_index(drop=True)


def check_section(section: str | None) -> None:
    """Refuse a ``section`` argument that is neither None, ``""`` nor one of :data:`SECTIONS`.

    Examples
    --------
    >>> check_section("second_look"), check_section(None), check_section("")
    (None, None, None)
    >>> check_section("first_look")
    Traceback (most recent call last):
    ...
    ValueError: `section` is 'first_look'; allowed: None (every claim), '' (outside any section), 'second_look'
    """
    if section is not None and section != "" and section not in SECTIONS:
        allowed = ", ".join(repr(s) for s in SECTIONS)
        raise ValueError(f"`section` is {section!r}; allowed: None (every claim), '' (outside any section), {allowed}")


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
    if published_dir is None:
        return _default_margins().copy()  # read once per process; each caller gets its own copy
    return _read_margins(Path(published_dir))


def _read_margins(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "margins.csv", dtype={"measure": str, "scale": str, "source": str},
                       keep_default_na=False, encoding="utf-8")


@lru_cache(maxsize=1)
def _default_margins() -> pd.DataFrame:
    return _read_margins(_DEFAULT_DIR)


#: the last margins table turned into rules, and its rules (the chapters pass one table for a hundred claims)
_LAST_RULES: list = [None, None]


def _margin_rules(margins: pd.DataFrame) -> dict[str, tuple[float, str, str]]:
    if _LAST_RULES[0] is margins:
        return _LAST_RULES[1]
    rules = {str(r.measure): (float(r.margin), str(r.scale), str(r.source)) for r in margins.itertuples()}
    _LAST_RULES[:] = [margins, rules]
    return rules


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
    >>> equivalence_margin("il_8", [1.0])[1][:60]  # no SD from one value: the text says so, not "= nan"
    '0.5 × baseline SD, not defined: fewer than 2 baseline values'
    """
    rules = _default_margin_rules() if margins is None else _margin_rules(margins)
    value, scale, source = rules[measure] if measure in rules else rules["*"]
    if scale == "absolute":
        return value, f"{value:g} ({source})"
    x = floats(baseline if baseline is not None else np.array([], dtype=float))
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return float("nan"), f"{value:g} × baseline SD, not defined: fewer than 2 baseline values ({source})"
    sd = float(math.sqrt(mean_var(x)[1]))  # np.std(x, ddof=1), by the same arithmetic
    return value * sd, f"{value:g} × baseline SD = {value * sd:.3g} ({source})"


