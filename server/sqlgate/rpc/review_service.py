"""``sqlgate.v1.ReviewService``: Check, GetVerdict and Approve, with role checks.

The servicer translates messages and checks who may do what in which environment;
the review use case decides, ``sqlgate.approvals`` re-computes decisions with
approvals and ``sqlgate.verdicts`` signs and stores. Errors map to status codes in
``sqlgate.rpc.status``; every refusal leaves an audit event.

Approve (not break-glass) needs ``approver`` or ``security`` in the verdict's
environment and records one approval per such role the caller holds there, so one
call by a principal holding both counts as an ordinary and as a security approval.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import grpc
from sqlgate_client.gen.sqlgate.v1 import common_pb2, review_pb2, review_pb2_grpc

from sqlgate.app import App
from sqlgate.approvals import (
    APPROVAL_ROLES,
    approval_json,
    chain_approvals,
    decide,
    live_break_glass,
)
from sqlgate.audit.export import checkpoint_proto
from sqlgate.auth import Principal, current_principal, deny, require_role, resolve_repo
from sqlgate.environments import require_declared
from sqlgate.errors import Conflict, InputError, SqlgateError
from sqlgate.observe.metrics import DECISIONS, FINDINGS
from sqlgate.promotion import apply_requirements
from sqlgate.review import pending_files, review
from sqlgate.rpc.admission import Admission
from sqlgate.rpc.messages import request_from_proto, result_to_proto
from sqlgate.rpc.status import abort
from sqlgate.store.base import ApprovalRecord, VerdictRecord
from sqlgate.verdicts import (
    VerdictDraft,
    binding_of,
    context_of,
    findings_of,
    issue,
    issue_with_event,
    new_verdict_id,
)

_DECISIONS = {
    "allow": common_pb2.DECISION_ALLOW,
    "needs_approval": common_pb2.DECISION_NEEDS_APPROVAL,
    "deny": common_pb2.DECISION_DENY,
}


def _input_bytes(request: review_pb2.CheckRequest) -> int:
    """What a review has to read: migrations, sidecars, variables (they expand), catalog."""
    return (
        sum(len(m.content) + len(m.metadata) for m in request.migrations)
        + sum(len(k) + len(v) for k, v in request.variables.items())
        + len(request.catalog)
    )


class ReviewService(review_pb2_grpc.ReviewServiceServicer):
    """All state lives in the App (engine, store, keys, audit, roles)."""

    def __init__(self, app: App, admission: Admission | None = None) -> None:
        self._app = app
        self._admission = admission or Admission(app.config.limits)

    # --- Check ----------------------------------------------------------------------

    def _author(self, principal: Principal, request: review_pb2.CheckRequest) -> tuple[str, str]:
        """(author id, caller's role): the caller, or request.author for a ``ci`` caller."""
        app, env = self._app, request.environment
        if not env:
            raise InputError("environment is required")
        if request.author and request.author != principal.id:
            require_role(
                app.roles, app.audit, principal, ["ci"], env, "check on behalf of an author"
            )
            # The named author must take part in this environment: attributing a change
            # to a principal with no role here (or to an unknown id) would let its real
            # author, if an approver, pass as a "non-author" approver.
            if not app.roles.roles_in(request.author, env):
                raise deny(
                    app.audit,
                    principal,
                    "check",
                    f"author {request.author!r} holds no role in environment {env!r}",
                    environment=env,
                    author=request.author,
                )
            return request.author, "ci"
        return principal.id, require_role(
            app.roles, app.audit, principal, ["author", "ci"], env, "check"
        )

    def _check(
        self, request: review_pb2.CheckRequest, deadline_s: float | None
    ) -> review_pb2.CheckResponse:
        app = self._app
        principal = current_principal()
        require_declared(app.config, request.environment, request.target)
        author, role = self._author(principal, request)
        # The policy sees the principal's bound repository, never only the caller's string.
        repo = resolve_repo(app.config, app.audit, principal, request.repo)
        reviewed = dataclasses.replace(request_from_proto(request), repo=repo.policy)
        # Rehearsals of exactly the files reviewed (not context), in order (input.evidence).
        ordered = tuple(pending_files(reviewed, app.catalogs))
        evidence = (
            [{**r.summary, "at": r.at.isoformat()} for r in app.store.list_rehearsals(ordered)]
            if ordered
            else []
        )
        with self._admission.admit(_input_bytes(request), deadline_s):
            result = review(
                reviewed,
                evidence=evidence,
                engine=app.engine,
                limits=app.limits,
                cache=app.parse_cache,
                pool=app.parse_pool,
                catalogs=app.catalogs,
            )
        result = apply_requirements(
            result,
            environment=request.environment,
            rules=app.config.approvals.for_environment(request.environment),
            previous=app.config.approvals.previous(request.environment),
            evidence=evidence,
        )
        findings = [f.to_json() for f in result.findings]
        record, event = issue_with_event(
            app,
            VerdictDraft(
                decision=result.decision,
                findings=findings,
                digests=dict(result.files),
                context=dict(result.context),
                environment=request.environment,
                target=request.target,
                repo=repo.recorded,
                commit=request.commit,
                policy_digest=result.policy_digest,
                author=author,
                approvals=[],
                expires_at=app.now() + timedelta(seconds=app.config.approvals.verdict_ttl_s),
                binding=result.binding,
            ),
            kind="check",
            principal=principal.id,
            details={"caller_role": role, "policy_digest": result.policy_digest},
        )
        if app.decision_log is not None:
            app.decision_log.log(
                decision_id=record.verdict_id,
                policy_input=result.policy_input,
                result={"decision": result.decision, "findings": findings},
                revision=result.policy_digest,
                requested_by=principal.id,
            )
        DECISIONS.labels(environment=request.environment, decision=result.decision).inc()
        for finding in result.findings:
            FINDINGS.labels(rule=finding.rule, level=finding.level).inc()
        response = result_to_proto(result)
        response.verdict_id = record.verdict_id
        response.verdict = record.envelope
        checkpoint = app.audit.checkpoint_of(event)
        if checkpoint is not None:
            response.checkpoint.CopyFrom(checkpoint_proto(checkpoint))
        return response

    def Check(
        self, request: review_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> review_pb2.CheckResponse:
        try:
            return self._check(request, context.time_remaining())
        except Exception as exc:  # noqa: BLE001 - mapped by status.abort, INTERNAL if unknown
            abort(context, exc, "Check")

    # --- GetVerdict -----------------------------------------------------------------

    def GetVerdict(
        self, request: review_pb2.GetVerdictRequest, context: grpc.ServicerContext
    ) -> review_pb2.GetVerdictResponse:
        try:
            app, principal = self._app, current_principal()
            if not request.verdict_id:
                raise InputError("verdict_id is required")
            record = app.store.get_verdict(request.verdict_id)
            # A role in *this* environment (an auditor for "*" holds one everywhere);
            # an auditor scoped to another environment reads nothing here.
            if not app.roles.roles_in(principal.id, record.environment):
                raise deny(
                    app.audit,
                    principal,
                    "get verdict",
                    f"{principal.id} holds no role in environment {record.environment!r}",
                    environment=record.environment,
                    verdict_id=record.verdict_id,
                )
            return review_pb2.GetVerdictResponse(
                verdict_id=record.verdict_id,
                decision=_DECISIONS[record.decision],
                verdict=record.envelope,
            )
        except Exception as exc:  # noqa: BLE001 - mapped by status.abort, INTERNAL if unknown
            abort(context, exc, "GetVerdict")

    # --- Approve --------------------------------------------------------------------

    def _refuse(self, principal: Principal, verdict_id: str, exc: SqlgateError) -> SqlgateError:
        self._app.audit.record(
            "approve",
            principal.id,
            {"verdict_id": verdict_id, "outcome": "refused", "reason": str(exc)},
        )
        return exc

    def _approve(self, request: review_pb2.ApproveRequest) -> tuple[VerdictRecord, tuple[str, ...]]:
        """The new verdict and what it still misses (``approvals.decide``)."""
        app, principal = self._app, current_principal()
        if not request.verdict_id:
            raise InputError("verdict_id is required")
        old = app.store.get_verdict(request.verdict_id)
        env = old.environment
        if request.break_glass:
            roles = [
                require_role(app.roles, app.audit, principal, ["operator"], env, "break glass")
            ]
        else:
            require_role(app.roles, app.audit, principal, list(APPROVAL_ROLES), env, "approve")
            # One approval per approval role held here: approving counts in every capacity.
            roles = [r for r in APPROVAL_ROLES if app.roles.holds(principal.id, r, env)]
        role = roles[0]
        if principal.id == old.author:
            raise deny(
                app.audit,
                principal,
                "approve",
                f"{principal.id} is the author of verdict {old.verdict_id} and may not approve it",
                environment=env,
                verdict_id=old.verdict_id,
            )
        reason = request.reason.strip()
        if not reason:
            kind = "a break-glass approval" if request.break_glass else "an approval"
            raise self._refuse(
                principal, old.verdict_id, InputError(f"{kind} needs a written reason")
            )
        latest = app.store.latest_in_chain(old.verdict_id)
        if latest.verdict_id != old.verdict_id:
            raise self._refuse(
                principal,
                old.verdict_id,
                Conflict(
                    f"verdict {old.verdict_id} is superseded by {latest.verdict_id}; approve that"
                ),
            )
        loaded = app.engine.policy_digest
        refusal = app.policy_refusal(old.policy_digest, loaded)
        if refusal is not None:
            # Approve re-issues the stored findings; under another policy they may be wrong
            # (the rollout rule, sqlgate.policy.rollout, says when they still stand).
            raise self._refuse(
                principal,
                old.verdict_id,
                Conflict(
                    f"verdict {old.verdict_id} was reviewed under policy {old.policy_digest}, "
                    f"not the loaded {loaded} ({refusal}); run the check again"
                ),
            )
        now = app.now()
        if old.expires_at <= now:
            raise self._refuse(
                principal,
                old.verdict_id,
                Conflict(f"verdict {old.verdict_id} expired; run the check again"),
            )
        new_id = new_verdict_id()
        ttl = timedelta(seconds=app.config.approvals.break_glass_ttl_s)
        given = [
            ApprovalRecord(
                approval_id="apr_" + uuid.uuid4().hex,
                verdict_id=new_id,
                principal=principal.id,
                role=r,
                reason=reason,
                break_glass=bool(request.break_glass),
                created_at=now,
                expires_at=min(now + ttl, old.expires_at)
                if request.break_glass
                else old.expires_at,
                digests=dict(old.digests),
            )
            for r in roles
        ]
        approval = given[0]
        prior = [
            a
            for a in chain_approvals(app.store, old.verdict_id)
            if dict(a.digests) == dict(old.digests)
        ]
        approvals = [*prior, *given]
        rules = app.config.approvals
        outcome = decide(
            findings_of(app, old),
            approvals,
            rules=rules.for_environment(env),
            destructive_rules=rules.destructive_rules,
            author=old.author,
            now=now,
        )
        expires = min([old.expires_at, *(a.expires_at for a in live_break_glass(approvals, now))])
        record = issue(
            app,
            VerdictDraft(
                decision=outcome.decision,
                findings=findings_of(app, old),
                digests=dict(old.digests),
                environment=env,
                target=old.target,
                repo=old.repo,
                commit=old.commit,
                policy_digest=old.policy_digest,
                author=old.author,
                approvals=[approval_json(a) for a in approvals],
                expires_at=expires,
                supersedes=old.verdict_id,
                binding=binding_of(app, old),
                context=context_of(app, old),
            ),
            kind="approve",
            principal=principal.id,
            details={
                "outcome": "approved",
                "approved": old.verdict_id,
                "approval_id": approval.approval_id,
                "role": role,
                "roles": roles,
                "approval_ids": [a.approval_id for a in given],
                "break_glass": approval.break_glass,
                "reason": reason,
                "missing": list(outcome.missing),
            },
            verdict_id=new_id,
            approvals=given,
        )
        return record, outcome.missing

    def Approve(
        self, request: review_pb2.ApproveRequest, context: grpc.ServicerContext
    ) -> review_pb2.ApproveResponse:
        try:
            record, missing = self._approve(request)
        except Exception as exc:  # noqa: BLE001 - mapped by status.abort, INTERNAL if unknown
            abort(context, exc, "Approve")
        return review_pb2.ApproveResponse(
            verdict_id=record.verdict_id,
            decision=_DECISIONS[record.decision],
            verdict=record.envelope,
            missing=missing,
        )
