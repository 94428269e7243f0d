"""The IFN-γ chapter's second look: does baseline IFN-γ predict response, out of sample?

The paper calls IFN-γ a predictor on the strength of peaks inside the response window (after the infusion,
where response is being defined). Here response is predicted from pre-infusion IFN-γ and clinical covariates
by logistic regression, judged by its cross-validated AUC over repeated stratified splits and its calibration,
beside the paper's circular peak-in-window predictor (:mod:`analysis.science.methods.prediction`).
:func:`ifng_section` returns a :class:`~analysis.science.methods.look.Look`; :func:`figure_prediction` draws it;
:func:`glue_values` gives the prose its numbers. The claims are judged by
:func:`analysis.chapters.ifng.verdicts.judge_second_look`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.claims.rules import format_p
from analysis.science.methods.look import Look, fmt, placeholder, styled
from analysis.science.methods.prediction import prediction_data, prediction_models

__all__ = ["figure_prediction", "glue_values", "ifng_section"]


def ifng_section(derived, *, covariates: Sequence[str] = ("das28_baseline", "age"), k: int = 5, repeats: int = 20,
                 seed: int = 0, bins: int = 5) -> Look:
    """The IFN-γ second look: baseline prediction of response, cross-validated, window from the design.

    :func:`analysis.science.methods.prediction.prediction_data` then
    :func:`analysis.science.methods.prediction.prediction_models` (the covariates the patients table has).

    Returns
    -------
    Look
        As :func:`~analysis.science.methods.prediction.prediction_models`, plus the table ``data`` (the
        per-patient predictors); facts also ``covariates``, ``window``, ``response_week``.

    Examples
    --------
    >>> from analysis.science.derive import derive
    >>> from analysis.science.methods.look import demo_cohort
    >>> look = ifng_section(derive(demo_cohort()), repeats=2)
    >>> look.available
    True
    """
    cols = [c for c in covariates if c in derived.patients.columns]
    if "ifn_g" not in derived.visits.columns:
        empty = pd.DataFrame(columns=["model", "predictors", "circular", "cv_auc"])
        return Look({"auc": empty, "calibration": pd.DataFrame(columns=["model", "bin"]), "data": pd.DataFrame()},
                    "the visits have no IFN-γ column", {})
    data = prediction_data(derived.visits, derived.patients, early_weeks=derived.design.early_weeks, covariates=cols)
    look = prediction_models(data, covariates=cols, k=k, repeats=repeats, seed=seed, bins=bins)
    facts = {**look.facts, "covariates": ", ".join(cols) or "none",
             "window": f"0–{derived.design.early_window_weeks}", "response_week": derived.design.response_week}
    return Look({**look.tables, "data": data}, look.reason, facts)


def glue_values(look: Look, *, alpha: float = 0.05) -> dict:
    """The numbers and words the chapter's second-look prose glues (``sl_*`` keys; plain str/int values).

    ``sl_reading`` says how the second look bears on the paper's claim of prediction: "supports" when the
    cross-validated AUC of the baseline model is at least 0.7 and baseline IFN-γ adds to the covariates
    (p < alpha), "only partly supports" when one of the two holds, "does not support" when neither does, and
    "cannot address" when the models could not be fitted. Every value has a fallback ("n/a").

    Examples
    --------
    >>> glue_values(Look({}, "no data", {}))["sl_reading"]
    'cannot address'
    >>> glue_values(Look({}, "", {"cv_auc_full": 0.74, "p_lr_ifng": 0.2}))["sl_reading"]
    'only partly supports'
    """
    f = look.facts
    out: dict = {}
    cv, p = f.get("cv_auc_full", np.nan), f.get("p_lr_ifng", np.nan)
    if cv is None or not np.isfinite(cv) or p is None or not np.isfinite(p):
        reading = "cannot address"
    elif cv >= 0.7 and p < alpha:
        reading = "supports"
    elif cv >= 0.7 or p < alpha:
        reading = "only partly supports"
    else:
        reading = "does not support"
    out.update(sl_cv_auc_full=fmt(cv), sl_cv_auc_clinical=fmt(f.get("cv_auc_clinical")),
               sl_cv_auc_ifng=fmt(f.get("cv_auc_ifng")), sl_cv_auc_peak=fmt(f.get("cv_auc_peak")),
               sl_apparent_auc_full=fmt(f.get("apparent_auc_full")),
               sl_apparent_auc_peak=fmt(f.get("apparent_auc_peak")), sl_p_lr=format_p(p),
               sl_covariates=str(f.get("covariates", "n/a")), sl_window=str(f.get("window", "n/a")),
               sl_response_week=str(f.get("response_week", "n/a")), sl_n=int(f.get("n", 0)), sl_reading=reading)
    return out


# =========================================================================== figures
@styled
def figure_prediction(look: Look):
    """Calibration of the baseline model (left) and the AUCs of the four models (right; returns the Figure).

    Examples
    --------
    >>> look = Look({"auc": pd.DataFrame(columns=["model", "cv_auc"]), "calibration": pd.DataFrame(columns=["model"])})
    >>> len(figure_prediction(look).axes)
    2
    """
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.4))
    cal = look.tables.get("calibration", pd.DataFrame())
    table = look.tables.get("auc", pd.DataFrame())
    styles = {"baseline IFN-γ + clinical": "#0072B2", "peak in window (circular)": "#D55E00"}
    if len(cal):
        ax1.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label="perfect calibration")
        for name, part in cal.groupby("model", sort=False):
            col = styles.get(name, "#7F7F7F")
            obs, lo, hi = (part[c].to_numpy(float) for c in ("observed", "ci_low", "ci_high"))
            ax1.errorbar(part["mean_predicted"].to_numpy(float), obs, yerr=np.vstack([obs - lo, hi - obs]),
                         marker="o", color=col, capsize=3, label=name)
        ax1.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="predicted probability (out of fold)",
                ylabel="observed share of responders", title="Calibration")
        ax1.legend(loc="upper left", fontsize=9)
    else:
        placeholder(ax1, "Calibration: not available with these data")
    t = table.dropna(subset=["cv_auc"]) if len(table) and "cv_auc" in table.columns else table.iloc[:0]
    if len(t):
        y = np.arange(len(t))[::-1]
        for yi, (_, r) in zip(y, t.iterrows()):
            col = styles.get(r["model"], "#7F7F7F")
            ax2.errorbar([float(r["cv_auc"])], [yi], xerr=[[float(r["cv_auc"] - r["cv_auc_low"])],
                                                           [float(r["cv_auc_high"] - r["cv_auc"])]],
                         marker="o", color=col, capsize=3)
            ax2.plot(r["apparent_auc"], yi, marker="x", color=col)
        ax2.axvline(0.5, color="0.5", linestyle="--", linewidth=1)
        ax2.set_yticks(y, [m.replace(" (circular)", "\n(circular: after infusion)") for m in t["model"]])
        ax2.set(xlim=(0.3, 1.0), xlabel="AUC (o: cross-validated, range over repeats; x: apparent)",
                title="Discrimination")
    else:
        placeholder(ax2, "AUC: not available with these data")
    fig.tight_layout()
    return fig
