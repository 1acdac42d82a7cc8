"""A server killed at the worst moment leaves every state change with its audit event.

A real ``sqlgate serve`` process (SQLite and PostgreSQL store) is started with
``SQLGATE_FAULT=<point>``: it dies like ``kill -9`` (exit 137) inside a unit of work,
after the first write and before the rest. Then a fresh server on the same store must
show all of the unit or none of it: no approved verdict without its break-glass
approval (that was an allow nothing consumed: one break-glass, many tokens), no
consumed break-glass without its token, no redeemed token or stored report without its
audit event, and ``audit verify`` still ok. Afterwards the operation can be redone and
counts once.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from serving import SQLGATE, TEST_ENVIRONMENTS_RAW, free_port, wait_serving
from sqlgate.audit.export import read_checkpoints, verify_extends
from sqlgate.auth.identities import hash_token
from sqlgate.store import Store, open_store
from sqlgate.trust.keys import Keyset
from sqlgate_client.execution import CallRefused, ExecutionClient
from sqlgate_client.gen.sqlgate.v1 import common_pb2, execution_pb2, review_pb2, review_pb2_grpc

ENV, TARGET = "production", "main-db"
DROP = b"DROP TABLE users;\n"
TRUNCATE = b"TRUNCATE TABLE sessions;\n"
ROLES = {
    "alice": {"author": ["*"]},
    "bob": {"approver": ["*"]},
    "olga": {"operator": ["*"]},
    "rita": {"runner": ["*"]},
}


@dataclasses.dataclass
class Crashable:
    """One ``sqlgate serve`` process at a time on one store; restartable."""

    tmp: Path
    url: str
    tokens: dict[str, str]
    address: str = ""
    proc: subprocess.Popen[bytes] | None = None

    def start(self, fault: str | None = None) -> None:
        self.address = f"127.0.0.1:{free_port()}"
        config = self.tmp / "sqlgate.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "listen": self.address,
                    "store": self.url,
                    "keys": str(self.tmp / "keys"),
                    "audit_checkpoint_every": 3,
                    "audit_checkpoint_file": str(self.tmp / "outside" / "checkpoints.jsonl"),
                    "principals": {
                        pid: {"tokens": [hash_token(self.tokens[pid])], "roles": roles}
                        for pid, roles in ROLES.items()
                    },
                    "approvals": {"environments": {ENV: {"approvers": 1}, "*": {"approvers": 1}}},
                    "environments": TEST_ENVIRONMENTS_RAW,
                }
            )
        )
        env = {k: v for k, v in os.environ.items() if k != "SQLGATE_FAULT"}
        if fault is not None:
            env["SQLGATE_FAULT"] = fault
        self.proc = subprocess.Popen(
            [*SQLGATE, "serve", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        wait_serving(self.address, self.proc)

    def crashed(self) -> str:
        """Wait for the armed process to die; its exit code must be the fault's 137."""
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the fault point was never reached: the server is still running")
        stderr = self.proc.stderr.read().decode() if self.proc.stderr else ""
        assert code == 137, stderr[-2000:]
        self.proc = None
        return stderr

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def meta(self, who: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[who]}"),)

    def review(self) -> Any:
        return review_pb2_grpc.ReviewServiceStub(grpc.insecure_channel(self.address))

    def check(self, content: bytes) -> review_pb2.CheckResponse:
        request = review_pb2.CheckRequest(
            environment=ENV,
            target=TARGET,
            dialect=common_pb2.DIALECT_POSTGRES,
            migrations=[review_pb2.Migration(path="db/V1__x.sql", content=content)],
        )
        return self.review().Check(request, timeout=60, metadata=self.meta("alice"))

    def approve(self, verdict_id: str, *, glass: bool) -> review_pb2.ApproveResponse:
        who = "olga" if glass else "bob"
        request = review_pb2.ApproveRequest(
            verdict_id=verdict_id, reason="INC-7: reviewed", break_glass=glass
        )
        return self.review().Approve(request, timeout=60, metadata=self.meta(who))

    def runner(self) -> ExecutionClient:
        return ExecutionClient(self.address, api_token=self.tokens["rita"], timeout_s=60)


@pytest.fixture
def server(tmp_path: Path, store_url: str) -> Iterator[Crashable]:
    Keyset.generate(tmp_path / "keys")
    tokens = {pid: secrets.token_urlsafe(24) for pid in ROLES}
    crashable = Crashable(tmp_path, store_url, tokens)
    try:
        yield crashable
    finally:
        crashable.stop()


@pytest.fixture
def store(server: Crashable) -> Iterator[Any]:
    """Opened lazily by the test, closed after it."""
    opened: list[Store] = []

    def get() -> Store:
        if not opened:
            opened.append(open_store(server.url))
        return opened[0]

    yield get
    for s in opened:
        s.close()


def consistent(store: Store, keys: Path) -> list[Any]:
    """Assert the store's invariants; return its audit events."""
    public = Keyset.load(keys).public_keyset()
    exported = keys.parent / "outside" / "checkpoints.jsonl"
    outside = read_checkpoints(exported)
    assert outside, "the server exports the checkpoints it signs"
    report = verify_extends(
        store, outside, lambda kid, d, s: public.verify("checkpoint", kid, d, s)
    )
    assert report.ok, report.problem
    events = list(store.iter_audit())

    def of(kind: str) -> list[dict[str, Any]]:
        return [dict(e.details) for e in events if e.kind == kind]

    issued = {e["jti"] for e in of("token_issue")}
    redeemed = {e["jti"] for e in of("token_redeem")}
    for jti in issued:
        token = store.get_token(jti)
        assert (token.redeemed_at is not None) == (jti in redeemed), jti
    glass_used = {
        e["break_glass_approval"] for e in of("token_issue") if "break_glass_approval" in e
    }
    approved = {e["verdict_id"]: e for e in of("approve") if e.get("outcome") == "approved"}
    for verdict_id, event in approved.items():
        store.get_verdict(verdict_id)  # the event's verdict exists
        approvals = store.list_approvals(verdict_id)
        assert {a.approval_id for a in approvals} == set(event["approval_ids"]), verdict_id
        for a in approvals:
            assert (a.consumed_at is not None) == (a.approval_id in glass_used), a
    return events


def _chain_has_no_orphan(store: Store, verdict_id: str) -> None:
    latest = store.latest_in_chain(verdict_id)
    assert latest.verdict_id == verdict_id, "a verdict was stored without its approval"


@pytest.mark.slow
@pytest.mark.parametrize(("content", "glass"), [(DROP, True), (TRUNCATE, True), (DROP, False)])
def test_crash_inside_approve(server: Crashable, store: Any, content: bytes, glass: bool) -> None:
    server.start(fault="approve:verdict-stored")
    first = server.check(content)
    assert first.decision == common_pb2.DECISION_NEEDS_APPROVAL
    with pytest.raises(grpc.RpcError) as info:
        server.approve(first.verdict_id, glass=glass)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    server.crashed()

    _chain_has_no_orphan(store(), first.verdict_id)
    consistent(store(), server.tmp / "keys")

    server.start()
    again = server.approve(first.verdict_id, glass=glass)
    runner = server.runner()
    if glass:
        assert again.decision == common_pb2.DECISION_ALLOW
        runner.issue_token(again.verdict_id, ENV, TARGET)
        with pytest.raises(CallRefused) as refused:
            runner.issue_token(again.verdict_id, ENV, TARGET)
        assert refused.value.reason == "break_glass_used"
    else:  # a destructive change: an ordinary approval does not make it executable
        assert again.decision == common_pb2.DECISION_NEEDS_APPROVAL
    runner.channel.close()
    events = consistent(store(), server.tmp / "keys")
    assert len([e for e in events if e.kind == "token_issue"]) == (1 if glass else 0)


@pytest.mark.slow
def test_crash_inside_token_issue(server: Crashable, store: Any) -> None:
    server.start(fault="issue:break-glass-consumed")
    first = server.check(DROP)
    glass = server.approve(first.verdict_id, glass=True)
    assert glass.decision == common_pb2.DECISION_ALLOW
    runner = server.runner()
    with pytest.raises(CallRefused) as info:
        runner.issue_token(glass.verdict_id, ENV, TARGET)
    assert info.value.code == grpc.StatusCode.UNAVAILABLE
    runner.channel.close()
    server.crashed()

    [approval] = [a for a in store().list_approvals(glass.verdict_id) if a.break_glass]
    assert approval.consumed_at is None, "break-glass consumed without a token or event"
    consistent(store(), server.tmp / "keys")

    server.start()
    runner = server.runner()
    runner.issue_token(glass.verdict_id, ENV, TARGET)
    with pytest.raises(CallRefused) as refused:
        runner.issue_token(glass.verdict_id, ENV, TARGET)
    assert refused.value.reason == "break_glass_used"
    runner.channel.close()
    consistent(store(), server.tmp / "keys")


def _allowed(server: Crashable) -> str:
    first = server.check(DROP)
    glass = server.approve(first.verdict_id, glass=True)
    assert glass.decision == common_pb2.DECISION_ALLOW
    return glass.verdict_id


@pytest.mark.slow
def test_crash_inside_redeem(server: Crashable, store: Any) -> None:
    server.start(fault="redeem:token-redeemed")
    verdict_id = _allowed(server)
    digests = dict(store().get_verdict(verdict_id).digests)
    runner = server.runner()
    issued = runner.issue_token(verdict_id, ENV, TARGET)
    with pytest.raises(CallRefused) as info:
        runner.redeem(issued.token, ENV, TARGET, digests)
    assert info.value.code == grpc.StatusCode.UNAVAILABLE
    runner.channel.close()
    server.crashed()

    token = store().get_token(issued.token_id)
    assert token.redeemed_at is None, "token consumed with no token_redeem event"
    consistent(store(), server.tmp / "keys")

    server.start()  # the runner's retry succeeds exactly once
    runner = server.runner()
    runner.redeem(issued.token, ENV, TARGET, digests)
    with pytest.raises(CallRefused) as replay:
        runner.redeem(issued.token, ENV, TARGET, digests)
    assert replay.value.reason == "replay"
    runner.channel.close()
    events = consistent(store(), server.tmp / "keys")
    assert len([e for e in events if e.kind == "token_redeem"]) == 1


@pytest.mark.slow
def test_crash_inside_report(server: Crashable, store: Any) -> None:
    server.start(fault="report:recorded")
    verdict_id = _allowed(server)
    digests = dict(store().get_verdict(verdict_id).digests)
    runner = server.runner()
    issued = runner.issue_token(verdict_id, ENV, TARGET)
    runner.redeem(issued.token, ENV, TARGET, digests)
    report = execution_pb2.ReportExecutionRequest(
        report_id=f"rep_{uuid.uuid4().hex}",
        token_id=issued.token_id,
        verdict_id=verdict_id,
        outcome=execution_pb2.EXECUTION_OUTCOME_SUCCEEDED,
    )
    with pytest.raises(CallRefused) as info:
        runner.report(report)
    assert info.value.code == grpc.StatusCode.UNAVAILABLE
    runner.channel.close()
    server.crashed()

    with pytest.raises(Exception, match="no execution report"):
        store().get_report(report.report_id)
    consistent(store(), server.tmp / "keys")

    server.start()
    runner = server.runner()
    sequence = runner.report(report)
    assert runner.report(report) == sequence  # a retry is the same event
    runner.channel.close()
    events = consistent(store(), server.tmp / "keys")
    [event] = [e for e in events if e.kind == "execution_report"]
    assert event.sequence == sequence
