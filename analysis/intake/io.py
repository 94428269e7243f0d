"""Read a data folder (``patients``, ``visits``, ``adverse_events``) into a typed Cohort.

Each table is one file: ``.csv`` (UTF-8), ``.xlsx``, SPSS ``.sav``, Stata ``.dta`` or SAS ``.sas7bdat`` /
``.xpt``. :func:`load` validates first (:func:`analysis.intake.validate.validate_and_read`) and refuses data that
breaks the contract with one :class:`~analysis.core.errors.DataError` listing every problem. The folder's
``dataset.yaml`` (:mod:`analysis.intake.dataset`) renames columns, converts units and maps arm labels on reading,
so the Cohort holds the data dictionary's names, units and labels. A visit row without any measurement is not
a visit: it is left out (the visit counts as missed) and :attr:`Cohort.problems` carries a note naming it.
Nothing is ever written into the data folder: files are opened read-only.

Which measures a folder has: :func:`measured` (or :meth:`Cohort.available_columns`) lists the columns
that hold at least one value; :func:`not_measured` says which of the columns a section needs are not.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core.design import Design, design_from_meta
from analysis.core.errors import DataError
from analysis.intake.contract import parse_bool, parse_numeric
from analysis.intake.dataset import DatasetSpec, dataset_spec
from analysis.intake.dictionary import TABLES, Column, columns
from analysis.intake.problem import format_problems
from analysis.intake.readers import STAT_FORMATS
from analysis.intake.validate import locate_table, read_table_strings, validate_and_read

__all__ = ["Cohort", "das28_lab", "find_table", "load", "measured", "not_measured", "read_table", "typed_table"]


@dataclass(frozen=True, eq=False)
class Cohort:
    """A validated, typed cohort.

    Attributes
    ----------
    patients, visits, adverse_events : pandas.DataFrame
        One column per data-dictionary column in contract order (optional columns absent from the
        file are added empty). ``str``/``category`` columns hold Python strings, ``int`` columns are
        ``Int64``, ``float`` columns ``float64``, ``bool`` columns ``boolean``. Every column with an
        ``lloq``/``uloq`` has a companion ``f"{col}_flag"`` column (``"<LLOQ"``, ``">ULOQ"`` or
        ``<NA>``); censored cells are NaN in the numeric column. Unknown columns are dropped.
    source : Path
        The data folder (resolved).
    files : dict
        Table name -> file used.
    meta : dict
        Contents of ``dataset.yaml`` (``{}`` if absent).
    fingerprint : str
        SHA-256 of the names and bytes of the folder's data files when :func:`load` read them
        (:func:`fingerprint`); ``""`` for a cohort not read from a folder. A build keys its cache on it.
    problems : tuple of Problem
        The validator's warnings and notes about the folder (:class:`~analysis.intake.problem.Problem`; a folder
        with errors is never loaded), e.g. a unit that looks wrong, or a visit row without measurements left out
        as a missed visit. A build repeats them at its start.
    """

    patients: pd.DataFrame
    visits: pd.DataFrame
    adverse_events: pd.DataFrame
    source: Path
    files: dict
    meta: dict
    fingerprint: str = ""
    problems: tuple = ()

    @property
    def design(self) -> Design:
        """The trial's schedule from ``dataset.yaml``'s ``design:`` block (the paper's when absent)."""
        return design_from_meta(self.meta)

    @property
    def synthetic(self) -> bool:
        """True only when ``dataset.yaml`` says ``synthetic: true``."""
        return self.meta.get("synthetic") is True

    @property
    def spec(self) -> DatasetSpec:
        """What ``dataset.yaml`` declared (design, renamed columns, units, arm labels); see :mod:`analysis.intake.dataset`."""
        return dataset_spec(self.meta)

    def available_columns(self, table: str = "visits") -> tuple[str, ...]:
        """The dictionary columns of ``table`` this cohort measured (see :func:`measured`)."""
        return measured(self, table)


def measured(cohort: Cohort, table: str = "visits") -> tuple[str, ...]:
    """The columns of ``table`` that hold at least one value, in contract order.

    A column counts as measured when at least one cell has a value or a censoring token (an IFN-γ column
    that is ``<LLOQ`` throughout was measured). Columns the folder lacks and columns left entirely empty
    are not measured (the loader adds absent optional columns empty, so both look alike in the Cohort).

    Parameters
    ----------
    cohort : Cohort
        A loaded cohort.
    table : {"visits", "patients", "adverse_events"}
        The table to look at.

    Returns
    -------
    tuple of str
        Dictionary column names (never the ``_flag`` companions).

    Examples
    --------
    >>> from analysis.core.paths import default_data_dir
    >>> c = load(default_data_dir())
    >>> "ifn_g" in measured(c), measured(c, "patients")[:3]
    (True, ('patient_id', 'arm', 'age'))
    """
    if table not in TABLES:
        raise ValueError(f"`table` must be one of {list(TABLES)}, got {table!r}")
    if not isinstance(cohort, Cohort):
        raise TypeError(f"`cohort` must be an analysis.intake.io.Cohort, got {type(cohort).__name__}")
    df = getattr(cohort, table)
    out = []
    for c in columns(table):
        has = df[c.name].notna().any() if c.name in df.columns else False
        flag = f"{c.name}_flag"
        if not has and flag in df.columns:
            has = df[flag].notna().any()
        if has:
            out.append(c.name)
    return tuple(out)


def not_measured(cohort: Cohort, needed, table: str = "visits") -> list[str]:
    """The columns among ``needed`` that ``cohort`` did not measure (in the order given).

    For a section's note: "Not available with these data: no values for ifn_g, il_6".

    Examples
    --------
    >>> from analysis.core.paths import default_data_dir
    >>> c = load(default_data_dir())
    >>> not_measured(c, ["ifn_g", "tjc28"])
    []
    """
    if isinstance(needed, str):
        raise TypeError(f"`needed` must be a list of column names, got the string {needed!r}")
    have = set(measured(cohort, table))
    known = {c.name for c in columns(table)}
    unknown = [n for n in needed if n not in known]
    if unknown:
        raise ValueError(f"`needed` names columns that are not in the {table} table of the data dictionary: {unknown}")
    return [n for n in needed if n not in have]


def das28_lab(cohort: Cohort) -> str:
    """The DAS28 variant this cohort supports: ``"esr"`` when ESR was measured, else ``"crp"``.

    The validator requires ``esr_mm_h`` or ``crp_mg_l``; this is the ``das28_variant`` to pass to
    :func:`analysis.science.derive.derive` when the folder has no ESR.

    Examples
    --------
    >>> from analysis.core.paths import default_data_dir
    >>> das28_lab(load(default_data_dir()))
    'esr'
    """
    return "esr" if "esr_mm_h" in measured(cohort) else "crp"


def find_table(data_dir, table: str) -> Path:
    """The file holding ``table`` in ``data_dir``: ``<table>`` with one of the suffixes ``.csv``, ``.xlsx``,
    ``.sav``, ``.zsav``, ``.dta``, ``.sas7bdat``, ``.xpt``.

    Raises
    ------
    ValueError
        If ``table`` is not a table of the data contract.
    DataError
        If the folder or the file is missing, or two files hold the table (e.g. a .csv and a .sav).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (Path(d) / "visits.xlsx").write_bytes(b"")
    ...     find_table(d, "visits").name
    'visits.xlsx'
    """
    if table not in TABLES:
        raise ValueError(f"`table` must be one of {list(TABLES)}, got {table!r}")
    folder = Path(data_dir)
    if not folder.is_dir():
        raise DataError(f"Data folder '{folder}' does not exist or is not a folder.")
    path, problems = locate_table(folder, table)
    if path is None:
        raise DataError(format_problems(problems, folder=folder), problems)
    return path


def read_table(path, table: str) -> pd.DataFrame:
    """Read one table file as strings, exactly as the validator sees it (before ``dataset.yaml`` is applied).

    Every cell is a ``str`` (``dtype=str``, no NA conversion: empty cells are ``""``), with
    surrounding spaces removed; a UTF-8 byte-order mark is accepted. The index, named ``row``, is
    the row number a spreadsheet shows (header = 1). Fully blank rows are skipped. For ``.xlsx`` the
    sheet named like ``table`` is used, or the only sheet. SPSS, Stata and SAS files give their stored
    codes, with the value labels in ``df.attrs["value_labels"]`` (:mod:`analysis.intake.readers`; :func:`load`
    applies them).

    Raises
    ------
    ValueError
        If ``table`` is not a table of the data contract.
    DataError
        If the file cannot be read (empty, not UTF-8, wrong delimiter, sheet not found ...).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "patients.csv"
    ...     _ = p.write_bytes("\\ufeffpatient_id,arm\\nP01, MSCT\\n".encode("utf-8"))
    ...     df = read_table(p, "patients")
    >>> df.to_dict("index")
    {2: {'patient_id': 'P01', 'arm': 'MSCT'}}
    """
    if table not in TABLES:
        raise ValueError(f"`table` must be one of {list(TABLES)}, got {table!r}")
    path = Path(path)
    df, problems = read_table_strings(path, table)
    if df is None:
        raise DataError(format_problems(problems, folder=path.parent), problems)
    return df.astype(object)


def typed_table(table: str, raw: pd.DataFrame) -> pd.DataFrame:
    """Convert a validated table of strings to the dictionary's types, as :func:`load` does for each table.

    Parameters
    ----------
    table : {"patients", "visits", "adverse_events"}
        The table ``raw`` holds.
    raw : pandas.DataFrame
        Text cells (empty cell = ``""``) under the dictionary's column names, as validated: each cell must
        follow its column's rule (this function does not check them). Columns of the dictionary that ``raw``
        lacks are added empty; other columns are dropped.

    Returns
    -------
    pandas.DataFrame
        One column per dictionary column in contract order, typed as in :class:`Cohort` (with the
        ``f"{col}_flag"`` companions of censored columns); the index is reset to 0..n-1.

    Examples
    --------
    >>> raw = pd.DataFrame({"patient_id": ["P1", "P1"], "week": ["0", "12"], "ifn_g": ["<LLOQ", "3.5"]})
    >>> t = typed_table("visits", raw)
    >>> t["week"].tolist(), t["ifn_g"].tolist(), t["ifn_g_flag"].tolist()
    ([0, 12], [nan, 3.5], ['<LLOQ', <NA>])
    >>> t["week"].dtype, bool(t["tjc28"].isna().all())
    (Int64Dtype(), True)
    """
    out: dict[str, pd.Series] = {}
    empty = pd.Series([""] * len(raw), index=raw.index, dtype=object)
    for c in columns(table):
        s = raw[c.name] if c.name in raw.columns else empty
        if c.type in ("int", "float"):
            values, flags = parse_numeric(s, c)  # once: the values and the censoring flags
            out[c.name] = values.round().astype("Int64") if c.type == "int" else values
            if c.lloq is not None or c.uloq is not None:
                out[f"{c.name}_flag"] = flags
        else:
            out[c.name] = _typed_column(c, s)
    return pd.DataFrame(out, index=raw.index).reset_index(drop=True)


def _typed_column(c: Column, s: pd.Series) -> pd.Series:
    """A non-numeric column (bool, category, text) with the dictionary's type (numbers: see :func:`typed_table`)."""
    if c.type == "bool":
        return parse_bool(s)
    values = np.asarray(s, dtype=object)
    return pd.Series(np.where(values == "", None, values), index=s.index, dtype=object)


def load(data_dir) -> Cohort:
    """Validate a data folder and read it into a typed :class:`Cohort`.

    Parameters
    ----------
    data_dir : str or Path
        Folder with ``patients``, ``visits``, ``adverse_events`` (.csv, .xlsx, .sav, .dta, .sas7bdat or
        .xpt) and optionally ``dataset.yaml`` (design, column names, units, arm labels).

    Returns
    -------
    Cohort

    Raises
    ------
    DataError
        If any error-severity problem is found; the message is the full report
        (:func:`~analysis.intake.problem.format_problems`) and ``err.problems`` the list. Warnings do not stop
        loading.

    Notes
    -----
    In a build, files with the same names and bytes as a folder validated before in that build are not
    validated again (:data:`SHARED_ENV`).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     try:
    ...         load(d)
    ...     except DataError as err:
    ...         print(len(err.problems))
    3
    """
    # the files' fingerprint, taken before they are read: the cohort carries it (a build's cache key)
    data_fingerprint = _fingerprint_or_none(data_dir)
    shared = _shared_path(data_fingerprint)  # a build's folder of validated cohorts (SHARED_ENV), by fingerprint
    if shared is not None:
        kept = _read_pickle(shared)
        if isinstance(kept, tuple) and len(kept) == 2:  # (cohort, table -> file name), as written below
            return _as_loaded_from(*kept, data_dir)
    problems, read, meta = validate_and_read(data_dir)
    if any(p.severity == "error" for p in problems):
        raise DataError(format_problems(problems, folder=data_dir), problems)
    frames = {t: typed_table(t, df) for t, (_, df) in read.items()}
    cohort = Cohort(
        patients=frames["patients"],
        visits=frames["visits"],
        adverse_events=frames["adverse_events"],
        source=Path(data_dir).resolve(),
        files={t: path.resolve() for t, (path, _) in read.items()},
        meta=meta,
        fingerprint=data_fingerprint or "",
        problems=tuple(problems),
    )
    if shared is not None:
        try:
            _write_pickle(shared, (cohort, {t: Path(f).name for t, f in cohort.files.items()}))
        except OSError:
            pass  # a cache only: the next load validates again
    return cohort


#: Environment variable naming a folder in which :func:`load` keeps every cohort it has validated, under the
#: SHA-256 of the folder's files (:func:`fingerprint`), and looks there first. A build sets it to a folder of its
#: staging area for the chapters it runs: files with the same names and bytes are then validated once per build,
#: whichever chapter loads them first and in whatever folder (the exercises simulate the same cohorts in several
#: chapters). Unset, :func:`load` always validates.
SHARED_ENV = "MSCT_VALIDATED_CACHE"


def _fingerprint_or_none(data_dir) -> str | None:
    """:func:`fingerprint` of ``data_dir``, or ``None`` when it is not a readable folder (validation says why)."""
    if not Path(data_dir).is_dir():
        return None
    try:
        return fingerprint(data_dir)
    except OSError:
        return None


def _shared_path(data_fingerprint: str | None) -> Path | None:
    folder = os.environ.get(SHARED_ENV)
    if not folder or data_fingerprint is None:
        return None
    return Path(folder) / f"{data_fingerprint}.pickle"


def _as_loaded_from(cohort: Cohort, names: dict, data_dir) -> Cohort:
    """A cohort validated from files with the same names and bytes as ``data_dir``'s, as if loaded from it."""
    import dataclasses

    folder = Path(data_dir).resolve()
    return dataclasses.replace(cohort, source=folder, files={t: (folder / name).resolve() for t, name in names.items()})


def _write_pickle(path: Path, obj) -> None:
    """Write ``obj`` to ``path`` whole or not at all: into a file of this process's own, then renamed."""
    import pickle

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
    tmp.replace(path)


def _read_pickle(path: Path):
    """What :func:`_write_pickle` wrote, or ``None`` when there is nothing readable there."""
    import pickle

    if not path.is_file():
        return None
    try:
        return pickle.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 - unreadable or from another version: the caller validates again
        return None


# --------------------------------------------------------------------------- validated once per build
#: File name, in a build's output folder, of the cohort the build has validated (see :func:`keep_validated`).
VALIDATED_NAME = ".validated-cohort.pickle"


def data_files(data_dir) -> list[Path]:
    """The files of a data folder that can change what :func:`load` returns (tables, SAS catalogs, ``dataset.yaml``).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> for name in ("visits.csv", "notes.txt", "dataset.yaml"):
    ...     _ = (d / name).write_text("")
    >>> [p.name for p in data_files(d)]
    ['dataset.yaml', 'visits.csv']
    """
    return sorted(p for p in Path(data_dir).iterdir()
                  if p.is_file() and p.suffix.lower() in _DATA_SUFFIXES)


_DATA_SUFFIXES = {".csv", ".xlsx", ".yaml", ".sas7bcat", *STAT_FORMATS}


def fingerprint(data_dir) -> str:
    """SHA-256 over the names and bytes of :func:`data_files` (what a build's cache key and a kept cohort use).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "visits.csv").write_text("patient_id\\n")
    >>> a = fingerprint(d); _ = (d / "visits.csv").write_text("patient_id\\nP1\\n")
    >>> len(a), a == fingerprint(d)
    (64, False)
    """
    from analysis.core.provenance import hash_files

    return hash_files(data_files(data_dir), length=64)


def keep_validated(cohort: Cohort, folder) -> Path:
    """Save a cohort :func:`load` has validated, for the chapters of one build to reuse.

    Every chapter notebook loads the data itself (so it also runs on its own, e.g. in JupyterLab).
    In a build, where the build has just validated the folder, a chapter reuses this copy through
    :func:`load_validated` instead of reading and validating every file again (about 1 s per chapter
    at 10,500 patients, 10 s at 105,000). The copy names the folder and the SHA-256 of its files, so
    it is only used for exactly the data it was made from.

    Returns the file written: ``folder / VALIDATED_NAME`` (a pickle; the build removes it with its
    staging folder). The copy is labelled with the cohort's :attr:`Cohort.fingerprint` (the folder is not
    read again), or :func:`fingerprint` of its folder for a cohort that has none.

    Examples
    --------
    >>> import shutil, tempfile
    >>> from analysis.core.paths import default_data_dir
    >>> work = Path(tempfile.mkdtemp())
    >>> _ = shutil.copytree(default_data_dir(), work / "data")
    >>> _ = keep_validated(load(work / "data"), work)
    >>> len(load_validated(work / "data", work).patients)
    105
    >>> _ = (work / "data" / "visits.csv").write_text("patient_id\\n")  # the data changed after validation
    >>> load_validated(work / "data", work) is None
    True
    """
    path = Path(folder) / VALIDATED_NAME
    _write_pickle(path, {"source": str(cohort.source), "cohort": cohort,
                         "fingerprint": cohort.fingerprint or fingerprint(cohort.source)})
    return path


def load_validated(data_dir, folder) -> Cohort | None:
    """The cohort a build saved with :func:`keep_validated`, if it was made from exactly these files.

    Returns ``None`` when ``folder`` holds no such copy, or it was made from another folder or from
    files that have changed since; the caller then uses :func:`load`.
    """
    payload = _read_pickle(Path(folder) / VALIDATED_NAME)
    try:
        same = (payload["source"] == str(Path(data_dir).resolve())
                and payload["fingerprint"] == fingerprint(data_dir))
    except Exception:  # noqa: BLE001 - nothing there, unreadable or from another version: validate again
        return None
    return payload["cohort"] if same else None
