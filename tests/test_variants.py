"""The variant battery (issue 18): any data folder that passes ``validate`` builds the whole book.

tests/variants.py writes >= 25 valid variants of the shipped cohort (partial, blank and constant measures,
censored assays, few / no / all responders, small cohorts, drop-outs, cells missing at random, other schedules
with and without a week-48 visit, response at week 24, IFN-γ unrelated to response, the infusion without
effect). Each is built once per session with the real build (``build(..., jobs=2)``, solutions included); the
builds run ``VARIANT_WORKERS`` at a time (default 2). Every chapter page must exist, no cell may fail, every
claim gets one of the five verdicts, and every section whose columns these data lack says so on its page
("Not available with these data") and in the build log.

Time (measured 2026-11-29 on the shared 2-core machine): 39 variants, 118 tests in 22 min with 2 workers
(≈ 35-70 s per build under load, ≈ 30 s on a quiet machine). `make test` builds the 14 of ``CORE`` (one of each
kind); ``MSCT_VARIANTS=all`` or ``make test-variants`` builds all 39. Select a few with ``-k``, e.g.
``pytest tests/test_variants.py -m slow -k "tiny or schedule_stops"``.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from analysis.core.chapters import CHAPTERS
from analysis.engine.build import build
from analysis.claims.registry import VERDICTS
from analysis.science.derive import derive
from analysis.intake.io import load
from analysis.science.sections import NOT_AVAILABLE, SECTIONS, missing
from analysis.intake.validate import validate_folder
import variants

#: the variants `make test` (and CI) builds: one of each kind the issue names, about 7 minutes on 2 cores.
#: ``MSCT_VARIANTS=all`` (``make test-variants``) builds all of them (39, about 20 minutes on 2 cores).
CORE = ["blank_cytokines", "das28_only", "constant_labs", "ifng_all_below_lloq", "no_responders", "tiny_cohort",
        "missing_at_random_15pct", "schedule_stops_at_24", "response_at_week_24", "simulated_ifng_unrelated",
        "renamed_columns", "crp_in_mg_dl", "spss_files", "other_trial_example"]
NAMES = list(variants.VARIANTS) if os.environ.get("MSCT_VARIANTS") == "all" else CORE
pytestmark = pytest.mark.slow


def _supported(name: str) -> bool:
    return variants.supported(variants.VARIANTS[name][1])


@pytest.fixture(scope="session")
def variant_folders(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("variants")
    return {name: variants.make(name, base / name) for name in NAMES if _supported(name)}


@pytest.fixture(scope="session")
def variant_builds(variant_folders, tmp_path_factory, request) -> dict[str, tuple[Path, object, list[str]]]:
    """Build the book on the selected variants: ``{name: (out, BuildResult or exception, progress lines)}``."""
    selected = {item.callspec.params.get("name") for item in request.session.items
                if getattr(item, "callspec", None) is not None and "name" in item.callspec.params}
    todo = [n for n in variant_folders if n in selected]
    base = tmp_path_factory.mktemp("variant-builds")

    def one(name):
        lines: list[str] = []
        out = base / name
        try:
            result = build(data_dir=variant_folders[name], out=out, force=True, jobs=2, report=lines.append)
        except Exception as err:  # reported by the test of that variant
            result = err
        return name, (out, result, lines)

    workers = max(1, int(os.environ.get("VARIANT_WORKERS", "2")))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(one, todo))


def _skip_unsupported(name):
    if not _supported(name):
        pytest.skip(f"{name} needs the data layer's feature {variants.VARIANTS[name][1]!r} (helper 'data')")


@pytest.mark.parametrize("name", NAMES)
def test_variant_is_valid(name, variant_folders):
    _skip_unsupported(name)
    problems = [p for p in validate_folder(variant_folders[name]) if p.severity == "error"]
    assert not problems, problems[:3]


@pytest.mark.parametrize("name", NAMES)
def test_variant_builds_every_chapter(name, variant_builds):
    _skip_unsupported(name)
    out, result, lines = variant_builds[name]
    assert not isinstance(result, Exception), f"{name}: {result}\n" + "\n".join(lines[-15:])
    assert (out / "html" / "index.html").exists()
    for c in CHAPTERS:
        page = out / "html" / "book" / f"{Path(c.notebook).stem}.html"
        assert page.exists(), page
        assert "Traceback" not in page.read_text("utf-8"), (name, page.name)
    claims = pd.read_csv(out / "results" / "claims.csv")
    assert claims["claim_id"].is_unique
    assert set(claims["verdict"]) <= set(VERDICTS), set(claims["verdict"]) - set(VERDICTS)


@pytest.mark.parametrize("name", NAMES)
def test_missing_sections_are_noted_on_the_page_and_in_the_log(name, variant_folders, variant_builds):
    _skip_unsupported(name)
    out, result, lines = variant_builds[name]
    assert not isinstance(result, Exception), result
    derived = derive(load(variant_folders[name]))
    for sid, section in SECTIONS.items():
        gone = missing(sid, derived)
        if not gone:
            continue
        page = (out / "html" / "book" / f"{section.chapter}.html").read_text("utf-8")
        assert NOT_AVAILABLE in page, (name, sid)
        assert all(col in page for col in gone), (name, sid, gone)
        assert any(section.chapter in line and "not available" in line and section.title in line for line in lines), \
            (name, sid, [ln for ln in lines if "not available" in ln])


#: variants that hold exactly the shipped cohort, only written differently (names, labels, file formats)
SAME_COHORT = ["renamed_columns", "other_arm_labels", "spss_files", "stata_files"]


@pytest.mark.parametrize("name", SAME_COHORT[:1])
def test_the_same_cohort_written_differently_gets_the_same_verdicts(name, variant_builds):
    built = [n for n in SAME_COHORT if n in variant_builds and not isinstance(variant_builds[n][1], Exception)]
    if len(built) < 2:
        pytest.skip("needs at least two of the same-cohort variants built (select them with -k)")
    verdicts = {n: pd.read_csv(variant_builds[n][0] / "results" / "claims.csv").set_index("claim_id")["verdict"]
                for n in built}
    first = verdicts[built[0]]
    for n in built[1:]:
        pd.testing.assert_series_equal(verdicts[n], first, check_names=False)
