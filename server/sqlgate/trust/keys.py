"""The server's private keyset: Ed25519 keys per purpose, with rotation and revocation.

Separate keys sign verdicts, execution tokens and audit checkpoints, so a leak or
rotation of one never touches the others. Each purpose has exactly one *active* key
(the only one that signs); rotated keys stay *verify-only* so what they signed still
verifies; *revoked* keys verify nothing. Revoking the active key is refused: rotate
first, so signing never silently stops.

On disk (``sqlgate keys generate --dir D``): one PKCS#8 PEM per key, mode 0600, named
``<key_id>.pem``, plus ``keyset.json`` listing ``key_id``, ``purpose``, ``state`` and
``created_at``. Key files readable by group or others are refused. A keyset loaded from
a directory follows it: every use first checks ``keyset.json`` (one ``stat``) and, when
``sqlgate keys rotate``/``revoke`` changed it, reloads — so a running server, and every
replica sharing the directory, signs with the new key and stops trusting a revoked one
without a restart; ``on_change`` (the server audits it) hears of each reload. A
directory that no longer loads fails every use (closed), it never keeps old keys. From the
environment: ``SQLGATE_KEYS_DIR``, else ``SQLGATE_<PURPOSE>_KEY`` holding a PEM or the
base64 of a raw 32-byte Ed25519 private key (such keys are active and read-only).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlgate_client import errors as client_errors
from sqlgate_client.trust.keyset import (
    PURPOSES,
    KeyState,
    PublicKeyEntry,
    PublicKeyset,
    Purpose,
    check_purpose,
    check_state,
    derive_key_id,
)
from sqlgate_client.trust.strictjson import loads_strict

from sqlgate.errors import ConfigError, KeyError_
from sqlgate.trust.errors import server_errors

MANIFEST: Final = "keyset.json"
ENV_DIR: Final = "SQLGATE_KEYS_DIR"


def _raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def _pem(private: Ed25519PrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Signer:
    """The active private key of one purpose; the only thing that signs."""

    key_id: str
    purpose: Purpose
    private_key: Ed25519PrivateKey

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    def private_pem(self) -> bytes:
        """PKCS#8 PEM, for libraries (pyseto) that take a serialised key."""
        return _pem(self.private_key)

    @property
    def public_key(self) -> bytes:
        return _raw_public(self.private_key)


@dataclass(frozen=True)
class KeyRecord:
    """One private key and its manifest entry."""

    key_id: str
    purpose: Purpose
    state: KeyState
    created_at: str | None  # RFC 3339 UTC; None for keys supplied through the environment
    private_key: Ed25519PrivateKey

    @classmethod
    def new(cls, purpose: Purpose, now: datetime | None = None) -> KeyRecord:
        private = Ed25519PrivateKey.generate()
        return cls(
            key_id=derive_key_id(purpose, _raw_public(private)),
            purpose=purpose,
            state="active",
            created_at=_timestamp(now or datetime.now(UTC)),
            private_key=private,
        )


class Keyset:
    """Private keys for every purpose; persisted to ``directory`` when it has one."""

    def __init__(self, records: list[KeyRecord], directory: Path | None = None) -> None:
        self._records = list(records)
        self._directory = directory
        self._check()
        self._seen = self._manifest_stamp()
        self._reload_lock = threading.Lock()
        self.on_change: Callable[[list[KeyRecord], list[KeyRecord]], None] | None = None

    def _manifest_stamp(self) -> tuple[int, int, int] | None:
        if self._directory is None:
            return None
        try:
            st = (self._directory / MANIFEST).stat()
        except OSError:
            return (0, 0, 0)  # gone: the next use tries to load and fails closed
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def refresh(self) -> bool:
        """Reload from the directory if its manifest changed; True when it did.

        Raises ConfigError when the changed directory does not load: no use of the old
        keys (one of them may just have been revoked) until it does.
        """
        if self._directory is None or self._manifest_stamp() == self._seen:
            return False
        with self._reload_lock:
            stamp = self._manifest_stamp()
            if stamp == self._seen:
                return False
            fresh = Keyset.load(self._directory)
            before, self._records = self._records, fresh._records
            self._seen = stamp
        if self.on_change is not None:
            self.on_change(before, list(self._records))
        return True

    # --- construction ---------------------------------------------------------------

    @classmethod
    def generate(cls, directory: Path, *, now: datetime | None = None) -> Keyset:
        """Create a fresh keyset (one active key per purpose) in ``directory``."""
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if (directory / MANIFEST).exists():
            raise ConfigError(f"{directory / MANIFEST} already exists; refusing to overwrite")
        keyset = cls([KeyRecord.new(p, now) for p in PURPOSES], directory)
        for record in keyset._records:
            keyset._write_pem(record)
        keyset._write_manifest()
        return keyset

    @classmethod
    def load(cls, directory: Path) -> Keyset:
        """Load ``keyset.json`` and its PEM files; anything inconsistent is a ConfigError."""
        manifest = directory / MANIFEST
        try:
            raw = manifest.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read key manifest {manifest}: {exc}") from exc
        try:
            doc = loads_strict(raw, what=str(manifest), error=KeyError_)
        except client_errors.TrustError as exc:
            raise ConfigError(str(exc)) from exc
        if not isinstance(doc, dict) or set(doc) != {"keys"} or not isinstance(doc["keys"], list):
            raise ConfigError(f'{manifest}: expected exactly {{"keys": [...]}}')
        fields = {"key_id", "purpose", "state", "created_at"}
        records = []
        for i, item in enumerate(doc["keys"]):
            if not isinstance(item, dict) or set(item) != fields:
                raise ConfigError(f"{manifest}: key {i} must have exactly {sorted(fields)}")
            key_id = item["key_id"]
            if not isinstance(key_id, str) or not key_id.startswith("sqlgate-"):
                raise ConfigError(f"{manifest}: key {i} has a malformed key_id")
            try:
                purpose, state = check_purpose(item["purpose"]), check_state(item["state"])
            except client_errors.TrustError as exc:
                raise ConfigError(f"{manifest}: key {key_id}: {exc}") from exc
            if not isinstance(item["created_at"], str | None):
                raise ConfigError(f"{manifest}: key {key_id}: created_at must be a string")
            private = _read_private_pem(directory / f"{key_id}.pem")
            if derive_key_id(purpose, _raw_public(private)) != key_id:
                raise ConfigError(f"{key_id}.pem does not hold the key its id names")
            records.append(KeyRecord(key_id, purpose, state, item["created_at"], private))
        return cls(records, directory)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Keyset:
        """``SQLGATE_KEYS_DIR``, else one ``SQLGATE_<PURPOSE>_KEY`` per purpose (all three)."""
        env = os.environ if environ is None else environ
        if env.get(ENV_DIR):
            return cls.load(Path(env[ENV_DIR]))
        records = []
        for purpose in PURPOSES:
            name = f"SQLGATE_{purpose.upper()}_KEY"
            value = env.get(name)
            if not value:
                raise ConfigError(f"no signing keys: set {ENV_DIR} or {name}")
            private = _parse_private(value.encode("ascii", "replace"), name)
            key_id = derive_key_id(purpose, _raw_public(private))
            records.append(KeyRecord(key_id, purpose, "active", None, private))
        return cls(records, None)

    # --- queries ----------------------------------------------------------------------

    def __iter__(self) -> Iterator[KeyRecord]:
        self.refresh()
        return iter(self._records)

    def signer(self, purpose: str) -> Signer:
        """The one active key of ``purpose``; KeyError_ when there is none or several."""
        with server_errors():
            check_purpose(purpose)
        self.refresh()
        active = [r for r in self._records if r.purpose == purpose and r.state == "active"]
        if len(active) != 1:
            raise KeyError_(f"expected exactly one active {purpose} key, found {len(active)}")
        return Signer(active[0].key_id, active[0].purpose, active[0].private_key)

    def public_keyset(self) -> PublicKeyset:
        """What verifiers pin: every key's public half and state."""
        self.refresh()
        with server_errors():
            return PublicKeyset(
                PublicKeyEntry(r.key_id, r.purpose, _raw_public(r.private_key), r.state)
                for r in self._records
            )

    # --- lifecycle -------------------------------------------------------------------

    def rotate(self, purpose: str, *, now: datetime | None = None) -> KeyRecord:
        """Make a new active key for ``purpose``; the previous active one becomes verify-only."""
        with server_errors():
            checked = check_purpose(purpose)
        new = KeyRecord.new(checked, now)
        self._records = [
            replace(r, state="verify-only") if r.purpose == checked and r.state == "active" else r
            for r in self._records
        ] + [new]
        self._check()
        if self._directory is not None:
            self._write_pem(new)
            self._write_manifest()
        return new

    def revoke(self, key_id: str) -> KeyRecord:
        """Revoke ``key_id`` (verify-only keys only: rotate an active key away first)."""
        matches = [r for r in self._records if r.key_id == key_id]
        if not matches:
            raise KeyError_(f"no key {key_id!r} in this keyset")
        if matches[0].state == "active":
            raise KeyError_(f"{key_id} is the active {matches[0].purpose} key: rotate it first")
        revoked = replace(matches[0], state="revoked")
        self._records = [revoked if r.key_id == key_id else r for r in self._records]
        if self._directory is not None:
            self._write_manifest()
        return revoked

    # --- internals -------------------------------------------------------------------

    def _check(self) -> None:
        ids = [r.key_id for r in self._records]
        if len(ids) != len(set(ids)):
            raise ConfigError("duplicate key ids in keyset")
        for purpose in PURPOSES:
            active = [r for r in self._records if r.purpose == purpose and r.state == "active"]
            if len(active) != 1:
                raise ConfigError(
                    f"keyset must have exactly one active {purpose} key, has {len(active)}"
                )

    def _write_pem(self, record: KeyRecord) -> None:
        assert self._directory is not None
        path = self._directory / f"{record.key_id}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(_pem(record.private_key))

    def _write_manifest(self) -> None:
        assert self._directory is not None
        doc = {
            "keys": [
                {
                    "key_id": r.key_id,
                    "purpose": r.purpose,
                    "state": r.state,
                    "created_at": r.created_at,
                }
                for r in self._records
            ]
        }
        tmp = self._directory / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        tmp.replace(self._directory / MANIFEST)
        self._seen = self._manifest_stamp()


def _read_private_pem(path: Path) -> Ed25519PrivateKey:
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read private key {path}: {exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path} is accessible by group or others (chmod 600 it)")
    return _parse_private(data, str(path))


def _parse_private(data: bytes, where: str) -> Ed25519PrivateKey:
    """A PEM private key, or the base64 of a raw 32-byte Ed25519 seed."""
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{where}: not a readable PEM private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"{where}: not an Ed25519 private key")
        return key
    try:
        raw = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"{where}: neither PEM nor base64") from exc
    if len(raw) != 32:
        raise ConfigError(f"{where}: a raw Ed25519 private key is 32 bytes, got {len(raw)}")
    return Ed25519PrivateKey.from_private_bytes(raw)
