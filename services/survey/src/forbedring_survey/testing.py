"""Helpers for tests that drive the survey over HTTP (service and cross-service tests):
a small organisation, valid answers, and a client that signs people in with the
development issuer."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from forbedring_chassis.auth import DevelopmentSignIns
from forbedring_survey.domain.questionnaire import load_questionnaire

HR_ADMIN = "hr-admin"
ROOT = "root"


def small_organisation(units: dict[str, int], *, people_prefix: str = "e") -> dict[str, Any]:
    """An import document: a root with one leaf unit per entry of `units`, each with that
    many people at 100 %; the HR admin sits in the root (and is not invited: 0 %)."""
    org: dict[str, list[dict[str, Any]]] = {
        "units": [{"unit_id": ROOT, "parent_id": None, "name": "Test trust", "kind": "enterprise"}],
        "people": [
            {"employee_id": HR_ADMIN, "name": "H R", "email": "hr@example.org", "language": "nb"}
        ],
        "assignments": [{"employee_id": HR_ADMIN, "unit_id": ROOT, "position_percent": 0}],
        "roles": [{"employee_id": HR_ADMIN, "unit_id": ROOT, "role": "hr_admin"}],
    }
    for unit_id, size in units.items():
        org["units"].append(
            {"unit_id": unit_id, "parent_id": ROOT, "name": f"Unit {unit_id}", "kind": "section"}
        )
        for index in range(size):
            person = f"{people_prefix}-{unit_id}-{index}"
            org["people"].append(
                {
                    "employee_id": person,
                    "name": f"Person {person}",
                    "email": f"{person}@example.org",
                    "language": "en",
                }
            )
            org["assignments"].append(
                {"employee_id": person, "unit_id": unit_id, "position_percent": 100}
            )
    return org


def people_of(organisation: dict[str, Any], unit_id: str) -> list[str]:
    return [
        a["employee_id"]
        for a in organisation["assignments"]
        if a["unit_id"] == unit_id and a["position_percent"] > 0
    ]


def valid_answers(version: str = "2026.1", value: int = 4) -> dict[str, Any]:
    """An answer for every scored item: `value` on scale items, `no` on yes/no items."""
    questionnaire = load_questionnaire(version)
    return {item.id: value if item.kind == "scale" else "no" for item in questionnaire.items}


class SurveyApi:
    """The survey's JSON API as people use it, signed in through the development issuer."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self._sign_ins = DevelopmentSignIns(http)

    async def headers(self, employee_id: str) -> dict[str, str]:
        return await self._sign_ins.headers(employee_id)

    async def create_period(
        self, *, opens_at: datetime | None = None, **fields: Any
    ) -> dict[str, Any]:
        body = {
            "name": "ForBedring test",
            "opens_at": (opens_at or datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
            "questionnaire_version": "2026.1",
            **{k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()},
        }
        reply = await self.http.post(
            "/api/v1/periods", json=body, headers=await self.headers(HR_ADMIN)
        )
        assert reply.status_code == 201, reply.text
        period: dict[str, Any] = reply.json()
        return period

    async def import_json(self, period_id: str, organisation: dict[str, Any]) -> httpx.Response:
        return await self.http.post(
            f"/api/v1/periods/{period_id}/organisation",
            content=json.dumps(organisation),
            headers={**await self.headers(HR_ADMIN), "Content-Type": "application/json"},
        )

    async def period(self, period_id: str) -> dict[str, Any]:
        reply = await self.http.get(
            f"/api/v1/periods/{period_id}", headers=await self.headers(HR_ADMIN)
        )
        reply.raise_for_status()
        period: dict[str, Any] = reply.json()
        return period

    async def open_period(
        self, organisation: dict[str, Any], *, timeout: float = 30.0, **fields: Any
    ) -> str:
        """Create a period opening now, import `organisation`, wait until the scheduler
        has opened it. Returns its id."""
        period_id: str = (await self.create_period(**fields))["id"]
        reply = await self.import_json(period_id, organisation)
        assert reply.status_code == 201, reply.text
        deadline = asyncio.get_running_loop().time() + timeout
        while (await self.period(period_id))["status"] != "open":
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"period {period_id} did not open within {timeout}s")
            await asyncio.sleep(0.1)
        return period_id

    async def invitations(self, employee_id: str) -> list[dict[str, Any]]:
        reply = await self.http.get(
            "/api/v1/me/invitations", headers=await self.headers(employee_id)
        )
        reply.raise_for_status()
        found: list[dict[str, Any]] = reply.json()
        return found

    async def submit(
        self,
        employee_id: str,
        invitation_id: str,
        answers: dict[str, Any] | None = None,
        background: dict[str, Any] | None = None,
    ) -> httpx.Response:
        return await self.http.post(
            "/api/v1/responses",
            json={
                "invitation_id": invitation_id,
                "answers": valid_answers() if answers is None else answers,
                "background": background or {},
            },
            headers=await self.headers(employee_id),
        )

    async def answer(self, employee_id: str, answers: dict[str, Any] | None = None) -> None:
        """Answer the person's first open invitation; fail unless accepted."""
        invitation = (await self.invitations(employee_id))[0]
        reply = await self.submit(employee_id, invitation["invitation_id"], answers)
        assert reply.status_code == 202, reply.text

    async def close(self, period_id: str) -> dict[str, Any]:
        reply = await self.http.post(
            f"/api/v1/periods/{period_id}/close", headers=await self.headers(HR_ADMIN)
        )
        assert reply.status_code == 200, reply.text
        closed: dict[str, Any] = reply.json()
        return closed

    async def participation(self, period_id: str, employee_id: str) -> dict[str, Any]:
        reply = await self.http.get(
            f"/api/v1/periods/{period_id}/participation", headers=await self.headers(employee_id)
        )
        reply.raise_for_status()
        found: dict[str, Any] = reply.json()
        return found
