"""The live feed (api/live.py): a notification wakes the streams watching its flow;
others keep waiting; "" (the listener reconnected) wakes every stream."""

from __future__ import annotations

import asyncio
import threading

from callboard.api.live import LiveFeed


def test_a_notification_wakes_only_the_streams_of_its_flow() -> None:
    async def scenario() -> list[tuple[bool, bool]]:
        feed = LiveFeed(live=lambda: True)
        mine, other = feed.watch("FW1"), feed.watch("FW2")
        seen: list[tuple[bool, bool]] = []

        async def after(payload: str) -> None:
            # from the listener's thread, as in a server
            thread = threading.Thread(target=feed.on_notify, args=(payload,))
            thread.start()
            thread.join()
            await asyncio.sleep(0)  # the loop runs the wake-up it was handed
            seen.append((mine.changed.is_set(), other.changed.is_set()))
            mine.changed.clear()
            other.changed.clear()

        await after("FW1 work")
        await after("FW3")  # nobody watches it
        await after("")  # reconnected: anything may have been missed
        mine.close()
        await after("FW1")  # closed: no longer woken
        await mine.wait(0.01)  # returns (a timeout) and clears
        other.close()
        return seen

    assert asyncio.run(scenario()) == [(True, False), (False, False), (True, True), (False, False)]
