"""Every RPC the server registers refuses an unauthenticated caller, and audits it.

The method list comes from the running server itself (reflection's list of services,
then each service's descriptor), so a service added later is covered without editing
this file. Health (probes) and reflection are the only exemptions: reflection serves
only the descriptors of the API whose stubs ship publicly in ``sqlgate_client.gen``,
reads no store and no principal, so requiring credentials for it would hide nothing.
"""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from sqlgate.audit.verify import verify_chain

from .conftest import Env

EXEMPT = {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}


def _registered_methods(env: Env) -> list[tuple[str, bool, bool]]:
    """(/service/method, client streaming, server streaming) of every non-exempt RPC."""
    stub = reflection_pb2_grpc.ServerReflectionStub(env.channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    reply = next(iter(stub.ServerReflectionInfo(iter([request]), timeout=30)))
    names = [s.name for s in reply.list_services_response.service]
    pool = descriptor_pool.Default()
    out = []
    for name in names:
        if name in EXEMPT:
            continue
        service = pool.FindServiceByName(name)
        for m in service.methods:
            out.append((f"/{name}/{m.name}", m.client_streaming, m.server_streaming))
    return out


Metadata = tuple[tuple[str, str | bytes], ...] | None


def _call(env: Env, method: str, cstream: bool, sstream: bool, metadata: Metadata) -> None:
    ident = {"request_serializer": None, "response_deserializer": None}
    ch = env.channel
    md = metadata
    if not cstream and not sstream:
        ch.unary_unary(method, **ident)(b"", timeout=30, metadata=md)
    elif not cstream:
        list(ch.unary_stream(method, **ident)(b"", timeout=30, metadata=md))
    elif not sstream:
        ch.stream_unary(method, **ident)(iter([b""]), timeout=30, metadata=md)
    else:
        list(ch.stream_stream(method, **ident)(iter([b""]), timeout=30, metadata=md))


def _chain_ok(env: Env) -> None:
    app = env.running.app
    keys = app.keyset.public_keyset()

    def check(key_id: str, data: bytes, signature: bytes) -> None:
        keys.verify("checkpoint", key_id, data, signature)

    report = verify_chain(app.store, check)
    assert report.ok, report


def test_every_registered_rpc_refuses_no_credentials_and_audits(env: Env) -> None:
    methods = _registered_methods(env)
    services = {m.split("/")[1] for m, _, _ in methods}
    assert {
        "sqlgate.v1.ReviewService",
        "sqlgate.v1.ExecutionService",
        "sqlgate.v1.KeyService",
        "sqlgate.v1.AuditService",
    } <= services
    for method, cstream, sstream in methods:
        before = len(env.events())
        with pytest.raises(grpc.RpcError) as info:
            _call(env, method, cstream, sstream, None)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED, method
        new = env.events()[before:]
        assert [(e.kind, e.principal, e.details["method"]) for e in new] == [
            ("auth_failed", "unauthenticated", method)
        ]
    _chain_ok(env)


GARBAGE = [
    [("authorization", "Basic YWxpY2U6cHc=")],
    [("authorization", "Bearer")],
    [("authorization", "Bearer    ")],
    [("authorization", "bearer sqg_not-a-token")],
    [("authorization", "Bearer " + "A" * 4000)],
    [("authorization", "Bearer x"), ("authorization", "Bearer y")],
    [("authorization-bin", b"\xff\xfe\x00garbage")],
    [("x-sqlgate-principal", "alice")],
]


@pytest.mark.parametrize("metadata", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_credentials_are_refused_audited_and_not_echoed(
    env: Env, metadata: list[tuple[str, str | bytes]]
) -> None:
    before = len(env.events())
    with pytest.raises(grpc.RpcError) as info:
        _call(env, "/sqlgate.v1.KeyService/GetKeys", False, False, tuple(metadata))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    details = info.value.details() or ""
    (event,) = env.events()[before:]
    assert (event.kind, event.principal) == ("auth_failed", "unauthenticated")
    for _, value in metadata:
        secret = value if isinstance(value, str) else value.decode("latin-1")
        secret = secret.removeprefix("Bearer ").removeprefix("bearer ").strip()
        if len(secret) > 8:
            assert secret not in details
            assert secret not in str(dict(event.details))
    _chain_ok(env)


def test_a_valid_token_of_one_principal_and_a_wrong_one_are_not_confused(env: Env) -> None:
    wrong = env.tokens["alice"][:-2] + ("AA" if not env.tokens["alice"].endswith("AA") else "BB")
    before = len(env.events())
    with pytest.raises(grpc.RpcError) as info:
        _call(
            env,
            "/sqlgate.v1.KeyService/GetKeys",
            False,
            False,
            (("authorization", f"Bearer {wrong}"),),
        )
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert wrong not in (info.value.details() or "")
    (event,) = env.events()[before:]
    assert wrong not in str(dict(event.details))
    # the genuine token still works
    _call(env, "/sqlgate.v1.KeyService/GetKeys", False, False, env.meta("alice"))
