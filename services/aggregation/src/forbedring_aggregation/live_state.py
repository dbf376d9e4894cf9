"""The live state of a period: counts only, never answer data before release; and the
suppression preview HR reads while the period runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_aggregation import repository
from forbedring_aggregation.domain.preview import SuppressionExplanation, explain
from forbedring_aggregation.domain.suppression import (
    SuppressionResult,
    UnitNode,
    build_unit_tree,
    compute_suppression,
)
from forbedring_aggregation.finalisation import CURRENT_METHOD, period_units


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
    units = period_units(period)
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
