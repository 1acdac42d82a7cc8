"""Signed audit checkpoints outside the store, and the proof that the store still extends them.

The store's writer can delete the newest events with their checkpoints, or remove an
event and re-hash the rest: the chain in the store then verifies. What it cannot do is
change a checkpoint that left the store: the server appends every checkpoint it signs to
``audit_checkpoint_file`` (one JSON object per line, opened ``O_APPEND`` and fsynced;
point it at storage the store's writer cannot rewrite: another host's mount, a WORM
bucket's sync dir, a file under ``chattr +a``), and the runner keeps the checkpoint of its
report. ``sqlgate audit verify --checkpoint FILE`` then proves the store still holds each
checkpointed event with the signed hash: since every hash covers its predecessor, every
event up to that one is intact.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlgate_client.gen.sqlgate.v1 import common_pb2

from sqlgate.audit.chain import checkpoint_payload, rfc3339
from sqlgate.audit.verify import AuditReport, CheckpointVerifier, verify_chain
from sqlgate.errors import ConfigError, InputError
from sqlgate.store.base import CheckpointRecord, Store


def checkpoint_json(cp: CheckpointRecord) -> dict[str, Any]:
    """A checkpoint as exported: everything needed to verify it without the store."""
    return {
        "sequence": cp.sequence,
        "hash": cp.hash,
        "at": rfc3339(cp.at),
        "key_id": cp.key_id,
        "signature": base64.b64encode(cp.signature).decode("ascii"),
    }


def checkpoint_proto(cp: CheckpointRecord) -> common_pb2.AuditCheckpoint:
    """The checkpoint as handed to a caller (Check, ReportExecution) to keep."""
    return common_pb2.AuditCheckpoint(
        sequence=cp.sequence,
        hash=cp.hash,
        at=rfc3339(cp.at),
        key_id=cp.key_id,
        signature=cp.signature,
    )


def checkpoint_from_json(obj: Any, where: str) -> CheckpointRecord:
    """Parse one exported checkpoint; InputError (naming ``where``) when malformed."""
    try:
        if not isinstance(obj, dict):
            raise TypeError("not an object")
        sequence, digest, at = obj["sequence"], obj["hash"], obj["at"]
        key_id, signature = obj["key_id"], obj["signature"]
        if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
            raise ValueError("sequence must be a positive integer")
        if not all(isinstance(v, str) for v in (digest, at, key_id, signature)):
            raise TypeError("hash, at, key_id and signature must be strings")
        when = datetime.fromisoformat(at)
        if when.tzinfo is None or rfc3339(when) != at:
            raise ValueError(f"at {at!r} is not RFC 3339 UTC with microseconds")
        raw = base64.b64decode(signature, validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise InputError(f"{where}: not a signed audit checkpoint: {exc}") from exc
    return CheckpointRecord(sequence=sequence, hash=digest, at=when, key_id=key_id, signature=raw)


def read_checkpoints(path: Path) -> list[CheckpointRecord]:
    """Checkpoints from a file: one JSON object, or JSON lines (the server's export)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read checkpoint file {path}: {exc}") from exc
    stripped = text.strip()
    if not stripped:
        raise InputError(f"{path}: no checkpoint in the file")
    try:
        whole = json.loads(stripped)
    except json.JSONDecodeError:
        whole = None
    if whole is not None:
        items = whole if isinstance(whole, list) else [whole]
        return [checkpoint_from_json(o, f"{path}") for o in items]
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not JSON: {exc}") from exc
        found.append(checkpoint_from_json(obj, f"{path}:{number}"))
    return found


@dataclass(frozen=True)
class CheckpointFile:
    """Append-only export of signed checkpoints (``audit_checkpoint_file``)."""

    path: Path

    def check_writable(self) -> None:
        """At start-up: a server that cannot export its checkpoints does not start."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            os.close(fd)
        except OSError as exc:
            raise ConfigError(
                f"audit_checkpoint_file {self.path} cannot be appended to: {exc.strerror or exc}"
            ) from exc

    def append(self, cp: CheckpointRecord) -> None:
        line = json.dumps(checkpoint_json(cp), sort_keys=True, separators=(",", ":")) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)


def verify_extends(
    store: Store,
    checkpoints: Iterable[CheckpointRecord],
    verifier: CheckpointVerifier | None,
) -> AuditReport:
    """The chain verifies, and holds every outside checkpoint's event with its hash.

    A checkpoint beyond the stored head is a truncation; a different hash at its
    sequence is a rewrite (or a replaced log). Each outside checkpoint's signature is
    checked first when ``verifier`` is given, so a forged one proves nothing either way.
    """
    report = verify_chain(store, verifier)
    if not report.ok:
        return report
    outside = sorted(checkpoints, key=lambda c: c.sequence)
    heads = {e.sequence: e.hash for e in _events_at(store, {c.sequence for c in outside})}
    for cp in outside:
        if verifier is not None:
            try:
                verifier(cp.key_id, _payload(cp), cp.signature)
            except Exception as exc:  # noqa: BLE001 - any verifier failure is a bad checkpoint
                return _bad(report, cp.sequence, f"outside checkpoint at {cp.sequence}: {exc}")
        have = heads.get(cp.sequence)
        if have is None:
            return _bad(
                report,
                cp.sequence,
                f"the store was truncated: a checkpoint signed at {rfc3339(cp.at)} covers event "
                f"{cp.sequence}, the store ends at event {report.events}",
            )
        if have != cp.hash:
            return _bad(
                report,
                cp.sequence,
                f"the store was rewritten: event {cp.sequence} does not have the hash its "
                f"checkpoint signed at {rfc3339(cp.at)} (an earlier event was removed, "
                "changed or the log replaced)",
            )
    return AuditReport(
        True, report.events, report.checkpoints + len(outside), 0, "", report.signatures_checked
    )


def _payload(cp: CheckpointRecord) -> bytes:
    return checkpoint_payload(cp.sequence, cp.hash, cp.at)


def _events_at(store: Store, sequences: set[int]) -> Iterable[Any]:
    return (e for e in store.iter_audit() if e.sequence in sequences)


def _bad(report: AuditReport, sequence: int, problem: str) -> AuditReport:
    return AuditReport(
        False, report.events, report.checkpoints, sequence, problem, report.signatures_checked
    )
