"""The imported organisation's helpers (tree, invitations, eligible counts, roles), its
validation when built in code, and its vocabulary against the event contracts."""

from __future__ import annotations

from typing import get_args

import pytest

from forbedring_survey.domain.org_import import (
    LANGUAGES,
    ROLES,
    Assignment,
    ImportRefused,
    Invitation,
    Organisation,
    Person,
    ProblemCode,
    RoleAssignment,
    Unit,
    is_valid_email,
)
from services.survey.tests.unit.org_import_tables import (
    base_tables,
    run,
)

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
