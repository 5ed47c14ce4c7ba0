"""TUI responsiveness with a big load: key press to screen update, measured inside the app.

    python benchmarks/ui.py                  # 1,000,000 spans (+ a fan-out trace, see below)
    python benchmarks/ui.py --spans 100000   # quicker
    python benchmarks/ui.py --dir /tmp/ui-bench --reuse   # keep and reuse the generated data
    python benchmarks/ui.py --spans 20000 --fanout 1000 --repeat 1   # what CI runs

Data: N SDK-shaped spans from benchmarks/load.py's `generate()` (protobuf), plus one small
OTLP/JSON file with what `generate()` lacks: a trace whose root has --fanout children with
distinct operations (a tree node with thousands of children) and a producer span that
--fanout consumer traces link to (a `+N more async calls` node with thousands behind it).

The app is the real one (`create_app`), run headless with `App.run_test()` at 160x50. For
each key, the clock starts when the key event reaches the App (`App.on_event`) and stops
when the screen update it caused has been rendered: the next `App._display` call (the
compositor has asked every dirty widget for its lines by then), plus turning that update
into terminal output. Pilot's own waiting is not measured. Keys that cause no repaint are
counted apart. Prints p50 / p95 / max per key; the bar is p95 under 50 ms.

Some keys answer at once and finish in a thread (regrouping thousands of rows, expanding a
`+N more` node standing for thousands of calls: the tree shows it is updating meanwhile; a
Traces filter key that needs every span's text: "searching…" and the previous matches).
For those, "final p95" is the time from the key to the screen update that shows the
finished tree; for every other key it equals p95.

A tab switch (and a focus change) re-lays out and repaints the whole screen whatever the
data. The same run measures a bare Textual app doing the same (`FloorApp`), and tab
switches are reported against that floor rather than the 50 ms bar.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from load import generate  # noqa: E402
from rich.segment import Segment  # noqa: E402
from textual import events  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.geometry import Size  # noqa: E402
from textual.scroll_view import ScrollView  # noqa: E402
from textual.strip import Strip  # noqa: E402
from textual.widgets import Footer, Input, TabbedContent, TabPane  # noqa: E402

from async_trace_tui.ui.app import create_app  # noqa: E402

BAR_MS = 50.0
T0 = 1_765_000_000_000_000_000


# -- data -------------------------------------------------------------------------------

def fanout_file(path: str, fanout: int) -> None:
    """One OTLP/JSON document: a batch trace (root + `fanout` children, distinct operations,
    one producer) and `fanout` one-span consumer traces linking to that producer."""

    def span(tid: str, sid: str, name: str, parent: str, kind: int, start: int, dur: int,
             links: list[tuple[str, str]] | None = None) -> dict:
        d = {"traceId": tid, "spanId": sid, "name": name, "kind": kind,
             "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + dur),
             "attributes": [{"key": "job.part", "value": {"intValue": str(len(sid))}}]}
        if parent:
            d["parentSpanId"] = parent
        if links:
            d["links"] = [{"traceId": t, "spanId": s} for t, s in links]
        return d

    batch = "f0" * 16
    root = f"{1:016x}"
    producer = f"{2:016x}"
    spans = [span(batch, root, "nightly batch", "", 2, T0, 60_000_000_000),
             span(batch, producer, "results publish", root, 4, T0 + 1000, 5_000_000)]
    for i in range(fanout):
        spans.append(span(batch, f"{0x1000 + i:016x}", f"part {i:05d}", root, 3,
                          T0 + 10_000 * i, 2_000_000))
    batch_doc = {"resource": {"attributes": [{"key": "service.name",
                                              "value": {"stringValue": "batch-runner"}}]},
                 "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}]}
    # distinct operations, so that grouping by operation keeps them apart: `+N more`
    consumers = [span(f"{0xc0000000 + i:032x}", f"{0x900000 + i:016x}", f"results process {i:05d}", "", 5,
                      T0 + 70_000_000_000 + i * 1_000_000, 3_000_000, [(batch, producer)])
                 for i in range(fanout)]
    consumer_doc = {"resource": {"attributes": [{"key": "service.name",
                                                 "value": {"stringValue": "results-worker"}}]},
                    "scopeSpans": [{"scope": {"name": "bench"}, "spans": consumers}]}
    with open(path, "w") as f:
        json.dump({"resourceSpans": [batch_doc, consumer_doc]}, f)


def make_data(n: int, fanout: int, directory: str, reuse: bool) -> list[str]:
    proto = os.path.join(directory, f"spans-{n}.binpb")
    extra = os.path.join(directory, f"fanout-{fanout}.json")
    if not (reuse and os.path.exists(proto)):
        t = time.perf_counter()
        sub = os.path.join(directory, f"gen-{n}")
        os.makedirs(sub, exist_ok=True)
        p, j = generate(n, sub)
        os.replace(p, proto)
        os.remove(j)
        print(f"generated {n:,} spans in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    if not (reuse and os.path.exists(extra)):
        fanout_file(extra, fanout)
    return [proto, extra]


# -- measuring ---------------------------------------------------------------------------

class Probe:
    """Key event in -> next rendered screen update out, timed inside the app."""

    def __init__(self, app) -> None:
        self.app = app
        self.label = ""
        self.t0: float | None = None
        self.armed = False
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.final: dict[str, list[float]] = defaultdict(list)
        self.settling: float | None = None  # the key's t0, while its work goes on in a thread
        self.pane = None  # the dependencies pane, once there is one
        self.table = None  # the Traces table
        self.no_repaint: dict[str, int] = defaultdict(int)
        self.order: list[str] = []
        on_event = app.on_event
        display = app._display

        async def timed_on_event(event) -> None:
            # The first sight of the key press (a key the app forwards comes back here).
            if isinstance(event, events.Key) and self.armed:
                self.armed = False
                self.t0 = time.perf_counter()
            await on_event(event)

        def timed_display(screen, renderable) -> None:
            display(screen, renderable)
            if renderable is None or (self.t0 is None and self.settling is None):
                return
            renderable.render_segments(app.console)  # what a terminal would be sent
            now = time.perf_counter()
            if self.t0 is not None:
                self.samples[self.label].append((now - self.t0) * 1000)
                self.settling, self.t0 = self.t0, None
            if self.settling is not None and not self.busy():
                self.final[self.label].append((now - self.settling) * 1000)
                self.settling = None

        app.on_event = timed_on_event
        app._display = timed_display

    def busy(self) -> bool:
        """Work for the last key still going on in a thread (a tree, the Traces filter)."""
        if self.pane is None or not self.pane.is_mounted:
            self.pane = getattr(self.app, "deps_pane", None)  # a DOM query: not on every frame
        if self.table is None:
            self.table = getattr(self.app, "traces_table", None)
        return (self.pane is not None and self.pane.updating) or \
            (self.table is not None and getattr(self.table, "searching", False))

    async def press(self, pilot, label: str, *keys: str) -> None:
        if label not in self.order:
            self.order.append(label)
        for key in keys:
            self.label = label
            self.armed = True
            await pilot.press(key)
            self.armed = False
            for _ in range(20):  # let the frame after the key be drawn
                if self.t0 is None:
                    break
                await asyncio.sleep(0.01)
            if self.t0 is not None:
                self.no_repaint[label] += 1
                self.t0 = None
            for _ in range(1000):  # and the frame showing the finished tree
                if self.settling is None:
                    break
                await asyncio.sleep(0.005)
            self.settling = None
        self.label = ""


class FloorApp(App):
    """Textual's own cost of a tab switch: a bare TabbedContent with two full-screen
    Line-API widgets (text rows, a scrollbar) and a Footer, at the same size. A tab switch
    re-lays out and repaints the whole screen whatever the data; the app's switches are
    judged against this."""

    BINDINGS = [("t", "tab('a')", "first"), ("right_square_bracket", "tab('b')", "second"),
                ("slash", "filter", "filter"), ("escape", "rows", "rows")]

    class Rows(ScrollView, can_focus=True):
        def on_mount(self) -> None:
            self.virtual_size = Size(200, 100_000)

        def render_line(self, y: int) -> Strip:
            row = self.scroll_offset.y + y
            return Strip([Segment(f"{row:>8}  " + "span name and service " * 8)]).crop(0, self.size.width)

    def compose(self) -> ComposeResult:
        with TabbedContent(id="tabs"):
            with TabPane("first", id="a"):
                yield Input(id="filter")
                yield self.Rows()
            with TabPane("second", id="b"):
                yield self.Rows()
        yield Footer()

    def action_filter(self) -> None:
        self.query_one(Input).focus()

    def action_rows(self) -> None:
        self.query_one("#a").query_one(self.Rows).focus()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.query_one(f"#{tab}").query_one(self.Rows).focus()


async def floor(repeat: int) -> Probe:
    app = FloorApp()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause(0.2)
        for key in ("right_square_bracket", "t"):  # both tabs shown once, as in the app
            await pilot.press(key)
        await pilot.pause(0.2)
        probe = Probe(app)
        for _ in range(2 * repeat + 1):
            await probe.press(pilot, "floor: bare Textual tab switch", "right_square_bracket")
            await probe.press(pilot, "floor: bare Textual tab switch", "t")
        for _ in range(2 * repeat + 1):
            await probe.press(pilot, "floor: bare Textual focus change", "slash")
            await probe.press(pilot, "floor: bare Textual focus change", "escape")
    return probe


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def reset_options(app) -> None:
    """Back to the defaults the earlier `g`/`i`/`a` presses moved away from."""
    pane = app.deps_pane
    pane.group_by = "operation"
    pane.agg = "avg"
    pane.show_internal = True


async def drive(files: list[str], repeat: int, fanout: int) -> tuple[Probe, dict[str, float]]:
    app = create_app(files)
    info: dict[str, float] = {}
    async with app.run_test(size=(160, 50)) as pilot:
        t = time.perf_counter()
        while app.loading:
            await asyncio.sleep(0.05)
        info["load_s"] = time.perf_counter() - t
        info["spans"] = len(app.index)
        info["traces"] = len(app.index.trace_ids)
        t = time.perf_counter()
        await app.traces_pane.wait_search(120)  # the full-text search, built after the load
        info["search_s"] = time.perf_counter() - t
        await pilot.pause(0.2)
        probe = Probe(app)

        # -- Traces table
        await probe.press(pilot, "traces: down", *["down"] * (20 * repeat))
        await probe.press(pilot, "traces: page down", *["pagedown"] * (10 * repeat))
        await probe.press(pilot, "traces: page up", *["pageup"] * (5 * repeat))
        await probe.press(pilot, "traces: sort (s)", *["s"] * 9)
        await probe.press(pilot, "traces: sort again (s)", *["s"] * 9)
        await probe.press(pilot, "traces: reverse (S)", *["S"] * (4 * repeat))
        for _ in range(repeat):
            await probe.press(pilot, "traces: / (to the filter)", "slash")
            await probe.press(pilot, "traces: filter typing", *"svc-1")
            await probe.press(pilot, "traces: filter backspace", *["backspace"] * 5)
            await probe.press(pilot, "traces: filter typing (attribute)", *"thread")
            await probe.press(pilot, "traces: escape (clear filter, to the table)", "escape")

        # -- waterfall of the biggest generated trace
        table = app.traces_table
        table.sort_by("spans")
        table.move_cursor(1)  # 0 is the fan-out trace
        await pilot.pause()
        await probe.press(pilot, "traces: o (open waterfall)", "o")
        await pilot.pause(0.2)
        await probe.press(pilot, "waterfall: down", *["down"] * (10 * repeat))
        await probe.press(pilot, "waterfall: page down", *["pagedown"] * 3)
        for _ in range(2 * repeat):
            await probe.press(pilot, "tabs: t (waterfall -> traces)", "t")
            await probe.press(pilot, "tabs: ] (traces -> waterfall)", "right_square_bracket")
        await probe.press(pilot, "tabs: t (waterfall -> traces)", "t")

        # -- dependencies of an ordinary trace
        await probe.press(pilot, "traces: enter (open dependencies)", "enter")
        await pilot.pause(0.2)
        await probe.press(pilot, "deps: down", *["down"] * (10 * repeat))
        await probe.press(pilot, "deps: page down", *["pagedown"] * 3)
        await probe.press(pilot, "deps: i (internal)", *["i"] * (2 * repeat))
        for _ in range(repeat):
            await probe.press(pilot, "deps: g (group-by picker opens)", "g")
            await probe.press(pilot, "deps: picker typing", *"serv")
            await probe.press(pilot, "deps: picker enter (regroup)", "enter")
        await probe.press(pilot, "deps: G (previous group-by key)", *["G"] * (2 * repeat))
        await probe.press(pilot, "deps: a (aggregate)", *["a"] * 4)
        reset_options(app)
        await pilot.pause(0.2)
        await probe.press(pilot, "deps: e (next error)", *["e"] * (2 * repeat))
        await probe.press(pilot, "deps: / (search box)", "slash")
        await probe.press(pilot, "deps: search typing", *"svc")
        await probe.press(pilot, "deps: search enter", "enter")
        await probe.press(pilot, "deps: n (next match)", *["n"] * (3 * repeat))
        app.deps_pane.dep_tree.move_cursor(0)
        await pilot.pause()
        await probe.press(pilot, "deps: + (expand all below)", "plus")
        await probe.press(pilot, "deps: - (collapse all below)", "minus")
        await probe.press(pilot, "deps: \\ (details panel)", *["backslash"] * 2)

        # -- the fan-out trace: a node with thousands of children, a `+N more` node
        t_fan = app.index.trace_index[bytes.fromhex("f0" * 16)]
        root = app.index.traces[t_fan].root
        await app.open_dependencies(root)
        reset_options(app)
        await pilot.pause(0.3)
        tree = app.deps_pane.dep_tree
        big = next(i for i in range(tree.line_count)
                   if len(tree.node_at(i).children()) >= min(1000, fanout) and tree.node_at(i).kind == "span")
        tree.move_cursor(big)
        await pilot.pause()
        for _ in range(repeat):
            await probe.press(pilot, "deps: enter (collapse node, thousands of children)", "enter")
            await probe.press(pilot, "deps: enter (expand node, thousands of children)", "enter")
        await probe.press(pilot, "deps: down (thousands of rows)", *["down"] * (5 * repeat))
        await probe.press(pilot, "deps: page down (thousands of rows)", *["pagedown"] * 5)
        await probe.press(pilot, "deps: i (thousands of rows)", *["i"] * 2)
        await probe.press(pilot, "deps: G (thousands of rows)", *["G"] * 2)
        reset_options(app)
        await pilot.pause(0.3)
        app.deps_pane.dep_tree.search_text = "part 0"  # (as if typed after /)
        await probe.press(pilot, "deps: n (thousands of rows)", *["n"] * (3 * repeat))
        app.deps_pane.dep_tree.move_cursor(0)
        await pilot.pause()
        await probe.press(pilot, "deps: + (thousands of rows)", "plus")
        await probe.press(pilot, "deps: - (thousands of rows)", "minus")
        for _ in range(repeat):
            await app.open_dependencies(root)
            reset_options(app)
            await pilot.pause(0.3)
            tree = app.deps_pane.dep_tree
            pub = next((i for i in range(tree.line_count)
                        if tree.node_at(i).kind == "span" and tree.node_at(i).operation == "results publish"),
                       None)
            if pub is None:
                break
            if not tree.is_expanded(pub):
                tree.move_cursor(pub)
                await probe.press(pilot, "deps: enter (expand producer)", "enter")
            more = next((i for i in range(pub, tree.line_count) if tree.node_at(i).kind == "more"), None)
            if more is None:
                break
            tree.move_cursor(more)
            await pilot.pause()
            await probe.press(pilot, "deps: enter (+N more: thousands of async calls)", "enter")
    return probe, info


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--fanout", type=int, default=5000,
                    help="children of the fan-out node, and links to its producer")
    ap.add_argument("--repeat", type=int, default=3, help="scales how often each key is pressed")
    ap.add_argument("--dir", help="keep the generated files here (default: a temp dir)")
    ap.add_argument("--reuse", action="store_true", help="reuse files already in --dir")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        directory = args.dir or tmp
        os.makedirs(directory, exist_ok=True)
        files = make_data(args.spans, args.fanout, directory, args.reuse)
        probe, info = asyncio.run(drive(files, args.repeat, args.fanout))

    print(f"{int(info['spans']):,} spans in {int(info['traces']):,} traces, "
          f"loaded in the app in {info['load_s']:.1f} s; full-text search ready "
          f"{info['search_s']:.1f} s later (background)")
    base = asyncio.run(floor(args.repeat))
    print(f"{'key':<58} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'final p95':>10}")
    worst = worst_final = worst_tab = 0.0
    for p, label in [(probe, label) for label in probe.order] + [(base, label) for label in base.order]:
        values = p.samples.get(label, [])
        quiet = p.no_repaint.get(label, 0)
        note = f"  ({quiet} without repaint)" if quiet else ""
        if not values:
            print(f"{label:<58} {0:>4} {'-':>8} {'-':>8} {'-':>8} {'-':>10}{note}")
            continue
        p95 = percentile(values, 0.95)
        final = percentile(p.final[label], 0.95) if p.final.get(label) else p95
        if label.startswith("tabs:"):
            worst_tab = max(worst_tab, p95)
        elif p is probe:
            worst = max(worst, p95)
            worst_final = max(worst_final, final)
        print(f"{label:<58} {len(values):>4} {statistics.median(values):>8.1f} "
              f"{p95:>8.1f} {max(values):>8.1f} {final:>10.1f}{note}")
    floor_p95 = percentile(base.samples[base.order[0]], 0.95)
    focus_p95 = percentile(base.samples[base.order[1]], 0.95)
    verdict = "OK" if worst < BAR_MS else "OVER"
    print(f"keys in the tabs: worst p95 {worst:.1f} ms: {verdict} (bar {BAR_MS:.0f} ms); "
          f"worst final p95 {worst_final:.1f} ms")
    print(f"tab switches (a full re-layout and repaint): worst p95 {worst_tab:.1f} ms, "
          f"{worst_tab / floor_p95:.2f}x a bare Textual tab switch ({floor_p95:.1f} ms); "
          f"a bare Textual focus change {focus_p95:.1f} ms")
    return 0  # a benchmark prints figures; the verdict line above judges them


if __name__ == "__main__":
    sys.exit(main())
