"""Execution use cases: exchange a verdict for a single-use token, redeem it, report back.

Pure of gRPC: they take the store, the private keyset, the audit log, a clock and the
calling principal, and raise ``ExecutionRefused`` with a stable ``reason`` code (the
gRPC layer maps codes to status codes). Every refusal is an audit event naming the
reason *before* it is raised, so a probe leaves a trace even when it fails.

Checks, in order, are fail-closed:

* issue: the caller holds ``runner`` in the environment; the verdict exists, is the
  latest of its chain, its stored DSSE envelope verifies under the server's own public
  keyset and says what the row says, its decision is ``allow`` (an approved change is
  re-issued as an ``allow`` verdict superseding the ``needs_approval`` one), an allow
  that rests on a break-glass approval still has it live (not expired, not used), it
  has not expired, and its environment and target equal the request's. Then the
  break-glass approval, if the allow rests on one, is consumed by one atomic
  conditional UPDATE in the same transaction that stores the token and its audit
  event: one break-glass, at most one token, and never one without the others.
* one verdict, one execution: a token is issued, and redeemed, only while no other
  token of the verdict was redeemed without a report saying its run applied nothing
  (``store.sql.nothing_applied``); checked again inside the redemption's transaction.
* redeem: the caller holds ``runner``; the token verifies (our code: signature, kid,
  every claim, and the context the runner recomputed: environment, target, the calling
  runner's id, the digests it sent); its verdict is still the latest of its chain; then
  one atomic conditional UPDATE in the store marks it used, committed together with
  its ``token_redeem`` audit event.
* report: the token was redeemed by the calling runner; idempotent on ``report_id``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, NoReturn, Protocol

from sqlgate_client.trust.strictjson import loads_strict
from sqlgate_client.trust.tokens import MAX_TTL_S

from sqlgate import faults
from sqlgate.approvals import break_glass_at_issue, chain_approvals
from sqlgate.audit.log import AuditLog
from sqlgate.config import ApprovalsConfig
from sqlgate.errors import (
    AlreadyExecuted,
    AlreadyRedeemed,
    ClaimError,
    Conflict,
    DigestMismatch,
    ExecutionRefused,
    KeyError_,
    NotFound,
    SignatureError,
    SqlgateError,
    TokenExpired,
    TrustError,
)
from sqlgate.store.base import CheckpointRecord, Store, TokenRecord, VerdictRecord
from sqlgate.trust.keys import Keyset
from sqlgate.trust.tokens import IssuedToken, verify_token
from sqlgate.trust.tokens import issue_token as sign_token
from sqlgate.trust.verdict import verify_verdict

RUNNER_ROLE: Final = "runner"
OUTCOMES: Final = frozenset({"succeeded", "failed", "skipped", "aborted"})

# reason code -> what it means. The gRPC status of each is in rpc/execution_service.py.
REASONS: Final[Mapping[str, str]] = {
    "bad_request": "a required field is empty or malformed",
    "not_runner": "the caller does not hold the runner role in that environment",
    "verdict_not_found": "no such verdict",
    "verdict_superseded": "a newer verdict supersedes this one",
    "verdict_not_allowed": "the verdict's decision is not allow (deny or needs approval)",
    "verdict_expired": "the verdict's validity ended",
    "verdict_invalid": "the stored verdict does not verify or disagrees with its record",
    "policy_changed": "the verdict was decided under a policy that is no longer loaded",
    "break_glass_used": "the break-glass approval the allow rests on was already used",
    "break_glass_expired": "the break-glass approval the allow rests on has expired",
    "environment_mismatch": "another environment than the verdict's/token's",
    "target_mismatch": "another target than the verdict's/token's",
    "runner_mismatch": "the token was issued to another runner",
    "digest_mismatch": "the bytes the runner hashed are not the bytes reviewed",
    "bad_signature": "the token is forged, tampered with or not a PASETO v4.public token",
    "bad_key": "the token's key id is unknown, revoked or not a token key",
    "invalid_claims": "a required claim is missing, malformed or out of bounds",
    "token_expired": "the token is outside its validity window (exp passed, nbf not reached)",
    "unknown_token": "the token was never issued by this service",
    "token_not_found": "no token with that id (report)",
    "replay": "the token was already redeemed",
    "already_executed": "another token of this verdict was redeemed and no report says that "
    "run applied nothing: one verdict, one execution",
    "not_redeemed": "the token was not redeemed (or not by this runner)",
    "report_conflict": "a different report was already recorded under this report_id",
    "no_signing_key": "the server has no usable token signing key",
}


class Caller(Protocol):
    """The authenticated principal: a stable id is all the use cases need of it."""

    @property
    def id(self) -> str: ...


HasRole = Callable[[Any, str, str], bool]
"""``has_role(principal, role, environment)`` — the server's role rules, from its config."""


@dataclass(frozen=True)
class Redemption:
    token_id: str
    verdict_id: str
    redeemed_at: datetime


@dataclass(frozen=True)
class ReportResult:
    audit_sequence: int
    new: bool
    # The signed checkpoint of the report's event, handed to the runner to keep.
    checkpoint: CheckpointRecord | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _unverified_claims(token: str) -> dict[str, Any] | None:
    """The claims a token *says* it carries, unverified: used only to name a mismatch
    after the token has been proven genuine under its own context."""
    parts = token.split(".")
    if len(parts) != 4:
        return None
    try:
        raw = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        claims = loads_strict(raw[:-64], what="token claims", error=ClaimError)
    except (binascii.Error, ValueError, TrustError):
        return None
    return claims if isinstance(claims, dict) else None


class Execution:
    """The three execution use cases over one store, keyset and audit log."""

    def __init__(
        self,
        store: Store,
        keyset: Keyset,
        audit: AuditLog,
        has_role: HasRole,
        *,
        ttl_s: int = 300,
        clock: Callable[[], datetime] = _utcnow,
        leeway_s: int = 30,
        approvals: ApprovalsConfig | None = None,
        policy_digest: str | Callable[[], str] | None = None,
        policy_refusal: Callable[[str, str], str | None] | None = None,
    ) -> None:
        if not 0 < ttl_s <= MAX_TTL_S:
            raise ValueError(f"token ttl must be between 1 and {MAX_TTL_S} s, got {ttl_s}")
        self.store = store
        self.keyset = keyset
        self.audit = audit
        self.has_role = has_role
        self.ttl_s = ttl_s
        self.clock = clock
        self.leeway_s = leeway_s
        self.approvals = approvals or ApprovalsConfig()
        # The loaded policy: a verdict decided under another one is not executed (a policy
        # rollout may have tightened a rule); None only for use-case tests without one.
        self.policy_digest = policy_digest
        # The rollout rule (sqlgate.policy.rollout): None honours the verdict of another
        # policy, a string is why not. Without it only the loaded policy's verdicts pass.
        self.policy_refusal = policy_refusal

    # --- helpers ------------------------------------------------------------------------

    def _refuse(
        self,
        kind: str,
        principal: Caller,
        reason: str,
        message: str,
        details: Mapping[str, Any],
        *,
        cause: BaseException | None = None,
    ) -> NoReturn:
        """Audit the refusal, then raise it."""
        self.audit.record(kind, principal.id, {**details, "reason": reason, "message": message})
        raise ExecutionRefused(reason, message) from cause

    def _require_runner(
        self, kind: str, principal: Caller, environment: str, details: Mapping[str, Any]
    ) -> None:
        if not self.has_role(principal, RUNNER_ROLE, environment):
            self._refuse(
                kind,
                principal,
                "not_runner",
                f"{principal.id} does not hold the {RUNNER_ROLE!r} role in {environment!r}",
                details,
            )

    def _latest(
        self, kind: str, principal: Caller, verdict_id: str, details: Mapping[str, Any]
    ) -> VerdictRecord:
        try:
            latest = self.store.latest_in_chain(verdict_id)
        except NotFound as exc:
            self._refuse(
                kind, principal, "verdict_not_found", f"no verdict {verdict_id}", details, cause=exc
            )
        if latest.verdict_id != verdict_id:
            self._refuse(
                kind,
                principal,
                "verdict_superseded",
                f"verdict {verdict_id} is superseded by {latest.verdict_id}; use the latest",
                {**details, "superseded_by": latest.verdict_id},
            )
        return latest

    # --- issue --------------------------------------------------------------------------

    def issue_token(
        self, verdict_id: str, environment: str, target: str, principal: Caller
    ) -> IssuedToken:
        """A single-use token for ``verdict_id`` in ``environment``/``target``."""
        kind = "token_issue_failed"
        details: dict[str, Any] = {
            "verdict_id": verdict_id,
            "environment": environment,
            "target": target,
        }
        for name in ("verdict_id", "environment", "target"):
            if not details[name]:
                self._refuse(kind, principal, "bad_request", f"{name} is required", details)
        self._require_runner(kind, principal, environment, details)
        verdict = self._latest(kind, principal, verdict_id, details)
        now = self.clock()
        try:  # signature and content now; expiry below, after the break-glass check
            info = verify_verdict(
                verdict.envelope, self.keyset.public_keyset(), now=verdict.created_at
            )
        except TrustError as exc:
            self._refuse(
                kind,
                principal,
                "verdict_invalid",
                f"stored verdict {verdict_id} does not verify: {exc}",
                details,
                cause=exc,
            )
        recorded = (verdict.verdict_id, verdict.decision, verdict.environment, verdict.target)
        signed = (info.verdict_id, info.decision, info.environment, info.target)
        if recorded != signed or dict(verdict.digests) != dict(info.digests):
            self._refuse(
                kind,
                principal,
                "verdict_invalid",
                f"stored verdict {verdict_id} disagrees with its signed envelope",
                details,
            )
        loaded = self.policy_digest() if callable(self.policy_digest) else self.policy_digest
        refusal = None
        if loaded is not None and verdict.policy_digest != loaded:
            refusal = (
                self.policy_refusal(verdict.policy_digest, loaded)
                if self.policy_refusal is not None
                else "it is not the loaded one"
            )
        if refusal is not None:
            self._refuse(
                kind,
                principal,
                "policy_changed",
                f"verdict {verdict_id} was decided under policy {verdict.policy_digest}, "
                f"the server now enforces {loaded} ({refusal}): run the check again",
                {**details, "policy_digest": verdict.policy_digest},
            )
        if info.decision != "allow":
            self._refuse(
                kind,
                principal,
                "verdict_not_allowed",
                f"verdict {verdict_id} is {info.decision!r}; only an allowed (or approved and "
                "re-issued) verdict can be executed",
                {**details, "decision": info.decision},
            )
        glass = break_glass_at_issue(
            info.findings,
            chain_approvals(self.store, verdict_id),
            digests=info.digests,
            rules=self.approvals.for_environment(info.environment),
            destructive_rules=self.approvals.destructive_rules,
            author=verdict.author,
            now=now,
        )
        if glass.refusal is not None:
            reason, message = glass.refusal
            self._refuse(kind, principal, reason, f"verdict {verdict_id}: {message}", details)
        expires_at = min(verdict.expires_at, info.expires_at)
        if now >= expires_at:
            self._refuse(
                kind,
                principal,
                "verdict_expired",
                f"verdict {verdict_id} expired at {expires_at.isoformat()}",
                details,
            )
        for name, wanted, have in (
            ("environment", environment, info.environment),
            ("target", target, info.target),
        ):
            if wanted != have:
                self._refuse(
                    kind,
                    principal,
                    f"{name}_mismatch",
                    f"verdict {verdict_id} is for {name} {have!r}, not {wanted!r}",
                    details,
                )
        spent = self.store.executed_by(verdict_id)
        if spent is not None:
            self._refuse(
                kind,
                principal,
                "already_executed",
                f"verdict {verdict_id} was already executed with token {spent} and no report "
                "says that run applied nothing: one verdict, one execution; run the check "
                "again for a new verdict",
                {**details, "executed_by": spent},
            )
        try:
            signer = self.keyset.signer("token")
        except KeyError_ as exc:
            self._refuse(kind, principal, "no_signing_key", str(exc), details, cause=exc)
        if glass.consume is not None:
            details["break_glass_approval"] = glass.consume.approval_id
        try:
            issued = sign_token(
                signer,
                verdict_id=verdict_id,
                digests=info.digests,
                environment=environment,
                target=target,
                runner=principal.id,
                binding=info.binding.to_json(),
                ttl_s=self.ttl_s,
                now=now,
            )
        except KeyError_ as exc:
            self._refuse(kind, principal, "no_signing_key", str(exc), details, cause=exc)
        # One unit: the break-glass it uses, the token row and its audit event commit
        # together, so a crash can neither consume a break-glass without an event nor
        # record a token whose break-glass is still live.
        try:
            with self.audit.atomic() as unit:
                if glass.consume is not None:
                    unit.store.consume_break_glass(glass.consume.approval_id, now)
                    faults.point("issue:break-glass-consumed")
                unit.store.put_token(
                    TokenRecord(
                        jti=issued.jti,
                        verdict_id=verdict_id,
                        runner=principal.id,
                        environment=environment,
                        target=target,
                        issued_at=now,
                        expires_at=issued.exp,
                    )
                )
                unit.record(
                    "token_issue",
                    principal.id,
                    {
                        **details,
                        "jti": issued.jti,
                        "runner": principal.id,
                        "expires_at": issued.exp.isoformat(),
                        "key_id": signer.key_id,
                    },
                )
        except (Conflict, NotFound) as exc:
            if glass.consume is None:
                raise
            # lost a race to another issuer
            self._refuse(
                kind,
                principal,
                "break_glass_used",
                f"verdict {verdict_id}: break-glass approval {glass.consume.approval_id} "
                f"could not be used: {exc}",
                details,
                cause=exc,
            )
        return issued

    # --- redeem -------------------------------------------------------------------------

    def redeem(
        self,
        token: str,
        environment: str,
        target: str,
        digests: Mapping[str, str],
        principal: Caller,
    ) -> Redemption:
        """Verify ``token`` against the context the runner recomputed, then use it once."""
        kind = "token_redeem_failed"
        claims = _unverified_claims(token) or {}
        details: dict[str, Any] = {
            "environment": environment,
            "target": target,
            "digests": dict(sorted(digests.items())),
            "claimed_jti": claims.get("jti") if isinstance(claims.get("jti"), str) else None,
        }
        if not token or not environment or not target or not digests:
            self._refuse(
                kind,
                principal,
                "bad_request",
                "token, environment, target and at least one digest are required",
                details,
            )
        self._require_runner(kind, principal, environment, details)
        now = self.clock()
        with self._verification(
            kind, principal, token, details, environment=environment, target=target, digests=digests
        ):
            verified = verify_token(
                token,
                self.keyset.public_keyset(),
                environment=environment,
                target=target,
                runner=principal.id,
                digests=digests,
                now=now,
            )
        details["jti"] = verified.jti
        details["verdict_id"] = verified.verdict_id
        self._latest(kind, principal, verified.verdict_id, details)
        try:  # the redemption and its audit event commit together, or neither does
            with self.audit.atomic() as unit:
                record = unit.store.redeem_token(verified.jti, runner=principal.id, now=now)
                faults.point("redeem:token-redeemed")
                assert record.redeemed_at is not None
                unit.record(
                    "token_redeem",
                    principal.id,
                    {
                        **details,
                        "runner": principal.id,
                        "redeemed_at": record.redeemed_at.isoformat(),
                    },
                )
        except AlreadyExecuted as exc:
            self._refuse(kind, principal, "already_executed", str(exc), details, cause=exc)
        except AlreadyRedeemed as exc:
            self._refuse(kind, principal, "replay", str(exc), details, cause=exc)
        except NotFound as exc:
            self._refuse(
                kind,
                principal,
                "unknown_token",
                f"token {verified.jti} was never issued",
                details,
                cause=exc,
            )
        except TokenExpired as exc:
            self._refuse(kind, principal, "token_expired", str(exc), details, cause=exc)
        except ClaimError as exc:
            self._refuse(kind, principal, "runner_mismatch", str(exc), details, cause=exc)
        assert record.redeemed_at is not None
        return Redemption(record.jti, record.verdict_id, record.redeemed_at)

    @contextmanager
    def _verification(
        self,
        kind: str,
        principal: Caller,
        token: str,
        details: Mapping[str, Any],
        *,
        environment: str,
        target: str,
        digests: Mapping[str, str],
    ) -> Iterator[None]:
        """Turn verification failures into audited refusals with a precise reason."""
        try:
            yield
        except TokenExpired as exc:
            self._refuse(kind, principal, "token_expired", str(exc), details, cause=exc)
        except KeyError_ as exc:
            self._refuse(kind, principal, "bad_key", str(exc), details, cause=exc)
        except SignatureError as exc:
            self._refuse(kind, principal, "bad_signature", str(exc), details, cause=exc)
        except (ClaimError, DigestMismatch) as exc:
            reason = self._mismatch_reason(token, environment, target, principal.id, digests)
            self._refuse(kind, principal, reason, str(exc), details, cause=exc)
        except TrustError as exc:  # pragma: no cover - every subclass is handled above
            self._refuse(kind, principal, "bad_signature", str(exc), details, cause=exc)

    def _mismatch_reason(
        self,
        token: str,
        environment: str,
        target: str,
        runner: str,
        digests: Mapping[str, str],
    ) -> str:
        """Name the first context field that differs, but only for a *genuine* token:
        one that verifies under the context its own claims name. Anything else is a
        claim problem of the token itself."""
        claims = _unverified_claims(token)
        if claims is None:
            return "invalid_claims"
        try:
            verify_token(
                token,
                self.keyset.public_keyset(),
                environment=claims["environment"],
                target=claims["target"],
                runner=claims["runner"],
                digests=claims["digests"],
                now=self.clock(),
            )
        except TokenExpired:
            pass  # time is checked last: everything else about the token held
        except (SqlgateError, KeyError, TypeError, AttributeError, ValueError):
            return "invalid_claims"
        if claims["runner"] != runner:
            return "runner_mismatch"
        if claims["environment"] != environment:
            return "environment_mismatch"
        if claims["target"] != target:
            return "target_mismatch"
        if claims["digests"] != dict(digests):
            return "digest_mismatch"
        return "invalid_claims"  # pragma: no cover - verify_token would have passed

    # --- report -------------------------------------------------------------------------

    def report(
        self,
        report_id: str,
        token_id: str,
        verdict_id: str,
        outcome: str,
        *,
        details: Mapping[str, Any],
        principal: Caller,
    ) -> ReportResult:
        """Record what the runner did with a redeemed token; a retry records nothing new
        and returns the original event's audit position."""
        kind = "execution_report_failed"
        base: dict[str, Any] = {
            "report_id": report_id,
            "token_id": token_id,
            "verdict_id": verdict_id,
            "outcome": outcome,
        }
        if not report_id or not token_id or not verdict_id or outcome not in OUTCOMES:
            self._refuse(
                kind,
                principal,
                "bad_request",
                f"report_id, token_id, verdict_id and an outcome in {sorted(OUTCOMES)} are "
                "required",
                base,
            )
        try:
            token = self.store.get_token(token_id)
        except NotFound as exc:
            self._refuse(kind, principal, "token_not_found", str(exc), base, cause=exc)
        if token.redeemed_at is None or token.runner != principal.id:
            self._refuse(
                kind,
                principal,
                "not_redeemed",
                f"token {token_id} was not redeemed by {principal.id}",
                base,
            )
        audited = {**base, "environment": token.environment, "target": token.target}
        try:  # the report and its audit event commit together, or neither does
            with self.audit.atomic() as unit:
                new = unit.store.record_report(
                    report_id,
                    token_jti=token_id,
                    verdict_id=verdict_id,
                    outcome=outcome,
                    details=details,
                    at=self.clock(),
                )
                faults.point("report:recorded")
                if new:
                    event = unit.record("execution_report", principal.id, audited)
        except NotFound as exc:  # pragma: no cover - checked above
            self._refuse(kind, principal, "token_not_found", str(exc), base, cause=exc)
        except Conflict as exc:
            self._refuse(kind, principal, "report_conflict", str(exc), base, cause=exc)
        if new:
            return ReportResult(event.sequence, True, self.audit.checkpoint_of(event))
        for found in self.store.iter_audit():
            if found.kind == "execution_report" and found.details.get("report_id") == report_id:
                return ReportResult(found.sequence, False, self.audit.checkpoint_of(found))
        # A report stored without its event predates atomic reports: audit it now.
        event = self.audit.record("execution_report", principal.id, audited)
        return ReportResult(event.sequence, False, self.audit.checkpoint_of(event))
