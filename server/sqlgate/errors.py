"""sqlgate's error hierarchy: every failure the service can name, and how it surfaces.

Every error fails closed: nothing here is ever turned into an allow.

The TrustError branch also subclasses the thin client's own tree
(``sqlgate_client.errors``: TrustError > SignatureError, KeyRefused, ClaimError >
TokenExpired, DigestMismatch; KeyError_ is the server's KeyRefused), so one ``except``
catches both sides; ``sqlgate.trust.errors.server_errors()`` re-raises client failures
as these classes.

The gRPC layer maps the branches to status codes and the CLI to exit codes
(usage/input: 2).

    SqlgateError
    ├── InputError ............... INVALID_ARGUMENT, CLI exit 2: the request itself is bad
    │   ├── LimitExceeded ........ size, file-count, statement-count or nesting limit
    │   ├── EncodingError ........ bytes that are not valid text in the declared encoding
    │   ├── PlaceholderError ..... a template placeholder with no supplied value
    │   ├── MetadataError ........ a migration's sidecar/header metadata is malformed
    │   └── CatalogError ......... a live schema cannot be read, or a catalog file is malformed
    ├── ConfigError .............. FAILED_PRECONDITION at start-up: bad server config
    │   └── ListenError .......... the listen address cannot be bound (in use: exit 2)
    ├── ParseWorkerError ......... a parse worker process died or the pool is closed (not reviewed)
    ├── Overloaded ............... RESOURCE_EXHAUSTED: the large-request queue is full (retry)
    ├── PolicyError
    │   ├── PolicyLoadError ...... policies/ does not compile or its data is malformed
    │   └── PolicyEvaluationError  the engine failed; the verdict is deny
    │       └── PolicyTimeout .... the engine did not answer in time; the verdict is deny
    ├── AuthError
    │   ├── Unauthenticated ...... UNAUTHENTICATED: no or unknown credentials
    │   └── PermissionDenied ..... PERMISSION_DENIED: known principal, missing role
    ├── TrustError ............... a signature, key or claim does not check out
    │   ├── SignatureError ....... bad or forged signature, wrong payload type
    │   ├── KeyError_ ............ unknown, revoked or wrong-purpose key id
    │   ├── ClaimError ........... a required claim is missing or does not match
    │   │   └── TokenExpired ..... exp/expires_at passed or nbf not reached
    │   └── DigestMismatch ....... the bytes are not the bytes that were reviewed
    ├── ExecutionRefused ......... a token issue/redeem or report refused; ``.reason`` names
    │                              why (audited; the gRPC layer maps reasons to codes)
    ├── StoreError
    │   ├── NotFound ............. NOT_FOUND: no such verdict/token
    │   └── Conflict ............. FAILED_PRECONDITION / ALREADY_EXISTS
    │       └── AlreadyRedeemed .. a single-use token presented a second time
    └── AuditError
        └── ChainBroken .......... an audit row was edited, deleted or reordered
"""

from __future__ import annotations

from sqlgate_client import errors as _client


class SqlgateError(Exception):
    """Root of every error sqlgate raises on purpose."""


class InputError(SqlgateError):
    """The request is malformed; the caller can fix it. Names the file when there is one."""

    def __init__(self, message: str, *, file: str | None = None) -> None:
        self.file = file
        super().__init__(f"{file}: {message}" if file else message)


class LimitExceeded(InputError):
    """A size, count or nesting limit was exceeded before parsing."""


class EncodingError(InputError):
    """File bytes are not valid UTF-8 (after an optional BOM)."""


class PlaceholderError(InputError):
    """A template placeholder has no value supplied for it."""


class ParseWorkerError(SqlgateError):
    """A parse worker process died (or the pool is closed): the set is not reviewed."""


class Overloaded(SqlgateError):
    """The server refuses work it cannot admit now (queue full); the caller may retry."""


class MetadataError(InputError):
    """Migration metadata (sidecar YAML or header block) is malformed."""


class CatalogError(InputError):
    """The live schema could not be read (bad DSN, unreachable database) or is malformed."""


class ConfigError(SqlgateError):
    """The server or CLI configuration is invalid."""


class ListenError(ConfigError):
    """The server cannot bind its listen address (in use by another process, or invalid)."""


class PolicyError(SqlgateError):
    """Something went wrong with the policy set or its evaluation."""


class PolicyLoadError(PolicyError):
    """The policy tree does not load or compile."""


class PolicyEvaluationError(PolicyError):
    """Evaluation failed; callers must deny."""


class PolicyTimeout(PolicyEvaluationError):
    """Evaluation exceeded its time budget; callers must deny."""


class AuthError(SqlgateError):
    """The caller could not be authenticated or is not authorised."""


class Unauthenticated(AuthError):
    """No credentials, or credentials that map to no principal."""


class PermissionDenied(AuthError):
    """The principal lacks the role the call needs."""


class TrustError(SqlgateError, _client.TrustError):
    """A signature, key or claim failed verification."""


class SignatureError(TrustError, _client.SignatureError):
    """A signature is invalid, or the envelope is not what was signed."""


class KeyError_(TrustError, _client.KeyRefused):
    """A key id is unknown or revoked."""


class ClaimError(TrustError, _client.ClaimError):
    """A required claim is missing, malformed or does not match the context."""


class TokenExpired(ClaimError, _client.TokenExpired):
    """The token is outside its validity window (exp passed or nbf not reached)."""


class DigestMismatch(TrustError, _client.DigestMismatch):
    """The bytes presented are not the bytes that were reviewed."""


class ExecutionRefused(SqlgateError):
    """Issuing, redeeming or reporting refused; ``reason`` is a stable code (see
    ``sqlgate.execution.REASONS``), the message says what to fix; the cause is chained."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class StoreError(SqlgateError):
    """The store could not complete an operation."""


class NotFound(StoreError):
    """No record with that id."""


class Conflict(StoreError):
    """The record is not in the state the operation needs."""


class AlreadyRedeemed(Conflict):
    """A single-use token was presented again."""


class AlreadyExecuted(Conflict):
    """Another token of the same verdict was redeemed and not reported as having applied
    nothing: a verdict yields one execution (docs/runner.md, "One verdict, one execution")."""


class AuditError(SqlgateError):
    """The audit log is inconsistent."""


class ChainBroken(AuditError):
    """The hash chain does not verify; carries the first bad sequence number."""

    def __init__(self, message: str, *, sequence: int) -> None:
        self.sequence = sequence
        super().__init__(f"audit event {sequence}: {message}")
