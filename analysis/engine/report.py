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
import json
import re
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.claims.characteristics import DESIGN_COLUMN
from analysis.core import paths
from analysis.core.provenance import provenance

__all__ = ["Page", "placeholder_panels", "plain", "provenance_rows"]

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
        self.resolved: dict[str, tuple[Any, str]] = {}
        self._cohort = None
        self._claims = None
        self._n_tables = 0
        _register_dataframe_display()

    # ---------------------------------------------------------------- data
    def load(self):
        """Read and validate the data folder (:func:`analysis.intake.io.load`); the cohort is kept for the header.

        In a build, the build has validated the folder already and left the result in ``output_dir``
        (:func:`analysis.intake.io.keep_validated`); that copy is used when it was made from exactly these files.
        """
        from analysis.intake.io import load, load_validated

        self._cohort = load_validated(self.data_dir, self.output_dir) or load(self.data_dir)
        return self._cohort

    @property
    def claims(self):
        """This chapter's :class:`analysis.claims.log.ClaimLog` (created on first use)."""
        if self._claims is None:
            from analysis.claims.log import ClaimLog
            from analysis.claims.registry import load_published

            self._claims = ClaimLog(self.chapter, load_published(self.published_dir), alpha=self.alpha)
        return self._claims

    def resolve(self, key: str, value: Any, reason: str = "") -> None:
        """Record the value a parameter took on these data (and why), for the parameters box.

        A parameter may resolve to another value than the one asked for (``das28_variant = 'esr'`` on data
        without ESR uses DAS28-CRP); the box then shows both, with the reason.

        Examples
        --------
        >>> import tempfile
        >>> page = Page("demo", output_dir=tempfile.mkdtemp(), params={"das28_variant": "esr"})
        >>> page.resolve("das28_variant", "crp", "ESR not recorded")
        >>> page.parameters_text()
        "das28_variant = 'esr' → 'crp' (ESR not recorded)"
        """
        self.resolved[key] = (value, reason)

    def parameters_text(self) -> str:
        """The parameters as the provenance box shows them: ``key = value``, and what a value resolved to."""
        parts = []
        for k, v in self.params.items():
            text = f"{k} = {v!r}"
            if k in self.resolved and self.resolved[k][0] != v:
                used, why = self.resolved[k]
                text += f" → {used!r}" + (f" ({why})" if why else "")
            parts.append(text)
        return ", ".join(parts)

    # ---------------------------------------------------------------- display
    def header(self, *, uses_data: bool = True, claims_from=None, reads: str | None = None):
        """Show the synthetic-data banner, the provenance box and the parameters box.

        A chapter that reads the data folder (``uses_data``) also writes what its numbers come from to
        ``results/<chapter>/provenance.json`` (folder name, hash of the input files: the first 12 characters of
        the folder's :func:`analysis.intake.io.fingerprint`, tables and ``dataset.yaml``; synthetic or not; no
        time, so results stay byte-identical across rebuilds). A page that summarises the chapters' claims
        passes their results folder as ``claims_from``: its box then names the data those claims were
        computed from, read from those files, instead of saying it used no patient data. A page that reads
        neither the data folder nor only the published values (the planning page reads simulated cohorts) says
        what it reads in ``reads``.
        """
        from IPython.display import HTML, display

        if claims_from is not None:
            prov, synthetic, folder = self._claims_provenance(claims_from)
            uses_data = folder is not None
        elif uses_data:
            cohort = self._cohort
            synthetic = bool(cohort is not None and cohort.synthetic)
            files = list(cohort.files.values()) if cohort is not None else []
            prov = provenance(data_dir=self.data_dir, files=files, synthetic=synthetic, params=self.params)
            if cohort is not None and cohort.fingerprint:  # the data folder's fingerprint (analysis.intake.io):
                # the same hash the scorecard and a robustness result's run.json name for these data
                prov["input hash"] = cohort.fingerprint[:12]
            folder = self.data_dir.name
            record = {k: prov[k] for k in ("data folder", "synthetic", "input hash")}
            (self.results_dir / "provenance.json").write_text(json.dumps(record, indent=1) + "\n", "utf-8")
        elif reads is not None:
            synthetic, folder = False, None
            prov = provenance(data_dir=self.data_dir, files=[], synthetic=False, params=self.params)
            prov = {"data folder": reads,
                    "synthetic": "no patient data used (cohorts simulated by this project)",
                    **{k: v for k, v in prov.items() if k not in ("data folder", "synthetic", "input hash")}}
        else:
            synthetic, folder = False, None
            prov = provenance(data_dir=self.published_dir, files=sorted(self.published_dir.rglob("*.csv")),
                              synthetic=False, params=self.params)
            prov = {"data folder": "none: this page checks the paper's published values (data/published)",
                    "synthetic": "no patient data used (published summary values only)",
                    "published values hash": prov["input hash"],
                    **{k: v for k, v in prov.items() if k not in ("data folder", "synthetic", "input hash")}}
        banner = ""
        if uses_data and synthetic:
            banner = ("<div class='msct-synthetic admonition warning'><p class='admonition-title'>Synthetic data</p>"
                      "<p>Every number on this page was computed from a <b>synthetic cohort</b> simulated by this "
                      "project and calibrated to the published summaries. It reproduces the <i>analysis</i>, "
                      "not the patients: a result here says nothing about real patients.</p></div>")
        elif uses_data:
            banner = ("<div class='msct-userdata admonition note'><p class='admonition-title'>Your data</p>"
                      f"<p>Computed from the data folder <code>{html.escape(folder)}</code>, "
                      "which is not marked synthetic.</p></div>")
        prov["parameters"] = self.parameters_text()
        rows = provenance_rows(prov)
        box = ("<details class='msct-provenance' open><summary>Provenance and parameters used for this run</summary>"
               f"<table class='msct-kv'>{rows}</table></details>")
        display(HTML(banner + box + self.downloads_html()))

    def _claims_provenance(self, results_dir) -> tuple[dict, bool, str | None]:
        """The provenance box of a page built on the chapters' results (``results/<chapter>/provenance.json``)."""
        from pathlib import Path

        records = {}
        for f in sorted(Path(results_dir).glob("*/provenance.json")):
            try:
                records[f.parent.name] = json.loads(f.read_text("utf-8"))
            except (OSError, ValueError):
                continue
        prov = provenance(data_dir=self.data_dir, files=[], synthetic=False, params=self.params)
        if not records:
            prov["data folder"] = "none yet (no chapter has run)"
            prov["synthetic"] = "–"
            return prov, False, None
        seen = sorted({(r.get("data folder", "?"), r.get("input hash", "?"), r.get("synthetic", "?"))
                       for r in records.values()})
        if len(seen) == 1:
            folder, digest, synthetic = seen[0]
            prov["data folder"] = folder
            prov["synthetic"] = synthetic
            prov["input hash"] = f"{digest} (the files every chapter's claims were computed from)"
        else:  # a build never mixes data (engine.plan.inputs_key); a hand-made results folder might
            folder = " and ".join(sorted({s[0] for s in seen}))
            synthetic = "mixed"
            prov["data folder"] = "; ".join(f"{name}: {r.get('data folder')} ({r.get('input hash')})"
                                            for name, r in records.items())
            prov["synthetic"] = "these chapters were computed from different data"
        return prov, synthetic == "yes", folder

    def downloads_html(self) -> str:
        """Links to this chapter's results as a zip (and, on the scorecard, to ``claims.csv``).

        The build writes those files next to the site (:func:`analysis.engine.build.write_downloads`); a notebook
        run by hand (output folder without ``executed/``) has no site, so no links.

        Examples
        --------
        >>> import tempfile
        >>> Page("demo", output_dir=tempfile.mkdtemp()).downloads_html()
        ''
        """
        if not (self.output_dir / "executed").is_dir():
            return ""
        links = [f"<a class='reference download' href='../downloads/{self.chapter}-results.zip' download>"
                 f"<code>{self.chapter}-results.zip</code></a> (this chapter's result tables as CSV and its "
                 "figures as PNG)"]
        if self.chapter == "scorecard":
            links.append("<a class='reference download' href='../downloads/claims.csv' download>"
                         "<code>claims.csv</code></a> (every claim of the paper with its verdict)")
        return "<p class='msct-downloads'>Download: " + "; ".join(links) + ".</p>"

    def table(self, df: pd.DataFrame, name: str, caption: str, *, index: bool = False, show: bool = True,
              max_rows: int = 40, decimals: int = 3) -> None:
        """Write ``df`` to ``results/<chapter>/<name>.csv`` and show it with a numbered caption.

        The CSV has every column at full precision; the page shows a compact table designed for reading
        (:func:`table_html`: sensible digits, intervals beside their estimates, long or secondary columns in
        a per-row "show" cell, wide tables spanning the page's margin). Large tables are shown truncated, with
        a pointer to the full CSV. Returns nothing (so a notebook cell ending with this call prints no path).
        """

        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"`df` must be a pandas DataFrame, got {type(df).__name__}")
        path = self.results_dir / f"{name}.csv"
        df.to_csv(path, index=index, lineterminator="\n", float_format="%.10g")
        if show:
            self._show(df, caption, name, index=index, max_rows=max_rows, decimals=decimals)

    def _show(self, df, caption, name, *, index, max_rows, decimals):
        """Display ``df`` as a compact HTML table with a numbered caption (no file written).

        The display is designed for reading, not for completeness (the CSV has every column): see
        :func:`table_html`.
        """
        from IPython.display import HTML, display

        self._n_tables += 1
        body, wide = table_html(df.head(max_rows), index=index, decimals=decimals)
        note = ""
        if len(df) > max_rows:
            note = (f"<p class='msct-note'>Showing the first {max_rows} of {len(df)} rows; the full table is "
                    f"<code>results/{self.chapter}/{name}.csv</code>.</p>")
        cap = (f"<p class='msct-caption'><b>Table {self._n_tables}.</b> {html.escape(caption)} "
               f"<span class='msct-csv'>(<code>results/{self.chapter}/{name}.csv</code>)</span></p>")
        classes = "msct-table-wrap full-width" if wide else "msct-table-wrap"
        display(HTML(f"<div class='{classes}'>{cap}{body}{note}</div>"))

    def figure(self, fig, name: str) -> None:
        """Save ``fig`` to ``results/<chapter>/figures/<name>.png`` and glue that PNG under ``name``.

        Show it in Markdown with a numbered, captioned ``{glue:figure}`` directive. The PNG itself is glued
        (not the Figure object), so the page shows the image whatever matplotlib backend ran the notebook.
        A figure whose every panel is a "not available" placeholder (:func:`placeholder_panels`) is glued as
        text instead, and the render shows a note in place of the figure and its caption
        (:func:`analysis.engine.render.mark_not_available`).
        """
        import matplotlib.pyplot as plt
        from IPython.display import Image

        fig_dir = self.results_dir / "figures"
        fig_dir.mkdir(exist_ok=True)
        path = fig_dir / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
        left_out = placeholder_panels(fig)
        plt.close(fig)
        if left_out is not None:  # nothing drawn: the page shows a note instead of the figure and its caption
            self.glue(name, "not available with these data: " + "; ".join(left_out))
            return
        self.glue(name, Image(filename=str(path)))

    def figure_not_shown(self, name: str, reason: str) -> None:
        """Glue, under a figure's ``name``, why the page does not draw it; the figure's block becomes a note.

        For a reason that is not the data's (those say "Not available with these data"), e.g. a robustness result
        without the figure's inputs. The note reads "Not shown: <reason>" (:func:`analysis.engine.render.mark_not_available`).
        """
        self.glue(name, f"Not shown: {reason}")

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
        """Write this chapter's claims (every registry claim exactly once) and show them.

        When the build staged a robustness result with operating characteristics (``results/robustness``), the
        table shown also has the column "can this design tell?": each claim's class at the design of the
        simulated cohorts (:mod:`analysis.claims.characteristics`); the file written has the verdicts only.
        """
        path = self.claims.write(self.output_dir)
        full = pd.read_csv(path, keep_default_na=False)
        if show:
            from analysis.claims.characteristics import read_characteristics, with_design_class

            cols = ["claim_id", "claim", "location", "published", "reproduced", "verdict", "basis", "rule"]
            shown = full[[c for c in cols if c in full.columns]]
            caption = "Claims of the paper covered by this chapter, with their verdicts on these data"
            rob = self.output_dir / "results" / "robustness"
            characteristics = read_characteristics(rob) if rob.is_dir() else None
            if characteristics is not None:
                shown = with_design_class(shown, characteristics)
                caption += (f"; “{DESIGN_COLUMN}”: what the claim's verdict is worth at {_design_words(rob)}, "
                            "from cohorts simulated by this project, not from these data (the classes are defined "
                            "on the scorecard)")
            self._show(shown, caption, "claims", index=False, max_rows=200, decimals=3)
        return full


def _design_words(robustness_dir: Path) -> str:
    """The design a robustness result simulated, in words, from its ``run.json`` ("the paper's design, 105
    patients, 200 cohorts per model")."""
    try:
        run = json.loads((robustness_dir / "run.json").read_text("utf-8"))
    except (OSError, ValueError):
        run = {}
    n, k = run.get("n_patients"), run.get("cohorts")
    size = ", ".join(x for x in (f"{n} patients" if n else "", f"{k} cohorts per model" if k else "") if x)
    return "the paper's design" + (f", {size}" if size else "")


def provenance_rows(prov: dict) -> str:
    """The provenance box's table rows (HTML), one per entry with a value: an empty entry gets no row.

    Examples
    --------
    >>> provenance_rows({"data folder": "trial_a", "parameters": ""})
    '<tr><th>data folder</th><td>trial_a</td></tr>'
    """
    return "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in prov.items() if v is not None and str(v).strip())


def placeholder_panels(fig) -> list[str] | None:
    """What a figure could not draw, when every panel is a "not available" placeholder; else None.

    A placeholder panel has its axes hidden and one text saying "not available"
    (:func:`analysis.science.methods.look.placeholder`); hidden panels without text (unused grid cells) do not
    count. Returns the panels' names (the text before ": not available ..."), possibly empty, or None when
    something was drawn.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, (a, b) = plt.subplots(1, 2)
    >>> for ax, t in ((a, "IL-6: not available with these data"), (b, "TNF-α: not available with these data")):
    ...     _ = ax.text(0.5, 0.5, t); ax.set_axis_off()
    >>> placeholder_panels(fig)
    ['IL-6', 'TNF-α']
    >>> _ = b.set_axis_on(); placeholder_panels(fig) is None
    True
    >>> plt.close(fig)
    """
    names, seen = [], False
    for ax in fig.axes:
        texts = [t.get_text() for t in ax.texts]
        if ax.axison:
            return None
        if not texts:
            continue
        if len(texts) != 1 or "not available" not in texts[0].lower():
            return None
        seen = True
        name = re.sub(r"\s*[:–-]?\s*not available with these data\.?\s*$", "", texts[0], flags=re.IGNORECASE)
        if name:
            names.append(name)
    return names if seen else None


# ------------------------------------------------------------------------------------------------ table display
#: at most this many columns are shown side by side; the rest go into the row's "more" cell
MAX_COLUMNS = 8
#: text longer than this (in any row) makes a column a "detail" shown on demand
LONG_TEXT = 40
#: the columns a claims table shows first, in this order (the rest: on demand)
CLAIM_COLUMNS = ("claim", "published", "reproduced", "verdict")
#: columns holding a statement (shown first, in full, never folded)
STATEMENT_COLUMNS = ("claim", "check")
#: key results: kept side by side as long as possible
_KEY = re.compile(r"^(p|p_.*|.*_p|significant|hedges_g|g|mean_diff|diff|estimate|r|auc|odds_ratio|proportion|"
                  r"verdict|n)$")
#: columns folded into the "more" cell first when a table has too many (they qualify rather than answer)
_SECONDARY = re.compile(r"^(alpha|dof|dfs?|df\d|k|eps|np2|n_boot|test(_.*)?|method|statistic|t|F|sd(_.*)?|sem(_.*)?|"
                        r".*_sd|.*_sem|note|notes|unit|location|rule|basis.*|claim_id|chapter|family|reference|"
                        r"lab|label|direction|median.*|q1|q3|.*_censored|n_imputed|.*_pct)$")
#: p-value columns: p, p_unc, p_bonf, p_param, p_vs_others, ...
_P_COLUMN = re.compile(r"^(p|p_.*|.*_p)$")


def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, (float, np.floating)) and math.isnan(v)


def _fmt_cell(v: Any, decimals: int = 3, column: str = "") -> str:
    """One table cell as text: numbers to ``decimals`` significant digits, p-values to ``decimals`` places.

    Examples
    --------
    >>> _fmt_cell(0.12345, 3), _fmt_cell(1234.5, 3), _fmt_cell(0.0004, 3, "p"), _fmt_cell(-0.0004, 3)
    ('0.123', '1234', '< 0.001', '-0.0004')
    >>> _fmt_cell(True, 3), _fmt_cell(float("nan"), 3), _fmt_cell(12.0, 3)
    ('yes', '–', '12')
    """
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not math.isfinite(v):
            return "–"
        if _P_COLUMN.match(str(column)) and 0 <= v <= 1:
            return f"< {10 ** -decimals:.{decimals}f}" if 0 < v < 10 ** -decimals else f"{v:.{decimals}f}"
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        a = abs(v)
        if a >= 10 ** decimals:
            return f"{v:.0f}"
        places = max(0, decimals - 1 - math.floor(math.log10(a)))
        if places > 6:
            return f"{v:.{max(decimals - 1, 0)}e}"
        return f"{v:.{places}f}".rstrip("0").rstrip(".")
    if _is_missing(v):
        return "–"
    return str(v)


def _header(column: str) -> str:
    return html.escape(str(column).replace("_", " "))


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _partner(column: str) -> str:
    """The other column of a pair: ``n_a`` / ``n_b``, ``mean_before`` / ``mean_after``, ``before`` / ``after``."""
    for a, b in (("_a", "_b"), ("_before", "_after"), ("before", "after")):
        if column.endswith(a):
            return column[: -len(a)] + b
        if column.endswith(b):
            return column[: -len(b)] + a
    return column


def _plan_columns(df: pd.DataFrame, max_columns: int) -> tuple[list[tuple], list[str]]:
    """Which columns are shown side by side (and how), which are folded into the "more" cell.

    Returns ``(shown, details)``: ``shown`` holds ``(header, kind, columns)`` with kind ``"value"`` (one
    column), ``"ci"`` (estimate with its ``[low, high]``) or ``"pair"`` (published / reproduced), and
    ``details`` the names of the columns shown on demand.
    """
    cols = [str(c) for c in df.columns]
    used: set[str] = set()
    ci_of: dict[str, tuple[str, str]] = {}
    for lo in cols:
        if not lo.endswith("ci_low"):
            continue
        prefix = lo[: -len("ci_low")]
        hi = prefix + "ci_high"
        if hi not in cols:
            continue
        stem = prefix.rstrip("_")
        candidates = {"g": ["hedges_g", "g"], "diff": ["mean_diff", "diff"], "g_ci": ["hedges_g"]}.get(stem, [stem])
        if not stem:  # ci_low / ci_high belong to the numeric column just before them
            i = cols.index(lo)
            candidates = [c for c in cols[:i][::-1] if _is_numeric(df[c]) and c not in ci_of][:1]
        est = next((c for c in candidates if c in cols and c not in ci_of and _is_numeric(df[c])), None)
        if est is not None:
            ci_of[est] = (lo, hi)
            used |= {lo, hi}
    pair_of: dict[str, str] = {}
    for c in cols:
        if c.endswith("_published") and c[: -len("_published")] + "_reproduced" in cols:
            pair_of[c] = c[: -len("_published")] + "_reproduced"
            used.add(pair_of[c])

    def long_text(c: str) -> bool:
        s = df[c]
        return (not _is_numeric(s)) and s.map(lambda v: len(str(v)) if not _is_missing(v) else 0).max() > LONG_TEXT

    claims = set(CLAIM_COLUMNS) <= set(cols)
    if claims:  # claim, published, reproduced, verdict (and the claim's class) first; everything else on demand
        order = list(CLAIM_COLUMNS) + [c for c in (DESIGN_COLUMN,) if c in cols]
        details = [c for c in cols if c not in order]
    else:
        order = [c for c in cols if c not in used]
        order = [c for c in STATEMENT_COLUMNS if c in order] + [c for c in order if c not in STATEMENT_COLUMNS]
        details = [c for i, c in enumerate(order) if i > 0 and c not in STATEMENT_COLUMNS and long_text(c)]
        order = [c for c in order if c not in details]
        # too many columns: fold the qualifiers first, then the last columns that are not key results
        for c in [c for c in order[1:][::-1] if _SECONDARY.match(c)]:
            if len(order) <= max_columns:
                break
            order.remove(c)
            details.insert(0, c)
        for c in [c for c in order[2:][::-1] if not _KEY.match(c) and c not in STATEMENT_COLUMNS]:
            if len(order) <= max_columns:
                break
            for x in (c, _partner(c)):  # n_a with n_b, mean_before with mean_after
                if x in order and (x == c or not _KEY.match(x)):
                    order.remove(x)
                    details.insert(0, x)
        while len(order) > max_columns:
            details.insert(0, order.pop())
        details = [c for c in cols if c in details]  # the CSV's order
        details += [x for c in details if c in ci_of for x in ci_of.pop(c)]
        details += [pair_of.pop(c) for c in list(details) if c in pair_of]
    shown = []
    for c in order:
        if c in ci_of:
            shown.append((f"{c} [CI]", "ci", (c, *ci_of[c])))
        elif c in pair_of:
            shown.append((f"{c[: -len('_published')]} (paper / here)", "pair", (c, pair_of[c])))
        else:
            shown.append((c, "value", (c,)))
    return shown, details


def _register_dataframe_display() -> None:
    """In a notebook, show a DataFrame a cell ends with in the same compact design as :meth:`Page.table`.

    Does nothing outside IPython. The data are not changed (display only).
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    shell = get_ipython()
    if shell is None:
        return

    def as_html(df: pd.DataFrame) -> str:
        shown = df.head(40)
        # the index is shown when it says something (named, or labels rather than row numbers)
        index = any(n is not None for n in df.index.names) or not pd.api.types.is_integer_dtype(df.index)
        body, wide = table_html(shown, index=index)
        note = f"<p class='msct-note'>First 40 of {len(df)} rows.</p>" if len(df) > 40 else ""
        return f"<div class='msct-table-wrap{' full-width' if wide else ''}'>{body}{note}</div>"

    shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, as_html)


def table_html(df: pd.DataFrame, *, index: bool = False, decimals: int = 3,
               max_columns: int = MAX_COLUMNS) -> tuple[str, bool]:
    """A results table as compact HTML for a book page, and whether it should use the page's full width.

    What is shown (the CSV keeps every column):

    - numbers to ``decimals`` significant digits (p-values to ``decimals`` places, "< 0.001"), right-aligned;
    - a confidence interval beside its estimate (``est [low, high]``), published and reproduced values of one
      quantity in one column (``paper / here``);
    - a claims table (columns ``claim``, ``published``, ``reproduced``, ``verdict``) shows those four first;
    - columns with long text, and the columns beyond ``max_columns`` (qualifiers such as the test's name,
      degrees of freedom or SDs first), folded into a last "more" cell per row (``<details>``).

    Examples
    --------
    >>> df = pd.DataFrame({"group": ["A"], "mean_diff": [1.23456], "ci_low": [0.5], "ci_high": [2.0],
    ...                    "p": [0.0001], "note": ["x" * 50]})
    >>> body, wide = table_html(df)
    >>> "1.23 [0.5, 2]" in body, "&lt; 0.001" in body, "<details>" in body, wide
    (True, True, True, False)
    """
    if index:
        df = df.reset_index()
    df = df.copy()
    df.columns = [" / ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in df.columns]
    df = df.loc[:, ~pd.Index(df.columns).duplicated()]
    shown, details = _plan_columns(df, max_columns)

    def cell(kind: str, names: tuple, row) -> tuple[str, str]:
        if kind == "ci":
            est, lo, hi = (row[n] for n in names)
            text = _fmt_cell(est, decimals, names[0])
            if not (_is_missing(lo) and _is_missing(hi)):
                text += f" [{_fmt_cell(lo, decimals)}, {_fmt_cell(hi, decimals)}]"
            return html.escape(text), "msct-num"
        if kind == "pair":  # published above reproduced
            a, b = (html.escape(_fmt_cell(row[n], decimals, n)) for n in names)
            return f"{a}<br>{b}", "msct-num"
        name = names[0]
        v = row[name]
        text = html.escape(_fmt_cell(v, decimals, name))
        if name == "verdict" and not _is_missing(v):
            slug = re.sub(r"[^a-z0-9]+", "-", str(v).lower()).strip("-")
            return f"<span class='msct-verdict msct-verdict--{slug}'>{text}</span>", "msct-verdict-cell"
        if name == "claim":
            return text, "msct-text msct-claim"
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
            return text, "msct-num"
        return text, ("msct-text" if len(text) > 20 else "")

    head = "".join(f"<th class='{'msct-num' if kind != 'value' or _is_numeric(df[names[0]]) else ''}'>"
                   f"{_header(h)}</th>" for h, kind, names in shown)
    if details:
        head += "<th class='msct-more'>more</th>"
    rows = []
    for _, row in df.iterrows():
        tds = []
        for _, kind, names in shown:
            text, cls = cell(kind, names, row)
            tds.append(f"<td class='{cls}'>{text}</td>" if cls else f"<td>{text}</td>")
        if details:
            items = "".join(f"<dt>{_header(c)}</dt><dd>{html.escape(_fmt_cell(row[c], decimals, c))}</dd>"
                            for c in details if not _is_missing(row[c]) and str(row[c]) != "")
            tds.append(f"<td class='msct-more'><details><summary>show</summary><dl>{items}</dl></details></td>"
                       if items else "<td class='msct-more'>–</td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    body = (f"<table class='msct-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    wide = len(shown) + bool(details) > 4 or any("msct-text" in r for r in rows)
    return body, wide
