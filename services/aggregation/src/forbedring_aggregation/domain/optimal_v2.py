"""The second edition's suppression rule (`optimal_v2`): among the safe patterns, the one
that costs the people least, found exactly by dynamic programming over the tree
(docs/suppression.md, "Second edition").

Safe means: the root is published, no unit with n(u) < k is published, and every
published unit's atom r(y) is 0 or at least k.

The cost of a pattern, compared in this order:
1. respondents whose own unit gets no report: the sum of d(u) over hidden units;
2. the number of hidden units;
3. (tie-break) the sum of n(u) over hidden units: of two otherwise equal patterns, the
   one that hides the smaller units;
4. (tie-break) the first in the reconstruction order: from the root down, the children
   of a unit are settled in id order, each published if an optimal pattern allows it
   given the siblings settled before it, else hidden carrying as little as it can.
Each key is a sum over hidden units, so the first three fold into one integer per
unit (`_Weights`) and the DP stays a plain minimum.

State of a subtree: what it carries up to its nearest published ancestor, capped at k
(0, 1, ..., k-1, "k or more" = k). A hidden unit carries d(u) plus its children's
carries; a published one carries 0 and needs n(u) >= k and d(u) + its children's carries
equal to 0 or at least k. Children combine like a knapsack over the capped sum, so a
unit costs O(children x k^2) and the whole tree O(units x k^2); most units are leaves
with at most two states, and 10,000 units take well under a second at k = 10.
"""

from __future__ import annotations

from dataclasses import dataclass

from forbedring_aggregation.domain.unit_tree import UnitTree


@dataclass(frozen=True)
class _Weights:
    """Integer weights that make "sum of weights" compare like the cost keys 1-3."""

    per_direct: int
    per_unit: int

    @classmethod
    def of(cls, tree: UnitTree) -> _Weights:
        per_unit = sum(tree.respondents.values()) + 1  # beats any sum of n over hidden
        return cls(per_direct=(len(tree.postorder) + 1) * per_unit, per_unit=per_unit)

    def hidden(self, tree: UnitTree, unit: str) -> int:
        return tree.direct[unit] * self.per_direct + self.per_unit + tree.respondents[unit]


# A knapsack step's back pointer: (children's state before this child, the child's
# carry, whether the child is published).
_Back = tuple[int, int, bool]


def optimal_pattern(tree: UnitTree, k: int) -> set[str]:
    """The published set P of the optimal safe pattern for threshold k (empty when
    n(root) < k: nothing can be published)."""
    n, d = tree.respondents, tree.direct
    if n[tree.root] < k:
        return set()
    weights = _Weights.of(tree)

    published_cost: dict[str, int] = {}  # absent: the unit cannot be published
    published_from: dict[str, int] = {}  # the children's carry it was published over
    hidden_cost: dict[str, dict[int, int]] = {}  # carry -> least cost of the subtree
    hidden_from: dict[str, dict[int, int]] = {}  # carry -> the children's carry
    steps: dict[str, list[dict[int, _Back]]] = {}  # per child, for the reconstruction

    for u in tree.postorder:
        # Children in reverse id order, so that unwinding the steps settles them in id order.
        table: dict[int, int] = {0: 0}
        backs: list[dict[int, _Back]] = []
        for child in reversed(tree.children[u]):
            options = [(carry, cost, False) for carry, cost in hidden_cost.pop(child).items()]
            if child in published_cost:
                options.append((0, published_cost[child], True))
            best: dict[int, tuple[int, tuple[bool, int, int]]] = {}
            back: dict[int, _Back] = {}
            for before, cost_before in table.items():
                for carry, cost, published in options:
                    state = min(k, before + carry)
                    # Equal cost: publish the child, else let it carry least.
                    candidate = (cost_before + cost, (not published, carry, before))
                    if state not in best or candidate < best[state]:
                        best[state] = candidate
                        back[state] = (before, carry, published)
            table = {state: cost for state, (cost, _) in best.items()}
            backs.append(back)
        steps[u] = backs

        if n[u] >= k:
            allowed = [s for s in sorted(table) if d[u] + s == 0 or d[u] + s >= k]
            if allowed:
                chosen = min(allowed, key=lambda s: (table[s], s))
                published_cost[u], published_from[u] = table[chosen], chosen
        hide = weights.hidden(tree, u)
        costs: dict[int, int] = {}
        origin: dict[int, int] = {}
        for s in sorted(table):
            carry = min(k, d[u] + s)
            if carry not in costs or table[s] + hide < costs[carry]:
                costs[carry], origin[carry] = table[s] + hide, s
        hidden_cost[u], hidden_from[u] = costs, origin

    return _reconstruct(tree, published_from, hidden_from, steps)


def _reconstruct(
    tree: UnitTree,
    published_from: dict[str, int],
    hidden_from: dict[str, dict[int, int]],
    steps: dict[str, list[dict[int, _Back]]],
) -> set[str]:
    published: set[str] = set()
    pending: list[tuple[str, bool, int]] = [(tree.root, True, 0)]
    while pending:
        unit, is_published, carry = pending.pop()
        if is_published:
            published.add(unit)
            state = published_from[unit]
        else:
            state = hidden_from[unit][carry]
        # The steps were taken in reverse id order; unwinding them from the last goes
        # through the children in id order.
        order = tuple(reversed(tree.children[unit]))
        for index in range(len(order) - 1, -1, -1):
            before, child_carry, child_published = steps[unit][index][state]
            pending.append((order[index], child_published, child_carry))
            state = before
    return published
