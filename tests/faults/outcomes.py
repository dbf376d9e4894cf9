"""What each fault case measured, written to bench-results/faults.json as the case passes
(docs/resilience.md's "Fault suite" section cites a dated run of it). Each case's entry
replaces the one from an earlier run, so a partial run keeps the others' figures."""

import json
from datetime import UTC, datetime
from typing import Any

from forbedring_chassis.testing import REPO_ROOT

RESULTS = REPO_ROOT / "bench-results" / "faults.json"


def record_outcome(fault: str, subject: str, **measured: Any) -> None:
    """Store what `fault` (for `subject`: a service, a scheduler) measured, with the time."""
    RESULTS.parent.mkdir(exist_ok=True)
    try:
        stored: dict[str, Any] = json.loads(RESULTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = {}
    cases = stored.setdefault("cases", {})
    now = datetime.now(UTC).isoformat(timespec="seconds")
    cases[f"{fault}/{subject}"] = {
        "fault": fault,
        "subject": subject,
        "measured_at": now,
        **measured,
    }
    stored["measured_at"] = now
    stored["cases"] = dict(sorted(cases.items()))
    RESULTS.write_text(json.dumps(stored, indent=2) + "\n", encoding="utf-8")
