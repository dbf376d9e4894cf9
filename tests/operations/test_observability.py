"""deploy/observability/: the alert rules pass promtool's check and its unit tests
(alerts.test.yaml), the dashboard parses, and every metric either of them uses is one the
services export, as read from /metrics of each service's app as built (no infrastructure:
building an app does no I/O, and a scrape lists every family, with or without samples).
Each check is shown to fail on something broken."""

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from forbedring_chassis.runtime import create_service_app
from forbedring_chassis.settings import ServiceSettings
from forbedring_chassis.testing import REPO_ROOT
from tests.service_routes import SERVICES, settings_class

HERE = REPO_ROOT / "deploy" / "observability"
PROMTOOL = REPO_ROOT / ".state" / "observability" / "bin" / "promtool"
ALERTS = HERE / "alerts.yaml"
DASHBOARD = HERE / "dashboard.json"
NOWHERE = {
    "database_url": "postgresql://nobody:nothing@127.0.0.1:1/none",
    "kafka_bootstrap_servers": "127.0.0.1:1",
    "redis_url": "redis://127.0.0.1:1/0",
}
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
}


def promtool(*args: str, cwd: Path = HERE) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL.exists(), f"{PROMTOOL} missing: run deploy/observability/tools.sh install"
    return subprocess.run(
        [str(PROMTOOL), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


async def _exported_by(service: str) -> set[str]:
    settings = settings_class(service).model_validate(NOWHERE)
    module = __import__(f"forbedring_{service}.app", fromlist=["create_app"])
    app = module.create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://metrics") as client:
        # The first request builds the middleware (the HTTP metrics are made then).
        assert (await client.get("/healthz")).status_code == 200
        reply = await client.get("/metrics/")
    assert reply.status_code == 200
    names: set[str] = set()
    for family in text_string_to_metric_families(reply.text):
        names.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
    return names


@pytest.fixture
async def exported() -> set[str]:
    """Every sample name any service's /metrics can show."""
    names: set[str] = set()
    for service in SERVICES:
        found = await _exported_by(service)
        assert "forbedring_consumer_lag" in found, service
        names |= found
    return names


PROMQL_WORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "inf", "nan",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names in a PromQL expression: identifiers that are not functions, label
    names (in braces or grouping lists), keywords, durations or strings."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\$\w+|\$\{[^}]*\}", "", text)  # Grafana variables
    names = set()
    for match in re.finditer(r"(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?", text):
        word, call = match.group(1), match.group(2)
        if not call and word.lower() not in PROMQL_WORDS:
            names.add(word)
    return names


def rule_expressions(rules: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for group in rules["groups"]:
        for rule in group["rules"]:
            yield rule.get("alert") or rule["record"], rule["expr"]


def dashboard_expressions(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))

    for panel in panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if isinstance(query, str) and variable["type"] == "query":
            inner = re.fullmatch(r"label_values\((\w+),\s*\w+\)", query)
            assert inner, f"variable {variable['name']}: {query}"
            yield variable["name"], inner.group(1)


def test_the_names_of_an_expression_are_found() -> None:
    expr = (
        'sum by (job, le) (rate(http_request_duration_seconds_bucket{handler="/x"}[5m])) '
        "/ on (job) group_left max(up_not) > 0.5 and time() - last_ok_seconds offset 5m"
    )
    assert metric_names(expr) == {
        "http_request_duration_seconds_bucket",
        "up_not",
        "last_ok_seconds",
    }


def test_the_rules_and_the_scrape_config_pass_promtool_and_the_rules_unit_tests() -> None:
    checked = promtool("check", "rules", ALERTS.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout
    tested = promtool("test", "rules", "alerts.test.yaml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    # The scrape configuration that gives the alerts their `job` labels, with the rules.
    config = promtool("check", "config", "prometheus.yaml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_promtool_refuses_a_broken_rule_file(tmp_path: Path) -> None:
    rules = yaml.safe_load(ALERTS.read_text())
    rules["groups"][0]["rules"][0]["expr"] = "sum by (group (forbedring_consumer_lag"
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(rules))
    refused = promtool("check", "rules", "broken.yaml", cwd=tmp_path)
    assert refused.returncode != 0


def test_every_alert_has_a_runbook_section_and_a_severity() -> None:
    runbook = (REPO_ROOT / "docs" / "runbook.md").read_text()
    anchors = {
        re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in runbook.splitlines()
        if line.startswith("## ")
    }
    for group in yaml.safe_load(ALERTS.read_text())["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in ("info", "warning", "critical"), rule["alert"]
            link = rule["annotations"]["runbook"]
            assert link.startswith("docs/runbook.md#"), rule["alert"]
            assert link.split("#", 1)[1] in anchors, f"{rule['alert']}: no section for {link}"


def test_the_dashboard_parses_and_its_panels_query_prometheus() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"]
    assert dashboard["title"]
    queried = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len(queried) >= 10
    for panel in queried:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"


async def test_every_metric_the_rules_and_the_dashboard_use_is_exported(
    exported: set[str],
) -> None:
    used: dict[str, set[str]] = {}
    rules = yaml.safe_load(ALERTS.read_text())
    dashboard = json.loads(DASHBOARD.read_text())
    for where, expr in [*rule_expressions(rules), *dashboard_expressions(dashboard)]:
        names = metric_names(expr)
        assert names, f"{where}: no metric found in {expr}"
        for name in names:
            used.setdefault(name, set()).add(where)
    unknown = {name: sorted(where) for name, where in used.items() if name not in exported}
    assert not unknown, unknown
    # What ops were promised, watched by something.
    for family in (
        "forbedring_consumer_lag",
        "forbedring_events_processed_total",
        "forbedring_events_failed_total",
        "forbedring_events_dead_lettered_total",
        "forbedring_outbox_pending_rows",
        "forbedring_outbox_oldest_pending_age_seconds",
        "http_request_duration_seconds_bucket",
        "forbedring_emails_sent_total",
        "forbedring_emails_failed_total",
        "forbedring_scheduler_runs_total",
    ):
        assert family in used, f"nothing watches {family}"


async def test_a_metric_no_service_exports_is_caught(exported: set[str]) -> None:
    class Lonely(ServiceSettings):
        service_name: ClassVar[str] = "lonely"

    # The check's own ground: a name only a rule invents is not among the exported ones.
    assert "forbedring_invented_total" not in exported
    assert metric_names("rate(forbedring_invented_total[5m]) > 0") - exported
    # And the exported set comes from the apps: a bare chassis app has the chassis's own.
    app = create_service_app(settings=Lonely.model_validate(NOWHERE), package="forbedring_chassis")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://metrics") as client:
        text = (await client.get("/metrics/")).text
    assert "forbedring_outbox_pending_rows" in text
    assert "forbedring_emails_sent_total" not in text, "notification's own, not the chassis's"
