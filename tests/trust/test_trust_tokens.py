"""Execution tokens: PASETO v4.public bound to verdict, digests, environment, target and
runner. Hand-crafted tokens below are signed with the *real* pinned token key, so only
our own claim checks can catch them."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

import pyseto
import pytest
from bindings import binding_for
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyseto import Key
from sqlgate import errors
from sqlgate.trust.keys import Keyset, Signer
from sqlgate.trust.tokens import issue_token, verify_token
from sqlgate.trust.verdict import sha256_hex
from sqlgate_client import errors as client_errors
from sqlgate_client.trust.tokens import implicit_assertion
from sqlgate_client.trust.tokens import verify_token as client_verify_token

CONTEXT = {"environment": "production", "target": "main-db", "runner": "runner-1"}


def _issue(keyset: Keyset, digests: dict[str, str], now: datetime, **kw: Any) -> str:
    args: dict[str, Any] = {
        "verdict_id": "vd_01",
        "digests": digests,
        "binding": binding_for(digests),
        **CONTEXT,
        "now": now,
    }
    args.update(kw)
    return issue_token(keyset.signer("token"), **args).token


def _verify(token: str, keyset: Keyset, digests: dict[str, str], now: datetime, **kw: Any) -> Any:
    args: dict[str, Any] = {**CONTEXT, "digests": digests, "now": now}
    args.update(kw)
    return verify_token(token, keyset.public_keyset(), **args)


def _craft(
    signer: Signer,
    digests: dict[str, str],
    now: datetime,
    *,
    drop: tuple[str, ...] = (),
    raw_payload: bytes | None = None,
    **claims: Any,
) -> str:
    body: dict[str, Any] = {
        "iss": "sqlgate",
        "aud": "sqlgate-runner",
        "sub": CONTEXT["runner"],
        "jti": "0123456789abcdef0123456789abcdef",
        "verdict_id": "vd_01",
        "digests": digests,
        **CONTEXT,
        "iat": now.isoformat(),
        "nbf": now.isoformat(),
        "exp": (now + timedelta(minutes=5)).isoformat(),
        "binding": binding_for(digests),
    }
    body.update(claims)
    for name in drop:
        del body[name]
    payload = raw_payload if raw_payload is not None else json.dumps(body).encode()
    token = pyseto.encode(
        Key.new(4, "public", signer.private_pem()),
        payload,
        footer=json.dumps({"kid": signer.key_id}).encode(),
        implicit_assertion=implicit_assertion(digests=digests, **CONTEXT),
    )
    return token.decode()


def test_roundtrip(keyset: Keyset, digests: dict[str, str], now: datetime) -> None:
    issued = issue_token(
        keyset.signer("token"),
        verdict_id="vd_01",
        digests=digests,
        binding=binding_for(digests),
        **CONTEXT,
        now=now,
    )
    assert issued.token.startswith("v4.public.")
    assert len(issued.jti) == 32 and issued.exp == now + timedelta(seconds=300)
    claims = _verify(issued.token, keyset, digests, now)
    assert claims.jti == issued.jti and claims.verdict_id == "vd_01"
    assert claims.digests == digests and claims.key_id == keyset.signer("token").key_id
    footer = json.loads(base64.urlsafe_b64decode(issued.token.split(".")[3] + "=="))
    assert footer == {"kid": keyset.signer("token").key_id}


def test_each_token_has_a_fresh_jti(keyset: Keyset, digests: dict[str, str], now: datetime) -> None:
    b4 = binding_for(digests)
    a = issue_token(
        keyset.signer("token"), verdict_id="v", digests=digests, binding=b4, **CONTEXT, now=now
    )
    b = issue_token(
        keyset.signer("token"), verdict_id="v", digests=digests, binding=b4, **CONTEXT, now=now
    )
    assert a.jti != b.jti


def test_staging_token_presented_for_production(
    keyset: Keyset, digests: dict[str, str], now: datetime
) -> None:
    token = _issue(keyset, digests, now, environment="staging")
    with pytest.raises(errors.ClaimError, match="environment='staging'"):
        _verify(token, keyset, digests, now)


def test_token_for_another_target(keyset: Keyset, digests: dict[str, str], now: datetime) -> None:
    token = _issue(keyset, digests, now, target="replica-db")
    with pytest.raises(errors.ClaimError, match="target"):
        _verify(token, keyset, digests, now)


def test_token_for_another_runner(keyset: Keyset, digests: dict[str, str], now: datetime) -> None:
    token = _issue(keyset, digests, now, runner="runner-2")
    with pytest.raises(errors.ClaimError, match="runner"):
        _verify(token, keyset, digests, now)


def test_token_for_other_bytes(keyset: Keyset, digests: dict[str, str], now: datetime) -> None:
    token = _issue(keyset, digests, now)
    changed = dict(digests, **{"migrations/001_users.sql": sha256_hex(b"DROP TABLE users;")})
    with pytest.raises(errors.ClaimError, match="digests"):
        _verify(token, keyset, changed, now)
    with pytest.raises(errors.ClaimError, match="digests"):
        _verify(token, keyset, {k: digests[k] for k in list(digests)[:1]}, now)


def test_expired_token(keyset: Keyset, digests: dict[str, str], now: datetime) -> None:
    token = _issue(keyset, digests, now, ttl_s=60)
    _verify(token, keyset, digests, now + timedelta(seconds=59))
    with pytest.raises(errors.TokenExpired, match="'exp'"):
        _verify(token, keyset, digests, now + timedelta(seconds=60 + 30))


def test_not_yet_valid_token(keyset: Keyset, digests: dict[str, str], now: datetime) -> None:
    token = _issue(keyset, digests, now + timedelta(minutes=5))
    with pytest.raises(errors.TokenExpired, match="'nbf'"):
        _verify(token, keyset, digests, now)


def test_exp_more_than_15_minutes_after_iat(
    keyset: Keyset, digests: dict[str, str], now: datetime
) -> None:
    token = _craft(
        keyset.signer("token"), digests, now, exp=(now + timedelta(seconds=901)).isoformat()
    )
    with pytest.raises(errors.ClaimError, match="more than 900"):
        _verify(token, keyset, digests, now)
    with pytest.raises(errors.ClaimError, match="ttl"):
        _issue(keyset, digests, now, ttl_s=901)


@pytest.mark.parametrize("claim", ["exp", "jti", "verdict_id", "nbf", "iat", "aud", "iss", "sub"])
def test_missing_required_claim(
    keyset: Keyset, digests: dict[str, str], now: datetime, claim: str
) -> None:
    token = _craft(keyset.signer("token"), digests, now, drop=(claim,))
    with pytest.raises(errors.ClaimError, match=f"missing required claim.*{claim}"):
        _verify(token, keyset, digests, now)


def test_crafted_valid_token_is_accepted(
    keyset: Keyset, digests: dict[str, str], now: datetime
) -> None:
    # Control for the crafted-token tests: unmodified, it verifies.
    _verify(_craft(keyset.signer("token"), digests, now), keyset, digests, now)


@pytest.mark.parametrize(
    ("claim", "value", "message"),
    [
        ("aud", "someone-else", "'aud'"),
        ("iss", "evil", "'iss'"),
        ("sub", "runner-2", "'sub'"),
        ("jti", "short", "'jti'"),
        ("exp", 1893499200, "'exp'"),
        ("verdict_id", 5, "'verdict_id'"),
    ],
)
def test_wrong_claim_values(
    keyset: Keyset, digests: dict[str, str], now: datetime, claim: str, value: Any, message: str
) -> None:
    token = _craft(keyset.signer("token"), digests, now, **{claim: value})
    with pytest.raises(errors.ClaimError, match=message):
        _verify(token, keyset, digests, now)


def test_duplicate_keys_in_claims(keyset: Keyset, digests: dict[str, str], now: datetime) -> None:
    good = _craft(keyset.signer("token"), digests, now)
    body = base64.urlsafe_b64decode(good.split(".")[2] + "==")[:-64].decode()
    text = body.replace('"verdict_id": "vd_01"', '"verdict_id": "vd_01", "verdict_id": "vd_02"')
    assert text.count('"verdict_id"') == 2
    token = _craft(keyset.signer("token"), digests, now, raw_payload=text.encode())
    with pytest.raises(errors.ClaimError, match="duplicate key 'verdict_id'"):
        _verify(token, keyset, digests, now)


def _swap_footer(token: str, footer: dict[str, str]) -> str:
    head, ver, body, _ = token.split(".")
    enc = base64.urlsafe_b64encode(json.dumps(footer).encode()).rstrip(b"=").decode()
    return f"{head}.{ver}.{body}.{enc}"


def test_tampered_footer(keyset: Keyset, digests: dict[str, str], now: datetime) -> None:
    token = _issue(keyset, digests, now)
    old = keyset.signer("token").key_id
    keyset.rotate("token")  # two pinned token keys now
    new = keyset.signer("token").key_id
    swapped = _swap_footer(token, {"kid": new})
    with pytest.raises(errors.SignatureError):
        _verify(swapped, keyset, digests, now)
    # Same kid, different footer bytes: still authenticated, still refused.
    spaced = (
        token.rsplit(".", 1)[0]
        + "."
        + base64.urlsafe_b64encode(json.dumps({"kid": old}, indent=1).encode())
        .rstrip(b"=")
        .decode()
    )
    with pytest.raises(errors.SignatureError):
        _verify(spaced, keyset, digests, now)


def test_unknown_kid(keyset: Keyset, digests: dict[str, str], now: datetime) -> None:
    token = _swap_footer(_issue(keyset, digests, now), {"kid": "sqlgate-token-0000000000000000"})
    with pytest.raises(errors.KeyError_, match="not in the pinned keyset"):
        _verify(token, keyset, digests, now)


def test_revoked_kid_after_rotation(keyset: Keyset, digests: dict[str, str], now: datetime) -> None:
    token = _issue(keyset, digests, now)
    old = keyset.signer("token").key_id
    keyset.rotate("token")
    _verify(token, keyset, digests, now)  # verify-only key still verifies
    keyset.revoke(old)
    with pytest.raises(errors.KeyError_, match="revoked"):
        _verify(token, keyset, digests, now)


def test_kid_of_wrong_purpose(keyset: Keyset, digests: dict[str, str], now: datetime) -> None:
    with pytest.raises(errors.KeyError_, match="tokens need a token key"):
        issue_token(
            keyset.signer("verdict"),
            verdict_id="v",
            digests=digests,
            binding=binding_for(digests),
            **CONTEXT,
            now=now,
        )
    token = _craft(keyset.signer("verdict"), digests, now)
    with pytest.raises(errors.KeyError_, match="not a token key"):
        _verify(token, keyset, digests, now)


def test_forged_signature(keyset: Keyset, digests: dict[str, str], now: datetime) -> None:
    real = keyset.signer("token")
    forger = Signer(real.key_id, "token", Ed25519PrivateKey.generate())
    token = _craft(forger, digests, now)
    with pytest.raises(errors.SignatureError):
        _verify(token, keyset, digests, now)


def test_bit_flipped_token(keyset: Keyset, digests: dict[str, str], now: datetime) -> None:
    token = _issue(keyset, digests, now)
    head, ver, body, footer = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[-1] ^= 0x01  # last signature byte
    flipped = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(errors.SignatureError):
        _verify(f"{head}.{ver}.{flipped}.{footer}", keyset, digests, now)
    raw[-1] ^= 0x01
    raw[5] ^= 0x20  # a payload byte
    flipped = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(errors.SignatureError):
        _verify(f"{head}.{ver}.{flipped}.{footer}", keyset, digests, now)


def test_token_without_footer(keyset: Keyset, digests: dict[str, str], now: datetime) -> None:
    token = _issue(keyset, digests, now).rsplit(".", 1)[0]
    with pytest.raises(errors.SignatureError, match="footer"):
        _verify(token, keyset, digests, now)


def test_client_verifier_raises_client_errors(
    keyset: Keyset, digests: dict[str, str], now: datetime
) -> None:
    token = _issue(keyset, digests, now, environment="staging")
    with pytest.raises(client_errors.ClaimError):
        client_verify_token(token, keyset.public_keyset(), **CONTEXT, digests=digests, now=now)
