"""Credentials → principal ids, from config: hashed API tokens and client-cert names.

Config stores only ``sha256:<hex>`` of each token. A presented token is hashed and
compared with every configured hash in constant time (no early exit), so timing says
nothing about which prefix matched. Certificate names are ``uri:``, ``dns:`` or ``cn:``
values of a certificate the TLS layer already verified against the client CA.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from cryptography import x509
from cryptography.x509.oid import NameOID

from sqlgate.config import PrincipalConfig
from sqlgate.errors import Unauthenticated

TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    """``sha256:<hex>`` of an API token, the only form config may hold."""
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random API token (URL-safe, 256 bits)."""
    return "sqg_" + secrets.token_urlsafe(TOKEN_BYTES)


def cert_names(pem: bytes) -> list[str]:
    """``uri:``/``dns:`` SAN entries and ``cn:`` subject common names of a PEM cert."""
    cert = x509.load_pem_x509_certificate(pem)
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    if san is not None:
        names += [f"uri:{v}" for v in san.get_values_for_type(x509.UniformResourceIdentifier)]
        names += [f"dns:{v}" for v in san.get_values_for_type(x509.DNSName)]
    for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME):
        value = attr.value
        names.append(f"cn:{value.decode() if isinstance(value, bytes) else value}")
    return names


class Identities:
    """Looks principals up by token or certificate names."""

    def __init__(self, principals: Iterable[PrincipalConfig]) -> None:
        self._tokens: list[tuple[bytes, str]] = []
        self._certs: dict[str, str] = {}
        for p in principals:
            self._tokens += [(t.encode("ascii"), p.id) for t in p.tokens]
            for name in p.certs:
                self._certs[name] = p.id

    def by_token(self, token: str) -> str:
        """The principal id whose hash matches; Unauthenticated otherwise."""
        presented = hash_token(token).encode("ascii")
        found: str | None = None
        for stored, pid in self._tokens:
            if hmac.compare_digest(stored, presented):
                found = pid
        if found is None:
            raise Unauthenticated("unknown API token")
        return found

    def by_cert(self, names: Iterable[str]) -> tuple[str, str]:
        """(principal id, matching name) for a verified certificate's names."""
        matches = {(self._certs[n], n) for n in names if n in self._certs}
        ids = {pid for pid, _ in matches}
        if not ids:
            raise Unauthenticated("client certificate maps to no principal")
        if len(ids) > 1:
            raise Unauthenticated(
                f"client certificate maps to several principals ({', '.join(sorted(ids))})"
            )
        return min(matches)
