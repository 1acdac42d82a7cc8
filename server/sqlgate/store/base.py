"""The store interface the trust chain needs, and the records it keeps.

All timestamps are timezone-aware datetimes (UTC); backends keep them as integer
microseconds since the epoch so that comparisons are exact and audit events round-trip
bit for bit. Errors are those of :mod:`sqlgate.errors`: ``NotFound`` for an unknown id,
``Conflict`` for a duplicate id or a record in the wrong state, ``AlreadyRedeemed`` for a
second redemption, ``TokenExpired`` for a token past its expiry.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class VerdictRecord:
    """A signed verdict as issued; ``envelope`` is the DSSE envelope bytes."""

    verdict_id: str
    created_at: datetime
    expires_at: datetime
    environment: str
    target: str
    repo: str
    commit: str
    decision: str
    policy_digest: str
    digests: Mapping[str, str]
    author: str
    envelope: bytes
    supersedes: str | None = None


@dataclass(frozen=True)
class ApprovalRecord:
    """An approval of one verdict, bound to the digests it approved."""

    approval_id: str
    verdict_id: str
    principal: str
    role: str
    reason: str
    break_glass: bool
    created_at: datetime
    expires_at: datetime
    digests: Mapping[str, str]
    consumed_at: datetime | None = None


@dataclass(frozen=True)
class TokenRecord:
    """A single-use execution token's server-side state (the token itself is not kept)."""

    jti: str
    verdict_id: str
    runner: str
    environment: str
    target: str
    issued_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None = None


@dataclass(frozen=True)
class ExecutionRecord:
    """What a runner reported after applying (or failing to apply) a verdict."""

    report_id: str
    token_jti: str
    verdict_id: str
    outcome: str
    details: Mapping[str, Any]
    at: datetime


@dataclass(frozen=True)
class RehearsalRecord:
    """A rehearsal's result as the runner submitted it, bound to a verdict's digests.

    ``digests`` is the ordered ``[(path, sha256), ...]`` of the rehearsed files (the
    verdict's, checked at submission); ``summary`` is what the policy sees in
    ``input.evidence``.
    """

    evidence_id: str
    verdict_id: str
    environment: str
    target: str
    digests: tuple[tuple[str, str], ...]
    passed: bool
    summary: Mapping[str, Any]
    principal: str
    at: datetime


@dataclass(frozen=True)
class AuditRecord:
    """One audit event as stored, with its place in the hash chain."""

    sequence: int
    at: datetime
    kind: str
    principal: str
    details: Mapping[str, Any] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""


@dataclass(frozen=True)
class CheckpointRecord:
    """A signature over (sequence, hash, at) of one audit event."""

    sequence: int
    hash: str
    at: datetime
    key_id: str
    signature: bytes


class StoreUnit(Protocol):
    """The writes of one unit of work (``Store.atomic``): they commit together or not at all.

    Every state change that has an audit event is made through a unit with that event, so
    a crash can never leave the change without its event (or the event without the change).
    """

    def put_verdict(self, record: VerdictRecord) -> None: ...

    def add_approval(self, record: ApprovalRecord) -> None: ...

    def consume_break_glass(self, approval_id: str, now: datetime) -> ApprovalRecord: ...

    def put_token(self, record: TokenRecord) -> None: ...

    def redeem_token(self, jti: str, *, runner: str, now: datetime) -> TokenRecord: ...

    def record_report(
        self,
        report_id: str,
        *,
        token_jti: str,
        verdict_id: str,
        outcome: str,
        details: Mapping[str, Any],
        at: datetime,
    ) -> bool: ...

    def append_audit(
        self, kind: str, principal: str, details: Mapping[str, Any], at: datetime
    ) -> AuditRecord: ...

    def record_rehearsal(self, record: RehearsalRecord) -> bool: ...


class Store(Protocol):
    """Persistence for verdicts, approvals, tokens, execution reports and the audit log."""

    def close(self) -> None: ...

    def schema_version(self) -> int: ...

    def atomic(self) -> AbstractContextManager[StoreUnit]: ...

    # verdicts
    def put_verdict(self, record: VerdictRecord) -> None: ...

    def get_verdict(self, verdict_id: str) -> VerdictRecord: ...

    def latest_in_chain(self, verdict_id: str) -> VerdictRecord: ...

    # approvals
    def add_approval(self, record: ApprovalRecord) -> None: ...

    def list_approvals(self, verdict_id: str) -> list[ApprovalRecord]: ...

    def consume_break_glass(self, approval_id: str, now: datetime) -> ApprovalRecord: ...

    # tokens
    def put_token(self, record: TokenRecord) -> None: ...

    def get_token(self, jti: str) -> TokenRecord: ...

    def redeem_token(self, jti: str, *, runner: str, now: datetime) -> TokenRecord: ...

    def executed_by(self, verdict_id: str) -> str | None:
        """The jti of a redeemed token of ``verdict_id`` with no report saying it applied
        nothing (None: the verdict may still be executed)."""
        ...

    # execution reports
    def record_report(
        self,
        report_id: str,
        *,
        token_jti: str,
        verdict_id: str,
        outcome: str,
        details: Mapping[str, Any],
        at: datetime,
    ) -> bool: ...

    def get_report(self, report_id: str) -> ExecutionRecord: ...

    # rehearsal evidence
    def list_rehearsals(self, digests: tuple[tuple[str, str], ...]) -> list[RehearsalRecord]: ...

    # audit
    def append_audit(
        self, kind: str, principal: str, details: Mapping[str, Any], at: datetime
    ) -> AuditRecord: ...

    def iter_audit(self, after: int = 0) -> Iterator[AuditRecord]: ...

    def put_checkpoint(self, record: CheckpointRecord) -> None: ...

    def get_checkpoint(self, sequence: int) -> CheckpointRecord | None: ...

    def iter_checkpoints(self) -> Iterator[CheckpointRecord]: ...
