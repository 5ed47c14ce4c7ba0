"""A live receiver for tests: Ingest + Receivers on free loopback ports, on an asyncio loop
of their own in a thread (the SDK's exporters, our clients, are synchronous)."""

from __future__ import annotations

import argparse
import asyncio
import io
import threading
from typing import Any

from async_trace_tui.index import SpanIndex
from async_trace_tui.live import Ingest, LiveConfig, Receivers
from async_trace_tui.live.save import SaveFile


class LiveServer:
    def __init__(self, token: str | None = None, save: str | None = None,
                 body_limit: int | None = None, max_spans: int = 1_000_000) -> None:
        args = argparse.Namespace(listen=False, otlp_grpc="127.0.0.1:0",
                                  otlp_http="127.0.0.1:0", auth_token=token, save=save,
                                  max_spans=max_spans)
        self.err = io.StringIO()
        self.config = LiveConfig.from_args(args, err=self.err)
        if body_limit is not None:
            self.config.body_limit = body_limit
        self.ingest = Ingest(SpanIndex.empty(), save=SaveFile(save) if save else None,
                             max_spans=max_spans)
        self.loop = asyncio.new_event_loop()
        self.receivers: Receivers | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.call(self._start())

    async def _start(self) -> None:
        self.receivers = Receivers(self.config, self.ingest)
        await self.receivers.start()

    def call(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def on_loop(self, fn: Any) -> Any:
        """Run `fn()` on the receiver's loop (where the index is written) and return it,
        once what was answered is in the index (appends are batched: Ingest.flush)."""
        async def run() -> Any:
            self.ingest.flush_all()
            return fn()

        return self.call(run())

    @property
    def index(self) -> SpanIndex:
        return self.ingest.index

    @property
    def http_url(self) -> str:
        host, port = self.config.http
        return f"http://{host}:{port}"

    @property
    def grpc_target(self) -> str:
        host, port = self.config.grpc
        return f"{host}:{port}"

    def close(self) -> None:
        assert self.receivers is not None
        self.call(self.receivers.stop())
        self.ingest.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
