"""What research software ships: LICENSE, CITATION.cff (valid against the CFF 1.2.0 schema) and the attribution of
the paper's text (data/published/ATTRIBUTION.md).

The schema is validated with the project's ``jsonschema`` (``cffconvert --validate`` does the same check, but
``cffconvert`` 2.0.0 requires ``jsonschema<4``): tests/schemas/cff-1.2.0/README.md says where the copy comes from.
"""
from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tests" / "schemas" / "cff-1.2.0" / "schema.json"
SCHEMA_SHA256 = "0b8d22140da702d766df318dcff3a91af2f39521298dcf36d76315fd99cc169b"  # as in cffconvert 2.0.0
PAPER_DOI = "10.1186/s12967-018-1541-4"


def cff() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text("utf-8"))


def cff_errors(doc: dict) -> list[str]:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(doc)]


def bib_entry(key: str) -> dict[str, str]:
    text = (ROOT / "book" / "references.bib").read_text("utf-8")
    body = re.search(r"@\w+\{" + key + r",(.*?)\n\}", text, re.S).group(1)
    return {k: v.strip() for k, v in re.findall(r"(\w+)\s*=\s*\{(.*)\},?\s*$", body, re.M)}


def test_the_schema_is_the_cff_1_2_0_schema_unchanged():
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert json.loads(SCHEMA.read_text("utf-8"))["$id"] == "https://citation-file-format.github.io/1.2.0/schema.json"


def test_citation_cff_is_valid():
    doc = cff()
    assert doc["cff-version"] == "1.2.0"
    assert cff_errors(doc) == []


@pytest.mark.parametrize("break_it, where", [
    (lambda d: d.pop("authors"), "(top)"),
    (lambda d: d["references"][0].update(doi="not a doi"), "references/0/doi"),
    (lambda d: d.update(license="MIT-ish"), "license"),
])
def test_the_schema_check_catches_a_broken_file(break_it, where):
    doc = cff()
    break_it(doc)
    assert any(e.startswith(where) for e in cff_errors(doc)), cff_errors(doc)


def test_citation_names_the_book_as_pyproject_and_the_book_config_do():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    config = yaml.safe_load((ROOT / "_config.yml").read_text("utf-8"))
    doc = cff()
    assert doc["license"] == project["license"] == "MIT"
    assert str(doc["version"]) == project["version"]
    assert doc["title"] == config["title"]


def test_citation_cites_the_paper_as_the_bibliography_does():
    bib = bib_entry("yang2018")
    paper = next(r for r in cff()["references"] if r.get("doi") == PAPER_DOI)
    assert bib["doi"] == PAPER_DOI
    bib_authors = [a.strip() for a in bib["author"].split(" and ")]
    assert [f"{a['family-names']}, {a['given-names']}" for a in paper["authors"]] == bib_authors
    assert (paper["year"], paper["volume"], paper["start"]) == (int(bib["year"]), int(bib["volume"]), int(bib["pages"]))
    assert paper["journal"] == bib["journal"]
    assert paper["license"] == "CC-BY-4.0"


def test_license_is_the_mit_licence_pyproject_names():
    text = (ROOT / "LICENSE").read_text("utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) ")
    assert "Permission is hereby granted, free of charge" in text and 'THE SOFTWARE IS PROVIDED "AS IS"' in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["license-files"] == ["LICENSE"]


def test_the_papers_text_is_attributed_beside_it():
    text = " ".join((ROOT / "data" / "published" / "ATTRIBUTION.md").read_text("utf-8").split())
    assert "`paper.txt`" in text and f"https://doi.org/{PAPER_DOI}" in text
    assert "https://creativecommons.org/licenses/by/4.0/" in text and "CC BY 4.0" in text
    assert "What was changed" in text
    for family in ("Yang", "He", "Zhao", "Guo", "Zhu", "Xing", "Jiang", "Liu", "Xu"):
        assert f"{family} " in text
    assert "*Journal of Translational Medicine* 2018;16:165" in text
