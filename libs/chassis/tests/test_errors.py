"""One JSON error shape: a use case's refusal, FastAPI's own HTTP errors and request
validation all answer {"detail": {"code", "message", "problems"?}}."""

from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError

from forbedring_chassis.errors import (
    ErrorBody,
    Invalid,
    NotFound,
    PageAnswer,
    install_error_handlers,
    is_outage,
)


class PeriodFrozen(Invalid):
    code = "period_frozen"


class Body(BaseModel):
    count: int


class CannotConnectNowError(Exception):
    """Named as asyncpg's: a server still starting up."""


def _starting_up() -> DBAPIError:
    """As SQLAlchemy raises it: a DBAPIError over the dialect's error over asyncpg's."""
    adapted = Exception("the database system is starting up")
    adapted.__cause__ = CannotConnectNowError("the database system is starting up")
    error = DBAPIError("connect", None, adapted)
    error.__cause__ = adapted
    return error


def an_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/missing")
    async def missing() -> None:
        raise NotFound("No such period: 2026.", period_id="2026")

    @app.get("/frozen")
    async def frozen() -> None:
        raise PeriodFrozen("Frozen.", problems=[{"unit_id": "A", "message": "closed"}])

    @app.get("/sign-in")
    async def sign_in() -> None:
        raise HTTPException(401, "Sign in first.", headers={"WWW-Authenticate": "Bearer"})

    @app.get("/refused")
    async def refused() -> None:
        raise ConnectionRefusedError(111, "Connect call failed")

    @app.get("/starting-up")
    async def starting_up() -> None:
        raise _starting_up()

    @app.get("/bug")
    async def bug() -> None:
        raise DBAPIError("SELECT 1/0", None, Exception("division by zero"))

    @app.post("/count")
    async def count(body: Body) -> int:
        return body.count

    async def hr_admin(who: str = "") -> str:
        if who != "hr":
            raise PageAnswer(HTMLResponse("<p>Only HR may.</p>", status_code=403))
        return who

    @app.get("/console")
    async def console(who: Annotated[str, Depends(hr_admin)]) -> str:
        return f"welcome, {who}"

    return app


async def request(method: str, path: str, **kwargs: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=an_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, path, **kwargs)  # type: ignore[arg-type]


async def test_a_service_error_has_its_status_code_message_and_extra_fields() -> None:
    reply = await request("GET", "/missing")
    assert reply.status_code == 404
    assert reply.json() == {
        "detail": {"code": "not_found", "message": "No such period: 2026.", "period_id": "2026"}
    }
    frozen = await request("GET", "/frozen")
    assert frozen.status_code == 422
    assert frozen.json()["detail"]["code"] == "period_frozen"
    assert frozen.json()["detail"]["problems"] == [{"unit_id": "A", "message": "closed"}]


async def test_http_and_validation_errors_share_the_shape() -> None:
    unauthorised = await request("GET", "/sign-in")
    assert unauthorised.status_code == 401
    assert unauthorised.headers["www-authenticate"] == "Bearer"
    assert unauthorised.json() == {"detail": {"code": "unauthorized", "message": "Sign in first."}}
    unknown = await request("GET", "/no-such-route")
    assert unknown.json() == {"detail": {"code": "not_found", "message": "Not Found"}}
    invalid = await request("POST", "/count", json={"count": "many"})
    assert invalid.status_code == 422
    detail = invalid.json()["detail"]
    assert detail["code"] == "invalid"
    assert detail["problems"][0]["location"] == ["body", "count"]
    for reply in (unauthorised, unknown, invalid):
        ErrorBody.model_validate(reply.json())


async def test_the_openapi_document_describes_the_422_that_is_sent() -> None:
    app = an_app()
    document = app.openapi()
    documented = document["paths"]["/count"]["post"]["responses"]["422"]
    ref = documented["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["properties"]["detail"] == {"$ref": "#/components/schemas/ErrorDetail"}
    assert "ValidationError" not in document["components"]["schemas"]  # FastAPI's own
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        invalid = await client.post("/count", json={"count": "many"})
    detail_schema = document["components"]["schemas"]["ErrorDetail"]
    assert set(invalid.json()["detail"]) <= set(detail_schema["properties"])
    assert set(detail_schema["required"]) <= set(invalid.json()["detail"])


async def test_a_pages_dependency_answers_with_its_own_page_instead_of_the_route() -> None:
    refused = await request("GET", "/console")
    assert refused.status_code == 403
    assert refused.text == "<p>Only HR may.</p>"
    assert (await request("GET", "/console?who=hr")).json() == "welcome, hr"


@pytest.mark.parametrize("path", ["/refused", "/starting-up"])
async def test_the_database_gone_answers_503_with_a_retry_hint(path: str) -> None:
    reply = await request("GET", path)
    assert reply.status_code == 503
    assert reply.headers["Retry-After"].isdigit()
    assert reply.json()["detail"]["code"] == "unavailable"


async def test_a_database_error_that_is_no_outage_stays_a_server_error() -> None:
    transport = httpx.ASGITransport(app=an_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/bug")).status_code == 500
    assert is_outage(_starting_up())


def test_every_api_operation_documents_the_refusals_it_may_answer() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/api/v1/things/{thing_id}")
    async def read(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @app.post("/api/v1/things")
    async def add() -> dict[str, str]:
        return {}

    @app.get("/page")
    async def page() -> dict[str, str]:
        return {}

    paths = app.openapi()["paths"]
    read_responses = paths["/api/v1/things/{thing_id}"]["get"]["responses"]
    assert {"401", "403", "404"} <= set(read_responses)
    assert "409" not in read_responses
    assert {"401", "403", "404", "409"} <= set(paths["/api/v1/things"]["post"]["responses"])
    schema = read_responses["401"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ErrorBody"}
    assert "ErrorBody" in app.openapi()["components"]["schemas"]
    assert set(paths["/page"]["get"]["responses"]) == {"200"}
