"""The demo hospital's unit tree: fixed, whatever the seed, so that its ids can be named in
docs and tests (ids nest: ``HF.d.aa.s[.c]``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from forbedring_survey.domain.org_import import Unit, UnitKind

ROOT_ID: Final = "HF"


# A department's entries: a plain name is a unit of its own (a section when the name says
# "seksjon", otherwise a cost centre); (name, [names]) is a section with cost centres.

_Entry = str | tuple[str, Sequence[str]]

_DIVISIONS: Final[Sequence[tuple[str, Sequence[tuple[str, Sequence[_Entry]]]]]] = (
    (
        "Kirurgisk klinikk",
        (
            (
                "Gastrokirurgisk avdeling",
                (
                    ("Seksjon for gastrokirurgiske sengeposter", ("Sengepost 4A", "Sengepost 4B")),
                    "Gastrokirurgisk poliklinikk",
                    "Endoskopienheten",
                    "Legeseksjon gastrokirurgi",
                ),
            ),
            (
                "Ortopedisk avdeling",
                (
                    ("Seksjon for ortopediske sengeposter", ("Sengepost 6A", "Sengepost 6B")),
                    "Ortopedisk poliklinikk",
                    "Gipsrommet",
                    "Legeseksjon ortopedi",
                ),
            ),
            (
                "Urologisk avdeling",
                (
                    "Sengepost 4C",
                    "Urologisk poliklinikk",
                    "Urologisk dagkirurgi",
                    "Legeseksjon urologi",
                ),
            ),
            (
                "Kar- og thoraxkirurgisk avdeling",
                (
                    "Sengepost 5C",
                    "Sengepost 5D",
                    "Kar- og thoraxkirurgisk poliklinikk",
                    "Legeseksjon karkirurgi",
                ),
            ),
            (
                "Avdeling for anestesi og operasjon",
                (
                    (
                        "Operasjonsseksjonen",
                        ("Sentraloperasjon", "Dagkirurgisk operasjon", "Operasjonsstue akutt"),
                    ),
                    "Anestesiseksjonen",
                    "Oppvåkningen",
                    "Sterilsentralen",
                ),
            ),
            (
                "Intensivavdelingen",
                (
                    "Generell intensiv",
                    "Intermediærenheten",
                    "Postoperativ overvåkning",
                    "Legeseksjon intensivmedisin",
                ),
            ),
            (
                "Kvinneklinikken",
                (
                    "Fødeavdelingen",
                    "Barselposten",
                    "Gynekologisk sengepost",
                    "Gynekologisk poliklinikk",
                    "Jordmorpoliklinikken",
                    "Legeseksjon gynekologi og fødselshjelp",
                ),
            ),
            (
                "Øre-nese-hals-avdelingen",
                (
                    "ØNH-sengeposten",
                    "ØNH-poliklinikken",
                    "Hørselssentralen",
                    "Legeseksjon øre-nese-hals",
                ),
            ),
        ),
    ),
    (
        "Medisinsk klinikk",
        (
            (
                "Medisinsk avdeling",
                (
                    (
                        "Seksjon for medisinske sengeposter",
                        ("Sengepost 3A", "Sengepost 3B", "Sengepost 3C"),
                    ),
                    ("Seksjon for nyresykdommer", ("Dialyseenheten", "Nyremedisinsk sengepost")),
                    "Infeksjonsposten",
                    "Medisinsk poliklinikk",
                    "Medisinsk dagbehandling",
                    "Legeseksjon indremedisin",
                ),
            ),
            (
                "Akuttavdelingen",
                (
                    "Akuttmottaket",
                    "Observasjonsposten",
                    "Korttidsposten",
                    "Legeseksjon akuttmedisin",
                ),
            ),
            (
                "Hjerteavdelingen",
                (
                    "Hjerteovervåkningen",
                    "Sengepost 7A",
                    "Hjertepoliklinikken",
                    "Hjertelaboratoriet",
                    "Legeseksjon kardiologi",
                ),
            ),
            (
                "Lungeavdelingen",
                ("Sengepost 7B", "Lungepoliklinikken", "Søvnlaboratoriet", "Legeseksjon lunge"),
            ),
            (
                "Nevrologisk avdeling",
                (
                    "Slagenheten",
                    "Nevrologisk sengepost",
                    "Nevrologisk poliklinikk",
                    "Nevrofysiologisk laboratorium",
                    "Legeseksjon nevrologi",
                ),
            ),
            (
                "Kreftavdelingen",
                (
                    "Sengepost 8A",
                    "Kreftpoliklinikken",
                    "Stråleterapien",
                    "Palliativt team",
                    "Legeseksjon onkologi",
                ),
            ),
            (
                "Barne- og ungdomsklinikken",
                (
                    "Barnemedisinsk sengepost",
                    "Nyfødtintensiv",
                    "Barnepoliklinikken",
                    "Ungdomsenheten",
                    "Legeseksjon barnemedisin",
                ),
            ),
            (
                "Geriatrisk avdeling",
                (
                    "Geriatrisk sengepost",
                    "Hukommelsespoliklinikken",
                    "Ortogeriatrisk team",
                    "Legeseksjon geriatri",
                ),
            ),
        ),
    ),
    (
        "Klinikk for psykisk helse og rus",
        (
            (
                "Distriktspsykiatrisk senter Nord",
                (
                    "Døgnenhet DPS Nord",
                    "Allmennpoliklinikk DPS Nord",
                    "Ambulant team DPS Nord",
                    "Psykosepoliklinikk DPS Nord",
                    "Dagbehandling DPS Nord",
                ),
            ),
            (
                "Distriktspsykiatrisk senter Sør",
                (
                    "Døgnenhet DPS Sør",
                    "Allmennpoliklinikk DPS Sør",
                    "Ambulant akutteam DPS Sør",
                    "Traumepoliklinikk DPS Sør",
                ),
            ),
            (
                "Akuttpsykiatrisk avdeling",
                ("Akuttpost 1", "Akuttpost 2", "Psykiatrisk mottak", "Legeseksjon psykiatri"),
            ),
            (
                "Sikkerhetspsykiatrisk avdeling",
                ("Sikkerhetspost A", "Sikkerhetspost B", "Rettspsykiatrisk poliklinikk"),
            ),
            (
                "Alderspsykiatrisk avdeling",
                (
                    "Alderspsykiatrisk døgnpost",
                    "Alderspsykiatrisk poliklinikk",
                    "Legeseksjon alderspsykiatri",
                ),
            ),
            (
                "Barne- og ungdomspsykiatrisk avdeling",
                (
                    "BUP Nord",
                    "BUP Sør",
                    "Ungdomspsykiatrisk døgnenhet",
                    "Spiseforstyrrelsesteamet",
                    "Familieteamet",
                ),
            ),
            (
                "Avdeling for rusbehandling",
                (
                    "Avrusningsenheten",
                    "Rusbehandling døgn",
                    "Ruspoliklinikken",
                    "Team for legemiddelassistert rehabilitering",
                ),
            ),
        ),
    ),
    (
        "Klinikk for diagnostikk og drift",
        (
            (
                "Bildediagnostisk avdeling",
                (
                    "Røntgen",
                    "CT og MR",
                    "Ultralyd og mammografi",
                    "Nukleærmedisin",
                    "Legeseksjon radiologi",
                ),
            ),
            (
                "Avdeling for medisinsk biokjemi",
                (
                    "Blodprøvetakingen",
                    "Kjemisk analyse",
                    "Blodbanken",
                    "Legeseksjon laboratoriemedisin",
                ),
            ),
            (
                "Avdeling for mikrobiologi og patologi",
                (
                    "Mikrobiologisk laboratorium",
                    "Patologisk laboratorium",
                    "Cytologi",
                    "Obduksjon og histologi",
                ),
            ),
            (
                "Avdeling for fysikalsk medisin og rehabilitering",
                ("Fysioterapi", "Ergoterapi", "Klinisk ernæring", "Rehabiliteringsposten"),
            ),
            (
                "Prehospital avdeling",
                (
                    "AMK-sentralen",
                    (
                        "Seksjon for ambulansetjenesten",
                        (
                            "Ambulansestasjon Sentrum",
                            "Ambulansestasjon Nord",
                            "Ambulansestasjon Sør",
                        ),
                    ),
                ),
            ),
            (
                "Eiendom og teknisk drift",
                (
                    "Byggdrift",
                    "Medisinsk teknisk seksjon",
                    "Renholdstjenesten",
                    "Portørtjenesten",
                    "Vaktsentralen",
                ),
            ),
            (
                "Forsyning og service",
                ("Sykehuskjøkkenet", "Kantinen", "Vaskeri og tekstil", "Innkjøp og logistikk"),
            ),
            (
                "Pasientadministrasjon og IKT",
                (
                    "Pasientkontoret",
                    "Arkiv og dokumentasjon",
                    "Merkantil tjeneste",
                    "Brukerstøtte IKT",
                ),
            ),
            (
                "HR-avdelingen",
                (
                    "Rekruttering og bemanning",
                    "Lønn og personal",
                    "HMS og bedriftshelsetjeneste",
                    "Lederstøtte og organisasjonsutvikling",
                ),
            ),
        ),
    ),
)

_ROOT_NAME: Final = "Demo helseforetak HF"


def _build_units() -> tuple[Unit, ...]:
    units = [Unit(ROOT_ID, None, _ROOT_NAME, "enterprise")]
    for d, (division, departments) in enumerate(_DIVISIONS, start=1):
        division_id = f"{ROOT_ID}.{d}"
        units.append(Unit(division_id, ROOT_ID, division, "division"))
        for a, (department, entries) in enumerate(departments, start=1):
            department_id = f"{division_id}.{a:02d}"
            units.append(Unit(department_id, division_id, department, "department"))
            for s, entry in enumerate(entries, start=1):
                entry_id = f"{department_id}.{s}"
                if isinstance(entry, str):
                    kind: UnitKind = "section" if "seksjon" in entry.lower() else "cost_centre"
                    units.append(Unit(entry_id, department_id, entry, kind))
                    continue
                section, cost_centres = entry
                units.append(Unit(entry_id, department_id, section, "section"))
                for c, cost_centre in enumerate(cost_centres, start=1):
                    units.append(Unit(f"{entry_id}.{c}", entry_id, cost_centre, "cost_centre"))
    return tuple(units)


UNITS: Final = _build_units()
_UNIT_BY_NAME: Final = {u.name: u for u in UNITS}

DEMO_UNIT_ID: Final = _UNIT_BY_NAME["Sengepost 3B"].unit_id
"""Sengepost 3B of Medisinsk avdeling: where the demo employee, leader and reps work."""
DEMO_SECOND_UNIT_ID: Final = _UNIT_BY_NAME["Medisinsk poliklinikk"].unit_id
"""Medisinsk poliklinikk: the second unit of ``demo-two-units``."""
HR_UNIT_ID: Final = _UNIT_BY_NAME["Lønn og personal"].unit_id
"""Lønn og personal, where the HR admins work."""
