"""The checks that need more than one row: duplicates, the tree (one root, known parents,
no cycles) and references between the tables. Records built in code go through the same
checks as parsed ones (:func:`check_records`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from forbedring_survey.domain.org_import.fields import (
    Drafts,
    LinkDraft,
    PersonDraft,
    UnitDraft,
    read_fields,
)
from forbedring_survey.domain.org_import.reading import Row, Source
from forbedring_survey.domain.org_import.vocabulary import (
    CSV_FILE_NAMES,
    LANGUAGES,
    ROLES,
    TABLES,
    UNIT_KINDS,
    ImportProblem,
    ProblemCode,
    Table,
)

if TYPE_CHECKING:
    from forbedring_survey.domain.org_import.organisation import Organisation


def check_structure(drafts: Drafts, problems: list[ImportProblem]) -> None:
    """Duplicates, the tree and references: the checks that need more than one row."""

    def add(
        table: Table,
        draft: UnitDraft | PersonDraft | LinkDraft | None,
        code: ProblemCode,
        message: str,
        column: str | None = None,
        unit_ids: tuple[str, ...] = (),
    ) -> None:
        problems.append(
            ImportProblem(
                drafts.files.get(table, CSV_FILE_NAMES[table]),
                table,
                None if draft is None else draft.row,
                code,
                message,
                column,
                None if draft is None else draft.spreadsheet_row,
                unit_ids,
            )
        )

    # units: duplicates, parents, roots, cycles
    units: dict[str, UnitDraft] = {}
    for unit in drafts.units:
        if unit.unit_id is None:
            continue
        first = units.get(unit.unit_id)
        if first is not None:
            add(
                "units",
                unit,
                ProblemCode.DUPLICATE_UNIT,
                f"Unit id {unit.unit_id!r} is already used on row {first.row}.",
                "unit_id",
            )
        else:
            units[unit.unit_id] = unit

    parent_of: dict[str, str] = {}
    roots: list[UnitDraft] = []
    for unit_id, unit in units.items():
        if not unit.parent_ok:
            continue
        if unit.parent_id is None:
            roots.append(unit)
        elif unit.parent_id in units:
            parent_of[unit_id] = unit.parent_id
        else:
            add(
                "units",
                unit,
                ProblemCode.UNKNOWN_PARENT,
                f"Unit {unit_id!r} has parent {unit.parent_id!r}, which is not a unit.",
                "parent_id",
            )

    if "units" in drafts.files:
        if not roots:
            add(
                "units",
                None,
                ProblemCode.NO_ROOT,
                "No unit is the root: exactly one unit (the enterprise) must have an empty "
                "parent_id.",
                "parent_id",
            )
        elif len(roots) > 1:
            listed = ", ".join(repr(r.unit_id) for r in roots[:10])
            if len(roots) > 10:
                listed += f" and {len(roots) - 10} more"
            for root in roots:
                add(
                    "units",
                    root,
                    ProblemCode.SEVERAL_ROOTS,
                    f"Unit {root.unit_id!r} has no parent, but only one unit may be the root; "
                    f"{len(roots)} units have none: {listed}.",
                    "parent_id",
                )

    done: set[str] = set()
    for start in units:
        if start in done:
            continue
        path: list[str] = []
        on_path: dict[str, int] = {}
        current: str | None = start
        while current is not None and current not in done and current not in on_path:
            on_path[current] = len(path)
            path.append(current)
            current = parent_of.get(current)
        if current is not None and current in on_path:
            cycle = path[on_path[current] :]
            first_index = min(range(len(cycle)), key=lambda i: units[cycle[i]].row)
            cycle = cycle[first_index:] + cycle[:first_index]
            first_unit = units[cycle[0]]
            if len(cycle) == 1:
                message = f"Unit {cycle[0]!r} is its own parent."
            else:
                chain = " -> ".join(repr(u) for u in [*cycle, cycle[0]])
                rows = ", ".join(str(units[u].row) for u in cycle)
                message = (
                    f"Units {chain} are each other's parents in a cycle (rows {rows}); "
                    "none of them leads to the root."
                )
            add("units", first_unit, ProblemCode.CYCLE, message, "parent_id", tuple(cycle))
        done.update(path)

    # people: duplicates
    people: dict[str, PersonDraft] = {}
    for person in drafts.people:
        if person.employee_id is None:
            continue
        first_person = people.get(person.employee_id)
        if first_person is not None:
            add(
                "people",
                person,
                ProblemCode.DUPLICATE_PERSON,
                f"Employee id {person.employee_id!r} is already used on row {first_person.row}.",
                "employee_id",
            )
        else:
            people[person.employee_id] = person

    # assignments and roles: references and duplicates
    file_units = drafts.files.get("units", CSV_FILE_NAMES["units"])
    file_people = drafts.files.get("people", CSV_FILE_NAMES["people"])
    have_units = "units" in drafts.files
    have_people = "people" in drafts.files

    def check_references(table: Table, link: LinkDraft) -> None:
        if link.employee_id is not None and have_people and link.employee_id not in people:
            add(
                table,
                link,
                ProblemCode.UNKNOWN_PERSON,
                f"Employee id {link.employee_id!r} is not in {file_people}.",
                "employee_id",
            )
        if link.unit_id is not None and have_units and link.unit_id not in units:
            add(
                table,
                link,
                ProblemCode.UNKNOWN_UNIT,
                f"Unit id {link.unit_id!r} is not in {file_units}.",
                "unit_id",
            )

    seen_assignments: dict[tuple[str, str], int] = {}
    for link in drafts.assignments:
        check_references("assignments", link)
        if link.employee_id is None or link.unit_id is None:
            continue
        key = (link.employee_id, link.unit_id)
        first_row = seen_assignments.setdefault(key, link.row)
        if first_row != link.row:
            add(
                "assignments",
                link,
                ProblemCode.DUPLICATE_ASSIGNMENT,
                f"{link.employee_id!r} is already assigned to unit {link.unit_id!r} on row "
                f"{first_row}; give one row per person and unit.",
            )

    seen_roles: dict[tuple[str, str, str], int] = {}
    for link in drafts.roles:
        check_references("roles", link)
        if link.employee_id is None or link.unit_id is None or not isinstance(link.value, str):
            continue
        role_key = (link.employee_id, link.unit_id, link.value)
        first_row = seen_roles.setdefault(role_key, link.row)
        if first_row != link.row:
            add(
                "roles",
                link,
                ProblemCode.DUPLICATE_ROLE,
                f"{link.employee_id!r} already holds role {link.value} for unit "
                f"{link.unit_id!r} on row {first_row}.",
            )


def sorted_problems(problems: Iterable[ImportProblem]) -> list[ImportProblem]:
    order = {table: index for index, table in enumerate(TABLES)}
    return sorted(
        problems,
        key=lambda p: (
            -1 if p.table is None else order[p.table],
            0 if p.row is None else p.row,
        ),
    )


def check_records(org: Organisation) -> list[ImportProblem]:
    """Validate records built in code (not parsed) exactly as an import would be: the
    same checks, with rows counted by position and the tables named as CSV files."""
    sources: dict[Table, Source] = {
        "units": _source(
            "units",
            (
                {"unit_id": u.unit_id, "parent_id": u.parent_id, "name": u.name, "kind": u.kind}
                for u in org.units
            ),
        ),
        "people": _source(
            "people",
            (
                {
                    "employee_id": p.employee_id,
                    "name": p.name,
                    "email": p.email,
                    "language": p.language,
                }
                for p in org.people
            ),
        ),
        "assignments": _source(
            "assignments",
            (
                {
                    "employee_id": a.employee_id,
                    "unit_id": a.unit_id,
                    "position_percent": a.position_percent,
                }
                for a in org.assignments
            ),
        ),
        "roles": _source(
            "roles",
            (
                {"employee_id": r.employee_id, "unit_id": r.unit_id, "role": r.role}
                for r in org.roles
            ),
        ),
    }
    problems: list[ImportProblem] = []
    drafts = read_fields(sources, problems)
    check_structure(drafts, problems)
    problems.extend(_not_canonical(org))
    return sorted_problems(problems)


def _source(table: Table, rows: Iterable[Mapping[str, object]]) -> Source:
    return Source(
        CSV_FILE_NAMES[table],
        table,
        [Row(number, None, values) for number, values in enumerate(rows, start=1)],
    )


def _not_canonical(org: Organisation) -> Iterable[ImportProblem]:
    """Records built in code must already hold what the parser would produce: text
    without surrounding spaces, ids as text, ``kind``/``language``/``role`` spelt exactly
    as the vocabulary does, and the position a number."""

    def problem(table: Table, row: int, column: str, value: object) -> ImportProblem:
        return ImportProblem(
            CSV_FILE_NAMES[table],
            table,
            row,
            ProblemCode.INVALID_VALUE,
            f"{column} {value!r} is not in canonical form.",
            column,
        )

    def texts(table: Table, row: int, values: Mapping[str, object]) -> Iterable[ImportProblem]:
        for column, value in values.items():
            if value is None and column == "parent_id":
                continue
            if not isinstance(value, str) or value != value.strip():
                yield problem(table, row, column, value)

    for row, unit in enumerate(org.units, start=1):
        yield from texts(
            "units", row, {"unit_id": unit.unit_id, "parent_id": unit.parent_id, "name": unit.name}
        )
        if unit.kind not in UNIT_KINDS:
            yield problem("units", row, "kind", unit.kind)
    for row, person in enumerate(org.people, start=1):
        yield from texts(
            "people",
            row,
            {"employee_id": person.employee_id, "name": person.name, "email": person.email},
        )
        if person.language not in LANGUAGES:
            yield problem("people", row, "language", person.language)
    for row, assignment in enumerate(org.assignments, start=1):
        yield from texts(
            "assignments",
            row,
            {"employee_id": assignment.employee_id, "unit_id": assignment.unit_id},
        )
        position: object = assignment.position_percent
        if not isinstance(position, int | float) or isinstance(position, bool):
            yield problem("assignments", row, "position_percent", position)
    for row, role in enumerate(org.roles, start=1):
        yield from texts("roles", row, {"employee_id": role.employee_id, "unit_id": role.unit_id})
        if role.role not in ROLES:
            yield problem("roles", row, "role", role.role)
