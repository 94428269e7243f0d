"""The book's chapters, in reading order: the one registry the build, the claims and the scorecard share.

Examples
--------
>>> [c.name for c in CHAPTERS if c.phase == 2]
['scorecard']
>>> CLAIM_CHAPTERS[-1]
'audit'
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Chapter", "CHAPTERS", "CLAIM_CHAPTERS"]


@dataclass(frozen=True)
class Chapter:
    """A chapter notebook of the book (``book/<notebook>``)."""

    name: str
    notebook: str
    title: str
    uses_data: bool = True
    phase: int = 1  # phase-2 chapters run after all phase-1 chapters (they read their results)
    #: relative cost of executing the notebook (about its seconds on the shipped cohort, 2-core machine,
    #: November 2026): only the order in which the build starts the chapters depends on it (longest first,
    #: so that the parallel slots end together); nothing else, and any other value gives the same book
    cost: float = 1.0


CHAPTERS: tuple[Chapter, ...] = (
    Chapter("safety", "safety.ipynb", "Safety and trial profile", cost=2.8),
    Chapter("disease_activity", "disease_activity.ipynb", "Disease activity", cost=3.6),
    Chapter("immune", "immune.ipynb", "Immune function", cost=3.9),
    Chapter("inflammation", "inflammation.ipynb", "Inflammation", cost=5.2),
    Chapter("ifng", "ifng.ipynb", "IFN-γ as a predictor of response", cost=2.9),
    Chapter("audit", "audit.ipynb", "Audit of the published statistics", uses_data=False, cost=1.4),
    Chapter("scorecard", "scorecard.ipynb", "Reproduction scorecard", uses_data=False, phase=2, cost=0.7),
)

#: chapters that judge claims of the paper (``data/published/claims/<name>.csv``): every phase-1 chapter
CLAIM_CHAPTERS: tuple[str, ...] = tuple(c.name for c in CHAPTERS if c.phase == 1)
