"""Run the aggregation service: `python -m forbedring_aggregation`."""

from forbedring_aggregation.settings import AggregationSettings
from forbedring_chassis.serve import serve

serve("forbedring_aggregation.app:create_app", settings=AggregationSettings())
