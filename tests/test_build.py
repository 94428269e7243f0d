"""The spine: CLI help, notebook rules, parameter checks, the full build, failure without losing the old site."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.core.notebooks import chapter_parameters
from analysis.engine import publish, render
from analysis.core.chapters import CHAPTERS
from analysis.core.errors import BuildError
from analysis.engine.build import build
from analysis.engine.params import check_parameters, parse_parameters
from analysis.core.errors import ParameterError
from tinybook import PARAMETERS, tiny_book, tree_hash

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=900)



# --------------------------------------------------------------------------- CLI
@pytest.mark.parametrize("command", [[], ["build"], ["validate"], ["template"], ["simulate"]])
def test_help_explains_every_command(command):
    res = run_cli(*command, "--help")
    assert res.returncode == 0, res.stderr
    assert "usage: python -m analysis" in res.stdout
    if command == ["build"]:
        for option in ("--data", "--out", "--chapter", "--param", "--jobs", "--force", "--timeout", "--no-solutions"):
            assert option in res.stdout


def test_unknown_parameter_is_refused_without_traceback(tmp_path):
    res = run_cli("build", "--out", str(tmp_path / "out"), "-p", "no_such_parameter=1")
    assert res.returncode == 2
    assert "unknown parameter 'no_such_parameter'" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out" / "html").exists()


def test_parameter_of_wrong_type_is_refused(tmp_path):
    res = run_cli("build", "--out", str(tmp_path / "out"), "-p", "alpha=often")
    assert res.returncode == 2
    assert "-p alpha=often: allowed: a number greater than 0" in res.stderr
    assert "Traceback" not in res.stderr


# --------------------------------------------------------------------------- notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_stored_without_outputs(path):
    nb = json.loads(path.read_text("utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name} cell {i} has outputs"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_the_parameters_cell(path):
    nb = json.loads(path.read_text("utf-8"))
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert "parameters" in first["metadata"].get("tags", [])
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    params = chapter_parameters(path)
    assert "output_dir" in params


def test_every_chapter_has_its_notebook():
    for c in CHAPTERS:
        assert (ROOT / "book" / c.notebook).exists(), c.notebook


# --------------------------------------------------------------------------- parameters (hand cases)
def test_parse_parameters_reads_yaml_scalars():
    assert parse_parameters(["a=1", "b=0.5", "c=true", "d=esr", "e="]) == {"a": 1, "b": 0.5, "c": True, "d": "esr",
                                                                          "e": ""}
    with pytest.raises(ParameterError):
        parse_parameters(["novalue"])


def test_check_parameters_coerces_int_to_float_but_not_float_to_int():
    declared = {"x": {"alpha": 0.05, "n_boot": 100, "flag": False, "name": "a", "anything": None}}
    assert check_parameters({"ifng_threshold_pg_ml": 1}, {"x": {"ifng_threshold_pg_ml": 2.0}}) == {
        "x": {"ifng_threshold_pg_ml": 1.0}}
    with pytest.raises(ParameterError):
        check_parameters({"n_boot": 0.5}, declared)
    with pytest.raises(ParameterError):
        check_parameters({"flag": 1}, declared)
    with pytest.raises(ParameterError):
        check_parameters({"data_dir": "x"}, declared)
    assert check_parameters({"anything": [1]}, declared)["x"]["anything"] == [1]


# --------------------------------------------------------------------------- a small book for failure tests
def _tiny_book(folder: Path, *, fail: bool) -> Path:
    """A book folder with the intro page and one tiny 'safety' chapter that succeeds or raises."""
    code = "raise RuntimeError('forced failure for the test')" if fail else "print(1 + 1)"
    return tiny_book(folder, chapters={"safety": (PARAMETERS, code)}, intro="One chapter, for the failure tests.")


@pytest.mark.slow
def test_failing_chapter_leaves_previous_site_untouched(tmp_path):
    out = tmp_path / "out"
    build(out=out, book_dir=_tiny_book(tmp_path / "ok", fail=False), jobs=1)
    assert (out / "html" / "index.html").exists()
    before = tree_hash(out / "html")
    with pytest.raises(BuildError) as err:
        build(out=out, book_dir=_tiny_book(tmp_path / "bad", fail=True), jobs=1, force=True)
    message = str(err.value)
    assert "Chapter 'safety'" in message and "cell" in message and "forced failure" in message
    assert "Traceback" not in message
    assert tree_hash(out / "html") == before
    assert not list(out.glob(".staging-*")), "the staging folder was not cleaned up"
    assert not (out / ".build.lock").exists()


@pytest.mark.slow
def test_chapter_timeout_fails_cleanly_through_the_cli(tmp_path):
    res = run_cli("build", "--out", str(tmp_path / "out"), "--chapter", "safety", "--timeout", "0.5", "--force")
    assert res.returncode == 1
    assert "stopped after 0.5s" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out" / "html").exists()
    assert not list((tmp_path / "out").glob(".staging-*"))


def test_second_build_on_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    lock = out / ".build.lock"
    lock.write_text(f"{1} 2026-01-01 00:00:00\n")  # pid 1 is always alive
    with pytest.raises(BuildError, match="Another build is running"):
        build(out=out)
    assert lock.exists()


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    with publish.Lock(tmp_path) as lock:
        pass
    (tmp_path / ".build.lock").write_text(f"{proc.pid} 2026-01-01 00:00:00\n")
    with publish.Lock(tmp_path):
        assert (tmp_path / ".build.lock").read_text().split()[0] != str(proc.pid)
    assert lock is not None


def test_unwritable_output_folder_message_even_as_root(tmp_path, monkeypatch, capsys):
    """Root ignores permission bits, so simulate the refusal the way the OS reports it (EACCES)."""
    from pathlib import Path as _Path

    from analysis.cli import main

    real = _Path.write_text

    def refuse(self, *args, **kwargs):
        if self.name.startswith(".write-test-"):
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(_Path, "write_text", refuse)
    assert main(["build", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "Cannot write to the output folder" in err and "Permission denied" in err
    assert "Traceback" not in err


def test_read_only_output_folder_gives_one_clear_message(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        res = run_cli("build", "--out", str(ro / "out"))
        if res.returncode == 0:  # running as a user who ignores permissions: nothing to check
            pytest.skip("permissions are not enforced for this user")
    finally:
        ro.chmod(0o700)
    assert res.returncode == 2
    assert "Cannot write to the output folder" in res.stderr
    assert "Traceback" not in res.stderr


# --------------------------------------------------------------------------- the whole book
@pytest.mark.slow
def test_full_build_renders_every_chapter_with_tables_and_figures(built_book):
    html = built_book / "html"
    assert (html / "index.html").exists()
    for c in CHAPTERS:
        page = html / "book" / f"{Path(c.notebook).stem}.html"
        assert page.exists(), page
        text = page.read_text("utf-8")
        assert "msct-table" in text, f"{page.name} shows no table"
        assert "Traceback" not in text
        assert (built_book / "results" / c.name).is_dir()
    for c in CHAPTERS:
        if c.uses_data and c.name != "scorecard":
            assert "<img" in (html / "book" / f"{Path(c.notebook).stem}.html").read_text("utf-8"), c.name
    assert (built_book / "results" / "claims.csv").exists()
    assert (built_book / "results" / "derived" / "visits.csv").exists()


@pytest.mark.slow
def test_rebuild_with_nothing_changed_executes_nothing(built_book, tmp_path):
    lines: list[str] = []
    result = build(out=built_book, report=lines.append)
    assert result.up_to_date and not result.executed


@pytest.mark.slow
def test_default_data_leave_no_reference_unresolved(built_book):
    """On the shipped cohort every glued figure and number exists: no "not available" placeholder is needed.

    (The placeholder exists for degenerate data -- tests/test_degenerate.py; here it would hide a typo in a key.)
    """
    for c in CHAPTERS:
        text = (built_book / "html" / "book" / f"{Path(c.notebook).stem}.html").read_text("utf-8")
        assert "Not available with these data:" not in text, c.name


@pytest.mark.parametrize("source, missing", [
    ("```{glue:figure} fig_a\n:name: fig-x\n\nCaption\n```\n\nSee {numref}`fig-x`.", ["fig_a"]),
    ("{glue:text}`n_a:.1f` and {glue}`n_b`", ["n_a", "n_b"]),
    ("{glue:text}`present`", []),
])
def test_references_to_values_a_chapter_did_not_glue_become_notes(source, missing):
    nb = {"cells": [{"cell_type": "markdown", "source": source},
                    {"cell_type": "code", "outputs": [{"metadata": {"scrapbook": {"name": "present"}}}]}]}
    new, found = render.mark_not_available(nb)
    assert found == missing
    text = new["cells"][0]["source"]
    assert "{glue:figure}" not in text and "`n_a" not in text and "{numref}" not in text
    if missing:
        assert "Not available with these data" in text or "*n/a (not available with these data)*" in text
    assert nb["cells"][0]["source"] == source, "the input notebook was modified"


@pytest.mark.slow
def test_chapters_reuse_the_cohort_the_build_validated(tmp_path):
    """The build validates the data folder once; each chapter's page.load() reuses that cohort."""
    code = ("from analysis.intake.io import load_validated\nfrom analysis.engine.report import Page\n"
            "page = Page('safety', data_dir=data_dir, output_dir=output_dir)\n"
            "print('reused' if load_validated(page.data_dir, page.output_dir) is not None else 'validated again')\n"
            "print(len(page.load().patients))")
    book = tiny_book(tmp_path / "book", chapters={"safety": (PARAMETERS, code)})
    out = tmp_path / "out"
    build(out=out, book_dir=book, jobs=1)
    nb = json.loads((out / "executed" / "safety.ipynb").read_text("utf-8"))
    printed = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert printed.split() == ["reused", "105"]
    assert not list(out.rglob(".validated-cohort.pickle*")), "the kept cohort is build-internal"


def test_the_build_reads_the_data_folder_once(tmp_path, monkeypatch):
    """The build hashes and validates the folder once (io.load); the plan, the kept cohort and the derived tables
    use the loaded cohort (its fingerprint, design and metadata), not the folder."""
    from analysis.intake import io

    calls: list[str] = []
    fingerprint, validate = io.fingerprint, io.validate_and_read
    monkeypatch.setattr(io, "fingerprint", lambda folder: calls.append("hash") or fingerprint(folder))
    monkeypatch.setattr(io, "validate_and_read", lambda folder: calls.append("validate") or validate(folder))
    writes = "from pathlib import Path\n(Path(output_dir) / 'results' / 'safety').mkdir(parents=True, exist_ok=True)"
    book = tiny_book(tmp_path / "book", chapters={"safety": (PARAMETERS, writes)})
    out = tmp_path / "out"
    build(out=out, book_dir=book, jobs=1)
    assert calls == ["hash", "validate"]  # (the chapters run in processes of their own)
    calls.clear()
    again = build(out=out, book_dir=book, jobs=1)  # nothing changed: the files' hash alone tells
    assert again.up_to_date and calls == ["hash"]
