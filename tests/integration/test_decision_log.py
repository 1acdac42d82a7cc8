"""Decision logs (``decision_logs``): one OPA-shaped event per Check, to a JSON-lines file
and to an HTTP collector (gzip JSON arrays, as OPA posts them), on a real server.

The event's keys are checked against the keys of a decision log a real OPA 0.61 writes
for the same policies (console decision logger), so a consumer of OPA's logs reads ours.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opa_tools import opa_server
from serving import address_of, principals_config, serving
from sqlgate.config import DecisionLogConfig, EnvironmentRules, PolicyConfig
from sqlgate.errors import ConfigError
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.opa_bundle import bundle_files, canonical_json, write_tarball
from sqlgate_client.channel import open_channel
from sqlgate_client.gen.sqlgate.v1 import common_pb2, review_pb2, review_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
DROP = b"DROP TABLE orders;\n"


class _Collector(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []  # noqa: RUF012 - reset per test by the fixture

    def log_message(self, *args: object) -> None:
        del args

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        assert self.headers["Content-Encoding"] == "gzip"
        type(self).received.extend(json.loads(gzip.decompress(body)))
        self.send_response(204)
        self.end_headers()


@pytest.fixture
def collector() -> Iterator[tuple[str, type[_Collector]]]:
    handler = type("Collector", (_Collector,), {"received": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/logs", handler
    finally:
        server.shutdown()
        server.server_close()


def _check(address: str, token: str) -> review_pb2.CheckResponse:
    with open_channel(address, tls=None) as channel:
        return review_pb2_grpc.ReviewServiceStub(channel).Check(
            review_pb2.CheckRequest(
                environment="production",
                target="main-db",
                dialect=common_pb2.DIALECT_POSTGRES,
                repo="acme/app",
                commit="abc123",
                migrations=[review_pb2.Migration(path="db/V1__drop.sql", content=DROP)],
            ),
            timeout=60,
            metadata=(("authorization", f"Bearer {token}"),),
        )


def _opa_event_keys(tmp: Path) -> set[str]:
    """The keys of a real OPA decision-log event for the same policies."""
    bundle = tmp / "bundle.tar.gz"
    write_tarball(bundle_files(load_policy_set(ROOT / "policies")), bundle)
    config = tmp / "opa.json"
    config.write_text(
        json.dumps(
            {
                "bundles": {"sqlgate": {"resource": bundle.as_uri(), "persist": False}},
                "decision_logs": {"console": True},
            }
        )
    )
    with opa_server(["-c", str(config)], tmp, ready="/health?bundles") as server:
        import requests

        requests.post(
            server.url + "/v1/data/sqlgate/main/result", json={"input": {}}, timeout=30
        ).raise_for_status()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for line in server.log_text().splitlines():
                if '"decision_id"' in line:
                    return set(json.loads(line))
            time.sleep(0.2)
    raise AssertionError(f"no decision log line from OPA: {server.log_text()}")


def test_file_and_http_sinks(tmp_path: Path, collector: tuple[str, type[_Collector]]) -> None:
    url, handler = collector
    config, tokens = principals_config(
        tmp_path,
        f"sqlite:///{tmp_path / 'sqlgate.db'}",
        {"ci-bot": {"ci": ("*",)}},
        {"production": EnvironmentRules(approvers=1)},
    )
    log_file = tmp_path / "logs" / "decisions.jsonl"
    config = dataclasses.replace(
        config,
        policies=PolicyConfig(dir=ROOT / "policies", isolation="thread"),
        decision_logs=DecisionLogConfig(file=log_file, url=url, include_input=False),
    )
    with serving(config) as running:
        response = _check(address_of(running), tokens["ci-bot"])
        digest = running.engine.policy_digest
    # serving() stopped the server: the HTTP sink was flushed on close.
    (event,) = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert event["decision_id"] == response.verdict_id
    assert event["path"] == "sqlgate/main/result"
    assert event["bundles"] == {"sqlgate": {"revision": digest}}
    assert event["result"]["decision"] == "needs_approval"
    assert "drop-table" in {f["rule"] for f in event["result"]["findings"]}
    assert event["requested_by"] == "ci-bot"
    assert "input" not in event and event["erased"] == ["/input"]
    assert event["input_digest"].startswith("sha256:") and len(event["input_digest"]) == 71
    assert event["timestamp"].endswith("Z")
    assert handler.received == [event]
    opa_keys = _opa_event_keys(tmp_path)
    assert set(event) - opa_keys <= {"input_digest", "erased", "requested_by"}, opa_keys
    assert {"decision_id", "path", "result", "bundles", "timestamp", "labels"} <= opa_keys


def test_input_included_and_digest_is_over_it(tmp_path: Path) -> None:
    config, tokens = principals_config(
        tmp_path,
        f"sqlite:///{tmp_path / 'sqlgate.db'}",
        {"ci-bot": {"ci": ("*",)}},
        {"production": EnvironmentRules(approvers=1)},
    )
    log_file = tmp_path / "decisions.jsonl"
    config = dataclasses.replace(
        config,
        policies=PolicyConfig(dir=ROOT / "policies", isolation="thread"),
        decision_logs=DecisionLogConfig(file=log_file, include_input=True),
    )
    with serving(config) as running:
        _check(address_of(running), tokens["ci-bot"])
        _check(address_of(running), tokens["ci-bot"])
    events = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert len(events) == 2 and events[0]["decision_id"] != events[1]["decision_id"]
    for event in events:
        assert event["input"]["statements"][0]["kind"] == "drop_table"
        expected = "sha256:" + hashlib.sha256(canonical_json(event["input"])).hexdigest()
        assert event["input_digest"] == expected


def test_config_needs_a_sink() -> None:
    with pytest.raises(ConfigError, match="set file, url or both"):
        DecisionLogConfig()
    with pytest.raises(ConfigError, match="http"):
        DecisionLogConfig(url="ftp://x")
