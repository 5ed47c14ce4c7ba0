"""Live mode (SPEC §7.1): OTLP/gRPC and OTLP/HTTP receivers that feed a growing span index.

`LiveConfig.from_args` reads the command line and takes the ports (a port in use is a
BindError, before any UI starts); `Receivers` serves them on the running asyncio loop (the
TUI's, or `record.run`'s for --no-tui); `Ingest` decodes, saves and appends what arrives.
"""

from __future__ import annotations

import argparse
import socket
import sys
from typing import TextIO

from .bind import (
    DEFAULT_GRPC,
    DEFAULT_HTTP,
    BindError,
    bind_socket,
    is_loopback,
    parse_address,
    shown,
)
from .grpc_server import GrpcReceiver
from .http import HttpReceiver
from .ingest import Ingest

__all__ = ["LiveConfig", "Receivers", "Ingest", "BindError", "wants_live"]

BODY_LIMIT = 32 << 20  # SPEC §7.1: 32 MiB after inflating


def wants_live(args: argparse.Namespace) -> bool:
    return bool(args.listen or args.otlp_grpc or args.otlp_http)


class LiveConfig:
    """Addresses (sockets already bound), token, recording file, span cap."""

    def __init__(self) -> None:
        self.grpc: tuple[str, int] | None = None
        self.http: tuple[str, int] | None = None
        self.http_sock: socket.socket | None = None
        self.grpc_probe: socket.socket | None = None
        self.token: str | None = None
        self.save: str | None = None
        self.max_spans = 1_000_000
        self.body_limit = BODY_LIMIT

    @classmethod
    def from_args(cls, args: argparse.Namespace, err: TextIO = sys.stderr) -> LiveConfig:
        """Parse and bind; prints `listening: ...` lines (and a warning for an open bind
        without a token) to `err`. Raises BindError."""
        c = cls()
        c.token = args.auth_token or None
        c.save = args.save
        c.max_spans = args.max_spans
        grpc_at = args.otlp_grpc or (DEFAULT_GRPC if args.listen else None)
        http_at = args.otlp_http or (DEFAULT_HTTP if args.listen else None)
        try:
            if grpc_at:
                host, port = parse_address(grpc_at, "--otlp-grpc")
                # Held until gRPC binds the same port (gRPC cannot take a bound socket).
                c.grpc_probe = bind_socket(host, port, "OTLP/gRPC")
                c.grpc = (host, c.grpc_probe.getsockname()[1])
            if http_at:
                host, port = parse_address(http_at, "--otlp-http")
                c.http_sock = bind_socket(host, port, "OTLP/HTTP")
                c.http = (host, c.http_sock.getsockname()[1])
        except BindError:
            c.close()
            raise
        if c.grpc:
            print(f"listening: OTLP/gRPC {shown(*c.grpc)}", file=err)
        if c.http:
            print(f"listening: OTLP/HTTP {shown(*c.http)}", file=err)
        for addr in (c.grpc, c.http):
            if addr and not is_loopback(addr[0]) and c.token is None:
                print(f"warning: {shown(*addr)} is reachable from other machines and "
                      "anyone there can send spans: set --auth-token", file=err)
        return c

    def close(self) -> None:
        for sock in (self.http_sock, self.grpc_probe):
            if sock is not None:
                sock.close()


class Receivers:
    """Both receivers on the running loop."""

    def __init__(self, config: LiveConfig, ingest: Ingest) -> None:
        self.config = config
        self.ingest = ingest
        self.http = HttpReceiver(ingest, config.token, config.body_limit) if config.http else None
        self.grpc = GrpcReceiver(ingest, config.token, config.body_limit) if config.grpc else None

    async def start(self) -> None:
        c = self.config
        if self.http is not None and c.http_sock is not None:
            await self.http.start(c.http_sock)
        if self.grpc is not None and c.grpc is not None:
            if c.grpc_probe is not None:
                c.grpc_probe.close()
                c.grpc_probe = None
            try:
                await self.grpc.start(*c.grpc)
            except RuntimeError as e:
                raise BindError(f"{e}: the port is in use") from None

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.stop()
        if self.grpc is not None:
            await self.grpc.stop()
