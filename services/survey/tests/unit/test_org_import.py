"""The organisation and staff import: every refusal class, the CSV and JSON shapes, and
the organisation's helpers (tree, invitations, eligible counts).

Each refusal test runs the same tables through CSV and through JSON and asserts the exact
(table, row, code) of every problem. "Nothing stored" at this layer means the import
raised instead of returning an organisation: the caller has nothing to store.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Literal, get_args

import pytest

from forbedring_survey.domain.org_import import (
    COLUMNS,
    LANGUAGES,
    ROLES,
    Assignment,
    ImportProblem,
    ImportRefused,
    Invitation,
    Organisation,
    Person,
    ProblemCode,
    RoleAssignment,
    Table,
    Unit,
    is_valid_email,
    parse_csv,
    parse_csv_files,
    parse_json,
    to_csv_files,
    to_json,
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


@pytest.fixture(params=["csv", "json"])
def fmt(request: pytest.FixtureRequest) -> Format:
    value: Format = request.param
    return value


# --- the valid case --------------------------------------------------------------------


def test_the_base_tables_are_accepted_in_both_formats(fmt: Format) -> None:
    org = run(base_tables(), fmt)
    assert [u.unit_id for u in org.units] == ["HF", "K1", "A1", "S1", "S2", "A2"]
    assert org.unit("A1") == Unit("A1", "K1", "Ortopedisk avdeling", "department")
    assert org.person("e4") == Person("e4", "Åse Ødegård", "ase@demo-hf.no", "nb")
    assert org.assignments[4] == Assignment("e4", "A1", 50.5)
    assert org.roles[3] == RoleAssignment("e4", "HF", "hr_admin")


def test_json_and_csv_of_the_same_data_give_equal_organisations() -> None:
    from_csv = run(base_tables(), "csv")
    from_json = run(base_tables(), "json")
    assert from_csv == from_json
    assert hash(from_csv) == hash(from_json)


def test_serialising_round_trips_through_both_formats() -> None:
    org = run(base_tables(), "json")
    assert parse_csv_files(to_csv_files(org)) == org
    assert parse_json(to_json(org)) == org
    excel = to_csv_files(org, delimiter=";", byte_order_mark=True)
    assert all(
        text.startswith("\ufeffunit_id;") or "employee_id;" in text for text in excel.values()
    )
    assert parse_csv_files({n: t.encode("utf-8") for n, t in excel.items()}) == org


# --- one test per refusal class --------------------------------------------------------


def test_unknown_parent(fmt: Format) -> None:
    tables = base_tables()
    tables["units"].append({"unit_id": "X", "parent_id": "NOPE", "name": "X", "kind": "section"})
    problems = refused(tables, fmt)
    assert found(problems) == [("units", 7, "unknown_parent")]
    assert problems[0].column == "parent_id"
    assert "'NOPE'" in problems[0].message


def test_cycle_reports_the_units_on_it(fmt: Format) -> None:
    tables = base_tables()
    tables["units"] += [
        {"unit_id": "C1", "parent_id": "C3", "name": "C1", "kind": "section"},
        {"unit_id": "C2", "parent_id": "C1", "name": "C2", "kind": "section"},
        {"unit_id": "C3", "parent_id": "C2", "name": "C3", "kind": "section"},
        {"unit_id": "UNDER", "parent_id": "C2", "name": "Under the cycle", "kind": "section"},
    ]
    problems = refused(tables, fmt)
    assert found(problems) == [("units", 7, "cycle")]
    assert problems[0].unit_ids == ("C1", "C3", "C2")
    assert "'C1' -> 'C3' -> 'C2' -> 'C1'" in problems[0].message


def test_a_unit_that_is_its_own_parent_is_a_cycle(fmt: Format) -> None:
    tables = base_tables()
    tables["units"].append({"unit_id": "SELF", "parent_id": "SELF", "name": "S", "kind": "section"})
    problems = refused(tables, fmt)
    assert found(problems) == [("units", 7, "cycle")]
    assert problems[0].unit_ids == ("SELF",)


def test_two_separate_cycles_are_both_reported(fmt: Format) -> None:
    tables = base_tables()
    tables["units"] += [
        {"unit_id": "P", "parent_id": "Q", "name": "P", "kind": "section"},
        {"unit_id": "Q", "parent_id": "P", "name": "Q", "kind": "section"},
        {"unit_id": "R", "parent_id": "R", "name": "R", "kind": "section"},
    ]
    problems = refused(tables, fmt)
    assert found(problems) == [("units", 7, "cycle"), ("units", 9, "cycle")]
    assert [p.unit_ids for p in problems] == [("P", "Q"), ("R",)]


def test_duplicate_unit_ids(fmt: Format) -> None:
    tables = base_tables()
    tables["units"].append({"unit_id": "S1", "parent_id": "A1", "name": "Again", "kind": "section"})
    problems = refused(tables, fmt)
    assert found(problems) == [("units", 7, "duplicate_unit")]
    assert "row 4" in problems[0].message


def test_duplicate_employee_ids(fmt: Format) -> None:
    tables = base_tables()
    tables["people"].append(
        {"employee_id": "e2", "name": "Another Ola", "email": "ola2@demo-hf.no", "language": "nb"}
    )
    problems = refused(tables, fmt)
    assert found(problems) == [("people", 5, "duplicate_person")]
    assert "row 2" in problems[0].message


def test_duplicate_assignment_of_a_person_to_a_unit(fmt: Format) -> None:
    tables = base_tables()
    tables["assignments"].append({"employee_id": "e1", "unit_id": "S1", "position_percent": 20})
    assert found(refused(tables, fmt)) == [("assignments", 6, "duplicate_assignment")]


def test_duplicate_role_row(fmt: Format) -> None:
    tables = base_tables()
    tables["roles"].append({"employee_id": "e2", "unit_id": "S1", "role": "safety_rep"})
    # The same person with another role for the unit, or two leaders, are both fine.
    tables["roles"].append({"employee_id": "e2", "unit_id": "S1", "role": "union_rep"})
    tables["roles"].append({"employee_id": "e4", "unit_id": "S1", "role": "leader"})
    assert found(refused(tables, fmt)) == [("roles", 5, "duplicate_role")]


def test_no_root_when_every_unit_has_a_parent(fmt: Format) -> None:
    tables = base_tables()
    tables["units"][0]["parent_id"] = "A2"  # HF under one of its own departments
    problems = refused(tables, fmt)
    assert found(problems) == [("units", None, "no_root"), ("units", 1, "cycle")]
    assert problems[1].unit_ids == ("HF", "A2", "K1")


def test_no_root_when_there_are_no_units(fmt: Format) -> None:
    tables = base_tables()
    tables["units"] = []
    tables["assignments"] = []
    tables["roles"] = []
    assert found(refused(tables, fmt)) == [("units", None, "no_root")]


def test_several_roots_name_every_root(fmt: Format) -> None:
    tables = base_tables()
    tables["units"].append(
        {"unit_id": "HF2", "parent_id": None, "name": "Other", "kind": "enterprise"}
    )
    tables["units"][2]["parent_id"] = ""  # A1 lost its parent
    problems = refused(tables, fmt)
    assert found(problems) == [
        ("units", 1, "several_roots"),
        ("units", 3, "several_roots"),
        ("units", 7, "several_roots"),
    ]
    assert all("'HF', 'A1', 'HF2'" in p.message for p in problems)


def test_assignment_to_an_unknown_unit(fmt: Format) -> None:
    tables = base_tables()
    tables["assignments"].append({"employee_id": "e1", "unit_id": "GONE", "position_percent": 10})
    problems = refused(tables, fmt)
    assert found(problems) == [("assignments", 6, "unknown_unit")]
    assert problems[0].column == "unit_id"


def test_assignment_of_an_unknown_person(fmt: Format) -> None:
    tables = base_tables()
    tables["assignments"].append({"employee_id": "e99", "unit_id": "S1", "position_percent": 10})
    problems = refused(tables, fmt)
    assert found(problems) == [("assignments", 6, "unknown_person")]
    assert problems[0].column == "employee_id"


def test_role_for_an_unknown_unit(fmt: Format) -> None:
    tables = base_tables()
    tables["roles"].append({"employee_id": "e1", "unit_id": "GONE", "role": "leader"})
    assert found(refused(tables, fmt)) == [("roles", 5, "unknown_unit")]


def test_role_of_an_unknown_person(fmt: Format) -> None:
    tables = base_tables()
    tables["roles"].append({"employee_id": "e99", "unit_id": "S1", "role": "leader"})
    assert found(refused(tables, fmt)) == [("roles", 5, "unknown_person")]


@pytest.mark.parametrize("position", [-1, 100.5, 101, 1000, "-0.5", "100,01", "120 %"])
def test_position_outside_0_to_100(fmt: Format, position: object) -> None:
    tables = base_tables()
    tables["assignments"][0]["position_percent"] = position
    problems = refused(tables, fmt)
    assert found(problems) == [("assignments", 1, "position_out_of_range")]
    assert problems[0].column == "position_percent"


@pytest.mark.parametrize("position", ["abc", "ti", "50%%", "1_0", "1e2", "NaN", "inf", "5.0.1"])
def test_position_that_is_not_a_number(fmt: Format, position: str) -> None:
    tables = base_tables()
    tables["assignments"][1]["position_percent"] = position
    assert found(refused(tables, fmt)) == [("assignments", 2, "position_not_a_number")]


@pytest.mark.parametrize(
    "email",
    [
        "kari",
        "kari@",
        "@demo-hf.no",
        "kari@demo-hf",
        "kari@@demo-hf.no",
        "kari nordmann@demo-hf.no",
        "kari..nordmann@demo-hf.no",
        ".kari@demo-hf.no",
        "kari@-demo.no",
        "kari@demo-.no",
        "kari@demo..no",
        "kari@demo.no.",
        "kari@demo.n0",
        "kari@sykehus.test",
        "kari@localhost",
        "kåre@demo-hf.no",
        "a" * 65 + "@demo-hf.no",
    ],
)
def test_invalid_email(fmt: Format, email: str) -> None:
    tables = base_tables()
    tables["people"][2]["email"] = email
    problems = refused(tables, fmt)
    assert found(problems) == [("people", 3, "invalid_email")]
    assert problems[0].column == "email"


@pytest.mark.parametrize("language", ["no", "nob", "se", "english", "n b"])
def test_invalid_language(fmt: Format, language: str) -> None:
    tables = base_tables()
    tables["people"][0]["language"] = language
    problems = refused(tables, fmt)
    assert found(problems) == [("people", 1, "invalid_language")]
    assert "nb" in problems[0].message


@pytest.mark.parametrize("role", ["boss", "verneombud", "admin", "leader "])
def test_invalid_role(fmt: Format, role: str) -> None:
    tables = base_tables()
    tables["roles"][1]["role"] = role
    if role == "leader ":  # surrounding spaces are trimmed: that one is a valid role
        assert run(tables, fmt).roles[1].role == "leader"
        return
    assert found(refused(tables, fmt)) == [("roles", 2, "invalid_role")]


@pytest.mark.parametrize("level", ["clinic-ish", "ward", "5", "2.3", ""])
def test_unknown_level(fmt: Format, level: str) -> None:
    tables = base_tables()
    tables["units"][3]["kind"] = level
    code = "missing_value" if level == "" else "unknown_level"
    problems = refused(tables, fmt)
    assert found(problems) == [("units", 4, code)]
    assert problems[0].column == "kind"


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("units", "unit_id"),
        ("units", "name"),
        ("units", "kind"),
        ("people", "employee_id"),
        ("people", "name"),
        ("people", "email"),
        ("people", "language"),
        ("assignments", "employee_id"),
        ("assignments", "unit_id"),
        ("assignments", "position_percent"),
        ("roles", "employee_id"),
        ("roles", "unit_id"),
        ("roles", "role"),
    ],
)
def test_missing_required_column(table: Table, column: str) -> None:
    files: dict[str, str | bytes] = dict(csv_files(base_tables()))
    columns = tuple(c for c in COLUMNS[table] if c != column)
    files[f"{table}.csv"] = csv_text(base_tables()[table], columns)
    problems = refused_csv(files)
    # The table without the column is left out, so nothing refers into it: one problem.
    assert [(p.file, p.table, p.row, p.code.value, p.column) for p in problems] == [
        (f"{table}.csv", table, None, "missing_column", column)
    ]


def test_missing_parent_id_column() -> None:
    files: dict[str, str | bytes] = dict(csv_files(base_tables()))
    files["units.csv"] = csv_text(base_tables()["units"], ("unit_id", "name", "kind"))
    assert found(refused_csv(files)) == [("units", None, "missing_column")]


@pytest.mark.parametrize(
    ("table", "row", "column"),
    [
        ("units", 2, "unit_id"),
        ("units", 2, "name"),
        ("people", 1, "employee_id"),
        ("people", 4, "email"),
        ("people", 4, "language"),
        ("assignments", 3, "unit_id"),
        ("assignments", 3, "position_percent"),
        ("roles", 4, "role"),
    ],
)
def test_missing_required_value(fmt: Format, table: str, row: int, column: str) -> None:
    tables = base_tables()
    tables[table][row - 1][column] = "   "
    problems = refused(tables, fmt)
    expected: Found = [(table, row, "missing_value")]
    if (table, column) == ("units", "unit_id"):
        # K1 has no id now, so its children's parent is unknown
        expected += [("units", 3, "unknown_parent"), ("units", 6, "unknown_parent")]
    if (table, column) == ("people", "employee_id"):
        expected += [("assignments", 1, "unknown_person"), ("roles", 1, "unknown_person")]
    assert found(problems) == expected
    assert problems[0].column == column


def test_missing_json_fields_and_null_values() -> None:
    tables = base_tables()
    del tables["people"][0]["email"]
    tables["people"][1]["name"] = None
    del tables["units"][0]["parent_id"]  # absent parent_id means the root in JSON
    problems = refused(tables, "json")
    assert found(problems) == [("people", 1, "missing_value"), ("people", 2, "missing_value")]
    assert [p.column for p in problems] == ["email", "name"]


# --- several problems at once --------------------------------------------------------


def test_every_problem_is_reported_at_once_in_file_and_row_order(fmt: Format) -> None:
    tables = base_tables()
    tables["units"] += [
        {"unit_id": "HF", "parent_id": None, "name": "Twice", "kind": "enterprise"},
        {"unit_id": "X", "parent_id": "NOPE", "name": "X", "kind": "ward"},
    ]
    tables["people"][0]["email"] = "not-an-email"
    tables["people"][0]["language"] = "se"
    tables["people"].append(
        {"employee_id": "e1", "name": "Kari igjen", "email": "kari@demo-hf.no", "language": "nb"}
    )
    tables["assignments"][0]["position_percent"] = "hundre"
    tables["assignments"].append({"employee_id": "e7", "unit_id": "Z", "position_percent": 150})
    tables["roles"].append({"employee_id": "e1", "unit_id": "S1", "role": "chief"})
    problems = refused(tables, fmt)
    assert found(problems) == [
        ("units", 7, "duplicate_unit"),
        ("units", 8, "unknown_level"),
        ("units", 8, "unknown_parent"),
        ("people", 1, "invalid_email"),
        ("people", 1, "invalid_language"),
        ("people", 5, "duplicate_person"),
        ("assignments", 1, "position_not_a_number"),
        ("assignments", 6, "position_out_of_range"),
        ("assignments", 6, "unknown_person"),
        ("assignments", 6, "unknown_unit"),
        ("roles", 5, "invalid_role"),
    ]
    expected_files = (
        ["units.csv"] * 3 + ["people.csv"] * 3 + ["assignments.csv"] * 4 + ["roles.csv"]
        if fmt == "csv"
        else ["organisation.json"] * 11
    )
    assert [p.file for p in problems] == expected_files


def test_a_refusal_says_every_problem_in_its_text_and_as_data() -> None:
    tables = base_tables()
    tables["people"][0]["email"] = "nope"
    tables["people"][1]["language"] = "xx"
    with pytest.raises(ImportRefused) as info:
        run(tables, "csv")
    text = str(info.value)
    assert "2 problem(s)" in text
    assert "people.csv, row 1 (spreadsheet row 2): [invalid_email]" in text
    assert "people.csv, row 2 (spreadsheet row 3): [invalid_language]" in text
    assert info.value.problems[0].to_dict() == {
        "file": "people.csv",
        "table": "people",
        "row": 1,
        "spreadsheet_row": 2,
        "column": "email",
        "code": "invalid_email",
        "message": "'nope' is not a valid email.",
        "unit_ids": [],
    }


def test_a_person_with_a_bad_field_still_counts_as_known() -> None:
    """A field problem does not cascade: the person's assignments are not also reported
    as assignments of an unknown person."""
    tables = base_tables()
    tables["people"][1]["email"] = "broken"
    assert found(refused(tables, "csv")) == [("people", 2, "invalid_email")]


# --- CSV specifics ---------------------------------------------------------------------


def test_semicolons_and_a_byte_order_mark_as_norwegian_excel_writes_them() -> None:
    files = {
        name: ("\ufeff" + text).encode("utf-8")
        for name, text in csv_files(base_tables(), delimiter=";").items()
    }
    files["assignments.csv"] = (
        "\ufeffemployee_id;unit_id;position_percent\r\n"
        "e1;S1;100\r\ne2;S1;60\r\ne2;S2;40\r\ne3;S2;0\r\ne4;A1;50,5\r\n"
    ).encode()
    org = parse_csv_files(files)
    assert org == run(base_tables(), "json")


def test_a_byte_order_mark_in_text_and_excels_sep_line() -> None:
    files: dict[str, str | bytes] = dict(csv_files(base_tables(), delimiter=";"))
    files["units.csv"] = "\ufeffsep=;\r\n" + str(files["units.csv"])
    files["people.csv"] = "\ufeff" + str(files["people.csv"])
    assert parse_csv_files(files) == run(base_tables(), "json")

    files["units.csv"] = "sep=;\nunit_id;parent_id;name;kind\nHF;;Demo HF;enterprise\nX;HF;X;?\n"
    problems = refused_csv(files)
    assert [(p.row, p.spreadsheet_row, p.code.value) for p in problems if p.table == "units"] == [
        (2, 4, "unknown_level")
    ]


def test_tab_delimited_files_parse() -> None:
    assert parse_csv_files(csv_files(base_tables(), delimiter="\t")) == run(base_tables(), "json")


def test_header_case_extra_columns_level_alias_and_quoting() -> None:
    files: dict[str, str | bytes] = dict(csv_files(base_tables()))
    files["units.csv"] = (
        "Unit_ID,Parent_ID,Name,Level,Cost centre code\n"
        "HF,,Demo HF,1,x\n"
        "K1,HF,Kirurgisk klinikk,Klinikk,x\n"
        'A1,K1,"Ortopedisk avdeling",department,x\n'
        'S1,A1,"Sengepost 6A",Cost centre,x\n'
        "S2,A1,Poliklinikk,SECTION,\n"
        'A2,K1,"Urologisk avdeling",2.2\n'
    )
    org = parse_csv_files(files)
    assert org == run(base_tables(), "json")
    assert [u.level for u in org.units] == ["1", "2.1", "2.2", "4", "3", "2.2"]


def test_quoted_delimiters_and_line_breaks_inside_a_name() -> None:
    files: dict[str, str | bytes] = dict(csv_files(base_tables()))
    files["units.csv"] = (
        "unit_id,parent_id,name,kind\n"
        'HF,,"Demo HF, helseforetak",enterprise\n'
        'K1,HF,"Kirurgisk\nklinikk",division\n'
        "K2,HF,Medisinsk klinikk,nonsense\n"
    )
    files["assignments.csv"] = "employee_id,unit_id,position_percent\n"
    files["roles.csv"] = "employee_id,unit_id,role\n"
    problems = refused_csv(files)
    # The line break inside a quoted name does not shift the row numbers.
    assert [(p.row, p.spreadsheet_row, p.code.value) for p in problems] == [(3, 4, "unknown_level")]


def test_blank_rows_are_skipped_but_counted() -> None:
    files: dict[str, str | bytes] = dict(csv_files(base_tables()))
    files["people.csv"] = (
        "employee_id,name,email,language\n"
        "e1,Kari Nordmann,kari@demo-hf.no,nb\n"
        "\n"
        ",,,\n"
        "e2,Ola Nordmann,ola@demo-hf.no,nn\n"
        "e3,Jane Doe,jane.doe@demo-hf.no,en\n"
        "e4,Åse Ødegård,ase@demo-hf.no,EN-GB\n"
    )
    assert found(refused_csv(files)) == [("people", 6, "invalid_language")]


def test_a_decimal_comma_in_a_comma_separated_file_is_too_many_values() -> None:
    files: dict[str, str | bytes] = dict(csv_files(base_tables()))
    files["assignments.csv"] = "employee_id,unit_id,position_percent\ne1,S1,50,5\n"
    assert found(refused_csv(files)) == [("assignments", 1, "too_many_values")]


def test_trailing_empty_cells_are_fine() -> None:
    files: dict[str, str | bytes] = dict(csv_files(base_tables()))
    files["roles.csv"] = "employee_id,unit_id,role,,\ne1,S1,leader,,\ne2,S1,safety_rep\n"
    assert len(parse_csv_files(files).roles) == 2


def test_duplicate_column() -> None:
    files: dict[str, str | bytes] = dict(csv_files(base_tables()))
    files["roles.csv"] = "employee_id,unit_id,role,role\ne1,S1,leader,leader\n"
    problems = refused_csv(files)
    assert [(p.table, p.row, p.code.value, p.column) for p in problems] == [
        ("roles", None, "duplicate_column", "role")
    ]


def test_a_file_that_is_not_utf8_is_refused_with_advice() -> None:
    files: dict[str, str | bytes] = dict(csv_files(base_tables()))
    files["people.csv"] = str(files["people.csv"]).encode("cp1252")
    problems = refused_csv(files)
    assert [(p.file, p.code.value) for p in problems] == [("people.csv", "unreadable_file")]
    assert "CSV UTF-8" in problems[0].message


def test_an_empty_file_is_refused() -> None:
    files: dict[str, str | bytes] = dict(csv_files(base_tables()))
    files["roles.csv"] = b""
    assert found(refused_csv(files)) == [("roles", None, "unreadable_file")]


def test_missing_and_unknown_files() -> None:
    files: dict[str, str | bytes] = dict(csv_files(base_tables()))
    del files["roles.csv"]
    files["staff.csv"] = "x\n"
    problems = refused_csv(files)
    assert [(p.file, p.table, p.code.value) for p in problems] == [
        ("staff.csv", None, "unknown_table"),
        ("roles.csv", "roles", "missing_table"),
    ]


def test_file_names_may_carry_a_directory_and_any_case() -> None:
    files = {f"export/2026/{n.upper()}": t for n, t in csv_files(base_tables()).items()}
    assert parse_csv_files(files) == run(base_tables(), "json")


def test_keyword_csv_entry_point() -> None:
    files = csv_files(base_tables())
    org = parse_csv(
        units=files["units.csv"],
        people=files["people.csv"],
        assignments=files["assignments.csv"],
        roles=files["roles.csv"].encode(),
    )
    assert org == run(base_tables(), "json")


def test_ids_longer_than_64_characters() -> None:
    tables = base_tables()
    tables["roles"][0]["unit_id"] = "U" * 65
    assert found(refused(tables, "csv")) == [("roles", 1, "invalid_id")]


# --- JSON specifics --------------------------------------------------------------------


def test_json_ids_may_be_integers_and_positions_strings() -> None:
    tables = base_tables()
    tables["units"].append({"unit_id": 4711, "parent_id": "A1", "name": "Gipsrom", "kind": "4"})
    tables["assignments"].append({"employee_id": "e1", "unit_id": 4711, "position_percent": "20,5"})
    org = run(tables, "json")
    assert org.unit("4711").parent_id == "A1"
    assert org.assignments[-1] == Assignment("e1", "4711", 20.5)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{not json", [(None, None, "unreadable_file")]),
        ("[]", [(None, None, "invalid_structure")]),
        (
            '{"units": [], "people": [], "assignments": []}',
            [("units", None, "no_root"), ("roles", None, "missing_table")],
        ),
        (
            '{"units": {}, "people": [], "assignments": [], "roles": []}',
            [("units", None, "invalid_structure")],
        ),
        (
            '{"units": [{"unit_id": "HF", "name": "HF", "kind": "enterprise"}, 7],'
            ' "people": [], "assignments": [], "roles": []}',
            [("units", 2, "invalid_structure")],
        ),
    ],
)
def test_json_of_the_wrong_shape(document: str, expected: Found) -> None:
    with pytest.raises(ImportRefused) as info:
        parse_json(document)
    assert found(info.value.problems) == expected


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("name", 42, "invalid_value"),
        ("email", ["a@b.no"], "invalid_value"),
        ("employee_id", True, "invalid_value"),
        ("language", {"code": "nb"}, "invalid_value"),
    ],
)
def test_json_values_of_the_wrong_type(field: str, value: object, code: str) -> None:
    tables = base_tables()
    tables["people"][3][field] = value
    expected: Found = [("people", 4, code)]
    if field == "employee_id":
        expected += [("assignments", 5, "unknown_person"), ("roles", 4, "unknown_person")]
    assert found(refused(tables, "json")) == expected


def test_json_position_must_be_a_finite_number() -> None:
    text = json.dumps(base_tables()).replace('"position_percent": 60', '"position_percent": NaN')
    with pytest.raises(ImportRefused) as info:
        parse_json(text)
    assert found(info.value.problems) == [("assignments", 2, "position_not_a_number")]
    bools = base_tables()
    bools["assignments"][0]["position_percent"] = True
    assert found(refused(bools, "json")) == [("assignments", 1, "position_not_a_number")]


def test_json_with_a_byte_order_mark_and_the_file_name_in_problems() -> None:
    data = ("\ufeff" + json.dumps(base_tables())).encode()
    assert parse_json(data) == run(base_tables(), "csv")
    tables = base_tables()
    tables["people"][0]["language"] = "sv"
    with pytest.raises(ImportRefused) as info:
        parse_json(json.dumps(tables), file_name="hr-export.json")
    assert [(p.file, p.spreadsheet_row) for p in info.value.problems] == [("hr-export.json", None)]


# --- the organisation ------------------------------------------------------------------


def test_invitations_skip_zero_percent_and_double_for_two_units() -> None:
    org = run(base_tables(), "csv")
    assert org.invitations() == (
        Invitation("e1", "S1", 100.0),
        Invitation("e2", "S1", 60.0),
        Invitation("e2", "S2", 40.0),
        Invitation("e4", "A1", 50.5),
    )
    assert [i.unit_id for i in org.invitations() if i.employee_id == "e2"] == ["S1", "S2"]
    assert not any(i.employee_id == "e3" for i in org.invitations())


def test_eligible_counts_per_unit_and_including_sub_units() -> None:
    org = run(base_tables(), "csv")
    assert dict(org.eligible_counts()) == {"HF": 0, "K1": 0, "A1": 1, "S1": 2, "S2": 1, "A2": 0}
    assert org.eligible("S1") == 2
    assert dict(org.eligible_including_subunits()) == {
        "HF": 4,
        "K1": 4,
        "A1": 4,
        "S1": 2,
        "S2": 1,
        "A2": 0,
    }


def test_the_tree() -> None:
    org = run(base_tables(), "csv")

    def ids(units: tuple[Unit, ...]) -> list[str]:
        return [u.unit_id for u in units]

    assert org.root.unit_id == "HF"
    assert ids(org.children("HF")) == ["K1"]
    assert ids(org.children("A1")) == ["S1", "S2"]
    assert ids(org.children("S1")) == []
    assert ids(org.ancestors("S2")) == ["A1", "K1", "HF"]
    assert ids(org.ancestors("HF")) == []
    assert org.depth("S2") == 3
    assert org.parent("HF") is None
    assert org.parent("S2") == org.unit("A1")
    assert ids(org.postorder()) == ["S1", "S2", "A1", "A2", "K1", "HF"]
    assert ids(org.preorder()) == ["HF", "K1", "A1", "S1", "S2", "A2"]
    assert ids(org.subtree("A1")) == ["A1", "S1", "S2"]
    assert org.has_unit("A2")
    assert not org.has_unit("nope")


def test_people_roles_and_holders() -> None:
    org = run(base_tables(), "csv")
    assert org.has_person("e1")
    assert not org.has_person("e9")
    assert [a.unit_id for a in org.assignments_of("e2")] == ["S1", "S2"]
    assert org.assignments_of("e9") == ()
    assert [r.role for r in org.roles_for("S1")] == ["leader", "safety_rep", "union_rep"]
    assert org.holders("S1", "safety_rep") == (org.person("e2"),)
    assert org.holders("HF", "hr_admin") == (org.person("e4"),)
    assert org.holders("A2", "leader") == ()
    assert org.roles_of("e4") == (RoleAssignment("e4", "HF", "hr_admin"),)


def test_an_organisation_built_in_code_is_validated_too() -> None:
    org = run(base_tables(), "csv")
    with pytest.raises(ImportRefused) as info:
        Organisation(
            (*org.units, Unit("LOOP", "LOOP", "Loop", "section")),
            org.people,
            (*org.assignments, Assignment("e1", "NOWHERE", 10.0)),
            org.roles,
        )
    assert [(p.file, p.row, p.code.value) for p in info.value.problems] == [
        ("units.csv", 7, "cycle"),
        ("assignments.csv", 6, "unknown_unit"),
    ]
    with pytest.raises(ImportRefused) as info:
        Organisation(
            org.units,
            (Person(" e1", "Kari", "kari@demo-hf.no", "NB"),),  # type: ignore[arg-type]
            (),
            (),
        )
    assert {(p.code.value, p.column) for p in info.value.problems} == {
        ("invalid_value", "employee_id"),
        ("invalid_value", "language"),
    }
    # integers are fine as positions in code
    assert Organisation(org.units, org.people, (Assignment("e1", "S1", 100),), ()).eligible("S1")


def test_organisations_are_immutable() -> None:
    org = run(base_tables(), "csv")
    with pytest.raises(AttributeError):
        org.units = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        org.eligible_counts()["S1"] = 5  # type: ignore[index]


# --- the vocabulary and e-mail rule agree with the event contracts --------------------------


def test_vocabulary_matches_the_event_contracts() -> None:
    from forbedring_contracts.events import Language, Role

    assert get_args(Language) == LANGUAGES
    assert get_args(Role) == ROLES


def test_every_email_we_accept_the_contracts_accept_too() -> None:
    from email_validator import EmailNotValidError, validate_email

    accepted = [
        "kari@demo-hf.no",
        "kari.nordmann@sykehuset-innlandet.no",
        "o'brien+survey@example.com",
        "a1_b-c@sub.domain.helse.no",
        "X@Y.ZZ",
    ]
    for email in accepted:
        assert is_valid_email(email)
        validate_email(email, check_deliverability=False)
    for email in ("kari@sykehus.test", "kari@foo.local"):
        assert not is_valid_email(email)
        with pytest.raises(EmailNotValidError):
            validate_email(email, check_deliverability=False)


def test_problem_codes_are_stable() -> None:
    assert {c.value for c in ProblemCode} == {
        "unreadable_file",
        "invalid_structure",
        "missing_table",
        "unknown_table",
        "missing_column",
        "duplicate_column",
        "too_many_values",
        "missing_value",
        "invalid_value",
        "invalid_id",
        "unknown_level",
        "invalid_email",
        "invalid_language",
        "invalid_role",
        "position_not_a_number",
        "position_out_of_range",
        "duplicate_unit",
        "duplicate_person",
        "duplicate_assignment",
        "duplicate_role",
        "unknown_parent",
        "cycle",
        "no_root",
        "several_roots",
        "unknown_unit",
        "unknown_person",
    }
