"""The server's Prometheus metrics and the ``/metrics`` endpoint on its own port.

Metrics live in the default ``prometheus_client`` registry (with its process and
Python collectors) and are updated where the work happens: the RPC interceptor
(``sqlgate.observe.calls``), the review service (decisions, findings), ``review``
(policy evaluation time), the parse cache, the execution service (tokens) and the
audit log (append latency). Label values come from fixed vocabularies (methods,
status codes, rule ids, refusal reasons) or configured names (environments).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import perf_counter
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Histogram, start_http_server

from sqlgate.errors import ListenError

RPC_REQUESTS = Counter(
    "sqlgate_rpc_requests", "RPCs answered, by method and status code", ["method", "code"]
)
RPC_LATENCY = Histogram(
    "sqlgate_rpc_duration_seconds",
    "RPC latency in seconds, by method and status code",
    ["method", "code"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
DECISIONS = Counter(
    "sqlgate_decisions", "Check decisions, by environment and decision", ["environment", "decision"]
)
FINDINGS = Counter(
    "sqlgate_findings", "Findings in Check results, by rule and level", ["rule", "level"]
)
POLICY_EVALUATION = Histogram(
    "sqlgate_policy_evaluation_seconds",
    "Time to evaluate the policies for one review",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
PARSE_CACHE = Counter(
    "sqlgate_parse_cache_lookups", "Parse cache lookups, by result (hit or miss)", ["result"]
)
TOKENS = Counter(
    "sqlgate_tokens",
    "Execution token events: issued, redeemed, refused (with the refusal reason)",
    ["event", "reason"],
)
AUDIT_APPEND = Histogram(
    "sqlgate_audit_append_seconds",
    "Time to append one audit event to the store",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)


@contextmanager
def timed(histogram: Histogram) -> Iterator[None]:
    """Observe the block's wall time in ``histogram`` (also when it raises)."""
    start = perf_counter()
    try:
        yield
    finally:
        histogram.observe(perf_counter() - start)


def token_event(event: str, reason: str = "") -> None:
    TOKENS.labels(event=event, reason=reason).inc()


@dataclass
class MetricsServer:
    """The running ``/metrics`` HTTP endpoint."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_metrics_server(listen: str) -> MetricsServer:
    """Serve ``/metrics`` on ``host:port`` (port 0: any free one); ListenError if taken."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise ListenError(f"metrics listen address {listen!r}: expected host:port")
    host = host.strip("[]") or "0.0.0.0"  # noqa: S104 - an empty host means all interfaces
    try:
        server, thread = start_http_server(int(port), addr=host)
    except OSError as exc:
        raise ListenError(
            f"cannot serve metrics on {listen}: {exc.strerror or exc} "
            "(is another server using the port?)"
        ) from exc
    return MetricsServer(server, thread)
