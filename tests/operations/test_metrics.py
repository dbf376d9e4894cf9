"""The figures ops watch, scraped from /metrics of running apps on the real broker and
PostgreSQL: each family is there, and each moves when the work it counts happens.

The chassis measures them for every service; the ledger (`ledger.py`) is a service on
the chassis whose consumer the test can hold or poison. The real survey shows the same
families with its own scheduler and routes. Emails are notification's own
(services/notification/tests/integration/test_metrics.py)."""

import random
from collections.abc import Callable

from forbedring_aggregation import testing as synth
from forbedring_chassis.outbox import stage_event
from forbedring_chassis.testing import Databases, Infrastructure, SendEvents, eventually
from forbedring_contracts import topics
from forbedring_survey.testing import small_organisation
from tests.conftest import Stack
from tests.operations.ledger import Ledger, running_ledger
from tests.operations.scrape import Scrape, scrape

TOPIC = topics.RESPONSE_SUBMITTED
AGGREGATION_TOPICS = (
    topics.PERIOD_OPENED,
    topics.RESPONSE_SUBMITTED,
    topics.PERIOD_CLOSED,
    topics.DIRECTORY_UPDATED,
)
Q = synth.questionnaire()

CHASSIS_FAMILIES = {
    "forbedring_consumer_lag",
    "forbedring_events_processed",
    "forbedring_events_applied",
    "forbedring_events_failed",
    "forbedring_events_dead_lettered",
    "forbedring_outbox_pending_rows",
    "forbedring_outbox_oldest_pending_age_seconds",
    "forbedring_scheduler_runs",
    "forbedring_scheduler_last_success_timestamp_seconds",
    "forbedring_dependency_reachable",
    "http_request_duration_seconds",
}


async def _until(ledger: Ledger, check: Callable[[Scrape], object]) -> Scrape:
    """Scrape until `check(scrape)` is true; the last scrape."""
    found: list[Scrape] = []

    async def probe() -> bool:
        found[:] = [await scrape(ledger.client)]
        return bool(check(found[0]))

    await eventually(probe, timeout=60, interval=0.2)
    return found[0]


async def test_the_ledgers_metrics_move_with_its_work(
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
    send_events: SendEvents,
) -> None:
    rng = random.Random(18)
    period = synth.responses(rng, "period-metrics", Q, {"unit-a": 6})
    # The relay's poll an hour away: only a wake sends what is staged without one.
    async with running_ledger(
        infrastructure, databases, private_topic_prefix, outbox_poll_interval_s=3600
    ) as ledger:
        group = ledger.settings.group_id
        first = await _until(ledger, lambda s: s.label_values("forbedring_consumer_lag", "group"))
        assert first.families >= CHASSIS_FAMILIES, CHASSIS_FAMILIES - first.families
        assert first.label_values("forbedring_consumer_lag", "topic") == {TOPIC}
        assert first.value("forbedring_consumer_lag", group=group) == 0
        assert first.value("forbedring_dependency_reachable", dependency="kafka") == 1
        assert first.value("forbedring_dependency_reachable", dependency="database") == 1

        # Held: the lag per partition grows with what waits, then falls to 0 once read.
        ledger.switches.open.clear()
        await send_events(period[:4])
        held = await _until(
            ledger, lambda s: s.value("forbedring_consumer_lag", group=group, topic=TOPIC) == 4
        )
        assert len(held.label_values("forbedring_consumer_lag", "partition")) > 1
        ledger.switches.open.set()
        done = await _until(ledger, lambda s: s.value("forbedring_consumer_lag", group=group) == 0)
        assert (
            done.value("forbedring_events_applied_total", topic=TOPIC)
            - first.value("forbedring_events_applied_total", topic=TOPIC)
            == 4
        )
        assert (
            done.value("forbedring_events_processed_total", topic=TOPIC)
            - first.value("forbedring_events_processed_total", topic=TOPIC)
            == 4
        )

        # A poisoned event: each failed attempt counted, then one dead letter.
        ledger.switches.poisoned.add(str(period[4].response_id))
        await send_events([period[4]])
        poisoned = await _until(
            ledger,
            lambda s: (
                s.value("forbedring_events_dead_lettered_total", topic=TOPIC)
                > done.value("forbedring_events_dead_lettered_total", topic=TOPIC)
            ),
        )
        assert poisoned.value("forbedring_events_failed_total", topic=TOPIC) - done.value(
            "forbedring_events_failed_total", topic=TOPIC
        ) == (ledger.settings.consumer_max_attempts)

        # Rows staged and not yet sent (the relay not woken, its poll an hour away): the
        # backlog counts them and their age grows; woken, it sends them and both fall.
        async with ledger.runtime.sessions() as session, session.begin():
            stage_event(session, period[5])
        staged = await _until(ledger, lambda s: s.value("forbedring_outbox_pending_rows") == 1)
        older = await _until(
            ledger,
            lambda s: (
                s.value("forbedring_outbox_oldest_pending_age_seconds")
                > staged.value("forbedring_outbox_oldest_pending_age_seconds") + 0.5
            ),
        )
        assert older.value("forbedring_outbox_pending_rows") == 1
        ledger.runtime.relay.wake()
        await _until(
            ledger,
            lambda s: (
                s.value("forbedring_outbox_pending_rows") == 0
                and s.value("forbedring_outbox_oldest_pending_age_seconds") == 0
            ),
        )

        async def sent_and_applied() -> bool:
            return str(period[5].response_id) in await ledger.applied()

        await eventually(sent_and_applied, timeout=60)

        # The scheduler's runs, by outcome.
        runs = "forbedring_scheduler_runs_total"
        before = await scrape(ledger.client)
        ledger.switches.scheduler_fails = True
        failing = await _until(
            ledger,
            lambda s: (
                s.value(runs, scheduler="ledger.scheduler", outcome="failed")
                > before.value(runs, scheduler="ledger.scheduler", outcome="failed")
            ),
        )
        ledger.switches.scheduler_fails = False
        await _until(
            ledger,
            lambda s: (
                s.value(runs, scheduler="ledger.scheduler", outcome="ok")
                > failing.value(runs, scheduler="ledger.scheduler", outcome="ok")
            ),
        )

        # HTTP latency per route: the route's template, never the path asked for.
        for thing in (1, 2, 3):
            assert (await ledger.client.get(f"/things/{thing}")).status_code == 200
        http = await scrape(ledger.client)
        count = "http_request_duration_seconds_count"
        assert http.value(count, handler="/things/{thing_id}", method="GET") == 3
        assert not {h for h in http.label_values(count, "handler") if h.startswith("/things/")} - {
            "/things/{thing_id}"
        }


async def test_survey_and_aggregation_serve_the_same_families_with_their_own_work(
    stack: Stack,
) -> None:
    api = stack.survey_api
    before = await scrape(stack.survey)
    period = await api.open_period(small_organisation({"unit-m": 2}))
    after = await scrape(stack.survey)
    assert CHASSIS_FAMILIES - {"forbedring_consumer_lag"} <= after.families
    # survey consumes nothing: its lag family is there, empty.
    assert "forbedring_consumer_lag" in after.families
    assert not after.label_values("forbedring_consumer_lag", "group")
    runs = "forbedring_scheduler_runs_total"
    assert after.value(runs, scheduler="survey.scheduler", outcome="ok") > before.value(
        runs, scheduler="survey.scheduler", outcome="ok"
    )
    handlers = after.label_values("http_request_duration_seconds_count", "handler")
    assert any("{" in h for h in handlers), handlers
    assert not any(period in h for h in handlers), "no raw path (with an id) as a label"

    # aggregation's batch consumer: its group's lag on every topic it reads, per partition.
    group = stack.aggregation_settings.group_id

    async def lag_of_every_topic() -> bool:
        found = await scrape(stack.aggregation)
        lag = [labels for name, labels, _ in found.samples if name == "forbedring_consumer_lag"]
        return {labels["topic"] for labels in lag if labels["group"] == group} == set(
            AGGREGATION_TOPICS
        )

    await eventually(lag_of_every_topic, timeout=60, interval=0.5)

    async def applied_the_period() -> bool:
        found = await scrape(stack.aggregation)
        # Processed is counted once the batch's offsets are committed, after applied.
        return (
            found.value("forbedring_events_applied_total") > 0
            and found.value("forbedring_events_processed_total", topic=topics.PERIOD_OPENED) > 0
        )

    await eventually(applied_the_period, timeout=60, interval=0.5)
    aggregation = await scrape(stack.aggregation)
    partitions = {
        (labels["topic"], labels["partition"])
        for name, labels, _ in aggregation.samples
        if name == "forbedring_consumer_lag"
    }
    assert (topics.RESPONSE_SUBMITTED, "11") in partitions, "all 12 partitions reported"
    # Processed is counted per topic, also when a batch mixes topics. (The counters are
    # the process's: in one pytest process other apps' topics may be there too.)
    assert {topics.PERIOD_OPENED, topics.DIRECTORY_UPDATED} <= aggregation.label_values(
        "forbedring_events_processed_total", "topic"
    )
