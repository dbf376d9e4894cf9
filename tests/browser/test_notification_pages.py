"""The notification pages in a real browser, on the real broker and PostgreSQL, sending to
a real SMTP server, in bokmål, nynorsk and English: HR reads what was sent, to whom,
when and why and what failed, filters by period, kind and status, resends the failed
email (refused the first time, delivered once the mailbox exists), and previews every
template in every language, the email's HTML framed from its own route with its inline
styles applied; a leader leaves the participation digest with one click and joins again.
axe-core finds nothing and the Content-Security-Policy blocks nothing on any page
visited; on a 390 px phone nothing is cut off at the right."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from playwright.async_api import Page, expect
from starlette.types import ASGIApp

from forbedring_chassis.auth import TokenVerifier
from forbedring_chassis.clock import SettableClock
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    eventually,
    plain_url,
    unique_name,
)
from forbedring_contracts import envelope
from forbedring_notification.app import create_app
from forbedring_notification.domain.kinds import Kind
from forbedring_notification.settings import NotificationSettings
from services.notification.tests.integration.conftest import HR_ADMIN, ISSUER, token
from services.notification.tests.org import OPENS_AT, a_period, address, holders
from services.notification.tests.smtp import SmtpServer
from tests.browser.conftest import add_session

AssertAccessible = Callable[[Page], Awaitable[None]]
NewPage = Callable[..., Awaitable[Page]]
ServeApp = Callable[[ASGIApp], Awaitable[str]]

LANGS = ("nb", "nn", "en")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
REFUSED = address("E-K2-01")
DIGEST_LEADER = "L-K1"
TEXT = {
    "admin": {"nb": "Sendte e-poster", "nn": "Sende e-postar", "en": "Emails sent"},
    "preview": {
        "nb": "Forhåndsvisning av e-post",
        "nn": "Førehandsvising av e-post",
        "en": "Email preview",
    },
    "failed": {"nb": "Feilet", "nn": "Feila", "en": "Failed"},
    "resent": {
        "nb": "står i kø for å sendes på nytt",
        "nn": "står i kø for å sendast på nytt",
        "en": "is queued to be sent again",
    },
    "digest": {
        "nb": "Oversikt over svarprosent",
        "nn": "Oversikt over svarprosent",
        "en": "Participation digest",
    },
    "unsubscribed": {
        "nb": "Du er meldt av.",
        "nn": "Du er meld av.",
        "en": "You are unsubscribed.",
    },
    "resubscribed": {
        "nb": "Du er meldt på igjen.",
        "nn": "Du er meld på igjen.",
        "en": "You are subscribed again.",
    },
}


@dataclass
class Served:
    base: str
    period_id: str
    smtp: SmtpServer
    unsubscribe_token: str

    async def deliveries(self, **filters: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.base, timeout=10) as http:
            reply = await http.get(
                "/api/v1/deliveries",
                params={**filters, "limit": 1000},
                headers=token(HR_ADMIN),
            )
        assert reply.status_code == 200, reply.text
        rows: list[dict[str, Any]] = reply.json()["deliveries"]
        return rows

    async def settled(self) -> list[dict[str, Any]]:
        """Nothing left to send: every row sent or failed."""
        found: list[dict[str, Any]] = []

        async def done() -> bool:
            nonlocal found
            found = await self.deliveries(period_id=self.period_id)
            return bool(found) and all(r["status"] in ("sent", "failed") for r in found)

        await eventually(done, timeout=60)
        return found


@pytest.fixture
async def served(
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
    serve_app: ServeApp,
) -> Any:
    period = a_period(unique_name("period"))
    smtp = SmtpServer(refuse={REFUSED}).start()
    database_url = await databases.create("notification")
    settings = NotificationSettings(
        database_url=database_url,
        **infrastructure.connections(private_topic_prefix),
        consumer_group=unique_name("notification"),
        smtp_port=smtp.port,
        scheduler_enabled=False,
        relay_poll_interval_s=0.1,
        send_rate_per_s=0,
        public_base_url="https://forbedring.test",
        hr_admins=[HR_ADMIN],
    )
    verifier = TokenVerifier(issuers={ISSUER.issuer: ISSUER.keys()}, audience=ISSUER.audience)
    app = create_app(settings, clock=SettableClock(OPENS_AT), verifier=verifier)
    base = await serve_app(app)
    producer = AIOKafkaProducer(bootstrap_servers=infrastructure.kafka_bootstrap_servers)
    await producer.start()
    try:
        for event in (period.directory, period.opened):
            record = envelope.encode(event)
            await producer.send_and_wait(
                private_topic_prefix + record.topic,
                record.value,
                key=record.key,
                headers=record.headers,
                timestamp_ms=record.timestamp_ms,
            )
    finally:
        await producer.stop()
    # A digest subscription, as the first digest to this leader writes it.
    unsubscribe_token = unique_name("token")
    connection = await asyncpg.connect(plain_url(database_url))
    try:

        async def migrated() -> bool:
            found = await connection.fetchval(
                "SELECT to_regclass('notification_subscriptions') IS NOT NULL"
            )
            return bool(found)

        await eventually(migrated, timeout=30)
        await connection.execute(
            "INSERT INTO notification_subscriptions (person_id, token, digests) "
            "VALUES ($1, $2, true)",
            DIGEST_LEADER,
            unsubscribe_token,
        )
    finally:
        await connection.close()
    running = Served(base, period.period_id, smtp, unsubscribe_token)
    rows = await running.settled()
    assert [r["email"] for r in rows if r["status"] == "failed"] == [REFUSED]
    yield running
    smtp.stop()


async def signed_in_page(new_page: NewPage, served: Served, person: str, **options: Any) -> Page:
    page = await new_page(**options)
    await add_session(page, served.base, ISSUER.issue(person))
    return page


async def assert_fits(page: Page) -> None:
    widths = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{page.url}: {widths[0]} px wide on a {widths[1]} px screen"


async def test_hr_reads_filters_and_resends_in_every_language(
    served: Served, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    failed = next(r for r in await served.deliveries(status="failed"))
    for lang in LANGS:
        page = await signed_in_page(new_page, served, HR_ADMIN, viewport=DESKTOP)
        await page.goto(f"{served.base}/admin?lang={lang}")
        await expect(page.get_by_role("heading", level=1)).to_have_text(TEXT["admin"][lang])
        await expect(page.locator("html")).to_have_attribute("lang", lang)
        rows = page.locator("tr[data-delivery]")
        total = len(await served.deliveries(period_id=served.period_id))
        await expect(rows).to_have_count(total)
        # What, to whom, when, why, and what failed.
        row = page.locator(f'tr[data-delivery="{failed["id"]}"]')
        await expect(row).to_contain_text(REFUSED)
        await expect(row).to_contain_text(failed["reason"])
        await expect(row).to_contain_text("550")
        await expect(row.locator(".status--failed")).to_have_text(TEXT["failed"][lang])
        await assert_accessible(page)

        # By period and kind: the leaders' opening emails.
        await page.fill("#period_id", served.period_id)
        await page.select_option("#kind", Kind.PERIOD_OPENED_LEADER.value)
        await page.locator("form[method=get] button[type=submit]").click()
        await page.wait_for_url(lambda url: "kind=period_opened_leader" in url)
        await expect(rows).to_have_count(len(holders("leader")))
        await assert_accessible(page)

        # By status: the one failure, resent from its row.
        await page.select_option("#kind", "")
        await page.select_option("#status", "failed")
        await page.locator("form[method=get] button[type=submit]").click()
        await page.wait_for_url(lambda url: "status=failed" in url)
        await expect(rows).to_have_count(1)
        if lang == LANGS[-1]:
            served.smtp.mailbox.refuse.clear()  # the mailbox exists now
        await row.get_by_role("button").click()
        await page.wait_for_url(lambda url: "resent=" in url)
        await expect(page.get_by_role("status")).to_contain_text(TEXT["resent"][lang])
        assert "status=failed" in page.url
        await assert_accessible(page)

        expected = "sent" if lang == LANGS[-1] else "failed"

        async def settled_again(expected: str = expected) -> bool:
            (again,) = [r for r in await served.deliveries() if r["id"] == failed["id"]]
            return bool(again["status"] == expected and again["attempts"] >= 1)

        await eventually(settled_again, timeout=30)

    # Refused at first and at each resend but the last, then delivered once, with the
    # Message-ID it always had.
    delivered = [m.message for m in served.smtp.mailbox.snapshot() if m.recipients == (REFUSED,)]
    assert [m["Message-ID"] for m in delivered] == [failed["message_id"]]

    phone = await signed_in_page(new_page, served, HR_ADMIN, viewport=PHONE, is_mobile=True)
    for lang in LANGS:
        await phone.goto(f"{served.base}/admin?lang={lang}")
        await expect(phone.get_by_role("heading", level=1)).to_have_text(TEXT["admin"][lang])
        await assert_fits(phone)
        await assert_accessible(phone)


async def test_every_template_previews_in_every_language(
    served: Served, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    page = await signed_in_page(new_page, served, HR_ADMIN, viewport=DESKTOP)
    phone = await signed_in_page(new_page, served, HR_ADMIN, viewport=PHONE, is_mobile=True)
    every = [(kind, language) for kind in Kind for language in LANGS]
    for lang in LANGS:
        await page.goto(f"{served.base}/admin?lang={lang}")
        await page.locator('main a[href^="/admin/preview"]').click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(TEXT["preview"][lang])
        # Every template in every language, chosen apart from the page's own language
        # (all of them on the first page language; one on the others).
        shown = every if lang == LANGS[0] else [(Kind.RESULTS_RELEASED, LANGS[0])]
        for kind, language in shown:
            await show_preview(page, kind=kind, language=language, page_language=lang)
        await assert_accessible(page)

        await phone.goto(
            f"{served.base}/admin/preview?kind={Kind.PARTICIPATION_DIGEST.value}&lang={lang}"
        )
        await expect(phone.get_by_role("heading", level=1)).to_have_text(TEXT["preview"][lang])
        await assert_fits(phone)
        await assert_accessible(phone)


async def show_preview(page: Page, *, kind: Kind, language: str, page_language: str) -> None:
    await page.select_option("#kind", kind.value)
    await page.select_option("#language", language)
    await page.locator("main form button[type=submit]").click()
    await page.wait_for_url(
        lambda url: f"kind={kind.value}" in url and f"language={language}" in url
    )
    await expect(page.locator("html")).to_have_attribute("lang", page_language)
    subject = (await page.locator("#subject").inner_text()).strip()
    assert subject
    await expect(page.locator("#text")).to_contain_text("https://forbedring.test/")
    frame = page.frame_locator("iframe.email-preview")
    await expect(frame.locator("h1")).to_have_text(subject)
    await expect(frame.locator("html")).to_have_attribute("lang", language)
    # The email's inline styles apply in its frame (its own route's policy allows them).
    await expect(frame.locator("a.button")).to_have_css("background-color", "rgb(0, 76, 151)")
    blocked = await page.evaluate("() => window.__cspViolations || []")
    assert blocked == [], (kind, language, blocked)


async def test_one_click_unsubscribe_page_in_every_language(
    served: Served, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    url = f"{served.base}/unsubscribe/{served.unsubscribe_token}"
    for lang in LANGS:
        for viewport in (DESKTOP, PHONE):
            page = await new_page(viewport=viewport, is_mobile=viewport is PHONE)
            # axe-core on the desktop; on the phone, what fits (and what the policy blocked).
            check = assert_accessible if viewport is DESKTOP else assert_fits_unblocked
            await page.goto(f"{url}?lang={lang}")
            await expect(page.get_by_role("heading", level=1)).to_have_text(TEXT["digest"][lang])
            await assert_fits(page)
            await check(page)

            await page.locator("main form button").click()
            await expect(page.get_by_role("status")).to_contain_text(TEXT["unsubscribed"][lang])
            await assert_fits(page)
            await check(page)

            await page.locator("main form button").click()
            await expect(page.get_by_role("status")).to_contain_text(TEXT["resubscribed"][lang])
            await assert_fits(page)
            await check(page)


async def assert_fits_unblocked(page: Page) -> None:
    await assert_fits(page)
    blocked = await page.evaluate("() => window.__cspViolations || []")
    assert blocked == [], f"the Content-Security-Policy blocked on {page.url}: {blocked}"
