"""Run the aggregation service: `python -m forbedring_aggregation`."""

import gc

import forbedring_aggregation.app  # noqa: F401 - imported before the freeze below
from forbedring_aggregation.settings import AggregationSettings
from forbedring_chassis.serve import serve

# Everything imported so far lives as long as the process: move it out of the garbage
# collector's sight, so the full collections that a batch of decoded events triggers
# scan the batch, not every module, schema and validator (measured with batches of
# 10,000: a full collection every other batch cost about 0.13 s of the batch's 0.75 s),
# and collect the young generation about once a batch rather than every 50,000 objects:
# a batch keeps its decoded events (about a million objects) until it commits, and each
# young collection walked the ones allocated since the last (3 runs each: 10.0-12.5 s of
# CPU for the benchmark's 200,000 responses, against 13.0 s). The events hold no
# reference cycles; reference counting frees them, so little waits for the collector.
gc.freeze()
gc.set_threshold(1_000_000, 50, 100)
serve("forbedring_aggregation.app:create_app", settings=AggregationSettings())
