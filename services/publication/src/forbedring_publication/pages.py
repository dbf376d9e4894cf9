"""The report as pages and a CSV export, for people. Every route goes through the same
use cases as the JSON API (`reports`): the access check runs on every request, before
the cache, and a suppressed unit's data has no number of its own to show (only the
roll-up of its published sub-units, marked as such)."""

import csv
import io
import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from openpyxl import Workbook

from forbedring_chassis.auth import Principal
from forbedring_chassis.db import unit_of_work
from forbedring_chassis.runtime import RuntimeDep, SessionDep
from forbedring_chassis.spreadsheet import safe_cell
from forbedring_chassis.web import (
    Viewer,
    local_time,
    page_principal,
    render,
    request_language,
)
from forbedring_publication import charts, reports, repository
from forbedring_publication.cache import ReportCache
from forbedring_publication.errors import Forbidden, NotFound, PublicationError
from forbedring_publication.schemas import PublishedSummary, UnitList
from forbedring_publication.settings import PublicationSettings

router = APIRouter(include_in_schema=False)

SCALE_KEYS = ("strongly_disagree", "disagree", "neither", "agree", "strongly_agree")


def _when(value: str | None, language: str) -> str | None:
    return None if value is None else local_time(datetime.fromisoformat(value), language)


async def _viewer(request: Request, session: Any) -> Principal:
    """The signed-in person, with the header's sections from this service's directory
    copy. The copy holds no names or languages: the header shows no name here and the
    language falls back to the browser's. Anyone not signed in gets the sign-in page."""

    async def viewer(principal: Principal) -> Viewer:
        return Viewer.holding(await repository.person_roles(session, person_id=principal.subject))

    return await page_principal(request, why="report.signin.text", viewer=viewer)


def _refused(request: Request, error: PublicationError) -> HTMLResponse:
    if isinstance(error, Forbidden):
        language = request_language(request)
        stages = error.extra.get("schedule", {}).get("stages", [])
        dates = {s["stage"]: _when(s["at"], language) for s in stages}
        return render(
            request,
            "not_yet.html",
            {"stage_1": dates.get(1), "stage_2": dates.get(2)},
            status_code=403,
        )
    return render(request, "not_found.html", {"message": error.message}, status_code=404)


@router.get("/", response_class=HTMLResponse, name="report-home")
async def home(request: Request, session: SessionDep) -> HTMLResponse:
    """The surveys whose results this service holds; each page checks access itself."""
    await _viewer(request, session)
    periods = await repository.list_periods(session)
    return render(request, "home.html", {"periods": periods})


@router.get("/periods/{period_id}", response_class=HTMLResponse, name="report-index")
async def index(period_id: str, request: Request, session: SessionDep) -> HTMLResponse:
    principal = await _viewer(request, session)
    try:
        data = await reports.unit_list(session, period_id=period_id, person_id=principal.subject)
    except PublicationError as error:
        return _refused(request, error)
    return render(request, "index.html", {"data": data, "period_id": period_id})


@router.get("/periods/{period_id}/indicator", response_class=HTMLResponse, name="report-indicator")
async def indicator_page(
    period_id: str, request: Request, session: SessionDep, runtime: RuntimeDep
) -> HTMLResponse:
    principal = await _viewer(request, session)
    settings = runtime.settings
    assert isinstance(settings, PublicationSettings)
    try:
        data = await reports.indicator_overview(
            session,
            period_id=period_id,
            person_id=principal.subject,
            target=settings.safety_climate_target_percent,
        )
    except PublicationError as error:
        return _refused(request, error)
    return render(request, "indicator.html", {"data": data})


async def _report(
    request: Request, runtime: Any, period_id: str, unit_id: str
) -> dict[str, Any] | Response:
    async with unit_of_work(runtime.sessions) as session:
        principal = await _viewer(request, session)
    cache: ReportCache = request.app.state.report_cache
    try:
        body = await reports.unit_report(
            sessions=runtime.sessions,
            cache=cache,
            period_id=period_id,
            unit_id=unit_id,
            person_id=principal.subject,
            language=request_language(request),
        )
    except (Forbidden, NotFound) as error:
        return _refused(request, error)
    data: dict[str, Any] = json.loads(body)
    return data


@router.get("/periods/{period_id}/units/{unit_id}", response_class=HTMLResponse, name="report-unit")
async def unit_page(
    period_id: str, unit_id: str, request: Request, runtime: RuntimeDep
) -> Response:
    data = await _report(request, runtime, period_id, unit_id)
    if isinstance(data, Response):
        return data
    helpers = {
        "charts": charts,
        "factor_rows": lambda factors: [(f["name"], f["mean"]) for f in factors],
        "item_text": lambda d, item_id: next(
            (i["text"] for i in d["items"] if i["item_id"] == item_id), item_id
        ),
    }
    # A hidden unit's page shows why, and its roll-up (if any) with the same parts.
    template = "unit.html" if data["published"] else "suppressed.html"
    return render(request, template, {"data": data, **helpers})


ROLL_UP_MARK = "roll-up of published sub-units, not the unit's own results"
"""What every row of a hidden unit's export that holds a figure says it is."""


def export_rows(data: dict[str, Any]) -> list[list[Any]]:
    """A unit's report data as rows of a sheet: the same for CSV and XLSX. A suppressed
    unit gives the suppression fact and the unit that includes it, then its roll-up (if
    any): every row of that marked as not the unit's own results, with X of Y."""
    unit = data["unit"]
    if not data["published"]:
        rows: list[list[Any]] = [
            ["unit_id", "unit_name", "published", "reason", "included_in", "included_in_name"],
            [
                unit["unit_id"],
                unit["name"],
                "false",
                data["reason"],
                data["included_in"]["unit_id"],
                data["included_in"]["name"],
            ],
        ]
        roll_up = data.get("roll_up")
        if roll_up:
            mark = f"{ROLL_UP_MARK} ({roll_up['respondents']} of {roll_up['unit_respondents']})"
            rows += [
                [],
                [
                    "results_of",
                    "label",
                    "sub_units",
                    "respondents",
                    "unit_respondents",
                    "other_respondents",
                    "other_respondents_counted_in",
                    "eligible",
                    "response_rate",
                ],
                [
                    ROLL_UP_MARK,
                    roll_up["label"],
                    " ".join(s["unit_id"] for s in roll_up["sub_units"]),
                    roll_up["respondents"],
                    roll_up["unit_respondents"],
                    roll_up["other_respondents"],
                    roll_up["other_respondents_counted_in"]["unit_id"],
                    roll_up["eligible"],
                    roll_up["response_rate"],
                ],
                [],
                *_result_rows(roll_up, mark=mark),
            ]
        return [[safe_cell(cell) for cell in row] for row in rows]
    rows = [
        ["unit_id", "unit_name", "respondents", "eligible", "response_rate"],
        [
            unit["unit_id"],
            unit["name"],
            data["respondents"],
            data["eligible"],
            data["response_rate"],
        ],
        [],
        *_result_rows(data),
    ]
    return [[safe_cell(cell) for cell in row] for row in rows]


def _result_rows(results: dict[str, Any], *, mark: str | None = None) -> list[list[Any]]:
    """Factor and scale-item rows of a unit's own results or (`mark` in a last column on
    every row) of a roll-up."""
    tail = ["results_of"] if mark else []
    cell = [mark] if mark else []
    rows: list[list[Any]] = [
        ["factor_id", "factor", "mean", "percent_positive", "scored", *tail],
        *[
            [f["factor_id"], f["name"], f["mean"], f["percent_positive"], f["scored"], *cell]
            for f in results["factors"]
        ],
        [],
        ["item_id", "item", *SCALE_KEYS, "dont_know", "mean", "percent_agree", "follow_up", *tail],
    ]
    for item in results["items"]:
        if item["kind"] != "scale":
            continue
        dist = item["distribution"]
        rows.append(
            [
                item["item_id"],
                item["text"],
                *(dist[k] for k in SCALE_KEYS),
                dist["dont_know"],
                item["mean"],
                item["percent_agree"],
                "yes" if item["item_id"] in results["follow_up"] else "no",
                *cell,
            ]
        )
    return rows


def _download(content: bytes | str, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


UNIT_LIST_HEADER = [
    "unit_id",
    "unit_name",
    "respondents",
    "eligible",
    "response_rate",
    "level",
    "parent_id",
    "published",
    "included_in",
    "included_in_name",
    "roll_up",
    "roll_up_respondents",
    "roll_up_unit_respondents",
]


def unit_list_rows(data: UnitList) -> list[list[Any]]:
    """The unit list as rows: numbers only for published units; a suppressed unit gives
    that it is suppressed and the unit that includes its answers and, when it has a
    roll-up, that roll-up's X of Y, marked as not the unit's own results."""
    rows: list[list[Any]] = [list(UNIT_LIST_HEADER)]
    for unit in data.units:
        if isinstance(unit, PublishedSummary):
            numbers = [unit.respondents, unit.eligible, unit.response_rate]
            hidden: list[Any] = ["yes", None, None, None, None, None]
        else:
            numbers = [None, None, None]
            roll_up = unit.roll_up
            hidden = [
                "no",
                unit.included_in.unit_id,
                unit.included_in.name,
                ROLL_UP_MARK if roll_up else None,
                roll_up.respondents if roll_up else None,
                roll_up.unit_respondents if roll_up else None,
            ]
        rows.append([unit.unit_id, unit.name, *numbers, unit.level, unit.parent_id, *hidden])
    return [[safe_cell(cell) for cell in row] for row in rows]


async def _unit_list(request: Request, session: Any, period_id: str) -> UnitList | Response:
    principal = await _viewer(request, session)
    try:
        return await reports.unit_list(session, period_id=period_id, person_id=principal.subject)
    except PublicationError as error:
        return _refused(request, error)


def _csv(rows: list[list[Any]], filename: str) -> Response:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return _download(out.getvalue(), "text/csv; charset=utf-8", filename)


def _xlsx(rows: list[list[Any]], title: str, filename: str) -> Response:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return _download(
        out.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename,
    )


@router.get("/periods/{period_id}/units.csv", name="units-csv")
async def units_csv(period_id: str, request: Request, session: SessionDep) -> Response:
    data = await _unit_list(request, session, period_id)
    if isinstance(data, Response):
        return data
    return _csv(unit_list_rows(data), f"{period_id}-units.csv")


@router.get("/periods/{period_id}/units.xlsx", name="units-xlsx")
async def units_xlsx(period_id: str, request: Request, session: SessionDep) -> Response:
    data = await _unit_list(request, session, period_id)
    if isinstance(data, Response):
        return data
    return _xlsx(unit_list_rows(data), "units", f"{period_id}-units.xlsx")


@router.get("/periods/{period_id}/units/{unit_id}/report.csv", name="report-csv")
async def unit_csv(period_id: str, unit_id: str, request: Request, runtime: RuntimeDep) -> Response:
    data = await _report(request, runtime, period_id, unit_id)
    if isinstance(data, Response):
        return data
    return _csv(export_rows(data), f"{period_id}-{unit_id}.csv")


@router.get("/periods/{period_id}/units/{unit_id}/report.xlsx", name="report-xlsx")
async def unit_xlsx(
    period_id: str, unit_id: str, request: Request, runtime: RuntimeDep
) -> Response:
    data = await _report(request, runtime, period_id, unit_id)
    if isinstance(data, Response):
        return data
    return _xlsx(export_rows(data), "report", f"{period_id}-{unit_id}.xlsx")
