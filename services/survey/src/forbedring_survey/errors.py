"""What a use case refuses: the chassis's errors (one JSON error shape for every service,
`{"detail": {"code", "message", "problems"?}}`), and the survey's own, each with a stable
code and the HTTP status the API answers it with."""

from forbedring_chassis.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError

__all__ = [
    "AlreadyAnswered",
    "Conflict",
    "Forbidden",
    "ImportRefusedError",
    "Invalid",
    "InvalidAnswers",
    "NotFound",
    "OrganisationFrozen",
    "PeriodNotOpen",
    "ServiceError",
]


class AlreadyAnswered(Conflict):
    code = "already_answered"


class PeriodNotOpen(Conflict):
    code = "period_not_open"


class OrganisationFrozen(Conflict):
    code = "organisation_frozen"


class ImportRefusedError(Invalid):
    code = "import_refused"


class InvalidAnswers(Invalid):
    code = "invalid_answers"
