"""The demo hospital's plans for last year's period, written through this service's own
JSON API by the demo's leaders, signed in with the development sign-in (`make up` runs it
after the survey's `load-demo` has answered and closed that period):

    python -m forbedring_actionplan.demo --url http://127.0.0.1:8104 --period ID [--wait 300]

It waits until the period's plans are open (aggregation has counted, publication has
released the results, this service has opened a plan for every unit), then:

- Sengepost 3B (`demo-leader`): the results discussed with the leader above, the
  representatives and the staff; focus areas accepted and dismissed; four measures, one
  done and evaluated, one escalated to the department and accepted there; a comment from
  the safety representative; the plan completed (version 1), then reviewed in a staff
  meeting;
- a sibling unit of Sengepost 3B lifts a measure that the department has not decided yet
  (the department leader's inbox);
- the other units, in a fixed order: a third completed, some of those with every measure
  done; a third with measures written but the checklist not met; the rest untouched, so
  the indicator page and the list of units without a plan have something to show.

Idempotent: a second run finds the demo leader's plan written and changes nothing.
Dates are today's (deadlines ahead, meetings held today), in the trust's time zone.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from forbedring_actionplan.context import today
from forbedring_chassis.auth import DevelopmentSignIns, DevSignInRefused

DEMO_LEADER = "demo-leader"
DEMO_HR_ADMIN = "demo-hr-admin"
DEMO_SAFETY_REP = "demo-safety-rep"
DEMO_UNIT_NAME = "Sengepost 3B"
API = "/api/v1"


class DemoError(RuntimeError):
    pass


@dataclass
class Summary:
    period_id: str
    plans: int
    completed: int = 0
    written: int = 0
    untouched: int = 0
    escalations: list[str] = field(default_factory=list)
    already: bool = False


class Client:
    """The JSON API as one signed-in person at a time (tokens from /dev-login, cached)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self._sign_ins = DevelopmentSignIns(http)

    async def _headers(self, person_id: str) -> dict[str, str]:
        return await self._sign_ins.headers(person_id)

    async def get(self, person_id: str, path: str) -> Any:
        reply = await self.http.get(API + path, headers=await self._headers(person_id))
        if reply.status_code != 200:
            raise DemoError(f"GET {path} as {person_id}: {reply.status_code} {reply.text}")
        return reply.json()

    async def patch(self, person_id: str, path: str, body: dict[str, Any]) -> Any:
        reply = await self.http.patch(API + path, json=body, headers=await self._headers(person_id))
        if reply.status_code != 200:
            raise DemoError(f"PATCH {path} as {person_id}: {reply.status_code} {reply.text}")
        return reply.json()

    async def post(self, person_id: str, path: str, body: dict[str, Any] | None = None) -> Any:
        reply = await self.http.post(
            API + path, json=body or {}, headers=await self._headers(person_id)
        )
        if reply.status_code not in (200, 201):
            raise DemoError(f"POST {path} as {person_id}: {reply.status_code} {reply.text}")
        return reply.json()


async def wait_for_plans(client: Client, *, period_id: str, wait_s: float) -> dict[str, Any]:
    """The period's plans, as the HR admin's plan list shows them, once open."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            periods = await client.get(DEMO_HR_ADMIN, "/me/plans")
        except (DemoError, DevSignInRefused, httpx.TransportError):
            periods = []
        for found in periods:
            if found["period"]["period_id"] == period_id and found["plans"]:
                return dict(found)
        if time.monotonic() >= deadline:
            raise DemoError(
                f"No period's plans opened within {wait_s:.0f} s: have aggregation and "
                "publication released the previous period's results? (their logs say)"
            )
        await asyncio.sleep(1)


def _areas(plan: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [a for a in plan["focus"]["areas"] if a["kind"] == kind]


async def _decide(
    client: Client, person: str, plan: dict[str, Any], ref_id: str, decision: str
) -> dict[str, Any]:
    result: dict[str, Any] = await client.post(
        person,
        f"/plans/{plan['plan_id']}/focus-areas/{ref_id}",
        {"decision": decision, "revision": plan["revision"]},
    )
    return result


async def _discuss(
    client: Client, person: str, plan_id: str, steps: Sequence[str], day: date
) -> None:
    notes = {
        "leader_above": "Resultatene gjennomgått med avdelingsleder.",
        "representatives": "Gjennomgått med verneombud og tillitsvalgt.",
        "staff": "Resultatene presentert og drøftet på personalmøte; alle fikk si sitt.",
        "staff_review": "Planen gjennomgått på personalmøte: status for hvert tiltak.",
    }
    for step in steps:
        await client.post(
            person,
            f"/plans/{plan_id}/dialogue",
            {"step": step, "held_on": day.isoformat(), "note": notes[step]},
        )


_PROGRESS = ("status", "evaluation_done", "evaluation_observed", "evaluation_decision")


async def _measure(client: Client, person: str, plan_id: str, **fields: Any) -> dict[str, Any]:
    """Add a measure; its status and evaluation, if given, as the edit that follows."""
    progress = {k: fields.pop(k) for k in _PROGRESS if k in fields}
    result: dict[str, Any] = await client.post(person, f"/plans/{plan_id}/measures", fields)
    if progress and progress.get("status") != "planned":
        result = await client.patch(
            person,
            f"/plans/{plan_id}/measures/{result['measure_id']}",
            {"revision": result["revision"], **progress},
        )
    return result


async def _complete(client: Client, person: str, plan_id: str) -> dict[str, Any]:
    plan = await client.get(person, f"/plans/{plan_id}")
    result: dict[str, Any] = await client.post(
        person, f"/plans/{plan_id}/complete", {"revision": plan["revision"]}
    )
    return result


async def _leader(client: Client, plan_id: str) -> str | None:
    plan = await client.get(DEMO_HR_ADMIN, f"/plans/{plan_id}")
    leaders: list[str] = [p["person_id"] for p in plan["leaders"]]
    return leaders[0] if leaders else None


async def demo_unit(client: Client, plan_id: str, day: date) -> list[str]:
    """Sengepost 3B, written in full; returns the escalation's id."""
    person = DEMO_LEADER
    await _discuss(client, person, plan_id, ("leader_above", "representatives", "staff"), day)
    plan = await client.get(person, f"/plans/{plan_id}")
    follow_up = _areas(plan, "follow_up")
    strengths = _areas(plan, "strength")
    for area in follow_up[:3]:
        plan = await _decide(client, person, plan, area["ref_id"], "accepted")
    for area in follow_up[3:4]:
        plan = await _decide(client, person, plan, area["ref_id"], "dismissed")
    for area in strengths[:1]:
        plan = await _decide(client, person, plan, area["ref_id"], "accepted")
    linked: list[str | None] = [a["ref_id"] for a in follow_up[:3]] or [None]

    def link(n: int) -> str | None:
        return linked[n % len(linked)]

    await _measure(
        client,
        person,
        plan_id,
        category="patient_safety",
        linked_id=link(0),
        title="Avvik gjennomgås på hvert personalmøte",
        description="Fem minutter på hvert personalmøte: ett avvik, hva vi lærte, hva vi endrer.",
        responsible_person_id=DEMO_SAFETY_REP,
        deadline=(day + timedelta(days=120)).isoformat(),
        desired_effect="Flere melder avvik, og alle vet hva som ble gjort med dem.",
        status="in_progress",
    )
    breaks = await _measure(
        client,
        person,
        plan_id,
        category="hse",
        linked_id=link(1),
        title="Pauseavløser på kveldsvakt",
        description="En fast pauseavløser på kveldsvakten, så alle får pausen sin.",
        responsible_person_id=DEMO_LEADER,
        deadline=(day + timedelta(days=90)).isoformat(),
        desired_effect="Alle på kveldsvakt får minst én uforstyrret pause.",
        extra_resources="En ekstra halv stilling på kveld.",
    )
    await _measure(
        client,
        person,
        plan_id,
        category="climate_environment",
        linked_id=link(2),
        title="Kildesortering på skyllerommet",
        description="Merkede beholdere for plast, papp og restavfall på skyllerommet.",
        responsible_person_id=DEMO_LEADER,
        deadline=(day + timedelta(days=30)).isoformat(),
        desired_effect="Mindre restavfall fra posten.",
        status="done",
        evaluation_done="Beholdere satt opp og merket; rutinen tatt opp på personalmøtet.",
        evaluation_observed="Restavfallet ned med om lag en tredjedel på seks uker.",
        evaluation_decision="adopt",
    )
    await _measure(
        client,
        person,
        plan_id,
        category="patient_safety",
        linked_id=link(0),
        title="Opplæring i ny rutine for medisinrommet",
        description="Alle fast ansatte gjennomgår den nye rutinen med fagutviklingssykepleier.",
        responsible_person_id=DEMO_LEADER,
        deadline=(day + timedelta(days=150)).isoformat(),
        desired_effect="Færre feil ved legemiddelhåndtering.",
        continued=True,
    )
    escalated = await client.post(
        person,
        f"/plans/{plan_id}/measures/{breaks['measure_id']}/escalate",
        {
            "reason": "Bemanningen på kveld avgjøres for hele avdelingen, ikke på posten.",
            "revision": breaks["revision"],
        },
    )
    parent_leader = await _leader(client, escalated["to_plan_id"])
    if parent_leader:
        await client.post(parent_leader, f"/escalations/{escalated['escalation_id']}/accept")
    await client.post(
        DEMO_SAFETY_REP,
        f"/plans/{plan_id}/comments",
        {"text": "Verneombudet er med på oppfølgingen av avvik og pauser."},
    )
    if follow_up:
        await _complete(client, person, plan_id)
        await _discuss(client, person, plan_id, ("staff_review",), day)
    return [escalated["escalation_id"]]


async def other_unit(
    client: Client, row: dict[str, Any], kind: str, day: date, n: int
) -> str | None:
    """A unit's plan, `complete` (all done when n is even), `written` (checklist not met)."""
    plan_id = row["plan_id"]
    person = await _leader(client, plan_id)
    if person is None:
        return None
    plan = await client.get(person, f"/plans/{plan_id}")
    areas = _areas(plan, "follow_up") or _areas(plan, "strength")
    linked = areas[0]["ref_id"] if areas else None
    if linked:
        plan = await _decide(client, person, plan, linked, "accepted")
    if kind == "complete":
        await _discuss(client, person, plan_id, ("representatives", "staff"), day)
    done = kind == "complete" and n % 2 == 0
    await _measure(
        client,
        person,
        plan_id,
        category=("patient_safety", "hse", "climate_environment")[n % 3],
        linked_id=linked,
        title=("Fast tavlemøte hver morgen", "Bedre opplæring av nyansatte", "Mindre matsvinn")[
            n % 3
        ],
        responsible_person_id=person,
        deadline=(day + timedelta(days=60 + n % 90)).isoformat(),
        desired_effect="Målt på neste undersøkelse og på personalmøtene underveis.",
        status="done" if done else "in_progress",
        **(
            {
                "evaluation_done": "Gjennomført som planlagt.",
                "evaluation_observed": "De ansatte merker forskjell.",
                "evaluation_decision": "adopt",
            }
            if done
            else {}
        ),
    )
    await _measure(
        client,
        person,
        plan_id,
        category="hse",
        linked_id=linked,
        title="Medarbeidersamtaler med alle innen fristen",
        responsible_person_id=person,
        deadline=(day + timedelta(days=100)).isoformat(),
        desired_effect="" if kind == "written" else "Alle har hatt en samtale med lederen sin.",
        status="done" if done else "planned",
    )
    if kind == "complete" and linked:
        await _complete(client, person, plan_id)
    return person


async def sibling_escalation(
    client: Client, rows: Sequence[dict[str, Any]], demo_plan: dict[str, Any], day: date
) -> tuple[str, str] | None:
    """A unit beside Sengepost 3B lifts a measure, left for the department to decide."""
    parent = demo_plan["parent"]
    if parent is None:
        return None
    for row in rows:
        if row["plan_id"] == demo_plan["plan_id"]:
            continue
        plan = await client.get(DEMO_HR_ADMIN, f"/plans/{row['plan_id']}")
        if plan["parent"] and plan["parent"]["unit_id"] == parent["unit_id"] and plan["leaders"]:
            person = plan["leaders"][0]["person_id"]
            measure = await _measure(
                client,
                person,
                plan["plan_id"],
                category="patient_safety",
                title="Felles vikarpool for avdelingens sengeposter",
                responsible_person_id=person,
                deadline=(day + timedelta(days=120)).isoformat(),
                desired_effect="Ingen vakter uten nok sykepleiere.",
            )
            escalated = await client.post(
                person,
                f"/plans/{plan['plan_id']}/measures/{measure['measure_id']}/escalate",
                {
                    "reason": "En vikarpool må organiseres for hele avdelingen.",
                    "revision": measure["revision"],
                },
            )
            return escalated["escalation_id"], plan["plan_id"]
    return None


async def fill(
    client: Client, *, period_id: str, wait_s: float, now: datetime | None = None
) -> Summary:
    day = today(now or datetime.now(UTC))
    period = await wait_for_plans(client, period_id=period_id, wait_s=wait_s)
    rows: list[dict[str, Any]] = period["plans"]
    summary = Summary(period_id=period_id, plans=len(rows))
    mine = [
        r
        for p in await client.get(DEMO_LEADER, "/me/plans")
        if p["period"]["period_id"] == period_id
        for r in p["plans"]
        if r["unit"]["name"] == DEMO_UNIT_NAME
    ]
    if not mine:
        raise DemoError(f"{DEMO_LEADER} has no plan for {DEMO_UNIT_NAME} in {period_id}.")
    demo_plan = await client.get(DEMO_LEADER, f"/plans/{mine[0]['plan_id']}")
    if demo_plan["dialogue"] or demo_plan["measures"]:
        summary.already = True
        return summary
    summary.escalations += await demo_unit(client, demo_plan["plan_id"], day)
    touched = {demo_plan["plan_id"], *(r["plan_id"] for r in rows if r["measures"])}
    sibling = await sibling_escalation(client, rows, demo_plan, day)
    if sibling:
        summary.escalations.append(sibling[0])
        touched.add(sibling[1])
    parent = demo_plan["parent"]["unit_id"] if demo_plan["parent"] else None
    others = [r for r in rows if r["plan_id"] not in touched and r["unit"]["unit_id"] != parent]
    semaphore = asyncio.Semaphore(6)

    async def one(n: int, row: dict[str, Any]) -> str:
        kind = ("complete", "written", "untouched")[n % 3]
        if kind == "untouched":
            return kind
        async with semaphore:
            await other_unit(client, row, kind, day, n)
        return kind

    kinds = await asyncio.gather(*(one(n, r) for n, r in enumerate(others)))
    summary.completed = 1 + kinds.count("complete")
    summary.written = kinds.count("written")
    summary.untouched = kinds.count("untouched")
    return summary


async def main(url: str, period_id: str, wait_s: float) -> int:
    started = time.monotonic()
    print("waiting for last year's plans (aggregation, publication, then actionplan)", flush=True)
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        try:
            summary = await fill(Client(http), period_id=period_id, wait_s=wait_s)
        except (DemoError, DevSignInRefused) as error:
            print(error, file=sys.stderr)
            return 1
    if summary.already:
        print(f"Demo plans already written: period {summary.period_id}.")
        return 0
    print(
        f"Plans for period {summary.period_id}: {summary.plans} units; {summary.completed} "
        f"completed, {summary.written} written but not complete, {summary.untouched} untouched; "
        f"{len(summary.escalations)} escalations ({time.monotonic() - started:.1f} s).\n"
        f"  {DEMO_LEADER}: the plan of {DEMO_UNIT_NAME}; {DEMO_HR_ADMIN}: the indicators."
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m forbedring_actionplan.demo")
    parser.add_argument("--url", required=True, help="the actionplan service's base URL")
    parser.add_argument("--period", required=True, help="the previous period's id")
    parser.add_argument("--wait", type=float, default=300.0, help="seconds to wait for plans")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.url, args.period, args.wait)))
