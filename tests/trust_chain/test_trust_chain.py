"""The trust chain through a real server: check → approve → verdicts, and every refusal.

Each test runs on SQLite and on PostgreSQL (conftest). After each refusal the audit log
holds the event and ``verify_chain`` (with checkpoint signatures) still passes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlgate import approvals
from sqlgate.audit.verify import verify_chain
from sqlgate.errors import Conflict
from sqlgate_client.gen.sqlgate.v1 import common_pb2, review_pb2, review_pb2_grpc

# conftest.Env (server + tokens); conftest modules are not importable by path here.
Env = Any

DROP = b"DROP TABLE users;\n"
TYPE_CHANGE = b"ALTER TABLE orders ALTER COLUMN amount TYPE numeric(20,2);\n"
SAFE = b"CREATE TABLE t (id bigint PRIMARY KEY);\n"
ALLOW, NEEDS, DENY = (
    common_pb2.DECISION_ALLOW,
    common_pb2.DECISION_NEEDS_APPROVAL,
    common_pb2.DECISION_DENY,
)


def _stub(channel: grpc.Channel) -> review_pb2_grpc.ReviewServiceStub:
    return review_pb2_grpc.ReviewServiceStub(channel)


def check(
    env: Env,
    channel: grpc.Channel,
    who: str,
    content: bytes,
    *,
    environment: str = "production",
    author: str = "",
) -> review_pb2.CheckResponse:
    request = review_pb2.CheckRequest(
        environment=environment,
        target="main-db",
        dialect=common_pb2.DIALECT_POSTGRES,
        repo="acme/app",
        commit="abc123",
        author=author,
        migrations=[review_pb2.Migration(path="db/V1__x.sql", content=content)],
    )
    return _stub(channel).Check(request, timeout=60, metadata=env.meta(who))


def approve(
    env: Env, channel: grpc.Channel, who: str, verdict_id: str, reason: str, glass: bool = False
) -> review_pb2.ApproveResponse:
    request = review_pb2.ApproveRequest(verdict_id=verdict_id, reason=reason, break_glass=glass)
    return _stub(channel).Approve(request, timeout=60, metadata=env.meta(who))


def refused(call: object, code: grpc.StatusCode, text: str) -> None:
    assert callable(call)
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == code, info.value.details()
    assert text in (info.value.details() or "")


def last_event(env: Env) -> tuple[str, str, dict[str, object]]:
    events = list(env.running.app.store.iter_audit())
    e = events[-1]
    return e.kind, e.principal, dict(e.details)


def chain_ok(env: Env) -> None:
    keys = env.running.app.keyset.public_keyset()

    def verify(key_id: str, data: bytes, signature: bytes) -> None:
        keys.verify("checkpoint", key_id, data, signature)

    report = verify_chain(env.running.app.store, verify)
    assert report.ok, report
    assert list(env.running.app.store.iter_checkpoints()), "no checkpoint was signed"


def predicate(envelope: bytes) -> dict[str, Any]:
    import base64

    payload = json.loads(base64.b64decode(json.loads(envelope)["payload"]))
    return dict(payload["predicate"])


def test_check_needs_approval_then_approved_and_verifies_offline(
    env: Env, channel: grpc.Channel, tmp_path: Path
) -> None:
    first = check(env, channel, "alice", TYPE_CHANGE)
    assert first.decision == NEEDS and first.verdict_id
    assert predicate(first.verdict)["decision"] == "needs_approval"
    assert last_event(env)[:2] == ("check", "alice")
    second = approve(env, channel, "bob", first.verdict_id, "small table, off-peak")
    assert second.decision == ALLOW and second.verdict_id != first.verdict_id
    pred = predicate(second.verdict)
    assert pred["supersedes"] == first.verdict_id
    assert [a["principal"] for a in pred["approvals"]] == ["bob"]
    assert last_event(env)[:2] == ("approve", "bob")
    got = _stub(channel).GetVerdict(
        review_pb2.GetVerdictRequest(verdict_id=second.verdict_id),
        timeout=60,
        metadata=env.meta("audrey"),
    )
    assert got.verdict == second.verdict and got.decision == ALLOW
    # Offline verification with the public keyset and the exact bytes.
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "V1__x.sql").write_bytes(TYPE_CHANGE)
    (tmp_path / "verdict.json").write_bytes(second.verdict)
    (tmp_path / "keys.json").write_text(env.running.app.keyset.public_keyset().to_json())
    cmd = [sys.executable, "-m", "sqlgate.cli.main", "verdict", "verify", "verdict.json"]
    cmd += ["--keys", "keys.json", "--files", "db/V1__x.sql", "--json"]
    ok = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["decision"] == "allow"
    (tmp_path / "db" / "V1__x.sql").write_bytes(TYPE_CHANGE.replace(b"20", b"21"))
    bad = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    chain_ok(env)


def test_unauthenticated_and_unknown_token(env: Env, channel: grpc.Channel) -> None:
    request = review_pb2.CheckRequest(environment="production")
    refused(
        lambda: _stub(channel).Check(request, timeout=60),
        grpc.StatusCode.UNAUTHENTICATED,
        "no credentials",
    )
    assert last_event(env)[0] == "auth_failed"
    bogus = (("authorization", "Bearer sqg_not-a-real-token"),)
    refused(
        lambda: _stub(channel).Check(request, timeout=60, metadata=bogus),
        grpc.StatusCode.UNAUTHENTICATED,
        "unknown API token",
    )
    kind, _, details = last_event(env)
    assert kind == "auth_failed" and details["status"] == "UNAUTHENTICATED"
    chain_ok(env)


def test_wrong_role_and_author_outside_environment(env: Env, channel: grpc.Channel) -> None:
    refused(
        lambda: check(env, channel, "bob", SAFE),
        grpc.StatusCode.PERMISSION_DENIED,
        "needs role author or ci",
    )
    refused(
        lambda: check(env, channel, "carol", SAFE),
        grpc.StatusCode.PERMISSION_DENIED,
        "'production'",
    )
    # Only ci may name another author.
    refused(
        lambda: check(env, channel, "alice", SAFE, author="carol"),
        grpc.StatusCode.PERMISSION_DENIED,
        "needs role ci",
    )
    kind, who, details = last_event(env)
    assert (kind, who, details["status"]) == ("auth_failed", "alice", "PERMISSION_DENIED")
    assert check(env, channel, "alice", SAFE).decision == ALLOW
    chain_ok(env)


def test_author_cannot_approve_own_change_even_via_ci(env: Env, channel: grpc.Channel) -> None:
    first = check(env, channel, "ci-bot", TYPE_CHANGE, author="olga")
    assert first.decision == NEEDS
    refused(
        lambda: approve(env, channel, "olga", first.verdict_id, "looks fine"),
        grpc.StatusCode.PERMISSION_DENIED,
        "is the author",
    )
    assert last_event(env)[:2] == ("auth_failed", "olga")
    assert approve(env, channel, "bob", first.verdict_id, "ok").decision == ALLOW
    chain_ok(env)


def test_approver_outside_their_environment(env: Env, channel: grpc.Channel) -> None:
    first = check(env, channel, "alice", TYPE_CHANGE)
    refused(
        lambda: approve(env, channel, "sam", first.verdict_id, "ok"),
        grpc.StatusCode.PERMISSION_DENIED,
        "environment 'production'",
    )
    staged = check(env, channel, "alice", TYPE_CHANGE, environment="staging")
    assert approve(env, channel, "sam", staged.verdict_id, "ok").decision in (ALLOW, NEEDS)
    chain_ok(env)


def test_destructive_gate_needs_break_glass(env: Env, channel: grpc.Channel) -> None:
    first = check(env, channel, "alice", DROP)
    assert first.decision == NEEDS
    # A normal approval does not satisfy a destructive gate.
    second = approve(env, channel, "bob", first.verdict_id, "reviewed")
    assert second.decision == NEEDS
    refused(
        lambda: approve(env, channel, "bob", second.verdict_id, "urgent", glass=True),
        grpc.StatusCode.PERMISSION_DENIED,
        "needs role operator",
    )
    refused(
        lambda: approve(env, channel, "olga", second.verdict_id, "   ", glass=True),
        grpc.StatusCode.INVALID_ARGUMENT,
        "written reason",
    )
    kind, who, details = last_event(env)
    assert (kind, who, details["outcome"]) == ("approve", "olga", "refused")
    third = approve(env, channel, "olga", second.verdict_id, "INC-42: table is dead", glass=True)
    assert third.decision == ALLOW
    pred = predicate(third.verdict)
    assert [a["break_glass"] for a in pred["approvals"]] == [False, True]
    chain_ok(env)


def test_break_glass_is_single_use_and_expires(env: Env, channel: grpc.Channel) -> None:
    first = check(env, channel, "alice", DROP)
    glass = approve(env, channel, "olga", first.verdict_id, "INC-7", glass=True)
    app = env.running.app
    now = app.now()
    used = approvals.consume_break_glass(app.store, glass.verdict_id, now)
    assert used is not None and used.principal == "olga"
    assert approvals.consume_break_glass(app.store, glass.verdict_id, now) is None
    with pytest.raises(Conflict, match="already used"):
        app.store.consume_break_glass(used.approval_id, now)
    # Expired: a fresh break-glass approval, judged after its ttl.
    second = check(env, channel, "alice", DROP)
    approve(env, channel, "olga", second.verdict_id, "INC-8", glass=True)
    later = now + timedelta(seconds=app.config.approvals.break_glass_ttl_s + 1)
    latest = app.store.latest_in_chain(second.verdict_id)
    assert approvals.consume_break_glass(app.store, latest.verdict_id, later) is None
    rules = app.config.approvals
    outcome = approvals.decide(
        [{"rule": "drop-table", "level": "approval"}],
        approvals.chain_approvals(app.store, latest.verdict_id),
        rules=rules.for_environment("production"),
        destructive_rules=rules.destructive_rules,
        author="alice",
        now=later,
    )
    assert outcome.decision == "needs_approval"
    chain_ok(env)


def test_superseded_and_expired_verdicts_cannot_be_approved(
    env: Env, channel: grpc.Channel
) -> None:
    first = check(env, channel, "alice", TYPE_CHANGE)
    approve(env, channel, "bob", first.verdict_id, "ok")
    refused(
        lambda: approve(env, channel, "olga", first.verdict_id, "ok"),
        grpc.StatusCode.FAILED_PRECONDITION,
        "superseded",
    )
    assert last_event(env)[2]["outcome"] == "refused"
    app = env.running.app
    late = app.now() + timedelta(seconds=app.config.approvals.verdict_ttl_s + 60)
    fresh = check(env, channel, "alice", TYPE_CHANGE)
    real_clock = app.clock
    app.clock = lambda: late
    try:
        refused(
            lambda: approve(env, channel, "bob", fresh.verdict_id, "ok"),
            grpc.StatusCode.FAILED_PRECONDITION,
            "expired",
        )
    finally:
        app.clock = real_clock
    assert last_event(env)[2]["outcome"] == "refused"
    chain_ok(env)


def test_changed_byte_gets_a_new_verdict_without_old_approvals(
    env: Env, channel: grpc.Channel
) -> None:
    first = check(env, channel, "alice", TYPE_CHANGE)
    approved = approve(env, channel, "bob", first.verdict_id, "ok")
    assert approved.decision == ALLOW
    changed = check(env, channel, "alice", TYPE_CHANGE + b"-- one more line\n")
    assert changed.decision == NEEDS and changed.verdict_id not in (
        first.verdict_id,
        approved.verdict_id,
    )
    pred = predicate(changed.verdict)
    assert pred["approvals"] == [] and pred["supersedes"] is None
    chain_ok(env)


def test_deny_is_not_overridable_in_production(env: Env, channel: grpc.Channel) -> None:
    deny_sql = b"CREATE INDEX i ON orders (customer_id);\n"
    first = check(env, channel, "alice", deny_sql)
    assert first.decision == DENY
    after = approve(env, channel, "olga", first.verdict_id, "INC-9", glass=True)
    assert after.decision == DENY
    staged = check(env, channel, "alice", deny_sql, environment="staging")
    assert staged.decision == DENY
    assert approve(env, channel, "olga", staged.verdict_id, "INC-9", glass=True).decision == ALLOW
    chain_ok(env)


def test_get_verdict_needs_a_role_in_its_environment(env: Env, channel: grpc.Channel) -> None:
    first = check(env, channel, "alice", SAFE)
    request = review_pb2.GetVerdictRequest(verdict_id=first.verdict_id)
    refused(
        lambda: _stub(channel).GetVerdict(request, timeout=60, metadata=env.meta("sam")),
        grpc.StatusCode.PERMISSION_DENIED,
        "no role",
    )
    assert _stub(channel).GetVerdict(request, timeout=60, metadata=env.meta("bob")).verdict
    chain_ok(env)
