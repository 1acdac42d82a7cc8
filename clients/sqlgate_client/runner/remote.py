"""The runner's calls to the sqlgate server, through ``sqlgate_client.execution``'s
``ExecutionClient`` (one channel per run), with failures mapped to exit codes.

A refused redemption (or token issuance) is RedeemRefused (14), except an issuance
refused because the verdict is for another environment or target, which is
ContextMismatch (12); an unreachable or failing server is ServerUnavailable (17); a
malformed served keyset is BadSignature (10); unreadable TLS files are UsageError (2).
"""

from __future__ import annotations

from collections.abc import Mapping

import grpc

from sqlgate_client.errors import KeyRefused
from sqlgate_client.execution import CallRefused, ExecutionClient, IssuedToken, Redeemed
from sqlgate_client.gen.sqlgate.v1 import execution_pb2
from sqlgate_client.runner.errors import (
    BadSignature,
    ContextMismatch,
    RedeemRefused,
    ServerUnavailable,
    UsageError,
)
from sqlgate_client.tls import TlsOptionError, TlsOptions
from sqlgate_client.trust.keyset import PublicKeyset

_REFUSALS = {
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.UNAUTHENTICATED,
}


# IssueExecutionToken refusals that mean "wrong --env/--target", not "no token for you".
_CONTEXT_REASONS = {"environment_mismatch", "target_mismatch"}


class Remote(ExecutionClient):
    """ExecutionClient for the whole run, raising runner errors."""

    def __init__(
        self,
        address: str,
        *,
        api_token: str | None,
        timeout_s: float = 30.0,
        tls: TlsOptions | None = None,
    ) -> None:
        if not address:
            raise UsageError("--server is required")
        try:
            super().__init__(address, api_token=api_token, timeout_s=timeout_s, tls=tls)
        except TlsOptionError as exc:
            raise UsageError(str(exc)) from exc

    def _unavailable(self, exc: CallRefused) -> ServerUnavailable:
        name = exc.code.name if exc.code is not None else "ERROR"
        return ServerUnavailable(f"{exc.method} at {self.address} failed: {name}: {exc.details}")

    def get_keys(self) -> PublicKeyset:
        try:
            return super().get_keys()
        except CallRefused as exc:
            raise self._unavailable(exc) from exc
        except KeyRefused as exc:
            raise BadSignature(f"the server's keyset is malformed: {exc}") from exc

    def submit_rehearsal(self, request: execution_pb2.SubmitRehearsalRequest) -> tuple[int, bool]:
        try:
            return super().submit_rehearsal(request)
        except CallRefused as exc:
            if exc.code in (
                grpc.StatusCode.INVALID_ARGUMENT,
                grpc.StatusCode.PERMISSION_DENIED,
                grpc.StatusCode.NOT_FOUND,
            ):
                raise ContextMismatch(f"SubmitRehearsal refused: {exc.details}") from exc
            raise self._unavailable(exc) from exc

    def get_verdict(self, verdict_id: str) -> bytes:
        try:
            return super().get_verdict(verdict_id)
        except CallRefused as exc:
            if exc.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED):
                raise ContextMismatch(f"GetVerdict {verdict_id}: {exc.details}") from exc
            raise self._unavailable(exc) from exc

    def issue_token(self, verdict_id: str, environment: str, target: str) -> IssuedToken:
        try:
            return super().issue_token(verdict_id, environment, target)
        except CallRefused as exc:
            if exc.code not in _REFUSALS:
                raise self._unavailable(exc) from exc
            if exc.details.split(":", 1)[0] in _CONTEXT_REASONS:
                raise ContextMismatch(
                    f"the server refused a token for verdict {verdict_id}: {exc.details} "
                    f"(the verdict was reviewed for another environment or target than "
                    f"--env {environment} --target {target})"
                ) from exc
            name = exc.code.name if exc.code else ""
            raise RedeemRefused(
                f"the server refused a token for verdict {verdict_id}: {name}: {exc.details}"
            ) from exc

    def redeem(
        self, token: str, environment: str, target: str, digests: Mapping[str, str]
    ) -> Redeemed:
        try:
            return super().redeem(token, environment, target, digests)
        except CallRefused as exc:
            if exc.code not in _REFUSALS:
                raise self._unavailable(exc) from exc
            name = exc.code.name if exc.code else ""
            raise RedeemRefused(
                f"redemption refused: {name}: {exc.details} "
                "(a token is single-use; nothing was executed)"
            ) from exc

    def report(self, request: execution_pb2.ReportExecutionRequest) -> int:
        """Send a report; the audit sequence of its event."""
        return self.report_response(request).audit_sequence

    def report_response(
        self, request: execution_pb2.ReportExecutionRequest
    ) -> execution_pb2.ReportExecutionResponse:
        """Send a report; the audit sequence and the signed checkpoint of its event."""
        try:
            return super().report_response(request)
        except CallRefused as exc:
            raise self._unavailable(exc) from exc
