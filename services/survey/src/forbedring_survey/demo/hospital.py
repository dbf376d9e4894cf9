"""A generated demo hospital trust, "Demo helseforetak HF", for `make up` and tests.

Deterministic: the same seed gives the same organisation, value for value. The unit tree
(`tree`) does not depend on the seed at all, so its ids can be named in docs; the seed
shapes the people, their assignments and who holds which role.

Shape: one enterprise; 4 divisions (clinics); 32 departments; 151 sections and cost
centres; 12,000 people with Norwegian names and addresses at ``@demo-hf.no`` (a fictional
domain), most preferring bokmål, some nynorsk and some English; about 5 % assigned to two
units; a few at 0 % (on leave: not invited); a leader, a safety representative and a union
representative for every unit; a handful of HR admins at the root.

Fixed demo accounts (:data:`DEMO_ACCOUNTS`), present whatever the seed; sign in with the
employee id:

``demo-employee``     an employee (bokmål) of :data:`DEMO_UNIT_ID`, "Sengepost 3B"
``demo-employee-nn``  the same unit, nynorsk
``demo-employee-en``  the same unit, English
``demo-two-units``    60 % in Sengepost 3B and 40 % in :data:`DEMO_SECOND_UNIT_ID`
                      (two invitations)
``demo-leader``       leader of Sengepost 3B
``demo-safety-rep``   safety representative (verneombud) of Sengepost 3B
``demo-union-rep``    union representative (tillitsvalgt) of Sengepost 3B
``demo-hr-admin``     HR admin for the whole trust (role at the root), works in HR
``demo-zero``         assigned at 0 % (on leave): has no invitation

All names, units and people here were written for this demo or drawn at random from
common first names and surnames; any likeness to a real hospital or person is chance.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from forbedring_survey.demo.tree import (
    DEMO_SECOND_UNIT_ID,
    DEMO_UNIT_ID,
    HR_UNIT_ID,
    ROOT_ID,
    UNITS,
)
from forbedring_survey.domain.org_import import (
    Assignment,
    Language,
    Organisation,
    Person,
    Role,
    RoleAssignment,
    Unit,
    to_csv_files,
    to_json,
)

__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_DOMAIN",
    "DEMO_SECOND_UNIT_ID",
    "DEMO_UNIT_ID",
    "PEOPLE",
    "ROOT_ID",
    "DemoAccount",
    "generate_demo_hospital",
    "to_csv_files",
    "to_json",
]

DEMO_DOMAIN: Final = "demo-hf.no"
PEOPLE: Final = 12_000
"""How many people the demo hospital employs, demo accounts included."""


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """A fixed account to sign in as (the employee id is the login)."""

    employee_id: str
    name: str
    language: Language
    description: str

    @property
    def email(self) -> str:
        return f"{self.employee_id}@{DEMO_DOMAIN}"


DEMO_ACCOUNTS: Final[tuple[DemoAccount, ...]] = (
    DemoAccount("demo-employee", "Demo Ansatt", "nb", "Employee of Sengepost 3B (bokmål)."),
    DemoAccount("demo-employee-nn", "Demo Tilsett", "nn", "Employee of Sengepost 3B (nynorsk)."),
    DemoAccount("demo-employee-en", "Demo Employee", "en", "Employee of Sengepost 3B (English)."),
    DemoAccount(
        "demo-two-units",
        "Demo Todelt",
        "nb",
        "60 % in Sengepost 3B and 40 % in Medisinsk poliklinikk: two invitations.",
    ),
    DemoAccount("demo-leader", "Demo Leder", "nb", "Leader of Sengepost 3B."),
    DemoAccount(
        "demo-safety-rep", "Demo Verneombud", "nb", "Safety representative of Sengepost 3B."
    ),
    DemoAccount(
        "demo-union-rep", "Demo Tillitsvalgt", "nb", "Union representative of Sengepost 3B."
    ),
    DemoAccount("demo-hr-admin", "Demo HR-rådgiver", "nb", "HR admin for the whole trust."),
    DemoAccount("demo-zero", "Demo Permisjon", "nb", "At 0 % (on leave): not invited."),
)


# --- names -----------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FEMALE: Final = _words(
    "Anne Inger Kari Marit Ingrid Liv Eva Berit Astrid Bjørg Hilde Anna Solveig Marianne "
    "Randi Ida Nina Maria Elisabeth Kristin Bente Heidi Silje Hanne Gerd Linda Tone Camilla "
    "Julie Ragnhild Mette Ellen Karin Ingeborg Nora Emma Sara Thea Ingvild Sigrid Tuva Maren "
    "Kjersti Siri Vilde Ane Guro Synnøve Torunn Åse Line Lene Stine Trine Kristine Monica "
    "Marte Hege Elin Oda Frida Helene Mari Tonje Cecilie Eli Unni Wenche Gunn Aud Sunniva"
)
_MALE: Final = _words(
    "Jan Per Bjørn Ole Lars Kjell Knut Arne Svein Thomas Hans Geir Tor Morten Terje Odd Erik "
    "Martin Andreas Rune Trond Anders Tore Jon Kristian Espen Harald Eirik Magnus Jonas "
    "Henrik Sindre Øyvind Håkon Sigurd Stian Vegard Ivar Steinar Even Aksel Mats Emil Tobias "
    "Halvor Torbjørn Gunnar Olav Nils Johannes Are Audun Einar Frode Petter Sverre Vidar "
    "Asbjørn Kåre Leif Roar Ståle Jørgen Fredrik Sondre Elias Oskar Kasper"
)
_SURNAMES: Final = _words(
    "Hansen Johansen Olsen Larsen Andersen Pedersen Nilsen Kristiansen Jensen Karlsen "
    "Johnsen Pettersen Eriksen Berg Haugen Hagen Johannessen Andreassen Jacobsen Dahl "
    "Jørgensen Henriksen Lund Halvorsen Sørensen Jakobsen Moen Gundersen Iversen Strand "
    "Solberg Svendsen Eide Knutsen Martinsen Paulsen Bakken Kristoffersen Mathisen Lie "
    "Amundsen Rasmussen Lunde Solheim Berge Moe Nygård Bakke Fredriksen Holm Lien Hauge "
    "Andresen Knudsen Evensen Sæther Aas Myhre Haugland Thomassen Sivertsen Simonsen "
    "Danielsen Berntsen Sandvik Rønning Arnesen Antonsen Næss Vik Haug Ellingsen Thorsen "
    "Edvardsen Birkeland Isaksen Gulbrandsen Ruud Aasen Strøm Myklebust Tangen Ødegård "
    "Eliassen Helland Bøe Aune Mikkelsen Tveit Brekke Abrahamsen Madsen Hovland Fjeld "
    "Nordby Rustad Vold Skogen Grønning Kvam Lervik Hole Engen Bjerke Tveiten Nesse"
)
_INTERNATIONAL_FIRST: Final = _words(
    "Anna Maria Katarzyna Agnieszka Sofia Elena Laura Sarah Fatima Amina Priya Ana Lucia "
    "Marta Joanna Ewa Tomasz Piotr Michael David James Daniel Ahmed Mohammed Luis Carlos "
    "Ivan Andrei Mikael Lukas Matteo Jakub Mateusz Yusuf Omar Chen Wei Hana Aisha"
)
_INTERNATIONAL_SURNAMES: Final = _words(
    "Kowalski Nowak Wiśniewska Smith Brown García Fernández Rossi Müller Schmidt Svensson "
    "Lindqvist Virtanen Korhonen Hassan Khan Ali Nguyen Tran Popescu Ivanova Petrov Silva "
    "Santos Kaur Singh Okafor Mensah Novak Horvat Kovács Papadopoulos Yilmaz Haddad Mwangi"
)

_NORDIC: Final = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ß": "ss", "ł": "l"})


def _ascii(text: str) -> str:
    """``"Bjørg Ødegård-Ås"`` -> ``"bjorg-odegard-as"``: lowercase ASCII for an address."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_NORDIC))
    kept = "".join(
        c if c.isascii() and c.isalnum() else "-"
        for c in decomposed
        if not unicodedata.combining(c)
    )
    return re.sub(r"-{2,}", "-", kept).strip("-")


# --- people ----------------------------------------------------------------------------

_POSITIONS: Final = ((100, 58), (80, 12), (75, 5), (60, 6), (50, 8), (40, 4), (20, 4), (10, 3))
_TWO_UNIT_SHARE: Final = 0.05
_ZERO_COUNT: Final = 36
_HR_ADMINS: Final = 5


@dataclass(slots=True)
class _Builder:
    rng: random.Random
    people: list[Person]
    assignments: list[Assignment]
    roles: list[RoleAssignment]
    emails: set[str]
    next_number: int = 100_001

    def person(self, language: Language | None = None) -> Person:
        rng = self.rng
        if language is None:
            draw = rng.random()
            language = "nb" if draw < 0.86 else "nn" if draw < 0.95 else "en"
        if language == "en":
            first = rng.choice(_INTERNATIONAL_FIRST)
            last = rng.choice(_INTERNATIONAL_SURNAMES)
        else:
            first = rng.choice(_FEMALE if rng.random() < 0.75 else _MALE)
            last = rng.choice(_SURNAMES)
            if rng.random() < 0.08:
                last = f"{rng.choice(_SURNAMES)} {last}"
        base = f"{_ascii(first)}.{_ascii(last).replace('-', '.')}"
        email, n = f"{base}@{DEMO_DOMAIN}", 1
        while email in self.emails:
            n += 1
            email = f"{base}{n}@{DEMO_DOMAIN}"
        self.emails.add(email)
        person = Person(f"E{self.next_number}", f"{first} {last}", email, language)
        self.next_number += 1
        self.people.append(person)
        return person

    def position(self) -> float:
        values, weights = zip(*_POSITIONS, strict=True)
        return float(self.rng.choices(values, weights)[0])


def generate_demo_hospital(seed: int = 2026, *, people: int = PEOPLE) -> Organisation:
    """The demo hospital for this seed (the same seed always gives an equal value).
    `people` makes a larger trust on the same tree (a test uploads 100,000)."""
    rng = random.Random(seed)
    b = _Builder(rng, [], [], [], set())
    units = UNITS
    children: dict[str, list[Unit]] = {u.unit_id: [] for u in units}
    for unit in units:
        if unit.parent_id is not None:
            children[unit.parent_id].append(unit)
    leaves = [u for u in units if not children[u.unit_id]]
    inner = [u for u in units if children[u.unit_id]]

    # The demo accounts first, so their ids and addresses are fixed.
    demo_people = {
        a.employee_id: Person(a.employee_id, a.name, a.email, a.language) for a in DEMO_ACCOUNTS
    }
    b.people.extend(demo_people.values())
    b.emails.update(p.email for p in demo_people.values())
    for employee_id in (
        "demo-employee",
        "demo-employee-nn",
        "demo-employee-en",
        "demo-leader",
        "demo-safety-rep",
        "demo-union-rep",
    ):
        b.assignments.append(Assignment(employee_id, DEMO_UNIT_ID, 100.0))
    b.assignments.append(Assignment("demo-two-units", DEMO_UNIT_ID, 60.0))
    b.assignments.append(Assignment("demo-two-units", DEMO_SECOND_UNIT_ID, 40.0))
    b.assignments.append(Assignment("demo-hr-admin", HR_UNIT_ID, 100.0))
    b.assignments.append(Assignment("demo-zero", DEMO_UNIT_ID, 0.0))
    b.roles.extend(
        (
            RoleAssignment("demo-leader", DEMO_UNIT_ID, "leader"),
            RoleAssignment("demo-safety-rep", DEMO_UNIT_ID, "safety_rep"),
            RoleAssignment("demo-union-rep", DEMO_UNIT_ID, "union_rep"),
            RoleAssignment("demo-hr-admin", ROOT_ID, "hr_admin"),
        )
    )

    # Leaders of the units above the cost centres work in the unit they lead, some with
    # staff (advisers, secretaries) of their own.
    members: dict[str, list[str]] = {u.unit_id: [] for u in units}
    leader_of: dict[str, str] = {DEMO_UNIT_ID: "demo-leader"}
    for unit in inner:
        leader = b.person()
        b.assignments.append(Assignment(leader.employee_id, unit.unit_id, 100.0))
        leader_of[unit.unit_id] = leader.employee_id
        staff_count = rng.randint(1, 4) if unit.kind in ("enterprise", "division") else 0
        if unit.kind == "department":
            staff_count = rng.randint(0, 2)
        for _ in range(staff_count):
            staff = b.person()
            b.assignments.append(Assignment(staff.employee_id, unit.unit_id, b.position()))
            members[unit.unit_id].append(staff.employee_id)

    # Everyone else works in a leaf unit, wards and theatres larger than small sections.
    remaining = people - len(b.people)
    weights = [_weight(u.name) * rng.uniform(0.75, 1.25) for u in leaves]
    sizes = _apportion(remaining, weights)
    ordinary: list[tuple[str, str]] = []  # (employee id, unit id) of plain employees
    for unit, size in zip(leaves, sizes, strict=True):
        for _ in range(size):
            person = b.person()
            unit_id = unit.unit_id
            if unit_id not in leader_of:
                leader_of[unit_id] = person.employee_id
                b.assignments.append(Assignment(person.employee_id, unit_id, 100.0))
                continue
            members[unit_id].append(person.employee_id)
            ordinary.append((person.employee_id, unit_id))

    # Some work in two units (mostly within their own department), a few are on leave.
    department_of = {u.unit_id: _department(u) for u in leaves}
    leaves_by_department: dict[str, list[str]] = {}
    for unit in leaves:
        leaves_by_department.setdefault(department_of[unit.unit_id], []).append(unit.unit_id)
    shuffled = list(ordinary)
    rng.shuffle(shuffled)
    two_units = dict(shuffled[: round(people * _TWO_UNIT_SHARE)])
    on_leave = dict(shuffled[len(two_units) : len(two_units) + _ZERO_COUNT])
    for employee_id, unit_id in ordinary:
        if employee_id in on_leave:
            b.assignments.append(Assignment(employee_id, unit_id, 0.0))
        elif employee_id in two_units:
            first = float(rng.choice((50, 60, 70, 80)))
            second = float(rng.choice(range(10, int(100 - first) + 1, 10)))
            nearby = leaves_by_department[department_of[unit_id]]
            pool = nearby if len(nearby) > 1 and rng.random() < 0.7 else [u.unit_id for u in leaves]
            other = rng.choice([u for u in pool if u != unit_id])
            b.assignments.append(Assignment(employee_id, unit_id, first))
            b.assignments.append(Assignment(employee_id, other, second))
        else:
            b.assignments.append(Assignment(employee_id, unit_id, b.position()))

    # A leader, a safety representative and a union representative for every unit; the
    # representatives of a unit above the cost centres come from anywhere beneath it.
    invited_members = {
        unit_id: [e for e in ids if e not in on_leave] for unit_id, ids in members.items()
    }
    for unit in units:
        unit_id = unit.unit_id
        if unit_id == DEMO_UNIT_ID:
            continue  # the demo leader and representatives, above
        b.roles.append(RoleAssignment(leader_of[unit_id], unit_id, "leader"))
        pool = invited_members[unit_id]
        if len(pool) < 2:
            pool = pool + list(_beneath(unit, children, invited_members))
        safety, union = rng.sample(pool, 2)
        reps: tuple[tuple[str, Role], ...] = ((safety, "safety_rep"), (union, "union_rep"))
        b.roles.extend(RoleAssignment(e, unit_id, role) for e, role in reps)

    hr_staff = [e for e in invited_members[HR_UNIT_ID] if e != leader_of[HR_UNIT_ID]]
    b.roles.extend(RoleAssignment(e, ROOT_ID, "hr_admin") for e in rng.sample(hr_staff, _HR_ADMINS))

    return Organisation(units, tuple(b.people), tuple(b.assignments), tuple(b.roles))


def _weight(name: str) -> float:
    lowered = name.lower()
    if any(w in lowered for w in ("sengepost", "operasjon", "intensiv", "døgn", "akuttpost")):
        return 1.5
    if any(w in lowered for w in ("poliklinikk", "mottak", "laborator", "legeseksjon")):
        return 1.1
    if any(w in lowered for w in ("team", "merkantil", "brukerstøtte", "cytologi")):
        return 0.5
    return 0.9


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` by ``weights`` (largest remainders), at least 12 each."""
    floor = 12
    spare = total - floor * len(weights)
    scale = sum(weights)
    shares = [spare * w / scale for w in weights]
    sizes = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: sizes[i] - shares[i])
    for i in by_remainder[: spare - sum(sizes)]:
        sizes[i] += 1
    return [floor + s for s in sizes]


def _department(unit: Unit) -> str:
    """The department a unit belongs to (ids nest: ``HF.d.aa.s[.c]``)."""
    return ".".join(unit.unit_id.split(".")[:3])


def _beneath(
    unit: Unit, children: dict[str, list[Unit]], members: dict[str, list[str]]
) -> Iterator[str]:
    stack = list(children[unit.unit_id])
    while stack:
        current = stack.pop()
        yield from members[current.unit_id]
        stack.extend(children[current.unit_id])
