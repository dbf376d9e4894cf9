"""Every administrative action through the API is recorded with who did it, in the
survey's own audit log, as the console's are: creating, importing, opening early and
closing; a refused open is refused (409, saying why) and changes nothing."""

from datetime import timedelta

from forbedring_survey.testing import HR_ADMIN, small_organisation
from services.survey.tests.integration.conftest import Harness


async def test_api_actions_are_in_the_audit_log_with_who_did_them(harness: Harness) -> None:
    later = harness.clock.now() + timedelta(days=30)
    period = await harness.api.create_period(opens_at=later)
    headers = await harness.api.headers(HR_ADMIN)
    too_early = await harness.api.http.post(f"/api/v1/periods/{period['id']}/open", headers=headers)
    assert too_early.status_code == 409, "no organisation yet"
    assert "no organisation" in too_early.json()["detail"]["message"]
    imported = await harness.api.import_json(period["id"], small_organisation({"A": 2}))
    assert imported.status_code == 201, imported.text
    opened = await harness.api.http.post(f"/api/v1/periods/{period['id']}/open", headers=headers)
    assert opened.status_code == 200, opened.text
    assert opened.json()["status"] == "open"
    await harness.api.close(period["id"])

    # (the harness's clock stands still: every row has the same time, so no order)
    rows = await harness.sql("SELECT actor, action, subject, outcome FROM audit_log")
    assert sorted((r["actor"], r["action"], r["outcome"]) for r in rows) == [
        (HR_ADMIN, "organisation.imported", "done"),
        (HR_ADMIN, "period.closed", "done"),
        (HR_ADMIN, "period.created", "done"),
        (HR_ADMIN, "period.opened_early", "done"),
    ]
    assert {r["subject"] for r in rows} == {period["id"]}
