"""One trace follows an answer from survey's HTTP request, through the outbox and Kafka,
into aggregation's consumer."""

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from forbedring_chassis.testing import eventually
from forbedring_contracts import topics
from forbedring_survey.testing import people_of, small_organisation
from tests.conftest import Stack


async def test_one_trace_spans_the_http_request_the_kafka_hop_and_the_consumer(
    stack: Stack, topic_prefix: str
) -> None:
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    # A response leaves survey either with its unit's group of k (in the scheduler, in no
    # one's request, so that no trace ties it to the person) or at close, in the HR
    # admin's request: that request's trace runs through the outbox into aggregation.
    api = stack.survey_api
    organisation = small_organisation({"unit-t": 2})
    period = await api.open_period(organisation)
    await api.answer(people_of(organisation, "unit-t")[0])
    await api.close(period)
    request_span = next(
        s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER and "/close" in s.name
    )
    trace_id = request_span.context.trace_id
    topic = topic_prefix + topics.RESPONSE_SUBMITTED

    def in_trace(kind: SpanKind) -> list[ReadableSpan]:
        return [
            s
            for s in exporter.get_finished_spans()
            if s.context.trace_id == trace_id and s.kind == kind and topic in s.name
        ]

    async def consumed_in_same_trace() -> bool:
        return bool(in_trace(SpanKind.CONSUMER))

    await eventually(consumed_in_same_trace)
    assert in_trace(SpanKind.PRODUCER), "the Kafka publish is part of the request's trace"
    consumer = in_trace(SpanKind.CONSUMER)[0]
    # The consumer's span continues the publish: its parent is a producer span of this
    # trace, for the same topic (not merely some span that shares the trace id).
    assert consumer.parent is not None
    producers = {s.context.span_id for s in in_trace(SpanKind.PRODUCER)}
    assert consumer.parent.span_id in producers
    assert (consumer.attributes or {}).get("messaging.destination.name") == topic
