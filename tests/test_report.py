"""The page helper writes what it shows, and provenance hashes are stable."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.provenance import hash_files, provenance
from analysis.report import Page, _fmt_cell, plain


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
