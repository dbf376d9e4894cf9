"""Organisation and staff import: parse and validate what an HR system exports.

Pure logic: the caller hands over text or bytes; nothing here touches a file system, a
database or the network. Four tables make up an import:

``units``        ``unit_id, parent_id, name, kind`` (``level`` is accepted for ``kind``)
``people``       ``employee_id, name, email, language``
``assignments``  ``employee_id, unit_id, position_percent``
``roles``        ``employee_id, unit_id, role``

They arrive either as four CSV files named ``units.csv``, ``people.csv``,
``assignments.csv`` and ``roles.csv`` (:func:`parse_csv_files`) or as one JSON document
``{"units": [...], "people": [...], "assignments": [...], "roles": [...]}``
(:func:`parse_json`), each table an array of objects keyed by the same column names.

CSV: a header row, then one row per record. Comma, semicolon (what Norwegian Excel writes)
and tab delimiters are recognised from the header row, as is Excel's ``sep=;`` first line.
UTF-8 with or without a byte order mark. Column names are case-insensitive, unknown
columns are ignored, blank rows are skipped, cells are trimmed. Position percentages may
use a decimal comma (``50,5``) and a trailing ``%``.

Values: ``kind`` is one of ``enterprise``, ``division``, ``department``, ``section``,
``cost_centre`` (case-insensitive; the HR level codes ``1``, ``2.1``, ``2.2``, ``3``, ``4``
and the Norwegian ``foretak``, ``klinikk``, ``divisjon``, ``avdeling``, ``seksjon``,
``kostnadssted`` are accepted too). ``language`` is ``nb``, ``nn`` or ``en``. ``role`` is
``leader``, ``safety_rep``, ``union_rep`` or ``hr_admin``. An empty ``parent_id`` (JSON:
``null`` or absent) marks the root. Ids are 1-64 characters.

All or nothing: :func:`parse_csv_files` and :func:`parse_json` either return a valid
:class:`Organisation` or raise :class:`ImportRefused` carrying every problem found, each
with its file, row and a stable :class:`ProblemCode`. Row numbers count data rows from 1:
``row=1`` is the first record after the CSV header (in a spreadsheet program, where the
header is row 1, that record shows as row 2 - :attr:`ImportProblem.spreadsheet_row` gives
that number too) or the first object of a JSON array.

Validation is linear in the size of the import (dicts and sets only).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal, TypeGuard, TypeVar, get_args

# --- vocabulary ------------------------------------------------------------------------

UnitKind = Literal["enterprise", "division", "department", "section", "cost_centre"]
"""Where a unit sits in the tree: enterprise (the trust, "HF") > division/clinic >
department > section > cost centre ("kostnadssted", where people are employed)."""

Language = Literal["nb", "nn", "en"]
"""Norwegian bokmål, Norwegian nynorsk, English (the same values as the event contracts)."""

Role = Literal["leader", "safety_rep", "union_rep", "hr_admin"]
"""A person's role for a unit (the same values as the event contracts)."""

Table = Literal["units", "people", "assignments", "roles"]
"""One of the four tables of an import."""

TABLES: Final[tuple[Table, ...]] = get_args(Table)
UNIT_KINDS: Final[tuple[UnitKind, ...]] = get_args(UnitKind)
LANGUAGES: Final[tuple[Language, ...]] = get_args(Language)
ROLES: Final[tuple[Role, ...]] = get_args(Role)

HR_LEVELS: Final[Mapping[UnitKind, str]] = MappingProxyType(
    {
        "enterprise": "1",
        "division": "2.1",
        "department": "2.2",
        "section": "3",
        "cost_centre": "4",
    }
)
"""The level code HR uses for each kind (the event contracts' ``Unit.level``)."""

COLUMNS: Final[Mapping[Table, tuple[str, ...]]] = MappingProxyType(
    {
        "units": ("unit_id", "parent_id", "name", "kind"),
        "people": ("employee_id", "name", "email", "language"),
        "assignments": ("employee_id", "unit_id", "position_percent"),
        "roles": ("employee_id", "unit_id", "role"),
    }
)
"""The required columns of each table, in the order :func:`to_csv_files` writes them."""

CSV_FILE_NAMES: Final[Mapping[Table, str]] = MappingProxyType(
    {table: f"{table}.csv" for table in TABLES}
)

MAX_ID_LENGTH: Final = 64

_COLUMN_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {"kind": ("kind", "level")}

_KIND_ALIASES: Final[Mapping[str, UnitKind]] = {
    **{kind: kind for kind in UNIT_KINDS},
    "cost_center": "cost_centre",
    "costcentre": "cost_centre",
    "costcenter": "cost_centre",
    "clinic": "division",
    **{code: kind for kind, code in HR_LEVELS.items()},
    "foretak": "enterprise",
    "helseforetak": "enterprise",
    "hf": "enterprise",
    "klinikk": "division",
    "divisjon": "division",
    "avdeling": "department",
    "seksjon": "section",
    "kostnadssted": "cost_centre",
}


class ProblemCode(StrEnum):
    """Why an import was refused. The values are stable: clients may switch on them."""

    # the files themselves
    UNREADABLE_FILE = "unreadable_file"
    """Not UTF-8, empty, not valid JSON, or CSV the reader cannot follow."""
    INVALID_STRUCTURE = "invalid_structure"
    """JSON of the wrong shape: not an object of arrays of objects."""
    MISSING_TABLE = "missing_table"
    """One of the four tables (CSV file or JSON key) is absent."""
    UNKNOWN_TABLE = "unknown_table"
    """A CSV file whose name is none of units/people/assignments/roles.csv."""
    MISSING_COLUMN = "missing_column"
    """The CSV header lacks a required column."""
    DUPLICATE_COLUMN = "duplicate_column"
    """The CSV header names a column twice."""
    TOO_MANY_VALUES = "too_many_values"
    """A CSV row has more non-empty cells than the header has columns."""
    # one field of one row
    MISSING_VALUE = "missing_value"
    """A required field is empty, null or absent."""
    INVALID_VALUE = "invalid_value"
    """A JSON value of the wrong type (e.g. an object where text belongs)."""
    INVALID_ID = "invalid_id"
    """An id longer than 64 characters or containing control characters."""
    UNKNOWN_LEVEL = "unknown_level"
    INVALID_EMAIL = "invalid_email"
    INVALID_LANGUAGE = "invalid_language"
    INVALID_ROLE = "invalid_role"
    POSITION_NOT_A_NUMBER = "position_not_a_number"
    POSITION_OUT_OF_RANGE = "position_out_of_range"
    # several rows together
    DUPLICATE_UNIT = "duplicate_unit"
    DUPLICATE_PERSON = "duplicate_person"
    DUPLICATE_ASSIGNMENT = "duplicate_assignment"
    """The same person assigned to the same unit twice."""
    DUPLICATE_ROLE = "duplicate_role"
    """The same (person, unit, role) twice."""
    UNKNOWN_PARENT = "unknown_parent"
    CYCLE = "cycle"
    """Units whose parents lead round in a circle; ``unit_ids`` lists them."""
    NO_ROOT = "no_root"
    SEVERAL_ROOTS = "several_roots"
    """Reported once for each unit without a parent."""
    UNKNOWN_UNIT = "unknown_unit"
    """An assignment or role for a unit that is not in the units table."""
    UNKNOWN_PERSON = "unknown_person"
    """An assignment or role for a person who is not in the people table."""


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One reason an import was refused.

    ``file`` is the file as the caller named it (``units.csv``, ``organisation.json``);
    ``table`` which of the four tables the problem is in (``None`` when the whole file is
    unreadable). ``row`` is the 1-based data row: 1 is the first record after the CSV
    header, or the first object of the JSON array; ``None`` when the problem is not about
    one row (a missing column, no root). ``spreadsheet_row`` is where a spreadsheet
    program shows that CSV row (the header being row 1, so usually ``row + 1``); ``None``
    for JSON. ``column`` names the field at fault, if one is. ``unit_ids`` lists the units
    of a cycle, in parent order starting from the earliest row.
    """

    file: str
    table: Table | None
    row: int | None
    code: ProblemCode
    message: str
    column: str | None = None
    spreadsheet_row: int | None = None
    unit_ids: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
            if self.spreadsheet_row is not None:
                where += f" (spreadsheet row {self.spreadsheet_row})"
        return f"{where}: [{self.code}] {self.message}"

    def to_dict(self) -> dict[str, object]:
        """The problem as plain JSON-ready data, e.g. for an API error body."""
        return {
            "file": self.file,
            "table": self.table,
            "row": self.row,
            "spreadsheet_row": self.spreadsheet_row,
            "column": self.column,
            "code": self.code.value,
            "message": self.message,
            "unit_ids": list(self.unit_ids),
        }


class ImportRefused(ValueError):
    """The import was refused as a whole; ``problems`` lists every reason, in file and
    row order."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        self.problems: list[ImportProblem] = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:20])
        more = len(self.problems) - 20
        if more > 0:
            shown += f"\n  ... and {more} more"
        super().__init__(f"organisation import refused, {len(self.problems)} problem(s):\n{shown}")


# --- records ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unit:
    unit_id: str
    parent_id: str | None
    name: str
    kind: UnitKind

    @property
    def level(self) -> str:
        """The HR level code of the unit's kind (``1``, ``2.1``, ``2.2``, ``3``, ``4``)."""
        return HR_LEVELS[self.kind]


@dataclass(frozen=True, slots=True)
class Person:
    employee_id: str
    name: str
    email: str
    language: Language


@dataclass(frozen=True, slots=True)
class Assignment:
    employee_id: str
    unit_id: str
    position_percent: float


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    employee_id: str
    unit_id: str
    role: Role


@dataclass(frozen=True, slots=True)
class Invitation:
    """One survey to answer: a person, for one unit they are assigned to above 0 %."""

    employee_id: str
    unit_id: str
    position_percent: float


# --- the organisation ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class Organisation:
    """A validated organisation: the unit tree, its people, their assignments and roles.

    Constructing one validates it (raising :class:`ImportRefused`), so every
    ``Organisation`` is a single tree with known references and no duplicates. Equality
    compares the four tables, order included.
    """

    units: tuple[Unit, ...]
    people: tuple[Person, ...]
    assignments: tuple[Assignment, ...]
    roles: tuple[RoleAssignment, ...]

    _units_by_id: Mapping[str, Unit] = field(init=False, repr=False, compare=False)
    _people_by_id: Mapping[str, Person] = field(init=False, repr=False, compare=False)
    _children: Mapping[str, tuple[Unit, ...]] = field(init=False, repr=False, compare=False)
    _postorder: tuple[Unit, ...] = field(init=False, repr=False, compare=False)
    _invitations: tuple[Invitation, ...] = field(init=False, repr=False, compare=False)
    _eligible: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _assignments_by_person: Mapping[str, tuple[Assignment, ...]] = field(
        init=False, repr=False, compare=False
    )
    _roles_by_person: Mapping[str, tuple[RoleAssignment, ...]] = field(
        init=False, repr=False, compare=False
    )
    _roles_by_unit: Mapping[str, tuple[RoleAssignment, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for name in ("units", "people", "assignments", "roles"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        problems = _check_records(self)
        if problems:
            raise ImportRefused(problems)
        self._index()

    @classmethod
    def _validated(
        cls,
        units: tuple[Unit, ...],
        people: tuple[Person, ...],
        assignments: tuple[Assignment, ...],
        roles: tuple[RoleAssignment, ...],
    ) -> Organisation:
        """An organisation from records the importer has just validated, without checking
        them a second time."""
        org = object.__new__(cls)
        object.__setattr__(org, "units", units)
        object.__setattr__(org, "people", people)
        object.__setattr__(org, "assignments", assignments)
        object.__setattr__(org, "roles", roles)
        org._index()
        return org

    def _index(self) -> None:
        units_by_id = {u.unit_id: u for u in self.units}
        children: dict[str, list[Unit]] = {u.unit_id: [] for u in self.units}
        for unit in self.units:
            if unit.parent_id is not None:
                children[unit.parent_id].append(unit)
        frozen_children = {uid: tuple(kids) for uid, kids in children.items()}

        root = next(u for u in self.units if u.parent_id is None)
        postorder: list[Unit] = []
        stack: list[tuple[Unit, bool]] = [(root, False)]
        while stack:
            unit, expanded = stack.pop()
            if expanded:
                postorder.append(unit)
                continue
            stack.append((unit, True))
            stack.extend((child, False) for child in reversed(frozen_children[unit.unit_id]))

        invitations = tuple(
            Invitation(a.employee_id, a.unit_id, a.position_percent)
            for a in self.assignments
            if a.position_percent > 0
        )
        eligible = dict.fromkeys(units_by_id, 0)
        for invitation in invitations:
            eligible[invitation.unit_id] += 1

        object.__setattr__(self, "_units_by_id", MappingProxyType(units_by_id))
        object.__setattr__(
            self, "_people_by_id", MappingProxyType({p.employee_id: p for p in self.people})
        )
        object.__setattr__(self, "_children", MappingProxyType(frozen_children))
        object.__setattr__(self, "_postorder", tuple(postorder))
        object.__setattr__(self, "_invitations", invitations)
        object.__setattr__(self, "_eligible", MappingProxyType(eligible))
        object.__setattr__(
            self, "_assignments_by_person", _group(self.assignments, lambda a: a.employee_id)
        )
        object.__setattr__(self, "_roles_by_person", _group(self.roles, lambda r: r.employee_id))
        object.__setattr__(self, "_roles_by_unit", _group(self.roles, lambda r: r.unit_id))

    def __repr__(self) -> str:
        return (
            f"Organisation(root={self.root.unit_id!r}, {len(self.units)} units, "
            f"{len(self.people)} people, {len(self.assignments)} assignments, "
            f"{len(self.roles)} roles)"
        )

    # units and the tree

    @property
    def root(self) -> Unit:
        """The one unit without a parent."""
        return self._postorder[-1]

    def unit(self, unit_id: str) -> Unit:
        """The unit with this id (``KeyError`` if there is none)."""
        return self._units_by_id[unit_id]

    def has_unit(self, unit_id: str) -> bool:
        return unit_id in self._units_by_id

    def parent(self, unit_id: str) -> Unit | None:
        """The unit's parent; ``None`` for the root."""
        parent_id = self._units_by_id[unit_id].parent_id
        return None if parent_id is None else self._units_by_id[parent_id]

    def children(self, unit_id: str) -> tuple[Unit, ...]:
        """The unit's direct sub-units, in import order."""
        return self._children[unit_id]

    def ancestors(self, unit_id: str) -> tuple[Unit, ...]:
        """The units above this one: its parent first, the root last (empty for the root)."""
        found: list[Unit] = []
        parent_id = self._units_by_id[unit_id].parent_id
        while parent_id is not None:
            parent = self._units_by_id[parent_id]
            found.append(parent)
            parent_id = parent.parent_id
        return tuple(found)

    def depth(self, unit_id: str) -> int:
        """0 for the root, 1 for its children, and so on."""
        return len(self.ancestors(unit_id))

    def postorder(self) -> tuple[Unit, ...]:
        """Every unit, each after all of its sub-units (the root last): the order in which
        to add counts up the tree. Siblings keep import order."""
        return self._postorder

    def preorder(self) -> tuple[Unit, ...]:
        """Every unit, each before its sub-units (the root first); siblings in import
        order."""
        return self.subtree(self.root.unit_id)

    def subtree(self, unit_id: str) -> tuple[Unit, ...]:
        """The unit and everything below it, in preorder."""
        found: list[Unit] = []
        stack = [self._units_by_id[unit_id]]
        while stack:
            unit = stack.pop()
            found.append(unit)
            stack.extend(reversed(self._children[unit.unit_id]))
        return tuple(found)

    # people, assignments and roles

    def person(self, employee_id: str) -> Person:
        """The person with this employee id (``KeyError`` if there is none)."""
        return self._people_by_id[employee_id]

    def has_person(self, employee_id: str) -> bool:
        return employee_id in self._people_by_id

    def assignments_of(self, employee_id: str) -> tuple[Assignment, ...]:
        """The person's assignments, in import order (empty for an unknown id)."""
        return self._assignments_by_person.get(employee_id, ())

    def roles_of(self, employee_id: str) -> tuple[RoleAssignment, ...]:
        """Every role the person holds, for any unit (empty for an unknown id)."""
        return self._roles_by_person.get(employee_id, ())

    def roles_for(self, unit_id: str) -> tuple[RoleAssignment, ...]:
        """Every role held for this unit itself, not its sub-units."""
        return self._roles_by_unit.get(unit_id, ())

    def holders(self, unit_id: str, role: Role) -> tuple[Person, ...]:
        """The people holding ``role`` for this unit."""
        return tuple(
            self._people_by_id[r.employee_id] for r in self.roles_for(unit_id) if r.role == role
        )

    # invitations

    def invitations(self) -> tuple[Invitation, ...]:
        """One invitation per assignment with a position above 0 %: someone in two units
        answers twice, once for each; someone at 0 % is not invited."""
        return self._invitations

    def eligible_counts(self) -> Mapping[str, int]:
        """Invitations per unit id for the unit itself, not its sub-units (every unit is
        present, 0 when nobody is invited there)."""
        return self._eligible

    def eligible(self, unit_id: str) -> int:
        """Invitations for the unit itself, not its sub-units."""
        return self._eligible[unit_id]

    def eligible_including_subunits(self) -> Mapping[str, int]:
        """Invitations per unit id for the unit and everything below it."""
        totals = dict(self._eligible)
        for unit in self._postorder:
            if unit.parent_id is not None:
                totals[unit.parent_id] += totals[unit.unit_id]
        return MappingProxyType(totals)


_T = TypeVar("_T")


def _group(items: Iterable[_T], key: Callable[[_T], str]) -> Mapping[str, tuple[_T, ...]]:
    groups: dict[str, list[_T]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return MappingProxyType({k: tuple(v) for k, v in groups.items()})


# --- parsing ---------------------------------------------------------------------------


def parse_csv_files(files: Mapping[str, str | bytes]) -> Organisation:
    """Import four CSV files, given as file name -> content.

    The names pick the table: ``units.csv``, ``people.csv``, ``assignments.csv`` and
    ``roles.csv`` (case-insensitive, any directory part ignored). Raises
    :class:`ImportRefused` with every problem found, including missing or unknown files.
    """
    problems: list[ImportProblem] = []
    sources: dict[Table, _Source] = {}
    for file_name, data in files.items():
        table = _table_of_file(file_name)
        if table is None:
            problems.append(
                ImportProblem(
                    file_name,
                    None,
                    None,
                    ProblemCode.UNKNOWN_TABLE,
                    f"File {file_name!r} is not one of the import's files: "
                    + ", ".join(CSV_FILE_NAMES.values())
                    + ".",
                )
            )
            continue
        if table in sources:
            problems.append(
                ImportProblem(
                    file_name,
                    table,
                    None,
                    ProblemCode.UNKNOWN_TABLE,
                    f"File {file_name!r} is a second {table} file; "
                    f"{sources[table].file!r} already gives the {table}.",
                )
            )
            continue
        source = _read_csv(file_name, table, data, problems)
        if source is not None:
            sources[table] = source
    for table in TABLES:
        if table not in sources and not any(p.table == table for p in problems):
            problems.append(
                ImportProblem(
                    CSV_FILE_NAMES[table],
                    table,
                    None,
                    ProblemCode.MISSING_TABLE,
                    f"The import has no {CSV_FILE_NAMES[table]} "
                    f"(columns: {', '.join(COLUMNS[table])}).",
                )
            )
    return _validate(sources, problems)


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
    problems: list[ImportProblem] = []
    sources: dict[Table, _Source] = {}
    text = _decode(file_name, None, data, problems)
    if text is None:
        return _validate(sources, problems)
    try:
        document: object = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(
            ImportProblem(
                file_name,
                None,
                None,
                ProblemCode.UNREADABLE_FILE,
                f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            )
        )
        return _validate(sources, problems)
    if not isinstance(document, dict):
        problems.append(
            ImportProblem(
                file_name,
                None,
                None,
                ProblemCode.INVALID_STRUCTURE,
                'Expected a JSON object {"units": [...], "people": [...], '
                '"assignments": [...], "roles": [...]}.',
            )
        )
        return _validate(sources, problems)
    for table in TABLES:
        if table not in document:
            problems.append(
                ImportProblem(
                    file_name,
                    table,
                    None,
                    ProblemCode.MISSING_TABLE,
                    f'The document has no "{table}" array.',
                )
            )
            continue
        rows_value = document[table]
        if not isinstance(rows_value, list):
            problems.append(
                ImportProblem(
                    file_name,
                    table,
                    None,
                    ProblemCode.INVALID_STRUCTURE,
                    f'"{table}" must be an array of objects.',
                )
            )
            continue
        rows: list[_Row] = []
        for number, item in enumerate(rows_value, start=1):
            if isinstance(item, dict):
                rows.append(_Row(number, None, item))
            else:
                problems.append(
                    ImportProblem(
                        file_name,
                        table,
                        number,
                        ProblemCode.INVALID_STRUCTURE,
                        f"Element {number} of {table!r} is not an object.",
                    )
                )
        sources[table] = _Source(file_name, table, rows)
    return _validate(sources, problems)


# --- serialising -----------------------------------------------------------------------


def to_rows(org: Organisation) -> dict[Table, list[dict[str, str | float | None]]]:
    """The organisation as the four tables of plain values (JSON's shape)."""
    return {
        "units": [
            {"unit_id": u.unit_id, "parent_id": u.parent_id, "name": u.name, "kind": u.kind}
            for u in org.units
        ],
        "people": [
            {"employee_id": p.employee_id, "name": p.name, "email": p.email, "language": p.language}
            for p in org.people
        ],
        "assignments": [
            {
                "employee_id": a.employee_id,
                "unit_id": a.unit_id,
                "position_percent": _plain_number(a.position_percent),
            }
            for a in org.assignments
        ],
        "roles": [
            {"employee_id": r.employee_id, "unit_id": r.unit_id, "role": r.role} for r in org.roles
        ],
    }


def to_csv_files(
    org: Organisation, *, delimiter: str = ",", byte_order_mark: bool = False
) -> dict[str, str]:
    """The organisation as the four CSV files :func:`parse_csv_files` reads back, file
    name -> text. ``delimiter=";"`` and ``byte_order_mark=True`` give what Norwegian Excel
    writes."""
    files: dict[str, str] = {}
    for table, rows in to_rows(org).items():
        buffer = io.StringIO()
        if byte_order_mark:
            buffer.write("\ufeff")
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
        columns = COLUMNS[table]
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else str(row[c]) for c in columns])
        files[CSV_FILE_NAMES[table]] = buffer.getvalue()
    return files


def to_json(org: Organisation, *, indent: int | None = None) -> str:
    """The organisation as the JSON document :func:`parse_json` reads back."""
    return json.dumps(to_rows(org), ensure_ascii=False, indent=indent)


def _plain_number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


# --- internals: reading ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    number: int
    spreadsheet_row: int | None
    values: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class _Source:
    file: str
    table: Table
    rows: list[_Row]


def _table_of_file(file_name: str) -> Table | None:
    base = file_name.replace("\\", "/").rsplit("/", 1)[-1].strip().lower()
    for table, expected in CSV_FILE_NAMES.items():
        if base == expected:
            return table
    return None


def _decode(
    file_name: str, table: Table | None, data: str | bytes, problems: list[ImportProblem]
) -> str | None:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(
            ImportProblem(
                file_name,
                table,
                None,
                ProblemCode.UNREADABLE_FILE,
                f"The file is not UTF-8 (byte {exc.start + 1} cannot be read). Save it as "
                '"CSV UTF-8" or another UTF-8 format.',
            )
        )
        return None


_SEP_LINE = re.compile(r"sep=(.)\r?", re.IGNORECASE)


def _read_csv(
    file_name: str, table: Table, data: str | bytes, problems: list[ImportProblem]
) -> _Source | None:
    text = _decode(file_name, table, data, problems)
    if text is None:
        return None

    first_line, _, rest = text.partition("\n")
    header_line_count = 1
    sep = _SEP_LINE.fullmatch(first_line)
    if sep is not None:
        delimiter = sep.group(1)
        text = rest
        first_line = rest.partition("\n")[0]
        header_line_count = 2
    else:
        counts = {d: first_line.count(d) for d in (",", ";", "\t")}
        delimiter = max(counts, key=lambda d: counts[d])
        if counts[delimiter] == 0:
            delimiter = ","

    def problem(code: ProblemCode, message: str, column: str | None = None) -> None:
        problems.append(ImportProblem(file_name, table, None, code, message, column))

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            problem(
                ProblemCode.UNREADABLE_FILE,
                f"The file is empty; expected a header row: {','.join(COLUMNS[table])}.",
            )
            return None

        names = [cell.strip().lower() for cell in header]
        positions: dict[str, int] = {}
        for index, name in enumerate(names):
            if not name:
                continue
            if name in positions:
                problem(
                    ProblemCode.DUPLICATE_COLUMN,
                    f"The header names column {name!r} twice.",
                    name,
                )
                continue
            positions[name] = index
        columns: dict[str, int] = {}
        missing = False
        for column in COLUMNS[table]:
            found = next(
                (positions[a] for a in _COLUMN_ALIASES.get(column, (column,)) if a in positions),
                None,
            )
            if found is None:
                missing = True
                problem(
                    ProblemCode.MISSING_COLUMN,
                    f"The header has no {column!r} column (found: "
                    f"{', '.join(n for n in names if n) or 'none'}; "
                    f"delimiter {delimiter!r}).",
                    column,
                )
            else:
                columns[column] = found
        if missing:
            return None

        rows: list[_Row] = []
        width = len(header)
        wanted = tuple(columns.items())
        for number, record in enumerate(reader, start=1):
            if not "".join(record).strip():
                continue
            spreadsheet_row = header_line_count + number
            if len(record) > width and any(cell.strip() for cell in record[width:]):
                problems.append(
                    ImportProblem(
                        file_name,
                        table,
                        number,
                        ProblemCode.TOO_MANY_VALUES,
                        f"The row has {len(record)} values but the header has {width} "
                        "columns (an unquoted delimiter or decimal comma?).",
                        spreadsheet_row=spreadsheet_row,
                    )
                )
            if len(record) >= width:
                values = {column: record[index] for column, index in wanted}
            else:
                values = {column: record[index] for column, index in wanted if index < len(record)}
            rows.append(_Row(number, spreadsheet_row, values))
    except csv.Error as exc:
        problem(
            ProblemCode.UNREADABLE_FILE,
            f"The CSV cannot be read near line {reader.line_num + header_line_count - 1}: {exc}.",
        )
        return None
    return _Source(file_name, table, rows)


# --- internals: checking fields --------------------------------------------------------


_EMAIL: Final = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?P<tld>[A-Za-z]{2,63}))"
)
_SPECIAL_USE_TLDS: Final = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


def is_valid_email(value: str) -> bool:
    """An ASCII address a mail server will take: a dot-atom local part of at most 64
    characters, ``@``, a domain of DNS labels ending in an alphabetic top-level domain
    that is not reserved for special use (``.test``, ``.local``, ...); 254 characters in
    all at most."""
    match = _EMAIL.fullmatch(value)
    return (
        match is not None
        and len(value) <= 254
        and len(match["local"]) <= 64
        and len(match["domain"]) <= 253
        and match["tld"].lower() not in _SPECIAL_USE_TLDS
    )


class _Fields:
    """Reads one row's values, recording a problem for each one at fault."""

    __slots__ = ("_problems", "_row", "_source")

    def __init__(self, source: _Source, problems: list[ImportProblem]) -> None:
        self._source = source
        self._problems = problems

    def at(self, row: _Row) -> _Fields:
        """Read this row next."""
        self._row = row
        return self

    def problem(self, code: ProblemCode, column: str | None, message: str) -> None:
        self._problems.append(
            ImportProblem(
                self._source.file,
                self._source.table,
                self._row.number,
                code,
                message,
                column,
                self._row.spreadsheet_row,
            )
        )

    def _value(self, column: str) -> object:
        values = self._row.values
        aliases = _COLUMN_ALIASES.get(column)
        if aliases is None:
            return values.get(column)
        for name in aliases:
            if name in values:
                return values[name]
        return None

    def _raw_text(self, column: str, *, allow_int: bool, required: bool) -> str | None:
        value = self._value(column)
        if value is None:
            if required:
                self.problem(ProblemCode.MISSING_VALUE, column, f"{column} is missing.")
            return None
        if isinstance(value, int) and not isinstance(value, bool) and allow_int:
            value = str(value)
        if not isinstance(value, str):
            self.problem(
                ProblemCode.INVALID_VALUE,
                column,
                f"{column} must be {'text or an integer' if allow_int else 'text'}, "
                f"not {type(value).__name__}.",
            )
            return None
        value = value.strip()
        if not value:
            if required:
                self.problem(ProblemCode.MISSING_VALUE, column, f"{column} is empty.")
            return None
        return value

    def text(self, column: str) -> str | None:
        return self._raw_text(column, allow_int=False, required=True)

    def id(self, column: str, *, required: bool = True) -> str | None:
        value = self._raw_text(column, allow_int=True, required=required)
        if value is None:
            return None
        if len(value) > MAX_ID_LENGTH:
            self.problem(
                ProblemCode.INVALID_ID,
                column,
                f"{column} {value[:20]!r}... is {len(value)} characters long; "
                f"at most {MAX_ID_LENGTH} are allowed.",
            )
            return None
        if _CONTROL.search(value):
            self.problem(
                ProblemCode.INVALID_ID, column, f"{column} {value!r} contains control characters."
            )
            return None
        return value

    def parent_id(self) -> tuple[str | None, bool]:
        """(parent id or None for the root, whether the field could be read)."""
        before = len(self._problems)
        value = self.id("parent_id", required=False)
        return value, len(self._problems) == before

    def kind(self) -> UnitKind | None:
        value = self.text("kind")
        if value is None:
            return None
        kind = _KIND_ALIASES.get(re.sub(r"[\s-]+", "_", value.lower()))
        if kind is None:
            self.problem(
                ProblemCode.UNKNOWN_LEVEL,
                "kind",
                f"Unknown level {value!r}; expected one of {', '.join(UNIT_KINDS)}.",
            )
        return kind

    def email(self) -> str | None:
        value = self.text("email")
        if value is None:
            return None
        if not is_valid_email(value):
            self.problem(ProblemCode.INVALID_EMAIL, "email", f"{value!r} is not a valid email.")
            return None
        return value

    def language(self) -> Language | None:
        value = self.text("language")
        if value is None:
            return None
        for language in LANGUAGES:
            if value.lower() == language:
                return language
        self.problem(
            ProblemCode.INVALID_LANGUAGE,
            "language",
            f"Unknown language {value!r}; expected nb (bokmål), nn (nynorsk) or en (English).",
        )
        return None

    def role(self) -> Role | None:
        value = self.text("role")
        if value is None:
            return None
        for role in ROLES:
            if value.lower() == role:
                return role
        self.problem(
            ProblemCode.INVALID_ROLE,
            "role",
            f"Unknown role {value!r}; expected one of {', '.join(ROLES)}.",
        )
        return None

    def position(self) -> float | None:
        column = "position_percent"
        value = self._value(column)
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
            shown = repr(value)
        elif value is not None and not isinstance(value, str):
            shown = json.dumps(value) if isinstance(value, bool) else type(value).__name__
        else:
            text = self._raw_text(column, allow_int=False, required=True)
            if text is None:
                return None
            shown = repr(text)
            candidate = text.removesuffix("%").rstrip()
            if _NUMBER.fullmatch(candidate):
                number = float(candidate.replace(",", "."))
        if number is None or not math.isfinite(number):
            self.problem(
                ProblemCode.POSITION_NOT_A_NUMBER,
                column,
                f"Position {shown} is not a number (write e.g. 100, 80 or 50.5).",
            )
            return None
        if not 0 <= number <= 100:
            self.problem(
                ProblemCode.POSITION_OUT_OF_RANGE,
                column,
                f"Position {shown} is outside 0-100 %.",
            )
            return None
        return number


# --- internals: drafts and the checks across rows --------------------------------------


@dataclass(frozen=True, slots=True)
class _UnitDraft:
    row: int
    spreadsheet_row: int | None
    unit_id: str | None
    parent_id: str | None
    parent_ok: bool
    name: str | None
    kind: UnitKind | None


@dataclass(frozen=True, slots=True)
class _PersonDraft:
    row: int
    spreadsheet_row: int | None
    employee_id: str | None
    name: str | None
    email: str | None
    language: Language | None


@dataclass(frozen=True, slots=True)
class _LinkDraft:
    """An assignment (``value`` the position) or a role (``value`` the role)."""

    row: int
    spreadsheet_row: int | None
    employee_id: str | None
    unit_id: str | None
    value: float | Role | None


@dataclass(slots=True)
class _Drafts:
    files: dict[Table, str]
    units: list[_UnitDraft] = field(default_factory=list)
    people: list[_PersonDraft] = field(default_factory=list)
    assignments: list[_LinkDraft] = field(default_factory=list)
    roles: list[_LinkDraft] = field(default_factory=list)


def _read_fields(sources: Mapping[Table, _Source], problems: list[ImportProblem]) -> _Drafts:
    drafts = _Drafts({table: source.file for table, source in sources.items()})
    if (source := sources.get("units")) is not None:
        reader = _Fields(source, problems)
        for row in source.rows:
            f = reader.at(row)
            parent_id, parent_ok = f.parent_id()
            drafts.units.append(
                _UnitDraft(
                    row.number,
                    row.spreadsheet_row,
                    f.id("unit_id"),
                    parent_id,
                    parent_ok,
                    f.text("name"),
                    f.kind(),
                )
            )
    if (source := sources.get("people")) is not None:
        reader = _Fields(source, problems)
        for row in source.rows:
            f = reader.at(row)
            drafts.people.append(
                _PersonDraft(
                    row.number,
                    row.spreadsheet_row,
                    f.id("employee_id"),
                    f.text("name"),
                    f.email(),
                    f.language(),
                )
            )
    if (source := sources.get("assignments")) is not None:
        reader = _Fields(source, problems)
        for row in source.rows:
            f = reader.at(row)
            drafts.assignments.append(
                _LinkDraft(
                    row.number,
                    row.spreadsheet_row,
                    f.id("employee_id"),
                    f.id("unit_id"),
                    f.position(),
                )
            )
    if (source := sources.get("roles")) is not None:
        reader = _Fields(source, problems)
        for row in source.rows:
            f = reader.at(row)
            drafts.roles.append(
                _LinkDraft(
                    row.number,
                    row.spreadsheet_row,
                    f.id("employee_id"),
                    f.id("unit_id"),
                    f.role(),
                )
            )
    return drafts


def _check_structure(drafts: _Drafts, problems: list[ImportProblem]) -> None:
    """Duplicates, the tree and references: the checks that need more than one row."""

    def add(
        table: Table,
        draft: _UnitDraft | _PersonDraft | _LinkDraft | None,
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
    units: dict[str, _UnitDraft] = {}
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
    roots: list[_UnitDraft] = []
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
    people: dict[str, _PersonDraft] = {}
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

    def check_references(table: Table, link: _LinkDraft) -> None:
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


def _sorted(problems: Iterable[ImportProblem]) -> list[ImportProblem]:
    order = {table: index for index, table in enumerate(TABLES)}
    return sorted(
        problems,
        key=lambda p: (
            -1 if p.table is None else order[p.table],
            0 if p.row is None else p.row,
        ),
    )


def _validate(sources: Mapping[Table, _Source], problems: list[ImportProblem]) -> Organisation:
    drafts = _read_fields(sources, problems)
    _check_structure(drafts, problems)
    if problems:
        raise ImportRefused(_sorted(problems))
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


def _check_records(org: Organisation) -> list[ImportProblem]:
    """Validate records built in code (not parsed) exactly as an import would be: the
    same checks, with rows counted by position and the tables named as CSV files."""
    sources: dict[Table, _Source] = {
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
    drafts = _read_fields(sources, problems)
    _check_structure(drafts, problems)
    problems.extend(_not_canonical(org))
    return _sorted(problems)


def _source(table: Table, rows: Iterable[Mapping[str, object]]) -> _Source:
    return _Source(
        CSV_FILE_NAMES[table],
        table,
        [_Row(number, None, values) for number, values in enumerate(rows, start=1)],
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
