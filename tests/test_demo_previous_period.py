"""`make up`'s demo loading, as `deploy/local/stack.sh` runs it, against survey,
aggregation, publication and actionplan processes on fresh databases and topics: the demo
hospital gets last year's period (answered, closed, its results released by publication's
scheduler, its plans opened by actionplan from the events) and its plans written by the
demo leaders through actionplan's API, in several states; this year's period opens; a
second run changes nothing."""

import os
import subprocess
import sys
from typing import Any

import httpx
import pytest

from forbedring_chassis.testing import Databases, Infrastructure, unique_name
from tests.conftest import ServiceProcess, wait_until_ready

pytestmark = [pytest.mark.infra, pytest.mark.timeout(3600)]


def _run(args: list[str], env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _get(service: ServiceProcess, person: str, path: str) -> Any:
    login = httpx.post(f"{service.url}/dev-login", json={"employee_id": person}, timeout=30)
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    reply = httpx.get(
        f"{service.url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    assert reply.status_code == 200, (path, reply.text)
    return reply.json()


async def test_the_demo_has_last_years_results_and_plans_in_several_states(
    infrastructure: Infrastructure,
    topic_prefix: str,
    databases: Databases,
    launch_service: Any,
) -> None:
    survey_db = await databases.create("survey")
    fast = {
        "SURVEY_SCHEDULER_INTERVAL_S": "0.5",
        "PUBLICATION_SCHEDULER_INTERVAL_S": "0.5",
        "ACTIONPLAN_SCHEDULER_ENABLED": "false",
    }
    started: dict[str, ServiceProcess] = {}
    for name in ("survey", "aggregation", "publication", "actionplan"):
        started[name] = await launch_service(
            name,
            database_url=survey_db if name == "survey" else await databases.create(name),
            consumer_group=unique_name(name),
            extra_env=fast,
            wait_ready=False,
        )
    for handle in started.values():  # four services starting at once on a small machine
        await wait_until_ready(handle, timeout=240)
    actionplan = started["actionplan"]
    env = {
        **os.environ,
        "SURVEY_DATABASE_URL": survey_db,
        "SURVEY_KAFKA_BOOTSTRAP_SERVERS": infrastructure.kafka_bootstrap_servers,
        "SURVEY_KAFKA_TOPIC_PREFIX": topic_prefix,
        "SURVEY_REDIS_URL": infrastructure.redis_url,
    }
    loaded = _run(["-m", "forbedring_survey.cli", "load-demo", "--wait-open", "60"], env, 2400)
    [previous] = [
        line.split()[2] for line in loaded.splitlines() if line.startswith("Previous period: ")
    ]
    assert "Period status: open." in loaded, loaded
    demo = [
        "-m",
        "forbedring_actionplan.demo",
        "--url",
        actionplan.url,
        "--period",
        previous,
        "--wait",
        "600",
    ]
    written = _run(demo, env, 900)
    assert "completed" in written, written

    # The demo leader's plan: discussed, measures in every state, one lifted and accepted
    # by the department, completed once and reviewed since.
    [mine] = [p for p in _get(actionplan, "demo-leader", "/me/plans") if p["plans"]]
    assert mine["period"]["period_id"] == previous
    [row] = [r for r in mine["plans"] if r["unit"]["name"] == "Sengepost 3B"]
    plan = _get(actionplan, "demo-leader", f"/plans/{row['plan_id']}")
    assert plan["version"] == 1
    assert plan["status"] == "active"
    assert plan["desired_quality"]
    assert not plan["missing"]
    steps = [d["step"] for d in plan["dialogue"]]
    assert {"leader_above", "representatives", "staff", "staff_review"} <= set(steps)
    statuses = {m["status"] for m in plan["measures"]}
    assert {"done", "in_progress", "planned"} <= statuses
    [lifted] = [m for m in plan["measures"] if m["escalation"]]
    assert lifted["escalation"]["status"] == "accepted"
    assert lifted["escalated_to"]
    parent = _get(actionplan, "demo-hr-admin", f"/plans/{lifted['escalation']['to_plan_id']}")
    assert any(m["origin"] for m in parent["measures"]), "linked both ways"
    assert plan["comments"], "the safety representative's comment"

    # Across the hospital: plans in several states, an escalation waiting, indicators.
    roll_up = _get(actionplan, "demo-hr-admin", f"/periods/{previous}/roll-up")["units"]
    assert {"draft", "active", "completed"} <= {r["status"] for r in roll_up}
    assert any(r["measures"] and r["missing"] for r in roll_up), "written, checklist not met"
    parent_leader = parent["leaders"][0]["person_id"]
    inbox = _get(actionplan, parent_leader, f"/periods/{previous}/inbox")
    assert inbox["incoming"], "the sibling's escalation, waiting"
    assert inbox["decided"], "Sengepost 3B's, accepted"
    without = _get(actionplan, "demo-hr-admin", f"/periods/{previous}/units-without-plan")
    assert 0 < len(without["units"]) < len(roll_up)
    indicators = _get(actionplan, "demo-hr-admin", f"/periods/{previous}/indicators")
    [enterprise] = [
        r
        for r in indicators["rows"]
        if r["indicator"] == "with_plan" and r["level"] == "enterprise"
    ]
    assert 0 < enterprise["share"] < 100

    # Idempotent: the second run finds everything loaded and writes nothing.
    again = _run(["-m", "forbedring_survey.cli", "load-demo", "--wait-open", "60"], env, 120)
    assert "Demo already loaded" in again
    assert f"Previous period: {previous}" in again
    assert "Demo plans already written" in _run(demo, env, 120)
    assert (
        _get(actionplan, "demo-leader", f"/plans/{row['plan_id']}")["revision"]
        == (plan["revision"])
    )
