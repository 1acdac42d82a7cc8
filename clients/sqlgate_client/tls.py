"""Client TLS for the thin CLIs and the runner: server CA, and a client certificate for mTLS.

Paths come from ``--tls-ca/--tls-cert/--tls-key`` or, when an option is not given,
SQLGATE_TLS_CA / SQLGATE_TLS_CERT / SQLGATE_TLS_KEY; ``--tls`` alone means TLS with the
system's root CAs. With none of them set the channel is plaintext (a local server); a
certificate without its key (or the reverse) is refused rather than silently falling
back to a call without a client certificate.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where credentials are built, so `check --local` never loads grpc
    import grpc

ENV = {"ca": "SQLGATE_TLS_CA", "cert": "SQLGATE_TLS_CERT", "key": "SQLGATE_TLS_KEY"}


class TlsOptionError(ValueError):
    """The TLS options are incomplete or name an unreadable file."""


@dataclass(frozen=True)
class TlsOptions:
    """PEM paths for a TLS channel; no CA means the system's root CAs."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        if bool(self.cert) != bool(self.key):
            raise TlsOptionError(
                "a client certificate needs its key and a key needs its certificate"
            )

    @property
    def has_client_cert(self) -> bool:
        return bool(self.cert)

    def credentials(self) -> grpc.ChannelCredentials:
        """gRPC credentials with the files read now; TlsOptionError if one is unreadable."""
        import grpc

        return grpc.ssl_channel_credentials(
            root_certificates=_read(self.ca, "CA") if self.ca else None,
            private_key=_read(self.key, "key") if self.key else None,
            certificate_chain=_read(self.cert, "certificate") if self.cert else None,
        )


def add_tls_arguments(parser: argparse.ArgumentParser, *, ca_aliases: Sequence[str] = ()) -> None:
    """Add ``--tls``, ``--tls-ca``, ``--tls-cert`` and ``--tls-key`` to a CLI parser."""
    parser.add_argument(
        "--tls", action="store_true", help="TLS to the server (system roots unless --tls-ca)"
    )
    parser.add_argument(
        "--tls-ca",
        *ca_aliases,
        dest="tls_ca",
        metavar="PEM",
        help=f"CA that signed the server's certificate (${ENV['ca']})",
    )
    parser.add_argument(
        "--tls-cert", metavar="PEM", help=f"client certificate for mTLS (${ENV['cert']})"
    )
    parser.add_argument(
        "--tls-key", metavar="PEM", help=f"client certificate's private key (${ENV['key']})"
    )


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise TlsOptionError(f"cannot read the TLS {what} {path}: {exc.strerror}") from exc


def tls_from_args(args: argparse.Namespace) -> TlsOptions | None:
    """The options parsed by ``add_tls_arguments``, each falling back to its environment
    variable; None (plaintext) when nothing is set."""
    values = {
        name: getattr(args, f"tls_{name}", None) or os.environ.get(var) or None
        for name, var in ENV.items()
    }
    if not any(values.values()) and not getattr(args, "tls", False):
        return None
    return TlsOptions(**values)
