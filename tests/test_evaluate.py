"""Headless evaluation (analysis/scorecard/evaluate.py and each chapter's ``verdicts.evaluate``) gives the notebooks' claims."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from analysis.scorecard import evaluate as ev
from analysis.core.chapters import CHAPTERS
from analysis.core.notebooks import chapter_defaults, chapter_params
from analysis.scorecard.summary import collect
from analysis.claims.registry import load_published
from analysis.intake.io import load
from analysis.science.simulate import cohort_meta, generate, simulate

import variants

ROOT = Path(__file__).resolve().parents[1]
KEY = ["claim_id", "reproduced", "verdict"]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a = a[KEY].sort_values("claim_id").reset_index(drop=True).astype(str)
    b = b[KEY].sort_values("claim_id").reset_index(drop=True).astype(str)
    pd.testing.assert_frame_equal(a, b)


def _run_notebooks(data_dir: Path, out: Path, extra: dict | None = None) -> pd.DataFrame:
    """Execute every claim chapter's notebook (papermill, as the build does) and collect its claims.

    ``extra``: parameters (as ``-p KEY=VALUE``), each given to the chapters that declare it.
    """
    chapters = [c for c in CHAPTERS if c.name in ev.CHAPTER_MODULES]
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")

    def one(c):
        params = {k: v for k, v in (extra or {}).items() if k in chapter_defaults(c.name)}
        params["output_dir"] = str(out)
        if c.uses_data:
            params["data_dir"] = str(data_dir)
        args = [sys.executable, "-m", "analysis.engine.runner", str(ROOT / "book" / c.notebook),
                str(out / f"{c.name}.ipynb"), json.dumps(params), str(ROOT)]
        proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"{c.name}: {proc.stderr[-2000:]}"

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(one, chapters))
    return collect(out)


def test_every_claim_once_in_registry_order():
    # n = 105: smaller cohorts send SciPy's Wilcoxon test with ties to its (slow) exact permutation path
    cohort = ev.cohort_from_tables(simulate(seed=11), cohort_meta(seed=11))
    claims = ev.evaluate_all(cohort, {"n_boot": 50})
    registry = load_published()
    assert claims["claim_id"].tolist() == registry["claim_id"].tolist()


def test_in_memory_cohort_equals_loaded_folder(tmp_path):
    """cohort_from_tables gives what io.load gives for the written folder: same claims."""
    generate(tmp_path / "c", seed=5)
    loaded = load(tmp_path / "c")
    mem = ev.cohort_from_tables(simulate(seed=5), cohort_meta(seed=5))
    _same(ev.evaluate_all(loaded, {"n_boot": 50}), ev.evaluate_all(mem, {"n_boot": 50}))
    for table in ("patients", "visits", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(loaded, table), getattr(mem, table))


def test_params_override_defaults_and_are_checked():
    assert chapter_params("ifng", {"ifng_threshold_pg_ml": 3})["ifng_threshold_pg_ml"] == 3.0
    assert "data_dir" not in chapter_defaults("safety")
    with pytest.raises(TypeError, match="alpha"):
        chapter_params("safety", {"alpha": "high"})
    with pytest.raises(ValueError, match="`chapter`"):
        chapter_defaults("nope")


def test_params_change_the_verdicts_the_notebook_rule_says():
    """alpha enters the rules: 'p < alpha' rules and the equivalence intervals (1 − 2 alpha) turn with it (hand-checkable consequences)."""
    cohort = ev.cohort_from_tables(simulate(seed=2018))
    t = ev.evaluate_all(cohort, {"alpha": 0.05}, chapters=["immune"]).set_index("claim_id")
    strict = ev.evaluate_all(cohort, {"alpha": 1e-12}, chapters=["immune"]).set_index("claim_id")
    assert (strict["rule"].str.contains("1e-12")).any()
    assert t.loc["immune.rf_not_significant", "verdict"] in ("reproduced", "not reproduced", "inconclusive")
    # equivalence needs the 1 - 2 alpha interval inside the margin: at alpha = 1e-12 that interval is all but
    # infinite, so no finite sample can show "no change"
    assert strict.loc["immune.rf_not_significant", "verdict"] == "inconclusive"


@pytest.mark.slow
def test_evaluate_equals_built_book(built_book):
    """The default cohort: the book's claims (built notebooks) and evaluate_all agree claim by claim."""
    book = pd.read_csv(built_book / "results" / "claims.csv", dtype=str, keep_default_na=False)
    headless = ev.evaluate_all(load(ROOT / "data" / "synthetic"))
    _same(book, headless)


@pytest.mark.slow
@pytest.mark.parametrize("seed,n", [(7, 105), (3, 40)])
def test_evaluate_equals_notebooks_on_variant_folders(tmp_path, seed, n):
    data = tmp_path / "data"
    generate(data, seed=seed, n_patients=n)
    book = _run_notebooks(data, tmp_path / "out")
    headless = ev.evaluate_all(load(data))
    _same(book, headless)


@pytest.mark.slow
@pytest.mark.parametrize("name,params", [
    ("simulated_other_trial", {}),  # visits 0, 2, 4, 8, 12, 24 from dataset.yaml; response 12, final 24
    ("blank_cytokines", {}),  # the cytokine sections (and IFN-γ) not available
    ("crp_without_esr", {}),  # DAS28-CRP chosen by sections.das28_variant
    ("schedule_0_4_12_24_48", {"response_week": 24, "final_week": 48, "after_week": 12, "evaluation_week": 4}),
])
def test_evaluate_equals_notebooks_on_design_variants(tmp_path, name, params):
    """Weeks from the data's design (or the parameters' overrides) and skipped sections: the same claims."""
    make, needs = variants.VARIANTS[name]
    if not variants.supported(needs):
        pytest.skip(f"the data layer lacks {needs}")
    data = variants.make(name, tmp_path / "data")
    book = _run_notebooks(data, tmp_path / "out", params)
    headless = ev.evaluate_all(load(data), params)
    _same(book, headless)
