"""All of the survey's SQL, one module per section. Functions take the caller's session
and never commit.

Anonymity rules this package keeps (the reasoning is in `docs/anonymity.md`):
- nothing is ever ordered by insertion (no serial ids; random UUIDs; `ORDER BY` only on
  unit ids or random());
- a response or background row is never written in the same statement as, nor joined
  to, an invitation.
"""

from forbedring_survey.repository.answering import (
    find_invitation,
    hold_background,
    hold_response,
    invitations_of,
    mark_answered,
)
from forbedring_survey.repository.directory import (
    count_directory,
    delete_directory,
    directory_entry,
    has_role,
    members_of,
    roles_of,
    store_organisation,
    units_of,
)
from forbedring_survey.repository.participation import (
    participation_counts,
    participation_sent,
    record_participation_sent,
)
from forbedring_survey.repository.periods import (
    get_period,
    insert_period,
    list_periods,
    lock_due_periods,
    lock_release,
    open_period_ids,
    open_period_of,
    set_period_closed,
    set_period_open,
)
from forbedring_survey.repository.release import (
    background_rows,
    released_totals,
    rewrite_invitations,
    store_background,
    store_released,
    take_pending_background,
    take_pending_responses,
    units_with_pending,
)

__all__ = [
    "background_rows",
    "count_directory",
    "delete_directory",
    "directory_entry",
    "find_invitation",
    "get_period",
    "has_role",
    "hold_background",
    "hold_response",
    "insert_period",
    "invitations_of",
    "list_periods",
    "lock_due_periods",
    "lock_release",
    "mark_answered",
    "members_of",
    "open_period_ids",
    "open_period_of",
    "participation_counts",
    "participation_sent",
    "record_participation_sent",
    "released_totals",
    "rewrite_invitations",
    "roles_of",
    "set_period_closed",
    "set_period_open",
    "store_background",
    "store_organisation",
    "store_released",
    "take_pending_background",
    "take_pending_responses",
    "units_of",
    "units_with_pending",
]
