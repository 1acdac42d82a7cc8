"""DSSE v1 envelopes (https://github.com/secure-systems-lab/dsse): encoding and
verification against a pinned keyset.

The signature covers ``PAE(payloadType, payload)``, so the payload type cannot be
swapped after signing. ``keyid`` is an unauthenticated hint: it only selects a key
from the pinned keyset, and an id that is not pinned (or revoked, or of another
purpose) refuses the envelope. Stricter than the spec on purpose: every signature
present must verify (an envelope carrying a bad signature has been tampered with),
and the envelope JSON must have exactly the documented shape, without duplicate keys.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature

from sqlgate_client.errors import KeyRefused, SignatureError
from sqlgate_client.trust.keyset import PublicKeyset
from sqlgate_client.trust.strictjson import loads_strict

INTOTO_PAYLOAD_TYPE: Final = "application/vnd.in-toto+json"


def pae(payload_type: bytes, payload: bytes) -> bytes:
    """Pre-Authentication Encoding: ``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``."""
    return b"DSSEv1 %d %b %d %b" % (len(payload_type), payload_type, len(payload), payload)


def b64decode_any(value: str, what: str) -> bytes:
    """Decode standard or URL-safe base64 (the spec requires accepting both)."""
    try:
        return base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(f"DSSE envelope: {what} is not valid base64 ({exc})") from exc


@dataclass(frozen=True)
class EnvelopeSignature:
    keyid: str | None
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    payload: bytes
    payload_type: str
    signatures: tuple[EnvelopeSignature, ...]


def encode_envelope(
    payload: bytes, payload_type: str, signatures: list[tuple[str, bytes]]
) -> bytes:
    """Serialise an envelope (standard base64) from (keyid, signature) pairs."""
    doc = {
        "payload": base64.b64encode(payload).decode("ascii"),
        "payloadType": payload_type,
        "signatures": [
            {"keyid": keyid, "sig": base64.b64encode(sig).decode("ascii")}
            for keyid, sig in signatures
        ],
    }
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def parse_envelope(envelope_bytes: bytes) -> Envelope:
    """Parse envelope JSON strictly; any unexpected shape is a SignatureError."""
    doc: Any = loads_strict(envelope_bytes, what="DSSE envelope", error=SignatureError)
    if not isinstance(doc, dict) or set(doc) != {"payload", "payloadType", "signatures"}:
        raise SignatureError(
            "DSSE envelope: expected exactly the fields payload, payloadType, signatures"
        )
    payload, payload_type, sigs = doc["payload"], doc["payloadType"], doc["signatures"]
    if not isinstance(payload, str) or not isinstance(payload_type, str):
        raise SignatureError("DSSE envelope: payload and payloadType must be strings")
    if not isinstance(sigs, list) or not sigs:
        raise SignatureError("DSSE envelope: signatures must be a non-empty list")
    parsed = []
    for i, item in enumerate(sigs):
        if not isinstance(item, dict) or "sig" not in item or not set(item) <= {"sig", "keyid"}:
            raise SignatureError(f"DSSE envelope: signature {i} must be {{keyid?, sig}}")
        keyid, sig = item.get("keyid"), item["sig"]
        if not isinstance(sig, str) or (keyid is not None and not isinstance(keyid, str)):
            raise SignatureError(f"DSSE envelope: signature {i} fields must be strings")
        parsed.append(EnvelopeSignature(keyid or None, b64decode_any(sig, f"signature {i}")))
    return Envelope(b64decode_any(payload, "payload"), payload_type, tuple(parsed))


def verify_envelope(
    envelope_bytes: bytes,
    keyset: PublicKeyset,
    expected_payload_type: str,
    *,
    purpose: str = "verdict",
) -> bytes:
    """Verify a DSSE envelope against the pinned ``keyset``; return the payload bytes.

    Refuses (SignatureError) malformed JSON, a payload type other than
    ``expected_payload_type`` and any signature that does not verify; refuses
    (KeyRefused) a keyid not pinned, revoked or not of ``purpose``. A signature
    without keyid must verify under some usable pinned key of ``purpose``.
    """
    env = parse_envelope(envelope_bytes)
    if env.payload_type != expected_payload_type:
        raise SignatureError(
            f"DSSE payloadType {env.payload_type!r} is not the expected {expected_payload_type!r}"
        )
    message = pae(env.payload_type.encode("utf-8"), env.payload)
    for i, sig in enumerate(env.signatures):
        if sig.keyid is not None:
            keyset.verify(purpose, sig.keyid, message, sig.sig)
            continue
        candidates = keyset.usable_for(purpose)
        if not candidates:
            raise KeyRefused(f"no usable {purpose} key in the pinned keyset")
        for entry in candidates:
            try:
                entry.crypto_key().verify(sig.sig, message)
                break
            except InvalidSignature:
                continue
        else:
            raise SignatureError(f"DSSE signature {i} (no keyid) verifies under no pinned key")
    return env.payload
