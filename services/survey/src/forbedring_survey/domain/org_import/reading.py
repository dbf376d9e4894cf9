"""Reading an import's files into rows: CSV (delimiter, header and encoding recognised)
or one JSON document. Problems with the files themselves are recorded here; the values
are read in `fields`."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from forbedring_survey.domain.org_import.vocabulary import (
    COLUMN_ALIASES,
    COLUMNS,
    CSV_FILE_NAMES,
    TABLES,
    ImportProblem,
    ProblemCode,
    Table,
)


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    spreadsheet_row: int | None
    values: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Source:
    file: str
    table: Table
    rows: list[Row]


def table_of_file(file_name: str) -> Table | None:
    base = file_name.replace("\\", "/").rsplit("/", 1)[-1].strip().lower()
    for table, expected in CSV_FILE_NAMES.items():
        if base == expected:
            return table
    return None


def decode(
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


def read_csv(
    file_name: str, table: Table, data: str | bytes, problems: list[ImportProblem]
) -> Source | None:
    text = decode(file_name, table, data, problems)
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
                (positions[a] for a in COLUMN_ALIASES.get(column, (column,)) if a in positions),
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

        rows: list[Row] = []
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
            rows.append(Row(number, spreadsheet_row, values))
    except csv.Error as exc:
        problem(
            ProblemCode.UNREADABLE_FILE,
            f"The CSV cannot be read near line {reader.line_num + header_line_count - 1}: {exc}.",
        )
        return None
    return Source(file_name, table, rows)


def read_csv_files(
    files: Mapping[str, str | bytes],
) -> tuple[dict[Table, Source], list[ImportProblem]]:
    """The rows of four CSV files (file name -> content), the names picking the table;
    with every problem found, including missing or unknown files."""
    problems: list[ImportProblem] = []
    sources: dict[Table, Source] = {}
    for file_name, data in files.items():
        table = table_of_file(file_name)
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
        source = read_csv(file_name, table, data, problems)
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
    return sources, problems


def read_json(
    data: str | bytes, *, file_name: str
) -> tuple[dict[Table, Source], list[ImportProblem]]:
    """The rows of one JSON document of four arrays of objects, with every problem of
    its structure."""
    problems: list[ImportProblem] = []
    sources: dict[Table, Source] = {}
    text = decode(file_name, None, data, problems)
    if text is None:
        return sources, problems
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
        return sources, problems
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
        return sources, problems
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
        rows: list[Row] = []
        for number, item in enumerate(rows_value, start=1):
            if isinstance(item, dict):
                rows.append(Row(number, None, item))
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
        sources[table] = Source(file_name, table, rows)
    return sources, problems
