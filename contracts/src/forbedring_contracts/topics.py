"""Every Kafka topic of Forbedring: its name, event model, record key and producing service.

Names follow `forbedring.<service>.<event>.v<major>`; only the producing service publishes
to a topic. A breaking change to an event is a new topic with the next major version.
`deploy/topics.yaml` declares the same names (partitions, retention); a test keeps the two
in agreement.
"""

import inspect
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from types import UnionType
from typing import Annotated, Any, Final, Union, get_args, get_origin

from pydantic import TypeAdapter
from pydantic.fields import FieldInfo

from forbedring_contracts.events import (
    DirectoryUpdated,
    Event,
    MeasureEscalated,
    ParticipationChanged,
    PeriodClosed,
    PeriodOpened,
    PlanDeadlineApproaching,
    PlanUpdated,
    ResponseSubmitted,
    ResultsFinalized,
    ResultsReleased,
    UnitResults,
)


class Service(StrEnum):
    SURVEY = "survey"
    AGGREGATION = "aggregation"
    PUBLICATION = "publication"
    ACTIONPLAN = "actionplan"
    NOTIFICATION = "notification"


class Key(StrEnum):
    """What a topic's record key is, named by the event field it is taken from: the unit
    for per-unit facts (a unit's events stay ordered on one partition), else the period."""

    UNIT = "unit_id"
    PERIOD = "period_id"


_NAME = re.compile(r"^forbedring\.(?P<service>[a-z]+)\.(?P<event>[a-z]+(-[a-z]+)*)\.v[1-9][0-9]*$")


@dataclass(frozen=True, eq=False)
class Topic:
    """A topic, bound to the event model(s) its messages carry.

    `payload` is an `Event` subclass, or an annotated discriminated union of them
    (unit-results: published or suppressed).
    """

    name: str
    producer: Service
    key: Key
    payload: Any

    def __post_init__(self) -> None:
        match = _NAME.match(self.name)
        if match is None or match["service"] != self.producer:
            msg = f"topic {self.name!r} is not named forbedring.{self.producer}.<event>.v<major>"
            raise ValueError(msg)

    @property
    def event(self) -> str:
        """The event's name, e.g. `response-submitted`."""
        return self.name.split(".")[2]

    @property
    def ce_type(self) -> str:
        """The CloudEvents type, e.g. `no.forbedring.survey.response-submitted.v1`."""
        return f"no.{self.name}"

    @property
    def ce_source(self) -> str:
        """The CloudEvents source, e.g. `/forbedring/survey`."""
        return f"/forbedring/{self.producer}"

    @cached_property
    def models(self) -> tuple[type[Event], ...]:
        """The concrete event classes a message on this topic may be."""
        payload = self.payload
        if get_origin(payload) is Annotated:
            payload = get_args(payload)[0]
        if get_origin(payload) in (Union, UnionType):
            return get_args(payload)
        return (payload,)

    @cached_property
    def adapter(self) -> TypeAdapter[Event]:
        """Validates a message body (JSON) into its event model."""
        return TypeAdapter(self.payload)

    @property
    def description(self) -> str:
        """What a message on this topic means (the payload's docstring or description)."""
        if get_origin(self.payload) is Annotated:
            for meta in get_args(self.payload)[1:]:
                if isinstance(meta, FieldInfo) and meta.description:
                    return meta.description
        return inspect.cleandoc(self.payload.__doc__ or "")

    def key_of(self, event: Event) -> str:
        """The record key of `event` on this topic (its unit id or period id)."""
        key: str = getattr(event, self.key.value)
        return key


PERIOD_OPENED: Final = "forbedring.survey.period-opened.v1"
DIRECTORY_UPDATED: Final = "forbedring.survey.directory-updated.v1"
RESPONSE_SUBMITTED: Final = "forbedring.survey.response-submitted.v1"
PARTICIPATION_CHANGED: Final = "forbedring.survey.participation-changed.v1"
PERIOD_CLOSED: Final = "forbedring.survey.period-closed.v1"
UNIT_RESULTS: Final = "forbedring.aggregation.unit-results.v1"
RESULTS_FINALIZED: Final = "forbedring.aggregation.results-finalized.v1"
RESULTS_RELEASED: Final = "forbedring.publication.results-released.v1"
PLAN_UPDATED: Final = "forbedring.actionplan.plan-updated.v1"
MEASURE_ESCALATED: Final = "forbedring.actionplan.measure-escalated.v1"
PLAN_DEADLINE_APPROACHING: Final = "forbedring.actionplan.plan-deadline-approaching.v1"

TOPICS: Final[tuple[Topic, ...]] = (
    Topic(PERIOD_OPENED, Service.SURVEY, Key.PERIOD, PeriodOpened),
    Topic(DIRECTORY_UPDATED, Service.SURVEY, Key.PERIOD, DirectoryUpdated),
    Topic(RESPONSE_SUBMITTED, Service.SURVEY, Key.UNIT, ResponseSubmitted),
    Topic(PARTICIPATION_CHANGED, Service.SURVEY, Key.UNIT, ParticipationChanged),
    Topic(PERIOD_CLOSED, Service.SURVEY, Key.PERIOD, PeriodClosed),
    Topic(UNIT_RESULTS, Service.AGGREGATION, Key.UNIT, UnitResults),
    Topic(RESULTS_FINALIZED, Service.AGGREGATION, Key.PERIOD, ResultsFinalized),
    Topic(RESULTS_RELEASED, Service.PUBLICATION, Key.PERIOD, ResultsReleased),
    Topic(PLAN_UPDATED, Service.ACTIONPLAN, Key.UNIT, PlanUpdated),
    Topic(MEASURE_ESCALATED, Service.ACTIONPLAN, Key.UNIT, MeasureEscalated),
    Topic(PLAN_DEADLINE_APPROACHING, Service.ACTIONPLAN, Key.UNIT, PlanDeadlineApproaching),
)

CONSUMING_SERVICES: Final = (
    Service.AGGREGATION,
    Service.PUBLICATION,
    Service.ACTIONPLAN,
    Service.NOTIFICATION,
)
"""The services that consume topics, and so have a dead-letter topic."""


def dead_letter_topic(service: Service) -> str:
    """Where `service`'s consumers put messages they cannot decode or validate."""
    if service not in CONSUMING_SERVICES:
        msg = f"{service} consumes no topic and has no dead-letter topic"
        raise ValueError(msg)
    return f"forbedring.{service}.dead-letter.v1"


DEAD_LETTER_TOPICS: Final = tuple(dead_letter_topic(service) for service in CONSUMING_SERVICES)

_BY_NAME: Final = {topic.name: topic for topic in TOPICS}
_BY_CE_TYPE: Final = {topic.ce_type: topic for topic in TOPICS}
_BY_MODEL: Final = {model: topic for topic in TOPICS for model in topic.models}


def topic(name: str) -> Topic:
    """The event topic called `name` (KeyError if there is none)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        msg = f"no event topic is called {name!r}"
        raise KeyError(msg) from None


def topic_for_type(ce_type: str) -> Topic | None:
    """The topic whose events have CloudEvents type `ce_type`, if any."""
    return _BY_CE_TYPE.get(ce_type)


def topic_for_model(model: type[Event]) -> Topic:
    """The topic whose messages may be `model` events."""
    try:
        return _BY_MODEL[model]
    except KeyError:
        msg = f"{model.__name__} is not the model of any topic"
        raise TypeError(msg) from None


def topic_of(event: Event) -> Topic:
    """The topic `event` is published to."""
    return topic_for_model(type(event))


def all_topic_names() -> frozenset[str]:
    """Every topic name: the event topics and the dead-letter topics."""
    return frozenset(_BY_NAME) | frozenset(DEAD_LETTER_TOPICS)
