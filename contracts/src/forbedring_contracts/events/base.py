"""What every event shares: the base model, time precision and the common field types."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field


class TimePrecision(StrEnum):
    """How finely an event may say when it happened (its CloudEvents `ce_time`)."""

    INSTANT = "instant"
    MINUTE = "minute"
    DAY = "day"

    def coarsen(self, moment: datetime) -> datetime:
        """`moment` in UTC, cut down to this precision (DAY gives midnight UTC)."""
        utc = moment.astimezone(UTC)
        if self is TimePrecision.DAY:
            return utc.replace(hour=0, minute=0, second=0, microsecond=0)
        if self is TimePrecision.MINUTE:
            return utc.replace(second=0, microsecond=0)
        return utc


def _one_line_description(schema: dict[str, Any], model: type[Any]) -> None:
    """Docstrings are wrapped for the source; descriptions read better unwrapped."""
    if isinstance(schema.get("description"), str):
        schema["description"] = " ".join(schema["description"].split())


class ContractModel(BaseModel):
    """Base of every model in the contracts, events and their parts.

    Frozen, because an event is a fact. `extra="ignore"`, not `"forbid"`: a v1 topic may
    only grow additively, so a consumer still running an older release of these contracts
    must accept a message carrying fields it does not know yet and drop them. Forbidding
    extras would turn every additive change into an outage of the older consumers.
    Producers cannot slip in unknown fields by accident either: the mypy pydantic plugin
    (`init_forbid_extra`) rejects unknown keyword arguments, and serialising a model only
    ever writes its declared fields.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", json_schema_extra=_one_line_description)


class Event(ContractModel):
    """Base of every event body. `time_precision` bounds the envelope's `ce_time`."""

    time_precision: ClassVar[TimePrecision] = TimePrecision.INSTANT


Id = Annotated[str, Field(min_length=1, max_length=64)]
"""An identifier as its owner spells it: a UUID, an HR code, a questionnaire item code."""

Count = Annotated[int, Field(ge=0)]
Percent = Annotated[float, Field(ge=0, le=100)]

Language = Literal["nb", "nn", "en"]
"""Norwegian bokmål, Norwegian nynorsk, English."""

Role = Literal["leader", "safety_rep", "union_rep", "hr_admin"]
"""A person's role for a unit, as the HR system assigns it."""
