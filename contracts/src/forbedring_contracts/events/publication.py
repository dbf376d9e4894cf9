"""Events the publication service publishes: the staged release of a period's results."""

from typing import Literal

from pydantic import AwareDatetime, Field

from forbedring_contracts.events.base import Event, Id, Role

AudienceRole = Role | Literal["employee"]


class ResultsReleased(Event):
    """A release stage of a period's results happened: from now on the audience may read
    every unit's results. Emitted once per stage."""

    period_id: Id = Field(description="The period.")
    stage: Literal[1, 2] = Field(
        description="1: leaders, safety and union representatives, HR/HSE; 2: every employee."
    )
    audience: tuple[AudienceRole, ...] = Field(
        min_length=1, description="The roles that may read the results from now on."
    )
    released_at: AwareDatetime = Field(description="When the stage was released.")
