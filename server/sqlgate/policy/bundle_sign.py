"""Bundle signatures the way OPA writes and checks them (``.signatures.json``).

``.signatures.json`` is ``{"signatures": [<JWS>]}``: one compact JWS whose payload lists
every other file of the bundle with its SHA-256 (``{"files": [{"name", "hash",
"algorithm": "SHA-256"}], "keyid"}``). A JSON file's hash is taken over its canonical
form (sorted keys, compact), as OPA does, so reformatting a JSON file keeps its hash and
changing a value does not. Keys are PEM: RSA signs RS256, a P-256 EC key ES256 (the
algorithms OPA's ``--signing-alg`` offers for key files); OPA verifies with the public half
(``opa run --verification-key pub.pem``, or ``keys:`` in its config).

Verification fails closed: no signature, more than one, a bad signature, a file missing
from the list, a listed file missing from the bundle or a hash mismatch is PolicyLoadError.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from sqlgate.errors import PolicyLoadError
from sqlgate.policy.opa_bundle import SIGNATURES, canonical_json

DEFAULT_KEY_ID = "default"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def file_hash(name: str, raw: bytes) -> str:
    """SHA-256 hex of a bundle file as OPA computes it (JSON over its canonical form)."""
    if name.endswith(".json") or name == ".manifest":
        try:
            raw = canonical_json(json.loads(raw))
        except ValueError as exc:
            raise PolicyLoadError(f"bundle file {name} is not valid JSON: {exc}") from exc
    return hashlib.sha256(raw).hexdigest()


def _payload(files: list[tuple[str, bytes]], keyid: str) -> dict[str, Any]:
    listed = [
        {"name": name, "hash": file_hash(name, raw), "algorithm": "SHA-256"}
        for name, raw in files
        if name != SIGNATURES
    ]
    return {"files": listed, "keyid": keyid}


def sign_files(files: list[tuple[str, bytes]], private_key_pem: bytes, keyid: str) -> bytes:
    """The ``.signatures.json`` content signing `files` with the PEM private key."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        alg = "RS256"
    elif isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
        alg = "ES256"
    else:
        raise PolicyLoadError("signing key must be an RSA or P-256 EC private key (PEM)")
    header = _b64(canonical_json({"alg": alg, "kid": keyid, "typ": "JWT"}))
    body = _b64(canonical_json(_payload(files, keyid)))
    signing_input = f"{header}.{body}".encode("ascii")
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    token = f"{header}.{body}.{_b64(signature)}"
    return canonical_json({"signatures": [token]})


def _check_signature(alg: str, key: Any, signing_input: bytes, signature: bytes) -> None:
    try:
        if alg == "RS256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
            return
        if alg == "ES256" and isinstance(key, ec.EllipticCurvePublicKey) and len(signature) == 64:
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
            return
    except InvalidSignature as exc:
        raise PolicyLoadError("bundle signature does not verify with the configured key") from exc
    raise PolicyLoadError(f"bundle signature algorithm {alg!r} does not match the key")


def verify_files(
    files: list[tuple[str, bytes]], public_key_pem: bytes, *, source: str
) -> dict[str, Any]:
    """Check `files` against their ``.signatures.json``; returns the verified payload."""
    present = dict(files)
    raw = present.get(SIGNATURES)
    if raw is None:
        raise PolicyLoadError(f"{source}: bundle is not signed (no {SIGNATURES})")
    try:
        signatures = json.loads(raw)["signatures"]
        (token,) = signatures
        header_b64, body_b64, sig_b64 = token.split(".")
        header = json.loads(_unb64(header_b64))
        payload = json.loads(_unb64(body_b64))
        signature = _unb64(sig_b64)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PolicyLoadError(f"{source}: {SIGNATURES} is malformed (one JWS expected)") from exc
    try:
        key = serialization.load_pem_public_key(public_key_pem)
    except ValueError as exc:
        raise PolicyLoadError(f"verification key is not a PEM public key: {exc}") from exc
    try:
        _check_signature(
            str(header.get("alg")), key, f"{header_b64}.{body_b64}".encode("ascii"), signature
        )
    except PolicyLoadError as exc:
        raise PolicyLoadError(f"{source}: {exc}") from exc
    if not isinstance(payload, dict):
        raise PolicyLoadError(f"{source}: signature payload is not an object")
    listed = payload.get("files")
    if not isinstance(listed, list):
        raise PolicyLoadError(f"{source}: signature payload lists no files")
    hashes_by_name: dict[str, str] = {}
    for entry in listed:
        if not isinstance(entry, dict) or entry.get("algorithm") != "SHA-256":
            raise PolicyLoadError(f"{source}: signature lists a file without a SHA-256 hash")
        hashes_by_name[str(entry.get("name", "")).lstrip("/")] = str(entry.get("hash"))
    for name, content in files:
        if name == SIGNATURES:
            continue
        if name not in hashes_by_name:
            raise PolicyLoadError(f"{source}: {name} is not covered by the signature")
        if file_hash(name, content) != hashes_by_name.pop(name):
            raise PolicyLoadError(f"{source}: {name} does not match its signed hash")
    if hashes_by_name:
        missing = ", ".join(sorted(hashes_by_name))
        raise PolicyLoadError(f"{source}: signed files missing from the bundle: {missing}")
    return payload
