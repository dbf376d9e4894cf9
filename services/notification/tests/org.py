"""A small trust for the notification tests: its units, people and events.

HF (enterprise) > K1 (clinic) > S11 (a ward of 12), S12 (a day unit of 3: under k);
HF > K2 (a clinic of 6). Every unit has a leader; S11 has a safety representative, K1 a
union representative, HF an HR administrator. Languages are spread over nb, nn and en;
E-TWO works in S11 and S12 (two invitations); S11's leader is also invited in S11."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import cycle

from forbedring_contracts.events import (
    DirectoryUpdated,
    Language,
    Membership,
    ParticipationChanged,
    PeriodClosed,
    PeriodOpened,
    RoleAssignment,
    UnitInScope,
)
from forbedring_contracts.examples import PERIOD_OPENED

OPENS_AT = datetime(2026, 2, 2, 7, 0, tzinfo=UTC)  # a Monday, 08:00 in Oslo
CLOSES_AT = OPENS_AT + timedelta(weeks=6)

UNITS = (
    ("HF", None, "Helse Test HF", "1"),
    ("K1", "HF", "Medisinsk klinikk", "2.1"),
    ("S11", "K1", "Sengepost 11", "3"),
    ("S12", "K1", "Dagpost 12", "3"),
    ("K2", "HF", "Kirurgisk klinikk", "2.1"),
)

ROLES: tuple[tuple[str, str, str, Language], ...] = (
    ("L-HF", "HF", "leader", "nb"),
    ("L-K1", "K1", "leader", "nn"),
    ("L-S11", "S11", "leader", "en"),
    ("L-S12", "S12", "leader", "nb"),
    ("L-K2", "K2", "leader", "nn"),
    ("SR-S11", "S11", "safety_rep", "nn"),
    ("UR-K1", "K1", "union_rep", "en"),
    ("HR", "HF", "hr_admin", "nb"),
)

_LANGUAGES: tuple[Language, ...] = ("nb", "nn", "en")


def _members() -> list[tuple[str, str, Language]]:
    languages = cycle(_LANGUAGES)
    found: list[tuple[str, str, Language]] = []
    for unit, count in (("S11", 11), ("S12", 2), ("K2", 6)):
        for n in range(count):
            found.append((f"E-{unit}-{n:02d}", unit, next(languages)))
    found += [("E-TWO", "S11", "nn"), ("E-TWO", "S12", "nn"), ("L-S11", "S11", "en")]
    return found


MEMBERS = _members()


def address(person_id: str) -> str:
    return f"{person_id.lower()}@example.org"


def language_of(person_id: str) -> Language:
    for person, _, _, language in ROLES:
        if person == person_id:
            return language
    return next(language for person, _, language in MEMBERS if person == person_id)


def members_of(*units: str) -> set[str]:
    return {person for person, unit, _ in MEMBERS if unit in units}


def holders(*roles: str) -> set[str]:
    return {person for person, _, role, _ in ROLES if role in roles}


@dataclass(frozen=True)
class Period:
    period_id: str
    opened: PeriodOpened
    directory: DirectoryUpdated

    def participation(self, unit_id: str, respondents: int) -> ParticipationChanged:
        eligible = next(u.eligible for u in self.opened.units if u.unit_id == unit_id)
        return ParticipationChanged(
            period_id=self.period_id,
            unit_id=unit_id,
            respondents=respondents,
            eligible=eligible,
            as_of=OPENS_AT + timedelta(days=3),
        )

    def closed(self, totals: dict[str, int]) -> PeriodClosed:
        return PeriodClosed(
            period_id=self.period_id,
            closed_at=CLOSES_AT,
            totals={u.unit_id: totals.get(u.unit_id, 0) for u in self.opened.units},
        )


def a_period(period_id: str) -> Period:
    eligible = {unit: 0 for unit, *_ in UNITS}
    for _, unit, _ in MEMBERS:
        eligible[unit] += 1
    opened = PERIOD_OPENED.model_copy(
        update={
            "period_id": period_id,
            "name": "ForBedring test",
            "opens_at": OPENS_AT,
            "closes_at": CLOSES_AT,
            "plan_deadline": date(2026, 6, 30),
            "k": 5,
            "units": tuple(
                UnitInScope(
                    unit_id=unit, parent_id=parent, name=name, level=level, eligible=eligible[unit]
                )
                for unit, parent, name, level in UNITS
            ),
        }
    )
    directory = DirectoryUpdated(
        period_id=period_id,
        units=tuple(
            UnitInScope(unit_id=u, parent_id=p, name=n, level=lv, eligible=0)
            for u, p, n, lv in UNITS
        ),
        roles=tuple(
            RoleAssignment(
                person_id=person,
                unit_id=unit,
                role=role,  # type: ignore[arg-type]
                name=f"Person {person}",
                email=address(person),
                language=language,
            )
            for person, unit, role, language in ROLES
        ),
        members=tuple(
            Membership(
                person_id=person,
                unit_id=unit,
                name=f"Person {person}",
                email=address(person),
                language=language,
            )
            for person, unit, language in MEMBERS
        ),
    )
    return Period(period_id, opened, directory)


def a_large_trust(period_id: str, employees: int, *, units: int = 150) -> DirectoryUpdated:
    """A trust of `employees` people spread over `units` wards under one enterprise, each
    ward with a leader, languages in turn (the benchmark's and the SIGKILL test's)."""
    wards = [
        UnitInScope(unit_id=f"U{n:03d}", parent_id="HF", name=f"Enhet {n}", level="3", eligible=0)
        for n in range(units)
    ]
    return DirectoryUpdated(
        period_id=period_id,
        units=(
            UnitInScope(unit_id="HF", parent_id=None, name="Helse Stor HF", level="1", eligible=0),
            *wards,
        ),
        roles=tuple(
            RoleAssignment(
                person_id=f"L{n:03d}",
                unit_id=f"U{n:03d}",
                role="leader",
                name=f"Leder {n}",
                email=f"l{n:03d}@large.example.org",
                language="nb",
            )
            for n in range(units)
        ),
        members=tuple(
            Membership(
                person_id=f"E{n:05d}",
                unit_id=f"U{n % units:03d}",
                name=f"Ansatt Nummer {n}",
                email=large_trust_address(n),
                language=_LANGUAGES[n % 3],
            )
            for n in range(employees)
        ),
    )


def large_trust_address(n: int) -> str:
    return f"e{n:05d}@large.example.org"
