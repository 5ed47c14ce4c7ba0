"""The details panel on a span with huge values: build the details, lay them out, paint.

    python benchmarks/details.py              # five 1 MiB attribute values and a 1 MiB name
    python benchmarks/details.py --mb 0.1     # what CI runs

Times `DetailsPanel.show(node)` and one paint of its lines inside a headless app (Textual's
`run_test`), median of --repeat runs, next to the same for a span with five short values (the
floor, same run). Bar: under 100 ms for the 1 MiB values.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_file(path: str, size: int) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = "svc"
    spans = rs.scope_spans.add().spans
    tid = bytes(range(1, 17))
    root = spans.add(trace_id=tid, span_id=b"\x01" * 8, name="root", start_time_unix_nano=1,
                     end_time_unix_nano=10)
    for n, (name, value_size) in enumerate((("small", 40), ("N" * size, size)), 2):
        sp = spans.add(trace_id=tid, span_id=bytes([n]) * 8, parent_span_id=root.span_id,
                       name=name, start_time_unix_nano=2, end_time_unix_nano=3)
        for i in range(5):
            word = f"value{i} lorem ipsum dolor sit amet "
            sp.attributes.add(key=f"k{i}").value.string_value = (word * (value_size // len(word) + 1))[:value_size]
    with open(path, "wb") as f:
        f.write(req.SerializeToString())


async def measure(path: str, repeat: int) -> dict[str, list[float]]:
    from textual.app import App, ComposeResult
    from textual.geometry import Region

    from async_trace_tui.loading import load
    from async_trace_tui.ui.widgets.details import DetailsPanel
    from async_trace_tui.views.dependencies import DependencyView, ViewOptions, walk

    index, _ = load([path])

    class Bench(App):
        def compose(self) -> ComposeResult:
            yield DetailsPanel(index)

    out: dict[str, list[float]] = {"small": [], "huge": []}
    async with Bench().run_test(size=(120, 50)) as pilot:
        panel = pilot.app.query_one(DetailsPanel)
        for row in range(len(index)):
            label = {"small": "small"}.get(index.name[row], "huge" if len(index.name[row]) > 100 else None)
            if label is None:
                continue
            node = next(n for n, _ in walk(DependencyView(index, row, ViewOptions()).root) if n.rows == [row])
            for _ in range(repeat):
                panel.show(None)
                index._detail_cache.clear()  # read the span again, as a new selection does
                t0 = time.perf_counter()
                panel.show(node)
                panel.render_lines(Region(0, 0, panel.size.width, panel.size.height))
                out[label].append(time.perf_counter() - t0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=1.0, help="size of each big value, MiB")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "huge.binpb")
        write_file(path, int(a.mb * (1 << 20)))
        times = asyncio.run(measure(path, a.repeat))
    small, huge = statistics.median(times["small"]), statistics.median(times["huge"])
    print(f"details of a span with five short values        {small * 1000:7.1f} ms  (floor)")
    print(f"details of a span with five {a.mb:g} MiB values + name {huge * 1000:7.1f} ms  "
          f"ratio {huge / small:.1f}x  (median of {a.repeat}; bar: < 100 ms at 1 MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
