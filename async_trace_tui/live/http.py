"""OTLP/HTTP receiver on aiohttp: `POST /v1/traces` (protobuf or JSON, plain or gzip),
`/v1/metrics` and `/v1/logs` answered and counted, CORS for pages served from localhost.

Status codes as SPEC §7.1 gives them: 200 with an ExportTraceServiceResponse in the
request's encoding (partial_success when spans were rejected), 400 a body that does not
decode (a google.rpc.Status saying why), 401 without the token, 404 elsewhere, 405 another
method, 413 past the body limit (counted after inflating: a gzip bomb is cut off), 415
another content type or encoding.
"""

from __future__ import annotations

import re
import socket
import zlib
from collections.abc import Awaitable, Callable

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceResponse,
)

from .ingest import JSON, PROTO, BadRequest, Ingest

CONTENT_TYPES = {"application/x-protobuf": PROTO, "application/protobuf": PROTO,
                 "application/json": JSON}
_LOCAL_ORIGIN = re.compile(r"^https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$")
_CODE_INVALID_ARGUMENT, _CODE_UNAUTHENTICATED, _CODE_RESOURCE_EXHAUSTED = 3, 16, 8

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class TooLarge(Exception):
    pass


def inflate(raw: bytes, limit: int) -> bytes:
    """A gzip body, never more than `limit` bytes of it inflated (memory stays bounded)."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(raw, limit + 1)
    except zlib.error as e:
        raise BadRequest(f"corrupt gzip body ({e})") from None
    if len(out) > limit or d.unconsumed_tail:
        raise TooLarge
    if not d.eof:
        raise BadRequest("truncated gzip body")
    return out


def status_body(code: int, message: str, fmt: str) -> bytes:
    """A google.rpc.Status (code, message), as OTLP/HTTP answers errors."""
    if fmt == JSON:
        import msgspec

        return msgspec.json.encode({"code": code, "message": message})
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def export_response(rejected: int, message: str, fmt: str) -> bytes:
    if fmt == JSON:
        if not rejected:
            return b"{}"
        import msgspec

        return msgspec.json.encode({"partialSuccess": {
            "rejectedSpans": str(rejected), "errorMessage": message}})
    if not rejected:
        return b""
    return ExportTraceServiceResponse(partial_success=ExportTracePartialSuccess(
        rejected_spans=rejected, error_message=message)).SerializeToString()


_MEDIA = {PROTO: "application/x-protobuf", JSON: "application/json"}


class HttpReceiver:
    """The aiohttp application and its site on a pre-bound socket."""

    def __init__(self, ingest: Ingest, token: str | None = None,
                 body_limit: int = 32 << 20) -> None:
        self.ingest = ingest
        self.token = token
        self.body_limit = body_limit
        self._runner: web.AppRunner | None = None
        self._requests = 0
        app = web.Application(client_max_size=body_limit, middlewares=[self._cors])
        app.router.add_route("*", "/v1/traces", self._traces)
        app.router.add_route("*", "/v1/metrics", self._other("metrics"))
        app.router.add_route("*", "/v1/logs", self._other("logs"))
        self.app = app

    async def start(self, sock: socket.socket) -> None:
        # No access log (it would write over the TUI); inflating is ours, to bound it.
        self._runner = web.AppRunner(self.app, access_log=None, auto_decompress=False,
                                     handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- middleware: CORS ----------------------------------------------------------------

    @web.middleware
    async def _cors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin", "")
        local = bool(_LOCAL_ORIGIN.match(origin))
        if request.method == "OPTIONS" and request.path in ("/v1/traces", "/v1/metrics", "/v1/logs"):
            response: web.StreamResponse = web.Response(status=204)
        else:
            try:
                response = await handler(request)
            except web.HTTPException as e:  # 404 and friends from the router
                response = web.Response(status=e.status, text=e.text, headers=e.headers)
        if local:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
                response.headers["Access-Control-Allow-Headers"] = request.headers.get(
                    "Access-Control-Request-Headers",
                    "Content-Type, Content-Encoding, Authorization")
                response.headers["Access-Control-Max-Age"] = "600"
        return response

    # -- handlers --------------------------------------------------------------------------

    def _refuse(self, status: int, code: int, message: str, fmt: str = JSON) -> web.Response:
        return web.Response(status=status, body=status_body(code, message, fmt),
                            content_type=_MEDIA[fmt])

    async def _read(self, request: web.Request) -> tuple[bytes, str] | web.Response:
        """The request's body (inflated) and format, or the refusal to send."""
        if request.method != "POST":
            return web.Response(status=405, headers={"Allow": "POST, OPTIONS"},
                                text=f"{request.method} is not allowed here: use POST\n")
        fmt = CONTENT_TYPES.get(request.content_type)
        if self.token is not None and request.headers.get("Authorization", "") \
                != f"Bearer {self.token}":
            return self._refuse(401, _CODE_UNAUTHENTICATED,
                                "missing or wrong Authorization: Bearer token", fmt or JSON)
        if fmt is None:
            return web.Response(status=415, text=(
                f"unsupported Content-Type {request.content_type!r}: send "
                "application/x-protobuf or application/json\n"))
        encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("gzip", "identity", ""):
            return web.Response(status=415, text=(
                f"unsupported Content-Encoding {encoding!r}: send gzip or nothing\n"))
        too_big = f"body larger than {self.body_limit:,} bytes"
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._refuse(413, _CODE_RESOURCE_EXHAUSTED, too_big, fmt)
        if encoding == "gzip":
            try:
                raw = inflate(raw, self.body_limit)
            except TooLarge:
                return self._refuse(413, _CODE_RESOURCE_EXHAUSTED,
                                    too_big + " once inflated", fmt)
            except BadRequest as e:
                return self._refuse(400, _CODE_INVALID_ARGUMENT, str(e), fmt)
        return raw, fmt

    async def _traces(self, request: web.Request) -> web.StreamResponse:
        got = await self._read(request)
        if isinstance(got, web.Response):
            return got
        body, fmt = got
        self._requests += 1
        try:
            accepted = await self.ingest.traces(body, fmt, f"OTLP/HTTP request {self._requests}")
        except BadRequest as e:
            return self._refuse(400, _CODE_INVALID_ARGUMENT, str(e), fmt)
        return web.Response(body=export_response(accepted.rejected, accepted.message, fmt),
                            content_type=_MEDIA[fmt])

    def _other(self, kind: str) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            got = await self._read(request)
            if isinstance(got, web.Response):
                return got
            _, fmt = got
            self.ingest.count_other(kind)
            return web.Response(body=b"{}" if fmt == JSON else b"", content_type=_MEDIA[fmt])

        return handle
