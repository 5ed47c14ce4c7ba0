"""Read an input into memory, undo gzip/zstd, and tell the format from the content."""

from __future__ import annotations

import gzip
import os
import sys
import zlib
from pathlib import Path

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


def read_input(name: str) -> bytes:
    """The bytes of a file (or stdin for `-`), decompressed."""
    try:
        if name == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(name, "rb") as f:
                data = f.read()
    except FileNotFoundError:
        raise LoadError("no such file") from None
    except IsADirectoryError:
        raise LoadError("is a directory") from None
    except PermissionError:
        raise LoadError("permission denied") from None
    except OSError as e:
        raise LoadError(f"cannot read: {e.strerror or e}") from None
    data = decompress(data)
    if data.startswith(UTF8_BOM):  # as Windows tools write JSON
        data = data[len(UTF8_BOM):]
    return data


def decompress(data: bytes) -> bytes:
    # Layers are rare but cheap to undo: a .json.gz inside a .zst archive happens.
    for _ in range(3):
        if data.startswith(GZIP_MAGIC):
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error) as e:
                raise LoadError(f"corrupt or truncated gzip data ({e})") from None
        elif data.startswith(ZSTD_MAGIC):
            data = zstd_decompress(data)
        else:
            break
    return data


def zstd_decompress(data: bytes) -> bytes:
    import zstandard

    # Frame by frame with decompressobj (copes with frames that do not record their content
    # size), fed in chunks so that a many-frame file is not copied once per frame. Unlike
    # stream_reader, this tells a file cut inside a frame from a complete one.
    dctx = zstandard.ZstdDecompressor()
    parts: list[bytes] = []
    view = memoryview(data)
    chunk_size = 1 << 22
    dobj, fed = dctx.decompressobj(), False
    try:
        for pos in range(0, len(data), chunk_size):
            chunk = view[pos:pos + chunk_size]
            while chunk:
                parts.append(dobj.decompress(chunk))
                fed = True
                if not dobj.eof:
                    break
                chunk = dobj.unused_data
                dobj, fed = dctx.decompressobj(), False
    except zstandard.ZstdError as e:
        raise LoadError(f"corrupt or truncated zstd data ({e})") from None
    if fed:
        raise LoadError("truncated zstd data (the file ends inside a zstd frame)")
    return b"".join(parts)


def detect(data: bytes) -> str:
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
