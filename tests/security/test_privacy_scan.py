"""A small real period end to end, all five services in this process on the real broker,
databases, Redis and an SMTP server: a trust of three units (6, 3 and 2 people; the two
small ones hidden, their five answers counted at the root), everyone answers, the period
closes, aggregation finalises, publication releases both stages, actionplan opens the
plans and notification sends its emails. Then everything the run left is scanned:

- every event on every topic of the run's prefix, every log line the services wrote and
  every row of every table of every service's database but survey's invitations (the
  participation record, which names the person by design): no employee id or email in
  the same event, line or row as anything about a response (its id, its answers);
- every email, export (publication's CSV and XLSX, actionplan's HR export, survey's
  research export), Redis cache key and value, results and plan page: no figure of the
  hidden unit of three (its own mean and shares, computed here from what it answered).
"""

import json
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    eventually,
    in_process,
    signed_in_as,
)
from forbedring_survey.testing import (
    HR_ADMIN,
    SurveyApi,
    people_of,
    small_organisation,
    valid_answers,
)
from services.notification.tests.smtp import SmtpServer
from tests.security import scan
from tests.security.conftest import STARTUP_S, Results, service_settings
from tests.service_routes import SERVICES

pytestmark = pytest.mark.timeout(900)
UNITS = {"unit-a": 6, "unit-b": 3, "unit-c": 2}
HIDDEN = "unit-b"
# What each person answers on every scale item: the hidden unit's own mean is 5/3.
VALUES = {"unit-a": [4] * 6, "unit-b": [1, 2, 2], "unit-c": [2, 3]}
LEADERS = {unit: f"e-{unit}-0" for unit in UNITS}


def hidden_figures() -> list[re.Pattern[str]]:
    """unit-b's own figures, as any page, export or email could write them: its mean on
    the 0-100 scale the reports use (16.7) and on the answers' 1-5, its shares of 1s and
    2s (33.3 %, 66.7 %; 0.333 and 0.667 as fractions): to one or two decimals, with a point
    or a comma, as a float's digits, and shares as whole percentages with a % sign."""
    values = VALUES[HIDDEN]
    mean = sum(values) / len(values)
    shares = [values.count(v) / len(values) for v in sorted(set(values))]
    scaled = [mean, (mean - 1) / 4 * 100, *(100 * s for s in shares)]
    numbers = [*scaled, *shares]
    texts = {f"{n:.{d}f}" for n in scaled for d in (1, 2)}
    texts |= {f"{n:.{d}f}" for n in shares for d in (2, 3)}  # 0.3 alone is too common
    texts |= {t.replace(".", ",") for t in texts}
    patterns = [re.compile(rf"(?<![\d.,]){re.escape(t)}(?![\d])") for t in sorted(texts)]
    # A float written out in full (JSON): 16.666666666666668 starts with 16.66.
    patterns += [re.compile(rf"(?<![\d.,]){re.escape(str(n)[:5])}\d") for n in numbers]
    patterns += [re.compile(rf"(?<![\d.,]){round(100 * s)}\s?%") for s in shares]
    return patterns


def organisation() -> dict[str, Any]:
    org = small_organisation(UNITS)
    org["roles"] += [
        {"employee_id": leader, "unit_id": unit, "role": "leader"}
        for unit, leader in LEADERS.items()
    ]
    return org


async def get(client: httpx.AsyncClient, path: str, person: str = HR_ADMIN) -> httpx.Response:
    reply = await client.get(path, headers=signed_in_as(person))
    assert reply.status_code == 200, f"{path}: {reply.status_code} {reply.text[:200]}"
    return reply


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


async def test_nothing_links_a_person_to_a_response_and_no_hidden_figure_leaves(
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
    smtp: SmtpServer,
    capfd: pytest.CaptureFixture[str],
    results: Results,
) -> None:
    overrides: dict[str, dict[str, Any]] = {
        "aggregation": {"finalise_interval_s": 0.5},
        "publication": {"scheduler_interval_s": 0.5},
        "notification": {
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "relay_poll_interval_s": 0.1,
            "send_rate_per_s": 0,
            "public_base_url": "https://forbedring.test",
            "hr_admins": [HR_ADMIN],
        },
    }
    urls = {name: await databases.create(name) for name in SERVICES}
    org = organisation()
    people = [p["employee_id"] for p in org["people"]]
    emails = [p["email"] for p in org["people"]]
    async with AsyncExitStack() as started:
        clients: dict[str, httpx.AsyncClient] = {}
        for name in SERVICES:
            settings = service_settings(
                name, urls[name], infrastructure, private_topic_prefix, **overrides.get(name, {})
            )
            module = __import__(f"forbedring_{name}.app", fromlist=["create_app"])
            clients[name] = await started.enter_async_context(
                in_process(module.create_app(settings), f"http://{name}", startup_s=STARTUP_S)
            )
        survey = SurveyApi(clients["survey"])
        period = await survey.open_period(org, stage_1_delay=1, stage_2_delay=2)
        for unit, values in VALUES.items():
            for person, value in zip(people_of(org, unit), values, strict=True):
                await survey.answer(person, valid_answers(value=value))
        await survey.close(period)
        pages = await released_everywhere(clients, period)

        async def emails_sent() -> bool:
            return smtp.mailbox.count() > 0

        await eventually(emails_sent, timeout=120, interval=0.5)
    logs = capfd.readouterr()

    # --- who answered what ---------------------------------------------------------------
    records = await scan.every_record(infrastructure.kafka_bootstrap_servers, private_topic_prefix)
    response_ids = {
        found
        for where, text in records
        if ".response-submitted." in where
        for found in re.findall(r'"response_id"\s*:\s*"([^"]+)"', text)
    }
    assert len(response_ids) == sum(UNITS.values()), "every answer reached the bus once"
    rows: list[scan.Found] = []
    for name, url in urls.items():
        rows += await scan.every_row(url, leave_out=["invitations"] if name == "survey" else [])
    lines = [
        (f"log line {i}", line)
        for i, line in enumerate((logs.out + logs.err).splitlines())
        if line.strip()
    ]
    # About a response: its id, its answers, its submission, never a count of responses (an
    # HR admin closing a period is audited with how many responses it had).
    marks = [scan.word(r) for r in response_ids] + [
        re.compile(r'"answers"\s*:|response_id|submitted_at|answered_at'),
        re.compile(r"responses?[._ ](accepted|submitted|stored|received|held)", re.I),
    ]
    linkages = {
        kind: list(scan.linked(found, [*people, *emails], marks))
        for kind, found in (("events", records), ("log lines", lines), ("table rows", rows))
    }
    for kind, found in (("events", records), ("log lines", lines), ("table rows", rows)):
        results.record(
            "privacy_linkage", scanned=kind, items=len(found), linkages=len(linkages[kind])
        )

    # --- the hidden unit's figures --------------------------------------------------------
    figures = hidden_figures()
    outputs = {
        "emails": [
            (f"email to {', '.join(m.recipients)}", m.message.as_string())
            for m in smtp.mailbox.snapshot()
        ],
        "exports": pages["exports"],
        "cache": await scan.every_cache_entry(infrastructure.redis_url, period),
        "pages": pages["pages"],
    }
    assert outputs["emails"], "notification sent its emails"
    assert outputs["cache"], "publication cached its reports"
    leaks = {kind: scan.figures_found(found, figures) for kind, found in outputs.items()}
    for kind, found in outputs.items():
        results.record(
            "privacy_hidden_figures", scanned=kind, items=len(found), leaks=len(leaks[kind])
        )
    # Controls: the scans can see what they look for. People are on the bus (the
    # directory) and in the rows, and the published unit's own mean is on its pages.
    assert any(scan.word(people[0]).search(text) for _, text in records)
    assert any(scan.word(emails[1]).search(text) for _, text in rows)
    published_mean = re.compile(r"(?<![\d.,])75(?:[.,]0)?(?![\d])")  # unit-a's 4s on 0-100
    assert scan.figures_found(pages["pages"], [published_mean]), "the scan reads figures"
    assert {k: v[:5] for k, v in linkages.items() if v} == {}
    assert {k: v[:5] for k, v in leaks.items() if v} == {}


async def released_everywhere(
    clients: dict[str, httpx.AsyncClient], period: str
) -> dict[str, list[scan.Found]]:
    """Wait for stage 2 and the hidden unit's plan; then fetch every export and page."""
    pub, plans = clients["publication"], clients["actionplan"]

    async def stage_2() -> bool:
        reply = await pub.get(f"/api/v1/periods/{period}/units", headers=signed_in_as("e-unit-a-3"))
        return reply.status_code == 200

    await eventually(stage_2, timeout=240, interval=0.5)

    async def plan_of_the_hidden_unit() -> bool:
        reply = await plans.get(
            f"/api/v1/periods/{period}/units/{HIDDEN}/plan", headers=signed_in_as(LEADERS[HIDDEN])
        )
        return reply.status_code == 200

    await eventually(plan_of_the_hidden_unit, timeout=120, interval=0.5)
    exports: list[scan.Found] = []
    page_texts: list[scan.Found] = []
    base = f"/periods/{period}"
    for unit in ("root", *UNITS):
        for lang in ("nb", "nn", "en"):
            for person in (HR_ADMIN, LEADERS[HIDDEN]):
                reply = await get(pub, f"{base}/units/{unit}?lang={lang}", person)
                page_texts.append((f"publication page {unit} {lang} as {person}", reply.text))
                reply = await get(pub, f"/api/v1{base}/units/{unit}/results?lang={lang}", person)
                page_texts.append((f"publication results {unit} {lang} as {person}", reply.text))
        for kind in ("csv", "xlsx"):
            reply = await get(pub, f"{base}/units/{unit}/report.{kind}")
            text = reply.text if kind == "csv" else scan.workbook_text(reply.content)
            exports.append((f"publication {unit} report.{kind}", text))
    for kind in ("csv", "xlsx"):
        reply = await get(pub, f"{base}/units.{kind}")
        exports.append(
            (
                f"publication units.{kind}",
                reply.text if kind == "csv" else scan.workbook_text(reply.content),
            )
        )
        reply = await get(plans, f"{base}/units-without-plan.{kind}")
        exports.append(
            (
                f"actionplan units-without-plan.{kind}",
                reply.text if kind == "csv" else scan.workbook_text(reply.content),
            )
        )
    reply = await get(clients["survey"], f"/api/v1{base}/research-export.csv")
    exports.append(("survey research-export.csv", reply.text))
    plan = (await get(plans, f"/api/v1{base}/units/{HIDDEN}/plan", LEADERS[HIDDEN])).json()
    page_texts.append(("actionplan plan (JSON)", json.dumps(plan, ensure_ascii=False)))
    for lang in ("nb", "nn", "en"):
        reply = await get(plans, f"/plans/{plan['plan_id']}?lang={lang}", LEADERS[HIDDEN])
        page_texts.append((f"actionplan plan page {lang}", reply.text))
    return {"exports": exports, "pages": page_texts}
