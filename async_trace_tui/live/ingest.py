"""What a receiver does with a request body: decode it off the event loop, save it, add it
to the span index, count it.

Receivers (HTTP, gRPC) know protocols; `Ingest` knows spans. Decoding runs in a worker
thread (the existing loaders, so every format quirk they accept is accepted here);
appending to the index runs on the event loop, the thread that reads the index, so the
UI never sees half an append. Nothing here imports Textual.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..index import Arrivals, IndexBuilder, SpanIndex
from ..loading import DUPLICATES, decode
from ..loading.report import LoadReport
from ..loading.sniff import JSON, PROTO
from .save import SaveFile

__all__ = ["Ingest", "LiveStats", "BadRequest", "Accepted", "JSON", "PROTO"]


class BadRequest(Exception):
    """The body cannot be decoded at all: 400 / INVALID_ARGUMENT with this message."""


class Accepted:
    """The answer to an accepted request: how many spans were rejected, and why."""

    __slots__ = ("spans", "rejected", "message")

    def __init__(self, spans: int, rejected: int, message: str) -> None:
        self.spans = spans
        self.rejected = rejected
        self.message = message


class LiveStats:
    """Counts since the receivers started, and the recent rate of accepted spans."""

    RATE_WINDOW = 5.0  # seconds the spans/s figure averages over

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.requests = 0  # trace export requests accepted
        self.spans = 0  # spans added to the index (or recorded, without one)
        self.rejected = 0  # spans refused as malformed (partial_success)
        self.bad_requests = 0  # bodies that did not decode (400 / INVALID_ARGUMENT)
        self.duplicates = 0  # spans already in the index
        self.dropped_traces = 0  # evicted past --max-spans
        self.dropped_spans = 0
        self.other: dict[str, int] = {"metrics": 0, "logs": 0}  # requests counted, not stored
        self._recent: deque[tuple[float, int]] = deque()

    def add(self, spans: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.spans += spans
        self._recent.append((now, spans))

    def rate(self, now: float | None = None) -> float:
        """Spans per second over the last few seconds."""
        now = time.monotonic() if now is None else now
        recent = self._recent
        while recent and recent[0][0] < now - self.RATE_WINDOW:
            recent.popleft()
        span = min(self.RATE_WINDOW, max(now - self.started, 1e-3))
        return sum(n for _, n in recent) / span

    def lines(self) -> list[str]:
        """For the load report and the --no-tui summary."""
        out = [
            f"requests: {self.requests:,} trace exports accepted, {self.bad_requests:,} refused "
            f"(did not decode)",
            f"spans: {self.spans:,} received, {self.rejected:,} rejected (malformed), "
            f"{self.duplicates:,} duplicates skipped",
            f"dropped past --max-spans: {self.dropped_traces:,} traces, "
            f"{self.dropped_spans:,} spans",
        ]
        if any(self.other.values()):
            out.append("also counted (not stored): " + ", ".join(
                f"{n:,} {kind} requests" for kind, n in self.other.items()))
        return out


class Ingest:
    """Turns request bodies into index rows. One per app (or per --no-tui recording)."""

    def __init__(self, index: SpanIndex | None, report: LoadReport | None = None,
                 save: SaveFile | None = None, max_spans: int = 1_000_000) -> None:
        self.index = index  # None: decode, count and save only (--no-tui)
        self.report = report if report is not None else LoadReport()
        self.save = save
        self.max_spans = max_spans
        self.stats = LiveStats()
        self.report.live = self.stats
        # One decoding thread: the GIL allows no more, and it keeps arrival order.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="otlp-decode")
        self.listeners: list[Callable[[Arrivals], None]] = []
        # Told when --max-spans made a new, smaller index (the old one is left as it was),
        # with what `prepare` made of it in the compacting thread (the UI's rows: at a
        # million spans they cost the loop a third of a second).
        self.replaced: list[Callable[[SpanIndex, Any], None]] = []
        self.prepare: Callable[[SpanIndex], Any] | None = None
        self._compacting = False
        # With no index yet (files still loading), hold batches rather than drop them.
        self.hold = False
        self._pending: list[IndexBuilder] = []  # accepted, not in the index yet
        self._flush_at: asyncio.Handle | None = None

    async def traces(self, body: bytes, fmt: str, label: str) -> Accepted:
        """Decode and store one ExportTraceServiceRequest (`fmt`: PROTO or JSON; the body
        already inflated). Raises BadRequest when nothing of it can be read."""
        loop = asyncio.get_running_loop()
        batch, report = await loop.run_in_executor(self._pool, self._decode, body, fmt, label)
        return self.accept(batch, report)

    def _decode(self, body: bytes, fmt: str, label: str) -> tuple[IndexBuilder, LoadReport]:
        """In the decoding thread: the loaders, then the recording (before the answer)."""
        report = LoadReport()
        if not body.strip():
            return IndexBuilder(), report  # an empty request is a valid one (no spans)
        try:
            batch, f = decode(body, label, report, fmt=fmt)
        except Exception as e:  # a loader bug must cost one request, never the receiver
            batch = IndexBuilder()
            f = report.files[-1] if report.files else report.file(label)
            f.error = f"cannot decode: {type(e).__name__}: {e}"
        if f.error:
            return batch, report
        report.empty_request = not len(batch) and fmt == JSON and _empty_json(body)
        if self.save is not None and len(batch):
            try:
                self.save.append(body, fmt)
            except Exception as e:  # not recorded: not acknowledged either
                f.error = f"cannot be recorded to --save: {type(e).__name__}: {e}"
                return IndexBuilder(), report
        return batch, report

    def accept(self, batch: IndexBuilder, report: LoadReport) -> Accepted:
        """On the event loop: count, queue for the index (see `flush`), answer."""
        failed = report.failed_files
        # Spans refused one by one are a partial success; a record refused whole (not
        # trace data, a resourceSpans that does not parse) with nothing else is a bad request.
        rejected = sum(n for reason, n in report.skipped.items() if reason.startswith(
            ("spans ", "malformed spans")))
        whole = [r for r in report.skipped if r != DUPLICATES and not r.startswith(
            ("spans ", "malformed spans", "links "))]
        if failed or (whole and not len(batch) and not rejected and not report.empty_request):
            self.stats.bad_requests += 1
            raise BadRequest(failed[0].error if failed else
                             "; ".join(report.messages[:3]) or whole[0])
        message = "; ".join(report.messages[:3]) if rejected or whole else ""
        self._merge(report)
        stats = self.stats
        stats.requests += 1
        stats.rejected += rejected
        stats.add(len(batch))  # duplicates are taken back when appended
        if len(batch) and (self.index is not None or self.hold):
            self._pending.append(batch)
            self._schedule_flush()
        return Accepted(len(batch), rejected, message)

    # -- into the index ----------------------------------------------------------------------

    FLUSH_SECONDS = 0.1  # arrivals are appended together, at most this long after answering
    SLICE_SECONDS = 0.01  # the loop's longest append before it sees to keys and the screen

    def _schedule_flush(self) -> None:
        if self._flush_at is None and self.index is not None and not self._compacting:
            self._flush_at = asyncio.get_running_loop().call_later(self.FLUSH_SECONDS,
                                                                   self.flush)

    def flush(self) -> None:
        """Append what was accepted since the last flush, on the event loop (the thread
        that reads the index, so the UI never sees half an append), and tell the listeners.
        Requests are answered as soon as they are decoded (and saved); appending them a
        few at a time costs the loop less than one at a time, and it is where the
        listeners' work (the Traces table) is done. Past SLICE_SECONDS the rest waits for
        the loop's next turn, so a key pressed during a burst waits ~10 ms, not for the
        whole burst (~2 us a span: 20k spans at full speed)."""
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        index = self.index
        if index is None or self._compacting or not self._pending:
            return
        pending = self._pending
        total = Arrivals()
        touched = total.touched
        end = time.perf_counter() + self.SLICE_SECONDS
        taken = 0
        while taken < len(pending) and (not taken or time.perf_counter() < end):
            arrivals = index.append(pending[taken])
            taken += 1
            total.spans += arrivals.spans
            total.duplicates += arrivals.duplicates
            total.adopted += arrivals.adopted
            for t, n in arrivals.touched.items():
                touched[t] = touched.get(t, 0) + n
        del pending[:taken]
        stats = self.stats
        if total.duplicates:
            stats.spans -= total.duplicates
            stats.duplicates += total.duplicates
            self.report.skip(DUPLICATES, "live", f"{total.duplicates:,} spans already "
                             "received (same trace and span id)", count=total.duplicates)
        self.report.spans = len(index)
        self.report.traces = len(index.trace_ids)
        for listener in self.listeners:
            listener(total)
        if len(index) > self.max_spans:
            self._evict()
        elif pending:
            self._flush_at = asyncio.get_running_loop().call_soon(self.flush)

    def flush_all(self) -> None:
        """Everything accepted so far in the index now (unless --max-spans is compacting it)."""
        while self._pending and self.index is not None and not self._compacting:
            self.flush()

    def set_index(self, index: SpanIndex) -> None:
        """The index to grow from now on; batches held until it was there go in first."""
        self.index = index
        self.flush()

    # -- --max-spans -----------------------------------------------------------------------

    EVICT_TO = 0.9  # of max_spans: room for a while before the next eviction

    def _evict(self) -> None:
        """Drop the earliest-received traces whole, down to EVICT_TO of the cap. The
        smaller index is copied and built in a thread (seconds at a million spans; nothing
        is appended meanwhile, so the columns hold still while the thread copies them and
        the loop only reads them); batches arriving meanwhile wait and go into it; then
        `replaced` listeners get it."""
        index = self.index
        assert index is not None
        drop = index.oldest_traces(len(index) - int(self.max_spans * self.EVICT_TO))
        self._compacting = True
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, self._compact, index, drop)
        future.add_done_callback(lambda f: self._evicted(f, len(drop)))

    def _compact(self, index: SpanIndex, drop: list[int]) -> tuple[SpanIndex, int, Any]:
        """In a thread: the index without the traces `drop`, the spans dropped, and what
        `prepare` made of the new index."""
        builder, rows = index.copy_without(set(drop))
        smaller = builder.build_without(rows)
        return smaller, len(rows), self.prepare(smaller) if self.prepare is not None else None

    def _evicted(self, future: asyncio.Future[tuple[SpanIndex, int, Any]], traces: int) -> None:
        self._compacting = False
        if future.cancelled() or future.exception() is not None:
            self.report.messages.append(f"live: dropping old traces failed: {future.exception()}")
        else:
            self.index, spans, prepared = future.result()
            self.stats.dropped_traces += traces
            self.stats.dropped_spans += spans
            for listener in self.replaced:
                listener(self.index, prepared)
        assert self.index is not None
        self.set_index(self.index)  # the batches held meanwhile go in

    def count_other(self, kind: str) -> None:
        """A metrics or logs export: answered and counted, not stored."""
        self.stats.other[kind] = self.stats.other.get(kind, 0) + 1

    def _merge(self, report: LoadReport) -> None:
        """A request's skipped records and warnings into the session's report."""
        mine = self.report
        for reason, n in report.skipped.items():
            mine.skipped[reason] += n
        for reason, n in report.warnings.items():
            mine.warnings[reason] += n
        for reason, n in report.ignored.items():
            mine.ignored[reason] += n
        if len(mine.messages) < 50:
            mine.messages.extend(report.messages[:50 - len(mine.messages)])

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self.save is not None:
            self.save.close()


def _empty_json(body: bytes) -> bool:
    """`{}` or `{"resourceSpans": []}`: an export with nothing in it, which is valid."""
    import msgspec

    try:
        doc = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return False
    return isinstance(doc, dict) and set(doc) <= {"resourceSpans", "resource_spans"} \
        and all(not v for v in doc.values())
