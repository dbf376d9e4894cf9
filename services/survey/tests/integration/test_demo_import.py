"""The generated demo hospital (12,000 people) imports through the API, completely.

How long it takes is measured by bench/bench_import.py (goal: under 30 s), not asserted.
"""

from forbedring_survey.demo.hospital import generate_demo_hospital
from forbedring_survey.domain.org_import import to_json
from forbedring_survey.testing import HR_ADMIN

from .conftest import Harness


async def test_the_whole_demo_hospital_imports_through_the_api(harness: Harness) -> None:
    organisation = generate_demo_hospital()
    document = to_json(organisation)
    period = await harness.api.create_period()
    headers = {**await harness.api.headers(HR_ADMIN), "Content-Type": "application/json"}

    reply = await harness.api.http.post(
        f"/api/v1/periods/{period['id']}/organisation", content=document, headers=headers
    )

    assert reply.status_code == 201, reply.text[:2000]
    assert reply.json()["invitations"] == len(organisation.invitations())
    rows = await harness.sql("SELECT count(*) FROM people WHERE period_id = $1", period["id"])
    assert rows[0][0] == len(organisation.people)
