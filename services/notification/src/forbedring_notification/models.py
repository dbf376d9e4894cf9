"""The notification service's tables: its copy of each period's facts and directory (from
events only), the delivery ledger, and who has unsubscribed from digests.

Table names carry the service's name: every service's models share SQLModel's metadata
when several services run in one process (the cross-service tests)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from forbedring_chassis.db import DirectoryUnitColumns, moment_column


class Period(SQLModel, table=True):
    """A period as period-opened and period-closed told it (a row exists as soon as any
    event of the period arrives, so it can be locked)."""

    __tablename__ = "notification_periods"

    period_id: str = Field(primary_key=True)
    name: str | None = None
    opens_at: datetime | None = moment_column()
    closes_at: datetime | None = moment_column()
    k: int | None = None
    plan_deadline: date | None = None
    closed_at: datetime | None = moment_column()
    has_directory: bool = False
    released: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False, server_default="[]")
    )
    """The release stages announced so far ({stage, audience}): a directory that arrives
    later (a replay reads the topics in no order between them) still reaches their
    audience."""


class Unit(DirectoryUnitColumns, table=True):
    """A unit of the period's tree with its direct participation (its own invitations and
    responses, not its sub-units')."""

    __tablename__ = "notification_units"

    eligible: int = 0
    respondents: int = 0


class Person(SQLModel, table=True):
    """How to reach a person named in the period's directory."""

    __tablename__ = "notification_people"

    period_id: str = Field(primary_key=True)
    person_id: str = Field(primary_key=True)
    name: str
    email: str
    language: str


class RoleRow(SQLModel, table=True):
    __tablename__ = "notification_roles"

    period_id: str = Field(primary_key=True)
    unit_id: str = Field(primary_key=True)
    person_id: str = Field(primary_key=True)
    role: str = Field(primary_key=True)


class Member(SQLModel, table=True):
    """A person invited for a unit. Nothing here, or anywhere in this service, says whether
    they answered: the survey never tells."""

    __tablename__ = "notification_members"

    period_id: str = Field(primary_key=True)
    unit_id: str = Field(primary_key=True)
    person_id: str = Field(primary_key=True)


class Delivery(SQLModel, table=True):
    """One email: the ledger row written with the fact that calls for it (in the same
    transaction as the consumed event's inbox row), sent later by the mail relay.

    `key` is the idempotency key, (kind, fact, recipient): a replayed event writes nothing
    new. `status`: pending, sending (claimed by a relay), sent, failed (permanently, or
    after the last attempt), possibly_sent (a relay stopped between sending and recording).
    """

    __tablename__ = "notification_deliveries"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    key: str = Field(unique=True)
    kind: str
    period_id: str
    unit_id: str | None = None
    person_id: str
    email: str
    language: str
    reason: str
    context: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime = moment_column(nullable=False)
    claimed_until: datetime | None = moment_column()
    last_error: str | None = None
    subject: str | None = None
    created_at: datetime = moment_column(nullable=False)
    sent_at: datetime | None = moment_column()


class Subscription(SQLModel, table=True):
    """A person's digest subscription: the token of their one-click unsubscribe link, and
    whether they still want the participation digest (the only mail one can leave)."""

    __tablename__ = "notification_subscriptions"

    person_id: str = Field(primary_key=True)
    token: str = Field(unique=True)
    digests: bool = True
    changed_at: datetime | None = moment_column()
