"""What a chapter page shows, in one object: provenance, parameters, tables, figures, glued numbers, claims.

A notebook creates one :class:`Page` right after its parameters cell and then only calls it::

    page = Page("safety", data_dir=data_dir, output_dir=output_dir, params={"alpha": alpha})
    cohort = page.load()
    page.header()                      # synthetic-data banner, provenance and parameters boxes
    page.table(df, "baseline", "Baseline characteristics by arm")   # shown and written to results/safety/baseline.csv
    page.figure(fig, "flow")           # glued for a numbered {glue:figure} and written to results/safety/figures/flow.png
    page.glue("n_responders", 28)      # plain Python values only (see NOTES on numpy 2)
    page.finish()                      # claims table shown and written to results/safety/claims.csv

Nothing here computes a result: the page only shows and saves what the chapter computed.
"""
from __future__ import annotations

import html
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import paths
from .provenance import provenance

__all__ = ["Page", "plain"]

# glue (myst_nb) imports nbformat -> jsonschema, which imports the optional IRI checker rfc3987_syntax and
# compiles ~40 grammars: about 1 s per chapter kernel, for a check no notebook needs. Mark it absent.
sys.modules.setdefault("rfc3987_syntax", None)


def plain(value: Any) -> Any:
    """Turn numpy / pandas scalars into plain Python values (safe for glue and CSV).

    Examples
    --------
    >>> plain(np.float64(2.5)), plain(np.int64(3)), plain(pd.NA)
    (2.5, 3, None)
    """
    if value is pd.NA or value is None:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


class Page:
    """One chapter page: where its results go and how its outputs are shown.

    Parameters
    ----------
    chapter : str
        Chapter name; results go to ``output_dir/results/<chapter>/``.
    data_dir, output_dir : path or None
        ``None`` means the shipped synthetic cohort and the scratch folder (for notebooks opened by hand).
    params : dict
        The notebook's parameters, shown in the parameters box.
    published_dir : path or None
        Folder with the paper's values (default ``data/published``).

    Examples
    --------
    >>> import tempfile
    >>> page = Page("demo", output_dir=tempfile.mkdtemp(), params={"alpha": 0.05})
    >>> page.results_dir.name
    'demo'
    """

    def __init__(self, chapter: str, *, data_dir=None, output_dir=None, params: dict | None = None,
                 published_dir=None):
        self.chapter = chapter
        self.data_dir = paths.resolve_dir(data_dir, paths.default_data_dir())
        self.output_dir = paths.resolve_dir(output_dir, paths.scratch_dir())
        self.published_dir = paths.resolve_dir(published_dir, paths.published_dir())
        self.params = dict(params or {})
        self.alpha = float(self.params.get("alpha", 0.05))
        self.results_dir = self.output_dir / "results" / chapter
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self._cohort = None
        self._claims = None
        self._n_tables = 0

    # ---------------------------------------------------------------- data
    def load(self):
        """Read and validate the data folder (:func:`analysis.io.load`); the cohort is kept for the header.

        In a build, the build has validated the folder already and left the result in ``output_dir``
        (:func:`analysis.io.keep_validated`); that copy is used when it was made from exactly these files.
        """
        from .io import load, load_validated

        self._cohort = load_validated(self.data_dir, self.output_dir) or load(self.data_dir)
        return self._cohort

    @property
    def claims(self):
        """This chapter's :class:`analysis.claims.ClaimLog` (created on first use)."""
        if self._claims is None:
            from .claims import ClaimLog, load_published

            self._claims = ClaimLog(self.chapter, load_published(self.published_dir), alpha=self.alpha)
        return self._claims

    # ---------------------------------------------------------------- display
    def header(self, *, uses_data: bool = True):
        """Show the synthetic-data banner, the provenance box and the parameters box."""
        from IPython.display import HTML, display

        if uses_data:
            cohort = self._cohort
            synthetic = bool(cohort is not None and cohort.synthetic)
            files = list(cohort.files.values()) if cohort is not None else []
            prov = provenance(data_dir=self.data_dir, files=files, synthetic=synthetic, params=self.params)
        else:
            synthetic = False
            prov = provenance(data_dir=self.published_dir, files=sorted(self.published_dir.rglob("*.csv")),
                              synthetic=False, params=self.params)
            prov["synthetic"] = "no patient data used (published summary values only)"
        banner = ""
        if uses_data and synthetic:
            banner = ("<div class='msct-synthetic admonition warning'><p class='admonition-title'>Synthetic data</p>"
                      "<p>Every number on this page was computed from a <b>synthetic cohort</b> simulated by this "
                      "project and calibrated to the published summaries. It reproduces the <i>analysis</i>, "
                      "not the patients: a result here says nothing about real patients.</p></div>")
        elif uses_data:
            banner = ("<div class='msct-userdata admonition note'><p class='admonition-title'>Your data</p>"
                      f"<p>Computed from the data folder <code>{html.escape(self.data_dir.name)}</code>, "
                      "which is not marked synthetic.</p></div>")
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in prov.items())
        box = ("<details class='msct-provenance' open><summary>Provenance and parameters used for this run</summary>"
               f"<table class='msct-kv'>{rows}</table></details>")
        display(HTML(banner + box))

    def table(self, df: pd.DataFrame, name: str, caption: str, *, index: bool = False, show: bool = True,
              max_rows: int = 40, decimals: int = 3) -> None:
        """Write ``df`` to ``results/<chapter>/<name>.csv`` and show it with a numbered caption.

        Large tables are shown truncated, with a pointer to the full CSV. Returns nothing (so a notebook
        cell ending with this call prints no path).
        """

        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"`df` must be a pandas DataFrame, got {type(df).__name__}")
        path = self.results_dir / f"{name}.csv"
        df.to_csv(path, index=index, lineterminator="\n", float_format="%.10g")
        if show:
            self._show(df, caption, name, index=index, max_rows=max_rows, decimals=decimals)

    def _show(self, df, caption, name, *, index, max_rows, decimals):
        """Display ``df`` as an HTML table with a numbered caption (no file written)."""
        from IPython.display import HTML, display

        self._n_tables += 1
        shown = df.head(max_rows)
        shown = shown.map(lambda v: _fmt_cell(v, decimals))
        body = shown.to_html(index=index, border=0, classes="msct-table", na_rep="–", escape=True)
        note = ""
        if len(df) > max_rows:
            note = (f"<p class='msct-note'>Showing the first {max_rows} of {len(df)} rows; the full table is "
                    f"<code>results/{self.chapter}/{name}.csv</code>.</p>")
        cap = (f"<p class='msct-caption'><b>Table {self._n_tables}.</b> {html.escape(caption)} "
               f"<span class='msct-csv'>(<code>results/{self.chapter}/{name}.csv</code>)</span></p>")
        display(HTML(f"<div class='msct-table-wrap'>{cap}{body}{note}</div>"))

    def figure(self, fig, name: str) -> None:
        """Save ``fig`` to ``results/<chapter>/figures/<name>.png`` and glue that PNG under ``name``.

        Show it in Markdown with a numbered, captioned ``{glue:figure}`` directive. The PNG itself is glued
        (not the Figure object), so the page shows the image whatever matplotlib backend ran the notebook.
        """
        import matplotlib.pyplot as plt
        from IPython.display import Image

        fig_dir = self.results_dir / "figures"
        fig_dir.mkdir(exist_ok=True)
        path = fig_dir / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
        plt.close(fig)
        self.glue(name, Image(filename=str(path)))

    def glue(self, key: str, value: Any) -> None:
        """Glue a value for ``{glue:text}`` / ``{glue:figure}`` (numpy scalars become plain Python).

        Returns nothing, so a cell ending with a glue call shows no stray output.
        """
        from myst_nb import glue

        value = plain(value)
        if isinstance(value, float) and not math.isfinite(value):  # glue cannot format nan/inf
            value = "n/a"
        glue(key, value, display=False)

    def note(self, text: str, kind: str = "note"):
        """Show a short computed note (e.g. 'no responders in these data: this section is skipped')."""
        from IPython.display import HTML, display

        display(HTML(f"<div class='admonition {kind}'><p>{html.escape(text)}</p></div>"))

    def finish(self, *, show: bool = True) -> pd.DataFrame:
        """Write this chapter's claims (every registry claim exactly once) and show them."""
        path = self.claims.write(self.output_dir)
        full = pd.read_csv(path, keep_default_na=False)
        if show:
            cols = ["claim_id", "claim", "location", "published", "reproduced", "verdict", "basis", "rule"]
            self._show(full[[c for c in cols if c in full.columns]],
                       "Claims of the paper covered by this chapter, with their verdicts on these data",
                       "claims", index=False, max_rows=200, decimals=3)
        return full


def _fmt_cell(v: Any, decimals: int) -> Any:
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return "–"
        if v != 0 and abs(v) < 10 ** (-decimals):
            return f"{v:.{decimals}g}" if abs(v) >= 1e-3 else "< 0.001"
        return f"{v:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{v:.0f}"
    return v
