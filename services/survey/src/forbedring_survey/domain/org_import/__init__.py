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

Validation is linear in the size of the import (dicts and sets only). The stages, one
module each: `vocabulary` (tables, values, problem codes), `reading` (files into rows),
`fields` (each value on its own), `checks` (across rows), `parsing` (the entry points),
`organisation` (the validated result) and `writing` (back out as CSV or JSON).
"""

from forbedring_survey.domain.org_import.fields import is_valid_email
from forbedring_survey.domain.org_import.organisation import (
    Assignment,
    Invitation,
    Organisation,
    Person,
    RoleAssignment,
    Unit,
)
from forbedring_survey.domain.org_import.parsing import parse_csv, parse_csv_files, parse_json
from forbedring_survey.domain.org_import.vocabulary import (
    COLUMNS,
    CSV_FILE_NAMES,
    HR_LEVELS,
    LANGUAGES,
    MAX_ID_LENGTH,
    ROLES,
    TABLES,
    UNIT_KINDS,
    ImportProblem,
    ImportRefused,
    Language,
    ProblemCode,
    Role,
    Table,
    UnitKind,
)
from forbedring_survey.domain.org_import.writing import to_csv_files, to_json, to_rows

__all__ = [
    "COLUMNS",
    "CSV_FILE_NAMES",
    "HR_LEVELS",
    "LANGUAGES",
    "MAX_ID_LENGTH",
    "ROLES",
    "TABLES",
    "UNIT_KINDS",
    "Assignment",
    "ImportProblem",
    "ImportRefused",
    "Invitation",
    "Language",
    "Organisation",
    "Person",
    "ProblemCode",
    "Role",
    "RoleAssignment",
    "Table",
    "Unit",
    "UnitKind",
    "is_valid_email",
    "parse_csv",
    "parse_csv_files",
    "parse_json",
    "to_csv_files",
    "to_json",
    "to_rows",
]
