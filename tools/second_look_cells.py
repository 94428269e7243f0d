"""Insert (or refresh) the "A second look" cells and exercises in the five chapter notebooks.

Run from the repository root: ``.venv/bin/python tools/second_look_cells.py``. Idempotent: cells whose id
starts with ``second-look-`` are removed first, then the section is inserted right before the chapter's claims
heading and the exercise after the last exercise; exercise labels continue the chapter's numbering, and the
instructor guide's rows for them are rewritten. Outputs stay empty; the other cells are not touched.

``--fold-claims`` instead moves the rows of ``data/published/second_look_claims.csv`` into the chapters' registry
files ``data/published/claims/<chapter>.csv`` (for the lead, once the registry has the ``basis`` columns) and
deletes that file; :func:`analysis.second_look.judge` then records the claims in the page's claim log.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
PREFIX = "second-look-"
GUIDE = BOOK / "instructor_guide.md"
GUIDE_MARK = "| second look: "


def md(text: str) -> dict:
    return {"cell_type": "markdown", "source": text.strip("\n")}


def code(text: str, *tags: str) -> dict:
    return {"cell_type": "code", "source": text.strip("\n"), "tags": list(tags)}


def fig(name: str, chapter: str, caption: str, width: str = "90%") -> dict:
    return md(f"""
```{{glue:figure}} {name}
:name: fig-{chapter}-{name}
:figwidth: {width}

{caption}
```
""")


# ------------------------------------------------------------------------------------------------ disease activity
ACTIVITY = [
    md("""
## A second look: a linear mixed model and a Kaplan–Meier curve

The paper compares the groups one visit at a time (t tests or ANOVA "versus before MSCT") and defines relapse
at one visit. A statistician today would fit **one model for all visits**: DAS28 (and HAQ) explained by group,
week and their interaction (group × week, each visit its own mean), with a random intercept per patient —
patients start at different levels — and a random slope over time where it converges (the table says which
was used). It uses every observed visit of every patient, including those who later missed visits (valid
when data are missing at random given what was observed), and asks the real question once: *do the groups'
courses differ?* That is the likelihood-ratio test of the group × week terms (the Wald F is shown beside
it). The model's means per group and week come with 95% confidence intervals, and its between-group contrast
at each visit is set beside the paper-style per-visit test. The weeks are the design's: {glue:text}`sl_weeks`.
"""),
    code("""
from analysis import second_look

second = second_look.activity_section(derived, relapse_das28_rise=relapse_das28_rise,
                                      relapse_require_labs=relapse_require_labs, pairwise=pairwise, alpha=alpha)
page.table(second["mixed_tests"], "second_look_mixed_tests",
           "Group × week in a linear mixed model per outcome: likelihood-ratio and Wald tests, random effects used")
page.table(second["marginal_means"], "second_look_marginal_means",
           "Model-based mean with 95% CI per group and week", max_rows=16)
page.table(second["beside_per_visit"], "second_look_beside_per_visit",
           "The model's between-group contrast at each visit beside the per-visit test (p_per_visit_bonf: "
           "Bonferroni over the three pairs)", max_rows=24)
if second.facts["mixed_reason"]:
    page.note(second_look.unavailable(second.facts["mixed_reason"]))
page.figure(second_look.figure_marginal_means(second["marginal_means"], outcomes=["das28", "haq_di"],
                                              labels=second_look.LABELS), "second_look_marginal_means")
"""),
    fig("second_look_marginal_means", "disease_activity",
        "Model-based means of DAS28 and HAQ-DI per group and week with 95% confidence bands (linear mixed model, "
        "all observed visits)."),
    md("""
**Time to relapse.** Instead of counting relapses at one visit, follow each responder from the response week
until the chapter's relapse rule is first met (the rule of the parameters `relapse_das28_rise` and
`relapse_require_labs`) or until their last evaluable visit (censored), and draw the share still relapse-free
as a Kaplan–Meier curve with its 95% confidence band (log(−log) interval with Greenwood's variance, lifelines).
A relapse is only seen at a visit, so the curve steps at visits.
"""),
    code("""
page.table(second["km"], "second_look_km",
           "Responders relapse-free since the response week (Kaplan–Meier with 95% CI)")
page.table(second["relapse_times"], "second_look_relapse_times",
           "Per responder: weeks from the response week to the first relapse or to censoring", show=False)
if second.facts["km_reason"]:
    page.note(second_look.unavailable(second.facts["km_reason"]))
page.figure(second_look.figure_km(second["km"], reference_week=derived.design.response_week,
                                  relapse_week=derived.design.relapse_week), "second_look_km")
"""),
    code("""
for key, value in second_look.glue_values(second, chapter="disease_activity", alpha=alpha).items():
    page.glue(key, value)
""", "remove-cell"),
    fig("second_look_km", "disease_activity",
        "Share of responders relapse-free after the response week (Kaplan–Meier, 95% band); dashed: the relapse "
        "week of the paper's statement.", "75%"),
    md("""
**Beside the paper.** The per-visit tests ask the same question at every visit, each on the patients seen
there, and their stars multiply with the visits. The model answers once, for all visits: group × week for
DAS28 {glue:text}`sl_p_das28` (random effects: {glue:text}`sl_random_das28`), for HAQ {glue:text}`sl_p_haq`
(random effects: {glue:text}`sl_random_haq`). For DAS28 visit by visit, the model's responder − control
contrast is significant at {glue:text}`sl_n_visits_model_sig` of {glue:text}`sl_n_visits` visits, the
Bonferroni-corrected per-visit test at {glue:text}`sl_n_visits_per_visit_sig` (level `alpha`).

**What changes.** One test over all visits {glue:text}`sl_das28_reading` the paper's conclusion that the
response group's DAS28 evolved differently from the other groups', without one test per visit and outcome and
without dropping patients who missed a visit. The caution of the per-visit tests still applies: responders were
selected by their DAS28 fall at the response week, so a group × week difference in DAS28 is partly built in;
HAQ was not used for the selection, and its test {glue:text}`sl_haq_reading` the paper's conclusion. The
Kaplan–Meier curve replaces the paper's relapse count at one visit by a curve: by week {glue:text}`sl_relapse_week` an estimated
{glue:text}`sl_cum_relapse` of responders had relapsed (95% CI {glue:text}`sl_cum_relapse_ci`;
{glue:text}`sl_n_relapsed` relapses among {glue:text}`sl_n_followed` responders followed), and the width of
that interval shows how loosely a handful of relapses pins a percentage down. Neither method can say why
patients responded: the groups were formed by the outcome, not randomised.
"""),
    code("""
second_claims = second_look.judge(page.claims, second, chapter="disease_activity")
page.table(second_claims, "second_look_claims", "The second look's own claims, judged on these data (basis: empirical)")
"""),
]

ACTIVITY_EX = [
    ("Kaplan–Meier by hand (by hand)", """
From the Kaplan–Meier table of the second look (`second["km"]`: patients at risk and relapses at each time),
compute the share still relapse-free yourself as the running product of (1 − relapses / at risk) and check it
against the `survival` column. Why does a censored responder lower the number at risk without lowering the
curve?
""", """
The Kaplan–Meier estimate is the product, over the times with a relapse, of the share of those still at risk
who did not relapse then. A censored responder (last evaluable visit without relapse) leaves the risk set:
later relapses are divided by fewer patients, so each counts more, but the curve itself only drops at a
relapse.
""", """
import numpy as np

km = second["km"]
if len(km):
    by_hand = np.cumprod(1 - km["events"] / km["at_risk"])
    assert np.allclose(by_hand, km["survival"], atol=1e-12)
km
"""),
]

# ------------------------------------------------------------------------------------------------ immune
IMMUNE = [
    md("""
## A second look: a mixed model for the Treg/Th17 ratio, with multiplicity over the immune markers

The paper compares the Treg/Th17 ratio and the other immune markers visit by visit. Here each marker gets one
linear mixed model over all visits ({glue:text}`sl_weeks`): group × week with a random intercept per patient,
and one test of whether the groups' courses differ (likelihood-ratio test of group × week). Ratios and
antibody titres are skewed, so the model is fitted on the **log scale** and, as a check that needs no
distributional assumption and no number for a censored result, on **ranks** (an anti-CCP above the assay's
upper limit is tied at the highest rank; a Treg/Th17 ratio with Th17 = 0 is undefined and left out). Five
markers make five tests, so the p-values are adjusted over the family (Holm, and Benjamini–Hochberg in the CSV),
separately for each scale.
"""),
    code("""
from analysis import second_look

second = second_look.immune_section(derived, alpha=alpha)
page.table(second["test"], "second_look_mixed_tests",
           "Group × week per immune marker (linear mixed model, random intercept), log scale and ranks, "
           "with Holm and BH over the markers")
page.table(second["means"], "second_look_marginal_means", "Model-based means per marker, scale, group and week",
           show=False)
if second.reason:
    page.note(second_look.unavailable(second.reason))
page.figure(second_look.figure_marginal_means(second["means"], outcomes=["treg_th17_ratio"], scale="log",
                                              labels=second_look.LABELS), "second_look_ratio_means")
page.figure(second_look.figure_markers(second["test"], labels=second_look.LABELS, alpha=alpha),
            "second_look_markers")
"""),
    code("""
for key, value in second_look.glue_values(second, chapter="immune", alpha=alpha).items():
    page.glue(key, value)
""", "remove-cell"),
    fig("second_look_ratio_means", "immune",
        "Model-based mean of the log Treg/Th17 ratio per group and week with 95% bands.", "70%"),
    fig("second_look_markers", "immune",
        "Strength of the group × week test per marker (−log10 p; open: unadjusted, filled: Holm over the markers)."),
    md("""
**Beside the paper.** The paper's stars come from one test per visit and marker, uncorrected. The model asks
one question per marker, and the correction runs over the five markers only: on ranks,
{glue:text}`sl_n_sig_holm_rank` of {glue:text}`sl_n_fitted_rank` markers keep p < `alpha` after Holm
({glue:text}`sl_n_sig_raw_rank` before); on the log scale {glue:text}`sl_n_sig_holm_log` of
{glue:text}`sl_n_fitted_log`.

**What changes.** For the Treg/Th17 ratio the group × week test gives {glue:text}`sl_p_tregth17ratio` on ranks
(Holm) and {glue:text}`sl_p_tregth17ratio_log` on the log scale, so the modern method
{glue:text}`sl_reading` the paper's conclusion that the ratio's course differs with response. It cannot say
whether the change in the ratio caused the response or followed it, and because the groups were formed by
response, a difference between them is not a treatment effect; only the randomised comparison (MSCT against
control) could be.
"""),
    code("""
second_claims = second_look.judge(page.claims, second, chapter="immune")
page.table(second_claims, "second_look_claims", "The second look's own claims, judged on these data (basis: empirical)")
"""),
]

IMMUNE_EX = [
    ("Holm over the markers by hand (by hand)", """
Take the unadjusted p-values of the group × week test on the rank scale (`p_lr` in the second look's test table)
and apply Holm's procedure by hand: sort them, multiply the smallest by the number of markers m, the next by
m − 1, and so on; take the running maximum and cap at 1. Check your values against `p_holm`. Why is Holm never
less powerful than Bonferroni?
""", """
Holm multiplies only the smallest p-value by m; each later one by fewer, and the running maximum keeps the
order. Every p-value Bonferroni rejects, Holm rejects too, while the family-wise error stays at alpha.
""", """
import numpy as np

t = second["test"].query("scale == 'rank'").dropna(subset=["p_lr"])
p = t["p_lr"].to_numpy()
order = np.argsort(p)
m = len(p)
holm = np.empty(m)
holm[order] = np.minimum(1, np.maximum.accumulate(p[order] * (m - np.arange(m))))
assert np.allclose(holm, t["p_holm"].to_numpy(), atol=1e-12)
t[["outcome", "p_lr", "p_holm"]].assign(by_hand=holm)
"""),
]

# ------------------------------------------------------------------------------------------------ inflammation
INFLAMMATION = [
    md("""
## A second look: mixed models for the cytokines, with values below the LLOQ handled by ranks

The paper tests each cytokine at each visit and does not say what it did with results below the assay's lower
limit of quantification (LLOQ). Here each cytokine gets one linear mixed model over all visits
({glue:text}`sl_weeks`): group × week with a random intercept per patient, and one likelihood-ratio test of
whether the groups' courses differ. Cytokines are skewed, so the model is fitted on the **log scale** (with a
value below the LLOQ replaced by the rule of the parameter `lloq_rule`) and on **ranks**, where every value below
the LLOQ is tied at the lowest rank. The rank method is exact about what a censored result tells — it is lower
than every quantified value — and needs no invented number, which is why the claims use it. Six cytokines make
six tests: the p-values are adjusted over the family (Holm, and Benjamini–Hochberg in the CSV), per scale.
"""),
    code("""
from analysis import second_look

second = second_look.inflammation_section(derived, alpha=alpha)
page.table(second["test"], "second_look_mixed_tests",
           "Group × week per cytokine (linear mixed model, random intercept), log scale and ranks (<LLOQ tied "
           "lowest), with Holm and BH over the cytokines")
page.table(second["means"], "second_look_marginal_means", "Model-based means per cytokine, scale, group and week",
           show=False)
if second.reason:
    page.note(second_look.unavailable(second.reason))
page.figure(second_look.figure_marginal_means(second["means"], outcomes=["il_6", "tnf_a", "il_10"], scale="log",
                                              labels=second_look.LABELS), "second_look_cytokine_means")
page.figure(second_look.figure_markers(second["test"], labels=second_look.LABELS, alpha=alpha),
            "second_look_cytokines")
"""),
    code("""
for key, value in second_look.glue_values(second, chapter="inflammation", alpha=alpha).items():
    page.glue(key, value)
""", "remove-cell"),
    fig("second_look_cytokine_means", "inflammation",
        "Model-based means of log IL-6, TNF-α and IL-10 per group and week with 95% bands."),
    fig("second_look_cytokines", "inflammation",
        "Strength of the group × week test per cytokine (−log10 p; open: unadjusted, filled: Holm over the six "
        "cytokines), log scale and ranks."),
    md("""
**Beside the paper.** One question per cytokine instead of one per visit, and a correction over six tests
instead of none: on ranks {glue:text}`sl_n_sig_holm_rank` of {glue:text}`sl_n_fitted_rank` cytokines keep
p < `alpha` after Holm ({glue:text}`sl_n_sig_raw_rank` before); on the log scale {glue:text}`sl_n_sig_holm_log` of
{glue:text}`sl_n_fitted_log`. When the two scales agree, the handling of censored values does not drive the
result.

**What changes.** For IL-6 the group × week test gives {glue:text}`sl_p_il6` on ranks (Holm; log scale
{glue:text}`sl_p_il6_log`), for TNF-α {glue:text}`sl_p_tnfa` ({glue:text}`sl_p_tnfa_log`) and for IL-10
{glue:text}`sl_p_il10` ({glue:text}`sl_p_il10_log`). So the modern method {glue:text}`sl_il6_reading` the paper's
conclusion about IL-6, {glue:text}`sl_tnfa_reading` the one about TNF-α and {glue:text}`sl_il10_reading` the one
about IL-10, with every visit and every patient in one test and the multiplicity controlled. It cannot address
*when* a change happened (that is what the per-visit contrasts in the CSV are for, with their own multiplicity),
nor whether the cytokines changed because of the cells or because the patients responded.
"""),
    code("""
second_claims = second_look.judge(page.claims, second, chapter="inflammation")
page.table(second_claims, "second_look_claims", "The second look's own claims, judged on these data (basis: empirical)")
"""),
]

INFLAMMATION_EX = [
    ("Benjamini–Hochberg by hand (by hand)", """
Take the unadjusted p-values of the group × week test on the log scale (`p_lr`) and compute the
Benjamini–Hochberg adjusted values by hand: sort them, multiply the i-th smallest by m / i, take the running
minimum from the largest down, and cap at 1. Check them against `p_bh`. Which controls what: Holm the chance
of any false positive, BH the expected share of false positives among the positives?
""", """
BH controls the false discovery rate, the expected share of false positives among the rejected hypotheses; Holm
controls the family-wise error rate, the chance of even one. BH is therefore never stricter than Holm.
""", """
import numpy as np

t = second["test"].query("scale == 'log'").dropna(subset=["p_lr"])
p = t["p_lr"].to_numpy()
m = len(p)
order = np.argsort(p)
scaled = p[order] * m / np.arange(1, m + 1)
bh = np.empty(m)
bh[order] = np.minimum(1, np.minimum.accumulate(scaled[::-1])[::-1])
assert np.allclose(bh, t["p_bh"].to_numpy(), atol=1e-12)
assert (t["p_bh"].to_numpy() <= t["p_holm"].to_numpy() + 1e-12).all()
t[["outcome", "p_lr", "p_holm", "p_bh"]].assign(by_hand=bh)
"""),
]

# ------------------------------------------------------------------------------------------------ IFN-γ
IFNG = [
    md("""
## A second look: a baseline prediction model, cross-validated

A predictor must be known *before* the decision it informs. The paper's predictor, the peak IFN-γ over weeks
{glue:text}`sl_window`, is measured after the infusion and inside the {glue:text}`sl_response_week`-week window
over which response is judged: it is circular. The modern approach fits a **prediction model on what is known
before the infusion** — log baseline IFN-γ (week 0) and clinical covariates ({glue:text}`sl_covariates`) — by
logistic regression, and judges it on patients it was not fitted on: **repeated stratified k-fold
cross-validation** (5 folds with the same share of responders, 20 random splits). Its AUC says how well it
ranks responders above non-responders; the **calibration** plot says whether a predicted 70% means 70%. The
clinical covariates alone, baseline IFN-γ alone and the paper's circular predictor are fitted the same way
for comparison.
"""),
    code("""
from analysis import second_look

second = second_look.ifng_section(derived, seed=seed)
page.table(second["auc"], "second_look_auc",
           "Logistic models of response: apparent and cross-validated AUC (mean over 20 repeats of 5-fold "
           "stratified CV; low/high: 2.5 and 97.5 percentiles over repeats)")
page.table(second["calibration"], "second_look_calibration",
           "Calibration: mean out-of-fold predicted probability against the observed share of responders "
           "(Wilson 95% CI), by fifths of the prediction")
page.table(second["data"], "second_look_data", "Per patient: response and the predictors", show=False)
if second.reason:
    page.note(second_look.unavailable(second.reason))
page.figure(second_look.figure_prediction(second), "second_look_prediction")
"""),
    code("""
for key, value in second_look.glue_values(second, chapter="ifng", alpha=alpha).items():
    page.glue(key, value)
""", "remove-cell"),
    fig("second_look_prediction", "ifng",
        "Left: calibration of the baseline model and of the circular peak-in-window model (out-of-fold "
        "predictions; dashed: perfect). Right: cross-validated AUC (dot, range over repeats) and apparent AUC "
        "(cross) of each model.", "100%"),
    md("""
**Beside the paper.** The paper's peak in the window reaches a cross-validated AUC of
{glue:text}`sl_cv_auc_peak` (apparent {glue:text}`sl_apparent_auc_peak`), but cross-validation does not cure
circularity: the predictor contains information from after the infusion, possibly the response itself.
Baseline IFN-γ with the clinical covariates reaches {glue:text}`sl_cv_auc_full` out of sample (apparent, fitted
and judged on the same patients: {glue:text}`sl_apparent_auc_full`), the covariates alone
{glue:text}`sl_cv_auc_clinical`, and baseline IFN-γ alone {glue:text}`sl_cv_auc_ifng`.

**What changes.** Adding baseline IFN-γ to the covariates gives a likelihood-ratio {glue:text}`sl_p_lr`.
Together with the cross-validated AUC, the modern method {glue:text}`sl_reading` the paper's claim that IFN-γ
predicts response, in the only sense in which a prediction can be used (before the infusion). With
{glue:text}`sl_n` patients the spread over splits is wide, and without an external cohort this is internal
validation only; the apparent AUC shows how much a model flatters itself on its own patients.
"""),
    code("""
second_claims = second_look.judge(page.claims, second, chapter="ifng")
page.table(second_claims, "second_look_claims", "The second look's own claims, judged on these data (basis: empirical)")
"""),
]

IFNG_EX = [
    ("The AUC as a Mann–Whitney statistic (by hand)", """
The AUC is the probability that a randomly chosen responder scores higher than a randomly chosen non-responder
(ties count one half). Compute it for the circular predictor (`log_peak_window` in `second["data"]`) with
`scipy.stats.mannwhitneyu` as U / (n₁ n₂) and check it against `second_look.auc`. Then explain in one sentence
why a cross-validated AUC near 1 for this predictor is no evidence that IFN-γ predicts response.
""", """
U counts the responder–non-responder pairs in which the responder scores higher (ties one half), so U / (n₁ n₂)
is the AUC. The peak is measured after the infusion, within the response window: it can mirror the response
rather than foretell it, and cross-validation only guards against overfitting, not against using information
from after the decision.
""", """
from scipy.stats import mannwhitneyu

d = second["data"].dropna(subset=["log_peak_window"])
pos = d.loc[d["responder"] == 1, "log_peak_window"]
neg = d.loc[d["responder"] == 0, "log_peak_window"]
if len(pos) and len(neg):
    u = mannwhitneyu(pos, neg).statistic
    assert abs(u / (len(pos) * len(neg)) - second_look.auc(d["responder"], d["log_peak_window"])) < 1e-12
second["auc"][["model", "apparent_auc", "cv_auc"]]
"""),
]

# ------------------------------------------------------------------------------------------------ safety
SAFETY = [
    md("""
## A second look: adverse-event rates per patient-year and ANCOVA of the labs

Counting patients with an event ignores how long each was watched. A **rate per patient-year** divides the
events of an arm by its follow-up time (from the infusion to each patient's last visit), and its **exact
Poisson confidence interval** (from chi-square quantiles) stays honest with few or no events; the rate ratio
MSCT/control gets the exact conditional interval. For the laboratory values, the paper tested each group's
before/after change; the randomised question is whether **MSCT patients differ from control patients at the
last visit given their week-0 value**: an **ANCOVA** (value after ~ value before + arm, least squares), with Holm
over the labs. The per-group t tests of the section above are set beside it.
"""),
    code("""
from analysis import second_look

second = second_look.safety_section(derived, cohort.adverse_events, lab_tests=labs, alpha=alpha)
page.table(second["ae_rates"], "second_look_ae_rates",
           "Adverse events per patient-year by arm, with exact Poisson 95% CIs")
page.table(second["ae_ratios"], "second_look_ae_ratios",
           "Rate ratio MSCT/control with the exact conditional 95% CI and p")
page.table(second["beside_t_tests"], "second_look_ancova",
           "Labs at the last visit by ANCOVA (adjusted difference MSCT − control, 95% CI, p, Holm) beside the "
           "before/after t tests per group (p_t_…)")
page.table(second["ancova"], "second_look_ancova_full", "ANCOVA of the labs, full results", show=False)
if second.reason:
    page.note(second_look.unavailable(second.reason))
page.figure(second_look.figure_ae_rates(second["ae_rates"]), "second_look_ae_rates")
page.figure(second_look.figure_ancova(second["ancova"], alpha=alpha), "second_look_ancova")
"""),
    code("""
for key, value in second_look.glue_values(second, chapter="safety", alpha=alpha).items():
    page.glue(key, value)
""", "remove-cell"),
    fig("second_look_ae_rates", "safety",
        "Adverse events per patient-year by arm and kind, with exact Poisson 95% CIs.", "80%"),
    fig("second_look_ancova", "safety",
        "Each lab's adjusted difference MSCT − control at the last visit divided by its standard error "
        "(bars: ±1.96, the 95% CI on this scale); red: Holm p below the page's alpha.", "80%"),
    md("""
**Beside the paper.** MSCT had {glue:text}`sl_events_msct` adverse events in {glue:text}`sl_py_msct`
patient-years, control {glue:text}`sl_events_control` in {glue:text}`sl_py_control`: a rate ratio of
{glue:text}`sl_rr` (exact 95% CI {glue:text}`sl_rr_ci`). By ANCOVA, {glue:text}`sl_n_labs_sig_holm` of
{glue:text}`sl_n_labs` labs differ between the arms at week {glue:text}`sl_final_week` after Holm
({glue:text}`sl_n_labs_sig_raw` before): {glue:text}`sl_labs_sig_holm`.

**What changes.** For adverse events, {glue:text}`sl_ae_reading`: the interval, not the count of zero serious
events, says how large a harm these data can exclude. For the labs, the randomised comparison
{glue:text}`sl_labs_reading` the paper's conclusion of no significant laboratory abnormality. A difference
between arms is not by itself an abnormality (it may stay inside the normal range), a within-group change is
not a treatment effect (the control arm changes too), and neither method can see rare harms that a trial of
this size cannot detect.
"""),
    code("""
second_claims = second_look.judge(page.claims, second, chapter="safety")
page.table(second_claims, "second_look_claims", "The second look's own claims, judged on these data (basis: empirical)")
"""),
]

SAFETY_EX = [
    ("An exact Poisson interval by hand (by hand)", """
Take the MSCT row "any adverse event" of the rate table (k events in T patient-years). Compute the exact 95%
interval by hand, χ²(0.025; 2k) / 2T to χ²(0.975; 2k + 2) / 2T (lower limit 0 when k = 0), with
`scipy.stats.chi2.ppf`, and check it against the table. Why is the upper limit not zero when no event occurred?
""", """
The interval holds every rate under which the observed count would not be surprising (each tail 2.5%). With
k = 0 the upper limit is −ln(0.025) / T ≈ 3.7 / T: zero events in T patient-years are still quite likely when
the true rate is a little below 3.7 / T — absence of events is not proof of absence of risk.
""", """
from scipy.stats import chi2

row = second["ae_rates"].set_index(["measure", "arm"]).loc[("any adverse event", "MSCT")]
k, t = int(row["events"]), float(row["patient_years"])
if t > 0:
    low = 0.0 if k == 0 else chi2.ppf(0.025, 2 * k) / (2 * t)
    high = chi2.ppf(0.975, 2 * k + 2) / (2 * t)
    assert abs(row["ci_low"] - low) < 1e-12 and abs(row["ci_high"] - high) < 1e-12
row
"""),
]

CHAPTERS = {
    "disease_activity": ("da", ACTIVITY, ACTIVITY_EX, "1. scores and response groups", "3. effect sizes and intervals"),
    "immune": ("im", IMMUNE, IMMUNE_EX, "2. tests and multiplicity", None),
    "inflammation": ("in", INFLAMMATION, INFLAMMATION_EX, "2. tests and multiplicity", None),
    "ifng": ("ig", IFNG, IFNG_EX, "4. biomarkers", None),
    "safety": ("sa", SAFETY, SAFETY_EX, "3. effect sizes and intervals", None),
}
OBJECTIVE = {"disease_activity": "3.", "immune": "2.", "inflammation": "2.", "ifng": "4.", "safety": "3."}
WHAT = {
    "disease_activity": "second look: the Kaplan–Meier curve of relapse as a running product, by hand",
    "immune": "second look: Holm over the family of immune markers, by hand",
    "inflammation": "second look: Benjamini–Hochberg over the cytokines, by hand, and FDR versus FWER",
    "ifng": "second look: the AUC as a Mann–Whitney statistic; why cross-validation does not cure circularity",
    "safety": "second look: an exact Poisson interval for an adverse-event rate, by hand",
}

EXERCISE = re.compile(r"`{3,}\{exercise\}\s*(.*)\n:label:\s*(\S+)")


def _cell(spec: dict, cid: str):
    if spec["cell_type"] == "markdown":
        cell = nbformat.v4.new_markdown_cell(spec["source"])
    else:
        cell = nbformat.v4.new_code_cell(spec["source"])
        if spec["tags"]:
            cell.metadata["tags"] = spec["tags"]
    cell.id = cid
    return cell


def _claims_index(cells) -> int:
    for i, c in enumerate(cells):
        if c.cell_type == "markdown":
            heading = next((ln for ln in c.source.splitlines() if ln.startswith("## ")), "")
            if "claims" in heading.lower():
                return i
    raise SystemExit("no '## …claims…' heading cell found")


def refresh(chapter: str) -> str:
    short, section, exercises, _, _ = CHAPTERS[chapter]
    path = BOOK / f"{chapter}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if not str(c.get("id", "")).startswith(PREFIX)]
    at = _claims_index(nb.cells)
    new = [_cell(spec, f"{PREFIX}{short}-{i:02d}") for i, spec in enumerate(section)]
    nb.cells[at:at] = new
    n_existing = sum(len(EXERCISE.findall(c.source)) for c in nb.cells if c.cell_type == "markdown")
    last_end = max(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and "{solution-end}" in c.source)
    ex_cells, label = [], ""
    for j, (title, question, answer, solution) in enumerate(exercises):
        label = f"ex-{chapter}-{n_existing + j + 1}"
        ex_cells += [
            md(f"````{{exercise}} {title}\n:label: {label}\n\n{question.strip()}\n````\n\n"
               f"```{{solution-start}} {label}\n:class: dropdown\n```\n\n{answer.strip()}"),
            code(solution),
            md("```{solution-end}\n```"),
        ]
    ex = [_cell(spec, f"{PREFIX}{short}-ex-{i:02d}") for i, spec in enumerate(ex_cells)]
    nb.cells[last_end + 1:last_end + 1] = ex
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return label


def update_guide(labels: dict) -> None:
    text = GUIDE.read_text("utf-8")
    lines = [ln for ln in text.splitlines() if GUIDE_MARK not in ln]
    rows = [f"| {OBJECTIVE[ch]} | `{lab}` | by hand | {WHAT[ch]} |" for ch, lab in labels.items()]
    # after the last row of the exercise table
    row = re.compile(r"^\| [^|]* \| `ex-[^`]+` \|")
    idx = max(i for i, ln in enumerate(lines) if row.match(ln))
    lines[idx + 1:idx + 1] = rows
    GUIDE.write_text("\n".join(lines) + "\n", "utf-8")


def fold_claims() -> None:
    """Append data/published/second_look_claims.csv to the chapters' registry files, then delete it.

    Each row gets the columns of its chapter's file (``basis`` / ``basis_reason`` kept when the file has them).
    Rows whose claim_id is already in the file are skipped.
    """
    import pandas as pd

    src = ROOT / "data" / "published" / "second_look_claims.csv"
    rows = pd.read_csv(src, dtype=str, keep_default_na=False)
    for chapter, part in rows.groupby("chapter"):
        dst = ROOT / "data" / "published" / "claims" / f"{chapter}.csv"
        reg = pd.read_csv(dst, dtype=str, keep_default_na=False)
        part = part.loc[~part["claim_id"].isin(reg["claim_id"])]
        out = pd.concat([reg, part.reindex(columns=reg.columns, fill_value="")], ignore_index=True)
        out.to_csv(dst, index=False, lineterminator="\n")
    src.unlink()


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--fold-claims" in argv:
        fold_claims()
        return 0
    labels = {ch: refresh(ch) for ch in CHAPTERS}
    update_guide(labels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
