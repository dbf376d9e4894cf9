"""HR's use cases: the sent log, resending a failed email, previewing every template.
Only HR administrators (the directory's hr_admin role, or the configured bootstrap ids)
may see the log: it names people and addresses."""

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.web.i18n import Language
from forbedring_notification import repository
from forbedring_notification.domain.kinds import Kind, message_id
from forbedring_notification.errors import Conflict, Forbidden, NotFound
from forbedring_notification.examples import EXAMPLES
from forbedring_notification.models import Delivery
from forbedring_notification.rendering import Renderer
from forbedring_notification.schemas import DeliveryList, DeliveryPublic, Preview

RESENDABLE = ("failed", "possibly_sent")


async def require_hr_admin(
    session: AsyncSession, *, person_id: str, bootstrap: Sequence[str]
) -> None:
    if person_id in bootstrap or await repository.is_hr_admin(session, person_id=person_id):
        return
    raise Forbidden("Only HR administrators may read the sent log.")


def public(row: Delivery, *, domain: str) -> DeliveryPublic:
    assert row.id is not None
    return DeliveryPublic(
        id=row.id,
        kind=Kind(row.kind),
        period_id=row.period_id,
        unit_id=row.unit_id,
        person_id=row.person_id,
        email=row.email,
        language=row.language,
        reason=row.reason,
        status=row.status,  # type: ignore[arg-type]
        attempts=row.attempts,
        last_error=row.last_error,
        subject=row.subject,
        message_id=message_id(row.key, domain),
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
    )


async def sent_log(
    session: AsyncSession,
    *,
    person_id: str,
    bootstrap: Sequence[str],
    domain: str,
    period_id: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> DeliveryList:
    await require_hr_admin(session, person_id=person_id, bootstrap=bootstrap)
    total, rows = await repository.deliveries(
        session, period_id=period_id, kind=kind, status=status, limit=limit, offset=offset
    )
    return DeliveryList(
        total=total,
        counts=await repository.status_counts(session),
        deliveries=[public(row, domain=domain) for row in rows],
    )


async def resend(
    session: AsyncSession,
    *,
    delivery_id: int,
    person_id: str,
    bootstrap: Sequence[str],
    domain: str,
    now: datetime,
) -> DeliveryPublic:
    """A failed (or possibly sent) email goes back to the queue, as it was: the same key
    and Message-ID, so a copy the recipient may already have is recognisable."""
    await require_hr_admin(session, person_id=person_id, bootstrap=bootstrap)
    row = await repository.lock_delivery(session, delivery_id=delivery_id)
    if row is None:
        raise NotFound(f"No email {delivery_id} in the sent log.")
    if row.status not in RESENDABLE:
        raise Conflict(
            f"Email {delivery_id} is {row.status}: only failed or possibly sent emails are resent."
        )
    if not row.email:
        raise Conflict(f"Email {delivery_id} has no address to send to.")
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = now
    row.last_error = f"resent by {person_id} at {now.astimezone(UTC).isoformat()}"
    session.add(row)
    return public(row, domain=domain)


def preview(renderer: Renderer, *, kind: Kind, language: Language) -> Preview:
    """Any template in any language, with the example data of `examples`."""
    rendered, message = renderer.message(
        key=f"preview|{kind.value}",
        kind=kind,
        email="kari.nordmann@example.org",
        name="Kari Nordmann",
        language=language,
        context=EXAMPLES[kind],
        now=datetime.now(UTC),
    )
    return Preview(
        kind=kind,
        language=language,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        headers={name: str(value) for name, value in message.items()},
    )
