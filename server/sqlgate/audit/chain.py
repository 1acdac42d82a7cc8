"""Canonical form and hashing of audit events and checkpoints (pure functions).

An event's canonical form is canonical JSON (sorted keys, no whitespace, UTF-8, no NaN)
of ``{sequence, at, kind, principal, details}`` with ``at`` in RFC 3339 UTC at microsecond
precision. ``hash = sha256(prev_hash_hex + "\\n" + canonical)``; the first event's
prev_hash is 64 zeros. Both the store (which computes the hash inside the append
transaction) and the verifier use exactly these functions, so they cannot drift apart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no whitespace, UTF-8, NaN/Infinity refused."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def rfc3339(at: datetime) -> str:
    """RFC 3339 UTC with microseconds and a ``Z``; refuses naive datetimes (ambiguous)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_canonical(
    sequence: int, at: datetime, kind: str, principal: str, details: Mapping[str, Any]
) -> bytes:
    """The bytes an event's hash covers (besides the previous hash)."""
    return canonical_json(
        {
            "sequence": sequence,
            "at": rfc3339(at),
            "kind": kind,
            "principal": principal,
            "details": dict(details),
        }
    )


def event_hash(prev_hash: str, canonical: bytes) -> str:
    """sha256 hex of ``prev_hash + "\\n" + canonical``."""
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical).hexdigest()


def checkpoint_payload(sequence: int, event_hash_hex: str, at: datetime) -> bytes:
    """The bytes a checkpoint signature covers: canonical JSON of (sequence, hash, at)."""
    return canonical_json({"sequence": sequence, "hash": event_hash_hex, "at": rfc3339(at)})
