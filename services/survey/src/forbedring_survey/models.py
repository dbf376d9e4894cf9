"""Survey tables. A response row holds no person, no time and no sequence (SUPPRESSION.md)."""

from typing import Any
from uuid import UUID

from sqlalchemy import Column
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class Response(SQLModel, table=True):
    __tablename__ = "responses"

    id: UUID = Field(primary_key=True)
    period_id: str
    unit_id: str
    questionnaire_version: str
    answers: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
