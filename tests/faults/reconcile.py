"""The reconciliation every submission case ends with: the period closed, aggregation
counts, per unit, exactly the answers survey accepted (its 202s), neither fewer nor more,
and that is every person the test meant to answer."""

from forbedring_chassis.testing import eventually
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
