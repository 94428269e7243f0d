"""What the build overlaps with the chapters: the render set up in advance, the scorecard started in advance.

Both must change nothing but the time: the render builds only when told (and leaves nothing behind when not),
a runner started in advance runs its cells only when told, and one that is not needed is stopped.
"""
from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from analysis.engine import build as build_mod
from analysis.engine import render as render_mod
from analysis.engine.publish import DOWNLOADS_EXTRA
from analysis.engine import runner
from analysis.core.chapters import CHAPTERS
from analysis.engine.build import build
from tinybook import tiny_book

#: like a real chapter, each writes its results folder (the build reuses a chapter only with its results)
_WRITE = ("from pathlib import Path\n"
          "results = Path(output_dir) / 'results' / '{0}'\n"
          "results.mkdir(parents=True, exist_ok=True)\n"
          "(results / 'value.csv').write_text('value\\n' + str(globals().get('x', 1) * 2) + '\\n')")


def _staged(tmp_path: Path) -> Path:
    """A staged tiny book (config, table of contents, static pages), its chapter not executed yet."""
    book = tiny_book(tmp_path / "book")
    stage = tmp_path / "stage"
    render_mod.stage_book(book, stage, [c for c in CHAPTERS if c.name == "safety"], "test", False)
    return stage


def test_staged_book_is_ready_for_an_early_render(tmp_path):
    stage = _staged(tmp_path)
    assert (stage / DOWNLOADS_EXTRA).is_dir(), "html_extra_path must exist when Sphinx is set up"
    config = (stage / "_config.yml").read_text("utf-8")
    assert "executed" in config and "results" in config  # excluded by name, not by what exists at set-up


def test_render_waits_for_go_and_stop_leaves_nothing(tmp_path):
    stage = _staged(tmp_path)
    render = render_mod.Render(stage, tmp_path / "out")
    try:
        time.sleep(1.0)
        assert render.proc.poll() is None, "the render should wait to be told"
        assert not (stage / "_build" / "html" / "index.html").exists()
    finally:
        render.stop()
    assert render.proc.poll() is not None
    render.stop()  # twice is fine
    assert not (stage / "_build" / "html" / "index.html").exists()


def test_render_started_before_the_chapter_exists_renders_it(tmp_path):
    stage = _staged(tmp_path)
    render = render_mod.Render(stage, tmp_path / "out")
    try:
        time.sleep(0.5)
        # the chapter arrives after Sphinx was set up, as in a build
        shutil.copy2(tmp_path / "book" / "safety.ipynb", stage / "book" / "safety.ipynb")
        render.run()
    finally:
        render.stop()
    html = stage / "_build" / "html"
    assert (html / "index.html").exists()
    assert (html / "book" / "safety.html").exists()


def test_render_reads_a_chapter_once_told_it_is_ready(tmp_path):
    """Sphinx reads the static pages at once, a chapter notebook only after ready() (its placeholder never)."""
    stage = _staged(tmp_path)
    placeholder = (stage / "book" / "safety.ipynb").read_text("utf-8")
    doctrees = stage / "_build" / ".doctrees" / "book"
    render = render_mod.Render(stage, tmp_path / "out")
    try:
        deadline = time.monotonic() + 120
        while not (doctrees / "intro.doctree").exists():  # a static page: read without being told
            assert render.proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)
        assert not (doctrees / "safety.doctree").exists(), "the placeholder must not be read"
        executed = placeholder.replace("# Safety (tiny)", "# Safety (tiny, executed)")
        assert executed != placeholder
        (stage / "book" / "safety.ipynb").write_text(executed, "utf-8")
        render.ready("safety.ipynb")
        while not (doctrees / "safety.doctree").exists():  # read now, before go
            assert render.proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        (stage / "book" / "safety.ipynb").write_text(placeholder, "utf-8")  # too late to matter: read already
        render.run()
    finally:
        render.stop()
    page = (stage / "_build" / "html" / "book" / "safety.html").read_text("utf-8")
    assert "Safety (tiny, executed)" in page


def test_the_pages_do_not_depend_on_the_order_the_chapters_are_read_in(tmp_path):
    """Chapters become ready in whatever order they finish; the site is the same either way."""
    book = tiny_book(tmp_path / "book", chapters={name: ("output_dir = None", f"print('{name}')")
                                                  for name in ("safety", "immune", "ifng")})
    sites = []
    for order in (["safety", "immune", "ifng"], ["ifng", "immune", "safety"]):
        stage = tmp_path / f"stage-{order[0]}"
        render_mod.stage_book(book, stage, [c for c in CHAPTERS if c.name in order], "test", False)
        render = render_mod.Render(stage, tmp_path / "out")
        try:
            deadline = time.monotonic() + 120
            for name in order:  # each read before the next is ready: read in this order
                render.ready(f"{name}.ipynb")
                while not (stage / "_build" / ".doctrees" / "book" / f"{name}.doctree").exists():
                    assert render.proc.poll() is None and time.monotonic() < deadline
                    time.sleep(0.05)
            render.run()
        finally:
            render.stop()
        html = stage / "_build" / "html"
        sites.append({p.relative_to(html): p.read_bytes() for p in html.rglob("*")
                      if p.is_file() and p.suffix in (".html", ".js") and "_static" not in p.parts})
    assert sites[0].keys() == sites[1].keys() and len(sites[0]) > 5
    assert [k for k in sites[0] if sites[0][k] != sites[1][k]] == []


def test_runner_waits_for_the_go_file(tmp_path):
    go = tmp_path / ".safety.go"
    threading.Timer(0.3, go.touch).start()
    t0 = time.monotonic()
    runner._wait_for(str(go))
    assert time.monotonic() - t0 >= 0.25
    t0 = time.monotonic()
    runner._wait_for(str(go))  # already there: at once
    assert time.monotonic() - t0 < 0.2


@pytest.mark.parametrize("warm", [True, False], ids=["forked", "new-process"])
def test_scorecard_started_in_advance_runs_or_is_stopped(tmp_path, warm):
    """The scorecard's runner starts while the chapters run; reused next time, the early one is stopped."""
    psutil = pytest.importorskip("psutil")
    book = tiny_book(tmp_path / "book", chapters={
        "safety": ("data_dir = None\noutput_dir = None\nalpha = 0.05", _WRITE.format("safety")),
        "immune": ("data_dir = None\noutput_dir = None\nx = 1", _WRITE.format("immune")),
        "scorecard": ("output_dir = None\nresults_dir = None", _WRITE.format("scorecard")),
    })
    out = tmp_path / "out"
    lines: list[str] = []
    # processes this test run had already (e.g. the browser tests' playwright driver and chromium) are not ours
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    first = build(book_dir=book, out=out, jobs=2, warm_kernels=warm, report=lines.append)
    assert first.executed == ["safety", "immune", "scorecard"]
    assert (out / "executed" / "scorecard.ipynb").exists()
    assert (out / "results" / "scorecard" / "value.csv").exists()
    # the scorecard starts after both chapters are done
    order = [ln.split("] ", 1)[1] for ln in lines if ln.startswith("[")]
    assert order.index("scorecard: started") > max(i for i, ln in enumerate(order) if ln.startswith("immune: done"))
    # a chapter's parameter changes, the claims the scorecard reads do not: the scorecard is reused and the
    # runner started for it in advance is stopped
    second = build(book_dir=book, out=out, jobs=2, warm_kernels=warm, params=["x=2"])
    assert second.executed == ["immune"] and "scorecard" in second.reused
    alive = [p for p in psutil.Process().children(recursive=True) if p.pid not in before and p.is_running()
             and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [p.cmdline() for p in alive]


def test_next_chapter_started_in_advance_runs_only_when_a_slot_frees(tmp_path):
    """With one slot, the next chapter's runner and kernel start early, but its cells wait for the slot."""
    psutil = pytest.importorskip("psutil")
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    code = ("import time\nfrom pathlib import Path\n"
            f"Path(r'{stamps}', '{{0}}.start').write_text(repr(time.time()))\ntime.sleep(0.5)\n"
            f"Path(r'{stamps}', '{{0}}.end').write_text(repr(time.time()))\n" + _WRITE)
    book = tiny_book(tmp_path / "book", chapters={
        name: ("data_dir = None\noutput_dir = None", code.format(name)) for name in ("safety", "immune", "ifng")})
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    told: dict[str, bool] = {}
    go = build_mod._go

    def spy(stage, run):  # when told to go, a chapter started in advance has run no cell yet
        told[run.chapter.name] = (stamps / f"{run.chapter.name}.start").exists()
        return go(stage, run)

    build_mod._go = spy
    try:
        lines: list[str] = []
        result = build(book_dir=book, out=tmp_path / "out", jobs=1, report=lines.append)
    finally:
        build_mod._go = go
    assert result.executed == ["safety", "immune", "ifng"]  # reported in reading order
    started = [ln.split("] ", 1)[1].split(":")[0] for ln in lines if ln.endswith(": started")]
    costs = {c.name: c.cost for c in CHAPTERS}
    assert started == sorted(["safety", "immune", "ifng"], key=lambda n: -costs[n])  # run longest first
    # the two chapters after the first (in the build's order, longest first) were started in advance, and
    # neither ran a cell before its turn
    assert len(told) == 2 and not any(told.values()), told
    t = {f.name: float(f.read_text()) for f in stamps.iterdir()}
    spans = sorted((t[f"{n}.start"], t[f"{n}.end"]) for n in ("safety", "immune", "ifng"))
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))  # one at a time
    alive = [p for p in psutil.Process().children(recursive=True) if p.pid not in before and p.is_running()
             and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [p.cmdline() for p in alive]


def test_no_change_rebuild_neither_validates_nor_starts_processes(tmp_path):
    """Up to date is known from the hashes (data files, code, notebooks, parameters); changed data is validated."""
    from analysis.core import paths
    from analysis.core.errors import DataError

    data = tmp_path / "data"
    shutil.copytree(paths.default_data_dir(), data)
    book = tiny_book(tmp_path / "book", chapters={
        "safety": ("data_dir = None\noutput_dir = None\nalpha = 0.05", _WRITE.format("safety"))})
    out = tmp_path / "out"
    build(book_dir=book, out=out, data_dir=data, jobs=1)
    lines: list[str] = []
    again = build(book_dir=book, out=out, data_dir=data, jobs=1, report=lines.append)
    assert again.up_to_date and not again.executed
    assert not any(ln.startswith("validating") for ln in lines), lines
    # the same files with a broken row: validated (and refused), the site left as it was
    visits = data / "visits.csv"
    visits.write_text(visits.read_text("utf-8") + "P999,not-a-week\n", "utf-8")
    with pytest.raises(DataError):
        build(book_dir=book, out=out, data_dir=data, jobs=1)
    assert (out / "html" / "index.html").exists()


def test_runner_retries_once_with_its_own_kernel_when_a_forked_kernel_never_starts(monkeypatch, tmp_path):
    import papermill as pm

    from analysis.engine import runner
    from analysis.engine import forkclient

    calls = []

    def fake(src, dst, **kw):
        calls.append("kernel_manager_class" in kw)
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(pm, "execute_notebook", fake)
    monkeypatch.setenv(forkclient.SOCKET_ENV, "@unused")
    assert runner.main(["in.ipynb", str(tmp_path / "out.ipynb"), "{}", str(tmp_path)]) == 0
    assert calls == [True, False]  # forked kernel first, then a kernel of its own
    calls.clear()

    def always(src, dst, **kw):
        calls.append(1)
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(pm, "execute_notebook", always)
    assert runner.main(["in.ipynb", str(tmp_path / "out.ipynb"), "{}", str(tmp_path)]) == 3
    assert calls == [1, 1]  # retried once, not more


#: a tiny chapter that writes, as its notebook's claims, the safety chapter's headless claims (``tweak``: with one
#: verdict changed, so they differ from what the build computes headlessly), after ``delay`` seconds
_CLAIMS = ("import time\nfrom pathlib import Path\nfrom analysis.chapters.safety import verdicts\nfrom analysis.intake.io import load\n"
           "table = verdicts.evaluate(load(data_dir))\n"
           "if {tweak}:\n    table.loc[0, 'verdict'] = 'inconclusive' if table.loc[0, 'verdict'] != 'inconclusive' "
           "else 'reproduced'\n"
           "time.sleep({delay})\n"
           "results = Path(output_dir) / 'results' / 'safety'\nresults.mkdir(parents=True, exist_ok=True)\n"
           "table.to_csv(results / 'claims.csv', index=False, encoding='utf-8')\n")
#: a tiny scorecard that keeps the claims it read (``results/claims.csv``) as its result, after ``delay`` seconds
_SCORECARD = ("import shutil, time\nfrom pathlib import Path\ntime.sleep({delay})\n"
              "results = Path(output_dir) / 'results' / 'scorecard'\nresults.mkdir(parents=True, exist_ok=True)\n"
              "shutil.copy(Path(results_dir) / 'claims.csv', results / 'read.csv')\n")


@pytest.mark.parametrize("tweak,scorecard_delay", [(False, 0), (True, 0), (True, 4)],
                         ids=["headless-claims-stand", "differ-scorecard-done", "differ-scorecard-running"])
def test_scorecard_started_early_on_headless_claims_stands_only_if_the_notebook_agrees(tmp_path, tweak,
                                                                                    scorecard_delay):
    """The scorecard may start before the last chapter ends, on that chapter's claims computed headlessly
    (``evaluate``). It stands only if the notebook then gives the same claims; otherwise it runs again. Either
    way it reads the notebooks' claims in the end, and nothing is left running."""
    import pandas as pd
    psutil = pytest.importorskip("psutil")
    from analysis.scorecard.summary import collect

    book = tiny_book(tmp_path / "book", chapters={
        "safety": ("data_dir = None\noutput_dir = None\nalpha = 0.05", _CLAIMS.format(tweak=tweak, delay=3)),
        "immune": ("data_dir = None\noutput_dir = None", _WRITE.format("immune")),
        "scorecard": ("output_dir = None\nresults_dir = None", _SCORECARD.format(delay=scorecard_delay)),
    })
    out = tmp_path / "out"
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    lines: list[str] = []
    result = build(book_dir=book, out=out, jobs=2, report=lines.append)
    assert result.executed == ["safety", "immune", "scorecard"]
    text = "\n".join(lines)
    assert "scorecard: started early, on the claims of safety computed without the notebook" in text, text
    if tweak:
        assert "scorecard: started again (the notebooks' claims differ" in text, text
    else:
        assert "scorecard: its early start stands" in text, text
    # what the scorecard read is what the notebooks wrote, and what the book offers for download
    notebooks = collect(out / "results")
    read = pd.read_csv(out / "results" / "scorecard" / "read.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(read, notebooks)
    assert (out / "html" / "downloads" / "claims.csv").read_bytes() == (out / "results" / "claims.csv").read_bytes()
    alive = [p for p in psutil.Process().children(recursive=True) if p.pid not in before and p.is_running()
             and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [p.cmdline() for p in alive]
