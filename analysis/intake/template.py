"""Empty, correctly headed table files for a new cohort, with a README explaining every column."""
from __future__ import annotations

import csv
import textwrap
from pathlib import Path

from analysis.intake.dictionary import TABLES, columns, dictionary_table, load_dictionary
from analysis.intake.units import CONVERSIONS, known_units

__all__ = ["write_template", "template_readme"]


def template_readme() -> str:
    """Plain-text explanation of the template files, built from the data dictionary.

    Examples
    --------
    >>> text = template_readme()
    >>> "haq_di" in text and "0 to 3, steps of 0.125" in text
    True
    """
    d = load_dictionary()
    tok = d.get("censor_tokens", {})
    table = dictionary_table()
    lines = [
        "Data templates for the MSCT-RA book",
        "===================================",
        "",
        "Fill in one row per patient (patients.csv), one row per patient and scheduled week (visits.csv)",
        "and one row per adverse event (adverse_events.csv; leave it with the header only if there were none).",
        "A visit row with no measurement at all (only the patient and the week) counts as a missed visit.",
        "Keep the header row exactly as written. Save as CSV UTF-8 (comma-separated) or .xlsx",
        "(one sheet, or a sheet named like the table); SPSS (.sav), Stata (.dta) and SAS (.sas7bdat, .xpt)",
        "files named like the tables (patients.sav, ...) are read too. One file per table.",
        "Then check the folder with:",
        "",
        "    python -m analysis validate <this folder>",
        "",
        "Rules",
        "-----",
        f"- Scheduled visit weeks: {', '.join(str(w) for w in d['design_weeks'])} (week 0 = baseline, before infusion),",
        f"  response judged at week {d['response_week']}, last visit week {d['final_week']}: the paper's design. Another",
        "  schedule goes into dataset.yaml (see below).",
        "- Optional columns may be left out or left empty: a chapter section that needs them says so.",
        "  visits.csv needs only patient_id, week and the DAS28 (tjc28, sjc28, patient_global_mm and",
        "  esr_mm_h or crp_mg_l).",
        "- Leave a cell empty when a value is missing (do not write NA, NaN or -).",
        "- Visits with one row per patient, visit and measure (CDISC ADaM: USUBJID, AVISITN, PARAMCD, AVAL) are read",
        "  as they are when dataset.yaml declares the layout under long: (see the data-dictionary page).",
        f"- Assay results below/above the limit of quantification: write {tok.get('below', '<LLOQ')} or "
        f"{tok.get('above', '>ULOQ')} (only in the columns that say so).",
        "- true/false columns accept true/false, 1/0 or yes/no.",
        "- Never add names, dates of birth, phone numbers, addresses or hospital numbers: such columns are refused.",
        "- Optionally add dataset.yaml with metadata, e.g. 'synthetic: false' and 'source: ...', and, to use",
        "  your own files unchanged: the design, your column names, units and arm labels, e.g.",
        "",
        "      design:",
        "        visit_weeks: [0, 2, 4, 8, 12, 24]",
        "        response_week: 12",
        "        final_week: 24",
        "      columns:            # your name -> the dictionary's name (any table)",
        "        CRP: crp_mg_l",
        "      units:              # the unit your column is recorded in",
        "        crp_mg_l: mg/dL",
        "      arms:               # your labels -> MSCT / control",
        "        UC-MSC: MSCT",
        "        placebo: control",
        "      values:             # your labels in another category column -> the dictionary's",
        "        sex: {male: M, female: F}",
        "",
        *textwrap.wrap("Units with known conversions (besides the dictionary's own): "
                       + "; ".join(f"{c} in {', '.join(known_units(c)[1:])}" for c in _converted()) + ".",
                       width=100, initial_indent="  ", subsequent_indent="  "),
        "",
    ]
    for name in TABLES:
        lines += [f"{name}.csv", "-" * (len(name) + 4)]
        for _, r in table[table["table"] == name].iterrows():
            unit = f" [{r['unit']}]" if r["unit"] else ""
            need = ("optional" if r["required"] == "optional" else
                    "required" if r["required"] == "yes" else r["required"].replace("`", "").replace("yes", "required"))
            empty = "may be empty" if r["empty allowed"] == "yes" else "must not be empty"
            allowed = f"; allowed: {r['allowed']}" if r["allowed"] else ""
            lines.append(f"- {r['column']} ({r['type']}{unit}; {need}, {empty}{allowed}): {r['description']}")
        lines.append("")
    return "\n".join(lines)


def _converted() -> list[str]:
    return list(dict.fromkeys(c.column for c in CONVERSIONS))


def write_template(out_dir) -> list[Path]:
    """Write ``patients.csv``, ``visits.csv``, ``adverse_events.csv`` (header only) and ``README.txt``.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into; created if absent.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ValueError
        If any of the four files already exists (nothing is written then).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     [p.name for p in write_template(d)]
    ['patients.csv', 'visits.csv', 'adverse_events.csv', 'README.txt']
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"`out_dir` must be a folder, got the file {str(out)!r}")
    targets = [out / f"{t}.csv" for t in TABLES] + [out / "README.txt"]
    existing = [p.name for p in targets if p.exists()]
    if existing:
        raise ValueError(f"`out_dir` {str(out)!r} already holds {', '.join(existing)}; refusing to overwrite "
                         "(choose an empty folder)")
    out.mkdir(parents=True, exist_ok=True)
    for table, path in zip(TABLES, targets):
        with open(path, "x", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerow([c.name for c in columns(table)])
    with open(targets[-1], "x", encoding="utf-8") as fh:
        fh.write(template_readme())
    return targets
