"""Generated answers for the demo hospital's previous period, so that its results, and the
action plans made from them, are there when a newcomer first opens the demo.

Deterministic for a seed. Each unit gets a climate of its own (how good things are there),
each item a slant (some statements go better than others across the hospital), so that
some units have factors to follow up and others have strengths, as real ones do. Answers
are what a person could give: every required item answered (now and then "don't know"),
the sensitive yes/no items mostly "no" and sometimes skipped, no background variables.
Nothing here knows who answers; `answering.submit` is given these answers like any
other submission's."""

from __future__ import annotations

import random
from typing import Any

from forbedring_survey.domain.questionnaire import Questionnaire

RESPONSE_RATE = 0.65
"""The share of invitations answered (the seeds' hospitals answer at 60-75 %)."""


def climate(unit_id: str, *, seed: int) -> float:
    """How well the unit is doing, 0.3-0.92: the chance a person agrees with a positive
    statement there (before the item's slant)."""
    return random.Random(f"{seed}:{unit_id}").uniform(0.3, 0.92)


def slant(item_id: str, *, seed: int) -> float:
    return random.Random(f"{seed}:item:{item_id}").uniform(-0.15, 0.15)


def answers_for(
    questionnaire: Questionnaire, *, unit_climate: float, rng: random.Random, seed: int
) -> dict[str, Any]:
    """One person's answers in a unit of this climate."""
    found: dict[str, Any] = {}
    for item in questionnaire.items:
        if item.kind == "yes_no":
            if rng.random() < 0.1:
                continue  # a sensitive question skipped
            found[item.id] = "yes" if rng.random() < (1 - unit_climate) * 0.25 else "no"
            continue
        if rng.random() < 0.03:
            found[item.id] = "dont_know"
            continue
        good = rng.random() < min(0.98, max(0.02, unit_climate + slant(item.id, seed=seed)))
        if item.reverse_scored:
            value = rng.choice((1, 1, 2)) if good else rng.choice((3, 4, 4, 5))
        else:
            value = rng.choice((4, 5, 5)) if good else rng.choice((1, 2, 2, 3))
        found[item.id] = value
    return found
