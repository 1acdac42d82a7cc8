"""Offline verification of execution tokens (PASETO v4.public).

A token is bound twice to what the runner is about to do: its claims name the
environment, target, runner and file digests (plus the verdict's *binding*: order,
dialect, template expansion, statement spans, settings, target identity — see
``sqlgate_client.trust.binding``), and the same context, recomputed by the
runner, is the token's *implicit assertion* — signed but not transmitted, so a token
presented for another context does not even verify. Every required claim is checked
here, by our code (pyseto only checks the signature): presence, type, window, audience.
The key id comes from the footer, which PASETO authenticates; an unknown, revoked or
non-token key is refused before any verification.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import pyseto
from pyseto import Key, KeyInterface
from pyseto.exceptions import PysetoError

from sqlgate_client.errors import ClaimError, SignatureError, TokenExpired
from sqlgate_client.trust.binding import Binding, parse_binding
from sqlgate_client.trust.keyset import PublicKeyset
from sqlgate_client.trust.strictjson import dumps_canonical, loads_strict
from sqlgate_client.trust.verdict import parse_time

HEADER: Final = "v4.public."
ISSUER: Final = "sqlgate"
AUDIENCE: Final = "sqlgate-runner"
MAX_TTL_S: Final = 900
CLAIMS: Final = frozenset(
    {
        "iss",
        "aud",
        "sub",
        "jti",
        "verdict_id",
        "digests",
        "environment",
        "target",
        "runner",
        "iat",
        "nbf",
        "exp",
        "binding",
    }
)
_JTI = re.compile(r"[0-9a-f]{32}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def implicit_assertion(
    *, environment: str, target: str, runner: str, digests: Mapping[str, str]
) -> bytes:
    """Canonical JSON of the context a runner recomputes before applying SQL."""
    return dumps_canonical(
        {
            "digests": dict(sorted(digests.items())),
            "environment": environment,
            "runner": runner,
            "target": target,
        }
    )


@dataclass(frozen=True)
class TokenClaims:
    """The verified claims of an execution token."""

    jti: str
    verdict_id: str
    environment: str
    target: str
    runner: str
    digests: Mapping[str, str]
    issued_at: datetime
    not_before: datetime
    expires_at: datetime
    key_id: str
    # The verdict's binding, copied into the token (sqlgate_client.trust.binding).
    binding: Binding


def _footer_kid(token: str) -> str:
    parts = token.split(".")
    if not token.startswith(HEADER) or len(parts) != 4:
        raise SignatureError("not a v4.public PASETO token with a footer")
    try:
        raw = base64.urlsafe_b64decode(parts[3] + "=" * (-len(parts[3]) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("token footer is not base64url") from exc
    footer = loads_strict(raw, what="token footer", error=SignatureError)
    if not isinstance(footer, dict) or set(footer) != {"kid"} or not isinstance(footer["kid"], str):
        raise SignatureError('token footer must be exactly {"kid": "<key id>"}')
    return footer["kid"]


def _verify_raw(key: KeyInterface, token: str, assertion: bytes) -> bytes | None:
    """The signed payload bytes if the token verifies under ``assertion``, else None."""
    try:
        decoded = pyseto.decode(key, token, implicit_assertion=assertion, deserializer=None)
    except (PysetoError, ValueError):
        return None
    payload = decoded.payload
    assert isinstance(payload, bytes)
    return payload


def unverified_claims(token: str) -> Any:
    """The claims a token *says* it carries, None if unreadable: never trusted, only
    used to explain a refusal (which claims differ)."""
    parts = token.split(".")
    if len(parts) < 3:
        return None
    body = parts[2]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None
    try:
        return loads_strict(raw[:-64], what="token claims", error=ClaimError)
    except ClaimError:
        return None


def _context_mismatch(
    key: KeyInterface, token: str, expected: Mapping[str, Any]
) -> ClaimError | None:
    """When the token fails under the runner's context, see whether it is a genuine token
    for *another* context (it verifies under the context its own claims name); if so,
    name the claims that differ. Either way the token is refused."""
    claims = unverified_claims(token)
    if not isinstance(claims, dict):
        return None
    try:
        own = implicit_assertion(
            environment=claims["environment"],
            target=claims["target"],
            runner=claims["runner"],
            digests=claims["digests"],
        )
    except (KeyError, TypeError, AttributeError, ValueError):
        return None
    if _verify_raw(key, token, own) is None:
        return None
    differ = [name for name in sorted(expected) if claims.get(name) != expected[name]]
    return ClaimError(
        "token is bound to another context: "
        + ", ".join(f"{n}={claims.get(n)!r} (expected {expected[n]!r})" for n in differ)
    )


def _text(claims: Mapping[str, Any], name: str) -> str:
    value = claims[name]
    if not isinstance(value, str) or not value:
        raise ClaimError(f"token claim {name!r} must be a non-empty string")
    return value


def verify_token(
    token: str,
    keyset: PublicKeyset,
    *,
    environment: str,
    target: str,
    runner: str,
    digests: Mapping[str, str],
    now: datetime | None = None,
    leeway_s: int = 30,
) -> TokenClaims:
    """Verify an execution token against the context the runner recomputed.

    ``digests`` maps each path to the sha256 hex of the bytes about to be applied.
    Raises KeyRefused (footer kid not a usable pinned token key), SignatureError
    (forged or tampered), ClaimError naming the claim (missing, wrong type, another
    environment/target/runner/digests, lifetime over 15 minutes, wrong aud/iss) or
    TokenExpired (exp passed or nbf not reached, beyond ``leeway_s``).
    """
    kid = _footer_kid(token)
    entry = keyset.usable("token", kid)
    key = Key.new(4, "public", entry.public_pem())
    expected = {
        "environment": environment,
        "target": target,
        "runner": runner,
        "digests": dict(digests),
    }
    assertion = implicit_assertion(
        environment=environment, target=target, runner=runner, digests=digests
    )
    payload = _verify_raw(key, token, assertion)
    if payload is None:
        mismatch = _context_mismatch(key, token, expected)
        if mismatch is not None:
            raise mismatch
        raise SignatureError(f"token signature does not verify under {kid!r}")

    claims = loads_strict(payload, what="token claims", error=ClaimError)
    if not isinstance(claims, dict):
        raise ClaimError("token claims must be a JSON object")
    missing = sorted(CLAIMS - set(claims))
    if missing:
        raise ClaimError(f"token is missing required claim(s): {', '.join(missing)}")
    extra = sorted(set(claims) - CLAIMS)
    if extra:
        raise ClaimError(f"token has unexpected claim(s): {', '.join(extra)}")

    for name in ("iss", "aud", "sub", "jti", "verdict_id", "environment", "target", "runner"):
        _text(claims, name)
    if claims["iss"] != ISSUER:
        raise ClaimError(f"token claim 'iss' is {claims['iss']!r}, expected {ISSUER!r}")
    if claims["aud"] != AUDIENCE:
        raise ClaimError(f"token claim 'aud' is {claims['aud']!r}, expected {AUDIENCE!r}")
    if not _JTI.fullmatch(claims["jti"]):
        raise ClaimError("token claim 'jti' must be 128 random bits as 32 hex digits")
    token_digests = claims["digests"]
    if (
        not isinstance(token_digests, dict)
        or not token_digests
        or not all(isinstance(v, str) and _SHA256.fullmatch(v) for v in token_digests.values())
    ):
        raise ClaimError("token claim 'digests' must map paths to sha256 hex digests")
    binding = parse_binding(claims["binding"])
    if {f.path: f.sha256 for f in binding.files} != token_digests:
        raise ClaimError("token claim 'binding' does not cover exactly the token's digests")
    for name, value in expected.items():
        if claims[name] != value:
            raise ClaimError(f"token claim {name!r} is {claims[name]!r}, expected {value!r}")
    if claims["sub"] != runner:
        raise ClaimError(f"token claim 'sub' is {claims['sub']!r}, expected {runner!r}")

    iat = parse_time(claims["iat"], "token claim 'iat'")
    nbf = parse_time(claims["nbf"], "token claim 'nbf'")
    exp = parse_time(claims["exp"], "token claim 'exp'")
    if not iat < exp:
        raise ClaimError("token claim 'exp' is not after 'iat'")
    if exp - iat > timedelta(seconds=MAX_TTL_S):
        raise ClaimError(f"token claim 'exp' is more than {MAX_TTL_S} s after 'iat'")
    if nbf < iat:
        raise ClaimError("token claim 'nbf' is before 'iat'")
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    leeway = timedelta(seconds=leeway_s)
    if moment >= exp + leeway:
        raise TokenExpired(f"token expired at {claims['exp']} (claim 'exp')")
    if moment + leeway < nbf:
        raise TokenExpired(f"token not valid before {claims['nbf']} (claim 'nbf')")
    if moment + leeway < iat:
        raise TokenExpired(f"token issued in the future at {claims['iat']} (claim 'iat')")
    return TokenClaims(
        jti=claims["jti"],
        verdict_id=claims["verdict_id"],
        environment=environment,
        target=target,
        runner=runner,
        digests=dict(token_digests),
        issued_at=iat,
        not_before=nbf,
        expires_at=exp,
        key_id=kid,
        binding=binding,
    )
