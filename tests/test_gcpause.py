"""The collector pauses: nested and overlapping ones leave it as the first found it."""

from __future__ import annotations

import gc
import threading

from async_trace_tui.gcpause import CollectorHold, paused_gc


def test_pauses_nest_and_overlap_across_threads():
    assert gc.isenabled()
    hold = CollectorHold()
    assert hold.hold() and not hold.hold()  # one hold at a time
    assert not gc.isenabled()
    with paused_gc():
        hold.release()
        assert not gc.isenabled()  # the other pause is still on
        done = threading.Event()

        def load() -> None:
            with paused_gc():
                done.set()

        t = threading.Thread(target=load)
        t.start()
        t.join()
        assert done.is_set() and not gc.isenabled()
    assert gc.isenabled()
    hold.release()  # twice: nothing more
    assert gc.isenabled()


def test_a_pause_that_found_the_collector_off_leaves_it_off():
    gc.disable()
    try:
        hold = CollectorHold()
        hold.hold()
        with paused_gc():
            pass
        hold.release()
        assert not gc.isenabled()
    finally:
        gc.enable()
