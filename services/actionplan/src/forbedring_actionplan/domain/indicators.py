"""The plan indicators, per level of the tree and for the enterprise, each against a
target (default 100 %): the share of units with a plan (at least one measure), with a
complete plan of the desired quality, and the share of measures done by their deadline
(of those done or past their deadline; cancelled ones and ones lifted to the plan above
left out)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

ENTERPRISE = "enterprise"


@dataclass(frozen=True)
class UnitFacts:
    unit_id: str
    level: str
    has_plan: bool
    complete_of_quality: bool


@dataclass(frozen=True)
class MeasureOutcome:
    level: str
    status: str
    deadline: date | None
    done_on: date | None


@dataclass(frozen=True)
class Share:
    indicator: str
    level: str
    count: int
    of: int
    share: float | None
    target: float
    target_met: bool | None


def _share(indicator: str, level: str, count: int, of: int, target: float) -> Share:
    value = round(100 * count / of, 1) if of else None
    return Share(
        indicator, level, count, of, value, target, None if value is None else value >= target
    )


def counts_for_deadline(outcome: MeasureOutcome, today: date) -> tuple[bool, bool]:
    """(counted, done by its deadline) for one measure."""
    if outcome.status == "cancelled" or outcome.deadline is None:
        return False, False
    if outcome.status == "done":
        return True, outcome.done_on is not None and outcome.done_on <= outcome.deadline
    return outcome.deadline < today, False


def indicators(
    units: Sequence[UnitFacts],
    measures: Iterable[MeasureOutcome],
    *,
    today: date,
    targets: dict[str, float],
) -> list[Share]:
    levels = sorted({u.level for u in units})
    rows: list[Share] = []
    outcomes = [(m.level, *counts_for_deadline(m, today)) for m in measures]
    for level in [ENTERPRISE, *levels]:
        chosen = [u for u in units if level == ENTERPRISE or u.level == level]
        mine = [o for o in outcomes if level == ENTERPRISE or o[0] == level]
        rows.append(
            _share(
                "with_plan",
                level,
                sum(u.has_plan for u in chosen),
                len(chosen),
                targets["with_plan"],
            )
        )
        rows.append(
            _share(
                "complete_of_quality",
                level,
                sum(u.complete_of_quality for u in chosen),
                len(chosen),
                targets["complete_of_quality"],
            )
        )
        counted = [o for o in mine if o[1]]
        rows.append(
            _share(
                "measures_done_by_deadline",
                level,
                sum(1 for o in counted if o[2]),
                len(counted),
                targets["measures_done_by_deadline"],
            )
        )
    return rows
