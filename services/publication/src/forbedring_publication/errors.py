"""Errors the API turns into responses with a clear message."""

from typing import Any


class PublicationError(Exception):
    status_code = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"detail": self.message, **self.extra}


class NotFound(PublicationError):
    status_code = 404


class Forbidden(PublicationError):
    status_code = 403


class Conflict(PublicationError):
    status_code = 409


class Invalid(PublicationError):
    status_code = 422
