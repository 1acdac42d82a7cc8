"""``sqlgate.v1.ExecutionService``: issue, redeem and report, over ``sqlgate.execution``.

Only translation happens here. Refusals carry a reason code; this table maps each to a
status code (the message always says why, and the refusal is already in the audit log):

=====================  ===================  ==========================================
reason                 status               when
=====================  ===================  ==========================================
bad_request            INVALID_ARGUMENT     empty field, unknown outcome, bad digest
digest_mismatch        INVALID_ARGUMENT     the runner's bytes are not the reviewed ones
not_runner             PERMISSION_DENIED    caller lacks ``runner`` in the environment
environment_mismatch   PERMISSION_DENIED    verdict/token is for another environment
target_mismatch        PERMISSION_DENIED    verdict/token is for another target
runner_mismatch        PERMISSION_DENIED    token issued to another runner
bad_signature          UNAUTHENTICATED      forged, bit-flipped, malformed token/footer
bad_key                UNAUTHENTICATED      unknown, revoked or non-token key id
invalid_claims         UNAUTHENTICATED      missing/extra/malformed claim, ttl > 15 min
unknown_token          UNAUTHENTICATED      validly signed, but never issued (no jti row)
replay                 FAILED_PRECONDITION  token already redeemed
already_executed       FAILED_PRECONDITION  another token of the verdict already ran
token_expired          FAILED_PRECONDITION  exp passed or nbf not reached
verdict_superseded     FAILED_PRECONDITION  a newer verdict supersedes it
verdict_not_allowed    FAILED_PRECONDITION  deny or needs_approval
verdict_expired        FAILED_PRECONDITION  verdict past its expiry
verdict_invalid        FAILED_PRECONDITION  stored verdict does not verify / disagrees
break_glass_used       FAILED_PRECONDITION  the allow's break-glass already gave a token
break_glass_expired    FAILED_PRECONDITION  the allow's break-glass approval expired
not_redeemed           FAILED_PRECONDITION  report for a token this runner did not redeem
no_signing_key         FAILED_PRECONDITION  the server has no active token key
verdict_not_found      NOT_FOUND            no such verdict
token_not_found        NOT_FOUND            report for an unknown token id
report_conflict        ALREADY_EXISTS       another report under the same report_id
=====================  ===================  ==========================================

Unauthenticated callers never get here (the auth interceptor refuses them); anything
unexpected is INTERNAL, logged with its traceback, never an allow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Final, NoReturn, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from sqlgate_client.gen.sqlgate.v1 import execution_pb2, execution_pb2_grpc
from sqlgate_client.trust.tokens import MAX_TTL_S

from sqlgate.app import App
from sqlgate.audit.chain import rfc3339
from sqlgate.audit.export import checkpoint_proto
from sqlgate.auth.principal import Principal, current_principal
from sqlgate.errors import ConfigError, ExecutionRefused, Unauthenticated
from sqlgate.evidence import Rehearsals
from sqlgate.execution import REASONS, Execution
from sqlgate.filenames import file_name_problem
from sqlgate.observe.metrics import token_event
from sqlgate.rpc.status import short

log = logging.getLogger(__name__)

_T = TypeVar("_T")

STATUS: Final[dict[str, grpc.StatusCode]] = {
    "bad_request": grpc.StatusCode.INVALID_ARGUMENT,
    "digest_mismatch": grpc.StatusCode.INVALID_ARGUMENT,
    "not_runner": grpc.StatusCode.PERMISSION_DENIED,
    "environment_mismatch": grpc.StatusCode.PERMISSION_DENIED,
    "target_mismatch": grpc.StatusCode.PERMISSION_DENIED,
    "runner_mismatch": grpc.StatusCode.PERMISSION_DENIED,
    "bad_signature": grpc.StatusCode.UNAUTHENTICATED,
    "bad_key": grpc.StatusCode.UNAUTHENTICATED,
    "invalid_claims": grpc.StatusCode.UNAUTHENTICATED,
    "unknown_token": grpc.StatusCode.UNAUTHENTICATED,
    "replay": grpc.StatusCode.FAILED_PRECONDITION,
    "already_executed": grpc.StatusCode.FAILED_PRECONDITION,
    "token_expired": grpc.StatusCode.FAILED_PRECONDITION,
    "verdict_superseded": grpc.StatusCode.FAILED_PRECONDITION,
    "verdict_not_allowed": grpc.StatusCode.FAILED_PRECONDITION,
    "verdict_expired": grpc.StatusCode.FAILED_PRECONDITION,
    "policy_changed": grpc.StatusCode.FAILED_PRECONDITION,
    "verdict_invalid": grpc.StatusCode.FAILED_PRECONDITION,
    "break_glass_used": grpc.StatusCode.FAILED_PRECONDITION,
    "break_glass_expired": grpc.StatusCode.FAILED_PRECONDITION,
    "not_redeemed": grpc.StatusCode.FAILED_PRECONDITION,
    "no_signing_key": grpc.StatusCode.FAILED_PRECONDITION,
    "verdict_not_found": grpc.StatusCode.NOT_FOUND,
    "token_not_found": grpc.StatusCode.NOT_FOUND,
    "report_conflict": grpc.StatusCode.ALREADY_EXISTS,
}
assert set(STATUS) == set(REASONS), "every refusal reason needs a status code"

_OUTCOMES: Final = {
    execution_pb2.EXECUTION_OUTCOME_SUCCEEDED: "succeeded",
    execution_pb2.EXECUTION_OUTCOME_FAILED: "failed",
    execution_pb2.EXECUTION_OUTCOME_SKIPPED: "skipped",
    execution_pb2.EXECUTION_OUTCOME_ABORTED: "aborted",
}


def execution_for(app: App) -> Execution:
    """The use cases wired to the app's store, keys, audit log, roles and clock."""
    ttl_s = app.config.token_ttl_s
    if not 0 < ttl_s <= MAX_TTL_S:
        raise ConfigError(f"token_ttl_s must be between 1 and {MAX_TTL_S}, got {ttl_s}")
    return Execution(
        app.store,
        app.keyset,
        app.audit,
        lambda principal, role, env: app.roles.holds(principal.id, role, env),
        ttl_s=ttl_s,
        clock=app.clock,
        approvals=app.config.approvals,
        policy_digest=lambda: app.engine.policy_digest,
        policy_refusal=app.policy_refusal,
    )


TOKEN_CALLS = ("IssueExecutionToken", "RedeemToken")


@contextmanager
def _mapped(context: grpc.ServicerContext, what: str) -> Iterator[None]:
    try:
        yield
    except ExecutionRefused as exc:
        if what in TOKEN_CALLS:
            token_event("refused", exc.reason)
        code = STATUS.get(exc.reason, grpc.StatusCode.INTERNAL)
        context.abort(code, short(f"{exc.reason}: {exc}"))
    except Unauthenticated as exc:
        context.abort(grpc.StatusCode.UNAUTHENTICATED, short(str(exc)))
    except Exception:
        log.exception("%s failed unexpectedly", what)
        context.abort(grpc.StatusCode.INTERNAL, f"internal error during {what} (logged)")


def _timestamp(moment: object) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)  # type: ignore[arg-type]
    return stamp


def _caller(context: grpc.ServicerContext) -> Principal:
    try:
        return current_principal()
    except Unauthenticated as exc:
        _abort(context, grpc.StatusCode.UNAUTHENTICATED, str(exc))


def _abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    context.abort(code, message)
    raise AssertionError("unreachable")  # pragma: no cover - abort raises


def _run(context: grpc.ServicerContext, what: str, call: Callable[[], _T]) -> _T:
    with _mapped(context, what):
        return call()
    raise AssertionError("unreachable")  # pragma: no cover - abort raises


class ExecutionService(execution_pb2_grpc.ExecutionServiceServicer):
    """Thin translation over one ``Execution`` shared by all calls."""

    def __init__(self, execution: Execution) -> None:
        self._execution = execution
        self._rehearsals = Rehearsals(execution)

    def IssueExecutionToken(
        self, request: execution_pb2.IssueExecutionTokenRequest, context: grpc.ServicerContext
    ) -> execution_pb2.IssueExecutionTokenResponse:
        principal = _caller(context)
        issued = _run(
            context,
            "IssueExecutionToken",
            lambda: self._execution.issue_token(
                request.verdict_id, request.environment, request.target, principal
            ),
        )
        token_event("issued")
        return execution_pb2.IssueExecutionTokenResponse(
            token=issued.token, token_id=issued.jti, expires_at=_timestamp(issued.exp)
        )

    def RedeemToken(
        self, request: execution_pb2.RedeemTokenRequest, context: grpc.ServicerContext
    ) -> execution_pb2.RedeemTokenResponse:
        principal = _caller(context)
        digests: dict[str, str] = {}
        for item in request.digests:
            if not item.path or item.path in digests:
                _abort(
                    context,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"bad_request: empty or duplicate digest path {item.path!r}",
                )
            problem = file_name_problem(item.path)
            if problem is not None:
                _abort(
                    context,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"bad_request: digest path {item.path[:200]!r} {problem}",
                )
            digests[item.path] = item.sha256
        done = _run(
            context,
            "RedeemToken",
            lambda: self._execution.redeem(
                request.token, request.environment, request.target, digests, principal
            ),
        )
        token_event("redeemed")
        return execution_pb2.RedeemTokenResponse(
            token_id=done.token_id,
            verdict_id=done.verdict_id,
            redeemed_at=_timestamp(done.redeemed_at),
        )

    def ReportExecution(
        self, request: execution_pb2.ReportExecutionRequest, context: grpc.ServicerContext
    ) -> execution_pb2.ReportExecutionResponse:
        principal = _caller(context)
        for reported in request.statements:
            # Only names that passed Check and RedeemToken can be reported.
            problem = file_name_problem(reported.file) if reported.file else None
            if problem is not None:
                _abort(
                    context,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"bad_request: reported file {reported.file[:200]!r} {problem}",
                )
        details = {
            "error": request.error,
            "started_at": (
                rfc3339(request.started_at.ToDatetime(UTC))
                if request.HasField("started_at")
                else None
            ),
            "finished_at": (
                rfc3339(request.finished_at.ToDatetime(UTC))
                if request.HasField("finished_at")
                else None
            ),
            "statements": [
                {
                    "file": s.file,
                    "index": s.index,
                    "line": s.line,
                    "duration_ms": s.duration_ms,
                    "rows_affected": s.rows_affected,
                    "outcome": _OUTCOMES.get(s.outcome, "unspecified"),
                    "error": s.error,
                }
                for s in request.statements
            ],
        }
        result = _run(
            context,
            "ReportExecution",
            lambda: self._execution.report(
                request.report_id,
                request.token_id,
                request.verdict_id,
                _OUTCOMES.get(request.outcome, ""),
                details=details,
                principal=principal,
            ),
        )
        response = execution_pb2.ReportExecutionResponse(audit_sequence=result.audit_sequence)
        if result.checkpoint is not None:
            response.checkpoint.CopyFrom(checkpoint_proto(result.checkpoint))
        return response

    def SubmitRehearsal(
        self, request: execution_pb2.SubmitRehearsalRequest, context: grpc.ServicerContext
    ) -> execution_pb2.SubmitRehearsalResponse:
        principal = _caller(context)
        for d in request.digests:
            problem = file_name_problem(d.path)
            if problem is not None:
                _abort(
                    context,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"bad_request: rehearsed file {d.path[:200]!r} {problem}",
                )
        done = _run(
            context,
            "SubmitRehearsal",
            lambda: self._rehearsals.submit(
                request.evidence_id,
                request.verdict_id,
                [(d.path, d.sha256) for d in request.digests],
                bytes(request.rehearsal),
                principal=principal,
            ),
        )
        return execution_pb2.SubmitRehearsalResponse(
            audit_sequence=done.audit_sequence, passed=done.passed
        )


def add_trust_services(app: App, server: grpc.Server) -> tuple[str, ...]:
    """Register ExecutionService, KeyService and AuditService on ``server``; returns their
    full names (for health and reflection). ConfigError if ``token_ttl_s`` is out of range."""
    from sqlgate_client.gen.sqlgate.v1 import audit_pb2, audit_pb2_grpc, keys_pb2, keys_pb2_grpc

    from sqlgate.rpc.audit_service import AuditService
    from sqlgate.rpc.key_service import KeyService

    execution_pb2_grpc.add_ExecutionServiceServicer_to_server(
        ExecutionService(execution_for(app)), server
    )
    keys_pb2_grpc.add_KeyServiceServicer_to_server(KeyService(app.keyset), server)
    audit_pb2_grpc.add_AuditServiceServicer_to_server(AuditService(app), server)
    return tuple(
        module.DESCRIPTOR.services_by_name[name].full_name
        for module, name in (
            (execution_pb2, "ExecutionService"),
            (keys_pb2, "KeyService"),
            (audit_pb2, "AuditService"),
        )
    )
