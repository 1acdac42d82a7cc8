"""Break-glass is single use in the real flow: the token it buys consumes it.

A real server on 127.0.0.1 (SQLite and PostgreSQL, conftest's ``store_url``), a runner
principal added to the demo principals, and a clock the test can move forward. Approve
with break-glass by an operator → a token; a second token for that verdict is refused
(FAILED_PRECONDITION ``break_glass_used``) and audited; an expired break-glass makes the
verdict no longer allowed (``break_glass_expired``); concurrent issuers get one token.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from serving import serving_with_channel
from sqlgate.app import App
from sqlgate.audit.verify import verify_chain
from sqlgate.auth.identities import hash_token, new_token
from sqlgate.config import PrincipalConfig
from sqlgate.rpc.server import RunningServer
from sqlgate_client.gen.sqlgate.v1 import (
    common_pb2,
    execution_pb2,
    execution_pb2_grpc,
    review_pb2,
    review_pb2_grpc,
)

from .conftest import trust_config

DROP = b"DROP TABLE users;\n"
TYPE_CHANGE = b"ALTER TABLE orders ALTER COLUMN amount TYPE numeric(20,2);\n"
CREATE_INDEX = b"CREATE INDEX users_email_idx ON users (email);\n"
ALLOW, NEEDS, DENY = (
    common_pb2.DECISION_ALLOW,
    common_pb2.DECISION_NEEDS_APPROVAL,
    common_pb2.DECISION_DENY,
)
TARGET = "main-db"


@dataclasses.dataclass
class Flow:
    running: RunningServer
    channel: grpc.Channel
    tokens: dict[str, str]
    offset: list[timedelta]

    @property
    def app(self) -> App:
        return self.running.app

    def meta(self, who: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[who]}"),)

    def check(self, content: bytes, environment: str = "production") -> review_pb2.CheckResponse:
        request = review_pb2.CheckRequest(
            environment=environment,
            target=TARGET,
            dialect=common_pb2.DIALECT_POSTGRES,
            migrations=[review_pb2.Migration(path="db/V1__x.sql", content=content)],
        )
        stub = review_pb2_grpc.ReviewServiceStub(self.channel)
        return stub.Check(request, timeout=60, metadata=self.meta("alice"))

    def approve(
        self, who: str, verdict_id: str, reason: str, *, glass: bool = False
    ) -> review_pb2.ApproveResponse:
        request = review_pb2.ApproveRequest(verdict_id=verdict_id, reason=reason, break_glass=glass)
        stub = review_pb2_grpc.ReviewServiceStub(self.channel)
        return stub.Approve(request, timeout=60, metadata=self.meta(who))

    def token(
        self, verdict_id: str, environment: str = "production"
    ) -> execution_pb2.IssueExecutionTokenResponse:
        request = execution_pb2.IssueExecutionTokenRequest(
            verdict_id=verdict_id, environment=environment, target=TARGET
        )
        stub = execution_pb2_grpc.ExecutionServiceStub(self.channel)
        return stub.IssueExecutionToken(request, timeout=60, metadata=self.meta("rita"))

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [dict(e.details) for e in self.app.store.iter_audit() if e.kind == kind]

    def glass_approvals(self, verdict_id: str) -> list[Any]:
        return [a for a in self.app.store.list_approvals(verdict_id) if a.break_glass]


@pytest.fixture
def flow(tmp_path: Path, store_url: str) -> Iterator[Flow]:
    config, tokens = trust_config(tmp_path, store_url)
    tokens["rita"] = new_token()
    rita = PrincipalConfig(
        id="rita", tokens=(hash_token(tokens["rita"]),), roles={"runner": ("*",)}
    )
    config = dataclasses.replace(config, principals=(*config.principals, rita))
    offset = [timedelta(0)]
    app = App.build(config, clock=lambda: datetime.now(UTC) + offset[0])
    with serving_with_channel(config, app=app) as (running, channel):
        yield Flow(running, channel, tokens, offset)


def refused(call: Any, reason: str) -> str:
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION, info.value.details()
    details = info.value.details() or ""
    assert details.startswith(f"{reason}: "), details
    return details


def chain_ok(flow: Flow) -> None:
    keys = flow.app.keyset.public_keyset()

    def verify(key_id: str, data: bytes, signature: bytes) -> None:
        keys.verify("checkpoint", key_id, data, signature)

    report = verify_chain(flow.app.store, verify)
    assert report.ok, report


def test_break_glass_buys_exactly_one_token(flow: Flow) -> None:
    first = flow.check(DROP)
    assert first.decision == NEEDS
    # Without the break-glass there is nothing to execute.
    refused(lambda: flow.token(first.verdict_id), "verdict_not_allowed")
    glass = flow.approve("olga", first.verdict_id, "INC-42: table is dead", glass=True)
    assert glass.decision == ALLOW
    [approval] = flow.glass_approvals(glass.verdict_id)
    assert approval.consumed_at is None

    issued = flow.token(glass.verdict_id)
    assert issued.token and issued.token_id
    [approval] = flow.glass_approvals(glass.verdict_id)
    assert approval.consumed_at is not None, "issuing the token must consume the break-glass"
    [event] = flow.events("token_issue")
    assert event["break_glass_approval"] == approval.approval_id
    assert event["jti"] == issued.token_id

    details = refused(lambda: flow.token(glass.verdict_id), "break_glass_used")
    assert approval.approval_id in details and "single use" in details
    failed = flow.events("token_issue_failed")[-1]
    assert (failed["reason"], failed["verdict_id"]) == ("break_glass_used", glass.verdict_id)
    assert len(flow.events("token_issue")) == 1
    chain_ok(flow)


def test_expired_break_glass_is_no_longer_allowed(flow: Flow) -> None:
    first = flow.check(DROP)
    glass = flow.approve("olga", first.verdict_id, "INC-8: hotfix", glass=True)
    assert glass.decision == ALLOW
    ttl = flow.app.config.approvals.break_glass_ttl_s
    flow.offset[0] = timedelta(seconds=ttl + 1)
    details = refused(lambda: flow.token(glass.verdict_id), "break_glass_expired")
    [approval] = flow.glass_approvals(glass.verdict_id)
    assert approval.approval_id in details and "expired" in details
    assert approval.consumed_at is None, "an expired break-glass is refused, not consumed"
    failed = flow.events("token_issue_failed")[-1]
    assert (failed["reason"], failed["verdict_id"]) == ("break_glass_expired", glass.verdict_id)
    assert flow.events("token_issue") == []
    chain_ok(flow)


def test_allow_that_does_not_rest_on_break_glass_keeps_it(flow: Flow) -> None:
    # A plain approval suffices for a type change; a break-glass on top is not what
    # allows it, so tokens do not consume it and more than one token can be issued.
    first = flow.check(TYPE_CHANGE)
    assert first.decision == NEEDS
    approved = flow.approve("bob", first.verdict_id, "reviewed")
    assert approved.decision == ALLOW
    glass = flow.approve("olga", approved.verdict_id, "belt and braces", glass=True)
    assert glass.decision == ALLOW
    one, two = flow.token(glass.verdict_id), flow.token(glass.verdict_id)
    assert one.token_id != two.token_id
    [approval] = flow.glass_approvals(glass.verdict_id)
    assert approval.consumed_at is None
    assert all("break_glass_approval" not in e for e in flow.events("token_issue"))


def test_break_glass_overriding_a_deny_is_single_use(flow: Flow) -> None:
    # staging lets break-glass override a deny (conftest): that allow rests on it too.
    first = flow.check(CREATE_INDEX, environment="staging")
    assert first.decision == DENY
    glass = flow.approve("olga", first.verdict_id, "INC-9: table is tiny", glass=True)
    assert glass.decision == ALLOW
    flow.token(glass.verdict_id, environment="staging")
    refused(lambda: flow.token(glass.verdict_id, environment="staging"), "break_glass_used")


def test_concurrent_issuers_get_one_token(flow: Flow) -> None:
    first = flow.check(DROP)
    glass = flow.approve("olga", first.verdict_id, "INC-10", glass=True)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []
    lock = threading.Lock()

    def issue() -> None:
        barrier.wait()
        try:
            flow.token(glass.verdict_id)
            result = "issued"
        except grpc.RpcError as exc:
            result = (exc.details() or "").split(":", 1)[0]
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=issue) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["break_glass_used"] * 3 + ["issued"], outcomes
    assert len(flow.events("token_issue")) == 1
    chain_ok(flow)
