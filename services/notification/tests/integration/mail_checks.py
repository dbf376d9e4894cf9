"""What every email must be, checked on messages as the SMTP server received them."""

import re
from collections import defaultdict
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

from services.notification.tests.smtp import Received

DIGEST_KINDS = {"participation_digest"}


def check_message(message: EmailMessage, row: dict[str, Any]) -> None:
    """Valid multipart/alternative (text, then HTML, both UTF-8), the headers of an
    automated email, the recipient's language, one link (and the unsubscribe link on a
    digest)."""
    assert not message.defects, message.defects
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert message["Auto-Submitted"] == "auto-generated"
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message["Message-ID"] == row["message_id"]
    assert message["Content-Language"] == row["language"]
    assert message["Subject"] == row["subject"]
    assert message["To"].addresses[0].addr_spec == row["email"]
    text = parts[0].get_content()
    html = parts[1].get_content()
    assert "<style" not in html, "the stylesheet is inlined"
    links = re.findall(r'href="([^"]+)"', html)
    if row["kind"] in DIGEST_KINDS:
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = message["List-Unsubscribe"].strip("<>")
        assert unsubscribe.startswith("https://forbedring.test/notification/unsubscribe/")
        assert len(links) == 2
        assert unsubscribe in links
        assert unsubscribe in text
    else:
        assert message["List-Unsubscribe"] is None
        assert message["List-Unsubscribe-Post"] is None
        assert len(links) == 1
    assert links[0].startswith("https://forbedring.test/")
    assert links[0] in text


def by_message_id(received: list[Received]) -> dict[str, list[Received]]:
    found: dict[str, list[Received]] = defaultdict(list)
    for mail in received:
        found[mail.message["Message-ID"]].append(mail)
    return found
