"""Example data for every kind of email: what HR previews on the admin page, and what the
tests render in every language. Made with the same functions as the real rows."""

from datetime import UTC, date, datetime
from typing import Any, Final

from forbedring_notification.domain.kinds import Kind
from forbedring_notification.domain.participation import Tree, UnitCounts
from forbedring_notification.ledger import digest_context

_PERIOD: Final = {
    "period_id": "2026",
    "period_name": "ForBedring 2026",
    "opens_at": datetime(2026, 2, 2, 7, 0, tzinfo=UTC).isoformat(),
    "closes_at": datetime(2026, 3, 16, 15, 0, tzinfo=UTC).isoformat(),
    "plan_deadline": date(2026, 6, 30).isoformat(),
    "k": 5,
    "recipient_name": "Kari Nordmann",
}

_TREE: Final = Tree(
    {
        u.unit_id: u
        for u in (
            UnitCounts("HF", None, "Helse Eksempel HF", 2, 1),
            UnitCounts("K1", "HF", "Medisinsk klinikk", 1, 1),
            UnitCounts("S11", "K1", "Sengepost 1", 24, 15),
            UnitCounts("S12", "K1", "Dagpost", 6, 2),
            UnitCounts("K2", "HF", "Kirurgisk klinikk", 40, 31),
        )
    },
    k=5,
)

_PLAN: Final = {
    **_PERIOD,
    "unit_id": "S11",
    "unit_name": "Sengepost 1",
    "plan_id": "plan-S11-2026",
    "deadline": date(2026, 6, 30).isoformat(),
    "days_left": 14,
    "overdue": False,
    "days_overdue": 0,
    "above": False,
    "missing": ["staff_discussion", "measure_linked_to_focus_area"],
    "measure_title": None,
    "measure_count": 3,
}

_MEASURE: Final = {
    **_PERIOD,
    "unit_id": "S11",
    "unit_name": "Sengepost 1",
    "to_unit_id": "K1",
    "to_unit_name": "Medisinsk klinikk",
    "title": "Faste pauserom på nattevakt",
    "reason": "Trenger en budsjettbeslutning på klinikknivå.",
}

EXAMPLES: Final[dict[Kind, dict[str, Any]]] = {
    Kind.PERIOD_OPENED_LEADER: {**_PERIOD, "units": ["Sengepost 1"]},
    Kind.PERIOD_OPENED_EMPLOYEE: {**_PERIOD, "units": ["Sengepost 1", "Dagpost"]},
    Kind.REMINDER: {**_PERIOD, "number": 1, "units": ["Sengepost 1"]},
    Kind.PARTICIPATION_DIGEST: {
        **_PERIOD,
        "day": date(2026, 2, 9).isoformat(),
        "units": [digest_context(_TREE.digest("K1"))],
        "unsubscribe_token": "example-token",
    },
    Kind.PERIOD_CLOSED: {**_PERIOD, "units": [digest_context(_TREE.digest("K1"))]},
    Kind.RESULTS_RELEASED: {**_PERIOD, "stage": 2},
    Kind.PLAN_PUBLISHED: _PLAN,
    Kind.PLAN_DEADLINE: _PLAN,
    Kind.MEASURE_DEADLINE: {**_PLAN, "measure_title": "Faste pauserom på nattevakt"},
    Kind.MEASURE_ESCALATED: {**_MEASURE, "step": "escalated"},
    Kind.MEASURE_DECIDED: {**_MEASURE, "step": "declined"},
}
