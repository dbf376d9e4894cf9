"""One valid example of every event model: for the AsyncAPI document and for tests."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Final
from uuid import UUID

from forbedring_contracts.events import (
    DirectoryUpdated,
    Event,
    Factor,
    FactorResult,
    Indicator,
    Item,
    ItemResult,
    MeasureEscalated,
    Membership,
    ParticipationChanged,
    PeriodClosed,
    PeriodOpened,
    PlanDeadlineApproaching,
    PlanUpdated,
    PublishedUnitResults,
    Questionnaire,
    ResponseSubmitted,
    ResultsFinalized,
    ResultsReleased,
    RoleAssignment,
    ScaleDistribution,
    ScaleItemResult,
    SubUnitsRollUp,
    SuppressedUnitResults,
    Texts,
    Unit,
    UnitInScope,
    YesNoItemResult,
    results_checksum,
)
from forbedring_contracts.events.aggregation import SuppressionReason
from forbedring_contracts.events.base import Role

PERIOD: Final = "2026"
_OPENED_AT: Final = datetime(2026, 2, 2, 7, 0, tzinfo=UTC)
_UNITS: Final = (
    Unit(unit_id="HF", parent_id=None, name="Helse Eksempel HF", level="1"),
    Unit(unit_id="K1", parent_id="HF", name="Medisinsk klinikk", level="2.1"),
    Unit(unit_id="S11", parent_id="K1", name="Sengepost 1", level="3"),
)

PERIOD_OPENED: Final = PeriodOpened(
    period_id=PERIOD,
    organisation_id="helse-eksempel",
    name="ForBedring 2026",
    opens_at=_OPENED_AT,
    closes_at=_OPENED_AT + timedelta(weeks=6),
    questionnaire_version="2026.1",
    questionnaire=Questionnaire(
        factors=(
            Factor(
                factor_id="safety_climate",
                name=Texts(nb="Sikkerhetsklima", nn="Tryggleiksklima", en="Safety climate"),
            ),
        ),
        items=(
            Item(
                item_id="sc1",
                kind="scale",
                factor_id="safety_climate",
                reverse_scored=False,
                sensitive=False,
                text=Texts(
                    nb="Jeg ville føle meg trygg på å bli behandlet her som pasient.",
                    nn="Eg ville kjent meg trygg på å bli behandla her som pasient.",
                    en="I would feel safe being treated here as a patient.",
                ),
            ),
            Item(
                item_id="bully",
                kind="yes_no",
                factor_id=None,
                reverse_scored=False,
                sensitive=True,
                text=Texts(
                    nb="Jeg kjenner til mobbing på min arbeidsplass.",
                    nn="Eg kjenner til mobbing på arbeidsplassen min.",
                    en="I know of bullying at my workplace.",
                ),
            ),
        ),
    ),
    k=5,
    sensitive_k=10,
    stage_1_delay=timedelta(0),
    stage_2_delay=timedelta(days=7),
    plan_deadline=date(2026, 6, 30),
    units=tuple(
        UnitInScope(**unit.model_dump(), eligible=eligible)
        for unit, eligible in zip(_UNITS, (2, 0, 14), strict=True)
    ),
)

DIRECTORY_UPDATED: Final = DirectoryUpdated(
    period_id=PERIOD,
    units=_UNITS,
    roles=(
        RoleAssignment(
            person_id="E1001",
            unit_id="S11",
            role="leader",
            name="Kari Nordmann",
            email="kari.nordmann@example.org",
            language="nb",
        ),
    ),
    members=(
        Membership(
            person_id="E1002",
            unit_id="S11",
            name="Ola Nordmann",
            email="ola.nordmann@example.org",
            language="nn",
        ),
    ),
)

RESPONSE_SUBMITTED: Final = ResponseSubmitted(
    response_id=UUID("3f2c8a4e-9b1d-4c57-a0e2-6d8f1b7c5a90"),
    period_id=PERIOD,
    unit_id="S11",
    questionnaire_version="2026.1",
    answers={"sc1": 4, "bully": "no"},
)

PARTICIPATION_CHANGED: Final = ParticipationChanged(
    period_id=PERIOD,
    unit_id="S11",
    respondents=9,
    eligible=14,
    as_of=datetime(2026, 2, 10, 12, 30, tzinfo=UTC),
)

PERIOD_CLOSED: Final = PeriodClosed(
    period_id=PERIOD,
    closed_at=_OPENED_AT + timedelta(weeks=6),
    totals={"HF": 1, "K1": 0, "S11": 11},
)

PUBLISHED_UNIT_RESULTS: Final = PublishedUnitResults(
    published=True,
    period_id=PERIOD,
    unit_id="S11",
    respondents=11,
    eligible=14,
    factors=(
        FactorResult(factor_id="safety_climate", scored=10, mean=77.5, percent_positive=70.0),
    ),
    items=(
        ScaleItemResult(
            kind="scale",
            item_id="sc1",
            distribution=ScaleDistribution(
                strongly_disagree=0, disagree=1, neither=2, agree=4, strongly_agree=3, dont_know=1
            ),
            valid=10,
            mean=72.5,
            percent_agree=70.0,
        ),
        YesNoItemResult(kind="yes_no", item_id="bully", yes=1, no=10, percent_yes=9.1),
    ),
    withheld_items=(),
    withheld_items_included_in=None,
    indicators=(
        Indicator(indicator_id="good_safety_climate_agree", value=70.0, threshold=75.0, met=False),
    ),
)

SUPPRESSED_UNIT_RESULTS: Final = SuppressedUnitResults(
    published=False,
    period_id=PERIOD,
    unit_id="K1",
    reason="protects_smaller_unit",
    included_in="HF",
)

RESULTS_FINALIZED: Final = ResultsFinalized(
    period_id=PERIOD,
    unit_count=3,
    published_count=2,
    checksum="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    finalized_at=datetime(2026, 3, 16, 7, 0, 12, tzinfo=UTC),
)

RESULTS_RELEASED: Final = ResultsReleased(
    period_id=PERIOD,
    stage=1,
    audience=("leader", "safety_rep", "union_rep", "hr_admin"),
    released_at=datetime(2026, 3, 16, 7, 1, tzinfo=UTC),
)

PLAN_UPDATED: Final = PlanUpdated(
    plan_id="plan-S11-2026",
    period_id=PERIOD,
    unit_id="S11",
    status="active",
    measure_count=3,
    completed_measure_count=1,
    deadline=date(2026, 6, 30),
    updated_at=datetime(2026, 4, 2, 9, 15, tzinfo=UTC),
    version=1,
    desired_quality=True,
    measures_done_by_deadline=1,
)

MEASURE_ESCALATED: Final = MeasureEscalated(
    plan_id="plan-S11-2026",
    period_id=PERIOD,
    measure_id="m-3",
    unit_id="S11",
    to_unit_id="K1",
    title="Faste pauserom på nattevakt",
    escalated_at=datetime(2026, 4, 2, 9, 20, tzinfo=UTC),
    step="escalated",
    reason="Needs a budget decision at department level.",
    leader_person_ids=("E1001",),
    to_leader_person_ids=("E2001",),
)

PLAN_DEADLINE_APPROACHING: Final = PlanDeadlineApproaching(
    plan_id=None,
    period_id=PERIOD,
    unit_id="K1",
    deadline=date(2026, 6, 30),
    days_left=14,
    leader_person_ids=("E2001",),
    subject="plan",
    threshold_days=14,
    parent_leader_person_ids=("E3001",),
    missing=("staff_discussion", "measure_linked_to_focus_area"),
)

EXAMPLES: Final[tuple[Event, ...]] = (
    PERIOD_OPENED,
    DIRECTORY_UPDATED,
    RESPONSE_SUBMITTED,
    PARTICIPATION_CHANGED,
    PERIOD_CLOSED,
    PUBLISHED_UNIT_RESULTS,
    SUPPRESSED_UNIT_RESULTS,
    RESULTS_FINALIZED,
    RESULTS_RELEASED,
    PLAN_UPDATED,
    MEASURE_ESCALATED,
    PLAN_DEADLINE_APPROACHING,
)


# --- builders for tests' own periods -------------------------------------------------------


def person_role(person: str, person_id: str, unit_id: str, role: Role) -> RoleAssignment:
    """`person` (a test's name for them, e.g. "union_rep") holds `role` in the unit."""
    return RoleAssignment(
        person_id=person_id,
        unit_id=unit_id,
        role=role,
        name=f"Person {person}",
        email=f"{person.replace('_', '.')}@example.org",
        language="nb",
    )


def hidden(
    period_id: str,
    unit_id: str,
    *,
    reason: SuppressionReason,
    included_in: str,
    roll_up: SubUnitsRollUp | None = None,
) -> SuppressedUnitResults:
    """A unit whose results aggregation withholds, counted in `included_in`."""
    return SuppressedUnitResults(
        published=False,
        period_id=period_id,
        unit_id=unit_id,
        reason=reason,
        included_in=included_in,
        roll_up=roll_up,
    )


def checksum_of(results: Sequence[PublishedUnitResults | SuppressedUnitResults]) -> str:
    """The snapshot's checksum over the events as the contract encodes them."""
    return results_checksum([(r.unit_id, r.model_dump_json().encode()) for r in results])


def finalized(
    period_id: str,
    results: Sequence[PublishedUnitResults | SuppressedUnitResults],
    *,
    finalized_at: datetime,
) -> ResultsFinalized:
    """The results-finalized that closes exactly these unit results."""
    return ResultsFinalized(
        period_id=period_id,
        unit_count=len(results),
        published_count=sum(r.published for r in results),
        checksum=checksum_of(results),
        finalized_at=finalized_at,
        suppression_method="optimal_v2",
    )


def published_results(
    period_id: str,
    unit_id: str,
    *,
    respondents: int,
    eligible: int,
    factors: tuple[FactorResult, ...],
    items: tuple[ItemResult, ...],
    indicators: tuple[Indicator, ...] = (),
) -> PublishedUnitResults:
    """A unit's own results, nothing withheld."""
    return PublishedUnitResults(
        published=True,
        period_id=period_id,
        unit_id=unit_id,
        respondents=respondents,
        eligible=eligible,
        factors=factors,
        items=items,
        withheld_items=(),
        withheld_items_included_in=None,
        indicators=indicators,
    )
