"""Reading the fields of each row: every value checked on its own, one problem per value
at fault, giving a draft per row for the checks across rows."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from forbedring_survey.domain.org_import.reading import Row, Source
from forbedring_survey.domain.org_import.vocabulary import (
    COLUMN_ALIASES,
    KIND_ALIASES,
    LANGUAGES,
    MAX_ID_LENGTH,
    ROLES,
    UNIT_KINDS,
    ImportProblem,
    Language,
    ProblemCode,
    Role,
    Table,
    UnitKind,
)

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


class Fields:
    """Reads one row's values, recording a problem for each one at fault."""

    __slots__ = ("_problems", "_row", "_source")

    def __init__(self, source: Source, problems: list[ImportProblem]) -> None:
        self._source = source
        self._problems = problems

    def at(self, row: Row) -> Fields:
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
        aliases = COLUMN_ALIASES.get(column)
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
        kind = KIND_ALIASES.get(re.sub(r"[\s-]+", "_", value.lower()))
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


@dataclass(frozen=True, slots=True)
class UnitDraft:
    row: int
    spreadsheet_row: int | None
    unit_id: str | None
    parent_id: str | None
    parent_ok: bool
    name: str | None
    kind: UnitKind | None


@dataclass(frozen=True, slots=True)
class PersonDraft:
    row: int
    spreadsheet_row: int | None
    employee_id: str | None
    name: str | None
    email: str | None
    language: Language | None


@dataclass(frozen=True, slots=True)
class LinkDraft:
    """An assignment (``value`` the position) or a role (``value`` the role)."""

    row: int
    spreadsheet_row: int | None
    employee_id: str | None
    unit_id: str | None
    value: float | Role | None


@dataclass(slots=True)
class Drafts:
    files: dict[Table, str]
    units: list[UnitDraft] = field(default_factory=list)
    people: list[PersonDraft] = field(default_factory=list)
    assignments: list[LinkDraft] = field(default_factory=list)
    roles: list[LinkDraft] = field(default_factory=list)


def read_fields(sources: Mapping[Table, Source], problems: list[ImportProblem]) -> Drafts:
    drafts = Drafts({table: source.file for table, source in sources.items()})
    if (source := sources.get("units")) is not None:
        reader = Fields(source, problems)
        for row in source.rows:
            f = reader.at(row)
            parent_id, parent_ok = f.parent_id()
            drafts.units.append(
                UnitDraft(
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
        reader = Fields(source, problems)
        for row in source.rows:
            f = reader.at(row)
            drafts.people.append(
                PersonDraft(
                    row.number,
                    row.spreadsheet_row,
                    f.id("employee_id"),
                    f.text("name"),
                    f.email(),
                    f.language(),
                )
            )
    if (source := sources.get("assignments")) is not None:
        reader = Fields(source, problems)
        for row in source.rows:
            f = reader.at(row)
            drafts.assignments.append(
                LinkDraft(
                    row.number,
                    row.spreadsheet_row,
                    f.id("employee_id"),
                    f.id("unit_id"),
                    f.position(),
                )
            )
    if (source := sources.get("roles")) is not None:
        reader = Fields(source, problems)
        for row in source.rows:
            f = reader.at(row)
            drafts.roles.append(
                LinkDraft(
                    row.number,
                    row.spreadsheet_row,
                    f.id("employee_id"),
                    f.id("unit_id"),
                    f.role(),
                )
            )
    return drafts
