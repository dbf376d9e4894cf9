"""The `forbedring` command (aggregation service tools).

    forbedring suppression-preview FILE     # or: python -m forbedring_aggregation.cli ...
    forbedring rebuild --period ID           # settings from AGGREGATION_* variables

`suppression-preview` reads `{"k": 5, "units": [{"id": "R", "parent": null,
"direct": 0}, ...]}` (direct = respondents answering directly for that unit; FILE may
be `-` for standard input) and prints `{"published": [ids], "suppressed": [ids]}` with
sorted ids. Invalid input: a message on stderr and exit code 2.

`rebuild` re-reads the period's responses from the earliest offset of the Kafka log into
fresh counters, builds the snapshot and prints `{"checksum": ..., "stored_checksum": ...,
"identical": ...}`; exit code 1 when it differs from the stored snapshot.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from forbedring_aggregation.domain.suppression import (
    InvalidUnitTreeError,
    SuppressionAuditError,
    UnitNode,
    compute_suppression,
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INVALID_INPUT = 2

_TOP_KEYS = {"k", "units"}
_UNIT_KEYS = {"id", "parent", "direct"}


class InputError(Exception):
    """The preview input is not what the command accepts; the message says why."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_preview_input(document: Any) -> tuple[int, list[UnitNode]]:
    """Check the shape of the preview JSON and turn it into (k, units).

    Field shapes are checked here; the tree itself (roots, parents, cycles, duplicates,
    negative counts) is checked by `build_unit_tree`, which lists every problem.
    """
    if not isinstance(document, dict):
        raise InputError('expected a JSON object {"k": ..., "units": [...]}')
    problems: list[str] = []
    missing = sorted(_TOP_KEYS - document.keys())
    unknown = sorted(document.keys() - _TOP_KEYS)
    if missing:
        problems.append(f"missing key(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown key(s): {', '.join(unknown)}")
    k: int | None = None
    if "k" in document:
        if _is_int(document["k"]) and document["k"] >= 1:
            k = document["k"]
        else:
            problems.append(f'"k" must be an integer >= 1, got {json.dumps(document["k"])}')
    raw_units = document.get("units")
    units: list[UnitNode] = []
    if "units" in document and not isinstance(raw_units, list):
        problems.append('"units" must be a list')
    elif isinstance(raw_units, list):
        for index, raw in enumerate(raw_units):
            where = f"units[{index}]"
            if not isinstance(raw, dict):
                problems.append(f"{where}: expected an object with id, parent, direct")
                continue
            unit_missing = sorted(_UNIT_KEYS - raw.keys())
            unit_unknown = sorted(raw.keys() - _UNIT_KEYS)
            if unit_missing:
                problems.append(f"{where}: missing key(s): {', '.join(unit_missing)}")
            if unit_unknown:
                problems.append(f"{where}: unknown key(s): {', '.join(unit_unknown)}")
            uid, parent, direct = raw.get("id"), raw.get("parent"), raw.get("direct")
            bad = len(problems)
            if "id" in raw and (not isinstance(uid, str) or not uid):
                problems.append(f'{where}: "id" must be a non-empty string, got {json.dumps(uid)}')
            if parent is not None and (not isinstance(parent, str) or not parent):
                problems.append(
                    f'{where}: "parent" must be null or a non-empty string, '
                    f"got {json.dumps(parent)}"
                )
            if "direct" in raw and not _is_int(direct):
                problems.append(f'{where}: "direct" must be an integer, got {json.dumps(direct)}')
            if len(problems) == bad and not unit_missing and not unit_unknown:
                units.append(UnitNode(id=raw["id"], parent=raw["parent"], direct=raw["direct"]))
    if problems or k is None:
        raise InputError("\n".join(problems))
    return k, units


def _read_json(file: str) -> Any:
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {file}: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{file} is not valid JSON: {exc}") from exc


def _suppression_preview(args: argparse.Namespace) -> int:
    prog = "forbedring suppression-preview"
    try:
        k, units = parse_preview_input(_read_json(args.file))
        result = compute_suppression(units, k)
    except InputError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    except InvalidUnitTreeError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    except SuppressionAuditError as exc:
        print(f"{prog}: internal error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(json.dumps(result.preview()))
    return EXIT_OK


def _rebuild(args: argparse.Namespace) -> int:
    import asyncio

    from forbedring_aggregation.rebuild import rebuild
    from forbedring_aggregation.settings import AggregationSettings

    try:
        rebuilt = asyncio.run(rebuild(AggregationSettings(), args.period))
    except LookupError as exc:
        print(f"forbedring rebuild: error: {exc}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    print(json.dumps(rebuilt.report()))
    return EXIT_FAILURE if rebuilt.identical is False else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="forbedring", description="Forbedring aggregation tools")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    preview = commands.add_parser(
        "suppression-preview",
        help="which units of a unit tree would get results",
        description=(
            'Read {"k": 5, "units": [{"id": "R", "parent": null, "direct": 0}, ...]} '
            "(direct = respondents answering directly for the unit) and print "
            '{"published": [ids], "suppressed": [ids]}. Exit 2 on invalid input.'
        ),
    )
    preview.add_argument("file", metavar="FILE", help="the JSON input, or - for standard input")
    preview.set_defaults(handler=_suppression_preview)
    rebuild = commands.add_parser(
        "rebuild",
        help="rebuild a period's snapshot from the Kafka log and compare it",
        description=(
            "Re-read period-opened and response-submitted from the earliest offset into "
            "fresh counters, build the period's snapshot and compare it with the stored one "
            "(settings from the AGGREGATION_* environment). Exit 1 when they differ."
        ),
    )
    rebuild.add_argument("--period", required=True, metavar="ID", help="the period id")
    rebuild.set_defaults(handler=_rebuild)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = args.handler
    code: int = handler(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
