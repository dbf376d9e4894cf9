"""`make up`'s stack script: five services ready behind one origin, and `down` stops them."""

import asyncio
import os
import subprocess
from pathlib import Path

import asyncpg
import httpx

from forbedring_chassis.testing import (
    REPO_ROOT,
    Infrastructure,
    drop_database,
    free_port,
    plain_url,
    unique_name,
)
from forbedring_chassis.topic_admin import delete_topics_with_prefix

SERVICES = ("survey", "aggregation", "publication", "actionplan", "notification")
STACK = REPO_ROOT / "deploy" / "local" / "stack.sh"


async def _periods_in(database_url: str) -> int:
    """How many periods `make up`'s survey database holds (none before its first run)."""
    try:
        connection = await asyncpg.connect(plain_url(database_url))
    except asyncpg.InvalidCatalogNameError:
        return 0
    try:
        return int(await connection.fetchval("SELECT count(*) FROM periods"))
    except asyncpg.UndefinedTableError:
        return 0
    finally:
        await connection.close()


def periods_in(database_url: str) -> int:
    return asyncio.run(_periods_in(database_url))


async def _remove_namespace(infrastructure: Infrastructure, namespace: str) -> None:
    for service in SERVICES:
        await drop_database(infrastructure.database_url, f"forbedring_{namespace}_{service}")
    await delete_topics_with_prefix(infrastructure.kafka_bootstrap_servers, namespace + ".")


def test_the_stack_serves_every_service_through_the_proxy_and_stops_cleanly(
    infrastructure: Infrastructure, tmp_path: Path
) -> None:
    proxy = free_port()
    namespace = unique_name("stack").replace("-", "_")
    env = {
        **os.environ,
        "FORBEDRING_STACK_DIR": str(tmp_path),
        "FORBEDRING_PROXY_PORT": str(proxy),
        "FORBEDRING_SERVICE_PORT_BASE": str(20000 + proxy % 20000),
        # Its own databases and topics: `make up` afterwards finds only what it loaded.
        "FORBEDRING_STACK_NAMESPACE": namespace,
        # This year's period only: last year's, answered by 12,000 people, takes minutes
        # (tests/test_demo_previous_period.py covers it).
        "FORBEDRING_DEMO_PREVIOUS": "0",
    }
    make_up_survey = infrastructure.database_url.rsplit("/", 1)[0] + "/forbedring_survey"
    periods_before = periods_in(make_up_survey)
    try:
        up = subprocess.run([str(STACK), "up"], env=env, capture_output=True, text=True)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert f"http://127.0.0.1:{proxy}/survey/docs" in up.stdout
        for service in SERVICES:
            ready = httpx.get(f"http://127.0.0.1:{proxy}/{service}/readyz", timeout=10)
            assert ready.status_code == 200, (service, ready.text)
            assert ready.json()["checks"] == {"database": "ok", "kafka": "ok", "redis": "ok"}
        docs = httpx.get(f"http://127.0.0.1:{proxy}/survey/docs", timeout=10)
        assert "/survey/openapi.json" in docs.text
        assert httpx.get(f"http://127.0.0.1:{proxy}/survey/openapi.json").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{proxy}/mail/").status_code == 200, "the mail sink"

        # The demo hospital is loaded and its period open: a demo employee signs in through
        # the proxy and has an invitation for their unit.
        assert "demo-leader" in up.stdout
        assert "demo-hr-admin" in up.stdout
        login = httpx.post(
            f"http://127.0.0.1:{proxy}/survey/dev-login",
            json={"employee_id": "demo-employee"},
            timeout=10,
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        invitations = httpx.get(
            f"http://127.0.0.1:{proxy}/survey/api/v1/me/invitations",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert invitations.status_code == 200, invitations.text
        assert [i["unit_name"] for i in invitations.json()] == ["Sengepost 3B"]
        # The employee's page, behind the proxy: links and the stylesheet carry /survey.
        cookies = {"forbedring_session": token}
        home = httpx.get(f"http://127.0.0.1:{proxy}/", cookies=cookies, follow_redirects=True)
        assert home.status_code == 200
        assert 'href="/survey/answer/' in home.text
        assert 'href="/survey/static/chassis/forbedring.css"' in home.text
        # One sign-in for the whole stack (a fresh state directory: the key is made once,
        # before any service starts): the survey's token is a person at every service.
        bearer = {"Authorization": f"Bearer {token}"}
        for path in (
            "/aggregation/api/v1/periods/any/units",
            "/publication/api/v1/periods/any/units",
            "/actionplan/api/v1/me/plans",
            "/notification/api/v1/deliveries",
        ):
            signed_in = httpx.get(f"http://127.0.0.1:{proxy}{path}", headers=bearer, timeout=10)
            assert signed_in.status_code != 401, (path, signed_in.text)
            anonymous = httpx.get(f"http://127.0.0.1:{proxy}{path}", timeout=10)
            assert anonymous.status_code == 401, path
        # Metrics from each service's port, never through the proxy.
        assert httpx.get(f"http://127.0.0.1:{proxy}/survey/metrics").status_code == 404
        survey_port = 20000 + proxy % 20000 + 1
        assert httpx.get(f"http://127.0.0.1:{survey_port}/metrics/").status_code == 200
        assert periods_in(make_up_survey) == periods_before, "make up's data untouched"
    finally:
        down = subprocess.run([str(STACK), "down"], env=env, capture_output=True, text=True)
        asyncio.run(_remove_namespace(infrastructure, namespace))
    assert down.returncode == 0, down.stderr
    pids = [p.read_text().strip() for p in (tmp_path / "run").glob("*.pid")]
    assert pids == [], "down removes every pid file it stopped"
    status = subprocess.run([str(STACK), "status"], env=env, capture_output=True, text=True)
    assert "running" not in status.stdout
