"""The kinds of email, and the idempotency key of each one.

An email is one (kind, fact, recipient): the key names all three, so a fact that arrives
twice, or an event log replayed from the start under a new consumer group, finds its
rows already in the ledger and writes nothing. The Message-ID is derived from the key,
so the rare email sent twice (a crash between sending and recording it) carries the same
Message-ID both times and can be spotted by any mail system.
"""

import hashlib
from enum import StrEnum
from typing import Final


class Kind(StrEnum):
    PERIOD_OPENED_LEADER = "period_opened_leader"
    """To each unit leader: the period opened; what to tell the staff."""
    PERIOD_OPENED_EMPLOYEE = "period_opened_employee"
    """To everyone invited: the survey link, the closing date, answer once per unit."""
    REMINDER = "reminder"
    """To everyone invited in a unit, never only to those who have not answered."""
    PARTICIPATION_DIGEST = "participation_digest"
    """To unit leaders, weekly and daily in the last week; the one kind one can leave."""
    PERIOD_CLOSED = "period_closed"
    """To unit leaders: the final participation."""
    RESULTS_RELEASED = "results_released"
    """Stage 1 to the stage-1 roles, stage 2 to every employee: a link, no figures."""
    PLAN_PUBLISHED = "plan_published"
    """To a unit's staff and representatives: the unit's action plan is agreed."""
    PLAN_DEADLINE = "plan_deadline"
    """To the unit's leaders (and, once overdue, the leaders above)."""
    MEASURE_DEADLINE = "measure_deadline"
    """To the person responsible for a measure."""
    MEASURE_ESCALATED = "measure_escalated"
    """To the leaders of the unit a measure was lifted to: decide."""
    MEASURE_DECIDED = "measure_decided"
    """Back to the leaders of the unit that lifted it: accepted or declined."""


DIGEST_KINDS: Final = frozenset({Kind.PARTICIPATION_DIGEST})
"""Kinds a person may unsubscribe from (List-Unsubscribe); every other kind is a message
about the person's own duties or rights and always comes."""


def idempotency_key(kind: Kind, fact: str, person_id: str) -> str:
    """The ledger's unique key of one email. `fact` names what happened, with everything
    that makes it another email (e.g. `release:<period>:2`, `digest:<period>:<date>`)."""
    return f"{kind.value}|{fact}|{person_id}"


def message_id(key: str, domain: str) -> str:
    """A stable RFC 5322 Message-ID for the email with this key."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"
