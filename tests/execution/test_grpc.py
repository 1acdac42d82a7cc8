"""The adversarial cases over gRPC, against a real server on 127.0.0.1, on SQLite and
PostgreSQL: each refusal has the documented status code, leaves an audit event, and
the audit chain still verifies (checked by an auditor through VerifyAudit)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from bindings import binding_for
from sqlgate.trust.verdict import sha256_hex
from sqlgate_client.gen.sqlgate.v1 import execution_pb2
from sqlgate_client.trust.tokens import verify_token

from execution.conftest import DIGESTS, FILES, NOW, hand_signed
from execution.served import Served, refused

ENV, TARGET = "production", "main-db"
RUNNER, OTHER = "runner:deploy", "runner:other"
C = grpc.StatusCode


@pytest.fixture(autouse=True)
def _clock(served: Served) -> Any:
    served.now[0] = NOW
    yield
    served.now[0] = NOW


def _redeem_failed(served: Served, before: int, reason: str) -> None:
    events = served.events("token_redeem_failed")
    assert len(events) == before + 1
    assert events[-1].details["reason"] == reason
    with served.client("auditor:carol") as auditor:
        report = auditor.verify_audit()
    assert report.ok, report.problem


def _issue(served: Served, **verdict: Any) -> str:
    verdict_id = served.put_verdict(**verdict)
    with served.client(RUNNER) as c:
        return c.issue_token(
            verdict_id, verdict.get("environment", ENV), verdict.get("target", TARGET)
        ).token


def _redeem_refusal(
    served: Served, token: str, code: grpc.StatusCode, reason: str, **kw: Any
) -> None:
    before = len(served.events("token_redeem_failed"))
    with served.client(kw.pop("principal", RUNNER)) as c:
        refused(
            lambda: c.redeem(
                token,
                kw.get("environment", ENV),
                kw.get("target", TARGET),
                kw.get("digests", DIGESTS),
            ),
            code,
            reason,
        )
    _redeem_failed(served, before, reason)


def test_issue_redeem_report_then_replay(served: Served) -> None:
    verdict_id = served.put_verdict()
    with served.client(RUNNER) as c:
        issued = c.issue_token(verdict_id, ENV, TARGET)
        # the runner can verify it offline against the published keys
        claims = verify_token(
            issued.token,
            c.get_keys(),
            environment=ENV,
            target=TARGET,
            runner=RUNNER,
            digests=DIGESTS,
            now=NOW,
        )
        assert claims.jti == issued.token_id and claims.verdict_id == verdict_id
        done = c.redeem(issued.token, ENV, TARGET, DIGESTS)
        assert done.token_id == issued.token_id and done.verdict_id == verdict_id
        request = execution_pb2.ReportExecutionRequest(
            report_id="rep-" + issued.token_id,
            token_id=issued.token_id,
            verdict_id=verdict_id,
            outcome=execution_pb2.EXECUTION_OUTCOME_SUCCEEDED,
            statements=[execution_pb2.StatementReport(file="migrations/001_users.sql", line=1)],
        )
        seq = c.report(request)
        assert seq > 0 and c.report(request) == seq  # idempotent retry
    [event] = [e for e in served.events("execution_report") if e.sequence == seq]
    assert event.details["token_id"] == issued.token_id
    _redeem_refusal(served, issued.token, C.FAILED_PRECONDITION, "replay")


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b: b[:-2] + b"X\n", id="one-byte"),
        pytest.param(lambda b: b.replace(b"\n", b"\r\n"), id="crlf"),
        pytest.param(lambda b: b"\xef\xbb\xbf" + b, id="bom"),
    ],
)
def test_changed_bytes(served: Served, mutate: Any) -> None:
    token = _issue(served)
    path = "migrations/002_index.sql"
    sent = {**DIGESTS, path: sha256_hex(mutate(FILES[path]))}
    _redeem_refusal(served, token, C.INVALID_ARGUMENT, "digest_mismatch", digests=sent)


def test_staging_token_for_production(served: Served) -> None:
    token = _issue(served, environment="staging")
    _redeem_refusal(served, token, C.PERMISSION_DENIED, "environment_mismatch")


def test_another_target_same_environment(served: Served) -> None:
    token = _issue(served, target="replica-db")
    _redeem_refusal(served, token, C.PERMISSION_DENIED, "target_mismatch")


def test_another_runner(served: Served) -> None:
    token = _issue(served)
    _redeem_refusal(served, token, C.PERMISSION_DENIED, "runner_mismatch", principal=OTHER)


def test_expired_and_not_yet_valid(served: Served) -> None:
    token = _issue(served)
    served.now[0] = NOW + timedelta(minutes=10)
    _redeem_refusal(served, token, C.FAILED_PRECONDITION, "token_expired")
    served.now[0] = NOW - timedelta(minutes=10)
    _redeem_refusal(served, token, C.FAILED_PRECONDITION, "token_expired")


def _claims(verdict_id: str, drop: str) -> dict[str, Any]:
    claims = {
        "iss": "sqlgate",
        "aud": "sqlgate-runner",
        "sub": RUNNER,
        "jti": os.urandom(16).hex(),
        "verdict_id": verdict_id,
        "digests": DIGESTS,
        "environment": ENV,
        "target": TARGET,
        "runner": RUNNER,
        "iat": "2030-01-01T12:00:00Z",
        "nbf": "2030-01-01T12:00:00Z",
        "exp": "2030-01-01T12:05:00Z",
        "binding": binding_for(DIGESTS),
    }
    del claims[drop]
    return claims


@pytest.mark.parametrize("drop", ["exp", "jti"])
def test_hand_signed_missing_claim(served: Served, drop: str) -> None:
    token = hand_signed(served.app.keyset, _claims(served.put_verdict(), drop))
    _redeem_refusal(served, token, C.UNAUTHENTICATED, "invalid_claims")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _raw(part: str) -> bytearray:
    return bytearray(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_bit_flipped_and_forged(served: Served, tmp_path: Path) -> None:
    token = _issue(served)
    parts = token.split(".")
    body = _raw(parts[2])
    body[-1] ^= 0x80
    flipped = ".".join([*parts[:2], _b64(bytes(body)), parts[3]])
    _redeem_refusal(served, flipped, C.UNAUTHENTICATED, "bad_signature")
    from sqlgate.trust.keys import Keyset

    attacker = Keyset.generate(tmp_path / "attacker")
    forged = hand_signed(
        attacker,
        _claims(served.put_verdict(), "sub") | {"sub": RUNNER},
        kid=served.app.keyset.signer("token").key_id,
    )
    _redeem_refusal(served, forged, C.UNAUTHENTICATED, "bad_signature")


def test_tampered_footer_and_unknown_kid(served: Served) -> None:
    token = _issue(served)
    parts = token.split(".")
    unknown = ".".join([*parts[:3], _b64(b'{"kid":"sqlgate-token-00000000deadbeef"}')])
    _redeem_refusal(served, unknown, C.UNAUTHENTICATED, "bad_key")
    verdict_kid = served.app.keyset.signer("verdict").key_id
    wrong_purpose = ".".join([*parts[:3], _b64(f'{{"kid":"{verdict_kid}"}}'.encode())])
    _redeem_refusal(served, wrong_purpose, C.UNAUTHENTICATED, "bad_key")
    junk = ".".join([*parts[:3], _b64(b'{"kid":1}')])
    _redeem_refusal(served, junk, C.UNAUTHENTICATED, "bad_signature")


def _states(served: Served) -> dict[str, str]:
    with served.client("user:alice") as c:  # any authenticated principal
        return {k.key_id: k.state for k in c.get_keys() if k.purpose == "token"}


def test_rotation_revocation_and_get_keys(served: Served) -> None:
    keyset = served.app.keyset
    old = keyset.signer("token").key_id
    assert _states(served)[old] == "active"
    before = [_issue(served), _issue(served)]
    new = keyset.rotate("token").key_id
    assert _states(served) | {} == {**_states(served), old: "verify-only", new: "active"}
    after = _issue(served)
    assert served.events("token_issue")[-1].details["key_id"] == new
    with served.client(RUNNER) as c:
        c.redeem(before[0], ENV, TARGET, DIGESTS)  # verify-only still verifies
    keyset.revoke(old)
    assert _states(served)[old] == "revoked"
    _redeem_refusal(served, before[1], C.UNAUTHENTICATED, "bad_key")
    with served.client(RUNNER) as c:
        c.redeem(after, ENV, TARGET, DIGESTS)


def test_get_keys_needs_authentication(served: Served) -> None:
    with served.client(None) as c:
        refused(c.get_keys, C.UNAUTHENTICATED)
    assert served.events("auth_failed")


@pytest.mark.parametrize(
    ("decision", "reason"),
    [("needs_approval", "verdict_not_allowed"), ("deny", "verdict_not_allowed")],
)
def test_issue_refused_for_decision(served: Served, decision: str, reason: str) -> None:
    verdict_id = served.put_verdict(decision=decision)
    before = len(served.events("token_issue_failed"))
    with served.client(RUNNER) as c:
        refused(lambda: c.issue_token(verdict_id, ENV, TARGET), C.FAILED_PRECONDITION, reason)
    assert len(served.events("token_issue_failed")) == before + 1


def test_issue_refused_superseded_non_runner_other_env(served: Served) -> None:
    old = served.put_verdict()
    served.put_verdict(supersedes=old)
    fresh = served.put_verdict()
    before = len(served.events("token_issue_failed"))
    with served.client(RUNNER) as c:
        refused(
            lambda: c.issue_token(old, ENV, TARGET), C.FAILED_PRECONDITION, "verdict_superseded"
        )
        refused(
            lambda: c.issue_token(fresh, "staging", TARGET),
            C.PERMISSION_DENIED,
            "environment_mismatch",
        )
        refused(
            lambda: c.issue_token(fresh, ENV, "other-db"), C.PERMISSION_DENIED, "target_mismatch"
        )
    with served.client("user:alice") as c:
        refused(lambda: c.issue_token(fresh, ENV, TARGET), C.PERMISSION_DENIED, "not_runner")
    with served.client("auditor:carol") as c:
        refused(lambda: c.issue_token(fresh, ENV, TARGET), C.PERMISSION_DENIED, "not_runner")
        assert c.verify_audit().ok
    assert len(served.events("token_issue_failed")) == before + 5


def test_audit_service_is_for_auditors_only(served: Served) -> None:
    _redeem_refusal(served, _issue(served), C.PERMISSION_DENIED, "runner_mismatch", principal=OTHER)
    for who in (RUNNER, "auditor:prod-only"):
        with served.client(who) as c:
            refused(c.verify_audit, C.PERMISSION_DENIED)
            refused(c.list_audit_events, C.PERMISSION_DENIED)
    with served.client("auditor:carol") as c:
        events = c.list_audit_events(limit=1000)
        assert [e.sequence for e in events] == list(range(1, len(events) + 1))
        assert any(e.kind == "token_redeem_failed" for e in events)
        assert any(e.kind == "auth_failed" for e in events)
        page = c.list_audit_events(after_sequence=2, limit=3)
        assert [e.sequence for e in page] == [3, 4, 5]
        report = c.verify_audit()
        assert report.ok and report.events == len(events) and report.checkpoints >= 1


def test_sqlgate_token_cli(served: Served) -> None:
    verdict_id = served.put_verdict()
    env = {**os.environ, "SQLGATE_TOKEN": served.tokens[RUNNER]}
    cmd = [
        sys.executable,
        "-m",
        "sqlgate.cli.main",
        "token",
        verdict_id,
        "--env",
        ENV,
        "--target",
        TARGET,
        "--server",
        served.address,
    ]
    ok = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    token = ok.stdout.strip()
    assert token.startswith("v4.public.") and "\n" not in token
    with served.client(RUNNER) as c:
        c.redeem(token, ENV, TARGET, DIGESTS)
    denied = subprocess.run(
        [*cmd[:6], "staging", *cmd[7:]],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert denied.returncode == 1 and "environment_mismatch" in denied.stderr
    no_token = subprocess.run(
        cmd,
        check=False,
        env={k: v for k, v in env.items() if k != "SQLGATE_TOKEN"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert no_token.returncode == 2 and "SQLGATE_TOKEN" in no_token.stderr
