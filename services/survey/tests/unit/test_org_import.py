"""The organisation and staff import: the valid case and every refusal class (the file
formats are in `test_org_import_formats.py`, the organisation's helpers in
`test_organisation.py`).

Each refusal test runs the same tables through CSV and through JSON and asserts the exact
(table, row, code) of every problem. "Nothing stored" at this layer means the import
raised instead of returning an organisation: the caller has nothing to store.
"""

from __future__ import annotations

import pytest

from forbedring_survey.domain.org_import import (
    COLUMNS,
    Assignment,
    ImportRefused,
    Person,
    RoleAssignment,
    Table,
    Unit,
    parse_csv_files,
    parse_json,
    to_csv_files,
    to_json,
)
from services.survey.tests.unit.org_import_tables import (
    Format,
    Found,
    base_tables,
    csv_files,
    csv_text,
    found,
    refused,
    refused_csv,
    run,
)


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
