"""Writing the delivery ledger: one row per (kind, fact, recipient), in the caller's
transaction (a consumer's, with the event's inbox row; or a scheduler tick's). Nothing is
sent here: the mail relay (`relay`) sends committed rows."""

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.logging import get_logger
from forbedring_notification import repository
from forbedring_notification.domain.kinds import DIGEST_KINDS, Kind, idempotency_key
from forbedring_notification.domain.participation import Digest, Rate
from forbedring_notification.domain.recipients import Recipient

log = get_logger(__name__)

NO_ADDRESS = "no email address is known for this person (not in any directory received)"


@dataclass(frozen=True)
class Letter:
    """One email to write: what (kind), why (fact, reason), to whom, with what."""

    kind: Kind
    fact: str
    person_id: str
    reason: str
    context: Mapping[str, Any] = field(default_factory=dict)
    unit_id: str | None = None


async def write(
    session: AsyncSession,
    letters: Sequence[Letter],
    *,
    people: Mapping[str, Recipient],
    period_id: str,
    now: datetime,
) -> int:
    """Write the letters' rows; a row already in the ledger (same key) stays as it is.
    A person with no known address gets a failed row, so HR sees who was not reached.
    Returns how many rows were new."""
    if not letters:
        return 0
    subscriptions: dict[str, Any] = {}
    digest_people = {letter.person_id for letter in letters if letter.kind in DIGEST_KINDS}
    if digest_people:
        subscriptions = await repository.ensure_tokens(
            session, tokens={p: secrets.token_urlsafe(24) for p in sorted(digest_people)}
        )
    rows: list[dict[str, Any]] = []
    for letter in letters:
        if letter.kind in DIGEST_KINDS and not subscriptions[letter.person_id].digests:
            continue
        person = people.get(letter.person_id)
        context: dict[str, Any] = {
            **letter.context,
            "recipient_name": person.name if person else letter.person_id,
        }
        if letter.kind in DIGEST_KINDS:
            context["unsubscribe_token"] = subscriptions[letter.person_id].token
        rows.append(
            {
                "key": idempotency_key(letter.kind, letter.fact, letter.person_id),
                "kind": letter.kind.value,
                "period_id": period_id,
                "unit_id": letter.unit_id,
                "person_id": letter.person_id,
                "email": person.email if person else "",
                "language": person.language if person else "nb",
                "reason": letter.reason,
                "context": context,
                "status": "pending" if person else "failed",
                "attempts": 0,
                "last_error": None if person else NO_ADDRESS,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    written = await repository.add_deliveries(session, rows)
    if written:
        log.info(
            "notification.ledger.written",
            period_id=period_id,
            kinds=sorted({letter.kind.value for letter in letters}),
            rows=written,
        )
    return written


def iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def rate_context(rate: Rate) -> dict[str, Any]:
    return {
        "name": rate.name,
        "respondents": rate.respondents,
        "eligible": rate.eligible,
        "percent": rate.percent,
        "at_risk": rate.at_risk,
    }


def digest_context(digest: Digest) -> dict[str, Any]:
    """A unit's participation as an email shows it: counts and rates only (public), and
    which units are at risk of getting no results. Never a result."""
    return {
        "unit": rate_context(digest.unit),
        "sub_units": [rate_context(rate) for rate in digest.sub_units],
        "parent": rate_context(digest.parent) if digest.parent else None,
        "enterprise": rate_context(digest.enterprise) if digest.enterprise else None,
        "at_risk": [rate.name for rate in digest.at_risk],
    }
