"""One mapping from sqlgate errors to gRPC status codes, shared by every servicer.

Anything not named here is INTERNAL with a short message (the traceback is logged),
never a success.
"""

from __future__ import annotations

import logging
from typing import NoReturn

import grpc

from sqlgate.errors import (
    AlreadyRedeemed,
    Conflict,
    InputError,
    NotFound,
    Overloaded,
    PermissionDenied,
    TrustError,
    Unauthenticated,
)

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 4000  # status details travel percent-encoded in trailers (8 KiB soft cap)


def _wire_bytes(char: str) -> int:
    return 1 if " " <= char <= "~" and char != "%" else 3 * len(char.encode("utf-8", "replace"))


def short(message: str) -> str:
    """``message`` cut to fit a trailer: refusals quote request fields, and an over-long
    grpc-message would turn the refusal into RESOURCE_EXHAUSTED with no reason at all."""
    used = 0
    for i, char in enumerate(message):
        used += _wire_bytes(char)
        if used > MAX_MESSAGE_BYTES - 64:
            return f"{message[:i]}…[{len(message)} chars]"
    return message


_CODES: tuple[tuple[type[Exception], grpc.StatusCode], ...] = (
    (InputError, grpc.StatusCode.INVALID_ARGUMENT),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyRedeemed, grpc.StatusCode.FAILED_PRECONDITION),
    (Conflict, grpc.StatusCode.FAILED_PRECONDITION),
    (TrustError, grpc.StatusCode.FAILED_PRECONDITION),
    (Overloaded, grpc.StatusCode.RESOURCE_EXHAUSTED),
)


def status_for(exc: Exception) -> grpc.StatusCode:
    for cls, code in _CODES:
        if isinstance(exc, cls):
            return code
    return grpc.StatusCode.INTERNAL


def abort(context: grpc.ServicerContext, exc: Exception, what: str) -> NoReturn:
    """Abort the call with the status for ``exc``; INTERNAL hides unexpected details."""
    code = status_for(exc)
    if code is grpc.StatusCode.INTERNAL:
        log.error("%s failed unexpectedly", what, exc_info=exc)
        context.abort(code, f"internal error while handling {what} (logged)")
    context.abort(code, short(str(exc)))
