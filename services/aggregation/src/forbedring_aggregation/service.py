"""Use cases of the aggregation service. No commit and no publish here: the caller owns
the transaction, and events leave through the outbox.

Responses that arrive before their period's period-opened (topics are consumed
independently, so this happens) are *held*: the respondent is counted at once (counts
are public participation and need no questionnaire), the answers wait in
`held_responses` and are scored in the transaction that stores the period. Counting
them without the questionnaire instead would lose the factor scores, which need to
know each item's factor and direction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import Counter
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_aggregation import repository
from forbedring_aggregation.domain.preview import SuppressionExplanation, explain
from forbedring_aggregation.domain.scoring import ItemSpec, Layout, add_into, tally_into
from forbedring_aggregation.domain.snapshot import (
    IndicatorSettings,
    NothingPublishableError,
    PeriodUnit,
    UnitCounters,
    UnitResult,
    build_snapshot,
)
from forbedring_aggregation.domain.suppression import (
    InvalidUnitTreeError,
    SuppressionMethod,
    SuppressionResult,
    UnitNode,
    build_unit_tree,
    compute_suppression,
)
from forbedring_aggregation.models import HeldResponse, Period, Snapshot, SnapshotUnit
from forbedring_chassis.logging import get_logger
from forbedring_chassis.outbox import stage_event
from forbedring_contracts.events import (
    PeriodClosed,
    PeriodOpened,
    Questionnaire,
    ResponseSubmitted,
    ResultsFinalized,
    results_checksum,
)

log = get_logger(__name__)

CURRENT_METHOD = SuppressionMethod.OPTIMAL_V2
"""The suppression rule for every period finalised now (docs/suppression.md); a rebuild
uses the rule its stored snapshot records."""

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


async def request_close(session: AsyncSession, *, event: PeriodClosed) -> None:
    stored = await repository.insert_close_request(
        session, period_id=event.period_id, totals=dict(event.totals), closed_at=event.closed_at
    )
    log.info("aggregation.period.close_requested", period_id=event.period_id, repeated=not stored)


def _period_units(period: Period) -> list[PeriodUnit]:
    return [PeriodUnit(u["unit_id"], u["parent_id"], u["eligible"]) for u in period.units]


@dataclass(frozen=True)
class FinaliseOutcome:
    period_id: str
    finalised: bool
    detail: str


async def try_finalise(
    session: AsyncSession,
    *,
    period_id: str,
    indicators: IndicatorSettings,
    now: datetime,
) -> FinaliseOutcome:
    """Finalise the period if every unit's count equals its total in period-closed.

    Exactly once: the close request row is locked for the whole transaction, and a
    finalised request is never finalised again (a repeated period-closed finds it)."""
    request = await repository.lock_close_request(session, period_id=period_id)
    if request is None or request.finalized_at is not None or request.blocked is not None:
        return FinaliseOutcome(period_id, False, "no pending close request")
    period = await repository.period(session, period_id=period_id)
    if period is None:
        return FinaliseOutcome(period_id, False, "period not opened yet")
    units = _period_units(period)
    counts = await repository.unit_counters(session, period_id=period_id)
    missing = 0
    for unit_id in {u.unit_id for u in units} | set(request.totals):
        expected = request.totals.get(unit_id, 0)
        have = counts.get(unit_id, (0, None))[0]
        if have != expected:
            missing += expected - have
    if missing:
        return FinaliseOutcome(period_id, False, f"waiting for {missing} response(s)")
    layout = layout_of(Questionnaire.model_validate(period.questionnaire))
    try:
        # CPU-bound for a national tree (seconds): off the event loop, so the Kafka
        # consumer's heartbeats keep going meanwhile.
        results = await asyncio.to_thread(
            build_snapshot,
            period_id=period_id,
            units=units,
            layout=layout,
            k=period.k,
            sensitive_k=period.sensitive_k,
            counters={
                unit_id: UnitCounters(count, vector or ())
                for unit_id, (count, vector) in counts.items()
            },
            indicators=indicators,
            method=CURRENT_METHOD,
        )
    except (NothingPublishableError, InvalidUnitTreeError) as exc:
        # Not a passing state: retrying would fail the same way. Blocked until an operator
        # acts (the reason is on the close request and in the log).
        await repository.mark_close_request(session, period_id=period_id, blocked=str(exc))
        log.error("aggregation.snapshot.blocked", period_id=period_id, reason=str(exc))
        return FinaliseOutcome(period_id, False, str(exc))
    await _publish_snapshot(session, period_id=period_id, results=results, now=now)
    await repository.mark_close_request(session, period_id=period_id, finalized_at=now)
    log.info("aggregation.snapshot.finalised", period_id=period_id, units=len(results))
    return FinaliseOutcome(period_id, True, "finalised")


def snapshot_values(results: Sequence[UnitResult]) -> list[tuple[str, bytes]]:
    """(unit id, message value) of each unit-results event, as the envelope encodes it."""
    return [(r.unit_id, r.model_dump_json().encode()) for r in results]


async def _publish_snapshot(
    session: AsyncSession,
    *,
    period_id: str,
    results: Sequence[UnitResult],
    now: datetime,
) -> None:
    values = await asyncio.to_thread(snapshot_values, results)
    checksum = results_checksum(values)
    published = sum(1 for r in results if r.published)
    for result in results:
        stage_event(session, result)
    stage_event(
        session,
        ResultsFinalized(
            period_id=period_id,
            unit_count=len(results),
            published_count=published,
            checksum=checksum,
            finalized_at=now,
            suppression_method=CURRENT_METHOD.value,
        ),
    )
    await repository.save_snapshot(
        session,
        snapshot=Snapshot(
            period_id=period_id,
            unit_count=len(results),
            published_count=published,
            checksum=checksum,
            finalized_at=now,
            suppression_method=CURRENT_METHOD.value,
        ),
        units=[
            SnapshotUnit(period_id=period_id, unit_id=uid, published=r.published, value=value)
            for r, (uid, value) in zip(results, values, strict=True)
        ],
    )


# --- live state (counts only: no answer data before release) -------------------------


@dataclass(frozen=True)
class UnitState:
    unit_id: str
    parent_id: str | None
    direct_respondents: int
    respondents: int  # including sub-units
    eligible: int  # including sub-units
    reached_k: bool


@dataclass(frozen=True)
class PeriodState:
    period_id: str
    k: int
    units: Mapping[str, UnitState]
    preview: SuppressionResult
    explanation: SuppressionExplanation
    names: Mapping[str, str]
    """Unit names as period-opened gave them (a period stored before names were kept
    has none: its ids stand in)."""


async def period_state(session: AsyncSession, *, period_id: str) -> PeriodState | None:
    """Every unit's respondents with sub-units, whether it reached k, and the suppression
    pattern if the period closed now. None when the period is not opened (yet)."""
    period = await repository.period(session, period_id=period_id)
    if period is None:
        return None
    direct = await repository.direct_respondents(session, period_id=period_id)
    units = _period_units(period)
    nodes = [UnitNode(u.unit_id, u.parent_id, direct.get(u.unit_id, 0)) for u in units]
    tree = build_unit_tree(nodes)
    eligible: dict[str, int] = {}
    own_eligible = {u.unit_id: u.eligible for u in units}
    for uid in tree.postorder:
        eligible[uid] = own_eligible[uid] + sum(eligible[c] for c in tree.children[uid])
    states = {
        uid: UnitState(
            unit_id=uid,
            parent_id=tree.parent[uid],
            direct_respondents=tree.direct[uid],
            respondents=tree.respondents[uid],
            eligible=eligible[uid],
            reached_k=tree.respondents[uid] >= period.k,
        )
        for uid in sorted(tree.parent)
    }
    preview = compute_suppression(tree, period.k, method=CURRENT_METHOD)
    names = {u["unit_id"]: u.get("name") or u["unit_id"] for u in period.units}
    return PeriodState(period_id, period.k, states, preview, explain(tree, preview), names)


async def direct_respondents(session: AsyncSession, *, period_id: str, unit_id: str) -> int:
    return await repository.respondents(session, period_id=period_id, unit_id=unit_id)


@dataclass(frozen=True)
class SnapshotStatus:
    period_id: str
    unit_count: int
    published_count: int
    checksum: str
    finalized_at: datetime


async def snapshot_status(session: AsyncSession, *, period_id: str) -> SnapshotStatus | None:
    found = await repository.snapshot(session, period_id=period_id)
    if found is None:
        return None
    return SnapshotStatus(
        found.period_id, found.unit_count, found.published_count, found.checksum, found.finalized_at
    )
