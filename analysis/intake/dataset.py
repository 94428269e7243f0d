"""What a data folder's ``dataset.yaml`` says about its trial: design, column names, units and value labels.

Every key is optional; the defaults are the paper's design and the data dictionary's names, units and
arm labels::

    design:
      visit_weeks: [0, 2, 4, 8, 12, 24]   # scheduled visits; 0 = baseline, before the infusion
      response_week: 12                   # EULAR response is judged here
      final_week: 24                      # last scheduled visit
    columns:          # your column name -> the data dictionary's name (any table)
      CRP: crp_mg_l
    units:            # the unit your column is recorded in; converted on reading to the dictionary's unit
      crp_mg_l: mg/dL
    arms:             # your arm labels -> MSCT / control
      UC-MSC: MSCT
      placebo: control
    values:           # your labels in any other category or yes/no column -> the data dictionary's values
      sex: {male: M, female: F}
      serious: {"Yes": true, "No": false}
    visit_dates:      # weeks computed from dates (analysis.intake.dates); the dates are dropped on reading
      day0: infusion_date
      visits: visit_date
      window_days: 7

Any other key (``synthetic:``, ``source:``, ...) is free metadata. :func:`dataset_spec` checks the six
blocks and raises :class:`DatasetError` naming the key and the rule; the validator reports that as one
problem of ``dataset.yaml`` (and checks nothing else until it is fixed). The reader applies the
spec (:func:`analysis.intake.validate`) *before* validating, so everything after it sees the dictionary's
names, units, arm labels and category labels.

Examples
--------
>>> spec = dataset_spec({"columns": {"CRP": "crp_mg_l"}, "units": {"crp_mg_l": "mg/dL"},
...                      "arms": {"UC-MSC": "MSCT", "placebo": "control"},
...                      "design": {"visit_weeks": [0, 2, 4, 8, 12, 24], "final_week": 24}})
>>> spec.design.describe_weeks(), spec.columns, spec.unit_factor("crp_mg_l")
('0, 2, 4, 8, 12, 24', {'CRP': 'crp_mg_l'}, 10.0)
>>> dataset_spec({"arms": {"UC-MSC": "MSC"}})
Traceback (most recent call last):
...
analysis.intake.dataset.DatasetError: dataset.yaml, arms.UC-MSC: 'MSC' is not an arm of the data dictionary; map each of your labels to one of 'MSCT', 'control'
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd
import yaml

from analysis.intake import units as _units
from analysis.core.design import Design, DesignError, design_from_meta
from analysis.intake.dates import DatesError, VisitDates, visit_dates_block
from analysis.intake.dictionary import TABLES, columns

__all__ = ["SPEC_KEYS", "DatasetError", "DatasetSpec", "dataset_spec", "describe_spec", "load_meta_text"]

#: the keys of ``dataset.yaml`` that change how the data are read (all others are free metadata)
SPEC_KEYS: tuple[str, ...] = ("design", "columns", "units", "arms", "values", "visit_dates", "date_format", "long")


class DatasetError(ValueError):
    """A ``dataset.yaml`` block that breaks a rule; ``key`` is the dotted key (``units.crp_mg_l``)."""

    def __init__(self, key: str, rule: str):
        super().__init__(f"dataset.yaml, {key}: {rule}")
        self.key = key
        self.rule = rule


@dataclass(frozen=True)
class DatasetSpec:
    """The parsed ``design:``, ``columns:``, ``units:``, ``arms:`` and ``values:`` blocks of a ``dataset.yaml``.

    Attributes
    ----------
    design : Design
        The trial's schedule (the paper's when ``design:`` is absent).
    columns : dict
        User column name -> dictionary column name (``{}`` when absent).
    units : dict
        Dictionary column -> the unit its values are recorded in, as written (``{}`` when absent). In
        ``dataset.yaml`` a line may name the column by the dictionary's name or by a name of yours that
        ``columns:`` maps.
    arms : dict
        User arm label -> ``"MSCT"`` or ``"control"`` (``{}`` when absent).
    values : dict
        Dictionary category column -> {user label -> the dictionary's value} (``{}`` when absent); for the
        category columns other than ``arm`` (which ``arms:`` maps), e.g. ``{"sex": {"male": "M"}}``.
    """

    design: Design = field(default_factory=Design)
    columns: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)
    arms: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    visit_dates: VisitDates | None = None  # visit_dates: weeks from dates (analysis.intake.dates)

    def unit_factor(self, column: str) -> float:
        """The factor applied to ``column`` on reading (1.0 when no unit is declared).

        Examples
        --------
        >>> DatasetSpec(units={"hemoglobin_g_l": "g/dL"}).unit_factor("hemoglobin_g_l")
        10.0
        >>> DatasetSpec().unit_factor("hemoglobin_g_l")
        1.0
        """
        unit = self.units.get(column)
        return 1.0 if unit is None else _units.factor(column, unit)

    def rename_for(self, names) -> dict[str, str]:
        """``{file column: dictionary column}`` for the columns of one file that ``columns:`` renames.

        A file column matches a key exactly, or else case-insensitively (SAS and Stata exports often
        change the case of names).

        Examples
        --------
        >>> DatasetSpec(columns={"CRP": "crp_mg_l", "PTID": "patient_id"}).rename_for(["ptid", "CRP", "week"])
        {'ptid': 'patient_id', 'CRP': 'crp_mg_l'}
        """
        lower = {k.lower(): v for k, v in self.columns.items()}
        out = {}
        for name in names:
            if name in self.columns:
                out[name] = self.columns[name]
            elif name.lower() in lower and name not in _dictionary_names():
                out[name] = lower[name.lower()]
        return out

    @property
    def is_default(self) -> bool:
        """True when nothing is mapped, converted or redesigned."""
        return (not (self.columns or self.units or self.arms or self.values or self.visit_dates)
                and self.design.is_paper)


class _KeyTextLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a mapping key YAML would read as true/false/null keeps its text."""

    def construct_mapping(self, node, deep=False):
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag in ("tag:yaml.org,2002:bool",
                                                                          "tag:yaml.org,2002:null"):
                if key_node.value not in ("", "~"):
                    key_node.tag = "tag:yaml.org,2002:str"
        return super().construct_mapping(node, deep=deep)


def load_meta_text(text: str):
    """Parse the text of a ``dataset.yaml``: as ``yaml.safe_load``, but labels such as ``Yes:`` or ``N:`` stay text.

    YAML 1.1 reads an unquoted key ``Yes``, ``No``, ``on`` or ``off`` as a boolean; under ``values:`` the label is
    what matters (``serious: {Yes: true, No: false}``), so keys keep their text. Values are read as usual.

    Examples
    --------
    >>> load_meta_text("values:\\n  serious: {Yes: true, No: false}\\n")
    {'values': {'serious': {'Yes': True, 'No': False}}}
    """
    return yaml.load(text, Loader=_KeyTextLoader)


def _dictionary_names() -> set[str]:
    return {c.name for t in TABLES for c in columns(t)}


def dataset_spec(meta: Mapping[str, Any] | None) -> DatasetSpec:
    """Check and parse the ``design:``, ``columns:``, ``units:``, ``arms:`` and ``values:`` blocks of a ``dataset.yaml``.

    Parameters
    ----------
    meta : mapping or None
        The parsed ``dataset.yaml`` (``{}`` or ``None`` when the folder has none).

    Returns
    -------
    DatasetSpec

    Raises
    ------
    DatasetError
        The first broken rule, naming the key (``columns.CRP``, ``units.crp_mg_l``, ``design.final_week``).

    Examples
    --------
    >>> dataset_spec({"units": {"crp_mg_l": "mg/mL"}})
    Traceback (most recent call last):
    ...
    analysis.intake.dataset.DatasetError: dataset.yaml, units.crp_mg_l: unknown unit 'mg/mL' for crp_mg_l; known units: 'mg/L', 'mg/dL'
    """
    meta = dict(meta or {})
    try:
        design = design_from_meta(meta)
    except DesignError as err:
        rule = str(err).split(": ", 1)[1] if ": " in str(err) else str(err)
        key = "design" if err.key == "design" else f"design.{err.key}"
        raise DatasetError(key, rule) from None
    try:
        block = meta.get("visit_dates")
        if isinstance(block, Mapping) and "date_format" not in block and "date_format" in meta:
            block = {**block, "date_format": meta["date_format"]}  # date_format: also at the top level
        dates = visit_dates_block(block, design)
    except DatesError as err:
        raise DatasetError(err.key, err.rule) from None
    return DatasetSpec(design=design, columns=_columns_block(meta.get("columns")),
                       units=_units_block(meta.get("units"), meta.get("columns")),
                       arms=_arms_block(meta.get("arms")),
                       values=_values_block(meta.get("values"), meta.get("columns")), visit_dates=dates)


def _mapping(key: str, block: Any, example: str) -> dict:
    if block is None:
        return {}
    if not isinstance(block, Mapping):
        raise DatasetError(key, f"must be a mapping of 'name: value' lines such as '{example}', got {block!r}")
    return dict(block)


def _columns_block(block: Any) -> dict[str, str]:
    block = _mapping("columns", block, "CRP: crp_mg_l")
    known = sorted(_dictionary_names())
    out: dict[str, str] = {}
    for user, target in block.items():
        if isinstance(user, bool) or not isinstance(user, (str, int, float)):
            raise DatasetError("columns", f"each key must be one of your column names, got {user!r}")
        user = str(user).strip()
        if not isinstance(target, str):
            raise DatasetError(f"columns.{user}", f"must be the data dictionary's name for this column, got {target!r}")
        if target not in known:
            close = ([n for n in known if n.startswith(target.lower())]
                     or difflib.get_close_matches(target.lower(), known, n=1, cutoff=0.6))
            hint = f"; did you mean '{close[0]}'?" if close else " (see the data-dictionary page for the names)"
            raise DatasetError(f"columns.{user}", f"'{target}' is not a column of the data dictionary{hint}")
        out[user] = target
    return out


def _units_block(block: Any, columns_block: Any) -> dict[str, str]:
    block = _mapping("units", block, "crp_mg_l: mg/dL")
    names = _dictionary_names()
    renamed = columns_block if isinstance(columns_block, Mapping) else {}
    out: dict[str, str] = {}
    for col, unit in block.items():
        col = str(col).strip()
        key = col
        if col not in names and isinstance(renamed.get(col), str) and renamed[col] in names:
            col = renamed[col]  # your own name, renamed under columns: -> the dictionary's name
        if col not in names:
            raise DatasetError(f"units.{col}", f"'{col}' is not a column of the data dictionary (write the "
                                               "dictionary's name, e.g. crp_mg_l, or a name you map under columns:)")
        if col in out:
            raise DatasetError(f"units.{key}", f"gives a second unit for {col}; keep one line per column")
        if not isinstance(unit, str) or not unit.strip():
            raise DatasetError(f"units.{key}",
                               f"must be the unit the values are recorded in, such as 'mg/dL', got {unit!r}")
        if not _units.known_units(col):
            own = next(c.unit for t in TABLES for c in columns(t) if c.name == col)
            if _units.normalise_unit(unit) == _units.normalise_unit(own or ""):
                continue  # the dictionary's own unit: nothing to convert
            raise DatasetError(f"units.{key}", f"no unit conversions are known for {col}; its values must be in "
                                               f"{own or 'the dictionary unit'}. Columns with known conversions: "
                                               + ", ".join(sorted({c.column for c in _units.CONVERSIONS})))
        try:
            _units.factor(col, unit)
        except _units.UnitError as err:
            raise DatasetError(f"units.{key}", str(err)) from None
        out[col] = unit.strip()
    return out


def _arms_block(block: Any) -> dict[str, str]:
    block = _mapping("arms", block, "UC-MSC: MSCT")
    arm = next(c for c in columns("patients") if c.name == "arm")
    return _label_map(block, "arms", [str(a) for a in arm.allowed], "one of your arm labels",
                      "an arm of the data dictionary")


def _label_map(block: dict, key: str, allowed: list[str], label_is: str, target_is: str) -> dict[str, str]:
    """``{your label: the dictionary's value}`` from one block of ``arms:`` / ``values:``; the first wrong line raises.

    Examples
    --------
    >>> _label_map({1: "M", "female": "F"}, "values.sex", ["F", "M"], "one of your labels", "a value of sex")
    {'1': 'M', 'female': 'F'}
    """
    listed = ", ".join(f"'{a}'" for a in allowed)
    out: dict[str, str] = {}
    for label, target in block.items():
        if isinstance(label, bool) or label is None:
            raise DatasetError(key, f"each key must be {label_is}, got {label!r} "
                                    "(quote labels such as 'yes' or 'no' in YAML)")
        label = _label_text(label)
        if str(target) not in allowed:
            raise DatasetError(f"{key}.{label}", f"'{target}' is not {target_is}; map each of your labels to one of "
                                                 f"{listed}")
        out[label] = str(target)
    return out


def _values_block(block: Any, columns_block: Any) -> dict[str, dict[str, str]]:
    """``values:``: per category column (the dictionary's name, or yours under ``columns:``), label -> value.

    Examples
    --------
    >>> _values_block({"sex": {"male": "M", 2: "F"}}, None)
    {'sex': {'male': 'M', '2': 'F'}}
    >>> _values_block({"serious": {"Y": True, "N": False}}, None)  # a yes/no column
    {'serious': {'Y': 'true', 'N': 'false'}}
    >>> _values_block({"sex": {"male": "Male"}}, None)
    Traceback (most recent call last):
    ...
    analysis.intake.dataset.DatasetError: dataset.yaml, values.sex.male: 'Male' is not a value of sex in the data dictionary; map each of your labels to one of 'F', 'M'
    """
    block = _mapping("values", block, "sex: {male: M, female: F}")
    mappable = {c.name: [str(a) for a in c.allowed] for t in TABLES for c in columns(t)
                if c.type == "category" and c.allowed is not None and c.name != "arm"}
    mappable.update({c.name: ["true", "false"] for t in TABLES for c in columns(t) if c.type == "bool"})
    renamed = columns_block if isinstance(columns_block, Mapping) else {}
    out: dict[str, dict[str, str]] = {}
    for col, labels in block.items():
        col = key = str(col).strip()
        if col not in mappable and isinstance(renamed.get(col), str):
            col = renamed[col]  # your own name, renamed under columns: -> the dictionary's name
        if col == "arm":
            raise DatasetError(f"values.{key}", "arm labels are mapped under arms: (e.g. 'placebo: control')")
        if col not in mappable:
            listed = ", ".join(sorted(mappable))
            raise DatasetError(f"values.{key}", f"'{key}' is not a category or yes/no column of the data "
                                                f"dictionary; the columns whose labels can be mapped: {listed}")
        labels = _mapping(f"values.{key}", labels, "male: M")
        if mappable[col] == ["true", "false"]:  # a yes/no column: YAML's true/false, or the words
            labels = {k: _bool_text(v) for k, v in labels.items()}
        mapped = _label_map(labels, f"values.{key}", mappable[col],
                            "one of your labels", f"a value of {col} in the data dictionary")
        out[col] = {**out.get(col, {}), **mapped}
    return out


def _bool_text(value: Any) -> Any:
    """A yes/no target as the dictionary writes it: ``True``/``'yes'``/``1`` -> ``'true'`` (others unchanged)."""
    text = str(value).strip().lower()
    if isinstance(value, bool) or text in ("true", "false", "yes", "no", "1", "0"):
        return "true" if text in ("true", "yes", "1") else "false"
    return value


def _label_text(label: Any) -> str:
    """A YAML key as the text a cell holds (``1`` and ``1.0`` both as ``'1'``)."""
    if isinstance(label, float) and label.is_integer():
        return str(int(label))
    return str(label).strip()


def describe_spec(spec: DatasetSpec) -> pd.DataFrame:
    """What reading this folder changes, one row per item, for the book's "design used" box.

    Returns
    -------
    pandas.DataFrame
        Columns ``what`` (``design``, ``column``, ``unit``, ``arm``, ``value``), ``from``, ``to`` and ``note``.

    Examples
    --------
    >>> spec = dataset_spec({"columns": {"CRP": "crp_mg_l"}, "units": {"crp_mg_l": "mg/dL"},
    ...                      "arms": {"placebo": "control"}})
    >>> describe_spec(spec)[["what", "from", "to"]].values.tolist()[1:]
    [['column', 'CRP', 'crp_mg_l'], ['unit', 'crp_mg_l in mg/dL', 'mg/L'], ['arm', 'placebo', 'control']]
    """
    d = spec.design
    rows = [{"what": "design", "from": d.source, "to": f"visits at weeks {d.describe_weeks()}",
             "note": f"response judged at week {d.response_week}; final visit week {d.final_week}"}]
    rows += [{"what": "column", "from": k, "to": v, "note": "renamed on reading"} for k, v in spec.columns.items()]
    for col, unit in spec.units.items():
        f = spec.unit_factor(col)
        own = _units.dictionary_unit(col) or unit
        rows.append({"what": "unit", "from": f"{col} in {unit}", "to": own,
                     "note": "no conversion (already the dictionary's unit)" if f == 1 else f"values x {f:.6g}"})
    rows += [{"what": "arm", "from": k, "to": v, "note": "arm label mapped on reading"} for k, v in spec.arms.items()]
    rows += [{"what": "value", "from": f"{col}: {k}", "to": v, "note": "label mapped on reading"}
             for col, labels in spec.values.items() for k, v in labels.items()]
    vd = spec.visit_dates
    if vd is not None:
        for table, col in (("visits", vd.visits), ("adverse_events", vd.adverse_events)):
            if col:
                how = (f"visit windows {vd.describe_windows()} around 7 x week from {vd.day0}" if table == "visits"
                       else f"week of onset = floor(days from {vd.day0} / 7)")
                rows.append({"what": "dates", "from": f"{table}: {col}", "to": "week",
                             "note": f"{how}; the dates are dropped on reading"})
    return pd.DataFrame(rows, columns=["what", "from", "to", "note"])

