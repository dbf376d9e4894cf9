"""Fuzzing the parsers that read what others send: the survey's organisation import (CSV
files and one JSON document, from an HR system's export) and the event decoder (every
record a consumer takes off the bus). Arbitrary bytes and inputs that are nearly right
must end in the module's own refusal, with a message, or in a valid result: never in any
other exception. Pure: no infrastructure. Bounded by max_examples."""

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forbedring_aggregation import testing as synth
from forbedring_contracts import envelope
from forbedring_contracts.envelope import InvalidEvent, KafkaRecord
from forbedring_survey.domain.org_import import (
    COLUMNS,
    CSV_FILE_NAMES,
    ImportRefused,
    Organisation,
    parse_csv_files,
    parse_json,
    to_csv_files,
)
from forbedring_survey.testing import small_organisation
from tests.security.conftest import Results

EXAMPLES = 300
bounded = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same inputs every run: a CI failure is reproduced here
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)


class Outcomes:
    """How each input ended, counted for docs/resilience.md."""

    def __init__(self) -> None:
        self.refused = 0
        self.accepted = 0

    def run(self, parse: Callable[[], object], refusal: type[Exception]) -> None:
        message: str | None = None
        try:
            parse()
        except refusal as exc:
            message = str(exc)
        if message is None:
            self.accepted += 1
            return
        assert message.strip(), f"{refusal.__name__} without a message"
        self.refused += 1


def check_import_refusal(exc: ImportRefused) -> None:
    assert exc.problems, "refused with no problem named"
    assert all(p.message for p in exc.problems)


def run_import(outcomes: Outcomes, parse: Callable[[], Organisation]) -> None:
    def parsed() -> Organisation:
        try:
            return parse()
        except ImportRefused as exc:
            check_import_refusal(exc)
            raise

    outcomes.run(parsed, ImportRefused)


# --- the organisation import ---------------------------------------------------------

VALID_ORG = small_organisation({"a": 3, "b": 2})
VALID_JSON = json.dumps(VALID_ORG)


def record(results: Results, target: str, inputs: str, outcomes: Outcomes) -> None:
    results.record(
        "fuzzing",
        target=target,
        inputs=inputs,
        examples=outcomes.refused + outcomes.accepted,
        refused=outcomes.refused,
        accepted=outcomes.accepted,
        other_exceptions=0,  # any other exception fails the test before this line
    )


def test_the_json_import_refuses_arbitrary_bytes(results: Results) -> None:
    outcomes = Outcomes()

    @bounded
    @given(st.binary(max_size=2000))
    def fuzz(data: bytes) -> None:
        run_import(outcomes, lambda: parse_json(data))

    fuzz()
    record(results, "survey organisation import, JSON", "arbitrary bytes", outcomes)


def test_the_json_import_refuses_documents_of_the_wrong_shape(results: Results) -> None:
    outcomes = Outcomes()
    tables = st.sampled_from(list(COLUMNS))

    @bounded
    @given(
        st.one_of(
            json_values,
            # the right tables holding anything
            st.dictionaries(tables, json_values, max_size=4),
            # the right tables and columns holding anything
            st.dictionaries(
                tables,
                st.lists(
                    st.dictionaries(
                        st.sampled_from(sorted({c for cs in COLUMNS.values() for c in cs})),
                        json_values,
                    ),
                    max_size=4,
                ),
                max_size=4,
            ),
        )
    )
    def fuzz(document: Any) -> None:
        run_import(outcomes, lambda: parse_json(json.dumps(document)))

    fuzz()
    record(results, "survey organisation import, JSON", "JSON of the wrong shape", outcomes)


def test_the_json_import_refuses_a_valid_document_with_one_value_changed(
    results: Results,
) -> None:
    outcomes = Outcomes()

    @bounded
    @given(st.randoms(use_true_random=False), json_values)
    def fuzz(rng: random.Random, value: Any) -> None:
        document = json.loads(VALID_JSON)
        table = rng.choice(list(COLUMNS))
        row = rng.choice(document[table])
        row[rng.choice(sorted(row))] = value
        run_import(outcomes, lambda: parse_json(json.dumps(document)))

    fuzz()
    record(
        results, "survey organisation import, JSON", "a valid document, one value changed", outcomes
    )


CSV_NAMES = [*CSV_FILE_NAMES.values(), "other.csv", "Units.CSV", "dir/people.csv"]


def test_the_csv_import_refuses_arbitrary_files(results: Results) -> None:
    outcomes = Outcomes()

    @bounded
    @given(
        st.dictionaries(
            st.sampled_from(CSV_NAMES) | st.text(max_size=12),
            st.binary(max_size=500) | st.text(max_size=500),
            max_size=5,
        )
    )
    def fuzz(files: dict[str, bytes | str]) -> None:
        run_import(outcomes, lambda: parse_csv_files(files))

    fuzz()
    record(results, "survey organisation import, CSV", "arbitrary files and bytes", outcomes)


VALID_CSV = to_csv_files(parse_json(VALID_JSON))


def test_the_csv_import_refuses_valid_files_with_lines_and_cells_changed(
    results: Results,
) -> None:
    outcomes = Outcomes()
    cells = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
        ["", '"', '""', ";", ",", "\t", "sep=;", "\ufeff", "\r", "\n", "50,5 %", "-1", "1e309"]
    )

    @bounded
    @given(st.randoms(use_true_random=False), st.lists(cells, min_size=1, max_size=6))
    def fuzz(rng: random.Random, inserted: list[str]) -> None:
        files = {name: str(content) for name, content in VALID_CSV.items()}
        name = rng.choice(sorted(files))
        lines = files[name].splitlines()
        at = rng.randrange(len(lines) + 1)
        what = rng.choice(("replace", "insert", "join"))
        line = rng.choice((",", ";", "\t")).join(inserted)
        if what == "replace" and at < len(lines):
            lines[at] = line
        elif what == "join" and at < len(lines):
            lines[at] += line
        else:
            lines.insert(at, line)
        files[name] = "\n".join(lines)
        run_import(outcomes, lambda: parse_csv_files(files))

    fuzz()
    record(results, "survey organisation import, CSV", "valid files, a line changed", outcomes)


# --- the event decoder ---------------------------------------------------------------

_UNITS = synth.unit_tree(3, fan_out=3)
_EVENTS = [
    synth.period_opened("p-1", _UNITS, synth.questionnaire()),
    synth.hr_directory("p-1", _UNITS),
    *synth.responses(random.Random(1), "p-1", synth.questionnaire(), {"HF-L0": 1}),
    synth.period_closed("p-1", {"HF-L0": 1}),
]
RECORDS: list[KafkaRecord] = [envelope.encode(event) for event in _EVENTS]
HEADER_NAMES = sorted({name for r in RECORDS for name, _ in r.headers})


def decode(record: KafkaRecord, *, value: bytes | None = None, headers: Any = None) -> object:
    return envelope.decode(
        record.value if value is None else value,
        record.headers if headers is None else headers,
        key=record.key,
        topic=record.topic,
    )


def test_every_sample_record_decodes() -> None:
    """The control: the unchanged records are accepted, so a refusal below is the change's."""
    for r in RECORDS:
        decode(r)


def test_the_decoder_refuses_arbitrary_bodies(results: Results) -> None:
    outcomes = Outcomes()

    @bounded
    @given(
        st.sampled_from(RECORDS),
        st.binary(max_size=2000) | json_values.map(lambda v: json.dumps(v).encode()),
    )
    def fuzz(r: KafkaRecord, body: bytes) -> None:
        outcomes.run(lambda: decode(r, value=body), InvalidEvent)

    fuzz()
    record(results, "event decoder (contracts envelope)", "true headers, any body", outcomes)


def test_the_decoder_refuses_a_true_body_with_one_field_changed(results: Results) -> None:
    outcomes = Outcomes()

    @bounded
    @given(st.sampled_from(RECORDS), st.randoms(use_true_random=False), json_values)
    def fuzz(r: KafkaRecord, rng: random.Random, value: Any) -> None:
        body = json.loads(r.value)
        target = body
        # walk down a random path of objects and lists, then change what is there
        while isinstance(target, dict | list) and target and rng.random() < 0.6:
            inner = (
                target[rng.choice(sorted(target))]
                if isinstance(target, dict)
                else rng.choice(target)
            )
            if not isinstance(inner, dict | list) or not inner:
                break
            target = inner
        if isinstance(target, dict) and target:
            target[rng.choice(sorted(target))] = value
        elif isinstance(target, list) and target:
            target[rng.randrange(len(target))] = value
        outcomes.run(lambda: decode(r, value=json.dumps(body).encode()), InvalidEvent)

    fuzz()
    record(
        results, "event decoder (contracts envelope)", "a true body, one field changed", outcomes
    )


def test_the_decoder_refuses_wrong_headers(results: Results) -> None:
    outcomes = Outcomes()
    header_values = st.binary(max_size=40) | st.text(max_size=40).map(str.encode) | st.none()

    @bounded
    @given(
        st.sampled_from(RECORDS),
        st.lists(
            st.tuples(st.sampled_from(HEADER_NAMES) | st.text(max_size=10), header_values),
            max_size=10,
        ),
        st.booleans(),
    )
    def fuzz(r: KafkaRecord, changes: list[tuple[str, bytes | None]], as_mapping: bool) -> None:
        headers: list[tuple[str, bytes | None]] = list(r.headers)
        for name, value in changes:
            if changes and value is not None and len(value) % 3 == 0:
                headers.append((name, value))  # a second one of the same name, or a new one
            else:
                headers = [(n, value if n == name else v) for n, v in headers]
        given_headers: Any = dict(headers) if as_mapping else headers
        outcomes.run(lambda: decode(r, headers=given_headers), InvalidEvent)

    fuzz()
    record(results, "event decoder (contracts envelope)", "true body, headers changed", outcomes)


@pytest.mark.parametrize("value", [b"", b"\x00", b"{}", b"[]", b"null", b'"x"'])
def test_the_decoder_refuses_empty_and_trivial_bodies(value: bytes) -> None:
    with pytest.raises(InvalidEvent):
        decode(RECORDS[0], value=value) if value else envelope.decode(None, RECORDS[0].headers)
