"""An organisation written back out as the tables, CSV files or JSON document the import
reads (for exports, the demo data and tests)."""

from __future__ import annotations

import csv
import io
import json

from forbedring_survey.domain.org_import.organisation import Organisation
from forbedring_survey.domain.org_import.vocabulary import COLUMNS, CSV_FILE_NAMES, Table


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
