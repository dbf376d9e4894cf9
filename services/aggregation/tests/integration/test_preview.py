"""HR's suppression preview on the real broker and database: a hospital in miniature,
where every clinic and section leader answers for their own unit. The preview (API and
page, in each language) says which units would be hidden, why, where their answers
count and what their roll-ups cover; the snapshot then carries exactly those roll-ups."""

import json
import random
from typing import Any

import httpx

from forbedring_aggregation import testing as synth
from forbedring_chassis.testing import Infrastructure, eventually, signed_in_as, unique_name
from forbedring_contracts import topics
from services.aggregation.tests.integration.conftest import read_topic
from services.aggregation.tests.integration.test_finalisation import (
    assert_roll_up_sums_published_cells,
)
from services.aggregation.tests.unit.test_suppression_second_edition import HOSPITAL

Q = synth.questionnaire()
LEADERS_UNITS = {"C1", "S1", "S2", "C2"}


async def test_the_preview_explains_each_hidden_unit_and_the_snapshot_has_its_roll_ups(
    aggregation: Any, infrastructure: Infrastructure, private_topic_prefix: str
) -> None:
    period = unique_name("period")
    tree = [(u, p) for u, p, _ in HOSPITAL]
    per_unit = {u: n for u, _, n in HOSPITAL}
    events = synth.responses(random.Random(10), period, Q, per_unit)
    servers = infrastructure.kafka_bootstrap_servers
    async with aggregation() as running:
        await synth.produce(
            servers,
            private_topic_prefix,
            synth.encoded(synth.opening(period, tree, Q)),
        )
        await synth.produce(servers, private_topic_prefix, synth.encoded(events))

        async def all_counted() -> bool:
            reply = await running.client.get(f"/api/v1/periods/{period}/units/R")
            return bool(reply.status_code == 200 and reply.json()["respondents"] == len(events))

        await eventually(all_counted, timeout=30)
        preview = (await running.client.get(f"/api/v1/periods/{period}/suppression-preview")).json()
        assert preview["method"] == "optimal_v2"
        assert set(preview["suppressed"]) == LEADERS_UNITS
        hidden = {h["unit_id"]: h for h in preview["hidden"]}
        for unit in LEADERS_UNITS:
            assert hidden[unit]["reason"] == "direct_answers_too_few"
            assert hidden[unit]["included_in"] == "R"
            assert hidden[unit]["team"] is False
        assert hidden["C1"]["roll_up_sub_units"] == ["A", "B", "E", "F"]
        assert (hidden["C1"]["roll_up_respondents"], hidden["C1"]["respondents"]) == (97, 100)
        assert preview["totals"] == {
            "units": 11,
            "units_hidden": 4,
            "teams": 6,
            "teams_hidden": 0,
            "respondents": 178,
            "respondents_without_own_report": 4,
        }

        texts = {
            "nb": ("Enhetens egne svar", "4 av 11", "4 publiserte underenheter, 97 av 100 svar"),
            "nn": ("Eininga sine eigne svar", "0 av 6", "4 publiserte undereiningar, 97 av 100"),
            "en": ("Its own answers, those in no published sub-unit", "4 of 178", "97 of 100"),
        }
        for language, expected in texts.items():
            page = await running.client.get(f"/periods/{period}/suppression?lang={language}")
            assert page.status_code == 200
            assert page.headers["content-language"] == language
            for text in expected:
                assert text in page.text, (language, text)
        # Another period's, or no period's: the same refusal (it tells no one it exists).
        unknown = await running.client.get("/periods/no-such-period/suppression?lang=en")
        assert unknown.status_code == 403
        assert "For HR only" in unknown.text
        await only_its_hr_admins_read_the_counts(running.client, period)

        await synth.produce(
            servers, private_topic_prefix, synth.encoded([synth.period_closed(period, per_unit)])
        )

        async def finalised() -> bool:
            reply = await running.client.get(f"/api/v1/periods/{period}/snapshot")
            return bool(reply.status_code == 200)

        await eventually(finalised, timeout=30)

    results = {
        body["unit_id"]: body
        for body in (
            json.loads(r.value)
            for r in await read_topic(infrastructure, private_topic_prefix + topics.UNIT_RESULTS)
        )
        if body["period_id"] == period
    }
    assert {u for u, b in results.items() if not b["published"]} == LEADERS_UNITS
    for unit in LEADERS_UNITS:
        roll_up = results[unit]["roll_up"]
        assert roll_up["sub_units"] == hidden[unit]["roll_up_sub_units"]
        assert roll_up["unit_respondents"] == hidden[unit]["respondents"]
        assert_roll_up_sums_published_cells(roll_up, results)


async def only_its_hr_admins_read_the_counts(client: httpx.AsyncClient, period: str) -> None:
    """Every route, anonymous, as someone else and as another period's HR admin."""
    routes = [
        f"/api/v1/periods/{period}/units",
        f"/api/v1/periods/{period}/units/R",
        f"/api/v1/periods/{period}/suppression-preview",
        f"/api/v1/periods/{period}/snapshot",
    ]
    page = f"/periods/{period}/suppression?lang=en"
    nobody = {"Authorization": ""}
    for route in routes:
        assert (await client.get(route, headers=nobody)).status_code == 401, route
        for someone in ("e-R-0", "hr-of-another-period"):
            refused = await client.get(route, headers=signed_in_as(someone))
            assert refused.status_code == 403, (route, someone)
            assert refused.json()["detail"]["code"] == "forbidden"
            assert "respondents" not in refused.text
    anonymous = await client.get(page, headers=nobody)
    assert anonymous.status_code == 401
    assert "Sign in" in anonymous.text or "sign in" in anonymous.text
    other = await client.get(page, headers=signed_in_as("e-R-0"))
    assert other.status_code == 403
    assert "For HR only" in other.text
    assert "Its own answers" not in other.text
