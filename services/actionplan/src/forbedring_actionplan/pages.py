"""The action plans as pages, for people: a person's plans, the unit's plan (focus areas,
checklist, dialogue, measures, comments, history, versions, carry-over, completion), a
form per measure, escalation and the parent's inbox, the roll-up of sub-units and the
indicators with the units without a plan (CSV, XLSX).

Every page calls the same use cases as the JSON API, so the access rules and the checks
live in one place: not signed in gives the sign-in page; refused, a page saying so (403).
Forms work without JavaScript: a post changes the plan and redirects (303) to the page
it came from; a refused one changes nothing (its use case runs in a savepoint) and shows
the page again with each problem next to its field. A form carries the revision it was
made to, so a stale edit is a conflict shown to the person, never a silent overwrite.
"""

import csv
import dataclasses
import io
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from openpyxl import Workbook
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData

from forbedring_actionplan import escalation, measures, overview, plan_view, plans, repository
from forbedring_actionplan.api import view_cache_of
from forbedring_actionplan.context import OSLO, load_for_unit
from forbedring_actionplan.domain.quality import CHECKLIST
from forbedring_actionplan.errors import (
    ActionplanError,
    ChecklistNotMet,
    Conflict,
    Forbidden,
    NotFound,
    StaleEdit,
)
from forbedring_actionplan.schemas import (
    CarryOver,
    CommentCreate,
    DialogueCreate,
    EscalationCreate,
    EscalationDecline,
    FocusDecisionUpdate,
    MeasureCreate,
    MeasurePublic,
    MeasureUpdate,
    PlanComplete,
    PlanPublic,
    UnitsWithoutPlan,
)
from forbedring_actionplan.settings import ActionplanSettings
from forbedring_actionplan.suggestions import Suggestions
from forbedring_chassis.auth import Principal
from forbedring_chassis.csrf import CsrfProtected
from forbedring_chassis.runtime import ClockDep, RuntimeDep, SessionDep
from forbedring_chassis.spreadsheet import safe_cell
from forbedring_chassis.web import (
    Language,
    Viewer,
    page_principal,
    public_root,
    render,
    request_language,
)

# Every form post carries the chassis's CSRF token; GETs pass the check untouched.
router = APIRouter(include_in_schema=False, dependencies=[CsrfProtected])

SIGN_IN_WHY: Final = "plan.signin.text"
# What a redirect after a post may say was done (`?saved=`: messages `saved.<name>`).
SAVED: Final = frozenset(
    {"focus", "dialogue", "comment", "carry", "complete", "added", "measure", "escalated"}
    | {"accepted", "declined"}
)

# What a use case's problem about a field means, in our own words (the use cases say it
# in English for the API; a page says it in the reader's language).
FIELD_PROBLEMS: Final[Mapping[str, str]] = {
    "deadline": "errors.deadline_past",
    "responsible_person_id": "errors.unknown_person",
    "linked_id": "errors.unknown_link",
    "cancel_reason": "errors.cancel_reason",
    "held_on": "errors.future_date",
}


# --- who is asking, and the page they get ----------------------------------------------


async def _viewer(request: Request, session: AsyncSession, period_id: str | None) -> Principal:
    """The signed-in person, with the header's name and sections from this service's
    directory copy of `period_id` (default: the newest period with plans); anyone else
    gets the sign-in page."""

    async def viewer(principal: Principal) -> Viewer:
        period = period_id
        if period is None:
            periods = await repository.periods_with_plans(session)
            period = periods[0].period_id if periods else None
        if period is None:
            return Viewer.holding(())
        roles = await repository.roles_of(session, period_id=period, person_id=principal.subject)
        names = await repository.names_of(session, period_id=period, person_ids=[principal.subject])
        return Viewer.holding((r for _, r in roles), name=names.get(principal.subject))

    return await page_principal(request, why=SIGN_IN_WHY, viewer=viewer)


async def _period_of_plan(session: AsyncSession, plan_id: str) -> str | None:
    plan = await repository.get_plan(session, plan_id=plan_id)
    return plan.period_id if plan else None


Page = Callable[[Principal], Awaitable[Response]]


async def _signed_in_page(
    request: Request, session: AsyncSession, period_id: str | None, page: Page
) -> Response:
    """Every page: not signed in, the sign-in page (401); then the page, or the page
    saying it is refused (403) or not found (404) when its use case says so."""
    principal = await _viewer(request, session, period_id)
    try:
        return await page(principal)
    except Forbidden:
        return render(request, "refused.html", {"key": "refused"}, status_code=403)
    except NotFound:
        return render(request, "refused.html", {"key": "not_found"}, status_code=404)


# --- problems shown next to their fields -----------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a posted form: `field` is the input's id (None: the whole
    form), `key` the message and `params` its placeholders; `detail` is the use case's
    own words, shown when no text of ours says more. `conflict`: someone else's change
    came first (409)."""

    field: str | None
    key: str
    params: Mapping[str, object] = dataclasses.field(default_factory=dict)
    detail: str | None = None
    conflict: bool = False


def _validation_problems(error: ValidationError, prefix: str) -> list[Problem]:
    found: list[Problem] = []
    for e in error.errors():
        name = str(e["loc"][-1]) if e["loc"] else None
        kind = e["type"]
        params: dict[str, object] = {}
        if kind in ("missing", "string_too_short") or e.get("input", "") is None:
            key = "errors.required"
        elif kind == "string_too_long":
            key, params = "errors.too_long", {"max": (e.get("ctx") or {}).get("max_length")}
        elif kind.startswith("date"):
            key = "errors.date"
        elif kind in ("literal_error", "enum"):
            key = "errors.choice"
        elif kind == "too_short":
            key = "errors.choose_one"
        else:
            key = "errors.invalid"
        found.append(Problem(f"{prefix}{name}" if name else None, key, params))
    return found


def _service_problems(error: ActionplanError, prefix: str) -> list[Problem]:
    if isinstance(error, StaleEdit):
        return [Problem(None, "errors.stale", {"revision": error.extra["revision"]}, conflict=True)]
    if isinstance(error, ChecklistNotMet):
        return [Problem(None, f"checklist.{p['code']}") for p in error.problems]
    fields = [p for p in error.problems if "field" in p]
    if fields:
        return [
            Problem(
                f"{prefix}{p['field']}",
                FIELD_PROBLEMS.get(
                    str(p["field"]),
                    "errors.required"
                    if str(p.get("message", "")).startswith("required")
                    else "errors.invalid",
                ),
            )
            for p in fields
        ]
    return [
        Problem(None, "errors.refused", detail=error.message, conflict=isinstance(error, Conflict))
    ]


def _status_of(problems: Sequence[Problem]) -> int:
    if not problems:
        return 200
    return 409 if any(p.conflict for p in problems) else 422


Change = Callable[[], Awaitable[Any]]
Build = Callable[[FormData, Principal], Change]
Again = Callable[[Principal, FormData, list[Problem]], Awaitable[Response]]


async def _post(
    request: Request,
    session: AsyncSession,
    period_id: str | None,
    build: Build,
    *,
    done: Callable[[], Response],
    again: Again,
    prefix: str = "",
) -> Response:
    """Every form post: build the use case's request from the form, run it in a
    savepoint (a refusal rolls back whatever it did), then `done` (a 303), or `again`:
    the page with the problems next to their fields."""

    async def page(principal: Principal) -> Response:
        posted = await request.form()
        try:
            change = build(posted, principal)
        except ValidationError as error:
            return await again(principal, posted, _validation_problems(error, prefix))
        try:
            async with session.begin_nested():
                await change()
        except (Forbidden, NotFound):
            raise
        except ActionplanError as error:
            return await again(principal, posted, _service_problems(error, prefix))
        return done()

    return await _signed_in_page(request, session, period_id, page)


def _see_other(request: Request, route: str, anchor: str, saved: str, **params: Any) -> Response:
    url = public_root(request) + str(request.app.url_path_for(route, **params))
    return RedirectResponse(
        f"{url}?{urlencode({'saved': saved})}{anchor}", status_code=status.HTTP_303_SEE_OTHER
    )


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _optional(form: FormData, name: str) -> str | None:
    return _text(form, name) or None


def _revision(form: FormData) -> int:
    value = _text(form, "revision")
    return int(value) if value.isdigit() else 0


def _values(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


# --- what every page gets --------------------------------------------------------------


def _day(value: date | None, language: Language) -> str:
    if value is None:
        return "\u2013"
    return value.strftime("%-d %b %Y") if language == "en" else value.strftime("%d.%m.%Y")


def _moment(value: datetime | None, language: Language) -> str:
    if value is None:
        return "\u2013"
    local = value.astimezone(OSLO)
    return local.strftime("%-d %b %Y, %H:%M" if language == "en" else "%d.%m.%Y kl. %H:%M")


def _page(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    problems: Sequence[Problem] = (),
) -> HTMLResponse:
    """Render with the helpers every template uses, the problems, and the status they
    make (200, 422, or 409 for a conflict)."""
    language = request_language(request)
    saved = request.query_params.get("saved")
    return render(
        request,
        template,
        {
            "day": lambda v: _day(v, language),
            "moment": lambda v: _moment(v, language),
            "checklist": CHECKLIST,
            "saved": saved if saved in SAVED and not problems else None,
            "problems": list(problems),
            **context,
        },
        status_code=_status_of(problems),
    )


# --- a person's plans ------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse, name="plans-home")
async def home(request: Request, session: SessionDep) -> Response:
    async def page(principal: Principal) -> Response:
        found = await overview.my_plans(session, person_id=principal.subject)
        return _page(request, "home.html", {"periods": found})

    return await _signed_in_page(request, session, None, page)


# --- the unit's plan -------------------------------------------------------------------


def _plan_again(request: Request, session: AsyncSession, plan_id: str, form_name: str) -> Again:
    async def again(principal: Principal, posted: FormData, problems: list[Problem]) -> Response:
        return await _plan_page(
            request,
            session,
            principal,
            plan_id,
            form=form_name,
            values=_values(posted),
            problems=problems,
        )

    return again


async def _plan_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    plan_id: str,
    *,
    form: str | None = None,
    values: Mapping[str, str] | None = None,
    problems: Sequence[Problem] = (),
) -> HTMLResponse:
    view = await plan_view.plan(
        session,
        plan_id=plan_id,
        person_id=principal.subject,
        language=request_language(request),
        cache=view_cache_of(request),
    )
    context = {
        "plan": view,
        "archived": None,
        "form": form,
        "values": values or {},
        "linked": await _linked_names(request, session, view),
    }
    return _page(request, "plan.html", context, problems)


async def _linked_names(
    request: Request, session: AsyncSession, view: PlanPublic
) -> dict[str, str]:
    """What the plan's measures link to, by id, in the reader's language: the
    questionnaire's item texts and factor names (never a figure)."""
    period = await repository.get_period(session, period_id=view.period_id)
    if period is None:
        return {}
    texts = plan_view.Texts(period, request_language(request))
    return {
        m.linked_id: texts.name(m.linked_id) or m.linked_id for m in view.measures if m.linked_id
    }


@router.get("/plans/{plan_id}", response_class=HTMLResponse, name="plan-page")
async def plan_page(plan_id: str, request: Request, session: SessionDep) -> Response:
    async def page(principal: Principal) -> Response:
        return await _plan_page(request, session, principal, plan_id)

    return await _signed_in_page(request, session, await _period_of_plan(session, plan_id), page)


@router.get(
    "/periods/{period_id}/units/{unit_id}", response_class=HTMLResponse, name="unit-plan-page"
)
async def unit_plan_page(
    period_id: str, unit_id: str, request: Request, session: SessionDep
) -> Response:
    """A unit's plan by period and unit (a link other services can make)."""

    async def page(principal: Principal) -> Response:
        # The access check only: the plan page it leads to reads the view.
        found = await load_for_unit(
            session, period_id=period_id, unit_id=unit_id, person_id=principal.subject
        )
        url = public_root(request) + str(
            request.app.url_path_for("plan-page", plan_id=found.plan.plan_id)
        )
        return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)

    return await _signed_in_page(request, session, period_id, page)


async def _plan_post(
    request: Request, session: AsyncSession, plan_id: str, form_name: str, build: Build
) -> Response:
    """A form of the plan page: back to its part of the plan, or the plan with the
    form's problems."""
    anchors = {"focus": "#focus", "dialogue": "#dialogue", "comment": "#comments"}
    return await _post(
        request,
        session,
        await _period_of_plan(session, plan_id),
        build,
        done=lambda: _see_other(
            request,
            "plan-page",
            anchors.get(form_name, f"#{form_name}"),
            form_name,
            plan_id=plan_id,
        ),
        again=_plan_again(request, session, plan_id, form_name),
        prefix=f"{form_name}-",
    )


@router.post("/plans/{plan_id}/focus-areas/{ref_id}", name="plan-focus")
async def focus_post(
    plan_id: str, ref_id: str, request: Request, session: SessionDep, clock: ClockDep
) -> Response:
    def build(form: FormData, principal: Principal) -> Change:
        body = FocusDecisionUpdate.model_validate(
            {"decision": _text(form, "decision"), "revision": _revision(form)}
        )
        return lambda: plans.decide_focus(
            session,
            plan_id=plan_id,
            ref_id=ref_id,
            body=body,
            person_id=principal.subject,
            now=clock.now(),
        )

    return await _plan_post(request, session, plan_id, "focus", build)


@router.post("/plans/{plan_id}/dialogue", name="plan-dialogue")
async def dialogue_post(
    plan_id: str, request: Request, session: SessionDep, clock: ClockDep
) -> Response:
    def build(form: FormData, principal: Principal) -> Change:
        fields = {"step": _text(form, "step"), "held_on": _optional(form, "held_on")}
        body = DialogueCreate.model_validate({**fields, "note": _text(form, "note")})
        return lambda: plans.add_dialogue(
            session, plan_id=plan_id, body=body, person_id=principal.subject, now=clock.now()
        )

    return await _plan_post(request, session, plan_id, "dialogue", build)


@router.post("/plans/{plan_id}/comments", name="plan-comment")
async def comment_post(
    plan_id: str, request: Request, session: SessionDep, clock: ClockDep
) -> Response:
    def build(form: FormData, principal: Principal) -> Change:
        body = CommentCreate.model_validate({"text": _text(form, "text")})
        return lambda: plans.add_comment(
            session, plan_id=plan_id, body=body, person_id=principal.subject, now=clock.now()
        )

    return await _plan_post(request, session, plan_id, "comment", build)


@router.post("/plans/{plan_id}/carry-over", name="plan-carry-over")
async def carry_over_post(
    plan_id: str, request: Request, session: SessionDep, clock: ClockDep
) -> Response:
    def build(form: FormData, principal: Principal) -> Change:
        chosen = [v for v in form.getlist("measure_ids") if isinstance(v, str)]
        body = CarryOver.model_validate({"measure_ids": chosen})
        return lambda: plans.carry_over(
            session, plan_id=plan_id, body=body, person_id=principal.subject, now=clock.now()
        )

    return await _plan_post(request, session, plan_id, "carry", build)


@router.post("/plans/{plan_id}/complete", name="plan-complete")
async def complete_post(
    plan_id: str, request: Request, session: SessionDep, clock: ClockDep
) -> Response:
    def build(form: FormData, principal: Principal) -> Change:
        body = PlanComplete.model_validate({"revision": _revision(form)})
        return lambda: plans.complete(
            session, plan_id=plan_id, body=body, person_id=principal.subject, now=clock.now()
        )

    return await _plan_post(request, session, plan_id, "complete", build)


@router.get("/plans/{plan_id}/versions/{number}", response_class=HTMLResponse, name="plan-version")
async def version_page(
    plan_id: str, number: int, request: Request, session: SessionDep
) -> Response:
    """A completed version as it was stored: read only, it never changes."""

    async def page(principal: Principal) -> Response:
        stored = await plan_view.version(
            session, plan_id=plan_id, number=number, person_id=principal.subject
        )
        context: dict[str, Any] = {
            "plan": stored.plan,
            "archived": stored,
            "form": None,
            "values": {},
            "linked": await _linked_names(request, session, stored.plan),
        }
        return _page(request, "plan.html", context)

    return await _signed_in_page(request, session, await _period_of_plan(session, plan_id), page)


# --- a measure -------------------------------------------------------------------------


def _measure_fields(form: FormData) -> dict[str, Any]:
    return {
        "category": _text(form, "category"),
        "linked_id": _optional(form, "linked_id"),
        "title": _text(form, "title"),
        "description": _text(form, "description"),
        "responsible_person_id": _optional(form, "responsible_person_id"),
        "deadline": _optional(form, "deadline"),
        "desired_effect": _text(form, "desired_effect"),
        "extra_resources": _text(form, "extra_resources"),
        "continued": _text(form, "continued") == "yes",
    }


def _update_fields(form: FormData) -> dict[str, Any]:
    chosen = _text(form, "status")
    return {
        **_measure_fields(form),
        "revision": _revision(form),
        "status": chosen,
        "cancel_reason": _optional(form, "cancel_reason") if chosen == "cancelled" else None,
        "evaluation_done": _text(form, "evaluation_done"),
        "evaluation_observed": _text(form, "evaluation_observed"),
        "evaluation_decision": _optional(form, "evaluation_decision"),
    }


def _measure_values(measure: MeasurePublic | None) -> dict[str, str]:
    """A stored measure as the form's values."""
    if measure is None:
        return {"category": "patient_safety", "continued": "no"}
    dumped = measure.model_dump(mode="json")
    values = {k: "" if v is None else str(v) for k, v in dumped.items() if not isinstance(v, dict)}
    values["continued"] = "yes" if measure.continued else "no"
    return values


def _link_choices(view: PlanPublic, current: str | None) -> list[tuple[str, str, str]]:
    """(group, id, label): the factors and items of the plan's focus areas not dismissed,
    and the measure's current link if it is another."""
    factors: dict[str, str] = {}
    items: dict[str, str] = {}
    for area in view.focus.areas:
        if area.decision == "dismissed":
            continue
        items[area.ref_id] = area.text
        if area.factor_id:
            factors[area.factor_id] = area.factor_name or area.factor_id
    choices = [("factor", k, v) for k, v in factors.items()]
    choices += [("item", k, v) for k, v in items.items()]
    if current and current not in factors and current not in items:
        choices.append(("item", current, current))
    return choices


def _suggestions(
    request: Request, view: PlanPublic, linked: str | None
) -> list[tuple[str, str, tuple[str, ...]]]:
    """(factor id, factor name, suggested measures): for the linked item's or factor's
    factor, or (nothing linked) every factor of the plan's focus areas not dismissed."""
    loaded: Suggestions = request.app.state.suggestions
    language = request_language(request)
    factors: dict[str, str] = {}
    for area in view.focus.areas:
        if area.decision == "dismissed" or not area.factor_id:
            continue
        if linked in (None, area.ref_id, area.factor_id):
            factors.setdefault(area.factor_id, area.factor_name or area.factor_id)
    found = [(f, name, loaded.for_factor(f, language)) for f, name in factors.items()]
    return [entry for entry in found if entry[2]]


async def _editable(
    request: Request, session: AsyncSession, principal: Principal, plan_id: str, measure_id: str
) -> tuple[PlanPublic, MeasurePublic | None]:
    """The plan, as someone who may edit it, and its measure `measure_id` ("" for none)."""
    view = await plan_view.plan(
        session, plan_id=plan_id, person_id=principal.subject, language=request_language(request)
    )
    if not view.access.edit:
        raise Forbidden("Only the unit's leaders may change its measures.")
    measure = next((m for m in view.measures if m.measure_id == measure_id), None)
    if measure_id and measure is None:
        raise NotFound(f"Plan {plan_id!r} has no measure {measure_id!r}.")
    return view, measure


async def _measure_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    plan_id: str,
    measure_id: str,
    *,
    values: Mapping[str, str] | None = None,
    problems: Sequence[Problem] = (),
) -> HTMLResponse:
    """The measure's form (`measure_id` "": a new one). A conflict keeps what the person
    wrote beside what is stored now, with the stored revision: saving again is then a
    choice made knowing the other change."""
    view, measure = await _editable(request, session, principal, plan_id, measure_id)
    shown = dict(values) if values is not None else _measure_values(measure)
    query = request.query_params
    if values is None and measure is None:
        shown["linked_id"] = query.get("linked", "")
    suggestions = _suggestions(request, view, shown.get("linked_id") or None)
    factor, _, index = query.get("suggestion", "").partition(":")
    texts = {f: s for f, _, s in suggestions}.get(factor, ())
    if values is None and index.isdigit() and int(index) < len(texts):
        shown["title"] = texts[int(index)]
    people = await plan_view.responsible_candidates(
        session, plan_id=plan_id, person_id=principal.subject
    )
    if measure and measure.responsible and measure.responsible not in people:
        people.append(measure.responsible)
    stale = [p.params["revision"] for p in problems if p.key == "errors.stale"]
    context: dict[str, Any] = {
        "plan": view,
        "measure": measure,
        "values": shown,
        "revision": stale[0] if stale else shown.get("revision") or (measure and measure.revision),
        "links": _link_choices(view, shown.get("linked_id")),
        "people": people,
        "suggestions": suggestions,
    }
    return _page(request, "measure.html", context, problems)


def _measure_again(request: Request, session: AsyncSession, plan_id: str, measure_id: str) -> Again:
    async def again(principal: Principal, posted: FormData, problems: list[Problem]) -> Response:
        return await _measure_page(
            request,
            session,
            principal,
            plan_id,
            measure_id,
            values=_values(posted),
            problems=problems,
        )

    return again


@router.get("/plans/{plan_id}/measures/new", response_class=HTMLResponse, name="measure-new")
async def measure_new(plan_id: str, request: Request, session: SessionDep) -> Response:
    async def page(principal: Principal) -> Response:
        return await _measure_page(request, session, principal, plan_id, "")

    return await _signed_in_page(request, session, await _period_of_plan(session, plan_id), page)


@router.post("/plans/{plan_id}/measures/new", name="measure-create")
async def measure_create(
    plan_id: str, request: Request, session: SessionDep, clock: ClockDep
) -> Response:
    def build(form: FormData, principal: Principal) -> Change:
        body = MeasureCreate.model_validate(_measure_fields(form))
        return lambda: measures.create(
            session, plan_id=plan_id, body=body, person_id=principal.subject, now=clock.now()
        )

    return await _post(
        request,
        session,
        await _period_of_plan(session, plan_id),
        build,
        done=lambda: _see_other(request, "plan-page", "#measures", "added", plan_id=plan_id),
        again=_measure_again(request, session, plan_id, ""),
    )


@router.get(
    "/plans/{plan_id}/measures/{measure_id}", response_class=HTMLResponse, name="measure-edit"
)
async def measure_edit(
    plan_id: str, measure_id: str, request: Request, session: SessionDep
) -> Response:
    async def page(principal: Principal) -> Response:
        return await _measure_page(request, session, principal, plan_id, measure_id)

    return await _signed_in_page(request, session, await _period_of_plan(session, plan_id), page)


@router.post("/plans/{plan_id}/measures/{measure_id}", name="measure-update")
async def measure_update(
    plan_id: str, measure_id: str, request: Request, session: SessionDep, clock: ClockDep
) -> Response:
    def build(form: FormData, principal: Principal) -> Change:
        body = MeasureUpdate.model_validate(_update_fields(form))
        return lambda: measures.update(
            session,
            plan_id=plan_id,
            measure_id=measure_id,
            body=body,
            person_id=principal.subject,
            now=clock.now(),
        )

    return await _post(
        request,
        session,
        await _period_of_plan(session, plan_id),
        build,
        done=lambda: _see_other(
            request, "plan-page", f"#measure-{measure_id}", "measure", plan_id=plan_id
        ),
        again=_measure_again(request, session, plan_id, measure_id),
    )


# --- escalation ------------------------------------------------------------------------


async def _escalate_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    plan_id: str,
    measure_id: str,
    *,
    reason: str = "",
    problems: Sequence[Problem] = (),
) -> HTMLResponse:
    view, measure = await _editable(request, session, principal, plan_id, measure_id)
    context = {"plan": view, "measure": measure, "reason": reason}
    return _page(request, "escalate.html", context, problems)


@router.get(
    "/plans/{plan_id}/measures/{measure_id}/escalate",
    response_class=HTMLResponse,
    name="measure-escalate-form",
)
async def escalate_form(
    plan_id: str, measure_id: str, request: Request, session: SessionDep
) -> Response:
    async def page(principal: Principal) -> Response:
        return await _escalate_page(request, session, principal, plan_id, measure_id)

    return await _signed_in_page(request, session, await _period_of_plan(session, plan_id), page)


@router.post("/plans/{plan_id}/measures/{measure_id}/escalate", name="measure-escalate")
async def escalate_post(
    plan_id: str, measure_id: str, request: Request, session: SessionDep, clock: ClockDep
) -> Response:
    def build(form: FormData, principal: Principal) -> Change:
        body = EscalationCreate.model_validate(
            {"reason": _text(form, "reason"), "revision": _revision(form)}
        )
        return lambda: escalation.escalate(
            session,
            plan_id=plan_id,
            measure_id=measure_id,
            body=body,
            person_id=principal.subject,
            now=clock.now(),
        )

    async def again(principal: Principal, posted: FormData, problems: list[Problem]) -> Response:
        return await _escalate_page(
            request,
            session,
            principal,
            plan_id,
            measure_id,
            reason=_text(posted, "reason"),
            problems=problems,
        )

    return await _post(
        request,
        session,
        await _period_of_plan(session, plan_id),
        build,
        done=lambda: _see_other(
            request, "plan-page", f"#measure-{measure_id}", "escalated", plan_id=plan_id
        ),
        again=again,
    )


async def _inbox_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    period_id: str,
    *,
    failed: str | None = None,
    reason: str = "",
    problems: Sequence[Problem] = (),
) -> HTMLResponse:
    """The parent leader's escalations; `failed` the one whose decision was refused."""
    inbox = await overview.inbox(
        session,
        period_id=period_id,
        person_id=principal.subject,
        language=request_language(request),
    )
    return _page(
        request, "inbox.html", {"inbox": inbox, "failed": failed, "reason": reason}, problems
    )


@router.get("/periods/{period_id}/inbox", response_class=HTMLResponse, name="inbox-page")
async def inbox_page(period_id: str, request: Request, session: SessionDep) -> Response:
    async def page(principal: Principal) -> Response:
        return await _inbox_page(request, session, principal, period_id)

    return await _signed_in_page(request, session, period_id, page)


async def _decide(
    request: Request, session: AsyncSession, escalation_id: str, build: Build, saved: str
) -> Response:
    found = await repository.get_escalation(session, escalation_id=escalation_id)
    period_id = await _period_of_plan(session, found.to_plan_id) if found else None

    async def again(principal: Principal, posted: FormData, problems: list[Problem]) -> Response:
        assert period_id is not None
        return await _inbox_page(
            request,
            session,
            principal,
            period_id,
            failed=escalation_id,
            reason=_text(posted, "reason"),
            problems=problems,
        )

    def checked(form: FormData, principal: Principal) -> Change:
        if period_id is None:
            raise NotFound(f"There is no escalation {escalation_id!r}.")
        return build(form, principal)

    return await _post(
        request,
        session,
        period_id,
        checked,
        done=lambda: _see_other(request, "inbox-page", "", saved, period_id=period_id),
        again=again,
        prefix=f"decline-{escalation_id}-",
    )


@router.post("/escalations/{escalation_id}/accept", name="escalation-accept")
async def accept_post(
    escalation_id: str, request: Request, session: SessionDep, clock: ClockDep
) -> Response:
    def build(form: FormData, principal: Principal) -> Change:
        return lambda: escalation.accept(
            session, escalation_id=escalation_id, person_id=principal.subject, now=clock.now()
        )

    return await _decide(request, session, escalation_id, build, "accepted")


@router.post("/escalations/{escalation_id}/decline", name="escalation-decline")
async def decline_post(
    escalation_id: str, request: Request, session: SessionDep, clock: ClockDep
) -> Response:
    def build(form: FormData, principal: Principal) -> Change:
        body = EscalationDecline.model_validate({"reason": _text(form, "reason")})
        return lambda: escalation.decline(
            session,
            escalation_id=escalation_id,
            body=body,
            person_id=principal.subject,
            now=clock.now(),
        )

    return await _decide(request, session, escalation_id, build, "declined")


# --- across the period's plans ---------------------------------------------------------


@router.get("/periods/{period_id}/roll-up", response_class=HTMLResponse, name="roll-up-page")
async def roll_up_page(period_id: str, request: Request, session: SessionDep) -> Response:
    async def page(principal: Principal) -> Response:
        found = await overview.roll_up(session, period_id=period_id, person_id=principal.subject)
        return _page(request, "rollup.html", {"rollup": found})

    return await _signed_in_page(request, session, period_id, page)


@router.get("/periods/{period_id}/indicators", response_class=HTMLResponse, name="indicators-page")
async def indicators_page(
    period_id: str, request: Request, session: SessionDep, clock: ClockDep, runtime: RuntimeDep
) -> Response:
    """The indicators for HR and leaders; HR also sees the units without a plan."""
    settings = runtime.settings
    assert isinstance(settings, ActionplanSettings)

    async def page(principal: Principal) -> Response:
        found = await overview.indicators(
            session,
            period_id=period_id,
            person_id=principal.subject,
            now=clock.now(),
            targets=settings.targets(),
        )
        try:
            without: UnitsWithoutPlan | None = await overview.without_plan(
                session, period_id=period_id, person_id=principal.subject
            )
        except Forbidden:
            without = None
        groups: dict[str, list[Any]] = {}
        for row in found.rows:
            groups.setdefault(row.indicator, []).append(row)
        context = {"indicators": found, "groups": groups, "without": without}
        return _page(request, "indicators.html", context)

    return await _signed_in_page(request, session, period_id, page)


WITHOUT_PLAN_HEADER: Final = (
    "unit_id",
    "unit_name",
    "level",
    "parent_id",
    "parent_name",
    "leaders",
)


def without_plan_rows(data: UnitsWithoutPlan) -> list[list[Any]]:
    """The units without a plan as a sheet's rows (the same for CSV and XLSX)."""
    rows: list[list[Any]] = [list(WITHOUT_PLAN_HEADER)]
    for entry in data.units:
        parent = entry.parent
        rows.append(
            [
                entry.unit.unit_id,
                entry.unit.name,
                entry.level,
                parent.unit_id if parent else None,
                parent.name if parent else None,
                "; ".join(p.name for p in entry.leaders),
            ]
        )
    return [[safe_cell(cell) for cell in row] for row in rows]


def _sheet(rows: list[list[Any]], *, kind: str, stem: str) -> Response:
    """The rows as a download: `kind` is csv or xlsx."""
    if kind == "csv":
        text = io.StringIO()
        csv.writer(text, lineterminator="\r\n").writerows(rows)
        content: bytes | str = text.getvalue()
        media = "text/csv; charset=utf-8"
    else:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "units without plan"
        for row in rows:
            sheet.append(row)
        data = io.BytesIO()
        book.save(data)
        content = data.getvalue()
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = f'attachment; filename="{stem}.{kind}"'
    return Response(content, media_type=media, headers={"Content-Disposition": disposition})


@router.get("/periods/{period_id}/units-without-plan.{kind}", name="without-plan-export")
async def without_plan_export(
    period_id: str, kind: str, request: Request, session: SessionDep
) -> Response:
    async def page(principal: Principal) -> Response:
        if kind not in ("csv", "xlsx"):
            raise NotFound(f"No export as {kind!r}: csv or xlsx.")
        data = await overview.without_plan(
            session, period_id=period_id, person_id=principal.subject
        )
        return _sheet(without_plan_rows(data), kind=kind, stem=f"{period_id}-units-without-plan")

    return await _signed_in_page(request, session, period_id, page)
