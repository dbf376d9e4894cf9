"""Traces exported over OTLP/HTTP to a real receiver process (`otlp_receiver.py`), from
survey and aggregation running as their own processes on the real broker.

One trace runs from survey's HTTP request through the outbox (the row staged in the
request keeps its traceparent; the relay's publish continues it), Kafka, and
aggregation's consumer. Which request: not a respondent's. By docs/anonymity.md no trace
may tie a person's request to a response, so answering stages nothing and its trace ends
in survey; responses leave in groups of k, in the scheduler (a trace of no one's request)
or, at close, in the HR admin's close request, whose trace is the one followed here. The
test also checks the answering trace reaches nothing beyond survey.
"""

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from forbedring_chassis.testing import Databases, eventually, free_port, unique_name
from forbedring_contracts import topics
from forbedring_survey.testing import SurveyApi, people_of, small_organisation

RECEIVER = Path(__file__).with_name("otlp_receiver.py")
Span = dict[str, Any]


@pytest.fixture
async def receiver(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """The receiver's endpoint and the file it writes the spans to."""
    out = tmp_path / "spans.jsonl"
    out.touch()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(RECEIVER), "--port", str(port), "--out", str(out)],
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), timeout=60)
        assert b"listening" in line, line
        yield f"http://127.0.0.1:{port}", out
    finally:
        process.terminate()
        process.wait(timeout=10)


def received(out: Path) -> list[Span]:
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def ancestors(span: Span, by_id: dict[str, Span]) -> list[Span]:
    chain = []
    while span.get("parent_span_id") in by_id:
        span = by_id[span["parent_span_id"]]
        chain.append(span)
    return chain


async def test_one_trace_spans_the_close_request_the_outbox_kafka_and_the_consumer(
    launch_service: Any,
    databases: Databases,
    private_topic_prefix: str,
    receiver: tuple[str, Path],
) -> None:
    endpoint, out = receiver
    # Export within a fraction of a second, not the batch processor's default 5 s.
    exporting = {"OTEL_BSP_SCHEDULE_DELAY": "200"}
    survey = await launch_service(
        "survey",
        database_url=await databases.create("survey"),
        topics=private_topic_prefix,
        extra_env={**exporting, "SURVEY_OTLP_ENDPOINT": endpoint},
    )
    await launch_service(
        "aggregation",
        database_url=await databases.create("aggregation"),
        topics=private_topic_prefix,
        consumer_group=unique_name("aggregation"),
        extra_env={
            **exporting,
            "AGGREGATION_OTLP_ENDPOINT": endpoint,
            "AGGREGATION_COUNT_WORKERS": "0",
        },
    )
    topic = private_topic_prefix + topics.RESPONSE_SUBMITTED
    organisation = small_organisation({"unit-t": 2})
    person = people_of(organisation, "unit-t")[0]
    async with httpx.AsyncClient(base_url=survey.url, timeout=60) as client:
        api = SurveyApi(client)
        period = await api.open_period(organisation)  # k = 5: 1 answer waits for close
        invitation = (await api.invitations(person))[0]["invitation_id"]
        await api.answer(person)
        await api.close(period)

    def spans() -> list[Span]:
        return received(out)

    def close_request(found: list[Span]) -> Span | None:
        return next(
            (
                s
                for s in found
                if s["service"] == "forbedring-survey"
                and s["kind"] == "server"
                and s["name"].startswith("POST")
                and s["name"].endswith("/close")
            ),
            None,
        )

    async def consumed_in_the_close_trace() -> bool:
        found = spans()
        request = close_request(found)
        return request is not None and any(
            s["service"] == "forbedring-aggregation"
            and s["kind"] == "consumer"
            and s["trace_id"] == request["trace_id"]
            and s["attributes"].get("messaging.destination.name") == topic
            for s in found
        )

    await eventually(consumed_in_the_close_trace, timeout=120, interval=0.3)
    found = spans()
    request = close_request(found)
    assert request is not None
    trace = [s for s in found if s["trace_id"] == request["trace_id"]]
    by_id = {s["span_id"]: s for s in trace}

    # The outbox: the relay's publish span is a descendant of the request's span, which
    # it can only be if the row kept the request's traceparent from staging.
    relay = [s for s in trace if s["scope"] == "forbedring.outbox" and topic in s["name"]]
    assert relay, "the relay's publish is in the request's trace"
    assert all(request in ancestors(s, by_id) for s in relay)
    producers = [
        s
        for s in trace
        if s["kind"] == "producer" and s["service"] == "forbedring-survey" and topic in s["name"]
    ]
    assert producers, "the Kafka publish is in the request's trace"
    assert all(request in ancestors(s, by_id) for s in producers)
    # Kafka and the consumer: aggregation's span continues survey's publish (its parent is
    # a producer span of this trace, sent over Kafka's headers), not merely the trace id.
    consumers = [
        s
        for s in trace
        if s["service"] == "forbedring-aggregation"
        and s["kind"] == "consumer"
        and s["attributes"].get("messaging.destination.name") == topic
    ]
    assert consumers
    producer_ids = {s["span_id"] for s in producers}
    assert all(s["parent_span_id"] in producer_ids for s in consumers), consumers

    # Anonymity: the answering request's trace stays in survey and publishes nothing;
    # no span names the invitation or the person.
    answering = [
        s
        for s in found
        if s["service"] == "forbedring-survey"
        and s["kind"] == "server"
        and s["name"] == "POST /api/v1/responses"
    ]
    assert len(answering) == 1, [s["name"] for s in found if s["kind"] == "server"]
    its_trace = [s for s in found if s["trace_id"] == answering[0]["trace_id"]]
    assert {s["service"] for s in its_trace} == {"forbedring-survey"}
    assert not [s for s in its_trace if s["kind"] in ("producer", "consumer")]
    assert not [s for s in its_trace if s["scope"] == "forbedring.outbox"]
    everything = out.read_text()
    assert invitation not in everything
    assert person not in everything
