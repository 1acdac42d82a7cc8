"""The one place a thin client opens its gRPC channel to a sqlgate server.

Every client command (check, approve, token) and the runner go through here, so TLS
and mTLS work the same everywhere: ``tls=None`` is a plaintext channel (a local
server), otherwise a TLS channel with ``TlsOptions``' CA and client certificate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

from sqlgate_client.tls import TlsOptions


def open_channel(
    address: str, *, tls: TlsOptions | None, options: Sequence[tuple[str, Any]] = ()
) -> grpc.Channel:
    """A channel to ``address``; TlsOptionError when a TLS file cannot be read."""
    if tls is None:
        return grpc.insecure_channel(address, options=list(options))
    return grpc.secure_channel(address, tls.credentials(), options=list(options))


def bearer(api_token: str | None) -> tuple[tuple[str, str], ...]:
    """Call metadata carrying the API token as ``authorization: Bearer`` (none without)."""
    return (("authorization", f"Bearer {api_token}"),) if api_token else ()
