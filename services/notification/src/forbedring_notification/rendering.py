"""Emails from template files: for each kind, `templates/mail/<kind>.txt` (plain text) and
`<kind>.html` (HTML, its stylesheet inlined with css-inline), with every text from
`mail.toml` in bokmål, nynorsk or English, and one link to the page the email is about.

A message has the headers a proper automated email has: `Auto-Submitted:
auto-generated` (RFC 3834), `Date`, a `Message-ID` derived from the ledger key (the same
email always has the same one), and on digests `List-Unsubscribe` with
`List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058)."""

import binascii
import hashlib
import html
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email import message_from_bytes
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, parseaddr
from importlib.resources import files
from typing import Any, Final
from zoneinfo import ZoneInfo

import css_inline
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from forbedring_chassis.web.i18n import Catalog, Language, is_language
from forbedring_notification.domain.kinds import DIGEST_KINDS, Kind, message_id

_PACKAGE: Final = "forbedring_notification"
NO_VALUE: Final = "\u2013"
_NAME: Final = "\u2063recipient\u2063"
"""Stands for the recipient's name in a cached rendering (invisible separators)."""

LINKS: Final[Mapping[Kind, Callable[[Mapping[str, Any]], str]]] = {
    Kind.PERIOD_OPENED_LEADER: lambda c: "/survey/participation",
    Kind.PERIOD_OPENED_EMPLOYEE: lambda c: "/survey/",
    Kind.REMINDER: lambda c: "/survey/",
    Kind.PARTICIPATION_DIGEST: lambda c: "/survey/participation",
    Kind.PERIOD_CLOSED: lambda c: "/survey/participation",
    Kind.RESULTS_RELEASED: lambda c: f"/publication/periods/{c['period_id']}",
    Kind.PLAN_PUBLISHED: lambda c: "/actionplan/",
    Kind.PLAN_DEADLINE: lambda c: "/actionplan/",
    Kind.MEASURE_DEADLINE: lambda c: "/actionplan/",
    Kind.MEASURE_ESCALATED: lambda c: "/actionplan/",
    Kind.MEASURE_DECIDED: lambda c: "/actionplan/",
}
"""The one page each kind of email is about (a path behind the proxy)."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    link: str
    unsubscribe_url: str | None


class Renderer:
    def __init__(
        self,
        *,
        public_base_url: str,
        sender: str,
        message_id_domain: str,
        zone: ZoneInfo,
    ) -> None:
        self.public_base_url = public_base_url.rstrip("/")
        self.sender = sender
        self.message_id_domain = message_id_domain
        self.zone = zone
        self.catalog = Catalog.load(files(_PACKAGE) / "mail.toml")
        self.environment = Environment(
            loader=PackageLoader(_PACKAGE, "templates/mail"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self._cache: dict[tuple[Kind, str, str], Rendered] = {}
        self._frames: dict[tuple[str, str | None, str], _Frame] = {}
        self._inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)

    def unsubscribe_url(self, token: str) -> str:
        return f"{self.public_base_url}/notification/unsubscribe/{token}"

    def render(self, kind: Kind, language: str, context: Mapping[str, Any]) -> Rendered:
        """Rendered once per (kind, language, context but the recipient's name): a release
        to 12,000 people renders three times, and each email gets its name put in."""
        name = str(context.get("recipient_name", ""))
        shared = {k: v for k, v in context.items() if k != "recipient_name"}
        cache_key = (kind, language, json.dumps(shared, sort_keys=True, default=str))
        cached = self._cache.get(cache_key)
        if cached is None:
            cached = self._render(kind, language, {**shared, "recipient_name": _NAME})
            if len(self._cache) >= 256:
                self._cache.pop(next(iter(self._cache)))
            self._cache[cache_key] = cached
        return Rendered(
            cached.subject,
            cached.text.replace(_NAME, name),
            cached.html.replace(_NAME, html.escape(name)),
            cached.link,
            cached.unsubscribe_url,
        )

    def _render(self, kind: Kind, language: str, context: Mapping[str, Any]) -> Rendered:
        lang: Language = language if is_language(language) else "nb"
        link = self.public_base_url + LINKS[kind](context)
        token = context.get("unsubscribe_token")
        unsubscribe = self.unsubscribe_url(token) if kind in DIGEST_KINDS and token else None

        def t(key: str, /, **params: object) -> str:
            return self.catalog.text(key, lang, **params)

        def has(key: str) -> bool:
            return key in self.catalog.messages

        values = {
            **context,
            "lang": lang,
            "t": t,
            "has": has,
            "link": link,
            "unsubscribe_url": unsubscribe,
            "date": lambda v: self.date(v, lang),
            "moment": lambda v: self.moment(v, lang),
            "percent": lambda v: self.percent(v, lang),
        }
        subject = t(f"mail.{kind.value}.subject", **_subject_params(context))
        text = self.environment.get_template(f"{kind.value}.txt").render(values)
        html = self.environment.get_template(f"{kind.value}.html").render(
            {**values, "subject": subject}
        )
        return Rendered(subject, text, self._inliner.inline(html), link, unsubscribe)

    def message(
        self,
        *,
        key: str,
        kind: Kind,
        email: str,
        name: str,
        language: str,
        context: Mapping[str, Any],
        now: datetime,
    ) -> tuple[Rendered, EmailMessage]:
        """The email as the standard library's message (previews, tests): the very bytes
        `raw` sends, parsed."""
        rendered, raw = self.raw(
            key=key,
            kind=kind,
            email=email,
            name=name,
            language=language,
            context=context,
            now=now,
        )
        parsed = message_from_bytes(raw, policy=SMTP)
        assert isinstance(parsed, EmailMessage)
        return rendered, parsed

    def raw(
        self,
        *,
        key: str,
        kind: Kind,
        email: str,
        name: str,
        language: str,
        context: Mapping[str, Any],
        now: datetime,
    ) -> tuple[Rendered, bytes]:
        """The email as the bytes sent over SMTP: multipart/alternative, text then HTML,
        each quoted-printable UTF-8, lines ending CRLF.

        Written directly rather than through `EmailMessage`, whose header objects parse
        every header again on each read: for a release to thousands that was most of the
        relay's time. What differs per email (To, Date, Message-ID, the name in the body)
        is put into headers folded once per rendering (`_Frame`)."""
        rendered = self.render(kind, language, context)
        frame = self._frame(rendered, language)
        lines = [
            _to(name, email),
            b"Date: " + format_datetime(now).encode("ascii"),
            b"Message-ID: " + message_id(key, self.message_id_domain).encode("ascii"),
        ]
        return rendered, b"\r\n".join(
            [
                frame.head,
                *lines,
                frame.middle,
                _quoted_printable(rendered.text),
                frame.between,
                _quoted_printable(rendered.html),
                frame.tail,
            ]
        )

    def _frame(self, rendered: Rendered, language: str) -> "_Frame":
        """The parts of a message that are the same for every recipient of a rendering."""
        cache_key = (rendered.subject, rendered.unsubscribe_url, language)
        frame = self._frames.get(cache_key)
        if frame is not None:
            return frame
        boundary = "==_fb" + hashlib.sha256(repr(cache_key).encode()).hexdigest()[:24]
        head = [
            _fold("From", formataddr(parseaddr(self.sender))),
            _fold("Subject", rendered.subject),
            "Auto-Submitted: auto-generated",
            "X-Auto-Response-Suppress: All",
        ]
        if rendered.unsubscribe_url is not None:
            head += [
                _fold("List-Unsubscribe", f"<{rendered.unsubscribe_url}>"),
                "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            ]
        part = (
            'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable'
        )
        middle = [
            "MIME-Version: 1.0",
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
            f"Content-Language: {language}",
            "",
            f"--{boundary}",
            part.format("plain"),
            "",
        ]
        frame = _Frame(
            head="\r\n".join(head).encode("ascii"),
            middle="\r\n".join(middle).encode("ascii"),
            between="\r\n".join(["", f"--{boundary}", part.format("html"), ""]).encode("ascii"),
            tail=f"\r\n--{boundary}--\r\n".encode("ascii"),
        )
        if len(self._frames) >= 256:
            self._frames.pop(next(iter(self._frames)))
        self._frames[cache_key] = frame
        return frame

    # --- formats ------------------------------------------------------------------------

    def date(self, value: str | None, language: Language) -> str:
        if not value:
            return NO_VALUE
        if "T" in value:
            day = datetime.fromisoformat(value).astimezone(self.zone).date()
        else:
            day = date.fromisoformat(value)
        if language == "en":
            return f"{day.day} {day.strftime('%B')} {day.year}"
        return day.strftime("%d.%m.%Y")

    def moment(self, value: str | None, language: Language) -> str:
        if not value:
            return NO_VALUE
        local = datetime.fromisoformat(value).astimezone(self.zone)
        if language == "en":
            return f"{self.date(value, language)}, {local:%H:%M}"
        return f"{local:%d.%m.%Y} kl. {local:%H:%M}"

    @staticmethod
    def percent(value: int | None, language: Language) -> str:
        if value is None:
            return NO_VALUE
        return f"{value}%" if language == "en" else f"{value} %"


@dataclass(frozen=True)
class _Frame:
    head: bytes
    """From, Subject and the fixed headers, folded."""
    middle: bytes
    """The MIME headers, the boundary and the text part's headers."""
    between: bytes
    """The boundary and the HTML part's headers."""
    tail: bytes
    """The closing boundary."""


def _fold(name: str, value: str | Sequence[Address]) -> str:
    """One header as the standard library folds it (RFC 5322, RFC 2047 encoded words for
    what is not ASCII), without its final CRLF."""
    folded: str = SMTP.header_factory(name, value).fold(policy=SMTP)
    return folded.removesuffix("\r\n")


def _to(name: str, email: str) -> bytes:
    """The To header: `Name <address>`, the name quoted or encoded as needed."""
    if name.isascii() and len(name) < 60:
        return b"To: " + formataddr((name, email)).encode("ascii")
    return _fold("To", [Address(display_name=name, addr_spec=email)]).encode("ascii")


def _quoted_printable(body: str) -> bytes:
    """A body as quoted-printable UTF-8 with CRLF line ends (lines of at most 76)."""
    data = body.replace("\r\n", "\n").encode("utf-8")
    return binascii.b2a_qp(data, istext=True).replace(b"\n", b"\r\n")


def _subject_params(context: Mapping[str, Any]) -> dict[str, object]:
    names = (
        "period_name",
        "unit_name",
        "to_unit_name",
        "title",
        "stage",
        "number",
        "measure_title",
    )
    return {name: context[name] for name in names if name in context}
