"""Small-unit suppression that survives subtraction (docs/suppression.md).

A unit with fewer than k respondents gets no results, and its answers still count in
the level above. Hiding only those units leaks by subtraction (P - A = B), so a pattern
is safe only if, for every published unit y, its atom r(y) = n(y) - sum of n(z) over its
nearest published descendants NPD(y) is 0 or at least k. Two rules choose the pattern:

- `optimal_v2` (the second edition, used for every period closed now;
  `optimal_v2.py`): the safe pattern leaving the fewest respondents without their own
  unit's report, then hiding the fewest units, with a documented tie-break;
- `greedy_v1` (the first edition, `greedy_v1.py`): kept so that a snapshot it finalised
  is rebuilt byte for byte.

Every run ends with the independent audit of `audit.py`; a failing audit raises
`SuppressionAuditError`. Pure Python: no I/O, no framework, nothing mutable escapes.

When n(root) < k (early in a period, or a tiny enterprise) nothing can be published
without revealing fewer than k people's answers: every unit is suppressed with
`included_in` = None. The audit enforces exactly this.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from forbedring_aggregation.domain.audit import audit_publication
from forbedring_aggregation.domain.greedy_v1 import greedy_pattern
from forbedring_aggregation.domain.optimal_v2 import optimal_pattern
from forbedring_aggregation.domain.unit_tree import (
    InvalidUnitTreeError,
    UnitNode,
    UnitTree,
    build_unit_tree,
)

__all__ = [
    "DEFAULT_K",
    "SENSITIVE_K",
    "InvalidUnitTreeError",
    "SuppressionAuditError",
    "SuppressionCost",
    "SuppressionMethod",
    "SuppressionReason",
    "SuppressionResult",
    "UnitNode",
    "UnitTree",
    "build_unit_tree",
    "compute_sensitive_suppression",
    "compute_suppression",
    "item_statistic_publishable",
]

DEFAULT_K = 5
"""The procedure's threshold: fewer than 5 respondents get no results."""

SENSITIVE_K = 10
"""Default threshold for the sensitive yes/no items (bullying, harassment, violence)."""

_MAX_PROBLEMS_IN_MESSAGE = 50


class SuppressionMethod(enum.StrEnum):
    """The rule that chooses the pattern; a snapshot records the one that finalised it."""

    GREEDY_V1 = "greedy_v1"
    OPTIMAL_V2 = "optimal_v2"


class SuppressionAuditError(RuntimeError):
    """The computed pattern failed the independent audit. This is a bug, never input."""

    def __init__(self, violations: Iterable[str]) -> None:
        self.violations: tuple[str, ...] = tuple(violations)
        super().__init__(
            "suppression pattern failed the independent audit:\n"
            + "\n".join(f"  - {v}" for v in self.violations[:_MAX_PROBLEMS_IN_MESSAGE])
        )


class SuppressionReason(enum.StrEnum):
    """Why a unit gets no results (shown to users, never a number derived from answers)."""

    BELOW_THRESHOLD = "below_threshold"
    """n(u) < k: fewer than k answered (primary suppression)."""
    DIRECT_ANSWERS_TOO_FEW = "direct_answers_too_few"
    """n(u) >= k, but its own answers, those in no published sub-unit, are between 0 and
    k: published, they could be computed by subtraction; they count in its nearest
    published ancestor instead (second edition only)."""
    COMPLEMENTARY = "complementary"
    """n(u) >= k, but publishing it would let a smaller group be computed by subtraction."""


@dataclass(frozen=True)
class SuppressionCost:
    """What a pattern costs the people: the quantities the second edition minimises."""

    respondents_without_own_report: int
    """The sum of d(u) over hidden units: respondents whose own unit gets no report."""
    units_hidden: int
    teams_hidden: int
    """Hidden leaf units (cost centres: the teams that hold the results discussion)."""


@dataclass(frozen=True)
class SuppressionResult:
    """The suppression pattern of one table (one release of one period).

    `included_in` maps every suppressed unit to the published unit whose results include
    its answers: its nearest published ancestor (None only when nothing is published).
    `sub_units` maps every suppressed unit to its nearest published descendants (by id;
    empty when it has none): what its roll-up covers. `remainders` gives r(y), the atom
    size, of every published unit. Counts are public (participation), so nothing here is
    derived from answers.
    """

    k: int
    method: SuppressionMethod
    root: str
    published: frozenset[str]
    suppressed: frozenset[str]
    included_in: Mapping[str, str | None] = field(hash=False)
    reasons: Mapping[str, SuppressionReason] = field(hash=False)
    sub_units: Mapping[str, tuple[str, ...]] = field(hash=False)
    respondents: Mapping[str, int] = field(hash=False)
    remainders: Mapping[str, int] = field(hash=False)
    cost: SuppressionCost

    def is_published(self, unit_id: str) -> bool:
        return unit_id in self.published

    def preview(self) -> dict[str, list[str]]:
        """`{"published": [...], "suppressed": [...]}` with sorted ids (the CLI output)."""
        return {"published": sorted(self.published), "suppressed": sorted(self.suppressed)}


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")


def compute_suppression(
    units: Iterable[UnitNode] | UnitTree,
    k: int = DEFAULT_K,
    *,
    method: SuppressionMethod = SuppressionMethod.OPTIMAL_V2,
) -> SuppressionResult:
    """Which units of one table get results, with threshold k, under `method`.

    `units` is either the units (validated here) or a tree from `build_unit_tree`, so a
    caller running several tables over the same tree validates it once. The result is
    checked by the independent audit before it is returned; a failure raises
    `SuppressionAuditError` (it would be a bug, never a property of the input).
    """
    _check_k(k)
    tree = units if isinstance(units, UnitTree) else build_unit_tree(units)
    method = SuppressionMethod(method)
    if method is SuppressionMethod.OPTIMAL_V2:
        published = optimal_pattern(tree, k)
    else:
        published = greedy_pattern(tree, k)
    result = _describe(tree, k, method, published)
    report = audit_publication(
        tree.units,
        k,
        result.published,
        suppressed=result.suppressed,
        included_in=result.included_in,
    )
    if not report.ok:
        raise SuppressionAuditError(report.violations)
    return result


def _describe(
    tree: UnitTree, k: int, method: SuppressionMethod, published: set[str]
) -> SuppressionResult:
    """Everything a caller needs to know about a pattern: one pass up, one pass down."""
    n, d = tree.respondents, tree.direct
    carry: dict[str, int] = {}  # what a hidden unit adds to its nearest published ancestor
    remainders: dict[str, int] = {}
    sub_units: dict[str, tuple[str, ...]] = {}
    for uid in tree.postorder:
        own = d[uid] + sum(carry[c] for c in tree.children[uid])
        if uid in published:
            remainders[uid] = own
            carry[uid] = 0
        else:
            carry[uid] = own
            below: list[str] = []
            for c in tree.children[uid]:
                below.extend((c,) if c in published else sub_units[c])
            sub_units[uid] = tuple(sorted(below))

    included_in: dict[str, str | None] = {}
    reasons: dict[str, SuppressionReason] = {}
    for uid in reversed(tree.postorder):  # every parent before its children
        if uid in published:
            continue
        p = tree.parent[uid]
        included_in[uid] = None if p is None else (p if p in published else included_in[p])
        if n[uid] < k:
            reasons[uid] = SuppressionReason.BELOW_THRESHOLD
        elif method is SuppressionMethod.OPTIMAL_V2 and 0 < carry[uid] < k:
            reasons[uid] = SuppressionReason.DIRECT_ANSWERS_TOO_FEW
        else:
            reasons[uid] = SuppressionReason.COMPLEMENTARY

    hidden = included_in.keys()
    return SuppressionResult(
        k=k,
        method=method,
        root=tree.root,
        published=frozenset(published),
        suppressed=frozenset(hidden),
        included_in=MappingProxyType(dict(sorted(included_in.items()))),
        reasons=MappingProxyType(dict(sorted(reasons.items()))),
        sub_units=MappingProxyType(dict(sorted(sub_units.items()))),
        respondents=tree.respondents,
        remainders=MappingProxyType(dict(sorted(remainders.items()))),
        cost=SuppressionCost(
            respondents_without_own_report=sum(d[u] for u in hidden),
            units_hidden=len(hidden),
            teams_hidden=sum(1 for u in hidden if not tree.children[u]),
        ),
    )


def compute_sensitive_suppression(
    units: Iterable[UnitNode] | UnitTree,
    k: int = SENSITIVE_K,
    *,
    method: SuppressionMethod = SuppressionMethod.OPTIMAL_V2,
) -> SuppressionResult:
    """The suppression pattern of the sensitive-items table (bullying, harassment,
    violence and threats): the same rule with its own, higher threshold, as a separate
    table. Its pattern governs only the sensitive items, and those items appear in no
    other table, so each item's answers are published under exactly one pattern and that
    pattern is safe on its own. Pass the direct counts of that table. A unit may well be
    published in the ordinary table and suppressed in this one.
    """
    return compute_suppression(units, k, method=method)


def item_statistic_publishable(*, distribution_published: bool, valid_answers: int, k: int) -> bool:
    """Per-item means and percentages are published only where the item's distribution
    is published (the unit is published in that table) and the item's valid answers,
    excluding "don't know", number at least k."""
    _check_k(k)
    return distribution_published and valid_answers >= k
