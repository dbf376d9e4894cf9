"""The plan view cached in Redis (`view_cache`) on the real broker, PostgreSQL and Redis:
the access check comes before the cache (a cached plan is never shown to someone who may
not read it), an edit, an escalation and a directory change show at once, and without
Redis the plan is still served."""

from typing import Any

from redis.asyncio import Redis

from forbedring_chassis.testing import eventually
from services.actionplan.tests.integration.conftest import Actionplan
from services.actionplan.tests.integration.test_pages import Web
from services.actionplan.tests.integration.test_plans import measure
from services.actionplan.tests.org import PEOPLE, an_org


async def _cached_keys(app: Actionplan, plan_id: str) -> list[bytes]:
    redis: Redis = app.app.state.runtime.redis
    return [k async for k in redis.scan_iter(match=f"actionplan:view:v1:{plan_id}:*")]


async def test_a_cached_plan_is_refused_to_those_who_may_not_read_it(
    actionplan: Any, produce: Any
) -> None:
    org = an_org()
    async with actionplan() as app:
        plan = await app.opened_plan(produce, org)
        web = Web(app)
        assert (await web.get(f"/plans/{plan['plan_id']}", "leader", "nb")).status_code == 200
        assert await _cached_keys(app, plan["plan_id"]), "the view is cached"
        # Stage 1: not for the unit's employees yet; never for an employee elsewhere.
        for role in ("employee", "elsewhere", "k2_leader"):
            for lang in ("nb", "en"):
                reply = await app.get(f"/api/v1/plans/{plan['plan_id']}?lang={lang}", role)
                assert reply.status_code == 403, (role, reply.text)
                reply = await app.get(
                    f"/api/v1/periods/{org.period_id}/units/S-PUB/plan?lang={lang}", role
                )
                assert reply.status_code == 403, (role, reply.text)
                page = await web.get(f"/plans/{plan['plan_id']}", role, lang)
                assert page.status_code == 403, role


async def test_an_edit_an_escalation_and_a_directory_change_show_at_once(
    actionplan: Any, produce: Any
) -> None:
    org = an_org()
    async with actionplan() as app:
        plan = await app.opened_plan(produce, org)
        parent = await app.plan(org.period_id, "K", role="leader_above")
        assert (await app.plan(org.period_id, "S-PUB")) == plan, "served again from the cache"
        base = f"/api/v1/plans/{plan['plan_id']}"
        added = await app.send("POST", f"{base}/measures", "leader", measure())
        assert added.status_code == 201
        now = await app.plan(org.period_id, "S-PUB")
        assert [m["title"] for m in now["measures"]] == ["Daily safety huddle"]
        # The parent's plan shows the measure lifted to it, though its own revision is
        # unchanged by the lifting.
        m = added.json()
        lifted = await app.escalate(plan["plan_id"], m, "Needs the clinic's budget.")
        assert lifted.status_code == 201, lifted.text
        above = await app.plan(org.period_id, "K", role="leader_above")
        assert above["revision"] == parent["revision"]
        assert [e["title"] for e in above["incoming"]] == ["Daily safety huddle"]
        # A new name in the directory: no plan changes, the view shows it.
        renamed = org.directory.model_copy(
            update={
                "roles": tuple(
                    r.model_copy(update={"name": "Kari Nordmann"})
                    if r.person_id == PEOPLE["leader"]
                    else r
                    for r in org.directory.roles
                ),
                "members": tuple(
                    r.model_copy(update={"name": "Kari Nordmann"})
                    if r.person_id == PEOPLE["leader"]
                    else r
                    for r in org.directory.members
                ),
            }
        )
        await produce([renamed])

        async def shows_the_new_name() -> bool:
            shown = await app.plan(org.period_id, "S-PUB")
            return [p["name"] for p in shown["leaders"]] == ["Kari Nordmann"]

        await eventually(shows_the_new_name, timeout=30)


async def test_without_redis_the_plan_is_served_uncached(actionplan: Any, produce: Any) -> None:
    org = an_org()
    async with actionplan() as app:
        await produce(org.events())
        await app.wait_for_plans(org.period_id)
        runtime = app.app.state.runtime
        working = runtime.redis
        runtime.redis = Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.5)
        try:
            plan = await app.plan(org.period_id, "S-PUB")
            page = await Web(app).get(f"/plans/{plan['plan_id']}", "leader", "en")
            assert page.status_code == 200
            assert "Action plan of Sengepost stor" in page.text
        finally:
            await runtime.redis.aclose()
            runtime.redis = working
        assert await _cached_keys(app, plan["plan_id"]) == []
