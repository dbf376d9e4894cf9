"""Releasing responses: who answered must never be linkable to what was answered.

What the service knows and keeps apart (SUPPRESSION.md, "Who can see who answered"):

- `invitations` is the participation record: (random id, period, person, unit, answered).
  No time of answering, ever.
- Answering marks the invitation answered (`UPDATE … WHERE answered = false`, so exactly
  one response per invitation) and, in the same transaction, holds the answers in
  `pending_responses` (random id, period, unit, questionnaire version, answers) and the
  background variables, if any, in `pending_background` (another random id, unit,
  answers). Neither holds a person, a time, a sequence or the invitation.
- The scheduler releases a unit's held responses once there are at least k of them (the
  period's k), and at close whatever is left, before period-closed. A release moves the
  group into `responses` (dated only by the release day) and `background_answers` (new
  random ids, nothing shared with the response rows), in shuffled order, stages the
  response-submitted events of the group in one transaction in shuffled order (the
  envelope coarsens their time to the day), deletes the held rows and rewrites every
  invitation row of the unit in random order.
- Why the rewrite: PostgreSQL stamps each row version with the id of the transaction
  that wrote it (`xmin`). A held response and the invitation it answers are written by
  the same transaction, so until release they share an `xmin`. After the release the
  held rows are gone, the released rows carry the release's `xmin`, and so does every
  invitation row of the unit, answered or not, so `xmin` and physical order (ctid)
  neither pair a person with a response nor tell the order in which people answered.
- The release runs in the scheduler, not in anyone's request: its trace, logs and
  transaction belong to no respondent. Log lines about responses name the period, the
  unit and counts, never a person; the answering request logs nothing about the person.
- The API answers a submission with 202 and no response id, so nothing the browser
  holds identifies the response.

What remains, knowingly:

- The pending window: until a unit has k held responses, a database superuser reading
  `pending_responses` with `xmin` can pair each with the invitation answered in the same
  transaction. Deleted and superseded row versions (dead tuples) keep the old `xmin` on
  disk until VACUUM removes them, and the write-ahead log (and any WAL archive, logical
  decoding slot or `track_commit_timestamp`, if enabled) records the transactions in
  order with their commit times. Protect the database's superuser, WAL archive and
  backups as you protect the answers; run autovacuum (the default).
- Timing at unit level: a group of k becomes visible on the bus shortly after its k-th
  answer arrived; everyone in that group is one of k, which is the guarantee.
- Participation counts are public by design (the procedure publishes each unit's rate);
  participation-changed events go out at most once per `participation_interval_s` per
  unit, with the time cut to the minute, rather than once per answer.
- Access logs of a reverse proxy record when a person's browser posted; they hold no
  answers and, since released responses carry no time, cannot be matched to one.
"""

import random
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.logging import get_logger
from forbedring_chassis.outbox import stage_event
from forbedring_contracts.events import ResponseSubmitted
from forbedring_survey import repository
from forbedring_survey.models import Period

log = get_logger(__name__)
_shuffle = random.SystemRandom().shuffle


async def release_unit(session: AsyncSession, *, period: Period, unit_id: str, today: date) -> int:
    """Release every held response of the unit as one shuffled group. The caller holds
    the period's release lock."""
    held = await repository.take_pending_responses(session, period_id=period.id, unit_id=unit_id)
    if not held:
        return 0
    _shuffle(held)
    await repository.store_released(session, period_id=period.id, responses=held, released_on=today)
    for response in held:
        stage_event(
            session,
            ResponseSubmitted(
                response_id=response.id,
                period_id=period.id,
                unit_id=response.unit_id,
                questionnaire_version=response.questionnaire_version,
                answers=response.answers,
            ),
        )
    background = await repository.take_pending_background(
        session, period_id=period.id, unit_id=unit_id
    )
    _shuffle(background)
    await repository.store_background(
        session, period_id=period.id, unit_id=unit_id, answers=background
    )
    await repository.rewrite_invitations(session, period_id=period.id, unit_id=unit_id)
    log.info("survey.responses.released", period_id=period.id, unit_id=unit_id, count=len(held))
    return len(held)


async def release_ready(session: AsyncSession, *, period: Period, today: date) -> int:
    """Release every unit holding at least k responses. Skips (returns 0) when another
    replica is releasing this period right now."""
    if not await repository.lock_release(session, period_id=period.id, wait=False):
        return 0
    released = 0
    for unit_id in await repository.units_with_pending(
        session, period_id=period.id, at_least=period.k
    ):
        released += await release_unit(session, period=period, unit_id=unit_id, today=today)
    return released


async def release_all(session: AsyncSession, *, period: Period, today: date) -> int:
    """At close: release what every unit still holds, whatever the count. The caller
    holds the period's release lock."""
    released = 0
    for unit_id in await repository.units_with_pending(session, period_id=period.id, at_least=1):
        released += await release_unit(session, period=period, unit_id=unit_id, today=today)
    return released
