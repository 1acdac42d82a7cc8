"""`sqlgate serve` as operators watch it: /metrics on its own port, one JSON log line
per RPC, and no secret in either.

One real server process (JSON logs, metrics on a free port) takes a scripted day:
checks that allow, deny and hit the parse cache, an unauthenticated call, a check whose
target DSN (with a password) is unreachable, a token issued, redeemed, replayed and
refused. Then the log lines and the scraped metrics are read back and checked against
what happened; the API tokens, the execution token and the DSN password must appear
nowhere in either.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from serving import SQLGATE, free_port, wait_serving
from sqlgate.auth.identities import hash_token, new_token
from sqlgate.trust.keys import Keyset
from sqlgate_client.check import CheckError, MigrationInput, check_remote
from sqlgate_client.execution import CallRefused, ExecutionClient

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent.parent
PASSWORD = "s3cret-dsn-pw-" + "q7x"
ALLOW = b"CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text);\n"
DENY = b"CREATE INDEX idx_customers_email ON customers (email);\n"


def _config(tmp: Path, tokens: dict[str, str], metrics_port: int, port: int) -> Path:
    Keyset.generate(tmp / "keys")
    roles = {"dev": {"author": ["*"]}, "deployer": {"runner": ["*"]}}
    doc: dict[str, Any] = {
        "listen": f"127.0.0.1:{port}",
        "store": f"sqlite:///{tmp / 'store.db'}",
        "keys": str(tmp / "keys"),
        "metrics_listen": f"127.0.0.1:{metrics_port}",
        "log_format": "json",
        "policies": {"isolation": "thread"},
        "principals": {
            pid: {"tokens": [hash_token(tokens[pid])], "roles": r} for pid, r in roles.items()
        },
        "targets": {"reporting": {"dsn": f"postgresql://reader:{PASSWORD}@127.0.0.1:1/app"}},
        "environments": {
            "staging": {"targets": ["default", "reporting"]},
            "production": {"targets": ["default"]},
        },
    }
    path = tmp / "sqlgate.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("observe")
    tokens = {"dev": new_token(), "deployer": new_token()}
    port, metrics_port = free_port(), free_port()
    config = _config(tmp, tokens, metrics_port, port)
    addr = f"127.0.0.1:{port}"
    proc = subprocess.Popen(
        [*SQLGATE, "serve", "--config", str(config)],
        cwd=tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    secrets_seen: list[str] = [*tokens.values(), PASSWORD]
    try:
        wait_serving(addr, proc)

        def check(body: bytes, name: str, token: str | None, **kw: Any) -> dict[str, Any]:
            return check_remote(
                addr,
                migrations=[MigrationInput(name, body)],
                environment=kw.pop("environment", "staging"),
                target=kw.pop("target", "default"),
                dialect="postgres",
                token=token,
                **kw,
            )

        allowed = check(ALLOW, "V1__notes.sql", tokens["dev"])
        check(ALLOW, "V1__notes.sql", tokens["dev"])  # same bytes again: a parse-cache hit
        denied = check(DENY, "V2__idx.sql", tokens["dev"], environment="production")
        bad_token = "sqg_" + "Z" * 43
        secrets_seen.append(bad_token)
        with pytest.raises(CheckError):
            check(ALLOW, "V1__notes.sql", bad_token)
        with pytest.raises(CheckError):  # the target's catalog cannot be read
            check(ALLOW, "V1__notes.sql", tokens["dev"], target="reporting")
        digests = {"V1__notes.sql": hashlib.sha256(ALLOW).hexdigest()}
        with ExecutionClient(addr, api_token=tokens["deployer"]) as runner:
            issued = runner.issue_token(allowed["verdict_id"], "staging", "default")
            secrets_seen.append(issued.token)
            runner.redeem(issued.token, "staging", "default", digests)
            with pytest.raises(CallRefused):
                runner.redeem(issued.token, "staging", "default", digests)  # replay
            with pytest.raises(CallRefused):
                runner.issue_token(denied["verdict_id"], "production", "default")
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as r:
            metrics = r.read().decode()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    yield {
        "allowed": allowed,
        "denied": denied,
        "metrics": metrics,
        "log": stderr,
        "secrets": secrets_seen,
    }


def _rpc_lines(log: str) -> list[dict[str, Any]]:
    docs = [json.loads(line) for line in log.splitlines() if line.strip()]
    return [d for d in docs if d.get("msg") == "rpc"]


def test_every_log_line_is_json_and_one_per_rpc(day: dict[str, Any]) -> None:
    lines = [line for line in day["log"].splitlines() if line.strip()]
    for line in lines:
        doc = json.loads(line)  # every line, not only RPC lines
        assert {"ts", "level", "logger", "msg"} <= doc.keys()
    rpcs = _rpc_lines(day["log"])
    methods = [r["method"] for r in rpcs]
    # 5 checks, 2 issues, 2 redeems; health checks are not logged.
    assert methods.count("ReviewService/Check") == 5
    assert methods.count("ExecutionService/IssueExecutionToken") == 2
    assert methods.count("ExecutionService/RedeemToken") == 2
    assert not [m for m in methods if m.startswith("Health/")]


def test_log_lines_carry_the_call(day: dict[str, Any]) -> None:
    rpcs = _rpc_lines(day["log"])
    checks = [r for r in rpcs if r["method"] == "ReviewService/Check"]
    first = checks[0]
    assert first["code"] == "OK" and first["principal"] == "dev"
    assert first["environment"] == "staging" and first["decision"] == "allow"
    assert first["verdict_id"] == day["allowed"]["verdict_id"]
    assert isinstance(first["latency_ms"], float) and first["latency_ms"] > 0
    deny = checks[2]
    assert (deny["decision"], deny["environment"]) == ("deny", "production")
    unauth = checks[3]
    assert unauth["code"] == "UNAUTHENTICATED" and "principal" not in unauth
    assert unauth["level"] == "warning"
    issue_refused = [r for r in rpcs if r["method"].endswith("IssueExecutionToken")][1]
    assert issue_refused["code"] == "FAILED_PRECONDITION"
    assert issue_refused["verdict_id"] == day["denied"]["verdict_id"]
    assert issue_refused["principal"] == "deployer"


def _sample(metrics: str, name: str, **labels: str) -> float:
    for line in metrics.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            return float(value)
    raise AssertionError(f"no sample {name} {labels}")


def test_metrics_count_what_happened(day: dict[str, Any]) -> None:
    m = day["metrics"]
    assert _sample(m, "sqlgate_rpc_requests_total", method="ReviewService/Check", code="OK") == 3
    assert (
        _sample(
            m, "sqlgate_rpc_requests_total", method="ReviewService/Check", code="UNAUTHENTICATED"
        )
        == 1
    )
    assert (
        _sample(m, "sqlgate_rpc_duration_seconds_count", method="ReviewService/Check", code="OK")
        == 3
    )
    assert _sample(m, "sqlgate_decisions_total", environment="staging", decision="allow") == 2
    assert _sample(m, "sqlgate_decisions_total", environment="production", decision="deny") == 1
    assert _sample(m, "sqlgate_findings_total", rule="index-not-concurrent", level="deny") == 1
    assert _sample(m, "sqlgate_policy_evaluation_seconds_count") >= 3
    assert _sample(m, "sqlgate_parse_cache_lookups_total", result="hit") >= 1
    assert _sample(m, "sqlgate_parse_cache_lookups_total", result="miss") >= 2
    assert _sample(m, "sqlgate_tokens_total", event="issued") == 1
    assert _sample(m, "sqlgate_tokens_total", event="redeemed") == 1
    assert _sample(m, "sqlgate_tokens_total", event="refused", reason="replay") == 1
    assert _sample(m, "sqlgate_tokens_total", event="refused", reason="verdict_not_allowed") == 1
    assert _sample(m, "sqlgate_audit_append_seconds_count") >= 6


def test_no_secret_in_logs_or_metrics(day: dict[str, Any]) -> None:
    assert len(day["secrets"]) == 5  # two API tokens, a bad one, the DSN password, a token
    for secret in day["secrets"]:
        for where in ("log", "metrics"):
            assert secret not in day[where], f"a secret leaked into the {where}"
            assert secret[-12:] not in day[where], f"part of a secret leaked into the {where}"


def test_metrics_port_in_use_is_refused(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        Keyset.generate(tmp_path / "keys")
        proc = subprocess.run(
            [
                *SQLGATE,
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--metrics-listen",
                f"127.0.0.1:{port}",
                "--log-format",
                "json",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={
                "SQLGATE_KEYS_DIR": str(tmp_path / "keys"),
                "SQLGATE_STORE": f"sqlite:///{tmp_path / 's.db'}",
                "PATH": "/usr/bin:/bin",
            },
        )
    assert proc.returncode == 2, proc.stderr
    assert f"cannot serve metrics on 127.0.0.1:{port}" in proc.stderr
