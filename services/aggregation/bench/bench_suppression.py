"""Suppression benchmark on a hospital-shaped tree; figures, not assertions. Pure: no
infrastructure.

    uv run python services/aggregation/bench/bench_suppression.py [--units 10000] [--seed 2026]

1. Builds a seeded tree of `--units` units shaped like a hospital trust: the enterprise,
   about 20 hospitals or divisions, their clinics, the clinics' sections and the teams
   (cost centres, the leaves) under the sections, with a few teams straight under a
   clinic. Every unit above the teams has 0-3 direct respondents (its leader and a few
   staff); a team has 0-70, some under 5 and some under 10, as real teams do.
2. Times `build_unit_tree` once a repetition, then `compute_suppression` on the built
   tree (the pattern, its description and the independent audit) at each k with the
   second edition (`optimal_v2`) and, as the baseline in the same run, the first edition
   (`greedy_v1`). After a warm-up, every repetition runs every (method, k) in turn, so a
   drift of the machine's speed within the run touches all of them alike.
3. Records what each pattern costs the people, and whether the goal (the second edition
   under 1 s at each k) is met.

Writes `bench-results/suppression.json` (repository root).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forbedring_aggregation.domain.suppression import (
    SuppressionMethod,
    SuppressionResult,
    UnitNode,
    UnitTree,
    build_unit_tree,
    compute_suppression,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
GOAL_SECONDS = 1.0
"""The second edition should choose a 10,000-unit pattern in under a second at each k."""

METHODS = (SuppressionMethod.OPTIMAL_V2, SuppressionMethod.GREEDY_V1)


@dataclass(frozen=True)
class HospitalTree:
    units: list[UnitNode]
    levels: dict[str, int]  # level name -> units at that level


def _team_size(rng: random.Random) -> int:
    """Respondents of one team: mostly 10-70, some under 10, a few under 5 (even 0)."""
    draw = rng.random()
    if draw < 0.06:
        return rng.randint(0, 4)
    if draw < 0.16:
        return rng.randint(5, 9)
    return min(70, max(10, round(rng.lognormvariate(3.2, 0.45))))


def _leader_and_staff(rng: random.Random) -> int:
    """Direct respondents of a unit above the teams: its leader and a few staff, or none
    (the leader has not answered, or answers with a team)."""
    return rng.choices((0, 1, 2, 3), weights=(15, 45, 25, 15))[0]


def hospital_tree(units: int, *, seed: int, divisions: int = 20) -> HospitalTree:
    """A seeded hospital-shaped tree of exactly `units` units (the same seed and size
    always give the same tree)."""
    rng = random.Random(seed)
    inner: list[UnitNode] = [UnitNode("E", None, _leader_and_staff(rng))]
    sections: list[str] = []
    clinics: list[str] = []
    for a in range(1, divisions + 1):
        division = f"E.{a:02d}"
        inner.append(UnitNode(division, "E", _leader_and_staff(rng)))
        for b in range(1, rng.randint(4, 10) + 1):
            clinic = f"{division}.{b}"
            clinics.append(clinic)
            inner.append(UnitNode(clinic, division, _leader_and_staff(rng)))
            for c in range(1, rng.randint(5, 15) + 1):
                section = f"{clinic}.{c}"
                sections.append(section)
                inner.append(UnitNode(section, clinic, _leader_and_staff(rng)))
    teams = units - len(inner)
    if teams < len(sections):
        raise ValueError(f"{units} units are too few for {len(inner)} units above the teams")

    # Every section gets a team; the rest go to sections by a random weight (sections
    # differ a lot in size), and one team in 20 to a clinic directly.
    weights = list(itertools.accumulate(rng.uniform(0.3, 1.7) for _ in sections))
    parents = list(sections)
    for _ in range(teams - len(sections)):
        if rng.random() < 0.05:
            parents.append(rng.choice(clinics))
        else:
            parents.append(rng.choices(sections, cum_weights=weights)[0])
    numbered: dict[str, int] = {}
    leaves: list[UnitNode] = []
    for parent in parents:
        numbered[parent] = numbered.get(parent, 0) + 1
        leaves.append(UnitNode(f"{parent}.t{numbered[parent]:02d}", parent, _team_size(rng)))
    levels = {
        "enterprise": 1,
        "divisions": divisions,
        "clinics": len(clinics),
        "sections": len(sections),
        "teams": len(leaves),
    }
    return HospitalTree(inner + leaves, levels)


def _spread(seconds: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(seconds), 5),
        "min": round(min(seconds), 5),
        "max": round(max(seconds), 5),
    }


def _cost(result: SuppressionResult, tree: UnitTree) -> dict[str, int]:
    leaves = [u for u in result.suppressed if not tree.children[u]]
    return {
        "respondents_without_own_report": result.cost.respondents_without_own_report,
        "units_hidden": result.cost.units_hidden,
        "teams_hidden": result.cost.teams_hidden,
        "teams_with_at_least_k_hidden": sum(1 for u in leaves if tree.respondents[u] >= result.k),
        "largest_team_hidden": max((tree.respondents[u] for u in leaves), default=0),
    }


def _timed(tree: UnitTree, k: int, method: SuppressionMethod) -> tuple[float, SuppressionResult]:
    started = time.perf_counter()
    result = compute_suppression(tree, k, method=method)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--divisions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--k", type=int, nargs="+", default=[5, 10])
    parser.add_argument(
        "--repetitions", type=int, default=7, help="timed runs of each (method, k), after one"
    )
    args = parser.parse_args()
    if args.repetitions < 1:
        parser.error("--repetitions must be at least 1")
    if any(k < 1 for k in args.k):
        parser.error("--k must be at least 1")

    hospital = hospital_tree(args.units, seed=args.seed, divisions=args.divisions)
    tree = build_unit_tree(hospital.units)
    leaves = [u for u in tree.postorder if not tree.children[u]]
    team_sizes = [tree.respondents[u] for u in leaves]
    above_teams = [tree.direct[u] for u in tree.postorder if tree.children[u]]

    cases = [(method, k) for k in args.k for method in METHODS]
    results: dict[tuple[SuppressionMethod, int], SuppressionResult] = {}
    for method, k in cases:  # warm-up
        results[method, k] = _timed(tree, k, method)[1]
    build_s: list[float] = []
    seconds: dict[tuple[SuppressionMethod, int], list[float]] = {case: [] for case in cases}
    for repetition in range(args.repetitions):
        started = time.perf_counter()
        build_unit_tree(hospital.units)
        build_s.append(time.perf_counter() - started)
        for method, k in cases:
            elapsed, result = _timed(tree, k, method)
            if result.published != results[method, k].published:
                raise RuntimeError(f"{method} at k={k}: another pattern in repetition {repetition}")
            seconds[method, k].append(elapsed)

    runs: list[dict[str, Any]] = []
    goal_met: dict[str, bool] = {}
    for method, k in cases:
        optimal = seconds[SuppressionMethod.OPTIMAL_V2, k]
        greedy = seconds[SuppressionMethod.GREEDY_V1, k]
        entry: dict[str, Any] = {
            "method": method.value,
            "k": k,
            "seconds": _spread(seconds[method, k]),
            "cost": _cost(results[method, k], tree),
        }
        if method is SuppressionMethod.OPTIMAL_V2:
            ratios = [o / g for o, g in zip(optimal, greedy, strict=True)]
            entry["optimal_vs_greedy_time"] = round(
                statistics.median(optimal) / statistics.median(greedy), 2
            )
            entry["optimal_vs_greedy_time_by_repetition"] = {
                "median": round(statistics.median(ratios), 2),
                "min": round(min(ratios), 2),
                "max": round(max(ratios), 2),
            }
            mine, first = results[method, k].cost, results[SuppressionMethod.GREEDY_V1, k].cost
            entry["cost_no_worse_than_greedy"] = (
                mine.respondents_without_own_report,
                mine.units_hidden,
            ) <= (first.respondents_without_own_report, first.units_hidden)
            goal_met[str(k)] = statistics.median(optimal) < GOAL_SECONDS
            entry["goal_met"] = goal_met[str(k)]
        runs.append(entry)

    report: dict[str, Any] = {
        "tree": {
            "seed": args.seed,
            "units": len(tree.postorder),
            "levels": hospital.levels,
            "leaves": len(leaves),
            "respondents": tree.respondents[tree.root],
            "respondents_in_teams": sum(team_sizes),
            "respondents_above_teams": sum(above_teams),
            "teams_under_5": sum(1 for n in team_sizes if n < 5),
            "teams_under_10": sum(1 for n in team_sizes if n < 10),
            "team_size_median": statistics.median(team_sizes),
            "team_size_max": max(team_sizes),
            "units_above_teams_with_direct_respondents": sum(1 for d in above_teams if d > 0),
        },
        "repetitions": args.repetitions,
        "warm_up": 1,
        "build_unit_tree_seconds": _spread(build_s),
        "runs": runs,
        "goal": f"optimal_v2 under {GOAL_SECONDS:g} s at each k (median of the repetitions)",
        "goal_met": goal_met,
        "notes": "compute_suppression is given the tree built once, so its seconds are "
        "the pattern, its description and the independent audit; build_unit_tree "
        "(validation, children, postorder, n) is timed on its own. Every repetition runs "
        "every (method, k) in turn after one warm-up run of each; optimal_vs_greedy_time "
        "is the ratio of the medians, and by_repetition the ratios within each repetition.",
        "python": sys.version.split()[0],
    }
    out = REPO_ROOT / "bench-results" / "suppression.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")

    described = report["tree"]
    print(
        f"tree (seed {args.seed}): {described['units']:,} units, {described['leaves']:,} teams "
        f"({described['teams_under_5']} under 5, {described['teams_under_10']} under 10), "
        f"{described['respondents']:,} respondents"
    )
    spread = report["build_unit_tree_seconds"]
    print(f"build_unit_tree: median {spread['median']:.3f} s")
    for entry in runs:
        s, c = entry["seconds"], entry["cost"]
        line = (
            f"{entry['method']:<10} k={entry['k']:<2}: median {s['median']:.3f} s "
            f"(min {s['min']:.3f}, max {s['max']:.3f}); hidden {c['units_hidden']} units, "
            f"{c['teams_hidden']} teams ({c['teams_with_at_least_k_hidden']} with >= k), "
            f"{c['respondents_without_own_report']:,} respondents without their own report"
        )
        if "goal_met" in entry:
            line += (
                f"; {entry['optimal_vs_greedy_time']}x greedy; "
                f"goal < {GOAL_SECONDS:g} s {'met' if entry['goal_met'] else 'NOT met'}"
            )
        print(line)
    print(f"wrote {out.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
