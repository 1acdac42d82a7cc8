"""One log line and the RPC metrics per call, from the outermost server interceptor.

``CallInterceptor`` runs before authentication, so refused and unauthenticated calls
(tamper attempts included) are counted and logged like any other. The inner layers add
what only they know through ``note`` (the auth interceptor: the principal); the rest is
read off the request and response: ``environment``, ``verdict_id`` and ``decision``
fields when the message has them. Health checks and reflection are counted, not logged
(probes would drown the log). Never logged: metadata, tokens, request bodies.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING, Any

import grpc

from sqlgate.observe.metrics import RPC_LATENCY, RPC_REQUESTS

log = logging.getLogger("sqlgate.rpc")

QUIET_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


@dataclass
class CallInfo:
    """What is known about the call in progress; inner layers fill ``principal``."""

    method: str
    principal: str = ""


_CURRENT: contextvars.ContextVar[CallInfo | None] = contextvars.ContextVar(
    "sqlgate_call", default=None
)


def note(*, principal: str) -> None:
    """Record the authenticated principal for this call's log line (no-op outside a call)."""
    info = _CURRENT.get()
    if info is not None:
        info.principal = principal


def _field(message: object, name: str) -> Any:
    descriptor = getattr(message, "DESCRIPTOR", None)
    if descriptor is None or name not in descriptor.fields_by_name:
        return None
    value = getattr(message, name)
    field = descriptor.fields_by_name[name]
    if field.enum_type is not None:
        enum = field.enum_type.values_by_number.get(value)
        if enum is None:
            return str(value)
        return enum.name.removeprefix("DECISION_").lower()
    return value


def _short(method: str) -> str:
    """``/sqlgate.v1.ReviewService/Check`` -> ``ReviewService/Check``."""
    service, _, name = method.lstrip("/").rpartition("/")
    return f"{service.rsplit('.', 1)[-1]}/{name}"


def _code(context: grpc.ServicerContext, failed: bool) -> str:
    # set by abort()/set_code(); None when the handler returned (not in grpc-stubs)
    code = getattr(context, "code", lambda: None)()
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    return "UNKNOWN" if failed else "OK"


def _finish(info: CallInfo, request: object, response: object, code: str, started: float) -> None:
    elapsed = perf_counter() - started
    method = _short(info.method)
    RPC_REQUESTS.labels(method=method, code=code).inc()
    RPC_LATENCY.labels(method=method, code=code).observe(elapsed)
    if info.method.startswith(QUIET_PREFIXES):
        return
    fields: dict[str, Any] = {
        "method": method,
        "code": code,
        "principal": info.principal or None,
        "environment": _field(request, "environment") or None,
        "decision": _field(response, "decision") if response is not None else None,
        "verdict_id": (
            (_field(response, "verdict_id") if response is not None else None)
            or _field(request, "verdict_id")
            or None
        ),
        "latency_ms": round(elapsed * 1000, 3),
    }
    level = logging.INFO if code == "OK" else logging.WARNING
    text = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
    log.log(level, "rpc %s", text, extra={"rpc": fields})


if TYPE_CHECKING:  # the stubs make it generic; the runtime class is not subscriptable
    _Interceptor = grpc.ServerInterceptor[Any, Any]
else:
    _Interceptor = grpc.ServerInterceptor


class CallInterceptor(_Interceptor):
    """Times, counts and logs every call; install it first (outermost)."""

    def _unary(
        self, method: str, behavior: Callable[[Any, grpc.ServicerContext], Any]
    ) -> Callable[[Any, grpc.ServicerContext], Any]:
        def call(request: Any, context: grpc.ServicerContext) -> Any:
            info = CallInfo(method)
            token = _CURRENT.set(info)
            started = perf_counter()
            response = None
            failed = True
            try:
                response = behavior(request, context)
                failed = False
                return response
            finally:
                _CURRENT.reset(token)
                _finish(info, request, response, _code(context, failed), started)

        return call

    def _streaming(
        self, method: str, behavior: Callable[[Any, grpc.ServicerContext], Any]
    ) -> Callable[[Any, grpc.ServicerContext], Iterator[Any]]:
        def call(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            info = CallInfo(method)
            token = _CURRENT.set(info)
            started = perf_counter()
            failed = True
            try:
                yield from behavior(request, context)
                failed = False
            finally:
                _CURRENT.reset(token)
                _finish(info, request, None, _code(context, failed), started)

        return call

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        kw = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, handler.unary_unary), **kw
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._streaming(method, handler.unary_stream), **kw
            )
        return handler  # no client-streaming methods in the API; such calls go unwrapped
