"""The mail relay: sends committed ledger rows, the way the outbox relay publishes events.

Each of `connections` workers keeps one SMTP connection and loops: claim a few due rows
(FOR UPDATE SKIP LOCKED; status 'sending' with a lease), commit, send them, then record
what happened to each, in the transaction that claims the next batch: sent; a temporary
failure (connection refused, 4xx, timeout) back to pending with exponential backoff; a
permanent one (5xx, a refused address) failed, never retried. A process that stops
between sending and recording leaves rows 'sending'; once their lease is over they are
marked 'possibly sent', never sent again on their own, and shown to HR, who may resend
them (same Message-ID).
A token bucket shared by the workers holds the sending rate.
"""

import asyncio
import contextlib
import random
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from typing import Literal

import aiosmtplib
from prometheus_client import Counter
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.clock import Clock
from forbedring_chassis.db import Sessions, unit_of_work
from forbedring_chassis.logging import get_logger
from forbedring_notification import repository
from forbedring_notification.domain.kinds import Kind
from forbedring_notification.domain.schedule import backoff_s
from forbedring_notification.rendering import Renderer
from forbedring_notification.repository import Claimed
from forbedring_notification.settings import NotificationSettings

log = get_logger(__name__)

EMAILS_SENT = Counter(
    "forbedring_emails_sent_total", "Emails the SMTP server accepted", ["kind"], registry=None
)
EMAILS_FAILED = Counter(
    "forbedring_emails_failed_total",
    "Emails not sent: temporary (retried later) or permanent (given up on)",
    ["kind", "failure"],
    registry=None,
)
EMAIL_METRICS = (EMAILS_SENT, EMAILS_FAILED)


@dataclass(frozen=True)
class Failure:
    permanent: bool
    connection: bool
    """The connection is unusable (or never came up): the rest of the batch waits too."""
    error: str


def classify(exc: BaseException) -> Failure:
    """What an SMTP error means for the email: 5xx for this message or recipient is
    permanent; anything about the server or the connection is temporary."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        text = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        return Failure(all(c >= 500 for c in codes), False, f"recipient refused: {text}")
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        return Failure(exc.code >= 500, False, f"{exc.code} {exc.message}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return Failure(False, True, f"{type(exc).__name__}: {exc.code} {exc.message}")
    return Failure(False, True, f"{type(exc).__name__}: {exc}")


class RateLimiter:
    """At most `rate` takes a second on average (bursts of one second's worth); 0: none."""

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._tokens = max(rate, 1.0)
        self._last = 0.0
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        if self._rate <= 0:
            return
        async with self._lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            if self._last:
                self._tokens = min(self._rate, self._tokens + (now - self._last) * self._rate)
            self._last = now
            if self._tokens < 1:
                wait = (1 - self._tokens) / self._rate
                await asyncio.sleep(wait)
                self._last = loop.time()
                self._tokens = 0
            else:
                self._tokens -= 1


@dataclass
class Outcome:
    sent: dict[int, str]
    retry: list[tuple[int, str, float]]
    failed: list[tuple[int, str]]
    connection_failed: bool = False
    """The server could not be reached or the connection broke: wait before the next."""


class MailRelay:
    def __init__(
        self,
        *,
        sessions: Sessions,
        clock: Clock,
        renderer: Renderer,
        settings: NotificationSettings,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._renderer = renderer
        self._settings = settings
        self._limiter = RateLimiter(settings.send_rate_per_s)
        self._sender = parseaddr(settings.mail_from)[1]
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        """Rows were just committed: send them now rather than at the next poll."""
        self._wake.set()

    async def recover(self) -> int:
        """Rows a stopped relay left 'sending' past their lease become 'possibly sent'."""
        async with unit_of_work(self._sessions) as session:
            found = await repository.mark_possibly_sent(session, now=self._clock.now())
        if found:
            log.warning("notification.relay.possibly_sent", rows=found)
        return found

    async def run(self) -> None:
        """The background task: recover, then the workers until cancelled; on cancel each
        worker records the batch it is sending before the task ends."""
        self._stopping.clear()
        workers = [
            asyncio.create_task(self._worker(n), name=f"mail-relay-{n}")
            for n in range(self._settings.relay_connections)
        ]
        try:
            while True:
                try:
                    await self.recover()
                except Exception:
                    log.exception("notification.relay.recover_failed")
                await asyncio.sleep(self._settings.sending_lease_s / 2)
        except asyncio.CancelledError:
            self._stopping.set()
            self._wake.set()
            _, pending = await asyncio.wait(workers, timeout=self._settings.shutdown_grace_s)
            for task in pending:
                task.cancel()
            raise

    async def _worker(self, number: int) -> None:
        """Claim, send, then record what happened in the same transaction that claims the
        next batch: one transaction per batch, and at a crash only the batch being sent
        is left unrecorded."""
        smtp: aiosmtplib.SMTP | None = None
        outcome: Outcome | None = None
        try:
            while True:
                stopping = self._stopping.is_set()
                try:
                    rows = await self._record_and_claim(outcome, claim=not stopping)
                    outcome = None
                except Exception:
                    # Kept to be recorded on the next try (the rows stay 'sending' meanwhile).
                    log.exception("notification.relay.failed", worker=number)
                    await _close(smtp)
                    smtp = None
                    if stopping:
                        return
                    await asyncio.sleep(self._settings.relay_poll_interval_s)
                    continue
                if stopping:
                    return
                if rows:
                    outcome, smtp = await self._send(rows, smtp)
                    if (
                        len(rows) == self._settings.relay_batch_size
                        and not outcome.connection_failed
                    ):
                        continue  # more is likely due: record and claim at once
                    try:
                        await self._record_and_claim(outcome, claim=False)
                        outcome = None
                    except Exception:
                        log.exception("notification.relay.failed", worker=number)
                        continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._settings.relay_poll_interval_s)
                self._wake.clear()
        finally:
            await _close(smtp)

    async def send_pending(self) -> int:
        """One round on a connection of its own (tests and the benchmark drive this)."""
        rows = await self._record_and_claim(None, claim=True)
        if not rows:
            return 0
        outcome, smtp = await self._send(rows, None)
        await _close(smtp)
        await self._record_and_claim(outcome, claim=False)
        return len(rows)

    async def _record_and_claim(self, outcome: Outcome | None, *, claim: bool) -> list[Claimed]:
        """One transaction: what became of the last batch, then (if `claim`) the next
        due rows, now 'sending' with a lease."""
        if outcome is None and not claim:
            return []
        async with unit_of_work(self._sessions) as session:
            if outcome is not None:
                await self._record(session, outcome)
            if not claim:
                return []
            now = self._clock.now()
            return await repository.claim(
                session,
                now=now,
                until=now + timedelta(seconds=self._settings.sending_lease_s),
                limit=self._settings.relay_batch_size,
            )

    async def _record(self, session: AsyncSession, outcome: Outcome) -> None:
        now = self._clock.now()
        await repository.mark_sent(session, sent=outcome.sent, now=now)
        for delivery_id, error, wait_s in outcome.retry:
            await repository.mark_retry(
                session,
                delivery_id=delivery_id,
                error=error,
                at=now + timedelta(seconds=wait_s),
            )
        for delivery_id, error in outcome.failed:
            await repository.mark_failed(session, delivery_id=delivery_id, error=error)
        if outcome.retry or outcome.failed:
            log.warning(
                "notification.relay.not_sent",
                sent=len(outcome.sent),
                retry=len(outcome.retry),
                failed=len(outcome.failed),
            )

    async def _send(
        self, rows: list[Claimed], smtp: aiosmtplib.SMTP | None
    ) -> tuple[Outcome, aiosmtplib.SMTP | None]:
        outcome = Outcome({}, [], [])
        for index, row in enumerate(rows):
            try:
                rendered, raw = self._renderer.raw(
                    key=row.key,
                    kind=Kind(row.kind),
                    email=row.email,
                    name=str(row.context.get("recipient_name", "")),
                    language=row.language,
                    context=row.context,
                    now=self._clock.now(),
                )
            except Exception as exc:
                log.exception("notification.relay.render_failed", delivery_id=row.id)
                outcome.failed.append((row.id, f"could not render: {type(exc).__name__}: {exc}"))
                EMAILS_FAILED.labels(row.kind, "permanent").inc()
                continue
            await self._limiter.take()
            try:
                if smtp is None:
                    smtp = await self._connect()
                await smtp.sendmail(self._sender, [row.email], raw)
            except Exception as exc:
                failure = classify(exc)
                await _close(smtp)
                smtp = None
                self._settle(outcome, row, failure)
                if failure.connection:
                    outcome.connection_failed = True
                    for later in rows[index + 1 :]:
                        self._settle(outcome, later, failure)
                    break
                continue
            outcome.sent[row.id] = rendered.subject
            EMAILS_SENT.labels(row.kind).inc()
        return outcome, smtp

    def _settle(self, outcome: Outcome, row: Claimed, failure: Failure) -> None:
        given_up = failure.permanent or row.attempts >= self._settings.retry_max_attempts
        EMAILS_FAILED.labels(row.kind, "permanent" if given_up else "temporary").inc()
        if failure.permanent:
            outcome.failed.append((row.id, f"permanent: {failure.error}"))
        elif row.attempts >= self._settings.retry_max_attempts:
            outcome.failed.append(
                (row.id, f"gave up after {row.attempts} attempts: {failure.error}")
            )
        else:
            wait = backoff_s(
                row.attempts, base_s=self._settings.retry_base_s, max_s=self._settings.retry_max_s
            )
            outcome.retry.append((row.id, failure.error, wait * random.uniform(1.0, 1.2)))

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self._settings
        smtp = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            use_tls=s.smtp_tls,
            start_tls=s.smtp_starttls,
            validate_certs=s.smtp_validate_certs,
            timeout=s.smtp_timeout_s,
        )
        await smtp.connect()
        return smtp


async def _close(smtp: aiosmtplib.SMTP | None) -> None:
    """Close the connection, if any (the caller then holds None)."""
    if smtp is not None:
        with contextlib.suppress(Exception):
            if smtp.is_connected:
                await asyncio.wait_for(smtp.quit(), timeout=5)
        with contextlib.suppress(Exception):
            smtp.close()


Status = Literal["pending", "sending", "sent", "failed", "possibly_sent"]
