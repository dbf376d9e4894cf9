"""Independent audit of a publication pattern (docs/suppression.md).

Written deliberately unlike `suppression.py`, so that a mistake in one is unlikely to
be repeated in the other: it shares no code or types with it (units are anything with
`id`, `parent` and `direct`), does not use remainders, NPD sets or postorder, and
computes n(u) by peeling leaves (Kahn's algorithm) instead of by a depth-first walk.

The check itself is the atom argument of docs/suppression.md: because the org tree nests,
every respondent belongs to exactly one atom, the smallest published unit containing
them, i.e. the nearest published ancestor-or-self of the unit they answered for. Every
number computable from published aggregates is a combination of atom totals, and each
atom total is computable. So a pattern is safe iff every atom has 0 or >= k respondents.
The audit assigns each unit's direct respondents to their atom top-down and sums them.

It also checks: the root is published (when n(root) >= k; when n(root) < k nothing may
be published at all), no unit with n < k is published, published and suppressed
partition the units, and each suppressed unit is said to be included in its nearest
published ancestor.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol


class UnitLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def parent(self) -> str | None: ...

    @property
    def direct(self) -> int: ...


@dataclass(frozen=True)
class AuditReport:
    """`violations` is empty iff the pattern passed. `atom_totals` maps each published
    unit to the number of respondents whose smallest published unit it is."""

    violations: tuple[str, ...]
    atom_totals: Mapping[str, int] = field(hash=False, default_factory=lambda: MappingProxyType({}))

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass
class _Tree:
    root: str
    parent: dict[str, str | None]
    direct: dict[str, int]
    kids: dict[str, list[str]]
    total: dict[str, int]  # n(u)


def _load(units: Iterable[UnitLike]) -> _Tree | list[str]:
    """The tree, or the reasons it cannot be audited."""
    parent: dict[str, str | None] = {}
    direct: dict[str, int] = {}
    problems: list[str] = []
    for unit in units:
        if unit.id in parent:
            problems.append(f"duplicate unit {unit.id!r}")
        parent[unit.id] = unit.parent
        direct[unit.id] = unit.direct
        if unit.direct < 0:
            problems.append(f"unit {unit.id!r} has a negative count")
    roots = [u for u, p in parent.items() if p is None]
    if len(roots) != 1:
        problems.append(f"expected one root, found {len(roots)}")
    kids: dict[str, list[str]] = {u: [] for u in parent}
    for u, p in parent.items():
        if p is not None:
            if p not in kids:
                problems.append(f"unit {u!r} has an unknown parent {p!r}")
            else:
                kids[p].append(u)
    if problems:
        return problems

    # n(u) by peeling leaves: a unit is summed once all its children have been.
    waiting = {u: len(cs) for u, cs in kids.items()}
    total = dict(direct)
    ready = deque(u for u, w in waiting.items() if w == 0)
    peeled = 0
    while ready:
        u = ready.popleft()
        peeled += 1
        p = parent[u]
        if p is not None:
            total[p] += total[u]
            waiting[p] -= 1
            if waiting[p] == 0:
                ready.append(p)
    if peeled != len(parent):
        return ["the parent links contain a cycle"]
    return _Tree(root=roots[0], parent=parent, direct=direct, kids=kids, total=total)


def audit_publication(
    units: Iterable[UnitLike],
    k: int,
    published: Collection[str],
    *,
    suppressed: Collection[str] | None = None,
    included_in: Mapping[str, str | None] | None = None,
) -> AuditReport:
    """Check one table's publication pattern. Never raises on a bad pattern: the
    violations are returned, one human-readable line each."""
    loaded = _load(units)
    if isinstance(loaded, list):
        return AuditReport(tuple(f"not a unit tree: {p}" for p in loaded))
    tree = loaded
    out: list[str] = []
    pub = set(published)

    out.extend(f"published unit {u!r} is not in the tree" for u in sorted(pub - tree.parent.keys()))
    if suppressed is not None:
        sup = set(suppressed)
        out.extend(
            f"suppressed unit {u!r} is not in the tree" for u in sorted(sup - tree.parent.keys())
        )
        out.extend(f"unit {u!r} is both published and suppressed" for u in sorted(pub & sup))
        out.extend(
            f"unit {u!r} is neither published nor suppressed"
            for u in sorted(tree.parent.keys() - pub - sup)
        )

    if tree.total[tree.root] >= k and tree.root not in pub:
        out.append(f"the root {tree.root!r} is not published")
    if tree.total[tree.root] < k and pub:
        out.append(
            f"the whole table has {tree.total[tree.root]} < k={k} respondents, "
            "yet units are published"
        )
    out.extend(
        f"unit {u!r} is published with n={tree.total[u]} < k={k}"
        for u in sorted(pub & tree.parent.keys())
        if tree.total[u] < k
    )

    # Top-down: the atom of a unit's direct respondents is the unit itself if it is
    # published, else the atom of its parent (None above the root: nowhere published).
    atoms: dict[str, int] = {u: 0 for u in sorted(pub & tree.parent.keys())}
    queue: deque[tuple[str, str | None]] = deque([(tree.root, None)])
    while queue:
        u, above = queue.popleft()
        here = u if u in pub else above
        if here is not None:
            atoms[here] += tree.direct[u]
        queue.extend((c, here) for c in tree.kids[u])
        if included_in is not None and u not in pub and u in included_in:
            said = included_in[u]
            if said != above:
                out.append(
                    f"suppressed unit {u!r} is said to be included in {said!r}, "
                    f"but its nearest published ancestor is {above!r}"
                )
    for u, size in atoms.items():
        if 0 < size < k:
            out.append(
                f"published unit {u!r}: {size} respondent(s) are in it but in no published "
                f"unit below it, fewer than k={k}; subtraction reveals their answers"
            )
    return AuditReport(tuple(out), MappingProxyType(atoms))


def audit_releases(
    units: Iterable[UnitLike], k: int, releases: Sequence[Collection[str]]
) -> AuditReport:
    """Multi-release audit for a re-release (correction) of the same period.

    docs/suppression.md: group respondents by the set of published cells, across all
    releases, that contain them; every non-empty group must have >= k members.

    For one tree that grouping equals the atoms of the union U of all published sets:
    the cells containing a respondent are the units of U on their path to the root, and
    two such sets are equal exactly when the deepest unit of U on both paths, their
    nearest U-ancestor-or-self, is the same. So each release is audited on its own and
    the union is audited as if it were one release (differencing across releases is
    then no more powerful than within it).
    """
    unit_list = list(units)
    out: list[str] = []
    for index, release in enumerate(releases):
        report = audit_publication(unit_list, k, release)
        out.extend(f"release {index}: {v}" for v in report.violations)
    union: set[str] = set().union(*releases) if releases else set()
    combined = audit_publication(unit_list, k, union)
    out.extend(f"all releases together: {v}" for v in combined.violations)
    return AuditReport(tuple(out), combined.atom_totals)
