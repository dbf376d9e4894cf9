"""PostgreSQL stopped and started again under load (the private server, which holds every
service's database): while it is down each service answers a route that needs its
database with 503, `Retry-After` and the one error shape (never a 500), and survey takes
no answer it cannot keep; once it is back every service answers again without a restart,
the answers refused meanwhile are sent again as the hint says and accepted, and
aggregation counts exactly what survey accepted, per unit."""

import asyncio
import importlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest

from forbedring_chassis.testing import (
    Databases,
    eventually,
    in_process,
    signed_in_as,
    unique_name,
    verifier_for_tests,
)
from forbedring_survey.testing import HR_ADMIN, people_of, small_organisation
from tests.faults.conftest import PrivateSet, PrivateStack
from tests.faults.outcomes import record_outcome
from tests.faults.reconcile import close_and_reconcile
from tests.service_routes import settings_class

UNITS = {"unit-a": 8, "unit-b": 6}
DOWN_S = 10
# A route of each service that reads its database, as someone allowed to call it.
ROUTES = {
    "publication": "/api/v1/periods/{period}/units",
    "actionplan": "/api/v1/me/plans",
    "notification": "/api/v1/deliveries",
    "aggregation": "/api/v1/periods/{period}/units",
}


@pytest.fixture
async def others(
    private_set: PrivateSet, private_databases: Databases, private_topics: str
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """publication, actionplan and notification in this process on the private set."""
    async with AsyncExitStack() as stack:
        clients = {}
        for name in ("publication", "actionplan", "notification"):
            settings = settings_class(name).model_validate(
                {
                    "database_url": await private_databases.create(name),
                    **private_set.infrastructure.connections(private_topics),
                    "consumer_group": unique_name(name),
                }
            )
            module = importlib.import_module(f"forbedring_{name}.app")
            app = module.create_app(settings, verifier=verifier_for_tests())
            clients[name] = await stack.enter_async_context(
                in_process(app, f"http://{name}", headers=signed_in_as(HR_ADMIN))
            )
        yield clients


async def test_a_postgres_restart_is_answered_503_with_a_hint_and_nothing_accepted_is_lost(
    private_set: PrivateSet,
    private_stack: PrivateStack,
    others: dict[str, httpx.AsyncClient],
) -> None:
    api = private_stack.survey_api
    organisation = small_organisation(UNITS)
    period = await api.open_period(organisation, k=3, timeout=60)
    clients = {**others, "aggregation": private_stack.aggregation}
    # Signed in and invited before the outage (each needs the database).
    invited: list[tuple[str, str, str]] = []
    for unit in UNITS:
        for person in people_of(organisation, unit):
            invitation = (await api.invitations(person))[0]["invitation_id"]
            invited.append((person, unit, invitation))

    async def probe(service: str) -> httpx.Response:
        if service == "survey":
            return await api.http.get(
                "/api/v1/me/invitations", headers=await api.headers(invited[0][0])
            )
        return await clients[service].get(ROUTES[service].format(period=period))

    services = ["survey", *ROUTES]
    for service in services:
        reply = await probe(service)
        assert reply.status_code < 500, (service, reply.status_code, reply.text)

    accepted = dict.fromkeys(UNITS, 0)
    refused: list[tuple[str, str, str]] = []
    unclean: list[str] = []

    async def submit(person: str, unit: str, invitation: str) -> bool:
        reply = await api.submit(person, invitation)
        if reply.status_code == 202:
            accepted[unit] += 1
            return True
        if reply.status_code == 503 and reply.headers.get("Retry-After", "").isdigit():
            assert reply.json()["detail"]["code"] == "unavailable"
            return False
        unclean.append(f"survey {reply.status_code} {reply.text[:300]}")
        return False

    # Half answer before, half while the server is down.
    half = len(invited) // 2
    for entry in invited[:half]:
        assert await submit(*entry), unclean
    await asyncio.to_thread(private_set.stop, "postgres")
    during: dict[str, tuple[int, str | None]] = {}
    try:
        for entry in invited[half:]:
            if not await submit(*entry):
                refused.append(entry)
        for service in services:
            reply = await probe(service)
            during[service] = (reply.status_code, reply.headers.get("Retry-After"))
            if reply.status_code == 503:
                assert reply.json()["detail"]["code"] == "unavailable", reply.text
        await asyncio.sleep(DOWN_S)
    finally:
        await asyncio.to_thread(private_set.start, "postgres")
    assert not unclean, unclean
    assert all(status == 503 and hint for status, hint in during.values()), during

    # Back without a restart of any service: the pools open new connections.
    async def every_service_answers() -> bool:
        statuses = [(await probe(s)).status_code for s in services]
        return all(status < 500 for status in statuses)

    await eventually(every_service_answers, timeout=60, interval=1.0)
    for entry in refused:  # sent again, as Retry-After says
        assert await submit(*entry), unclean
    counted = await close_and_reconcile(
        private_stack, period, accepted, expected=UNITS, timeout=180
    )
    record_outcome(
        "postgres-restarted",
        "every service",
        down_s=DOWN_S,
        answers_while_down={s: {"status": c, "retry_after": h} for s, (c, h) in during.items()},
        submissions_refused_503=len(refused),
        accepted=sum(accepted.values()),
        counted=sum(counted.values()),
    )
