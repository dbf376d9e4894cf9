"""Answering over the JSON API: sign-in, invitations, validation, exactly one response."""

import asyncio
from collections import Counter
from datetime import timedelta

from forbedring_contracts import envelope, topics
from forbedring_contracts.events import ParticipationChanged
from forbedring_survey.scheduler import Scheduler
from forbedring_survey.testing import people_of, small_organisation, valid_answers

from .conftest import Harness, open_period


async def test_an_employee_sees_one_invitation_per_unit_naming_the_unit(
    harness: Harness,
) -> None:
    organisation = small_organisation({"a": 2, "b": 2})
    # e-a-0 also works 20 % in unit b, and someone at 0 % in a is not invited.
    organisation["assignments"].append(
        {"employee_id": "e-a-0", "unit_id": "b", "position_percent": 20}
    )
    organisation["assignments"].append(
        {"employee_id": "e-b-1", "unit_id": "a", "position_percent": 0}
    )
    await open_period(harness, organisation)

    invitations = await harness.api.invitations("e-a-0")
    assert sorted((i["unit_id"], i["unit_name"]) for i in invitations) == [
        ("a", "Unit a"),
        ("b", "Unit b"),
    ]
    assert [i["unit_id"] for i in await harness.api.invitations("e-b-1")] == ["b"]
    version = invitations[0]["questionnaire_version"]
    path = f"/api/v1/questionnaires/{version}"
    assert (await harness.api.http.get(path)).status_code == 401
    reply = await harness.api.http.get(path, headers=await harness.api.headers("e-a-0"))
    assert reply.status_code == 200
    assert reply.json()["version"] == version


async def test_signing_in_is_required(harness: Harness) -> None:
    assert (await harness.api.http.get("/api/v1/me/invitations")).status_code == 401
    forged = {"Authorization": "Bearer not-a-token"}
    assert (await harness.api.http.get("/api/v1/me/invitations", headers=forged)).status_code == 401


async def test_invalid_answers_are_refused_per_question_and_nothing_is_stored(
    harness: Harness,
) -> None:
    organisation = small_organisation({"a": 1})
    await open_period(harness, organisation)
    invitation = (await harness.api.invitations("e-a-0"))[0]
    answers = valid_answers()
    first_scale, yes_no = "eng_meaningful", "harm_bullied"
    answers[first_scale] = 9
    answers[yes_no] = "maybe"
    answers["no_such_item"] = 3
    del answers["eng_look_forward"]

    reply = await harness.api.submit("e-a-0", invitation["invitation_id"], answers)

    assert reply.status_code == 422
    problems = {(p["item_id"], p["code"]) for p in reply.json()["detail"]["problems"]}
    assert problems == {
        (first_scale, "expected_scale_answer"),
        ("eng_look_forward", "missing_answer"),
        (yes_no, "expected_yes_no_answer"),
        ("no_such_item", "unknown_item"),
    }
    assert await harness.sql("SELECT * FROM pending_responses") == []
    assert (await harness.api.invitations("e-a-0"))[0]["answered"] is False


async def test_someone_elses_invitation_is_not_found(harness: Harness) -> None:
    await open_period(harness, small_organisation({"a": 2}))
    theirs = (await harness.api.invitations("e-a-1"))[0]["invitation_id"]
    reply = await harness.api.submit("e-a-0", theirs)
    assert reply.status_code == 404


async def test_fifty_concurrent_submissions_of_one_invitation_store_exactly_one(
    harness: Harness,
) -> None:
    await open_period(harness, small_organisation({"a": 1}))
    await harness.api.headers("e-a-0")
    invitation = (await harness.api.invitations("e-a-0"))[0]["invitation_id"]

    replies = await asyncio.gather(*(harness.api.submit("e-a-0", invitation) for _ in range(50)))

    assert Counter(r.status_code for r in replies) == {202: 1, 409: 49}
    refusal = next(r for r in replies if r.status_code == 409).json()["detail"]
    assert refusal["code"] == "already_answered"
    assert "already been answered" in refusal["message"]
    assert len(await harness.sql("SELECT * FROM pending_responses")) == 1


async def test_answers_after_close_are_refused(harness: Harness) -> None:
    organisation = small_organisation({"a": 2})
    period = await open_period(harness, organisation)
    await harness.api.close(period)
    invitation = await harness.api.invitations("e-a-0")
    assert invitation == []  # closed periods have no open invitations


async def test_participation_counts_units_and_their_subunits_at_once(harness: Harness) -> None:
    organisation = small_organisation({"a": 4, "b": 2})
    # c sits under a
    organisation["units"].append(
        {"unit_id": "c", "parent_id": "a", "name": "Unit c", "kind": "cost_centre"}
    )
    organisation["people"].append(
        {"employee_id": "c-0", "name": "C", "email": "c@example.org", "language": "nb"}
    )
    organisation["assignments"].append(
        {"employee_id": "c-0", "unit_id": "c", "position_percent": 50}
    )
    period = await open_period(harness, organisation)
    for person in [*people_of(organisation, "a")[:2], "c-0"]:
        await harness.api.answer(person)

    units = {u["unit_id"]: u for u in (await harness.api.participation(period, "e-b-0"))["units"]}

    assert (units["a"]["respondents"], units["a"]["eligible"], units["a"]["rate"]) == (2, 4, 50.0)
    assert (
        units["a"]["respondents_including_subunits"],
        units["a"]["eligible_including_subunits"],
    ) == (3, 5)
    assert units["c"]["rate"] == 100.0
    assert (
        units["root"]["respondents_including_subunits"],
        units["root"]["eligible_including_subunits"],
    ) == (3, 7)
    assert units["root"]["rate"] is None


async def test_participation_events_go_out_in_batches_at_most_once_per_interval(
    harness: Harness,
) -> None:
    organisation = small_organisation({"a": 4})
    period = await open_period(harness, organisation)
    people = people_of(organisation, "a")
    batched = Scheduler(
        sessions=harness.runtime.sessions,
        clock=harness.clock,
        settings=harness.settings.model_copy(update={"participation_interval_s": 60}),
        wake=harness.runtime.relay.wake,
    )
    await harness.api.answer(people[0])
    await batched.tick()  # first count: sent
    await harness.api.answer(people[1])
    await batched.tick()  # changed, but within the minute: held back
    harness.clock.advance(timedelta(seconds=61))
    await harness.api.answer(people[2])
    await batched.tick()  # sent, with the count as it is now
    await batched.tick()  # unchanged: nothing

    records = await harness.events(topics.PARTICIPATION_CHANGED, expect=2)
    sent = [
        e
        for e in (envelope.decode(r.value, r.headers).event for r in records)
        if isinstance(e, ParticipationChanged)
    ]
    assert [(e.unit_id, e.respondents, e.eligible) for e in sent] == [("a", 1, 4), ("a", 3, 4)]
    assert all(e.as_of.second == 0 and e.as_of.microsecond == 0 for e in sent)
    current = await harness.api.http.get(
        "/api/v1/participation", headers=await harness.api.headers(people[3])
    )
    assert current.json()["period_id"] == period


async def test_me_takes_roles_from_the_directory_not_the_token(harness: Harness) -> None:
    organisation = small_organisation({"a": 2})
    organisation["roles"].append({"employee_id": "e-a-0", "unit_id": "a", "role": "leader"})
    await open_period(harness, organisation)
    reply = await harness.api.http.get("/api/v1/me", headers=await harness.api.headers("e-a-0"))
    assert reply.json() == {
        "employee_id": "e-a-0",
        "name": "Person e-a-0",
        "language": "en",
        "roles": [{"unit_id": "a", "role": "leader"}],
    }
    stranger = await harness.api.http.get("/api/v1/me", headers=await harness.api.headers("x"))
    assert stranger.json()["roles"] == []
