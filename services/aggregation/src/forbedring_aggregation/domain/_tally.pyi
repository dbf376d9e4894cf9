from collections.abc import Mapping

from forbedring_aggregation.domain.scoring import Layout

def tally_into(target: list[int], layout: Layout, answers: Mapping[str, object]) -> None: ...
