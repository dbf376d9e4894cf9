"""Leaving the participation digest (the only email one can leave): by the token in the
digest's link, one click (RFC 8058: a POST, so that a link checker fetching the page
unsubscribes no one)."""

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.logging import get_logger
from forbedring_notification import repository
from forbedring_notification.errors import NotFound
from forbedring_notification.schemas import Unsubscribed

log = get_logger(__name__)


async def status(session: AsyncSession, *, token: str) -> Unsubscribed:
    subscription = await repository.subscription_by_token(session, token=token)
    if subscription is None:
        raise NotFound("This unsubscribe link is not known. Check that it is complete.")
    return Unsubscribed(digests=subscription.digests)


async def set_digests(
    session: AsyncSession, *, token: str, digests: bool, now: datetime
) -> Unsubscribed:
    subscription = await repository.subscription_by_token(session, token=token)
    if subscription is None:
        raise NotFound("This unsubscribe link is not known. Check that it is complete.")
    if subscription.digests != digests:
        subscription.digests = digests
        subscription.changed_at = now
        session.add(subscription)
        log.info("notification.digests.changed", digests=digests)
    return Unsubscribed(digests=digests)
