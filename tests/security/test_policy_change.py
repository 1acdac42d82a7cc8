"""An approval cannot resurrect a verdict reviewed under a policy that is no longer loaded.

Finding: Approve re-issued the verdict from its stored findings and policy digest without
looking at the policy now in force, so after a policy rollout (e.g. a rule tightened to
deny) an approval of a pending verdict produced an ``allow`` computed under the old
policy, and the runner got a token for it. Approve now refuses (FAILED_PRECONDITION,
audited) when the verdict's policy digest differs from the loaded one: check again.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import grpc
import pytest
from serving import address_of, serving
from sqlgate.config import PolicyConfig, default_policies_dir
from sqlgate_client.channel import open_channel
from sqlgate_client.gen.sqlgate.v1 import (
    common_pb2,
    execution_pb2,
    execution_pb2_grpc,
    review_pb2,
    review_pb2_grpc,
)

from .conftest import SAFE, TYPE_CHANGE, Env, security_config


def test_approval_after_policy_change_is_refused(tmp_path: Path, store_url: str) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(default_policies_dir(), policies)
    config, tokens = security_config(tmp_path, store_url)
    config = dataclasses.replace(config, policies=PolicyConfig(dir=policies))
    with serving(config) as running, open_channel(address_of(running), tls=None) as ch:
        first = Env(running, tokens, ch).check("alice", TYPE_CHANGE)
        assert first.decision == common_pb2.DECISION_NEEDS_APPROVAL
        old_digest = running.engine.policy_digest
    main = next(policies.rglob("main.rego"))
    main.write_text(main.read_text() + "\n# rollout: tightened\n")
    with serving(config) as running, open_channel(address_of(running), tls=None) as ch:
        assert running.engine.policy_digest != old_digest
        env = Env(running, tokens, ch)
        stub = review_pb2_grpc.ReviewServiceStub(ch)
        before = len(env.events())
        with pytest.raises(grpc.RpcError) as info:
            stub.Approve(
                review_pb2.ApproveRequest(verdict_id=first.verdict_id, reason="ok"),
                timeout=60,
                metadata=env.meta("bob"),
            )
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "policy" in (info.value.details() or "")
        (event,) = env.events()[before:]
        assert (event.kind, event.details["outcome"]) == ("approve", "refused")
        # checking again under the new policy works, and that verdict can be approved
        again = env.check("alice", TYPE_CHANGE)
        approved = stub.Approve(
            review_pb2.ApproveRequest(verdict_id=again.verdict_id, reason="ok"),
            timeout=60,
            metadata=env.meta("bob"),
        )
        assert approved.decision == common_pb2.DECISION_ALLOW


def test_token_for_a_verdict_decided_under_an_older_policy_is_refused(
    tmp_path: Path, store_url: str
) -> None:
    """An allow verdict is not executed once the policy that decided it is replaced."""
    policies = tmp_path / "policies"
    shutil.copytree(default_policies_dir(), policies)
    config, tokens = security_config(tmp_path, store_url)
    config = dataclasses.replace(config, policies=PolicyConfig(dir=policies))
    request = execution_pb2.IssueExecutionTokenRequest(environment="production", target="main-db")
    with serving(config) as running, open_channel(address_of(running), tls=None) as ch:
        env = Env(running, tokens, ch)
        allowed = env.check("alice", SAFE)
        assert allowed.decision == common_pb2.DECISION_ALLOW
        request.verdict_id = allowed.verdict_id
        stub = execution_pb2_grpc.ExecutionServiceStub(ch)
        # under the policy that decided it, the verdict is executable
        assert stub.IssueExecutionToken(request, timeout=60, metadata=env.meta("rita")).token
    main = next(policies.rglob("main.rego"))
    main.write_text(main.read_text() + "\n# rollout: tightened\n")
    with serving(config) as running, open_channel(address_of(running), tls=None) as ch:
        env = Env(running, tokens, ch)
        stub = execution_pb2_grpc.ExecutionServiceStub(ch)
        before = len(env.events())
        with pytest.raises(grpc.RpcError) as info:
            stub.IssueExecutionToken(request, timeout=60, metadata=env.meta("rita"))
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "check again" in (info.value.details() or "")
        (event,) = env.events()[before:]
        assert event.kind == "token_issue_failed"
        assert event.details["reason"] == "policy_changed"
