from uuid import UUID

from pydantic import BaseModel, Field

from forbedring_contracts.events.survey import Answer


class ResponseCreate(BaseModel):
    period_id: str = Field(min_length=1, max_length=64)
    unit_id: str = Field(min_length=1, max_length=64)
    questionnaire_version: str = Field(min_length=1, max_length=64)
    answers: dict[str, Answer]


class ResponseAccepted(BaseModel):
    response_id: UUID
