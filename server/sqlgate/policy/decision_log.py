"""Decision logs in OPA's decision-log shape, to a file (JSON lines) and/or an HTTP sink.

One event per Check, as OPA writes one per query, so the tools security teams already
feed OPA's logs to read sqlgate's unchanged::

    {"decision_id": <verdict id>, "path": "sqlgate/main/result",
     "labels": {"app": "sqlgate", "id": <instance id>, "version": <sqlgate version>},
     "bundles": {"sqlgate": {"revision": <policy digest>}},
     "input": {...} | absent with "erased": ["/input"],
     "input_digest": "sha256:<hex of the canonical JSON input>",
     "result": {"decision": ..., "findings": [...]},
     "requested_by": <principal id>, "timestamp": <RFC 3339, UTC>}

The HTTP sink posts gzip-compressed JSON arrays (OPA's decision-log service API) from a
background thread, in batches; a sink that fails is logged and its events dropped (and
counted): the audit log, not the decision log, is the system of record, so a slow log
collector never delays or fails a check.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import queue
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from sqlgate import __version__
from sqlgate.policy.engine import RESULT_RULE
from sqlgate.policy.opa_bundle import canonical_json

log = logging.getLogger(__name__)

PATH = RESULT_RULE.removeprefix("data.").replace(".", "/")
BATCH = 100


def input_digest(policy_input: Mapping[str, Any]) -> str:
    """``sha256:`` + hex over the input's canonical JSON (sorted keys, compact)."""
    return "sha256:" + hashlib.sha256(canonical_json(policy_input)).hexdigest()


class DecisionLogger:
    """Writes decision events to the configured sinks; `close` flushes and stops."""

    def __init__(
        self,
        *,
        file: Path | None = None,
        url: str | None = None,
        include_input: bool = False,
        bundle: str = "sqlgate",
    ) -> None:
        self._file = file
        self._url = url
        self._include_input = include_input
        self._bundle = bundle
        self._instance = str(uuid.uuid4())
        self._lock = threading.Lock()
        self.dropped = 0
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=10_000)
        self._thread: threading.Thread | None = None
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
            file.touch()  # an unwritable path stops start-up, not the first check
        if url is not None:
            self._thread = threading.Thread(target=self._post_loop, name="sqlgate-decision-log")
            self._thread.daemon = True
            self._thread.start()

    def event(
        self,
        *,
        decision_id: str,
        policy_input: Mapping[str, Any] | None,
        result: Mapping[str, Any],
        revision: str,
        requested_by: str,
    ) -> dict[str, Any]:
        """The OPA-shaped event for one decision."""
        event: dict[str, Any] = {
            "decision_id": decision_id,
            "path": PATH,
            "labels": {"app": "sqlgate", "id": self._instance, "version": __version__},
            "bundles": {self._bundle: {"revision": revision}},
            "result": dict(result),
            "requested_by": requested_by,
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        if policy_input is not None:
            event["input_digest"] = input_digest(policy_input)
            if self._include_input:
                event["input"] = policy_input
            else:
                event["erased"] = ["/input"]
        return event

    def log(self, **fields: Any) -> None:
        """Build and emit one event (never raises: failures are logged and counted)."""
        try:
            event = self.event(**fields)
            if self._file is not None:
                line = json.dumps(event, sort_keys=True, separators=(",", ":")) + "\n"
                with self._lock, self._file.open("a", encoding="utf-8") as out:
                    out.write(line)
            if self._url is not None:
                self._queue.put_nowait(event)
        except (OSError, ValueError, TypeError, queue.Full) as exc:
            self.dropped += 1
            log.warning("decision log: event dropped: %s", exc)

    def _post_loop(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            batch = [] if first is None else [first]
            stop = first is None
            while len(batch) < BATCH and not stop:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                else:
                    batch.append(item)
            if batch:
                self._post(batch)

    def _post(self, batch: list[dict[str, Any]]) -> None:
        assert self._url is not None
        body = gzip.compress(json.dumps(batch).encode("utf-8"))
        try:
            response = requests.post(
                self._url,
                data=body,
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
                timeout=10,
            )
            if response.status_code >= 300:
                raise requests.HTTPError(f"HTTP {response.status_code}")
        except requests.RequestException as exc:
            self.dropped += len(batch)
            log.warning("decision log: %d event(s) dropped, sink failed: %s", len(batch), exc)

    def close(self, timeout_s: float = 10.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout_s)
