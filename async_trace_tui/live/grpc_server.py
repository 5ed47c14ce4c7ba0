"""OTLP/gRPC receiver on `grpc.aio`: TraceService/Export, and the metrics and logs services.

Traces are served by a generic handler that takes the request's *bytes* (no
deserializer): the index's own protobuf loader reads only the fields it needs, several
times faster than a full parse into ExportTraceServiceRequest. Metrics and logs use the
servicer stubs that opentelemetry-proto ships: they are only counted. gzip-compressed
requests are inflated by gRPC itself; messages past the body limit get RESOURCE_EXHAUSTED
from gRPC before any of them is read.
"""

from __future__ import annotations

from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from .http import export_response
from .ingest import PROTO, BadRequest, Ingest

TRACE_SERVICE = trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name


class GrpcReceiver:
    def __init__(self, ingest: Ingest, token: str | None = None,
                 body_limit: int = 32 << 20) -> None:
        self.ingest = ingest
        self.token = token
        self.body_limit = body_limit
        self._server: Any = None
        self._requests = 0

    async def start(self, host: str, port: int) -> int:
        """Serve on host:port (already probed free); returns the port. RuntimeError when
        gRPC cannot bind it."""
        server = grpc.aio.server(options=[
            ("grpc.max_receive_message_length", self.body_limit),
            ("grpc.so_reuseport", 0),  # a second receiver on the port must fail, not share it
        ])
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(TRACE_SERVICE, {
            "Export": grpc.unary_unary_rpc_method_handler(
                self._export, request_deserializer=None, response_serializer=None),
        }),))
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_Counted(self, "metrics"), server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_Counted(self, "logs"), server)
        target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        bound = server.add_insecure_port(target)
        if not bound:
            raise RuntimeError(f"cannot listen for OTLP/gRPC on {target}")
        await server.start()
        self._server = server
        return bound

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(grace=0.5)

    async def check_token(self, context: Any) -> None:
        if self.token is None:
            return
        meta = dict(context.invocation_metadata() or ())
        if meta.get("authorization") != f"Bearer {self.token}":
            await context.abort(grpc.StatusCode.UNAUTHENTICATED,
                                "missing or wrong authorization: Bearer token")

    async def _export(self, request: bytes, context: Any) -> bytes:
        await self.check_token(context)
        self._requests += 1
        try:
            accepted = await self.ingest.traces(request, PROTO,
                                                f"OTLP/gRPC request {self._requests}")
        except BadRequest as e:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
        return export_response(accepted.rejected, accepted.message, PROTO)


class _Counted(metrics_service_pb2_grpc.MetricsServiceServicer,
               logs_service_pb2_grpc.LogsServiceServicer):
    """Metrics or logs: answered, counted, not stored."""

    def __init__(self, receiver: GrpcReceiver, kind: str) -> None:
        self.receiver = receiver
        self.kind = kind

    async def Export(self, request: Any, context: Any) -> Any:  # noqa: N802 - the stub's name
        await self.receiver.check_token(context)
        self.receiver.ingest.count_other(self.kind)
        if self.kind == "metrics":
            return metrics_service_pb2.ExportMetricsServiceResponse()
        return logs_service_pb2.ExportLogsServiceResponse()
