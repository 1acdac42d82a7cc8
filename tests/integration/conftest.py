"""A real sqlgate gRPC server on 127.0.0.1 (port 0: the OS picks a free one).

Every call is authenticated: the session generates signing keys and one API token for
a principal holding ``author`` everywhere, and exports it as SQLGATE_TOKEN (what the
CLI reads). ``trusted`` adds the same keys, store and principal to any config.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator

import pytest
from serving import TEST_ENVIRONMENTS, address_of, serving
from sqlgate.auth.identities import hash_token, new_token
from sqlgate.config import PrincipalConfig, ServerConfig, with_overrides
from sqlgate.rpc.server import RunningServer
from sqlgate.trust.keys import Keyset


@pytest.fixture(scope="session")
def trusted(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[ServerConfig], ServerConfig]]:
    base = tmp_path_factory.mktemp("trust")
    Keyset.generate(base / "keys")
    token = new_token()
    principal = PrincipalConfig(
        id="tester", tokens=(hash_token(token),), roles={"author": ("*",), "auditor": ("*",)}
    )
    previous = os.environ.get("SQLGATE_TOKEN")
    os.environ["SQLGATE_TOKEN"] = token

    def apply(config: ServerConfig) -> ServerConfig:
        return dataclasses.replace(
            config,
            keys=base / "keys",
            store=f"sqlite:///{base / 'sqlgate.db'}",
            principals=(principal,),
            environments=config.environments or TEST_ENVIRONMENTS,
        )

    yield apply
    if previous is None:
        os.environ.pop("SQLGATE_TOKEN", None)
    else:
        os.environ["SQLGATE_TOKEN"] = previous


@pytest.fixture(scope="session")
def running_server(trusted: Callable[[ServerConfig], ServerConfig]) -> Iterator[RunningServer]:
    with serving(trusted(with_overrides(ServerConfig(), listen="127.0.0.1:0"))) as running:
        yield running


@pytest.fixture(scope="session")
def server_address(running_server: RunningServer) -> str:
    return address_of(running_server)


@pytest.fixture(scope="session")
def auth_metadata(trusted: object) -> tuple[tuple[str, str], ...]:
    del trusted
    return (("authorization", f"Bearer {os.environ['SQLGATE_TOKEN']}"),)
