"""Importing the organisation through the API: all or nothing, every problem reported
with file, row and reason, nothing stored on refusal."""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from forbedring_survey.domain.org_import import parse_json, to_csv_files
from forbedring_survey.testing import HR_ADMIN, small_organisation

from .conftest import Harness

Org = dict[str, Any]


def _unknown_parent(org: Org) -> None:
    org["units"][1]["parent_id"] = "nowhere"


def _cycle(org: Org) -> None:
    org["units"] += [
        {"unit_id": "x", "parent_id": "y", "name": "X", "kind": "section"},
        {"unit_id": "y", "parent_id": "x", "name": "Y", "kind": "section"},
    ]


def _duplicate_unit(org: Org) -> None:
    org["units"].append(dict(org["units"][1]))


def _duplicate_person(org: Org) -> None:
    org["people"].append(dict(org["people"][1]))


def _no_root(org: Org) -> None:
    org["units"][0]["parent_id"] = "a"
    org["units"][1]["parent_id"] = None
    org["units"][1]["parent_id"] = "root"


def _several_roots(org: Org) -> None:
    org["units"].append({"unit_id": "z", "parent_id": None, "name": "Z", "kind": "enterprise"})


def _assignment_to_unknown_unit(org: Org) -> None:
    org["assignments"].append({"employee_id": "e-a-0", "unit_id": "nope", "position_percent": 10})


def _role_for_unknown_unit(org: Org) -> None:
    org["roles"].append({"employee_id": "e-a-0", "unit_id": "nope", "role": "leader"})


def _position_out_of_range(org: Org) -> None:
    org["assignments"][1]["position_percent"] = 150


def _negative_position(org: Org) -> None:
    org["assignments"][1]["position_percent"] = -5


def _invalid_email(org: Org) -> None:
    org["people"][1]["email"] = "not-an-email"


def _invalid_language(org: Org) -> None:
    org["people"][1]["language"] = "sv"


CASES: list[tuple[Callable[[Org], None], str, str, int | None]] = [
    # mutation, expected code, table, data row
    (_unknown_parent, "unknown_parent", "units", 2),
    (_cycle, "cycle", "units", 3),
    (_duplicate_unit, "duplicate_unit", "units", 3),
    (_duplicate_person, "duplicate_person", "people", 4),
    (_no_root, "no_root", "units", None),
    (_several_roots, "several_roots", "units", 3),
    (_assignment_to_unknown_unit, "unknown_unit", "assignments", 4),
    (_role_for_unknown_unit, "unknown_unit", "roles", 2),
    (_position_out_of_range, "position_out_of_range", "assignments", 2),
    (_negative_position, "position_out_of_range", "assignments", 2),
    (_invalid_email, "invalid_email", "people", 2),
    (_invalid_language, "invalid_language", "people", 2),
]


async def stored(harness: Harness, period_id: str) -> dict[str, int]:
    counts = {}
    for table in ("units", "people", "roles", "invitations"):
        rows = await harness.sql(f"SELECT count(*) FROM {table} WHERE period_id = $1", period_id)
        counts[table] = rows[0][0]
    return counts


NOTHING = {"units": 0, "people": 0, "roles": 0, "invitations": 0}


@pytest.mark.parametrize(
    ("mutate", "code", "table", "row"), CASES, ids=[c[0].__name__[1:] for c in CASES]
)
async def test_each_refusal_class_reports_the_problem_and_stores_nothing(
    harness: Harness, mutate: Callable[[Org], None], code: str, table: str, row: int | None
) -> None:
    organisation = copy.deepcopy(small_organisation({"a": 2}))
    mutate(organisation)
    period = await harness.api.create_period()

    reply = await harness.api.import_json(period["id"], organisation)

    assert reply.status_code == 422, reply.text
    detail = reply.json()["detail"]
    assert detail["code"] == "import_refused"
    assert "Nothing was stored" in detail["message"]
    found = {(p["code"], p["table"], p["row"]) for p in detail["problems"]}
    assert (code, table, row) in found, detail["problems"]
    assert all(p["file"] == "organisation.json" and p["message"] for p in detail["problems"])
    assert await stored(harness, period["id"]) == NOTHING
    assert (await harness.api.period(period["id"]))["organisation_imported"] is False


async def test_every_problem_is_listed_at_once(harness: Harness) -> None:
    organisation = small_organisation({"a": 2})
    for mutate in (_unknown_parent, _invalid_email, _position_out_of_range, _role_for_unknown_unit):
        mutate(organisation)
    period = await harness.api.create_period()
    reply = await harness.api.import_json(period["id"], organisation)
    codes = sorted(p["code"] for p in reply.json()["detail"]["problems"])
    assert codes == ["invalid_email", "position_out_of_range", "unknown_parent", "unknown_unit"]


async def csv_upload(harness: Harness, period_id: str, files: dict[str, str]) -> Any:
    return await harness.api.http.post(
        f"/api/v1/periods/{period_id}/organisation",
        files=[("files", (name, content.encode(), "text/csv")) for name, content in files.items()],
        headers=await harness.api.headers(HR_ADMIN),
    )


async def test_csv_files_are_imported_and_refused_the_same_way(harness: Harness) -> None:
    organisation = small_organisation({"a": 3, "b": 1})
    files = to_csv_files(parse_json(__import__("json").dumps(organisation)), delimiter=";")
    period = await harness.api.create_period()

    broken = dict(files)
    broken["people.csv"] = broken["people.csv"].replace("e-a-1@example.org", "e-a-1(at)example")
    del broken["roles.csv"]
    refused = await csv_upload(harness, period["id"], broken)
    assert refused.status_code == 422
    problems = {(p["file"], p["row"], p["code"]) for p in refused.json()["detail"]["problems"]}
    assert problems == {("people.csv", 3, "invalid_email"), ("roles.csv", None, "missing_table")}
    assert (
        next(p["spreadsheet_row"] for p in refused.json()["detail"]["problems"] if p["row"] == 3)
        == 4
    )
    assert await stored(harness, period["id"]) == NOTHING

    accepted = await csv_upload(harness, period["id"], files)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["invitations"] == 4
    assert await stored(harness, period["id"]) == {
        "units": 3,
        "people": 5,
        "roles": 1,
        "invitations": 4,
    }


async def test_a_refused_reimport_keeps_the_previous_directory(harness: Harness) -> None:
    organisation = small_organisation({"a": 2})
    period = await harness.api.create_period()
    assert (await harness.api.import_json(period["id"], organisation)).status_code == 201
    before = await stored(harness, period["id"])
    _cycle(organisation)
    assert (await harness.api.import_json(period["id"], organisation)).status_code == 422
    assert await stored(harness, period["id"]) == before


async def test_only_hr_admins_import(harness: Harness) -> None:
    period = await harness.api.create_period()
    reply = await harness.api.http.post(
        f"/api/v1/periods/{period['id']}/organisation",
        json=small_organisation({"a": 1}),
        headers=await harness.api.headers("someone"),
    )
    assert reply.status_code == 403
