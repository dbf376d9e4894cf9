"""Who gets which email, from the service's copy of a period's directory.

Recipients come from roles (leader, safety_rep, union_rep, hr_admin) and members (every
person invited for a unit). Nothing here can depend on who has answered: the directory
does not say it, and reminders go to every member of a unit.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Recipient:
    person_id: str
    name: str
    email: str
    language: str


@dataclass(frozen=True)
class UnitInfo:
    unit_id: str
    parent_id: str | None
    name: str


@dataclass
class Directory:
    """One period's directory: units, people, roles and members."""

    units: Mapping[str, UnitInfo]
    people: Mapping[str, Recipient]
    roles: Sequence[tuple[str, str, str]]
    """(unit_id, person_id, role)"""
    members: Sequence[tuple[str, str]]
    """(unit_id, person_id)"""
    _by_role: dict[str, dict[str, list[str]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        by_role: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for unit_id, person_id, role in self.roles:
            by_role[role][person_id].append(unit_id)
        self._by_role = {role: dict(units) for role, units in by_role.items()}

    def holders(self, roles: Iterable[str]) -> dict[str, list[str]]:
        """Person id to the units they hold any of `roles` for (sorted, distinct)."""
        found: dict[str, set[str]] = defaultdict(set)
        for role in roles:
            for person_id, units in self._by_role.get(role, {}).items():
                found[person_id].update(units)
        return {person: sorted(units) for person, units in sorted(found.items())}

    def leaders(self) -> dict[str, list[str]]:
        return self.holders(["leader"])

    def leaders_of(self, unit_id: str) -> list[str]:
        return sorted(p for p, units in self.leaders().items() if unit_id in units)

    def member_units(self) -> dict[str, list[str]]:
        """Person id to the units they are invited for (an invitation for each)."""
        found: dict[str, set[str]] = defaultdict(set)
        for unit_id, person_id in self.members:
            found[person_id].add(unit_id)
        return {person: sorted(units) for person, units in sorted(found.items())}

    def members_of(self, unit_id: str) -> list[str]:
        return sorted({p for u, p in self.members if u == unit_id})

    def unit_name(self, unit_id: str) -> str:
        unit = self.units.get(unit_id)
        return unit.name if unit else unit_id


def release_audience(directory: Directory, *, stage: int, audience: Sequence[str]) -> list[str]:
    """Stage 1: everyone holding a role the release names. Stage 2: every employee (every
    person invited for any unit); the role holders were told at stage 1."""
    if stage == 1:
        return sorted(directory.holders([role for role in audience if role != "employee"]))
    return sorted(directory.member_units())


def plan_audience(directory: Directory, unit_id: str) -> list[str]:
    """A unit's agreed plan concerns its staff and its representatives."""
    reps = {
        person
        for person, units in directory.holders(["safety_rep", "union_rep"]).items()
        if unit_id in units
    }
    return sorted(reps | set(directory.members_of(unit_id)))
