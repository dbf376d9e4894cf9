"""What a use case refuses, with the HTTP status the API answers it with."""

from collections.abc import Sequence
from typing import Any


class SurveyError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, problems: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)

    def body(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.problems:
            detail["problems"] = self.problems
        return {"detail": detail}


class NotFound(SurveyError):
    status_code = 404
    code = "not_found"


class Forbidden(SurveyError):
    status_code = 403
    code = "forbidden"


class Conflict(SurveyError):
    status_code = 409
    code = "conflict"


class AlreadyAnswered(Conflict):
    code = "already_answered"


class PeriodNotOpen(Conflict):
    code = "period_not_open"


class OrganisationFrozen(Conflict):
    code = "organisation_frozen"


class Invalid(SurveyError):
    status_code = 422
    code = "invalid"


class ImportRefusedError(Invalid):
    code = "import_refused"


class InvalidAnswers(Invalid):
    code = "invalid_answers"
