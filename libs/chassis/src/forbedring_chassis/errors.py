"""One JSON error shape for every service.

A use case raises a subclass of `ServiceError`; the chassis turns it, FastAPI's own
`HTTPException`s (sign-in, 404 of an unknown route) and request validation errors into

    {"detail": {"code": "not_found", "message": "...", "problems": [...]}}

with the status the error names. `problems` (optional) lists what was wrong, one object
per problem; a subclass may add fields of its own to `detail` with `extra`.

The database gone (refused, dropped or starting up) is not the caller's fault nor a bug:
it answers 503 `unavailable` with `Retry-After`, so clients and the proxy try again
later instead of seeing a 500 (docs/resilience.md).
"""

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException

RETRY_AFTER_S = 5
"""What a 503 for an outage asks the client to wait, in seconds: about a restart's time."""


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable: e.g. `not_found`, `invalid`.")
    message: str = Field(description="For people: what went wrong and what to do.")
    problems: list[dict[str, Any]] | None = Field(
        default=None, description="What was wrong, one object per problem, when known."
    )


class ErrorBody(BaseModel):
    """The body of every error response (documented in the README)."""

    detail: ErrorDetail


class ServiceError(Exception):
    """What a use case refuses. Subclasses set `status_code` and `code`."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        problems: Sequence[Mapping[str, Any]] = (),
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.problems = [dict(p) for p in problems]
        self.extra = extra
        self.headers: dict[str, str] = {}
        """Response headers the refusal needs (e.g. Retry-After)."""

    def body(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"code": self.code, "message": self.message, **self.extra}
        if self.problems:
            detail["problems"] = self.problems
        return {"detail": jsonable_encoder(detail)}


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class Invalid(ServiceError):
    status_code = 422
    code = "invalid"


class PageAnswer(Exception):
    """Raised by a page's dependency to answer with `response` instead of the route (the
    sign-in page, a refusal): one dependency guards every route of a console."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _page_answer(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageAnswer)
    return exc.response


_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "too_many_requests",
    503: "unavailable",
}


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    code = _CODES.get(exc.status_code, f"http_{exc.status_code}")
    return JSONResponse(
        {"detail": {"code": code, "message": message}},
        status_code=exc.status_code,
        headers=exc.headers,
    )


def is_outage(exc: BaseException) -> bool:
    """Database or network trouble, not the request's or the event's fault: the routes
    answer 503, the consumers retry it forever. The driver's own error is looked for in
    the chain of causes too (SQLAlchemy wraps asyncpg's "the database system is starting
    up" in a plain DBAPIError)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OperationalError | ConnectionError | OSError):
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if type(seen).__name__ in _CANNOT_CONNECT:
            return True
        seen = seen.__cause__
    return False


# asyncpg's errors of a server that takes no connections now (by name: the driver belongs
# to SQLAlchemy's dialect and is not imported here).
_CANNOT_CONNECT = frozenset(
    {"CannotConnectNowError", "ConnectionDoesNotExistError", "AdminShutdownError"}
)


async def _outage(request: Request, exc: Exception) -> JSONResponse:
    if not is_outage(exc):
        raise exc
    return JSONResponse(
        {
            "detail": {
                "code": "unavailable",
                "message": "The service cannot reach its database just now: try again shortly.",
            }
        },
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"location": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
        for e in exc.errors()
    ]
    return JSONResponse(
        jsonable_encoder(
            {
                "detail": {
                    "code": "invalid",
                    "message": "The request is not valid: see problems.",
                    "problems": problems,
                }
            }
        ),
        status_code=422,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(PageAnswer, _page_answer)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for outage in (DBAPIError, OSError):  # TimeoutError and ConnectionError are OSErrors
        app.add_exception_handler(outage, _outage)
    _document_the_one_shape(app)


def _document_the_one_shape(app: FastAPI) -> None:
    """FastAPI documents its own 422 body (`HTTPValidationError`) on every route with
    parameters; the handler above answers in the one shape, so the document says that."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(body.pop("$defs", {}))
                schemas["HTTPValidationError"] = body
                schemas.pop("ValidationError", None)
            _document_refusals(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# What any route of the JSON API may answer besides its own statuses: every one needs a
# sign-in, and each names a period, unit, plan or person it checks. Documented once here,
# so that a generated client (and schemathesis, in tests/security) expects them.
_API_REFUSALS = {
    "401": "Not signed in, or the token is not valid (expired, not yet valid, another "
    "issuer or audience, a bad signature): sign in again.",
    "403": "Signed in, but this person may not do this, or not at this stage.",
    "404": "Nothing of that id (period, unit, plan, ...) that this person may see.",
}
_CHANGE_REFUSALS = {
    "409": "The change does not fit the current state: e.g. a stale revision, or done already.",
}


def _document_refusals(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(body.pop("$defs", {}))
    schemas.setdefault("ErrorBody", body)
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for path, operations in document.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            refusals = dict(_API_REFUSALS)
            if method in ("post", "put", "patch", "delete"):
                refusals.update(_CHANGE_REFUSALS)
            responses = operation.setdefault("responses", {})
            for status, description in refusals.items():
                responses.setdefault(status, {"description": description, "content": content})
