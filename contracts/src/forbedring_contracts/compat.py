"""Breaking changes between two JSON Schemas of one topic (as Pydantic emits them).

A published major version may only grow. The new schema must keep every property the old
one had (consumers read them), must not require anything the old one did not, must accept
every value the old one accepted (no narrower type, no enum value removed, no tighter
constraint), and must not make a required property optional (consumers rely on it being
there). New optional properties, new enum values and looser constraints are additive.

`$ref`s into `$defs` are followed on both sides; `anyOf`/`oneOf` alternatives (optional
fields, discriminated unions) are matched up by name, and every old alternative must
still be accepted by a new one.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

Schema = Mapping[str, Any]

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_EXACT = ("pattern", "format", "multipleOf")


class ChangeKind(StrEnum):
    REMOVED_PROPERTY = "removed property"
    RENAMED_PROPERTY = "renamed property"
    NEW_REQUIRED_PROPERTY = "new required property"
    BECAME_REQUIRED = "property became required"
    BECAME_OPTIONAL = "property became optional"
    NARROWED_TYPE = "narrowed type"
    REMOVED_ENUM_VALUE = "removed enum value"
    TIGHTENED_CONSTRAINT = "tightened constraint"
    REMOVED_ALTERNATIVE = "removed alternative"


@dataclass(frozen=True)
class BreakingChange:
    path: str
    """Where, e.g. `$.units[].name` or `$<PublishedUnitResults>.factors[].mean`."""
    kind: ChangeKind
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.detail}"


def breaking_changes(old: Schema, new: Schema) -> list[BreakingChange]:
    """Every breaking change from schema `old` to schema `new`; empty if compatible."""
    found = _Diff(old, new).diff(old, new, "$")
    return list(dict.fromkeys(found))


class _Diff:
    def __init__(self, old_doc: Schema, new_doc: Schema) -> None:
        self.old_doc = old_doc
        self.new_doc = new_doc
        self.active: set[tuple[str, str]] = set()  # $ref pairs being compared (cycles)

    def diff(self, old: Schema, new: Schema, path: str) -> list[BreakingChange]:
        old_ref, new_ref = old.get("$ref"), new.get("$ref")
        if old_ref and new_ref:
            pair = (old_ref, new_ref)
            if pair in self.active:
                return []
            self.active.add(pair)
            try:
                return self._diff(_resolve(self.old_doc, old), _resolve(self.new_doc, new), path)
            finally:
                self.active.discard(pair)
        return self._diff(_resolve(self.old_doc, old), _resolve(self.new_doc, new), path)

    def _diff(self, old: Schema, new: Schema, path: str) -> list[BreakingChange]:
        old_alternatives, new_alternatives = _alternatives(old), _alternatives(new)
        if len(old_alternatives) > 1 or len(new_alternatives) > 1:
            return self._union(old_alternatives, new_alternatives, path)
        return self._single(old, new, path)

    def _union(self, olds: list[Schema], news: list[Schema], path: str) -> list[BreakingChange]:
        changes: list[BreakingChange] = []
        for old in olds:
            name = _name(old)
            trials = [self.diff(old, new, f"{path}<{name}>") for new in news]
            if any(not trial for trial in trials):
                continue
            same = [trial for new, trial in zip(news, trials, strict=True) if _name(new) == name]
            if same:
                changes += same[0]
            else:
                changes.append(
                    BreakingChange(
                        path, ChangeKind.REMOVED_ALTERNATIVE, f"{name} no longer accepted"
                    )
                )
        return changes

    def _single(self, old: Schema, new: Schema, path: str) -> list[BreakingChange]:
        old_types, new_types = _types(old), _types(new)
        if new_types is not None:
            lost = (
                {"(any type)"}
                if old_types is None
                else {t for t in old_types if t not in new_types and not _widened(t, new_types)}
            )
            if lost:
                return [
                    BreakingChange(
                        path,
                        ChangeKind.NARROWED_TYPE,
                        f"{_show(old_types)} -> {_show(new_types)}",
                    )
                ]
        changes = self._values(old, new, path) + self._constraints(old, new, path)
        changes += self._object(old, new, path)
        changes += self._array(old, new, path)
        return changes

    def _values(self, old: Schema, new: Schema, path: str) -> list[BreakingChange]:
        new_values = _values(new)
        if new_values is None:
            return []
        old_values = _values(old)
        if old_values is None:
            return [
                BreakingChange(
                    path, ChangeKind.NARROWED_TYPE, f"now only {sorted(new_values)} allowed"
                )
            ]
        return [
            BreakingChange(path, ChangeKind.REMOVED_ENUM_VALUE, f"{value} no longer allowed")
            for value in old_values
            if value not in new_values
        ]

    def _constraints(self, old: Schema, new: Schema, path: str) -> list[BreakingChange]:
        changes = []
        for word in (*_LOWER_BOUNDS, *_UPPER_BOUNDS, *_EXACT):
            if word not in new or old.get(word) == new[word]:
                continue
            if word in old and word in _LOWER_BOUNDS and new[word] < old[word]:
                continue
            if word in old and word in _UPPER_BOUNDS and new[word] > old[word]:
                continue
            detail = f"{word} {old.get(word, '(none)')} -> {new[word]}"
            changes.append(BreakingChange(path, ChangeKind.TIGHTENED_CONSTRAINT, detail))
        if new.get("uniqueItems") and not old.get("uniqueItems"):
            changes.append(BreakingChange(path, ChangeKind.TIGHTENED_CONSTRAINT, "uniqueItems"))
        return changes

    def _object(self, old: Schema, new: Schema, path: str) -> list[BreakingChange]:
        old_props: Mapping[str, Schema] = old.get("properties", {})
        new_props: Mapping[str, Schema] = new.get("properties", {})
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        changes: list[BreakingChange] = []
        added = [name for name in new_props if name not in old_props]
        for name, old_prop in old_props.items():
            if name in new_props:
                changes += self.diff(old_prop, new_props[name], f"{path}.{name}")
                continue
            successors = [a for a in added if not self.diff(old_prop, new_props[a], path)]
            if successors:
                detail = f"{name!r} is gone; renamed to {successors[0]!r}?"
                changes.append(BreakingChange(path, ChangeKind.RENAMED_PROPERTY, detail))
            else:
                changes.append(
                    BreakingChange(path, ChangeKind.REMOVED_PROPERTY, f"{name!r} is gone")
                )
        for name in sorted(new_required - old_required):
            kind = (
                ChangeKind.BECAME_REQUIRED
                if name in old_props
                else ChangeKind.NEW_REQUIRED_PROPERTY
            )
            changes.append(BreakingChange(path, kind, repr(name)))
        for name in sorted((old_required - new_required) & set(new_props)):
            changes.append(BreakingChange(path, ChangeKind.BECAME_OPTIONAL, repr(name)))
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if new_extra is False and old_extra is not False:
            changes.append(
                BreakingChange(
                    path, ChangeKind.TIGHTENED_CONSTRAINT, "no more additional properties"
                )
            )
        elif isinstance(new_extra, Mapping):
            old_schema = old_extra if isinstance(old_extra, Mapping) else {}
            changes += self.diff(old_schema, new_extra, f"{path}{{}}")
        if "propertyNames" in new:
            changes += self.diff(
                old.get("propertyNames", {}), new["propertyNames"], f"{path}{{key}}"
            )
        return changes

    def _array(self, old: Schema, new: Schema, path: str) -> list[BreakingChange]:
        changes: list[BreakingChange] = []
        old_prefix, new_prefix = old.get("prefixItems", []), new.get("prefixItems", [])
        for index, new_item in enumerate(new_prefix):
            old_item = old_prefix[index] if index < len(old_prefix) else old.get("items", {})
            changes += self.diff(old_item, new_item, f"{path}[{index}]")
        if isinstance(new.get("items"), Mapping):
            old_items = old.get("items")
            changes += self.diff(
                old_items if isinstance(old_items, Mapping) else {}, new["items"], f"{path}[]"
            )
        return changes


def _resolve(doc: Schema, schema: Schema) -> Schema:
    """`schema` with `$ref`s (`#/$defs/...`) and single-entry `allOf`s replaced by their
    targets; keywords beside the reference (e.g. description) are kept."""
    seen: set[str] = set()
    while True:
        if "$ref" in schema:
            ref = schema["$ref"]
            if ref in seen or not ref.startswith("#/"):
                return schema
            seen.add(ref)
            target: Any = doc
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            rest = {key: value for key, value in schema.items() if key != "$ref"}
            schema = {**target, **rest}
        elif isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
            rest = {key: value for key, value in schema.items() if key != "allOf"}
            schema = {**schema["allOf"][0], **rest}
        else:
            return schema


def _alternatives(schema: Schema) -> list[Schema]:
    for word in ("anyOf", "oneOf"):
        if isinstance(schema.get(word), list):
            return list(schema[word])
    return [schema]


def _name(schema: Schema) -> str:
    """How an alternative is recognised on both sides: its definition, title or type."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "title" in schema:
        return str(schema["title"])
    return _show(_types(schema))


def _types(schema: Schema) -> set[str] | None:
    """The JSON types `schema` allows, or None for any."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    values = _values(schema)
    if values is not None:
        return {_json_type(json.loads(value)) for value in values}
    if "properties" in schema:
        return {"object"}
    return None


def _values(schema: Schema) -> set[str] | None:
    """The allowed values (as JSON text, so that 1 and true differ), or None for any."""
    if "const" in schema:
        return {json.dumps(schema["const"], sort_keys=True)}
    if isinstance(schema.get("enum"), list):
        return {json.dumps(value, sort_keys=True) for value in schema["enum"]}
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _widened(old_type: str, new_types: set[str]) -> bool:
    return old_type == "integer" and "number" in new_types


def _show(types: set[str] | None) -> str:
    return "|".join(sorted(types)) if types is not None else "(any type)"
