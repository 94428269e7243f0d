"""What a table file really is, before it is parsed; reading CSV tables in bounded memory.

A malformed export usually fails for one reason that a parser reports as something else: an Excel workbook
saved under a ``.csv`` name is "not valid UTF-8", a European export (``;`` separator, ``,`` decimal mark) has
"26 fields but the header has 1", a web page saved as ``visits.csv`` lacks every column. This module looks
at the bytes first and names the cause and the fix in one :class:`~analysis.intake.problem.Problem`:

- :func:`folder_problems`: the folder or ``dataset.yaml`` cannot be read, or its CSV options are wrong;
- :func:`missing_file`: why a table was not found (a folder or a looping/broken link with the table's name,
  ``visits.csv.txt``, ``Visits (1).csv`` ...);
- :func:`check_file`: what the bytes are (xlsx/zip/gzip/PDF/HTML/old .xls under a ``.csv`` name, CSV text under
  a ``.xlsx`` name, NUL bytes, UTF-16, not UTF-8, ``;`` or tab separated) and whether the file can be read at all;
- :func:`read_csv`: the CSV reader of the validator, in chunks, so memory stays bounded; a file whose first rows
  are mostly junk is refused after one chunk instead of being read to the end.

European CSVs are read directly when ``dataset.yaml`` declares both marks (:func:`csv_options`)::

    separator: ";"      # or, equivalently, under a block:   csv: {separator: ";", decimal: ","}
    decimal: ","

Called from :mod:`analysis.intake.validate` (:func:`~analysis.intake.validate.validate_and_read` and
:func:`~analysis.intake.validate.read_table_strings`). A file of junk is recognised by the data contract's own
rules (:mod:`analysis.intake.contract`) run on a sample of its first rows. Files are only opened for reading.
"""
from __future__ import annotations

import codecs
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis.intake.contract import check_column, check_table
from analysis.intake.dictionary import TABLES, columns
from analysis.intake.grid import grid_to_frame
from analysis.intake.problem import Problem, ProblemSink

__all__ = ["CHUNK_ROWS", "CsvOptions", "check_file", "csv_options", "folder_problems", "missing_file", "read_csv"]

#: Rows parsed at a time by :func:`read_csv` (bounds the memory a file of unique junk can take).
CHUNK_ROWS = 20_000
#: Rows of the first chunk (small: a file of junk is recognised after reading only these).
FIRST_CHUNK_ROWS = 5_000
#: A line longer than this (bytes) is not a table's row.
MAX_LINE_BYTES = 1_000_000
#: Workbooks larger than this are sampled for junk (first rows, streamed) before they are read whole.
XLSX_SAMPLE_BYTES = 2_000_000
#: A chunk in which more than this share of the checked cells break their rule stops the reading.
JUNK_SHARE = 0.5
#: Fewer rows than this are never judged as junk (small files are simply validated in full).
JUNK_MIN_ROWS = 1_000
_SAMPLE_ROWS = 2_000
_BLOCK = 1 << 20
_HEAD = 1 << 16
_SEPARATORS = {",": "comma ','", ";": "semicolon ';'", "\t": "tab", "|": "vertical bar '|'"}
_DECIMALS = {".", ","}
_SAVE = "save it as 'CSV UTF-8 (comma delimited)'"


# ----------------------------------------------------------------------------------------------
# dataset.yaml: the CSV dialect
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CsvOptions:
    """The CSV dialect of a data folder: field separator and decimal mark (``","`` and ``"."`` by default)."""

    separator: str = ","
    decimal: str = "."


def _meta(folder: Path) -> dict:
    path = Path(folder) / "dataset.yaml"
    try:
        with open(path, "rb") as fh:
            meta = yaml.safe_load(fh.read().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return meta if isinstance(meta, dict) else {}


def csv_options(folder) -> tuple[CsvOptions, list[Problem]]:
    """The separator and decimal mark ``dataset.yaml`` declares, with any problem in the declaration.

    Both keys may be written at the top level of ``dataset.yaml`` or under a ``csv:`` block.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "dataset.yaml").write_text('csv:\\n  separator: ";"\\n  decimal: ","\\n')
    >>> csv_options(d)[0]
    CsvOptions(separator=';', decimal=',')
    >>> _ = (d / "dataset.yaml").write_text('separator: "x"\\n')
    >>> print(csv_options(d)[1][0].rule)  # doctest: +ELLIPSIS
    'separator' must be one of ...
    """
    meta = _meta(folder)
    block = meta.get("csv") if isinstance(meta.get("csv"), dict) else {}
    sep = block.get("separator", meta.get("separator", ","))
    dec = block.get("decimal", meta.get("decimal", "."))
    problems = []
    if sep not in _SEPARATORS:
        listed = ", ".join(repr(s) for s in _SEPARATORS)
        problems.append(Problem("dataset.yaml", None, None, None,
                                f"'separator' must be one of {listed} (quote it: separator: \";\"), got {sep!r}"))
        sep = ","
    if dec not in _DECIMALS:
        problems.append(Problem("dataset.yaml", None, None, None,
                                f"'decimal' must be '.' or ',' (quote it: decimal: \",\"), got {dec!r}"))
        dec = "."
    if sep == dec:
        problems.append(Problem("dataset.yaml", None, None, None,
                                f"'separator' and 'decimal' cannot both be {sep!r}"))
        sep, dec = ",", "."
    return CsvOptions(sep, dec), problems


# ----------------------------------------------------------------------------------------------
# Folder and missing files
# ----------------------------------------------------------------------------------------------
def folder_problems(folder) -> list[Problem]:
    """Problems that stop validation before any table is read: an unreadable folder or ``dataset.yaml``,
    or a wrong CSV dialect in ``dataset.yaml``.

    Examples
    --------
    >>> import tempfile
    >>> folder_problems(tempfile.mkdtemp())
    []
    """
    folder = Path(folder)
    try:
        list(folder.iterdir())
    except OSError as err:
        return [Problem(str(folder), None, None, None,
                        f"the data folder cannot be read ({_reason(err)}); give yourself read access to it "
                        "or copy the files to a folder of your own")]
    meta = folder / "dataset.yaml"
    if meta.is_dir():
        return [Problem("dataset.yaml", None, None, None,
                        "is a folder, not a file; remove it or replace it by the dataset.yaml file")]
    if meta.is_symlink() and not meta.exists():
        return [Problem("dataset.yaml", None, None, None, _link_text(meta))]
    if meta.is_file():
        try:
            with open(meta, "rb") as fh:
                fh.read(1)
        except OSError as err:
            return [Problem("dataset.yaml", None, None, None,
                            f"cannot be read ({_reason(err)}); give yourself read access (e.g. chmod u+r) "
                            "or copy the folder")]
    return csv_options(folder)[1]


def _reason(err: OSError) -> str:
    if isinstance(err, PermissionError):
        return "permission denied"
    return (err.strerror or type(err).__name__).lower()


def _link_text(path: Path) -> str:
    try:
        path.resolve(strict=True)
    except RuntimeError:
        return "is a symbolic link that loops (it points, directly or through other links, back to itself)"
    except OSError:
        pass
    try:
        target = path.readlink()
    except OSError:
        target = "?"
    if "loop" in str(_stat_error(path)).lower():
        return "is a symbolic link that loops (it points, directly or through other links, back to itself)"
    return f"is a symbolic link to '{target}', which does not exist"


def _stat_error(path: Path):
    try:
        path.stat()
    except OSError as err:
        return err
    return None


def missing_file(folder, table: str) -> Problem | None:
    """Why ``table`` has no ``.csv``/``.xlsx`` file in ``folder``, when something with its name is there.

    Returns None when nothing resembling the table is found (the caller reports a plain missing file).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "visits.csv.txt").write_text("patient_id\\n")
    >>> print(missing_file(d, "visits").rule)  # doctest: +ELLIPSIS
    missing file visits.csv: found visits.csv.txt; ... rename it to visits.csv
    >>> (d / "patients.csv").mkdir()
    >>> print(missing_file(d, "patients").rule)  # doctest: +ELLIPSIS
    patients.csv is a folder, not a file...
    """
    folder = Path(folder)
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return None
    exact = [p for p in entries if p.name.lower() in (f"{table}.csv", f"{table}.xlsx")]
    for p in exact:
        if p.is_symlink() and _stat_error(p) is not None:
            return Problem(p.name, None, None, None, f"{p.name} {_link_text(p)}; replace it by the file itself")
        if p.is_dir():
            return Problem(p.name, None, None, None,
                           f"{p.name} is a folder, not a file: the table '{table}' must be a file; if the table is "
                           f"inside that folder, move it out and remove the folder")
        if not p.is_file():
            return Problem(p.name, None, None, None,
                           f"{p.name} is not a regular file (a device, pipe or socket); save the table as a file")
    # Near misses: visits.csv.txt (Windows hides known extensions), "Visits (1).csv", "visits .csv", visits_v2.xlsx
    near = []
    for p in entries:
        low = p.name.lower()
        if not p.is_file() or low.startswith((".", "~$")):
            continue
        stem = re.sub(r"[\s_\-]*(\(\d+\)|copy|kopie|副本|v?\d+)?$", "", low.split(".")[0].strip())
        if stem.replace(" ", "_") == table or low.startswith(f"{table}.csv") or low.startswith(f"{table}.xlsx"):
            near.append(p.name)
    if not near:
        return None
    name = near[0]
    low = name.lower()
    if low.startswith((f"{table}.csv.", f"{table}.xlsx.")):
        right = name[: len(table) + (4 if low.startswith(f"{table}.csv") else 5)]
        fix = (f"the real name has an extra extension (Windows hides known extensions such as "
               f"'{name[len(right):]}'); rename it to {right}")
    else:
        kind = ".xlsx" if low.endswith(".xlsx") else ".csv"
        fix = f"rename it to {table}{kind}" if low.endswith((".csv", ".xlsx")) else (
            f"save it as {table}.csv (CSV UTF-8, comma-separated) or {table}.xlsx")
    others = f" (also found: {', '.join(near[1:])})" if len(near) > 1 else ""
    return Problem(f"{table}.csv", None, None, None,
                   f"missing file {table}.csv: found {name}{others}; {fix}")


# ----------------------------------------------------------------------------------------------
# What the bytes are
# ----------------------------------------------------------------------------------------------
_MAGIC = [
    (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"\x1f\x8b", "gzip"), (b"%PDF", "pdf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"),
    (b"7z\xbc\xaf\x27\x1c", "7z"), (b"Rar!", "rar"), (b"\x89PNG", "png"), (b"\xff\xd8\xff", "jpeg"),
    (b"SQLite format 3\x00", "sqlite"), (b"{\\rtf", "rtf"), (b"$FL2", "spss"), (b"$FL3", "spss"),
    (b"<stata_dta>", "stata"),
]
_WHAT = {
    "gzip": "a gzip-compressed file: decompress it first (e.g. 'gunzip', 7-Zip) and save the result as {csv}",
    "bzip2": "a bzip2-compressed file: decompress it first and save the result as {csv}",
    "xz": "an xz-compressed file: decompress it first and save the result as {csv}",
    "7z": "a 7-Zip archive: extract the table and save it as {csv}",
    "rar": "a RAR archive: extract the table and save it as {csv}",
    "pdf": "a PDF document, not a table: export the table itself from the program that made it, as {csv}",
    "png": "a PNG image, not a table: export the table itself as {csv}",
    "jpeg": "a JPEG image, not a table: export the table itself as {csv}",
    "sqlite": "an SQLite database, not a table: export the table as {csv}",
    "rtf": "a Rich Text (RTF) document, not a table: save the table as {csv}",
    "spss": "an SPSS data file with a {ext} name: rename it to {table}.sav",
    "stata": "a Stata data file with a {ext} name: rename it to {table}.dta",
    "ole": "an old Excel 97-2003 workbook (.xls) or a password-protected workbook: open it in Excel, remove any "
           "password and save it as {xlsx} (Excel Workbook) or {csv}",
    "ods": "an OpenDocument spreadsheet (LibreOffice .ods): save it as {xlsx} or {csv}",
    "docx": "a Word document, not a table: save the table as {csv}",
    "zip": "a ZIP archive{inside}: extract the table and save it as {csv}",
    "html": "a web page (HTML), not a table - probably a download that failed (an error or login page): "
            "download the file again, or export the table as {csv}",
    "xml_excel": "an Excel 2003 XML spreadsheet: open it in Excel and save it as {xlsx}",
    "xml": "an XML document, not a table: export the table as {csv}",
    "json": "a JSON document, not a table: export the table as {csv}",
}


def _kind(path: Path, head: bytes) -> tuple[str | None, str]:
    """(kind, detail) of the bytes: 'xlsx', 'zip', 'gzip', 'html', ... or None for plain text."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            if kind == "zip":
                return _zip_kind(path)
            return kind, ""
    text = head.lstrip(codecs.BOM_UTF8).lstrip()[:2048].lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or (
            text.startswith(b"<") and b"<html" in text):
        return "html", ""
    if text.startswith(b"<?xml"):
        return ("xml_excel", "") if b"urn:schemas-microsoft-com:office:spreadsheet" in head else ("xml", "")
    if text.startswith((b"{\"", b"[{", b"[\n", b"{\n")):
        return "json", ""
    return None, ""


def _zip_kind(path: Path) -> tuple[str, str]:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            mimetype = z.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, EOFError):
        return "zip", ""
    if any(n.startswith("xl/") for n in names):
        return "xlsx", ""
    if b"opendocument.spreadsheet" in mimetype:
        return "ods", ""
    if any(n.startswith("word/") for n in names):
        return "docx", ""
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return "zip", f" (holding {shown})" if names else ""


def check_file(path, table: str) -> list[Problem]:
    """What is wrong with a table file before it is parsed (empty list: parse it).

    Reads the file once, in blocks of 1 MiB (a 1 GB file takes 1 MiB of memory here).

    Examples
    --------
    >>> import tempfile, gzip
    >>> d = Path(tempfile.mkdtemp())
    >>> p = d / "visits.csv"
    >>> _ = p.write_bytes(gzip.compress(b"patient_id,week\\nP1,0\\n"))
    >>> print(check_file(p, "visits")[0].rule)  # doctest: +ELLIPSIS
    visits.csv is a gzip-compressed file: decompress it first ...
    >>> _ = p.write_bytes(b"patient_id,week\\nP1,0\\n")
    >>> check_file(p, "visits")
    []
    """
    path = Path(path)
    fname = path.name
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEAD)
    except OSError as err:
        return [Problem(fname, None, None, None,
                        f"{fname} cannot be read ({_reason(err)}); give yourself read access to it (e.g. "
                        f"chmod u+r {fname}) or copy it to a folder of your own")]
    if not head or path.suffix.lower() not in (".csv", ".xlsx", ".txt", ""):
        return []  # other formats (SPSS, Stata, SAS) have readers of their own
    names = {"csv": f"{table}.csv", "xlsx": f"{table}.xlsx", "ext": path.suffix or "no-extension", "table": table}
    kind, detail = _kind(path, head)
    if path.suffix.lower() == ".xlsx":
        if kind == "xlsx":
            return _xlsx_junk(path, table) if table in TABLES and path.stat().st_size > XLSX_SAMPLE_BYTES else []
        if kind is None:
            if _looks_like_text(head):
                return [Problem(fname, None, None, None,
                                f"{fname} is a CSV text file with an .xlsx name: rename it to {table}.csv")]
            return []  # let the workbook reader report what it finds
        return [Problem(fname, None, None, None, f"{fname} is " + _WHAT[kind].format(inside=detail, **names))]
    if kind == "xlsx":
        return [Problem(fname, None, None, None,
                        f"{fname} is an Excel workbook with a {path.suffix or 'missing'} name: rename it to "
                        f"{table}.xlsx")]
    if kind is not None:
        return [Problem(fname, None, None, None, f"{fname} is " + _WHAT[kind].format(inside=detail, **names))]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return [Problem(fname, None, None, None,
                        "the file is encoded as UTF-16; re-save it as UTF-8 (in Excel: 'CSV UTF-8')")]
    found = _scan_bytes(path, fname)
    if found:
        return found
    return _dialect(path, fname, head)


def _xlsx_junk(path: Path, table: str) -> list[Problem]:
    """A large workbook whose first rows are junk is refused before it is parsed whole (openpyxl, read-only)."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception:  # noqa: BLE001 - the workbook reader reports what is wrong with it
        return []
    try:
        names = book.sheetnames
        match = [n for n in names if str(n).strip().lower() == table]
        if not match and len(names) != 1:
            return []
        rows = []
        for values in book[(match or names)[0]].iter_rows(values_only=True):
            rows.append(["" if v is None else str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
                         for v in values])
            if len(rows) > FIRST_CHUNK_ROWS:
                break
    finally:
        book.close()
    if len(rows) < 2:
        return []
    width = max(len(r) for r in rows)
    grid = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=object)
    junk = _junk(grid.iloc[:1], grid.iloc[1:], table, path.name)
    if junk is None:
        return []
    junk[0] = Problem(path.name, None, None, None,
                      f"{junk[0].rule}; the rest of this {_mb(path.stat().st_size)} workbook was not read")
    return junk


def _looks_like_text(head: bytes) -> bool:
    sample = head[:4096]
    try:
        text = sample.decode("utf-8-sig", errors="strict")
    except UnicodeDecodeError as err:
        text = sample[: err.start].decode("utf-8-sig", errors="ignore") if err.start > len(sample) - 4 else ""
    return bool(text) and "\x00" not in text and sum(ch.isprintable() or ch in "\r\n\t" for ch in text) > 0.95 * len(text)


def _scan_bytes(path: Path, fname: str) -> list[Problem]:
    """NUL bytes and invalid UTF-8, found in one pass over the file in 1 MiB blocks."""
    nul_count, first_nul_line, bad = 0, None, None
    longest, longest_line, run = 0, 0, 0  # the longest line (a table's lines are short; junk may have none)
    lines_before = 0
    carry = b""
    offset = 0
    with open(path, "rb") as fh:
        while True:
            block = fh.read(_BLOCK)
            if not block:
                break
            n = block.count(b"\x00")
            if n:
                if first_nul_line is None:
                    first_nul_line = lines_before + block.count(b"\n", 0, block.index(b"\x00")) + 1
                nul_count += n
            if bad is None:
                data = carry + block
                cut = len(data)
                # keep an incomplete multi-byte character for the next block
                k = 0
                while k < 3 and cut - k - 1 >= 0 and (data[cut - k - 1] & 0xC0) == 0x80:
                    k += 1
                if cut - k - 1 >= 0 and data[cut - k - 1] >= 0xC0:
                    cut = cut - k - 1
                try:
                    data[:cut].decode("utf-8")
                except UnicodeDecodeError as err:
                    start = offset - len(carry) + err.start
                    line = lines_before - carry.count(b"\n") + data.count(b"\n", 0, err.start) + 1
                    bad = (start, line, data[err.start:err.start + 2])
                carry = data[cut:]
            arr = np.frombuffer(block, dtype=np.uint8)
            ends = np.flatnonzero((arr == 10) | (arr == 13))  # line ends: b"\n" and b"\r"
            if len(ends) == 0:
                run += len(block)
            else:
                gaps = np.diff(ends, prepend=-1) - 1
                gaps[0] += run
                k = int(np.argmax(gaps))
                run = len(block) - int(ends[-1]) - 1
                if gaps[k] > longest:
                    longest, longest_line = int(gaps[k]), lines_before + block.count(b"\n", 0, int(ends[k])) + 1
            if run > longest:
                longest, longest_line = run, lines_before + block.count(b"\n") + 1
            offset += len(block)
            lines_before += block.count(b"\n")
    if carry and bad is None:
        try:
            carry.decode("utf-8")
        except UnicodeDecodeError as err:
            bad = (offset - len(carry) + err.start, lines_before - carry.count(b"\n") + 1, carry[err.start:err.start + 2])
    if longest > MAX_LINE_BYTES:
        return [Problem(fname, longest_line, None, None,
                        f"line {longest_line} is {longest / 1e6:,.1f} MB long: this is not a table (or its line ends "
                        "were lost); export the table again as 'CSV UTF-8 (comma delimited)'")]
    if nul_count:
        with open(path, "rb") as fh:
            head = fh.read(4096)
        zeros_odd = head[1::2].count(0) / max(1, len(head[1::2]))
        zeros_even = head[0::2].count(0) / max(1, len(head[0::2]))
        if max(zeros_odd, zeros_even) > 0.4:
            return [Problem(fname, None, None, None,
                            "the file is encoded as UTF-16 (without a byte-order mark); re-save it as UTF-8 "
                            "(in Excel: 'CSV UTF-8 (comma delimited)')")]
        return [Problem(fname, first_nul_line, None, None,
                        f"the file contains {nul_count:,} NUL byte{'s' if nul_count > 1 else ''} (0x00), the first on "
                        f"line {first_nul_line}: it is damaged or not a text table; export it again as "
                        f"'CSV UTF-8 (comma delimited)' (or remove the NUL bytes)")]
    if bad is not None:
        start, line, pair = bad
        byte = pair[:1].hex()
        guess = ""
        if len(pair) == 2 and pair[0] >= 0x81 and pair[1] >= 0x40 and _decodes(pair, "gbk") and pair[1] >= 0x80:
            guess = " (it looks like GBK/GB18030, Chinese Windows)"
        elif _decodes(pair[:1], "cp1252"):
            guess = " (it looks like Latin-1/Windows-1252)"
        return [Problem(fname, line, None, None,
                        f"the file is not valid UTF-8: byte 0x{byte} on line {line} cannot be decoded{guess}; "
                        "re-save the file as UTF-8 (in Excel: 'CSV UTF-8 (comma delimited)')")]
    return []


def _decodes(b: bytes, enc: str) -> bool:
    try:
        b.decode(enc)
    except UnicodeDecodeError:
        return False
    return True


_DECIMAL_COMMA = re.compile(r"(?<![\d,.])-?\d+,\d+(?![\d,])")


def _dialect(path: Path, fname: str, head: bytes) -> list[Problem]:
    """A ';' or tab separated file (with decimal commas: a European Excel export) the folder does not declare."""
    opts, _ = csv_options(path.parent)
    text = head.decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    if not lines:
        return []
    header = lines[0]
    body = lines[1:50]
    m = re.fullmatch(r"\s*\"?sep=(.?)\"?[,;\t]*\s*", header, flags=re.IGNORECASE)
    if m:
        sep = m.group(1) or ","
        return [Problem(fname, 1, None, None,
                        f"line 1 is Excel's separator hint 'sep={sep}', not the header: delete that line"
                        + ("" if sep == "," else f" and save the file comma-separated (or declare separator: \"{sep}\" "
                                                 "in dataset.yaml)"))]
    known = _known_names(fname)
    if known:
        def hits(line: str) -> int:
            return len({f.strip().strip('"').strip().lower() for f in re.split(r"[,;\t|]", line)} & known)

        if hits(header) < 2:
            later = next((k for k, ln in enumerate(lines[1:30], start=2) if hits(ln) >= 3), None)
            if later is not None:
                return [Problem(fname, 1, None, None,
                                f"the column names are on line {later}, not on line 1: delete the {later - 1} line"
                                f"{'s' if later > 2 else ''} above them (a title or notes)")]
    declared = _file_separator(header, opts)
    if header.count(declared) > 0 or "\"" in header and declared in text:
        if declared != "," and opts.decimal == ".":
            hits = sum(len(_DECIMAL_COMMA.findall(ln)) for ln in body)
            if hits:
                return [Problem(fname, 2, None, None,
                                f"the numbers use ',' as decimal mark (e.g. '{_DECIMAL_COMMA.search(' '.join(body)).group()}'): "
                                f"declare it in dataset.yaml (decimal: \",\") beside separator: \"{declared}\"")]
        return []
    counts = {s: header.count(s) for s in _SEPARATORS if s != declared}
    sep = max(counts, key=counts.get)
    if counts[sep] == 0:
        return []
    word = _SEPARATORS[sep]
    fields = counts[sep] + 1
    if sep == ";" and any(_DECIMAL_COMMA.search(ln) for ln in body):
        return [Problem(fname, 1, None, None,
                        f"{fname} uses ';' as separator and ',' as decimal mark (a European Excel export): "
                        f"{_SAVE}, or declare both in dataset.yaml (separator: \";\" and decimal: \",\")")]
    decl = {";": "separator: \";\"", "\t": "separator: \"\\t\"", "|": "separator: \"|\"", ",": "separator: \",\""}[sep]
    return [Problem(fname, 1, None, None,
                    f"the header is {fields} fields separated by the {word}, not by commas: the file uses the {word} "
                    f"as delimiter; save it comma-separated (CSV UTF-8), or declare it in dataset.yaml ({decl})")]


def _known_names(fname: str) -> set[str]:
    """The data dictionary's column names of the table a file name stands for (empty if none)."""
    table = fname.rsplit(".", 1)[0].lower()
    return {c.name for c in columns(table)} if table in TABLES else set()


def _file_separator(header: str, opts: CsvOptions) -> str:
    """The declared separator, or ',' for a file of the folder whose header has commas but not the declared mark."""
    if opts.separator != "," and opts.separator not in header and "," in header:
        return ","
    return opts.separator


# ----------------------------------------------------------------------------------------------
# Reading a CSV table in chunks
# ----------------------------------------------------------------------------------------------
def read_csv(path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read a CSV table as a grid of categorical strings (header = first row), in chunks of :data:`CHUNK_ROWS`.

    The separator and decimal mark come from ``dataset.yaml`` (:func:`csv_options`); with ``decimal: ","``
    numbers such as ``4,5`` (and ``1.234,5``) are read as ``4.5`` (``1234.5``). Each chunk of a file with at
    least :data:`JUNK_MIN_ROWS` rows is sampled: when more than :data:`JUNK_SHARE` of the checked cells break their
    column's rule, reading stops and the problems of that chunk are returned with one leading problem saying so.

    Returns ``(grid, [])`` or ``(None, problems)``.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "visits.csv").write_text("patient_id;crp_mg_l\\nP1;4,5\\n")
    >>> _ = (d / "dataset.yaml").write_text('separator: ";"\\ndecimal: ","\\n')
    >>> grid, problems = read_csv(d / "visits.csv")
    >>> grid.iloc[1].tolist()
    ['P1', '4.5']
    """
    path = Path(path)
    fname = path.name
    opts, _ = csv_options(path.parent)
    with open(path, "rb") as fh:
        first = fh.readline(_HEAD).decode("utf-8-sig", errors="replace")
    sep = _file_separator(first, opts)
    decimal = opts.decimal if sep == opts.separator else "."
    table = path.stem.lower()
    acc = _Accumulator()
    header: pd.DataFrame | None = None
    rows_read = 0
    try:
        reader = pd.read_csv(path, header=None, dtype="category", na_filter=False, skip_blank_lines=False,
                             encoding="utf-8-sig", sep=sep, chunksize=CHUNK_ROWS)
        with reader:
            want = FIRST_CHUNK_ROWS
            while True:
                try:
                    chunk = reader.get_chunk(want)
                except StopIteration:
                    break
                want = CHUNK_ROWS
                chunk.index = pd.RangeIndex(rows_read, rows_read + len(chunk))
                rows_read += len(chunk)
                if decimal == ",":
                    chunk = _decimal_comma(chunk, table)
                if header is None:
                    header = chunk.iloc[:1]
                junk = _junk(header, chunk if acc.n else chunk.iloc[1:], table, fname) if table in TABLES else None
                if junk is not None:
                    size = path.stat().st_size
                    junk[0] = Problem(fname, None, None, None,
                                      f"{junk[0].rule}; reading stopped after row {rows_read:,} of this {_mb(size)}")
                    return None, junk
                acc.add(chunk)
    except pd.errors.EmptyDataError:
        return None, [Problem(fname, None, None, None, "the file has no header row (it is blank)")]
    except pd.errors.ParserError as err:
        return None, [_parser_problem(fname, err, rows_read)]
    except (UnicodeDecodeError, OSError) as err:  # the byte scan catches these first; kept as a safety net
        return None, [Problem(fname, None, None, None, f"cannot be read as CSV ({type(err).__name__}: {err})")]
    if not acc.n:
        return None, [Problem(fname, None, None, None, "the file has no header row (it is blank)")]
    return acc.frame(), []


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB file" if size >= 1e6 else f"{size:,}-byte file"


class _Accumulator:
    """Chunks of categorical columns merged into one categorical per column, each distinct string stored once.

    A chunk's codes are mapped onto the categories seen so far (new ones appended) and kept as small integers;
    memory is about 2-4 bytes per cell plus one copy of each distinct value.
    """

    def __init__(self):
        self.n = 0
        self.cats: dict = {}
        self.codes: dict = {}

    def add(self, chunk: pd.DataFrame) -> None:
        for i in chunk.columns:
            col = chunk[i]
            if not isinstance(col.dtype, pd.CategoricalDtype):
                col = col.astype(object).astype("category")
            cats = pd.Index(col.cat.categories, dtype=object)
            codes = col.cat.codes.to_numpy()
            known = self.cats.get(i)
            if known is None:
                known = pd.Index([], dtype=object)
            where = known.get_indexer(cats)
            new = where < 0
            if new.any():
                where[new] = np.arange(len(known), len(known) + int(new.sum()))
                known = known.append(cats[new])
            self.cats[i] = known
            dtype = np.int16 if len(known) < 2 ** 15 else np.int32
            mapped = np.where(codes < 0, -1, where[np.maximum(codes, 0)] if len(where) else -1).astype(dtype)
            self.codes.setdefault(i, []).append(mapped)
        self.n += len(chunk)

    def frame(self) -> pd.DataFrame:
        out = {}
        for i in list(self.codes):
            pieces = self.codes.pop(i)
            codes = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
            del pieces
            out[i] = pd.Series(pd.Categorical.from_codes(codes, categories=self.cats.pop(i)), copy=False)
        return pd.DataFrame(out)


def _parser_problem(fname: str, err: Exception, rows_before: int) -> Problem:
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
    if m:
        want, line, saw = m.groups()
        return Problem(fname, int(line), None, None,
                       f"this line has {saw} fields but the header has {want} (a stray comma? put text containing "
                       "commas in double quotes)")
    m = re.search(r"EOF inside string starting at row (\d+)", str(err))
    if m:
        return Problem(fname, int(m.group(1)) + 1, None, None,
                       "a double quote opened on this row is never closed; remove the stray '\"' or close the "
                       "quoted text")
    return Problem(fname, None, None, None, f"cannot be read as CSV: {err}")


_EURO_NUMBER = re.compile(r"^\s*[-+]?(\d{1,3}(\.\d{3})+|\d+),\d+\s*$")


def _decimal_comma(chunk: pd.DataFrame, table: str) -> pd.DataFrame:
    """Cells like ``4,5`` or ``1.234,5`` -> ``4.5``/``1234.5`` in every column not holding text by contract."""
    text_cols = {c.name for c in columns(table) if c.type in ("str", "category")} if table in TABLES else set()
    out = {}
    head = chunk.iloc[0] if chunk.index[0] == 0 else None
    for i in chunk.columns:
        col = chunk[i]
        name = str(head[i]).strip() if head is not None else None
        if name in text_cols or not isinstance(col.dtype, pd.CategoricalDtype):
            out[i] = col
            continue
        cats = pd.Index(col.cat.categories, dtype=object).astype(str)
        fixed = [c.replace(".", "").replace(",", ".") if _EURO_NUMBER.match(c) else c for c in cats]
        codes = col.cat.codes.to_numpy()
        new_codes, uniq = pd.factorize(pd.Index(fixed, dtype=object))
        mapped = np.where(codes < 0, -1, new_codes[np.maximum(codes, 0)])
        out[i] = pd.Series(pd.Categorical.from_codes(mapped, categories=pd.Index(uniq, dtype=object)), index=col.index)
    return pd.DataFrame(out, index=chunk.index)


class _Counter:
    """A problem sink (same interface as :class:`~analysis.intake.problem.ProblemSink`) that only marks which sampled
    cells broke a rule."""

    def __init__(self, n: int):
        self.bad = np.zeros(n, dtype=bool)

    def add(self, *args, **kwargs):
        pass

    def mask(self, values, mask, column, rule, summary=None, severity="error"):
        if severity == "error":
            m = np.asarray(pd.Series(mask).fillna(False), dtype=bool) if not isinstance(mask, np.ndarray) else mask
            self.bad |= m


def _junk(header: pd.DataFrame, body: pd.DataFrame, table: str, fname: str) -> list[Problem] | None:
    """The problems of a chunk whose checked cells mostly break their rules (None when it is not junk)."""
    if len(body) < JUNK_MIN_ROWS:
        return None
    step = max(1, len(body) // _SAMPLE_ROWS)
    sample = body.iloc[::step].astype(object)  # object first: the chunk's categories can be huge (unique junk)
    grid = pd.concat([header.astype(object), sample])
    df, _ = grid_to_frame(grid.reset_index(drop=True), fname)
    if df is None or len(df) == 0:
        return None
    spec = [c for c in columns(table) if c.name in df.columns and c.type in ("int", "float", "bool", "category")]
    if not spec:
        return None
    bad_cells, broken = 0, []
    for c in spec:
        s = df[c.name]
        counter = _Counter(len(s))
        check_column(c, s, counter)
        bad_cells += int(counter.bad.sum())
        if counter.bad.mean() > JUNK_SHARE:
            broken.append(c.name)
    share = bad_cells / (len(df) * len(spec))
    if share <= JUNK_SHARE:
        return None
    # The real problems of the whole chunk, as the validator lists them (capped per rule).
    first_row = int(body.index[0]) + 1  # grid row 0 = spreadsheet row 1
    last_row = int(body.index[-1]) + 1
    body = body.iloc[:_SAMPLE_ROWS]  # listed problems come from the chunk's first rows (each rule lists 100 at most)
    full = pd.concat([header.astype(object), body.astype(object)])
    frame, _ = grid_to_frame(full.reset_index(drop=True), fname)
    problems: list[Problem] = []
    if frame is not None:
        frame.index = frame.index + (first_row - 2)
        frame.index.name = "row"
        check_table(table, frame, ProblemSink(fname, problems))
    listed = ", ".join(f"'{n}'" for n in broken[:6]) + (", ..." if len(broken) > 6 else "")
    lead = Problem(fname, None, None, None,
                   f"{fname} does not hold valid '{table}' data: in rows {first_row:,} to {last_row:,}, "
                   f"{share:.0%} of the checked cells break their column's rule ({len(broken)} of {len(spec)} columns "
                   f"mostly wrong: {listed}); check that this is the right file and that its columns are in place")
    return [lead] + problems
