"""No event this service reads says who has answered: in the JSON Schema of every topic it
consumes, no object that names a person carries anything about answering, and the topics
of responses and results are not among them."""

import re
from typing import Any

from forbedring_contracts import topics
from forbedring_notification.consumers import CONSUMED_TOPICS

PERSON = re.compile(r"person_id")
ANSWERING = re.compile(r"answer|respond|response|submit|particip|invitation_status", re.I)


def _objects(schema: dict[str, Any], definitions: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                walk(definitions[node["$ref"].rsplit("/", 1)[1]])
                return
            if "properties" in node:
                found.append(node["properties"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return found


def test_no_consumed_event_says_who_has_answered() -> None:
    assert topics.RESPONSE_SUBMITTED not in CONSUMED_TOPICS
    assert topics.UNIT_RESULTS not in CONSUMED_TOPICS
    checked = 0
    for name in CONSUMED_TOPICS:
        topic = topics.topic(name)
        schema = topic.adapter.json_schema()
        for properties in _objects(schema, schema.get("$defs", {})):
            if any(PERSON.search(field) for field in properties):
                checked += 1
                assert not [f for f in properties if ANSWERING.search(f)], (name, list(properties))
    # The person-bearing objects exist (roles, members, plan recipients): the test looks.
    assert checked >= 4


def test_a_member_is_only_an_address() -> None:
    schema = topics.topic(topics.DIRECTORY_UPDATED).adapter.json_schema()
    member = schema["$defs"]["Membership"]["properties"]
    assert set(member) == {"person_id", "unit_id", "name", "email", "language"}
