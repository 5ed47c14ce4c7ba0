"""`trace-tui --listen --save FILE --no-tui`: record until SIGINT/SIGTERM, then flush, print a
summary and exit 0."""

from __future__ import annotations

import asyncio
import signal
import sys

from . import BindError, Ingest, LiveConfig, Receivers
from .save import SaveFile


def run(config: LiveConfig) -> int:
    return asyncio.run(_run(config))


async def _run(config: LiveConfig) -> int:
    save = SaveFile(config.save) if config.save else None
    ingest = Ingest(None, save=save, max_spans=config.max_spans)
    receivers = Receivers(config, ingest)
    try:
        await receivers.start()
    except BindError as e:
        print(f"trace-tui: {e}", file=sys.stderr)
        ingest.close()
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("recording" + (f" to {config.save}" if config.save else "")
          + ": stop with ctrl+c (SIGINT) or SIGTERM", file=sys.stderr)
    await stop.wait()
    await receivers.stop()
    ingest.close()
    for line in ingest.stats.lines():
        print(line, file=sys.stderr)
    if save is not None:
        print(f"saved {save.lines:,} requests to {config.save}", file=sys.stderr)
    return 0
