"""Real sqlgate servers for tests, and the channels to them: one copy of the start-up,
health wait and store-URL code that tests/execution, tests/integration and
tests/trust_chain share.

In-process servers are built by ``create_server`` exactly as ``sqlgate serve`` builds
them; ``sqlgate serve`` processes are waited for through the real health service.
Channels come from the thin client's own ``open_channel`` (plaintext here; TLS tests
pass ``TlsOptions``).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from psycopg.conninfo import conninfo_to_dict
from sqlgate.app import App
from sqlgate.auth.identities import hash_token, new_token
from sqlgate.config import (
    ApprovalsConfig,
    EnvironmentConfig,
    EnvironmentRules,
    PrincipalConfig,
    ServerConfig,
)
from sqlgate.rpc.server import RunningServer, create_server
from sqlgate.trust.keys import Keyset
from sqlgate_client.channel import open_channel

SQLGATE = [sys.executable, "-m", "sqlgate.cli.main"]
# What test servers declare (sqlgate.environments): the environments and target names
# the suites check against. Tests of the declaration itself build their own.
TEST_TARGETS = ("main-db", "db", "t", "fixtures", "corpus", "replica-db", "default")
TEST_ENVIRONMENTS_RAW = {
    e: {"targets": list(TEST_TARGETS)} for e in ("production", "staging", "dev")
}
TEST_ENVIRONMENTS = {
    e: EnvironmentConfig(targets=TEST_TARGETS) for e in ("production", "staging", "dev")
}


def free_port() -> int:
    """A port free right now on 127.0.0.1 (for a ``sqlgate serve --listen`` process)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def address_of(running: RunningServer) -> str:
    return f"127.0.0.1:{running.port}"


def check_files(
    running: RunningServer,
    token: str,
    files: dict[str, str],
    *,
    environment: str,
    target: str = "main-db",
    dialect: str = "postgres",
    **fields: Any,
) -> Any:
    """One Check of ``files`` (path -> SQL text) as ``token``: the raw CheckResponse.

    Built and sent by the client's own ``build_request``/``review_call``, as the CLI does."""
    from sqlgate_client.check import MigrationInput, build_request, review_call

    request = build_request(
        migrations=[MigrationInput(p, c.encode()) for p, c in files.items()],
        environment=environment,
        target=target,
        dialect=dialect,
        **fields,
    )
    return review_call(address_of(running), "Check", request, token=token, timeout=60, tls=None)


def wait_serving(address: str, proc: subprocess.Popen[Any], budget_s: float = 120) -> None:
    """Poll the health service until SERVING; fail with the server's output if it exits."""
    deadline = time.monotonic() + budget_s
    with open_channel(address, tls=None) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                stream = proc.stderr or proc.stdout
                output = stream.read() if stream is not None else b""
                text = output.decode() if isinstance(output, bytes) else str(output)
                raise AssertionError(f"server exited during start-up: {text[-2000:]}")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise AssertionError("server never reported SERVING")


@contextmanager
def serving(
    config: ServerConfig, *, app: App | None = None, grace_s: float | None = None
) -> Iterator[RunningServer]:
    """A started in-process server for ``config`` (and ``app``, e.g. with a test clock)."""
    running = create_server(config, app=app)
    running.server.start()
    try:
        yield running
    finally:
        running.stop(grace_s)


@contextmanager
def serving_with_channel(
    config: ServerConfig, *, app: App | None = None
) -> Iterator[tuple[RunningServer, grpc.Channel]]:
    """``serving`` plus a plaintext channel to it."""
    with (
        serving(config, app=app) as running,
        open_channel(address_of(running), tls=None) as channel,
    ):
        yield running, channel


def principals_config(
    tmp: Path,
    store: str,
    roles: dict[str, dict[str, tuple[str, ...]]],
    environments: dict[str, EnvironmentRules],
    **approvals: Any,
) -> tuple[ServerConfig, dict[str, str]]:
    """A server config with fresh keys under ``tmp`` and one API token per principal.

    Returns the config (tokens stored hashed) and the clear tokens to call it with.
    """
    Keyset.generate(tmp / "keys")
    tokens = {pid: new_token() for pid in roles}
    principals = tuple(
        PrincipalConfig(id=pid, tokens=(hash_token(tokens[pid]),), roles=r)
        for pid, r in roles.items()
    )
    config = ServerConfig(
        listen="127.0.0.1:0",
        store=store,
        keys=tmp / "keys",
        principals=principals,
        audit_checkpoint_every=2,
        approvals=ApprovalsConfig(environments=environments, **approvals),
        environments=TEST_ENVIRONMENTS,
    )
    return config, tokens


def pg_store_url(dsn: str, schema: str) -> str:
    """The store URL for ``schema`` in the database ``dsn`` names (``?schema=``)."""
    params = conninfo_to_dict(dsn)
    return (
        f"postgresql://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:"
        f"{params.get('port', 5432)}/{params['dbname']}?schema={schema}"
    )
