"""How a batch is cut into slices for pipelined writing (pure)."""

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from forbedring_chassis.consumer.writer import slices as cut


@given(st.integers(1, 50_000), st.integers(1, 10_000))
def test_slices_cover_the_batch_in_order_and_the_first_and_last_are_short(
    total: int, size: int
) -> None:
    slices = cut(total, size)
    assert slices[0][0] == 0
    assert slices[-1][1] == total
    assert all(a_stop == b_start for (_, a_stop), (b_start, _) in pairwise(slices))
    assert all(0 < stop - start <= size for start, stop in slices)
    if total > size:
        short = max(1, size // 5)
        start, stop = slices[-1]
        assert stop - start == short, "the slice the batch waits for is short"
        start, stop = slices[0]
        assert stop - start <= short, "the slice nothing overlaps is short"


def test_a_batch_no_larger_than_a_slice_is_one_slice() -> None:
    assert cut(5_000, 5_000) == [(0, 5_000)]
