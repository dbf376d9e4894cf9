"""What a suppression pattern means for the people, for HR's preview: each hidden unit
with why it is hidden, where its answers count and what its roll-up would cover, and the
period's totals. Counts only (respondent counts are public): no answer data."""

from collections.abc import Mapping
from dataclasses import dataclass

from forbedring_aggregation.domain.snapshot import REASON_CODES
from forbedring_aggregation.domain.suppression import SuppressionMethod, SuppressionResult
from forbedring_aggregation.domain.unit_tree import UnitTree


@dataclass(frozen=True)
class HiddenUnit:
    unit_id: str
    reason: str
    """As in the unit-results contract: too_few_respondents, direct_answers_too_few or
    protects_smaller_unit."""
    included_in: str | None
    respondents: int
    team: bool
    """A leaf unit (cost centre): the team that holds the results discussion."""
    roll_up_sub_units: tuple[str, ...]
    roll_up_respondents: int


@dataclass(frozen=True)
class PreviewTotals:
    units: int
    units_hidden: int
    teams: int
    teams_hidden: int
    respondents: int
    respondents_without_own_report: int


@dataclass(frozen=True)
class SuppressionExplanation:
    method: SuppressionMethod
    k: int
    hidden: tuple[HiddenUnit, ...]
    totals: PreviewTotals


def explain(tree: UnitTree, result: SuppressionResult) -> SuppressionExplanation:
    """The hidden units by id, and the totals."""
    children: Mapping[str, tuple[str, ...]] = tree.children
    n = result.respondents
    hidden = tuple(
        HiddenUnit(
            unit_id=uid,
            reason=REASON_CODES[result.reasons[uid]],
            included_in=result.included_in[uid],
            respondents=n[uid],
            team=not children[uid],
            roll_up_sub_units=result.sub_units[uid],
            roll_up_respondents=sum(n[z] for z in result.sub_units[uid]),
        )
        for uid in sorted(result.suppressed)
    )
    return SuppressionExplanation(
        method=result.method,
        k=result.k,
        hidden=hidden,
        totals=PreviewTotals(
            units=len(tree.postorder),
            units_hidden=result.cost.units_hidden,
            teams=sum(1 for u in tree.postorder if not children[u]),
            teams_hidden=result.cost.teams_hidden,
            respondents=n[tree.root],
            respondents_without_own_report=result.cost.respondents_without_own_report,
        ),
    )
