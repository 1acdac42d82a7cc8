"""``verify_chain``: re-walk the audit log and name the first event that does not check out.

Detects an edited row (its hash no longer matches its content), a deleted row (a gap in
the sequence, or a prev_hash that is not the previous row's hash), reordered rows (the
sequence is inside the hash), and checkpoints that name a hash the chain does not have
or whose signature fails. What it cannot detect without an outside anchor: the newest
events removed after the last checkpoint, or the whole log replaced by a fresh chain with
no checkpoints — signed checkpoints exported elsewhere are that anchor
(``sqlgate.audit.export.verify_extends``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlgate_client.errors import TrustError as ClientTrustError

from sqlgate.audit.chain import GENESIS_HASH, checkpoint_payload, event_canonical, event_hash
from sqlgate.errors import SqlgateError
from sqlgate.store.base import CheckpointRecord, Store

CheckpointVerifier = Callable[[str, bytes, bytes], None]
"""``(key_id, data, signature)``; raises (e.g. SignatureError, KeyError_) when invalid."""


@dataclass(frozen=True)
class AuditReport:
    """Outcome of a chain walk; ``first_bad_sequence`` is 0 when ``ok``."""

    ok: bool
    events: int
    checkpoints: int
    first_bad_sequence: int = 0
    problem: str = ""
    signatures_checked: bool = False


def _check_checkpoint(
    checkpoint: CheckpointRecord, event_hash_hex: str, verifier: CheckpointVerifier | None
) -> str | None:
    if checkpoint.hash != event_hash_hex:
        return f"checkpoint at {checkpoint.sequence} names a hash the chain does not have"
    if verifier is None:
        return None
    data = checkpoint_payload(checkpoint.sequence, checkpoint.hash, checkpoint.at)
    try:
        verifier(checkpoint.key_id, data, checkpoint.signature)
    except (SqlgateError, ClientTrustError, ValueError) as exc:
        return f"checkpoint at {checkpoint.sequence} (key {checkpoint.key_id}): {exc}"
    return None


def verify_chain(store: Store, verify_checkpoint: CheckpointVerifier | None = None) -> AuditReport:
    """Walk every event in sequence order and every checkpoint; stop at the first problem."""
    checkpoints = {cp.sequence: cp for cp in store.iter_checkpoints()}
    signed = verify_checkpoint is not None
    expected = 1
    prev_hash = GENESIS_HASH
    events = 0
    checked = 0

    def bad(sequence: int, problem: str) -> AuditReport:
        return AuditReport(False, events, checked, sequence, problem, signed)

    rows = store.iter_audit()
    while True:
        try:
            event = next(rows, None)
        except (SqlgateError, ValueError) as exc:
            return bad(expected, f"event {expected} or the one after it is unreadable: {exc}")
        if event is None:
            break
        if event.sequence != expected:
            return bad(
                expected,
                f"event {expected} is missing (the next stored event is {event.sequence})",
            )
        if event.prev_hash != prev_hash:
            return bad(
                event.sequence,
                f"event {event.sequence} does not follow event {expected - 1}: prev_hash "
                "differs (an earlier event was removed, replaced or reordered)",
            )
        try:
            recomputed = event_hash(
                prev_hash,
                event_canonical(
                    event.sequence, event.at, event.kind, event.principal, event.details
                ),
            )
        except (TypeError, ValueError) as exc:
            return bad(event.sequence, f"event {event.sequence} cannot be canonicalised: {exc}")
        if recomputed != event.hash:
            return bad(
                event.sequence,
                f"event {event.sequence} was altered: its content does not hash to its stored hash",
            )
        events += 1
        checkpoint = checkpoints.pop(event.sequence, None)
        if checkpoint is not None:
            problem = _check_checkpoint(checkpoint, event.hash, verify_checkpoint)
            if problem is not None:
                return bad(event.sequence, problem)
            checked += 1
        prev_hash = event.hash
        expected += 1
    if checkpoints:
        beyond = min(checkpoints)
        return bad(
            expected,
            f"checkpoint at {beyond} names an event that is not in the log: events from "
            f"{expected} on were removed",
        )
    return AuditReport(True, events, checked, 0, "", signed)
