"""Publication killed in the middle of its release (a real process), twice over: the
period's results arrive long after both stages fell due, so the scheduler releases both
at once. The first process dies the worst way (the chassis crash point
`after-outbox-publish`: its release on the broker, still in its outbox); a second is
SIGKILLed as soon as it has started on the same database; a third finishes. Each stage is
released once in effect: one event id per stage (the copies the relay sends again after
a crash carry the same id, which the consumers' inboxes skip), both stages there."""

from collections import defaultdict
from typing import Any

from forbedring_chassis.faults import CRASH_ENV
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    event_producer,
    eventually,
    unique_name,
)
from forbedring_contracts import topics
from services.publication.tests.integration.conftest import an_org
from tests.faults.broker import records_of
from tests.faults.outcomes import record_outcome


async def _released(servers: str, topic: str, period_id: str) -> dict[int, list[str]]:
    """Per stage, the event id of every results-released of `period_id` on the topic now."""
    found: dict[int, list[str]] = defaultdict(list)
    for record in await records_of(servers, [topic], period_id):
        found[record.body["stage"]].append(record.event_id)
    return dict(found)


async def test_publication_killed_mid_release_releases_each_stage_once(
    launch_service: Any,
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
) -> None:
    servers = infrastructure.kafka_bootstrap_servers
    topic = private_topic_prefix + topics.RESULTS_RELEASED
    database_url = await databases.create("publication")
    group = unique_name("publication")
    fast = {
        "PUBLICATION_SCHEDULER_INTERVAL_S": "0.05",
        "PUBLICATION_OUTBOX_POLL_INTERVAL_S": "0.05",
    }
    first = await launch_service(
        "publication",
        database_url=database_url,
        consumer_group=group,
        topics=private_topic_prefix,
        extra_env={**fast, CRASH_ENV: "after-outbox-publish"},
    )
    org = an_org()  # finalised in March 2026: both stages long due by the system clock
    async with event_producer(infrastructure, private_topic_prefix) as send:
        await send([org.opened, org.directory, *org.results, org.finalized])
    # It dies at its first relay pass that publishes anything (its own start may).
    assert first.exit_code(timeout=120) == 137
    at_crash = await _released(servers, topic, org.period_id)

    killed = await launch_service(
        "publication",
        database_url=database_url,
        consumer_group=group,
        topics=private_topic_prefix,
        extra_env=fast,
    )
    killed.process.kill()
    assert killed.exit_code(timeout=30) == -9

    last = await launch_service(
        "publication",
        database_url=database_url,
        consumer_group=group,
        topics=private_topic_prefix,
        extra_env=fast,
    )

    async def both_stages() -> bool:
        return set(await _released(servers, topic, org.period_id)) == {1, 2}

    await eventually(both_stages, timeout=120, interval=0.5)
    after = await _released(servers, topic, org.period_id)
    last.stop()
    assert set(after) == {1, 2}
    assert all(len(set(ids)) == 1 for ids in after.values()), f"a stage released twice: {after}"
    record_outcome(
        "sigkill",
        "publication",
        stages_on_the_broker_at_crash=sorted(at_crash),
        records_per_stage={str(s): len(ids) for s, ids in after.items()},
        event_ids_per_stage={str(s): len(set(ids)) for s, ids in after.items()},
    )
