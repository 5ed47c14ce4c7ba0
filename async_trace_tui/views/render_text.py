"""Headless text output: the Traces table and (with the dependencies view) the text tree."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from .format import duration, safe_text, timestamp
from .traces import TraceRow


def traces_table(rows: list[TraceRow]) -> Table:
    t = Table(title=f"{len(rows):,} traces", title_justify="left", header_style="bold")
    t.add_column("start (UTC)", no_wrap=True)
    t.add_column("trace id", no_wrap=True)
    t.add_column("root service")
    t.add_column("root operation")
    t.add_column("duration", justify="right", no_wrap=True)
    t.add_column("spans", justify="right")
    t.add_column("errors", justify="right")
    t.add_column("links in", justify="right")
    t.add_column("links out", justify="right")
    for r in rows:
        t.add_row(
            timestamp(r.start_ns), r.trace_id,
            Text(safe_text(r.root_service)), Text(safe_text(r.root_operation)),
            duration(r.duration_ns), f"{r.spans:,}",
            Text(str(r.errors), style="bold red") if r.errors else "0",
            str(r.links_in), str(r.links_out),
        )
    return t
