"""The HR console's release-stage use case: postponing a stage through `release`'s rule,
recorded in the audit log with who did it (`forbedring_chassis.audit`), refusals too.
No commit here: the caller's unit of work commits the change and its record together."""

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis import audit
from forbedring_publication import release
from forbedring_publication.domain.release import Stage
from forbedring_publication.errors import PublicationError
from forbedring_publication.schemas import ReleaseSchedule


async def postpone_stage(
    session: AsyncSession,
    *,
    actor: str,
    period_id: str,
    stage: Stage,
    until: datetime,
    now: datetime,
) -> ReleaseSchedule:
    details = {"stage": stage, "until": until.isoformat()}
    try:
        schedule = await release.postpone_stage(
            session, period_id=period_id, stage=stage, until=until, person_id=actor, now=now
        )
    except PublicationError as refused:
        await audit.record(
            session,
            at=now,
            actor=actor,
            action="stage.postponed",
            subject=period_id,
            outcome="refused",
            details={**details, "reason": refused.code},
        )
        raise
    await audit.record(
        session, at=now, actor=actor, action="stage.postponed", subject=period_id, details=details
    )
    return schedule
