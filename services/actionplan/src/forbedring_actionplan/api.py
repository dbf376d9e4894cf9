"""Thin JSON routes: sign-in (chassis OIDC), one use case each, the result mapped to a
response model. A change answers with what it changed, as it now is."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_actionplan import (
    escalation,
    measures,
    overview,
    plan_view,
    plans,
    repository,
    targets,
)
from forbedring_actionplan.models import Escalation
from forbedring_actionplan.schemas import (
    CarryOver,
    CommentCreate,
    DialogueCreate,
    EscalationCreate,
    EscalationDecline,
    EscalationPublic,
    FocusDecisionUpdate,
    Inbox,
    Indicators,
    IndicatorTargets,
    MeasureCreate,
    MeasurePublic,
    MeasureUpdate,
    MyPlans,
    PlanComplete,
    PlanPublic,
    RollUp,
    UnitsWithoutPlan,
    VersionPublic,
)
from forbedring_actionplan.settings import ActionplanSettings
from forbedring_actionplan.suggestions import Suggestions
from forbedring_actionplan.view_cache import ViewCache
from forbedring_chassis.auth import PrincipalDep
from forbedring_chassis.runtime import ClockDep, Runtime, RuntimeDep, SessionDep
from forbedring_chassis.web import Language

router = APIRouter(prefix="/api/v1", tags=["action plans"])
LangDep = Annotated[Language, Query(description="nb, nn or en")]


def _settings(runtime: RuntimeDep) -> ActionplanSettings:
    settings = runtime.settings
    assert isinstance(settings, ActionplanSettings)
    return settings


SettingsDep = Annotated[ActionplanSettings, Depends(_settings)]


class SuggestionList(BaseModel):
    factor_id: str
    language: Language
    suggestions: list[str]


async def _measure(
    session: AsyncSession, *, plan_id: str, measure_id: str, person_id: str, lang: Language
) -> MeasurePublic:
    view = await plan_view.plan(session, plan_id=plan_id, person_id=person_id, language=lang)
    return next(m for m in view.measures if m.measure_id == measure_id)


async def _escalation(
    session: AsyncSession, found: Escalation, lang: Language, period_id: str
) -> EscalationPublic:
    units = await repository.units_of(session, period_id=period_id)
    public = await plan_view.escalations_public(
        session, period_id=period_id, escalations=[found], units=units, language=lang
    )
    return public[found.escalation_id]


@router.get("/me/plans")
async def my_plans(principal: PrincipalDep, session: SessionDep) -> list[MyPlans]:
    return await overview.my_plans(session, person_id=principal.subject)


def view_cache_of(request: Request) -> ViewCache:
    """The plan views in the runtime's Redis (`view_cache`)."""
    runtime: Runtime = request.app.state.runtime
    return ViewCache(runtime.redis)


ViewCacheDep = Annotated[ViewCache, Depends(view_cache_of)]


# The view is sent as cached (JSON bytes); the model documents it.
@router.get("/periods/{period_id}/units/{unit_id}/plan", response_model=PlanPublic)
async def unit_plan(
    period_id: str,
    unit_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    cache: ViewCacheDep,
    lang: LangDep = "nb",
) -> Response:
    body = await plan_view.plan_json(
        session,
        period_and_unit=(period_id, unit_id),
        person_id=principal.subject,
        language=lang,
        cache=cache,
    )
    return Response(body, media_type="application/json")


@router.get("/plans/{plan_id}", response_model=PlanPublic)
async def get_plan(
    plan_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    cache: ViewCacheDep,
    lang: LangDep = "nb",
) -> Response:
    body = await plan_view.plan_json(
        session, plan_id=plan_id, person_id=principal.subject, language=lang, cache=cache
    )
    return Response(body, media_type="application/json")


@router.get("/plans/{plan_id}/versions/{version}")
async def get_version(
    plan_id: str, version: int, principal: PrincipalDep, session: SessionDep
) -> VersionPublic:
    return await plan_view.version(
        session, plan_id=plan_id, number=version, person_id=principal.subject
    )


@router.post("/plans/{plan_id}/focus-areas/{ref_id}")
async def decide_focus(
    plan_id: str,
    ref_id: str,
    body: FocusDecisionUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    lang: LangDep = "nb",
) -> PlanPublic:
    await plans.decide_focus(
        session,
        plan_id=plan_id,
        ref_id=ref_id,
        body=body,
        person_id=principal.subject,
        now=clock.now(),
    )
    return await plan_view.plan(
        session, plan_id=plan_id, person_id=principal.subject, language=lang
    )


@router.post("/plans/{plan_id}/dialogue", status_code=status.HTTP_201_CREATED)
async def add_dialogue(
    plan_id: str,
    body: DialogueCreate,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    lang: LangDep = "nb",
) -> PlanPublic:
    await plans.add_dialogue(
        session, plan_id=plan_id, body=body, person_id=principal.subject, now=clock.now()
    )
    return await plan_view.plan(
        session, plan_id=plan_id, person_id=principal.subject, language=lang
    )


@router.post("/plans/{plan_id}/comments", status_code=status.HTTP_201_CREATED)
async def add_comment(
    plan_id: str,
    body: CommentCreate,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    lang: LangDep = "nb",
) -> PlanPublic:
    await plans.add_comment(
        session, plan_id=plan_id, body=body, person_id=principal.subject, now=clock.now()
    )
    return await plan_view.plan(
        session, plan_id=plan_id, person_id=principal.subject, language=lang
    )


@router.post("/plans/{plan_id}/carry-over")
async def carry_over(
    plan_id: str,
    body: CarryOver,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    lang: LangDep = "nb",
) -> PlanPublic:
    await plans.carry_over(
        session, plan_id=plan_id, body=body, person_id=principal.subject, now=clock.now()
    )
    return await plan_view.plan(
        session, plan_id=plan_id, person_id=principal.subject, language=lang
    )


@router.post("/plans/{plan_id}/complete")
async def complete(
    plan_id: str,
    body: PlanComplete,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    lang: LangDep = "nb",
) -> PlanPublic:
    await plans.complete(
        session, plan_id=plan_id, body=body, person_id=principal.subject, now=clock.now()
    )
    return await plan_view.plan(
        session, plan_id=plan_id, person_id=principal.subject, language=lang
    )


@router.post("/plans/{plan_id}/measures", status_code=status.HTTP_201_CREATED)
async def create_measure(
    plan_id: str,
    body: MeasureCreate,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    lang: LangDep = "nb",
) -> MeasurePublic:
    created = await measures.create(
        session, plan_id=plan_id, body=body, person_id=principal.subject, now=clock.now()
    )
    return await _measure(
        session,
        plan_id=plan_id,
        measure_id=created.measure_id,
        person_id=principal.subject,
        lang=lang,
    )


@router.patch("/plans/{plan_id}/measures/{measure_id}")
async def update_measure(
    plan_id: str,
    measure_id: str,
    body: MeasureUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    lang: LangDep = "nb",
) -> MeasurePublic:
    await measures.update(
        session,
        plan_id=plan_id,
        measure_id=measure_id,
        body=body,
        person_id=principal.subject,
        now=clock.now(),
    )
    return await _measure(
        session, plan_id=plan_id, measure_id=measure_id, person_id=principal.subject, lang=lang
    )


@router.post("/plans/{plan_id}/measures/{measure_id}/escalate", status_code=status.HTTP_201_CREATED)
async def escalate(
    plan_id: str,
    measure_id: str,
    body: EscalationCreate,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    lang: LangDep = "nb",
) -> EscalationPublic:
    found = await escalation.escalate(
        session,
        plan_id=plan_id,
        measure_id=measure_id,
        body=body,
        person_id=principal.subject,
        now=clock.now(),
    )
    plan = await repository.get_plan(session, plan_id=plan_id)
    assert plan is not None
    return await _escalation(session, found, lang, plan.period_id)


@router.post("/escalations/{escalation_id}/accept")
async def accept(
    escalation_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    lang: LangDep = "nb",
) -> EscalationPublic:
    found = await escalation.accept(
        session, escalation_id=escalation_id, person_id=principal.subject, now=clock.now()
    )
    plan = await repository.get_plan(session, plan_id=found.to_plan_id)
    assert plan is not None
    return await _escalation(session, found, lang, plan.period_id)


@router.post("/escalations/{escalation_id}/decline")
async def decline(
    escalation_id: str,
    body: EscalationDecline,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    lang: LangDep = "nb",
) -> EscalationPublic:
    found = await escalation.decline(
        session,
        escalation_id=escalation_id,
        body=body,
        person_id=principal.subject,
        now=clock.now(),
    )
    plan = await repository.get_plan(session, plan_id=found.to_plan_id)
    assert plan is not None
    return await _escalation(session, found, lang, plan.period_id)


@router.get("/periods/{period_id}/inbox")
async def inbox(
    period_id: str, principal: PrincipalDep, session: SessionDep, lang: LangDep = "nb"
) -> Inbox:
    return await overview.inbox(
        session, period_id=period_id, person_id=principal.subject, language=lang
    )


@router.get("/periods/{period_id}/indicators")
async def indicators(
    period_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Indicators:
    return await overview.indicators(
        session,
        period_id=period_id,
        person_id=principal.subject,
        now=clock.now(),
        targets=settings.targets(),
    )


@router.put("/periods/{period_id}/targets")
async def set_targets(
    period_id: str,
    body: IndicatorTargets,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
) -> IndicatorTargets:
    """HR admins: the period's indicator targets (recorded in the audit log)."""
    saved = await targets.set_targets(
        session,
        actor=principal.subject,
        period_id=period_id,
        targets=body.model_dump(),
        now=clock.now(),
    )
    return IndicatorTargets.model_validate(saved)


@router.get("/periods/{period_id}/units-without-plan")
async def units_without_plan(
    period_id: str, principal: PrincipalDep, session: SessionDep
) -> UnitsWithoutPlan:
    return await overview.without_plan(session, period_id=period_id, person_id=principal.subject)


@router.get("/periods/{period_id}/roll-up")
async def roll_up(period_id: str, principal: PrincipalDep, session: SessionDep) -> RollUp:
    return await overview.roll_up(session, period_id=period_id, person_id=principal.subject)


@router.get("/suggestions/{factor_id}")
async def suggestions(
    factor_id: str, request: Request, principal: PrincipalDep, lang: LangDep = "nb"
) -> SuggestionList:
    """Suggested measures for a factor, to help a leader start."""
    loaded: Suggestions = request.app.state.suggestions
    return SuggestionList(
        factor_id=factor_id, language=lang, suggestions=list(loaded.for_factor(factor_id, lang))
    )
