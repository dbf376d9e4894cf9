"""Every route x role x stage on the real broker, PostgreSQL and Redis; and the
suppressed unit's numbers appear in no response, no cache key or value, no event and no
row of the service's database."""

import csv
import io
import re
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from openpyxl import load_workbook

from forbedring_chassis.testing import Infrastructure, plain_url
from services.publication.tests.integration.conftest import (
    PEOPLE,
    ROLES,
    SECRET_NUMBERS,
    STAGE_1_DELAY,
    STAGE_2_DELAY,
    Publication,
    an_org,
    mine,
    released_events,
)

STAGE_1_ROLES = {"leader", "safety_rep", "union_rep", "hr_admin"}
UNITS = ("HF", "K", "S-PUB", "S-SMALL")


def routes(period_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    base = f"/api/v1/periods/{period_id}"
    # Postponing to a past time never changes the schedule, so the matrix has no side effects.
    past = {"until": "2020-01-01T00:00:00+00:00"}
    return [
        ("schedule", f"{base}/schedule", None),
        ("units", f"{base}/units", None),
        *[
            (f"results:{unit}:{lang}", f"{base}/units/{unit}/results?lang={lang}", None)
            for unit in UNITS
            for lang in ("nb", "nn", "en")
        ],
        ("postpone:1", f"{base}/stages/1/postpone", past),
        ("postpone:2", f"{base}/stages/2/postpone", past),
        # The pages and the export: the same access rules, for people.
        ("page:home", "/", None),
        ("page:index", f"/periods/{period_id}", None),
        ("page:indicator", f"/periods/{period_id}/indicator", None),
        *[
            (f"page:{unit}:{lang}", f"/periods/{period_id}/units/{unit}?lang={lang}", None)
            for unit in UNITS
            for lang in ("nb", "nn", "en")
        ],
        ("csv:index", f"/periods/{period_id}/units.csv", None),
        ("xlsx:index", f"/periods/{period_id}/units.xlsx", None),
        *[(f"csv:{unit}", f"/periods/{period_id}/units/{unit}/report.csv", None) for unit in UNITS],
        *[
            (f"xlsx:{unit}", f"/periods/{period_id}/units/{unit}/report.xlsx", None)
            for unit in UNITS
        ],
    ]


def expected(route: str, role: str, stage: str) -> int:
    if role in ("anonymous", "impostor"):
        return 401
    if route in ("schedule", "page:home"):
        return 200
    if route.startswith("postpone"):
        if role != "hr_admin":
            return 403
        if stage == "unfinalised":
            return 409  # nothing scheduled yet
        number = int(route.split(":")[1])
        released = {"before-1": 0, "1": 1, "2": 2}[stage]
        return 409 if number <= released else 422  # 422: the new time is in the past
    if stage == "2" or (stage == "1" and role in STAGE_1_ROLES):
        return 200
    return 403


def sheet_as_csv(content: bytes) -> str:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(
        ["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)
    )
    return out.getvalue()


def check_page(route: str, status: int, text: str) -> None:
    """A page or export: results only when allowed, the suppressed unit never with a number."""
    unit = route.split(":")[1]
    if status == 401:
        assert "dev-login" not in text or "next=" in text
        assert "Sengepost stor" not in text
    elif status == 403:
        assert "Sengepost stor" not in text, "no unit list before the reader's stage"
        assert "<table" not in text
    elif unit == "S-SMALL":
        assert "Klinikk" in text, "names the unit that includes its answers"
        assert "<svg" not in text
        assert "<table" not in text
        assert "unit_id,unit_name,respondents" not in text
    elif route.startswith(("csv", "xlsx")):
        assert text.startswith("unit_id,unit_name,respondents")
        if unit == "index":  # the unit list: the suppressed unit without numbers
            (small,) = [line for line in text.splitlines() if line.startswith("S-SMALL,")]
            assert small.split(",")[2:5] == ["", "", ""]
            assert small.endswith(",no,K,Klinikk")
    elif route.startswith("page:") and unit not in ("home", "index", "indicator"):
        assert "<svg" in text, "the report has its charts"


async def check_matrix(app: Publication, period_id: str, stage: str, seen: list[str]) -> None:
    for role in ROLES:
        for route, path, body in routes(period_id):
            if body is None:
                reply = await app.get(path, role)
            else:
                reply = await app.post(path, role, body)
            want = expected(route, role, stage)
            assert reply.status_code == want, (stage, role, route, reply.text)
            text = reply.text
            if route.startswith("xlsx") and want == 200:
                text = sheet_as_csv(reply.content)  # the cells, not the zipped bytes
            seen.append(text)
            if route.startswith(("page", "csv", "xlsx")):
                check_page(route, want, text)
                continue
            data = reply.json()
            if route.startswith("results") and want == 200:
                unit = route.split(":")[1]
                assert data["unit"]["unit_id"] == unit
                assert data["published"] is (unit != "S-SMALL")
                if unit == "S-SMALL":
                    assert data["included_in"]["unit_id"] == "K"
                    assert "respondents" not in data
                    assert "factors" not in data
                else:
                    assert data["respondents"] > 0
                    assert data["factors"]
            elif route == "units" and want == 200:
                listed = {u["unit_id"]: u for u in data["units"]}
                assert set(listed) == set(UNITS)
                assert "respondents" not in listed["S-SMALL"]
                assert listed["S-PUB"]["respondents"] == 20
            else:
                # No results body anywhere else.
                assert '"respondents"' not in text
                assert '"factors"' not in text
            if want == 403 and not route.startswith("postpone"):
                assert data["schedule"]["period_id"] == period_id


@pytest.mark.infra
async def test_every_route_role_and_stage(
    publication: Any, produce: Any, infrastructure: Infrastructure, topic_prefix: str
) -> None:
    org = an_org()
    seen: list[str] = []
    async with publication() as app:
        # Everything but the last unit's results: not finalised.
        await produce([org.opened, org.directory, org.finalized, *org.results[:-1]])
        await app.wait_until(org.period_id, lambda s: s.get("units_received") == 3)
        await check_matrix(app, org.period_id, "unfinalised", seen)
        assert not (await app.schedule(org.period_id))["finalised"]

        await produce(org.results[-1:])
        await app.wait_until(org.period_id, lambda s: s.get("finalised") is True)
        await app.scheduler.tick()  # nothing due yet
        await check_matrix(app, org.period_id, "before-1", seen)

        app.clock.set(org.finalized.finalized_at + STAGE_1_DELAY)
        assert [r.stage for r in mine(await app.scheduler.tick(), org.period_id)] == [1]
        await check_matrix(app, org.period_id, "1", seen)

        app.clock.advance(STAGE_2_DELAY - timedelta(seconds=1))
        assert mine(await app.scheduler.tick(), org.period_id) == []
        await check_matrix(app, org.period_id, "1", seen)
        app.clock.advance(timedelta(seconds=1))
        assert [r.stage for r in mine(await app.scheduler.tick(), org.period_id)] == [2]
        await check_matrix(app, org.period_id, "2", seen)

        # Every cache key and value of this service's namespace, after all the reads.
        redis = app.app.state.runtime.redis
        namespace = f"{topic_prefix}forbedring:publication:"
        keys = [key async for key in redis.scan_iter(match=f"{namespace}*")]
        assert any(b"S-SMALL" in key for key in keys)
        for key in keys:
            seen.append(key.decode())
            value = await redis.get(key)
            if value is not None:
                seen.append(value.decode())

        # And the service's own database, every table as text.
        connection = await asyncpg.connect(plain_url(app.settings.database_url))
        try:
            for table in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ):
                rows = await connection.fetch(f'SELECT t::text AS row FROM "{table[0]}" t')
                seen.extend(row["row"] for row in rows)
            # bytea shows as hex above: the stored event values as text too
            values = await connection.fetch(
                "SELECT convert_from(value, 'UTF8') AS v FROM publication_unit_results"
            )
            assert any("S-SMALL" in row["v"] for row in values)
            seen.extend(row["v"] for row in values)
        finally:
            await connection.close()

    events = await released_events(infrastructure, topic_prefix, org.period_id)
    assert sorted(e["stage"] for e in events) == [1, 2]
    seen.extend(str(e) for e in events)
    # As numbers, not as digits inside a random id (a uuid may well contain "4167").
    secrets = [
        re.compile(rf"(?<![0-9A-Za-z-]){re.escape(s)}(?![0-9A-Za-z-])") for s in SECRET_NUMBERS
    ]
    for text in seen:
        for secret in secrets:
            assert not secret.search(text), (secret.pattern, text[:300])
    assert PEOPLE  # every person of the directory was tried above
