"""The test organisation, its period's events and the results a test knows: who is who,
and the true figures of the hidden units, which no plan response or event may show."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from forbedring_chassis.testing import unique_name, units_of_test_trust
from forbedring_contracts import examples
from forbedring_contracts.events import (
    DirectoryUpdated,
    Event,
    Factor,
    FactorResult,
    Item,
    Membership,
    PeriodOpened,
    PublishedUnitResults,
    Questionnaire,
    ResultsFinalized,
    ResultsReleased,
    RoleAssignment,
    ScaleDistribution,
    ScaleItemResult,
    SubUnitsRollUp,
    SuppressedUnitResults,
    Texts,
)
from forbedring_contracts.events.base import Role
from forbedring_contracts.examples import hidden, person_role

RELEASED_AT = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
PLAN_DEADLINE = date(2027, 6, 30)

# "employee" works in S-PUB; "elsewhere" works in S-SMALL; "leader_above" leads K.
PEOPLE = {
    "employee": "E-EMP",
    "elsewhere": "E-OTHER",
    "leader": "E-LEAD",
    "leader_above": "E-KLEAD",
    "top_leader": "E-TOP",
    "representative": "E-SAFE",
    "union_rep": "E-UNION",
    "hr_admin": "E-HR",
    "k2_leader": "E-K2LEAD",
}

# The figures the hidden units' plans are suggested from (K2's roll-up; K, S-SMALL's
# nearest published ancestor): a plan shows which items, never a number.
HIDDEN_FIGURES = ("61.37", "43.21", "68.91", "52.47")


def _texts(text: str) -> Texts:
    return Texts(nb=f"{text} (nb)", nn=f"{text} (nn)", en=text)


def _item(item_id: str, factor_id: str, text: str, *, reverse_scored: bool = False) -> Item:
    return Item(
        item_id=item_id,
        kind="scale",
        factor_id=factor_id,
        reverse_scored=reverse_scored,
        sensitive=False,
        text=_texts(text),
    )


QUESTIONNAIRE = Questionnaire(
    factors=(
        Factor(factor_id="safety_climate", name=_texts("Safety climate")),
        Factor(factor_id="working_conditions", name=_texts("Working conditions")),
    ),
    items=(
        _item("sc1", "safety_climate", "I would feel safe being treated here"),
        _item("sc2", "safety_climate", "Errors are handled appropriately"),
        _item("wc1", "working_conditions", "I have too much to do", reverse_scored=True),
        _item("wc2", "working_conditions", "I can take my breaks"),
    ),
)


def scale(item_id: str, mean: float, agree: float, n: int = 10) -> ScaleItemResult:
    return ScaleItemResult(
        kind="scale",
        item_id=item_id,
        distribution=ScaleDistribution(
            strongly_disagree=1, disagree=1, neither=1, agree=n - 4, strongly_agree=1, dont_know=0
        ),
        valid=n,
        mean=mean,
        percent_agree=agree,
    )


def published(
    period_id: str, unit_id: str, items: tuple[ScaleItemResult, ...], n: int
) -> PublishedUnitResults:
    return examples.published_results(
        period_id,
        unit_id,
        respondents=n,
        eligible=n + 3,
        factors=(
            FactorResult(factor_id="safety_climate", scored=n, mean=70.0, percent_positive=50.0),
        ),
        items=items,
    )


@dataclass
class Org:
    """HF > K > S-PUB (published: sc1 and wc1 to follow up, sc2 and wc2 what works),
    S-SMALL (hidden, no roll-up: gets K's focus areas); HF > K2 (hidden, with the roll-up
    of A-PUB, B-PUB: sc2 to follow up) > A-PUB, B-PUB."""

    period_id: str
    opened: PeriodOpened
    directory: DirectoryUpdated
    results: list[PublishedUnitResults | SuppressedUnitResults]
    finalized: ResultsFinalized
    stage_1: ResultsReleased
    stage_2: ResultsReleased
    extra: list[Event] = field(default_factory=list)

    def events(self) -> list[Event]:
        return [self.opened, self.directory, *self.results, self.finalized, self.stage_1]


def an_org(
    *, opens_at: datetime = RELEASED_AT - timedelta(weeks=8), organisation_id: str | None = None
) -> Org:
    """A period of its own organisation unless one is named: tests share the topics, so
    another test's periods never count as this one's last year."""
    period_id = unique_name("period")
    units = units_of_test_trust(
        {"HF": 2, "K": 1, "S-PUB": 24, "S-SMALL": 4, "K2": 1, "A-PUB": 12, "B-PUB": 12}
    )
    opened = examples.PERIOD_OPENED.model_copy(
        update={
            "period_id": period_id,
            "organisation_id": organisation_id or unique_name("org"),
            "name": "ForBedring 2027",
            "opens_at": opens_at,
            "closes_at": opens_at + timedelta(weeks=4),
            "questionnaire": QUESTIONNAIRE,
            "plan_deadline": PLAN_DEADLINE,
            "units": units,
        }
    )

    def role(person: str, unit: str, kind: Role) -> RoleAssignment:
        return person_role(person, PEOPLE[person], unit, kind)

    def member(person: str, unit: str) -> Membership:
        return Membership(
            person_id=PEOPLE[person],
            unit_id=unit,
            name=f"Person {person}",
            email=f"{person.replace('_', '.')}@example.org",
            language="nb",
        )

    directory = DirectoryUpdated(
        period_id=period_id,
        units=tuple(units),
        roles=(
            role("top_leader", "HF", "leader"),
            role("leader_above", "K", "leader"),
            role("leader", "S-PUB", "leader"),
            role("representative", "S-PUB", "safety_rep"),
            role("union_rep", "S-PUB", "union_rep"),
            role("hr_admin", "HF", "hr_admin"),
            role("k2_leader", "K2", "leader"),
        ),
        members=(
            member("employee", "S-PUB"),
            member("leader", "S-PUB"),
            member("elsewhere", "S-SMALL"),
        ),
    )
    good = (scale("sc2", 85.0, 90.0), scale("wc2", 80.0, 85.0))
    k2_roll_up = SubUnitsRollUp(
        sub_units=("A-PUB", "B-PUB"),
        respondents=20,
        unit_respondents=21,
        eligible=24,
        factors=(),
        items=(scale("sc1", 90.0, 90.0, 20), scale("sc2", 61.37, 43.21, 20)),
        withheld_items=(),
    )
    results: list[PublishedUnitResults | SuppressedUnitResults] = [
        published(period_id, "HF", (scale("sc1", 80.0, 80.0), scale("sc2", 60.0, 50.0)), 60),
        published(period_id, "K", (scale("sc1", 68.91, 52.47), scale("sc2", 90.0, 95.0)), 30),
        published(
            period_id, "S-PUB", (scale("sc1", 65.0, 50.0), scale("wc1", 70.0, 20.0), *good), 24
        ),
        hidden(period_id, "S-SMALL", reason="too_few_respondents", included_in="K"),
        hidden(
            period_id, "K2", reason="direct_answers_too_few", included_in="HF", roll_up=k2_roll_up
        ),
        published(period_id, "A-PUB", (scale("sc1", 90.0, 90.0), scale("sc2", 60.0, 40.0)), 10),
        published(period_id, "B-PUB", (scale("sc1", 90.0, 90.0), scale("sc2", 65.0, 50.0)), 10),
    ]
    finalized = examples.finalized(period_id, results, finalized_at=RELEASED_AT - timedelta(days=1))
    stage_1 = ResultsReleased(
        period_id=period_id,
        stage=1,
        audience=("leader", "safety_rep", "union_rep", "hr_admin"),
        released_at=RELEASED_AT,
    )
    stage_2 = ResultsReleased(
        period_id=period_id,
        stage=2,
        audience=("leader", "safety_rep", "union_rep", "hr_admin", "employee"),
        released_at=RELEASED_AT + timedelta(days=7),
    )
    return Org(period_id, opened, directory, results, finalized, stage_1, stage_2)


def last_year_and_this() -> tuple[Org, Org]:
    """Two periods of one organisation, the second opening a year after the first."""
    last = an_org()
    this = an_org(organisation_id=last.opened.organisation_id)
    this.opened = this.opened.model_copy(
        update={"opens_at": last.opened.opens_at + timedelta(days=365)}
    )
    return last, this
