"""Moments as the trust's people read them, on every service's pages: Oslo time, the day
first (`03.12.2026 14:05`), in English the month by name (`3 Dec 2026, 14:05`)."""

from datetime import datetime
from typing import Final, overload
from zoneinfo import ZoneInfo

TRUST_ZONE: Final = ZoneInfo("Europe/Oslo")
"""The trust's local time: pages show it, and a form's `datetime-local` field is in it."""


@overload
def local_time(at: datetime, language: str = ..., *, seconds: bool = ...) -> str: ...
@overload
def local_time(at: None, language: str = ..., *, seconds: bool = ...) -> None: ...
def local_time(at: datetime | None, language: str = "nb", *, seconds: bool = False) -> str | None:
    """`at` in the trust's time zone; None stays None (a template says what is missing).
    `seconds` where order within a minute matters, as in the audit log."""
    if at is None:
        return None
    clock = "%H:%M:%S" if seconds else "%H:%M"
    day = "%-d %b %Y," if language == "en" else "%d.%m.%Y"
    return at.astimezone(TRUST_ZONE).strftime(f"{day} {clock}")


def from_local_field(value: str) -> datetime:
    """A form's `datetime-local` value (no zone: the trust's) as an aware moment."""
    return datetime.fromisoformat(value).replace(tzinfo=TRUST_ZONE)
