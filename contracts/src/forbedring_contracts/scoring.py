"""The follow-up rule and "what works", shared by every service that reads unit results
(publication's reports, actionplan's suggested focus areas). The rule is described in
`docs/scoring.md` ("Follow-up and what works"); it reads only published figures."""

from collections.abc import Sequence

from forbedring_contracts.events.aggregation import ScaleItemResult

FOLLOW_UP_AGREE_BELOW = 60.0
"""An item is followed up when fewer than this share (percent) of its valid answers agree."""
FOLLOW_UP_MEAN_BELOW = 75.0
"""… or when its mean score (0-100) is below this."""
STRENGTHS = 3
"""How many of the best-scoring items are named as "what works"."""


def needs_follow_up(item: ScaleItemResult, *, reverse_scored: bool) -> bool:
    """For a reverse-scored item agreeing is unfavourable, so only its (flipped) mean
    counts; the agreement rule applies to the others."""
    low_mean = item.mean is not None and item.mean < FOLLOW_UP_MEAN_BELOW
    low_agree = (
        not reverse_scored
        and item.percent_agree is not None
        and item.percent_agree < FOLLOW_UP_AGREE_BELOW
    )
    return low_mean or low_agree


def strengths(items: Sequence[ScaleItemResult], flagged: set[str]) -> list[str]:
    """The best-scoring items that need no follow-up, best first (ties by id)."""
    scored = [i for i in items if i.mean is not None and i.item_id not in flagged]
    scored.sort(key=lambda i: (-(i.mean or 0.0), i.item_id))
    return [i.item_id for i in scored[:STRENGTHS]]


def follow_up_items(
    items: Sequence[ScaleItemResult], *, reverse_scored: frozenset[str]
) -> list[str]:
    """The ids of the items to follow up, in the order given."""
    return [
        i.item_id for i in items if needs_follow_up(i, reverse_scored=i.item_id in reverse_scored)
    ]
