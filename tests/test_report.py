"""The page helper writes what it shows, and provenance hashes are stable."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.core.provenance import hash_files, provenance
from analysis.engine.report import Page, _fmt_cell, plain


def test_table_writes_the_full_csv_and_returns_nothing(tmp_path, monkeypatch):
    import IPython.display

    shown_objects = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown_objects.append(obj))
    page = Page("demo", output_dir=tmp_path, params={"alpha": 0.05})
    df = pd.DataFrame({"a": range(50), "b": np.linspace(0, 1, 50)})
    assert page.table(df, "t", "A table", max_rows=10) is None
    back = pd.read_csv(tmp_path / "results" / "demo" / "t.csv")
    assert len(back) == 50 and np.allclose(back["b"], df["b"])
    shown = "".join(obj.data for obj in shown_objects)
    assert "Table 1." in shown and "first 10 of 50 rows" in shown


def test_figure_is_saved_as_png(tmp_path):
    page = Page("demo", output_dir=tmp_path)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    assert page.figure(fig, "line") is None
    png = tmp_path / "results" / "demo" / "figures" / "line.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_glue_returns_nothing_so_cells_show_no_stray_output(tmp_path):
    page = Page("demo", output_dir=tmp_path)
    assert page.glue("x", np.float64(2.5)) is None


def test_plain_and_cell_formatting():
    assert plain(np.int64(3)) == 3 and isinstance(plain(np.int64(3)), int)
    assert plain(pd.NA) is None
    assert _fmt_cell(0.12345, 3) == "0.123"
    assert _fmt_cell(2.5, 3) == "2.5"          # trailing zeros dropped
    assert _fmt_cell(0.0001, 3, "p") == "< 0.001"   # tiny p-values shown as a bound
    assert _fmt_cell(-0.0004, 3) == "-0.0004"       # other tiny values keep their sign and digits
    assert _fmt_cell(float("nan"), 3) == "–"
    assert _fmt_cell("text", 3) == "text"


def test_input_hash_is_order_independent_and_content_sensitive(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("x\n1\n")
    b.write_text("y\n2\n")
    assert hash_files([a, b]) == hash_files([b, a])
    before = hash_files([a, b])
    b.write_text("y\n3\n")
    assert hash_files([a, b]) != before


def test_provenance_names_folder_synthetic_flag_and_parameters(tmp_path):
    p = provenance(data_dir=tmp_path / "cohort", files=[], synthetic=False, params={"alpha": 0.01})
    assert p["data folder"] == "cohort"
    assert p["synthetic"].startswith("no")
    assert p["parameters"] == "alpha = 0.01"


# ------------------------------------------------------------------------------------------------ table display
def _headers(body: str) -> list[str]:
    import re

    head = body.split("</thead>")[0]
    return [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<th[^>]*>(.*?)</th>", head)]


def test_claims_table_shows_claim_published_reproduced_verdict_first_and_the_rest_on_demand():
    from analysis.engine.report import table_html

    claims = pd.DataFrame({
        "chapter": ["safety"] * 3, "claim_id": ["a", "b", "c"], "claim": ["x rose", "y fell", "z holds"],
        "location": ["Table 1"] * 3, "published": ["*", "*", "n = 3"], "reproduced": ["p = 0.01", "p = 0.2", "3"],
        "verdict": ["reproduced", "inconclusive", "holds by construction"], "rule": ["p < alpha"] * 3,
        "basis": ["empirical", "empirical", "by construction"], "basis_reason": ["tested", "tested", "simulated so"],
        "a_future_column": [1, 2, 3]})
    body, wide = table_html(claims)
    assert _headers(body) == ["claim", "published", "reproduced", "verdict", "more"]
    for hidden in ("p &lt; alpha", "by construction", "simulated so", "Table 1", "a future column"):
        assert hidden in body.split("<tbody>")[1], f"{hidden!r} is not in the row details"
    assert "msct-verdict--holds-by-construction" in body and "msct-verdict--inconclusive" in body
    assert wide


def test_table_display_merges_intervals_and_pairs_and_folds_long_text():
    from analysis.engine.report import table_html

    df = pd.DataFrame({"measure": ["ALB"], "n_published": [28], "n_reproduced": [27], "hedges_g": [0.4567],
                       "g_ci_low": [0.1], "g_ci_high": [0.81234], "p": [0.00002], "note": ["n" * 60]})
    body, _ = table_html(df)
    assert _headers(body) == ["measure", "n (paper / here)", "hedges g [CI]", "p", "more"]
    assert "0.457 [0.1, 0.812]" in body and "28<br>27" in body and "&lt; 0.001" in body
    assert "n" * 60 in body.split("<details>")[1]


def test_table_display_keeps_at_most_max_columns_side_by_side():
    from analysis.engine.report import table_html

    df = pd.DataFrame({f"c{i}": [float(i)] for i in range(20)} | {"p": [0.5], "test": ["t"], "dof": [3.0]})
    body, wide = table_html(df, max_columns=6)
    shown = _headers(body)
    assert len(shown) == 7 and shown[-1] == "more" and "p" in shown  # key results stay, qualifiers fold first
    assert wide
