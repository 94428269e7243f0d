"""What a data folder holds, in a few lines: the summary ``python -m analysis validate`` prints.

:func:`summarize` turns what :func:`analysis.intake.validate.read_folder` found into a :class:`FolderSummary`:

- the patients per arm, the visit rows and the adverse events;
- the design (visit weeks, response week, final week) and where it comes from;
- the DAS28 components and the DAS28 variant these data support;
- for each section of the book, the measures it needs that are present and absent (the sections and their columns
  come from the chapter registry, :mod:`analysis.core.chapters`, with the same rule as
  :mod:`analysis.science.sections`: every ``needs`` column and at least one ``needs_any`` column must hold a value);
- the translations ``dataset.yaml`` made on reading (column names, units, labels);
- the warnings and notes.

:func:`format_summary` writes it for a terminal. Nothing here prints.

Examples
--------
>>> from analysis.core.paths import default_data_dir
>>> from analysis.intake.validate import read_folder
>>> s = summarize(read_folder(default_data_dir()), folder="data/synthetic")
>>> s.n_patients, s.arms, s.das28_variant
(105, {'MSCT': 52, 'control': 53}, 'esr')
>>> [x.title for x in s.sections if not x.available]
[]
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.core.chapters import CHAPTERS, LABS
from analysis.core.design import Design
from analysis.intake.dictionary import columns

__all__ = ["DAS28_COMPONENTS", "FolderSummary", "SectionStatus", "format_summary", "section_status",
           "short_title", "summarize"]

#: the visit columns every chapter needs (the DAS28): tender and swollen joints, patient global, ESR or CRP
DAS28_COMPONENTS: tuple[str, ...] = ("tjc28", "sjc28", "patient_global_mm", "esr_mm_h", "crp_mg_l")


@dataclass(frozen=True)
class SectionStatus:
    """One section of the book and which of the measures it needs these data hold.

    Attributes
    ----------
    chapter, id, title : str
        The chapter, the section's id (``"immune.cells"``) and its heading.
    present, absent : tuple of str
        The columns the section names (``needs`` and ``needs_any``) that hold a value, and those that do not.
    available : bool
        Whether the section can be shown: every ``needs`` column and at least one ``needs_any`` column present.
    """

    chapter: str
    id: str
    title: str
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    available: bool = True


@dataclass(frozen=True)
class FolderSummary:
    """What :func:`summarize` found in a data folder (see the module docstring)."""

    folder: str
    n_patients: int
    arms: dict
    n_visit_rows: int
    n_adverse_events: int
    design: Design
    das28_present: tuple[str, ...]
    das28_variant: str | None
    sections: list = field(default_factory=list)
    translations: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def _present(read: dict, table: str) -> set[str]:
    """The dictionary columns of ``table`` that hold at least one non-empty cell in the read frame."""
    if table not in read:
        return set()
    df = read[table][1]
    out = set()
    for c in columns(table):
        if c.name not in df.columns or len(df) == 0:
            continue
        s = df[c.name]
        if isinstance(s.dtype, pd.CategoricalDtype):
            used = np.unique(s.cat.codes.to_numpy())
            cats = np.asarray(s.cat.categories, dtype=object)
            has = any(cats[i] != "" for i in used if i >= 0)
        else:
            a = np.asarray(s, dtype=object)
            has = bool(np.any((a != "") & ~pd.isna(a)))
        if has:
            out.add(c.name)
    return out


def _labs() -> tuple[str, ...]:
    return tuple(c.name for c in columns("visits") if c.normal is not None)


def section_status(present: set[str]) -> list[SectionStatus]:
    """Every section of the chapter registry with the measures it needs, given the columns ``present``.

    Parameters
    ----------
    present : set of str
        Dictionary columns (any table) that hold at least one value.

    Returns
    -------
    list of SectionStatus
        In reading order.

    Examples
    --------
    >>> rows = section_status({"treg_pct"})
    >>> cells = next(r for r in rows if r.id == "immune.cells")
    >>> cells.available, cells.present, cells.absent
    (False, ('treg_pct',), ('th17_pct',))
    """
    labs = _labs()
    out = []
    for chapter in CHAPTERS:
        for sec in chapter.sections:
            any_of = tuple(c for token in sec.needs_any for c in (labs if token == LABS else (token,)))
            named = sec.needs + any_of
            ok = all(c in present for c in sec.needs) and (not any_of or any(c in present for c in any_of))
            out.append(SectionStatus(chapter.name, sec.id, sec.title,
                                     tuple(c for c in named if c in present),
                                     tuple(c for c in named if c not in present), ok))
    return out


def summarize(found, folder=None) -> FolderSummary:
    """Summarise what :func:`analysis.intake.validate.read_folder` found in a valid data folder.

    Parameters
    ----------
    found : FolderRead
        The result of :func:`~analysis.intake.validate.read_folder` (tables missing from it count as empty).
    folder : str or Path, optional
        The folder's name as the user gave it (shown in the first line).

    Returns
    -------
    FolderSummary

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from analysis.intake.validate import read_folder
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "patients.csv").write_text("patient_id,arm,age,sex,weight_kg,disease_duration_years\\n"
    ...                                     "P1,MSCT,40,F,60,3\\nP2,control,50,M,70,4\\n")
    >>> _ = (d / "visits.csv").write_text("patient_id,week,tjc28,sjc28,patient_global_mm,crp_mg_l\\n"
    ...                                   "P1,0,5,3,50,10\\nP2,0,6,2,40,12\\nP2,12,,,,\\n")
    >>> _ = (d / "adverse_events.csv").write_text("patient_id,week,event,serious,related\\n")
    >>> s = summarize(read_folder(d))
    >>> s.n_patients, s.n_visit_rows, s.das28_variant, s.problems[0].rule
    (2, 2, 'crp', 'patient P2, week 12 has no measurement; counted as a missed visit')
    """
    read = found.read
    spec = found.spec
    design = spec.design if spec is not None else Design()
    patients = read["patients"][1] if "patients" in read else pd.DataFrame()
    arms: dict[str, int] = {}
    if "arm" in patients.columns:
        counts = pd.Series(np.asarray(patients["arm"], dtype=object)).value_counts(sort=False)
        arms = {str(k): int(v) for k, v in counts.items() if k != ""}
    visit_cols = _present(read, "visits")
    present = visit_cols | _present(read, "patients")
    das28 = tuple(c for c in DAS28_COMPONENTS if c in visit_cols)
    variant = "esr" if "esr_mm_h" in visit_cols else "crp" if "crp_mg_l" in visit_cols else None
    return FolderSummary(
        folder=str(folder) if folder is not None else "The data folder",
        n_patients=len(patients),
        arms=arms,
        n_visit_rows=len(read["visits"][1]) if "visits" in read else 0,
        n_adverse_events=len(read["adverse_events"][1]) if "adverse_events" in read else 0,
        design=design,
        das28_present=das28,
        das28_variant=variant,
        sections=section_status(present),
        translations=list(found.translations),
        problems=[p for p in found.problems if p.severity != "error"],
    )


def _translation_lines(translations) -> list[str]:
    """The translations, grouped by kind: names, units, labels (each wrapped, indented by two spaces)."""
    lines = []
    names: dict[tuple[str, str], int] = {}
    for t in translations:
        if t.kind == "column":
            names[(t.source, t.target)] = names.get((t.source, t.target), 0) + 1
    if names:
        lines += _fill([f"{src} -> {dst}" + (f" ({n} files)" if n > 1 else "") for (src, dst), n in names.items()],
                       "  column names: ", "    ", sep=",")
    units = [f"{t.column} from {t.source} to {t.target} ({t.count:,} values)" for t in translations if t.kind == "unit"]
    if units:
        lines += _fill(units, "  units: ", "    ")
    labels: list[str] = []
    for t in translations:
        if t.kind == "label":
            labels.append(f"{t.column} '{t.source}' -> '{t.target}' ({t.count:,})")
        elif t.kind == "value labels":
            labels.append(f"{t.column}: the file's value labels ({t.count:,})")
    if labels:
        lines += _fill(labels, "  labels: ", "    ", sep=",")
    return lines


def format_summary(summary: FolderSummary, *, limit: int = 20) -> str:
    """The summary as a few readable lines for a terminal.

    Parameters
    ----------
    summary : FolderSummary
        From :func:`summarize`.
    limit : int
        Warnings and notes listed at most; the rest are counted.

    Returns
    -------
    str

    Examples
    --------
    >>> from analysis.core.paths import default_data_dir
    >>> from analysis.intake.validate import read_folder
    >>> text = format_summary(summarize(read_folder(default_data_dir()), folder="data/synthetic"))
    >>> print(text.splitlines()[0])
    data/synthetic: valid. 105 patients (MSCT 52, control 53), 826 visit rows, 9 adverse events.
    >>> print(text.splitlines()[1])  # doctest: +ELLIPSIS
    design (the paper's, no design: in dataset.yaml): visits at weeks 0, 1, 2, 3, 4, 12, 24, 48; ... week 48
    """
    s = summary
    arms = ", ".join(f"{k} {v}" for k, v in s.arms.items())
    warnings = sum(p.count for p in s.problems if p.severity == "warning")
    notes = sum(p.count for p in s.problems if p.severity != "warning")
    lines = [f"{s.folder}: valid. {s.n_patients} patients" + (f" ({arms})" if arms else "")
             + f", {s.n_visit_rows:,} visit rows, {s.n_adverse_events:,} adverse events."]
    if len(s.arms) == 1:  # a single-arm trial: said at the top, not only among the notes
        lines.append(f"one arm only ({next(iter(s.arms))}): the comparisons between the arms are not available; the "
                     "book says so where they would be")
    d = s.design
    source = "dataset.yaml" if d.source == "dataset.yaml" else "the paper's, no design: in dataset.yaml"
    lines.append(f"design ({source}): visits at weeks {d.describe_weeks()}; response judged at week "
                 f"{d.response_week}; final visit week {d.final_week}")
    variant = {"esr": ("ESR and CRP recorded: DAS28-ESR, or DAS28-CRP with -p das28_variant=crp"
                       if "crp_mg_l" in s.das28_present else "CRP not recorded: DAS28-ESR"),
               "crp": "ESR not recorded: DAS28-CRP"}.get(s.das28_variant, "neither ESR nor CRP: no DAS28")
    lines.append(f"DAS28: {', '.join(s.das28_present) or 'no component'} ({variant})")
    translated = _translation_lines(s.translations)
    lines.append("translated on reading:" + ("" if translated else " nothing (names, units and labels as the "
                                                                    "data dictionary's)"))
    lines += translated
    lines.append("sections of the book (+ measure present, - absent):")
    width = max(len(c.name) for c in CHAPTERS)
    pad = " " * (width + 4)
    for chapter in CHAPTERS:
        rows = [r for r in s.sections if r.chapter == chapter.name]
        if not rows:
            continue
        shown = [short_title(r.title) + _measures(r) for r in rows if r.available]
        head = f"  {chapter.name:<{width}}  {len([r for r in rows if r.available])} of {len(rows)}: "
        lines += _fill(shown or ["none"], head, pad + "  ")
        for r in rows:
            if not r.available:
                words = f"not available: {short_title(r.title)}{_measures(r)}".split(" ")
                lines += _fill(words, pad, pad + "  ", sep="")
    if s.problems:
        lines.append(f"warnings ({warnings}) and notes ({notes}):" if notes and warnings else
                     f"warnings ({warnings}):" if warnings else f"notes ({notes}):")
        order = {"warning": 0}
        ordered = sorted(s.problems, key=lambda p: order.get(p.severity, 1))
        lines += [f"  - {p}" for p in ordered[:limit]]
        if len(ordered) > limit:
            lines.append(f"  ... and {sum(p.count for p in ordered[limit:]):,} more")
    return "\n".join(lines)


def _fill(items: list[str], head: str, indent: str, width: int = 110, sep: str = ";") -> list[str]:
    """``items`` joined by ``sep`` and a space into lines of at most ``width`` characters, never breaking an item."""
    lines, line = [], head
    for i, item in enumerate(items):
        text = item + (sep if i < len(items) - 1 else "")
        if line not in (head, indent) and len(line) + 1 + len(text) > width:
            lines.append(line)
            line = indent
        line += ("" if line in (head, indent) else " ") + text
    return lines + [line]


def short_title(title: str) -> str:
    """A section's heading without its subtitle (after ``:``) or its parenthesis.

    Examples
    --------
    >>> short_title("Safety laboratory values (the paper's Table 1)"), short_title("Groups: the EULAR response")
    ('Safety laboratory values', 'Groups')
    """
    return title.split(" (")[0].split(":")[0].strip()


def _measures(r: SectionStatus) -> str:
    """`` [+haq_di]``, `` [+crp_mg_l -esr_mm_h]``; the 11 safety labs, when all absent, as one word."""
    if not r.present and not r.absent:
        return ""
    labs = _labs()
    absent = list(r.absent)
    if len(absent) > 4 and set(labs) <= set(absent):
        absent = [c for c in absent if c not in labs] + [f"all {len(labs)} safety labs"]
    present = list(r.present)
    marks = [f"+{c}" for c in present[:3]] + ([f"+{len(present) - 3} more"] if len(present) > 3 else [])
    return " [" + " ".join(marks + [f"-{c}" for c in absent]) + "]"
