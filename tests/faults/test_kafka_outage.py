"""Kafka stopped for 30 s while people answer (the private broker): survey accepts every
answer all along, since the outbox holds the events; once the broker is back the relay
delivers them and aggregation, never restarted, resumes by itself and counts exactly
what survey accepted, per unit."""

import asyncio
import time

from forbedring_survey.testing import people_of, small_organisation
from tests.faults.conftest import PrivateSet, PrivateStack
from tests.faults.outcomes import record_outcome
from tests.faults.reconcile import close_and_reconcile

UNITS = {"unit-a": 9, "unit-b": 7, "unit-c": 5}
OUTAGE_S = 30


async def test_survey_accepts_through_a_kafka_outage_and_nothing_is_lost(
    private_set: PrivateSet, private_stack: PrivateStack
) -> None:
    api = private_stack.survey_api
    organisation = small_organisation(UNITS)
    period = await api.open_period(organisation, k=3, timeout=60)
    people = {unit: people_of(organisation, unit) for unit in UNITS}
    for unit in UNITS:  # sign in before the outage: tokens need no broker anyway
        for person in people[unit]:
            await api.headers(person)
    accepted = dict.fromkeys(UNITS, 0)
    refused: list[str] = []

    async def answer(person: str, unit: str) -> None:
        invitation = (await api.invitations(person))[0]
        reply = await api.submit(person, invitation["invitation_id"])
        if reply.status_code == 202:
            accepted[unit] += 1
        else:
            refused.append(f"{reply.status_code} {reply.text[:200]}")

    # A third before, a third during (spread over the outage), a third after.
    thirds = [
        [(p, u) for u in UNITS for i, p in enumerate(people[u]) if i % 3 == part]
        for part in range(3)
    ]
    for person, unit in thirds[0]:
        await answer(person, unit)
    await asyncio.to_thread(private_set.stop, "kafka")
    stopped = time.monotonic()
    during = thirds[1]
    for n, (person, unit) in enumerate(during):
        await answer(person, unit)
        # Spread the answers over the outage rather than all in its first seconds.
        pause = stopped + OUTAGE_S * (n + 1) / len(during) - time.monotonic()
        await asyncio.sleep(max(pause, 0))
    accepted_during = sum(1 for _ in during) - len(refused)
    await asyncio.to_thread(private_set.start, "kafka")
    outage_s = time.monotonic() - stopped
    for person, unit in thirds[2]:
        await answer(person, unit)
    assert not refused, refused
    counted = await close_and_reconcile(
        private_stack, period, accepted, expected=UNITS, timeout=240
    )
    record_outcome(
        "kafka-stopped",
        "survey+aggregation",
        outage_s=round(outage_s, 1),
        accepted=sum(accepted.values()),
        accepted_during_outage=accepted_during,
        refused=len(refused),
        counted=sum(counted.values()),
        per_unit={u: {"accepted": accepted[u], "counted": counted[u]} for u in UNITS},
    )
