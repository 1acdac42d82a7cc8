"""The audit hash chain on both backends: honest logs verify, every kind of tampering is named."""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlgate.audit.chain import canonical_json, event_canonical, event_hash
from sqlgate.audit.log import AuditLog
from sqlgate.audit.verify import verify_chain
from sqlgate.errors import SignatureError
from sqlgate.store import open_store
from store.conftest import Backend


class Ed25519Signer:
    """A real Ed25519 checkpoint key (what sqlgate.trust's Signer provides in production)."""

    def __init__(self, key_id: str = "sqlgate-checkpoint-test") -> None:
        self.key_id = key_id
        self.private = Ed25519PrivateKey.generate()

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    def verifier(self) -> Callable[[str, bytes, bytes], None]:
        public = self.private.public_key()

        def verify(key_id: str, data: bytes, signature: bytes) -> None:
            if key_id != self.key_id:
                raise SignatureError(f"unknown key {key_id}")
            try:
                public.verify(signature, data)
            except InvalidSignature as exc:
                raise SignatureError("checkpoint signature does not verify") from exc

        return verify


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 5, 1, 9, 0, 0, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=7)
        return self.now


def fill(backend: Backend, n: int = 12, every: int = 5) -> tuple[AuditLog, Ed25519Signer]:
    signer = Ed25519Signer()
    log = AuditLog(backend.store, signer, every=every, clock=Clock())
    kinds = ["check", "approve", "token_issue", "token_redeem", "execution_report"]
    for i in range(n):
        log.record(kinds[i % len(kinds)], f"user:{i % 3}", {"i": i, "text": "é ✓", "f": 0.5})
    return log, signer


def test_canonical_form_and_hash_match_the_spec() -> None:
    at = datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    canonical = event_canonical(1, at, "check", "alice", {"b": "é", "a": 1})
    expected = (
        '{"at":"2024-01-02T03:04:05.000006Z","details":{"a":1,"b":"é"},'
        '"kind":"check","principal":"alice","sequence":1}'
    ).encode()
    assert canonical == expected
    assert (
        event_hash("0" * 64, canonical) == hashlib.sha256(b"0" * 64 + b"\n" + expected).hexdigest()
    )


def test_honest_log_verifies_with_signed_checkpoints(backend: Backend) -> None:
    _, signer = fill(backend, n=12, every=5)
    assert [c.sequence for c in backend.store.iter_checkpoints()] == [5, 10]
    report = verify_chain(backend.store, signer.verifier())
    assert report.ok, report.problem
    assert (report.events, report.checkpoints, report.first_bad_sequence) == (12, 2, 0)
    assert report.signatures_checked


def test_empty_log_verifies(backend: Backend) -> None:
    report = verify_chain(backend.store, None)
    assert report.ok and report.events == 0


def test_no_signer_means_no_checkpoints(backend: Backend) -> None:
    log = AuditLog(backend.store, None, every=1)
    log.record("policy_load", "system", {"digest": "sha256:x"})
    assert list(backend.store.iter_checkpoints()) == []
    report = verify_chain(backend.store, None)
    assert report.ok and not report.signatures_checked


def test_unknown_kind_refused(backend: Backend) -> None:
    log = AuditLog(backend.store, None)
    with pytest.raises(ValueError, match="unknown audit event kind"):
        log.record("deploy_everything", "p", {})
    assert list(backend.store.iter_audit()) == []


def test_edited_details_named(backend: Backend) -> None:
    fill(backend)
    backend.raw("UPDATE audit_events SET details = ? WHERE sequence = 7", ('{"i":700}',))
    report = verify_chain(backend.store, None)
    assert not report.ok
    assert report.first_bad_sequence == 7
    assert "altered" in report.problem
    assert report.events == 6


def test_edited_principal_named(backend: Backend) -> None:
    fill(backend)
    backend.raw("UPDATE audit_events SET principal = 'user:mallory' WHERE sequence = 2", ())
    assert verify_chain(backend.store, None).first_bad_sequence == 2


def test_unparseable_details_named(backend: Backend) -> None:
    fill(backend)
    backend.raw("UPDATE audit_events SET details = 'not json' WHERE sequence = 4", ())
    report = verify_chain(backend.store, None)
    assert not report.ok and report.first_bad_sequence == 4


def test_deleted_middle_row_named(backend: Backend) -> None:
    fill(backend)
    backend.raw("DELETE FROM audit_events WHERE sequence = 6", ())
    report = verify_chain(backend.store, None)
    assert not report.ok
    assert report.first_bad_sequence == 6
    assert "missing" in report.problem


def test_deleted_first_row_named(backend: Backend) -> None:
    fill(backend)
    backend.raw("DELETE FROM audit_events WHERE sequence = 1", ())
    assert verify_chain(backend.store, None).first_bad_sequence == 1


def test_deleted_and_renumbered_rows_named(backend: Backend) -> None:
    """Deleting a row and shifting the later ones down closes the gap, not the chain."""
    fill(backend)
    backend.raw("DELETE FROM audit_events WHERE sequence = 6", ())
    for seq in range(7, 13):
        backend.raw("UPDATE audit_events SET sequence = ? WHERE sequence = ?", (seq - 1, seq))
    report = verify_chain(backend.store, None)
    assert report.first_bad_sequence == 6
    assert "prev_hash" in report.problem


def test_swapped_rows_named(backend: Backend) -> None:
    fill(backend)
    backend.raw("UPDATE audit_events SET sequence = -1 WHERE sequence = 3", ())
    backend.raw("UPDATE audit_events SET sequence = 3 WHERE sequence = 8", ())
    backend.raw("UPDATE audit_events SET sequence = 8 WHERE sequence = -1", ())
    report = verify_chain(backend.store, None)
    assert not report.ok
    assert report.first_bad_sequence == 3


def test_forged_checkpoint_signature_named(backend: Backend) -> None:
    _, signer = fill(backend)
    forger = Ed25519Signer(signer.key_id)
    backend.raw(
        "UPDATE audit_checkpoints SET signature = ? WHERE sequence = 10",
        (forger.sign(b"anything"),),
    )
    report = verify_chain(backend.store, signer.verifier())
    assert not report.ok
    assert report.first_bad_sequence == 10
    assert "signature" in report.problem
    assert report.checkpoints == 1
    # without keys the forgery is invisible: the hashes still match the chain
    assert verify_chain(backend.store, None).ok


def test_checkpoint_with_foreign_hash_named(backend: Backend) -> None:
    _, signer = fill(backend)
    backend.raw("UPDATE audit_checkpoints SET hash = ? WHERE sequence = 5", ("f" * 64,))
    report = verify_chain(backend.store, signer.verifier())
    assert report.first_bad_sequence == 5
    assert "hash the chain does not have" in report.problem


def test_truncated_tail_behind_a_checkpoint_named(backend: Backend) -> None:
    _, signer = fill(backend)
    backend.raw("DELETE FROM audit_events WHERE sequence >= 9", ())
    report = verify_chain(backend.store, signer.verifier())
    assert not report.ok
    assert report.first_bad_sequence == 9
    assert "checkpoint at 10" in report.problem


def test_rewritten_chain_detected_by_checkpoint(backend: Backend) -> None:
    """Re-hashing every event after an edit fixes the chain but not the signed checkpoint."""
    _, signer = fill(backend)
    events = list(backend.store.iter_audit())
    prev = "0" * 64
    for event in events:
        details = dict(event.details)
        if event.sequence == 3:
            details["i"] = 300
        canonical = event_canonical(event.sequence, event.at, event.kind, event.principal, details)
        digest = event_hash(prev, canonical)
        backend.raw(
            "UPDATE audit_events SET details = ?, prev_hash = ?, hash = ? WHERE sequence = ?",
            (canonical_json(details).decode(), prev, digest, event.sequence),
        )
        prev = digest
    report = verify_chain(backend.store, signer.verifier())
    assert not report.ok
    assert report.first_bad_sequence == 5
    assert "checkpoint" in report.problem


def _appender(url: str, name: str, n: int, barrier: Any) -> None:
    store = open_store(url)
    log = AuditLog(store, None)
    barrier.wait(timeout=60)
    for i in range(n):
        log.record("check", name, {"i": i})
    store.close()


@pytest.mark.slow
def test_two_processes_append_one_chain(backend: Backend) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [
        ctx.Process(target=_appender, args=(backend.url, f"proc{k}", 25, barrier)) for k in range(2)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    report = verify_chain(backend.store, None)
    assert report.ok, report.problem
    assert report.events == 50
