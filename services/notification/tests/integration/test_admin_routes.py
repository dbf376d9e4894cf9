"""HR's routes on the real database: resending a failed email (page and API) puts it back
in the queue with the same Message-ID and it goes out once; only failed or possibly sent
emails are resent, only by HR; every template previews in every language, its HTML from
its own route under a policy that allows the email's inline styles there and nowhere else;
the pages themselves keep the strict policy and hold no inline style or script."""

import re
from importlib.resources import files
from typing import Any

import pytest

from forbedring_chassis.auth import SESSION_COOKIE
from forbedring_chassis.csrf import CSRF_COOKIE, CSRF_FIELD
from forbedring_chassis.security import CONTENT_SECURITY_POLICY
from forbedring_chassis.testing import unique_name
from forbedring_chassis.web import LANGUAGES
from forbedring_notification.domain.kinds import Kind
from forbedring_notification.pages import EMAIL_PREVIEW_POLICY
from services.notification.tests.integration.conftest import HR_ADMIN, ISSUER, token
from services.notification.tests.org import a_period, address
from services.notification.tests.smtp import SmtpServer

REFUSED = address("E-K2-01")
PAGES = ("admin.html", "preview.html", "unsubscribe.html", "refused.html")


FORM_TOKEN = "t" * 43  # the CSRF token a page of ours gave the browser


def cookie(person_id: str) -> dict[str, str]:
    """The cookies a signed-in browser sends (as a header: per-request cookies are
    deprecated in httpx): the session and the CSRF token's."""
    return {"Cookie": f"{SESSION_COOKIE}={ISSUER.issue(person_id)}; {CSRF_COOKIE}={FORM_TOKEN}"}


def test_the_pages_hold_no_inline_style_or_script() -> None:
    templates = files("forbedring_notification") / "templates"
    for name in PAGES:
        source = (templates / name).read_text(encoding="utf-8")
        assert not re.search(r"\sstyle\s*=", source, re.IGNORECASE), name
        assert "<style" not in source.lower(), name
        assert not re.search(r"<script(?![^>]*\ssrc=)", source, re.IGNORECASE), name
        assert not re.search(r"\son[a-z]+\s*=", source, re.IGNORECASE), name


async def test_a_failed_email_resent_from_the_page_and_the_api_goes_out_once(
    notification: Any, produce: Any
) -> None:
    period = a_period(unique_name("period"))
    server = SmtpServer(refuse={REFUSED}).start()
    try:
        async with notification(smtp_port=server.port) as running:
            await produce([period.directory, period.opened])
            await running.settled()
            (failed,) = await running.deliveries(status="failed")
            assert failed["email"] == REFUSED
            first_id = failed["message_id"]

            # Not HR: refused, nothing changes.
            refused = await running.client.post(
                f"/admin/deliveries/{failed['id']}/resend",
                data={CSRF_FIELD: FORM_TOKEN},
                headers=cookie("E-K2-00"),
            )
            assert refused.status_code == 403
            api_refused = await running.client.post(
                f"/api/v1/deliveries/{failed['id']}/resend", headers=token("E-K2-00")
            )
            assert api_refused.status_code == 403
            assert api_refused.json()["detail"]["code"] == "forbidden"

            # The mailbox exists now; HR resends from the filtered page.
            server.mailbox.refuse.clear()
            page = await running.client.get(
                "/admin", params={"status": "failed"}, headers=cookie(HR_ADMIN)
            )
            assert page.status_code == 200
            assert f'action="/admin/deliveries/{failed["id"]}/resend"' in page.text
            resent = await running.client.post(
                f"/admin/deliveries/{failed['id']}/resend",
                data={"back": "status=failed", CSRF_FIELD: FORM_TOKEN},
                headers=cookie(HR_ADMIN),
            )
            assert resent.status_code == 303
            assert resent.headers["location"] == f"/admin?status=failed&resent={failed['id']}"
            await running.settled()
            (row,) = [r for r in await running.deliveries() if r["id"] == failed["id"]]
            assert row["status"] == "sent"
            assert row["message_id"] == first_id

            # A sent email is not resent.
            again = await running.client.post(
                f"/api/v1/deliveries/{failed['id']}/resend", headers=token(HR_ADMIN)
            )
            assert again.status_code == 409
            assert again.json()["detail"]["code"] == "conflict"
            missing = await running.client.post(
                "/api/v1/deliveries/999999999/resend", headers=token(HR_ADMIN)
            )
            assert missing.status_code == 404

        to_refused = [m for m in server.mailbox.snapshot() if m.recipients == (REFUSED,)]
        assert len(to_refused) == 1
        assert to_refused[0].message["Message-ID"] == first_id
    finally:
        server.stop()


async def test_every_template_previews_in_every_language(
    notification: Any, smtp: SmtpServer
) -> None:
    async with notification(smtp_port=smtp.port) as running:
        client = running.client
        for kind in Kind:
            for language in LANGUAGES:
                page = await client.get(
                    "/admin/preview",
                    params={"kind": kind.value, "language": language, "lang": "en"},
                    headers=cookie(HR_ADMIN),
                )
                assert page.status_code == 200, (kind, language)
                assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
                assert page.headers["x-frame-options"] == "DENY"
                assert page.headers["content-language"] == "en"
                frame = f'src="/admin/preview/{kind.value}/{language}.html" sandbox=""'
                assert frame in page.text
                assert "srcdoc" not in page.text
                assert not re.search(r"\sstyle\s*=", page.text)

                html = await client.get(
                    f"/admin/preview/{kind.value}/{language}.html", headers=cookie(HR_ADMIN)
                )
                assert html.status_code == 200
                # The route's own policy wins over the service's default.
                assert html.headers["content-security-policy"] == EMAIL_PREVIEW_POLICY
                assert "script-src" not in html.headers["content-security-policy"]
                assert html.headers["x-frame-options"] == "SAMEORIGIN"
                assert html.headers["content-language"] == language
                assert html.text.lstrip().lower().startswith("<!doctype html")
                assert 'style="' in html.text  # the email's inlined styles, as sent

                data = await client.get(
                    f"/api/v1/templates/{kind.value}/{language}", headers=token(HR_ADMIN)
                )
                assert data.status_code == 200
                assert data.json()["html"] == html.text

        # Only HR; no such template or language.
        for path in (
            "/admin/preview?kind=reminder",
            "/admin/preview/reminder/nb.html",
        ):
            assert (await client.get(path, headers=cookie("E-K2-00"))).status_code == 403
            assert (await client.get(path)).status_code == 401
        unknown = await client.get("/admin/preview/nothing/nb.html", headers=cookie(HR_ADMIN))
        assert unknown.status_code == 404
        assert "content-security-policy" in unknown.headers
        assert unknown.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        no_language = await client.get("/admin/preview/reminder/de.html", headers=cookie(HR_ADMIN))
        assert no_language.status_code == 404


@pytest.mark.parametrize("path", ["/admin", "/unsubscribe/unknown-token"])
async def test_the_pages_keep_the_strict_policy(
    notification: Any, smtp: SmtpServer, path: str
) -> None:
    async with notification(smtp_port=smtp.port) as running:
        reply = await running.client.get(path, headers=cookie(HR_ADMIN))
        assert reply.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert reply.headers["x-frame-options"] == "DENY"
        stylesheet = await running.client.get("/static/service/notification.css")
        assert stylesheet.status_code == 200
        assert ".email-preview" in stylesheet.text
