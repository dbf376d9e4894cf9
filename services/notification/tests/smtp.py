"""A real SMTP server for the tests and the benchmark: aiosmtpd in a thread, on a free
port, keeping every message it accepts (parsed with the standard library's parser).

`refuse` names addresses it answers 550 (a permanent failure), as a real server does
for a mailbox that does not exist."""

import asyncio
import email
import email.policy
import threading
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from forbedring_chassis.testing import free_port


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Mailbox:
    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        with self._lock:
            self.received.append(
                Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), content)
            )
        return "250 Message accepted"

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def per_recipient(self) -> Counter[str]:
        return Counter(r.lower() for m in self.snapshot() for r in m.recipients)


class SmtpServer:
    """`start()`/`stop()`; may be started after the service, on the port it was given."""

    def __init__(self, *, port: int | None = None, refuse: set[str] | None = None) -> None:
        self.port = port or free_port()
        self.mailbox = Mailbox(refuse={a.lower() for a in refuse or set()})
        self._controller: Controller | None = None

    def start(self) -> "SmtpServer":
        self._controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=self.port,
            decode_data=False,
            data_size_limit=10 * 1024 * 1024,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def wait_for(self, count: int, *, timeout: float = 60.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while self.mailbox.count() < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"{self.mailbox.count()} emails within {timeout}s, expected {count}"
                )
            await asyncio.sleep(0.05)
