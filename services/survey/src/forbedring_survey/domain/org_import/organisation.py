"""The records of an import and the validated :class:`Organisation` they make up: the unit
tree, its people, their assignments and roles, and the invitations they give."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from forbedring_survey.domain.org_import.checks import check_records
from forbedring_survey.domain.org_import.vocabulary import (
    HR_LEVELS,
    ImportRefused,
    Language,
    Role,
    UnitKind,
)

# --- records ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unit:
    unit_id: str
    parent_id: str | None
    name: str
    kind: UnitKind

    @property
    def level(self) -> str:
        """The HR level code of the unit's kind (``1``, ``2.1``, ``2.2``, ``3``, ``4``)."""
        return HR_LEVELS[self.kind]


@dataclass(frozen=True, slots=True)
class Person:
    employee_id: str
    name: str
    email: str
    language: Language


@dataclass(frozen=True, slots=True)
class Assignment:
    employee_id: str
    unit_id: str
    position_percent: float


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    employee_id: str
    unit_id: str
    role: Role


@dataclass(frozen=True, slots=True)
class Invitation:
    """One survey to answer: a person, for one unit they are assigned to above 0 %."""

    employee_id: str
    unit_id: str
    position_percent: float


# --- the organisation ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class Organisation:
    """A validated organisation: the unit tree, its people, their assignments and roles.

    Constructing one validates it (raising :class:`ImportRefused`), so every
    ``Organisation`` is a single tree with known references and no duplicates. Equality
    compares the four tables, order included.
    """

    units: tuple[Unit, ...]
    people: tuple[Person, ...]
    assignments: tuple[Assignment, ...]
    roles: tuple[RoleAssignment, ...]

    _units_by_id: Mapping[str, Unit] = field(init=False, repr=False, compare=False)
    _people_by_id: Mapping[str, Person] = field(init=False, repr=False, compare=False)
    _children: Mapping[str, tuple[Unit, ...]] = field(init=False, repr=False, compare=False)
    _postorder: tuple[Unit, ...] = field(init=False, repr=False, compare=False)
    _invitations: tuple[Invitation, ...] = field(init=False, repr=False, compare=False)
    _eligible: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _assignments_by_person: Mapping[str, tuple[Assignment, ...]] = field(
        init=False, repr=False, compare=False
    )
    _roles_by_person: Mapping[str, tuple[RoleAssignment, ...]] = field(
        init=False, repr=False, compare=False
    )
    _roles_by_unit: Mapping[str, tuple[RoleAssignment, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for name in ("units", "people", "assignments", "roles"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        problems = check_records(self)
        if problems:
            raise ImportRefused(problems)
        self._index()

    @classmethod
    def _validated(
        cls,
        units: tuple[Unit, ...],
        people: tuple[Person, ...],
        assignments: tuple[Assignment, ...],
        roles: tuple[RoleAssignment, ...],
    ) -> Organisation:
        """An organisation from records the importer has just validated, without checking
        them a second time."""
        org = object.__new__(cls)
        object.__setattr__(org, "units", units)
        object.__setattr__(org, "people", people)
        object.__setattr__(org, "assignments", assignments)
        object.__setattr__(org, "roles", roles)
        org._index()
        return org

    def _index(self) -> None:
        units_by_id = {u.unit_id: u for u in self.units}
        children: dict[str, list[Unit]] = {u.unit_id: [] for u in self.units}
        for unit in self.units:
            if unit.parent_id is not None:
                children[unit.parent_id].append(unit)
        frozen_children = {uid: tuple(kids) for uid, kids in children.items()}

        root = next(u for u in self.units if u.parent_id is None)
        postorder: list[Unit] = []
        stack: list[tuple[Unit, bool]] = [(root, False)]
        while stack:
            unit, expanded = stack.pop()
            if expanded:
                postorder.append(unit)
                continue
            stack.append((unit, True))
            stack.extend((child, False) for child in reversed(frozen_children[unit.unit_id]))

        invitations = tuple(
            Invitation(a.employee_id, a.unit_id, a.position_percent)
            for a in self.assignments
            if a.position_percent > 0
        )
        eligible = dict.fromkeys(units_by_id, 0)
        for invitation in invitations:
            eligible[invitation.unit_id] += 1

        object.__setattr__(self, "_units_by_id", MappingProxyType(units_by_id))
        object.__setattr__(
            self, "_people_by_id", MappingProxyType({p.employee_id: p for p in self.people})
        )
        object.__setattr__(self, "_children", MappingProxyType(frozen_children))
        object.__setattr__(self, "_postorder", tuple(postorder))
        object.__setattr__(self, "_invitations", invitations)
        object.__setattr__(self, "_eligible", MappingProxyType(eligible))
        object.__setattr__(
            self, "_assignments_by_person", _group(self.assignments, lambda a: a.employee_id)
        )
        object.__setattr__(self, "_roles_by_person", _group(self.roles, lambda r: r.employee_id))
        object.__setattr__(self, "_roles_by_unit", _group(self.roles, lambda r: r.unit_id))

    def __repr__(self) -> str:
        return (
            f"Organisation(root={self.root.unit_id!r}, {len(self.units)} units, "
            f"{len(self.people)} people, {len(self.assignments)} assignments, "
            f"{len(self.roles)} roles)"
        )

    # units and the tree

    @property
    def root(self) -> Unit:
        """The one unit without a parent."""
        return self._postorder[-1]

    def unit(self, unit_id: str) -> Unit:
        """The unit with this id (``KeyError`` if there is none)."""
        return self._units_by_id[unit_id]

    def has_unit(self, unit_id: str) -> bool:
        return unit_id in self._units_by_id

    def parent(self, unit_id: str) -> Unit | None:
        """The unit's parent; ``None`` for the root."""
        parent_id = self._units_by_id[unit_id].parent_id
        return None if parent_id is None else self._units_by_id[parent_id]

    def children(self, unit_id: str) -> tuple[Unit, ...]:
        """The unit's direct sub-units, in import order."""
        return self._children[unit_id]

    def ancestors(self, unit_id: str) -> tuple[Unit, ...]:
        """The units above this one: its parent first, the root last (empty for the root)."""
        found: list[Unit] = []
        parent_id = self._units_by_id[unit_id].parent_id
        while parent_id is not None:
            parent = self._units_by_id[parent_id]
            found.append(parent)
            parent_id = parent.parent_id
        return tuple(found)

    def depth(self, unit_id: str) -> int:
        """0 for the root, 1 for its children, and so on."""
        return len(self.ancestors(unit_id))

    def postorder(self) -> tuple[Unit, ...]:
        """Every unit, each after all of its sub-units (the root last): the order in which
        to add counts up the tree. Siblings keep import order."""
        return self._postorder

    def preorder(self) -> tuple[Unit, ...]:
        """Every unit, each before its sub-units (the root first); siblings in import
        order."""
        return self.subtree(self.root.unit_id)

    def subtree(self, unit_id: str) -> tuple[Unit, ...]:
        """The unit and everything below it, in preorder."""
        found: list[Unit] = []
        stack = [self._units_by_id[unit_id]]
        while stack:
            unit = stack.pop()
            found.append(unit)
            stack.extend(reversed(self._children[unit.unit_id]))
        return tuple(found)

    # people, assignments and roles

    def person(self, employee_id: str) -> Person:
        """The person with this employee id (``KeyError`` if there is none)."""
        return self._people_by_id[employee_id]

    def has_person(self, employee_id: str) -> bool:
        return employee_id in self._people_by_id

    def assignments_of(self, employee_id: str) -> tuple[Assignment, ...]:
        """The person's assignments, in import order (empty for an unknown id)."""
        return self._assignments_by_person.get(employee_id, ())

    def roles_of(self, employee_id: str) -> tuple[RoleAssignment, ...]:
        """Every role the person holds, for any unit (empty for an unknown id)."""
        return self._roles_by_person.get(employee_id, ())

    def roles_for(self, unit_id: str) -> tuple[RoleAssignment, ...]:
        """Every role held for this unit itself, not its sub-units."""
        return self._roles_by_unit.get(unit_id, ())

    def holders(self, unit_id: str, role: Role) -> tuple[Person, ...]:
        """The people holding ``role`` for this unit."""
        return tuple(
            self._people_by_id[r.employee_id] for r in self.roles_for(unit_id) if r.role == role
        )

    # invitations

    def invitations(self) -> tuple[Invitation, ...]:
        """One invitation per assignment with a position above 0 %: someone in two units
        answers twice, once for each; someone at 0 % is not invited."""
        return self._invitations

    def eligible_counts(self) -> Mapping[str, int]:
        """Invitations per unit id for the unit itself, not its sub-units (every unit is
        present, 0 when nobody is invited there)."""
        return self._eligible

    def eligible(self, unit_id: str) -> int:
        """Invitations for the unit itself, not its sub-units."""
        return self._eligible[unit_id]

    def eligible_including_subunits(self) -> Mapping[str, int]:
        """Invitations per unit id for the unit and everything below it."""
        totals = dict(self._eligible)
        for unit in self._postorder:
            if unit.parent_id is not None:
                totals[unit.parent_id] += totals[unit.unit_id]
        return MappingProxyType(totals)


_T = TypeVar("_T")


def _group(items: Iterable[_T], key: Callable[[_T], str]) -> Mapping[str, tuple[_T, ...]]:
    groups: dict[str, list[_T]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return MappingProxyType({k: tuple(v) for k, v in groups.items()})
