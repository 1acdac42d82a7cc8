"""Record builders shared by the store and audit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlgate.store.base import ApprovalRecord, TokenRecord, VerdictRecord

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def verdict(verdict_id: str = "v1", supersedes: str | None = None) -> VerdictRecord:
    return VerdictRecord(
        verdict_id=verdict_id,
        created_at=T0,
        expires_at=T0 + timedelta(days=7),
        environment="production",
        target="main-db",
        repo="acme/app",
        commit="abc123",
        decision="needs_approval",
        policy_digest="sha256:" + "ab" * 32,
        digests={"migrations/001.sql": "cd" * 32, "migrations/002 é.sql": "ef" * 32},
        author="user:alice",
        envelope=b'{"payload":"x"}\x00\xff',
        supersedes=supersedes,
    )


def approval(
    approval_id: str = "a1",
    verdict_id: str = "v1",
    *,
    break_glass: bool = False,
    created_at: datetime = T0,
    ttl: timedelta = timedelta(hours=1),
) -> ApprovalRecord:
    return ApprovalRecord(
        approval_id=approval_id,
        verdict_id=verdict_id,
        principal="user:bob",
        role="dba",
        reason="reviewed the type change",
        break_glass=break_glass,
        created_at=created_at,
        expires_at=created_at + ttl,
        digests={"migrations/001.sql": "cd" * 32},
    )


def token(jti: str = "t1", verdict_id: str = "v1", *, runner: str = "runner:deploy") -> TokenRecord:
    return TokenRecord(
        jti=jti,
        verdict_id=verdict_id,
        runner=runner,
        environment="production",
        target="main-db",
        issued_at=T0,
        expires_at=T0 + timedelta(minutes=15),
    )
