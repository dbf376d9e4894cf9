"""Command-line tools for HR staff, run where the survey's settings are (SURVEY_*):

    python -m forbedring_survey.cli create-period --name "ForBedring 2026" \
        --opens-at 2026-09-01T08:00:00+02:00 [--closes-at ...] [--questionnaire 2026.1]
    python -m forbedring_survey.cli import --period PERIOD_ID units.csv people.csv \
        assignments.csv roles.csv
    python -m forbedring_survey.cli import --period PERIOD_ID organisation.json
    python -m forbedring_survey.cli load-demo [--wait-open 60]

`import` replaces the period's organisation, all or nothing, exactly as the API does: on
refusal it prints every problem (file, row, reason) and stores nothing. The period must
not have opened yet. Exit codes: 0 imported, 1 refused or not possible, 2 bad usage.

`load-demo` (used by `make up`) creates a period opening now with the generated demo
hospital (about 12,000 people) unless the organisation already has a period, then waits
until the running survey service's scheduler has opened it.
"""

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from forbedring_chassis.db import make_engine, make_sessions, unit_of_work
from forbedring_chassis.migrations import upgrade_to_head
from forbedring_survey import periods, repository
from forbedring_survey.demo.hospital import DEMO_ACCOUNTS, generate_demo_hospital
from forbedring_survey.domain.org_import import Organisation, parse_csv_files, parse_json
from forbedring_survey.errors import ServiceError
from forbedring_survey.settings import SurveySettings

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def _parser(files: Sequence[Path]) -> Callable[[], Organisation]:
    if len(files) == 1 and files[0].suffix.lower() == ".json":
        data = files[0].read_bytes()
        return lambda: parse_json(data, file_name=files[0].name)
    contents = {path.name: path.read_bytes() for path in files}
    return lambda: parse_csv_files(contents)


async def create_period(
    *,
    settings: SurveySettings,
    name: str,
    opens_at: datetime,
    closes_at: datetime | None,
    questionnaire_version: str,
) -> int:
    await asyncio.to_thread(
        upgrade_to_head, database_url=settings.database_url, package="forbedring_survey"
    )
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with unit_of_work(make_sessions(engine)) as session:
            period = await periods.create_period(
                session,
                organisation_id=settings.organisation_id,
                name=name,
                opens_at=opens_at,
                closes_at=closes_at,
                questionnaire_version=questionnaire_version,
            )
    except ServiceError as error:
        print(error.message, file=sys.stderr)
        return EXIT_REFUSED
    finally:
        await engine.dispose()
    print(period.id)
    return EXIT_OK


async def import_files(*, settings: SurveySettings, period_id: str, files: Sequence[Path]) -> int:
    await asyncio.to_thread(
        upgrade_to_head, database_url=settings.database_url, package="forbedring_survey"
    )
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with unit_of_work(make_sessions(engine)) as session:
            invitations = await periods.import_organisation(
                session, period_id=period_id, parse=_parser(files)
            )
    except ServiceError as error:
        print(error.message, file=sys.stderr)
        for problem in error.problems:
            where = str(problem.get("file", ""))
            if problem.get("row") is not None:
                where += f", row {problem['row']}"
                if problem.get("spreadsheet_row") is not None:
                    where += f" (spreadsheet row {problem['spreadsheet_row']})"
            print(f"  {where}: [{problem.get('code')}] {problem.get('message')}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        await engine.dispose()
    print(f"Imported into period {period_id}: {invitations} invitations.")
    return EXIT_OK


async def load_demo(*, settings: SurveySettings, wait_open_s: float) -> int:
    await asyncio.to_thread(
        upgrade_to_head, database_url=settings.database_url, package="forbedring_survey"
    )
    engine = make_engine(settings.database_url, pool_size=1)
    sessions = make_sessions(engine)
    try:
        async with unit_of_work(sessions) as session:
            existing = [
                p
                for p in await repository.list_periods(session)
                if p.organisation_id == settings.organisation_id
            ]
        if existing:
            period_id = existing[-1].id
            print(f"Demo already loaded: period {period_id} ({existing[-1].status}).")
        else:
            started = time.monotonic()
            now = datetime.now(UTC)
            async with unit_of_work(sessions) as session:
                period = await periods.create_period(
                    session,
                    organisation_id=settings.organisation_id,
                    name=f"ForBedring {now.year} (demo)",
                    opens_at=now,
                    questionnaire_version="2026.1",
                )
                invitations = await periods.import_organisation(
                    session, period_id=period.id, parse=generate_demo_hospital
                )
            period_id = period.id
            print(
                f"Demo hospital loaded into period {period_id}: {invitations} invitations "
                f"in {time.monotonic() - started:.1f} s."
            )
        deadline = time.monotonic() + wait_open_s
        while True:
            async with unit_of_work(sessions) as session:
                current = await repository.get_period(session, period_id=period_id)
            status = current.status if current else "missing"
            if status != "scheduled" or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.5)
        if wait_open_s > 0 and status == "scheduled":
            print(
                f"The period has not opened within {wait_open_s:.0f} s: is the survey "
                "service (its scheduler) running?",
                file=sys.stderr,
            )
            return EXIT_REFUSED
        print(f"Period status: {status}.")
    except ServiceError as error:
        print(error.message, file=sys.stderr)
        return EXIT_REFUSED
    finally:
        await engine.dispose()
    print("Sign in with one of these employee ids (no password in development):")
    for account in DEMO_ACCOUNTS:
        print(f"  {account.employee_id:<18} {account.description}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forbedring_survey.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    importing = commands.add_parser("import", help="import the organisation into a period")
    importing.add_argument("--period", required=True, help="the period's id")
    importing.add_argument("files", nargs="+", type=Path, help="four CSV files or one JSON")
    creating = commands.add_parser("create-period", help="create a period; prints its id")
    creating.add_argument("--name", required=True)
    creating.add_argument("--opens-at", required=True, type=datetime.fromisoformat)
    creating.add_argument("--closes-at", type=datetime.fromisoformat, default=None)
    creating.add_argument("--questionnaire", default="2026.1")
    demo = commands.add_parser("load-demo", help="load the demo hospital into an open period")
    demo.add_argument(
        "--wait-open", type=float, default=0.0, help="seconds to wait for the period to open"
    )
    args = parser.parse_args(argv)
    if args.command == "load-demo":
        return asyncio.run(load_demo(settings=SurveySettings(), wait_open_s=args.wait_open))
    if args.command == "create-period":
        return asyncio.run(
            create_period(
                settings=SurveySettings(),
                name=args.name,
                opens_at=args.opens_at,
                closes_at=args.closes_at,
                questionnaire_version=args.questionnaire,
            )
        )
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        print(f"No such file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    return asyncio.run(
        import_files(settings=SurveySettings(), period_id=args.period, files=args.files)
    )


if __name__ == "__main__":
    sys.exit(main())
