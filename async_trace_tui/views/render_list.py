"""`--list`: the Traces table written as it goes, as text columns or JSON (SPEC §5).

200,000 traces must cost about what loading them does: no table object measures every
cell. Text columns get their widths from one cheap pass (numbers from their maxima, the
root service from its few distinct values); the root operation comes last and is never
cut or padded. JSON is encoded by msgspec, one object per line, with textsafe's escapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import BinaryIO, TextIO

import msgspec
from rich.cells import cell_len

from ..textsafe import escape_json_text
from .format import duration, safe_text, second_text, timestamp
from .glyphs import Glyphs
from .traces import TraceRow

_CHUNK = 4096  # rows per write
_BOLD, _RED, _RESET = "\x1b[1m", "\x1b[1;31m", "\x1b[0m"


def _width(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


def write_text(rows: Sequence[TraceRow], out: TextIO, g: Glyphs, styled: bool = False) -> None:
    """Aligned columns, a header line first; `styled` (a terminal) makes the header bold and
    error counts red."""
    services = {name: safe_text(name) for name in {r.root_service for r in rows}}
    service_w = max([len("root service"), *map(_width, services.values())])
    padded = {raw: shown + " " * (service_w - _width(shown)) for raw, shown in services.items()}

    def numbers(field: str, title: str) -> int:
        return max(len(title), len(f"{max(map(attrgetter(field), rows), default=0):,}"))

    spans_w, errors_w = numbers("spans", "spans"), numbers("errors", "errors")
    # The columns count links, as the TUI's do (SPEC §4: async links in/out) under the same
    # titles; --list --json has the traces on each side too (async_from/async_to).
    from_w, to_w = numbers("links_out", "async from"), numbers("links_in", "async to")
    line = (f"{{:<23}}  {{:<32}}  {{:>9}}  {{:>{spans_w},}}  {{}}  {{:>{from_w}}}  "
            f"{{:>{to_w}}}  {{}}  {{}}\n").format
    header = (f"{'start (UTC)':<23}  {'trace id':<32}  {'duration':>9}  {'spans':>{spans_w}}  "
              f"{'errors':>{errors_w}}  {'async from':>{from_w}}  {'async to':>{to_w}}  "
              f"{'root service':<{service_w}}  root operation")
    out.write((_BOLD + header + _RESET if styled else header) + "\n")
    errors_cell = f"{{:>{errors_w}}}".format
    zero = errors_cell(0)
    micro = g.micro
    operations: dict[str, str] = {}  # few distinct root operations: each escaped once
    for lo in range(0, len(rows), _CHUNK):
        lines = []
        for r in rows[lo:lo + _CHUNK]:
            if r.errors:
                errors = errors_cell(r.errors)
                if styled:
                    errors = _RED + errors + _RESET
            else:
                errors = zero
            op = operations.get(r.root_operation)
            if op is None:
                op = operations[r.root_operation] = safe_text(r.root_operation)
            start = r.start_ns
            if start > 0:  # timestamp(start), without its call: the most of a row's cost
                second, rest = divmod(start, 1_000_000_000)
                when = f"{second_text(second)}.{rest // 1_000_000:03d}"
            else:
                when = timestamp(start)
            lines.append(line(when, r.trace_id, duration(r.duration_ns, micro),
                              r.spans, errors, r.links_out, r.links_in,
                              padded[r.root_service], op))
        out.write("".join(lines))


def write_json(rows: Sequence[TraceRow], out: BinaryIO) -> None:
    """A JSON array, one trace object per line."""
    encode = msgspec.json.Encoder().encode
    out.write(b"[")
    sep = b"\n"
    for lo in range(0, len(rows), _CHUNK):
        chunk = b",\n".join([encode(r.as_json()) for r in rows[lo:lo + _CHUNK]])
        out.write(sep + escape_json_text(chunk.decode()).encode())
        sep = b",\n"
    out.write(b"\n]\n")
