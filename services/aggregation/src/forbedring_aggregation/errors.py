"""What the aggregation service refuses, in the chassis's one error shape."""

from forbedring_chassis.errors import NotFound


class PeriodUnknown(NotFound):
    code = "period_unknown"


class NotFinalYet(NotFound):
    code = "not_final_yet"
