"""Personal identifiers: refused by column name (matched by token) and by what free-text cells hold.

The book must never receive names, contact details, identity numbers, hospital numbers or dates of birth; the
pseudonymous ``patient_id`` is the only identifier it needs. Two rules:

- **column names** (:func:`name_rule`): a column the data dictionary does not define is refused when its name
  contains an identifier word, in English or in common pinyin/Chinese forms (``patient_name``, ``PhoneNo``,
  ``xingming``, ``shouji``, ``身份证号`` ...);
- **cell values** (:func:`value_rules`): free-text columns (the dictionary's text columns such as the adverse-event
  term, and every unknown column) are scanned for e-mail addresses, phone numbers, national identity numbers (the
  Chinese 18-character resident ID with a valid check digit, 15-digit IDs, US SSNs, Hong Kong IDs) and dates that
  can be dates of birth.

A hit is an error naming the column, the first row and the rule (never the value). The columns of REDCap and
CDISC (SDTM/ADaM) exports (:func:`export_column`: ``redcap_event_name``, ``USUBJID``, ``AVISIT``, ``PARAMCD``, ...)
are recognised: never refused by name, ignored with a note when ``dataset.yaml`` does not map them. A column declared in
``dataset.yaml`` as ``safe_columns: [col, ...]`` is not refused (write there only columns you have checked).
Unknown columns are never loaded (:class:`analysis.intake.io.Cohort` keeps the dictionary's columns only).
"""
from __future__ import annotations

import re
import warnings
from datetime import date

import numpy as np
import pandas as pd

from analysis.intake.dictionary import TABLES, columns
from analysis.intake.problem import Problem

__all__ = ["CDISC_SUFFIXES", "CDISC_VARIABLES", "REDCAP_COLUMNS", "check", "export_column", "name_rule",
           "safe_columns", "value_rules"]

# Matched anywhere in the name with separators removed (long, unambiguous words).
_SUBSTRINGS = {
    "name": "name", "phone": "phone", "email": "e-mail", "e_mail": "e-mail", "address": "address",
    "birth": "birth", "passport": "passport", "idcard": "id card", "nationalid": "national id",
    "socialsecurity": "social security number", "medicalrecord": "medical record number",
    "hospitalnumber": "hospital number", "hospitalno": "hospital number", "telephone": "telephone",
    "postcode": "postcode", "zipcode": "zip code", "mobile": "mobile phone", "cellphone": "phone",
    "initials": "initials", "wechat": "WeChat id", "weixin": "WeChat id",
    # pinyin
    "xingming": "name (xingming)", "mingzi": "name (mingzi)", "mingcheng": "name (mingcheng)",
    "shouji": "mobile phone (shouji)", "dianhua": "phone (dianhua)", "lianxifangshi": "contact (lianxi fangshi)",
    "dizhi": "address (dizhi)", "zhuzhi": "address (zhuzhi)", "youxiang": "e-mail (youxiang)",
    "shenfenzheng": "identity card (shenfenzheng)", "shenfen": "identity (shenfen)", "huzhao": "passport (huzhao)",
    "zhuyuanhao": "inpatient number (zhuyuanhao)", "zhuyuan_hao": "inpatient number (zhuyuanhao)",
    "binganhao": "medical record number (binganhao)", "bingan": "medical record (bingan)",
    "menzhenhao": "outpatient number (menzhenhao)", "bingrenhao": "patient number (bingrenhao)",
    "chusheng": "birth (chusheng)", "shengri": "birthday (shengri)", "yibaohao": "insurance number (yibaohao)",
    "weixinhao": "WeChat id (weixinhao)",
}
# Matched as whole tokens only (short words that occur inside harmless words).
_TOKENS = {
    "dob": "date of birth (dob)", "mrn": "medical record number (mrn)", "ssn": "social security number (ssn)",
    "tel": "telephone (tel)", "mob": "mobile (mob)", "zip": "zip code", "sfz": "identity card (sfz)",
    "sfzh": "identity card (sfzh)", "nric": "identity card (nric)", "nhs": "NHS number",
    "cpr": None, "fax": "fax number", "street": "street", "xm": "name (xm)", "sjh": "mobile phone (sjh)",
    "zyh": "inpatient number (zyh)", "mzh": "outpatient number (mzh)", "bah": "record number (bah)",
    "birthday": "birthday", "surname": "surname", "addr": "address", "mail": "e-mail",
    "brthdtc": "date of birth (CDISC BRTHDTC)", "brthdt": "date of birth (CDISC BRTHDT)",
    "brthdtm": "date of birth (CDISC BRTHDTM)", "invnam": "investigator name (CDISC INVNAM)",
}
# Token pairs (either order adjacent): "id card", "national id", "hospital no", "record number", ...
_PAIRS = {
    ("id", "card"): "id card", ("national", "id"): "national id", ("hospital", "no"): "hospital number",
    ("hospital", "number"): "hospital number", ("hospital", "id"): "hospital number",
    ("record", "no"): "record number", ("record", "number"): "record number", ("case", "no"): "case number",
    ("case", "number"): "case number", ("card", "no"): "card number", ("card", "number"): "card number",
    ("inpatient", "no"): "inpatient number", ("inpatient", "number"): "inpatient number",
    ("inpatient", "id"): "inpatient number", ("outpatient", "no"): "outpatient number",
    ("outpatient", "id"): "outpatient number", ("identity", "card"): "identity card",
    ("identity", "number"): "identity number", ("id", "number"): "id number", ("id", "no"): "id number",
    ("social", "security"): "social security number", ("contact", "no"): "contact number",
    ("patient", "no"): None,
}
_CHINESE = {
    "姓名": "name (姓名)", "名字": "name (名字)", "电话": "phone (电话)", "手机": "mobile phone (手机)",
    "联系方式": "contact (联系方式)", "地址": "address (地址)", "住址": "address (住址)", "邮箱": "e-mail (邮箱)",
    "身份证": "identity card (身份证)", "证件号": "identity number (证件号)", "护照": "passport (护照)",
    "住院号": "inpatient number (住院号)", "病案号": "medical record number (病案号)",
    "门诊号": "outpatient number (门诊号)", "病历号": "medical record number (病历号)", "出生": "birth (出生)",
    "生日": "birthday (生日)", "医保": "insurance number (医保)", "微信": "WeChat id (微信)",
}


# Columns every REDCap export or CDISC (SDTM/ADaM) data set carries: recognised, never refused, ignored with a note.
REDCAP_COLUMNS = {
    "redcap_event_name": "REDCap's event (visit) name", "redcap_repeat_instrument": "REDCap's repeating instrument",
    "redcap_repeat_instance": "REDCap's repeat instance number",
    "redcap_data_access_group": "REDCap's data access group (site)",
    "redcap_survey_identifier": "REDCap's survey identifier", "redcap_arm": "REDCap's arm number",
}
CDISC_VARIABLES = {
    # identifiers and design (SDTM DM / ADaM ADSL)
    "STUDYID": "study identifier", "DOMAIN": "domain abbreviation", "USUBJID": "unique subject identifier",
    "SUBJID": "subject identifier", "SITEID": "site identifier", "SITEGR1": "pooled site group",
    "INVID": "investigator identifier", "COUNTRY": "country", "ARM": "planned arm", "ARMCD": "planned arm code",
    "ACTARM": "actual arm", "ACTARMCD": "actual arm code", "TRT01P": "planned treatment",
    "TRT01PN": "planned treatment (N)", "TRT01A": "actual treatment", "TRT01AN": "actual treatment (N)",
    "TRTP": "planned treatment", "TRTPN": "planned treatment (N)", "TRTA": "actual treatment",
    "TRTAN": "actual treatment (N)", "AGE": "age", "AGEU": "age units", "AGEGR1": "age group", "SEX": "sex",
    "RACE": "race", "ETHNIC": "ethnicity", "SAFFL": "safety population flag", "ITTFL": "intent-to-treat flag",
    "FASFL": "full analysis set flag", "PPROTFL": "per-protocol flag", "RANDFL": "randomised flag",
    "COMPLFL": "completers flag", "DTHFL": "death flag", "EOSSTT": "end of study status",
    "DCSREAS": "reason for discontinuation", "EPOCH": "epoch",
    # visits and parameters (ADaM BDS, SDTM findings)
    "VISIT": "visit name", "VISITNUM": "visit number", "VISITDY": "planned study day of visit",
    "AVISIT": "analysis visit", "AVISITN": "analysis visit (N)", "ATPT": "analysis time point",
    "ATPTN": "analysis time point (N)", "ADY": "analysis relative day", "PARAM": "parameter",
    "PARAMCD": "parameter code", "PARAMN": "parameter (N)", "PARCAT1": "parameter category", "AVAL": "analysis value",
    "AVALC": "analysis value (C)", "AVALU": "analysis value unit", "BASE": "baseline value", "CHG": "change from baseline",
    "PCHG": "percent change from baseline", "ABLFL": "baseline record flag", "ANL01FL": "analysis flag",
    "DTYPE": "derivation type", "AWTARGET": "analysis window target", "AWLO": "analysis window beginning",
    "AWHI": "analysis window end", "AWTDIFF": "analysis window difference", "AWRANGE": "analysis window",
    "SRCDOM": "source domain", "SRCVAR": "source variable", "SRCSEQ": "source sequence number",
    "CRIT1": "analysis criterion", "CRIT1FL": "criterion flag", "ANRLO": "normal range lower limit",
    "ANRHI": "normal range upper limit", "ANRIND": "normal range indicator",
    # adverse events (SDTM AE / ADaM ADAE)
    "AETERM": "reported adverse event term", "AEDECOD": "dictionary-derived term", "AEBODSYS": "body system",
    "AESOC": "system organ class", "AESER": "serious event", "AEREL": "causality", "AESEV": "severity",
    "AETOXGR": "toxicity grade", "AEOUT": "outcome", "AEACN": "action taken", "AESTDY": "study day of onset",
    "AEENDY": "study day of end", "ASTDY": "analysis start day", "AENDY": "analysis end day",
    "TRTEMFL": "treatment-emergent flag", "AOCCFL": "first occurrence flag",
}
# SDTM variables named by a two-letter domain prefix and a standard suffix (LBTESTCD, VSORRES, AESEQ, ...)
CDISC_SUFFIXES = ("SEQ", "TESTCD", "TEST", "CAT", "SCAT", "ORRES", "ORRESU", "ORNRLO", "ORNRHI", "STRESC",
                   "STRESN", "STRESU", "STAT", "REASND", "SPEC", "METHOD", "BLFL", "DRVFL", "TPT", "TPTNUM", "DY",
                   "STDY", "ENDY", "GRPID", "REFID", "SPID", "LNKID", "NRIND", "TOXGR")


def export_column(name: str) -> str | None:
    """What a column of a REDCap or CDISC (SDTM/ADaM) export is, or None when it is not one of theirs.

    Such a column is recognised, never refused as an identifier (``redcap_event_name`` holds an event's name, not a
    person's) and, unless ``dataset.yaml`` maps it, ignored with a note.

    Examples
    --------
    >>> export_column("redcap_event_name"), export_column("USUBJID"), export_column("lbtestcd")
    ("REDCap's event (visit) name", 'unique subject identifier', 'SDTM variable (domain LB, suffix TESTCD)')
    >>> export_column("patient_name"), export_column("BRTHDTC")
    (None, None)
    """
    text = str(name).strip()
    if text.lower() in REDCAP_COLUMNS:
        return REDCAP_COLUMNS[text.lower()]
    up = text.upper()
    if up in CDISC_VARIABLES:
        return CDISC_VARIABLES[up]
    if re.fullmatch(r"[A-Z]{2}[A-Z]+", up) and up[2:] in CDISC_SUFFIXES and text in (up, text.lower()):
        return f"SDTM variable (domain {up[:2]}, suffix {up[2:]})"
    return None


def _tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    spaced = re.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", spaced)
    return [t for t in re.split(r"[^0-9a-z]+", spaced.lower()) if t]


def name_rule(name: str) -> str | None:
    """The identifier word a column name contains, or None.

    Examples
    --------
    >>> name_rule("patient_name"), name_rule("PhoneNo"), name_rule("shenfenzheng_hao"), name_rule("ID Card")
    ('name', 'phone', 'identity card (shenfenzheng)', 'id card')
    >>> name_rule("身份证号码"), name_rule("DOB"), name_rule("crp_mg_l"), name_rule("telomere_length")
    ('identity card (身份证)', 'date of birth (dob)', None, None)
    """
    text = str(name)
    for word, what in _CHINESE.items():
        if word in text:
            return what
    toks = _tokens(text)
    joined = "".join(toks)
    for word, what in _SUBSTRINGS.items():
        if word.replace("_", "") in joined:
            return what
    for t in toks:
        if _TOKENS.get(t):
            return _TOKENS[t]
    for a, b in zip(toks, toks[1:]):
        what = _PAIRS.get((a, b)) or _PAIRS.get((b, a))
        if what:
            return what
    return None


# ----------------------------------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------------------------------
_EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
_PHONE = (r"(?<![\d\w])(?:(?:\+|00)86[\s\-]?)?1[3-9]\d[\s\-]?\d{4}[\s\-]?\d{4}(?!\d)"  # Chinese mobile
          r"|(?<![\d\w])\(?0\d{2,3}\)?[\s\-]?\d{7,8}(?!\d)"  # Chinese landline with area code
          r"|(?<![\d\w])\+\d{1,3}[\s\-]?\(?\d{1,4}\)?(?:[\s\-]?\d{2,4}){2,4}(?!\d)"  # international
          r"|(?<![\d\w])\(?\d{3}\)?[\s.\-]\d{3}[\s.\-]\d{4}(?!\d)")  # North American
_CN_ID18 = r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
_OTHER_ID = (r"(?<![0-9A-Za-z])[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![0-9A-Za-z])"  # CN 15-digit
             r"|(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)"  # US SSN
             r"|(?<![A-Za-z0-9])[A-Z]{1,2}\d{6}\([0-9A]\)")  # Hong Kong ID
_DATE = (r"(?<!\d)(?P<y1>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m1>\d{1,2})\s*[-/.月]\s*(?P<d1>\d{1,2})(?!\d)"
         r"|(?<!\d)(?P<d2>\d{1,2})[-/.](?P<m2>\d{1,2})[-/.](?P<y2>(?:19|20)\d{2})(?!\d)"
         r"|(?<!\d)(?P<y3>19\d{2})(?P<m3>0[1-9]|1[0-2])(?P<d3>0[1-9]|[12]\d|3[01])(?!\d)")
_BIRTH_WORDS = r"(?i)\b(?:born|dob|d\.o\.b|birth|birthday|geb)\b|出生|生日"

_ID18 = re.compile(_CN_ID18)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def cn_id_valid(text: str) -> bool:
    """True if ``text`` is an 18-character Chinese resident ID whose check digit (ISO 7064 MOD 11-2) is right.

    Examples
    --------
    >>> cn_id_valid("11010519491231002X"), cn_id_valid("110105194912310021")
    (True, False)
    """
    if len(text) != 18 or not text[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(text[:17], _WEIGHTS))
    return "10X98765432"[total % 11] == text[17].upper()


def _has_cn_id(value: str) -> bool:
    return any(cn_id_valid(m.group()) for m in _ID18.finditer(value))


def _birth_date(value: str) -> bool:
    """A full date from 1900 to 16 years ago (a possible date of birth), or any date next to a birth word."""
    latest = date.today().year - 16
    near_word = re.search(_BIRTH_WORDS, value) is not None
    for m in re.finditer(_DATE, value):
        g = m.groupdict()
        y, mo, d = next((g[f"y{i}"], g[f"m{i}"], g[f"d{i}"]) for i in (1, 2, 3) if g[f"y{i}"])
        y, mo, d = int(y), int(mo), int(d)
        if g["y2"] and mo > 12 and d <= 12:  # 12/31/1960 (month first)
            mo, d = d, mo
        if not (1 <= mo <= 12 and 1 <= d <= 31):
            continue
        if near_word or 1900 <= y <= latest:
            return True
    return False


def _where(s: pd.Series, pattern: str, test) -> pd.Series:
    """``test`` (a Python function) applied only to the values the regular expression ``pattern`` finds."""
    out = pd.Series(False, index=s.index)
    with warnings.catch_warnings():  # the pattern's groups are used by ``test``, not here
        warnings.simplefilter("ignore", UserWarning)
        cand = s.str.contains(pattern, regex=True).to_numpy(dtype=bool)
    if cand.any():
        out[cand] = s[cand].map(test).astype(bool).to_numpy()
    return out


#: (rule name, vectorised test on a Series of distinct strings)
_VALUE_RULES = [
    ("an e-mail address", lambda s: s.str.contains(_EMAIL, regex=True)),
    ("a national identity number", lambda s: _where(s, _CN_ID18, _has_cn_id) | s.str.contains(_OTHER_ID, regex=True)),
    ("a phone number", lambda s: s.str.contains(_PHONE, regex=True)),
    ("a date of birth (a full date before "
     f"{date.today().year - 15}, or a date next to a word such as 'born')", lambda s: _where(s, _DATE, _birth_date)),
]


def value_rules(values) -> list[str]:
    """The identifier rules a text value breaks (for one value; :func:`check` works on whole columns).

    Examples
    --------
    >>> value_rules("call 138-0013-8000"), value_rules("fever"), value_rules("x@example.org")
    (['a phone number'], [], ['an e-mail address'])
    >>> value_rules("11010519491231002X")[0]
    'a national identity number'
    """
    s = pd.Series([str(values)], dtype=object)
    return [name for name, test in _VALUE_RULES if bool(test(s).iloc[0])]


# ----------------------------------------------------------------------------------------------
# The folder-level check
# ----------------------------------------------------------------------------------------------
def safe_columns(meta: dict) -> set[str]:
    """Columns ``dataset.yaml`` declares safe (``safe_columns: [a, b]``; names compared case-insensitively).

    Examples
    --------
    >>> sorted(safe_columns({"safe_columns": ["Drug_Name", "notes"]}))
    ['drug_name', 'notes']
    """
    raw = meta.get("safe_columns") if isinstance(meta, dict) else None
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, (list, tuple)):
        return set()
    return {str(x).strip().lower() for x in raw}


_FIX_VALUE = ("remove the personal data from these cells (the book needs only the pseudonymous patient_id); if "
              "this is not personal data, declare the column in dataset.yaml: safe_columns: [{col}]")
_FIX = ("delete the column before sharing the data (the book needs only the pseudonymous patient_id); if it holds no "
        "personal data, declare the column in dataset.yaml: safe_columns: [{col}]")


def check(problems: list, read: dict, meta: dict) -> list:
    """Replace the validator's column-name privacy findings by the token rules and add the value scan.

    Parameters
    ----------
    problems : list of Problem
        What the validator's rules found.
    read : dict
        ``{table: (path, frame)}`` as the validator read it.
    meta : dict
        ``dataset.yaml`` (its ``safe_columns:``).

    Returns
    -------
    list of Problem
        The new problem list (privacy errors first).

    Examples
    --------
    >>> from pathlib import Path
    >>> df = pd.DataFrame({"patient_id": ["P1"], "notes": ["call a@b.org"]}, index=pd.Index([2], name="row"))
    >>> print(check([], {"patients": (Path("patients.csv"), df)}, {})[0])  # doctest: +ELLIPSIS
    patients.csv, row 2, column 'notes': refused for privacy: this cell holds what looks like an e-mail address; ...
    >>> check([], {"patients": (Path("patients.csv"), df)}, {"safe_columns": ["notes"]})
    []
    """
    safe = safe_columns(meta)
    out = list(problems)
    for table, (path, df) in read.items():
        if table not in TABLES:
            continue
        fname = path.name
        spec = {c.name: c for c in columns(table)}
        unknown = [c for c in df.columns if c not in spec]
        text_cols = [c for c in df.columns if c in spec and spec[c].type == "str"] + unknown
        for col in unknown:
            is_safe = str(col).strip().lower() in safe
            mine = [p for p in out if p.file == fname and p.column == col and p.row is None
                    and (p.rule.startswith("refused for privacy") or p.rule.startswith("unknown column"))]
            what = name_rule(col)
            export = export_column(col)
            if export is not None and not is_safe:  # redcap_event_name: an event's name, not a person's
                out = [p for p in out if p not in mine]
                out.append(Problem(fname, None, col, None, f"recognised as {export} (a column of REDCap or CDISC "
                                                           "exports), ignored", "note"))
                continue
            if is_safe:
                if any(p.rule.startswith("refused for privacy") for p in mine):
                    out = [p for p in out if p not in mine]
                    out.append(Problem(fname, None, col, None,
                                       "unknown column, ignored (declared safe in dataset.yaml)", "warning"))
                continue
            if what is None and not any(p.rule.startswith("refused for privacy") for p in mine):
                continue
            out = [p for p in out if p not in mine]
            word = f"it contains '{what}'" if what else "it matches an identifier pattern"
            out.insert(0, Problem(fname, None, col, None,
                                  f"refused for privacy: the column name looks like a direct identifier ({word}); "
                                  + _FIX.format(col=col)))
        flagged = {p.column for p in out if p.file == fname and p.rule.startswith("refused for privacy")}
        for col in text_cols:
            if str(col).strip().lower() in safe or col in flagged:
                continue
            s = df[col]
            if isinstance(s.dtype, pd.CategoricalDtype):
                cats = pd.Series(s.cat.categories, dtype=object).astype(str)
                codes = s.cat.codes.to_numpy()
            else:
                codes, uniq = pd.factorize(s.astype(str))
                cats = pd.Series(uniq, dtype=object).astype(str)
            interesting = cats.str.contains(r"@|\d{4}|\d[\s\-]\d", regex=True).to_numpy()
            if not interesting.any():
                continue
            sub = cats[interesting]
            for rule, test in _VALUE_RULES:
                hit_cats = np.zeros(len(cats), dtype=bool)
                hit_cats[np.flatnonzero(interesting)] = np.asarray(test(sub), dtype=bool)
                if not hit_cats.any():
                    continue
                rows_hit = hit_cats[codes]
                n = int(rows_hit.sum())
                first = int(df.index[np.argmax(rows_hit)])
                more = f"; {n - 1:,} more cell{'s' if n > 2 else ''} in this column" if n > 1 else ""
                out.insert(0, Problem(fname, first, col, None,
                                      f"refused for privacy: this cell holds what looks like {rule}{more}; "
                                      + _FIX_VALUE.format(col=col), count=n))
                break  # one rule per column is enough to refuse it
    return out
