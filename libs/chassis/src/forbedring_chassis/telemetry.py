"""OpenTelemetry: one tracer provider per process; trace context travels in Kafka headers."""

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from fastapi.telemetry import TelemetryConfig
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

TRACE_HEADERS = ("traceparent", "tracestate")


def configure_tracing(*, service: str, otlp_endpoint: str | None) -> None:
    """Install a tracer provider unless one exists (tests install their own first)."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"forbedring-{service}"}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint.rstrip('/')}/v1/traces"))
        )
    trace.set_tracer_provider(provider)


UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/metrics/"})


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED_PATHS


def http_telemetry() -> TelemetryConfig:
    """FastAPI's own server spans, named by the route it has already matched (the contrib
    instrumentor matched every route again per request to name its span: a sixth of a
    cached plan read's time), and none of its metrics (Prometheus's), logs (structlog's)
    or per-dependency spans; probes and scrapes untraced."""
    return {"metrics": False, "logs": False, "operation_spans": False, "exclude": _untraced}


def current_trace_headers() -> dict[str, str]:
    """The W3C trace context of the current span, as message headers."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return {k: v for k, v in carrier.items() if k in TRACE_HEADERS}


def trace_headers_of(span: trace.Span) -> dict[str, str]:
    """The W3C trace context of `span` (not necessarily the current one), as headers."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    return {k: v for k, v in carrier.items() if k in TRACE_HEADERS}


def context_from_headers(
    headers: Iterable[tuple[str, bytes | str]] | Mapping[str, str],
) -> otel_context.Context:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    carrier = {
        k: (v.decode() if isinstance(v, bytes) else v) for k, v in pairs if k in TRACE_HEADERS
    }
    return propagate.extract(carrier)
