"""Pausing Python's cyclic garbage collector around bulk work.

A bulk load or a full-tree walk allocates hundreds of thousands of objects; every few
hundred allocations the collector rescans what is alive, which costs more than the work
itself (measured: a 94,000-node tree walk 1.5 s with it on, 0.7 s off) and finds nothing
to free until the work is done.

Pauses nest and may overlap across threads (a load in the background while the TUI
rebuilds a tree): the collector comes back on when the last of them ends, and only if it
was on when the first began.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


def _pause() -> None:
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1


def _resume() -> bool:
    """End one pause; True when it was the last one and the collector is back on."""
    global _pauses
    with _lock:
        _pauses -= 1
        if _pauses or not _was_enabled:
            return False
        gc.enable()
        return True


@contextmanager
def paused_gc(freeze: bool = False) -> Iterator[None]:
    """Collector off inside; with `freeze`, what is alive afterwards (a loaded index that
    lives as long as the program) is moved out of every later collection's way."""
    _pause()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        _resume()


class CollectorHold:
    """The collector kept off across a burst of interactive bulk work (the TUI rebuilding
    or splicing thousands of tree rows, key after key), until `release()`.

    With a big index loaded, a full collection takes 30-100 ms (it walks every object
    alive, scattered over a large heap); one starting in the middle of a rebuild doubles the
    time the user waits for the key's answer. Held, it runs once, when released: the owner
    releases when the user pauses."""

    def __init__(self) -> None:
        self.held = False

    def hold(self) -> bool:
        """Pause the collector; True when this call started the hold."""
        if self.held:
            return False
        _pause()
        self.held = True
        return True

    def release(self) -> None:
        """End the hold; the collection put off runs now (if no other pause is on)."""
        if not self.held:
            return
        self.held = False
        if _resume():
            gc.collect()


class GrowthFreeze:
    """A heap that grows by objects that come to stay (live mode's index, batch after
    batch) kept out of the collector's way: each full collection would walk every span's
    ids and names again (a few hundred milliseconds at a million spans, the screen frozen
    meanwhile), and there is nothing among them to free.

    `grown()` after each growth freezes what is alive (cheap: the collector's lists are
    moved, not walked). Freezing also keeps what happened to be alive then: cyclic
    garbage made from it later (a finished request's objects) would never be freed, so
    `sweep()` now and then puts everything back, collects once and freezes again; the
    caller runs it when the user is not typing. `close()` gives everything back."""

    SWEEP_SECONDS = 60.0  # at most this often, when the user pauses
    FORCE_SECONDS = 300.0  # at least this often, whatever the user does

    def __init__(self) -> None:
        self.last_sweep = time.monotonic()
        self.frozen = False

    def grown(self) -> None:
        gc.freeze()
        self.frozen = True

    def sweep(self, idle: bool, now: float | None = None) -> bool:
        """Collect once if it is time (`idle`: the user has not pressed a key for a
        while); True when it did."""
        now = time.monotonic() if now is None else now
        due = now - self.last_sweep
        if not self.frozen or due < self.SWEEP_SECONDS or (not idle and due < self.FORCE_SECONDS):
            return False
        self.last_sweep = now
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        return True

    def close(self) -> None:
        if self.frozen:
            gc.unfreeze()
            self.frozen = False
