"""The generated demo hospital: its promised shape, its fixed demo accounts, and that it
goes through the real import path (CSV and JSON) unchanged."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from forbedring_survey.demo.hospital import (
    DEMO_ACCOUNTS,
    DEMO_DOMAIN,
    DEMO_SECOND_UNIT_ID,
    DEMO_UNIT_ID,
    PEOPLE,
    ROOT_ID,
    generate_demo_hospital,
    to_csv_files,
    to_json,
)
from forbedring_survey.domain.org_import import (
    ROLES,
    Organisation,
    is_valid_email,
    parse_csv_files,
    parse_json,
)


@pytest.fixture(scope="module")
def demo() -> Organisation:
    return generate_demo_hospital()


def test_the_tree_has_the_promised_shape(demo: Organisation) -> None:
    kinds = Counter(u.kind for u in demo.units)
    assert kinds["enterprise"] == 1
    assert kinds["division"] == 4
    assert 25 <= kinds["department"] <= 35
    assert 130 <= kinds["section"] + kinds["cost_centre"] <= 170
    assert kinds["section"] > 0
    assert kinds["cost_centre"] > 0
    assert demo.root.unit_id == ROOT_ID
    assert demo.root.kind == "enterprise"
    for unit in demo.units:
        parent = demo.parent(unit.unit_id)
        if unit.kind == "division":
            assert parent == demo.root
        if unit.kind == "department":
            assert parent is not None
            assert parent.kind == "division"
        if unit.kind in ("section", "cost_centre"):
            assert len(demo.ancestors(unit.unit_id)) >= 3
    assert len({u.name for u in demo.units}) == len(demo.units), "names are unique"


def test_people_names_emails_and_languages(demo: Organisation) -> None:
    assert len(demo.people) == PEOPLE == 12_000
    emails = [p.email for p in demo.people]
    assert len(set(emails)) == len(emails)
    assert all(e.endswith(f"@{DEMO_DOMAIN}") and is_valid_email(e) for e in emails)
    assert all(" " in p.name for p in demo.people)
    languages = Counter(p.language for p in demo.people)
    assert languages["nb"] > 0.75 * PEOPLE
    assert 0.04 * PEOPLE < languages["nn"] < 0.15 * PEOPLE
    assert 0.02 * PEOPLE < languages["en"] < 0.10 * PEOPLE
    assert any("ø" in p.name or "å" in p.name or "æ" in p.name for p in demo.people)


def test_assignments_two_units_and_zero_percent(demo: Organisation) -> None:
    per_person = Counter(a.employee_id for a in demo.assignments)
    assert set(per_person) == {p.employee_id for p in demo.people}, "everyone works somewhere"
    two_units = sum(1 for n in per_person.values() if n == 2)
    assert 0.04 * PEOPLE <= two_units <= 0.06 * PEOPLE
    assert max(per_person.values()) == 2
    zero = [a for a in demo.assignments if a.position_percent == 0]
    assert 10 <= len(zero) <= 100
    invited = len(demo.invitations())
    assert invited == len(demo.assignments) - len(zero)
    assert sum(demo.eligible_counts().values()) == invited
    assert demo.eligible_including_subunits()[ROOT_ID] == invited
    for unit in demo.units:
        if not demo.children(unit.unit_id):
            assert demo.eligible(unit.unit_id) >= 10, unit
    totals = Counter[str]()
    for a in demo.assignments:
        totals[a.employee_id] += int(a.position_percent)
    assert max(totals.values()) <= 100


def test_every_unit_has_a_leader_a_safety_rep_and_a_union_rep(demo: Organisation) -> None:
    for unit in demo.units:
        held = {r.role for r in demo.roles_for(unit.unit_id)}
        assert {"leader", "safety_rep", "union_rep"} <= held, unit
    hr_admins = [r for r in demo.roles if r.role == "hr_admin"]
    assert 3 <= len(hr_admins) <= 10
    assert {r.unit_id for r in hr_admins} == {ROOT_ID}
    assert {r.role for r in demo.roles} == set(ROLES)
    invited = {i.employee_id for i in demo.invitations()}
    representatives = {r.employee_id for r in demo.roles if r.role in ("safety_rep", "union_rep")}
    assert representatives <= invited, "representatives are staff who are invited"


def test_the_demo_accounts(demo: Organisation) -> None:
    ids = {a.employee_id for a in DEMO_ACCOUNTS}
    assert {"demo-employee", "demo-leader", "demo-safety-rep", "demo-hr-admin"} <= ids
    for account in DEMO_ACCOUNTS:
        person = demo.person(account.employee_id)
        assert (person.name, person.email, person.language) == (
            account.name,
            account.email,
            account.language,
        )
    assert demo.unit(DEMO_UNIT_ID).name == "Sengepost 3B"
    assert demo.unit(DEMO_SECOND_UNIT_ID).name == "Medisinsk poliklinikk"

    def invited_units(employee_id: str) -> list[str]:
        return [i.unit_id for i in demo.invitations() if i.employee_id == employee_id]

    for employee_id in ("demo-employee", "demo-employee-nn", "demo-employee-en"):
        assert invited_units(employee_id) == [DEMO_UNIT_ID]
        assert demo.roles_of(employee_id) == ()
    assert [demo.person(f"demo-employee-{x}").language for x in ("nn", "en")] == ["nn", "en"]
    assert invited_units("demo-two-units") == [DEMO_UNIT_ID, DEMO_SECOND_UNIT_ID]
    assert invited_units("demo-zero") == []
    assert demo.holders(DEMO_UNIT_ID, "leader") == (demo.person("demo-leader"),)
    assert demo.holders(DEMO_UNIT_ID, "safety_rep") == (demo.person("demo-safety-rep"),)
    assert demo.holders(DEMO_UNIT_ID, "union_rep") == (demo.person("demo-union-rep"),)
    assert demo.person("demo-hr-admin") in demo.holders(ROOT_ID, "hr_admin")


def test_the_same_seed_gives_the_same_hospital(demo: Organisation) -> None:
    assert generate_demo_hospital(2026) == demo
    other = generate_demo_hospital(7)
    assert other != demo
    assert other.units == demo.units, "the tree does not depend on the seed"
    assert {a.employee_id for a in DEMO_ACCOUNTS} <= {p.employee_id for p in other.people}


def test_round_trips_through_csv_and_json_import(
    demo: Organisation, capsys: pytest.CaptureFixture[str]
) -> None:
    files = to_csv_files(demo)
    assert sorted(files) == ["assignments.csv", "people.csv", "roles.csv", "units.csv"]
    started = time.perf_counter()
    from_csv = parse_csv_files(files)
    csv_seconds = time.perf_counter() - started

    excel = {
        name: text.encode("utf-8")
        for name, text in to_csv_files(demo, delimiter=";", byte_order_mark=True).items()
    }
    started = time.perf_counter()
    from_excel = parse_csv_files(excel)
    excel_seconds = time.perf_counter() - started

    document = to_json(demo)
    started = time.perf_counter()
    from_json = parse_json(document)
    json_seconds = time.perf_counter() - started

    assert from_csv == demo
    assert from_excel == demo
    assert from_json == demo
    with capsys.disabled():
        print(
            f"\ndemo hospital ({len(demo.people)} people, {len(demo.assignments)} assignments, "
            f"{len(demo.units)} units): parse+validate CSV {csv_seconds * 1000:.0f} ms, "
            f"semicolon CSV with BOM {excel_seconds * 1000:.0f} ms, "
            f"JSON {json_seconds * 1000:.0f} ms"
        )
