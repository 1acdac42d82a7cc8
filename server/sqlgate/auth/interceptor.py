"""A gRPC server interceptor that authenticates every call (health and reflection aside).

Credentials: ``authorization: Bearer <token>`` metadata and, when the server runs mTLS,
the client certificate the TLS layer verified against the client CA. Each credential
presented must map to a principal and, if both are presented, to the same one. A
failure aborts the call with UNAUTHENTICATED and is recorded as an ``auth_failed``
audit event; success puts the Principal in a contextvar for the servicer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import grpc

from sqlgate.audit.log import AuditLog
from sqlgate.auth.identities import Identities, cert_names
from sqlgate.auth.principal import Principal, reset_principal, set_principal
from sqlgate.errors import Unauthenticated
from sqlgate.observe.calls import note

log = logging.getLogger(__name__)

EXEMPT_PREFIXES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)
ANONYMOUS = "unauthenticated"


def _bearer(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str | None:
    values = [v for k, v in (metadata or ()) if k.lower() == "authorization"]
    if not values:
        return None
    if len(values) > 1:
        raise Unauthenticated("more than one authorization header")
    value = values[0].decode("utf-8", "replace") if isinstance(values[0], bytes) else values[0]
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("authorization metadata must be 'Bearer <token>'")
    return token.strip()


def _peer_cert(context: grpc.ServicerContext) -> bytes | None:
    auth: Mapping[str, Any] = context.auth_context()  # values are lists of bytes at run time
    if list(auth.get("transport_security_type") or ()) != [b"ssl"]:
        return None
    pems = [bytes(p) for p in auth.get("x509_pem_cert") or ()]
    return pems[0] if pems else None


if TYPE_CHECKING:  # the stubs make it generic; the runtime class is not subscriptable
    _Interceptor = grpc.ServerInterceptor[Any, Any]
else:
    _Interceptor = grpc.ServerInterceptor


class AuthInterceptor(_Interceptor):
    """Authenticates each call and exposes the caller through ``current_principal()``."""

    def __init__(self, identities: Identities, audit: AuditLog) -> None:
        self._identities = identities
        self._audit = audit

    def authenticate(self, metadata: Any, context: grpc.ServicerContext) -> Principal:
        """The principal for this call's credentials; Unauthenticated otherwise."""
        token = _bearer(metadata)
        pem = _peer_cert(context)
        by_token = self._identities.by_token(token) if token is not None else None
        by_cert = self._identities.by_cert(cert_names(pem)) if pem is not None else None
        if by_token is None and by_cert is None:
            raise Unauthenticated(
                "no credentials: send 'authorization: Bearer <token>' metadata "
                "(SQLGATE_TOKEN for the CLI) or a client certificate"
            )
        if by_token is not None and by_cert is not None and by_token != by_cert[0]:
            raise Unauthenticated(
                f"API token ({by_token}) and client certificate ({by_cert[0]}) "
                "name different principals"
            )
        if by_cert is not None:
            return Principal(id=by_cert[0], method="mtls", credential=by_cert[1])
        assert by_token is not None
        return Principal(id=by_token, method="token", credential="bearer")

    def _refuse(self, method: str, context: grpc.ServicerContext, exc: Unauthenticated) -> None:
        try:
            self._audit.record(
                "auth_failed",
                ANONYMOUS,
                {"method": method, "reason": str(exc), "status": "UNAUTHENTICATED"},
            )
        except Exception:  # the refusal stands even if the audit write fails
            log.exception("could not record auth_failed audit event")
        context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))

    def _wrap(
        self, method: str, behavior: Callable[[Any, grpc.ServicerContext], Any], streaming: bool
    ) -> Callable[[Any, grpc.ServicerContext], Any]:
        def call(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                principal = self.authenticate(context.invocation_metadata(), context)
            except Unauthenticated as exc:
                self._refuse(method, context, exc)
                raise  # pragma: no cover - abort raises
            note(principal=principal.id)
            if streaming:
                return _with_principal_iter(principal, behavior, request, context)
            token = set_principal(principal)
            try:
                return behavior(request, context)
            finally:
                reset_principal(token)

        return call

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(EXEMPT_PREFIXES):
            return handler
        kw = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap(method, handler.unary_unary, False), **kw
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap(method, handler.unary_stream, True), **kw
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap(method, handler.stream_unary, False), **kw
            )
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                self._wrap(method, handler.stream_stream, True), **kw
            )
        return handler


def _with_principal_iter(
    principal: Principal,
    behavior: Callable[[Any, grpc.ServicerContext], Any],
    request: Any,
    context: grpc.ServicerContext,
) -> Iterator[Any]:
    token = set_principal(principal)
    try:
        yield from behavior(request, context)
    finally:
        reset_principal(token)
