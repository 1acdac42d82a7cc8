"""Prometheus metrics of policy loads (served on ``/metrics`` with sqlgate.observe.metrics):
which revision this replica serves, and every reload attempt by outcome."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from prometheus_client import Counter, Gauge

POLICY_RELOADS = Counter(
    "sqlgate_policy_reloads",
    "Policy loads and reload attempts, by outcome (loaded, rejected) and reason",
    ["outcome", "reason"],
)
POLICY_REVISION = Gauge(
    "sqlgate_policy_revision_info",
    "The policy digest (bundle revision) this server serves: 1 for the current one",
    ["digest"],
)
_lock = threading.Lock()
_current: list[str] = []


def observe_policy_event(details: Mapping[str, Any]) -> None:
    """Count a policy_load event; on ``loaded``, move the revision gauge to its digest."""
    outcome = str(details.get("outcome", "loaded"))
    POLICY_RELOADS.labels(outcome=outcome, reason=str(details.get("reason", ""))).inc()
    digest = details.get("policy_digest")
    if outcome != "loaded" or not isinstance(digest, str):
        return
    with _lock:
        for old in _current:
            if old != digest:
                POLICY_REVISION.remove(old)
        _current[:] = [digest]
        POLICY_REVISION.labels(digest=digest).set(1)
