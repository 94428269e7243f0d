"""Property-based tests (hypothesis) of the validator on damaged variants of the bad-input battery's mini-cohort.

Damage to bytes, to cells and to structure: validation never raises, never changes an input file, and refuses a
broken folder with an error naming the file (and the row and column where the damage is in one cell). Valid
variants (row and column order, CRLF line ends, a byte-order mark, spaces around values) stay valid. Examples are
few on purpose (the suite stays fast) and validation runs in-process.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.intake.dictionary import TABLES, columns
from analysis.intake.problem import format_problems
from analysis.intake.validate import validate_folder

try:
    from fixtures_bad import folder_hashes, mini_tables, write_folder
except ImportError:  # tests/ as a package
    from tests.fixtures_bad import folder_hashes, mini_tables, write_folder

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FILES = [f"{t}.csv" for t in TABLES]


def _validate(folder: Path):
    before = folder_hashes(folder)
    problems = validate_folder(folder)  # must not raise
    assert folder_hashes(folder) == before, "validation changed an input file"
    format_problems(problems, folder=folder)  # the report can always be written
    return [p for p in problems if p.severity == "error"]


# --------------------------------------------------------------------------- bytes
_INSERTS = st.sampled_from([b"\x00", b"\xff", b"\xe8", b'"', b",", b";", b"\n", b"\r", b"\t", b"\xef\xbb\xbf",
                            b"PK\x03\x04", b"<html>", b"#DIV/0!", b"1e999", b"-", b" "])


@st.composite
def byte_damage(draw):
    name = draw(st.sampled_from(FILES))
    op = draw(st.sampled_from(["truncate", "insert", "delete", "replace_head", "duplicate_line"]))
    pos = draw(st.floats(0, 1))
    blob = draw(_INSERTS)
    n = draw(st.integers(1, 40))
    return name, op, pos, blob, n


def _damage_bytes(b: bytes, op: str, pos: float, blob: bytes, n: int) -> bytes:
    i = int(pos * len(b))
    if op == "truncate":
        return b[:i]
    if op == "insert":
        return b[:i] + blob + b[i:]
    if op == "delete":
        return b[:i] + b[i + n:]
    if op == "replace_head":
        return blob + b[n:]
    lines = b.split(b"\n")
    k = int(pos * (len(lines) - 1))
    return b"\n".join(lines[:k + 1] + [lines[k]] + lines[k + 1:])


@SETTINGS
@given(byte_damage())
def test_damaged_bytes_never_crash_and_are_reported_in_the_file(damage):
    name, op, pos, blob, n = damage
    with tempfile.TemporaryDirectory() as d:
        folder = write_folder(Path(d) / "data")
        p = folder / name
        original = p.read_bytes()
        damaged = _damage_bytes(original, op, pos, blob, n)
        p.write_bytes(damaged)
        errors = _validate(folder)
        for e in errors:
            assert e.file in FILES + ["dataset.yaml"] or " and " in e.file or e.file == str(folder), e
        if damaged.count(b"\x00") or (damaged[:4] == b"PK\x03\x04"):
            assert any(e.file == name for e in errors), "binary damage must be refused"


# --------------------------------------------------------------------------- cells
_NOT_A_NUMBER = st.text(alphabet="abcxyz!?#%&", min_size=1, max_size=8)


@st.composite
def cell_damage(draw):
    t = mini_tables()
    table = draw(st.sampled_from(["patients", "visits"]))
    numeric = [c.name for c in columns(table) if c.type in ("int", "float") and c.required]
    col = draw(st.sampled_from(numeric))
    row = draw(st.integers(0, len(t[table]["rows"]) - 1))
    value = draw(st.one_of(_NOT_A_NUMBER, st.sampled_from(["-5", "1e9", "NaN", "inf", "12,5", "2019-03-04"])))
    return table, col, row, value


@SETTINGS
@given(cell_damage())
def test_a_damaged_cell_is_named_by_file_row_and_column(damage):
    table, col, row, value = damage
    t = mini_tables()
    t[table]["rows"][row][col] = value
    with tempfile.TemporaryDirectory() as d:
        errors = _validate(write_folder(Path(d) / "data", t))
    assert errors, f"{table}.{col} = {value!r} was accepted"
    fname, spreadsheet_row = f"{table}.csv", row + 2
    assert any(e.file == fname and (e.row == spreadsheet_row or e.row is None) and e.column in (col, None)
               for e in errors), "\n".join(map(str, errors))


# --------------------------------------------------------------------------- structure
@st.composite
def structure_damage(draw):
    table = draw(st.sampled_from(list(TABLES)))
    op = draw(st.sampled_from(["drop_required", "duplicate_header", "no_header", "extra_field", "rename_header"]))
    k = draw(st.integers(0, 100))
    return table, op, k


@SETTINGS
@given(structure_damage())
def test_structural_damage_is_refused_naming_the_file(damage):
    table, op, k = damage
    t = mini_tables()
    spec = t[table]
    required = [c.name for c in columns(table) if c.required]
    if op == "drop_required":
        spec["header"].remove(required[k % len(required)])
    elif op == "duplicate_header":
        spec["header"].append(spec["header"][k % len(spec["header"])])
    elif op == "rename_header":
        name = required[k % len(required)]
        spec["header"][spec["header"].index(name)] = name.upper() + "_X"
    with tempfile.TemporaryDirectory() as d:
        folder = write_folder(Path(d) / "data", t)
        p = folder / f"{table}.csv"
        lines = p.read_bytes().split(b"\n")
        if op == "no_header":
            lines = lines[1:]
        elif op == "extra_field" and len(lines) > 2:
            i = 1 + k % (len(lines) - 2)
            lines[i] += b",surplus"
        p.write_bytes(b"\n".join(lines))
        if op in ("no_header", "extra_field") and table == "adverse_events" and len(lines) <= 2:
            return
        errors = _validate(folder)
    assert errors and any(e.file == f"{table}.csv" for e in errors), (op, "\n".join(map(str, errors)))


# --------------------------------------------------------------------------- valid variants stay valid
@SETTINGS
@given(st.randoms(use_true_random=False), st.booleans(), st.booleans(), st.booleans())
def test_valid_variants_stay_valid(rnd, crlf, bom, spaces):
    t = mini_tables()
    for spec in t.values():
        rnd.shuffle(spec["rows"])
        rnd.shuffle(spec["header"])
        if spaces:
            for r in spec["rows"]:
                for h in spec["header"]:
                    r[h] = f" {r[h]} " if r[h] else r[h]
    with tempfile.TemporaryDirectory() as d:
        folder = write_folder(Path(d) / "data", t)
        for name in FILES:
            p = folder / name
            b = p.read_bytes()
            if crlf:
                b = b.replace(b"\n", b"\r\n")
            if bom:
                b = b"\xef\xbb\xbf" + b
            p.write_bytes(b)
        assert _validate(folder) == []
