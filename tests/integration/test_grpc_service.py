"""The gRPC surface of a real server: Check, status codes, health, reflection, limits."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from sqlgate.config import LimitsConfig, ServerConfig
from sqlgate.rpc.server import create_server
from sqlgate_client.check import InvalidRequest, MigrationInput, check_remote
from sqlgate_client.gen.sqlgate.v1 import common_pb2, review_pb2, review_pb2_grpc

OK = [MigrationInput("V1__t.sql", b"CREATE TABLE t (id bigint PRIMARY KEY);\n")]


@pytest.fixture
def stub(server_address: str) -> Iterator[review_pb2_grpc.ReviewServiceStub]:
    with grpc.insecure_channel(server_address) as channel:
        yield review_pb2_grpc.ReviewServiceStub(channel)


def _meta() -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {os.environ['SQLGATE_TOKEN']}"),)


def _check(address: str, migrations: list[MigrationInput], **kw: str) -> dict[str, object]:
    args = {"environment": "production", "target": "main-db", "dialect": "postgres"}
    args.update(kw)
    token = os.environ["SQLGATE_TOKEN"]
    return check_remote(address, migrations=migrations, timeout=30, token=token, **args)  # type: ignore[arg-type]


def test_check_allows_a_safe_migration(server_address: str) -> None:
    got = _check(server_address, OK)
    assert got["decision"] == "allow"
    assert got["statements"] == 1
    assert str(got["policy_digest"]).startswith("sha256:")


def test_bad_request_then_good_request_on_the_same_server(server_address: str) -> None:
    with pytest.raises(InvalidRequest, match=r"V2__bad\.sql.*UTF-8"):
        _check(server_address, [MigrationInput("V2__bad.sql", b"SELECT '\xff';")])
    with pytest.raises(InvalidRequest, match="submitted twice"):
        _check(server_address, OK + OK)
    with pytest.raises(InvalidRequest, match="environment is required"):
        _check(server_address, OK, environment="")
    assert _check(server_address, OK)["decision"] == "allow"


def test_unspecified_dialect_is_invalid_argument(
    stub: review_pb2_grpc.ReviewServiceStub,
) -> None:
    request = review_pb2.CheckRequest(
        environment="production",
        target="main-db",
        migrations=[review_pb2.Migration(path="a.sql", content=b"SELECT 1;")],
    )
    with pytest.raises(grpc.RpcError) as info:
        stub.Check(request, timeout=30, metadata=_meta())
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "dialect is required" in (info.value.details() or "")


def test_response_carries_enums(stub: review_pb2_grpc.ReviewServiceStub) -> None:
    request = review_pb2.CheckRequest(
        environment="production",
        target="main-db",
        dialect=common_pb2.DIALECT_POSTGRES,
        migrations=[review_pb2.Migration(path="d.sql", content=b"\nDROP TABLE users;\n")],
    )
    response = stub.Check(request, timeout=30, metadata=_meta())
    assert response.decision == common_pb2.DECISION_NEEDS_APPROVAL
    drop = [f for f in response.findings if f.rule == "drop-table"]
    assert [(f.level, f.file, f.line, f.column) for f in drop] == [
        (common_pb2.LEVEL_APPROVAL, "d.sql", 2, 1)
    ]


def test_get_verdict_of_unknown_id_is_not_found(stub: review_pb2_grpc.ReviewServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as info:
        stub.GetVerdict(review_pb2.GetVerdictRequest(verdict_id="x"), timeout=30, metadata=_meta())
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_health_is_serving(server_address: str) -> None:
    with grpc.insecure_channel(server_address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "sqlgate.v1.ReviewService"):
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=30)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_review_service(server_address: str) -> None:
    with grpc.insecure_channel(server_address) as channel:
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        replies = list(reflection.ServerReflectionInfo(iter([request]), timeout=30))
    names = {s.name for s in replies[0].list_services_response.service}
    assert "sqlgate.v1.ReviewService" in names
    assert "grpc.health.v1.Health" in names


def test_limits_from_config_are_enforced_and_server_keeps_serving(
    trusted: Callable[[ServerConfig], ServerConfig],
) -> None:
    config = trusted(
        ServerConfig(
            listen="127.0.0.1:0",
            limits=LimitsConfig(max_message_bytes=64 * 1024, max_files=2, max_nesting=3),
        )
    )
    running = create_server(config)
    running.server.start()
    address = f"127.0.0.1:{running.port}"
    try:
        three = [MigrationInput(f"V{i}__t.sql", b"SELECT 1;\n") for i in range(3)]
        with pytest.raises(InvalidRequest, match="3 files"):
            _check(address, three)
        huge = [MigrationInput("V1__huge.sql", b"SELECT 1;\n" * 10_000)]
        with pytest.raises(InvalidRequest):
            _check(address, huge)
        nested = [MigrationInput("V1__n.sql", b"SELECT ((((((1))))));\n")]
        with pytest.raises(InvalidRequest, match="nesting"):
            _check(address, nested)
        assert _check(address, OK)["decision"] == "allow"
    finally:
        running.stop()
