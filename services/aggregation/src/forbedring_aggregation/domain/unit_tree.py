"""The org tree of one table: validated once, with n(u) computed (docs/suppression.md).

Children are ordered by id and `postorder` lists children before parents, so every
algorithm over the tree is independent of the order the units were given in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

_MAX_PROBLEMS_IN_MESSAGE = 50


@dataclass(frozen=True, slots=True)
class UnitNode:
    """One unit of the org tree for one table.

    `parent` is None for the root (the enterprise). `direct` is d(u): respondents who
    answered directly for this unit (usually leaf cost centres, but any unit may have
    direct respondents). Values are checked by `build_unit_tree`, not here, so that
    every problem of a tree can be reported at once.
    """

    id: str
    parent: str | None
    direct: int


class InvalidUnitTreeError(ValueError):
    """The units do not form one valid tree; `problems` lists every problem found."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        shown = [f"  - {p}" for p in self.problems[:_MAX_PROBLEMS_IN_MESSAGE]]
        hidden = len(self.problems) - len(shown)
        if hidden > 0:
            shown.append(f"  ... and {hidden} more")
        super().__init__("invalid unit tree:\n" + "\n".join(shown))


@dataclass(frozen=True)
class UnitTree:
    """A validated unit tree with n(u) computed. Build it with `build_unit_tree`.

    Children are ordered by id and `postorder` lists children before parents, so every
    traversal is independent of the order the units were given in.
    """

    units: tuple[UnitNode, ...] = field(hash=False)
    root: str
    parent: Mapping[str, str | None] = field(hash=False)
    children: Mapping[str, tuple[str, ...]] = field(hash=False)
    direct: Mapping[str, int] = field(hash=False)
    respondents: Mapping[str, int] = field(hash=False)
    """n(u) = d(u) + sum of n(c) over the children c."""
    postorder: tuple[str, ...] = field(hash=False)


def _field_problems(unit: object, index: int) -> list[str]:
    if not isinstance(unit, UnitNode):
        return [f"item {index} is not a UnitNode: {unit!r}"]
    problems: list[str] = []
    label = f"unit {unit.id!r}" if isinstance(unit.id, str) and unit.id else f"item {index}"
    if not isinstance(unit.id, str) or not unit.id:
        problems.append(f"{label}: id must be a non-empty string, got {unit.id!r}")
    if unit.parent is not None and (not isinstance(unit.parent, str) or not unit.parent):
        problems.append(f"{label}: parent must be null or a non-empty string, got {unit.parent!r}")
    if isinstance(unit.direct, bool) or not isinstance(unit.direct, int):
        problems.append(f"{label}: direct must be an integer, got {unit.direct!r}")
    elif unit.direct < 0:
        problems.append(f"{label}: direct must be >= 0, got {unit.direct}")
    return problems


def _find_cycles(parent: Mapping[str, str | None]) -> list[list[str]]:
    """Every cycle of parent links, each listed from its smallest id, in id order."""
    state: dict[str, int] = {}  # 1 = on the current walk, 2 = finished
    cycles: list[list[str]] = []
    for start in sorted(parent):
        walk: list[str] = []
        node: str | None = start
        while node is not None and node in parent and state.get(node) is None:
            state[node] = 1
            walk.append(node)
            node = parent[node]
        if node is not None and state.get(node) == 1:
            cycle = walk[walk.index(node) :]
            pivot = cycle.index(min(cycle))
            cycles.append(cycle[pivot:] + cycle[:pivot])
        for visited in walk:
            state[visited] = 2
    return sorted(cycles)


def build_unit_tree(units: Iterable[UnitNode]) -> UnitTree:
    """Validate the units as one tree and compute n(u).

    Raises `InvalidUnitTreeError` listing every problem: bad field values, duplicate
    ids, unknown parents, cycles, and anything but exactly one root.
    """
    given = tuple(units)
    problems: list[str] = []
    nodes: dict[str, UnitNode] = {}  # first unit of each id whose id and parent are usable
    seen: set[str] = set()
    duplicates: dict[str, int] = {}
    for index, unit in enumerate(given):
        problems.extend(_field_problems(unit, index))
        if not isinstance(unit, UnitNode) or not isinstance(unit.id, str) or not unit.id:
            continue
        if unit.id in seen:
            duplicates[unit.id] = duplicates.get(unit.id, 1) + 1
            continue
        seen.add(unit.id)
        parent_ok = unit.parent is None or (isinstance(unit.parent, str) and unit.parent != "")
        if parent_ok:  # a bad count does not hide structural problems
            nodes[unit.id] = unit
    problems.extend(
        f"duplicate id {uid!r} ({count} units)" for uid, count in sorted(duplicates.items())
    )

    parent = {uid: unit.parent for uid, unit in nodes.items()}
    for uid in sorted(parent):
        p = parent[uid]
        if p is not None and p not in seen:
            problems.append(f"unit {uid!r}: unknown parent {p!r}")
    for cycle in _find_cycles(parent):
        problems.append("cycle: " + " -> ".join([*cycle, cycle[0]]))
    roots = sorted(uid for uid, p in parent.items() if p is None)
    if not given:
        problems.append("no units")
    elif not roots:
        problems.append("no root (a unit whose parent is null)")
    elif len(roots) > 1:
        problems.append(f"{len(roots)} roots (parent null), expected exactly one: {roots}")
    if problems:
        raise InvalidUnitTreeError(problems)

    root = roots[0]
    child_lists: dict[str, list[str]] = {uid: [] for uid in nodes}
    for uid in nodes:
        p = parent[uid]
        if p is not None:
            child_lists[p].append(uid)
    children = {uid: tuple(sorted(cs)) for uid, cs in child_lists.items()}

    # Iterative postorder: children (in id order) before their parent.
    postorder: list[str] = []
    stack: list[tuple[str, bool]] = [(root, False)]
    while stack:
        uid, expanded = stack.pop()
        if expanded:
            postorder.append(uid)
            continue
        stack.append((uid, True))
        stack.extend((c, False) for c in reversed(children[uid]))
    if len(postorder) != len(nodes):  # pragma: no cover - excluded by the checks above
        raise InvalidUnitTreeError(["some units are not reachable from the root"])

    direct = {uid: nodes[uid].direct for uid in nodes}
    respondents: dict[str, int] = {}
    for uid in postorder:
        respondents[uid] = direct[uid] + sum(respondents[c] for c in children[uid])

    return UnitTree(
        units=tuple(nodes[uid] for uid in postorder),
        root=root,
        parent=MappingProxyType(parent),
        children=MappingProxyType(children),
        direct=MappingProxyType(direct),
        respondents=MappingProxyType(respondents),
        postorder=tuple(postorder),
    )
