"""``approvals.environments.<env>.always``: a human approval before any token there, even
when the policy allows — on a real server (SQLite and PostgreSQL stores).

A clean migration is ``allow`` in staging and ``needs_approval`` in production with one
``approval-required-by-environment`` finding saying "needs: approval"; no token until a
non-author approver approves; the author cannot approve it; a migration the policy
already sends to approval still needs the approver (not only break-glass for a gate);
a deny stays a deny. The config key parses from YAML and is type-checked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from serving import serving_with_channel
from sqlgate.config import EnvironmentRules, config_from_mapping
from sqlgate.errors import ConfigError
from sqlgate.promotion import ALWAYS_RULE
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

CLEAN = b"CREATE TABLE audit_log (id bigint PRIMARY KEY, note text);\n"
ALLOW = common_pb2.DECISION_ALLOW
NEEDS = common_pb2.DECISION_NEEDS_APPROVAL
DENY = common_pb2.DECISION_DENY


@dataclasses.dataclass
class Gate:
    channel: grpc.Channel
    tokens: dict[str, str]

    def meta(self, who: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[who]}"),)

    def check(self, env: str, content: bytes = CLEAN) -> review_pb2.CheckResponse:
        request = review_pb2.CheckRequest(
            environment=env,
            target="main-db",
            dialect=common_pb2.DIALECT_POSTGRES,
            migrations=[review_pb2.Migration(path="db/V1__x.sql", content=content)],
        )
        stub = review_pb2_grpc.ReviewServiceStub(self.channel)
        return stub.Check(request, timeout=60, metadata=self.meta("alice"))

    def approve(self, who: str, verdict_id: str) -> review_pb2.ApproveResponse:
        stub = review_pb2_grpc.ReviewServiceStub(self.channel)
        request = review_pb2.ApproveRequest(verdict_id=verdict_id, reason="looked at it")
        return stub.Approve(request, timeout=60, metadata=self.meta(who))

    def token(self, verdict_id: str, env: str) -> execution_pb2.IssueExecutionTokenResponse:
        stub = execution_pb2_grpc.ExecutionServiceStub(self.channel)
        request = execution_pb2.IssueExecutionTokenRequest(
            verdict_id=verdict_id, environment=env, target="main-db"
        )
        return stub.IssueExecutionToken(request, timeout=60, metadata=self.meta("rita"))


@pytest.fixture
def gate(tmp_path: Path, store_url: str) -> Iterator[Gate]:
    from sqlgate.auth.identities import hash_token, new_token
    from sqlgate.config import PrincipalConfig

    config, tokens = trust_config(tmp_path, store_url)
    envs = dict(config.approvals.environments)
    envs["production"] = EnvironmentRules(approvers=1, always=True)
    tokens["rita"] = new_token()
    rita = PrincipalConfig(
        id="rita", tokens=(hash_token(tokens["rita"]),), roles={"runner": ("*",)}
    )
    config = dataclasses.replace(
        config,
        approvals=dataclasses.replace(config.approvals, environments=envs),
        principals=(*config.principals, rita),
    )
    with serving_with_channel(config) as (_running, channel):
        yield Gate(channel, tokens)


def test_clean_migration_needs_a_human_in_production_only(gate: Gate) -> None:
    staging = gate.check("staging")
    assert staging.decision == ALLOW and not [f for f in staging.findings if f.rule == ALWAYS_RULE]
    assert gate.token(staging.verdict_id, "staging").token

    production = gate.check("production")
    assert production.decision == NEEDS
    [finding] = [f for f in production.findings if f.rule == ALWAYS_RULE]
    assert finding.level == common_pb2.LEVEL_APPROVAL
    assert finding.message.startswith("needs: approval")
    assert "approvals.environments.production.always" in finding.message
    assert "needs: approval" in render(response_to_dict(production), {})
    with pytest.raises(grpc.RpcError) as refused:
        gate.token(production.verdict_id, "production")
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    with pytest.raises(grpc.RpcError) as own:
        gate.approve("alice", production.verdict_id)  # the author holds no approver role
    assert own.value.code() == grpc.StatusCode.PERMISSION_DENIED

    approved = gate.approve("bob", production.verdict_id)
    assert approved.decision == ALLOW, list(approved.missing)
    assert gate.token(approved.verdict_id, "production").token


def test_policy_approval_and_deny_keep_their_meaning(gate: Gate) -> None:
    # The policy already asks for approval (a destructive gate): the environment's
    # finding is added; the approver satisfies it, the gate still wants break-glass.
    drop = gate.check("production", b"DROP TABLE accounts;\n")
    assert drop.decision == NEEDS
    assert {"drop-table", ALWAYS_RULE} <= {f.rule for f in drop.findings}
    approved = gate.approve("bob", drop.verdict_id)
    assert approved.decision == NEEDS
    assert [m for m in approved.missing if m.startswith("drop-table")]
    assert not [m for m in approved.missing if ALWAYS_RULE in m]
    # A deny stays a deny (the finding is listed, the decision is not softened).
    denied = gate.check(
        "production", b"-- sqlgate:meta\n-- environments: [dev]\nCREATE TABLE x (id int);\n"
    )
    assert denied.decision == DENY
    assert {"environment-not-allowed", ALWAYS_RULE} <= {f.rule for f in denied.findings}


def test_always_parses_from_config_and_is_type_checked() -> None:
    raw = {"approvals": {"environments": {"production": {"always": True, "approvers": 2}}}}
    rules = config_from_mapping(raw).approvals.for_environment("production")
    assert rules.always is True and rules.approvers == 2
    assert config_from_mapping({}).approvals.for_environment("production").always is False
    with pytest.raises(ConfigError, match="always"):
        config_from_mapping({"approvals": {"environments": {"production": {"always": "yes"}}}})
