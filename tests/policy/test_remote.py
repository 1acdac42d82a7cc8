"""RemoteOpaEngine against a real HTTP server on 127.0.0.1 that speaks OPA's Data API.

There is no OPA binary on this machine (none on PyPI, npm or Debian that installs one
here), so the server below implements ``POST /v1/data/<path>`` (with ``provenance``) by
evaluating the real policies with regorus. What this proves: the client side — URL and
package path, request body, ``result``/undefined handling, HTTP errors, timeouts,
provenance/digest checks and result validation — over real HTTP with the real policies.
What it does not prove: that a real OPA server evaluates these policies identically
(a compose setup with the OPA image is where that belongs).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from sqlgate.errors import PolicyEvaluationError, PolicyTimeout
from sqlgate.policy.bundle import PolicySet
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.policy.remote import RemoteOpaEngine

from .inputs import policy_input, stmt


@dataclass
class FakeOpa:
    url: str
    mode: str = "ok"
    requests: list[tuple[str, dict[str, Any]]] | None = None


def _handler(policy_set: PolicySet, state: FakeOpa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, code: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            path, _, query = self.path.partition("?")
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            assert state.requests is not None
            state.requests.append((self.path, body))
            if not path.startswith("/v1/data/"):
                self._send(404, {"code": "resource_not_found"})
                return
            if state.mode == "500":
                self._send(500, {"code": "internal_error", "message": "eval_conflict_error"})
                return
            if state.mode == "sleep":
                time.sleep(1.0)
            rule = "data." + path.removeprefix("/v1/data/").replace("/", ".")
            engine = policy_set.new_engine()  # per request: regorus engines are per thread
            engine.set_input_json(json.dumps(body["input"]))
            value = json.loads(engine.eval_rule_as_json(rule))
            del engine
            answer: dict[str, Any] = {}
            if value != "<undefined>" and state.mode != "undefined":
                answer["result"] = value
            if state.mode == "garbage":
                answer["result"] = {"decision": "allow", "findings": "none"}
            if "provenance=true" in query.lower():
                revision = "sha256:other" if state.mode == "wrong_revision" else policy_set.digest
                answer["provenance"] = {
                    "version": "fake",
                    "bundles": {"sqlgate": {"revision": revision}},
                }
            self._send(200, answer)

    return Handler


@pytest.fixture
def opa(policy_set: PolicySet) -> Iterator[FakeOpa]:
    state = FakeOpa(url="", requests=[])
    server = HTTPServer(("127.0.0.1", 0), _handler(policy_set, state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def _remote(opa: FakeOpa, **kwargs: Any) -> RemoteOpaEngine:
    return RemoteOpaEngine(opa.url, timeout_s=kwargs.pop("timeout_s", 5.0), **kwargs)


SAMPLE = [
    stmt("drop_table", 0, tables=["users"]),
    stmt("create_index", 1, line=2, concurrently=False, facts={"lock": "SHARE"}),
]


def test_same_result_as_the_embedded_engine(opa: FakeOpa, engine: EmbeddedEngine) -> None:
    doc = policy_input(SAMPLE)
    remote = _remote(opa)
    try:
        got = remote.evaluate(doc)
    finally:
        remote.close()
    assert got == engine.evaluate(doc)
    assert got.decision == "deny"
    assert opa.requests is not None
    path, body = opa.requests[0]
    assert path.startswith("/v1/data/sqlgate/main/result?")
    assert body == {"input": doc}


def test_digest_from_provenance_or_checked_against_expected(
    opa: FakeOpa, policy_set: PolicySet
) -> None:
    remote = _remote(opa)
    assert remote.policy_digest == "opa:unversioned"
    remote.evaluate(policy_input(SAMPLE))
    assert remote.policy_digest == f"opa:sqlgate@{policy_set.digest}"
    pinned = _remote(opa, policy_digest=policy_set.digest)
    assert pinned.evaluate(policy_input(SAMPLE)).decision == "deny"
    assert pinned.policy_digest == policy_set.digest
    opa.mode = "wrong_revision"
    with pytest.raises(PolicyEvaluationError, match="revision"):
        pinned.evaluate(policy_input(SAMPLE))


@pytest.mark.parametrize(
    ("mode", "error", "match"),
    [
        ("500", PolicyEvaluationError, "refused"),
        ("undefined", PolicyEvaluationError, "no result"),
        ("garbage", PolicyEvaluationError, "malformed"),
        ("sleep", PolicyTimeout, "in time"),
    ],
)
def test_failures_fail_closed(opa: FakeOpa, mode: str, error: type[Exception], match: str) -> None:
    opa.mode = mode
    remote = _remote(opa, timeout_s=0.2)
    with pytest.raises(error, match=match):
        remote.evaluate(policy_input(SAMPLE))


def test_unreachable_server_is_an_evaluation_error() -> None:
    remote = RemoteOpaEngine("http://127.0.0.1:9", timeout_s=1.0)
    with pytest.raises(PolicyEvaluationError, match="failed"):
        remote.evaluate(policy_input(SAMPLE))


def test_bad_url_is_refused() -> None:
    with pytest.raises(ValueError, match="http"):
        RemoteOpaEngine("opa:8181")
