"""Every route x role x stage on the real broker, PostgreSQL and Redis; and no number
outside what the published cells determine appears in any response, cache key or value,
event, log line or row of the service's database: not the suppressed leaf's true
numbers, and not the hidden clinic's own atom (its answers in none of its published
sub-units), while the clinic's roll-up of those sub-units (sums of their cells) is shown.
A planted leak of an own-atom number is found by the same scan."""

import csv
import io
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from openpyxl import load_workbook

from forbedring_chassis.testing import Infrastructure, plain_url
from forbedring_contracts.events import PublishedUnitResults, SuppressedUnitResults
from forbedring_publication.pages import ROLL_UP_MARK
from services.publication.tests.integration.conftest import (
    K2_RESPONDENTS,
    OWN_ATOM_NUMBERS,
    OWN_ATOM_ON_PAGES,
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
UNITS = ("HF", "K", "S-PUB", "S-SMALL", "K2", "A-PUB")
HIDDEN = ("S-SMALL", "K2")
# K2's roll-up: A-PUB (11) and B-PUB (8) of its 22 respondents; the other 3 count in HF.
ROLL_UP_X, ROLL_UP_Y = 19, K2_RESPONDENTS


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
    """A page or export: results only when allowed, a hidden unit never with a number of
    its own (the clinic K2 with its roll-up, marked as such)."""
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
        assert ROLL_UP_MARK not in text
    elif unit == "K2" and route.startswith(("csv", "xlsx")):
        assert text.startswith("unit_id,unit_name,published,reason")
        assert ROLL_UP_MARK in text
        assert f"{ROLL_UP_MARK} ({ROLL_UP_X} of {ROLL_UP_Y})" in text, "every roll-up row"
        assert "unit_id,unit_name,respondents" not in text
    elif unit == "K2":
        assert "Helse Test HF" in text, "names the unit that counts the other respondents"
        assert 'id="roll-up-title"' in text
        assert f" {ROLL_UP_X} " in text
        assert f" {ROLL_UP_Y} " in text
        assert "/units/A-PUB" in text
        assert "/units/B-PUB" in text
        assert "<svg" in text, "the roll-up has its charts"
    elif route.startswith(("csv", "xlsx")):
        assert text.startswith("unit_id,unit_name,respondents")
        if unit == "index":  # the unit list: hidden units without numbers of their own
            rows = {row[0]: row for row in csv.reader(io.StringIO(text))}
            small, k2 = rows["S-SMALL"], rows["K2"]
            assert small[2:5] == ["", "", ""]
            assert small[7:] == ["no", "K", "Klinikk", "", "", ""]
            assert k2[2:5] == ["", "", ""]
            assert k2[7:] == ["no", "HF", "Helse Test HF", ROLL_UP_MARK, "19", "22"]
    elif route.startswith("page:") and unit not in ("home", "index", "indicator"):
        assert "<svg" in text, "the report has its charts"
    elif route == "page:index":
        assert f"{ROLL_UP_X} av {ROLL_UP_Y}" in text or f"{ROLL_UP_X} of {ROLL_UP_Y}" in text


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
                assert data["published"] is (unit not in HIDDEN)
                if unit == "S-SMALL":
                    assert data["included_in"]["unit_id"] == "K"
                    assert "respondents" not in data
                    assert "factors" not in data
                    assert data["roll_up"] is None
                elif unit == "K2":
                    check_roll_up(data)
                else:
                    assert data["respondents"] > 0
                    assert data["factors"]
                if unit == "A-PUB":  # its parent is hidden: compared with the roll-up
                    parent = data["comparisons"]["parent"]
                    assert (parent["unit_id"], parent["roll_up"]) == ("K2", True)
                    assert parent["label"] != parent["name"]
            elif route == "units" and want == 200:
                listed = {u["unit_id"]: u for u in data["units"]}
                assert set(UNITS) <= set(listed)
                assert "respondents" not in listed["S-SMALL"]
                assert listed["S-SMALL"]["roll_up"] is None
                assert "respondents" not in listed["K2"]
                assert listed["K2"]["roll_up"] == {
                    "sub_units": 2,
                    "respondents": ROLL_UP_X,
                    "unit_respondents": ROLL_UP_Y,
                }
                assert listed["S-PUB"]["respondents"] == 20
            else:
                # No results body anywhere else.
                assert '"respondents"' not in text
                assert '"factors"' not in text
            if want == 403 and not route.startswith("postpone"):
                assert data["detail"]["schedule"]["period_id"] == period_id


def check_roll_up(data: dict[str, Any]) -> None:
    """K2's results: why it is hidden, where its answers count, and its roll-up with the
    label's figures; no number of its own."""
    assert data["reason"] == "direct_answers_too_few"
    assert data["included_in"]["unit_id"] == "HF"
    assert "respondents" not in data
    assert "factors" not in data
    roll_up = data["roll_up"]
    assert [s["unit_id"] for s in roll_up["sub_units"]] == ["A-PUB", "B-PUB"]
    assert (roll_up["respondents"], roll_up["unit_respondents"]) == (ROLL_UP_X, ROLL_UP_Y)
    assert roll_up["other_respondents"] == ROLL_UP_Y - ROLL_UP_X
    assert roll_up["other_respondents_counted_in"]["unit_id"] == "HF"
    assert f"{ROLL_UP_X}" in roll_up["label"]
    assert "Helse Test HF" in roll_up["label"]
    (factor,) = roll_up["factors"]
    assert (factor["scored"], factor["mean"]) == (18, 76.39), "A-PUB's and B-PUB's combined"


def patterns(numbers: Sequence[str]) -> list[re.Pattern[str]]:
    # As numbers, not as digits inside a random id (a uuid may well contain "4167").
    return [re.compile(rf"(?<![0-9A-Za-z-]){re.escape(n)}(?![0-9A-Za-z-])") for n in numbers]


def visible(page: str) -> str:
    """A page's text as a reader gets it: no tags, attributes or style sheet."""
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.DOTALL)
    return re.sub(r"<[^>]*>", " ", page)


def leaks(
    texts: Sequence[str], numbers: Sequence[str], *, on_pages: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """Each (number, excerpt) where one of `numbers` appears in `texts` as a number, or one
    of `on_pages` (rounded as a page shows them) in a page's visible text."""
    found = []
    for text in texts:
        looked_for = [(text, patterns(numbers))]
        if on_pages and text.lstrip().lower().startswith("<!doctype html"):
            looked_for.append((visible(text), patterns(on_pages)))
        for where, found_by in looked_for:
            for pattern in found_by:
                if match := pattern.search(where):
                    start = max(0, match.start() - 80)
                    found.append((pattern.pattern, where[start : match.end() + 80]))
    return found


async def stored_texts(app: Publication, topic_prefix: str) -> list[str]:
    """Every cache key and value of this service's namespace and every row of its database,
    as text (the stored event values decoded too)."""
    texts: list[str] = []
    redis = app.app.state.runtime.redis
    namespace = f"{topic_prefix}forbedring:publication:"
    keys = [key async for key in redis.scan_iter(match=f"{namespace}*")]
    assert any(b"K2" in key for key in keys)
    for key in keys:
        texts.append(key.decode())
        value = await redis.get(key)
        if value is not None:
            texts.append(value.decode())
    connection = await asyncpg.connect(plain_url(app.settings.database_url))
    try:
        for table in await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ):
            rows = await connection.fetch(f'SELECT t::text AS row FROM "{table[0]}" t')
            texts.extend(row["row"] for row in rows)
        # bytea shows as hex above: the stored event values as text too
        values = await connection.fetch(
            "SELECT convert_from(value, 'UTF8') AS v FROM publication_unit_results"
        )
        assert any("K2" in row["v"] for row in values)
        texts.extend(row["v"] for row in values)
    finally:
        await connection.close()
    return texts


@pytest.mark.infra
async def test_every_route_role_and_stage(
    publication: Any,
    produce: Any,
    infrastructure: Infrastructure,
    topic_prefix: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    org = an_org()
    seen: list[str] = []
    async with publication() as app:
        # Everything but the last unit's results: not finalised.
        await produce([org.opened, org.directory, org.finalized, *org.results[:-1]])
        await app.wait_until(
            org.period_id, lambda s: s.get("units_received") == len(org.results) - 1
        )
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

        # Every cache key and value of this service's namespace, and its database, after
        # all the reads.
        seen.extend(await stored_texts(app, topic_prefix))

    events = await released_events(infrastructure, topic_prefix, org.period_id)
    assert sorted(e["stage"] for e in events) == [1, 2]
    seen.extend(str(e) for e in events)
    # And every log line the service wrote meanwhile.
    logs = capsys.readouterr()
    assert "publication.stage.released" in logs.out
    seen.extend([logs.out, logs.err])

    assert leaks(seen, [*SECRET_NUMBERS, *OWN_ATOM_NUMBERS], on_pages=OWN_ATOM_ON_PAGES) == []
    # The roll-up's figures, sums of published cells, may appear, and do: the scan looked
    # at K2's figures, not at nothing.
    assert leaks(seen, ["76.39"])
    assert PEOPLE  # every person of the directory was tried above


@pytest.mark.infra
async def test_the_scan_finds_a_planted_own_atom_number_and_a_wrong_roll_up_is_not_shown(
    publication: Any, produce: Any, topic_prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two plants: S-PUB's published mean set to K2's own-atom mean (the scan must find it
    wherever it is served), and K2's roll-up made to carry its own answers (not the sum of
    its sub-units' cells, so not shown: only the stored event still holds it)."""
    org = an_org()
    own_mean = OWN_ATOM_NUMBERS[0]
    planted: list[PublishedUnitResults | SuppressedUnitResults] = []
    for results in org.results:
        if results.unit_id == "S-PUB":
            assert isinstance(results, PublishedUnitResults)
            factors = tuple(f.model_copy(update={"mean": float(own_mean)}) for f in results.factors)
            results = results.model_copy(update={"factors": factors})
        elif results.unit_id == "K2":
            assert isinstance(results, SuppressedUnitResults)
            assert results.roll_up is not None
            items = tuple(
                i.model_copy(update={"mean": float(own_mean)}) for i in results.roll_up.items
            )
            roll_up = results.roll_up.model_copy(update={"items": items})
            results = results.model_copy(update={"roll_up": roll_up})
        planted.append(results)
    org = org.with_results(planted)
    base = f"/api/v1/periods/{org.period_id}"
    async with publication() as app:
        await produce([org.opened, org.directory, *org.results, org.finalized])
        await app.wait_until(org.period_id, lambda s: s.get("finalised") is True)
        app.clock.set(org.finalized.finalized_at + STAGE_1_DELAY)
        await app.scheduler.tick()

        async def texts(*paths: str) -> list[str]:
            replies = [await app.get(path, "leader") for path in paths]
            assert {r.status_code for r in replies} == {200}
            return [r.text for r in replies]

        def unit(unit_id: str) -> list[str]:
            return [
                f"{base}/units/{unit_id}/results?lang=en",
                f"/periods/{org.period_id}/units/{unit_id}?lang=nb",
                f"/periods/{org.period_id}/units/{unit_id}/report.csv",
            ]

        s_pub = await texts(*unit("S-PUB"))
        k2 = await texts(*unit("K2"), f"{base}/units", f"/periods/{org.period_id}")
        stored = await stored_texts(app, topic_prefix)
    logs = capsys.readouterr()

    # The planted own-atom number is found in every surface that serves S-PUB: the JSON,
    # the page (rounded) and the export.
    json_text, page, export = s_pub
    assert leaks([json_text], OWN_ATOM_NUMBERS)
    assert leaks([export], OWN_ATOM_NUMBERS)
    assert leaks([page], (), on_pages=OWN_ATOM_ON_PAGES), "the page shows it rounded"
    assert leaks(stored, [own_mean])
    # K2's wrong roll-up is not shown anywhere; why it is hidden still is.
    assert leaks(k2, OWN_ATOM_NUMBERS, on_pages=OWN_ATOM_ON_PAGES) == []
    assert k2[0].count('"roll_up":null') == 1
    assert "<svg" not in k2[1]
    assert ROLL_UP_MARK not in k2[2]
    assert "Helse Test HF" in k2[1]
    # The refusal is logged by unit and field, without a figure of it.
    refused = [line for line in logs.out.splitlines() if "publication.roll_up.refused" in line]
    assert refused
    assert all('"unit_id": "K2"' in line for line in refused)
    assert leaks(refused, OWN_ATOM_NUMBERS) == []
