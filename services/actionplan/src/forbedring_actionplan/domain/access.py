"""Who may do what with a unit's plan, from the period's directory (the roles and the
members the survey sent in directory-updated; never who answered).

- the unit's leader edits it, and so do the leaders of every unit above it;
- the unit's safety and union representatives are involved: they read and comment;
- the employees invited for the unit read it once the results reach every employee
  (release stage 2): the focus areas come from the results;
- HR admins read every plan.
Everyone else is refused."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

REPRESENTATIVES = frozenset({"safety_rep", "union_rep"})


@dataclass(frozen=True)
class Access:
    read: bool = False
    edit: bool = False
    comment: bool = False
    as_: str = "none"
    """How: leader, leader_above, representative, hr_admin, employee, none."""


def ancestors(unit_id: str, parents: Mapping[str, str | None]) -> list[str]:
    """The units above `unit_id`, nearest first (a cycle in bad data ends the walk)."""
    found: list[str] = []
    parent = parents.get(unit_id)
    while parent is not None and parent not in found and parent != unit_id:
        found.append(parent)
        parent = parents.get(parent)
    return found


def access(
    unit_id: str,
    *,
    roles: Iterable[tuple[str, str]],
    parents: Mapping[str, str | None],
    released_stage: int,
) -> Access:
    """`roles`: the person's (unit id, role) pairs, `member` for an invited employee."""
    held = set(roles)
    if (unit_id, "leader") in held:
        return Access(read=True, edit=True, comment=True, as_="leader")
    above = set(ancestors(unit_id, parents))
    if any(role == "leader" and unit in above for unit, role in held):
        return Access(read=True, edit=True, comment=True, as_="leader_above")
    if any(unit == unit_id and role in REPRESENTATIVES for unit, role in held):
        return Access(read=True, comment=True, as_="representative")
    if any(role == "hr_admin" for _, role in held):
        return Access(read=True, as_="hr_admin")
    if (unit_id, "member") in held and released_stage >= 2:
        return Access(read=True, as_="employee")
    return Access()


def is_hr_admin(roles: Iterable[tuple[str, str]]) -> bool:
    return any(role == "hr_admin" for _, role in roles)


def led_units(roles: Iterable[tuple[str, str]]) -> set[str]:
    return {unit for unit, role in roles if role == "leader"}


def descendants(unit_ids: Iterable[str], parents: Mapping[str, str | None]) -> list[str]:
    """Every unit below any of `unit_ids` (not themselves), by id."""
    children: dict[str, list[str]] = {}
    for unit, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(unit)
    start = set(unit_ids)
    found: set[str] = set()
    stack = list(start)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found and child not in start:
                found.add(child)
                stack.append(child)
    return sorted(found)
