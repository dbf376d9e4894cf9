"""A national trust for the national benchmark: `employees` people in `units` units
(enterprise > divisions > departments > sections), in the import's JSON shape. Section
sizes vary, so some are under k and their results are hidden, as in a real trust."""

import random
from dataclasses import dataclass, field
from typing import Any

DOMAIN = "national-bench.example"
HR_ADMIN = "national-hr"
LANGUAGES = ("nb", "nn", "en")
LANGUAGE_SHARES = (0.80, 0.12, 0.08)


@dataclass
class NationalTrust:
    document: dict[str, list[dict[str, Any]]]
    root: str
    leaders: dict[str, str] = field(default_factory=dict)
    """unit id -> its leader's employee id"""
    members: dict[str, str] = field(default_factory=dict)
    """employee id -> the section they work in"""


def national_trust(*, employees: int, units: int, seed: int = 2026) -> NationalTrust:
    if units < 20 or employees < units:
        raise ValueError("a national trust has at least 20 units and a person per unit")
    rng = random.Random(seed)
    divisions = max(1, units // 1000)
    departments = max(divisions, units // 100)
    sections = units - 1 - divisions - departments
    rows_units: list[dict[str, Any]] = [
        {
            "unit_id": "NAT",
            "parent_id": None,
            "name": "Nasjonalt helseforetak",
            "kind": "enterprise",
        }
    ]
    division_ids = [f"D{d:03d}" for d in range(divisions)]
    rows_units += [
        {"unit_id": d, "parent_id": "NAT", "name": f"Klinikk {d}", "kind": "division"}
        for d in division_ids
    ]
    department_ids = [f"A{a:04d}" for a in range(departments)]
    rows_units += [
        {
            "unit_id": a,
            "parent_id": division_ids[i % divisions],
            "name": f"Avdeling {a}",
            "kind": "department",
        }
        for i, a in enumerate(department_ids)
    ]
    section_ids = [f"S{s:05d}" for s in range(sections)]
    rows_units += [
        {
            "unit_id": s,
            "parent_id": department_ids[i % departments],
            "name": f"Seksjon {s}",
            "kind": "section",
        }
        for i, s in enumerate(section_ids)
    ]

    weights = [rng.uniform(0.15, 1.85) for _ in section_ids]
    places = rng.choices(section_ids, weights=weights, k=employees - len(section_ids))
    places += section_ids  # everyone section has at least one person
    rng.shuffle(places)
    trust = NationalTrust(document={}, root="NAT")
    people, assignments, roles = [], [], []
    for n, section in enumerate(places):
        employee_id = f"N{n:06d}"
        language = rng.choices(LANGUAGES, weights=LANGUAGE_SHARES)[0]
        people.append(
            {
                "employee_id": employee_id,
                "name": f"Ansatt {n}",
                "email": f"n{n:06d}@{DOMAIN}",
                "language": language,
            }
        )
        assignments.append(
            {"employee_id": employee_id, "unit_id": section, "position_percent": 100}
        )
        trust.members[employee_id] = section
        trust.leaders.setdefault(section, employee_id)
    # An inner unit is led by the leader of its first section.
    parent_of = {u["unit_id"]: u["parent_id"] for u in rows_units}
    for section in section_ids:
        unit = parent_of[section]
        while unit is not None and unit not in trust.leaders:
            trust.leaders[unit] = trust.leaders[section]
            unit = parent_of[unit]
    roles += [{"employee_id": e, "unit_id": u, "role": "leader"} for u, e in trust.leaders.items()]
    people.append(
        {"employee_id": HR_ADMIN, "name": "HR", "email": f"hr@{DOMAIN}", "language": "nb"}
    )
    assignments.append({"employee_id": HR_ADMIN, "unit_id": "NAT", "position_percent": 100})
    roles.append({"employee_id": HR_ADMIN, "unit_id": "NAT", "role": "hr_admin"})
    trust.document = {
        "units": rows_units,
        "people": people,
        "assignments": assignments,
        "roles": roles,
    }
    return trust
