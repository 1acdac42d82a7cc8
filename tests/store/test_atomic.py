"""``Store.atomic``: a unit's state changes and audit events commit together or not at all.

On both backends: a unit that fails after its first write leaves nothing (no verdict
without its approval, no redeemed token or consumed break-glass without the audit event
the unit would have appended); a unit that completes leaves all of it, and the audit
chain it extended still verifies.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlgate.audit.verify import verify_chain
from sqlgate.errors import AlreadyRedeemed, NotFound

from .conftest import Backend
from .records import T0, approval, token, verdict


class Crash(Exception):
    """Stands for the process dying mid-unit (the real kill is in tests/trust_chain)."""


def test_failed_unit_keeps_nothing(backend: Backend) -> None:
    store = backend.store
    store.put_verdict(verdict("v1"))
    store.add_approval(approval("bg", "v1", break_glass=True))
    store.put_token(token("t1", "v1"))
    with pytest.raises(Crash), store.atomic() as unit:
        unit.put_verdict(verdict("v2", supersedes="v1"))
        unit.add_approval(approval("a2", "v2"))
        unit.consume_break_glass("bg", T0 + timedelta(minutes=1))
        unit.redeem_token("t1", runner="runner:deploy", now=T0 + timedelta(minutes=1))
        unit.append_audit("approve", "user:bob", {"verdict_id": "v2"}, T0)
        raise Crash
    with pytest.raises(NotFound):
        store.get_verdict("v2")
    assert store.latest_in_chain("v1").verdict_id == "v1"
    assert store.list_approvals("v2") == []
    [glass] = store.list_approvals("v1")
    assert glass.consumed_at is None
    assert store.get_token("t1").redeemed_at is None
    assert list(store.iter_audit()) == []


def test_completed_unit_keeps_everything(backend: Backend) -> None:
    store = backend.store
    store.put_verdict(verdict("v1"))
    store.put_token(token("t1", "v1"))
    store.append_audit("check", "user:alice", {"verdict_id": "v1"}, T0)
    now = T0 + timedelta(minutes=1)
    with store.atomic() as unit:
        redeemed = unit.redeem_token("t1", runner="runner:deploy", now=now)
        event = unit.append_audit("token_redeem", "runner:deploy", {"jti": "t1"}, now)
        assert unit.record_report(
            "r1", token_jti="t1", verdict_id="v1", outcome="succeeded", details={}, at=now
        )
    assert redeemed.redeemed_at == now
    assert event.sequence == 2
    assert store.get_token("t1").redeemed_at == now
    assert store.get_report("r1").outcome == "succeeded"
    assert [e.kind for e in store.iter_audit()] == ["check", "token_redeem"]
    assert verify_chain(store).ok


def test_refusal_inside_a_unit_rolls_it_back(backend: Backend) -> None:
    store = backend.store
    store.put_verdict(verdict("v1"))
    store.put_token(token("t1", "v1"))
    store.redeem_token("t1", runner="runner:deploy", now=T0)
    with pytest.raises(AlreadyRedeemed), store.atomic() as unit:
        unit.append_audit("token_redeem", "runner:deploy", {"jti": "t1"}, T0)
        unit.redeem_token("t1", runner="runner:deploy", now=T0)
    assert list(store.iter_audit()) == []
    # the store is usable afterwards (the failed unit released its connection and locks)
    store.append_audit("check", "user:alice", {}, T0)
    assert [e.sequence for e in store.iter_audit()] == [1]
