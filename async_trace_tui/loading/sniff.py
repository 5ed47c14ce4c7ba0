"""Read an input into memory, undo gzip/zstd, and tell the format from the content."""

from __future__ import annotations

import os
import re
import stat
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from .report import LoadError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
UTF8_BOM = b"\xef\xbb\xbf"

JSON = "otlp-json"
PROTO = "otlp-proto"
PROTO_STREAM = "otlp-proto-stream"  # Collector file exporter: [u32 BE length][message]...
DEBUG_TEXT = "collector-debug-text"

_DEBUG_MARKERS = (b"ResourceSpans #", b"ResourceLog #", b"ResourceMetrics #", b"Span #0")


def expand_paths(args: list[str]) -> list[str]:
    """Files as given; directories become their files (sorted, hidden ones skipped)."""
    out: list[str] = []
    for arg in args:
        p = Path(arg)
        if arg != "-" and p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                out.extend(str(Path(root) / f) for f in sorted(files) if not f.startswith("."))
        else:
            out.append(arg)
    return out


def default_max_bytes() -> int:
    """A quarter of physical memory (SPEC §1), or of the address-space limit when one is set
    and smaller: what one input may inflate to before reading stops."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        total = 16 << 30
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY and 0 < soft < total:
            total = soft
    except (ImportError, ValueError, OSError):
        pass
    return max(total // 4, 1 << 20)


def format_size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} bytes"


def read_input(name: str, budget: Budget | None = None,
               warn: Callable[[str], None] | None = None) -> bytes | bytearray:
    """The bytes of a file (or stdin for `-`), decompressed, within `budget` (plain or
    inflated, every compression layer counted; default `default_max_bytes()`): past it, a
    LoadError. `warn` hears of what was read but ignored."""
    budget = budget or Budget(default_max_bytes())
    try:
        if name == "-":
            data: bytes | bytearray = _read_stream(sys.stdin.buffer, budget)
        else:
            with open(name, "rb") as f:
                st = os.fstat(f.fileno())
                if stat.S_ISREG(st.st_mode):
                    if st.st_size > budget.limit:
                        raise LoadError(f"larger than --max-bytes ({format_size(budget.limit)}): "
                                        "not read (raise --max-bytes to read it)")
                    data = f.read()
                else:  # a pipe or a device: its size shows only while reading it
                    data = _read_stream(f, budget)
    except FileNotFoundError:
        raise LoadError("no such file") from None
    except IsADirectoryError:
        raise LoadError("is a directory") from None
    except PermissionError:
        raise LoadError("permission denied") from None
    except OSError as e:
        raise LoadError(f"cannot read: {e.strerror or e}") from None
    data = decompress(data, budget, warn)
    if data.startswith(UTF8_BOM):  # as Windows tools write JSON
        data = data[len(UTF8_BOM):]
    return data


def _read_stream(f: BinaryIO, budget: Budget) -> bytearray:
    out = bytearray()
    while True:
        chunk = f.read(_OUT_STEP)
        if not chunk:
            return out
        if len(out) + len(chunk) > budget.limit:
            raise LoadError(f"more than --max-bytes ({format_size(budget.limit)}): "
                            "not read (raise --max-bytes to read it)")
        out += chunk


class InputTooLarge(LoadError):
    """Past --max-bytes, or a decompression bomb: the whole input is given up."""


class Budget:
    """The inflated bytes one input may cost, every layer of compression together."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise InputTooLarge(f"inflates to more than --max-bytes ({format_size(self.limit)}): "
                            "reading stopped (a decompression bomb? raise --max-bytes to read it)")


# Inflated output is taken in steps; a run of one repeated byte this long is not trace data
# in any format (a JSON string or protobuf field of 64 MiB of one byte), but it is what every
# decompression bomb is made of: reading stops there, after a fraction of a second, instead
# of after --max-bytes (seconds to minutes, and that much memory).
_OUT_STEP = 1 << 22
_RUN_LIMIT = 64 << 20
_TAIL_CHECK = 4096
_GZIP_IN_STEP = 1 << 16
# zstd cannot bound its output per call, only its input: a 4-byte RLE block inflates to at
# most 128 KiB, so 2 KiB of input at most to 64 MiB.
_ZSTD_IN_STEP = 1 << 11
_MAX_LAYERS = 8
_NONZERO = re.compile(rb"[^\x00]")
_ZEROS = bytes(1 << 20)


def skip_zeros(data: bytes | bytearray, pos: int) -> int:
    """The offset of the first non-zero byte at or after `pos` (len(data) if none), at
    memcmp speed through long runs."""
    n = len(data)
    step = len(_ZEROS)
    while pos + step <= n and data[pos:pos + step] == _ZEROS:
        pos += step
    m = _NONZERO.search(data, pos)
    return n if m is None else m.start()


class _Inflated:
    """Output of one decompression layer: counted against the budget, watched for runs."""

    __slots__ = ("data", "budget", "run_byte", "run")

    def __init__(self, budget: Budget) -> None:
        self.data = bytearray()
        self.budget = budget
        self.run_byte = -1
        self.run = 0

    def add(self, chunk: bytes) -> None:
        n = len(chunk)
        if not n:
            return
        self.budget.spend(n)
        self.data += chunk
        # The run of one byte value that ends the output so far: one that goes on from the
        # last chunk, or one that ends this chunk (each cheap to rule out for real data).
        rest = n
        if chunk[0] == self.run_byte:
            rest = len(chunk.lstrip(chunk[:1]))
            self.run += n - rest
            self._check()
        if rest:
            tail = chunk[-_TAIL_CHECK:]
            b = tail[-1]
            if tail.count(b) != len(tail):
                self.run_byte, self.run = -1, 0
                return
            self.run_byte, self.run = b, rest - len(chunk[n - rest:].rstrip(tail[-1:]))
            self._check()

    def _check(self) -> None:
        if self.run > _RUN_LIMIT:
            raise InputTooLarge(
                f"inflates to a run of over {_RUN_LIMIT >> 20} MiB of the byte 0x{self.run_byte:02x}: "
                "a decompression bomb, not trace data; reading stopped")


def decompress(data: bytes | bytearray, budget: Budget | None = None,
               warn: Callable[[str], None] | None = None) -> bytes | bytearray:
    """Undo gzip/zstd layers (a .json.gz inside a .zst happens), bounded by `budget`."""
    budget = budget or Budget(default_max_bytes())
    for _ in range(_MAX_LAYERS):
        if data.startswith(GZIP_MAGIC):
            data = gunzip(data, budget, warn)
        elif data.startswith(ZSTD_MAGIC):
            data = zstd_decompress(data, budget)
        else:
            return data
    if data.startswith(GZIP_MAGIC) or data.startswith(ZSTD_MAGIC):
        raise LoadError(f"more than {_MAX_LAYERS} nested layers of compression")
    return data


def gunzip(data: bytes | bytearray, budget: Budget,
           warn: Callable[[str], None] | None = None) -> bytearray:
    """gzip members one after another (as gzip(1) reads them), in bounded steps."""
    out = _Inflated(budget)
    view = memoryview(data)
    pos, n = 0, len(data)
    try:
        while True:
            d = zlib.decompressobj(wbits=31)
            while not d.eof:
                if pos >= n:
                    raise LoadError("truncated gzip data (the file ends inside the compressed stream)")
                piece: Any = view[pos:pos + _GZIP_IN_STEP]
                pos += len(piece)
                while piece and not d.eof:
                    out.add(d.decompress(piece, _OUT_STEP))
                    piece = d.unconsumed_tail
            pos -= len(d.unused_data)
            pos = skip_zeros(data, pos)  # zero padding after a member is allowed
            if pos >= n:
                break
            if data[pos:pos + 2] != GZIP_MAGIC:
                if warn is not None:
                    warn(f"{n - pos:,} bytes of trailing data after the gzip stream ignored")
                break
    except zlib.error as e:
        raise LoadError(f"corrupt gzip data ({e})") from None
    return out.data


def zstd_decompress(data: bytes | bytearray, budget: Budget | None = None) -> bytearray:
    import zstandard

    # Frame by frame with decompressobj (copes with frames that do not record their content
    # size), fed in small steps (see _ZSTD_IN_STEP). Unlike stream_reader, this tells a file
    # cut inside a frame from a complete one.
    out = _Inflated(budget or Budget(default_max_bytes()))
    dctx = zstandard.ZstdDecompressor()
    view = memoryview(data)
    dobj, fed = dctx.decompressobj(), False
    try:
        for pos in range(0, len(data), _ZSTD_IN_STEP):
            chunk: Any = view[pos:pos + _ZSTD_IN_STEP]
            while chunk:
                out.add(dobj.decompress(chunk))
                fed = True
                if not dobj.eof:
                    break
                chunk = dobj.unused_data
                dobj, fed = dctx.decompressobj(), False
    except zstandard.ZstdError as e:
        raise LoadError(f"corrupt or truncated zstd data ({e})") from None
    if fed:
        raise LoadError("truncated zstd data (the file ends inside a zstd frame)")
    return out.data


def detect(data: bytes | bytearray) -> str:
    """The format of decompressed content; raises LoadError for what cannot be loaded."""
    head = data[:4096].lstrip()
    if not head:
        raise LoadError("empty file")
    if head[:1] in (b"{", b"["):
        return JSON
    if any(m in data[:4096] for m in _DEBUG_MARKERS):
        raise LoadError(
            "this is the OpenTelemetry Collector's `debug` exporter text, which is a log for "
            "people, not a data format: export with the `file` exporter (JSON or proto) instead"
        )
    first = data[0]
    if first == 0 and len(data) >= 4:
        return PROTO_STREAM
    # A TracesData/ExportTraceServiceRequest starts with field 1, length-delimited: 0x0a.
    if first == 0x0A:
        return PROTO
    if _looks_textual(head):
        raise LoadError("not OTLP trace data (text that is neither JSON nor protobuf)")
    raise LoadError("not OTLP trace data (unrecognised binary content)")


def _looks_textual(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\r\n\t" for c in text[:512])
