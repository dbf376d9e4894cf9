"""Property tests over random trees, for both editions of the rule.

Oracles, all written here without reusing the module's code:
- the independent audit (atoms by nearest published ancestor-or-self) must pass, and
  the audit is also re-implemented in a few lines below to check it in turn;
- `literal_greedy` transcribes the first edition's pseudocode naively (NPD and r(y)
  recomputed from scratch every time): `greedy_v1` must give exactly its pattern;
- `brute_force_cost` tries every pattern of a small tree: `optimal_v2` must cost exactly
  the least a safe pattern can (docs/suppression.md, "What is minimised").
"""

import itertools
import random
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forbedring_aggregation.domain.audit import audit_publication
from forbedring_aggregation.domain.suppression import (
    SuppressionMethod,
    SuppressionReason,
    UnitNode,
    build_unit_tree,
    compute_suppression,
)

GREEDY = SuppressionMethod.GREEDY_V1

PROPERTY_SETTINGS = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

small_counts = st.one_of(st.just(0), st.integers(1, 4), st.integers(0, 12), st.integers(0, 40))


@st.composite
def unit_trees(draw: st.DrawFn, max_size: int = 40) -> list[UnitNode]:
    """Random trees: `span` = 1 gives a chain, large spans give bushy trees; ids are
    random strings, so id order is unrelated to the shape (exercises tie-breaks)."""
    size = draw(st.integers(1, max_size))
    ids = draw(
        st.lists(
            st.text(alphabet="abcdeXYZ", min_size=1, max_size=3),
            min_size=size,
            max_size=size,
            unique=True,
        )
    )
    span = draw(st.integers(1, size))
    out = [UnitNode(ids[0], None, draw(small_counts))]
    for i in range(1, size):
        parent = ids[draw(st.integers(max(0, i - span), i - 1))]
        out.append(UnitNode(ids[i], parent, draw(small_counts)))
    return out


def counts(tree: Sequence[UnitNode]) -> dict[str, int]:
    """n(u) by adding each unit's direct respondents to all its ancestors-or-self."""
    parent = {u.id: u.parent for u in tree}
    n = dict.fromkeys(parent, 0)
    for u in tree:
        node: str | None = u.id
        while node is not None:
            n[node] += u.direct
            node = parent[node]
    return n


def literal_greedy(tree: Sequence[UnitNode], k: int) -> set[str]:
    """The first edition's pseudocode (docs/suppression.md), as naively as possible."""
    n = counts(tree)
    children: dict[str, list[str]] = {u.id: [] for u in tree}
    root = ""
    for u in tree:
        if u.parent is None:
            root = u.id
        else:
            children[u.parent].append(u.id)
    published = {u for u in n if n[u] >= k}
    if root not in published:
        return set()

    def npd(y: str) -> list[str]:
        found, stack = [], list(children[y])
        while stack:
            c = stack.pop()
            if c in published:
                found.append(c)
            else:
                stack.extend(children[c])
        return found

    def r(y: str) -> int:
        return n[y] - sum(n[z] for z in npd(y))

    order: list[str] = []

    def visit(u: str) -> None:
        for c in children[u]:
            visit(c)
        order.append(u)

    visit(root)
    for y in order:
        if y not in published:
            continue
        while 0 < r(y) < k:
            candidates = [z for z in npd(y) if r(z) > 0]
            if candidates:
                published.remove(min(candidates, key=lambda z: (n[z], r(z), z)))
            elif y != root:
                published.remove(y)
                break
            else:
                published.remove(min(npd(y), key=lambda z: (n[z], z)))
    return published


def tiny_audit(tree: Sequence[UnitNode], k: int, published: set[str]) -> bool:
    """Every respondent group counted at its nearest published ancestor-or-self."""
    parent = {u.id: u.parent for u in tree}
    atoms: dict[str, int] = {}
    for u in tree:
        node: str | None = u.id
        while node is not None and node not in published:
            node = parent[node]
        if node is not None:
            atoms[node] = atoms.get(node, 0) + u.direct
    return all(size == 0 or size >= k for size in atoms.values())


@PROPERTY_SETTINGS
@given(
    tree=unit_trees(),
    k=st.integers(2, 10),
    seed=st.integers(0, 2**32 - 1),
    method=st.sampled_from(SuppressionMethod),
)
def test_random_trees(tree: list[UnitNode], k: int, seed: int, method: SuppressionMethod) -> None:
    result = compute_suppression(tree, k, method=method)
    n = counts(tree)
    root = next(u.id for u in tree if u.parent is None)
    all_ids = {u.id for u in tree}

    # The independent audit, and a second tiny one, pass.
    report = audit_publication(
        tree, k, result.published, suppressed=result.suppressed, included_in=result.included_in
    )
    assert report.ok, report.violations
    assert tiny_audit(tree, k, set(result.published))

    # A partition; the root is published whenever anything can be.
    assert result.published | result.suppressed == all_ids
    assert not result.published & result.suppressed
    if n[root] >= k:
        assert root in result.published
    else:
        assert result.published == frozenset()

    # Primary suppression: every unit with n < k is suppressed; only removals after it.
    primary = {u for u in all_ids if n[u] >= k}
    assert {u for u in all_ids if n[u] < k} <= result.suppressed
    assert result.published <= primary

    # The first edition: exactly the pseudocode's answer.
    if method is GREEDY:
        assert set(result.published) == literal_greedy(tree, k)

    # Deterministic: the same tree in another order gives the same result.
    shuffled = list(tree)
    random.Random(seed).shuffle(shuffled)
    assert compute_suppression(shuffled, k, method=method) == result

    # No more than needed: if primary suppression alone is safe, nothing else goes.
    if n[root] >= k and tiny_audit(tree, k, primary):
        assert result.published == primary


@st.composite
def trivially_safe_trees(draw: st.DrawFn) -> tuple[list[UnitNode], int]:
    """Every unit has n >= k and every remainder is 0 or >= k (leaves d >= k, inner
    units d = 0 or d >= k), so primary suppression alone is safe."""
    k = draw(st.integers(2, 10))
    shape = draw(unit_trees())
    parents = {u.parent for u in shape}
    out = []
    for u in shape:
        if u.id in parents:
            direct = draw(st.one_of(st.just(0), st.integers(k, 3 * k)))
        else:
            direct = draw(st.integers(k, 3 * k))
        out.append(UnitNode(u.id, u.parent, direct))
    return out, k


@PROPERTY_SETTINGS
@given(case=trivially_safe_trees())
def test_trivially_safe_trees_lose_nothing(case: tuple[list[UnitNode], int]) -> None:
    tree, k = case
    result = compute_suppression(tree, k)
    assert result == compute_suppression(tree, k, method=GREEDY) or result.published == (
        compute_suppression(tree, k, method=GREEDY).published
    )
    assert result.suppressed == frozenset()
    assert all(r == 0 or r >= k for r in result.remainders.values())


@PROPERTY_SETTINGS
@given(tree=unit_trees(), k=st.integers(2, 10))
def test_audit_catches_a_single_leaking_unit(tree: list[UnitNode], k: int) -> None:
    """The audit is not vacuous: re-publishing any suppressed unit the tiny audit
    calls unsafe is rejected by it too (and vice versa)."""
    result = compute_suppression(tree, k)
    for extra in sorted(result.suppressed):
        candidate = set(result.published) | {extra}
        expected = tiny_audit(tree, k, candidate) and counts(tree)[extra] >= k
        assert audit_publication(tree, k, candidate).ok == expected


def national_tree(units_count: int, seed: int) -> list[UnitNode]:
    """Enterprise -> ~20 hospitals -> clinics -> sections -> cost centres."""
    rng = random.Random(seed)
    out = [UnitNode("root", None, 0)]
    frontier = ["root"]
    while len(out) < units_count:
        parent = rng.choice(frontier[-200:]) if rng.random() < 0.8 else rng.choice(frontier)
        uid = f"u{len(out):05d}"
        out.append(UnitNode(uid, parent, rng.choice([0, 0, 1, 2, 3, 4, 6, 9, 15, 30])))
        frontier.append(uid)
    return out


def test_national_scale_is_safe_and_no_worse_than_the_first_edition() -> None:
    """How fast is for the benchmark (`bench/bench_suppression.py`), not a test."""
    tree = national_tree(20_000, seed=7)
    result = compute_suppression(tree, 5)
    assert result.root in result.published
    assert tiny_audit(tree, 5, set(result.published))
    first = compute_suppression(tree, 5, method=GREEDY)
    assert _key(result) <= _key(first)


def test_a_very_deep_chain_needs_no_recursion() -> None:
    def chain(direct: int) -> list[UnitNode]:
        out = [UnitNode("c00000", None, direct)]
        out += [UnitNode(f"c{i:05d}", f"c{i - 1:05d}", direct) for i in range(1, 20_000)]
        return out

    # d = 1 everywhere. The first edition: every unit's own atom is 1, so each one hides
    # its child in turn and only the root is left. The second: atoms of exactly 5, so a
    # fifth of the units are published.
    thin = compute_suppression(chain(1), 5, method=GREEDY)
    assert thin.published == {"c00000"}
    assert thin.remainders == {"c00000": 20_000}
    thin = compute_suppression(chain(1), 5)
    assert set(thin.remainders.values()) == {5}
    assert thin.cost.units_hidden == 16_000
    for method in SuppressionMethod:
        # d = 5 everywhere: every atom is 5, everything is published.
        thick = compute_suppression(chain(5), 5, method=method)
        assert thick.suppressed == frozenset()
    assert build_unit_tree(chain(1)).respondents["c00000"] == 20_000


# ------------------------------------------------------------------ second edition


def _key(result: object) -> tuple[int, int]:
    cost = result.cost  # type: ignore[attr-defined]
    return (cost.respondents_without_own_report, cost.units_hidden)


def brute_force_cost(tree: Sequence[UnitNode], k: int) -> tuple[int, int]:
    """The least (respondents without their own unit's report, hidden units) over every
    safe pattern that publishes the root: tried one by one."""
    n = counts(tree)
    root = next(u.id for u in tree if u.parent is None)
    direct = {u.id: u.direct for u in tree}
    optional = sorted(u for u in n if u != root and n[u] >= k)
    forced_hidden = [u for u in n if u != root and n[u] < k]
    best: tuple[int, int] | None = None
    for size in range(len(optional) + 1):
        for chosen in itertools.combinations(optional, size):
            published = {root, *chosen}
            if not tiny_audit(tree, k, published):
                continue
            hidden = [*forced_hidden, *(u for u in optional if u not in published)]
            cost = (sum(direct[u] for u in hidden), len(hidden))
            best = cost if best is None or cost < best else best
    assert best is not None  # the root alone is always safe when n(root) >= k
    return best


@st.composite
def hospital_trees(draw: st.DrawFn, max_size: int = 12) -> list[UnitNode]:
    """Hospital-shaped: every non-leaf unit has 0-3 direct respondents (its leader, and
    a few staff), every leaf (a team) 0-70."""
    shape = draw(unit_trees(max_size=max_size))
    parents = {u.parent for u in shape}
    return [
        UnitNode(
            u.id,
            u.parent,
            draw(st.integers(0, 3)) if u.id in parents else draw(st.integers(0, 70)),
        )
        for u in shape
    ]


small_trees = st.one_of(unit_trees(max_size=12), hospital_trees(max_size=12))


@PROPERTY_SETTINGS
@given(tree=small_trees, k=st.integers(2, 10))
def test_the_second_edition_is_optimal_by_brute_force(tree: list[UnitNode], k: int) -> None:
    result = compute_suppression(tree, k)
    assert tiny_audit(tree, k, set(result.published))
    if counts(tree)[result.root] < k:
        assert result.published == frozenset()
        return
    assert _key(result) == brute_force_cost(tree, k)


@PROPERTY_SETTINGS
@given(
    tree=st.one_of(unit_trees(), hospital_trees(max_size=60)),
    k=st.integers(2, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_second_edition_is_safe_deterministic_and_never_worse(
    tree: list[UnitNode], k: int, seed: int
) -> None:
    result = compute_suppression(tree, k)
    report = audit_publication(
        tree, k, result.published, suppressed=result.suppressed, included_in=result.included_in
    )
    assert report.ok, report.violations
    assert tiny_audit(tree, k, set(result.published))
    shuffled = list(tree)
    random.Random(seed).shuffle(shuffled)
    assert compute_suppression(shuffled, k) == result
    assert _key(result) <= _key(compute_suppression(tree, k, method=GREEDY))

    # What each hidden unit says about itself holds.
    parent = {u.id: u.parent for u in tree}
    n = counts(tree)
    for unit in result.suppressed:
        covered = [
            z
            for z in result.published
            if _nearest_published_ancestor(z, parent, result.published) == unit
            or _below(z, unit, parent, result.published)
        ]
        assert result.sub_units[unit] == tuple(sorted(covered))
        reason = result.reasons[unit]
        own = n[unit] - sum(n[z] for z in covered)
        if n[unit] < k:
            assert reason is SuppressionReason.BELOW_THRESHOLD
        elif 0 < own < k:
            assert reason is SuppressionReason.DIRECT_ANSWERS_TOO_FEW
        else:
            # Published, it would shrink an ancestor's atom below k: never a free unit.
            assert own >= k
            assert reason is SuppressionReason.COMPLEMENTARY


def _nearest_published_ancestor(
    unit: str, parent: dict[str, str | None], published: frozenset[str]
) -> str | None:
    node = parent[unit]
    while node is not None and node not in published:
        node = parent[node]
    return node


def _below(z: str, unit: str, parent: dict[str, str | None], published: frozenset[str]) -> bool:
    """z is a published proper descendant of `unit` with nothing published between."""
    node = parent[z]
    while node is not None:
        if node == unit:
            return True
        if node in published:
            return False
        node = parent[node]
    return False
