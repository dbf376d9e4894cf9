"""Use case: read a plan, as the signed-in person may, in a language: its focus areas
named in that language (never a figure), the checklist, dialogue, measures with their
escalations, comments, history, versions and the measures offered for carry-over."""

from collections.abc import Callable, Iterable, Mapping, Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_actionplan import history as history_text
from forbedring_actionplan import repository, view_cache
from forbedring_actionplan.context import (
    PlanContext,
    load,
    load_for_unit,
    questionnaire_of,
)
from forbedring_actionplan.domain import quality
from forbedring_actionplan.errors import NotFound
from forbedring_actionplan.models import (
    DialogueEntry,
    DirectoryUnit,
    Escalation,
    FocusArea,
    HistoryEntry,
    Measure,
    Period,
    PlanVersion,
)
from forbedring_actionplan.schemas import (
    AccessPublic,
    CommentPublic,
    DialoguePublic,
    EscalationPublic,
    FocusAreaPublic,
    FocusPublic,
    HistoryPublic,
    MeasureLink,
    MeasurePublic,
    PersonRef,
    PlanPublic,
    UnitRef,
    VersionPublic,
    VersionRef,
)
from forbedring_actionplan.view_cache import ViewCache
from forbedring_chassis.web import Language

SYSTEM_NAMES: Mapping[Language, str] = {"nb": "Systemet", "nn": "Systemet", "en": "The system"}


class Texts:
    """The questionnaire's item texts and factor names in one language."""

    def __init__(self, period: Period, language: Language) -> None:
        questionnaire = questionnaire_of(period)
        self.items = {
            i.item_id: getattr(i.text, language)
            for i in (questionnaire.items if questionnaire else ())
        }
        self.factors = {
            f.factor_id: getattr(f.name, language)
            for f in (questionnaire.factors if questionnaire else ())
        }

    def name(self, ref_id: str | None) -> str | None:
        if ref_id is None:
            return None
        return self.items.get(ref_id) or self.factors.get(ref_id) or ref_id


class Names:
    """People's and units' names, looked up once per request."""

    def __init__(self, people: Mapping[str, str], units: Mapping[str, str], language: Language):
        self.people = dict(people)
        self.units = dict(units)
        self.system = SYSTEM_NAMES[language]

    def person(self, person_id: str) -> PersonRef:
        if person_id == "system":
            return PersonRef(person_id=person_id, name=self.system)
        return PersonRef(person_id=person_id, name=self.people.get(person_id, person_id))

    def unit(self, unit_id: str) -> UnitRef:
        return UnitRef(unit_id=unit_id, name=self.units.get(unit_id, unit_id))


async def plan(
    session: AsyncSession,
    *,
    plan_id: str,
    person_id: str,
    language: Language,
    cache: ViewCache | None = None,
) -> PlanPublic:
    context = await load(session, plan_id=plan_id, person_id=person_id)
    if cache is None:
        return await view(session, context, language=language)
    return PlanPublic.model_validate_json(await cached_json(session, context, language, cache))


async def plan_of_unit(
    session: AsyncSession, *, period_id: str, unit_id: str, person_id: str, language: Language
) -> PlanPublic:
    context = await load_for_unit(
        session, period_id=period_id, unit_id=unit_id, person_id=person_id
    )
    return await view(session, context, language=language)


async def plan_json(
    session: AsyncSession,
    *,
    person_id: str,
    language: Language,
    cache: ViewCache,
    plan_id: str | None = None,
    period_and_unit: tuple[str, str] | None = None,
) -> bytes:
    """The view as the API sends it (JSON, by alias), from the cache when it has it. The
    access check (`load`) comes first, always."""
    if period_and_unit is not None:
        period_id, unit_id = period_and_unit
        context = await load_for_unit(
            session, period_id=period_id, unit_id=unit_id, person_id=person_id
        )
    else:
        assert plan_id is not None
        context = await load(session, plan_id=plan_id, person_id=person_id)
    return await cached_json(session, context, language, cache)


async def cached_json(
    session: AsyncSession, context: PlanContext, language: Language, cache: ViewCache
) -> bytes:
    key = await view_cache.key(session, context, language)
    found = await cache.get(key)
    if found is not None:
        return found
    computed = (await view(session, context, language=language)).model_dump_json(by_alias=True)
    await cache.put(key, computed.encode())
    return computed.encode()


async def version(
    session: AsyncSession, *, plan_id: str, number: int, person_id: str
) -> VersionPublic:
    context = await load(session, plan_id=plan_id, person_id=person_id)
    stored = await repository.get_version(session, plan_id=plan_id, version=number)
    if stored is None:
        raise NotFound(f"Plan {plan_id!r} has no completed version {number}.")
    names = await _names(session, context, [stored.completed_by], [], "nb")
    return VersionPublic(
        version=stored.version,
        completed_at=stored.completed_at,
        completed_by=names.person(stored.completed_by),
        plan=PlanPublic.model_validate(stored.snapshot),
    )


async def escalations_public(
    session: AsyncSession,
    *,
    period_id: str,
    escalations: Sequence[Escalation],
    units: Mapping[str, DirectoryUnit],
    language: Language,
) -> dict[str, EscalationPublic]:
    """The escalations as shown, by id: the measure's title, both units, who and when."""
    measures = await repository.measures_by_id(
        session, measure_ids=sorted({e.measure_id for e in escalations})
    )
    plan_ids = sorted({e.from_plan_id for e in escalations} | {e.to_plan_id for e in escalations})
    unit_of_plan = await repository.units_of_plans(session, plan_ids=plan_ids)
    people = await repository.names_of(
        session,
        period_id=period_id,
        person_ids=[e.escalated_by for e in escalations]
        + [e.decided_by for e in escalations if e.decided_by],
    )
    names = Names(people, {u: units[u].name for u in units}, language)
    return {e.escalation_id: _escalation(e, measures, unit_of_plan, names) for e in escalations}


def _escalation(
    e: Escalation, measures: Mapping[str, Measure], unit_of_plan: Mapping[str, str], names: Names
) -> EscalationPublic:
    measure = measures.get(e.measure_id)
    return EscalationPublic(
        escalation_id=e.escalation_id,
        measure_id=e.measure_id,
        title=measure.title if measure else e.measure_id,
        from_unit=names.unit(unit_of_plan.get(e.from_plan_id, "?")),
        from_plan_id=e.from_plan_id,
        to_unit=names.unit(unit_of_plan.get(e.to_plan_id, "?")),
        to_plan_id=e.to_plan_id,
        reason=e.reason,
        status=e.status,  # type: ignore[arg-type]
        escalated_by=names.person(e.escalated_by),
        escalated_at=e.escalated_at,
        decided_by=names.person(e.decided_by) if e.decided_by else None,
        decided_at=e.decided_at,
        decline_reason=e.decline_reason,
        to_measure_id=e.to_measure_id,
    )


async def _names(
    session: AsyncSession,
    context: PlanContext,
    person_ids: Iterable[str],
    unit_ids: Iterable[str],
    language: Language,
) -> Names:
    people = await repository.names_of(
        session, period_id=context.plan.period_id, person_ids=person_ids
    )
    units = {u.unit_id: u.name for u in context.chain}
    wanted = set(unit_ids) - set(units)
    if wanted:
        known = await repository.units_of(session, period_id=context.plan.period_id)
        units |= {u: known[u].name for u in wanted if u in known}
    return Names(people, units, language)


async def view(session: AsyncSession, context: PlanContext, *, language: Language) -> PlanPublic:
    plan = context.plan
    texts = Texts(context.period, language)
    areas = await repository.focus_areas(session, plan_id=plan.plan_id)
    entries = await repository.dialogue(session, plan_id=plan.plan_id)
    measures = await repository.measures(session, plan_id=plan.plan_id)
    escalations = await repository.escalations_of(session, plan_id=plan.plan_id)
    comments = await repository.comments(session, plan_id=plan.plan_id)
    history = await repository.history(session, plan_id=plan.plan_id)
    versions = await repository.versions(session, plan_id=plan.plan_id)
    missing = _checklist(measures, entries, areas)
    offers = await carry_over_offers(session, context)
    people = await repository.people_with_roles(
        session,
        period_id=plan.period_id,
        unit_ids=[plan.unit_id],
        roles=["leader", "safety_rep", "union_rep"],
    )
    leaders = [p for p in people if p.role == "leader"]
    involved = [p for p in people if p.role != "leader"]
    linked = await _linked_measures(session, measures, escalations)
    unit_of_plan = await repository.units_of_plans(
        session,
        plan_ids=sorted(
            {m.plan_id for m in linked.values()}
            | {e.from_plan_id for e in escalations}
            | {e.to_plan_id for e in escalations}
        ),
    )
    names = await _names(
        session,
        context,
        [
            *(e.recorded_by for e in entries),
            *(m.responsible_person_id for m in [*measures, *offers] if m.responsible_person_id),
            *(c.person_id for c in comments),
            *(h.person_id for h in history),
            *_people_in(history),
            *(v.completed_by for v in versions),
            *(e.escalated_by for e in escalations),
            *(e.decided_by for e in escalations if e.decided_by),
        ],
        unit_of_plan.values(),
        language,
    )

    words = history_text.Words(
        language,
        ref_name=lambda ref: texts.name(ref) or ref,
        person_name=lambda person: names.person(person).name,
        unit_name=lambda unit: names.units.get(unit),
    )

    def escalation_public(e: Escalation) -> EscalationPublic:
        return _escalation(
            e, {**linked, **{m.measure_id: m for m in measures}}, unit_of_plan, names
        )

    def link(measure_id: str | None) -> MeasureLink | None:
        other = linked.get(measure_id) if measure_id else None
        if other is None:
            return None
        return MeasureLink(
            measure_id=other.measure_id,
            plan_id=other.plan_id,
            unit=names.unit(unit_of_plan.get(other.plan_id, "?")),
        )

    latest = {e.measure_id: e for e in escalations}
    public_measures = [
        measure_public(
            m, names, escalation=latest.get(m.measure_id), to_public=escalation_public, link=link
        )
        for m in measures
    ]
    return PlanPublic(
        plan_id=plan.plan_id,
        period_id=plan.period_id,
        period_name=context.period.name,
        unit=UnitRef(unit_id=context.unit.unit_id, name=context.unit.name),
        parent=(
            UnitRef(unit_id=context.parent.unit_id, name=context.parent.name)
            if context.parent
            else None
        ),
        deadline=plan.deadline,
        status=quality.status(version=plan.version, measure_statuses=[m.status for m in measures]),
        version=plan.version,
        revision=plan.revision,
        changed_since_version=plan.changed_since_version,
        desired_quality=not missing,
        missing=missing,
        focus=FocusPublic(
            source=plan.focus_source,  # type: ignore[arg-type]
            source_unit=names.unit(plan.focus_source_unit_id)
            if plan.focus_source_unit_id
            else None,
            areas=[
                FocusAreaPublic(
                    ref_id=a.ref_id,
                    kind=a.kind,  # type: ignore[arg-type]
                    text=texts.name(a.ref_id) or a.ref_id,
                    factor_id=a.factor_id,
                    factor_name=texts.name(a.factor_id),
                    decision=a.decision,  # type: ignore[arg-type]
                )
                for a in areas
            ],
        ),
        dialogue=[
            DialoguePublic(
                entry_id=e.entry_id,
                step=e.step,  # type: ignore[arg-type]
                held_on=e.held_on,
                note=e.note,
                recorded_by=names.person(e.recorded_by),
                recorded_at=e.recorded_at,
            )
            for e in entries
        ],
        measures=public_measures,
        incoming=[escalation_public(e) for e in escalations if e.to_plan_id == plan.plan_id],
        comments=[
            CommentPublic(
                comment_id=c.comment_id, by=names.person(c.person_id), text=c.text, at=c.at
            )
            for c in comments
        ],
        history=[
            HistoryPublic(
                at=h.at,
                by=names.person(h.person_id),
                action=h.action,
                params=h.params,
                text=history_text.text(h.action, h.params, h.summary, words),
                summary=(h.summary or "")
                if h.params is None
                else history_text.summary(h.action, h.params),
                measure_id=h.measure_id,
            )
            for h in history
        ],
        versions=[_version_ref(v, names) for v in versions],
        leaders=[PersonRef(person_id=p.person_id, name=p.name) for p in leaders],
        involved=[PersonRef(person_id=p.person_id, name=p.name) for p in involved],
        carry_over=[
            measure_public(m, names, escalation=None, to_public=escalation_public, link=link)
            for m in offers
        ],
        access=AccessPublic(
            edit=context.access.edit, comment=context.access.comment, as_=context.access.as_
        ),
    )


def _people_in(history: Sequence[HistoryEntry]) -> list[str]:
    """The responsible people a history entry's changes name (shown by name)."""
    return [
        str(value)
        for h in history
        if h.params and h.action == "measure_changed"
        for change in h.params["changes"]
        if change["field"] == "responsible_person_id"
        for value in (change.get("before"), change.get("after"))
        if value
    ]


def _checklist(
    measures: Sequence[Measure], entries: Sequence[DialogueEntry], areas: Sequence[FocusArea]
) -> list[str]:
    """`context.checklist` from the rows the view has loaded already (no more queries)."""
    return quality.missing(
        staff_discussed=any(e.step == "staff" for e in entries),
        measures=[
            quality.MeasureFacts(
                responsible=m.responsible_person_id is not None,
                deadline=m.deadline is not None,
                desired_effect=m.desired_effect != "",
                linked_id=m.linked_id,
                status=m.status,
                escalated_away=m.escalated_to_measure_id is not None,
            )
            for m in measures
        ],
        focus_refs={
            ref
            for a in areas
            if a.decision != "dismissed"
            for ref in (a.ref_id, a.factor_id)
            if ref
        },
    )


def _version_ref(v: PlanVersion, names: Names) -> VersionRef:
    return VersionRef(
        version=v.version, completed_at=v.completed_at, completed_by=names.person(v.completed_by)
    )


def measure_public(
    m: Measure,
    names: Names,
    *,
    escalation: Escalation | None,
    to_public: Callable[[Escalation], EscalationPublic],
    link: Callable[[str | None], MeasureLink | None],
) -> MeasurePublic:
    return MeasurePublic(
        measure_id=m.measure_id,
        plan_id=m.plan_id,
        category=m.category,  # type: ignore[arg-type]
        linked_id=m.linked_id,
        title=m.title,
        description=m.description,
        responsible_person_id=m.responsible_person_id,
        responsible=names.person(m.responsible_person_id) if m.responsible_person_id else None,
        deadline=m.deadline,
        desired_effect=m.desired_effect,
        extra_resources=m.extra_resources,
        continued=m.continued,
        status=m.status,  # type: ignore[arg-type]
        cancel_reason=m.cancel_reason,
        done_on=m.done_on,
        evaluation_done=m.evaluation_done,
        evaluation_observed=m.evaluation_observed,
        evaluation_decision=m.evaluation_decision,  # type: ignore[arg-type]
        revision=m.revision,
        origin=link(m.origin_measure_id),
        escalated_to=link(m.escalated_to_measure_id),
        escalation=to_public(escalation) if escalation else None,
        carried_from_measure_id=m.carried_from_measure_id,
        created_at=m.created_at,
    )


async def _linked_measures(
    session: AsyncSession, measures: Sequence[Measure], escalations: Sequence[Escalation]
) -> dict[str, Measure]:
    """The measures of other plans that these link to (origin, escalated to) or that
    were lifted to this plan."""
    wanted = {
        *(m.origin_measure_id for m in measures if m.origin_measure_id),
        *(m.escalated_to_measure_id for m in measures if m.escalated_to_measure_id),
        *(e.measure_id for e in escalations),
    }
    return await repository.measures_by_id(session, measure_ids=sorted(wanted))


async def carry_over_offers(session: AsyncSession, context: PlanContext) -> list[Measure]:
    """Unfinished measures of the unit's plan in the previous period, not carried yet."""
    previous = await repository.previous_period(session, period=context.period)
    if previous is None:
        return []
    before = await repository.plan_of_unit(
        session, period_id=previous.period_id, unit_id=context.plan.unit_id
    )
    if before is None:
        return []
    carried = await repository.carried_from(session, plan_id=context.plan.plan_id)
    return [
        m
        for m in await repository.measures(session, plan_id=before.plan_id)
        if m.status not in quality.FINISHED
        and m.escalated_to_measure_id is None
        and m.measure_id not in carried
    ]


async def responsible_candidates(
    session: AsyncSession, *, plan_id: str, person_id: str
) -> list[PersonRef]:
    """Who a measure of the plan can be given to (the measure form's choices): the plan's
    unit's people in the period's directory, as `person_id` may see the plan."""
    context = await load(session, plan_id=plan_id, person_id=person_id)
    people = await repository.people_of_unit(
        session, period_id=context.plan.period_id, unit_id=context.plan.unit_id
    )
    return [PersonRef(person_id=p.person_id, name=p.name) for p in people]
