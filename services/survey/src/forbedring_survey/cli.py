"""Command-line tools for HR staff, run where the survey's settings are (SURVEY_*):

    python -m forbedring_survey.cli create-period --name "ForBedring 2026" \
        --opens-at 2026-09-01T08:00:00+02:00 [--closes-at ...] [--questionnaire 2026.1]
    python -m forbedring_survey.cli import --period PERIOD_ID units.csv people.csv \
        assignments.csv roles.csv
    python -m forbedring_survey.cli import --period PERIOD_ID organisation.json
    python -m forbedring_survey.cli load-demo [--wait-open 60] [--no-previous-period]

`import` replaces the period's organisation, all or nothing, exactly as the API does: on
refusal it prints every problem (file, row, reason) and stores nothing. The period must
not have opened yet. Exit codes: 0 imported, 1 refused or not possible, 2 bad usage.

`load-demo` (used by `make up`) creates a period opening now with the generated demo
hospital (about 12,000 people) unless the organisation already has a period, then waits
until the running survey service's scheduler has opened it. Before it, unless
`--no-previous-period`, it gives the demo hospital last year's period: opened by the
scheduler, answered by about 65 % of its people through the answering use case
(`demo/answers.py`), closed and released to everyone at once, so that the running
aggregation, publication and actionplan services make its results and plans from its
events. An interrupted run resumes where it stopped.
"""

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from forbedring_chassis.db import Sessions, make_engine, make_sessions, unit_of_work
from forbedring_chassis.migrations import upgrade_to_head
from forbedring_survey import answering, periods, repository
from forbedring_survey.demo import answers as demo_answers
from forbedring_survey.demo.hospital import DEMO_ACCOUNTS, generate_demo_hospital
from forbedring_survey.domain.org_import import Organisation, parse_csv_files, parse_json
from forbedring_survey.domain.questionnaire import load_questionnaire
from forbedring_survey.errors import ServiceError
from forbedring_survey.models import Period
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


PREVIOUS_SEED = 2025
"""The seed of the previous period's answers (`demo/answers.py`)."""


async def _wait_opened(sessions: Sessions, *, period_id: str, wait_open_s: float) -> str:
    """The period's status once the running service's scheduler has opened it, or when
    `wait_open_s` has passed."""
    deadline = time.monotonic() + wait_open_s
    while True:
        async with unit_of_work(sessions) as session:
            current = await repository.get_period(session, period_id=period_id)
        status = current.status if current else "missing"
        if status != "scheduled" or time.monotonic() >= deadline:
            return status
        await asyncio.sleep(0.5)


async def _create_demo_period(
    sessions: Sessions, *, settings: SurveySettings, name: str, previous: bool
) -> tuple[str, int]:
    now = datetime.now(UTC)
    async with unit_of_work(sessions) as session:
        period = await periods.create_period(
            session,
            organisation_id=settings.organisation_id,
            name=name,
            opens_at=now,
            # The previous period is closed by hand once answered, and everything in it
            # is released to everyone at once: it stands for last year's, long done.
            closes_at=now + timedelta(days=1) if previous else None,
            stage_2_delay=timedelta(0) if previous else None,
            questionnaire_version="2026.1",
        )
        invitations = await periods.import_organisation(
            session, period_id=period.id, parse=generate_demo_hospital
        )
    return period.id, invitations


class _Progress:
    def __init__(self, *, every: int) -> None:
        self.count = 0
        self._every = every

    def add(self) -> None:
        self.count += 1
        if self.count % self._every == 0:
            print(f"  answered {self.count}", flush=True)


async def _answer(sessions: Sessions, *, period_id: str, seed: int, at_once: int = 8) -> int:
    """Answer the period's open invitations as the demo hospital's people would (about
    `RESPONSE_RATE` of them), each submission in its own transaction through the
    answering use case, as the API's are, a few at once; the ones already answered (an
    interrupted run) are skipped. Returns how many were answered now."""
    organisation = generate_demo_hospital()
    questionnaire = load_questionnaire("2026.1")
    choose = random.Random(seed)
    people = sorted(
        p.employee_id for p in organisation.people if choose.random() < demo_answers.RESPONSE_RATE
    )
    climates = {u.unit_id: demo_answers.climate(u.unit_id, seed=seed) for u in organisation.units}
    progress = _Progress(every=1000)
    semaphore = asyncio.Semaphore(at_once)

    async def one(employee_id: str) -> None:
        rng = random.Random(f"{seed}:{employee_id}")
        async with semaphore:
            async with unit_of_work(sessions) as session:
                invitations = await answering.open_invitations(session, employee_id=employee_id)
            for invitation in invitations:
                if invitation.period_id != period_id or invitation.answered:
                    continue
                async with unit_of_work(sessions) as session:
                    await answering.submit(
                        session,
                        employee_id=employee_id,
                        invitation_id=invitation.id,
                        answers=demo_answers.answers_for(
                            questionnaire,
                            unit_climate=climates[invitation.unit_id],
                            rng=rng,
                            seed=seed,
                        ),
                        background={},
                    )
                progress.add()

    await asyncio.gather(*(one(e) for e in people))
    return progress.count


async def _previous_period(
    sessions: Sessions, *, settings: SurveySettings, found: list[Period], wait_open_s: float
) -> int:
    """Last year's period of the demo: opened, answered by about 65 % and closed, each
    step through the survey's own use cases, so that aggregation, publication and
    actionplan make its results and plans from the events as they always do. Resumes an
    interrupted run. EXIT_OK, or EXIT_REFUSED when it cannot open."""
    year = datetime.now(UTC).year
    previous = next((p for p in found if p.name == _previous_name(year)), None)
    if previous is None:
        started = time.monotonic()
        period_id, invitations = await _create_demo_period(
            sessions, settings=settings, name=_previous_name(year), previous=True
        )
        print(
            f"{_previous_name(year)} loaded: {invitations} invitations "
            f"in {time.monotonic() - started:.1f} s.",
            flush=True,
        )
    else:
        period_id = previous.id
    print(f"Previous period: {period_id} ({_previous_name(year)}).", flush=True)
    status = await _wait_opened(sessions, period_id=period_id, wait_open_s=wait_open_s)
    if status == "scheduled":
        print(
            f"The previous period has not opened within {wait_open_s:.0f} s: is the survey "
            "service (its scheduler) running?",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    if status == "open":
        started = time.monotonic()
        print("Answering the previous period as the demo hospital's people:", flush=True)
        answered = await _answer(sessions, period_id=period_id, seed=PREVIOUS_SEED)
        async with unit_of_work(sessions) as session:
            totals = await periods.close_period(session, period_id=period_id, now=datetime.now(UTC))
        print(
            f"Previous period closed: {sum(totals.values())} responses ({answered} now) in "
            f"{time.monotonic() - started:.1f} s; aggregation, publication and actionplan "
            "take it from here.",
            flush=True,
        )
    return EXIT_OK


def _previous_name(year: int) -> str:
    return f"ForBedring {year - 1} (demo)"


async def load_demo(*, settings: SurveySettings, wait_open_s: float, previous: bool = True) -> int:
    await asyncio.to_thread(
        upgrade_to_head, database_url=settings.database_url, package="forbedring_survey"
    )
    engine = make_engine(settings.database_url, pool_size=8)
    sessions = make_sessions(engine)
    try:
        async with unit_of_work(sessions) as session:
            found = [
                p
                for p in await repository.list_periods(session)
                if p.organisation_id == settings.organisation_id
            ]
        year = datetime.now(UTC).year
        current = [p for p in found if p.name != _previous_name(year)]
        if current:
            period_id = current[0].id
            print(f"Demo already loaded: period {period_id} ({current[0].status}).")
            before = next((p for p in found if p.name == _previous_name(year)), None)
            if before is not None:
                print(f"Previous period: {before.id} ({before.status}).")
            else:
                print(
                    "  (loaded before the demo had a previous period: load it into empty "
                    "databases to get last year's results and plans too)"
                )
        else:
            if previous:
                refused = await _previous_period(
                    sessions, settings=settings, found=found, wait_open_s=wait_open_s
                )
                if refused:
                    return refused
            started = time.monotonic()
            period_id, invitations = await _create_demo_period(
                sessions, settings=settings, name=f"ForBedring {year} (demo)", previous=False
            )
            print(
                f"Demo hospital loaded into period {period_id}: {invitations} invitations "
                f"in {time.monotonic() - started:.1f} s."
            )
        status = await _wait_opened(sessions, period_id=period_id, wait_open_s=wait_open_s)
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
    demo.add_argument(
        "--no-previous-period",
        action="store_true",
        help="only the current period (no answered and closed previous period)",
    )
    args = parser.parse_args(argv)
    if args.command == "load-demo":
        return asyncio.run(
            load_demo(
                settings=SurveySettings(),
                wait_open_s=args.wait_open,
                previous=not args.no_previous_period,
            )
        )
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
