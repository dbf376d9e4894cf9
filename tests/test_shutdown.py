"""A service stopped with SIGTERM (as a deployment would) finishes its work: every answer
it accepted reaches Kafka, and it exits cleanly."""

import signal

import httpx
from aiokafka import AIOKafkaConsumer

from forbedring_chassis.testing import Databases, Infrastructure, unique_name
from forbedring_contracts import envelope, topics
from forbedring_contracts.events import ResponseSubmitted


async def test_sigterm_publishes_every_accepted_answer_before_exit(
    launch_service: object,
    databases: Databases,
    infrastructure: Infrastructure,
    private_topic_prefix: str,
) -> None:
    survey = await launch_service(  # type: ignore[operator]
        "survey",
        database_url=await databases.create("survey"),
        topics=private_topic_prefix,
    )
    period = unique_name("period")
    async with httpx.AsyncClient(base_url=survey.url) as client:
        for _ in range(5):
            reply = await client.post(
                "/api/v1/responses",
                json={
                    "period_id": period,
                    "unit_id": "unit-s",
                    "questionnaire_version": "2026.1",
                    "answers": {"q01": 2},
                },
            )
            assert reply.status_code == 201
    survey.process.send_signal(signal.SIGTERM)
    # uvicorn finishes its shutdown, then re-raises SIGTERM so the exit status tells why.
    assert survey.exit_code(timeout=30) in (0, -signal.SIGTERM)

    consumer = AIOKafkaConsumer(
        private_topic_prefix + topics.RESPONSE_SUBMITTED,
        bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=unique_name("reader"),
    )
    await consumer.start()
    try:
        received: list[ResponseSubmitted] = []
        for _ in range(20):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    event = envelope.decode(record.value, record.headers).event
                    assert isinstance(event, ResponseSubmitted)
                    received.append(event)
            if len(received) >= 5:
                break
    finally:
        await consumer.stop()
    assert len(received) == 5
    assert {e.period_id for e in received} == {period}
