"""The publication service on the real broker, PostgreSQL and Redis, in this process, on
private topics; events are produced to the broker the way the other services send them
(the contracts' envelope), and tokens are signed by a test issuer."""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from forbedring_chassis.auth import DevelopmentIssuer
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    InProcessService,
    ServiceStarter,
    eventually,
    in_process_starter,
    issuer_for_tests,
    unique_name,
    units_of_test_trust,
)
from forbedring_contracts import examples, topics
from forbedring_contracts.events import (
    DirectoryUpdated,
    Event,
    Factor,
    FactorResult,
    Indicator,
    Item,
    PeriodOpened,
    PublishedUnitResults,
    Questionnaire,
    ResultsFinalized,
    ScaleDistribution,
    ScaleItemResult,
    SuppressedUnitResults,
    Texts,
)
from forbedring_contracts.examples import checksum_of, hidden, person_role
from forbedring_publication.app import create_app
from forbedring_publication.cache import ReportCache
from forbedring_publication.release import Released
from forbedring_publication.scheduler import Scheduler
from forbedring_publication.settings import PublicationSettings
from services.publication.tests import answers
from services.publication.tests.answers import scale_answers

ISSUER = issuer_for_tests()
FINALIZED_AT = datetime(2026, 3, 16, 7, 0, tzinfo=UTC)
STAGE_1_DELAY = timedelta(days=1)
STAGE_2_DELAY = timedelta(days=7)

# Who is who in every test period. "employee" holds no role; "anonymous" sends no token.
PEOPLE = {
    "employee": "E-EMP",
    "leader": "E-LEAD",
    "safety_rep": "E-SAFE",
    "union_rep": "E-UNION",
    "hr_admin": "E-HR",
}
ROLES = ("anonymous", "impostor", *PEOPLE)
# "impostor": a well-formed token for the leader, signed by a key the service does not trust.
IMPOSTOR = DevelopmentIssuer(issuer=ISSUER.issuer, audience="forbedring")

# The suppressed unit's true numbers, known to the test only: none may ever be served.
SECRET_NUMBERS = ("73.21", "41.67", "7321", "4167")

# The hidden clinic K2's sub-units: A-PUB and B-PUB published, C-SMALL hidden (too few).
A_PUB_ANSWERS = scale_answers(4, 4, 4, 5, 5, 3, 4, 4, 2, 5, "dont_know")
B_PUB_ANSWERS = scale_answers(5, 5, 5, 4, 3, 4, 5, 2)
# K2's own atom, known to the test only: its leader's answer and C-SMALL's two, the
# respondents in none of its published sub-units. Aggregation counts them in HF and never
# sends a figure of theirs; the roll-up of A-PUB and B-PUB is all K2 shows.
K2_OWN_ANSWERS = scale_answers(2, 3, 5)
K2_RESPONDENTS = len(A_PUB_ANSWERS) + len(B_PUB_ANSWERS) + len(K2_OWN_ANSWERS)


def own_atom_figures() -> tuple[float, ...]:
    """K2's own atom's mean, share agreeing and share positive: 58.33, 33.33, 33.33."""
    scores = [(int(r["sc1"]) - 1) * 25 for r in K2_OWN_ANSWERS]
    mean = sum(scores) / len(scores)
    agree = 100 * sum(r["sc1"] in (4, 5) for r in K2_OWN_ANSWERS) / len(K2_OWN_ANSWERS)
    positive = 100 * sum(s >= 75 for s in scores) / len(scores)
    return mean, agree, positive


def _written(digits: int) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f"{value:.{digits}f}" for value in own_atom_figures()))


OWN_ATOM_NUMBERS = _written(2) + _written(1)
"""As JSON, an export or a log would write them."""
OWN_ATOM_ON_PAGES = _written(0)
"""As a page shows a mean or share (rounded), looked for in a page's visible text."""


def token(role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    if role == "impostor":
        return {"Authorization": f"Bearer {IMPOSTOR.issue(PEOPLE['leader'])}"}
    return {"Authorization": f"Bearer {ISSUER.issue(PEOPLE[role])}"}


@dataclass
class Org:
    """HF (enterprise) > K (clinic) > S-PUB (published), S-SMALL (suppressed: 3 answered,
    mean 73.21 and 41.67 % positive, which aggregation knows and never sends); HF > K2
    (a hidden clinic: its own answers are too few) > A-PUB, B-PUB (published, K2's
    roll-up sums them), C-SMALL (hidden: 2 answered; with K2's leader, K2's own atom)."""

    period_id: str
    opened: PeriodOpened
    directory: DirectoryUpdated
    results: list[PublishedUnitResults | SuppressedUnitResults]
    finalized: ResultsFinalized
    events: list[Event] = field(default_factory=list)

    def with_results(
        self, results: Sequence[PublishedUnitResults | SuppressedUnitResults]
    ) -> "Org":
        """The same period with other unit results (and the snapshot's checksum over them)."""
        return replace(
            self,
            results=list(results),
            finalized=self.finalized.model_copy(
                update={"checksum": checksum_of(results), "unit_count": len(results)}
            ),
        )


def _published(period_id: str, unit_id: str, respondents: int, mean: float) -> PublishedUnitResults:
    return examples.published_results(
        period_id,
        unit_id,
        respondents=respondents,
        eligible=respondents + 4,
        factors=(
            FactorResult(factor_id="sc", scored=respondents, mean=mean, percent_positive=80.0),
        ),
        items=(
            ScaleItemResult(
                kind="scale",
                item_id="sc1",
                distribution=ScaleDistribution(
                    strongly_disagree=0,
                    disagree=0,
                    neither=1,
                    agree=respondents - 2,
                    strongly_agree=1,
                    dont_know=0,
                ),
                valid=respondents,
                mean=mean,
                percent_agree=80.0,
            ),
        ),
        indicators=(
            Indicator(indicator_id="good_safety_climate_agree", value=80.0, threshold=75, met=True),
            Indicator(indicator_id="good_safety_climate_saq", value=None, threshold=60, met=None),
        ),
    )


def an_org(*, stage_1_delay: timedelta = STAGE_1_DELAY) -> Org:
    period_id = unique_name("period")
    units = units_of_test_trust(
        {
            "HF": 0,
            "K": 0,
            "S-PUB": 24,
            "S-SMALL": 4,
            "K2": 1,
            "A-PUB": 15,
            "B-PUB": 12,
            "C-SMALL": 3,
        }
    )
    texts = Texts(nb="Sikkerhet", nn="Tryggleik", en="Safety")
    scale_item = Item(
        item_id="sc1",
        kind="scale",
        factor_id="sc",
        reverse_scored=False,
        sensitive=False,
        text=texts,
    )
    opened = examples.PERIOD_OPENED.model_copy(
        update={
            "period_id": period_id,
            "organisation_id": "test",
            "name": "ForBedring test",
            "opens_at": FINALIZED_AT - timedelta(weeks=7),
            "closes_at": FINALIZED_AT - timedelta(weeks=1),
            "questionnaire": Questionnaire(
                factors=(Factor(factor_id="sc", name=texts),), items=(scale_item,)
            ),
            "stage_1_delay": stage_1_delay,
            "stage_2_delay": STAGE_2_DELAY,
            "plan_deadline": FINALIZED_AT.date() + timedelta(days=100),
            "units": units,
        }
    )
    directory = DirectoryUpdated(
        period_id=period_id,
        units=tuple(units),
        roles=(
            person_role("leader", PEOPLE["leader"], "S-PUB", "leader"),
            person_role("safety_rep", PEOPLE["safety_rep"], "K", "safety_rep"),
            person_role("union_rep", PEOPLE["union_rep"], "S-SMALL", "union_rep"),
            person_role("hr_admin", PEOPLE["hr_admin"], "HF", "hr_admin"),
        ),
    )
    results: list[PublishedUnitResults | SuppressedUnitResults] = [
        _published(period_id, "HF", 40 + K2_RESPONDENTS, 79.5),
        _published(period_id, "K", 28, 80.5),
        _published(period_id, "S-PUB", 20, 81.25),
        hidden(period_id, "S-SMALL", reason="too_few_respondents", included_in="K"),
        hidden(
            period_id,
            "K2",
            reason="direct_answers_too_few",
            included_in="HF",
            roll_up=answers.roll_up(
                {"A-PUB": A_PUB_ANSWERS, "B-PUB": B_PUB_ANSWERS},
                eligible=15 + 12,
                unit_respondents=K2_RESPONDENTS,
            ),
        ),
        answers.published(period_id, "A-PUB", A_PUB_ANSWERS, eligible=15),
        answers.published(period_id, "B-PUB", B_PUB_ANSWERS, eligible=12),
        hidden(period_id, "C-SMALL", reason="too_few_respondents", included_in="HF"),
    ]
    finalized = examples.finalized(period_id, results, finalized_at=FINALIZED_AT)
    return Org(period_id, opened, directory, results, finalized)


def mine(released: Sequence[Released], period_id: str) -> list[Released]:
    """The releases of one test's period (the session's topics carry other tests' too)."""
    return [r for r in released if r.period_id == period_id]


class Publication(InProcessService[PublicationSettings, Scheduler]):
    @property
    def cache(self) -> ReportCache:
        cache: ReportCache = self.app.state.report_cache
        return cache

    async def get(self, path: str, role: str) -> httpx.Response:
        return await self.client.get(path, headers=token(role))

    async def post(self, path: str, role: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(path, headers=token(role), json=body)

    async def schedule(self, period_id: str) -> dict[str, Any]:
        reply = await self.get(f"/api/v1/periods/{period_id}/schedule", "hr_admin")
        if reply.status_code == 404:
            return {}
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        return body

    async def wait_until(self, period_id: str, probe: Callable[[dict[str, Any]], bool]) -> None:
        async def ready() -> bool:
            return probe(await self.schedule(period_id))

        await eventually(ready, timeout=60)


@pytest.fixture
def publication(
    infrastructure: Infrastructure, topic_prefix: str, databases: Databases
) -> ServiceStarter[Publication]:
    """`async with publication() as running`: the service in this process with a
    settable clock; the scheduler runs only when a test calls `tick()`, unless enabled."""
    return in_process_starter(
        Publication,
        create_app,
        PublicationSettings,
        infrastructure=infrastructure,
        databases=databases,
        topic_prefix=topic_prefix,
        clock_at=FINALIZED_AT - timedelta(hours=1),
        scheduler_enabled=False,
        scheduler_interval_s=0.05,
    )


async def released_events(
    infrastructure: Infrastructure, prefix: str, period_id: str, *, settle_s: float = 2.0
) -> list[dict[str, Any]]:
    """Every results-released body for `period_id`, once nothing new came for `settle_s`."""
    consumer = AIOKafkaConsumer(
        prefix + topics.RESULTS_RELEASED,
        bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=unique_name("reader"),
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        quiet = 0.0
        waited = 0.0
        while waited < 60 and quiet < settle_s:
            batch = await consumer.getmany(timeout_ms=250)
            waited += 0.25
            fresh = [json.loads(r.value) for records in batch.values() for r in records]
            found.extend(fresh)
            quiet = 0.0 if fresh else quiet + 0.25
    finally:
        await consumer.stop()
    return [body for body in found if body["period_id"] == period_id]
