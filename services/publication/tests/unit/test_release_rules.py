"""The release rules without I/O: schedule, who reads at which stage, postponing."""

from datetime import UTC, datetime, timedelta

import pytest

from forbedring_publication.domain.release import (
    PostponeRefused,
    Schedule,
    initial_schedule,
    may_read_results,
    postpone,
)

T0 = datetime(2026, 3, 16, 7, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def schedule(released: int = 0) -> Schedule:
    return Schedule(
        finalised=True,
        stage_1_at=T0 + DAY,
        stage_2_at=T0 + 8 * DAY,
        stage_1_released_at=T0 + DAY if released >= 1 else None,
        stage_2_released_at=T0 + 8 * DAY if released >= 2 else None,
    )


def test_stage_1_follows_finalisation_and_stage_2_follows_stage_1() -> None:
    assert initial_schedule(finalized_at=T0, stage_1_delay=DAY, stage_2_delay=7 * DAY) == (
        T0 + DAY,
        T0 + 8 * DAY,
    )


@pytest.mark.parametrize(
    ("roles", "stage", "allowed"),
    [
        (frozenset(), 0, False),
        (frozenset({"hr_admin"}), 0, False),
        (frozenset({"leader"}), 0, False),
        (frozenset(), 1, False),
        (frozenset({"leader"}), 1, True),
        (frozenset({"safety_rep"}), 1, True),
        (frozenset({"union_rep"}), 1, True),
        (frozenset({"hr_admin"}), 1, True),
        (frozenset(), 2, True),
        (frozenset({"leader"}), 2, True),
    ],
)
def test_who_reads_results_at_which_stage(roles: frozenset[str], stage: int, allowed: bool) -> None:
    assert may_read_results(roles=roles, released_stage=stage) is allowed


def test_a_stage_can_be_postponed_before_it_happens() -> None:
    assert postpone(schedule(), stage=1, until=T0 + 2 * DAY, now=T0) == (T0 + 2 * DAY, T0 + 8 * DAY)
    assert postpone(schedule(1), stage=2, until=T0 + 9 * DAY, now=T0 + 2 * DAY) == (
        T0 + DAY,
        T0 + 9 * DAY,
    )


@pytest.mark.parametrize(
    ("released", "stage", "until", "status", "message"),
    [
        (1, 1, T0 + 3 * DAY, 409, "already been released"),
        (2, 2, T0 + 30 * DAY, 409, "already been released"),
        (0, 1, T0 + 9 * DAY, 422, "Stage 2 can never come before stage 1"),
        (0, 1, T0 - DAY, 422, "in the future"),
        (0, 2, T0 + 2 * DAY, 422, "postponed, not brought forward"),
    ],
)
def test_refused_postponements_say_why(
    released: int, stage: int, until: datetime, status: int, message: str
) -> None:
    with pytest.raises(PostponeRefused, match=message) as refused:
        postpone(schedule(released), stage=stage, until=until, now=T0)  # type: ignore[arg-type]
    assert refused.value.status == status


def test_nothing_to_postpone_before_finalisation() -> None:
    unfinished = Schedule(False, None, None, None, None)
    with pytest.raises(PostponeRefused, match="not finalised") as refused:
        postpone(unfinished, stage=1, until=T0 + DAY, now=T0)
    assert refused.value.status == 409
