"""The import's entry points: read the files into rows, read each row's fields, check
across rows, and build the :class:`Organisation`, refusing with every problem found."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeGuard

from forbedring_survey.domain.org_import.checks import check_structure, sorted_problems
from forbedring_survey.domain.org_import.fields import read_fields
from forbedring_survey.domain.org_import.organisation import (
    Assignment,
    Organisation,
    Person,
    RoleAssignment,
    Unit,
)
from forbedring_survey.domain.org_import.reading import Source, read_csv_files, read_json
from forbedring_survey.domain.org_import.vocabulary import (
    CSV_FILE_NAMES,
    ROLES,
    ImportProblem,
    ImportRefused,
    Role,
    Table,
)


def parse_csv_files(files: Mapping[str, str | bytes]) -> Organisation:
    """Import four CSV files, given as file name -> content.

    The names pick the table: ``units.csv``, ``people.csv``, ``assignments.csv`` and
    ``roles.csv`` (case-insensitive, any directory part ignored). Raises
    :class:`ImportRefused` with every problem found, including missing or unknown files.
    """
    return _build(*read_csv_files(files))


def parse_csv(
    *, units: str | bytes, people: str | bytes, assignments: str | bytes, roles: str | bytes
) -> Organisation:
    """:func:`parse_csv_files` with the four tables as keyword arguments; problems name
    the files ``units.csv``, ``people.csv``, ``assignments.csv``, ``roles.csv``."""
    return parse_csv_files(
        {
            CSV_FILE_NAMES["units"]: units,
            CSV_FILE_NAMES["people"]: people,
            CSV_FILE_NAMES["assignments"]: assignments,
            CSV_FILE_NAMES["roles"]: roles,
        }
    )


def parse_json(data: str | bytes, *, file_name: str = "organisation.json") -> Organisation:
    """Import one JSON document ``{"units": [...], "people": [...], "assignments": [...],
    "roles": [...]}`` whose arrays hold objects keyed by the CSV column names. Ids may be
    strings or integers; ``position_percent`` a number or a string. Other top-level keys
    and unknown fields are ignored. Raises :class:`ImportRefused` with every problem."""
    return _build(*read_json(data, file_name=file_name))


def _build(sources: Mapping[Table, Source], problems: list[ImportProblem]) -> Organisation:
    """The organisation the rows make up, or :class:`ImportRefused` with every problem:
    those of reading the files and those the fields and the checks across rows find."""
    drafts = read_fields(sources, problems)
    check_structure(drafts, problems)
    if problems:
        raise ImportRefused(sorted_problems(problems))
    units = tuple(
        Unit(u.unit_id, u.parent_id, u.name, u.kind)
        for u in drafts.units
        if u.unit_id is not None and u.name is not None and u.kind is not None
    )
    people = tuple(
        Person(p.employee_id, p.name, p.email, p.language)
        for p in drafts.people
        if p.employee_id is not None
        and p.name is not None
        and p.email is not None
        and p.language is not None
    )
    assignments = tuple(
        Assignment(a.employee_id, a.unit_id, a.value)
        for a in drafts.assignments
        if a.employee_id is not None and a.unit_id is not None and isinstance(a.value, float)
    )
    roles = tuple(
        RoleAssignment(r.employee_id, r.unit_id, r.value)
        for r in drafts.roles
        if r.employee_id is not None and r.unit_id is not None and _is_role(r.value)
    )
    return Organisation._validated(units, people, assignments, roles)


def _is_role(value: object) -> TypeGuard[Role]:
    return value in ROLES
