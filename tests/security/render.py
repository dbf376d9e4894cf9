"""Write docs/resilience.md's "Security suite" section from the suite's last results
(bench-results/security.json, written by tests/security at the end of a run). The rest of
the file (the fault suite's section) is kept as it is.

    uv run python -m tests.security.render        (make test-security runs it)
"""

import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench-results" / "security.json"
DOC = REPO / "docs" / "resilience.md"
HEADING = "## Security suite"
SKELETON = """# Resilience

What the system was shown to withstand, each line measured by a suite anyone can run.

## Fault suite

Not built yet here (issue 19, item 1).

"""
# What the runs found and what was done about it (kept by hand: the fix is in the history).
FINDINGS = [
    "schemathesis, every service: the JSON API answered 401, 403, 404 and 409 in the one "
    "error shape on routes whose OpenAPI documented only 200 and 422. Fixed in the chassis "
    "(`forbedring_chassis.errors`): every `/api/` operation documents them.",
    "schemathesis: `POST /dev-login/form` (the development sign-in, never mounted in "
    "production) answers 303, and 403 without the CSRF pair, but documents 200. Left out "
    "of the run and left to the sign-in's owner.",
    "Refused tokens, fuzzing and the privacy scan found nothing to fix.",
]


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _tokens(entries: list[dict[str, Any]]) -> str:
    by_attack: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    services = sorted({e["service"] for e in entries})
    for e in entries:
        counted = by_attack[e["attack"]][e["carrier"]]
        counted[0] += e["refused"]
        counted[1] += e["routes"]
    rows = []
    for attack, carriers in by_attack.items():
        cells = [f"{r} of {n}" for r, n in (carriers["header"], carriers["cookie"])]
        ok = all(r == n for r, n in carriers.values())
        rows.append([attack, *cells, "refused everywhere (401)" if ok else "**NOT refused**"])
    return (
        "Every route that needs a sign-in, in "
        f"{len(services)} services ({', '.join(services)}), called with each token as "
        "`Authorization: Bearer` and as the session cookie (which holds the issuer's signed "
        "token itself, `forbedring_chassis.sessions`; a page's form post with its CSRF pair). "
        "A refusal is 401, in the one error shape on the JSON API and the sign-in page on a "
        "page; the same token without its flaw was accepted on every route.\n\n"
        + _table(["token", "as header: routes refusing it", "as cookie", "outcome"], rows)
    )


def _openapi(entries: list[dict[str, Any]]) -> str:
    by_service: dict[str, dict[str, Any]] = {}
    for e in entries:
        s = by_service.setdefault(
            e["service"], {"operations": e["operations"], "requests": 0, "failures": 0, "roles": []}
        )
        s["requests"] += e["requests"]
        s["failures"] += e["failures"]
        s["roles"].append(e["role"])
    rows = [
        [name, s["operations"], ", ".join(s["roles"]), s["requests"], s["failures"]]
        for name, s in by_service.items()
    ]
    return (
        "schemathesis 4 (positive data from each service's OpenAPI document, 12 cases per "
        "operation: half with random path parameters, half with the run's real period and "
        "unit), sent in process to the app on the real infrastructure as each role. Checked: "
        "no 5xx, a documented status code, content type and body schema.\n\n"
        + _table(["service", "operations", "roles", "requests", "failures"], rows)
    )


def _privacy(linkage: list[dict[str, Any]], hidden: list[dict[str, Any]]) -> str:
    return (
        "A period end to end (three units of 6, 3 and 2 people, the two small ones hidden; "
        "all answer; close, finalise, stages 1 and 2, plans, emails), then everything it "
        "left scanned. Who answered what: no employee id or email in the same event, log "
        "line or table row (every table of every service but survey's `invitations`) as a "
        "response id, its answers or its submission.\n\n"
        + _table(
            ["scanned", "items", "person next to a response"],
            [[e["scanned"], e["items"], e["linkages"]] for e in linkage],
        )
        + "\n\nThe hidden unit of three: none of its own figures (its mean on 1-5 and on "
        "0-100, its shares of each answer, with a decimal point or comma) in any of these, "
        "while the scan finds the published unit's mean on its pages.\n\n"
        + _table(
            ["scanned", "items", "hidden figures found"],
            [[e["scanned"], e["items"], e["leaks"]] for e in hidden],
        )
    )


def _fuzzing(entries: list[dict[str, Any]]) -> str:
    return (
        "hypothesis, derandomised (the same inputs every run), 300 examples each. Every input "
        "ended in the module's own refusal with a message (`ImportRefused` with its problems, "
        "`InvalidEvent`) or in a valid result.\n\n"
        + _table(
            ["parser", "inputs", "examples", "refused", "accepted", "other exceptions"],
            [
                [
                    e["target"],
                    e["inputs"],
                    e["examples"],
                    e["refused"],
                    e["accepted"],
                    e["other_exceptions"],
                ]
                for e in entries
            ],
        )
    )


def section(results: dict[str, Any]) -> str:
    sections = results["sections"]
    parts = [
        HEADING,
        f"`make test-security` (tests/security, with publication's and actionplan's route x "
        f"role x stage matrices run beside it); measured {results['measured_at']} on the "
        "development machine, on the real Kafka, PostgreSQL, Redis and an SMTP server.",
    ]
    for title, key, render in (
        ("### Refused tokens", "refused_tokens", _tokens),
        ("### OpenAPI fuzzing", "openapi", _openapi),
        ("### Parsers fuzzed", "fuzzing", _fuzzing),
    ):
        if key in sections:
            parts += [title, render(sections[key])]
    if "privacy_linkage" in sections and "privacy_hidden_figures" in sections:
        parts += [
            "### Privacy scan",
            _privacy(sections["privacy_linkage"], sections["privacy_hidden_figures"]),
        ]
    parts += ["### Found and done", "\n".join(f"- {f}" for f in FINDINGS)]
    return "\n\n".join(parts) + "\n"


def render(document: str, new_section: str) -> str:
    """`document` with its security section replaced by `new_section` (or added)."""
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(document):
        return pattern.sub(lambda _: new_section + "\n", document).rstrip("\n") + "\n"
    return document.rstrip("\n") + "\n\n" + new_section


def main() -> int:
    if not RESULTS.exists():
        print(f"no results at {RESULTS}: run the security suite first", file=sys.stderr)
        return 1
    results = json.loads(RESULTS.read_text())
    document = DOC.read_text() if DOC.exists() else SKELETON
    DOC.write_text(render(document, section(results)))
    print(f"wrote {DOC.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
