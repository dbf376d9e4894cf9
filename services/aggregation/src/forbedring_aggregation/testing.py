"""Synthetic periods and responses for tests and benchmarks, with a ground truth computed
independently of the service's counters (plain Counters and Fractions, no vectors)."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from aiokafka import AIOKafkaProducer

from forbedring_chassis import wire
from forbedring_contracts import examples
from forbedring_contracts.events import (
    Answer,
    DirectoryUpdated,
    Event,
    Factor,
    Item,
    PeriodClosed,
    PeriodOpened,
    Questionnaire,
    ResponseSubmitted,
    RoleAssignment,
    Texts,
    Unit,
    UnitInScope,
)

_T = Texts(nb="x", nn="x", en="x")
HR_ADMIN = "hr-aggregation"
"""The HR admin that `hr_directory` names: the one person who may read the counts."""


def questionnaire(*, scale_items: int = 8, factors: int = 2, yes_no: int = 2) -> Questionnaire:
    """`scale_items` scale items spread over `factors` factors (the first is
    safety_climate; every fourth item is reverse-scored), then `yes_no` yes/no items of
    which the last is sensitive."""
    factor_ids = ["safety_climate", *(f"factor_{i}" for i in range(1, factors))]
    items = [
        Item(
            item_id=f"q{i:02d}",
            kind="scale",
            factor_id=factor_ids[i % factors],
            reverse_scored=i % 4 == 3,
            sensitive=False,
            text=_T,
        )
        for i in range(scale_items)
    ]
    items += [
        Item(
            item_id=f"yn{i}",
            kind="yes_no",
            factor_id=None,
            reverse_scored=False,
            sensitive=i == yes_no - 1,
            text=_T,
        )
        for i in range(yes_no)
    ]
    return Questionnaire(
        factors=tuple(Factor(factor_id=f, name=_T) for f in factor_ids), items=tuple(items)
    )


def unit_tree(leaves: int, *, fan_out: int = 8) -> list[tuple[str, str | None]]:
    """(unit id, parent id): a root, then levels of `fan_out` children, then `leaves` leaf
    units spread over the last level, about `fan_out` or more per parent (5,000 units:
    1 + 8 + 64 + 512 inner units with fan-out 8, and 4,415 leaves)."""
    units: list[tuple[str, str | None]] = [("HF", None)]
    level = ["HF"]
    while len(level) * fan_out * fan_out <= leaves:
        nxt = [f"{parent}.{i}" for parent in level for i in range(fan_out)]
        units += [(u, u.rsplit(".", 1)[0]) for u in nxt]
        level = nxt
    for i in range(leaves):
        parent = level[i % len(level)]
        units.append((f"{parent}-L{i}", parent))
    return units


def period_opened(
    period_id: str, units: Sequence[tuple[str, str | None]], q: Questionnaire, *, k: int = 5
) -> PeriodOpened:
    """`q` over `units` (50 invited each) on the dates of the contracts' example period."""
    return examples.PERIOD_OPENED.model_copy(
        update={
            "period_id": period_id,
            "organisation_id": "test-trust",
            "name": "ForBedring test",
            "questionnaire_version": "test.1",
            "questionnaire": q,
            "k": k,
            "stage_1_delay": timedelta(days=1),
            "units": tuple(
                UnitInScope(
                    unit_id=u, parent_id=p, name=u, level=str(u.count(".") + 1), eligible=50
                )
                for u, p in units
            ),
        }
    )


def hr_directory(
    period_id: str, units: Sequence[tuple[str, str | None]], *, hr_admin: str = HR_ADMIN
) -> DirectoryUpdated:
    """The period's directory with one HR admin at the root (and no one else)."""
    root = next(u for u, parent in units if parent is None)
    return DirectoryUpdated(
        period_id=period_id,
        units=tuple(
            Unit(unit_id=u, parent_id=p, name=u, level=str(u.count(".") + 1)) for u, p in units
        ),
        roles=(
            RoleAssignment(
                person_id=hr_admin,
                unit_id=root,
                role="hr_admin",
                name="H R",
                email="hr@example.org",
                language="nb",
            ),
        ),
    )


def opening(
    period_id: str, units: Sequence[tuple[str, str | None]], q: Questionnaire, *, k: int = 5
) -> list[Event]:
    """What survey sends when a period opens: period-opened and the directory (here with
    the HR admin who may read the counts)."""
    return [period_opened(period_id, units, q, k=k), hr_directory(period_id, units)]


def random_answers(rng: random.Random, q: Questionnaire) -> dict[str, Answer]:
    answers: dict[str, Answer] = {}
    for item in q.items:
        roll = rng.random()
        if roll < 0.05:
            continue  # unanswered
        if item.kind == "yes_no":
            answers[item.item_id] = "yes" if roll < 0.3 else "no"
        elif roll < 0.12:
            answers[item.item_id] = "dont_know"
        else:
            answers[item.item_id] = rng.choice((1, 2, 3, 3, 4, 4, 4, 5, 5))
    return answers


def responses(
    rng: random.Random,
    period_id: str,
    q: Questionnaire,
    per_unit: dict[str, int],
) -> list[ResponseSubmitted]:
    out = [
        ResponseSubmitted(
            response_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            period_id=period_id,
            unit_id=unit,
            questionnaire_version="test.1",
            answers=random_answers(rng, q),
        )
        for unit, n in per_unit.items()
        for _ in range(n)
    ]
    rng.shuffle(out)
    return out


def marker_response(period_id: str, index: int) -> ResponseSubmitted:
    """A response of a period of its own, for tests that wait until the service has read
    a partition up to some point (`all_read` in the integration tests)."""
    return ResponseSubmitted(
        response_id=uuid.uuid4(),
        period_id=period_id,
        unit_id=f"marker-{index}",
        questionnaire_version="test.1",
        answers={},
    )


def period_closed(period_id: str, per_unit: dict[str, int]) -> PeriodClosed:
    return PeriodClosed(
        period_id=period_id, closed_at=datetime(2026, 3, 16, 7, 0, tzinfo=UTC), totals=per_unit
    )


@dataclass
class UnitTruth:
    respondents: int = 0
    options: dict[str, Counter[str]] = field(default_factory=dict)
    scored: dict[str, int] = field(default_factory=dict)
    positive: dict[str, int] = field(default_factory=dict)
    score_sum: dict[str, Fraction] = field(default_factory=dict)


def ground_truth(q: Questionnaire, events: Iterable[ResponseSubmitted]) -> dict[str, UnitTruth]:
    """Per unit: respondents, per item the count of each answer, per factor the SAQ
    counters (scores as exact fractions), computed straight from the answers."""
    items = {i.item_id: i for i in q.items}
    truth: dict[str, UnitTruth] = {}
    seen: set[uuid.UUID] = set()
    for event in events:
        if event.response_id in seen:
            continue
        seen.add(event.response_id)
        unit = truth.setdefault(event.unit_id, UnitTruth())
        unit.respondents += 1
        per_factor: dict[str, list[int]] = {}
        for item_id, answer in event.answers.items():
            unit.options.setdefault(item_id, Counter())[str(answer)] += 1
            item = items[item_id]
            if isinstance(answer, int) and item.factor_id is not None:
                score = (5 - answer) * 25 if item.reverse_scored else (answer - 1) * 25
                per_factor.setdefault(item.factor_id, []).append(score)
        for factor_id, scores in per_factor.items():
            mean = Fraction(sum(scores), len(scores))
            unit.scored[factor_id] = unit.scored.get(factor_id, 0) + 1
            unit.positive[factor_id] = unit.positive.get(factor_id, 0) + (mean >= 75)
            unit.score_sum[factor_id] = unit.score_sum.get(factor_id, Fraction(0)) + mean
    return truth


def encoded(events: Iterable[Event]) -> list[wire.Record]:
    return [wire.encode(e) for e in events]


async def produce(
    bootstrap_servers: str, topic_prefix: str, records: Sequence[wire.Record]
) -> None:
    """Send records (to `topic_prefix` + their topic) and wait until all are acknowledged."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, linger_ms=20, max_batch_size=1 << 20, acks="all"
    )
    await producer.start()
    try:
        futures: list[Any] = []
        for record in records:
            futures.append(
                await producer.send(
                    topic_prefix + record.topic,
                    record.value,
                    key=record.key,
                    headers=[(k, v.encode()) for k, v in record.headers.items()],
                    timestamp_ms=record.timestamp_ms,
                )
            )
        await producer.flush()
        for future in futures:
            await future
    finally:
        await producer.stop()
