"""The consumers' retry and dead-letter policy, alone (no broker, no database): how often
a failing event is tried, that an outage is not held against it, and what a dead letter
carries."""

from typing import Any

import pytest
from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from forbedring_chassis.consumer import EVENTS_DEAD_LETTERED
from forbedring_chassis.consumer.policy import Attempts, DeadLetters, dead_letter_headers
from forbedring_chassis.errors import is_outage

AT = ("t", 0, 7)
OTHER = ("t", 1, 7)


def _record(
    offset: int = 7, *, value: bytes | None = b"{}", headers: list[tuple[str, bytes]] | None = None
) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="prefix.t",
        partition=3,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"key",
        value=value,
        checksum=None,
        serialized_key_size=3,
        serialized_value_size=2,
        headers=headers if headers is not None else [("ce_id", b"e1"), ("odd", b"\xff")],
    )


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses the policy takes, instead of taking them."""
    taken: list[float] = []

    async def sleep(seconds: float) -> None:
        taken.append(seconds)

    monkeypatch.setattr("asyncio.sleep", sleep)  # the policy's, for this test
    return taken


async def test_a_failing_event_is_retried_with_growing_pauses_then_given_up(
    pauses: list[float],
) -> None:
    attempts = Attempts(max_attempts=3, backoff_s=0.5)
    failure = RuntimeError("never works")
    assert await attempts.should_retry(failure, AT, "t")
    assert await attempts.should_retry(failure, AT, "t")
    assert not await attempts.should_retry(failure, AT, "t"), "the third attempt was the last"
    assert pauses == [0.5, 1.0], "no pause once given up"


async def test_failures_count_per_record_and_start_afresh_once_done(pauses: list[float]) -> None:
    attempts = Attempts(max_attempts=2, backoff_s=0)
    failure = ValueError("bad")
    assert await attempts.should_retry(failure, AT, "t")
    assert await attempts.should_retry(failure, OTHER, "t"), "another record has its own count"
    attempts.done(AT)
    assert await attempts.should_retry(failure, AT, "t"), "counted afresh once done"
    assert not await attempts.should_retry(failure, AT, "t")
    attempts.done(AT)
    attempts.done(AT)  # done twice, or for a record that never failed: nothing to forget
    assert attempts.counts == {OTHER: 1}


async def test_an_outage_is_retried_forever_and_not_held_against_the_event(
    pauses: list[float],
) -> None:
    attempts = Attempts(max_attempts=2, backoff_s=0.25)
    for _ in range(10):
        assert await attempts.should_retry(ConnectionError("database gone"), AT, "t")
    assert pauses == [0.25] * 10, "an outage pauses the base backoff, not a growing one"
    assert await attempts.should_retry(RuntimeError("now the event"), AT, "t")
    assert not await attempts.should_retry(RuntimeError("now the event"), AT, "t")


def _invalidated() -> DBAPIError:
    error = DBAPIError("SELECT 1", None, Exception("server closed the connection"))
    error.connection_invalidated = True
    return error


@pytest.mark.parametrize(
    "exc",
    [
        OperationalError("SELECT 1", None, Exception("could not connect")),
        ConnectionError("refused"),
        OSError("network unreachable"),
        TimeoutError(),
        _invalidated(),
    ],
    ids=["operational", "connection", "os", "timeout", "invalidated"],
)
def test_database_and_network_trouble_is_an_outage(exc: BaseException) -> None:
    assert is_outage(exc)


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError("a bug"),
        ValueError("bad data"),
        IntegrityError("INSERT", None, Exception("check constraint")),
        DBAPIError("SELECT 1", None, Exception("division by zero")),
    ],
    ids=["runtime", "value", "integrity", "dbapi-not-invalidated"],
)
def test_what_the_event_itself_causes_is_no_outage(exc: BaseException) -> None:
    assert not is_outage(exc)


def test_a_dead_letter_keeps_its_headers_and_says_where_it_came_from_and_why() -> None:
    headers = dead_letter_headers(_record(), "x" * 5000, group_id="forbedring-test")
    assert headers == {
        "ce_id": "e1",
        "odd": "\ufffd",
        "dlt_error": "x" * 2000,
        "dlt_original_topic": "prefix.t",
        "dlt_original_partition": "3",
        "dlt_original_offset": "7",
        "dlt_consumer_group": "forbedring-test",
    }


class _Broker:
    """Records what is published; fails the first `failures` times."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or RuntimeError("broker said no")
        self.calls = 0
        self.sent: list[tuple[bytes, str, Any, dict[str, str]]] = []

    async def publish(
        self, message: bytes, topic: str, *, key: Any, headers: dict[str, str]
    ) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        self.sent.append((message, topic, key, headers))


def _dead_letters(broker: _Broker) -> DeadLetters:
    return DeadLetters(broker.publish, topic="prefix.dlt", group_id="g", names={"prefix.t": "t"})


def _dead_lettered(registry: CollectorRegistry) -> float | None:
    return registry.get_sample_value("forbedring_events_dead_lettered_total", {"topic": "t"})


async def test_a_dead_letter_goes_as_it_came_and_is_counted_under_the_registered_name() -> None:
    registry = CollectorRegistry()
    registry.register(EVENTS_DEAD_LETTERED)
    before = _dead_lettered(registry) or 0
    broker = _Broker()
    await _dead_letters(broker).send(_record(value=None), "invalid event: no value")
    ((message, topic, key, headers),) = broker.sent
    assert (message, topic, key) == (b"", "prefix.dlt", b"key")
    assert headers["dlt_error"] == "invalid event: no value"
    assert _dead_lettered(registry) == before + 1


async def test_a_dead_letter_that_fails_in_passing_is_sent_again_once() -> None:
    broker = _Broker(failures=2)
    attempts = Attempts(max_attempts=3, backoff_s=0)
    await _dead_letters(broker).send_retried(_record(), "bad", attempts)
    assert broker.calls == 3
    assert len(broker.sent) == 1
    assert attempts.counts == {}


async def test_a_dead_letter_that_cannot_be_sent_is_given_up_without_raising() -> None:
    broker = _Broker(failures=100)
    attempts = Attempts(max_attempts=3, backoff_s=0)
    await _dead_letters(broker).send_retried(_record(), "bad", attempts)
    assert broker.calls == 3
    assert broker.sent == []
    assert attempts.counts == {}, "forgotten, so the next delivery of the record starts afresh"


async def test_a_dead_letter_is_sent_through_a_broker_outage() -> None:
    broker = _Broker(failures=6, error=ConnectionError("broker unreachable"))
    attempts = Attempts(max_attempts=2, backoff_s=0)
    await _dead_letters(broker).send_retried(_record(), "bad", attempts)
    assert len(broker.sent) == 1, "an outage is no reason to drop the dead letter"
