"""General methods a statistician would use today, beside the paper's per-visit tests ("A second look").

One module per concern, each a set of pure functions on tidy tables (nothing printed or written; figures
returned, never saved):

* :mod:`~analysis.science.methods.mixed` — linear mixed models over all visits, marker families on the log
  and rank scales with Holm/BH, and their figures;
* :mod:`~analysis.science.methods.survival` — time to a visit-observed event and the Kaplan–Meier curve;
* :mod:`~analysis.science.methods.prediction` — logistic prediction judged by repeated cross-validated AUC
  and calibration;
* :mod:`~analysis.science.methods.rates` — event rates per patient-year, exact Poisson intervals and rate ratios;
* :mod:`~analysis.science.methods.ancova` — between-arm comparisons adjusted for baseline;
* :mod:`~analysis.science.methods.look` — what a second-look section returns (``Look``), its words and plot look.

Each chapter's section (``analysis.chapters.<chapter>.second_look``) puts these together on its data.
May import: ``core``, ``intake``, ``claims`` and the rest of ``science``.
"""
