"""Running SQL: over the HTTP interface (clickhouse-connect) or in-process (chDB), one way.

Both return JSONCompact bytes, decoded here, so the two run the same SQL and read the same
values. Failures become `SourceError` with one line for the user (never a stack trace).
Query parameters use ClickHouse's own `{name:Type}` binding on both: values never get
pasted into SQL text.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import msgspec

from ..base import SourceError
from .target import Target

EXTRA = "clickhouse"
# Numbers as numbers (not quoted) and no invalid UTF-8 in the output, whatever the server's
# defaults.
_SETTINGS = {"output_format_json_quote_64bit_integers": 0,
             "output_format_json_validate_utf8": 1,
             "output_format_json_quote_denormals": 0}
_SETTINGS_SQL = " SETTINGS " + ", ".join(f"{k}={v}" for k, v in _SETTINGS.items())
_decode = msgspec.json.Decoder().decode


def missing_extra(module: str) -> SourceError:
    return SourceError(f"{module} is not installed: ClickHouse sources need the optional "
                       f"extra, pip install 'async-trace-tui[{EXTRA}]'")


def one_line(message: str) -> str:
    """The first line of a ClickHouse error, without the stack trace and version noise."""
    text = str(message).strip()
    m = re.search(r"Code: (\d+)\. (?:DB::Exception: )?(.*?)(?: \(version [^)]*\))?(?:\. Stack trace:|$)",
                  text, re.S)
    if m:
        text = f"{m.group(2).strip()} (code {m.group(1)})"
    text = re.sub(r" In scope .*?(?= \([A-Z_]+\)|$)", "", text, flags=re.S)
    line = " ".join(text.split())
    return line if len(line) <= 300 else line[:297] + "..."


class Backend:
    """Runs SQL on one target."""

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        raise NotImplementedError

    def command(self, sql: str, params: dict[str, Any] | None = None,
                settings: dict[str, Any] | None = None) -> None:
        """Run a statement; `settings` apply to it before it is parsed (max_query_size)."""
        raise NotImplementedError

    def close(self) -> None:
        pass


def connect(target: Target) -> Backend:
    return ChdbBackend(target) if target.kind == "chdb" else HttpBackend(target)


# -- chDB ----------------------------------------------------------------------------------

_sessions: dict[str, tuple[Any, int]] = {}
_sessions_lock = threading.Lock()


def _chdb_session(path: str) -> Any:
    """chDB holds one data directory per process: sessions of the same directory are shared
    (counted), and another directory can open only once they are all closed."""
    try:
        from chdb import session as chdb_session
    except ImportError:
        raise missing_extra("chdb") from None
    with _sessions_lock:
        held = _sessions.get(path)
        if held is not None:
            _sessions[path] = (held[0], held[1] + 1)
            return held[0]
        if _sessions:
            other = next(iter(_sessions))
            raise SourceError(f"chDB has {other} open in this process; it holds one data "
                              f"directory at a time")
        try:
            s = chdb_session.Session(path)
        except Exception as e:
            raise SourceError(f"cannot open chDB data directory {path}: {one_line(str(e))}") from None
        try:
            # chDB 26.9's query condition cache answered a query asked again (the service
            # map's, over an older exporter's table) without some of its rows.
            s.query("SET use_query_condition_cache = 0", "CSV")
        except Exception:  # an engine without that cache
            pass
        _sessions[path] = (s, 1)
        return s


def _chdb_release(path: str) -> None:
    with _sessions_lock:
        held = _sessions.get(path)
        if held is None:
            return
        if held[1] > 1:
            _sessions[path] = (held[0], held[1] - 1)
            return
        del _sessions[path]
        held[0].close()


def _param_text(params: dict[str, Any] | None) -> dict[str, str]:
    """chDB takes parameter values as text in ClickHouse's own format: arrays of quoted,
    escaped strings."""
    return {k: _value_text(v, top=True) for k, v in (params or {}).items()}


def _value_text(v: Any, top: bool = False) -> str:
    if isinstance(v, list | tuple):
        return "[" + ",".join(_value_text(x) for x in v) + "]"
    if isinstance(v, str):
        if top:  # parsed like a TSV field
            return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return str(v)


class ChdbBackend(Backend):
    def __init__(self, target: Target) -> None:
        self.path = target.path
        self.session = _chdb_session(self.path)
        self._closed = False

    def _run(self, sql: str, fmt: str, params: dict[str, Any] | None) -> Any:
        if self._closed:
            raise SourceError("the chDB session is closed")
        try:
            return self.session.query(sql, fmt, params=_param_text(params) or None)
        except Exception as e:
            raise SourceError(one_line(str(e))) from None

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        res = self._run(sql + _SETTINGS_SQL, "JSONCompact", params)
        data = res.bytes()
        return _decode(data)["data"] if data else []

    def command(self, sql: str, params: dict[str, Any] | None = None,
                settings: dict[str, Any] | None = None) -> None:
        for name, value in (settings or {}).items():
            # A SETTINGS clause comes too late for the parser's own limits: SET in the
            # session (which this process's backends share) before the statement.
            self._run(f"SET {name} = {int(value)}", "CSV", None)
        self._run(sql, "CSV", params)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _chdb_release(self.path)


# -- a server over HTTP --------------------------------------------------------------------

class HttpBackend(Backend):
    def __init__(self, target: Target) -> None:
        try:
            import clickhouse_connect
        except ImportError:
            raise missing_extra("clickhouse-connect") from None
        # Its log lines would land over the TUI; failures reach the user as SourceError.
        logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)
        self.target = target
        try:
            self.client = clickhouse_connect.get_client(
                host=target.host, port=target.port, username=target.user,
                password=target.password, secure=target.secure, connect_timeout=5,
                send_receive_timeout=60, autogenerate_session_id=False)
        except Exception as e:
            raise SourceError(f"cannot connect to ClickHouse at {target.host}:{target.port}: "
                              f"{_connect_reason(e)}") from None

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        try:
            data = self.client.raw_query(sql, parameters=params or None, settings=_SETTINGS,
                                         fmt="JSONCompact")
        except Exception as e:
            raise SourceError(self._reason(e)) from None
        return _decode(data)["data"] if data else []

    def command(self, sql: str, params: dict[str, Any] | None = None,
                settings: dict[str, Any] | None = None) -> None:
        try:
            self.client.command(sql, parameters=params or None, settings=settings or None)
        except Exception as e:
            raise SourceError(self._reason(e)) from None

    def insert(self, table: str, rows: list[list[Any]], columns: list[str]) -> None:
        try:
            self.client.insert(table, rows, column_names=columns)
        except Exception as e:
            raise SourceError(self._reason(e)) from None

    def _reason(self, e: Exception) -> str:
        name = type(e).__name__
        if name == "OperationalError":
            return (f"cannot reach ClickHouse at {self.target.host}:{self.target.port}: "
                    f"{_connect_reason(e)}")
        return one_line(str(e))

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:
            pass


def _connect_reason(e: Exception) -> str:
    text = str(e)
    if "Connection refused" in text:
        return "connection refused (is the server running?)"
    if "Authentication failed" in text or "Code: 516" in text:
        return "authentication failed (user or password; CLICKHOUSE_PASSWORD)"
    if "timed out" in text.lower():
        return "timed out"
    return one_line(text)
