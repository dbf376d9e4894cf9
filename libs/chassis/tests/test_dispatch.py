"""The dispatch table of a batch consumer, alone (no broker, no database): the topics
follow from the models, a model left without a handler is refused, periods are locked
in one order, and the `first` models go first."""

from datetime import UTC, datetime
from typing import Any

import pytest

from forbedring_chassis.dispatch import dispatching
from forbedring_contracts import examples, topics
from forbedring_contracts.events import (
    DirectoryUpdated,
    PeriodClosed,
    PeriodOpened,
    PublishedUnitResults,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _recording(applied: list[tuple[str, Any, datetime]]) -> Any:
    async def handler(session: Any, event: Any, now: datetime) -> None:
        applied.append((type(event).__name__, event.period_id, now))

    return handler


def test_the_topics_are_those_of_the_handled_models_once_each() -> None:
    applied: list[tuple[str, Any, datetime]] = []
    handle = _recording(applied)
    consumer = dispatching(
        {PeriodOpened: handle, DirectoryUpdated: handle, PeriodClosed: handle}, now=lambda: NOW
    )
    assert consumer.topics == (
        topics.PERIOD_OPENED,
        topics.DIRECTORY_UPDATED,
        topics.PERIOD_CLOSED,
    )


def test_a_topic_whose_other_model_has_no_handler_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="SuppressedUnitResults"):
        dispatching({PublishedUnitResults: _recording([])}, now=lambda: NOW)


async def test_periods_are_locked_in_one_order_and_first_models_go_first() -> None:
    applied: list[tuple[str, Any, datetime]] = []
    locked: list[str] = []

    async def lock(session: Any, *, period_id: str) -> None:
        locked.append(period_id)

    handle = _recording(applied)
    consumer = dispatching(
        {PeriodOpened: handle, DirectoryUpdated: handle, PeriodClosed: handle},
        now=lambda: NOW,
        lock_period=lock,
        first=(DirectoryUpdated,),
    )
    closed_b = examples.PERIOD_CLOSED.model_copy(update={"period_id": "B"})
    opened_a = examples.PERIOD_OPENED.model_copy(update={"period_id": "A"})
    directory_b = examples.DIRECTORY_UPDATED.model_copy(update={"period_id": "B"})

    await consumer.handler(None, [closed_b, opened_a, directory_b])  # type: ignore[arg-type]

    assert locked == ["A", "B"]
    assert applied == [
        ("DirectoryUpdated", "B", NOW),
        ("PeriodClosed", "B", NOW),
        ("PeriodOpened", "A", NOW),
    ]
