"""Every template in every language, as a message the standard library parses: valid
multipart/alternative with the headers of an automated email; every text exists in
nb, nn and en; the rules of who, when and what an SMTP error means."""

import email
import email.policy
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiosmtplib
import pytest

from forbedring_chassis.web import Pages
from forbedring_notification.domain import schedule
from forbedring_notification.domain.kinds import DIGEST_KINDS, Kind, idempotency_key, message_id
from forbedring_notification.domain.recipients import Directory, Recipient, release_audience
from forbedring_notification.examples import EXAMPLES
from forbedring_notification.relay import classify
from forbedring_notification.rendering import Renderer

OSLO = ZoneInfo("Europe/Oslo")
RENDERER = Renderer(
    public_base_url="https://forbedring.test",
    sender="ForBedring <forbedring@example.org>",
    message_id_domain="forbedring.test",
    zone=OSLO,
)


@pytest.mark.parametrize("language", ["nb", "nn", "en"])
@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_renders_as_valid_mime_in_every_language(kind: Kind, language: str) -> None:
    key = idempotency_key(kind, "fact", "E1")
    _, built = RENDERER.message(
        key=key,
        kind=kind,
        email="kari@example.org",
        name="Kari Nordmann",
        language=language,
        context=EXAMPLES[kind],
        now=datetime(2026, 2, 9, 9, 0, tzinfo=UTC),
    )
    parsed = email.message_from_bytes(built.as_bytes(), policy=email.policy.default)
    assert not parsed.defects
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Message-ID"] == message_id(key, "forbedring.test")
    assert parsed["Content-Language"] == language
    assert parsed["Date"]
    assert parsed["Subject"]
    assert (parsed["List-Unsubscribe-Post"] is not None) == (kind in DIGEST_KINDS)
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Kari Nordmann" in text
    assert "https://forbedring.test/" in text


def test_the_message_id_is_stable_and_differs_per_key() -> None:
    a = idempotency_key(Kind.REMINDER, "reminder:P:1", "E1")
    b = idempotency_key(Kind.REMINDER, "reminder:P:2", "E1")
    assert message_id(a, "x.test") == message_id(a, "x.test")
    assert message_id(a, "x.test") != message_id(b, "x.test")


def test_every_text_of_the_pages_and_emails_exists_in_three_languages() -> None:
    pages = Pages.for_package("forbedring_notification")
    # The mail templates (templates/mail/) take their texts from mail.toml, the pages' from
    # messages.toml.
    assert [m for m in pages.missing_messages() if not m.startswith("mail/")] == []
    for missing in pages.missing_messages():
        assert missing.split(": ", 1)[1] in RENDERER.catalog.messages, missing
    assert pages.catalog.problems() == []
    assert RENDERER.catalog.problems() == []
    for kind in Kind:
        assert f"mail.{kind.value}.subject" in RENDERER.catalog.messages


def test_stage_1_goes_to_the_roles_and_stage_2_to_everyone_invited() -> None:
    people = {p: Recipient(p, p, f"{p}@x.test", "nb") for p in ("L", "S", "H", "E1", "E2")}
    directory = Directory(
        units={},
        people=people,
        roles=[("U", "L", "leader"), ("U", "S", "safety_rep"), ("HF", "H", "hr_admin")],
        members=[("U", "E1"), ("U", "E2"), ("V", "E2"), ("U", "L")],
    )
    audience = ("leader", "safety_rep", "union_rep", "hr_admin")
    assert release_audience(directory, stage=1, audience=audience) == ["H", "L", "S"]
    assert release_audience(directory, stage=2, audience=(*audience, "employee")) == [
        "E1",
        "E2",
        "L",
    ]


def test_digests_are_weekly_then_daily_and_only_in_working_hours() -> None:
    opens = datetime(2026, 2, 2, 7, 0, tzinfo=UTC)  # Monday 08:00 in Oslo
    closes = opens + timedelta(weeks=6)

    def day(at: datetime) -> object:
        return schedule.digest_day(at, opens_at=opens, closes_at=closes, zone=OSLO, daily_days=7)

    assert day(opens + timedelta(hours=2)) is None  # the opening email says it all
    assert day(opens + timedelta(days=3)) is None
    assert day(opens + timedelta(days=7)) == (opens + timedelta(days=7)).date()
    assert day(closes - timedelta(days=2)) is not None  # daily in the last week
    assert day(closes + timedelta(hours=1)) is None
    assert schedule.in_working_hours(opens, zone=OSLO, start=8, end=16)
    assert not schedule.in_working_hours(opens + timedelta(hours=8), zone=OSLO, start=8, end=16)
    assert not schedule.in_working_hours(opens + timedelta(days=5), zone=OSLO, start=8, end=16)


def test_at_most_the_configured_reminders_and_none_after_closing() -> None:
    closes = datetime(2026, 3, 16, 7, 0, tzinfo=UTC)
    days = (14.0, 3.0)
    assert (
        schedule.reminders_due(
            closes - timedelta(days=20), closes_at=closes, days_before_close=days
        )
        == []
    )
    assert schedule.reminders_due(
        closes - timedelta(days=10), closes_at=closes, days_before_close=days
    ) == [1]
    assert schedule.reminders_due(
        closes - timedelta(days=1), closes_at=closes, days_before_close=days
    ) == [1, 2]
    assert schedule.reminders_due(closes, closes_at=closes, days_before_close=days) == []


def test_backoff_doubles_up_to_the_cap() -> None:
    waits = [schedule.backoff_s(n, base_s=30, max_s=600) for n in range(1, 8)]
    assert waits == [30, 60, 120, 240, 480, 600, 600]


def test_smtp_errors_a_recipient_refused_for_good_is_permanent_the_rest_temporary() -> None:
    refused = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(550, "No such mailbox", "x@y")]
    )
    busy = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(451, "Try later", "x@y")]
    )
    assert classify(refused).permanent
    assert not classify(busy).permanent
    assert classify(aiosmtplib.SMTPDataError(554, "Rejected")).permanent
    down = classify(aiosmtplib.SMTPConnectError("refused"))
    assert not down.permanent
    assert down.connection
    assert not classify(aiosmtplib.SMTPServerDisconnected("gone")).permanent


@pytest.mark.parametrize("language", ["nb", "nn", "en"])
@pytest.mark.parametrize("kind", list(Kind))
def test_the_bytes_sent_are_ascii_crlf_short_lines_and_carry_the_name(
    kind: Kind, language: str
) -> None:
    name = "Kåre Ærlig-Øvrebø, «Sjef»"
    context = {**EXAMPLES[kind], "recipient_name": name}
    _, raw = RENDERER.raw(
        key=idempotency_key(kind, "fact", "E1"),
        kind=kind,
        email="kare@example.org",
        name=name,
        language=language,
        context=context,
        now=datetime(2026, 2, 9, 9, 0, tzinfo=UTC),
    )
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert not parsed.defects
    assert all(not part.defects for part in parsed.walk())
    assert parsed["To"] == f'"{name}" <kare@example.org>'
    assert parsed["From"] == "ForBedring <forbedring@example.org>"
    for subtype in ("plain", "html"):
        body = parsed.get_body((subtype,)).get_content()  # type: ignore[union-attr]
        assert (name if subtype == "plain" else "Kåre Ærlig-Øvrebø") in body
