"""Server TLS credentials from config; with a client CA, client certificates are required
and verified by gRPC before any call reaches the interceptor."""

from __future__ import annotations

from pathlib import Path

import grpc

from sqlgate.config import TlsConfig
from sqlgate.errors import ConfigError


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"tls.{what}: cannot read {path}: {exc.strerror}") from exc


def server_credentials(tls: TlsConfig) -> grpc.ServerCredentials:
    pair = (_read(tls.key, "key"), _read(tls.cert, "cert"))
    if tls.client_ca is None:
        return grpc.ssl_server_credentials([pair])
    return grpc.ssl_server_credentials(
        [pair], root_certificates=_read(tls.client_ca, "client_ca"), require_client_auth=True
    )
