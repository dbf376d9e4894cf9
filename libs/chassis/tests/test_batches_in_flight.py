"""The batches a batch consumer applies in the background (pure asyncio, no broker)."""

import asyncio

from forbedring_chassis.consumer.in_flight import InFlight


async def test_batches_are_applied_one_at_a_time_in_order_the_handler_waiting_past_two() -> None:
    in_flight = InFlight(depth=2)
    log: list[str] = []
    release = {n: asyncio.Event() for n in range(4)}

    async def batch(n: int) -> None:
        log.append(f"start {n}")
        await release[n].wait()
        log.append(f"end {n}")

    # Two batches in flight: the handler of each returns at once.
    await asyncio.wait_for(in_flight.follow(batch(0)), 1)
    await asyncio.wait_for(in_flight.follow(batch(1)), 1)
    await asyncio.sleep(0)
    assert log == ["start 0"], "the second waits for the first"
    # A third: its handler waits until the first is done.
    third = asyncio.create_task(in_flight.follow(batch(2)))
    await asyncio.sleep(0.05)
    assert not third.done()
    release[0].set()
    await asyncio.wait_for(third, 1)
    for n in (1, 2):
        release[n].set()
    await in_flight.drain(timeout_s=1)
    assert log == ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]


async def test_a_batch_stuck_at_shutdown_is_given_up_after_the_grace_period() -> None:
    in_flight = InFlight(depth=2)
    stuck = asyncio.Event()
    cancelled: list[int] = []

    async def batch(n: int) -> None:
        try:
            await stuck.wait()  # an outage that does not end
        except asyncio.CancelledError:
            cancelled.append(n)
            raise

    await in_flight.follow(batch(0))
    await in_flight.follow(batch(1))
    await asyncio.sleep(0)
    await asyncio.wait_for(in_flight.drain(timeout_s=0.1), 2)
    assert cancelled == [0], "the one running was cancelled; the one behind it never started"
    assert all(task.done() for task in in_flight.tasks)


async def test_a_handler_cancelled_while_it_waits_cancels_no_batch() -> None:
    in_flight = InFlight(depth=1)
    log: list[str] = []
    release = asyncio.Event()

    async def batch(n: int) -> None:
        log.append(f"start {n}")
        await release.wait()
        log.append(f"end {n}")

    await in_flight.follow(batch(0))
    handler = asyncio.create_task(in_flight.follow(batch(1)))  # waits: two past a depth of one
    await asyncio.sleep(0)
    handler.cancel()  # as FastStream does to a handler at shutdown
    await asyncio.gather(handler, return_exceptions=True)
    assert handler.cancelled()
    release.set()
    await in_flight.drain(timeout_s=1)
    assert log == ["start 0", "end 0", "start 1", "end 1"], "both applied, in order"


async def test_while_draining_a_batch_taken_is_applied_before_its_handler_returns() -> None:
    in_flight = InFlight(depth=2)
    log: list[str] = []

    async def batch(n: int) -> None:
        await asyncio.sleep(0)
        log.append(f"applied {n}")

    await in_flight.drain(timeout_s=1)  # nothing in flight: returns at once
    await in_flight.follow(batch(0))
    assert log == ["applied 0"], "no batch left behind once the consumer is stopping"
    await in_flight.follow(batch(1))
    assert log == ["applied 0", "applied 1"]
    assert not in_flight.tasks
