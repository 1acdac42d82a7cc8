"""Client TLS for the thin CLIs: server CA, and a client certificate for mTLS.

Paths come from ``--tls-ca/--tls-cert/--tls-key`` or, when an option is not given,
SQLGATE_TLS_CA / SQLGATE_TLS_CERT / SQLGATE_TLS_KEY. With none of them set the channel is
plaintext (a local server); a certificate without its key (or the reverse) is refused
rather than silently falling back to a call without a client certificate.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import grpc

ENV = {"ca": "SQLGATE_TLS_CA", "cert": "SQLGATE_TLS_CERT", "key": "SQLGATE_TLS_KEY"}


class TlsOptionError(ValueError):
    """The TLS options are incomplete or name an unreadable file."""


def add_tls_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--tls-ca``, ``--tls-cert`` and ``--tls-key`` to a CLI parser."""
    parser.add_argument(
        "--tls-ca", metavar="PEM", help=f"CA that signed the server's certificate (${ENV['ca']})"
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


def channel_credentials(
    ca: str | None, cert: str | None, key: str | None
) -> grpc.ChannelCredentials | None:
    """Credentials for these PEM paths; None (plaintext) when all three are empty."""
    if not (ca or cert or key):
        return None
    if bool(cert) != bool(key):
        raise TlsOptionError("a client certificate needs its key and a key needs its certificate")
    return grpc.ssl_channel_credentials(
        root_certificates=_read(ca, "CA") if ca else None,
        private_key=_read(key, "key") if key else None,
        certificate_chain=_read(cert, "certificate") if cert else None,
    )


def credentials_from_args(args: argparse.Namespace) -> grpc.ChannelCredentials | None:
    """Credentials from the parsed options, each falling back to its environment variable."""
    values = {
        name: getattr(args, f"tls_{name}", None) or os.environ.get(var) or None
        for name, var in ENV.items()
    }
    return channel_credentials(values["ca"], values["cert"], values["key"])


def has_client_cert(args: argparse.Namespace) -> bool:
    """Whether a client certificate is configured (it authenticates without a token)."""
    return bool(getattr(args, "tls_cert", None) or os.environ.get(ENV["cert"]))
