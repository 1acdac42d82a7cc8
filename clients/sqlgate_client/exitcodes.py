"""Exit codes of the ``sqlgate`` CLIs, one table CI can branch on (README "Exit codes").

A decision is 0/1/3; every way of *not* reaching a decision has its own code, so an
unreachable server, a wrong token or a missing policy tree is never read as "deny".
The runner (``sqlgate-runner``) has its own, finer table (docs/runner.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # status codes are matched by name: `check --local` never loads grpc
    import grpc

OK = 0  # allow / success / verified
DENY = 1  # deny, a refusal of the operation, or a verification that failed
USAGE = 2  # usage or input error: bad arguments, unreadable or malformed input, unknown id
NEEDS_APPROVAL = 3  # allowed only after approval
AUTH = 4  # no, unknown or insufficient credentials (UNAUTHENTICATED, PERMISSION_DENIED)
UNAVAILABLE = 5  # server unreachable, timed out, or failed internally; an internal error
CONFIG = 6  # local setup: config file, policy tree, keys or store missing or invalid

BY_DECISION = {"allow": OK, "deny": DENY, "needs_approval": NEEDS_APPROVAL}

_BY_STATUS: dict[str, int] = {
    "INVALID_ARGUMENT": USAGE,
    "RESOURCE_EXHAUSTED": USAGE,
    "OUT_OF_RANGE": USAGE,
    "NOT_FOUND": USAGE,
    "UNAUTHENTICATED": AUTH,
    "PERMISSION_DENIED": AUTH,
    # The server understood and refused the operation (verdict not allowed, expired,
    # superseded, already redeemed): the gate said no.
    "FAILED_PRECONDITION": DENY,
    "ALREADY_EXISTS": DENY,
    "ABORTED": DENY,
}


def for_status(code: grpc.StatusCode | None) -> int:
    """The exit code for a gRPC status a server answered with (anything else: 5)."""
    if code is None:
        return UNAVAILABLE
    return _BY_STATUS.get(code.name, UNAVAILABLE)


# Execution refusals whose status alone misleads: the server answers PERMISSION_DENIED
# for a verdict of another environment/target/runner (the gate refuses the operation,
# the caller's credentials are fine) and NOT_FOUND/INVALID_ARGUMENT for bad ids.
_BY_REASON: dict[str, int] = {
    "environment_mismatch": DENY,
    "target_mismatch": DENY,
    "runner_mismatch": DENY,
    "not_runner": AUTH,
    "verdict_not_found": USAGE,
    "bad_request": USAGE,
}


def for_refusal(code: grpc.StatusCode | None, reason: str) -> int:
    """The exit code for a refused execution call (``reason``: sqlgate.execution.REASONS)."""
    return _BY_REASON.get(reason, for_status(code))


def for_decision(decision: object) -> int:
    """0/1/3 for a decision string; an unknown decision fails closed as deny."""
    return BY_DECISION.get(str(decision), DENY)


def for_exception(exc: BaseException) -> int | None:
    """The exit code for a failure of the thin side's calls, or None if not one of them."""
    from sqlgate_client.check import CheckError, InvalidRequest, NotAuthorized, ServerUnreachable
    from sqlgate_client.execution import CallRefused
    from sqlgate_client.tls import TlsOptionError

    if isinstance(exc, InvalidRequest | TlsOptionError):
        return USAGE
    if isinstance(exc, NotAuthorized):
        return AUTH
    if isinstance(exc, ServerUnreachable):
        return UNAVAILABLE
    if isinstance(exc, CallRefused):
        return for_refusal(exc.code, exc.reason)
    if isinstance(exc, CheckError):
        return for_status(exc.code)
    return None
