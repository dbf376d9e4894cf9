"""Counting: a period's questionnaire stored, responses counted into their unit's
counters (in worker processes or here), a batch's tallies added once. No commit and no
publish here: the caller owns the transaction.

Responses that arrive before their period's period-opened (topics are consumed
independently, so this happens) are *held*: the respondent is counted at once (counts
are public participation and need no questionnaire), the answers wait in
`held_responses` and are scored in the transaction that stores the period. Counting
them without the questionnaire instead would lose the factor scores, which need to
know each item's factor and direction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client import Counter
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_aggregation import repository
from forbedring_aggregation.domain.scoring import ItemSpec, Layout, add_into, tally_into
from forbedring_aggregation.models import HeldResponse
from forbedring_chassis.logging import get_logger
from forbedring_contracts.events import PeriodOpened, Questionnaire, ResponseSubmitted

log = get_logger(__name__)

RESPONSES_HELD = Counter(
    "forbedring_aggregation_responses_held_total",
    "Responses that came before their period-opened, held until it comes (counted as "
    "they are held: a batch applied again after a failure counts its own again)",
    registry=None,
)


def layout_of(questionnaire: Questionnaire) -> Layout:
    return Layout(
        items=tuple(
            ItemSpec(
                item_id=item.item_id,
                kind=item.kind,
                factor_id=item.factor_id,
                reverse_scored=item.reverse_scored,
                sensitive=item.sensitive,
            )
            for item in questionnaire.items
        ),
        factors=tuple(f.factor_id for f in questionnaire.factors),
    )


class Layouts:
    """Each period's counter layout, parsed once per process (a period is immutable)."""

    def __init__(self) -> None:
        self._cache: dict[str, Layout] = {}

    async def of(self, session: AsyncSession, period_ids: Sequence[str]) -> dict[str, Layout]:
        missing = [p for p in period_ids if p not in self._cache]
        if missing:
            found = await repository.questionnaires(session, period_ids=missing)
            for period_id, questionnaire in found.items():
                self._cache[period_id] = layout_of(Questionnaire.model_validate(questionnaire))
        return {p: self._cache[p] for p in period_ids if p in self._cache}

    async def stored(self, session: AsyncSession) -> dict[str, Layout]:
        """The layout of every period stored: what the counting workers are sent."""
        await self.of(session, await repository.period_ids(session))
        return dict(self._cache)


async def open_period(session: AsyncSession, *, event: PeriodOpened) -> None:
    await repository.lock_period(session, period_id=event.period_id, exclusive=True)
    stored = await repository.insert_period(
        session,
        period_id=event.period_id,
        k=event.k,
        sensitive_k=event.sensitive_k,
        questionnaire=event.questionnaire.model_dump(mode="json"),
        units=[
            {"unit_id": u.unit_id, "parent_id": u.parent_id, "eligible": u.eligible, "name": u.name}
            for u in event.units
        ],
    )
    if not stored:
        log.info("aggregation.period.already_opened", period_id=event.period_id)
        return
    layout = layout_of(event.questionnaire)
    held = await repository.take_held_responses(session, period_id=event.period_id)
    per_unit: dict[str, list[int]] = {}
    for unit_id, answers in held:
        tally_into(per_unit.setdefault(unit_id, layout.zeros()), layout, answers)
    await repository.add_counts(
        session,
        [
            repository.CountDelta(event.period_id, unit_id, 0, vector)
            for unit_id, vector in per_unit.items()
        ],
    )
    log.info(
        "aggregation.period.opened",
        period_id=event.period_id,
        units=len(event.units),
        held=len(held),
    )


@dataclass
class ResponseTally:
    """What some responses add to their units: respondents, and the counters of those
    whose period's layout is known."""

    respondents: dict[tuple[str, str], int] = field(default_factory=dict)
    vectors: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    @property
    def period_ids(self) -> list[str]:
        return sorted({period_id for period_id, _ in self.respondents})

    def deltas(self) -> list[repository.CountDelta]:
        return [
            repository.CountDelta(period_id, unit_id, count, self.vectors.get((period_id, unit_id)))
            for (period_id, unit_id), count in self.respondents.items()
        ]


def tally_responses(
    layouts: Mapping[str, Layout], events: Sequence[ResponseSubmitted]
) -> tuple[ResponseTally, list[int]]:
    """Count the responses whose period's layout is in `layouts`; returns the tally and
    the positions of the others. Pure, so the consumer's worker processes run it too
    (chassis `Offload`: with the layouts known so far, leaving the rest to the consumer)."""
    tally = ResponseTally()
    respondents, vectors = tally.respondents, tally.vectors
    unknown: list[int] = []
    for position, event in enumerate(events):
        layout = layouts.get(event.period_id)
        if layout is None:
            unknown.append(position)
            continue
        key = (event.period_id, event.unit_id)
        respondents[key] = respondents.get(key, 0) + 1
        vector = vectors.get(key)
        if vector is None:
            vector = vectors[key] = layout.zeros()
        tally_into(vector, layout, event.answers)
    return tally, unknown


async def _lock_periods_shared(session: AsyncSession, period_ids: Sequence[str]) -> None:
    for period_id in period_ids:  # sorted: two instances never wait on each other in a cycle
        await repository.lock_period(session, period_id=period_id, exclusive=False)


async def count_responses(
    session: AsyncSession, *, events: Sequence[ResponseSubmitted], layouts: Layouts
) -> None:
    """Count a batch of (first-seen) responses: one upsert for the whole batch."""
    period_ids = sorted({e.period_id for e in events})
    await _lock_periods_shared(session, period_ids)
    tally, unknown = tally_responses(await layouts.of(session, period_ids), events)
    held = [events[position] for position in unknown]
    for event in held:  # counted as respondents at once; their answers wait for the period
        key = (event.period_id, event.unit_id)
        tally.respondents[key] = tally.respondents.get(key, 0) + 1
    await repository.hold_responses(
        session,
        [
            HeldResponse(
                response_id=str(event.response_id),
                period_id=event.period_id,
                unit_id=event.unit_id,
                answers=dict(event.answers),
            )
            for event in held
        ],
    )
    RESPONSES_HELD.inc(len(held))
    await add_tally(session, tally, locked=True)


async def add_tally(session: AsyncSession, tally: ResponseTally, *, locked: bool = False) -> None:
    """Add a tally (of responses whose periods are stored) to the units' counts."""
    if not locked:
        await _lock_periods_shared(session, tally.period_ids)
    await repository.add_counts(session, tally.deltas())


def merge_tallies(into: ResponseTally, tally: ResponseTally) -> ResponseTally:
    """`into` plus `tally` (in place). The counting workers' tallies of a batch are merged
    before they are added: its slices come from the same partitions, so the same units,
    and each row written costs the database far more than adding its vector here
    (measured: an upsert adding two vectors of 345 counters takes about 170 us a row)."""
    for key, count in tally.respondents.items():
        into.respondents[key] = into.respondents.get(key, 0) + count
    for key, vector in tally.vectors.items():
        total = into.vectors.get(key)
        if total is None:
            into.vectors[key] = vector
        else:
            add_into(total, vector)
    return into
