"""The checked-in JSON Schemas and AsyncAPI document: fresh, compatible, anonymous."""

import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Annotated, Any

import jsonschema
import pytest
import yaml
from pydantic import Field, create_model

from forbedring_contracts import events, topics
from forbedring_contracts.compat import breaking_changes
from forbedring_contracts.envelope import encode
from forbedring_contracts.examples import EXAMPLES
from forbedring_contracts.generate import (
    ASYNCAPI_FILE,
    CONTRACTS_DIR,
    breaking_against_checked_in,
    json_schema,
    render,
    schema_path,
    stale_files,
)
from forbedring_contracts.topics import TOPICS, Topic

REGENERATE = "regenerate with: uv run python -m forbedring_contracts.generate"


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return render()


def _with_model(name: str, model: Any) -> tuple[Topic, ...]:
    """The registry with one topic's model replaced, as a careless edit would do."""
    return tuple(
        dataclasses.replace(topic, payload=model) if topic.name == name else topic
        for topic in TOPICS
    )


# --- staleness -----------------------------------------------------------------------------


def test_the_checked_in_files_are_what_the_models_generate(rendered: dict[str, str]) -> None:
    assert stale_files(rendered) == [], REGENERATE


@pytest.mark.filterwarnings("error")  # FastStream warns when two schemas share a name
def test_generation_is_deterministic(rendered: dict[str, str]) -> None:
    assert render() == rendered


def test_the_staleness_check_catches_a_changed_model() -> None:
    class ResponseSubmitted(events.ResponseSubmitted):
        """The same name as the real model, and one field more."""

        device: str | None = Field(default=None, description="Added without regenerating.")

    altered = _with_model(topics.RESPONSE_SUBMITTED, ResponseSubmitted)

    assert stale_files(render(altered)) == [
        ASYNCAPI_FILE,
        schema_path(topics.RESPONSE_SUBMITTED),
    ]


def test_the_staleness_check_catches_a_removed_topic() -> None:
    fewer = tuple(topic for topic in TOPICS if topic.name != topics.PLAN_UPDATED)

    assert stale_files(render(fewer)) == [ASYNCAPI_FILE, schema_path(topics.PLAN_UPDATED)]


# --- breaking changes ----------------------------------------------------------------------


def _committed(path: Path) -> dict[str, Any] | None:
    """The version of `path` in the last commit, if the checkout is a git repository and
    the file was committed (the lead commits; until then only the working tree counts)."""
    try:
        shown = subprocess.run(
            ["git", "show", f"HEAD:./{path.name}"],
            cwd=path.parent,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        return None
    if shown.returncode != 0:
        return None
    committed: dict[str, Any] = json.loads(shown.stdout)
    return committed


def test_the_models_break_no_checked_in_schema() -> None:
    found = breaking_against_checked_in()

    assert not found, "\n".join(
        [f"{name}: {change}" for name, changes in found.items() for change in changes]
        + ["a published topic only grows: make the change additive or publish a .v2 topic"]
    )


@pytest.mark.parametrize("topic", TOPICS, ids=lambda topic: topic.name)
def test_the_models_break_no_committed_schema(topic: Topic) -> None:
    committed = _committed(CONTRACTS_DIR / schema_path(topic.name))
    if committed is not None:
        assert breaking_changes(committed, json_schema(topic)) == []


def test_the_breaking_change_check_catches_a_new_required_field() -> None:
    class ResponseSubmitted(events.ResponseSubmitted):
        device: str = Field(description="Added as required: old producers do not send it.")

    altered = _with_model(topics.RESPONSE_SUBMITTED, ResponseSubmitted)

    found = breaking_against_checked_in(altered)
    assert list(found) == [topics.RESPONSE_SUBMITTED]
    assert [str(change) for change in found[topics.RESPONSE_SUBMITTED]] == [
        "$: new required property: 'device'"
    ]


def test_the_breaking_change_check_catches_a_removed_field_inside_a_union() -> None:
    kept = {
        name: (field.annotation, field)
        for name, field in events.PublishedUnitResults.model_fields.items()
        if name != "eligible"
    }
    published = create_model("PublishedUnitResults", __base__=events.Event, **kept)  # type: ignore[call-overload]
    unit_results = Annotated[
        published | events.SuppressedUnitResults,
        Field(discriminator="published", title="UnitResults"),
    ]

    found = breaking_against_checked_in(_with_model(topics.UNIT_RESULTS, unit_results))

    assert [str(change) for change in found[topics.UNIT_RESULTS]] == [
        "$<PublishedUnitResults>: removed property: 'eligible' is gone"
    ]


# --- the documents themselves --------------------------------------------------------------


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda event: type(event).__name__)
def test_the_example_events_validate_against_the_checked_in_schemas(
    event: events.Event,
) -> None:
    path = CONTRACTS_DIR / schema_path(topics.topic_of(event).name)
    schema = json.loads(path.read_text(encoding="utf-8"))

    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(encode(event).value), schema)


def test_the_asyncapi_document_describes_every_topic() -> None:
    document = yaml.safe_load((CONTRACTS_DIR / ASYNCAPI_FILE).read_text(encoding="utf-8"))

    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == topics.all_topic_names()
    assert {operation["action"] for operation in document["operations"].values()} == {"send"}
    message = document["components"]["messages"][f"{topics.RESPONSE_SUBMITTED}:Message"]
    assert message["payload"] == {"$ref": "#/components/schemas/ResponseSubmitted"}
    assert message["headers"]["properties"]["ce_type"] == {
        "const": "no.forbedring.survey.response-submitted.v1"
    }
    assert message["examples"][0]["headers"]["ce_time"].endswith("T00:00:00Z")


# --- anonymity guard -----------------------------------------------------------------------

IDENTIFYING = ("person", "employee", "email", "user", "time", "timestamp", "submitted_at", "seq")
ALSO_IDENTIFYING = ("invitation", "login", "ip", "agent", "date", "name")


def _property_names(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        own = set(schema.get("properties", {}))
        return own.union(*(_property_names(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_property_names(value) for value in schema))
    return set()


def test_a_response_has_no_property_that_could_identify_or_date_it() -> None:
    schema = json.loads(
        (CONTRACTS_DIR / schema_path(topics.RESPONSE_SUBMITTED)).read_text(encoding="utf-8")
    )
    names = _property_names(schema)

    assert names == {"response_id", "period_id", "unit_id", "questionnaire_version", "answers"}
    for name in names:
        words = name.lower().split("_")
        assert not any(part in name.lower() for part in IDENTIFYING), name
        assert not any(word in ALSO_IDENTIFYING for word in words), name
        assert not name.lower().endswith("_at"), name


def test_the_anonymity_guard_would_catch_a_timestamp() -> None:
    class ResponseSubmitted(events.ResponseSubmitted):
        submitted_at: str | None = None

    altered = dataclasses.replace(
        topics.topic(topics.RESPONSE_SUBMITTED), payload=ResponseSubmitted
    )
    names = _property_names(json_schema(altered))

    assert any(part in name for name in names for part in IDENTIFYING)
