"""``AuditLog``: append events to the store's hash chain and sign periodic checkpoints.

The hash is computed by the store inside the append transaction (so concurrent replicas
cannot fork the chain); this class adds the clock, the event-kind vocabulary and the
checkpoint every ``every`` events. A checkpoint is made by whichever appender receives a
sequence that is a multiple of ``every``; if that process dies between the append and
the checkpoint, that one checkpoint is missing, which ``verify_chain`` tolerates (it
checks the checkpoints that exist).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from sqlgate.audit.bound import MAX_DETAILS_BYTES, bound_details
from sqlgate.audit.chain import checkpoint_payload
from sqlgate.errors import Conflict
from sqlgate.observe.metrics import AUDIT_APPEND, timed
from sqlgate.store.base import AuditRecord, CheckpointRecord, Store, StoreUnit

log = logging.getLogger(__name__)

__all__ = [
    "KINDS",
    "MAX_DETAILS_BYTES",
    "AuditLog",
    "AuditedUnit",
    "CheckpointSigner",
    "CheckpointSink",
]

KINDS: Final = frozenset(
    {
        "check",
        "approve",
        "token_issue",
        "token_issue_failed",
        "token_redeem",
        "token_redeem_failed",
        "execution_report",
        "execution_report_failed",
        "rehearsal_evidence",
        "rehearsal_evidence_refused",
        "policy_load",
        "key_change",
        "auth_failed",
    }
)


class CheckpointSink(Protocol):
    """Where signed checkpoints are exported, outside the store (``audit.export``)."""

    def append(self, cp: CheckpointRecord) -> None: ...


class CheckpointSigner(Protocol):
    """An Ed25519 (or other) signing key for audit checkpoints."""

    @property
    def key_id(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AuditedUnit:
    """A store unit of work plus ``record``: the events appended here commit with the
    unit's state changes (``AuditLog.atomic``)."""

    def __init__(self, log: AuditLog, unit: StoreUnit) -> None:
        self.store = unit
        self._log = log
        self.appended: list[AuditRecord] = []

    def record(self, kind: str, principal: str, details: Mapping[str, Any]) -> AuditRecord:
        """Append one event of a known ``kind`` inside the unit's transaction."""
        with timed(AUDIT_APPEND):
            record = self.store.append_audit(
                kind, principal, self._log.bounded(kind, details), self._log.now()
            )
        self.appended.append(record)
        return record


class AuditLog:
    """Records audit events; signs a checkpoint every ``every`` events when given a signer."""

    def __init__(
        self,
        store: Store,
        signer: CheckpointSigner | None,
        every: int = 100,
        *,
        clock: Callable[[], datetime] = _utcnow,
        export: CheckpointSink | None = None,
        signer_source: Callable[[], CheckpointSigner] | None = None,
    ) -> None:
        if every < 1:
            raise ValueError("checkpoint interval must be at least 1")
        self.store = store
        self.signer = signer
        self.every = every
        self._clock = clock
        self.export = export
        # The current checkpoint key (a rotated keyset changes it); else ``signer``.
        self._signer_source = signer_source

    def record(self, kind: str, principal: str, details: Mapping[str, Any]) -> AuditRecord:
        """Append one event of a known ``kind``; an unknown kind is a programming error.

        Details are bounded (``sqlgate.audit.bound``): callers put request fields in them.
        """
        with timed(AUDIT_APPEND):
            record = self.store.append_audit(
                kind, principal, self.bounded(kind, details), self._clock()
            )
        self._committed(record)
        return record

    def bounded(self, kind: str, details: Mapping[str, Any]) -> Mapping[str, Any]:
        if kind not in KINDS:
            raise ValueError(f"unknown audit event kind {kind!r}")
        return bound_details(details)

    def now(self) -> datetime:
        return self._clock()

    @contextmanager
    def atomic(self) -> Iterator[AuditedUnit]:
        """A unit of work whose state changes and audit events commit together.

        Checkpoints for the unit's events are signed after the commit (a crash before
        that loses a checkpoint, never an event).
        """
        with self.store.atomic() as unit:
            audited = AuditedUnit(self, unit)
            yield audited
        for record in audited.appended:
            self._committed(record)

    def _committed(self, record: AuditRecord) -> None:
        if self.signer is not None and record.sequence % self.every == 0:
            self.checkpoint(record)

    def checkpoint_of(self, record: AuditRecord) -> CheckpointRecord | None:
        """The signed checkpoint of ``record`` (made now unless one exists): what a caller
        is handed to keep outside the store. None without a checkpoint signer."""
        if self.signer is None and self._signer_source is None:
            return None
        existing = self.store.get_checkpoint(record.sequence)
        if existing is not None:
            return existing
        try:
            return self.checkpoint(record)
        except Conflict:  # made concurrently (the periodic one, another replica)
            return self.store.get_checkpoint(record.sequence)

    def checkpoint(self, record: AuditRecord) -> CheckpointRecord:
        """Sign (sequence, hash, at) of ``record`` and store the checkpoint."""
        signer = self._signer_source() if self._signer_source is not None else self.signer
        if signer is None:
            raise ValueError("no checkpoint signer configured")
        at = self._clock()
        signature = signer.sign(checkpoint_payload(record.sequence, record.hash, at))
        checkpoint = CheckpointRecord(
            sequence=record.sequence,
            hash=record.hash,
            at=at,
            key_id=signer.key_id,
            signature=signature,
        )
        self.store.put_checkpoint(checkpoint)
        if self.export is not None:
            try:
                self.export.append(checkpoint)
            except OSError:  # the event and its state change are committed: never undo them
                log.exception("audit checkpoint %d could not be exported", record.sequence)
        return checkpoint
