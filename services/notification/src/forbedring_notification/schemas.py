"""Request and response models of the notification API."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from forbedring_chassis.web.i18n import Language
from forbedring_notification.domain.kinds import Kind

Status = Literal["pending", "sending", "sent", "failed", "possibly_sent"]
STATUSES: tuple[Status, ...] = ("pending", "sending", "sent", "failed", "possibly_sent")


class DeliveryPublic(BaseModel):
    """One email of the ledger: what, to whom, why, when, and what became of it."""

    id: int
    kind: Kind
    period_id: str
    unit_id: str | None
    person_id: str
    email: str
    language: str
    reason: str = Field(description="Why this person gets this email (the fact behind it).")
    status: Status
    attempts: int
    last_error: str | None
    subject: str | None = Field(description="The subject it was sent with (once sent).")
    message_id: str = Field(description="The email's stable Message-ID (from its key).")
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


class DeliveryList(BaseModel):
    total: int = Field(description="Rows matching the filters.")
    counts: dict[str, int] = Field(description="Rows by status, over the whole ledger.")
    deliveries: list[DeliveryPublic]


class Preview(BaseModel):
    kind: Kind
    language: Language
    subject: str
    text: str
    html: str
    headers: dict[str, str]


class Unsubscribed(BaseModel):
    digests: bool = Field(description="Whether the person still gets participation digests.")
