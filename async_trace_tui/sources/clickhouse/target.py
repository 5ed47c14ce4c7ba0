"""`clickhouse://...` and `chdb:DIR...` as the user types them: where the table is, how to log in.

    clickhouse://[USER[:PASSWORD]@]HOST[:PORT][/DATABASE][?table=otel_traces&secure=1]
    chdb:DIR[?database=otel&table=otel_traces]

The password may come from CLICKHOUSE_PASSWORD instead of the URL (it stays out of shell
history and `ps`). Database and table are identifiers, never pasted into SQL unchecked.
"""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_DATABASE = "otel"
DEFAULT_TABLE = "otel_traces"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TRUE = {"1", "true", "yes", "on"}


class TargetError(ValueError):
    """A URL that cannot name a table: one line for the user."""


class Target:
    """Where the spans live: a server (`http`) or a chDB data directory (`chdb`)."""

    __slots__ = ("kind", "host", "port", "user", "password", "secure", "path", "database",
                 "table")

    def __init__(self, kind: str, *, host: str = "", port: int = 0, user: str = "default",
                 password: str = "", secure: bool = False, path: str = "",
                 database: str = DEFAULT_DATABASE, table: str = DEFAULT_TABLE) -> None:
        self.kind = kind
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.secure = secure
        self.path = path
        self.database = _ident(database, "database")
        self.table = _ident(table, "table")

    @property
    def qualified(self) -> str:
        return f"`{self.database}`.`{self.table}`"

    @property
    def lookup(self) -> str:
        """The exporter's TraceId -> (Start, End) table, next to the spans table."""
        return f"`{self.database}`.`{self.table}_trace_id_ts`"

    def __str__(self) -> str:
        """For messages: never with the password."""
        if self.kind == "chdb":
            return f"chdb:{self.path} ({self.database}.{self.table})"
        scheme = "clickhouse+https" if self.secure else "clickhouse"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.database}.{self.table}"


def _ident(value: str, what: str) -> str:
    if not _IDENT.match(value):
        raise TargetError(f"{what} name {value!r} is not a plain identifier (letters, digits, _)")
    return value


def _options(query: str, allowed: set[str]) -> dict[str, str]:
    opts: dict[str, str] = {}
    for key, values in parse_qs(query, keep_blank_values=True).items():
        if key not in allowed:
            raise TargetError(f"unknown option {key!r} (known: {', '.join(sorted(allowed))})")
        opts[key] = values[-1]
    return opts


def parse_target(spec: str) -> Target:
    """The target a `clickhouse://` or `chdb:` spec names; TargetError when it is malformed."""
    if spec.startswith("chdb:"):
        path, _, query = spec[len("chdb:"):].partition("?")
        path = path.removeprefix("//") if path.startswith("///") else path
        if not path:
            raise TargetError("chdb: needs a data directory, e.g. chdb:./traces.chdb")
        opts = _options(query, {"database", "table"})
        return Target("chdb", path=os.path.abspath(os.path.expanduser(path)),
                      database=opts.get("database", DEFAULT_DATABASE),
                      table=opts.get("table", DEFAULT_TABLE))
    if not spec.startswith("clickhouse://"):
        raise TargetError(f"{spec!r} is not a clickhouse:// or chdb: URL")
    parts = urlsplit(spec)
    opts = _options(parts.query, {"table", "secure", "database"})
    secure = opts.get("secure", "0").lower() in _TRUE
    try:
        port = parts.port
    except ValueError:
        raise TargetError(f"bad port in {_redacted(spec)!r}") from None
    host = parts.hostname or ""
    if not host:
        raise TargetError(f"no host in {_redacted(spec)!r} (clickhouse://HOST[:PORT])")
    database = unquote(parts.path.strip("/")) or opts.get("database", DEFAULT_DATABASE)
    password = unquote(parts.password) if parts.password is not None else None
    if password is None:
        password = os.environ.get("CLICKHOUSE_PASSWORD", "")
    return Target("http", host=host, port=port or (8443 if secure else 8123),
                  user=unquote(parts.username) if parts.username else "default",
                  password=password, secure=secure, database=database,
                  table=opts.get("table", DEFAULT_TABLE))


def _redacted(spec: str) -> str:
    return re.sub(r"//([^:@/]*):[^@/]*@", r"//\1:***@", spec)
