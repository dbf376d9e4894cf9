"""Kafka stopped for 30 s while people answer (the private broker): survey accepts every
answer all along, since the outbox holds the events; once the broker is back the relay
delivers them and aggregation, never restarted, resumes by itself and counts exactly
what survey accepted, per unit."""

import asyncio
import time

from forbedring_survey.testing import small_organisation
from tests.faults.conftest import PrivateSet, PrivateStack
from tests.faults.outcomes import record_outcome
from tests.faults.reconcile import Answering, close_and_reconcile

UNITS = {"unit-a": 9, "unit-b": 7, "unit-c": 5}
OUTAGE_S = 30


async def test_survey_accepts_through_a_kafka_outage_and_nothing_is_lost(
    private_set: PrivateSet, private_stack: PrivateStack
) -> None:
    api = private_stack.survey_api
    organisation = small_organisation(UNITS)
    period = await api.open_period(organisation, k=3, timeout=60)
    answering = await Answering.signed_in(api, organisation, UNITS)
    # A third before, a third spread over the outage, a third after.
    await answering.third(0)
    await asyncio.to_thread(private_set.stop, "kafka")
    stopped = time.monotonic()
    accepted_during = await answering.spread(1, over_s=OUTAGE_S)
    await asyncio.to_thread(private_set.start, "kafka")
    outage_s = time.monotonic() - stopped
    await answering.third(2)
    accepted, refused = answering.accepted, answering.refused
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
