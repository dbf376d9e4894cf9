"""A clock jump for the schedulers: the settable clock leaps far past several thresholds at
once (a host suspended for a year, an NTP step) and the scheduler ticks again and again
there. Survey opens and closes the period once each; publication releases each stage
once; actionplan reminds each plan and measure once, overdue. Counted on the broker: the
events each sent, for the test's period only."""

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from forbedring_chassis.clock import SettableClock
from forbedring_chassis.runtime import Runtime
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    event_producer,
    eventually,
    in_process,
    unique_name,
    verifier_for_tests,
)
from forbedring_contracts import topics
from forbedring_notification.domain.kinds import Kind
from forbedring_publication.app import create_app as create_publication
from forbedring_publication.scheduler import Scheduler as PublicationScheduler
from forbedring_publication.settings import PublicationSettings
from forbedring_survey.app import create_app as create_survey
from forbedring_survey.scheduler import Scheduler as SurveyScheduler
from forbedring_survey.settings import SurveySettings
from forbedring_survey.testing import SurveyApi, small_organisation
from services.actionplan.tests.integration.conftest import actionplan, published
from services.actionplan.tests.integration.test_plans import measure
from services.actionplan.tests.org import an_org as ap_org
from services.notification.tests.integration.conftest import notification
from services.notification.tests.org import CLOSES_AT, a_period, holders, members_of
from services.publication.tests.integration.conftest import FINALIZED_AT, an_org, token
from tests.conftest import SURVEY_TEST_SETTINGS
from tests.faults.broker import records_of
from tests.faults.conftest import SMTP_PORT, PrivateSet
from tests.faults.outcomes import record_outcome

JUMP = timedelta(days=400)  # past every threshold of a period at once
TICKS = 5  # ticks at the far side: each must find nothing more to do
__all__ = ["actionplan", "notification"]  # the services' own fixtures, used here
SINK_API = "http://127.0.0.1:58125/api/v1/messages"  # the private set's SMTP sink


async def _events(
    infrastructure: Infrastructure, prefix: str, names: Sequence[str], period_id: str
) -> list[tuple[str, dict[str, Any]]]:
    """(topic, body) of every event on `names` for `period_id` now (the outbox has sent
    all once the caller's probe says so)."""
    servers = infrastructure.kafka_bootstrap_servers
    found = await records_of(servers, [prefix + n for n in names], period_id)
    return [(r.topic.removeprefix(prefix), r.body) for r in found]


async def test_a_clock_jump_opens_and_closes_a_survey_period_once(
    infrastructure: Infrastructure, databases: Databases, private_topic_prefix: str
) -> None:
    start = datetime(2027, 1, 4, 7, 0, tzinfo=UTC)
    clock = SettableClock(start)
    settings = SurveySettings(
        database_url=await databases.create("survey"),
        **infrastructure.connections(private_topic_prefix),
        **{**SURVEY_TEST_SETTINGS, "scheduler_enabled": False},  # type: ignore[arg-type]
    )
    app = create_survey(settings, clock=clock)
    async with in_process(app, "http://survey") as client:
        runtime: Runtime = app.state.runtime
        scheduler = SurveyScheduler(sessions=runtime.sessions, clock=clock, settings=settings)
        api = SurveyApi(client)
        period = (
            await api.create_period(
                opens_at=start + timedelta(days=1), closes_at=start + timedelta(days=43)
            )
        )["id"]
        reply = await api.import_json(period, small_organisation({"unit-a": 4}))
        assert reply.status_code == 201, reply.text
        await scheduler.tick()
        assert (await api.period(period))["status"] == "scheduled", "not yet due"

        clock.set(start + JUMP)
        for _ in range(TICKS):
            await scheduler.tick()
        assert (await api.period(period))["status"] == "closed"

        async def both_sent() -> bool:
            sent = await _events(
                infrastructure,
                private_topic_prefix,
                [topics.PERIOD_OPENED, topics.PERIOD_CLOSED],
                period,
            )
            return {t for t, _ in sent} == {topics.PERIOD_OPENED, topics.PERIOD_CLOSED}

        await eventually(both_sent, timeout=60, interval=1.0)
        sent = await _events(
            infrastructure,
            private_topic_prefix,
            [topics.PERIOD_OPENED, topics.PERIOD_CLOSED],
            period,
        )
    kinds = sorted(t for t, _ in sent)
    assert kinds == sorted([topics.PERIOD_OPENED, topics.PERIOD_CLOSED]), kinds
    record_outcome(
        "clock-jump",
        "survey periods",
        jump_days=JUMP.days,
        ticks_after_jump=TICKS,
        period_opened=kinds.count(topics.PERIOD_OPENED),
        period_closed=kinds.count(topics.PERIOD_CLOSED),
    )


async def test_a_clock_jump_releases_each_publication_stage_once(
    infrastructure: Infrastructure, databases: Databases, private_topic_prefix: str
) -> None:
    org = an_org()
    clock = SettableClock(FINALIZED_AT - timedelta(hours=1))
    app = create_publication(
        PublicationSettings(
            database_url=await databases.create("publication"),
            **infrastructure.connections(private_topic_prefix),
            consumer_group=unique_name("publication"),
            scheduler_enabled=False,
            outbox_poll_interval_s=0.05,
        ),
        clock=clock,
        verifier=verifier_for_tests(),
    )
    scheduler: PublicationScheduler = app.state.scheduler
    async with (
        in_process(app, "http://publication") as client,
        event_producer(infrastructure, private_topic_prefix) as send,
    ):
        await send([org.opened, org.directory, *org.results, org.finalized])

        async def finalised() -> bool:
            reply = await client.get(
                f"/api/v1/periods/{org.period_id}/schedule", headers=token("hr_admin")
            )
            return reply.status_code == 200 and reply.json().get("finalised") is True

        await eventually(finalised, timeout=60)
        await scheduler.tick()  # before the jump: nothing due
        clock.set(FINALIZED_AT + JUMP)
        for _ in range(TICKS):
            await scheduler.tick()

        async def both_released() -> bool:
            sent = await _events(
                infrastructure, private_topic_prefix, [topics.RESULTS_RELEASED], org.period_id
            )
            return {b["stage"] for _, b in sent} == {1, 2}

        await eventually(both_released, timeout=60, interval=1.0)
        sent = await _events(
            infrastructure, private_topic_prefix, [topics.RESULTS_RELEASED], org.period_id
        )
    stages = sorted(b["stage"] for _, b in sent)
    assert stages == [1, 2], f"each stage released once: {stages}"
    record_outcome(
        "clock-jump",
        "publication stages",
        jump_days=JUMP.days,
        ticks_after_jump=TICKS,
        stage_1_released=stages.count(1),
        stage_2_released=stages.count(2),
    )


async def test_a_clock_jump_past_every_deadline_reminds_each_subject_once_overdue(
    actionplan: Any, produce: Any, infrastructure: Infrastructure, topic_prefix: str
) -> None:
    """Past every threshold at once, only the most urgent is sent (docs: the deadlines
    rule): each plan and measure once, overdue; the earlier thresholds count as passed."""
    org = ap_org()
    start = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
    async with actionplan(clock=SettableClock(start)) as running:
        await produce(org.events())
        await running.wait_for_plans(org.period_id)
        plan = await running.plan(org.period_id, "S-PUB")
        created = await running.send(
            "POST",
            f"/api/v1/plans/{plan['plan_id']}/measures",
            "leader",
            measure(deadline="2027-04-30"),
        )
        assert created.status_code == 201, created.text
        before = [s for s in await running.scheduler.tick() if s.period_id == org.period_id]
        assert before == [], "more than 30 days left: nothing due"
        running.clock.set(start + JUMP)
        sent = []
        for _ in range(TICKS):
            sent += [s for s in await running.scheduler.tick() if s.period_id == org.period_id]
        await running.outbox_empty()
    events = await published(
        infrastructure, topic_prefix, topics.PLAN_DEADLINE_APPROACHING, org.period_id
    )
    keyed = Counter((e["measure_id"] or e["plan_id"], e["threshold_days"]) for e in events)
    subjects = {s.subject_id for s in sent}
    assert len(subjects) == len(org.opened.units) + 1, "every plan and the measure"
    assert len(sent) == len(subjects), "each subject reminded once"
    assert set(keyed.values()) == {1}, keyed
    assert {threshold for _, threshold in keyed} == {0}, "only the most urgent: overdue"
    assert len(events) == len(sent)
    record_outcome(
        "clock-jump",
        "actionplan deadlines",
        jump_days=JUMP.days,
        ticks_after_jump=TICKS,
        subjects=len(subjects),
        reminders_sent=len(events),
        thresholds_sent=sorted({t for _, t in keyed}),
    )


async def _sink() -> list[dict[str, Any]]:
    """Every message the private set's SMTP sink holds (its summaries)."""
    async with httpx.AsyncClient(timeout=30) as client:
        reply = await client.get(SINK_API)
        reply.raise_for_status()
        messages: list[dict[str, Any]] = reply.json()["messages"]
        return messages


async def test_a_clock_jump_mails_each_reminder_and_digest_once_also_after_a_restart(
    notification: Any,
    private_set: PrivateSet,
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
) -> None:
    """From the opening day to three days before closing at once (a Friday morning in
    Oslo): both reminders are due and every weekly digest day passed; each person gets
    each reminder once and each leader today's digest once, the digests missed not at all
    (the digest's day is in its key). A restart on the same database sends nothing more."""
    await asyncio.to_thread(private_set.start, "smtp")
    async with httpx.AsyncClient(timeout=30) as client:
        (await client.delete(SINK_API)).raise_for_status()  # this test's mail only
    period = a_period(unique_name("period"))
    invited, leaders = members_of("S11", "S12", "K2"), holders("leader")
    database_url = await databases.create("notification")
    group = unique_name("notification")
    jumped_to = CLOSES_AT - timedelta(days=3) + timedelta(hours=1)
    async with notification(
        smtp_port=SMTP_PORT, database_url=database_url, consumer_group=group
    ) as running:
        async with event_producer(infrastructure, private_topic_prefix) as send:
            await send([period.directory, period.opened])
        await running.consumed()
        assert await running.scheduler.tick() == 0, "the opening day: nothing scheduled"
        running.clock.set(jumped_to)
        written = [await running.scheduler.tick() for _ in range(TICKS)]
        await running.settled()
        rows = await running.deliveries(period_id=period.period_id)
    first = await _sink()
    async with notification(
        smtp_port=SMTP_PORT,
        database_url=database_url,
        consumer_group=group,
        clock=SettableClock(jumped_to),
    ) as restarted:
        written_after_restart = [await restarted.scheduler.tick() for _ in range(TICKS)]
        await restarted.settled()
    after = await _sink()
    assert written == [2 * len(invited) + len(leaders)] + [0] * (TICKS - 1), written
    assert written_after_restart == [0] * TICKS, written_after_restart
    kinds = Counter(r["kind"] for r in rows)
    assert kinds[Kind.REMINDER] == 2 * len(invited), "reminders 1 and 2, each to everyone"
    assert kinds[Kind.PARTICIPATION_DIGEST] == len(leaders), "today's digest only"
    assert all(r["status"] == "sent" for r in rows), Counter(r["status"] for r in rows)
    at_sink = Counter(m["MessageID"] for m in after)
    assert set(at_sink.values()) == {1}, f"an email sent twice: {at_sink.most_common(3)}"
    assert set(at_sink) == {r["message_id"] for r in rows}
    assert len(after) == len(first), "the restart sent nothing again"
    record_outcome(
        "clock-jump",
        "notification mails",
        jumped_days=(jumped_to - period.opened.opens_at).days,
        ticks_after_jump=TICKS,
        reminders_sent=kinds[Kind.REMINDER],
        digests_sent=kinds[Kind.PARTICIPATION_DIGEST],
        emails_at_sink=len(after),
        sent_twice=sum(1 for n in at_sink.values() if n > 1),
        sent_after_restart=len(after) - len(first),
    )
