"""Privileged statements need a security approver, end to end through a real server.

A real server on 127.0.0.1 (SQLite and PostgreSQL, conftest's ``store_url``) with the
Rego policies: a GRANT is ``needs_approval`` with a ``privileged-grant`` finding naming
``approver_role`` = ``security``; an ordinary approver does not satisfy it (the response
says the security approval is missing); a principal holding ``security`` does, and the
allowed verdict buys an execution token; an author who holds ``security`` may not
approve their own change.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from serving import serving_with_channel
from sqlgate.auth.identities import hash_token, new_token
from sqlgate.config import PrincipalConfig
from sqlgate.rpc.server import RunningServer
from sqlgate_client.convert import response_to_dict
from sqlgate_client.gen.sqlgate.v1 import (
    common_pb2,
    execution_pb2,
    execution_pb2_grpc,
    review_pb2,
    review_pb2_grpc,
)
from sqlgate_client.render.text import render

from .conftest import trust_config

GRANT = b"GRANT SELECT ON orders TO reporting;\n"
ALLOW, NEEDS = common_pb2.DECISION_ALLOW, common_pb2.DECISION_NEEDS_APPROVAL
TARGET = "main-db"
EXTRA: dict[str, dict[str, tuple[str, ...]]] = {
    "sec-sam": {"security": ("production",)},
    "sec-staging": {"security": ("staging",)},
    "sue": {"author": ("production",), "security": ("production",)},
    "vic": {"approver": ("production",), "security": ("production",)},
    "rita": {"runner": ("*",)},
}


@dataclasses.dataclass
class Gate:
    running: RunningServer
    channel: grpc.Channel
    tokens: dict[str, str]

    def stub(self) -> review_pb2_grpc.ReviewServiceStub:
        return review_pb2_grpc.ReviewServiceStub(self.channel)

    def meta(self, who: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[who]}"),)

    def check(self, who: str = "alice", content: bytes = GRANT) -> review_pb2.CheckResponse:
        request = review_pb2.CheckRequest(
            environment="production",
            target=TARGET,
            dialect=common_pb2.DIALECT_POSTGRES,
            migrations=[review_pb2.Migration(path="db/V1__grant.sql", content=content)],
        )
        return self.stub().Check(request, timeout=60, metadata=self.meta(who))

    def approve(self, who: str, verdict_id: str) -> review_pb2.ApproveResponse:
        request = review_pb2.ApproveRequest(verdict_id=verdict_id, reason=f"reviewed by {who}")
        return self.stub().Approve(request, timeout=60, metadata=self.meta(who))

    def token(self, verdict_id: str) -> execution_pb2.IssueExecutionTokenResponse:
        request = execution_pb2.IssueExecutionTokenRequest(
            verdict_id=verdict_id, environment="production", target=TARGET
        )
        stub = execution_pb2_grpc.ExecutionServiceStub(self.channel)
        return stub.IssueExecutionToken(request, timeout=60, metadata=self.meta("rita"))


@pytest.fixture
def gate(tmp_path: Path, store_url: str) -> Iterator[Gate]:
    config, tokens = trust_config(tmp_path, store_url)
    extra = []
    for pid, roles in EXTRA.items():
        tokens[pid] = new_token()
        extra.append(PrincipalConfig(id=pid, tokens=(hash_token(tokens[pid]),), roles=roles))
    config = dataclasses.replace(config, principals=(*config.principals, *extra))
    with serving_with_channel(config) as (running, channel):
        yield Gate(running, channel, tokens)


def predicate(envelope: bytes) -> dict[str, Any]:
    """The verdict predicate inside a DSSE envelope (signature checked elsewhere)."""
    import base64

    payload = json.loads(base64.b64decode(json.loads(envelope)["payload"]))
    return dict(payload["predicate"])


def test_grant_needs_a_security_approver(gate: Gate) -> None:
    checked = gate.check()
    assert checked.decision == NEEDS
    grants = [f for f in checked.findings if f.rule == "privileged-grant"]
    assert [f.approver_role for f in grants] == ["security"]
    # Carried into the signed verdict and into the client's JSON and text.
    signed = predicate(checked.verdict)["findings"]
    assert [f.get("approver_role") for f in signed if f["rule"] == "privileged-grant"] == [
        "security"
    ]
    as_json = response_to_dict(checked)
    assert [f["approver_role"] for f in as_json["findings"] if "approver_role" in f] == ["security"]
    assert "  needs approval by: security" in render(as_json, {}).splitlines()

    by_approver = gate.approve("bob", checked.verdict_id)
    assert by_approver.decision == NEEDS
    assert any(
        m.startswith("privileged-grant: security approval missing") for m in by_approver.missing
    ), list(by_approver.missing)

    by_security = gate.approve("sec-sam", by_approver.verdict_id)
    assert by_security.decision == ALLOW, list(by_security.missing)
    assert list(by_security.missing) == []
    roles = [(a["principal"], a["role"]) for a in predicate(by_security.verdict)["approvals"]]
    assert roles == [("bob", "approver"), ("sec-sam", "security")]
    issued = gate.token(by_security.verdict_id)
    assert issued.token


def test_security_alone_is_enough_for_a_grant(gate: Gate) -> None:
    checked = gate.check()
    approved = gate.approve("sec-sam", checked.verdict_id)
    assert approved.decision == ALLOW, list(approved.missing)


def test_security_in_another_environment_may_not_approve(gate: Gate) -> None:
    checked = gate.check()
    with pytest.raises(grpc.RpcError) as info:
        gate.approve("sec-staging", checked.verdict_id)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_author_holding_security_cannot_self_approve(gate: Gate) -> None:
    checked = gate.check("sue")
    assert checked.decision == NEEDS
    with pytest.raises(grpc.RpcError) as info:
        gate.approve("sue", checked.verdict_id)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "author" in (info.value.details() or "")
    # An ordinary approver still leaves the security approval missing.
    after = gate.approve("bob", checked.verdict_id)
    assert after.decision == NEEDS
    assert any("security approval missing" in m for m in after.missing)


def test_a_principal_holding_both_roles_counts_as_both(gate: Gate) -> None:
    both = GRANT + b"ALTER TABLE orders ALTER COLUMN amount TYPE numeric(20,2);\n"
    checked = gate.check(content=both)
    rules = {
        f.rule: f.approver_role for f in checked.findings if f.level == common_pb2.LEVEL_APPROVAL
    }
    assert rules.get("privileged-grant") == "security"
    assert any(role == "" for role in rules.values()), rules  # an ordinary approval finding
    approved = gate.approve("vic", checked.verdict_id)
    assert approved.decision == ALLOW, list(approved.missing)
    roles = sorted(a["role"] for a in predicate(approved.verdict)["approvals"])
    assert roles == ["approver", "security"]
