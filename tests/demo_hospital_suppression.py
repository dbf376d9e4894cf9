"""The demo hospital answered at about 65 %: what each edition of the suppression rule
hides. Pure: no infrastructure.

    uv run python tests/demo_hospital_suppression.py [--hospital-seed 2026] [--answer-seed 65]

The survey service's demo hospital (`generate_demo_hospital`, a fixed seed) is given
answers: each invitation (one per unit assignment above 0 %) is answered with
probability `--rate`, drawn from its own seeded RNG, once. An answer counts directly for
the unit of its invitation: staff of a team for the team, and the leaders of the units
above the teams (with their few staff) for the unit they lead, so almost every unit
above the teams has a direct respondent or three. Both editions then choose the pattern
at k = 5: the first (`greedy_v1`) and the second (`optimal_v2`).

It lives here, not under the aggregation service, because it imports the survey
service too (a service imports contracts, never another service).
`test_demo_hospital_suppression.py` runs the same simulation and checks it.

Writes `bench-results/demo-hospital-suppression.json` (repository root) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from forbedring_aggregation.domain.suppression import (
    DEFAULT_K,
    SuppressionMethod,
    SuppressionResult,
    UnitNode,
    UnitTree,
    build_unit_tree,
    compute_suppression,
)
from forbedring_survey.demo.hospital import generate_demo_hospital
from forbedring_survey.domain.org_import import Organisation

REPO_ROOT = Path(__file__).resolve().parents[1]
HOSPITAL_SEED = 2026
ANSWER_SEED = 65
"""Not the hospital's seed: `Random(2026)` would replay the generator's own stream, and the
answers would follow how it drew the people (66.4 % answered instead of about 65 %)."""
RESPONSE_RATE = 0.65

EDITIONS = {
    SuppressionMethod.GREEDY_V1: "first edition",
    SuppressionMethod.OPTIMAL_V2: "second edition",
}


@dataclass(frozen=True)
class DemoAnswers:
    """Who answered, as the aggregation service would count it: direct respondents per
    unit (every unit present, 0 where nobody answered for it)."""

    organisation: Organisation
    invitations: int
    answered: int
    direct: Mapping[str, int]

    def unit_nodes(self) -> list[UnitNode]:
        return [
            UnitNode(u.unit_id, u.parent_id, self.direct[u.unit_id])
            for u in self.organisation.units
        ]


def simulate(
    *,
    hospital_seed: int = HOSPITAL_SEED,
    answer_seed: int = ANSWER_SEED,
    rate: float = RESPONSE_RATE,
) -> DemoAnswers:
    """The demo hospital with each invitation answered with probability `rate` (the same
    seeds always give the same answers)."""
    organisation = generate_demo_hospital(seed=hospital_seed)
    rng = random.Random(answer_seed)
    invitations = organisation.invitations()
    answered = Counter(i.unit_id for i in invitations if rng.random() < rate)
    direct = {u.unit_id: answered.get(u.unit_id, 0) for u in organisation.units}
    return DemoAnswers(organisation, len(invitations), sum(answered.values()), direct)


@dataclass(frozen=True)
class HiddenUnit:
    unit_id: str
    name: str
    respondents: int
    team: bool


@dataclass(frozen=True)
class EditionSummary:
    """What one edition's pattern costs on the demo hospital."""

    method: str
    edition: str
    k: int
    units: int
    units_hidden: int
    teams: int
    teams_hidden: int
    teams_with_at_least_k_hidden: int
    respondents: int
    respondents_without_own_report: int
    largest_hidden_unit: HiddenUnit | None
    largest_hidden_team: HiddenUnit | None
    hidden_with_published_sub_units: int
    reasons: dict[str, int]


def hidden_teams(result: SuppressionResult, tree: UnitTree) -> set[str]:
    """The hidden leaf units (teams, cost centres)."""
    return {u for u in result.suppressed if not tree.children[u]}


def summarise(
    result: SuppressionResult, tree: UnitTree, organisation: Organisation
) -> EditionSummary:
    names = {u.unit_id: u.name for u in organisation.units}
    n = tree.respondents

    def largest(ids: set[str]) -> HiddenUnit | None:
        if not ids:
            return None
        biggest = max(sorted(ids), key=lambda u: n[u])
        return HiddenUnit(biggest, names[biggest], n[biggest], not tree.children[biggest])

    teams = hidden_teams(result, tree)
    return EditionSummary(
        method=result.method.value,
        edition=EDITIONS[result.method],
        k=result.k,
        units=len(tree.postorder),
        units_hidden=result.cost.units_hidden,
        teams=sum(1 for u in tree.postorder if not tree.children[u]),
        teams_hidden=result.cost.teams_hidden,
        teams_with_at_least_k_hidden=sum(1 for u in teams if n[u] >= result.k),
        respondents=n[tree.root],
        respondents_without_own_report=result.cost.respondents_without_own_report,
        largest_hidden_unit=largest(set(result.suppressed)),
        largest_hidden_team=largest(teams),
        hidden_with_published_sub_units=sum(1 for u in result.suppressed if result.sub_units[u]),
        reasons=dict(sorted(Counter(r.value for r in result.reasons.values()).items())),
    )


def _unit(hidden: HiddenUnit | None) -> str:
    return "none" if hidden is None else f"{hidden.name} ({hidden.unit_id}, n={hidden.respondents})"


def _table(summaries: list[EditionSummary]) -> str:
    rows: list[tuple[str, ...]] = [("", *(f"{s.edition} ({s.method})" for s in summaries))]
    rows += [
        ("units hidden", *(f"{s.units_hidden} of {s.units}" for s in summaries)),
        ("teams hidden", *(f"{s.teams_hidden} of {s.teams}" for s in summaries)),
        (
            f"teams with >= {summaries[0].k} hidden",
            *(str(s.teams_with_at_least_k_hidden) for s in summaries),
        ),
        ("largest hidden unit", *(_unit(s.largest_hidden_unit) for s in summaries)),
        ("largest hidden team", *(_unit(s.largest_hidden_team) for s in summaries)),
        (
            "without their own report",
            *(f"{s.respondents_without_own_report:,} of {s.respondents:,}" for s in summaries),
        ),
        (
            "hidden, with a roll-up",
            *(str(s.hidden_with_published_sub_units) for s in summaries),
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hospital-seed", type=int, default=HOSPITAL_SEED)
    parser.add_argument("--answer-seed", type=int, default=ANSWER_SEED)
    parser.add_argument("--rate", type=float, default=RESPONSE_RATE)
    parser.add_argument("--k", type=int, default=DEFAULT_K)
    args = parser.parse_args()
    if not 0.0 <= args.rate <= 1.0:
        parser.error("--rate must be between 0 and 1")

    answers = simulate(
        hospital_seed=args.hospital_seed, answer_seed=args.answer_seed, rate=args.rate
    )
    tree = build_unit_tree(answers.unit_nodes())
    summaries = [
        summarise(compute_suppression(tree, args.k, method=method), tree, answers.organisation)
        for method in EDITIONS
    ]
    report: dict[str, Any] = {
        "hospital_seed": args.hospital_seed,
        "answer_seed": args.answer_seed,
        "response_rate": args.rate,
        "invitations": answers.invitations,
        "answered": answers.answered,
        "units": len(tree.postorder),
        "units_above_teams_with_direct_respondents": sum(
            1 for u in tree.postorder if tree.children[u] and tree.direct[u] > 0
        ),
        "k": args.k,
        "editions": [asdict(s) for s in summaries],
        "notes": "one answer per invitation (an invitation is one unit assignment above 0 %), "
        "each answered with probability response_rate; an answer counts directly for its "
        "invitation's unit, so leaders of units above the teams answer for the unit they "
        "lead. Both editions end with the independent audit.",
    }
    out = REPO_ROOT / "bench-results" / "demo-hospital-suppression.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")

    print(
        f"demo hospital (seed {args.hospital_seed}): {answers.answered:,} of "
        f"{answers.invitations:,} invitations answered "
        f"({answers.answered / answers.invitations:.1%}, answer seed {args.answer_seed}), "
        f"k = {args.k}"
    )
    print(_table(summaries))
    print(f"wrote {out.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
