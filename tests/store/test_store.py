"""Every store operation, on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlgate.errors import AlreadyRedeemed, ClaimError, Conflict, NotFound, TokenExpired
from sqlgate.store.base import CheckpointRecord

from store.conftest import Backend
from store.records import T0, approval, token, verdict


def test_verdict_roundtrip_and_missing(backend: Backend) -> None:
    record = verdict()
    backend.store.put_verdict(record)
    assert backend.store.get_verdict("v1") == record
    with pytest.raises(NotFound, match="no verdict nope"):
        backend.store.get_verdict("nope")


def test_duplicate_verdict_is_conflict(backend: Backend) -> None:
    backend.store.put_verdict(verdict())
    with pytest.raises(Conflict, match="already exists"):
        backend.store.put_verdict(replace(verdict(), decision="allow"))
    assert backend.store.get_verdict("v1").decision == "needs_approval"


def test_naive_timestamp_refused(backend: Backend) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        backend.store.put_verdict(replace(verdict(), created_at=datetime(2025, 1, 1)))


def test_latest_in_chain_follows_supersedes(backend: Backend) -> None:
    s = backend.store
    s.put_verdict(verdict("v1"))
    s.put_verdict(verdict("v2", supersedes="v1"))
    s.put_verdict(verdict("v3", supersedes="v2"))
    s.put_verdict(verdict("other"))
    assert s.latest_in_chain("v1").verdict_id == "v3"
    assert s.latest_in_chain("v2").verdict_id == "v3"
    assert s.latest_in_chain("v3").verdict_id == "v3"
    assert s.latest_in_chain("other").verdict_id == "other"
    with pytest.raises(NotFound):
        s.latest_in_chain("missing")


def test_a_verdict_is_superseded_at_most_once(backend: Backend) -> None:
    s = backend.store
    s.put_verdict(verdict("v1"))
    s.put_verdict(verdict("v2", supersedes="v1"))
    with pytest.raises(Conflict, match="already superseded by v2"):
        s.put_verdict(verdict("fork", supersedes="v1"))
    with pytest.raises(NotFound, match="superseded verdict ghost"):
        s.put_verdict(verdict("v9", supersedes="ghost"))


def test_approvals_add_and_list(backend: Backend) -> None:
    s = backend.store
    s.put_verdict(verdict("v1"))
    s.put_verdict(verdict("v2"))
    later = approval("a2", created_at=T0 + timedelta(minutes=5))
    first = approval("a1")
    s.add_approval(later)
    s.add_approval(first)
    s.add_approval(approval("b1", "v2"))
    assert s.list_approvals("v1") == [first, later]
    assert s.list_approvals("v3") == []
    with pytest.raises(Conflict):
        s.add_approval(first)
    with pytest.raises(NotFound):
        s.add_approval(approval("x", "ghost"))


def test_break_glass_consumed_once(backend: Backend) -> None:
    s = backend.store
    s.put_verdict(verdict())
    s.add_approval(approval("bg", break_glass=True))
    now = T0 + timedelta(minutes=1)
    used = s.consume_break_glass("bg", now)
    assert used.consumed_at == now
    with pytest.raises(Conflict, match="already used"):
        s.consume_break_glass("bg", now)
    assert s.list_approvals("v1")[0].consumed_at == now


def test_break_glass_refusals(backend: Backend) -> None:
    s = backend.store
    s.put_verdict(verdict())
    s.add_approval(approval("plain"))
    s.add_approval(approval("bg", break_glass=True))
    with pytest.raises(Conflict, match="not a break-glass"):
        s.consume_break_glass("plain", T0)
    with pytest.raises(Conflict, match="expired"):
        s.consume_break_glass("bg", T0 + timedelta(hours=1))
    with pytest.raises(NotFound):
        s.consume_break_glass("ghost", T0)
    assert s.list_approvals("v1")[0].consumed_at is None


def test_token_put_get(backend: Backend) -> None:
    s = backend.store
    s.put_verdict(verdict())
    s.put_token(token())
    assert s.get_token("t1") == token()
    with pytest.raises(Conflict):
        s.put_token(token())
    with pytest.raises(NotFound):
        s.put_token(token("t2", "ghost"))
    with pytest.raises(NotFound):
        s.get_token("ghost")


def test_redeem_once(backend: Backend) -> None:
    s = backend.store
    s.put_verdict(verdict())
    s.put_token(token())
    now = T0 + timedelta(minutes=2)
    redeemed = s.redeem_token("t1", runner="runner:deploy", now=now)
    assert redeemed.redeemed_at == now
    assert redeemed.verdict_id == "v1"
    with pytest.raises(AlreadyRedeemed):
        s.redeem_token("t1", runner="runner:deploy", now=now)
    assert s.get_token("t1").redeemed_at == now


def test_redeem_unknown_expired_wrong_runner(backend: Backend) -> None:
    s = backend.store
    s.put_verdict(verdict())
    s.put_token(token())
    with pytest.raises(NotFound):
        s.redeem_token("ghost", runner="runner:deploy", now=T0)
    with pytest.raises(TokenExpired):
        s.redeem_token("t1", runner="runner:deploy", now=T0 + timedelta(minutes=15))
    with pytest.raises(ClaimError, match="issued to runner"):
        s.redeem_token("t1", runner="runner:other", now=T0)
    # neither refusal consumed the token
    assert s.get_token("t1").redeemed_at is None
    assert s.redeem_token("t1", runner="runner:deploy", now=T0).redeemed_at == T0


def test_report_is_idempotent(backend: Backend) -> None:
    s = backend.store
    s.put_verdict(verdict())
    s.put_token(token())
    details = {"statements": [{"index": 0, "rows": 3}], "error": ""}
    kwargs = {"token_jti": "t1", "verdict_id": "v1", "outcome": "succeeded", "details": details}
    assert s.record_report("r1", at=T0, **kwargs) is True  # type: ignore[arg-type]
    assert s.record_report("r1", at=T0 + timedelta(seconds=5), **kwargs) is False  # type: ignore[arg-type]
    stored = s.get_report("r1")
    assert stored.details == details
    assert stored.at == T0
    with pytest.raises(Conflict, match="different content"):
        s.record_report(
            "r1", token_jti="t1", verdict_id="v1", outcome="failed", details=details, at=T0
        )
    with pytest.raises(NotFound):
        s.record_report(
            "r2", token_jti="ghost", verdict_id="v1", outcome="failed", details={}, at=T0
        )
    s.put_verdict(verdict("v2"))
    with pytest.raises(Conflict, match="belongs to verdict v1"):
        s.record_report("r3", token_jti="t1", verdict_id="v2", outcome="failed", details={}, at=T0)
    with pytest.raises(NotFound):
        s.get_report("r2")


def test_audit_append_and_iterate(backend: Backend) -> None:
    s = backend.store
    first = s.append_audit("check", "user:alice", {"verdict": "v1", "n": 1.5, "é": [1]}, T0)
    second = s.append_audit("approve", "user:bob", {}, T0 + timedelta(seconds=1))
    assert (first.sequence, second.sequence) == (1, 2)
    assert first.prev_hash == "0" * 64
    assert second.prev_hash == first.hash
    assert list(s.iter_audit()) == [first, second]
    assert list(s.iter_audit(after=1)) == [second]
    assert list(s.iter_audit(after=2)) == []


def test_audit_iteration_pages(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sqlgate.store.sql._PAGE", 3)
    for i in range(8):
        backend.store.append_audit("check", "p", {"i": i}, T0)
    assert [r.details["i"] for r in backend.store.iter_audit()] == list(range(8))
    assert [r.sequence for r in backend.store.iter_audit(after=6)] == [7, 8]


def test_checkpoints(backend: Backend) -> None:
    s = backend.store
    event = s.append_audit("check", "p", {}, T0)
    cp = CheckpointRecord(event.sequence, event.hash, T0, "sqlgate-checkpoint-x", b"sig")
    s.put_checkpoint(cp)
    assert list(s.iter_checkpoints()) == [cp]
    with pytest.raises(Conflict):
        s.put_checkpoint(cp)
    with pytest.raises(Conflict, match="does not match"):
        s.put_checkpoint(replace(cp, sequence=1, hash="f" * 64))
    with pytest.raises(NotFound):
        s.put_checkpoint(replace(cp, sequence=5))


def test_data_survives_reopen(backend: Backend) -> None:
    backend.store.put_verdict(verdict())
    backend.store.append_audit("check", "p", {"a": 1}, datetime(2025, 1, 1, tzinfo=UTC))
    backend.store.close()
    again = backend.reopen()
    try:
        assert again.get_verdict("v1") == verdict()
        assert [r.details for r in again.iter_audit()] == [{"a": 1}]
    finally:
        again.close()
