"""The reconciliation every submission case ends with: the period closed, aggregation
counts, per unit, exactly the answers survey accepted (its 202s), neither fewer nor more,
and that is every person the test meant to answer."""

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from forbedring_chassis.testing import eventually
from forbedring_survey.testing import SurveyApi, people_of
from tests.conftest import Stack


async def close_and_reconcile(
    stack: Stack,
    period_id: str,
    accepted: dict[str, int],
    *,
    expected: dict[str, int],
    timeout: float,
) -> dict[str, int]:
    """Close the period (a unit still holding fewer than k answers releases them then),
    wait until every unit's count equals what survey accepted there, assert that against
    `expected` (the people per unit), and return the counts."""
    await stack.survey_api.close(period_id)

    async def all_counted() -> bool:
        for unit, wanted in accepted.items():
            if await stack.count(period_id, unit) != wanted:
                return False
        return True

    await eventually(all_counted, timeout=timeout, interval=1.0)
    counted = {unit: await stack.count(period_id, unit) for unit in accepted}
    assert counted == accepted == expected, (counted, accepted, expected)
    return counted


@dataclass
class Answering:
    """Everyone of the period's units answering once, in thirds (before, during and after
    a fault), all signed in beforehand (a token needs no broker); what survey accepted
    (its 202s) per unit, and what it refused."""

    api: SurveyApi
    thirds: list[list[tuple[str, str]]]  # (person, unit)
    accepted: dict[str, int]
    refused: list[str] = field(default_factory=list)

    @classmethod
    async def signed_in(
        cls, api: SurveyApi, organisation: dict[str, Any], units: Iterable[str]
    ) -> "Answering":
        people = {unit: people_of(organisation, unit) for unit in units}
        for unit in units:
            for person in people[unit]:
                await api.headers(person)
        thirds = [
            [(p, u) for u in units for i, p in enumerate(people[u]) if i % 3 == part]
            for part in range(3)
        ]
        return cls(api, thirds, dict.fromkeys(units, 0))

    async def answer(self, person: str, unit: str) -> None:
        invitation = (await self.api.invitations(person))[0]
        reply = await self.api.submit(person, invitation["invitation_id"])
        if reply.status_code == 202:
            self.accepted[unit] += 1
        else:
            self.refused.append(f"{reply.status_code} {reply.text[:200]}")

    async def third(self, part: int) -> None:
        for person, unit in self.thirds[part]:
            await self.answer(person, unit)

    async def spread(self, part: int, *, over_s: float) -> int:
        """Third `part` at even intervals over `over_s` seconds from now, rather than all in
        the first of them; returns how many of it survey accepted."""
        start, refused_before = time.monotonic(), len(self.refused)
        during = self.thirds[part]
        for n, (person, unit) in enumerate(during):
            await self.answer(person, unit)
            pause = start + over_s * (n + 1) / len(during) - time.monotonic()
            await asyncio.sleep(max(pause, 0))
        return len(during) - (len(self.refused) - refused_before)
