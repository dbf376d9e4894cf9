"""The research export: background variables for HR only, closed periods only, units
under k left out whole, and nothing that joins a row to a response."""

import csv
import io

from forbedring_survey.domain.questionnaire import load_questionnaire
from forbedring_survey.testing import HR_ADMIN, people_of, small_organisation

from .conftest import Harness, open_period

K = 5


async def test_hr_exports_background_per_unit_without_small_units(harness: Harness) -> None:
    organisation = small_organisation({"BIG": 7, "SMALL": 4}, people_prefix="rx")
    period_id = await open_period(harness, organisation, k=K)
    questions = load_questionnaire("2026.1").background.questions
    gender, age = questions[0], questions[1]
    big, small = people_of(organisation, "BIG"), people_of(organisation, "SMALL")
    for index, person in enumerate(big + small):
        invitation = (await harness.api.invitations(person))[0]
        background = {
            gender.id: gender.options[index % 2].code,
            age.id: age.options[index % len(age.options)].code,
        }
        reply = await harness.api.submit(person, invitation["invitation_id"], background=background)
        assert reply.status_code == 202, reply.text

    path = f"/api/v1/periods/{period_id}/research-export.csv"
    while_open = await harness.api.http.get(path, headers=await harness.api.headers(HR_ADMIN))
    assert while_open.status_code == 409, "not while answers can still change the groups"

    await harness.api.close(period_id)
    employee = await harness.api.http.get(path, headers=await harness.api.headers(big[0]))
    assert employee.status_code == 403
    anonymous = await harness.api.http.get(path)
    assert anonymous.status_code == 401

    reply = await harness.api.http.get(path, headers=await harness.api.headers(HR_ADMIN))
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/csv")
    assert reply.headers["x-units-withheld"] == "1"
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert list(rows[0]) == ["unit_id", "unit_name", *(q.id for q in questions)]
    assert {row["unit_id"] for row in rows} == {"BIG"}, "SMALL (4 < k) is left out whole"
    assert len(rows) == len(big)
    expected_genders = sorted(gender.options[i % 2].code for i in range(len(big)))
    assert sorted(row[gender.id] for row in rows) == expected_genders
    # No column could join a row to a response or a person.
    response_ids = {str(r["id"]) for r in await harness.sql("SELECT id FROM responses")}
    assert not any(value in response_ids for row in rows for value in row.values())
    assert not any(person in reply.text for person in big)
