"""The runner's calls to the sqlgate server: GetKeys, IssueExecutionToken, RedeemToken,
ReportExecution, each with the API token as ``authorization: Bearer`` metadata.

gRPC failures become runner errors with their exit codes: a refused redemption (or
token issuance) is RedeemRefused (14), except an issuance refused because the verdict
is for another environment or target, which is ContextMismatch (12); an unreachable
or failing server is ServerUnavailable (17).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

import grpc

from sqlgate_client.gen.sqlgate.v1 import (
    common_pb2,
    execution_pb2,
    execution_pb2_grpc,
    keys_pb2,
    keys_pb2_grpc,
)
from sqlgate_client.runner.errors import (
    ContextMismatch,
    RedeemRefused,
    ServerUnavailable,
    UsageError,
)

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


class Remote:
    """One channel to the server for the whole run."""

    def __init__(
        self,
        address: str,
        *,
        api_token: str | None,
        timeout_s: float = 30.0,
        ca_cert: bytes | None = None,
        tls: bool = False,
    ) -> None:
        if not address:
            raise UsageError("--server is required")
        self.address = address
        if tls or ca_cert is not None:
            creds = grpc.ssl_channel_credentials(root_certificates=ca_cert)
            self.channel = grpc.secure_channel(address, creds)
        else:
            self.channel = grpc.insecure_channel(address)
        self.metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {api_token}"),) if api_token else ()
        )
        self.timeout_s = timeout_s
        self.execution = execution_pb2_grpc.ExecutionServiceStub(self.channel)
        self.keys = keys_pb2_grpc.KeyServiceStub(self.channel)

    def __enter__(self) -> Remote:
        return self

    def __exit__(
        self,
        _t: type[BaseException] | None,
        _e: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.channel.close()

    def _unavailable(self, what: str, exc: grpc.RpcError) -> ServerUnavailable:
        code = exc.code() if isinstance(exc, grpc.Call) else None
        detail = exc.details() if isinstance(exc, grpc.Call) else str(exc)
        name = code.name if code is not None else "ERROR"
        return ServerUnavailable(f"{what} at {self.address} failed: {name}: {detail}")

    def get_keys(self) -> keys_pb2.GetKeysResponse:
        try:
            return self.keys.GetKeys(
                keys_pb2.GetKeysRequest(), timeout=self.timeout_s, metadata=self.metadata
            )
        except grpc.RpcError as exc:
            raise self._unavailable("GetKeys", exc) from exc

    def issue_token(
        self, verdict_id: str, environment: str, target: str
    ) -> execution_pb2.IssueExecutionTokenResponse:
        request = execution_pb2.IssueExecutionTokenRequest(
            verdict_id=verdict_id, environment=environment, target=target
        )
        try:
            return self.execution.IssueExecutionToken(
                request, timeout=self.timeout_s, metadata=self.metadata
            )
        except grpc.RpcError as exc:
            code = exc.code() if isinstance(exc, grpc.Call) else None
            if code in _REFUSALS and isinstance(exc, grpc.Call):
                details = exc.details() or ""
                if details.split(":", 1)[0] in _CONTEXT_REASONS:
                    raise ContextMismatch(
                        f"the server refused a token for verdict {verdict_id}: {details} "
                        f"(the verdict was reviewed for another environment or target than "
                        f"--env {environment} --target {target})"
                    ) from exc
                raise RedeemRefused(
                    f"the server refused a token for verdict {verdict_id}: "
                    f"{code.name if code else ''}: {exc.details()}"
                ) from exc
            raise self._unavailable("IssueExecutionToken", exc) from exc

    def redeem(
        self, token: str, environment: str, target: str, digests: Mapping[str, str]
    ) -> execution_pb2.RedeemTokenResponse:
        request = execution_pb2.RedeemTokenRequest(
            token=token,
            environment=environment,
            target=target,
            digests=[common_pb2.FileDigest(path=p, sha256=d) for p, d in sorted(digests.items())],
        )
        try:
            return self.execution.RedeemToken(
                request, timeout=self.timeout_s, metadata=self.metadata
            )
        except grpc.RpcError as exc:
            code = exc.code() if isinstance(exc, grpc.Call) else None
            if code in _REFUSALS and isinstance(exc, grpc.Call):
                raise RedeemRefused(
                    f"redemption refused: {code.name if code else ''}: {exc.details()} "
                    "(a token is single-use; nothing was executed)"
                ) from exc
            raise self._unavailable("RedeemToken", exc) from exc

    def report(
        self, request: execution_pb2.ReportExecutionRequest
    ) -> execution_pb2.ReportExecutionResponse:
        try:
            return self.execution.ReportExecution(
                request, timeout=self.timeout_s, metadata=self.metadata
            )
        except grpc.RpcError as exc:
            raise self._unavailable("ReportExecution", exc) from exc
