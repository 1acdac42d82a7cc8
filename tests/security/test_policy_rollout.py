"""Policy rollouts across replicas and hot reloads (sqlgate.policy.rollout, .reload).

Two replicas share one store (SQLite file and PostgreSQL) and run different policy
versions at the same time, as during a rollout. A verdict decided by the newer policy is
honoured by the replica still on the older one (approve, token); a verdict of the older
policy is refused by the newer one unless the newer declares
``keeps_earlier_verdicts: true``; a policy no replica ever loaded is refused. Hot reloads
(App.reload_policy, the code SIGHUP runs) move a replica forward without a restart; a
broken policy is rejected and audited while the old one keeps serving.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import grpc
import pytest
from prometheus_client import REGISTRY
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


def _tree(tmp: Path, name: str, *, keeps: bool = False, marker: str = "") -> Path:
    root = tmp / name
    shutil.copytree(default_policies_dir(), root)
    (root / "data" / "rollout.yaml").write_text(f"keeps_earlier_verdicts: {str(keeps).lower()}\n")
    main = root / "main.rego"
    main.write_text(main.read_text() + f"\n# release {name}{marker}\n")
    return root


def _approve(env: Env, verdict_id: str) -> review_pb2.ApproveResponse:
    stub = review_pb2_grpc.ReviewServiceStub(env.channel)
    return stub.Approve(
        review_pb2.ApproveRequest(verdict_id=verdict_id, reason="reviewed"),
        timeout=60,
        metadata=env.meta("bob"),
    )


def _token(env: Env, verdict_id: str) -> str:
    stub = execution_pb2_grpc.ExecutionServiceStub(env.channel)
    request = execution_pb2.IssueExecutionTokenRequest(
        verdict_id=verdict_id, environment="production", target="main-db"
    )
    return str(stub.IssueExecutionToken(request, timeout=60, metadata=env.meta("rita")).token)


def test_two_replicas_during_a_rollout(tmp_path: Path, store_url: str) -> None:
    config, tokens = security_config(tmp_path, store_url)
    v1, v2 = _tree(tmp_path, "v1"), _tree(tmp_path, "v2")
    old = dataclasses.replace(config, policies=PolicyConfig(dir=v1, isolation="thread"))
    new = dataclasses.replace(config, policies=PolicyConfig(dir=v2, isolation="thread"))
    with (
        serving(old) as running_old,
        open_channel(address_of(running_old), tls=None) as ch_old,
    ):
        behind = Env(running_old, tokens, ch_old)
        pending_v1 = behind.check("alice", TYPE_CHANGE)
        allowed_v1 = behind.check("alice", SAFE)
        with (
            serving(new) as running_new,
            open_channel(address_of(running_new), tls=None) as ch_new,
        ):
            ahead = Env(running_new, tokens, ch_new)
            assert running_new.engine.policy_digest != running_old.engine.policy_digest
            # Decided by the newer policy, approved and executed on the replica behind.
            pending_v2 = ahead.check("alice", TYPE_CHANGE)
            assert pending_v2.decision == common_pb2.DECISION_NEEDS_APPROVAL
            approved = _approve(behind, pending_v2.verdict_id)
            assert approved.decision == common_pb2.DECISION_ALLOW
            assert _token(behind, approved.verdict_id)
            allowed_v2 = ahead.check("alice", SAFE)
            assert _token(behind, allowed_v2.verdict_id)
            # Decided by the older policy: the newer one (keeps_earlier_verdicts false)
            # refuses both the approval and the token, and says why.
            with pytest.raises(grpc.RpcError) as info:
                _approve(ahead, pending_v1.verdict_id)
            assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "keeps_earlier_verdicts" in (info.value.details() or "")
            with pytest.raises(grpc.RpcError) as info:
                _token(ahead, allowed_v1.verdict_id)
            assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            # The replica behind catches up without a restart; v1 verdicts now refused there.
            _point_at(running_old, v2)
            outcome = running_old.app.reload_policy("test")
            assert outcome is not None and outcome.status == "loaded"
            assert running_old.engine.policy_digest == running_new.engine.policy_digest
            with pytest.raises(grpc.RpcError) as info:
                _token(behind, allowed_v1.verdict_id)
            assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            # A release that keeps earlier verdicts: v2 verdicts stay valid under v3.
            v3 = _tree(tmp_path, "v3", keeps=True)
            _point_at(running_new, v3)
            assert running_new.app.reload_policy("test").status == "loaded"  # type: ignore[union-attr]
            assert _token(ahead, allowed_v2.verdict_id)
            # ... but not v1's: v2, loaded between, did not keep them.
            with pytest.raises(grpc.RpcError):
                _token(ahead, allowed_v1.verdict_id)
            loads = [e for e in ahead.events() if e.kind == "policy_load"]
            # start-up of both replicas, the reload behind, the v3 reload ahead
            assert [e.details.get("outcome") for e in loads] == ["loaded"] * 4


def _point_at(running: object, tree: Path) -> None:
    """Re-point a running replica's policy source at `tree` (a deploy replacing files)."""
    engine = running.app.engine  # type: ignore[attr-defined]
    engine._source.dir = tree


def test_broken_policies_are_rejected_and_the_old_keeps_serving(
    tmp_path: Path, store_url: str
) -> None:
    config, tokens = security_config(tmp_path, store_url)
    tree = _tree(tmp_path, "live")
    config = dataclasses.replace(config, policies=PolicyConfig(dir=tree, isolation="thread"))
    with serving(config) as running, open_channel(address_of(running), tls=None) as ch:
        env = Env(running, tokens, ch)
        digest = running.engine.policy_digest
        main = tree / "main.rego"
        good = main.read_text()
        test_file = tree / "main_test.rego"
        cases = {
            "does not compile": lambda: main.write_text(good + "\nthis is not rego\n"),
            "fails its own tests": lambda: (
                main.write_text(good + "\n# next release\n"),
                test_file.write_text(test_file.read_text() + "\ntest_release_gate if false\n"),
            ),
            "unknown level data": lambda: (tree / "data" / "levels.yaml").write_text(": : :\n"),
        }
        saved = {p: p.read_bytes() for p in (main, test_file, tree / "data" / "levels.yaml")}
        rejected = {"outcome": "rejected", "reason": "sighup"}
        rejected_before = REGISTRY.get_sample_value("sqlgate_policy_reloads_total", rejected) or 0
        for what, breaks in cases.items():
            breaks()
            before = len(env.events())
            outcome = running.app.reload_policy("sighup")
            assert outcome is not None and outcome.status == "rejected", what
            assert running.engine.policy_digest == digest, what
            (event,) = env.events()[before:]
            assert event.kind == "policy_load"
            assert event.details["outcome"] == "rejected"
            assert event.details["policy_digest"] == digest
            assert event.details["error"]
            # Still serving, under the old policy.
            checked = env.check("alice", SAFE)
            assert checked.decision == common_pb2.DECISION_ALLOW
            for path, raw in saved.items():
                path.write_bytes(raw)
        assert running.app.reload_policy("sighup").status == "unchanged"  # type: ignore[union-attr]
        # The metrics: three rejected reloads, and the revision served is still the old one.
        rejected_after = REGISTRY.get_sample_value("sqlgate_policy_reloads_total", rejected)
        assert rejected_after == rejected_before + 3
        revision = REGISTRY.get_sample_value("sqlgate_policy_revision_info", {"digest": digest})
        assert revision == 1
        # A good edit is adopted and the revision metric moves to it.
        main.write_text(good + "\n# next good release\n")
        assert running.app.reload_policy("sighup").status == "loaded"  # type: ignore[union-attr]
        new = running.engine.policy_digest
        assert REGISTRY.get_sample_value("sqlgate_policy_revision_info", {"digest": new}) == 1
        assert REGISTRY.get_sample_value("sqlgate_policy_revision_info", {"digest": digest}) is None
