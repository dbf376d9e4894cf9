"""Suggested focus areas of a unit's plan: its items to follow up and what works
(`docs/scoring.md`), found from published figures only, and kept as item ids, never as a
number.

A hidden unit has no figures of its own (`docs/suppression.md`). Its plan gets the focus
areas of its roll-up (the sum of its published sub-units) when it has one, else those of
its nearest published ancestor; either way labelled with where they come from."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from forbedring_contracts.events import (
    PublishedUnitResults,
    ScaleItemResult,
    SuppressedUnitResults,
)
from forbedring_contracts.scoring import follow_up_items, strengths

Results = PublishedUnitResults | SuppressedUnitResults
Source = Literal["own", "roll_up", "ancestor", "none"]


@dataclass(frozen=True)
class Area:
    ref_id: str
    """The item's id."""
    kind: Literal["follow_up", "strength"]
    factor_id: str | None


@dataclass(frozen=True)
class Suggestion:
    source: Source
    source_unit_id: str | None
    """The unit whose figures gave them: the unit itself, or (hidden) itself through its
    roll-up, or its nearest published ancestor; None when nothing is known."""
    areas: tuple[Area, ...]


def _areas(
    items: Sequence[object], *, reverse_scored: frozenset[str], factors: Mapping[str, str | None]
) -> tuple[Area, ...]:
    scale = [i for i in items if isinstance(i, ScaleItemResult)]
    flagged = follow_up_items(scale, reverse_scored=reverse_scored)
    best = strengths(scale, set(flagged))
    return tuple(
        [Area(i, "follow_up", factors.get(i)) for i in flagged]
        + [Area(i, "strength", factors.get(i)) for i in best]
    )


def suggest(
    unit_id: str,
    *,
    results: Mapping[str, Results],
    parents: Mapping[str, str | None],
    reverse_scored: frozenset[str],
    factors: Mapping[str, str | None],
) -> Suggestion:
    """The focus areas to suggest for `unit_id`'s plan. `results` holds the period's
    unit results by unit, `parents` the tree, `factors` each item's factor."""
    own = results.get(unit_id)
    if isinstance(own, PublishedUnitResults):
        return Suggestion(
            "own", unit_id, _areas(own.items, reverse_scored=reverse_scored, factors=factors)
        )
    if isinstance(own, SuppressedUnitResults) and own.roll_up is not None:
        return Suggestion(
            "roll_up",
            unit_id,
            _areas(own.roll_up.items, reverse_scored=reverse_scored, factors=factors),
        )
    seen: set[str] = {unit_id}
    parent = parents.get(unit_id)
    while parent is not None and parent not in seen:
        seen.add(parent)
        above = results.get(parent)
        if isinstance(above, PublishedUnitResults):
            return Suggestion(
                "ancestor",
                parent,
                _areas(above.items, reverse_scored=reverse_scored, factors=factors),
            )
        parent = parents.get(parent)
    return Suggestion("none", None, ())
