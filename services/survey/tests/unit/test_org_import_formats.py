"""The organisation import's file formats: what CSV as spreadsheets write it and JSON
may look like, and how each is refused."""

from __future__ import annotations

import json

import pytest

from forbedring_survey.domain.org_import import (
    Assignment,
    ImportRefused,
    parse_csv,
    parse_csv_files,
    parse_json,
)
from services.survey.tests.unit.org_import_tables import (
    Found,
    base_tables,
    csv_files,
    found,
    refused,
    refused_csv,
    run,
)

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
