"""Keysets: generation on disk, derived key ids, rotation, revocation, pinning."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlgate import errors
from sqlgate.trust.keys import Keyset
from sqlgate_client import errors as client_errors
from sqlgate_client.trust.keyset import PublicKeyset

MESSAGE = b"message"


def test_generate_writes_private_pems_0600_and_a_manifest(tmp_path: Path) -> None:
    keyset = Keyset.generate(tmp_path / "k")
    records = list(keyset)
    assert sorted(r.purpose for r in records) == ["checkpoint", "token", "verdict"]
    assert all(r.state == "active" for r in records)
    for record in records:
        pem = tmp_path / "k" / f"{record.key_id}.pem"
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600
        # a PKCS#8 PEM holding this record's Ed25519 key (its public half derives the id)
        private = serialization.load_pem_private_key(pem.read_bytes(), password=None)
        assert isinstance(private, Ed25519PrivateKey)
        raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        assert record.key_id.endswith(hashlib.sha256(raw).hexdigest()[:16])
    manifest = json.loads((tmp_path / "k" / "keyset.json").read_text())
    assert {k["key_id"] for k in manifest["keys"]} == {r.key_id for r in records}
    assert all(set(k) == {"key_id", "purpose", "state", "created_at"} for k in manifest["keys"])
    assert "PRIVATE" not in (tmp_path / "k" / "keyset.json").read_text()


def test_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    Keyset.generate(tmp_path / "k")
    with pytest.raises(errors.ConfigError, match="already exists"):
        Keyset.generate(tmp_path / "k")


def test_key_id_is_derived_from_the_public_key(keyset: Keyset) -> None:
    signer = keyset.signer("token")
    assert signer.key_id == "sqlgate-token-" + hashlib.sha256(signer.public_key).hexdigest()[:16]


def test_keys_are_distinct_per_purpose(keyset: Keyset) -> None:
    publics = {keyset.signer(p).public_key for p in ("verdict", "token", "checkpoint")}
    assert len(publics) == 3


def test_load_roundtrip(tmp_path: Path) -> None:
    made = Keyset.generate(tmp_path / "k")
    loaded = Keyset.load(tmp_path / "k")
    sig = made.signer("verdict").sign(MESSAGE)
    loaded.public_keyset().verify("verdict", made.signer("verdict").key_id, MESSAGE, sig)
    assert [r.key_id for r in loaded] == [r.key_id for r in made]


def test_group_readable_private_key_is_refused(tmp_path: Path) -> None:
    keyset = Keyset.generate(tmp_path / "k")
    (tmp_path / "k" / f"{keyset.signer('token').key_id}.pem").chmod(0o640)
    with pytest.raises(errors.ConfigError, match="group or others"):
        Keyset.load(tmp_path / "k")


def test_pem_swapped_under_another_key_id_is_refused(tmp_path: Path) -> None:
    keyset = Keyset.generate(tmp_path / "k")
    a, b = keyset.signer("token").key_id, keyset.signer("verdict").key_id
    (tmp_path / "k" / f"{a}.pem").write_bytes((tmp_path / "k" / f"{b}.pem").read_bytes())
    with pytest.raises(errors.ConfigError, match="does not hold the key"):
        Keyset.load(tmp_path / "k")


def test_rotate_keeps_old_key_verify_only(tmp_path: Path) -> None:
    keyset = Keyset.generate(tmp_path / "k")
    old = keyset.signer("verdict")
    old_sig = old.sign(MESSAGE)
    new = keyset.rotate("verdict")
    assert keyset.signer("verdict").key_id == new.key_id != old.key_id
    reloaded = Keyset.load(tmp_path / "k")  # rotation is persisted
    states = {r.key_id: r.state for r in reloaded}
    assert states[old.key_id] == "verify-only" and states[new.key_id] == "active"
    pinned = reloaded.public_keyset()
    pinned.verify("verdict", old.key_id, MESSAGE, old_sig)  # still verifies what it signed
    reloaded.revoke(old.key_id)
    with pytest.raises(client_errors.KeyRefused, match="revoked"):
        Keyset.load(tmp_path / "k").public_keyset().verify("verdict", old.key_id, MESSAGE, old_sig)


def test_revoking_the_active_key_is_refused(keyset: Keyset) -> None:
    with pytest.raises(errors.KeyError_, match="rotate it first"):
        keyset.revoke(keyset.signer("token").key_id)
    assert keyset.signer("token")  # still signs


def test_revoking_an_unknown_key_is_refused(keyset: Keyset) -> None:
    with pytest.raises(errors.KeyError_, match="no key"):
        keyset.revoke("sqlgate-token-0000000000000000")


def test_signer_refuses_unknown_purpose(keyset: Keyset) -> None:
    with pytest.raises(errors.KeyError_, match="purpose"):
        keyset.signer("audit")


def test_manifest_with_two_active_keys_is_refused(tmp_path: Path) -> None:
    keyset = Keyset.generate(tmp_path / "k")
    old = keyset.signer("token").key_id
    keyset.rotate("token")
    path = tmp_path / "k" / "keyset.json"
    doc = json.loads(path.read_text())
    for key in doc["keys"]:
        if key["key_id"] == old:
            key["state"] = "active"
    path.write_text(json.dumps(doc))
    with pytest.raises(errors.ConfigError, match="exactly one active token key"):
        Keyset.load(tmp_path / "k")


def test_public_keyset_verify_refuses_wrong_purpose_unknown_and_bad_signature(
    keyset: Keyset,
) -> None:
    pinned = keyset.public_keyset()
    token = keyset.signer("token")
    sig = token.sign(MESSAGE)
    pinned.verify("token", token.key_id, MESSAGE, sig)
    with pytest.raises(client_errors.KeyRefused, match="not a verdict key"):
        pinned.verify("verdict", token.key_id, MESSAGE, sig)
    with pytest.raises(client_errors.KeyRefused, match="not in the pinned keyset"):
        pinned.verify("token", "sqlgate-token-ffffffffffffffff", MESSAGE, sig)
    with pytest.raises(client_errors.SignatureError):
        pinned.verify("token", token.key_id, MESSAGE + b"!", sig)


def test_public_keyset_json_roundtrip_and_format(keyset: Keyset) -> None:
    text = keyset.public_keyset().to_json()
    doc = json.loads(text)
    assert set(doc) == {"keys"} and len(doc["keys"]) == 3
    for key in doc["keys"]:
        assert set(key) == {"key_id", "purpose", "algorithm", "public_key", "state"}
        assert key["algorithm"] == "ed25519" and len(base64.b64decode(key["public_key"])) == 32
    again = PublicKeyset.from_json(text)
    assert again.to_json() == text


def test_public_keyset_proto_roundtrip(keyset: Keyset) -> None:
    keyset.rotate("checkpoint")
    pinned = keyset.public_keyset()
    assert PublicKeyset.from_proto(pinned.to_proto()).to_json() == pinned.to_json()


def test_public_keyset_refuses_key_id_not_matching_its_key(keyset: Keyset) -> None:
    doc = json.loads(keyset.public_keyset().to_json())
    doc["keys"][0]["public_key"] = doc["keys"][1]["public_key"]
    with pytest.raises(client_errors.KeyRefused, match="does not match its public key"):
        PublicKeyset.from_json(json.dumps(doc))


def test_public_keyset_refuses_duplicate_json_keys(keyset: Keyset) -> None:
    text = (
        keyset.public_keyset()
        .to_json()
        .replace('"state": "active"', '"state": "active", "state": "revoked"', 1)
    )
    with pytest.raises(client_errors.KeyRefused, match="duplicate key 'state'"):
        PublicKeyset.from_json(text)


def test_public_keyset_refuses_unknown_state(keyset: Keyset) -> None:
    text = keyset.public_keyset().to_json().replace('"active"', '"trusted"', 1)
    with pytest.raises(client_errors.KeyRefused, match="unknown key state"):
        PublicKeyset.from_json(text)


def test_from_env_with_keys_dir(tmp_path: Path) -> None:
    made = Keyset.generate(tmp_path / "k")
    loaded = Keyset.from_env({"SQLGATE_KEYS_DIR": str(tmp_path / "k")})
    assert loaded.signer("token").key_id == made.signer("token").key_id


def test_from_env_with_pem_and_base64_keys() -> None:
    keys = {p: Ed25519PrivateKey.generate() for p in ("verdict", "token", "checkpoint")}
    env = {
        "SQLGATE_VERDICT_KEY": keys["verdict"]
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode(),
        "SQLGATE_TOKEN_KEY": base64.b64encode(
            keys["token"].private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        ).decode(),
        "SQLGATE_CHECKPOINT_KEY": base64.b64encode(
            keys["checkpoint"].private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        ).decode(),
    }
    keyset = Keyset.from_env(env)
    for purpose, key in keys.items():
        sig = keyset.signer(purpose).sign(MESSAGE)
        key.public_key().verify(sig, MESSAGE)


def test_from_env_without_keys_is_a_config_error() -> None:
    with pytest.raises(errors.ConfigError, match="SQLGATE_KEYS_DIR"):
        Keyset.from_env({})


def test_from_env_with_garbage_key_is_a_config_error() -> None:
    env = {f"SQLGATE_{p}_KEY": "bm90IGEga2V5" for p in ("VERDICT", "TOKEN", "CHECKPOINT")}
    with pytest.raises(errors.ConfigError, match="32 bytes"):
        Keyset.from_env(env)


def test_server_errors_are_client_errors() -> None:
    assert issubclass(errors.KeyError_, client_errors.KeyRefused)
    assert issubclass(errors.TokenExpired, client_errors.TokenExpired)
    assert issubclass(errors.TokenExpired, errors.ClaimError)
    assert issubclass(errors.DigestMismatch, client_errors.DigestMismatch)
    assert issubclass(errors.SignatureError, errors.SqlgateError)
