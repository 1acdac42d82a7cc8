"""The pinned public keyset verifiers trust: Ed25519 keys, one purpose each.

A verifier never trusts a key id it reads from a signed artefact: the id only selects
a key from this pinned set, and the key must exist, not be revoked and belong to the
purpose being verified (a token key cannot vouch for a verdict). Key ids are derived
from the public key, so a keyset that pairs an id with another key is refused on load.

JSON form: ``{"keys": [{"key_id", "purpose", "algorithm": "ed25519",
"public_key": "<base64 of the raw 32 bytes>", "state"}]}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sqlgate_client.errors import KeyRefused, SignatureError
from sqlgate_client.gen.sqlgate.v1 import keys_pb2
from sqlgate_client.trust.strictjson import loads_strict

Purpose = Literal["verdict", "token", "checkpoint"]
KeyState = Literal["active", "verify-only", "revoked"]

PURPOSES: Final[tuple[Purpose, ...]] = ("verdict", "token", "checkpoint")
STATES: Final[tuple[KeyState, ...]] = ("active", "verify-only", "revoked")
ALGORITHM: Final = "ed25519"

_PURPOSE_PB: Final[dict[str, int]] = {
    "verdict": keys_pb2.KEY_PURPOSE_VERDICT,
    "token": keys_pb2.KEY_PURPOSE_TOKEN,
    "checkpoint": keys_pb2.KEY_PURPOSE_CHECKPOINT,
}
_STATE_PB: Final[dict[str, int]] = {
    "active": keys_pb2.KEY_STATE_ACTIVE,
    "verify-only": keys_pb2.KEY_STATE_VERIFY_ONLY,
    "revoked": keys_pb2.KEY_STATE_REVOKED,
}


def derive_key_id(purpose: str, public_key_raw: bytes) -> str:
    """``sqlgate-<purpose>-`` + the first 16 hex digits of sha256(raw public key)."""
    return f"sqlgate-{purpose}-{hashlib.sha256(public_key_raw).hexdigest()[:16]}"


def check_purpose(value: object) -> Purpose:
    if value not in PURPOSES:
        raise KeyRefused(f"unknown key purpose {value!r} (expected one of {list(PURPOSES)})")
    return value


def check_state(value: object) -> KeyState:
    if value not in STATES:
        raise KeyRefused(f"unknown key state {value!r} (expected one of {list(STATES)})")
    return value


@dataclass(frozen=True)
class PublicKeyEntry:
    """One pinned public key."""

    key_id: str
    purpose: Purpose
    public_key: bytes  # raw 32 bytes
    state: KeyState

    def __post_init__(self) -> None:
        check_purpose(self.purpose)
        check_state(self.state)
        if len(self.public_key) != 32:
            raise KeyRefused(f"{self.key_id}: an Ed25519 public key is 32 bytes")
        expected = derive_key_id(self.purpose, self.public_key)
        if self.key_id != expected:
            raise KeyRefused(
                f"key id {self.key_id!r} does not match its public key (expected {expected!r})"
            )

    def crypto_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public_key)

    def public_pem(self) -> bytes:
        return self.crypto_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _b64decode(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise KeyRefused(f"{what}: expected a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyRefused(f"{what}: invalid base64 ({exc})") from exc


class PublicKeyset:
    """An immutable set of pinned public keys, indexed by key id."""

    def __init__(self, entries: Iterable[PublicKeyEntry]) -> None:
        keys: dict[str, PublicKeyEntry] = {}
        for entry in entries:
            if entry.key_id in keys:
                raise KeyRefused(f"duplicate key id {entry.key_id!r} in keyset")
            keys[entry.key_id] = entry
        for purpose in PURPOSES:
            active = [
                e.key_id for e in keys.values() if e.purpose == purpose and e.state == "active"
            ]
            if len(active) > 1:
                raise KeyRefused(f"several active {purpose} keys: {active}")
        self._keys = keys

    def __iter__(self) -> Iterator[PublicKeyEntry]:
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, key_id: str) -> PublicKeyEntry | None:
        return self._keys.get(key_id)

    def usable(self, purpose: str, key_id: str) -> PublicKeyEntry:
        """The key ``key_id`` if it may verify ``purpose`` material, else KeyRefused."""
        entry = self._keys.get(key_id)
        if entry is None:
            raise KeyRefused(f"key id {key_id!r} is not in the pinned keyset")
        if entry.state == "revoked":
            raise KeyRefused(f"key {key_id!r} is revoked")
        if entry.purpose != purpose:
            raise KeyRefused(f"key {key_id!r} is a {entry.purpose} key, not a {purpose} key")
        return entry

    def usable_for(self, purpose: str) -> list[PublicKeyEntry]:
        """Every non-revoked key of ``purpose`` (for signatures that carry no key id)."""
        return [e for e in self._keys.values() if e.purpose == purpose and e.state != "revoked"]

    def verify(self, purpose: str, key_id: str, message: bytes, signature: bytes) -> None:
        """Check ``signature`` over ``message`` with pinned key ``key_id`` for ``purpose``.

        Raises KeyRefused (unknown, revoked or wrong-purpose key) or SignatureError.
        """
        entry = self.usable(purpose, key_id)
        try:
            entry.crypto_key().verify(signature, message)
        except InvalidSignature as exc:
            raise SignatureError(f"signature by {key_id!r} does not verify") from exc

    # --- serialisation -------------------------------------------------------------

    @classmethod
    def from_json(cls, data: bytes | str) -> PublicKeyset:
        doc = loads_strict(data, what="public keyset", error=KeyRefused)
        if not isinstance(doc, dict) or set(doc) != {"keys"} or not isinstance(doc["keys"], list):
            raise KeyRefused('public keyset: expected exactly {"keys": [...]}')
        entries = []
        fields = {"key_id", "purpose", "algorithm", "public_key", "state"}
        for i, item in enumerate(doc["keys"]):
            if not isinstance(item, dict) or set(item) != fields:
                raise KeyRefused(f"public keyset: key {i} must have exactly {sorted(fields)}")
            if item["algorithm"] != ALGORITHM:
                raise KeyRefused(f"public keyset: key {i} algorithm {item['algorithm']!r}")
            if not isinstance(item["key_id"], str):
                raise KeyRefused(f"public keyset: key {i} key_id must be a string")
            entries.append(
                PublicKeyEntry(
                    key_id=item["key_id"],
                    purpose=check_purpose(item["purpose"]),
                    public_key=_b64decode(item["public_key"], f"key {item['key_id']}"),
                    state=check_state(item["state"]),
                )
            )
        return cls(entries)

    def to_json(self) -> str:
        keys = [
            {
                "key_id": e.key_id,
                "purpose": e.purpose,
                "algorithm": ALGORITHM,
                "public_key": base64.b64encode(e.public_key).decode("ascii"),
                "state": e.state,
            }
            for e in sorted(self._keys.values(), key=lambda e: (e.purpose, e.key_id))
        ]
        return json.dumps({"keys": keys}, indent=2) + "\n"

    @classmethod
    def from_proto(cls, response: keys_pb2.GetKeysResponse) -> PublicKeyset:
        """Build from a ``GetKeys`` response (unspecified enums are refused)."""
        purposes = {v: k for k, v in _PURPOSE_PB.items()}
        states = {v: k for k, v in _STATE_PB.items()}
        entries = []
        for key in response.keys:
            if key.algorithm != ALGORITHM:
                raise KeyRefused(f"{key.key_id}: algorithm {key.algorithm!r}")
            entries.append(
                PublicKeyEntry(
                    key_id=key.key_id,
                    purpose=check_purpose(purposes.get(key.purpose)),
                    public_key=bytes(key.public_key),
                    state=check_state(states.get(key.state)),
                )
            )
        return cls(entries)

    def to_proto(self) -> keys_pb2.GetKeysResponse:
        response = keys_pb2.GetKeysResponse()
        for e in sorted(self._keys.values(), key=lambda e: (e.purpose, e.key_id)):
            response.keys.add(
                key_id=e.key_id,
                purpose=cast(Any, _PURPOSE_PB[e.purpose]),
                algorithm=ALGORITHM,
                public_key=e.public_key,
                state=cast(Any, _STATE_PB[e.state]),
            )
        return response


__all__ = [
    "PURPOSES",
    "STATES",
    "KeyState",
    "PublicKeyEntry",
    "PublicKeyset",
    "Purpose",
    "derive_key_id",
]
