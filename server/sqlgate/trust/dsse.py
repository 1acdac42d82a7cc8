"""Signing DSSE v1 envelopes with the active key of a purpose."""

from __future__ import annotations

from sqlgate_client.trust.dsse import encode_envelope, pae

from sqlgate.trust.keys import Signer


def sign_envelope(payload: bytes, payload_type: str, signer: Signer) -> bytes:
    """One Ed25519 signature over ``PAE(payload_type, payload)``, keyid = the signer's id."""
    signature = signer.sign(pae(payload_type.encode("utf-8"), payload))
    return encode_envelope(payload, payload_type, [(signer.key_id, signature)])
