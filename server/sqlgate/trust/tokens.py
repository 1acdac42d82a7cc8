"""Issuing execution tokens: PASETO v4.public, signed with the active token key.

A token is short-lived (at most 15 minutes), single use (its random ``jti`` is what
the store redeems once) and bound to the verdict, the exact file digests, the
environment, the target and the runner — both as claims and as the implicit
assertion the runner recomputes — and it carries the verdict's binding (order, dialect,
expansion digests, statement spans, settings, target identity) as a claim. The
footer carries only the key id.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, ParamSpec, TypeVar

import pyseto
from pyseto import Key
from sqlgate_client.trust.strictjson import dumps_canonical
from sqlgate_client.trust.tokens import (
    AUDIENCE,
    ISSUER,
    MAX_TTL_S,
    implicit_assertion,
)
from sqlgate_client.trust.tokens import verify_token as _verify_token
from sqlgate_client.trust.verdict import format_time

from sqlgate.errors import ClaimError, KeyError_
from sqlgate.trust.errors import server_errors
from sqlgate.trust.keys import Signer

__all__ = ["IssuedToken", "issue_token", "verify_token"]

P = ParamSpec("P")
R = TypeVar("R")


class IssuedToken(NamedTuple):
    token: str
    jti: str
    exp: datetime


def issue_token(
    signer: Signer,
    *,
    verdict_id: str,
    digests: Mapping[str, str],
    environment: str,
    target: str,
    runner: str,
    binding: Mapping[str, Any],
    ttl_s: int = 300,
    now: datetime | None = None,
) -> IssuedToken:
    """Sign a single-use execution token; returns (token, jti, exp)."""
    if signer.purpose != "token":
        raise KeyError_(f"{signer.key_id} is a {signer.purpose} key; tokens need a token key")
    if not 0 < ttl_s <= MAX_TTL_S:
        raise ClaimError(f"token ttl must be between 1 and {MAX_TTL_S} seconds, got {ttl_s}")
    if not digests:
        raise ClaimError("a token must bind at least one file digest")
    for name, value in (
        ("verdict_id", verdict_id),
        ("environment", environment),
        ("target", target),
        ("runner", runner),
    ):
        if not value:
            raise ClaimError(f"token claim {name!r} must be non-empty")
    issued = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    expires = issued + timedelta(seconds=ttl_s)
    jti = secrets.token_hex(16)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": runner,
        "jti": jti,
        "verdict_id": verdict_id,
        "digests": dict(sorted(digests.items())),
        "environment": environment,
        "target": target,
        "runner": runner,
        "iat": format_time(issued),
        "nbf": format_time(issued),
        "exp": format_time(expires),
        "binding": dict(binding),
    }
    assertion = implicit_assertion(
        environment=environment, target=target, runner=runner, digests=digests
    )
    token = pyseto.encode(
        Key.new(4, "public", signer.private_pem()),
        dumps_canonical(claims),
        footer=dumps_canonical({"kid": signer.key_id}),
        implicit_assertion=assertion,
    )
    return IssuedToken(token.decode("ascii"), jti, expires)


def _raising_server_errors(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        with server_errors():
            return fn(*args, **kwargs)

    return wrapped


verify_token = _raising_server_errors(_verify_token)
"""``sqlgate_client.trust.tokens.verify_token`` (the one implementation of the token
checks) raising ``sqlgate.errors`` classes."""
