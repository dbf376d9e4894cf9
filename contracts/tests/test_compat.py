"""The breaking-change checker on deliberately changed schemas, as Pydantic emits them."""

from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field, TypeAdapter

from forbedring_contracts.compat import BreakingChange, ChangeKind, breaking_changes


class Part(BaseModel):
    size: int


class Old(BaseModel):
    name: str = Field(max_length=50)
    level: int
    colour: Literal["red", "green"]
    note: str | None = None
    parts: list[Part]


def schema(model: Any) -> dict[str, Any]:
    return TypeAdapter(model).json_schema()


def changes(new: Any, old: Any = Old) -> list[BreakingChange]:
    return breaking_changes(schema(old), schema(new))


def kinds(new: Any, old: Any = Old) -> list[ChangeKind]:
    return [change.kind for change in changes(new, old)]


def test_the_same_schema_has_no_breaking_change() -> None:
    assert changes(Old) == []


def test_additive_changes_are_allowed() -> None:
    class Added(BaseModel):
        name: str = Field(max_length=80)  # looser
        level: float  # wider: every integer is a number
        colour: Literal["red", "green", "blue"]  # one more value
        note: str | None = None
        parts: list[Part]
        nickname: str | None = None  # new and optional

    assert changes(Added) == []


def test_a_removed_property_is_breaking() -> None:
    class Removed(BaseModel):
        name: str = Field(max_length=50)
        level: int
        colour: Literal["red", "green"]
        parts: list[Part]

    assert [str(change) for change in changes(Removed)] == ["$: removed property: 'note' is gone"]


def test_a_renamed_property_is_breaking() -> None:
    class Renamed(BaseModel):
        title: str = Field(max_length=50)
        level: int
        colour: Literal["red", "green"]
        note: str | None = None
        parts: list[Part]

    assert kinds(Renamed) == [ChangeKind.RENAMED_PROPERTY, ChangeKind.NEW_REQUIRED_PROPERTY]
    assert "renamed to 'title'?" in changes(Renamed)[0].detail


@pytest.mark.parametrize(
    ("old_type", "new_type"),
    [(str, int), (float, int), (int, str), (int, bool), (list[int], dict[str, int])],
)
def test_a_narrowed_type_is_breaking(old_type: Any, new_type: Any) -> None:
    assert kinds(new_type, old=old_type) == [ChangeKind.NARROWED_TYPE]


def test_a_narrowed_type_deep_inside_definitions_is_found() -> None:
    class Part(BaseModel):  # the same name, so the same $defs entry
        size: str

    class Narrowed(BaseModel):
        name: str = Field(max_length=50)
        level: int
        colour: Literal["red", "green"]
        note: str | None = None
        parts: list[Part]

    found = changes(Narrowed)
    assert [(change.path, change.kind) for change in found] == [
        ("$.parts[].size", ChangeKind.NARROWED_TYPE)
    ]
    assert found[0].detail == "integer -> string"


def test_a_new_required_property_is_breaking() -> None:
    class NewRequired(Old):
        extra: str

    assert [str(c) for c in changes(NewRequired)] == ["$: new required property: 'extra'"]


def test_a_property_becoming_required_is_breaking() -> None:
    class NowRequired(Old):
        note: str | None

    assert kinds(NowRequired) == [ChangeKind.BECAME_REQUIRED]


def test_a_required_property_becoming_optional_is_breaking() -> None:
    class NowOptional(Old):
        level: int = 0

    assert kinds(NowOptional) == [ChangeKind.BECAME_OPTIONAL]


def test_an_optional_property_losing_null_is_breaking() -> None:
    class NoLongerNull(Old):
        note: str = ""

    assert [str(c) for c in changes(NoLongerNull)] == [
        "$.note: removed alternative: null no longer accepted"
    ]


def test_a_removed_enum_value_is_breaking() -> None:
    class Fewer(Old):
        colour: Literal["red"]

    assert [str(c) for c in changes(Fewer)] == [
        '$.colour: removed enum value: "green" no longer allowed'
    ]


def test_restricting_a_free_value_to_an_enum_is_breaking() -> None:
    assert kinds(Literal["a", "b"], old=str) == [ChangeKind.NARROWED_TYPE]


@pytest.mark.parametrize(
    ("old", "new", "detail"),
    [
        (
            Annotated[str, Field(max_length=50)],
            Annotated[str, Field(max_length=20)],
            "maxLength 50 -> 20",
        ),
        (str, Annotated[str, Field(min_length=1)], "minLength (none) -> 1"),
        (Annotated[int, Field(ge=0)], Annotated[int, Field(ge=1)], "minimum 0 -> 1"),
        (int, Annotated[int, Field(le=100)], "maximum (none) -> 100"),
        (str, Annotated[str, Field(pattern="^[a-z]+$")], "pattern (none) -> ^[a-z]+$"),
        (
            str,
            Annotated[str, Field(json_schema_extra={"format": "email"})],
            "format (none) -> email",
        ),
    ],
)
def test_a_tightened_constraint_is_breaking(old: Any, new: Any, detail: str) -> None:
    assert [(c.kind, c.detail) for c in changes(new, old=old)] == [
        (ChangeKind.TIGHTENED_CONSTRAINT, detail)
    ]


def test_a_loosened_constraint_is_allowed() -> None:
    assert changes(str, old=Annotated[str, Field(max_length=5, min_length=2)]) == []
    assert changes(int, old=Annotated[int, Field(ge=0, le=5)]) == []


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


Pet = Annotated[Cat | Dog, Field(discriminator="kind")]


def test_a_removed_alternative_of_a_discriminated_union_is_breaking() -> None:
    assert [str(c) for c in changes(Cat, old=Pet)] == [
        "$: removed alternative: Dog no longer accepted"
    ]


def test_a_change_inside_one_alternative_is_found_there() -> None:
    class Cat(BaseModel):
        kind: Literal["cat"]
        lives: str

    assert [
        (c.path, c.kind)
        for c in changes(Annotated[Cat | Dog, Field(discriminator="kind")], old=Pet)
    ] == [("$<Cat>.lives", ChangeKind.NARROWED_TYPE)]


def test_a_new_alternative_is_allowed() -> None:
    class Fish(BaseModel):
        kind: Literal["fish"]

    assert changes(Annotated[Cat | Dog | Fish, Field(discriminator="kind")], old=Pet) == []


class Tree(BaseModel):
    name: str
    children: list["Tree"]


def test_recursive_definitions_terminate() -> None:
    class Tree(BaseModel):
        name: int
        children: list["Tree"]

    assert [(c.path, c.kind) for c in changes(Tree, old=globals()["Tree"])] == [
        ("$.name", ChangeKind.NARROWED_TYPE)
    ]
