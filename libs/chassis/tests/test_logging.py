import io
import json
import sys

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from forbedring_chassis.logging import configure_logging, get_logger


def test_log_lines_are_json_with_the_current_trace_and_span(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(service="test", level="INFO", json=True)
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        get_logger("t").info("chassis.test.logged", units=3)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    context = span.get_span_context()
    assert line["event"] == "chassis.test.logged"
    assert line["units"] == 3
    assert line["service"] == "test"
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")
    assert trace.get_current_span().get_span_context().is_valid is False


def test_a_log_line_goes_to_stdout_as_it_is_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not to the stream stdout was when logging was configured: that one may have been
    replaced and closed since (a test's capture), and logging to it would raise."""
    configured, now = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", configured)
    configure_logging(service="test", level="INFO", json=True)
    configured.close()
    monkeypatch.setattr(sys, "stdout", now)
    get_logger("t").info("chassis.test.after_replacement")
    assert json.loads(now.getvalue().splitlines()[-1])["event"] == "chassis.test.after_replacement"


def test_a_log_line_that_cannot_be_written_is_dropped_not_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure_logging(service="test", level="INFO", json=True)
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stdout", closed)
    get_logger("t").exception("chassis.test.unwritable")  # the caller goes on
