"""Which columns each section of the book needs, and what a page shows when its data lack them.

A trial need not measure everything the paper measured: only ``patient_id``, ``week`` and the DAS28
components are required to classify response. Every other section of a chapter declares here the
measurement columns it needs (:data:`SECTIONS`). A column counts as *missing* when the data folder does
not have it or has no value in it (the cohort adds absent optional columns empty, so both look alike).

In a notebook::

    if sections.check(page, "immune.cells", derived):   # False: a note "Not available with these data: ..."
        ...                                              # the section's tables, figures and glued numbers

A section that is not available shows a note starting "Not available with these data" naming the missing
columns, and writes one row to ``results/<chapter>/not_available.csv`` (the build log lists them). Its
numbers are not glued, so the render replaces every paragraph citing them by one sentence saying so. Claims use
:func:`missing` / :func:`reason` to become "not testable with these data" naming the columns.

Examples
--------
>>> import pandas as pd
>>> from types import SimpleNamespace
>>> d = SimpleNamespace(visits=pd.DataFrame({"treg_pct": [1.0, 2.0], "th17_pct": [float("nan")] * 2}),
...                     patients=pd.DataFrame())
>>> missing("immune.cells", d)
['th17_pct']
>>> reason("immune.cells", d)
'Not available with these data: needs th17_pct (absent or empty in this data folder)'
>>> SECTIONS["immune.cells"].chapter
'immune'
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable

import pandas as pd

from analysis.core.chapters import CHAPTERS, LABS, Section

__all__ = ["SECTIONS", "describe", "NOT_AVAILABLE", "missing", "available", "reason", "check", "section_table",
           "chapter_sections", "RECORD", "DAS28Choice", "das28_choice", "das28_variant",
           "design_rows", "design_box"]

#: every note about a section the data cannot give starts with these words
NOT_AVAILABLE = "Not available with these data"
#: file (under ``results/<chapter>/``) listing the sections not available in this build
RECORD = "not_available.csv"

def _labs() -> tuple[str, ...]:
    from analysis.intake.dictionary import columns

    return tuple(c.name for c in columns("visits") if c.normal is not None)


def _resolved(section: Section, labs: tuple[str, ...]) -> Section:
    """``section`` with the registry's :data:`~analysis.core.chapters.LABS` token replaced by the lab columns."""
    if LABS not in section.needs_any:
        return section
    needs_any = tuple(c for token in section.needs_any for c in (labs if token == LABS else (token,)))
    return replace(section, needs_any=needs_any)


def describe(section: Section) -> str:
    """A section's needs in words: ``'treg_pct and th17_pct'``, ``'at least one of il_6, tnf_a'``.

    Examples
    --------
    >>> describe(SECTIONS["immune.cells"])
    'treg_pct and th17_pct'
    >>> describe(SECTIONS["safety.flow"])
    'the DAS28 components only'
    """
    parts = []
    if section.needs:
        parts.append(" and ".join(section.needs))
    if section.needs_any:
        parts.append("at least one of " + ", ".join(section.needs_any))
    return "; ".join(parts) or "the DAS28 components only"


def _sections() -> dict[str, Section]:
    labs = _labs()
    return {s.id: _resolved(s, labs) for c in CHAPTERS for s in c.sections}


#: section id -> :class:`~analysis.core.chapters.Section` (from the chapter registry, lab columns filled in)
SECTIONS: dict[str, Section] = _sections()


def _has_values(derived: Any, column: str) -> bool:
    for name in ("visits", "patients"):
        table = getattr(derived, name, None)
        if isinstance(table, pd.DataFrame) and column in table.columns:
            if table[column].notna().any():
                return True
    return False


def missing(section_id: str, derived: Any, *, columns: Iterable[str] | None = None) -> list[str]:
    """The columns ``section_id`` needs that these data lack (absent, or without a single value).

    Parameters
    ----------
    section_id : str
        A key of :data:`SECTIONS`.
    derived : Derived
        The chapter's derived tables (anything with ``visits`` / ``patients`` DataFrames).
    columns : iterable of str, optional
        Check these columns (all needed) instead of the section's declaration, e.g. the one lab of a claim.

    Returns
    -------
    list of str
        Empty when the section can be shown. For a ``needs_any`` panel with no member present, the
        whole panel is listed.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> d = SimpleNamespace(visits=pd.DataFrame({"il_6": [1.0]}), patients=pd.DataFrame())
    >>> missing("inflammation.cytokines", d), missing("ifng.high", d)
    ([], ['ifn_g'])
    """
    if section_id not in SECTIONS:
        raise ValueError(f"`section_id` must be one of {sorted(SECTIONS)}, got {section_id!r}")
    if columns is not None:
        return [c for c in columns if not _has_values(derived, c)]
    sec = SECTIONS[section_id]
    out = [c for c in sec.needs if not _has_values(derived, c)]
    if sec.needs_any and not any(_has_values(derived, c) for c in sec.needs_any):
        out += list(sec.needs_any)
    return out


def available(section_id: str, derived: Any) -> bool:
    """True when these data have every column ``section_id`` needs.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> available("safety.flow", SimpleNamespace(visits=pd.DataFrame(), patients=pd.DataFrame()))
    True
    """
    return not missing(section_id, derived)


def reason(section_id: str, derived: Any, *, columns: Iterable[str] | None = None) -> str | None:
    """The "Not available with these data: needs ..." sentence, or None when the section is available.

    The same words serve the page's note, its glued numbers and a claim's "not testable" reason.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> reason("activity.prednisone", SimpleNamespace(visits=pd.DataFrame(), patients=pd.DataFrame()))
    'Not available with these data: needs prednisone_mg_day (absent or empty in this data folder)'
    """
    gone = missing(section_id, derived, columns=columns)
    if not gone:
        return None
    return f"{NOT_AVAILABLE}: needs {', '.join(gone)} (absent or empty in this data folder)"


def check(page: Any, section_id: str, derived: Any, *, glue: Iterable[str] = ()) -> bool:
    """Is ``section_id`` available? If not, show the note, glue ``glue`` keys with it and record it.

    Parameters
    ----------
    page : analysis.engine.report.Page
        The chapter's page (its ``note``, ``glue`` and ``results_dir`` are used).
    section_id : str
        A key of :data:`SECTIONS`.
    derived : Derived
        The chapter's derived tables.
    glue : iterable of str
        Glue keys of this section the prose cites; when unavailable each is glued with the placeholder
        "not available with these data", and the render replaces every paragraph citing one by a sentence
        saying it is left out (:func:`analysis.engine.render.mark_not_available`).

    Returns
    -------
    bool
        True when the section can be computed.

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> from types import SimpleNamespace
    >>> from pathlib import Path
    >>> page = SimpleNamespace(results_dir=Path(tempfile.mkdtemp()), note=lambda text, kind="note": None,
    ...                        glue=lambda key, value: None)
    >>> check(page, "immune.cells", SimpleNamespace(visits=pd.DataFrame(), patients=pd.DataFrame()))
    False
    >>> (page.results_dir / RECORD).read_text().splitlines()[1]
    'immune.cells,Tregs and Th17 cells,treg_pct th17_pct'
    """
    text = reason(section_id, derived)
    if text is None:
        return True
    sec = SECTIONS[section_id]
    page.note(f"{text}. {sec.title}: left out of this page.", "warning")
    for key in glue:
        page.glue(key, "not available with these data")
    path = page.results_dir / RECORD
    row = pd.DataFrame([{"section": sec.id, "title": sec.title, "missing": " ".join(missing(section_id, derived))}])
    row.to_csv(path, mode="a", header=not path.exists(), index=False, lineterminator="\n")
    return False


def chapter_sections(chapter: str) -> list[Section]:
    """The sections of one chapter notebook, in page order."""
    return [s for s in SECTIONS.values() if s.chapter == chapter]


def section_table() -> pd.DataFrame:
    """One row per section that needs columns: chapter, section, needs (for the data-dictionary page).

    Examples
    --------
    >>> section_table().query("section == 'Prednisone'")["needs"].tolist()
    ['prednisone_mg_day']
    """
    rows = [{"chapter": s.chapter, "section": s.title, "needs": describe(s)}
            for s in SECTIONS.values() if s.needs or s.needs_any]
    return pd.DataFrame(rows, columns=["chapter", "section", "needs"])


@dataclass(frozen=True)
class DAS28Choice:
    """The DAS28 variant a build uses, the one asked for, and why they differ (if they do).

    ``statement`` is the one sentence every page shows (design box, parameters box, text).
    """

    requested: str
    variant: str
    reason: str

    @property
    def statement(self) -> str:
        """``'ESR not recorded: DAS28-CRP'``, ``'DAS28-ESR (the paper reports ESR)'`` or
        ``"DAS28-CRP (parameter das28_variant = 'crp')"``."""
        if self.reason:
            return f"{self.reason}: DAS28-{self.variant.upper()}"
        if self.variant == "esr":
            return "DAS28-ESR (the paper reports ESR)"
        return f"DAS28-{self.variant.upper()} (parameter das28_variant = {self.variant!r})"


def das28_choice(cohort: Any, requested: str = "esr") -> DAS28Choice:
    """The DAS28 variant to use and why: ``requested``, unless its lab was not recorded and the other one was.

    A trial may record CRP without ESR (the validator needs one of them); DAS28-ESR would then leave every
    patient unclassified, so DAS28-CRP is used, and the other way round. This is the book's one decision of
    the variant: every page's design box, parameters box and text show its :attr:`DAS28Choice.statement`.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> crp_only = SimpleNamespace(visits=pd.DataFrame({"esr_mm_h": [float("nan")], "crp_mg_l": [5.0]}))
    >>> das28_choice(crp_only, "esr").statement
    'ESR not recorded: DAS28-CRP'
    >>> das28_choice(crp_only, "crp").statement
    "DAS28-CRP (parameter das28_variant = 'crp')"
    >>> both = SimpleNamespace(visits=pd.DataFrame({"esr_mm_h": [20.0], "crp_mg_l": [5.0]}))
    >>> das28_choice(both, "esr").variant
    'esr'
    """
    visits = getattr(cohort, "visits", None)

    def has(col: str) -> bool:
        return isinstance(visits, pd.DataFrame) and col in visits.columns and bool(visits[col].notna().any())

    other = {"esr": "crp", "crp": "esr"}.get(requested)
    lab = {"esr": "esr_mm_h", "crp": "crp_mg_l"}
    if other is not None and not has(lab[requested]) and has(lab[other]):
        return DAS28Choice(requested, other, f"{requested.upper()} not recorded")
    return DAS28Choice(requested, requested, "")


def das28_variant(cohort: Any, requested: str = "esr", *, page: Any = None) -> str:
    """The DAS28 variant to use (:func:`das28_choice`); with ``page``, the page shows it and why.

    With ``page`` (a :class:`~analysis.engine.report.Page`), the parameters box shows the variant used beside
    the one asked for (``page.resolve``) and the statement is glued as ``das28_used`` for the text.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> v = pd.DataFrame({"esr_mm_h": [float("nan")], "crp_mg_l": [5.0]})
    >>> das28_variant(SimpleNamespace(visits=v), "esr"), das28_variant(SimpleNamespace(visits=v), "crp")
    ('crp', 'crp')
    """
    choice = das28_choice(cohort, requested)
    if page is not None:
        page.resolve("das28_variant", choice.variant, choice.reason)
        page.glue("das28_used", choice.statement)
    return choice.variant


def design_rows(design: Any, meta: dict | None = None, *, das28: str | DAS28Choice | None = None) -> list[tuple[str, str]]:
    """What the design box shows: the weeks as written, then the mappings applied from ``dataset.yaml``.

    Examples
    --------
    >>> from analysis.core.design import Design
    >>> d = Design.from_mapping({"visit_weeks": [0, 2, 4, 8, 12, 24], "final_week": 24})
    >>> dict(design_rows(d, {"arms": {"UC-MSC": "MSCT"}, "units": {"crp_mg_l": "mg/dL"}}))["visit weeks"]
    '0, 2, 4, 8, 12, 24'
    >>> dict(design_rows(d, {"arms": {"UC-MSC": "MSCT"}, "units": {"crp_mg_l": "mg/dL"}}))["arm labels"]
    'UC-MSC → MSCT'
    >>> dict(design_rows(d, {"values": {"sex": {"Female": "F", "Male": "M"}}}))["value labels"]
    'sex: Female → F, Male → M'
    """
    meta = meta if isinstance(meta, dict) else {}
    rows = [
        ("design from", str(getattr(design, "source", ""))),
        ("visit weeks", design.describe_weeks()),
        ("EULAR response judged at week", str(design.response_week)),
        ("final visit (lost to follow-up if not seen) at week", str(design.final_week)),
        ("early window after the infusion (the paper: 4 weeks)", f"weeks 0–{design.early_window_weeks}"),
        ("relapse judged at week (the paper: 24)",
         str(design.relapse_week) if design.relapse_week is not None else "none (no visit after the response week)"),
    ]

    def mapping(key: str, fmt) -> str:
        block = meta.get(key)
        if not isinstance(block, dict) or not block:
            return "none"
        return "; ".join(fmt(k, v) for k, v in block.items())

    from analysis.intake.dictionary import columns as _cols

    units = {c.name: c.unit for t in ("patients", "visits", "adverse_events") for c in _cols(t)}
    if isinstance(das28, DAS28Choice):
        rows.append(("DAS28 behind the response groups", das28.statement))
    elif das28:
        rows.append(("DAS28 behind the response groups", f"DAS28-{das28.upper()}"))
    rows.append(("column names", mapping("columns", lambda k, v: f"{k} → {v}")))
    rows.append(("unit conversions", mapping("units", lambda k, v: f"{k}: {v} → {units.get(k, '?')}")))
    rows.append(("arm labels", mapping("arms", lambda k, v: f"{k} → {v}")))
    rows.append(("value labels", mapping("values", lambda col, labels: f"{col}: " + (
        ", ".join(f"{a} → {b}" for a, b in labels.items()) if isinstance(labels, dict) else str(labels)))))
    return rows


def _choice_used(page: Any, cohort: Any, used: str) -> DAS28Choice:
    """The :class:`DAS28Choice` behind ``used``: the page's record (:func:`das28_variant` with ``page``), else the
    book's default decision when it gives ``used``, else ``used`` as asked."""
    record = (getattr(page, "resolved", None) or {}).get("das28_variant")
    if record is not None and record[0] == used:
        return DAS28Choice(str((getattr(page, "params", None) or {}).get("das28_variant", used)), used, record[1])
    default = das28_choice(cohort, "esr")
    return default if default.variant == used else DAS28Choice(used, used, "")


def design_box(page: Any, derived: Any, cohort: Any = None) -> None:
    """Show the design this page used (visit weeks as written, response and final week, mappings applied).

    The mappings (``columns``, ``units``, ``arms``, ``values`` of ``dataset.yaml``) are read from
    ``cohort.meta`` when present; a folder without them shows "none".
    """
    import html

    from IPython.display import HTML, display

    meta = getattr(cohort, "meta", None) if cohort is not None else None
    used = (getattr(derived, "params", None) or {}).get("das28_variant")
    das28 = _choice_used(page, cohort, used) if used else None
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                   for k, v in design_rows(derived.design, meta, das28=das28))
    display(HTML("<details class='msct-provenance msct-design'><summary>Study design used for this page: visits at "
                 f"weeks {html.escape(derived.design.describe_weeks())}</summary>"
                 f"<table class='msct-kv'>{rows}</table></details>"))
