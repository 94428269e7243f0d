"""The study design as data: visit weeks, the response and final weeks, and the paper's landmark weeks.

A data folder's ``dataset.yaml`` may describe its trial under ``design:``; every key is optional and the
defaults are the paper's design (visits at weeks 0, 1, 2, 3, 4, 12, 24 and 48; EULAR response judged at
week 12; last visit at week 48). Every chapter reads its weeks from one :class:`Design`; a literal 12, 24
or 48 in analysis code is a bug.

The paper names weeks in its claims ("at 12 weeks", "for 48 weeks", "relapse at 24 weeks", "4 weeks
after MSCT"). :meth:`Design.paper_week` maps each such *landmark* to the design's corresponding visit,
or to ``None`` when the design has no such visit (the claim is then "not testable with these data").

Examples
--------
>>> d = Design()
>>> d.visit_weeks, d.response_week, d.final_week
((0, 1, 2, 3, 4, 12, 24, 48), 12, 48)
>>> d2 = Design.from_mapping({"visit_weeks": [0, 2, 4, 8, 12, 24], "final_week": 24})
>>> d2.paper_week(48), d2.paper_week(12), d2.paper_week(24), d2.paper_week(3)
(24, 12, 24, None)
>>> d2.describe_weeks()
'0, 2, 4, 8, 12, 24'
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping

__all__ = ["DESIGN_KEYS", "PAPER", "Design", "DesignError", "design_from_meta"]

#: the keys accepted under ``design:`` in ``dataset.yaml`` (and as ``-p`` overrides of one build)
DESIGN_KEYS: tuple[str, ...] = (
    "visit_weeks", "response_week", "final_week", "early_window_weeks", "relapse_week",
)


class DesignError(ValueError):
    """A ``design:`` block that breaks a rule; ``key`` names the offending key, ``rule`` says what is wrong."""

    def __init__(self, key: str, message: str):
        super().__init__(f"dataset.yaml, design.{key}: {message}")
        self.key = key
        self.rule = message


@dataclass(frozen=True)
class Design:
    """The schedule of one trial.

    Attributes
    ----------
    visit_weeks : tuple of int
        Scheduled visits, ascending, starting with 0 (baseline, before the infusion).
    response_week : int
        Visit at which the EULAR response is judged against week 0 (the paper: 12).
    final_week : int
        Last scheduled visit; a patient never seen there is lost to follow-up (the paper: 48).
    early_window_weeks : int
        End of the early window after the infusion (the paper's "before and 4 weeks after MSCT"
        window of the IFN-γ peak; the paper: 4). Need not be a visit.
    relapse_week : int or None
        Visit at which relapse is judged (the paper: 24). ``None`` when the design has no visit
        between the response week and the final week that could play this part.
    """

    visit_weeks: tuple[int, ...] = (0, 1, 2, 3, 4, 12, 24, 48)
    response_week: int = 12
    final_week: int = 48
    early_window_weeks: int = 4
    relapse_week: int | None = 24
    source: str = field(default="the paper's design (defaults)", compare=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None, *, source: str = "dataset.yaml") -> "Design":
        """Build a design from a ``design:`` mapping; missing keys take the paper's values.

        Raises
        ------
        DesignError
            Naming the key and the rule broken (unknown key, not whole numbers, not ascending, no
            week 0, response or final week not a visit, response week not before the final week).

        Examples
        --------
        >>> Design.from_mapping({"visit_weeks": [0, 6, 12], "response_week": 6, "final_week": 12}).relapse_week
        12
        >>> Design.from_mapping({"response_week": 5})
        Traceback (most recent call last):
        ...
        analysis.core.design.DesignError: dataset.yaml, design.response_week: 5 is not one of the visit_weeks (0, 1, 2, 3, 4, 12, 24, 48)
        """
        mapping = dict(mapping or {})
        unknown = sorted(set(mapping) - set(DESIGN_KEYS))
        if unknown:
            raise DesignError(unknown[0], f"unknown key; allowed keys: {', '.join(DESIGN_KEYS)}")
        default = cls()
        weeks = mapping.get("visit_weeks", default.visit_weeks)
        if not isinstance(weeks, (list, tuple)) or not weeks:
            raise DesignError("visit_weeks", f"must be a list of whole weeks such as [0, 2, 4, 12], got {weeks!r}")
        weeks = tuple(_whole("visit_weeks", w) for w in weeks)
        if weeks[0] != 0:
            raise DesignError("visit_weeks", f"must start with 0 (the baseline visit, before the infusion), got {list(weeks)}")
        if any(b <= a for a, b in zip(weeks, weeks[1:])):
            raise DesignError("visit_weeks", f"must be strictly ascending without repeats, got {list(weeks)}")
        paper_like = weeks == default.visit_weeks
        final = _whole("final_week", mapping.get("final_week", weeks[-1] if not paper_like else default.final_week))
        if final not in weeks:
            raise DesignError("final_week", f"{final} is not one of the visit_weeks ({', '.join(map(str, weeks))})")
        resp_default = default.response_week if default.response_week in weeks and default.response_week < final else None
        if "response_week" not in mapping and resp_default is None:
            later = [w for w in weeks if 0 < w < final]
            resp_default = later[len(later) // 2] if later else final
        resp = _whole("response_week", mapping.get("response_week", resp_default))
        if resp not in weeks:
            raise DesignError("response_week", f"{resp} is not one of the visit_weeks ({', '.join(map(str, weeks))})")
        if resp <= 0 or resp > final:
            raise DesignError("response_week", f"{resp} must be after week 0 and not after final_week ({final})")
        early = _whole("early_window_weeks", mapping.get("early_window_weeks", min(default.early_window_weeks, resp)))
        if early <= 0 or early > resp:
            raise DesignError("early_window_weeks", f"{early} must be after week 0 and not after response_week ({resp})")
        if "relapse_week" in mapping and mapping["relapse_week"] is not None:
            relapse = _whole("relapse_week", mapping["relapse_week"])
            if relapse not in weeks or not resp < relapse <= final:
                raise DesignError("relapse_week", f"{relapse} must be a visit after response_week ({resp}) "
                                                  f"and not after final_week ({final})")
        else:
            between = [w for w in weeks if resp < w <= final]
            relapse = default.relapse_week if default.relapse_week in between else (between[0] if between else None)
            if between and relapse == final and len(between) > 1:
                relapse = between[0]
        return cls(visit_weeks=weeks, response_week=resp, final_week=final, early_window_weeks=early,
                   relapse_week=relapse, source=source)

    def with_overrides(self, **overrides: Any) -> "Design":
        """A copy with some keys replaced (``-p response_week=24`` for one build), checked again.

        Examples
        --------
        >>> Design().with_overrides(response_week=24).response_week
        24
        """
        overrides = {k: v for k, v in overrides.items() if v is not None}
        if not overrides:
            return self
        base = {k: getattr(self, k) for k in DESIGN_KEYS}
        base["visit_weeks"] = list(base["visit_weeks"])
        if "response_week" in overrides and "relapse_week" not in overrides:
            base.pop("relapse_week")
        base.update(overrides)
        return Design.from_mapping(base, source=self.source + " with -p overrides")

    # ------------------------------------------------------------------ the paper's landmarks
    def paper_week(self, week: int) -> int | None:
        """The design's visit that plays the part of the paper's ``week``, or ``None``.

        The paper's landmarks are 0 (baseline), 4 (end of the early window), 12 (response), 24
        (relapse) and 48 (final). Any other week of the paper maps to itself when it is a visit of
        this design, else to ``None``.

        Examples
        --------
        >>> Design().paper_week(12)
        12
        >>> Design.from_mapping({"visit_weeks": [0, 12, 24], "response_week": 12}).paper_week(48)
        24
        """
        landmark = {0: 0, 4: self.early_window_weeks, 12: self.response_week, 24: self.relapse_week,
                    48: self.final_week}
        target = landmark.get(int(week), int(week))
        return target if target is not None and target in self.visit_weeks else None

    @property
    def post_weeks(self) -> tuple[int, ...]:
        """Visits after baseline."""
        return tuple(w for w in self.visit_weeks if w > 0)

    @property
    def early_weeks(self) -> tuple[int, ...]:
        """Visits in the early window: baseline up to and including ``early_window_weeks``."""
        return tuple(w for w in self.visit_weeks if w <= self.early_window_weeks)

    @property
    def is_paper(self) -> bool:
        """True when this is the paper's schedule."""
        return self == Design()

    def describe_weeks(self) -> str:
        """The visit weeks as written: ``'0, 1, 2, 3, 4, 12, 24, 48'``."""
        return ", ".join(str(w) for w in self.visit_weeks)

    def as_dict(self) -> dict:
        """Plain values (for parameters, provenance and tables)."""
        out = asdict(self)
        out["visit_weeks"] = list(self.visit_weeks)
        out.pop("source")
        return out

    def replace(self, **kw: Any) -> "Design":
        """``dataclasses.replace`` without checks (for tests)."""
        return replace(self, **kw)


PAPER = Design()


def _whole(key: str, value: Any) -> int:
    """``value`` as a non-negative whole number of weeks, or a DesignError naming ``key``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value) or value < 0:
        raise DesignError(key, f"must be a whole number of weeks >= 0, got {value!r}")
    return int(value)


def design_from_meta(meta: Mapping[str, Any] | None) -> Design:
    """The design declared in a parsed ``dataset.yaml`` (its ``design:`` block), else the paper's.

    Examples
    --------
    >>> design_from_meta({}).is_paper
    True
    >>> design_from_meta({"design": {"visit_weeks": [0, 4, 8], "response_week": 4}}).final_week
    8
    """
    block = (meta or {}).get("design")
    if block is None:
        return Design()
    if not isinstance(block, Mapping):
        raise DesignError("design", f"must be a mapping of keys ({', '.join(DESIGN_KEYS)}), got {block!r}")
    return Design.from_mapping(block)
