"""Every page shows a moment in the trust's time, the day first; English names the month."""

from datetime import UTC, datetime

from forbedring_chassis.web import from_local_field, local_time


def test_a_moment_is_shown_in_oslo_time_day_first() -> None:
    winter = datetime(2026, 12, 3, 13, 5, 9, tzinfo=UTC)
    assert local_time(winter) == "03.12.2026 14:05"
    assert local_time(winter, "nn", seconds=True) == "03.12.2026 14:05:09"
    assert local_time(winter, "en") == "3 Dec 2026, 14:05"
    assert local_time(datetime(2026, 6, 1, 22, 30, tzinfo=UTC)) == "02.06.2026 00:30"  # summer
    assert local_time(None) is None


def test_a_forms_local_moment_is_the_trusts() -> None:
    assert from_local_field("2026-12-03T14:05") == datetime(2026, 12, 3, 13, 5, tzinfo=UTC)
    assert local_time(from_local_field("2026-06-02T00:30")) == "02.06.2026 00:30"
