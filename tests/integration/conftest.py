"""A real sqlgate gRPC server on 127.0.0.1 (port 0: the OS picks a free one)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlgate.config import ServerConfig, with_overrides
from sqlgate.rpc.server import RunningServer, create_server


@pytest.fixture(scope="session")
def running_server() -> Iterator[RunningServer]:
    running = create_server(with_overrides(ServerConfig(), listen="127.0.0.1:0"))
    running.server.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def server_address(running_server: RunningServer) -> str:
    return f"127.0.0.1:{running_server.port}"
