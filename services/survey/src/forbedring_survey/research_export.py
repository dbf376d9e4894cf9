"""The research export: the background variables (gender, age band, profession group, …)
per unit, for HR staff — the only way they leave the service (`docs/anonymity.md`, "The
research export").

Rows come from `background_answers`, which shares nothing with the answers (its own random
ids, no response id), so the export cannot be joined to any response. Only for a closed
period, so repeated exports cannot be differenced over time; a unit with fewer than k rows
is left out whole.
"""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.spreadsheet import safe_cell
from forbedring_survey import repository
from forbedring_survey.domain.questionnaire import load_questionnaire
from forbedring_survey.errors import Conflict, NotFound


@dataclass(frozen=True)
class ResearchExport:
    csv_text: str
    units_included: int
    units_withheld: int
    rows: int


async def research_export(session: AsyncSession, *, period_id: str) -> ResearchExport:
    period = await repository.get_period(session, period_id=period_id)
    if period is None:
        raise NotFound(f"There is no period {period_id!r}.")
    if period.status != "closed":
        raise Conflict("The research export is available once the period has closed.")
    questions = [
        q.id for q in load_questionnaire(period.questionnaire_version).background.questions
    ]
    names = {
        unit.unit_id: unit.name for unit in await repository.units_of(session, period_id=period_id)
    }

    per_unit: dict[str, list[dict[str, str]]] = defaultdict(list)
    for unit_id, answers in await repository.background_rows(session, period_id=period_id):
        per_unit[unit_id].append(answers)
    included = {u: rows for u, rows in per_unit.items() if len(rows) >= period.k}

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["unit_id", "unit_name", *questions])
    for unit_id in sorted(included):
        for answers in included[unit_id]:
            writer.writerow(
                [
                    safe_cell(unit_id),
                    safe_cell(names.get(unit_id, "")),
                    *(answers.get(q, "") for q in questions),
                ]
            )
    return ResearchExport(
        csv_text=out.getvalue(),
        units_included=len(included),
        units_withheld=len(per_unit) - len(included),
        rows=sum(len(rows) for rows in included.values()),
    )
