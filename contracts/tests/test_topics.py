"""The topic registry: names, keys, models, and agreement with deploy/topics.yaml."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from forbedring_contracts import topics
from forbedring_contracts.events import Event
from forbedring_contracts.examples import EXAMPLES
from forbedring_contracts.topics import TOPICS, Key, Service

REPO_ROOT = Path(__file__).resolve().parents[2]
TOPICS_YAML = REPO_ROOT / "deploy" / "topics.yaml"


def test_every_event_topic_is_named_for_its_producer_and_event() -> None:
    names = [topic.name for topic in TOPICS]
    assert len(names) == len(set(names))
    for topic in TOPICS:
        assert re.fullmatch(rf"forbedring\.{topic.producer}\.[a-z-]+\.v1", topic.name)
        assert topic.ce_type == f"no.forbedring.{topic.producer}.{topic.event}.v1"
        assert topic.ce_source == f"/forbedring/{topic.producer}"


def test_the_registry_holds_the_agreed_topics() -> None:
    assert {(topic.producer.value, topic.event) for topic in TOPICS} == {
        ("survey", "period-opened"),
        ("survey", "directory-updated"),
        ("survey", "response-submitted"),
        ("survey", "participation-changed"),
        ("survey", "period-closed"),
        ("aggregation", "unit-results"),
        ("aggregation", "results-finalized"),
        ("publication", "results-released"),
        ("actionplan", "plan-updated"),
        ("actionplan", "measure-escalated"),
        ("actionplan", "plan-deadline-approaching"),
    }
    assert topics.DEAD_LETTER_TOPICS == (
        "forbedring.aggregation.dead-letter.v1",
        "forbedring.publication.dead-letter.v1",
        "forbedring.actionplan.dead-letter.v1",
        "forbedring.notification.dead-letter.v1",
    )


def test_a_topic_is_named_after_its_producer() -> None:
    with pytest.raises(ValueError, match=r"forbedring\.survey"):
        topics.Topic("forbedring.aggregation.period-opened.v1", Service.SURVEY, Key.PERIOD, Event)


def test_every_model_belongs_to_one_topic_and_has_its_key_field() -> None:
    models = [model for topic in TOPICS for model in topic.models]
    assert len(models) == len(set(models))
    for topic in TOPICS:
        for model in topic.models:
            assert topic.key.value in model.model_fields, (topic.name, model.__name__)
    assert {type(event) for event in EXAMPLES} == set(models)


def test_lookups() -> None:
    assert topics.topic(topics.RESPONSE_SUBMITTED).key is Key.UNIT
    assert topics.topic_for_type("no.forbedring.survey.period-opened.v1") is topics.topic(
        topics.PERIOD_OPENED
    )
    assert topics.topic_for_type("no.forbedring.survey.nothing.v1") is None
    with pytest.raises(KeyError, match="no event topic"):
        topics.topic("forbedring.survey.nothing.v1")
    with pytest.raises(TypeError, match="not the model of any topic"):
        topics.topic_of(Event())
    with pytest.raises(ValueError, match="no dead-letter topic"):
        topics.dead_letter_topic(Service.SURVEY)


def _declared(document: Any) -> dict[str, dict[str, Any]]:
    entries = document.get("topics") if isinstance(document, dict) else document
    assert isinstance(entries, list), (
        f"{TOPICS_YAML} must hold a list of topics (top level, or under `topics:`)"
    )
    names = [entry["name"] for entry in entries]
    assert len(names) == len(set(names)), f"{TOPICS_YAML} declares a topic twice"
    return {entry["name"]: entry for entry in entries}


def test_deploy_topics_yaml_declares_exactly_the_registered_topics() -> None:
    if not TOPICS_YAML.is_file():
        pytest.fail(
            f"{TOPICS_YAML} is missing: it must declare every topic of "
            "forbedring_contracts.topics (a list of entries with a `name`)",
            pytrace=False,
        )
    declared = _declared(yaml.safe_load(TOPICS_YAML.read_text(encoding="utf-8")))
    registered = topics.all_topic_names()

    assert not registered - set(declared), (
        f"missing in deploy/topics.yaml: {sorted(registered - set(declared))}"
    )
    assert not set(declared) - registered, (
        f"unknown to the contracts: {sorted(set(declared) - registered)}"
    )
    for topic in TOPICS:  # where the file describes the key, it names the same one
        described = str(declared[topic.name].get("key", topic.key.value))
        assert topic.key.value.removesuffix("_id") in described, (topic.name, described)
