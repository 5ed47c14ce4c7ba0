"""Waiting, in Pilot tests, for what the app does in threads and over message round trips:
on the state a user would see, with a wall-clock timeout generous enough for a machine
loaded many processes deep. A fixed pause, or a count of short pauses, is what flakes
there: a pause of 10 ms may take 100."""

from __future__ import annotations

import time
from collections.abc import Callable

TIMEOUT = 60.0  # seconds; only a broken app waits this long


async def until(pilot, condition: Callable[[], object], timeout: float = TIMEOUT,
                what: str = "the app never got there") -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        await pilot.pause(0.01)
