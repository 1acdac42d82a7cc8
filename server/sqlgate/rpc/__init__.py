"""The gRPC surface: servicers that translate messages and map errors, and the server."""

from __future__ import annotations

from sqlgate.rpc.server import RunningServer, build_server, create_server, serve

__all__ = ["RunningServer", "build_server", "create_server", "serve"]
