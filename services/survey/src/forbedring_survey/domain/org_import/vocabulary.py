"""The words of an import: its tables and columns, the values a field may take, and the
reasons an import is refused."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal, get_args

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

COLUMN_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {"kind": ("kind", "level")}

KIND_ALIASES: Final[Mapping[str, UnitKind]] = {
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
