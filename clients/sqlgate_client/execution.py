"""Thin client calls for the execution side of the API: tokens, keys and audit.

Each call carries the API token as ``authorization: Bearer``. A refusal comes back as
``CallRefused`` with the gRPC status name and the server's message (which starts with
the refusal's reason code, e.g. ``replay: token ... was already redeemed``), so callers
and tests can tell a replay (FAILED_PRECONDITION) from a forged token
(UNAUTHENTICATED) without parsing prose. The runner wraps this client to map refusals
to its exit codes (``sqlgate_client.runner.remote``); tools and the ``sqlgate token``
command use it directly. The channel comes from ``sqlgate_client.channel.open_channel``
(plaintext, TLS or mTLS per ``TlsOptions``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import grpc

from sqlgate_client.channel import bearer, open_channel
from sqlgate_client.gen.sqlgate.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    common_pb2,
    execution_pb2,
    execution_pb2_grpc,
    keys_pb2,
    keys_pb2_grpc,
    review_pb2,
    review_pb2_grpc,
)
from sqlgate_client.tls import TlsOptions
from sqlgate_client.trust.keyset import PublicKeyset


class CallRefused(Exception):
    """The server answered with a non-OK status."""

    def __init__(self, method: str, code: grpc.StatusCode | None, details: str) -> None:
        self.method = method
        self.code = code
        self.details = details
        self.reason = details.split(":", 1)[0] if ":" in details else ""
        name = code.name if code is not None else "UNKNOWN"
        super().__init__(f"{method}: {name}: {details}")


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_id: str
    expires_at: datetime


@dataclass(frozen=True)
class Redeemed:
    token_id: str
    verdict_id: str
    redeemed_at: datetime


class ExecutionClient:
    """One channel to a sqlgate server; use as a context manager to close it."""

    def __init__(
        self,
        address: str,
        *,
        api_token: str | None,
        timeout_s: float = 30.0,
        tls: TlsOptions | None = None,
    ) -> None:
        """TlsOptionError when a TLS file named in ``tls`` cannot be read."""
        self.address = address
        self.channel = open_channel(address, tls=tls)
        self.metadata = bearer(api_token)
        self.timeout_s = timeout_s
        self._execution = execution_pb2_grpc.ExecutionServiceStub(self.channel)
        self._keys = keys_pb2_grpc.KeyServiceStub(self.channel)
        self._audit = audit_pb2_grpc.AuditServiceStub(self.channel)
        self._review = review_pb2_grpc.ReviewServiceStub(self.channel)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        _t: type[BaseException] | None,
        _e: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.channel.close()

    def _refused(self, method: str, exc: grpc.RpcError) -> CallRefused:
        if isinstance(exc, grpc.Call):
            return CallRefused(method, exc.code(), exc.details() or "")
        return CallRefused(method, None, str(exc))

    def issue_token(self, verdict_id: str, environment: str, target: str) -> IssuedToken:
        request = execution_pb2.IssueExecutionTokenRequest(
            verdict_id=verdict_id, environment=environment, target=target
        )
        try:
            response = self._execution.IssueExecutionToken(
                request, timeout=self.timeout_s, metadata=self.metadata
            )
        except grpc.RpcError as exc:
            raise self._refused("IssueExecutionToken", exc) from exc
        return IssuedToken(response.token, response.token_id, response.expires_at.ToDatetime(UTC))

    def redeem(
        self, token: str, environment: str, target: str, digests: Mapping[str, str]
    ) -> Redeemed:
        request = execution_pb2.RedeemTokenRequest(
            token=token,
            environment=environment,
            target=target,
            digests=[common_pb2.FileDigest(path=p, sha256=d) for p, d in sorted(digests.items())],
        )
        try:
            response = self._execution.RedeemToken(
                request, timeout=self.timeout_s, metadata=self.metadata
            )
        except grpc.RpcError as exc:
            raise self._refused("RedeemToken", exc) from exc
        return Redeemed(
            response.token_id, response.verdict_id, response.redeemed_at.ToDatetime(UTC)
        )

    def report(self, request: execution_pb2.ReportExecutionRequest) -> int:
        """Send a report; returns the audit sequence of its event."""
        return self.report_response(request).audit_sequence

    def report_response(
        self, request: execution_pb2.ReportExecutionRequest
    ) -> execution_pb2.ReportExecutionResponse:
        """Send a report; the whole answer (audit sequence and its signed checkpoint)."""
        try:
            return self._execution.ReportExecution(
                request, timeout=self.timeout_s, metadata=self.metadata
            )
        except grpc.RpcError as exc:
            raise self._refused("ReportExecution", exc) from exc

    def submit_rehearsal(self, request: execution_pb2.SubmitRehearsalRequest) -> tuple[int, bool]:
        """(audit sequence, passed) of the recorded rehearsal evidence."""
        try:
            response = self._execution.SubmitRehearsal(
                request, timeout=self.timeout_s, metadata=self.metadata
            )
        except grpc.RpcError as exc:
            raise self._refused("SubmitRehearsal", exc) from exc
        return response.audit_sequence, response.passed

    def get_verdict(self, verdict_id: str) -> bytes:
        """The signed verdict's DSSE envelope (unverified: check it against pinned keys)."""
        try:
            response = self._review.GetVerdict(
                review_pb2.GetVerdictRequest(verdict_id=verdict_id),
                timeout=self.timeout_s,
                metadata=self.metadata,
            )
        except grpc.RpcError as exc:
            raise self._refused("GetVerdict", exc) from exc
        return bytes(response.verdict)

    def get_keys(self) -> PublicKeyset:
        """The server's public keys with their states (unverified: pin what you trust)."""
        try:
            response = self._keys.GetKeys(
                keys_pb2.GetKeysRequest(), timeout=self.timeout_s, metadata=self.metadata
            )
        except grpc.RpcError as exc:
            raise self._refused("GetKeys", exc) from exc
        return PublicKeyset.from_proto(response)

    def list_audit_events(
        self, after_sequence: int = 0, limit: int = 0
    ) -> list[audit_pb2.AuditEvent]:
        request = audit_pb2.ListAuditEventsRequest(after_sequence=after_sequence, limit=limit)
        try:
            response = self._audit.ListAuditEvents(
                request, timeout=self.timeout_s, metadata=self.metadata
            )
        except grpc.RpcError as exc:
            raise self._refused("ListAuditEvents", exc) from exc
        return list(response.events)

    def verify_audit(self) -> audit_pb2.VerifyAuditResponse:
        try:
            return self._audit.VerifyAudit(
                audit_pb2.VerifyAuditRequest(), timeout=self.timeout_s, metadata=self.metadata
            )
        except grpc.RpcError as exc:
            raise self._refused("VerifyAudit", exc) from exc
