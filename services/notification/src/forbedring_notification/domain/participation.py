"""Participation as a leader's digest shows it: a unit's rate with its sub-units, against
its parent and the enterprise, and which units are at risk of getting no results.

Participation counts are public (anyone can follow them during the period), including a
small unit's. What is never shown, in a digest or any email, is a result: this service
does not even read them.
"""

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class UnitCounts:
    unit_id: str
    parent_id: str | None
    name: str
    eligible: int
    """Direct invitations (not counting sub-units)."""
    respondents: int
    """Direct responses so far."""


@dataclass(frozen=True)
class Rate:
    unit_id: str
    name: str
    respondents: int
    eligible: int
    at_risk: bool
    """Fewer than k have answered (in the unit and its sub-units): no results yet."""

    @property
    def percent(self) -> int | None:
        if self.eligible == 0:
            return None
        return round(100 * self.respondents / self.eligible)


@dataclass(frozen=True)
class Digest:
    unit: Rate
    sub_units: tuple[Rate, ...]
    parent: Rate | None
    enterprise: Rate | None
    at_risk: tuple[Rate, ...]
    """The unit and any sub-unit under k, deepest first in tree order."""


class Tree:
    """Totals over sub-trees of a period's units."""

    def __init__(self, units: Mapping[str, UnitCounts], *, k: int) -> None:
        self.units = units
        self.k = k
        self.children: dict[str, list[str]] = {u: [] for u in units}
        for unit in units.values():
            if unit.parent_id in self.children:
                self.children[unit.parent_id].append(unit.unit_id)
        for kids in self.children.values():
            kids.sort(key=lambda u: (units[u].name, u))
        self._totals: dict[str, tuple[int, int]] = {}

    def totals(self, unit_id: str) -> tuple[int, int]:
        """(respondents, eligible) of the unit and all its sub-units."""
        if unit_id not in self._totals:
            unit = self.units[unit_id]
            respondents, eligible = unit.respondents, unit.eligible
            stack = list(self.children[unit_id])
            while stack:
                child = stack.pop()
                respondents += self.units[child].respondents
                eligible += self.units[child].eligible
                stack.extend(self.children[child])
            self._totals[unit_id] = (respondents, eligible)
        return self._totals[unit_id]

    def rate(self, unit_id: str) -> Rate:
        respondents, eligible = self.totals(unit_id)
        return Rate(
            unit_id=unit_id,
            name=self.units[unit_id].name,
            respondents=respondents,
            eligible=eligible,
            at_risk=eligible > 0 and respondents < self.k,
        )

    def root(self) -> str | None:
        roots = sorted(u for u, unit in self.units.items() if unit.parent_id not in self.units)
        return roots[0] if roots else None

    def descendants(self, unit_id: str) -> list[str]:
        found: list[str] = []
        stack = list(reversed(self.children[unit_id]))
        while stack:
            child = stack.pop()
            found.append(child)
            stack.extend(reversed(self.children[child]))
        return found

    def digest(self, unit_id: str) -> Digest:
        """What the leader of `unit_id` reads: the unit, its direct sub-units, its parent
        and the enterprise; at risk: the unit or any unit below it under k."""
        unit = self.units[unit_id]
        root = self.root()
        parent = unit.parent_id if unit.parent_id in self.units else None
        at_risk = [
            rate
            for rate in (self.rate(u) for u in [unit_id, *self.descendants(unit_id)])
            if rate.at_risk
        ]
        return Digest(
            unit=self.rate(unit_id),
            sub_units=tuple(self.rate(child) for child in self.children[unit_id]),
            parent=self.rate(parent) if parent else None,
            enterprise=self.rate(root) if root and root not in (unit_id, parent) else None,
            at_risk=tuple(at_risk),
        )
