"""Check over gRPC on a real server: fuzzed migrations get a result or INVALID_ARGUMENT."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from hypothesis import given, settings
from serving import TEST_ENVIRONMENTS, address_of, serving
from sqlgate.auth.identities import hash_token, new_token
from sqlgate.config import PrincipalConfig, ServerConfig, with_overrides
from sqlgate.trust.keys import Keyset
from sqlgate_client.gen.sqlgate.v1 import common_pb2, review_pb2, review_pb2_grpc

from .strategies import sqlish_bytes
from .test_regressions import ARRAY

_DIALECTS = {"postgres": common_pb2.DIALECT_POSTGRES, "mysql": common_pb2.DIALECT_MYSQL}


@pytest.fixture(scope="module")
def check(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    base: Path = tmp_path_factory.mktemp("fuzz-server")
    Keyset.generate(base / "keys")
    token = new_token()
    principal = PrincipalConfig(id="fuzzer", tokens=(hash_token(token),), roles={"author": ("*",)})
    config = dataclasses.replace(
        with_overrides(ServerConfig(), listen="127.0.0.1:0"),
        keys=base / "keys",
        store=f"sqlite:///{base / 'sqlgate.db'}",
        principals=(principal,),
        environments=TEST_ENVIRONMENTS,
    )
    with serving(config) as running, grpc.insecure_channel(address_of(running)) as channel:
        stub = review_pb2_grpc.ReviewServiceStub(channel)

        def call(content: bytes, dialect: str) -> grpc.StatusCode:
            request = review_pb2.CheckRequest(
                environment="production",
                target="main-db",
                dialect=_DIALECTS[dialect],
                migrations=[review_pb2.Migration(path="f.sql", content=content)],
            )
            try:
                stub.Check(request, timeout=120, metadata=(("authorization", f"Bearer {token}"),))
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT, (exc.code(), exc.details())
                assert (exc.details() or "").startswith("f.sql: ")
                return exc.code()  # type: ignore[no-any-return]
            return grpc.StatusCode.OK

        yield call


@pytest.mark.parametrize("dialect", ["postgres", "mysql"])
@settings(max_examples=15)
@given(data=sqlish_bytes())
def test_check_never_answers_internal(check: object, dialect: str, data: bytes) -> None:
    check(data, dialect)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (f"CREATE TABLE t (a int[] DEFAULT {ARRAY});".encode(), grpc.StatusCode.OK),
        (b"SELECT " + b"(" * 5000 + b"1" + b")" * 5000, grpc.StatusCode.INVALID_ARGUMENT),
        (b"SELECT '\xff';", grpc.StatusCode.INVALID_ARGUMENT),
        (b"SELECT 1 /* /* */", grpc.StatusCode.OK),
    ],
)
def test_check_regressions(check: object, content: bytes, code: grpc.StatusCode) -> None:
    for dialect in ("postgres", "mysql"):
        assert check(content, dialect) == code  # type: ignore[operator]
