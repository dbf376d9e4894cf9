"""Counting and scoring of responses: pure, exact integer arithmetic, no I/O.

Every unit of a period keeps one vector of integer counters (`Layout` says which slot is
what), so counting a response is adding its `tally` to the unit's vector and an ancestor's
totals are the element-wise sum of its subtree's vectors. Integers only: sums do not
depend on the order responses arrive in, so two instances, a restart or a rebuild from
the log all arrive at the same counters and hence at the same snapshot, byte for byte.

Slots of a vector:
- `SENSITIVE_RESPONDENTS`: respondents who answered at least one sensitive item (the
  direct counts of the sensitive-items suppression table);
- per item, in questionnaire order, one slot per option of `OPTIONS` (1-5, dont_know,
  yes, no) counting the respondents who chose it;
- per factor, in questionnaire order, `FACTOR_SLOTS`: `scored` (respondents with a
  factor score), `score_sum` (the sum of their scores in units of 1/`unit` point, see
  below) and `positive` (respondents whose score is at least 75).

Safety Attitudes Questionnaire scoring: an item answer a (1-5) scores (a - 1) x 25 on
0-100, reverse-scored items 100 minus that. A respondent's factor score is the mean of
their answered, non-don't-know items of that factor: 25 x S / m, with S the sum of the
(possibly flipped) a - 1 values and m the number of such items. To keep the sum exact,
`score_sum` holds S x (L / m) per respondent where L = lcm(1..M), M the most scale items
of any factor: that is an integer, and score = 25 x S / m = 25 x (S x L / m) / L.
"Positive" is score >= 75, i.e. S >= 3m, tested exactly on integers.

The respondent count itself is not a slot: it is kept beside the vector, because it is
known (and public, as participation) before the questionnaire of the period is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

OPTIONS: tuple[str, ...] = ("1", "2", "3", "4", "5", "dont_know", "yes", "no")
"""The options of every item, in slot order (a scale item never uses yes/no and back)."""

OPTION_SLOT: dict[object, int] = {
    **{value: value - 1 for value in range(1, 6)},
    "dont_know": 5,
    "yes": 6,
    "no": 7,
}
SLOTS_PER_ITEM = len(OPTIONS)
FACTOR_SLOTS = 3  # scored, score_sum, positive
SENSITIVE_RESPONDENTS = 0
POSITIVE_SCORE = 75
MAX_SCALE_ITEMS_PER_FACTOR = 12
"""L = lcm(1..12) = 27,720, so one respondent adds at most 4 x 27,720 to `score_sum`: a
unit's own (leaf) counters, stored as 32-bit integers, hold 19,000 respondents. Ancestor
totals are summed in Python, without a limit. (The 2026.1 questionnaire has at most 5.)"""


_COUNT_BIT = 8  # points of one factor: at most 4 x 12 = 48 < 2**8
_POINTS_MASK = (1 << _COUNT_BIT) - 1
_FIELD_BITS = 16  # answers counted, at most 12 < 2**8, above the points
_FIELD_MASK = (1 << _FIELD_BITS) - 1


@dataclass(frozen=True)
class ItemSpec:
    item_id: str
    kind: Literal["scale", "yes_no"]
    factor_id: str | None
    reverse_scored: bool
    sensitive: bool


@dataclass(frozen=True)
class Layout:
    """Where each counter of a period lives in a unit's vector."""

    items: tuple[ItemSpec, ...]
    factors: tuple[str, ...]
    unit: int = field(init=False)
    """L = lcm(1..M): `score_sum` counts 1/L of a 25-point step (see the module doc)."""
    item_base: dict[str, int] = field(init=False, hash=False, compare=False)
    factor_base: dict[str, int] = field(init=False, hash=False, compare=False)
    answer_slots: dict[str, tuple[int, int, bool, bool]] = field(
        init=False, hash=False, compare=False
    )
    """item id -> (first option slot, factor's first slot or -1, reverse_scored, sensitive)"""
    answer_table: dict[tuple[str, object], tuple[int, int, bool]] = field(
        init=False, hash=False, compare=False
    )
    """(item id, answer) -> (its option slot, its packed factor points, sensitive): what
    `tally_into` adds for one answer, looked up once instead of worked out per answer."""
    factor_fields: tuple[tuple[int, int], ...] = field(init=False, hash=False, compare=False)
    """(factor's first slot, bit offset of its field in a packed factor sum), in order."""
    size: int = field(init=False)

    def __post_init__(self) -> None:
        per_factor: dict[str, int] = dict.fromkeys(self.factors, 0)
        for item in self.items:
            if item.kind == "scale" and item.factor_id is not None:
                per_factor[item.factor_id] = per_factor.get(item.factor_id, 0) + 1
        unknown = set(per_factor) - set(self.factors)
        if unknown:
            raise ValueError(f"items name unknown factor(s): {', '.join(sorted(unknown))}")
        most = max(per_factor.values(), default=1)
        if most > MAX_SCALE_ITEMS_PER_FACTOR:
            raise ValueError(
                f"a factor has {most} scale items; at most {MAX_SCALE_ITEMS_PER_FACTOR} keep "
                "the exact score sums within the database's 32-bit counters"
            )
        object.__setattr__(self, "unit", math.lcm(*range(1, max(most, 1) + 1)))
        item_base = {item.item_id: 1 + i * SLOTS_PER_ITEM for i, item in enumerate(self.items)}
        first_factor = 1 + len(self.items) * SLOTS_PER_ITEM
        factor_base = {f: first_factor + i * FACTOR_SLOTS for i, f in enumerate(self.factors)}
        object.__setattr__(self, "item_base", item_base)
        object.__setattr__(self, "factor_base", factor_base)
        object.__setattr__(self, "size", first_factor + len(self.factors) * FACTOR_SLOTS)
        answer_slots = {
            item.item_id: (
                item_base[item.item_id],
                factor_base[item.factor_id]
                if item.kind == "scale" and item.factor_id is not None
                else -1,
                item.reverse_scored,
                item.sensitive,
            )
            for item in self.items
        }
        object.__setattr__(self, "answer_slots", answer_slots)
        shift = {base: _FIELD_BITS * i for i, base in enumerate(factor_base.values())}
        table: dict[tuple[str, object], tuple[int, int, bool]] = {}
        for item_id, (base, f_base, reverse, sensitive) in answer_slots.items():
            for value, slot in OPTION_SLOT.items():
                packed = 0
                if f_base >= 0 and slot < 5:  # a scale answer of a factor's item
                    points = 4 - slot if reverse else slot  # slot = answer - 1
                    packed = (points | 1 << _COUNT_BIT) << shift[f_base]
                table[(item_id, value)] = (base + slot, packed, sensitive)
        object.__setattr__(self, "answer_table", table)
        object.__setattr__(self, "factor_fields", tuple(shift.items()))

    def zeros(self) -> list[int]:
        return [0] * self.size


def item_points(answer: int, *, reverse_scored: bool) -> int:
    """The answer's value a - 1 (0-4), flipped (4 - (a - 1)) for reverse-scored items;
    the item score on 0-100 is 25 times this."""
    points = answer - 1
    return 4 - points if reverse_scored else points


def factor_score(points: Sequence[int]) -> float | None:
    """A respondent's factor score on 0-100 from their items' points (None if none)."""
    if not points:
        return None
    return 25 * sum(points) / len(points)


def tally(layout: Layout, answers: Mapping[str, object]) -> list[int]:
    """One response's contribution to its unit's counters."""
    vector = layout.zeros()
    tally_into(vector, layout, answers)
    return vector


def tally_into_python(target: list[int], layout: Layout, answers: Mapping[str, object]) -> None:
    """Add one response to `target` (a vector of `layout`) in place: the definition of
    `tally_into`, which the workers run compiled (`_tally.pyx`; the tests check the two
    agree). It walks the response's answers, not the whole layout, with one lookup each
    in `layout.answer_table`. Answers to items the questionnaire does not have, and
    answers of the wrong kind, are ignored (the survey validates answers).

    A response's factor points are summed in one integer, a field of `_FIELD_BITS` per
    factor holding (answers counted << `_COUNT_BIT`) + points: at most 12 items of at
    most 4 points, so no field overflows into the next."""
    table = layout.answer_table
    packed = 0
    answered_sensitive = False
    for pair in answers.items():
        kind = pair[1].__class__
        if kind is not int and kind is not str:  # True == 1.0 == 1 as keys: not answers
            continue
        spec = table.get(pair)
        if spec is None:
            continue
        slot, factor_points, sensitive = spec
        target[slot] += 1
        packed += factor_points
        if sensitive:
            answered_sensitive = True
    if answered_sensitive:
        target[SENSITIVE_RESPONDENTS] += 1
    if packed:
        unit = layout.unit
        for base, shift in layout.factor_fields:
            value = packed >> shift & _FIELD_MASK
            if value:
                m, total = value >> _COUNT_BIT, value & _POINTS_MASK
                target[base] += 1
                target[base + 1] += total * (unit // m)
                if total >= 3 * m:  # 25 * total / m >= 75
                    target[base + 2] += 1


def add_into(target: list[int], vector: Sequence[int]) -> None:
    """target += vector, element-wise (vectors of one layout)."""
    for i, value in enumerate(vector):
        if value:
            target[i] += value


def sum_vectors(layout: Layout, vectors: Iterable[Sequence[int]]) -> list[int]:
    total = layout.zeros()
    for vector in vectors:
        add_into(total, vector)
    return total


@dataclass(frozen=True)
class ItemCounts:
    """One item's option counts, read from a vector."""

    options: tuple[int, ...]  # in OPTIONS order

    @property
    def valid_scale(self) -> int:
        return sum(self.options[:5])

    @property
    def dont_know(self) -> int:
        return self.options[5]

    @property
    def yes(self) -> int:
        return self.options[6]

    @property
    def no(self) -> int:
        return self.options[7]

    @property
    def agree(self) -> int:
        """Answers 4 or 5 (agree somewhat, strongly agree)."""
        return self.options[3] + self.options[4]

    def favourable(self, *, reverse_scored: bool) -> int:
        """Agreement where agreement is favourable: 4-5, or 1-2 for reverse-scored items."""
        return self.options[0] + self.options[1] if reverse_scored else self.agree

    def points_sum(self, *, reverse_scored: bool) -> int:
        """Sum of the valid answers' points (answer - 1, flipped when reverse-scored)."""
        o = self.options
        if reverse_scored:
            return 4 * o[0] + 3 * o[1] + 2 * o[2] + o[3]
        return o[1] + 2 * o[2] + 3 * o[3] + 4 * o[4]


def item_counts(layout: Layout, vector: Sequence[int], item_id: str) -> ItemCounts:
    base = layout.item_base[item_id]
    return ItemCounts(tuple(vector[base : base + SLOTS_PER_ITEM]))


@dataclass(frozen=True)
class FactorCounts:
    scored: int
    score_sum: int  # in 1/layout.unit of a 25-point step
    positive: int


def factor_counts(layout: Layout, vector: Sequence[int], factor_id: str) -> FactorCounts:
    base = layout.factor_base[factor_id]
    return FactorCounts(vector[base], vector[base + 1], vector[base + 2])


def percent(part: int, whole: int) -> float:
    """part / whole in percent, rounded to two decimals (deterministic for integers)."""
    return round(100 * part / whole, 2)


def mean_item_score(counts: ItemCounts, *, reverse_scored: bool) -> float:
    """The item's mean on 0-100 over its valid (non-don't-know) answers."""
    return round(25 * counts.points_sum(reverse_scored=reverse_scored) / counts.valid_scale, 2)


def mean_factor_score(layout: Layout, counts: FactorCounts) -> float:
    """The mean of the respondents' factor scores on 0-100."""
    return round(25 * counts.score_sum / (layout.unit * counts.scored), 2)


# Last: the compiled module falls back on the definition above for layouts it cannot take.
from forbedring_aggregation.domain._tally import tally_into as tally_into  # noqa: E402
