"""The consumers' counters, labelled by the registered topic name(s), without any
deployment prefix, so that dashboards read the same in every deployment (their lag is
measured in `forbedring_chassis.metrics`).

`registry=None`: not in the process-wide default registry; the runtime registers
`CONSUMER_METRICS` in each app's own registry, so two services can share a test process.
"""

from prometheus_client import Counter

EVENTS_APPLIED = Counter(
    "forbedring_events_applied_total", "Events applied to the database", ["topic"], registry=None
)
EVENTS_PROCESSED = Counter(
    "forbedring_events_processed_total",
    "Events taken from the topic and done with: applied, skipped as seen, or dead-lettered",
    ["topic"],
    registry=None,
)
EVENTS_DUPLICATE = Counter(
    "forbedring_events_duplicate_total", "Redelivered events skipped", ["topic"], registry=None
)
EVENTS_DEAD_LETTERED = Counter(
    "forbedring_events_dead_lettered_total",
    "Events sent to the dead-letter topic",
    ["topic"],
    registry=None,
)
EVENTS_FAILED = Counter(
    "forbedring_events_failed_total",
    "Failed attempts to apply an event (each retried, or at last dead-lettered), outages included",
    ["topic"],
    registry=None,
)
EVENTS_DIGESTED = Counter(
    "forbedring_events_digested_total",
    "Events decoded and digested by worker processes (see offload), among those applied",
    ["topic"],
    registry=None,
)
CONSUMER_METRICS = (
    EVENTS_PROCESSED,
    EVENTS_APPLIED,
    EVENTS_DUPLICATE,
    EVENTS_FAILED,
    EVENTS_DEAD_LETTERED,
    EVENTS_DIGESTED,
)
