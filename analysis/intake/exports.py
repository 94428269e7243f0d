"""The data-dictionary page's section on real exports: ``visit_dates:``, ``values:`` and the recognised export columns.

Generated from the code that applies them (:mod:`analysis.intake.dates`, :mod:`analysis.intake.dataset`,
:mod:`analysis.intake.pii`), so the page lists exactly what the reader does.

Examples
--------
>>> lines = dictionary_page_lines()
>>> lines[0], any("redcap_event_name" in line for line in lines)
('## Exports as they come: dates, labels, EDC and CDISC columns', True)
"""
from __future__ import annotations

from analysis.intake.dates import DATE_FORMATS
from analysis.intake.dictionary import TABLES, columns
from analysis.intake.pii import CDISC_SUFFIXES, CDISC_VARIABLES, REDCAP_COLUMNS

__all__ = ["dictionary_page_lines"]


def dictionary_page_lines() -> list[str]:
    """Markdown lines for the data-dictionary page: the ``dataset.yaml`` keys for EDC and CDISC exports.

    Returns
    -------
    list of str
        One heading and its paragraphs, tables and a YAML example (no trailing blank line needed).
    """
    category = sorted({c.name for t in TABLES for c in columns(t)
                       if c.type == "category" and c.allowed is not None and c.name != "arm"})
    yes_no = sorted({c.name for t in TABLES for c in columns(t) if c.type == "bool"})
    formats = ", ".join(f"`{f}`" for f in DATE_FORMATS)
    return [
        "## Exports as they come: dates, labels, EDC and CDISC columns", "",
        "An EDC export (REDCap, OpenClinica, Castor) records dates, not weeks, and labels such as `Yes`/`No`. "
        "Two more keys of a folder's `dataset.yaml` read it as it comes:", "",
        "```yaml",
        "visit_dates:                 # weeks computed from dates instead of a week column",
        "  day0: infusion_date        # patients: day 0 (the infusion)",
        "  visits: visit_date         # visits: the visit's date",
        "  adverse_events: ae_onset_date   # adverse events: onset date -> week of onset (floor of days / 7)",
        "  window_days: 7             # or per scheduled week: {0: 3, 1: 2, 2: 2, 3: 2, 4: 2, 12: 7, 24: 7, 48: 14}",
        "  date_format: dd/mm/yyyy    # only when day and month cannot be told apart",
        "values:                      # your labels -> the dictionary's values, for any category or yes/no column",
        "  serious: {\"Yes\": true, \"No\": false}",
        "  sex: {Female: F, Male: M}",
        "```", "",
        "**`visit_dates:`** A visit `d` days after its patient's day 0 is the visit of the scheduled week `w` whose "
        "window holds it (`|d - 7w| <= window_days`); where two windows overlap the nearest scheduled week wins (on a "
        "tie, the earlier). The baseline window reaches `window_days` before day 0. A visit outside every window "
        "is an error naming the row, the date, the days from day 0 and the nearest scheduled week; two visits of one "
        "patient in one window are an error naming both rows. An adverse event's week of onset is floor(days / 7); "
        "an onset before day 0 is an error. A `week` column may be kept beside the dates; the two must then "
        f"agree. Dates are read as ISO (`2020-03-17`, with or without a time), as `dd/mm/yyyy` or `mm/dd/yyyy` when a "
        "day above 12 shows which, and as Excel serial numbers in `.xlsx` workbooks; a column that could be read "
        f"both ways is refused, with an example row, until `date_format:` ({formats}) says which. `window_days` per "
        "week may name only scheduled visit weeks; a scheduled week it leaves out has no window (a warning: a visit "
        "there is refused).", "",
        "**Dates never leave the machine.** Once the weeks are computed, the date columns are dropped on reading: "
        "no table of results, executed notebook, page or download of a build holds a date of a patient (dates "
        "appear only in `validate`'s error messages, on your own screen).", "",
        "**`values:`** maps your labels to the dictionary's values in the category columns "
        + ", ".join(f"`{c}`" for c in category) + " and the yes/no columns " + ", ".join(f"`{c}`" for c in yes_no)
        + " (`true`/`false`; `1`/`0` and `yes`/`no` in any case are read without a map). Arm labels are mapped "
        "under `arms:`. A label neither allowed nor mapped is an error that lists the labels found. Quoting "
        "`\"Yes\"` and `\"No\"` is not needed: keys keep their text.", "",
        "**Columns of REDCap and CDISC exports** are recognised, never refused as identifiers, and (unless "
        "`columns:` maps them, e.g. `USUBJID: patient_id`) ignored with a note: "
        + ", ".join(f"`{c}`" for c in REDCAP_COLUMNS) + "; the CDISC SDTM/ADaM variables "
        + ", ".join(f"`{c}`" for c in CDISC_VARIABLES) + ", and SDTM names made of a two-letter domain and one of the "
        "suffixes " + ", ".join(f"`--{s}`" for s in CDISC_SUFFIXES) + ". Names, addresses, contact details and "
        "dates of birth (also CDISC `BRTHDTC`) are refused by column name and by content, as any column.", "",
    ]
