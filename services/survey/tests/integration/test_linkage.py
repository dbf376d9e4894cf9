"""Who answered must not be linkable to what was answered (`docs/anonymity.md`).

Twenty known people answer in one unit. The test records what an insider could collect:
every table of the survey database (with PostgreSQL's `xmin` and `ctid`), every event on
the survey's topics with its headers and record timestamp, every log line, and the trace
spans. Knowing who answered what (the answers are made distinguishable), it then tries to
link responses to people by order, by time and by ids, and asserts that each attempt
fails.
"""

import itertools
import json
import logging
from typing import Any

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from forbedring_contracts import envelope, topics
from forbedring_contracts.events import ResponseSubmitted
from forbedring_survey.domain.questionnaire import load_questionnaire
from forbedring_survey.testing import people_of, small_organisation, valid_answers

from .conftest import Harness, open_period

UNIT = "ward"
PEOPLE = 20
GROUPS = (7, 8, 5)  # answered between releases: tick, tick, close


def answers_of(index: int) -> dict[str, Any]:
    """Person `index`'s answers: the first two items encode the index, so the test
    (and only the test) knows whose response is whose."""
    answers = valid_answers()
    answers["eng_meaningful"] = 1 + index % 5
    answers["eng_look_forward"] = 1 + index // 5
    return answers


def owner(answers: dict[str, Any] | str) -> int:
    if isinstance(answers, str):
        answers = json.loads(answers)
        assert isinstance(answers, dict)
    return int(answers["eng_meaningful"]) - 1 + 5 * (int(answers["eng_look_forward"]) - 1)


def rank_agreement(order: list[int]) -> float:
    """Kendall's tau of `order` against 0..n-1: 1 means the same order."""
    pairs = list(itertools.combinations(range(len(order)), 2))
    concordant = sum(1 if order[i] < order[j] else -1 for i, j in pairs)
    return concordant / len(pairs)


@pytest.fixture
def spans() -> InMemorySpanExporter:
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


async def test_no_order_time_or_id_links_a_response_to_a_person(
    harness: Harness, spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    organisation = small_organisation({UNIT: PEOPLE})
    people = people_of(organisation, UNIT)
    period = await open_period(harness, organisation, k=5)
    invitations = {p: (await harness.api.invitations(p))[0]["invitation_id"] for p in people}
    gender = next(q for q in load_questionnaire("2026.1").background.questions)
    background = {gender.id: gender.options[0].code}

    submission_order: list[int] = []
    replies: list[str] = []
    with structlog.testing.capture_logs() as log_lines:
        index = 0
        for size in GROUPS:
            for _ in range(size):
                person = people[index]
                reply = await harness.api.submit(
                    person, invitations[person], answers_of(index), background
                )
                assert reply.status_code == 202, reply.text
                replies.append(reply.text)
                submission_order.append(index)
                index += 1
            if size != GROUPS[-1]:
                await harness.tick()
        await harness.api.close(period)

    # --- what an insider collects -----------------------------------------------------
    records = await harness.events(topics.RESPONSE_SUBMITTED, expect=PEOPLE)
    events = [envelope.decode(r.value, r.headers) for r in records]
    responses = [e.event for e in events if isinstance(e.event, ResponseSubmitted)]
    assert len(responses) == PEOPLE
    tables = {
        name: [
            dict(row)
            for row in await harness.sql(
                f"SELECT xmin::text AS xmin, ctid::text AS ctid, * FROM {name}"
            )
        ]
        for name in (
            "invitations",
            "responses",
            "pending_responses",
            "background_answers",
            "pending_background",
            "participation_sent",
            "outbox",
        )
    }
    columns = {
        (row["table_name"], row["column_name"]): row["data_type"]
        for row in await harness.sql(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        )
    }
    log_text = [json.dumps(line, default=str) for line in log_lines] + [
        record.getMessage() for record in caplog.records
    ]
    request_traces = {
        format(s.context.trace_id, "032x")
        for s in spans.get_finished_spans()
        if s.kind == SpanKind.SERVER and "/api/v1/responses" in s.name
    }

    # --- nothing is left waiting, and nothing about a response names a person ----------
    assert tables["pending_responses"] == []
    assert tables["pending_background"] == []
    assert tables["outbox"] == []
    for table in ("responses", "pending_responses", "background_answers", "pending_background"):
        names = {c for (t, c) in columns if t == table}
        assert names <= {
            "id",
            "period_id",
            "unit_id",
            "questionnaire_version",
            "answers",
            "released_on",
        }
    assert not any(
        "time" in kind
        for (t, _), kind in columns.items()
        if t
        in (
            "invitations",
            "responses",
            "background_answers",
            "pending_responses",
            "pending_background",
        )
    )
    assert columns[("responses", "released_on")] == "date"

    # --- ordering: released order is not submission order ----------------------------
    # One unit, one key: the events sit on one partition in release order.
    assert len({r.partition for r in records}) == 1
    released_order = [owner(dict(r.answers)) for r in responses]
    assert sorted(released_order) == submission_order
    start = 0
    taus = []
    for size in GROUPS:
        group = released_order[start : start + size]
        # a group holds exactly the people who answered since the last release
        assert sorted(group) == submission_order[start : start + size]
        assert size >= 5
        taus.append(rank_agreement([g - start for g in group]))
        start += size
    # Shuffled: the chance of every group coming out in submission order is 1/(7!8!5!).
    assert taus != [1.0, 1.0, 1.0]
    # ... and the database's physical order follows the shuffle, not the submissions.
    by_ctid = sorted(
        tables["responses"], key=lambda r: tuple(int(x) for x in r["ctid"].strip("()").split(","))
    )
    stored_order = [owner(r["answers"]) for r in by_ctid]
    assert stored_order != submission_order

    # --- timing: one date for everything, no instant ----------------------------------
    assert len({e.time for e in events}) == 1
    only_time = events[0].time
    assert (only_time.hour, only_time.minute, only_time.second, only_time.microsecond) == (
        0,
        0,
        0,
        0,
    )
    assert {r.timestamp for r in records} == {int(only_time.timestamp() * 1000)}
    assert len({row["released_on"] for row in tables["responses"]}) == 1

    # --- transaction ids: no xmin pairs a response with a person ----------------------
    unit_invitations = [i for i in tables["invitations"] if i["unit_id"] == UNIT]
    assert len({i["xmin"] for i in unit_invitations}) == 1  # rewritten together at release
    for response in tables["responses"] + tables["background_answers"]:
        sharing = [i for i in unit_invitations if i["xmin"] == response["xmin"]]
        assert sharing in ([], unit_invitations)

    # --- ids: no id of a response appears anywhere near a person ----------------------
    response_ids = {str(r.response_id) for r in responses} | {
        str(r["id"]) for r in tables["responses"]
    }
    event_ids = {e.id for e in events}
    # (the log lines are checked below: none names a person at all)
    person_side = json.dumps(tables["invitations"], default=str) + json.dumps(replies)
    for value in response_ids | event_ids:
        assert value not in person_side
    assert {str(r["id"]) for r in tables["background_answers"]}.isdisjoint(response_ids)
    # nothing on the response topic names a person or an invitation
    response_side = json.dumps(
        [[r.value.decode(), [(k, v.decode()) for k, v in r.headers]] for r in records]
    ) + json.dumps(tables["responses"], default=str)
    for person in people:
        assert person not in response_side
    for invitation_id in invitations.values():
        assert invitation_id not in response_side
    # no log line names a person or an invitation at all (even at DEBUG, where the
    # Kafka client logs the released payloads)
    for line in log_text:
        assert not any(person in line for person in people), line
        assert not any(invitation_id in line for invitation_id in invitations.values()), line
    # no event carries the trace of anyone's submission
    for record in records:
        headers = {k: v.decode() for k, v in record.headers}
        traceparent = headers.get("traceparent", "")
        assert not any(trace_id in traceparent for trace_id in request_traces)
