"""The bad-input battery: a small valid mini-cohort and one broken variant per case.

Everything is built programmatically from the data dictionary, so a new dictionary column is picked up
automatically. ``CASES`` lists (id, builder, expected problems); each builder writes one broken folder.
Spreadsheet row numbers: header = row 1, first data row = row 2.

Mini-cohort: 4 patients (P01, P02 in MSCT; P03, P04 in control), visits at weeks 0, 12, 48 in that order
(patient i, 0-based, week j at row 2 + 3*i + j), and 2 adverse events.
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from analysis.intake.dictionary import TABLES, columns

PATIENTS = [("P01", "MSCT"), ("P02", "MSCT"), ("P03", "control"), ("P04", "control")]
WEEKS = [0, 12, 48]


def _fmt(x: float) -> str:
    return f"{x:g}"


def valid_value(col, i: int = 0) -> str:
    """A valid cell for a dictionary column (varied slightly by ``i``)."""
    if col.allowed is not None:
        return str(col.allowed[i % len(col.allowed)])
    if col.type == "bool":
        return ("true", "false")[i % 2]
    if col.type == "str":
        return f"text{i}"
    lo = col.min if col.min is not None else 0
    hi = col.max if col.max is not None else lo + 10
    mid = (lo + hi) / 2
    if col.step:
        mid = round(mid / col.step) * col.step + (i % 3) * col.step
    if col.type == "int":
        return str(int(mid) + i % 3)
    return _fmt(round(mid + (0 if col.step else 0.1 * (i % 5)), 3))


def mini_tables() -> dict[str, dict]:
    """``{table: {"header": [...], "rows": [dict, ...]}}`` of the valid mini-cohort, all strings."""
    out = {}
    pcols = columns("patients")
    prow = []
    for i, (pid, arm) in enumerate(PATIENTS):
        r = {c.name: valid_value(c, i) for c in pcols}
        r.update(patient_id=pid, arm=arm)
        prow.append(r)
    out["patients"] = {"header": [c.name for c in pcols], "rows": prow}
    vcols = columns("visits")
    vrow = []
    for i, (pid, _) in enumerate(PATIENTS):
        for j, w in enumerate(WEEKS):
            r = {c.name: valid_value(c, i + j) for c in vcols}
            r.update(patient_id=pid, week=str(w))
            vrow.append(r)
    out["visits"] = {"header": [c.name for c in vcols], "rows": vrow}
    acols = columns("adverse_events")
    arow = [
        {"patient_id": "P01", "week": "0", "event": "fever", "serious": "false", "related": "true"},
        {"patient_id": "P03", "week": "12", "event": "infection", "serious": "no", "related": ""},
    ]
    out["adverse_events"] = {"header": [c.name for c in acols], "rows": arow}
    return out


def visit_row(patient: int, week_index: int) -> int:
    """Spreadsheet row of the mini-cohort visit for patient index (0-based) and week index."""
    return 2 + 3 * patient + week_index


def write_csv(path: Path, header: list[str], rows: list[dict], *, encoding="utf-8", delimiter=",") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([r.get(h, "") for h in header])
    return path


def write_xlsx(path: Path, sheets: dict[str, tuple[list[str], list[dict]]]) -> Path:
    """Write sheets (name -> (header, rows)) to an .xlsx workbook; numbers stay text-typed as given."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, (header, rows) in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(header)
        for r in rows:
            ws.append([_num(r.get(h, "")) for h in header])
    wb.save(path)
    return path


def _num(v: str):
    """Numbers as numbers (as a user typing into Excel would have them), the rest as text."""
    if not isinstance(v, str):
        return v
    if v == "":
        return None
    try:
        f = float(v)
        return int(f) if f.is_integer() and "." not in v else f
    except ValueError:
        return v


def write_folder(folder: Path, tables: dict | None = None, *, skip=()) -> Path:
    """Write a mini-cohort (or the given tables) as CSV files into ``folder``."""
    tables = tables or mini_tables()
    folder.mkdir(parents=True, exist_ok=True)
    for t in TABLES:
        if t in skip:
            continue
        write_csv(folder / f"{t}.csv", tables[t]["header"], tables[t]["rows"])
    return folder


def folder_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file in a folder (to prove validation wrote nothing)."""
    if not folder.is_dir():
        return {}
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


# ------------------------------------------------------------------------------------------------
# The cases
# ------------------------------------------------------------------------------------------------
ANY = object()  # "any row" in an expectation


@dataclass
class Expect:
    file: str
    row: object  # int, None or ANY
    column: object  # str, None or ANY
    rule: str  # substring of the rule (case-insensitive)
    severity: str = "error"


@dataclass
class Case:
    id: str
    build: Callable[[Path], Path]
    expect: list[Expect] = field(default_factory=list)
    no_errors: bool = False  # the case is valid (maybe with warnings)
    # issue 20: the diagnosis leads and its knock-on errors are suppressed
    lead: bool = False  # the first error is the first expectation
    absent: tuple = ()  # substrings (case-insensitive) no error may contain
    max_errors: int | None = None  # at most this many error lines


def _cell(table, row, col, value):
    """Builder: the mini-cohort with one cell changed (row = spreadsheet row)."""

    def build(tmp: Path) -> Path:
        t = mini_tables()
        t[table]["rows"][row - 2][col] = value
        return write_folder(tmp / "data", t)

    return build


def _tables(edit):
    """Builder: the mini-cohort after ``edit(tables)``."""

    def build(tmp: Path) -> Path:
        t = mini_tables()
        edit(t)
        return write_folder(tmp / "data", t)

    return build


def _files(edit):
    """Builder: the mini-cohort written, then ``edit(folder)`` on the files."""

    def build(tmp: Path) -> Path:
        folder = write_folder(tmp / "data")
        edit(folder)
        return folder

    return build


def _add_col(table, name, value="x"):
    def edit(t):
        t[table]["header"].append(name)
        for r in t[table]["rows"]:
            r[name] = value

    return edit


def _drop_col(table, name):
    def edit(t):
        t[table]["header"].remove(name)

    return edit


def _drop_rows(table, pred):
    def edit(t):
        t[table]["rows"] = [r for r in t[table]["rows"] if not pred(r)]

    return edit


def _dup_row(table, index):
    def edit(t):
        t[table]["rows"].append(dict(t[table]["rows"][index]))

    return edit


def _header_only(table):
    def edit(t):
        t[table]["rows"] = []

    return edit


def _rewrite(name, transform):
    def edit(folder: Path):
        p = folder / name
        p.write_bytes(transform(p.read_bytes()))

    return edit


def _as_xlsx(table, sheets):
    """Replace ``table``.csv by an .xlsx whose sheets are ``sheets`` (names; the table goes on the last)."""

    def edit(folder: Path):
        t = mini_tables()[table]
        (folder / f"{table}.csv").unlink()
        content = {name: (["note"], [{"note": "see other sheet"}]) for name in sheets[:-1]}
        content[sheets[-1]] = (t["header"], t["rows"])
        write_xlsx(folder / f"{table}.xlsx", content)

    return edit


def _missing_folder(tmp: Path) -> Path:
    return tmp / "does_not_exist"


def _file_not_folder(tmp: Path) -> Path:
    p = tmp / "afile.csv"
    p.write_text("x\n")
    return p


def _ragged(b: bytes) -> bytes:
    lines = b.split(b"\n")
    lines[2] = lines[2] + b",extra"
    return b"\n".join(lines)


def _broken_yaml(folder: Path):
    (folder / "dataset.yaml").write_text("synthetic: true\nseed: [2018\ngenerator: x\n", encoding="utf-8")


def _list_yaml(folder: Path):
    (folder / "dataset.yaml").write_text("- synthetic\n- true\n", encoding="utf-8")


def _many_bad(t):
    for r in t["visits"]["rows"]:
        r["haq_di"] = "1.3"
    base = t["visits"]["rows"][0]
    # 300 extra patients with visits, all with an off-grid HAQ
    for k in range(300):
        pid = f"X{k:03d}"
        t["patients"]["rows"].append({**t["patients"]["rows"][0], "patient_id": pid})
        t["visits"]["rows"].append({**base, "patient_id": pid, "week": "0"})


def _latin1(tmp: Path) -> Path:
    A = "adverse_events.csv"
    t = mini_tables()
    t["adverse_events"]["rows"][1]["event"] = "fièvre"
    folder = write_folder(tmp / "data", t)
    write_csv(folder / A, t["adverse_events"]["header"], t["adverse_events"]["rows"], encoding="latin-1")
    return folder


V, P, A = "visits.csv", "patients.csv", "adverse_events.csv"
R = visit_row

CASES: list[Case] = [
    # folder and files
    Case("missing_folder", _missing_folder, [Expect(ANY, None, None, "data folder does not exist")]),
    Case("path_is_file", _file_not_folder, [Expect(ANY, None, None, "not a folder")]),
    Case("missing_patients", lambda tmp: write_folder(tmp / "data", skip=("patients",)),
         [Expect(P, None, None, "missing file")]),
    Case("missing_visits", lambda tmp: write_folder(tmp / "data", skip=("visits",)),
         [Expect(V, None, None, "missing file")]),
    Case("missing_adverse_events", lambda tmp: write_folder(tmp / "data", skip=("adverse_events",)),
         [Expect(A, None, None, "missing file")]),
    Case("both_csv_and_xlsx", _files(lambda f: write_xlsx(f / "patients.xlsx", {"patients": (["patient_id"], [])})),
         [Expect("patients.csv and patients.xlsx", None, None, "ambiguous")]),
    Case("empty_file", _files(_rewrite(V, lambda b: b"")), [Expect(V, None, None, "empty (0 bytes)")]),
    Case("latin1", _latin1, [Expect(A, 3, None, "not valid UTF-8: byte 0xe8 on line 3")]),
    Case("utf16", _files(_rewrite(P, lambda b: b.decode("utf-8").encode("utf-16"))),
         [Expect(P, None, None, "UTF-16")]),
    Case("semicolon_delimiter", _files(_rewrite(P, lambda b: b.replace(b",", b";"))),
         [Expect(P, 1, None, "semicolon")]),
    Case("tab_delimiter", _files(_rewrite(V, lambda b: b.replace(b",", b"\t"))),
         [Expect(V, 1, None, "tab")]),
    Case("ragged_row", _files(_rewrite(P, _ragged)), [Expect(P, 3, None, "fields but the header has")]),
    Case("blank_lines_only", _files(_rewrite(A, lambda b: b"\n\n")), [Expect(A, None, None, "no header row")]),
    Case("unclosed_quote", _files(_rewrite(A, lambda b: b + b'"P01,0,fever,true,\n')),
         [Expect(A, 4, None, "never closed")]),
    Case("values_without_header", _files(_rewrite(P, lambda b: b.replace(b"\n", b",\n").replace(b",\n", b",x\n")
                                                  .replace(b"prior_biologic,x", b"prior_biologic,", 1))),
         [Expect(P, 1, None, "no header")]),
    Case("duplicate_column_name", _tables(_add_col("patients", "age", "50")),
         [Expect(P, None, "age", "duplicate column name")]),
    Case("header_only_patients", _tables(_header_only("patients")), [Expect(P, None, None, "no data rows")]),
    Case("header_only_visits", _tables(_header_only("visits")), [Expect(V, None, None, "no data rows")]),
    Case("header_only_adverse_events_is_valid", _tables(_header_only("adverse_events")), [], no_errors=True),
    Case("xlsx_several_sheets_none_matching", _files(_as_xlsx("visits", ["Notes", "Data"])),
         [Expect("visits.xlsx", None, None, "'Notes', 'Data'")]),
    # columns
    Case("missing_required_column", _tables(_drop_col("patients", "age")),
         [Expect(P, None, "age", "missing required column")]),
    Case("missing_required_column_visits", _tables(_drop_col("visits", "tjc28")),
         [Expect(V, None, "tjc28", "missing required column")]),
    Case("unknown_column_is_warning", _tables(_add_col("visits", "comment", "ok")),
         [Expect(V, None, "comment", "unknown column", "warning")], no_errors=True),
    Case("identifier_name", _tables(_add_col("patients", "Name", "Wang Li")),
         [Expect(P, None, "Name", "privacy")]),
    Case("identifier_date_of_birth", _tables(_add_col("patients", "date_of_birth", "1960-01-01")),
         [Expect(P, None, "date_of_birth", "direct identifier")]),
    Case("identifier_dob_upper", _tables(_add_col("patients", "DOB", "1960-01-01")),
         [Expect(P, None, "DOB", "privacy")]),
    Case("identifier_phone", _tables(_add_col("adverse_events", "phone", "123")),
         [Expect(A, None, "phone", "privacy")]),
    Case("identifier_national_id", _tables(_add_col("visits", "NationalID", "123")),
         [Expect(V, None, "NationalID", "privacy")]),
    # cell types
    Case("abc_in_int", _cell("patients", 3, "age", "abc"), [Expect(P, 3, "age", "whole number")]),
    Case("fraction_in_int", _cell("visits", R(1, 1), "tjc28", "2.5"), [Expect(V, R(1, 1), "tjc28", "whole number")]),
    Case("abc_in_float", _cell("visits", R(0, 0), "crp_mg_l", "high"), [Expect(V, R(0, 0), "crp_mg_l", "must be a number")]),
    Case("decimal_comma", _cell("visits", R(2, 0), "esr_mm_h", "12,5"),
         [Expect(V, R(2, 0), "esr_mm_h", "decimal separator")]),
    Case("out_of_range_high", _cell("patients", 2, "age", "150"), [Expect(P, 2, "age", "between 18 and 100")]),
    Case("out_of_range_low", _cell("visits", R(3, 2), "esr_mm_h", "0.5"), [Expect(V, R(3, 2), "esr_mm_h", "out of range")]),
    Case("negative", _cell("visits", R(0, 1), "crp_mg_l", "-1"), [Expect(V, R(0, 1), "crp_mg_l", "negative")]),
    Case("nan_text", _cell("visits", R(1, 0), "il_6", "NaN"), [Expect(V, R(1, 0), "il_6", "NaN")]),
    Case("infinity", _cell("visits", R(1, 2), "ifn_g", "inf"), [Expect(V, R(1, 2), "ifn_g", "finite")]),
    Case("haq_off_grid", _cell("visits", R(2, 1), "haq_di", "1.3"),
         [Expect(V, R(2, 1), "haq_di", "multiple of 0.125 between 0 and 3")]),
    Case("haq_above_max", _cell("visits", R(2, 2), "haq_di", "3.125"), [Expect(V, R(2, 2), "haq_di", "between 0 and 3")]),
    Case("arm_misspelled", _cell("patients", 2, "arm", "MCST"), [Expect(P, 2, "arm", "did you mean 'MSCT'?")]),
    Case("arm_wrong_case", _cell("patients", 4, "arm", "Control"), [Expect(P, 4, "arm", "did you mean 'control'?")]),
    Case("sex_not_allowed", _cell("patients", 5, "sex", "female"), [Expect(P, 5, "sex", "must be one of 'F', 'M'")]),
    Case("week_not_in_design", _cell("visits", R(0, 1), "week", "13"), [Expect(V, R(0, 1), "week", "scheduled visit week")]),
    Case("negative_week", _cell("visits", R(3, 1), "week", "-1"), [Expect(V, R(3, 1), "week", "before randomisation")]),
    Case("ae_week_out_of_range", _cell("adverse_events", 2, "week", "60"), [Expect(A, 2, "week", "between 0 and 48")]),
    Case("empty_required_cell", _cell("patients", 3, "weight_kg", ""), [Expect(P, 3, "weight_kg", "empty cell")]),
    Case("empty_patient_id_in_visits", _cell("visits", R(2, 2), "patient_id", ""),
         [Expect(V, R(2, 2), "patient_id", "empty cell")]),
    Case("bool_invalid", _cell("adverse_events", 3, "serious", "maybe"), [Expect(A, 3, "serious", "true or false")]),
    Case("bool_empty_not_allowed", _cell("adverse_events", 2, "serious", ""), [Expect(A, 2, "serious", "empty cell")]),
    Case("lloq_token_where_not_allowed", _cell("visits", R(0, 0), "crp_mg_l", "<LLOQ"),
         [Expect(V, R(0, 0), "crp_mg_l", "lower limit of quantification")]),
    Case("uloq_token_where_not_allowed", _cell("visits", R(0, 2), "il_6", ">ULOQ"),
         [Expect(V, R(0, 2), "il_6", "upper limit of quantification")]),
    # keys and cross-table
    Case("duplicate_patient", _tables(_dup_row("patients", 1)), [Expect(P, 6, "patient_id", "already on row 3")]),
    Case("duplicate_patient_week", _tables(_dup_row("visits", 4)), [Expect(V, 14, "patient_id", "already on row 6")]),
    Case("visit_unknown_patient", _cell("visits", R(3, 2), "patient_id", "P99"),
         [Expect(V, R(3, 2), "patient_id", "not in patients.csv")]),
    Case("ae_unknown_patient", _cell("adverse_events", 3, "patient_id", "P77"),
         [Expect(A, 3, "patient_id", "not in patients.csv")]),
    Case("no_baseline", _tables(_drop_rows("visits", lambda r: r["patient_id"] == "P02" and r["week"] == "0")),
         [Expect(P, 3, "patient_id", "no baseline visit (week 0)")]),
    # a single-arm trial is valid: one note says the comparisons between the arms are not available
    Case("one_arm_only_is_valid_with_a_note", _tables(lambda t: [r.update(arm="MSCT") for r in t["patients"]["rows"]]),
         [Expect(P, None, "arm", "one arm only ('MSCT'; no patient in 'control'): comparisons between the arms are "
                                 "not available", "note")], no_errors=True),
    Case("no_patient_in_any_arm", _tables(lambda t: [r.update(arm="placebo") for r in t["patients"]["rows"]]),
         [Expect(P, None, "arm", "no patients in any arm (MSCT and control)")]),
    Case("das28_incomplete", _cell("visits", R(1, 1), "esr_mm_h", ""),
         [Expect(V, R(1, 1), "esr_mm_h", "DAS28 components incomplete: has tjc28, sjc28, patient_global_mm, "
                                         "missing esr_mm_h")]),
    # metadata
    Case("broken_dataset_yaml", _files(_broken_yaml), [Expect("dataset.yaml", ANY, None, "not valid YAML")]),
    Case("dataset_yaml_not_mapping", _files(_list_yaml), [Expect("dataset.yaml", None, None, "mapping")]),
    # volume: many identical problems are summarised, not listed one by one
    Case("many_bad_rows_summarised", _tables(_many_bad),
         [Expect(V, 2, "haq_di", "multiple of 0.125"), Expect(V, None, "haq_di", "more rows")]),
]


# ------------------------------------------------------------------------------------------------
# Issue 20: malformed exports get their real cause; personal identifiers are refused
# ------------------------------------------------------------------------------------------------
def _european(names=("visits",), declare=False):
    """Tables written with ';' as separator and ',' as decimal mark (a European Excel export)."""

    def build(tmp: Path) -> Path:
        t = mini_tables()
        folder = write_folder(tmp / "data", t)
        for name in names:
            rows = [{k: (v.replace(".", ",") if _is_number(v) else v) for k, v in r.items()} for r in t[name]["rows"]]
            write_csv(folder / f"{name}.csv", t[name]["header"], rows, delimiter=";")
        if declare:
            (folder / "dataset.yaml").write_text('csv:\n  separator: ";"\n  decimal: ","\n', encoding="utf-8")
        return folder

    return build


def _is_number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def _replace_by_dir(name):
    def edit(folder: Path):
        (folder / name).unlink()
        (folder / name).mkdir()
        write_csv(folder / name / name, ["patient_id"], [{"patient_id": "P01"}])

    return edit


def _symlink(name, target):
    def edit(folder: Path):
        (folder / name).unlink()
        (folder / name).symlink_to(target)

    return edit


def _rename(name, new):
    def edit(folder: Path):
        (folder / name).rename(folder / new)

    return edit


def _xlsx_bytes_as(table, name):
    """The table saved as an .xlsx workbook, under the file name ``name``."""

    def edit(folder: Path):
        t = mini_tables()[table]
        (folder / f"{table}.csv").unlink()
        write_xlsx(folder / name, {table: (t["header"], t["rows"])})

    return edit


def _gzip(name):
    import gzip

    return _rewrite(name, lambda b: gzip.compress(b, mtime=0))


def _zip(name):
    def edit(folder: Path):
        import io
        import zipfile

        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(name, (folder / name).read_bytes())
        (folder / name).write_bytes(buf.getvalue())

    return edit


_HTML = (b"<!DOCTYPE html>\n<html><head><title>Session expired</title></head>\n"
         b"<body><p>Please log in again.</p></body></html>\n")


def _leading_zeros(t):
    for r in t["visits"]["rows"]:
        r["patient_id"] = r["patient_id"].replace("P0", "P")


def _ids_lower(t):
    for r in t["visits"]["rows"]:
        r["patient_id"] = r["patient_id"].lower()


def _repeat_header(b: bytes) -> bytes:
    lines = b.split(b"\n")
    lines.insert(8, lines[0])  # becomes row 9
    return b"\n".join(lines)


def _week_dates(t):
    import datetime as dt

    for r in t["visits"]["rows"]:
        r["week"] = (dt.date(2019, 3, 4) + dt.timedelta(weeks=int(r["week"]))).isoformat()


def _week_serials(t):
    for r in t["visits"]["rows"]:
        r["week"] = str(43528 + 7 * int(r["week"]))


def _formula_without_value(folder: Path):
    """visits.xlsx whose esr_mm_h cells on rows 2-4 are formulas never calculated (as written by openpyxl)."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    t = mini_tables()["visits"]
    (folder / "visits.csv").unlink()
    write_xlsx(folder / "visits.xlsx", {"visits": (t["header"], t["rows"])})
    wb = openpyxl.load_workbook(folder / "visits.xlsx")
    ws = wb["visits"]
    letter = get_column_letter(t["header"].index("esr_mm_h") + 1)
    for row in (2, 3, 4):
        ws[f"{letter}{row}"] = "=10+5"
    wb.save(folder / "visits.xlsx")


def _excel_error(t):
    t["visits"]["rows"][3]["crp_mg_l"] = "#DIV/0!"


def _nul(b: bytes) -> bytes:
    i = b.index(b"\n", b.index(b"\n") + 1)  # end of line 2
    return b[:i] + b"\x00\x00\x00" + b[i:]


def _utf16_no_bom(b: bytes) -> bytes:
    return b.decode("utf-8").encode("utf-16-le")


def _gbk(tmp: Path) -> Path:
    t = mini_tables()
    t["adverse_events"]["rows"][1]["event"] = "发热"
    folder = write_folder(tmp / "data", t)
    write_csv(folder / A, t["adverse_events"]["header"], t["adverse_events"]["rows"], encoding="gbk")
    return folder


def _junk(n_rows=1_500):
    """visits.csv with the right header and a random-looking token in every cell."""

    def edit(folder: Path):
        import random

        rnd = random.Random(7)
        header = mini_tables()["visits"]["header"]
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        lines = [",".join(header)]
        for _ in range(n_rows):
            lines.append(",".join("".join(rnd.choice(alphabet) for _ in range(6)) for _ in header))
        (folder / "visits.csv").write_text("\n".join(lines) + "\n")

    return edit


def _with_yaml(text, edit=None):
    def build(tmp: Path) -> Path:
        t = mini_tables()
        if edit is not None:
            edit(t)
        folder = write_folder(tmp / "data", t)
        (folder / "dataset.yaml").write_text(text, encoding="utf-8")
        return folder

    return build


def _value_in(table, row, col, value):
    """Builder: an unknown text column ``col`` (or a dictionary text column) holding ``value`` on one row."""

    def edit(t):
        if col not in t[table]["header"]:
            t[table]["header"].append(col)
            for r in t[table]["rows"]:
                r[col] = "ok"
        t[table]["rows"][row - 2][col] = value

    return _tables(edit)


_KNOCK_ON = ("not in patients.csv", "no baseline visit")

CASES += [
    # what the file really is
    Case("european_csv", _european(), [Expect(V, 1, None, "visits.csv uses ';' as separator and ',' as decimal mark (a European Excel export): "
                             "save it as 'CSV UTF-8 (comma delimited)', or declare both in dataset.yaml")],
         lead=True, max_errors=1),
    Case("european_csv_declared_is_valid", _european(("patients", "visits", "adverse_events"), declare=True),
         [], no_errors=True),
    Case("european_csv_declared_top_level_is_valid",
         lambda tmp: (_european(("visits",))(tmp), (tmp / "data" / "dataset.yaml").write_text(
             'separator: ";"\ndecimal: ","\n'))[0], [], no_errors=True),
    Case("separator_declared_wrongly", _with_yaml('separator: "x"\n'),
         [Expect("dataset.yaml", None, None, "'separator' must be one of")]),
    Case("folder_named_like_table", _files(_replace_by_dir(P)), [Expect(P, None, None, "is a folder, not a file")],
         lead=True, max_errors=1),
    Case("symlink_loop", _files(_symlink(P, P)), [Expect(P, None, None, "symbolic link that loops")],
         lead=True, max_errors=1),
    Case("broken_symlink", _files(_symlink(V, "elsewhere/visits.csv")), [Expect(V, None, None, "does not exist")]),
    Case("xlsx_named_csv", _files(_xlsx_bytes_as("patients", P)),
         [Expect(P, None, None, "Excel workbook with a .csv name: rename it to patients.xlsx")], lead=True, max_errors=1),
    Case("gzip_named_csv", _files(_gzip(V)), [Expect(V, None, None, "gzip-compressed")], lead=True, max_errors=1),
    Case("zip_named_csv", _files(_zip(A)), [Expect(A, None, None, "ZIP archive")], max_errors=1),
    Case("pdf_named_csv", _files(_rewrite(V, lambda b: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")),
         [Expect(V, None, None, "PDF document")], max_errors=1),
    Case("html_named_csv", _files(_rewrite(V, lambda b: _HTML)), [Expect(V, None, None, "web page (HTML)")],
         lead=True, max_errors=1, absent=("missing required column",)),
    Case("csv_named_xlsx", _files(_rename(P, "patients.xlsx")),
         [Expect("patients.xlsx", None, None, "CSV text file with an .xlsx name: rename it to patients.csv")],
         lead=True, max_errors=1, absent=("BadZipFile",)),
    Case("old_xls_named_xlsx", _files(lambda f: (f / P).unlink() or (f / "patients.xlsx").write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)), [Expect("patients.xlsx", None, None, "97-2003")]),
    Case("csv_txt_extension", _files(_rename(V, "visits.csv.txt")),
         [Expect(V, None, None, "found visits.csv.txt")], lead=True, max_errors=1),
    Case("copy_suffix_name", _files(_rename(A, "adverse_events (1).csv")),
         [Expect(A, None, None, "found adverse_events (1).csv; rename it to adverse_events.csv")]),
    Case("nul_bytes", _files(_rewrite(V, _nul)), [Expect(V, 2, None, "NUL byte")], lead=True, max_errors=1),
    Case("utf16_without_bom", _files(_rewrite(P, _utf16_no_bom)), [Expect(P, None, None, "UTF-16")], max_errors=1),
    Case("gbk_encoding", _gbk, [Expect(A, 3, None, "GBK")]),
    Case("title_lines_above_header", _files(_rewrite(V, lambda b: b"Visits export,,\nHospital A 2019\n\n" + b)),
         [Expect(V, 1, None, "the column names are on line 4, not on line 1: delete the 3 lines above them")],
         lead=True, max_errors=1),
    Case("excel_sep_hint_line", _files(_rewrite(P, lambda b: b"sep=;\n" + b.replace(b",", b";"))),
         [Expect(P, 1, None, "Excel's separator hint 'sep=;'")], lead=True, max_errors=1),
    Case("endless_line", _files(_rewrite(V, lambda b: b.split(b"\n")[0] + b"\n" + b"x1," * 400_000)),
         [Expect(V, 2, None, "MB long: this is not a table")], lead=True, max_errors=1),
    Case("junk_with_right_header", _files(_junk()), [Expect(V, None, None, "does not hold valid 'visits' data")],
         lead=True),
    # cross-table diagnoses
    Case("ids_without_leading_zeros", _tables(_leading_zeros),
         [Expect(V, None, "patient_id", "ids in visits.csv match patients.csv only without leading zeros ('P1' against 'P01')")], lead=True, max_errors=1,
         absent=_KNOCK_ON),
    Case("ids_in_lower_case", _tables(_ids_lower),
         [Expect(V, None, "patient_id", "upper and lower case")], lead=True, max_errors=1, absent=_KNOCK_ON),
    Case("header_repeated_mid_file", _files(_rewrite(V, _repeat_header)),
         [Expect(V, 9, None, "row 9 repeats the header")], lead=True, max_errors=1),
    Case("week_holds_dates", _tables(_week_dates),
         [Expect(V, 2, "week", "the week column holds dates: write weeks since the infusion")],
         lead=True, max_errors=1, absent=("whole number", "no baseline visit")),
    Case("week_holds_excel_serials", _tables(_week_serials),
         [Expect(V, 2, "week", "Excel date serial numbers")], lead=True, max_errors=1),
    Case("xlsx_formula_without_value", _files(_formula_without_value),
         [Expect("visits.xlsx", 2, None, "formula without a saved result")], lead=True, max_errors=1,
         absent=("DAS28 components incomplete",)),
    Case("excel_error_value", _tables(_excel_error),
         [Expect(V, 5, "crp_mg_l", "spreadsheet error '#DIV/0!'")], lead=True, max_errors=1),
    # personal identifiers: column names by token, English and pinyin
    Case("identifier_patient_name", _tables(_add_col("patients", "patient_name", "Wang Li")),
         [Expect(P, None, "patient_name", "privacy")], max_errors=1),
    Case("identifier_camel_phone", _tables(_add_col("patients", "ContactPhoneNo", "x")),
         [Expect(P, None, "ContactPhoneNo", "privacy")]),
    Case("identifier_email_address", _tables(_add_col("patients", "Email Address", "x")),
         [Expect(P, None, "Email Address", "privacy")]),
    Case("identifier_birth_year", _tables(_add_col("patients", "birth_year", "1960")),
         [Expect(P, None, "birth_year", "privacy")]),
    Case("identifier_id_card", _tables(_add_col("patients", "ID Card No", "x")),
         [Expect(P, None, "ID Card No", "privacy")]),
    Case("identifier_passport", _tables(_add_col("patients", "passport_number", "x")),
         [Expect(P, None, "passport_number", "privacy")]),
    Case("identifier_mrn", _tables(_add_col("visits", "MRN", "x")), [Expect(V, None, "MRN", "privacy")]),
    Case("identifier_pinyin_xingming", _tables(_add_col("patients", "xingming", "x")),
         [Expect(P, None, "xingming", "privacy")]),
    Case("identifier_pinyin_shouji", _tables(_add_col("patients", "shouji_haoma", "x")),
         [Expect(P, None, "shouji_haoma", "privacy")]),
    Case("identifier_pinyin_dianhua", _tables(_add_col("patients", "LianxiDianhua", "x")),
         [Expect(P, None, "LianxiDianhua", "privacy")]),
    Case("identifier_pinyin_shenfenzheng", _tables(_add_col("patients", "ShenFenZhengHao", "x")),
         [Expect(P, None, "ShenFenZhengHao", "privacy")]),
    Case("identifier_pinyin_zhuyuanhao", _tables(_add_col("visits", "zhuyuanhao", "x")),
         [Expect(V, None, "zhuyuanhao", "privacy")]),
    Case("identifier_chinese_characters", _tables(_add_col("patients", "身份证号", "x")),
         [Expect(P, None, "身份证号", "privacy")]),
    # personal identifiers: values in free-text columns
    Case("pii_phone_in_event", _value_in("adverse_events", 3, "event", "fever, call 138 0013 8000"),
         [Expect(A, 3, "event", "phone number")]),
    Case("pii_email_in_unknown_column", _value_in("visits", 5, "comment", "sent to li.wang@example.com"),
         [Expect(V, 5, "comment", "e-mail address")]),
    Case("pii_chinese_id_in_unknown_column", _value_in("patients", 4, "note", "11010519491231002X"),
         [Expect(P, 4, "note", "national identity number")]),
    Case("pii_date_of_birth_in_unknown_column", _value_in("patients", 2, "remark", "born 12/03/1961"),
         [Expect(P, 2, "remark", "date of birth")]),
    Case("pii_declared_safe_is_valid",
         _with_yaml("safe_columns: [drug_name, comment]\n",
                    lambda t: (_add_col("visits", "drug_name", "methotrexate")(t),
                               _add_col("visits", "comment", "seen 2001-02-03")(t))),
         [Expect(V, None, "drug_name", "unknown column", "warning")], no_errors=True),
    Case("pii_id_with_wrong_check_digit_is_not_an_id", _value_in("patients", 4, "note", "110105194912310021"),
         [], no_errors=True),
]
