"""Re-raise the thin client's trust failures as the server's error classes.

Verification code lives in ``sqlgate_client.trust`` and raises
``sqlgate_client.errors``; service code (gRPC status mapping, CLI exit codes) expects
``sqlgate.errors``. The server classes subclass the client ones, so this only narrows:
the message and the cause are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlgate_client import errors as client

from sqlgate import errors

# Most specific first: the first isinstance match wins.
_MAP: tuple[tuple[type[client.TrustError], type[errors.TrustError]], ...] = (
    (client.TokenExpired, errors.TokenExpired),
    (client.ClaimError, errors.ClaimError),
    (client.SignatureError, errors.SignatureError),
    (client.KeyRefused, errors.KeyError_),
    (client.DigestMismatch, errors.DigestMismatch),
    (client.TrustError, errors.TrustError),
)


def as_server_error(exc: client.TrustError) -> errors.TrustError:
    """The server class matching ``exc`` (``exc`` itself if it already is one)."""
    if isinstance(exc, errors.TrustError):
        return exc
    for client_cls, server_cls in _MAP:
        if isinstance(exc, client_cls):
            return server_cls(str(exc))
    raise AssertionError("unreachable: TrustError is the last entry")  # pragma: no cover


@contextmanager
def server_errors() -> Iterator[None]:
    """Run a block, re-raising client trust failures as ``sqlgate.errors`` classes."""
    try:
        yield
    except client.TrustError as exc:
        converted = as_server_error(exc)
        if converted is exc:
            raise
        raise converted from exc
