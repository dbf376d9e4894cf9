from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


class ResponseCreate(BaseModel):
    period_id: str = Field(min_length=1, max_length=64)
    unit_id: str = Field(min_length=1, max_length=64)
    questionnaire_version: str = Field(min_length=1, max_length=32)
    answers: dict[str, Any]


class ResponseAccepted(BaseModel):
    response_id: UUID
