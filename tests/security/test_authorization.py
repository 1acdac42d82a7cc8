"""Authorization per role and environment on a real server (SQLite and PostgreSQL).

Findings covered here: an auditor scoped to one environment could read verdicts of every
environment (GetVerdict accepted ``auditor`` held *anywhere*); a ``ci`` principal could
attribute a check to any principal named in the config, even one holding no role in that
environment (a staging runner or auditor, a principal with no roles), which lets the
real author approve their own change.
"""

from __future__ import annotations

import hashlib

import grpc
import pytest
from sqlgate_client.gen.sqlgate.v1 import (
    common_pb2,
    execution_pb2,
    execution_pb2_grpc,
    review_pb2,
    review_pb2_grpc,
)

from .conftest import SAFE, TYPE_CHANGE, Env


def _code(call: object) -> tuple[grpc.StatusCode, str]:
    assert callable(call)
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value.code(), info.value.details() or ""


def _get(env: Env, who: str, verdict_id: str) -> review_pb2.GetVerdictResponse:
    stub = review_pb2_grpc.ReviewServiceStub(env.channel)
    request = review_pb2.GetVerdictRequest(verdict_id=verdict_id)
    return stub.GetVerdict(request, timeout=30, metadata=env.meta(who))


def test_auditor_of_one_environment_cannot_read_another_environments_verdict(
    env: Env,
) -> None:
    prod = env.check("alice", environment="production").verdict_id
    stg = env.check("alice", environment="staging").verdict_id
    assert _get(env, "aud-stg", stg).verdict_id == stg
    assert _get(env, "audrey", prod).verdict_id == prod  # auditor for "*"
    code, details = _code(lambda: _get(env, "aud-stg", prod))
    assert code == grpc.StatusCode.PERMISSION_DENIED, details
    last = env.events()[-1]
    assert (last.kind, last.principal, last.details["environment"]) == (
        "auth_failed",
        "aud-stg",
        "production",
    )
    code, _ = _code(lambda: _get(env, "nobody", stg))
    assert code == grpc.StatusCode.PERMISSION_DENIED


def test_ci_cannot_attribute_a_check_to_a_principal_who_is_no_author_there(env: Env) -> None:
    # A check attributed to a principal with no part in production would let the real
    # author (whoever pushed), if an approver there, approve as a "non-author".
    for pretend in ("nobody", "aud-stg", "stan", "ci-stg", "ghost"):
        before = len(env.events())
        code, details = _code(lambda p=pretend: env.check("ci-bot", TYPE_CHANGE, author=p))
        assert code == grpc.StatusCode.PERMISSION_DENIED, (pretend, details)
        assert pretend in details
        kinds = [e.kind for e in env.events()[before:]]
        assert kinds == ["auth_failed"]
    # a real author is fine, and the verdict names them
    ok = env.check("ci-bot", TYPE_CHANGE, author="alice")
    assert ok.decision == common_pb2.DECISION_NEEDS_APPROVAL
    assert env.events()[-1].details.get("author", "alice") == "alice"


def test_ci_scoped_to_staging_cannot_check_production_on_behalf(env: Env) -> None:
    code, _ = _code(lambda: env.check("ci-stg", author="alice", environment="production"))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert env.check("ci-stg", author="alice", environment="staging").verdict_id


def test_approver_outside_the_verdicts_environment_is_refused(env: Env) -> None:
    verdict = env.check("alice", TYPE_CHANGE, environment="production").verdict_id
    stub = review_pb2_grpc.ReviewServiceStub(env.channel)
    for who in ("nobody", "aud-stg", "ci-bot", "rita"):
        code, _ = _code(
            lambda w=who: stub.Approve(
                review_pb2.ApproveRequest(verdict_id=verdict, reason="ok"),
                timeout=30,
                metadata=env.meta(w),
            )
        )
        assert code == grpc.StatusCode.PERMISSION_DENIED


def test_staging_runner_cannot_issue_or_redeem_a_production_token(env: Env) -> None:
    response = env.check("alice", SAFE, environment="production")
    assert response.decision == common_pb2.DECISION_ALLOW
    stub = execution_pb2_grpc.ExecutionServiceStub(env.channel)

    def issue(who: str, environment: str) -> execution_pb2.IssueExecutionTokenResponse:
        request = execution_pb2.IssueExecutionTokenRequest(
            verdict_id=response.verdict_id, environment=environment, target="main-db"
        )
        return stub.IssueExecutionToken(request, timeout=30, metadata=env.meta(who))

    assert _code(lambda: issue("stan", "production"))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert _code(lambda: issue("stan", "staging"))[0] == grpc.StatusCode.PERMISSION_DENIED
    token = issue("rita", "production").token
    digest = hashlib.sha256(SAFE).hexdigest()

    def redeem(who: str, environment: str) -> execution_pb2.RedeemTokenResponse:
        request = execution_pb2.RedeemTokenRequest(
            token=token,
            environment=environment,
            target="main-db",
            digests=[common_pb2.FileDigest(path="db/V1__x.sql", sha256=digest)],
        )
        return stub.RedeemToken(request, timeout=30, metadata=env.meta(who))

    code, details = _code(lambda: redeem("stan", "production"))
    assert (code, details.split(":")[0]) == (grpc.StatusCode.PERMISSION_DENIED, "not_runner")
    code, details = _code(lambda: redeem("stan", "staging"))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert details.split(":")[0] in {"environment_mismatch", "runner_mismatch"}
    assert redeem("rita", "production").verdict_id == response.verdict_id
