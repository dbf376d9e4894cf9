"""structlog configured once per process: JSON lines carrying the current trace and span ids."""

import contextlib
import logging
import sys
from typing import Any

import structlog
from opentelemetry import trace


def _add_trace_ids(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict["trace_id"] = format(span_context.trace_id, "032x")
        event_dict["span_id"] = format(span_context.span_id, "016x")
    return event_dict


_HANDLER_NAME = "forbedring-json"


class _PrintLogger(structlog.PrintLogger):
    """Prints to sys.stdout as it is at each line. A line that cannot be written (stdout
    closed, a broken pipe) is dropped rather than raised into the code that logs, as the
    standard library's handlers do: a consumer's retry loop logs its failures, and must
    not fail itself for that."""

    def msg(self, message: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            super().msg(message)

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


def _print_logger(*_: Any) -> _PrintLogger:
    return _PrintLogger()


def configure_logging(*, service: str, level: str = "INFO", json: bool = True) -> None:
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_ids,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=_print_logger,
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries (FastStream, aiokafka, uvicorn) log through the standard library: render
    # their records as the same JSON lines, and keep them quiet unless they warn.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    handler.name = _HANDLER_NAME
    root = logging.getLogger()
    # Replace only our own handler (configure may run once per app in a process); others,
    # such as pytest's log capture, stay.
    root.handlers[:] = [h for h in root.handlers if h.name != _HANDLER_NAME] + [handler]
    root.setLevel(logging.WARNING)
    # At DEBUG the Kafka client logs every record it sends, payload and all: a whole
    # directory of names and addresses. Never below INFO, whatever the root level.
    logging.getLogger("aiokafka").setLevel(logging.INFO)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
