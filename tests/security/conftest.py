"""A real sqlgate server on 127.0.0.1 for attack tests, on SQLite and on PostgreSQL.

Principals are scoped per environment on purpose (a staging-only runner, auditor and
ci), so tests can try to cross environments. Keys and API tokens are made per test.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from serving import address_of, pg_store_url, principals_config, serving
from sqlgate.config import EnvironmentRules, ServerConfig
from sqlgate.rpc.server import RunningServer
from sqlgate_client.channel import open_channel
from sqlgate_client.gen.sqlgate.v1 import common_pb2, review_pb2, review_pb2_grpc

ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    "alice": {"author": ("*",)},
    "bob": {"approver": ("production", "staging")},
    "olga": {"operator": ("*",), "approver": ("*",)},
    "ci-bot": {"ci": ("*",)},
    "ci-stg": {"ci": ("staging",)},
    "rita": {"runner": ("production",)},
    "stan": {"runner": ("staging",)},
    "audrey": {"auditor": ("*",)},
    "aud-stg": {"auditor": ("staging",)},
    "nobody": {},
}
SAFE = b"CREATE TABLE t (id bigint PRIMARY KEY);\n"
TYPE_CHANGE = b"ALTER TABLE orders ALTER COLUMN amount TYPE numeric(20,2);\n"


@dataclasses.dataclass
class Env:
    running: RunningServer
    tokens: dict[str, str]
    channel: grpc.Channel

    def meta(self, who: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[who]}"),)

    def events(self) -> list[Any]:
        return list(self.running.app.store.iter_audit())

    def check(
        self,
        who: str,
        content: bytes = SAFE,
        *,
        environment: str = "production",
        author: str = "",
        path: str = "db/V1__x.sql",
    ) -> review_pb2.CheckResponse:
        request = review_pb2.CheckRequest(
            environment=environment,
            target="main-db",
            dialect=common_pb2.DIALECT_POSTGRES,
            repo="acme/app",
            commit="abc123",
            author=author,
            migrations=[review_pb2.Migration(path=path, content=content)],
        )
        stub = review_pb2_grpc.ReviewServiceStub(self.channel)
        return stub.Check(request, timeout=60, metadata=self.meta(who))


def security_config(tmp: Path, store: str) -> tuple[ServerConfig, dict[str, str]]:
    environments = {
        "production": EnvironmentRules(approvers=1),
        "staging": EnvironmentRules(approvers=1),
    }
    return principals_config(tmp, store, ROLES, environments)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sqlgate.db'}"
    return str(pg_store_url(request.getfixturevalue("pg_dsn"), f"s_{uuid.uuid4().hex[:10]}"))


@pytest.fixture
def env(tmp_path: Path, store_url: str) -> Iterator[Env]:
    config, tokens = security_config(tmp_path, store_url)
    with serving(config) as running, open_channel(address_of(running), tls=None) as channel:
        yield Env(running, tokens, channel)
