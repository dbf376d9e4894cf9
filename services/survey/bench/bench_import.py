"""Benchmark: importing the 12,000-person demo hospital (goal: under 30 s on this machine).

    source <(deploy/local/infra.sh env)
    uv run python services/survey/bench/bench_import.py

On a fresh database: times parsing and validating the demo's JSON document alone, then
the whole import (parse, validate, store units, people, assignments, roles, invitations in
one transaction) as HR staff run it. Writes bench-results/survey-import.json. Not a test:
no timing is asserted anywhere.
"""

import argparse
import asyncio
import json
import platform
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from forbedring_chassis.db import make_engine, make_sessions, unit_of_work
from forbedring_chassis.migrations import upgrade_to_head
from forbedring_chassis.testing import (
    REPO_ROOT,
    create_database,
    drop_database,
    locate_infrastructure,
)
from forbedring_survey import periods
from forbedring_survey.demo.hospital import generate_demo_hospital
from forbedring_survey.domain.org_import import parse_json, to_json
from forbedring_survey.settings import SurveySettings

GOAL_S = 30.0


async def run() -> dict[str, Any]:
    infrastructure = locate_infrastructure()
    document = to_json(generate_demo_hospital())

    started = time.perf_counter()
    organisation = parse_json(document, file_name="demo.json")
    parse_s = time.perf_counter() - started

    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    # The settings turn the plain libpq URL into the asyncpg one, as for the service.
    database_url = SurveySettings(
        database_url=await create_database(infrastructure.database_url, name)
    ).database_url
    try:
        await asyncio.to_thread(
            upgrade_to_head, database_url=database_url, package="forbedring_survey"
        )
        engine = make_engine(database_url, pool_size=1)
        sessions = make_sessions(engine)
        try:
            async with unit_of_work(sessions) as session:
                period = await periods.create_period(
                    session,
                    organisation_id="bench",
                    name="bench",
                    opens_at=datetime.now(UTC),
                    questionnaire_version="2026.1",
                )
            started = time.perf_counter()
            async with unit_of_work(sessions) as session:
                invitations = await periods.import_organisation(
                    session,
                    period_id=period.id,
                    parse=lambda: parse_json(document, file_name="demo.json"),
                )
            import_s = time.perf_counter() - started
        finally:
            await engine.dispose()
    finally:
        await drop_database(infrastructure.database_url, name)

    return {
        "benchmark": "survey organisation import (demo hospital)",
        "machine": platform.node(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "people": len(organisation.people),
        "units": len(organisation.units),
        "invitations": invitations,
        "parse_and_validate_s": round(parse_s, 3),
        "import_s": round(import_s, 3),
        "import_over_parse": round(import_s / parse_s, 1),
        "goal_s": GOAL_S,
        "goal_met": import_s < GOAL_S,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--output", type=Path, default=REPO_ROOT / "bench-results" / "survey-import.json"
    )
    args = parser.parse_args()
    result = asyncio.run(run())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
