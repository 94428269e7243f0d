"""THE chapter registry: every chapter of the book, in reading order, with all that other rooms need to know of it.

One :class:`Chapter` row per chapter carries its name, notebook, title, the package that computes it, its cost
estimate, the sections it shows and the columns each needs, its robustness options (the analysis choices the
multiverse varies). The simulated models of the world a claim can fail under are :data:`MODELS`; each claim
names its own in the registry's ``fails_under`` column. The build, the runners, the headless
evaluation, the robustness run, the section notes and the data-dictionary page all read this table; none keeps
a list of its own. Adding a chapter is one row here (plus its folder, notebook, claims CSV and ``_toc.yml``
line: CONTRIBUTING.md).

Examples
--------
>>> [c.name for c in CHAPTERS if c.phase == 2]
['scorecard', 'planning']
>>> CLAIM_CHAPTERS[-1]
'audit'
>>> chapter("immune").verdicts_module
'analysis.chapters.immune.verdicts'
>>> [s.id for s in chapter("immune").sections][:2]
['immune.autoantibodies', 'immune.cells']
>>> chapter("inflammation").multiverse["lloq_rule"]
('half', 'lloq', 'exclude')
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CHAPTERS", "CLAIM_CHAPTERS", "Chapter", "LABS", "MODELS", "Section", "chapter"]

#: the simulator's models of the world (``analysis.science.simulate.simulate(model=...)``): the calibrated world and
#: the models under which a claim can fail; each registry row names its own in ``fails_under``
MODELS: dict[str, str] = {
    "calibrated": "the paper's world, as calibrated",
    "null_treatment": "the infusion has no effect on any measure (the MSCT arm behaves like control)",
    "null_ifng": "IFN-γ unrelated to response (its profiles shuffled across the MSCT arm)",
    "null_mechanism": "the same clinical responders, but their cells, cytokines, autoantibodies, IFN-γ and labs "
                      "drawn like non-responders'",
    "harm": "MSCT causes a serious adverse event, GVHD or infection in 5 % of treated patients each, doubles "
            "the other adverse events and worsens each lab by one equivalence margin at the final visit",
    "placebo_response": "controls improve their DAS28 by about 0.6 by the response week",
    "imbalance": "responders and non-responders differ by 0.5 baseline SD at week 0",
    "time_null": "no marker (cells, cytokines, autoantibodies, IFN-γ, labs) changes over time",
    "shift": "each marker the paper calls unchanged moves by one equivalence margin by the final visit",
}

#: a token in :attr:`Section.needs_any` that stands for every safety-lab column of the data dictionary (the
#: columns with a normal range); :mod:`analysis.science.sections` resolves it (core reads no dictionary)
LABS = "<safety labs>"

_CYTOKINES = ("il_1b", "il_2r", "il_6", "il_8", "il_10", "tnf_a")
_CELLS = ("treg_pct", "th17_pct")


@dataclass(frozen=True)
class Section:
    """One section of a chapter and the columns it needs.

    Attributes
    ----------
    id : str
        ``"<short chapter name>.<name>"``, e.g. ``"immune.cells"``.
    chapter : str
        The chapter (``book/<chapter>.ipynb``) that shows it.
    title : str
        The section's heading.
    needs : tuple of str
        Columns that must all have values.
    needs_any : tuple of str
        Columns of which at least one must have values (a panel of which any member is enough); :data:`LABS`
        stands for the safety labs.
    """

    id: str
    chapter: str
    title: str
    needs: tuple[str, ...] = ()
    needs_any: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chapter:
    """A chapter of the book (``book/<notebook>``) and what the rest of the package needs to know of it.

    Attributes
    ----------
    name, notebook, title : str
        The chapter's name (also its claims file ``data/published/claims/<name>.csv`` and results folder),
        its notebook under ``book/`` and its title.
    package : str or None
        The package that computes it (``analysis.chapters.<name>``; its ``verdicts`` module has
        ``evaluate(cohort, params)``); ``None`` for a chapter with no claims of its own (the scorecard).
    uses_data : bool
        Whether the notebook reads the data folder (the audit and the scorecard do not).
    phase : int
        Phase-2 chapters run after every phase-1 chapter (they read their results).
    cost : float
        Relative cost of executing the notebook (about its seconds on the shipped cohort, 2-core machine,
        November 2026): only the order in which the build starts chapters depends on it (longest first, so that
        the parallel slots end together); any other value gives the same book.
    sections : tuple of Section
        The sections that need more than the DAS28 components, in page order.
    multiverse : tuple of (option, values)
        The analysis options the robustness multiverse varies for this chapter (default first).
    """

    name: str
    notebook: str
    title: str
    package: str | None = None
    uses_data: bool = True
    phase: int = 1
    cost: float = 1.0
    sections: tuple[Section, ...] = ()
    multiverse: dict[str, tuple] = field(default_factory=dict, hash=False, compare=False)

    @property
    def verdicts_module(self) -> str | None:
        """The module with the chapter's ``evaluate(cohort, params)`` (``None`` without a package)."""
        return None if self.package is None else f"{self.package}.verdicts"


def _sections(chapter_name: str, *rows: tuple) -> tuple[Section, ...]:
    return tuple(Section(f"{prefix}.{name}", chapter_name, title, *needs) for prefix, name, title, *needs in rows)


_NO_NEEDS: tuple = ()
_ALPHA = (0.05, 0.01)
_DAS28 = ("esr", "crp")

CHAPTERS: tuple[Chapter, ...] = (
    Chapter(
        "safety", "safety.ipynb", "Safety and trial profile", package="analysis.chapters.safety", cost=2.8,
        sections=_sections(
            "safety",
            ("safety", "flow", "Trial profile"),
            ("safety", "baseline", "Baseline characteristics"),
            ("safety", "labs", "Safety laboratory values (the paper's Table 1)", _NO_NEEDS, (LABS,)),
            ("safety", "adverse_events", "Adverse events"),
        ),
        multiverse={"das28_variant": _DAS28, "alpha": _ALPHA, "table1_test": ("paired", "unpaired")},
    ),
    Chapter(
        "disease_activity", "disease_activity.ipynb", "Disease activity",
        package="analysis.chapters.disease_activity", cost=3.6,
        sections=_sections(
            "disease_activity",
            ("activity", "groups", "Groups: the EULAR response"),
            ("activity", "outcomes", "DAS28, HAQ, ESR and CRP over time"),
            ("activity", "haq", "HAQ (disability)", ("haq_di",)),
            ("activity", "relapse", "Relapse", ("esr_mm_h", "crp_mg_l")),
            ("activity", "prednisone", "Prednisone", ("prednisone_mg_day",)),
        ),
        multiverse={"das28_variant": _DAS28, "alpha": _ALPHA, "test_rule": ("skew", "shapiro", "parametric", "rank"),
                    "missing": ("complete_case", "available_case", "locf"), "relapse_require_labs": (True, False)},
    ),
    Chapter(
        "immune", "immune.ipynb", "Immune function", package="analysis.chapters.immune", cost=3.9,
        sections=_sections(
            "immune",
            ("immune", "autoantibodies", "Autoantibodies: anti-CCP and RF", _NO_NEEDS, ("anti_ccp_u_ml", "rf_iu_ml")),
            ("immune", "cells", "Tregs and Th17 cells", _CELLS),
            ("immune", "ratio", "The Treg/Th17 ratio, patient by patient", _CELLS),
        ),
        multiverse={"das28_variant": _DAS28, "alpha": _ALPHA, "uloq_rule": ("cap", "exclude")},
    ),
    Chapter(
        "inflammation", "inflammation.ipynb", "Inflammation", package="analysis.chapters.inflammation", cost=5.2,
        sections=_sections(
            "inflammation",
            ("inflammation", "cytokines", "The cytokines over time", _NO_NEEDS, _CYTOKINES),
        ),
        multiverse={"alpha": _ALPHA, "lloq_rule": ("half", "lloq", "exclude")},
    ),
    Chapter(
        "ifng", "ifng.ipynb", "IFN-γ as a predictor of response", package="analysis.chapters.ifng", cost=2.9,
        sections=_sections(
            "ifng",
            ("ifng", "high", "IFN-γ before and after the infusion (Fig. 5a, 5f, the diagnostic test, the baseline "
             "analysis)", ("ifn_g",)),
            ("ifng", "markers", "Immune markers over time in the two subgroups (Fig. 5b–e)", ("ifn_g",),
             _CELLS + _CYTOKINES),
        ),
        multiverse={"das28_variant": _DAS28, "alpha": _ALPHA, "lloq_rule": ("half", "lloq", "exclude"),
                    "ifng_threshold_pg_ml": (2.0, 1.5, 3.0)},
    ),
    Chapter(
        "audit", "audit.ipynb", "Audit of the published statistics", package="analysis.chapters.audit",
        uses_data=False, cost=1.4, multiverse={"alpha": _ALPHA},
    ),
    Chapter("scorecard", "scorecard.ipynb", "Reproduction scorecard", uses_data=False, phase=2, cost=0.7),
    # the paper's effects at a trial's design (issue 32): reads only a design result in results/robustness
    Chapter("planning", "planning.ipynb", "Planning a replication", uses_data=False, phase=2, cost=0.3),
)

#: chapters that judge claims of the paper (``data/published/claims/<name>.csv``): every phase-1 chapter
CLAIM_CHAPTERS: tuple[str, ...] = tuple(c.name for c in CHAPTERS if c.phase == 1)


def chapter(name: str) -> Chapter:
    """The registry row of chapter ``name``.

    Examples
    --------
    >>> chapter("audit").uses_data
    False
    >>> chapter("nope")
    Traceback (most recent call last):
    ...
    ValueError: `name` must be one of safety, disease_activity, immune, inflammation, ifng, audit, scorecard, planning; got 'nope'
    """
    for c in CHAPTERS:
        if c.name == name:
            return c
    raise ValueError(f"`name` must be one of {', '.join(c.name for c in CHAPTERS)}; got {name!r}")

