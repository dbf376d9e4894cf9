"""The first edition's suppression rule (`greedy_v1`), kept so that a period finalised
by it is rebuilt byte for byte (docs/suppression.md, "First edition").

Start from every unit with n(u) >= k, then in postorder repair every published unit
whose atom r(y) is between 0 and k by hiding the smallest nearest published descendant
with a remainder, else the unit itself. Safe, but it hides whole teams to protect a
leader's direct answers; periods closed now use `optimal_v2`.

Complexity: each unit hands its parent "what the parent sees below me" ([u] if u is
published, else its merged list), so r(y) is O(1) once the children's lists are merged
(small-to-large); the repair loop keeps NPD(y) in two heaps, so each choice is
O(log |NPD(y)|). About 0.3 s for 20,000 units.
"""

from __future__ import annotations

import heapq

from forbedring_aggregation.domain.unit_tree import UnitTree


class GreedyRepairError(RuntimeError):
    """The root's remainder could not be repaired (cannot happen on a valid tree)."""


def _merge(parts: list[list[str]]) -> list[str]:
    """Concatenate, extending the longest list (small-to-large). Consumes `parts`."""
    if not parts:
        return []
    parts.sort(key=len, reverse=True)
    merged = parts[0]
    for part in parts[1:]:
        merged.extend(part)
    return merged


def greedy_pattern(tree: UnitTree, k: int) -> set[str]:
    """The first edition's published set P for threshold k.

    P := { u : n(u) >= k }
    for y in POSTORDER(tree):
        if y not in P: continue
        while 0 < r(y) < k:
            C := { z in NPD(y) : r(z) > 0 }
            if C non-empty: remove from P the z in C with the smallest (n(z), r(z), id(z))
            elif y is not the root: remove y from P; break
            else: remove from P the z in NPD(y) with the smallest (n(z), id(z))

    Invariants used for the incremental bookkeeping: once a unit z has been processed,
    NPD(z) and r(z) change only if z itself is removed (later loops only remove members
    of their own NPD, or their own unit); removing z from NPD(y) replaces it by NPD(z)
    and raises r(y) by exactly r(z).
    """
    n = tree.respondents
    published = {u for u in tree.postorder if n[u] >= k}
    if tree.root not in published:
        return set()

    remainder: dict[str, int] = {}  # r(y) of processed, still published y
    npd: dict[str, list[str]] = {}  # NPD(y) of processed, still published y
    # What the parent of a processed unit u sees of u's subtree: the NPD members it
    # contributes ([u] if u is published) and the sum of n over them.
    seen: dict[str, tuple[list[str], int]] = {}

    for y in tree.postorder:
        parts: list[list[str]] = []
        covered = 0
        for c in tree.children[y]:
            members, total = seen.pop(c)
            parts.append(members)
            covered += total
        below = _merge(parts)  # NPD(y) if y is published
        if y not in published:
            seen[y] = (below, covered)
            continue

        r_y = n[y] - covered
        keep = True
        if 0 < r_y < k:
            positive = [(n[z], remainder[z], z) for z in below if remainder[z] > 0]
            zero = [(n[z], z) for z in below if remainder[z] == 0]
            heapq.heapify(positive)
            heapq.heapify(zero)
            while 0 < r_y < k:
                if positive:  # C non-empty
                    _, _, z = heapq.heappop(positive)
                elif y != tree.root:
                    keep = False
                    break
                elif zero:
                    _, z = heapq.heappop(zero)
                else:  # pragma: no cover - NPD(root) empty means r(root) = n(root) >= k
                    raise GreedyRepairError(f"root {y!r}: remainder {r_y} cannot be fixed")
                published.discard(z)
                r_y += remainder.pop(z)
                for w in npd.pop(z):
                    if remainder[w] > 0:
                        heapq.heappush(positive, (n[w], remainder[w], w))
                    else:
                        heapq.heappush(zero, (n[w], w))
            below = [z for _, _, z in positive] + [z for _, z in zero]
            covered = n[y] - r_y

        if keep:
            remainder[y] = r_y
            npd[y] = below
            seen[y] = ([y], n[y])
        else:  # y's atom merges upward: its parent sees y's NPD instead of y
            published.discard(y)
            seen[y] = (below, covered)

    return published
