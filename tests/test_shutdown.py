"""A service stopped with SIGTERM (as a deployment would) finishes its work: every answer
it accepted reaches Kafka, and it exits cleanly. The five answers make a complete group
(k = 5), so they go out with the last scheduler tick at shutdown if not before."""

import signal

import httpx
from aiokafka import AIOKafkaConsumer

from forbedring_chassis.testing import Databases, Infrastructure, unique_name
from forbedring_contracts import envelope, topics
from forbedring_contracts.events import ResponseSubmitted
from forbedring_survey.testing import SurveyApi, people_of, small_organisation


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
    organisation = small_organisation({"unit-s": 5})
    async with httpx.AsyncClient(base_url=survey.url) as client:
        api = SurveyApi(client)
        period = await api.open_period(organisation, k=5)
        for person in people_of(organisation, "unit-s"):
            await api.answer(person)
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
