"""Verdicts: in-toto statements signed in DSSE, bound to the exact bytes reviewed."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from bindings import binding_for
from sqlgate import errors
from sqlgate.trust.dsse import sign_envelope
from sqlgate.trust.keys import Keyset
from sqlgate.trust.verdict import build_statement, sign_verdict, verify_verdict
from sqlgate_client import errors as client_errors
from sqlgate_client.trust.dsse import INTOTO_PAYLOAD_TYPE
from sqlgate_client.trust.verdict import verify_verdict as client_verify_verdict


def _statement(digests: dict[str, str], now: datetime, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "verdict_id": "vd_01",
        "decision": "needs_approval",
        "digests": digests,
        "findings": [{"rule": "drop-table", "level": "approval", "statement": 0}],
        "environment": "production",
        "target": "main-db",
        "repo": "acme/app",
        "commit": "abc123",
        "policy_digest": "sha256:" + "ab" * 32,
        "approvals": [],
        "issued_at": now,
        "expires_at": now + timedelta(hours=24),
        "audit_sequence": 7,
        "binding": binding_for(digests),
    }
    fields.update(overrides)
    return build_statement(**fields)


@pytest.fixture
def envelope(keyset: Keyset, digests: dict[str, str], now: datetime) -> bytes:
    return sign_verdict(_statement(digests, now), keyset.signer("verdict"))


def test_statement_shape(digests: dict[str, str], now: datetime) -> None:
    st = _statement(digests, now)
    assert st["_type"] == "https://in-toto.io/Statement/v1"
    assert st["predicateType"] == "https://sqlgate.dev/verdict/v1"
    assert st["subject"] == [{"name": p, "digest": {"sha256": digests[p]}} for p in sorted(digests)]
    assert st["predicate"]["issued_at"] == "2030-01-01T12:00:00Z"
    assert st["predicate"]["supersedes"] is None


def test_envelope_carries_intoto_payload(envelope: bytes, digests: dict[str, str]) -> None:
    doc = json.loads(envelope)
    assert doc["payloadType"] == INTOTO_PAYLOAD_TYPE
    statement = json.loads(base64.b64decode(doc["payload"]))
    assert {s["name"] for s in statement["subject"]} == set(digests)


def test_roundtrip_with_files(
    envelope: bytes, keyset: Keyset, files: dict[str, bytes], now: datetime
) -> None:
    info = verify_verdict(envelope, keyset.public_keyset(), files=files, now=now)
    assert info.verdict_id == "vd_01" and info.decision == "needs_approval"
    assert info.environment == "production" and info.target == "main-db"
    assert info.audit_sequence == 7 and info.expires_at == now + timedelta(hours=24)


def _mismatch(envelope: bytes, keyset: Keyset, files: dict[str, bytes], now: datetime) -> str:
    with pytest.raises(errors.DigestMismatch) as caught:
        verify_verdict(envelope, keyset.public_keyset(), files=files, now=now)
    return str(caught.value)


def test_one_byte_changed_is_refused(
    envelope: bytes, keyset: Keyset, files: dict[str, bytes], now: datetime
) -> None:
    path = "migrations/001_users.sql"
    files[path] = files[path].replace(b"bigint", b"bigInt")
    assert path in _mismatch(envelope, keyset, files, now)


def test_crlf_instead_of_lf_is_refused(
    envelope: bytes, keyset: Keyset, files: dict[str, bytes], now: datetime
) -> None:
    path = "migrations/002_index.sql"
    files[path] = files[path].replace(b"\n", b"\r\n")
    assert path in _mismatch(envelope, keyset, files, now)


def test_bom_added_is_refused(
    envelope: bytes, keyset: Keyset, files: dict[str, bytes], now: datetime
) -> None:
    path = "migrations/001_users.sql"
    files[path] = b"\xef\xbb\xbf" + files[path]
    assert path in _mismatch(envelope, keyset, files, now)


def test_missing_file_is_refused(
    envelope: bytes, keyset: Keyset, files: dict[str, bytes], now: datetime
) -> None:
    del files["migrations/002_index.sql"]
    assert "missing" in _mismatch(envelope, keyset, files, now)


def test_extra_file_is_refused(
    envelope: bytes, keyset: Keyset, files: dict[str, bytes], now: datetime
) -> None:
    files["migrations/003_drop.sql"] = b"DROP TABLE users;\n"
    assert "not covered" in _mismatch(envelope, keyset, files, now)


def test_expired_verdict_is_refused(envelope: bytes, keyset: Keyset, now: datetime) -> None:
    with pytest.raises(errors.TokenExpired, match="expired"):
        verify_verdict(envelope, keyset.public_keyset(), now=now + timedelta(hours=24))
    verify_verdict(envelope, keyset.public_keyset(), now=now + timedelta(hours=23))


def test_tampered_statement_is_refused(envelope: bytes, keyset: Keyset, now: datetime) -> None:
    doc = json.loads(envelope)
    statement = json.loads(base64.b64decode(doc["payload"]))
    statement["predicate"]["decision"] = "allow"
    doc["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    with pytest.raises(errors.SignatureError):
        verify_verdict(json.dumps(doc).encode(), keyset.public_keyset(), now=now)


def test_verdict_signed_by_token_key_is_refused(
    keyset: Keyset, digests: dict[str, str], now: datetime
) -> None:
    with pytest.raises(errors.KeyError_, match="verdict key"):
        sign_verdict(_statement(digests, now), keyset.signer("token"))
    # Even if something signs a statement with the token key, verifiers refuse it.
    payload = json.dumps(_statement(digests, now)).encode()
    env = sign_envelope(payload, INTOTO_PAYLOAD_TYPE, keyset.signer("token"))
    with pytest.raises(errors.KeyError_, match="not a verdict key"):
        verify_verdict(env, keyset.public_keyset(), now=now)


def test_rotated_verdict_key_still_verifies_until_revoked(
    envelope: bytes, keyset: Keyset, now: datetime
) -> None:
    old = keyset.signer("verdict").key_id
    keyset.rotate("verdict")
    verify_verdict(envelope, keyset.public_keyset(), now=now)
    keyset.revoke(old)
    with pytest.raises(errors.KeyError_, match="revoked"):
        verify_verdict(envelope, keyset.public_keyset(), now=now)


def test_client_verifier_raises_client_errors(
    envelope: bytes, keyset: Keyset, files: dict[str, bytes], now: datetime
) -> None:
    files["migrations/001_users.sql"] += b" "
    with pytest.raises(client_errors.DigestMismatch):
        client_verify_verdict(envelope, keyset.public_keyset(), files=files, now=now)


def test_duplicate_keys_in_statement_are_refused(
    keyset: Keyset, digests: dict[str, str], now: datetime
) -> None:
    text = json.dumps(_statement(digests, now))
    text = text.replace('"decision": "needs_approval"', '"decision": "deny", "decision": "allow"')
    env = sign_envelope(text.encode(), INTOTO_PAYLOAD_TYPE, keyset.signer("verdict"))
    with pytest.raises(errors.ClaimError, match="duplicate key 'decision'"):
        verify_verdict(env, keyset.public_keyset(), now=now)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"decision": "maybe"}, "decision"),
        ({"digests": {}}, "subject"),
        ({"digests": {"a.sql": "not-a-digest"}}, "subject"),
        ({"verdict_id": ""}, "verdict_id"),
        ({"audit_sequence": -1}, "audit_sequence"),
    ],
)
def test_build_statement_refuses_malformed_fields(
    digests: dict[str, str], now: datetime, override: dict[str, Any], message: str
) -> None:
    fields = {"digests": digests, **override}
    with pytest.raises(errors.ClaimError, match=message):
        _statement(fields.pop("digests"), now, **fields)


def test_statement_with_missing_predicate_field_is_refused(
    keyset: Keyset, digests: dict[str, str], now: datetime
) -> None:
    statement = _statement(digests, now)
    del statement["predicate"]["policy_digest"]
    env = sign_envelope(
        json.dumps(statement).encode(), INTOTO_PAYLOAD_TYPE, keyset.signer("verdict")
    )
    with pytest.raises(errors.ClaimError, match="policy_digest"):
        verify_verdict(env, keyset.public_keyset(), now=now)
