"""The async service map (SPEC §9) of a store's window, as SQL aggregates.

The rules are views/service_map.py's (its docstring, numbered there), read over the spans of
the window as if they were the loaded spans: the store sends back one row per service and
one per edge, never the spans.

- Groups (rule 1): a span's service is the ServiceName column (the exporter's copy of the
  resource's `service.name`: reading the resource maps of every span would cost ten times
  more; `unknown_service` when empty); with `resource:KEY` the resource attribute as the
  exporter stored it (text), or `(no KEY)`.
- Pairs (rule 2): a child joined to its parent on (TraceId, ParentSpanId) = (TraceId,
  SpanId), never itself; a link joined to the span it names on both ids. Ids are joined as
  the numbers their hex spells (as the loaders read them: any case), 24 bytes a span
  where the text is 48. Spans and links with ids that are not 32/16 characters or all
  zeros are left out, as the loaders leave them out.
- Edges (rules 3, 4): count, errors, and the effect's duration / the lag as nearest-rank
  percentiles over the sorted values (the ⌈p·n⌉-th), all in SQL.
- Services (rule 5): spans, errors, distinct traces, and unresolved links (the group's valid
  links minus those that found their span).
- Order (rule 6): sorted here, by code point.

A span stored twice (same trace and span id, an exporter's retry: MergeTree keeps both rows)
counts once, as a file load keeps one (SPEC §1): the services read one row per (trace id,
span id) (`LIMIT 1 BY`), the pairs are kept once per effect span (and link), so no count,
pair or percentile sees a copy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...model import UNKNOWN_SERVICE
from ...views.service_map import parse_by
from .traces import ERROR, IN_WINDOW, VALID_LINK

Run = Callable[[str, dict[str, Any]], list[list[Any]]]

# Ids as numbers (hex read as the loaders read it, any case): cheaper to compare and hash
# than 48 characters of text; 0 for an empty or all-zero id.
def _id128(col: str) -> str:
    return f"reinterpretAsUInt128(unhex({col}))"


def _id64(col: str) -> str:
    return f"reinterpretAsUInt64(unhex({col}))"


def _group(key: str) -> str:
    """The SQL for a span's group (rule 1); `{key:String}` is the resource key."""
    if not key:
        return f"if(toString(ServiceName) = '', '{UNKNOWN_SERVICE}', toString(ServiceName))"
    return ("multiIf(mapContains(ResourceAttributes, {key:String}), ResourceAttributes[{key:String}], "
            "{key:String} = 'service.name' AND toString(ServiceName) != '', toString(ServiceName), "
            "concat('(no ', {key:String}, ')'))")


def _percentile(values: str, p100: int) -> str:
    """Nearest rank over a sorted array (1-based in SQL): the ⌈p·n⌉-th."""
    return f"{values}[greatest(1, intDiv({p100} * length({values}) + 99, 100))]"


def map_json(run: Run, table: str, window: tuple[int, int], by: str) -> dict[str, Any]:
    key = parse_by(by)
    params: dict[str, Any] = {"lo": window[0], "hi": window[1], "key": key}
    spans = (f"SELECT {_id128('TraceId')} AS t, {_id64('SpanId')} AS sid, {_id64('ParentSpanId')} AS pid, "
             f"{_group(key)} AS g, {ERROR} AS err, "
             f"toString(SpanKind) IN ('Consumer', 'SPAN_KIND_CONSUMER') AS consumer, "
             f"toUnixTimestamp64Nano(Timestamp) AS s, s + greatest(toInt64(Duration), 0) AS e, "
             f"`Links.TraceId` AS lt, `Links.SpanId` AS ls "
             f"FROM {table} WHERE {IN_WINDOW} AND length(TraceId) = 32 AND length(SpanId) = 16 "
             f"AND t != 0 AND sid != 0")
    # A span stored twice counts once: the services read one row per span (LIMIT 1 BY),
    # and the pairs are joined from every row, then kept once per effect (and link) --
    # fewer rows than the window's spans, so a smaller set to keep than deduplicating
    # both sides of each join.
    services = run(
        f"SELECT g, count(), countIf(err), uniqExact(t), "
        f"sum(arrayCount({VALID_LINK}, lt, ls)) FROM ({spans} LIMIT 1 BY t, sid) GROUP BY g",
        params)
    # The pairs: (cause group, effect group, kind, effect failed, duration, lag, by a link;
    # the effect's ids and link number). A join holds its right side in memory: the
    # children (most spans) or the links (few).
    pairs = f"""
        SELECT * FROM (
        SELECT p.g AS a, c.g AS b, if(c.consumer, 'async', 'sync') AS kind, c.err AS err,
               c.e - c.s AS dur, c.s - p.e AS lag, 0 AS via_link, c.t AS ct, c.sid AS cs,
               0 AS at
        FROM (SELECT t, sid, g, e FROM ({spans})) AS p
        INNER JOIN (SELECT t, sid, pid, g, err, consumer, s, e FROM ({spans})
                    WHERE pid != 0 AND pid != sid) AS c
            ON p.t = c.t AND p.sid = c.pid
        WHERE c.consumer OR p.g != c.g
        UNION ALL
        SELECT p.g, c.g, 'async', c.err, c.e - c.s, c.s - p.e, 1, c.t, c.sid, c.at
        FROM (SELECT t, sid, g, e FROM ({spans})) AS p
        INNER JOIN (SELECT t, sid, {_id128('l.1')} AS lt1, {_id64('l.2')} AS ls1, g, err, s, e, at
                    FROM ({spans}) ARRAY JOIN arrayZip(lt, ls) AS l, arrayEnumerate(lt) AS at
                    WHERE notEmpty(lt) AND length(l.1) = 32 AND length(l.2) = 16
                      AND lt1 != 0 AND ls1 != 0) AS c
            ON p.t = c.lt1 AND p.sid = c.ls1)
        LIMIT 1 BY via_link, ct, cs, at"""
    edges = run(
        f"""SELECT a, b, kind, n, errors,
                   {_percentile('durs', 50)}, {_percentile('durs', 95)},
                   if(kind = 'async', {_percentile('lags', 50)}, NULL),
                   if(kind = 'async', {_percentile('lags', 95)}, NULL),
                   links
            FROM (SELECT a, b, kind, count() AS n, countIf(err) AS errors,
                         arraySort(groupArray(dur)) AS durs, arraySort(groupArray(lag)) AS lags,
                         countIf(via_link) AS links
                  FROM ({pairs}) GROUP BY a, b, kind)""", params)
    resolved: dict[str, int] = {}
    out_edges = []
    for a, b, kind, count, errors, d50, d95, l50, l95, via_link in edges:
        resolved[b] = resolved.get(b, 0) + int(via_link)
        out_edges.append({"from": a, "to": b, "kind": kind, "count": int(count),
                          "errors": int(errors), "duration_p50_ns": int(d50),
                          "duration_p95_ns": int(d95),
                          "lag_p50_ns": None if l50 is None else int(l50),
                          "lag_p95_ns": None if l95 is None else int(l95)})
    out_services = [{"name": g, "spans": int(n), "errors": int(err), "traces": int(traces),
                     "unresolved_links": int(links) - resolved.get(g, 0)}
                    for g, n, err, traces, links in services]
    out_services.sort(key=lambda s: s["name"])
    out_edges.sort(key=lambda e: (e["from"], e["to"], e["kind"]))
    return {"services": out_services, "edges": out_edges}

