"""Tables for the organisation import's tests: a small valid trust, rows to change, and
running the same tables through CSV and through JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Literal

import pytest

from forbedring_survey.domain.org_import import (
    COLUMNS,
    ImportProblem,
    ImportRefused,
    Organisation,
    parse_csv_files,
    parse_json,
)

Format = Literal["csv", "json"]
Tables = dict[str, list[dict[str, Any]]]
Found = list[tuple[str | None, int | None, str]]


def unit(unit_id: str, parent_id: str | None, name: str, kind: str) -> dict[str, Any]:
    return {"unit_id": unit_id, "parent_id": parent_id, "name": name, "kind": kind}


def person(employee_id: str, name: str, email: str, language: str) -> dict[str, Any]:
    return {"employee_id": employee_id, "name": name, "email": email, "language": language}


def assignment(employee_id: str, unit_id: str, position: object) -> dict[str, Any]:
    return {"employee_id": employee_id, "unit_id": unit_id, "position_percent": position}


def role(employee_id: str, unit_id: str, role: str) -> dict[str, Any]:
    return {"employee_id": employee_id, "unit_id": unit_id, "role": role}


def base_tables() -> Tables:
    """A small valid trust: HF > K1 > A1 > {S1, S2}, and K1 > A2 (a department with no
    staff). e2 works in two units, e3 at 0 %."""
    return {
        "units": [
            unit("HF", None, "Demo HF", "enterprise"),
            unit("K1", "HF", "Kirurgisk klinikk", "division"),
            unit("A1", "K1", "Ortopedisk avdeling", "department"),
            unit("S1", "A1", "Sengepost 6A", "cost_centre"),
            unit("S2", "A1", "Poliklinikk", "section"),
            unit("A2", "K1", "Urologisk avdeling", "department"),
        ],
        "people": [
            person("e1", "Kari Nordmann", "kari@demo-hf.no", "nb"),
            person("e2", "Ola Nordmann", "ola@demo-hf.no", "nn"),
            person("e3", "Jane Doe", "jane.doe@demo-hf.no", "en"),
            person("e4", "Åse Ødegård", "ase@demo-hf.no", "nb"),
        ],
        "assignments": [
            assignment("e1", "S1", 100),
            assignment("e2", "S1", 60),
            assignment("e2", "S2", 40),
            assignment("e3", "S2", 0),
            assignment("e4", "A1", 50.5),
        ],
        "roles": [
            role("e1", "S1", "leader"),
            role("e2", "S1", "safety_rep"),
            role("e3", "S1", "union_rep"),
            role("e4", "HF", "hr_admin"),
        ],
    }


def csv_text(rows: list[dict[str, Any]], columns: tuple[str, ...], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return buffer.getvalue()


def csv_files(tables: Tables, delimiter: str = ",") -> dict[str, str]:
    return {
        f"{name}.csv": csv_text(rows, COLUMNS[name], delimiter)  # type: ignore[index]
        for name, rows in tables.items()
    }


def run(tables: Tables, fmt: Format) -> Organisation:
    if fmt == "csv":
        return parse_csv_files(csv_files(tables))
    return parse_json(json.dumps(tables))


def refused(tables: Tables, fmt: Format) -> list[ImportProblem]:
    with pytest.raises(ImportRefused) as info:
        run(tables, fmt)
    assert info.value.problems, "a refusal names its problems"
    return info.value.problems


def found(problems: list[ImportProblem]) -> Found:
    return [(p.table, p.row, p.code.value) for p in problems]


def refused_csv(files: dict[str, str | bytes]) -> list[ImportProblem]:
    with pytest.raises(ImportRefused) as info:
        parse_csv_files(files)
    return info.value.problems
