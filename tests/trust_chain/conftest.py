"""A real sqlgate server on 127.0.0.1 with demo principals, on SQLite and on PostgreSQL.

Keys are generated per test in tmp_path; tokens are random; each PostgreSQL test gets
its own schema through ``?schema=`` on the session database.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from serving import address_of, pg_store_url, principals_config, serving
from sqlgate.config import (
    EnvironmentRules,
    ServerConfig,
)
from sqlgate.rpc.server import RunningServer
from sqlgate_client.channel import open_channel

ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    "alice": {"author": ("*",)},
    "carol": {"author": ("staging",)},
    "bob": {"approver": ("production", "staging")},
    "sam": {"approver": ("staging",)},
    "olga": {"operator": ("*",), "approver": ("*",)},
    "ci-bot": {"ci": ("*",)},
    "audrey": {"auditor": ("*",)},
}


@dataclasses.dataclass
class Env:
    running: RunningServer
    tokens: dict[str, str]

    @property
    def address(self) -> str:
        return address_of(self.running)

    def meta(self, who: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[who]}"),)


def trust_config(tmp: Path, store: str, **approvals: object) -> tuple[ServerConfig, dict[str, str]]:
    environments = {
        "production": EnvironmentRules(approvers=1),
        "staging": EnvironmentRules(approvers=1, break_glass_overrides_deny=True),
    }
    return principals_config(tmp, store, ROLES, environments, **approvals)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sqlgate.db'}"
    return pg_store_url(request.getfixturevalue("pg_dsn"), f"t_{uuid.uuid4().hex[:10]}")


@pytest.fixture
def env(tmp_path: Path, store_url: str) -> Iterator[Env]:
    config, tokens = trust_config(tmp_path, store_url)
    with serving(config) as running:
        yield Env(running, tokens)


@pytest.fixture
def channel(env: Env) -> Iterator[grpc.Channel]:
    with open_channel(env.address, tls=None) as ch:
        yield ch
